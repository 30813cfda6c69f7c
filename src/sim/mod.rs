//! The demo plant simulator: runs `physics::Plant` in real time and publishes it over MQTT
//! (`payload` says what and how often), with a retained `online`/`offline` status (last will) on
//! `<prefix>/status` and commands on `<prefix>/sim/cmd` (`command`).
//!
//! Owns its own MQTT connection (reconnecting forever with backoff) and nothing else: it knows
//! no tags, no engine and no GUI. Telemetry is QoS 0 and dropped, not queued, while the broker is
//! away or slow, so memory stays bounded.

mod backfill;
mod command;
mod equipment;
pub mod modbus;
mod payload;
mod physics;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::Timelike as _;
use rumqttc::{AsyncClient, ConnectionError, Event, EventLoop, Outgoing, Packet, QoS};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::mqtt::ClientSettings;

pub use backfill::{BackfillReport, backfill};
pub use command::{Command, DEFAULT_UPSET_S, Equipment, MAX_UPSET_S, parse_setpoint};
pub use payload::{Group, is_json};
pub use physics::{AirHandler, Exchanger, HeatPump, MAX_SUBSTEP_S, Motor, Plant, Tank};

/// Simulator settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimConfig {
    /// Every topic is published under `<topic_prefix>/`.
    pub topic_prefix: String,
    /// Seed of the sensor noise (same seed, same plant).
    pub seed: u64,
    /// Serve the plant's setpoints over Modbus TCP here (see `sim::modbus`).
    pub modbus_listen: Option<std::net::SocketAddr>,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            topic_prefix: "plant".to_owned(),
            seed: 0x5eed,
            modbus_listen: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error(
        "topic prefix `{0}` is not usable: it must be non-empty, without `+`, `#`, NUL or a \
         leading or trailing `/`"
    )]
    BadPrefix(String),
    #[error("{0}")]
    BadCommand(String),
    #[error("MQTT: {0}")]
    Mqtt(String),
    #[error("the broker did not acknowledge the command within {0} s")]
    Timeout(u64),
}

/// Check a topic prefix before anything is published under it.
pub fn validate_prefix(prefix: &str) -> Result<(), SimError> {
    let bad = prefix.is_empty()
        || prefix.starts_with('/')
        || prefix.ends_with('/')
        || prefix.contains(['+', '#', '\0']);
    if bad {
        Err(SimError::BadPrefix(prefix.to_owned()))
    } else {
        Ok(())
    }
}

/// Retained `online` / `offline`.
pub fn status_topic(prefix: &str) -> String {
    format!("{prefix}/status")
}

/// Plain-text commands (see `Command::parse`).
pub fn command_topic(prefix: &str) -> String {
    format!("{prefix}/sim/cmd")
}

/// Plain-number AHU1 supply-air setpoint writes, °C (a retained value is applied on connect).
pub fn setpoint_topic(prefix: &str) -> String {
    format!("{prefix}/ahu1/supply_setpoint/set")
}

/// Room for about five ticks of telemetry; beyond it publishes are dropped.
const REQUEST_CAPACITY: usize = 256;
const BACKOFF_MIN: Duration = Duration::from_millis(200);
const BACKOFF_MAX: Duration = Duration::from_secs(10);
/// How long shutdown waits to publish `offline` and disconnect cleanly.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);
/// Longest simulated step after a stall (a suspended process does not jump the plant).
const MAX_STEP_S: f64 = 1.0;
const DROP_REPORT_EVERY: Duration = Duration::from_secs(10);
const COMMAND_TIMEOUT_S: u64 = 5;

/// Runs until `shutdown`; connects with `settings` (its last will is set here to
/// `<prefix>/status` = `offline`, retained), reconnects with backoff forever on broker errors
/// (a broker restart is survived) and publishes retained `online` on `<prefix>/status` after
/// each `ConnAck`. On shutdown it publishes `offline` itself and disconnects.
pub async fn run(mut settings: ClientSettings, config: SimConfig, shutdown: CancellationToken) {
    let prefix = config.topic_prefix;
    if let Err(e) = validate_prefix(&prefix) {
        tracing::error!("simulator not started: {e}");
        return;
    }
    settings.last_will = Some((status_topic(&prefix), b"offline".to_vec(), true));
    let (client, eventloop) = settings.client(REQUEST_CAPACITY);
    let connected = Arc::new(AtomicBool::new(false));
    let (command_tx, command_rx) = mpsc::channel(16);
    let link = Link {
        client: client.clone(),
        prefix: prefix.clone(),
        connected: connected.clone(),
        commands: command_tx,
        host: format!("{}:{}", settings.host, settings.port),
    };
    let registers = modbus::registers();
    if let Some(listen) = config.modbus_listen {
        tokio::spawn(modbus::serve(
            listen,
            registers.clone(),
            link.commands.clone(),
            shutdown.clone(),
        ));
    }
    let mut connection = tokio::spawn(drive_connection(eventloop, link, shutdown.clone()));

    simulate(
        &client,
        &prefix,
        config.seed,
        &connected,
        command_rx,
        &shutdown,
        &registers,
    )
    .await;

    // The broker sends the will only when the connection is lost, not on a clean DISCONNECT.
    if connected.load(Ordering::Acquire) {
        let goodbye = async {
            client
                .publish(status_topic(&prefix), QoS::AtLeastOnce, true, "offline")
                .await?;
            client.disconnect().await
        };
        if !matches!(
            tokio::time::timeout(SHUTDOWN_GRACE, goodbye).await,
            Ok(Ok(()))
        ) {
            tracing::debug!("simulator: could not say offline before shutdown");
        }
    }
    if tokio::time::timeout(SHUTDOWN_GRACE, &mut connection)
        .await
        .is_err()
    {
        connection.abort();
    }
    tracing::info!("simulator stopped");
}

/// What the connection task shares with the simulation loop.
struct Link {
    client: AsyncClient,
    prefix: String,
    connected: Arc<AtomicBool>,
    commands: mpsc::Sender<Command>,
    host: String,
}

/// Drive the rumqttc event loop: announce `online` and subscribe after every `ConnAck`, hand
/// commands to the simulation, back off and retry on errors. Ends after the DISCONNECT that
/// `run` sends at shutdown, or on an error once shutdown has begun.
async fn drive_connection(mut eventloop: EventLoop, link: Link, shutdown: CancellationToken) {
    let cmd_topic = command_topic(&link.prefix);
    let sp_topic = setpoint_topic(&link.prefix);
    let mut backoff = BACKOFF_MIN;
    let mut failures: u32 = 0;
    loop {
        match eventloop.poll().await {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                backoff = BACKOFF_MIN;
                failures = 0;
                for topic in [&cmd_topic, &sp_topic] {
                    if let Err(e) = link.client.try_subscribe(topic.as_str(), QoS::AtLeastOnce) {
                        tracing::warn!("simulator: cannot queue subscribe to {topic}: {e}");
                    }
                }
                let status = status_topic(&link.prefix);
                if let Err(e) = link
                    .client
                    .try_publish(status, QoS::AtLeastOnce, true, "online")
                {
                    tracing::warn!("simulator: cannot queue the online status: {e}");
                }
                link.connected.store(true, Ordering::Release);
                tracing::info!(broker = %link.host, prefix = %link.prefix, "simulator connected");
            }
            Ok(Event::Incoming(Packet::Publish(p))) => {
                let parsed = if p.topic == cmd_topic {
                    if p.retain {
                        // A retained command would fire again on every reconnect.
                        tracing::warn!("simulator: ignoring retained command on {cmd_topic}");
                        continue;
                    }
                    Command::parse(&p.payload)
                } else if p.topic == sp_topic {
                    parse_setpoint(&p.payload)
                } else {
                    continue;
                };
                match parsed {
                    Ok(command) => {
                        tracing::info!("simulator command: {command}");
                        if link.commands.try_send(command).is_err() {
                            tracing::warn!("simulator: command dropped, too many pending");
                        }
                    }
                    Err(reason) => tracing::warn!("simulator: {reason}"),
                }
            }
            Ok(Event::Outgoing(Outgoing::Disconnect)) => break,
            Ok(_) => {}
            Err(ConnectionError::RequestsDone) => break,
            Err(e) => {
                let was_connected = link.connected.swap(false, Ordering::AcqRel);
                if shutdown.is_cancelled() {
                    break;
                }
                failures = failures.saturating_add(1);
                if was_connected || failures == 1 {
                    tracing::warn!(broker = %link.host, "simulator: MQTT connection: {e}; retrying");
                } else {
                    tracing::debug!(broker = %link.host, "simulator: MQTT connection: {e}");
                }
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    () = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(BACKOFF_MAX);
            }
        }
    }
    link.connected.store(false, Ordering::Release);
}

/// Step the plant every tick and publish each group when it is due (only while connected).
async fn simulate(
    client: &AsyncClient,
    prefix: &str,
    seed: u64,
    connected: &AtomicBool,
    mut commands: mpsc::Receiver<Command>,
    shutdown: &CancellationToken,
    registers: &modbus::Registers,
) {
    let time_of_day_s = f64::from(chrono::Local::now().num_seconds_from_midnight());
    let mut plant = Plant::new(seed, time_of_day_s);
    let mut interval = tokio::time::interval(Duration::from_millis(Group::TICK_MS));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut last = tokio::time::Instant::now();
    let mut tick: u64 = 0;
    // Connected at the previous tick (so a new connection publishes every group at once).
    let mut was_connected = false;
    let mut dropped: u64 = 0;
    let mut last_drop_report = tokio::time::Instant::now();
    loop {
        tokio::select! {
            biased;
            () = shutdown.cancelled() => break,
            _ = interval.tick() => {}
        }
        while let Ok(command) = commands.try_recv() {
            plant.apply(command);
        }
        let now = tokio::time::Instant::now();
        plant.step(now.duration_since(last).as_secs_f64().min(MAX_STEP_S));
        last = now;
        {
            // The Modbus registers show what the plant really uses.
            let mut regs = registers.lock();
            regs[usize::from(modbus::SUPPLY_SETPOINT_REGISTER)] =
                modbus::word_from_celsius(plant.ahu1.supply_sp_c);
            regs[usize::from(modbus::SUPPLY_TEMP_REGISTER)] =
                modbus::word_from_celsius(plant.ahu1.supply_c);
        }

        let is_connected = connected.load(Ordering::Acquire);
        // Right after (re)connecting every group goes out at once: no tag waits for its slow
        // group's next turn (up to 5 s of "---" on a freshly opened screen).
        let all_due = is_connected && !was_connected;
        was_connected = is_connected;
        if is_connected {
            let ts_ms = chrono::Utc::now().timestamp_millis();
            for group in Group::ALL.into_iter().filter(|g| all_due || g.due(tick)) {
                for (suffix, payload) in plant.payloads(group, ts_ms) {
                    let topic = format!("{prefix}/{suffix}");
                    if client
                        .try_publish(topic, QoS::AtMostOnce, false, payload)
                        .is_err()
                    {
                        dropped += 1;
                    }
                }
            }
        }
        if dropped > 0 && now.duration_since(last_drop_report) >= DROP_REPORT_EVERY {
            tracing::warn!("simulator: broker too slow, dropped {dropped} telemetry messages");
            dropped = 0;
            last_drop_report = now;
        }
        tick = tick.wrapping_add(1);
    }
}

/// Fires the "upset" used to demonstrate alarms: for `duration_s` the AHU1 supply air runs high
/// (heating valve stuck open, ~35 °C within a couple of minutes). Sends `upset <duration_s>` to
/// a running simulator's `<prefix>/sim/cmd`; the same as publishing `upset` there by hand.
pub async fn upset(
    settings: ClientSettings,
    topic_prefix: &str,
    duration_s: f64,
) -> Result<(), SimError> {
    if !(duration_s.is_finite() && duration_s > 0.0) {
        return Err(SimError::BadCommand(format!(
            "upset duration {duration_s} s is not > 0"
        )));
    }
    send_command(settings, topic_prefix, Command::Upset { duration_s }).await
}

/// Publish `command` (QoS 1) to `<topic_prefix>/sim/cmd` through a short-lived connection and
/// wait for the broker's acknowledgement. The client id gets a `-cmd-<pid>` suffix so it does
/// not kick out a simulator connected with the same settings.
pub async fn send_command(
    mut settings: ClientSettings,
    topic_prefix: &str,
    command: Command,
) -> Result<(), SimError> {
    validate_prefix(topic_prefix)?;
    settings.client_id = format!("{}-cmd-{}", settings.client_id, std::process::id());
    settings.last_will = None;
    let (client, mut eventloop) = settings.client(8);
    client
        .try_publish(
            command_topic(topic_prefix),
            QoS::AtLeastOnce,
            false,
            command.to_string(),
        )
        .map_err(|e| SimError::Mqtt(e.to_string()))?;
    let acked = async {
        loop {
            match eventloop.poll().await {
                Ok(Event::Incoming(Packet::PubAck(_))) => return Ok(()),
                Ok(_) => {}
                Err(e) => return Err(SimError::Mqtt(e.to_string())),
            }
        }
    };
    let timeout = Duration::from_secs(COMMAND_TIMEOUT_S);
    let result = tokio::time::timeout(timeout, acked)
        .await
        .unwrap_or(Err(SimError::Timeout(COMMAND_TIMEOUT_S)));
    if result.is_ok() && client.try_disconnect().is_ok() {
        let flushed = async {
            while let Ok(event) = eventloop.poll().await {
                if matches!(event, Event::Outgoing(Outgoing::Disconnect)) {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(1), flushed).await;
    }
    result
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::project;

    #[test]
    fn config_and_topics() {
        let c = SimConfig::default();
        assert_eq!(c.topic_prefix, "plant");
        assert!(validate_prefix(&c.topic_prefix).is_ok());
        assert!(validate_prefix("site/a/plant").is_ok());
        for bad in ["", "/plant", "plant/", "pl+nt", "plant/#"] {
            assert!(validate_prefix(bad).is_err(), "{bad}");
        }
        assert_eq!(status_topic("plant"), "plant/status");
        assert_eq!(command_topic("plant"), "plant/sim/cmd");
        assert_eq!(setpoint_topic("plant"), "plant/ahu1/supply_setpoint/set");
    }

    /// The demo project loads without problems, is saved byte-identically (stable form) and
    /// its simulator prefix is the one the simulator defaults to.
    #[test]
    fn demo_project_loads_and_is_stable() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("projects/demo-plant");
        let p = match project::load(&dir) {
            Ok(p) => p,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(p.name(), "Demo Energy Plant");
        assert!(p.file.tags.len() >= 30, "{} tags", p.file.tags.len());
        let sim = p.file.simulator.as_ref().unwrap();
        assert!(sim.enabled);
        assert_eq!(sim.topic_prefix, SimConfig::default().topic_prefix);
        let ids: Vec<&str> = p.screens.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["overview", "ahu1", "pumps", "pump_faceplate"]);

        let on_disk = std::fs::read_to_string(dir.join("project.json")).unwrap();
        assert_eq!(project::to_stable_json(&p.file).unwrap(), on_disk);
        for s in &p.screens {
            let on_disk =
                std::fs::read_to_string(dir.join(format!("screens/{}.json", s.id))).unwrap();
            assert_eq!(
                project::to_stable_json(&s.file).unwrap(),
                on_disk,
                "screens/{}.json",
                s.id
            );
        }
    }

    /// Screens are calm: on a 10-point grid, inside the design size, and no two widgets overlap
    /// except pipes and symbols inside their frames.
    #[test]
    fn demo_screens_are_tidy() {
        use project::WidgetKind as K;
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("projects/demo-plant");
        let p = project::load(&dir).unwrap();
        let rect = |w: &project::WidgetConfig| (w.x, w.y, w.x + w.w, w.y + w.h);
        let hit = |a: (f32, f32, f32, f32), b: (f32, f32, f32, f32)| {
            a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3
        };
        for s in &p.screens {
            let [sw, sh] = s.file.size;
            for w in &s.file.widgets {
                assert!(
                    w.x % 10.0 == 0.0 && w.y % 10.0 == 0.0,
                    "{}: {} off grid",
                    s.id,
                    w.id
                );
                assert!(
                    w.x >= 0.0 && w.y >= 0.0 && w.x + w.w <= sw && w.y + w.h <= sh,
                    "{}",
                    w.id
                );
            }
            let solid: Vec<_> = s
                .file
                .widgets
                .iter()
                .filter(|w| !matches!(w.kind, K::Group | K::Pipe))
                .collect();
            for (i, a) in solid.iter().enumerate() {
                for b in &solid[i + 1..] {
                    assert!(
                        !hit(rect(a), rect(b)),
                        "{}: {} overlaps {}",
                        s.id,
                        a.id,
                        b.id
                    );
                }
            }
            for pipe in s.file.widgets.iter().filter(|w| w.kind == K::Pipe) {
                for b in solid
                    .iter()
                    .filter(|w| matches!(w.kind, K::Value | K::Lamp | K::Bar | K::Text))
                {
                    assert!(
                        !hit(rect(pipe), rect(b)),
                        "{}: pipe {} under {}",
                        s.id,
                        pipe.id,
                        b.id
                    );
                }
            }
        }
    }
}
