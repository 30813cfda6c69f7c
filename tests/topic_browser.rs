//! The topic browser against real brokers (the embedded rumqttd on a free port, and Mosquitto
//! when installed), fed by real MQTT clients: retained and live messages on nested topics, JSON
//! payloads, rates, the tree rows, 10,000 topics, the engine's lazily started browser, and tags
//! built from browsed topics that the engine's decoders read.

mod common;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{Publisher, free_addr, free_addr_pair, peer_missing, wait_for, write_project};
use plantview::engine::{self, EngineOptions, Payload, Value};
use plantview::mqtt::{ClientSettings, ConnState, EmbeddedBroker, TopicBrowser, TreeRow};
use plantview::project::guess::{GuessedDecoder, guess_decoder, json_leaves, tag_config_for_topic};
use tokio_util::sync::CancellationToken;

const T: Duration = Duration::from_secs(10);

struct Running {
    browser: TopicBrowser,
    stop: CancellationToken,
    _rt: tokio::runtime::Runtime,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

fn browse(addr: SocketAddr, client_id: &str) -> Running {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let stop = CancellationToken::new();
    let settings = ClientSettings::new(addr.ip().to_string(), addr.port(), client_id);
    let browser = TopicBrowser::start(settings, rt.handle(), stop.clone());
    wait_for(T, "browser connected", || {
        (browser.state() == ConnState::Connected).then_some(())
    });
    Running {
        browser,
        stop,
        _rt: rt,
    }
}

fn set(paths: &[&str]) -> HashSet<String> {
    paths.iter().map(|p| (*p).to_owned()).collect()
}

fn paths(rows: &[TreeRow]) -> Vec<&str> {
    rows.iter().map(|r| &*r.path).collect()
}

fn now() -> i64 {
    engine::now_ms()
}

#[test]
fn browser_sees_retained_nested_and_json_topics() {
    let addr = free_addr_pair();
    let _broker = EmbeddedBroker::start(addr, None).expect("broker");
    let mut p = Publisher::connect(addr);
    // Retained before the browser connects: it arrives on subscribe, flagged retained.
    p.publish_retained("plant/ahu1/status", "online", true);

    let r = browse(addr, "browse-nested");
    let tree = r.browser.tree();
    let status = wait_for(T, "retained status", || tree.get("plant/ahu1/status"));
    assert!(status.retained, "{status:?}");
    assert_eq!(status.payload, b"online");

    let json = r#"{"ts": 1700000000123, "fans": [{"speed": 40.5, "on": true}], "mode": "auto"}"#;
    p.publish("plant/ahu1/supply_temp", "21.5");
    p.publish("plant/ahu1/supply_temp", "22.25");
    p.publish("plant/ahu1/json", json);
    p.publish("plant/ahu2/fan/speed", "40");
    p.publish("site/b", "x");
    wait_for(T, "all topics", || (tree.len() == 5).then_some(()));
    wait_for(T, "second temp", || {
        tree.get("plant/ahu1/supply_temp")
            .filter(|i| i.count == 2)
            .map(|_| ())
    });
    let temp = tree.get("plant/ahu1/supply_temp").expect("temp");
    assert_eq!(temp.payload, b"22.25");
    assert!(!temp.retained && temp.first_ms <= temp.last_ms && !temp.truncated);
    assert!(temp.rate_per_s(now()) > 0.0);
    let j = tree.get("plant/ahu1/json").expect("json");
    assert_eq!(j.payload, json.as_bytes());
    assert!(j.preview.starts_with("{\"ts\": 1700000000123") && j.preview.chars().count() <= 60);

    // Collapsed, then opened level by level; a hidden expanded path stays hidden.
    let none = set(&[]);
    let rows = tree.rows(&none, "", now());
    assert_eq!(paths(&rows), ["plant", "site"]);
    assert!(rows[0].has_children && !rows[0].expanded && !rows[0].is_topic());
    assert_eq!(rows[0].topics_below, 4);
    let rows = tree.rows(&set(&["plant", "plant/ahu1/x"]), "", now());
    assert_eq!(paths(&rows), ["plant", "plant/ahu1", "plant/ahu2", "site"]);
    assert_eq!(rows[1].depth, 1);
    let rows = tree.rows(&set(&["plant", "plant/ahu1"]), "", now());
    assert_eq!(
        paths(&rows),
        [
            "plant",
            "plant/ahu1",
            "plant/ahu1/json",
            "plant/ahu1/status",
            "plant/ahu1/supply_temp",
            "plant/ahu2",
            "site"
        ]
    );
    let status_row = rows[3].message.as_ref().expect("topic row");
    assert!(status_row.retained && status_row.preview == "online");
    assert_eq!(rows[4].message.as_ref().map(|m| m.count), Some(2));
    // A filter shows the matches with their ancestors, all open, whatever `expanded` says.
    let rows = tree.rows(&none, "SUPPLY", now());
    assert_eq!(
        paths(&rows),
        ["plant", "plant/ahu1", "plant/ahu1/supply_temp"]
    );
    assert!(rows[0].expanded && rows[1].expanded);
    let rows = tree.rows(&none, "fan", now());
    assert_eq!(
        paths(&rows),
        [
            "plant",
            "plant/ahu2",
            "plant/ahu2/fan",
            "plant/ahu2/fan/speed"
        ]
    );
}

#[test]
fn rate_rises_with_a_burst_and_decays_in_silence() {
    let addr = free_addr_pair();
    let _broker = EmbeddedBroker::start(addr, None).expect("broker");
    let r = browse(addr, "browse-rate");
    let mut p = Publisher::connect(addr);
    for i in 0..50 {
        p.publish("burst/t", i.to_string());
    }
    let tree = r.browser.tree();
    wait_for(T, "50 messages", || {
        tree.get("burst/t").filter(|i| i.count == 50).map(|_| ())
    });
    let info = tree.get("burst/t").expect("seen");
    let after_burst = info.rate_per_s(now());
    assert!(after_burst > 5.0, "rate after a burst of 50: {after_burst}");
    std::thread::sleep(Duration::from_millis(1200));
    let silent = tree.get("burst/t").expect("seen").rate_per_s(now());
    assert!(
        silent > 0.0 && silent < after_burst * 0.85,
        "{after_burst} → {silent} after 1.2 s of silence"
    );
    assert!(info.rate_per_s(now() + 60_000) < 0.01);
    // The row shows the same decaying rate.
    let rows = tree.rows(&set(&["burst"]), "", now());
    let rate = rows[1].message.as_ref().map_or(0.0, |m| m.rate_per_s);
    assert!(rate > 0.0 && rate <= silent * 1.01, "{rate} vs {silent}");
}

#[test]
fn ten_thousand_topics_are_all_seen() {
    const N: usize = 10_000;
    let addr = free_addr_pair();
    let _broker = EmbeddedBroker::start(addr, None).expect("broker");
    let r = browse(addr, "browse-10k");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let settings = ClientSettings::new(addr.ip().to_string(), addr.port(), "pub-10k");
    let (client, mut eventloop) = settings.client(1024);
    rt.spawn(async move {
        loop {
            if eventloop.poll().await.is_err() {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    });
    rt.block_on(async {
        for i in 0..N {
            let topic = format!("fleet/site{}/dev{}/value", i % 10, i);
            client
                .publish(topic, rumqttc::QoS::AtLeastOnce, false, i.to_string())
                .await
                .expect("queue publish");
        }
    });
    let tree = r.browser.tree();
    wait_for(Duration::from_secs(60), "10,000 topics", || {
        (tree.len() == N).then_some(())
    });
    assert_eq!(tree.dropped_topics(), 0);
    let last = tree.get("fleet/site9/dev9999/value").expect("last topic");
    assert_eq!(last.payload, b"9999");
    let rows = tree.rows(&set(&["fleet"]), "", now());
    assert_eq!(rows.len(), 11);
    assert_eq!(rows[1].topics_below, N / 10);
    let rows = tree.rows(&set(&[]), "dev4242/", now());
    assert_eq!(
        paths(&rows),
        [
            "fleet",
            "fleet/site2",
            "fleet/site2/dev4242",
            "fleet/site2/dev4242/value"
        ]
    );
}

#[test]
fn engine_starts_one_shared_browser_that_stops_with_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let addr = free_addr_pair();
    let project = format!(
        r#"{{ "format": 1, "name": "Browse", "broker": {{ "mode": "embedded", "listen": "{addr}" }},
  "tags": [ {{ "name": "T", "topic": "t/x" }} ] }}"#
    );
    write_project(dir.path(), &project, &[]);
    let project = plantview::project::load(dir.path()).expect("valid project");
    let h = engine::start(project, &EngineOptions::default()).expect("engine starts");
    let first = h.topic_browser().expect("browser");
    let second = h.topic_browser().expect("browser");
    wait_for(T, "browser connected", || {
        (first.state() == ConnState::Connected).then_some(())
    });
    // The same table behind both handles.
    first.tree().record("local/probe", b"1", false, now());
    assert!(second.tree().get("local/probe").is_some());
    let mut p = Publisher::connect(addr);
    p.publish("t/x", "3.5");
    p.publish("other/y", "{\"a\": [1, 2]}");
    wait_for(T, "published topics", || {
        (second.tree().get("other/y").is_some() && second.tree().get("t/x").is_some()).then_some(())
    });
    // The engine's own tag still gets its value: the browser is a separate connection.
    wait_for(T, "engine value", || {
        (h.tags.get_by_name("T").and_then(|s| s.value) == Some(Value::Number(3.5))).then_some(())
    });
    h.shutdown();
    assert!(first.is_stopped() && second.is_stopped());
}

#[test]
fn tags_built_from_browsed_topics_validate_and_decode_in_the_engine() {
    let samples: [(&str, &[u8]); 6] = [
        ("plant/ahu1/supply_temp", b"21.5"),
        ("plant/ahu1/fan/run", b"ON"),
        ("plant/ahu1/mode", b"auto"),
        (
            "plant/ahu1/json",
            br#"{"fans": [{"speed": 40.5, "on": "running"}], "a/b": {"c~d": "1"}, "ts": "12"}"#,
        ),
        ("plant/bin", &[0xff, 0x00, 0x10]),
        ("plant/zero", b"0"),
    ];
    let mut tags = Vec::new();
    for (topic, payload) in samples {
        let guess = guess_decoder(payload);
        match &guess {
            GuessedDecoder::Json => {
                let leaves = json_leaves(payload);
                assert_eq!(leaves.len(), 4, "{leaves:?}");
                for leaf in &leaves {
                    tags.push((
                        tag_config_for_topic(topic, &guess, Some(leaf)).expect("tag"),
                        payload,
                    ));
                }
            }
            GuessedDecoder::Unsupported(_) => {
                assert!(tag_config_for_topic(topic, &guess, None).is_err());
            }
            _ => tags.push((
                tag_config_for_topic(topic, &guess, None).expect("tag"),
                payload,
            )),
        }
    }
    let names: Vec<&str> = tags.iter().map(|(t, _)| t.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "plant.ahu1.supply_temp",
            "plant.ahu1.fan.run",
            "plant.ahu1.mode",
            "plant.ahu1.json.fans.0.speed",
            "plant.ahu1.json.fans.0.on",
            "plant.ahu1.json.a_b.c~d",
            "plant.ahu1.json.ts",
            "plant.zero",
        ]
    );
    // Every built tag decodes its own sample with the engine's decoder, to the guessed kind.
    let decoded: Vec<Value> = tags
        .iter()
        .map(|(t, payload)| {
            Payload::new(payload)
                .decode(&t.decoder)
                .unwrap_or_else(|e| panic!("{}: {e}", t.name))
                .0
        })
        .collect();
    assert_eq!(
        decoded,
        [
            Value::Number(21.5),
            Value::Bool(true),
            Value::Text("auto".into()),
            Value::Number(40.5),
            Value::Bool(true),
            Value::Number(1.0),
            Value::Number(12.0),
            Value::Number(0.0),
        ]
    );
    // And the project validator accepts them.
    let file: plantview::project::ProjectFile = serde_json::from_value(serde_json::json!({
        "format": 1,
        "name": "Built",
        "tags": tags.iter().map(|(t, _)| t).collect::<Vec<_>>(),
    }))
    .expect("project file");
    let project = plantview::project::Project {
        dir: std::env::temp_dir(),
        file,
        screens: Vec::new(),
    };
    assert_eq!(plantview::project::validate(&project), []);
}

#[test]
fn guessed_words_agree_with_the_engine_decoders() {
    let words = [
        "1", "0", "true", "FALSE", "On", "off", "yes", "NO", "running", "Stopped", "open",
        "closed", "21.5", "-3e2", "42", "NaN", "inf", "auto", "y", "enabled", "+1", "0.0",
    ];
    for w in words {
        let guess = guess_decoder(w.as_bytes());
        let is_bool = engine::parse_bool(w).is_ok();
        let is_number = engine::parse_number(w).is_ok();
        match guess {
            GuessedDecoder::Bool => assert!(is_bool, "{w}"),
            // 0 and 1 read as bools too, but are guessed numbers (a counter reading 0 is not
            // a bool).
            GuessedDecoder::Number => assert!(is_number, "{w}"),
            GuessedDecoder::String => assert!(!is_number && !is_bool, "{w}"),
            other => panic!("{w}: {other:?}"),
        }
        // A bool word that is not a number is always guessed a bool.
        assert!(
            !is_bool || is_number || guess == GuessedDecoder::Bool,
            "{w}"
        );
    }
}

struct Mosquitto(Child);

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_mosquitto(dir: &std::path::Path, addr: SocketAddr) -> Mosquitto {
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
    wait_for(T, "mosquitto listening", || {
        std::net::TcpStream::connect(addr).ok()
    });
    Mosquitto(child)
}

#[test]
fn browser_reads_from_mosquitto() {
    if peer_missing("mosquitto") {
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let addr = free_addr();
    let _mosquitto = start_mosquitto(dir.path(), addr);
    let mut p = Publisher::connect(addr);
    p.publish_retained("m/retained/status", "online", true);
    let r = browse(addr, "browse-mosquitto");
    let tree = r.browser.tree();
    let status = wait_for(T, "retained from mosquitto", || {
        tree.get("m/retained/status")
    });
    assert!(status.retained);
    p.publish("m/live/json", r#"{"v": [1, {"w": false}]}"#);
    let live = wait_for(T, "live from mosquitto", || tree.get("m/live/json"));
    assert!(!live.retained && live.count == 1);
    let pointers: Vec<String> = json_leaves(&live.payload)
        .into_iter()
        .map(|l| l.pointer)
        .collect();
    assert_eq!(pointers, ["/v/0", "/v/1/w"]);
    let rows = tree.rows(&set(&[]), "live", now());
    assert_eq!(paths(&rows), ["m", "m/live", "m/live/json"]);
}
