//! The headless engine: owns the embedded broker, the MQTT connection, the tag store, the stale
//! checker, the simulator (demo projects) and the command loop. No egui here.
//!
//! Data flows in: MQTT → [`ingest::Router`] (decode) → [`TagStore`] → change feed → consumers.
//! Commands flow out: [`Command`] channel → engine → broker/device → [`EngineEvent`].

mod command;
mod connect;
mod decode;
mod devices;
mod dispatch;
mod ingest;
mod tags;
mod value;

use connect::connection_settings;
use devices::{Writes, poll_group};
use dispatch::{Outlets, command_loop};

pub use command::{Command, CommandId, EngineEvent};
pub use decode::{Payload, parse_bool, parse_number};
pub use ingest::Router;
pub use tags::{FEED_CAPACITY, TagStore};
pub use value::{
    Quality, TagChange, TagId, TagState, Value, format_duration_ms, format_local_ms, now_ms,
};

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::RwLock;
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;

use crate::mqtt::{BrokerError, ClientSettings, ConnState, Subscriber};
use crate::project::{BrokerConfig, Project};

/// Overrides from the command line.
#[derive(Clone, Debug, Default)]
pub struct EngineOptions {
    /// Embedded broker address instead of the project's.
    pub broker_listen: Option<SocketAddr>,
    /// Use this external broker instead of the project's setting.
    pub broker_url: Option<String>,
    /// Where runtime data goes (default: `<project>/data`).
    pub data_dir: Option<PathBuf>,
    /// Force the simulator on or off (default: the project's setting).
    pub simulator: Option<bool>,
    /// Do not record history (default: record into `<data dir>/history.sqlite`).
    pub no_history: bool,
    /// The external broker's password as typed at a prompt (never stored; preferred over
    /// the project's `password_env`).
    pub broker_password: Option<Secret>,
}

/// A password held in memory: never printed, not even by `Debug`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Broker(#[from] BrokerError),
    #[error("broker URL: {0}")]
    Url(#[from] crate::mqtt::UrlError),
    #[error("TLS: {0}")]
    Tls(String),
    #[error(
        "environment variable {0} (broker password) is not set; set it, or start PlantView from a terminal to be asked"
    )]
    MissingPassword(String),
    #[error("cannot start the engine runtime: {0}")]
    Runtime(std::io::Error),
    #[error("cannot create the data folder {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What the top bar shows about the engine.
#[derive(Clone, Debug, PartialEq)]
pub struct EngineStatus {
    /// `mqtt://127.0.0.1:1883 (embedded)` and the like.
    pub broker: String,
    pub connection: ConnState,
    /// Embedded broker listeners (MQTT 3.1.1, MQTT 5) when embedded.
    pub embedded: Option<(SocketAddr, SocketAddr)>,
    pub simulator: bool,
    pub data_dir: PathBuf,
}

/// A running engine. Dropping it shuts it down.
pub struct EngineHandle {
    pub project: Arc<Project>,
    pub tags: Arc<TagStore>,
    status: Arc<RwLock<EngineStatus>>,
    commands: mpsc::Sender<Command>,
    events: broadcast::Sender<EngineEvent>,
    shutdown: CancellationToken,
    history: Option<crate::history::Historian>,
    /// Why history is off, when it could not start.
    history_error: Option<String>,
    alarms: Option<crate::alarms::AlarmHandle>,
    /// Why alarms are off, when they could not start.
    alarms_error: Option<String>,
    devices: Vec<(
        String,
        tokio::sync::watch::Receiver<crate::modbus::DeviceStatus>,
    )>,
    runtime: Option<tokio::runtime::Runtime>,
    /// What the engine was started with (a restart after a project save reuses them).
    options: EngineOptions,
    /// The settings the engine's MQTT connection uses (the topic browser connects alike).
    client_settings: ClientSettings,
    /// The topic browser, started by the first [`EngineHandle::topic_browser`] call.
    topic_browser: parking_lot::Mutex<Option<crate::mqtt::TopicBrowser>>,
}

impl EngineHandle {
    /// The options the engine was started with.
    pub fn options(&self) -> &EngineOptions {
        &self.options
    }

    /// The historian's state (`None` when history is off).
    pub fn history_status(&self) -> Option<crate::history::HistoryStatus> {
        self.history.as_ref().map(crate::history::Historian::status)
    }

    /// Why history could not start, if it could not.
    pub fn history_error(&self) -> Option<&str> {
        self.history_error.as_deref()
    }

    /// The alarm system (`None` when the project defines no alarms or it could not start).
    pub fn alarms(&self) -> Option<&crate::alarms::AlarmHandle> {
        self.alarms.as_ref()
    }

    /// Each Modbus device's connection state.
    pub fn device_status(&self) -> Vec<(String, crate::modbus::DeviceStatus)> {
        self.devices
            .iter()
            .map(|(n, w)| (n.clone(), w.borrow().clone()))
            .collect()
    }

    /// Why alarms could not start, if they could not.
    pub fn alarms_error(&self) -> Option<&str> {
        self.alarms_error.as_deref()
    }

    pub fn status(&self) -> EngineStatus {
        self.status.read().clone()
    }

    /// Send a command; fails only if the engine's command queue is full or stopped.
    pub fn send(&self, command: Command) -> Result<(), String> {
        self.commands
            .try_send(command)
            .map_err(|e| format!("engine busy or stopped: {e}"))
    }

    pub fn events(&self) -> broadcast::Receiver<EngineEvent> {
        self.events.subscribe()
    }

    /// The engine's tokio runtime (for consumers that run tasks beside it).
    pub fn runtime(&self) -> Option<&tokio::runtime::Handle> {
        self.runtime.as_ref().map(tokio::runtime::Runtime::handle)
    }

    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Stop every task and wait (briefly) for them.
    pub fn shutdown(mut self) {
        self.stop();
    }

    /// Stop every task now (before starting another engine on the same ports and files).
    pub fn stop_now(&mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.shutdown.cancel();
        if let Some(a) = self.alarms.take() {
            a.stop();
        }
        if let Some(h) = self.history.take() {
            h.stop(); // final flush before the runtime goes
        }
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_timeout(Duration::from_secs(2));
        }
    }

    /// The MQTT topic browser (every topic on the broker): its own connection with the engine's
    /// settings, started on the first call on the engine runtime and shared by later calls; it
    /// stops with the engine. `None` once the engine is shut down.
    pub fn topic_browser(&self) -> Option<crate::mqtt::TopicBrowser> {
        let mut slot = self.topic_browser.lock();
        if let Some(browser) = slot.as_ref() {
            return Some(browser.clone());
        }
        if self.shutdown.is_cancelled() {
            return None;
        }
        let runtime = self.runtime.as_ref()?;
        let browser = crate::mqtt::TopicBrowser::start(
            self.client_settings.clone(),
            runtime.handle(),
            self.shutdown.clone(),
        );
        *slot = Some(browser.clone());
        Some(browser)
    }
}

impl Drop for EngineHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

/// [`start`]; when the external broker's password variable is not set and a person is at a
/// terminal, ask for the password there (without echo) and start with it.
pub fn start_asking(
    project: Project,
    options: &EngineOptions,
) -> Result<EngineHandle, EngineError> {
    use std::io::IsTerminal as _;
    let asked = match (&project.file.broker, &options.broker_password) {
        (BrokerConfig::External(ext), None)
            if ext.username.is_some()
                && ext
                    .password_env
                    .as_ref()
                    .is_some_and(|v| std::env::var_os(v).is_none())
                && std::io::stdin().is_terminal() =>
        {
            let prompt = format!(
                "MQTT password for {} at {}: ",
                ext.username.as_deref().unwrap_or_default(),
                options.broker_url.as_deref().unwrap_or(&ext.url)
            );
            rpassword::prompt_password(prompt).ok().map(Secret)
        }
        _ => None,
    };
    match asked {
        Some(p) => start(
            project,
            &EngineOptions {
                broker_password: Some(p),
                ..options.clone()
            },
        ),
        None => start(project, options),
    }
}

/// Start the engine on `project`.
pub fn start(project: Project, options: &EngineOptions) -> Result<EngineHandle, EngineError> {
    let project = Arc::new(project);
    let data_dir = options
        .data_dir
        .clone()
        .unwrap_or_else(|| project.default_data_dir());
    std::fs::create_dir_all(&data_dir).map_err(|source| EngineError::DataDir {
        path: data_dir.clone(),
        source,
    })?;

    let mut tls_listener = None;
    let (settings, embedded, broker_desc) =
        connection_settings(&project, options, &mut tls_listener)?;
    let client_settings = settings.clone();
    let simulator = options
        .simulator
        .unwrap_or_else(|| project.file.simulator.as_ref().is_some_and(|s| s.enabled));

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("pv-engine")
        .enable_all()
        .build()
        .map_err(EngineError::Runtime)?;

    let tags = Arc::new(TagStore::new(
        project
            .file
            .tags
            .iter()
            .map(|t| (t.name.as_str(), t.stale_after_s)),
    ));
    let status = Arc::new(RwLock::new(EngineStatus {
        broker: broker_desc,
        connection: ConnState::Connecting,
        embedded,
        simulator,
        data_dir,
    }));
    let (events, _) = broadcast::channel(1024);
    let (commands, command_rx) = mpsc::channel(256);
    let shutdown = CancellationToken::new();
    if let Some((listener, backend, config)) = tls_listener {
        runtime.spawn(crate::mqtt::serve_tls(
            listener,
            backend,
            config,
            shutdown.clone(),
        ));
    }

    // History subscribes to the change feed before any data flows.
    let (history, history_error) = if options.no_history {
        (None, None)
    } else {
        let path = crate::history::history_path(&status.read().data_dir);
        match crate::history::Historian::start(
            &path,
            &project,
            &tags,
            runtime.handle(),
            shutdown.clone(),
        ) {
            Ok(h) => (Some(h), None),
            Err(e) => {
                let why = format!("history off: cannot open {}: {e}", path.display());
                tracing::error!("{why}");
                (None, Some(why))
            }
        }
    };

    // Alarms, like history, see every change from the first one.
    let (alarms, alarms_error) = if project.file.alarms.is_empty() {
        (None, None)
    } else {
        let path = crate::alarms::journal_path(&status.read().data_dir);
        match crate::alarms::AlarmEngine::start(
            &path,
            &project.file.alarms,
            tags.clone(),
            runtime.handle(),
            shutdown.clone(),
        ) {
            Ok(a) => (Some(a), None),
            Err(e) => {
                let why = format!(
                    "ALARMS OFF: cannot start the alarm journal {}: {e}",
                    path.display()
                );
                tracing::error!("{why}");
                (None, Some(why))
            }
        }
    };

    let router = Router::new(&project.file.tags, tags.clone());
    let subscriber = Subscriber::new(settings.clone(), &router.filters());
    let publisher = subscriber.handle();

    // MQTT → tag store.
    {
        let store = tags.clone();
        let status = status.clone();
        let events = events.clone();
        let mqtt_tags: Vec<TagId> = router.tag_ids().collect();
        let on_state = move |state: ConnState| {
            if let ConnState::Disconnected { reason, .. } = &state {
                let reason: Arc<str> = Arc::from(format!("broker connection lost: {reason}"));
                let now = now_ms();
                for &id in &mqtt_tags {
                    store.set_quality(id, Quality::Bad, Some(reason.clone()), now);
                }
            }
            status.write().connection = state.clone();
            let _ = events.send(EngineEvent::Broker(state));
        };
        let on_publish = move |msg: crate::mqtt::Incoming<'_>| {
            router.route(msg.topic, msg.payload, now_ms());
        };
        runtime.spawn(subscriber.run(on_state, on_publish, shutdown.clone()));
    }

    // Stale checker.
    {
        let store = tags.clone();
        let shutdown = shutdown.clone();
        runtime.spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(250));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    _ = tick.tick() => {
                        store.mark_stale(now_ms());
                    }
                }
            }
        });
    }

    // Modbus devices (one task each) and the audit trail of writes.
    let mut devices = std::collections::HashMap::new();
    let mut device_status = Vec::new();
    for d in &project.file.devices {
        match crate::modbus::DeviceHandle::spawn_on(d.clone(), runtime.handle()) {
            Ok(h) => {
                // Every change of a device's connection goes to the log (serve) and the GUI.
                let mut watch = h.watch_status();
                device_status.push((d.name.clone(), watch.clone()));
                let name = d.name.clone();
                let stop = shutdown.clone();
                runtime.spawn(async move {
                    loop {
                        tokio::select! {
                            () = stop.cancelled() => break,
                            changed = watch.changed() => {
                                if changed.is_err() {
                                    break;
                                }
                                let status = watch.borrow_and_update().clone();
                                match status {
                                    crate::modbus::DeviceStatus::Connected => {
                                        tracing::info!(device = %name, "Modbus device connected");
                                    }
                                    other => tracing::warn!(device = %name, "Modbus device: {other:?}"),
                                }
                            }
                        }
                    }
                });
                devices.insert(d.name.clone(), h);
            }
            Err(e) => tracing::error!(device = %d.name, "cannot start the device task: {e}"),
        }
    }
    // Modbus poll groups: the tags of one device with the same period are read together.
    let mut groups: std::collections::BTreeMap<
        (String, u64),
        Vec<(TagId, crate::project::TagPoll)>,
    > = std::collections::BTreeMap::new();
    for (i, t) in project.file.tags.iter().enumerate() {
        if let Some(p) = &t.poll {
            groups
                .entry((p.device.clone(), p.interval_ms))
                .or_default()
                .push((i as TagId, p.clone()));
        }
    }
    for ((device, interval_ms), members) in groups {
        let Some(handle) = devices.get(&device).cloned() else {
            continue;
        };
        runtime.spawn(poll_group(
            handle,
            Duration::from_millis(interval_ms),
            members,
            tags.clone(),
            publisher.clone(),
            shutdown.clone(),
        ));
    }
    let audit_path = crate::security::audit_path(&status.read().data_dir);
    let writes = Writes {
        project: project.clone(),
        tags: tags.clone(),
        devices,
        audit_path,
    };

    // Commands.
    runtime.spawn(command_loop(
        command_rx,
        Outlets {
            security: project.security(),
            publisher,
            writes,
            alarms: alarms.as_ref().map(crate::alarms::AlarmHandle::commander),
        },
        events.clone(),
        shutdown.clone(),
    ));

    // Demo plant.
    if simulator {
        let mut sim_settings = settings;
        sim_settings.client_id = format!("{}-sim", sim_settings.client_id);
        let prefix = project
            .file
            .simulator
            .as_ref()
            .map_or_else(|| "plant".to_owned(), |s| s.topic_prefix.clone());
        let modbus_listen = project
            .file
            .simulator
            .as_ref()
            .and_then(|s| s.modbus_listen.as_deref())
            .and_then(|a| a.parse().ok());
        let config = crate::sim::SimConfig {
            topic_prefix: prefix,
            modbus_listen,
            ..Default::default()
        };
        runtime.spawn(crate::sim::run(sim_settings, config, shutdown.clone()));
    }

    Ok(EngineHandle {
        project,
        tags,
        status,
        commands,
        events,
        shutdown,
        history,
        history_error,
        alarms,
        alarms_error,
        devices: device_status,
        runtime: Some(runtime),
        options: options.clone(),
        client_settings,
        topic_browser: parking_lot::Mutex::new(None),
    })
}
