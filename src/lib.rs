//! PlantView: a native SCADA/HMI workstation.
//!
//! Core (no egui): [`project`], [`engine`], [`mqtt`], [`sim`]. Faces: [`gui`] (eframe) and
//! [`cli`] (`plantview serve|check|sim|bench`).

pub mod alarms;
pub mod bench;
pub mod cli;
pub mod engine;
pub mod gui;
pub mod history;
pub mod modbus;
pub mod mqtt;
pub mod project;
pub mod report;
pub mod security;
pub mod sim;
