//! kill -9 during an alarm flood: a child process (`plantview bench alarms-child`) runs the alarm
//! engine on 2,000 `hi` alarms, toggles their tags across the limit at 5,000 changes/s and
//! acknowledges some, and is killed at a random moment, 22 times. After every kill:
//! `PRAGMA integrity_check` is ok; journal ids are contiguous (no torn transaction); every row the
//! child saw published is in the journal (journal before publish); each alarm's rows form an
//! unbroken chain of transitions (no transition lost); and the alarm engine restarted on the same
//! journal shows exactly the active list the journal's last event per alarm says, without
//! journaling anything itself.

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use plantview::alarms::{self, AlarmConfig, AlarmEngine, AlarmKind, AlarmState, Priority};
use plantview::engine::{TagStore, now_ms};
use rand::rngs::SmallRng;
use rand::{Rng as _, SeedableRng as _};
use rusqlite::Connection;
use tokio_util::sync::CancellationToken;

const ALARMS: usize = 2_000;
const RATE: u64 = 5_000;
const ROUNDS: usize = 22;

/// The child's definitions (`bench::alarms::hi_alarms("Flood", n)`).
fn flood(n: usize) -> (Vec<String>, Vec<AlarmConfig>) {
    let tags: Vec<String> = (0..n).map(|i| format!("Flood.{i:05}")).collect();
    let defs = tags
        .iter()
        .enumerate()
        .map(|(i, tag)| AlarmConfig {
            name: format!("{tag}.Hi"),
            tag: tag.clone(),
            kind: AlarmKind::Hi { limit: 50.0 },
            deadband: 0.0,
            on_delay_s: 0.0,
            off_delay_s: 0.0,
            priority: Priority::ALL[i % Priority::ALL.len()],
            message: format!("{tag} high"),
            area: format!("Area{}", i % 8),
            latching: false,
            suppress_when: None,
        })
        .collect();
    (tags, defs)
}

/// Per alarm: (state_to, condition) of its last row checked so far.
type Chains = HashMap<String, (String, bool)>;

/// Check the rows after `from_id`: each continues its alarm's chain. Returns the last id.
fn check_chains(conn: &Connection, from_id: i64, chains: &mut Chains) -> i64 {
    let mut stmt = conn
        .prepare(
            "SELECT id, alarm, event, state_from, state_to, condition, user_name \
             FROM alarm_journal WHERE id > ?1 ORDER BY id",
        )
        .expect("prepare");
    let mut rows = stmt.query([from_id]).expect("query");
    let mut last = from_id;
    while let Some(r) = rows.next().expect("row") {
        let id: i64 = r.get(0).expect("id");
        let alarm: String = r.get(1).expect("alarm");
        let event: String = r.get(2).expect("event");
        let from: String = r.get(3).expect("state_from");
        let to: String = r.get(4).expect("state_to");
        let cond: bool = r.get(5).expect("condition");
        let user: Option<String> = r.get(6).expect("user");
        let (prev_state, prev_cond) = chains
            .get(&alarm)
            .cloned()
            .unwrap_or_else(|| ("normal".to_owned(), false));
        assert_eq!(
            from, prev_state,
            "row {id} ({alarm} {event}): starts from `{from}`, but the alarm's previous row left it `{prev_state}`: a transition is missing"
        );
        match event.as_str() {
            "activate" => assert!(
                !prev_cond && cond,
                "row {id}: activation of an active alarm"
            ),
            "clear" => assert!(prev_cond && !cond, "row {id}: clear of a clear alarm"),
            "ack" => {
                assert_eq!(prev_cond, cond, "row {id}: ack changed the condition");
                assert_eq!(user.as_deref(), Some("flood-test"), "row {id}: ack user");
                assert!(
                    matches!(
                        (from.as_str(), to.as_str()),
                        ("unack_active", "ack_active") | ("unack_rtn", "normal")
                    ),
                    "row {id}: ack from {from} to {to}"
                );
            }
            other => panic!("row {id}: unexpected event `{other}` in the flood"),
        }
        chains.insert(alarm, (to, cond));
        last = id;
    }
    last
}

fn count_and_range(conn: &Connection) -> (i64, i64, i64) {
    conn.query_row(
        "SELECT COUNT(*), COALESCE(MIN(id), 1), COALESCE(MAX(id), 0) FROM alarm_journal",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
    .expect("count")
}

/// Restart the alarm engine on the journal: its active list must be what the journal says.
fn restart_matches_journal(
    journal: &Path,
    tags: &[String],
    defs: &[AlarmConfig],
    rt: &tokio::runtime::Runtime,
    round: usize,
) -> usize {
    let conn = Connection::open(journal).expect("open");
    let rows_before = count_and_range(&conn).0;
    // What the journal's last row per alarm says, straight from SQL.
    let mut stmt = conn
        .prepare(
            "SELECT alarm, state_to, condition FROM alarm_journal \
             WHERE id IN (SELECT MAX(id) FROM alarm_journal GROUP BY alarm)",
        )
        .expect("prepare");
    let mut raw: Vec<(String, String, bool)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("query")
        .map(|r| r.expect("row"))
        .filter(|(_, state, _)| state != "normal")
        .collect();
    raw.sort();
    let rebuilt = alarms::rebuild(&conn, defs, now_ms()).expect("rebuild");
    drop(stmt);
    drop(conn);

    let store = Arc::new(TagStore::new(tags.iter().map(|t| (t.as_str(), 0.0))));
    let handle = AlarmEngine::start(journal, defs, store, rt.handle(), CancellationToken::new())
        .expect("alarm engine restarts on the journal");
    let listed = |h: &alarms::AlarmHandle| {
        let mut v: Vec<(String, String, bool)> = h
            .active()
            .into_iter()
            .map(|a| (a.name, a.state.as_str().to_owned(), a.condition))
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        listed(&handle),
        raw,
        "round {round}: restarted active list differs from the journal's last events"
    );
    assert_eq!(
        handle.active(),
        rebuilt,
        "round {round}: restarted active list differs from alarms::rebuild"
    );
    // After the start-up resync and a tick nothing changes (no values yet: nothing to judge).
    std::thread::sleep(alarms::TICK + Duration::from_millis(30));
    assert_eq!(listed(&handle), raw, "round {round}: changed after a tick");
    handle.stop();
    let conn = Connection::open(journal).expect("open");
    assert_eq!(
        count_and_range(&conn).0,
        rows_before,
        "round {round}: the restart journaled transitions of its own"
    );
    assert!(
        raw.iter()
            .all(|(_, s, _)| AlarmState::parse(s).is_some_and(|s| s != AlarmState::Normal)),
    );
    raw.len()
}

#[test]
fn kill_nine_during_an_alarm_flood_loses_no_transition() {
    let dir = tempfile::tempdir().expect("tmp");
    let journal = alarms::journal_path(dir.path());
    let (tags, defs) = flood(ALARMS);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let mut rng = SmallRng::seed_from_u64(4);
    let mut chains = Chains::new();
    let mut checked = 0;
    let mut max_active = 0;
    let begin = Instant::now();
    for round in 0..ROUNDS {
        let mut child = Command::new(env!("CARGO_BIN_EXE_plantview"))
            .args([
                "bench",
                "alarms-child",
                "--alarms",
                &ALARMS.to_string(),
                "--rate",
                &RATE.to_string(),
                "--journal",
            ])
            .arg(&journal)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start child");
        let stdout = child.stdout.take().expect("stdout");
        let reader = std::thread::Builder::new()
            .name("alarms-kill-reader".to_owned())
            .spawn(move || {
                let mut shown = None;
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    if let Some(n) = line
                        .split_whitespace()
                        .find_map(|w| w.strip_prefix("shown="))
                        .and_then(|n| n.parse::<i64>().ok())
                    {
                        shown = Some(n);
                    }
                }
                shown
            })
            .expect("reader thread");
        std::thread::sleep(Duration::from_millis(rng.random_range(150..1300)));
        child.kill().expect("kill -9");
        let _ = child.wait();
        let shown = reader.join().expect("reader").unwrap_or(0);

        let conn = Connection::open(&journal).expect("open");
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .expect("integrity_check");
        assert_eq!(check, "ok", "round {round}");
        let (count, min, max) = count_and_range(&conn);
        assert_eq!(
            (min, count),
            (1, max),
            "round {round}: journal ids are not contiguous (torn transaction)"
        );
        assert!(
            count >= shown,
            "round {round}: the child saw {shown} rows published, the journal has {count}"
        );
        checked = check_chains(&conn, checked, &mut chains);
        drop(conn);
        max_active = max_active.max(restart_matches_journal(&journal, &tags, &defs, &rt, round));
    }
    let conn = Connection::open(&journal).expect("open");
    let (count, ..) = count_and_range(&conn);
    let events: HashMap<String, i64> = conn
        .prepare("SELECT event, COUNT(*) FROM alarm_journal GROUP BY event")
        .expect("prepare")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("query")
        .map(|r| r.expect("row"))
        .collect();
    eprintln!(
        "{ROUNDS} kills in {:.1} s: {count} journal rows {events:?}, up to {max_active} alarms listed at a restart",
        begin.elapsed().as_secs_f64()
    );
    assert!(
        count > 5_000,
        "the flood journaled a meaningful amount ({count})"
    );
    for kind in ["activate", "clear", "ack"] {
        assert!(
            events.get(kind).is_some_and(|&n| n > 100),
            "{kind}: {events:?}"
        );
    }
}
