//! The topic browser: the live MQTT topic tree of the connected broker (last payload, retained
//! flag, rate), searchable, drawn row by row so 10,000+ topics stay smooth. Drag a topic (or a
//! field of its JSON payload) onto the canvas to create a bound widget, or onto a widget to
//! rebind it.

use egui::{RichText, Ui};

use crate::project::guess;

use super::{DragItem, Editor};
use crate::gui::theme::Theme;

/// Rows are rebuilt when the tree, the filter or the expanded set changed, and at most this
/// often for rates and previews alone.
const ROWS_EVERY_MS: i64 = 500;

#[derive(Default)]
pub struct TopicRows {
    rows: Vec<crate::mqtt::TreeRow>,
    built_ms: i64,
    built_version: u64,
    built_filter: String,
    built_expanded: usize,
}

pub fn topics_ui(
    ed: &mut Editor,
    ui: &mut Ui,
    engine: &crate::engine::EngineHandle,
    theme: &Theme,
) {
    let Some(browser) = engine.topic_browser() else {
        ui.label("The engine is stopped.");
        return;
    };
    ed.panels.browser = Some(browser.clone());
    let tree = browser.tree();
    let state = match browser.state() {
        crate::mqtt::ConnState::Connected => "connected".to_owned(),
        crate::mqtt::ConnState::Connecting => "connecting…".to_owned(),
        crate::mqtt::ConnState::Disconnected { reason, .. } => format!("DISCONNECTED: {reason}"),
    };
    ui.label(
        RichText::new(format!("{} topics · broker {state}", tree.len())).color(theme.text_dim),
    );
    ui.horizontal(|ui| {
        let l = ui.label("Search");
        ui.add(
            egui::TextEdit::singleline(&mut ed.panels.search)
                .hint_text("part of a topic")
                .desired_width(f32::INFINITY),
        )
        .labelled_by(l.id);
    });
    ui.separator();

    let now = crate::engine::now_ms();
    let p = &mut ed.panels;
    let stale = p.rows.built_version != tree.version()
        || p.rows.built_filter != p.search
        || p.rows.built_expanded != p.expanded.len()
        || now - p.rows.built_ms > ROWS_EVERY_MS;
    if stale {
        p.rows.rows = tree.rows(&p.expanded, &p.search, now);
        p.rows.built_version = tree.version();
        p.rows.built_filter.clone_from(&p.search);
        p.rows.built_expanded = p.expanded.len();
        p.rows.built_ms = now;
        ui.ctx()
            .request_repaint_after(std::time::Duration::from_millis(ROWS_EVERY_MS as u64));
    }

    let row_h = 20.0;
    let detail_h = if p.selected_topic.is_some() {
        220.0
    } else {
        0.0
    };
    let list_h = (ui.available_height() - detail_h).max(120.0);
    let mut toggle: Option<String> = None;
    let mut select: Option<String> = None;
    egui::ScrollArea::vertical()
        .id_salt("topic_rows")
        .max_height(list_h)
        .auto_shrink([false, false])
        .show_rows(ui, row_h, p.rows.rows.len(), |ui, range| {
            for row in &p.rows.rows[range] {
                ui.horizontal(|ui| {
                    ui.add_space(row.depth as f32 * 12.0);
                    if row.has_children {
                        let arrow = if row.expanded { "▾" } else { "▸" };
                        if ui
                            .small_button(arrow)
                            .on_hover_text(format!("{} topics below", row.topics_below))
                            .clicked()
                        {
                            toggle = Some(row.path.to_string());
                        }
                    } else {
                        ui.add_space(18.0);
                    }
                    let name = if row.name.is_empty() {
                        "∅"
                    } else {
                        &row.name
                    };
                    if let Some(m) = &row.message {
                        let item = DragItem::Topic {
                            topic: row.path.to_string(),
                            pointer: None,
                        };
                        let selected = p.selected_topic.as_deref() == Some(&*row.path);
                        let b = egui::Button::selectable(selected, name);
                        let r = crate::gui::dnd::drag_source_ui(ui, b, &row.path, item);
                        if r.clicked() {
                            select = Some(row.path.to_string());
                        }
                        let mut meta = format!("{:.1}/s", m.rate_per_s);
                        if m.retained {
                            meta.push_str(" · R");
                        }
                        ui.label(RichText::new(meta).small().color(theme.text_dim));
                        // Cut to the panel: a long payload never widens it.
                        ui.add(
                            egui::Label::new(RichText::new(&m.preview).monospace().small())
                                .truncate(),
                        );
                    } else {
                        ui.label(name);
                    }
                });
            }
        });
    if let Some(path) = toggle
        && !p.expanded.remove(&path)
    {
        p.expanded.insert(path);
    }
    if let Some(topic) = select {
        p.selected_topic = Some(topic);
    }
    if let Some(topic) = p.selected_topic.clone() {
        ui.separator();
        details_ui(ed, ui, &topic, theme);
    }
}

/// The selected topic: its payload, and for JSON its fields, each draggable; buttons for the
/// keyboard (place on the screen, bind the selected widget).
fn details_ui(ed: &mut Editor, ui: &mut Ui, topic: &str, theme: &Theme) {
    let Some(info) = ed.panels.browser.as_ref().and_then(|b| b.tree().get(topic)) else {
        return;
    };
    ui.label(RichText::new(topic).strong());
    ui.label(
        RichText::new(format!(
            "{} messages · {}{} bytes",
            info.count,
            if info.retained { "retained · " } else { "" },
            info.payload_len
        ))
        .color(theme.text_dim),
    );
    let leaves = guess::json_leaves(&info.payload);
    let mut chosen: Option<(Option<String>, bool)> = None;
    egui::ScrollArea::vertical()
        .id_salt("topic_detail")
        .max_height(150.0)
        .show(ui, |ui| {
            if leaves.is_empty() {
                ui.add(egui::Label::new(RichText::new(&info.preview).monospace()).wrap());
                ui.horizontal(|ui| {
                    if ui.button("Place on screen").clicked() {
                        chosen = Some((None, false));
                    }
                    if ui.button("Bind selected").clicked() {
                        chosen = Some((None, true));
                    }
                });
            } else {
                ui.label(RichText::new("Fields (drag one onto the screen)").color(theme.text_dim));
                for leaf in &leaves {
                    ui.horizontal(|ui| {
                        let item = DragItem::Topic {
                            topic: topic.to_owned(),
                            pointer: Some(leaf.pointer.clone()),
                        };
                        let b = egui::Button::new(&leaf.pointer).small();
                        let r = crate::gui::dnd::drag_source_ui(ui, b, &leaf.pointer, item);
                        if r.clicked() {
                            chosen = Some((Some(leaf.pointer.clone()), false));
                        }
                        ui.add(
                            egui::Label::new(RichText::new(&leaf.preview).monospace().small())
                                .truncate(),
                        );
                    });
                }
            }
        });
    if let Some((pointer, bind)) = chosen {
        let onto = if bind {
            ed.selection.iter().next().cloned()
        } else {
            None
        };
        ed.drop_topic(topic, pointer.as_deref(), onto.as_deref(), [40.0, 40.0]);
    }
}
