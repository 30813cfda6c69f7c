//! One export as a whole, the way the CLI and the GUI ask for it: open the files, resolve the
//! tags, estimate the total, write the CSV under a temporary name with progress and
//! cancellation, rename it when complete. Blocking: a GUI runs it on a named thread and watches
//! the shared [`Progress`].

use std::path::{Path, PathBuf};

use crate::history::{HistoryReader, TagInfo};

use super::summary::{PeriodSpec, periods, summarize, write_summary_csv};
use super::{
    Agg, Progress, ReportError, TimeZoneChoice, export_aligned, export_audit, export_journal,
    export_raw, resolve_tags, write_file_atomically,
};

/// Which tags of the history file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TagSelection {
    All,
    Names(Vec<String>),
}

/// What to export.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ExportKind {
    /// Raw samples, long format: `time,tag,value,quality`.
    Raw,
    /// One column per tag, one row per interval.
    Aligned { interval_ms: i64, agg: Agg },
    /// Shift or daily report (see [`super::summary`]).
    Report { periods: PeriodSpec },
    /// The alarm journal beside the history file (tags are ignored).
    Journal,
    /// The audit trail beside the history file (tags are ignored).
    Audit,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ExportRequest {
    /// The history file; the alarm journal and audit trail are the files beside it.
    pub history: PathBuf,
    pub tags: TagSelection,
    /// `[from, to)`, UTC ms.
    pub from_ms: i64,
    pub to_ms: i64,
    pub kind: ExportKind,
    /// Times in the CSV.
    pub tz: TimeZoneChoice,
    /// The CSV file: written complete or not at all.
    pub out: PathBuf,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExportOutcome {
    /// Data rows written (header not counted).
    pub rows: u64,
    /// Things the user should know (e.g. a report without an alarm journal).
    pub notes: Vec<String>,
}

/// Run one export to `req.out`. Progress and cancellation go through `progress` (its total is
/// set before the first row); whatever the result, `progress.is_finished()` is true afterwards.
/// On error or cancel ([`ReportError::Cancelled`]) no file exists under `req.out` and the
/// temporary file is removed.
pub fn run_export(req: &ExportRequest, progress: &Progress) -> Result<ExportOutcome, ReportError> {
    let result = run(req, progress);
    progress.set_finished();
    result
}

fn run(req: &ExportRequest, progress: &Progress) -> Result<ExportOutcome, ReportError> {
    if req.from_ms >= req.to_ms {
        return Err(ReportError::Invalid(
            "the start must be before the end".to_owned(),
        ));
    }
    let dir = req
        .history
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let (from, to, tz) = (req.from_ms, req.to_ms, req.tz);
    let one = |n: u64| {
        progress.set_total(1);
        progress.set_done(1);
        ExportOutcome {
            rows: n,
            notes: Vec::new(),
        }
    };
    match req.kind {
        ExportKind::Journal => {
            let path = crate::alarms::journal_path(dir);
            must_exist(&path, "alarm journal")?;
            let n = write_file_atomically(&req.out, |w| export_journal(&path, from, to, tz, w))?;
            return Ok(one(n));
        }
        ExportKind::Audit => {
            let path = crate::security::audit_path(dir);
            must_exist(&path, "audit trail")?;
            let n = write_file_atomically(&req.out, |w| export_audit(&path, from, to, tz, w))?;
            return Ok(one(n));
        }
        _ => {}
    }
    let (reader, tags) = open_history(&req.history, &req.tags)?;
    match req.kind {
        ExportKind::Raw => {
            let mut total = 0;
            for t in &tags {
                total += reader.count(t.id, from, to)?;
            }
            progress.set_total(total);
            let rows = write_file_atomically(&req.out, |w| {
                export_raw(&reader, &tags, from, to, tz, w, progress)
            })?;
            Ok(ExportOutcome {
                rows,
                notes: Vec::new(),
            })
        }
        ExportKind::Aligned { interval_ms, agg } => {
            let rows = write_file_atomically(&req.out, |w| {
                export_aligned(&reader, &tags, from, to, interval_ms, agg, tz, w, progress)
            })?;
            Ok(ExportOutcome {
                rows,
                notes: Vec::new(),
            })
        }
        ExportKind::Report { periods: spec } => {
            let periods = periods(from, to, spec, tz)?;
            let journal = crate::alarms::journal_path(dir);
            let journal = journal.exists().then_some(journal);
            let summary = summarize(&reader, &tags, &periods, journal.as_deref(), progress)?;
            let rows =
                write_file_atomically(&req.out, |w| write_summary_csv(&summary.rows, tz, w))?;
            Ok(ExportOutcome {
                rows,
                notes: summary.notes,
            })
        }
        ExportKind::Journal | ExportKind::Audit => Ok(ExportOutcome::default()),
    }
}

fn must_exist(path: &Path, what: &str) -> Result<(), ReportError> {
    if path.exists() {
        Ok(())
    } else {
        Err(ReportError::Invalid(format!(
            "no {what} at {}",
            path.display()
        )))
    }
}

/// Open a history file and resolve a tag selection, with errors that name the file.
pub fn open_history(
    path: &Path,
    tags: &TagSelection,
) -> Result<(HistoryReader, Vec<TagInfo>), ReportError> {
    must_exist(path, "history file")?;
    let unreadable = |e: rusqlite::Error| {
        ReportError::Invalid(format!("cannot read history file {}: {e}", path.display()))
    };
    let reader = HistoryReader::open(path).map_err(unreadable)?;
    let all = reader.tags().map_err(unreadable)?;
    let tags = match tags {
        TagSelection::All => all,
        TagSelection::Names(names) => {
            if names.is_empty() {
                return Err(ReportError::Invalid("no tags given".to_owned()));
            }
            resolve_tags(&reader, names)?
        }
    };
    Ok((reader, tags))
}
