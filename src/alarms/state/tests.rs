//! Every transition of the state machine, one test per path.

use super::*;
use AlarmState::{AckActive, Normal, UnackActive, UnackRtn};

fn machine(latching: bool) -> Machine {
    Machine::new(Arc::from("A"), latching)
}

fn op(user: &str) -> Actor<'_> {
    Actor {
        user: Some(user),
        comment: Some("seen"),
    }
}

fn activate(m: &mut Machine, ts: i64) -> Vec<AlarmEvent> {
    m.condition_changed(true, ts, Some(Value::Number(31.0)), Some(30.0))
}

fn clear(m: &mut Machine, ts: i64) -> Vec<AlarmEvent> {
    m.condition_changed(false, ts, Some(Value::Number(29.0)), Some(30.0))
}

/// (kind, from, to) of each event.
fn steps(events: &[AlarmEvent]) -> Vec<(EventKind, AlarmState, AlarmState)> {
    events
        .iter()
        .map(|e| (e.kind, e.state_from, e.state_to))
        .collect()
}

#[test]
fn activate_ack_clear() {
    let mut m = machine(false);
    let e = activate(&mut m, 10);
    assert_eq!(steps(&e), [(EventKind::Activate, Normal, UnackActive)]);
    assert_eq!(e[0].value, Some(Value::Number(31.0)));
    assert_eq!(e[0].limit, Some(30.0));
    assert_eq!(e[0].activated_ms, Some(10));
    assert!(e[0].condition);
    let a = m.ack(20, op("anna")).unwrap();
    assert_eq!(
        (a.kind, a.state_from, a.state_to),
        (EventKind::Ack, UnackActive, AckActive)
    );
    assert_eq!(a.user.as_deref(), Some("anna"));
    assert_eq!(a.comment.as_deref(), Some("seen"));
    assert!(
        m.ack(21, op("anna")).is_none(),
        "nothing left to acknowledge"
    );
    assert_eq!(
        steps(&clear(&mut m, 30)),
        [(EventKind::Clear, AckActive, Normal)]
    );
    assert!(!m.is_listed());
}

#[test]
fn clear_before_ack_returns_unacknowledged_then_ack_normal() {
    let mut m = machine(false);
    activate(&mut m, 10);
    assert_eq!(
        steps(&clear(&mut m, 20)),
        [(EventKind::Clear, UnackActive, UnackRtn)]
    );
    assert!(m.is_listed());
    let a = m.ack(30, op("bo")).unwrap();
    assert_eq!((a.state_from, a.state_to), (UnackRtn, Normal));
    assert!(!m.is_listed());
}

#[test]
fn reactivation_from_unacknowledged_rtn() {
    let mut m = machine(false);
    activate(&mut m, 10);
    clear(&mut m, 20);
    let e = activate(&mut m, 30);
    assert_eq!(steps(&e), [(EventKind::Activate, UnackRtn, UnackActive)]);
    assert_eq!(m.activated_ms, Some(30));
}

#[test]
fn same_condition_is_no_event() {
    let mut m = machine(false);
    assert!(clear(&mut m, 5).is_empty());
    activate(&mut m, 10);
    assert!(activate(&mut m, 11).is_empty());
    assert_eq!(m.value, Some(Value::Number(31.0)), "value still follows");
}

#[test]
fn ack_in_normal_is_nothing() {
    let mut m = machine(false);
    assert!(m.ack(1, op("x")).is_none());
    assert!(m.reset(1, op("x")).is_none());
}

#[test]
fn latching_needs_ack_then_reset() {
    let mut m = machine(true);
    activate(&mut m, 10);
    // Clears while unacknowledged: stays UnackActive (latched), the clear is journaled.
    let e = clear(&mut m, 20);
    assert_eq!(steps(&e), [(EventKind::Clear, UnackActive, UnackActive)]);
    assert!(!e[0].condition);
    assert!(m.reset(21, op("x")).is_none(), "reset needs an ack first");
    let a = m.ack(30, op("x")).unwrap();
    assert_eq!((a.state_from, a.state_to), (UnackActive, AckActive));
    let r = m.reset(40, op("x")).unwrap();
    assert_eq!(
        (r.kind, r.state_from, r.state_to),
        (EventKind::Reset, AckActive, Normal)
    );
}

#[test]
fn latching_acked_then_cleared_stays_until_reset() {
    let mut m = machine(true);
    activate(&mut m, 10);
    m.ack(15, op("x"));
    assert!(m.reset(16, op("x")).is_none(), "condition still active");
    assert_eq!(
        steps(&clear(&mut m, 20)),
        [(EventKind::Clear, AckActive, AckActive)]
    );
    // A new activation while latched annunciates again.
    assert_eq!(
        steps(&activate(&mut m, 30)),
        [(EventKind::Activate, AckActive, UnackActive)]
    );
    m.ack(31, op("x"));
    clear(&mut m, 32);
    assert_eq!(m.reset(33, op("x")).unwrap().state_to, Normal);
}

#[test]
fn shelve_hides_an_active_alarm_and_unshelve_reannunciates() {
    let mut m = machine(false);
    activate(&mut m, 10);
    let e = m.shelve(Shelve::Until(1000), 20, op("op1"));
    assert_eq!(steps(&e), [(EventKind::Shelve, UnackActive, Normal)]);
    assert_eq!(e[0].modes.shelved, Some(Shelve::Until(1000)));
    assert!(m.is_listed(), "shelved alarms stay on the list");
    // Still evaluated: a clear and a new activation are journaled, but not annunciated.
    assert_eq!(
        steps(&clear(&mut m, 30)),
        [(EventKind::Clear, Normal, Normal)]
    );
    assert_eq!(
        steps(&activate(&mut m, 40)),
        [(EventKind::Activate, Normal, Normal)]
    );
    assert!(m.ack(41, op("x")).is_none());
    let e = m.unshelve(50, op("op1"));
    assert_eq!(
        steps(&e),
        [
            (EventKind::Unshelve, Normal, Normal),
            (EventKind::Activate, Normal, UnackActive)
        ]
    );
    assert_eq!(e[0].user.as_deref(), Some("op1"));
    assert_eq!(e[1].user, None);
    assert_eq!(m.activated_ms, Some(50));
    assert!(m.unshelve(60, op("op1")).is_empty(), "not shelved any more");
}

#[test]
fn timed_shelve_expires_and_reevaluates() {
    let mut m = machine(false);
    m.shelve(Shelve::Until(100), 0, op("x"));
    activate(&mut m, 10);
    assert!(m.expire(99).is_empty());
    let e = m.expire(100);
    assert_eq!(
        steps(&e),
        [
            (EventKind::ShelveExpired, Normal, Normal),
            (EventKind::Activate, Normal, UnackActive)
        ]
    );
    assert_eq!(m.modes.shelved, None);
    assert!(m.expire(200).is_empty());
}

#[test]
fn timed_shelve_expiry_with_clear_condition_stays_normal() {
    let mut m = machine(false);
    activate(&mut m, 10);
    m.shelve(Shelve::Until(100), 20, op("x"));
    clear(&mut m, 30);
    let e = m.expire(150);
    assert_eq!(steps(&e), [(EventKind::ShelveExpired, Normal, Normal)]);
    assert_eq!(m.state, Normal);
    assert!(!m.is_listed());
}

#[test]
fn one_shot_shelve_ends_at_the_next_clear() {
    let mut m = machine(false);
    activate(&mut m, 10);
    m.shelve(Shelve::OneShot, 20, op("x"));
    assert!(m.expire(i64::MAX).is_empty(), "one-shot has no time limit");
    let e = clear(&mut m, 30);
    assert_eq!(
        steps(&e),
        [
            (EventKind::Clear, Normal, Normal),
            (EventKind::ShelveExpired, Normal, Normal)
        ]
    );
    assert_eq!(e[1].modes.shelved, None);
    // The next activation annunciates.
    assert_eq!(
        steps(&activate(&mut m, 40)),
        [(EventKind::Activate, Normal, UnackActive)]
    );
}

#[test]
fn suppression_by_design() {
    let mut m = machine(false);
    activate(&mut m, 10);
    let e = m.set_suppressed(true, 20);
    assert_eq!(steps(&e), [(EventKind::Suppress, UnackActive, Normal)]);
    assert!(e[0].user.is_none());
    assert!(m.set_suppressed(true, 21).is_empty());
    assert!(
        m.is_listed(),
        "suppressed with an active condition is listed"
    );
    clear(&mut m, 30);
    assert!(!m.is_listed(), "suppressed and clear is not");
    activate(&mut m, 40);
    let e = m.set_suppressed(false, 50);
    assert_eq!(
        steps(&e),
        [
            (EventKind::Unsuppress, Normal, Normal),
            (EventKind::Activate, Normal, UnackActive)
        ]
    );
}

#[test]
fn out_of_service() {
    let mut m = machine(false);
    activate(&mut m, 10);
    m.ack(11, op("x"));
    let e = m.set_out_of_service(true, 20, op("tech"));
    assert_eq!(steps(&e), [(EventKind::OutOfService, AckActive, Normal)]);
    assert!(e[0].modes.out_of_service);
    assert_eq!(e[0].user.as_deref(), Some("tech"));
    clear(&mut m, 25);
    assert!(m.is_listed(), "out-of-service alarms stay on the list");
    let e = m.set_out_of_service(false, 30, op("tech"));
    assert_eq!(steps(&e), [(EventKind::InService, Normal, Normal)]);
    assert!(!m.is_listed());
}

#[test]
fn modes_stack_only_the_last_one_reannunciates() {
    let mut m = machine(false);
    activate(&mut m, 10);
    m.set_out_of_service(true, 20, op("x"));
    m.shelve(Shelve::OneShot, 21, op("x"));
    m.set_suppressed(true, 22);
    assert_eq!(m.unshelve(30, op("x")).len(), 1);
    assert_eq!(m.set_suppressed(false, 31).len(), 1);
    let e = m.set_out_of_service(false, 32, op("x"));
    assert_eq!(e.len(), 2);
    assert_eq!(e[1].state_to, UnackActive);
}

#[test]
fn unacknowledged_rtn_shelved_goes_normal() {
    let mut m = machine(false);
    activate(&mut m, 10);
    clear(&mut m, 20);
    let e = m.shelve(Shelve::Until(50), 30, op("x"));
    assert_eq!(steps(&e), [(EventKind::Shelve, UnackRtn, Normal)]);
    assert_eq!(
        steps(&m.expire(60)),
        [(EventKind::ShelveExpired, Normal, Normal)]
    );
}

#[test]
fn names_round_trip() {
    for s in AlarmState::ALL {
        assert_eq!(AlarmState::parse(s.as_str()), Some(s));
    }
    for k in EventKind::ALL {
        assert_eq!(EventKind::parse(k.as_str()), Some(k));
    }
    assert!(UnackRtn.is_unacknowledged() && !AckActive.is_unacknowledged());
}

#[test]
fn active_list_order() {
    let def = |name: &str, p: Priority| AlarmConfig {
        name: name.to_owned(),
        tag: "T".to_owned(),
        kind: super::super::config::AlarmKind::Quality,
        deadband: 0.0,
        on_delay_s: 0.0,
        off_delay_s: 0.0,
        priority: p,
        message: String::new(),
        area: String::new(),
        latching: false,
        suppress_when: None,
    };
    let row = |name: &str, p: Priority, t: i64| {
        let mut m = Machine::new(Arc::from(name), false);
        m.activated_ms = Some(t);
        ActiveAlarm::new(&def(name, p), &m)
    };
    let mut list = vec![
        row("a", Priority::Low, 5),
        row("b", Priority::Critical, 1),
        row("c", Priority::Critical, 3),
        row("d", Priority::High, 9),
    ];
    ActiveAlarm::sort(&mut list);
    let names: Vec<&str> = list.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["c", "b", "d", "a"]);
}
