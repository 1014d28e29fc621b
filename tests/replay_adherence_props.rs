//! Property test of `ccpulse replay --schedule`: for random schedules (overlapping rows,
//! `off` holes, rows across midnight, an agent the input never names) and random agent
//! state streams, every agent's report rows and totals hold the adherent and scheduled
//! time of a minute-by-minute brute-force count from the raw rows and events, in
//! intervals of 15 min to a day; each team's rows and totals hold its agents' sums; and
//! the `adherence_min` target reads each row's adherence.

use ccpulse::config::{Config, Duration, Targets, TeamConfig};
use ccpulse::decode::FormatChoice;
use ccpulse::encode::jsonl::JsonlWriter;
use ccpulse::model::{AgentStatus, Millis};
use ccpulse::replay::{replay_scheduled, Input};
use ccpulse::schedule::parse_csv;
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::str::FromStr;

#[path = "common/schedule_brute.rs"]
mod brute;
use brute::{brute_activity, brute_adherent, brute_state, state_event, ts, MIN, STATES};

/// 2026-11-28T22:00Z: inputs run 4 hours, across midnight (UTC).
const BASE: Millis = 1_795_903_200_000;
const SPAN_MIN: i64 = 240;
/// `d` is scheduled but never in the input; `z` marks the input's first and last instant.
const AGENTS: [&str; 4] = ["a", "b", "c", "d"];
const GOAL: f64 = 0.5;
/// (adherent, scheduled) minutes by interval start.
type Minutes = BTreeMap<Millis, (i64, i64)>;
/// The config's teams: `t` (a, c) and `u` (b, d), both aiming at [`GOAL`].
const TEAMS: [(&str, [&str; 2]); 2] = [("t", ["a", "c"]), ("u", ["b", "d"])];

/// Checks a report row's or total's adherence fields against `want` (adherent, scheduled
/// minutes) and its `adherence_min` target against the adherence.
fn check_schedule(
    kpis: &ccpulse::kpi::AgentKpis,
    want: (i64, i64),
    what: &str,
) -> Result<(), TestCaseError> {
    let s = kpis
        .schedule
        .ok_or_else(|| TestCaseError::fail(format!("{what}: no adherence")))?;
    prop_assert_eq!(
        (s.adherent_seconds, s.scheduled_seconds),
        (want.0 as f64 * 60.0, want.1 as f64 * 60.0),
        "{}",
        what
    );
    prop_assert_eq!(
        s.adherence,
        (s.scheduled_seconds > 0.0).then(|| s.adherent_seconds / s.scheduled_seconds)
    );
    let target = kpis
        .targets
        .as_ref()
        .and_then(|t| t.results.iter().find(|x| x.target == "adherence_min"))
        .map(|x| (x.actual, x.met));
    prop_assert_eq!(
        target,
        Some((s.adherence, s.adherence.map(|a| a >= GOAL))),
        "{} target",
        what
    );
    Ok(())
}

/// (agent a–c, minute, state)
fn changes() -> impl Strategy<Value = Vec<(usize, i64, usize)>> {
    prop::collection::vec((0..3usize, 0..SPAN_MIN, 0..STATES.len()), 0..40)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn report_adherence_equals_a_minute_by_minute_count(
        rows in brute::rows(AGENTS.len(), -60..SPAN_MIN + 30, 150, 16),
        changes in changes(),
        interval_min in prop::sample::select(vec![15i64, 30, 60, 1440]),
    ) {
        let csv = brute::csv(&rows, &AGENTS, BASE);
        let import = parse_csv(csv.as_bytes(), &jiff::tz::TimeZone::UTC);
        prop_assert_eq!(import.accepted, rows.len());

        // The input: `z` at minute 0 and at the end, the changes in between (in order).
        let mut events = vec![state_event(BASE, "z", AgentStatus::Available, None)];
        let mut ordered: Vec<(usize, (usize, i64, usize))> =
            changes.iter().copied().enumerate().collect();
        ordered.sort_by_key(|(i, c)| (c.1, *i));
        for (_, (agent, at, st)) in ordered {
            let (state, reason) = STATES[st];
            events.push(state_event(BASE + at * MIN, AGENTS[agent], state, reason));
        }
        events.push(state_event(BASE + SPAN_MIN * MIN, "z", AgentStatus::LoggedOut, None));
        let mut bytes = Vec::new();
        let mut w = JsonlWriter::new();
        for e in &events {
            w.write(e, &mut bytes).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        }

        let mut cfg = Config {
            interval: Duration(interval_min * MIN),
            ..Config::default()
        };
        cfg.schedule.aux_reasons.insert("lunch".into(), vec!["lunch".into()]);
        for (team, members) in TEAMS {
            cfg.teams.insert(team.into(), TeamConfig {
                agents: members.iter().map(|a| a.to_string()).collect(),
                targets: Targets { adherence_min: Some(GOAL), ..Targets::default() },
            });
        }
        let input = Input { label: "props".into(), reader: Box::new(std::io::Cursor::new(bytes)) };
        let mut replayed = replay_scheduled(vec![input], &cfg, FormatChoice::Auto, Some(import.schedule))
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let report = replayed.report();
        prop_assert!(report.scheduled());

        let iv = interval_min * MIN;
        // Per team: (adherent, scheduled) minutes by interval start, and whether listed.
        let mut teams: BTreeMap<&str, (Minutes, bool)> = BTreeMap::new();
        for (ai, name) in AGENTS.iter().enumerate() {
            // Brute force: (adherent, scheduled) minutes per interval start, and in total.
            let mut want: BTreeMap<Millis, (i64, i64)> = BTreeMap::new();
            for m in 0..SPAN_MIN {
                if let Some(act) = brute_activity(&rows, ai, m) {
                    let t = BASE + m * MIN;
                    let e = want.entry(t - t.rem_euclid(iv)).or_default();
                    e.1 += 1;
                    let (s, r) = brute_state(&changes, ai, m);
                    e.0 += i64::from(brute_adherent(act, s, r));
                }
            }
            let total = want.values().fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
            // Listed when logged in at some point (the report's rule) or scheduled.
            let logged_in = (0..SPAN_MIN).any(|m| brute_state(&changes, ai, m).0 != AgentStatus::LoggedOut);
            let listed = report.agent_names().any(|n| n == *name);
            prop_assert_eq!(listed, logged_in || !want.is_empty(), "agent {} listed", name);
            let team = TEAMS.iter().find(|(_, m)| m.contains(name)).map(|(t, _)| *t).unwrap_or_default();
            let acc = teams.entry(team).or_default();
            acc.1 |= listed;
            for (start, (a, s)) in &want {
                let e = acc.0.entry(*start).or_default();
                e.0 += a;
                e.1 += s;
            }
            if !listed {
                continue;
            }
            let totals = report.agent_totals(name).expect("listed agent has totals");
            let s = totals.schedule.expect("a scheduled report has adherence");
            prop_assert_eq!(
                (s.adherent_seconds, s.scheduled_seconds),
                (total.0 as f64 * 60.0, total.1 as f64 * 60.0),
                "agent {} totals", name
            );
            let rows_got = report.agent_rows(name);
            let mut got: BTreeMap<String, (f64, f64)> = BTreeMap::new();
            for r in &rows_got {
                let s = r.kpis.schedule.expect("every row of a scheduled report has adherence");
                prop_assert_eq!(s.adherence, (s.scheduled_seconds > 0.0).then(|| s.adherent_seconds / s.scheduled_seconds));
                // The target reads the row's adherence.
                let target = r.kpis.targets.as_ref()
                    .and_then(|t| t.results.iter().find(|x| x.target == "adherence_min"))
                    .map(|x| (x.actual, x.met));
                prop_assert_eq!(target, Some((s.adherence, s.adherence.map(|a| a >= GOAL))), "row {}", r.start);
                if s.scheduled_seconds > 0.0 || s.adherent_seconds > 0.0 {
                    got.insert(r.start.clone(), (s.adherent_seconds, s.scheduled_seconds));
                }
            }
            let want: BTreeMap<String, (f64, f64)> = want
                .into_iter()
                .map(|(start, (a, s))| (ts(BASE, (start - BASE) / MIN), (a as f64 * 60.0, s as f64 * 60.0)))
                .collect();
            prop_assert_eq!(got, want, "agent {} rows", name);
        }

        // A team's adherence is its agents' summed, row by row and in total.
        for (team, (want, listed)) in teams {
            prop_assert_eq!(report.team_names().any(|n| n == team), listed, "team {} listed", team);
            if !listed {
                continue;
            }
            let total = want.values().fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
            let totals = report.team_totals(team).expect("listed team has totals");
            check_schedule(&totals, total, &format!("team {team} totals"))?;
            for r in report.team_rows(team) {
                let at = jiff::Timestamp::from_str(&r.start).map_err(|e| TestCaseError::fail(e.to_string()))?;
                let start = at.as_millisecond();
                check_schedule(&r.kpis, want.get(&start).copied().unwrap_or_default(), &format!("team {team} row {}", r.start))?;
            }
            // Every interval with scheduled time has a row.
            let rows: Vec<Millis> = report.team_rows(team).iter()
                .filter_map(|r| jiff::Timestamp::from_str(&r.start).ok().map(|t| t.as_millisecond()))
                .collect();
            for (start, (_, s)) in &want {
                prop_assert!(*s == 0 || rows.contains(start), "team {} row at {}", team, start);
            }
        }
    }
}
