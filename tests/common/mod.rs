//! Shared test helpers: free ports, temporary projects, a real MQTT publisher, polling.
#![allow(dead_code)] // each test binary uses a different subset

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use plantview::mqtt::ClientSettings;

pub mod gui;
pub mod modbus_server;

/// A free port on 127.0.0.1 for a test server: below the OS's ephemeral range (32768+), so no
/// client socket of the test can be holding it, from a random start per process, and never the
/// same one (or its neighbour, kept for a broker's MQTT 5 listener) twice in a process.
pub fn free_addr() -> SocketAddr {
    static GIVEN: std::sync::OnceLock<parking_lot::Mutex<(u16, std::collections::HashSet<u16>)>> =
        std::sync::OnceLock::new();
    let state = GIVEN.get_or_init(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let start = (u64::from(std::process::id()) * 7919 + u64::from(nanos)) % 12_000;
        parking_lot::Mutex::new((start as u16, std::collections::HashSet::new()))
    });
    let mut st = state.lock();
    loop {
        st.0 = (st.0 + 1) % 12_000;
        let port = 20_000 + st.0;
        if st.1.contains(&port) || st.1.contains(&(port + 1)) {
            continue;
        }
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        if TcpListener::bind(addr).is_ok() {
            st.1.insert(port);
            st.1.insert(port + 1);
            return addr;
        }
    }
}

/// Two consecutive free ports (MQTT 3.1.1 + MQTT 5 listeners of the embedded broker).
pub fn free_addr_pair() -> SocketAddr {
    loop {
        let a = free_addr();
        let next = SocketAddr::new(a.ip(), a.port().wrapping_add(1));
        if a.port() < u16::MAX && TcpListener::bind(next).is_ok() {
            return a;
        }
    }
}

/// Wait until `f` returns `Some`, or panic with `what` after `timeout`.
pub fn wait_for<T>(timeout: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Write a project folder with `project.json` text and screens (stem, text).
pub fn write_project(dir: &Path, project_json: &str, screens: &[(&str, &str)]) {
    std::fs::create_dir_all(dir.join("screens")).expect("mkdir");
    std::fs::write(dir.join("project.json"), project_json).expect("write project");
    for (stem, text) in screens {
        std::fs::write(dir.join("screens").join(format!("{stem}.json")), text)
            .expect("write screen");
    }
}

/// A real MQTT client that publishes (QoS 1, waits for the broker's ack).
pub struct Publisher {
    rt: tokio::runtime::Runtime,
    client: rumqttc::AsyncClient,
    acks: tokio::sync::mpsc::Receiver<()>,
}

impl Publisher {
    pub fn connect(addr: SocketAddr) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let settings = ClientSettings::new(
            addr.ip().to_string(),
            addr.port(),
            format!("test-pub-{}", rand_suffix()),
        );
        let (client, mut eventloop) = settings.client(64);
        let (ack_tx, acks) = tokio::sync::mpsc::channel(1024);
        rt.spawn(async move {
            loop {
                match eventloop.poll().await {
                    Ok(rumqttc::Event::Incoming(rumqttc::Packet::PubAck(_))) => {
                        let _ = ack_tx.try_send(());
                    }
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                }
            }
        });
        Self { rt, client, acks }
    }

    pub fn publish(&mut self, topic: &str, payload: impl Into<Vec<u8>>) {
        self.publish_retained(topic, payload, false);
    }

    pub fn publish_retained(&mut self, topic: &str, payload: impl Into<Vec<u8>>, retain: bool) {
        let client = self.client.clone();
        let topic = topic.to_owned();
        let payload = payload.into();
        let acks = &mut self.acks;
        self.rt.block_on(async move {
            client
                .publish(topic, rumqttc::QoS::AtLeastOnce, retain, payload)
                .await
                .expect("queue publish");
            tokio::time::timeout(Duration::from_secs(10), acks.recv())
                .await
                .expect("broker acked the publish in time");
        });
    }
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    u64::from(std::process::id()) * 1000 + N.fetch_add(1, Ordering::Relaxed)
}

/// The bundled demo project.
pub fn demo_project_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("projects/demo-plant")
}

/// Whether a third-party peer is missing: skip locally (printing why), fail in CI.
pub fn peer_missing(program: &str) -> bool {
    let found = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {program}"))
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return false;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
        panic!("{program} is required in CI (.ci/run installs it) but was not found");
    }
    eprintln!("SKIPPED: {program} not installed (apt-get install mosquitto mosquitto-clients)");
    true
}
