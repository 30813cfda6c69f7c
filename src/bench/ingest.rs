//! `plantview bench ingest`: messages through the embedded broker into the tag store, beside a
//! bare rumqttc subscriber that only counts messages on the same broker (the transport limit),
//! plus publish → tag-store latency at a steady rate.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rumqttc::{Event, Packet, QoS};

use crate::engine::{self, EngineOptions, Value};
use crate::mqtt::{ClientSettings, ConnState, EmbeddedBroker};

#[derive(Debug, clap::Args)]
pub struct IngestArgs {
    /// Messages per throughput run.
    #[arg(long, default_value_t = 1_000_000)]
    pub messages: u64,
    /// Rate of the latency run, messages per second.
    #[arg(long, default_value_t = 10_000)]
    pub rate: u64,
    /// Length of the latency run, seconds.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Distinct topics (and tags) the messages rotate over.
    #[arg(long, default_value_t = 10)]
    pub topics: usize,
    /// Throughput rounds (each: one baseline run and one engine run).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..))]
    pub rounds: u16,
    /// Also record every message in history (the engine's full path with the SQLite writer;
    /// by default the figure is MQTT → tag store alone).
    #[arg(long)]
    pub history: bool,
}

pub fn run(args: &IngestArgs) -> anyhow::Result<std::process::ExitCode> {
    let broker = EmbeddedBroker::start("127.0.0.1:0".parse()?, None)?;
    let addr = broker.listen;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("pv-bench")
        .enable_all()
        .build()?;
    // The engine reads `bench/…`; the bare subscriber gets the same load on `bare/…`, so
    // neither run feeds the other.
    let sub_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("pv-bench-sub")
        .enable_all()
        .build()?;
    let topics: Vec<String> = (0..args.topics).map(|i| format!("bench/t{i}")).collect();
    let bare_topics: Vec<String> = (0..args.topics).map(|i| format!("bare/t{i}")).collect();

    let (engine, dir) = bench_engine(addr, &topics, args.history)?;

    println!(
        "# plantview bench ingest — {} messages, {} topics, QoS 0, embedded broker {addr}, history {}",
        args.messages,
        args.topics,
        if args.history { "recording" } else { "off" }
    );
    // Throughput: alternate the transport baseline and the engine, `rounds` times each; the
    // best of each is compared (best-of-N damps the noise of a shared 2-core machine).
    let (mut bare, mut eng) = (Vec::new(), Vec::new());
    for _ in 0..args.rounds {
        bare.push(rt.block_on(bare_throughput(
            addr,
            &bare_topics,
            args.messages,
            sub_rt.handle(),
        ))?);
        eng.push(rt.block_on(engine_throughput(addr, &topics, args.messages, &engine))?);
    }
    let best = |v: &[f64]| v.iter().copied().fold(0.0, f64::max);
    let list = |v: &[f64]| {
        v.iter()
            .map(|x| format!("{x:.0}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!(
        "throughput bare subscriber (transport): best {:>9.0} msg/s  [{}]",
        best(&bare),
        list(&bare)
    );
    println!(
        "throughput engine → tag store:          best {:>9.0} msg/s  [{}]",
        best(&eng),
        list(&eng)
    );
    // Each round pairs adjacent runs, so drifting load on a shared machine hits both alike.
    let mut ratios: Vec<f64> = eng.iter().zip(&bare).map(|(e, b)| e / b).collect();
    ratios.sort_by(f64::total_cmp);
    println!(
        "ratio engine / transport per round:     [{}]  median {:.2}  (best / best {:.2})",
        ratios
            .iter()
            .map(|r| format!("{r:.2}"))
            .collect::<Vec<_>>()
            .join(", "),
        ratios[ratios.len() / 2],
        best(&eng) / best(&bare)
    );

    // Latency at a steady rate through the engine and through a bare subscriber.
    let eng_lat = rt.block_on(engine_latency(addr, &topics, args, &engine))?;
    let bare_lat = rt.block_on(bare_latency(addr, &bare_topics, args))?;
    for (name, mut lat) in [
        ("bare subscriber", bare_lat),
        ("engine → tag store", eng_lat),
    ] {
        lat.sort_unstable();
        println!(
            "latency {name:<20} at {} msg/s: n={} p50 {:.3} ms  p99 {:.3} ms  p99.9 {:.3} ms  max {:.3} ms",
            args.rate,
            lat.len(),
            pct(&lat, 0.50),
            pct(&lat, 0.99),
            pct(&lat, 0.999),
            lat.last().copied().unwrap_or(0) as f64 / 1000.0
        );
    }
    engine.shutdown();
    let _ = std::fs::remove_dir_all(&dir);
    Ok(std::process::ExitCode::SUCCESS)
}

/// An engine reading `topics` from the broker at `addr` (through a temporary project), connected
/// and subscribed.
fn bench_engine(
    addr: std::net::SocketAddr,
    topics: &[String],
    history: bool,
) -> anyhow::Result<(engine::EngineHandle, std::path::PathBuf)> {
    // A project whose tags read every bench topic.
    static RUNS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let run = RUNS.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("plantview-bench-{}-{run}", std::process::id()));
    std::fs::create_dir_all(dir.join("screens"))?;
    let tags: Vec<serde_json::Value> = topics
        .iter()
        .enumerate()
        .map(|(i, t)| serde_json::json!({ "name": format!("Bench.T{i}"), "topic": t, "stale_after_s": 0 }))
        .collect();
    let project = serde_json::json!({
        "format": 1, "name": "bench",
        "broker": { "mode": "external", "url": format!("mqtt://{addr}") },
        "tags": tags,
    });
    std::fs::write(
        dir.join("project.json"),
        serde_json::to_vec_pretty(&project)?,
    )?;
    let project = crate::project::load(&dir)?;
    let engine = engine::start(
        project,
        &EngineOptions {
            data_dir: Some(dir.join("data")),
            no_history: !history,
            ..Default::default()
        },
    )?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while engine.status().connection != ConnState::Connected {
        anyhow::ensure!(Instant::now() < deadline, "engine did not connect");
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(300));
    Ok((engine, dir))
}

/// The engine's MQTT ingest rate (msg/s, embedded broker → tag store, history off): the
/// baseline other benchmarks compare against in their own run.
pub fn engine_mqtt_rate(messages: u64) -> anyhow::Result<f64> {
    let broker = EmbeddedBroker::start("127.0.0.1:0".parse()?, None)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("pv-bench")
        .enable_all()
        .build()?;
    let topics: Vec<String> = (0..10).map(|i| format!("bench/t{i}")).collect();
    let (engine, dir) = bench_engine(broker.listen, &topics, false)?;
    let rate = rt.block_on(engine_throughput(broker.listen, &topics, messages, &engine));
    engine.shutdown();
    let _ = std::fs::remove_dir_all(&dir);
    rate
}

fn pct(sorted_us: &[u64], q: f64) -> f64 {
    if sorted_us.is_empty() {
        return f64::NAN;
    }
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let i = ((sorted_us.len() - 1) as f64 * q).round() as usize;
    sorted_us[i] as f64 / 1000.0
}

fn settings(addr: std::net::SocketAddr, id: &str) -> ClientSettings {
    ClientSettings::new(addr.ip().to_string(), addr.port(), id)
}

/// Publish `n` messages as fast as the client goes (QoS 0).
async fn publish_burst(
    addr: std::net::SocketAddr,
    topics: Vec<String>,
    n: u64,
) -> anyhow::Result<()> {
    let (client, mut eventloop) = settings(addr, "bench-pub").client(1024);
    let driver = tokio::spawn(async move {
        loop {
            if eventloop.poll().await.is_err() {
                break;
            }
        }
    });
    let payload = b"123.456".to_vec();
    for i in 0..n {
        let topic = &topics[(i as usize) % topics.len()];
        client
            .publish(topic, QoS::AtMostOnce, false, payload.clone())
            .await?;
    }
    // Let the event loop flush before disconnecting.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let _ = client.disconnect().await;
    let _ = tokio::time::timeout(Duration::from_secs(2), driver).await;
    Ok(())
}

/// A subscriber that only counts: msg/s from first to last message.
/// A subscriber that only counts, on a runtime of its own like the engine's (so neither side
/// shares worker threads with the publisher): msg/s from first to last message.
async fn bare_throughput(
    addr: std::net::SocketAddr,
    topics: &[String],
    n: u64,
    sub_rt: &tokio::runtime::Handle,
) -> anyhow::Result<f64> {
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let counter = sub_rt.spawn(async move {
        let (client, mut eventloop) = settings(addr, "bench-bare").client(64);
        client.subscribe("bare/#", QoS::AtMostOnce).await?;
        loop {
            if let Event::Incoming(Packet::SubAck(_)) = eventloop.poll().await? {
                break;
            }
        }
        let _ = ready_tx.send(());
        let mut count = 0u64;
        let mut first = None;
        let mut last = Instant::now();
        loop {
            match tokio::time::timeout(Duration::from_secs(2), eventloop.poll()).await {
                Ok(Ok(Event::Incoming(Packet::Publish(_)))) => {
                    count += 1;
                    last = Instant::now();
                    first.get_or_insert(last);
                    if count == n {
                        break;
                    }
                }
                Ok(Ok(_)) => {}
                Ok(Err(e)) => anyhow::bail!("bare subscriber: {e}"),
                Err(_) => break, // quiet for 2 s: the broker dropped the rest
            }
        }
        let _ = client.disconnect().await;
        Ok((count, first, last))
    });
    ready_rx.await?;
    let publisher = tokio::spawn(publish_burst(addr, topics.to_vec(), n));
    let (count, first, last) = counter.await??;
    publisher.await??;
    rate(count, n, first, last)
}

fn rate(count: u64, n: u64, first: Option<Instant>, last: Instant) -> anyhow::Result<f64> {
    let first = first.ok_or_else(|| anyhow::anyhow!("no message arrived"))?;
    if count < n {
        println!(
            "  note: {} of {n} QoS 0 messages arrived ({} dropped by the broker)",
            count,
            n - count
        );
    }
    #[allow(clippy::cast_precision_loss)]
    Ok(count as f64 / (last - first).as_secs_f64().max(1e-9))
}

/// Changes published by the tag store (an atomic counter: reading it does not slow ingest).
fn total_updates(engine: &engine::EngineHandle) -> u64 {
    engine.tags.version()
}

async fn engine_throughput(
    addr: std::net::SocketAddr,
    topics: &[String],
    n: u64,
    engine: &engine::EngineHandle,
) -> anyhow::Result<f64> {
    let start_count = total_updates(engine);
    let publisher = tokio::spawn(publish_burst(addr, topics.to_vec(), n));
    let mut first = None;
    let mut last = Instant::now();
    let mut seen = start_count;
    let mut quiet_since = Instant::now();
    loop {
        let c = total_updates(engine);
        let now = Instant::now();
        if c != seen {
            if first.is_none() {
                first = Some(now);
            }
            seen = c;
            last = now;
            quiet_since = now;
        }
        if c - start_count >= n || now - quiet_since > Duration::from_secs(2) {
            break;
        }
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
    publisher.await??;
    rate(seen - start_count, n, first, last)
}

/// Publish at `rate` msg/s for `seconds`; the payload is the send time in µs since `epoch`.
async fn publish_paced(
    addr: std::net::SocketAddr,
    topics: Vec<String>,
    rate: u64,
    seconds: u64,
    epoch: Instant,
) -> anyhow::Result<()> {
    let (client, mut eventloop) = settings(addr, "bench-paced").client(1024);
    let driver = tokio::spawn(async move { while eventloop.poll().await.is_ok() {} });
    let total = rate * seconds;
    let start = Instant::now();
    let mut sent = 0u64;
    while sent < total {
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let due = ((start.elapsed().as_secs_f64() * rate as f64) as u64).min(total);
        while sent < due {
            let topic = &topics[(sent as usize) % topics.len()];
            let us = epoch.elapsed().as_micros();
            client
                .publish(topic, QoS::AtMostOnce, false, us.to_string())
                .await?;
            sent += 1;
        }
        tokio::time::sleep(Duration::from_micros(500)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _ = client.disconnect().await;
    let _ = tokio::time::timeout(Duration::from_secs(2), driver).await;
    Ok(())
}

async fn engine_latency(
    addr: std::net::SocketAddr,
    topics: &[String],
    args: &IngestArgs,
    engine: &engine::EngineHandle,
) -> anyhow::Result<Vec<u64>> {
    let epoch = Instant::now();
    let mut feed = engine.tags.subscribe();
    let done = Arc::new(AtomicU64::new(0));
    let collector = {
        let done = done.clone();
        std::thread::Builder::new()
            .name("pv-bench-lat".to_owned())
            .spawn(move || {
                let mut lat = Vec::new();
                while done.load(Ordering::Acquire) == 0 {
                    match feed.blocking_recv() {
                        Ok(change) => {
                            if let Some(Value::Number(sent_us)) = change.value {
                                let now = epoch.elapsed().as_micros() as f64;
                                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                                lat.push((now - sent_us).max(0.0) as u64);
                            }
                        }
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                    }
                }
                lat
            })?
    };
    publish_paced(addr, topics.to_vec(), args.rate, args.seconds, epoch).await?;
    done.store(1, Ordering::Release);
    // One more message wakes the collector so it sees `done`.
    publish_paced(addr, topics[..1].to_vec(), 1, 1, epoch).await?;
    collector
        .join()
        .map_err(|_| anyhow::anyhow!("latency collector panicked"))
}

async fn bare_latency(
    addr: std::net::SocketAddr,
    topics: &[String],
    args: &IngestArgs,
) -> anyhow::Result<Vec<u64>> {
    let epoch = Instant::now();
    let (client, mut eventloop) = settings(addr, "bench-bare-lat").client(64);
    client.subscribe("bare/#", QoS::AtMostOnce).await?;
    loop {
        if let Event::Incoming(Packet::SubAck(_)) = eventloop.poll().await? {
            break;
        }
    }
    let publisher = tokio::spawn(publish_paced(
        addr,
        topics.to_vec(),
        args.rate,
        args.seconds,
        epoch,
    ));
    let mut lat = Vec::new();
    loop {
        match tokio::time::timeout(Duration::from_secs(2), eventloop.poll()).await {
            Ok(Ok(Event::Incoming(Packet::Publish(p)))) => {
                let now = epoch.elapsed().as_micros();
                if let Some(sent) = std::str::from_utf8(&p.payload)
                    .ok()
                    .and_then(|s| s.parse::<u128>().ok())
                {
                    lat.push(u64::try_from(now.saturating_sub(sent)).unwrap_or(u64::MAX));
                }
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => anyhow::bail!("bare subscriber: {e}"),
            Err(_) => break,
        }
    }
    publisher.await??;
    let _ = client.disconnect().await;
    Ok(lat)
}
