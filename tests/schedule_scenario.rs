//! A scheduled morning, scripted events and simulated time through the real engine,
//! schedule tracker and alert engine: one no-show, one break overrun, one late return
//! (whose agent also overran), each fired exactly once and naming the agent and the
//! team; an on-time return raises nothing; a source that goes silent and one that goes
//! down fire and resolve. Rules from config (`teams`, `sources`) scope them, and the
//! notifications carry the team to the receivers.

use ccpulse::alerts::notify::Notification;
use ccpulse::alerts::{
    schedule_and_source_rules, AlertEngine, AlertEvent, AlertInputs, AlertKind, Rule, SourceHealth,
};
use ccpulse::config::{Config, Duration, ScheduleSection};
use ccpulse::engine::{Engine, EngineOptions};
use ccpulse::model::{AgentStateChange, AgentStatus, Event, EventBody, Millis};
use ccpulse::schedule::{parse_csv, ScheduleSettings, Tracker};

const T9: Millis = 1_795_856_400_000; // 2026-11-28T09:00:00Z
const MIN: Millis = 60_000;

fn at(h: i64, m: i64) -> Millis {
    T9 + (h - 9) * 60 * MIN + m * MIN
}

fn state(t: Millis, agent: &str, team: &str, s: AgentStatus, reason: Option<&str>) -> Event {
    Event {
        ts: t,
        id: None,
        body: EventBody::AgentState(Box::new(AgentStateChange {
            agent: agent.into(),
            state: s,
            reason: reason.map(Into::into),
            team: Some(team.into()),
            queues: Some(vec!["sales".into()]),
            name: None,
            explicit: true,
        })),
    }
}

const SCHEDULE: &str = "agent,start,end,activity,team,queues
a1,2026-11-28 09:00,2026-11-28 17:00,work,Team A,sales
a2,2026-11-28 09:00,2026-11-28 17:00,work,Team A,sales
a2,2026-11-28 10:00,2026-11-28 10:15,break,Team A,sales
a3,2026-11-28 09:00,2026-11-28 17:00,work,Team B,sales
a3,2026-11-28 10:00,2026-11-28 10:30,lunch,Team B,sales
a4,2026-11-28 09:00,2026-11-28 17:00,work,Team B,sales
a4,2026-11-28 10:00,2026-11-28 10:15,break,Team B,sales
";

struct Run {
    events: Vec<(Millis, AlertEvent)>,
    tracker: Tracker,
    engine: Engine,
}

/// The alert rules of a config file with `text` (loaded as the daemon loads it).
fn config_rules(text: &str) -> Vec<Rule> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("ccpulse.toml");
    std::fs::write(&path, text).expect("write");
    let cfg = Config::load(&path).expect("valid");
    cfg.alert_rules("ccpulse.toml").expect("rules")
}

fn run(until: Millis) -> Run {
    run_rules(schedule_and_source_rules(), until)
}

fn run_rules(rules: Vec<Rule>, until: Millis) -> Run {
    let mut cfg = Config::default();
    cfg.engine.allowed_lateness = Duration(0);
    let mut engine = Engine::new(&cfg, EngineOptions::default()).expect("engine");
    engine.record_transitions(true);
    let sched = ScheduleSection::default(); // no-show 5m, break 2m, late-return hold 10m
    let mut tracker = Tracker::new(
        ScheduleSettings::from_config(&sched),
        jiff::tz::TimeZone::UTC,
    );
    let report = parse_csv(SCHEDULE.as_bytes(), &jiff::tz::TimeZone::UTC);
    assert_eq!((report.accepted, report.rejected), (7, 0));
    tracker.set_schedule(report.schedule, Default::default());
    let mut alerts = AlertEngine::new(rules, jiff::tz::TimeZone::UTC);

    let avail = AgentStatus::Available;
    let aux = AgentStatus::Aux;
    let mut script = vec![
        state(at(8, 58), "a2", "Team A", avail, None),
        state(at(8, 58), "a3", "Team B", avail, None),
        state(at(8, 59), "a4", "Team B", avail, None),
        state(at(10, 0), "a2", "Team A", aux, Some("Break")),
        state(at(10, 0), "a3", "Team B", aux, Some("Lunch")),
        state(at(10, 0), "a4", "Team B", aux, Some("Break")),
        // a4 is back 1 minute after the break (inside the 2-minute grace).
        state(at(10, 16), "a4", "Team B", avail, None),
        // a3 is back 4 minutes after lunch: late.
        state(at(10, 34), "a3", "Team B", avail, None),
        // a1 finally logs in.
        state(at(10, 45), "a1", "Team A", avail, None),
    ];
    script.sort_by_key(|e| e.ts);
    let mut script = script.into_iter().peekable();

    let mut events = Vec::new();
    let mut last_acd_event = at(8, 55);
    let mut t = at(8, 55);
    while t <= until {
        while script.peek().is_some_and(|e| e.ts <= t) {
            if let Some(e) = script.next() {
                engine.push(e).expect("in order");
            }
        }
        engine.advance_to(t);
        // The ACD feed: an event a minute, silent 09:30–09:50, down 10:00–10:10.
        let silent = (at(9, 30)..at(9, 50)).contains(&t);
        let up = !(at(10, 0)..at(10, 10)).contains(&t);
        if !silent && t % MIN == 0 {
            last_acd_event = t;
        }
        let snap = engine.snapshot();
        tracker.push(engine.take_transitions());
        let view = tracker.observe(&snap);
        let sources = [SourceHealth {
            name: "acd".into(),
            up,
            silent_since_ms: Some(last_acd_event),
        }];
        let inputs = AlertInputs {
            schedule: Some(&view),
            sources: &sources,
        };
        events.extend(
            alerts
                .evaluate_with(&snap, &inputs)
                .into_iter()
                .map(|e| (t, e)),
        );
        t += 10_000;
    }
    Run {
        events,
        tracker,
        engine,
    }
}

#[test]
fn no_show_overrun_and_late_return_each_alert_once_with_agent_and_team() {
    let r = run(at(10, 50));
    let firing: Vec<(Millis, &str, &str, Option<&str>)> = r
        .events
        .iter()
        .filter(|(_, e)| e.kind == AlertKind::Firing)
        .map(|(t, e)| {
            (
                *t,
                e.alertname.as_str(),
                e.scope.as_str(),
                e.scope_labels.get("team").map(String::as_str),
            )
        })
        .collect();
    assert_eq!(
        firing,
        vec![
            (at(9, 5), "AgentNoShow", "a1", Some("Team A")),
            // Silence above 600 s (the last event at 09:29) for 5 minutes.
            (at(9, 44) + 10_000, "SourceSilent", "acd", None),
            // Down at 10:00, for 2 minutes.
            (at(10, 2), "SourceDown", "acd", None),
            (at(10, 17) + 10_000, "BreakOverrun", "a2", Some("Team A")),
            (at(10, 32) + 10_000, "BreakOverrun", "a3", Some("Team B")),
            (at(10, 34), "LateReturn", "a3", Some("Team B")),
        ],
        "{:#?}",
        r.events
    );
    for (_, e) in r.events.iter().filter(|(_, e)| e.kind == AlertKind::Firing) {
        assert!(e.summary.contains(&e.scope), "{}", e.summary);
        if let Some(team) = e.scope_labels.get("team") {
            assert!(e.summary.contains(team.as_str()), "{}", e.summary);
        }
    }
    let late = r
        .events
        .iter()
        .find(|(_, e)| e.alertname == "LateReturn")
        .map(|(_, e)| e.value);
    assert_eq!(late, Some(240.0), "4 minutes late");
    // The summary says it as the team leader reads it.
    let text = r
        .events
        .iter()
        .find(|(_, e)| e.alertname == "LateReturn")
        .map(|(_, e)| e.summary.as_str());
    assert_eq!(
        text,
        Some("a3 (team Team B) came back from break 4\u{a0}min late")
    );
    let resolved: Vec<(Millis, &str, &str)> = r
        .events
        .iter()
        .filter(|(_, e)| e.kind == AlertKind::Resolved)
        .map(|(t, e)| (*t, e.alertname.as_str(), e.scope.as_str()))
        .collect();
    assert_eq!(
        resolved,
        vec![
            (at(9, 50), "SourceSilent", "acd"),
            (at(10, 10), "SourceDown", "acd"),
            (at(10, 34), "BreakOverrun", "a3"),
            (at(10, 44), "LateReturn", "a3"),
            (at(10, 45), "AgentNoShow", "a1"),
        ]
    );
    // The no-show repeats once an hour until it resolves; nothing else repeats.
    let repeats: Vec<(Millis, &str)> = r
        .events
        .iter()
        .filter(|(_, e)| e.kind == AlertKind::Repeat)
        .map(|(t, e)| (*t, e.alertname.as_str()))
        .collect();
    assert_eq!(repeats, vec![(at(10, 5), "AgentNoShow")]);
}

#[test]
fn the_view_counts_scheduled_agents_and_exact_adherence() {
    let mut r = run(at(10, 50));
    let snap = r.engine.snapshot();
    let view = r.tracker.observe(&snap);
    let agent = |id: &str| {
        view.agents
            .iter()
            .find(|a| a.agent == id)
            .cloned()
            .expect("scheduled agent")
    };
    // a4: 110 scheduled minutes, in aux 10:15–10:16 while scheduled to work.
    let a4 = agent("a4");
    assert_eq!(a4.scheduled_seconds_today, 110.0 * 60.0);
    assert_eq!(a4.adherent_seconds_today, 109.0 * 60.0);
    // a1: logged out 09:00–10:45 of 110 minutes.
    let a1 = agent("a1");
    assert_eq!(a1.adherent_seconds_today, 5.0 * 60.0);
    assert_eq!(a1.no_show_seconds, None, "logged in now");
    // a2: in aux since 10:00, the break ended 10:15: 35 minutes not adherent.
    let a2 = agent("a2");
    assert_eq!(a2.adherent_seconds_today, 75.0 * 60.0);
    assert_eq!(a2.break_overrun_seconds, Some(35.0 * 60.0));
    assert_eq!(a2.adherent, Some(false));
    let team = |name: &str| {
        view.teams
            .iter()
            .find(|t| t.team == name)
            .cloned()
            .expect("team")
    };
    assert_eq!((team("Team A").scheduled, team("Team A").logged_in), (2, 2));
    assert_eq!((team("Team B").scheduled, team("Team B").adherent), (2, 2));
    let sales = view
        .queues
        .iter()
        .find(|q| q.queue == "sales")
        .expect("sales");
    assert_eq!(sales.scheduled, 4);
    assert_eq!(sales.logged_in, 4);
    // No load: 0 required, the schedule has 4 more than needed.
    assert_eq!(sales.required_agents, Some(0));
    assert_eq!(sales.scheduled_staffing_gap, Some(-4));
}

#[test]
fn config_rules_scope_schedule_alerts_by_team_and_source_alerts_by_source() {
    let text = r#"
[alerts]
defaults = false

[[alerts.rules]]
name = "NoShowTeamB"
metric = "no_show_seconds"
teams = ["Team B"]
op = "above"
threshold = 0

[[alerts.rules]]
name = "OverrunTeamA"
metric = "break_overrun_seconds"
teams = ["Team A"]
op = "above"
threshold = 0
labels = { page = "floor" }
annotations = { description = "{scope} of {team} overran by {value} s" }

[[alerts.rules]]
name = "PbxDown"
metric = "source_up"
sources = ["pbx"]
op = "below"
threshold = 1

[[alerts.rules]]
name = "AcdDown"
metric = "source_up"
sources = ["acd"]
op = "below"
threshold = 1
"#;
    let rules = config_rules(text);
    let r = run_rules(rules.clone(), at(10, 50));
    let firing: Vec<(&str, &str)> = r
        .events
        .iter()
        .filter(|(_, e)| e.kind == AlertKind::Firing)
        .map(|(_, e)| (e.alertname.as_str(), e.scope.as_str()))
        .collect();
    // a1's no-show is team A's (not asked for); a3 (team B) overran its lunch; only
    // `acd` exists, and it went down at 10:00 (`for` 0).
    assert_eq!(
        firing,
        vec![("AcdDown", "acd"), ("OverrunTeamA", "a2")],
        "{:#?}",
        r.events
    );
    let overrun = r
        .events
        .iter()
        .map(|(_, e)| e)
        .find(|e| e.alertname == "OverrunTeamA")
        .expect("fired");
    let rule = rules.iter().find(|r| r.name == "OverrunTeamA");
    let n = Notification::from_event(overrun, rule);
    assert_eq!(n.labels["team"], "Team A", "{:?}", n.labels);
    assert_eq!(n.labels["agent"], "a2");
    assert_eq!(n.labels["page"], "floor");
    assert_eq!(n.scope(), Some(("agent", "a2")));
    assert_eq!(
        n.annotation("description"),
        format!("a2 of Team A overran by {} s", overrun.value)
    );
    let down = r
        .events
        .iter()
        .map(|(_, e)| e)
        .find(|e| e.alertname == "AcdDown")
        .expect("fired");
    let n = Notification::from_event(down, rules.iter().find(|r| r.name == "AcdDown"));
    assert_eq!(n.scope(), Some(("source", "acd")));
    assert!(!n.labels.contains_key("team"));
}

/// Real-time adherence: each scheduled agent out of its plan carries since when; a config
/// rule on `out_of_adherence_seconds` (above 3 min, team B only) fires for a3, late back
/// from lunch at 10:34 (out since 10:30), not for a4 (one minute late), nor for team A's
/// a1 (logged out through work since 09:00) and a2 (still on break since 10:15).
#[test]
fn out_of_adherence_is_timed_and_alerts_by_team() {
    let text = r#"
[alerts]
defaults = false

[[alerts.rules]]
name = "OutOfAdherenceTeamB"
metric = "out_of_adherence_seconds"
teams = ["Team B"]
op = "above"
threshold = 180
"#;
    let rules = config_rules(text);
    let mut r = run_rules(rules, at(10, 50));
    let notified: Vec<(Millis, AlertKind, &str, f64)> = r
        .events
        .iter()
        .map(|(t, e)| (*t, e.kind, e.scope.as_str(), e.value))
        .collect();
    // a3 out from 10:30: above 180 s at the 10:33:10 tick; back at 10:34: resolved.
    assert_eq!(
        notified,
        vec![
            (at(10, 33) + 10_000, AlertKind::Firing, "a3", 190.0),
            (at(10, 34), AlertKind::Resolved, "a3", 230.0),
        ],
        "{:#?}",
        r.events
    );
    // The view at 10:50 (the run's end): a2 still on break since 10:15, the others
    // adherent (a1 logged in at 10:45).
    let snap = r.engine.snapshot();
    let mut tracker = r.tracker;
    let view = tracker.observe(&snap);
    let since = |a: &str| {
        view.agents
            .iter()
            .find(|x| x.agent == a)
            .and_then(|x| x.out_of_adherence_since_ms)
    };
    assert_eq!(since("a2"), Some(at(10, 15)));
    assert_eq!((since("a1"), since("a3"), since("a4")), (None, None, None));
}
