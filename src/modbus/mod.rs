//! Modbus TCP: setpoints written to devices and verified by read-back.
//!
//! Layers, each usable alone: [`codec`] (pure value ↔ registers), [`exception`] (codes 01–0B
//! with name and meaning), [`write`] (target, outcome, the write → read-back → compare
//! sequence) and [`device`] (one tokio task per device owning its connection, with timeouts,
//! reconnect and status). Knows registers and devices, not tags, projects or the GUI; never
//! imports egui.

pub mod codec;
pub mod device;
pub mod exception;
pub mod write;

pub use codec::{CodecError, DataType, Encoding, LimitError, WordOrder, check_limits};
pub use device::{DeviceConfig, DeviceError, DeviceHandle, DeviceStatus, ReadData, ReadKind};
pub use exception::DeviceException;
pub use write::{RegisterKind, Step, WriteOutcome, WriteTarget};
