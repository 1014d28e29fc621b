//! Human durations in config (`"20s"`, `"15m"`, `"1h 30m"`, or an integer number of seconds).

use serde::{Deserialize, Deserializer};
use std::fmt;

/// A non-negative duration read from config, kept in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Duration(pub i64);

impl Duration {
    /// From whole seconds.
    pub const fn secs(s: i64) -> Self {
        Duration(s * 1000)
    }
    /// From minutes.
    pub const fn mins(m: i64) -> Self {
        Duration(m * 60_000)
    }
    /// Milliseconds.
    pub const fn ms(self) -> i64 {
        self.0
    }
}

/// Parses `20s`, `15m`, `1h30m`, `90` (seconds), `250ms`, `1d`, `7d`, `1w`: jiff's
/// friendly format, days and weeks taken as 24 and 168 hours (report intervals).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    if let Ok(secs) = t.parse::<f64>() {
        return from_secs_f64(secs).ok_or_else(|| format!("`{text}` is not a valid duration"));
    }
    let d: jiff::SignedDuration = t
        .parse()
        .or_else(|e| {
            // Days and weeks are calendar units to jiff; here they are nominal.
            let span: jiff::Span = t.parse().map_err(|_| e)?;
            span.to_duration(jiff::SpanRelativeTo::days_are_24_hours())
        })
        .map_err(|e| {
            format!("`{text}` is not a duration (use e.g. `20s`, `15m`, `1h 30m`, `7d`): {e}")
        })?;
    if d.is_negative() {
        return Err(format!("`{text}` is negative"));
    }
    i64::try_from(d.as_millis())
        .map(Duration)
        .map_err(|_| format!("`{text}` is too long"))
}

fn from_secs_f64(secs: f64) -> Option<Duration> {
    (secs.is_finite() && (0.0..1e12).contains(&secs))
        .then(|| Duration((secs * 1000.0).round() as i64))
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0;
        if ms % 604_800_000 == 0 && ms > 0 {
            write!(f, "{}d", ms / 86_400_000)
        } else if ms % 3_600_000 == 0 && ms > 0 {
            write!(f, "{}h", ms / 3_600_000)
        } else if ms % 60_000 == 0 && ms > 0 {
            write!(f, "{}m", ms / 60_000)
        } else if ms % 1000 == 0 {
            write!(f, "{}s", ms / 1000)
        } else {
            write!(f, "{ms}ms")
        }
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Duration;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration such as \"20s\", \"15m\" or a number of seconds")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Duration, E> {
                parse_duration(v).map_err(E::custom)
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Duration, E> {
                if v < 0 {
                    return Err(E::custom("a duration cannot be negative"));
                }
                Ok(Duration::secs(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Duration, E> {
                i64::try_from(v)
                    .map(Duration::secs)
                    .map_err(|_| E::custom("duration too long"))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Duration, E> {
                from_secs_f64(v).ok_or_else(|| E::custom("not a valid number of seconds"))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_friendly_and_plain_seconds() {
        assert_eq!(parse_duration("20s"), Ok(Duration::secs(20)));
        assert_eq!(parse_duration("15m"), Ok(Duration::mins(15)));
        assert_eq!(parse_duration("1h 30m"), Ok(Duration::mins(90)));
        assert_eq!(parse_duration("90"), Ok(Duration::secs(90)));
        assert_eq!(parse_duration("250ms"), Ok(Duration(250)));
        assert_eq!(parse_duration("1d"), Ok(Duration::mins(24 * 60)));
        assert_eq!(parse_duration("7d"), Ok(Duration::mins(7 * 24 * 60)));
        assert_eq!(parse_duration("1w"), Ok(Duration::mins(7 * 24 * 60)));
        assert_eq!(parse_duration("1d 12h"), Ok(Duration::mins(36 * 60)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("-5s").is_err());
    }

    #[test]
    fn displays_compactly() {
        assert_eq!(Duration::mins(15).to_string(), "15m");
        assert_eq!(Duration::secs(20).to_string(), "20s");
        assert_eq!(Duration(1500).to_string(), "1500ms");
        assert_eq!(Duration::mins(24 * 60).to_string(), "24h");
        assert_eq!(Duration::mins(7 * 24 * 60).to_string(), "7d");
    }
}
