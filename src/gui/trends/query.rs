//! The trend query worker: one named thread ("pv-trend-query") per trends page that owns the
//! read-only [`HistoryReader`] (not `Sync`), answers bucket requests and wakes the UI.
//!
//! The UI talks to it only over bounded channels with `try_send`/`try_recv`; it never waits.
//! The worker drains its queue before each query and answers only the newest request per pen,
//! so a burst of requests (a drag) costs one query. It ends when the page drops its sender.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, TrySendError, sync_channel};

use crate::history::{HistoryReader, aligned_start, plan};

use super::series::Loaded;

/// Requests in flight at most (one per pen is the rule; this is the safety bound).
const REQUEST_CAPACITY: usize = 64;
const RESPONSE_CAPACITY: usize = 64;

/// Buckets for one pen over `[from_ms, to_ms)`.
pub struct Request {
    pub id: u64,
    pub tag: Arc<str>,
    pub from_ms: i64,
    pub to_ms: i64,
    pub max_buckets: usize,
    /// Woken when the answer is ready.
    pub repaint: Option<egui::Context>,
}

pub struct Response {
    pub id: u64,
    pub tag: Arc<str>,
    /// An error is a line for the status bar (no file yet, tag not recorded, SQLite error).
    pub result: Result<Loaded, String>,
}

pub struct QueryWorker {
    requests: SyncSender<Request>,
    responses: Receiver<Response>,
}

impl QueryWorker {
    /// Start the worker on a history file (opened lazily, so a file that does not exist yet is
    /// picked up once the historian creates it).
    pub fn start(path: PathBuf) -> std::io::Result<Self> {
        let (requests, request_rx) = sync_channel::<Request>(REQUEST_CAPACITY);
        let (response_tx, responses) = sync_channel::<Response>(RESPONSE_CAPACITY);
        std::thread::Builder::new()
            .name("pv-trend-query".to_owned())
            .spawn(move || run(&path, &request_rx, &response_tx))?;
        Ok(Self {
            requests,
            responses,
        })
    }

    /// Queue a request; gives it back when the queue is full or the worker is gone.
    pub fn try_send(&self, request: Request) -> Result<(), Request> {
        self.requests.try_send(request).map_err(|e| match e {
            TrySendError::Full(r) | TrySendError::Disconnected(r) => r,
        })
    }

    /// The next answer, if one is ready.
    pub fn try_recv(&self) -> Option<Response> {
        self.responses.try_recv().ok()
    }
}

fn run(path: &std::path::Path, requests: &Receiver<Request>, responses: &SyncSender<Response>) {
    let mut reader: Option<HistoryReader> = None;
    let mut ids: HashMap<Arc<str>, i64> = HashMap::new();
    while let Ok(first) = requests.recv() {
        // Newest request per pen wins; older ones are superseded before any work is done.
        let mut batch: Vec<Request> = vec![first];
        let mut closed = false;
        loop {
            match requests.try_recv() {
                Ok(r) => match batch.iter_mut().find(|b| b.tag == r.tag) {
                    Some(b) if b.id < r.id => *b = r,
                    Some(_) => {}
                    None => batch.push(r),
                },
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    closed = true;
                    break;
                }
            }
        }
        for request in batch {
            if reader.is_none() {
                reader = HistoryReader::open(path).ok();
            }
            let result = match reader.as_ref() {
                Some(r) => query(r, &mut ids, &request),
                None => Err(format!("no history yet at {}", path.display())),
            };
            if result.is_err() {
                // Reopen next time: the file may have been created or replaced.
                reader = None;
                ids.clear();
            }
            let response = Response {
                id: request.id,
                tag: request.tag,
                result,
            };
            if responses.send(response).is_err() {
                return; // the page is gone
            }
            if let Some(ctx) = &request.repaint {
                ctx.request_repaint();
            }
        }
        if closed {
            return;
        }
    }
}

fn query(
    reader: &HistoryReader,
    ids: &mut HashMap<Arc<str>, i64>,
    request: &Request,
) -> Result<Loaded, String> {
    let id = match ids.get(&request.tag) {
        Some(id) => *id,
        None => match reader.tag_id(&request.tag) {
            Ok(Some(id)) => {
                ids.insert(request.tag.clone(), id);
                id
            }
            // Not recorded (yet): an empty result, not an error.
            Ok(None) => {
                return Ok(Loaded {
                    from_ms: request.from_ms,
                    to_ms: request.to_ms,
                    width_ms: plan(request.from_ms, request.to_ms, request.max_buckets).0,
                    columns: Vec::new(),
                    prior: None,
                });
            }
            Err(e) => return Err(format!("history: {e}")),
        },
    };
    let buckets = reader
        .buckets(id, request.from_ms, request.to_ms, request.max_buckets)
        .map_err(|e| format!("history: {e}"))?;
    let first_start = aligned_start(request.from_ms, buckets.width_ms);
    let prior = reader
        .latest_before(id, first_start - 1)
        .map_err(|e| format!("history: {e}"))?
        .map(|row| (row.ts_ms, row.value, row.quality));
    Ok(Loaded::new(request.from_ms, request.to_ms, &buckets, prior))
}
