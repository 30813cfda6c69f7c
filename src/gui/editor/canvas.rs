//! The editor canvas: the screen with live values, a grid, selection (click, shift-click, box),
//! moving (mouse, arrows), resize handles, and dropping palette items and topics.

use std::collections::BTreeSet;

use egui::{Pos2, Rect, Response, Sense, Stroke, StrokeKind, Ui, pos2, vec2};

use crate::project::edit::{self, Edit};
use crate::project::{WidgetConfig, WidgetKind};

use super::Editor;
use crate::gui::screen::{MiniTrends, ScreenContext, alarm_marks, paint_widgets};
use crate::gui::theme::Theme;

/// What can be dragged onto the canvas.
#[derive(Clone, Debug, PartialEq)]
pub enum DragItem {
    /// A new widget from the palette.
    Widget(WidgetKind),
    /// A topic (and a field of its JSON payload) from the topic browser.
    Topic {
        topic: String,
        pointer: Option<String>,
    },
}

#[derive(Default)]
pub struct CanvasState {
    drag: Option<Drag>,
}

#[derive(Clone, Debug)]
enum Drag {
    /// Moving the selection; `from` in design points.
    Move { from: Pos2 },
    /// Resizing one widget by a handle.
    Resize {
        id: String,
        handle: Handle,
        from: Pos2,
    },
    /// Rubber-band selection.
    Band { from: Pos2, add: bool },
}

/// Which edges a resize handle moves: (left, top, right, bottom).
type Handle = (bool, bool, bool, bool);

const HANDLES: [Handle; 8] = [
    (true, true, false, false),
    (false, true, false, false),
    (false, true, true, false),
    (false, false, true, false),
    (false, false, true, true),
    (false, false, false, true),
    (true, false, false, true),
    (true, false, false, false),
];

fn handle_pos(r: Rect, h: Handle) -> Pos2 {
    let x = if h.0 {
        r.left()
    } else if h.2 {
        r.right()
    } else {
        r.center().x
    };
    let y = if h.1 {
        r.top()
    } else if h.3 {
        r.bottom()
    } else {
        r.center().y
    };
    pos2(x, y)
}

/// The design→screen mapping of the canvas.
#[derive(Clone, Copy)]
struct View {
    origin: Pos2,
    scale: f32,
}

impl View {
    fn to_screen(self, w: &WidgetConfig) -> Rect {
        Rect::from_min_size(
            self.origin + vec2(w.x, w.y) * self.scale,
            vec2(w.w, w.h) * self.scale,
        )
    }

    fn to_design(self, p: Pos2) -> Pos2 {
        ((p - self.origin) / self.scale).to_pos2()
    }
}

pub fn canvas_ui(
    ed: &mut Editor,
    ui: &mut Ui,
    engine: &crate::engine::EngineHandle,
    theme: &Theme,
    images: &crate::gui::images::ImageCache,
    minis: &mut MiniTrends,
) {
    let Some(screen) = ed.doc.screens.get(ed.screen) else {
        ui.centered_and_justified(|ui| {
            ui.label("No screens yet: add one in the Screens list on the left.");
        });
        return;
    };
    let avail = ui.available_rect_before_wrap();
    let (rect, _) = ui.allocate_exact_size(avail.size(), Sense::hover());
    let [dw, dh] = screen.file.size;
    let scale = ((rect.width() - 16.0) / dw)
        .min((rect.height() - 16.0) / dh)
        .max(0.05);
    let view = View {
        origin: rect.center() - vec2(dw, dh) * scale * 0.5,
        scale,
    };
    let page = Rect::from_min_size(view.origin, vec2(dw, dh) * scale);
    ui.painter().rect_filled(rect, 0.0, theme.chrome);
    ui.painter().rect_filled(page, 0.0, theme.screen_bg);
    grid_ui(ui, page, view, ed.grid, theme);

    // The widgets as they would be after the drag in progress.
    let pointer = ui.ctx().pointer_latest_pos().map(|p| view.to_design(p));
    let widgets: Vec<WidgetConfig> = preview(ed, &screen.file.widgets, pointer);
    let screen_id = screen.id.clone();
    let params = screen.file.params.clone();

    let cx = ScreenContext {
        project: &ed.doc,
        store: &engine.tags,
        theme,
        alarms: engine.alarms(),
        images,
    };
    let marks = alarm_marks(ui, &cx);
    let _ = paint_widgets(
        ui,
        &cx,
        &marks,
        &screen_id,
        &widgets,
        &params,
        view.origin,
        view.scale,
        minis,
        0,
    );

    // Widgets that still need a binding say so (only in edit mode).
    for w in widgets
        .iter()
        .filter(|w| w.kind.needs_tag() && w.tag.is_none())
    {
        let r = view.to_screen(w);
        ui.painter()
            .rect_stroke(r, 2.0, Stroke::new(1.0, theme.text_dim), StrokeKind::Inside);
        ui.painter().with_clip_rect(r).text(
            r.center(),
            egui::Align2::CENTER_CENTER,
            format!("{}: drop a topic here", w.kind.title()),
            crate::gui::theme::font(11.0),
            theme.text_dim,
        );
    }

    // On top of the widgets: the canvas takes the pointer in edit mode.
    let response = ui.interact(
        rect,
        ui.scope_id().with("editor_canvas"),
        Sense::click_and_drag(),
    );
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Canvas, true, "Screen canvas"));
    selection_ui(ui, ed, &widgets, view, theme);
    pointer_ui(ed, ui, &response, &widgets, view);
    drop_ui(ed, ui, &response, &widgets, view, theme);
}

fn grid_ui(ui: &Ui, page: Rect, view: View, grid: f32, theme: &Theme) {
    // Draw every grid line only when lines are at least 8 px apart; else every 5th.
    if grid <= 0.0 {
        return;
    }
    let mut step = grid * view.scale;
    while step < 8.0 {
        step *= 5.0;
    }
    let stroke = Stroke::new(1.0, theme.field_stroke.gamma_multiply(0.25));
    let painter = ui.painter().with_clip_rect(page);
    let mut x = page.left() + step;
    while x < page.right() {
        painter.vline(x, page.y_range(), stroke);
        x += step;
    }
    let mut y = page.top() + step;
    while y < page.bottom() {
        painter.hline(page.x_range(), y, stroke);
        y += step;
    }
}

/// The widget list with the drag in progress applied (snapped like the final result).
fn preview(ed: &Editor, widgets: &[WidgetConfig], pointer: Option<Pos2>) -> Vec<WidgetConfig> {
    let (Some(drag), Some(now)) = (&ed.canvas.drag, pointer) else {
        return widgets.to_vec();
    };
    widgets
        .iter()
        .map(|w| {
            let mut w = w.clone();
            apply_drag(ed, drag, now, &mut w);
            w
        })
        .collect()
}

fn apply_drag(ed: &Editor, drag: &Drag, now: Pos2, w: &mut WidgetConfig) {
    match drag {
        Drag::Move { from } if ed.selection.contains(&w.id) => {
            let d = now - *from;
            // Snap the moved widget's corner, so the result sits on the grid.
            w.x = ed.snapped(w.x + d.x);
            w.y = ed.snapped(w.y + d.y);
        }
        Drag::Resize { id, handle, from } if *id == w.id => {
            let d = now - *from;
            let (mut l, mut t, mut r, mut b) = (w.x, w.y, w.x + w.w, w.y + w.h);
            if handle.0 {
                l = ed.snapped(l + d.x).min(r - 4.0);
            }
            if handle.1 {
                t = ed.snapped(t + d.y).min(b - 4.0);
            }
            if handle.2 {
                r = ed.snapped(r + d.x).max(l + 4.0);
            }
            if handle.3 {
                b = ed.snapped(b + d.y).max(t + 4.0);
            }
            (w.x, w.y, w.w, w.h) = (l, t, r - l, b - t);
        }
        _ => {}
    }
}

/// The topmost widget under `p` (design points).
fn hit(widgets: &[WidgetConfig], p: Pos2) -> Option<&WidgetConfig> {
    widgets
        .iter()
        .rev()
        .find(|w| Rect::from_min_size(pos2(w.x, w.y), vec2(w.w, w.h)).contains(p))
}

fn selection_ui(ui: &Ui, ed: &Editor, widgets: &[WidgetConfig], view: View, theme: &Theme) {
    let painter = ui.painter();
    let accent = theme.value;
    for w in widgets.iter().filter(|w| ed.selection.contains(&w.id)) {
        let r = view.to_screen(w).expand(2.0);
        painter.rect_stroke(r, 0.0, Stroke::new(1.5, accent), StrokeKind::Outside);
        if ed.selection.len() == 1 {
            for h in HANDLES {
                let c = handle_pos(r, h);
                painter.rect(
                    Rect::from_center_size(c, vec2(7.0, 7.0)),
                    0.0,
                    theme.field_bg,
                    Stroke::new(1.0, accent),
                    StrokeKind::Middle,
                );
            }
        }
    }
    if let (Some(Drag::Band { from, .. }), Some(now)) =
        (&ed.canvas.drag, ui.ctx().pointer_latest_pos())
    {
        let a = view.origin + from.to_vec2() * view.scale;
        let band = Rect::from_two_pos(a, now);
        painter.rect(
            band,
            0.0,
            accent.gamma_multiply(0.08),
            Stroke::new(1.0, accent),
            StrokeKind::Middle,
        );
    }
}

fn pointer_ui(ed: &mut Editor, ui: &Ui, response: &Response, widgets: &[WidgetConfig], view: View) {
    let shift = ui.input(|i| i.modifiers.shift);
    let press = ui
        .input(|i| i.pointer.press_origin())
        .map(|p| view.to_design(p));

    if response.drag_started()
        && let Some(p) = press
    {
        ed.canvas.drag = Some(start_drag(ed, widgets, p, shift, view));
    }
    if response.drag_stopped()
        && let Some(drag) = ed.canvas.drag.take()
        && let Some(now) = response
            .interact_pointer_pos()
            .or(ui.ctx().pointer_latest_pos())
    {
        finish_drag(ed, widgets, drag, view.to_design(now));
    }
    if response.clicked()
        && let Some(p) = response.interact_pointer_pos().map(|p| view.to_design(p))
    {
        if let Some(kind) = ed.placing.take() {
            ed.place(kind, [p.x, p.y]);
            return;
        }
        match hit(widgets, p) {
            Some(w) if shift && !ed.selection.remove(&w.id) => {
                ed.selection.insert(w.id.clone());
            }
            Some(_) if shift => {}
            Some(w) => ed.selection = BTreeSet::from([w.id.clone()]),
            None if !shift => ed.selection.clear(),
            None => {}
        }
        ed.inspector.reset();
    }
    if response.hovered() {
        let cursor = if ed.placing.is_some() {
            egui::CursorIcon::Crosshair
        } else {
            egui::CursorIcon::Default
        };
        ui.ctx().set_cursor_icon(cursor);
    }
}

fn start_drag(ed: &mut Editor, widgets: &[WidgetConfig], p: Pos2, shift: bool, view: View) -> Drag {
    // A resize handle of the single selected widget?
    if ed.selection.len() == 1
        && let Some(w) = widgets.iter().find(|w| ed.selection.contains(&w.id))
    {
        let r = view.to_screen(w).expand(2.0);
        let ps = view.origin + p.to_vec2() * view.scale;
        if let Some(h) = HANDLES
            .into_iter()
            .find(|h| handle_pos(r, *h).distance(ps) <= 6.0)
        {
            return Drag::Resize {
                id: w.id.clone(),
                handle: h,
                from: p,
            };
        }
    }
    match hit(widgets, p) {
        Some(w) => {
            if !ed.selection.contains(&w.id) {
                if !shift {
                    ed.selection.clear();
                }
                ed.selection.insert(w.id.clone());
                ed.inspector.reset();
            }
            Drag::Move { from: p }
        }
        None => Drag::Band {
            from: p,
            add: shift,
        },
    }
}

fn finish_drag(ed: &mut Editor, widgets: &[WidgetConfig], drag: Drag, now: Pos2) {
    match &drag {
        Drag::Band { from, add } => {
            let band = Rect::from_two_pos(*from, now);
            let inside: BTreeSet<String> = widgets
                .iter()
                .filter(|w| band.contains_rect(Rect::from_min_size(pos2(w.x, w.y), vec2(w.w, w.h))))
                .map(|w| w.id.clone())
                .collect();
            if *add {
                ed.selection.extend(inside);
            } else {
                ed.selection = inside;
            }
            ed.inspector.reset();
        }
        Drag::Move { .. } | Drag::Resize { .. } => {
            let label = if matches!(drag, Drag::Move { .. }) {
                format!("Move {} widget(s)", ed.selection.len())
            } else {
                "Resize".to_owned()
            };
            let ids: BTreeSet<String> = match &drag {
                Drag::Resize { id, .. } => BTreeSet::from([id.clone()]),
                _ => ed.selection.clone(),
            };
            let edit = {
                let ed_ref = &*ed;
                edit::map_widgets(&ed_ref.doc, ed_ref.screen, &ids, |w| {
                    apply_drag(ed_ref, &drag, now, w);
                })
            };
            if let Some(e) = edit {
                ed.apply(&label, e);
                ed.inspector.reset();
            }
        }
    }
}

fn drop_ui(
    ed: &mut Editor,
    ui: &Ui,
    response: &Response,
    widgets: &[WidgetConfig],
    view: View,
    theme: &Theme,
) {
    let hovering = response.dnd_hover_payload::<DragItem>();
    let pointer = ui.ctx().pointer_latest_pos();
    if let (Some(item), Some(p)) = (&hovering, pointer) {
        let target = match item.as_ref() {
            DragItem::Topic { .. } => hit(widgets, view.to_design(p)),
            DragItem::Widget(_) => None,
        };
        let outline = target.map_or_else(
            || Rect::from_center_size(p, vec2(12.0, 12.0)),
            |w| view.to_screen(w),
        );
        ui.painter().rect_stroke(
            outline.expand(3.0),
            2.0,
            Stroke::new(2.0, theme.value),
            StrokeKind::Outside,
        );
    }
    let Some(item) = response.dnd_release_payload::<DragItem>() else {
        return;
    };
    let Some(p) = response
        .interact_pointer_pos()
        .or(pointer)
        .map(|p| view.to_design(p))
    else {
        return;
    };
    match item.as_ref() {
        DragItem::Widget(kind) => {
            ed.place(*kind, [p.x, p.y]);
        }
        DragItem::Topic { topic, pointer } => {
            let target = hit(widgets, p).map(|w| w.id.clone());
            ed.drop_topic(topic, pointer.as_deref(), target.as_deref(), [p.x, p.y]);
        }
    }
}

impl Editor {
    /// A topic dropped on the canvas: find or create its tag, then bind the widget under the
    /// pointer to it, or place a new widget bound to it. One undo step.
    pub fn drop_topic(
        &mut self,
        topic: &str,
        pointer: Option<&str>,
        onto: Option<&str>,
        at: [f32; 2],
    ) {
        let payload = self.panels.payload_of(topic);
        let mut edits = Vec::new();
        let existing = self.doc.file.tags.iter().find(|t| {
            t.topic == topic && super::panels::pointer_of(&t.decoder).as_deref() == pointer
        });
        let tag = if let Some(t) = existing {
            t.clone()
        } else {
            use crate::project::guess;
            let payload = payload.unwrap_or_default();
            let sample = guess::guess_decoder(&payload);
            let leaf = pointer.map(|ptr| {
                guess::json_leaves(&payload)
                    .into_iter()
                    .find(|l| l.pointer == ptr)
                    .unwrap_or(guess::JsonLeaf {
                        pointer: ptr.to_owned(),
                        kind: crate::project::ValueKind::Number,
                        preview: String::new(),
                    })
            });
            let mut t = match guess::tag_config_for_topic(topic, &sample, leaf.as_ref()) {
                Ok(t) => t,
                Err(e) => {
                    self.status = Some((format!("{topic}: {e}"), true));
                    self.panels.selected_topic = Some(topic.to_owned());
                    return;
                }
            };
            t.name = guess::unique_tag_name(&t.name, |n| self.doc.tag(n).is_some());
            edits.push(Edit::InsertTag {
                index: self.doc.file.tags.len(),
                tag: t.clone(),
            });
            t
        };
        let Some(screen) = self.doc.screens.get(self.screen) else {
            return;
        };
        let target = onto.and_then(|id| {
            screen
                .file
                .widgets
                .iter()
                .position(|w| w.id == id && w.kind.takes_tag())
        });
        let (label, id) = if let Some(index) = target {
            let mut w = screen.file.widgets[index].clone();
            w.tag = Some(tag.name.clone());
            let id = w.id.clone();
            edits.push(Edit::SetWidget {
                screen: self.screen,
                index,
                widget: w,
            });
            (format!("Bind {id} to {}", tag.name), id)
        } else {
            let kind = match &tag.decoder {
                crate::project::Decoder::Bool => WidgetKind::Lamp,
                crate::project::Decoder::Json {
                    value: crate::project::ValueKind::Bool,
                    ..
                } => WidgetKind::Lamp,
                crate::project::Decoder::String
                | crate::project::Decoder::Json {
                    value: crate::project::ValueKind::String,
                    ..
                } => WidgetKind::Text,
                _ => WidgetKind::Value,
            };
            let id = edit::unique_widget_id(&screen.file, kind.key(), &Default::default());
            let mut w = WidgetConfig::new(&id, kind, self.snapped(at[0]), self.snapped(at[1]));
            w.tag = Some(tag.name.clone());
            edits.push(Edit::InsertWidget {
                screen: self.screen,
                index: screen.file.widgets.len(),
                widget: w,
            });
            (format!("Add {} for {topic}", kind.title()), id)
        };
        self.apply(&label, Edit::Batch(edits));
        self.selection = BTreeSet::from([id]);
        self.inspector.reset();
    }
}
