//! `plantview bench export`: CSV export rows/s beside a raw SQLite scan of the same rows.

use std::time::Instant;

use crate::engine::Quality;
use crate::history::{self, HistoryReader, Sample, Stored};
use crate::report::{TimeZoneChoice, export_raw};

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// Rows in the history file.
    #[arg(long, default_value_t = 2_000_000)]
    pub rows: i64,
}

pub fn run(args: &ExportArgs) -> anyhow::Result<std::process::ExitCode> {
    let dir = std::env::temp_dir().join(format!("plantview-bench-export-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
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
        // The export: CSV with ISO 8601 times into a file.
        let out = dir.join("out.csv");
        let t = Instant::now();
        let written = crate::report::write_file_atomically(&out, |w| {
            export_raw(
                &reader,
                &tags,
                from,
                to,
                TimeZoneChoice::Utc,
                w,
                &mut |_| {},
            )
        })?;
        let export = written as f64 / t.elapsed().as_secs_f64();
        println!(
            "round {round}: raw SQLite scan {scan:>10.0} rows/s (checksum {sum:.0}); CSV export {export:>10.0} rows/s; ratio {:.2}",
            export / scan
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(std::process::ExitCode::SUCCESS)
}
