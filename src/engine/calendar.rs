//! Local days and report intervals in the configured time zone (DST days have 23 or 25 hours).

use crate::model::Millis;
use jiff::tz::TimeZone;
use jiff::Timestamp;

/// Maps event time to local-day and interval boundaries.
#[derive(Debug, Clone)]
pub struct Calendar {
    tz: TimeZone,
    interval_ms: i64,
}

/// A nominal day.
const DAY_MS: i64 = 86_400_000;

impl Default for Calendar {
    /// UTC, 15-minute intervals (replaced by the config's on restore).
    fn default() -> Self {
        Calendar::new(TimeZone::UTC, 900_000)
    }
}

impl Calendar {
    /// A calendar in `tz` with intervals of `interval_ms` (dividing a day).
    pub fn new(tz: TimeZone, interval_ms: i64) -> Self {
        Calendar {
            tz,
            interval_ms: interval_ms.max(1),
        }
    }

    /// The interval length.
    pub fn interval_ms(&self) -> i64 {
        self.interval_ms
    }

    /// The time zone.
    pub fn tz(&self) -> &TimeZone {
        &self.tz
    }

    /// `[start, end)` of the local day containing `t` (local midnight to next local midnight).
    pub fn day(&self, t: Millis) -> (Millis, Millis) {
        let fallback = (
            t - t.rem_euclid(86_400_000),
            t - t.rem_euclid(86_400_000) + 86_400_000,
        );
        let Ok(ts) = Timestamp::from_millisecond(t) else {
            return fallback;
        };
        let zoned = ts.to_zoned_datetime(self.tz.clone());
        let (Ok(start), Ok(end)) = (
            zoned.start_of_day(),
            zoned.tomorrow().and_then(|z| z.start_of_day()),
        ) else {
            return fallback;
        };
        (
            start.timestamp().as_millisecond(),
            end.timestamp().as_millisecond(),
        )
    }

    /// `[start, end)` of the interval containing `t`, aligned to elapsed time since local
    /// midnight (so a DST day has 92 or 100 quarter-hours) and cut at the day's end. A
    /// 24-hour interval is the local day itself (23 or 25 hours on DST days): daily
    /// reports have one row per day.
    pub fn interval(&self, t: Millis, day: (Millis, Millis)) -> (Millis, Millis) {
        let (ds, de) = day;
        if self.interval_ms >= DAY_MS {
            return day;
        }
        let start = ds + (t - ds).div_euclid(self.interval_ms) * self.interval_ms;
        (start, (start + self.interval_ms).min(de))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> Millis {
        s.parse::<Timestamp>()
            .map(|t| t.as_millisecond())
            .unwrap_or(0)
    }

    #[test]
    fn utc_day_and_quarter_hours() {
        let c = Calendar::new(TimeZone::UTC, 900_000);
        let t = ms("2026-11-28T09:07:30Z");
        let day = c.day(t);
        assert_eq!(
            day,
            (ms("2026-11-28T00:00:00Z"), ms("2026-11-29T00:00:00Z"))
        );
        assert_eq!(
            c.interval(t, day),
            (ms("2026-11-28T09:00:00Z"), ms("2026-11-28T09:15:00Z"))
        );
    }

    fn tz_berlin() -> TimeZone {
        TimeZone::get("Europe/Berlin").expect("tz")
    }

    #[test]
    fn dst_days_have_23_and_25_hours() {
        let tz = TimeZone::get("Europe/Berlin").expect("tz");
        let c = Calendar::new(tz, 900_000);
        let spring = c.day(ms("2026-03-29T12:00:00Z"));
        assert_eq!(spring.1 - spring.0, 23 * 3_600_000);
        let autumn = c.day(ms("2026-10-25T12:00:00Z"));
        assert_eq!(autumn.1 - autumn.0, 25 * 3_600_000);
        // A 24-hour interval is the local day, whatever its length.
        let daily = Calendar::new(tz_berlin(), 86_400_000);
        for t in [ms("2026-03-29T12:00:00Z"), ms("2026-10-25T12:00:00Z")] {
            let day = daily.day(t);
            assert_eq!(daily.interval(t, day), day);
        }
        // The 25th hour of the autumn day is still that day's row.
        assert_eq!(
            daily.interval(ms("2026-10-25T22:30:00Z"), autumn),
            (ms("2026-10-24T22:00:00Z"), ms("2026-10-25T23:00:00Z"))
        );
        // Local midnight in Berlin is 23:00 UTC the day before in winter.
        assert_eq!(
            c.day(ms("2026-11-28T09:00:00Z")).0,
            ms("2026-11-27T23:00:00Z")
        );
    }
}
