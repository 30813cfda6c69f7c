//! The time axis: grid marks on round local-clock steps (seconds to weeks) and tick labels as
//! local time (`HH:MM:SS`, `HH:MM`, or the date at midnight on long ranges). Plot x is UTC ms.

use std::ops::RangeInclusive;

use chrono::{Local, Offset as _, TimeZone as _};
use egui_plot::{GridInput, GridMark};

const SECOND: i64 = 1000;
const MINUTE: i64 = 60 * SECOND;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// Round steps a clock reader expects.
const STEPS_MS: [i64; 22] = [
    SECOND,
    2 * SECOND,
    5 * SECOND,
    10 * SECOND,
    15 * SECOND,
    30 * SECOND,
    MINUTE,
    2 * MINUTE,
    5 * MINUTE,
    10 * MINUTE,
    15 * MINUTE,
    30 * MINUTE,
    HOUR,
    2 * HOUR,
    3 * HOUR,
    6 * HOUR,
    12 * HOUR,
    DAY,
    2 * DAY,
    7 * DAY,
    14 * DAY,
    28 * DAY,
];

/// Most marks one spacer call returns (a guard against absurd zoom levels).
const MAX_MARKS: i64 = 2_000;

/// The smallest round step of at least `min_ms`.
fn round_step(min_ms: f64) -> i64 {
    STEPS_MS
        .iter()
        .copied()
        .find(|&s| s as f64 >= min_ms)
        .unwrap_or(STEPS_MS[STEPS_MS.len() - 1])
}

/// Local UTC offset (ms) around `ts_ms`.
fn local_offset_ms(ts_ms: i64) -> i64 {
    Local.timestamp_millis_opt(ts_ms).single().map_or(0, |t| {
        i64::from(t.offset().fix().local_minus_utc()) * SECOND
    })
}

/// Grid marks for the x axis: three line strengths on round steps aligned to local time.
pub fn time_grid(input: GridInput) -> Vec<GridMark> {
    let (lo, hi) = input.bounds;
    let base = input.base_step_size;
    if !(lo.is_finite() && hi.is_finite() && base.is_finite()) || base <= 0.0 || hi <= lo {
        return Vec::new();
    }
    #[allow(clippy::cast_possible_truncation)]
    let (lo_ms, hi_ms) = (lo.floor() as i64, hi.ceil() as i64);
    let offset = local_offset_ms(lo_ms / 2 + hi_ms / 2);
    let steps = [
        round_step(base),
        round_step(base * 4.0),
        round_step(base * 10.0),
    ];
    let mut marks: Vec<GridMark> = Vec::new();
    for step in steps {
        if (hi_ms - lo_ms) / step > MAX_MARKS {
            continue;
        }
        // First multiple of `step` in local time at or after `lo`.
        let mut t = (lo_ms + offset).div_euclid(step) * step - offset;
        if t < lo_ms {
            t += step;
        }
        while t <= hi_ms {
            #[allow(clippy::cast_precision_loss)]
            marks.push(GridMark {
                value: t as f64,
                step_size: step as f64,
            });
            t += step;
        }
    }
    // One mark per value, the strongest step wins.
    marks.sort_by(|a, b| {
        a.value
            .total_cmp(&b.value)
            .then(b.step_size.total_cmp(&a.step_size))
    });
    marks.dedup_by(|later, earlier| later.value == earlier.value);
    marks
}

/// Tick label for a time mark: `HH:MM:SS` below minute steps, `HH:MM` above, and the date
/// (`14 Nov`) at local midnight once steps are an hour or more.
pub fn time_label(mark: GridMark, _range: &RangeInclusive<f64>) -> String {
    #[allow(clippy::cast_possible_truncation)]
    let ts = mark.value.round() as i64;
    let Some(t) = Local.timestamp_millis_opt(ts).single() else {
        return String::new();
    };
    let midnight = (ts + local_offset_ms(ts)).rem_euclid(DAY) == 0;
    #[allow(clippy::cast_precision_loss)]
    let fmt = if mark.step_size < MINUTE as f64 {
        "%H:%M:%S"
    } else if midnight && mark.step_size >= HOUR as f64 {
        "%d %b"
    } else {
        "%H:%M"
    };
    t.format(fmt).to_string()
}

/// Date and time of the cursor: `YYYY-MM-DD HH:MM:SS` local.
pub fn cursor_label(ts_ms: i64) -> String {
    Local
        .timestamp_millis_opt(ts_ms)
        .single()
        .map_or_else(String::new, |t| t.format("%Y-%m-%d %H:%M:%S").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_are_round_local_steps() {
        let lo = 1_700_000_000_000.0;
        let hi = lo + (HOUR as f64);
        // 1000 px wide: 8 px is 28.8 s.
        let marks = time_grid(GridInput {
            bounds: (lo, hi),
            base_step_size: 28_800.0,
        });
        assert!(!marks.is_empty());
        let offset = local_offset_ms(lo as i64);
        for m in &marks {
            assert!(m.value >= lo && m.value <= hi);
            let step = m.step_size as i64;
            assert_eq!((m.value as i64 + offset).rem_euclid(step), 0, "{m:?}");
        }
        let strongest = marks.iter().map(|m| m.step_size as i64).max();
        assert_eq!(strongest, Some(5 * MINUTE));
        assert!(marks.windows(2).all(|w| w[0].value < w[1].value));
    }

    #[test]
    fn labels_by_span() {
        let ts = 1_700_000_000_000.0;
        let short = time_label(
            GridMark {
                value: ts,
                step_size: 10_000.0,
            },
            &(ts..=ts + 600_000.0),
        );
        assert_eq!(short.len(), 8, "{short}");
        let hours = time_label(
            GridMark {
                value: ts,
                step_size: HOUR as f64,
            },
            &(ts..=ts + 8.0 * HOUR as f64),
        );
        assert_eq!(hours.len(), 5, "{hours}");
        assert!(
            time_grid(GridInput {
                bounds: (f64::NAN, 1.0),
                base_step_size: 1.0
            })
            .is_empty()
        );
    }
}
