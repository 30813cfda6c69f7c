//! Login in the real app (egui_kittest) on a project that requires it, with the engine, a real
//! Modbus server and a real broker: a viewer cannot open the setpoint dialog; an operator logs
//! in, writes, and the audit trail names them; after the inactivity time the lock screen hides
//! the plant while the alarm banner keeps updating; the password unlocks.

mod common;

use common::gui::{step_until, type_into};

use std::time::Duration;

use common::modbus_server::{Plant, UNIT, serve};
use common::{Publisher, write_project};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use plantview::engine::{self, EngineOptions};
use plantview::gui::PlantViewApp;
use plantview::security::{Role, Users};

fn log_in(h: &mut Harness<'_, PlantViewApp>, user: &str, password: &str) {
    step_until(h, "login dialog", |h| h.query_by_label("User").is_some());
    type_into(h, "User", user);
    type_into(h, "Password", password);
    h.get_by_label("Log in").click();
    h.run_steps(2);
}

#[test]
fn roles_decide_who_writes_and_the_lock_keeps_alarms_visible() {
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
  "name": "Secured",
  "broker": {{ "mode": "embedded", "listen": "{broker}" }},
  "security": {{ "login": "required", "lock_after_s": 60 }},
  "devices": [ {{ "name": "PLC", "address": "{addr}", "unit_id": {UNIT} }} ],
  "tags": [
    {{ "name": "AHU1.SupplySetpoint", "topic": "ahu1/sp", "unit": "°C",
       "write": {{ "device": "PLC",
                   "target": {{ "kind": "holding_register", "address": 10, "data_type": "f32", "min": 12.0, "max": 30.0 }} }} }},
    {{ "name": "AHU1.SupplyTemp", "topic": "ahu1/t", "unit": "°C" }}
  ],
  "alarms": [ {{ "name": "AHU1.SupplyTemp.Hi", "tag": "AHU1.SupplyTemp", "kind": "hi", "limit": 30.0,
                 "priority": "high", "message": "Supply air high", "area": "AHU1" }} ]
}}"#
    );
    let screen = r#"{ "format": 1, "title": "AHU", "widgets": [
    { "id": "sp", "kind": "setpoint", "x": 20, "y": 20, "w": 160, "h": 44, "tag": "AHU1.SupplySetpoint", "label": "Supply setpoint" } ] }"#;
    write_project(dir.path(), &project, &[("ahu", screen)]);
    let mut users = Users::load(dir.path()).expect("users");
    users.add("ada", Role::Admin, "admin-pass-12").expect("add");
    users
        .add("vic", Role::Viewer, "viewer-pass-1")
        .expect("add");
    users
        .add("olga", Role::Operator, "operator-pass-1")
        .expect("add");
    users.save().expect("save");

    let p = plantview::project::load(dir.path()).expect("valid project");
    let engine = engine::start(
        p,
        &EngineOptions {
            broker_listen: Some(broker),
            data_dir: Some(dir.path().join("data")),
            no_history: true,
            simulator: Some(false),
            ..Default::default()
        },
    )
    .expect("engine");
    let audit_path = plantview::security::audit_path(&engine.status().data_dir);
    let mut h = Harness::builder()
        .with_size([1400.0, 800.0])
        .build_ui_state(
            |ui, app: &mut PlantViewApp| app.ui_root(ui),
            PlantViewApp::new(engine),
        );
    h.run_steps(2);
    assert!(h.query_by_label_contains("No login — demo mode").is_none());

    // A wrong password is refused at the dialog.
    log_in(&mut h, "vic", "wrong");
    assert!(
        h.query_by_label_contains("wrong user name or password")
            .is_some()
    );
    assert!(h.state_mut().login().session.is_none());
    // The viewer: no setpoint dialog, and the refusal says why.
    h.get_by_label("Password").focus();
    h.step();
    for _ in 0..5 {
        h.key_press(egui::Key::Backspace);
    }
    type_into(&mut h, "Password", "viewer-pass-1");
    h.get_by_label("Log in").click();
    h.run_steps(2);
    assert_eq!(
        h.state_mut().login().session.as_ref().map(|s| s.role),
        Some(Role::Viewer)
    );
    assert!(h.query_by_label_contains("vic (viewer)").is_some());
    h.get_by_label_contains("Supply setpoint:").click();
    h.run_steps(3);
    assert!(
        h.query_by_label("Write…").is_none(),
        "a viewer gets no setpoint dialog"
    );
    assert!(
        h.query_by_label_contains("role viewer may not write setpoints")
            .is_some()
    );

    // The operator logs in and writes; the audit names her.
    h.get_by_label("Log out").click();
    h.run_steps(2);
    log_in(&mut h, "olga", "operator-pass-1");
    assert!(h.query_by_label_contains("olga (operator)").is_some());
    h.get_by_label_contains("Supply setpoint:").click();
    step_until(&mut h, "setpoint dialog", |h| {
        h.query_by_label("Write…").is_some()
    });
    h.get_by_label("New value (°C)").click();
    h.step();
    h.get_by_label("New value (°C)").type_text("21.5");
    h.step();
    h.get_by_label("Write…").click();
    step_until(&mut h, "confirmation step", |h| {
        h.query_by_label("Confirm write").is_some()
    });
    h.run_steps(3);
    h.get_by_label("Confirm write").click();
    step_until(&mut h, "write result", |h| {
        h.query_by_label_contains("confirmed by read-back")
            .is_some()
            || h.query_by_label_contains("FAILED").is_some()
    });
    let rows = plantview::security::AuditLog::open(&audit_path)
        .expect("audit")
        .recent(Some("AHU1.SupplySetpoint"), 5)
        .expect("rows");
    assert_eq!(
        rows.first().map(|r| (r.user.as_str(), r.result.as_str())),
        Some(("olga", "confirmed"))
    );

    // Idle past the lock time: the lock screen; an alarm raised now still shows in the banner.
    h.state_mut().login().set_idle_for(Duration::from_secs(61));
    h.run_steps(2);
    assert!(h.query_by_label("Workstation locked").is_some());
    assert!(
        h.query_by_label_contains("Supply setpoint:").is_none(),
        "the plant is out of reach"
    );
    let mut publisher = Publisher::connect(broker);
    publisher.publish("ahu1/t", "35.0");
    step_until(&mut h, "alarm in the banner while locked", |h| {
        h.query_by_label_contains("HIGH 1").is_some()
    });
    assert!(h.query_by_label("Workstation locked").is_some());
    // The password unlocks.
    type_into(&mut h, "Password", "operator-pass-1");
    h.get_by_label("Unlock").click();
    h.run_steps(2);
    assert!(h.query_by_label("Workstation locked").is_none());
    assert!(h.query_by_label_contains("Supply setpoint:").is_some());
    // Logins, the failed one and the lock are on the audit trail.
    let all = plantview::security::AuditLog::open(&audit_path)
        .expect("audit")
        .recent(None, 50)
        .expect("rows");
    let actions: Vec<(String, String, String)> = all
        .iter()
        .map(|r| (r.user.clone(), r.action.clone(), r.result.clone()))
        .collect();
    assert!(
        actions
            .iter()
            .any(|a| a.0 == "vic" && a.1 == "login" && a.2 == "failed"),
        "{actions:?}"
    );
    assert!(
        actions.iter().any(|a| a.0 == "olga" && a.1 == "logout"),
        "{actions:?}"
    );

    // Only an admin sees the users page; ada adds a user there, audited under her name.
    assert!(
        h.query_by_label("Users").is_none(),
        "an operator has no users page"
    );
    h.get_by_label("Log out").click();
    h.run_steps(2);
    log_in(&mut h, "ada", "admin-pass-12");
    h.get_by_label("Users").click();
    h.run_steps(2);
    type_into(&mut h, "New user", "carl");
    type_into(&mut h, "New password", "carl-pass-123");
    type_into(&mut h, "Repeat new password", "carl-pass-123");
    h.get_by_label("Add user").click();
    h.run_steps(2);
    assert!(
        h.query_by_label_contains("added `carl` with role operator")
            .is_some()
    );
    let users = Users::load(dir.path()).expect("users");
    assert_eq!(users.role_of("carl"), Some(Role::Operator));
    let added = plantview::security::AuditLog::open(&audit_path)
        .expect("audit")
        .recent(Some("carl"), 5)
        .expect("rows");
    assert!(
        added
            .iter()
            .any(|r| r.user == "ada" && r.action == "user_add"),
        "{added:?}"
    );
}
