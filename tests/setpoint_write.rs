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
            user: user.clone(),
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
        user: user.clone(),
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
