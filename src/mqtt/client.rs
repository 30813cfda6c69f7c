//! The MQTT client connection: connect (TCP or TLS), subscribe, reconnect with backoff and
//! resubscribe after every reconnect that has no session. Hands each publish to a callback.

use std::sync::Arc;
use std::time::Duration;

use rumqttc::{AsyncClient, Event, EventLoop, LastWill, MqttOptions, NetworkOptions, Packet, QoS};
use tokio_util::sync::CancellationToken;

/// Where and how to connect.
#[derive(Clone)]
pub struct ClientSettings {
    pub host: String,
    pub port: u16,
    pub client_id: String,
    /// Username and password.
    pub credentials: Option<(String, String)>,
    pub tls: Option<Arc<rustls::ClientConfig>>,
    pub keep_alive_s: u16,
    /// Topic, payload, retain — published by the broker if this client vanishes.
    pub last_will: Option<(String, Vec<u8>, bool)>,
}

impl std::fmt::Debug for ClientSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the password.
        f.debug_struct("ClientSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("client_id", &self.client_id)
            .field("username", &self.credentials.as_ref().map(|c| &c.0))
            .field("tls", &self.tls.is_some())
            .finish_non_exhaustive()
    }
}

impl ClientSettings {
    pub fn new(host: impl Into<String>, port: u16, client_id: impl Into<String>) -> Self {
        Self {
            host: host.into(),
            port,
            client_id: client_id.into(),
            credentials: None,
            tls: None,
            keep_alive_s: 15,
            last_will: None,
        }
    }

    /// rumqttc options and network options (TCP_NODELAY on: Nagle would add up to 40 ms).
    pub fn to_options(&self) -> (MqttOptions, NetworkOptions) {
        let mut opts = MqttOptions::new(&self.client_id, &self.host, self.port);
        opts.set_keep_alive(Duration::from_secs(u64::from(self.keep_alive_s.max(5))));
        opts.set_clean_session(true);
        opts.set_max_packet_size(4 << 20, 4 << 20);
        opts.set_inflight(1000);
        if let Some((user, pass)) = &self.credentials {
            opts.set_credentials(user, pass);
        }
        if let Some(tls) = &self.tls {
            opts.set_transport(rumqttc::Transport::tls_with_config(
                rumqttc::TlsConfiguration::Rustls(tls.clone()),
            ));
        }
        if let Some((topic, payload, retain)) = &self.last_will {
            opts.set_last_will(LastWill::new(
                topic,
                payload.clone(),
                QoS::AtLeastOnce,
                *retain,
            ));
        }
        let mut net = NetworkOptions::new();
        net.set_tcp_nodelay(true);
        net.set_connection_timeout(5);
        (opts, net)
    }

    /// A connected-on-first-poll rumqttc client and event loop.
    pub fn client(&self, request_capacity: usize) -> (AsyncClient, EventLoop) {
        let (opts, net) = self.to_options();
        let (client, mut eventloop) = AsyncClient::new(opts, request_capacity);
        eventloop.set_network_options(net);
        (client, eventloop)
    }
}

/// Connection state as the operator sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConnState {
    Connecting,
    Connected,
    /// Lost or refused; the client retries after `retry_in_ms`.
    Disconnected {
        reason: String,
        retry_in_ms: u64,
    },
}

/// One received publish.
pub struct Incoming<'a> {
    pub topic: &'a str,
    pub payload: &'a [u8],
    pub retain: bool,
}

/// A handle to publish through the subscriber's own connection.
pub type SubscriberHandle = AsyncClient;

const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);
const FILTERS_PER_SUBSCRIBE: usize = 64;

/// A subscribing client: subscribes `filters` (QoS 1) after every connect without a session,
/// hands every publish to a callback, reports state changes. Reconnects with backoff forever.
pub struct Subscriber {
    settings: ClientSettings,
    batches: Vec<Vec<rumqttc::SubscribeFilter>>,
    client: AsyncClient,
    eventloop: EventLoop,
}

impl Subscriber {
    pub fn new(settings: ClientSettings, filters: &[String]) -> Self {
        let batches: Vec<Vec<rumqttc::SubscribeFilter>> = filters
            .chunks(FILTERS_PER_SUBSCRIBE)
            .map(|chunk| {
                chunk
                    .iter()
                    .map(|f| rumqttc::SubscribeFilter::new(f.clone(), QoS::AtLeastOnce))
                    .collect()
            })
            .collect();
        // Room for every subscribe batch plus outgoing publishes.
        let (client, eventloop) = settings.client(batches.len() + 256);
        Self {
            settings,
            batches,
            client,
            eventloop,
        }
    }

    /// A handle to publish through this connection (from another task).
    pub fn handle(&self) -> SubscriberHandle {
        self.client.clone()
    }

    /// Run until `shutdown`.
    pub async fn run(
        self,
        mut on_state: impl FnMut(ConnState),
        mut on_publish: impl FnMut(Incoming<'_>),
        shutdown: CancellationToken,
    ) {
        let Self {
            settings,
            batches,
            client,
            mut eventloop,
        } = self;
        let mut backoff = BACKOFF_MIN;
        let mut pending_subacks = 0usize;
        on_state(ConnState::Connecting);
        // One cancellation future for the whole loop: creating one per message would register and
        // deregister a waiter (a lock) on every publish.
        let cancelled = shutdown.cancelled();
        tokio::pin!(cancelled);
        loop {
            let event = tokio::select! {
                biased;
                () = &mut cancelled => break,
                event = eventloop.poll() => event,
            };
            match event {
                Ok(Event::Incoming(Packet::Publish(p))) => on_publish(Incoming {
                    topic: &p.topic,
                    payload: &p.payload,
                    retain: p.retain,
                }),
                Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                    backoff = BACKOFF_MIN;
                    pending_subacks = 0;
                    if !ack.session_present {
                        for batch in &batches {
                            match client.try_subscribe_many(batch.clone()) {
                                Ok(()) => pending_subacks += 1,
                                Err(e) => tracing::error!("cannot queue subscribe: {e}"),
                            }
                        }
                    }
                    tracing::info!(host = %settings.host, port = settings.port, "MQTT connected");
                    // Connected means data can flow: after the broker acknowledged every
                    // subscription.
                    if pending_subacks == 0 {
                        on_state(ConnState::Connected);
                    }
                }
                Ok(Event::Incoming(Packet::SubAck(ack))) => {
                    for code in &ack.return_codes {
                        if matches!(code, rumqttc::SubscribeReasonCode::Failure) {
                            tracing::warn!("broker refused a subscription (pkid {})", ack.pkid);
                        }
                    }
                    if pending_subacks > 0 {
                        pending_subacks -= 1;
                        if pending_subacks == 0 {
                            on_state(ConnState::Connected);
                        }
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    let reason = describe(&e);
                    tracing::warn!(host = %settings.host, port = settings.port, "MQTT connection: {reason}");
                    on_state(ConnState::Disconnected {
                        reason,
                        retry_in_ms: u64::try_from(backoff.as_millis()).unwrap_or(u64::MAX),
                    });
                    tokio::select! {
                        () = &mut cancelled => break,
                        () = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                    on_state(ConnState::Connecting);
                }
            }
        }
        let _ = client.try_disconnect();
    }
}

fn describe(e: &rumqttc::ConnectionError) -> String {
    use rumqttc::ConnectionError as E;
    match e {
        E::ConnectionRefused(code) => format!("broker refused the connection: {code:?}"),
        E::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            "connection refused (is the broker running?)".to_owned()
        }
        E::NetworkTimeout => "network timeout".to_owned(),
        other => other.to_string(),
    }
}

/// A rustls client configuration (ring provider): trust `ca_pem` (or the system roots when
/// `None`), optionally authenticate with a client certificate and key.
pub fn tls_client_config(
    ca_pem: Option<&[u8]>,
    client_auth: Option<(&[u8], &[u8])>,
) -> Result<Arc<rustls::ClientConfig>, String> {
    tls_client_config_for(ca_pem, client_auth, None)
}

/// [`tls_client_config`], checking the broker's certificate for `server_name` instead of the
/// host connected to (when given).
pub fn tls_client_config_for(
    ca_pem: Option<&[u8]>,
    client_auth: Option<(&[u8], &[u8])>,
    server_name: Option<&str>,
) -> Result<Arc<rustls::ClientConfig>, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

    let mut roots = rustls::RootCertStore::empty();
    match ca_pem {
        Some(pem) => {
            let mut n = 0;
            for cert in CertificateDer::pem_slice_iter(pem) {
                let cert = cert.map_err(|e| format!("CA file: {e}"))?;
                roots
                    .add(cert)
                    .map_err(|e| format!("CA file: certificate not usable: {e}"))?;
                n += 1;
            }
            if n == 0 {
                return Err("CA file: no PEM certificate found".to_owned());
            }
        }
        None => {
            let native = rustls_native_certs::load_native_certs();
            let (added, _) = roots.add_parsable_certificates(native.certs);
            if added == 0 {
                return Err("no system CA certificates found; set tls.ca_file".to_owned());
            }
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?;
    let builder = match server_name {
        None => builder.with_root_certificates(roots),
        Some(name) => {
            let name = ServerName::try_from(name.to_owned())
                .map_err(|e| format!("tls.server_name `{name}`: {e}"))?;
            let inner = rustls::client::WebPkiServerVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .build()
            .map_err(|e| format!("TLS: {e}"))?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(FixedServerName { inner, name }))
        }
    };
    let config = match client_auth {
        Some((cert_pem, key_pem)) => {
            let certs = CertificateDer::pem_slice_iter(cert_pem)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("client certificate: {e}"))?;
            if certs.is_empty() {
                return Err("client certificate: no PEM certificate found".to_owned());
            }
            let key =
                PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| format!("client key: {e}"))?;
            builder
                .with_client_auth_cert(certs, key)
                .map_err(|e| format!("client certificate/key: {e}"))?
        }
        None => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}

/// The standard WebPKI check (chain, validity, signatures), against a configured name instead
/// of the host connected to. Nothing else is relaxed.
#[derive(Debug)]
struct FixedServerName {
    inner: Arc<rustls::client::WebPkiServerVerifier>,
    name: rustls::pki_types::ServerName<'static>,
}

impl rustls::client::danger::ServerCertVerifier for FixedServerName {
    fn verify_server_cert(
        &self,
        end_entity: &rustls::pki_types::CertificateDer<'_>,
        intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        ocsp_response: &[u8],
        now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        self.inner
            .verify_server_cert(end_entity, intermediates, &self.name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}
