//! Commands (GUI/CLI → engine) and the events that answer them (engine → GUI).
//!
//! Every command carries its [`Actor`] (user and role); the engine refuses what the role may
//! not do, answers `CommandResult { Err("refused: ...") }` and audits the refusal.

use crate::alarms::AlarmCommand;
use crate::mqtt::ConnState;
use crate::security::{Action, Actor, Refusal, SecuritySettings};

/// Identifies a command so its result can be matched to it.
pub type CommandId = u64;

/// Everything that flows out to the plant or changes engine state.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Publish on the engine's MQTT connection (an MQTT command topic). Operator and up.
    Publish {
        id: CommandId,
        topic: String,
        payload: Vec<u8>,
        retain: bool,
        actor: Actor,
    },
    /// Write a setpoint to the tag's device (checked against its limits first; nothing is
    /// sent when it is out of range), read it back, and audit the attempt. Operator and up.
    WriteSetpoint {
        id: CommandId,
        tag: String,
        value: f64,
        actor: Actor,
    },
    /// An alarm action (acknowledge, reset, shelve, unshelve: operator and up, shelving no
    /// longer than the role's limit; out of service: engineer and up). The user names inside
    /// `command` are replaced by the actor's. Answered by `CommandResult` once journaled.
    Alarm {
        id: CommandId,
        actor: Actor,
        command: AlarmCommand,
    },
}

impl Command {
    pub fn id(&self) -> CommandId {
        match self {
            Command::Publish { id, .. }
            | Command::WriteSetpoint { id, .. }
            | Command::Alarm { id, .. } => *id,
        }
    }

    pub fn actor(&self) -> &Actor {
        match self {
            Command::Publish { actor, .. }
            | Command::WriteSetpoint { actor, .. }
            | Command::Alarm { actor, .. } => actor,
        }
    }

    /// What the command does, for the role check.
    pub fn action(&self) -> Action {
        match self {
            Command::Publish { .. } => Action::Publish,
            Command::WriteSetpoint { .. } => Action::WriteSetpoint,
            Command::Alarm { command, .. } => match command {
                AlarmCommand::Ack { .. } => Action::AckAlarm,
                AlarmCommand::Reset { .. } => Action::ResetAlarm,
                AlarmCommand::Shelve { .. } => Action::ShelveAlarm,
                AlarmCommand::Unshelve { .. } => Action::UnshelveAlarm,
                AlarmCommand::SetOutOfService { .. } => Action::SetOutOfService,
            },
        }
    }

    /// What it acts on: the tag, topic or alarm names (for the audit trail).
    pub fn subject(&self) -> String {
        match self {
            Command::Publish { topic, .. } => topic.clone(),
            Command::WriteSetpoint { tag, .. } => tag.clone(),
            Command::Alarm { command, .. } => match command {
                AlarmCommand::Ack { names, .. } | AlarmCommand::Reset { names, .. } => {
                    names.join(", ")
                }
                AlarmCommand::Shelve { name, .. }
                | AlarmCommand::Unshelve { name, .. }
                | AlarmCommand::SetOutOfService { name, .. } => name.clone(),
            },
        }
    }

    /// May the command's actor do it under the project's settings?
    pub fn authorize(&self, settings: &SecuritySettings) -> Result<(), Refusal> {
        match self {
            Command::Alarm {
                actor,
                command: AlarmCommand::Shelve { shelve_for, .. },
                ..
            } => {
                let seconds = match shelve_for {
                    crate::alarms::ShelveFor::Seconds(s) => Some(*s),
                    crate::alarms::ShelveFor::OneShot => None,
                };
                crate::security::authorize_shelve(settings, actor, seconds)
            }
            other => crate::security::authorize(settings, other.actor(), other.action()),
        }
    }
}

/// `command` with every user name set to `user` (the journal names who acted).
pub(super) fn with_user(mut command: AlarmCommand, user: &str) -> AlarmCommand {
    match &mut command {
        AlarmCommand::Ack { user: u, .. }
        | AlarmCommand::Reset { user: u, .. }
        | AlarmCommand::Shelve { user: u, .. }
        | AlarmCommand::Unshelve { user: u, .. }
        | AlarmCommand::SetOutOfService { user: u, .. } => user.clone_into(u),
    }
    command
}

/// What the engine reports back.
#[derive(Clone, Debug, PartialEq)]
pub enum EngineEvent {
    /// The MQTT connection changed state.
    Broker(ConnState),
    /// A command finished: `Ok(summary)` or `Err(why)` for the operator. A refused command
    /// answers `Err("refused: ...")`.
    CommandResult {
        id: CommandId,
        result: Result<String, String>,
    },
    /// A setpoint write finished (already in the audit trail).
    WriteResult {
        id: CommandId,
        tag: String,
        outcome: crate::modbus::WriteOutcome,
    },
}
