//! The project model: what an engineer keeps in git (`project.json` + `screens/*.json`).
//!
//! Plain serde data, no I/O and no validation here (see `load` and `validate`). Field order in
//! these structs is the key order on disk, so saving is stable.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The newest project format this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// `project.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectFile {
    pub format: u32,
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default)]
    pub broker: BrokerConfig,
    /// Login and inactivity lock; absent means `open` (no login, as before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security: Option<crate::security::SecuritySettings>,
    /// Run the built-in demo plant simulator inside the engine (demo projects only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub simulator: Option<SimulatorConfig>,
    #[serde(default, skip_serializing_if = "HistorySettings::is_default")]
    pub history: HistorySettings,
    #[serde(default)]
    pub tags: Vec<TagConfig>,
    /// Modbus TCP devices that setpoints are written to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<crate::modbus::DeviceConfig>,
    /// Alarm definitions (ISA-18.2), evaluated on the tags' changes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alarms: Vec<crate::alarms::AlarmConfig>,
    /// Screen order in the navigation list, by file stem (`screens/<stem>.json`). Screens not
    /// listed follow in file-name order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub screen_order: Vec<String>,
}

/// Where PlantView gets its MQTT data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
pub enum BrokerConfig {
    /// An in-process rumqttd broker; field devices and the simulator connect to it.
    Embedded {
        #[serde(default = "default_listen")]
        listen: String,
        /// Optional MQTT 5 listener; by default the port after `listen`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        listen_v5: Option<String>,
        /// Clients must log in with one of these accounts. Required to listen on anything but
        /// loopback.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        auth: Option<EmbeddedAuth>,
        /// A TLS listener (MQTT over TLS, e.g. on 8883) with the site's certificate, in front of
        /// the broker.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tls: Option<EmbeddedTls>,
    },
    /// Mosquitto, EMQX, HiveMQ, ...
    External(ExternalBroker),
}

impl Default for BrokerConfig {
    fn default() -> Self {
        Self::Embedded {
            listen: default_listen(),
            listen_v5: None,
            auth: None,
            tls: None,
        }
    }
}

fn default_listen() -> String {
    "127.0.0.1:1883".to_owned()
}

/// Accounts of the embedded broker. Passwords come from environment variables, never from the
/// project.
/// The embedded broker's TLS listener.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmbeddedTls {
    /// e.g. `0.0.0.0:8883`.
    pub listen: String,
    /// PEM certificate chain and private key (paths relative to the project folder).
    pub cert_file: String,
    pub key_file: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmbeddedAuth {
    pub users: Vec<BrokerUser>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrokerUser {
    pub username: String,
    /// Name of the environment variable that holds this account's password.
    pub password_env: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExternalBroker {
    /// `mqtt://host:port` or `mqtts://host:port` (TLS).
    pub url: String,
    /// Client id; defaults to `plantview-<host>-<pid>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Name of the environment variable that holds the password (never the password itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_env: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsConfig>,
    #[serde(
        default = "default_keep_alive",
        skip_serializing_if = "is_default_keep_alive"
    )]
    pub keep_alive_s: u16,
}

fn default_keep_alive() -> u16 {
    15
}

fn is_default_keep_alive(v: &u16) -> bool {
    *v == default_keep_alive()
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM file with the CA certificate(s) that sign the broker's certificate, relative to the
    /// project folder or absolute. Without it the system roots are used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_cert_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_key_file: Option<String>,
    /// Check the broker's certificate for this name instead of the URL's host (e.g. connect
    /// to an IP address whose certificate names `broker.plant.local`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_name: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulatorConfig {
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Topic prefix the simulator publishes under.
    #[serde(default = "default_sim_prefix")]
    pub topic_prefix: String,
    /// Serve the plant's setpoints over Modbus TCP on this address (e.g. `127.0.0.1:1502`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modbus_listen: Option<String>,
}

fn yes() -> bool {
    true
}

fn default_sim_prefix() -> String {
    "plant".to_owned()
}

/// One process variable.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagConfig {
    /// Unique, e.g. `AHU1.SupplyTemp`.
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// MQTT topic filter (`+`/`#` allowed); many tags may share a topic (JSON fan-out). Empty
    /// when the tag is polled from a Modbus device instead (`poll`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub topic: String,
    /// Read the tag from a Modbus device instead of MQTT.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll: Option<TagPoll>,
    #[serde(default)]
    pub decoder: Decoder,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub unit: String,
    /// Decimals shown for numbers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decimals: Option<u8>,
    /// Engineering range (bars, tanks, trends).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<Range>,
    /// Texts for a bool tag: `[false_text, true_text]`, e.g. `["Stopped", "Running"]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub states: Option<[String; 2]>,
    /// No update for this long turns the tag stale. `0` disables.
    #[serde(
        default = "default_stale_after",
        skip_serializing_if = "is_default_stale_after"
    )]
    pub stale_after_s: f64,
    /// Where a setpoint for this tag is written (a Modbus register or coil of a device).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write: Option<TagWrite>,
    /// How the historian records this tag (default: every change, at least every 10 min).
    #[serde(default, skip_serializing_if = "HistoryConfig::is_default")]
    pub history: HistoryConfig,
}

/// Per-tag history settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryConfig {
    #[serde(default = "yes")]
    pub enabled: bool,
    /// A numeric change smaller than this is not stored (0 = store every change).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub deadband: f64,
    /// Whether `deadband` is a percentage of the tag's range instead of engineering units.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deadband_percent: bool,
    /// Store at most one value per this many seconds (0 = no limit).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub min_interval_s: f64,
    /// Store the value at least this often even if unchanged (0 = never repeat).
    #[serde(
        default = "default_max_interval",
        skip_serializing_if = "is_default_max_interval"
    )]
    pub max_interval_s: f64,
}

impl Default for HistoryConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            deadband: 0.0,
            deadband_percent: false,
            min_interval_s: 0.0,
            max_interval_s: default_max_interval(),
        }
    }
}

impl HistoryConfig {
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

fn default_max_interval() -> f64 {
    600.0
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if signature
fn is_default_max_interval(v: &f64) -> bool {
    *v == default_max_interval()
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if signature
fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

/// Project-wide history settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistorySettings {
    /// Samples older than this are pruned; summaries are kept 10× longer.
    #[serde(default = "default_retention_days")]
    pub retention_days: f64,
}

impl Default for HistorySettings {
    fn default() -> Self {
        Self {
            retention_days: default_retention_days(),
        }
    }
}

impl HistorySettings {
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

fn default_retention_days() -> f64 {
    400.0
}

fn default_stale_after() -> f64 {
    60.0
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if signature
fn is_default_stale_after(v: &f64) -> bool {
    *v == default_stale_after()
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Range {
    pub min: f64,
    pub max: f64,
}

/// How a payload becomes a value.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Decoder {
    /// The payload is a number as text (`21.5`), or a JSON number.
    #[default]
    Number,
    /// `true/false`, `1/0`, `on/off`, `running/stopped`...
    Bool,
    /// The payload as UTF-8 text.
    String,
    /// A value inside a JSON document, addressed by an RFC 6901 pointer (`/ahu/fans/0/speed`).
    Json {
        pointer: String,
        #[serde(default)]
        value: ValueKind,
        /// Pointer to the source timestamp (epoch ms number or RFC 3339 string), if the device
        /// sends one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        timestamp: Option<String>,
    },
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueKind {
    #[default]
    Number,
    Bool,
    String,
}

/// `screens/<id>.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScreenFile {
    pub format: u32,
    pub title: String,
    /// Design size in points; the runtime scales to fit.
    #[serde(default = "default_screen_size")]
    pub size: [f32; 2],
    /// Template parameters with their default values (`{"ahu": "AHU1"}`). A screen with
    /// parameters is a template: bindings may contain `{ahu}`, filled in by a navigation button
    /// or by each placement of the template on another screen.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, String>,
    /// A faceplate only placed on other screens or reached by navigation: not in the screen list.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub template: bool,
    #[serde(default)]
    pub widgets: Vec<WidgetConfig>,
}

fn default_screen_size() -> [f32; 2] {
    [1280.0, 760.0]
}

/// A placed widget.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WidgetConfig {
    pub id: String,
    pub kind: WidgetKind,
    /// Top-left corner and size in screen design points.
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
    /// Primary binding (tag name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// Secondary binding: a fault bool (pump/fan) or a position (valve).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag2: Option<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub label: String,
    /// Bars: `vertical` instead of horizontal. Pipes: flow direction reversed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub vertical: bool,
    /// Display overrides of the bound tag's unit, decimals, range and state texts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decimals: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<Range>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub states: Option<[String; 2]>,
    /// Buttons: what a click does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<ButtonAction>,
    /// Images: a file in the project folder or in `assets/` (PNG, JPEG or SVG).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Template placements: the template screen's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub screen: Option<String>,
    /// Template placements: the parameter values (`{"ahu": "AHU3"}`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, String>,
}

impl WidgetConfig {
    /// A new widget of `kind` at (`x`, `y`) with the kind's default size.
    pub fn new(id: impl Into<String>, kind: WidgetKind, x: f32, y: f32) -> Self {
        let [w, h] = kind.default_size();
        Self {
            id: id.into(),
            kind,
            x,
            y,
            w,
            h,
            tag: None,
            tag2: None,
            label: String::new(),
            vertical: false,
            unit: None,
            decimals: None,
            range: None,
            states: None,
            action: None,
            image: None,
            screen: None,
            params: BTreeMap::new(),
        }
    }

    /// The bindings that are set: `("tag", name)`, `("tag2", name)`.
    pub fn bindings(&self) -> impl Iterator<Item = (&'static str, &String)> {
        [("tag", &self.tag), ("tag2", &self.tag2)]
            .into_iter()
            .filter_map(|(f, t)| t.as_ref().map(|t| (f, t)))
    }
}

/// What a button does when clicked.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ButtonAction {
    /// Show another screen, with template parameters (`ahu=AHU3`).
    Navigate {
        screen: String,
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        params: BTreeMap<String, String>,
    },
    /// Write a fixed value to the bound tag (through its write target, audited).
    Write { value: f64 },
    /// Write the opposite of the bound bool tag's value.
    Toggle,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WidgetKind {
    /// Numeric value with unit.
    Value,
    /// Bar graph with range (horizontal, or vertical with `vertical: true`).
    Bar,
    /// Tank with level (tag = level in its range).
    Tank,
    /// Pump symbol: running (tag), fault (tag2).
    Pump,
    /// Fan symbol: running (tag), fault (tag2).
    Fan,
    /// Valve: open/closed (bool tag) or position (numeric tag, 0–100 %).
    Valve,
    /// Indicator lamp (bool tag).
    Lamp,
    /// Static text, or a string tag's value.
    Text,
    /// A process line between equipment (static, muted).
    Pipe,
    /// A framed group with a caption (equipment boundary).
    Group,
    /// An embedded live mini trend of `tag` (and `tag2`), last 10 minutes.
    Trend,
    /// A setpoint: the value with a "set" mark; clicking opens the write dialog (the tag needs
    /// a `write` target).
    Setpoint,
    /// A round gauge of a numeric tag over its range.
    Gauge,
    /// A button: navigate, write a value or toggle (see `action`).
    Button,
    /// The active alarms (of the bound tag prefix in `label`, or all).
    AlarmList,
    /// A picture from the project folder or `assets/`.
    Image,
    /// A placed template screen (`screen`) with parameter values (`params`).
    Template,
}

impl WidgetKind {
    pub const ALL: [Self; 17] = [
        Self::Value,
        Self::Bar,
        Self::Tank,
        Self::Pump,
        Self::Fan,
        Self::Valve,
        Self::Lamp,
        Self::Text,
        Self::Pipe,
        Self::Group,
        Self::Trend,
        Self::Setpoint,
        Self::Gauge,
        Self::Button,
        Self::AlarmList,
        Self::Image,
        Self::Template,
    ];

    /// Whether the widget shows a tag at all (and so must be bound).
    pub fn needs_tag(self) -> bool {
        !matches!(
            self,
            Self::Text
                | Self::Pipe
                | Self::Group
                | Self::Button
                | Self::AlarmList
                | Self::Image
                | Self::Template
        )
    }

    /// Whether the widget may be bound to a tag (the inspector offers the binding).
    pub fn takes_tag(self) -> bool {
        self.needs_tag() || matches!(self, Self::Text | Self::Button)
    }

    /// The name in the palette and the inspector.
    pub fn title(self) -> &'static str {
        match self {
            Self::Value => "Value",
            Self::Bar => "Bar",
            Self::Tank => "Tank",
            Self::Pump => "Pump",
            Self::Fan => "Fan",
            Self::Valve => "Valve",
            Self::Lamp => "Lamp",
            Self::Text => "Text",
            Self::Pipe => "Pipe",
            Self::Group => "Group",
            Self::Trend => "Trend",
            Self::Setpoint => "Setpoint",
            Self::Gauge => "Gauge",
            Self::Button => "Button",
            Self::AlarmList => "Alarm list",
            Self::Image => "Image",
            Self::Template => "Template",
        }
    }

    /// The snake_case name used in files and widget ids.
    pub fn key(self) -> &'static str {
        match self {
            Self::Value => "value",
            Self::Bar => "bar",
            Self::Tank => "tank",
            Self::Pump => "pump",
            Self::Fan => "fan",
            Self::Valve => "valve",
            Self::Lamp => "lamp",
            Self::Text => "text",
            Self::Pipe => "pipe",
            Self::Group => "group",
            Self::Trend => "trend",
            Self::Setpoint => "setpoint",
            Self::Gauge => "gauge",
            Self::Button => "button",
            Self::AlarmList => "alarm_list",
            Self::Image => "image",
            Self::Template => "template",
        }
    }

    /// Size of a newly placed widget, in design points.
    pub fn default_size(self) -> [f32; 2] {
        match self {
            Self::Value | Self::Setpoint => [160.0, 56.0],
            Self::Bar => [180.0, 56.0],
            Self::Tank => [120.0, 160.0],
            Self::Pump | Self::Fan | Self::Valve => [80.0, 80.0],
            Self::Lamp => [220.0, 32.0],
            Self::Text => [160.0, 28.0],
            Self::Pipe => [200.0, 16.0],
            Self::Group => [300.0, 200.0],
            Self::Trend => [360.0, 200.0],
            Self::Gauge => [140.0, 140.0],
            Self::Button => [140.0, 40.0],
            Self::AlarmList => [480.0, 160.0],
            Self::Image => [160.0, 120.0],
            Self::Template => [300.0, 200.0],
        }
    }
}

/// A tag's write target: which device, and where on it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagWrite {
    /// Name of a device in `devices`.
    pub device: String,
    pub target: crate::modbus::WriteTarget,
}

/// A tag read from a Modbus device by polling.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagPoll {
    /// Name of a device in `devices`.
    pub device: String,
    pub kind: crate::modbus::ReadKind,
    /// 0-based protocol address.
    pub address: u16,
    /// How registers become a value (ignored for coils and discrete inputs).
    #[serde(default = "default_poll_encoding")]
    pub encoding: crate::modbus::Encoding,
    /// Poll period; tags of one device with the same period are read together.
    #[serde(default = "default_poll_interval")]
    pub interval_ms: u64,
    /// Also publish each polled value to this MQTT topic (the edge-gateway bridge).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publish: Option<String>,
}

fn default_poll_interval() -> u64 {
    1000
}

fn default_poll_encoding() -> crate::modbus::Encoding {
    crate::modbus::Encoding {
        data_type: crate::modbus::DataType::U16,
        word_order: crate::modbus::WordOrder::default(),
        byte_swap: false,
        scale: 1.0,
        offset: 0.0,
    }
}
