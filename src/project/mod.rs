//! The project: a folder an engineer keeps in git (`project.json` + `screens/*.json`).
//!
//! Owns the serde model, loading (never writes), validation (every problem with file, field
//! path and reason) and atomic, stable saving. Knows nothing about the engine or the GUI.

pub mod edit;
mod edit_ops;
mod edit_save;
pub mod guess;
mod load;
mod model;
pub mod template;
mod topic;
mod validate;

pub use load::{
    LoadError, MAX_FILE_BYTES, Problem, load, save_project_file, save_screen_file, to_stable_json,
    write_atomic,
};
pub use model::*;
pub use topic::{TopicFilterError, topic_matches, validate_topic_filter};
pub use validate::validate;

use std::path::{Path, PathBuf};

/// A loaded, validated project.
#[derive(Clone, Debug, PartialEq)]
pub struct Project {
    /// The project folder.
    pub dir: PathBuf,
    pub file: ProjectFile,
    /// In navigation order.
    pub screens: Vec<Screen>,
}

/// One screen of a project.
#[derive(Clone, Debug, PartialEq)]
pub struct Screen {
    /// File stem: `screens/<id>.json`.
    pub id: String,
    pub file: ScreenFile,
}

impl Project {
    pub fn name(&self) -> &str {
        &self.file.name
    }

    pub fn tag(&self, name: &str) -> Option<&TagConfig> {
        self.file.tags.iter().find(|t| t.name == name)
    }

    pub fn screen(&self, id: &str) -> Option<&Screen> {
        self.screens.iter().find(|s| s.id == id)
    }

    /// Resolve a path written in the project (relative to the project folder).
    pub fn resolve_path(&self, path: &str) -> PathBuf {
        let p = Path::new(path);
        if p.is_absolute() {
            p.to_owned()
        } else {
            self.dir.join(p)
        }
    }

    /// The file an image widget shows: `path` inside the project folder, else inside the
    /// application's `assets/` folder. Paths that leave those folders (absolute, `..`) are
    /// refused: a project is untrusted input.
    pub fn resolve_image(&self, path: &str) -> Result<PathBuf, String> {
        let rel = Path::new(path);
        if path.is_empty()
            || rel.is_absolute()
            || rel
                .components()
                .any(|c| !matches!(c, std::path::Component::Normal(_)))
        {
            return Err(format!(
                "`{path}` must be a relative path inside the project folder or assets/"
            ));
        }
        let in_project = self.dir.join(rel);
        if in_project.is_file() {
            return Ok(in_project);
        }
        let assets = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
        let in_assets = assets.join(rel.strip_prefix("assets").unwrap_or(rel));
        if in_assets.is_file() {
            return Ok(in_assets);
        }
        Err(format!(
            "image `{path}` not found in the project folder or in assets/"
        ))
    }

    /// The project's security settings (`open` when the project has none).
    pub fn security(&self) -> crate::security::SecuritySettings {
        self.file.security.clone().unwrap_or_default()
    }

    /// Where runtime data (history, journals) goes unless `--data-dir` says otherwise.
    pub fn default_data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }
}
