//! The real app on the demo project with the engine running: a value published over MQTT shows
//! up on screen, found by its accessible label; quality is visible in the label.

mod common;

use std::time::{Duration, Instant};

use common::{Publisher, demo_project_dir, free_addr_pair};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use plantview::engine::{self, EngineOptions};
use plantview::gui::PlantViewApp;

fn step_until(
    harness: &mut Harness<'_, PlantViewApp>,
    what: &str,
    mut found: impl FnMut(&Harness<'_, PlantViewApp>) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        harness.step();
        if found(harness) {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn published_value_appears_on_the_overview() {
    let project = plantview::project::load(&demo_project_dir()).expect("demo loads");
    // The overview shows AHU1.SupplyTemp with its label.
    let overview = &project.screens[0];
    let widget = overview
        .file
        .widgets
        .iter()
        .find(|w| {
            w.tag.as_deref() == Some("AHU1.SupplyTemp")
                && w.kind == plantview::project::WidgetKind::Value
        })
        .expect("overview shows AHU1.SupplyTemp")
        .clone();
    let topic = project.tag("AHU1.SupplyTemp").expect("tag").topic.clone();
    let second_title = project.screens[1].file.title.clone();

    let addr = free_addr_pair();
    let data = tempfile::tempdir().expect("tmp");
    let options = EngineOptions {
        broker_listen: Some(addr),
        data_dir: Some(data.path().to_owned()),
        simulator: Some(false),
        ..Default::default()
    };
    let engine = engine::start(project, &options).expect("engine");
    let app = PlantViewApp::new(engine);
    let mut harness = Harness::builder()
        .with_size([1480.0, 900.0])
        .build_ui_state(|ui, app: &mut PlantViewApp| app.ui_root(ui), app);

    // Before any data: the widget says it has no good value.
    step_until(&mut harness, "bad quality label", |h| {
        h.query_by_label_contains(&format!("{}: ---", widget.label))
            .is_some()
    });
    let label = h_label(&harness, &widget.label);
    assert!(label.contains("(bad)"), "{label}");

    let mut publisher = Publisher::connect(addr);
    step_until(&mut harness, "engine connected", |h| {
        h.query_by_label_contains("MQTT connected").is_some()
    });
    publisher.publish(&topic, "42.5");
    step_until(&mut harness, "published value on screen", |h| {
        h.query_by_label_contains(&format!("{}: 42.5 °C", widget.label))
            .is_some()
    });
    let label = h_label(&harness, &widget.label);
    assert!(
        !label.contains("(bad)") && !label.contains("(stale)"),
        "{label}"
    );

    // Screen navigation by label.
    harness.get_by_label(&second_title).click();
    harness.step();
    assert_eq!(harness.state().current_screen(), 1);
}

fn h_label(harness: &Harness<'_, PlantViewApp>, prefix: &str) -> String {
    harness
        .get_by_label_contains(&format!("{prefix}: "))
        .accesskit_node()
        .label()
        .unwrap_or_default()
}
