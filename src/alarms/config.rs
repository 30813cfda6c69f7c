//! Alarm definitions as an engineer writes them in `project.json` (top-level `"alarms": [...]`),
//! and their semantic validation.
//!
//! Plain serde data, no I/O. On disk an alarm is one flat object whose `kind` says which of the
//! kind-specific fields (`limit`, `setpoint_tag`, `limit_per_s`, `equals`) it takes:
//!
//! ```json
//! { "name": "AHU1.SupplyTemp.Hi", "tag": "AHU1.SupplyTemp", "kind": "hi", "limit": 30.0,
//!   "deadband": 0.5, "on_delay_s": 5.0, "priority": "high", "message": "Supply air too warm",
//!   "area": "AHU1", "suppress_when": "AHU1.Stopped" }
//! ```
//!
//! In Rust the kind is the tagged enum [`AlarmKind`]; the flat form goes through a private
//! `RawAlarm` (unknown fields refused, stable key order, defaults skipped on save).

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

/// One alarm definition.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawAlarm", into = "RawAlarm")]
pub struct AlarmConfig {
    /// Unique id, e.g. `AHU1.SupplyTemp.Hi`.
    pub name: String,
    /// The process tag the condition is evaluated on.
    pub tag: String,
    pub kind: AlarmKind,
    /// Hysteresis in engineering units (units/s for rate alarms): an active limit alarm clears
    /// only once the value is back inside the limit by this much.
    pub deadband: f64,
    /// The condition must hold this long before the alarm activates.
    pub on_delay_s: f64,
    /// The condition must be gone this long before the alarm clears.
    pub off_delay_s: f64,
    pub priority: Priority,
    pub message: String,
    /// Area / group (plant section) for filtering and health figures.
    pub area: String,
    /// A latching alarm stays active after its condition clears until acknowledged and reset.
    pub latching: bool,
    /// Bool tag: while it is true the alarm is suppressed by design (e.g. equipment stopped).
    pub suppress_when: Option<String>,
}

/// What makes the alarm's condition true.
#[derive(Clone, Debug, PartialEq)]
pub enum AlarmKind {
    /// value > limit.
    HiHi { limit: f64 },
    /// value > limit.
    Hi { limit: f64 },
    /// value < limit.
    Lo { limit: f64 },
    /// value < limit.
    LoLo { limit: f64 },
    /// |value − setpoint tag| > limit.
    Deviation { setpoint_tag: String, limit: f64 },
    /// |Δvalue / Δt| between successive samples > limit, per second.
    Rate { limit_per_s: f64 },
    /// value equals `equals` (bool or number).
    Discrete { equals: Equals },
    /// The tag's quality is bad or stale.
    Quality,
}

impl AlarmKind {
    pub fn name(&self) -> &'static str {
        self.kind_name().as_str()
    }

    /// The number the condition compares against (journaled with every event).
    pub fn limit(&self) -> Option<f64> {
        match self {
            Self::HiHi { limit }
            | Self::Hi { limit }
            | Self::Lo { limit }
            | Self::LoLo { limit }
            | Self::Deviation { limit, .. } => Some(*limit),
            Self::Rate { limit_per_s } => Some(*limit_per_s),
            Self::Discrete { equals } => Some(equals.as_f64()),
            Self::Quality => None,
        }
    }

    fn kind_name(&self) -> KindName {
        match self {
            Self::HiHi { .. } => KindName::HiHi,
            Self::Hi { .. } => KindName::Hi,
            Self::Lo { .. } => KindName::Lo,
            Self::LoLo { .. } => KindName::LoLo,
            Self::Deviation { .. } => KindName::Deviation,
            Self::Rate { .. } => KindName::Rate,
            Self::Discrete { .. } => KindName::Discrete,
            Self::Quality => KindName::Quality,
        }
    }
}

/// The value a discrete alarm compares with.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Equals {
    Bool(bool),
    Number(f64),
}

impl Equals {
    pub fn as_f64(self) -> f64 {
        match self {
            Self::Bool(b) => f64::from(u8::from(b)),
            Self::Number(v) => v,
        }
    }
}

/// ISA-18.2 priority; `Ord` puts the most urgent first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Critical,
    High,
    Medium,
    Low,
}

impl Priority {
    pub const ALL: [Self; 4] = [Self::Critical, Self::High, Self::Medium, Self::Low];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Critical => "critical",
            Self::High => "high",
            Self::Medium => "medium",
            Self::Low => "low",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

impl std::fmt::Display for Priority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum KindName {
    HiHi,
    Hi,
    Lo,
    LoLo,
    Deviation,
    Rate,
    Discrete,
    Quality,
}

impl KindName {
    fn as_str(self) -> &'static str {
        match self {
            Self::HiHi => "hihi",
            Self::Hi => "hi",
            Self::Lo => "lo",
            Self::LoLo => "lolo",
            Self::Deviation => "deviation",
            Self::Rate => "rate",
            Self::Discrete => "discrete",
            Self::Quality => "quality",
        }
    }
}

/// The on-disk form. Field order here is the key order on disk.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAlarm {
    name: String,
    tag: String,
    kind: KindName,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    limit: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    setpoint_tag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    limit_per_s: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    equals: Option<Equals>,
    #[serde(default, skip_serializing_if = "is_zero")]
    deadband: f64,
    #[serde(default, skip_serializing_if = "is_zero")]
    on_delay_s: f64,
    #[serde(default, skip_serializing_if = "is_zero")]
    off_delay_s: f64,
    priority: Priority,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    message: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    area: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    latching: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    suppress_when: Option<String>,
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if signature
fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

impl TryFrom<RawAlarm> for AlarmConfig {
    type Error = String;

    fn try_from(r: RawAlarm) -> Result<Self, String> {
        let k = r.kind;
        let allowed: &[&str] = match k {
            KindName::HiHi | KindName::Hi | KindName::Lo | KindName::LoLo => &["limit"],
            KindName::Deviation => &["setpoint_tag", "limit"],
            KindName::Rate => &["limit_per_s"],
            KindName::Discrete => &["equals"],
            KindName::Quality => &[],
        };
        for (field, present) in [
            ("limit", r.limit.is_some()),
            ("setpoint_tag", r.setpoint_tag.is_some()),
            ("limit_per_s", r.limit_per_s.is_some()),
            ("equals", r.equals.is_some()),
        ] {
            if present && !allowed.contains(&field) {
                return Err(format!(
                    "alarm `{}`: a `{}` alarm has no `{field}`",
                    r.name,
                    k.as_str()
                ));
            }
        }
        let need = |field: &str| {
            format!(
                "alarm `{}`: a `{}` alarm needs `{field}`",
                r.name,
                k.as_str()
            )
        };
        let kind = match k {
            KindName::HiHi | KindName::Hi | KindName::Lo | KindName::LoLo => {
                let limit = r.limit.ok_or_else(|| need("limit"))?;
                match k {
                    KindName::HiHi => AlarmKind::HiHi { limit },
                    KindName::Hi => AlarmKind::Hi { limit },
                    KindName::Lo => AlarmKind::Lo { limit },
                    _ => AlarmKind::LoLo { limit },
                }
            }
            KindName::Deviation => AlarmKind::Deviation {
                setpoint_tag: r.setpoint_tag.ok_or_else(|| need("setpoint_tag"))?,
                limit: r.limit.ok_or_else(|| need("limit"))?,
            },
            KindName::Rate => AlarmKind::Rate {
                limit_per_s: r.limit_per_s.ok_or_else(|| need("limit_per_s"))?,
            },
            KindName::Discrete => AlarmKind::Discrete {
                equals: r.equals.ok_or_else(|| need("equals"))?,
            },
            KindName::Quality => AlarmKind::Quality,
        };
        Ok(Self {
            name: r.name,
            tag: r.tag,
            kind,
            deadband: r.deadband,
            on_delay_s: r.on_delay_s,
            off_delay_s: r.off_delay_s,
            priority: r.priority,
            message: r.message,
            area: r.area,
            latching: r.latching,
            suppress_when: r.suppress_when,
        })
    }
}

impl From<AlarmConfig> for RawAlarm {
    fn from(a: AlarmConfig) -> Self {
        let kind = a.kind.kind_name();
        let (mut limit, mut setpoint_tag, mut limit_per_s, mut equals) = (None, None, None, None);
        match a.kind {
            AlarmKind::HiHi { limit: l }
            | AlarmKind::Hi { limit: l }
            | AlarmKind::Lo { limit: l }
            | AlarmKind::LoLo { limit: l } => limit = Some(l),
            AlarmKind::Deviation {
                setpoint_tag: sp,
                limit: l,
            } => {
                setpoint_tag = Some(sp);
                limit = Some(l);
            }
            AlarmKind::Rate { limit_per_s: l } => limit_per_s = Some(l),
            AlarmKind::Discrete { equals: e } => equals = Some(e),
            AlarmKind::Quality => {}
        }
        Self {
            name: a.name,
            tag: a.tag,
            kind,
            limit,
            setpoint_tag,
            limit_per_s,
            equals,
            deadband: a.deadband,
            on_delay_s: a.on_delay_s,
            off_delay_s: a.off_delay_s,
            priority: a.priority,
            message: a.message,
            area: a.area,
            latching: a.latching,
            suppress_when: a.suppress_when,
        }
    }
}

/// Every problem in `alarms` as `(field path, reason)`, e.g. `("alarms[3].limit", "...")`.
/// `tag_exists` answers whether a tag name is defined in the project.
pub fn validate(
    alarms: &[AlarmConfig],
    tag_exists: &dyn Fn(&str) -> bool,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut names = HashSet::new();
    // (tag, kind) → (index, limit) of the first alarm, for limit-order checks.
    let mut limits: HashMap<(&str, KindName), (usize, f64)> = HashMap::new();
    for (i, a) in alarms.iter().enumerate() {
        let mut problem =
            |field: &str, why: String| out.push((format!("alarms[{i}].{field}"), why));
        if a.name.trim().is_empty() {
            problem("name", "must not be empty".to_owned());
        } else if let Some(c) = a.name.chars().find(|c| c.is_control()) {
            problem("name", format!("contains the control character {c:?}"));
        } else if !names.insert(a.name.as_str()) {
            problem("name", format!("duplicate alarm name `{}`", a.name));
        }
        if !tag_exists(&a.tag) {
            problem("tag", format!("unknown tag `{}`", a.tag));
        }
        if let Some(cond) = &a.suppress_when
            && !tag_exists(cond)
        {
            problem("suppress_when", format!("unknown tag `{cond}`"));
        }
        for (field, v) in [
            ("deadband", a.deadband),
            ("on_delay_s", a.on_delay_s),
            ("off_delay_s", a.off_delay_s),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                problem(field, "must be a number ≥ 0".to_owned());
            }
        }
        match &a.kind {
            AlarmKind::HiHi { limit }
            | AlarmKind::Hi { limit }
            | AlarmKind::Lo { limit }
            | AlarmKind::LoLo { limit } => {
                if limit.is_finite() {
                    limits
                        .entry((a.tag.as_str(), a.kind.kind_name()))
                        .or_insert((i, *limit));
                } else {
                    problem("limit", "must be a finite number".to_owned());
                }
            }
            AlarmKind::Deviation {
                setpoint_tag,
                limit,
            } => {
                if !tag_exists(setpoint_tag) {
                    problem("setpoint_tag", format!("unknown tag `{setpoint_tag}`"));
                } else if *setpoint_tag == a.tag {
                    problem("setpoint_tag", "must differ from `tag`".to_owned());
                }
                positive_limit(&mut problem, "limit", *limit, a.deadband);
            }
            AlarmKind::Rate { limit_per_s } => {
                positive_limit(&mut problem, "limit_per_s", *limit_per_s, a.deadband);
            }
            AlarmKind::Discrete { equals } => {
                if !equals.as_f64().is_finite() {
                    problem("equals", "must be a finite number or a bool".to_owned());
                }
            }
            AlarmKind::Quality => {}
        }
        if matches!(a.kind, AlarmKind::Discrete { .. } | AlarmKind::Quality) && a.deadband != 0.0 {
            problem(
                "deadband",
                format!("has no meaning for a `{}` alarm", a.kind.name()),
            );
        }
    }
    // Limits on one tag must nest: lolo < lo < hi < hihi.
    let order = [KindName::LoLo, KindName::Lo, KindName::Hi, KindName::HiHi];
    let mut tags: Vec<&str> = limits.keys().map(|(t, _)| *t).collect();
    tags.sort_unstable();
    tags.dedup();
    for tag in tags {
        let present: Vec<(KindName, usize, f64)> = order
            .iter()
            .filter_map(|k| limits.get(&(tag, *k)).map(|(i, l)| (*k, *i, *l)))
            .collect();
        for pair in present.windows(2) {
            let ((lk, _, ll), (hk, hi, hl)) = (pair[0], pair[1]);
            if hl <= ll {
                out.push((
                    format!("alarms[{hi}].limit"),
                    format!(
                        "the `{}` limit ({hl}) of tag `{tag}` must be above its `{}` limit ({ll})",
                        hk.as_str(),
                        lk.as_str()
                    ),
                ));
            }
        }
    }
    out
}

fn positive_limit(problem: &mut impl FnMut(&str, String), field: &str, limit: f64, deadband: f64) {
    if !(limit.is_finite() && limit > 0.0) {
        problem(field, "must be a finite number > 0".to_owned());
    } else if deadband >= limit {
        problem(
            "deadband",
            format!("must be below `{field}` ({limit}), or the alarm could never clear"),
        );
    }
}

#[cfg(test)]
mod tests;
