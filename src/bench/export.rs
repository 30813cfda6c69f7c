//! `plantview bench export`: CSV export rows/s beside a raw SQLite scan of the same rows, and
//! the export's peak memory (VmHWM, reset before the export through `/proc/self/clear_refs`):
//! it must stream, so the peak may grow by at most [`MAX_GROWTH_KIB`] whatever `--rows`.

use std::time::Instant;

use crate::engine::Quality;
use crate::history::{self, HistoryReader, Sample, Stored};
use crate::report::{Progress, TimeZoneChoice, export_raw};

/// Allowed growth of the peak RSS during one export (64 MiB).
pub const MAX_GROWTH_KIB: u64 = 64 * 1024;

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// Rows in the history file.
    #[arg(long, default_value_t = 2_000_000)]
    pub rows: i64,
}

/// A `kB` line of `/proc/self/status` (`VmHWM`, `VmRSS`).
pub fn status_kib(field: &str) -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Reset VmHWM to the current RSS (Linux ≥ 4.0); false where that is not possible.
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

pub fn run(args: &ExportArgs) -> anyhow::Result<std::process::ExitCode> {
    let dir = std::env::temp_dir().join(format!("plantview-bench-export-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = bench(args, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn bench(args: &ExportArgs, dir: &std::path::Path) -> anyhow::Result<std::process::ExitCode> {
    let db = dir.join("history.sqlite");
    let t0 = 1_700_000_000_000;
    {
        let mut conn = history::open_writer(&db)?;
        let id = history::tag_ids(&conn, &[("Bench.Tag", "")])?[0];
        let mut done = 0;
        while done < args.rows {
            let n = (args.rows - done).min(500_000);
            #[allow(clippy::cast_precision_loss)]
            let batch: Vec<Sample> = (done..done + n)
                .map(|i| Sample {
                    tag: id,
                    ts_ms: t0 + i * 100,
                    value: Stored::Number(20.0 + (i % 1000) as f64 / 100.0),
                    quality: Quality::Good,
                })
                .collect();
            history::insert_batch(&mut conn, &batch)?;
            done += n;
        }
    }
    println!("# plantview bench export — {} rows", args.rows);
    let reader = HistoryReader::open(&db)?;
    let tags = reader.tags()?;
    let (from, to) = (t0, t0 + args.rows * 100);
    let mut worst_growth = 0;
    for round in 1..=2 {
        // Baseline: the same rows scanned from SQLite, values touched, nothing written.
        let t = Instant::now();
        let conn = history::open_reader(&db)?;
        let mut stmt = conn.prepare(
            "SELECT ts, value, text, quality FROM samples WHERE tag = ?1 AND ts >= ?2 AND ts < ?3 ORDER BY ts",
        )?;
        let mut rows = stmt.query(rusqlite::params![tags[0].id, from, to])?;
        let (mut n, mut sum) = (0u64, 0.0f64);
        while let Some(r) = rows.next()? {
            sum += r.get::<_, Option<f64>>(1)?.unwrap_or(0.0);
            n += 1;
        }
        let scan = n as f64 / t.elapsed().as_secs_f64();
        drop(rows);
        // The export: CSV with ISO 8601 times into a file (written, synced, renamed).
        let out = dir.join("out.csv");
        let reset = reset_peak();
        let before = status_kib("VmHWM").unwrap_or(0);
        let progress = Progress::new();
        let t = Instant::now();
        let written = crate::report::write_file_atomically(&out, |w| {
            export_raw(&reader, &tags, from, to, TimeZoneChoice::Utc, w, &progress)
        })?;
        let export = written as f64 / t.elapsed().as_secs_f64();
        let after = status_kib("VmHWM").unwrap_or(0);
        let growth = after.saturating_sub(before);
        if reset {
            worst_growth = worst_growth.max(growth);
        }
        println!(
            "round {round}: raw SQLite scan {scan:>10.0} rows/s (checksum {sum:.0}); CSV export {export:>10.0} rows/s; ratio {:.2}",
            export / scan
        );
        println!(
            "         peak RSS (VmHWM) {} MiB before the export, {} MiB after: +{} KiB{}",
            before / 1024,
            after / 1024,
            growth,
            if reset {
                ""
            } else {
                " (peak not reset: cannot write /proc/self/clear_refs)"
            }
        );
        anyhow::ensure!(written == n, "exported {written} rows, scanned {n}");
    }
    anyhow::ensure!(
        worst_growth <= MAX_GROWTH_KIB,
        "the export's peak RSS grew by {worst_growth} KiB (> {MAX_GROWTH_KIB} KiB): it does not stream"
    );
    Ok(std::process::ExitCode::SUCCESS)
}
