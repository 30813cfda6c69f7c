//! The alarm engine on a real tag store, runtime and SQLite journal: events are journaled before
//! they are published, operator actions carry the user into the journal, and a restart on the
//! same journal rebuilds the active list.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::wait_for;
use plantview::alarms::{
    self, AlarmConfig, AlarmEngine, AlarmError, AlarmEvent, AlarmHandle, AlarmState, EventKind,
    JournalQuery, ShelveFor,
};
use plantview::engine::{Quality, TagStore, Value, now_ms};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

const WAIT: Duration = Duration::from_secs(10);

fn defs() -> Vec<AlarmConfig> {
    serde_json::from_str(
        r#"[
        { "name": "T.Hi", "tag": "T", "kind": "hi", "limit": 30.0, "deadband": 1.0,
          "priority": "high", "message": "T too high", "area": "north" },
        { "name": "T.HiHi", "tag": "T", "kind": "hihi", "limit": 40.0, "priority": "critical",
          "area": "north" },
        { "name": "U.Lo", "tag": "U", "kind": "lo", "limit": 5.0, "priority": "medium",
          "area": "south", "suppress_when": "Stopped" },
        { "name": "U.Bad", "tag": "U", "kind": "quality", "priority": "low", "area": "south" },
        { "name": "V.Hi", "tag": "V", "kind": "hi", "limit": 1.0, "priority": "low",
          "on_delay_s": 0.3 },
        { "name": "W.Hi", "tag": "W", "kind": "hi", "limit": 1.0, "priority": "medium" },
        { "name": "X.Hi", "tag": "X", "kind": "hi", "limit": 1.0, "priority": "medium" }
    ]"#,
    )
    .expect("alarm definitions parse")
}

struct Rig {
    rt: tokio::runtime::Runtime,
    store: Arc<TagStore>,
    alarms: Option<AlarmHandle>,
}

impl Rig {
    fn start(journal: &Path) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let store = Arc::new(TagStore::new(
            ["T", "U", "V", "W", "X", "Stopped"].map(|t| (t, 0.0)),
        ));
        let alarms = AlarmEngine::start(
            journal,
            &defs(),
            store.clone(),
            rt.handle(),
            CancellationToken::new(),
        )
        .expect("alarm engine starts");
        Self {
            rt,
            store,
            alarms: Some(alarms),
        }
    }

    fn alarms(&self) -> &AlarmHandle {
        self.alarms.as_ref().expect("running")
    }

    fn set(&self, tag: &str, v: f64) {
        let id = self.store.id(tag).expect("tag");
        let ts = now_ms();
        self.store.set_value(id, Value::Number(v), ts, ts);
    }

    fn set_bool(&self, tag: &str, v: bool) {
        let id = self.store.id(tag).expect("tag");
        let ts = now_ms();
        self.store.set_value(id, Value::Bool(v), ts, ts);
    }

    fn state(&self, name: &str) -> Option<AlarmState> {
        self.alarms()
            .active()
            .into_iter()
            .find(|a| a.name == name)
            .map(|a| a.state)
    }

    fn wait_state(&self, name: &str, want: Option<AlarmState>) {
        wait_for(WAIT, &format!("{name} in {want:?}"), || {
            (self.state(name) == want).then_some(())
        });
    }

    fn stop(mut self) {
        if let Some(a) = self.alarms.take() {
            a.stop();
        }
        self.rt.shutdown_timeout(Duration::from_secs(2));
    }
}

fn next_event(
    rx: &mut broadcast::Receiver<AlarmEvent>,
    alarm: &str,
    kind: EventKind,
) -> AlarmEvent {
    wait_for(WAIT, &format!("{kind:?} of {alarm}"), || {
        loop {
            match rx.try_recv() {
                Ok(e) if &*e.alarm == alarm && e.kind == kind => return Some(e),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
    })
}

fn journal_rows(path: &Path, alarm: &str) -> Vec<(String, String, Option<String>)> {
    let conn = rusqlite::Connection::open(path).expect("open journal");
    let mut stmt = conn
        .prepare(
            "SELECT event, state_to, user_name FROM alarm_journal WHERE alarm = ?1 ORDER BY id",
        )
        .expect("prepare");
    stmt.query_map([alarm], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

#[test]
fn limit_alarm_is_journaled_before_it_is_published_and_ack_records_the_user() {
    let dir = tempfile::tempdir().unwrap();
    let path = alarms::journal_path(dir.path());
    let rig = Rig::start(&path);
    let mut rx = rig.alarms().subscribe();

    rig.set("T", 31.0);
    let e = next_event(&mut rx, "T.Hi", EventKind::Activate);
    // The moment it is published, it is already committed.
    assert_eq!(
        journal_rows(&path, "T.Hi"),
        [("activate".to_owned(), "unack_active".to_owned(), None)]
    );
    assert_eq!(e.value, Some(Value::Number(31.0)));
    assert_eq!(e.limit, Some(30.0));
    assert_eq!(e.state_to, AlarmState::UnackActive);
    let active = rig.alarms().active();
    assert_eq!(active.len(), 1);
    assert_eq!(active[0].area, "north");
    assert_eq!(active[0].message, "T too high");

    let acked = rig
        .alarms()
        .ack(&["T.Hi", "T.HiHi"], "anna", Some("called maintenance"))
        .expect("ack");
    assert_eq!(acked.len(), 1, "T.HiHi had nothing to acknowledge");
    assert_eq!(acked[0].state_to, AlarmState::AckActive);
    assert_eq!(rig.state("T.Hi"), Some(AlarmState::AckActive));
    let rows = journal_rows(&path, "T.Hi");
    assert_eq!(
        rows[1],
        (
            "ack".to_owned(),
            "ack_active".to_owned(),
            Some("anna".to_owned())
        )
    );
    let q = alarms::query(
        &alarms::open_reader(&path).unwrap(),
        &JournalQuery {
            events: vec![EventKind::Ack],
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(q[0].event.comment.as_deref(), Some("called maintenance"));

    // Inside the deadband it stays; below it, it returns to normal.
    rig.set("T", 29.5);
    rig.set("T", 45.0);
    next_event(&mut rx, "T.HiHi", EventKind::Activate);
    rig.set("T", 28.0);
    // One change, two alarms: events come in definition order.
    let clear = next_event(&mut rx, "T.Hi", EventKind::Clear);
    next_event(&mut rx, "T.HiHi", EventKind::Clear);
    assert_eq!(clear.state_to, AlarmState::Normal);
    assert_eq!(rig.state("T.HiHi"), Some(AlarmState::UnackRtn));
    assert_eq!(rig.state("T.Hi"), None);
    assert_eq!(
        journal_rows(&path, "T.Hi").len(),
        3,
        "no event inside the deadband"
    );
    rig.stop();
}

#[test]
fn quality_suppression_delay_and_operator_checks() {
    let dir = tempfile::tempdir().unwrap();
    let path = alarms::journal_path(dir.path());
    let rig = Rig::start(&path);
    let a = rig.alarms();

    // Bad quality raises the quality alarm; a good value clears it.
    let u = rig.store.id("U").unwrap();
    rig.set("U", 10.0);
    rig.store
        .set_quality(u, Quality::Bad, Some(Arc::from("device offline")), now_ms());
    rig.wait_state("U.Bad", Some(AlarmState::UnackActive));
    rig.set("U", 10.0);
    rig.wait_state("U.Bad", Some(AlarmState::UnackRtn));

    // Suppressed by design while the equipment is stopped: evaluated, listed, not annunciated.
    rig.set_bool("Stopped", true);
    rig.set("U", 1.0);
    wait_for(WAIT, "suppressed U.Lo listed", || {
        a.active()
            .into_iter()
            .find(|x| x.name == "U.Lo" && x.condition && x.suppressed)
    });
    assert_eq!(rig.state("U.Lo"), Some(AlarmState::Normal));
    rig.set_bool("Stopped", false);
    rig.wait_state("U.Lo", Some(AlarmState::UnackActive));

    // On-delay: not before 0.3 s.
    let t0 = std::time::Instant::now();
    rig.set("V", 2.0);
    rig.wait_state("V.Hi", Some(AlarmState::UnackActive));
    assert!(
        t0.elapsed() >= Duration::from_millis(290),
        "{:?}",
        t0.elapsed()
    );

    // Operator actions are checked.
    assert!(matches!(
        a.shelve("W.Hi", "anna", ShelveFor::Seconds(8 * 3600 + 1), "noisy"),
        Err(AlarmError::ShelveDuration { .. })
    ));
    assert!(matches!(
        a.shelve("W.Hi", "anna", ShelveFor::Seconds(60), " "),
        Err(AlarmError::MissingReason(_))
    ));
    assert!(matches!(
        a.ack(&["W.Hi"], "", None),
        Err(AlarmError::MissingUser(_))
    ));
    assert!(matches!(
        a.ack(&["nope"], "anna", None),
        Err(AlarmError::UnknownAlarm(_))
    ));
    assert!(matches!(
        a.set_out_of_service("W.Hi", true, "tech", ""),
        Err(AlarmError::MissingReason(_))
    ));

    // One-shot shelve: hidden until the condition clears, then annunciates again.
    rig.set("W", 2.0);
    rig.wait_state("W.Hi", Some(AlarmState::UnackActive));
    let e = a
        .shelve("W.Hi", "anna", ShelveFor::OneShot, "sensor being replaced")
        .unwrap();
    assert_eq!(e[0].user.as_deref(), Some("anna"));
    assert_eq!(rig.state("W.Hi"), Some(AlarmState::Normal));
    rig.set("W", 0.0);
    rig.wait_state("W.Hi", None);
    rig.set("W", 2.0);
    rig.wait_state("W.Hi", Some(AlarmState::UnackActive));
    let kinds: Vec<String> = journal_rows(&path, "W.Hi")
        .into_iter()
        .map(|r| r.0)
        .collect();
    assert_eq!(
        kinds,
        ["activate", "shelve", "clear", "shelve_expired", "activate"]
    );

    let h = a.health(now_ms());
    assert_eq!(h.journal_error, None);
    assert!(h.activations_10min >= 4, "{h:?}");
    assert!(h.per_area.iter().any(|(area, _)| area == "south"));
    rig.stop();
}

#[test]
fn restart_rebuilds_the_active_list_from_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let path = alarms::journal_path(dir.path());
    let rig = Rig::start(&path);
    let a = rig.alarms();
    rig.set("T", 45.0); // T.Hi + T.HiHi unacknowledged active
    rig.set("W", 2.0);
    rig.set("X", 2.0);
    rig.wait_state("X.Hi", Some(AlarmState::UnackActive));
    rig.wait_state("T.HiHi", Some(AlarmState::UnackActive));
    a.ack(&["T.HiHi"], "bo", None).unwrap(); // acknowledged active
    a.shelve("W.Hi", "bo", ShelveFor::Seconds(3600), "chattering")
        .unwrap();
    a.set_out_of_service("X.Hi", true, "tech", "transmitter removed")
        .unwrap();
    rig.set("U", 1.0);
    rig.wait_state("U.Lo", Some(AlarmState::UnackActive));
    rig.set("U", 6.0); // returned to normal, unacknowledged
    rig.wait_state("U.Lo", Some(AlarmState::UnackRtn));
    let before = a.active();
    assert_eq!(before.len(), 5, "{before:#?}");
    rig.stop();

    let rebuilt = alarms::rebuild(&alarms::open_reader(&path).unwrap(), &defs(), now_ms()).unwrap();
    assert_eq!(rebuilt, before);

    // A fresh store (no values yet): the rebuilt list stands until values arrive.
    let rig = Rig::start(&path);
    assert_eq!(rig.alarms().active(), before);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        rig.alarms().active(),
        before,
        "nothing changes without values"
    );
    // Then it is re-evaluated against current values.
    let mut rx = rig.alarms().subscribe();
    rig.set("T", 20.0);
    let e = next_event(&mut rx, "T.HiHi", EventKind::Clear);
    assert_eq!(
        (e.state_from, e.state_to),
        (AlarmState::AckActive, AlarmState::Normal)
    );
    rig.wait_state("T.Hi", Some(AlarmState::UnackRtn));
    assert_eq!(rig.state("W.Hi"), Some(AlarmState::Normal), "still shelved");
    let unshelved = rig.alarms().unshelve("W.Hi", "bo", None).unwrap();
    assert_eq!(
        unshelved.len(),
        2,
        "condition still active: annunciates again"
    );
    assert_eq!(rig.state("W.Hi"), Some(AlarmState::UnackActive));
    rig.stop();
}

#[test]
fn journal_outage_still_shows_alarms_refuses_actions_and_catches_up() {
    let dir = tempfile::tempdir().unwrap();
    let path = alarms::journal_path(dir.path());
    let rig = Rig::start(&path);
    let a = rig.alarms();
    let mut rx = a.subscribe();

    // Another writer holds the journal's write lock.
    let locker = rusqlite::Connection::open(&path).unwrap();
    locker.execute_batch("BEGIN EXCLUSIVE").unwrap();
    rig.set("X", 2.0);
    next_event(&mut rx, "X.Hi", EventKind::Activate); // shown anyway
    let h = a.health(now_ms());
    assert!(h.journal_error.is_some(), "{h:?}");
    assert_eq!(h.unjournaled, 1);
    // No operator action without an audit trail.
    assert!(matches!(
        a.ack(&["X.Hi"], "anna", None),
        Err(AlarmError::JournalDown(_) | AlarmError::Journal(_))
    ));
    assert_eq!(rig.state("X.Hi"), Some(AlarmState::UnackActive));

    locker.execute_batch("ROLLBACK").unwrap();
    wait_for(WAIT, "journal caught up", || {
        let h = a.health(now_ms());
        (h.journal_error.is_none() && h.unjournaled == 0).then_some(())
    });
    assert_eq!(
        journal_rows(&path, "X.Hi"),
        [("activate".to_owned(), "unack_active".to_owned(), None)]
    );
    assert_eq!(a.ack(&["X.Hi"], "anna", None).unwrap().len(), 1);
    rig.stop();
}
