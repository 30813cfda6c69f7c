//! Report times: ISO 8601 in UTC or local time with its offset; parsing of `--from`/`--to`.

use chrono::{DateTime, Local, NaiveDate, NaiveDateTime, TimeZone as _, Utc};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeZoneChoice {
    Utc,
    Local,
}

/// `2026-11-25T14:03:07.250Z` or `2026-11-25T15:03:07.250+01:00`.
pub fn format_time(ts_ms: i64, tz: TimeZoneChoice) -> String {
    let Some(t) = Utc.timestamp_millis_opt(ts_ms).single() else {
        return ts_ms.to_string();
    };
    match tz {
        TimeZoneChoice::Utc => t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        TimeZoneChoice::Local => t
            .with_timezone(&Local)
            .format("%Y-%m-%dT%H:%M:%S%.3f%:z")
            .to_string(),
    }
}

/// [`format_time`] for long runs of times: the date-and-second part is formatted once per
/// second (exports write millions of rows, many in the same second).
pub struct TimeFormatter {
    tz: TimeZoneChoice,
    second: i64,
    /// `2026-11-25T14:03:07` for `second`.
    head: String,
    /// `Z` or `+01:00`.
    tail: String,
    out: String,
}

impl TimeFormatter {
    pub fn new(tz: TimeZoneChoice) -> Self {
        Self {
            tz,
            second: i64::MIN,
            head: String::new(),
            tail: String::new(),
            out: String::with_capacity(32),
        }
    }

    pub fn format(&mut self, ts_ms: i64) -> &str {
        use std::fmt::Write as _;
        let second = ts_ms.div_euclid(1000);
        if second != self.second {
            self.second = second;
            let full = format_time(second * 1000, self.tz);
            // `…:SS.000Z` / `…:SS.000+01:00`: split around the milliseconds.
            match full.find('.') {
                Some(dot) => {
                    self.head = full[..dot].to_owned();
                    self.tail = full[dot + 4..].to_owned();
                }
                None => {
                    self.head = full;
                    self.tail.clear();
                }
            }
        }
        self.out.clear();
        let _ = write!(
            self.out,
            "{}.{:03}{}",
            self.head,
            ts_ms.rem_euclid(1000),
            self.tail
        );
        &self.out
    }
}

/// RFC 3339 (`2026-11-25T14:00:00Z`, with offset), or local `YYYY-MM-DD[ HH:MM[:SS]]`, or
/// `now`, or relative to now: `-24h`, `-7d`, `-30m`.
pub fn parse_time(s: &str, now_ms: i64) -> Result<i64, String> {
    let t = s.trim();
    if t == "now" {
        return Ok(now_ms);
    }
    if let Some(rel) = t.strip_prefix('-') {
        let (num, unit) =
            rel.split_at(rel.find(|c: char| !c.is_ascii_digit()).unwrap_or(rel.len()));
        let n: i64 = num
            .parse()
            .map_err(|_| format!("`{s}`: bad relative time"))?;
        let ms = match unit {
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => return Err(format!("`{s}`: use s, m, h or d after the number")),
        };
        return Ok(now_ms - n * ms);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(t) {
        return Ok(t.timestamp_millis());
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(n) = NaiveDateTime::parse_from_str(t, fmt) {
            return local_ms(n, s);
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return local_ms(d.and_hms_opt(0, 0, 0).unwrap_or_default(), s);
    }
    Err(format!(
        "`{s}` is not a time: use 2026-11-25T14:00:00Z, 2026-11-25 14:00 (local), now or -24h"
    ))
}

fn local_ms(n: NaiveDateTime, s: &str) -> Result<i64, String> {
    Local
        .from_local_datetime(&n)
        .earliest()
        .map(|t| t.timestamp_millis())
        .ok_or_else(|| format!("`{s}` does not exist in local time (a DST gap)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_format() {
        let now = 1_700_000_000_000;
        assert_eq!(parse_time("now", now), Ok(now));
        assert_eq!(parse_time("-24h", now), Ok(now - 86_400_000));
        assert_eq!(
            parse_time("2023-11-14T22:13:20Z", now),
            Ok(1_700_000_000_000)
        );
        assert!(parse_time("yesterday", now).is_err());
        assert_eq!(
            format_time(1_700_000_000_250, TimeZoneChoice::Utc),
            "2023-11-14T22:13:20.250Z"
        );
        let local = format_time(1_700_000_000_250, TimeZoneChoice::Local);
        assert_eq!(
            DateTime::parse_from_rfc3339(&local).map(|t| t.timestamp_millis()),
            Ok(1_700_000_000_250)
        );
    }
}
