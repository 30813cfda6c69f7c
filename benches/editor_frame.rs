//! Frame cost of edit mode: a screen of 500 widgets on the canvas (20 selected, handles and
//! outlines drawn), the inspector, and the topic browser open over 10,000 topics, beside the
//! same 500 widgets on the running screen (the baseline) in the same run. Budget: 8 ms of CPU
//! per frame (UI pass + tessellation, 1480×900). Run: `cargo bench --bench editor_frame`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use plantview::engine::{self, EngineHandle, EngineOptions};
use plantview::gui::editor::Editor;
use plantview::gui::images::ImageCache;
use plantview::gui::screen::{MiniTrends, ScreenContext, screen_ui};
use plantview::gui::theme::{self, Theme};

const WIDGETS: usize = 500;
const TOPICS: usize = 10_000;
const BUDGET: Duration = Duration::from_millis(8);

/// 250 tags and a screen of 500 widgets bound to them, in a grid.
fn project(dir: &std::path::Path) -> plantview::project::Project {
    let tags: Vec<String> = (0..WIDGETS / 2)
        .map(|i| {
            format!(r#"{{ "name": "U{i}.Temp", "topic": "site/u{i}/temp", "unit": "°C", "range": {{ "min": 0, "max": 100 }} }}"#)
        })
        .collect();
    let kinds = ["value", "bar", "lamp", "value", "gauge"];
    let widgets: Vec<String> = (0..WIDGETS)
        .map(|i| {
            let (x, y) = ((i % 25) as f32 * 76.0, (i / 25) as f32 * 46.0);
            format!(
                r#"{{ "id": "w{i}", "kind": "{}", "x": {x}, "y": {y}, "w": 72, "h": 42, "tag": "U{}.Temp" }}"#,
                kinds[i % kinds.len()],
                i / 2
            )
        })
        .collect();
    std::fs::create_dir_all(dir.join("screens")).expect("dir");
    std::fs::write(
        dir.join("project.json"),
        format!(
            r#"{{ "format": 1, "name": "Editor bench", "broker": {{ "mode": "embedded", "listen": "127.0.0.1:0" }}, "tags": [{}] }}"#,
            tags.join(",")
        ),
    )
    .expect("write");
    std::fs::write(
        dir.join("screens/big.json"),
        format!(
            r#"{{ "format": 1, "title": "Big", "size": [1900, 940], "widgets": [{}] }}"#,
            widgets.join(",")
        ),
    )
    .expect("write");
    plantview::project::load(dir).expect("bench project loads")
}

struct Bench {
    ctx: egui::Context,
    theme: Theme,
    engine: EngineHandle,
    images: ImageCache,
    minis: MiniTrends,
}

impl Bench {
    fn input() -> egui::RawInput {
        egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(
                egui::Pos2::ZERO,
                egui::vec2(1480.0, 900.0),
            )),
            ..Default::default()
        }
    }

    fn editor_frame(&mut self, ed: &mut Editor) -> usize {
        let out = self.ctx.run_ui(Self::input(), |ui| {
            let _ = ed.ui(ui, &self.engine, &self.theme, &self.images, &mut self.minis);
        });
        self.ctx.tessellate(out.shapes, out.pixels_per_point).len()
    }

    fn runtime_frame(&mut self) -> usize {
        let project = self.engine.project.clone();
        let out = self.ctx.run_ui(Self::input(), |ui| {
            egui::CentralPanel::default().show(ui, |ui| {
                let cx = ScreenContext {
                    project: &project,
                    store: &self.engine.tags,
                    theme: &self.theme,
                    alarms: None,
                    images: &self.images,
                };
                let _ = screen_ui(
                    ui,
                    &cx,
                    &project.screens[0],
                    &Default::default(),
                    &mut self.minis,
                );
            });
        });
        self.ctx.tessellate(out.shapes, out.pixels_per_point).len()
    }
}

fn thread_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

/// Mean CPU and wall p50/p99 per frame over 200 frames.
fn measure(name: &str, mut frame: impl FnMut() -> usize) -> Duration {
    const FRAMES: u32 = 200;
    let cpu_before = thread_cpu();
    let mut times: Vec<Duration> = (0..FRAMES)
        .map(|_| {
            let t = Instant::now();
            black_box(frame());
            t.elapsed()
        })
        .collect();
    let cpu = cpu_before
        .zip(thread_cpu())
        .map_or(Duration::ZERO, |(a, b)| b.saturating_sub(a) / FRAMES);
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    eprintln!(
        "{name}: CPU {:.2} ms/frame, wall p50 {:.2} ms, p99 {:.2} ms ({} the {} ms budget)",
        ms(cpu),
        ms(times[times.len() / 2]),
        ms(times[times.len() * 99 / 100]),
        if cpu <= BUDGET { "within" } else { "OVER" },
        BUDGET.as_millis()
    );
    cpu
}

fn editor_frame(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tmp");
    let project = project(dir.path());
    let options = EngineOptions {
        no_history: true,
        simulator: Some(false),
        data_dir: Some(dir.path().join("data")),
        ..Default::default()
    };
    let engine = engine::start(project.clone(), &options).expect("engine");
    // 10,000 topics in the browser (recorded directly: the tree is what the GUI reads).
    let browser = engine.topic_browser().expect("browser");
    let now = engine::now_ms();
    for i in 0..TOPICS {
        let topic = format!("fleet/site{}/dev{i}/value", i % 20);
        browser
            .tree()
            .record(&topic, format!("{}.5", i % 97).as_bytes(), i % 3 == 0, now);
    }
    // Live, good values (a running plant): every tag has a number.
    for i in 0..WIDGETS / 2 {
        if let Some(id) = engine.tags.id(&format!("U{i}.Temp")) {
            engine.tags.set_value(
                id,
                plantview::engine::Value::Number(20.0 + (i % 60) as f64 * 0.7),
                now,
                now,
            );
        }
    }
    let ctx = egui::Context::default();
    theme::install_fonts(&ctx);
    let theme = Theme::light();
    theme.apply(&ctx);
    let minis = MiniTrends::new(engine.project.clone(), engine.tags.clone(), None);
    let mut bench = Bench {
        ctx,
        theme,
        engine,
        images: ImageCache::default(),
        minis,
    };

    let mut ed = Editor::new(project, 0);
    ed.selection = (0..20).map(|i| format!("w{i}")).collect();
    ed.show_topics("");
    // Warm up (fonts, galley caches), as a running app would be.
    for _ in 0..20 {
        bench.editor_frame(&mut ed);
        bench.runtime_frame();
    }
    let base = measure("running screen, 500 widgets (baseline)", || {
        bench.runtime_frame()
    });
    let edit = measure("edit mode, 500 widgets, 20 selected, 10,000 topics", || {
        bench.editor_frame(&mut ed)
    });
    ed.show_topics("dev12");
    let filtered = measure("edit mode, topic filter `dev12`", || {
        bench.editor_frame(&mut ed)
    });
    eprintln!(
        "edit mode / running screen: {:.2}×; filtered: {:.2}×",
        edit.as_secs_f64() / base.as_secs_f64().max(1e-9),
        filtered.as_secs_f64() / base.as_secs_f64().max(1e-9)
    );
    ed.show_topics("");
    // Worst case: the broker is lost and every value is hatched and badged.
    let (base_bad, edit_bad) = {
        let reason: std::sync::Arc<str> = std::sync::Arc::from("broker connection lost");
        let ids: Vec<_> = (0..WIDGETS / 2)
            .filter_map(|i| bench.engine.tags.id(&format!("U{i}.Temp")))
            .collect();
        for &id in &ids {
            bench.engine.tags.set_quality(
                id,
                plantview::engine::Quality::Bad,
                Some(reason.clone()),
                now,
            );
        }
        let b = measure("running screen, every value BAD", || bench.runtime_frame());
        let e = measure("edit mode, every value BAD", || bench.editor_frame(&mut ed));
        for (i, &id) in ids.iter().enumerate() {
            bench.engine.tags.set_value(
                id,
                plantview::engine::Value::Number(20.0 + (i % 60) as f64 * 0.7),
                now,
                now,
            );
        }
        (b, e)
    };
    eprintln!(
        "every value bad: edit mode / running screen {:.2}×",
        edit_bad.as_secs_f64() / base_bad.as_secs_f64().max(1e-9)
    );

    let mut group = c.benchmark_group("editor_frame");
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("running screen 500 widgets (baseline)", |b| {
        b.iter(|| black_box(bench.runtime_frame()))
    });
    group.bench_function("edit mode 500 widgets + 10k topics", |b| {
        b.iter(|| black_box(bench.editor_frame(&mut ed)));
    });
    group.finish();
}

criterion_group!(benches, editor_frame);
criterion_main!(benches);
