//! The notifiers against a real local HTTP receiver (an axum server in the test):
//! webhook, Slack and Teams receive firing then resolved messages, grouped; a dead
//! receiver (connection refused) and a failing one (HTTP 500) are retried and counted
//! without delaying the others; pending messages are flushed at shutdown.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use ccpulse::alerts::notify::{self, Context, NotifyStats};
use ccpulse::alerts::{default_rules, AlertEvent, AlertKind};
use ccpulse::config::{Duration as CfgDuration, ReceiverConfig, ReceiverKind};
use ccpulse::outputs::metrics::{render, MetricsOptions};
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

const T0: i64 = 1_795_856_400_000;
const DEADLINE: Duration = Duration::from_secs(20);

#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<(String, Value, Instant)>>>);

impl Received {
    fn of(&self, path: &str) -> Vec<Value> {
        self.0
            .lock()
            .expect("lock")
            .iter()
            .filter(|(p, _, _)| p == path)
            .map(|(_, v, _)| v.clone())
            .collect()
    }
    fn first_at(&self, path: &str) -> Option<Instant> {
        self.0
            .lock()
            .expect("lock")
            .iter()
            .find(|(p, _, _)| p == path)
            .map(|(_, _, t)| *t)
    }
    async fn wait(&self, path: &str, n: usize) -> Vec<Value> {
        let start = Instant::now();
        loop {
            let got = self.of(path);
            if got.len() >= n {
                return got;
            }
            assert!(
                start.elapsed() < DEADLINE,
                "{path}: {} of {n} messages",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn hook(State(rec): State<Received>, Path(name): Path<String>, body: String) -> StatusCode {
    let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    rec.0
        .lock()
        .expect("lock")
        .push((name.clone(), v, Instant::now()));
    if name == "fail" {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    }
}

/// The receiver server; it stops with the test's runtime.
async fn server() -> (SocketAddr, Received) {
    let rec = Received::default();
    let app = Router::new()
        .route("/hook/{name}", post(hook))
        .with_state(rec.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, rec)
}

fn receiver(name: &str, kind: ReceiverKind, url: String) -> ReceiverConfig {
    let mut rc = ReceiverConfig::new(name, kind, url);
    rc.group_wait = CfgDuration(100);
    rc.group_interval = CfgDuration(100);
    rc.backoff_min = CfgDuration(50);
    rc.backoff_max = CfgDuration(200);
    rc.timeout = CfgDuration(2000);
    rc
}

fn event(kind: AlertKind, queue: &str, value: f64) -> AlertEvent {
    AlertEvent {
        kind,
        alertname: "ContactsWaitingHigh".into(),
        severity: "warning",
        scope_label: "queue",
        scope: queue.into(),
        scope_labels: Default::default(),
        value,
        summary: format!("{value} contacts waiting in {queue}"),
        starts_at_ms: T0,
        ends_at_ms: (kind == AlertKind::Resolved).then_some(T0 + 60_000),
        fingerprint: format!("fp-{queue}"),
        threshold_scale: 1.0,
    }
}

fn ctx() -> Context {
    Context {
        external_url: "http://127.0.0.1:8080".into(),
        time_zone: jiff::tz::TimeZone::get("Europe/Berlin").expect("zone"),
        link_tickets: None,
    }
}

fn count(stats: &NotifyStats, name: &str, result: &str) -> u64 {
    stats
        .totals()
        .into_iter()
        .find(|(n, r, _)| n == name && *r == result)
        .map_or(0, |t| t.2)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_slack_and_teams_get_grouped_firing_then_resolved() {
    let (addr, rec) = server().await;
    let url = |n: &str| format!("http://{addr}/hook/{n}");
    let receivers = [
        receiver("webhook", ReceiverKind::Webhook, url("webhook")),
        receiver("slack", ReceiverKind::Slack, url("slack")),
        receiver("teams", ReceiverKind::Teams, url("teams")),
    ];
    let (dispatcher, stats, tasks) =
        notify::start(&receivers, &default_rules(), ctx()).expect("start");
    // Two alerts of one alertname, in one evaluation: one group, one message each.
    dispatcher.dispatch(&[
        event(AlertKind::Firing, "sales", 12.0),
        event(AlertKind::Firing, "support", 14.0),
    ]);
    let hooks = rec.wait("webhook", 1).await;
    let slack = rec.wait("slack", 1).await;
    let teams = rec.wait("teams", 1).await;
    let m = &hooks[0];
    assert_eq!(m["version"], "4");
    assert_eq!(m["status"], "firing");
    assert_eq!(m["receiver"], "webhook");
    assert_eq!(m["groupLabels"]["alertname"], "ContactsWaitingHigh");
    assert_eq!(m["commonLabels"]["severity"], "warning");
    let alerts = m["alerts"].as_array().expect("alerts");
    assert_eq!(alerts.len(), 2, "grouped: {m}");
    let queues: Vec<&str> = alerts
        .iter()
        .filter_map(|a| a["labels"]["queue"].as_str())
        .collect();
    assert_eq!(queues, ["sales", "support"]);
    assert!(alerts.iter().all(|a| a["endsAt"] == "0001-01-01T00:00:00Z"));
    assert!(slack[0]["text"]
        .as_str()
        .is_some_and(|t| t.starts_with("[FIRING:2] ContactsWaitingHigh")));
    assert_eq!(slack[0]["blocks"].as_array().map(Vec::len), Some(4));
    assert_eq!(
        teams[0]["attachments"][0]["content"]["type"],
        "AdaptiveCard"
    );

    // Both resolve: one resolved message each.
    dispatcher.dispatch(&[
        event(AlertKind::Resolved, "sales", 2.0),
        event(AlertKind::Resolved, "support", 3.0),
    ]);
    let hooks = rec.wait("webhook", 2).await;
    let slack = rec.wait("slack", 2).await;
    let teams = rec.wait("teams", 2).await;
    let m = &hooks[1];
    assert_eq!(m["status"], "resolved");
    assert_eq!(m["alerts"].as_array().map(Vec::len), Some(2));
    assert!(m["alerts"]
        .as_array()
        .expect("alerts")
        .iter()
        .all(|a| a["status"] == "resolved" && a["endsAt"] == "2026-11-28T09:01:00Z"));
    assert!(slack[1]["text"]
        .as_str()
        .is_some_and(|t| t.starts_with("[RESOLVED] ContactsWaitingHigh")));
    assert_eq!(
        teams[1]["attachments"][0]["content"]["body"][0]["color"],
        "Good"
    );
    drop(dispatcher);
    tasks.join(Duration::from_secs(5)).await;
    for r in ["webhook", "slack", "teams"] {
        assert_eq!(count(&stats, r, "success"), 2, "{r}");
        assert_eq!(count(&stats, r, "failure") + count(&stats, r, "retry"), 0);
        assert_eq!(rec.of(r).len(), 2, "no further message for {r}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_receivers_are_retried_counted_and_delay_nobody() {
    let (addr, rec) = server().await;
    // A port nobody listens on: connection refused.
    let dead_addr = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port");
    let mut dead = receiver(
        "dead",
        ReceiverKind::Webhook,
        format!("http://{dead_addr}/hook/dead"),
    );
    dead.retries = 3;
    let mut failing = receiver(
        "failing",
        ReceiverKind::Slack,
        format!("http://{addr}/hook/fail"),
    );
    failing.retries = 2;
    let good = receiver(
        "good",
        ReceiverKind::Webhook,
        format!("http://{addr}/hook/good"),
    );
    let (dispatcher, stats, tasks) =
        notify::start(&[dead, failing, good], &default_rules(), ctx()).expect("start");
    let sent = Instant::now();
    dispatcher.dispatch(&[event(AlertKind::Firing, "sales", 12.0)]);
    rec.wait("good", 1).await;
    let good_after = rec.first_at("good").expect("good") - sent;
    assert!(
        good_after < Duration::from_secs(2),
        "the good receiver waited {good_after:?}"
    );
    // The failing ones go on retrying: 1 + retries attempts each, then give up.
    let start = Instant::now();
    while count(&stats, "dead", "failure") + count(&stats, "failing", "failure") < 2 {
        assert!(start.elapsed() < DEADLINE, "{:?}", stats.totals());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(count(&stats, "dead", "retry"), 3);
    assert_eq!(count(&stats, "dead", "failure"), 1);
    assert_eq!(count(&stats, "dead", "success"), 0);
    assert_eq!(count(&stats, "failing", "retry"), 2);
    assert_eq!(count(&stats, "failing", "failure"), 1);
    assert_eq!(rec.of("fail").len(), 3, "every attempt reached the server");
    assert_eq!(count(&stats, "good", "success"), 1);
    // The same counts in /metrics.
    let totals = stats.clone();
    let opts = MetricsOptions::default().with_notifications(Arc::new(move || totals.totals()));
    let text = render(None, &[], &opts).expect("render");
    for line in [
        r#"ccpulse_notifications_total{notifier="dead",result="retry"} 3"#,
        r#"ccpulse_notifications_total{notifier="dead",result="failure"} 1"#,
        r#"ccpulse_notifications_total{notifier="failing",result="retry"} 2"#,
        r#"ccpulse_notifications_total{notifier="good",result="success"} 1"#,
        r#"ccpulse_notifications_total{notifier="good",result="dropped"} 0"#,
    ] {
        assert!(text.contains(line), "{line} in:\n{text}");
    }
    drop(dispatcher);
    tasks.join(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_messages_are_flushed_at_shutdown() {
    let (addr, rec) = server().await;
    let mut slow = receiver(
        "slow",
        ReceiverKind::Webhook,
        format!("http://{addr}/hook/slow"),
    );
    slow.group_wait = CfgDuration::mins(10);
    let (dispatcher, stats, tasks) =
        notify::start(&[slow], &default_rules(), ctx()).expect("start");
    dispatcher.dispatch(&[event(AlertKind::Firing, "sales", 12.0)]);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(rec.of("slow").is_empty(), "still in group_wait");
    let t = Instant::now();
    drop(dispatcher);
    tasks.join(Duration::from_secs(5)).await;
    assert!(t.elapsed() < Duration::from_secs(5));
    assert_eq!(rec.of("slow").len(), 1, "flushed on shutdown");
    assert_eq!(count(&stats, "slow", "success"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_gives_up_on_a_dead_receiver_within_the_grace() {
    let dead_addr = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port");
    let mut dead = receiver("dead", ReceiverKind::Teams, format!("http://{dead_addr}/"));
    dead.group_wait = CfgDuration::mins(10);
    dead.retries = 20;
    dead.backoff_min = CfgDuration::secs(5);
    dead.backoff_max = CfgDuration::secs(30);
    let (dispatcher, _stats, tasks) =
        notify::start(&[dead], &default_rules(), ctx()).expect("start");
    dispatcher.dispatch(&[event(AlertKind::Firing, "sales", 12.0)]);
    let t = Instant::now();
    drop(dispatcher);
    tasks.join(Duration::from_millis(500)).await;
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "bounded: {:?}",
        t.elapsed()
    );
}
