//! Commands the demo plant accepts over MQTT (`<prefix>/sim/cmd`, plain text) and their parsing.
//!
//! Pure text ↔ enum; applying a command to the plant is `Plant::apply`. Unknown or malformed
//! payloads are an error with a reason, never a panic (they come from the network).

use std::fmt;

/// How long `upset` without a duration lasts.
pub const DEFAULT_UPSET_S: f64 = 180.0;
/// Longest upset a command may ask for (one hour).
pub const MAX_UPSET_S: f64 = 3_600.0;
/// Supply-air setpoints the AHU accepts, °C.
pub const SUPPLY_SETPOINT_RANGE_C: (f64, f64) = (12.0, 30.0);

/// A piece of equipment that can be tripped (forced into fault) for alarm demonstrations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Equipment {
    Hp1,
    P1,
    P2,
    SupplyFan,
    ExhaustFan,
}

impl Equipment {
    pub const ALL: [Self; 5] = [
        Self::Hp1,
        Self::P1,
        Self::P2,
        Self::SupplyFan,
        Self::ExhaustFan,
    ];

    /// The name used in commands (`trip sf`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hp1 => "hp1",
            Self::P1 => "p1",
            Self::P2 => "p2",
            Self::SupplyFan => "sf",
            Self::ExhaustFan => "ef",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

/// One simulator command.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Command {
    /// The AHU heating valve sticks fully open for `duration_s`: supply air runs up to ~35 °C.
    Upset { duration_s: f64 },
    /// End an upset early.
    Normal,
    /// Force a fault on one piece of equipment (it stops and reports `fault = true`).
    Trip(Equipment),
    /// Clear every fault.
    Reset,
    /// New AHU supply-air setpoint, °C.
    SupplySetpoint(f64),
}

impl Command {
    /// Parse a command payload: `upset`, `upset <seconds>`, `normal`, `trip <hp1|p1|p2|sf|ef>`,
    /// `reset`, `setpoint <°C>` (case-insensitive, surrounding white space ignored).
    pub fn parse(payload: &[u8]) -> Result<Self, String> {
        let text =
            std::str::from_utf8(payload).map_err(|_| "command is not UTF-8 text".to_owned())?;
        let lower = text.trim().to_ascii_lowercase();
        let mut words = lower.split_whitespace();
        let verb = words.next().unwrap_or_default();
        let arg = words.next();
        if words.next().is_some() {
            return Err(format!("`{}`: too many words", clip(text)));
        }
        match (verb, arg) {
            ("upset", None) => Ok(Self::Upset {
                duration_s: DEFAULT_UPSET_S,
            }),
            ("upset", Some(a)) => match a.parse::<f64>() {
                Ok(s) if s.is_finite() && s > 0.0 => Ok(Self::Upset {
                    duration_s: s.min(MAX_UPSET_S),
                }),
                _ => Err(format!(
                    "`{}`: the upset duration must be seconds > 0",
                    clip(text)
                )),
            },
            ("normal", None) => Ok(Self::Normal),
            ("reset", None) => Ok(Self::Reset),
            ("trip", Some(a)) => Equipment::parse(a)
                .map(Self::Trip)
                .ok_or_else(|| format!("`{}`: trip what? one of hp1, p1, p2, sf, ef", clip(text))),
            ("setpoint", Some(a)) => parse_setpoint(a.as_bytes()),
            _ => Err(format!(
                "unknown command `{}` (upset [s], normal, trip <hp1|p1|p2|sf|ef>, reset, setpoint <°C>)",
                clip(text)
            )),
        }
    }
}

impl fmt::Display for Command {
    /// The payload that `parse` reads back as this command.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Upset { duration_s } => write!(f, "upset {duration_s}"),
            Self::Normal => f.write_str("normal"),
            Self::Trip(e) => write!(f, "trip {}", e.as_str()),
            Self::Reset => f.write_str("reset"),
            Self::SupplySetpoint(c) => write!(f, "setpoint {c}"),
        }
    }
}

/// A plain-number setpoint payload (`<prefix>/ahu1/supply_setpoint/set`), range-checked.
pub fn parse_setpoint(payload: &[u8]) -> Result<Command, String> {
    let text = std::str::from_utf8(payload).map_err(|_| "setpoint is not UTF-8 text".to_owned())?;
    let (lo, hi) = SUPPLY_SETPOINT_RANGE_C;
    match text.trim().parse::<f64>() {
        Ok(c) if (lo..=hi).contains(&c) => Ok(Command::SupplySetpoint(c)),
        Ok(_) => Err(format!("setpoint `{}` is outside {lo}…{hi} °C", clip(text))),
        Err(_) => Err(format!("setpoint `{}` is not a number", clip(text))),
    }
}

/// At most 40 characters of a payload in an error message.
fn clip(s: &str) -> String {
    let s = s.trim();
    if s.chars().count() > 40 {
        format!("{}…", s.chars().take(40).collect::<String>())
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_commands() {
        let p = |s: &str| Command::parse(s.as_bytes());
        assert_eq!(
            p("upset"),
            Ok(Command::Upset {
                duration_s: DEFAULT_UPSET_S
            })
        );
        assert_eq!(p(" UPSET 60\n"), Ok(Command::Upset { duration_s: 60.0 }));
        assert_eq!(
            p("upset 99999"),
            Ok(Command::Upset {
                duration_s: MAX_UPSET_S
            })
        );
        assert!(p("upset -1").is_err());
        assert!(p("upset NaN").is_err());
        assert_eq!(p("normal"), Ok(Command::Normal));
        assert_eq!(p("reset"), Ok(Command::Reset));
        assert_eq!(p("trip sf"), Ok(Command::Trip(Equipment::SupplyFan)));
        assert!(p("trip boiler").unwrap_err().contains("trip what"));
        assert_eq!(p("setpoint 21.5"), Ok(Command::SupplySetpoint(21.5)));
        assert!(p("setpoint 80").unwrap_err().contains("outside"));
        assert!(p("").is_err());
        assert!(p("normal please now").is_err());
        assert!(Command::parse(&[0xff, 0xfe]).unwrap_err().contains("UTF-8"));
        assert!(p(&"x".repeat(500)).unwrap_err().len() < 200);
    }

    #[test]
    fn display_round_trips() {
        let mut all = vec![
            Command::Upset { duration_s: 42.5 },
            Command::Normal,
            Command::Reset,
            Command::SupplySetpoint(20.0),
        ];
        all.extend(Equipment::ALL.map(Command::Trip));
        for c in all {
            assert_eq!(Command::parse(c.to_string().as_bytes()), Ok(c));
        }
    }
}
