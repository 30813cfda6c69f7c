//! Drawing the trends page: toolbar (Live/Pause, range presets, Normalize, range and status),
//! the searchable tag list, the plot (decimated lines with quality gaps, free pan/zoom in time,
//! a vertical cursor) and the legend table (colour, range, live value with quality, value at
//! the cursor). Reads page state; data intake and requests are in `page.rs`.

use std::time::Duration;

use egui::{
    Align, Grid, Layout, Response, RichText, Role, ScrollArea, Sense, Stroke, TextEdit, Ui,
    WidgetInfo, vec2,
};
use egui_plot::{Line, Plot, PlotPoints, VLine};

use std::sync::Arc;

use crate::engine::now_ms;
use crate::gui::format;
use crate::gui::theme::Theme;

use super::axis;
use super::page::TrendsPage;
use super::{MAX_PENS, PRESETS, pen_palette};

const PICKER_WIDTH: f32 = 230.0;

/// A tag dragged from the list onto the plot.
struct PenDrag(String);
const LEGEND_ROW: f32 = 22.0;
const MIN_PLOT_HEIGHT: f32 = 120.0;
/// Tags listed in the picker at most (type to narrow).
const PICKER_LIMIT: usize = 300;

impl TrendsPage {
    /// The whole page: toolbar, tag list (unless compact), plot and legend.
    pub fn ui(&mut self, ui: &mut Ui, theme: &Theme) {
        let now = now_ms();
        self.intake(now);
        self.toolbar_ui(ui, theme, now);
        self.range_row_ui(ui, theme, now);
        ui.separator();
        if self.compact {
            self.main_ui(ui, theme, now);
        } else {
            let height = ui.available_height();
            ui.horizontal_top(|ui| {
                ui.allocate_ui_with_layout(
                    vec2(PICKER_WIDTH, height),
                    Layout::top_down(Align::Min),
                    |ui| self.picker_ui(ui),
                );
                ui.separator();
                ui.allocate_ui_with_layout(
                    vec2(ui.available_width(), height),
                    Layout::top_down(Align::Min),
                    |ui| self.main_ui(ui, theme, now),
                );
            });
        }
        self.request(ui.ctx(), now);
        if self.live {
            // Move by about a pixel per repaint, between 10 and 1 times a second.
            let px = u64::try_from(self.window_ms).unwrap_or(0) / self.width_px.max(1) as u64;
            ui.ctx()
                .request_repaint_after(Duration::from_millis(px.clamp(100, 1000)));
        }
    }

    fn toolbar_ui(&mut self, ui: &mut Ui, theme: &Theme, now: i64) {
        let view = self.view_at(now);
        ui.horizontal(|ui| {
            if ui.selectable_label(self.live, "Live").clicked() {
                self.go_live();
            }
            if ui.selectable_label(!self.live, "Pause").clicked() {
                self.pause();
            }
            ui.separator();
            for (label, ms) in PRESETS {
                if ui.selectable_label(view.1 - view.0 == ms, label).clicked() {
                    self.set_window(ms);
                }
            }
            if ui
                .selectable_label(self.range_edit.is_some(), "Range…")
                .on_hover_text("A custom range: dates and times, or relative (-2h)")
                .clicked()
            {
                self.range_edit = match self.range_edit {
                    Some(_) => None,
                    None => Some((axis::cursor_label(view.0), axis::cursor_label(view.1), None)),
                };
            }
            ui.separator();
            ui.checkbox(&mut self.normalize, "Normalize")
                .on_hover_text("Each pen on 0 to 100 % of its engineering range");
            ui.separator();
            ui.label(
                RichText::new(format!(
                    "{} — {}",
                    axis::cursor_label(view.0),
                    axis::cursor_label(view.1)
                ))
                .monospace()
                .color(theme.text_dim),
            );
            let status = if let Some(off) = &self.history_off {
                Some(off.clone())
            } else if let Some(e) = self.pens.iter().find_map(|p| p.error.clone()) {
                Some(e)
            } else {
                self.is_loading().then(|| "Loading history...".to_owned())
            };
            if let Some(status) = status {
                ui.separator();
                ui.label(RichText::new(status).color(theme.text_dim));
            }
        });
    }

    /// The custom range row: From and To (`2026-11-03 14:00`, `2026-11-03T14:00Z`, `-2h`,
    /// `now`), refused with the reason when they do not parse or are the wrong way round.
    fn range_row_ui(&mut self, ui: &mut Ui, theme: &Theme, now: i64) {
        let Some((from, to, error)) = &mut self.range_edit else {
            return;
        };
        let mut apply = None;
        ui.horizontal(|ui| {
            let l = ui.label("From");
            ui.add(TextEdit::singleline(from).desired_width(170.0))
                .labelled_by(l.id);
            let l = ui.label("To");
            ui.add(TextEdit::singleline(to).desired_width(170.0))
                .labelled_by(l.id);
            if ui.button("Show range").clicked() {
                let parse = |t: &str| crate::report::parse_time(t, now);
                match (parse(from), parse(to)) {
                    (Ok(a), Ok(b)) if a < b => apply = Some((a, b)),
                    (Ok(_), Ok(_)) => *error = Some("From must be before To".to_owned()),
                    (Err(e), _) => *error = Some(format!("From: {e}")),
                    (_, Err(e)) => *error = Some(format!("To: {e}")),
                }
            }
            if let Some(e) = error {
                ui.label(
                    RichText::new(e.as_str())
                        .color(theme.badge_text)
                        .background_color(theme.badge_bg),
                );
            }
        });
        if let Some((a, b)) = apply {
            self.set_range(a, b);
            self.range_edit = None;
        }
    }

    fn picker_ui(&mut self, ui: &mut Ui) {
        let label = ui.label(RichText::new("Search tags").strong());
        ui.add(
            TextEdit::singleline(&mut self.search)
                .hint_text("name or description")
                .desired_width(f32::INFINITY),
        )
        .labelled_by(label.id);
        ui.add_space(4.0);
        let full = self.pens.len() >= MAX_PENS;
        let tags: Vec<(String, String, bool)> = self
            .candidates(PICKER_LIMIT)
            .into_iter()
            .map(|t| {
                let is_pen = self.pens.iter().any(|p| *p.name == *t.name);
                (t.name.clone(), t.description.clone(), is_pen)
            })
            .collect();
        let mut add = None;
        ScrollArea::vertical()
            .id_salt(self.id.with("tags"))
            .auto_shrink(false)
            .show(ui, |ui| {
                for (name, description, is_pen) in &tags {
                    // Click to add, or drag onto the plot.
                    let r = ui
                        .add_enabled_ui(!is_pen && !full, |ui| {
                            crate::gui::dnd::drag_source_ui(
                                ui,
                                egui::Button::selectable(*is_pen, name.as_str()),
                                name,
                                PenDrag(name.clone()),
                            )
                        })
                        .inner;
                    r.widget_info(|| {
                        WidgetInfo::labeled(Role::Button, !is_pen, format!("Add pen {name}"))
                    });
                    let r = if description.is_empty() {
                        r
                    } else {
                        r.on_hover_text(description)
                    };
                    if r.clicked() {
                        add = Some(name.clone());
                    }
                    if let Some(note) = self.tag_notes.get(name) {
                        ui.label(RichText::new(note).small().weak());
                    }
                }
                if tags.is_empty() {
                    ui.label("No matching tags");
                }
            });
        if let Some(name) = add {
            self.add_pen(&name);
        }
    }

    fn main_ui(&mut self, ui: &mut Ui, theme: &Theme, now: i64) {
        #[allow(clippy::cast_precision_loss)]
        let legend_h = (self.pens.len() + 1) as f32 * LEGEND_ROW + 12.0;
        let plot_h = (ui.available_height() - legend_h).max(MIN_PLOT_HEIGHT);
        self.plot_ui(ui, theme, now, plot_h, false);
        ui.add_space(4.0);
        self.legend_ui(ui, theme, now);
    }

    /// The plot; `mini`: no axes, no interaction, no cursor (embedded on screens).
    pub(super) fn plot_ui(
        &mut self,
        ui: &mut Ui,
        theme: &Theme,
        now: i64,
        height: f32,
        mini: bool,
    ) -> Response {
        let view = self.view_at(now);
        let palette = pen_palette(theme);
        let mut lines = Vec::new();
        let (mut y_min, mut y_max) = (f64::INFINITY, f64::NEG_INFINITY);
        for pen in &self.pens {
            // Hold the last value to now only while the tag is good now.
            let good_now = pen
                .tag
                .and_then(|id| self.store.get(id))
                .is_some_and(|s| s.quality.is_good());
            let hold = (self.live && good_now).then_some(now);
            let s = self.segments(pen, hold);
            y_min = y_min.min(s.y_min);
            y_max = y_max.max(s.y_max);
            let color = palette[pen.color % palette.len()];
            lines.extend(s.lines.into_iter().map(|l| (pen.name.clone(), color, l)));
        }
        // A compared range is scaled with the pens (else it could sit outside the plot).
        if !mini {
            for (_, _, pts) in &self.overlay {
                for p in pts {
                    if p[1].is_finite() {
                        y_min = y_min.min(p[1]);
                        y_max = y_max.max(p[1]);
                    }
                }
            }
        }
        // Autoscale, but never zoom into sensor noise: the span is at least a share of the
        // pens' engineering range (10 % on a mini trend, 2 % on the page).
        let min_span = self
            .pens
            .iter()
            .filter_map(|p| self.project.file.tags.get(p.cfg).and_then(|t| t.range))
            .map(|r| (r.max - r.min).abs() * if mini { 0.10 } else { 0.02 })
            .fold(0.0, f64::max);
        let (y_lo, y_hi) = if self.normalize {
            (-5.0, 105.0)
        } else if y_min <= y_max {
            let grow = (min_span - (y_max - y_min)).max(0.0) / 2.0;
            let (y_min, y_max) = (y_min - grow, y_max + grow);
            let pad = ((y_max - y_min) * 0.05).max(y_max.abs().max(1.0) * 1e-3);
            (y_min - pad, y_max + pad)
        } else {
            (0.0, 100.0)
        };

        let mut plot = Plot::new("trend")
            .id(self.id.with("plot"))
            .height(height)
            .x_grid_spacer(axis::time_grid)
            .x_axis_formatter(axis::time_label)
            .show_x(false)
            .show_y(false)
            .allow_boxed_zoom(false)
            .allow_double_click_reset(false)
            .cursor_color(theme.text_dim);
        plot = if mini {
            plot.show_axes(false)
                .allow_drag(false)
                .allow_zoom(false)
                .allow_scroll(false)
                .allow_axis_zoom_drag(false)
                .sense(Sense::click())
        } else {
            plot.allow_drag([true, false])
                .allow_zoom([true, false])
                .allow_scroll([true, false])
                .allow_axis_zoom_drag([true, false])
        };
        if self.normalize {
            plot = plot.y_axis_formatter(|m, _| format!("{:.0} %", m.value));
        }
        let cursor_color = theme.text_dim;
        #[allow(clippy::cast_precision_loss)]
        let (x0, x1) = (view.0 as f64, view.1 as f64);
        // Analysis extras: alarm marks, an overlaid second range, cursors A and B.
        #[allow(clippy::cast_precision_loss)]
        let marks: Vec<(f64, egui::Color32)> = if mini {
            Vec::new()
        } else {
            self.marks
                .iter()
                .filter(|(t, _, _)| (view.0..=view.1).contains(t))
                .map(|(t, c, _)| (*t as f64, *c))
                .collect()
        };
        let overlay: Vec<(Arc<str>, egui::Color32, Vec<[f64; 2]>)> = if mini {
            Vec::new()
        } else {
            self.overlay.clone()
        };
        #[allow(clippy::cast_precision_loss)]
        let ab: Vec<(&'static str, f64)> = ["A", "B"]
            .into_iter()
            .zip(self.cursors)
            .filter_map(|(n, c)| c.map(|c| (n, c as f64)))
            .collect();
        let analysis = self.analysis && !mini;
        let text_colour = theme.text;
        let shown = plot.show(ui, move |pui| {
            for (x, c) in marks {
                pui.vline(VLine::new("", x).color(c.gamma_multiply(0.8)).width(1.0));
            }
            for (name, color, points) in overlay {
                pui.line(
                    Line::new(format!("{name} (compared)"), PlotPoints::from_iter(points))
                        .color(color.gamma_multiply(0.7))
                        .style(egui_plot::LineStyle::dashed_dense())
                        .width(1.2)
                        .allow_hover(false),
                );
            }
            for (name, x) in &ab {
                pui.vline(VLine::new(*name, *x).color(text_colour).width(1.5));
                pui.text(
                    egui_plot::Text::new(
                        *name,
                        egui_plot::PlotPoint::new(*x, y_hi - (y_hi - y_lo) * 0.03),
                        RichText::new(*name).strong().size(15.0).color(text_colour),
                    )
                    .anchor(egui::Align2::LEFT_TOP),
                );
            }
            pui.set_plot_bounds_x(x0..=x1);
            pui.set_plot_bounds_y(y_lo..=y_hi);
            let hovered = !mini && pui.response().hovered();
            if hovered {
                // The wheel zooms time around the pointer (ctrl+wheel is egui's own zoom).
                let scroll = pui.ctx().input(|i| i.smooth_scroll_delta.y);
                if scroll != 0.0 {
                    pui.zoom_bounds_around_hovered(vec2((scroll / 200.0).exp(), 1.0));
                }
            }
            for (name, color, points) in lines {
                pui.line(
                    Line::new(&*name, PlotPoints::from_iter(points))
                        .color(color)
                        .width(1.5)
                        .allow_hover(false),
                );
            }
            let cursor = hovered
                .then(|| pui.pointer_coordinate())
                .flatten()
                .map(|p| p.x);
            if let Some(x) = cursor {
                pui.vline(VLine::new("Cursor", x).color(cursor_color).width(1.0));
            }
            cursor
        });
        #[allow(clippy::cast_possible_truncation)]
        {
            self.cursor_ms = shown.inner.map(|x| x.round() as i64);
        }
        let b = shown.transform.bounds();
        if !mini && ((b.min()[0] - x0).abs() > 0.5 || (b.max()[0] - x1).abs() > 0.5) {
            self.user_range(b.min()[0], b.max()[0]); // panned or zoomed: historical mode
        }
        if !mini && shown.response.double_clicked() && !analysis {
            self.go_live();
        }
        // Analysis: a click places cursor A, the next one B, the next one A again.
        if analysis
            && shown.response.clicked()
            && let Some(t) = self.cursor_ms
        {
            self.cursors = match self.cursors {
                [Some(a), None] => [Some(a), Some(t)],
                _ => [Some(t), None],
            };
        }
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        {
            let px = shown.transform.frame().width() * ui.ctx().pixels_per_point();
            self.width_px = (px.round().max(16.0)) as usize;
        }
        if !mini {
            self.plot_rect = Some(shown.response.rect);
            if let Some(pen) = shown.response.dnd_release_payload::<PenDrag>() {
                self.add_pen(&pen.0);
            }
        }
        let label = format!("Trend of {}", self.pens().join(", "));
        shown
            .response
            .widget_info(|| WidgetInfo::labeled(Role::Image, true, &label));
        shown.response
    }

    fn legend_ui(&mut self, ui: &mut Ui, theme: &Theme, now: i64) {
        let palette = pen_palette(theme);
        let mut remove = None;
        let cursor = self.cursor_ms;
        let analysis = self.analysis;
        let [ca, cb] = self.cursors;
        if analysis {
            let mut parts = Vec::new();
            for (n, c) in [("A", ca), ("B", cb)] {
                if let Some(t) = c {
                    parts.push(format!("{n} {}", axis::cursor_label(t)));
                }
            }
            if let (Some(a), Some(b)) = (ca, cb) {
                parts.push(format!(
                    "Δt {}",
                    crate::engine::format_duration_ms((b - a).abs())
                ));
            }
            let text = if parts.is_empty() {
                "Click the plot to place cursor A, again for B".to_owned()
            } else {
                parts.join("   ·   ")
            };
            ui.label(RichText::new(text).color(theme.text_dim));
        }
        Grid::new(self.id.with("legend"))
            .num_columns(if analysis { 8 } else { 6 })
            .spacing([16.0, 4.0])
            .min_row_height(LEGEND_ROW - 4.0)
            .show(ui, |ui| {
                let head = |ui: &mut Ui, s: &str| {
                    ui.label(RichText::new(s).color(theme.text_dim));
                };
                head(ui, "");
                head(ui, "Pen");
                head(ui, "Range");
                if !analysis {
                    head(ui, "Value"); // a file has no live value
                }
                match cursor {
                    Some(t) => head(ui, &format!("At {}", axis::cursor_label(t))),
                    None => head(ui, "At cursor"),
                }
                if analysis {
                    head(ui, "A");
                    head(ui, "B");
                    head(ui, "Δ (B − A)");
                }
                head(ui, "");
                ui.end_row();
                for pen in &self.pens {
                    let Some(cfg) = self.cfg(pen) else { continue };
                    let color = palette[pen.color % palette.len()];
                    let (rect, _) = ui.allocate_exact_size(vec2(24.0, 12.0), Sense::hover());
                    ui.painter().line_segment(
                        [rect.left_center(), rect.right_center()],
                        Stroke::new(3.0, color),
                    );
                    let name = ui.label(&*pen.name);
                    if !cfg.description.is_empty() {
                        name.on_hover_text(&cfg.description);
                    }
                    ui.label(range_text(cfg));
                    if !analysis {
                        live_value_ui(ui, theme, cfg, pen.tag.and_then(|id| self.store.get(id)));
                    }
                    let at = cursor
                        .and_then(|t| {
                            crate::gui::trends::series::value_at(
                                pen.prior(),
                                pen.history(),
                                &pen.tail_cols,
                                t,
                                now,
                            )
                        })
                        .map_or_else(
                            || {
                                if cursor.is_some() {
                                    "no data".to_owned()
                                } else {
                                    String::new()
                                }
                            },
                            |v| {
                                with_unit(
                                    format::format_number(v, cfg.decimals.unwrap_or(1)),
                                    &cfg.unit,
                                )
                            },
                        );
                    ui.label(RichText::new(at).color(theme.value));
                    if analysis {
                        let at = |t: Option<i64>| {
                            t.and_then(|t| {
                                crate::gui::trends::series::value_at(
                                    pen.prior(),
                                    pen.history(),
                                    &pen.tail_cols,
                                    t,
                                    now,
                                )
                            })
                        };
                        let (va, vb) = (at(ca), at(cb));
                        let dec = cfg.decimals.unwrap_or(1);
                        let fmt = |v: Option<f64>| {
                            v.map_or_else(String::new, |v| {
                                with_unit(format::format_number(v, dec), &cfg.unit)
                            })
                        };
                        for (what, v) in [
                            ("at A", va),
                            ("at B", vb),
                            ("delta", va.zip(vb).map(|(a, b)| b - a)),
                        ] {
                            let text = fmt(v);
                            let r = ui.label(RichText::new(&text).monospace());
                            let label = format!("{} {what}: {text}", pen.name);
                            r.widget_info(|| WidgetInfo::labeled(Role::Label, true, &label));
                        }
                    }
                    let r = ui.small_button("Remove");
                    let who = format!("Remove pen {}", pen.name);
                    r.widget_info(|| WidgetInfo::labeled(Role::Button, true, &who));
                    if r.clicked() {
                        remove = Some(pen.name.clone());
                    }
                    ui.end_row();
                }
            });
        if self.pens.is_empty() {
            ui.label(RichText::new("Pick tags on the left to add pens.").color(theme.text_dim));
        }
        if let Some(name) = remove {
            self.remove_pen(&name);
        }
    }
}

/// Current value with unit, and the quality when it is not good (never looks good when it
/// is not: dim text and the quality word).
fn live_value_ui(
    ui: &mut Ui,
    theme: &Theme,
    cfg: &crate::project::TagConfig,
    state: Option<crate::engine::TagState>,
) {
    let Some(state) = state else {
        ui.label(RichText::new("---").color(theme.text_dim));
        return;
    };
    let text = format::value_with_unit(cfg, &state);
    match format::quality_badge(state.quality) {
        None => ui.label(RichText::new(text).color(theme.value)),
        Some(badge) => ui.label(
            RichText::new(format!("{text} ({})", badge.to_lowercase())).color(theme.text_dim),
        ),
    };
}

fn with_unit(v: String, unit: &str) -> String {
    if unit.is_empty() {
        v
    } else {
        format!("{v} {unit}")
    }
}

/// `0 to 50 °C`, or `auto` without an engineering range.
fn range_text(cfg: &crate::project::TagConfig) -> String {
    cfg.range.map_or_else(
        || "auto".to_owned(),
        |r| with_unit(format!("{} to {}", r.min, r.max), &cfg.unit),
    )
}
