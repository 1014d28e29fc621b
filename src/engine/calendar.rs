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

/// A nominal day: as an interval, the local day itself (23 or 25 hours on DST days).
pub const DAY_MS: i64 = 86_400_000;

/// A nominal week: as an interval, the local week from Monday 00:00 (ISO 8601).
pub const WEEK_MS: i64 = 7 * DAY_MS;

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

    /// The local date of instant `t`.
    pub fn date(&self, t: Millis) -> jiff::civil::Date {
        Timestamp::from_millisecond(t)
            .map(|ts| ts.to_zoned_datetime(self.tz.clone()).date())
            .unwrap_or_default()
    }

    /// Noon of local date `d`: inside that day whatever DST does at night.
    pub fn noon(&self, d: jiff::civil::Date) -> Millis {
        self.tz
            .to_timestamp(d.at(12, 0, 0, 0))
            .map(|ts| ts.as_millisecond())
            .unwrap_or(Millis::MIN)
    }

    /// The interval length.
    pub fn interval_ms(&self) -> i64 {
        self.interval_ms
    }

    /// The time zone.
    pub fn tz(&self) -> &TimeZone {
        &self.tz
    }

    /// The time zone's IANA name (`Europe/Berlin`), if it has one: what screens show
    /// local times in.
    pub fn zone_name(&self) -> Option<&str> {
        self.tz.iana_name()
    }

    /// `[start, end)` of the local day containing `t` (local midnight to next local midnight).
    pub fn day(&self, t: Millis) -> (Millis, Millis) {
        let fallback = (t - t.rem_euclid(DAY_MS), t - t.rem_euclid(DAY_MS) + DAY_MS);
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

    /// `[start, end)` of the interval containing `t` (in the local `day` given), aligned to
    /// elapsed time since local midnight (so a DST day has 92 or 100 quarter-hours) and
    /// cut at the day's end. A 24-hour interval is the local day itself (23 or 25 hours
    /// on DST days): daily reports have one row per day. A 7-day interval is the local
    /// week from Monday 00:00 (167 or 169 hours across a DST change): weekly reports.
    pub fn interval(&self, t: Millis, day: (Millis, Millis)) -> (Millis, Millis) {
        let (ds, de) = day;
        if self.interval_ms >= WEEK_MS {
            return self.week(day);
        }
        if self.interval_ms >= DAY_MS {
            return day;
        }
        let start = ds + (t - ds).div_euclid(self.interval_ms) * self.interval_ms;
        (start, (start + self.interval_ms).min(de))
    }

    /// True when every interval lies inside one local day (weekly intervals do not).
    pub fn intervals_within_days(&self) -> bool {
        self.interval_ms < WEEK_MS
    }

    /// The next instant after `t` where both the interval and the local day still run:
    /// agent state time is split there, so days stay exact when an interval spans
    /// several (weekly reports).
    pub fn boundary_after(&self, t: Millis) -> Millis {
        let day = self.day(t);
        self.interval(t, day).1.min(day.1)
    }

    /// `[start, end)` of the local week (Monday 00:00 to Monday 00:00) holding the local
    /// day `day` (given by its bounds).
    fn week(&self, day: (Millis, Millis)) -> (Millis, Millis) {
        let fallback = (day.0, day.0 + WEEK_MS);
        let Ok(ts) = Timestamp::from_millisecond(day.0) else {
            return fallback;
        };
        let date = ts.to_zoned_datetime(self.tz.clone()).date();
        let back = i64::from(date.weekday().to_monday_zero_offset());
        let bounds = date
            .checked_sub(jiff::Span::new().days(back))
            .and_then(|monday| {
                let next = monday.checked_add(jiff::Span::new().days(7))?;
                Ok((
                    monday.to_zoned_datetime(self.tz.clone())?,
                    next.to_zoned_datetime(self.tz.clone())?,
                ))
            });
        match bounds {
            Ok((start, end)) => (
                start.timestamp().as_millisecond(),
                end.timestamp().as_millisecond(),
            ),
            Err(_) => fallback,
        }
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

    #[test]
    fn a_seven_day_interval_is_the_local_week_from_monday() {
        let weekly = Calendar::new(tz_berlin(), WEEK_MS);
        // Saturday 2026-11-28 in Berlin: the week of Monday 2026-11-23.
        let t = ms("2026-11-28T09:00:00Z");
        let week = (ms("2026-11-22T23:00:00Z"), ms("2026-11-29T23:00:00Z"));
        assert_eq!(weekly.interval(t, weekly.day(t)), week);
        // Monday 00:30 local is already the next week; Sunday 23:30 local is not.
        let monday = ms("2026-11-29T23:30:00Z");
        assert_eq!(weekly.interval(monday, weekly.day(monday)).0, week.1);
        let sunday = ms("2026-11-29T22:30:00Z");
        assert_eq!(weekly.interval(sunday, weekly.day(sunday)), week);
        // The week holding the autumn change has 169 hours, the spring one 167.
        let autumn = ms("2026-10-25T12:00:00Z");
        let w = weekly.interval(autumn, weekly.day(autumn));
        assert_eq!(w.1 - w.0, 169 * 3_600_000);
        assert_eq!(w.0, ms("2026-10-18T22:00:00Z"));
        let spring = ms("2026-03-29T12:00:00Z");
        let w = weekly.interval(spring, weekly.day(spring));
        assert_eq!(w.1 - w.0, 167 * 3_600_000);
        // Agent state time is still split at each local midnight inside the week.
        assert_eq!(weekly.boundary_after(t), ms("2026-11-28T23:00:00Z"));
        let quarter = Calendar::new(tz_berlin(), 900_000);
        assert_eq!(quarter.boundary_after(t), ms("2026-11-28T09:15:00Z"));
    }

    #[test]
    fn utc_weeks_start_on_monday() {
        let weekly = Calendar::new(TimeZone::UTC, WEEK_MS);
        let t = ms("2026-12-06T23:59:59Z"); // a Sunday
        assert_eq!(
            weekly.interval(t, weekly.day(t)),
            (ms("2026-11-30T00:00:00Z"), ms("2026-12-07T00:00:00Z"))
        );
    }
}
