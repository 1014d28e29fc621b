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
        Ok(ts) => with_ms_if_any(ms, ts),
        Err(_) => ms.to_string(),
    }
}

/// RFC 3339 with `tz`'s UTC offset at that instant (`2026-10-24T00:00:00+02:00`), so a
/// report's local midnights read as midnights; in UTC the same as [`format_rfc3339`].
pub fn format_rfc3339_in(ms: Millis, tz: &jiff::tz::TimeZone) -> String {
    let Ok(ts) = jiff::Timestamp::from_millisecond(ms) else {
        return ms.to_string();
    };
    let offset = tz.to_offset(ts);
    if offset == jiff::tz::Offset::UTC {
        return format_rfc3339(ms);
    }
    with_ms_if_any(ms, ts.display_with_offset(offset))
}

/// `t` with milliseconds only when `ms` has a fraction of a second.
fn with_ms_if_any(ms: Millis, t: impl std::fmt::Display) -> String {
    if ms % 1000 == 0 {
        format!("{t:.0}")
    } else {
        format!("{t:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_with_the_zone_offset() {
        let berlin = jiff::tz::TimeZone::get("Europe/Berlin").expect("tz");
        // Local midnights either side of the autumn change, and a fraction.
        assert_eq!(
            format_rfc3339_in(1_792_879_200_000, &berlin),
            "2026-10-25T00:00:00+02:00"
        );
        assert_eq!(
            format_rfc3339_in(1_792_969_200_000, &berlin),
            "2026-10-26T00:00:00+01:00"
        );
        assert_eq!(
            format_rfc3339_in(1_792_969_200_250, &berlin),
            "2026-10-26T00:00:00.250+01:00"
        );
        let utc = jiff::tz::TimeZone::UTC;
        assert_eq!(
            format_rfc3339_in(1_675_555_753_000, &utc),
            "2023-02-05T00:09:13Z"
        );
    }

    #[test]
    fn formats_whole_and_fractional_seconds() {
        assert_eq!(format_rfc3339(1_675_555_753_000), "2023-02-05T00:09:13Z");
        assert_eq!(
            format_rfc3339(1_675_555_753_250),
            "2023-02-05T00:09:13.250Z"
        );
    }
}
