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
    let cleared = if a.state == AlarmState::UnackRtn {
        "  (cleared, not acknowledged)"
    } else {
        ""
    };
    format!("{when}  {}  {}  {value}{cleared}", a.name, a.message)
}

/// Sends alarm actions through the engine's command layer as the person at the keyboard (the
/// engine checks the role, journals the action or audits the refusal; the answer comes back
/// as an event).
pub struct AlarmSender<'a> {
    pub engine: &'a crate::engine::EngineHandle,
    pub actor: crate::security::Actor,
    pub next_id: &'a mut u64,
}

impl AlarmSender<'_> {
    pub fn submit(&mut self, command: AlarmCommand) -> Result<(), String> {
        *self.next_id += 1;
        self.engine.send(crate::engine::Command::Alarm {
            id: *self.next_id,
            actor: self.actor.clone(),
            command,
        })
    }
}

/// The banner. Returns true when the operator asked for the alarm summary.
pub fn banner_ui(
    ui: &mut Ui,
    alarms: &AlarmHandle,
    theme: &Theme,
    last_error: &mut Option<String>,
    horn: &mut super::horn::Horn,
    sender: &mut AlarmSender<'_>,
) -> bool {
    let list: Vec<ActiveAlarm> = alarms.active().into_iter().filter(|a| !hidden(a)).collect();
    let unacked: Vec<&ActiveAlarm> = list
        .iter()
        .filter(|a| a.state.is_unacknowledged())
        .collect();
    let newest = unacked
        .iter()
        .filter_map(|a| a.activated_ms)
        .max()
        .map_or(0, |t| u64::try_from(t).unwrap_or(0));
    horn.update(!unacked.is_empty(), newest);
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
                    *last_error = sender.submit(cmd).err();
                }
                if horn.available() && !horn.silenced() && ui.button("Silence").clicked() {
                    horn.silence(newest);
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
    state: StateFilter,
    sort: SortBy,
    show_hidden: bool,
    comment: String,
    shelve_reason: String,
    shelve_minutes: u32,
    message: Option<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum StateFilter {
    #[default]
    All,
    Unacknowledged,
    Active,
}

/// Sort order of the summary (default: priority, then newest — ISA-18.2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum SortBy {
    #[default]
    Priority,
    Time,
    Area,
    Alarm,
}

impl SummaryPage {
    pub fn ui(
        &mut self,
        ui: &mut Ui,
        alarms: &AlarmHandle,
        theme: &Theme,
        sender: &mut AlarmSender<'_>,
    ) {
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
            ui.label("State:");
            ui.selectable_value(&mut self.state, StateFilter::All, "all");
            ui.selectable_value(
                &mut self.state,
                StateFilter::Unacknowledged,
                "unacknowledged",
            );
            ui.selectable_value(&mut self.state, StateFilter::Active, "active");
            ui.separator();
            ui.checkbox(
                &mut self.show_hidden,
                "Show shelved / suppressed / out of service",
            );
        });
        let mut list: Vec<&ActiveAlarm> = all
            .iter()
            .filter(|a| self.priority.is_none_or(|p| a.priority == p))
            .filter(|a| self.area.is_empty() || a.area == self.area)
            .filter(|a| self.show_hidden || !hidden(a))
            .filter(|a| match self.state {
                StateFilter::All => true,
                StateFilter::Unacknowledged => a.state.is_unacknowledged(),
                StateFilter::Active => a.condition,
            })
            .collect();
        match self.sort {
            SortBy::Priority => {} // the engine's order: priority, then newest
            SortBy::Time => list.sort_by_key(|a| std::cmp::Reverse(a.activated_ms)),
            SortBy::Area => list.sort_by(|a, b| a.area.cmp(&b.area)),
            SortBy::Alarm => list.sort_by(|a, b| a.name.cmp(&b.name)),
        }
        ui.horizontal(|ui| {
            let user = operator();
            let comment_label = ui.label("Comment:");
            ui.add(egui::TextEdit::singleline(&mut self.comment).desired_width(160.0))
                .labelled_by(comment_label.id);
            let comment = (!self.comment.trim().is_empty()).then(|| self.comment.trim().to_owned());
            if ui.button("Acknowledge selected").clicked() {
                let names: Vec<String> = list
                    .iter()
                    .filter(|a| self.selected.contains(&a.name))
                    .map(|a| a.name.clone())
                    .collect();
                self.message = sender
                    .submit(AlarmCommand::Ack {
                        names,
                        user: user.clone(),
                        comment: comment.clone(),
                    })
                    .err();
            }
            if ui.button("Acknowledge page").clicked() {
                let names = list.iter().map(|a| a.name.clone()).collect();
                self.message = sender
                    .submit(AlarmCommand::Ack {
                        names,
                        user: user.clone(),
                        comment,
                    })
                    .err();
            }
        });
        ui.horizontal(|ui| {
            let user = operator();
            let shelve_label = ui.label("Shelve selected for");
            ui.add(
                egui::DragValue::new(&mut self.shelve_minutes)
                    .range(1..=480)
                    .suffix(" min"),
            )
            .labelled_by(shelve_label.id);
            let reason = ui.label("reason:");
            ui.add(egui::TextEdit::singleline(&mut self.shelve_reason).desired_width(160.0))
                .labelled_by(reason.id);
            if ui.button("Shelve").clicked() {
                if self.shelve_reason.trim().is_empty() {
                    self.message = Some("give a reason to shelve".to_owned());
                } else {
                    for a in list.iter().filter(|a| self.selected.contains(&a.name)) {
                        self.message = sender
                            .submit(AlarmCommand::Shelve {
                                name: a.name.clone(),
                                user: user.clone(),
                                shelve_for: ShelveFor::Seconds(self.shelve_minutes * 60),
                                reason: self.shelve_reason.clone(),
                            })
                            .err();
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
                    .num_columns(7)
                    .striped(true)
                    .show(ui, |ui| {
                        // Click a header to sort by it.
                        for (h, by) in [
                            ("Alarm", Some(SortBy::Alarm)),
                            ("Priority", Some(SortBy::Priority)),
                            ("Time", Some(SortBy::Time)),
                            ("Area", Some(SortBy::Area)),
                            ("Message", None),
                            ("Value", None),
                            ("State", None),
                        ] {
                            match by {
                                Some(by) => {
                                    let text = RichText::new(h).strong();
                                    if ui.selectable_label(self.sort == by, text).clicked() {
                                        self.sort = by;
                                    }
                                }
                                None => {
                                    ui.label(RichText::new(h).strong());
                                }
                            }
                        }
                        ui.end_row();
                        for a in &list {
                            let mut sel = self.selected.contains(&a.name);
                            if ui.checkbox(&mut sel, &a.name).changed() {
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

type JournalResult = Result<Vec<crate::alarms::JournalEntry>, String>;

/// The alarm history page: the journal over a time range, filtered by priority, area and
/// alarm name. Queries run on a named thread; the page shows the last result meanwhile.
pub struct JournalPage {
    range_ms: i64,
    priority: Option<Priority>,
    area: String,
    alarm: String,
    result: std::sync::Arc<parking_lot::Mutex<Option<JournalResult>>>,
    shown: Option<JournalResult>,
    dirty: bool,
}

impl Default for JournalPage {
    fn default() -> Self {
        Self {
            range_ms: 24 * 3_600_000,
            priority: None,
            area: String::new(),
            alarm: String::new(),
            result: std::sync::Arc::default(),
            shown: None,
            dirty: true,
        }
    }
}

/// Journal rows shown at most (newest first).
const JOURNAL_ROWS: usize = 2_000;

impl JournalPage {
    fn query(&mut self, ctx: &egui::Context, path: std::path::PathBuf) {
        self.dirty = false;
        let q = crate::alarms::JournalQuery {
            from_ms: Some(crate::engine::now_ms() - self.range_ms),
            priorities: self.priority.into_iter().collect(),
            area: (!self.area.trim().is_empty()).then(|| self.area.trim().to_owned()),
            alarm: (!self.alarm.trim().is_empty()).then(|| self.alarm.trim().to_owned()),
            limit: JOURNAL_ROWS,
            ..Default::default()
        };
        let slot = self.result.clone();
        let ctx = ctx.clone();
        let spawned = std::thread::Builder::new()
            .name("pv-journal-query".to_owned())
            .spawn(move || {
                let r = crate::alarms::open_reader(&path)
                    .and_then(|c| crate::alarms::query(&c, &q))
                    .map_err(|e| format!("cannot read the alarm journal {}: {e}", path.display()));
                *slot.lock() = Some(r);
                ctx.request_repaint();
            });
        if let Err(e) = spawned {
            self.shown = Some(Err(format!("cannot start the journal query: {e}")));
        }
    }

    pub fn ui(&mut self, ui: &mut Ui, alarms: &AlarmHandle, theme: &Theme) {
        if let Some(r) = self.result.lock().take() {
            self.shown = Some(r);
        }
        ui.horizontal(|ui| {
            ui.label(RichText::new("Alarm history").strong().size(16.0));
            ui.separator();
            for (label, ms) in [
                ("1 h", 3_600_000),
                ("8 h", 8 * 3_600_000),
                ("24 h", 24 * 3_600_000),
                ("7 d", 7 * 24 * 3_600_000),
                ("30 d", 30 * 24 * 3_600_000),
            ] {
                if ui.selectable_label(self.range_ms == ms, label).clicked() {
                    self.range_ms = ms;
                    self.dirty = true;
                }
            }
            ui.separator();
            ui.label("Priority:");
            if ui
                .selectable_label(self.priority.is_none(), "All")
                .clicked()
            {
                self.priority = None;
                self.dirty = true;
            }
            for p in Priority::ALL {
                if ui
                    .selectable_label(self.priority == Some(p), p.as_str())
                    .clicked()
                {
                    self.priority = Some(p);
                    self.dirty = true;
                }
            }
            ui.separator();
            let l = ui.label("Area:");
            if ui
                .add(egui::TextEdit::singleline(&mut self.area).desired_width(90.0))
                .labelled_by(l.id)
                .changed()
            {
                self.dirty = true;
            }
            let l = ui.label("Alarm:");
            if ui
                .add(egui::TextEdit::singleline(&mut self.alarm).desired_width(140.0))
                .labelled_by(l.id)
                .changed()
            {
                self.dirty = true;
            }
            if ui.button("Refresh").clicked() {
                self.dirty = true;
            }
        });
        if self.dirty {
            self.query(ui.ctx(), alarms.journal_path().to_owned());
        }
        ui.separator();
        match &self.shown {
            None => {
                ui.label("Reading the journal…");
            }
            Some(Err(e)) => {
                ui.label(RichText::new(e).strong());
            }
            Some(Ok(rows)) => {
                ui.label(format!(
                    "{} event(s), newest first{}",
                    rows.len(),
                    if rows.len() == JOURNAL_ROWS {
                        " (limit reached: narrow the filter)"
                    } else {
                        ""
                    }
                ));
                egui::ScrollArea::vertical()
                    .auto_shrink([false, false])
                    .show(ui, |ui| {
                        egui::Grid::new("alarm_journal")
                            .num_columns(8)
                            .striped(true)
                            .show(ui, |ui| {
                                for h in [
                                    "Time",
                                    "Priority",
                                    "Area",
                                    "Alarm",
                                    "Event",
                                    "State",
                                    "Value",
                                    "User / comment",
                                ] {
                                    ui.label(RichText::new(h).strong());
                                }
                                ui.end_row();
                                for r in rows {
                                    let e = &r.event;
                                    ui.label(format::local_datetime(e.ts_ms));
                                    egui::Frame::new()
                                        .fill(priority_colour(theme, r.priority))
                                        .inner_margin(egui::Margin::symmetric(4, 0))
                                        .show(ui, |ui| {
                                            ui.label(
                                                RichText::new(r.priority.as_str())
                                                    .color(Color32::BLACK),
                                            );
                                        });
                                    ui.label(&r.area);
                                    ui.label(&*e.alarm);
                                    ui.label(e.kind.as_str());
                                    ui.label(format!(
                                        "{} → {}",
                                        e.state_from.as_str(),
                                        e.state_to.as_str()
                                    ));
                                    ui.label(
                                        e.value
                                            .as_ref()
                                            .map(ToString::to_string)
                                            .unwrap_or_default(),
                                    );
                                    let who = match (&e.user, &e.comment) {
                                        (Some(u), Some(c)) => format!("{u}: {c}"),
                                        (Some(u), None) => u.clone(),
                                        (None, Some(c)) => c.clone(),
                                        (None, None) => String::new(),
                                    };
                                    ui.label(who);
                                    ui.end_row();
                                }
                            });
                    });
            }
        }
    }
}
