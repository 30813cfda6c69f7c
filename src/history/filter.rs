//! Which changes get stored: deadband (absolute or % of range), minimum and maximum interval,
//! and every quality change (so a gap shows as a gap). Pure logic, driven by the recorder.

use std::sync::Arc;

use crate::engine::{Quality, TagChange, Value};
use crate::project::TagConfig;

use super::sample::{Sample, Stored};

/// Filter settings of one tag, resolved from the project.
#[derive(Clone, Debug)]
pub struct Rule {
    pub enabled: bool,
    pub deadband: f64,
    pub min_interval_ms: i64,
    pub max_interval_ms: i64,
}

impl Rule {
    #[allow(clippy::cast_possible_truncation)]
    pub fn from_config(tag: &TagConfig) -> Self {
        let h = &tag.history;
        let deadband = if h.deadband_percent {
            tag.range
                .map_or(0.0, |r| (r.max - r.min).abs() * h.deadband / 100.0)
        } else {
            h.deadband
        };
        Self {
            enabled: h.enabled,
            deadband,
            min_interval_ms: (h.min_interval_s * 1000.0).round() as i64,
            max_interval_ms: (h.max_interval_s * 1000.0).round() as i64,
        }
    }
}

/// Per-tag filter state.
#[derive(Clone, Debug)]
pub struct TagFilter {
    rule: Rule,
    db_id: i64,
    /// Last stored: time, value, quality.
    stored: Option<(i64, Stored, Quality)>,
    /// Latest good value seen but not stored (deadband or min interval), and its time.
    pending: Option<(i64, Stored)>,
}

fn stored_of(v: &Value) -> Stored {
    match v {
        Value::Number(x) => Stored::Number(*x),
        Value::Bool(b) => Stored::Number(f64::from(u8::from(*b))),
        Value::Text(t) => Stored::Text(Arc::clone(t)),
    }
}

impl TagFilter {
    pub fn new(rule: Rule, db_id: i64) -> Self {
        Self {
            rule,
            db_id,
            stored: None,
            pending: None,
        }
    }

    fn emit(&mut self, ts_ms: i64, value: Stored, quality: Quality) -> Sample {
        self.stored = Some((ts_ms, value.clone(), quality));
        self.pending = None;
        Sample {
            tag: self.db_id,
            ts_ms,
            value,
            quality,
        }
    }

    /// A change arrived; the sample to store, if any.
    pub fn on_change(&mut self, change: &TagChange) -> Option<Sample> {
        if !self.rule.enabled {
            return None;
        }
        let ts = change.source_ts_ms;
        let quality_changed = self
            .stored
            .as_ref()
            .is_none_or(|(_, _, q)| *q != change.quality);
        let Some(value) = change
            .value
            .as_ref()
            .filter(|_| change.quality == Quality::Good)
        else {
            // Quality change without a value: always stored, so the gap is visible.
            return quality_changed.then(|| self.emit(ts, Stored::None, change.quality));
        };
        let value = stored_of(value);
        if quality_changed {
            return Some(self.emit(ts, value, change.quality));
        }
        let Some((last_ts, last_value, _)) = &self.stored else {
            return Some(self.emit(ts, value, change.quality));
        };
        let significant = match (&value, last_value) {
            (Stored::Number(a), Stored::Number(b)) => {
                (a - b).abs() > self.rule.deadband || (self.rule.deadband == 0.0 && a != b)
            }
            (a, b) => a != b,
        };
        let unchanged_repeat = !significant;
        let too_soon = ts - last_ts < self.rule.min_interval_ms;
        let max_due = self.rule.max_interval_ms > 0 && ts - last_ts >= self.rule.max_interval_ms;
        if (significant || max_due) && !too_soon {
            return Some(self.emit(ts, value, change.quality));
        }
        if significant || unchanged_repeat {
            self.pending = Some((ts, value));
        }
        None
    }

    /// Time passes (called about once a second): store a value held back by the minimum
    /// interval once it may be stored, and repeat the value when the maximum interval is due.
    pub fn on_tick(&mut self, now_ms: i64) -> Option<Sample> {
        if !self.rule.enabled {
            return None;
        }
        let (last_ts, last_value, quality) = self.stored.clone()?;
        if quality != Quality::Good {
            return None;
        }
        if now_ms - last_ts < self.rule.min_interval_ms {
            return None;
        }
        if let Some((_, value)) = self.pending.take() {
            let significant = match (&value, &last_value) {
                (Stored::Number(a), Stored::Number(b)) => (a - b).abs() > self.rule.deadband,
                (a, b) => a != b,
            };
            if significant {
                // Stored at the time it may be stored, so samples stay min_interval apart.
                let ts = now_ms.max(last_ts + self.rule.min_interval_ms);
                return Some(self.emit(ts, value, Quality::Good));
            }
            self.pending = Some((now_ms, value));
        }
        if self.rule.max_interval_ms > 0 && now_ms - last_ts >= self.rule.max_interval_ms {
            let value = self.pending.take().map_or(last_value, |(_, v)| v);
            return Some(self.emit(now_ms, value, Quality::Good));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(deadband: f64, min_s: f64, max_s: f64) -> Rule {
        Rule {
            enabled: true,
            deadband,
            min_interval_ms: (min_s * 1000.0) as i64,
            max_interval_ms: (max_s * 1000.0) as i64,
        }
    }

    fn change(ts: i64, v: f64) -> TagChange {
        TagChange {
            tag: 0,
            value: Some(Value::Number(v)),
            quality: Quality::Good,
            source_ts_ms: ts,
            recv_ts_ms: ts,
        }
    }

    fn bad(ts: i64) -> TagChange {
        TagChange {
            tag: 0,
            value: None,
            quality: Quality::Bad,
            source_ts_ms: ts,
            recv_ts_ms: ts,
        }
    }

    fn stored_ts(s: Option<Sample>) -> Option<i64> {
        s.map(|s| s.ts_ms)
    }

    #[test]
    fn deadband_skips_small_changes() {
        let mut f = TagFilter::new(rule(0.5, 0.0, 0.0), 1);
        assert_eq!(stored_ts(f.on_change(&change(0, 10.0))), Some(0));
        assert!(f.on_change(&change(1000, 10.4)).is_none());
        assert!(f.on_change(&change(2000, 9.6)).is_none());
        assert_eq!(stored_ts(f.on_change(&change(3000, 10.6))), Some(3000));
        assert!(f.on_change(&change(4000, 10.6)).is_none(), "unchanged");
    }

    #[test]
    fn max_interval_repeats_unchanged_values() {
        let mut f = TagFilter::new(rule(0.0, 0.0, 10.0), 1);
        f.on_change(&change(0, 1.0));
        assert!(f.on_tick(9_999).is_none());
        let s = f.on_tick(10_000).expect("repeat due");
        assert_eq!((s.ts_ms, s.value), (10_000, Stored::Number(1.0)));
        // Via a change too: an unchanged value arriving after the max interval is stored.
        assert!(f.on_change(&change(15_000, 1.0)).is_none());
        assert_eq!(stored_ts(f.on_change(&change(20_000, 1.0))), Some(20_000));
    }

    #[test]
    fn min_interval_holds_back_and_stores_the_latest_later() {
        let mut f = TagFilter::new(rule(0.0, 5.0, 0.0), 1);
        assert!(f.on_change(&change(0, 1.0)).is_some());
        assert!(f.on_change(&change(1000, 2.0)).is_none());
        assert!(f.on_change(&change(2000, 3.0)).is_none());
        assert!(f.on_tick(4_000).is_none());
        let s = f.on_tick(5_000).expect("held value stored when allowed");
        assert_eq!((s.ts_ms, s.value), (5_000, Stored::Number(3.0)));
    }

    #[test]
    fn quality_changes_are_always_stored_and_bad_periods_do_not_repeat() {
        let mut f = TagFilter::new(rule(100.0, 60.0, 10.0), 1);
        f.on_change(&change(0, 1.0));
        let s = f
            .on_change(&bad(500))
            .expect("bad stored despite min interval");
        assert_eq!((s.value, s.quality), (Stored::None, Quality::Bad));
        assert!(f.on_change(&bad(600)).is_none(), "same quality again");
        assert!(f.on_tick(100_000).is_none(), "no repeats while bad");
        let s = f
            .on_change(&change(700, 1.0))
            .expect("good again stored at once");
        assert_eq!(s.quality, Quality::Good);
    }

    #[test]
    fn disabled_stores_nothing() {
        let mut r = rule(0.0, 0.0, 1.0);
        r.enabled = false;
        let mut f = TagFilter::new(r, 1);
        assert!(f.on_change(&change(0, 1.0)).is_none());
        assert!(f.on_tick(10_000).is_none());
    }
}
