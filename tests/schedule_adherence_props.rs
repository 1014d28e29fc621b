//! Property test: for random schedules (overlapping rows, `off` holes, rows across
//! midnight) and random explicit agent state streams through the real engine, the
//! tracker's adherent and scheduled time of today equal a minute-by-minute brute-force
//! count from the raw rows and the raw events, whatever the snapshot cadence; and so
//! does each agent's `out_of_adherence_since_ms` (the start of the current run of
//! non-adherent scheduled minutes).

use ccpulse::config::{Config, Duration, ScheduleSection};
use ccpulse::engine::{Calendar, Engine, EngineOptions};
use ccpulse::model::{AgentStatus, Millis};
use ccpulse::schedule::{parse_csv, ScheduleSettings, Tracker};
use proptest::prelude::*;

#[path = "common/schedule_brute.rs"]
mod brute;
use brute::{brute_activity, brute_adherent, brute_state, state_event, MIN, STATES};

/// 2026-11-28T22:00Z: scenarios run 4 hours, across midnight (UTC).
const BASE: Millis = 1_795_903_200_000;
const SPAN_MIN: i64 = 240;
const AGENTS: [&str; 3] = ["a", "b", "c"];

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
        let csv = brute::csv(&rows, &AGENTS, BASE);
        let report = parse_csv(csv.as_bytes(), &jiff::tz::TimeZone::UTC);
        prop_assert_eq!(report.accepted, rows.len());
        let mut cfg = Config::default();
        cfg.engine.allowed_lateness = Duration(0);
        let mut engine = Engine::new(&cfg, EngineOptions::default()).expect("engine");
        engine.record_transitions(true);
        let mut sched = ScheduleSection::default();
        sched.aux_reasons.insert("lunch".into(), vec!["lunch".into()]);
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
        // Every agent exists from the start (logged out), like a roster.
        for (k, a) in AGENTS.iter().enumerate() {
            let ev = state_event(BASE - MIN + k as Millis, a, AgentStatus::LoggedOut, None);
            engine.push(ev).expect("in order");
        }
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
                        let (mut adh, mut sch) = (0i64, 0i64);
                        for x in day0.max(-60)..m {
                            if let Some(act) = brute_activity(&rows, ai, x) {
                                sch += 1;
                                let (s, r) = brute_state(&changes, ai, x);
                                adh += i64::from(brute_adherent(act, s, r));
                            }
                        }
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
                            let (mut adh, mut sch) = (0i64, 0i64);
                            for x in -60..120 {
                                if let Some(act) = brute_activity(&rows, ai, x) {
                                    sch += 1;
                                    let (s, r) = brute_state(&changes, ai, x);
                                    adh += i64::from(brute_adherent(act, s, r));
                                }
                            }
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
