//! `plantview bench alarms`: the alarm engine under an activation burst (N alarms raised within
//! 1 s: time from the last value until every one is evaluated, journaled and on the active list)
//! and its evaluation throughput beside the engine's ingest decode path, in the same run. Also
//! `alarms-child`, the alarm flood the kill -9 test kills.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::{Rng as _, SeedableRng as _};
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::TryRecvError;
use tokio_util::sync::CancellationToken;

use crate::alarms::{
    self, AlarmConfig, AlarmEngine, AlarmEvent, AlarmHandle, AlarmKind, AlarmState, Evaluator,
    EventKind, Priority,
};
use crate::engine::{Quality, Router, TagChange, TagId, TagStore, Value, now_ms};
use crate::project::TagConfig;

#[derive(Debug, clap::Args)]
pub struct AlarmsArgs {
    /// Alarms (one `hi` alarm per tag) raised in the activation burst.
    #[arg(long, default_value_t = 10_000)]
    pub alarms: usize,
    /// The burst's activations are spread evenly over this many milliseconds.
    #[arg(long, default_value_t = 1_000)]
    pub spread_ms: u64,
    /// Burst rounds (between rounds every alarm is acknowledged and cleared).
    #[arg(long, default_value_t = 3)]
    pub burst_rounds: usize,
    /// Value changes per throughput run (that do not cross a limit; a few more do).
    #[arg(long, default_value_t = 1_000_000)]
    pub changes: usize,
    /// Tags (each with a `hi` alarm) the throughput changes rotate over.
    #[arg(long, default_value_t = 1_000)]
    pub tags: usize,
    /// Throughput rounds (best of N; a shared 2-core machine is noisy).
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    /// Folder for the journals (default: a temporary folder, removed afterwards).
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct AlarmsChildArgs {
    /// Alarm journal to append to (created if missing).
    #[arg(long)]
    pub journal: PathBuf,
    /// `hi` alarms in the flood (tags `Flood.NNNNN`, alarms `Flood.NNNNN.Hi`).
    #[arg(long, default_value_t = 2_000)]
    pub alarms: usize,
    /// Value changes per second, each one crossing its alarm's limit.
    #[arg(long, default_value_t = 5_000)]
    pub rate: u64,
}

/// Every `hi` alarm in the benchmarks trips above this.
const LIMIT: f64 = 50.0;
const HIGH: f64 = 60.0;
const LOW: f64 = 10.0;
/// How long to wait for the alarm engine before calling it stuck.
const PATIENCE: Duration = Duration::from_secs(30);
/// Throughput: a limit-crossing change after this many that do not cross (flow control).
const CHUNK: usize = 16_384;

/// Tag names `{prefix}.NNNNN`, and one `hi` alarm `{prefix}.NNNNN.Hi` per tag (limit 50, no
/// deadband or delays, priority and area cycling). The kill test builds the same definitions.
pub fn hi_alarms(prefix: &str, n: usize) -> (Vec<String>, Vec<AlarmConfig>) {
    let tags: Vec<String> = (0..n).map(|i| format!("{prefix}.{i:05}")).collect();
    let defs = tags
        .iter()
        .enumerate()
        .map(|(i, tag)| AlarmConfig {
            name: format!("{tag}.Hi"),
            tag: tag.clone(),
            kind: AlarmKind::Hi { limit: LIMIT },
            deadband: 0.0,
            on_delay_s: 0.0,
            off_delay_s: 0.0,
            priority: Priority::ALL[i % Priority::ALL.len()],
            message: format!("{tag} high"),
            area: format!("Area{}", i % 8),
            latching: false,
            suppress_when: None,
        })
        .collect();
    (tags, defs)
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("pv-engine")
        .enable_all()
        .build()?)
}

fn store_of(tags: &[String]) -> Arc<TagStore> {
    Arc::new(TagStore::new(tags.iter().map(|t| (t.as_str(), 0.0))))
}

fn tag_id(store: &TagStore, name: &str) -> anyhow::Result<TagId> {
    store
        .id(name)
        .ok_or_else(|| anyhow::anyhow!("no tag `{name}`"))
}

fn set(store: &TagStore, id: TagId, v: f64) {
    let ts = now_ms();
    store.set_value(id, Value::Number(v), ts, ts);
}

/// The next event, waiting until `deadline` (polling: no runtime needed on this thread).
fn next_event(
    rx: &mut broadcast::Receiver<AlarmEvent>,
    deadline: Instant,
) -> anyhow::Result<AlarmEvent> {
    loop {
        match rx.try_recv() {
            Ok(e) => return Ok(e),
            Err(TryRecvError::Empty) => {
                anyhow::ensure!(
                    Instant::now() < deadline,
                    "the alarm engine did not publish in time"
                );
                std::thread::sleep(Duration::from_micros(50));
            }
            Err(TryRecvError::Lagged(n)) => {
                anyhow::bail!("the benchmark's event subscriber lagged by {n} events")
            }
            Err(TryRecvError::Closed) => anyhow::bail!("the alarm engine stopped"),
        }
    }
}

/// Wait until `count` events of `kind` on alarms `wanted` arrived.
fn await_events(
    rx: &mut broadcast::Receiver<AlarmEvent>,
    kind: EventKind,
    count: usize,
    wanted: &dyn Fn(&str) -> bool,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + PATIENCE;
    let mut seen = 0;
    while seen < count {
        let e = next_event(rx, deadline)?;
        if e.kind == kind && wanted(&e.alarm) {
            seen += 1;
        }
    }
    Ok(())
}

fn start_engine(
    journal: &Path,
    defs: &[AlarmConfig],
    store: &Arc<TagStore>,
    rt: &tokio::runtime::Runtime,
) -> anyhow::Result<AlarmHandle> {
    Ok(AlarmEngine::start(
        journal,
        defs,
        store.clone(),
        rt.handle(),
        CancellationToken::new(),
    )?)
}

fn remove_db(path: &Path) {
    for p in [
        path.to_owned(),
        path.with_extension("sqlite-wal"),
        path.with_extension("sqlite-shm"),
    ] {
        let _ = std::fs::remove_file(p);
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The floor under "journaled before shown": one-row commits with the journal's settings (WAL,
/// `synchronous=FULL`) in the same folder. Returns (p50, max) in ms.
fn commit_baseline(dir: &Path) -> anyhow::Result<(f64, f64)> {
    let path = dir.join("commit-baseline.sqlite");
    remove_db(&path);
    let conn = rusqlite::Connection::open(&path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v REAL)")?;
    let mut times: Vec<f64> = (0..30)
        .map(|i| {
            let t = Instant::now();
            conn.execute("INSERT INTO t (v) VALUES (?1)", [f64::from(i)])
                .map(|_| ms(t.elapsed()))
        })
        .collect::<Result<_, _>>()?;
    drop(conn);
    remove_db(&path);
    times.sort_by(f64::total_cmp);
    Ok((times[times.len() / 2], times[times.len() - 1]))
}

pub fn run(args: &AlarmsArgs) -> anyhow::Result<std::process::ExitCode> {
    anyhow::ensure!(args.alarms > 0 && args.tags > 0, "need at least one alarm");
    let tmp;
    let dir: &Path = match &args.dir {
        Some(d) => {
            std::fs::create_dir_all(d)?;
            d
        }
        None => {
            tmp =
                std::env::temp_dir().join(format!("plantview-bench-alarms-{}", std::process::id()));
            std::fs::create_dir_all(&tmp)?;
            &tmp
        }
    };
    println!("# plantview bench alarms — journals in {}", dir.display());
    let rt = runtime()?;
    let burst_ok = burst(args, dir, &rt)?;
    let ratio_ok = throughput(args, dir, &rt)?;
    if args.dir.is_none() {
        let _ = std::fs::remove_dir_all(dir);
    }
    println!(
        "targets: burst ≤ 100 ms {}, evaluation ≥ 10× the engine's MQTT ingest {}",
        if burst_ok { "met" } else { "MISSED" },
        if ratio_ok { "met" } else { "MISSED" }
    );
    Ok(std::process::ExitCode::SUCCESS)
}

/// Part 1: N activations within `spread_ms`; returns whether every round met 100 ms.
fn burst(args: &AlarmsArgs, dir: &Path, rt: &tokio::runtime::Runtime) -> anyhow::Result<bool> {
    let n = args.alarms;
    let (mut tags, defs) = hi_alarms("Burst", n);
    tags.push("Burst.Warmup".to_owned());
    let mut all_defs = defs.clone();
    all_defs.push(AlarmConfig {
        name: "Burst.Warmup.Hi".to_owned(),
        tag: "Burst.Warmup".to_owned(),
        ..defs[0].clone()
    });
    let store = store_of(&tags);
    let ids: Vec<TagId> = tags[..n]
        .iter()
        .map(|t| tag_id(&store, t))
        .collect::<anyhow::Result<_>>()?;
    for &id in &ids {
        set(&store, id, LOW);
    }
    let journal = alarms::journal_path(dir);
    remove_db(&journal);
    let handle = start_engine(&journal, &all_defs, &store, rt)?;
    let mut rx = handle.subscribe();
    let index: HashMap<&str, usize> = defs
        .iter()
        .enumerate()
        .map(|(i, d)| (d.name.as_str(), i))
        .collect();
    let is_burst = |a: &str| index.contains_key(a);

    // Warm up: the engine has taken its start-up resync and journals.
    set(&store, tag_id(&store, "Burst.Warmup")?, HIGH);
    await_events(&mut rx, EventKind::Activate, 1, &|a| a == "Burst.Warmup.Hi")?;
    let reader = alarms::open_reader(&journal)?;
    // Baseline: one activation at a time on an idle engine (no queue in front of it).
    let mut single = Vec::new();
    for &id in ids.iter().take(20) {
        std::thread::sleep(Duration::from_millis(20));
        let t = Instant::now();
        set(&store, id, HIGH);
        await_events(&mut rx, EventKind::Activate, 1, &is_burst)?;
        single.push(ms(t.elapsed()));
        set(&store, id, LOW);
        await_events(&mut rx, EventKind::Clear, 1, &is_burst)?;
    }
    single.sort_by(f64::total_cmp);
    let names: Vec<&str> = defs.iter().map(|d| d.name.as_str()).collect();
    handle.ack(&names[..single.len()], "bench", None)?;
    println!(
        "burst: {n} `hi` alarms activated by set_value spread over {} ms (journal synchronous=FULL)",
        args.spread_ms
    );
    let (c50, cmax) = commit_baseline(dir)?;
    println!(
        "  baseline: one-row SQLite commit, WAL + synchronous=FULL, same folder: p50 {c50:.2} ms, max {cmax:.2} ms"
    );
    println!(
        "  baseline: {} single activations on the idle engine, set→shown: p50 {:.2} ms, max {:.2} ms",
        single.len(),
        single[single.len() / 2],
        single[single.len() - 1]
    );
    let mut all_ok = true;
    for round in 0..args.burst_rounds.max(1) {
        let max_id: i64 =
            reader.query_row("SELECT COALESCE(MAX(id), 0) FROM alarm_journal", [], |r| {
                r.get(0)
            })?;
        let spread = Duration::from_millis(args.spread_ms);
        let base = Instant::now();
        let producer = {
            let store = store.clone();
            let ids = ids.clone();
            std::thread::Builder::new()
                .name("pv-bench-burst".to_owned())
                .spawn(move || {
                    let mut at = Vec::with_capacity(ids.len());
                    let count = ids.len() as u32;
                    for (i, &id) in ids.iter().enumerate() {
                        let due = base + spread * (i as u32) / count;
                        let now = Instant::now();
                        if due > now {
                            std::thread::sleep(due - now);
                        }
                        set(&store, id, HIGH);
                        at.push(Instant::now());
                    }
                    at
                })?
        };
        // Receive every activation, then confirm the active list and the journal.
        let deadline = Instant::now() + PATIENCE;
        let mut shown_at: Vec<Option<Instant>> = vec![None; n];
        let mut seen = 0;
        while seen < n {
            let e = next_event(&mut rx, deadline)?;
            if e.kind == EventKind::Activate
                && let Some(&i) = index.get(&*e.alarm)
                && shown_at[i].is_none()
            {
                shown_at[i] = Some(Instant::now());
                seen += 1;
            }
        }
        let listed = handle
            .active()
            .iter()
            .filter(|a| a.state == AlarmState::UnackActive && is_burst(&a.name))
            .count();
        let journaled: i64 = reader.query_row(
            "SELECT COUNT(*) FROM alarm_journal WHERE id > ?1 AND event = 'activate'",
            [max_id],
            |r| r.get(0),
        )?;
        let done = Instant::now();
        let set_at = producer
            .join()
            .map_err(|_| anyhow::anyhow!("burst thread panicked"))?;
        anyhow::ensure!(listed == n, "active list has {listed} of {n} alarms");
        anyhow::ensure!(
            usize::try_from(journaled).ok() == Some(n),
            "journal has {journaled} of {n} activations"
        );
        let last_set = set_at.iter().copied().max().unwrap_or(base);
        let first_set = set_at.iter().copied().min().unwrap_or(base);
        let mut lat: Vec<f64> = set_at
            .iter()
            .zip(&shown_at)
            .filter_map(|(s, r)| r.map(|r| ms(r.saturating_duration_since(*s))))
            .collect();
        lat.sort_by(f64::total_cmp);
        let pct = |q: f64| {
            #[allow(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                clippy::cast_precision_loss
            )]
            let i = ((lat.len() - 1) as f64 * q).round() as usize;
            lat.get(i).copied().unwrap_or(f64::NAN)
        };
        let after_last = ms(done.saturating_duration_since(last_set));
        all_ok &= after_last <= 100.0;
        println!(
            "  round {}: {n} activations over {:.0} ms: evaluated, journaled and shown within \
             {after_last:.1} ms of the last one  (per activation set→shown p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms)",
            round + 1,
            ms(last_set - first_set),
            pct(0.5),
            pct(0.99),
            pct(1.0)
        );
        let t = Instant::now();
        let _ = handle.active();
        let active_ms = ms(t.elapsed());
        if round == 0 {
            println!(
                "  (one AlarmHandle::active() call with {n} listed alarms: {active_ms:.1} ms)"
            );
        }
        // Back to normal for the next round: acknowledge all, then clear all.
        handle.ack(&names, "bench", None)?;
        for &id in &ids {
            set(&store, id, LOW);
        }
        await_events(&mut rx, EventKind::Clear, n, &is_burst)?;
    }
    let h = handle.health(now_ms());
    anyhow::ensure!(
        h.journal_error.is_none() && h.unjournaled == 0,
        "journal trouble: {:?}, {} unjournaled",
        h.journal_error,
        h.unjournaled
    );
    println!("  lost changes: {}", h.lost_changes);
    handle.stop();
    Ok(all_ok)
}

/// Part 2: evaluation rate beside the ingest decode path; returns whether the ratio is ≥ 10.
fn throughput(args: &AlarmsArgs, dir: &Path, rt: &tokio::runtime::Runtime) -> anyhow::Result<bool> {
    let (m, t) = (args.changes, args.tags);
    let (mut tags, mut defs) = hi_alarms("Rate", t);
    tags.push("Rate.Pace".to_owned());
    defs.push(AlarmConfig {
        name: "Rate.Pace.Hi".to_owned(),
        tag: "Rate.Pace".to_owned(),
        ..defs[0].clone()
    });
    let pace_tag = t as TagId;
    let below = |k: usize| LOW + (k % 39) as f64; // 10 ..= 48: never crosses 50
    println!(
        "throughput: {m} value changes over {t} tags with `hi` alarms, a limit crossing every \
         {CHUNK} changes; best of {}",
        args.rounds.max(1)
    );

    // Baseline: the engine's ingest path for plain number payloads (Router::route: topic
    // lookup, decode, TagStore::set_value, change feed with one subscriber) — no MQTT transport,
    // so it is an upper bound of the MQTT ingest rate.
    let tag_cfgs: Vec<TagConfig> = tags
        .iter()
        .map(|name| {
            serde_json::from_value(serde_json::json!({
                "name": name, "topic": format!("bench/{name}"), "stale_after_s": 0
            }))
        })
        .collect::<Result<_, _>>()?;
    let topics: Vec<String> = tag_cfgs.iter().map(|c| c.topic.clone()).collect();
    let payloads: Vec<String> = (0..64).map(|k| format!("{:.2}", below(k) + 0.25)).collect();
    let ingest_store = store_of(&tags);
    let _idle = ingest_store.subscribe();
    let router = Router::new(&tag_cfgs, ingest_store.clone());

    // Evaluation alone: the alarm thread's work per change (Evaluator::on_change), over `m`
    // distinct pre-built changes streamed from memory (cold), and over two chunks evaluated
    // again and again (warm in cache, like the baseline's topics and payloads).
    let eval_store = store_of(&tags);
    let changes: Vec<TagChange> = (0..m)
        .map(|k| {
            let crossing = k % CHUNK == CHUNK - 1;
            let (tag, v) = if crossing {
                (
                    pace_tag,
                    if (k / CHUNK).is_multiple_of(2) {
                        HIGH
                    } else {
                        LOW
                    },
                )
            } else {
                ((k % t) as TagId, below(k))
            };
            TagChange {
                tag,
                value: Some(Value::Number(v)),
                quality: Quality::Good,
                source_ts_ms: 1_700_000_000_000 + k as i64,
                recv_ts_ms: 1_700_000_000_000 + k as i64,
            }
        })
        .collect();

    let warm = &changes[..(2 * CHUNK).min(m)];
    let (mut ingest, mut eval, mut eval_warm, mut e2e) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut lost = 0;
    for round in 0..args.rounds.max(1) {
        let start = Instant::now();
        let mut fed = 0;
        for k in 0..m {
            fed += router.route(
                &topics[k % t],
                payloads[k % payloads.len()].as_bytes(),
                now_ms(),
            );
        }
        ingest.push(m as f64 / start.elapsed().as_secs_f64());
        anyhow::ensure!(fed == m, "ingest fed {fed} of {m} tags");

        eval.push(evaluate(&defs, &eval_store, changes.iter(), m)?);
        eval_warm.push(evaluate(
            &defs,
            &eval_store,
            warm.iter().cycle().take(m),
            m,
        )?);

        let (rate, l) = end_to_end(m, t, pace_tag, &tags, &defs, dir, rt, round)?;
        e2e.push(rate);
        lost += l;
    }
    let best = |v: &[f64]| v.iter().copied().fold(0.0, f64::max);
    let list = |v: &[f64]| {
        v.iter()
            .map(|x| format!("{x:.0}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (bi, be, bw, bx) = (best(&ingest), best(&eval), best(&eval_warm), best(&e2e));
    println!(
        "  ingest baseline (Router::route → TagStore, plain numbers): best {bi:>11.0} changes/s  [{}]",
        list(&ingest)
    );
    println!(
        "  alarm evaluation, cold (Evaluator::on_change, {m} distinct changes): best {be:>11.0} changes/s  [{}]",
        list(&eval)
    );
    println!(
        "  alarm evaluation, warm (the same {} changes again and again):   best {bw:>11.0} changes/s  [{}]",
        warm.len(),
        list(&eval_warm)
    );
    println!(
        "  alarm engine end to end (set_value → feed → evaluate → journal crossings): best {bx:.0} changes/s  [{}], lost changes {lost}",
        list(&e2e)
    );
    println!(
        "  ratio evaluation / ingest (best / best): cold {:.1}×, warm {:.1}×",
        be / bi,
        bw / bi
    );
    println!(
        "  ratio end to end / ingest (bounded by the feed): {:>8.2}×",
        bx / bi
    );
    // The engine's real ingest: MQTT through the embedded broker into the tag store.
    let mqtt = super::ingest::engine_mqtt_rate(300_000)?;
    println!(
        "  engine MQTT ingest (embedded broker → tag store, 300k messages): {mqtt:>11.0} msg/s"
    );
    println!(
        "  ratio evaluation / engine MQTT ingest: cold {:.0}×, warm {:.0}×; end to end {:.0}×",
        be / mqtt,
        bw / mqtt,
        bx / mqtt
    );
    Ok(be / mqtt >= 10.0)
}

/// Evaluate `m` changes from `source` on a fresh evaluator; changes/s.
fn evaluate<'a>(
    defs: &[AlarmConfig],
    store: &TagStore,
    source: impl Iterator<Item = &'a TagChange>,
    m: usize,
) -> anyhow::Result<f64> {
    let defs: Arc<[AlarmConfig]> = defs.into();
    let mut ev = Evaluator::new(defs, &|n| store.id(n), &HashMap::new());
    let mut out = Vec::new();
    let mut events = 0;
    let start = Instant::now();
    for c in source {
        ev.on_change(c, &mut out);
        if out.len() >= 4096 {
            events += out.len();
            out.clear();
        }
    }
    let rate = m as f64 / start.elapsed().as_secs_f64();
    events += out.len();
    anyhow::ensure!(events == m / CHUNK, "evaluator raised {events} events");
    Ok(rate)
}

/// Value changes through a running alarm engine: `set_value` on this thread, the change feed,
/// the feed task, the alarm thread. Every `CHUNK` changes one crossing of `Rate.Pace.Hi` (journaled
/// and published); the writer stays at most one chunk ahead of the published crossings so the
/// 65,536-deep feed never overruns. Returns (changes/s, changes the engine lost).
#[allow(clippy::too_many_arguments)]
fn end_to_end(
    m: usize,
    t: usize,
    pace_tag: TagId,
    tags: &[String],
    defs: &[AlarmConfig],
    dir: &Path,
    rt: &tokio::runtime::Runtime,
    round: usize,
) -> anyhow::Result<(f64, u64)> {
    let store = store_of(tags);
    for id in 0..=pace_tag {
        set(&store, id, LOW);
    }
    let journal = dir.join(format!("throughput-{round}.sqlite"));
    remove_db(&journal);
    let handle = start_engine(&journal, defs, &store, rt)?;
    let mut rx = handle.subscribe();
    let is_pace = |a: &str| a == "Rate.Pace.Hi";
    set(&store, pace_tag, HIGH);
    await_events(&mut rx, EventKind::Activate, 1, &is_pace)?;

    let mut high = true;
    let (mut sent, mut seen) = (0usize, 0usize);
    let deadline = Instant::now() + PATIENCE;
    let start = Instant::now();
    let mut k = 0;
    while k < m {
        let end = (k + CHUNK - 1).min(m);
        for j in k..end {
            set(&store, (j % t) as TagId, LOW + (j % 39) as f64);
        }
        high = !high;
        set(&store, pace_tag, if high { HIGH } else { LOW });
        sent += 1;
        k = end;
        while seen + 1 < sent {
            if is_pace(&next_event(&mut rx, deadline)?.alarm) {
                seen += 1;
            }
        }
    }
    while seen < sent {
        if is_pace(&next_event(&mut rx, deadline)?.alarm) {
            seen += 1;
        }
    }
    let rate = (m + sent) as f64 / start.elapsed().as_secs_f64();
    let lost = handle.health(now_ms()).lost_changes;
    handle.stop();
    remove_db(&journal);
    Ok((rate, lost))
}

/// An alarm flood on `journal` forever (until killed): `rate` value changes per second on random
/// tags of `alarms` `hi` alarms, each crossing the limit (activate / clear), and acknowledgements
/// of up to 20 unacknowledged alarms every 25 ms. Prints `started rows=N` and then every 20 ms
/// `progress sets=S shown=R active=A`, where R counts journal rows known to be committed: the
/// rows at start plus every event the engine has published (it publishes only after the commit).
pub fn child(args: &AlarmsChildArgs) -> anyhow::Result<std::process::ExitCode> {
    anyhow::ensure!(args.alarms > 0, "need at least one alarm");
    let (tags, defs) = hi_alarms("Flood", args.alarms);
    let rows: i64 = {
        let conn = alarms::open_writer(&args.journal)?;
        conn.query_row("SELECT COUNT(*) FROM alarm_journal", [], |r| r.get(0))?
    };
    let rows = u64::try_from(rows).unwrap_or(0);
    let store = store_of(&tags);
    let rt = runtime()?;
    let handle = start_engine(&args.journal, &defs, &store, &rt)?;
    let shown = Arc::new(AtomicU64::new(rows));
    let mut rx = handle.subscribe();
    println!("started rows={rows}");
    std::thread::Builder::new()
        .name("pv-bench-events".to_owned())
        .spawn({
            let shown = shown.clone();
            move || {
                use tokio::sync::broadcast::error::RecvError;
                loop {
                    match rx.blocking_recv() {
                        Ok(_) => shown.fetch_add(1, Ordering::AcqRel),
                        // Skipped by this subscriber, but published, so journaled.
                        Err(RecvError::Lagged(n)) => shown.fetch_add(n, Ordering::AcqRel),
                        Err(RecvError::Closed) => break,
                    };
                }
            }
        })?;
    std::thread::scope(|s| -> anyhow::Result<()> {
        std::thread::Builder::new()
            .name("pv-bench-ack".to_owned())
            .spawn_scoped(s, || {
                let mut rng = SmallRng::seed_from_u64(u64::from(std::process::id()));
                loop {
                    std::thread::sleep(Duration::from_millis(25));
                    let unacked: Vec<String> = handle
                        .active()
                        .into_iter()
                        .filter(|a| a.state.is_unacknowledged())
                        .map(|a| a.name)
                        .collect();
                    let pick: Vec<&str> = (0..20.min(unacked.len()))
                        .map(|_| unacked[rng.random_range(0..unacked.len())].as_str())
                        .collect();
                    if !pick.is_empty()
                        && let Err(e) = handle.ack(&pick, "flood-test", Some("kill -9 test"))
                    {
                        tracing::warn!("flood ack: {e}");
                    }
                }
            })?;
        let mut rng = SmallRng::seed_from_u64(u64::from(std::process::id()) ^ 0x5eed);
        let mut high = vec![false; tags.len()];
        let begin = Instant::now();
        let (mut done, mut last_print) = (0u64, Instant::now());
        loop {
            #[allow(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                clippy::cast_precision_loss
            )]
            let due = (begin.elapsed().as_secs_f64() * args.rate as f64) as u64;
            while done < due {
                let i = rng.random_range(0..tags.len());
                high[i] = !high[i];
                let v = if high[i] {
                    LIMIT + rng.random_range(0.5..30.0)
                } else {
                    rng.random_range(0.0..LIMIT - 0.5)
                };
                set(&store, i as TagId, v);
                done += 1;
            }
            if last_print.elapsed() >= Duration::from_millis(20) {
                println!(
                    "progress sets={done} shown={} active={}",
                    shown.load(Ordering::Acquire),
                    handle.active().len()
                );
                last_print = Instant::now();
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    })?;
    Ok(std::process::ExitCode::SUCCESS)
}
