//! `/metrics` rendered from a snapshot of a known event list: exact values of the
//! exposed series, per-agent series only when asked, and the HTTP route.

#[path = "common/metrics_script.rs"]
mod script;

use ccpulse::config::Config;
use ccpulse::engine::{Engine, Snapshot};
use ccpulse::kpi::SlPreset;
use ccpulse::outputs::{http, metrics};
use ccpulse::runtime::{DaemonBuilder, ManualClock, RuntimeOptions};
use metrics::MetricsOptions;
use script::{sample, C4_QUEUED, END, EXPECTED, T0};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

fn snapshot() -> Snapshot {
    snapshot_with(&Config::default())
}

fn snapshot_with(cfg: &Config) -> Snapshot {
    let cfg = cfg.clone();
    let mut engine = Engine::new(&cfg, RuntimeOptions::from_config(&cfg).engine).expect("engine");
    engine.advance_to(T0);
    for e in script::events() {
        engine.push(e).expect("in order");
    }
    engine.advance_to(END);
    engine.snapshot()
}

fn render(snap: &Arc<Snapshot>, per_agent: bool) -> String {
    let opts = MetricsOptions {
        per_agent,
        feed_clients: None,
        alerts_firing: None,
        schedule: None,
        notifications: None,
    };
    metrics::render(Some(snap.clone()), &[], &opts).expect("render")
}

#[test]
fn exact_values_for_a_scripted_day() {
    let snap = Arc::new(snapshot());
    let wm = snap.watermark_ms.expect("watermark");
    assert_eq!(wm, END - 2_000, "default allowed lateness");
    let text = render(&snap, false);
    for (series, want) in EXPECTED {
        let got = sample(&text, &format!("ccpulse_{series}"));
        assert_eq!(got, Some(*want), "{series}\n{text}");
    }
    let secs = |ms: i64| ms as f64 / 1000.0;
    assert_eq!(
        sample(
            &text,
            r#"ccpulse_oldest_contact_wait_seconds{queue="sales"}"#
        ),
        Some(secs(wm - C4_QUEUED))
    );
    // a2 is in aux from T0 to the watermark, open state included.
    assert_eq!(
        sample(
            &text,
            r#"ccpulse_agent_state_seconds_total{team="blue",state="aux"}"#
        ),
        Some(secs(wm - T0))
    );
    // Two agents, each in some state the whole time.
    let all: f64 = text
        .lines()
        .filter(|l| l.starts_with("ccpulse_agent_state_seconds_total{team=\"blue\""))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert!((all - 2.0 * secs(wm - T0)).abs() < 1e-9, "{all}");
    // The 5 minute window saw one met and two missed outcomes (cisco type 2: 1/3).
    let sl = sample(
        &text,
        r#"ccpulse_service_level_ratio{queue="sales",window="5m"}"#,
    )
    .expect("5m service level");
    assert!((sl - 1.0 / 3.0).abs() < 1e-9, "{sl}");
    // No source: no per-source series (the late count is per source).
    assert!(!text.contains("ccpulse_events_late_total{"), "{text}");
    // Staffing: the gauges carry exactly what the snapshot computed.
    let st = snap
        .queues
        .iter()
        .find(|q| q.queue == "sales")
        .and_then(|q| q.staffing.clone())
        .expect("staffing");
    assert_eq!(
        sample(&text, r#"ccpulse_required_agents{queue="sales"}"#),
        Some(f64::from(st.required_agents))
    );
    assert_eq!(
        sample(&text, r#"ccpulse_staffing_gap{queue="sales"}"#),
        Some(st.staffing_gap as f64)
    );
    assert!(!text.contains("ccpulse_agent_state{"), "per-agent is off");
    assert!(!text.contains("ccpulse_agent_handled_total"));
}

/// The sum of a family's samples whose labels start with `labels` (`{queue="sales"`).
fn sum_of(text: &str, family: &str, labels: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(&format!("ccpulse_{family}{labels}")))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// `service_level_numerator/denominator_total` are each queue's service level under its
/// own preset: with cisco_type2 (the default) the outcome counters' met / all, with
/// answered_only answered within T / answered, and over the scripted day their ratio is
/// the API's `today.service_level` under that preset.
#[test]
fn service_level_numerator_and_denominator_follow_each_queues_preset() {
    let q = r#"{queue="sales""#;
    let text = render(&Arc::new(snapshot()), false);
    let (num, den) = (
        sum_of(&text, "service_level_numerator_total", q),
        sum_of(&text, "service_level_denominator_total", q),
    );
    let met = sum_of(&text, "service_level_outcomes_total", q);
    assert!(den > 0.0 && den == met, "offered: {den} vs {met}\n{text}");
    let met_only: f64 = text
        .lines()
        .filter(|l| {
            l.starts_with("ccpulse_service_level_outcomes_total{queue=\"sales\"")
                && l.contains("outcome=\"met\"")
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert_eq!(num, met_only);

    let mut cfg = Config::default();
    cfg.queues.entry("sales".into()).or_default().sl_preset = Some(SlPreset::AnsweredOnly);
    let snap = Arc::new(snapshot_with(&cfg));
    let text = render(&snap, false);
    let (num, den) = (
        sum_of(&text, "service_level_numerator_total", q),
        sum_of(&text, "service_level_denominator_total", q),
    );
    assert_eq!(num, sum_of(&text, "contacts_answered_within_sl_total", q));
    assert_eq!(den, sum_of(&text, "contacts_answered_total", q));
    let sales = snap
        .queues
        .iter()
        .find(|x| x.queue == "sales")
        .expect("sales");
    assert_eq!(sales.sl_preset, SlPreset::AnsweredOnly);
    let api = sales.today.service_level.expect("an answered contact");
    assert!(
        den > 0.0 && (num / den - api).abs() < 1e-12,
        "{num}/{den} vs {api}"
    );
    assert!(den != met, "another denominator than cisco_type2's ({den})");
}

#[test]
fn per_agent_series_when_asked() {
    let snap = Arc::new(snapshot());
    let text = render(&snap, true);
    assert_eq!(
        sample(
            &text,
            r#"ccpulse_agent_state{agent="a2",team="blue",state="aux"}"#
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(&text, r#"ccpulse_agent_handled_total{agent="a1"}"#),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &text,
            r#"ccpulse_agent_time_in_state_seconds_total{agent="a2",state="aux"}"#
        ),
        Some((END - 2_000 - T0) as f64 / 1000.0)
    );
}

/// Team "blue" aims at aux ≤ 20 % (a2 spends the day in aux: missed) and AHT ≤ 10 min
/// (met); adherence has no schedule here, so it is not measured and has no series.
#[test]
fn target_attainment_series_follow_the_snapshot() {
    let mut cfg = Config::default();
    cfg.teams.entry("blue".into()).or_default().targets = ccpulse::config::Targets {
        max_aux_share: Some(0.2),
        aht: Some(ccpulse::config::Duration::mins(10)),
        adherence_min: Some(0.9),
        ..Default::default()
    };
    let snap = Arc::new(snapshot_with(&cfg));
    let text = render(&snap, true);
    let team = snap.teams.iter().find(|t| t.team == "blue").expect("team");
    let att = team.today.targets.as_ref().expect("attainment");
    let met = |target: &str| {
        let series = format!(r#"ccpulse_team_target_met{{team="blue",target="{target}"}}"#);
        sample(&text, &series)
    };
    assert_eq!(met("aht"), Some(1.0), "{text}");
    assert_eq!(met("max_aux_share"), Some(0.0));
    assert_eq!(
        met("adherence_min"),
        None,
        "not measurable without a schedule"
    );
    for r in &att.results {
        assert_eq!(
            met(r.target),
            r.met.map(|m| f64::from(u8::from(m))),
            "{}",
            r.target
        );
    }
    assert_eq!(
        sample(&text, r#"ccpulse_team_targets_met_ratio{team="blue"}"#),
        Some(0.5)
    );
    for a in &snap.agents {
        let series = format!(
            r#"ccpulse_agent_targets_met_ratio{{agent="{}",team="blue"}}"#,
            a.agent
        );
        let share = a.today.targets.as_ref().and_then(|t| t.share_met);
        assert_eq!(sample(&text, &series), share, "{}", a.agent);
    }
    assert!(
        !render(&snap, false).contains("ccpulse_agent_targets_met_ratio{"),
        "per-agent series only when asked"
    );
}

#[test]
fn no_stale_series_a_new_snapshot_without_a_queue_drops_it() {
    let text = render(&Arc::new(snapshot()), true);
    assert!(text.contains(r#"queue="sales""#));
    let empty = Arc::new(
        Engine::new(&Config::default(), Default::default())
            .expect("engine")
            .snapshot(),
    );
    let text = render(&empty, true);
    assert!(!text.contains(r#"queue="sales""#), "{text}");
    assert!(!text.contains(r#"agent="a1""#), "{text}");
}

/// `GET path` over HTTP/1.0: (head, body).
async fn get(addr: std::net::SocketAddr, path: &str) -> (String, String) {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    let req = format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n");
    s.write_all(req.as_bytes()).await.expect("write");
    let mut raw = String::new();
    s.read_to_string(&mut raw).await.expect("read");
    let (head, body) = raw.split_once("\r\n\r\n").expect("head and body");
    (head.to_string(), body.to_string())
}

#[tokio::test]
async fn served_by_the_daemon_with_the_text_content_type() {
    let mut cfg = Config::default();
    cfg.daemon.tick = ccpulse::config::Duration(100);
    cfg.metrics.per_agent = true;
    let clock = Arc::new(ManualClock::new(T0));
    let mut builder = DaemonBuilder::new(&cfg, RuntimeOptions::from_config(&cfg)).expect("daemon");
    let feed = builder.handle("script").expect("handle");
    let daemon = builder.start(clock.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let router = http::router_with(
        daemon.published().clone(),
        MetricsOptions::from_config(&cfg).with_feed_clients(Arc::new(|| 2)),
    );
    let mut stop = daemon.shutdown_signal();
    let server = tokio::spawn(http::serve_router(listener, router, async move {
        stop.wait().await
    }));
    feed.set_up(true);
    for e in script::events() {
        feed.send(e).await.expect("sent");
    }
    clock.set(END);
    let mut seq = daemon.published().subscribe();
    tokio::time::timeout(Duration::from_secs(60), async {
        while daemon.published().latest().and_then(|s| s.watermark_ms) != Some(END - 2_000) {
            seq.changed().await.expect("engine alive");
        }
    })
    .await
    .expect("snapshot at the end of the script");

    let (head, body) = get(addr, "/metrics").await;
    assert!(head.starts_with("HTTP/1.0 200"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: text/plain; version=0.0.4; charset=utf-8"),
        "{head}"
    );
    for (series, want) in EXPECTED {
        assert_eq!(
            sample(&body, &format!("ccpulse_{series}")),
            Some(*want),
            "{series}"
        );
    }
    let n = script::events().len() as f64;
    assert_eq!(
        sample(&body, r#"ccpulse_events_ingested_total{source="script"}"#),
        Some(n)
    );
    assert_eq!(
        sample(
            &body,
            r#"ccpulse_events_rejected_total{source="script",reason="refused"}"#
        ),
        Some(0.0)
    );
    assert_eq!(
        sample(&body, r#"ccpulse_source_up{source="script"}"#),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &body,
            r#"ccpulse_source_last_event_timestamp_seconds{source="script"}"#
        ),
        Some((T0 + 71_000) as f64 / 1000.0)
    );
    assert_eq!(sample(&body, "ccpulse_feed_clients"), Some(2.0));
    assert!(body.contains(r#"ccpulse_agent_state{agent="a1",team="blue""#));
    assert_eq!(
        sample(&body, r#"ccpulse_events_late_total{source="script"}"#),
        Some(0.0)
    );

    // One event far behind the watermark (late) and one sent twice (a duplicate): both
    // refused, and the late one counted as late, for the source that sent it.
    let first = script::events().into_iter().next().expect("an event");
    let late = ccpulse::model::Event {
        ts: T0,
        id: Some("late-1".into()),
        ..first.clone()
    };
    let twice = ccpulse::model::Event {
        ts: END - 1_000,
        id: Some("twice-1".into()),
        ..first
    };
    for ev in [late, twice.clone(), twice] {
        feed.send(ev).await.expect("sent");
    }
    let refused = r#"ccpulse_events_rejected_total{source="script",reason="refused"}"#;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let body = loop {
        let (_, body) = get(addr, "/metrics").await;
        if sample(&body, refused) == Some(2.0) {
            break body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never refused: {body}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(
        sample(&body, r#"ccpulse_events_late_total{source="script"}"#),
        Some(1.0),
        "the late one; the duplicate is not late"
    );

    daemon.shutdown().await.expect("clean shutdown");
    server.await.expect("server task").expect("server");
}
