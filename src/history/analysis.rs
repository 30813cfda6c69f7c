//! Statistics of one tag over a time range, exact (from the raw samples, streamed): what the
//! analysis view's statistics table shows. Only good samples with a number count; a bad or
//! stale sample ends the previous value's time (it is not held across the gap).

use super::{HistoryReader, Row};
use crate::engine::Quality;

/// One tag over `[from, to)`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RangeStats {
    /// Good numeric samples in the range.
    pub count: u64,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// Arithmetic mean of the samples.
    pub mean: Option<f64>,
    /// Mean over time: each value holds until the next sample (the value before the range
    /// holds from its start).
    pub time_weighted_mean: Option<f64>,
    /// Population standard deviation of the samples.
    pub std_dev: Option<f64>,
    /// First and last good sample (time, value).
    pub first: Option<(i64, f64)>,
    pub last: Option<(i64, f64)>,
    /// Time covered by good values, ms (the time-weighted mean's denominator).
    pub good_ms: i64,
}

/// Accumulates samples in time order.
#[derive(Default)]
struct Acc {
    s: RangeStats,
    sum: f64,
    sum_sq: f64,
    weighted: f64,
    /// The value in force and since when.
    holding: Option<(i64, f64)>,
}

impl Acc {
    fn close(&mut self, until_ms: i64) {
        if let Some((since, v)) = self.holding.take()
            && until_ms > since
        {
            #[allow(clippy::cast_precision_loss)]
            let d = (until_ms - since) as f64;
            self.weighted += v * d;
            self.s.good_ms += until_ms - since;
        }
    }

    fn row(&mut self, r: &Row) {
        self.close(r.ts_ms);
        let Some(v) = r.value.filter(|v| v.is_finite()) else {
            return;
        };
        if r.quality != Quality::Good {
            return;
        }
        self.holding = Some((r.ts_ms, v));
        let s = &mut self.s;
        s.count += 1;
        s.min = Some(s.min.map_or(v, |m| m.min(v)));
        s.max = Some(s.max.map_or(v, |m| m.max(v)));
        s.first.get_or_insert((r.ts_ms, v));
        s.last = Some((r.ts_ms, v));
        self.sum += v;
        self.sum_sq += v * v;
    }
}

/// Exact statistics of `tag` over `[from, to)`. `stop` is polled every 65,536 rows (a newer
/// request makes the answer useless); a stopped scan returns `None`.
pub fn range_stats(
    reader: &HistoryReader,
    tag: i64,
    from_ms: i64,
    to_ms: i64,
    stop: &dyn Fn() -> bool,
) -> rusqlite::Result<Option<RangeStats>> {
    let mut acc = Acc::default();
    // The value in force when the range starts.
    if let Some(prior) = reader.latest_before(tag, from_ms - 1)?
        && let (Some(v), Quality::Good) = (prior.value.filter(|v| v.is_finite()), prior.quality)
    {
        acc.holding = Some((from_ms, v));
    }
    let mut n = 0u64;
    let mut stopped = false;
    reader.for_each_raw(tag, from_ms, to_ms, |r| {
        n += 1;
        if n.is_multiple_of(65_536) && stop() {
            stopped = true;
            return false;
        }
        acc.row(&r);
        true
    })?;
    if stopped {
        return Ok(None);
    }
    acc.close(to_ms);
    let mut s = acc.s;
    if s.count > 0 {
        #[allow(clippy::cast_precision_loss)]
        let n = s.count as f64;
        let mean = acc.sum / n;
        s.mean = Some(mean);
        s.std_dev = Some((acc.sum_sq / n - mean * mean).max(0.0).sqrt());
    }
    if s.good_ms > 0 {
        #[allow(clippy::cast_precision_loss)]
        let t = s.good_ms as f64;
        s.time_weighted_mean = Some(acc.weighted / t);
    }
    Ok(Some(s))
}
