//! The editor's left side: the palette (drag a widget kind onto the canvas, or click it and
//! then the canvas), the screen list (add, duplicate, delete, reorder) and the topic browser.

use std::collections::HashSet;

use egui::{RichText, Ui};

use crate::project::edit::{self, Edit};
use crate::project::{Decoder, Screen, ScreenFile, WidgetKind};

use super::{DragItem, Editor};
use crate::gui::theme::Theme;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Tab {
    #[default]
    Palette,
    Screens,
    Topics,
    Alarms,
}

#[derive(Default)]
pub struct PanelState {
    tab: Tab,
    pub search: String,
    pub expanded: HashSet<String>,
    pub browser: Option<crate::mqtt::TopicBrowser>,
    /// The topic row last clicked (its details show below the tree).
    pub selected_topic: Option<String>,
    pub rows: super::topics::TopicRows,
}

impl PanelState {
    pub fn show_topics(&mut self, filter: &str) {
        self.tab = Tab::Topics;
        filter.clone_into(&mut self.search);
    }

    /// The last payload seen on `topic` (to guess a new tag's decoder).
    pub fn payload_of(&self, topic: &str) -> Option<Vec<u8>> {
        self.browser
            .as_ref()
            .and_then(|b| b.tree().get(topic))
            .map(|i| i.payload)
    }
}

/// The JSON pointer a decoder reads, if it reads JSON.
pub fn pointer_of(d: &Decoder) -> Option<String> {
    match d {
        Decoder::Json { pointer, .. } => Some(pointer.clone()),
        _ => None,
    }
}

pub fn left_ui(ed: &mut Editor, ui: &mut Ui, engine: &crate::engine::EngineHandle, theme: &Theme) {
    ui.add_space(6.0);
    ui.horizontal(|ui| {
        for (tab, label) in [
            (Tab::Palette, "Palette"),
            (Tab::Screens, "Screens"),
            (Tab::Topics, "Topics"),
            (Tab::Alarms, "Alarms"),
        ] {
            if ui
                .selectable_label(ed.panels.tab == tab, RichText::new(label).strong())
                .clicked()
            {
                ed.panels.tab = tab;
            }
        }
    });
    ui.separator();
    match ed.panels.tab {
        Tab::Palette => palette_ui(ed, ui, theme),
        Tab::Screens => screens_ui(ed, ui, theme),
        Tab::Topics => super::topics::topics_ui(ed, ui, engine, theme),
        Tab::Alarms => super::alarms::alarms_ui(ed, ui, theme),
    }
}

fn palette_ui(ed: &mut Editor, ui: &mut Ui, theme: &Theme) {
    ui.label(
        RichText::new("Drag onto the screen, or click and then click the screen.")
            .color(theme.text_dim),
    );
    ui.add_space(4.0);
    egui::Grid::new("palette")
        .num_columns(2)
        .spacing([6.0, 6.0])
        .show(ui, |ui| {
            for (n, kind) in WidgetKind::ALL.into_iter().enumerate() {
                let picked = ed.placing == Some(kind);
                let b = egui::Button::selectable(picked, kind.title())
                    .min_size(egui::vec2(120.0, 26.0));
                let r =
                    crate::gui::dnd::drag_source_ui(ui, b, kind.title(), DragItem::Widget(kind));
                if r.clicked() {
                    ed.placing = if picked { None } else { Some(kind) };
                }
                if n % 2 == 1 {
                    ui.end_row();
                }
            }
        });
}

fn screens_ui(ed: &mut Editor, ui: &mut Ui, theme: &Theme) {
    let n = ed.doc.screens.len();
    let mut action: Option<(String, Edit, Option<usize>)> = None;
    for i in 0..n {
        let s = &ed.doc.screens[i];
        let title = if s.file.template {
            format!("{}  (template)", s.file.title)
        } else {
            s.file.title.clone()
        };
        ui.horizontal(|ui| {
            if ui.selectable_label(ed.screen == i, title).clicked() {
                ed.screen = i;
                ed.selection.clear();
                ed.inspector.reset();
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if ui.small_button("↓").on_hover_text("Move down").clicked() && i + 1 < n {
                    action = Some((
                        "Move screen".into(),
                        Edit::MoveScreen { from: i, to: i + 1 },
                        Some(i + 1),
                    ));
                }
                if ui.small_button("↑").on_hover_text("Move up").clicked() && i > 0 {
                    action = Some((
                        "Move screen".into(),
                        Edit::MoveScreen { from: i, to: i - 1 },
                        Some(i - 1),
                    ));
                }
            });
        });
    }
    ui.add_space(6.0);
    ui.horizontal_wrapped(|ui| {
        if ui.button("Add screen").clicked() {
            let id = edit::unique_screen_id(&ed.doc, "screen");
            let screen = Screen {
                id: id.clone(),
                file: ScreenFile {
                    format: 1,
                    title: format!("New screen {}", n + 1),
                    size: [1280.0, 760.0],
                    params: Default::default(),
                    template: false,
                    widgets: Vec::new(),
                },
            };
            action = Some((
                "Add screen".into(),
                Edit::InsertScreen { index: n, screen },
                Some(n),
            ));
        }
        if let Some(cur) = ed.doc.screens.get(ed.screen) {
            if ui.button("Duplicate screen").clicked() {
                let mut copy = cur.clone();
                copy.id = edit::unique_screen_id(&ed.doc, &cur.id);
                copy.file.title = format!("{} copy", cur.file.title);
                action = Some((
                    "Duplicate screen".into(),
                    Edit::InsertScreen {
                        index: ed.screen + 1,
                        screen: copy,
                    },
                    Some(ed.screen + 1),
                ));
            }
            if ui.button("Delete screen").clicked() {
                action = Some((
                    format!("Delete screen {}", cur.id),
                    Edit::RemoveScreen { index: ed.screen },
                    Some(ed.screen.saturating_sub(1)),
                ));
            }
        }
    });
    ui.label(
        RichText::new("Rename a screen and make it a template in the inspector (click an empty part of the screen).")
            .color(theme.text_dim),
    );
    if let Some((label, e, select)) = action {
        ed.apply(&label, e);
        if let Some(i) = select {
            ed.screen = i.min(ed.doc.screens.len().saturating_sub(1));
        }
        ed.after_structure_change();
    }
}
