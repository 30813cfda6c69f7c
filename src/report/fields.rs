//! Byte-level CSV fields for the export hot loop, byte-identical to what the csv crate's default
//! writer and `f64`'s `Display` produce: numbers as the shortest decimal that round-trips, never
//! with an exponent (a short-decimal fast path, then ryu, falling back to `Display` wherever the
//! two could differ); RFC 4180 quoting of fields that hold `,` `"` CR or LF, quotes doubled.

use std::io::Write as _;

/// Append `v` exactly as `format!("{v}")` would print it.
pub fn push_f64(out: &mut Vec<u8>, v: f64) {
    if push_short_decimal(out, v) {
        return;
    }
    if v.is_finite() {
        let mut buf = ryu::Buffer::new();
        let s = buf.format_finite(v);
        // ryu writes `1e16` / `1e-7` outside [1e-5, 1e16), and `20.0` for integers; `Display`
        // writes every digit and `20`. With 16 or 17 significant digits two decimals of that
        // length can round-trip, and ryu and `Display` may pick different ones: `Display`
        // decides those. Up to 15 digits the shortest decimal is unique.
        let s = s.strip_suffix(".0").unwrap_or(s);
        let significant = s
            .bytes()
            .filter(u8::is_ascii_digit)
            .skip_while(|b| *b == b'0')
            .count();
        if significant <= 15 && !s.as_bytes().contains(&b'e') {
            out.extend_from_slice(s.as_bytes());
            return;
        }
    }
    let _ = write!(out, "{v}");
}

/// Values with at most four decimals below 1e9 (most plant values): the fewest decimals `d`
/// at which `m / 10^d` (exact integers, one correctly rounded division: the same value a parser
/// gives for the decimal) is `v` and no neighbour `m ± 1` is, so the decimal is the shortest
/// one that round-trips and the only one of its length: what `Display` prints.
fn push_short_decimal(out: &mut Vec<u8>, v: f64) -> bool {
    const POW10: [f64; 5] = [1.0, 10.0, 100.0, 1000.0, 10_000.0];
    let a = v.abs();
    if a.is_nan() || a >= 1e9 {
        return false;
    }
    for (d, scale) in POW10.into_iter().enumerate() {
        let m = (a * scale).round();
        if m / scale == a && (m - 1.0) / scale != a && (m + 1.0) / scale != a {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let m = m as u64;
            let mut buf = [0u8; 24];
            let mut i = buf.len();
            let mut rest = m;
            let mut digits = 0;
            loop {
                if digits == d && d > 0 {
                    i -= 1;
                    buf[i] = b'.';
                }
                i -= 1;
                buf[i] = b'0' + (rest % 10) as u8;
                rest /= 10;
                digits += 1;
                if rest == 0 && digits > d {
                    break;
                }
            }
            if v.is_sign_negative() {
                i -= 1;
                buf[i] = b'-';
            }
            out.extend_from_slice(&buf[i..]);
            return true;
        }
    }
    false
}

/// Whether the csv crate (default settings) would quote this field.
pub fn needs_quotes(s: &str) -> bool {
    s.bytes().any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n'))
}

/// Append one field, quoted when it needs to be.
pub fn push_field(out: &mut Vec<u8>, s: &str) {
    if !needs_quotes(s) {
        out.extend_from_slice(s.as_bytes());
        return;
    }
    out.push(b'"');
    for b in s.bytes() {
        if b == b'"' {
            out.push(b'"');
        }
        out.push(b);
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng as _, SeedableRng as _};

    fn ours(v: f64) -> String {
        let mut out = Vec::new();
        push_f64(&mut out, v);
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn numbers_print_like_display() {
        let edge = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            20.0,
            20.01,
            0.05,
            -0.5,
            0.0001,
            999_999_999.999_9,
            1e9,
            123.4567,
            0.1 + 0.2,
            1e-5,
            9.99e-6,
            1e-7,
            1e15,
            1e16,
            9_007_199_254_740_993.0,
            123_456_789.125,
            f64::MAX,
            f64::MIN_POSITIVE,
            5e-324,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        for v in edge {
            assert_eq!(ours(v), format!("{v}"), "{v:e}");
        }
        let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
        for _ in 0..300_000 {
            // Random bit patterns (every magnitude) and plant-like values.
            let bits = f64::from_bits(rng.random::<u64>());
            let plant = f64::from(rng.random_range(-100_000i32..100_000))
                / [1.0, 10.0, 100.0, 1000.0, 10_000.0, 1e5][rng.random_range(0..6)];
            let scaled = rng.random::<f64>() * 10f64.powi(rng.random_range(-8..18));
            for v in [bits, plant, scaled] {
                assert_eq!(ours(v), format!("{v}"), "{v:e}");
            }
        }
    }

    #[test]
    fn fields_quote_like_the_csv_crate() {
        for s in [
            "",
            "plain",
            "a,b",
            "say \"hi\"",
            "line\nbreak",
            "cr\r",
            "°C ünïcode",
            "Line 1, \"A\" temp",
        ] {
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record([s, "x"]).unwrap_or_default();
            let want = w.into_inner().unwrap_or_default();
            let mut got = Vec::new();
            push_field(&mut got, s);
            got.extend_from_slice(b",x\n");
            assert_eq!(
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(&want)
            );
        }
    }
}
