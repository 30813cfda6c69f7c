//! Values aligned at a fixed interval, one column per tag, with an aggregate: average, minimum,
//! maximum, last, or time-weighted average (each value held until the next sample; bad periods
//! count as no data).

use std::io::Write;

use crate::engine::Quality;
use crate::history::{HistoryReader, TagInfo};

use super::{Progress, ReportError, TimeZoneChoice, format_time};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Agg {
    Avg,
    Min,
    Max,
    Last,
    /// Time-weighted average.
    TwAvg,
}

impl std::str::FromStr for Agg {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "avg" | "mean" => Ok(Self::Avg),
            "min" => Ok(Self::Min),
            "max" => Ok(Self::Max),
            "last" => Ok(Self::Last),
            "twavg" | "time-weighted" => Ok(Self::TwAvg),
            _ => Err(format!("`{s}`: use avg, min, max, last or twavg")),
        }
    }
}

#[derive(Clone, Default)]
struct Cell {
    n: u32,
    sum: f64,
    min: f64,
    max: f64,
    last: Option<f64>,
    tw_sum: f64,
    tw_ms: i64,
}

/// One column: every interval's aggregate of one tag.
fn column(
    reader: &HistoryReader,
    tag: &TagInfo,
    from_ms: i64,
    to_ms: i64,
    interval_ms: i64,
    agg: Agg,
) -> Result<Vec<Option<f64>>, ReportError> {
    let n = usize::try_from((to_ms - from_ms + interval_ms - 1) / interval_ms).unwrap_or(0);
    let mut cells = vec![Cell::default(); n];
    let index = |ts: i64| {
        usize::try_from((ts - from_ms) / interval_ms)
            .ok()
            .filter(|i| *i < n)
    };
    // Spread a held value over [a, b) across the intervals it covers.
    let integrate = |cells: &mut [Cell], v: f64, a: i64, b: i64| {
        let mut t = a.max(from_ms);
        while t < b.min(to_ms) {
            let Some(i) = index(t) else { break };
            let end = (from_ms + (i as i64 + 1) * interval_ms).min(b).min(to_ms);
            cells[i].tw_sum += v * (end - t) as f64;
            cells[i].tw_ms += end - t;
            t = end;
        }
    };
    let mut held: Option<(i64, f64)> = reader
        .latest_before(tag.id, from_ms - 1)?
        .filter(|r| r.quality == Quality::Good)
        .and_then(|r| r.value.map(|v| (from_ms, v)));
    reader.for_each_raw(tag.id, from_ms, to_ms, |row| {
        if let Some((since, v)) = held {
            integrate(&mut cells, v, since, row.ts_ms);
        }
        match (row.quality, row.value) {
            (Quality::Good, Some(v)) => {
                if let Some(i) = index(row.ts_ms) {
                    let c = &mut cells[i];
                    if c.n == 0 {
                        c.min = v;
                        c.max = v;
                    } else {
                        c.min = c.min.min(v);
                        c.max = c.max.max(v);
                    }
                    c.n += 1;
                    c.sum += v;
                    c.last = Some(v);
                }
                held = Some((row.ts_ms, v));
            }
            _ => held = None, // bad or stale: no value until the next good one
        }
        true
    })?;
    if let Some((since, v)) = held {
        integrate(&mut cells, v, since, to_ms);
    }
    Ok(cells
        .into_iter()
        .map(|c| match agg {
            Agg::Avg => (c.n > 0).then(|| c.sum / f64::from(c.n)),
            Agg::Min => (c.n > 0).then_some(c.min),
            Agg::Max => (c.n > 0).then_some(c.max),
            Agg::Last => c.last,
            Agg::TwAvg => (c.tw_ms > 0).then(|| c.tw_sum / c.tw_ms as f64),
        })
        .collect())
}

/// `time,<tag>,<tag>...` one row per interval start in `[from, to)`; empty cells where a tag
/// had no data. `progress` counts tags read (its total is set here); cancel is checked between
/// tags.
#[allow(clippy::too_many_arguments)]
pub fn export_aligned(
    reader: &HistoryReader,
    tags: &[TagInfo],
    from_ms: i64,
    to_ms: i64,
    interval_ms: i64,
    agg: Agg,
    tz: TimeZoneChoice,
    out: impl Write,
    progress: &Progress,
) -> Result<u64, ReportError> {
    if interval_ms <= 0 {
        return Err(ReportError::Invalid("the interval must be > 0".to_owned()));
    }
    progress.set_total(tags.len() as u64);
    let mut columns = Vec::with_capacity(tags.len());
    for (i, tag) in tags.iter().enumerate() {
        if progress.is_cancelled() {
            return Err(ReportError::Cancelled);
        }
        columns.push(column(reader, tag, from_ms, to_ms, interval_ms, agg)?);
        progress.set_done(i as u64 + 1);
    }
    let mut w = csv::Writer::from_writer(out);
    let mut header = vec!["time".to_owned()];
    header.extend(tags.iter().map(|t| t.name.clone()));
    w.write_record(&header)?;
    let n = columns.first().map_or(0, Vec::len);
    for i in 0..n {
        let mut record = vec![format_time(from_ms + i as i64 * interval_ms, tz)];
        record.extend(
            columns
                .iter()
                .map(|c| c[i].map(|v| v.to_string()).unwrap_or_default()),
        );
        w.write_record(&record)?;
    }
    w.flush()?;
    Ok(n as u64)
}
