//! Starting PlantView's window when the engine cannot start yet because the external broker's
//! password is not in its environment variable and nobody is at a terminal (a desktop launch):
//! the window asks for it (masked, never stored) and starts the engine with it.

use egui::{RichText, Ui};

use crate::engine::{self, EngineError, EngineHandle, EngineOptions, Secret};
use crate::project::{BrokerConfig, Project};

use super::PlantViewApp;
use super::theme::Theme;

/// Builds the running app from a started engine (applies the start view).
pub type MakeApp = Box<dyn Fn(EngineHandle) -> PlantViewApp>;

pub struct Launcher {
    project: Project,
    options: EngineOptions,
    make: MakeApp,
    password: String,
    error: Option<String>,
    app: Option<PlantViewApp>,
    theme: Theme,
    fonts: bool,
}

impl Launcher {
    /// Ask for the password of `project`'s external broker, then run `make(engine)`.
    pub fn new(project: Project, options: EngineOptions, make: MakeApp) -> Self {
        Self {
            project,
            options,
            make,
            password: String::new(),
            error: None,
            app: None,
            theme: Theme::light(),
            fonts: false,
        }
    }

    /// The running app, once the engine started.
    pub fn app(&mut self) -> Option<&mut PlantViewApp> {
        self.app.as_mut()
    }

    fn connect(&mut self) {
        let options = EngineOptions {
            broker_password: Some(Secret(std::mem::take(&mut self.password))),
            ..self.options.clone()
        };
        match engine::start(self.project.clone(), &options) {
            Ok(e) => self.app = Some((self.make)(e)),
            Err(e) => self.error = Some(e.to_string()),
        }
    }

    pub fn ui_root(&mut self, ui: &mut Ui) {
        if let Some(app) = &mut self.app {
            app.ui_root(ui);
            return;
        }
        if !self.fonts {
            self.fonts = true;
            self.theme.apply(ui.ctx());
            super::theme::install_fonts(ui.ctx());
        }
        let (user, url) = match &self.project.file.broker {
            BrokerConfig::External(x) => (
                x.username.clone().unwrap_or_default(),
                self.options
                    .broker_url
                    .clone()
                    .unwrap_or_else(|| x.url.clone()),
            ),
            BrokerConfig::Embedded { .. } => (String::new(), String::new()),
        };
        let mut connect = false;
        egui::CentralPanel::default_margins().show(ui, |ui| {
            ui.vertical_centered(|ui| {
                ui.add_space(ui.available_height() * 0.3);
                ui.label(RichText::new(self.project.name()).size(22.0).strong());
                ui.label(format!("The broker {url} needs the password of `{user}`."));
                ui.label(
                    RichText::new("It is used for this session only and never stored.")
                        .color(self.theme.text_dim),
                );
                let l = ui.label("Broker password");
                let r = ui
                    .add(
                        egui::TextEdit::singleline(&mut self.password)
                            .password(true)
                            .desired_width(240.0),
                    )
                    .labelled_by(l.id);
                let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                if ui.button("Connect").clicked() || enter {
                    connect = true;
                }
                if let Some(e) = &self.error {
                    ui.label(
                        RichText::new(e)
                            .color(self.theme.badge_text)
                            .background_color(self.theme.badge_bg),
                    );
                }
            });
        });
        if connect {
            self.connect();
        }
    }
}

impl eframe::App for Launcher {
    fn ui(&mut self, ui: &mut Ui, _frame: &mut eframe::Frame) {
        self.ui_root(ui);
    }
}

/// Whether this start failure is the missing broker password the launcher can ask for.
pub fn asks_password(e: &EngineError) -> bool {
    matches!(e, EngineError::MissingPassword(_))
}
