//! The screen editor: a working copy of the project, edited through undoable
//! [`Edit`](crate::project::edit::Edit)s: canvas (grid, snap, select, move, resize), palette,
//! property inspector, topic browser, screen management, saving with a dirty marker, autosave
//! and recovery.

mod alarms;
mod canvas;
mod inspector;
mod panels;
mod topics;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use egui::{RichText, Ui};

use crate::project::edit::{self, Edit, History};
use crate::project::{Project, WidgetConfig, WidgetKind};

use super::theme::Theme;

pub use canvas::DragItem;

/// Autosave at most this often while there are unsaved edits.
const AUTOSAVE_EVERY: Duration = Duration::from_secs(20);

/// What the app must do after an editor frame.
#[derive(Debug, Default)]
pub struct EditorOutcome {
    /// The project was saved: run this one from now on.
    pub saved: Option<Project>,
}

/// The editor's state for one editing session.
pub struct Editor {
    /// The working copy.
    pub doc: Project,
    /// The project as last loaded or saved (what is on disk).
    saved: Project,
    history: History,
    /// Revision of `history` when `dirty` was last computed.
    dirty_at: u64,
    dirty: bool,
    /// Index of the screen being edited.
    pub screen: usize,
    pub selection: BTreeSet<String>,
    clipboard: Vec<WidgetConfig>,
    /// Grid in design points; 0 = off.
    pub grid: f32,
    pub snap: bool,
    /// The palette tool: the next click on the canvas places this kind.
    pub placing: Option<WidgetKind>,
    canvas: canvas::CanvasState,
    inspector: inspector::InspectorState,
    panels: panels::PanelState,
    /// The last message for the engineer: (text, is an error).
    status: Option<(String, bool)>,
    last_autosave: Instant,
    autosaved_revision: u64,
}

impl Editor {
    pub fn new(project: Project, screen: usize) -> Self {
        let screen = screen.min(project.screens.len().saturating_sub(1));
        Self {
            saved: project.clone(),
            doc: project,
            history: History::default(),
            dirty_at: 0,
            dirty: false,
            screen,
            selection: BTreeSet::new(),
            clipboard: Vec::new(),
            grid: 10.0,
            snap: true,
            placing: None,
            canvas: canvas::CanvasState::default(),
            inspector: inspector::InspectorState::default(),
            panels: panels::PanelState::default(),
            status: None,
            last_autosave: Instant::now(),
            autosaved_revision: 0,
        }
    }

    /// Unsaved edits exist (the working copy differs from what is on disk).
    pub fn is_dirty(&mut self) -> bool {
        if self.dirty_at != self.history.revision() {
            self.dirty_at = self.history.revision();
            self.dirty = self.doc != self.saved;
        }
        self.dirty
    }

    /// Show the topic browser in the left panel, filtered by `filter` (benchmarks, tests).
    pub fn show_topics(&mut self, filter: &str) {
        self.panels.show_topics(filter);
    }

    pub fn history(&self) -> &History {
        &self.history
    }

    /// Apply an edit as one undoable step; errors go to the status line.
    pub fn apply(&mut self, label: &str, edit: Edit) {
        self.apply_merging(label, edit, None);
    }

    fn apply_merging(&mut self, label: &str, edit: Edit, key: Option<String>) {
        if let Err(e) = self.history.apply_merging(&mut self.doc, label, edit, key) {
            self.status = Some((format!("{label}: {e}"), true));
        } else {
            self.status = None;
        }
    }

    pub fn undo(&mut self) {
        match self.history.undo(&mut self.doc) {
            Ok(true) => self.after_structure_change(),
            Ok(false) => {}
            Err(e) => self.status = Some((format!("undo: {e}"), true)),
        }
    }

    pub fn redo(&mut self) {
        match self.history.redo(&mut self.doc) {
            Ok(true) => self.after_structure_change(),
            Ok(false) => {}
            Err(e) => self.status = Some((format!("redo: {e}"), true)),
        }
    }

    /// Keep the screen index and the selection valid after undo/redo or screen edits.
    fn after_structure_change(&mut self) {
        if self.screen >= self.doc.screens.len() {
            self.screen = self.doc.screens.len().saturating_sub(1);
        }
        let ids: BTreeSet<String> = self
            .doc
            .screens
            .get(self.screen)
            .map(|s| s.file.widgets.iter().map(|w| w.id.clone()).collect())
            .unwrap_or_default();
        self.selection.retain(|id| ids.contains(id));
        self.inspector.reset();
    }

    pub fn select_all(&mut self) {
        if let Some(s) = self.doc.screens.get(self.screen) {
            self.selection = s.file.widgets.iter().map(|w| w.id.clone()).collect();
        }
    }

    /// Place a new widget of `kind` with its top-left corner at `pos` (design points).
    pub fn place(&mut self, kind: WidgetKind, pos: [f32; 2]) -> Option<String> {
        let screen = self.doc.screens.get(self.screen)?;
        let id = edit::unique_widget_id(&screen.file, kind.key(), &Default::default());
        let mut w = WidgetConfig::new(&id, kind, self.snapped(pos[0]), self.snapped(pos[1]));
        match kind {
            WidgetKind::Text => w.label = "Text".to_owned(),
            WidgetKind::Group => w.label = "Group".to_owned(),
            WidgetKind::Button => w.label = "Button".to_owned(),
            _ => {}
        }
        let index = screen.file.widgets.len();
        self.apply(
            &format!("Add {}", kind.title()),
            Edit::InsertWidget {
                screen: self.screen,
                index,
                widget: w,
            },
        );
        self.selection = BTreeSet::from([id.clone()]);
        self.inspector.reset();
        Some(id)
    }

    pub fn snapped(&self, v: f32) -> f32 {
        if self.snap {
            edit::snap(v, self.grid)
        } else {
            v.round()
        }
    }

    pub fn delete_selection(&mut self) {
        if let Some(e) = edit::delete_widgets(&self.doc, self.screen, &self.selection) {
            let n = self.selection.len();
            self.apply(&format!("Delete {n} widget(s)"), e);
            self.selection.clear();
            self.inspector.reset();
        }
    }

    pub fn copy_selection(&mut self) {
        if let Some(s) = self.doc.screens.get(self.screen) {
            self.clipboard = s
                .file
                .widgets
                .iter()
                .filter(|w| self.selection.contains(&w.id))
                .cloned()
                .collect();
        }
    }

    pub fn paste(&mut self) {
        let clip = self.clipboard.clone();
        let offset = if self.grid > 0.0 {
            self.grid * 2.0
        } else {
            20.0
        };
        if let Some((e, ids)) = edit::paste_widgets(&self.doc, self.screen, &clip, [offset, offset])
        {
            self.apply(&format!("Paste {} widget(s)", ids.len()), e);
            // A second paste lands further along, not on top of the first.
            for w in &mut self.clipboard {
                w.x += offset;
                w.y += offset;
            }
            self.selection = ids;
            self.inspector.reset();
        }
    }

    pub fn duplicate(&mut self) {
        self.copy_selection();
        self.paste();
    }

    /// Move the selection by (`dx`, `dy`) design points (one undo step per run of nudges).
    pub fn nudge(&mut self, dx: f32, dy: f32) {
        if let Some(e) = edit::map_widgets(&self.doc, self.screen, &self.selection, |w| {
            w.x += dx;
            w.y += dy;
        }) {
            let key = format!("nudge:{:?}", self.selection);
            self.apply_merging("Move", e, Some(key));
        }
    }

    /// Write the changed files; the caller restarts the engine with the saved project.
    pub fn save(&mut self) -> Option<Project> {
        let problems = crate::project::validate(&self.doc);
        if !problems.is_empty() {
            let first = problems
                .iter()
                .take(3)
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ");
            self.status = Some((
                format!(
                    "Not saved: {} problem(s) to fix first: {first}",
                    problems.len()
                ),
                true,
            ));
            return None;
        }
        match edit::save_changes(&self.doc, &self.saved) {
            Ok(saved) => {
                self.saved = self.doc.clone();
                self.history.seal();
                self.dirty_at = u64::MAX;
                let _ = edit::remove_recovery(&self.doc.dir);
                self.autosaved_revision = self.history.revision();
                let what = if saved.written.is_empty() && saved.removed.is_empty() {
                    "nothing changed".to_owned()
                } else {
                    let mut parts = saved.written.clone();
                    parts.extend(saved.removed.iter().map(|r| format!("removed {r}")));
                    parts.join(", ")
                };
                self.status = Some((format!("Saved: {what}"), false));
                Some(self.doc.clone())
            }
            Err(e) => {
                self.status = Some((format!("Not saved: {e}"), true));
                None
            }
        }
    }

    /// Throw the edits away (back to what is on disk).
    pub fn discard(&mut self) {
        self.doc = self.saved.clone();
        self.history = History::default();
        self.dirty_at = u64::MAX;
        let _ = edit::remove_recovery(&self.doc.dir);
        self.after_structure_change();
    }

    /// Take the recovered working copy (from an autosave after a crash).
    pub fn restore(&mut self, recovered: Project) {
        self.doc = recovered;
        self.history = History::default();
        self.dirty_at = u64::MAX;
        self.after_structure_change();
        self.status = Some((
            "Recovered the autosaved edits; save to keep them".to_owned(),
            false,
        ));
    }

    /// Write the recovery file now and then while there are unsaved edits (off the UI thread).
    fn autosave(&mut self) {
        if self.history.revision() == self.autosaved_revision
            || self.last_autosave.elapsed() < AUTOSAVE_EVERY
        {
            return;
        }
        self.last_autosave = Instant::now();
        self.autosaved_revision = self.history.revision();
        if !self.is_dirty() {
            let _ = edit::remove_recovery(&self.doc.dir);
            return;
        }
        match edit::recovery_bytes(&self.doc) {
            Ok(bytes) => {
                let dir = self.doc.dir.clone();
                let spawned = std::thread::Builder::new()
                    .name("pv-autosave".to_owned())
                    .spawn(move || {
                        if let Err(e) = edit::write_recovery(&dir, &bytes) {
                            tracing::warn!("autosave failed: {e}");
                        }
                    });
                if let Err(e) = spawned {
                    tracing::warn!("autosave not started: {e}");
                }
            }
            Err(e) => tracing::warn!("autosave failed: {e}"),
        }
    }

    /// The keyboard shortcuts of edit mode (not while a text field has the focus).
    fn keyboard(&mut self, ui: &Ui) -> bool {
        let typing = ui.ctx().egui_wants_keyboard_input();
        let mut save = false;
        let (mut undo, mut redo, mut copy, mut cut, mut paste) =
            (false, false, false, false, false);
        let (mut dup, mut all, mut del, mut esc) = (false, false, false, false);
        let mut arrows = (0.0f32, 0.0f32);
        ui.input(|i| {
            let cmd = i.modifiers.command;
            save = cmd && i.key_pressed(egui::Key::S);
            if typing {
                return;
            }
            undo = cmd && !i.modifiers.shift && i.key_pressed(egui::Key::Z);
            redo = cmd
                && (i.key_pressed(egui::Key::Y)
                    || (i.modifiers.shift && i.key_pressed(egui::Key::Z)));
            for e in &i.events {
                match e {
                    egui::Event::Copy => copy = true,
                    egui::Event::Cut => cut = true,
                    egui::Event::Paste(_) => paste = true,
                    _ => {}
                }
            }
            copy |= cmd && i.key_pressed(egui::Key::C);
            cut |= cmd && i.key_pressed(egui::Key::X);
            paste |= cmd && i.key_pressed(egui::Key::V);
            dup = cmd && i.key_pressed(egui::Key::D);
            all = cmd && i.key_pressed(egui::Key::A);
            del = i.key_pressed(egui::Key::Delete) || i.key_pressed(egui::Key::Backspace);
            esc = i.key_pressed(egui::Key::Escape);
            let step = if i.modifiers.shift { 10.0 } else { 1.0 };
            for (key, d) in [
                (egui::Key::ArrowLeft, (-step, 0.0)),
                (egui::Key::ArrowRight, (step, 0.0)),
                (egui::Key::ArrowUp, (0.0, -step)),
                (egui::Key::ArrowDown, (0.0, step)),
            ] {
                if i.key_pressed(key) {
                    arrows.0 += d.0;
                    arrows.1 += d.1;
                }
            }
        });
        if undo {
            self.undo();
        }
        if redo {
            self.redo();
        }
        if copy || cut {
            self.copy_selection();
        }
        if cut {
            self.delete_selection();
        }
        if paste {
            self.paste();
        }
        if dup {
            self.duplicate();
        }
        if all {
            self.select_all();
        }
        if del {
            self.delete_selection();
        }
        if esc {
            self.placing = None;
            self.selection.clear();
            self.inspector.reset();
        }
        if arrows != (0.0, 0.0) && !self.selection.is_empty() {
            self.nudge(arrows.0, arrows.1);
        }
        save
    }

    /// The whole edit mode: toolbar, palette and topic browser (left), canvas (centre),
    /// inspector (right).
    pub fn ui(
        &mut self,
        ui: &mut Ui,
        engine: &crate::engine::EngineHandle,
        theme: &Theme,
        images: &super::images::ImageCache,
        minis: &mut super::screen::MiniTrends,
    ) -> EditorOutcome {
        let mut out = EditorOutcome::default();
        if self.keyboard(ui) {
            out.saved = self.save();
        }
        egui::Panel::top("editor_toolbar")
            .exact_size(34.0)
            .show(ui, |ui| {
                if self.toolbar_ui(ui) {
                    out.saved = self.save();
                }
            });
        self.status_ui(ui, theme);
        egui::Panel::left("editor_left")
            .resizable(true)
            .default_size(300.0)
            .show(ui, |ui| panels::left_ui(self, ui, engine, theme));
        egui::Panel::right("editor_inspector")
            .resizable(true)
            .default_size(300.0)
            .show(ui, |ui| inspector::inspector_ui(self, ui, theme));
        egui::CentralPanel::default_margins().show(ui, |ui| {
            canvas::canvas_ui(self, ui, engine, theme, images, minis);
        });
        self.autosave();
        out
    }

    fn toolbar_ui(&mut self, ui: &mut Ui) -> bool {
        let mut save = false;
        ui.horizontal_centered(|ui| {
            let dirty = self.is_dirty();
            if ui
                .add_enabled(dirty, egui::Button::new("Save"))
                .on_hover_text("Ctrl+S")
                .clicked()
            {
                save = true;
            }
            let undo_text = self
                .history
                .undo_label()
                .map_or_else(|| "Undo".to_owned(), |l| format!("Undo {l}"));
            if ui
                .add_enabled(self.history.can_undo(), egui::Button::new("Undo"))
                .on_hover_text(format!("{undo_text} (Ctrl+Z)"))
                .clicked()
            {
                self.undo();
            }
            if ui
                .add_enabled(self.history.can_redo(), egui::Button::new("Redo"))
                .on_hover_text("Ctrl+Y")
                .clicked()
            {
                self.redo();
            }
            ui.separator();
            let some = !self.selection.is_empty();
            let two = self.selection.len() >= 2;
            let three = self.selection.len() >= 3;
            use edit::AlignTo;
            for (label, to) in [
                ("Align left", AlignTo::Left),
                ("Align centre", AlignTo::HCenter),
                ("Align right", AlignTo::Right),
                ("Align top", AlignTo::Top),
                ("Align middle", AlignTo::VCenter),
                ("Align bottom", AlignTo::Bottom),
            ] {
                let short = match to {
                    AlignTo::Left => "⇤",
                    AlignTo::HCenter => "↔",
                    AlignTo::Right => "⇥",
                    AlignTo::Top => "⊤",
                    AlignTo::VCenter => "↕",
                    AlignTo::Bottom => "⊥",
                };
                let b = ui
                    .add_enabled(two, egui::Button::new(short))
                    .on_hover_text(label);
                if b.clicked()
                    && let Some(e) = edit::align(&self.doc, self.screen, &self.selection, to)
                {
                    self.apply(label, e);
                }
            }
            for (label, horizontal) in [
                ("Distribute horizontally", true),
                ("Distribute vertically", false),
            ] {
                let short = if horizontal { "⋯" } else { "⋮" };
                if ui
                    .add_enabled(three, egui::Button::new(short))
                    .on_hover_text(label)
                    .clicked()
                    && let Some(e) =
                        edit::distribute(&self.doc, self.screen, &self.selection, horizontal)
                {
                    self.apply(label, e);
                }
            }
            ui.separator();
            for (label, front) in [("Bring to front", true), ("Send to back", false)] {
                if ui.add_enabled(some, egui::Button::new(label)).clicked()
                    && let Some(e) = edit::restack(&self.doc, self.screen, &self.selection, front)
                {
                    self.apply(label, e);
                }
            }
            if ui
                .add_enabled(some, egui::Button::new("Duplicate"))
                .on_hover_text("Ctrl+D")
                .clicked()
            {
                self.duplicate();
            }
            if ui
                .add_enabled(some, egui::Button::new("Delete"))
                .on_hover_text("Del")
                .clicked()
            {
                self.delete_selection();
            }
            ui.separator();
            ui.checkbox(&mut self.snap, "Snap");
            ui.add(
                egui::DragValue::new(&mut self.grid)
                    .range(0.0..=100.0)
                    .speed(1.0)
                    .prefix("grid "),
            );
        });
        save
    }

    /// The last message (a refused save lists its problems here), under the toolbar.
    fn status_ui(&mut self, ui: &mut Ui, theme: &Theme) {
        let Some((text, error)) = &self.status else {
            return;
        };
        let (text, error) = (text.clone(), *error);
        egui::Panel::top("editor_status").show(ui, |ui| {
            ui.horizontal_wrapped(|ui| {
                let t = RichText::new(&text);
                if error {
                    ui.label(
                        t.color(theme.badge_text)
                            .background_color(theme.badge_bg)
                            .strong(),
                    );
                } else {
                    ui.label(t.color(theme.text_dim));
                }
                if ui.small_button("Dismiss").clicked() {
                    self.status = None;
                }
            });
        });
    }
}
