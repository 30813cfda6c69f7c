//! Marks drawn over process widgets: the quality overlay (hatching, badge, dashed border — a
//! stale or bad value never looks like a good one) and the alarm marker (priority frame and
//! number, flashing while unacknowledged).

use egui::{Align2, Rect, Shape, Stroke, StrokeKind, Ui, pos2, vec2};

use crate::engine::Quality;

use super::format::quality_badge;
use super::theme;
use super::widgets::Painting;

fn s(p: &Painting<'_>, v: f32) -> f32 {
    v * p.scale
}

/// Hatch a rect and put a badge in its corner: the value is not to be trusted.
pub fn quality_overlay(ui: &Ui, rect: Rect, q: Quality, p: &Painting<'_>) {
    let Some(badge) = quality_badge(q) else {
        return;
    };
    let painter = ui.painter().with_clip_rect(rect);
    let step = s(p, 8.0).max(4.0);
    let stroke = Stroke::new(s(p, 1.0).max(1.0), p.theme.hatch.gamma_multiply(0.55));
    let mut x = rect.left() - rect.height();
    while x < rect.right() {
        painter.line_segment(
            [pos2(x, rect.bottom()), pos2(x + rect.height(), rect.top())],
            stroke,
        );
        x += step;
    }
    let font = theme::font(s(p, 9.5));
    let galley = ui
        .painter()
        .layout_no_wrap(badge.to_owned(), font, p.theme.badge_text);
    let pad = vec2(s(p, 3.0), s(p, 1.0));
    let badge_rect = Rect::from_min_size(
        pos2(rect.right() - galley.size().x - 2.0 * pad.x, rect.top()),
        galley.size() + 2.0 * pad,
    );
    painter.rect_filled(badge_rect, 2.0, p.theme.badge_bg);
    painter.galley(badge_rect.min + pad, galley, p.theme.badge_text);
}

pub fn dashed_border(ui: &Ui, rect: Rect, p: &Painting<'_>) {
    let r = rect.shrink(0.5);
    let pts = [
        r.left_top(),
        r.right_top(),
        r.right_bottom(),
        r.left_bottom(),
        r.left_top(),
    ];
    let stroke = Stroke::new(s(p, 1.5).max(1.0), p.theme.text_dim);
    ui.painter()
        .extend(Shape::dashed_line(&pts, stroke, s(p, 5.0), s(p, 3.0)));
}

/// A priority-coloured frame and a numbered priority tag at the top-left corner; flashing while
/// unacknowledged.
pub fn alarm_marker(
    ui: &Ui,
    rect: Rect,
    colour: egui::Color32,
    number: u8,
    unacked: bool,
    p: &Painting<'_>,
) {
    let on = !unacked || (ui.input(|i| i.time) * 2.0) as i64 % 2 == 0;
    let painter = ui.painter();
    if on {
        painter.rect_stroke(
            rect.expand(s(p, 3.0)),
            2.0,
            Stroke::new(s(p, 3.0).max(2.0), colour),
            StrokeKind::Outside,
        );
    }
    let size = s(p, 16.0).max(12.0);
    let tag = Rect::from_min_size(
        rect.left_top() - vec2(size * 0.6, size * 0.6),
        vec2(size, size),
    );
    painter.rect_filled(tag, 2.0, colour);
    painter.text(
        tag.center(),
        Align2::CENTER_CENTER,
        number.to_string(),
        theme::font(size * 0.8),
        egui::Color32::BLACK,
    );
}
