//! Values, quality and the update records that flow from sources into the tag store.

use std::fmt;
use std::sync::Arc;

/// Index of a tag in the store (position in the project's tag list).
pub type TagId = u32;

/// A process value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Number(f64),
    Bool(bool),
    Text(Arc<str>),
}

impl Value {
    /// The value as a number (bools as 0/1), for bars, trends and limits.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Self::Number(v) => Some(*v),
            Self::Bool(b) => Some(f64::from(u8::from(*b))),
            Self::Text(_) => None,
        }
    }

    /// The value as a bool (numbers: non-zero is true).
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Self::Bool(b) => Some(*b),
            Self::Number(v) => Some(*v != 0.0),
            Self::Text(_) => None,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Number(v) => write!(f, "{v}"),
            Self::Bool(b) => write!(f, "{b}"),
            Self::Text(s) => f.write_str(s),
        }
    }
}

/// OPC-style quality, simplified to what an operator must tell apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Quality {
    /// Fresh value from the source.
    Good,
    /// The source may be right but is doubtful (e.g. retained value after reconnect).
    Uncertain,
    /// No update for longer than the tag's `stale_after_s`.
    Stale,
    /// Bad: decode failure, device offline, broker connection lost, or never received.
    Bad,
}

impl Quality {
    pub fn is_good(self) -> bool {
        self == Self::Good
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Good => "good",
            Self::Uncertain => "uncertain",
            Self::Stale => "stale",
            Self::Bad => "bad",
        }
    }
}

impl fmt::Display for Quality {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The current state of one tag.
#[derive(Clone, Debug, PartialEq)]
pub struct TagState {
    /// Last value received (kept when quality turns stale or bad, so it can be shown greyed).
    pub value: Option<Value>,
    pub quality: Quality,
    /// Why the quality is not good (shown to the operator).
    pub reason: Option<Arc<str>>,
    /// Source timestamp, UTC ms (the device's, or the receive time when it sends none).
    pub source_ts_ms: i64,
    /// When PlantView received the last update, UTC ms.
    pub recv_ts_ms: i64,
    /// Number of updates received.
    pub updates: u64,
}

impl Default for TagState {
    fn default() -> Self {
        Self {
            value: None,
            quality: Quality::Bad,
            reason: Some(Arc::from("no value received yet")),
            source_ts_ms: 0,
            recv_ts_ms: 0,
            updates: 0,
        }
    }
}

/// One change of a tag, as published on the change feed (history, alarms, GUI).
#[derive(Clone, Debug, PartialEq)]
pub struct TagChange {
    pub tag: TagId,
    pub value: Option<Value>,
    pub quality: Quality,
    pub source_ts_ms: i64,
    pub recv_ts_ms: i64,
}

/// Current UTC time in milliseconds.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Local time `YYYY-MM-DD HH:MM:SS.mmm` of a UTC ms timestamp (for CLI output and logs).
pub fn format_local_ms(ts_ms: i64) -> String {
    use chrono::TimeZone as _;
    chrono::Local
        .timestamp_millis_opt(ts_ms)
        .single()
        .map_or_else(
            || format!("{ts_ms} ms"),
            |t| t.format("%Y-%m-%d %H:%M:%S%.3f").to_string(),
        )
}

/// `3d 04:05:06` / `04:05:06.7`.
pub fn format_duration_ms(ms: i64) -> String {
    let ms = ms.max(0);
    let (d, rem) = (ms / 86_400_000, ms % 86_400_000);
    let (h, m, s, frac) = (
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000,
    );
    if d > 0 {
        format!("{d}d {h:02}:{m:02}:{s:02}")
    } else {
        format!("{h:02}:{m:02}:{s:02}.{:01}", frac / 100)
    }
}
