//! `plantview analyze`: a history file opened with no plant attached — the file's tags are
//! listed, a pen added by name loads the last day from the file, and nothing connects anywhere.

mod common;

use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use plantview::gui::analyze::AnalyzeApp;

#[test]
fn analyze_opens_a_history_file_offline_and_draws_a_pen() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("history.sqlite");
    let project = plantview::project::load(&common::demo_project_dir()).expect("demo");
    // A day and a bit of the demo plant, ending a month ago: "last month's history file".
    let end = plantview::engine::now_ms() - 30 * 86_400_000;
    plantview::sim::backfill(&project, &path, 26.0, end, "plant", 3).expect("backfill");

    let app = AnalyzeApp::open(&path).expect("opens");
    let mut harness = Harness::builder()
        .with_size([1400.0, 850.0])
        .build_ui_state(|ui, app: &mut AnalyzeApp| app.ui_root(ui), app);
    harness.step();
    assert!(
        harness
            .query_by_label_contains("not connected to any plant")
            .is_some()
    );
    harness.get_by_label("Search tags").focus();
    harness.step();
    harness
        .get_by_label("Search tags")
        .type_text("AHU1.SupplyTemp");
    harness.step();
    harness.get_by_label("Add pen AHU1.SupplyTemp").click();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        harness.step();
        if harness.state_mut().page().loaded_buckets("AHU1.SupplyTemp") > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "history loaded from the file");
        std::thread::sleep(Duration::from_millis(20));
    }
    let page = harness.state_mut().page();
    assert!(
        !page.is_live(),
        "analysis starts on the file's last day, not on now"
    );
    let (from, to) = page.view_at(plantview::engine::now_ms());
    assert!(
        to <= end + 120_000 && to - from >= 23 * 3_600_000,
        "the last day in the file"
    );
}
