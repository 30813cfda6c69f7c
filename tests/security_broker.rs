//! The embedded broker with accounts: an anonymous client and a wrong password are refused, a
//! configured account connects, and the engine (with its internal account) receives what an
//! authenticated field device publishes. Listening beyond loopback without accounts fails with a
//! clear message, at start and in `plantview check`.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::{wait_for, write_project};
use plantview::engine::{self, EngineOptions, Value};
use plantview::mqtt::{BrokerAuth, BrokerError, ClientSettings, EmbeddedBroker};

/// Whether a client with `credentials` gets a CONNACK from `addr` within 5 s (one attempt: a
/// fresh client id, no reconnects).
fn connects(addr: SocketAddr, credentials: Option<(&str, &str)>) -> bool {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut settings = ClientSettings::new(
        addr.ip().to_string(),
        addr.port(),
        format!("auth-test-{}-{n}", std::process::id()),
    );
    settings.credentials = credentials.map(|(u, p)| (u.to_owned(), p.to_owned()));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let (_client, mut eventloop) = settings.client(10);
        tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                match eventloop.poll().await {
                    Ok(rumqttc::Event::Incoming(rumqttc::Packet::ConnAck(ack))) => {
                        return ack.code == rumqttc::ConnectReturnCode::Success;
                    }
                    Ok(_) => {}
                    Err(_) => return false,
                }
            }
        })
        .await
        .unwrap_or(false)
    })
}

fn publish_as(addr: SocketAddr, user: &str, password: &str, topic: &str, payload: &str) {
    let mut settings = ClientSettings::new(
        addr.ip().to_string(),
        addr.port(),
        format!("edge-{}", std::process::id()),
    );
    settings.credentials = Some((user.to_owned(), password.to_owned()));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let (client, mut eventloop) = settings.client(10);
        client
            .publish(
                topic,
                rumqttc::QoS::AtLeastOnce,
                true,
                payload.as_bytes().to_vec(),
            )
            .await
            .expect("queue");
        tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                match eventloop.poll().await {
                    Ok(rumqttc::Event::Incoming(rumqttc::Packet::PubAck(_))) => return,
                    Ok(_) => {}
                    Err(e) => panic!("edge client: {e}"),
                }
            }
        })
        .await
        .expect("puback in time");
    });
}

#[test]
fn anonymous_and_wrong_password_are_refused_a_configured_account_connects() {
    let addr = common::free_addr_pair();
    let auth = BrokerAuth {
        users: vec![("edge1".into(), "edge1-password".into())],
    };
    let broker = EmbeddedBroker::start_with_auth(addr, None, Some(&auth)).expect("broker");
    assert!(
        broker.credentials.is_some(),
        "an internal account for PlantView"
    );
    assert!(!connects(broker.listen, None), "anonymous refused");
    assert!(
        !connects(broker.listen, Some(("edge1", "wrong-password"))),
        "wrong password refused"
    );
    assert!(!connects(broker.listen_v5, None), "MQTT 5 listener too");
    assert!(connects(broker.listen, Some(("edge1", "edge1-password"))));
    let (u, p) = broker.credentials.clone().expect("internal");
    assert!(connects(broker.listen, Some((&u, &p))));
    // The account map never shows a password.
    assert!(!format!("{auth:?}").contains("edge1-password"));
}

#[test]
fn listening_beyond_loopback_without_accounts_fails_clearly() {
    let port = common::free_addr_pair().port();
    let any: SocketAddr = format!("0.0.0.0:{port}").parse().expect("addr");
    let err = EmbeddedBroker::start(any, None).expect_err("refused");
    assert!(matches!(err, BrokerError::Unauthenticated(a) if a == any));
    let text = err.to_string();
    assert!(
        text.contains("0.0.0.0") && text.contains("without authentication"),
        "{text}"
    );
    assert!(text.contains("broker.auth"), "says what to do: {text}");
    assert!(
        std::net::TcpListener::bind(any).is_ok(),
        "nothing was bound"
    );

    // The project check says the same, naming file and field.
    let dir = tempfile::tempdir().expect("tmp");
    write_project(
        dir.path(),
        &format!(
            r#"{{ "format": 1, "name": "Open to all",
  "broker": {{ "mode": "embedded", "listen": "{any}" }}, "tags": [] }}"#
        ),
        &[],
    );
    let err = plantview::project::load(dir.path()).expect_err("refused");
    let p = &err.problems[0];
    assert_eq!(
        (p.file.as_str(), p.field.as_str()),
        ("project.json", "broker.listen")
    );
    assert!(p.message.contains("broker.auth"), "{p}");

    // An override on the command line is refused at start.
    let dir2 = tempfile::tempdir().expect("tmp");
    write_project(
        dir2.path(),
        r#"{ "format": 1, "name": "x", "tags": [] }"#,
        &[],
    );
    let project = plantview::project::load(dir2.path()).expect("valid");
    let err = engine::start(
        project,
        &EngineOptions {
            broker_listen: Some(any),
            data_dir: Some(dir2.path().join("data")),
            no_history: true,
            ..Default::default()
        },
    )
    .err()
    .expect("refused");
    assert!(err.to_string().contains("without authentication"), "{err}");
}

#[test]
fn engine_with_broker_accounts_receives_from_an_authenticated_device() {
    let addr = common::free_addr_pair();
    let var = "PV_TEST_SECURITY_BROKER_EDGE1";
    // SAFETY: set once, before the engine starts; no other thread of this test binary reads
    // this variable.
    unsafe { std::env::set_var(var, "edge1-password") };
    let dir = tempfile::tempdir().expect("tmp");
    write_project(
        dir.path(),
        &format!(
            r#"{{ "format": 1, "name": "Auth",
  "broker": {{ "mode": "embedded", "listen": "{addr}",
              "auth": {{ "users": [ {{ "username": "edge1", "password_env": "{var}" }} ] }} }},
  "tags": [ {{ "name": "Flow", "topic": "plant/flow" }} ] }}"#
        ),
        &[],
    );
    let project = plantview::project::load(dir.path()).expect("valid");
    let h = engine::start(
        project,
        &EngineOptions {
            data_dir: Some(dir.path().join("data")),
            no_history: true,
            ..Default::default()
        },
    )
    .expect("engine");
    wait_for(Duration::from_secs(10), "engine connected", || {
        matches!(h.status().connection, plantview::mqtt::ConnState::Connected).then_some(())
    });
    publish_as(addr, "edge1", "edge1-password", "plant/flow", "12.5");
    wait_for(Duration::from_secs(10), "value from the device", || {
        (h.tags.get_by_name("Flow")?.value == Some(Value::Number(12.5))).then_some(())
    });
    assert!(!connects(addr, None), "anonymous still refused");

    // A missing password variable is named.
    let dir2 = tempfile::tempdir().expect("tmp");
    let addr2 = common::free_addr_pair();
    write_project(
        dir2.path(),
        &format!(
            r#"{{ "format": 1, "name": "Auth",
  "broker": {{ "mode": "embedded", "listen": "{addr2}",
              "auth": {{ "users": [ {{ "username": "x", "password_env": "PV_TEST_NOT_SET_ANYWHERE" }} ] }} }},
  "tags": [] }}"#
        ),
        &[],
    );
    let err = engine::start(
        plantview::project::load(dir2.path()).expect("valid"),
        &EngineOptions {
            data_dir: Some(dir2.path().join("data")),
            no_history: true,
            ..Default::default()
        },
    )
    .err()
    .expect("refused");
    assert!(
        err.to_string().contains("PV_TEST_NOT_SET_ANYWHERE"),
        "{err}"
    );
}

/// An external broker that needs a password: without the variable the engine says which one
/// and how else to give it; a password typed at the prompt (passed in, never stored) connects.
#[test]
fn a_typed_broker_password_connects_and_a_missing_one_is_named() {
    let addr = common::free_addr_pair();
    let auth = BrokerAuth {
        users: vec![("hmi".into(), "typed-secret-9".into())],
    };
    let _broker = EmbeddedBroker::start_with_auth(addr, None, Some(&auth)).expect("broker");
    let dir = tempfile::tempdir().expect("tmp");
    common::write_project(
        dir.path(),
        &format!(
            r#"{{ "format": 1, "name": "External", "broker": {{ "mode": "external", "url": "mqtt://{addr}",
  "username": "hmi", "password_env": "PV_TEST_PASSWORD_NOT_SET_ANYWHERE" }},
  "tags": [ {{ "name": "T", "topic": "ext/t" }} ] }}"#
        ),
        &[],
    );
    let project = plantview::project::load(dir.path()).expect("valid");
    let options = plantview::engine::EngineOptions {
        data_dir: Some(dir.path().join("data")),
        no_history: true,
        ..Default::default()
    };
    let err = plantview::engine::start(project.clone(), &options)
        .err()
        .expect("no password")
        .to_string();
    assert!(
        err.contains("PV_TEST_PASSWORD_NOT_SET_ANYWHERE") && err.contains("terminal"),
        "{err}"
    );
    let typed = plantview::engine::EngineOptions {
        broker_password: Some(plantview::engine::Secret("typed-secret-9".into())),
        ..options
    };
    assert!(
        !format!("{typed:?}").contains("typed-secret-9"),
        "never printed"
    );
    let h = plantview::engine::start(project, &typed).expect("engine");
    common::wait_for(Duration::from_secs(10), "connected", || {
        matches!(h.status().connection, plantview::mqtt::ConnState::Connected).then_some(())
    });
    publish_as(addr, "hmi", "typed-secret-9", "ext/t", "7.5");
    common::wait_for(Duration::from_secs(10), "value", || {
        (h.tags.get_by_name("T").and_then(|s| s.value)
            == Some(plantview::engine::Value::Number(7.5)))
        .then_some(())
    });
}

/// A desktop launch (no terminal) with the broker password variable unset: the window asks
/// for it (masked), then runs the plant with it.
#[test]
fn the_window_asks_for_a_missing_broker_password() {
    use egui_kittest::kittest::Queryable as _;
    let addr = common::free_addr_pair();
    let auth = BrokerAuth {
        users: vec![("hmi".into(), "window-secret-5".into())],
    };
    let _broker = EmbeddedBroker::start_with_auth(addr, None, Some(&auth)).expect("broker");
    let dir = tempfile::tempdir().expect("tmp");
    common::write_project(
        dir.path(),
        &format!(
            r#"{{ "format": 1, "name": "Remote plant", "broker": {{ "mode": "external", "url": "mqtt://{addr}",
  "username": "hmi", "password_env": "PV_TEST_WINDOW_PASSWORD_UNSET" }},
  "tags": [ {{ "name": "T", "topic": "ext/t" }} ] }}"#
        ),
        &[(
            "main",
            r#"{ "format": 1, "title": "Main", "widgets": [
  { "id": "v", "kind": "value", "x": 20, "y": 20, "w": 160, "h": 56, "tag": "T", "label": "Remote T" } ] }"#,
        )],
    );
    let project = plantview::project::load(dir.path()).expect("valid");
    let options = plantview::engine::EngineOptions {
        data_dir: Some(dir.path().join("data")),
        no_history: true,
        ..Default::default()
    };
    let err = plantview::engine::start(project.clone(), &options)
        .err()
        .expect("no password");
    assert!(plantview::gui::launch::asks_password(&err));
    let launcher = plantview::gui::launch::Launcher::new(
        project,
        options,
        Box::new(plantview::gui::PlantViewApp::new),
    );
    let mut h = egui_kittest::Harness::builder()
        .with_size([1200.0, 800.0])
        .build_ui_state(
            |ui, l: &mut plantview::gui::launch::Launcher| l.ui_root(ui),
            launcher,
        );
    h.run_steps(2);
    assert!(
        h.query_by_label_contains("needs the password of `hmi`")
            .is_some()
    );
    common::gui::type_into(&mut h, "Broker password", "window-secret-5");
    h.get_by_label("Connect").click();
    h.run_steps(2);
    assert!(h.state_mut().app().is_some(), "the plant runs");
    common::gui::step_until(&mut h, "connected with the typed password", |h| {
        h.query_by_label_contains("MQTT connected").is_some()
    });
    publish_as(addr, "hmi", "window-secret-5", "ext/t", "4.5");
    common::gui::step_until(&mut h, "value", |h| {
        h.query_by_label_contains("Remote T: 4.5").is_some()
    });
}
