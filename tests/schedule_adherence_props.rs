//! Property test: for random schedules (overlapping rows, `off` holes, rows across
//! midnight) and random explicit agent state streams through the real engine, the
//! tracker's adherent and scheduled time of today equal a minute-by-minute brute-force
//! count from the raw rows and the raw events, whatever the snapshot cadence; and so
//! does each agent's `out_of_adherence_since_ms` (the start of the current run of
//! non-adherent scheduled minutes).

use ccpulse::config::{Config, Duration, ScheduleSection};
use ccpulse::engine::{Calendar, Engine, EngineOptions};
use ccpulse::model::{AgentStatus, Millis};
use ccpulse::schedule::{parse_csv, ImportReport, ScheduleSettings, Tracker};
use proptest::prelude::*;

#[path = "common/schedule_brute.rs"]
mod brute;
use brute::{brute_activity, brute_adherent, brute_minutes, brute_state, state_event, MIN, STATES};

/// 2026-11-28T22:00Z: scenarios run 4 hours, across midnight (UTC).
const BASE: Millis = 1_795_903_200_000;
const SPAN_MIN: i64 = 240;
const AGENTS: [&str; 3] = ["a", "b", "c"];

/// A scenario's schedule (as CSV, and parsed), an engine recording transitions where
/// every agent exists from a minute before `base` (logged out, like a roster), and the
/// `[schedule]` section (`lunch` is the lunch break's aux reason).
fn scenario(rows: &[brute::Row], base: Millis) -> (String, ImportReport, Engine, ScheduleSection) {
    let csv = brute::csv(rows, &AGENTS, base);
    let report = parse_csv(csv.as_bytes(), &jiff::tz::TimeZone::UTC);
    let mut cfg = Config::default();
    cfg.engine.allowed_lateness = Duration(0);
    let mut engine = Engine::new(&cfg, EngineOptions::default()).expect("engine");
    engine.record_transitions(true);
    for (k, a) in AGENTS.iter().enumerate() {
        let ev = state_event(base - MIN + k as Millis, a, AgentStatus::LoggedOut, None);
        engine.push(ev).expect("in order");
    }
    let mut sched = ScheduleSection::default();
    sched
        .aux_reasons
        .insert("lunch".into(), vec!["lunch".into()]);
    (csv, report, engine, sched)
}

fn changes() -> impl Strategy<Value = Vec<(usize, i64, usize)>> {
    prop::collection::vec((0..AGENTS.len(), 0..SPAN_MIN, 0..STATES.len()), 0..40)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn adherence_equals_a_minute_by_minute_count(
        rows in brute::rows(AGENTS.len(), 0..SPAN_MIN, 120, 14),
        changes in changes(),
        cadence in prop::sample::select(vec![1i64, 7, 30]),
        checks in prop::collection::vec(1..SPAN_MIN, 1..5),
    ) {
        let (csv, report, mut engine, sched) = scenario(&rows, BASE);
        prop_assert_eq!(report.accepted, rows.len());
        let mut tracker = Tracker::new(ScheduleSettings::from_config(&sched), jiff::tz::TimeZone::UTC);
        tracker.set_schedule(report.schedule.clone(), Default::default());
        // The same changes, with the schedule imported only when checked: today's
        // adherence is then recomputed from the kept history and must be the same.
        let mut late = Tracker::new(ScheduleSettings::from_config(&sched), jiff::tz::TimeZone::UTC);
        // The same changes, with a restart at every check: its state saved (changes not
        // yet applied included) and restored into a new tracker; its views must not differ.
        let fresh = || {
            let mut t = Tracker::new(ScheduleSettings::from_config(&sched), jiff::tz::TimeZone::UTC);
            t.set_schedule(report.schedule.clone(), Default::default());
            t
        };
        let mut restarted = fresh();
        let mut ordered: Vec<(usize, (usize, i64, usize))> =
            changes.iter().copied().enumerate().collect();
        ordered.sort_by_key(|(i, c)| (c.1, *i));
        let mut next = ordered.into_iter().peekable();
        let mut checks = checks;
        checks.sort_unstable();
        checks.dedup();
        let mut m = 0;
        let mut k = 0;
        while m <= SPAN_MIN {
            while next.peek().is_some_and(|(_, c)| c.1 <= m) {
                if let Some((_, (agent, at, st))) = next.next() {
                    let (state, reason) = STATES[st];
                    let ev = state_event(BASE + at * MIN, AGENTS[agent], state, reason);
                    engine.push(ev).expect("in order");
                }
            }
            let check = checks.get(k) == Some(&m);
            if m % cadence == 0 || check {
                engine.advance_to(BASE + m * MIN);
                let snap = engine.snapshot();
                let changes_now = engine.take_transitions();
                late.push(changes_now.clone());
                restarted.push(changes_now.clone());
                tracker.push(changes_now);
                let view = tracker.observe(&snap);
                if check {
                    let mut saved = Vec::new();
                    restarted.saved_state().write_json(&mut saved).expect("save");
                    restarted = fresh();
                    restarted.restore_state(&saved).expect("restore");
                }
                let restarted_view = restarted.observe(&snap);
                prop_assert_eq!(
                    serde_json::to_value(&restarted_view).expect("json"),
                    serde_json::to_value(&view).expect("json"),
                    "restarted at the checks, minute {}", m
                );
                if check {
                    k += 1;
                    late.set_schedule(report.schedule.clone(), Default::default());
                    let late_view = late.observe(&snap);
                    for a in &view.agents {
                        let l = late_view.agents.iter().find(|l| l.agent == a.agent);
                        prop_assert_eq!(
                            l.map(|l| (l.adherent_seconds_today, l.scheduled_seconds_today)),
                            Some((a.adherent_seconds_today, a.scheduled_seconds_today)),
                            "agent {} at minute {}: schedule imported late", a.agent, m
                        );
                    }
                    // Today starts at midnight, minute 120.
                    let day0 = if m >= 120 { 120 } else { -1_000 };
                    for (ai, name) in AGENTS.iter().enumerate() {
                        let (adh, sch) = brute_minutes(&rows, &changes, ai, day0.max(-60)..m);
                        let got = view.agents.iter().find(|a| a.agent == *name);
                        let (gadh, gsch) = got.map_or((0.0, 0.0), |a| {
                            (a.adherent_seconds_today, a.scheduled_seconds_today)
                        });
                        prop_assert_eq!(
                            (gadh, gsch),
                            ((adh * 60) as f64, (sch * 60) as f64),
                            "agent {} at minute {} (cadence {})\n{}", name, m, cadence, csv
                        );
                        // Out of adherence now: since the start of the run of
                        // non-adherent scheduled minutes that reaches m (not before
                        // today's midnight, where the tracker's history starts).
                        let bad = |x: i64| {
                            brute_activity(&rows, ai, x).is_some_and(|act| {
                                let (s, r) = brute_state(&changes, ai, x);
                                !brute_adherent(act, s, r)
                            })
                        };
                        let want = bad(m).then(|| {
                            let mut x = m;
                            while x > day0 && bad(x - 1) {
                                x -= 1;
                            }
                            BASE + x * MIN
                        });
                        prop_assert_eq!(
                            got.and_then(|a| a.out_of_adherence_since_ms),
                            want,
                            "out of adherence: agent {} at minute {}\n{}", name, m, csv
                        );
                    }
                    // After midnight, yesterday's ledger (the daemon's report of
                    // yesterday) holds the whole previous day, restarted or not.
                    if m > 120 {
                        let cal = Calendar::new(jiff::tz::TimeZone::UTC, 15 * MIN);
                        let day = (BASE + 120 * MIN - 86_400_000, BASE + 120 * MIN);
                        let got = tracker.day_ledger(&cal, day, day.1);
                        prop_assert_eq!(
                            &got,
                            &restarted.day_ledger(&cal, day, day.1),
                            "yesterday's ledger after a restart, minute {}", m
                        );
                        let got = got.unwrap_or_default();
                        for (ai, name) in AGENTS.iter().enumerate() {
                            let (adh, sch) = brute_minutes(&rows, &changes, ai, -60..120);
                            let t = got.get(*name).map(|l| l.totals);
                            prop_assert_eq!(
                                t.map_or((0, 0), |t| (t.adherent_ms, t.scheduled_ms)),
                                ((adh * MIN) as u64, (sch * MIN) as u64),
                                "yesterday: agent {} at minute {}\n{}", name, m, csv
                            );
                        }
                    }
                }
            }
            m += 1;
        }
    }
}

/// 2026-11-26T23:00Z: the kept-days scenario runs from an hour before a midnight
/// through three more midnights (UTC).
const DAYS_BASE: Millis = 1_795_734_000_000;
/// Its end: 90 minutes into the fourth day (days start at minute 60 + k × 1440).
const DAYS_END: i64 = 60 + 3 * 1440 + 90;

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    /// With `keep_days = 3` the report of the day before yesterday carries adherence,
    /// equal to a minute-by-minute count, across a restart; with the default 2 only
    /// today and yesterday do, and nothing older than the kept days ever does.
    #[test]
    fn kept_days_ledgers_equal_a_minute_by_minute_count(
        rows in brute::rows(AGENTS.len(), 0..DAYS_END, 600, 40),
        changes in prop::collection::vec((0..AGENTS.len(), 0..DAYS_END, 0..STATES.len()), 0..80),
    ) {
        // Without a schedule there is no adherence to report at all.
        prop_assume!(!rows.is_empty());
        let (csv, report, mut engine, sched) = scenario(&rows, DAYS_BASE);
        prop_assert_eq!(report.accepted, rows.len());
        let tracker = |days: u32| {
            let settings = ScheduleSettings::from_config(&sched).keeping_days(days);
            let mut t = Tracker::new(settings, jiff::tz::TimeZone::UTC);
            t.set_schedule(report.schedule.clone(), Default::default());
            t
        };
        let (mut three, mut two) = (tracker(3), tracker(2));
        let mut ordered: Vec<(usize, (usize, i64, usize))> =
            changes.iter().copied().enumerate().collect();
        ordered.sort_by_key(|(i, c)| (c.1, *i));
        let mut next = ordered.into_iter().peekable();
        for m in 0..=DAYS_END {
            while next.peek().is_some_and(|(_, c)| c.1 <= m) {
                if let Some((_, (agent, at, st))) = next.next() {
                    let (state, reason) = STATES[st];
                    let ev = state_event(DAYS_BASE + at * MIN, AGENTS[agent], state, reason);
                    engine.push(ev).expect("in order");
                }
            }
            if m % 60 == 0 || m == DAYS_END {
                engine.advance_to(DAYS_BASE + m * MIN);
                let snap = engine.snapshot();
                let t = engine.take_transitions();
                three.push(t.clone());
                two.push(t);
                three.observe(&snap);
                two.observe(&snap);
            }
        }
        let cal = Calendar::new(jiff::tz::TimeZone::UTC, 15 * MIN);
        let day = |k: i64| {
            let start = DAYS_BASE + (60 + k * 1440) * MIN;
            (start, start + 1440 * MIN)
        };
        let mut saved = Vec::new();
        three.saved_state().write_json(&mut saved).expect("save");
        let mut restarted = tracker(3);
        restarted.restore_state(&saved).expect("restore");
        restarted.observe(&engine.snapshot());
        // Day 3 is today: day 2 yesterday, day 1 the day before, day 0 three days ago.
        for k in [1, 2] {
            let (from, to) = day(k);
            let got = three.day_ledger(&cal, (from, to), to);
            prop_assert!(got.is_some(), "day {} is kept", k);
            prop_assert_eq!(&got, &restarted.day_ledger(&cal, (from, to), to), "day {} after a restart", k);
            let got = got.unwrap_or_default();
            for (ai, name) in AGENTS.iter().enumerate() {
                let minutes = 60 + k * 1440..60 + (k + 1) * 1440;
                let (adh, sch) = brute_minutes(&rows, &changes, ai, minutes);
                let t = got.get(*name).map(|l| l.totals);
                prop_assert_eq!(
                    t.map_or((0, 0), |t| (t.adherent_ms, t.scheduled_ms)),
                    ((adh * MIN) as u64, (sch * MIN) as u64),
                    "day {}: agent {}\n{}", k, name, csv
                );
            }
            prop_assert_eq!(
                two.day_ledger(&cal, (from, to), to).is_some(),
                k == 2,
                "the default keeps today and yesterday only (day {})", k
            );
        }
        prop_assert!(three.day_ledger(&cal, day(0), day(0).1).is_none(), "day 0 is not kept");
        // A tracker started now knows each agent from its current state's start: a past
        // day it knows no agent's state in has no adherence (not all no-shows).
        let mut late = tracker(3);
        let snap = engine.snapshot();
        late.observe(&snap);
        for k in [1, 2] {
            let (from, to) = day(k);
            let watched = snap.agents.iter().any(|a| a.since_ms < to);
            prop_assert_eq!(
                late.day_ledger(&cal, (from, to), to).is_some(),
                watched,
                "day {} for a tracker started at the end", k
            );
        }
    }
}
