//! Trends: pens of tag history and live values over time (ISA-101 look: calm grey, muted pen
//! colours, no alarm colours).
//!
//! Owns the trends page ([`TrendsPage`]), the single-tag trend window ([`TagTrendWindow`]) and
//! the embedded mini trend ([`mini_trend_ui`]). History comes from one named query thread per
//! page ("pv-trend-query", owning the read-only `HistoryReader`) over bounded channels; the
//! live tail comes from the tag store's change feed. Drawing costs O(pixel columns), never
//! O(samples): the historian returns at most one bucket per pixel and each becomes at most
//! two points.
//!
//! Must not: do I/O or wait on the UI thread, send a request per frame, or keep unbounded data.

mod axis;
mod page;
mod query;
mod series;
mod view;
mod window;

pub use page::TrendsPage;
pub use window::{TagTrendWindow, mini_trend_ui};

use egui::Color32;

use crate::gui::theme::Theme;

/// Range presets (label, window length).
pub const PRESETS: [(&str, i64); 5] = [
    ("10 min", 10 * 60_000),
    ("1 h", 3_600_000),
    ("8 h", 8 * 3_600_000),
    ("24 h", 24 * 3_600_000),
    ("7 d", 7 * 24 * 3_600_000),
];

/// Pens per page at most (one colour each).
pub const MAX_PENS: usize = 10;

/// The pen colours for a theme (defined in `gui::theme`).
pub fn pen_palette(theme: &Theme) -> &[Color32; MAX_PENS] {
    &theme.pens
}
