//! Shift and daily reports: per tag and per period (each shift or calendar day of a range) the
//! minimum, maximum, average, time-weighted average, sample counts, first and last value, and
//! the time the tag spent in an active alarm according to the alarm journal.
//!
//! How samples count: only good numeric samples enter `count`, `min`, `max`, `avg`, `first`
//! and `last`; samples of any other quality are counted in `bad_count` and nothing else. For
//! `twavg` each good value is held from its time until the next sample (a gap in the data keeps
//! the value: the historian only stores changes); a sample that is not good ends the hold, so a
//! bad period counts as no data. The value held at the start of the range is the last sample
//! before it, if that was good.
//!
//! Time in alarm: the union, over every alarm defined on the tag, of the time its state was
//! `unack_active` or `ack_active` (two alarms active at once count once), in seconds.

use std::io::Write;
use std::path::Path;

use chrono::{Days, Local, NaiveTime, TimeZone as _};

use crate::alarms::AlarmState;
use crate::engine::Quality;
use crate::history::{HistoryReader, TagInfo};

use super::fields::push_f64;
use super::{Progress, ReportError, TimeZoneChoice, format_time};

/// At most this many periods in one report.
pub const MAX_PERIODS: usize = 100_000;

/// How a report range is cut into periods.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeriodSpec {
    /// The whole range as one period.
    Whole,
    /// Back-to-back shifts of this length starting at the range's start (start the range at
    /// the first shift change, e.g. 06:00); the last one ends at the range's end.
    Shift { length_ms: i64 },
    /// Calendar days in the report's time zone, midnight to midnight (23 or 25 hours across a
    /// DST change); the first and last are cut to the range.
    Daily,
}

/// The periods `[start, end)` of `[from, to)`, in order, back to back.
pub fn periods(
    from_ms: i64,
    to_ms: i64,
    spec: PeriodSpec,
    tz: TimeZoneChoice,
) -> Result<Vec<(i64, i64)>, ReportError> {
    if from_ms >= to_ms {
        return Err(ReportError::Invalid(
            "the start must be before the end".to_owned(),
        ));
    }
    let mut out = Vec::new();
    let mut t = from_ms;
    while t < to_ms {
        if out.len() >= MAX_PERIODS {
            return Err(ReportError::Invalid(format!(
                "more than {MAX_PERIODS} periods: use a longer shift or a shorter range"
            )));
        }
        let end = match spec {
            PeriodSpec::Whole => to_ms,
            PeriodSpec::Shift { length_ms } if length_ms > 0 => t.saturating_add(length_ms),
            PeriodSpec::Shift { .. } => {
                return Err(ReportError::Invalid(
                    "the shift length must be > 0".to_owned(),
                ));
            }
            PeriodSpec::Daily => next_midnight(t, tz)?,
        };
        out.push((t, end.min(to_ms)));
        t = end;
    }
    Ok(out)
}

/// The first midnight after `ts_ms` in `tz` (where local midnight does not exist, the first
/// local time after it that does).
fn next_midnight(ts_ms: i64, tz: TimeZoneChoice) -> Result<i64, ReportError> {
    const DAY_MS: i64 = 86_400_000;
    match tz {
        TimeZoneChoice::Utc => Ok((ts_ms.div_euclid(DAY_MS) + 1) * DAY_MS),
        TimeZoneChoice::Local => {
            let bad = || ReportError::Invalid(format!("no local date for time {ts_ms}"));
            let now = Local.timestamp_millis_opt(ts_ms).single().ok_or_else(bad)?;
            let day = now
                .date_naive()
                .checked_add_days(Days::new(1))
                .ok_or_else(bad)?;
            for minutes in (0..=180).step_by(15) {
                let time =
                    NaiveTime::from_hms_opt(minutes / 60, minutes % 60, 0).ok_or_else(bad)?;
                if let Some(t) = Local.from_local_datetime(&day.and_time(time)).earliest() {
                    return Ok(t.timestamp_millis());
                }
            }
            Err(bad())
        }
    }
}

/// One line of the report: one tag over one period.
#[derive(Clone, Debug, PartialEq)]
pub struct SummaryRow {
    pub period_start_ms: i64,
    pub period_end_ms: i64,
    pub tag: String,
    pub unit: String,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub avg: Option<f64>,
    /// Time-weighted average over the part of the period that had a good value.
    pub twavg: Option<f64>,
    /// Good numeric samples.
    pub count: u64,
    /// Samples that were not good (excluded from every aggregate).
    pub bad_count: u64,
    pub first: Option<f64>,
    pub last: Option<f64>,
    /// `None` when there is no alarm journal.
    pub time_in_alarm_s: Option<f64>,
}

/// A computed report: rows in period order, tags in the given order within a period, and notes
/// for the user (e.g. no journal found).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Summary {
    pub rows: Vec<SummaryRow>,
    pub notes: Vec<String>,
}

#[derive(Clone, Default)]
struct Acc {
    count: u64,
    bad: u64,
    min: f64,
    max: f64,
    sum: f64,
    first: Option<f64>,
    last: Option<f64>,
    tw_sum: f64,
    tw_ms: i64,
    alarm_ms: i64,
}

/// The index of the period holding `ts` (periods are back to back and sorted).
fn period_of(periods: &[(i64, i64)], ts: i64) -> Option<usize> {
    let i = periods.partition_point(|p| p.1 <= ts);
    (i < periods.len() && periods[i].0 <= ts).then_some(i)
}

/// Add `[a, b)` to every period it overlaps through `add(acc, ms, from)`.
fn spread(periods: &[(i64, i64)], accs: &mut [Acc], a: i64, b: i64, add: impl Fn(&mut Acc, i64)) {
    let mut i = periods.partition_point(|p| p.1 <= a);
    while i < periods.len() && periods[i].0 < b {
        let ms = b.min(periods[i].1) - a.max(periods[i].0);
        if ms > 0 {
            add(&mut accs[i], ms);
        }
        i += 1;
    }
}

/// Compute the report of `tags` over `periods` (from [`periods`]). `journal`: the alarm journal
/// file, if there is one (`None`: `time_in_alarm_s` stays empty). `progress` counts samples
/// read; its total is set here.
pub fn summarize(
    reader: &HistoryReader,
    tags: &[TagInfo],
    periods: &[(i64, i64)],
    journal: Option<&Path>,
    progress: &Progress,
) -> Result<Summary, ReportError> {
    let (Some(&(from_ms, _)), Some(&(_, to_ms))) = (periods.first(), periods.last()) else {
        return Ok(Summary::default());
    };
    let mut total = 0;
    for t in tags {
        total += reader.count(t.id, from_ms, to_ms)?;
    }
    progress.set_total(total);
    let journal = match journal {
        Some(p) => Some(crate::alarms::open_reader(p).map_err(|e| {
            ReportError::Invalid(format!(
                "cannot read the alarm journal {}: {e}",
                p.display()
            ))
        })?),
        None => None,
    };
    let mut per_tag: Vec<Vec<Acc>> = Vec::with_capacity(tags.len());
    let mut done = 0u64;
    for tag in tags {
        let mut accs = vec![Acc::default(); periods.len()];
        let mut held: Option<(i64, f64)> = reader
            .latest_before(tag.id, from_ms - 1)?
            .filter(|r| r.quality == Quality::Good)
            .and_then(|r| r.value.map(|v| (from_ms, v)));
        let mut cancelled = false;
        reader.for_each_raw_ref(tag.id, from_ms, to_ms, |row| {
            if let Some((since, v)) = held {
                spread(periods, &mut accs, since, row.ts_ms, |a, ms| {
                    a.tw_sum += v * ms as f64;
                    a.tw_ms += ms;
                });
            }
            let acc = period_of(periods, row.ts_ms).map(|i| &mut accs[i]);
            match (row.quality, row.value) {
                (Quality::Good, Some(v)) => {
                    if let Some(a) = acc {
                        if a.count == 0 {
                            (a.min, a.max) = (v, v);
                            a.first = Some(v);
                        } else {
                            a.min = a.min.min(v);
                            a.max = a.max.max(v);
                        }
                        a.count += 1;
                        a.sum += v;
                        a.last = Some(v);
                    }
                    held = Some((row.ts_ms, v));
                }
                (Quality::Good, None) => held = None, // text or no value: nothing to hold
                _ => {
                    if let Some(a) = acc {
                        a.bad += 1;
                    }
                    held = None;
                }
            }
            done += 1;
            if done.is_multiple_of(4096) {
                progress.set_done(done);
                cancelled = progress.is_cancelled();
            }
            !cancelled
        })?;
        if cancelled {
            return Err(ReportError::Cancelled);
        }
        if let Some((since, v)) = held {
            spread(periods, &mut accs, since, to_ms, |a, ms| {
                a.tw_sum += v * ms as f64;
                a.tw_ms += ms;
            });
        }
        if let Some(conn) = &journal {
            for (a, b) in alarm_intervals(conn, &tag.name, from_ms, to_ms)? {
                spread(periods, &mut accs, a, b, |acc, ms| acc.alarm_ms += ms);
            }
        }
        per_tag.push(accs);
    }
    progress.set_done(done);
    let mut rows = Vec::with_capacity(periods.len() * tags.len());
    for (i, &(start, end)) in periods.iter().enumerate() {
        for (tag, accs) in tags.iter().zip(&per_tag) {
            let a = &accs[i];
            let some = a.count > 0;
            #[allow(clippy::cast_precision_loss)]
            rows.push(SummaryRow {
                period_start_ms: start,
                period_end_ms: end,
                tag: tag.name.clone(),
                unit: tag.unit.clone(),
                min: some.then_some(a.min),
                max: some.then_some(a.max),
                avg: some.then(|| a.sum / a.count as f64),
                twavg: (a.tw_ms > 0).then(|| a.tw_sum / a.tw_ms as f64),
                count: a.count,
                bad_count: a.bad,
                first: a.first,
                last: a.last,
                time_in_alarm_s: journal.is_some().then(|| a.alarm_ms as f64 / 1000.0),
            });
        }
    }
    let notes = if journal.is_none() {
        vec!["no alarm journal beside the history file: time_in_alarm_s is empty".to_owned()]
    } else {
        Vec::new()
    };
    Ok(Summary { rows, notes })
}

/// The intervals in `[from, to)` during which at least one alarm on `tag` was active.
fn alarm_intervals(
    conn: &rusqlite::Connection,
    tag: &str,
    from_ms: i64,
    to_ms: i64,
) -> Result<Vec<(i64, i64)>, ReportError> {
    let mut active: std::collections::HashMap<String, bool> = std::collections::HashMap::new();
    let mut out = Vec::new();
    let mut since: Option<i64> = None;
    for (ts, alarm, state) in crate::alarms::tag_states(conn, tag, from_ms, to_ms)? {
        let on = matches!(state, AlarmState::UnackActive | AlarmState::AckActive);
        active.insert(alarm, on);
        let any = active.values().any(|v| *v);
        match (since, any) {
            (None, true) => since = Some(ts.max(from_ms)),
            (Some(s), false) => {
                out.push((s, ts.max(from_ms)));
                since = None;
            }
            _ => {}
        }
    }
    if let Some(s) = since {
        out.push((s, to_ms));
    }
    Ok(out)
}

/// `period_start,period_end,tag,unit,min,max,avg,twavg,count,bad_count,first,last,time_in_alarm_s`
/// (RFC 4180, ISO 8601 times, empty cells where there was no data). Returns the rows written.
pub fn write_summary_csv(
    rows: &[SummaryRow],
    tz: TimeZoneChoice,
    out: impl Write,
) -> Result<u64, ReportError> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "period_start",
        "period_end",
        "tag",
        "unit",
        "min",
        "max",
        "avg",
        "twavg",
        "count",
        "bad_count",
        "first",
        "last",
        "time_in_alarm_s",
    ])?;
    let num = |v: Option<f64>| {
        let mut b = Vec::new();
        if let Some(v) = v {
            push_f64(&mut b, v);
        }
        String::from_utf8(b).unwrap_or_default()
    };
    for r in rows {
        w.write_record([
            format_time(r.period_start_ms, tz),
            format_time(r.period_end_ms, tz),
            r.tag.clone(),
            r.unit.clone(),
            num(r.min),
            num(r.max),
            num(r.avg),
            num(r.twavg),
            r.count.to_string(),
            r.bad_count.to_string(),
            num(r.first),
            num(r.last),
            num(r.time_in_alarm_s),
        ])?;
    }
    w.flush()?;
    Ok(rows.len() as u64)
}
