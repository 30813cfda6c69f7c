//! Commands (GUI/CLI → engine) and the events that answer them (engine → GUI).

use crate::mqtt::ConnState;

/// Identifies a command so its result can be matched to it.
pub type CommandId = u64;

/// Everything that flows out to the plant or changes engine state.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Publish on the engine's MQTT connection (an MQTT command topic).
    Publish {
        id: CommandId,
        topic: String,
        payload: Vec<u8>,
        retain: bool,
    },
    /// Write a setpoint to the tag's device (checked against its limits first; nothing is
    /// sent when it is out of range), read it back, and audit the attempt.
    WriteSetpoint {
        id: CommandId,
        tag: String,
        value: f64,
        user: String,
    },
}

/// What the engine reports back.
#[derive(Clone, Debug, PartialEq)]
pub enum EngineEvent {
    /// The MQTT connection changed state.
    Broker(ConnState),
    /// A command finished: `Ok(summary)` or `Err(why)` for the operator.
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
