//! The tag store: current value, quality and timestamps of every tag, and the change feed.
//!
//! Writers (sources, the stale checker) update under a short write lock and publish each change
//! on a broadcast feed. Consumers (GUI, history, alarms) subscribe to the feed; a slow consumer
//! lags (and resynchronises from a snapshot), it never slows ingest.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::RwLock;
use tokio::sync::broadcast;

use super::value::{Quality, TagChange, TagId, TagState, Value};

/// Capacity of the change feed per subscriber before it lags.
pub const FEED_CAPACITY: usize = 1 << 16;

pub struct TagStore {
    names: Vec<Arc<str>>,
    ids: HashMap<Arc<str>, TagId>,
    /// `stale_after` per tag in ms; 0 = never stale.
    stale_after_ms: Vec<i64>,
    states: RwLock<Vec<TagState>>,
    feed: broadcast::Sender<TagChange>,
    /// Bumped on every change; the GUI compares it to skip work when nothing moved.
    version: AtomicU64,
}

impl TagStore {
    /// `tags`: (name, stale_after_s) in project order; the index is the `TagId`.
    pub fn new<'a>(tags: impl IntoIterator<Item = (&'a str, f64)>) -> Self {
        let mut names = Vec::new();
        let mut stale_after_ms = Vec::new();
        for (name, stale_s) in tags {
            names.push(Arc::<str>::from(name));
            #[allow(clippy::cast_possible_truncation)]
            stale_after_ms.push((stale_s * 1000.0).round() as i64);
        }
        let ids = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i as TagId))
            .collect();
        let states = RwLock::new(vec![TagState::default(); names.len()]);
        let (feed, _) = broadcast::channel(FEED_CAPACITY);
        Self {
            names,
            ids,
            stale_after_ms,
            states,
            feed,
            version: AtomicU64::new(0),
        }
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    pub fn id(&self, name: &str) -> Option<TagId> {
        self.ids.get(name).copied()
    }

    pub fn name(&self, id: TagId) -> &str {
        self.names.get(id as usize).map_or("", |n| n)
    }

    pub fn get(&self, id: TagId) -> Option<TagState> {
        self.states.read().get(id as usize).cloned()
    }

    pub fn get_by_name(&self, name: &str) -> Option<TagState> {
        self.get(self.id(name)?)
    }

    /// Copy of every tag's state (for a consumer that (re)synchronises).
    pub fn snapshot(&self) -> Vec<TagState> {
        self.states.read().clone()
    }

    /// Run `f` over the states under one short read lock (the GUI reads a frame's worth at once).
    pub fn read<R>(&self, f: impl FnOnce(&[TagState]) -> R) -> R {
        f(&self.states.read())
    }

    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    pub fn subscribe(&self) -> broadcast::Receiver<TagChange> {
        self.feed.subscribe()
    }

    /// A good value arrived.
    pub fn set_value(&self, id: TagId, value: Value, source_ts_ms: i64, recv_ts_ms: i64) {
        let change = {
            let mut states = self.states.write();
            let Some(s) = states.get_mut(id as usize) else {
                return;
            };
            s.value = Some(value.clone());
            s.quality = Quality::Good;
            s.reason = None;
            s.source_ts_ms = source_ts_ms;
            s.recv_ts_ms = recv_ts_ms;
            s.updates += 1;
            TagChange {
                tag: id,
                value: Some(value),
                quality: Quality::Good,
                source_ts_ms,
                recv_ts_ms,
            }
        };
        self.publish(change);
    }

    /// Quality changed without a new value (bad payload, stale, connection lost). The last value
    /// is kept for display (greyed) but the change carries none. No-op if nothing changes.
    pub fn set_quality(&self, id: TagId, quality: Quality, reason: Option<Arc<str>>, ts_ms: i64) {
        let change = {
            let mut states = self.states.write();
            let Some(s) = states.get_mut(id as usize) else {
                return;
            };
            if s.quality == quality && s.reason == reason {
                return;
            }
            s.quality = quality;
            s.reason = reason;
            if quality == Quality::Bad {
                // A bad update is an update too (a garbage payload arrived now).
                s.recv_ts_ms = s.recv_ts_ms.max(ts_ms);
            }
            TagChange {
                tag: id,
                value: None,
                quality,
                source_ts_ms: ts_ms,
                recv_ts_ms: ts_ms,
            }
        };
        self.publish(change);
    }

    /// Turn every good tag whose last update is older than its `stale_after_s` stale.
    /// Returns how many turned stale.
    pub fn mark_stale(&self, now_ms: i64) -> usize {
        let due: Vec<TagId> = {
            let states = self.states.read();
            states
                .iter()
                .enumerate()
                .filter(|(i, s)| {
                    let limit = self.stale_after_ms[*i];
                    limit > 0
                        && matches!(s.quality, Quality::Good | Quality::Uncertain)
                        && now_ms - s.recv_ts_ms > limit
                })
                .map(|(i, _)| i as TagId)
                .collect()
        };
        for &id in &due {
            let limit_s = self.stale_after_ms[id as usize] as f64 / 1000.0;
            let reason: Arc<str> = Arc::from(format!("no update for more than {limit_s} s"));
            self.set_quality(id, Quality::Stale, Some(reason), now_ms);
        }
        due.len()
    }

    fn publish(&self, change: TagChange) {
        self.version.fetch_add(1, Ordering::AcqRel);
        // No subscriber is fine: nobody is listening yet.
        let _ = self.feed.send(change);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_quality_and_stale() {
        let store = TagStore::new([("A", 1.0), ("B", 0.0)]);
        let mut rx = store.subscribe();
        let a = store.id("A").unwrap();
        assert_eq!(store.get(a).unwrap().quality, Quality::Bad);
        store.set_value(a, Value::Number(1.0), 1000, 1000);
        assert_eq!(rx.try_recv().unwrap().value, Some(Value::Number(1.0)));
        assert_eq!(store.mark_stale(1500), 0);
        assert_eq!(store.mark_stale(2001), 1);
        let s = store.get(a).unwrap();
        assert_eq!(s.quality, Quality::Stale);
        assert_eq!(
            s.value,
            Some(Value::Number(1.0)),
            "last value kept for display"
        );
        // B never goes stale (0 disables), and is bad until it receives something.
        assert_eq!(store.get_by_name("B").unwrap().quality, Quality::Bad);
        assert_eq!(store.mark_stale(100_000), 0);
    }
}
