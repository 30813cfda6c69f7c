//! The SQLite file: schema, batched idempotent inserts that maintain the 1-minute and 1-hour
//! summaries in the same transaction, and retention pruning in small chunks.

use std::collections::HashMap;
use std::path::Path;

use rusqlite::{Connection, OpenFlags, params};

use super::sample::{Sample, Stored, quality_code};

/// Summary resolutions, ms.
pub const MINUTE_MS: i64 = 60_000;
pub const HOUR_MS: i64 = 3_600_000;
pub const RESOLUTIONS: [i64; 2] = [MINUTE_MS, HOUR_MS];

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tags (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    unit TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS samples (
    tag INTEGER NOT NULL,
    ts INTEGER NOT NULL,
    value REAL,
    text TEXT,
    quality INTEGER NOT NULL,
    PRIMARY KEY (tag, ts)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS summary (
    tag INTEGER NOT NULL,
    res INTEGER NOT NULL,
    bucket INTEGER NOT NULL,
    count INTEGER NOT NULL,
    min REAL, max REAL, sum REAL,
    first_ts INTEGER, first REAL,
    last_ts INTEGER, last REAL,
    bad INTEGER NOT NULL,
    any_ts INTEGER NOT NULL,
    any_quality INTEGER NOT NULL,
    PRIMARY KEY (tag, res, bucket)
) WITHOUT ROWID;
";

/// Open (and create) the history file for writing: WAL, `synchronous=NORMAL`.
pub fn open_writer(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_millis(200))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.execute_batch(SCHEMA)?;
    conn.execute(
        "INSERT OR IGNORE INTO meta (key, value) VALUES ('format', '1')",
        [],
    )?;
    Ok(conn)
}

/// Open an existing history file read-only (analysis, trends). Never creates or changes it.
pub fn open_reader(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_millis(500))?;
    Ok(conn)
}

/// The historian id of each tag name, creating ids for new names.
pub fn tag_ids(conn: &Connection, tags: &[(&str, &str)]) -> rusqlite::Result<Vec<i64>> {
    let mut ids = Vec::with_capacity(tags.len());
    let mut insert = conn.prepare("INSERT OR IGNORE INTO tags (name, unit) VALUES (?1, ?2)")?;
    let mut update = conn.prepare("UPDATE tags SET unit = ?2 WHERE name = ?1 AND unit != ?2")?;
    let mut select = conn.prepare("SELECT id FROM tags WHERE name = ?1")?;
    for (name, unit) in tags {
        insert.execute(params![name, unit])?;
        update.execute(params![name, unit])?;
        ids.push(select.query_row([name], |r| r.get(0))?);
    }
    Ok(ids)
}

/// Partial aggregate of good numeric samples (and quality info) in one summary bucket.
#[derive(Clone, Debug, PartialEq)]
pub struct Agg {
    pub count: i64,
    pub min: f64,
    pub max: f64,
    pub sum: f64,
    pub first_ts: i64,
    pub first: f64,
    pub last_ts: i64,
    pub last: f64,
    /// Samples that were not good.
    pub bad: i64,
    /// Time and quality of the last sample of any quality.
    pub any_ts: i64,
    pub any_quality: i64,
}

impl Agg {
    fn new() -> Self {
        Self {
            count: 0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            sum: 0.0,
            first_ts: i64::MAX,
            first: 0.0,
            last_ts: i64::MIN,
            last: 0.0,
            bad: 0,
            any_ts: i64::MIN,
            any_quality: 3,
        }
    }

    fn add(&mut self, ts: i64, value: Option<f64>, quality: i64) {
        if ts >= self.any_ts {
            self.any_ts = ts;
            self.any_quality = quality;
        }
        match value {
            Some(v) if quality == 0 => {
                self.count += 1;
                self.min = self.min.min(v);
                self.max = self.max.max(v);
                self.sum += v;
                if ts < self.first_ts {
                    self.first_ts = ts;
                    self.first = v;
                }
                if ts >= self.last_ts {
                    self.last_ts = ts;
                    self.last = v;
                }
            }
            _ => {
                if quality != 0 {
                    self.bad += 1;
                }
            }
        }
    }
}

/// Numeric value of a sample for aggregation (text samples are not aggregated).
fn numeric(s: &Sample) -> Option<f64> {
    match &s.value {
        Stored::Number(v) => Some(*v),
        Stored::None | Stored::Text(_) => None,
    }
}

/// Insert a batch in one transaction. Samples already stored (same tag and time) are skipped,
/// so replaying a batch never double-counts. Returns how many rows were new.
pub fn insert_batch(conn: &mut Connection, batch: &[Sample]) -> rusqlite::Result<usize> {
    let tx = conn.transaction()?;
    let mut inserted = 0;
    let mut aggs: HashMap<(i64, i64, i64), Agg> = HashMap::new();
    {
        let mut stmt = tx.prepare_cached(
            "INSERT OR IGNORE INTO samples (tag, ts, value, text, quality) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for s in batch {
            let (value, text) = match &s.value {
                Stored::None => (None, None),
                Stored::Number(v) => (Some(*v), None),
                Stored::Text(t) => (None, Some(&**t)),
            };
            let q = quality_code(s.quality);
            if stmt.execute(params![s.tag, s.ts_ms, value, text, q])? == 1 {
                inserted += 1;
                let v = numeric(s);
                for res in RESOLUTIONS {
                    let bucket = s.ts_ms.div_euclid(res) * res;
                    aggs.entry((s.tag, res, bucket))
                        .or_insert_with(Agg::new)
                        .add(s.ts_ms, v, q);
                }
            }
        }
        let mut up = tx.prepare_cached(
            "INSERT INTO summary (tag, res, bucket, count, min, max, sum, first_ts, first, last_ts, last, bad, any_ts, any_quality)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
             ON CONFLICT (tag, res, bucket) DO UPDATE SET
                count = count + excluded.count,
                min = CASE WHEN excluded.count = 0 THEN min WHEN count = 0 THEN excluded.min ELSE MIN(min, excluded.min) END,
                max = CASE WHEN excluded.count = 0 THEN max WHEN count = 0 THEN excluded.max ELSE MAX(max, excluded.max) END,
                sum = sum + excluded.sum,
                first = CASE WHEN excluded.count > 0 AND (count = 0 OR excluded.first_ts < first_ts) THEN excluded.first ELSE first END,
                first_ts = CASE WHEN excluded.count > 0 AND (count = 0 OR excluded.first_ts < first_ts) THEN excluded.first_ts ELSE first_ts END,
                last = CASE WHEN excluded.count > 0 AND (count = 0 OR excluded.last_ts >= last_ts) THEN excluded.last ELSE last END,
                last_ts = CASE WHEN excluded.count > 0 AND (count = 0 OR excluded.last_ts >= last_ts) THEN excluded.last_ts ELSE last_ts END,
                bad = bad + excluded.bad,
                any_quality = CASE WHEN excluded.any_ts >= any_ts THEN excluded.any_quality ELSE any_quality END,
                any_ts = MAX(any_ts, excluded.any_ts)",
        )?;
        for ((tag, res, bucket), a) in &aggs {
            let some = a.count > 0;
            up.execute(params![
                tag,
                res,
                bucket,
                a.count,
                some.then_some(a.min),
                some.then_some(a.max),
                a.sum,
                some.then_some(a.first_ts),
                some.then_some(a.first),
                some.then_some(a.last_ts),
                some.then_some(a.last),
                a.bad,
                a.any_ts,
                a.any_quality,
            ])?;
        }
    }
    tx.commit()?;
    Ok(inserted)
}

/// Delete samples older than `cutoff_ms` (and summaries older than `summary_cutoff_ms`), at
/// most `chunk` rows per call, so the writer is never blocked for long. Returns rows deleted.
pub fn prune_chunk(
    conn: &Connection,
    cutoff_ms: i64,
    summary_cutoff_ms: i64,
    chunk: usize,
) -> rusqlite::Result<usize> {
    let tags: Vec<i64> = {
        let mut stmt = conn.prepare_cached("SELECT id FROM tags")?;
        stmt.query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?
    };
    let mut deleted = 0;
    for tag in tags {
        if deleted >= chunk {
            break;
        }
        let limit = i64::try_from(chunk - deleted).unwrap_or(i64::MAX);
        // The chunk's last timestamp, found through the primary key (no scan).
        let upto: Option<i64> = conn
            .prepare_cached(
                "SELECT MAX(ts) FROM (SELECT ts FROM samples WHERE tag = ?1 AND ts < ?2 ORDER BY ts LIMIT ?3)",
            )?
            .query_row(params![tag, cutoff_ms, limit], |r| r.get(0))?;
        if let Some(upto) = upto {
            deleted += conn
                .prepare_cached("DELETE FROM samples WHERE tag = ?1 AND ts <= ?2")?
                .execute(params![tag, upto])?;
        }
    }
    conn.prepare_cached("DELETE FROM summary WHERE res = ?1 AND bucket < ?2")?
        .execute(params![MINUTE_MS, summary_cutoff_ms])?;
    conn.prepare_cached("DELETE FROM summary WHERE res = ?1 AND bucket < ?2")?
        .execute(params![HOUR_MS, summary_cutoff_ms])?;
    Ok(deleted)
}
