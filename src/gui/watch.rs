//! Noticing project files changed by someone else (a `git pull`, another editor): a named
//! thread compares the files' sizes and modification times with what PlantView last loaded or
//! saved, once a second. The UI thread only reads a flag.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use parking_lot::Mutex;

/// (file relative to the project folder, size, modified).
type Fingerprint = Vec<(String, u64, Option<SystemTime>)>;

/// The project files and their sizes and times.
pub fn fingerprint(dir: &Path) -> Fingerprint {
    let mut out = Vec::new();
    let mut add = |rel: String, path: PathBuf| {
        if let Ok(m) = std::fs::metadata(&path) {
            out.push((rel, m.len(), m.modified().ok()));
        }
    };
    add("project.json".to_owned(), dir.join("project.json"));
    if let Ok(entries) = std::fs::read_dir(dir.join("screens")) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.ends_with(".json") && !name.starts_with('.') {
                add(format!("screens/{name}"), e.path());
            }
        }
    }
    out.sort();
    out
}

struct Shared {
    expected: Mutex<Fingerprint>,
    changed: AtomicBool,
}

/// Watches one project folder while it lives.
pub struct ProjectWatch {
    shared: Arc<Shared>,
    dir: PathBuf,
}

impl ProjectWatch {
    pub fn start(dir: &Path) -> Self {
        let shared = Arc::new(Shared {
            expected: Mutex::new(fingerprint(dir)),
            changed: AtomicBool::new(false),
        });
        let weak = Arc::downgrade(&shared);
        let watched = dir.to_owned();
        let spawned = std::thread::Builder::new()
            .name("pv-project-watch".to_owned())
            .spawn(move || {
                loop {
                    std::thread::sleep(Duration::from_secs(1));
                    let Some(shared) = weak.upgrade() else {
                        break;
                    };
                    let now = fingerprint(&watched);
                    if *shared.expected.lock() != now {
                        shared.changed.store(true, Ordering::Release);
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::warn!("cannot watch the project folder: {e}");
        }
        Self {
            shared,
            dir: dir.to_owned(),
        }
    }

    /// Files changed on disk since the last [`ProjectWatch::accept`].
    pub fn changed(&self) -> bool {
        self.shared.changed.load(Ordering::Acquire)
    }

    /// The files on disk are ours now (after a load or a save).
    pub fn accept(&self) {
        *self.shared.expected.lock() = fingerprint(&self.dir);
        self.shared.changed.store(false, Ordering::Release);
    }
}
