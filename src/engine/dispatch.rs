//! The command loop: checks each command's actor against the project's security settings
//! (refusals are answered and audited), then publishes, writes or hands alarm actions to the
//! alarm engine.

use std::sync::Arc;

use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;

use super::devices::{Writes, audit};
use super::{Command, EngineEvent, command};

/// Where commands go, and the rules they pass first.
pub(super) struct Outlets {
    pub(super) security: crate::security::SecuritySettings,
    pub(super) publisher: crate::mqtt::SubscriberHandle,
    pub(super) writes: Writes,
    pub(super) alarms: Option<crate::alarms::AlarmCommander>,
}

pub(super) async fn command_loop(
    mut rx: mpsc::Receiver<Command>,
    outlets: Outlets,
    events: broadcast::Sender<EngineEvent>,
    shutdown: CancellationToken,
) {
    let Outlets {
        security,
        publisher,
        writes,
        alarms,
    } = outlets;
    let writes = Arc::new(writes);
    loop {
        let command = tokio::select! {
            () = shutdown.cancelled() => break,
            c = rx.recv() => match c { Some(c) => c, None => break },
        };
        if let Err(refusal) = command.authorize(&security) {
            let events = events.clone();
            let path = writes.audit_path.clone();
            tokio::spawn(async move {
                let id = command.id();
                let mut why = refusal.to_string();
                tracing::warn!(user = %command.actor().user, "{why}");
                if let Some(e) = audit(path, refusal_record(&command, &why)).await {
                    tracing::error!("{e}");
                    why = format!("{why} ({e})");
                }
                let _ = events.send(EngineEvent::CommandResult {
                    id,
                    result: Err(why),
                });
            });
            continue;
        }
        match command {
            Command::Publish {
                id,
                topic,
                payload,
                retain,
                actor: _,
            } => {
                let result = publisher
                    .publish(&topic, rumqttc::QoS::AtLeastOnce, retain, payload)
                    .await
                    .map(|()| format!("published to {topic}"))
                    .map_err(|e| format!("publish to {topic} failed: {e}"));
                let _ = events.send(EngineEvent::CommandResult { id, result });
            }
            Command::WriteSetpoint {
                id,
                tag,
                value,
                actor,
            } => {
                let writes = writes.clone();
                let events = events.clone();
                tokio::spawn(async move {
                    let (outcome, audit_error) = writes.write(&tag, value, &actor).await;
                    tracing::info!(%tag, value, user = %actor.user, result = %outcome, "setpoint write");
                    if let Some(e) = audit_error {
                        // The operator must know the write is not on record.
                        let _ = events.send(EngineEvent::CommandResult { id, result: Err(e) });
                    }
                    let _ = events.send(EngineEvent::WriteResult { id, tag, outcome });
                });
            }
            Command::Alarm { id, actor, command } => {
                let events = events.clone();
                let alarms = alarms.clone();
                tokio::spawn(async move {
                    let command = command::with_user(command, &actor.user);
                    let result = match alarms {
                        None => Err("this project has no alarms (or they are off)".to_owned()),
                        Some(alarms) => {
                            tokio::task::spawn_blocking(move || alarms.execute(command))
                                .await
                                .map_err(|e| format!("the alarm task failed: {e}"))
                                .and_then(|r| r.map_err(|e| e.to_string()))
                                .map(|done| format!("{} alarm event(s) journaled", done.len()))
                        }
                    };
                    let _ = events.send(EngineEvent::CommandResult { id, result });
                });
            }
        }
    }
}

/// The audit record of a refused command.
fn refusal_record(command: &Command, why: &str) -> crate::security::AuditRecord {
    let actor = command.actor();
    let mut record = crate::security::AuditRecord::event(
        &actor.user,
        Some(actor.role_name()),
        command.action().audit_name(),
        "refused",
        why,
    );
    record.tag = command.subject();
    match command {
        Command::WriteSetpoint { value, .. } => record.requested = Some(value.to_string()),
        Command::Publish { payload, .. } => {
            record.requested = Some(String::from_utf8_lossy(payload).chars().take(200).collect());
        }
        Command::Alarm { .. } => {}
    }
    record
}
