//! The statistics table of the analysis view: per pen over the visible range, min, max, mean,
//! time-weighted mean, standard deviation, count, time in alarm, first and last. Computed
//! exactly from the raw samples on a `pv-stats-query` thread; a newer range stops an older scan.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender};

use egui::{Grid, RichText, Ui};

use crate::gui::format::format_number;
use crate::gui::theme::Theme;
use crate::history::{HistoryReader, RangeStats, range_stats};

/// What the table is asked for.
#[derive(Clone, Debug, PartialEq)]
struct Ask {
    pens: Vec<String>,
    from_ms: i64,
    to_ms: i64,
}

/// One pen's line of the table.
#[derive(Clone, Debug, PartialEq)]
pub struct PenStats {
    pub pen: String,
    pub stats: RangeStats,
    /// Time in an active alarm of this tag within the range (from the alarm journal beside the
    /// history file), when there is a journal.
    pub in_alarm_ms: Option<i64>,
}

pub struct StatsTable {
    tx: SyncSender<(u64, Ask)>,
    rx: Receiver<(u64, Result<Vec<PenStats>, String>)>,
    /// The newest request; the worker drops work for older ones.
    latest: Arc<AtomicU64>,
    asked: Option<Ask>,
    /// The answer for `asked` (None while computing).
    shown: Option<(Ask, Vec<PenStats>)>,
    error: Option<String>,
}

impl StatsTable {
    pub fn start(history: &Path) -> std::io::Result<Self> {
        let (tx, jobs) = std::sync::mpsc::sync_channel::<(u64, Ask)>(4);
        let (done, rx) = std::sync::mpsc::sync_channel(4);
        let latest = Arc::new(AtomicU64::new(0));
        let path = history.to_owned();
        let newest = latest.clone();
        std::thread::Builder::new()
            .name("pv-stats-query".to_owned())
            .spawn(move || {
                let reader = HistoryReader::open(&path);
                while let Ok((n, ask)) = jobs.recv() {
                    if n != newest.load(Ordering::Acquire) {
                        continue;
                    }
                    let answer = match &reader {
                        Ok(r) => compute(r, &path, &ask, &|| n != newest.load(Ordering::Acquire)),
                        Err(e) => Err(e.to_string()),
                    };
                    if let Some(answer) = answer.transpose()
                        && done.send((n, answer)).is_err()
                    {
                        break;
                    }
                }
            })?;
        Ok(Self {
            tx,
            rx,
            latest,
            asked: None,
            shown: None,
            error: None,
        })
    }

    /// The statistics now on show (tests read the table through this, and through the labels).
    pub fn shown(&self) -> Option<&[PenStats]> {
        self.shown.as_ref().map(|(_, s)| s.as_slice())
    }

    /// Ask for `pens` over `[from, to)` if that is not what is asked already.
    pub fn update(&mut self, pens: Vec<String>, from_ms: i64, to_ms: i64) {
        let ask = Ask {
            pens,
            from_ms,
            to_ms,
        };
        if self.asked.as_ref() == Some(&ask) {
            return;
        }
        let n = self.latest.fetch_add(1, Ordering::AcqRel) + 1;
        if self.tx.try_send((n, ask.clone())).is_ok() {
            self.asked = Some(ask);
        }
        while let Ok((got, answer)) = self.rx.try_recv() {
            self.take(got, answer);
        }
    }

    fn take(&mut self, n: u64, answer: Result<Vec<PenStats>, String>) {
        if n != self.latest.load(Ordering::Acquire) {
            return;
        }
        match answer {
            Ok(stats) => {
                if let Some(ask) = &self.asked {
                    self.shown = Some((ask.clone(), stats));
                }
                self.error = None;
            }
            Err(e) => self.error = Some(e),
        }
    }

    fn drain(&mut self) {
        while let Ok((n, answer)) = self.rx.try_recv() {
            self.take(n, answer);
        }
    }

    pub fn ui(&mut self, ui: &mut Ui, theme: &Theme, units: &dyn Fn(&str) -> (String, u8)) {
        self.drain();
        let computing = self.asked.as_ref() != self.shown.as_ref().map(|(a, _)| a);
        ui.horizontal(|ui| {
            ui.label(RichText::new("Statistics of the visible range").strong());
            if computing {
                ui.label(RichText::new("computing…").color(theme.text_dim));
                ui.ctx()
                    .request_repaint_after(std::time::Duration::from_millis(100));
            }
            if let Some(e) = &self.error {
                ui.label(RichText::new(e).color(theme.text_dim));
            }
        });
        let Some((_, rows)) = &self.shown else {
            return;
        };
        Grid::new("stats_table")
            .striped(true)
            .spacing([14.0, 3.0])
            .show(ui, |ui| {
                for h in [
                    "Pen",
                    "Min",
                    "Max",
                    "Mean",
                    "Time-wtd mean",
                    "Std dev",
                    "Count",
                    "In alarm",
                    "First",
                    "Last",
                ] {
                    ui.label(RichText::new(h).color(theme.text_dim));
                }
                ui.end_row();
                for p in rows {
                    let (unit, dec) = units(&p.pen);
                    let num = |v: Option<f64>| {
                        v.map_or_else(
                            || "—".to_owned(),
                            |v| {
                                let n = format_number(v, dec);
                                if unit.is_empty() {
                                    n
                                } else {
                                    format!("{n} {unit}")
                                }
                            },
                        )
                    };
                    let s = &p.stats;
                    ui.label(&p.pen);
                    for (what, v) in [
                        ("min", s.min),
                        ("max", s.max),
                        ("mean", s.mean),
                        ("time-weighted mean", s.time_weighted_mean),
                        ("standard deviation", s.std_dev),
                    ] {
                        let text = num(v);
                        let r = ui.label(RichText::new(&text).monospace());
                        let label = format!("{} {what}: {text}", p.pen);
                        r.widget_info(|| {
                            egui::WidgetInfo::labeled(egui::Role::Label, true, &label)
                        });
                    }
                    let count = ui.label(RichText::new(s.count.to_string()).monospace());
                    let label = format!("{} count: {}", p.pen, s.count);
                    count
                        .widget_info(|| egui::WidgetInfo::labeled(egui::Role::Label, true, &label));
                    ui.label(p.in_alarm_ms.map_or_else(
                        || "no journal".to_owned(),
                        crate::engine::format_duration_ms,
                    ));
                    for fl in [s.first, s.last] {
                        ui.label(fl.map_or_else(
                            || "—".to_owned(),
                            |(t, v)| {
                                format!("{} @ {}", num(Some(v)), crate::gui::format::local_time(t))
                            },
                        ));
                    }
                    ui.end_row();
                }
            });
    }
}

fn compute(
    reader: &HistoryReader,
    history: &Path,
    ask: &Ask,
    stop: &dyn Fn() -> bool,
) -> Result<Option<Vec<PenStats>>, String> {
    let journal = journal_beside(history);
    let mut out = Vec::new();
    for pen in &ask.pens {
        let Some(id) = reader.tag_id(pen).map_err(|e| e.to_string())? else {
            continue;
        };
        let Some(stats) =
            range_stats(reader, id, ask.from_ms, ask.to_ms, stop).map_err(|e| e.to_string())?
        else {
            return Ok(None);
        };
        let in_alarm_ms = journal
            .as_ref()
            .and_then(|j| time_in_alarm(j, pen, ask.from_ms, ask.to_ms).ok());
        out.push(PenStats {
            pen: pen.clone(),
            stats,
            in_alarm_ms,
        });
    }
    Ok(Some(out))
}

/// `alarms.sqlite` in the history file's folder, if there is one.
pub fn journal_beside(history: &Path) -> Option<PathBuf> {
    let p = crate::alarms::journal_path(history.parent()?);
    p.exists().then_some(p)
}

/// Time within `[from, to)` during which an alarm on `tag` had its condition active, from the
/// journal's events (the condition at the range start from the last event before it).
pub fn time_in_alarm(journal: &Path, tag: &str, from_ms: i64, to_ms: i64) -> rusqlite::Result<i64> {
    let conn = crate::alarms::open_reader(journal)?;
    let mut stmt = conn.prepare(
        "SELECT alarm, ts, condition FROM alarm_journal WHERE tag = ?1 AND ts < ?2 ORDER BY ts",
    )?;
    let mut rows = stmt.query(rusqlite::params![tag, to_ms])?;
    // Alarms of the tag whose condition is active, and since when the tag has had one (the
    // union: a Hi and a HiHi at once count once).
    let mut active: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut since: Option<i64> = None;
    let mut total = 0i64;
    while let Some(r) = rows.next()? {
        let (alarm, ts, cond): (String, i64, bool) = (r.get(0)?, r.get(1)?, r.get(2)?);
        let ts = ts.max(from_ms);
        if cond {
            active.insert(alarm);
        } else {
            active.remove(&alarm);
        }
        match (active.is_empty(), since) {
            (false, None) => since = Some(ts),
            (true, Some(t)) => {
                total += (ts - t).max(0);
                since = None;
            }
            _ => {}
        }
    }
    if let Some(t) = since {
        total += (to_ms - t).max(0);
    }
    Ok(total)
}
