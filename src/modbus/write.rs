//! One verified write: what is written where ([`WriteTarget`]), how it ended ([`WriteOutcome`]),
//! and the write → read-back → compare sequence over an open tokio-modbus context.
//!
//! Everything that can be refused is refused in [`prepare`] before a byte is sent. The
//! sequence itself never reconnects or retries: it reports a transport failure to the device
//! task (which owns the connection) and lets it rebuild the connection.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio_modbus::client::{Context, Reader, Writer};

use super::codec::{DataType, Encoding, WordOrder, check_limits};
use super::exception::DeviceException;

/// Where a write goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegisterKind {
    HoldingRegister,
    Coil,
}

/// A tag's write target on a device (0-based protocol addresses).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WriteTarget {
    pub kind: RegisterKind,
    pub address: u16,
    pub data_type: DataType,
    #[serde(default)]
    pub word_order: WordOrder,
    #[serde(default)]
    pub byte_swap: bool,
    #[serde(default = "one")]
    pub scale: f64,
    #[serde(default)]
    pub offset: f64,
    /// Inclusive engineering limits; `None` leaves only the data type's range.
    #[serde(default)]
    pub min: Option<f64>,
    #[serde(default)]
    pub max: Option<f64>,
    /// Where the device mirrors the value, if not at `address`.
    #[serde(default)]
    pub readback_address: Option<u16>,
}

fn one() -> f64 {
    1.0
}

impl WriteTarget {
    /// A holding-register target without scaling or limits.
    pub fn holding(address: u16, data_type: DataType) -> Self {
        WriteTarget {
            kind: RegisterKind::HoldingRegister,
            address,
            data_type,
            word_order: WordOrder::Big,
            byte_swap: false,
            scale: 1.0,
            offset: 0.0,
            min: None,
            max: None,
            readback_address: None,
        }
    }

    /// A coil target (bool).
    pub fn coil(address: u16) -> Self {
        WriteTarget {
            kind: RegisterKind::Coil,
            ..WriteTarget::holding(address, DataType::Bool)
        }
    }

    /// The codec settings of this target.
    pub fn encoding(&self) -> Encoding {
        Encoding {
            data_type: self.data_type,
            word_order: self.word_order,
            byte_swap: self.byte_swap,
            scale: self.scale,
            offset: self.offset,
        }
    }

    fn readback_address(&self) -> u16 {
        self.readback_address.unwrap_or(self.address)
    }
}

/// The step of the sequence a failure happened in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Connect,
    Write,
    ReadBack,
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Step::Connect => "connect",
            Step::Write => "write",
            Step::ReadBack => "read-back",
        })
    }
}

/// How a write ended; shown to the operator and recorded in the audit trail.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteOutcome {
    /// Written and read back equal (within half a raw step).
    Confirmed { readback: f64 },
    /// Written, but the device reports another value.
    Mismatch { requested: f64, readback: f64 },
    /// The device answered with an exception (it is reachable; the request was refused).
    Exception {
        step: Step,
        code: u8,
        name: &'static str,
        meaning: &'static str,
    },
    /// No answer within the device timeout; the connection is rebuilt. During `Write` the
    /// device may or may not have applied the value.
    Timeout { step: Step, after_ms: u64 },
    /// The connection broke during the sequence (reset, closed, garbled frame).
    ConnectionLost { step: Step, reason: String },
    /// Nothing was sent: there is no connection to the device.
    NotConnected { reason: String },
    /// Nothing was sent: the value or the target is invalid (limits, type range, settings).
    Rejected { reason: String },
}

impl WriteOutcome {
    pub fn is_confirmed(&self) -> bool {
        matches!(self, WriteOutcome::Confirmed { .. })
    }

    /// Short result word for status lines and the audit trail.
    pub fn kind(&self) -> &'static str {
        match self {
            WriteOutcome::Confirmed { .. } => "confirmed",
            WriteOutcome::Mismatch { .. } => "mismatch",
            WriteOutcome::Exception { .. } => "exception",
            WriteOutcome::Timeout { .. } => "timeout",
            WriteOutcome::ConnectionLost { .. } => "connection lost",
            WriteOutcome::NotConnected { .. } => "not connected",
            WriteOutcome::Rejected { .. } => "rejected",
        }
    }

    fn exception(step: Step, e: DeviceException) -> Self {
        WriteOutcome::Exception {
            step,
            code: e.code,
            name: e.name,
            meaning: e.meaning,
        }
    }
}

impl std::fmt::Display for WriteOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteOutcome::Confirmed { readback } => write!(f, "confirmed, read back {readback}"),
            WriteOutcome::Mismatch {
                requested,
                readback,
            } => write!(
                f,
                "read-back mismatch: wrote {requested}, device has {readback}"
            ),
            WriteOutcome::Exception {
                step,
                code,
                name,
                meaning,
            } => write!(
                f,
                "device exception {code:02X} {name} during {step}: {meaning}"
            ),
            WriteOutcome::Timeout { step, after_ms } => {
                write!(f, "timeout: no answer to {step} within {after_ms} ms")
            }
            WriteOutcome::ConnectionLost { step, reason } => {
                write!(f, "connection lost during {step}: {reason}")
            }
            WriteOutcome::NotConnected { reason } => write!(f, "not connected: {reason}"),
            WriteOutcome::Rejected { reason } => write!(f, "rejected: {reason}"),
        }
    }
}

/// The request a write becomes once it passed every check.
#[derive(Debug, Clone, PartialEq)]
pub enum Prepared {
    Registers(Vec<u16>),
    Coil(bool),
}

/// Checks target settings, limits and type range, and encodes. Sends nothing.
pub fn prepare(target: &WriteTarget, value: f64) -> Result<Prepared, String> {
    let encoding = target.encoding();
    encoding.validate().map_err(|e| e.to_string())?;
    if let (Some(min), Some(max)) = (target.min, target.max)
        && min > max
    {
        return Err(format!("limits are inverted (min {min} > max {max})"));
    }
    check_limits(value, target.min, target.max).map_err(|e| e.to_string())?;
    let count = target.data_type.register_count();
    for start in [target.address, target.readback_address()] {
        if u32::from(start) + u32::from(count) > 0x1_0000 {
            return Err(format!(
                "{} registers from address {start} run past 65535",
                count
            ));
        }
    }
    match target.kind {
        RegisterKind::Coil => {
            if target.data_type != DataType::Bool {
                return Err(format!("a coil holds a bool, not {}", target.data_type));
            }
            if value == 0.0 || value == 1.0 {
                Ok(Prepared::Coil(value == 1.0))
            } else {
                Err(format!("a coil takes 0 or 1, got {value}"))
            }
        }
        RegisterKind::HoldingRegister => encoding
            .encode(value)
            .map(Prepared::Registers)
            .map_err(|e| e.to_string()),
    }
}

/// What the device task must do with its connection after a sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Link {
    Keep,
    /// Drop the context and reconnect (timeout, reset, garbled frame).
    Rebuild,
}

/// Write, read back, decode, compare. `prepared` comes from [`prepare`] for the same target.
pub(crate) async fn write_and_verify(
    ctx: &mut Context,
    target: &WriteTarget,
    requested: f64,
    prepared: &Prepared,
    timeout: Duration,
) -> (WriteOutcome, Link) {
    let after_ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
    let written = match prepared {
        Prepared::Coil(on) => {
            tokio::time::timeout(timeout, ctx.write_single_coil(target.address, *on)).await
        }
        Prepared::Registers(words) if words.len() == 1 => {
            tokio::time::timeout(timeout, ctx.write_single_register(target.address, words[0])).await
        }
        Prepared::Registers(words) => {
            tokio::time::timeout(timeout, ctx.write_multiple_registers(target.address, words)).await
        }
    };
    match written {
        Err(_elapsed) => {
            return (
                WriteOutcome::Timeout {
                    step: Step::Write,
                    after_ms,
                },
                Link::Rebuild,
            );
        }
        Ok(Err(transport)) => {
            return (
                WriteOutcome::ConnectionLost {
                    step: Step::Write,
                    reason: transport.to_string(),
                },
                Link::Rebuild,
            );
        }
        Ok(Ok(Err(code))) => {
            return (
                WriteOutcome::exception(Step::Write, code.into()),
                Link::Keep,
            );
        }
        Ok(Ok(Ok(()))) => {}
    }

    let address = target.readback_address();
    let count = target.data_type.register_count();
    let readback = match target.kind {
        RegisterKind::Coil => tokio::time::timeout(timeout, ctx.read_coils(address, 1))
            .await
            .map(|r| {
                r.map(|r| r.map(|coils| vec![u16::from(coils.first().copied().unwrap_or(false))]))
            }),
        RegisterKind::HoldingRegister => {
            tokio::time::timeout(timeout, ctx.read_holding_registers(address, count)).await
        }
    };
    let registers = match readback {
        Err(_elapsed) => {
            return (
                WriteOutcome::Timeout {
                    step: Step::ReadBack,
                    after_ms,
                },
                Link::Rebuild,
            );
        }
        Ok(Err(transport)) => {
            return (
                WriteOutcome::ConnectionLost {
                    step: Step::ReadBack,
                    reason: transport.to_string(),
                },
                Link::Rebuild,
            );
        }
        Ok(Ok(Err(code))) => {
            return (
                WriteOutcome::exception(Step::ReadBack, code.into()),
                Link::Keep,
            );
        }
        Ok(Ok(Ok(registers))) => registers,
    };
    let decoded = match target.kind {
        RegisterKind::Coil => Ok(if registers.first().copied().unwrap_or(0) != 0 {
            1.0
        } else {
            0.0
        }),
        RegisterKind::HoldingRegister => target.encoding().decode(&registers),
    };
    match decoded {
        Ok(readback) => {
            let tolerance = target.encoding().tolerance(requested);
            if (readback - requested).abs() <= tolerance {
                (WriteOutcome::Confirmed { readback }, Link::Keep)
            } else {
                (
                    WriteOutcome::Mismatch {
                        requested,
                        readback,
                    },
                    Link::Keep,
                )
            }
        }
        // Wrong register count or a NaN pattern: the device answered, but not with our value.
        Err(e) => {
            tracing::warn!("read-back of address {address} did not decode: {e}");
            (
                WriteOutcome::Mismatch {
                    requested,
                    readback: f64::NAN,
                },
                Link::Keep,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prepare_refuses_before_encoding() {
        let mut t = WriteTarget::holding(10, DataType::I16);
        t.scale = 0.1;
        t.min = Some(5.0);
        t.max = Some(30.0);
        assert_eq!(prepare(&t, 21.5), Ok(Prepared::Registers(vec![215])));
        assert!(prepare(&t, 30.1).unwrap_err().contains("above the maximum"));
        assert!(prepare(&t, 4.9).unwrap_err().contains("below the minimum"));
        assert!(prepare(&t, f64::NAN).is_err());
        t.max = None;
        assert!(prepare(&t, 4000.0).unwrap_err().contains("does not fit"));
        t.min = Some(40.0);
        t.max = Some(30.0);
        assert!(prepare(&t, 35.0).unwrap_err().contains("inverted"));
    }

    #[test]
    fn prepare_checks_coils_and_address_space() {
        assert_eq!(
            prepare(&WriteTarget::coil(3), 1.0),
            Ok(Prepared::Coil(true))
        );
        assert_eq!(
            prepare(&WriteTarget::coil(3), 0.0),
            Ok(Prepared::Coil(false))
        );
        assert!(prepare(&WriteTarget::coil(3), 2.0).is_err());
        let mut not_bool = WriteTarget::coil(3);
        not_bool.data_type = DataType::U16;
        assert!(prepare(&not_bool, 1.0).is_err());
        assert!(prepare(&WriteTarget::holding(65535, DataType::F32), 1.0).is_err());
        assert!(prepare(&WriteTarget::holding(65534, DataType::F32), 1.0).is_ok());
        let mut mirrored = WriteTarget::holding(0, DataType::F64);
        mirrored.readback_address = Some(65533);
        assert!(prepare(&mirrored, 1.0).is_err());
    }
}
