//! Tags polled from a Modbus device (a real tokio-modbus server on 127.0.0.1): values arrive,
//! are bridged to MQTT (`poll.publish`), turn bad while the device is unreachable and good again
//! after it returns.

mod common;

use std::time::Duration;

use common::modbus_server::{Plant, UNIT, serve, stop};
use common::{wait_for, write_project};
use plantview::engine::{self, EngineOptions, Quality, Value};

#[test]
fn polled_tags_bridge_to_mqtt_and_follow_the_device_up_and_down() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let plant = Plant::new();
    plant.holding.lock()[20] = 215; // 21.5 °C as i16 × 0.1
    plant.coils.lock()[3] = true;
    let (addr, server) = rt.block_on(serve(plant.clone(), "127.0.0.1:0".parse().expect("addr")));

    let dir = tempfile::tempdir().expect("tmp");
    let broker = common::free_addr_pair();
    let project = format!(
        r#"{{
  "format": 1,
  "name": "Poll",
  "broker": {{ "mode": "embedded", "listen": "{broker}" }},
  "devices": [ {{ "name": "PLC", "address": "{addr}", "unit_id": {UNIT}, "timeout_ms": 300, "retries": 2 }} ],
  "tags": [
    {{ "name": "Room.Temp", "unit": "°C",
       "poll": {{ "device": "PLC", "kind": "holding_registers", "address": 20,
                  "encoding": {{ "data_type": "i16", "scale": 0.1 }}, "interval_ms": 100,
                  "publish": "site/room/temp" }} }},
    {{ "name": "Pump.Run", "poll": {{ "device": "PLC", "kind": "coils", "address": 3, "interval_ms": 100 }} }},
    {{ "name": "Room.Temp.ViaMqtt", "topic": "site/room/temp", "unit": "°C" }}
  ]
}}"#
    );
    write_project(dir.path(), &project, &[]);
    let p = plantview::project::load(dir.path()).expect("valid project");
    let h = engine::start(
        p,
        &EngineOptions {
            data_dir: Some(dir.path().join("data")),
            no_history: true,
            ..Default::default()
        },
    )
    .expect("engine");
    let good = |name: &str| {
        h.tags
            .get_by_name(name)
            .filter(|s| s.quality == Quality::Good)
    };
    let t = wait_for(Duration::from_secs(10), "polled value", || {
        good("Room.Temp")
    });
    assert_eq!(t.value, Some(Value::Number(21.5)));
    let run = wait_for(Duration::from_secs(10), "polled coil", || good("Pump.Run"));
    assert_eq!(run.value, Some(Value::Bool(true)));
    // The bridge: the polled value, published to MQTT, comes back through the broker.
    let via = wait_for(Duration::from_secs(10), "bridged over MQTT", || {
        good("Room.Temp.ViaMqtt")
    });
    assert_eq!(via.value, Some(Value::Number(21.5)));

    // The device goes away: polled tags turn bad, with the reason.
    rt.block_on(stop(server));
    let bad = wait_for(Duration::from_secs(10), "bad while unreachable", || {
        h.tags
            .get_by_name("Room.Temp")
            .filter(|s| s.quality == Quality::Bad)
    });
    assert!(
        bad.reason.as_deref().is_some_and(|r| r.starts_with("PLC:")),
        "{bad:?}"
    );

    // It comes back on the same port with a new value: good again.
    plant.holding.lock()[20] = 230;
    let (_again, _server) = rt.block_on(serve(plant.clone(), addr));
    let back = wait_for(
        Duration::from_secs(15),
        "good after the device returns",
        || good("Room.Temp").filter(|s| s.value == Some(Value::Number(23.0))),
    );
    assert!(back.reason.is_none());
}
