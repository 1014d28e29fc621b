//! Brute-force adherence for the schedule property tests: random schedule rows and agent
//! state changes on a minute grid, and the activity, state and adherence at a minute
//! straight from them (docs/kpis.md §Schedule and adherence), with no code under test.

#![allow(dead_code)]

use ccpulse::model::{AgentStateChange, AgentStatus, Event, EventBody, Millis};
use ccpulse::schedule::Activity;
use proptest::prelude::*;

pub const MIN: Millis = 60_000;

/// The states changes pick from (`[schedule.aux_reasons] lunch = ["lunch"]` in the tests).
pub const STATES: [(AgentStatus, Option<&str>); 6] = [
    (AgentStatus::LoggedOut, None),
    (AgentStatus::Available, None),
    (AgentStatus::OnContact, None),
    (AgentStatus::AfterCallWork, None),
    (AgentStatus::Aux, Some("Lunch")),
    (AgentStatus::Aux, Some("Break")),
];

/// One schedule row, in minutes from the test's base instant.
#[derive(Debug, Clone)]
pub struct Row {
    pub agent: usize,
    pub start: i64,
    pub len: i64,
    pub activity: usize,
}

/// Up to `max_rows` rows of `agents` agents starting in `starts`, 1 to `max_len` minutes.
pub fn rows(
    agents: usize,
    starts: std::ops::Range<i64>,
    max_len: i64,
    max_rows: usize,
) -> impl Strategy<Value = Vec<Row>> {
    prop::collection::vec(
        (0..agents, starts, 1..max_len, 0..Activity::ALL.len()).prop_map(
            |(agent, start, len, activity)| Row {
                agent,
                start,
                len,
                activity,
            },
        ),
        0..max_rows,
    )
}

/// `base + min` minutes as RFC 3339.
pub fn ts(base: Millis, min: i64) -> String {
    jiff::Timestamp::from_millisecond(base + min * MIN)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

/// The rows as a schedule CSV (`agent,start,end,activity`).
pub fn csv(rows: &[Row], agents: &[&str], base: Millis) -> String {
    rows.iter()
        .map(|r| {
            format!(
                "{},{},{},{}\n",
                agents[r.agent],
                ts(base, r.start),
                ts(base, r.start + r.len),
                Activity::ALL[r.activity].as_str()
            )
        })
        .collect()
}

/// The activity at minute `m` from the raw rows: latest start, then shortest, then last.
pub fn brute_activity(rows: &[Row], agent: usize, m: i64) -> Option<Activity> {
    rows.iter()
        .enumerate()
        .filter(|(_, r)| r.agent == agent && r.start <= m && m < r.start + r.len)
        .max_by_key(|(i, r)| (r.start, -r.len, *i))
        .and_then(|(_, r)| Activity::ALL.get(r.activity).copied())
        .filter(|a| *a != Activity::Off)
}

/// The state at minute `m` from `(agent, minute, state index)` changes: the last change at
/// or before it (logged out before any).
pub fn brute_state(
    ch: &[(usize, i64, usize)],
    agent: usize,
    m: i64,
) -> (AgentStatus, Option<&'static str>) {
    ch.iter()
        .enumerate()
        .filter(|(_, c)| c.0 == agent && c.1 <= m)
        .max_by_key(|(i, c)| (c.1, *i))
        .and_then(|(_, c)| STATES.get(c.2).copied())
        .unwrap_or((AgentStatus::LoggedOut, None))
}

/// `(adherent, scheduled)` minutes of `agent` over `minutes`, one by one.
pub fn brute_minutes(
    rows: &[Row],
    ch: &[(usize, i64, usize)],
    agent: usize,
    minutes: std::ops::Range<i64>,
) -> (i64, i64) {
    let (mut adh, mut sch) = (0, 0);
    for x in minutes {
        if let Some(act) = brute_activity(rows, agent, x) {
            sch += 1;
            let (s, r) = brute_state(ch, agent, x);
            adh += i64::from(brute_adherent(act, s, r));
        }
    }
    (adh, sch)
}

/// Whether `s` (with `reason`) adheres to `a`.
pub fn brute_adherent(a: Activity, s: AgentStatus, reason: Option<&str>) -> bool {
    match a {
        Activity::Work => [
            AgentStatus::Available,
            AgentStatus::Ringing,
            AgentStatus::OnContact,
            AgentStatus::AfterCallWork,
        ]
        .contains(&s),
        // `[schedule.aux_reasons] lunch = ["lunch"]`; other activities: any aux.
        Activity::Lunch => s == AgentStatus::Aux && reason == Some("Lunch"),
        Activity::Off => false,
        _ => s == AgentStatus::Aux,
    }
}

/// An explicit agent state event.
pub fn state_event(at: Millis, agent: &str, state: AgentStatus, reason: Option<&str>) -> Event {
    Event {
        ts: at,
        id: None,
        body: EventBody::AgentState(Box::new(AgentStateChange {
            agent: agent.into(),
            state,
            reason: reason.map(Into::into),
            team: None,
            queues: None,
            name: None,
            explicit: true,
        })),
    }
}
