//! The property inspector: the selected widget's (or the screen's) settings. Edits apply live
//! as undoable steps (typing in one field is one step); invalid input is refused with the
//! reason under the field and changes nothing.

use std::collections::HashMap;

use egui::{RichText, Ui};

use crate::project::edit::{Edit, ScreenMeta};
use crate::project::template::{params_text, parse_params};
use crate::project::{ButtonAction, Range, WidgetConfig, WidgetKind};

use super::Editor;
use crate::gui::theme::Theme;

#[derive(Default)]
pub struct InspectorState {
    /// Text being typed per field (kept while the selection stays).
    buffers: HashMap<&'static str, String>,
    /// Why the text in a field is refused.
    errors: HashMap<&'static str, String>,
}

impl InspectorState {
    /// Forget the typed texts (the selection or the document changed under them).
    pub fn reset(&mut self) {
        self.buffers.clear();
        self.errors.clear();
    }
}

/// A labelled one-line field. Returns the parsed value when the text changed and is valid.
fn field<T>(
    ui: &mut Ui,
    st: &mut InspectorState,
    key: &'static str,
    label: &str,
    current: &str,
    parse: impl FnOnce(&str) -> Result<T, String>,
    theme: &Theme,
) -> Option<T> {
    let mut out = None;
    ui.horizontal(|ui| {
        let l = ui.add_sized([90.0, 20.0], egui::Label::new(label));
        let buf = st.buffers.entry(key).or_insert_with(|| current.to_owned());
        let r = ui.add(
            egui::TextEdit::singleline(buf)
                .desired_width(f32::INFINITY)
                .id_salt(key),
        );
        let r = r.labelled_by(l.id);
        if r.changed() {
            match parse(buf) {
                Ok(v) => {
                    st.errors.remove(key);
                    out = Some(v);
                }
                Err(e) => {
                    st.errors.insert(key, e);
                }
            }
        }
    });
    if let Some(e) = st.errors.get(key) {
        ui.label(
            RichText::new(format!("⚠ {e}"))
                .color(theme.badge_text)
                .background_color(theme.badge_bg),
        );
    }
    out
}

fn number(text: &str) -> Result<f32, String> {
    #[allow(clippy::cast_possible_truncation)]
    number64(text).map(|v| v as f32)
}

/// A number not below `min` (sizes).
fn at_least(min: f32) -> impl Fn(&str) -> Result<f32, String> {
    move |t| {
        number(t).and_then(|v| {
            if v >= min {
                Ok(v)
            } else {
                Err(format!("at least {min}"))
            }
        })
    }
}

fn number64(text: &str) -> Result<f64, String> {
    let v: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{}` is not a number", text.trim()))?;
    if v.is_finite() {
        Ok(v)
    } else {
        Err("must be a finite number".to_owned())
    }
}

fn optional<T>(
    text: &str,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Result<Option<T>, String> {
    if text.trim().is_empty() {
        Ok(None)
    } else {
        parse(text).map(Some)
    }
}

pub fn inspector_ui(ed: &mut Editor, ui: &mut Ui, theme: &Theme) {
    ui.add_space(6.0);
    egui::ScrollArea::vertical().show(ui, |ui| {
        let sel: Vec<usize> = crate::project::edit::indices_of(&ed.doc, ed.screen, &ed.selection);
        match sel.as_slice() {
            [] => screen_ui(ed, ui, theme),
            [i] => widget_ui(ed, ui, *i, theme),
            many => {
                ui.label(RichText::new(format!("{} widgets selected", many.len())).strong());
                ui.label("Align, distribute and order them with the toolbar; move them with the mouse or the arrow keys (Shift: 10).");
            }
        }
    });
}

fn screen_ui(ed: &mut Editor, ui: &mut Ui, theme: &Theme) {
    let Some(screen) = ed.doc.screens.get(ed.screen) else {
        return;
    };
    let index = ed.screen;
    let meta = ScreenMeta::of(&screen.file);
    ui.label(RichText::new(format!("Screen `{}`", screen.id)).strong());
    ui.add_space(4.0);
    let st = &mut ed.inspector;
    let mut new = None;
    if let Some(t) = field(
        ui,
        st,
        "screen.title",
        "Title",
        &meta.title,
        |t| {
            if t.trim().is_empty() {
                Err("a screen needs a title".to_owned())
            } else {
                Ok(t.to_owned())
            }
        },
        theme,
    ) {
        new = Some(ScreenMeta {
            title: t,
            ..meta.clone()
        });
    }
    if let Some(w) = field(
        ui,
        st,
        "screen.w",
        "Width",
        &meta.size[0].to_string(),
        at_least(100.0),
        theme,
    ) {
        new = Some(ScreenMeta {
            size: [w, meta.size[1]],
            ..meta.clone()
        });
    }
    if let Some(h) = field(
        ui,
        st,
        "screen.h",
        "Height",
        &meta.size[1].to_string(),
        at_least(100.0),
        theme,
    ) {
        new = Some(ScreenMeta {
            size: [meta.size[0], h],
            ..meta.clone()
        });
    }
    if let Some(p) = field(
        ui,
        st,
        "screen.params",
        "Parameters",
        &params_text(&meta.params),
        parse_params,
        theme,
    ) {
        new = Some(ScreenMeta {
            params: p,
            ..meta.clone()
        });
    }
    let mut template = meta.template;
    if ui
        .checkbox(
            &mut template,
            "Template (faceplate, not in the screen list)",
        )
        .changed()
    {
        new = Some(ScreenMeta {
            template,
            ..meta.clone()
        });
    }
    ui.label(
        RichText::new("Parameters (`ahu=AHU1`) make this screen a template: write `{ahu}` in bindings and labels.")
            .color(theme.text_dim),
    );
    if let Some(meta) = new {
        ed.apply_merging(
            "Screen settings",
            Edit::SetScreenMeta { index, meta },
            Some(format!("screen:{index}")),
        );
    }
}

fn widget_ui(ed: &mut Editor, ui: &mut Ui, index: usize, theme: &Theme) {
    let Some(w) = ed
        .doc
        .screens
        .get(ed.screen)
        .and_then(|s| s.file.widgets.get(index))
    else {
        return;
    };
    let w = w.clone();
    let screen_index = ed.screen;
    ui.label(RichText::new(format!("{} `{}`", w.kind.title(), w.id)).strong());
    ui.add_space(4.0);
    let mut next = w.clone();
    let tags: Vec<String> = ed.doc.file.tags.iter().map(|t| t.name.clone()).collect();
    let screens: Vec<String> = ed.doc.screens.iter().map(|s| s.id.clone()).collect();
    let placeholders: Vec<String> = ed
        .doc
        .screens
        .get(screen_index)
        .map(|s| s.file.params.keys().cloned().collect())
        .unwrap_or_default();
    let st = &mut ed.inspector;
    let known_tag = |t: &str| -> Result<Option<String>, String> {
        let t = t.trim();
        if t.is_empty() {
            return Ok(None);
        }
        let has_param = crate::project::template::placeholders(t).next().is_some();
        if has_param {
            // Checked where the template is used (`plantview check` fills in the values).
            if let Some(p) = crate::project::template::placeholders(t)
                .find(|p| !placeholders.contains(&(*p).to_owned()))
            {
                return Err(format!("`{{{p}}}` is not a parameter of this screen"));
            }
            return Ok(Some(t.to_owned()));
        }
        if tags.iter().any(|n| n == t) {
            Ok(Some(t.to_owned()))
        } else {
            Err(format!("no tag named `{t}`"))
        }
    };

    if let Some(v) = field(
        ui,
        st,
        "label",
        "Label",
        &w.label,
        |t| Ok::<_, String>(t.to_owned()),
        theme,
    ) {
        next.label = v;
    }
    if w.kind.takes_tag() || w.kind == WidgetKind::AlarmList {
        let label = if w.kind == WidgetKind::AlarmList {
            "Tag prefix"
        } else {
            "Tag"
        };
        let parse = |t: &str| {
            if w.kind == WidgetKind::AlarmList {
                Ok(Some(t.trim().to_owned()).filter(|t| !t.is_empty()))
            } else {
                known_tag(t)
            }
        };
        if let Some(v) = field(
            ui,
            st,
            "tag",
            label,
            w.tag.as_deref().unwrap_or(""),
            parse,
            theme,
        ) {
            next.tag = v;
        }
        // While the typed name is not a tag: the tags that contain it, to pick from.
        if st.errors.contains_key("tag")
            && let Some(typed) = st.buffers.get("tag").map(|t| t.trim().to_lowercase())
            && !typed.is_empty()
        {
            let matches: Vec<&String> = tags
                .iter()
                .filter(|n| n.to_lowercase().contains(&typed))
                .take(8)
                .collect();
            ui.horizontal_wrapped(|ui| {
                for name in matches {
                    if ui.small_button(name).clicked() {
                        next.tag = Some(name.clone());
                        st.buffers.insert("tag", name.clone());
                        st.errors.remove("tag");
                    }
                }
            });
        }
    }
    if matches!(
        w.kind,
        WidgetKind::Pump | WidgetKind::Fan | WidgetKind::Valve | WidgetKind::Trend
    ) {
        let label = match w.kind {
            WidgetKind::Valve => "Position tag",
            WidgetKind::Trend => "Second pen",
            _ => "Fault tag",
        };
        if let Some(v) = field(
            ui,
            st,
            "tag2",
            label,
            w.tag2.as_deref().unwrap_or(""),
            known_tag,
            theme,
        ) {
            next.tag2 = v;
        }
    }
    if w.kind.takes_tag() {
        ui.add_space(4.0);
        ui.label(RichText::new("Display (empty: the tag's own)").color(theme.text_dim));
        if let Some(v) = field(
            ui,
            st,
            "unit",
            "Unit",
            w.unit.as_deref().unwrap_or(""),
            |t| Ok::<_, String>(Some(t.to_owned()).filter(|t| !t.is_empty())),
            theme,
        ) {
            next.unit = v;
        }
        let dec = w.decimals.map(|d| d.to_string()).unwrap_or_default();
        if let Some(v) = field(
            ui,
            st,
            "decimals",
            "Decimals",
            &dec,
            |t| {
                optional(t, |t| {
                    t.trim()
                        .parse::<u8>()
                        .ok()
                        .filter(|d| *d <= 9)
                        .ok_or_else(|| "a whole number 0–9".to_owned())
                })
            },
            theme,
        ) {
            next.decimals = v;
        }
        let range = w
            .range
            .map(|r| format!("{} .. {}", r.min, r.max))
            .unwrap_or_default();
        if let Some(v) = field(
            ui,
            st,
            "range",
            "Range",
            &range,
            |t| {
                optional(t, |t| {
                    let (a, b) = t
                        .split_once("..")
                        .ok_or_else(|| "write min .. max, e.g. 0 .. 100".to_owned())?;
                    let (min, max) = (number64(a)?, number64(b)?);
                    if min < max {
                        Ok(Range { min, max })
                    } else {
                        Err("min must be below max".to_owned())
                    }
                })
            },
            theme,
        ) {
            next.range = v;
        }
        let states = w
            .states
            .as_ref()
            .map(|[a, b]| format!("{a} / {b}"))
            .unwrap_or_default();
        if let Some(v) = field(
            ui,
            st,
            "states",
            "State texts",
            &states,
            |t| {
                optional(t, |t| {
                    let (a, b) = t.split_once('/').ok_or_else(|| {
                        "write off-text / on-text, e.g. Stopped / Running".to_owned()
                    })?;
                    Ok([a.trim().to_owned(), b.trim().to_owned()])
                })
            },
            theme,
        ) {
            next.states = v;
        }
    }
    if matches!(w.kind, WidgetKind::Bar | WidgetKind::Pipe) {
        let text = if w.kind == WidgetKind::Bar {
            "Vertical"
        } else {
            "Reverse flow"
        };
        ui.checkbox(&mut next.vertical, text);
    }
    if w.kind == WidgetKind::Button {
        action_ui(ui, st, &w, &mut next, &screens, theme);
    }
    if w.kind == WidgetKind::Image
        && let Some(v) = field(
            ui,
            st,
            "image",
            "Image file",
            w.image.as_deref().unwrap_or(""),
            |t| Ok::<_, String>(Some(t.trim().to_owned()).filter(|t| !t.is_empty())),
            theme,
        )
    {
        next.image = v;
    }
    if w.kind == WidgetKind::Template {
        if let Some(v) = field(
            ui,
            st,
            "template",
            "Template",
            w.screen.as_deref().unwrap_or(""),
            |t| {
                let t = t.trim();
                if screens.iter().any(|s| s == t) {
                    Ok(Some(t.to_owned()))
                } else {
                    Err(format!("no screen `{t}`"))
                }
            },
            theme,
        ) {
            next.screen = v;
        }
        if let Some(v) = field(
            ui,
            st,
            "params",
            "Parameters",
            &params_text(&w.params),
            parse_params,
            theme,
        ) {
            next.params = v;
        }
    }
    ui.add_space(4.0);
    ui.label(RichText::new("Position and size").color(theme.text_dim));
    for (key, label, value) in [
        ("x", "X", w.x),
        ("y", "Y", w.y),
        ("w", "Width", w.w),
        ("h", "Height", w.h),
    ] {
        let min = if matches!(key, "w" | "h") {
            4.0
        } else {
            -10_000.0
        };
        if let Some(v) = field(ui, st, key, label, &value.to_string(), at_least(min), theme) {
            match key {
                "x" => next.x = v,
                "y" => next.y = v,
                "w" => next.w = v,
                _ => next.h = v,
            }
        }
    }
    if next != w {
        let key = format!("{screen_index}:{}", w.id);
        ed.apply_merging(
            &format!("Edit {}", w.id),
            Edit::SetWidget {
                screen: screen_index,
                index,
                widget: next,
            },
            Some(key),
        );
    }
}

fn action_ui(
    ui: &mut Ui,
    st: &mut InspectorState,
    w: &WidgetConfig,
    next: &mut WidgetConfig,
    screens: &[String],
    theme: &Theme,
) {
    let kinds = ["None", "Navigate", "Write value", "Toggle"];
    let current = match &w.action {
        None => 0,
        Some(ButtonAction::Navigate { .. }) => 1,
        Some(ButtonAction::Write { .. }) => 2,
        Some(ButtonAction::Toggle) => 3,
    };
    let mut chosen = current;
    ui.horizontal(|ui| {
        ui.add_space(94.0);
        egui::ComboBox::new("button_action", "Action")
            .selected_text(kinds[current])
            .show_ui(ui, |ui| {
                for (i, k) in kinds.iter().enumerate() {
                    ui.selectable_value(&mut chosen, i, *k);
                }
            });
    });
    if chosen != current {
        next.action = match chosen {
            1 => Some(ButtonAction::Navigate {
                screen: screens.first().cloned().unwrap_or_default(),
                params: Default::default(),
            }),
            2 => Some(ButtonAction::Write { value: 1.0 }),
            3 => Some(ButtonAction::Toggle),
            _ => None,
        };
        st.reset();
        return;
    }
    match &w.action {
        Some(ButtonAction::Navigate { screen, params }) => {
            if let Some(s) = field(
                ui,
                st,
                "nav.screen",
                "Screen",
                screen,
                |t| {
                    let t = t.trim();
                    if screens.iter().any(|s| s == t) {
                        Ok(t.to_owned())
                    } else {
                        Err(format!("no screen `{t}`"))
                    }
                },
                theme,
            ) {
                next.action = Some(ButtonAction::Navigate {
                    screen: s,
                    params: params.clone(),
                });
            }
            if let Some(p) = field(
                ui,
                st,
                "nav.params",
                "Parameters",
                &params_text(params),
                parse_params,
                theme,
            ) {
                next.action = Some(ButtonAction::Navigate {
                    screen: screen.clone(),
                    params: p,
                });
            }
        }
        Some(ButtonAction::Write { value }) => {
            if let Some(v) = field(
                ui,
                st,
                "write.value",
                "Value",
                &value.to_string(),
                number64,
                theme,
            ) {
                next.action = Some(ButtonAction::Write { value: v });
            }
        }
        Some(ButtonAction::Toggle) | None => {}
    }
}
