//! Alarm journal entries of the visible range, read from `alarms.sqlite` beside the history
//! file on a `pv-journal-marks` thread: listed beside the trend, and marked on its time axis in
//! their priority colour. A click on an entry puts cursor A there.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender};

use egui::{RichText, ScrollArea, Ui};

use crate::alarms::{JournalEntry, JournalQuery, Priority};
use crate::gui::theme::Theme;

/// Entries shown at most (the newest of the range).
const LIMIT: usize = 500;

pub struct JournalMarks {
    path: Option<PathBuf>,
    tx: Option<SyncSender<(i64, i64)>>,
    rx: Option<Receiver<Result<Vec<JournalEntry>, String>>>,
    asked: Option<(i64, i64)>,
    pub entries: Vec<JournalEntry>,
    error: Option<String>,
}

impl JournalMarks {
    /// The journal beside `history`, if there is one.
    pub fn start(history: &Path) -> Self {
        let path = super::stats::journal_beside(history);
        let (mut tx, mut rx) = (None, None);
        if let Some(p) = path.clone() {
            let (req_tx, req_rx) = std::sync::mpsc::sync_channel::<(i64, i64)>(2);
            let (ans_tx, ans_rx) = std::sync::mpsc::sync_channel(2);
            let spawned = std::thread::Builder::new()
                .name("pv-journal-marks".to_owned())
                .spawn(move || {
                    let conn = crate::alarms::open_reader(&p);
                    while let Ok(mut range) = req_rx.recv() {
                        while let Ok(newer) = req_rx.try_recv() {
                            range = newer;
                        }
                        let answer = match &conn {
                            Ok(c) => crate::alarms::query(
                                c,
                                &JournalQuery {
                                    from_ms: Some(range.0),
                                    to_ms: Some(range.1),
                                    limit: LIMIT,
                                    ..Default::default()
                                },
                            )
                            .map_err(|e| e.to_string()),
                            Err(e) => Err(e.to_string()),
                        };
                        if ans_tx.send(answer).is_err() {
                            break;
                        }
                    }
                });
            if spawned.is_ok() {
                tx = Some(req_tx);
                rx = Some(ans_rx);
            }
        }
        Self {
            path,
            tx,
            rx,
            asked: None,
            entries: Vec::new(),
            error: None,
        }
    }

    /// Ask for `[from, to)` when it changed; take answers.
    pub fn update(&mut self, from_ms: i64, to_ms: i64) {
        if self.asked != Some((from_ms, to_ms))
            && let Some(tx) = &self.tx
            && tx.try_send((from_ms, to_ms)).is_ok()
        {
            self.asked = Some((from_ms, to_ms));
        }
        if let Some(rx) = &self.rx {
            while let Ok(answer) = rx.try_recv() {
                match answer {
                    Ok(e) => {
                        self.entries = e;
                        self.error = None;
                    }
                    Err(e) => self.error = Some(e),
                }
            }
        }
    }

    /// The marks for the trend: (time, priority colour, text).
    pub fn marks(&self, theme: &Theme) -> Vec<(i64, egui::Color32, String)> {
        self.entries
            .iter()
            .map(|e| {
                (
                    e.event.ts_ms,
                    colour(theme, e.priority),
                    format!("{} {}", e.event.alarm, e.event.kind.as_str()),
                )
            })
            .collect()
    }

    /// The list; returns the time of a clicked entry.
    pub fn ui(&self, ui: &mut Ui, theme: &Theme) -> Option<i64> {
        ui.label(RichText::new("Alarm journal of the visible range").strong());
        let Some(path) = &self.path else {
            ui.label(
                RichText::new("No alarms.sqlite beside the history file").color(theme.text_dim),
            );
            return None;
        };
        if let Some(e) = &self.error {
            ui.label(RichText::new(format!("{}: {e}", path.display())).color(theme.text_dim));
        }
        if self.entries.is_empty() {
            ui.label(RichText::new("No alarm events in this range").color(theme.text_dim));
            return None;
        }
        let mut clicked = None;
        ScrollArea::vertical()
            .id_salt("journal_marks")
            .auto_shrink([false, false])
            .show(ui, |ui| {
                for e in &self.entries {
                    ui.horizontal(|ui| {
                        let (r, _) =
                            ui.allocate_exact_size(egui::vec2(8.0, 14.0), egui::Sense::hover());
                        ui.painter().rect_filled(r, 1.0, colour(theme, e.priority));
                        let text = format!(
                            "{}  {}  {}",
                            crate::gui::format::local_time(e.event.ts_ms),
                            e.event.alarm,
                            e.event.kind.as_str()
                        );
                        if ui
                            .add(egui::Button::new(RichText::new(text).small()).frame(false))
                            .on_hover_text(&e.message)
                            .clicked()
                        {
                            clicked = Some(e.event.ts_ms);
                        }
                    });
                }
            });
        clicked
    }
}

fn colour(theme: &Theme, p: Priority) -> egui::Color32 {
    let n = Priority::ALL.iter().position(|x| *x == p).unwrap_or(3);
    theme.priority[n]
}
