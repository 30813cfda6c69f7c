//! Turning tag values into the text an operator reads.

use crate::engine::{Quality, TagState, Value};
use crate::project::TagConfig;

/// The value as text, without unit (`21.5`, `Running`, `auto`); `---` when there is none.
pub fn value_text(cfg: &TagConfig, state: &TagState) -> String {
    match &state.value {
        None => "---".to_owned(),
        Some(Value::Number(v)) => format_number(*v, cfg.decimals.unwrap_or(1)),
        Some(Value::Bool(b)) => bool_text(cfg, *b).to_owned(),
        Some(Value::Text(s)) => s.to_string(),
    }
}

/// The value with its unit (`21.5 °C`).
pub fn value_with_unit(cfg: &TagConfig, state: &TagState) -> String {
    let text = value_text(cfg, state);
    if cfg.unit.is_empty() || !matches!(state.value, Some(Value::Number(_))) {
        text
    } else {
        format!("{text} {}", cfg.unit)
    }
}

pub fn bool_text(cfg: &TagConfig, b: bool) -> &str {
    match &cfg.states {
        Some([off, on]) => {
            if b {
                on
            } else {
                off
            }
        }
        None => {
            if b {
                "On"
            } else {
                "Off"
            }
        }
    }
}

pub fn format_number(v: f64, decimals: u8) -> String {
    format!("{v:.*}", usize::from(decimals))
}

/// Short quality marker shown on a widget ("STALE", "BAD"); `None` when good.
pub fn quality_badge(q: Quality) -> Option<&'static str> {
    match q {
        Quality::Good => None,
        Quality::Uncertain => Some("UNCERTAIN"),
        Quality::Stale => Some("STALE"),
        Quality::Bad => Some("BAD"),
    }
}

/// Local time `HH:MM:SS` of a UTC ms timestamp.
pub fn local_time(ts_ms: i64) -> String {
    use chrono::TimeZone as _;
    chrono::Local
        .timestamp_millis_opt(ts_ms)
        .single()
        .map_or_else(
            || "--:--:--".to_owned(),
            |t| t.format("%H:%M:%S").to_string(),
        )
}

/// Local date and time `YYYY-MM-DD HH:MM:SS.mmm`.
pub fn local_datetime(ts_ms: i64) -> String {
    use chrono::TimeZone as _;
    chrono::Local
        .timestamp_millis_opt(ts_ms)
        .single()
        .map_or_else(
            || "never".to_owned(),
            |t| t.format("%Y-%m-%d %H:%M:%S%.3f").to_string(),
        )
}
