//! One Modbus TCP device: a tokio task that owns the connection, and the [`DeviceHandle`] the
//! rest of the program talks to.
//!
//! The task connects with its own `TcpStream` (`set_nodelay(true)`, TCP keepalive), attaches a
//! tokio-modbus context for the configured unit id, runs every call under the device timeout,
//! and after any transport failure (timeout, reset, closed, garbled frame) drops the context and
//! reconnects with backoff (100 ms doubling to 5 s). It never gives up: after `retries`
//! consecutive failed attempts the status says [`DeviceStatus::Failed`], and it keeps trying
//! every 5 s so a device that comes back after a power loss is found again. While idle it
//! checks the socket every 250 ms so a closed connection shows up without waiting for a write.
//!
//! Writes arrive over a bounded channel with a oneshot reply. Writes are never retried: a
//! timeout or a lost connection is reported, because the device may already have applied it.
//! This module knows nothing about tags, projects or the GUI.

use std::net::TcpStream as StdTcpStream;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use thiserror::Error;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;
use tokio_modbus::Slave;
use tokio_modbus::client::Context;

use super::write::{Link, Prepared, Step, WriteOutcome, WriteTarget, prepare, write_and_verify};

/// First reconnect delay after a failed attempt.
pub const MIN_BACKOFF: Duration = Duration::from_millis(100);
/// Longest reconnect delay.
pub const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How often an idle connection is checked for a close by the device.
const LIVENESS_PERIOD: Duration = Duration::from_millis(250);
/// Writes queued per device before `write` waits.
const QUEUE_CAPACITY: usize = 32;

/// A Modbus TCP device as configured in the project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceConfig {
    pub name: String,
    /// `host:port` or `ip:port`, resolved on every connect.
    pub address: String,
    /// Modbus unit (slave) id; default 1.
    #[serde(default = "default_unit_id")]
    pub unit_id: u8,
    /// Limit for connecting and for every single request; default 1000 ms.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Consecutive failed connection attempts before the status says `Failed`; default 3.
    #[serde(default = "default_retries")]
    pub retries: u32,
}

fn default_unit_id() -> u8 {
    1
}

fn default_timeout_ms() -> u64 {
    1000
}

fn default_retries() -> u32 {
    3
}

/// The connection state, for the GUI and the `serve` log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceStatus {
    Connected,
    /// Not connected; `attempt` failed attempts since the connection was lost (or since start).
    Retrying {
        reason: String,
        attempt: u32,
    },
    /// More than `retries` attempts failed; still retrying every [`MAX_BACKOFF`].
    Failed {
        reason: String,
    },
}

impl std::fmt::Display for DeviceStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DeviceStatus::Connected => f.write_str("connected"),
            DeviceStatus::Retrying { reason, attempt } => {
                write!(f, "retrying (attempt {attempt}): {reason}")
            }
            DeviceStatus::Failed { reason } => write!(f, "failed: {reason}"),
        }
    }
}

/// Why a device task could not be started.
#[derive(Debug, Error)]
pub enum DeviceError {
    #[error("device {0:?}: timeout_ms must be at least 1")]
    ZeroTimeout(String),
    #[error("device {0:?}: address is empty")]
    EmptyAddress(String),
    #[error("device {0:?}: no tokio runtime to run its task on")]
    NoRuntime(String),
}

struct WriteRequest {
    target: WriteTarget,
    value: f64,
    prepared: Prepared,
    reply: oneshot::Sender<WriteOutcome>,
}

/// What a poll reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadKind {
    HoldingRegisters,
    InputRegisters,
    Coils,
    DiscreteInputs,
}

/// Registers or bits read from a device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadData {
    Registers(Vec<u16>),
    Bits(Vec<bool>),
}

struct ReadRequest {
    kind: ReadKind,
    address: u16,
    count: u16,
    reply: oneshot::Sender<Result<ReadData, String>>,
}

enum Request {
    Write(WriteRequest),
    Read(ReadRequest),
}

/// Talks to one device task. Cheap to clone; the task ends when the last handle is dropped.
#[derive(Debug, Clone)]
pub struct DeviceHandle {
    name: Arc<str>,
    timeout: Duration,
    commands: mpsc::Sender<Request>,
    status: watch::Receiver<DeviceStatus>,
}

impl DeviceHandle {
    /// Starts the device task on the current tokio runtime.
    pub fn spawn(config: DeviceConfig) -> Result<DeviceHandle, DeviceError> {
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| DeviceError::NoRuntime(config.name.clone()))?;
        DeviceHandle::spawn_on(config, &runtime)
    }

    /// Starts the device task on `runtime`.
    pub fn spawn_on(
        config: DeviceConfig,
        runtime: &tokio::runtime::Handle,
    ) -> Result<DeviceHandle, DeviceError> {
        if config.timeout_ms == 0 {
            return Err(DeviceError::ZeroTimeout(config.name));
        }
        if config.address.trim().is_empty() {
            return Err(DeviceError::EmptyAddress(config.name));
        }
        let (commands, inbox) = mpsc::channel(QUEUE_CAPACITY);
        let (status_tx, status) = watch::channel(DeviceStatus::Retrying {
            reason: "not connected yet".to_owned(),
            attempt: 0,
        });
        let handle = DeviceHandle {
            name: Arc::from(config.name.as_str()),
            timeout: Duration::from_millis(config.timeout_ms),
            commands,
            status,
        };
        runtime.spawn(DeviceTask::new(config, status_tx).run(inbox));
        Ok(handle)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The current connection state.
    pub fn status(&self) -> DeviceStatus {
        self.status.borrow().clone()
    }

    /// A receiver that wakes on every status change.
    pub fn watch_status(&self) -> watch::Receiver<DeviceStatus> {
        self.status.clone()
    }

    /// Checks, writes, reads back and compares. Values outside the limits or the type's range
    /// are rejected here, before anything is queued or sent.
    pub async fn write(&self, target: &WriteTarget, value: f64) -> WriteOutcome {
        let prepared = match prepare(target, value) {
            Ok(prepared) => prepared,
            Err(reason) => return WriteOutcome::Rejected { reason },
        };
        let (reply, answer) = oneshot::channel();
        let request = WriteRequest {
            target: target.clone(),
            value,
            prepared,
            reply,
        };
        // Worst case inside the task: a connect, a write and a read-back, each under timeout.
        let budget = self.timeout * 4 + Duration::from_millis(500);
        let sequence = async {
            if self.commands.send(Request::Write(request)).await.is_err() {
                return WriteOutcome::NotConnected {
                    reason: "the device task has stopped".to_owned(),
                };
            }
            answer.await.unwrap_or_else(|_| WriteOutcome::NotConnected {
                reason: "the device task stopped during the write".to_owned(),
            })
        };
        match tokio::time::timeout(budget, sequence).await {
            Ok(outcome) => outcome,
            // The task skips requests whose caller has gone; one already on the wire may land.
            Err(_) => WriteOutcome::Timeout {
                step: Step::Write,
                after_ms: u64::try_from(budget.as_millis()).unwrap_or(u64::MAX),
            },
        }
    }
}

impl DeviceHandle {
    /// Read `count` registers or bits (a poll). Errors are for the operator: not connected,
    /// timeout, device exception (with its name), connection lost.
    pub async fn read(&self, kind: ReadKind, address: u16, count: u16) -> Result<ReadData, String> {
        let (reply, answer) = oneshot::channel();
        let budget = self.timeout * 3 + Duration::from_millis(500);
        let sequence = async {
            self.commands
                .send(Request::Read(ReadRequest {
                    kind,
                    address,
                    count,
                    reply,
                }))
                .await
                .map_err(|_| "the device task has stopped".to_owned())?;
            answer
                .await
                .map_err(|_| "the device task stopped during the read".to_owned())?
        };
        tokio::time::timeout(budget, sequence)
            .await
            .unwrap_or_else(|_| Err(format!("no answer within {} ms", budget.as_millis())))
    }
}

/// An open connection: the modbus context and a duplicate of its socket for idle checks.
struct Connection {
    ctx: Context,
    monitor: StdTcpStream,
}

struct DeviceTask {
    config: DeviceConfig,
    timeout: Duration,
    status: watch::Sender<DeviceStatus>,
    conn: Option<Connection>,
    failures: u32,
    backoff: Duration,
    next_attempt: Instant,
    last_reason: String,
}

impl DeviceTask {
    fn new(config: DeviceConfig, status: watch::Sender<DeviceStatus>) -> Self {
        DeviceTask {
            timeout: Duration::from_millis(config.timeout_ms),
            config,
            status,
            conn: None,
            failures: 0,
            backoff: MIN_BACKOFF,
            next_attempt: Instant::now(),
            last_reason: "not connected yet".to_owned(),
        }
    }

    async fn run(mut self, mut inbox: mpsc::Receiver<Request>) {
        let mut liveness = tokio::time::interval(LIVENESS_PERIOD);
        liveness.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                request = inbox.recv() => match request {
                    Some(Request::Write(request)) => self.serve(request).await,
                    Some(Request::Read(request)) => self.read(request).await,
                    None => break,
                },
                () = tokio::time::sleep_until(self.next_attempt), if self.conn.is_none() => {
                    self.connect().await;
                }
                _ = liveness.tick(), if self.conn.is_some() => self.check_alive(),
            }
        }
        tracing::debug!(device = %self.config.name, "device task stopped");
    }

    async fn serve(&mut self, request: WriteRequest) {
        if request.reply.is_closed() {
            return; // the caller gave up; send nothing it would not hear about
        }
        self.check_alive();
        if self.conn.is_none() {
            self.connect().await;
        }
        let Some(conn) = self.conn.as_mut() else {
            let _ = request.reply.send(WriteOutcome::NotConnected {
                reason: self.last_reason.clone(),
            });
            return;
        };
        let (outcome, link) = write_and_verify(
            &mut conn.ctx,
            &request.target,
            request.value,
            &request.prepared,
            self.timeout,
        )
        .await;
        if link == Link::Rebuild {
            self.lost(outcome.to_string());
        }
        // The caller may have gone meanwhile; the outcome is then only in the log.
        if let Err(outcome) = request.reply.send(outcome) {
            tracing::warn!(device = %self.config.name, %outcome, "write finished after its caller left");
        }
    }

    async fn read(&mut self, request: ReadRequest) {
        use tokio_modbus::client::Reader as _;
        if request.reply.is_closed() {
            return;
        }
        self.check_alive();
        if self.conn.is_none() {
            self.connect().await;
        }
        let Some(conn) = self.conn.as_mut() else {
            let _ = request
                .reply
                .send(Err(format!("not connected: {}", self.last_reason)));
            return;
        };
        let (a, n) = (request.address, request.count);
        let call = async {
            match request.kind {
                ReadKind::HoldingRegisters => conn
                    .ctx
                    .read_holding_registers(a, n)
                    .await
                    .map(|r| r.map(ReadData::Registers)),
                ReadKind::InputRegisters => conn
                    .ctx
                    .read_input_registers(a, n)
                    .await
                    .map(|r| r.map(ReadData::Registers)),
                ReadKind::Coils => conn
                    .ctx
                    .read_coils(a, n)
                    .await
                    .map(|r| r.map(ReadData::Bits)),
                ReadKind::DiscreteInputs => conn
                    .ctx
                    .read_discrete_inputs(a, n)
                    .await
                    .map(|r| r.map(ReadData::Bits)),
            }
        };
        let result = match tokio::time::timeout(self.timeout, call).await {
            Ok(Ok(Ok(data))) => Ok(data),
            Ok(Ok(Err(code))) => {
                let e = super::DeviceException::from_code(u8::from(code));
                Err(format!(
                    "device exception {:02X} {}: {}",
                    e.code, e.name, e.meaning
                ))
            }
            Ok(Err(e)) => {
                let reason = format!("connection lost: {e}");
                self.lost(reason.clone());
                Err(reason)
            }
            Err(_) => {
                let reason = format!("timeout after {} ms", self.timeout.as_millis());
                self.lost(reason.clone());
                Err(reason)
            }
        };
        let _ = request.reply.send(result);
    }

    async fn connect(&mut self) {
        match open(&self.config, self.timeout).await {
            Ok(conn) => {
                self.conn = Some(conn);
                self.failures = 0;
                self.backoff = MIN_BACKOFF;
                tracing::info!(device = %self.config.name, address = %self.config.address, "connected");
                self.status.send_replace(DeviceStatus::Connected);
            }
            Err(reason) => {
                self.failures = self.failures.saturating_add(1);
                self.next_attempt = Instant::now() + self.backoff;
                self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
                self.last_reason.clone_from(&reason);
                let status = if self.failures > self.config.retries {
                    DeviceStatus::Failed { reason }
                } else {
                    DeviceStatus::Retrying {
                        reason,
                        attempt: self.failures,
                    }
                };
                let was_failed = matches!(*self.status.borrow(), DeviceStatus::Failed { .. });
                if !was_failed && matches!(status, DeviceStatus::Failed { .. }) {
                    tracing::warn!(device = %self.config.name, %status, "device unreachable");
                } else {
                    tracing::debug!(device = %self.config.name, %status, "connect failed");
                }
                self.status.send_replace(status);
            }
        }
    }

    /// Drops the connection; the next attempt runs at once.
    fn lost(&mut self, reason: String) {
        self.conn = None;
        self.failures = 0;
        self.backoff = MIN_BACKOFF;
        self.next_attempt = Instant::now();
        tracing::warn!(device = %self.config.name, %reason, "connection lost");
        self.last_reason.clone_from(&reason);
        self.status
            .send_replace(DeviceStatus::Retrying { reason, attempt: 0 });
    }

    fn check_alive(&mut self) {
        let Some(conn) = self.conn.as_ref() else {
            return;
        };
        let mut byte = [0u8; 1];
        let problem = match conn.monitor.peek(&mut byte) {
            Ok(0) => Some("connection closed by the device".to_owned()),
            Ok(_) => Some("unexpected data from the device while idle".to_owned()),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted
                ) =>
            {
                None
            }
            Err(e) => Some(format!("connection error: {e}")),
        };
        if let Some(reason) = problem {
            self.lost(reason);
        }
    }
}

/// Connects, sets `TCP_NODELAY` and keepalive, and attaches a context for the unit id.
async fn open(config: &DeviceConfig, timeout: Duration) -> Result<Connection, String> {
    let address = config.address.trim();
    let stream = match tokio::time::timeout(timeout, TcpStream::connect(address)).await {
        Err(_) => {
            return Err(format!(
                "connect to {address} timed out after {} ms",
                config.timeout_ms
            ));
        }
        Ok(Err(e)) => return Err(format!("connect to {address}: {e}")),
        Ok(Ok(stream)) => stream,
    };
    let setup = |e: std::io::Error| format!("socket setup for {address}: {e}");
    stream.set_nodelay(true).map_err(setup)?;
    let keepalive = socket2::TcpKeepalive::new()
        .with_time(Duration::from_secs(10))
        .with_interval(Duration::from_secs(5));
    socket2::SockRef::from(&stream)
        .set_tcp_keepalive(&keepalive)
        .map_err(setup)?;
    let std_stream = stream.into_std().map_err(setup)?;
    let monitor = std_stream.try_clone().map_err(setup)?;
    monitor.set_nonblocking(true).map_err(setup)?;
    let stream = TcpStream::from_std(std_stream).map_err(setup)?;
    let ctx = tokio_modbus::client::tcp::attach_slave(stream, Slave(config.unit_id));
    Ok(Connection { ctx, monitor })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(address: &str, timeout_ms: u64) -> DeviceConfig {
        DeviceConfig {
            name: "plc".to_owned(),
            address: address.to_owned(),
            unit_id: 1,
            timeout_ms,
            retries: 2,
        }
    }

    #[test]
    fn spawn_without_runtime_is_an_error() {
        assert!(matches!(
            DeviceHandle::spawn(config("127.0.0.1:502", 100)),
            Err(DeviceError::NoRuntime(_))
        ));
    }

    #[tokio::test]
    async fn bad_settings_are_refused() {
        assert!(matches!(
            DeviceHandle::spawn(config("127.0.0.1:502", 0)),
            Err(DeviceError::ZeroTimeout(_))
        ));
        assert!(matches!(
            DeviceHandle::spawn(config(" ", 100)),
            Err(DeviceError::EmptyAddress(_))
        ));
    }

    #[tokio::test]
    async fn unreachable_device_fails_after_retries_and_writes_say_not_connected() {
        // Bind then drop: a port on which nothing listens.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap();
        let handle = DeviceHandle::spawn(config(&format!("127.0.0.1:{port}"), 200)).unwrap();
        let mut status = handle.watch_status();
        tokio::time::timeout(
            Duration::from_secs(5),
            status.wait_for(|s| matches!(s, DeviceStatus::Failed { .. })),
        )
        .await
        .unwrap()
        .unwrap();
        let target = WriteTarget::holding(0, super::super::codec::DataType::U16);
        let outcome = handle.write(&target, 1.0).await;
        assert!(
            matches!(outcome, WriteOutcome::NotConnected { ref reason } if reason.contains("connect")),
            "{outcome:?}"
        );
    }
}
