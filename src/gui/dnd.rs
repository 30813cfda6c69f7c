//! Drag and drop between panels: a button that can be clicked and dragged, carrying a payload
//! (a widget kind or topic to the editor's canvas, a tag to a trend), its text following the
//! pointer while dragged.

use std::any::Any;

/// `button`, clickable and draggable: dragging carries `payload` and shows `text` at the
/// pointer; the drop target takes it with `Response::dnd_release_payload`.
pub fn drag_source_ui<P: Any + Send + Sync>(
    ui: &mut egui::Ui,
    button: egui::Button<'_>,
    text: &str,
    payload: P,
) -> egui::Response {
    let r = ui.add(button.sense(egui::Sense::click_and_drag()));
    if r.drag_started() {
        egui::DragAndDrop::set_payload(ui.ctx(), payload);
    }
    if r.dragged()
        && let Some(p) = ui.ctx().pointer_latest_pos()
    {
        egui::Area::new(r.id.with("dragging"))
            .order(egui::Order::Tooltip)
            .fixed_pos(p + egui::vec2(12.0, 8.0))
            .interactable(false)
            .show(ui.ctx(), |ui| {
                egui::Frame::popup(ui.style()).show(ui, |ui| ui.label(text));
            });
    }
    r.on_hover_cursor(egui::CursorIcon::Grab)
}
