//! A running plant screen: lays the screen's widgets out scaled to fit and paints them with the
//! current tag states.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use egui::{Rect, Sense, Ui, vec2};

use crate::engine::{TagId, TagState, TagStore};
use crate::project::{Project, Screen, TagConfig, WidgetConfig, WidgetKind};

use super::images::{ImageCache, Picture};
use super::theme::Theme;
use super::trends::{TrendsPage, mini_trend_ui};
use super::widgets::{Painting, TagView, trend_plot_rect, widget_ui};

/// The live state of the mini trends on screens (one trend page per widget, made on first
/// sight).
pub struct MiniTrends {
    project: Arc<Project>,
    store: Arc<TagStore>,
    history_path: Option<PathBuf>,
    pages: HashMap<(String, String), TrendsPage>,
    /// Replay: the mini trends end at this time instead of now.
    at_ms: Option<i64>,
}

impl MiniTrends {
    pub fn new(project: Arc<Project>, store: Arc<TagStore>, history_path: Option<PathBuf>) -> Self {
        Self {
            project,
            store,
            history_path,
            pages: HashMap::new(),
            at_ms: None,
        }
    }

    /// Replay: show the ten minutes before `at_ms` (None: live).
    pub fn set_at(&mut self, at_ms: Option<i64>) {
        self.at_ms = at_ms;
    }

    #[allow(clippy::too_many_arguments)]
    fn ui(
        &mut self,
        ui: &mut Ui,
        rect: Rect,
        screen: &str,
        w: &WidgetConfig,
        tag: &Option<String>,
        tag2: &Option<String>,
        theme: &Theme,
    ) {
        let key = (screen.to_owned(), w.id.clone());
        let page = self.pages.entry(key).or_insert_with(|| {
            let mut page = TrendsPage::new(
                self.project.clone(),
                self.store.clone(),
                self.history_path.clone(),
            );
            page.set_compact(true);
            page.set_window(10 * 60_000);
            for tag in tag.iter().chain(tag2.iter()) {
                page.add_pen(tag);
            }
            page
        });
        if let Some(t) = self.at_ms {
            page.set_range(t - 10 * 60_000, t);
        }
        let _ = mini_trend_ui(ui, rect, page, theme);
    }
}

/// What a click on a running screen asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum ScreenAction {
    /// Open the tag's trend window.
    Trend(String),
    /// Open the tag's setpoint dialog.
    Setpoint(String),
    /// Show another screen with template parameters.
    Navigate {
        screen: String,
        params: BTreeMap<String, String>,
    },
    /// Write a fixed value to a tag (a button).
    Write { tag: String, value: f64 },
    /// Write the opposite of a bool tag (a button).
    Toggle { tag: String },
}

/// What painting widgets needs besides the widgets.
pub struct ScreenContext<'a> {
    pub project: &'a Project,
    pub store: &'a TagStore,
    pub theme: &'a Theme,
    pub alarms: Option<&'a crate::alarms::AlarmHandle>,
    pub images: &'a ImageCache,
}

/// Templates placed inside templates stop here (a template placing itself cannot hang).
const MAX_TEMPLATE_DEPTH: usize = 4;

/// Paint `screen` (with template `params`) into the available space. Returns what the operator
/// clicked.
pub fn screen_ui(
    ui: &mut Ui,
    cx: &ScreenContext<'_>,
    screen: &Screen,
    params: &BTreeMap<String, String>,
    minis: &mut MiniTrends,
) -> Option<ScreenAction> {
    let avail = ui.available_rect_before_wrap();
    let (rect, _) = ui.allocate_exact_size(avail.size(), Sense::hover());
    ui.painter().rect_filled(rect, 0.0, cx.theme.screen_bg);
    let [dw, dh] = screen.file.size;
    let scale = (rect.width() / dw).min(rect.height() / dh).max(0.1);
    let origin = rect.center() - vec2(dw, dh) * scale * 0.5;
    let params = crate::project::template::merged(&screen.file.params, params);
    let alarm_of = alarm_marks(ui, cx);
    paint_widgets(
        ui,
        cx,
        &alarm_of,
        &screen.id,
        &screen.file.widgets,
        &params,
        origin,
        scale,
        minis,
        0,
    )
}

type AlarmMarks = HashMap<String, (egui::Color32, u8, bool)>;

/// The most important annunciated alarm per tag (the list is sorted by priority).
pub fn alarm_marks(ui: &Ui, cx: &ScreenContext<'_>) -> AlarmMarks {
    let mut alarm_of: AlarmMarks = HashMap::new();
    if let Some(alarms) = cx.alarms {
        for a in alarms.active() {
            if a.shelved.is_some() || a.suppressed || a.out_of_service {
                continue;
            }
            let n = crate::alarms::Priority::ALL
                .iter()
                .position(|p| *p == a.priority)
                .unwrap_or(3);
            alarm_of.entry(a.tag.clone()).or_insert((
                cx.theme.priority[n],
                u8::try_from(n + 1).unwrap_or(4),
                a.state.is_unacknowledged(),
            ));
        }
        if alarm_of.values().any(|a| a.2) {
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_millis(250));
        }
    }
    alarm_of
}

/// The tag's configuration as this widget shows it (the widget's display overrides applied).
fn shown_config<'a>(cfg: &'a TagConfig, w: &WidgetConfig) -> Cow<'a, TagConfig> {
    if w.unit.is_none() && w.decimals.is_none() && w.range.is_none() && w.states.is_none() {
        return Cow::Borrowed(cfg);
    }
    let mut c = cfg.clone();
    if let Some(u) = &w.unit {
        c.unit.clone_from(u);
    }
    if w.decimals.is_some() {
        c.decimals = w.decimals;
    }
    if w.range.is_some() {
        c.range = w.range;
    }
    if w.states.is_some() {
        c.states.clone_from(&w.states);
    }
    Cow::Owned(c)
}

/// Paint `widgets` placed at `origin` with `scale`, bindings filled from `params`.
#[allow(clippy::too_many_arguments)]
pub fn paint_widgets(
    ui: &mut Ui,
    cx: &ScreenContext<'_>,
    alarm_of: &AlarmMarks,
    screen_id: &str,
    widgets: &[WidgetConfig],
    params: &BTreeMap<String, String>,
    origin: egui::Pos2,
    scale: f32,
    minis: &mut MiniTrends,
    depth: usize,
) -> Option<ScreenAction> {
    let fill = |t: &Option<String>| -> Option<String> {
        t.as_deref()
            .map(|t| crate::project::template::fill(t, params).into_owned())
    };
    // Copy the states these widgets need under one short read lock.
    let names: Vec<(Option<String>, Option<String>)> = widgets
        .iter()
        .map(|w| (fill(&w.tag), fill(&w.tag2)))
        .collect();
    let ids: Vec<(Option<TagId>, Option<TagId>)> = names
        .iter()
        .map(|(a, b)| {
            (
                a.as_deref().and_then(|n| cx.store.id(n)),
                b.as_deref().and_then(|n| cx.store.id(n)),
            )
        })
        .collect();
    let states: HashMap<TagId, TagState> = cx.store.read(|all| {
        ids.iter()
            .flat_map(|(a, b)| a.iter().chain(b.iter()))
            .filter_map(|&id| all.get(id as usize).map(|s| (id, s.clone())))
            .collect()
    });

    let mut action = None;
    for ((w, (id1, id2)), (name1, name2)) in widgets.iter().zip(&ids).zip(&names) {
        let r = Rect::from_min_size(origin + vec2(w.x, w.y) * scale, vec2(w.w, w.h) * scale);
        let cfg1 = id1
            .and_then(|id| cx.project.file.tags.get(id as usize))
            .map(|c| shown_config(c, w));
        let cfg2 = id2.and_then(|id| cx.project.file.tags.get(id as usize));
        let filled;
        let w = if params.is_empty() || !(w.label.contains('{')) {
            w
        } else {
            let mut c = w.clone();
            c.label = crate::project::template::fill(&w.label, params).into_owned();
            filled = c;
            &filled
        };
        let painting = Painting {
            theme: cx.theme,
            scale,
            tag: cfg1
                .as_deref()
                .zip(id1.and_then(|id| states.get(&id)))
                .map(|(cfg, state)| TagView { cfg, state }),
            tag2: cfg2
                .zip(id2.and_then(|id| states.get(&id)))
                .map(|(cfg, state)| TagView { cfg, state }),
            alarm: name1
                .iter()
                .chain(name2.iter())
                .find_map(|t| alarm_of.get(t).copied()),
        };
        let response = widget_ui(ui, r, w, &painting);
        match w.kind {
            WidgetKind::Trend => {
                minis.ui(
                    ui,
                    trend_plot_rect(r, scale),
                    screen_id,
                    w,
                    name1,
                    name2,
                    cx.theme,
                );
            }
            WidgetKind::AlarmList => alarm_list_ui(ui, trend_plot_rect(r, scale), w, cx, scale),
            WidgetKind::Image => image_ui(ui, r, w, cx),
            WidgetKind::Template => {
                let template = w.screen.as_deref().and_then(|id| cx.project.screen(id));
                match template {
                    Some(t) if depth < MAX_TEMPLATE_DEPTH => {
                        let [tw, th] = t.file.size;
                        let inner = (r.width() / tw).min(r.height() / th).max(0.01);
                        let values = crate::project::template::merged(
                            &t.file.params,
                            &w.params
                                .iter()
                                .map(|(k, v)| {
                                    (
                                        k.clone(),
                                        crate::project::template::fill(v, params).into_owned(),
                                    )
                                })
                                .collect(),
                        );
                        // Each placement is its own id scope: the same faceplate twice has
                        // the same widget ids inside.
                        let sub = ui
                            .push_id(&w.id, |ui| {
                                paint_widgets(
                                    ui,
                                    cx,
                                    alarm_of,
                                    &format!("{screen_id}/{}", w.id),
                                    &t.file.widgets,
                                    &values,
                                    r.min,
                                    inner,
                                    minis,
                                    depth + 1,
                                )
                            })
                            .inner;
                        action = action.or(sub);
                    }
                    _ => {
                        ui.painter().text(
                            r.center(),
                            egui::Align2::CENTER_CENTER,
                            format!("template `{}` not found", w.screen.as_deref().unwrap_or("")),
                            super::theme::font(12.0 * scale),
                            cx.theme.text_dim,
                        );
                    }
                }
            }
            _ => {}
        }
        if response.clicked() {
            action = click_action(w, name1.as_deref()).or(action);
        }
    }
    action
}

/// What a click on `w` (bound to `tag`) means.
fn click_action(w: &WidgetConfig, tag: Option<&str>) -> Option<ScreenAction> {
    use crate::project::ButtonAction;
    match (w.kind, &w.action) {
        (WidgetKind::Button, Some(ButtonAction::Navigate { screen, params })) => {
            Some(ScreenAction::Navigate {
                screen: screen.clone(),
                params: params.clone(),
            })
        }
        (WidgetKind::Button, Some(ButtonAction::Write { value })) => Some(ScreenAction::Write {
            tag: tag?.to_owned(),
            value: *value,
        }),
        (WidgetKind::Button, Some(ButtonAction::Toggle)) => Some(ScreenAction::Toggle {
            tag: tag?.to_owned(),
        }),
        (WidgetKind::Button, None) => None,
        (WidgetKind::Setpoint, _) => Some(ScreenAction::Setpoint(tag?.to_owned())),
        _ => Some(ScreenAction::Trend(tag?.to_owned())),
    }
}

/// The active alarms (all, or those whose tag starts with the widget's label) in priority
/// order, one line each.
fn alarm_list_ui(ui: &Ui, rect: Rect, w: &WidgetConfig, cx: &ScreenContext<'_>, scale: f32) {
    let Some(alarms) = cx.alarms else {
        ui.painter().text(
            rect.left_top(),
            egui::Align2::LEFT_TOP,
            "This project defines no alarms",
            super::theme::font(12.0 * scale),
            cx.theme.text_dim,
        );
        return;
    };
    let prefix = w.tag.as_deref().unwrap_or("");
    let line_h = 18.0 * scale;
    let painter = ui.painter().with_clip_rect(rect);
    let list = alarms.active();
    let shown = list
        .iter()
        .filter(|a| a.tag.starts_with(prefix) && a.shelved.is_none() && !a.suppressed);
    let mut y = rect.top();
    let mut n = 0;
    for a in shown {
        if y + line_h > rect.bottom() {
            break;
        }
        let p = crate::alarms::Priority::ALL
            .iter()
            .position(|p| *p == a.priority)
            .unwrap_or(3);
        painter.rect_filled(
            Rect::from_min_size(
                egui::pos2(rect.left(), y + 3.0 * scale),
                vec2(10.0 * scale, 12.0 * scale),
            ),
            1.0,
            cx.theme.priority[p],
        );
        let when = a
            .activated_ms
            .map(super::format::local_time)
            .unwrap_or_default();
        painter.text(
            egui::pos2(rect.left() + 16.0 * scale, y + line_h / 2.0),
            egui::Align2::LEFT_CENTER,
            format!("{when}  {}  {}  {}", a.tag, a.message, a.state.as_str()),
            super::theme::font(12.0 * scale),
            cx.theme.text,
        );
        y += line_h;
        n += 1;
    }
    if n == 0 {
        painter.text(
            rect.left_top(),
            egui::Align2::LEFT_TOP,
            "No active alarms",
            super::theme::font(12.0 * scale),
            cx.theme.text_dim,
        );
    }
}

fn image_ui(ui: &Ui, rect: Rect, w: &WidgetConfig, cx: &ScreenContext<'_>) {
    let path = w.image.as_deref().unwrap_or("");
    let picture = match cx.project.resolve_image(path) {
        Ok(p) => cx.images.get(ui.ctx(), &p),
        Err(e) => Picture::Failed(e),
    };
    match picture {
        Picture::Ready(tex) => {
            // Keep the aspect ratio inside the widget's box.
            let size = tex.size_vec2();
            let k = (rect.width() / size.x).min(rect.height() / size.y);
            let shown = Rect::from_center_size(rect.center(), size * k);
            ui.painter().image(
                tex.id(),
                shown,
                Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0)),
                egui::Color32::WHITE,
            );
        }
        Picture::Loading => {}
        Picture::Failed(e) => {
            ui.painter().rect_stroke(
                rect,
                2.0,
                egui::Stroke::new(1.0, cx.theme.field_stroke),
                egui::StrokeKind::Inside,
            );
            let galley = ui.painter().layout(
                e,
                super::theme::font(11.0),
                cx.theme.text_dim,
                rect.width().max(1.0),
            );
            ui.painter().with_clip_rect(rect).galley(
                rect.left_top() + vec2(4.0, 4.0),
                galley,
                cx.theme.text_dim,
            );
        }
    }
}
