//! The application shell: top bar (project, broker state, clock), screen list, the running
//! screen, status bar. Reads engine state; never does I/O or waits on the UI thread.

mod edit_mode;

use std::time::Duration;

use egui::{Align, Layout, RichText, Ui};

use crate::engine::{EngineHandle, Quality};
use crate::mqtt::ConnState;

use super::editor::Editor;
use super::format;
use super::screen::{MiniTrends, ScreenContext, screen_ui};
use super::theme::Theme;
use super::trends::{TagTrendWindow, TrendsPage};

/// What the central area shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    Screen(usize),
    Trends,
    Alarms,
    AlarmHistory,
    Audit,
    /// Users and roles (admins of a project that requires login).
    Users,
}

/// Trend windows open at once at most (the oldest closes).
const MAX_TREND_WINDOWS: usize = 4;

pub struct PlantViewApp {
    engine: EngineHandle,
    theme: Theme,
    view: View,
    /// The trends page, made when first opened.
    trends: Option<TrendsPage>,
    /// Trend windows of tags clicked on screens.
    trend_windows: Vec<TagTrendWindow>,
    minis: MiniTrends,
    alarm_summary: super::alarms::SummaryPage,
    alarm_journal: super::alarms::JournalPage,
    audit: super::audit::AuditPage,
    /// The last refused alarm action, shown in the banner.
    alarm_error: Option<String>,
    horn: super::horn::Horn,
    setpoints: Vec<super::setpoint::SetpointDialog>,
    next_command_id: u64,
    events: tokio::sync::broadcast::Receiver<crate::engine::EngineEvent>,
    /// Started on the first frame, when the egui context is known.
    wake_started: bool,
    /// Template parameters of the screen on show (from the navigation button).
    screen_params: std::collections::BTreeMap<String, String>,
    images: super::images::ImageCache,
    /// The screen editor (kept while edits are unsaved, even outside edit mode).
    editor: Option<Editor>,
    editing: bool,
    /// Unsaved edits and the window was asked to close: ask first.
    close_prompt: bool,
    allow_close: bool,
    watch: super::watch::ProjectWatch,
    /// Autosaved edits found at start (a crash or a kill while editing): offered back.
    recovery: Option<(crate::project::Project, i64)>,
    /// A message about the project (save, reload, restart), shown in the top bar.
    notice: Option<String>,
    /// Who is at the keyboard (login, session lock).
    login: super::login::Login,
}

impl PlantViewApp {
    pub fn new(engine: EngineHandle) -> Self {
        let events = engine.events();
        let minis = MiniTrends::new(
            engine.project.clone(),
            engine.tags.clone(),
            history_path(&engine),
        );
        let watch = super::watch::ProjectWatch::start(&engine.project.dir);
        let recovery = match crate::project::edit::read_recovery(&engine.project.dir) {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!("ignoring the autosave file: {e}");
                None
            }
        };
        Self {
            screen_params: Default::default(),
            images: super::images::ImageCache::default(),
            editor: None,
            editing: false,
            close_prompt: false,
            allow_close: false,
            watch,
            recovery,
            notice: None,
            login: super::login::Login::new(&engine.project, &engine.status().data_dir),
            engine,
            theme: Theme::light(),
            view: View::Screen(0),
            trends: None,
            trend_windows: Vec::new(),
            minis,
            alarm_summary: super::alarms::SummaryPage::default(),
            alarm_journal: super::alarms::JournalPage::default(),
            audit: super::audit::AuditPage::default(),
            alarm_error: None,
            horn: super::horn::Horn::new(),
            setpoints: Vec::new(),
            next_command_id: 0,
            events,
            wake_started: false,
        }
    }

    pub fn view(&self) -> View {
        self.view
    }

    pub fn set_view(&mut self, view: View) {
        self.view = view;
    }

    /// The trends page, if it was opened.
    pub fn trends(&mut self) -> Option<&mut TrendsPage> {
        self.trends.as_mut()
    }

    /// The trends page, made if needed (not shown until the view is [`View::Trends`]).
    pub fn open_trends(&mut self) -> &mut TrendsPage {
        let (project, tags) = (self.engine.project.clone(), self.engine.tags.clone());
        let path = history_path(&self.engine);
        self.trends
            .get_or_insert_with(|| TrendsPage::new(project, tags, path))
    }

    /// Tags whose trend window is open.
    pub fn trend_windows(&self) -> Vec<String> {
        self.trend_windows
            .iter()
            .map(|w| w.tag().to_owned())
            .collect()
    }

    /// Open the setpoint dialog of `tag` (one per tag), if the person at the keyboard may write.
    pub fn open_setpoint(&mut self, tag: &str) {
        if !self.login.allows(crate::security::Action::WriteSetpoint) {
            self.notice = Some(format!(
                "{tag}: {}",
                self.login.why_not(crate::security::Action::WriteSetpoint)
            ));
            return;
        }
        if !self.setpoints.iter().any(|d| d.tag() == tag) {
            self.setpoints
                .push(super::setpoint::SetpointDialog::new(tag));
        }
    }

    /// Results of commands (setpoint writes) reach their dialogs.
    fn drain_events(&mut self) {
        use tokio::sync::broadcast::error::TryRecvError;
        loop {
            match self.events.try_recv() {
                Ok(crate::engine::EngineEvent::WriteResult { id, outcome, .. }) => {
                    for d in &mut self.setpoints {
                        d.on_result(id, &outcome);
                    }
                }
                Ok(crate::engine::EngineEvent::CommandResult { result: Err(e), .. }) => {
                    // A refusal or a failed alarm action: said where the operator looks.
                    self.alarm_error = Some(e.clone());
                    self.notice = Some(e);
                }
                Ok(_) | Err(TryRecvError::Lagged(_)) => {}
                Err(TryRecvError::Empty | TryRecvError::Closed) => break,
            }
        }
    }

    fn open_trend_window(&mut self, tag: &str) {
        if self.trend_windows.iter().any(|w| w.tag() == tag) {
            return;
        }
        if let Some(w) = TagTrendWindow::new(
            self.engine.project.clone(),
            self.engine.tags.clone(),
            history_path(&self.engine),
            tag,
        ) {
            if self.trend_windows.len() >= MAX_TREND_WINDOWS {
                self.trend_windows.remove(0);
            }
            self.trend_windows.push(w);
        }
    }

    pub fn engine(&self) -> &EngineHandle {
        &self.engine
    }

    /// Index of the screen on show (the last one shown while on the trends page).
    pub fn current_screen(&self) -> usize {
        match self.view {
            View::Screen(i) => i,
            View::Trends | View::Alarms | View::AlarmHistory | View::Audit | View::Users => 0,
        }
    }

    /// Repaint when data arrives, at most 20 times a second; never spin when nothing changes.
    fn start_wake(&mut self, ctx: &egui::Context) {
        if self.wake_started {
            return;
        }
        self.wake_started = true;
        self.theme.apply(ctx);
        super::theme::install_fonts(ctx);
        let mut feed = self.engine.tags.subscribe();
        let mut events = self.engine.events();
        let ctx = ctx.clone();
        let spawned = std::thread::Builder::new()
            .name("pv-gui-wake".to_owned())
            .spawn(move || {
                use tokio::sync::broadcast::error::TryRecvError;
                loop {
                    let mut any = false;
                    let mut closed = false;
                    loop {
                        match feed.try_recv() {
                            Ok(_) | Err(TryRecvError::Lagged(_)) => any = true,
                            Err(TryRecvError::Empty) => break,
                            Err(TryRecvError::Closed) => {
                                closed = true;
                                break;
                            }
                        }
                    }
                    while let Ok(_) | Err(TryRecvError::Lagged(_)) = events.try_recv() {
                        any = true;
                    }
                    if closed {
                        break;
                    }
                    if any {
                        ctx.request_repaint();
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
            });
        if let Err(e) = spawned {
            tracing::error!("cannot start the repaint thread: {e}; repainting every second");
        }
    }

    /// The whole UI (eframe calls this through [`eframe::App::ui`]; tests call it directly).
    pub fn ui_root(&mut self, ui: &mut Ui) {
        self.start_wake(ui.ctx());
        self.keyboard(ui);
        // The clock (and stale timers) need a frame at least every second.
        ui.ctx().request_repaint_after(Duration::from_millis(1000));

        egui::Panel::top("top_bar")
            .exact_size(34.0)
            .show(ui, |ui| self.top_bar_ui(ui));
        if let Some(alarms) = self.engine.alarms() {
            let mut open = false;
            egui::Panel::top("alarm_banner")
                .exact_size(30.0)
                .show(ui, |ui| {
                    let mut sender = super::alarms::AlarmSender {
                        engine: &self.engine,
                        actor: self.login.actor(),
                        next_id: &mut self.next_command_id,
                    };
                    open = super::alarms::banner_ui(
                        ui,
                        alarms,
                        &self.theme,
                        &mut self.alarm_error,
                        &mut self.horn,
                        &mut sender,
                    );
                });
            if open {
                self.view = View::Alarms;
            }
        }
        egui::Panel::bottom("status_bar")
            .exact_size(24.0)
            .show(ui, |ui| self.status_bar_ui(ui));
        self.project_banners_ui(ui);
        self.login.watch_inactivity(ui.ctx());
        self.login.dialog_ui(ui.ctx(), &self.theme);
        if self.login.locked {
            // The banner above keeps updating and sounding; the plant is out of reach.
            let theme = self.theme.clone();
            egui::CentralPanel::default_margins().show(ui, |ui| {
                self.login.lock_ui(ui, &theme);
            });
            return;
        }
        if self.editing {
            self.editor_ui(ui);
            self.after_frame(ui);
            return;
        }
        egui::Panel::left("screens")
            .resizable(false)
            .exact_size(170.0)
            .show(ui, |ui| self.screen_list_ui(ui));
        egui::CentralPanel::default_margins().show(ui, |ui| match self.view {
            View::Trends => {
                let theme = self.theme.clone();
                self.open_trends().ui(ui, &theme);
            }
            View::Audit => {
                let path = crate::security::audit_path(&self.engine.status().data_dir);
                self.audit.ui(ui, path);
            }
            View::Users => {
                let theme = self.theme.clone();
                self.login.users_ui(ui, &theme);
            }
            View::AlarmHistory => match self.engine.alarms() {
                Some(alarms) => self.alarm_journal.ui(ui, alarms, &self.theme),
                None => {
                    ui.label(
                        self.engine
                            .alarms_error()
                            .unwrap_or("This project defines no alarms."),
                    );
                }
            },
            View::Alarms => match self.engine.alarms() {
                Some(alarms) => {
                    let mut sender = super::alarms::AlarmSender {
                        engine: &self.engine,
                        actor: self.login.actor(),
                        next_id: &mut self.next_command_id,
                    };
                    self.alarm_summary.ui(ui, alarms, &self.theme, &mut sender);
                }
                None => {
                    ui.label(
                        self.engine
                            .alarms_error()
                            .unwrap_or("This project defines no alarms."),
                    );
                }
            },
            View::Screen(i) => {
                let project = self.engine.project.clone();
                if let Some(screen) = project.screens.get(i) {
                    let cx = ScreenContext {
                        project: &project,
                        store: &self.engine.tags,
                        theme: &self.theme,
                        alarms: self.engine.alarms(),
                        images: &self.images,
                    };
                    let params = self.screen_params.clone();
                    if let Some(action) = screen_ui(ui, &cx, screen, &params, &mut self.minis) {
                        self.on_screen_action(action);
                    }
                } else {
                    ui.centered_and_justified(|ui| {
                        ui.label("This project has no screens yet.");
                    });
                }
            }
        });
        self.after_frame(ui);
    }

    /// Windows and results that live beside every view.
    fn after_frame(&mut self, ui: &mut Ui) {
        let ctx = ui.ctx().clone();
        let theme = &self.theme;
        self.trend_windows.retain_mut(|w| w.show(&ctx, theme));
        self.drain_events();
        let (engine, next_id) = (&self.engine, &mut self.next_command_id);
        let actor = self.login.actor();
        self.setpoints
            .retain_mut(|d| d.show(&ctx, engine, next_id, &actor));
    }

    fn keyboard(&mut self, ui: &Ui) {
        if ui.input(|i| i.modifiers.command && i.key_pressed(egui::Key::E)) {
            self.set_editing(!self.editing);
        }
        let n = self.engine.project.screens.len();
        if n == 0 {
            return;
        }
        let (next, prev) = ui.input(|i| {
            (
                i.modifiers.ctrl && i.key_pressed(egui::Key::PageDown),
                i.modifiers.ctrl && i.key_pressed(egui::Key::PageUp),
            )
        });
        let current = self.current_screen();
        if next {
            self.view = View::Screen((current + 1) % n);
        }
        if prev {
            self.view = View::Screen((current + n - 1) % n);
        }
    }

    fn top_bar_ui(&mut self, ui: &mut Ui) {
        ui.horizontal_centered(|ui| {
            ui.label(RichText::new("PlantView").strong().size(16.0));
            ui.separator();
            ui.label(RichText::new(self.engine.project.name()).size(15.0));
            let title = match self.view {
                View::Trends => Some("Trends"),
                View::Alarms => Some("Alarms"),
                View::AlarmHistory => Some("Alarm history"),
                View::Audit => Some("Audit trail"),
                View::Users => Some("Users"),
                View::Screen(i) => self
                    .engine
                    .project
                    .screens
                    .get(i)
                    .map(|s| s.file.title.as_str()),
            };
            if let Some(title) = title {
                let title = crate::project::template::fill(title, &self.screen_params);
                ui.label(RichText::new(format!("/  {title}")).size(15.0));
            }
            ui.separator();
            let edit_label = if self.editing { "Done editing" } else { "Edit" };
            if ui
                .selectable_label(self.editing, edit_label)
                .on_hover_text("Edit mode (Ctrl+E)")
                .clicked()
            {
                self.set_editing(!self.editing);
            }
            if self.editor.as_mut().is_some_and(Editor::is_dirty) {
                badge_ui(ui, &self.theme, "● Unsaved changes".to_owned());
            }
            if let Some(n) = &self.notice {
                ui.label(RichText::new(n).color(self.theme.text_dim));
            }
            ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
                let now = crate::engine::now_ms();
                ui.label(
                    RichText::new(format::local_datetime(now).get(..19).unwrap_or_default())
                        .monospace()
                        .size(15.0),
                );
                ui.separator();
                let theme_label = if self.theme.dark {
                    "Light theme"
                } else {
                    "Dark theme"
                };
                if ui.small_button(theme_label).clicked() {
                    self.theme = if self.theme.dark {
                        Theme::light()
                    } else {
                        Theme::dark()
                    };
                    self.theme.apply(ui.ctx());
                }
                ui.separator();
                self.broker_state_ui(ui);
                ui.separator();
                let theme = self.theme.clone();
                self.login.top_bar_ui(ui, &theme);
            });
        });
    }

    fn broker_state_ui(&self, ui: &mut Ui) {
        let status = self.engine.status();
        let (text, abnormal) = match &status.connection {
            ConnState::Connected => (format!("MQTT connected · {}", status.broker), false),
            ConnState::Connecting => (format!("MQTT connecting… · {}", status.broker), true),
            ConnState::Disconnected {
                reason,
                retry_in_ms,
            } => (
                format!(
                    "MQTT DISCONNECTED · {} · retry in {:.1} s",
                    reason,
                    *retry_in_ms as f64 / 1000.0
                ),
                true,
            ),
        };
        if abnormal {
            badge_ui(ui, &self.theme, text);
        } else {
            ui.label(RichText::new(text).color(self.theme.text_dim));
        }
    }

    fn screen_list_ui(&mut self, ui: &mut Ui) {
        ui.add_space(6.0);
        ui.label(RichText::new("Screens").strong());
        ui.add_space(4.0);
        for (i, screen) in self.engine.project.screens.iter().enumerate() {
            if screen.file.template {
                continue;
            }
            let selected = self.view == View::Screen(i);
            if ui
                .selectable_label(selected, RichText::new(&screen.file.title).size(14.0))
                .clicked()
            {
                self.view = View::Screen(i);
                self.screen_params.clear();
            }
        }
        ui.add_space(10.0);
        ui.separator();
        ui.add_space(4.0);
        ui.label(RichText::new("Analysis").strong());
        ui.add_space(4.0);
        for (view, label) in [
            (View::Trends, "Trends"),
            (View::Alarms, "Alarms"),
            (View::AlarmHistory, "Alarm history"),
            (View::Audit, "Audit trail"),
        ] {
            if ui
                .selectable_label(self.view == view, RichText::new(label).size(14.0))
                .clicked()
            {
                self.view = view;
            }
        }
        if self.login.required() && self.login.allows(crate::security::Action::ManageUsers) {
            ui.add_space(10.0);
            ui.separator();
            if ui
                .selectable_label(self.view == View::Users, RichText::new("Users").size(14.0))
                .clicked()
            {
                self.view = View::Users;
            }
        }
    }

    fn status_bar_ui(&self, ui: &mut Ui) {
        let (mut bad, mut stale) = (0, 0);
        self.engine.tags.read(|states| {
            for s in states {
                match s.quality {
                    Quality::Bad => bad += 1,
                    Quality::Stale => stale += 1,
                    Quality::Good | Quality::Uncertain => {}
                }
            }
        });
        let status = self.engine.status();
        ui.horizontal_centered(|ui| {
            ui.label(format!("{} tags", self.engine.tags.len()));
            ui.separator();
            let q = format!("{bad} bad · {stale} stale");
            if bad + stale > 0 {
                ui.label(RichText::new(q).strong());
            } else {
                ui.label(q);
            }
            if status.simulator {
                ui.separator();
                ui.label("Simulator running");
            }
            ui.separator();
            self.history_status_ui(ui);
            for (name, status) in self.engine.device_status() {
                ui.separator();
                match status {
                    crate::modbus::DeviceStatus::Connected => {
                        ui.label(format!("{name}: connected"));
                    }
                    other => {
                        let text = match other {
                            crate::modbus::DeviceStatus::Retrying { reason, attempt } => {
                                format!("{name}: RETRYING ({attempt}) {reason}")
                            }
                            crate::modbus::DeviceStatus::Failed { reason } => {
                                format!("{name}: FAILED {reason}")
                            }
                            crate::modbus::DeviceStatus::Connected => String::new(),
                        };
                        badge_ui(ui, &self.theme, text);
                    }
                }
            }
            ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
                ui.label(
                    RichText::new(format!("data: {}", status.data_dir.display()))
                        .color(self.theme.text_dim),
                );
            });
        });
    }

    /// History state: quiet when fine, an inverse badge when degraded or off.
    fn history_status_ui(&self, ui: &mut Ui) {
        let badge = |ui: &mut Ui, text: String| badge_ui(ui, &self.theme, text);
        match (self.engine.history_status(), self.engine.history_error()) {
            (Some(h), _) => match &h.degraded {
                None => {
                    ui.label(format!("History: {} rows written", h.written));
                }
                Some(why) => badge(
                    ui,
                    format!(
                        "HISTORY DEGRADED: {why} · {} queued · {} spilled · {} lost",
                        h.queued, h.spilled, h.lost
                    ),
                ),
            },
            (None, Some(err)) => badge(ui, err.to_owned()),
            (None, None) => {
                ui.label("History off");
            }
        }
    }
}

/// An inverse badge for an abnormal state: impossible to miss, and no alarm colour.
pub fn badge_ui(ui: &mut Ui, theme: &Theme, text: String) {
    egui::Frame::new()
        .fill(theme.badge_bg)
        .inner_margin(egui::Margin::symmetric(6, 1))
        .corner_radius(3.0)
        .show(ui, |ui| {
            ui.label(RichText::new(text).color(theme.badge_text).strong());
        });
}

/// The engine's history file, when history is on.
fn history_path(engine: &EngineHandle) -> Option<std::path::PathBuf> {
    engine
        .history_status()
        .map(|_| crate::history::history_path(&engine.status().data_dir))
}

impl eframe::App for PlantViewApp {
    fn ui(&mut self, ui: &mut Ui, _frame: &mut eframe::Frame) {
        self.ui_root(ui);
    }
}
