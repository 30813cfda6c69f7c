//! Undoable edits of a project: every change the screen editor makes is an [`Edit`] whose
//! application returns its exact inverse, so undo and redo restore the project bit for bit.
//! Also the editor's operations (align, distribute, z-order, paste…) expressed as edits, and
//! saving only what changed. Knows nothing about egui.

pub use super::edit_ops::*;
pub use super::edit_save::*;

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
    /// An alarm's definition (limits, delays, priority, message).
    SetAlarm {
        index: usize,
        alarm: crate::alarms::AlarmConfig,
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
    #[error("no alarm {0}")]
    NoAlarm(usize),
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
            Self::SetAlarm { index, alarm } => {
                let slot = p
                    .file
                    .alarms
                    .get_mut(index)
                    .ok_or(EditError::NoAlarm(index))?;
                let old = std::mem::replace(slot, alarm);
                Self::SetAlarm { index, alarm: old }
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

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
