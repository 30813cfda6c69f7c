//! PlantView: a native SCADA/HMI workstation.
//!
//! Core (no egui): [`project`], [`engine`], [`mqtt`], [`sim`]. Faces: [`gui`] (eframe) and
//! [`cli`] (`plantview serve|check|sim|bench`).

pub mod bench;
pub mod cli;
pub mod engine;
pub mod gui;
pub mod mqtt;
pub mod project;
// TEMP until src/sim lands
pub mod sim {
    #[derive(Default)]
    pub struct SimConfig {
        pub topic_prefix: String,
        pub seed: u64,
    }
    pub async fn run(
        _s: crate::mqtt::ClientSettings,
        _c: SimConfig,
        _t: tokio_util::sync::CancellationToken,
    ) {
    }
}
