//! Interop: the engine against a real Mosquitto broker (started here on a free loopback port
//! with its own config file), fed by Mosquitto's own `mosquitto_pub` over MQTT 3.1.1 and 5.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{free_addr, peer_missing, wait_for, write_project};
use plantview::engine::{self, EngineOptions, Quality, Value};

struct Mosquitto(Child);

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_mosquitto(dir: &std::path::Path, addr: std::net::SocketAddr) -> Mosquitto {
    let conf = dir.join("mosquitto.conf");
    std::fs::write(
        &conf,
        format!(
            "listener {} {}\nallow_anonymous true\npersistence false\n",
            addr.port(),
            addr.ip()
        ),
    )
    .expect("write conf");
    let child = Command::new("mosquitto")
        .arg("-c")
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start mosquitto");
    wait_for(Duration::from_secs(10), "mosquitto listening", || {
        std::net::TcpStream::connect(addr).ok()
    });
    Mosquitto(child)
}

fn mosquitto_pub(
    addr: std::net::SocketAddr,
    version: &str,
    topic: &str,
    payload: &str,
    retain: bool,
) {
    let mut cmd = Command::new("mosquitto_pub");
    cmd.args(["-h", &addr.ip().to_string(), "-p", &addr.port().to_string()])
        .args(["-V", version, "-q", "1", "-t", topic, "-m", payload]);
    if retain {
        cmd.arg("-r");
    }
    let status = cmd.status().expect("run mosquitto_pub");
    assert!(status.success(), "mosquitto_pub failed");
}

#[test]
fn engine_reads_from_mosquitto() {
    if peer_missing("mosquitto") || peer_missing("mosquitto_pub") {
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let addr = free_addr();
    let _broker = start_mosquitto(dir.path(), addr);

    // A retained value published before the engine connects arrives on subscribe.
    mosquitto_pub(addr, "mqttv311", "plant/status", "online", true);

    let project = format!(
        r#"{{
  "format": 1,
  "name": "Mosquitto interop",
  "broker": {{ "mode": "external", "url": "mqtt://{addr}", "client_id": "plantview-interop" }},
  "tags": [
    {{ "name": "Status", "topic": "plant/status", "decoder": {{ "kind": "string" }} }},
    {{ "name": "Temp", "topic": "plant/ahu/+/temp", "unit": "°C" }},
    {{ "name": "Fan", "topic": "plant/ahu/json",
       "decoder": {{ "kind": "json", "pointer": "/fans/1/speed" }} }}
  ]
}}"#
    );
    write_project(&dir.path().join("p"), &project, &[]);
    let project = plantview::project::load(&dir.path().join("p")).expect("valid");
    let h = engine::start(project, &EngineOptions::default()).expect("engine");
    let status = wait_for(Duration::from_secs(10), "retained status", || {
        h.tags.get_by_name("Status").and_then(|s| s.value)
    });
    assert_eq!(status, Value::Text("online".into()));

    mosquitto_pub(addr, "mqttv311", "plant/ahu/1/temp", "19.25", false);
    mosquitto_pub(
        addr,
        "mqttv5",
        "plant/ahu/json",
        r#"{"fans":[{"speed":10},{"speed":77.5}]}"#,
        false,
    );
    wait_for(Duration::from_secs(10), "values from mosquitto_pub", || {
        let t = h.tags.get_by_name("Temp")?;
        let f = h.tags.get_by_name("Fan")?;
        (t.value == Some(Value::Number(19.25))
            && f.value == Some(Value::Number(77.5))
            && t.quality == Quality::Good)
            .then_some(())
    });
}

#[test]
fn mosquitto_clients_talk_to_the_embedded_broker_v311_and_v5() {
    if peer_missing("mosquitto_pub") {
        return;
    }
    let addr = common::free_addr_pair();
    let broker = plantview::mqtt::EmbeddedBroker::start(addr, None).expect("embedded broker");
    let dir = tempfile::tempdir().expect("tmp");
    let project = format!(
        r#"{{ "format": 1, "name": "v5", "broker": {{ "mode": "external", "url": "mqtt://{addr}" }},
  "tags": [ {{ "name": "A", "topic": "a" }}, {{ "name": "B", "topic": "b" }} ] }}"#
    );
    write_project(dir.path(), &project, &[]);
    let h = engine::start(
        plantview::project::load(dir.path()).expect("valid"),
        &EngineOptions::default(),
    )
    .expect("engine");
    wait_for(Duration::from_secs(10), "connected", || {
        matches!(h.status().connection, plantview::mqtt::ConnState::Connected).then_some(())
    });
    std::thread::sleep(Duration::from_millis(200)); // subscription settles
    mosquitto_pub(broker.listen, "mqttv311", "a", "1.5", false);
    mosquitto_pub(broker.listen_v5, "mqttv5", "b", "2.5", false);
    wait_for(Duration::from_secs(10), "both values", || {
        (h.tags.get_by_name("A")?.value == Some(Value::Number(1.5))
            && h.tags.get_by_name("B")?.value == Some(Value::Number(2.5)))
        .then_some(())
    });
}
