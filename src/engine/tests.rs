use super::*;
use crate::config::{Config, Duration};
use crate::model::{AgentStateChange, ExitReason};

const T0: Millis = 1_764_316_800_000; // 2025-11-28T08:00:00Z

fn s(x: i64) -> Millis {
    T0 + x * 1000
}

fn ev(ts: Millis, body: EventBody) -> Event {
    Event { ts, id: None, body }
}

fn queued(ts: Millis, c: &str) -> Event {
    ev(
        ts,
        EventBody::ContactQueued {
            contact: c.into(),
            queue: "sales".into(),
            channel: Channel::Voice,
        },
    )
}
fn answered(ts: Millis, c: &str, a: &str) -> Event {
    ev(
        ts,
        EventBody::ContactAnswered {
            contact: c.into(),
            queue: "sales".into(),
            agent: a.into(),
            wait_ms: None,
        },
    )
}
fn abandoned(ts: Millis, c: &str) -> Event {
    ev(
        ts,
        EventBody::ContactAbandoned {
            contact: c.into(),
            queue: "sales".into(),
            wait_ms: None,
        },
    )
}
fn ended(ts: Millis, c: &str) -> Event {
    ev(
        ts,
        EventBody::ContactEnded {
            contact: c.into(),
            queue: None,
            talk_ms: None,
        },
    )
}
fn state(ts: Millis, a: &str, st: AgentStatus, reason: Option<&str>) -> Event {
    ev(
        ts,
        EventBody::AgentState(Box::new(AgentStateChange {
            agent: a.into(),
            state: st,
            reason: reason.map(Into::into),
            team: Some("A".into()),
            queues: Some(vec!["sales".into()]),
            name: None,
            explicit: true,
        })),
    )
}

fn engine(grace: Millis) -> Engine {
    let mut cfg = Config::default();
    cfg.engine.allowed_lateness = Duration(0);
    Engine::new(
        &cfg,
        EngineOptions {
            sl_grace_ms: grace,
            keep_closed: true,
            rolling: true,
            lifetime: true,
            live_totals: true,
            report_days: 0,
        },
    )
    .expect("engine")
}

fn run(e: &mut Engine, evs: Vec<Event>) {
    for x in evs {
        e.push(x).expect("accepted");
    }
}

fn totals(e: &Engine) -> crate::kpi::QueueCounters {
    e.queues()
        .next()
        .map(|(_, _, tl)| tl.totals.c.clone())
        .unwrap_or_default()
}

#[test]
fn sl_missed_counts_at_queued_plus_t_once_the_watermark_passes_it() {
    let mut e = engine(0);
    run(&mut e, vec![queued(s(0), "c1")]);
    e.advance_to(s(20));
    assert_eq!(
        totals(&e).sl_missed,
        0,
        "at exactly T nothing is decided yet"
    );
    e.advance_to(s(21));
    assert_eq!(
        totals(&e).sl_missed,
        1,
        "still waiting past T counts as missed"
    );
    run(&mut e, vec![answered(s(30), "c1", "a1")]);
    let c = totals(&e);
    assert_eq!(
        (c.answered, c.answered_within_sl, c.sl_met, c.sl_missed),
        (1, 0, 0, 1)
    );
    assert_eq!(c.sl_offered(), 1, "exactly one SL outcome");
}

#[test]
fn answer_at_exactly_t_is_met_and_grace_defers_the_miss() {
    let mut e = engine(1000);
    run(
        &mut e,
        vec![
            queued(s(0), "c1"),
            queued(s(0), "c2"),
            answered(s(20), "c1", "a1"),
        ],
    );
    e.advance_to(s(21));
    assert_eq!(
        totals(&e).sl_missed,
        0,
        "grace 1 s: T + grace not yet passed"
    );
    e.advance_to(s(22));
    let c = totals(&e);
    assert_eq!((c.sl_met, c.sl_missed), (1, 1));
}

#[test]
fn short_abandons_have_no_sl_outcome() {
    let mut e = engine(0);
    run(
        &mut e,
        vec![
            queued(s(0), "c1"),
            queued(s(0), "c2"),
            queued(s(1), "c3"),
            abandoned(s(3), "c1"),
            abandoned(s(10), "c2"),
            abandoned(s(40), "c3"),
        ],
    );
    let c = totals(&e);
    assert_eq!(
        (c.short_abandoned, c.abandoned, c.abandoned_within_sl),
        (1, 2, 1)
    );
    assert_eq!((c.sl_abandoned_within, c.sl_missed, c.sl_met), (1, 1, 0));
    assert_eq!(c.abandoned_wait_ms, 10_000 + 39_000);
}

#[test]
fn explicit_acw_is_part_of_handle_time_and_handled_at_its_end() {
    let mut e = engine(0);
    run(
        &mut e,
        vec![
            state(s(0), "a1", AgentStatus::Available, None),
            queued(s(10), "c1"),
            answered(s(15), "c1", "a1"),
            state(s(15), "a1", AgentStatus::OnContact, None),
            ev(
                s(40),
                EventBody::ContactHold {
                    contact: "c1".into(),
                    queue: None,
                },
            ),
            ev(
                s(50),
                EventBody::ContactUnhold {
                    contact: "c1".into(),
                    queue: None,
                },
            ),
            ended(s(115), "c1"),
            state(s(115), "a1", AgentStatus::AfterCallWork, None),
        ],
    );
    e.advance_to(s(120));
    assert_eq!(totals(&e).handled, 0, "still in ACW");
    run(
        &mut e,
        vec![state(s(145), "a1", AgentStatus::Available, None)],
    );
    let c = totals(&e);
    assert_eq!(c.handled, 1);
    assert_eq!(
        (c.talk_ms, c.hold_ms, c.acw_ms, c.handle_ms),
        (90_000, 10_000, 30_000, 130_000)
    );
    assert_eq!(c.answered_wait_ms, 5000);
}

#[test]
fn no_acw_means_handled_at_end() {
    let mut e = engine(0);
    run(
        &mut e,
        vec![
            state(s(0), "a1", AgentStatus::Available, None),
            queued(s(10), "c1"),
            answered(s(15), "c1", "a1"),
            state(s(15), "a1", AgentStatus::OnContact, None),
            ended(s(75), "c1"),
            state(s(75), "a1", AgentStatus::Available, None),
            queued(s(80), "c2"),
        ],
    );
    let c = totals(&e);
    assert_eq!((c.handled, c.handle_ms, c.acw_ms), (1, 60_000, 0));
}

#[test]
fn derived_wrap_up_from_queue_config() {
    let mut cfg = Config::default();
    cfg.engine.allowed_lateness = Duration(0);
    cfg.defaults.wrap_up = Some(Duration::secs(10));
    let mut e = Engine::new(&cfg, EngineOptions::default()).expect("engine");
    let mut a = answered(s(5), "c1", "PJSIP/400");
    if let EventBody::ContactAnswered { wait_ms, .. } = &mut a.body {
        *wait_ms = Some(5000);
    }
    run(
        &mut e,
        vec![
            ev(
                s(0),
                EventBody::AgentMembership {
                    agent: "PJSIP/400".into(),
                    queue: "sales".into(),
                    joined: true,
                    paused: false,
                },
            ),
            queued(s(0), "c1"),
            a,
            ev(
                s(65),
                EventBody::ContactEnded {
                    contact: "c1".into(),
                    queue: Some("sales".into()),
                    talk_ms: Some(60_000),
                },
            ),
        ],
    );
    e.advance_to(s(100));
    let c = totals(&e);
    assert_eq!(
        (c.handled, c.talk_ms, c.acw_ms, c.handle_ms),
        (1, 60_000, 10_000, 70_000)
    );
    let snap = e.snapshot();
    let agent = &snap.agents[0];
    assert_eq!(agent.state, AgentStatus::Available);
    let k = &agent.today;
    assert_eq!(
        (k.on_contact_seconds, k.acw_seconds, k.available_seconds),
        (60.0, 10.0, 30.0)
    );
}

#[test]
fn orphans_are_closed_and_counted() {
    let mut cfg = Config::default();
    cfg.engine.allowed_lateness = Duration(0);
    cfg.engine.orphan_timeout = Duration::mins(60);
    let mut e = Engine::new(&cfg, EngineOptions::default()).expect("engine");
    run(&mut e, vec![queued(s(0), "c1")]);
    e.advance_to(s(3601));
    assert_eq!(totals(&e).orphaned, 1);
    assert_eq!(e.stats().orphaned, 1);
    let snap = e.snapshot();
    assert_eq!(snap.queues[0].waiting, 0);
    run(
        &mut e,
        vec![queued(s(4000), "c2"), ev(s(4001), EventBody::SourceRestart)],
    );
    assert_eq!(totals(&e).orphaned, 2);
}

#[test]
fn exits_count_within_or_missed() {
    let mut e = engine(0);
    run(
        &mut e,
        vec![
            queued(s(0), "c1"),
            ev(
                s(2),
                EventBody::ContactExited {
                    contact: "c1".into(),
                    queue: "sales".into(),
                    reason: ExitReason::NoAgents,
                    wait_ms: None,
                },
            ),
        ],
    );
    let c = totals(&e);
    assert_eq!(
        (c.exited, c.sl_abandoned_within, c.short_abandoned),
        (1, 1, 0)
    );
}

#[test]
fn agent_state_time_is_split_at_interval_boundaries() {
    let mut e = engine(0);
    // 08:10 available until 08:20 → 5 min in the 08:00 interval, 5 in 08:15.
    run(
        &mut e,
        vec![
            state(s(600), "a1", AgentStatus::Available, None),
            state(s(1200), "a1", AgentStatus::Aux, Some("break")),
        ],
    );
    e.advance_to(s(1800));
    e.finish();
    e.close_all();
    let rows: Vec<_> = e
        .agents()
        .flat_map(|(_, _, tl)| {
            tl.closed.iter().map(|(st, r)| {
                let c = crate::kpi::AgentCounters::from(r);
                (
                    *st,
                    c.in_state(AgentStatus::Available),
                    c.in_state(AgentStatus::Aux),
                )
            })
        })
        .collect();
    // ... and aux from 08:20 to the watermark at 08:30.
    assert_eq!(rows, vec![(s(0), 300_000, 0), (s(900), 300_000, 600_000)]);
}

#[test]
fn duplicates_and_late_events_are_counted_not_applied() {
    let mut cfg = Config::default();
    cfg.engine.allowed_lateness = Duration::secs(5);
    let mut e = Engine::new(&cfg, EngineOptions::default()).expect("engine");
    let mut a = queued(s(10), "c1");
    a.id = Some("e1".into());
    e.push(a.clone()).expect("first");
    assert_eq!(e.push(a), Err(Refused::Duplicate));
    e.push(queued(s(8), "c0")).expect("3 s late is within 5 s");
    e.push(queued(s(30), "c2")).expect("in order");
    assert_eq!(e.push(queued(s(20), "c3")), Err(Refused::Late));
    e.finish();
    assert_eq!(totals(&e).arrived, 3);
    assert_eq!((e.stats().late, e.stats().duplicates), (1, 1));
}

#[test]
fn rolling_windows_slide() {
    let mut cfg = Config::default();
    cfg.engine.allowed_lateness = Duration(0);
    cfg.windows.rolling = vec![Duration::mins(5)];
    cfg.staffing.window = Duration::mins(5);
    let mut e = Engine::new(&cfg, EngineOptions::default()).expect("engine");
    run(
        &mut e,
        vec![
            queued(s(0), "c1"),
            abandoned(s(30), "c1"),
            queued(s(200), "c2"),
        ],
    );
    e.advance_to(s(300));
    let snap = e.snapshot();
    let w = &snap.queues[0].rolling[0];
    assert_eq!((w.kpis.arrived, w.kpis.abandoned), (2, 1));
    e.advance_to(s(345));
    let snap = e.snapshot();
    let w = &snap.queues[0].rolling[0];
    assert_eq!(
        (w.kpis.arrived, w.kpis.abandoned),
        (1, 0),
        "c1's events slid out"
    );
}

#[test]
fn lifetime_counters_by_channel_and_team_state_totals() {
    let mut e = engine(0);
    let mut chat = queued(s(5), "c9");
    if let EventBody::ContactQueued { channel, .. } = &mut chat.body {
        *channel = Channel::Chat;
    }
    run(
        &mut e,
        vec![
            state(s(0), "a1", AgentStatus::Available, None),
            queued(s(0), "c1"),
            chat,
            answered(s(10), "c1", "a1"),
            state(s(10), "a1", AgentStatus::OnContact, None),
            abandoned(s(40), "c9"),
            ended(s(70), "c1"),
            state(s(70), "a1", AgentStatus::Available, None),
        ],
    );
    e.advance_to(s(100));
    let snap = e.snapshot();
    let q = &snap.queues[0];
    let voice = q
        .lifetime
        .iter()
        .find(|(c, _)| *c == Channel::Voice)
        .map(|(_, t)| t)
        .expect("voice");
    let chat = q
        .lifetime
        .iter()
        .find(|(c, _)| *c == Channel::Chat)
        .map(|(_, t)| t)
        .expect("chat");
    assert_eq!(
        (voice.c.arrived, voice.c.answered, voice.c.handled),
        (1, 1, 1)
    );
    assert_eq!(
        (chat.c.arrived, chat.c.abandoned, chat.c.sl_missed),
        (1, 1, 1)
    );
    assert_eq!(voice.answer_wait.count, 1);
    assert_eq!(voice.answer_wait.sum_ms, 10_000);
    let mut sum = voice.c.clone();
    sum.add(&chat.c);
    assert_eq!(sum, totals(&e), "channels add up to the queue's totals");
    let team = &snap.teams[0];
    assert_eq!(team.state_seconds_total["available"], 10.0 + 30.0);
    assert_eq!(team.state_seconds_total["on_contact"], 60.0);
    assert_eq!(
        snap.agents[0].lifetime.in_state(AgentStatus::Available),
        40_000
    );
}

#[test]
fn dead_sl_deadlines_are_dropped_and_live_ones_still_fire() {
    // 30,000 contacts queued 2 ms apart (10,000 within any T = 20 s), all answered
    // at once except every 1,000th: without the clean-out the heap would hold ~10,000
    // dead deadlines.
    let mut e = engine(0);
    let mut max_heap = 0;
    for i in 0..30_000i64 {
        let t = T0 + 2 * i;
        let c = format!("c{i}");
        let mut evs = vec![queued(t, &c)];
        if i % 1000 != 0 {
            let agent = format!("a{}", i % 100);
            evs.push(answered(t + 1, &c, &agent));
            evs.push(ended(t + 1, &c));
        }
        run(&mut e, evs);
        max_heap = max_heap.max(e.timers.len());
    }
    e.advance_to(T0 + 2 * 30_000 + 21_000);
    let c = totals(&e);
    assert_eq!((c.answered, c.sl_met), (29_970, 29_970));
    assert_eq!(
        c.sl_missed, 30,
        "every contact left waiting misses at queued + T"
    );
    assert!(
        max_heap <= DEAD_TIMERS_SLACK + 64,
        "timer heap grew to {max_heap}"
    );
}

/// 400 contacts over two days, one agent, varied waits and talk times, in time order.
fn two_days_of_contacts() -> Vec<Event> {
    let mut evs = Vec::new();
    for i in 0..400i64 {
        let t = s(i * 397);
        let c = format!("c{i}");
        evs.push(queued(t, &c));
        evs.push(answered(t + (i % 37) * 1000, &c, "a1"));
        evs.push(ended(t + 60_000 + (i % 11) * 7_000, &c));
    }
    evs.sort_by_key(|e| e.ts);
    evs
}

#[test]
fn totals_are_the_same_with_or_without_live_totals() {
    // Two days of contacts with varied waits and talk: the replay mode (totals take each
    // interval when it closes) must give the counters and histograms the live mode keeps.
    let evs = two_days_of_contacts();
    let totals = |live_totals: bool| {
        let mut e = Engine::new(
            &Config::default(),
            EngineOptions {
                sl_grace_ms: 0,
                keep_closed: true,
                rolling: false,
                lifetime: false,
                live_totals,
                report_days: 0,
            },
        )
        .expect("engine");
        run(&mut e, evs.clone());
        e.finish();
        e.close_all();
        let q = e.queues.first().map(|q| {
            let t = &q.timeline.totals;
            (t.c.clone(), t.settled_percentiles())
        });
        let a = e.agents.first().map(|a| a.timeline.totals.c.clone());
        (q.expect("one queue"), a.expect("one agent"))
    };
    let (live, batched) = (totals(true), totals(false));
    assert!(live.0 .1.wait_p90_seconds.is_some() && live.0 .1.handle_p50_seconds.is_some());
    assert!(live.0 .0.handled > 0 && live.1.handled > 0);
    assert_eq!(live, batched);
}

#[test]
fn adherence_targets_read_the_schedules_adherence_today() {
    let mut cfg = Config::default();
    cfg.engine.allowed_lateness = Duration(0);
    cfg.teams.entry("A".into()).or_default().targets = Targets {
        adherence_min: Some(0.9),
        max_aux_share: Some(0.5),
        ..Targets::default()
    };
    let mut e = Engine::new(&cfg, EngineOptions::default()).expect("engine");
    run(
        &mut e,
        vec![
            state(s(0), "a1", AgentStatus::Available, None),
            state(s(0), "a2", AgentStatus::Available, None),
        ],
    );
    e.advance_to(s(600));
    let adherence_of = |snap: &Snapshot, agent: &str| {
        let k = if agent == "A" {
            snap.teams.iter().find(|t| t.team == "A").map(|t| &t.today)
        } else {
            snap.agents
                .iter()
                .find(|a| a.agent == agent)
                .map(|a| &a.today)
        };
        let t = k.and_then(|k| k.targets.as_ref()).expect("targets");
        let r = t.results.iter().find(|r| r.target == "adherence_min");
        (r.and_then(|r| r.actual), r.and_then(|r| r.met), t.share_met)
    };
    // No schedule: nothing to measure; aux share (0) alone is met.
    let snap = e.snapshot();
    assert_eq!(adherence_of(&snap, "a1"), (None, None, Some(1.0)));
    let mut adh = AdherenceToday::default();
    adh.agents.insert("a1".into(), 0.8);
    adh.agents.insert("a2".into(), 0.95);
    adh.teams.insert("A".into(), 0.875);
    e.set_adherence(Some(std::sync::Arc::new(adh)));
    let snap = e.snapshot();
    assert_eq!(
        adherence_of(&snap, "a1"),
        (Some(0.8), Some(false), Some(0.5))
    );
    assert_eq!(
        adherence_of(&snap, "a2"),
        (Some(0.95), Some(true), Some(1.0))
    );
    assert_eq!(
        adherence_of(&snap, "A"),
        (Some(0.875), Some(false), Some(0.5))
    );
    // Only today: the interval's attainment has no adherence to read.
    let team = snap.teams.iter().find(|t| t.team == "A").expect("team");
    let iv = team.interval.targets.as_ref().expect("targets");
    let r = iv.results.iter().find(|r| r.target == "adherence_min");
    assert_eq!(r.map(|r| r.met), Some(None));
}

/// No allowed lateness, and the config's team `Blue` holding agent `a1`.
fn blue_a1() -> Config {
    let mut cfg = Config::default();
    cfg.engine.allowed_lateness = Duration(0);
    cfg.teams.insert(
        "Blue".into(),
        crate::config::TeamConfig {
            agents: vec!["a1".into()],
            ..Default::default()
        },
    );
    cfg
}

/// The config's team wins over the team a source's events name; an agent the config does
/// not place follows its events.
#[test]
fn the_configs_team_wins_over_the_events() {
    let cfg = blue_a1();
    let mut e = Engine::new(&cfg, EngineOptions::default()).expect("engine");
    // Both events name team "A" (see `state`).
    run(
        &mut e,
        vec![
            state(s(1), "a1", AgentStatus::Available, None),
            state(s(2), "a2", AgentStatus::Available, None),
            state(s(3), "a1", AgentStatus::Aux, Some("break")),
        ],
    );
    let snap = e.snapshot();
    let team_of = |a: &str| {
        snap.agents
            .iter()
            .find(|x| x.agent == a)
            .and_then(|x| x.team.clone())
    };
    assert_eq!(team_of("a1").as_deref(), Some("Blue"));
    assert_eq!(team_of("a2").as_deref(), Some("A"));
    let members = |t: &str| {
        snap.teams
            .iter()
            .find(|x| x.team == t)
            .map(|x| x.agents.values().sum::<u64>())
    };
    assert_eq!(members("Blue"), Some(1));
    assert_eq!(members("A"), Some(1));

    // A restored engine still follows the config.
    let bytes = e.checkpoint().expect("checkpoint");
    let mut e = Engine::restore(&cfg, EngineOptions::default(), &bytes).expect("restore");
    run(
        &mut e,
        vec![state(s(4), "a1", AgentStatus::Available, None)],
    );
    let snap = e.snapshot();
    let team = snap
        .agents
        .iter()
        .find(|x| x.agent == "a1")
        .and_then(|x| x.team.clone());
    assert_eq!(team.as_deref(), Some("Blue"));
}

/// The schedule's team places an agent the config does not (its events' team is not
/// followed); the config's team wins over the schedule's; a changed schedule moves an
/// agent at the instant it is applied, its earlier state time staying with the old team;
/// an agent the schedule no longer names keeps its team until its events name one.
#[test]
fn the_schedules_team_places_agents_the_config_does_not() {
    let cfg = blue_a1();
    let opts = EngineOptions {
        lifetime: true,
        ..EngineOptions::default()
    };
    let mut e = Engine::new(&cfg, opts).expect("engine");
    e.set_planned_teams([("a1", "Green"), ("a2", "Green"), ("a3", "Red")], s(0));
    // Every event names team "A" (see `state`); a4 is in no plan.
    run(
        &mut e,
        vec![
            state(s(0), "a1", AgentStatus::Available, None),
            state(s(0), "a2", AgentStatus::Available, None),
            state(s(0), "a3", AgentStatus::Available, None),
            state(s(0), "a4", AgentStatus::Available, None),
        ],
    );
    e.advance_to(s(100));
    let team_of = |e: &Engine, a: &str| e.agent_team(a).map(str::to_string);
    assert_eq!(
        team_of(&e, "a1").as_deref(),
        Some("Blue"),
        "the config wins"
    );
    assert_eq!(team_of(&e, "a2").as_deref(), Some("Green"));
    assert_eq!(team_of(&e, "a3").as_deref(), Some("Red"));
    assert_eq!(
        team_of(&e, "a4").as_deref(),
        Some("A"),
        "no plan: its events"
    );

    // The schedule changes at 100 s: a2 moves to Red, a3 is no longer named.
    e.set_planned_teams([("a2", "Red")], s(100));
    run(
        &mut e,
        vec![
            state(s(150), "a2", AgentStatus::Aux, Some("break")),
            state(s(150), "a3", AgentStatus::Aux, Some("break")),
        ],
    );
    assert_eq!(team_of(&e, "a2").as_deref(), Some("Red"));
    assert_eq!(
        team_of(&e, "a3").as_deref(),
        Some("A"),
        "unplanned: its events again"
    );
    e.advance_to(s(200));
    let snap = e.snapshot();
    let secs = |t: &str, st: &str| {
        snap.teams
            .iter()
            .find(|x| x.team == t)
            .and_then(|x| x.state_seconds_total.get(st).copied())
            .unwrap_or(0.0)
    };
    // Green: a2 for 0–100 s. Red: a3 for 0–150 s, a2 for 100–150 s and on break after.
    assert_eq!(secs("Green", "available"), 100.0);
    assert_eq!(secs("Red", "available"), 150.0 + 50.0);
    assert_eq!(secs("Red", "aux"), 50.0);
    // A: a4 all along, a3 on break from 150 s.
    assert_eq!(secs("A", "available"), 200.0);
    assert_eq!(secs("A", "aux"), 50.0);
    assert_eq!(secs("Blue", "available"), 200.0);

    // A restored engine has no plan until the daemon gives it again; then nothing moves.
    let bytes = e.checkpoint().expect("checkpoint");
    let mut r = Engine::restore(&cfg, opts, &bytes).expect("restore");
    r.set_planned_teams([("a2", "Red")], s(200));
    run(
        &mut r,
        vec![state(s(210), "a2", AgentStatus::Available, None)],
    );
    assert_eq!(team_of(&r, "a2").as_deref(), Some("Red"));
}

#[test]
fn a_teams_weekly_row_holds_more_than_49_days_of_time() {
    // 24 agents of team A available from a Friday 08:00 for five days: 64 days of
    // available time in the first weekly row (to Monday 00:00), 56 in the second; 32
    // bits of milliseconds saturate at 49.7 days.
    let mut cfg = Config::default();
    cfg.engine.allowed_lateness = Duration(0);
    cfg.interval = Duration(7 * 86_400_000);
    let mut e = Engine::new(
        &cfg,
        EngineOptions {
            keep_closed: true,
            live_totals: false,
            ..EngineOptions::default()
        },
    )
    .expect("engine");
    let agents: Vec<String> = (0..24).map(|i| format!("a{i}")).collect();
    let mut evs: Vec<Event> = agents
        .iter()
        .map(|a| state(s(0), a, AgentStatus::Available, None))
        .collect();
    evs.extend(
        agents
            .iter()
            .map(|a| state(s(5 * 86_400), a, AgentStatus::LoggedOut, None)),
    );
    run(&mut e, evs);
    e.finish();
    e.close_all();
    let (_, _, tl) = e
        .teams()
        .find(|(n, _, _)| n.as_str() == "A")
        .expect("team A");
    let want = 24 * 5 * 86_400_000u64;
    let rows: Vec<u64> = tl
        .closed
        .iter()
        .map(|(_, r)| crate::kpi::AgentCounters::from(r).state_ms[AgentStatus::Available as usize])
        .collect();
    assert!(rows.iter().all(|&r| r > u64::from(u32::MAX)), "{rows:?}");
    assert_eq!(rows.iter().sum::<u64>(), want, "{rows:?}");
    assert_eq!(tl.totals.c.state_ms[AgentStatus::Available as usize], want);
}

#[test]
fn deferred_days_give_the_same_today_and_totals_once_the_backlog_is_read() {
    // Two days of contacts: a live engine that reads the first part as a backlog (days
    // and totals take each interval when it closes) must, once the backlog is read, hold
    // today's and the lifetime counters and histograms of one that counted as they came.
    let evs = two_days_of_contacts();
    // Deferred again while intervals are open (a second backlog, and one restored from
    // a checkpoint taken while deferred): no interval may be folded into its day twice.
    let (backlog, rest) = evs.split_at(700);
    let (live_part, rest) = rest.split_at(100);
    let (second, rest) = rest.split_at(150);
    let state = |deferred: bool| {
        let mut e = engine(0);
        if deferred {
            e.defer_days();
        }
        run(&mut e, backlog.to_vec());
        let mid = e.now.unwrap_or(0);
        e.advance_to(mid);
        // Readers see the same before the backlog is read (day plus open intervals).
        let q = e.queues.first_mut().expect("one queue");
        let before = (
            q.timeline.totals_now().c.clone(),
            q.timeline
                .with_today(mid, |d| d.map(|d| (d.c.clone(), d.percentiles()))),
        );
        e.backlog_read();
        let read = |e: &mut Engine, t: Millis| {
            let q = e.queues.first_mut().expect("one queue");
            let totals = (
                q.timeline.totals.c.clone(),
                q.timeline.totals.settled_percentiles(),
            );
            let today = q
                .timeline
                .day_at(t)
                .map(|d| (d.agg.c.clone(), d.agg.percentiles()));
            let a = e.agents.first_mut().expect("one agent");
            let agent = a.timeline.day_at(t).map(|d| d.agg.c.clone());
            (totals, today, agent, a.timeline.totals.c.clone())
        };
        let at_read = read(&mut e, mid);
        run(&mut e, live_part.to_vec());
        if deferred {
            e.defer_days();
        }
        run(&mut e, second.to_vec());
        if deferred {
            let bytes = e.checkpoint().expect("checkpoint");
            let mut cfg = Config::default();
            cfg.engine.allowed_lateness = Duration(0);
            e = Engine::restore(&cfg, e.opts, &bytes).expect("restore");
            e.defer_days();
        }
        run(&mut e, rest.to_vec());
        e.backlog_read();
        let end = e.now.unwrap_or(0);
        (before, at_read, read(&mut e, end))
    };
    let (live, deferred) = (state(false), state(true));
    assert!(live
        .1
         .1
        .as_ref()
        .is_some_and(|d| d.0.handled > 0 && d.1.wait_p90_seconds.is_some()));
    assert!(live.2 .2.as_ref().is_some_and(|a| a.handled > 0));
    assert_eq!(live, deferred);
}

#[test]
fn a_team_window_holds_an_hours_long_state_split_at_its_buckets() {
    // Day-long intervals: an agent available for three hours is checkpointed once, when
    // its state changes; the team's 60-min window must hold the last hour of that span
    // (a piece per 10-s bucket from the first one it keeps), the 5-min window 5 min.
    let mut cfg = Config::default();
    cfg.engine.allowed_lateness = Duration(0);
    cfg.interval = Duration(86_400_000);
    let mut e = Engine::new(&cfg, EngineOptions::default()).expect("engine");
    let start = 1_700_000_000_000 - 1_700_000_000_000 % 86_400_000 + 3_600_000;
    let at = |x: i64| start + x * 1000;
    run(
        &mut e,
        vec![
            state(at(3), "a1", AgentStatus::Available, None),
            state(at(3 * 3600 + 3), "a1", AgentStatus::Aux, Some("lunch")),
        ],
    );
    e.advance_to(at(3 * 3600 + 3));
    let snap = e.snapshot();
    let team = snap.teams.iter().find(|t| t.team == "A").expect("team A");
    let win = |secs: i64| {
        let w = team.rolling.iter().find(|w| w.window_seconds == secs);
        w.map(|w| (w.kpis.available_seconds, w.kpis.aux_seconds))
    };
    assert_eq!(win(3600), Some((3600.0, 0.0)));
    assert_eq!(win(300), Some((300.0, 0.0)));
}
