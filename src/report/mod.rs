//! CSV reports from the stored history, the alarm journal and the audit trail: raw samples in
//! long format, values aligned at an interval with an aggregate per column, journal and audit
//! exports. RFC 4180 (the csv crate), a header row, ISO 8601 times (UTC, or local with its
//! offset). Rows stream to the writer (constant memory for raw exports); files are written
//! under a temporary name and renamed only when complete. Shift and daily reports summarize
//! tags per period ([`summary`]). Exports report progress and can be cancelled ([`Progress`]);
//! [`run_export`] is the whole job as the CLI and the GUI run it. No egui here.

mod aligned;
mod fields;
mod job;
mod progress;
mod raw;
pub mod summary;
mod time;

pub use aligned::{Agg, export_aligned};
pub use fields::{push_f64, push_field};
pub use job::{ExportKind, ExportOutcome, ExportRequest, TagSelection, open_history, run_export};
pub use progress::Progress;
pub use raw::export_raw;
pub use summary::{PeriodSpec, Summary, SummaryRow, periods, summarize, write_summary_csv};
pub use time::{TimeFormatter, TimeZoneChoice, format_time, parse_time};

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::engine::Quality;
use crate::history::{HistoryReader, TagInfo};

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("history: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Invalid(String),
    #[error("export cancelled")]
    Cancelled,
}

/// Resolve tag names against the history file; an unknown name is an error naming it and the
/// closest known names.
pub fn resolve_tags(reader: &HistoryReader, names: &[String]) -> Result<Vec<TagInfo>, ReportError> {
    let all = reader.tags()?;
    names
        .iter()
        .map(|n| {
            all.iter().find(|t| t.name == *n).cloned().ok_or_else(|| {
                let near: Vec<&str> = all
                    .iter()
                    .filter(|t| {
                        let a = t.name.to_lowercase();
                        let b = n.to_lowercase();
                        a.contains(&b) || b.contains(&a)
                    })
                    .take(5)
                    .map(|t| t.name.as_str())
                    .collect();
                ReportError::Invalid(if near.is_empty() {
                    format!("unknown tag `{n}` (not in this history file)")
                } else {
                    format!("unknown tag `{n}`; did you mean: {}", near.join(", "))
                })
            })
        })
        .collect()
}

pub fn quality_word(q: Quality) -> &'static str {
    q.as_str()
}

/// Alarm journal rows in `[from, to)`: `time,alarm,tag,priority,area,event,from,to,value,limit,user,comment`.
pub fn export_journal(
    journal: &Path,
    from_ms: i64,
    to_ms: i64,
    tz: TimeZoneChoice,
    out: impl Write,
) -> Result<u64, ReportError> {
    let conn = crate::alarms::open_reader(journal)?;
    let rows = crate::alarms::query(
        &conn,
        &crate::alarms::JournalQuery {
            from_ms: Some(from_ms),
            to_ms: Some(to_ms),
            limit: usize::MAX,
            ..Default::default()
        },
    )?;
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "time", "alarm", "tag", "priority", "area", "event", "from", "to", "value", "limit",
        "user", "comment",
    ])?;
    // The query returns newest first; reports read oldest first.
    for r in rows.iter().rev() {
        let e = &r.event;
        w.write_record([
            format_time(e.ts_ms, tz).as_str(),
            &e.alarm,
            &r.tag,
            r.priority.as_str(),
            &r.area,
            e.kind.as_str(),
            e.state_from.as_str(),
            e.state_to.as_str(),
            &e.value
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            &e.limit.map(|l| l.to_string()).unwrap_or_default(),
            e.user.as_deref().unwrap_or(""),
            e.comment.as_deref().unwrap_or(""),
        ])?;
    }
    w.flush()?;
    Ok(rows.len() as u64)
}

/// Audit trail rows in `[from, to)`: `time,user,workstation,action,tag,device,address,old,requested,readback,result,detail`.
pub fn export_audit(
    audit: &Path,
    from_ms: i64,
    to_ms: i64,
    tz: TimeZoneChoice,
    out: impl Write,
) -> Result<u64, ReportError> {
    let log = crate::security::AuditLog::open(audit)?;
    let rows = log.recent(None, usize::MAX)?;
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "time",
        "user",
        "workstation",
        "action",
        "tag",
        "device",
        "address",
        "old",
        "requested",
        "readback",
        "result",
        "detail",
    ])?;
    let mut n = 0;
    for r in rows
        .iter()
        .rev()
        .filter(|r| r.ts_ms >= from_ms && r.ts_ms < to_ms)
    {
        w.write_record([
            format_time(r.ts_ms, tz).as_str(),
            &r.user,
            &r.workstation,
            &r.action,
            &r.tag,
            &r.device,
            &r.address,
            r.old_value.as_deref().unwrap_or(""),
            r.requested.as_deref().unwrap_or(""),
            r.readback.as_deref().unwrap_or(""),
            &r.result,
            &r.detail,
        ])?;
        n += 1;
    }
    w.flush()?;
    Ok(n)
}

/// Write a file through `write` under a temporary name beside `path`, and rename it to `path`
/// only when `write` succeeded: an interrupted or failed export never leaves a file under the
/// final name.
pub fn write_file_atomically<T>(
    path: &Path,
    write: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> Result<T, ReportError>,
) -> Result<T, ReportError> {
    let tmp = partial_path(path);
    let result = (|| {
        let file = std::fs::File::create(&tmp)?;
        let mut buf = std::io::BufWriter::with_capacity(1 << 20, file);
        let value = write(&mut buf)?;
        let file = buf
            .into_inner()
            .map_err(|e| ReportError::Io(e.into_error()))?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        Ok(value)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// `report.csv` → `.report.csv.partial`.
pub fn partial_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.partial"))
}
