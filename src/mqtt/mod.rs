//! MQTT: the embedded broker (rumqttd) and the client connection (rumqttc) with reconnect,
//! resubscribe and TLS. Knows topics and payload bytes, not tags.

mod broker;
mod client;
mod url;

pub use broker::{BrokerError, EmbeddedBroker, broker_config};
pub use client::{
    ClientSettings, ConnState, Incoming, Subscriber, SubscriberHandle, tls_client_config,
};
pub use url::{BrokerUrl, UrlError};
