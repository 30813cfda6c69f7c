//! Roles, the actions they allow, the actor that every engine command carries, and the
//! project's `security` settings. Pure data and rules: no I/O, no egui.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What a user may do, from least to most. Each role includes everything the roles before it
/// may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Looks: screens, trends, alarms, history.
    Viewer,
    /// Acknowledges, resets and shelves alarms (within the operator shelve limit), writes
    /// setpoints and command topics.
    Operator,
    /// Edits screens and the project, changes alarm limits, takes alarms out of service.
    Engineer,
    /// Manages users.
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Operator, Role::Engineer, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Engineer => "engineer",
            Role::Admin => "admin",
        }
    }

    /// The least role that may do `action`.
    pub fn needed_for(action: Action) -> Role {
        match action {
            Action::View => Role::Viewer,
            Action::AckAlarm
            | Action::ResetAlarm
            | Action::ShelveAlarm
            | Action::UnshelveAlarm
            | Action::WriteSetpoint
            | Action::Publish => Role::Operator,
            Action::SetOutOfService | Action::EditProject | Action::ChangeAlarmLimits => {
                Role::Engineer
            }
            Action::ManageUsers => Role::Admin,
        }
    }

    pub fn allows(self, action: Action) -> bool {
        self >= Role::needed_for(action)
    }

    /// Longest shelve this role may set, in seconds (`None`: may not shelve).
    pub fn max_shelve_s(self, settings: &SecuritySettings) -> Option<u32> {
        match self {
            Role::Viewer => None,
            Role::Operator => Some(
                settings
                    .operator_max_shelve_s
                    .min(crate::alarms::MAX_SHELVE_S),
            ),
            Role::Engineer | Role::Admin => Some(crate::alarms::MAX_SHELVE_S),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown role `{s}` (viewer, operator, engineer or admin)"))
    }
}

/// Something a user may or may not do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    View,
    AckAlarm,
    ResetAlarm,
    ShelveAlarm,
    UnshelveAlarm,
    SetOutOfService,
    WriteSetpoint,
    /// Publish on an MQTT command topic.
    Publish,
    EditProject,
    ChangeAlarmLimits,
    ManageUsers,
}

impl Action {
    /// Short name for the audit trail (`write`, `alarm_ack`, ...).
    pub fn audit_name(self) -> &'static str {
        match self {
            Action::View => "view",
            Action::AckAlarm => "alarm_ack",
            Action::ResetAlarm => "alarm_reset",
            Action::ShelveAlarm => "alarm_shelve",
            Action::UnshelveAlarm => "alarm_unshelve",
            Action::SetOutOfService => "alarm_out_of_service",
            Action::WriteSetpoint => "write",
            Action::Publish => "publish",
            Action::EditProject => "edit_project",
            Action::ChangeAlarmLimits => "alarm_limits",
            Action::ManageUsers => "manage_users",
        }
    }
}

impl fmt::Display for Action {
    /// Reads after "may not": `write setpoints`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Action::View => "view the plant",
            Action::AckAlarm => "acknowledge alarms",
            Action::ResetAlarm => "reset alarms",
            Action::ShelveAlarm => "shelve alarms",
            Action::UnshelveAlarm => "unshelve alarms",
            Action::SetOutOfService => "take alarms out of service",
            Action::WriteSetpoint => "write setpoints",
            Action::Publish => "publish to command topics",
            Action::EditProject => "edit the project",
            Action::ChangeAlarmLimits => "change alarm limits",
            Action::ManageUsers => "manage users",
        })
    }
}

/// Who sends a command: the user and the role they act in. `role: None` is open mode (the
/// project needs no login; the OS user is named in the audit trail).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub user: String,
    pub role: Option<Role>,
}

impl Actor {
    /// The OS user, with no login (allowed everything when the project's login is `open`,
    /// refused everything when it is `required`).
    pub fn open_mode() -> Self {
        Self {
            user: super::operator_name(),
            role: None,
        }
    }

    /// A logged-in user acting in `role`.
    pub fn new(user: impl Into<String>, role: Role) -> Self {
        Self {
            user: user.into(),
            role: Some(role),
        }
    }

    /// `open` or the role name, for the audit trail.
    pub fn role_name(&self) -> &'static str {
        self.role.map_or("open", Role::as_str)
    }
}

/// A logged-in user (from [`crate::security::Users::verify`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub user: String,
    pub role: Role,
}

impl Session {
    pub fn actor(&self) -> Actor {
        Actor::new(self.user.clone(), self.role)
    }

    pub fn allows(&self, action: Action) -> bool {
        self.role.allows(action)
    }
}

/// Whether the project asks who is at the keyboard.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoginMode {
    /// No login: everyone may do everything; the audit trail names the OS user (demo mode).
    #[default]
    Open,
    /// Users log in; what they may do follows their role.
    Required,
}

/// `project.json` → `security`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecuritySettings {
    #[serde(default)]
    pub login: LoginMode,
    /// Lock the workstation after this many seconds without input (0 = never).
    #[serde(
        default = "default_lock_after",
        skip_serializing_if = "is_default_lock_after"
    )]
    pub lock_after_s: u32,
    /// Longest shelve an operator may set (engineers and admins: the alarm system's limit).
    #[serde(
        default = "default_operator_shelve",
        skip_serializing_if = "is_default_operator_shelve"
    )]
    pub operator_max_shelve_s: u32,
}

impl Default for SecuritySettings {
    fn default() -> Self {
        Self {
            login: LoginMode::Open,
            lock_after_s: default_lock_after(),
            operator_max_shelve_s: default_operator_shelve(),
        }
    }
}

impl SecuritySettings {
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

fn default_lock_after() -> u32 {
    900
}

fn is_default_lock_after(v: &u32) -> bool {
    *v == default_lock_after()
}

fn default_operator_shelve() -> u32 {
    crate::alarms::MAX_SHELVE_S
}

fn is_default_operator_shelve(v: &u32) -> bool {
    *v == default_operator_shelve()
}

/// Why a command was refused (the text starts with `refused:`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("refused: {0}")]
pub struct Refusal(pub String);

/// May `actor` do `action` under `settings`?
pub fn authorize(
    settings: &SecuritySettings,
    actor: &Actor,
    action: Action,
) -> Result<(), Refusal> {
    match (actor.role, settings.login) {
        (None, LoginMode::Open) => Ok(()),
        (None, LoginMode::Required) => Err(Refusal(format!(
            "this project requires login; {} is not logged in",
            actor.user
        ))),
        (Some(role), _) if role.allows(action) => Ok(()),
        (Some(role), _) => Err(Refusal(format!("role {role} may not {action}"))),
    }
}

/// May `actor` shelve for `seconds` (`None`: one-shot, until the condition clears)?
pub fn authorize_shelve(
    settings: &SecuritySettings,
    actor: &Actor,
    seconds: Option<u32>,
) -> Result<(), Refusal> {
    authorize(settings, actor, Action::ShelveAlarm)?;
    let Some(role) = actor.role else {
        return Ok(());
    };
    match (role.max_shelve_s(settings), seconds) {
        (Some(max), Some(s)) if s > max => Err(Refusal(format!(
            "role {role} may shelve for at most {max} s, not {s} s"
        ))),
        (Some(_), _) => Ok(()),
        (None, _) => Err(Refusal(format!("role {role} may not shelve alarms"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_cumulative() {
        assert!(!Role::Viewer.allows(Action::WriteSetpoint));
        assert!(Role::Operator.allows(Action::WriteSetpoint));
        assert!(!Role::Operator.allows(Action::EditProject));
        assert!(Role::Engineer.allows(Action::ChangeAlarmLimits));
        assert!(!Role::Engineer.allows(Action::ManageUsers));
        assert!(Role::Admin.allows(Action::ManageUsers));
    }

    #[test]
    fn refusal_text_names_role_and_action() {
        let s = SecuritySettings::default();
        let e = authorize(&s, &Actor::new("v", Role::Viewer), Action::WriteSetpoint);
        assert_eq!(
            e.map_err(|e| e.to_string()),
            Err("refused: role viewer may not write setpoints".to_owned())
        );
    }

    #[test]
    fn open_mode_is_refused_when_login_is_required() {
        let s = SecuritySettings {
            login: LoginMode::Required,
            ..Default::default()
        };
        assert!(authorize(&s, &Actor::open_mode(), Action::View).is_err());
        assert!(
            authorize(
                &SecuritySettings::default(),
                &Actor::open_mode(),
                Action::ManageUsers
            )
            .is_ok()
        );
    }
}
