//! kill -9 while recording: a child process records at 10k samples/s and is killed at a random
//! moment, 20+ times; afterwards `PRAGMA integrity_check` is ok, no sample before the newest
//! stored one is missing, and each kill lost at most the last batch (≤ 1 s of samples).

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::{Rng as _, SeedableRng as _};

const RATE: i64 = 10_000;

fn stored_max(db: &std::path::Path) -> Option<i64> {
    let conn = rusqlite::Connection::open(db).expect("open");
    conn.query_row("SELECT MAX(ts) FROM samples WHERE tag = 1", [], |r| {
        r.get(0)
    })
    .expect("query")
}

#[test]
fn kill_nine_loses_at_most_the_last_batch() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("history.sqlite");
    let mut rng = SmallRng::seed_from_u64(42);
    for round in 0..22 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_plantview"))
            .args([
                "bench",
                "history-child",
                "--rate",
                &RATE.to_string(),
                "--db",
            ])
            .arg(&db)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start child");
        let stdout = child.stdout.take().expect("stdout");
        let reader = std::thread::Builder::new()
            .name("kill-test-reader".to_owned())
            .spawn(move || {
                let mut last = None;
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    if let Some(n) = line
                        .strip_prefix("queued ")
                        .and_then(|n| n.parse::<i64>().ok())
                    {
                        last = Some(n);
                    }
                }
                last
            })
            .expect("reader thread");
        let wait = Duration::from_millis(rng.random_range(300..1800));
        let t = Instant::now();
        std::thread::sleep(wait);
        child.kill().expect("kill -9");
        let _ = child.wait();
        let queued = reader.join().expect("reader").unwrap_or(-1);
        let stored = stored_max(&db).unwrap_or(-1);
        let lost = queued - stored;
        assert!(
            lost <= RATE * 12 / 10,
            "round {round}: killed after {:?}: {queued} queued, newest stored {stored}: lost {lost} samples (> 1 s)",
            t.elapsed()
        );
    }
    let conn = rusqlite::Connection::open(&db).expect("open");
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("check");
    assert_eq!(check, "ok");
    let (count, max): (i64, i64) = conn
        .query_row(
            "SELECT COUNT(*), MAX(ts) FROM samples WHERE tag = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("count");
    assert_eq!(
        count,
        max + 1,
        "no hole: every sample up to the newest stored one is there"
    );
    assert!(max > RATE * 5, "recorded a meaningful amount ({max})");
}
