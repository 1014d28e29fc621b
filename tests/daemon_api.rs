//! The live daemon in-process: runtime + HTTP server on 127.0.0.1:0, driven by a manual
//! clock and scripted events, or by the simulator on an accelerated clock.

use ccpulse::config::Config;
use ccpulse::engine::{Engine, Snapshot};
use ccpulse::model::{Channel, Event, EventBody, Millis};
use ccpulse::outputs::http;
use ccpulse::runtime::{
    Clock, Daemon, DaemonBuilder, ManualClock, Published, RuntimeOptions, SystemClock,
};
use ccpulse::sim::{SimConfig, Simulator, DEFAULT_START};
use ccpulse::sources::simulator::SimulatorSource;
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// Every wait in these tests is for a condition; this only bounds a broken run.
const GIVE_UP: Duration = Duration::from_secs(60);

/// `GET path` with HTTP/1.1 and `Connection: close`: (status, body).
async fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.expect("write request");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.expect("read response");
    let text = String::from_utf8(raw).expect("utf-8 response");
    let (head, body) = text.split_once("\r\n\r\n").expect("header/body separator");
    assert!(
        !head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "the helper does not decode chunked bodies: {head}"
    );
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("status code");
    (status, body.to_string())
}

async fn get_json(addr: SocketAddr, path: &str) -> Value {
    let (status, body) = get(addr, path).await;
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).expect("JSON body")
}

/// Starts the HTTP server on an ephemeral port, stopping with the daemon.
async fn serve(daemon: &Daemon) -> (SocketAddr, JoinHandle<std::io::Result<()>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let mut stop = daemon.shutdown_signal();
    let server = tokio::spawn(http::serve(
        listener,
        daemon.published().clone(),
        async move { stop.wait().await },
    ));
    (addr, server)
}

/// Waits until a published snapshot satisfies `pred`.
async fn wait_snapshot(p: &Published, pred: impl Fn(&Snapshot) -> bool) -> Arc<Snapshot> {
    let mut seq = p.subscribe();
    let found = tokio::time::timeout(GIVE_UP, async {
        loop {
            if let Some(s) = p.latest().filter(|s| pred(s)) {
                return s;
            }
            seq.changed().await.expect("engine task alive");
        }
    })
    .await;
    found.expect("snapshot condition within the time limit")
}

fn fast_config() -> Config {
    let mut cfg = Config::default();
    cfg.daemon.tick = ccpulse::config::Duration(100);
    cfg
}

fn queued(ts: Millis, contact: &str, queue: &str) -> Event {
    Event {
        ts,
        id: None,
        body: EventBody::ContactQueued {
            contact: contact.into(),
            queue: queue.into(),
            channel: Channel::Voice,
        },
    }
}

#[tokio::test]
async fn health_readiness_and_today_counters_match_the_engine() {
    let cfg = fast_config();
    let opts = RuntimeOptions::from_config(&cfg);
    let mut sim = SimConfig::demo(7);
    sim.duration_ms = 2 * 3_600_000;
    let events: Vec<Event> = Simulator::new(&sim).expect("demo simulator").collect();
    assert!(events.len() > 500, "{} events", events.len());
    let start = sim.start;
    let end = events.last().map_or(start, |e| e.ts) + 600_000;

    let clock = Arc::new(ManualClock::new(start));
    let mut builder = DaemonBuilder::new(&cfg, opts).expect("daemon");
    let script = builder.handle("script").expect("handle");
    let daemon = builder.start(clock.clone());
    let (addr, server) = serve(&daemon).await;

    let (status, body) = get(addr, "/healthz").await;
    assert_eq!(status, 200, "{body}");
    wait_snapshot(daemon.published(), |_| true).await;
    let (status, body) = get(addr, "/readyz").await;
    assert_eq!(status, 503, "a source is not up yet: {body}");
    script.set_up(true);
    let (status, body) = get(addr, "/readyz").await;
    assert_eq!(status, 200, "{body}");

    for ev in events.iter().cloned() {
        script.send(ev).await.expect("engine alive");
    }
    // Every event was sent before the clock moves: none can be late.
    clock.set(end);
    let watermark = end - cfg.engine.allowed_lateness.ms();
    wait_snapshot(daemon.published(), |s| s.watermark_ms == Some(watermark)).await;

    let mut direct = Engine::new(&cfg, opts.engine).expect("engine");
    direct.advance_to(start);
    for ev in events.iter().cloned() {
        direct.push(ev).expect("in order");
    }
    direct.advance_to(end);
    // Through text like the HTTP body, so floats parse the same way on both sides.
    let text = serde_json::to_string(&direct.snapshot()).expect("serialize");
    let expected: Value = serde_json::from_str(&text).expect("parse");

    let got = get_json(addr, "/api/v1/snapshot").await;
    assert_eq!(got["watermark_ms"], Value::from(watermark));
    assert_eq!(got["engine"]["applied"], Value::from(events.len() as u64));
    assert_eq!(got["engine"]["late"], Value::from(0));
    let queues = got["queues"].as_array().expect("queues");
    assert_eq!(queues.len(), 4, "sales, support, chat, email");
    for (q, e) in queues
        .iter()
        .zip(expected["queues"].as_array().expect("queues"))
    {
        assert_eq!(q["queue"], e["queue"]);
        assert_eq!(q["today"], e["today"], "queue {}", q["queue"]);
        assert_eq!(q["waiting"], e["waiting"]);
    }
    assert!(queues
        .iter()
        .any(|q| q["today"]["arrived"].as_u64() > Some(0)));
    let agents = got["agents"].as_array().expect("agents");
    assert_eq!(
        agents.len(),
        expected["agents"].as_array().map_or(0, Vec::len)
    );
    assert!(!agents.is_empty());
    for (a, e) in agents
        .iter()
        .zip(expected["agents"].as_array().expect("agents"))
    {
        assert_eq!(a["agent"], e["agent"]);
        assert_eq!(a["today"], e["today"], "agent {}", a["agent"]);
    }
    assert_eq!(got["teams"], expected["teams"]);

    // The narrower endpoints and their filters.
    let q = get_json(addr, "/api/v1/queues?queues=sales,chat").await;
    let names: Vec<&str> = q["queues"]
        .as_array()
        .expect("queues")
        .iter()
        .filter_map(|q| q["queue"].as_str())
        .collect();
    assert_eq!(names, ["chat", "sales"]);
    assert!(q.get("agents").is_none());
    let a = get_json(addr, "/api/v1/agents?teams=team-b").await;
    let team_b = a["agents"].as_array().expect("agents");
    assert!(!team_b.is_empty());
    assert!(team_b.iter().all(|a| a["team"] == "team-b"));
    let a = get_json(addr, "/api/v1/agents?queues=email").await;
    assert!(a["agents"]
        .as_array()
        .expect("agents")
        .iter()
        .all(|a| a["queues"]
            .as_array()
            .is_some_and(|q| q.contains(&Value::from("email")))));
    let (status, page) = get(addr, "/").await;
    assert_eq!(status, 200);
    assert!(page.contains("ccpulse wallboard") && page.contains("/ws"));

    daemon.shutdown().await.expect("clean shutdown");
    server.await.expect("server task").expect("server");
}

#[tokio::test]
async fn idle_time_moves_sl_missed_and_oldest_waiting() {
    let cfg = fast_config();
    let t0 = DEFAULT_START;
    let clock = Arc::new(ManualClock::new(t0));
    let mut builder = DaemonBuilder::new(&cfg, RuntimeOptions::from_config(&cfg)).expect("daemon");
    let script = builder.handle("script").expect("handle");
    let daemon = builder.start(clock.clone());
    script.set_up(true);
    script.send(queued(t0, "c-1", "sales")).await.expect("sent");
    // Nothing else arrives; only the clock moves past the 20 s threshold (+ lateness).
    clock.set(t0 + 25_000);
    let s = wait_snapshot(daemon.published(), |s| s.watermark_ms == Some(t0 + 23_000)).await;
    let sales = s.queues.iter().find(|q| q.queue == "sales").expect("sales");
    assert_eq!(sales.waiting, 1);
    assert_eq!(sales.oldest_queued_at_ms, Some(t0));
    let today = serde_json::to_value(&sales.today).expect("kpis");
    assert_eq!(today["arrived"], 1);
    assert_eq!(today["sl_missed"], 1, "{today}");
    daemon.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn simulator_runs_live_on_an_accelerated_clock() {
    let cfg = fast_config();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock::accelerated(600.0));
    let sim = SimulatorSource::demo(3, clock.clone());
    let cfg = sim.engine_config(&cfg);
    let mut builder = DaemonBuilder::new(&cfg, RuntimeOptions::from_config(&cfg)).expect("daemon");
    builder.source(Box::new(sim)).expect("source");
    let daemon = builder.start(clock);
    let (addr, server) = serve(&daemon).await;

    // At 600× a simulated minute takes 0.1 s: wait for calls to be answered.
    wait_snapshot(daemon.published(), |s| {
        s.queues.iter().any(|q| {
            serde_json::to_value(&q.today)
                .ok()
                .and_then(|t| t["answered"].as_u64())
                > Some(0)
        })
    })
    .await;
    let (status, body) = get(addr, "/readyz").await;
    assert_eq!(status, 200, "{body}");
    let ready: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(ready["sources"][0]["source"], "simulator");
    assert_eq!(ready["sources"][0]["up"], true);
    let snap = get_json(addr, "/api/v1/snapshot").await;
    assert!(!snap["agents"].as_array().expect("agents").is_empty());
    let sales = get_json(addr, "/api/v1/queues?queues=sales").await;
    assert_eq!(sales["queues"][0]["sl_threshold_seconds"], 20.0);

    let engine = daemon.shutdown().await.expect("clean shutdown");
    assert!(engine.stats().applied > 0);
    server.await.expect("server task").expect("server");
}

#[tokio::test]
async fn shutdown_flushes_pending_events_and_stops_the_server() {
    let cfg = fast_config();
    let t0 = DEFAULT_START;
    let clock = Arc::new(ManualClock::new(t0));
    let mut builder = DaemonBuilder::new(&cfg, RuntimeOptions::from_config(&cfg)).expect("daemon");
    let script = builder.handle("script").expect("handle");
    let daemon = builder.start(clock.clone());
    let published = daemon.published().clone();
    let (addr, server) = serve(&daemon).await;
    script.set_up(true);
    // Inside the allowed lateness: buffered by the engine, not yet applied.
    script
        .send(queued(t0 + 500, "c-1", "sales"))
        .await
        .expect("sent");
    script
        .send(queued(t0 + 900, "c-2", "support"))
        .await
        .expect("sent");
    let (status, _) = get(addr, "/healthz").await;
    assert_eq!(status, 200);

    let engine = daemon.shutdown().await.expect("clean shutdown");
    assert_eq!(engine.stats().applied, 2, "flushed at shutdown");
    let last = published.latest().expect("final snapshot");
    assert_eq!(last.engine.applied, 2);
    assert_eq!(last.queues.len(), 2);
    tokio::time::timeout(GIVE_UP, server)
        .await
        .expect("server stops")
        .expect("server task")
        .expect("server");
    assert!(TcpStream::connect(addr).await.is_err(), "listener closed");
    // The handle outlives the engine: sending now fails instead of hanging.
    assert!(script
        .send(queued(t0 + 1000, "c-3", "sales"))
        .await
        .is_err());
}
