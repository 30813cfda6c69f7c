//! Condition evaluation: turns tag changes into "the alarm's condition is now active / clear"
//! per alarm kind (limits with deadband hysteresis, deviation from a setpoint tag, rate of change
//! between successive samples, discrete, quality), applies on- and off-delays, and drives the
//! per-alarm state machines (including suppression by a condition tag and shelve expiry).
//!
//! No clock and no sleeping: delays and expiries advance only through explicit
//! [`Evaluator::tick`] calls and the receive timestamps of changes. A value that is not known
//! (bad or stale quality, a text where a number is needed, a missing setpoint) freezes a value
//! alarm's condition and cancels a pending delay; the `quality` kind reports that case.

use std::collections::HashMap;
use std::sync::Arc;

use crate::engine::{Quality, TagChange, TagId, TagState, Value};

use super::config::{AlarmConfig, AlarmKind, Equals};
use super::state::{AlarmEvent, Machine};

/// An event and the index of its alarm in the definitions.
pub type Emitted = (usize, AlarmEvent);

/// The debounced condition of one alarm.
#[derive(Clone, Debug)]
pub struct Detector {
    kind: AlarmKind,
    deadband: f64,
    on_delay_ms: i64,
    off_delay_ms: i64,
    active: bool,
    /// Since when the inputs ask for the opposite of `active` (a delay is running).
    pending_since: Option<i64>,
    /// Current good process value.
    pv: Option<Value>,
    /// Current good setpoint (deviation alarms).
    sp: Option<f64>,
    /// Previous good sample (source ts, value) and the rate derived from it (rate alarms).
    prev: Option<(i64, f64)>,
    rate: Option<f64>,
    quality: Quality,
}

#[allow(clippy::cast_possible_truncation)]
fn ms(s: f64) -> i64 {
    if s.is_finite() && s > 0.0 {
        (s * 1000.0).round() as i64
    } else {
        0
    }
}

impl Detector {
    /// `active`: the condition to start from (restored from the journal).
    pub fn new(def: &AlarmConfig, active: bool) -> Self {
        Self {
            kind: def.kind.clone(),
            deadband: if def.deadband.is_finite() {
                def.deadband.max(0.0)
            } else {
                0.0
            },
            on_delay_ms: ms(def.on_delay_s),
            off_delay_ms: ms(def.off_delay_s),
            active,
            pending_since: None,
            pv: None,
            sp: None,
            prev: None,
            rate: None,
            quality: Quality::Bad,
        }
    }

    pub fn is_active(&self) -> bool {
        self.active
    }

    /// A delay is running.
    pub fn is_pending(&self) -> bool {
        self.pending_since.is_some()
    }

    /// A change of the process tag. Returns the new condition when it flips.
    pub fn on_process(&mut self, c: &TagChange) -> Option<bool> {
        self.quality = c.quality;
        let good = matches!(c.quality, Quality::Good | Quality::Uncertain);
        self.pv = c.value.clone().filter(|_| good);
        if let AlarmKind::Rate { .. } = self.kind {
            match self.pv.as_ref().and_then(Value::as_f64) {
                Some(v) => {
                    if let Some((t0, v0)) = self.prev {
                        if c.source_ts_ms > t0 {
                            self.rate = Some((v - v0) * 1000.0 / (c.source_ts_ms - t0) as f64);
                        } else {
                            return self.step(self.judge(), c.recv_ts_ms); // same instant
                        }
                    }
                    self.prev = Some((c.source_ts_ms, v));
                }
                None => self.reset_rate(),
            }
        }
        self.step(self.judge(), c.recv_ts_ms)
    }

    /// A change of the setpoint tag (deviation alarms).
    pub fn on_setpoint(&mut self, c: &TagChange) -> Option<bool> {
        let good = matches!(c.quality, Quality::Good | Quality::Uncertain);
        self.sp = c.value.as_ref().filter(|_| good).and_then(Value::as_f64);
        self.step(self.judge(), c.recv_ts_ms)
    }

    /// Time passes: a delay that has run out flips the condition.
    pub fn tick(&mut self, now_ms: i64) -> Option<bool> {
        let since = self.pending_since?;
        if now_ms - since >= self.delay_ms() {
            self.active = !self.active;
            self.pending_since = None;
            return Some(self.active);
        }
        None
    }

    /// Forget the previous sample (after a gap in the change feed).
    pub fn reset_rate(&mut self) {
        self.prev = None;
        self.rate = None;
    }

    /// The value journaled with a transition.
    pub fn value(&self) -> Option<Value> {
        match self.kind {
            AlarmKind::Rate { .. } => self.rate.map(Value::Number),
            AlarmKind::Quality => Some(Value::Text(Arc::from(self.quality.as_str()))),
            _ => self.pv.clone(),
        }
    }

    pub fn limit(&self) -> Option<f64> {
        self.kind.limit()
    }

    fn delay_ms(&self) -> i64 {
        if self.active {
            self.off_delay_ms
        } else {
            self.on_delay_ms
        }
    }

    /// Whether the condition should be active given the current inputs (with hysteresis
    /// relative to the current condition); `None` when it cannot be known.
    fn judge(&self) -> Option<bool> {
        let (active, db) = (self.active, self.deadband);
        let over = |x: f64, limit: f64| if active { x > limit - db } else { x > limit };
        let under = |x: f64, limit: f64| if active { x < limit + db } else { x < limit };
        let pv = || self.pv.as_ref().and_then(Value::as_f64);
        match &self.kind {
            AlarmKind::HiHi { limit } | AlarmKind::Hi { limit } => pv().map(|v| over(v, *limit)),
            AlarmKind::Lo { limit } | AlarmKind::LoLo { limit } => pv().map(|v| under(v, *limit)),
            AlarmKind::Deviation { limit, .. } => Some(over((pv()? - self.sp?).abs(), *limit)),
            AlarmKind::Rate { limit_per_s } => self.rate.map(|r| over(r.abs(), *limit_per_s)),
            AlarmKind::Discrete { equals } => {
                let v = self.pv.as_ref()?;
                match equals {
                    Equals::Bool(b) => v.as_bool().map(|x| x == *b),
                    #[allow(clippy::float_cmp)] // discrete states are exact numbers
                    Equals::Number(n) => v.as_f64().map(|x| x == *n),
                }
            }
            AlarmKind::Quality => Some(matches!(self.quality, Quality::Bad | Quality::Stale)),
        }
    }

    /// Feed one judgement at `now_ms`; returns the new condition when it flips.
    fn step(&mut self, want: Option<bool>, now_ms: i64) -> Option<bool> {
        match want {
            Some(w) if w != self.active => {
                let since = *self.pending_since.get_or_insert(now_ms);
                if now_ms - since >= self.delay_ms() {
                    self.active = w;
                    self.pending_since = None;
                    Some(w)
                } else {
                    None
                }
            }
            // Condition confirmed, or unknown: a running delay is cancelled.
            _ => {
                self.pending_since = None;
                None
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Process,
    Setpoint,
    Suppress,
}

/// All alarms of a project: detectors, state machines and the routing from tags to alarms.
pub struct Evaluator {
    defs: Arc<[AlarmConfig]>,
    detectors: Vec<Detector>,
    machines: Vec<Machine>,
    /// Indexed by `TagId`: the alarms that read the tag, and in which role.
    routes: Vec<Vec<(usize, Role)>>,
    index: HashMap<Arc<str>, usize>,
}

impl Evaluator {
    /// `tag_id` resolves tag names (alarms on unknown tags stay inert); `last` holds each
    /// alarm's last journaled event (its state to resume from).
    pub fn new(
        defs: Arc<[AlarmConfig]>,
        tag_id: &dyn Fn(&str) -> Option<TagId>,
        last: &HashMap<String, AlarmEvent>,
    ) -> Self {
        let mut routes: Vec<Vec<(usize, Role)>> = Vec::new();
        let mut route = |tag: &str, i: usize, role: Role| {
            if let Some(id) = tag_id(tag) {
                let id = id as usize;
                if routes.len() <= id {
                    routes.resize_with(id + 1, Vec::new);
                }
                routes[id].push((i, role));
            } else {
                tracing::warn!("alarm `{}`: unknown tag `{tag}`", defs[i].name);
            }
        };
        let mut machines = Vec::with_capacity(defs.len());
        let mut detectors = Vec::with_capacity(defs.len());
        let mut index = HashMap::with_capacity(defs.len());
        for (i, def) in defs.iter().enumerate() {
            route(&def.tag, i, Role::Process);
            if let AlarmKind::Deviation { setpoint_tag, .. } = &def.kind {
                route(setpoint_tag, i, Role::Setpoint);
            }
            if let Some(cond) = &def.suppress_when {
                route(cond, i, Role::Suppress);
            }
            let m = restore(def, last.get(&def.name));
            detectors.push(Detector::new(def, m.condition));
            index.insert(m.name.clone(), i);
            machines.push(m);
        }
        Self {
            defs,
            detectors,
            machines,
            routes,
            index,
        }
    }

    pub fn defs(&self) -> &Arc<[AlarmConfig]> {
        &self.defs
    }

    pub fn machines(&self) -> &[Machine] {
        &self.machines
    }

    pub fn machine_mut(&mut self, i: usize) -> Option<&mut Machine> {
        self.machines.get_mut(i)
    }

    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    /// For each `TagId`, whether any alarm reads it (the feed forwards only those changes).
    pub fn interesting_tags(&self) -> Vec<bool> {
        self.routes.iter().map(|r| !r.is_empty()).collect()
    }

    /// One change from the feed.
    pub fn on_change(&mut self, c: &TagChange, out: &mut Vec<Emitted>) {
        let Some(routes) = self.routes.get(c.tag as usize) else {
            return;
        };
        for &(i, role) in routes {
            let (d, m) = (&mut self.detectors[i], &mut self.machines[i]);
            let flip = match role {
                Role::Process => d.on_process(c),
                Role::Setpoint => d.on_setpoint(c),
                Role::Suppress => {
                    let good = matches!(c.quality, Quality::Good | Quality::Uncertain);
                    if let Some(on) = c.value.as_ref().filter(|_| good).and_then(Value::as_bool) {
                        out.extend(
                            m.set_suppressed(on, c.recv_ts_ms)
                                .into_iter()
                                .map(|e| (i, e)),
                        );
                    }
                    None
                }
            };
            if let Some(active) = flip {
                let events = m.condition_changed(active, c.recv_ts_ms, d.value(), d.limit());
                out.extend(events.into_iter().map(|e| (i, e)));
            }
        }
    }

    /// Re-evaluate everything against the tag store's current state (at start, and after the
    /// change feed overran). Tags that never received anything are skipped.
    pub fn resync(&mut self, states: &[TagState], now_ms: i64, out: &mut Vec<Emitted>) {
        for d in &mut self.detectors {
            d.reset_rate();
        }
        for (id, s) in states.iter().enumerate() {
            if s.updates == 0 || self.routes.get(id).is_none_or(Vec::is_empty) {
                continue;
            }
            let good = matches!(s.quality, Quality::Good | Quality::Uncertain);
            let change = TagChange {
                tag: id as TagId,
                value: s.value.clone().filter(|_| good),
                quality: s.quality,
                source_ts_ms: s.source_ts_ms,
                recv_ts_ms: now_ms,
            };
            self.on_change(&change, out);
        }
    }

    /// Delays and shelve expiry up to `now_ms`.
    pub fn tick(&mut self, now_ms: i64, out: &mut Vec<Emitted>) {
        for (i, (d, m)) in self
            .detectors
            .iter_mut()
            .zip(&mut self.machines)
            .enumerate()
        {
            if let Some(active) = d.tick(now_ms) {
                let events = m.condition_changed(active, now_ms, d.value(), d.limit());
                out.extend(events.into_iter().map(|e| (i, e)));
            }
            out.extend(m.expire(now_ms).into_iter().map(|e| (i, e)));
        }
    }
}

/// The state machine of `def`, resumed from its last journaled event (or fresh).
pub fn restore(def: &AlarmConfig, last: Option<&AlarmEvent>) -> Machine {
    let mut m = Machine::new(Arc::from(def.name.as_str()), def.latching);
    if let Some(e) = last {
        m.state = e.state_to;
        m.condition = e.condition;
        m.modes = e.modes;
        m.activated_ms = e.activated_ms;
        m.value = e.value.clone();
        m.limit = e.limit;
    }
    m
}

#[cfg(test)]
mod tests;
