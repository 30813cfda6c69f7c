//! The bundled demo end to end: the simulator publishes through the embedded broker and every
//! demo tag turns good; `serve` runs headless and stops cleanly on SIGTERM; `sim` runs alone
//! against any broker.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{demo_project_dir, free_addr_pair, wait_for};
use plantview::engine::{self, EngineOptions, Quality};

#[test]
fn every_demo_tag_turns_good_from_the_simulator() {
    let project = plantview::project::load(&demo_project_dir()).expect("demo loads");
    let data = tempfile::tempdir().expect("tmp");
    let options = EngineOptions {
        broker_listen: Some(free_addr_pair()),
        data_dir: Some(data.path().to_owned()),
        ..Default::default()
    };
    let h = engine::start(project, &options).expect("engine");
    assert!(h.status().simulator, "the demo project runs its simulator");
    // Slow tags publish every 5 s.
    wait_for(Duration::from_secs(15), "all demo tags good", || {
        h.tags
            .read(|states| states.iter().all(|s| s.quality == Quality::Good))
            .then_some(())
    });
    // Values move: a 10 Hz tag updates many times a second.
    let id = h.tags.id("AHU1.DuctStatic");
    if let Some(id) = id {
        let before = h.tags.get(id).expect("tag").updates;
        std::thread::sleep(Duration::from_millis(1000));
        let after = h.tags.get(id).expect("tag").updates;
        assert!(
            after - before >= 5,
            "10 Hz tag updated {} times in 1 s",
            after - before
        );
    }
}

#[test]
fn serve_runs_headless_and_stops_on_sigterm() {
    let data = tempfile::tempdir().expect("tmp");
    let addr = free_addr_pair();
    let mut child = Command::new(env!("CARGO_BIN_EXE_plantview"))
        .arg("serve")
        .arg(demo_project_dir())
        .args(["--broker-listen", &addr.to_string()])
        .arg("--data-dir")
        .arg(data.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start serve");
    // The embedded broker comes up and the simulator's data flows through it: wait for a
    // supply temperature as a third-party subscriber sees it, then give the engine's 1 s
    // history flush a moment.
    wait_for(Duration::from_secs(20), "broker up", || {
        std::net::TcpStream::connect(addr).ok()
    });
    wait_for_message(addr, "plant/ahu1/supply_temp");
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        child.try_wait().expect("poll").is_none(),
        "serve keeps running"
    );
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let exit = loop {
        if let Some(s) = child.try_wait().expect("poll") {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "serve did not stop within 10 s of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success(), "clean shutdown exits 0: {exit:?}");

    // What serve recorded is visible with `plantview history --stats`.
    let out = Command::new(env!("CARGO_BIN_EXE_plantview"))
        .arg("history")
        .arg(demo_project_dir())
        .arg("--data-dir")
        .arg(data.path())
        .arg("--stats")
        .output()
        .expect("history --stats");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    let line = text
        .lines()
        .find(|l| l.starts_with("AHU1.SupplyTemp "))
        .unwrap_or_else(|| panic!("AHU1.SupplyTemp in:\n{text}"));
    let count: i64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("sample count column");
    assert!(count >= 1, "{line}");
    assert!(
        text.contains("tags,") && text.contains("samples in"),
        "{text}"
    );
}

#[test]
fn sim_cli_feeds_a_separate_engine() {
    let addr = free_addr_pair();
    let _broker = plantview::mqtt::EmbeddedBroker::start(addr, None).expect("broker");
    let mut sim = Command::new(env!("CARGO_BIN_EXE_plantview"))
        .args(["sim", "--broker", &addr.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start sim");
    let project = plantview::project::load(&demo_project_dir()).expect("demo");
    let data = tempfile::tempdir().expect("tmp");
    let options = EngineOptions {
        broker_url: Some(format!("mqtt://{addr}")),
        data_dir: Some(data.path().to_owned()),
        simulator: Some(false),
        ..Default::default()
    };
    let h = engine::start(project, &options).expect("engine");
    wait_for(
        Duration::from_secs(10),
        "AHU1.SupplyTemp good from `plantview sim`",
        || {
            h.tags
                .get_by_name("AHU1.SupplyTemp")
                .filter(|s| s.quality == Quality::Good)
        },
    );
    let _ = sim.kill();
    let _ = sim.wait();
    // The simulator's Last Will marks the plant offline when it vanishes.
    if let Some(id) = h.tags.id("Sim.Status") {
        wait_for(Duration::from_secs(30), "offline via Last Will", || {
            let s = h.tags.get(id)?;
            (s.value.as_ref().map(ToString::to_string).as_deref() == Some("offline")).then_some(())
        });
    }
}

/// Block until one message arrives on `topic` (a real MQTT subscriber).
fn wait_for_message(addr: std::net::SocketAddr, topic: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let settings = plantview::mqtt::ClientSettings::new(
        addr.ip().to_string(),
        addr.port(),
        format!("test-sub-{}", std::process::id()),
    );
    rt.block_on(async {
        let (client, mut eventloop) = settings.client(16);
        client
            .subscribe(topic, rumqttc::QoS::AtMostOnce)
            .await
            .expect("subscribe");
        let wait = async {
            loop {
                match eventloop.poll().await {
                    Ok(rumqttc::Event::Incoming(rumqttc::Packet::Publish(p)))
                        if p.topic == topic =>
                    {
                        break;
                    }
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(20), wait)
            .await
            .expect("a message on the topic within 20 s");
    });
}

/// Copy the demo project to `dir`, with its simulator's Modbus server and the device on `modbus`.
fn demo_copy_with_modbus(dir: &std::path::Path, modbus: std::net::SocketAddr) {
    let src = demo_project_dir();
    std::fs::create_dir_all(dir.join("screens")).expect("mkdir");
    let text = std::fs::read_to_string(src.join("project.json"))
        .expect("read")
        .replace("127.0.0.1:1502", &modbus.to_string());
    std::fs::write(dir.join("project.json"), text).expect("write");
    for e in std::fs::read_dir(src.join("screens"))
        .expect("ls")
        .flatten()
    {
        std::fs::copy(e.path(), dir.join("screens").join(e.file_name())).expect("copy");
    }
}

#[test]
fn setpoint_written_over_modbus_drives_the_simulated_plant() {
    use plantview::engine::{Command, EngineEvent, Value};
    use plantview::modbus::WriteOutcome;
    let dir = tempfile::tempdir().expect("tmp");
    let modbus = common::free_addr();
    demo_copy_with_modbus(&dir.path().join("p"), modbus);
    let project = plantview::project::load(&dir.path().join("p")).expect("demo copy loads");
    let h = engine::start(
        project,
        &EngineOptions {
            broker_listen: Some(free_addr_pair()),
            data_dir: Some(dir.path().join("data")),
            no_history: true,
            ..Default::default()
        },
    )
    .expect("engine");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    let mut events = h.events();
    let mut write = |id: u64, value: f64| -> WriteOutcome {
        h.send(Command::WriteSetpoint {
            id,
            tag: "AHU1.SupplySetpoint".into(),
            value,
            actor: plantview::security::Actor::new("test", plantview::security::Role::Operator),
        })
        .expect("queued");
        rt.block_on(async {
            tokio::time::timeout(Duration::from_secs(10), async {
                loop {
                    if let Ok(EngineEvent::WriteResult {
                        id: got, outcome, ..
                    }) = events.recv().await
                        && got == id
                    {
                        return outcome;
                    }
                }
            })
            .await
            .expect("result in time")
        })
    };
    // The device (the simulator's Modbus server) comes up with the engine.
    let mut outcome = WriteOutcome::NotConnected {
        reason: String::new(),
    };
    for id in 1..100 {
        outcome = write(id, 22.0);
        if !matches!(outcome, WriteOutcome::NotConnected { .. }) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        matches!(outcome, WriteOutcome::Confirmed { readback } if (readback - 22.0).abs() < 0.05),
        "{outcome:?}"
    );
    // The plant takes it: its published setpoint follows over MQTT.
    wait_for(
        Duration::from_secs(10),
        "setpoint published by the plant",
        || {
            let s = h.tags.get_by_name("AHU1.SupplySetpoint")?;
            matches!(s.value, Some(Value::Number(v)) if (v - 22.0).abs() < 0.05).then_some(())
        },
    );
    // Outside the limits: refused before anything is sent.
    assert!(matches!(write(1000, 35.0), WriteOutcome::Rejected { .. }));
}
