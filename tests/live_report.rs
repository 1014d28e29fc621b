//! The live engine's day report (`GET /api/v1/report`) against the replay report of the
//! same events: the daemon keeps each closed interval's row and sums a local day's rows
//! as replay sums its input, so a day lived through reports what a replay of it reports.

use ccpulse::config::{Config, Duration};
use ccpulse::engine::{DayCut, DayCutError, DaySpec, Engine, EngineOptions, WeekSpec};
use ccpulse::model::{Event, EventBody};
use ccpulse::report::{InputCounts, Report};
use ccpulse::sim::{SimConfig, Simulator};
use serde_json::Value;

#[path = "common/report_json.rs"]
mod report_json;

/// 2026-11-30 00:00 in Europe/Berlin (UTC+1), a Monday.
const MONDAY: i64 = 1_795_993_200_000;
const HOUR: i64 = 3_600_000;

fn config() -> Config {
    let mut c = Config {
        timezone: "Europe/Berlin".into(),
        ..Config::default()
    };
    c.defaults.wrap_up = Some(Duration::secs(5));
    c
}

fn events(seed: u64, start: i64, hours: i64) -> Vec<Event> {
    let mut cfg = SimConfig::demo(seed);
    cfg.start = start;
    cfg.duration_ms = hours * HOUR;
    Simulator::new(&cfg).expect("demo config").collect()
}

fn live_opts(report_days: u32) -> EngineOptions {
    EngineOptions {
        sl_grace_ms: 0,
        keep_closed: true,
        rolling: true,
        lifetime: true,
        live_totals: true,
        report_days,
    }
}

fn replay_opts() -> EngineOptions {
    EngineOptions {
        live_totals: false,
        rolling: false,
        lifetime: false,
        ..live_opts(0)
    }
}

fn run(opts: EngineOptions, evs: &[Event]) -> Engine {
    let mut e = Engine::new(&config(), opts).expect("engine");
    for ev in evs {
        let _ = e.push(ev.clone());
    }
    e
}

/// The replay report of `evs` as JSON.
fn replayed(evs: &[Event]) -> Value {
    let mut e = run(replay_opts(), evs);
    let r = Report::new(&mut e, InputCounts::default(), None, None);
    serde_json::to_value(&r).expect("json")
}

/// The live engine's rows of the local day `date`.
fn live_cut(e: &mut Engine, date: &str) -> DayCut {
    e.day_cut(DaySpec::Date(date.parse().expect("date")))
        .expect("the day is kept")
}

/// The live engine's report of the local day of `date` as JSON, written by the same
/// writer the API uses (the hand-written JSON).
fn live_day(e: &mut Engine, date: &str) -> Value {
    let cut = live_cut(e, date);
    let mut out = Vec::new();
    Report::of_day(&cut, None)
        .write(ccpulse::report::OutputFormat::Json, &mut out)
        .expect("write");
    serde_json::from_slice(&out).expect("json")
}

/// Every queue's and agent's rows of `report` that start in `[from, to)` (RFC 3339 in
/// Berlin's winter offset compare as strings within a day).
fn rows_between(report: &Value, kind: &str, from: &str, to: &str) -> Vec<(String, Value)> {
    let key = &kind[..kind.len() - 1];
    report[kind]
        .as_array()
        .expect("entities")
        .iter()
        .flat_map(|e| {
            let name = e[key].as_str().expect("name").to_string();
            e["intervals"]
                .as_array()
                .expect("rows")
                .iter()
                .filter(|r| {
                    let s = r["start"].as_str().expect("start");
                    from <= s && s < to
                })
                .map(move |r| (name.clone(), r.clone()))
        })
        .collect()
}

#[test]
fn a_day_lived_through_reports_what_its_replay_reports() {
    let evs = events(21, MONDAY + 6 * HOUR, 15);
    assert!(evs.len() > 5_000, "a real day of events");
    let want = replayed(&evs);
    let mut live = run(live_opts(2), &evs);
    live.finish();
    live.close_all();
    let got = live_day(&mut live, "2026-11-30");
    assert_eq!(got["interval_seconds"], want["interval_seconds"]);
    assert_eq!(got["timezone"], want["timezone"]);
    assert_eq!(got["from"], "2026-11-30T00:00:00+01:00");
    for kind in ["queues", "agents", "teams"] {
        let (g, w) = (&got[kind], &want[kind]);
        assert!(
            w.as_array().is_some_and(|a| !a.is_empty()),
            "{kind} in replay"
        );
        assert_eq!(g, w, "{kind}: totals and every interval row");
    }
}

#[test]
fn the_daemon_keeps_its_report_days_and_each_day_sums_its_rows() {
    // Monday 06:00 to Wednesday 21:00; two days kept.
    let evs = events(5, MONDAY + 6 * HOUR, 63);
    let want = replayed(&evs);
    let mut live = run(live_opts(2), &evs);
    live.finish();
    live.close_all();
    assert_eq!(
        live.day_cut(DaySpec::Date("2026-11-30".parse().expect("date")))
            .map(|_| ()),
        Err(DayCutError::NotKept {
            date: "2026-11-30".parse().expect("date"),
            days: 2
        }),
        "Monday is older than the two days kept"
    );
    // And its rows are gone from memory, not merely hidden.
    let tuesday = MONDAY + 24 * HOUR;
    let oldest = live
        .queues()
        .flat_map(|(_, _, tl)| tl.closed.first().map(|r| r.0))
        .chain(
            live.agents()
                .flat_map(|(_, _, tl)| tl.closed.first().map(|r| r.0)),
        )
        .min();
    assert!(
        oldest.is_some_and(|t| (tuesday..tuesday + 24 * HOUR).contains(&t)),
        "the oldest row kept is Tuesday's: {oldest:?}"
    );
    for (date, next) in [("2026-12-01", "2026-12-02"), ("2026-12-02", "2026-12-03")] {
        let got = live_day(&mut live, date);
        let (from, to) = (format!("{date}T00"), format!("{next}T00"));
        for kind in ["queues", "agents", "teams"] {
            let g = rows_between(&got, kind, &from, &to);
            let w = rows_between(&want, kind, &from, &to);
            assert!(!w.is_empty(), "{kind} rows on {date}");
            assert_eq!(g, w, "{kind} rows of {date}");
            let listed: usize = got[kind]
                .as_array()
                .expect("entities")
                .iter()
                .map(|e| e["intervals"].as_array().map_or(0, Vec::len))
                .sum();
            assert_eq!(listed, g.len(), "{kind} of {date}: no row of another day");
        }
        // Each entity's totals are its day's rows summed.
        for (kind, key, fields) in [
            (
                "queues",
                "queue",
                &["arrived", "answered", "abandoned", "handled"][..],
            ),
            (
                "agents",
                "agent",
                &["handled", "ring_no_answer", "transferred"][..],
            ),
        ] {
            for e in got[kind].as_array().expect("entities") {
                for f in fields {
                    let sum: u64 = e["intervals"]
                        .as_array()
                        .expect("rows")
                        .iter()
                        .map(|r| r[f].as_u64().expect("count"))
                        .sum();
                    assert_eq!(e["totals"][f].as_u64(), Some(sum), "{date} {} {f}", e[key]);
                }
            }
        }
        for a in got["agents"].as_array().expect("agents") {
            let sum: f64 = a["intervals"]
                .as_array()
                .expect("rows")
                .iter()
                .map(|r| r["logged_in_seconds"].as_f64().expect("seconds"))
                .sum();
            let total = a["totals"]["logged_in_seconds"].as_f64().expect("seconds");
            assert!(
                (total - sum).abs() < 1e-6,
                "{date} {}: {total} vs {sum}",
                a["agent"]
            );
        }
    }
    // Today (the watermark's day) is the default.
    let today = live.day_cut(DaySpec::Today).expect("today");
    assert_eq!(today.day.0, MONDAY + 2 * 24 * HOUR);
    let yesterday = live.day_cut(DaySpec::Yesterday).expect("yesterday");
    assert_eq!(yesterday.day, (MONDAY + 24 * HOUR, MONDAY + 2 * 24 * HOUR));
    assert_eq!(
        format!("{:?}", yesterday.agents),
        format!("{:?}", live_cut(&mut live, "2026-12-01").agents),
        "yesterday is Tuesday"
    );
}

/// `evs` lived through by one engine, and by one saved after `split` events and
/// restored (as a daemon restarts) for the rest; both advanced an hour past the last
/// event. Also the checkpoint's bytes.
fn whole_and_resumed(evs: &[Event], split: usize) -> (Engine, Engine, Vec<u8>) {
    let mut whole = run(live_opts(2), evs);
    let first = run(live_opts(2), &evs[..split]);
    // Saved as an older daemon would have: the setting comes from the running daemon.
    let bytes = first.checkpoint().expect("checkpoint");
    drop(first);
    let mut resumed = Engine::restore(&config(), live_opts(2), &bytes).expect("restore");
    for ev in &evs[split..] {
        let _ = resumed.push(ev.clone());
    }
    let end = evs.last().map_or(0, |e| e.ts) + HOUR;
    whole.advance_to(end);
    resumed.advance_to(end);
    (whole, resumed, bytes)
}

#[test]
fn a_restored_engine_keeps_its_report_rows() {
    let evs = events(8, MONDAY + 6 * HOUR, 40);
    let (mut whole, mut resumed, bytes) = whole_and_resumed(&evs, evs.len() * 3 / 4);
    for date in ["2026-11-30", "2026-12-01"] {
        assert_eq!(
            live_day(&mut resumed, date),
            live_day(&mut whole, date),
            "{date} after a restore"
        );
    }
    // A daemon restarted with reports off drops the rows.
    let mut off = Engine::restore(
        &config(),
        EngineOptions {
            keep_closed: false,
            ..live_opts(0)
        },
        &bytes,
    )
    .expect("restore");
    assert_eq!(
        off.day_cut(DaySpec::Today).map(|_| ()),
        Err(DayCutError::Off)
    );
}

#[test]
fn a_teams_rows_are_its_agents_rows_summed() {
    let evs = events(13, MONDAY + 6 * HOUR, 15);
    let mut team_of = std::collections::HashMap::new();
    for e in &evs {
        if let ccpulse::model::EventBody::AgentState(ch) = &e.body {
            if let Some(t) = &ch.team {
                let before = team_of.insert(ch.agent.to_string(), t.to_string());
                assert!(
                    before.is_none_or(|b| b == t.as_str()),
                    "the demo's teams are fixed"
                );
            }
        }
    }
    let report = replayed(&evs);
    let teams = report["teams"].as_array().expect("teams");
    assert_eq!(teams.len(), 2, "the demo's two teams");
    let counts = ["handled", "transferred", "ring_no_answer"];
    let seconds = [
        "logged_in_seconds",
        "available_seconds",
        "on_contact_seconds",
        "acw_seconds",
        "aux_seconds",
    ];
    for team in teams {
        let name = team["team"].as_str().expect("name");
        let members: Vec<&Value> = report["agents"]
            .as_array()
            .expect("agents")
            .iter()
            .filter(|a| {
                team_of
                    .get(a["agent"].as_str().expect("id"))
                    .map(String::as_str)
                    == Some(name)
            })
            .collect();
        assert!(members.len() >= 10, "{name}: {} agents", members.len());
        // Each row, and the totals, against the members' rows and totals.
        let mut blocks: Vec<(Value, Vec<&Value>)> = team["intervals"]
            .as_array()
            .expect("rows")
            .iter()
            .map(|row| {
                let of_members = members
                    .iter()
                    .flat_map(|a| a["intervals"].as_array().expect("rows"))
                    .filter(|r| r["start"] == row["start"])
                    .collect();
                (row.clone(), of_members)
            })
            .collect();
        blocks.push((
            team["totals"].clone(),
            members.iter().map(|a| &a["totals"]).collect(),
        ));
        for (row, parts) in &blocks {
            for f in counts {
                let sum: u64 = parts.iter().map(|r| r[f].as_u64().expect("count")).sum();
                assert_eq!(row[f].as_u64(), Some(sum), "{name} {} {f}", row["start"]);
            }
            for f in seconds {
                let sum: f64 = parts.iter().map(|r| r[f].as_f64().expect("seconds")).sum();
                let got = row[f].as_f64().expect("seconds");
                assert!(
                    (got - sum).abs() < 1e-6,
                    "{name} {} {f}: {got} vs {sum}",
                    row["start"]
                );
            }
        }
    }
}

#[test]
fn a_days_input_counts_that_days_events_only() {
    // Monday 06:00 to Wednesday 21:00, three days kept. Every event gets an id; some are
    // sent twice (duplicates), some sent again two hours old (late), and some answers
    // name a contact never queued (unmatched) — none within an hour of midnight, so the
    // day each refusal lands on is the day of the event it follows.
    let evs = events(5, MONDAY + 6 * HOUR, 63);
    let day_of = |t: i64| (t - MONDAY).div_euclid(24 * HOUR) as usize;
    let near_midnight = |t: i64| {
        let in_day = (t - MONDAY).rem_euclid(24 * HOUR);
        !(HOUR..23 * HOUR).contains(&in_day)
    };
    let mut e = Engine::new(&config(), live_opts(3)).expect("engine");
    // Per day: applied, late, duplicates, unmatched (the brute force).
    let mut want = [[0u64; 4]; 3];
    for (i, ev) in evs.iter().enumerate() {
        let mut ev = ev.clone();
        ev.id = Some(format!("e{i}").as_str().into());
        let d = day_of(ev.ts);
        assert!(e.push(ev.clone()).is_ok(), "event {i}");
        want[d][0] += 1;
        if near_midnight(ev.ts) {
            continue;
        }
        if i % 97 == 0 {
            assert!(e.push(ev.clone()).is_err(), "duplicate {i}");
            want[d][2] += 1;
        }
        if i % 101 == 0 {
            let late = Event {
                ts: ev.ts - 2 * HOUR,
                id: Some(format!("late{i}").as_str().into()),
                ..ev.clone()
            };
            assert!(e.push(late).is_err(), "late {i}");
            want[d][1] += 1;
        }
        if i % 103 == 0 {
            let stray = Event {
                ts: ev.ts,
                id: Some(format!("stray{i}").as_str().into()),
                body: EventBody::ContactAnswered {
                    contact: format!("never-queued-{i}").as_str().into(),
                    queue: "sales".into(),
                    agent: "nobody".into(),
                    wait_ms: None,
                },
            };
            assert!(e.push(stray).is_ok(), "stray {i}");
            want[d][0] += 1;
            want[d][3] += 1;
        }
    }
    e.finish();
    for (d, date) in ["2026-11-30", "2026-12-01", "2026-12-02"]
        .iter()
        .enumerate()
    {
        let got = &live_day(&mut e, date)["input"];
        let [applied, late, dups, unmatched] = want[d];
        assert!(
            late > 0 && dups > 0 && unmatched > 0,
            "{date}: {:?}",
            want[d]
        );
        assert_eq!(got["events"].as_u64(), Some(applied), "{date} events");
        assert_eq!(got["lines"].as_u64(), Some(applied), "{date} lines");
        assert_eq!(got["late"].as_u64(), Some(late), "{date} late");
        assert_eq!(got["duplicates"].as_u64(), Some(dups), "{date} duplicates");
        assert_eq!(
            got["unmatched"].as_u64(),
            Some(unmatched),
            "{date} unmatched"
        );
    }
    // The simulator's own stream has no unmatched events: all are the strays.
    let total_unmatched: u64 = want.iter().map(|d| d[3]).sum();
    assert_eq!(e.stats().unmatched, total_unmatched);
    // A past day ends at its midnight; a day after the watermark counts nothing.
    let monday = live_day(&mut e, "2026-11-30");
    assert_eq!(monday["to"], "2026-12-01T00:00:00+01:00");
    let future = live_day(&mut e, "2026-12-05");
    assert_eq!(future["input"]["events"], 0);
}

/// Each entity's `(name, totals)` of a report's `kind` (queues, agents, teams).
fn totals(report: &Value, kind: &str) -> Vec<(String, Value)> {
    report_json::per_entity(report, kind, |e| e["totals"].clone())
}

/// The distinct starts of a report's queue rows, in order.
fn queue_row_starts(report: &Value) -> std::collections::BTreeSet<String> {
    report["queues"]
        .as_array()
        .expect("queues")
        .iter()
        .flat_map(|q| q["intervals"].as_array().expect("rows"))
        .filter_map(|r| r["start"].as_str().map(str::to_string))
        .collect()
}

/// The live engine's weekly report of `spec` as JSON (the API's writer).
fn live_week(e: &mut Engine, spec: WeekSpec) -> Value {
    let cut = e.week_cut(spec).expect("the week is kept");
    let mut out = Vec::new();
    Report::of_day(&cut, None)
        .write(ccpulse::report::OutputFormat::Json, &mut out)
        .expect("write");
    serde_json::from_slice(&out).expect("json")
}

/// `evs` lived through (two days of interval rows kept); the weekly report of the week
/// `[week.0, week.1)` holding `date`, whose totals must equal the replay's of the
/// week's events (counters summed over the days, queue percentiles from the days'
/// merged histograms). Also the engine and the number of the week's events.
fn week_against_replay(evs: &[Event], week: (i64, i64), date: &str) -> (Value, Engine, usize) {
    let inside: Vec<Event> = evs
        .iter()
        .filter(|e| (week.0..week.1).contains(&e.ts))
        .cloned()
        .collect();
    let want = replayed(&inside);
    let mut live = run(live_opts(2), evs);
    live.finish();
    live.close_all();
    let got = live_week(&mut live, WeekSpec::Of(date.parse().expect("date")));
    for kind in ["queues", "agents", "teams"] {
        let (g, w) = (totals(&got, kind), totals(&want, kind));
        assert!(!w.is_empty(), "{kind} in the replay");
        assert_eq!(g, w, "{kind}: the week's totals");
    }
    (got, live, inside.len())
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3))]

    /// Any simulated center's week, whatever day the daemon started before it and
    /// however long it ran after it, reports the replay's totals.
    #[test]
    fn any_weeks_totals_are_the_replays(seed in 0u64..10_000, before in 0i64..3, after in 0i64..3) {
        const DAY: i64 = 24 * HOUR;
        let start = MONDAY - before * DAY;
        let evs = events(seed, start, (before + 7 + after) * 24 + 6);
        let (got, _, n) = week_against_replay(&evs, (MONDAY, MONDAY + 7 * DAY), "2026-12-03");
        proptest::prop_assert_eq!(&got["input"]["events"], &serde_json::json!(n));
    }
}

#[test]
fn a_week_lived_through_reports_its_days_and_what_a_replay_of_the_week_totals() {
    // Sunday before the week to Wednesday after it, lived through with the default two
    // days of interval rows: the day sums of the week must still be there.
    const DAY: i64 = 24 * HOUR;
    let evs = events(34, MONDAY - DAY, 10 * 24);
    let (got, mut live, n) = week_against_replay(&evs, (MONDAY, MONDAY + 7 * DAY), "2026-12-02");
    assert!(n > 30_000, "a week of events: {n}");
    assert_eq!(got["interval_seconds"], 86_400);
    assert_eq!(got["from"], "2026-11-30T00:00:00+01:00");
    assert_eq!(got["to"], "2026-12-07T00:00:00+01:00");
    assert_eq!(got["input"]["events"], n, "the week's events");
    // One row per local day with activity, each that day's own report's totals.
    let days: Vec<String> = (0..7)
        .map(|d| {
            let t = jiff::Timestamp::from_millisecond(MONDAY + d * DAY).expect("ts");
            t.to_zoned_datetime(jiff::tz::TimeZone::get("Europe/Berlin").expect("tz"))
                .date()
                .to_string()
        })
        .collect();
    let mut old = run(live_opts(10), &evs);
    old.finish();
    old.close_all();
    for kind in ["queues", "agents", "teams"] {
        let key = &kind[..kind.len() - 1];
        for e in got[kind].as_array().expect("entities") {
            let rows = e["intervals"].as_array().expect("rows");
            assert!(rows.len() <= 7, "{kind} {}: a row per day", e[key]);
            for r in rows {
                let start = r["start"].as_str().expect("start");
                let date = &start[..10];
                assert!(days.iter().any(|d| d == date), "{start} within the week");
                assert!(
                    start.ends_with("T00:00:00+01:00"),
                    "{start}: local midnight"
                );
                let day = live_day(&mut old, date);
                let day_totals = totals(&day, kind)
                    .into_iter()
                    .find(|(n, _)| e[key] == n.as_str())
                    .map(|(_, t)| t);
                let mut row = r.clone();
                if let Some(m) = row.as_object_mut() {
                    m.remove("start");
                }
                assert_eq!(Some(row), day_totals, "{kind} {} on {date}", e[key]);
            }
        }
    }
    // Last week, seen from the Tuesday after it, is the same week.
    assert_eq!(live_week(&mut live, WeekSpec::Last), got, "week=last");
    // This week (from Monday 7 December to the watermark) is not.
    let this = live_week(&mut live, WeekSpec::This);
    assert_eq!(this["from"], "2026-12-07T00:00:00+01:00");
    assert_ne!(totals(&this, "queues"), totals(&got, "queues"));
}

#[test]
fn the_daemon_keeps_two_weeks_of_day_sums_across_a_restore() {
    const DAY: i64 = 24 * HOUR;
    // Three weeks and two days from Monday 30 November.
    let evs = events(55, MONDAY + 6 * HOUR, 23 * 24);
    let (mut whole, mut resumed, _) = whole_and_resumed(&evs, evs.len() * 2 / 3);
    // The watermark is on Tuesday 22 December: last week is 14-20 December.
    for spec in [WeekSpec::This, WeekSpec::Last] {
        assert_eq!(
            live_week(&mut resumed, spec),
            live_week(&mut whole, spec),
            "{spec:?} after a restore"
        );
    }
    let last = live_week(&mut whole, WeekSpec::Last);
    assert_eq!(last["from"], "2026-12-14T00:00:00+01:00");
    let monday = "2026-11-30".parse().expect("date");
    assert_eq!(
        whole.week_cut(WeekSpec::Of(monday)).map(|_| ()),
        Err(DayCutError::WeekNotKept { monday, days: 14 }),
        "the first week is older than the 14 days of day sums"
    );
    // The week before last is partly kept: its days from Wednesday 9 December on.
    let partial = live_week(
        &mut whole,
        WeekSpec::Of("2026-12-10".parse().expect("date")),
    );
    let starts = queue_row_starts(&partial);
    assert!(!starts.is_empty());
    assert!(
        starts.iter().all(|s| s.as_str() >= "2026-12-09"),
        "days before the 14 kept are gone: {starts:?}"
    );
    // Older day sums are gone from memory, not merely hidden.
    let kept_from = MONDAY + 9 * DAY;
    for (_, _, tl) in whole.queues() {
        let json = serde_json::to_value(tl).expect("timeline");
        for d in json["closed_days"].as_array().expect("days") {
            assert!(d[0].as_i64().is_some_and(|t| t >= kept_from - HOUR), "{d}");
        }
    }
}

#[test]
fn a_week_with_a_dst_change_has_seven_local_days_and_the_replays_totals() {
    // Monday 19 October 2026 00:00 in Berlin (UTC+2); clocks go back on Sunday the 25th,
    // so the week lasts 169 hours and its Sunday 25.
    const MONDAY_DST: i64 = 1_792_360_800_000;
    let evs = events(77, MONDAY_DST, 169 + 30);
    let week = (MONDAY_DST, MONDAY_DST + 169 * HOUR);
    let (got, _, _) = week_against_replay(&evs, week, "2026-10-25");
    assert_eq!(got["from"], "2026-10-19T00:00:00+02:00");
    assert_eq!(got["to"], "2026-10-26T00:00:00+01:00");
    let starts = queue_row_starts(&got);
    assert_eq!(starts.len(), 7, "{starts:?}");
    assert!(starts.contains("2026-10-25T00:00:00+02:00"), "{starts:?}");
    assert!(
        !starts.iter().any(|s| s.starts_with("2026-10-26")),
        "{starts:?}"
    );
}
