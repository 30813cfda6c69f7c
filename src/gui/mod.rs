//! The GUI (eframe/egui): a thin client of the engine. Reads engine state, sends commands,
//! never does I/O on the UI thread.

mod app;
pub mod format;
mod screen;
pub mod theme;
pub mod widgets;

pub use app::PlantViewApp;

use std::path::Path;

use anyhow::Context as _;

use crate::engine::{self, EngineOptions};
use crate::project;

/// Load the project, start the engine, open the window; returns when the window closes.
pub fn run(dir: &Path, options: &EngineOptions) -> anyhow::Result<()> {
    let project = project::load(dir)?;
    let title = format!("PlantView — {}", project.name());
    let engine = engine::start(project, options).context("cannot start the engine")?;
    let native = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title(&title)
            .with_inner_size([1480.0, 900.0])
            .with_min_inner_size([800.0, 500.0]),
        renderer: eframe::Renderer::Glow,
        ..Default::default()
    };
    eframe::run_native(
        "PlantView",
        native,
        Box::new(move |_cc| Ok(Box::new(PlantViewApp::new(engine)))),
    )
    .map_err(|e| anyhow::anyhow!("cannot open the window: {e}"))
}
