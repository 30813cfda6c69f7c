//! Guessing a tag from a browsed MQTT topic ("drag a topic onto a screen → create a tag"): which
//! decoder fits a sample payload, the scalar leaves of a JSON payload with their RFC 6901
//! pointers, a valid tag name from a topic, and the resulting [`TagConfig`].
//!
//! Pure functions over bytes: no I/O, no engine, no egui. The number and bool rules mirror
//! `engine::decode::{parse_number, parse_bool}` (the engine imports the project, so the project
//! cannot import the engine); tests/topic_browser.rs checks that they agree.

use super::{Decoder, TagConfig, ValueKind};

/// The most leaves [`json_leaves`] lists.
pub const MAX_JSON_LEAVES: usize = 500;
/// Leaves nested deeper than this many containers are not listed.
pub const MAX_JSON_DEPTH: usize = 16;
/// The most characters of a leaf's preview.
const LEAF_PREVIEW_CHARS: usize = 40;

/// The decoder a sample payload suggests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GuessedDecoder {
    /// A number as text or JSON number (`21.5`, ` -3e2 `).
    Number,
    /// A bool word the engine reads: `true/false`, `on/off`, `1/0`, `yes/no`,
    /// `running/stopped`, `open/closed` (any case).
    Bool,
    /// Other UTF-8 text.
    String,
    /// A JSON object or array: the tag needs one of its [`json_leaves`].
    Json,
    /// Nothing fits (binary or empty payload); the reason is for the operator.
    Unsupported(String),
}

/// One scalar of a JSON document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonLeaf {
    /// RFC 6901 pointer (`/fans/0/speed`; `~` and `/` in keys escaped as `~0`, `~1`); empty for a
    /// document that is itself a scalar.
    pub pointer: String,
    /// The value kind to decode it as (a string holding a number or bool word counts as such).
    pub kind: ValueKind,
    /// At most 40 characters, one line.
    pub preview: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GuessError {
    #[error("the payload is a JSON document: choose one of its fields")]
    NeedsField,
    #[error("no decoder fits this payload: {0}")]
    Unsupported(String),
    #[error("cannot build the tag: {0}")]
    Model(String),
}

/// Which decoder fits `payload` (a sample of the topic; the engine's decoders trim whitespace).
pub fn guess_decoder(payload: &[u8]) -> GuessedDecoder {
    let Ok(text) = std::str::from_utf8(payload) else {
        return GuessedDecoder::Unsupported(
            "the payload is not UTF-8 text (binary, e.g. Sparkplug B)".to_owned(),
        );
    };
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return GuessedDecoder::Unsupported("the payload is empty".to_owned());
    }
    if trimmed.starts_with(['{', '['])
        && serde_json::from_str::<serde_json::Value>(trimmed)
            .is_ok_and(|v| v.is_object() || v.is_array())
    {
        return GuessedDecoder::Json;
    }
    match text_kind(trimmed) {
        ValueKind::Number => GuessedDecoder::Number,
        ValueKind::Bool => GuessedDecoder::Bool,
        ValueKind::String => GuessedDecoder::String,
    }
}

/// Bool words first (so `1`/`0` are bools, as the engine's bool decoder reads them), then
/// finite numbers, else text.
fn text_kind(s: &str) -> ValueKind {
    // `0` and `1` are numbers first: a counter that happens to read 0 must not become a bool
    // (the engine still reads a number tag's 0/1 as a bool where a lamp needs one).
    if s.parse::<f64>().is_ok_and(f64::is_finite) {
        ValueKind::Number
    } else if is_bool_word(s) {
        ValueKind::Bool
    } else {
        ValueKind::String
    }
}

/// The words `engine::parse_bool` accepts.
fn is_bool_word(s: &str) -> bool {
    const WORDS: [&str; 12] = [
        "1", "true", "on", "yes", "running", "open", "0", "false", "off", "no", "stopped", "closed",
    ];
    WORDS.iter().any(|w| w.eq_ignore_ascii_case(s))
}

/// Every scalar leaf (number, bool, string; not null) of a JSON `payload`, in document order.
/// Bounded: at most [`MAX_JSON_LEAVES`] leaves, none deeper than [`MAX_JSON_DEPTH`] containers.
/// Empty when the payload is not JSON (or was cut, see `TopicInfo::truncated`).
pub fn json_leaves(payload: &[u8]) -> Vec<JsonLeaf> {
    let mut out = Vec::new();
    if let Ok(doc) = serde_json::from_slice::<serde_json::Value>(payload) {
        let mut pointer = String::new();
        collect(&doc, 0, &mut pointer, &mut out);
    }
    out
}

fn collect(v: &serde_json::Value, depth: usize, pointer: &mut String, out: &mut Vec<JsonLeaf>) {
    use serde_json::Value as J;
    if out.len() >= MAX_JSON_LEAVES {
        return;
    }
    let (kind, preview) = match v {
        J::Null => return,
        J::Bool(b) => (ValueKind::Bool, b.to_string()),
        J::Number(n) => (ValueKind::Number, n.to_string()),
        J::String(s) => (text_kind(s.trim()), s.clone()),
        J::Array(items) => {
            if depth < MAX_JSON_DEPTH {
                for (i, item) in items.iter().enumerate() {
                    let len = pointer.len();
                    pointer.push('/');
                    pointer.push_str(&i.to_string());
                    collect(item, depth + 1, pointer, out);
                    pointer.truncate(len);
                }
            }
            return;
        }
        J::Object(map) => {
            if depth < MAX_JSON_DEPTH {
                for (key, item) in map {
                    let len = pointer.len();
                    pointer.push('/');
                    // RFC 6901: `~` first, so the `~` of `~1` is not escaped again.
                    pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
                    collect(item, depth + 1, pointer, out);
                    pointer.truncate(len);
                }
            }
            return;
        }
    };
    out.push(JsonLeaf {
        pointer: pointer.clone(),
        kind,
        preview: one_line(&preview, LEAF_PREVIEW_CHARS),
    });
}

fn one_line(s: &str, max_chars: usize) -> String {
    let flat: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if flat.chars().count() > max_chars {
        let mut cut: String = flat.chars().take(max_chars - 1).collect();
        cut.push('…');
        cut
    } else {
        flat
    }
}

/// A tag name from a topic and optional JSON pointer: levels joined by `.` (empty levels
/// dropped), pointer tokens unescaped and appended (`plant/ahu1/supply_temp` + `/fans/0/speed`
/// → `plant.ahu1.supply_temp.fans.0.speed`). Whitespace, control characters and the characters
/// a tag name may not hold (`{ } , "`), and `/` inside a JSON key, become `_`. Never empty
/// (`tag` when nothing is left).
pub fn tag_name_from_topic(topic: &str, pointer: Option<&str>) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_whitespace() || c.is_control() || matches!(c, '{' | '}' | ',' | '"' | '/') {
                    '_'
                } else {
                    c
                }
            })
            .collect()
    };
    let levels = topic.split('/').filter(|s| !s.is_empty()).map(clean);
    let tokens = pointer
        .unwrap_or("")
        .split('/')
        .skip(1)
        .filter(|t| !t.is_empty())
        .map(|t| clean(&t.replace("~1", "/").replace("~0", "~")));
    let name = levels.chain(tokens).collect::<Vec<_>>().join(".");
    if name.is_empty() {
        "tag".to_owned()
    } else {
        name
    }
}

/// `base`, or `base_2`, `base_3`, ... — the first that `taken` says is free.
pub fn unique_tag_name(base: &str, taken: impl Fn(&str) -> bool) -> String {
    if !taken(base) {
        return base.to_owned();
    }
    (2..)
        .map(|n| format!("{base}_{n}"))
        .find(|name| !taken(name))
        .unwrap_or_else(|| base.to_owned())
}

/// The decoder for a guess and, for JSON, the chosen leaf. A leaf always makes a JSON decoder.
pub fn decoder_for(guess: &GuessedDecoder, leaf: Option<&JsonLeaf>) -> Result<Decoder, GuessError> {
    if let Some(leaf) = leaf {
        return Ok(Decoder::Json {
            pointer: leaf.pointer.clone(),
            value: leaf.kind,
            timestamp: None,
        });
    }
    match guess {
        GuessedDecoder::Number => Ok(Decoder::Number),
        GuessedDecoder::Bool => Ok(Decoder::Bool),
        GuessedDecoder::String => Ok(Decoder::String),
        GuessedDecoder::Json => Err(GuessError::NeedsField),
        GuessedDecoder::Unsupported(why) => Err(GuessError::Unsupported(why.clone())),
    }
}

/// A tag reading `topic` with the guessed decoder (or the JSON `leaf`), named by
/// [`tag_name_from_topic`]. Every other field has the project file's default (no unit, default
/// staleness and history), exactly as if the tag had been written by hand with only `name`,
/// `topic` and `decoder`. The caller makes the name unique ([`unique_tag_name`]).
pub fn tag_config_for_topic(
    topic: &str,
    guess: &GuessedDecoder,
    leaf: Option<&JsonLeaf>,
) -> Result<TagConfig, GuessError> {
    let decoder = decoder_for(guess, leaf)?;
    let name = tag_name_from_topic(topic, leaf.map(|l| l.pointer.as_str()));
    let decoder = serde_json::to_value(decoder).map_err(|e| GuessError::Model(e.to_string()))?;
    serde_json::from_value(serde_json::json!({
        "name": name,
        "topic": topic,
        "decoder": decoder,
    }))
    .map_err(|e| GuessError::Model(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guesses() {
        use GuessedDecoder as G;
        for (payload, want) in [
            (&b"21.5"[..], G::Number),
            (b" -3e2\n", G::Number),
            (b"42", G::Number),
            (b"1", G::Number),
            (b"0", G::Number),
            (b"ON", G::Bool),
            (b"false", G::Bool),
            (b"Running", G::Bool),
            (b"auto", G::String),
            (b"NaN", G::String),
            (b"\"quoted\"", G::String),
            (b"{\"a\": 1}", G::Json),
            (b" [1, 2]", G::Json),
            (b"{broken", G::String),
        ] {
            assert_eq!(
                guess_decoder(payload),
                want,
                "{}",
                String::from_utf8_lossy(payload)
            );
        }
        assert!(matches!(guess_decoder(&[0xff, 0x00]), G::Unsupported(_)));
        assert!(matches!(guess_decoder(b"  "), G::Unsupported(_)));
    }

    #[test]
    fn leaves_nested_arrays_and_escaping() {
        let doc = br#"{"t": 21.5, "fans": [{"speed": 40, "on": true}, {"speed": "55"}],
            "a/b": {"c~d": "x"}, "n": null, "mode": "auto", "": 1}"#;
        let leaves = json_leaves(doc);
        let got: Vec<(&str, ValueKind)> = leaves
            .iter()
            .map(|l| (l.pointer.as_str(), l.kind))
            .collect();
        assert_eq!(
            got,
            [
                ("/t", ValueKind::Number),
                ("/fans/0/speed", ValueKind::Number),
                ("/fans/0/on", ValueKind::Bool),
                ("/fans/1/speed", ValueKind::Number),
                ("/a~1b/c~0d", ValueKind::String),
                ("/mode", ValueKind::String),
                ("/", ValueKind::Number),
            ]
        );
        // Every pointer finds its value again.
        let v: serde_json::Value = serde_json::from_slice(doc).expect("json");
        assert!(leaves.iter().all(|l| v.pointer(&l.pointer).is_some()));
        assert_eq!(json_leaves(b"7")[0].pointer, "");
        assert!(json_leaves(b"{nope").is_empty());
        assert!(json_leaves(&[0xff]).is_empty());
        let long = format!(r#"{{"s": "{}"}}"#, "y".repeat(100));
        let p = &json_leaves(long.as_bytes())[0].preview;
        assert!(p.chars().count() == 40 && p.ends_with('…'));
    }

    #[test]
    fn leaves_are_bounded() {
        let many = format!("[{}]", vec!["1"; 10_000].join(","));
        assert_eq!(json_leaves(many.as_bytes()).len(), MAX_JSON_LEAVES);
        // 100 levels deep (serde_json's own limit is 128): nothing below depth 16 is listed.
        let deep = format!("{}1{}", "[".repeat(100), "]".repeat(100));
        assert!(json_leaves(deep.as_bytes()).is_empty());
        let ok = format!("{}1{}", "[".repeat(16), "]".repeat(16));
        assert_eq!(json_leaves(ok.as_bytes()).len(), 1);
        let too_deep = format!("{}1{}", "[".repeat(17), "]".repeat(17));
        assert!(json_leaves(too_deep.as_bytes()).is_empty());
    }

    #[test]
    fn tag_names() {
        assert_eq!(
            tag_name_from_topic("plant/ahu1/supply_temp", None),
            "plant.ahu1.supply_temp"
        );
        assert_eq!(
            tag_name_from_topic("plant/ahu1/supply_temp", Some("/fans/0/speed")),
            "plant.ahu1.supply_temp.fans.0.speed"
        );
        assert_eq!(
            tag_name_from_topic("/a//b c/{x},\"y\"", Some("/k~1v/t~0")),
            "a.b_c._x___y_.k_v.t~"
        );
        assert_eq!(tag_name_from_topic("/", Some("")), "tag");
        assert_eq!(tag_name_from_topic("a\tb", None), "a_b");
        assert_eq!(unique_tag_name("a", |n| ["a", "a_2"].contains(&n)), "a_3");
        assert_eq!(unique_tag_name("b", |_| false), "b");
    }

    #[test]
    fn tag_configs() {
        let t = tag_config_for_topic("plant/t", &GuessedDecoder::Number, None).expect("tag");
        assert_eq!((t.name.as_str(), t.topic.as_str()), ("plant.t", "plant/t"));
        assert_eq!(t.decoder, Decoder::Number);
        assert!(t.unit.is_empty() && t.stale_after_s == 60.0 && t.poll.is_none());
        assert_eq!(
            tag_config_for_topic("j", &GuessedDecoder::Json, None),
            Err(GuessError::NeedsField)
        );
        let leaf = &json_leaves(br#"{"on": "off"}"#)[0];
        let t = tag_config_for_topic("j", &GuessedDecoder::Json, Some(leaf)).expect("tag");
        assert_eq!(t.name, "j.on");
        assert_eq!(
            t.decoder,
            Decoder::Json {
                pointer: "/on".into(),
                value: ValueKind::Bool,
                timestamp: None
            }
        );
        assert!(matches!(
            tag_config_for_topic("b", &guess_decoder(&[0xfe]), None),
            Err(GuessError::Unsupported(_))
        ));
    }
}
