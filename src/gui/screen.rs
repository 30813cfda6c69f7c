//! A running plant screen: lays the screen's widgets out scaled to fit and paints them with the
//! current tag states.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use egui::{Rect, Sense, Ui, vec2};

use crate::engine::{TagId, TagState, TagStore};
use crate::project::{Project, Screen, WidgetConfig, WidgetKind};

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
}

impl MiniTrends {
    pub fn new(project: Arc<Project>, store: Arc<TagStore>, history_path: Option<PathBuf>) -> Self {
        Self {
            project,
            store,
            history_path,
            pages: HashMap::new(),
        }
    }

    fn ui(&mut self, ui: &mut Ui, rect: Rect, screen: &str, w: &WidgetConfig, theme: &Theme) {
        let key = (screen.to_owned(), w.id.clone());
        let page = self.pages.entry(key).or_insert_with(|| {
            let mut page = TrendsPage::new(
                self.project.clone(),
                self.store.clone(),
                self.history_path.clone(),
            );
            page.set_compact(true);
            page.set_window(10 * 60_000);
            for tag in w.tag.iter().chain(w.tag2.iter()) {
                page.add_pen(tag);
            }
            page
        });
        let _ = mini_trend_ui(ui, rect, page, theme);
    }
}

/// Paint `screen` into the available space. Returns the tag the operator clicked, and the kind
/// of widget it was clicked on.
pub fn screen_ui(
    ui: &mut Ui,
    project: &Project,
    store: &TagStore,
    screen: &Screen,
    theme: &Theme,
    minis: &mut MiniTrends,
    alarms: Option<&crate::alarms::AlarmHandle>,
) -> Option<(String, WidgetKind)> {
    // The most important annunciated alarm per tag (the list is sorted by priority).
    let mut alarm_of: HashMap<String, (egui::Color32, u8, bool)> = HashMap::new();
    if let Some(alarms) = alarms {
        for a in alarms.active() {
            if a.shelved.is_some() || a.suppressed || a.out_of_service {
                continue;
            }
            let n = crate::alarms::Priority::ALL
                .iter()
                .position(|p| *p == a.priority)
                .unwrap_or(3);
            alarm_of.entry(a.tag.clone()).or_insert((
                theme.priority[n],
                u8::try_from(n + 1).unwrap_or(4),
                a.state.is_unacknowledged(),
            ));
        }
        if alarm_of.values().any(|a| a.2) {
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_millis(250));
        }
    }
    let avail = ui.available_rect_before_wrap();
    let (rect, _) = ui.allocate_exact_size(avail.size(), Sense::hover());
    ui.painter().rect_filled(rect, 0.0, theme.screen_bg);

    let [dw, dh] = screen.file.size;
    let scale = (rect.width() / dw).min(rect.height() / dh).max(0.1);
    let origin = rect.center() - vec2(dw, dh) * scale * 0.5;

    // Copy the states this screen needs under one short read lock.
    let ids: Vec<(Option<TagId>, Option<TagId>)> = screen
        .file
        .widgets
        .iter()
        .map(|w| {
            (
                w.tag.as_deref().and_then(|n| store.id(n)),
                w.tag2.as_deref().and_then(|n| store.id(n)),
            )
        })
        .collect();
    let states: HashMap<TagId, TagState> = store.read(|all| {
        ids.iter()
            .flat_map(|(a, b)| a.iter().chain(b.iter()))
            .filter_map(|&id| all.get(id as usize).map(|s| (id, s.clone())))
            .collect()
    });
    let view = |id: Option<TagId>| -> Option<TagView<'_>> {
        let id = id?;
        Some(TagView {
            cfg: project.file.tags.get(id as usize)?,
            state: states.get(&id)?,
        })
    };

    let mut clicked = None;
    for (w, (id1, id2)) in screen.file.widgets.iter().zip(&ids) {
        let r = Rect::from_min_size(origin + vec2(w.x, w.y) * scale, vec2(w.w, w.h) * scale);
        let painting = Painting {
            theme,
            scale,
            tag: view(*id1),
            tag2: view(*id2),
            alarm: w
                .tag
                .iter()
                .chain(w.tag2.iter())
                .find_map(|t| alarm_of.get(t).copied()),
        };
        let response = widget_ui(ui, r, w, &painting);
        if w.kind == WidgetKind::Trend {
            minis.ui(ui, trend_plot_rect(r, scale), &screen.id, w, theme);
        }
        if response.clicked()
            && let Some(tag) = &w.tag
        {
            clicked = Some((tag.clone(), w.kind));
        }
    }
    clicked
}
