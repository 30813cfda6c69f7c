//! `plantview bench ...`: measurements of the hot paths, each beside a baseline run in the same
//! process.

mod ingest;

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum BenchCmd {
    /// MQTT ingest: embedded broker → engine tag store vs a bare counting subscriber.
    Ingest(ingest::IngestArgs),
}

pub fn run(cmd: &BenchCmd) -> anyhow::Result<std::process::ExitCode> {
    match cmd {
        BenchCmd::Ingest(args) => ingest::run(args),
    }
}
