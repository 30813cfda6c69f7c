//! `plantview bench modbus`: setpoint write latency (write + read-back of an i16 holding
//! register through [`DeviceHandle`]) against an in-process tokio-modbus server, beside a raw
//! TCP echo round trip of the same size (12 bytes, `TCP_NODELAY` on both ends) in the same run.
//!
//! The two are measured in alternating blocks so a noisy neighbour hits both alike. A write +
//! read-back is two Modbus round trips, so the per-round-trip ratio is also printed.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use parking_lot::Mutex;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio_modbus::server::Service;
use tokio_modbus::server::tcp::{Server, accept_tcp_connection};
use tokio_modbus::{ExceptionCode, Request, Response, SlaveRequest};

use crate::modbus::{
    DataType, DeviceConfig, DeviceHandle, DeviceStatus, WriteOutcome, WriteTarget,
};

#[derive(Debug, clap::Args)]
pub struct ModbusArgs {
    /// Sequential setpoint writes (each a write + read-back).
    #[arg(long, default_value_t = 10_000)]
    pub writes: usize,
    /// Sequential 12-byte echo round trips for the baseline.
    #[arg(long, default_value_t = 10_000)]
    pub round_trips: usize,
    /// Device timeout for every request.
    #[arg(long, default_value_t = 1_000)]
    pub timeout_ms: u64,
    /// Measurements alternate between the two in blocks of this many.
    #[arg(long, default_value_t = 1_000)]
    pub block: usize,
    /// Tokio worker threads.
    #[arg(long, default_value_t = 2)]
    pub workers: usize,
    /// Measure from the thread that drives the runtime (like a GUI thread calling in) instead
    /// of from a task on a worker (like the engine); applies to both the writes and the echo.
    #[arg(long)]
    pub caller_thread: bool,
}

/// p99.9 of a write + read-back must stay below this.
const P999_GOAL: Duration = Duration::from_millis(40);
/// Target for p50 write / p50 echo.
const RATIO_GOAL: f64 = 1.5;
/// The echo payload: the size of a Modbus TCP write-single-register request.
const FRAME: usize = 12;
/// Holding register written by the benchmark.
const REGISTER: u16 = 10;
const WARMUP: usize = 200;

pub fn run(args: &ModbusArgs) -> anyhow::Result<std::process::ExitCode> {
    anyhow::ensure!(args.block > 0, "--block must be at least 1");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.workers.max(1))
        .enable_all()
        .build()?;
    runtime.block_on(measure(args))
}

async fn measure(args: &ModbusArgs) -> anyhow::Result<std::process::ExitCode> {
    println!(
        "# plantview bench modbus — {} writes (write + read-back, i16) vs {} echo round trips \
         of {FRAME} bytes, loopback, {} tokio workers, measured from {}",
        args.writes,
        args.round_trips,
        args.workers,
        if args.caller_thread {
            "the runtime's calling thread"
        } else {
            "a runtime task"
        }
    );

    // The device: an in-process tokio-modbus server.
    let holding = Arc::new(Mutex::new(vec![0u16; 100]));
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let device_addr = listener.local_addr()?;
    let server = tokio::spawn(serve_modbus(listener, Arc::clone(&holding)));
    let handle = DeviceHandle::spawn(DeviceConfig {
        name: "bench".to_owned(),
        address: device_addr.to_string(),
        unit_id: 1,
        timeout_ms: args.timeout_ms,
        retries: 3,
    })?;
    let mut status = handle.watch_status();
    tokio::time::timeout(
        Duration::from_secs(5),
        status.wait_for(|s| *s == DeviceStatus::Connected),
    )
    .await
    .context("the device did not connect within 5 s")??;
    let target = WriteTarget::holding(REGISTER, DataType::I16);

    // The baseline: a bare echo server.
    let echo_listener = TcpListener::bind("127.0.0.1:0").await?;
    let echo_addr = echo_listener.local_addr()?;
    let echo_server = tokio::spawn(serve_echo(echo_listener));
    let echo = TcpStream::connect(echo_addr).await?;
    echo.set_nodelay(true)?;

    let plan = Plan {
        writes: args.writes,
        round_trips: args.round_trips,
        block: args.block,
    };
    let (writes, echoes, failures) = if args.caller_thread {
        plan.run(handle.clone(), target, echo).await?
    } else {
        tokio::spawn(plan.run(handle.clone(), target, echo)).await??
    };
    let last = expected_raw(args.writes.saturating_sub(1));
    let stored = holding.lock()[usize::from(REGISTER)];

    drop(handle);
    server.abort();
    echo_server.abort();

    let writes = Stats::of(writes);
    let echoes = Stats::of(echoes);
    println!(
        "{:<34}{:>10}{:>10}{:>10}{:>10}",
        "", "p50", "p99", "p99.9", "max"
    );
    writes.print("write + read-back (DeviceHandle)");
    echoes.print("raw TCP echo round trip");
    let ratio = writes.p50.as_secs_f64() / echoes.p50.as_secs_f64();
    let per_rt = writes.p50.as_secs_f64() / (2.0 * echoes.p50.as_secs_f64());
    println!(
        "ratio p50 write / p50 echo:                 {ratio:>6.2}x  (target <= {RATIO_GOAL}x: {})",
        verdict(ratio <= RATIO_GOAL)
    );
    println!(
        "ratio per round trip p50 / (2 x p50 echo): {per_rt:>6.2}x  (a write + read-back is two \
         Modbus round trips; target <= {RATIO_GOAL}x: {})",
        verdict(per_rt <= RATIO_GOAL)
    );
    println!(
        "p99.9 write + read-back {} < {} ms: {}",
        latency(writes.p999),
        P999_GOAL.as_millis(),
        verdict(writes.p999 < P999_GOAL)
    );
    println!(
        "outcomes: {} confirmed, {} other{}; register holds {} (expected {last})",
        args.writes - failures.count,
        failures.count,
        failures
            .first
            .as_ref()
            .map(|f| format!(" (first: {f})"))
            .unwrap_or_default(),
        stored.cast_signed(),
    );
    let ok = failures.count == 0 && stored == last.cast_unsigned();
    Ok(if ok {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    })
}

/// The measurement loop: both paths in alternating blocks, after a warm-up.
#[derive(Clone, Copy)]
struct Plan {
    writes: usize,
    round_trips: usize,
    block: usize,
}

type Samples = (Vec<Duration>, Vec<Duration>, Failures);

impl Plan {
    async fn run(
        self,
        handle: DeviceHandle,
        target: WriteTarget,
        mut echo: TcpStream,
    ) -> anyhow::Result<Samples> {
        // Warm up both paths (connections, allocations, caches).
        let mut failures = Failures::default();
        for i in 0..WARMUP {
            write_once(&handle, &target, i, &mut failures).await;
            echo_once(&mut echo, i).await?;
        }
        failures = Failures::default();
        let mut writes = Vec::with_capacity(self.writes);
        let mut echoes = Vec::with_capacity(self.round_trips);
        let (mut w, mut e) = (0, 0);
        while w < self.writes || e < self.round_trips {
            for _ in 0..self.block.min(self.round_trips - e) {
                let t = Instant::now();
                echo_once(&mut echo, e).await?;
                echoes.push(t.elapsed());
                e += 1;
            }
            for _ in 0..self.block.min(self.writes - w) {
                let t = Instant::now();
                write_once(&handle, &target, w, &mut failures).await;
                writes.push(t.elapsed());
                w += 1;
            }
        }
        Ok((writes, echoes, failures))
    }
}

#[derive(Default)]
struct Failures {
    count: usize,
    first: Option<String>,
}

/// The raw value of the i-th write: cycles through -1000..=999 so each write changes it.
fn expected_raw(i: usize) -> i16 {
    #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
    let v = (i % 2000) as i16 - 1000;
    v
}

async fn write_once(
    handle: &DeviceHandle,
    target: &WriteTarget,
    i: usize,
    failures: &mut Failures,
) {
    let outcome = handle.write(target, f64::from(expected_raw(i))).await;
    if !matches!(outcome, WriteOutcome::Confirmed { .. }) {
        failures.count += 1;
        failures.first.get_or_insert_with(|| outcome.to_string());
    }
}

async fn echo_once(stream: &mut TcpStream, i: usize) -> anyhow::Result<()> {
    #[allow(clippy::cast_possible_truncation)]
    let out = [i as u8; FRAME];
    let mut back = [0u8; FRAME];
    stream.write_all(&out).await?;
    stream.read_exact(&mut back).await?;
    anyhow::ensure!(back == out, "echo returned other bytes");
    Ok(())
}

async fn serve_echo(listener: TcpListener) {
    while let Ok((mut stream, _)) = listener.accept().await {
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let mut buf = [0u8; FRAME];
            while stream.read_exact(&mut buf).await.is_ok() {
                if stream.write_all(&buf).await.is_err() {
                    break;
                }
            }
        });
    }
}

/// A minimal Modbus TCP device: holding registers only, any unit id.
struct Registers(Arc<Mutex<Vec<u16>>>);

impl Registers {
    fn answer(&self, request: Request<'static>) -> Result<Response, ExceptionCode> {
        let mut holding = self.0.lock();
        let range = |addr: u16, len: usize| {
            let start = usize::from(addr);
            if start + len <= holding.len() {
                Ok(start..start + len)
            } else {
                Err(ExceptionCode::IllegalDataAddress)
            }
        };
        match request {
            Request::ReadHoldingRegisters(addr, count) => {
                let r = range(addr, usize::from(count))?;
                Ok(Response::ReadHoldingRegisters(holding[r].to_vec()))
            }
            Request::WriteSingleRegister(addr, word) => {
                let r = range(addr, 1)?;
                holding[r.start] = word;
                Ok(Response::WriteSingleRegister(addr, word))
            }
            Request::WriteMultipleRegisters(addr, words) => {
                let r = range(addr, words.len())?;
                holding[r].copy_from_slice(&words);
                #[allow(clippy::cast_possible_truncation)]
                Ok(Response::WriteMultipleRegisters(addr, words.len() as u16))
            }
            _ => Err(ExceptionCode::IllegalFunction),
        }
    }
}

impl Service for Registers {
    type Request = SlaveRequest<'static>;
    type Response = Response;
    type Exception = ExceptionCode;
    type Future = Pin<Box<dyn Future<Output = Result<Response, ExceptionCode>> + Send>>;

    fn call(&self, request: Self::Request) -> Self::Future {
        Box::pin(std::future::ready(self.answer(request.request)))
    }
}

async fn serve_modbus(listener: TcpListener, holding: Arc<Mutex<Vec<u16>>>) {
    let server = Server::new(listener);
    let on_connected = |stream: TcpStream, peer: SocketAddr| {
        let holding = Arc::clone(&holding);
        async move {
            stream.set_nodelay(true)?;
            accept_tcp_connection(stream, peer, |_| Ok(Some(Registers(Arc::clone(&holding)))))
        }
    };
    if let Err(e) = server.serve(&on_connected, |_err| {}).await {
        tracing::warn!(error = %e, "bench modbus server stopped");
    }
}

struct Stats {
    p50: Duration,
    p99: Duration,
    p999: Duration,
    max: Duration,
}

impl Stats {
    fn of(mut samples: Vec<Duration>) -> Stats {
        samples.sort_unstable();
        let at = |q: f64| {
            if samples.is_empty() {
                return Duration::ZERO;
            }
            #[allow(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                clippy::cast_precision_loss
            )]
            let i = ((samples.len() - 1) as f64 * q).round() as usize;
            samples[i]
        };
        Stats {
            p50: at(0.5),
            p99: at(0.99),
            p999: at(0.999),
            max: samples.last().copied().unwrap_or_default(),
        }
    }

    fn print(&self, label: &str) {
        println!(
            "{label:<34}{:>10}{:>10}{:>10}{:>10}",
            latency(self.p50),
            latency(self.p99),
            latency(self.p999),
            latency(self.max)
        );
    }
}

/// A duration in µs below 1 ms, else in ms.
fn latency(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us < 1000.0 {
        format!("{us:.0} µs")
    } else {
        format!("{:.2} ms", us / 1000.0)
    }
}

fn verdict(ok: bool) -> &'static str {
    if ok { "yes" } else { "NO" }
}
