//! The GUI (eframe/egui): a thin client of the engine. Reads engine state, sends commands,
//! never does I/O on the UI thread.

pub mod alarms;
pub mod analyze;
mod app;
mod audit;
pub mod dnd;
pub mod editor;
pub mod format;
mod horn;
pub mod images;
pub mod launch;
pub mod login;
mod marks;
pub mod replay;
pub mod screen;
pub mod setpoint;
pub mod theme;
pub mod trends;
pub mod watch;
pub mod widgets;

pub use app::{PlantViewApp, View};

use std::path::Path;

use anyhow::Context as _;

use crate::engine::{self, EngineOptions};
use crate::project;

/// Load the project, start the engine, open the window; returns when the window closes.
/// What the window shows first (command-line options).
#[derive(Clone, Debug, Default)]
pub struct StartView {
    /// Screen id, or `trends`.
    pub screen: Option<String>,
    /// Trend pens (opens the trends page).
    pub pens: Vec<String>,
    /// `10m`, `1h`, `8h`, `24h` or `7d`.
    pub window: String,
    /// Start in edit mode.
    pub edit: bool,
}

pub fn run(dir: &Path, options: &EngineOptions, start: &StartView) -> anyhow::Result<()> {
    let project = project::load(dir)?;
    for pen in &start.pens {
        anyhow::ensure!(
            project.tag(pen).is_some(),
            "--pens: no tag `{pen}` in {}",
            dir.display()
        );
    }
    let window_ms = match start.window.as_str() {
        "10m" => 600_000,
        "1h" => 3_600_000,
        "8h" => 8 * 3_600_000,
        "24h" => 24 * 3_600_000,
        "7d" => 7 * 24 * 3_600_000,
        other => anyhow::bail!("--window `{other}`: use 10m, 1h, 8h, 24h or 7d"),
    };
    let view = match start.screen.as_deref() {
        None if !start.pens.is_empty() => app::View::Trends,
        None => app::View::Screen(0),
        Some("trends") => app::View::Trends,
        Some("alarms") => app::View::Alarms,
        Some("alarm-history") => app::View::AlarmHistory,
        Some("audit") => app::View::Audit,
        Some(id) => app::View::Screen(
            project
                .screens
                .iter()
                .position(|s| s.id == id)
                .ok_or_else(|| anyhow::anyhow!("no screen `{id}` in {}", dir.display()))?,
        ),
    };
    let title = format!("PlantView — {}", project.name());
    let pens = start.pens.clone();
    let edit = start.edit;
    let make = move |engine: engine::EngineHandle| {
        let mut app = PlantViewApp::new(engine);
        app.set_view(view);
        if edit {
            app.set_editing(true);
        }
        if view == app::View::Trends {
            let page = app.open_trends();
            page.set_window(window_ms);
            for pen in &pens {
                page.add_pen(pen);
            }
        }
        app
    };
    // The external broker's password missing and no terminal to ask at: the window asks.
    let started = match engine::start_asking(project.clone(), options) {
        Ok(e) => Ok(e),
        Err(e) if launch::asks_password(&e) => Err(launch::Launcher::new(
            project,
            options.clone(),
            Box::new(make.clone()),
        )),
        Err(e) => return Err(e).context("cannot start the engine"),
    };
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
        Box::new(move |_cc| {
            Ok(match started {
                Ok(engine) => Box::new(make(engine)) as Box<dyn eframe::App>,
                Err(launcher) => Box::new(launcher),
            })
        }),
    )
    .map_err(|e| anyhow::anyhow!("cannot open the window: {e}"))
}
