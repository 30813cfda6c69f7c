//! The editor's Alarms tab: each alarm's limit, deadband, on/off delays, priority and message,
//! changed as undoable edits and applied on save (the engine restarts with the new limits).
//! Edit mode is for engineers, the role that may change alarm limits.

use egui::{RichText, Ui};

use crate::alarms::{AlarmKind, Priority};
use crate::project::edit::Edit;

use super::Editor;
use crate::gui::theme::Theme;

/// The limit of a limit-type alarm (and its name), if it has one.
fn limit_of(kind: &AlarmKind) -> Option<f64> {
    match kind {
        AlarmKind::HiHi { limit }
        | AlarmKind::Hi { limit }
        | AlarmKind::Lo { limit }
        | AlarmKind::LoLo { limit }
        | AlarmKind::Deviation { limit, .. } => Some(*limit),
        AlarmKind::Rate { limit_per_s } => Some(*limit_per_s),
        _ => None,
    }
}

fn with_limit(kind: &AlarmKind, v: f64) -> AlarmKind {
    match kind {
        AlarmKind::HiHi { .. } => AlarmKind::HiHi { limit: v },
        AlarmKind::Hi { .. } => AlarmKind::Hi { limit: v },
        AlarmKind::Lo { .. } => AlarmKind::Lo { limit: v },
        AlarmKind::LoLo { .. } => AlarmKind::LoLo { limit: v },
        AlarmKind::Deviation { setpoint_tag, .. } => AlarmKind::Deviation {
            setpoint_tag: setpoint_tag.clone(),
            limit: v,
        },
        AlarmKind::Rate { .. } => AlarmKind::Rate { limit_per_s: v },
        other => other.clone(),
    }
}

pub fn alarms_ui(ed: &mut Editor, ui: &mut Ui, theme: &Theme) {
    if ed.doc.file.alarms.is_empty() {
        ui.label("This project defines no alarms.");
        return;
    }
    ui.label(RichText::new("Limits apply when the project is saved.").color(theme.text_dim));
    let mut change: Option<(usize, crate::alarms::AlarmConfig)> = None;
    egui::ScrollArea::vertical()
        .id_salt("editor_alarms")
        .show(ui, |ui| {
            for (i, a) in ed.doc.file.alarms.iter().enumerate() {
                egui::CollapsingHeader::new(&a.name)
                    .id_salt(("alarm", i))
                    .show(ui, |ui| {
                        ui.label(
                            RichText::new(format!("{} · {}", a.tag, a.message))
                                .color(theme.text_dim),
                        );
                        let mut next = a.clone();
                        egui::Grid::new(("alarm_fields", i))
                            .num_columns(2)
                            .show(ui, |ui| {
                                if let Some(mut limit) = limit_of(&a.kind) {
                                    let l = ui.label("Limit");
                                    if ui
                                        .add(egui::DragValue::new(&mut limit).speed(0.1))
                                        .labelled_by(l.id)
                                        .changed()
                                    {
                                        next.kind = with_limit(&a.kind, limit);
                                    }
                                    ui.end_row();
                                }
                                let l = ui.label("Deadband");
                                ui.add(
                                    egui::DragValue::new(&mut next.deadband)
                                        .speed(0.1)
                                        .range(0.0..=f64::MAX),
                                )
                                .labelled_by(l.id);
                                ui.end_row();
                                let l = ui.label("On delay");
                                ui.add(
                                    egui::DragValue::new(&mut next.on_delay_s)
                                        .speed(0.5)
                                        .range(0.0..=86_400.0)
                                        .suffix(" s"),
                                )
                                .labelled_by(l.id);
                                ui.end_row();
                                let l = ui.label("Off delay");
                                ui.add(
                                    egui::DragValue::new(&mut next.off_delay_s)
                                        .speed(0.5)
                                        .range(0.0..=86_400.0)
                                        .suffix(" s"),
                                )
                                .labelled_by(l.id);
                                ui.end_row();
                                ui.label("");
                                egui::ComboBox::new(("alarm_priority", i), "Priority")
                                    .selected_text(next.priority.as_str())
                                    .show_ui(ui, |ui| {
                                        for p in Priority::ALL {
                                            ui.selectable_value(&mut next.priority, p, p.as_str());
                                        }
                                    });
                                ui.end_row();
                                let l = ui.label("Message");
                                ui.add(
                                    egui::TextEdit::singleline(&mut next.message)
                                        .desired_width(180.0),
                                )
                                .labelled_by(l.id);
                                ui.end_row();
                            });
                        if next != *a {
                            change = Some((i, next));
                        }
                    });
            }
        });
    if let Some((index, alarm)) = change {
        let name = alarm.name.clone();
        ed.apply_merging(
            &format!("Alarm {name}"),
            Edit::SetAlarm { index, alarm },
            Some(format!("alarm:{index}")),
        );
    }
}
