//! Modbus setpoint writes against a real tokio-modbus TCP server started in-process on
//! 127.0.0.1: read-back confirmation, exceptions 01–0B, timeouts, reconnect after a server
//! restart, rejection before sending, read-back mismatch.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

mod common;

use parking_lot::Mutex;

use common::modbus_server::{Plant, UNIT, serve, stop};
use plantview::modbus::{
    DataType, DeviceConfig, DeviceHandle, DeviceStatus, Encoding, Step, WordOrder, WriteOutcome,
    WriteTarget,
};
use tokio::net::TcpListener;

fn device(addr: SocketAddr, timeout_ms: u64) -> DeviceHandle {
    DeviceHandle::spawn(DeviceConfig {
        name: "ahu-1".to_owned(),
        address: addr.to_string(),
        unit_id: UNIT,
        timeout_ms,
        retries: 3,
    })
    .unwrap()
}

async fn wait_for(handle: &DeviceHandle, what: &str, ok: impl Fn(&DeviceStatus) -> bool) {
    let mut status = handle.watch_status();
    tokio::time::timeout(Duration::from_secs(10), status.wait_for(|s| ok(s)))
        .await
        .unwrap_or_else(|_| panic!("status never became {what}; it is {}", handle.status()))
        .unwrap();
}

async fn connected(handle: &DeviceHandle) {
    wait_for(handle, "connected", |s| *s == DeviceStatus::Connected).await;
}

fn supply_air_setpoint() -> WriteTarget {
    // f32 in 0.1 °C with a -40 offset, word-swapped, limited to 10..30 °C.
    WriteTarget {
        word_order: WordOrder::Little,
        scale: 0.1,
        offset: -40.0,
        min: Some(10.0),
        max: Some(30.0),
        ..WriteTarget::holding(100, DataType::F32)
    }
}

#[tokio::test]
async fn f32_and_i16_writes_with_scaling_are_confirmed_by_read_back() {
    let plant = Plant::new();
    let (addr, _server) = serve(Arc::clone(&plant), "127.0.0.1:0".parse().unwrap()).await;
    let handle = device(addr, 1000);
    connected(&handle).await;

    let target = supply_air_setpoint();
    let outcome = handle.write(&target, 21.5).await;
    let WriteOutcome::Confirmed { readback } = outcome else {
        panic!("f32: {outcome:?}");
    };
    assert!((readback - 21.5).abs() < 1e-4, "{readback}");
    let stored = plant.holding.lock()[100..102].to_vec();
    assert_eq!(stored, target.encoding().encode(21.5).unwrap());
    assert_eq!(
        stored,
        Encoding {
            word_order: WordOrder::Big,
            ..target.encoding()
        }
        .encode(21.5)
        .unwrap()
        .into_iter()
        .rev()
        .collect::<Vec<_>>()
    );

    let valve = WriteTarget {
        scale: 0.1,
        min: Some(-100.0),
        max: Some(100.0),
        ..WriteTarget::holding(7, DataType::I16)
    };
    let outcome = handle.write(&valve, -12.3).await;
    assert!(
        matches!(outcome, WriteOutcome::Confirmed { readback } if (readback + 12.3).abs() < 1e-9),
        "i16: {outcome:?}"
    );
    assert_eq!(plant.holding.lock()[7], (-123i16) as u16);

    let pump = WriteTarget::coil(3);
    assert!(handle.write(&pump, 1.0).await.is_confirmed());
    assert!(plant.coils.lock()[3]);

    // A device that mirrors the setpoint elsewhere.
    plant.holding.lock()[200] = 450;
    let mirrored = WriteTarget {
        readback_address: Some(200),
        ..WriteTarget::holding(10, DataType::U16)
    };
    assert!(handle.write(&mirrored, 450.0).await.is_confirmed());

    assert!(plant.units.lock().iter().all(|u| *u == UNIT));
    assert_eq!(handle.status(), DeviceStatus::Connected);
}

#[tokio::test]
async fn every_exception_code_is_reported_with_its_name() {
    let plant = Plant::new();
    let (addr, _server) = serve(Arc::clone(&plant), "127.0.0.1:0".parse().unwrap()).await;
    let handle = device(addr, 1000);
    connected(&handle).await;
    let names = [
        (0x01, "Illegal Function"),
        (0x02, "Illegal Data Address"),
        (0x03, "Illegal Data Value"),
        (0x04, "Server Device Failure"),
        (0x05, "Acknowledge"),
        (0x06, "Server Device Busy"),
        (0x07, "Negative Acknowledge"),
        (0x08, "Memory Parity Error"),
        (0x09, "Unknown Exception"),
        (0x0A, "Gateway Path Unavailable"),
        (0x0B, "Gateway Target Device Failed to Respond"),
    ];
    for (code, expected) in names {
        *plant.exception.lock() = Some(code);
        let outcome = handle
            .write(&WriteTarget::holding(1, DataType::U16), 5.0)
            .await;
        match outcome {
            WriteOutcome::Exception {
                step,
                code: got,
                name,
                meaning,
            } => {
                assert_eq!((step, got, name), (Step::Write, code, expected));
                assert!(!meaning.is_empty());
            }
            other => panic!("code {code:02X}: {other:?}"),
        }
        // An exception is an answer: the connection stays up.
        assert_eq!(handle.status(), DeviceStatus::Connected, "code {code:02X}");
    }
    // Exception on the read-back only.
    *plant.exception.lock() = None;
    let missing = WriteTarget {
        readback_address: Some(5000),
        ..WriteTarget::holding(1, DataType::U16)
    };
    let outcome = handle.write(&missing, 5.0).await;
    assert!(
        matches!(
            outcome,
            WriteOutcome::Exception {
                step: Step::ReadBack,
                code: 0x02,
                ..
            }
        ),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn silent_device_times_out_within_the_configured_time() {
    // Accepts connections and never answers.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let held = Arc::new(Mutex::new(Vec::new()));
    let keep = Arc::clone(&held);
    let _silent = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            keep.lock().push(stream);
        }
    });
    let timeout_ms = 300;
    let handle = device(addr, timeout_ms);
    connected(&handle).await;

    let started = Instant::now();
    let outcome = handle
        .write(&WriteTarget::holding(1, DataType::U16), 5.0)
        .await;
    let elapsed = started.elapsed();
    assert_eq!(
        outcome,
        WriteOutcome::Timeout {
            step: Step::Write,
            after_ms: timeout_ms
        }
    );
    assert!(
        elapsed < Duration::from_millis(timeout_ms + 200),
        "took {elapsed:?}"
    );
    assert!(
        elapsed >= Duration::from_millis(timeout_ms),
        "took {elapsed:?}"
    );
    // The timed-out connection is replaced by a new one.
    connected(&handle).await;
    assert!(held.lock().len() >= 2, "no reconnect after the timeout");
}

#[tokio::test]
async fn read_back_timeout_is_reported_as_such_and_the_link_is_rebuilt() {
    let plant = Plant::new();
    let (addr, _server) = serve(Arc::clone(&plant), "127.0.0.1:0".parse().unwrap()).await;
    let handle = device(addr, 300);
    connected(&handle).await;
    plant.silent_reads.store(true, Ordering::SeqCst);
    let started = Instant::now();
    let outcome = handle
        .write(&WriteTarget::holding(4, DataType::U16), 9.0)
        .await;
    assert_eq!(
        outcome,
        WriteOutcome::Timeout {
            step: Step::ReadBack,
            after_ms: 300
        }
    );
    assert!(started.elapsed() < Duration::from_millis(300 + 200));
    // The write itself landed; the operator is told the read-back is what failed.
    assert_eq!(plant.holding.lock()[4], 9);
    plant.silent_reads.store(false, Ordering::SeqCst);
    connected(&handle).await;
    assert!(
        handle
            .write(&WriteTarget::holding(4, DataType::U16), 10.0)
            .await
            .is_confirmed()
    );
}

#[tokio::test]
async fn restarted_server_is_reconnected_and_the_next_write_is_confirmed() {
    let plant = Plant::new();
    let (addr, server) = serve(Arc::clone(&plant), "127.0.0.1:0".parse().unwrap()).await;
    let handle = device(addr, 500);
    connected(&handle).await;
    let target = supply_air_setpoint();
    assert!(handle.write(&target, 20.0).await.is_confirmed());

    stop(server).await;
    wait_for(&handle, "retrying", |s| {
        matches!(s, DeviceStatus::Retrying { .. })
    })
    .await;
    // While the device is away, a write is not sent anywhere.
    let outcome = handle.write(&target, 22.0).await;
    assert!(
        matches!(outcome, WriteOutcome::NotConnected { .. }),
        "{outcome:?}"
    );

    let (again, _server) = serve(Arc::clone(&plant), addr).await;
    assert_eq!(again, addr);
    connected(&handle).await;
    let outcome = handle.write(&target, 23.5).await;
    assert!(
        matches!(outcome, WriteOutcome::Confirmed { readback } if (readback - 23.5).abs() < 1e-4),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn out_of_range_values_are_rejected_and_nothing_is_sent() {
    let plant = Plant::new();
    let (addr, _server) = serve(Arc::clone(&plant), "127.0.0.1:0".parse().unwrap()).await;
    let handle = device(addr, 1000);
    connected(&handle).await;

    let target = supply_air_setpoint();
    let small = WriteTarget {
        scale: 0.1,
        ..WriteTarget::holding(7, DataType::I16)
    };
    for (target, value) in [
        (&target, 30.01),
        (&target, 9.99),
        (&target, f64::NAN),
        (&target, f64::INFINITY),
        (&small, 3276.8),
        (&small, -3276.9),
        (&WriteTarget::holding(1, DataType::U16), -1.0),
        (&WriteTarget::coil(1), 0.5),
    ] {
        let outcome = handle.write(target, value).await;
        assert!(
            matches!(outcome, WriteOutcome::Rejected { .. }),
            "{value}: {outcome:?}"
        );
    }
    assert_eq!(
        plant.requests.load(Ordering::SeqCst),
        0,
        "the server saw a request"
    );
    assert!(plant.holding.lock().iter().all(|w| *w == 0));
    // The boundary itself is allowed and does reach the device.
    assert!(handle.write(&target, 30.0).await.is_confirmed());
    assert_eq!(plant.requests.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn read_back_of_another_value_is_a_mismatch() {
    let plant = Plant::new();
    let (addr, _server) = serve(Arc::clone(&plant), "127.0.0.1:0".parse().unwrap()).await;
    let handle = device(addr, 1000);
    connected(&handle).await;
    *plant.read_skew.lock() = 3;
    let target = WriteTarget {
        scale: 0.1,
        ..WriteTarget::holding(7, DataType::U16)
    };
    let outcome = handle.write(&target, 21.5).await;
    match outcome {
        WriteOutcome::Mismatch {
            requested,
            readback,
        } => {
            assert_eq!(requested, 21.5);
            assert!((readback - 21.8).abs() < 1e-9, "{readback}");
        }
        other => panic!("{other:?}"),
    }
    // Half a raw step is still equal: 21.54 is written as 215 and read back as 21.5.
    *plant.read_skew.lock() = 0;
    assert!(handle.write(&target, 21.54).await.is_confirmed());
}
