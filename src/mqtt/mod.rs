//! MQTT: the embedded broker (rumqttd) and the client connection (rumqttc) with reconnect,
//! resubscribe and TLS, and the topic browser (every topic on the broker, as a tree). Knows
//! topics and payload bytes, not tags.

mod broker;
mod browser;
mod client;
mod tls_listener;
mod url;

pub use broker::{BrokerAuth, BrokerError, EmbeddedBroker, INTERNAL_USER, broker_config};
pub use browser::{
    MAX_LEVELS, MAX_PAYLOAD_BYTES, MAX_TOPICS, PREVIEW_CHARS, RowMessage, TopicBrowser, TopicInfo,
    TopicTree, TreeRow,
};
pub use client::{
    ClientSettings, ConnState, Incoming, Subscriber, SubscriberHandle, tls_client_config,
    tls_client_config_for,
};
pub use tls_listener::{bind_tls_listener, serve_tls, tls_server_config};
pub use url::{BrokerUrl, UrlError};
