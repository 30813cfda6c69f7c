//! Modbus in the engine: poll groups feeding the tag store (and MQTT, as a bridge) and
//! setpoint writes with their audit record.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::project::Project;

use super::{Quality, TagId, TagStore, Value, now_ms};

/// Poll one group of tags every `period`; a failed read turns the tag bad with the reason, the
/// next good read turns it good. Values with `publish` also go to MQTT (the edge bridge).
pub(super) async fn poll_group(
    device: crate::modbus::DeviceHandle,
    period: Duration,
    members: Vec<(TagId, crate::project::TagPoll)>,
    store: Arc<TagStore>,
    publisher: crate::mqtt::SubscriberHandle,
    shutdown: CancellationToken,
) {
    use crate::modbus::{ReadData, ReadKind};
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            _ = tick.tick() => {}
        }
        for (id, p) in &members {
            let count = match p.kind {
                ReadKind::Coils | ReadKind::DiscreteInputs => 1,
                ReadKind::HoldingRegisters | ReadKind::InputRegisters => {
                    p.encoding.data_type.register_count()
                }
            };
            let read = device.read(p.kind, p.address, count).await;
            let now = now_ms();
            let value = match read {
                Ok(ReadData::Registers(words)) => p
                    .encoding
                    .decode(&words)
                    .map(Value::Number)
                    .map_err(|e| e.to_string()),
                Ok(ReadData::Bits(bits)) => bits
                    .first()
                    .map(|b| Value::Bool(*b))
                    .ok_or_else(|| "the device returned no bit".to_owned()),
                Err(reason) => Err(reason),
            };
            match value {
                Ok(v) => {
                    if let Some(topic) = &p.publish {
                        let _ = publisher.try_publish(
                            topic,
                            rumqttc::QoS::AtMostOnce,
                            false,
                            v.to_string(),
                        );
                    }
                    store.set_value(*id, v, now, now);
                }
                Err(reason) => {
                    let reason: Arc<str> = Arc::from(format!("{}: {reason}", device.name()));
                    store.set_quality(*id, Quality::Bad, Some(reason), now);
                }
            }
        }
    }
}

/// What setpoint writes need: the tags' targets, the device tasks, the audit trail.
pub(super) struct Writes {
    pub(super) project: Arc<Project>,
    pub(super) tags: Arc<TagStore>,
    pub(super) devices: std::collections::HashMap<String, crate::modbus::DeviceHandle>,
    pub(super) audit_path: PathBuf,
}

impl Writes {
    /// Write, read back, audit (committed before the result is reported). Runs as its own task
    /// so a slow device never holds up other commands.
    pub(super) async fn write(
        &self,
        tag: &str,
        value: f64,
        actor: &crate::security::Actor,
    ) -> (crate::modbus::WriteOutcome, Option<String>) {
        use crate::modbus::WriteOutcome;
        let target = self.project.tag(tag).and_then(|t| t.write.clone());
        let old_value = self
            .tags
            .get_by_name(tag)
            .and_then(|s| s.value)
            .map(|v| v.to_string());
        let (outcome, device, address) = match &target {
            None => (
                WriteOutcome::Rejected {
                    reason: format!("tag `{tag}` has no write target"),
                },
                String::new(),
                String::new(),
            ),
            Some(w) => {
                let kind = match w.target.kind {
                    crate::modbus::RegisterKind::HoldingRegister => "holding register",
                    crate::modbus::RegisterKind::Coil => "coil",
                };
                let address = format!("{kind} {}", w.target.address);
                let outcome = match self.devices.get(&w.device) {
                    Some(d) => d.write(&w.target, value).await,
                    None => WriteOutcome::NotConnected {
                        reason: format!("device `{}` is not running", w.device),
                    },
                };
                (outcome, w.device.clone(), address)
            }
        };
        let readback = match &outcome {
            WriteOutcome::Confirmed { readback } | WriteOutcome::Mismatch { readback, .. } => {
                Some(readback.to_string())
            }
            _ => None,
        };
        let record = crate::security::AuditRecord {
            ts_ms: now_ms(),
            user: actor.user.clone(),
            workstation: crate::security::workstation_name(),
            action: "write".to_owned(),
            tag: tag.to_owned(),
            device,
            address,
            old_value,
            requested: Some(value.to_string()),
            readback,
            result: outcome.kind().to_owned(),
            detail: outcome.to_string(),
            role: Some(actor.role_name().to_owned()),
        };
        let audit_error = audit(self.audit_path.clone(), record).await;
        if let Some(e) = &audit_error {
            tracing::error!(%tag, "{e}");
        }
        (outcome, audit_error)
    }
}

/// Append `record` to the audit trail at `path` off the async threads; why it failed, if it did.
pub(super) async fn audit(path: PathBuf, record: crate::security::AuditRecord) -> Option<String> {
    let audited = tokio::task::spawn_blocking(move || {
        crate::security::AuditLog::open(&path).and_then(|log| log.record(&record))
    })
    .await;
    match audited {
        Ok(Ok(_)) => None,
        Ok(Err(e)) => Some(format!("the audit trail could not be written: {e}")),
        Err(e) => Some(format!("the audit task failed: {e}")),
    }
}
