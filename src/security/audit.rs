//! The audit trail: every write attempt (time, user, workstation, tag, device, address, old,
//! requested and read-back values, result) in `audit.sqlite` with `synchronous=FULL`, committed
//! before the result is reported.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, params};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY,
    ts INTEGER NOT NULL,
    user TEXT NOT NULL,
    workstation TEXT NOT NULL,
    action TEXT NOT NULL,
    tag TEXT NOT NULL,
    device TEXT NOT NULL,
    address TEXT NOT NULL,
    old_value TEXT,
    requested TEXT,
    readback TEXT,
    result TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_ts ON audit (ts);
";

/// One audited action.
#[derive(Clone, Debug, PartialEq)]
pub struct AuditRecord {
    pub ts_ms: i64,
    pub user: String,
    pub workstation: String,
    /// `write`, later `login`, `logout`, ...
    pub action: String,
    pub tag: String,
    pub device: String,
    /// e.g. `holding 100`.
    pub address: String,
    pub old_value: Option<String>,
    pub requested: Option<String>,
    pub readback: Option<String>,
    /// `confirmed`, `mismatch`, `exception`, `timeout`, `not_connected`, `rejected`, ...
    pub result: String,
    /// What the operator was told.
    pub detail: String,
}

pub fn audit_path(data_dir: &Path) -> PathBuf {
    data_dir.join("audit.sqlite")
}

/// The OS user (until login exists).
pub fn operator_name() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "operator".to_owned())
}

/// This machine's name.
pub fn workstation_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .unwrap_or_else(|| "unknown".to_owned())
}

pub struct AuditLog {
    conn: Connection,
}

impl AuditLog {
    pub fn open(path: &Path) -> rusqlite::Result<Self> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(2))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute_batch(SCHEMA)?;
        Ok(Self { conn })
    }

    /// Append one record (committed when this returns).
    pub fn record(&self, r: &AuditRecord) -> rusqlite::Result<i64> {
        self.conn.execute(
            "INSERT INTO audit (ts, user, workstation, action, tag, device, address, old_value,
             requested, readback, result, detail)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                r.ts_ms,
                r.user,
                r.workstation,
                r.action,
                r.tag,
                r.device,
                r.address,
                r.old_value,
                r.requested,
                r.readback,
                r.result,
                r.detail
            ],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// The newest `limit` records, optionally of one tag, newest first.
    pub fn recent(&self, tag: Option<&str>, limit: usize) -> rusqlite::Result<Vec<AuditRecord>> {
        let mut stmt = self.conn.prepare(
            "SELECT ts, user, workstation, action, tag, device, address, old_value, requested,
             readback, result, detail FROM audit
             WHERE (?1 IS NULL OR tag = ?1) ORDER BY id DESC LIMIT ?2",
        )?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        stmt.query_map(params![tag, limit], |row| {
            Ok(AuditRecord {
                ts_ms: row.get(0)?,
                user: row.get(1)?,
                workstation: row.get(2)?,
                action: row.get(3)?,
                tag: row.get(4)?,
                device: row.get(5)?,
                address: row.get(6)?,
                old_value: row.get(7)?,
                requested: row.get(8)?,
                readback: row.get(9)?,
                result: row.get(10)?,
                detail: row.get(11)?,
            })
        })?
        .collect()
    }
}
