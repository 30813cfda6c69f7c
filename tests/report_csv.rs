//! CSV exports from a real history file, read back with the csv crate: every value and
//! timestamp, RFC 4180 quoting of awkward tag names, aligned aggregates equal to a brute force,
//! clear errors, and no file under the final name when an export fails or is killed.

use std::path::Path;
use std::process::Command;

use plantview::engine::Quality;
use plantview::history::{self, Sample, Stored};

const T0: i64 = 1_700_000_000_000;

fn export(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_plantview"))
        .arg("export")
        .args(args)
        .output()
        .expect("run export");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A history file with an awkwardly named tag (comma and quotes), a bad period and a text tag.
fn make_history(path: &Path) -> (Vec<Sample>, i64, i64) {
    let mut conn = history::open_writer(path).expect("open");
    let ids = history::tag_ids(&conn, &[("Line 1, \"A\" temp", "°C"), ("Mode", "")]).expect("ids");
    let mut rows = Vec::new();
    for i in 0..600 {
        let ts = T0 + i * 1_000;
        let (value, quality) = if (200..260).contains(&i) {
            (Stored::None, Quality::Bad)
        } else {
            (Stored::Number(20.0 + (i % 17) as f64 * 0.25), Quality::Good)
        };
        rows.push(Sample {
            tag: ids[0],
            ts_ms: ts,
            value,
            quality,
        });
    }
    rows.push(Sample {
        tag: ids[1],
        ts_ms: T0 + 5_000,
        value: Stored::Text("auto, \"eco\"".into()),
        quality: Quality::Good,
    });
    history::insert_batch(&mut conn, &rows).expect("insert");
    (rows, ids[0], ids[1])
}

#[test]
fn raw_export_reads_back_exactly_with_quoting() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("history.sqlite");
    let (rows, _, _) = make_history(&db);
    let out = dir.path().join("raw.csv");
    let (ok, stdout, stderr) = export(&[
        "--history",
        db.to_str().expect("utf8"),
        "--all",
        "--utc",
        "--from",
        "2023-11-14T00:00:00Z",
        "--to",
        "2023-11-16T00:00:00Z",
        "--out",
        out.to_str().expect("utf8"),
    ]);
    assert!(ok, "{stdout}{stderr}");
    let mut r = csv::Reader::from_path(&out).expect("csv");
    assert_eq!(
        r.headers().expect("header"),
        vec!["time", "tag", "value", "quality"]
    );
    let got: Vec<csv::StringRecord> = r.records().map(|x| x.expect("record")).collect();
    assert_eq!(got.len(), rows.len());
    for rec in &got {
        let ts = chrono::DateTime::parse_from_rfc3339(&rec[0])
            .expect("ISO 8601")
            .timestamp_millis();
        let want = rows
            .iter()
            .find(|s| s.ts_ms == ts && (rec[1] == *"Mode") == matches!(s.value, Stored::Text(_)))
            .expect("row exists");
        match &want.value {
            Stored::Number(v) => assert_eq!(rec[2].parse::<f64>().expect("number"), *v),
            Stored::Text(t) => assert_eq!(&rec[2], &**t, "text with comma and quotes round-trips"),
            Stored::None => assert_eq!(&rec[2], ""),
        }
        assert_eq!(&rec[3], want.quality.as_str());
    }
    assert!(
        got.iter().any(|r| &r[1] == "Line 1, \"A\" temp"),
        "tag name with comma and quotes"
    );
    let text = std::fs::read_to_string(&out).expect("read");
    assert!(
        text.contains("\"Line 1, \"\"A\"\" temp\""),
        "RFC 4180 quoting"
    );
}

#[test]
fn aligned_aggregates_equal_brute_force() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("history.sqlite");
    let (rows, id, _) = make_history(&db);
    for agg in ["avg", "min", "max", "last", "twavg"] {
        let out = dir.path().join(format!("{agg}.csv"));
        let (ok, stdout, stderr) = export(&[
            "--history",
            db.to_str().expect("utf8"),
            "--tag",
            "Line 1, \"A\" temp",
            "--utc",
            "--from",
            "2023-11-14T22:13:20Z",
            "--to",
            "2023-11-14T22:23:20Z",
            "--interval",
            "1m",
            "--agg",
            agg,
            "--out",
            out.to_str().expect("utf8"),
        ]);
        assert!(ok, "{agg}: {stdout}{stderr}");
        let mut r = csv::Reader::from_path(&out).expect("csv");
        let recs: Vec<csv::StringRecord> = r.records().map(|x| x.expect("rec")).collect();
        assert_eq!(recs.len(), 10, "{agg}: ten 1-minute rows");
        for (i, rec) in recs.iter().enumerate() {
            let (a, b) = (T0 + i as i64 * 60_000, T0 + (i as i64 + 1) * 60_000);
            let good: Vec<(i64, f64)> = rows
                .iter()
                .filter(|s| {
                    s.tag == id && s.ts_ms >= a && s.ts_ms < b && s.quality == Quality::Good
                })
                .filter_map(|s| match s.value {
                    Stored::Number(v) => Some((s.ts_ms, v)),
                    _ => None,
                })
                .collect();
            let want: Option<f64> = match agg {
                "avg" => (!good.is_empty())
                    .then(|| good.iter().map(|g| g.1).sum::<f64>() / good.len() as f64),
                "min" => good.iter().map(|g| g.1).reduce(f64::min),
                "max" => good.iter().map(|g| g.1).reduce(f64::max),
                "last" => good.last().map(|g| g.1),
                _ => {
                    // Held until the next sample (the last one until the end of the export);
                    // a bad sample ends the hold.
                    let (mut sum, mut ms) = (0.0, 0i64);
                    let end = Sample {
                        tag: id,
                        ts_ms: T0 + 600_000,
                        value: Stored::None,
                        quality: Quality::Bad,
                    };
                    let mut all: Vec<&Sample> = rows.iter().filter(|s| s.tag == id).collect();
                    all.push(&end);
                    for w in all.windows(2) {
                        if let (Stored::Number(v), Quality::Good) = (&w[0].value, w[0].quality) {
                            let (s0, s1) = (w[0].ts_ms.max(a), w[1].ts_ms.min(b));
                            if s1 > s0 {
                                sum += v * (s1 - s0) as f64;
                                ms += s1 - s0;
                            }
                        }
                    }
                    (ms > 0).then(|| sum / ms as f64)
                }
            };
            match want {
                None => assert_eq!(&rec[1], "", "{agg} row {i}: empty when no data"),
                Some(w) => {
                    let g: f64 = rec[1].parse().expect("number");
                    assert!((g - w).abs() < 1e-9, "{agg} row {i}: {g} vs {w}");
                }
            }
        }
    }
}

#[test]
fn clear_errors_and_no_file_under_the_final_name() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("history.sqlite");
    make_history(&db);
    let out = dir.path().join("x.csv");
    let (ok, _, stderr) = export(&[
        "--history",
        db.to_str().expect("utf8"),
        "--tags",
        "Nope",
        "--out",
        out.to_str().expect("utf8"),
    ]);
    assert!(!ok);
    assert!(stderr.contains("unknown tag `Nope`"), "{stderr}");
    assert!(!out.exists());
    let (ok, _, stderr) = export(&[
        "--history",
        db.to_str().expect("utf8"),
        "--all",
        "--from",
        "yesterday-ish",
        "--out",
        out.to_str().expect("utf8"),
    ]);
    assert!(!ok);
    assert!(
        stderr.contains("--from") && stderr.contains("is not a time"),
        "{stderr}"
    );
    assert!(!out.exists());

    // A big export killed halfway leaves nothing under the final name.
    let big = dir.path().join("big.sqlite");
    {
        let mut conn = history::open_writer(&big).expect("open");
        let id = history::tag_ids(&conn, &[("Big", "")]).expect("ids")[0];
        let rows: Vec<Sample> = (0..2_000_000)
            .map(|i| Sample {
                tag: id,
                ts_ms: T0 + i,
                value: Stored::Number(i as f64),
                quality: Quality::Good,
            })
            .collect();
        history::insert_batch(&mut conn, &rows).expect("insert");
    }
    let out = dir.path().join("big.csv");
    let mut child = Command::new(env!("CARGO_BIN_EXE_plantview"))
        .args([
            "export",
            "--history",
            big.to_str().expect("utf8"),
            "--all",
            "--from",
            "2023-01-01",
            "--to",
            "now",
        ])
        .args(["--out", out.to_str().expect("utf8")])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    std::thread::sleep(std::time::Duration::from_millis(700));
    let _ = child.kill();
    let _ = child.wait();
    assert!(!out.exists(), "no half-written file under the final name");
}

/// The export before the fast path: the csv crate, chrono per row, `Display` for numbers.
fn reference_csv(rows: &[(String, Sample)]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["time", "tag", "value", "quality"])
        .expect("header");
    for (tag, s) in rows {
        let value = match &s.value {
            Stored::Number(v) => v.to_string(),
            Stored::Text(t) => t.to_string(),
            Stored::None => String::new(),
        };
        w.write_record([
            plantview::report::format_time(s.ts_ms, plantview::report::TimeZoneChoice::Utc),
            tag.clone(),
            value,
            s.quality.as_str().to_owned(),
        ])
        .expect("record");
    }
    w.into_inner().expect("flush")
}

#[test]
fn raw_export_is_byte_identical_to_the_csv_crate() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("history.sqlite");
    let (rows, a, b) = make_history(&db);
    // Awkward numbers too: long fractions, huge, tiny, negative, integers.
    let mut conn = history::open_writer(&db).expect("open");
    let c = history::tag_ids(&conn, &[("Z.odd", "")]).expect("ids")[0];
    let odd = [
        0.1 + 0.2,
        -0.5, // (SQLite stores -0.0 as 0: the unit tests cover -0)
        1e21,
        1.5e-9,
        758_131_403_148_092.3,
        -42.0,
        123_456.789_012_345_6,
        f64::MAX,
    ];
    let extra: Vec<Sample> = odd
        .iter()
        .enumerate()
        .map(|(i, v)| Sample {
            tag: c,
            ts_ms: T0 - 86_400_000 + i as i64 * 61_001,
            value: Stored::Number(*v),
            quality: Quality::Good,
        })
        .collect();
    history::insert_batch(&mut conn, &extra).expect("insert");
    drop(conn);
    // Tags in name order (as --all exports them), each in time order.
    let mut want: Vec<(String, Sample)> = Vec::new();
    for (id, name) in [(a, "Line 1, \"A\" temp"), (b, "Mode"), (c, "Z.odd")] {
        let mut of: Vec<&Sample> = rows.iter().chain(&extra).filter(|s| s.tag == id).collect();
        of.sort_by_key(|s| s.ts_ms);
        want.extend(of.into_iter().map(|s| (name.to_owned(), s.clone())));
    }
    let out = dir.path().join("raw.csv");
    let (ok, stdout, stderr) = export(&[
        "--history",
        db.to_str().expect("utf8"),
        "--all",
        "--utc",
        "--from",
        "2023-11-13T00:00:00Z",
        "--to",
        "2023-11-16T00:00:00Z",
        "--out",
        out.to_str().expect("utf8"),
    ]);
    assert!(ok, "{stdout}{stderr}");
    let got = std::fs::read(&out).expect("read");
    let want = reference_csv(&want);
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(&want)
    );
}

/// `VmHWM` and `VmRSS` (KiB) of a running process.
fn memory_kib(pid: u32) -> Option<(u64, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<u64> {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    };
    Some((field("VmHWM:")?, field("VmRSS:")?))
}

#[test]
fn a_big_raw_export_streams_in_constant_memory() {
    const ROWS: i64 = 2_000_000;
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("history.sqlite");
    big_history(&db, ROWS);
    let out = dir.path().join("big.csv");
    let partial = dir.path().join(".big.csv.partial");
    let mut child = spawn_export(&db, &out);
    // The child's own peak: VmHWM polled until it exits; the baseline is its RSS once the
    // export has started writing (the program is loaded, SQLite is open).
    let pid = child.id();
    let (mut start_rss, mut peak) = (None::<u64>, 0u64);
    let started = std::time::Instant::now();
    loop {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        if let Some((hwm, rss)) = memory_kib(pid) {
            if start_rss.is_none() && std::fs::metadata(&partial).is_ok_and(|m| m.len() > 0) {
                start_rss = Some(rss);
            }
            peak = peak.max(hwm);
        }
        assert!(started.elapsed().as_secs() < 120, "export took too long");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let output = child.wait_with_output().expect("wait");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let start = start_rss.expect("saw the export running");
    let growth_kib = peak.saturating_sub(start);
    eprintln!(
        "export of {ROWS} rows: RSS {start} KiB at start, peak {peak} KiB, +{growth_kib} KiB"
    );
    assert!(
        growth_kib < 64 * 1024,
        "peak RSS grew by {growth_kib} KiB while exporting {ROWS} rows: not streaming"
    );
    // Every row arrived.
    let size = std::fs::metadata(&out).expect("out").len();
    let lines = std::fs::read(&out)
        .expect("read")
        .iter()
        .filter(|b| **b == b'\n')
        .count();
    assert_eq!(lines as i64, ROWS + 1, "{size} bytes");
}

/// Ctrl+C during a CLI export: a non-zero exit, and neither the final file nor the partial one.
#[test]
fn ctrl_c_stops_an_export_and_leaves_no_file() {
    const ROWS: i64 = 1_000_000;
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("history.sqlite");
    big_history(&db, ROWS);
    let out = dir.path().join("big.csv");
    let partial = dir.path().join(".big.csv.partial");
    let mut child = spawn_export(&db, &out);
    let started = std::time::Instant::now();
    while !std::fs::metadata(&partial).is_ok_and(|m| m.len() > 0) {
        assert!(
            child.try_wait().ok().flatten().is_none(),
            "the export finished before it could be interrupted"
        );
        assert!(started.elapsed().as_secs() < 60, "export did not start");
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let output = child.wait_with_output().expect("wait");
    assert!(!output.status.success(), "an interrupted export fails");
    assert!(!out.exists(), "no final file");
    assert!(!partial.exists(), "no partial file");
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("cancel"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `rows` samples of one tag `Big`, 10 ms apart from T0, in batches of at most 500,000.
fn big_history(db: &std::path::Path, rows: i64) {
    let mut conn = history::open_writer(db).expect("open");
    let id = history::tag_ids(&conn, &[("Big", "")]).expect("ids")[0];
    let mut start = 0;
    while start < rows {
        let end = (start + 500_000).min(rows);
        let batch: Vec<Sample> = (start..end)
            .map(|i| Sample {
                tag: id,
                ts_ms: T0 + i * 10,
                value: Stored::Number(20.0 + (i % 977) as f64 * 0.01),
                quality: Quality::Good,
            })
            .collect();
        history::insert_batch(&mut conn, &batch).expect("insert");
        start = end;
    }
}

/// `plantview export --all` of `db` over the test's two days (UTC) into `out`, in a child.
fn spawn_export(db: &std::path::Path, out: &std::path::Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_plantview"))
        .args(["export", "--history", db.to_str().expect("utf8"), "--all"])
        .args([
            "--utc",
            "--from",
            "2023-11-14T00:00:00Z",
            "--to",
            "2023-11-16T00:00:00Z",
        ])
        .args(["--out", out.to_str().expect("utf8")])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn")
}
