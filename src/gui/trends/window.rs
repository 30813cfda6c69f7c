//! One tag's trend outside the trends page: a window ("Trend <tag>", last hour, live) and a
//! mini trend embedded in a rect of a screen. Both reuse [`TrendsPage`] with one pen.

use std::path::PathBuf;
use std::sync::Arc;

use egui::{Rect, Response, Ui, UiBuilder};

use crate::engine::{TagStore, now_ms};
use crate::gui::theme::Theme;
use crate::project::Project;

use super::page::TrendsPage;

const HOUR_MS: i64 = 3_600_000;

/// A window with one tag's trend, live over the last hour (pan/zoom and presets work as on
/// the page; no tag picker).
pub struct TagTrendWindow {
    tag: String,
    page: TrendsPage,
}

impl TagTrendWindow {
    /// `None` if the tag is unknown or cannot be trended (text).
    pub fn new(
        project: Arc<Project>,
        store: Arc<TagStore>,
        history_path: Option<PathBuf>,
        tag: &str,
    ) -> Option<Self> {
        let mut page = TrendsPage::new(project, store, history_path);
        page.set_compact(true);
        page.set_window(HOUR_MS);
        page.add_pen(tag).then(|| Self {
            tag: tag.to_owned(),
            page,
        })
    }

    pub fn tag(&self) -> &str {
        &self.tag
    }

    pub fn page(&self) -> &TrendsPage {
        &self.page
    }

    pub fn page_mut(&mut self) -> &mut TrendsPage {
        &mut self.page
    }

    /// Draw the window; `false` once the user closed it (drop it then).
    pub fn show(&mut self, ctx: &egui::Context, theme: &Theme) -> bool {
        let mut open = true;
        egui::Window::new(format!("Trend {}", self.tag))
            .id(self.page.id.with("window"))
            .open(&mut open)
            .default_size([760.0, 440.0])
            .pivot(egui::Align2::CENTER_CENTER)
            .default_pos(ctx.content_rect().center())
            .resizable(true)
            .collapsible(false)
            .show(ctx, |ui| self.page.ui(ui, theme));
        open
    }
}

/// A small live trend of `page`'s pens painted into `rect` (no axes, no interaction); the
/// response is clickable (open a [`TagTrendWindow`] on click).
pub fn mini_trend_ui(ui: &mut Ui, rect: Rect, page: &mut TrendsPage, theme: &Theme) -> Response {
    let now = now_ms();
    page.intake(now);
    let response = ui
        .scope_builder(UiBuilder::new().max_rect(rect), |ui| {
            page.plot_ui(ui, theme, now, rect.height(), true)
        })
        .inner;
    page.request(ui.ctx(), now);
    response
}
