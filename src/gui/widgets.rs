//! Process widgets: stateless painters for value, bar, tank, pump, fan, valve, lamp, text,
//! pipe and group. Each one sizes itself to its rect, shows quality (a stale or bad value never
//! looks like a good one) and gives itself an accessible label.

use egui::{
    Align2, Color32, Pos2, Rect, Response, Role, Sense, Shape, Stroke, StrokeKind, Ui, Vec2,
    WidgetInfo, pos2, vec2,
};

use crate::engine::{Quality, TagState};
use crate::project::{TagConfig, WidgetConfig, WidgetKind};

use super::format::{bool_text, quality_badge, value_text, value_with_unit};
use super::marks::{alarm_marker, dashed_border, quality_overlay};
use super::theme::{self, Theme};

mod controls;
use controls::{button, gauge};

/// A bound tag as a widget sees it.
#[derive(Clone, Copy)]
pub struct TagView<'a> {
    pub cfg: &'a TagConfig,
    pub state: &'a TagState,
}

impl TagView<'_> {
    fn good(&self) -> bool {
        self.state.quality.is_good()
    }

    fn as_bool(&self) -> Option<bool> {
        self.state
            .value
            .as_ref()
            .and_then(crate::engine::Value::as_bool)
    }

    fn as_f64(&self) -> Option<f64> {
        self.state
            .value
            .as_ref()
            .and_then(crate::engine::Value::as_f64)
    }

    /// Fraction of the engineering range (0..=1), if numeric.
    fn fraction(&self) -> Option<f32> {
        let v = self.as_f64()?;
        let (min, max) = self.cfg.range.map_or((0.0, 100.0), |r| (r.min, r.max));
        #[allow(clippy::cast_possible_truncation)]
        Some(((v - min) / (max - min)).clamp(0.0, 1.0) as f32)
    }
}

/// Everything a widget needs to paint itself.
pub struct Painting<'a> {
    pub theme: &'a Theme,
    /// Design points → screen points.
    pub scale: f32,
    pub tag: Option<TagView<'a>>,
    pub tag2: Option<TagView<'a>>,
    /// The most important alarm on the bound tags: priority colour, priority number (1–4),
    /// unacknowledged. ISA-101: the priority colour appears here and in the alarm views only.
    pub alarm: Option<(egui::Color32, u8, bool)>,
}

/// Paint `w` into `rect`; the response is clickable (faceplates and trends hook in here).
pub fn widget_ui(ui: &mut Ui, rect: Rect, w: &WidgetConfig, p: &Painting<'_>) -> Response {
    let sense = if w.kind.needs_tag() || w.kind == WidgetKind::Button {
        Sense::click()
    } else {
        Sense::hover()
    };
    let response = ui.interact(rect, ui.scope_id().with(("widget", &w.id)), sense);
    match w.kind {
        WidgetKind::Value => value(ui, rect, w, p),
        WidgetKind::Setpoint => {
            value(ui, rect, w, p);
            // A small "SET" mark: this value can be written (click).
            ui.painter().text(
                rect.left_bottom() + vec2(s(p, 6.0), -s(p, 4.0)),
                Align2::LEFT_BOTTOM,
                "SET",
                theme::font(s(p, 10.0)),
                p.theme.text_dim,
            );
        }
        WidgetKind::Bar => bar(ui, rect, w, p),
        WidgetKind::Tank => tank(ui, rect, w, p),
        WidgetKind::Pump | WidgetKind::Fan => rotating(ui, rect, w, p),
        WidgetKind::Valve => valve(ui, rect, w, p),
        WidgetKind::Lamp => lamp(ui, rect, w, p),
        WidgetKind::Text => text(ui, rect, w, p),
        WidgetKind::Pipe => pipe(ui, rect, w, p),
        WidgetKind::Group => group(ui, rect, w, p),
        WidgetKind::Trend | WidgetKind::AlarmList => trend_frame(ui, rect, w, p),
        WidgetKind::Gauge => gauge(ui, rect, w, p),
        WidgetKind::Button => button(ui, rect, w, p, response.hovered()),
        // Drawn by the screen (they need its texture cache and template resolution).
        WidgetKind::Image | WidgetKind::Template => {}
    }
    if let Some((colour, number, unacked)) = p.alarm {
        alarm_marker(ui, rect, colour, number, unacked, p);
    }
    let role = if w.kind.needs_tag() || w.kind == WidgetKind::Button {
        Role::Button
    } else {
        Role::Label
    };
    // Built only when accessibility (a screen reader, a test) asks for it.
    response.widget_info(|| WidgetInfo::labeled(role, true, accessible_label(w, p)));
    if let Some(tag) = p.tag {
        response.on_hover_ui(|ui| tooltip_ui(ui, tag, p.tag2))
    } else {
        response
    }
}

/// `Supply air: 21.5 °C` (plus quality when not good) — what tests and screen readers find.
fn accessible_label(w: &WidgetConfig, p: &Painting<'_>) -> String {
    let name = if w.label.is_empty() {
        p.tag.map_or("", |t| t.cfg.name.as_str())
    } else {
        w.label.as_str()
    };
    match p.tag {
        None => name.to_owned(),
        Some(t) => {
            let mut s = format!("{name}: {}", value_with_unit(t.cfg, t.state));
            if let Some(b) = quality_badge(t.state.quality) {
                s.push_str(&format!(" ({})", b.to_lowercase()));
            }
            if let Some(t2) = p.tag2
                && t2.as_bool() == Some(true)
            {
                s.push_str(", fault");
            }
            if let Some((_, n, unacked)) = p.alarm {
                s.push_str(&format!(
                    ", alarm priority {n}{}",
                    if unacked { " unacknowledged" } else { "" }
                ));
            }
            s
        }
    }
}

fn tooltip_ui(ui: &mut Ui, tag: TagView<'_>, tag2: Option<TagView<'_>>) {
    for t in std::iter::once(tag).chain(tag2) {
        ui.strong(&t.cfg.name);
        if !t.cfg.description.is_empty() {
            ui.label(&t.cfg.description);
        }
        ui.label(format!(
            "{}   quality: {}",
            value_with_unit(t.cfg, t.state),
            t.state.quality
        ));
        if let Some(reason) = &t.state.reason {
            ui.label(format!("reason: {reason}"));
        }
        ui.label(format!(
            "source time: {}",
            super::format::local_datetime(t.state.source_ts_ms)
        ));
        ui.label(format!("topic: {}", t.cfg.topic));
    }
}

fn s(p: &Painting<'_>, v: f32) -> f32 {
    v * p.scale
}

/// The colour for a live value: dimmed when not good.
fn value_colour(tag: TagView<'_>, p: &Painting<'_>) -> Color32 {
    if tag.good() {
        p.theme.value
    } else {
        p.theme.text_dim.gamma_multiply(0.8)
    }
}

fn caption(ui: &Ui, pos: Pos2, anchor: Align2, text: &str, p: &Painting<'_>) {
    ui.painter().text(
        pos,
        anchor,
        text,
        theme::font(s(p, theme::LABEL_SIZE)),
        p.theme.text_dim,
    );
}

fn label_of<'a>(w: &'a WidgetConfig, p: &'a Painting<'_>) -> &'a str {
    if w.label.is_empty() {
        p.tag.map_or("", |t| t.cfg.name.as_str())
    } else {
        &w.label
    }
}

fn value(ui: &Ui, rect: Rect, w: &WidgetConfig, p: &Painting<'_>) {
    let painter = ui.painter();
    let good = p.tag.is_some_and(|t| t.good());
    painter.rect(
        rect,
        2.0,
        p.theme.field_bg,
        Stroke::new(1.0, p.theme.field_stroke),
        StrokeKind::Inside,
    );
    let pad = s(p, 6.0);
    caption(
        ui,
        rect.left_top() + vec2(pad, s(p, 3.0)),
        Align2::LEFT_TOP,
        label_of(w, p),
        p,
    );
    if let Some(tag) = p.tag {
        let (num, unit) = (value_text(tag.cfg, tag.state), unit_of(tag));
        let colour = value_colour(tag, p);
        let right = pos2(rect.right() - pad, rect.bottom() - s(p, 4.0));
        let unit_rect = painter.text(
            right,
            Align2::RIGHT_BOTTOM,
            unit,
            theme::font(s(p, theme::LABEL_SIZE)),
            p.theme.text_dim,
        );
        let gap = if unit.is_empty() { 0.0 } else { s(p, 4.0) };
        painter.text(
            pos2(unit_rect.left() - gap, right.y + s(p, 1.0)),
            Align2::RIGHT_BOTTOM,
            num,
            theme::mono(s(p, theme::VALUE_SIZE)),
            colour,
        );
        if !good {
            dashed_border(ui, rect, p);
            quality_overlay(ui, rect, tag.state.quality, p);
        }
    }
}

fn unit_of<'a>(tag: TagView<'a>) -> &'a str {
    if matches!(
        tag.state.value,
        Some(crate::engine::Value::Number(_)) | None
    ) {
        &tag.cfg.unit
    } else {
        ""
    }
}

fn bar(ui: &Ui, rect: Rect, w: &WidgetConfig, p: &Painting<'_>) {
    let Some(tag) = p.tag else { return };
    let painter = ui.painter();
    let label_h = s(p, 16.0);
    if w.vertical {
        caption(ui, rect.center_top(), Align2::CENTER_TOP, label_of(w, p), p);
    } else {
        caption(ui, rect.left_top(), Align2::LEFT_TOP, label_of(w, p), p);
    }
    let text = value_with_unit(tag.cfg, tag.state);
    let body = Rect::from_min_max(rect.left_top() + vec2(0.0, label_h), rect.right_bottom());
    let frac = tag.fraction().unwrap_or(0.0);
    let (track, fill, text_pos, text_anchor) = if w.vertical {
        // Value under the track, so neighbouring bars never cover it.
        let value_h = s(p, 18.0);
        let track_w = body.width().min(s(p, 28.0));
        let track = Rect::from_min_max(
            pos2(body.center().x - track_w / 2.0, body.top()),
            pos2(body.center().x + track_w / 2.0, body.bottom() - value_h),
        );
        let fill = Rect::from_min_max(
            pos2(track.left(), track.bottom() - track.height() * frac),
            track.right_bottom(),
        );
        (
            track,
            fill,
            pos2(body.center().x, body.bottom()),
            Align2::CENTER_BOTTOM,
        )
    } else {
        let track = Rect::from_min_max(
            body.left_top(),
            pos2(body.right(), body.top() + body.height().min(s(p, 18.0))),
        );
        let fill = Rect::from_min_max(
            track.left_top(),
            pos2(track.left() + track.width() * frac, track.bottom()),
        );
        (
            track,
            fill,
            pos2(track.right(), track.bottom() + s(p, 2.0)),
            Align2::RIGHT_TOP,
        )
    };
    painter.rect(
        track,
        1.0,
        p.theme.bar_track,
        Stroke::new(1.0, p.theme.field_stroke),
        StrokeKind::Inside,
    );
    if tag.state.value.is_some() {
        painter.rect_filled(
            fill,
            1.0,
            if tag.good() {
                p.theme.bar_fill
            } else {
                p.theme.hatch.gamma_multiply(0.4)
            },
        );
    }
    painter.text(
        text_pos,
        text_anchor,
        text,
        theme::mono(s(p, 13.0)),
        value_colour(tag, p),
    );
    if !tag.good() {
        dashed_border(ui, track, p);
        quality_overlay(ui, track, tag.state.quality, p);
    }
}

fn tank(ui: &Ui, rect: Rect, w: &WidgetConfig, p: &Painting<'_>) {
    let Some(tag) = p.tag else { return };
    let painter = ui.painter();
    let label_h = s(p, 16.0);
    caption(ui, rect.center_top(), Align2::CENTER_TOP, label_of(w, p), p);
    let value_h = s(p, 20.0);
    let body = Rect::from_min_max(
        rect.left_top() + vec2(0.0, label_h),
        rect.right_bottom() - vec2(0.0, value_h),
    );
    let radius = (body.width() * 0.18).min(s(p, 14.0));
    painter.rect(
        body,
        radius,
        p.theme.field_bg,
        Stroke::NONE,
        StrokeKind::Inside,
    );
    if let Some(frac) = tag.fraction() {
        let level = Rect::from_min_max(
            pos2(body.left(), body.bottom() - body.height() * frac),
            body.right_bottom(),
        );
        let fill = if tag.good() {
            p.theme.liquid
        } else {
            p.theme.hatch.gamma_multiply(0.35)
        };
        painter
            .with_clip_rect(level)
            .rect_filled(body, radius, fill);
    }
    painter.rect_stroke(body, radius, p.theme.stroke(s(p, 1.5)), StrokeKind::Inside);
    painter.text(
        rect.center_bottom(),
        Align2::CENTER_BOTTOM,
        value_with_unit(tag.cfg, tag.state),
        theme::mono(s(p, 15.0)),
        value_colour(tag, p),
    );
    if !tag.good() {
        dashed_border(ui, body, p);
        quality_overlay(ui, body, tag.state.quality, p);
    }
}

/// Pump or fan: the symbol is filled (dark) when running, hollow when stopped; a fault gets a
/// badge and a heavy outline.
fn rotating(ui: &Ui, rect: Rect, w: &WidgetConfig, p: &Painting<'_>) {
    let painter = ui.painter();
    let label_h = s(p, 16.0);
    let sym = Rect::from_min_max(rect.left_top(), rect.right_bottom() - vec2(0.0, label_h));
    let c = sym.center();
    let r = sym.width().min(sym.height()) * 0.45;
    let running = p.tag.and_then(|t| t.as_bool()).unwrap_or(false);
    let fault = p.tag2.and_then(|t| t.as_bool()).unwrap_or(false);
    let (fill, symbol) = if running {
        (p.theme.equipment_on, p.theme.equipment_on_symbol)
    } else {
        (p.theme.equipment_off, p.theme.equipment_stroke)
    };
    let stroke = p.theme.stroke(s(p, if fault { 3.5 } else { 1.5 }));
    painter.circle(c, r, fill, stroke);
    if w.kind == WidgetKind::Pump {
        // Triangle pointing to the outlet (right).
        let pts = vec![
            c + vec2(-r * 0.45, -r * 0.55),
            c + vec2(r * 0.65, 0.0),
            c + vec2(-r * 0.45, r * 0.55),
        ];
        painter.add(Shape::convex_polygon(pts, symbol, Stroke::NONE));
    } else {
        for i in 0..4 {
            #[allow(clippy::cast_precision_loss)]
            let a = std::f32::consts::FRAC_PI_2 * i as f32 + 0.35;
            let tip = c + Vec2::angled(a) * r * 0.8;
            let side = c + Vec2::angled(a + 0.6) * r * 0.45;
            painter.add(Shape::convex_polygon(
                vec![c, side, tip],
                symbol,
                Stroke::NONE,
            ));
        }
    }
    let state = match p.tag {
        Some(t) if t.state.value.is_some() => bool_text(t.cfg, running).to_owned(),
        _ => "---".to_owned(),
    };
    let text = if fault { "FAULT".to_owned() } else { state };
    let label = label_of(w, p);
    painter.text(
        rect.center_bottom(),
        Align2::CENTER_BOTTOM,
        format!("{label}  {text}"),
        theme::font(s(p, theme::LABEL_SIZE)),
        if fault {
            p.theme.text
        } else {
            p.theme.text_dim
        },
    );
    if fault {
        let badge =
            Rect::from_center_size(c + vec2(r * 0.8, -r * 0.8), vec2(s(p, 14.0), s(p, 14.0)));
        painter.rect_filled(badge, 2.0, p.theme.badge_bg);
        painter.text(
            badge.center(),
            Align2::CENTER_CENTER,
            "F",
            theme::font(s(p, 11.0)),
            p.theme.badge_text,
        );
    }
    let q = worst_quality(p);
    if q != Quality::Good {
        dashed_border(ui, sym, p);
        quality_overlay(ui, sym, q, p);
    }
}

fn worst_quality(p: &Painting<'_>) -> Quality {
    p.tag
        .iter()
        .chain(p.tag2.iter())
        .map(|t| t.state.quality)
        .max()
        .unwrap_or(Quality::Good)
}

/// Valve: a bow-tie, filled when open; a numeric tag fills it in proportion and shows %.
fn valve(ui: &Ui, rect: Rect, w: &WidgetConfig, p: &Painting<'_>) {
    let Some(tag) = p.tag else { return };
    let painter = ui.painter();
    let label_h = s(p, 16.0);
    let sym = Rect::from_min_max(rect.left_top(), rect.right_bottom() - vec2(0.0, label_h));
    let c = sym.center();
    let hw = (sym.width() * 0.45).min(sym.height() * 0.6);
    let hh = hw * 0.6;
    let numeric = matches!(tag.state.value, Some(crate::engine::Value::Number(_)))
        && tag.cfg.states.is_none();
    let open_frac = if numeric {
        tag.fraction().unwrap_or(0.0)
    } else if tag.as_bool().unwrap_or(false) {
        1.0
    } else {
        0.0
    };
    let left = vec![c, c + vec2(-hw, -hh), c + vec2(-hw, hh)];
    let right = vec![c, c + vec2(hw, -hh), c + vec2(hw, hh)];
    let stroke = p.theme.stroke(s(p, 1.5));
    for tri in [left, right] {
        painter.add(Shape::convex_polygon(
            tri.clone(),
            p.theme.equipment_off,
            Stroke::NONE,
        ));
        if open_frac > 0.0 {
            // Fill from the centre line outwards in proportion to the opening.
            let clip = Rect::from_center_size(c, vec2(2.0 * hw, 2.0 * hh * open_frac));
            painter.with_clip_rect(clip).add(Shape::convex_polygon(
                tri.clone(),
                p.theme.equipment_on,
                Stroke::NONE,
            ));
        }
        painter.add(Shape::closed_line(tri, stroke));
    }
    // Actuator stem.
    painter.line_segment([c, c - vec2(0.0, hh * 1.2)], stroke);
    painter.rect_stroke(
        Rect::from_center_size(c - vec2(0.0, hh * 1.35), vec2(hw * 0.7, hh * 0.35)),
        1.0,
        stroke,
        StrokeKind::Middle,
    );
    painter.text(
        rect.center_bottom(),
        Align2::CENTER_BOTTOM,
        format!(
            "{}  {}",
            label_of(w, p),
            value_with_unit(tag.cfg, tag.state)
        ),
        theme::font(s(p, theme::LABEL_SIZE)),
        value_colour(tag, p),
    );
    if !tag.good() {
        dashed_border(ui, sym, p);
        quality_overlay(ui, sym, tag.state.quality, p);
    }
}

fn lamp(ui: &Ui, rect: Rect, w: &WidgetConfig, p: &Painting<'_>) {
    let Some(tag) = p.tag else { return };
    let painter = ui.painter();
    let r = (rect.height() * 0.32).min(s(p, 9.0));
    let c = pos2(rect.left() + r + s(p, 2.0), rect.center().y);
    let on = tag.as_bool().unwrap_or(false);
    let fill = if on {
        p.theme.equipment_on
    } else {
        p.theme.equipment_off
    };
    painter.circle(c, r, fill, p.theme.stroke(s(p, 1.5)));
    let state = if tag.state.value.is_some() {
        bool_text(tag.cfg, on)
    } else {
        "---"
    };
    let text_pos = pos2(c.x + r + s(p, 6.0), c.y);
    painter.text(
        text_pos,
        Align2::LEFT_CENTER,
        format!("{}: {state}", label_of(w, p)),
        theme::font(s(p, 13.0)),
        value_colour(tag, p),
    );
    if !tag.good() {
        dashed_border(ui, rect, p);
        quality_overlay(ui, rect, tag.state.quality, p);
    }
}

fn text(ui: &Ui, rect: Rect, w: &WidgetConfig, p: &Painting<'_>) {
    // Static text is the label (taller boxes get a heading size); a bound text shows the value.
    let (text, size, colour) = match p.tag {
        None => {
            // A tall box with a short text is a heading; longer texts are notes.
            let heading = rect.height() >= s(p, 30.0) && w.label.chars().count() <= 48;
            let size = if heading { 20.0 } else { 13.0 };
            (w.label.clone(), size, p.theme.text)
        }
        Some(tag) => {
            let value = value_with_unit(tag.cfg, tag.state);
            let text = if w.label.is_empty() {
                value
            } else {
                format!("{}: {value}", w.label)
            };
            (text, 13.0, value_colour(tag, p))
        }
    };
    // Wrap inside the widget's box, never spill over the screen.
    let galley = ui
        .painter()
        .layout(text, theme::font(s(p, size)), colour, rect.width().max(1.0));
    let top = (rect.center().y - galley.size().y / 2.0).max(rect.top());
    ui.painter()
        .with_clip_rect(rect.expand(2.0))
        .galley(pos2(rect.left(), top), galley, colour);
    if let Some(tag) = p.tag
        && !tag.good()
    {
        dashed_border(ui, rect, p);
        quality_overlay(ui, rect, tag.state.quality, p);
    }
}

fn pipe(ui: &Ui, rect: Rect, w: &WidgetConfig, p: &Painting<'_>) {
    let painter = ui.painter();
    let stroke = Stroke::new(s(p, 3.0).max(1.5), p.theme.pipe);
    let (a, b) = if rect.width() >= rect.height() {
        (rect.left_center(), rect.right_center())
    } else {
        (rect.center_top(), rect.center_bottom())
    };
    let (a, b) = if w.vertical { (b, a) } else { (a, b) };
    painter.line_segment([a, b], stroke);
    // Flow direction: a small arrowhead in the middle.
    let dir = (b - a).normalized();
    let mid = a + (b - a) * 0.5;
    let n = vec2(-dir.y, dir.x);
    let h = s(p, 6.0);
    let pts = vec![
        mid + dir * h,
        mid - dir * h * 0.6 + n * h * 0.8,
        mid - dir * h * 0.6 - n * h * 0.8,
    ];
    painter.add(Shape::convex_polygon(pts, p.theme.pipe, Stroke::NONE));
    if !w.label.is_empty() {
        caption(ui, mid - n * s(p, 4.0), Align2::CENTER_BOTTOM, &w.label, p);
    }
}

/// The frame and caption of a mini trend; the plot itself is drawn by the screen (it needs the
/// trend's query state).
fn trend_frame(ui: &Ui, rect: Rect, w: &WidgetConfig, p: &Painting<'_>) {
    ui.painter().rect(
        rect,
        2.0,
        p.theme.field_bg,
        Stroke::new(1.0, p.theme.field_stroke),
        StrokeKind::Inside,
    );
    caption(
        ui,
        rect.left_top() + vec2(s(p, 6.0), s(p, 3.0)),
        Align2::LEFT_TOP,
        label_of(w, p),
        p,
    );
}

/// The plot area inside a mini trend's frame (below its caption).
pub fn trend_plot_rect(rect: Rect, scale: f32) -> Rect {
    Rect::from_min_max(
        rect.left_top() + vec2(4.0 * scale, 18.0 * scale),
        rect.right_bottom() - vec2(4.0 * scale, 4.0 * scale),
    )
}

fn group(ui: &Ui, rect: Rect, w: &WidgetConfig, p: &Painting<'_>) {
    let painter = ui.painter();
    painter.rect_stroke(
        rect,
        4.0,
        Stroke::new(1.0, p.theme.group_stroke),
        StrokeKind::Inside,
    );
    if !w.label.is_empty() {
        painter.text(
            rect.left_top() + vec2(s(p, 8.0), s(p, 5.0)),
            Align2::LEFT_TOP,
            &w.label,
            theme::font(s(p, theme::CAPTION_SIZE)),
            p.theme.text,
        );
    }
}
