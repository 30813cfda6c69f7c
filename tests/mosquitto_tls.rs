//! TLS interop: Mosquitto started here with two TLS listeners (one requiring a client
//! certificate) and certificates generated here with rcgen. The engine connects over TLS, checks
//! the broker's certificate against the test CA and a configured `server_name`, and receives a
//! value; without its client certificate the second listener refuses it.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{free_addr, peer_missing, wait_for, write_project};
use plantview::engine::{self, EngineHandle, EngineOptions, Value};
use plantview::mqtt::ConnState;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair,
};

const SERVER_NAME: &str = "mqtt.plant.test";

struct Mosquitto(Child);

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// ca.pem, server.pem/key (for SERVER_NAME only), client.pem/key, all signed by the test CA.
fn make_certs(dir: &Path) {
    let ca_key = KeyPair::generate().expect("ca key");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("ca params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "PlantView test CA");
    let ca = CertifiedIssuer::self_signed(ca, ca_key).expect("ca");
    std::fs::write(dir.join("ca.pem"), ca.pem()).expect("write");

    for (name, sans, usage) in [
        (
            "server",
            vec![SERVER_NAME.to_owned()],
            ExtendedKeyUsagePurpose::ServerAuth,
        ),
        (
            "client",
            vec!["plantview-client".to_owned()],
            ExtendedKeyUsagePurpose::ClientAuth,
        ),
    ] {
        let key = KeyPair::generate().expect("key");
        let mut params = CertificateParams::new(sans).expect("params");
        params.distinguished_name.push(DnType::CommonName, name);
        params.extended_key_usages = vec![usage];
        let cert = params.signed_by(&key, &ca).expect("sign");
        std::fs::write(dir.join(format!("{name}.pem")), cert.pem()).expect("write");
        std::fs::write(dir.join(format!("{name}.key")), key.serialize_pem()).expect("write");
    }
}

/// Listeners: `plain` (loopback, for mosquitto_pub), `tls`, `mtls` (client certificate required).
fn start_mosquitto(dir: &Path, plain: SocketAddr, tls: SocketAddr, mtls: SocketAddr) -> Mosquitto {
    let d = dir.display();
    let tls_settings = format!(
        "cafile {d}/ca.pem\ncertfile {d}/server.pem\nkeyfile {d}/server.key\ntls_version tlsv1.2\n"
    );
    let conf = format!(
        "allow_anonymous true\npersistence false\n\
         listener {} 127.0.0.1\n\
         listener {} 127.0.0.1\n{tls_settings}\
         listener {} 127.0.0.1\n{tls_settings}require_certificate true\n",
        plain.port(),
        tls.port(),
        mtls.port()
    );
    let path = dir.join("mosquitto.conf");
    std::fs::write(&path, conf).expect("conf");
    let child = Command::new("mosquitto")
        .arg("-c")
        .arg(&path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start mosquitto");
    for addr in [plain, tls, mtls] {
        wait_for(Duration::from_secs(10), "mosquitto listening", || {
            std::net::TcpStream::connect(addr).ok()
        });
    }
    Mosquitto(child)
}

fn engine_on(dir: &Path, url: &str, tls: &str) -> EngineHandle {
    let project = format!(
        r#"{{ "format": 1, "name": "TLS",
  "broker": {{ "mode": "external", "url": "{url}", "tls": {tls} }},
  "tags": [ {{ "name": "Pressure", "topic": "plant/pressure" }} ] }}"#
    );
    write_project(dir, &project, &[]);
    // Certificates relative to the project folder.
    for f in ["ca.pem", "client.pem", "client.key"] {
        std::fs::copy(dir.parent().expect("parent").join(f), dir.join(f)).expect("copy");
    }
    let p = plantview::project::load(dir).expect("valid");
    engine::start(
        p,
        &EngineOptions {
            data_dir: Some(dir.join("data")),
            no_history: true,
            ..Default::default()
        },
    )
    .expect("engine")
}

#[test]
fn engine_connects_to_mosquitto_over_tls_with_and_without_a_client_certificate() {
    if peer_missing("mosquitto") || peer_missing("mosquitto_pub") {
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    make_certs(dir.path());
    let (plain, tls, mtls) = (free_addr(), free_addr(), free_addr());
    let _broker = start_mosquitto(dir.path(), plain, tls, mtls);
    let status = Command::new("mosquitto_pub")
        .args(["-h", "127.0.0.1", "-p", &plain.port().to_string()])
        .args(["-q", "1", "-r", "-t", "plant/pressure", "-m", "3.25"])
        .status()
        .expect("mosquitto_pub");
    assert!(status.success());

    let server_only = format!(r#"{{ "ca_file": "ca.pem", "server_name": "{SERVER_NAME}" }}"#);
    let with_client = format!(
        r#"{{ "ca_file": "ca.pem", "server_name": "{SERVER_NAME}",
             "client_cert_file": "client.pem", "client_key_file": "client.key" }}"#
    );
    let value = |h: &EngineHandle, what: &str| {
        wait_for(Duration::from_secs(15), what, || {
            (h.tags.get_by_name("Pressure")?.value == Some(Value::Number(3.25))).then_some(())
        });
    };

    // TLS, server certificate checked for the configured name (the URL's host is an IP).
    let a = engine_on(
        &dir.path().join("a"),
        &format!("mqtts://{tls}"),
        &server_only,
    );
    value(&a, "value over TLS");
    assert!(
        a.status().broker.starts_with("mqtts://"),
        "{}",
        a.status().broker
    );

    // Client certificate required: with it, the value arrives.
    let b = engine_on(
        &dir.path().join("b"),
        &format!("mqtts://{mtls}"),
        &with_client,
    );
    value(&b, "value over mutual TLS");

    // Without it, Mosquitto refuses the handshake and no value arrives.
    let c = engine_on(
        &dir.path().join("c"),
        &format!("mqtts://{mtls}"),
        &server_only,
    );
    wait_for(
        Duration::from_secs(15),
        "refused without a client certificate",
        || matches!(c.status().connection, ConnState::Disconnected { .. }).then_some(()),
    );
    assert!(
        c.tags
            .get_by_name("Pressure")
            .and_then(|s| s.value)
            .is_none()
    );

    // Without server_name the certificate does not match 127.0.0.1: refused.
    let d = engine_on(
        &dir.path().join("d"),
        &format!("mqtts://{tls}"),
        r#"{ "ca_file": "ca.pem" }"#,
    );
    let reason = wait_for(Duration::from_secs(15), "name mismatch refused", || match d
        .status()
        .connection
    {
        ConnState::Disconnected { reason, .. } => Some(reason),
        _ => None,
    });
    assert!(
        reason.to_lowercase().contains("certificate"),
        "the reason names the certificate: {reason}"
    );
    assert!(
        d.tags
            .get_by_name("Pressure")
            .and_then(|s| s.value)
            .is_none()
    );
}

/// The embedded broker's own TLS listener: PlantView as the broker (plain on loopback, TLS on
/// another port with the site certificate, accounts required), a second PlantView connecting
/// over TLS as an external client that checks the certificate; a retained value crosses.
#[test]
fn embedded_broker_serves_tls_with_the_given_certificate() {
    let dir = tempfile::tempdir().expect("tmp");
    make_certs(dir.path());
    let var = "PV_TEST_EMBEDDED_TLS_HMI";
    // SAFETY: set once before the engines start; no other thread of this binary reads it.
    unsafe { std::env::set_var(var, "hmi-password-7") };
    let (plain, tls) = (common::free_addr_pair(), free_addr());
    let broker_dir = dir.path().join("broker");
    write_project(
        &broker_dir,
        &format!(
            r#"{{ "format": 1, "name": "Broker",
  "broker": {{ "mode": "embedded", "listen": "{plain}",
              "auth": {{ "users": [ {{ "username": "hmi", "password_env": "{var}" }} ] }},
              "tls": {{ "listen": "{tls}", "cert_file": "../server.pem", "key_file": "../server.key" }} }},
  "tags": [ {{ "name": "Level", "topic": "plant/level" }} ] }}"#
        ),
        &[],
    );
    let p = plantview::project::load(&broker_dir).expect("valid broker project");
    let owner = engine::start(
        p,
        &EngineOptions {
            data_dir: Some(broker_dir.join("data")),
            no_history: true,
            ..Default::default()
        },
    )
    .expect("engine with TLS listener");
    assert!(
        owner.status().broker.contains(&format!("mqtts://{tls}")),
        "{}",
        owner.status().broker
    );
    // A value goes in through the engine's own (plain, loopback) connection, once it is up.
    wait_for(Duration::from_secs(10), "broker owner connected", || {
        (owner.status().connection == ConnState::Connected).then_some(())
    });
    owner
        .send(plantview::engine::Command::Publish {
            id: 1,
            actor: plantview::security::Actor::open_mode(),
            topic: "plant/level".into(),
            payload: b"61.5".to_vec(),
            retain: true,
        })
        .expect("queued");

    // Another PlantView reaches it over TLS, checking the certificate.
    let client_dir = dir.path().join("client");
    write_project(
        &client_dir,
        &format!(
            r#"{{ "format": 1, "name": "Client",
  "broker": {{ "mode": "external", "url": "mqtts://{tls}", "username": "hmi", "password_env": "{var}",
              "tls": {{ "ca_file": "../ca.pem", "server_name": "{SERVER_NAME}" }} }},
  "tags": [ {{ "name": "Level", "topic": "plant/level" }} ] }}"#
        ),
        &[],
    );
    let c = plantview::project::load(&client_dir).expect("valid client project");
    let client = engine::start(
        c,
        &EngineOptions {
            data_dir: Some(client_dir.join("data")),
            no_history: true,
            ..Default::default()
        },
    )
    .expect("client engine");
    wait_for(Duration::from_secs(10), "value over TLS", || {
        (client.tags.get_by_name("Level")?.value == Some(Value::Number(61.5))).then_some(())
    });
    // Plain MQTT on the TLS port gets no CONNACK.
    let mut s = std::net::TcpStream::connect(tls).expect("connect");
    s.set_read_timeout(Some(Duration::from_millis(500)))
        .expect("timeout");
    use std::io::{Read as _, Write as _};
    let _ = s.write_all(&[0x10, 0x0c, 0, 4, b'M', b'Q', b'T', b'T', 4, 2, 0, 10, 0, 0]);
    let mut buf = [0u8; 4];
    assert!(
        !matches!(s.read(&mut buf), Ok(n) if n >= 2 && buf[0] == 0x20),
        "no plaintext MQTT on the TLS port"
    );
    drop(owner);
}
