//! Security: users and roles (`users.json` beside the project, argon2id hashes), what each role
//! may do, the actor every engine command carries, login rate limiting, and the audit trail.
//! No egui here.
//!
//! Modes (`project.json` → `security.login`):
//! - `open` (default, the demo): no login; commands carry [`Actor::open_mode`] (the OS user, no
//!   role) and everything is allowed; the audit trail names the OS user with role `open`.
//! - `required`: the GUI logs a user in ([`Users::login`]) and sends commands with
//!   [`Session::actor`]; the engine refuses what the role does not allow (and anything sent
//!   without a session) and audits each refusal.

mod audit;
mod roles;
mod users;

pub use audit::{
    AuditError, AuditLog, AuditRecord, append, audit_path, operator_name, record_failed_login,
    record_login, record_logout, workstation_name,
};
pub use roles::{
    Action, Actor, LoginMode, Refusal, Role, SecuritySettings, Session, authorize, authorize_shelve,
};
pub use users::{
    FIRST_LOCKOUT, FREE_FAILURES, LoginError, MAX_LOCKOUT, MIN_PASSWORD_CHARS, USERS_FILE,
    UserInfo, Users, UsersError, hash_password, users_path,
};

impl Users {
    /// [`Users::verify`], and the outcome (login, failed login, lockout) in the audit trail of
    /// `data_dir`. An audit trail that cannot be written is logged and does not block a login.
    pub fn login(
        &self,
        data_dir: &std::path::Path,
        name: &str,
        password: &str,
    ) -> Result<Session, LoginError> {
        let result = self.verify(name, password);
        let audited = match &result {
            Ok(session) => record_login(data_dir, session),
            Err(e) => record_failed_login(data_dir, name, e),
        };
        if let Err(e) = audited {
            tracing::error!("login of `{name}` not audited: {e}");
        }
        result
    }
}
