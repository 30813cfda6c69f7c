//! Saving what the editor changed (only changed files, atomically, stable format), and the
//! autosave/recovery file.

use std::path::Path;

use super::{Project, Screen, ScreenFile};

/// What a save wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Saved {
    /// Files written, relative to the project folder.
    pub written: Vec<String>,
    /// Screen files removed (screens deleted in the editor).
    pub removed: Vec<String>,
}

/// Write what differs between `p` and `before` (the project as last loaded or saved): each file
/// atomically, in the stable format; screens that no longer exist lose their file.
pub fn save_changes(p: &Project, before: &Project) -> std::io::Result<Saved> {
    save_changes_to(&p.dir, p, before)
}

/// [`save_changes`] into another folder (tests, "save as").
pub fn save_changes_to(dir: &Path, p: &Project, before: &Project) -> std::io::Result<Saved> {
    let mut saved = Saved::default();
    let same_dir = dir == before.dir;
    for s in &p.screens {
        let unchanged = same_dir && before.screen(&s.id).is_some_and(|b| b.file == s.file);
        if !unchanged {
            super::save_screen_file(dir, &s.id, &s.file)?;
            saved.written.push(format!("screens/{}.json", s.id));
        }
    }
    if !same_dir || p.file != before.file {
        super::save_project_file(dir, &p.file)?;
        saved.written.push("project.json".to_owned());
    }
    if same_dir {
        for b in &before.screens {
            if p.screen(&b.id).is_none() {
                let path = dir.join("screens").join(format!("{}.json", b.id));
                match std::fs::remove_file(&path) {
                    Ok(()) => saved.removed.push(format!("screens/{}.json", b.id)),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e),
                }
            }
        }
    }
    Ok(saved)
}

// ---- Autosave and recovery ----

/// The recovery file: the editor's working copy, written now and then while edits are unsaved,
/// removed on save or discard. A crash loses at most the last autosave interval.
pub const RECOVERY_FILE: &str = ".plantview-autosave.json";

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Recovery {
    format: u32,
    saved_at_ms: i64,
    project: super::ProjectFile,
    screens: Vec<RecoveryScreen>,
}

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RecoveryScreen {
    id: String,
    file: ScreenFile,
}

/// The recovery file's contents for `p`.
pub fn recovery_bytes(p: &Project) -> Result<Vec<u8>, serde_json::Error> {
    let r = Recovery {
        format: 1,
        saved_at_ms: chrono::Utc::now().timestamp_millis(),
        project: p.file.clone(),
        screens: p
            .screens
            .iter()
            .map(|s| RecoveryScreen {
                id: s.id.clone(),
                file: s.file.clone(),
            })
            .collect(),
    };
    super::to_stable_json(&r).map(String::into_bytes)
}

pub fn write_recovery(dir: &Path, bytes: &[u8]) -> std::io::Result<()> {
    super::write_atomic(&dir.join(RECOVERY_FILE), bytes)
}

pub fn remove_recovery(dir: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(dir.join(RECOVERY_FILE)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// The recovered working copy of the project in `dir` and when it was autosaved, if a
/// recovery file is there. An unreadable one is reported, never applied.
pub fn read_recovery(dir: &Path) -> Result<Option<(Project, i64)>, String> {
    let path = dir.join(RECOVERY_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    let r: Recovery =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let project = Project {
        dir: dir.to_owned(),
        file: r.project,
        screens: r
            .screens
            .into_iter()
            .map(|s| Screen {
                id: s.id,
                file: s.file,
            })
            .collect(),
    };
    Ok(Some((project, r.saved_at_ms)))
}
