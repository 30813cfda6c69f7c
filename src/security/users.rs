//! The users file `<project>/users.json`: names, roles and argon2id password hashes, kept beside
//! the project (never inside `project.json`), written atomically with mode 0600 and git-ignored
//! when first created. Password checks with a per-user delay after repeated failures.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use super::{Role, Session};

/// The users file's name in the project folder.
pub const USERS_FILE: &str = "users.json";
/// Failed logins per user before each further failure locks the user out for a while.
pub const FREE_FAILURES: u32 = 3;
/// The first lockout; each further failure doubles it, up to [`MAX_LOCKOUT`].
pub const FIRST_LOCKOUT: Duration = Duration::from_secs(1);
pub const MAX_LOCKOUT: Duration = Duration::from_secs(300);
/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// A users file larger than this is refused unread.
const MAX_FILE_BYTES: u64 = 1 << 20;
/// Users whose failures are remembered at most (names tried need not exist).
const MAX_TRACKED: usize = 4096;

#[derive(Debug, thiserror::Error)]
pub enum UsersError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {why}")]
    Invalid { path: PathBuf, why: String },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("user `{0}` already exists")]
    Exists(String),
    #[error("no user `{0}`")]
    Unknown(String),
    #[error("user name {0}")]
    BadName(&'static str),
    #[error("the password must have at least {MIN_PASSWORD_CHARS} characters")]
    ShortPassword,
    #[error("`{0}` is the last admin; add another admin first")]
    LastAdmin(String),
    #[error("cannot hash the password: {0}")]
    Hash(String),
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LoginError {
    #[error("wrong user name or password")]
    Invalid,
    #[error("too many failed logins for `{user}`: try again in {} s", retry_after.as_secs().max(1))]
    TooManyAttempts { user: String, retry_after: Duration },
    #[error("the password could not be checked: {0}")]
    Internal(String),
}

/// One user as listed (no hash).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserInfo {
    pub name: String,
    pub role: Role,
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    name: String,
    role: Role,
    /// PHC string, `$argon2id$v=19$...`.
    hash: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct UsersFile {
    format: u32,
    users: Vec<Entry>,
}

#[derive(Default)]
struct Failures {
    count: u32,
    locked_until: Option<Instant>,
}

/// The users of one project. Cheap to keep for the whole session (the failed-login counters
/// live here, in memory).
pub struct Users {
    path: PathBuf,
    entries: Vec<Entry>,
    failures: Mutex<HashMap<String, Failures>>,
}

impl std::fmt::Debug for Users {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Names and roles only, never a hash.
        f.debug_struct("Users")
            .field("path", &self.path)
            .field("users", &self.list())
            .finish_non_exhaustive()
    }
}

/// `<project>/users.json`.
pub fn users_path(project_dir: &Path) -> PathBuf {
    project_dir.join(USERS_FILE)
}

impl Users {
    /// Read `<project_dir>/users.json`; no file means no users yet.
    pub fn load(project_dir: &Path) -> Result<Self, UsersError> {
        let path = users_path(project_dir);
        let read_err = |source| UsersError::Read {
            path: path.clone(),
            source,
        };
        let entries = match std::fs::metadata(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(read_err(e)),
            Ok(m) if m.len() > MAX_FILE_BYTES => {
                return Err(UsersError::Invalid {
                    path,
                    why: format!("file is {} bytes, more than {MAX_FILE_BYTES}", m.len()),
                });
            }
            Ok(m) => {
                warn_if_readable_by_others(&path, &m);
                let text = std::fs::read_to_string(&path).map_err(read_err)?;
                let file: UsersFile =
                    serde_json::from_str(&text).map_err(|e| UsersError::Invalid {
                        path: path.clone(),
                        why: e.to_string(),
                    })?;
                if file.format != 1 {
                    return Err(UsersError::Invalid {
                        path,
                        why: format!("unsupported format {}", file.format),
                    });
                }
                for e in &file.users {
                    if !e.hash.starts_with("$argon2id$") || PasswordHash::new(&e.hash).is_err() {
                        return Err(UsersError::Invalid {
                            path,
                            why: format!("user `{}`: not an argon2id password hash", e.name),
                        });
                    }
                }
                file.users
            }
        };
        Ok(Self {
            path,
            entries,
            failures: Mutex::new(HashMap::new()),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// True while no admin exists: the GUI asks for the first admin before anything else.
    pub fn needs_first_admin(&self) -> bool {
        !self.entries.iter().any(|e| e.role == Role::Admin)
    }

    pub fn list(&self) -> Vec<UserInfo> {
        self.entries
            .iter()
            .map(|e| UserInfo {
                name: e.name.clone(),
                role: e.role,
            })
            .collect()
    }

    pub fn role_of(&self, name: &str) -> Option<Role> {
        self.entries.iter().find(|e| e.name == name).map(|e| e.role)
    }

    /// Check a password. After [`FREE_FAILURES`] failures in a row a user is locked out for
    /// [`FIRST_LOCKOUT`], doubling with each further failure; while locked out the password is
    /// not even checked. Unknown names cost the same time as known ones.
    pub fn verify(&self, name: &str, password: &str) -> Result<Session, LoginError> {
        let now = Instant::now();
        if let Some(until) = self.failures.lock().get(name).and_then(|f| f.locked_until)
            && until > now
        {
            return Err(LoginError::TooManyAttempts {
                user: name.to_owned(),
                retry_after: until - now,
            });
        }
        let entry = self.entries.iter().find(|e| e.name == name);
        let hash = entry.map_or_else(|| dummy_hash().as_str(), |e| e.hash.as_str());
        let ok = check(hash, password)? && entry.is_some();
        let mut failures = self.failures.lock();
        match entry {
            Some(e) if ok => {
                failures.remove(name);
                Ok(Session {
                    user: e.name.clone(),
                    role: e.role,
                })
            }
            _ => {
                if failures.len() >= MAX_TRACKED {
                    failures.retain(|_, f| f.locked_until.is_some_and(|u| u > now));
                    if failures.len() >= MAX_TRACKED {
                        failures.clear();
                    }
                }
                let f = failures.entry(name.to_owned()).or_default();
                f.count += 1;
                if f.count >= FREE_FAILURES {
                    let doublings = (f.count - FREE_FAILURES).min(16);
                    let lockout = FIRST_LOCKOUT
                        .saturating_mul(1 << doublings)
                        .min(MAX_LOCKOUT);
                    f.locked_until = Some(now + lockout);
                }
                Err(LoginError::Invalid)
            }
        }
    }

    /// Add a user (not saved until [`Self::save`]).
    pub fn add(&mut self, name: &str, role: Role, password: &str) -> Result<(), UsersError> {
        check_name(name)?;
        if self.entries.iter().any(|e| e.name == name) {
            return Err(UsersError::Exists(name.to_owned()));
        }
        let hash = hash_password(password)?;
        self.entries.push(Entry {
            name: name.to_owned(),
            role,
            hash,
        });
        Ok(())
    }

    /// Remove a user; the last admin stays. Returns the removed user's role.
    pub fn remove(&mut self, name: &str) -> Result<Role, UsersError> {
        let i = self.index(name)?;
        self.keep_an_admin(name, None)?;
        Ok(self.entries.remove(i).role)
    }

    pub fn set_password(&mut self, name: &str, password: &str) -> Result<(), UsersError> {
        let i = self.index(name)?;
        self.entries[i].hash = hash_password(password)?;
        self.failures.lock().remove(name);
        Ok(())
    }

    /// Change a user's role; the last admin stays an admin. Returns the old role.
    pub fn set_role(&mut self, name: &str, role: Role) -> Result<Role, UsersError> {
        let i = self.index(name)?;
        self.keep_an_admin(name, Some(role))?;
        Ok(std::mem::replace(&mut self.entries[i].role, role))
    }

    /// Write the file atomically with mode 0600; the first time, also add `users.json` to the
    /// project folder's `.gitignore`.
    pub fn save(&self) -> Result<(), UsersError> {
        let write_err = |source| UsersError::Write {
            path: self.path.clone(),
            source,
        };
        let created = !self.path.exists();
        let file = UsersFile {
            format: 1,
            users: self.entries.clone(),
        };
        let mut text =
            serde_json::to_string_pretty(&file).map_err(|e| write_err(std::io::Error::other(e)))?;
        text.push('\n');
        write_private(&self.path, text.as_bytes()).map_err(write_err)?;
        if created && let Some(dir) = self.path.parent() {
            ignore_in_git(dir).map_err(|source| UsersError::Write {
                path: dir.join(".gitignore"),
                source,
            })?;
        }
        Ok(())
    }

    fn index(&self, name: &str) -> Result<usize, UsersError> {
        self.entries
            .iter()
            .position(|e| e.name == name)
            .ok_or_else(|| UsersError::Unknown(name.to_owned()))
    }

    fn keep_an_admin(&self, name: &str, new_role: Option<Role>) -> Result<(), UsersError> {
        let admins = self
            .entries
            .iter()
            .filter(|e| e.role == Role::Admin)
            .count();
        let is_admin = self.role_of(name) == Some(Role::Admin);
        if is_admin && admins == 1 && new_role != Some(Role::Admin) {
            return Err(UsersError::LastAdmin(name.to_owned()));
        }
        Ok(())
    }
}

fn check_name(name: &str) -> Result<(), UsersError> {
    if name.is_empty() {
        return Err(UsersError::BadName("must not be empty"));
    }
    if name.chars().count() > 64 {
        return Err(UsersError::BadName("must have at most 64 characters"));
    }
    if name.trim() != name || name.chars().any(char::is_control) {
        return Err(UsersError::BadName(
            "must not start or end with spaces or contain control characters",
        ));
    }
    Ok(())
}

/// An argon2id PHC string (default parameters: 19 MiB, 2 passes) with a random salt.
pub fn hash_password(password: &str) -> Result<String, UsersError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(UsersError::ShortPassword);
    }
    let mut salt = [0u8; 16];
    rand::TryRngCore::try_fill_bytes(&mut rand::rngs::OsRng, &mut salt)
        .map_err(|e| UsersError::Hash(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| UsersError::Hash(e.to_string()))?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| UsersError::Hash(e.to_string()))
}

fn check(hash: &str, password: &str) -> Result<bool, LoginError> {
    let parsed = PasswordHash::new(hash).map_err(|e| LoginError::Internal(e.to_string()))?;
    match argon2::Argon2::default().verify_password(password.as_bytes(), &parsed) {
        Ok(()) => Ok(true),
        Err(argon2::password_hash::Error::Password) => Ok(false),
        Err(e) => Err(LoginError::Internal(e.to_string())),
    }
}

/// A hash no password matches by chance, checked for unknown names so they take as long.
fn dummy_hash() -> &'static String {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        hash_password("plantview-no-such-user").unwrap_or_else(|_| {
            // Any valid argon2id string; only the time spent on it matters.
            "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG".to_owned()
        })
    })
}

/// Temporary file created 0600, fsync, rename, fsync the folder.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(".{USERS_FILE}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut f = options.open(&tmp)?;
        #[cfg(unix)]
        {
            // An old temporary file keeps its mode; make sure.
            use std::os::unix::fs::PermissionsExt as _;
            f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Add `users.json` to `<dir>/.gitignore` unless it is listed.
fn ignore_in_git(dir: &Path) -> std::io::Result<()> {
    let path = dir.join(".gitignore");
    let old = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e),
    };
    if old
        .lines()
        .any(|l| matches!(l.trim(), "users.json" | "/users.json"))
    {
        return Ok(());
    }
    let mut text = old;
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str("# user names and password hashes: never in git\n/users.json\n");
    crate::project::write_atomic(&path, text.as_bytes())
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path, meta: &std::fs::Metadata) {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        tracing::warn!(
            "{} is readable by others (mode {mode:o}); it should be 0600",
            path.display()
        );
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_path: &Path, _meta: &std::fs::Metadata) {}
