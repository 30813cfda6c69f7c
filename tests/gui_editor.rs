//! The screen editor in the real app (egui_kittest), with the engine on a real embedded broker:
//! drag a widget from the palette, bind it to a topic dragged from the topic browser, label it
//! in the inspector, save, reload → the same screen file and the live value on the widget.
//! Templates: one faceplate placed twice shows two units' values; a navigation button passes
//! its parameters.

mod common;

use common::gui::{step_until, type_into};

use std::time::Duration;

use common::{Publisher, free_addr_pair, write_project};
use egui::{Modifiers, Pos2, Rect};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use plantview::engine::{self, EngineOptions};
use plantview::gui::PlantViewApp;
use plantview::project::WidgetKind;

/// Press at `from`, move in steps, release at `to` (a real pointer drag).
fn drag(harness: &mut Harness<'_, PlantViewApp>, from: Pos2, to: Pos2) {
    harness.hover_at(from);
    harness.step();
    harness.drag_at(from);
    harness.step();
    for i in 1..=6 {
        harness.hover_at(from + (to - from) * (i as f32 / 6.0));
        harness.step();
    }
    harness.drop_at(to);
    harness.step();
    harness.step();
}

fn rect_of(harness: &Harness<'_, PlantViewApp>, label: &str) -> Rect {
    harness.get_by_label(label).rect()
}

fn app_for(
    dir: &std::path::Path,
    addr: std::net::SocketAddr,
    data: &std::path::Path,
) -> PlantViewApp {
    let project = plantview::project::load(dir).expect("project loads");
    let options = EngineOptions {
        broker_listen: Some(addr),
        data_dir: Some(data.to_owned()),
        simulator: Some(false),
        ..Default::default()
    };
    PlantViewApp::new(engine::start(project, &options).expect("engine"))
}

fn harness(app: PlantViewApp) -> Harness<'static, PlantViewApp> {
    Harness::builder()
        .with_size([1480.0, 900.0])
        .build_ui_state(|ui, app: &mut PlantViewApp| app.ui_root(ui), app)
}

#[test]
fn build_a_screen_from_palette_and_topic_browser_then_save_and_reload() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = tempfile::tempdir().expect("tmp");
    let addr = free_addr_pair();
    write_project(
        dir.path(),
        &format!(
            r#"{{ "format": 1, "name": "Editor test", "broker": {{ "mode": "embedded", "listen": "{addr}" }},
  "tags": [ {{ "name": "Other", "topic": "other/x" }} ], "screen_order": ["main"] }}"#
        ),
        &[(
            "main",
            r#"{ "format": 1, "title": "Main", "widgets": [
  { "id": "title", "kind": "text", "x": 20, "y": 20, "w": 300, "h": 30, "label": "Boiler house" } ] }"#,
        )],
    );
    let mut harness = harness(app_for(dir.path(), addr, data.path()));
    step_until(&mut harness, "engine connected", |h| {
        h.query_by_label_contains("MQTT connected").is_some()
    });
    // A device publishes (retained, as edge gateways do) before anyone looks.
    let mut publisher = Publisher::connect(addr);
    publisher.publish_retained("site/boiler/temp", "55.5", true);

    harness.get_by_label("Edit").click();
    harness.run_steps(3);
    assert!(harness.state().is_editing());

    // 1. Drag a Value widget from the palette onto the canvas.
    let canvas = rect_of(&harness, "Screen canvas");
    let from = rect_of(&harness, "Value").center();
    let drop_at = canvas.center();
    drag(&mut harness, from, drop_at);
    let widget = {
        let ed = harness.state_mut().editor().expect("editor");
        let ws = &ed.doc.screens[0].file.widgets;
        assert_eq!(ws.len(), 2, "one widget placed: {ws:?}");
        assert_eq!(ws[1].kind, WidgetKind::Value);
        assert!(
            ed.selection.contains(&ws[1].id),
            "the new widget is selected"
        );
        ws[1].clone()
    };

    // 2. Drag the topic from the browser onto the new widget: a tag is made and bound.
    harness.get_by_label("Topics").click();
    harness.run_steps(2);
    type_into(&mut harness, "Search", "boiler");
    step_until(&mut harness, "topic row", |h| {
        h.query_by_label("temp").is_some()
    });
    let row = rect_of(&harness, "temp").center();
    // Onto the widget's body: it was dropped with its top-left corner at the pointer.
    drag(&mut harness, row, drop_at + egui::vec2(12.0, 12.0));
    {
        let ed = harness.state_mut().editor().expect("editor");
        let tag = ed
            .doc
            .tag("site.boiler.temp")
            .expect("tag created from the topic");
        assert_eq!(tag.topic, "site/boiler/temp");
        assert_eq!(tag.decoder, plantview::project::Decoder::Number);
        let w = &ed.doc.screens[0].file.widgets[1];
        assert_eq!(w.id, widget.id);
        assert_eq!(
            w.tag.as_deref(),
            Some("site.boiler.temp"),
            "the widget is rebound"
        );
    }

    // 3. Label it in the inspector; a bad number in a field is refused at the field.
    type_into(&mut harness, "Label", "Boiler temp");
    harness.run_steps(2);
    type_into(&mut harness, "Width", "x");
    harness.run_steps(2);
    assert!(harness.query_by_label_contains("is not a number").is_some());
    {
        let ed = harness.state_mut().editor().expect("editor");
        let w = &ed.doc.screens[0].file.widgets[1];
        assert_eq!(w.label, "Boiler temp");
        assert_eq!(w.w, widget.w, "invalid width not applied");
        assert!(ed.is_dirty());
    }
    assert!(harness.query_by_label_contains("Unsaved changes").is_some());

    // 4. Save (Ctrl+S): files written, the engine runs the new tag, the widget shows the value.
    harness.key_press_modifiers(Modifiers::COMMAND, egui::Key::S);
    let saving = std::time::Instant::now();
    harness.step(); // the save and the engine restart happen in this frame
    eprintln!(
        "save + engine restart frame: {} ms",
        saving.elapsed().as_millis()
    );
    harness.step();
    step_until(&mut harness, "live value on the new widget", |h| {
        h.query_by_label_contains("Boiler temp: 55.5").is_some()
    });
    assert!(harness.query_by_label_contains("Unsaved changes").is_none());
    assert!(
        !dir.path()
            .join(plantview::project::edit::RECOVERY_FILE)
            .exists()
    );

    // 5. Reload from disk: the same screen, byte for byte in the stable format.
    let reloaded = plantview::project::load(dir.path()).expect("saved project loads");
    let doc = harness.state_mut().editor().expect("editor").doc.clone();
    assert_eq!(reloaded.screens, doc.screens);
    assert_eq!(reloaded.file, doc.file);
    let on_disk = std::fs::read_to_string(dir.path().join("screens/main.json")).expect("read");
    assert_eq!(
        on_disk,
        plantview::project::to_stable_json(&reloaded.screens[0].file).expect("json")
    );

    // Leave edit mode: the running screen shows the live value too.
    harness.key_press_modifiers(Modifiers::COMMAND, egui::Key::E);
    harness.run_steps(2);
    assert!(!harness.state().is_editing());
    publisher.publish("site/boiler/temp", "61.5");
    step_until(&mut harness, "new value at runtime", |h| {
        h.query_by_label_contains("Boiler temp: 61.5").is_some()
    });

    // Undo after save: back in edit mode, Ctrl+Z removes the label and marks the project dirty.
    harness.key_press_modifiers(Modifiers::COMMAND, egui::Key::E);
    harness.run_steps(2);
    harness.key_press_modifiers(Modifiers::COMMAND, egui::Key::Z);
    harness.run_steps(2);
    let ed = harness.state_mut().editor().expect("editor");
    assert!(
        ed.is_dirty(),
        "undo after save makes the project dirty again"
    );

    // Binding by name: a partial name is refused at the field and the matching tags are
    // offered; picking one binds it.
    harness.get_by_label("Tag").focus();
    harness.step();
    for _ in 0..24 {
        harness.key_press(egui::Key::Backspace);
    }
    harness.step();
    harness.get_by_label("Tag").type_text("oth");
    harness.run_steps(2);
    assert!(
        harness
            .query_by_label_contains("no tag named `oth`")
            .is_some()
    );
    harness.get_by_label("Other").click();
    harness.run_steps(2);
    let ed = harness.state_mut().editor().expect("editor");
    let w = &ed.doc.screens[0].file.widgets[1];
    assert_eq!(w.tag.as_deref(), Some("Other"));
}

#[test]
fn a_template_placed_twice_shows_two_units_and_navigation_passes_parameters() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = tempfile::tempdir().expect("tmp");
    let addr = free_addr_pair();
    write_project(
        dir.path(),
        &format!(
            r#"{{ "format": 1, "name": "Templates", "broker": {{ "mode": "embedded", "listen": "{addr}" }},
  "tags": [
    {{ "name": "AHU1.SupplyTemp", "topic": "ahu1/supply", "unit": "°C", "decimals": 1 }},
    {{ "name": "AHU2.SupplyTemp", "topic": "ahu2/supply", "unit": "°C", "decimals": 1 }}
  ],
  "screen_order": ["overview", "ahu"] }}"#
        ),
        &[
            (
                "overview",
                r#"{ "format": 1, "title": "Overview", "widgets": [
  { "id": "u1", "kind": "template", "x": 20, "y": 60, "w": 400, "h": 200, "screen": "ahu", "params": { "ahu": "AHU1" } },
  { "id": "u2", "kind": "template", "x": 440, "y": 60, "w": 400, "h": 200, "screen": "ahu", "params": { "ahu": "AHU2" } },
  { "id": "go2", "kind": "button", "x": 20, "y": 300, "w": 160, "h": 40, "label": "Open AHU2",
    "action": { "navigate": { "screen": "ahu", "params": { "ahu": "AHU2" } } } } ] }"#,
            ),
            (
                "ahu",
                r#"{ "format": 1, "title": "{ahu} faceplate", "size": [400, 200], "params": { "ahu": "AHU1" }, "template": true,
  "widgets": [ { "id": "t", "kind": "value", "x": 10, "y": 10, "w": 200, "h": 56, "tag": "{ahu}.SupplyTemp", "label": "{ahu} supply" } ] }"#,
            ),
        ],
    );
    assert_eq!(
        plantview::project::validate(&plantview::project::load(dir.path()).expect("loads")),
        []
    );
    let mut harness = harness(app_for(dir.path(), addr, data.path()));
    step_until(&mut harness, "engine connected", |h| {
        h.query_by_label_contains("MQTT connected").is_some()
    });
    let mut publisher = Publisher::connect(addr);
    publisher.publish("ahu1/supply", "21.04");
    publisher.publish("ahu2/supply", "23.46");
    step_until(&mut harness, "both units", |h| {
        h.query_by_label_contains("AHU1 supply: 21.0 °C").is_some()
            && h.query_by_label_contains("AHU2 supply: 23.5 °C").is_some()
    });
    // The faceplate is a template: not in the screen list.
    assert!(harness.query_by_label("{ahu} faceplate").is_none());

    harness.get_by_label("Open AHU2").click();
    harness.run_steps(2);
    step_until(&mut harness, "faceplate of AHU2", |h| {
        h.query_by_label_contains("AHU2 supply: 23.5 °C").is_some()
            && h.query_by_label_contains("AHU1 supply").is_none()
    });
    assert!(harness.query_by_label_contains("AHU2 faceplate").is_some());
}

fn small_project(dir: &std::path::Path, addr: std::net::SocketAddr, title: &str) {
    write_project(
        dir,
        &format!(
            r#"{{ "format": 1, "name": "Small", "broker": {{ "mode": "embedded", "listen": "{addr}" }},
  "tags": [ {{ "name": "T", "topic": "t" }} ], "screen_order": ["main"] }}"#
        ),
        &[(
            "main",
            &format!(
                r#"{{ "format": 1, "title": "{title}", "widgets": [
  {{ "id": "v", "kind": "value", "x": 20, "y": 20, "w": 160, "h": 56, "tag": "T", "label": "Temp" }} ] }}"#
            ),
        )],
    );
}

#[test]
fn autosaved_edits_are_offered_back_after_a_crash() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = tempfile::tempdir().expect("tmp");
    let addr = free_addr_pair();
    small_project(dir.path(), addr, "Main");
    // What the editor autosaved before the process died: a second widget.
    let mut edited = plantview::project::load(dir.path()).expect("loads");
    let mut w = edited.screens[0].file.widgets[0].clone();
    w.id = "v2".into();
    w.label = "Recovered widget".into();
    w.y = 100.0;
    edited.screens[0].file.widgets.push(w);
    let bytes = plantview::project::edit::recovery_bytes(&edited).expect("json");
    plantview::project::edit::write_recovery(dir.path(), &bytes).expect("write");

    let mut harness = harness(app_for(dir.path(), addr, data.path()));
    harness.run_steps(2);
    assert!(
        harness
            .query_by_label_contains("Unsaved screen edits from")
            .is_some()
    );
    harness.get_by_label("Restore edits").click();
    harness.run_steps(3);
    assert!(harness.state().is_editing());
    {
        let ed = harness.state_mut().editor().expect("editor");
        assert_eq!(
            ed.doc.screens, edited.screens,
            "the autosaved edits are back"
        );
        assert!(ed.is_dirty(), "recovered edits are unsaved until saved");
    }
    // Saving keeps them and removes the recovery file.
    harness.key_press_modifiers(Modifiers::COMMAND, egui::Key::S);
    harness.run_steps(3);
    assert!(
        !dir.path()
            .join(plantview::project::edit::RECOVERY_FILE)
            .exists()
    );
    let on_disk = plantview::project::load(dir.path()).expect("loads");
    assert_eq!(on_disk.screens, edited.screens);
}

#[test]
fn a_file_changed_on_disk_is_noticed_and_reloaded() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = tempfile::tempdir().expect("tmp");
    let addr = free_addr_pair();
    small_project(dir.path(), addr, "Main");
    let mut harness = harness(app_for(dir.path(), addr, data.path()));
    harness.run_steps(2);
    assert!(harness.query_by_label_contains("changed on disk").is_none());
    // Someone pulls a new version of the screen (another size, so the change is visible even
    // within the file system's timestamp resolution).
    small_project(dir.path(), addr, "Main after git pull");
    step_until(&mut harness, "changed-on-disk banner", |h| {
        std::thread::sleep(Duration::from_millis(50));
        h.query_by_label_contains("Project files changed on disk")
            .is_some()
    });
    harness.get_by_label("Reload from disk").click();
    harness.run_steps(3);
    step_until(&mut harness, "reloaded title", |h| {
        h.query_all_by_label_contains("Main after git pull")
            .next()
            .is_some()
    });
    assert!(harness.query_by_label_contains("changed on disk").is_none());
}

#[test]
fn an_alarm_limit_changed_in_the_editor_applies_on_save() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = tempfile::tempdir().expect("tmp");
    let addr = free_addr_pair();
    write_project(
        dir.path(),
        &format!(
            r#"{{ "format": 1, "name": "Limits", "broker": {{ "mode": "embedded", "listen": "{addr}" }},
  "tags": [ {{ "name": "T", "topic": "t" }} ],
  "alarms": [ {{ "name": "T.Hi", "tag": "T", "kind": "hi", "limit": 30.0, "priority": "high",
                 "message": "T high", "area": "A" }} ],
  "screen_order": ["main"] }}"#
        ),
        &[(
            "main",
            r#"{ "format": 1, "title": "Main", "widgets": [
  { "id": "v", "kind": "value", "x": 20, "y": 20, "w": 160, "h": 56, "tag": "T", "label": "T" } ] }"#,
        )],
    );
    let mut harness = harness(app_for(dir.path(), addr, data.path()));
    harness.run_steps(2);
    harness.get_by_label("Edit").click();
    harness.run_steps(2);
    harness.get_by_label("Alarms").click();
    harness.run_steps(2);
    harness.get_by_label("T.Hi").click();
    harness.run_steps(2);
    harness.get_by_label("Limit").set_value_accesskit(35.0);
    harness.run_steps(2);
    {
        let ed = harness.state_mut().editor().expect("editor");
        assert_eq!(
            ed.doc.file.alarms[0].kind,
            plantview::alarms::AlarmKind::Hi { limit: 35.0 }
        );
    }
    harness.key_press_modifiers(Modifiers::COMMAND, egui::Key::S);
    harness.run_steps(3);
    let saved = plantview::project::load(dir.path()).expect("loads");
    assert_eq!(
        saved.file.alarms[0].kind,
        plantview::alarms::AlarmKind::Hi { limit: 35.0 }
    );
    // The restarted engine alarms at the new limit, not the old one.
    let mut publisher = Publisher::connect(addr);
    step_until(&mut harness, "engine connected", |h| {
        h.query_by_label_contains("MQTT connected").is_some()
    });
    publisher.publish("t", "32");
    harness.run_steps(5);
    std::thread::sleep(Duration::from_millis(300));
    harness.run_steps(2);
    assert!(
        harness.query_by_label_contains("HIGH 1").is_none(),
        "32 is below 35"
    );
    publisher.publish("t", "36");
    step_until(&mut harness, "alarm at the new limit", |h| {
        h.query_by_label_contains("HIGH 1").is_some()
    });
}

#[test]
fn canvas_resize_box_select_nudge_align_and_undo() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = tempfile::tempdir().expect("tmp");
    let addr = free_addr_pair();
    write_project(
        dir.path(),
        &format!(
            r#"{{ "format": 1, "name": "Canvas", "broker": {{ "mode": "embedded", "listen": "{addr}" }},
  "tags": [ {{ "name": "T", "topic": "t" }} ], "screen_order": ["main"] }}"#
        ),
        &[(
            "main",
            r#"{ "format": 1, "title": "Main", "widgets": [
  { "id": "a", "kind": "value", "x": 100, "y": 100, "w": 160, "h": 60, "tag": "T", "label": "Alpha" },
  { "id": "b", "kind": "value", "x": 400, "y": 300, "w": 160, "h": 60, "tag": "T", "label": "Beta" } ] }"#,
        )],
    );
    let mut harness = harness(app_for(dir.path(), addr, data.path()));
    harness.run_steps(2);
    harness.get_by_label("Edit").click();
    harness.run_steps(3);
    let widget = |h: &mut Harness<'static, PlantViewApp>, id: &str| {
        let ed = h.state_mut().editor().expect("editor");
        ed.doc.screens[0]
            .file
            .widgets
            .iter()
            .find(|w| w.id == id)
            .cloned()
            .expect("widget")
    };
    // Click Alpha: selected. Drag its bottom-right handle: bigger, on the grid.
    let a = harness.get_by_label_contains("Alpha:").rect();
    let b = harness.get_by_label_contains("Beta:").rect();
    harness.hover_at(a.center());
    harness.step();
    harness.drag_at(a.center());
    harness.step();
    harness.drop_at(a.center());
    harness.run_steps(2);
    assert!(
        harness
            .state_mut()
            .editor()
            .expect("ed")
            .selection
            .contains("a")
    );
    let handle = a.right_bottom() + egui::vec2(2.0, 2.0);
    drag(&mut harness, handle, handle + egui::vec2(60.0, 40.0));
    let resized = widget(&mut harness, "a");
    assert!(resized.w > 160.0 && resized.h > 60.0, "{resized:?}");
    assert_eq!((resized.x, resized.y), (100.0, 100.0), "the top-left stays");
    assert_eq!(
        (resized.w % 10.0, resized.h % 10.0),
        (0.0, 0.0),
        "snapped to the grid"
    );

    // Rubber band around both: both selected.
    let from = a.left_top() - egui::vec2(20.0, 20.0);
    let to = b.right_bottom() + egui::vec2(20.0, 20.0);
    drag(&mut harness, from, to);
    let sel = harness.state_mut().editor().expect("ed").selection.clone();
    assert_eq!(sel.len(), 2, "{sel:?}");

    // Arrows move the selection by 1, Shift+arrow by 10.
    harness.key_press(egui::Key::ArrowRight);
    harness.step();
    harness.key_press_modifiers(Modifiers::SHIFT, egui::Key::ArrowDown);
    harness.step();
    assert_eq!(
        (widget(&mut harness, "a").x, widget(&mut harness, "a").y),
        (101.0, 110.0)
    );
    assert_eq!(
        (widget(&mut harness, "b").x, widget(&mut harness, "b").y),
        (401.0, 310.0)
    );

    // Align top: both at the higher one's y; Ctrl+Z puts Beta back.
    harness.get_by_label("⊤").click();
    harness.run_steps(2);
    assert_eq!(widget(&mut harness, "b").y, 110.0);
    harness.key_press_modifiers(Modifiers::COMMAND, egui::Key::Z);
    harness.run_steps(2);
    assert_eq!(widget(&mut harness, "b").y, 310.0);
}

/// Closing the window with unsaved edits asks: Cancel keeps the window and the edits; Close
/// without saving discards them and closes.
#[test]
fn closing_with_unsaved_edits_asks_first() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = tempfile::tempdir().expect("tmp");
    let addr = free_addr_pair();
    small_project(dir.path(), addr, "Main");
    let mut harness = harness(app_for(dir.path(), addr, data.path()));
    harness.run_steps(2);
    harness.state_mut().set_editing(true);
    harness.run_steps(2);
    harness
        .state_mut()
        .editor()
        .expect("editor")
        .place(WidgetKind::Lamp, [300.0, 300.0]);
    harness.run_steps(2);
    let close = |h: &mut Harness<'static, PlantViewApp>| {
        h.input_mut()
            .viewports
            .entry(egui::ViewportId::ROOT)
            .or_default()
            .events
            .push(egui::ViewportEvent::Close);
        h.run_steps(2);
    };
    let commands = |h: &Harness<'static, PlantViewApp>| {
        h.output()
            .viewport_output
            .get(&egui::ViewportId::ROOT)
            .map(|v| v.commands.clone())
            .unwrap_or_default()
    };
    close(&mut harness);
    assert!(
        harness
            .query_by_label("Save the screen edits before closing?")
            .is_some()
    );
    harness.get_by_label("Cancel").click();
    harness.run_steps(2);
    assert!(
        harness
            .query_by_label("Save the screen edits before closing?")
            .is_none()
    );
    assert!(
        harness.state_mut().editor().expect("editor").is_dirty(),
        "edits kept"
    );

    close(&mut harness);
    harness.get_by_label("Close without saving").click();
    harness.step();
    assert!(
        commands(&harness).contains(&egui::ViewportCommand::Close),
        "the window closes"
    );
    assert!(!harness.state_mut().editor().expect("editor").is_dirty());
    let on_disk = plantview::project::load(dir.path()).expect("loads");
    assert_eq!(on_disk.screens[0].file.widgets.len(), 1, "nothing saved");
}
