//! `plantview export`: history, the alarm journal or the audit trail to CSV, with a progress
//! bar on a terminal; Ctrl+C cancels and leaves no file.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::wait_for_signal;

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The history file (`history.sqlite`; the journal and audit files sit beside it).
    #[arg(long, value_name = "FILE")]
    pub history: PathBuf,
    /// Tags to export (comma-separated).
    #[arg(long, value_delimiter = ',', required_unless_present_any = ["all", "journal", "audit", "tag"])]
    pub tags: Vec<String>,
    /// One tag to export (repeatable; for names that contain commas).
    #[arg(long, conflicts_with = "all")]
    pub tag: Vec<String>,
    /// Export every tag in the file.
    #[arg(long, conflicts_with = "tags")]
    pub all: bool,
    /// Start: RFC 3339, local `YYYY-MM-DD HH:MM`, `now`, or relative like `-24h`.
    #[arg(long, default_value = "-24h", allow_hyphen_values = true)]
    pub from: String,
    /// End (exclusive), same forms as --from.
    #[arg(long, default_value = "now", allow_hyphen_values = true)]
    pub to: String,
    /// Align values at this interval (`10s`, `1m`, `15m`, `1h`, `1d`), one column per tag.
    #[arg(long)]
    pub interval: Option<String>,
    /// Aggregate per interval: avg, min, max, last, twavg (time-weighted).
    #[arg(long, default_value = "avg", requires = "interval")]
    pub agg: crate::report::Agg,
    /// Shift/daily report instead of samples: per tag and period min, max, avg, twavg, counts,
    /// first, last and time in alarm (from alarms.sqlite beside the history file). Without
    /// --shift or --daily the whole range is one period.
    #[arg(long, conflicts_with_all = ["interval", "journal", "audit"])]
    pub report: bool,
    /// Report periods: shifts of this length (`8h`, `12h`) starting at --from.
    #[arg(
        long,
        value_name = "LENGTH",
        requires = "report",
        conflicts_with = "daily"
    )]
    pub shift: Option<String>,
    /// Report periods: calendar days (local midnight, or UTC midnight with --utc).
    #[arg(long, requires = "report")]
    pub daily: bool,
    /// Export the alarm journal instead.
    #[arg(long, conflicts_with_all = ["audit", "interval"])]
    pub journal: bool,
    /// Export the audit trail instead.
    #[arg(long)]
    pub audit: bool,
    /// Times in UTC (default: local time with its offset).
    #[arg(long)]
    pub utc: bool,
    /// The CSV file to write (written complete or not at all).
    #[arg(long, value_name = "FILE.csv")]
    pub out: PathBuf,
}

fn parse_interval(flag: &str, s: &str) -> anyhow::Result<i64> {
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = num
        .parse()
        .map_err(|_| anyhow::anyhow!("{flag} `{s}`: like 10s, 1m, 15m, 1h or 1d"))?;
    let unit_ms = match unit {
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => anyhow::bail!("{flag} `{s}`: use s, m, h or d"),
    };
    anyhow::ensure!(n > 0, "{flag} must be > 0");
    n.checked_mul(unit_ms)
        .ok_or_else(|| anyhow::anyhow!("{flag} `{s}` is too long"))
}

pub(super) fn export(a: &ExportArgs) -> anyhow::Result<ExitCode> {
    use crate::report::{ExportKind, ExportRequest, PeriodSpec, Progress, TagSelection};
    use std::io::IsTerminal as _;
    let now = crate::engine::now_ms();
    let from =
        crate::report::parse_time(&a.from, now).map_err(|e| anyhow::anyhow!("--from {e}"))?;
    let to = crate::report::parse_time(&a.to, now).map_err(|e| anyhow::anyhow!("--to {e}"))?;
    anyhow::ensure!(from < to, "--from must be before --to");
    let tz = if a.utc {
        crate::report::TimeZoneChoice::Utc
    } else {
        crate::report::TimeZoneChoice::Local
    };
    let kind = if a.journal {
        ExportKind::Journal
    } else if a.audit {
        ExportKind::Audit
    } else if a.report {
        let periods = match (&a.shift, a.daily) {
            (Some(s), _) => PeriodSpec::Shift {
                length_ms: parse_interval("--shift", s)?,
            },
            (None, true) => PeriodSpec::Daily,
            (None, false) => PeriodSpec::Whole,
        };
        ExportKind::Report { periods }
    } else if let Some(iv) = &a.interval {
        ExportKind::Aligned {
            interval_ms: parse_interval("--interval", iv)?,
            agg: a.agg,
        }
    } else {
        ExportKind::Raw
    };
    let request = ExportRequest {
        history: a.history.clone(),
        tags: if a.all {
            TagSelection::All
        } else {
            TagSelection::Names(a.tags.iter().chain(&a.tag).cloned().collect())
        },
        from_ms: from,
        to_ms: to,
        kind,
        tz,
        out: a.out.clone(),
    };
    let progress = std::sync::Arc::new(Progress::new());
    // Ctrl+C or SIGTERM cancels: the export stops and removes its partial file.
    {
        let p = progress.clone();
        let spawned = std::thread::Builder::new()
            .name("pv-export-signal".to_owned())
            .spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                rt.block_on(async {
                    tokio::select! {
                        () = wait_for_signal() => p.cancel(),
                        () = async {
                            while !p.is_finished() {
                                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                            }
                        } => {}
                    }
                });
            });
        if let Err(e) = spawned {
            tracing::warn!("Ctrl+C will not clean up the partial file: {e}");
        }
    }
    let terminal = std::io::stderr().is_terminal();
    let outcome = std::thread::scope(|s| {
        if terminal {
            let p = &*progress;
            let _ = std::thread::Builder::new()
                .name("pv-export-progress".to_owned())
                .spawn_scoped(s, move || progress_bar(p));
        }
        crate::report::run_export(&request, &progress)
    });
    let outcome = outcome?;
    for note in &outcome.notes {
        eprintln!("note: {note}");
    }
    println!("wrote {} rows to {}", outcome.rows, a.out.display());
    Ok(ExitCode::SUCCESS)
}

/// A progress bar on stderr, redrawn every 100 ms until the export finishes.
fn progress_bar(p: &crate::report::Progress) {
    const WIDTH: usize = 30;
    let mut drawn = false;
    while !p.is_finished() {
        if let Some(f) = p.fraction() {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let fill = ((f * WIDTH as f32) as usize).min(WIDTH);
            eprint!(
                "\r[{}{}] {:>3}%  {} of {}",
                "#".repeat(fill),
                " ".repeat(WIDTH - fill),
                (f * 100.0) as u32,
                p.done(),
                p.total()
            );
            drawn = true;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    if drawn {
        eprintln!();
    }
}
