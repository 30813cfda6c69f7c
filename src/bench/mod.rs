//! `plantview bench ...`: measurements of the hot paths, each beside a baseline run in the same
//! process.

mod alarms;
mod export;
mod history;
mod ingest;
mod modbus;

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum BenchCmd {
    /// MQTT ingest: embedded broker → engine tag store vs a bare counting subscriber.
    Ingest(ingest::IngestArgs),
    /// CSV export rows/s beside a raw SQLite scan of the same rows.
    Export(export::ExportArgs),
    /// Historian inserts vs raw rusqlite, and bucket query times.
    History(history::HistoryArgs),
    /// A history writer for the kill -9 test (runs until killed).
    #[command(hide = true)]
    HistoryChild(history::HistoryChildArgs),
    /// Alarm burst latency (journaled and shown) and evaluation rate vs the ingest path.
    Alarms(alarms::AlarmsArgs),
    /// An alarm flood for the kill -9 test (runs until killed).
    #[command(hide = true)]
    AlarmsChild(alarms::AlarmsChildArgs),
    /// Modbus setpoint write + read-back latency vs a raw TCP echo round trip.
    Modbus(modbus::ModbusArgs),
}

pub fn run(cmd: &BenchCmd) -> anyhow::Result<std::process::ExitCode> {
    match cmd {
        BenchCmd::Ingest(args) => ingest::run(args),
        BenchCmd::History(args) => history::run(args),
        BenchCmd::Export(args) => export::run(args),
        BenchCmd::HistoryChild(args) => history::child(args),
        BenchCmd::Alarms(args) => alarms::run(args),
        BenchCmd::AlarmsChild(args) => alarms::child(args),
        BenchCmd::Modbus(args) => modbus::run(args),
    }
}
