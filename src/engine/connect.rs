//! How the engine reaches its broker: the client settings for an external broker (URL,
//! account, TLS with CA, client certificate and server name), or the embedded broker started
//! with its accounts and, when configured, its TLS listener.

use std::net::SocketAddr;
use std::sync::Arc;

use super::{EngineError, EngineOptions, now_ms};
use crate::mqtt::{BrokerError, BrokerUrl, ClientSettings, EmbeddedBroker};
use crate::project::{BrokerConfig, Project};

/// The embedded broker's TLS listener, bound, to be served on the engine runtime: the listener,
/// the broker's plain address behind it, the server configuration.
type TlsListener = (std::net::TcpListener, SocketAddr, Arc<rustls::ServerConfig>);

/// Client settings for the configured broker; starts the embedded broker if there is one.
#[allow(clippy::type_complexity)]
pub(super) fn connection_settings(
    project: &Project,
    options: &EngineOptions,
    tls_out: &mut Option<TlsListener>,
) -> Result<(ClientSettings, Option<(SocketAddr, SocketAddr)>, String), EngineError> {
    let client_id = format!(
        "plantview-{}",
        std::process::id() ^ (now_ms() as u32 & 0xffff_0000)
    );
    let external = match (&options.broker_url, &project.file.broker) {
        (Some(url), BrokerConfig::External(ext)) => Some((url.clone(), Some(ext.clone()))),
        (Some(url), BrokerConfig::Embedded { .. }) => Some((url.clone(), None)),
        (None, BrokerConfig::External(ext)) => Some((ext.url.clone(), Some(ext.clone()))),
        (None, BrokerConfig::Embedded { .. }) => None,
    };
    if let Some((url, ext)) = external {
        let parsed = BrokerUrl::parse(&url)?;
        let mut settings = ClientSettings::new(
            parsed.host.clone(),
            parsed.port,
            ext.as_ref()
                .and_then(|e| e.client_id.clone())
                .unwrap_or(client_id),
        );
        if let Some(ext) = &ext {
            settings.keep_alive_s = ext.keep_alive_s;
            if let Some(user) = &ext.username {
                let password = match (&options.broker_password, &ext.password_env) {
                    (Some(typed), _) => typed.0.clone(),
                    (None, Some(var)) => {
                        std::env::var(var).map_err(|_| EngineError::MissingPassword(var.clone()))?
                    }
                    (None, None) => String::new(),
                };
                settings.credentials = Some((user.clone(), password));
            }
        }
        let tls_cfg = ext.as_ref().and_then(|e| e.tls.clone());
        if parsed.tls || tls_cfg.is_some() {
            let read = |p: &Option<String>, what: &str| -> Result<Option<Vec<u8>>, EngineError> {
                p.as_ref()
                    .map(|p| {
                        let path = project.resolve_path(p);
                        std::fs::read(&path).map_err(|e| {
                            EngineError::Tls(format!("cannot read {what} {}: {e}", path.display()))
                        })
                    })
                    .transpose()
            };
            let tls_cfg = tls_cfg.unwrap_or(crate::project::TlsConfig {
                ca_file: None,
                client_cert_file: None,
                client_key_file: None,
                server_name: None,
            });
            let ca = read(&tls_cfg.ca_file, "CA file")?;
            let cert = read(&tls_cfg.client_cert_file, "client certificate")?;
            let key = read(&tls_cfg.client_key_file, "client key")?;
            let client_auth = match (&cert, &key) {
                (Some(c), Some(k)) => Some((c.as_slice(), k.as_slice())),
                (None, None) => None,
                _ => {
                    return Err(EngineError::Tls(
                        "client_cert_file and client_key_file go together".to_owned(),
                    ));
                }
            };
            settings.tls = Some(
                crate::mqtt::tls_client_config_for(
                    ca.as_deref(),
                    client_auth,
                    tls_cfg.server_name.as_deref(),
                )
                .map_err(EngineError::Tls)?,
            );
        }
        let desc = BrokerUrl {
            tls: settings.tls.is_some(),
            ..parsed
        }
        .to_string();
        return Ok((settings, None, desc));
    }

    let BrokerConfig::Embedded {
        listen,
        listen_v5,
        auth,
        tls,
    } = &project.file.broker
    else {
        unreachable!("external handled above");
    };
    let auth = auth
        .as_ref()
        .map(|a| {
            a.users
                .iter()
                .map(|u| {
                    std::env::var(&u.password_env)
                        .map(|p| (u.username.clone(), p))
                        .map_err(|_| EngineError::MissingPassword(u.password_env.clone()))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(|users| crate::mqtt::BrokerAuth { users })
        })
        .transpose()?;
    let listen = match options.broker_listen {
        Some(a) => a,
        None => listen.parse().map_err(|_| {
            EngineError::Broker(BrokerError::Config(format!(
                "bad listen address `{listen}`"
            )))
        })?,
    };
    let listen_v5 = match (options.broker_listen, listen_v5) {
        (None, Some(v5)) => Some(v5.parse().map_err(|_| {
            EngineError::Broker(BrokerError::Config(format!("bad listen_v5 address `{v5}`")))
        })?),
        _ => None,
    };
    let broker = EmbeddedBroker::start_with_auth(listen, listen_v5, auth.as_ref())?;
    let connect_ip = if broker.listen.ip().is_unspecified() {
        std::net::Ipv4Addr::LOCALHOST.into()
    } else {
        broker.listen.ip()
    };
    let mut settings = ClientSettings::new(connect_ip.to_string(), broker.listen.port(), client_id);
    settings.credentials = broker.credentials.clone();
    let mut desc = format!("mqtt://{} (embedded)", broker.listen);
    if let Some(t) = tls {
        let tls_listen: SocketAddr = t.listen.parse().map_err(|_| {
            EngineError::Broker(BrokerError::Config(format!(
                "bad broker.tls.listen address `{}`",
                t.listen
            )))
        })?;
        let read = |path: &str, what: &str| {
            let p = project.resolve_path(path);
            std::fs::read(&p).map_err(|e| {
                EngineError::Tls(format!("cannot read the {what} {}: {e}", p.display()))
            })
        };
        let config = crate::mqtt::tls_server_config(
            &read(&t.cert_file, "certificate")?,
            &read(&t.key_file, "key")?,
        )
        .map_err(EngineError::Tls)?;
        let listener = crate::mqtt::bind_tls_listener(tls_listen).map_err(|source| {
            EngineError::Broker(BrokerError::Bind {
                addr: tls_listen,
                source,
            })
        })?;
        let bound = listener.local_addr().unwrap_or(tls_listen);
        desc.push_str(&format!(", mqtts://{bound}"));
        *tls_out = Some((
            listener,
            SocketAddr::new(connect_ip, broker.listen.port()),
            config,
        ));
    }
    Ok((settings, Some((broker.listen, broker.listen_v5)), desc))
}
