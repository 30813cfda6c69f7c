//! The audit trail: every write attempt (time, user, workstation, tag, device, address, old,
//! requested and read-back values, result), every refused command, logins, logouts, failed
//! logins and user changes, in `audit.sqlite` with `synchronous=FULL`, committed before the
//! result is reported.
//!
//! Schema: the original columns, plus `role` (added to older files on open; `NULL` in rows
//! written before). `action` says what was tried (`write`, `alarm_ack`, `login`, `user_add`,
//! ...), `result` how it ended (`confirmed`, `refused`, `ok`, `failed`, `locked`, ...).

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
    /// `write`, `publish`, `alarm_ack`, `alarm_shelve`, ..., `login`, `logout`, `user_add`,
    /// `user_remove`, `user_passwd`, `user_role`.
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
    /// The role the user acted in (`open` without login); `None` in rows from older versions.
    pub role: Option<String>,
}

impl AuditRecord {
    /// A record of something other than a write: no tag, device or values.
    pub fn event(
        user: &str,
        role: Option<&str>,
        action: &str,
        result: &str,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            ts_ms: crate::engine::now_ms(),
            user: user.to_owned(),
            workstation: workstation_name(),
            action: action.to_owned(),
            tag: String::new(),
            device: String::new(),
            address: String::new(),
            old_value: None,
            requested: None,
            readback: None,
            result: result.to_owned(),
            detail: detail.into(),
            role: role.map(str::to_owned),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("cannot create the data folder {path}: {source}")]
    Dir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write the audit trail {path}: {source}")]
    Db {
        path: PathBuf,
        source: rusqlite::Error,
    },
}

/// Append one record to the audit trail in `data_dir` (creating the folder and file);
/// committed when this returns.
pub fn append(data_dir: &Path, record: &AuditRecord) -> Result<(), AuditError> {
    std::fs::create_dir_all(data_dir).map_err(|source| AuditError::Dir {
        path: data_dir.to_owned(),
        source,
    })?;
    let path = audit_path(data_dir);
    AuditLog::open(&path)
        .and_then(|log| log.record(record))
        .map(|_| ())
        .map_err(|source| AuditError::Db { path, source })
}

/// Record a logout (`why`: `logout`, `locked after 900 s without input`, ...).
pub fn record_logout(
    data_dir: &Path,
    session: &super::Session,
    why: &str,
) -> Result<(), AuditError> {
    append(
        data_dir,
        &AuditRecord::event(
            &session.user,
            Some(session.role.as_str()),
            "logout",
            "ok",
            why,
        ),
    )
}

/// Record a successful login.
pub fn record_login(data_dir: &Path, session: &super::Session) -> Result<(), AuditError> {
    append(
        data_dir,
        &AuditRecord::event(
            &session.user,
            Some(session.role.as_str()),
            "login",
            "ok",
            format!("logged in as {}", session.role),
        ),
    )
}

/// Record a failed login (`result` is `locked` while the user is locked out, else `failed`).
pub fn record_failed_login(
    data_dir: &Path,
    user: &str,
    error: &super::LoginError,
) -> Result<(), AuditError> {
    let result = match error {
        super::LoginError::TooManyAttempts { .. } => "locked",
        _ => "failed",
    };
    append(
        data_dir,
        &AuditRecord::event(user, None, "login", result, error.to_string()),
    )
}

pub fn audit_path(data_dir: &Path) -> PathBuf {
    data_dir.join("audit.sqlite")
}

/// The OS user (named in the audit trail when the project needs no login).
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
        // Files from before roles get the column; another process may add it at the same time.
        let has_role = conn
            .prepare("SELECT 1 FROM pragma_table_info('audit') WHERE name = 'role'")?
            .exists([])?;
        if !has_role
            && let Err(e) = conn.execute_batch("ALTER TABLE audit ADD COLUMN role TEXT")
            && !e.to_string().contains("duplicate column")
        {
            return Err(e);
        }
        Ok(Self { conn })
    }

    /// Append one record (committed when this returns).
    pub fn record(&self, r: &AuditRecord) -> rusqlite::Result<i64> {
        self.conn.execute(
            "INSERT INTO audit (ts, user, workstation, action, tag, device, address, old_value,
             requested, readback, result, detail, role)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
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
                r.detail,
                r.role
            ],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// The newest `limit` records, optionally of one tag, newest first.
    pub fn recent(&self, tag: Option<&str>, limit: usize) -> rusqlite::Result<Vec<AuditRecord>> {
        let mut stmt = self.conn.prepare(
            "SELECT ts, user, workstation, action, tag, device, address, old_value, requested,
             readback, result, detail, role FROM audit
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
                role: row.get(12)?,
            })
        })?
        .collect()
    }
}
