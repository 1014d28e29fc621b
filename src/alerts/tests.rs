use super::*;
use crate::alerts::{Comparison, Metric, QuietHours, Rule, Severity, ThresholdUnit};
use crate::config::{Config, Duration};
use crate::engine::{Engine, EngineOptions};
use crate::model::{Channel, Event, EventBody, Millis};

const T0: Millis = 1_795_856_400_000; // 2026-11-28T09:00:00Z (UTC)

fn waiting_rule(clear: f64) -> Rule {
    Rule {
        name: "ContactsWaitingHigh".into(),
        metric: Metric::ContactsWaiting,
        cmp: Comparison::Above,
        threshold: 2.0,
        clear,
        threshold_unit: ThresholdUnit::Metric,
        for_ms: 60_000,
        repeat_ms: 600_000,
        severity: Severity::Warning,
        summary: "{value} contacts waiting in {scope}".into(),
        only: Vec::new(),
        quiet: None,
        teams: Vec::new(),
        labels: Default::default(),
        annotations: Default::default(),
        receivers: Vec::new(),
    }
}

struct Floor {
    engine: Engine,
    alerts: AlertEngine,
    n: u32,
}

impl Floor {
    fn new(rule: Rule) -> Self {
        let mut cfg = Config::default();
        cfg.engine.allowed_lateness = Duration(0);
        cfg.engine.orphan_timeout = Duration::mins(24 * 60);
        let engine = Engine::new(&cfg, EngineOptions::default()).expect("engine");
        Floor {
            engine,
            alerts: AlertEngine::new(vec![rule], jiff::tz::TimeZone::UTC),
            n: 0,
        }
    }
    fn queue(&mut self, t: Millis) {
        self.queue_in(t, "sales");
    }
    fn queue_in(&mut self, t: Millis, queue: &str) {
        self.n += 1;
        let ev = Event {
            ts: t,
            id: None,
            body: EventBody::ContactQueued {
                contact: format!("c{}", self.n).into(),
                queue: queue.into(),
                channel: Channel::Voice,
            },
        };
        self.engine.push(ev).expect("in order");
    }
    fn abandon(&mut self, t: Millis, k: u32) {
        let ev = Event {
            ts: t,
            id: None,
            body: EventBody::ContactAbandoned {
                contact: format!("c{k}").into(),
                queue: "sales".into(),
                wait_ms: None,
            },
        };
        self.engine.push(ev).expect("in order");
    }
    /// `agent` (explicit states, in `team`) goes to `state` (with `reason`) at `t`.
    fn state(
        &mut self,
        t: Millis,
        agent: &str,
        team: &str,
        state: crate::model::AgentStatus,
        reason: Option<&str>,
    ) {
        let body = EventBody::AgentState(Box::new(crate::model::AgentStateChange {
            agent: agent.into(),
            state,
            reason: reason.map(Into::into),
            team: Some(team.into()),
            queues: None,
            name: None,
            explicit: true,
        }));
        let ev = Event {
            ts: t,
            id: None,
            body,
        };
        self.engine.push(ev).expect("in order");
    }
    /// Evaluates every 10 s from `from` to `to`; returns the events with their times.
    fn run(&mut self, from: Millis, to: Millis) -> Vec<(Millis, AlertKind)> {
        let mut out = Vec::new();
        let mut t = from;
        while t <= to {
            self.engine.advance_to(t);
            let snap = self.engine.snapshot();
            out.extend(self.alerts.evaluate(&snap).into_iter().map(|e| (t, e.kind)));
            t += 10_000;
        }
        out
    }
}

#[test]
fn fires_once_after_for_repeats_and_resolves_with_hysteresis() {
    let mut f = Floor::new(waiting_rule(1.0));
    for _ in 0..3 {
        f.queue(T0);
    }
    let ev = f.run(T0, T0 + 50_000);
    assert!(ev.is_empty(), "pending during `for`: {ev:?}");
    assert_eq!(f.alerts.active()[0].state, "pending");
    let ev = f.run(T0 + 60_000, T0 + 65_000);
    assert_eq!(
        ev,
        vec![(T0 + 60_000, AlertKind::Firing)],
        "fires once after 60 s"
    );
    let ev = f.run(T0 + 70_000, T0 + 660_000);
    assert_eq!(
        ev,
        vec![(T0 + 660_000, AlertKind::Repeat)],
        "one repeat after 10 minutes"
    );
    // One contact leaves: 2 waiting is not above 2, but not at the clear level (1) either.
    f.abandon(T0 + 700_000, 1);
    let ev = f.run(T0 + 700_000, T0 + 760_000);
    assert!(
        ev.is_empty(),
        "between threshold and clear it stays firing: {ev:?}"
    );
    assert_eq!(f.alerts.active()[0].state, "firing");
    f.abandon(T0 + 770_000, 2);
    let ev = f.run(T0 + 770_000, T0 + 780_000);
    assert_eq!(ev, vec![(T0 + 770_000, AlertKind::Resolved)]);
    assert!(f.alerts.active().is_empty());
    let firing = f
        .alerts
        .history()
        .iter()
        .filter(|e| e.kind == AlertKind::Firing)
        .count();
    assert_eq!(firing, 1);
}

#[test]
fn repeats_at_the_interval_until_acknowledged() {
    let mut f = Floor::new(waiting_rule(1.0));
    for _ in 0..3 {
        f.queue(T0);
    }
    let ev = f.run(T0, T0 + 60_000 + 1_200_000);
    let kinds: Vec<_> = ev.iter().map(|e| (e.0 - T0, e.1)).collect();
    assert_eq!(
        kinds,
        vec![
            (60_000, AlertKind::Firing),
            (660_000, AlertKind::Repeat),
            (1_260_000, AlertKind::Repeat)
        ]
    );
    let fp = f.alerts.active()[0].fingerprint.clone();
    assert!(f.alerts.acknowledge(&fp));
    let ev = f.run(T0 + 1_270_000, T0 + 3_000_000);
    assert!(ev.is_empty(), "acknowledged: no repeats {ev:?}");
    assert!(f.alerts.active()[0].acknowledged);
}

#[test]
fn no_flapping_on_a_noisy_signal() {
    // Waiting alternates 3, 2, 3, 2 … around the threshold 2.
    let mut with = Floor::new(waiting_rule(1.0));
    let mut without = Floor::new(waiting_rule(2.0));
    for f in [&mut with, &mut without] {
        f.queue(T0);
        f.queue(T0);
        f.queue(T0);
    }
    let mut ev_with = with.run(T0, T0 + 60_000);
    let mut ev_without = without.run(T0, T0 + 60_000);
    for k in 0..10u32 {
        let t = T0 + 70_000 + Millis::from(k) * 40_000;
        for f in [&mut with, &mut without] {
            if k % 2 == 0 {
                f.abandon(t, f.n);
            } else {
                f.queue(t);
            }
        }
        ev_with.extend(with.run(t, t + 30_000));
        ev_without.extend(without.run(t, t + 30_000));
    }
    let count = |ev: &[(Millis, AlertKind)], k| ev.iter().filter(|e| e.1 == k).count();
    assert_eq!(
        (
            count(&ev_with, AlertKind::Firing),
            count(&ev_with, AlertKind::Resolved)
        ),
        (1, 0),
        "hysteresis: one alert"
    );
    assert!(
        count(&ev_without, AlertKind::Resolved) >= 1,
        "the same rule without hysteresis resolves on the dips"
    );
    assert_eq!(
        count(&ev_without, AlertKind::Firing),
        1,
        "`for` still stops it from re-firing within a minute"
    );
}

#[test]
fn quiet_hours_hold_notifications_until_they_end() {
    let mut rule = waiting_rule(1.0);
    // 09:00–09:05 UTC is quiet.
    rule.quiet = Some(QuietHours {
        from_minute: 9 * 60,
        to_minute: 9 * 60 + 5,
    });
    let mut f = Floor::new(rule);
    for _ in 0..3 {
        f.queue(T0);
    }
    let ev = f.run(T0, T0 + 290_000);
    assert!(ev.is_empty(), "quiet: {ev:?}");
    assert_eq!(
        f.alerts.active()[0].state,
        "firing",
        "the state is tracked anyway"
    );
    let ev = f.run(T0 + 300_000, T0 + 310_000);
    assert_eq!(
        ev,
        vec![(T0 + 300_000, AlertKind::Firing)],
        "notified when quiet hours end"
    );
}

#[test]
fn default_rules_have_the_shared_names() {
    let names: Vec<String> = default_rules().into_iter().map(|r| r.name).collect();
    for n in [
        "ServiceLevelBelowTarget",
        "LongestWaitHigh",
        "ContactsWaitingHigh",
        "AbandonRateHigh",
        "StaffingGap",
        "AgentNoShow",
        "BreakOverrun",
        "SourceSilent",
        "SourceDown",
    ] {
        assert!(names.iter().any(|x| x == n), "{n}");
        let shipped = include_str!("../../deploy/prometheus/ccpulse.rules.yml");
        assert!(
            shipped.contains(&format!("alert: {n}")),
            "{n} in the shipped Prometheus rules"
        );
    }
}

#[test]
fn the_history_is_todays() {
    let mut f = Floor::new(waiting_rule(1.0));
    for _ in 0..3 {
        f.queue(T0);
    }
    f.run(T0, T0 + 120_000);
    assert_eq!(f.alerts.history().len(), 1, "fired today");
    // Still firing (no repeat within 10 min) past local midnight (UTC here): the new
    // day's history starts empty.
    let midnight = T0 + 15 * 3_600_000; // 2026-11-29T00:00:00Z
    f.run(midnight - 10_000, midnight - 10_000);
    assert!(!f.alerts.history().is_empty());
    f.run(midnight, midnight);
    assert!(
        f.alerts
            .history()
            .iter()
            .all(|e| e.kind == AlertKind::Repeat),
        "{:?}",
        f.alerts.history()
    );
    assert!(f.alerts.history().len() <= 1);
}

#[test]
fn longest_wait_high_counts_in_each_queues_sl_threshold() {
    // The built-in: above 3 × T for 1 min, clear at 1.5 × T. One rule, two queues:
    // voice (T = 20 s, fires once the caller has waited 60 s for a minute) and e-mail
    // (T = 4 h: a 2-minute-old e-mail is no alert; a fixed 120 s paged all day).
    let rule = default_rules()
        .into_iter()
        .find(|r| r.name == "LongestWaitHigh")
        .expect("built-in");
    assert_eq!(rule.threshold_unit, ThresholdUnit::SlThreshold);
    let mut cfg = Config::default();
    cfg.engine.allowed_lateness = Duration(0);
    cfg.engine.orphan_timeout = Duration::mins(24 * 60);
    for (q, t) in [
        ("voice", Duration::secs(20)),
        ("email", Duration::mins(240)),
    ] {
        cfg.queues.insert(
            q.into(),
            crate::config::QueueSettings {
                sl_threshold: Some(t),
                ..Default::default()
            },
        );
    }
    let mut f = Floor {
        engine: Engine::new(&cfg, EngineOptions::default()).expect("engine"),
        alerts: AlertEngine::new(vec![rule], jiff::tz::TimeZone::UTC),
        n: 0,
    };
    f.queue_in(T0, "voice");
    f.queue_in(T0, "email");
    let mut fired = Vec::new();
    let mut t = T0;
    while t <= T0 + 3_600_000 {
        f.engine.advance_to(t);
        let snap = f.engine.snapshot();
        for e in f.alerts.evaluate(&snap) {
            fired.push((t - T0, e.kind, e.scope.clone(), e.threshold_scale));
        }
        t += 10_000;
    }
    // Breaching from 70 s (the first evaluation above 60 s), firing a minute later.
    assert_eq!(
        fired.first(),
        Some(&(130_000, AlertKind::Firing, "voice".to_string(), 20.0)),
        "{fired:?}"
    );
    assert!(
        fired.iter().all(|(_, _, q, _)| q == "voice"),
        "an hour-old e-mail is within its 4 h: {fired:?}"
    );
    // Both still waiting at 1 h: e-mail's longest wait is measured but not breaching.
    assert_eq!(f.alerts.active().len(), 1);
    // Past 3 × 4 h the e-mail one fires too.
    let mut email_at = |t: Millis| {
        f.engine.advance_to(t);
        let snap = f.engine.snapshot();
        let ev = f.alerts.evaluate(&snap);
        ev.into_iter()
            .filter(|e| e.scope == "email")
            .collect::<Vec<_>>()
    };
    assert!(email_at(T0 + 12 * 3_600_000).is_empty(), "not above 3 × T");
    assert!(email_at(T0 + 12 * 3_600_000 + 70_000).is_empty(), "pending");
    let ev = email_at(T0 + 12 * 3_600_000 + 130_000);
    assert_eq!(ev.len(), 1, "{ev:?}");
    assert_eq!(ev[0].threshold_scale, 14_400.0);
    assert_eq!(
        (ev[0].scope.as_str(), ev[0].kind),
        ("email", AlertKind::Firing)
    );
    assert_eq!(
        ev[0].summary,
        "A caller in email has waited 12\u{a0}h 2\u{a0}min"
    );
}

#[test]
fn state_seconds_times_the_rules_states_and_aux_reasons() {
    use crate::model::AgentStatus;
    let mut rule = waiting_rule(300.0);
    rule.name = "LongBreakOrWrapUp".into();
    rule.metric = Metric::StateSeconds(break_or_wrap_up());
    rule.threshold = 300.0;
    rule.for_ms = 0;
    rule.summary = "{scope} in {state} ({reason}) for {value_text}".into();
    let mut floor = Floor::new(rule.clone());
    floor.state(T0, "a1", "A", AgentStatus::Aux, Some("break"));
    floor.state(T0, "a2", "A", AgentStatus::Aux, Some("lunch"));
    floor.state(T0, "a4", "A", AgentStatus::Available, None);
    floor.state(T0 + 60_000, "a3", "A", AgentStatus::AfterCallWork, None);
    floor.engine.advance_to(T0 + 600_000);
    let snap = floor.engine.snapshot();
    let measured = rule.metric.measure_with(&snap, &AlertInputs::default());
    type Row<'a> = (&'a str, f64, Vec<(&'a str, &'a str)>);
    let got: Vec<Row> = measured
        .iter()
        .map(|m| {
            let labels = m.labels.iter().map(|(k, v)| (*k, v.as_str())).collect();
            (m.scope.as_str(), m.value, labels)
        })
        .collect();
    assert_eq!(
        got,
        [
            ("a1", 600.0, vec![("state", "aux"), ("reason", "break")]),
            ("a3", 540.0, vec![("state", "after_call_work")]),
        ],
        "lunch is not a listed reason, available not a listed state"
    );
    // `measure` (without labels) agrees.
    let plain: Vec<(String, f64)> = rule
        .metric
        .measure(&snap)
        .into_iter()
        .map(|(_, s, v)| (s, v))
        .collect();
    assert_eq!(
        plain,
        [("a1".to_string(), 600.0), ("a3".to_string(), 540.0)]
    );
    // Both breach 300 s: they fire with their state and reason as labels and in text.
    let fired = floor.alerts.evaluate(&snap);
    let a1 = fired.iter().find(|e| e.scope == "a1").expect("a1 fires");
    assert_eq!(
        a1.scope_labels.get("reason").map(String::as_str),
        Some("break")
    );
    assert_eq!(a1.summary, "a1 in aux (break) for 10\u{a0}min");
    let a3 = fired.iter().find(|e| e.scope == "a3").expect("a3 fires");
    assert_eq!(
        a3.summary, "a3 in after_call_work () for 9\u{a0}min",
        "no reason: nothing"
    );
    assert_eq!(fired.len(), 2);
}

#[test]
fn agents_in_state_counts_each_teams_agents_in_the_rules_states() {
    use crate::model::AgentStatus;
    let mut rule = waiting_rule(2.0);
    rule.name = "TooManyOnBreak".into();
    rule.metric = Metric::AgentsInState(break_or_wrap_up());
    rule.for_ms = 0;
    rule.summary = "{value_text} of team {scope} on break or in wrap-up".into();
    let mut floor = Floor::new(rule.clone());
    // Team A: two on break, one at lunch (not counted), one in wrap-up; team B: one
    // available.
    floor.state(T0, "a1", "A", AgentStatus::Aux, Some("break"));
    floor.state(T0, "a2", "A", AgentStatus::Aux, Some("break"));
    floor.state(T0, "a3", "A", AgentStatus::Aux, Some("lunch"));
    floor.state(T0, "a4", "A", AgentStatus::AfterCallWork, None);
    floor.state(T0, "b1", "B", AgentStatus::Available, None);
    floor.engine.advance_to(T0 + 1_000);
    let snap = floor.engine.snapshot();
    // Brute force over the snapshot's agents.
    let brute = |team: &str| {
        snap.agents
            .iter()
            .filter(|a| a.team.as_deref() == Some(team))
            .filter(|a| match a.state {
                AgentStatus::Aux => a.reason.as_deref() == Some("break"),
                s => s == AgentStatus::AfterCallWork,
            })
            .count() as f64
    };
    let got = rule.metric.measure(&snap);
    assert_eq!(
        got,
        [
            ("team", "A".to_string(), brute("A")),
            ("team", "B".to_string(), brute("B"))
        ]
    );
    assert_eq!((brute("A"), brute("B")), (3.0, 0.0));
    // Above 2: team A fires, named by its team label (the board link and feed filter).
    let fired = floor.alerts.evaluate(&snap);
    assert_eq!(fired.len(), 1);
    assert_eq!(
        (fired[0].scope_label, fired[0].scope.as_str()),
        ("team", "A")
    );
    assert_eq!(
        fired[0].summary,
        "3\u{a0}agents of team A on break or in wrap-up"
    );
}

/// A filter of aux with the reason `break`, and wrap-up.
fn break_or_wrap_up() -> Box<crate::alerts::StateFilter> {
    use crate::model::AgentStatus;
    Box::new(crate::alerts::StateFilter {
        states: vec![AgentStatus::Aux, AgentStatus::AfterCallWork],
        reasons: vec!["break".into()],
    })
}

#[test]
fn saved_states_carry_alerts_across_a_restart() {
    // Three waiting: fires at +60 s, is acknowledged; a second rule only pends.
    let mut pending = waiting_rule(1.0);
    pending.name = "WaitingPending".into();
    pending.for_ms = 3_600_000;
    let mut f = Floor::new(waiting_rule(1.0));
    f.alerts = AlertEngine::new(
        vec![waiting_rule(1.0), pending.clone()],
        jiff::tz::TimeZone::UTC,
    );
    for _ in 0..3 {
        f.queue(T0);
    }
    assert_eq!(
        f.run(T0, T0 + 60_000),
        vec![(T0 + 60_000, AlertKind::Firing)]
    );
    let fp = f.alerts.active()[0].fingerprint.clone();
    assert!(f.alerts.acknowledge(&fp));
    let before = f.alerts.active();

    // The restarted daemon: a fresh alert engine (one rule renamed away) takes the saved
    // states back through their JSON file.
    let text = serde_json::to_string(&f.alerts.saved()).expect("json");
    let saved: Vec<crate::alerts::SavedAlert> = serde_json::from_str(&text).expect("parse");
    assert_eq!(saved.len(), 2);
    let mut renamed = pending;
    renamed.name = "SomethingElse".into();
    f.alerts = AlertEngine::new(vec![waiting_rule(1.0), renamed], jiff::tz::TimeZone::UTC);
    assert_eq!(
        f.alerts.restore(saved),
        1,
        "the rule that is still configured"
    );
    assert_eq!(
        f.alerts.active(),
        before[..1].to_vec(),
        "the same firing alert"
    );

    // Still breaching: no second firing, and acknowledged, so no repeat either.
    let ev = f.run(T0 + 70_000, T0 + 1_300_000);
    assert!(ev.is_empty(), "{ev:?}");
    // Cleared: resolved, with the original start.
    f.abandon(T0 + 1_310_000, 1);
    f.abandon(T0 + 1_310_000, 2);
    f.engine.advance_to(T0 + 1_320_000);
    let snap = f.engine.snapshot();
    let ev = f.alerts.evaluate(&snap);
    assert_eq!(ev.len(), 1, "{ev:?}");
    assert_eq!(
        (ev[0].kind, ev[0].starts_at_ms),
        (AlertKind::Resolved, T0 + 60_000)
    );
}
