//! The recorder: a task on the engine runtime turns tag changes into samples (filter) and
//! queues them; a named writer thread batches them into SQLite. Acquisition never waits for
//! the disk: when SQLite is busy or failing, samples stay queued (spilling to a file past a
//! bound), the status says "degraded", and writing resumes by itself.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex, RwLock};
use tokio_util::sync::CancellationToken;

use crate::engine::{TagStore, now_ms};
use crate::project::Project;

use super::db;
use super::filter::{Rule, TagFilter};
use super::sample::Sample;
use super::spill;

/// Flush at least this often...
pub const FLUSH_INTERVAL: Duration = Duration::from_secs(1);
/// ...and whenever this many samples wait.
pub const FLUSH_ROWS: usize = 20_000;
/// Samples kept in memory while SQLite is not writable; beyond this they spill to a file.
pub const MAX_QUEUE: usize = 1_000_000;
/// Rows pruned per chunk (the writer goes back to inserting between chunks).
const PRUNE_CHUNK: usize = 20_000;

/// What the operator and the logs see about history.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HistoryStatus {
    pub path: PathBuf,
    /// Rows written since start.
    pub written: u64,
    /// Samples waiting in memory.
    pub queued: usize,
    /// Samples waiting in the spill file.
    pub spilled: usize,
    /// Samples lost (change feed overrun, or neither SQLite nor the spill file writable).
    pub lost: u64,
    /// Why history is not keeping up, if it is not.
    pub degraded: Option<String>,
}

/// Shared between the feeder, the writer and readers of the status.
pub struct Queue {
    samples: Mutex<VecDeque<Sample>>,
    /// Samples kept in memory before spilling (normally [`MAX_QUEUE`]).
    max_queue: usize,
    ready: Condvar,
    status: RwLock<HistoryStatus>,
}

impl Queue {
    pub fn new(path: PathBuf, max_queue: usize) -> Arc<Self> {
        Arc::new(Self {
            samples: Mutex::new(VecDeque::new()),
            max_queue,
            ready: Condvar::new(),
            status: RwLock::new(HistoryStatus {
                path,
                ..Default::default()
            }),
        })
    }

    /// Queue samples for writing (never blocks on the database).
    pub fn push(&self, batch: impl IntoIterator<Item = Sample>) {
        let mut q = self.samples.lock();
        q.extend(batch);
        if q.len() >= FLUSH_ROWS {
            self.ready.notify_one();
        }
    }

    pub fn status(&self) -> HistoryStatus {
        let mut s = self.status.read().clone();
        s.queued = self.samples.lock().len();
        s
    }

    fn note_lost(&self, n: u64, why: &str) {
        let mut s = self.status.write();
        s.lost += n;
        s.degraded = Some(why.to_owned());
    }
}

/// A running historian. Dropping it stops the writer after a final flush.
pub struct Historian {
    queue: Arc<Queue>,
    stop: CancellationToken,
    writer: Option<std::thread::JoinHandle<()>>,
}

impl Historian {
    /// Start recording `store`'s changes into `path`. The feeder runs on `runtime`.
    pub fn start(
        path: &Path,
        project: &Project,
        store: &Arc<TagStore>,
        runtime: &tokio::runtime::Handle,
        shutdown: CancellationToken,
    ) -> Result<Self, rusqlite::Error> {
        let mut conn = db::open_writer(path)?;
        let names: Vec<(&str, &str)> = project
            .file
            .tags
            .iter()
            .map(|t| (t.name.as_str(), t.unit.as_str()))
            .collect();
        let ids = db::tag_ids(&conn, &names)?;
        let filters: Vec<TagFilter> = project
            .file
            .tags
            .iter()
            .zip(&ids)
            .map(|(t, id)| TagFilter::new(Rule::from_config(t), *id))
            .collect();
        let retention_ms = days_ms(project.file.history.retention_days);
        replay_spill(&mut conn, path);

        let queue = Queue::new(path.to_owned(), MAX_QUEUE);
        let stop = shutdown.child_token();
        runtime.spawn(feed(store.clone(), filters, queue.clone(), stop.clone()));
        let writer = {
            let queue = queue.clone();
            let stop = stop.clone();
            let path = path.to_owned();
            std::thread::Builder::new()
                .name("pv-history".to_owned())
                .spawn(move || write_loop(conn, &path, &queue, &stop, retention_ms))
                .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?
        };
        Ok(Self {
            queue,
            stop,
            writer: Some(writer),
        })
    }

    /// A writer without a feeder: callers push samples themselves (benchmarks, tools, tests).
    /// `max_queue` samples stay in memory while SQLite is unwritable before spilling.
    pub fn start_writer(
        path: &Path,
        retention_days: f64,
        max_queue: usize,
    ) -> Result<Self, rusqlite::Error> {
        let mut conn = db::open_writer(path)?;
        replay_spill(&mut conn, path);
        let queue = Queue::new(path.to_owned(), max_queue);
        let stop = CancellationToken::new();
        let writer = {
            let queue = queue.clone();
            let stop = stop.clone();
            let path = path.to_owned();
            let retention_ms = days_ms(retention_days);
            std::thread::Builder::new()
                .name("pv-history".to_owned())
                .spawn(move || write_loop(conn, &path, &queue, &stop, retention_ms))
                .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?
        };
        Ok(Self {
            queue,
            stop,
            writer: Some(writer),
        })
    }

    pub fn queue(&self) -> &Arc<Queue> {
        &self.queue
    }

    pub fn status(&self) -> HistoryStatus {
        self.queue.status()
    }

    /// Flush what is queued and stop.
    pub fn stop(mut self) {
        self.finish();
    }

    fn finish(&mut self) {
        self.stop.cancel();
        self.queue.ready.notify_one();
        if let Some(w) = self.writer.take() {
            let _ = w.join();
        }
    }
}

impl Drop for Historian {
    fn drop(&mut self) {
        self.finish();
    }
}

#[allow(clippy::cast_possible_truncation)]
fn days_ms(days: f64) -> i64 {
    (days * 86_400_000.0) as i64
}

/// Change feed → filters → queue; a tick drives min/max intervals.
async fn feed(
    store: Arc<TagStore>,
    mut filters: Vec<TagFilter>,
    queue: Arc<Queue>,
    stop: CancellationToken,
) {
    use tokio::sync::broadcast::error::RecvError;
    let mut rx = store.subscribe();
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut batch = Vec::with_capacity(256);
    loop {
        tokio::select! {
            () = stop.cancelled() => break,
            change = rx.recv() => match change {
                Ok(change) => {
                    if let Some(s) = filters.get_mut(change.tag as usize).and_then(|f| f.on_change(&change)) {
                        batch.push(s);
                    }
                    // Take whatever else is already waiting without yielding.
                    while batch.len() < 4096 {
                        match rx.try_recv() {
                            Ok(change) => {
                                if let Some(s) = filters.get_mut(change.tag as usize).and_then(|f| f.on_change(&change)) {
                                    batch.push(s);
                                }
                            }
                            Err(_) => break,
                        }
                    }
                    queue.push(batch.drain(..));
                }
                Err(RecvError::Lagged(n)) => {
                    queue.note_lost(n, "history fell behind the change feed");
                    tracing::warn!("history lost {n} changes (change feed overrun)");
                }
                Err(RecvError::Closed) => break,
            },
            _ = tick.tick() => {
                let now = now_ms();
                queue.push(filters.iter_mut().filter_map(|f| f.on_tick(now)));
            }
        }
    }
}

fn replay_spill(conn: &mut rusqlite::Connection, path: &Path) {
    let spill_path = spill::spill_path(path);
    if !spill_path.exists() {
        return;
    }
    match spill::read_all(&spill_path) {
        Ok((samples, broken)) => {
            for chunk in samples.chunks(FLUSH_ROWS) {
                if let Err(e) = db::insert_batch(conn, chunk) {
                    tracing::warn!("history spill replay paused: {e}");
                    return;
                }
            }
            if broken > 0 {
                tracing::warn!("history spill file had {broken} unreadable line(s)");
            }
            if let Err(e) = std::fs::remove_file(&spill_path) {
                tracing::warn!("cannot remove {}: {e}", spill_path.display());
            } else {
                tracing::info!("replayed {} spilled history samples", samples.len());
            }
        }
        Err(e) => tracing::warn!("cannot read {}: {e}", spill_path.display()),
    }
}

fn write_loop(
    mut conn: rusqlite::Connection,
    path: &Path,
    queue: &Queue,
    stop: &CancellationToken,
    retention_ms: i64,
) {
    let spill_path = spill::spill_path(path);
    let mut backoff = Duration::from_millis(100);
    let mut last_prune = Instant::now() - Duration::from_secs(50);
    loop {
        let stopping = stop.is_cancelled();
        let batch: Vec<Sample> = {
            let mut q = queue.samples.lock();
            if q.len() < FLUSH_ROWS && !stopping {
                queue.ready.wait_for(&mut q, FLUSH_INTERVAL);
            }
            let n = q.len().min(FLUSH_ROWS * 5);
            q.drain(..n).collect()
        };
        if batch.is_empty() {
            if stopping {
                break;
            }
        } else {
            match db::insert_batch(&mut conn, &batch) {
                Ok(n) => {
                    backoff = Duration::from_millis(100);
                    let mut s = queue.status.write();
                    s.written += n as u64;
                    if s.spilled == 0 {
                        s.degraded = None;
                    }
                }
                Err(e) => {
                    let why = format!("SQLite: {e}");
                    tracing::warn!("history write failed, keeping samples queued: {why}");
                    {
                        let mut q = queue.samples.lock();
                        for s in batch.into_iter().rev() {
                            q.push_front(s);
                        }
                        if q.len() > queue.max_queue {
                            let excess = q.len() - queue.max_queue / 2;
                            let oldest: Vec<Sample> = q.drain(..excess).collect();
                            drop(q);
                            match spill::append(&spill_path, oldest) {
                                Ok(n) => queue.status.write().spilled += n,
                                Err(se) => {
                                    queue.note_lost(
                                        excess as u64,
                                        "history: neither SQLite nor the spill file is writable",
                                    );
                                    tracing::error!(
                                        "history spill failed, {excess} samples lost: {se}"
                                    );
                                }
                            }
                        }
                    }
                    queue.status.write().degraded = Some(why);
                    if stop.is_cancelled() {
                        // Last chance: keep what is left in the spill file.
                        let rest: Vec<Sample> = queue.samples.lock().drain(..).collect();
                        let n = rest.len();
                        if spill::append(&spill_path, rest).is_err() {
                            tracing::error!("history: {n} samples lost at shutdown");
                        }
                        break;
                    }
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                    continue;
                }
            }
        }
        // Spilled samples go back in once the database takes writes again.
        if queue.status.read().spilled > 0 && queue.samples.lock().len() < FLUSH_ROWS {
            replay_spill(&mut conn, path);
            if !spill_path.exists() {
                let mut s = queue.status.write();
                s.spilled = 0;
                s.degraded = None;
            }
        }
        if last_prune.elapsed() > Duration::from_secs(60) && retention_ms > 0 {
            last_prune = Instant::now();
            let now = now_ms();
            match db::prune_chunk(
                &conn,
                now - retention_ms,
                now - retention_ms.saturating_mul(10),
                PRUNE_CHUNK,
            ) {
                Ok(n) if n == PRUNE_CHUNK => {
                    // More to prune: come back soon, after the next batch.
                    last_prune = Instant::now() - Duration::from_secs(59);
                }
                Ok(_) => {}
                Err(e) => tracing::warn!("history pruning failed: {e}"),
            }
        }
    }
}
