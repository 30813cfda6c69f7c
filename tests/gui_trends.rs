//! The trends page in a kittest harness: pens added from the tag search by label, a value
//! published over MQTT shows in the legend and reaches the plot through the historian; a
//! history file written directly is loaded as buckets (≤ one per pixel) with its quality gap;
//! Live/Pause, presets and Remove work by label.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Publisher, demo_project_dir, free_addr_pair};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use plantview::engine::{self, EngineOptions, Quality, TagStore, Value};
use plantview::gui::theme::{self, Theme};
use plantview::gui::trends::{TagTrendWindow, TrendsPage, mini_trend_ui};
use plantview::history::{Sample, Stored, history_path, insert_batch, open_writer, tag_ids};
use plantview::project::Project;

const TAG: &str = "AHU1.SupplyTemp";
const HOUR_MS: i64 = 3_600_000;

fn harness(page: TrendsPage) -> Harness<'static, TrendsPage> {
    let theme = Theme::light();
    Harness::builder()
        .with_size([1400.0, 900.0])
        .with_context_setup(theme::install_fonts)
        .build_ui_state(move |ui, page: &mut TrendsPage| page.ui(ui, &theme), page)
}

fn step_until(
    harness: &mut Harness<'_, TrendsPage>,
    what: &str,
    mut found: impl FnMut(&Harness<'_, TrendsPage>) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        harness.step();
        if found(harness) {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn demo_project() -> Project {
    plantview::project::load(&demo_project_dir()).expect("demo loads")
}

#[test]
fn pen_from_search_shows_published_value_live_and_from_history() {
    let project = demo_project();
    let topic = project.tag(TAG).expect("tag").topic.clone();
    let addr = free_addr_pair();
    let data = tempfile::tempdir().expect("tmp");
    let options = EngineOptions {
        broker_listen: Some(addr),
        data_dir: Some(data.path().to_owned()),
        simulator: Some(false),
        ..Default::default()
    };
    let engine = engine::start(project, &options).expect("engine");
    let path = history_path(&engine.status().data_dir);
    let page = TrendsPage::new(engine.project.clone(), engine.tags.clone(), Some(path));
    let mut harness = harness(page);
    assert!(harness.state().is_live(), "a new page follows now");

    harness.get_by_label("Search tags").focus();
    harness.step();
    harness.get_by_label("Search tags").type_text("supplytemp");
    harness.step();
    assert!(
        harness.query_by_label("Add pen AHU1.ReturnTemp").is_none(),
        "the search narrows the list"
    );
    harness.get_by_label(&format!("Add pen {TAG}")).click();
    harness.step();
    assert_eq!(harness.state().pens(), vec![TAG.to_owned()]);

    let mut publisher = Publisher::connect(addr);
    step_until(&mut harness, "engine connected", |_| {
        engine.status().connection == plantview::mqtt::ConnState::Connected
    });
    publisher.publish(&topic, "42.5");
    step_until(&mut harness, "legend shows the live value", |h| {
        h.query_by_label_contains("42.5 °C").is_some()
    });
    let label = harness
        .get_by_label_contains("42.5 °C")
        .accesskit_node()
        .value()
        .unwrap_or_default();
    assert!(
        !label.contains("(bad)") && !label.contains("(stale)"),
        "{label}"
    );
    // The legend reads the store; the tail is fed from the change feed at the next frame.
    step_until(&mut harness, "the live tail holds the value", |h| {
        h.state().tail_len(TAG) >= 1
    });

    // The historian flushes every second; the live page re-queries and draws it.
    step_until(&mut harness, "the value in the pen's history", |h| {
        h.state().history_range(TAG) == Some((42.5, 42.5))
    });
    let now = engine::now_ms();
    assert_eq!(harness.state().value_at(TAG, now), Some(42.5));
    // Live: about one refresh a second (10 min over ~1100 px), not one per frame.
    let sent = harness.state().requests_sent();
    let started = Instant::now();
    for _ in 0..100 {
        harness.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    let secs = started.elapsed().as_secs() + 1;
    let more = harness.state().requests_sent() - sent;
    assert!(
        more <= secs + 1,
        "{more} requests in about {secs} s for one pen"
    );
    let (segments, points) = harness.state().line_stats(TAG).expect("pen drawn");
    assert!(
        segments >= 1 && points >= 2,
        "{segments} segments, {points} points"
    );
}

/// One day of 1 Hz data for one tag, with an hour of bad quality (no value) from 12:00.
fn write_day(path: &std::path::Path, start_ms: i64) {
    let mut conn = open_writer(path).expect("open history");
    let ids = tag_ids(&conn, &[(TAG, "°C")]).expect("tag id");
    let batch: Vec<Sample> = (0..86_400_i64)
        .map(|s| {
            let ts_ms = start_ms + s * 1000;
            let bad = (12 * 3600..13 * 3600).contains(&s);
            #[allow(clippy::cast_precision_loss)]
            let v = 20.0 + 5.0 * (s as f64 * std::f64::consts::TAU / 3600.0).sin();
            Sample {
                tag: ids[0],
                ts_ms,
                value: if bad { Stored::None } else { Stored::Number(v) },
                quality: if bad { Quality::Bad } else { Quality::Good },
            }
        })
        .collect();
    assert_eq!(insert_batch(&mut conn, &batch).expect("insert"), 86_400);
}

fn project_and_store() -> (Arc<Project>, Arc<TagStore>) {
    let project = Arc::new(demo_project());
    let store = Arc::new(TagStore::new(
        project
            .file
            .tags
            .iter()
            .map(|t| (t.name.as_str(), t.stale_after_s)),
    ));
    (project, store)
}

fn page_without_engine(history: Option<std::path::PathBuf>) -> TrendsPage {
    let (project, store) = project_and_store();
    TrendsPage::new(project, store, history)
}

#[test]
fn historical_range_loads_at_most_one_bucket_per_pixel_with_quality_gap() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("history.sqlite");
    let start = (engine::now_ms() - 4 * 24 * HOUR_MS).div_euclid(HOUR_MS) * HOUR_MS;
    write_day(&path, start);

    let mut page = page_without_engine(Some(path));
    assert!(page.add_pen(TAG));
    assert!(!page.add_pen(TAG), "no duplicate pens");
    assert!(!page.add_pen("AHU1.Mode"), "text tags cannot be trended");
    assert!(!page.add_pen("No.Such.Tag"));
    page.set_range(start, start + 24 * HOUR_MS);
    let mut harness = harness(page);
    assert!(!harness.state().is_live());

    step_until(&mut harness, "buckets from the worker", |h| {
        h.state().loaded_buckets(TAG) > 0
    });
    // Settle: the first request used a guessed width, the next one the real plot width.
    for _ in 0..20 {
        harness.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    let sent = harness.state().requests_sent();
    for _ in 0..30 {
        harness.step();
    }
    assert_eq!(
        harness.state().requests_sent(),
        sent,
        "no requests while nothing changes"
    );
    let page = harness.state();
    let buckets = page.loaded_buckets(TAG);
    let width = page.plot_width_px();
    assert!(
        buckets <= width + 1 && buckets > width / 4,
        "{buckets} buckets for {width} px"
    );
    let (segments, points) = page.line_stats(TAG).expect("pen drawn");
    assert_eq!(segments, 2, "the bad hour splits the line");
    assert!(
        points <= 2 * buckets + 2,
        "{points} points for {buckets} buckets"
    );
    assert_eq!(
        page.value_at(TAG, start + 12 * HOUR_MS + 1_800_000),
        None,
        "gap"
    );
    let v = page
        .value_at(TAG, start + 6 * HOUR_MS + 60_000)
        .expect("value in the good period");
    assert!((14.9..=25.1).contains(&v), "{v}");
}

#[test]
fn live_pause_presets_and_remove_by_label() {
    let mut page = page_without_engine(None);
    assert!(page.add_pen(TAG));
    assert!(page.add_pen("AHU1.OutdoorTemp"));
    let mut harness = harness(page);
    harness.step();
    assert!(harness.query_by_label_contains("history off").is_some());
    assert!(harness.query_by_label("0 to 50 °C").is_some(), "pen range");

    harness.get_by_label("Pause").click();
    harness.step();
    assert!(!harness.state().is_live());
    let (from, to) = harness.state().view_at(engine::now_ms());
    harness.get_by_label("1 h").click();
    harness.step();
    assert_eq!(
        harness.state().view_at(engine::now_ms()),
        (to - HOUR_MS, to)
    );
    assert!(from < to);

    harness.get_by_label("Live").click();
    harness.step();
    assert!(harness.state().is_live());
    assert_eq!(harness.state().window_ms(), HOUR_MS);

    harness.get_by_label("Normalize").click();
    harness.step();
    harness.get_by_label(&format!("Remove pen {TAG}")).click();
    harness.step();
    assert_eq!(harness.state().pens(), vec!["AHU1.OutdoorTemp".to_owned()]);
}

struct Popups {
    window: TagTrendWindow,
    open: bool,
    mini: TrendsPage,
}

#[test]
fn trend_window_and_mini_trend() {
    let (project, store) = project_and_store();
    assert!(TagTrendWindow::new(project.clone(), store.clone(), None, "AHU1.Mode").is_none());
    let window = TagTrendWindow::new(project.clone(), store.clone(), None, TAG).expect("window");
    assert_eq!(window.page().window_ms(), HOUR_MS, "last hour");
    assert_eq!(window.page().pens(), vec![TAG.to_owned()]);
    let mut mini = TrendsPage::new(project, store.clone(), None);
    assert!(mini.add_pen("AHU1.OutdoorTemp"));

    let theme = Theme::light();
    let mut harness = Harness::builder()
        .with_size([1400.0, 900.0])
        .with_context_setup(theme::install_fonts)
        .build_ui_state(
            move |ui, p: &mut Popups| {
                let rect =
                    egui::Rect::from_min_size(egui::pos2(10.0, 10.0), egui::vec2(240.0, 60.0));
                mini_trend_ui(ui, rect, &mut p.mini, &theme);
                if p.open {
                    p.open = p.window.show(ui.ctx(), &theme);
                }
            },
            Popups {
                window,
                open: true,
                mini,
            },
        );
    let now = engine::now_ms();
    let id = store.id(TAG).expect("tag id");
    store.set_value(id, Value::Number(21.5), now, now);
    step_until_popups(&mut harness, |h| {
        h.query_by_label_contains("21.5 °C").is_some()
    });
    assert!(
        harness.query_by_label("Trend AHU1.SupplyTemp").is_some(),
        "window title"
    );
    assert!(
        harness.query_by_label("Search tags").is_none(),
        "no tag picker in the window"
    );
    assert!(
        harness
            .query_by_label("Trend of AHU1.OutdoorTemp")
            .is_some(),
        "mini trend"
    );
    assert_eq!(harness.state().window.page().tail_len(TAG), 1);
    assert_eq!(harness.state().window.page().value_at(TAG, now), Some(21.5));
}

fn step_until_popups(
    harness: &mut Harness<'_, Popups>,
    mut found: impl FnMut(&Harness<'_, Popups>) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        harness.step();
        if found(harness) {
            return;
        }
        assert!(Instant::now() < deadline, "timed out");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn drag_pans_into_history_and_wheel_zooms_time() {
    let mut page = page_without_engine(None);
    assert!(page.add_pen(TAG));
    let mut harness = harness(page);
    harness.step();
    let center = harness.get_by_label_contains("Trend of").rect().center();
    harness.hover_at(center);
    harness.step();
    harness.drag_at(center);
    harness.step();
    for i in 1..=4 {
        #[allow(clippy::cast_precision_loss)]
        harness.hover_at(center + egui::vec2(50.0 * i as f32, 0.0));
        harness.step();
    }
    harness.drop_at(center + egui::vec2(200.0, 0.0));
    harness.step();
    let now = engine::now_ms();
    let (from, to) = harness.state().view_at(now);
    assert!(!harness.state().is_live(), "a drag leaves live mode");
    assert!((to - from - 600_000).abs() <= 2, "panning keeps the span");
    assert!(
        to < now - 60_000,
        "the view moved into the past: {}",
        now - to
    );

    harness.hover_at(center);
    harness.step();
    harness.event(egui::Event::MouseWheel {
        unit: egui::MouseWheelUnit::Point,
        delta: egui::vec2(0.0, 100.0),
        phase: egui::TouchPhase::Move,
        source: egui::MouseWheelSource::Unknown,
        modifiers: egui::Modifiers::NONE,
    });
    for _ in 0..30 {
        harness.step();
    }
    let (zfrom, zto) = harness.state().view_at(now);
    assert!(
        zto - zfrom < 600_000 - 60_000,
        "the wheel zooms time in: {}",
        zto - zfrom
    );
    assert!(zfrom > from && zto < to, "around the pointer");
}
