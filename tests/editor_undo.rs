//! Undo/redo property test of the screen editor's edits: a random sequence of 250 editor
//! operations on the demo project, then undo all → the project equals the original exactly;
//! redo all → it equals the edited one; and saving then loading at random points round-trips
//! byte for byte.

mod common;

use std::collections::BTreeSet;

use plantview::project::edit::{self, AlignTo, Edit, History, ScreenMeta};
use plantview::project::{Project, Screen, ScreenFile, WidgetConfig, WidgetKind};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Kinds that only need a tag (so every state is a valid project that loads).
const KINDS: [WidgetKind; 12] = [
    WidgetKind::Value,
    WidgetKind::Bar,
    WidgetKind::Tank,
    WidgetKind::Pump,
    WidgetKind::Fan,
    WidgetKind::Valve,
    WidgetKind::Lamp,
    WidgetKind::Text,
    WidgetKind::Pipe,
    WidgetKind::Group,
    WidgetKind::Trend,
    WidgetKind::Gauge,
];

fn random_selection(p: &Project, screen: usize, rng: &mut StdRng) -> BTreeSet<String> {
    let ws = &p.screens[screen].file.widgets;
    if ws.is_empty() {
        return BTreeSet::new();
    }
    let n = rng.random_range(1..=4.min(ws.len()));
    (0..n)
        .map(|_| ws[rng.random_range(0..ws.len())].id.clone())
        .collect()
}

/// One random editor operation (as the GUI would build it), or `None` if it changes nothing.
fn random_op(p: &Project, rng: &mut StdRng, n: usize) -> Option<(String, Edit)> {
    let screen = rng.random_range(0..p.screens.len());
    let sel = random_selection(p, screen, rng);
    let tags: Vec<&str> = p.file.tags.iter().map(|t| t.name.as_str()).collect();
    let tag = tags[rng.random_range(0..tags.len())].to_owned();
    let op = rng.random_range(0..14);
    let e = match op {
        0 | 1 => {
            let kind = KINDS[rng.random_range(0..KINDS.len())];
            let s = &p.screens[screen].file;
            let id = edit::unique_widget_id(s, kind.key(), &Default::default());
            let mut w = WidgetConfig::new(
                id,
                kind,
                rng.random_range(0.0..1000.0f32).round(),
                rng.random_range(0.0..700.0f32).round(),
            );
            w.tag = kind.needs_tag().then(|| tag.clone());
            if kind == WidgetKind::Text {
                w.label = format!("label {n}");
            }
            Edit::InsertWidget {
                screen,
                index: rng.random_range(0..=s.widgets.len()),
                widget: w,
            }
        }
        2 => edit::delete_widgets(p, screen, &sel)?,
        3 => {
            let (dx, dy) = (
                rng.random_range(-50.0..50.0f32).round(),
                rng.random_range(-50.0..50.0f32).round(),
            );
            edit::map_widgets(p, screen, &sel, |w| {
                w.x += dx;
                w.y += dy;
            })?
        }
        4 => edit::map_widgets(p, screen, &sel, |w| {
            w.w = (w.w * 1.25).round().max(4.0);
            w.h = (w.h * 0.8).round().max(4.0);
        })?,
        5 => edit::map_widgets(p, screen, &sel, |w| {
            w.label = format!("edited \"{n}\", {{not a parameter}} ∆");
            w.unit = Some("°C".to_owned());
            w.decimals = Some(2);
        })?,
        6 => {
            let to = [
                AlignTo::Left,
                AlignTo::HCenter,
                AlignTo::Right,
                AlignTo::Top,
                AlignTo::VCenter,
                AlignTo::Bottom,
            ][rng.random_range(0..6)];
            edit::align(p, screen, &sel, to)?
        }
        7 => edit::distribute(p, screen, &sel, rng.random_bool(0.5))?,
        8 => edit::restack(p, screen, &sel, rng.random_bool(0.5))?,
        9 => {
            let ws: Vec<WidgetConfig> = p.screens[screen]
                .file
                .widgets
                .iter()
                .filter(|w| sel.contains(&w.id))
                .cloned()
                .collect();
            edit::paste_widgets(p, screen, &ws, [20.0, 20.0])?.0
        }
        10 => {
            let id = edit::unique_screen_id(p, &format!("Screen {n}"));
            let file = ScreenFile {
                format: 1,
                title: format!("Screen {n}"),
                size: [1280.0, 760.0],
                // Widgets copied from a template keep their parameters.
                params: p.screens[screen].file.params.clone(),
                template: false,
                widgets: p.screens[screen]
                    .file
                    .widgets
                    .iter()
                    .take(5)
                    .cloned()
                    .collect(),
            };
            Edit::InsertScreen {
                index: rng.random_range(0..=p.screens.len()),
                screen: Screen { id, file },
            }
        }
        // A screen other screens place or navigate to stays (removing it is a problem
        // `check` reports, not a valid project).
        11 if p.screens.len() > 1 && !referenced(p, &p.screens[screen].id) => {
            Edit::RemoveScreen { index: screen }
        }
        12 if p.screens.len() > 1 => Edit::MoveScreen {
            from: screen,
            to: rng.random_range(0..p.screens.len()),
        },
        _ => {
            let mut meta = ScreenMeta::of(&p.screens[screen].file);
            meta.title = format!("Title {n}");
            meta.size[1] += 10.0;
            Edit::SetScreenMeta {
                index: screen,
                meta,
            }
        }
    };
    Some((format!("op {op}"), e))
}

/// Whether a widget of another screen places `id` or navigates to it.
fn referenced(p: &Project, id: &str) -> bool {
    p.screens.iter().flat_map(|s| &s.file.widgets).any(|w| {
        w.screen.as_deref() == Some(id)
            || matches!(&w.action, Some(plantview::project::ButtonAction::Navigate { screen, .. }) if screen == id)
    })
}

/// Every file of the project as the editor writes it.
fn files(p: &Project) -> Vec<(String, String)> {
    let mut out = vec![(
        "project.json".to_owned(),
        plantview::project::to_stable_json(&p.file).expect("json"),
    )];
    for s in &p.screens {
        out.push((
            format!("screens/{}.json", s.id),
            plantview::project::to_stable_json(&s.file).expect("json"),
        ));
    }
    out
}

/// Save `p` into a fresh folder, load it back: the same project, and every file byte for byte
/// what the editor would write again.
fn round_trip(p: &Project) {
    let dir = tempfile::tempdir().expect("tmp");
    let before = Project {
        dir: dir.path().join("nowhere"),
        ..p.clone()
    };
    edit::save_changes_to(dir.path(), p, &before).expect("save");
    let loaded = plantview::project::load(dir.path()).unwrap_or_else(|e| panic!("reload: {e}"));
    let mut expected = p.clone();
    expected.dir = dir.path().to_owned();
    assert_eq!(loaded, expected, "load(save(p)) == p");
    for (rel, text) in files(&loaded) {
        let on_disk = std::fs::read_to_string(dir.path().join(&rel)).expect("read");
        assert_eq!(on_disk, text, "{rel} round-trips byte for byte");
    }
}

#[test]
fn random_edits_undo_to_the_original_and_redo_to_the_edited() {
    let original = plantview::project::load(&common::demo_project_dir()).expect("demo loads");
    for seed in [1u64, 7, 2026] {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut p = original.clone();
        let mut h = History::default();
        let mut applied = 0;
        let mut n = 0;
        while applied < 250 {
            n += 1;
            let Some((label, e)) = random_op(&p, &mut rng, n) else {
                continue;
            };
            h.apply(&mut p, &label, e)
                .unwrap_or_else(|err| panic!("seed {seed} step {n}: {err}"));
            applied += 1;
            if rng.random_range(0..25) == 0 {
                round_trip(&p);
            }
        }
        assert_ne!(p, original, "the edits changed something");
        round_trip(&p);
        let edited = p.clone();
        let mut undone = 0;
        while h.undo(&mut p).expect("undo") {
            undone += 1;
        }
        assert_eq!(undone, 250);
        assert_eq!(
            p, original,
            "seed {seed}: undo all restores the original exactly"
        );
        assert_eq!(files(&p), files(&original));
        while h.redo(&mut p).expect("redo") {}
        assert_eq!(
            p, edited,
            "seed {seed}: redo all gives the edited project again"
        );
    }
}

#[test]
fn saving_writes_only_changed_files_and_removes_deleted_screens() {
    let dir = tempfile::tempdir().expect("tmp");
    let demo = plantview::project::load(&common::demo_project_dir()).expect("demo loads");
    edit::save_changes_to(
        dir.path(),
        &demo,
        &Project {
            dir: "/nowhere".into(),
            ..demo.clone()
        },
    )
    .expect("copy");
    let saved = plantview::project::load(dir.path()).expect("copy loads");
    let mut p = saved.clone();
    let mut h = History::default();
    let sel: BTreeSet<String> = [p.screens[0].file.widgets[0].id.clone()].into();
    let moved = edit::map_widgets(&p, 0, &sel, |w| w.x += 10.0).expect("moves");
    h.apply(&mut p, "move", moved).expect("applies");
    h.apply(&mut p, "delete screen", Edit::RemoveScreen { index: 1 })
        .expect("applies");
    let report = edit::save_changes(&p, &saved).expect("save");
    let first = format!("screens/{}.json", p.screens[0].id);
    assert_eq!(report.written, [first, "project.json".to_owned()]);
    assert_eq!(
        report.removed,
        [format!("screens/{}.json", saved.screens[1].id)]
    );
    let again = plantview::project::load(dir.path()).expect("loads");
    assert_eq!(again, p);
}
