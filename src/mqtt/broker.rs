//! The embedded MQTT broker (rumqttd) with an MQTT 3.1.1 and an MQTT 5 listener.
//!
//! rumqttd has no shutdown: the broker lives until the process ends. Start it once per process.
//!
//! Without accounts it listens on loopback only; any other address needs [`BrokerAuth`]
//! (rumqttd's username/password map). With accounts, PlantView's own clients (engine,
//! simulator, topic browser) log in with an internal account whose random password lives only
//! in this process. No TLS here: rumqttd's TLS needs its `use-rustls` feature, which brings a
//! second rustls (0.22) and x509-parser; put a TLS-terminating broker (Mosquitto) in front or
//! keep the embedded broker on loopback.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    #[error(
        "cannot listen on {addr}: {source} (is another broker running there? \
         choose another address with --broker-listen HOST:PORT)"
    )]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("embedded broker configuration: {0}")]
    Config(String),
    #[error("embedded broker did not start listening on {0} within 5 s")]
    NotListening(SocketAddr),
    #[error(
        "refusing to listen on {0} without authentication: that address is reachable from the \
         network. Configure broker.auth (users with password_env) in project.json, or listen \
         on 127.0.0.1"
    )]
    Unauthenticated(SocketAddr),
}

/// The broker's accounts: username and password.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct BrokerAuth {
    pub users: Vec<(String, String)>,
}

impl std::fmt::Debug for BrokerAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print a password.
        let names: Vec<&str> = self.users.iter().map(|(u, _)| u.as_str()).collect();
        f.debug_struct("BrokerAuth").field("users", &names).finish()
    }
}

/// The internal account's name (PlantView's own clients when the broker has accounts).
pub const INTERNAL_USER: &str = "plantview-internal";

#[derive(Clone)]
pub struct EmbeddedBroker {
    /// MQTT 3.1.1 listener.
    pub listen: SocketAddr,
    /// MQTT 5 listener.
    pub listen_v5: SocketAddr,
    /// What PlantView's own clients log in with (`None`: the broker has no accounts).
    pub credentials: Option<(String, String)>,
}

impl std::fmt::Debug for EmbeddedBroker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedBroker")
            .field("listen", &self.listen)
            .field("listen_v5", &self.listen_v5)
            .field("accounts", &self.credentials.is_some())
            .finish()
    }
}

/// The rumqttd configuration used for the embedded broker; `auth` maps usernames to passwords.
pub fn broker_config(
    listen: SocketAddr,
    listen_v5: SocketAddr,
    auth: Option<&std::collections::HashMap<String, String>>,
) -> serde_json::Value {
    let connections = serde_json::json!({
        "connection_timeout_ms": 10_000,
        // JSON and Sparkplug payloads can be large; refuse only the absurd.
        "max_payload_size": 1 << 20,
        "max_inflight_count": 500,
        "dynamic_filters": true,
        "auth": auth,
    });
    serde_json::json!({
        "id": 0,
        "router": {
            "max_connections": 10_010,
            "max_outgoing_packet_count": 200,
            // Per-filter retention of 4 MiB × 8: rumqttd's default (100 MB × 10) holds ~3 GB
            // and stalls its router ~25 ms each time a full segment is dropped.
            "max_segment_size": 4 << 20,
            "max_segment_count": 8,
        },
        "v4": { "1": {
            "name": "pv-broker-v4",
            "listen": listen.to_string(),
            "next_connection_delay_ms": 1,
            "connections": connections,
        }},
        "v5": { "1": {
            "name": "pv-broker-v5",
            "listen": listen_v5.to_string(),
            "next_connection_delay_ms": 1,
            "connections": connections,
        }},
    })
}

impl EmbeddedBroker {
    /// Start the broker on `listen` (MQTT 3.1.1) and `listen_v5` (MQTT 5; default: the next
    /// port). Port 0 picks a free port. Returns once both listeners accept connections.
    ///
    /// rumqttd cannot be stopped, so a broker lives as long as the process. Asking again for
    /// an address this process already serves returns that broker (the engine restarts after
    /// the editor saves a project; its broker stays up and clients stay connected).
    pub fn start(listen: SocketAddr, listen_v5: Option<SocketAddr>) -> Result<Self, BrokerError> {
        Self::start_with_auth(listen, listen_v5, None)
    }

    /// [`Self::start`] with accounts: clients must log in with one of `auth`'s users (or the
    /// internal account in [`Self::credentials`]). Without accounts only loopback addresses are
    /// allowed.
    pub fn start_with_auth(
        listen: SocketAddr,
        listen_v5: Option<SocketAddr>,
        auth: Option<&BrokerAuth>,
    ) -> Result<Self, BrokerError> {
        if auth.is_none() {
            for addr in std::iter::once(listen).chain(listen_v5) {
                if !addr.ip().is_loopback() {
                    return Err(BrokerError::Unauthenticated(addr));
                }
            }
        }
        static RUNNING: parking_lot::Mutex<Vec<(SocketAddr, EmbeddedBroker)>> =
            parking_lot::Mutex::new(Vec::new());
        let mut running = RUNNING.lock();
        if listen.port() != 0
            && let Some((_, b)) = running.iter().find(|(asked, _)| *asked == listen)
        {
            if b.credentials.is_some() != auth.is_some() {
                tracing::warn!(
                    "the embedded broker on {listen} keeps its accounts until PlantView restarts"
                );
            }
            return Ok(b.clone());
        }
        let started = Self::start_new(listen, listen_v5, auth)?;
        running.push((listen, started.clone()));
        Ok(started)
    }

    fn start_new(
        listen: SocketAddr,
        listen_v5: Option<SocketAddr>,
        auth: Option<&BrokerAuth>,
    ) -> Result<Self, BrokerError> {
        let listen = claim(listen)?;
        let listen_v5 = match listen_v5 {
            Some(a) => claim(a)?,
            None => {
                let next = SocketAddr::new(listen.ip(), listen.port().wrapping_add(1));
                claim(next).or_else(|_| claim(SocketAddr::new(listen.ip(), 0)))?
            }
        };
        let credentials = auth.map(|_| (INTERNAL_USER.to_owned(), random_password()));
        let map = auth.map(|a| {
            let mut map: std::collections::HashMap<String, String> =
                a.users.iter().cloned().collect();
            if let Some((u, p)) = &credentials {
                map.insert(u.clone(), p.clone());
            }
            map
        });
        let config: rumqttd::Config =
            serde_json::from_value(broker_config(listen, listen_v5, map.as_ref()))
                .map_err(|e| BrokerError::Config(e.to_string()))?;
        let mut broker = rumqttd::Broker::new(config);
        std::thread::Builder::new()
            .name("pv-broker".to_owned())
            .spawn(move || {
                if let Err(e) = broker.start() {
                    tracing::error!("embedded broker stopped: {e}");
                }
            })
            .map_err(|e| BrokerError::Config(format!("cannot start broker thread: {e}")))?;
        let login = credentials.as_ref().map(|(u, p)| (u.as_str(), p.as_str()));
        wait_listening(listen, false, login)?;
        wait_listening(listen_v5, true, login)?;
        // rumqttd leaves Nagle on for the sockets it accepts: a subscriber then waits for the
        // broker's delayed ACK dance (measured: p99 9 ms, stalls of 30–80 ms at 10k msg/s).
        // Accepted sockets inherit TCP_NODELAY from their listener, so set it there.
        let fixed = set_listener_nodelay(&[listen.port(), listen_v5.port()]);
        if fixed < 2 {
            tracing::warn!("could not set TCP_NODELAY on the broker listeners ({fixed} of 2)");
        }
        tracing::info!(
            %listen,
            %listen_v5,
            accounts = auth.map_or(0, |a| a.users.len()),
            "embedded MQTT broker listening"
        );
        Ok(Self {
            listen,
            listen_v5,
            credentials,
        })
    }
}

/// 128 random bits, hex.
fn random_password() -> String {
    use rand::{RngCore as _, SeedableRng as _};
    let mut bytes = [0u8; 16];
    rand::rngs::StdRng::from_os_rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Set TCP_NODELAY on this process's listening sockets bound to `ports` (the embedded broker's
/// listeners, which rumqttd binds itself). Returns how many were set.
#[cfg(target_os = "linux")]
fn set_listener_nodelay(ports: &[u16]) -> usize {
    use std::os::fd::{BorrowedFd, RawFd};
    let Ok(dir) = std::fs::read_dir("/proc/self/fd") else {
        return 0;
    };
    let mut n = 0;
    for entry in dir.flatten() {
        let Ok(fd) = entry.file_name().to_string_lossy().parse::<RawFd>() else {
            continue;
        };
        // SAFETY: `fd` was listed as open in this process just now and is only borrowed for the
        // few calls below. If another thread closed and reused it meanwhile, the calls fail on a
        // non-socket or only touch a listener on the broker's port, which is what we want.
        let fd = unsafe { BorrowedFd::borrow_raw(fd) };
        let sock = socket2::SockRef::from(&fd);
        let on_port = sock
            .local_addr()
            .ok()
            .and_then(|a| a.as_socket())
            .is_some_and(|a| ports.contains(&a.port()));
        if on_port && sock.is_listener().unwrap_or(false) && sock.set_tcp_nodelay(true).is_ok() {
            n += 1;
        }
    }
    n
}

#[cfg(not(target_os = "linux"))]
fn set_listener_nodelay(_ports: &[u16]) -> usize {
    // Elsewhere the broker keeps Nagle on its side; clients still set TCP_NODELAY.
    2
}

/// Check that `addr` can be bound (and resolve port 0 to a free port).
///
/// A port can be held for a moment by a process forked just then (it inherits every socket until
/// it execs), or by the PlantView that just exited: "in use" is retried for half a second.
fn claim(addr: SocketAddr) -> Result<SocketAddr, BrokerError> {
    let mut tries = 0;
    let listener = loop {
        match TcpListener::bind(addr) {
            Ok(l) => break l,
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && tries < 10 => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(source) => return Err(BrokerError::Bind { addr, source }),
        }
    };
    listener
        .local_addr()
        .map_err(|source| BrokerError::Bind { addr, source })
}

/// Wait until the broker answers an MQTT CONNECT on `addr` with a CONNACK (then disconnect
/// cleanly, so the broker logs no half-open client).
fn wait_listening(
    addr: SocketAddr,
    v5: bool,
    login: Option<(&str, &str)>,
) -> Result<(), BrokerError> {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if probe(addr, v5, login).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Err(BrokerError::NotListening(addr))
}

fn probe(addr: SocketAddr, v5: bool, login: Option<(&str, &str)>) -> std::io::Result<()> {
    use std::io::{Read as _, Write as _};
    let target = if addr.ip().is_unspecified() {
        SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), addr.port())
    } else {
        addr
    };
    let mut stream = TcpStream::connect_timeout(&target, Duration::from_millis(200))?;
    stream.set_read_timeout(Some(Duration::from_millis(500)))?;
    // A fresh client id per probe: rumqttd 0.20 panics (and poisons the listener) when a client
    // id whose earlier link failed during set-up connects again.
    static PROBES: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = PROBES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let id = format!("pv-probe-{}-{n}", std::process::id());
    let id = id.as_bytes();
    let mut body = vec![0x00, 0x04, b'M', b'Q', b'T', b'T'];
    body.push(if v5 { 5 } else { 4 });
    // Clean session (+ username and password), keep alive 10 s.
    let flags = if login.is_some() { 0xC2 } else { 0x02 };
    body.extend([flags, 0x00, 0x0a]);
    if v5 {
        body.push(0x00); // no properties
    }
    let mut string = |s: &[u8]| {
        let len = u16::try_from(s.len()).unwrap_or(u16::MAX);
        body.extend(len.to_be_bytes());
        body.extend(&s[..usize::from(len)]);
    };
    string(id);
    if let Some((user, pass)) = login {
        string(user.as_bytes());
        string(pass.as_bytes());
    }
    let mut packet = vec![0x10];
    // Remaining length, MQTT variable-length encoding.
    let mut len = body.len();
    loop {
        let mut byte = (len % 128) as u8;
        len /= 128;
        if len > 0 {
            byte |= 0x80;
        }
        packet.push(byte);
        if len == 0 {
            break;
        }
    }
    packet.extend(body);
    stream.write_all(&packet)?;
    // Read the whole CONNACK (unread bytes at close would reset the connection), say
    // DISCONNECT and let the broker close first, so it logs nothing alarming.
    let mut head = [0u8; 2];
    stream.read_exact(&mut head)?;
    if head[0] != 0x20 {
        return Err(std::io::Error::other("not a CONNACK"));
    }
    let mut rest = vec![0u8; usize::from(head[1])];
    stream.read_exact(&mut rest)?;
    stream.write_all(&[0xE0, 0x00])?;
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let mut sink = [0u8; 64];
    while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
    Ok(())
}
