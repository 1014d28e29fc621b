//! Encoders: canonical [`Event`](crate::model::Event)s → wire formats (JSON lines v1,
//! Asterisk queue_log). The inverse of the decoders; used by `ccpulse simulate` and tests.

pub mod jsonl;
pub mod queue_log;

use crate::model::Millis;

/// An event the target format cannot express (e.g. a membership change in JSON v1).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{format} cannot represent {what}")]
pub struct Unrepresentable {
    /// The target format (`jsonl`, `queue_log`).
    pub format: &'static str,
    /// What could not be written.
    pub what: &'static str,
}

/// Appends `ms` as RFC 3339 UTC with milliseconds (`2026-11-28T09:00:01.250Z`).
///
/// Hand-rolled (civil-from-days) because the simulator writes millions of lines per second.
pub fn push_rfc3339_ms(out: &mut Vec<u8>, ms: Millis) {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    let (h, mi, s, frac) = (
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000,
    );
    if (0..=9999).contains(&y) {
        push_padded(out, y as u64, 4);
    } else {
        push_int(out, y);
    }
    out.push(b'-');
    push_padded(out, m as u64, 2);
    out.push(b'-');
    push_padded(out, d as u64, 2);
    out.push(b'T');
    push_padded(out, h as u64, 2);
    out.push(b':');
    push_padded(out, mi as u64, 2);
    out.push(b':');
    push_padded(out, s as u64, 2);
    out.push(b'.');
    push_padded(out, frac as u64, 3);
    out.push(b'Z');
}

/// Howard Hinnant's `civil_from_days`: days since 1970-01-01 → (year, month, day).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Appends `v` zero-padded to `width` digits.
fn push_padded(out: &mut Vec<u8>, v: u64, width: usize) {
    let mut buf = [b'0'; 20];
    let mut i = buf.len();
    let mut v = v;
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    let start = buf.len().saturating_sub(width).min(i);
    out.extend_from_slice(&buf[start..]);
}

/// Appends a decimal integer.
pub(crate) fn push_int(out: &mut Vec<u8>, v: i64) {
    if v < 0 {
        out.push(b'-');
    }
    push_padded(out, v.unsigned_abs(), 1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_match_jiff() {
        for ms in [
            0i64,
            1_675_555_753_250,
            1_675_555_753_000,
            1_798_675_201_999,
            951_782_400_000, // 2000-02-29
            4_102_444_799_999,
        ] {
            let mut out = Vec::new();
            push_rfc3339_ms(&mut out, ms);
            let ts = jiff::Timestamp::from_millisecond(ms).unwrap_or_default();
            assert_eq!(String::from_utf8_lossy(&out), format!("{ts:.3}"), "{ms}");
        }
    }

    #[test]
    fn integers() {
        let mut out = Vec::new();
        push_int(&mut out, -120);
        out.push(b' ');
        push_int(&mut out, 0);
        out.push(b' ');
        push_int(&mut out, 9_876_543_210);
        assert_eq!(out, b"-120 0 9876543210");
    }
}
