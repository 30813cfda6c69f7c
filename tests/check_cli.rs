//! `plantview check` on good and broken projects, and the guarantees of loading and saving:
//! every problem is named with file, field and reason; nothing on disk changes; saving is
//! stable (same model → byte-identical files).

mod common;

use std::path::Path;
use std::process::Command;

use common::{demo_project_dir, write_project};

fn check(dir: &Path) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_plantview"))
        .arg("check")
        .arg(dir)
        .output()
        .expect("run plantview check");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    for entry in walk(dir) {
        let bytes = std::fs::read(&entry).expect("read");
        files.push((entry.display().to_string(), bytes));
    }
    files.sort();
    files
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n == "data") {
                continue;
            }
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

const SCREEN_OK: &str = r#"{
  "format": 1,
  "title": "Main",
  "widgets": [
    { "id": "a", "kind": "value", "x": 10, "y": 10, "w": 100, "h": 40, "tag": "A" }
  ]
}"#;

fn project_with_tags(tags: &str) -> String {
    format!(r#"{{ "format": 1, "name": "P", "tags": [{tags}] }}"#)
}

#[test]
fn demo_project_checks_ok_with_summary() {
    let dir = demo_project_dir();
    let before = snapshot(&dir);
    let (ok, out) = check(&dir);
    assert!(ok, "{out}");
    assert!(
        out.contains("ok") && out.contains("tags") && out.contains("screens"),
        "{out}"
    );
    let project = plantview::project::load(&dir).expect("demo loads");
    assert!(project.file.tags.len() >= 30, "demo has 30+ tags");
    assert!(
        out.contains(&format!("{} tags", project.file.tags.len())),
        "{out}"
    );
    assert_eq!(before, snapshot(&dir), "check must not change any file");
}

#[test]
fn every_problem_is_listed_with_file_field_and_reason() {
    let dir = tempfile::tempdir().expect("tmp");
    let tags = r#"
        { "name": "A", "topic": "x/a" },
        { "name": "A", "topic": "x/#/b" },
        { "name": "C", "topic": "x/c", "decoder": { "kind": "json", "pointer": "nope" } },
        { "name": "D", "topic": "x/d", "range": { "min": 5, "max": 1 } }"#;
    let screen_bad = r#"{
  "format": 1,
  "title": "Bad",
  "widgets": [
    { "id": "a", "kind": "value", "x": 0, "y": 0, "w": 10, "h": 10, "tag": "Missing" },
    { "id": "a", "kind": "lamp", "x": 0, "y": 0, "w": 10, "h": 10 }
  ]
}"#;
    write_project(
        dir.path(),
        &project_with_tags(tags),
        &[("main", SCREEN_OK), ("bad", screen_bad)],
    );
    let before = snapshot(dir.path());
    let (ok, out) = check(dir.path());
    assert!(!ok);
    for expected in [
        "project.json: tags[1].name: duplicate tag name `A`",
        "project.json: tags[1].topic: `x/#/b`: '#' must be the last level",
        "project.json: tags[2].decoder.pointer: `nope` is not a JSON pointer",
        "project.json: tags[3].range: min (5) must be below max (1)",
        "screens/bad.json: widgets[0].tag: bound to unknown tag `Missing`",
        "screens/bad.json: widgets[1].id: duplicate widget id `a`",
        "screens/bad.json: widgets[1].tag: a lamp widget needs a tag",
    ] {
        assert!(out.contains(expected), "missing `{expected}` in:\n{out}");
    }
    assert_eq!(
        before,
        snapshot(dir.path()),
        "check must not change any file"
    );
}

#[test]
fn unknown_field_and_bad_json_name_the_place() {
    let dir = tempfile::tempdir().expect("tmp");
    let project = project_with_tags(r#"{ "name": "A", "topic": "x/a", "colour": "red" }"#);
    let broken_screen = "{\n  \"format\": 1,\n  \"title\": \"Oops\",\n  \"widgets\": [\n    { \"id\": \"a\", }\n  ]\n}\n";
    write_project(dir.path(), &project, &[("broken", broken_screen)]);
    let (ok, out) = check(dir.path());
    assert!(!ok);
    assert!(
        out.contains("project.json: tags[0].colour: unknown field `colour`"),
        "{out}"
    );
    assert!(out.contains("screens/broken.json"), "{out}");
    assert!(
        out.contains("invalid JSON") && out.contains("line 5"),
        "{out}"
    );
}

#[test]
fn newer_format_is_refused_not_misread() {
    let dir = tempfile::tempdir().expect("tmp");
    write_project(dir.path(), r#"{ "format": 99, "name": "Future" }"#, &[]);
    let (ok, out) = check(dir.path());
    assert!(!ok);
    assert!(
        out.contains("project.json: format: format 99 was written by a newer PlantView"),
        "{out}"
    );
}

#[test]
fn saving_is_stable_and_round_trips_the_demo_byte_for_byte() {
    let demo = demo_project_dir();
    let project = plantview::project::load(&demo).expect("demo loads");
    let out = tempfile::tempdir().expect("tmp");
    plantview::project::save_project_file(out.path(), &project.file).expect("save");
    for s in &project.screens {
        plantview::project::save_screen_file(out.path(), &s.id, &s.file).expect("save screen");
    }
    let original = std::fs::read(demo.join("project.json")).expect("read");
    let saved = std::fs::read(out.path().join("project.json")).expect("read");
    assert_eq!(
        String::from_utf8_lossy(&original),
        String::from_utf8_lossy(&saved),
        "demo project.json is in stable form"
    );
    for s in &project.screens {
        let rel = format!("screens/{}.json", s.id);
        assert_eq!(
            std::fs::read(demo.join(&rel)).expect("read"),
            std::fs::read(out.path().join(&rel)).expect("read"),
            "{rel} round-trips byte for byte"
        );
    }
    // Saving the loaded copy again changes nothing.
    let again = plantview::project::load(out.path()).expect("reload");
    assert_eq!(again.file, project.file);
    plantview::project::save_project_file(out.path(), &again.file).expect("save again");
    assert_eq!(
        saved,
        std::fs::read(out.path().join("project.json")).expect("read")
    );
    // No temporary files left behind.
    let leftovers: Vec<_> = std::fs::read_dir(out.path())
        .expect("ls")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn editor_leftovers_are_caught_templates_images_navigation() {
    let dir = tempfile::tempdir().expect("tmp");
    let tags = r#"
        { "name": "AHU1.T", "topic": "a1/t" },
        { "name": "AHU2.T", "topic": "a2/t" }"#;
    let faceplate = r#"{ "format": 1, "title": "{ahu}", "params": { "ahu": "" }, "template": true,
  "widgets": [
    { "id": "t", "kind": "value", "x": 0, "y": 0, "w": 10, "h": 10, "tag": "{ahu}.T" },
    { "id": "u", "kind": "value", "x": 0, "y": 0, "w": 10, "h": 10, "tag": "{unit}.T" }
  ] }"#;
    let overview = r#"{ "format": 1, "title": "Overview", "widgets": [
    { "id": "p1", "kind": "template", "x": 0, "y": 0, "w": 10, "h": 10, "screen": "face", "params": { "ahu": "AHU1" } },
    { "id": "p2", "kind": "template", "x": 0, "y": 0, "w": 10, "h": 10, "screen": "face" },
    { "id": "p3", "kind": "template", "x": 0, "y": 0, "w": 10, "h": 10, "screen": "face", "params": { "ahu": "AHU9", "floor": "2" } },
    { "id": "nav", "kind": "button", "x": 0, "y": 0, "w": 10, "h": 10, "action": { "navigate": { "screen": "nowhere" } } },
    { "id": "img", "kind": "image", "x": 0, "y": 0, "w": 10, "h": 10, "image": "pictures/missing.png" },
    { "id": "esc", "kind": "image", "x": 0, "y": 0, "w": 10, "h": 10, "image": "../../etc/passwd" },
    { "id": "lbl", "kind": "value", "x": 0, "y": 0, "w": 10, "h": 10, "tag": "{ahu}.T" }
  ] }"#;
    write_project(
        dir.path(),
        &project_with_tags(tags),
        &[("face", faceplate), ("overview", overview)],
    );
    let before = snapshot(dir.path());
    let (ok, out) = check(dir.path());
    assert!(!ok);
    for expected in [
        "screens/face.json: widgets[1].tag: placeholder `{unit}` in `{unit}.T` has no value: this screen has no parameter `unit`",
        "screens/overview.json: widgets[1].params: parameter `ahu` of screen `face` needs a value",
        "screens/overview.json: widgets[2].params: screen `face` has no parameter `floor`",
        "screens/overview.json: widgets[2].params: screen `face` widget `t` would show unknown tag `AHU9.T` with these parameters",
        "screens/overview.json: widgets[3].action.navigate: no screen `nowhere`",
        "screens/overview.json: widgets[4].image: image `pictures/missing.png` not found",
        "screens/overview.json: widgets[5].image: `../../etc/passwd` must be a relative path inside the project folder",
        "screens/overview.json: widgets[6].tag: placeholder `{ahu}` in `{ahu}.T` has no value: this screen has no parameter `ahu`",
    ] {
        assert!(out.contains(expected), "missing `{expected}` in:\n{out}");
    }
    // The good placement (p1) is not reported.
    assert!(!out.contains("widgets[0]."), "{out}");
    assert_eq!(
        before,
        snapshot(dir.path()),
        "check must not change any file"
    );
}
