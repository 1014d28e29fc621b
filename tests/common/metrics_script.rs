//! A small scripted contact center shared by the `/metrics` tests, with the values the
//! exposition must show for it, and helpers to read a text exposition.
#![allow(dead_code)] // each test crate uses a different part

use ccpulse::model::{AgentStateChange, AgentStatus, Channel, Event, EventBody, Millis};

/// Start of the script (event time).
pub const T0: Millis = ccpulse::sim::DEFAULT_START;
/// The script's last event is before this; advance the clock here.
pub const END: Millis = T0 + 100_000;
/// When the still-waiting voice contact `c4` queued.
pub const C4_QUEUED: Millis = T0 + 40_000;

fn ev(ts: Millis, body: EventBody) -> Event {
    Event { ts, id: None, body }
}

fn agent(ts: Millis, name: &str, state: AgentStatus, reason: Option<&str>) -> Event {
    ev(
        ts,
        EventBody::AgentState(Box::new(AgentStateChange {
            agent: name.into(),
            state,
            reason: reason.map(Into::into),
            team: Some("blue".into()),
            queues: Some(vec!["sales".into()]),
            name: None,
            explicit: true,
        })),
    )
}

fn queued(ts: Millis, contact: &str, channel: Channel) -> Event {
    ev(
        ts,
        EventBody::ContactQueued {
            contact: contact.into(),
            queue: "sales".into(),
            channel,
        },
    )
}

/// In `sales` (T = 20 s, short abandon 5 s, defaults):
/// - agents `a1` (available) and `a2` (aux, `break`) in team `blue` from `T0`;
/// - voice `c1` queued at +1 s, answered by `a1` at +11 s (wait 10 s), ended at +71 s
///   after 60 s of talk;
/// - voice `c2` queued at +2 s, abandoned at +4 s (a short abandon);
/// - chat `c3` queued at +3 s, abandoned at +33 s (30 s: an SL miss at +23 s);
/// - voice `c4` queued at +40 s, still waiting at the end (an SL miss at +60 s).
pub fn events() -> Vec<Event> {
    vec![
        agent(T0, "a1", AgentStatus::Available, None),
        agent(T0, "a2", AgentStatus::Aux, Some("break")),
        queued(T0 + 1_000, "c1", Channel::Voice),
        queued(T0 + 2_000, "c2", Channel::Voice),
        queued(T0 + 3_000, "c3", Channel::Chat),
        ev(
            T0 + 4_000,
            EventBody::ContactAbandoned {
                contact: "c2".into(),
                queue: "sales".into(),
                wait_ms: None,
            },
        ),
        ev(
            T0 + 11_000,
            EventBody::ContactAnswered {
                contact: "c1".into(),
                queue: "sales".into(),
                agent: "a1".into(),
                wait_ms: None,
            },
        ),
        ev(
            T0 + 33_000,
            EventBody::ContactAbandoned {
                contact: "c3".into(),
                queue: "sales".into(),
                wait_ms: None,
            },
        ),
        queued(C4_QUEUED, "c4", Channel::Voice),
        ev(
            T0 + 71_000,
            EventBody::ContactEnded {
                contact: "c1".into(),
                queue: None,
                talk_ms: None,
            },
        ),
    ]
}

/// Series (exactly as exposed, without the `ccpulse_` prefix) and their values for the
/// script, independent of the watermark.
pub const EXPECTED: &[(&str, f64)] = &[
    (
        r#"contacts_arrived_total{queue="sales",channel="voice"}"#,
        3.0,
    ),
    (
        r#"contacts_arrived_total{queue="sales",channel="chat"}"#,
        1.0,
    ),
    (
        r#"contacts_answered_total{queue="sales",channel="voice"}"#,
        1.0,
    ),
    (
        r#"contacts_answered_within_sl_total{queue="sales",channel="voice"}"#,
        1.0,
    ),
    (
        r#"contacts_short_abandoned_total{queue="sales",channel="voice"}"#,
        1.0,
    ),
    (
        r#"contacts_abandoned_total{queue="sales",channel="voice"}"#,
        0.0,
    ),
    (
        r#"contacts_abandoned_total{queue="sales",channel="chat"}"#,
        1.0,
    ),
    (
        r#"contacts_handled_total{queue="sales",channel="voice"}"#,
        1.0,
    ),
    (r#"talk_seconds_total{queue="sales",channel="voice"}"#, 60.0),
    (
        r#"answer_wait_seconds_total{queue="sales",channel="voice"}"#,
        10.0,
    ),
    (
        r#"service_level_outcomes_total{queue="sales",channel="voice",outcome="met"}"#,
        1.0,
    ),
    (
        r#"service_level_outcomes_total{queue="sales",channel="voice",outcome="missed"}"#,
        1.0,
    ),
    (
        r#"service_level_outcomes_total{queue="sales",channel="chat",outcome="missed"}"#,
        1.0,
    ),
    (
        r#"contacts_exited_total{queue="sales",channel="voice",reason="timeout"}"#,
        0.0,
    ),
    (
        r#"answer_wait_seconds_bucket{queue="sales",channel="voice",le="5"}"#,
        0.0,
    ),
    (
        r#"answer_wait_seconds_bucket{queue="sales",channel="voice",le="10"}"#,
        1.0,
    ),
    (
        r#"answer_wait_seconds_bucket{queue="sales",channel="voice",le="+Inf"}"#,
        1.0,
    ),
    (
        r#"answer_wait_seconds_count{queue="sales",channel="voice"}"#,
        1.0,
    ),
    (
        r#"abandon_wait_seconds_bucket{queue="sales",channel="chat",le="20"}"#,
        0.0,
    ),
    (
        r#"abandon_wait_seconds_bucket{queue="sales",channel="chat",le="30"}"#,
        1.0,
    ),
    (
        r#"abandon_wait_seconds_sum{queue="sales",channel="chat"}"#,
        30.0,
    ),
    (
        r#"handle_time_seconds_count{queue="sales",channel="voice"}"#,
        1.0,
    ),
    (r#"contacts_waiting{queue="sales",channel="voice"}"#, 1.0),
    (r#"contacts_waiting{queue="sales",channel="chat"}"#, 0.0),
    (r#"service_level_threshold_seconds{queue="sales"}"#, 20.0),
    (r#"service_level_target_ratio{queue="sales"}"#, 0.8),
    (r#"team_agents{team="blue",state="aux"}"#, 1.0),
    (r#"agents_aux{team="blue",reason="break"}"#, 1.0),
    (r#"agents{queue="sales",state="aux"}"#, 1.0),
];

/// The value of `series` (the full name with labels as exposed) in a text exposition.
pub fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
        l.strip_prefix(series)?
            .strip_prefix(' ')?
            .trim()
            .parse()
            .ok()
    })
}
