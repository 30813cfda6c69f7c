//! The trends page's state and data intake: pens, live/historical view, history requests to
//! the query worker (only when the range or width changes, or on a slow live refresh; one in
//! flight per pen; stale answers dropped) and the live tail drained from the change feed.
//!
//! Never blocks: the worker is reached with `try_send`/`try_recv`, the feed with `try_recv`
//! under a time budget. Drawing lives in `view.rs`.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::broadcast::{self, error::TryRecvError};

use crate::engine::{TagChange, TagId, TagStore, Value};
use crate::history::plan;
use crate::project::{Decoder, Project, TagConfig, ValueKind};

use super::query::{QueryWorker, Request};
use super::series::{self, Column, Loaded, Scale, Segments, Tail, TailPoint};
use super::{MAX_PENS, PRESETS};

/// An answer not received after this long no longer blocks a new request.
const IN_FLIGHT_TIMEOUT: Duration = Duration::from_secs(10);
/// A failed query (no file yet, busy) is retried after this long even if nothing changed.
const ERROR_RETRY: Duration = Duration::from_secs(2);
/// Time the UI spends draining the change feed per frame, at most.
const FEED_BUDGET: Duration = Duration::from_millis(3);
/// Narrowest and widest view.
const MIN_SPAN_MS: i64 = 10_000;
const MAX_SPAN_MS: i64 = 400 * 86_400_000;

/// What was last asked of the worker for a pen.
#[derive(Clone, Copy, Debug)]
struct Sent {
    from_ms: i64,
    to_ms: i64,
    max_buckets: usize,
    at: Instant,
}

pub(super) struct Pen {
    pub name: Arc<str>,
    /// Index in the project's tag list.
    pub cfg: usize,
    pub tag: Option<TagId>,
    pub color: usize,
    pub loaded: Option<Loaded>,
    in_flight: Option<(u64, Instant)>,
    sent: Option<Sent>,
    pub tail: Tail,
    /// Tail folded onto the drawing grid (refreshed every frame; a scratch buffer).
    pub tail_cols: Vec<Column>,
    pub error: Option<String>,
}

impl Pen {
    /// History columns (empty before the first answer).
    pub fn history(&self) -> &[Column] {
        self.loaded.as_ref().map_or(&[], |l| &l.columns)
    }

    pub fn prior(&self) -> Option<(i64, f64)> {
        self.loaded.as_ref().and_then(|l| l.prior)
    }
}

/// A trend display: pens from a searchable tag list, live or historical time range, history
/// from the historian, a live tail from the tag store. See the module docs of `gui::trends`.
pub struct TrendsPage {
    pub(super) project: Arc<Project>,
    pub(super) store: Arc<TagStore>,
    feed: broadcast::Receiver<TagChange>,
    worker: Option<QueryWorker>,
    /// Why there is no history (no path, worker could not start).
    pub(super) history_off: Option<String>,
    pub(super) pens: Vec<Pen>,
    pub(super) live: bool,
    pub(super) window_ms: i64,
    /// The range on show when not live.
    pub(super) view: (i64, i64),
    pub(super) normalize: bool,
    pub(super) search: String,
    /// Hide the tag picker (single-tag windows).
    pub(super) compact: bool,
    /// Plot width in physical pixels (the bucket count asked for).
    pub(super) width_px: usize,
    pub(super) cursor_ms: Option<i64>,
    pub(super) id: egui::Id,
    next_request: u64,
    /// Change-feed messages missed because this page was not drained in time.
    pub(super) lagged: u64,
    /// Analysis mode: clicks place two cursors (A, B), the legend shows their values and Δ.
    pub(super) analysis: bool,
    pub(super) cursors: [Option<i64>; 2],
    /// Marks on the time axis: (time, colour, what) — alarm journal entries.
    pub marks: Vec<(i64, egui::Color32, String)>,
    /// Extra lines drawn dashed (another time range laid over this one): (pen, colour, points).
    pub overlay: Vec<(Arc<str>, egui::Color32, Vec<[f64; 2]>)>,
    /// Where the plot was last drawn (points), e.g. to cut it out of a screenshot.
    pub(super) plot_rect: Option<egui::Rect>,
    /// A line under a tag in the picker (analysis: the tag's span and sample count).
    pub tag_notes: std::collections::HashMap<String, String>,
    /// The custom range row: shown, From and To as typed, why they are refused.
    pub(super) range_edit: Option<(String, String, Option<String>)>,
}

impl TrendsPage {
    pub fn new(project: Arc<Project>, store: Arc<TagStore>, history_path: Option<PathBuf>) -> Self {
        static PAGES: AtomicU64 = AtomicU64::new(0);
        let (worker, history_off) = match history_path {
            None => (None, Some("history off".to_owned())),
            Some(path) => match QueryWorker::start(path) {
                Ok(w) => (Some(w), None),
                Err(e) => {
                    tracing::error!("cannot start the trend query thread: {e}");
                    (None, Some(format!("history unavailable: {e}")))
                }
            },
        };
        let window_ms = PRESETS[0].1;
        let now = crate::engine::now_ms();
        Self {
            feed: store.subscribe(),
            project,
            store,
            worker,
            history_off,
            pens: Vec::new(),
            live: true,
            window_ms,
            view: (now - window_ms, now),
            normalize: false,
            search: String::new(),
            compact: false,
            width_px: 1000,
            cursor_ms: None,
            id: egui::Id::unique(("pv-trends", PAGES.fetch_add(1, Ordering::Relaxed))),
            next_request: 1,
            lagged: 0,
            analysis: false,
            cursors: [None, None],
            marks: Vec::new(),
            overlay: Vec::new(),
            plot_rect: None,
            tag_notes: std::collections::HashMap::new(),
            range_edit: None,
        }
    }

    /// Add a pen for a project tag that has numeric or bool values. `false` if the tag is
    /// unknown, text-valued, already a pen, or all pens are used.
    pub fn add_pen(&mut self, tag_name: &str) -> bool {
        if self.pens.len() >= MAX_PENS || self.pens.iter().any(|p| &*p.name == tag_name) {
            return false;
        }
        let Some(cfg) = self
            .project
            .file
            .tags
            .iter()
            .position(|t| t.name == tag_name && trendable(t))
        else {
            return false;
        };
        let color = (0..MAX_PENS)
            .find(|c| !self.pens.iter().any(|p| p.color == *c))
            .unwrap_or(0);
        let tag = self.store.id(tag_name);
        let mut tail = Tail::default();
        // Seed with the current value so a slow tag shows something before its next change.
        if let Some(state) = tag.and_then(|id| self.store.get(id))
            && state.updates > 0
        {
            tail.push(TailPoint {
                ts_ms: state.source_ts_ms,
                value: state.value.as_ref().and_then(Value::as_f64),
                quality: state.quality,
            });
        }
        self.pens.push(Pen {
            name: Arc::from(tag_name),
            cfg,
            tag,
            color,
            loaded: None,
            in_flight: None,
            sent: None,
            tail,
            tail_cols: Vec::new(),
            error: None,
        });
        true
    }

    pub fn remove_pen(&mut self, tag_name: &str) -> bool {
        let before = self.pens.len();
        self.pens.retain(|p| &*p.name != tag_name);
        self.pens.len() != before
    }

    /// Pen tag names in display order.
    /// Analysis mode: two cursors with Δt and Δvalue per pen.
    pub fn set_analysis(&mut self, on: bool) {
        self.analysis = on;
    }

    /// Where the plot and its legend were last drawn (points).
    pub fn plot_rect(&self) -> Option<egui::Rect> {
        self.plot_rect
    }

    /// Cursor A and B (UTC ms).
    pub fn cursors(&self) -> [Option<i64>; 2] {
        self.cursors
    }

    pub fn set_cursors(&mut self, a: Option<i64>, b: Option<i64>) {
        self.cursors = [a, b];
    }

    /// The lines of every pen over the range on show, as drawn (for an overlay on another
    /// page): (pen, colour index, points).
    pub fn pen_lines(&self, now_ms: i64) -> Vec<(Arc<str>, usize, Vec<[f64; 2]>)> {
        let mut out = Vec::new();
        for pen in &self.pens {
            for l in self.segments(pen, None).lines {
                out.push((pen.name.clone(), pen.color, l));
            }
        }
        let _ = now_ms;
        out
    }

    pub fn pens(&self) -> Vec<String> {
        self.pens.iter().map(|p| p.name.to_string()).collect()
    }

    pub fn is_live(&self) -> bool {
        self.live
    }

    /// Follow now with the current window length.
    pub fn go_live(&mut self) {
        self.live = true;
    }

    /// Freeze the range on show.
    pub fn pause(&mut self) {
        if self.live {
            self.view = self.view_at(crate::engine::now_ms());
            self.live = false;
        }
    }

    /// Show `[from_ms, to_ms)` (historical mode).
    pub fn set_range(&mut self, from_ms: i64, to_ms: i64) {
        let span = (to_ms - from_ms).clamp(MIN_SPAN_MS, MAX_SPAN_MS);
        self.view = (to_ms - span, to_ms);
        self.live = false;
    }

    /// Window length; when paused the end of the range stays put.
    pub fn set_window(&mut self, window_ms: i64) {
        self.window_ms = window_ms.clamp(MIN_SPAN_MS, MAX_SPAN_MS);
        if !self.live {
            self.view = (self.view.1 - self.window_ms, self.view.1);
        }
    }

    pub fn window_ms(&self) -> i64 {
        self.window_ms
    }

    /// The range on show at `now_ms`.
    pub fn view_at(&self, now_ms: i64) -> (i64, i64) {
        if self.live {
            (now_ms - self.window_ms, now_ms)
        } else {
            self.view
        }
    }

    /// Scale each pen to 0–100 % of its engineering range instead of one shared axis.
    pub fn set_normalize(&mut self, on: bool) {
        self.normalize = on;
    }

    /// Hide the tag picker (a single-tag trend window).
    pub fn set_compact(&mut self, on: bool) {
        self.compact = on;
    }

    /// History buckets the worker delivered for a pen (0 before the first answer).
    pub fn loaded_buckets(&self, pen: &str) -> usize {
        self.pen(pen).map_or(0, |p| p.history().len())
    }

    /// Smallest and largest good value in the loaded history of a pen (not the live tail).
    pub fn history_range(&self, pen: &str) -> Option<(f64, f64)> {
        self.pen(pen).and_then(|p| series::data_range(p.history()))
    }

    /// Live values held for a pen.
    pub fn tail_len(&self, pen: &str) -> usize {
        self.pen(pen).map_or(0, |p| p.tail.len())
    }

    /// History requests sent to the worker so far (they follow range and width changes and
    /// the live refresh, never the frame rate).
    pub fn requests_sent(&self) -> u64 {
        self.next_request - 1
    }

    /// Plot width in physical pixels, as last drawn (the bucket count requested).
    pub fn plot_width_px(&self) -> usize {
        self.width_px
    }

    /// The value the cursor readout shows for `pen` at `ts_ms` (unscaled), `None` in a gap.
    pub fn value_at(&self, pen: &str, ts_ms: i64) -> Option<f64> {
        let p = self.pen(pen)?;
        series::value_at(
            p.prior(),
            p.history(),
            &p.tail_cols,
            ts_ms,
            crate::engine::now_ms(),
        )
    }

    /// (line segments, points) drawn for a pen as of the last frame.
    pub fn line_stats(&self, pen: &str) -> Option<(usize, usize)> {
        let p = self.pen(pen)?;
        let s = self.segments(p, None);
        Some((s.lines.len(), s.points()))
    }

    fn pen(&self, name: &str) -> Option<&Pen> {
        self.pens.iter().find(|p| &*p.name == name)
    }

    pub(super) fn cfg(&self, pen: &Pen) -> Option<&TagConfig> {
        self.project.file.tags.get(pen.cfg)
    }

    /// The scale a pen is drawn with (normalize: its engineering range, else its data range).
    pub(super) fn scale(&self, pen: &Pen) -> Scale {
        if !self.normalize {
            return Scale::IDENTITY;
        }
        let range = self
            .cfg(pen)
            .and_then(|c| c.range)
            .map(|r| (r.min, r.max))
            .or_else(|| series::data_range(pen.history()));
        range.map_or(Scale::IDENTITY, |(lo, hi)| Scale::percent_of(lo, hi))
    }

    pub(super) fn segments(&self, pen: &Pen, hold_until_ms: Option<i64>) -> Segments {
        series::build_segments(
            pen.prior(),
            series::merged_columns(pen.history(), &pen.tail_cols),
            self.scale(pen),
            hold_until_ms,
        )
    }

    /// Take answers and send requests without drawing (a page laid over another one).
    pub fn tick(&mut self, ctx: &egui::Context) {
        let now = crate::engine::now_ms();
        self.intake(now);
        self.request(ctx, now);
    }

    /// Everything that arrived since the last frame: worker answers and live values.
    pub(super) fn intake(&mut self, now_ms: i64) {
        self.drain_answers();
        self.drain_feed();
        let view = self.view_at(now_ms);
        let fallback_w = plan(view.0, view.1, self.width_px).0;
        let live = self.live;
        for pen in &mut self.pens {
            pen.tail.prune(now_ms);
            // Tail after the last history column, on the history grid.
            let (from, w) = match pen.loaded.as_ref() {
                Some(l) => (l.columns.last().map_or(l.from_ms, |c| c.start), l.width_ms),
                None => (view.0, fallback_w),
            };
            // Live: everything up to now (and device clocks slightly ahead); historical: the view.
            let to = if live { i64::MAX } else { view.1 };
            pen.tail.columns_into(from, to, w, &mut pen.tail_cols);
        }
    }

    fn drain_answers(&mut self) {
        let Some(worker) = &self.worker else {
            return;
        };
        while let Some(answer) = worker.try_recv() {
            let Some(pen) = self.pens.iter_mut().find(|p| p.name == answer.tag) else {
                continue; // pen removed meanwhile
            };
            if pen.in_flight.map(|(id, _)| id) != Some(answer.id) {
                continue; // stale: a newer request superseded it
            }
            pen.in_flight = None;
            match answer.result {
                Ok(loaded) => {
                    pen.loaded = Some(loaded);
                    pen.error = None;
                }
                Err(e) => pen.error = Some(e),
            }
        }
    }

    fn drain_feed(&mut self) {
        let started = Instant::now();
        let mut n = 0u32;
        loop {
            match self.feed.try_recv() {
                Ok(change) => {
                    if let Some(pen) = self.pens.iter_mut().find(|p| p.tag == Some(change.tag)) {
                        pen.tail.push(TailPoint {
                            ts_ms: change.source_ts_ms,
                            value: change.value.as_ref().and_then(Value::as_f64),
                            quality: change.quality,
                        });
                    }
                }
                Err(TryRecvError::Lagged(missed)) => self.lagged += missed,
                Err(TryRecvError::Empty | TryRecvError::Closed) => break,
            }
            n += 1;
            if n.is_multiple_of(1024) && started.elapsed() > FEED_BUDGET {
                break; // the rest next frame
            }
        }
    }

    /// Ask the worker for what the view needs: when the range or width changed (historical),
    /// every bucket width (1–60 s) while live, after an error every few seconds; one request
    /// in flight per pen.
    pub(super) fn request(&mut self, ctx: &egui::Context, now_ms: i64) {
        let Some(worker) = &self.worker else {
            return;
        };
        let (from_ms, to_ms) = self.view_at(now_ms);
        let max_buckets = self.width_px.max(16);
        let refresh = Duration::from_millis(
            u64::try_from(plan(from_ms, to_ms, max_buckets).0.clamp(1_000, 60_000))
                .unwrap_or(1_000),
        );
        for pen in &mut self.pens {
            if let Some((_, at)) = pen.in_flight {
                if at.elapsed() < IN_FLIGHT_TIMEOUT {
                    continue;
                }
                pen.in_flight = None;
            }
            let due = match pen.sent {
                None => true,
                Some(s) => {
                    let changed = if self.live {
                        s.max_buckets != max_buckets
                            || s.to_ms - s.from_ms != to_ms - from_ms
                            || s.at.elapsed() >= refresh
                    } else {
                        (s.from_ms, s.to_ms, s.max_buckets) != (from_ms, to_ms, max_buckets)
                    };
                    changed || (pen.error.is_some() && s.at.elapsed() >= ERROR_RETRY)
                }
            };
            if !due {
                continue;
            }
            let id = self.next_request;
            let request = Request {
                id,
                tag: pen.name.clone(),
                from_ms,
                to_ms,
                max_buckets,
                repaint: Some(ctx.clone()),
            };
            if worker.try_send(request).is_err() {
                break; // queue full or worker gone: try again next frame
            }
            self.next_request += 1;
            let at = Instant::now();
            pen.in_flight = Some((id, at));
            pen.sent = Some(Sent {
                from_ms,
                to_ms,
                max_buckets,
                at,
            });
        }
    }

    /// Whether any pen waits for an answer from the history worker.
    pub fn is_loading(&self) -> bool {
        self.pens.iter().any(|p| p.in_flight.is_some())
    }

    /// Apply a range the user panned or zoomed to.
    pub(super) fn user_range(&mut self, from: f64, to: f64) {
        if !(from.is_finite() && to.is_finite() && to > from) {
            return;
        }
        #[allow(clippy::cast_possible_truncation)]
        let (from, to) = (from.round() as i64, to.round() as i64);
        let span = (to - from).clamp(MIN_SPAN_MS, MAX_SPAN_MS);
        let mid = from / 2 + to / 2;
        self.view = (mid - span / 2, mid - span / 2 + span);
        self.live = false;
    }

    /// Project tags a pen can be made of, filtered by the search text (name or description).
    pub(super) fn candidates(&self, limit: usize) -> Vec<&TagConfig> {
        let needle = self.search.trim().to_lowercase();
        self.project
            .file
            .tags
            .iter()
            .filter(|t| trendable(t))
            .filter(|t| {
                needle.is_empty()
                    || t.name.to_lowercase().contains(&needle)
                    || t.description.to_lowercase().contains(&needle)
            })
            .take(limit)
            .collect()
    }
}

/// Numbers and bools can be trended; text cannot.
fn trendable(t: &TagConfig) -> bool {
    match &t.decoder {
        Decoder::Number | Decoder::Bool => true,
        Decoder::String => false,
        Decoder::Json { value, .. } => *value != ValueKind::String,
    }
}
