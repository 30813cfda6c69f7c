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

/// [`format_time`] for long runs of times, byte for byte the same: chrono runs once per minute
/// (exports write millions of rows, many in the same minute); the seconds and milliseconds are
/// written by hand. A minute whose local time does not advance in step with UTC (an offset change
/// inside it, an offset with seconds) falls back to chrono once per second.
pub struct TimeFormatter {
    tz: TimeZoneChoice,
    /// UTC minute whose seconds can be patched into `head` (`i64::MIN`: none).
    minute: i64,
    /// UTC second `head` holds when the minute could not be patched (`i64::MIN`: none).
    second: i64,
    /// `2026-11-25T14:03:07` (or, out of chrono's range, the second's ms as a number).
    head: Vec<u8>,
    /// `Z` or `+01:00`.
    tail: Vec<u8>,
    out: Vec<u8>,
}

impl TimeFormatter {
    pub fn new(tz: TimeZoneChoice) -> Self {
        Self {
            tz,
            minute: i64::MIN,
            second: i64::MIN,
            head: Vec::with_capacity(32),
            tail: Vec::with_capacity(8),
            out: Vec::with_capacity(40),
        }
    }

    pub fn format(&mut self, ts_ms: i64) -> &str {
        let mut out = std::mem::take(&mut self.out);
        out.clear();
        self.push(&mut out, ts_ms);
        self.out = out;
        std::str::from_utf8(&self.out).unwrap_or_default()
    }

    /// Append the time of `ts_ms` to `out`.
    pub fn push(&mut self, out: &mut Vec<u8>, ts_ms: i64) {
        let second = ts_ms.div_euclid(1000);
        let minute = second.div_euclid(60);
        if minute == self.minute {
            let s = second.rem_euclid(60) as u8;
            let n = self.head.len();
            self.head[n - 2] = b'0' + s / 10;
            self.head[n - 1] = b'0' + s % 10;
        } else if second != self.second {
            self.load(second);
        }
        out.extend_from_slice(&self.head);
        let ms = ts_ms.rem_euclid(1000) as u16;
        out.extend_from_slice(&[
            b'.',
            b'0' + (ms / 100) as u8,
            b'0' + (ms / 10 % 10) as u8,
            b'0' + (ms % 10) as u8,
        ]);
        out.extend_from_slice(&self.tail);
    }

    /// Split [`format_time`] of `second` around its milliseconds, and decide whether the rest of
    /// its minute can be patched: the local time at the minute's first and last second must
    /// read `…:00` and `…:59` with the same date, hour, minute and offset.
    fn load(&mut self, second: i64) {
        let split = |full: String| -> (Vec<u8>, Vec<u8>) {
            match full.find('.') {
                Some(dot) => (
                    full.as_bytes()[..dot].to_vec(),
                    full.as_bytes()[dot + 4..].to_vec(),
                ),
                None => (full.into_bytes(), Vec::new()),
            }
        };
        let minute = second.div_euclid(60);
        let (first, first_tail) = split(format_time(minute * 60_000, self.tz));
        let (last, last_tail) = split(format_time((minute * 60 + 59) * 1000, self.tz));
        let n = first.len();
        let patchable = n == 19
            && last.len() == n
            && first_tail == last_tail
            && first[..n - 2] == last[..n - 2]
            && first[n - 3] == b':'
            && first[n - 2..] == *b"00"
            && last[n - 2..] == *b"59";
        if patchable {
            self.minute = minute;
            self.second = i64::MIN;
            self.head = first;
            self.tail = first_tail;
            let s = second.rem_euclid(60) as u8;
            self.head[n - 2] = b'0' + s / 10;
            self.head[n - 1] = b'0' + s % 10;
        } else {
            self.minute = i64::MIN;
            self.second = second;
            (self.head, self.tail) = split(format_time(second * 1000, self.tz));
        }
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

    #[test]
    fn the_cached_formatter_equals_format_time() {
        // Every second of a few minutes, the ms edges, negative times, a EU DST change, and
        // both zones (local time is whatever TZ the test runs under).
        let mut times: Vec<i64> = Vec::new();
        for base in [
            1_700_000_000_000i64,
            1_711_846_740_000,
            0,
            -61_000,
            253_402_300_740_000,
        ] {
            for k in -70..130 {
                times.extend([base + k * 1000, base + k * 1000 + 1, base + k * 1000 + 999]);
            }
        }
        for tz in [TimeZoneChoice::Utc, TimeZoneChoice::Local] {
            let mut f = TimeFormatter::new(tz);
            for &t in &times {
                assert_eq!(f.format(t), format_time(t, tz), "{t}");
            }
        }
    }
}
