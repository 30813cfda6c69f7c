//! What the demo plant publishes: topic suffixes (under the configured prefix), their publish
//! groups (rates) and payload formats, with sensor noise added at read-out. Pure formatting; the
//! MQTT side is in `mod.rs`.
//!
//! Payload styles on purpose, so every decoder is exercised: plain numbers as text (`21.53`),
//! plain bools (`true`), a plain string (`auto`) and JSON documents with nested objects, arrays
//! and an epoch-ms `ts` source timestamp.

use rand::Rng;
use serde_json::json;

use super::physics::Plant;

/// A set of topics published at the same rate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    /// 10 Hz: HP1 state (compressor speed), duct static pressure.
    Fast,
    /// 1 Hz: most values.
    Normal,
    /// Every 5 s: outdoor temperature, AHU mode, site loads.
    Slow,
}

impl Group {
    pub const ALL: [Self; 3] = [Self::Fast, Self::Normal, Self::Slow];

    /// The simulator ticks every `TICK_MS`.
    pub const TICK_MS: u64 = 100;

    /// Publish period in ticks of `TICK_MS`.
    pub fn period_ticks(self) -> u64 {
        match self {
            Self::Fast => 1,
            Self::Normal => 10,
            Self::Slow => 50,
        }
    }

    pub fn period_ms(self) -> u64 {
        self.period_ticks() * Self::TICK_MS
    }

    /// Whether this group is due on tick number `tick` (every group is due on tick 0).
    pub fn due(self, tick: u64) -> bool {
        tick.is_multiple_of(self.period_ticks())
    }
}

/// Round to `decimals` places (JSON payloads carry the precision a real device would send).
fn round(v: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (v * f).round() / f
}

fn num(v: f64, decimals: usize) -> String {
    format!("{v:.decimals$}")
}

fn bool_text(b: bool) -> String {
    if b { "true" } else { "false" }.to_owned()
}

impl Plant {
    /// Sensor noise, uniform in ±`amplitude`.
    fn noise(&mut self, amplitude: f64) -> f64 {
        self.rng.random_range(-amplitude..=amplitude)
    }

    /// A reading of `v` with sensor noise.
    fn read(&mut self, v: f64, amplitude: f64) -> f64 {
        v + self.noise(amplitude)
    }

    /// The current (topic suffix, payload) pairs of `group`; `ts_ms` is the source timestamp
    /// (UTC ms) written into JSON payloads. Draws sensor noise, so consecutive calls differ.
    pub fn payloads(&mut self, group: Group, ts_ms: i64) -> Vec<(&'static str, String)> {
        match group {
            Group::Fast => self.fast_payloads(ts_ms),
            Group::Normal => self.normal_payloads(ts_ms),
            Group::Slow => self.slow_payloads(ts_ms),
        }
    }

    fn fast_payloads(&mut self, ts_ms: i64) -> Vec<(&'static str, String)> {
        let hp = self.hp1.clone();
        let mode = hp.mode(self.p1.fault);
        let temps = [
            round(self.read(hp.supply_c, 0.05), 2),
            round(self.read(hp.return_c, 0.05), 2),
            round(self.read(hp.source_in_c, 0.05), 2),
            round(self.read(hp.source_out_c, 0.05), 2),
        ];
        let power_kw = (hp.power_kw + if hp.running { self.noise(0.1) } else { 0.0 }).max(0.0);
        let state = json!({
            "ts": ts_ms,
            "running": hp.running,
            "fault": hp.fault,
            "mode": mode,
            "compressor": {
                "speed": round(hp.speed_pct, 1),
                "power_kw": round(power_kw, 2),
            },
            "temps": temps,
        });
        let duct = self.read(self.ahu1.duct_static_pa, 3.0).max(0.0);
        vec![
            ("hp1/state", state.to_string()),
            ("ahu1/duct_static", num(duct, 1)),
        ]
    }

    fn normal_payloads(&mut self, ts_ms: i64) -> Vec<(&'static str, String)> {
        let mut out = Vec::with_capacity(32);
        let hp_heat = (self.hp1.heat_kw
            + if self.hp1.running {
                self.noise(0.2)
            } else {
                0.0
            })
        .max(0.0);
        out.push(("hp1/heat_kw", num(hp_heat, 1)));
        out.push(("hp1/cop", num(self.hp1.cop, 2)));

        let [top, mid, bot] = self.tk1.temps_c;
        let level = self.tk1.level_pct();
        let tank = json!({
            "ts": ts_ms,
            "level": round(self.read(level, 0.05), 1),
            "temps": {
                "top": round(self.read(top, 0.05), 2),
                "middle": round(self.read(mid, 0.05), 2),
                "bottom": round(self.read(bot, 0.05), 2),
            },
            "makeup": self.tk1.makeup_open,
        });
        out.push(("tk1/state", tank.to_string()));

        let d = self.dh1.clone();
        out.push((
            "dh1/primary/supply_temp",
            num(self.read(d.primary_supply_c, 0.05), 2),
        ));
        out.push((
            "dh1/primary/return_temp",
            num(self.read(d.primary_return_c, 0.05), 2),
        ));
        out.push((
            "dh1/secondary/supply_temp",
            num(self.read(d.secondary_supply_c, 0.05), 2),
        ));
        out.push((
            "dh1/secondary/return_temp",
            num(self.read(d.secondary_return_c, 0.05), 2),
        ));
        out.push(("dh1/secondary/setpoint", num(d.secondary_sp_c, 1)));
        out.push(("dh1/valve", num(d.valve_pct, 1)));
        let flow = (d.primary_flow_m3h
            + if d.valve_pct > 0.5 {
                self.noise(0.01)
            } else {
                0.0
            })
        .max(0.0);
        out.push(("dh1/flow", num(flow, 2)));
        out.push(("dh1/heat_kw", num(d.heat_kw.max(0.0), 1)));

        let a = self.ahu1.clone();
        out.push(("ahu1/supply_temp", num(self.read(a.supply_c, 0.05), 2)));
        out.push(("ahu1/supply_setpoint", num(a.supply_sp_c, 1)));
        out.push(("ahu1/return_temp", num(self.read(a.return_c, 0.05), 2)));
        out.push(("ahu1/mixed_temp", num(self.read(a.mixed_c, 0.05), 2)));
        out.push(("ahu1/supply_fan/running", bool_text(a.supply_fan.running)));
        out.push(("ahu1/supply_fan/fault", bool_text(a.supply_fan.fault)));
        out.push(("ahu1/supply_fan/speed", num(a.supply_fan.speed_pct, 1)));
        out.push(("ahu1/exhaust_fan/running", bool_text(a.exhaust_fan.running)));
        out.push(("ahu1/exhaust_fan/fault", bool_text(a.exhaust_fan.fault)));
        out.push(("ahu1/exhaust_fan/speed", num(a.exhaust_fan.speed_pct, 1)));
        out.push(("ahu1/heating_valve", num(a.heating_valve_pct, 1)));
        out.push(("ahu1/damper", num(a.damper_pct, 1)));
        let filter = self.read(a.filter_dp_pa, 0.5).max(0.0);
        out.push(("ahu1/filter_dp", num(filter, 1)));
        out.push(("ahu1/airflow", num(a.airflow_m3h, 0)));

        let (f1, f2) = (self.p1_flow_m3h(), self.p2_flow_m3h());
        let pumps = json!({
            "ts": ts_ms,
            "pumps": [
                {
                    "id": "P1",
                    "running": self.p1.running,
                    "fault": self.p1.fault,
                    "speed": round(self.p1.speed_pct, 1),
                    "flow_m3h": round(f1, 2),
                },
                {
                    "id": "P2",
                    "running": self.p2.running,
                    "fault": self.p2.fault,
                    "speed": round(self.p2.speed_pct, 1),
                    "flow_m3h": round(f2, 2),
                },
            ],
        });
        out.push(("pumps", pumps.to_string()));
        out.push(("sim/upset", bool_text(self.upset_active())));
        out
    }

    fn slow_payloads(&mut self, ts_ms: i64) -> Vec<(&'static str, String)> {
        let outdoor = self.read(self.ahu1.outdoor_c, 0.05);
        let mode = if self.ahu1.supply_fan.running {
            "auto"
        } else {
            "off"
        };
        let loads = json!({
            "ts": ts_ms,
            "loads_kw": {
                "building": round(self.building_kw, 1),
                "ahu1_coil": round(self.ahu1.coil_kw, 1),
            },
        });
        vec![
            ("ahu1/outdoor_temp", num(outdoor, 2)),
            ("ahu1/mode", mode.to_owned()),
            ("site/loads", loads.to_string()),
        ]
    }
}

/// Whether a topic suffix carries a JSON document (the others are plain text).
pub fn is_json(suffix: &str) -> bool {
    matches!(suffix, "hp1/state" | "tk1/state" | "pumps" | "site/loads")
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use serde_json::Value;

    use super::*;

    const TS: i64 = 1_732_550_000_123;

    fn all_payloads(p: &mut Plant) -> BTreeMap<&'static str, String> {
        let mut out = BTreeMap::new();
        for g in Group::ALL {
            for (suffix, payload) in p.payloads(g, TS) {
                assert!(
                    out.insert(suffix, payload).is_none(),
                    "{suffix} in two groups"
                );
            }
        }
        out
    }

    #[test]
    fn payload_formats() {
        let mut p = Plant::new(1, 8.0 * 3_600.0);
        let all = all_payloads(&mut p);
        assert!(all.len() >= 30, "{} topics", all.len());
        for (suffix, payload) in &all {
            assert!(
                !suffix.starts_with('/') && !suffix.contains(['+', '#']),
                "{suffix}"
            );
            if is_json(suffix) {
                let v: Value = serde_json::from_str(payload).unwrap();
                assert_eq!(v["ts"], json!(TS), "{suffix}");
            } else if suffix.ends_with("running")
                || suffix.ends_with("fault")
                || *suffix == "sim/upset"
            {
                assert!(
                    payload == "true" || payload == "false",
                    "{suffix}: {payload}"
                );
            } else if *suffix == "ahu1/mode" {
                assert_eq!(payload, "auto");
            } else {
                let v: f64 = payload.parse().unwrap();
                assert!(v.is_finite(), "{suffix}: {payload}");
            }
        }
        let hp: Value = serde_json::from_str(&all["hp1/state"]).unwrap();
        assert_eq!(hp["running"], json!(true));
        assert_eq!(hp["mode"], json!("heating"));
        assert!(hp["compressor"]["speed"].as_f64().unwrap() > 20.0);
        assert_eq!(hp["temps"].as_array().map(Vec::len), Some(4));
        // Supply above return, source in above source out.
        let t: Vec<f64> = hp["temps"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_f64)
            .collect();
        assert!(t[0] > t[1] && t[2] > t[3], "{t:?}");
        assert_eq!(all["ahu1/supply_fan/running"], "true");
        assert_eq!(all["sim/upset"], "false");
    }

    #[test]
    fn noise_is_small_and_deterministic() {
        let mut a = Plant::new(42, 0.0);
        let mut b = Plant::new(42, 0.0);
        assert_eq!(all_payloads(&mut a), all_payloads(&mut b));
        let truth = a.ahu1.supply_c;
        for _ in 0..100 {
            let (_, text) = a
                .payloads(Group::Normal, TS)
                .into_iter()
                .find(|(s, _)| *s == "ahu1/supply_temp")
                .unwrap();
            let v: f64 = text.parse().unwrap();
            assert!((v - truth).abs() <= 0.055, "{v} vs {truth}");
        }
    }

    #[test]
    fn groups_are_due_at_their_rates() {
        let due = |g: Group| (0..100).filter(|t| g.due(*t)).count();
        assert_eq!(
            (due(Group::Fast), due(Group::Normal), due(Group::Slow)),
            (100, 10, 2)
        );
        assert_eq!(Group::Slow.period_ms(), 5_000);
    }

    /// Every leaf of a JSON document as (pointer, value).
    fn leaves(v: &Value, at: String, out: &mut Vec<(String, Value)>) {
        match v {
            Value::Object(m) => m
                .iter()
                .for_each(|(k, v)| leaves(v, format!("{at}/{k}"), out)),
            Value::Array(a) => a
                .iter()
                .enumerate()
                .for_each(|(i, v)| leaves(v, format!("{at}/{i}"), out)),
            other => out.push((at, other.clone())),
        }
    }

    /// The demo project binds every simulator topic and JSON field, and every binding decodes.
    #[test]
    fn demo_project_bindings_resolve() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/projects/demo-plant/project.json"
        );
        let text = std::fs::read_to_string(path).unwrap();
        let project: Value = serde_json::from_str(&text).unwrap();
        let prefix = project["simulator"]["topic_prefix"].as_str().unwrap();
        let mut p = Plant::new(1, 8.0 * 3_600.0);
        let all = all_payloads(&mut p);
        let mut bound: BTreeSet<(String, String)> = BTreeSet::new();
        for tag in project["tags"].as_array().unwrap() {
            let name = tag["name"].as_str().unwrap();
            let topic = tag["topic"].as_str().unwrap();
            let decoder = &tag["decoder"];
            let kind = decoder["kind"].as_str().unwrap();
            if topic == format!("{prefix}/status") {
                assert_eq!(kind, "string", "{name}");
                continue;
            }
            let suffix = topic.strip_prefix(&format!("{prefix}/")).unwrap_or(topic);
            let payload = all
                .get(suffix)
                .unwrap_or_else(|| panic!("{name}: nothing on {topic}"));
            match kind {
                "number" => assert!(payload.parse::<f64>().is_ok(), "{name}: {payload}"),
                "bool" => assert!(payload == "true" || payload == "false", "{name}: {payload}"),
                "string" => assert!(!payload.is_empty(), "{name}"),
                "json" => {
                    let doc: Value = serde_json::from_str(payload).unwrap();
                    let pointer = decoder["pointer"].as_str().unwrap();
                    let node = doc
                        .pointer(pointer)
                        .unwrap_or_else(|| panic!("{name}: no {pointer}"));
                    let ok = match decoder["value"].as_str().unwrap_or("number") {
                        "number" => node.is_number(),
                        "bool" => node.is_boolean(),
                        _ => node.is_string(),
                    };
                    assert!(ok, "{name}: {pointer} is {node}");
                    if let Some(ts) = decoder.get("timestamp").and_then(Value::as_str) {
                        assert_eq!(doc.pointer(ts).and_then(Value::as_i64), Some(TS), "{name}");
                    }
                    bound.insert((suffix.to_owned(), pointer.to_owned()));
                    continue;
                }
                other => panic!("{name}: unknown decoder {other}"),
            }
            bound.insert((suffix.to_owned(), String::new()));
        }
        for (suffix, payload) in &all {
            if is_json(suffix) {
                let mut found = Vec::new();
                leaves(
                    &serde_json::from_str(payload).unwrap(),
                    String::new(),
                    &mut found,
                );
                for (pointer, _) in found {
                    if pointer == "/ts" || pointer.ends_with("/id") {
                        continue;
                    }
                    let key = (suffix.to_string(), pointer);
                    assert!(bound.contains(&key), "no tag for {key:?}");
                }
            } else {
                assert!(
                    bound.contains(&(suffix.to_string(), String::new())),
                    "no tag for {suffix}"
                );
            }
        }
    }
}
