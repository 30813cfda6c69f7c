//! The screen editor's operations (align, distribute, z-order, paste, delete, ids) expressed
//! as [`Edit`]s on a project.

use std::collections::{BTreeSet, HashSet};

use super::edit::Edit;
use super::{Project, ScreenFile, WidgetConfig};

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
