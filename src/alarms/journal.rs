//! The alarm journal: every [`AlarmEvent`] as one row of the `alarm_journal` table (its own file
//! `alarms.sqlite` in the data folder, or a table beside others in a given file), WAL with
//! `synchronous=FULL` so a committed event survives a power cut. Each row carries the alarm's
//! complete state after the event, so the last row per alarm is enough to rebuild the active
//! list on start. Also the queries of the alarm history page and the health seed.
//!
//! Only the alarm engine writes; readers (history page, tools) open it read-only.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rusqlite::types::{Type, Value as Sql};
use rusqlite::{Connection, OpenFlags, Row, params, params_from_iter};

use crate::engine::Value;

use super::config::{AlarmConfig, Priority};
use super::eval::restore;
use super::state::{ActiveAlarm, AlarmEvent, AlarmState, EventKind, Modes, Shelve};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS alarm_journal (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts INTEGER NOT NULL,
    alarm TEXT NOT NULL,
    tag TEXT NOT NULL,
    priority TEXT NOT NULL,
    area TEXT NOT NULL,
    message TEXT NOT NULL,
    event TEXT NOT NULL,
    state_from TEXT NOT NULL,
    state_to TEXT NOT NULL,
    condition INTEGER NOT NULL,
    shelved INTEGER NOT NULL,
    shelved_until INTEGER,
    suppressed INTEGER NOT NULL,
    out_of_service INTEGER NOT NULL,
    activated INTEGER,
    value REAL,
    text TEXT,
    limit_value REAL,
    user_name TEXT,
    comment TEXT
);
CREATE INDEX IF NOT EXISTS alarm_journal_ts ON alarm_journal (ts);
CREATE INDEX IF NOT EXISTS alarm_journal_alarm ON alarm_journal (alarm, id);
";

const COLUMNS: &str = "id, ts, alarm, tag, priority, area, message, event, state_from, state_to, \
    condition, shelved, shelved_until, suppressed, out_of_service, activated, value, text, \
    limit_value, user_name, comment";

/// The journal file in a data folder.
pub fn journal_path(data_dir: &Path) -> PathBuf {
    data_dir.join("alarms.sqlite")
}

/// Open (and create) the journal for writing: WAL, `synchronous=FULL`.
pub fn open_writer(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_millis(250))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.execute_batch(SCHEMA)?;
    Ok(conn)
}

/// Open an existing journal read-only (history page, tools).
pub fn open_reader(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_millis(500))?;
    Ok(conn)
}

/// Append events (with their definitions) in one transaction; returns the rows written.
pub fn append<'a>(
    conn: &mut Connection,
    events: impl IntoIterator<Item = (&'a AlarmConfig, &'a AlarmEvent)>,
) -> rusqlite::Result<usize> {
    let tx = conn.transaction()?;
    let mut n = 0;
    {
        let mut stmt = tx.prepare_cached(
            "INSERT INTO alarm_journal (ts, alarm, tag, priority, area, message, event, \
             state_from, state_to, condition, shelved, shelved_until, suppressed, out_of_service, \
             activated, value, text, limit_value, user_name, comment) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, \
             ?18, ?19, ?20)",
        )?;
        for (def, e) in events {
            let (shelved, until) = match e.modes.shelved {
                None => (0, None),
                Some(Shelve::Until(t)) => (1, Some(t)),
                Some(Shelve::OneShot) => (2, None),
            };
            let (value, text) = encode_value(e.value.as_ref());
            stmt.execute(params![
                e.ts_ms,
                &*e.alarm,
                def.tag,
                def.priority.as_str(),
                def.area,
                def.message,
                e.kind.as_str(),
                e.state_from.as_str(),
                e.state_to.as_str(),
                e.condition,
                shelved,
                until,
                e.modes.suppressed,
                e.modes.out_of_service,
                e.activated_ms,
                value,
                text,
                e.limit,
                e.user,
                e.comment,
            ])?;
            n += 1;
        }
    }
    tx.commit()?;
    Ok(n)
}

fn encode_value(v: Option<&Value>) -> (Option<f64>, Option<&str>) {
    match v {
        None => (None, None),
        Some(Value::Number(x)) => (Some(*x), None),
        Some(Value::Bool(b)) => (
            Some(f64::from(u8::from(*b))),
            Some(if *b { "true" } else { "false" }),
        ),
        Some(Value::Text(t)) => (None, Some(t)),
    }
}

fn decode_value(value: Option<f64>, text: Option<String>) -> Option<Value> {
    match (value, text) {
        (Some(_), Some(t)) if t == "true" || t == "false" => Some(Value::Bool(t == "true")),
        (Some(x), _) => Some(Value::Number(x)),
        (None, Some(t)) => Some(Value::Text(Arc::from(t))),
        (None, None) => None,
    }
}

fn invalid(col: usize, what: &str, got: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(col, Type::Text, format!("{what} `{got}`").into())
}

/// One journal row (history page).
#[derive(Clone, Debug, PartialEq)]
pub struct JournalEntry {
    pub id: i64,
    pub tag: String,
    pub priority: Priority,
    pub area: String,
    pub message: String,
    pub event: AlarmEvent,
}

fn entry(r: &Row<'_>) -> rusqlite::Result<JournalEntry> {
    let text = |i: usize| r.get::<_, String>(i);
    let state = |i: usize| {
        let s = text(i)?;
        AlarmState::parse(&s).ok_or_else(|| invalid(i, "alarm state", &s))
    };
    let priority = text(4)?;
    let kind = text(7)?;
    let shelved = match (r.get::<_, i64>(11)?, r.get::<_, Option<i64>>(12)?) {
        (0, _) => None,
        (1, Some(t)) => Some(Shelve::Until(t)),
        (2, _) => Some(Shelve::OneShot),
        (other, _) => return Err(invalid(11, "shelve mode", &other.to_string())),
    };
    Ok(JournalEntry {
        id: r.get(0)?,
        tag: text(3)?,
        priority: Priority::parse(&priority).ok_or_else(|| invalid(4, "priority", &priority))?,
        area: text(5)?,
        message: text(6)?,
        event: AlarmEvent {
            ts_ms: r.get(1)?,
            alarm: Arc::from(text(2)?),
            kind: EventKind::parse(&kind).ok_or_else(|| invalid(7, "event", &kind))?,
            state_from: state(8)?,
            state_to: state(9)?,
            condition: r.get(10)?,
            modes: Modes {
                shelved,
                suppressed: r.get(13)?,
                out_of_service: r.get(14)?,
            },
            activated_ms: r.get(15)?,
            value: decode_value(r.get(16)?, r.get(17)?),
            limit: r.get(18)?,
            user: r.get(19)?,
            comment: r.get(20)?,
        },
    })
}

/// The last event of every alarm in the journal, by alarm name.
pub fn last_events(conn: &Connection) -> rusqlite::Result<HashMap<String, AlarmEvent>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM alarm_journal \
         WHERE id IN (SELECT MAX(id) FROM alarm_journal GROUP BY alarm)"
    ))?;
    let rows = stmt.query_map([], entry)?;
    let mut out = HashMap::new();
    for row in rows {
        let e = row?.event;
        out.insert(e.alarm.to_string(), e);
    }
    Ok(out)
}

/// The active list as the journal leaves it, for the alarms in `defs` (others are history),
/// as of `now_ms` (timed shelves that ran out are shown unshelved; the engine journals their
/// expiry on its first tick). The engine then re-evaluates it against current values.
pub fn rebuild(
    conn: &Connection,
    defs: &[AlarmConfig],
    now_ms: i64,
) -> rusqlite::Result<Vec<ActiveAlarm>> {
    let last = last_events(conn)?;
    let mut list: Vec<ActiveAlarm> = defs
        .iter()
        .filter_map(|def| {
            let mut m = restore(def, last.get(&def.name));
            m.expire(now_ms);
            m.is_listed().then(|| ActiveAlarm::new(def, &m))
        })
        .collect();
    ActiveAlarm::sort(&mut list);
    Ok(list)
}

/// Activations since `since_ms`: (time, alarm, annunciated), oldest first (health seed).
pub fn activations_since(
    conn: &Connection,
    since_ms: i64,
) -> rusqlite::Result<Vec<(i64, String, bool)>> {
    let mut stmt = conn.prepare(
        "SELECT ts, alarm, state_to FROM alarm_journal \
         WHERE ts >= ?1 AND event = 'activate' ORDER BY id",
    )?;
    let rows = stmt.query_map([since_ms], |r| {
        let to: String = r.get(2)?;
        Ok((r.get(0)?, r.get(1)?, to == AlarmState::UnackActive.as_str()))
    })?;
    rows.collect()
}

/// The alarm states of every alarm on `tag` over `[from_ms, to_ms)`, as (time, alarm, state
/// after the event) in journal order: each alarm's last event before `from_ms` (its state at
/// `from_ms`), then every event inside the range. Reports compute time in alarm from it.
pub fn tag_states(
    conn: &Connection,
    tag: &str,
    from_ms: i64,
    to_ms: i64,
) -> rusqlite::Result<Vec<(i64, String, AlarmState)>> {
    let mut stmt = conn.prepare(
        "SELECT id, ts, alarm, state_to FROM alarm_journal WHERE id IN \
         (SELECT MAX(id) FROM alarm_journal WHERE tag = ?1 AND ts < ?2 GROUP BY alarm) \
         UNION ALL \
         SELECT id, ts, alarm, state_to FROM alarm_journal WHERE tag = ?1 AND ts >= ?2 AND ts < ?3 \
         ORDER BY 2, 1",
    )?;
    let rows = stmt.query_map(params![tag, from_ms, to_ms], |r| {
        let s: String = r.get(3)?;
        let state = AlarmState::parse(&s).ok_or_else(|| invalid(3, "alarm state", &s))?;
        Ok((r.get(1)?, r.get(2)?, state))
    })?;
    rows.collect()
}

/// Filters of the alarm history page. Empty filters match everything.
#[derive(Clone, Debug, PartialEq)]
pub struct JournalQuery {
    /// Inclusive start, UTC ms.
    pub from_ms: Option<i64>,
    /// Exclusive end, UTC ms.
    pub to_ms: Option<i64>,
    pub priorities: Vec<Priority>,
    pub area: Option<String>,
    /// Part of the alarm name.
    pub alarm: Option<String>,
    pub events: Vec<EventKind>,
    /// At most this many rows, newest first.
    pub limit: usize,
}

impl Default for JournalQuery {
    fn default() -> Self {
        Self {
            from_ms: None,
            to_ms: None,
            priorities: Vec::new(),
            area: None,
            alarm: None,
            events: Vec::new(),
            limit: 1000,
        }
    }
}

/// Journal rows matching `q`, newest first.
pub fn query(conn: &Connection, q: &JournalQuery) -> rusqlite::Result<Vec<JournalEntry>> {
    let mut cond: Vec<String> = Vec::new();
    let mut args: Vec<Sql> = Vec::new();
    let arg = |args: &mut Vec<Sql>, v: Sql| {
        args.push(v);
        format!("?{}", args.len())
    };
    if let Some(t) = q.from_ms {
        cond.push(format!("ts >= {}", arg(&mut args, Sql::Integer(t))));
    }
    if let Some(t) = q.to_ms {
        cond.push(format!("ts < {}", arg(&mut args, Sql::Integer(t))));
    }
    if !q.priorities.is_empty() {
        let ps: Vec<String> = q
            .priorities
            .iter()
            .map(|p| arg(&mut args, Sql::Text(p.as_str().to_owned())))
            .collect();
        cond.push(format!("priority IN ({})", ps.join(", ")));
    }
    if !q.events.is_empty() {
        let es: Vec<String> = q
            .events
            .iter()
            .map(|e| arg(&mut args, Sql::Text(e.as_str().to_owned())))
            .collect();
        cond.push(format!("event IN ({})", es.join(", ")));
    }
    if let Some(a) = &q.area {
        cond.push(format!("area = {}", arg(&mut args, Sql::Text(a.clone()))));
    }
    if let Some(n) = &q.alarm {
        cond.push(format!(
            "instr(alarm, {}) > 0",
            arg(&mut args, Sql::Text(n.clone()))
        ));
    }
    let limit = arg(
        &mut args,
        Sql::Integer(i64::try_from(q.limit).unwrap_or(i64::MAX)),
    );
    let filter = if cond.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", cond.join(" AND "))
    };
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM alarm_journal {filter} ORDER BY ts DESC, id DESC LIMIT {limit}"
    ))?;
    let rows = stmt.query_map(params_from_iter(args), entry)?;
    rows.collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alarms::config::AlarmKind;
    use crate::alarms::state::{Actor, Machine};

    fn def(name: &str, priority: Priority, area: &str) -> AlarmConfig {
        AlarmConfig {
            name: name.to_owned(),
            tag: format!("{name}.PV"),
            kind: AlarmKind::Hi { limit: 1.0 },
            deadband: 0.0,
            on_delay_s: 0.0,
            off_delay_s: 0.0,
            priority,
            message: format!("{name} high"),
            area: area.to_owned(),
            latching: false,
            suppress_when: None,
        }
    }

    #[test]
    fn append_query_and_rebuild() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = open_writer(&journal_path(dir.path())).unwrap();
        let defs = [
            def("A", Priority::High, "north"),
            def("B", Priority::Low, "south"),
            def("C", Priority::Critical, "north"),
        ];
        let mut ms: Vec<Machine> = defs.iter().map(|d| restore(d, None)).collect();
        let mut log: Vec<(usize, AlarmEvent)> = Vec::new();
        let op = Actor {
            user: Some("anna"),
            comment: Some("checked"),
        };
        let mut push = |i: usize, es: Vec<AlarmEvent>| log.extend(es.into_iter().map(|e| (i, e)));
        push(
            0,
            ms[0].condition_changed(true, 100, Some(Value::Number(2.5)), Some(1.0)),
        );
        push(
            1,
            ms[1].condition_changed(true, 200, Some(Value::Bool(true)), Some(1.0)),
        );
        push(1, ms[1].ack(300, op).into_iter().collect());
        push(
            2,
            ms[2].condition_changed(true, 400, Some(Value::Text(Arc::from("x"))), None),
        );
        push(2, ms[2].shelve(Shelve::Until(10_000), 500, op));
        push(
            1,
            ms[1].condition_changed(false, 600, Some(Value::Number(0.0)), Some(1.0)),
        );
        let n = append(&mut conn, log.iter().map(|(i, e)| (&defs[*i], e))).unwrap();
        assert_eq!(n, 6);

        let all = query(&conn, &JournalQuery::default()).unwrap();
        assert_eq!(all.len(), 6);
        assert_eq!(all[0].event.ts_ms, 600, "newest first");
        let back: Vec<&AlarmEvent> = all.iter().rev().map(|e| &e.event).collect();
        let orig: Vec<&AlarmEvent> = log.iter().map(|(_, e)| e).collect();
        assert_eq!(back, orig, "every field survives the round trip");
        let ack = &all[3];
        assert_eq!(ack.event.kind, EventKind::Ack);
        assert_eq!(ack.event.user.as_deref(), Some("anna"));
        assert_eq!((ack.priority, ack.area.as_str()), (Priority::Low, "south"));

        let q = |q: JournalQuery| -> Vec<i64> {
            query(&conn, &q)
                .unwrap()
                .iter()
                .map(|e| e.event.ts_ms)
                .collect()
        };
        assert_eq!(
            q(JournalQuery {
                from_ms: Some(200),
                to_ms: Some(500),
                ..Default::default()
            }),
            [400, 300, 200]
        );
        assert_eq!(
            q(JournalQuery {
                priorities: vec![Priority::Critical, Priority::High],
                ..Default::default()
            }),
            [500, 400, 100]
        );
        assert_eq!(
            q(JournalQuery {
                area: Some("north".to_owned()),
                limit: 2,
                ..Default::default()
            }),
            [500, 400]
        );
        assert_eq!(
            q(JournalQuery {
                alarm: Some("B".to_owned()),
                events: vec![EventKind::Ack, EventKind::Clear],
                ..Default::default()
            }),
            [600, 300]
        );

        let list = rebuild(&conn, &defs, 1_000).unwrap();
        let names: Vec<(&str, AlarmState)> =
            list.iter().map(|a| (a.name.as_str(), a.state)).collect();
        // C shelved (listed), A unacknowledged active; B acknowledged and cleared: normal.
        assert_eq!(
            names,
            [("C", AlarmState::Normal), ("A", AlarmState::UnackActive)]
        );
        assert_eq!(list[0].shelved, Some(Shelve::Until(10_000)));
        assert_eq!(list[1], ActiveAlarm::new(&defs[0], &ms[0]));
        // After the shelve ran out, C is shown as what it will be: annunciated again.
        let later = rebuild(&conn, &defs, 20_000).unwrap();
        assert_eq!(later[0].name, "C");
        assert_eq!(later[0].state, AlarmState::UnackActive);
        assert_eq!(later[0].shelved, None);
        // Alarms no longer defined are dropped.
        assert_eq!(rebuild(&conn, &defs[1..2], 1_000).unwrap(), []);

        let acts = activations_since(&conn, 150).unwrap();
        assert_eq!(
            acts,
            [(200, "B".to_owned(), true), (400, "C".to_owned(), true)]
        );
        drop(conn);
        let ro = open_reader(&journal_path(dir.path())).unwrap();
        assert_eq!(last_events(&ro).unwrap().len(), 3);
    }

    #[test]
    fn writer_uses_wal_and_full_sync() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open_writer(&dir.path().join("j.sqlite")).unwrap();
        let mode: String = conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        let sync: i64 = conn
            .pragma_query_value(None, "synchronous", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        assert_eq!(sync, 2, "FULL");
    }

    #[test]
    fn corrupt_rows_are_errors_not_panics() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open_writer(&dir.path().join("j.sqlite")).unwrap();
        conn.execute(
            "INSERT INTO alarm_journal (ts, alarm, tag, priority, area, message, event, state_from, \
             state_to, condition, shelved, suppressed, out_of_service) \
             VALUES (1, 'A', 'T', 'urgent', '', '', 'activate', 'normal', 'unack_active', 1, 0, 0, 0)",
            [],
        )
        .unwrap();
        assert!(last_events(&conn).is_err());
    }
}
