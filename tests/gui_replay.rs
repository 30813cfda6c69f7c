//! Replay (egui_kittest): a project's screen runs from a real history file. The widget shows
//! the value recorded at the slider's time, the banner says REPLAY with that time, a sample
//! recorded bad shows bad, and a setpoint cannot be written.

mod common;

use common::gui::step_until;

use common::write_project;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use plantview::engine::Quality;
use plantview::gui::replay::ReplayApp;
use plantview::history::{Sample, Stored, insert_batch, open_writer, tag_ids};

/// 2026-11-02T00:00Z.
const T0: i64 = 1_793_577_600_000;
const MIN: i64 = 60_000;

#[test]
fn replay_shows_the_recorded_value_at_the_slider_time() {
    let dir = tempfile::tempdir().expect("tmp");
    write_project(
        dir.path(),
        r#"{ "format": 1, "name": "Replay test",
  "tags": [
    { "name": "Boiler.Temp", "topic": "b/t", "unit": "°C", "decimals": 1 },
    { "name": "Boiler.Setpoint", "topic": "b/sp", "unit": "°C", "decimals": 1,
      "write": { "device": "PLC", "target": { "kind": "holding_register", "address": 100, "data_type": "i16" } } }
  ],
  "devices": [ { "name": "PLC", "address": "127.0.0.1:9" } ] }"#,
        &[(
            "main",
            r#"{ "format": 1, "title": "Boiler", "widgets": [
  { "id": "t", "kind": "value", "x": 20, "y": 20, "w": 200, "h": 56, "tag": "Boiler.Temp", "label": "Boiler" },
  { "id": "sp", "kind": "setpoint", "x": 20, "y": 100, "w": 200, "h": 56, "tag": "Boiler.Setpoint", "label": "Setpoint" } ] }"#,
        )],
    );
    // One sample a minute for an hour: the value is the minute number; minute 30 was recorded
    // bad (the sensor failed), minute 31 good again.
    let history = dir.path().join("history.sqlite");
    let mut conn = open_writer(&history).expect("history");
    let ids = tag_ids(&conn, &[("Boiler.Temp", "°C"), ("Boiler.Setpoint", "°C")]).expect("ids");
    let mut batch: Vec<Sample> = (0..60)
        .map(|m| Sample {
            tag: ids[0],
            ts_ms: T0 + m * MIN,
            value: if m == 30 {
                Stored::None
            } else {
                Stored::Number(m as f64)
            },
            quality: if m == 30 { Quality::Bad } else { Quality::Good },
        })
        .collect();
    batch.push(Sample {
        tag: ids[1],
        ts_ms: T0,
        value: Stored::Number(55.0),
        quality: Quality::Good,
    });
    insert_batch(&mut conn, &batch).expect("insert");
    drop(conn);

    let project = plantview::project::load(dir.path()).expect("project");
    let app =
        ReplayApp::open(project, &history, Some(T0 + 12 * MIN + 30_000)).expect("replay opens");
    assert_eq!(app.span(), (T0, T0 + 59 * MIN));
    let mut h = Harness::builder()
        .with_size([1480.0, 900.0])
        .build_ui_state(|ui, app: &mut ReplayApp| app.ui_root(ui), app);

    step_until(&mut h, "minute 12", |h| {
        h.query_by_label_contains("Boiler: 12.0 °C").is_some()
    });
    assert!(
        h.query_by_label_contains("REPLAY — 2026-11-02").is_some(),
        "the banner says replay and the date"
    );

    // The slider moves: the value of that time.
    h.state_mut().set_time(T0 + 45 * MIN + 10_000);
    step_until(&mut h, "minute 45", |h| {
        h.query_by_label_contains("Boiler: 45.0 °C").is_some()
    });

    // A sample recorded bad shows bad (the last value, greyed), never a plausible good one.
    h.state_mut().set_time(T0 + 30 * MIN + 5_000);
    step_until(&mut h, "bad at minute 30", |h| {
        h.query_by_label_contains("Boiler: 29.0 °C (bad)").is_some()
    });

    // Writes are disabled.
    h.get_by_label_contains("Setpoint: 55.0 °C").click();
    h.run_steps(2);
    assert!(
        h.query_by_label_contains("Writes are disabled in replay")
            .is_some()
    );

    // Play at 3600×: time moves forward by itself.
    h.state_mut().set_time(T0);
    h.state_mut().set_playing(true, 3600.0);
    let start = h.state().time_ms();
    step_until(&mut h, "playback", |h| h.state().time_ms() > start + MIN);
}
