//! Shift reports from real SQLite files: every aggregate equal to a brute force over the raw
//! samples (two tags, three shifts, a gap across a shift change, bad samples), time in alarm
//! against a journal written by the alarm journal writer, the note when there is no journal;
//! and the export job's progress (reaches its total) and cancellation (no file left behind).

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use plantview::alarms::{self, AlarmConfig, Machine};
use plantview::engine::{Quality, Value};
use plantview::history::{self, Sample, Stored};
use plantview::report::{
    ExportKind, ExportRequest, PeriodSpec, Progress, ReportError, TagSelection, TimeZoneChoice,
    run_export,
};

/// 2023-11-14T00:00:00Z.
const T0: i64 = 1_699_920_000_000;
const H: i64 = 3_600_000;
const SHIFT: i64 = 8 * H;

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

/// Tag A: every 10 min from 1 h before the range, nothing from 05:00 to 11:00 (a gap across
/// the 08:00 shift change), bad samples at 13:00 and 20:30. Tag B: every 7 min, uncertain at 08:59.
fn make_history(path: &Path) -> Vec<(String, Sample)> {
    let mut conn = history::open_writer(path).expect("open");
    let ids = history::tag_ids(&conn, &[("A", "bar"), ("B", "°C")]).expect("ids");
    let mut rows = Vec::new();
    let mut t = T0 - H;
    while t < T0 + 3 * SHIFT + H {
        let gap = (T0 + 5 * H..T0 + 11 * H).contains(&t);
        if !gap {
            let bad = t == T0 + 13 * H || t == T0 + 20 * H + 30 * 60_000;
            let k = (t - T0) / 600_000;
            rows.push((
                "A".to_owned(),
                Sample {
                    tag: ids[0],
                    ts_ms: t,
                    value: if bad {
                        Stored::None
                    } else {
                        Stored::Number(5.0 + (k % 13) as f64 * 0.5)
                    },
                    quality: if bad { Quality::Bad } else { Quality::Good },
                },
            ));
        }
        t += 600_000;
    }
    let mut t = T0 - 3 * 420_000;
    while t < T0 + 3 * SHIFT {
        let bad = t == T0 + 77 * 420_000; // 08:59
        let k = (t - T0) / 420_000;
        rows.push((
            "B".to_owned(),
            Sample {
                tag: ids[1],
                ts_ms: t,
                value: Stored::Number(60.0 + (k % 7) as f64 * 1.25),
                quality: if bad {
                    Quality::Uncertain
                } else {
                    Quality::Good
                },
            },
        ));
        t += 420_000;
    }
    assert!(
        rows.iter()
            .any(|(t, s)| t == "B" && s.quality != Quality::Good),
        "B has a bad sample"
    );
    let samples: Vec<Sample> = rows.iter().map(|(_, s)| s.clone()).collect();
    history::insert_batch(&mut conn, &samples).expect("insert");
    rows
}

struct Want {
    min: Option<f64>,
    max: Option<f64>,
    avg: Option<f64>,
    twavg: Option<f64>,
    count: u64,
    bad: u64,
    first: Option<f64>,
    last: Option<f64>,
}

/// The documented rules, computed the slow way over the raw samples of one tag.
fn brute_force(all: &[&Sample], a: i64, b: i64, to: i64) -> Want {
    let inside: Vec<&Sample> = all
        .iter()
        .copied()
        .filter(|s| s.ts_ms >= a && s.ts_ms < b)
        .collect();
    let good: Vec<f64> = inside
        .iter()
        .filter(|s| s.quality == Quality::Good)
        .filter_map(|s| match s.value {
            Stored::Number(v) => Some(v),
            _ => None,
        })
        .collect();
    // Held from each good sample (or from the range start, for the sample before it) until the
    // next sample of any quality, the last until the end of the range.
    let (mut sum, mut ms) = (0.0, 0i64);
    for (i, s) in all.iter().enumerate() {
        let next = all.get(i + 1).map_or(to, |n| n.ts_ms.min(to));
        if let (Stored::Number(v), Quality::Good) = (&s.value, s.quality) {
            let (s0, s1) = (s.ts_ms.max(a), next.min(b));
            if s1 > s0 {
                sum += v * (s1 - s0) as f64;
                ms += s1 - s0;
            }
        }
    }
    let n = good.len();
    Want {
        min: good.iter().copied().reduce(f64::min),
        max: good.iter().copied().reduce(f64::max),
        avg: (n > 0).then(|| good.iter().sum::<f64>() / n as f64),
        twavg: (ms > 0).then(|| sum / ms as f64),
        count: n as u64,
        bad: inside.iter().filter(|s| s.quality != Quality::Good).count() as u64,
        first: good.first().copied(),
        last: good.last().copied(),
    }
}

fn def(name: &str, tag: &str) -> AlarmConfig {
    serde_json::from_value(serde_json::json!({
        "name": name, "tag": tag, "kind": "hi", "limit": 1.0, "priority": "high"
    }))
    .expect("alarm definition")
}

/// A journal written by the alarm journal writer. A: A.Hi active from before the range to
/// 02:00 (not acknowledged), A.HiHi 01:00–03:00 (acknowledged at 01:30), A.Hi again 07:00–09:00
/// (across the shift change) and from 23:00 on (never cleared). B: 17:00–17:30.
fn make_journal(path: &Path) {
    let defs = [def("A.Hi", "A"), def("A.HiHi", "A"), def("B.Hi", "B")];
    let mut ms: Vec<Machine> = defs.iter().map(|d| alarms::restore(d, None)).collect();
    // (time, alarm, Some(condition) or None for an acknowledgement), in time order.
    let actions = [
        (T0 - H, 0, Some(true)),
        (T0 + H, 1, Some(true)),
        (T0 + 90 * 60_000, 1, None),
        (T0 + 2 * H, 0, Some(false)),
        (T0 + 3 * H, 1, Some(false)),
        (T0 + 7 * H, 0, Some(true)),
        (T0 + 9 * H, 0, Some(false)),
        (T0 + 17 * H, 2, Some(true)),
        (T0 + 17 * H + 30 * 60_000, 2, Some(false)),
        (T0 + 23 * H, 0, Some(true)),
    ];
    let mut log: Vec<(usize, alarms::AlarmEvent)> = Vec::new();
    for (t, i, action) in actions {
        let events = match action {
            Some(on) => ms[i].condition_changed(on, t, Some(Value::Number(2.0)), Some(1.0)),
            None => ms[i]
                .ack(
                    t,
                    alarms::Actor {
                        user: Some("anna"),
                        comment: None,
                    },
                )
                .into_iter()
                .collect(),
        };
        log.extend(events.into_iter().map(|e| (i, e)));
    }
    let mut conn = alarms::open_writer(path).expect("journal");
    alarms::append(&mut conn, log.iter().map(|(i, e)| (&defs[*i], e))).expect("append");
}

fn cell(rec: &csv::StringRecord, i: usize) -> Option<f64> {
    (!rec[i].is_empty()).then(|| rec[i].parse().expect("number"))
}

fn close(got: Option<f64>, want: Option<f64>, what: &str) {
    match (got, want) {
        (Some(g), Some(w)) => assert!((g - w).abs() < 1e-9, "{what}: {g} vs {w}"),
        _ => assert_eq!(got, want, "{what}"),
    }
}

#[test]
fn shift_report_equals_brute_force_with_time_in_alarm() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("history.sqlite");
    let rows = make_history(&db);
    make_journal(&alarms::journal_path(dir.path()));
    let out = dir.path().join("report.csv");
    let (ok, stdout, stderr) = export(&[
        "--history",
        db.to_str().expect("utf8"),
        "--report",
        "--tags",
        "A,B",
        "--utc",
        "--from",
        "2023-11-14T00:00:00Z",
        "--to",
        "2023-11-15T00:00:00Z",
        "--shift",
        "8h",
        "--out",
        out.to_str().expect("utf8"),
    ]);
    assert!(ok, "{stdout}{stderr}");
    assert!(!stderr.contains("note:"), "the journal was found: {stderr}");
    let mut r = csv::Reader::from_path(&out).expect("csv");
    assert_eq!(
        r.headers().expect("header"),
        vec![
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
            "time_in_alarm_s"
        ]
    );
    let recs: Vec<csv::StringRecord> = r.records().map(|x| x.expect("record")).collect();
    assert_eq!(recs.len(), 6, "3 shifts × 2 tags");
    let alarm_s = [[4.0 * 3600.0, 0.0], [3600.0, 0.0], [3600.0, 1800.0]];
    let to = T0 + 3 * SHIFT;
    for (i, rec) in recs.iter().enumerate() {
        let (shift, tag) = (i / 2, ["A", "B"][i % 2]);
        let (a, b) = (T0 + shift as i64 * SHIFT, T0 + (shift as i64 + 1) * SHIFT);
        let parse = |s: &str| {
            chrono::DateTime::parse_from_rfc3339(s)
                .expect("ISO 8601")
                .timestamp_millis()
        };
        assert!(rec[0].ends_with('Z'), "--utc: {}", &rec[0]);
        assert_eq!((parse(&rec[0]), parse(&rec[1])), (a, b), "row {i}");
        assert_eq!(&rec[2], tag);
        assert_eq!(&rec[3], if tag == "A" { "bar" } else { "°C" });
        let mut all: Vec<&Sample> = rows
            .iter()
            .filter(|(t, _)| t == tag)
            .map(|(_, s)| s)
            .filter(|s| s.ts_ms < to)
            .collect();
        // The sample in force at the start: the last one before it.
        let before = all.iter().rposition(|s| s.ts_ms < T0).unwrap_or(0);
        all.drain(..before);
        let w = brute_force(&all, a, b, to);
        let what = |c: &str| format!("shift {shift} tag {tag} {c}");
        close(cell(rec, 4), w.min, &what("min"));
        close(cell(rec, 5), w.max, &what("max"));
        close(cell(rec, 6), w.avg, &what("avg"));
        close(cell(rec, 7), w.twavg, &what("twavg"));
        assert_eq!(
            rec[8].parse::<u64>().ok(),
            Some(w.count),
            "{}",
            what("count")
        );
        assert_eq!(rec[9].parse::<u64>().ok(), Some(w.bad), "{}", what("bad"));
        close(cell(rec, 10), w.first, &what("first"));
        close(cell(rec, 11), w.last, &what("last"));
        close(
            cell(rec, 12),
            Some(alarm_s[shift][i % 2]),
            &what("time in alarm"),
        );
    }
    // The fixture has what the rules are about.
    assert!(recs.iter().any(|r| &r[9] != "0"), "bad samples counted");

    // Without a journal: the column is empty and stderr says why. Daily periods in UTC.
    let alone = tempfile::tempdir().expect("tmp");
    let db2 = alone.path().join("history.sqlite");
    std::fs::copy(&db, &db2).expect("copy");
    let out2 = alone.path().join("daily.csv");
    let (ok, stdout, stderr) = export(&[
        "--history",
        db2.to_str().expect("utf8"),
        "--report",
        "--all",
        "--utc",
        "--from",
        "2023-11-13T12:00:00Z",
        "--to",
        "2023-11-15T00:00:00Z",
        "--daily",
        "--out",
        out2.to_str().expect("utf8"),
    ]);
    assert!(ok, "{stdout}{stderr}");
    assert!(stderr.contains("no alarm journal"), "{stderr}");
    let recs: Vec<csv::StringRecord> = csv::Reader::from_path(&out2)
        .expect("csv")
        .records()
        .map(|x| x.expect("record"))
        .collect();
    let periods: Vec<(&str, &str)> = recs.iter().step_by(2).map(|r| (&r[0], &r[1])).collect();
    assert_eq!(
        periods,
        [
            ("2023-11-13T12:00:00.000Z", "2023-11-14T00:00:00.000Z"),
            ("2023-11-14T00:00:00.000Z", "2023-11-15T00:00:00.000Z")
        ]
    );
    assert!(recs.iter().all(|r| r[12].is_empty()));
}

#[test]
fn report_errors_are_clear() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("history.sqlite");
    make_history(&db);
    let out = dir.path().join("r.csv");
    let (db_s, out_s) = (db.to_str().expect("utf8"), out.to_str().expect("utf8"));
    let (ok, _, stderr) = export(&[
        "--history",
        db_s,
        "--report",
        "--tags",
        "Nope",
        "--out",
        out_s,
    ]);
    assert!(!ok && stderr.contains("unknown tag `Nope`"), "{stderr}");
    let (ok, _, stderr) = export(&[
        "--history",
        db_s,
        "--report",
        "--all",
        "--shift",
        "8x",
        "--out",
        out_s,
    ]);
    assert!(!ok && stderr.contains("--shift `8x`"), "{stderr}");
    let garbage = dir.path().join("garbage.sqlite");
    std::fs::write(&garbage, "not a database, just text").expect("write");
    let (ok, _, stderr) = export(&[
        "--history",
        garbage.to_str().expect("utf8"),
        "--report",
        "--all",
        "--out",
        out.to_str().expect("utf8"),
    ]);
    assert!(
        !ok && stderr.contains("cannot read history file"),
        "{stderr}"
    );
    assert!(!out.exists(), "nothing under the final name");
}

/// A history file with one tag of `n` rows, 10 ms apart from T0.
fn big_history(path: &Path, n: i64) {
    let mut conn = history::open_writer(path).expect("open");
    let id = history::tag_ids(&conn, &[("Big", "")]).expect("ids")[0];
    let rows: Vec<Sample> = (0..n)
        .map(|i| Sample {
            tag: id,
            ts_ms: T0 + i * 10,
            value: Stored::Number((i % 100) as f64),
            quality: Quality::Good,
        })
        .collect();
    history::insert_batch(&mut conn, &rows).expect("insert");
}

fn request(dir: &Path, kind: ExportKind, out: &str) -> ExportRequest {
    ExportRequest {
        history: dir.join("history.sqlite"),
        tags: TagSelection::All,
        from_ms: T0,
        to_ms: T0 + 86_400_000,
        kind,
        tz: TimeZoneChoice::Utc,
        out: dir.join(out),
    }
}

#[test]
fn progress_reaches_the_total_and_cancel_leaves_no_file() {
    const N: i64 = 400_000;
    let dir = tempfile::tempdir().expect("tmp");
    big_history(&dir.path().join("history.sqlite"), N);
    for kind in [
        ExportKind::Raw,
        ExportKind::Report {
            periods: PeriodSpec::Shift { length_ms: H },
        },
    ] {
        let req = request(dir.path(), kind, "done.csv");
        let progress = Progress::new();
        let outcome = run_export(&req, &progress).expect("export");
        assert!(progress.is_finished());
        assert_eq!(progress.total(), N as u64, "{kind:?}: total from count");
        assert_eq!(progress.done(), progress.total(), "{kind:?}");
        assert_eq!(progress.fraction(), Some(1.0));
        if kind == ExportKind::Raw {
            assert_eq!(outcome.rows, N as u64);
        }
        assert!(req.out.exists());
    }

    // Cancelled before it starts, and from another thread while it runs.
    for (kind, early) in [
        (ExportKind::Raw, true),
        (ExportKind::Raw, false),
        (
            ExportKind::Report {
                periods: PeriodSpec::Whole,
            },
            false,
        ),
    ] {
        let req = request(dir.path(), kind, "cancelled.csv");
        let progress = Arc::new(Progress::new());
        if early {
            progress.cancel();
        }
        let watcher = {
            let p = progress.clone();
            std::thread::Builder::new()
                .name("test-cancel".to_owned())
                .spawn(move || {
                    while p.done() == 0 && !p.is_finished() {
                        std::thread::sleep(std::time::Duration::from_micros(200));
                    }
                    p.cancel();
                })
                .expect("thread")
        };
        let result = run_export(&req, &progress);
        watcher.join().expect("watcher");
        assert!(
            matches!(result, Err(ReportError::Cancelled)),
            "{kind:?} early={early}: {result:?}"
        );
        assert!(progress.done() < N as u64, "stopped early");
        assert!(!req.out.exists(), "no final file");
        assert!(
            !plantview::report::partial_path(&req.out).exists(),
            "no partial file"
        );
    }
}
