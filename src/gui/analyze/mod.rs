//! Analysis of a history file with no plant attached (`plantview analyze HISTORY.sqlite`, or
//! Open history… in the window): the trends page over the file's tags, connected to nothing,
//! with two cursors (Δt, Δvalue), a statistics table of the visible range, the alarm journal of
//! the range listed and marked on the time axis, a second range laid over the first (this
//! Tuesday against last Tuesday), CSV export with progress, the trend saved as PNG, and replay
//! of a project's screens from the file. Opening is instant (nothing loads the whole file); the
//! view starts on the last day the file holds.

mod export;
mod journal;
mod stats;

pub use stats::{PenStats, time_in_alarm};

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
    stats: Option<stats::StatsTable>,
    journal: journal::JournalMarks,
    /// A second range laid over the first: (offset back in time, its page).
    compare: Option<(i64, TrendsPage)>,
    notice: Option<String>,
    export: export::ExportDialog,
    /// Each tag's span and sample count, computed on a thread after opening.
    notes: Option<std::sync::mpsc::Receiver<Vec<(String, String)>>>,
    project: Arc<Project>,
    store: Arc<TagStore>,
}

/// "Compare with" choices: label and how far back.
const COMPARE: [(&str, i64); 4] = [
    ("nothing", 0),
    ("1 day earlier", 86_400_000),
    ("1 week earlier", 7 * 86_400_000),
    ("4 weeks earlier", 28 * 86_400_000),
];

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
        let mut page = TrendsPage::new(project.clone(), store.clone(), Some(path.to_owned()));
        page.set_analysis(true);
        let end = newest.unwrap_or_else(crate::engine::now_ms) + 60_000;
        page.set_range(end - 24 * 3_600_000, end);
        let stats = match stats::StatsTable::start(path) {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::warn!("statistics off: {e}");
                None
            }
        };
        Ok(Self {
            path: path.to_owned(),
            page,
            theme: Theme::light(),
            fonts: false,
            stats,
            journal: journal::JournalMarks::start(path),
            compare: None,
            notice: None,
            export: export::ExportDialog::default(),
            notes: tag_notes(path),
            project,
            store,
        })
    }

    pub fn page(&mut self) -> &mut TrendsPage {
        &mut self.page
    }

    /// The statistics on show (per pen), once computed.
    pub fn statistics(&self) -> Option<&[PenStats]> {
        self.stats.as_ref().and_then(|s| s.shown())
    }

    /// Lay the range `offset_ms` earlier over the trend (0: nothing).
    pub fn set_compare(&mut self, offset_ms: i64) {
        self.compare = (offset_ms > 0).then(|| {
            let mut p = TrendsPage::new(
                self.project.clone(),
                self.store.clone(),
                Some(self.path.clone()),
            );
            p.pause();
            (offset_ms, p)
        });
        self.page.overlay.clear();
    }

    pub fn ui_root(&mut self, ui: &mut Ui) {
        if let Some(rx) = &self.notes
            && let Ok(notes) = rx.try_recv()
        {
            self.page.tag_notes = notes.into_iter().collect();
            self.notes = None;
        }
        if !self.fonts {
            self.fonts = true;
            self.theme.apply(ui.ctx());
            super::theme::install_fonts(ui.ctx());
        }
        let now = crate::engine::now_ms();
        let view = self.page.view_at(now);
        self.update_extras(ui.ctx(), view, now);
        egui::Panel::top("analyze_bar")
            .exact_size(34.0)
            .show(ui, |ui| self.top_bar_ui(ui, view));
        egui::Panel::right("analyze_journal")
            .resizable(true)
            .default_size(300.0)
            .show(ui, |ui| {
                if let Some(t) = self.journal.ui(ui, &self.theme) {
                    self.page.set_cursors(Some(t), None);
                }
            });
        let theme = self.theme.clone();
        let tags = self.project.clone();
        egui::Panel::bottom("analyze_stats")
            .resizable(true)
            .default_size(150.0)
            .show(ui, |ui| {
                if let Some(stats) = &mut self.stats {
                    let units = |name: &str| {
                        tags.tag(name).map_or((String::new(), 2), |t| {
                            (t.unit.clone(), t.decimals.unwrap_or(2))
                        })
                    };
                    egui::ScrollArea::vertical()
                        .id_salt("stats_scroll")
                        .show(ui, |ui| stats.ui(ui, &theme, &units));
                }
            });
        egui::CentralPanel::default_margins().show(ui, |ui| {
            self.page.ui(ui, &theme);
        });
        let pens = self.page.pens();
        self.export.ui(ui.ctx(), &theme, &self.path, &pens, view);
    }

    /// Export the pens over the visible range to `out` as the dialog is set (tests; the dialog
    /// asks for the file).
    pub fn export_to(&mut self, out: PathBuf) {
        let view = self.page.view_at(crate::engine::now_ms());
        let pens = self.page.pens();
        self.export.start(self.path.clone(), pens, view, out);
    }

    /// The export's outcome once finished.
    pub fn export_outcome(&self) -> Option<Result<String, String>> {
        self.export.outcome()
    }

    /// Statistics, journal marks and the compared range follow the visible range.
    fn update_extras(&mut self, ctx: &egui::Context, view: (i64, i64), now: i64) {
        if let Some(stats) = &mut self.stats {
            stats.update(self.page.pens(), view.0, view.1);
        }
        self.journal.update(view.0, view.1);
        self.page.marks = self.journal.marks(&self.theme);
        if let Some((offset, shadow)) = &mut self.compare {
            let pens = self.page.pens();
            for p in shadow.pens() {
                if !pens.contains(&p) {
                    shadow.remove_pen(&p);
                }
            }
            for p in &pens {
                shadow.add_pen(p);
            }
            shadow.set_range(view.0 - *offset, view.1 - *offset);
            shadow.tick(ctx);
            let palette = super::trends::pen_palette(&self.theme);
            #[allow(clippy::cast_precision_loss)]
            let shift = *offset as f64;
            self.page.overlay = shadow
                .pen_lines(now)
                .into_iter()
                .map(|(name, colour, points)| {
                    (
                        name,
                        palette[colour % palette.len()],
                        points.into_iter().map(|[x, y]| [x + shift, y]).collect(),
                    )
                })
                .collect();
        }
    }

    fn top_bar_ui(&mut self, ui: &mut Ui, view: (i64, i64)) {
        ui.horizontal_centered(|ui| {
            ui.label(RichText::new("PlantView").strong().size(16.0));
            ui.separator();
            ui.label(RichText::new(format!("Analysis · {}", self.path.display())).size(15.0));
            ui.separator();
            ui.label(RichText::new("not connected to any plant").color(self.theme.text_dim));
            ui.separator();
            if ui.button("Open history…").clicked()
                && let Some(path) = rfd::FileDialog::new()
                    .add_filter("PlantView history", &["sqlite"])
                    .pick_file()
            {
                match Self::open(&path) {
                    Ok(next) => {
                        *self = Self {
                            fonts: self.fonts,
                            ..next
                        }
                    }
                    Err(e) => self.notice = Some(format!("{e:#}")),
                }
                return;
            }
            if ui
                .button("Replay screens…")
                .on_hover_text("Run a project's screens from this file, at the trend's time")
                .clicked()
                && let Some(dir) = rfd::FileDialog::new().pick_folder()
            {
                self.notice = Some(self.start_replay(&dir, (view.0 + view.1) / 2));
            }
            if ui.button("Export CSV…").clicked() {
                self.export.open = true;
            }
            if ui.button("Save trend as PNG…").clicked()
                && let Some(path) = rfd::FileDialog::new()
                    .add_filter("PNG", &["png"])
                    .set_file_name("trend.png")
                    .save_file()
            {
                self.notice = Some(format!("Saving {}", path.display()));
                // The plot with its axes (a little margin), in physical pixels.
                let ppp = ui.ctx().pixels_per_point();
                let area = self.page.plot_rect().map(|r| r.expand(4.0) * ppp);
                ui.ctx()
                    .request_screenshot(move |image| save_png(&image, area, path));
            }
            let current = self.compare.as_ref().map_or(0, |(o, _)| *o);
            let mut chosen = current;
            egui::ComboBox::new("compare_with", "Compare with")
                .selected_text(
                    COMPARE
                        .iter()
                        .find(|(_, o)| *o == current)
                        .map_or("nothing", |(l, _)| l),
                )
                .show_ui(ui, |ui| {
                    for (label, offset) in COMPARE {
                        ui.selectable_value(&mut chosen, offset, label);
                    }
                });
            if chosen != current {
                self.set_compare(chosen);
            }
            if let Some(n) = &self.notice {
                ui.separator();
                ui.label(RichText::new(n).color(self.theme.text_dim));
            }
        });
    }

    /// Replay runs in its own window (a second PlantView process on the same file).
    fn start_replay(&self, project: &Path, at_ms: i64) -> String {
        let exe = match std::env::current_exe() {
            Ok(e) => e,
            Err(e) => return format!("cannot start replay: {e}"),
        };
        let at = chrono::DateTime::from_timestamp_millis(at_ms)
            .map(|t| t.to_rfc3339())
            .unwrap_or_default();
        match std::process::Command::new(exe)
            .arg("replay")
            .arg(project)
            .arg("--history")
            .arg(&self.path)
            .arg("--at")
            .arg(at)
            .spawn()
        {
            Ok(_) => format!("Replay of {} opened", project.display()),
            Err(e) => format!("cannot start replay: {e}"),
        }
    }
}

/// Each tag's span and (approximate) sample count, on a `pv-tag-notes` thread: two primary-key
/// lookups and the hourly summaries per tag, never a scan of the samples.
fn tag_notes(path: &Path) -> Option<std::sync::mpsc::Receiver<Vec<(String, String)>>> {
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    let path = path.to_owned();
    std::thread::Builder::new()
        .name("pv-tag-notes".to_owned())
        .spawn(move || {
            let Ok(reader) = HistoryReader::open(&path) else {
                return;
            };
            let Ok(tags) = reader.tags() else {
                return;
            };
            // `2026-11-23 19:09 → 11-25 20:59 · ≈300`: short enough for the list's width.
            let when = |ms: i64, from: usize| {
                super::format::local_datetime(ms)
                    .get(from..16)
                    .unwrap_or_default()
                    .to_owned()
            };
            let notes = tags
                .iter()
                .filter_map(|t| {
                    let (a, b) = reader.span(t.id).ok()??;
                    let mut note = format!("{} → {}", when(a, 0), when(b, 5));
                    // Text samples are not in the numeric summaries: no count rather than 0.
                    if let Ok(n) = reader.summary_count(t.id)
                        && n > 0
                    {
                        note.push_str(&format!(" · ≈{n}"));
                    }
                    Some((t.name.clone(), note))
                })
                .collect();
            let _ = tx.send(notes);
        })
        .ok()?;
    Some(rx)
}

/// Write `area` (physical pixels; all when `None`) of a screenshot as PNG off the UI thread.
fn save_png(image: &egui::ColorImage, area: Option<egui::Rect>, path: PathBuf) {
    let [iw, ih] = image.size;
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let (x0, y0, x1, y1) = area.map_or((0, 0, iw, ih), |r| {
        let c = |v: f32, max: usize| (v.max(0.0) as usize).min(max);
        (
            c(r.min.x, iw),
            c(r.min.y, ih),
            c(r.max.x, iw),
            c(r.max.y, ih),
        )
    });
    let (w, h) = (x1.saturating_sub(x0), y1.saturating_sub(y0));
    let mut rgba = Vec::with_capacity(w * h * 4);
    for y in y0..y1 {
        for p in &image.pixels[y * iw + x0..y * iw + x1] {
            rgba.extend_from_slice(&p.to_array());
        }
    }
    let spawned = std::thread::Builder::new()
        .name("pv-save-png".to_owned())
        .spawn(move || {
            let result = u32::try_from(w)
                .ok()
                .zip(u32::try_from(h).ok())
                .and_then(|(w, h)| image::RgbaImage::from_raw(w, h, rgba))
                .ok_or_else(|| "bad screenshot size".to_owned())
                .and_then(|img| img.save(&path).map_err(|e| e.to_string()));
            match result {
                Ok(()) => tracing::info!("trend saved to {}", path.display()),
                Err(e) => tracing::error!("cannot save {}: {e}", path.display()),
            }
        });
    if let Err(e) = spawned {
        tracing::error!("cannot save the PNG: {e}");
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
