//! Raw samples in long format, `time,tag,value,quality`: the export of millions of rows.
//!
//! Two stages, each on its own core: the calling thread steps SQLite and copies each row
//! (borrowed, no allocation per row) into a batch; a named writer thread formats batches by hand
//! ([`super::fields`], [`TimeFormatter::push`], byte-identical to the csv crate's output) into a
//! 1 MiB chunk written whenever it fills. Batches travel over bounded channels and are recycled,
//! so memory stays constant whatever the row count.

use std::io::Write;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use crate::engine::Quality;
use crate::history::{HistoryReader, TagInfo};

use super::fields::{push_f64, push_field};
use super::{Progress, ReportError, TimeFormatter, TimeZoneChoice};

/// Chunk size: at least the `BufWriter` capacity of [`super::write_file_atomically`], so a full
/// chunk goes straight to the file without another copy.
const CHUNK: usize = 1 << 20;
/// Rows per batch handed to the writer thread; also the progress and cancel interval.
const BATCH: usize = 8192;
/// Batches in flight (the rest wait in the recycling channel).
const IN_FLIGHT: usize = 4;

#[derive(Clone, Copy)]
enum Val {
    None,
    Number(f64),
    /// `text[start..end]` of the batch.
    Text(u32, u32),
}

#[derive(Clone, Copy)]
struct Item {
    ts_ms: i64,
    tag: u32,
    quality: Quality,
    value: Val,
}

#[derive(Default)]
struct Batch {
    items: Vec<Item>,
    text: String,
}

/// Raw samples of `tags` in `[from, to)`, tag by tag, each in time order. Returns the rows
/// written. `progress` gets the rows done (its total is the caller's business, see
/// [`super::run_export`]); a cancel request returns [`ReportError::Cancelled`].
pub fn export_raw(
    reader: &HistoryReader,
    tags: &[TagInfo],
    from_ms: i64,
    to_ms: i64,
    tz: TimeZoneChoice,
    out: impl Write + Send,
    progress: &Progress,
) -> Result<u64, ReportError> {
    let (full_tx, full_rx) = sync_channel::<Batch>(IN_FLIGHT);
    let (empty_tx, empty_rx) = sync_channel::<Batch>(IN_FLIGHT + 2);
    for _ in 0..IN_FLIGHT + 1 {
        let _ = empty_tx.try_send(Batch {
            items: Vec::with_capacity(BATCH),
            text: String::new(),
        });
    }
    std::thread::scope(|s| {
        let writer = std::thread::Builder::new()
            .name("pv-export-writer".to_owned())
            .spawn_scoped(s, move || write_batches(tags, tz, out, &full_rx, &empty_tx))?;
        let read = read_batches(reader, tags, from_ms, to_ms, progress, &full_tx, &empty_rx);
        drop(full_tx);
        let written = writer
            .join()
            .map_err(|_| ReportError::Invalid("the export writer thread panicked".to_owned()))?;
        // A write error stops the reader too (its sends fail): report the write error first.
        let written = written?;
        let n = read?;
        progress.set_done(n);
        debug_assert_eq!(n, written);
        Ok(written)
    })
}

/// Step SQLite into batches; returns the rows read.
fn read_batches(
    reader: &HistoryReader,
    tags: &[TagInfo],
    from_ms: i64,
    to_ms: i64,
    progress: &Progress,
    full: &SyncSender<Batch>,
    empty: &Receiver<Batch>,
) -> Result<u64, ReportError> {
    let mut n = 0u64;
    let mut batch = empty.recv().unwrap_or_default();
    let mut stop: Option<ReportError> = None;
    for (i, tag) in tags.iter().enumerate() {
        let index = u32::try_from(i).unwrap_or(u32::MAX);
        reader.for_each_raw_ref(tag.id, from_ms, to_ms, |row| {
            let value = match (row.value, row.text) {
                (Some(v), _) => Val::Number(v),
                (None, Some(t)) => {
                    let start = batch.text.len();
                    batch.text.push_str(t);
                    let pos = |p: usize| u32::try_from(p).unwrap_or(u32::MAX);
                    Val::Text(pos(start), pos(batch.text.len()))
                }
                (None, None) => Val::None,
            };
            batch.items.push(Item {
                ts_ms: row.ts_ms,
                tag: index,
                quality: row.quality,
                value,
            });
            n += 1;
            if batch.items.len() < BATCH {
                return true;
            }
            progress.set_done(n);
            if progress.is_cancelled() {
                stop = Some(ReportError::Cancelled);
                return false;
            }
            let next = empty.recv().unwrap_or_default();
            if full.send(std::mem::replace(&mut batch, next)).is_err() {
                stop = Some(ReportError::Invalid("the export writer stopped".to_owned()));
                return false;
            }
            true
        })?;
        if let Some(e) = stop.take() {
            return Err(e);
        }
    }
    if !batch.items.is_empty() && full.send(batch).is_err() {
        return Err(ReportError::Invalid("the export writer stopped".to_owned()));
    }
    Ok(n)
}

/// Format and write batches until the reader hangs up; returns the rows written.
fn write_batches(
    tags: &[TagInfo],
    tz: TimeZoneChoice,
    mut out: impl Write,
    full: &Receiver<Batch>,
    empty: &SyncSender<Batch>,
) -> Result<u64, ReportError> {
    let names: Vec<Vec<u8>> = tags
        .iter()
        .map(|t| {
            let mut name = Vec::new();
            push_field(&mut name, &t.name);
            name
        })
        .collect();
    let mut chunk: Vec<u8> = Vec::with_capacity(CHUNK + 64 * 1024);
    chunk.extend_from_slice(b"time,tag,value,quality\n");
    let mut times = TimeFormatter::new(tz);
    let mut n = 0u64;
    while let Ok(mut batch) = full.recv() {
        for item in &batch.items {
            times.push(&mut chunk, item.ts_ms);
            chunk.push(b',');
            if let Some(name) = names.get(item.tag as usize) {
                chunk.extend_from_slice(name);
            }
            chunk.push(b',');
            match item.value {
                Val::Number(v) => push_f64(&mut chunk, v),
                Val::Text(a, b) => push_field(
                    &mut chunk,
                    batch.text.get(a as usize..b as usize).unwrap_or_default(),
                ),
                Val::None => {}
            }
            chunk.push(b',');
            chunk.extend_from_slice(item.quality.as_str().as_bytes());
            chunk.push(b'\n');
            if chunk.len() >= CHUNK {
                out.write_all(&chunk)?;
                chunk.clear();
            }
        }
        n += batch.items.len() as u64;
        batch.items.clear();
        batch.text.clear();
        let _ = empty.try_send(batch);
    }
    out.write_all(&chunk)?;
    out.flush()?;
    Ok(n)
}
