//! Schedule CSV: `agent,start,end,activity[,team][,queues]`, one row per segment.
//!
//! - An optional header row (first field `agent`) is skipped; `#` starts a comment line.
//! - Times are RFC 3339 (`2026-11-28T09:00:00+01:00`) or local `YYYY-MM-DD HH:MM[:SS]`
//!   in the configured time zone (DST gaps and folds resolved the `compatible` way).
//! - `queues` lists queue names separated by `;` or `|` (quote the field to use commas).
//!
//! A bad row is rejected with its line number and the reason, and the rest is kept:
//! import never fails as a whole.

use super::plan::{Schedule, Segment};
use super::Activity;
use crate::model::{Millis, MAX_PLAUSIBLE_MS, MIN_PLAUSIBLE_MS};
use serde::Serialize;

/// Longest accepted segment (a row longer than this is a typo, e.g. a wrong day).
const MAX_SEGMENT_MS: Millis = 24 * 3_600_000;
/// Rejected rows listed with their reason (all are counted).
const MAX_LISTED: usize = 100;
/// Rows read at most; the rest are counted as rejected (`too_many_rows`).
pub const MAX_ROWS: usize = 500_000;

/// A row that was not imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RejectedRow {
    /// 1-based line number in the CSV.
    pub line: u64,
    /// Why.
    pub reason: String,
}

/// What an import accepted and rejected, and the schedule built from it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    /// Rows accepted.
    pub accepted: usize,
    /// Rows rejected.
    pub rejected: usize,
    /// The first rejected rows with their reasons.
    pub errors: Vec<RejectedRow>,
    /// Agents in the accepted rows.
    pub agents: usize,
    /// The schedule (not serialised: the view shows it).
    #[serde(skip)]
    pub schedule: Schedule,
}

impl ImportReport {
    /// True unless every row was rejected (then the current schedule stays).
    pub fn applies(&self) -> bool {
        !(self.accepted == 0 && self.rejected > 0)
    }
}

/// Parses a schedule CSV; times without an offset are read in `tz`.
pub fn parse_csv(data: &[u8], tz: &jiff::tz::TimeZone) -> ImportReport {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(data);
    let mut report = ImportReport::default();
    let mut segments = Vec::new();
    let reject = |report: &mut ImportReport, line: u64, reason: String| {
        report.rejected += 1;
        if report.errors.len() < MAX_LISTED {
            report.errors.push(RejectedRow { line, reason });
        }
    };
    let mut first = true;
    for rec in rdr.records() {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                reject(&mut report, line, format!("unreadable row: {e}"));
                continue;
            }
        };
        let line = rec.position().map_or(0, |p| p.line());
        if std::mem::take(&mut first)
            && rec.get(0).is_some_and(|f| {
                f.trim_start_matches('\u{feff}')
                    .eq_ignore_ascii_case("agent")
            })
        {
            continue;
        }
        if rec.iter().all(str::is_empty) {
            continue;
        }
        if segments.len() >= MAX_ROWS {
            reject(&mut report, line, format!("more than {MAX_ROWS} rows"));
            continue;
        }
        match row(&rec, tz) {
            Ok(s) => segments.push(s),
            Err(reason) => reject(&mut report, line, reason),
        }
    }
    report.accepted = segments.len();
    report.schedule = Schedule::from_segments(&segments);
    report.agents = report.schedule.agents.len();
    report
}

fn row(rec: &csv::StringRecord, tz: &jiff::tz::TimeZone) -> Result<Segment, String> {
    if rec.len() < 4 {
        return Err(format!(
            "{} fields, expected agent,start,end,activity[,team][,queues]",
            rec.len()
        ));
    }
    if rec.len() > 6 {
        return Err(format!("{} fields, expected at most 6", rec.len()));
    }
    let field = |i: usize| rec.get(i).unwrap_or_default();
    let agent = field(0);
    if agent.is_empty() {
        return Err("empty agent".into());
    }
    let start = time(field(1), tz).map_err(|e| format!("start: {e}"))?;
    let end = time(field(2), tz).map_err(|e| format!("end: {e}"))?;
    if end <= start {
        return Err(format!(
            "end `{}` is not after start `{}`",
            field(2),
            field(1)
        ));
    }
    if end - start > MAX_SEGMENT_MS {
        return Err("segment longer than 24h".into());
    }
    let activity = Activity::parse(field(3)).ok_or_else(|| {
        format!(
            "unknown activity `{}` (one of {})",
            field(3),
            Activity::NAMES.join(", ")
        )
    })?;
    let team = Some(field(4)).filter(|t| !t.is_empty()).map(str::to_string);
    let queues = field(5)
        .split([';', '|', ','])
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .map(str::to_string)
        .collect();
    Ok(Segment {
        agent: agent.to_string(),
        start,
        end,
        activity,
        team,
        queues,
    })
}

/// RFC 3339, or a local `YYYY-MM-DD HH:MM[:SS]` in `tz`.
fn time(s: &str, tz: &jiff::tz::TimeZone) -> Result<Millis, String> {
    if s.is_empty() {
        return Err("empty".into());
    }
    let ms = if let Ok(ts) = s.parse::<jiff::Timestamp>() {
        ts.as_millisecond()
    } else {
        let dt: jiff::civil::DateTime = s.parse().map_err(|_| {
            format!("`{s}` is neither RFC 3339 nor a local `YYYY-MM-DD HH:MM` time")
        })?;
        tz.to_ambiguous_zoned_datetime(dt)
            .compatible()
            .map_err(|e| format!("`{s}`: {e}"))?
            .timestamp()
            .as_millisecond()
    };
    if !(MIN_PLAUSIBLE_MS..MAX_PLAUSIBLE_MS).contains(&ms) {
        return Err(format!("`{s}` is not between 2000 and 2100"));
    }
    Ok(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T9: Millis = 1_795_856_400_000; // 2026-11-28T09:00:00Z

    #[test]
    fn good_rows_with_header_quotes_comments_and_both_time_forms() {
        let csv = "agent,start,end,activity,team,queues\n\
                   # morning shift\n\
                   a1,2026-11-28T09:00:00Z,2026-11-28T17:00:00Z,work,Team A,\"sales,support\"\n\
                   a1,2026-11-28 10:30,2026-11-28 10:45,Break,,\n\
                   \"b, jr\",2026-11-28T10:00:00+01:00,2026-11-28T11:00:00+01:00,meeting\n";
        let tz = jiff::tz::TimeZone::get("Europe/Berlin").expect("tz");
        let r = parse_csv(csv.as_bytes(), &tz);
        assert_eq!((r.accepted, r.rejected), (3, 0), "{:?}", r.errors);
        let a1 = r.schedule.plan("a1").expect("a1");
        assert_eq!(a1.team.as_deref(), Some("Team A"));
        assert_eq!(a1.queues, vec!["sales", "support"]);
        // 10:30 Berlin is 09:30Z.
        assert_eq!(a1.activity_at(T9 + 30 * 60_000), Some(Activity::Break));
        assert_eq!(a1.activity_at(T9 + 45 * 60_000), Some(Activity::Work));
        let b = r.schedule.plan("b, jr").expect("quoted agent");
        assert_eq!(b.spans.first().map(|s| s.start), Some(T9));
    }

    #[test]
    fn bad_rows_are_counted_with_line_and_reason() {
        let csv = "a1,2026-11-28T09:00:00Z,2026-11-28T17:00:00Z,work\n\
                   a2,2026-11-28T09:00:00Z\n\
                   a3,yesterday,2026-11-28T17:00:00Z,work\n\
                   a4,2026-11-28T17:00:00Z,2026-11-28T09:00:00Z,work\n\
                   a5,2026-11-28T09:00:00Z,2026-11-28T10:00:00Z,nap\n\
                   ,2026-11-28T09:00:00Z,2026-11-28T10:00:00Z,work\n\
                   a7,2026-11-28T09:00:00Z,2026-11-30T10:00:00Z,work\n\
                   a8,1970-01-01T00:00:00Z,1970-01-01T01:00:00Z,work\n\
                   a9,2026-11-28T09:00:00Z,2026-11-28T10:00:00Z,work,t,q,extra\n\
                   a10,\"2026-11-28T09:00:00Z,2026-11-28T10:00:00Z,work\n";
        let r = parse_csv(csv.as_bytes(), &jiff::tz::TimeZone::UTC);
        assert_eq!(r.accepted, 1);
        assert_eq!(r.rejected, 9, "{:?}", r.errors);
        let lines: Vec<u64> = r.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![2, 3, 4, 5, 6, 7, 8, 9, 10]);
        let reason = |line: u64| {
            r.errors
                .iter()
                .find(|e| e.line == line)
                .map(|e| e.reason.clone())
                .unwrap_or_default()
        };
        assert!(reason(2).contains("2 fields"), "{}", reason(2));
        assert!(reason(3).starts_with("start:"), "{}", reason(3));
        assert!(reason(4).contains("not after"), "{}", reason(4));
        assert!(
            reason(5).contains("unknown activity `nap`"),
            "{}",
            reason(5)
        );
        assert!(reason(6).contains("empty agent"), "{}", reason(6));
        assert!(reason(7).contains("24h"), "{}", reason(7));
        assert!(reason(8).contains("2000"), "{}", reason(8));
        assert!(reason(9).contains("at most 6"), "{}", reason(9));
    }

    #[test]
    fn garbage_never_panics() {
        for data in [&b""[..], b"\xff\xfe\x00", b",,,,,,,,\n\n\"", b"agent\n"] {
            let r = parse_csv(data, &jiff::tz::TimeZone::UTC);
            assert_eq!(r.accepted, 0);
        }
    }
}
