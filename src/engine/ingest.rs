//! Topic → tag routing: exact topics by hash lookup, wildcard filters by scan; one JSON parse
//! per message however many tags read from it.

use std::collections::HashMap;
use std::sync::Arc;

use crate::project::{Decoder, TagConfig, topic_matches};

use super::decode::Payload;
use super::tags::TagStore;
use super::value::{Quality, TagId};

pub struct Router {
    exact: HashMap<String, Vec<TagId>>,
    wildcard: Vec<(String, Vec<TagId>)>,
    decoders: Vec<Decoder>,
    store: Arc<TagStore>,
}

impl Router {
    /// Route the MQTT tags of `tags` (indices are tag ids in `store`).
    pub fn new(tags: &[TagConfig], store: Arc<TagStore>) -> Self {
        let mut exact: HashMap<String, Vec<TagId>> = HashMap::new();
        let mut wildcard: Vec<(String, Vec<TagId>)> = Vec::new();
        for (i, tag) in tags.iter().enumerate() {
            let id = i as TagId;
            if tag.topic.is_empty() {
                continue; // polled from a device, not MQTT
            }
            if tag.topic.contains(['+', '#']) {
                match wildcard.iter_mut().find(|(f, _)| *f == tag.topic) {
                    Some((_, ids)) => ids.push(id),
                    None => wildcard.push((tag.topic.clone(), vec![id])),
                }
            } else {
                exact.entry(tag.topic.clone()).or_default().push(id);
            }
        }
        Self {
            exact,
            wildcard,
            decoders: tags.iter().map(|t| t.decoder.clone()).collect(),
            store,
        }
    }

    /// Every filter to subscribe, each once, in a stable order.
    pub fn filters(&self) -> Vec<String> {
        let mut f: Vec<String> = self.exact.keys().cloned().collect();
        f.sort();
        f.extend(self.wildcard.iter().map(|(w, _)| w.clone()));
        f
    }

    /// Every tag fed by MQTT.
    pub fn tag_ids(&self) -> impl Iterator<Item = TagId> + '_ {
        self.exact
            .values()
            .chain(self.wildcard.iter().map(|(_, ids)| ids))
            .flatten()
            .copied()
    }

    /// Decode a publish into every tag bound to its topic. Returns how many tags it fed.
    pub fn route(&self, topic: &str, payload: &[u8], now_ms: i64) -> usize {
        let mut payload = Payload::new(payload);
        let mut n = 0;
        if let Some(ids) = self.exact.get(topic) {
            n += self.apply(ids, &mut payload, now_ms);
        }
        for (filter, ids) in &self.wildcard {
            if topic_matches(filter, topic) {
                n += self.apply(ids, &mut payload, now_ms);
            }
        }
        n
    }

    fn apply(&self, ids: &[TagId], payload: &mut Payload<'_>, now_ms: i64) -> usize {
        for &id in ids {
            match payload.decode(&self.decoders[id as usize]) {
                Ok((value, ts)) => self
                    .store
                    .set_value(id, value, ts.unwrap_or(now_ms), now_ms),
                Err(reason) => {
                    self.store
                        .set_quality(id, Quality::Bad, Some(Arc::from(reason)), now_ms);
                }
            }
        }
        ids.len()
    }
}
