//! Backfill: run the demo plant faster than real time and record it straight into a project's
//! history file through the same path live data takes (decode → tag store → history filters),
//! so trends, analysis and reports have days of realistic data at once. Includes an upset in
//! the afternoon of each simulated day and a pump trip, so there is something to find.

use std::path::Path;
use std::sync::Arc;

use crate::engine::{Router, TagStore};
use crate::history::{self, Rule, Sample, TagFilter};
use crate::project::Project;

use super::{Command, Equipment, Group, Plant};

/// What a backfill wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackfillReport {
    pub samples: usize,
    pub from_ms: i64,
    pub to_ms: i64,
}

/// Simulate `[end_ms - hours, end_ms)` at 1 s steps (10 Hz topics are sampled at 1 Hz) and
/// store it in `history_path`. Existing samples at the same times are kept (idempotent).
pub fn backfill(
    project: &Project,
    history_path: &Path,
    hours: f64,
    end_ms: i64,
    prefix: &str,
    seed: u64,
) -> Result<BackfillReport, String> {
    #[allow(clippy::cast_possible_truncation)]
    let steps = (hours * 3600.0).round() as i64;
    let from_ms = (end_ms - steps * 1000).div_euclid(1000) * 1000;
    let tags = &project.file.tags;
    let store = Arc::new(TagStore::new(tags.iter().map(|t| (t.name.as_str(), 0.0))));
    let router = Router::new(tags, store.clone());
    let mut feed = store.subscribe();
    let mut conn = history::open_writer(history_path).map_err(|e| e.to_string())?;
    let names: Vec<(&str, &str)> = tags
        .iter()
        .map(|t| (t.name.as_str(), t.unit.as_str()))
        .collect();
    let ids = history::tag_ids(&conn, &names).map_err(|e| e.to_string())?;
    let mut filters: Vec<TagFilter> = tags
        .iter()
        .zip(&ids)
        .map(|(t, id)| TagFilter::new(Rule::from_config(t), *id))
        .collect();

    let local_offset_s = f64::from(chrono::Local::now().offset().local_minus_utc());
    #[allow(clippy::cast_precision_loss)]
    let time_of_day = ((from_ms / 1000) as f64 + local_offset_s).rem_euclid(86_400.0);
    let mut plant = Plant::new(seed, time_of_day);
    let mut batch: Vec<Sample> = Vec::with_capacity(200_000);
    let mut total = 0;
    for step in 0..steps {
        let ts = from_ms + step * 1000;
        #[allow(clippy::cast_precision_loss)]
        let tod = ((ts / 1000) as f64 + local_offset_s).rem_euclid(86_400.0);
        // Every afternoon at 14:00 the heating valve sticks (20 min); at 03:00 P2 trips for 10 min.
        if (tod - 14.0 * 3600.0).abs() < 0.5 {
            plant.apply(Command::Upset { duration_s: 1200.0 });
        }
        if (tod - 3.0 * 3600.0).abs() < 0.5 {
            plant.apply(Command::Trip(Equipment::P2));
        }
        if (tod - 3.0 * 3600.0 - 600.0).abs() < 0.5 {
            plant.apply(Command::Reset);
        }
        plant.step(1.0);
        for group in Group::ALL {
            if group == Group::Slow && step % 5 != 0 {
                continue;
            }
            for (suffix, payload) in plant.payloads(group, ts) {
                router.route(&format!("{prefix}/{suffix}"), payload.as_bytes(), ts);
            }
        }
        while let Ok(change) = feed.try_recv() {
            if let Some(s) = filters
                .get_mut(change.tag as usize)
                .and_then(|f| f.on_change(&change))
            {
                batch.push(s);
            }
        }
        batch.extend(filters.iter_mut().filter_map(|f| f.on_tick(ts)));
        if batch.len() >= 100_000 {
            total += history::insert_batch(&mut conn, &batch).map_err(|e| e.to_string())?;
            batch.clear();
        }
    }
    total += history::insert_batch(&mut conn, &batch).map_err(|e| e.to_string())?;
    Ok(BackfillReport {
        samples: total,
        from_ms,
        to_ms: from_ms + steps * 1000,
    })
}
