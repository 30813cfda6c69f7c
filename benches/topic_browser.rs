//! Cost of the topic browser's tree rows at 10,000 topics (100 sites × 10 devices × 10 points),
//! beside a baseline of simply cloning the sorted topic list, in the same run. The budget for
//! `rows()` is 5 ms; a GUI calls it only when `version()` moved.
//!
//! Cases: collapsed (the first frame), everything expanded (10,000+ rows), a filter matching
//! every topic (the worst filter), a narrow filter; and `record` of a known topic (the ingest hot
//! path). Run: `cargo bench --bench topic_browser`.

use std::collections::HashSet;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use plantview::mqtt::TopicTree;

const BUDGET: Duration = Duration::from_millis(5);

fn topics() -> Vec<String> {
    let mut out = Vec::with_capacity(10_000);
    for site in 0..100 {
        for dev in 0..10 {
            for point in 0..10 {
                out.push(format!("plant/site{site:03}/dev{dev}/point{point}"));
            }
        }
    }
    out
}

fn tree(topics: &[String]) -> TopicTree {
    let t = TopicTree::new();
    for (i, topic) in topics.iter().enumerate() {
        let payload = format!(r#"{{"value": {}.5, "unit": "degC", "quality": "good"}}"#, i);
        t.record(topic, payload.as_bytes(), i % 7 == 0, 1_000 + i as i64);
    }
    t
}

/// Every path prefix, i.e. the whole tree expanded.
fn all_prefixes(topics: &[String]) -> HashSet<String> {
    let mut out = HashSet::new();
    for t in topics {
        for (i, c) in t.char_indices() {
            if c == '/' {
                out.insert(t[..i].to_owned());
            }
        }
    }
    out
}

/// Median of `runs` timings of `f`.
fn median(runs: usize, mut f: impl FnMut()) -> Duration {
    let mut v: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    v.sort();
    v[runs / 2]
}

fn bench(c: &mut Criterion) {
    let topics = topics();
    let mut sorted = topics.clone();
    sorted.sort();
    let t = tree(&topics);
    assert_eq!(t.len(), 10_000);
    let none = HashSet::new();
    let all = all_prefixes(&topics);
    let now = 20_000;

    let mut g = c.benchmark_group("topic_browser_10k");
    g.bench_function("baseline_clone_sorted_topics", |b| {
        b.iter(|| black_box(sorted.clone()));
    });
    g.bench_function("rows_collapsed", |b| {
        b.iter(|| black_box(t.rows(&none, "", now)));
    });
    g.bench_function("rows_all_expanded", |b| {
        b.iter(|| black_box(t.rows(&all, "", now)));
    });
    g.bench_function("rows_filter_all", |b| {
        b.iter(|| black_box(t.rows(&none, "PLANT", now)));
    });
    g.bench_function("rows_filter_narrow", |b| {
        b.iter(|| black_box(t.rows(&none, "site042/dev3", now)));
    });
    g.bench_function("record_known_topic", |b| {
        let mut i = 0usize;
        b.iter(|| {
            i = (i + 1) % topics.len();
            t.record(&topics[i], b"{\"value\": 21.5}", false, now);
        });
    });
    g.finish();

    // The summary: each case against the baseline, and the budget.
    let base = median(51, || drop(black_box(sorted.clone())));
    println!(
        "\nrows() at 10,000 topics (median of 51), baseline clone of the sorted list {base:?}:"
    );
    for (name, expanded, filter) in [
        ("collapsed", &none, ""),
        ("all expanded", &all, ""),
        ("filter matching all", &none, "PLANT"),
        ("filter narrow", &none, "site042/dev3"),
    ] {
        let mut n = 0;
        let d = median(51, || n = black_box(t.rows(expanded, filter, now)).len());
        println!(
            "  {name:<20} {n:>6} rows {d:>12?}  {:>6.2}× baseline  {}",
            d.as_secs_f64() / base.as_secs_f64(),
            if d < BUDGET {
                "within 5 ms"
            } else {
                "OVER 5 ms"
            }
        );
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
