//! The app's side of editing: entering and leaving edit mode, running the project a save
//! produced (a new engine when tags changed), the prompts for unsaved edits on close, for
//! autosaved edits after a crash and for files changed on disk; and what screen buttons do.

use std::sync::Arc;

use egui::{RichText, Ui};

use super::{PlantViewApp, View, badge_ui};
use crate::engine::{Command, EngineHandle};
use crate::gui::editor::Editor;
use crate::gui::screen::ScreenAction;
use crate::project::Project;

impl PlantViewApp {
    pub fn is_editing(&self) -> bool {
        self.editing
    }

    /// Enter or leave edit mode. Leaving keeps the edits and their undo history (unsaved edits
    /// show in the top bar).
    pub fn set_editing(&mut self, on: bool) {
        if on && !self.login.allows(crate::security::Action::EditProject) {
            self.notice = Some(self.login.why_not(crate::security::Action::EditProject));
            return;
        }
        if on && self.editor.is_none() {
            let screen = self.current_screen();
            self.editor = Some(Editor::new((*self.engine.project).clone(), screen));
        }
        if !on && let Some(ed) = &mut self.editor {
            // Show the screen that was being edited.
            if ed.screen < self.engine.project.screens.len() {
                self.view = View::Screen(ed.screen);
            }
            // The editor (and its undo history) stays for the session, like a designer's.
        }
        self.editing = on;
    }

    /// Who is at the keyboard (tests log in through this).
    pub fn login(&mut self) -> &mut crate::gui::login::Login {
        &mut self.login
    }

    pub fn editor(&mut self) -> Option<&mut Editor> {
        self.editor.as_mut()
    }

    pub(super) fn editor_ui(&mut self, ui: &mut Ui) {
        let Some(ed) = &mut self.editor else {
            self.editing = false;
            return;
        };
        let out = ed.ui(ui, &self.engine, &self.theme, &self.images, &mut self.minis);
        if let Some(saved) = out.saved {
            self.run_saved(saved);
        }
    }

    /// Run the project as saved: same tags and connections → only the screens change; else
    /// a new engine on the same broker, history and journal.
    fn run_saved(&mut self, saved: Project) {
        self.watch.accept();
        if saved.file == self.engine.project.file {
            self.engine.project = Arc::new(saved);
            self.minis = crate::gui::screen::MiniTrends::new(
                self.engine.project.clone(),
                self.engine.tags.clone(),
                super::history_path(&self.engine),
            );
            return;
        }
        self.restart_engine(saved);
    }

    /// Stop the engine and start one on `project` with the same options.
    pub fn restart_engine(&mut self, project: Project) {
        let options = self.engine.options().clone();
        self.engine.stop_now();
        match crate::engine::start(project, &options) {
            Ok(engine) => {
                self.replace_engine(engine);
                self.notice = Some("Project applied".to_owned());
            }
            Err(e) => {
                let msg = format!("ENGINE NOT RESTARTED: {e}");
                tracing::error!("{msg}");
                self.notice = Some(msg);
            }
        }
    }

    fn replace_engine(&mut self, engine: EngineHandle) {
        self.engine = engine;
        self.events = self.engine.events();
        self.minis = crate::gui::screen::MiniTrends::new(
            self.engine.project.clone(),
            self.engine.tags.clone(),
            super::history_path(&self.engine),
        );
        self.trends = None;
        self.trend_windows.clear();
        self.setpoints.clear();
        // The repaint thread followed the old tag store; start one on the new store.
        self.wake_started = false;
        if let View::Screen(i) = self.view
            && i >= self.engine.project.screens.len()
        {
            self.view = View::Screen(0);
        }
    }

    /// A click on a running screen.
    pub(super) fn on_screen_action(&mut self, action: ScreenAction) {
        match action {
            ScreenAction::Trend(tag) => self.open_trend_window(&tag),
            ScreenAction::Setpoint(tag) => self.open_setpoint(&tag),
            ScreenAction::Navigate { screen, params } => {
                match self
                    .engine
                    .project
                    .screens
                    .iter()
                    .position(|s| s.id == screen)
                {
                    Some(i) => {
                        self.view = View::Screen(i);
                        self.screen_params = params;
                    }
                    None => self.notice = Some(format!("No screen `{screen}`")),
                }
            }
            ScreenAction::Write { tag, value } => self.write(tag, value),
            ScreenAction::Toggle { tag } => {
                let now = self
                    .engine
                    .tags
                    .get_by_name(&tag)
                    .filter(|s| s.quality.is_good())
                    .and_then(|s| s.value.as_ref().and_then(crate::engine::Value::as_bool));
                match now {
                    Some(b) => self.write(tag, if b { 0.0 } else { 1.0 }),
                    None => {
                        self.notice = Some(format!("{tag}: not toggled, its value is not known"));
                    }
                }
            }
        }
    }

    /// A button's write goes through the audited setpoint path; the result shows in the top
    /// bar.
    fn write(&mut self, tag: String, value: f64) {
        self.next_command_id += 1;
        let command = Command::WriteSetpoint {
            id: self.next_command_id,
            tag: tag.clone(),
            value,
            actor: self.login.actor(),
        };
        self.notice = Some(match self.engine.send(command) {
            Ok(()) => format!("{tag} ← {value}: sent"),
            Err(e) => format!("{tag} ← {value}: {e}"),
        });
    }

    /// Banners about the project: autosaved edits to restore, files changed on disk, and the
    /// question before closing with unsaved edits.
    pub(super) fn project_banners_ui(&mut self, ui: &mut Ui) {
        self.close_request(ui);
        if let Some((recovered, at_ms)) = &self.recovery {
            let mut choice = None;
            egui::Panel::top("recovery_banner").show(ui, |ui| {
                ui.horizontal(|ui| {
                    badge_ui(
                        ui,
                        &self.theme,
                        format!(
                            "Unsaved screen edits from {} were found (PlantView did not close normally)",
                            crate::gui::format::local_datetime(*at_ms)
                        ),
                    );
                    if ui.button("Restore edits").clicked() {
                        choice = Some(true);
                    }
                    if ui.button("Discard them").clicked() {
                        choice = Some(false);
                    }
                });
            });
            if choice.is_some() && !self.login.allows(crate::security::Action::EditProject) {
                self.notice = Some(format!(
                    "Restoring or discarding edits needs an engineer: {}",
                    self.login.why_not(crate::security::Action::EditProject)
                ));
                choice = None;
            }
            match choice {
                Some(true) => {
                    let recovered = recovered.clone();
                    let screen = self.current_screen();
                    let mut ed = Editor::new((*self.engine.project).clone(), screen);
                    ed.restore(recovered);
                    self.editor = Some(ed);
                    self.editing = true;
                    self.recovery = None;
                }
                Some(false) => {
                    let _ = crate::project::edit::remove_recovery(&self.engine.project.dir);
                    self.recovery = None;
                }
                None => {}
            }
        }
        if self.watch.changed() {
            let dirty = self.editor.as_mut().is_some_and(Editor::is_dirty);
            let mut choice = None;
            egui::Panel::top("changed_on_disk").show(ui, |ui| {
                ui.horizontal(|ui| {
                    let text = if dirty {
                        "Project files changed on disk. Reloading drops your unsaved edits."
                    } else {
                        "Project files changed on disk."
                    };
                    badge_ui(ui, &self.theme, text.to_owned());
                    if ui.button("Reload from disk").clicked() {
                        choice = Some(true);
                    }
                    if ui.button("Keep what is open").clicked() {
                        choice = Some(false);
                    }
                });
            });
            match choice {
                Some(true) => self.reload_from_disk(),
                Some(false) => self.watch.accept(),
                None => {}
            }
        }
    }

    /// Load the project again from its folder and run it; a broken project is reported and the
    /// running one stays.
    pub fn reload_from_disk(&mut self) {
        let dir = self.engine.project.dir.clone();
        match crate::project::load(&dir) {
            Ok(project) => {
                self.watch.accept();
                self.editor = None;
                self.editing = false;
                self.restart_engine(project);
                self.notice = Some("Reloaded from disk".to_owned());
            }
            Err(e) => {
                self.watch.accept();
                self.notice = Some(format!("Not reloaded: {e}"));
            }
        }
    }

    /// Closing the window with unsaved edits asks first.
    fn close_request(&mut self, ui: &mut Ui) {
        let ctx = ui.ctx().clone();
        let dirty = self.editor.as_mut().is_some_and(Editor::is_dirty);
        if ctx.input(|i| i.viewport().close_requested()) && dirty && !self.allow_close {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            self.close_prompt = true;
        }
        if !self.close_prompt {
            return;
        }
        let mut choice = None;
        egui::Modal::new(egui::Id::unique("unsaved_close")).show(&ctx, |ui| {
            ui.label(RichText::new("Save the screen edits before closing?").strong());
            ui.label("Unsaved edits are lost if you close without saving.");
            ui.horizontal(|ui| {
                if ui.button("Save and close").clicked() {
                    choice = Some(0);
                }
                if ui.button("Close without saving").clicked() {
                    choice = Some(1);
                }
                if ui.button("Cancel").clicked() {
                    choice = Some(2);
                }
            });
        });
        match choice {
            Some(0) => {
                let saved = self.editor.as_mut().and_then(Editor::save);
                if saved.is_some() {
                    self.allow_close = true;
                    self.close_prompt = false;
                    ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                }
                // Not saved (a problem to fix): the editor's status says why; stay open.
                if saved.is_none() {
                    self.close_prompt = false;
                    self.editing = true;
                }
            }
            Some(1) => {
                if let Some(ed) = &mut self.editor {
                    ed.discard();
                }
                self.allow_close = true;
                self.close_prompt = false;
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            }
            Some(_) => self.close_prompt = false,
            None => {}
        }
    }
}
