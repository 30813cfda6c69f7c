//! Reading and writing project files. Loading never changes anything on disk; saving is atomic
//! (temporary file, fsync, rename) and stable (same model → byte-identical file).

use std::fmt;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{FORMAT_VERSION, Project, ProjectFile, Screen, ScreenFile, validate};

/// Project files larger than this are refused before they are read (they are untrusted input).
/// Nesting deeper than serde_json's recursion limit (128) is refused by the parser.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// One problem in a project: which file, which field, what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Path relative to the project folder, e.g. `screens/overview.json`.
    pub file: String,
    /// Field path, e.g. `tags[3].decoder.pointer`; `.` for the whole file.
    pub field: String,
    pub message: String,
}

impl Problem {
    pub fn new(
        file: impl Into<String>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            file: file.into(),
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.file, self.field, self.message)
    }
}

/// Loading failed; every problem found is listed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct LoadError {
    pub dir: PathBuf,
    pub problems: Vec<Problem>,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "project {} has {} problem(s):",
            self.dir.display(),
            self.problems.len()
        )?;
        for p in &self.problems {
            write!(f, "\n  {p}")?;
        }
        Ok(())
    }
}

/// Load and validate the project in `dir`.
pub fn load(dir: &Path) -> Result<Project, LoadError> {
    let mut problems = Vec::new();
    let project_file = parse_file::<ProjectFile>(dir, "project.json", &mut problems);

    let mut screens = Vec::new();
    // Screens whose file exists but did not parse (already reported).
    let mut unreadable: Vec<String> = Vec::new();
    let screens_dir = dir.join("screens");
    match fs::read_dir(&screens_dir) {
        Ok(entries) => {
            let mut names: Vec<String> = entries
                .filter_map(Result::ok)
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| n.ends_with(".json") && !n.starts_with('.'))
                .collect();
            names.sort();
            for name in names {
                let rel = format!("screens/{name}");
                let id = name.trim_end_matches(".json").to_owned();
                match parse_file::<ScreenFile>(dir, &rel, &mut problems) {
                    Some(file) => screens.push(Screen { id, file }),
                    None => unreadable.push(id),
                }
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => problems.push(Problem::new("screens", ".", format!("cannot list: {e}"))),
    }

    let Some(file) = project_file else {
        return Err(LoadError {
            dir: dir.to_owned(),
            problems,
        });
    };
    // Navigation order: as listed, then the rest by file name.
    let order = &file.screen_order;
    screens.sort_by_key(|s| order.iter().position(|o| *o == s.id).unwrap_or(usize::MAX));

    let project = Project {
        dir: dir.to_owned(),
        file,
        screens,
    };
    // A screen that failed to parse is reported once, not again as missing from screen_order.
    problems.extend(validate(&project).into_iter().filter(|p| {
        !(p.field.starts_with("screen_order")
            && unreadable
                .iter()
                .any(|id| p.message == format!("no screen file screens/{id}.json")))
    }));
    if problems.is_empty() {
        Ok(project)
    } else {
        Err(LoadError {
            dir: dir.to_owned(),
            problems,
        })
    }
}

fn parse_file<T: DeserializeOwned>(
    dir: &Path,
    rel: &str,
    problems: &mut Vec<Problem>,
) -> Option<T> {
    let path = dir.join(rel);
    match fs::metadata(&path) {
        Ok(m) if m.len() > MAX_FILE_BYTES => {
            problems.push(Problem::new(
                rel,
                ".",
                format!(
                    "file is {} bytes, more than the limit of {MAX_FILE_BYTES}",
                    m.len()
                ),
            ));
            return None;
        }
        Ok(_) => {}
        Err(e) => {
            problems.push(Problem::new(rel, ".", format!("cannot read: {e}")));
            return None;
        }
    }
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            problems.push(Problem::new(rel, ".", format!("cannot read: {e}")));
            return None;
        }
    };
    // Refuse files written by a newer PlantView before anything else complains about them.
    if let Some(problem) = check_format(rel, &text) {
        problems.push(problem);
        return None;
    }
    let de = &mut serde_json::Deserializer::from_str(&text);
    match serde_path_to_error::deserialize::<_, T>(de) {
        Ok(v) => Some(v),
        Err(err) => {
            let field = err.path().to_string();
            let inner = err.into_inner();
            let message = if inner.is_syntax() || inner.is_eof() {
                format!("invalid JSON: {inner}")
            } else {
                inner.to_string()
            };
            problems.push(Problem::new(rel, field, message));
            None
        }
    }
}

fn check_format(rel: &str, text: &str) -> Option<Problem> {
    #[derive(serde::Deserialize)]
    struct Format {
        format: Option<serde_json::Value>,
    }
    let f: Format = serde_json::from_str(text).ok()?;
    match f.format {
        None => Some(Problem::new(rel, "format", "missing field `format`")),
        Some(v) => match v.as_u64() {
            Some(n) if n >= 1 && n <= u64::from(FORMAT_VERSION) => None,
            Some(n) if n > u64::from(FORMAT_VERSION) => Some(Problem::new(
                rel,
                "format",
                format!(
                    "format {n} was written by a newer PlantView; this build reads up to {FORMAT_VERSION}"
                ),
            )),
            _ => Some(Problem::new(
                rel,
                "format",
                format!("unsupported format {v}"),
            )),
        },
    }
}

/// Serialize stably: pretty JSON in struct field order, trailing newline.
pub fn to_stable_json<T: Serialize>(value: &T) -> Result<String, serde_json::Error> {
    let mut s = serde_json::to_string_pretty(value)?;
    s.push('\n');
    Ok(s)
}

/// Write `bytes` to `path` atomically: temporary file in the same folder, fsync, rename, fsync
/// the folder. A crash leaves either the old or the new file, never half of one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)?;
        if let Ok(d) = fs::File::open(dir) {
            // Not every platform can fsync a directory; the rename is done either way.
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

pub fn save_project_file(dir: &Path, file: &ProjectFile) -> std::io::Result<()> {
    let text = to_stable_json(file).map_err(std::io::Error::other)?;
    write_atomic(&dir.join("project.json"), text.as_bytes())
}

pub fn save_screen_file(dir: &Path, id: &str, file: &ScreenFile) -> std::io::Result<()> {
    let text = to_stable_json(file).map_err(std::io::Error::other)?;
    let screens = dir.join("screens");
    fs::create_dir_all(&screens)?;
    write_atomic(&screens.join(format!("{id}.json")), text.as_bytes())
}
