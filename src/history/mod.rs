//! The historian: every tag change the engine sees, filtered per tag (deadband, min/max
//! interval, quality changes), batched into one SQLite file per data folder
//! (`history.sqlite`, WAL) by a dedicated writer thread, with 1-minute and 1-hour summaries
//! maintained as data arrives; and the queries trends and reports run against it.
//!
//! Must never stall acquisition: the engine's change feed is read by a task that only queues;
//! the disk is the writer thread's problem. No egui here.

pub mod analysis;
mod db;
mod filter;
mod query;
mod recorder;
mod sample;
mod spill;

pub use analysis::{RangeStats, range_stats};
pub use db::{HOUR_MS, MINUTE_MS, insert_batch, open_reader, open_writer, prune_chunk, tag_ids};
pub use filter::{Rule, TagFilter};
pub use query::{
    Bucket, Buckets, HistoryReader, Row, RowRef, Source, TagInfo, TagStats, aligned_end,
    aligned_start, plan,
};
pub use recorder::{FLUSH_INTERVAL, FLUSH_ROWS, Historian, HistoryStatus, MAX_QUEUE, Queue};
pub use sample::{Sample, Stored, quality_code, quality_from_code};
pub use spill::spill_path;

/// The history file in a data folder.
pub fn history_path(data_dir: &std::path::Path) -> std::path::PathBuf {
    data_dir.join("history.sqlite")
}
