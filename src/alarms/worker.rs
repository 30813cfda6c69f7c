//! The alarm thread (`pv-alarms`): owns the evaluator and the journal connection, applies tag
//! changes, ticks and operator commands in arrival order, commits each batch of events to the
//! journal and only then updates the active list and publishes the events.
//!
//! Failure policy: operator commands that cannot be journaled are refused and rolled back (no
//! action without an audit trail). Process events that cannot be journaled are still shown —
//! hiding an alarm is worse than a late record — and stay queued, in order, until the journal
//! takes writes again; the health figures say so meanwhile.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Mutex, RwLock};
use rusqlite::Connection;
use tokio::sync::{broadcast, mpsc};

use crate::engine::{TagChange, TagState};

use super::config::AlarmConfig;
use super::eval::{Emitted, Evaluator};
use super::health::Activations;
use super::journal;
use super::state::{ActiveAlarm, Actor, AlarmEvent, AlarmState, EventKind, Machine, Shelve};
use super::{AlarmCommand, AlarmError, ShelveFor};

/// Unjournaled events kept while the journal fails; beyond this the oldest are dropped.
const MAX_UNJOURNALED: usize = 100_000;
/// While the journal fails, how often writing is retried.
const RETRY: Duration = Duration::from_secs(1);

pub type Reply = std::sync::mpsc::SyncSender<Result<Vec<AlarmEvent>, AlarmError>>;

/// What the feed task and the handle send to the alarm thread.
pub enum Input {
    Changes(Vec<TagChange>),
    /// Re-evaluate against the store's state at this time (start, feed overrun).
    Resync(Vec<TagState>, i64),
    Tick(i64),
    Command {
        command: AlarmCommand,
        ts_ms: i64,
        /// Where the result goes (`None`: the caller does not wait; failures are logged).
        reply: Option<Reply>,
    },
}

/// What the alarm thread shares with handles.
pub struct Shared {
    pub defs: Arc<[AlarmConfig]>,
    /// Alarm names, for checking commands without the alarm thread.
    pub names: HashSet<String>,
    /// Indexed like `defs`; `Some` for alarms on the active list.
    pub active: RwLock<Vec<Option<ActiveAlarm>>>,
    pub events: broadcast::Sender<AlarmEvent>,
    pub activations: Mutex<Activations>,
    pub journal_error: RwLock<Option<String>>,
    pub unjournaled: AtomicUsize,
    pub lost_changes: AtomicU64,
    pub version: AtomicU64,
}

pub struct Core {
    pub eval: Evaluator,
    pub conn: Connection,
    pub shared: Arc<Shared>,
    /// Shown but not yet journaled (journal failing), oldest first.
    pub unjournaled: Vec<Emitted>,
    /// While the journal fails: when to try writing again.
    pub retry_at: Option<Instant>,
}

/// Events journaled in one commit at most (bounds the delay of the first one).
const MAX_EVENTS_PER_COMMIT: usize = 20_000;

impl Core {
    /// Process inputs until every sender is gone.
    pub fn run(mut self, mut rx: mpsc::Receiver<Input>) {
        while let Some(first) = rx.blocking_recv() {
            // Everything already queued goes into one journal commit: under a flood the feed
            // hands over many small batches, and a commit each would add up to a standing delay.
            let mut out = Vec::new();
            let mut next = Some(first);
            while let Some(input) = next.take() {
                match input {
                    Input::Changes(changes) => {
                        for c in &changes {
                            self.eval.on_change(c, &mut out);
                        }
                    }
                    Input::Resync(states, now) => self.eval.resync(&states, now, &mut out),
                    Input::Tick(now) => {
                        self.eval.tick(now, &mut out);
                        self.shared.activations.lock().prune(now);
                    }
                    Input::Command {
                        command,
                        ts_ms,
                        reply,
                    } => {
                        // Operator actions see (and follow) everything evaluated before them.
                        self.commit_and_publish(std::mem::take(&mut out), false);
                        let result = self.command(&command, ts_ms);
                        match reply {
                            Some(reply) => {
                                let _ = reply.send(result);
                            }
                            None => {
                                if let Err(e) = result {
                                    tracing::warn!("alarm command {command:?} refused: {e}");
                                }
                            }
                        }
                    }
                }
                if out.len() < MAX_EVENTS_PER_COMMIT {
                    next = rx.try_recv().ok();
                }
            }
            self.commit_and_publish(out, false);
        }
        if !self.unjournaled.is_empty() {
            self.commit_and_publish(Vec::new(), true);
        }
    }

    /// Journal `out` (after anything still unjournaled), then show and publish it. While the
    /// journal fails, writing is retried at most every [`RETRY`] (unless `force`), so alarms are
    /// not held up behind a locked or full disk.
    fn commit_and_publish(&mut self, out: Vec<Emitted>, force: bool) {
        if out.is_empty() && self.unjournaled.is_empty() {
            return;
        }
        let wait = !force && self.retry_at.is_some_and(|t| Instant::now() < t);
        let result = if wait {
            Err(None)
        } else {
            let defs = self.shared.defs.clone();
            journal::append(
                &mut self.conn,
                self.unjournaled
                    .iter()
                    .chain(&out)
                    .map(|(i, e)| (&defs[*i], e)),
            )
            .map_err(Some)
        };
        match result {
            Ok(_) => {
                self.unjournaled.clear();
                self.retry_at = None;
                self.set_journal_error(None);
                self.publish(&out);
            }
            Err(e) => {
                if let Some(e) = e {
                    self.set_journal_error(Some(format!("alarm journal not written: {e}")));
                    self.retry_at = Some(Instant::now() + RETRY);
                }
                self.publish(&out); // annunciation wins over the record
                self.unjournaled.extend(out);
                if self.unjournaled.len() > MAX_UNJOURNALED {
                    let excess = self.unjournaled.len() - MAX_UNJOURNALED;
                    self.unjournaled.drain(..excess);
                    tracing::error!("alarm journal: {excess} events dropped unjournaled");
                }
            }
        }
        self.shared
            .unjournaled
            .store(self.unjournaled.len(), Ordering::Release);
    }

    fn set_journal_error(&self, error: Option<String>) {
        let mut current = self.shared.journal_error.write();
        if *current != error {
            match &error {
                Some(e) => tracing::error!("{e}"),
                None => tracing::info!("alarm journal written again"),
            }
            *current = error;
        }
    }

    /// Update the active list and health, then publish (the journal already has them).
    fn publish(&self, out: &[Emitted]) {
        if out.is_empty() {
            return;
        }
        let defs = &self.shared.defs;
        let machines = self.eval.machines();
        {
            let mut active = self.shared.active.write();
            for &(i, _) in out {
                active[i] = machines[i]
                    .is_listed()
                    .then(|| ActiveAlarm::new(&defs[i], &machines[i]));
            }
        }
        {
            let mut acts = self.shared.activations.lock();
            for (i, e) in out {
                if e.kind == EventKind::Activate {
                    acts.record(e.ts_ms, *i, e.state_to == AlarmState::UnackActive);
                }
            }
        }
        self.shared.version.fetch_add(1, Ordering::AcqRel);
        for (_, e) in out {
            // No subscriber is fine.
            let _ = self.shared.events.send(e.clone());
        }
    }

    /// An operator command: applied, journaled, then published — or refused and rolled back.
    fn command(&mut self, cmd: &AlarmCommand, ts_ms: i64) -> Result<Vec<AlarmEvent>, AlarmError> {
        if !self.unjournaled.is_empty() {
            self.commit_and_publish(Vec::new(), true);
            if let Some(e) = self.shared.journal_error.read().clone() {
                return Err(AlarmError::JournalDown(e));
            }
        }
        let names: Vec<&str> = match cmd {
            AlarmCommand::Ack { names, .. } | AlarmCommand::Reset { names, .. } => {
                names.iter().map(String::as_str).collect()
            }
            AlarmCommand::Shelve { name, .. }
            | AlarmCommand::Unshelve { name, .. }
            | AlarmCommand::SetOutOfService { name, .. } => vec![name.as_str()],
        };
        let mut seen = HashSet::new();
        let mut targets = Vec::new();
        for n in names {
            let i = self
                .eval
                .index_of(n)
                .ok_or_else(|| AlarmError::UnknownAlarm(n.to_owned()))?;
            if seen.insert(i) {
                targets.push(i);
            }
        }
        let backup: Vec<(usize, Machine)> = targets
            .iter()
            .map(|&i| (i, self.eval.machines()[i].clone()))
            .collect();
        let mut out: Vec<Emitted> = Vec::new();
        for &i in &targets {
            let Some(m) = self.eval.machine_mut(i) else {
                continue;
            };
            out.extend(apply(m, cmd, ts_ms).into_iter().map(|e| (i, e)));
        }
        if out.is_empty() {
            return Ok(Vec::new());
        }
        let defs = self.shared.defs.clone();
        if let Err(e) = journal::append(&mut self.conn, out.iter().map(|(i, e)| (&defs[*i], e))) {
            for (i, m) in backup {
                if let Some(slot) = self.eval.machine_mut(i) {
                    *slot = m;
                }
            }
            return Err(AlarmError::Journal(e));
        }
        self.publish(&out);
        Ok(out.into_iter().map(|(_, e)| e).collect())
    }
}

fn apply(m: &mut Machine, cmd: &AlarmCommand, ts_ms: i64) -> Vec<AlarmEvent> {
    match cmd {
        AlarmCommand::Ack { user, comment, .. } => {
            let actor = Actor {
                user: Some(user),
                comment: comment.as_deref(),
            };
            m.ack(ts_ms, actor).into_iter().collect()
        }
        AlarmCommand::Reset { user, comment, .. } => {
            let actor = Actor {
                user: Some(user),
                comment: comment.as_deref(),
            };
            m.reset(ts_ms, actor).into_iter().collect()
        }
        AlarmCommand::Shelve {
            user,
            shelve_for,
            reason,
            ..
        } => {
            let shelve = match shelve_for {
                ShelveFor::Seconds(s) => Shelve::Until(ts_ms + i64::from(*s) * 1000),
                ShelveFor::OneShot => Shelve::OneShot,
            };
            let actor = Actor {
                user: Some(user),
                comment: non_empty(reason),
            };
            m.shelve(shelve, ts_ms, actor)
        }
        AlarmCommand::Unshelve { user, comment, .. } => {
            let actor = Actor {
                user: Some(user),
                comment: comment.as_deref(),
            };
            m.unshelve(ts_ms, actor)
        }
        AlarmCommand::SetOutOfService {
            out_of_service,
            user,
            reason,
            ..
        } => {
            let actor = Actor {
                user: Some(user),
                comment: non_empty(reason),
            };
            m.set_out_of_service(*out_of_service, ts_ms, actor)
        }
    }
}

fn non_empty(s: &str) -> Option<&str> {
    (!s.trim().is_empty()).then_some(s)
}
