//! Roles enforced by the engine, not only the UI: every command kind for every role (and for a
//! command sent without login) is allowed or refused as specified, each refusal answered with
//! `refused: ...` and recorded in the audit trail with the user and role. Real parts: the
//! embedded broker on a free port, a real Modbus TCP server for the writes, the alarm journal.

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::modbus_server::{Plant, UNIT, serve};
use common::write_project;
use plantview::alarms::{AlarmCommand, ShelveFor};
use plantview::engine::{self, Command, EngineEvent, EngineHandle, EngineOptions};
use plantview::security::{Actor, AuditLog, Role, audit_path};

fn project_json(broker: std::net::SocketAddr, device: std::net::SocketAddr, login: &str) -> String {
    format!(
        r#"{{
  "format": 1,
  "name": "Roles",
  "broker": {{ "mode": "embedded", "listen": "{broker}" }},
  "security": {{ "login": "{login}", "operator_max_shelve_s": 3600 }},
  "devices": [ {{ "name": "PLC", "address": "{device}", "unit_id": {UNIT}, "timeout_ms": 1000, "retries": 1 }} ],
  "tags": [
    {{ "name": "Temp", "topic": "plant/temp" }},
    {{ "name": "SP", "topic": "plant/sp",
       "write": {{ "device": "PLC",
                   "target": {{ "kind": "holding_register", "address": 10, "data_type": "i16",
                                "min": 0.0, "max": 100.0 }} }} }}
  ],
  "alarms": [
    {{ "name": "Temp.Hi", "tag": "Temp", "kind": "hi", "limit": 50.0, "priority": "high" }}
  ]
}}"#
    )
}

struct Rig {
    rt: tokio::runtime::Runtime,
    plant: std::sync::Arc<Plant>,
    _server: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
    engine: EngineHandle,
    events: tokio::sync::broadcast::Receiver<EngineEvent>,
}

fn rig(login: &str) -> Rig {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let plant = Plant::new();
    let (device, server) = rt.block_on(serve(plant.clone(), "127.0.0.1:0".parse().expect("addr")));
    let dir = tempfile::tempdir().expect("tmp");
    let broker = common::free_addr_pair();
    write_project(dir.path(), &project_json(broker, device, login), &[]);
    let project = plantview::project::load(dir.path()).expect("valid project");
    let engine = engine::start(
        project,
        &EngineOptions {
            data_dir: Some(dir.path().join("data")),
            no_history: true,
            ..Default::default()
        },
    )
    .expect("engine");
    let events = engine.events();
    let mut rig = Rig {
        rt,
        plant,
        _server: server,
        _dir: dir,
        engine,
        events,
    };
    // The device connects in the background: wait until a write goes through.
    let setup = Actor::new("setup", Role::Admin);
    let connected = (1_000_000..1_000_100).any(|id| {
        let done = rig.run(Command::WriteSetpoint {
            id,
            tag: "SP".into(),
            value: 1.0,
            actor: setup.clone(),
        });
        let ok = matches!(&done, Ok(s) if s.starts_with("confirmed"));
        if !ok {
            std::thread::sleep(Duration::from_millis(50));
        }
        ok
    });
    assert!(connected, "the Modbus device never confirmed a write");
    rig
}

impl Rig {
    /// Send and wait for the answer: `Err(text)` when refused, else `Ok(summary)`.
    fn run(&mut self, command: Command) -> Result<String, String> {
        let id = command.id();
        self.engine.send(command).expect("queued");
        let events = &mut self.events;
        self.rt.block_on(async {
            tokio::time::timeout(Duration::from_secs(15), async {
                loop {
                    match events.recv().await {
                        Ok(EngineEvent::CommandResult { id: got, result }) if got == id => {
                            return result;
                        }
                        Ok(EngineEvent::WriteResult {
                            id: got, outcome, ..
                        }) if got == id => return Ok(outcome.to_string()),
                        Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                        Err(e) => panic!("events closed: {e}"),
                    }
                }
            })
            .await
            .expect("an answer within 15 s")
        })
    }
}

/// Every command kind, built for `actor`; `kind` names it in assertions.
fn commands(id0: u64, actor: &Actor) -> Vec<(&'static str, &'static str, Command)> {
    let user = "ignored-the-actor-counts".to_owned();
    let alarm = |id, command| Command::Alarm {
        id,
        actor: actor.clone(),
        command,
    };
    vec![
        (
            "publish",
            "publish",
            Command::Publish {
                id: id0,
                topic: "plant/cmd".into(),
                payload: b"start".to_vec(),
                retain: false,
                actor: actor.clone(),
            },
        ),
        (
            "write",
            "write",
            Command::WriteSetpoint {
                id: id0 + 1,
                tag: "SP".into(),
                value: 42.0,
                actor: actor.clone(),
            },
        ),
        (
            "ack",
            "alarm_ack",
            alarm(
                id0 + 2,
                AlarmCommand::Ack {
                    names: vec!["Temp.Hi".into()],
                    user: user.clone(),
                    comment: None,
                },
            ),
        ),
        (
            "reset",
            "alarm_reset",
            alarm(
                id0 + 3,
                AlarmCommand::Reset {
                    names: vec!["Temp.Hi".into()],
                    user: user.clone(),
                    comment: None,
                },
            ),
        ),
        (
            "shelve 10 min",
            "alarm_shelve",
            alarm(
                id0 + 4,
                AlarmCommand::Shelve {
                    name: "Temp.Hi".into(),
                    user: user.clone(),
                    shelve_for: ShelveFor::Seconds(600),
                    reason: "maintenance".into(),
                },
            ),
        ),
        (
            "shelve 2 h",
            "alarm_shelve",
            alarm(
                id0 + 5,
                AlarmCommand::Shelve {
                    name: "Temp.Hi".into(),
                    user: user.clone(),
                    shelve_for: ShelveFor::Seconds(7200),
                    reason: "maintenance".into(),
                },
            ),
        ),
        (
            "unshelve",
            "alarm_unshelve",
            alarm(
                id0 + 6,
                AlarmCommand::Unshelve {
                    name: "Temp.Hi".into(),
                    user: user.clone(),
                    comment: None,
                },
            ),
        ),
        (
            "out of service",
            "alarm_out_of_service",
            alarm(
                id0 + 7,
                AlarmCommand::SetOutOfService {
                    name: "Temp.Hi".into(),
                    out_of_service: true,
                    user: user.clone(),
                    reason: "sensor replaced".into(),
                },
            ),
        ),
        (
            "back in service",
            "alarm_out_of_service",
            alarm(
                id0 + 8,
                AlarmCommand::SetOutOfService {
                    name: "Temp.Hi".into(),
                    out_of_service: false,
                    user,
                    reason: String::new(),
                },
            ),
        ),
    ]
}

/// Whether `role` (`None`: no login) may run command `kind` in a login-required project whose
/// operators may shelve for at most one hour.
fn expected(role: Option<Role>, kind: &str) -> bool {
    let Some(role) = role else { return false };
    match kind {
        "publish" | "write" | "ack" | "reset" | "shelve 10 min" | "unshelve" => {
            role >= Role::Operator
        }
        "shelve 2 h" | "out of service" | "back in service" => role >= Role::Engineer,
        other => panic!("unknown kind {other}"),
    }
}

#[test]
fn every_command_for_every_role_is_allowed_or_refused_and_refusals_are_audited() {
    let mut rig = rig("required");
    let actors = [
        Actor {
            user: "nobody-logged-in".into(),
            role: None,
        },
        Actor::new("vera", Role::Viewer),
        Actor::new("otto", Role::Operator),
        Actor::new("erin", Role::Engineer),
        Actor::new("ada", Role::Admin),
    ];
    let mut refusals = Vec::new();
    let mut id0 = 1;
    for actor in &actors {
        for (kind, action, command) in commands(id0, actor) {
            let requests_before = rig.plant.requests.load(Ordering::SeqCst);
            let result = rig.run(command);
            let refused = matches!(&result, Err(e) if e.starts_with("refused:"));
            assert_eq!(
                !refused,
                expected(actor.role, kind),
                "{} ({}) {kind}: {result:?}",
                actor.user,
                actor.role_name()
            );
            if refused {
                assert_eq!(
                    rig.plant.requests.load(Ordering::SeqCst),
                    requests_before,
                    "a refused command sends nothing to the device"
                );
                refusals.push((actor.clone(), kind, action, result.unwrap_err()));
            } else {
                // Allowed writes reach the device; alarm commands are journaled.
                assert!(result.is_ok(), "{} {kind}: {result:?}", actor.user);
                if kind == "write" {
                    assert!(
                        result.as_deref().is_ok_and(|s| s.starts_with("confirmed")),
                        "{result:?}"
                    );
                }
            }
        }
        id0 += 100;
    }
    // The texts say who may not do what.
    let (_, _, _, text) = refusals
        .iter()
        .find(|(a, k, _, _)| a.role == Some(Role::Viewer) && *k == "write")
        .expect("viewer write refused");
    assert_eq!(text, "refused: role viewer may not write setpoints");
    let (_, _, _, text) = refusals
        .iter()
        .find(|(a, k, _, _)| a.role == Some(Role::Operator) && *k == "shelve 2 h")
        .expect("operator long shelve refused");
    assert!(text.contains("at most 3600 s"), "{text}");

    // Every refusal is in the audit trail, with user, role, action and what it was about.
    let log = AuditLog::open(&audit_path(&rig.engine.status().data_dir)).expect("audit");
    let rows = log.recent(None, 1000).expect("rows");
    for (actor, kind, action, text) in &refusals {
        let found = rows.iter().any(|r| {
            r.result == "refused"
                && r.user == actor.user
                && r.role.as_deref() == Some(actor.role_name())
                && r.action == *action
                && r.detail == *text
                && (r.tag == "SP" || r.tag == "Temp.Hi" || r.tag == "plant/cmd")
        });
        assert!(found, "refusal of {kind} by {} not audited", actor.user);
    }
    let refused_rows = rows.iter().filter(|r| r.result == "refused").count();
    assert_eq!(refused_rows, refusals.len(), "one audit row per refusal");

    // Allowed writes are audited with the actor's role; the alarm journal names the actor.
    let write = rows
        .iter()
        .find(|r| r.action == "write" && r.user == "otto" && r.result != "refused")
        .expect("operator write audited");
    assert_eq!(write.role.as_deref(), Some("operator"));
    let alarms = rig.engine.alarms().expect("alarms");
    let journal = plantview::alarms::open_reader(alarms.journal_path()).expect("journal");
    let entries = plantview::alarms::query(&journal, &Default::default()).expect("entries");
    assert!(
        entries
            .iter()
            .any(|e| e.event.user.as_deref() == Some("erin"))
    );
    assert!(
        !entries
            .iter()
            .any(|e| e.event.user.as_deref() == Some("ignored-the-actor-counts")),
        "the journal names the actor, not the user text inside the command"
    );
}

#[test]
fn open_mode_allows_everything_and_audits_the_os_user() {
    let mut rig = rig("open");
    let actor = Actor::open_mode();
    for (kind, _, command) in commands(1, &actor) {
        let result = rig.run(command);
        assert!(
            !matches!(&result, Err(e) if e.starts_with("refused:")),
            "{kind}: {result:?}"
        );
    }
    // A logged-in viewer is still a viewer in open mode.
    let viewer = Actor::new("vera", Role::Viewer);
    let (_, _, write) = commands(500, &viewer).swap_remove(1);
    assert_eq!(
        rig.run(write),
        Err("refused: role viewer may not write setpoints".to_owned())
    );
    let log = AuditLog::open(&audit_path(&rig.engine.status().data_dir)).expect("audit");
    let rows = log.recent(Some("SP"), 10).expect("rows");
    let write = rows
        .iter()
        .find(|r| r.action == "write" && r.user == plantview::security::operator_name())
        .expect("write audited under the OS user");
    assert_eq!(write.result, "confirmed");
    assert_eq!(write.role.as_deref(), Some("open"));
}
