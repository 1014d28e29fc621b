//! `PUT`/`GET /api/v1/schedule` on the in-process daemon with `[auth] token`: writes
//! need the bearer header, the answer counts accepted and rejected rows with line and
//! reason, an all-bad body keeps the current schedule (422); the live view then shows
//! a no-show, which the built-in `AgentNoShow` rule fires for with the team. Also: the
//! schedule file is reloaded when it changes, and `/metrics` renders the schedule view.

mod live_support;

use ccpulse::config::Config;
use ccpulse::outputs::feed::FeedOptions;
use ccpulse::outputs::metrics::{self, MetricsOptions};
use ccpulse::runtime::{Clock, ManualClock};
use ccpulse::schedule::ScheduleService;
use live_support::{fast_config, request, start, start_manual, wait_snapshot, GIVE_UP};
use serde_json::Value;
use std::sync::Arc;

const T0: i64 = 1_795_856_400_000; // 2026-11-28T09:00:00Z
const AUTH: (&str, &str) = ("Authorization", "Bearer s3cret");

const CSV: &str = "agent,start,end,activity,team,queues
a1,2026-11-28T09:00:00Z,2026-11-28T17:00:00Z,work,Team A,sales
a2,2026-11-28T09:00:00Z,2026-11-28T17:00:00Z,work,Team A,sales
a3,2026-11-28T09:00:00Z,2026-11-28T08:00:00Z,work,Team A,sales
";

#[tokio::test]
async fn put_and_get_the_schedule_with_auth_and_see_a_no_show() {
    let mut cfg = fast_config();
    cfg.auth.token = Some("s3cret".into());
    cfg.teams.entry("Team A".into()).or_default().targets = ccpulse::config::Targets {
        adherence_min: Some(0.9),
        ..Default::default()
    };
    let clock = Arc::new(ManualClock::new(T0));
    let live = start(
        &cfg,
        FeedOptions::default(),
        clock.clone() as Arc<dyn Clock>,
    )
    .await;
    let addr = live.addr;

    let (status, _) = request(addr, "PUT", "/api/v1/schedule", &[], CSV.as_bytes()).await;
    assert_eq!(status, 401, "a write needs the bearer token");
    let (status, _) = request(
        addr,
        "PUT",
        "/api/v1/schedule?token=s3cret",
        &[],
        CSV.as_bytes(),
    )
    .await;
    assert_eq!(status, 401, "a write does not take the query-string token");
    let (status, body) = request(addr, "PUT", "/api/v1/schedule", &[AUTH], CSV.as_bytes()).await;
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(v["applied"], true);
    assert_eq!(v["accepted"], 2);
    assert_eq!(v["rejected"], 1);
    assert_eq!(v["agents"], 2);
    assert_eq!(v["errors"][0]["line"], 4);
    assert!(
        v["errors"][0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("not after")),
        "{v}"
    );

    let (status, body) = request(
        addr,
        "PUT",
        "/api/v1/schedule",
        &[AUTH],
        b"a9,tomorrow,later,work\n",
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let v: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(
        (v["applied"].clone(), v["rejected"].clone()),
        (Value::from(false), Value::from(1))
    );

    // a2 logs in; a1 does not. Six minutes later a1 is a no-show (grace 5 min).
    let login = ccpulse::model::Event {
        ts: T0,
        id: None,
        body: ccpulse::model::EventBody::AgentState(Box::new(ccpulse::model::AgentStateChange {
            agent: "a2".into(),
            state: ccpulse::model::AgentStatus::Available,
            reason: None,
            team: Some("Team A".into()),
            queues: Some(vec!["sales".into()]),
            name: None,
            explicit: true,
        })),
    };
    live.script.send(login).await.expect("send");
    for step in 1..=37 {
        clock.set(T0 + 2_000 + step * 10_000);
        wait_snapshot(live.daemon.published(), |s| {
            s.watermark_ms >= Some(T0 + step * 10_000)
        })
        .await;
    }
    let deadline = tokio::time::Instant::now() + GIVE_UP;
    let view = loop {
        let (status, _) = request(addr, "GET", "/api/v1/schedule", &[], b"").await;
        assert_eq!(status, 401, "reads need the token too");
        let (status, body) = request(addr, "GET", "/api/v1/schedule?token=s3cret", &[], b"").await;
        assert_eq!(status, 200, "{body}");
        let v: Value = serde_json::from_str(&body).expect("json");
        if v["watermark_ms"].as_i64() >= Some(T0 + 370_000) {
            break v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "view never caught up: {v}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(view["import"]["source"], "api");
    let agent = |id: &str| {
        view["agents"]
            .as_array()
            .and_then(|a| a.iter().find(|x| x["agent"] == id).cloned())
            .unwrap_or_default()
    };
    assert_eq!(agent("a1")["no_show_seconds"], 370.0);
    assert_eq!(agent("a1")["team"], "Team A");
    assert_eq!(agent("a2")["no_show_seconds"], Value::Null);
    assert_eq!(agent("a2")["adherence_today"], 1.0);
    assert_eq!(view["teams"][0]["scheduled"], 2);
    assert_eq!(
        view["teams"][0]["adherence_today"], 0.5,
        "a1 never logged in"
    );
    // The `adherence_min` targets (0.9) read that adherence at the next tick: a2 meets
    // it, the team (a1 a no-show) does not.
    let adherence_target = |k: &Value| {
        k["today"]["targets"]["results"]
            .as_array()
            .and_then(|r| r.iter().find(|x| x["target"] == "adherence_min").cloned())
            .unwrap_or_default()
    };
    clock.set(T0 + 2_000 + 380_000);
    let deadline = tokio::time::Instant::now() + GIVE_UP;
    let (a2, team) = loop {
        let (_, body) = request(addr, "GET", "/api/v1/snapshot?token=s3cret", &[], b"").await;
        let v: Value = serde_json::from_str(&body).expect("json");
        let a2 = adherence_target(&v["agents"][0]);
        let team = adherence_target(&v["teams"][0]);
        if a2["actual"].is_number() && team["actual"].is_number() {
            break (a2, team);
        }
        assert!(tokio::time::Instant::now() < deadline, "no adherence: {v}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(
        (&a2["goal"], &a2["actual"], &a2["met"]),
        (&0.9.into(), &1.0.into(), &true.into())
    );
    assert_eq!(
        (&team["actual"], &team["met"]),
        (&0.5.into(), &false.into())
    );
    // `?teams=` keeps those teams' rows and agents (a team's wallboard asks so).
    for (teams, agents) in [("Team%20A", 2), ("Team%20B", 0), ("Team%20B,Team%20A", 2)] {
        let path = format!("/api/v1/schedule?token=s3cret&teams={teams}");
        let (status, body) = request(addr, "GET", &path, &[], b"").await;
        assert_eq!(status, 200, "{body}");
        let v: Value = serde_json::from_str(&body).expect("json");
        assert_eq!(
            v["agents"].as_array().map(Vec::len),
            Some(agents),
            "{teams}: {v}"
        );
        assert_eq!(
            v["teams"].as_array().map(Vec::len),
            Some(agents.min(1)),
            "{teams}"
        );
        assert_eq!(v["import"], view["import"]);
    }
    assert_eq!(view["teams"][0]["logged_in"], 1);

    let (status, body) = request(addr, "GET", "/api/v1/alerts", &[AUTH], b"").await;
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&body).expect("json");
    let fired: Vec<&Value> = v["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter(|e| e["alertname"] == "AgentNoShow" && e["kind"] == "firing")
        .collect();
    assert_eq!(fired.len(), 1, "{v}");
    assert_eq!(fired[0]["scope"], "a1");
    assert_eq!(fired[0]["scope_labels"]["team"], "Team A");
    live.stop().await;
}

#[tokio::test(start_paused = true)]
async fn the_file_is_reloaded_when_it_changes_and_metrics_render_the_view() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("schedule.csv");
    std::fs::write(
        &path,
        "a1,2026-11-28T09:00:00Z,2026-11-28T17:00:00Z,work,A\n",
    )
    .expect("write");
    let mut cfg = Config::default();
    cfg.schedule.file = Some(path.clone());
    let svc = ScheduleService::new(&cfg, jiff::tz::TimeZone::UTC);
    let first = svc.poll_file().expect("loaded at the first poll");
    assert_eq!(first.accepted, 1);
    assert!(
        svc.poll_file().is_none(),
        "not polled again within poll_interval"
    );
    tokio::time::advance(std::time::Duration::from_secs(6)).await;
    assert!(svc.poll_file().is_none(), "unchanged file: no reload");
    std::fs::write(
        &path,
        "a1,2026-11-28T09:00:00Z,2026-11-28T17:00:00Z,work,A\n\
         a2,2026-11-28T09:00:00Z,2026-11-28T17:00:00Z,work,A,sales\nbad\n",
    )
    .expect("rewrite");
    tokio::time::advance(std::time::Duration::from_secs(6)).await;
    let second = svc.poll_file().expect("reloaded");
    assert_eq!((second.accepted, second.rejected), (2, 1));
    std::fs::remove_file(&path).expect("remove");
    tokio::time::advance(std::time::Duration::from_secs(6)).await;
    assert!(
        svc.poll_file().is_none(),
        "a missing file keeps the schedule"
    );

    let mut engine = ccpulse::engine::Engine::new(&cfg, Default::default()).expect("engine");
    engine.advance_to(T0 + 60_000);
    let snap = engine.snapshot();
    let view = svc.update(&snap, Default::default());
    assert_eq!(view.import.accepted, 2);
    let svc = Arc::new(svc);
    let hook = svc.clone();
    let opts = MetricsOptions {
        per_agent: true,
        ..MetricsOptions::default()
    }
    .with_schedule(Arc::new(move || hook.latest()));
    let out = metrics::render(Some(Arc::new(snap)), &[], &opts).expect("render");
    for line in [
        "ccpulse_scheduled_agents{team=\"A\"} 2\n",
        "ccpulse_agents_no_show{team=\"A\"} 0\n",
        // Scheduled since 09:00, never seen (logged out): both out of their plan.
        "ccpulse_agents_out_of_adherence{team=\"A\"} 2\n",
        "ccpulse_queue_scheduled_agents{queue=\"sales\"} 1\n",
        "ccpulse_agent_adherence_ratio{agent=\"a1\",team=\"A\"} 0.0\n",
    ] {
        assert!(out.contains(line), "{line} missing in\n{out}");
    }
}

/// An agent state event of the scripted source.
fn state(
    ts: i64,
    agent: &str,
    s: ccpulse::model::AgentStatus,
    reason: Option<&str>,
) -> ccpulse::model::Event {
    ccpulse::model::Event {
        ts,
        id: None,
        body: ccpulse::model::EventBody::AgentState(Box::new(ccpulse::model::AgentStateChange {
            agent: agent.into(),
            state: s,
            reason: reason.map(Into::into),
            team: Some("Team A".into()),
            queues: Some(vec!["sales".into()]),
            name: None,
            explicit: true,
        })),
    }
}

#[tokio::test]
async fn todays_report_carries_adherence_per_interval_and_lists_a_no_show() {
    const MIN: i64 = 60_000;
    let (live, clock) = start_manual(&fast_config(), T0).await;
    let addr = live.addr;
    // 09:00–11:00 work with a 10:00–10:15 break; a2 is scheduled and never logs in.
    let csv = "agent,start,end,activity,team
a1,2026-11-28T09:00:00Z,2026-11-28T11:00:00Z,work,Team A
a1,2026-11-28T10:00:00Z,2026-11-28T10:15:00Z,break,Team A
a2,2026-11-28T09:00:00Z,2026-11-28T11:00:00Z,work,Team A
";
    let (status, body) = request(addr, "PUT", "/api/v1/schedule", &[], csv.as_bytes()).await;
    assert_eq!(status, 200, "{body}");
    // a1 goes on break five minutes late and comes back five minutes late.
    use ccpulse::model::AgentStatus::{Aux, Available};
    for ev in [
        state(T0, "a1", Available, None),
        state(T0 + 65 * MIN, "a1", Aux, Some("break")),
        state(T0 + 80 * MIN, "a1", Available, None),
    ] {
        live.script.send(ev).await.expect("send");
    }
    let w = T0 + 105 * MIN; // 10:45: the 10:30–10:45 interval has just closed.
    clock.set(w + 2_000);
    wait_snapshot(live.daemon.published(), |s| s.watermark_ms >= Some(w)).await;
    let deadline = tokio::time::Instant::now() + GIVE_UP;
    loop {
        let (_, body) = request(addr, "GET", "/api/v1/schedule", &[], b"").await;
        let v: Value = serde_json::from_str(&body).expect("json");
        if v["watermark_ms"].as_i64() >= Some(w) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "view never caught up: {v}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let (status, body) = request(addr, "GET", "/api/v1/report?teams=Team%20A", &[], b"").await;
    assert_eq!(status, 200, "{body}");
    let report: Value = serde_json::from_str(&body).expect("json");
    let agent = |id: &str| {
        report["agents"]
            .as_array()
            .and_then(|a| a.iter().find(|x| x["agent"] == id).cloned())
            .unwrap_or_else(|| panic!("{id} in {report}"))
    };
    let column = |a: &Value, f: &str| -> Vec<f64> {
        a["intervals"]
            .as_array()
            .expect("rows")
            .iter()
            .map(|r| r[f].as_f64().expect("a number"))
            .collect()
    };
    // By hand: 09:00–10:00 on plan; 10:00–10:05 available in the break, 10:15–10:20
    // on break in work time; 10:30–10:45 on plan.
    let a1 = agent("a1");
    assert_eq!(
        column(&a1, "adherent_seconds"),
        [900.0, 900.0, 900.0, 900.0, 600.0, 600.0, 900.0]
    );
    assert_eq!(column(&a1, "scheduled_seconds"), [900.0; 7]);
    assert_eq!(a1["totals"]["adherent_seconds"], 5700.0);
    assert_eq!(a1["totals"]["scheduled_seconds"], 6300.0);
    assert_eq!(column(&a1, "logged_in_seconds"), [900.0; 7]);
    let a2 = agent("a2");
    assert_eq!(column(&a2, "adherent_seconds"), [0.0; 7]);
    assert_eq!(column(&a2, "scheduled_seconds"), [900.0; 7]);
    assert_eq!(a2["totals"]["adherence"], 0.0, "a no-show");
    assert_eq!(column(&a2, "logged_in_seconds"), [0.0; 7]);
    // The team's rows sum its two agents' (the no-show's scheduled time too).
    let team = report["teams"]
        .as_array()
        .and_then(|t| t.iter().find(|x| x["team"] == "Team A").cloned())
        .unwrap_or_else(|| panic!("Team A in {report}"));
    assert_eq!(
        column(&team, "adherent_seconds"),
        [900.0, 900.0, 900.0, 900.0, 600.0, 600.0, 900.0]
    );
    assert_eq!(column(&team, "scheduled_seconds"), [1800.0; 7]);
    assert_eq!(team["totals"]["adherence"], 5700.0 / 12600.0);
    let (_, csv) = request(addr, "GET", "/api/v1/report?output=csv", &[], b"").await;
    assert!(
        csv.lines()
            .next()
            .is_some_and(|h| h.ends_with(",scheduled_seconds,adherent_seconds,adherence")),
        "{csv}"
    );
    // The next morning: a1 (still available since 10:20) logs out at 00:30, so its
    // history of the 28th moves aside; yesterday's report keeps the day's adherence.
    let next = T0 + 15 * 60 * MIN + 30 * MIN;
    live.script
        .send(state(
            next,
            "a1",
            ccpulse::model::AgentStatus::LoggedOut,
            None,
        ))
        .await
        .expect("send");
    clock.set(next + 60 * MIN);
    wait_snapshot(live.daemon.published(), |s| s.watermark_ms >= Some(next)).await;
    let deadline = tokio::time::Instant::now() + GIVE_UP;
    let yesterday = loop {
        let (status, body) = request(addr, "GET", "/api/v1/report?date=yesterday", &[], b"").await;
        assert_eq!(status, 200, "{body}");
        let v: Value = serde_json::from_str(&body).expect("json");
        if v["agents"].as_array().is_some_and(|a| {
            a.iter()
                .any(|x| x["agent"] == "a1" && x["totals"]["adherent_seconds"] == 6600.0)
        }) {
            break v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "yesterday's adherence never came: {v}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(yesterday["to"], "2026-11-29T00:00:00Z");
    let totals = |kind: &str, key: &str, id: &str| {
        yesterday[kind]
            .as_array()
            .and_then(|a| a.iter().find(|x| x[key] == id))
            .map(|x| x["totals"].clone())
            .unwrap_or_else(|| panic!("{id} in {yesterday}"))
    };
    // 09:00–11:00 planned: a1 on plan but for the ten minutes above; a2 never came.
    let a1 = totals("agents", "agent", "a1");
    assert_eq!(a1["scheduled_seconds"], 7200.0);
    assert_eq!(a1["adherent_seconds"], 6600.0);
    let a2 = totals("agents", "agent", "a2");
    assert_eq!(a2["scheduled_seconds"], 7200.0);
    assert_eq!(a2["adherent_seconds"], 0.0);
    let team = totals("teams", "team", "Team A");
    assert_eq!(team["adherence"], 6600.0 / 14400.0);
    // The weekly report (Monday 23 to Sunday 29 November): one row per day, the 28th's
    // with that day's adherence, the week's totals the days' sums.
    let (status, body) = request(addr, "GET", "/api/v1/report?week=this", &[], b"").await;
    assert_eq!(status, 200, "{body}");
    let week: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(week["interval_seconds"], 86_400);
    assert_eq!(week["from"], "2026-11-23T00:00:00Z");
    let a1 = week["agents"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["agent"] == "a1").cloned())
        .unwrap_or_else(|| panic!("a1 in {week}"));
    let rows = a1["intervals"].as_array().expect("rows");
    let sat = rows
        .iter()
        .find(|r| r["start"] == "2026-11-28T00:00:00Z")
        .unwrap_or_else(|| panic!("the 28th in {a1}"));
    assert_eq!(sat["scheduled_seconds"], 7200.0);
    assert_eq!(sat["adherent_seconds"], 6600.0);
    for f in ["scheduled_seconds", "adherent_seconds", "logged_in_seconds"] {
        let sum: f64 = rows.iter().map(|r| r[f].as_f64().expect("a number")).sum();
        assert_eq!(a1["totals"][f].as_f64(), Some(sum), "a1's week {f}");
    }
    let a2 = week["agents"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["agent"] == "a2").cloned())
        .unwrap_or_else(|| panic!("a2, a no-show, in {week}"));
    assert_eq!(a2["totals"]["adherent_seconds"], 0.0);
    assert_eq!(a2["totals"]["scheduled_seconds"], 7200.0);
    // Last week is kept (empty: the daemon started this week); older weeks are not.
    for (query, status) in [
        ("week=last", 200),
        ("week=2026-11-02", 404),
        ("week=soon", 400),
        ("week=this&date=today", 400),
    ] {
        let (got, body) = request(addr, "GET", &format!("/api/v1/report?{query}"), &[], b"").await;
        assert_eq!(got, status, "{query}: {body}");
    }
    live.stop().await;
}

/// A queue_log-like source names no team: the schedule's team places its agents (the
/// config's wins where both do), so the team has live KPIs; a changed schedule moves an
/// agent at the next tick.
#[tokio::test]
async fn the_schedules_teams_place_agents_whose_events_name_none() {
    let mut cfg = fast_config();
    cfg.teams.entry("Blue".into()).or_default().agents = vec!["a3".into()];
    let (live, clock) = start_manual(&cfg, T0).await;
    let addr = live.addr;
    let csv = "agent,start,end,activity,team
a1,2026-11-28T09:00:00Z,2026-11-28T17:00:00Z,work,Floor 2
a2,2026-11-28T09:00:00Z,2026-11-28T17:00:00Z,work,Floor 2
a3,2026-11-28T09:00:00Z,2026-11-28T17:00:00Z,work,Floor 2
";
    let (status, body) = request(addr, "PUT", "/api/v1/schedule", &[], csv.as_bytes()).await;
    assert_eq!(status, 200, "{body}");
    // The engine takes the schedule's teams at its next tick: wait for two.
    let mut ticks = live.daemon.published().subscribe();
    ticks.borrow_and_update();
    for _ in 0..2 {
        tokio::time::timeout(GIVE_UP, ticks.changed())
            .await
            .expect("a tick")
            .expect("the engine runs");
    }
    for a in ["a1", "a2", "a3"] {
        let mut e = state(T0 + 1_000, a, ccpulse::model::AgentStatus::Available, None);
        if let ccpulse::model::EventBody::AgentState(ch) = &mut e.body {
            ch.team = None;
        }
        live.script.send(e).await.expect("send");
    }
    clock.set(T0 + 63_000);
    let snap = wait_snapshot(live.daemon.published(), |s| {
        s.watermark_ms >= Some(T0 + 61_000)
    })
    .await;
    let team_of = |s: &ccpulse::engine::Snapshot, a: &str| {
        s.agents
            .iter()
            .find(|x| x.agent == a)
            .and_then(|x| x.team.clone())
    };
    assert_eq!(team_of(&snap, "a1").as_deref(), Some("Floor 2"));
    assert_eq!(team_of(&snap, "a2").as_deref(), Some("Floor 2"));
    assert_eq!(
        team_of(&snap, "a3").as_deref(),
        Some("Blue"),
        "the config wins"
    );
    let wm = snap.watermark_ms.expect("watermark");
    let floor = snap
        .teams
        .iter()
        .find(|t| t.team == "Floor 2")
        .expect("a team from the schedule alone");
    assert_eq!(floor.agents.get("available"), Some(&2));
    let secs = 2.0 * (wm - T0 - 1_000) as f64 / 1000.0;
    assert!(
        (floor.state_seconds_total["available"] - secs).abs() < 1e-9,
        "{:?} vs {secs}",
        floor.state_seconds_total
    );

    // a2 moves to Floor 3 in a new schedule.
    let csv = csv.replacen(
        "a2,2026-11-28T09:00:00Z,2026-11-28T17:00:00Z,work,Floor 2",
        "a2,2026-11-28T09:00:00Z,2026-11-28T17:00:00Z,work,Floor 3",
        1,
    );
    let (status, body) = request(addr, "PUT", "/api/v1/schedule", &[], csv.as_bytes()).await;
    assert_eq!(status, 200, "{body}");
    clock.set(T0 + 71_000);
    let snap = wait_snapshot(live.daemon.published(), |s| {
        s.watermark_ms >= Some(T0 + 69_000)
    })
    .await;
    assert_eq!(team_of(&snap, "a2").as_deref(), Some("Floor 3"));
    let agents = |t: &str| {
        snap.teams
            .iter()
            .find(|x| x.team == t)
            .and_then(|x| x.agents.get("available").copied())
    };
    assert_eq!((agents("Floor 2"), agents("Floor 3")), (Some(1), Some(1)));
    live.stop().await;
}
