//! Payload → value decoding. Pure functions; a payload that does not fit is an error with a
//! reason (the tag turns bad), never a panic.

use std::sync::Arc;

use crate::project::{Decoder, ValueKind};

use super::value::Value;

/// A decoded value and, if the payload carried one, its source timestamp (UTC ms).
pub type Decoded = (Value, Option<i64>);

/// A payload parsed as JSON at most once, shared by every tag on the topic (JSON fan-out).
pub struct Payload<'a> {
    bytes: &'a [u8],
    json: Option<Result<serde_json::Value, String>>,
}

impl<'a> Payload<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, json: None }
    }

    fn text(&self) -> Result<&'a str, String> {
        std::str::from_utf8(self.bytes).map_err(|e| format!("payload is not UTF-8 text: {e}"))
    }

    fn json(&mut self) -> Result<&serde_json::Value, String> {
        let bytes = self.bytes;
        self.json
            .get_or_insert_with(|| {
                serde_json::from_slice(bytes).map_err(|e| format!("payload is not JSON: {e}"))
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    pub fn decode(&mut self, decoder: &Decoder) -> Result<Decoded, String> {
        match decoder {
            Decoder::Number => Ok((Value::Number(parse_number(self.text()?.trim())?), None)),
            Decoder::Bool => Ok((Value::Bool(parse_bool(self.text()?.trim())?), None)),
            Decoder::String => Ok((Value::Text(Arc::from(self.text()?)), None)),
            Decoder::Json {
                pointer,
                value,
                timestamp,
            } => {
                let doc = self.json()?;
                let node = doc
                    .pointer(pointer)
                    .ok_or_else(|| format!("JSON has nothing at `{pointer}`"))?;
                let v = json_value(node, *value).map_err(|e| format!("`{pointer}`: {e}"))?;
                let ts = match timestamp {
                    Some(p) => Some(
                        doc.pointer(p)
                            .ok_or_else(|| format!("JSON has no timestamp at `{p}`"))
                            .and_then(json_timestamp_ms)
                            .map_err(|e| format!("timestamp `{p}`: {e}"))?,
                    ),
                    None => None,
                };
                Ok((v, ts))
            }
        }
    }
}

fn json_value(node: &serde_json::Value, kind: ValueKind) -> Result<Value, String> {
    use serde_json::Value as J;
    match (kind, node) {
        (ValueKind::Number, J::Number(n)) => n
            .as_f64()
            .map(Value::Number)
            .ok_or_else(|| format!("{n} is not representable as a number")),
        (ValueKind::Number, J::String(s)) => parse_number(s.trim()).map(Value::Number),
        (ValueKind::Number, J::Bool(b)) => Ok(Value::Number(f64::from(u8::from(*b)))),
        (ValueKind::Bool, J::Bool(b)) => Ok(Value::Bool(*b)),
        (ValueKind::Bool, J::Number(n)) => Ok(Value::Bool(n.as_f64().is_some_and(|v| v != 0.0))),
        (ValueKind::Bool, J::String(s)) => parse_bool(s.trim()).map(Value::Bool),
        (ValueKind::String, J::String(s)) => Ok(Value::Text(Arc::from(s.as_str()))),
        (ValueKind::String, J::Number(_) | J::Bool(_)) => {
            Ok(Value::Text(Arc::from(node.to_string())))
        }
        (_, J::Null) => Err("value is null".to_owned()),
        (_, other) => {
            Err(format!("expected a {kind:?}, found {}", json_kind(other)).to_lowercase())
        }
    }
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "bool",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

fn json_timestamp_ms(v: &serde_json::Value) -> Result<i64, String> {
    match v {
        serde_json::Value::Number(n) => {
            let x = n.as_f64().ok_or("not a number")?;
            // Seconds or milliseconds since the epoch: anything below year 2400 in seconds.
            let ms = if x.abs() < 1.4e10 { x * 1000.0 } else { x };
            if ms.is_finite() {
                #[allow(clippy::cast_possible_truncation)]
                Ok(ms.round() as i64)
            } else {
                Err("not a finite number".to_owned())
            }
        }
        serde_json::Value::String(s) => chrono::DateTime::parse_from_rfc3339(s)
            .map(|t| t.timestamp_millis())
            .map_err(|e| format!("`{s}` is not an RFC 3339 time: {e}")),
        other => Err(format!(
            "expected a number or string, found {}",
            json_kind(other)
        )),
    }
}

/// A number as text; `NaN`/`inf` are refused (a plausible-looking garbage value is worse than bad
/// quality).
pub fn parse_number(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        Ok(_) => Err(format!("`{}` is not a finite number", clip(s))),
        Err(_) => Err(format!("`{}` is not a number", clip(s))),
    }
}

pub fn parse_bool(s: &str) -> Result<bool, String> {
    match s.to_ascii_lowercase().as_str() {
        "1" | "true" | "on" | "yes" | "running" | "open" => Ok(true),
        "0" | "false" | "off" | "no" | "stopped" | "closed" => Ok(false),
        _ => Err(format!("`{}` is not a bool", clip(s))),
    }
}

/// At most 40 characters of a payload in an error message.
fn clip(s: &str) -> String {
    if s.chars().count() > 40 {
        format!("{}…", s.chars().take(40).collect::<String>())
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(pointer: &str, value: ValueKind) -> Decoder {
        Decoder::Json {
            pointer: pointer.to_owned(),
            value,
            timestamp: None,
        }
    }

    #[test]
    fn plain() {
        let d = |p: &[u8], dec: &Decoder| Payload::new(p).decode(dec);
        assert_eq!(
            d(b" 21.5\n", &Decoder::Number).unwrap().0,
            Value::Number(21.5)
        );
        assert!(
            d(b"abc", &Decoder::Number)
                .unwrap_err()
                .contains("not a number")
        );
        assert!(d(b"NaN", &Decoder::Number).is_err());
        assert!(
            d(&[0xff, 0xfe], &Decoder::Number)
                .unwrap_err()
                .contains("UTF-8")
        );
        assert_eq!(d(b"ON", &Decoder::Bool).unwrap().0, Value::Bool(true));
        assert_eq!(d(b"0", &Decoder::Bool).unwrap().0, Value::Bool(false));
        assert_eq!(
            d(b"auto", &Decoder::String).unwrap().0,
            Value::Text("auto".into())
        );
    }

    #[test]
    fn json_pointer_fan_out() {
        let mut p = Payload::new(br#"{"a":{"b":[1.5,{"c":true}]},"s":"x","ts":1700000000123}"#);
        assert_eq!(
            p.decode(&json("/a/b/0", ValueKind::Number)).unwrap().0,
            Value::Number(1.5)
        );
        assert_eq!(
            p.decode(&json("/a/b/1/c", ValueKind::Bool)).unwrap().0,
            Value::Bool(true)
        );
        assert!(
            p.decode(&json("/a/b/2", ValueKind::Number))
                .unwrap_err()
                .contains("nothing at")
        );
        assert!(
            p.decode(&json("/a", ValueKind::Number))
                .unwrap_err()
                .contains("object")
        );
        let ts = Decoder::Json {
            pointer: "/s".into(),
            value: ValueKind::String,
            timestamp: Some("/ts".into()),
        };
        assert_eq!(
            p.decode(&ts).unwrap(),
            (Value::Text("x".into()), Some(1_700_000_000_123))
        );
        let mut bad = Payload::new(b"{nope");
        assert!(
            bad.decode(&json("/a", ValueKind::Number))
                .unwrap_err()
                .contains("not JSON")
        );
    }
}
