//! Replay: a project's plant screens run from a history file instead of a live plant. A time
//! slider, play/pause and speed (1× to 3600×); a "REPLAY — <time>" banner that is never out of
//! sight, so a replay is never mistaken for the live plant; writes are disabled.
//!
//! The tag states at the replay time come from a `pv-replay-query` thread (one primary-key
//! lookup per tag: the last sample at or before the time), never from the UI thread.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, TrySendError};
use std::time::Instant;

use anyhow::Context as _;
use egui::{RichText, Ui};

use crate::engine::{Quality, TagId, TagStore, Value};
use crate::history::{HistoryReader, Row};
use crate::project::{Decoder, Project, TagConfig, ValueKind};

use super::images::ImageCache;
use super::screen::{MiniTrends, ScreenAction, ScreenContext, screen_ui};
use super::theme::Theme;

/// Playback speeds offered.
pub const SPEEDS: [f64; 6] = [1.0, 10.0, 60.0, 300.0, 900.0, 3600.0];

/// The states of every tag at one moment of the history.
struct Snapshot {
    at_ms: i64,
    /// Per tag: the last row at or before the time, and (when that row carries no value) the
    /// last row that does.
    rows: Vec<(TagId, Option<Row>, Option<Row>)>,
}

/// The query thread: takes the newest requested time, answers with a snapshot.
struct Worker {
    requests: SyncSender<i64>,
    answers: Receiver<Result<Snapshot, String>>,
}

impl Worker {
    fn start(path: &Path, project: &Project, store: &TagStore) -> anyhow::Result<Self> {
        let reader =
            HistoryReader::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        // Historian ids of the project's tags (a tag the file does not know stays empty).
        let mut ids = Vec::new();
        for t in &project.file.tags {
            if let (Some(id), Some(hist)) = (store.id(&t.name), reader.tag_id(&t.name)?) {
                ids.push((id, hist));
            }
        }
        let (requests, rx) = std::sync::mpsc::sync_channel::<i64>(1);
        let (tx, answers) = std::sync::mpsc::sync_channel(2);
        std::thread::Builder::new()
            .name("pv-replay-query".to_owned())
            .spawn(move || {
                while let Ok(mut at) = rx.recv() {
                    // Only the newest request matters (the slider moved on).
                    while let Ok(newer) = rx.try_recv() {
                        at = newer;
                    }
                    let rows: Result<Vec<_>, String> = ids
                        .iter()
                        .map(|&(id, hist)| {
                            let last = reader.latest_before(hist, at)?;
                            let valued = match &last {
                                Some(r) if r.value.is_none() && r.text.is_none() => {
                                    reader.latest_value_before(hist, at)?
                                }
                                _ => None,
                            };
                            Ok((id, last, valued))
                        })
                        .map(|r: rusqlite::Result<_>| r.map_err(|e| e.to_string()))
                        .collect();
                    if tx
                        .send(rows.map(|rows| Snapshot { at_ms: at, rows }))
                        .is_err()
                    {
                        break;
                    }
                }
            })
            .context("cannot start the replay thread")?;
        Ok(Self { requests, answers })
    }
}

pub struct ReplayApp {
    project: Arc<Project>,
    store: Arc<TagStore>,
    history: PathBuf,
    theme: Theme,
    images: ImageCache,
    minis: MiniTrends,
    worker: Worker,
    screen: usize,
    params: std::collections::BTreeMap<String, String>,
    /// The file's first and last sample.
    span: (i64, i64),
    time_ms: i64,
    playing: bool,
    speed: f64,
    last_tick: Option<Instant>,
    /// The time the tag store shows, and the time last asked for.
    shown_ms: Option<i64>,
    asked_ms: Option<i64>,
    notice: Option<String>,
    fonts: bool,
}

impl ReplayApp {
    /// Replay `project` from `history`, starting at `start_ms` (default: the file's last hour).
    pub fn open(project: Project, history: &Path, start_ms: Option<i64>) -> anyhow::Result<Self> {
        anyhow::ensure!(history.exists(), "no history file at {}", history.display());
        let reader = HistoryReader::open(history)
            .with_context(|| format!("cannot open {} as a history file", history.display()))?;
        // The file's span from two primary-key lookups per tag (no scan of a big file).
        let tags = reader
            .tags()
            .with_context(|| format!("{} is not a PlantView history file", history.display()))?;
        let mut spans = Vec::new();
        for t in &tags {
            if let Some(s) = reader.span(t.id)? {
                spans.push(s);
            }
        }
        let first = spans.iter().map(|s| s.0).min();
        let last = spans.iter().map(|s| s.1).max();
        let (Some(first), Some(last)) = (first, last) else {
            anyhow::bail!("{} holds no samples to replay", history.display());
        };
        let project = Arc::new(project);
        let store = Arc::new(TagStore::new(
            project.file.tags.iter().map(|t| (t.name.as_str(), 0.0)),
        ));
        let worker = Worker::start(history, &project, &store)?;
        let minis = MiniTrends::new(project.clone(), store.clone(), Some(history.to_owned()));
        let screen = project
            .screens
            .iter()
            .position(|s| !s.file.template)
            .unwrap_or(0);
        Ok(Self {
            time_ms: start_ms
                .unwrap_or((last - 3_600_000).max(first))
                .clamp(first, last),
            project,
            store,
            history: history.to_owned(),
            theme: Theme::light(),
            images: ImageCache::default(),
            minis,
            worker,
            screen,
            params: Default::default(),
            span: (first, last),
            playing: false,
            speed: 60.0,
            last_tick: None,
            shown_ms: None,
            asked_ms: None,
            notice: None,
            fonts: false,
        })
    }

    /// Jump to `at_ms` (clamped to the file's span).
    pub fn set_time(&mut self, at_ms: i64) {
        self.time_ms = at_ms.clamp(self.span.0, self.span.1);
    }

    pub fn time_ms(&self) -> i64 {
        self.time_ms
    }

    /// The time the screens show now (after the query thread answered).
    pub fn shown_ms(&self) -> Option<i64> {
        self.shown_ms
    }

    pub fn span(&self) -> (i64, i64) {
        self.span
    }

    pub fn set_playing(&mut self, on: bool, speed: f64) {
        self.playing = on;
        self.speed = speed;
        self.last_tick = None;
    }

    pub fn show_screen(&mut self, id: &str) -> bool {
        match self.project.screens.iter().position(|s| s.id == id) {
            Some(i) => {
                self.screen = i;
                true
            }
            None => false,
        }
    }

    pub fn ui_root(&mut self, ui: &mut Ui) {
        if !self.fonts {
            self.fonts = true;
            self.theme.apply(ui.ctx());
            super::theme::install_fonts(ui.ctx());
        }
        self.advance(ui.ctx());
        self.intake();
        egui::Panel::top("replay_banner")
            .exact_size(34.0)
            .show(ui, |ui| self.banner_ui(ui));
        egui::Panel::top("replay_controls")
            .exact_size(36.0)
            .show(ui, |ui| self.controls_ui(ui));
        egui::Panel::left("replay_screens")
            .resizable(false)
            .exact_size(170.0)
            .show(ui, |ui| self.screens_ui(ui));
        egui::CentralPanel::default_margins().show(ui, |ui| {
            let project = self.project.clone();
            let Some(screen) = project.screens.get(self.screen) else {
                ui.label("This project has no screens.");
                return;
            };
            let cx = ScreenContext {
                project: &project,
                store: &self.store,
                theme: &self.theme,
                alarms: None,
                images: &self.images,
            };
            let params = self.params.clone();
            if let Some(action) = screen_ui(ui, &cx, screen, &params, &mut self.minis) {
                self.on_action(action);
            }
        });
    }

    /// Move the replay clock while playing.
    fn advance(&mut self, ctx: &egui::Context) {
        if !self.playing {
            self.last_tick = None;
            return;
        }
        let now = Instant::now();
        if let Some(last) = self.last_tick {
            #[allow(clippy::cast_possible_truncation)]
            let step = (now.duration_since(last).as_secs_f64() * 1000.0 * self.speed) as i64;
            self.time_ms = (self.time_ms + step).min(self.span.1);
            if self.time_ms >= self.span.1 {
                self.playing = false;
                self.notice = Some("End of the history file".to_owned());
            }
        }
        self.last_tick = Some(now);
        ctx.request_repaint_after(std::time::Duration::from_millis(100));
    }

    /// Ask for the current time when it changed; take what the query thread answered.
    fn intake(&mut self) {
        if self.asked_ms != Some(self.time_ms) {
            match self.worker.requests.try_send(self.time_ms) {
                Ok(()) => self.asked_ms = Some(self.time_ms),
                Err(TrySendError::Full(_)) => {} // asked again next frame
                Err(TrySendError::Disconnected(_)) => {
                    self.notice = Some("the replay query thread stopped".to_owned());
                }
            }
        }
        loop {
            match self.worker.answers.try_recv() {
                Ok(Ok(snap)) => self.apply(&snap),
                Ok(Err(e)) => self.notice = Some(format!("history query failed: {e}")),
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
            }
        }
    }

    /// Put a snapshot into the tag store: each tag's value and quality as recorded, stale when
    /// the last sample is older than the historian's longest interval (nothing was recorded
    /// although an unchanged value is written at least that often).
    fn apply(&mut self, snap: &Snapshot) {
        let cfgs: HashMap<&str, &TagConfig> = self
            .project
            .file
            .tags
            .iter()
            .map(|t| (t.name.as_str(), t))
            .collect();
        for (id, row, valued) in &snap.rows {
            let Some(cfg) = cfgs.get(self.store.name(*id)) else {
                continue;
            };
            let Some(row) = row else {
                self.store.set_quality(
                    *id,
                    Quality::Bad,
                    Some(Arc::from("no history before this time")),
                    snap.at_ms,
                );
                continue;
            };
            // The value the operator saw then: this row's, or the last one before a quality-only
            // row (shown greyed below).
            if let Some((v, ts)) = value_of(cfg, row).map(|v| (v, row.ts_ms)).or_else(|| {
                valued
                    .as_ref()
                    .and_then(|r| value_of(cfg, r).map(|v| (v, r.ts_ms)))
            }) {
                self.store.set_value(*id, v, ts, ts);
            }
            #[allow(clippy::cast_possible_truncation)]
            let max_gap_ms = (cfg.history.max_interval_s * 1500.0) as i64;
            let quality = if row.quality == Quality::Good
                && max_gap_ms > 0
                && snap.at_ms - row.ts_ms > max_gap_ms
            {
                Quality::Stale
            } else {
                row.quality
            };
            if quality != Quality::Good {
                let reason = match quality {
                    Quality::Stale => "no sample recorded near this time",
                    _ => "recorded with this quality",
                };
                self.store
                    .set_quality(*id, quality, Some(Arc::from(reason)), row.ts_ms);
            }
        }
        self.shown_ms = Some(snap.at_ms);
        self.minis.set_at(Some(snap.at_ms));
    }

    fn on_action(&mut self, action: ScreenAction) {
        match action {
            ScreenAction::Navigate { screen, params } => {
                if self.show_screen(&screen) {
                    self.params = params;
                }
            }
            ScreenAction::Setpoint(_)
            | ScreenAction::Write { .. }
            | ScreenAction::Toggle { .. } => {
                self.notice = Some("Writes are disabled in replay".to_owned());
            }
            ScreenAction::Trend(_) => {}
        }
    }

    fn banner_ui(&mut self, ui: &mut Ui) {
        let shown = self.shown_ms.unwrap_or(self.time_ms);
        egui::Frame::new()
            .fill(self.theme.badge_bg)
            .inner_margin(egui::Margin::symmetric(10, 4))
            .show(ui, |ui| {
                ui.set_width(ui.available_width());
                ui.horizontal_centered(|ui| {
                    ui.label(
                        RichText::new(format!("REPLAY — {}", super::format::local_datetime(shown)))
                            .color(self.theme.badge_text)
                            .strong()
                            .size(17.0),
                    );
                    ui.label(
                        RichText::new(format!(
                            "   {} · from {} · not the live plant · writes disabled",
                            self.project.name(),
                            self.history.display()
                        ))
                        .color(self.theme.badge_text),
                    );
                });
            });
    }

    fn controls_ui(&mut self, ui: &mut Ui) {
        ui.horizontal_centered(|ui| {
            let label = if self.playing { "Pause" } else { "Play" };
            if ui.button(label).clicked() {
                let speed = self.speed;
                self.set_playing(!self.playing, speed);
            }
            egui::ComboBox::new("replay_speed", "Speed")
                .selected_text(format!("{}×", self.speed))
                .width(70.0)
                .show_ui(ui, |ui| {
                    for s in SPEEDS {
                        ui.selectable_value(&mut self.speed, s, format!("{s}×"));
                    }
                });
            for (label, step) in [
                ("−1 h", -3_600_000),
                ("−1 min", -60_000),
                ("+1 min", 60_000),
                ("+1 h", 3_600_000),
            ] {
                if ui.small_button(label).clicked() {
                    self.set_time(self.time_ms + step);
                }
            }
            ui.separator();
            #[allow(clippy::cast_precision_loss)]
            let mut t = self.time_ms as f64;
            #[allow(clippy::cast_precision_loss)]
            let range = self.span.0 as f64..=self.span.1 as f64;
            let short = |ms: i64| {
                super::format::local_datetime(ms)
                    .get(..16)
                    .unwrap_or_default()
                    .to_owned()
            };
            ui.label(RichText::new(short(self.span.0)).color(self.theme.text_dim));
            let width = (ui.available_width() - 360.0).max(120.0);
            ui.spacing_mut().slider_width = width;
            // A visible rail, filled up to the replay time.
            ui.visuals_mut().widgets.inactive.bg_fill = self.theme.bar_track;
            ui.visuals_mut().selection.bg_fill = self.theme.bar_fill;
            let r = ui.add(
                egui::Slider::new(&mut t, range)
                    .show_value(false)
                    .trailing_fill(true)
                    .text(""),
            );
            r.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Slider, true, "Replay time"));
            ui.label(RichText::new(short(self.span.1)).color(self.theme.text_dim));
            if r.changed() {
                #[allow(clippy::cast_possible_truncation)]
                self.set_time(t as i64);
            }
            if let Some(n) = &self.notice {
                ui.label(RichText::new(n).color(self.theme.text_dim));
            }
        });
    }

    fn screens_ui(&mut self, ui: &mut Ui) {
        ui.add_space(6.0);
        ui.label(RichText::new("Screens").strong());
        ui.add_space(4.0);
        for (i, s) in self.project.screens.iter().enumerate() {
            if s.file.template {
                continue;
            }
            if ui
                .selectable_label(self.screen == i, RichText::new(&s.file.title).size(14.0))
                .clicked()
            {
                self.screen = i;
                self.params.clear();
            }
        }
    }
}

impl eframe::App for ReplayApp {
    fn ui(&mut self, ui: &mut Ui, _frame: &mut eframe::Frame) {
        self.ui_root(ui);
    }
}

/// A stored row as the tag's value (bools are stored as 0/1).
fn value_of(cfg: &TagConfig, row: &Row) -> Option<Value> {
    let is_bool = matches!(
        cfg.decoder,
        Decoder::Bool
            | Decoder::Json {
                value: ValueKind::Bool,
                ..
            }
    );
    match (&row.text, row.value) {
        (Some(t), _) => Some(Value::Text(Arc::from(t.as_str()))),
        (None, Some(v)) if is_bool => Some(Value::Bool(v != 0.0)),
        (None, Some(v)) => Some(Value::Number(v)),
        (None, None) => None,
    }
}

/// Open the replay window; returns when it closes.
pub fn run(
    project_dir: &Path,
    history: Option<&Path>,
    start_ms: Option<i64>,
) -> anyhow::Result<()> {
    let project = crate::project::load(project_dir)?;
    let history = history.map_or_else(
        || crate::history::history_path(&project.default_data_dir()),
        Path::to_owned,
    );
    let title = format!("PlantView — REPLAY of {}", project.name());
    let app = ReplayApp::open(project, &history, start_ms)?;
    let native = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title(title)
            .with_inner_size([1480.0, 900.0]),
        renderer: eframe::Renderer::Glow,
        ..Default::default()
    };
    eframe::run_native(
        "PlantView replay",
        native,
        Box::new(move |_| Ok(Box::new(app))),
    )
    .map_err(|e| anyhow::anyhow!("cannot open the window: {e}"))
}
