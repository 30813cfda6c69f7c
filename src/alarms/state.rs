//! The ISA-18.2 alarm state machine of one alarm: pure (no clock, no I/O), every transition
//! returned as an [`AlarmEvent`] for the journal.
//!
//! Annunciation states: Normal, Unacknowledged Active, Acknowledged Active, Unacknowledged
//! Return-to-normal. Orthogonal modes: Shelved (timed or one-shot), Suppressed by design, Out of
//! service. While any mode hides an alarm it sits in Normal, but its process condition is still
//! tracked and every condition change is still journaled; when the last mode goes and the
//! condition is active, the alarm annunciates again (a new activation).
//!
//! The process condition itself (limits, deadband, delays) is `eval`'s business: this machine
//! only sees "the (debounced) condition is now active / clear".

use std::sync::Arc;

use crate::engine::Value;

use super::config::{AlarmConfig, Priority};

/// Annunciation state (ISA-18.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AlarmState {
    Normal,
    UnackActive,
    AckActive,
    /// Returned to normal, not yet acknowledged.
    UnackRtn,
}

impl AlarmState {
    pub const ALL: [Self; 4] = [
        Self::Normal,
        Self::UnackActive,
        Self::AckActive,
        Self::UnackRtn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Normal => "normal",
            Self::UnackActive => "unack_active",
            Self::AckActive => "ack_active",
            Self::UnackRtn => "unack_rtn",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Needs an operator acknowledgement.
    pub fn is_unacknowledged(self) -> bool {
        matches!(self, Self::UnackActive | Self::UnackRtn)
    }
}

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// The process condition became active.
    Activate,
    /// The process condition cleared (returned to normal).
    Clear,
    Ack,
    /// A latched alarm was reset by the operator.
    Reset,
    Shelve,
    Unshelve,
    /// A timed shelve ran out, or a one-shot shelve ended with the condition clearing.
    ShelveExpired,
    Suppress,
    Unsuppress,
    OutOfService,
    InService,
}

impl EventKind {
    pub const ALL: [Self; 11] = [
        Self::Activate,
        Self::Clear,
        Self::Ack,
        Self::Reset,
        Self::Shelve,
        Self::Unshelve,
        Self::ShelveExpired,
        Self::Suppress,
        Self::Unsuppress,
        Self::OutOfService,
        Self::InService,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Activate => "activate",
            Self::Clear => "clear",
            Self::Ack => "ack",
            Self::Reset => "reset",
            Self::Shelve => "shelve",
            Self::Unshelve => "unshelve",
            Self::ShelveExpired => "shelve_expired",
            Self::Suppress => "suppress",
            Self::Unsuppress => "unsuppress",
            Self::OutOfService => "out_of_service",
            Self::InService => "in_service",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// How long an alarm is shelved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shelve {
    /// Until this time (UTC ms).
    Until(i64),
    /// Until the condition next clears.
    OneShot,
}

/// The orthogonal modes that hide an alarm from the operator.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Modes {
    pub shelved: Option<Shelve>,
    pub suppressed: bool,
    pub out_of_service: bool,
}

impl Modes {
    pub fn hidden(self) -> bool {
        self.shelved.is_some() || self.suppressed || self.out_of_service
    }
}

/// One journaled transition. `state_to`, `condition`, `modes` and `activated_ms` are the
/// alarm's complete state after the event (the journal rebuilds from the last one).
#[derive(Clone, Debug, PartialEq)]
pub struct AlarmEvent {
    pub ts_ms: i64,
    pub alarm: Arc<str>,
    pub kind: EventKind,
    pub state_from: AlarmState,
    pub state_to: AlarmState,
    /// The process condition after the event.
    pub condition: bool,
    pub modes: Modes,
    /// When the condition last became active.
    pub activated_ms: Option<i64>,
    /// Process value (for rate alarms the rate, for quality alarms the quality).
    pub value: Option<Value>,
    pub limit: Option<f64>,
    /// Operator actions only.
    pub user: Option<String>,
    pub comment: Option<String>,
}

/// The complete state of one alarm (what the journal stores after each event).
#[derive(Clone, Debug, PartialEq)]
pub struct Machine {
    pub name: Arc<str>,
    pub latching: bool,
    pub state: AlarmState,
    /// The debounced process condition.
    pub condition: bool,
    pub modes: Modes,
    pub activated_ms: Option<i64>,
    pub value: Option<Value>,
    pub limit: Option<f64>,
}

/// Who did it and why (operator actions).
#[derive(Clone, Copy, Debug, Default)]
pub struct Actor<'a> {
    pub user: Option<&'a str>,
    pub comment: Option<&'a str>,
}

impl Machine {
    pub fn new(name: Arc<str>, latching: bool) -> Self {
        Self {
            name,
            latching,
            state: AlarmState::Normal,
            condition: false,
            modes: Modes::default(),
            activated_ms: None,
            value: None,
            limit: None,
        }
    }

    fn event(&self, ts_ms: i64, kind: EventKind, from: AlarmState, actor: Actor<'_>) -> AlarmEvent {
        AlarmEvent {
            ts_ms,
            alarm: self.name.clone(),
            kind,
            state_from: from,
            state_to: self.state,
            condition: self.condition,
            modes: self.modes,
            activated_ms: self.activated_ms,
            value: self.value.clone(),
            limit: self.limit,
            user: actor.user.map(str::to_owned),
            comment: actor.comment.map(str::to_owned),
        }
    }

    /// The debounced process condition changed to `active`.
    pub fn condition_changed(
        &mut self,
        active: bool,
        ts_ms: i64,
        value: Option<Value>,
        limit: Option<f64>,
    ) -> Vec<AlarmEvent> {
        self.value = value;
        self.limit = limit;
        if active == self.condition {
            return Vec::new();
        }
        self.condition = active;
        let from = self.state;
        let none = Actor::default();
        if active {
            self.activated_ms = Some(ts_ms);
            if !self.modes.hidden() {
                self.state = AlarmState::UnackActive;
            }
            return vec![self.event(ts_ms, EventKind::Activate, from, none)];
        }
        if !self.modes.hidden() {
            self.state = match (from, self.latching) {
                (AlarmState::UnackActive, false) => AlarmState::UnackRtn,
                (AlarmState::AckActive, false) => AlarmState::Normal,
                (s, _) => s, // latched, or already normal
            };
        }
        let mut out = vec![self.event(ts_ms, EventKind::Clear, from, none)];
        if self.modes.shelved == Some(Shelve::OneShot) {
            self.modes.shelved = None;
            out.push(self.event(
                ts_ms,
                EventKind::ShelveExpired,
                self.state,
                Actor {
                    user: None,
                    comment: Some("one-shot shelve ended: the condition cleared"),
                },
            ));
        }
        out
    }

    /// Operator acknowledgement; `None` when there is nothing to acknowledge.
    pub fn ack(&mut self, ts_ms: i64, actor: Actor<'_>) -> Option<AlarmEvent> {
        let from = self.state;
        self.state = match from {
            AlarmState::UnackActive => AlarmState::AckActive,
            AlarmState::UnackRtn => AlarmState::Normal,
            AlarmState::Normal | AlarmState::AckActive => return None,
        };
        Some(self.event(ts_ms, EventKind::Ack, from, actor))
    }

    /// Reset of a latched, acknowledged alarm whose condition has cleared.
    pub fn reset(&mut self, ts_ms: i64, actor: Actor<'_>) -> Option<AlarmEvent> {
        if !(self.latching && self.state == AlarmState::AckActive && !self.condition) {
            return None;
        }
        self.state = AlarmState::Normal;
        Some(self.event(ts_ms, EventKind::Reset, AlarmState::AckActive, actor))
    }

    pub fn shelve(&mut self, shelve: Shelve, ts_ms: i64, actor: Actor<'_>) -> Vec<AlarmEvent> {
        self.hide(ts_ms, EventKind::Shelve, actor, |m| {
            m.shelved = Some(shelve)
        })
    }

    /// `None` when the alarm is not shelved.
    pub fn unshelve(&mut self, ts_ms: i64, actor: Actor<'_>) -> Vec<AlarmEvent> {
        if self.modes.shelved.is_none() {
            return Vec::new();
        }
        self.unhide(ts_ms, EventKind::Unshelve, actor, |m| m.shelved = None)
    }

    /// A timed shelve that has run out by `now_ms` ends (and the alarm re-annunciates if its
    /// condition is still active).
    pub fn expire(&mut self, now_ms: i64) -> Vec<AlarmEvent> {
        match self.modes.shelved {
            Some(Shelve::Until(t)) if now_ms >= t => {
                self.unhide(now_ms, EventKind::ShelveExpired, Actor::default(), |m| {
                    m.shelved = None;
                })
            }
            _ => Vec::new(),
        }
    }

    pub fn set_suppressed(&mut self, on: bool, ts_ms: i64) -> Vec<AlarmEvent> {
        if on == self.modes.suppressed {
            return Vec::new();
        }
        if on {
            self.hide(ts_ms, EventKind::Suppress, Actor::default(), |m| {
                m.suppressed = true;
            })
        } else {
            self.unhide(ts_ms, EventKind::Unsuppress, Actor::default(), |m| {
                m.suppressed = false;
            })
        }
    }

    pub fn set_out_of_service(
        &mut self,
        on: bool,
        ts_ms: i64,
        actor: Actor<'_>,
    ) -> Vec<AlarmEvent> {
        if on == self.modes.out_of_service {
            return Vec::new();
        }
        if on {
            self.hide(ts_ms, EventKind::OutOfService, actor, |m| {
                m.out_of_service = true;
            })
        } else {
            self.unhide(ts_ms, EventKind::InService, actor, |m| {
                m.out_of_service = false;
            })
        }
    }

    fn hide(
        &mut self,
        ts_ms: i64,
        kind: EventKind,
        actor: Actor<'_>,
        set: impl FnOnce(&mut Modes),
    ) -> Vec<AlarmEvent> {
        let from = self.state;
        set(&mut self.modes);
        self.state = AlarmState::Normal;
        vec![self.event(ts_ms, kind, from, actor)]
    }

    fn unhide(
        &mut self,
        ts_ms: i64,
        kind: EventKind,
        actor: Actor<'_>,
        clear: impl FnOnce(&mut Modes),
    ) -> Vec<AlarmEvent> {
        clear(&mut self.modes);
        let mut out = vec![self.event(ts_ms, kind, self.state, actor)];
        if !self.modes.hidden() && self.condition && self.state == AlarmState::Normal {
            // Re-evaluated on return: still active, so it annunciates as a new activation.
            self.state = AlarmState::UnackActive;
            self.activated_ms = Some(ts_ms);
            out.push(self.event(
                ts_ms,
                EventKind::Activate,
                AlarmState::Normal,
                Actor::default(),
            ));
        }
        out
    }

    /// Whether the alarm belongs on the active list: annunciated, shelved or out of service, or
    /// suppressed while its condition is active.
    pub fn is_listed(&self) -> bool {
        self.state != AlarmState::Normal
            || self.modes.shelved.is_some()
            || self.modes.out_of_service
            || (self.modes.suppressed && self.condition)
    }
}

/// One row of the active alarm list (summary page, banner).
#[derive(Clone, Debug, PartialEq)]
pub struct ActiveAlarm {
    pub name: String,
    pub tag: String,
    pub priority: Priority,
    pub area: String,
    pub message: String,
    pub state: AlarmState,
    /// The process condition is active now.
    pub condition: bool,
    pub shelved: Option<Shelve>,
    pub suppressed: bool,
    pub out_of_service: bool,
    pub latching: bool,
    /// When the condition last became active.
    pub activated_ms: Option<i64>,
    /// Value at the last transition.
    pub value: Option<Value>,
    pub limit: Option<f64>,
}

impl ActiveAlarm {
    pub fn new(def: &AlarmConfig, m: &Machine) -> Self {
        Self {
            name: def.name.clone(),
            tag: def.tag.clone(),
            priority: def.priority,
            area: def.area.clone(),
            message: def.message.clone(),
            state: m.state,
            condition: m.condition,
            shelved: m.modes.shelved,
            suppressed: m.modes.suppressed,
            out_of_service: m.modes.out_of_service,
            latching: def.latching,
            activated_ms: m.activated_ms,
            value: m.value.clone(),
            limit: m.limit,
        }
    }

    /// Banner/summary order: priority, then newest first, then name.
    pub fn sort(list: &mut [Self]) {
        list.sort_by(|a, b| {
            a.priority
                .cmp(&b.priority)
                .then(b.activated_ms.cmp(&a.activated_ms))
                .then_with(|| a.name.cmp(&b.name))
        });
    }
}

#[cfg(test)]
mod tests;
