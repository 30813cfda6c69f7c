//! Who is at the keyboard: the login dialog, creating the first administrator, logout, and the
//! session lock after inactivity. The lock covers the controls but never the alarm banner (it
//! keeps updating and the horn keeps sounding); unlocking needs the password.
//!
//! What a role may do is decided by the engine's command layer; the GUI only hides what would
//! be refused anyway.

use std::time::{Duration, Instant};

use egui::{RichText, Ui};

use crate::security::{Action, Actor, LoginMode, Role, SecuritySettings, Session, Users};

use super::theme::Theme;

/// The login state of the workstation.
pub struct Login {
    pub settings: SecuritySettings,
    /// `None` in open mode, or when the users file cannot be read (then `error` says why).
    users: Option<Users>,
    pub session: Option<Session>,
    /// The dialog is open.
    dialog: bool,
    name: String,
    password: String,
    password2: String,
    error: Option<String>,
    pub locked: bool,
    /// Why the workstation locked (for the lock screen and the audit trail).
    lock_reason: String,
    /// The users page's form: new user's name, role, password twice; the last outcome.
    form: (String, Role, String, String),
    users_message: Option<(String, bool)>,
    last_input: Instant,
    data_dir: std::path::PathBuf,
}

impl Login {
    pub fn new(project: &crate::project::Project, data_dir: &std::path::Path) -> Self {
        let settings = project.file.security.clone().unwrap_or_default();
        let (users, error) = match settings.login {
            LoginMode::Open => (None, None),
            LoginMode::Required => match Users::load(&project.dir) {
                Ok(u) => (Some(u), None),
                Err(e) => (None, Some(e.to_string())),
            },
        };
        let dialog = settings.login == LoginMode::Required;
        Self {
            settings,
            users,
            session: None,
            dialog,
            name: String::new(),
            password: String::new(),
            password2: String::new(),
            error,
            locked: false,
            lock_reason: String::new(),
            form: (String::new(), Role::Operator, String::new(), String::new()),
            users_message: None,
            last_input: Instant::now(),
            data_dir: data_dir.to_owned(),
        }
    }

    pub fn required(&self) -> bool {
        self.settings.login == LoginMode::Required
    }

    /// Who commands are sent as.
    pub fn actor(&self) -> Actor {
        self.session
            .as_ref()
            .map_or_else(Actor::open_mode, Session::actor)
    }

    /// May the person at the keyboard do `action` (open mode: everything)?
    pub fn allows(&self, action: Action) -> bool {
        !self.locked && crate::security::authorize(&self.settings, &self.actor(), action).is_ok()
    }

    /// Why `action` is not allowed now.
    pub fn why_not(&self, action: Action) -> String {
        if self.locked {
            return "the workstation is locked".to_owned();
        }
        match crate::security::authorize(&self.settings, &self.actor(), action) {
            Ok(()) => String::new(),
            Err(e) => e.to_string(),
        }
    }

    pub fn open_dialog(&mut self) {
        self.dialog = true;
        self.error = None;
    }

    pub fn logout(&mut self) {
        if let Some(s) = self.session.take()
            && let Err(e) = crate::security::record_logout(&self.data_dir, &s, "logout")
        {
            tracing::error!("logout not audited: {e}");
        }
        self.locked = false;
        self.dialog = true;
        self.name.clear();
        self.password.clear();
        self.error = None;
    }

    /// Log in (tests and the dialog).
    pub fn login(&mut self, name: &str, password: &str) -> Result<(), String> {
        let Some(users) = &self.users else {
            return Err(self
                .error
                .clone()
                .unwrap_or_else(|| "this project has no login".to_owned()));
        };
        match users.login(&self.data_dir, name.trim(), password) {
            Ok(s) => {
                self.session = Some(s);
                self.dialog = false;
                self.locked = false;
                self.error = None;
                self.last_input = Instant::now();
                Ok(())
            }
            Err(e) => {
                self.error = Some(e.to_string());
                Err(e.to_string())
            }
        }
    }

    /// Input resets the inactivity timer; past `lock_after_s` a session locks.
    pub fn watch_inactivity(&mut self, ctx: &egui::Context) {
        let active = ctx.input(|i| {
            !i.events.is_empty() || i.pointer.delta() != egui::Vec2::ZERO || i.pointer.any_down()
        });
        if active && !self.locked {
            self.last_input = Instant::now();
        }
        let limit = Duration::from_secs(u64::from(self.settings.lock_after_s));
        if self.session.is_some() && self.settings.lock_after_s > 0 && !self.locked {
            if self.last_input.elapsed() >= limit {
                let why = format!(
                    "locked after {} s without input",
                    self.settings.lock_after_s
                );
                self.lock_because(&why);
            } else {
                ctx.request_repaint_after(limit.saturating_sub(self.last_input.elapsed()));
            }
        }
    }

    /// Lock now (the session stays; its password unlocks). On the audit trail as a logout.
    pub fn lock(&mut self) {
        self.lock_because("locked by the user");
    }

    /// Lock, saying why (the lock screen shows it; the audit trail has it as a logout).
    fn lock_because(&mut self, why: &str) {
        if let Some(s) = &self.session {
            if let Err(e) = crate::security::record_logout(&self.data_dir, s, why) {
                tracing::error!("lock not audited: {e}");
            }
            why.clone_into(&mut self.lock_reason);
            self.locked = true;
            self.password.clear();
            self.error = None;
        }
    }

    /// Pretend the last input was `ago` ago (tests of the inactivity lock).
    pub fn set_idle_for(&mut self, ago: Duration) {
        if let Some(t) = Instant::now().checked_sub(ago) {
            self.last_input = t;
        }
    }

    /// The top bar's account part.
    pub fn top_bar_ui(&mut self, ui: &mut Ui, theme: &Theme) {
        if !self.required() {
            super::app::badge_ui(ui, theme, "No login — demo mode".to_owned());
            return;
        }
        match &self.session {
            Some(s) => {
                let text = format!("{} ({})", s.user, s.role);
                ui.label(RichText::new(text).strong());
                if ui.small_button("Lock").clicked() {
                    self.lock();
                }
                if ui.small_button("Log out").clicked() {
                    self.logout();
                }
            }
            None => {
                super::app::badge_ui(ui, theme, "Not logged in — view only".to_owned());
                if ui.small_button("Log in…").clicked() {
                    self.open_dialog();
                }
            }
        }
    }

    /// The login / first-admin dialog, when open.
    pub fn dialog_ui(&mut self, ctx: &egui::Context, theme: &Theme) {
        if !self.dialog || self.locked || !self.required() {
            return;
        }
        let first = self.users.as_ref().is_some_and(Users::needs_first_admin);
        egui::Window::new(if first {
            "First administrator"
        } else {
            "Login"
        })
        .collapsible(false)
        .resizable(false)
        .anchor(egui::Align2::CENTER_CENTER, egui::vec2(0.0, 0.0))
        .show(ctx, |ui| {
            if first {
                ui.label("This project requires login and has no users yet.");
                ui.label("The account made here can add the other users.");
            }
            let submit = self.fields_ui(ui, first);
            ui.horizontal(|ui| {
                let label = if first {
                    "Create administrator"
                } else {
                    "Log in"
                };
                if ui.button(label).clicked() || submit {
                    if first {
                        self.create_first_admin();
                    } else {
                        let (n, p) = (self.name.clone(), self.password.clone());
                        let _ = self.login(&n, &p);
                        self.password.clear();
                    }
                }
                if ui.button("Continue without login").clicked() {
                    self.dialog = false;
                }
            });
            if let Some(e) = &self.error {
                ui.label(
                    RichText::new(e)
                        .color(theme.badge_text)
                        .background_color(theme.badge_bg),
                );
            }
        });
    }

    fn fields_ui(&mut self, ui: &mut Ui, first: bool) -> bool {
        let mut enter = false;
        egui::Grid::new("login_fields")
            .num_columns(2)
            .show(ui, |ui| {
                let l = ui.label("User");
                ui.add(egui::TextEdit::singleline(&mut self.name).desired_width(200.0))
                    .labelled_by(l.id);
                ui.end_row();
                let l = ui.label("Password");
                let r = ui
                    .add(
                        egui::TextEdit::singleline(&mut self.password)
                            .password(true)
                            .desired_width(200.0),
                    )
                    .labelled_by(l.id);
                enter |= r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                ui.end_row();
                if first {
                    let l = ui.label("Repeat password");
                    ui.add(
                        egui::TextEdit::singleline(&mut self.password2)
                            .password(true)
                            .desired_width(200.0),
                    )
                    .labelled_by(l.id);
                    ui.end_row();
                }
            });
        enter
    }

    fn create_first_admin(&mut self) {
        if self.password != self.password2 {
            self.error = Some("the passwords differ".to_owned());
            return;
        }
        let Some(users) = &mut self.users else {
            return;
        };
        let name = self.name.trim().to_owned();
        let result = users
            .add(&name, Role::Admin, &self.password)
            .and_then(|()| users.save());
        match result {
            Ok(()) => {
                let p = std::mem::take(&mut self.password);
                self.password2.clear();
                let _ = self.login(&name, &p);
            }
            Err(e) => self.error = Some(e.to_string()),
        }
    }

    /// The lock screen over the plant (not over the alarm banner). Returns true while locked.
    pub fn lock_ui(&mut self, ui: &mut Ui, theme: &Theme) -> bool {
        if !self.locked {
            return false;
        }
        let user = self
            .session
            .as_ref()
            .map(|s| s.user.clone())
            .unwrap_or_default();
        ui.vertical_centered(|ui| {
            ui.add_space(ui.available_height() * 0.3);
            ui.label(RichText::new("Workstation locked").size(26.0).strong());
            ui.label(
                RichText::new(format!(
                    "{}. Alarms stay visible and audible above.",
                    capitalised(&self.lock_reason)
                ))
                .color(theme.text_dim),
            );
            ui.add_space(10.0);
            ui.label(format!("{user}: enter your password to unlock"));
            let l = ui.label("Password");
            let r = ui
                .add(
                    egui::TextEdit::singleline(&mut self.password)
                        .password(true)
                        .desired_width(220.0),
                )
                .labelled_by(l.id);
            let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            ui.horizontal(|ui| {
                ui.add_space((ui.available_width() - 220.0).max(0.0) / 2.0);
                if ui.button("Unlock").clicked() || enter {
                    let p = std::mem::take(&mut self.password);
                    let _ = self.login(&user, &p);
                }
                if ui.button("Log out").clicked() {
                    self.logout();
                }
            });
            if let Some(e) = &self.error {
                ui.label(
                    RichText::new(e)
                        .color(theme.badge_text)
                        .background_color(theme.badge_bg),
                );
            }
        });
        true
    }
}

impl Login {
    /// The users page (admins): every user with their role, role changes, removal, and a new
    /// user. Each change is saved at once and audited under the admin's name.
    pub fn users_ui(&mut self, ui: &mut Ui, theme: &Theme) {
        if !self.allows(Action::ManageUsers) {
            ui.label(self.why_not(Action::ManageUsers));
            return;
        }
        let Some(users) = &mut self.users else {
            ui.label("This project has no users file.");
            return;
        };
        let admin = self.session.as_ref().map(|s| (s.user.clone(), s.role));
        ui.label(RichText::new("Users").strong().size(16.0));
        ui.label(
            RichText::new(format!(
                "{}: argon2id hashes, readable by this account only",
                users.path().display()
            ))
            .color(theme.text_dim),
        );
        ui.add_space(6.0);
        let mut change: Option<(&'static str, String, String, Result<(), String>)> = None;
        egui::Grid::new("users_table")
            .striped(true)
            .spacing([16.0, 4.0])
            .show(ui, |ui| {
                ui.label(RichText::new("User").color(theme.text_dim));
                ui.label(RichText::new("Role").color(theme.text_dim));
                ui.end_row();
                for u in users.list() {
                    ui.label(&u.name);
                    let mut role = u.role;
                    egui::ComboBox::new(("role_of", &u.name), format!("role of {}", u.name))
                        .selected_text(role.as_str())
                        .show_ui(ui, |ui| {
                            for r in Role::ALL {
                                ui.selectable_value(&mut role, r, r.as_str());
                            }
                        });
                    if role != u.role {
                        let r = users
                            .set_role(&u.name, role)
                            .map(|_| ())
                            .map_err(|e| e.to_string());
                        change = Some((
                            "user_role",
                            u.name.clone(),
                            format!("changed the role of `{}` from {} to {role}", u.name, u.role),
                            r,
                        ));
                    }
                    if ui.small_button(format!("Remove {}", u.name)).clicked() {
                        let r = users.remove(&u.name).map(|_| ()).map_err(|e| e.to_string());
                        change = Some((
                            "user_remove",
                            u.name.clone(),
                            format!("removed `{}`", u.name),
                            r,
                        ));
                    }
                    ui.end_row();
                }
            });
        ui.add_space(8.0);
        ui.label(RichText::new("Add a user").strong());
        let (name, role, pw, pw2) = &mut self.form;
        egui::Grid::new("new_user").num_columns(2).show(ui, |ui| {
            let l = ui.label("New user");
            ui.add(egui::TextEdit::singleline(name).desired_width(200.0))
                .labelled_by(l.id);
            ui.end_row();
            ui.label("");
            egui::ComboBox::new("new_user_role", "Role of the new user")
                .selected_text(role.as_str())
                .show_ui(ui, |ui| {
                    for r in Role::ALL {
                        ui.selectable_value(role, r, r.as_str());
                    }
                });
            ui.end_row();
            let l = ui.label("New password");
            ui.add(
                egui::TextEdit::singleline(pw)
                    .password(true)
                    .desired_width(200.0),
            )
            .labelled_by(l.id);
            ui.end_row();
            let l = ui.label("Repeat new password");
            ui.add(
                egui::TextEdit::singleline(pw2)
                    .password(true)
                    .desired_width(200.0),
            )
            .labelled_by(l.id);
            ui.end_row();
        });
        if ui.button("Add user").clicked() {
            let n = name.trim().to_owned();
            let r = if pw != pw2 {
                Err("the passwords differ".to_owned())
            } else {
                users.add(&n, *role, pw).map_err(|e| e.to_string())
            };
            change = Some((
                "user_add",
                n.clone(),
                format!("added `{n}` with role {role}"),
                r,
            ));
            pw.clear();
            pw2.clear();
        }
        if let Some((action, subject, detail, result)) = change {
            let result = result.and_then(|()| users.save().map_err(|e| e.to_string()));
            self.users_message = Some(match &result {
                Ok(()) => {
                    if let Some((by, by_role)) = &admin {
                        let mut record = crate::security::AuditRecord::event(
                            by,
                            Some(by_role.as_str()),
                            action,
                            "ok",
                            detail.clone(),
                        );
                        record.tag = subject;
                        if let Err(e) = crate::security::append(&self.data_dir, &record) {
                            tracing::error!("{detail}, but not audited: {e}");
                        }
                    }
                    self.form.0.clear();
                    (detail, false)
                }
                Err(e) => (e.clone(), true),
            });
        }
        if let Some((text, error)) = &self.users_message {
            let t = RichText::new(text);
            ui.label(if *error {
                t.color(theme.badge_text).background_color(theme.badge_bg)
            } else {
                t.color(theme.text_dim)
            });
        }
    }
}

/// `locked by …` → `Locked by …`.
fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}
