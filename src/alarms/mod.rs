//! Alarms (ISA-18.2): definitions, condition evaluation on the engine's change feed, the
//! per-alarm state machine, the SQLite journal, operator actions and alarm-system health.
//!
//! [`AlarmEngine::start`] runs a feed task on the engine runtime (change feed → bounded channel,
//! plus a 100 ms tick) and a named thread `pv-alarms` that evaluates, journals
//! (`synchronous=FULL`) and only then publishes [`AlarmEvent`]s and updates the active list.
//! [`AlarmHandle`] is what the GUI and CLI hold. No egui here; the banner, summary and history
//! pages are thin clients of this module.

mod config;
mod eval;
mod health;
mod journal;
mod state;
mod worker;

pub use config::{AlarmConfig, AlarmKind, Equals, Priority, validate};
pub use eval::{Detector, Emitted, Evaluator, restore};
pub use health::{
    Activations, AlarmHealth, CHATTER_COUNT, CHATTER_WINDOW_MS, FLOOD_THRESHOLD, FLOOD_WINDOW_MS,
    STALE_AFTER_MS,
};
pub use journal::{
    JournalEntry, JournalQuery, activations_since, append, journal_path, last_events, open_reader,
    open_writer, query, rebuild, tag_states,
};
pub use state::{ActiveAlarm, Actor, AlarmEvent, AlarmState, EventKind, Machine, Modes, Shelve};

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Mutex, RwLock};
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;

use crate::engine::{TagStore, now_ms};

use self::worker::{Core, Input, Shared};

/// Longest timed shelve an operator may set (8 h).
pub const MAX_SHELVE_S: u32 = 8 * 3600;
/// How often delays and shelve expiry are evaluated.
pub const TICK: Duration = Duration::from_millis(100);
/// Depth of the published event feed per subscriber before it lags.
pub const EVENT_CAPACITY: usize = 1 << 14;
/// Inputs (change batches, ticks, commands) waiting for the alarm thread.
const INPUT_CAPACITY: usize = 256;
/// Most tag changes per batch handed to the alarm thread.
const BATCH: usize = 4096;

#[derive(Debug, thiserror::Error)]
pub enum AlarmError {
    #[error("invalid alarm definitions: {}", join(.0))]
    Invalid(Vec<(String, String)>),
    #[error("cannot open the alarm journal {path}: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("cannot start the alarm thread: {0}")]
    Thread(std::io::Error),
    #[error("not journaled, so not done: {0}")]
    Journal(rusqlite::Error),
    #[error("not done: {0}")]
    JournalDown(String),
    #[error("unknown alarm `{0}`")]
    UnknownAlarm(String),
    #[error("{0} needs a user name")]
    MissingUser(&'static str),
    #[error("{0} needs a reason")]
    MissingReason(&'static str),
    #[error("an alarm can be shelved for 1 s to {max} s, not {got} s", max = MAX_SHELVE_S)]
    ShelveDuration { got: u32 },
    #[error("the alarm engine is busy or did not answer in time (the action may still apply)")]
    Busy,
    #[error("the alarm engine has stopped")]
    Stopped,
}

fn join(problems: &[(String, String)]) -> String {
    problems
        .iter()
        .map(|(path, why)| format!("{path}: {why}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// How long to shelve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShelveFor {
    /// 1 ..= [`MAX_SHELVE_S`] seconds.
    Seconds(u32),
    /// Until the alarm's condition next clears.
    OneShot,
}

/// An operator action; journaled with the user.
#[derive(Clone, Debug, PartialEq)]
pub enum AlarmCommand {
    Ack {
        names: Vec<String>,
        user: String,
        comment: Option<String>,
    },
    /// Reset latched alarms (acknowledged, condition clear).
    Reset {
        names: Vec<String>,
        user: String,
        comment: Option<String>,
    },
    Shelve {
        name: String,
        user: String,
        shelve_for: ShelveFor,
        reason: String,
    },
    Unshelve {
        name: String,
        user: String,
        comment: Option<String>,
    },
    SetOutOfService {
        name: String,
        out_of_service: bool,
        user: String,
        /// Required when taking an alarm out of service.
        reason: String,
    },
}

/// Starts the alarm engine.
pub struct AlarmEngine;

impl AlarmEngine {
    /// Open (or create) the journal at `journal_path`, resume every alarm from its last journaled
    /// state, and evaluate `store`'s change feed on `runtime` until `shutdown` or
    /// [`AlarmHandle::stop`]. The definitions are validated against the store's tags first.
    pub fn start(
        journal_path: &Path,
        defs: &[AlarmConfig],
        store: Arc<TagStore>,
        runtime: &tokio::runtime::Handle,
        shutdown: CancellationToken,
    ) -> Result<AlarmHandle, AlarmError> {
        let problems = validate(defs, &|t| store.id(t).is_some());
        if !problems.is_empty() {
            return Err(AlarmError::Invalid(problems));
        }
        let open_err = |source| AlarmError::Open {
            path: journal_path.to_owned(),
            source,
        };
        let conn = journal::open_writer(journal_path).map_err(open_err)?;
        let last = journal::last_events(&conn).map_err(open_err)?;
        let now = now_ms();
        let recent = journal::activations_since(&conn, now - FLOOD_WINDOW_MS).map_err(open_err)?;

        let defs: Arc<[AlarmConfig]> = defs.into();
        let eval = Evaluator::new(defs.clone(), &|t| store.id(t), &last);
        let active = eval
            .machines()
            .iter()
            .zip(defs.iter())
            .map(|(m, d)| m.is_listed().then(|| ActiveAlarm::new(d, m)))
            .collect();
        let mut activations = Activations::default();
        for (ts, name, annunciated) in recent {
            if let Some(i) = eval.index_of(&name) {
                activations.record(ts, i, annunciated);
            }
        }
        let interesting = eval.interesting_tags();
        let (events, _) = broadcast::channel(EVENT_CAPACITY);
        let shared = Arc::new(Shared {
            names: defs.iter().map(|d| d.name.clone()).collect(),
            defs,
            active: RwLock::new(active),
            events,
            activations: Mutex::new(activations),
            journal_error: RwLock::new(None),
            unjournaled: AtomicUsize::new(0),
            lost_changes: AtomicU64::new(0),
            version: AtomicU64::new(0),
        });

        let (tx, rx) = mpsc::channel(INPUT_CAPACITY);
        let core = Core {
            eval,
            conn,
            shared: shared.clone(),
            unjournaled: Vec::new(),
            retry_at: None,
        };
        let thread = std::thread::Builder::new()
            .name("pv-alarms".to_owned())
            .spawn(move || core.run(rx))
            .map_err(AlarmError::Thread)?;
        let stop = shutdown.child_token();
        runtime.spawn(feed(
            store,
            interesting,
            tx.clone(),
            shared.clone(),
            stop.clone(),
        ));
        Ok(AlarmHandle {
            shared,
            input: Some(tx),
            stop,
            thread: Some(thread),
            path: journal_path.to_owned(),
        })
    }
}

/// A running alarm engine. Dropping it stops it (after journaling what is pending).
pub struct AlarmHandle {
    shared: Arc<Shared>,
    input: Option<mpsc::Sender<Input>>,
    stop: CancellationToken,
    thread: Option<std::thread::JoinHandle<()>>,
    path: PathBuf,
}

impl AlarmHandle {
    pub fn definitions(&self) -> &[AlarmConfig] {
        &self.shared.defs
    }

    pub fn journal_path(&self) -> &Path {
        &self.path
    }

    /// The active list (annunciated, shelved, out of service, or suppressed while active),
    /// ordered by priority, then newest first.
    pub fn active(&self) -> Vec<ActiveAlarm> {
        let mut list: Vec<ActiveAlarm> = self
            .shared
            .active
            .read()
            .iter()
            .flatten()
            .cloned()
            .collect();
        ActiveAlarm::sort(&mut list);
        list
    }

    /// Every event, after it is journaled. A lagging subscriber resynchronises from `active()`.
    pub fn subscribe(&self) -> broadcast::Receiver<AlarmEvent> {
        self.shared.events.subscribe()
    }

    /// Bumped whenever the active list changes (the GUI skips work when it did not).
    pub fn version(&self) -> u64 {
        self.shared.version.load(Ordering::Acquire)
    }

    pub fn health(&self, now_ms: i64) -> AlarmHealth {
        let active = self.active();
        let mut h = self
            .shared
            .activations
            .lock()
            .health(&self.shared.defs, &active, now_ms);
        h.journal_error = self.shared.journal_error.read().clone();
        h.unjournaled = self.shared.unjournaled.load(Ordering::Acquire);
        h.lost_changes = self.shared.lost_changes.load(Ordering::Acquire);
        h
    }

    /// Acknowledge; alarms with nothing to acknowledge are skipped.
    pub fn ack(
        &self,
        names: &[&str],
        user: &str,
        comment: Option<&str>,
    ) -> Result<Vec<AlarmEvent>, AlarmError> {
        self.execute(AlarmCommand::Ack {
            names: names.iter().map(|n| (*n).to_owned()).collect(),
            user: user.to_owned(),
            comment: comment.map(str::to_owned),
        })
    }

    /// Reset latched alarms that are acknowledged and clear; others are skipped.
    pub fn reset(
        &self,
        names: &[&str],
        user: &str,
        comment: Option<&str>,
    ) -> Result<Vec<AlarmEvent>, AlarmError> {
        self.execute(AlarmCommand::Reset {
            names: names.iter().map(|n| (*n).to_owned()).collect(),
            user: user.to_owned(),
            comment: comment.map(str::to_owned),
        })
    }

    pub fn shelve(
        &self,
        name: &str,
        user: &str,
        shelve_for: ShelveFor,
        reason: &str,
    ) -> Result<Vec<AlarmEvent>, AlarmError> {
        self.execute(AlarmCommand::Shelve {
            name: name.to_owned(),
            user: user.to_owned(),
            shelve_for,
            reason: reason.to_owned(),
        })
    }

    pub fn unshelve(
        &self,
        name: &str,
        user: &str,
        comment: Option<&str>,
    ) -> Result<Vec<AlarmEvent>, AlarmError> {
        self.execute(AlarmCommand::Unshelve {
            name: name.to_owned(),
            user: user.to_owned(),
            comment: comment.map(str::to_owned),
        })
    }

    pub fn set_out_of_service(
        &self,
        name: &str,
        out_of_service: bool,
        user: &str,
        reason: &str,
    ) -> Result<Vec<AlarmEvent>, AlarmError> {
        self.execute(AlarmCommand::SetOutOfService {
            name: name.to_owned(),
            out_of_service,
            user: user.to_owned(),
            reason: reason.to_owned(),
        })
    }

    /// Run a command and wait until it is journaled (or refused). Blocks for the journal's
    /// commit: call it off the UI thread, or use [`Self::submit`].
    pub fn execute(&self, command: AlarmCommand) -> Result<Vec<AlarmEvent>, AlarmError> {
        let tx = self.input.as_ref().ok_or(AlarmError::Stopped)?;
        execute(&self.shared, tx, command)
    }

    /// A handle for sending commands from elsewhere (the engine's command loop). It does not
    /// keep the alarm thread alive: once the alarm engine stops, its commands fail `Stopped`.
    pub fn commander(&self) -> AlarmCommander {
        AlarmCommander {
            shared: self.shared.clone(),
            input: self.input.as_ref().map(mpsc::Sender::downgrade),
        }
    }

    /// Check a command and queue it without waiting (the UI path): the outcome arrives as
    /// events on [`Self::subscribe`]; a refusal in the alarm thread (journal down) is logged.
    pub fn submit(&self, command: AlarmCommand) -> Result<(), AlarmError> {
        check(&self.shared, &command)?;
        let input = self.input.as_ref().ok_or(AlarmError::Stopped)?;
        input
            .try_send(Input::Command {
                command,
                ts_ms: now_ms(),
                reply: None,
            })
            .map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => AlarmError::Busy,
                mpsc::error::TrySendError::Closed(_) => AlarmError::Stopped,
            })
    }

    /// Stop: the feed task ends, the alarm thread journals what is pending and exits.
    /// Call from outside the engine runtime's worker threads.
    pub fn stop(mut self) {
        self.finish();
    }

    fn finish(&mut self) {
        self.stop.cancel();
        self.input.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for AlarmHandle {
    fn drop(&mut self) {
        self.finish();
    }
}

/// Sends operator actions to a running alarm engine (see [`AlarmHandle::commander`]).
#[derive(Clone)]
pub struct AlarmCommander {
    shared: Arc<Shared>,
    input: Option<mpsc::WeakSender<Input>>,
}

impl AlarmCommander {
    /// Like [`AlarmHandle::execute`]: blocks until journaled; call off async threads.
    pub fn execute(&self, command: AlarmCommand) -> Result<Vec<AlarmEvent>, AlarmError> {
        let tx = self
            .input
            .as_ref()
            .and_then(mpsc::WeakSender::upgrade)
            .ok_or(AlarmError::Stopped)?;
        execute(&self.shared, &tx, command)
    }

    pub fn definitions(&self) -> &[AlarmConfig] {
        &self.shared.defs
    }
}

/// Run a command and wait until it is journaled (or refused).
fn execute(
    shared: &Shared,
    tx: &mpsc::Sender<Input>,
    command: AlarmCommand,
) -> Result<Vec<AlarmEvent>, AlarmError> {
    check(shared, &command)?;
    let (reply, result) = std::sync::mpsc::sync_channel(1);
    send(
        tx,
        Input::Command {
            command,
            ts_ms: now_ms(),
            reply: Some(reply),
        },
    )?;
    result
        .recv_timeout(Duration::from_secs(10))
        .map_err(|e| match e {
            std::sync::mpsc::RecvTimeoutError::Timeout => AlarmError::Busy,
            std::sync::mpsc::RecvTimeoutError::Disconnected => AlarmError::Stopped,
        })?
}

/// What can be refused without the alarm thread.
fn check(shared: &Shared, command: &AlarmCommand) -> Result<(), AlarmError> {
    let known = |n: &str| {
        if shared.names.contains(n) {
            Ok(())
        } else {
            Err(AlarmError::UnknownAlarm(n.to_owned()))
        }
    };
    let user_ok = |user: &str, what| {
        if user.trim().is_empty() {
            Err(AlarmError::MissingUser(what))
        } else {
            Ok(())
        }
    };
    match command {
        AlarmCommand::Ack { names, user, .. } => {
            user_ok(user, "acknowledging")?;
            names.iter().try_for_each(|n| known(n))
        }
        AlarmCommand::Reset { names, user, .. } => {
            user_ok(user, "resetting")?;
            names.iter().try_for_each(|n| known(n))
        }
        AlarmCommand::Shelve {
            name,
            user,
            shelve_for,
            reason,
        } => {
            known(name)?;
            user_ok(user, "shelving")?;
            if reason.trim().is_empty() {
                return Err(AlarmError::MissingReason("shelving"));
            }
            match shelve_for {
                ShelveFor::Seconds(s) if *s == 0 || *s > MAX_SHELVE_S => {
                    Err(AlarmError::ShelveDuration { got: *s })
                }
                _ => Ok(()),
            }
        }
        AlarmCommand::Unshelve { name, user, .. } => {
            known(name)?;
            user_ok(user, "unshelving")
        }
        AlarmCommand::SetOutOfService {
            name,
            out_of_service,
            user,
            reason,
        } => {
            known(name)?;
            user_ok(user, "taking out of service")?;
            if *out_of_service && reason.trim().is_empty() {
                return Err(AlarmError::MissingReason("taking an alarm out of service"));
            }
            Ok(())
        }
    }
}

/// Queue an input, waiting (briefly) while the alarm thread is busy. Works from any thread.
fn send(tx: &mpsc::Sender<Input>, mut input: Input) -> Result<(), AlarmError> {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        match tx.try_send(input) {
            Ok(()) => return Ok(()),
            Err(mpsc::error::TrySendError::Closed(_)) => return Err(AlarmError::Stopped),
            Err(mpsc::error::TrySendError::Full(back)) => {
                if Instant::now() > deadline {
                    return Err(AlarmError::Busy);
                }
                input = back;
                std::thread::sleep(Duration::from_millis(2));
            }
        }
    }
}

/// Change feed → batches for the alarm thread (only tags some alarm reads), plus ticks.
async fn feed(
    store: Arc<TagStore>,
    interesting: Vec<bool>,
    tx: mpsc::Sender<Input>,
    shared: Arc<Shared>,
    stop: CancellationToken,
) {
    use tokio::sync::broadcast::error::{RecvError, TryRecvError};
    let wanted = |tag: u32| interesting.get(tag as usize).copied().unwrap_or(false);
    let send = |input: Input| {
        let (tx, stop) = (&tx, &stop);
        async move {
            tokio::select! {
                () = stop.cancelled() => false,
                r = tx.send(input) => r.is_ok(),
            }
        }
    };
    let mut rx = store.subscribe();
    if !send(Input::Resync(store.snapshot(), now_ms())).await {
        return;
    }
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let lagged = |n: u64| {
        shared.lost_changes.fetch_add(n, Ordering::AcqRel);
        tracing::warn!("alarms missed {n} tag changes (change feed overrun); resynchronising");
    };
    loop {
        tokio::select! {
            () = stop.cancelled() => break,
            change = rx.recv() => {
                let mut resync = false;
                let mut batch = Vec::new();
                match change {
                    Ok(c) => {
                        if wanted(c.tag) {
                            batch.push(c);
                        }
                        // Take whatever else is already waiting without yielding.
                        while batch.len() < BATCH {
                            match rx.try_recv() {
                                Ok(c) if wanted(c.tag) => batch.push(c),
                                Ok(_) => {}
                                Err(TryRecvError::Lagged(n)) => {
                                    lagged(n);
                                    resync = true;
                                    break;
                                }
                                Err(_) => break,
                            }
                        }
                    }
                    Err(RecvError::Lagged(n)) => {
                        lagged(n);
                        resync = true;
                    }
                    Err(RecvError::Closed) => break,
                }
                if !batch.is_empty() && !send(Input::Changes(batch)).await {
                    break;
                }
                if resync && !send(Input::Resync(store.snapshot(), now_ms())).await {
                    break;
                }
            }
            _ = tick.tick() => {
                // A tick that finds the queue full is skipped; the next one comes soon.
                let _ = tx.try_send(Input::Tick(now_ms()));
            }
        }
    }
}
