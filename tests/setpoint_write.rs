//! Setpoint writes through the engine: `Command::WriteSetpoint` → the tag's device (a real
//! tokio-modbus server on 127.0.0.1) → read-back → a result event, with every attempt in the
//! audit trail; out-of-range values are refused with no request sent.

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::modbus_server::{Plant, UNIT, serve};
use common::write_project;
use plantview::engine::{self, Command, EngineEvent, EngineOptions};
use plantview::modbus::WriteOutcome;

#[test]
fn setpoint_write_is_confirmed_and_audited_and_out_of_range_is_refused_unsent() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let plant = Plant::new();
    let (addr, _server) = rt.block_on(serve(plant.clone(), "127.0.0.1:0".parse().expect("addr")));

    let dir = tempfile::tempdir().expect("tmp");
    let broker = common::free_addr_pair();
    let project = format!(
        r#"{{
  "format": 1,
  "name": "Writes",
  "broker": {{ "mode": "embedded", "listen": "{broker}" }},
  "devices": [ {{ "name": "AHU1-PLC", "address": "{addr}", "unit_id": {UNIT}, "timeout_ms": 1000, "retries": 3 }} ],
  "tags": [
    {{ "name": "AHU1.SupplySetpoint", "topic": "ahu1/sp", "unit": "°C",
       "write": {{ "device": "AHU1-PLC",
                   "target": {{ "kind": "holding_register", "address": 100, "data_type": "i16",
                                "scale": 0.1, "min": 12.0, "max": 30.0 }} }} }}
  ]
}}"#
    );
    write_project(dir.path(), &project, &[]);
    let p = plantview::project::load(dir.path()).expect("valid project");
    let h = engine::start(
        p,
        &EngineOptions {
            data_dir: Some(dir.path().join("data")),
            no_history: true,
            ..Default::default()
        },
    )
    .expect("engine");
    let mut events = h.events();
    let mut result_of = |id: u64| -> WriteOutcome {
        rt.block_on(async {
            tokio::time::timeout(Duration::from_secs(10), async {
                loop {
                    match events.recv().await {
                        Ok(EngineEvent::WriteResult {
                            id: got, outcome, ..
                        }) if got == id => {
                            return outcome;
                        }
                        Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                        Err(e) => panic!("events closed: {e}"),
                    }
                }
            })
            .await
            .expect("a write result within 10 s")
        })
    };
    let user = plantview::security::operator_name();
    // The device task connects in the background; a write before that says "not connected".
    let mut outcome = WriteOutcome::NotConnected {
        reason: String::new(),
    };
    for id in 1..50 {
        h.send(Command::WriteSetpoint {
            id,
            tag: "AHU1.SupplySetpoint".into(),
            value: 21.5,
            actor: plantview::security::Actor::open_mode(),
        })
        .expect("queued");
        outcome = result_of(id);
        if !matches!(outcome, WriteOutcome::NotConnected { .. }) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        matches!(outcome, WriteOutcome::Confirmed { readback } if (readback - 21.5).abs() < 1e-9),
        "{outcome:?}"
    );
    assert_eq!(
        plant.holding.lock()[100],
        215,
        "scaled raw value on the device"
    );

    let before = plant.requests.load(Ordering::SeqCst);
    h.send(Command::WriteSetpoint {
        id: 100,
        tag: "AHU1.SupplySetpoint".into(),
        value: 45.0,
        actor: plantview::security::Actor::open_mode(),
    })
    .expect("queued");
    let refused = result_of(100);
    assert!(
        matches!(&refused, WriteOutcome::Rejected { reason } if reason.contains("30")),
        "{refused:?}"
    );
    assert_eq!(
        plant.requests.load(Ordering::SeqCst),
        before,
        "nothing was sent"
    );

    let audit =
        plantview::security::AuditLog::open(&plantview::security::audit_path(&h.status().data_dir))
            .expect("audit");
    let rows = audit.recent(Some("AHU1.SupplySetpoint"), 10).expect("rows");
    let confirmed = rows
        .iter()
        .find(|r| r.result == "confirmed")
        .expect("confirmed write audited");
    assert_eq!(confirmed.user, user);
    assert_eq!(confirmed.device, "AHU1-PLC");
    assert_eq!(confirmed.requested.as_deref(), Some("21.5"));
    assert_eq!(confirmed.readback.as_deref(), Some("21.5"));
    assert!(!confirmed.workstation.is_empty());
    let rejected = rows
        .iter()
        .find(|r| r.result == "rejected")
        .expect("refusal audited");
    assert_eq!(rejected.requested.as_deref(), Some("45"));
    assert!(rejected.readback.is_none());
}

#[test]
fn operator_writes_a_setpoint_with_confirmation_and_finds_it_in_the_audit_trail() {
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable as _;
    use plantview::gui::PlantViewApp;

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let plant = Plant::new();
    let (addr, _server) = rt.block_on(serve(plant.clone(), "127.0.0.1:0".parse().expect("addr")));
    let dir = tempfile::tempdir().expect("tmp");
    let broker = common::free_addr_pair();
    let project = format!(
        r#"{{
  "format": 1,
  "name": "Writes",
  "broker": {{ "mode": "embedded", "listen": "{broker}" }},
  "devices": [ {{ "name": "PLC", "address": "{addr}", "unit_id": {UNIT}, "timeout_ms": 1000, "retries": 3 }} ],
  "tags": [
    {{ "name": "AHU1.SupplySetpoint", "topic": "ahu1/sp", "unit": "°C",
       "write": {{ "device": "PLC",
                   "target": {{ "kind": "holding_register", "address": 10, "data_type": "f32", "min": 12.0, "max": 30.0 }} }} }}
  ]
}}"#
    );
    let screen = r#"{ "format": 1, "title": "AHU", "widgets": [
    { "id": "sp", "kind": "setpoint", "x": 20, "y": 20, "w": 160, "h": 44, "tag": "AHU1.SupplySetpoint", "label": "Supply setpoint" } ] }"#;
    write_project(dir.path(), &project, &[("ahu", screen)]);
    let p = plantview::project::load(dir.path()).expect("valid project");
    let engine = engine::start(
        p,
        &EngineOptions {
            data_dir: Some(dir.path().join("data")),
            no_history: true,
            ..Default::default()
        },
    )
    .expect("engine");
    let audit_path = plantview::security::audit_path(&engine.status().data_dir);
    let mut harness = Harness::builder()
        .with_size([1400.0, 800.0])
        .build_ui_state(
            |ui, app: &mut PlantViewApp| app.ui_root(ui),
            PlantViewApp::new(engine),
        );
    let step_until = |h: &mut Harness<'_, PlantViewApp>,
                      what: &str,
                      f: &dyn Fn(&Harness<'_, PlantViewApp>) -> bool| {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            h.step();
            if f(h) {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "timed out waiting for {what}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    harness.run_steps(2);
    harness.get_by_label_contains("Supply setpoint:").click();
    step_until(&mut harness, "setpoint dialog", &|h| {
        h.query_by_label("Write…").is_some()
    });

    // Out of range: refused in the dialog, nothing sent.
    harness.get_by_label("New value (°C)").click();
    harness.step();
    harness.get_by_label("New value (°C)").type_text("45");
    harness.step();
    harness.get_by_label("Write…").click();
    step_until(&mut harness, "refusal", &|h| {
        h.query_by_label_contains("above the limit 30").is_some()
    });
    assert_eq!(plant.requests.load(Ordering::SeqCst), 0, "nothing sent");

    // In range: confirmation step, then the read-back confirms.
    harness.get_by_label("New value (°C)").click();
    harness.step();
    harness.key_press(egui::Key::Backspace);
    harness.step();
    harness.key_press(egui::Key::Backspace);
    harness.step();
    harness.get_by_label("New value (°C)").type_text("21.5");
    harness.step();
    harness.get_by_label("Write…").click();
    step_until(&mut harness, "confirmation step", &|h| {
        h.query_by_label("Confirm write").is_some()
    });
    assert!(
        harness.query_by_label_contains("→ 21.5 °C?").is_some(),
        "shows current → new"
    );
    // Let the window settle (it is placed and sized over the first frames), then confirm.
    harness.run_steps(3);
    harness.get_by_label("Confirm write").click();
    step_until(&mut harness, "write result", &|h| {
        h.query_by_label_contains("confirmed by read-back")
            .is_some()
            || h.query_by_label_contains("FAILED").is_some()
    });
    assert!(
        harness
            .query_by_label_contains("confirmed by read-back")
            .is_some(),
        "the write was confirmed"
    );
    let rows = plantview::security::AuditLog::open(&audit_path)
        .expect("audit")
        .recent(Some("AHU1.SupplySetpoint"), 5)
        .expect("rows");
    assert_eq!(rows.first().map(|r| r.result.as_str()), Some("confirmed"));
    assert_eq!(rows[0].user, plantview::security::operator_name());

    // The audit page lists it.
    harness.get_by_label("Audit trail").click();
    step_until(&mut harness, "audit row on the page", &|h| {
        h.query_by_label("confirmed").is_some()
            && h.query_all_by_label("PLC · holding register 10").count() == 2
    });
}
