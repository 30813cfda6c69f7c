//! Condition evaluation per kind, deadband, delays, suppression and expiry through the evaluator.

use super::*;
use crate::alarms::config::Priority;
use crate::alarms::state::{ActiveAlarm, AlarmState, EventKind, Shelve};

fn def(name: &str, tag: &str, kind: AlarmKind) -> AlarmConfig {
    AlarmConfig {
        name: name.to_owned(),
        tag: tag.to_owned(),
        kind,
        deadband: 0.0,
        on_delay_s: 0.0,
        off_delay_s: 0.0,
        priority: Priority::High,
        message: String::new(),
        area: String::new(),
        latching: false,
        suppress_when: None,
    }
}

fn num(tag: TagId, v: f64, ts: i64) -> TagChange {
    TagChange {
        tag,
        value: Some(Value::Number(v)),
        quality: Quality::Good,
        source_ts_ms: ts,
        recv_ts_ms: ts,
    }
}

fn boolean(tag: TagId, v: bool, ts: i64) -> TagChange {
    TagChange {
        value: Some(Value::Bool(v)),
        ..num(tag, 0.0, ts)
    }
}

fn quality(tag: TagId, q: Quality, ts: i64) -> TagChange {
    TagChange {
        tag,
        value: None,
        quality: q,
        source_ts_ms: ts,
        recv_ts_ms: ts,
    }
}

/// The detector's flips for a sequence of changes on tag 0.
fn flips(d: &mut Detector, changes: &[TagChange]) -> Vec<Option<bool>> {
    changes.iter().map(|c| d.on_process(c)).collect()
}

#[test]
fn hi_limit_with_deadband_hysteresis() {
    let mut a = def("A", "T", AlarmKind::Hi { limit: 30.0 });
    a.deadband = 1.0;
    let mut d = Detector::new(&a, false);
    let got = flips(
        &mut d,
        &[
            num(0, 30.0, 1), // at the limit: not above
            num(0, 30.1, 2), // active
            num(0, 29.5, 3), // inside the deadband: still active
            num(0, 29.0, 4), // limit − deadband: clears
            num(0, 29.9, 5), // below the limit: stays clear
            num(0, 31.0, 6),
        ],
    );
    assert_eq!(got, [None, Some(true), None, Some(false), None, Some(true)]);
    assert_eq!(d.value(), Some(Value::Number(31.0)));
    assert_eq!(d.limit(), Some(30.0));
}

#[test]
fn lo_and_lolo_limits() {
    let mut a = def("A", "T", AlarmKind::LoLo { limit: 5.0 });
    a.deadband = 0.5;
    let mut d = Detector::new(&a, false);
    let got = flips(
        &mut d,
        &[
            num(0, 5.0, 1),
            num(0, 4.9, 2),
            num(0, 5.4, 3),
            num(0, 5.5, 4),
        ],
    );
    assert_eq!(got, [None, Some(true), None, Some(false)]);
    let mut d = Detector::new(&def("B", "T", AlarmKind::Lo { limit: 10.0 }), false);
    assert_eq!(
        flips(&mut d, &[num(0, 9.0, 1), num(0, 10.0, 2)]),
        [Some(true), Some(false)]
    );
}

#[test]
fn on_delay_needs_the_condition_to_hold() {
    let mut a = def("A", "T", AlarmKind::Hi { limit: 30.0 });
    a.on_delay_s = 5.0;
    let mut d = Detector::new(&a, false);
    assert_eq!(d.on_process(&num(0, 31.0, 1_000)), None);
    assert!(d.is_pending());
    assert_eq!(d.tick(5_999), None);
    // Dips below before the delay runs out: cancelled.
    assert_eq!(d.on_process(&num(0, 29.0, 5_500)), None);
    assert!(!d.is_pending());
    assert_eq!(d.tick(7_000), None);
    assert_eq!(d.on_process(&num(0, 32.0, 8_000)), None);
    assert_eq!(
        d.on_process(&num(0, 33.0, 9_000)),
        None,
        "still within the delay"
    );
    assert_eq!(d.tick(12_999), None);
    assert_eq!(d.tick(13_000), Some(true));
    assert!(d.is_active());
    // A sample that arrives after the delay flips without a tick.
    let mut d = Detector::new(&a, false);
    d.on_process(&num(0, 31.0, 0));
    assert_eq!(d.on_process(&num(0, 31.0, 5_000)), Some(true));
}

#[test]
fn off_delay_needs_the_clear_to_hold() {
    let mut a = def("A", "T", AlarmKind::Hi { limit: 30.0 });
    a.off_delay_s = 2.0;
    a.deadband = 1.0;
    let mut d = Detector::new(&a, false);
    assert_eq!(d.on_process(&num(0, 31.0, 0)), Some(true), "no on-delay");
    assert_eq!(d.on_process(&num(0, 28.0, 1_000)), None);
    assert_eq!(
        d.on_process(&num(0, 29.5, 2_000)),
        None,
        "back in the deadband: cancelled"
    );
    assert_eq!(d.tick(3_500), None);
    assert_eq!(d.on_process(&num(0, 28.0, 4_000)), None);
    assert_eq!(d.tick(5_999), None);
    assert_eq!(d.tick(6_000), Some(false));
}

#[test]
fn bad_quality_freezes_a_value_alarm_and_cancels_its_delay() {
    let mut a = def("A", "T", AlarmKind::Hi { limit: 30.0 });
    a.on_delay_s = 1.0;
    let mut d = Detector::new(&a, false);
    d.on_process(&num(0, 31.0, 0));
    assert_eq!(d.on_process(&quality(0, Quality::Bad, 500)), None);
    assert_eq!(d.tick(2_000), None, "pending activation cancelled");
    let mut d = Detector::new(&def("B", "T", AlarmKind::Hi { limit: 30.0 }), false);
    assert_eq!(d.on_process(&num(0, 31.0, 0)), Some(true));
    assert_eq!(d.on_process(&quality(0, Quality::Stale, 10)), None);
    assert!(d.is_active(), "stays active while unknown");
    let text = TagChange {
        value: Some(Value::Text(Arc::from("n/a"))),
        ..num(0, 0.0, 20)
    };
    assert_eq!(d.on_process(&text), None);
    assert_eq!(d.on_process(&num(0, 20.0, 30)), Some(false));
}

#[test]
fn quality_alarm_on_bad_and_stale() {
    let mut d = Detector::new(&def("Q", "T", AlarmKind::Quality), false);
    assert_eq!(d.on_process(&num(0, 1.0, 0)), None);
    assert_eq!(d.on_process(&quality(0, Quality::Bad, 1)), Some(true));
    assert_eq!(d.value(), Some(Value::Text(Arc::from("bad"))));
    assert_eq!(d.on_process(&num(0, 1.0, 2)), Some(false));
    assert_eq!(d.on_process(&quality(0, Quality::Uncertain, 3)), None);
    assert_eq!(d.on_process(&quality(0, Quality::Stale, 4)), Some(true));
    assert_eq!(d.limit(), None);
}

#[test]
fn deviation_from_the_setpoint_tag() {
    let mut a = def(
        "D",
        "PV",
        AlarmKind::Deviation {
            setpoint_tag: "SP".to_owned(),
            limit: 2.0,
        },
    );
    a.deadband = 0.5;
    let mut d = Detector::new(&a, false);
    assert_eq!(d.on_process(&num(0, 50.0, 0)), None, "setpoint unknown");
    assert_eq!(d.on_setpoint(&num(1, 49.0, 1)), None);
    assert_eq!(
        d.on_setpoint(&num(1, 47.9, 2)),
        Some(true),
        "the setpoint moved away"
    );
    assert_eq!(
        d.on_process(&num(0, 49.6, 3)),
        None,
        "1.7 is inside the deadband"
    );
    assert_eq!(d.on_process(&num(0, 49.4, 4)), Some(false));
    assert_eq!(
        d.on_process(&num(0, 45.0, 5)),
        Some(true),
        "below the setpoint counts too"
    );
    assert_eq!(d.on_setpoint(&quality(1, Quality::Bad, 6)), None);
    assert_eq!(
        d.on_process(&num(0, 47.9, 7)),
        None,
        "frozen without a setpoint"
    );
}

#[test]
fn rate_of_change_between_successive_samples() {
    let mut d = Detector::new(&def("R", "T", AlarmKind::Rate { limit_per_s: 1.0 }), false);
    let got = flips(
        &mut d,
        &[
            num(0, 10.0, 0),
            num(0, 11.0, 1_000), // 1/s: not above
            num(0, 14.0, 2_000), // 3/s
            num(0, 14.0, 2_000), // same instant: ignored
            num(0, 14.5, 3_000), // 0.5/s
            num(0, 10.0, 4_000), // −4.5/s: falling counts too
        ],
    );
    assert_eq!(got, [None, None, Some(true), None, Some(false), Some(true)]);
    assert_eq!(d.value(), Some(Value::Number(-4.5)));
    // A gap (bad quality) forgets the previous sample.
    d.on_process(&quality(0, Quality::Bad, 5_000));
    assert_eq!(d.on_process(&num(0, 100.0, 6_000)), None);
    assert!(d.is_active(), "frozen until a rate is known again");
    assert_eq!(d.on_process(&num(0, 100.0, 7_000)), Some(false));
}

#[test]
fn discrete_bool_and_number() {
    let a = def(
        "F",
        "T",
        AlarmKind::Discrete {
            equals: Equals::Bool(true),
        },
    );
    let mut d = Detector::new(&a, false);
    assert_eq!(
        flips(
            &mut d,
            &[boolean(0, false, 0), boolean(0, true, 1), num(0, 0.0, 2)]
        ),
        [None, Some(true), Some(false)]
    );
    let a = def(
        "M",
        "T",
        AlarmKind::Discrete {
            equals: Equals::Number(3.0),
        },
    );
    let mut d = Detector::new(&a, false);
    assert_eq!(
        flips(&mut d, &[num(0, 2.0, 0), num(0, 3.0, 1), num(0, 4.0, 2)]),
        [None, Some(true), Some(false)]
    );
}

fn evaluator(defs: Vec<AlarmConfig>, tags: &[&str]) -> Evaluator {
    let tags: Vec<String> = tags.iter().map(|t| (*t).to_owned()).collect();
    let id = move |name: &str| tags.iter().position(|t| t == name).map(|i| i as TagId);
    Evaluator::new(defs.into(), &id, &HashMap::new())
}

fn kinds(out: &[Emitted]) -> Vec<(usize, EventKind, AlarmState)> {
    out.iter().map(|(i, e)| (*i, e.kind, e.state_to)).collect()
}

#[test]
fn evaluator_routes_changes_to_every_alarm_of_a_tag() {
    let mut ev = evaluator(
        vec![
            def("Hi", "T", AlarmKind::Hi { limit: 10.0 }),
            def("HiHi", "T", AlarmKind::HiHi { limit: 20.0 }),
            def("Q", "T", AlarmKind::Quality),
            def("Other", "U", AlarmKind::Hi { limit: 0.0 }),
        ],
        &["T", "U"],
    );
    assert_eq!(ev.interesting_tags(), [true, true]);
    let mut out = Vec::new();
    ev.on_change(&num(0, 25.0, 100), &mut out);
    assert_eq!(
        kinds(&out),
        [
            (0, EventKind::Activate, AlarmState::UnackActive),
            (1, EventKind::Activate, AlarmState::UnackActive)
        ]
    );
    assert_eq!(out[1].1.ts_ms, 100);
    assert_eq!(out[1].1.limit, Some(20.0));
    out.clear();
    ev.on_change(&quality(0, Quality::Bad, 200), &mut out);
    assert_eq!(
        kinds(&out),
        [(2, EventKind::Activate, AlarmState::UnackActive)]
    );
    out.clear();
    ev.on_change(&num(7, 1.0, 300), &mut out); // unknown tag id
    assert!(out.is_empty());
}

#[test]
fn suppress_when_tag_drives_suppression() {
    let mut a = def("Hi", "T", AlarmKind::Hi { limit: 10.0 });
    a.suppress_when = Some("Stopped".to_owned());
    let mut ev = evaluator(vec![a], &["T", "Stopped"]);
    let mut out = Vec::new();
    ev.on_change(&boolean(1, true, 10), &mut out);
    assert_eq!(kinds(&out), [(0, EventKind::Suppress, AlarmState::Normal)]);
    out.clear();
    ev.on_change(&num(0, 15.0, 20), &mut out);
    assert_eq!(kinds(&out), [(0, EventKind::Activate, AlarmState::Normal)]);
    assert!(ev.machines()[0].is_listed());
    out.clear();
    ev.on_change(&quality(1, Quality::Bad, 25), &mut out);
    assert!(
        out.is_empty(),
        "an unknown condition tag keeps the suppression"
    );
    ev.on_change(&boolean(1, false, 30), &mut out);
    assert_eq!(
        kinds(&out),
        [
            (0, EventKind::Unsuppress, AlarmState::Normal),
            (0, EventKind::Activate, AlarmState::UnackActive)
        ]
    );
}

#[test]
fn tick_runs_delays_and_shelve_expiry() {
    let mut a = def("Hi", "T", AlarmKind::Hi { limit: 10.0 });
    a.on_delay_s = 1.0;
    let mut ev = evaluator(vec![a], &["T"]);
    let mut out = Vec::new();
    ev.on_change(&num(0, 15.0, 0), &mut out);
    ev.tick(999, &mut out);
    assert!(out.is_empty());
    ev.tick(1_000, &mut out);
    assert_eq!(
        kinds(&out),
        [(0, EventKind::Activate, AlarmState::UnackActive)]
    );
    assert_eq!(out[0].1.ts_ms, 1_000);
    assert_eq!(out[0].1.value, Some(Value::Number(15.0)));
    out.clear();
    let m = ev.machine_mut(0).unwrap();
    m.shelve(Shelve::Until(5_000), 2_000, Default::default());
    ev.tick(4_999, &mut out);
    assert!(out.is_empty());
    ev.tick(5_000, &mut out);
    assert_eq!(
        kinds(&out),
        [
            (0, EventKind::ShelveExpired, AlarmState::Normal),
            (0, EventKind::Activate, AlarmState::UnackActive)
        ]
    );
}

#[test]
fn resync_uses_current_values_and_skips_silent_tags() {
    let mut ev = evaluator(
        vec![
            def("Hi", "T", AlarmKind::Hi { limit: 10.0 }),
            def("Q", "U", AlarmKind::Quality),
        ],
        &["T", "U"],
    );
    let states = vec![
        TagState {
            value: Some(Value::Number(12.0)),
            quality: Quality::Good,
            reason: None,
            source_ts_ms: 5,
            recv_ts_ms: 5,
            updates: 1,
        },
        TagState::default(), // never received: bad, but no quality alarm flood at start
    ];
    let mut out = Vec::new();
    ev.resync(&states, 1_000, &mut out);
    assert_eq!(
        kinds(&out),
        [(0, EventKind::Activate, AlarmState::UnackActive)]
    );
    assert_eq!(out[0].1.ts_ms, 1_000, "discovered now");
}

#[test]
fn restored_state_is_the_starting_point() {
    let a = def("Hi", "T", AlarmKind::Hi { limit: 10.0 });
    let mut m = Machine::new(Arc::from("Hi"), false);
    let e = m
        .condition_changed(true, 50, Some(Value::Number(11.0)), Some(10.0))
        .remove(0);
    let last = HashMap::from([("Hi".to_owned(), e)]);
    let id = |n: &str| (n == "T").then_some(0);
    let mut ev = Evaluator::new(vec![a.clone()].into(), &id, &last);
    let row = ActiveAlarm::new(&a, &ev.machines()[0]);
    assert_eq!(row.state, AlarmState::UnackActive);
    assert_eq!(row.activated_ms, Some(50));
    let mut out = Vec::new();
    ev.on_change(&num(0, 11.0, 60), &mut out);
    assert!(out.is_empty(), "still active: no new activation");
    ev.on_change(&num(0, 9.0, 70), &mut out);
    assert_eq!(kinds(&out), [(0, EventKind::Clear, AlarmState::UnackRtn)]);
}
