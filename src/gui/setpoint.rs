//! Setpoint dialog (select-before-operate): enter a value → a confirmation step showing tag,
//! current → new value, unit and limits (the selection times out) → `Command::WriteSetpoint`
//! → the result as the device reported it (confirmed by read-back, mismatch, exception with its
//! name, timeout, not connected, refused). Out-of-range values are refused here and again in the
//! engine; nothing is clamped.

use std::time::{Duration, Instant};

use egui::RichText;

use crate::engine::{Command, EngineHandle};
use crate::modbus::WriteOutcome;

use super::format;

/// How long a confirmation stays valid.
pub const SELECT_TIMEOUT: Duration = Duration::from_secs(30);

enum Step {
    Enter { text: String, error: Option<String> },
    Confirm { value: f64, since: Instant },
    Pending { id: u64, value: f64 },
    Done { value: f64, outcome: WriteOutcome },
}

pub struct SetpointDialog {
    tag: String,
    step: Step,
}

impl SetpointDialog {
    pub fn new(tag: &str) -> Self {
        Self {
            tag: tag.to_owned(),
            step: Step::Enter {
                text: String::new(),
                error: None,
            },
        }
    }

    pub fn tag(&self) -> &str {
        &self.tag
    }

    /// The engine reported a write result.
    pub fn on_result(&mut self, id: u64, outcome: &WriteOutcome) {
        if let Step::Pending { id: want, value } = self.step
            && want == id
        {
            self.step = Step::Done {
                value,
                outcome: outcome.clone(),
            };
        }
    }

    /// Draw the window; `false` once closed.
    pub fn show(
        &mut self,
        ctx: &egui::Context,
        engine: &EngineHandle,
        next_id: &mut u64,
        actor: &crate::security::Actor,
    ) -> bool {
        let mut open = true;
        let mut close = false;
        let project = engine.project.clone();
        let Some(cfg) = project.tag(&self.tag) else {
            return false;
        };
        let Some(write) = &cfg.write else {
            return false;
        };
        let state = engine.tags.get_by_name(&self.tag);
        let current = state
            .as_ref()
            .map_or_else(|| "---".to_owned(), |s| format::value_with_unit(cfg, s));
        let limits = match (write.target.min, write.target.max) {
            (Some(a), Some(b)) => format!("{a} … {b} {}", cfg.unit),
            (Some(a), None) => format!("≥ {a} {}", cfg.unit),
            (None, Some(b)) => format!("≤ {b} {}", cfg.unit),
            (None, None) => "the data type's range".to_owned(),
        };
        egui::Window::new(format!("Setpoint {}", self.tag))
            .pivot(egui::Align2::CENTER_CENTER)
            .default_pos(ctx.content_rect().center())
            .open(&mut open)
            .collapsible(false)
            .resizable(false)
            .show(ctx, |ui| {
                egui::Grid::new("setpoint_info")
                    .num_columns(2)
                    .show(ui, |ui| {
                        ui.label("Tag");
                        ui.label(&self.tag);
                        ui.end_row();
                        ui.label("Current value");
                        ui.label(&current);
                        ui.end_row();
                        ui.label("Limits");
                        ui.label(&limits);
                        ui.end_row();
                        ui.label("Device");
                        let kind = match write.target.kind {
                            crate::modbus::RegisterKind::HoldingRegister => "holding register",
                            crate::modbus::RegisterKind::Coil => "coil",
                        };
                        ui.label(format!(
                            "{} · {kind} {}",
                            write.device, write.target.address
                        ));
                        ui.end_row();
                    });
                ui.separator();
                let actor = actor.clone();
                let mut next: Option<Step> = None;
                match &mut self.step {
                    Step::Enter { error, .. }
                        if write.target.kind == crate::modbus::RegisterKind::Coil =>
                    {
                        // A bool command: two buttons, then the same confirmation step.
                        let [off, on] = cfg
                            .states
                            .clone()
                            .unwrap_or_else(|| ["Off".to_owned(), "On".to_owned()]);
                        if let Some(e) = error {
                            ui.label(RichText::new(e.as_str()).strong());
                        }
                        ui.horizontal(|ui| {
                            for (label, value) in [(on, 1.0), (off, 0.0)] {
                                if ui.button(format!("{label}…")).clicked() {
                                    next = Some(Step::Confirm {
                                        value,
                                        since: Instant::now(),
                                    });
                                }
                            }
                            if ui.button("Cancel").clicked() {
                                close = true;
                            }
                        });
                    }
                    Step::Enter { text, error } => {
                        let l = ui.label(format!("New value ({})", cfg.unit));
                        ui.add(egui::TextEdit::singleline(text).desired_width(120.0))
                            .labelled_by(l.id);
                        if let Some(e) = error {
                            ui.label(RichText::new(e.as_str()).strong());
                        }
                        ui.horizontal(|ui| {
                            if ui.button("Write…").clicked() {
                                match parse_in_limits(text, write.target.min, write.target.max) {
                                    Ok(value) => {
                                        next = Some(Step::Confirm {
                                            value,
                                            since: Instant::now(),
                                        });
                                    }
                                    Err(e) => *error = Some(e),
                                }
                            }
                            if ui.button("Cancel").clicked() {
                                close = true;
                            }
                        });
                    }
                    Step::Confirm { value, since } => {
                        let left = SELECT_TIMEOUT.saturating_sub(since.elapsed());
                        if left.is_zero() {
                            next = Some(Step::Enter {
                                text: value.to_string(),
                                error: Some(
                                    "The selection timed out: nothing was written.".to_owned(),
                                ),
                            });
                        } else {
                            ui.label(
                                RichText::new(format!(
                                    "Write {}: {current} → {value} {}?",
                                    self.tag, cfg.unit
                                ))
                                .strong(),
                            );
                            ui.label(format!("Confirm within {} s.", left.as_secs()));
                            ui.ctx().request_repaint_after(Duration::from_millis(500));
                            let value = *value;
                            ui.horizontal(|ui| {
                                if ui.button("Confirm write").clicked() {
                                    *next_id += 1;
                                    let id = *next_id;
                                    let cmd = Command::WriteSetpoint {
                                        id,
                                        tag: self.tag.clone(),
                                        value,
                                        actor,
                                    };
                                    next = Some(match engine.send(cmd) {
                                        Ok(()) => Step::Pending { id, value },
                                        Err(e) => Step::Done {
                                            value,
                                            outcome: WriteOutcome::NotConnected { reason: e },
                                        },
                                    });
                                }
                                if ui.button("Cancel").clicked() {
                                    close = true;
                                }
                            });
                        }
                    }
                    Step::Pending { value, .. } => {
                        ui.label(format!(
                            "Writing {value} {}, waiting for the read-back…",
                            cfg.unit
                        ));
                    }
                    Step::Done { value, outcome } => {
                        let text = if outcome.is_confirmed() {
                            format!("Write {value} {}: confirmed by read-back.", cfg.unit)
                        } else {
                            format!("Write {value} {} FAILED: {outcome}", cfg.unit)
                        };
                        ui.label(RichText::new(text).strong());
                        if ui.button("Close").clicked() {
                            close = true;
                        }
                    }
                }
                if let Some(step) = next {
                    self.step = step;
                }
            });
        open && !close
    }
}

fn parse_in_limits(text: &str, min: Option<f64>, max: Option<f64>) -> Result<f64, String> {
    if text.trim().is_empty() {
        return Err("Enter a value.".to_owned());
    }
    let v: f64 = text
        .trim()
        .replace(',', ".")
        .parse()
        .map_err(|_| format!("`{}` is not a number", text.trim()))?;
    if !v.is_finite() {
        return Err("not a finite number".to_owned());
    }
    if let Some(min) = min
        && v < min
    {
        return Err(format!(
            "{v} is below the limit {min}: refused, nothing written"
        ));
    }
    if let Some(max) = max
        && v > max
    {
        return Err(format!(
            "{v} is above the limit {max}: refused, nothing written"
        ));
    }
    Ok(v)
}
