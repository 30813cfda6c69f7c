//! Reading history: raw ranges, the latest value before a time, and N buckets over a range
//! (min/max/avg/first/last per bucket) served from raw rows or from summaries by span.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension as _, params};

use crate::engine::Quality;

use super::db::{self, HOUR_MS, MINUTE_MS};
use super::sample::quality_from_code;

/// One stored row as read back.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub ts_ms: i64,
    pub value: Option<f64>,
    pub text: Option<String>,
    pub quality: Quality,
}

/// One stored row borrowed from the statement: no allocation per row (exports). `text` is
/// only read when there is no number.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RowRef<'a> {
    pub ts_ms: i64,
    pub value: Option<f64>,
    pub text: Option<&'a str>,
    pub quality: Quality,
}

/// A tag in a history file.
#[derive(Clone, Debug, PartialEq)]
pub struct TagInfo {
    pub id: i64,
    pub name: String,
    pub unit: String,
}

/// Per-tag counts for `plantview history --stats`.
#[derive(Clone, Debug, PartialEq)]
pub struct TagStats {
    pub name: String,
    pub count: i64,
    pub first_ts: Option<i64>,
    pub last_ts: Option<i64>,
}

/// Aggregate of the good numeric samples in `[start, end)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Bucket {
    pub start: i64,
    pub end: i64,
    pub count: i64,
    pub min: f64,
    pub max: f64,
    pub avg: f64,
    pub first: f64,
    pub last: f64,
    /// Quality of the last sample of any quality in the bucket (`None`: no sample at all).
    /// A trend draws a gap after a bucket whose last sample was not good.
    pub last_quality: Option<Quality>,
}

/// Where the buckets came from (for the curious and for benchmarks).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Raw,
    MinuteSummary,
    HourSummary,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Buckets {
    pub width_ms: i64,
    pub source: Source,
    /// Only buckets that hold at least one sample of any quality, in time order.
    pub buckets: Vec<Bucket>,
}

/// Bucket width and source for a span: at most `max_buckets` buckets; widths of a minute or
/// more are rounded up to whole minutes (or hours) so they come from summaries exactly.
pub fn plan(from_ms: i64, to_ms: i64, max_buckets: usize) -> (i64, Source) {
    let span = (to_ms - from_ms).max(1);
    let n = i64::try_from(max_buckets.max(1)).unwrap_or(i64::MAX);
    let w = (span + n - 1) / n;
    if w >= HOUR_MS {
        (round_up(w, HOUR_MS), Source::HourSummary)
    } else if w >= MINUTE_MS {
        (round_up(w, MINUTE_MS), Source::MinuteSummary)
    } else {
        (w.max(1), Source::Raw)
    }
}

fn round_up(w: i64, unit: i64) -> i64 {
    (w + unit - 1) / unit * unit
}

/// First bucket start for a width: aligned to the epoch, so summary buckets nest exactly.
pub fn aligned_start(from_ms: i64, width_ms: i64) -> i64 {
    from_ms.div_euclid(width_ms) * width_ms
}

/// End of the last bucket: `to` rounded up to the bucket grid.
pub fn aligned_end(to_ms: i64, width_ms: i64) -> i64 {
    -((-to_ms).div_euclid(width_ms) * width_ms)
}

pub struct HistoryReader {
    conn: Connection,
}

impl HistoryReader {
    /// Open a history file read-only (nothing is loaded up front; opening is instant).
    pub fn open(path: &Path) -> rusqlite::Result<Self> {
        Ok(Self {
            conn: db::open_reader(path)?,
        })
    }

    pub fn tags(&self) -> rusqlite::Result<Vec<TagInfo>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, name, unit FROM tags ORDER BY name")?;
        stmt.query_map([], |r| {
            Ok(TagInfo {
                id: r.get(0)?,
                name: r.get(1)?,
                unit: r.get(2)?,
            })
        })?
        .collect()
    }

    pub fn tag_id(&self, name: &str) -> rusqlite::Result<Option<i64>> {
        self.conn
            .prepare_cached("SELECT id FROM tags WHERE name = ?1")?
            .query_row([name], |r| r.get(0))
            .optional()
    }

    /// Exact per-tag sample counts and time spans (scans the file).
    pub fn stats(&self) -> rusqlite::Result<Vec<TagStats>> {
        let mut stmt = self.conn.prepare(
            "SELECT t.name, COUNT(s.ts), MIN(s.ts), MAX(s.ts)
             FROM tags t LEFT JOIN samples s ON s.tag = t.id
             GROUP BY t.id ORDER BY t.name",
        )?;
        stmt.query_map([], |r| {
            Ok(TagStats {
                name: r.get(0)?,
                count: r.get(1)?,
                first_ts: r.get(2)?,
                last_ts: r.get(3)?,
            })
        })?
        .collect()
    }

    /// Every stored row of `tag` in `[from, to)`, in time order.
    pub fn raw(&self, tag: i64, from_ms: i64, to_ms: i64) -> rusqlite::Result<Vec<Row>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT ts, value, text, quality FROM samples WHERE tag = ?1 AND ts >= ?2 AND ts < ?3 ORDER BY ts",
        )?;
        stmt.query_map(params![tag, from_ms, to_ms], row)?.collect()
    }

    /// Stream every stored row of `tag` in `[from, to)` in time order without loading them
    /// all (exports of millions of rows); `f` returning `false` stops early.
    pub fn for_each_raw(
        &self,
        tag: i64,
        from_ms: i64,
        to_ms: i64,
        mut f: impl FnMut(Row) -> bool,
    ) -> rusqlite::Result<()> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT ts, value, text, quality FROM samples WHERE tag = ?1 AND ts >= ?2 AND ts < ?3 ORDER BY ts",
        )?;
        let mut rows = stmt.query(params![tag, from_ms, to_ms])?;
        while let Some(r) = rows.next()? {
            if !f(row(r)?) {
                break;
            }
        }
        Ok(())
    }

    /// [`Self::for_each_raw`] with borrowed rows (no allocation per row): the export hot path.
    pub fn for_each_raw_ref(
        &self,
        tag: i64,
        from_ms: i64,
        to_ms: i64,
        mut f: impl FnMut(RowRef<'_>) -> bool,
    ) -> rusqlite::Result<()> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT ts, value, text, quality FROM samples WHERE tag = ?1 AND ts >= ?2 AND ts < ?3 ORDER BY ts",
        )?;
        let mut rows = stmt.query(params![tag, from_ms, to_ms])?;
        while let Some(r) = rows.next()? {
            let value: Option<f64> = r.get(1)?;
            let row = RowRef {
                ts_ms: r.get(0)?,
                value,
                // A number wins over text; skip the column (the common case) then.
                text: match value {
                    Some(_) => None,
                    None => r.get_ref(2)?.as_str_or_null()?,
                },
                quality: quality_from_code(r.get(3)?),
            };
            if !f(row) {
                break;
            }
        }
        Ok(())
    }

    /// Number of stored rows of `tag` in `[from, to)` (for progress).
    pub fn count(&self, tag: i64, from_ms: i64, to_ms: i64) -> rusqlite::Result<u64> {
        self.conn
            .prepare_cached("SELECT COUNT(*) FROM samples WHERE tag = ?1 AND ts >= ?2 AND ts < ?3")?
            .query_row(params![tag, from_ms, to_ms], |r| r.get::<_, i64>(0))
            .map(|n| u64::try_from(n).unwrap_or(0))
    }

    /// The last stored row at or before `at_ms`.
    pub fn latest_before(&self, tag: i64, at_ms: i64) -> rusqlite::Result<Option<Row>> {
        self.conn
            .prepare_cached(
                "SELECT ts, value, text, quality FROM samples WHERE tag = ?1 AND ts <= ?2 ORDER BY ts DESC LIMIT 1",
            )?
            .query_row(params![tag, at_ms], row)
            .optional()
    }

    /// The first and last sample time of `tag`: two primary-key lookups, no scan.
    pub fn span(&self, tag: i64) -> rusqlite::Result<Option<(i64, i64)>> {
        let first: Option<i64> = self
            .conn
            .prepare_cached("SELECT ts FROM samples WHERE tag = ?1 ORDER BY ts LIMIT 1")?
            .query_row(params![tag], |r| r.get(0))
            .optional()?;
        let last: Option<i64> = self
            .conn
            .prepare_cached("SELECT ts FROM samples WHERE tag = ?1 ORDER BY ts DESC LIMIT 1")?
            .query_row(params![tag], |r| r.get(0))
            .optional()?;
        Ok(first.zip(last))
    }

    /// About how many samples `tag` has (good numbers and non-good samples, from the hourly
    /// summaries: a few thousand rows a year instead of every sample).
    pub fn summary_count(&self, tag: i64) -> rusqlite::Result<u64> {
        self.conn
            .prepare_cached(
                "SELECT COALESCE(SUM(count + bad), 0) FROM summary WHERE tag = ?1 AND res = ?2",
            )?
            .query_row(params![tag, super::HOUR_MS], |r| r.get::<_, i64>(0))
            .map(|n| u64::try_from(n).unwrap_or(0))
    }

    /// The last stored row at or before `at_ms` that carries a value (skipping rows that only
    /// record a quality change).
    pub fn latest_value_before(&self, tag: i64, at_ms: i64) -> rusqlite::Result<Option<Row>> {
        self.conn
            .prepare_cached(
                "SELECT ts, value, text, quality FROM samples WHERE tag = ?1 AND ts <= ?2 \
                 AND (value IS NOT NULL OR text IS NOT NULL) ORDER BY ts DESC LIMIT 1",
            )?
            .query_row(params![tag, at_ms], row)
            .optional()
    }

    /// At most `max_buckets` (+1 for alignment) whole buckets covering `[from, to)`: edges on
    /// the bucket-width grid from [`aligned_start`] to [`aligned_end`] (see [`plan`]), from raw
    /// rows for short spans and from summaries for long ones.
    pub fn buckets(
        &self,
        tag: i64,
        from_ms: i64,
        to_ms: i64,
        max_buckets: usize,
    ) -> rusqlite::Result<Buckets> {
        let (width_ms, source) = plan(from_ms, to_ms, max_buckets);
        let start = aligned_start(from_ms, width_ms);
        // Whole buckets only: the last one ends on the grid at or after `to`.
        let to_ms = aligned_end(to_ms, width_ms);
        let mut acc = Folder::new(width_ms);
        match source {
            Source::Raw => {
                let mut stmt = self.conn.prepare_cached(
                    "SELECT ts, value, quality FROM samples WHERE tag = ?1 AND ts >= ?2 AND ts < ?3 ORDER BY ts",
                )?;
                let mut rows = stmt.query(params![tag, start, to_ms])?;
                while let Some(r) = rows.next()? {
                    let ts: i64 = r.get(0)?;
                    let v: Option<f64> = r.get(1)?;
                    let q: i64 = r.get(2)?;
                    let key = ts.div_euclid(width_ms) * width_ms;
                    let b = acc.at(key);
                    if q == 0
                        && let Some(v) = v
                    {
                        b.add(ts, v, ts, v, 1, v, v, v);
                    }
                    b.touch(ts, q);
                }
            }
            Source::MinuteSummary | Source::HourSummary => {
                let res = if source == Source::HourSummary {
                    HOUR_MS
                } else {
                    MINUTE_MS
                };
                let mut stmt = self.conn.prepare_cached(
                    "SELECT bucket, count, min, max, sum, first_ts, first, last_ts, last, any_ts, any_quality
                     FROM summary WHERE tag = ?1 AND res = ?2 AND bucket >= ?3 AND bucket < ?4 ORDER BY bucket",
                )?;
                let mut rows = stmt.query(params![tag, res, start, to_ms])?;
                while let Some(r) = rows.next()? {
                    let bucket: i64 = r.get(0)?;
                    let key = bucket.div_euclid(width_ms) * width_ms;
                    let b = acc.at(key);
                    let count: i64 = r.get(1)?;
                    if count > 0 {
                        b.add(
                            r.get(5)?,
                            r.get(6)?,
                            r.get(7)?,
                            r.get(8)?,
                            count,
                            r.get(2)?,
                            r.get(3)?,
                            r.get(4)?,
                        );
                    }
                    b.touch(r.get(9)?, r.get(10)?);
                }
            }
        }
        Ok(Buckets {
            width_ms,
            source,
            buckets: acc.finish(),
        })
    }
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok(Row {
        ts_ms: r.get(0)?,
        value: r.get(1)?,
        text: r.get(2)?,
        quality: quality_from_code(r.get(3)?),
    })
}

/// Folds time-ordered rows (or summary rows) into buckets of a fixed width.
struct Folder {
    width: i64,
    done: Vec<Bucket>,
    cur: Option<Partial>,
}

struct Partial {
    start: i64,
    count: i64,
    min: f64,
    max: f64,
    sum: f64,
    first_ts: i64,
    first: f64,
    last_ts: i64,
    last: f64,
    any_ts: i64,
    any_quality: Option<i64>,
}

impl Partial {
    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        first_ts: i64,
        first: f64,
        last_ts: i64,
        last: f64,
        count: i64,
        min: f64,
        max: f64,
        sum: f64,
    ) {
        if self.count == 0 || first_ts < self.first_ts {
            self.first_ts = first_ts;
            self.first = first;
        }
        if self.count == 0 || last_ts >= self.last_ts {
            self.last_ts = last_ts;
            self.last = last;
        }
        if self.count == 0 {
            self.min = min;
            self.max = max;
        } else {
            self.min = self.min.min(min);
            self.max = self.max.max(max);
        }
        self.count += count;
        self.sum += sum;
    }

    fn touch(&mut self, ts: i64, quality: i64) {
        if self.any_quality.is_none() || ts >= self.any_ts {
            self.any_ts = ts;
            self.any_quality = Some(quality);
        }
    }
}

impl Folder {
    fn new(width: i64) -> Self {
        Self {
            width,
            done: Vec::new(),
            cur: None,
        }
    }

    fn at(&mut self, start: i64) -> &mut Partial {
        if self.cur.as_ref().is_some_and(|c| c.start != start) {
            self.flush();
        }
        self.cur.get_or_insert(Partial {
            start,
            count: 0,
            min: 0.0,
            max: 0.0,
            sum: 0.0,
            first_ts: 0,
            first: 0.0,
            last_ts: 0,
            last: 0.0,
            any_ts: i64::MIN,
            any_quality: None,
        })
    }

    fn flush(&mut self) {
        if let Some(c) = self.cur.take() {
            #[allow(clippy::cast_precision_loss)]
            let avg = if c.count > 0 {
                c.sum / c.count as f64
            } else {
                f64::NAN
            };
            self.done.push(Bucket {
                start: c.start,
                end: c.start + self.width,
                count: c.count,
                min: c.min,
                max: c.max,
                avg,
                first: c.first,
                last: c.last,
                last_quality: c.any_quality.map(quality_from_code),
            });
        }
    }

    fn finish(mut self) -> Vec<Bucket> {
        self.flush();
        self.done
    }
}
