//! Event time: milliseconds since the Unix epoch, always taken from the events.

/// Event time in milliseconds since the Unix epoch (UTC).
pub type Millis = i64;

/// Earliest timestamp accepted from any source (2000-01-01T00:00:00Z): older ones are absurd.
pub const MIN_PLAUSIBLE_MS: Millis = 946_684_800_000;
/// Latest timestamp accepted from any source (2100-01-01T00:00:00Z).
pub const MAX_PLAUSIBLE_MS: Millis = 4_102_444_800_000;

/// Formats event time as RFC 3339 in UTC with millisecond precision when needed.
pub fn format_rfc3339(ms: Millis) -> String {
    match jiff::Timestamp::from_millisecond(ms) {
        Ok(ts) => {
            if ms % 1000 == 0 {
                format!("{ts:.0}")
            } else {
                format!("{ts:.3}")
            }
        }
        Err(_) => ms.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_whole_and_fractional_seconds() {
        assert_eq!(format_rfc3339(1_675_555_753_000), "2023-02-05T00:09:13Z");
        assert_eq!(
            format_rfc3339(1_675_555_753_250),
            "2023-02-05T00:09:13.250Z"
        );
    }
}
