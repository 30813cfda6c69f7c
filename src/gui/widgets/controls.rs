//! Controls among the process widgets: the gauge and the push button.

use egui::{Align2, Pos2, Rect, Shape, Stroke, StrokeKind, Ui, vec2};

use crate::project::WidgetConfig;

use super::super::format::value_text;
use super::super::marks::{dashed_border, quality_overlay};
use super::super::theme;
use super::{Painting, caption, label_of, s, unit_of, value_colour};

/// A 240° gauge over the tag's range, the value in the middle.
pub(super) fn gauge(ui: &Ui, rect: Rect, w: &WidgetConfig, p: &Painting<'_>) {
    let Some(tag) = p.tag else { return };
    let painter = ui.painter();
    painter.rect(
        rect,
        2.0,
        p.theme.field_bg,
        Stroke::new(1.0, p.theme.field_stroke),
        StrokeKind::Inside,
    );
    caption(
        ui,
        rect.center_top() + vec2(0.0, s(p, 3.0)),
        Align2::CENTER_TOP,
        label_of(w, p),
        p,
    );
    let body = Rect::from_min_max(rect.left_top() + vec2(0.0, s(p, 16.0)), rect.right_bottom());
    let radius = (body.width().min(body.height()) / 2.0 - s(p, 8.0)).max(4.0);
    let centre = body.center() + vec2(0.0, radius * 0.1);
    let (start, sweep) = (std::f32::consts::PI * 0.75, std::f32::consts::PI * 1.5);
    let arc = |from: f32, to: f32| -> Vec<Pos2> {
        let n = 32;
        (0..=n)
            .map(|i| {
                let a = start + sweep * (from + (to - from) * i as f32 / n as f32);
                centre + vec2(a.cos(), a.sin()) * radius
            })
            .collect()
    };
    let width = s(p, 8.0).max(3.0);
    painter.add(Shape::line(
        arc(0.0, 1.0),
        Stroke::new(width, p.theme.bar_track),
    ));
    if tag.state.value.is_some() {
        let frac = tag.fraction().unwrap_or(0.0);
        let colour = if tag.good() {
            p.theme.bar_fill
        } else {
            p.theme.hatch.gamma_multiply(0.4)
        };
        painter.add(Shape::line(arc(0.0, frac), Stroke::new(width, colour)));
    }
    painter.text(
        centre,
        Align2::CENTER_CENTER,
        value_text(tag.cfg, tag.state),
        theme::mono(s(p, theme::VALUE_SIZE)),
        value_colour(tag, p),
    );
    painter.text(
        centre + vec2(0.0, s(p, theme::VALUE_SIZE)),
        Align2::CENTER_TOP,
        unit_of(tag),
        theme::font(s(p, theme::LABEL_SIZE)),
        p.theme.text_dim,
    );
    if !tag.good() {
        dashed_border(ui, rect, p);
        quality_overlay(ui, rect, tag.state.quality, p);
    }
}

/// A push button: raised frame, its label; a bound tag's state shows beside it.
pub(super) fn button(ui: &Ui, rect: Rect, w: &WidgetConfig, p: &Painting<'_>, hovered: bool) {
    let painter = ui.painter();
    let fill = if hovered {
        p.theme.bar_track
    } else {
        p.theme.field_bg
    };
    painter.rect(
        rect,
        4.0,
        fill,
        Stroke::new(s(p, 1.5).max(1.0), p.theme.equipment_stroke),
        StrokeKind::Inside,
    );
    let text = match (w.label.is_empty(), &w.action) {
        (false, _) => w.label.clone(),
        (true, Some(crate::project::ButtonAction::Navigate { screen, .. })) => {
            format!("→ {screen}")
        }
        (true, Some(crate::project::ButtonAction::Write { value })) => format!("Set {value}"),
        (true, Some(crate::project::ButtonAction::Toggle)) => "Toggle".to_owned(),
        (true, None) => "Button".to_owned(),
    };
    painter.text(
        rect.center(),
        Align2::CENTER_CENTER,
        text,
        theme::font(s(p, 14.0)),
        p.theme.text,
    );
}
