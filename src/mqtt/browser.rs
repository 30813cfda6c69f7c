//! The topic browser: a separate MQTT connection subscribed to `#` that keeps a live table of
//! every topic seen on the broker (last payload, retained flag, count, times, rate), and the
//! flattened rows of a collapsible topic tree for a GUI to draw.
//!
//! Owns [`TopicTree`] (the shared table) and [`TopicBrowser`] (the connection that feeds it).
//! Knows topics and payload bytes, not tags: guessing a tag from a topic is `project::guess`.
//! Must not import egui, nor the engine (the engine imports this).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::RwLock;
use tokio_util::sync::CancellationToken;

use super::client::{ClientSettings, ConnState, Subscriber};

/// The most payload bytes kept per topic; longer payloads are cut (`TopicInfo::truncated`).
pub const MAX_PAYLOAD_BYTES: usize = 16 * 1024;
/// The most characters of a payload preview (one line).
pub const PREVIEW_CHARS: usize = 60;
/// The most distinct topics kept; later new topics are counted in `dropped_topics` only.
pub const MAX_TOPICS: usize = 200_000;
/// Topic levels made into tree nodes; deeper levels stay in the last node's name.
pub const MAX_LEVELS: usize = 32;
/// Time constant of the decaying message rate: a topic that stops publishing reads ~37 % of its
/// rate after this long, ~1 % after 4.6×.
const RATE_TAU_S: f64 = 5.0;

/// An exponentially decayed message rate: each message adds `1/τ`, the sum decays with `e^(-t/τ)`.
/// A steady 1 msg/s reads 0.9–1.1 msg/s; silence decays it toward 0.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Rate {
    value: f64,
    at_ms: i64,
}

impl Rate {
    fn hit(&mut self, now_ms: i64) {
        self.value = self.at(now_ms) + 1.0 / RATE_TAU_S;
        self.at_ms = self.at_ms.max(now_ms);
    }

    fn at(&self, now_ms: i64) -> f64 {
        // A clock that stepped back does not make the rate grow.
        let dt_s = (now_ms - self.at_ms).max(0) as f64 / 1000.0;
        self.value * (-dt_s / RATE_TAU_S).exp()
    }
}

/// Everything known about one topic (a copy; see [`TopicTree::get`]).
#[derive(Clone, Debug, PartialEq)]
pub struct TopicInfo {
    pub topic: String,
    /// The last payload, at most [`MAX_PAYLOAD_BYTES`].
    pub payload: Vec<u8>,
    /// Size of the last payload as received.
    pub payload_len: usize,
    /// Whether `payload` was cut to [`MAX_PAYLOAD_BYTES`].
    pub truncated: bool,
    /// Retain flag of the last message (set when it came from the broker's retained store).
    pub retained: bool,
    /// Messages received since the browser started (or since [`TopicTree::clear`]).
    pub count: u64,
    /// Receive time of the first and the last message, UTC ms.
    pub first_ms: i64,
    pub last_ms: i64,
    /// One line, at most [`PREVIEW_CHARS`] characters; empty for an empty payload.
    pub preview: String,
    rate: Rate,
}

impl TopicInfo {
    /// Messages per second at `now_ms`, decaying toward 0 while the topic is silent.
    pub fn rate_per_s(&self, now_ms: i64) -> f64 {
        self.rate.at(now_ms)
    }
}

/// The message part of a [`TreeRow`] whose node is itself a topic.
#[derive(Clone, Debug, PartialEq)]
pub struct RowMessage {
    /// One line, at most [`PREVIEW_CHARS`] characters; empty for an empty payload.
    pub preview: String,
    pub retained: bool,
    pub rate_per_s: f64,
    pub count: u64,
    pub last_ms: i64,
}

/// One visible row of the topic tree, in display order.
#[derive(Clone, Debug, PartialEq)]
pub struct TreeRow {
    /// 0 for a top-level segment.
    pub depth: usize,
    /// This level's segment (may be empty: `a//b`, `/a`).
    pub name: Arc<str>,
    /// Full path up to and including this segment: the key for the `expanded` set, and the
    /// topic when the row is a topic.
    pub path: Arc<str>,
    pub has_children: bool,
    /// Whether the children follow (always true with a filter, when there are children).
    pub expanded: bool,
    /// Topics below this node (not counting the node itself).
    pub topics_below: usize,
    /// `Some` when this path is itself a topic that carried messages.
    pub message: Option<RowMessage>,
}

impl TreeRow {
    pub fn is_topic(&self) -> bool {
        self.message.is_some()
    }
}

/// The per-topic state behind a node.
#[derive(Debug)]
struct Msg {
    payload: Vec<u8>,
    payload_len: usize,
    retained: bool,
    count: u64,
    first_ms: i64,
    last_ms: i64,
    rate: Rate,
    preview: String,
    /// The topic in lower case, for the filter.
    lower: Box<str>,
}

#[derive(Debug)]
struct Node {
    name: Arc<str>,
    path: Arc<str>,
    parent: usize,
    depth: usize,
    children: BTreeMap<Arc<str>, usize>,
    topics_below: usize,
    msg: Option<Msg>,
}

const ROOT: usize = 0;

#[derive(Debug)]
struct Inner {
    /// `nodes[ROOT]` is the unnamed root.
    nodes: Vec<Node>,
    by_topic: HashMap<Arc<str>, usize>,
    dropped_topics: u64,
}

impl Inner {
    fn new() -> Self {
        let empty: Arc<str> = Arc::from("");
        Self {
            nodes: vec![Node {
                name: empty.clone(),
                path: empty,
                parent: ROOT,
                depth: 0,
                children: BTreeMap::new(),
                topics_below: 0,
                msg: None,
            }],
            by_topic: HashMap::new(),
            dropped_topics: 0,
        }
    }

    /// The node of `topic`, created with its ancestors; `None` when the table is full.
    fn topic_node(&mut self, topic: &str) -> Option<usize> {
        if let Some(&id) = self.by_topic.get(topic) {
            return Some(id);
        }
        if self.by_topic.len() >= MAX_TOPICS {
            self.dropped_topics += 1;
            return None;
        }
        let mut id = ROOT;
        let mut end = 0;
        for (level, segment) in topic.splitn(MAX_LEVELS, '/').enumerate() {
            end += segment.len() + usize::from(level > 0);
            id = match self.nodes[id].children.get(segment) {
                Some(&child) => child,
                None => {
                    let child = self.nodes.len();
                    let name: Arc<str> = Arc::from(segment);
                    self.nodes.push(Node {
                        name: name.clone(),
                        path: Arc::from(&topic[..end]),
                        parent: id,
                        depth: level,
                        children: BTreeMap::new(),
                        topics_below: 0,
                        msg: None,
                    });
                    self.nodes[id].children.insert(name, child);
                    child
                }
            };
        }
        let path = self.nodes[id].path.clone();
        self.by_topic.insert(path, id);
        let mut up = id;
        while up != ROOT {
            up = self.nodes[up].parent;
            self.nodes[up].topics_below += 1;
        }
        Some(id)
    }

    fn row(&self, id: usize, expanded: bool, now_ms: i64) -> TreeRow {
        let n = &self.nodes[id];
        TreeRow {
            depth: n.depth,
            name: n.name.clone(),
            path: n.path.clone(),
            has_children: !n.children.is_empty(),
            expanded: expanded && !n.children.is_empty(),
            topics_below: n.topics_below,
            message: n.msg.as_ref().map(|m| RowMessage {
                preview: m.preview.clone(),
                retained: m.retained,
                rate_per_s: m.rate.at(now_ms),
                count: m.count,
                last_ms: m.last_ms,
            }),
        }
    }

    /// Pre-order walk from the root, descending into a node's children when `open(node)`.
    /// Iterative: a hostile topic cannot overflow the stack.
    fn walk(
        &self,
        now_ms: i64,
        out: &mut Vec<TreeRow>,
        visible: impl Fn(usize) -> bool,
        open: impl Fn(&Node) -> bool,
    ) {
        let mut stack: Vec<usize> = self.nodes[ROOT].children.values().rev().copied().collect();
        while let Some(id) = stack.pop() {
            if !visible(id) {
                continue;
            }
            let node = &self.nodes[id];
            let is_open = !node.children.is_empty() && open(node);
            out.push(self.row(id, is_open, now_ms));
            if is_open {
                stack.extend(node.children.values().rev().copied());
            }
        }
    }
}

struct Shared {
    inner: RwLock<Inner>,
    version: AtomicU64,
}

/// The live table of every topic seen, shared between the MQTT task (writer) and a GUI
/// (reader). Cloning is cheap and shares the table.
///
/// `record` is O(1) for a known topic (a hash lookup) and O(levels · log fan-out) for a new
/// one. Readers hold the read lock only while copying out (`rows`, `get`).
#[derive(Clone)]
pub struct TopicTree {
    shared: Arc<Shared>,
}

impl Default for TopicTree {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for TopicTree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TopicTree")
            .field("topics", &self.len())
            .field("version", &self.version())
            .finish_non_exhaustive()
    }
}

impl TopicTree {
    pub fn new() -> Self {
        Self {
            shared: Arc::new(Shared {
                inner: RwLock::new(Inner::new()),
                version: AtomicU64::new(0),
            }),
        }
    }

    /// Record one received message. An empty topic is ignored (MQTT forbids it).
    pub fn record(&self, topic: &str, payload: &[u8], retain: bool, now_ms: i64) {
        if topic.is_empty() {
            return;
        }
        {
            let mut inner = self.shared.inner.write();
            let Some(id) = inner.topic_node(topic) else {
                return;
            };
            let kept = &payload[..payload.len().min(MAX_PAYLOAD_BYTES)];
            let msg = inner.nodes[id].msg.get_or_insert_with(|| Msg {
                payload: Vec::new(),
                payload_len: 0,
                retained: false,
                count: 0,
                first_ms: now_ms,
                last_ms: now_ms,
                rate: Rate::default(),
                preview: String::new(),
                lower: topic.to_lowercase().into_boxed_str(),
            });
            // Buffers are reused: a known topic costs no allocation once its payload size settled.
            msg.payload.clear();
            msg.payload.extend_from_slice(kept);
            msg.payload_len = payload.len();
            msg.retained = retain;
            msg.count += 1;
            msg.last_ms = now_ms;
            msg.rate.hit(now_ms);
            write_preview(&mut msg.preview, payload);
        }
        self.shared.version.fetch_add(1, Ordering::Release);
    }

    /// Changes on every recorded message, new topic and `clear`: a GUI rebuilds its rows only
    /// when this moved (or when time moved enough for the rates to matter).
    pub fn version(&self) -> u64 {
        self.shared.version.load(Ordering::Acquire)
    }

    /// Number of distinct topics.
    pub fn len(&self) -> usize {
        self.shared.inner.read().by_topic.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// New topics not kept because the table held [`MAX_TOPICS`].
    pub fn dropped_topics(&self) -> u64 {
        self.shared.inner.read().dropped_topics
    }

    /// Forget every topic (the browser keeps receiving).
    pub fn clear(&self) {
        *self.shared.inner.write() = Inner::new();
        self.shared.version.fetch_add(1, Ordering::Release);
    }

    /// A copy of everything known about `topic` (exact topic name, no wildcards).
    pub fn get(&self, topic: &str) -> Option<TopicInfo> {
        let inner = self.shared.inner.read();
        let &id = inner.by_topic.get(topic)?;
        let node = &inner.nodes[id];
        let m = node.msg.as_ref()?;
        Some(TopicInfo {
            topic: node.path.to_string(),
            payload: m.payload.clone(),
            payload_len: m.payload_len,
            truncated: m.payload_len > m.payload.len(),
            retained: m.retained,
            count: m.count,
            first_ms: m.first_ms,
            last_ms: m.last_ms,
            preview: m.preview.clone(),
            rate: m.rate,
        })
    }

    /// The visible rows of the topic tree, in display order: siblings sorted by segment (byte
    /// order), a parent before its children.
    ///
    /// Without a filter, a node's children are listed only when its `path` is in `expanded`
    /// (and its own parent is listed). With a non-empty `filter` (trimmed; case-insensitive
    /// substring of the full topic), the rows are the matching topics and all their ancestors,
    /// everything expanded; `expanded` is not consulted.
    pub fn rows(&self, expanded: &HashSet<String>, filter: &str, now_ms: i64) -> Vec<TreeRow> {
        let inner = self.shared.inner.read();
        let mut out = Vec::new();
        let filter = filter.trim();
        if filter.is_empty() {
            inner.walk(now_ms, &mut out, |_| true, |n| expanded.contains(&*n.path));
            return out;
        }
        let needle = filter.to_lowercase();
        let mut visible = vec![false; inner.nodes.len()];
        for (id, node) in inner.nodes.iter().enumerate() {
            let matches = node
                .msg
                .as_ref()
                .is_some_and(|m| m.lower.contains(needle.as_str()));
            let mut up = id;
            // Mark the topic and its ancestors; stop at the first one already marked.
            while matches && up != ROOT && !visible[up] {
                visible[up] = true;
                up = inner.nodes[up].parent;
            }
        }
        out.reserve(visible.iter().filter(|v| **v).count());
        inner.walk(now_ms, &mut out, |id| visible[id], |_| true);
        out
    }
}

/// One line of at most [`PREVIEW_CHARS`] characters: text with runs of whitespace and control
/// characters as one space, cut with `…`; a binary payload as its size and first bytes in hex.
fn write_preview(out: &mut String, payload: &[u8]) {
    out.clear();
    // Enough bytes for PREVIEW_CHARS characters of up to 4 bytes, plus one to see there is more.
    let head = &payload[..payload.len().min(PREVIEW_CHARS * 4 + 1)];
    let text = match std::str::from_utf8(head) {
        Ok(s) => Some(s),
        // Cut inside a character at the end of `head`: the valid part is the preview.
        Err(e) if e.error_len().is_none() && head.len() < payload.len() => {
            std::str::from_utf8(&head[..e.valid_up_to()]).ok()
        }
        Err(_) => None,
    };
    let Some(text) = text else {
        use std::fmt::Write as _;
        let _ = write!(out, "[binary {} B]", payload.len());
        for b in payload.iter().take(12) {
            let _ = write!(out, " {b:02x}");
        }
        if payload.len() > 12 {
            out.push_str(" …");
        }
        return;
    };
    let mut chars = 0;
    let mut space = false;
    let mut cut = head.len() < payload.len();
    for c in text.trim().chars() {
        if c.is_whitespace() || c.is_control() {
            space = true;
            continue;
        }
        if chars + usize::from(space) + 1 > PREVIEW_CHARS {
            cut = true;
            break;
        }
        if space {
            out.push(' ');
            chars += 1;
            space = false;
        }
        out.push(c);
        chars += 1;
    }
    if cut {
        if chars == PREVIEW_CHARS {
            out.pop();
        }
        out.push('…');
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// A running topic browser: its own MQTT connection (client id `<id>-browse`, subscribed to
/// `#`, which per MQTT does not include `$SYS/...`) feeding a [`TopicTree`]. Cloning shares it.
#[derive(Clone)]
pub struct TopicBrowser {
    tree: TopicTree,
    state: Arc<RwLock<ConnState>>,
    stop: CancellationToken,
}

impl std::fmt::Debug for TopicBrowser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TopicBrowser")
            .field("tree", &self.tree)
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}

impl TopicBrowser {
    /// Connect with `settings` (client id + `-browse`, no last will) on `runtime` and keep
    /// recording until `shutdown` (or [`TopicBrowser::stop`]). Reconnects like the engine's
    /// connection; after a reconnect the broker sends its retained messages again.
    pub fn start(
        settings: ClientSettings,
        runtime: &tokio::runtime::Handle,
        shutdown: CancellationToken,
    ) -> Self {
        let mut settings = settings;
        settings.client_id = format!("{}-browse", settings.client_id);
        settings.last_will = None;
        let tree = TopicTree::new();
        let state = Arc::new(RwLock::new(ConnState::Connecting));
        let stop = shutdown.child_token();
        let subscriber = Subscriber::new(settings, &["#".to_owned()]);
        let on_state = {
            let state = state.clone();
            move |s: ConnState| *state.write() = s
        };
        let on_publish = {
            let tree = tree.clone();
            move |m: super::Incoming<'_>| tree.record(m.topic, m.payload, m.retain, now_ms())
        };
        runtime.spawn(subscriber.run(on_state, on_publish, stop.clone()));
        Self { tree, state, stop }
    }

    pub fn tree(&self) -> &TopicTree {
        &self.tree
    }

    /// The browser connection's state (separate from the engine's).
    pub fn state(&self) -> ConnState {
        self.state.read().clone()
    }

    /// Disconnect this browser (the tree keeps what it saw).
    pub fn stop(&self) {
        self.stop.cancel();
    }

    pub fn is_stopped(&self) -> bool {
        self.stop.is_cancelled()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(paths: &[&str]) -> HashSet<String> {
        paths.iter().map(|p| (*p).to_owned()).collect()
    }

    fn names(rows: &[TreeRow]) -> Vec<String> {
        rows.iter()
            .map(|r| format!("{}{}", "  ".repeat(r.depth), r.name))
            .collect()
    }

    #[test]
    fn tree_rows_expand_and_filter() {
        let t = TopicTree::new();
        t.record("b/x", b"1", false, 0);
        t.record("a/y/z", b"2", true, 0);
        t.record("a", b"root topic", false, 0);
        t.record("a/x", b"3", false, 0);
        t.record("a-b", b"4", false, 0);
        assert_eq!(t.len(), 5);
        let rows = t.rows(&set(&[]), "", 0);
        assert_eq!(names(&rows), ["a", "a-b", "b"]);
        assert!(rows[0].has_children && !rows[0].expanded && rows[0].is_topic());
        assert_eq!(rows[0].topics_below, 2);
        assert!(!rows[2].is_topic());
        let rows = t.rows(&set(&["a", "a/y", "b/x"]), "", 0);
        assert_eq!(names(&rows), ["a", "  x", "  y", "    z", "a-b", "b"]);
        assert_eq!(&*rows[3].path, "a/y/z");
        assert!(rows[3].message.as_ref().is_some_and(|m| m.retained));
        // Expanded but hidden under a collapsed parent.
        assert_eq!(names(&t.rows(&set(&["a/y"]), "", 0)), ["a", "a-b", "b"]);
        // Filter: matching topics with their ancestors, all open, case-insensitive.
        let rows = t.rows(&set(&[]), " Z ", 0);
        assert_eq!(names(&rows), ["a", "  y", "    z"]);
        assert!(rows.iter().take(2).all(|r| r.expanded));
        assert!(t.rows(&set(&[]), "nothing", 0).is_empty());
    }

    #[test]
    fn odd_topics_and_levels() {
        let t = TopicTree::new();
        t.record("", b"x", false, 0);
        t.record("/a//b", b"x", false, 0);
        let deep = vec!["l"; 100].join("/");
        t.record(&deep, b"x", false, 0);
        assert_eq!(t.len(), 2);
        assert!(t.get("/a//b").is_some() && t.get(&deep).is_some());
        let all: HashSet<String> = t
            .rows(&set(&[]), "/", 0)
            .iter()
            .map(|r| r.path.to_string())
            .collect();
        assert!(all.contains("") && all.contains("/a/") && all.contains(&deep));
        assert_eq!(t.rows(&all, "", 0).len(), all.len());
    }

    #[test]
    fn payload_kept_truncated_and_previewed() {
        let t = TopicTree::new();
        let big = vec![b'x'; MAX_PAYLOAD_BYTES + 10];
        t.record("big", &big, false, 5);
        let i = t.get("big").expect("seen");
        assert!(i.truncated && i.payload.len() == MAX_PAYLOAD_BYTES);
        assert_eq!(i.payload_len, MAX_PAYLOAD_BYTES + 10);
        assert_eq!(i.preview.chars().count(), PREVIEW_CHARS);
        assert!(i.preview.ends_with('…'));
        t.record("big", b"{\n  \"a\":\t1\r\n}", true, 7);
        let i = t.get("big").expect("seen");
        assert_eq!(i.preview, "{ \"a\": 1 }");
        assert!(!i.truncated && i.retained && i.count == 2 && i.first_ms == 5 && i.last_ms == 7);
        t.record("bin", &[0xff, 0, 1], false, 0);
        assert_eq!(t.get("bin").expect("seen").preview, "[binary 3 B] ff 00 01");
        let multi = "é".repeat(300);
        t.record("utf8", multi.as_bytes(), false, 0);
        assert_eq!(
            t.get("utf8").expect("seen").preview.chars().count(),
            PREVIEW_CHARS
        );
        t.record("empty", b"", false, 0);
        assert_eq!(t.get("empty").expect("seen").preview, "");
    }

    #[test]
    fn rate_decays_when_silent() {
        let t = TopicTree::new();
        for i in 0..100 {
            t.record("r", b"1", false, i * 10); // 100 msg/s for 1 s
        }
        let i = t.get("r").expect("seen");
        let at_end = i.rate_per_s(1000);
        assert!(at_end > 10.0, "{at_end}");
        assert!(i.rate_per_s(2000) < at_end * 0.9);
        assert!(i.rate_per_s(60_000) < 0.01);
        // A steady 1 msg/s reads about 1.
        for s in 0..60 {
            t.record("steady", b"1", false, s * 1000);
        }
        let r = t.get("steady").expect("seen").rate_per_s(59_500);
        assert!((0.85..1.15).contains(&r), "{r}");
    }

    #[test]
    fn version_moves_and_clear_forgets() {
        let t = TopicTree::new();
        let v0 = t.version();
        t.record("a", b"1", false, 0);
        let v1 = t.version();
        t.record("a", b"1", false, 0);
        assert!(v0 != v1 && v1 != t.version());
        t.clear();
        assert!(t.is_empty() && t.rows(&set(&[]), "", 0).is_empty());
    }
}
