//! The engine against a real embedded broker on a free port: payload decoding, quality,
//! timestamps, staleness, bad payloads, wildcard routing, broker loss and recovery.

mod common;

use std::process::{Child, Command};
use std::time::Duration;

use common::{Publisher, free_addr, free_addr_pair, wait_for, write_project};
use plantview::engine::{self, EngineOptions, Quality, Value};

const T: Duration = Duration::from_secs(10);

fn project_json(broker: &str) -> String {
    format!(
        r#"{{
  "format": 1,
  "name": "Test",
  "broker": {broker},
  "tags": [
    {{ "name": "Plain", "topic": "t/plain", "unit": "°C", "stale_after_s": 0.6 }},
    {{ "name": "Flag", "topic": "t/flag", "decoder": {{ "kind": "bool" }} }},
    {{ "name": "Mode", "topic": "t/mode", "decoder": {{ "kind": "string" }} }},
    {{ "name": "Speed", "topic": "t/json",
       "decoder": {{ "kind": "json", "pointer": "/fan/speed", "timestamp": "/ts" }} }},
    {{ "name": "Temp2", "topic": "t/json",
       "decoder": {{ "kind": "json", "pointer": "/temps/2" }} }},
    {{ "name": "Running", "topic": "t/json",
       "decoder": {{ "kind": "json", "pointer": "/fan/on", "value": "bool" }} }},
    {{ "name": "Wild", "topic": "site/+/temp" }},
    {{ "name": "Deep", "topic": "deep/#" }}
  ]
}}"#
    )
}

fn start_embedded() -> (
    engine::EngineHandle,
    std::net::SocketAddr,
    tempfile::TempDir,
) {
    let dir = tempfile::tempdir().expect("tempdir");
    let addr = free_addr_pair();
    let broker = format!(r#"{{ "mode": "embedded", "listen": "{addr}" }}"#);
    write_project(dir.path(), &project_json(&broker), &[]);
    let project = plantview::project::load(dir.path()).expect("valid project");
    let handle = engine::start(project, &EngineOptions::default()).expect("engine starts");
    wait_for(T, "engine connected", || {
        matches!(
            handle.status().connection,
            plantview::mqtt::ConnState::Connected
        )
        .then_some(())
    });
    (handle, addr, dir)
}

fn value(h: &engine::EngineHandle, tag: &str) -> Option<Value> {
    h.tags.get_by_name(tag).and_then(|s| s.value)
}

#[test]
fn plain_json_array_payloads_reach_the_tag_store() {
    let (h, addr, _dir) = start_embedded();
    let mut p = Publisher::connect(addr);
    let before = engine::now_ms();
    p.publish("t/plain", "21.5");
    p.publish("t/flag", "ON");
    p.publish("t/mode", "auto");
    p.publish(
        "t/json",
        r#"{"ts": 1700000000123, "fan": {"speed": 62.5, "on": true}, "temps": [1.0, 2.0, 45.25]}"#,
    );
    wait_for(T, "json tags", || {
        (value(&h, "Temp2") == Some(Value::Number(45.25))).then_some(())
    });
    assert_eq!(value(&h, "Plain"), Some(Value::Number(21.5)));
    assert_eq!(value(&h, "Flag"), Some(Value::Bool(true)));
    assert_eq!(value(&h, "Mode"), Some(Value::Text("auto".into())));
    assert_eq!(value(&h, "Running"), Some(Value::Bool(true)));

    let speed = h.tags.get_by_name("Speed").expect("tag");
    assert_eq!(speed.value, Some(Value::Number(62.5)));
    assert_eq!(speed.quality, Quality::Good);
    assert_eq!(
        speed.source_ts_ms, 1_700_000_000_123,
        "source timestamp from the payload"
    );
    assert!(speed.recv_ts_ms >= before && speed.recv_ts_ms <= engine::now_ms());
    let plain = h.tags.get_by_name("Plain").expect("tag");
    assert_eq!(
        plain.source_ts_ms, plain.recv_ts_ms,
        "no source time: receive time"
    );

    // Wildcards: `+` and `#`.
    p.publish("site/north/temp", "7");
    p.publish("deep/a/b/c", "8");
    wait_for(T, "wildcard tags", || {
        (value(&h, "Wild") == Some(Value::Number(7.0))
            && value(&h, "Deep") == Some(Value::Number(8.0)))
        .then_some(())
    });
}

#[test]
fn garbage_turns_bad_with_reason_and_silence_turns_stale() {
    let (h, addr, _dir) = start_embedded();
    let mut p = Publisher::connect(addr);
    // Never received: bad.
    assert_eq!(
        h.tags.get_by_name("Plain").expect("tag").quality,
        Quality::Bad
    );

    p.publish("t/plain", "12");
    wait_for(T, "good value", || {
        (h.tags.get_by_name("Plain")?.quality == Quality::Good).then_some(())
    });
    // Silence past stale_after_s (0.6 s) → stale, last value kept for display.
    let stale = wait_for(T, "stale", || {
        h.tags
            .get_by_name("Plain")
            .filter(|s| s.quality == Quality::Stale)
    });
    assert_eq!(stale.value, Some(Value::Number(12.0)));
    assert!(
        stale
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("no update"))
    );

    // Garbage → bad with a reason, no panic; the engine keeps working.
    p.publish("t/plain", "twelve");
    let bad = wait_for(T, "bad", || {
        h.tags
            .get_by_name("Plain")
            .filter(|s| s.quality == Quality::Bad)
    });
    assert!(
        bad.reason
            .as_deref()
            .is_some_and(|r| r.contains("not a number")),
        "{bad:?}"
    );
    p.publish(
        "t/json",
        r#"{"ts": 1, "fan": {"speed": 3, "on": false}, "temps": [1, 2, 3]}"#,
    );
    wait_for(T, "good json", || {
        h.tags
            .get_by_name("Speed")
            .filter(|s| s.quality == Quality::Good)
    });
    p.publish("t/json", "{not json");
    let bad = wait_for(T, "bad json", || {
        h.tags
            .get_by_name("Speed")
            .filter(|s| s.quality == Quality::Bad)
    });
    assert!(
        bad.reason
            .as_deref()
            .is_some_and(|r| r.contains("not JSON")),
        "{bad:?}"
    );
    p.publish("t/json", r#"{"fan": {"speed": "fast"}, "ts": 1}"#);
    let bad = wait_for(T, "bad field", || {
        h.tags
            .get_by_name("Speed")
            .filter(|s| s.reason.as_deref().is_some_and(|r| r.contains("fast")))
    });
    assert_eq!(bad.quality, Quality::Bad);
    p.publish("t/json", r#"{"ts": 5, "fan": {"speed": 1}, "temps": []}"#);
    let bad = wait_for(T, "missing element", || {
        h.tags
            .get_by_name("Temp2")
            .filter(|s| s.reason.as_deref().is_some_and(|r| r.contains("/temps/2")))
    });
    assert_eq!(bad.quality, Quality::Bad);
    // Recovers with the next good payload.
    p.publish("t/plain", "13");
    wait_for(T, "good again", || {
        h.tags
            .get_by_name("Plain")
            .filter(|s| s.quality == Quality::Good && s.value == Some(Value::Number(13.0)))
    });
}

/// `plantview broker` in a child process: a real embedded broker that can be killed.
struct BrokerProcess(Child);

impl BrokerProcess {
    fn start(addr: std::net::SocketAddr) -> Self {
        let child = Command::new(env!("CARGO_BIN_EXE_plantview"))
            .args(["broker", "--listen", &addr.to_string()])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("start plantview broker");
        wait_for(T, "broker listening", || {
            std::net::TcpStream::connect(addr).ok()
        });
        Self(child)
    }

    fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for BrokerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

#[test]
fn broker_lost_turns_tags_bad_then_good_after_resubscribe() {
    let addr = free_addr_pair();
    let mut broker = BrokerProcess::start(addr);
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = format!(r#"{{ "mode": "external", "url": "mqtt://{addr}" }}"#);
    write_project(dir.path(), &project_json(&cfg), &[]);
    let project = plantview::project::load(dir.path()).expect("valid project");
    let h = engine::start(project, &EngineOptions::default()).expect("engine starts");
    wait_for(T, "connected and subscribed", || {
        matches!(h.status().connection, plantview::mqtt::ConnState::Connected).then_some(())
    });
    let mut p = Publisher::connect(addr);
    p.publish("t/flag", "1");
    wait_for(T, "value", || {
        (value(&h, "Flag") == Some(Value::Bool(true))).then_some(())
    });

    broker.kill();
    let bad = wait_for(T, "bad after broker loss", || {
        h.tags
            .get_by_name("Flag")
            .filter(|s| s.quality == Quality::Bad)
    });
    assert!(
        bad.reason
            .as_deref()
            .is_some_and(|r| r.contains("broker connection lost")),
        "{bad:?}"
    );
    assert!(matches!(
        h.status().connection,
        plantview::mqtt::ConnState::Disconnected { .. } | plantview::mqtt::ConnState::Connecting
    ));

    let _broker = BrokerProcess::start(addr);
    wait_for(Duration::from_secs(20), "reconnected", || {
        matches!(h.status().connection, plantview::mqtt::ConnState::Connected).then_some(())
    });
    // A fresh broker has no session: only a resubscribe gets data flowing again.
    let mut p = Publisher::connect(addr);
    let good = wait_for(T, "good after resubscribe", || {
        p.publish("t/flag", "0");
        h.tags
            .get_by_name("Flag")
            .filter(|s| s.quality == Quality::Good && s.value == Some(Value::Bool(false)))
    });
    assert!(good.reason.is_none());
}

#[test]
fn embedded_broker_port_taken_is_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr");
    let err = plantview::mqtt::EmbeddedBroker::start(addr, None)
        .expect_err("must fail")
        .to_string();
    assert!(
        err.contains(&addr.to_string()) && err.contains("--broker-listen"),
        "{err}"
    );
    let _ = free_addr();
}
