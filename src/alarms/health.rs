//! Alarm-system health (ISA-18.2 performance figures): activations per 10 minutes per area,
//! the flood flag, chattering alarms and stale alarms. Pure: fed with activations and the active
//! list, asked with an explicit `now`.

use std::collections::{HashMap, VecDeque};

use super::config::AlarmConfig;
use super::state::{ActiveAlarm, AlarmState};

/// The window of the per-area rate and the flood flag.
pub const FLOOD_WINDOW_MS: i64 = 10 * 60_000;
/// More annunciated activations than this within [`FLOOD_WINDOW_MS`] is a flood.
pub const FLOOD_THRESHOLD: usize = 10;
/// An alarm that activates at least [`CHATTER_COUNT`] times within this window chatters.
pub const CHATTER_WINDOW_MS: i64 = 60_000;
pub const CHATTER_COUNT: usize = 3;
/// An alarm annunciated for longer than this is stale.
pub const STALE_AFTER_MS: i64 = 24 * 3_600_000;

/// What the summary page shows about the alarm system.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AlarmHealth {
    /// Annunciated activations in the last 10 minutes, per area (most first; `""` = no area).
    pub per_area: Vec<(String, usize)>,
    /// Annunciated activations in the last 10 minutes, all areas.
    pub activations_10min: usize,
    /// More than [`FLOOD_THRESHOLD`] activations in the last 10 minutes.
    pub flood: bool,
    /// Alarms with ≥ [`CHATTER_COUNT`] activations in the last minute (annunciated or not).
    pub chattering: Vec<String>,
    /// Alarms annunciated for more than 24 h.
    pub stale: Vec<String>,
    /// Why the journal is not being written, if it is not.
    pub journal_error: Option<String>,
    /// Events shown but not yet in the journal (only while it fails).
    pub unjournaled: usize,
    /// Tag changes the alarm engine missed (change feed overrun; it resynchronised).
    pub lost_changes: u64,
}

/// Recent activations: (time, alarm index, annunciated).
#[derive(Debug, Default)]
pub struct Activations {
    recent: VecDeque<(i64, usize, bool)>,
}

impl Activations {
    pub fn record(&mut self, ts_ms: i64, alarm: usize, annunciated: bool) {
        self.recent.push_back((ts_ms, alarm, annunciated));
        // Bounded even when time stands still.
        if self.recent.len() > 1_000_000 {
            self.recent.pop_front();
        }
    }

    /// Forget activations older than the longest window.
    pub fn prune(&mut self, now_ms: i64) {
        while self
            .recent
            .front()
            .is_some_and(|(t, _, _)| *t < now_ms - FLOOD_WINDOW_MS)
        {
            self.recent.pop_front();
        }
    }

    /// The health figures at `now_ms` (the journal fields are left default).
    pub fn health(&self, defs: &[AlarmConfig], active: &[ActiveAlarm], now_ms: i64) -> AlarmHealth {
        let mut per_area: HashMap<&str, usize> = HashMap::new();
        let mut per_alarm: HashMap<usize, usize> = HashMap::new();
        let mut total = 0;
        for &(t, i, annunciated) in &self.recent {
            if t > now_ms {
                continue;
            }
            if annunciated && t >= now_ms - FLOOD_WINDOW_MS {
                total += 1;
                if let Some(d) = defs.get(i) {
                    *per_area.entry(d.area.as_str()).or_default() += 1;
                }
            }
            if t >= now_ms - CHATTER_WINDOW_MS {
                *per_alarm.entry(i).or_default() += 1;
            }
        }
        let mut per_area: Vec<(String, usize)> = per_area
            .into_iter()
            .map(|(a, n)| (a.to_owned(), n))
            .collect();
        per_area.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let mut chattering: Vec<String> = per_alarm
            .into_iter()
            .filter(|(_, n)| *n >= CHATTER_COUNT)
            .filter_map(|(i, _)| defs.get(i).map(|d| d.name.clone()))
            .collect();
        chattering.sort();
        let mut stale: Vec<String> = active
            .iter()
            .filter(|a| a.state != AlarmState::Normal)
            .filter(|a| a.activated_ms.is_some_and(|t| now_ms - t > STALE_AFTER_MS))
            .map(|a| a.name.clone())
            .collect();
        stale.sort();
        AlarmHealth {
            per_area,
            activations_10min: total,
            flood: total > FLOOD_THRESHOLD,
            chattering,
            stale,
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alarms::config::{AlarmKind, Priority};
    use crate::alarms::eval::restore;

    fn def(name: &str, area: &str) -> AlarmConfig {
        AlarmConfig {
            name: name.to_owned(),
            tag: "T".to_owned(),
            kind: AlarmKind::Quality,
            deadband: 0.0,
            on_delay_s: 0.0,
            off_delay_s: 0.0,
            priority: Priority::Low,
            message: String::new(),
            area: area.to_owned(),
            latching: false,
            suppress_when: None,
        }
    }

    #[test]
    fn flood_per_area_and_chattering() {
        let defs = vec![def("A", "north"), def("B", "south"), def("C", "north")];
        let mut acts = Activations::default();
        let now = 10_000_000;
        // 11 annunciated activations within 10 minutes: a flood.
        for k in 0..8 {
            acts.record(now - 500_000 + k * 1_000, 0, true);
        }
        for k in 0..3 {
            acts.record(now - 400_000 + k, 1, true);
        }
        acts.record(now - FLOOD_WINDOW_MS - 1, 2, true); // outside the window
        // C chatters while shelved (not annunciated): 3 in a minute.
        for k in 0..3 {
            acts.record(now - 30_000 + k * 10_000, 2, false);
        }
        acts.prune(now);
        let h = acts.health(&defs, &[], now);
        assert_eq!(h.activations_10min, 11);
        assert!(h.flood);
        assert_eq!(
            h.per_area,
            [("north".to_owned(), 8), ("south".to_owned(), 3)]
        );
        assert_eq!(h.chattering, ["C"]);
        let h = acts.health(&defs, &[], now + FLOOD_WINDOW_MS);
        assert!(!h.flood);
        assert!(h.chattering.is_empty());
    }

    #[test]
    fn exactly_ten_is_not_a_flood_and_two_do_not_chatter() {
        let defs = vec![def("A", "")];
        let mut acts = Activations::default();
        for k in 0..10 {
            acts.record(1_000 + k, 0, true);
        }
        let h = acts.health(&defs, &[], 2_000);
        assert!(!h.flood);
        assert_eq!(h.chattering, ["A"]);
        let mut acts = Activations::default();
        acts.record(1_000, 0, true);
        acts.record(2_000, 0, true);
        assert!(acts.health(&defs, &[], 3_000).chattering.is_empty());
    }

    #[test]
    fn stale_alarms_are_active_longer_than_a_day() {
        let d = def("A", "");
        let mut m = restore(&d, None);
        m.condition_changed(true, 0, None, None);
        let row = ActiveAlarm::new(&d, &m);
        let acts = Activations::default();
        assert!(
            acts.health(
                std::slice::from_ref(&d),
                std::slice::from_ref(&row),
                STALE_AFTER_MS
            )
            .stale
            .is_empty()
        );
        assert_eq!(acts.health(&[d], &[row], STALE_AFTER_MS + 1).stale, ["A"]);
    }
}
