//! The demo plant's Modbus TCP server (tokio-modbus): the setpoints an HMI writes back.
//!
//! Holding registers (0-based protocol addresses, unit id any):
//! - 100: AHU1 supply-air setpoint, i16, 0.1 °C per count (writable; the plant follows it)
//! - 101: AHU1 supply-air temperature, i16, 0.1 °C per count (read only, refreshed each tick)
//!
//! A write to 100 becomes `Command::SupplySetpoint`; the register always shows the setpoint the
//! plant actually uses, so a read-back proves the plant took it.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::mpsc;
use tokio_modbus::server::Service;
use tokio_modbus::server::tcp::{Server, accept_tcp_connection};
use tokio_modbus::{ExceptionCode, Request, Response, SlaveRequest};
use tokio_util::sync::CancellationToken;

use super::Command;

pub const SUPPLY_SETPOINT_REGISTER: u16 = 100;
pub const SUPPLY_TEMP_REGISTER: u16 = 101;
const REGISTERS: usize = 200;

/// The register bank shared by the server and the simulation loop.
pub type Registers = Arc<Mutex<Vec<u16>>>;

pub fn registers() -> Registers {
    Arc::new(Mutex::new(vec![0; REGISTERS]))
}

/// Tenths of a degree as an i16 register word.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
pub fn word_from_celsius(c: f64) -> u16 {
    ((c * 10.0)
        .round()
        .clamp(f64::from(i16::MIN), f64::from(i16::MAX)) as i16) as u16
}

#[allow(clippy::cast_possible_wrap)]
fn celsius_from_word(w: u16) -> f64 {
    f64::from(w as i16) / 10.0
}

struct PlantService {
    registers: Registers,
    commands: mpsc::Sender<Command>,
}

impl PlantService {
    fn answer(&self, request: &Request<'_>) -> Result<Response, ExceptionCode> {
        let range = |addr: u16, len: usize| {
            let start = usize::from(addr);
            if len > 0 && start + len <= REGISTERS {
                Ok(start..start + len)
            } else {
                Err(ExceptionCode::IllegalDataAddress)
            }
        };
        let write = |addr: u16, words: &[u16]| -> Result<(), ExceptionCode> {
            let r = range(addr, words.len())?;
            if r.contains(&usize::from(SUPPLY_TEMP_REGISTER)) {
                return Err(ExceptionCode::IllegalDataAddress); // read only
            }
            let sp = usize::from(SUPPLY_SETPOINT_REGISTER);
            if r.contains(&sp) {
                let c = celsius_from_word(words[sp - r.start]);
                let (lo, hi) = super::command::SUPPLY_SETPOINT_RANGE_C;
                if !(lo..=hi).contains(&c) {
                    return Err(ExceptionCode::IllegalDataValue);
                }
                self.commands
                    .try_send(Command::SupplySetpoint(c))
                    .map_err(|_| ExceptionCode::ServerDeviceBusy)?;
            }
            self.registers.lock()[r].copy_from_slice(words);
            Ok(())
        };
        match request {
            Request::ReadHoldingRegisters(addr, count) => {
                let r = range(*addr, usize::from(*count))?;
                Ok(Response::ReadHoldingRegisters(
                    self.registers.lock()[r].to_vec(),
                ))
            }
            Request::WriteSingleRegister(addr, word) => {
                write(*addr, &[*word])?;
                Ok(Response::WriteSingleRegister(*addr, *word))
            }
            Request::WriteMultipleRegisters(addr, words) => {
                write(*addr, words)?;
                Ok(Response::WriteMultipleRegisters(
                    *addr,
                    u16::try_from(words.len()).unwrap_or(u16::MAX),
                ))
            }
            _ => Err(ExceptionCode::IllegalFunction),
        }
    }
}

impl Service for PlantService {
    type Request = SlaveRequest<'static>;
    type Response = Response;
    type Exception = ExceptionCode;
    type Future = Pin<Box<dyn Future<Output = Result<Response, ExceptionCode>> + Send>>;

    fn call(&self, request: Self::Request) -> Self::Future {
        Box::pin(std::future::ready(self.answer(&request.request)))
    }
}

/// Serve the registers on `listen` until `shutdown`.
pub async fn serve(
    listen: SocketAddr,
    registers: Registers,
    commands: mpsc::Sender<Command>,
    shutdown: CancellationToken,
) {
    let listener = match tokio::net::TcpListener::bind(listen).await {
        Ok(l) => l,
        Err(e) => {
            tracing::error!("simulator Modbus server: cannot listen on {listen}: {e}");
            return;
        }
    };
    tracing::info!(%listen, "simulator Modbus TCP server listening");
    let server = Server::new(listener);
    let on_connected = |stream: tokio::net::TcpStream, peer| {
        let _ = stream.set_nodelay(true);
        let (registers, commands) = (registers.clone(), commands.clone());
        async move {
            accept_tcp_connection(stream, peer, move |_| {
                Ok(Some(PlantService {
                    registers: registers.clone(),
                    commands: commands.clone(),
                }))
            })
        }
    };
    tokio::select! {
        () = shutdown.cancelled() => {}
        r = server.serve(&on_connected, |e| tracing::debug!("simulator Modbus: {e}")) => {
            if let Err(e) = r {
                tracing::error!("simulator Modbus server stopped: {e}");
            }
        }
    }
}
