//! Progress and cancellation of one export, shared between the thread that runs it and whoever
//! watches it (a GUI progress bar, the CLI's stderr bar): plain atomics, no locks, no channel.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Rows done out of a total estimate (`HistoryReader::count` before the export starts), and a
/// cancel flag the export polls: a cancelled export stops, removes its partial file and returns
/// [`super::ReportError::Cancelled`]. Share it as `Arc<Progress>`.
#[derive(Debug, Default)]
pub struct Progress {
    done: AtomicU64,
    total: AtomicU64,
    cancel: AtomicBool,
    finished: AtomicBool,
}

impl Progress {
    pub fn new() -> Self {
        Self::default()
    }

    /// Units done: rows for raw exports and reports, (tag × interval) columns for aligned ones.
    pub fn done(&self) -> u64 {
        self.done.load(Ordering::Relaxed)
    }

    /// The total estimate (0 until the export has counted).
    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }

    /// `done / total` in 0..=1 (`None` while the total is unknown).
    pub fn fraction(&self) -> Option<f32> {
        let total = self.total();
        #[allow(clippy::cast_precision_loss)]
        (total > 0).then(|| (self.done().min(total) as f64 / total as f64) as f32)
    }

    /// Ask the export to stop; it stops within a few thousand rows.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// Set when the export returned (successfully or not): a watcher can stop polling.
    pub fn is_finished(&self) -> bool {
        self.finished.load(Ordering::Acquire)
    }

    pub fn set_total(&self, total: u64) {
        self.total.store(total, Ordering::Relaxed);
    }

    pub fn set_done(&self, done: u64) {
        self.done.store(done, Ordering::Relaxed);
    }

    pub fn add_done(&self, n: u64) {
        self.done.fetch_add(n, Ordering::Relaxed);
    }

    pub fn set_finished(&self) {
        self.finished.store(true, Ordering::Release);
    }
}
