//! The historian on real SQLite files: bucket queries equal brute force over the raw rows
//! (random data, every source), idempotent inserts, restart continuity, retention, and the
//! degraded path (locked database → queue → spill → resume) without losing a sample.

mod common;

use std::time::Duration;

use common::wait_for;
use plantview::engine::Quality;
use plantview::history::{
    self, Bucket, HistoryReader, Sample, Source, Stored, aligned_start, insert_batch, plan,
};
use rand::rngs::SmallRng;
use rand::{Rng as _, SeedableRng as _};

fn sample(tag: i64, ts: i64, v: f64) -> Sample {
    Sample {
        tag,
        ts_ms: ts,
        value: Stored::Number(v),
        quality: Quality::Good,
    }
}

fn bad(tag: i64, ts: i64) -> Sample {
    Sample {
        tag,
        ts_ms: ts,
        value: Stored::None,
        quality: Quality::Bad,
    }
}

/// Buckets computed the slow, obvious way from raw rows with the same edges.
fn brute_force(rows: &[Sample], tag: i64, from: i64, to: i64, n: usize) -> Vec<Bucket> {
    let (w, _) = plan(from, to, n);
    let start = aligned_start(from, w);
    let to = history::aligned_end(to, w);
    let mut out: Vec<Bucket> = Vec::new();
    let mut rows: Vec<&Sample> = rows
        .iter()
        .filter(|s| s.tag == tag && s.ts_ms >= start && s.ts_ms < to)
        .collect();
    rows.sort_by_key(|s| s.ts_ms);
    let mut b0 = start;
    while b0 < to {
        let in_b: Vec<&&Sample> = rows
            .iter()
            .filter(|s| s.ts_ms >= b0 && s.ts_ms < b0 + w)
            .collect();
        if !in_b.is_empty() {
            let good: Vec<f64> = in_b
                .iter()
                .filter(|s| s.quality == Quality::Good)
                .filter_map(|s| match s.value {
                    Stored::Number(v) => Some(v),
                    _ => None,
                })
                .collect();
            let count = good.len() as i64;
            out.push(Bucket {
                start: b0,
                end: b0 + w,
                count,
                min: good.iter().copied().fold(f64::INFINITY, f64::min),
                max: good.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                avg: good.iter().sum::<f64>() / count as f64,
                first: good.first().copied().unwrap_or(0.0),
                last: good.last().copied().unwrap_or(0.0),
                last_quality: in_b.last().map(|s| s.quality),
            });
        }
        b0 += w;
    }
    out
}

fn assert_same(got: &[Bucket], want: &[Bucket], ctx: &str) {
    assert_eq!(got.len(), want.len(), "{ctx}: bucket count");
    for (g, w) in got.iter().zip(want) {
        assert_eq!(
            (g.start, g.end, g.count, g.last_quality),
            (w.start, w.end, w.count, w.last_quality),
            "{ctx}"
        );
        if w.count > 0 {
            let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * (1.0 + b.abs());
            assert!(
                close(g.min, w.min) && close(g.max, w.max),
                "{ctx}: min/max {g:?} vs {w:?}"
            );
            assert!(close(g.avg, w.avg), "{ctx}: avg {g:?} vs {w:?}");
            assert!(
                close(g.first, w.first) && close(g.last, w.last),
                "{ctx}: first/last {g:?} vs {w:?}"
            );
        }
    }
}

#[test]
fn buckets_equal_brute_force_on_random_data() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("h.sqlite");
    let mut conn = history::open_writer(&path).expect("open");
    let ids = history::tag_ids(&conn, &[("A", ""), ("B", "")]).expect("ids");
    let mut rng = SmallRng::seed_from_u64(7);
    let t0 = 1_700_000_000_000_i64 + 12_345;
    let mut all = Vec::new();
    // Irregular samples over ~3 days on two tags, with bad periods, NaN-free values.
    for &tag in &ids {
        let mut t = t0;
        while t < t0 + 3 * 86_400_000 {
            t += rng.random_range(1..120_000);
            if rng.random_range(0..50) == 0 {
                all.push(bad(tag, t));
            } else {
                all.push(sample(tag, t, rng.random_range(-100.0..100.0)));
            }
        }
    }
    // Insert in random batch sizes and random order within the file's lifetime: summaries are
    // merged from many partial aggregates.
    let mut shuffled = all.clone();
    for i in (1..shuffled.len()).rev() {
        let j = rng.random_range(0..=i);
        shuffled.swap(i, j);
    }
    let mut i = 0;
    while i < shuffled.len() {
        let n = rng.random_range(1..500).min(shuffled.len() - i);
        insert_batch(&mut conn, &shuffled[i..i + n]).expect("insert");
        i += n;
    }
    // Re-inserting the same rows changes nothing (idempotent on (tag, ts)).
    assert_eq!(insert_batch(&mut conn, &all[..1000]).expect("again"), 0);

    let reader = HistoryReader::open(&path).expect("reader");
    let mut sources = std::collections::HashSet::new();
    for round in 0..60 {
        let tag = ids[round % 2];
        let from = t0 + rng.random_range(-3_600_000..2 * 86_400_000);
        let span = match round % 3 {
            0 => rng.random_range(1_000..3_600_000),           // raw
            1 => rng.random_range(3_600_000..86_400_000),      // minute summaries
            _ => rng.random_range(86_400_000..4 * 86_400_000), // hour summaries
        };
        let n = rng.random_range(1..2500);
        let got = reader.buckets(tag, from, from + span, n).expect("buckets");
        sources.insert(format!("{:?}", got.source));
        assert!(
            got.buckets.len() <= n + 1,
            "at most n (+1 for alignment) buckets"
        );
        let want = brute_force(&all, tag, from, from + span, n);
        assert_same(
            &got.buckets,
            &want,
            &format!("round {round} {:?} n={n}", got.source),
        );
    }
    assert_eq!(sources.len(), 3, "every source exercised: {sources:?}");
    // Raw and latest-before.
    let rows = reader.raw(ids[0], t0, t0 + 86_400_000).expect("raw");
    let want: Vec<_> = all
        .iter()
        .filter(|s| s.tag == ids[0] && s.ts_ms < t0 + 86_400_000)
        .collect();
    assert_eq!(rows.len(), want.len());
    let probe = want[want.len() / 2].ts_ms + 1;
    let latest = reader
        .latest_before(ids[0], probe)
        .expect("q")
        .expect("row");
    assert_eq!(latest.ts_ms, probe - 1);
    let _ = Source::Raw;
}

#[test]
fn retention_prunes_old_rows_in_chunks() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("h.sqlite");
    let mut conn = history::open_writer(&path).expect("open");
    let id = history::tag_ids(&conn, &[("A", "")]).expect("ids")[0];
    let rows: Vec<Sample> = (0..10_000)
        .map(|i| sample(id, i * 1000, i as f64))
        .collect();
    insert_batch(&mut conn, &rows).expect("insert");
    let cutoff = 6_000 * 1000;
    let mut total = 0;
    loop {
        let n = history::prune_chunk(&conn, cutoff, 0, 1_000).expect("prune");
        assert!(n <= 1_000, "chunked");
        total += n;
        if n == 0 {
            break;
        }
    }
    assert_eq!(total, 6_000);
    let reader = HistoryReader::open(&path).expect("reader");
    let left = reader.raw(id, 0, i64::MAX).expect("raw");
    assert_eq!(left.len(), 4_000);
    assert_eq!(left[0].ts_ms, cutoff);
}

#[test]
fn restart_continues_the_same_file() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("h.sqlite");
    for round in 0..3_i64 {
        let h = history::Historian::start_writer(&path, 400.0, 10_000).expect("writer");
        h.queue()
            .push((0..1000).map(|i| sample(1, round * 1_000_000 + i * 100, i as f64)));
        h.stop();
    }
    let reader = HistoryReader::open(&path).expect("reader");
    let rows = reader.raw(1, 0, i64::MAX).expect("raw");
    assert_eq!(rows.len(), 3000, "every round's samples, none lost at stop");
    let b = reader.buckets(1, 0, 3_000_000, 3).expect("buckets");
    assert_eq!(b.buckets.iter().map(|b| b.count).sum::<i64>(), 3000);
}

#[test]
fn locked_database_degrades_spills_and_recovers_without_loss() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("h.sqlite");
    let h = history::Historian::start_writer(&path, 400.0, 2_000).expect("writer");
    h.queue().push((0..500).map(|i| sample(1, i, 1.0)));
    wait_for(Duration::from_secs(10), "first rows written", || {
        (h.status().written == 500).then_some(())
    });

    // Another process-like connection takes an exclusive lock: every write now fails busy.
    let locker = rusqlite::Connection::open(&path).expect("open");
    locker.execute_batch("BEGIN EXCLUSIVE").expect("lock");
    h.queue().push((500..10_500).map(|i| sample(1, i, 2.0)));
    let st = wait_for(Duration::from_secs(20), "degraded and spilled", || {
        let s = h.status();
        (s.degraded.is_some() && s.spilled > 0).then_some(s)
    });
    assert!(
        st.degraded.as_deref().is_some_and(|d| d.contains("SQLite")),
        "{st:?}"
    );
    assert!(history::spill_path(&path).exists());
    assert_eq!(st.lost, 0);

    locker.execute_batch("ROLLBACK").expect("unlock");
    let st = wait_for(Duration::from_secs(20), "recovered", || {
        let s = h.status();
        (s.degraded.is_none() && s.spilled == 0 && s.queued == 0).then_some(s)
    });
    h.stop();
    assert_eq!(st.lost, 0);
    let reader = HistoryReader::open(&path).expect("reader");
    assert_eq!(
        reader.raw(1, 0, i64::MAX).expect("raw").len(),
        10_500,
        "nothing lost"
    );
    assert!(
        !history::spill_path(&path).exists(),
        "spill replayed and removed"
    );
}

#[test]
fn engine_records_changes_and_quality_gaps() {
    use plantview::engine::{self, EngineOptions};
    let dir = tempfile::tempdir().expect("tmp");
    let addr = common::free_addr_pair();
    let project = format!(
        r#"{{ "format": 1, "name": "H", "broker": {{ "mode": "embedded", "listen": "{addr}" }},
  "tags": [
    {{ "name": "T", "topic": "t", "history": {{ "deadband": 0.5 }} }},
    {{ "name": "Off", "topic": "off", "history": {{ "enabled": false }} }}
  ] }}"#
    );
    common::write_project(dir.path(), &project, &[]);
    let p = plantview::project::load(dir.path()).expect("valid");
    let h = engine::start(p, &EngineOptions::default()).expect("engine");
    wait_for(Duration::from_secs(10), "connected and subscribed", || {
        matches!(h.status().connection, plantview::mqtt::ConnState::Connected).then_some(())
    });
    let mut publisher = common::Publisher::connect(addr);
    for v in ["1.0", "1.2", "2.0", "oops", "3.0"] {
        publisher.publish("t", v);
        publisher.publish("off", v);
        std::thread::sleep(Duration::from_millis(20));
    }
    wait_for(Duration::from_secs(10), "last value", || {
        (h.tags.get_by_name("T")?.value == Some(plantview::engine::Value::Number(3.0)))
            .then_some(())
    });
    let path = history::history_path(&h.status().data_dir);
    h.shutdown(); // flushes
    let reader = HistoryReader::open(&path).expect("reader");
    let id = reader.tag_id("T").expect("q").expect("T recorded");
    let rows = reader.raw(id, 0, i64::MAX).expect("raw");
    let seen: Vec<(Option<f64>, Quality)> = rows.iter().map(|r| (r.value, r.quality)).collect();
    assert_eq!(
        seen,
        vec![
            (Some(1.0), Quality::Good),
            // 1.2 is inside the 0.5 deadband: not stored.
            (Some(2.0), Quality::Good),
            (None, Quality::Bad), // the garbage payload: a gap, not a line
            (Some(3.0), Quality::Good),
        ]
    );
    let off = reader.tag_id("Off").expect("q").expect("known");
    assert!(
        reader.raw(off, 0, i64::MAX).expect("raw").is_empty(),
        "history disabled"
    );
}

#[test]
fn demo_backfill_records_hours_of_plant_history() {
    let dir = tempfile::tempdir().expect("tmp");
    let project = plantview::project::load(&common::demo_project_dir()).expect("demo");
    let path = dir.path().join("history.sqlite");
    let end = 1_700_000_000_000;
    let report = plantview::sim::backfill(&project, &path, 2.0, end, "plant", 1).expect("backfill");
    assert_eq!((report.from_ms, report.to_ms), (end - 7_200_000, end));
    let reader = HistoryReader::open(&path).expect("reader");
    let id = reader
        .tag_id("AHU1.SupplyTemp")
        .expect("q")
        .expect("recorded");
    let rows = reader.raw(id, report.from_ms, report.to_ms).expect("raw");
    assert!(
        rows.len() > 3_000,
        "about one sample per second: {}",
        rows.len()
    );
    assert!(
        rows.iter()
            .all(|r| r.quality == Quality::Good && r.value.is_some())
    );
    // Idempotent: running it again adds nothing.
    let again = plantview::sim::backfill(&project, &path, 2.0, end, "plant", 1).expect("again");
    assert_eq!(again.samples, 0);
}
