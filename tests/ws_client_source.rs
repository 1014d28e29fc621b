//! The websocket client source against a fake ACD websocket server on 127.0.0.1:0: the
//! handshake headers, token and subscribe message are checked on every connection; the
//! server sends JSON lines (some malformed), refuses-by-size, drops the connection, goes
//! silent; the source reconnects, resubscribes, and the published snapshot equals a
//! direct engine run over the events. Every wait is for a condition, with a deadline.

mod live_support;

use ccpulse::config::{Config, Duration as CfgDuration, SourceConfig};
use ccpulse::decode::{decode_reader, DecodeStats, JsonlDecoder, RejectReason};
use ccpulse::encode::jsonl::JsonlWriter;
use ccpulse::engine::Engine;
use ccpulse::model::Event;
use ccpulse::runtime::{Daemon, DaemonBuilder, ManualClock, RuntimeOptions};
use ccpulse::sim::{SimConfig, Simulator, DEFAULT_START};
use ccpulse::sources::websocket::WebsocketSource;
use ccpulse::sources::SourceStatus;
use futures_util::{SinkExt, StreamExt};
use live_support::wait_snapshot;
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::Message;

/// Bounds a broken run only; every wait is for a condition.
const GIVE_UP: Duration = Duration::from_secs(10);

const API_KEY: &str = "k3y";
const TOKEN: &str = "t0ken";
const SUBSCRIBE: &str = r#"{"subscribe":["*"]}"#;

/// What the fake server saw on one connection.
#[derive(Debug, Clone, Default)]
struct Seen {
    api_key: Option<String>,
    authorization: Option<String>,
    subscribe: Option<String>,
}

/// What the fake server does on one connection, after the subscribe message.
struct Plan {
    frames: Vec<Message>,
    /// Drop the connection (without a close frame) when this fires.
    drop_when: oneshot::Receiver<()>,
    /// Never read after sending: pings go unanswered.
    silent: bool,
}

/// A fake ACD feed: one connection at a time, each following the next [`Plan`].
struct FakeAcd {
    /// Handshakes attempted (accepted or refused).
    attempts: Arc<AtomicUsize>,
    seen: Arc<Mutex<Vec<Seen>>>,
    plans: mpsc::UnboundedSender<Plan>,
    task: JoinHandle<()>,
}

impl FakeAcd {
    fn start(listener: TcpListener) -> FakeAcd {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let attempts = Arc::new(AtomicUsize::new(0));
        let (plans, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(serve(listener, attempts.clone(), seen.clone(), rx));
        FakeAcd {
            attempts,
            seen,
            plans,
            task,
        }
    }

    /// Queues a plan; the returned sender drops that connection.
    fn plan(&self, frames: Vec<Message>, silent: bool) -> oneshot::Sender<()> {
        let (tx, drop_when) = oneshot::channel();
        self.plans
            .send(Plan {
                frames,
                drop_when,
                silent,
            })
            .expect("server alive");
        tx
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("seen").clone()
    }
}

impl Drop for FakeAcd {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(
    listener: TcpListener,
    attempts: Arc<AtomicUsize>,
    seen: Arc<Mutex<Vec<Seen>>>,
    mut plans: mpsc::UnboundedReceiver<Plan>,
) {
    while let Ok((stream, _)) = listener.accept().await {
        let headers = Arc::new(Mutex::new(Seen::default()));
        let h = headers.clone();
        let n = attempts.clone();
        // tungstenite's callback signature, not ours.
        #[allow(clippy::result_large_err)]
        let check = move |req: &Request, resp: Response| -> Result<Response, ErrorResponse> {
            n.fetch_add(1, Ordering::SeqCst);
            let get = |name: &str| {
                req.headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            };
            let mut s = h.lock().expect("headers");
            s.api_key = get("x-api-key");
            s.authorization = get("authorization");
            if s.authorization.as_deref() != Some(&format!("Bearer {TOKEN}")) {
                let mut refuse = ErrorResponse::new(Some("unauthorized".into()));
                *refuse.status_mut() = StatusCode::UNAUTHORIZED;
                return Err(refuse);
            }
            Ok(resp)
        };
        let Ok(mut ws) = tokio_tungstenite::accept_hdr_async(stream, check).await else {
            continue;
        };
        // The first message must be the subscription.
        let first = tokio::time::timeout(GIVE_UP, ws.next()).await;
        let mut s = headers.lock().expect("headers").clone();
        if let Ok(Some(Ok(Message::Text(t)))) = first {
            s.subscribe = Some(t.as_str().to_string());
        }
        seen.lock().expect("seen").push(s);
        let Some(mut plan) = plans.recv().await else {
            continue;
        };
        let mut ok = true;
        for f in plan.frames {
            if ws.send(f).await.is_err() {
                ok = false;
                break;
            }
        }
        if !ok {
            continue;
        }
        if plan.silent {
            // Hold the connection without ever reading it, and accept the next one.
            tokio::spawn(async move {
                let _ = plan.drop_when.await;
                drop(ws);
            });
            continue;
        }
        loop {
            tokio::select! {
                _ = &mut plan.drop_when => break,
                m = ws.next() => match m {
                    Some(Ok(_)) => {}
                    _ => break,
                },
            }
        }
        // Dropping `ws` here resets the connection without a close frame.
    }
}

/// A simulated hour as JSON lines, and its events through the same decoder.
fn script() -> (Vec<Vec<u8>>, Vec<Event>, i64) {
    let mut sim = SimConfig::demo(7);
    sim.duration_ms = 3_600_000;
    let mut w = JsonlWriter::new();
    let mut lines = Vec::new();
    for ev in Simulator::new(&sim).expect("demo simulator") {
        let mut out = Vec::new();
        if w.write(&ev, &mut out).is_ok() {
            lines.push(out);
        }
    }
    let mut events = Vec::new();
    let mut stats = DecodeStats::new("expected");
    decode_reader(&lines.concat()[..], &JsonlDecoder::new(), &mut stats, |e| {
        events.push(e)
    })
    .expect("decode");
    assert_eq!(stats.rejected(), 0);
    assert!(events.len() > 300, "{} events", events.len());
    (lines, events, sim.start)
}

/// Frames of whole lines, at most `max` bytes each, alternately text and binary.
fn frames(lines: &[Vec<u8>], max: usize) -> Vec<Message> {
    let mut out = Vec::new();
    let mut cur: Vec<u8> = Vec::new();
    let push = |buf: Vec<u8>, out: &mut Vec<Message>| {
        if out.len() % 2 == 0 {
            out.push(Message::text(String::from_utf8(buf).expect("utf-8")));
        } else {
            out.push(Message::binary(buf));
        }
    };
    for l in lines {
        if !cur.is_empty() && cur.len() + l.len() > max {
            push(std::mem::take(&mut cur), &mut out);
        }
        cur.extend_from_slice(l);
    }
    if !cur.is_empty() {
        push(cur, &mut out);
    }
    out
}

fn source(addr: SocketAddr) -> SourceConfig {
    let mut s = SourceConfig::websocket("acd", format!("ws://{addr}/feed"));
    s.headers.insert("X-Api-Key".into(), API_KEY.into());
    s.token = Some(TOKEN.into());
    s.subscribe = Some(SUBSCRIBE.into());
    s.ping_interval = CfgDuration(200);
    s.backoff_min = CfgDuration(10);
    s.backoff_max = CfgDuration(100);
    s.max_frame_bytes = 16 * 1024;
    s
}

fn start(src: SourceConfig, clock: Arc<ManualClock>) -> (Config, Daemon) {
    let mut cfg = Config::default();
    cfg.daemon.tick = CfgDuration(100);
    cfg.sources = vec![src];
    cfg.validate("<test>").expect("valid config");
    let mut b = DaemonBuilder::new(&cfg, RuntimeOptions::from_config(&cfg)).expect("daemon");
    let source = WebsocketSource::new(&cfg.sources[0]).expect("source");
    b.source(Box::new(source)).expect("source");
    let daemon = b.start(clock);
    (cfg, daemon)
}

fn status(d: &Daemon) -> Arc<SourceStatus> {
    d.published().sources()[0].clone()
}

async fn wait_for(what: &str, cond: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + GIVE_UP;
    while !cond() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn reconnects_resubscribes_and_matches_a_direct_engine_run() {
    let (lines, events, t0) = script();
    let third = lines.len() / 3;
    let (a, rest) = lines.split_at(third);
    let (b, c) = rest.split_at(third);

    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let acd = FakeAcd::start(listener);
    // Connection 1: part A with malformed lines, then a frame over max_frame_bytes (the
    // source drops the connection). Connection 2: part B, then the server drops it.
    // Connection 3: part C, kept open.
    let mut first = frames(a, 6_000);
    first.insert(1, Message::text("{not json\n\n"));
    first.insert(
        3,
        Message::text(format!(
            "{{\"v\":2,\"ts\":{t0},\"type\":\"contact_queued\",\"contact\":\"x\",\"queue\":\"q\"}}\r\n"
        )),
    );
    first.push(Message::text("x".repeat(20_000)));
    let _keep1 = acd.plan(first, false);
    let drop2 = acd.plan(frames(b, 6_000), false);
    let _keep3 = acd.plan(frames(c, 6_000), false);

    let clock = Arc::new(ManualClock::new(t0));
    let (cfg, daemon) = start(source(addr), clock.clone());
    let st = status(&daemon);
    let bad = 2u64;
    let oversized = 1u64;
    // A and B decoded: the server may now drop connection 2.
    let ab = (a.len() + b.len()) as u64 + bad + oversized;
    wait_for("parts A and B", || st.decode_stats().lines() == ab).await;
    assert!(acd.seen().len() >= 2);
    let _ = drop2.send(());
    wait_for("all events", || st.events() == events.len() as u64).await;
    wait_for("connection 3 up", || st.is_up()).await;

    let seen = acd.seen();
    assert_eq!(seen.len(), 3, "{seen:?}");
    for s in &seen {
        assert_eq!(s.api_key.as_deref(), Some(API_KEY), "{s:?}");
        assert_eq!(s.authorization.as_deref(), Some("Bearer t0ken"), "{s:?}");
        assert_eq!(s.subscribe.as_deref(), Some(SUBSCRIBE), "{s:?}");
    }
    let stats = st.decode_stats();
    assert_eq!(stats.lines(), lines.len() as u64 + bad + oversized);
    assert_eq!(stats.events(), events.len() as u64);
    assert_eq!(stats.rejected_for(RejectReason::BadJson), 1);
    assert_eq!(stats.rejected_for(RejectReason::BadVersion), 1);
    assert_eq!(stats.rejected_for(RejectReason::TooLong), oversized);

    let end = events.last().map_or(t0, |e| e.ts) + 600_000;
    clock.set(end);
    let watermark = end - cfg.engine.allowed_lateness.ms();
    let got = wait_snapshot(daemon.published(), |s| s.watermark_ms == Some(watermark)).await;
    let opts = RuntimeOptions::from_config(&cfg);
    let mut direct = Engine::new(&cfg, opts.engine).expect("engine");
    direct.advance_to(t0);
    for ev in events.iter().cloned() {
        direct.push(ev).expect("in order");
    }
    direct.advance_to(end);
    let expected: Value = serde_json::to_value(direct.snapshot()).expect("serialize");
    let got: Value = serde_json::to_value(&*got).expect("serialize");
    assert_eq!(got["engine"]["applied"], Value::from(events.len() as u64));
    for key in ["queues", "agents", "teams", "engine", "watermark_ms"] {
        assert_eq!(got[key], expected[key], "{key}");
    }
    daemon.shutdown().await.expect("clean shutdown");
    assert!(!st.is_up());
}

#[tokio::test]
async fn down_while_the_server_is_away_then_up_when_it_appears() {
    // A port nobody listens on (yet).
    let probe = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = probe.local_addr().expect("addr");
    drop(probe);
    let t0 = DEFAULT_START;
    let (_cfg, daemon) = start(source(addr), Arc::new(ManualClock::new(t0)));
    let st = status(&daemon);
    assert!(!st.is_up());
    wait_for("a first snapshot", || daemon.published().latest().is_some()).await;
    assert!(!st.is_up(), "no server: the source is down");
    assert!(!daemon.published().is_ready());

    let listener = TcpListener::bind(addr).await.expect("rebind the port");
    let acd = FakeAcd::start(listener);
    let line = format!(
        "{{\"v\":1,\"ts\":{t0},\"type\":\"contact_queued\",\"contact\":\"c\",\"queue\":\"q\"}}\n"
    );
    let _keep = acd.plan(vec![Message::text(line)], false);
    wait_for("up and one event", || st.is_up() && st.events() == 1).await;
    assert_eq!(acd.seen()[0].subscribe.as_deref(), Some(SUBSCRIBE));
    daemon.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn a_silent_server_is_dropped_after_two_ping_intervals() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let acd = FakeAcd::start(listener);
    let mut src = source(addr);
    src.ping_interval = CfgDuration(50);
    // Connection 1 never answers pings; connection 2 does.
    let _keep1 = acd.plan(Vec::new(), true);
    let _keep2 = acd.plan(Vec::new(), false);
    let (_cfg, daemon) = start(src, Arc::new(ManualClock::new(DEFAULT_START)));
    let st = status(&daemon);
    wait_for("a second connection", || acd.seen().len() == 2).await;
    wait_for("up again", || st.is_up()).await;
    daemon.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn a_wrong_token_keeps_the_source_down() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let acd = FakeAcd::start(listener);
    let mut src = source(addr);
    src.token = Some("wrong".into());
    let (_cfg, daemon) = start(src, Arc::new(ManualClock::new(DEFAULT_START)));
    let st = status(&daemon);
    // Refused with 401, retried with backoff, never up.
    wait_for("three refused handshakes", || {
        acd.attempts.load(Ordering::SeqCst) >= 3
    })
    .await;
    assert!(acd.seen().is_empty());
    assert!(!st.is_up());
    daemon.shutdown().await.expect("clean shutdown");
}
