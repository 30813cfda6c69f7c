//! `plantview user add|remove|passwd|role|list PROJECT_DIR`: the users file beside a project.
//! Passwords are read without echo from a terminal, or as one line from stdin (scripts); every
//! change goes to the project's audit trail under the OS user who ran the command.

use std::io::{BufRead as _, IsTerminal as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Subcommand;

use crate::security::{AuditRecord, Role, Users};

#[derive(Debug, Subcommand)]
pub enum UserCmd {
    /// Add a user (password from the terminal, or one line on stdin).
    Add {
        /// Project folder.
        project: PathBuf,
        /// User name.
        name: String,
        /// viewer, operator, engineer or admin.
        #[arg(long, value_parser = parse_role)]
        role: Role,
    },
    /// Remove a user (the last admin stays).
    Remove { project: PathBuf, name: String },
    /// Set a user's password (from the terminal, or one line on stdin).
    Passwd { project: PathBuf, name: String },
    /// Change a user's role.
    Role {
        project: PathBuf,
        name: String,
        #[arg(value_parser = parse_role)]
        role: Role,
    },
    /// List users and roles.
    List { project: PathBuf },
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse()
}

pub fn run(cmd: &UserCmd, data_dir: Option<&Path>) -> anyhow::Result<ExitCode> {
    let project = match cmd {
        UserCmd::Add { project, .. }
        | UserCmd::Remove { project, .. }
        | UserCmd::Passwd { project, .. }
        | UserCmd::Role { project, .. }
        | UserCmd::List { project } => project,
    };
    anyhow::ensure!(
        project.join("project.json").is_file(),
        "{} is not a project folder (no project.json)",
        project.display()
    );
    let data_dir = data_dir.map_or_else(|| project.join("data"), Path::to_owned);
    let mut users = Users::load(project)?;
    let (action, name, detail) = match cmd {
        UserCmd::List { .. } => {
            let list = users.list();
            if list.is_empty() {
                println!("no users in {}", users.path().display());
            }
            for u in list {
                println!("{}\t{}", u.name, u.role);
            }
            if users.needs_first_admin() {
                eprintln!("note: no admin yet; add one with `plantview user add --role admin`");
            }
            return Ok(ExitCode::SUCCESS);
        }
        UserCmd::Add { name, role, .. } => {
            let password = read_new_password(name)?;
            users.add(name, *role, &password)?;
            (
                "user_add",
                name,
                format!("added user `{name}` with role {role}"),
            )
        }
        UserCmd::Remove { name, .. } => {
            let role = users.remove(name)?;
            (
                "user_remove",
                name,
                format!("removed user `{name}` (was {role})"),
            )
        }
        UserCmd::Passwd { name, .. } => {
            // Fail before asking when the user does not exist.
            anyhow::ensure!(users.role_of(name).is_some(), "no user `{name}`");
            let password = read_new_password(name)?;
            users.set_password(name, &password)?;
            (
                "user_passwd",
                name,
                format!("changed the password of `{name}`"),
            )
        }
        UserCmd::Role { name, role, .. } => {
            let old = users.set_role(name, *role)?;
            (
                "user_role",
                name,
                format!("changed the role of `{name}` from {old} to {role}"),
            )
        }
    };
    users.save()?;
    let by = crate::security::operator_name();
    let mut record = AuditRecord::event(&by, None, action, "ok", detail.clone());
    record.tag.clone_from(name);
    crate::security::append(&data_dir, &record)
        .with_context(|| format!("{detail}, but it is not in the audit trail"))?;
    println!("{detail} ({})", users.path().display());
    Ok(ExitCode::SUCCESS)
}

/// A new password: asked twice without echo on a terminal, else the first line of stdin.
fn read_new_password(name: &str) -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!("New password for {name}: "))
            .context("cannot read the password")?;
        let again =
            rpassword::prompt_password("Repeat it: ").context("cannot read the password")?;
        anyhow::ensure!(first == again, "the passwords differ; nothing changed");
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from stdin")?;
        let password = line.strip_suffix('\n').unwrap_or(&line);
        let password = password.strip_suffix('\r').unwrap_or(password);
        anyhow::ensure!(!password.is_empty(), "no password on stdin");
        Ok(password.to_owned())
    }
}
