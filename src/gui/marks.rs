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
    // One mesh of thin quads, each 45° line already cut to the rect: hundreds of hatched
    // widgets (a lost broker) stay cheap to tessellate.
    let step = s(p, 8.0).max(4.0);
    let width = s(p, 1.0).max(1.0);
    let colour = p.theme.hatch.gamma_multiply(0.55);
    let mut mesh = egui::Mesh::default();
    let h = rect.height();
    let mut x = rect.left() - h;
    while x < rect.right() {
        // The line (x + t·h, bottom − t·h), t in 0..1, inside left..right.
        let t0 = ((rect.left() - x) / h).max(0.0);
        let t1 = ((rect.right() - x) / h).min(1.0);
        if t1 > t0 {
            let a = pos2(x + t0 * h, rect.bottom() - t0 * h);
            let b = pos2(x + t1 * h, rect.bottom() - t1 * h);
            quad(&mut mesh, a, b, width, colour);
        }
        x += step;
    }
    ui.painter().add(Shape::mesh(mesh));
    let painter = ui.painter().with_clip_rect(rect);
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
    let (width, dash, gap) = (s(p, 1.5).max(1.0), s(p, 5.0), s(p, 3.0));
    let mut mesh = egui::Mesh::default();
    for side in pts.windows(2) {
        let (a, b) = (side[0], side[1]);
        let len = a.distance(b);
        let dir = (b - a) / len.max(1e-3);
        let mut at = 0.0;
        while at < len {
            let end = (at + dash).min(len);
            quad(
                &mut mesh,
                a + dir * at,
                a + dir * end,
                width,
                p.theme.text_dim,
            );
            at += dash + gap;
        }
    }
    ui.painter().add(Shape::mesh(mesh));
}

/// A line from `a` to `b`, `width` wide, as two triangles.
fn quad(mesh: &mut egui::Mesh, a: egui::Pos2, b: egui::Pos2, width: f32, colour: egui::Color32) {
    let d = b - a;
    let n = vec2(-d.y, d.x) / d.length().max(1e-3) * (width / 2.0);
    let i = mesh.vertices.len() as u32;
    for p in [a + n, b + n, b - n, a - n] {
        mesh.colored_vertex(p, colour);
    }
    mesh.add_triangle(i, i + 1, i + 2);
    mesh.add_triangle(i, i + 2, i + 3);
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
