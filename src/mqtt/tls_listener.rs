//! TLS for the embedded broker: a listener that terminates TLS with the project's certificate
//! and key and hands each connection, decrypted, to the broker's loopback listener. (rumqttd's
//! own TLS would bring a second TLS stack; this uses the rustls/ring the client already uses.)
//! The broker still checks every client's account: MQTT CONNECT passes through unchanged.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

/// A rustls server configuration (ring provider) for `cert_pem` (the chain) and `key_pem`.
pub fn tls_server_config(
    cert_pem: &[u8],
    key_pem: &[u8],
) -> Result<Arc<rustls::ServerConfig>, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("certificate: {e}"))?;
    if chain.is_empty() {
        return Err("certificate: no PEM certificate in the file".to_owned());
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| format!("key: {e}"))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| format!("certificate and key: {e}"))?;
    Ok(Arc::new(config))
}

/// Bind `listen` now (so a taken port is a clear error at start).
pub fn bind_tls_listener(listen: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    let l = std::net::TcpListener::bind(listen)?;
    l.set_nonblocking(true)?;
    Ok(l)
}

/// Accept TLS clients on `listener` until `shutdown`, each piped to the broker at `backend`.
pub async fn serve_tls(
    listener: std::net::TcpListener,
    backend: SocketAddr,
    config: Arc<rustls::ServerConfig>,
    shutdown: CancellationToken,
) {
    let listener = match TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => {
            tracing::error!("embedded broker TLS listener: {e}");
            return;
        }
    };
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    loop {
        let (tcp, peer) = tokio::select! {
            () = shutdown.cancelled() => break,
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!("embedded broker TLS accept: {e}");
                    continue;
                }
            },
        };
        let acceptor = acceptor.clone();
        let stop = shutdown.clone();
        tokio::spawn(async move {
            let _ = tcp.set_nodelay(true);
            let handshake =
                tokio::time::timeout(std::time::Duration::from_secs(10), acceptor.accept(tcp));
            let mut tls = match handshake.await {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => {
                    tracing::info!(%peer, "TLS handshake refused: {e}");
                    return;
                }
                Err(_) => {
                    tracing::info!(%peer, "TLS handshake timed out");
                    return;
                }
            };
            let mut plain = match TcpStream::connect(backend).await {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!("embedded broker not reachable behind TLS: {e}");
                    return;
                }
            };
            let _ = plain.set_nodelay(true);
            tokio::select! {
                () = stop.cancelled() => {}
                _ = tokio::io::copy_bidirectional(&mut tls, &mut plain) => {}
            }
        });
    }
}
