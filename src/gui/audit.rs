//! The audit trail page: every setpoint write attempt (time, user, workstation, tag, device,
//! address, old → requested → read-back, result), newest first, filtered by tag. Read on a
//! named thread; the page shows the last result meanwhile.

use std::path::PathBuf;
use std::sync::Arc;

use egui::{RichText, Ui};
use parking_lot::Mutex;

use crate::security::{AuditLog, AuditRecord};

use super::format;

type Loaded = Result<Vec<AuditRecord>, String>;

/// Rows shown at most.
const ROWS: usize = 1_000;

#[derive(Default)]
pub struct AuditPage {
    tag: String,
    result: Arc<Mutex<Option<Loaded>>>,
    shown: Option<Loaded>,
    loaded_once: bool,
}

impl AuditPage {
    fn load(&mut self, ctx: &egui::Context, path: PathBuf) {
        self.loaded_once = true;
        let tag = (!self.tag.trim().is_empty()).then(|| self.tag.trim().to_owned());
        let slot = self.result.clone();
        let ctx = ctx.clone();
        let spawned = std::thread::Builder::new()
            .name("pv-audit-query".to_owned())
            .spawn(move || {
                let r = if path.exists() {
                    AuditLog::open(&path)
                        .and_then(|log| log.recent(tag.as_deref(), ROWS))
                        .map_err(|e| format!("cannot read the audit trail {}: {e}", path.display()))
                } else {
                    Ok(Vec::new())
                };
                *slot.lock() = Some(r);
                ctx.request_repaint();
            });
        if let Err(e) = spawned {
            self.shown = Some(Err(format!("cannot start the audit query: {e}")));
        }
    }

    pub fn ui(&mut self, ui: &mut Ui, path: PathBuf) {
        if let Some(r) = self.result.lock().take() {
            self.shown = Some(r);
        }
        let mut reload = !self.loaded_once;
        ui.horizontal(|ui| {
            ui.label(RichText::new("Audit trail").strong().size(16.0));
            ui.separator();
            let l = ui.label("Tag:");
            if ui
                .add(egui::TextEdit::singleline(&mut self.tag).desired_width(180.0))
                .labelled_by(l.id)
                .changed()
            {
                reload = true;
            }
            if ui.button("Refresh").clicked() {
                reload = true;
            }
        });
        if reload {
            self.load(ui.ctx(), path);
        }
        ui.separator();
        match &self.shown {
            None => {
                ui.label("Reading the audit trail…");
            }
            Some(Err(e)) => {
                ui.label(RichText::new(e).strong());
            }
            Some(Ok(rows)) if rows.is_empty() => {
                ui.label("No writes recorded yet.");
            }
            Some(Ok(rows)) => {
                egui::ScrollArea::vertical()
                    .auto_shrink([false, false])
                    .show(ui, |ui| {
                        egui::Grid::new("audit")
                            .num_columns(9)
                            .striped(true)
                            .show(ui, |ui| {
                                for h in [
                                    "Time",
                                    "User",
                                    "Workstation",
                                    "Tag",
                                    "Device / address",
                                    "Old",
                                    "Requested",
                                    "Read back",
                                    "Result",
                                ] {
                                    ui.label(RichText::new(h).strong());
                                }
                                ui.end_row();
                                for r in rows {
                                    ui.label(format::local_datetime(r.ts_ms));
                                    ui.label(&r.user);
                                    ui.label(&r.workstation);
                                    ui.label(&r.tag);
                                    ui.label(format!("{} · {}", r.device, r.address));
                                    ui.label(r.old_value.as_deref().unwrap_or("—"));
                                    ui.label(r.requested.as_deref().unwrap_or("—"));
                                    ui.label(r.readback.as_deref().unwrap_or("—"));
                                    ui.label(&r.result).on_hover_text(&r.detail);
                                    ui.end_row();
                                }
                            });
                    });
            }
        }
    }
}
