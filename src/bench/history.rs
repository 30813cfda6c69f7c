//! `plantview bench history`: historian insert rate beside a raw rusqlite insert, and bucket
//! query times (24 h and 1 year at 1 Hz → 2,000 buckets, cold). Also `history-child`, the
//! writer the kill -9 test kills.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rusqlite::params;

use crate::engine::Quality;
use crate::history::{self, HistoryReader, Sample, Stored};

#[derive(Debug, clap::Args)]
pub struct HistoryArgs {
    /// Rows for the insert comparison.
    #[arg(long, default_value_t = 2_000_000)]
    pub rows: usize,
    /// Also build one year at 1 Hz (31.5 M rows; takes about a minute) and query it.
    #[arg(long)]
    pub year: bool,
    /// Folder for the benchmark files (default: a temporary folder, removed afterwards).
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct HistoryChildArgs {
    /// History file to append to.
    #[arg(long)]
    pub db: PathBuf,
    /// Samples per second.
    #[arg(long, default_value_t = 10_000)]
    pub rate: u64,
}

const T0: i64 = 1_700_000_000_000;

fn samples(tag: i64, from: i64, n: usize, step_ms: i64) -> impl Iterator<Item = Sample> {
    (0..n).map(move |i| {
        let t = from + i as i64 * step_ms;
        #[allow(clippy::cast_precision_loss)]
        let v = (t as f64 / 60_000.0).sin() * 10.0 + 20.0;
        Sample {
            tag,
            ts_ms: t,
            value: Stored::Number(v),
            quality: Quality::Good,
        }
    })
}

pub fn run(args: &HistoryArgs) -> anyhow::Result<std::process::ExitCode> {
    let tmp;
    let dir: &Path = match &args.dir {
        Some(d) => {
            std::fs::create_dir_all(d)?;
            d
        }
        None => {
            tmp = std::env::temp_dir()
                .join(format!("plantview-bench-history-{}", std::process::id()));
            std::fs::create_dir_all(&tmp)?;
            &tmp
        }
    };
    println!("# plantview bench history — files in {}", dir.display());

    // 1. Raw rusqlite: one prepared insert in one transaction, same table layout.
    let raw_path = dir.join("raw.sqlite");
    let _ = std::fs::remove_file(&raw_path);
    let mut raw = rusqlite::Connection::open(&raw_path)?;
    raw.pragma_update(None, "journal_mode", "WAL")?;
    raw.pragma_update(None, "synchronous", "NORMAL")?;
    raw.execute_batch(
        "CREATE TABLE samples (tag INTEGER NOT NULL, ts INTEGER NOT NULL, value REAL, text TEXT,
         quality INTEGER NOT NULL, PRIMARY KEY (tag, ts)) WITHOUT ROWID",
    )?;
    let rows: Vec<Sample> = samples(1, T0, args.rows, 100).collect();
    let t = Instant::now();
    {
        let tx = raw.transaction()?;
        {
            let mut stmt = tx.prepare(
                "INSERT INTO samples (tag, ts, value, text, quality) VALUES (?1, ?2, ?3, NULL, 0)",
            )?;
            for s in &rows {
                let v = match s.value {
                    Stored::Number(v) => v,
                    _ => 0.0,
                };
                stmt.execute(params![s.tag, s.ts_ms, v])?;
            }
        }
        tx.commit()?;
    }
    let raw_rate = rows.len() as f64 / t.elapsed().as_secs_f64();

    // 2. The historian: queue → writer thread → batched idempotent inserts + summaries.
    let hist_path = dir.join("historian.sqlite");
    remove_db(&hist_path);
    let h = history::Historian::start_writer(&hist_path, 10_000.0, usize::MAX)?;
    let n = rows.len() as u64;
    let t = Instant::now();
    h.queue().push(rows);
    while h.status().written < n {
        std::thread::sleep(Duration::from_millis(1));
    }
    let hist_rate = n as f64 / t.elapsed().as_secs_f64();
    h.stop();
    println!("insert raw rusqlite (1 tx, prepared):  {raw_rate:>12.0} rows/s");
    println!("insert historian (with summaries):     {hist_rate:>12.0} rows/s");
    println!(
        "ratio historian / raw:                 {:>12.2}",
        hist_rate / raw_rate
    );

    // 3. 24 h at 1 Hz → 2,000 buckets, cold (fresh connection, first query).
    let day_path = dir.join("day.sqlite");
    remove_db(&day_path);
    build(&day_path, 86_400)?;
    let (ms, source, n) = cold_query(&day_path, T0, T0 + 86_400_000)?;
    println!(
        "24 h @ 1 Hz (86,400 rows) → 2,000 buckets, cold: {ms:.2} ms ({n} buckets from {source:?})"
    );
    let (ms_gb, n_gb) = group_by_baseline(&day_path, T0, T0 + 86_400_000)?;
    println!(
        "  baseline: SQL GROUP BY of the same rows into 2,000 buckets: {ms_gb:.2} ms ({n_gb} buckets)"
    );

    if args.year {
        let year_path = dir.join("year.sqlite");
        remove_db(&year_path);
        let t = Instant::now();
        build(&year_path, 31_536_000)?;
        println!(
            "  (built 31.5 M rows in {:.0} s)",
            t.elapsed().as_secs_f64()
        );
        let (ms, source, n) = cold_query(&year_path, T0, T0 + 31_536_000_000)?;
        println!(
            "1 year @ 1 Hz (31.5 M rows) → 2,000 buckets, cold: {ms:.2} ms ({n} buckets from {source:?})"
        );
    }
    if args.dir.is_none() {
        let _ = std::fs::remove_dir_all(dir);
    }
    Ok(std::process::ExitCode::SUCCESS)
}

fn remove_db(path: &Path) {
    for p in [
        path.to_owned(),
        path.with_extension("sqlite-wal"),
        path.with_extension("sqlite-shm"),
    ] {
        let _ = std::fs::remove_file(p);
    }
}

fn build(path: &Path, seconds: usize) -> anyhow::Result<()> {
    let mut conn = history::open_writer(path)?;
    let id = history::tag_ids(&conn, &[("Bench.Tag", "")])?[0];
    let chunk = 1_000_000;
    let mut done = 0;
    while done < seconds {
        let n = chunk.min(seconds - done);
        let batch: Vec<Sample> = samples(id, T0 + done as i64 * 1000, n, 1000).collect();
        history::insert_batch(&mut conn, &batch)?;
        done += n;
    }
    Ok(())
}

fn cold_query(path: &Path, from: i64, to: i64) -> anyhow::Result<(f64, history::Source, usize)> {
    let t = Instant::now();
    let reader = HistoryReader::open(path)?;
    let id = reader
        .tag_id("Bench.Tag")?
        .ok_or_else(|| anyhow::anyhow!("no tag"))?;
    let b = reader.buckets(id, from, to, 2000)?;
    Ok((
        t.elapsed().as_secs_f64() * 1000.0,
        b.source,
        b.buckets.len(),
    ))
}

fn group_by_baseline(path: &Path, from: i64, to: i64) -> anyhow::Result<(f64, usize)> {
    let t = Instant::now();
    let conn = history::open_reader(path)?;
    let w = (to - from) / 2000;
    let mut stmt = conn.prepare(
        "SELECT (ts - ?2) / ?4, MIN(value), MAX(value), AVG(value) FROM samples
         WHERE tag = 1 AND ts >= ?2 AND ts < ?3 GROUP BY 1",
    )?;
    let n = stmt.query_map(params![1, from, to, w], |_| Ok(()))?.count();
    Ok((t.elapsed().as_secs_f64() * 1000.0, n))
}

/// Append synthetic samples at `rate` per second to `db` forever (until killed), continuing
/// after the newest stored sample; prints `queued N` (the newest queued timestamp offset) every
/// 50 ms so a test knows what it handed over.
pub fn child(args: &HistoryChildArgs) -> anyhow::Result<std::process::ExitCode> {
    let start_ts = {
        let conn = history::open_writer(&args.db)?;
        let _ = history::tag_ids(&conn, &[("Kill.Tag", "")])?;
        let max: Option<i64> = conn.query_row("SELECT MAX(ts) FROM samples", [], |r| r.get(0))?;
        max.map_or(0, |m| m + 1)
    };
    let h = history::Historian::start_writer(&args.db, 10_000.0, history::MAX_QUEUE)?;
    let tag = 1;
    let begin = Instant::now();
    let mut next = start_ts;
    let mut last_print = Instant::now();
    loop {
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let due = start_ts + (begin.elapsed().as_secs_f64() * args.rate as f64) as i64;
        if due > next {
            h.queue().push((next..due).map(|ts| Sample {
                tag,
                ts_ms: ts,
                value: Stored::Number(1.0),
                quality: Quality::Good,
            }));
            next = due;
        }
        if last_print.elapsed() >= Duration::from_millis(50) {
            println!("queued {}", next - 1);
            last_print = Instant::now();
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}
