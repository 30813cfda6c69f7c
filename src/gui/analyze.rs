//! Analysis of a history file with no plant attached (`plantview analyze HISTORY.sqlite`): the
//! trends page over the file's tags, connected to nothing. Opening is instant (nothing loads the
//! whole file); the view starts on the last day the file holds.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use egui::{RichText, Ui};

use crate::engine::TagStore;
use crate::history::HistoryReader;
use crate::project::{Project, ProjectFile, TagConfig};

use super::theme::Theme;
use super::trends::TrendsPage;

pub struct AnalyzeApp {
    path: PathBuf,
    page: TrendsPage,
    theme: Theme,
    fonts: bool,
}

impl AnalyzeApp {
    /// Open `path` read-only.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        anyhow::ensure!(path.exists(), "no history file at {}", path.display());
        let reader = HistoryReader::open(path).with_context(|| {
            format!("cannot open {} as a PlantView history file", path.display())
        })?;
        let tags = reader
            .tags()
            .with_context(|| format!("{} is not a PlantView history file", path.display()))?;
        // The newest sample in the file (one primary-key lookup per tag, no scan).
        let mut newest = None;
        for t in &tags {
            if let Some(r) = reader.latest_before(t.id, i64::MAX)? {
                newest = newest.max(Some(r.ts_ms));
            }
        }
        let file = ProjectFile {
            format: crate::project::FORMAT_VERSION,
            name: format!(
                "Analysis of {}",
                path.file_name()
                    .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
            ),
            description: String::new(),
            broker: Default::default(),
            security: None,
            simulator: None,
            history: Default::default(),
            tags: tags.iter().map(|t| tag(&t.name, &t.unit)).collect(),
            devices: Vec::new(),
            alarms: Vec::new(),
            screen_order: Vec::new(),
        };
        let project = Arc::new(Project {
            dir: path.parent().unwrap_or(Path::new(".")).to_owned(),
            file,
            screens: Vec::new(),
        });
        let store = Arc::new(TagStore::new(tags.iter().map(|t| (t.name.as_str(), 0.0))));
        let mut page = TrendsPage::new(project, store, Some(path.to_owned()));
        let end = newest.unwrap_or_else(crate::engine::now_ms) + 60_000;
        page.set_range(end - 24 * 3_600_000, end);
        Ok(Self {
            path: path.to_owned(),
            page,
            theme: Theme::light(),
            fonts: false,
        })
    }

    pub fn page(&mut self) -> &mut TrendsPage {
        &mut self.page
    }

    pub fn ui_root(&mut self, ui: &mut Ui) {
        if !self.fonts {
            self.fonts = true;
            self.theme.apply(ui.ctx());
            super::theme::install_fonts(ui.ctx());
        }
        egui::Panel::top("analyze_bar")
            .exact_size(34.0)
            .show(ui, |ui| {
                ui.horizontal_centered(|ui| {
                    ui.label(RichText::new("PlantView").strong().size(16.0));
                    ui.separator();
                    ui.label(
                        RichText::new(format!("Analysis · {}", self.path.display())).size(15.0),
                    );
                    ui.separator();
                    ui.label(
                        RichText::new("not connected to any plant").color(self.theme.text_dim),
                    );
                });
            });
        let theme = self.theme.clone();
        egui::CentralPanel::default_margins().show(ui, |ui| self.page.ui(ui, &theme));
    }
}

impl eframe::App for AnalyzeApp {
    fn ui(&mut self, ui: &mut Ui, _frame: &mut eframe::Frame) {
        self.ui_root(ui);
    }
}

/// A tag as the file knows it: name and unit.
fn tag(name: &str, unit: &str) -> TagConfig {
    TagConfig {
        name: name.to_owned(),
        description: String::new(),
        topic: String::new(),
        poll: None,
        decoder: Default::default(),
        unit: unit.to_owned(),
        decimals: None,
        range: None,
        states: None,
        stale_after_s: 0.0,
        write: None,
        history: Default::default(),
    }
}

/// Open the analysis window; returns when it closes.
pub fn run(path: &Path) -> anyhow::Result<()> {
    let app = AnalyzeApp::open(path)?;
    let native = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title(format!("PlantView — analysis of {}", path.display()))
            .with_inner_size([1480.0, 900.0]),
        renderer: eframe::Renderer::Glow,
        ..Default::default()
    };
    eframe::run_native(
        "PlantView analysis",
        native,
        Box::new(move |_| Ok(Box::new(app))),
    )
    .map_err(|e| anyhow::anyhow!("cannot open the window: {e}"))
}
