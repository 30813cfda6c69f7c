//! Frame cost of the trends page: 10 pens over 10 × 1,000,000 stored points, beside a baseline
//! of 10 pens over 10 × 1,000 points on the same time span, in the same run. A frame draws
//! buckets (≤ one per pixel column, two points each), not samples, so both cost about the same;
//! the budget is 4 ms per frame (UI pass + tessellation, 1400×900).
//!
//! The history files are built once (`insert_batch`, one transaction per tag; the summaries
//! come with it) and kept in `CARGO_TARGET_TMPDIR` for later runs. Run:
//! `cargo bench --bench trend_frame`.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use plantview::engine::{Quality, TagStore};
use plantview::gui::theme::{self, Theme};
use plantview::gui::trends::TrendsPage;
use plantview::history::{Sample, Stored, insert_batch, open_writer, tag_ids};
use plantview::project::Project;

const PENS: usize = 10;
/// 2025-01-01T00:00Z: a fixed span, so the big file can be reused across runs.
const START_MS: i64 = 1_735_689_600_000;
const BIG_POINTS: i64 = 1_000_000;
const SMALL_POINTS: i64 = 1_000;
/// 1,000,000 s ≈ 11.6 days: 1 Hz for the big file, one point per 1000 s for the small one.
const SPAN_MS: i64 = BIG_POINTS * 1000;
const BUDGET: Duration = Duration::from_millis(4);

fn tag_name(i: usize) -> String {
    format!("Bench.T{i}")
}

/// A project with the pens' tags (numbers with a range), written to `dir` and loaded.
fn project(dir: &Path) -> Project {
    let tags: Vec<String> = (0..PENS)
        .map(|i| {
            format!(
                r#"{{ "name": "{}", "topic": "bench/t{i}", "unit": "°C", "range": {{ "min": 0, "max": 100 }} }}"#,
                tag_name(i)
            )
        })
        .collect();
    let json = format!(
        r#"{{ "format": 1, "name": "Trend bench", "tags": [{}] }}"#,
        tags.join(",\n")
    );
    std::fs::create_dir_all(dir.join("screens")).expect("project dir");
    std::fs::write(dir.join("project.json"), json).expect("write project");
    plantview::project::load(dir).expect("bench project loads")
}

/// `points` samples per pen spread evenly over the span: a daily wave plus ripple, with one
/// bad hour in the middle (a quality gap to draw).
fn build_history(path: &Path, points: i64) {
    if path.exists() {
        return;
    }
    let started = Instant::now();
    let partial = path.with_extension("partial");
    for ext in ["partial", "partial-wal", "partial-shm"] {
        let _ = std::fs::remove_file(path.with_extension(ext));
    }
    let mut conn = open_writer(&partial).expect("open history");
    let names: Vec<String> = (0..PENS).map(tag_name).collect();
    let pairs: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "°C")).collect();
    let ids = tag_ids(&conn, &pairs).expect("tag ids");
    let interval = SPAN_MS / points;
    let gap = (SPAN_MS / 2)..(SPAN_MS / 2 + 3_600_000);
    for (i, id) in ids.iter().enumerate() {
        #[allow(clippy::cast_precision_loss)]
        let batch: Vec<Sample> = (0..points)
            .map(|k| {
                let t = k * interval;
                let bad = gap.contains(&t);
                let day = (t as f64) / 86_400_000.0 * std::f64::consts::TAU;
                let v = 50.0 + 30.0 * (day + i as f64).sin() + ((k * 7919) % 100) as f64 * 0.05;
                Sample {
                    tag: *id,
                    ts_ms: START_MS + t,
                    value: if bad { Stored::None } else { Stored::Number(v) },
                    quality: if bad { Quality::Bad } else { Quality::Good },
                }
            })
            .collect();
        insert_batch(&mut conn, &batch).expect("insert");
    }
    drop(conn);
    std::fs::rename(&partial, path).expect("rename history");
    eprintln!(
        "built {} ({} × {points} points) in {:.1} s",
        path.display(),
        PENS,
        started.elapsed().as_secs_f64()
    );
}

/// One UI frame of a page: the egui pass and tessellation, as eframe would run it.
struct Frame {
    ctx: egui::Context,
    theme: Theme,
}

impl Frame {
    fn new() -> Self {
        let ctx = egui::Context::default();
        theme::install_fonts(&ctx);
        let theme = Theme::light();
        theme.apply(&ctx);
        Self { ctx, theme }
    }

    fn run(&self, page: &mut TrendsPage) -> usize {
        let input = egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(
                egui::Pos2::ZERO,
                egui::vec2(1400.0, 900.0),
            )),
            ..Default::default()
        };
        let out = self.ctx.run_ui(input, |ui| page.ui(ui, &self.theme));
        self.ctx.tessellate(out.shapes, out.pixels_per_point).len()
    }
}

/// A page with all pens over the whole span, its history loaded at the real plot width.
fn loaded_page(project: &Arc<Project>, history: PathBuf, frame: &Frame) -> TrendsPage {
    let store = Arc::new(TagStore::new(
        project
            .file
            .tags
            .iter()
            .map(|t| (t.name.as_str(), t.stale_after_s)),
    ));
    let mut page = TrendsPage::new(project.clone(), store, Some(history));
    for i in 0..PENS {
        assert!(page.add_pen(&tag_name(i)));
    }
    page.set_range(START_MS, START_MS + SPAN_MS);
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut settled = 0;
    while settled < 10 {
        frame.run(&mut page);
        let ready = !page.is_loading() && page.pens().iter().all(|p| page.loaded_buckets(p) > 0);
        settled = if ready { settled + 1 } else { 0 };
        assert!(Instant::now() < deadline, "history did not load in time");
        std::thread::sleep(Duration::from_millis(10));
    }
    page
}

/// CPU time this thread has run so far (Linux `schedstat`): frame cost that other processes
/// on the machine cannot inflate.
fn thread_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

/// Frame times outside criterion (wall p50/p99 and mean thread CPU), against the budget.
fn report(name: &str, frame: &Frame, page: &mut TrendsPage) {
    const FRAMES: u32 = 300;
    let cpu_before = thread_cpu();
    let mut times: Vec<Duration> = (0..FRAMES)
        .map(|_| {
            let t = Instant::now();
            black_box(frame.run(page));
            t.elapsed()
        })
        .collect();
    let cpu = cpu_before
        .zip(thread_cpu())
        .map(|(before, after)| (after.saturating_sub(before)) / FRAMES);
    times.sort();
    let (p50, p99) = (times[times.len() / 2], times[times.len() * 99 / 100]);
    let pen = tag_name(0);
    let (segments, points) = page.line_stats(&pen).unwrap_or_default();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let cpu_text = cpu.map_or_else(
        || "CPU n/a".to_owned(),
        |c| {
            format!(
                "CPU {:.2} ms/frame ({} the {} ms budget)",
                ms(c),
                if c <= BUDGET { "within" } else { "OVER" },
                BUDGET.as_millis()
            )
        },
    );
    eprintln!(
        "{name}: {} buckets/pen, {segments} segments and {points} points drawn/pen; \
         wall p50 {:.2} ms, p99 {:.2} ms; {cpu_text}",
        page.loaded_buckets(&pen),
        ms(p50),
        ms(p99),
    );
}

fn trend_frame(c: &mut Criterion) {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("trend_frame");
    std::fs::create_dir_all(&dir).expect("bench dir");
    let project = Arc::new(project(&dir.join("project")));
    let small_path = dir.join(format!("history_{PENS}x{SMALL_POINTS}_v1.sqlite"));
    let big_path = dir.join(format!("history_{PENS}x{BIG_POINTS}_v1.sqlite"));
    build_history(&small_path, SMALL_POINTS);
    build_history(&big_path, BIG_POINTS);

    let small_frame = Frame::new();
    let big_frame = Frame::new();
    let mut small = loaded_page(&project, small_path, &small_frame);
    let mut big = loaded_page(&project, big_path, &big_frame);
    report("10 pens × 1,000 points", &small_frame, &mut small);
    report("10 pens × 1,000,000 points", &big_frame, &mut big);

    let mut group = c.benchmark_group("trend_frame");
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("10 pens x 1k points (baseline)", |b| {
        b.iter(|| black_box(small_frame.run(&mut small)));
    });
    group.bench_function("10 pens x 1M points", |b| {
        b.iter(|| black_box(big_frame.run(&mut big)));
    });
    group.finish();
}

criterion_group!(benches, trend_frame);
criterion_main!(benches);
