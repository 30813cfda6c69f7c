//! A pen's data as drawn: the history columns the query worker delivered, the live tail from
//! the change feed, and the polyline segments built from both — at most two points per pixel
//! column, broken at quality gaps.
//!
//! Pure data: no egui, no I/O, no clock. Everything here costs O(pixel columns) (the tail
//! after the last history bucket is a few seconds of samples), never O(stored samples).

use std::collections::VecDeque;

use crate::engine::Quality;
use crate::history::{Bucket, Buckets};

/// Live tail bounds per pen: at most this many points…
pub const TAIL_MAX_POINTS: usize = 20_000;
/// …and no older than this.
pub const TAIL_MAX_AGE_MS: i64 = 10 * 60_000;

/// The good samples of one pixel column `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Column {
    pub start: i64,
    pub end: i64,
    /// Good numeric samples (0: the column only holds bad/stale/uncertain samples).
    pub count: i64,
    pub min: f64,
    pub max: f64,
    pub avg: f64,
    pub first: f64,
    pub last: f64,
    /// The last sample of any quality was good: the value is held until the next column.
    /// Otherwise the line breaks after this column.
    pub good_after: bool,
}

impl Column {
    fn from_bucket(b: &Bucket) -> Self {
        Self {
            start: b.start,
            end: b.end,
            count: b.count,
            min: b.min,
            max: b.max,
            avg: b.avg,
            first: b.first,
            last: b.last,
            good_after: b.count > 0 && b.last_quality.is_some_and(Quality::is_good),
        }
    }

    /// `self` followed by `later` (same column, later samples).
    fn merged(self, later: &Self) -> Self {
        if self.count == 0 {
            return Self {
                start: self.start,
                end: self.end,
                ..*later
            };
        }
        if later.count == 0 {
            return Self {
                good_after: false,
                ..self
            };
        }
        let n = self.count + later.count;
        #[allow(clippy::cast_precision_loss)]
        let avg = (self.avg * self.count as f64 + later.avg * later.count as f64) / n as f64;
        Self {
            count: n,
            min: self.min.min(later.min),
            max: self.max.max(later.max),
            avg,
            last: later.last,
            good_after: later.good_after,
            ..self
        }
    }
}

/// What the query worker delivered for one pen and one range.
#[derive(Clone, Debug, PartialEq)]
pub struct Loaded {
    pub from_ms: i64,
    pub to_ms: i64,
    pub width_ms: i64,
    pub columns: Vec<Column>,
    /// The last good value stored before the first column (`ts`, value): held into the range.
    pub prior: Option<(i64, f64)>,
}

impl Loaded {
    /// `prior`: the last stored sample before the first bucket (ts, value, quality).
    pub fn new(
        from_ms: i64,
        to_ms: i64,
        buckets: &Buckets,
        prior: Option<(i64, Option<f64>, Quality)>,
    ) -> Self {
        Self {
            from_ms,
            to_ms,
            width_ms: buckets.width_ms.max(1),
            columns: buckets.buckets.iter().map(Column::from_bucket).collect(),
            prior: prior
                .and_then(|(ts, v, q)| v.filter(|v| q.is_good() && v.is_finite()).map(|v| (ts, v))),
        }
    }
}

/// One live value from the change feed (`value` is `None` for a quality-only change).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TailPoint {
    pub ts_ms: i64,
    pub value: Option<f64>,
    pub quality: Quality,
}

/// The recent live values of one pen: a bounded ring buffer in time order.
#[derive(Debug, Default)]
pub struct Tail {
    points: VecDeque<TailPoint>,
}

impl Tail {
    /// Append; a point older than the last one is moved to the last one's time (a device clock
    /// going backwards must not unsort the buffer).
    pub fn push(&mut self, mut p: TailPoint) {
        if let Some(last) = self.points.back() {
            p.ts_ms = p.ts_ms.max(last.ts_ms);
        }
        if self.points.len() >= TAIL_MAX_POINTS {
            self.points.pop_front();
        }
        self.points.push_back(p);
    }

    /// Drop points older than [`TAIL_MAX_AGE_MS`] before `now_ms`.
    pub fn prune(&mut self, now_ms: i64) {
        let cutoff = now_ms - TAIL_MAX_AGE_MS;
        while self.points.front().is_some_and(|p| p.ts_ms < cutoff) {
            self.points.pop_front();
        }
    }

    pub fn len(&self) -> usize {
        self.points.len()
    }

    #[cfg(test)]
    fn last(&self) -> Option<&TailPoint> {
        self.points.back()
    }

    /// Fold the points in `[from_ms, to_ms)` into columns on the `width_ms` grid (the same
    /// grid as the history buckets: multiples of the width since the epoch).
    pub fn columns_into(&self, from_ms: i64, to_ms: i64, width_ms: i64, out: &mut Vec<Column>) {
        out.clear();
        let w = width_ms.max(1);
        let first = self.points.partition_point(|p| p.ts_ms < from_ms);
        let last = self.points.partition_point(|p| p.ts_ms < to_ms);
        let mut cur: Option<Column> = None;
        for p in self.points.range(first..last.max(first)) {
            let start = p.ts_ms.div_euclid(w) * w;
            if cur.is_some_and(|c| c.start != start)
                && let Some(c) = cur.take()
            {
                out.push(c);
            }
            let c = cur.get_or_insert(Column {
                start,
                end: start + w,
                count: 0,
                min: 0.0,
                max: 0.0,
                avg: 0.0,
                first: 0.0,
                last: 0.0,
                good_after: false,
            });
            match p.value {
                Some(v) if p.quality.is_good() && v.is_finite() => {
                    let one = Column {
                        count: 1,
                        min: v,
                        max: v,
                        avg: v,
                        first: v,
                        last: v,
                        good_after: true,
                        ..*c
                    };
                    *c = c.merged(&one);
                }
                _ => c.good_after = p.quality.is_good() && c.count > 0,
            }
        }
        out.extend(cur);
    }
}

/// History columns followed by tail columns; the tail column that shares the last history
/// column's start is merged into it, tail columns before it are ignored.
pub fn merged_columns<'a>(
    history: &'a [Column],
    tail: &'a [Column],
) -> impl Iterator<Item = Column> + 'a {
    let last_start = history.last().map_or(i64::MIN, |c| c.start);
    let tail = tail
        .get(tail.partition_point(|c| c.start < last_start)..)
        .unwrap_or_default();
    let (join, tail) = match (history.last(), tail.first()) {
        (Some(h), Some(t)) if h.start == t.start => {
            (Some(h.merged(t)), tail.get(1..).unwrap_or_default())
        }
        _ => (history.last().copied(), tail),
    };
    let head = history
        .get(..history.len().saturating_sub(1))
        .unwrap_or_default();
    head.iter().copied().chain(join).chain(tail.iter().copied())
}

/// `y → (y - offset) * factor`: identity, or 0–100 % of an engineering range.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scale {
    pub offset: f64,
    pub factor: f64,
}

impl Scale {
    pub const IDENTITY: Self = Self {
        offset: 0.0,
        factor: 1.0,
    };

    /// `lo` → 0, `hi` → 100; identity when the range is empty or not finite.
    pub fn percent_of(lo: f64, hi: f64) -> Self {
        let span = hi - lo;
        if span.is_finite() && span.abs() > f64::EPSILON {
            Self {
                offset: lo,
                factor: 100.0 / span,
            }
        } else {
            Self::IDENTITY
        }
    }

    pub fn apply(self, y: f64) -> f64 {
        (y - self.offset) * self.factor
    }
}

/// Polyline segments (x = UTC ms, y = scaled value) and their y extent.
#[derive(Debug, Default)]
pub struct Segments {
    pub lines: Vec<Vec<[f64; 2]>>,
    pub y_min: f64,
    pub y_max: f64,
}

impl Segments {
    pub fn points(&self) -> usize {
        self.lines.iter().map(Vec::len).sum()
    }
}

/// Build the drawn lines: per column two points, `(start, min)` and `(start + w/2, max)`
/// (max first when the column falls, so the line follows the data); a value is held (flat)
/// from a good column to the next one; the line breaks after a column whose last sample was
/// not good and over columns with no good sample. `hold_until_ms`: extend the last good value
/// to this time (live mode: now).
pub fn build_segments(
    prior: Option<(i64, f64)>,
    columns: impl Iterator<Item = Column>,
    scale: Scale,
    hold_until_ms: Option<i64>,
) -> Segments {
    let mut out = Segments {
        lines: Vec::new(),
        y_min: f64::INFINITY,
        y_max: f64::NEG_INFINITY,
    };
    let mut line: Vec<[f64; 2]> = Vec::new();
    // While the value is held: (end of the previous column, last x drawn, its last value).
    let mut held: Option<(i64, i64, f64)> = None;
    let mut push = |line: &mut Vec<[f64; 2]>, x: i64, y: f64| {
        let y = scale.apply(y);
        out.y_min = out.y_min.min(y);
        out.y_max = out.y_max.max(y);
        #[allow(clippy::cast_precision_loss)]
        line.push([x as f64, y]);
    };
    let mut first_column = true;
    for c in columns {
        if first_column {
            first_column = false;
            if let Some((ts, v)) = prior.filter(|(ts, _)| *ts < c.start) {
                push(&mut line, ts, v);
                held = Some((ts, ts, v));
            }
        }
        if c.count == 0 {
            finish_line(&mut out.lines, &mut line);
            held = None;
            continue;
        }
        if let Some((end, _, v)) = held
            && c.start > end
        {
            push(&mut line, c.start, v);
        }
        let mid = c.start + (c.end - c.start) / 2;
        let (a, b) = if c.first > c.last {
            (c.max, c.min)
        } else {
            (c.min, c.max)
        };
        push(&mut line, c.start, a);
        push(&mut line, mid, b);
        if c.good_after {
            held = Some((c.end, mid, c.last));
        } else {
            finish_line(&mut out.lines, &mut line);
            held = None;
        }
    }
    if first_column && let Some((ts, v)) = prior {
        // Nothing in range but a value held from before it.
        push(&mut line, ts, v);
        held = Some((ts, ts, v));
    }
    if let (Some((_, drawn, v)), Some(until)) = (held, hold_until_ms)
        && until > drawn
    {
        push(&mut line, until, v);
    }
    finish_line(&mut out.lines, &mut line);
    out
}

fn finish_line(lines: &mut Vec<Vec<[f64; 2]>>, line: &mut Vec<[f64; 2]>) {
    if !line.is_empty() {
        lines.push(std::mem::take(line));
    }
}

/// The value at `t_ms`: the average of the column containing it, the held last value between
/// good columns (up to `hold_until_ms` after the last one), `None` in a gap.
pub fn value_at(
    prior: Option<(i64, f64)>,
    history: &[Column],
    tail: &[Column],
    t_ms: i64,
    hold_until_ms: i64,
) -> Option<f64> {
    let cols = if tail.first().is_some_and(|c| t_ms >= c.start) || history.is_empty() {
        if tail.is_empty() { history } else { tail }
    } else {
        history
    };
    let idx = cols.partition_point(|c| c.start <= t_ms);
    let Some(c) = idx.checked_sub(1).and_then(|i| cols.get(i)) else {
        return prior.filter(|(ts, _)| *ts <= t_ms).map(|(_, v)| v);
    };
    if t_ms < c.end {
        (c.count > 0).then_some(c.avg)
    } else if c.good_after && (idx < cols.len() || t_ms <= hold_until_ms) {
        Some(c.last)
    } else {
        None
    }
}

/// Smallest and largest value in the columns (for pens without an engineering range).
pub fn data_range(columns: &[Column]) -> Option<(f64, f64)> {
    columns
        .iter()
        .filter(|c| c.count > 0)
        .fold(None, |acc, c| match acc {
            None => Some((c.min, c.max)),
            Some((lo, hi)) => Some((lo.min(c.min), hi.max(c.max))),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(start: i64, min: f64, max: f64, good_after: bool) -> Column {
        Column {
            start,
            end: start + 10,
            count: 3,
            min,
            max,
            avg: (min + max) / 2.0,
            first: min,
            last: max,
            good_after,
        }
    }

    #[test]
    fn two_points_per_column_and_gap_after_bad() {
        let cols = [
            col(0, 1.0, 2.0, true),
            col(10, 3.0, 4.0, false),
            col(20, 5.0, 6.0, true),
        ];
        let s = build_segments(None, cols.into_iter(), Scale::IDENTITY, None);
        assert_eq!(s.lines.len(), 2, "{:?}", s.lines);
        assert_eq!(
            s.lines[0],
            vec![[0.0, 1.0], [5.0, 2.0], [10.0, 3.0], [15.0, 4.0]]
        );
        assert_eq!(s.lines[1], vec![[20.0, 5.0], [25.0, 6.0]]);
        assert_eq!((s.y_min, s.y_max), (1.0, 6.0));
    }

    #[test]
    fn value_held_across_missing_columns_and_to_now() {
        let cols = [col(0, 1.0, 2.0, true), col(50, 3.0, 3.0, true)];
        let s = build_segments(
            Some((-100, 0.5)),
            cols.into_iter(),
            Scale::IDENTITY,
            Some(90),
        );
        assert_eq!(s.lines.len(), 1);
        assert_eq!(
            s.lines[0],
            vec![
                [-100.0, 0.5],
                [0.0, 0.5],
                [0.0, 1.0],
                [5.0, 2.0],
                [50.0, 2.0],
                [50.0, 3.0],
                [55.0, 3.0],
                [90.0, 3.0]
            ]
        );
    }

    #[test]
    fn empty_column_is_a_gap_and_scale_applies() {
        let mut bad = col(10, 0.0, 0.0, false);
        bad.count = 0;
        let cols = [col(0, 0.0, 10.0, true), bad, col(20, 5.0, 5.0, true)];
        let s = build_segments(None, cols.into_iter(), Scale::percent_of(0.0, 20.0), None);
        assert_eq!(s.lines.len(), 2);
        assert_eq!(s.lines[0], vec![[0.0, 0.0], [5.0, 50.0]]);
        assert_eq!(s.lines[1], vec![[20.0, 25.0], [25.0, 25.0]]);
    }

    #[test]
    fn tail_folds_into_the_history_grid() {
        let mut tail = Tail::default();
        for (ts, v, q) in [
            (5, 1.0, Quality::Good),
            (12, 2.0, Quality::Good),
            (15, 4.0, Quality::Good),
            (27, 9.0, Quality::Bad),
        ] {
            tail.push(TailPoint {
                ts_ms: ts,
                value: Some(v),
                quality: q,
            });
        }
        let mut cols = Vec::new();
        tail.columns_into(10, 100, 10, &mut cols);
        assert_eq!(cols.len(), 2);
        assert_eq!(
            (
                cols[0].start,
                cols[0].count,
                cols[0].min,
                cols[0].max,
                cols[0].last
            ),
            (10, 2, 2.0, 4.0, 4.0)
        );
        assert!(cols[0].good_after);
        assert_eq!(
            (cols[1].start, cols[1].count, cols[1].good_after),
            (20, 0, false)
        );

        // History ends with the column at 10: the tail's column 10 is merged into it.
        let history = [col(0, 0.0, 1.0, true), col(10, 1.5, 1.5, true)];
        let merged: Vec<Column> = merged_columns(&history, &cols).collect();
        assert_eq!(merged.len(), 3);
        assert_eq!(
            (
                merged[1].min,
                merged[1].max,
                merged[1].last,
                merged[1].count
            ),
            (1.5, 4.0, 4.0, 5)
        );
        assert_eq!(
            value_at(None, &history, &cols, 21, 100),
            None,
            "bad tail column is a gap"
        );
        assert_eq!(value_at(None, &history, &cols, 3, 100), Some(0.5));
    }

    #[test]
    fn tail_is_bounded_and_sorted() {
        let mut tail = Tail::default();
        for i in 0..(TAIL_MAX_POINTS as i64 + 10) {
            tail.push(TailPoint {
                ts_ms: i,
                value: Some(0.0),
                quality: Quality::Good,
            });
        }
        assert_eq!(tail.len(), TAIL_MAX_POINTS);
        tail.push(TailPoint {
            ts_ms: 0,
            value: Some(1.0),
            quality: Quality::Good,
        });
        assert_eq!(
            tail.last().map(|p| p.ts_ms),
            Some(TAIL_MAX_POINTS as i64 + 9)
        );
        tail.prune(TAIL_MAX_POINTS as i64 + 9 + TAIL_MAX_AGE_MS);
        assert_eq!(tail.len(), 2);
    }

    #[test]
    fn value_at_holds_between_good_columns_only() {
        let cols = [col(0, 1.0, 2.0, true), col(50, 3.0, 3.0, false)];
        assert_eq!(value_at(None, &cols, &[], 5, 0), Some(1.5));
        assert_eq!(value_at(None, &cols, &[], 30, 0), Some(2.0), "held");
        assert_eq!(
            value_at(None, &cols, &[], 70, 1000),
            None,
            "after a bad column"
        );
        assert_eq!(value_at(Some((-5, 7.0)), &cols, &[], -1, 0), Some(7.0));
        assert_eq!(data_range(&cols), Some((1.0, 3.0)));
    }
}
