//! Undoable edits of a project: every change the screen editor makes is an [`Edit`] whose
//! application returns its exact inverse, so undo and redo restore the project bit for bit.
//! Also the editor's operations (align, distribute, z-order, paste…) expressed as edits, and
//! saving only what changed. Knows nothing about egui.

use std::collections::{BTreeSet, HashSet};
use std::path::Path;

use super::{Project, Screen, ScreenFile, TagConfig, WidgetConfig};

/// One undoable change.
#[derive(Clone, Debug, PartialEq)]
pub enum Edit {
    InsertWidget {
        screen: usize,
        index: usize,
        widget: WidgetConfig,
    },
    RemoveWidget {
        screen: usize,
        index: usize,
    },
    SetWidget {
        screen: usize,
        index: usize,
        widget: WidgetConfig,
    },
    /// Z-order: move the widget at `from` to `to` (later widgets paint on top).
    MoveWidget {
        screen: usize,
        from: usize,
        to: usize,
    },
    InsertScreen {
        index: usize,
        screen: Screen,
    },
    RemoveScreen {
        index: usize,
    },
    /// Title, size, parameters, template flag (everything but the widgets).
    SetScreenMeta {
        index: usize,
        meta: ScreenMeta,
    },
    MoveScreen {
        from: usize,
        to: usize,
    },
    SetScreenOrder(Vec<String>),
    InsertTag {
        index: usize,
        tag: TagConfig,
    },
    RemoveTag {
        index: usize,
    },
    SetTag {
        index: usize,
        tag: TagConfig,
    },
    /// Several edits as one step (applied in order, undone in reverse).
    Batch(Vec<Edit>),
}

/// A screen's settings apart from its widgets.
#[derive(Clone, Debug, PartialEq)]
pub struct ScreenMeta {
    pub title: String,
    pub size: [f32; 2],
    pub params: std::collections::BTreeMap<String, String>,
    pub template: bool,
}

impl ScreenMeta {
    pub fn of(file: &ScreenFile) -> Self {
        Self {
            title: file.title.clone(),
            size: file.size,
            params: file.params.clone(),
            template: file.template,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EditError {
    #[error("no screen {0}")]
    NoScreen(usize),
    #[error("no widget {index} on screen {screen}")]
    NoWidget { screen: usize, index: usize },
    #[error("no tag {0}")]
    NoTag(usize),
    #[error("a screen `{0}` exists already")]
    DuplicateScreen(String),
    #[error("a tag `{0}` exists already")]
    DuplicateTag(String),
}

impl Edit {
    /// Apply to `p` and return the edit that undoes it. On error `p` is unchanged.
    pub fn apply(self, p: &mut Project) -> Result<Edit, EditError> {
        Ok(match self {
            Self::InsertWidget {
                screen,
                index,
                widget,
            } => {
                let ws = widgets_mut(p, screen)?;
                if index > ws.len() {
                    return Err(EditError::NoWidget { screen, index });
                }
                ws.insert(index, widget);
                Self::RemoveWidget { screen, index }
            }
            Self::RemoveWidget { screen, index } => {
                let ws = widgets_mut(p, screen)?;
                if index >= ws.len() {
                    return Err(EditError::NoWidget { screen, index });
                }
                let widget = ws.remove(index);
                Self::InsertWidget {
                    screen,
                    index,
                    widget,
                }
            }
            Self::SetWidget {
                screen,
                index,
                widget,
            } => {
                let ws = widgets_mut(p, screen)?;
                let slot = ws
                    .get_mut(index)
                    .ok_or(EditError::NoWidget { screen, index })?;
                let old = std::mem::replace(slot, widget);
                Self::SetWidget {
                    screen,
                    index,
                    widget: old,
                }
            }
            Self::MoveWidget { screen, from, to } => {
                let ws = widgets_mut(p, screen)?;
                if from >= ws.len() || to >= ws.len() {
                    return Err(EditError::NoWidget {
                        screen,
                        index: from.max(to),
                    });
                }
                let w = ws.remove(from);
                ws.insert(to, w);
                Self::MoveWidget {
                    screen,
                    from: to,
                    to: from,
                }
            }
            Self::InsertScreen { index, screen } => {
                if index > p.screens.len() {
                    return Err(EditError::NoScreen(index));
                }
                if p.screens.iter().any(|s| s.id == screen.id) {
                    return Err(EditError::DuplicateScreen(screen.id));
                }
                let order = p.file.screen_order.clone();
                p.screens.insert(index, screen);
                sync_order(p);
                Self::Batch(vec![
                    Self::SetScreenOrder(order),
                    Self::RemoveScreen { index },
                ])
            }
            Self::RemoveScreen { index } => {
                if index >= p.screens.len() {
                    return Err(EditError::NoScreen(index));
                }
                let order = p.file.screen_order.clone();
                let screen = p.screens.remove(index);
                sync_order(p);
                Self::Batch(vec![
                    Self::SetScreenOrder(order),
                    Self::InsertScreen { index, screen },
                ])
            }
            Self::SetScreenMeta { index, meta } => {
                let s = p.screens.get_mut(index).ok_or(EditError::NoScreen(index))?;
                let old = ScreenMeta::of(&s.file);
                s.file.title = meta.title;
                s.file.size = meta.size;
                s.file.params = meta.params;
                s.file.template = meta.template;
                Self::SetScreenMeta { index, meta: old }
            }
            Self::MoveScreen { from, to } => {
                let n = p.screens.len();
                if from >= n || to >= n {
                    return Err(EditError::NoScreen(from.max(to)));
                }
                let order = p.file.screen_order.clone();
                let s = p.screens.remove(from);
                p.screens.insert(to, s);
                sync_order(p);
                Self::Batch(vec![
                    Self::SetScreenOrder(order),
                    Self::MoveScreen { from: to, to: from },
                ])
            }
            Self::SetScreenOrder(order) => {
                Self::SetScreenOrder(std::mem::replace(&mut p.file.screen_order, order))
            }
            Self::InsertTag { index, tag } => {
                if index > p.file.tags.len() {
                    return Err(EditError::NoTag(index));
                }
                if p.tag(&tag.name).is_some() {
                    return Err(EditError::DuplicateTag(tag.name));
                }
                p.file.tags.insert(index, tag);
                Self::RemoveTag { index }
            }
            Self::RemoveTag { index } => {
                if index >= p.file.tags.len() {
                    return Err(EditError::NoTag(index));
                }
                let tag = p.file.tags.remove(index);
                Self::InsertTag { index, tag }
            }
            Self::SetTag { index, tag } => {
                let slot = p.file.tags.get_mut(index).ok_or(EditError::NoTag(index))?;
                let old = std::mem::replace(slot, tag);
                Self::SetTag { index, tag: old }
            }
            Self::Batch(edits) => {
                let mut undo = Vec::with_capacity(edits.len());
                for e in edits {
                    match e.apply(p) {
                        Ok(inv) => undo.push(inv),
                        Err(err) => {
                            // Roll back what was applied, so a failed batch changes nothing.
                            for inv in undo.into_iter().rev() {
                                let _ = inv.apply(p);
                            }
                            return Err(err);
                        }
                    }
                }
                undo.reverse();
                Self::Batch(undo)
            }
        })
    }
}

fn widgets_mut(p: &mut Project, screen: usize) -> Result<&mut Vec<WidgetConfig>, EditError> {
    p.screens
        .get_mut(screen)
        .map(|s| &mut s.file.widgets)
        .ok_or(EditError::NoScreen(screen))
}

/// `screen_order` follows the screen list after a screen was added, removed or moved.
fn sync_order(p: &mut Project) {
    p.file.screen_order = p.screens.iter().map(|s| s.id.clone()).collect();
}

/// One entry of the undo or redo stack.
#[derive(Clone, Debug)]
struct Step {
    /// What the user did ("Move 3 widgets"), shown in the Edit menu.
    label: String,
    /// The edit that reverses the step (on the undo stack) or repeats it (on the redo stack).
    edit: Edit,
    /// Consecutive steps with the same key merge into one (typing in a field).
    merge_key: Option<String>,
}

/// Undo and redo stacks over a project.
#[derive(Clone, Debug, Default)]
pub struct History {
    undo: Vec<Step>,
    redo: Vec<Step>,
    /// Bumped on every change (for "dirty" and for views that cache).
    revision: u64,
}

impl History {
    /// Apply `edit` as one undoable step.
    pub fn apply(&mut self, p: &mut Project, label: &str, edit: Edit) -> Result<(), EditError> {
        self.apply_merging(p, label, edit, None)
    }

    /// Apply `edit`; when the previous step has the same `merge_key`, the two become one step
    /// (each keystroke in an inspector field is not its own undo step).
    pub fn apply_merging(
        &mut self,
        p: &mut Project,
        label: &str,
        edit: Edit,
        merge_key: Option<String>,
    ) -> Result<(), EditError> {
        let inverse = edit.apply(p)?;
        self.revision += 1;
        self.redo.clear();
        if let (Some(key), Some(last)) = (&merge_key, self.undo.last())
            && last.merge_key.as_ref() == Some(key)
        {
            // The earlier inverse already restores the state before both edits.
            return Ok(());
        }
        self.undo.push(Step {
            label: label.to_owned(),
            edit: inverse,
            merge_key,
        });
        Ok(())
    }

    /// End merging: the next edit starts a new step even with the same key.
    pub fn seal(&mut self) {
        if let Some(last) = self.undo.last_mut() {
            last.merge_key = None;
        }
    }

    pub fn undo(&mut self, p: &mut Project) -> Result<bool, EditError> {
        let Some(step) = self.undo.pop() else {
            return Ok(false);
        };
        let redo = step.edit.clone().apply(p).inspect_err(|_| {
            self.undo.push(step.clone());
        })?;
        self.revision += 1;
        self.redo.push(Step {
            label: step.label,
            edit: redo,
            merge_key: None,
        });
        Ok(true)
    }

    pub fn redo(&mut self, p: &mut Project) -> Result<bool, EditError> {
        let Some(step) = self.redo.pop() else {
            return Ok(false);
        };
        let undo = step.edit.clone().apply(p).inspect_err(|_| {
            self.redo.push(step.clone());
        })?;
        self.revision += 1;
        self.undo.push(Step {
            label: step.label,
            edit: undo,
            merge_key: None,
        });
        Ok(true)
    }

    pub fn undo_label(&self) -> Option<&str> {
        self.undo.last().map(|s| s.label.as_str())
    }

    pub fn redo_label(&self) -> Option<&str> {
        self.redo.last().map(|s| s.label.as_str())
    }

    pub fn can_undo(&self) -> bool {
        !self.undo.is_empty()
    }

    pub fn can_redo(&self) -> bool {
        !self.redo.is_empty()
    }

    pub fn revision(&self) -> u64 {
        self.revision
    }
}

// ---- Operations the editor offers, as edits ----

/// A widget id not used on `screen`: `base`, `base_2`, `base_3`…
pub fn unique_widget_id(screen: &ScreenFile, base: &str, taken: &HashSet<String>) -> String {
    let used = |id: &str| taken.contains(id) || screen.widgets.iter().any(|w| w.id == id);
    if !used(base) {
        return base.to_owned();
    }
    (2..)
        .map(|n| format!("{base}_{n}"))
        .find(|id| !used(id))
        .unwrap_or_else(|| base.to_owned())
}

/// A screen id not used in `p`, from a title (`AHU 3` → `ahu_3`).
pub fn unique_screen_id(p: &Project, title: &str) -> String {
    let mut base: String = title
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    base = base.trim_matches('_').to_owned();
    if base.is_empty() {
        base = "screen".to_owned();
    }
    if p.screen(&base).is_none() {
        return base;
    }
    (2..)
        .map(|n| format!("{base}_{n}"))
        .find(|id| p.screen(id).is_none())
        .unwrap_or(base)
}

/// Indices on `screen` of the widgets with these ids, ascending.
pub fn indices_of(p: &Project, screen: usize, ids: &BTreeSet<String>) -> Vec<usize> {
    p.screens.get(screen).map_or_else(Vec::new, |s| {
        s.file
            .widgets
            .iter()
            .enumerate()
            .filter(|(_, w)| ids.contains(&w.id))
            .map(|(i, _)| i)
            .collect()
    })
}

/// Change each selected widget with `f` (one step). `None` when nothing changes.
pub fn map_widgets(
    p: &Project,
    screen: usize,
    ids: &BTreeSet<String>,
    mut f: impl FnMut(&mut WidgetConfig),
) -> Option<Edit> {
    let s = p.screens.get(screen)?;
    let edits: Vec<Edit> = indices_of(p, screen, ids)
        .into_iter()
        .filter_map(|i| {
            let mut w = s.file.widgets[i].clone();
            f(&mut w);
            (w != s.file.widgets[i]).then_some(Edit::SetWidget {
                screen,
                index: i,
                widget: w,
            })
        })
        .collect();
    (!edits.is_empty()).then_some(Edit::Batch(edits))
}

/// Remove the selected widgets (highest index first, so indices stay valid).
pub fn delete_widgets(p: &Project, screen: usize, ids: &BTreeSet<String>) -> Option<Edit> {
    let edits: Vec<Edit> = indices_of(p, screen, ids)
        .into_iter()
        .rev()
        .map(|index| Edit::RemoveWidget { screen, index })
        .collect();
    (!edits.is_empty()).then_some(Edit::Batch(edits))
}

/// Insert copies of `widgets` on `screen`, shifted by `offset`, with fresh ids. Returns the edit
/// and the new ids.
pub fn paste_widgets(
    p: &Project,
    screen: usize,
    widgets: &[WidgetConfig],
    offset: [f32; 2],
) -> Option<(Edit, BTreeSet<String>)> {
    let s = p.screens.get(screen)?;
    let mut taken = HashSet::new();
    let mut ids = BTreeSet::new();
    let mut edits = Vec::new();
    for (n, w) in widgets.iter().enumerate() {
        let mut w = w.clone();
        let base =
            w.id.trim_end_matches(|c: char| c.is_ascii_digit() || c == '_');
        let base = if base.is_empty() { w.kind.key() } else { base };
        w.id = unique_widget_id(&s.file, base, &taken);
        w.x += offset[0];
        w.y += offset[1];
        taken.insert(w.id.clone());
        ids.insert(w.id.clone());
        edits.push(Edit::InsertWidget {
            screen,
            index: s.file.widgets.len() + n,
            widget: w,
        });
    }
    (!edits.is_empty()).then_some((Edit::Batch(edits), ids))
}

/// Bring the selection to the front (`front`) or send it to the back, keeping its own order.
pub fn restack(p: &Project, screen: usize, ids: &BTreeSet<String>, front: bool) -> Option<Edit> {
    let s = p.screens.get(screen)?;
    let (mut sel, mut rest): (Vec<WidgetConfig>, Vec<WidgetConfig>) = (Vec::new(), Vec::new());
    for w in &s.file.widgets {
        if ids.contains(&w.id) {
            sel.push(w.clone());
        } else {
            rest.push(w.clone());
        }
    }
    let order: Vec<WidgetConfig> = if front {
        rest.into_iter().chain(sel).collect()
    } else {
        sel.into_iter().chain(rest).collect()
    };
    reorder_to(&s.file.widgets, &order, screen)
}

/// The moves that turn `current` into `target` (same widgets, other order).
fn reorder_to(current: &[WidgetConfig], target: &[WidgetConfig], screen: usize) -> Option<Edit> {
    let mut ids: Vec<&str> = current.iter().map(|w| w.id.as_str()).collect();
    let mut edits = Vec::new();
    for (to, w) in target.iter().enumerate() {
        let from = ids.iter().position(|id| *id == w.id)?;
        if from != to {
            let id = ids.remove(from);
            ids.insert(to, id);
            edits.push(Edit::MoveWidget { screen, from, to });
        }
    }
    (!edits.is_empty()).then_some(Edit::Batch(edits))
}

/// How to line up a selection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlignTo {
    Left,
    HCenter,
    Right,
    Top,
    VCenter,
    Bottom,
}

/// Align the selection to the edge or centre of its bounding box.
pub fn align(p: &Project, screen: usize, ids: &BTreeSet<String>, to: AlignTo) -> Option<Edit> {
    let s = p.screens.get(screen)?;
    let sel: Vec<&WidgetConfig> = s
        .file
        .widgets
        .iter()
        .filter(|w| ids.contains(&w.id))
        .collect();
    if sel.len() < 2 {
        return None;
    }
    let min_x = sel.iter().map(|w| w.x).fold(f32::INFINITY, f32::min);
    let max_x = sel
        .iter()
        .map(|w| w.x + w.w)
        .fold(f32::NEG_INFINITY, f32::max);
    let min_y = sel.iter().map(|w| w.y).fold(f32::INFINITY, f32::min);
    let max_y = sel
        .iter()
        .map(|w| w.y + w.h)
        .fold(f32::NEG_INFINITY, f32::max);
    map_widgets(p, screen, ids, |w| match to {
        AlignTo::Left => w.x = min_x,
        AlignTo::Right => w.x = max_x - w.w,
        AlignTo::HCenter => w.x = ((min_x + max_x) / 2.0 - w.w / 2.0).round(),
        AlignTo::Top => w.y = min_y,
        AlignTo::Bottom => w.y = max_y - w.h,
        AlignTo::VCenter => w.y = ((min_y + max_y) / 2.0 - w.h / 2.0).round(),
    })
}

/// Spread the selection evenly (equal gaps) between its outermost widgets.
pub fn distribute(
    p: &Project,
    screen: usize,
    ids: &BTreeSet<String>,
    horizontal: bool,
) -> Option<Edit> {
    let s = p.screens.get(screen)?;
    let mut sel: Vec<&WidgetConfig> = s
        .file
        .widgets
        .iter()
        .filter(|w| ids.contains(&w.id))
        .collect();
    if sel.len() < 3 {
        return None;
    }
    let pos = |w: &WidgetConfig| if horizontal { w.x } else { w.y };
    let len = |w: &WidgetConfig| if horizontal { w.w } else { w.h };
    sel.sort_by(|a, b| pos(a).total_cmp(&pos(b)));
    let (first, last) = (sel[0], sel[sel.len() - 1]);
    let span = pos(last) + len(last) - pos(first);
    let total: f32 = sel.iter().map(|w| len(w)).sum();
    let gap = (span - total) / (sel.len() - 1) as f32;
    let mut at = pos(first);
    let mut target = std::collections::HashMap::new();
    for w in &sel {
        target.insert(w.id.clone(), at.round());
        at += len(w) + gap;
    }
    map_widgets(p, screen, ids, |w| {
        if let Some(&v) = target.get(&w.id) {
            if horizontal {
                w.x = v;
            } else {
                w.y = v;
            }
        }
    })
}

/// Snap a coordinate to the grid.
pub fn snap(v: f32, grid: f32) -> f32 {
    if grid > 0.0 {
        (v / grid).round() * grid
    } else {
        v
    }
}

// ---- Saving ----

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::{ProjectFile, WidgetKind};

    fn project() -> Project {
        let file: ProjectFile = serde_json::from_str(
            r#"{"format":1,"name":"t","broker":{"mode":"embedded","listen":"127.0.0.1:1883"}}"#,
        )
        .expect("valid");
        Project {
            dir: "/nonexistent".into(),
            file,
            screens: vec![Screen {
                id: "main".into(),
                file: ScreenFile {
                    format: 1,
                    title: "Main".into(),
                    size: [1280.0, 760.0],
                    params: Default::default(),
                    template: false,
                    widgets: (0..4)
                        .map(|i| {
                            WidgetConfig::new(
                                format!("w{i}"),
                                WidgetKind::Text,
                                i as f32 * 100.0,
                                10.0 * i as f32,
                            )
                        })
                        .collect(),
                },
            }],
        }
    }

    fn ids(list: &[&str]) -> BTreeSet<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn undo_restores_and_redo_repeats() {
        let original = project();
        let mut p = original.clone();
        let mut h = History::default();
        let e = delete_widgets(&p, 0, &ids(&["w1", "w3"])).expect("some");
        h.apply(&mut p, "Delete", e).expect("applies");
        assert_eq!(p.screens[0].file.widgets.len(), 2);
        let edited = p.clone();
        assert!(h.undo(&mut p).expect("undo"));
        assert_eq!(p, original);
        assert!(h.redo(&mut p).expect("redo"));
        assert_eq!(p, edited);
    }

    #[test]
    fn a_failed_batch_changes_nothing() {
        let original = project();
        let mut p = original.clone();
        let bad = Edit::Batch(vec![
            Edit::RemoveWidget {
                screen: 0,
                index: 0,
            },
            Edit::RemoveWidget {
                screen: 0,
                index: 99,
            },
        ]);
        assert!(bad.apply(&mut p).is_err());
        assert_eq!(p, original);
    }

    #[test]
    fn merged_typing_is_one_step() {
        let original = project();
        let mut p = original.clone();
        let mut h = History::default();
        for label in ["A", "AB", "ABC"] {
            let e = map_widgets(&p, 0, &ids(&["w0"]), |w| w.label = label.into()).expect("changes");
            h.apply_merging(&mut p, "Label", e, Some("w0.label".into()))
                .expect("applies");
        }
        assert_eq!(p.screens[0].file.widgets[0].label, "ABC");
        assert!(h.undo(&mut p).expect("undo"));
        assert_eq!(p, original);
        assert!(!h.can_undo());
    }

    #[test]
    fn restack_align_distribute() {
        let mut p = project();
        let e = restack(&p, 0, &ids(&["w0"]), true).expect("moves");
        e.apply(&mut p).expect("applies");
        let order: Vec<_> = p.screens[0]
            .file
            .widgets
            .iter()
            .map(|w| w.id.as_str())
            .collect();
        assert_eq!(order, ["w1", "w2", "w3", "w0"]);
        let e = align(&p, 0, &ids(&["w0", "w1", "w2"]), AlignTo::Top).expect("moves");
        e.apply(&mut p).expect("applies");
        assert!(
            p.screens[0]
                .file
                .widgets
                .iter()
                .filter(|w| w.id != "w3")
                .all(|w| w.y == 0.0)
        );
        let mut p = project();
        p.screens[0].file.widgets[1].x = 130.0;
        let e = distribute(&p, 0, &ids(&["w0", "w1", "w2"]), true).expect("moves");
        e.apply(&mut p).expect("applies");
        let xs: Vec<f32> = p.screens[0].file.widgets.iter().map(|w| w.x).collect();
        assert_eq!(&xs[..3], &[0.0, 100.0, 200.0]);
    }

    #[test]
    fn paste_gives_fresh_ids() {
        let p = project();
        let w = p.screens[0].file.widgets[..2].to_vec();
        let (_, new) = paste_widgets(&p, 0, &w, [20.0, 20.0]).expect("pastes");
        assert_eq!(new, ids(&["w", "w_2"]));
    }
}
