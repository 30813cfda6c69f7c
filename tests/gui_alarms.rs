//! The alarm banner in the real app: a value crosses Hi → the banner shows it (flashing,
//! unacknowledged) and the bound widget carries the priority → "Acknowledge" clicked → the
//! journal holds the acknowledgement with the operator's name.

mod common;

use std::time::{Duration, Instant};

use common::{Publisher, free_addr_pair, write_project};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use plantview::alarms::{EventKind, JournalQuery};
use plantview::engine::{self, EngineOptions};
use plantview::gui::PlantViewApp;

fn step_until(
    h: &mut Harness<'_, PlantViewApp>,
    what: &str,
    mut f: impl FnMut(&Harness<'_, PlantViewApp>) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        h.step();
        if f(h) {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn hi_alarm_shows_in_banner_and_ack_is_journaled_with_the_user() {
    let dir = tempfile::tempdir().expect("tmp");
    let addr = free_addr_pair();
    let project = format!(
        r#"{{
  "format": 1,
  "name": "Alarm test",
  "broker": {{ "mode": "embedded", "listen": "{addr}" }},
  "tags": [ {{ "name": "Boiler.Temp", "topic": "boiler/temp", "unit": "°C" }} ],
  "alarms": [
    {{ "name": "Boiler.Temp.Hi", "tag": "Boiler.Temp", "kind": "hi", "limit": 80.0,
       "priority": "high", "message": "Boiler temperature high", "area": "Boiler" }}
  ]
}}"#
    );
    let screen = r#"{ "format": 1, "title": "Boiler", "widgets": [
    { "id": "t", "kind": "value", "x": 20, "y": 20, "w": 160, "h": 44, "tag": "Boiler.Temp", "label": "Boiler" } ] }"#;
    write_project(dir.path(), &project, &[("boiler", screen)]);
    let p = plantview::project::load(dir.path()).expect("valid project");
    let options = EngineOptions {
        data_dir: Some(dir.path().join("data")),
        ..Default::default()
    };
    let engine = engine::start(p, &options).expect("engine");
    let journal = plantview::alarms::journal_path(&engine.status().data_dir);
    let mut harness = Harness::builder()
        .with_size([1400.0, 800.0])
        .build_ui_state(
            |ui, app: &mut PlantViewApp| app.ui_root(ui),
            PlantViewApp::new(engine),
        );
    step_until(&mut harness, "no alarms yet", |h| {
        h.query_by_label("No active alarms").is_some()
    });
    step_until(&mut harness, "connected", |h| {
        h.query_by_label_contains("MQTT connected").is_some()
    });

    let mut publisher = Publisher::connect(addr);
    publisher.publish("boiler/temp", "72.0");
    publisher.publish("boiler/temp", "85.5");
    step_until(&mut harness, "alarm in the banner", |h| {
        h.query_by_label_contains("Boiler.Temp.Hi").is_some()
    });
    assert!(
        harness.query_by_label("HIGH 1").is_some(),
        "count per priority"
    );
    // The bound widget carries the alarm (priority 2 = high), unacknowledged.
    step_until(&mut harness, "widget alarm marker", |h| {
        h.query_by_label_contains("Boiler: 85.5 °C, alarm priority 2 unacknowledged")
            .is_some()
    });

    harness.get_by_label("Acknowledge").click();
    step_until(&mut harness, "acknowledged in the banner", |h| {
        h.query_by_label("1 active, all acknowledged").is_some()
    });
    let conn = plantview::alarms::open_reader(&journal).expect("journal");
    let rows = plantview::alarms::query(
        &conn,
        &JournalQuery {
            events: vec![EventKind::Ack],
            limit: 10,
            ..Default::default()
        },
    )
    .expect("query");
    assert_eq!(rows.len(), 1, "one acknowledgement");
    let ack = &rows[0].event;
    assert_eq!(&*ack.alarm, "Boiler.Temp.Hi");
    assert_eq!(
        ack.user.as_deref(),
        Some(plantview::gui::alarms::operator().as_str())
    );
}

#[test]
fn summary_page_acknowledges_the_selected_alarm_with_a_comment() {
    use egui::accesskit::Role;
    let dir = tempfile::tempdir().expect("tmp");
    let addr = free_addr_pair();
    let project = format!(
        r#"{{
  "format": 1,
  "name": "Summary test",
  "broker": {{ "mode": "embedded", "listen": "{addr}" }},
  "tags": [ {{ "name": "A", "topic": "a" }}, {{ "name": "B", "topic": "b" }} ],
  "alarms": [
    {{ "name": "A.Hi", "tag": "A", "kind": "hi", "limit": 10.0, "priority": "critical", "area": "North" }},
    {{ "name": "B.Lo", "tag": "B", "kind": "lo", "limit": 0.0, "priority": "low", "area": "South" }}
  ]
}}"#
    );
    write_project(dir.path(), &project, &[]);
    let p = plantview::project::load(dir.path()).expect("valid project");
    let options = EngineOptions {
        data_dir: Some(dir.path().join("data")),
        ..Default::default()
    };
    let engine = engine::start(p, &options).expect("engine");
    let journal = plantview::alarms::journal_path(&engine.status().data_dir);
    let mut harness = Harness::builder()
        .with_size([1500.0, 800.0])
        .build_ui_state(
            |ui, app: &mut PlantViewApp| app.ui_root(ui),
            PlantViewApp::new(engine),
        );
    step_until(&mut harness, "connected", |h| {
        h.query_by_label_contains("MQTT connected").is_some()
    });
    let mut publisher = Publisher::connect(addr);
    publisher.publish("a", "20");
    publisher.publish("b", "-5");
    step_until(&mut harness, "two alarms", |h| {
        h.query_by_label("CRITICAL 1").is_some() && h.query_by_label("LOW 1").is_some()
    });
    harness.get_by_label("Alarm summary").click();
    step_until(&mut harness, "summary page", |h| {
        h.query_by_role_and_label(Role::CheckBox, "B.Lo").is_some()
    });
    harness.get_by_label("Comment:").click();
    harness.step();
    harness.get_by_label("Comment:").type_text("sensor check");
    harness
        .get_by_role_and_label(Role::CheckBox, "B.Lo")
        .click();
    harness.step();
    harness.get_by_label("Acknowledge selected").click();
    let conn_rows = || {
        let conn = plantview::alarms::open_reader(&journal).ok()?;
        let rows = plantview::alarms::query(
            &conn,
            &JournalQuery {
                events: vec![EventKind::Ack],
                limit: 10,
                ..Default::default()
            },
        )
        .ok()?;
        (!rows.is_empty()).then_some(rows)
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    let rows = loop {
        harness.step();
        if let Some(r) = conn_rows() {
            break r;
        }
        assert!(Instant::now() < deadline, "ack journaled");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(rows.len(), 1, "only the selected alarm");
    assert_eq!(&*rows[0].event.alarm, "B.Lo");
    assert_eq!(rows[0].event.comment.as_deref(), Some("sensor check"));
}
