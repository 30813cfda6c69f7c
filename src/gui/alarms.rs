//! Alarms in the GUI: the banner that is always visible (counts per priority, the newest
//! highest-priority unacknowledged alarm, flashing while unacknowledged, Acknowledge) and the
//! alarm summary page (filter by priority and area, select, acknowledge selected or the page,
//! shelve, health). Operator actions go to the alarm engine as commands with the user; the UI
//! never waits for the journal.

use std::collections::HashSet;
use std::time::Duration;

use egui::{Color32, RichText, Ui};

use crate::alarms::{ActiveAlarm, AlarmCommand, AlarmHandle, AlarmState, Priority, ShelveFor};

use super::format;
use super::theme::Theme;

/// The operator's name for the journal (the OS user until login exists).
pub fn operator() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "operator".to_owned())
}

pub fn priority_colour(theme: &Theme, p: Priority) -> Color32 {
    let i = Priority::ALL.iter().position(|x| *x == p).unwrap_or(3);
    theme.priority[i]
}

/// Flash phase: on for 500 ms, off for 500 ms.
fn flash_on(ui: &Ui) -> bool {
    ui.input(|i| (i.time * 2.0) as i64 % 2 == 0)
}

/// What the operator sees of an alarm in one line.
pub fn alarm_line(a: &ActiveAlarm) -> String {
    let when = a.activated_ms.map(format::local_time).unwrap_or_default();
    let value = a
        .value
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    format!("{when}  {}  {}  {value}", a.name, a.message)
}

/// The banner. Returns true when the operator asked for the alarm summary.
pub fn banner_ui(
    ui: &mut Ui,
    alarms: &AlarmHandle,
    theme: &Theme,
    last_error: &mut Option<String>,
) -> bool {
    let list: Vec<ActiveAlarm> = alarms.active().into_iter().filter(|a| !hidden(a)).collect();
    let unacked: Vec<&ActiveAlarm> = list
        .iter()
        .filter(|a| a.state.is_unacknowledged())
        .collect();
    let mut open_summary = false;
    if !unacked.is_empty() {
        ui.ctx().request_repaint_after(Duration::from_millis(250));
    }
    ui.horizontal_centered(|ui| {
        for p in Priority::ALL {
            let n = list.iter().filter(|a| a.priority == p).count();
            let colour = priority_colour(theme, p);
            let text = format!("{} {n}", p.as_str().to_uppercase());
            let (fill, fg) = if n > 0 {
                (colour, Color32::BLACK)
            } else {
                (theme.chrome, theme.text_dim)
            };
            egui::Frame::new()
                .fill(fill)
                .inner_margin(egui::Margin::symmetric(6, 1))
                .corner_radius(3.0)
                .show(ui, |ui| {
                    ui.label(RichText::new(text).color(fg).strong());
                });
        }
        ui.separator();
        // Newest highest-priority unacknowledged first (the list is sorted that way).
        match unacked.first() {
            Some(a) => {
                let colour = priority_colour(theme, a.priority);
                let on = flash_on(ui);
                let (fill, fg) = if on {
                    (colour, Color32::BLACK)
                } else {
                    (theme.badge_bg, theme.badge_text)
                };
                egui::Frame::new()
                    .fill(fill)
                    .inner_margin(egui::Margin::symmetric(6, 1))
                    .corner_radius(3.0)
                    .show(ui, |ui| {
                        ui.label(RichText::new(alarm_line(a)).color(fg).strong());
                    });
                if ui.button("Acknowledge").clicked() {
                    let cmd = AlarmCommand::Ack {
                        names: vec![a.name.clone()],
                        user: operator(),
                        comment: None,
                    };
                    *last_error = alarms.submit(cmd).err().map(|e| e.to_string());
                }
                if unacked.len() > 1 {
                    ui.label(format!("+{} more unacknowledged", unacked.len() - 1));
                }
            }
            None if list.is_empty() => {
                ui.label(RichText::new("No active alarms").color(theme.text_dim));
            }
            None => {
                ui.label(format!("{} active, all acknowledged", list.len()));
            }
        }
        if let Some(err) = last_error.as_deref() {
            ui.label(RichText::new(format!("Alarm action refused: {err}")).strong());
        }
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui.button("Alarm summary").clicked() {
                open_summary = true;
            }
        });
    });
    open_summary
}

fn hidden(a: &ActiveAlarm) -> bool {
    a.shelved.is_some() || a.suppressed || a.out_of_service
}

/// State of the summary page.
#[derive(Default)]
pub struct SummaryPage {
    selected: HashSet<String>,
    priority: Option<Priority>,
    area: String,
    show_hidden: bool,
    shelve_reason: String,
    shelve_minutes: u32,
    message: Option<String>,
}

impl SummaryPage {
    pub fn ui(&mut self, ui: &mut Ui, alarms: &AlarmHandle, theme: &Theme) {
        if self.shelve_minutes == 0 {
            self.shelve_minutes = 60;
        }
        let now = crate::engine::now_ms();
        let all = alarms.active();
        let areas: Vec<String> = {
            let mut a: Vec<String> = all.iter().map(|x| x.area.clone()).collect();
            a.sort();
            a.dedup();
            a
        };
        ui.horizontal(|ui| {
            ui.label(RichText::new("Alarm summary").strong().size(16.0));
            ui.separator();
            ui.label("Priority:");
            ui.selectable_value(&mut self.priority, None, "All");
            for p in Priority::ALL {
                ui.selectable_value(&mut self.priority, Some(p), p.as_str());
            }
            ui.separator();
            ui.label("Area:");
            ui.selectable_value(&mut self.area, String::new(), "All");
            for a in &areas {
                ui.selectable_value(&mut self.area, a.clone(), a.as_str());
            }
            ui.separator();
            ui.checkbox(
                &mut self.show_hidden,
                "Show shelved / suppressed / out of service",
            );
        });
        let list: Vec<&ActiveAlarm> = all
            .iter()
            .filter(|a| self.priority.is_none_or(|p| a.priority == p))
            .filter(|a| self.area.is_empty() || a.area == self.area)
            .filter(|a| self.show_hidden || !hidden(a))
            .collect();
        ui.horizontal(|ui| {
            let user = operator();
            if ui.button("Acknowledge selected").clicked() {
                let names: Vec<String> = list
                    .iter()
                    .filter(|a| self.selected.contains(&a.name))
                    .map(|a| a.name.clone())
                    .collect();
                self.message = alarms
                    .submit(AlarmCommand::Ack {
                        names,
                        user: user.clone(),
                        comment: None,
                    })
                    .err()
                    .map(|e| e.to_string());
            }
            if ui.button("Acknowledge page").clicked() {
                let names = list.iter().map(|a| a.name.clone()).collect();
                self.message = alarms
                    .submit(AlarmCommand::Ack {
                        names,
                        user: user.clone(),
                        comment: None,
                    })
                    .err()
                    .map(|e| e.to_string());
            }
            ui.separator();
            ui.label("Shelve selected for");
            ui.add(
                egui::DragValue::new(&mut self.shelve_minutes)
                    .range(1..=480)
                    .suffix(" min"),
            );
            let reason = ui.label("reason:");
            ui.add(egui::TextEdit::singleline(&mut self.shelve_reason).desired_width(160.0))
                .labelled_by(reason.id);
            if ui.button("Shelve").clicked() {
                if self.shelve_reason.trim().is_empty() {
                    self.message = Some("give a reason to shelve".to_owned());
                } else {
                    for a in list.iter().filter(|a| self.selected.contains(&a.name)) {
                        self.message = alarms
                            .submit(AlarmCommand::Shelve {
                                name: a.name.clone(),
                                user: user.clone(),
                                shelve_for: ShelveFor::Seconds(self.shelve_minutes * 60),
                                reason: self.shelve_reason.clone(),
                            })
                            .err()
                            .map(|e| e.to_string());
                    }
                }
            }
            if let Some(m) = &self.message {
                ui.label(RichText::new(m).strong());
            }
        });
        ui.separator();
        egui::ScrollArea::vertical()
            .auto_shrink([false, true])
            .max_height(ui.available_height() - 60.0)
            .show(ui, |ui| {
                egui::Grid::new("alarm_summary")
                    .num_columns(8)
                    .striped(true)
                    .show(ui, |ui| {
                        for h in [
                            "", "Priority", "Time", "Area", "Alarm", "Message", "Value", "State",
                        ] {
                            ui.label(RichText::new(h).strong());
                        }
                        ui.end_row();
                        for a in &list {
                            let mut sel = self.selected.contains(&a.name);
                            if ui
                                .checkbox(&mut sel, "")
                                .on_hover_text(format!("Select {}", a.name))
                                .changed()
                            {
                                if sel {
                                    self.selected.insert(a.name.clone());
                                } else {
                                    self.selected.remove(&a.name);
                                }
                            }
                            let colour = priority_colour(theme, a.priority);
                            egui::Frame::new()
                                .fill(colour)
                                .inner_margin(egui::Margin::symmetric(4, 0))
                                .show(ui, |ui| {
                                    ui.label(
                                        RichText::new(a.priority.as_str()).color(Color32::BLACK),
                                    );
                                });
                            ui.label(
                                a.activated_ms
                                    .map(format::local_datetime)
                                    .unwrap_or_default(),
                            );
                            ui.label(&a.area);
                            ui.label(&a.name);
                            ui.label(&a.message);
                            ui.label(
                                a.value
                                    .as_ref()
                                    .map(ToString::to_string)
                                    .unwrap_or_default(),
                            );
                            ui.label(state_text(a));
                            ui.end_row();
                        }
                    });
            });
        ui.separator();
        health_ui(ui, &alarms.health(now));
    }
}

fn state_text(a: &ActiveAlarm) -> String {
    let mut s = match a.state {
        AlarmState::Normal => "normal",
        AlarmState::UnackActive => "ACTIVE, unacknowledged",
        AlarmState::AckActive => "active, acknowledged",
        AlarmState::UnackRtn => "cleared, unacknowledged",
    }
    .to_owned();
    if a.shelved.is_some() {
        s.push_str(" · shelved");
    }
    if a.suppressed {
        s.push_str(" · suppressed");
    }
    if a.out_of_service {
        s.push_str(" · out of service");
    }
    s
}

/// Alarm-system health (ISA-18.2 metrics) in one line, abnormal parts in bold.
fn health_ui(ui: &mut Ui, h: &crate::alarms::AlarmHealth) {
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new("Alarm system health:").strong());
        let areas: Vec<String> = h
            .per_area
            .iter()
            .map(|(a, n)| format!("{} {n}", if a.is_empty() { "(no area)" } else { a }))
            .collect();
        ui.label(format!(
            "{} alarms in the last 10 min{}",
            h.activations_10min,
            if areas.is_empty() {
                String::new()
            } else {
                format!(" ({})", areas.join(", "))
            }
        ));
        if h.flood {
            ui.label(RichText::new("· FLOOD (> 10 in 10 min)").strong());
        }
        if !h.chattering.is_empty() {
            ui.label(RichText::new(format!("· chattering: {}", h.chattering.join(", "))).strong());
        }
        if !h.stale.is_empty() {
            ui.label(RichText::new(format!("· stale (> 24 h): {}", h.stale.join(", "))).strong());
        }
        if let Some(e) = &h.journal_error {
            ui.label(
                RichText::new(format!(
                    "· JOURNAL FAILING: {e} ({} not yet written)",
                    h.unjournaled
                ))
                .strong(),
            );
        }
    });
}
