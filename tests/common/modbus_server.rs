//! A Modbus TCP device for tests: a real tokio-modbus server on 127.0.0.1 holding registers and
//! coils, counting requests, and misbehaving on demand (exceptions, silence, wrong read-back).
#![allow(dead_code)]

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use parking_lot::Mutex;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_modbus::server::Service;
use tokio_modbus::server::tcp::{Server, accept_tcp_connection};
use tokio_modbus::{ExceptionCode, Request, Response, SlaveRequest};

pub const UNIT: u8 = 7;

/// The device's memory and how it misbehaves.
#[derive(Default)]
pub struct Plant {
    pub holding: Mutex<Vec<u16>>,
    pub coils: Mutex<Vec<bool>>,
    /// Every request the server received.
    pub requests: AtomicUsize,
    /// Units the requests were addressed to.
    pub units: Mutex<Vec<u8>>,
    /// Answer every request with this exception code.
    pub exception: Mutex<Option<u8>>,
    /// Added to every holding register read (a device that does not keep the value).
    pub read_skew: Mutex<u16>,
    /// Apply writes but never answer reads.
    pub silent_reads: AtomicBool,
}

impl Plant {
    pub fn new() -> Arc<Plant> {
        let plant = Plant::default();
        *plant.holding.lock() = vec![0; 1000];
        *plant.coils.lock() = vec![false; 1000];
        Arc::new(plant)
    }

    fn answer(&self, request: SlaveRequest<'static>) -> Result<Response, ExceptionCode> {
        self.requests.fetch_add(1, Ordering::SeqCst);
        self.units.lock().push(request.slave);
        if let Some(code) = *self.exception.lock() {
            return Err(ExceptionCode::new(code));
        }
        let range = |addr: u16, len: usize, size: usize| {
            let start = usize::from(addr);
            if start + len <= size {
                Ok(start..start + len)
            } else {
                Err(ExceptionCode::IllegalDataAddress)
            }
        };
        match request.request {
            Request::ReadHoldingRegisters(addr, count) => {
                let holding = self.holding.lock();
                let skew = *self.read_skew.lock();
                let r = range(addr, usize::from(count), holding.len())?;
                Ok(Response::ReadHoldingRegisters(
                    holding[r].iter().map(|w| w.wrapping_add(skew)).collect(),
                ))
            }
            Request::WriteSingleRegister(addr, word) => {
                let mut holding = self.holding.lock();
                let r = range(addr, 1, holding.len())?;
                holding[r.start] = word;
                Ok(Response::WriteSingleRegister(addr, word))
            }
            Request::WriteMultipleRegisters(addr, words) => {
                let mut holding = self.holding.lock();
                let r = range(addr, words.len(), holding.len())?;
                holding[r].copy_from_slice(&words);
                Ok(Response::WriteMultipleRegisters(addr, words.len() as u16))
            }
            Request::ReadCoils(addr, count) => {
                let coils = self.coils.lock();
                let r = range(addr, usize::from(count), coils.len())?;
                Ok(Response::ReadCoils(coils[r].to_vec()))
            }
            Request::WriteSingleCoil(addr, on) => {
                let mut coils = self.coils.lock();
                let r = range(addr, 1, coils.len())?;
                coils[r.start] = on;
                Ok(Response::WriteSingleCoil(addr, on))
            }
            _ => Err(ExceptionCode::IllegalFunction),
        }
    }
}

pub struct PlantService(pub Arc<Plant>);

impl Service for PlantService {
    type Request = SlaveRequest<'static>;
    type Response = Response;
    type Exception = ExceptionCode;
    type Future = Pin<Box<dyn Future<Output = Result<Response, ExceptionCode>> + Send>>;

    fn call(&self, request: Self::Request) -> Self::Future {
        let is_read = matches!(
            request.request,
            Request::ReadHoldingRegisters(..) | Request::ReadCoils(..)
        );
        let answer = self.0.answer(request);
        if is_read && self.0.silent_reads.load(Ordering::SeqCst) {
            Box::pin(std::future::pending())
        } else {
            Box::pin(std::future::ready(answer))
        }
    }
}

/// Serves `plant` on `addr` (port 0: any free port) until the returned task is aborted.
pub async fn serve(plant: Arc<Plant>, addr: SocketAddr) -> (SocketAddr, JoinHandle<()>) {
    let listener = TcpListener::bind(addr).await.unwrap();
    let local = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let server = Server::new(listener);
        let on_connected = |stream, peer| {
            let plant = Arc::clone(&plant);
            async move {
                accept_tcp_connection(stream, peer, |_| Ok(Some(PlantService(Arc::clone(&plant)))))
            }
        };
        let _ = server.serve(&on_connected, |_err| {}).await;
    });
    (local, task)
}

/// Stops a server: its listener and every connection it accepted are closed.
pub async fn stop(task: JoinHandle<()>) {
    task.abort();
    let _ = task.await;
}
