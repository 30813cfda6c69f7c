//! `mqtt://host:port` / `mqtts://host:port` broker addresses.

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrokerUrl {
    pub host: String,
    pub port: u16,
    pub tls: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{url}` is not a broker URL: {reason} (expected mqtt://HOST:PORT or mqtts://HOST:PORT)")]
pub struct UrlError {
    pub url: String,
    pub reason: &'static str,
}

impl BrokerUrl {
    pub fn parse(url: &str) -> Result<Self, UrlError> {
        let err = |reason| UrlError {
            url: url.to_owned(),
            reason,
        };
        let (tls, rest) = if let Some(r) = url.strip_prefix("mqtts://") {
            (true, r)
        } else if let Some(r) = url.strip_prefix("ssl://") {
            (true, r)
        } else if let Some(r) = url.strip_prefix("mqtt://") {
            (false, r)
        } else if let Some(r) = url.strip_prefix("tcp://") {
            (false, r)
        } else if url.contains("://") {
            return Err(err("unknown scheme"));
        } else {
            (false, url)
        };
        let rest = rest.trim_end_matches('/');
        if rest.contains('/') || rest.contains('@') {
            return Err(err(
                "only host and port are allowed (credentials go in username/password_env)",
            ));
        }
        let default_port = if tls { 8883 } else { 1883 };
        let (host, port) = if let Some(h) = rest.strip_prefix('[') {
            // [::1]:1883
            let (h, p) = h.split_once(']').ok_or_else(|| err("unclosed '['"))?;
            let port = match p.strip_prefix(':') {
                Some(p) => p.parse().map_err(|_| err("bad port"))?,
                None if p.is_empty() => default_port,
                None => return Err(err("bad port")),
            };
            (h.to_owned(), port)
        } else {
            match rest.rsplit_once(':') {
                Some((h, p)) => (h.to_owned(), p.parse().map_err(|_| err("bad port"))?),
                None => (rest.to_owned(), default_port),
            }
        };
        if host.is_empty() {
            return Err(err("no host"));
        }
        if port == 0 {
            return Err(err("port 0"));
        }
        Ok(Self { host, port, tls })
    }
}

impl fmt::Display for BrokerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.tls { "mqtts" } else { "mqtt" };
        if self.host.contains(':') {
            write!(f, "{scheme}://[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{scheme}://{}:{}", self.host, self.port)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse() {
        assert_eq!(
            BrokerUrl::parse("mqtt://localhost:1884").unwrap(),
            BrokerUrl {
                host: "localhost".into(),
                port: 1884,
                tls: false
            }
        );
        assert_eq!(
            BrokerUrl::parse("mqtts://broker.example").unwrap().port,
            8883
        );
        assert_eq!(BrokerUrl::parse("127.0.0.1:7").unwrap().port, 7);
        assert_eq!(BrokerUrl::parse("mqtt://[::1]:1883").unwrap().host, "::1");
        assert!(BrokerUrl::parse("http://x:1").is_err());
        assert!(BrokerUrl::parse("mqtt://:1883").is_err());
        assert!(BrokerUrl::parse("mqtt://h:99999").is_err());
        assert!(BrokerUrl::parse("mqtt://user:pw@h:1").is_err());
    }
}
