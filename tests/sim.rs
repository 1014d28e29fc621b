//! Properties of the simulator and its encoders.

use ccpulse::encode::jsonl::JsonlWriter;
use ccpulse::encode::queue_log::QueueLogWriter;
use ccpulse::model::{AgentStatus, Event, EventBody, Millis, Name};
use ccpulse::sim::{SimConfig, Simulator};
use std::collections::{HashMap, HashSet};

/// 2026-11-28T08:00:00Z.
const START: Millis = 1_795_852_800_000;
const HOUR: Millis = 3_600_000;

fn demo(seed: u64, hours: i64) -> SimConfig {
    let mut c = SimConfig::demo(seed);
    c.start = START;
    c.duration_ms = hours * HOUR;
    c
}

fn run(cfg: &SimConfig) -> Vec<Event> {
    Simulator::new(cfg).expect("valid config").collect()
}

fn jsonl_bytes(events: &[Event]) -> Vec<u8> {
    let mut w = JsonlWriter::new();
    let mut out = Vec::new();
    for e in events {
        let _ = w.write(e, &mut out);
    }
    out
}

#[test]
fn same_seed_same_bytes() {
    let mut cfg = demo(7, 10);
    cfg.event_ids = true;
    let a = jsonl_bytes(&run(&cfg));
    let b = jsonl_bytes(&run(&cfg));
    assert!(a.len() > 100_000);
    assert_eq!(a, b);
    cfg.seed = 8;
    assert_ne!(a, jsonl_bytes(&run(&cfg)));
}

#[test]
fn time_is_non_decreasing_and_in_range() {
    let cfg = demo(1, 30);
    let events = run(&cfg);
    assert!(events.windows(2).all(|w| w[0].ts <= w[1].ts));
    assert!(events.first().is_some_and(|e| e.ts >= cfg.start));
    assert!(events
        .last()
        .is_some_and(|e| e.ts <= cfg.start + cfg.duration_ms));
}

#[test]
fn event_ids_unique_when_requested() {
    let mut cfg = demo(3, 4);
    cfg.event_ids = true;
    let events = run(&cfg);
    let ids: HashSet<&Name> = events.iter().filter_map(|e| e.id.as_ref()).collect();
    assert_eq!(ids.len(), events.len());
    cfg.event_ids = false;
    assert!(run(&cfg).iter().all(|e| e.id.is_none()));
}

/// Checks contact and agent consistency; returns (arrived, answered, abandoned, exited).
fn check_consistency(events: &[Event]) -> (usize, usize, usize, usize) {
    #[derive(Default)]
    struct C {
        outcomes: u32,
        answered: bool,
        ends: u32,
        queue: Name,
        email: bool,
    }
    let mut contacts: HashMap<Name, C> = HashMap::new();
    let mut agent_contact: HashMap<Name, Name> = HashMap::new();
    let mut agent_state: HashMap<Name, AgentStatus> = HashMap::new();
    let (mut ans, mut abd, mut ext) = (0, 0, 0);
    for e in events {
        match &e.body {
            EventBody::ContactQueued {
                contact,
                queue,
                channel,
            } => {
                let prev = contacts.insert(
                    contact.clone(),
                    C {
                        queue: queue.clone(),
                        email: *channel == ccpulse::model::Channel::Email,
                        ..C::default()
                    },
                );
                assert!(prev.is_none(), "contact id reused: {contact}");
            }
            EventBody::ContactAnswered {
                contact,
                queue,
                agent,
                wait_ms,
            } => {
                ans += 1;
                let c = contacts.get_mut(contact).expect("answered before queued");
                c.outcomes += 1;
                c.answered = true;
                assert_eq!(&c.queue, queue);
                assert!(wait_ms.is_some_and(|w| w >= 0));
                assert!(
                    matches!(
                        agent_state.get(agent),
                        Some(AgentStatus::Available | AgentStatus::Ringing)
                    ),
                    "{agent} answered while not available or ringing"
                );
                let prev = agent_contact.insert(agent.clone(), contact.clone());
                assert!(prev.is_none(), "{agent} on two contacts");
            }
            EventBody::ContactAbandoned {
                contact, wait_ms, ..
            } => {
                abd += 1;
                contacts.get_mut(contact).expect("queued").outcomes += 1;
                assert!(wait_ms.is_some_and(|w| w > 0));
            }
            EventBody::ContactExited { contact, .. } => {
                ext += 1;
                contacts.get_mut(contact).expect("queued").outcomes += 1;
            }
            EventBody::ContactEnded {
                contact, talk_ms, ..
            }
            | EventBody::ContactTransferred {
                contact, talk_ms, ..
            } => {
                let c = contacts.get_mut(contact).expect("queued");
                assert!(c.answered, "{contact} ended unanswered");
                c.ends += 1;
                assert!(talk_ms.is_some_and(|t| t >= 5_000));
                let agent = agent_contact
                    .iter()
                    .find(|(_, c)| *c == contact)
                    .map(|(a, _)| a.clone())
                    .expect("an agent holds the contact");
                agent_contact.remove(&agent);
                assert_eq!(agent_state.get(&agent), Some(&AgentStatus::OnContact));
            }
            EventBody::AgentState(ch) => {
                assert!(ch.explicit);
                let prev = agent_state.insert(ch.agent.clone(), ch.state);
                if ch.state == AgentStatus::LoggedOut || ch.state == AgentStatus::Aux {
                    assert!(!agent_contact.contains_key(&ch.agent), "left mid-contact");
                }
                if prev.is_none_or(|p| p == AgentStatus::LoggedOut) {
                    assert!(ch.team.is_some() && ch.queues.is_some() && ch.name.is_some());
                } else if ch.state != AgentStatus::Aux {
                    // Aux → aux is a reason change (a break due during a meeting).
                    assert_ne!(prev, Some(ch.state), "repeated state for {}", ch.agent);
                }
                if ch.state == AgentStatus::Aux {
                    assert!(ch.reason.is_some());
                }
                if ch.state == AgentStatus::Ringing {
                    assert_eq!(prev, Some(AgentStatus::Available), "{} rang", ch.agent);
                }
            }
            _ => {}
        }
    }
    for (id, c) in &contacts {
        assert!(c.outcomes <= 1, "{id} has {} outcomes", c.outcomes);
        assert!(c.ends <= 1, "{id} ended twice");
        if !c.email {
            // The run ends at 08:00 the next day: every voice/chat contact is settled.
            assert_eq!(c.outcomes, 1, "{id} has no outcome");
            if c.answered {
                assert_eq!(c.ends, 1, "{id} answered and never ended");
            }
        }
    }
    (contacts.len(), ans, abd, ext)
}

#[test]
fn contacts_and_agents_are_consistent() {
    for seed in [1, 2, 3] {
        let events = run(&demo(seed, 24));
        let (arrived, answered, abandoned, exited) = check_consistency(&events);
        assert!(arrived > 1000, "arrived {arrived}");
        assert!(
            answered as f64 > 0.8 * arrived as f64,
            "answered {answered}/{arrived}"
        );
        assert!(abandoned > 0, "no abandons");
        assert!(abandoned + exited < arrived / 4);
    }
}

#[test]
fn demo_has_breaks_lunch_and_logouts() {
    let events = run(&demo(5, 24));
    let mut reasons: HashMap<String, usize> = HashMap::new();
    let mut logouts = 0;
    for e in &events {
        if let EventBody::AgentState(ch) = &e.body {
            if let Some(r) = &ch.reason {
                *reasons.entry(r.to_string()).or_default() += 1;
            }
            logouts += usize::from(ch.state == AgentStatus::LoggedOut);
        }
    }
    assert!(
        reasons.get("break").is_some_and(|&n| n >= 20),
        "{reasons:?}"
    );
    assert!(
        reasons.get("lunch").is_some_and(|&n| n >= 15),
        "{reasons:?}"
    );
    assert!((18..=24).contains(&logouts), "logouts {logouts}");
}

/// Occupancy from explicit states: (on_contact + acw) / (available + on_contact + acw).
fn occupancy(events: &[Event], end: Millis) -> f64 {
    let mut since: HashMap<Name, (AgentStatus, Millis)> = HashMap::new();
    let mut secs = [0i64; 6];
    for e in events {
        if let EventBody::AgentState(ch) = &e.body {
            if let Some((s, t)) = since.insert(ch.agent.clone(), (ch.state, e.ts)) {
                secs[s as usize] += e.ts - t;
            }
        }
    }
    for (s, t) in since.values() {
        secs[*s as usize] += end - t;
    }
    let busy = secs[AgentStatus::OnContact as usize] + secs[AgentStatus::AfterCallWork as usize];
    busy as f64 / (busy + secs[AgentStatus::Available as usize]) as f64
}

#[test]
fn scaled_center_runs_at_sane_occupancy() {
    let mut cfg = SimConfig::scaled(20, 200, 11);
    cfg.start = START;
    cfg.duration_ms = 4 * HOUR;
    let events = run(&cfg);
    let (arrived, _, abandoned, _) = check_consistency_no_settle(&events);
    let occ = occupancy(&events, cfg.start + cfg.duration_ms);
    assert!((0.65..=0.9).contains(&occ), "occupancy {occ}");
    assert!(arrived > 5000);
    assert!(abandoned < arrived / 10);
}

/// Counts without requiring contacts to settle (the scaled run stops mid-traffic).
fn check_consistency_no_settle(events: &[Event]) -> (usize, usize, usize, usize) {
    let mut n = (0, 0, 0, 0);
    let mut busy: HashSet<Name> = HashSet::new();
    let mut of: HashMap<Name, Name> = HashMap::new();
    for e in events {
        match &e.body {
            EventBody::ContactQueued { .. } => n.0 += 1,
            EventBody::ContactAnswered { contact, agent, .. } => {
                n.1 += 1;
                assert!(busy.insert(agent.clone()), "{agent} on two contacts");
                of.insert(contact.clone(), agent.clone());
            }
            EventBody::ContactEnded { contact, .. }
            | EventBody::ContactTransferred { contact, .. } => {
                let a = of.remove(contact).expect("answered");
                busy.remove(&a);
            }
            EventBody::ContactAbandoned { .. } => n.2 += 1,
            EventBody::ContactExited { .. } => n.3 += 1,
            _ => {}
        }
    }
    n
}

#[test]
fn rate_scale_scales_traffic() {
    let count = |scale: f64| {
        let mut cfg = demo(9, 10);
        cfg.rate_scale = scale;
        run(&cfg)
            .iter()
            .filter(|e| matches!(e.body, EventBody::ContactQueued { .. }))
            .count() as f64
    };
    let (one, half) = (count(1.0), count(0.5));
    assert!((0.4..0.6).contains(&(half / one)), "{half}/{one}");
    assert_eq!(count(0.0), 0.0);
}

#[test]
fn jsonl_lines_parse_with_v1_fields() {
    let events = run(&demo(2, 12));
    let text = String::from_utf8(jsonl_bytes(&events)).expect("utf-8");
    let mut n = 0;
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("valid JSON");
        assert_eq!(v["v"], 1);
        let ts = v["ts"].as_str().expect("ts");
        assert!(ts.parse::<jiff::Timestamp>().is_ok() && ts.ends_with('Z') && ts.len() == 24);
        let ty = v["type"].as_str().expect("type");
        let need: &[&str] = match ty {
            "contact_queued" => &["contact", "queue", "channel"],
            "contact_answered" => &["contact", "queue", "agent"],
            "contact_abandoned" => &["contact", "queue"],
            "contact_exited" => &["contact", "queue", "reason"],
            "contact_ended" | "contact_transferred" => &["contact", "agent", "queue"],
            "agent_state" => &["agent", "state"],
            other => panic!("unexpected type {other}"),
        };
        for f in need {
            assert!(v.get(*f).is_some(), "{ty} without {f}: {line}");
        }
        assert!(v.get("wait_ms").is_none() && v.get("talk_ms").is_none());
        n += 1;
    }
    assert_eq!(n, events.len());
}

#[test]
fn queue_log_lines_have_the_documented_fields() {
    let events = run(&demo(4, 24));
    let mut w = QueueLogWriter::new();
    let mut out = Vec::new();
    for e in &events {
        w.write(e, &mut out)
            .expect("every simulated event fits queue_log");
    }
    let text = String::from_utf8(out).expect("utf-8");
    let mut verbs: HashMap<&str, usize> = HashMap::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split('|').collect();
        assert!(f.len() >= 6, "{line}");
        assert!(f[0].parse::<i64>().is_ok(), "{line}");
        // Minimum fields: 5 header fields + the data fields of the README table.
        let min = match f[4] {
            "ENTERQUEUE" | "CONNECT" | "COMPLETECALLER" | "COMPLETEAGENT" | "ABANDON"
            | "EXITEMPTY" | "EXITWITHTIMEOUT" => 8,
            "BLINDTRANSFER" => 10,
            "PAUSE" | "UNPAUSE" | "ADDMEMBER" | "REMOVEMEMBER" | "AGENTLOGIN" => 6,
            other => panic!("unexpected verb {other}"),
        };
        assert!(f.len() >= min, "{line}");
        if f[4].starts_with("COMPLETE") {
            assert!(
                f[5].parse::<u32>().is_ok() && f[6].parse::<u32>().is_ok(),
                "{line}"
            );
            assert_ne!(f[3], "NONE", "{line}");
        }
        *verbs.entry(f[4]).or_default() += 1;
    }
    for v in [
        "ENTERQUEUE",
        "CONNECT",
        "ABANDON",
        "ADDMEMBER",
        "PAUSE",
        "UNPAUSE",
    ] {
        assert!(verbs.contains_key(v), "no {v}: {verbs:?}");
    }
}

#[test]
fn bad_configs_are_errors() {
    let mut cfg = demo(1, 1);
    cfg.teams[0].queues.push("nope".into());
    assert!(Simulator::new(&cfg).is_err());
    let mut cfg = demo(1, 1);
    cfg.rate_scale = f64::NAN;
    assert!(Simulator::new(&cfg).is_err());
    let mut cfg = demo(1, 1);
    cfg.queues[0].talk_mean_ms = 0.0;
    assert!(Simulator::new(&cfg).is_err());
}

#[test]
fn voice_rings_before_answer_and_chat_does_not() {
    let events = run(&demo(6, 10));
    let mut last_state: HashMap<Name, AgentStatus> = HashMap::new();
    let (mut voice_rang, mut chat_direct) = (0, 0);
    for e in &events {
        match &e.body {
            EventBody::AgentState(ch) => {
                last_state.insert(ch.agent.clone(), ch.state);
            }
            EventBody::ContactAnswered {
                queue,
                agent,
                wait_ms,
                ..
            } => {
                let rang = last_state.get(agent) == Some(&AgentStatus::Ringing);
                if queue == "sales" || queue == "support" {
                    assert!(rang && wait_ms.is_some_and(|w| w >= 1_000));
                    voice_rang += 1;
                } else {
                    assert!(!rang);
                    chat_direct += 1;
                }
            }
            _ => {}
        }
    }
    assert!(voice_rang > 100 && chat_direct > 50);
}

#[test]
fn the_demo_schedule_names_every_simulated_agent_with_its_team_and_shift() {
    let cfg = demo(3, 10);
    let csv = cfg.schedule_csv(2, 0);
    let report = ccpulse::schedule::parse_csv(csv.as_bytes(), &jiff::tz::TimeZone::UTC);
    assert_eq!(report.rejected, 0, "{:?}", report.errors);
    // Two days (the one before the start, and the start's) × a shift and three breaks.
    assert_eq!(report.accepted, 24 * 2 * 4);
    // Every agent the simulation logs in is scheduled, in the team it logs in with.
    let mut teams: HashMap<Name, Name> = HashMap::new();
    for e in run(&cfg) {
        if let EventBody::AgentState(s) = &e.body {
            if let Some(t) = &s.team {
                teams.insert(s.agent.clone(), t.clone());
            }
        }
    }
    assert!(!teams.is_empty());
    for (agent, team) in &teams {
        let rows: Vec<&str> = csv
            .lines()
            .filter(|l| l.starts_with(&format!("{agent},")))
            .collect();
        assert_eq!(rows.len(), 2 * 4, "{agent}");
        assert!(
            rows.iter().all(|r| r.ends_with(&format!(",{team}"))),
            "{rows:?}"
        );
    }
    // Team A's shift on the start's day: 08:00 for 8 h 30 min (the demo's plan).
    let start = jiff::Timestamp::from_millisecond(cfg.start).expect("start");
    let end =
        jiff::Timestamp::from_millisecond(cfg.start + 8 * 3_600_000 + 1_800_000).expect("end");
    assert!(
        csv.contains(&format!("PJSIP/1000,{start},{end},work,team-a")),
        "{csv}"
    );
}
