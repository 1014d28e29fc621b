//! Shared by `tests/feed.rs` and `tests/ingest.rs`: an in-process daemon with the full
//! router (feed, push ingest, auth) on 127.0.0.1:0, raw HTTP requests and a websocket
//! client.
#![allow(dead_code)]

#[path = "../common/deflate_ws.rs"]
mod deflate_ws;

use ccpulse::auth::Auth;
use ccpulse::config::Config;
use ccpulse::engine::Snapshot;
use ccpulse::outputs::feed::{FeedOptions, FeedState};
use ccpulse::outputs::http;
use ccpulse::runtime::{Clock, Daemon, DaemonBuilder, Published, RuntimeOptions};
use ccpulse::sources::push::{PushSource, PushState};
use ccpulse::sources::SourceHandle;
use futures_util::StreamExt;
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

/// Every wait is for a condition; this only bounds a broken run.
pub const GIVE_UP: Duration = Duration::from_secs(60);

/// A websocket client stream.
pub type RawWs = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

/// A feed client: the websocket, and the state it has built from `snapshot` and `delta`
/// frames (docs/feed.md), as a real screen would.
pub struct Ws {
    ws: Link,
    state: Option<Value>,
}

/// How a [`Ws`] reads: through tungstenite (no compression), or as a browser does, with
/// permessage-deflate.
enum Link {
    Tungstenite(Box<RawWs>),
    Deflate(deflate_ws::DeflateWs),
}

impl From<RawWs> for Ws {
    fn from(ws: RawWs) -> Self {
        Ws {
            ws: Link::Tungstenite(Box::new(ws)),
            state: None,
        }
    }
}

impl std::ops::Deref for Ws {
    type Target = RawWs;
    fn deref(&self) -> &RawWs {
        match &self.ws {
            Link::Tungstenite(ws) => ws,
            Link::Deflate(_) => panic!("a deflate screen has no tungstenite stream"),
        }
    }
}

impl std::ops::DerefMut for Ws {
    fn deref_mut(&mut self) -> &mut RawWs {
        match &mut self.ws {
            Link::Tungstenite(ws) => ws,
            Link::Deflate(_) => panic!("a deflate screen has no tungstenite stream"),
        }
    }
}

impl Ws {
    /// For a screen from [`ws_connect_deflate`]: messages that arrived deflated, the
    /// smallest of them and the largest plain one (bytes of text).
    pub fn deflated(&self) -> (u64, usize, usize) {
        match &self.ws {
            Link::Deflate(d) => (d.deflated, d.smallest_deflated, d.largest_plain),
            Link::Tungstenite(_) => (0, usize::MAX, 0),
        }
    }
}

/// Connects a screen that offers permessage-deflate; returns it and whether the server
/// accepted the offer.
pub async fn ws_connect_deflate(addr: SocketAddr, path: &str) -> (Ws, bool) {
    let (ws, accepted) = deflate_ws::connect(&addr.to_string(), path)
        .await
        .expect("websocket handshake");
    let ws = Ws {
        ws: Link::Deflate(ws),
        state: None,
    };
    (ws, accepted)
}

/// A frame that carries state: a `snapshot`, or a `delta` (which [`next_json`] returns
/// merged into the whole state).
pub fn is_state(f: &Value) -> bool {
    f["type"] == "snapshot" || f["type"] == "delta"
}

/// RFC 7386 JSON Merge Patch, written from the RFC for the tests (independent of the
/// server's diff).
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    if let Value::Object(t) = target {
        for (k, v) in p {
            if v.is_null() {
                t.remove(k);
            } else {
                merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

/// Applies a `delta` frame to the state of a `snapshot` frame: each section keyed by
/// name, patched, listed again in name order; the header comes from the delta.
pub fn apply_delta(state: &Value, delta: &Value) -> Value {
    let mut out = state.clone();
    for (section, key) in [("queues", "queue"), ("teams", "team"), ("agents", "agent")] {
        let Some(patch) = delta.get(section) else {
            continue;
        };
        let mut by_name = serde_json::Map::new();
        for e in state[section].as_array().expect("section") {
            by_name.insert(e[key].as_str().expect("name").to_string(), e.clone());
        }
        let mut merged = Value::Object(by_name);
        merge_patch(&mut merged, patch);
        let Value::Object(m) = merged else {
            unreachable!()
        };
        let mut list: Vec<(String, Value)> = m.into_iter().collect();
        list.sort_by(|a, b| a.0.cmp(&b.0));
        out[section] = Value::Array(list.into_iter().map(|(_, v)| v).collect());
    }
    if let Some(p) = delta.get("engine") {
        merge_patch(&mut out["engine"], p);
    }
    for (k, v) in delta.as_object().expect("frame") {
        if !matches!(k.as_str(), "queues" | "teams" | "agents" | "engine") {
            out[k] = v.clone();
        }
    }
    out
}

/// A running daemon with its HTTP server.
pub struct Live {
    pub daemon: Daemon,
    pub addr: SocketAddr,
    pub server: JoinHandle<std::io::Result<()>>,
    pub feed: FeedState,
    /// A handle for scripted events straight into the engine channel.
    pub script: SourceHandle,
    /// The built-in alert rules, evaluated on every snapshot.
    pub alerts: ccpulse::alerts::SharedAlerts,
    /// The team schedule (`GET`/`PUT /api/v1/schedule`).
    pub schedule: ccpulse::schedule::SharedSchedule,
}

/// A config with a fast tick.
pub fn fast_config() -> Config {
    let mut cfg = Config::default();
    cfg.daemon.tick = ccpulse::config::Duration(100);
    cfg
}

/// Starts the daemon with default feed options on a manual clock set to `t0` (the test
/// moves event time with the clock it gets back).
pub async fn start_manual(cfg: &Config, t0: i64) -> (Live, Arc<ccpulse::runtime::ManualClock>) {
    let clock = Arc::new(ccpulse::runtime::ManualClock::new(t0));
    let live = start(cfg, FeedOptions::default(), clock.clone() as Arc<dyn Clock>).await;
    (live, clock)
}

/// Starts the daemon and the full router on a free loopback port.
pub async fn start(cfg: &Config, feed: FeedOptions, clock: Arc<dyn Clock>) -> Live {
    let any: SocketAddr = "127.0.0.1:0".parse().expect("address");
    start_on(cfg, feed, clock, any).await
}

/// Starts the daemon and the full router on `addr` (`SO_REUSEADDR`, so a daemon can
/// come back on the port of one just stopped).
pub async fn start_on(
    cfg: &Config,
    feed: FeedOptions,
    clock: Arc<dyn Clock>,
    addr: SocketAddr,
) -> Live {
    let mut builder = DaemonBuilder::new(cfg, RuntimeOptions::from_config(cfg)).expect("daemon");
    let script = builder.handle("script").expect("handle");
    script.set_up(true);
    let push_http = PushSource::new(builder.handle("http").expect("handle"));
    let push_ws = PushSource::new(builder.handle("ws-ingest").expect("handle"));
    let transitions = builder.agent_transitions();
    let schedule: ccpulse::schedule::SharedSchedule = Arc::new(
        ccpulse::schedule::ScheduleService::new(cfg, jiff::tz::TimeZone::UTC),
    );
    {
        // As `ccpulse run`: `adherence_min` targets read the schedule's adherence today.
        let schedule = schedule.clone();
        builder.adherence_from(Arc::new(move || schedule.adherence()));
    }
    {
        // As `ccpulse run`: agents the config does not place are in the schedule's team.
        let schedule = schedule.clone();
        builder.teams_from(Arc::new(move || schedule.planned_teams()));
    }
    let daemon = builder.start(clock);
    let alerts: ccpulse::alerts::SharedAlerts =
        Arc::new(std::sync::Mutex::new(ccpulse::alerts::AlertEngine::new(
            ccpulse::alerts::default_rules(),
            // The config's zone, as the daemon's (quiet hours, the day's history).
            jiff::tz::TimeZone::get(&cfg.timezone).unwrap_or(jiff::tz::TimeZone::UTC),
        )));
    let feed = FeedState::new(daemon.published().clone(), daemon.shutdown_signal(), feed)
        .with_alerts(alerts.clone());
    let dispatcher =
        ccpulse::alerts::notify::Dispatcher::log_only(&ccpulse::alerts::default_rules());
    let _alert_task = ccpulse::alerts::spawn_with(
        daemon.published().clone(),
        alerts.clone(),
        ccpulse::alerts::AlertContext {
            schedule: Some(schedule.clone()),
            transitions: Some(transitions),
            idle_ok: vec!["http".into(), "ws-ingest".into()],
            state_file: None,
        },
        daemon.shutdown_signal(),
        dispatcher,
    );
    let live = http::Live {
        feed: feed.clone(),
        ingest: Some(PushState {
            http: push_http,
            ws: push_ws,
            max_body_bytes: cfg.ingest.max_body_bytes,
            shutdown: daemon.shutdown_signal(),
        }),
        auth: Auth::new(cfg.auth.token.as_deref()),
        alerts: Some(alerts.clone()),
        schedule: Some(schedule.clone()),
    };
    let app = http::app(daemon.published().clone(), live);
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_reuseaddr(true).expect("SO_REUSEADDR");
    socket.bind(addr).expect("bind");
    let listener: TcpListener = socket.listen(1024).expect("listen");
    let addr = listener.local_addr().expect("local addr");
    let mut stop = daemon.shutdown_signal();
    let server = tokio::spawn(http::serve_app(
        listener,
        app,
        async move { stop.wait().await },
    ));
    Live {
        daemon,
        addr,
        server,
        feed,
        script,
        alerts,
        schedule,
    }
}

impl Live {
    /// Stops the daemon and waits for the server to finish.
    pub async fn stop(self) {
        self.daemon.shutdown().await.expect("clean shutdown");
        tokio::time::timeout(GIVE_UP, self.server)
            .await
            .expect("server stops")
            .expect("server task")
            .expect("server");
    }
}

/// One HTTP/1.1 request with `Connection: close`: (status, body).
pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String) {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    s.write_all(req.as_bytes()).await.expect("write head");
    // The server may answer (413, 401) before reading the body: ignore a broken pipe.
    let _ = s.write_all(body).await;
    read_response(s).await
}

/// Reads a whole response (plain or chunked body). A reset after the response (the
/// server closing with an unread request body) still yields what arrived.
pub async fn read_response(mut s: TcpStream) -> (u16, String) {
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match s.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8(raw).expect("utf-8 response");
    let (head, body) = text.split_once("\r\n\r\n").expect("header/body separator");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("status code");
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_string()
    };
    (status, body)
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).expect("chunk size");
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        s = &rest[n + 2..];
    }
    out
}

/// `GET path` → JSON (asserting 200).
pub async fn get_json(addr: SocketAddr, path: &str) -> Value {
    let (status, body) = request(addr, "GET", path, &[], b"").await;
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).expect("JSON body")
}

/// Waits until a published snapshot satisfies `pred`.
pub async fn wait_snapshot(p: &Published, pred: impl Fn(&Snapshot) -> bool) -> Arc<Snapshot> {
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

/// Connects a websocket client to `path`.
pub async fn ws_connect(addr: SocketAddr, path: &str) -> Ws {
    let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}{path}"))
        .await
        .expect("websocket handshake");
    ws.into()
}

/// The next text frame as JSON (pings are answered while reading).
///
/// A `snapshot` becomes the client's state; a `delta` is applied to it and returned as
/// the whole state (its `type` stays `delta`).
pub async fn next_json(ws: &mut Ws) -> Value {
    let deadline = tokio::time::timeout(GIVE_UP, async {
        let text = match &mut ws.ws {
            Link::Deflate(d) => {
                String::from_utf8(d.next_text().await.expect("a message")).expect("UTF-8 text")
            }
            Link::Tungstenite(raw) => loop {
                match raw.next().await {
                    Some(Ok(Message::Text(t))) => break t.as_str().to_string(),
                    Some(Ok(Message::Close(c))) => panic!("closed by the server: {c:?}"),
                    Some(Ok(_)) => continue,
                    Some(Err(e)) => panic!("websocket error: {e}"),
                    None => panic!("websocket ended"),
                }
            },
        };
        let f = serde_json::from_str::<Value>(&text).expect("JSON frame");
        if f["type"] == "snapshot" {
            ws.state = Some(f.clone());
        } else if f["type"] == "delta" {
            let state = ws.state.as_ref().expect("a delta comes after a snapshot");
            let merged = apply_delta(state, &f);
            ws.state = Some(merged.clone());
            return merged;
        }
        f
    })
    .await;
    deadline.expect("a frame within the time limit")
}

/// Reads frames until one satisfies `pred`; checks `seq` increases by one on the way.
pub async fn next_matching(
    ws: &mut Ws,
    last_seq: &mut u64,
    pred: impl Fn(&Value) -> bool,
) -> Value {
    loop {
        let f = next_json(ws).await;
        let seq = f["seq"].as_u64().expect("seq");
        assert_eq!(seq, *last_seq + 1, "seq increases by one per frame: {f}");
        *last_seq = seq;
        if pred(&f) {
            return f;
        }
    }
}

/// Waits until the alert engine's active alerts satisfy `pred` (the alert task runs
/// after each publication: this polls its state, bounded by [`GIVE_UP`]).
pub async fn wait_alerts(
    alerts: &ccpulse::alerts::SharedAlerts,
    pred: impl Fn(&[ccpulse::alerts::AlertView]) -> bool,
) -> Vec<ccpulse::alerts::AlertView> {
    let found = tokio::time::timeout(GIVE_UP, async {
        loop {
            let active = alerts.lock().expect("alert engine").active();
            if pred(&active) {
                return active;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    found.expect("alert condition within the time limit")
}
