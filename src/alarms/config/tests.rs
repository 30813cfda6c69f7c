//! Serde form of alarm definitions and their validation.

use super::*;

fn parse(json: &str) -> Result<Vec<AlarmConfig>, String> {
    serde_json::from_str(json).map_err(|e| e.to_string())
}

#[test]
fn round_trip_is_flat_stable_and_skips_defaults() {
    let json = r#"[
  {
    "name": "AHU1.SupplyTemp.Hi",
    "tag": "AHU1.SupplyTemp",
    "kind": "hi",
    "limit": 30.0,
    "deadband": 0.5,
    "on_delay_s": 5.0,
    "priority": "high",
    "message": "Supply air too warm",
    "area": "AHU1",
    "suppress_when": "AHU1.Stopped"
  },
  {
    "name": "TK1.Dev",
    "tag": "TK1.Temp",
    "kind": "deviation",
    "limit": 5.0,
    "setpoint_tag": "TK1.Setpoint",
    "priority": "medium"
  },
  {
    "name": "P1.Fault",
    "tag": "P1.Fault",
    "kind": "discrete",
    "equals": true,
    "priority": "critical",
    "latching": true
  },
  {
    "name": "P1.Mode",
    "tag": "P1.Mode",
    "kind": "discrete",
    "equals": 3.0,
    "priority": "low"
  },
  { "name": "Q", "tag": "P1.Mode", "kind": "quality", "priority": "low", "off_delay_s": 2.0 },
  { "name": "R", "tag": "TK1.Temp", "kind": "rate", "limit_per_s": 0.5, "priority": "low" }
]"#;
    let alarms = parse(json).unwrap();
    assert_eq!(alarms.len(), 6);
    assert_eq!(alarms[0].kind, AlarmKind::Hi { limit: 30.0 });
    assert_eq!(alarms[0].off_delay_s, 0.0);
    assert_eq!(
        alarms[2].kind,
        AlarmKind::Discrete {
            equals: Equals::Bool(true)
        }
    );
    assert_eq!(
        alarms[3].kind,
        AlarmKind::Discrete {
            equals: Equals::Number(3.0)
        }
    );
    let saved = serde_json::to_string(&alarms[1]).unwrap();
    assert_eq!(
        saved,
        r#"{"name":"TK1.Dev","tag":"TK1.Temp","kind":"deviation","limit":5.0,"setpoint_tag":"TK1.Setpoint","priority":"medium"}"#
    );
    let again: Vec<AlarmConfig> =
        serde_json::from_str(&serde_json::to_string(&alarms).unwrap()).unwrap();
    assert_eq!(again, alarms);
}

#[test]
fn kind_fields_are_checked() {
    let e = parse(r#"[{"name":"A","tag":"T","kind":"hi","priority":"low"}]"#).unwrap_err();
    assert!(e.contains("needs `limit`"), "{e}");
    let e =
        parse(r#"[{"name":"A","tag":"T","kind":"hi","limit":1,"limit_per_s":2,"priority":"low"}]"#)
            .unwrap_err();
    assert!(e.contains("has no `limit_per_s`"), "{e}");
    let e = parse(r#"[{"name":"A","tag":"T","kind":"hi","limit":1,"priority":"low","colour":1}]"#)
        .unwrap_err();
    assert!(e.contains("unknown field `colour`"), "{e}");
    let e =
        parse(r#"[{"name":"A","tag":"T","kind":"high","limit":1,"priority":"low"}]"#).unwrap_err();
    assert!(e.contains("unknown variant"), "{e}");
}

fn alarm(name: &str, tag: &str, kind: AlarmKind) -> AlarmConfig {
    AlarmConfig {
        name: name.to_owned(),
        tag: tag.to_owned(),
        kind,
        deadband: 0.0,
        on_delay_s: 0.0,
        off_delay_s: 0.0,
        priority: Priority::Medium,
        message: String::new(),
        area: String::new(),
        latching: false,
        suppress_when: None,
    }
}

#[test]
fn validation_reports_field_paths() {
    let tags = |t: &str| ["T", "SP", "RUN"].contains(&t);
    let mut bad_delay = alarm("D", "T", AlarmKind::Hi { limit: 1.0 });
    bad_delay.on_delay_s = -1.0;
    bad_delay.deadband = f64::NAN;
    bad_delay.suppress_when = Some("NOPE".to_owned());
    let mut dev = alarm(
        "Dev",
        "T",
        AlarmKind::Deviation {
            setpoint_tag: "SP".to_owned(),
            limit: 2.0,
        },
    );
    dev.deadband = 2.0;
    let mut q = alarm("Q", "T", AlarmKind::Quality);
    q.deadband = 1.0;
    let alarms = vec![
        alarm("", "T", AlarmKind::Hi { limit: 1.0 }),
        alarm(
            "A",
            "X",
            AlarmKind::Hi {
                limit: f64::INFINITY,
            },
        ),
        alarm("A", "T", AlarmKind::Rate { limit_per_s: 0.0 }),
        bad_delay,
        dev,
        alarm(
            "Dev2",
            "T",
            AlarmKind::Deviation {
                setpoint_tag: "T".to_owned(),
                limit: 1.0,
            },
        ),
        q,
        alarm("HH", "T", AlarmKind::HiHi { limit: 0.5 }),
        alarm("LO", "T", AlarmKind::Lo { limit: 0.0 }),
        alarm("LL", "T", AlarmKind::LoLo { limit: 0.0 }),
    ];
    let got = validate(&alarms, &tags);
    let paths: Vec<&str> = got.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "alarms[0].name",
            "alarms[1].tag",
            "alarms[1].limit",
            "alarms[2].name",
            "alarms[2].limit_per_s",
            "alarms[3].suppress_when",
            "alarms[3].deadband",
            "alarms[3].on_delay_s",
            "alarms[4].deadband",
            "alarms[5].setpoint_tag",
            "alarms[6].deadband",
            "alarms[8].limit", // lo 0 not above lolo 0
            "alarms[7].limit", // hihi 0.5 not above hi 1 (alarms[0])
        ],
        "{got:#?}"
    );
    assert!(got[5].1.contains("NOPE"), "{:?}", got[5]);
    assert!(validate(&alarms[7..8], &tags).is_empty());
}
