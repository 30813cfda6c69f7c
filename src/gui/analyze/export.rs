//! CSV export from the analysis window: the pens (or every tag) over the visible range, as raw
//! samples, aligned at an interval with an aggregate, a shift or daily report, or the alarm
//! journal / audit trail. Runs on a `pv-export` thread with a progress bar and Cancel; the UI
//! stays responsive and the file is written complete or not at all.

use std::path::PathBuf;
use std::sync::Arc;

use egui::{RichText, Ui};
use parking_lot::Mutex;

use crate::gui::theme::Theme;
use crate::report::{
    Agg, ExportKind, ExportRequest, PeriodSpec, Progress, TagSelection, TimeZoneChoice,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Raw,
    Aligned,
    Shift,
    Daily,
    Journal,
    Audit,
}

/// A running or finished export.
struct Job {
    out: PathBuf,
    progress: Arc<Progress>,
    result: Arc<Mutex<Option<Result<String, String>>>>,
}

pub struct ExportDialog {
    pub open: bool,
    kind: Kind,
    interval_min: u32,
    agg: Agg,
    shift_h: u32,
    utc: bool,
    all_tags: bool,
    job: Option<Job>,
}

impl Default for ExportDialog {
    fn default() -> Self {
        Self {
            open: false,
            kind: Kind::Raw,
            interval_min: 1,
            agg: Agg::Avg,
            shift_h: 8,
            utc: false,
            all_tags: false,
            job: None,
        }
    }
}

impl ExportDialog {
    /// Start exporting to `out` (the dialog's settings, `pens` over `[from, to)`).
    pub fn start(&mut self, history: PathBuf, pens: Vec<String>, range: (i64, i64), out: PathBuf) {
        let kind = match self.kind {
            Kind::Raw => ExportKind::Raw,
            Kind::Aligned => ExportKind::Aligned {
                interval_ms: i64::from(self.interval_min.max(1)) * 60_000,
                agg: self.agg,
            },
            Kind::Shift => ExportKind::Report {
                periods: PeriodSpec::Shift {
                    length_ms: i64::from(self.shift_h.max(1)) * 3_600_000,
                },
            },
            Kind::Daily => ExportKind::Report {
                periods: PeriodSpec::Daily,
            },
            Kind::Journal => ExportKind::Journal,
            Kind::Audit => ExportKind::Audit,
        };
        let req = ExportRequest {
            history,
            tags: if self.all_tags {
                TagSelection::All
            } else {
                TagSelection::Names(pens)
            },
            from_ms: range.0,
            to_ms: range.1,
            kind,
            tz: if self.utc {
                TimeZoneChoice::Utc
            } else {
                TimeZoneChoice::Local
            },
            out: out.clone(),
        };
        let progress = Arc::new(Progress::default());
        let result = Arc::new(Mutex::new(None));
        let (p, r) = (progress.clone(), result.clone());
        let spawned = std::thread::Builder::new()
            .name("pv-export".to_owned())
            .spawn(move || {
                let outcome = crate::report::run_export(&req, &p)
                    .map(|o| {
                        let mut s = format!("{} rows written to {}", o.rows, req.out.display());
                        for n in o.notes {
                            s.push_str(&format!(" · {n}"));
                        }
                        s
                    })
                    .map_err(|e| e.to_string());
                *r.lock() = Some(outcome);
            });
        if let Err(e) = spawned {
            *result.lock() = Some(Err(format!("cannot start the export: {e}")));
        }
        self.job = Some(Job {
            out,
            progress,
            result,
        });
    }

    /// Wait (tests): the outcome once the export thread is done.
    pub fn outcome(&self) -> Option<Result<String, String>> {
        self.job.as_ref().and_then(|j| j.result.lock().clone())
    }

    /// The dialog. `pens` and `range` are what the trend shows.
    pub fn ui(
        &mut self,
        ctx: &egui::Context,
        theme: &Theme,
        history: &std::path::Path,
        pens: &[String],
        range: (i64, i64),
    ) {
        if !self.open {
            return;
        }
        let mut open = self.open;
        egui::Window::new("Export CSV")
            .open(&mut open)
            .collapsible(false)
            .resizable(false)
            .show(ctx, |ui| self.body_ui(ui, theme, history, pens, range));
        self.open = open;
    }

    fn body_ui(
        &mut self,
        ui: &mut Ui,
        theme: &Theme,
        history: &std::path::Path,
        pens: &[String],
        range: (i64, i64),
    ) {
        ui.label(format!(
            "{} — {}",
            crate::gui::format::local_datetime(range.0),
            crate::gui::format::local_datetime(range.1)
        ));
        ui.checkbox(
            &mut self.all_tags,
            "Every tag in the file (else the pens on the trend)",
        );
        if !self.all_tags {
            ui.label(RichText::new(pens.join(", ")).color(theme.text_dim));
        }
        ui.separator();
        for (k, label) in [
            (Kind::Raw, "Raw samples (time, tag, value, quality)"),
            (Kind::Aligned, "Aligned at an interval, one column per tag"),
            (Kind::Shift, "Shift report (min, max, avg, time in alarm)"),
            (Kind::Daily, "Daily report"),
            (Kind::Journal, "Alarm journal"),
            (Kind::Audit, "Audit trail"),
        ] {
            ui.radio_value(&mut self.kind, k, label);
        }
        match self.kind {
            Kind::Aligned => {
                ui.horizontal(|ui| {
                    let l = ui.label("Interval");
                    ui.add(
                        egui::DragValue::new(&mut self.interval_min)
                            .range(1..=1440)
                            .suffix(" min"),
                    )
                    .labelled_by(l.id);
                    egui::ComboBox::new("export_agg", "Aggregate")
                        .selected_text(agg_name(self.agg))
                        .show_ui(ui, |ui| {
                            for a in [Agg::Avg, Agg::TwAvg, Agg::Min, Agg::Max, Agg::Last] {
                                ui.selectable_value(&mut self.agg, a, agg_name(a));
                            }
                        });
                });
            }
            Kind::Shift => {
                ui.horizontal(|ui| {
                    let l = ui.label("Shift length");
                    ui.add(
                        egui::DragValue::new(&mut self.shift_h)
                            .range(1..=24)
                            .suffix(" h"),
                    )
                    .labelled_by(l.id);
                });
            }
            _ => {}
        }
        ui.checkbox(
            &mut self.utc,
            "Times in UTC (else local time with its offset)",
        );
        ui.separator();
        let running = self.job.as_ref().is_some_and(|j| j.result.lock().is_none());
        if let Some(job) = &self.job {
            match &*job.result.lock() {
                None => {
                    let f = job.progress.fraction().unwrap_or(0.0);
                    ui.add(egui::ProgressBar::new(f).show_percentage().text(format!(
                        "{} of {} rows",
                        job.progress.done(),
                        job.progress.total()
                    )));
                    if ui.button("Cancel").clicked() {
                        job.progress.cancel();
                    }
                    ui.ctx()
                        .request_repaint_after(std::time::Duration::from_millis(100));
                }
                Some(Ok(done)) => {
                    ui.label(done);
                }
                Some(Err(e)) => {
                    ui.label(
                        RichText::new(format!("{}: {e}", job.out.display()))
                            .color(theme.badge_text)
                            .background_color(theme.badge_bg),
                    );
                }
            }
        }
        if !running
            && ui.button("Export…").clicked()
            && let Some(out) = rfd::FileDialog::new()
                .add_filter("CSV", &["csv"])
                .set_file_name("export.csv")
                .save_file()
        {
            self.start(history.to_owned(), pens.to_vec(), range, out);
        }
    }
}

fn agg_name(a: Agg) -> &'static str {
    match a {
        Agg::Avg => "average",
        Agg::TwAvg => "time-weighted average",
        Agg::Min => "minimum",
        Agg::Max => "maximum",
        Agg::Last => "last",
    }
}
