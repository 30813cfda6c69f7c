//! The application shell: top bar (project, broker state, clock), screen list, the running
//! screen, status bar. Reads engine state; never does I/O or waits on the UI thread.

use std::time::Duration;

use egui::{Align, Layout, RichText, Ui};

use crate::engine::{EngineHandle, Quality};
use crate::mqtt::ConnState;

use super::format;
use super::screen::screen_ui;
use super::theme::Theme;

pub struct PlantViewApp {
    engine: EngineHandle,
    theme: Theme,
    screen: usize,
    /// Tag whose details window is open (clicked on a screen).
    detail: Option<String>,
    /// Started on the first frame, when the egui context is known.
    wake_started: bool,
}

impl PlantViewApp {
    pub fn new(engine: EngineHandle) -> Self {
        Self {
            engine,
            theme: Theme::light(),
            screen: 0,
            detail: None,
            wake_started: false,
        }
    }

    pub fn engine(&self) -> &EngineHandle {
        &self.engine
    }

    /// Index of the screen on show.
    pub fn current_screen(&self) -> usize {
        self.screen
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
        egui::Panel::bottom("status_bar")
            .exact_size(24.0)
            .show(ui, |ui| self.status_bar_ui(ui));
        egui::Panel::left("screens")
            .resizable(false)
            .exact_size(170.0)
            .show(ui, |ui| self.screen_list_ui(ui));
        egui::CentralPanel::default_margins().show(ui, |ui| {
            let project = &self.engine.project;
            if let Some(screen) = project.screens.get(self.screen) {
                if let Some(tag) = screen_ui(ui, project, &self.engine.tags, screen, &self.theme) {
                    self.detail = Some(tag);
                }
            } else {
                ui.centered_and_justified(|ui| {
                    ui.label("This project has no screens yet.");
                });
            }
        });
        self.detail_window_ui(ui);
    }

    fn keyboard(&mut self, ui: &Ui) {
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
        if next {
            self.screen = (self.screen + 1) % n;
        }
        if prev {
            self.screen = (self.screen + n - 1) % n;
        }
    }

    fn top_bar_ui(&mut self, ui: &mut Ui) {
        ui.horizontal_centered(|ui| {
            ui.label(RichText::new("PlantView").strong().size(16.0));
            ui.separator();
            ui.label(RichText::new(self.engine.project.name()).size(15.0));
            if let Some(screen) = self.engine.project.screens.get(self.screen) {
                ui.label(RichText::new(format!("/  {}", screen.file.title)).size(15.0));
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
            // Inverse badge: impossible to miss, no alarm colour.
            egui::Frame::new()
                .fill(self.theme.badge_bg)
                .inner_margin(egui::Margin::symmetric(6, 2))
                .corner_radius(3.0)
                .show(ui, |ui| {
                    ui.label(RichText::new(text).color(self.theme.badge_text).strong());
                });
        } else {
            ui.label(RichText::new(text).color(self.theme.text_dim));
        }
    }

    fn screen_list_ui(&mut self, ui: &mut Ui) {
        ui.add_space(6.0);
        ui.label(RichText::new("Screens").strong());
        ui.add_space(4.0);
        for (i, screen) in self.engine.project.screens.iter().enumerate() {
            let selected = i == self.screen;
            if ui
                .selectable_label(selected, RichText::new(&screen.file.title).size(14.0))
                .clicked()
            {
                self.screen = i;
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
        let badge = |ui: &mut Ui, text: String| {
            egui::Frame::new()
                .fill(self.theme.badge_bg)
                .inner_margin(egui::Margin::symmetric(6, 0))
                .corner_radius(3.0)
                .show(ui, |ui| {
                    ui.label(RichText::new(text).color(self.theme.badge_text).strong());
                });
        };
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

    fn detail_window_ui(&mut self, ui: &Ui) {
        let Some(name) = self.detail.clone() else {
            return;
        };
        let project = &self.engine.project;
        let (Some(cfg), Some(state)) = (project.tag(&name), self.engine.tags.get_by_name(&name))
        else {
            self.detail = None;
            return;
        };
        let mut open = true;
        egui::Window::new(format!("Tag {name}"))
            .open(&mut open)
            .resizable(false)
            .collapsible(false)
            .show(ui.ctx(), |ui| {
                egui::Grid::new("tag_detail").num_columns(2).show(ui, |ui| {
                    let rows = [
                        ("Value", format::value_with_unit(cfg, &state)),
                        ("Quality", state.quality.to_string()),
                        ("Reason", state.reason.as_deref().unwrap_or("—").to_owned()),
                        ("Source time", format::local_datetime(state.source_ts_ms)),
                        ("Received", format::local_datetime(state.recv_ts_ms)),
                        ("Updates", state.updates.to_string()),
                        ("Topic", cfg.topic.clone()),
                        ("Description", cfg.description.clone()),
                    ];
                    for (k, v) in rows {
                        ui.label(RichText::new(k).color(self.theme.text_dim));
                        ui.label(v);
                        ui.end_row();
                    }
                });
            });
        if !open {
            self.detail = None;
        }
    }
}

impl eframe::App for PlantViewApp {
    fn ui(&mut self, ui: &mut Ui, _frame: &mut eframe::Frame) {
        self.ui_root(ui);
    }
}
