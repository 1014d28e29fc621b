//! Push ingest against an in-process daemon: `POST /api/v1/events` (JSON lines and
//! arrays, malformed lines, size bound), the websocket ingest server, and `[auth]`.

mod live_support;

use ccpulse::config::Config;
use ccpulse::decode::{decode_reader, DecodeStats, JsonlDecoder};
use ccpulse::encode::jsonl::JsonlWriter;
use ccpulse::engine::Engine;
use ccpulse::model::Event;
use ccpulse::outputs::feed::FeedOptions;
use ccpulse::runtime::{ManualClock, RuntimeOptions};
use ccpulse::sim::{SimConfig, Simulator, DEFAULT_START};
use futures_util::{SinkExt, StreamExt};
use live_support::*;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

async fn post(addr: SocketAddr, body: &[u8], headers: &[(&str, &str)]) -> (u16, Value) {
    let (status, text) = request(addr, "POST", "/api/v1/events", headers, body).await;
    let v = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, v)
}

#[tokio::test]
async fn posted_lines_and_arrays_match_a_direct_engine_run() {
    let cfg = fast_config();
    let opts = RuntimeOptions::from_config(&cfg);
    let mut sim = SimConfig::demo(11);
    sim.duration_ms = 2 * 3_600_000;
    let mut writer = JsonlWriter::new();
    let mut lines: Vec<Vec<u8>> = Vec::new();
    for e in Simulator::new(&sim).expect("demo simulator") {
        let mut line = Vec::new();
        if writer.write(&e, &mut line).is_ok() {
            lines.push(line);
        }
    }
    assert!(lines.len() > 500, "{} lines", lines.len());
    // The expected events: the same text through the same decoder.
    let all: Vec<u8> = lines.concat();
    let mut events: Vec<Event> = Vec::new();
    let mut stats = DecodeStats::new("expected");
    decode_reader(&all[..], &JsonlDecoder::new(), &mut stats, |e| {
        events.push(e)
    })
    .expect("decode");
    assert_eq!(stats.rejected(), 0);
    let start = sim.start;
    let end = events.last().map_or(start, |e| e.ts) + 600_000;

    let clock = Arc::new(ManualClock::new(start));
    let live = start_live(&cfg, clock.clone()).await;
    // Alternate bodies of JSON lines and JSON arrays.
    let mut accepted = 0u64;
    for (i, chunk) in lines.chunks(700).enumerate() {
        let body: Vec<u8> = if i % 2 == 0 {
            chunk.concat()
        } else {
            let items: Vec<&str> = chunk
                .iter()
                .map(|l| std::str::from_utf8(l).expect("utf-8").trim_end())
                .collect();
            format!("[{}]", items.join(",\n")).into_bytes()
        };
        let (status, answer) = post(live.addr, &body, &[]).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["rejected"], 0, "{answer}");
        assert_eq!(answer["unknown"], 0, "{answer}");
        accepted += answer["accepted"].as_u64().expect("accepted");
    }
    assert_eq!(accepted, events.len() as u64);
    clock.set(end);
    let watermark = end - cfg.engine.allowed_lateness.ms();
    wait_snapshot(live.daemon.published(), |s| {
        s.watermark_ms == Some(watermark)
    })
    .await;

    let mut direct = Engine::new(&cfg, opts.engine).expect("engine");
    direct.advance_to(start);
    for ev in events.iter().cloned() {
        direct.push(ev).expect("in order");
    }
    direct.advance_to(end);
    let text = serde_json::to_string(&direct.snapshot()).expect("serialize");
    let expected: Value = serde_json::from_str(&text).expect("parse");
    let got = get_json(live.addr, "/api/v1/snapshot").await;
    assert_eq!(got["engine"]["applied"], Value::from(events.len() as u64));
    assert_eq!(got["engine"]["late"], 0);
    for key in ["queues", "agents", "teams", "engine", "watermark_ms"] {
        assert_eq!(got[key], expected[key], "{key}");
    }
    let readyz = get_json(live.addr, "/readyz").await;
    let http = readyz["sources"]
        .as_array()
        .expect("sources")
        .iter()
        .find(|s| s["source"] == "http")
        .expect("http source")
        .clone();
    assert_eq!(http["events"], Value::from(events.len() as u64));
    assert_eq!(http["up"], true);
    live.stop().await;
}

async fn start_live(cfg: &Config, clock: Arc<ManualClock>) -> Live {
    start(cfg, FeedOptions::default(), clock).await
}

#[tokio::test]
async fn malformed_lines_are_counted_by_reason() {
    let cfg = fast_config();
    let t0 = DEFAULT_START;
    let live = start_live(&cfg, Arc::new(ManualClock::new(t0))).await;
    let good =
        format!(r#"{{"v":1,"ts":{t0},"type":"contact_queued","contact":"c-1","queue":"sales"}}"#);
    let long = format!(
        r#"{{"v":1,"ts":{t0},"type":"contact_queued","contact":"c-2","queue":"sales","pad":"{}"}}"#,
        "x".repeat(70_000)
    );
    let body = [
        good.as_str(),
        "{not json",
        "",
        r#"{"v":1,"ts":1795856401250,"type":"contact_queued","queue":"sales"}"#,
        r#"{"v":1,"ts":1795856401250,"type":"teleport","contact":"c"}"#,
        r#"{"v":2,"ts":1795856401250,"type":"contact_queued","contact":"c","queue":"q"}"#,
        long.as_str(),
        "\r",
    ]
    .join("\n");
    let (status, answer) = post(live.addr, body.as_bytes(), &[]).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer,
        json!({"accepted": 1, "rejected": 4, "unknown": 1,
               "reasons": {"bad_json": 1, "bad_version": 1, "missing_field": 1, "too_long": 1}})
    );

    // An array: each element through the same decoder.
    let array = format!(r#"[{good}, 5, {{"v":1,"type":"contact_ended"}}]"#);
    let (status, answer) = post(live.addr, array.as_bytes(), &[]).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["accepted"], 1);
    assert_eq!(answer["rejected"], 2);
    assert_eq!(answer["reasons"]["bad_json"], 1, "{answer}");
    // Not JSON at all after `[`.
    let (status, answer) = post(live.addr, b"[{\"v\":1,", &[]).await;
    assert_eq!(status, 400);
    assert_eq!(answer["reasons"]["bad_json"], 1);
    // An empty body accepts nothing.
    let (status, answer) = post(live.addr, b"", &[]).await;
    assert_eq!((status, &answer["accepted"]), (200, &json!(0)));
    live.stop().await;
}

#[tokio::test]
async fn oversized_bodies_get_413() {
    let mut cfg = fast_config();
    cfg.ingest.max_body_bytes = 4096;
    let live = start_live(&cfg, Arc::new(ManualClock::new(DEFAULT_START))).await;
    let line = format!(
        "{{\"v\":1,\"ts\":{DEFAULT_START},\"type\":\"contact_queued\",\"contact\":\"c\",\"queue\":\"q\"}}\n"
    );
    let big = line.repeat(5_000 / line.len() + 1);
    assert!(big.len() > 4096);
    let (status, _) = post(live.addr, big.as_bytes(), &[]).await;
    assert_eq!(status, 413);
    let small = line.repeat(4_000 / line.len());
    let (status, answer) = post(live.addr, small.as_bytes(), &[]).await;
    assert_eq!(status, 200, "{answer}");
    live.stop().await;
}

#[tokio::test]
async fn auth_token_guards_ingest_and_reads() {
    let mut cfg = fast_config();
    cfg.auth.token = Some("s3cret".into());
    let t0 = DEFAULT_START;
    let live = start_live(&cfg, Arc::new(ManualClock::new(t0))).await;
    wait_snapshot(live.daemon.published(), |_| true).await;
    let line = format!(r#"{{"v":1,"ts":{t0},"type":"contact_queued","contact":"c","queue":"q"}}"#);
    let (status, _) = post(live.addr, line.as_bytes(), &[]).await;
    assert_eq!(status, 401);
    let (status, _) = post(
        live.addr,
        line.as_bytes(),
        &[("Authorization", "Bearer nope")],
    )
    .await;
    assert_eq!(status, 401);
    // Ingest takes the header only, not the query string.
    let (status, _) = request(
        live.addr,
        "POST",
        "/api/v1/events?token=s3cret",
        &[],
        line.as_bytes(),
    )
    .await;
    assert_eq!(status, 401);
    let (status, answer) = post(
        live.addr,
        line.as_bytes(),
        &[("Authorization", "Bearer s3cret")],
    )
    .await;
    assert_eq!((status, &answer["accepted"]), (200, &json!(1)));

    let get = |path: &'static str, headers: &'static [(&'static str, &'static str)]| {
        let addr = live.addr;
        async move { request(addr, "GET", path, headers, b"").await.0 }
    };
    assert_eq!(get("/api/v1/snapshot", &[]).await, 401);
    assert_eq!(get("/api/v1/snapshot?token=wrong", &[]).await, 401);
    assert_eq!(get("/api/v1/snapshot?token=s3cret", &[]).await, 200);
    assert_eq!(
        get("/api/v1/queues", &[("Authorization", "Bearer s3cret")]).await,
        200
    );
    assert_eq!(get("/healthz", &[]).await, 200);

    // The feed: refused without a token, served with `?token=`.
    let refused = tokio_tungstenite::connect_async(format!("ws://{}/ws", live.addr)).await;
    assert!(refused.is_err(), "handshake refused");
    let mut ws = ws_connect(live.addr, "/ws?token=s3cret").await;
    assert_eq!(next_json(&mut ws).await["type"], "snapshot");

    // The ingest websocket needs the header.
    let refused =
        tokio_tungstenite::connect_async(format!("ws://{}/api/v1/ingest?token=s3cret", live.addr))
            .await;
    assert!(refused.is_err(), "handshake refused");
    let mut req = format!("ws://{}/api/v1/ingest?ack=true", live.addr)
        .into_client_request()
        .expect("request");
    req.headers_mut().insert(
        "Authorization",
        "Bearer s3cret".parse().expect("header value"),
    );
    let (ingest, _) = tokio_tungstenite::connect_async(req)
        .await
        .expect("authorised handshake");
    let mut ingest = Ws::from(ingest);
    ingest
        .send(Message::Text(line.clone().into()))
        .await
        .expect("send frame");
    assert_eq!(next_json(&mut ingest).await["accepted"], 1);
    live.stop().await;
}

/// A read ticket (`POST /api/v1/tickets`, the header only) opens the read endpoints and
/// the feed for its life, never ingest or writes; a kiosk's URL then holds no token.
#[tokio::test]
async fn read_tickets_open_reads_for_their_life_only() {
    let mut cfg = fast_config();
    cfg.auth.token = Some("s3cret".into());
    let t0 = DEFAULT_START;
    let live = start_live(&cfg, Arc::new(ManualClock::new(t0))).await;
    wait_snapshot(live.daemon.published(), |_| true).await;
    let mint = |headers: &'static [(&'static str, &'static str)], body: &'static [u8]| {
        let addr = live.addr;
        async move { request(addr, "POST", "/api/v1/tickets", headers, body).await }
    };
    let bearer: &[(&str, &str)] = &[("Authorization", "Bearer s3cret")];
    // Minting is a write: the header, not the query string.
    assert_eq!(mint(&[], b"").await.0, 401);
    let (status, _) = request(live.addr, "POST", "/api/v1/tickets?token=s3cret", &[], b"").await;
    assert_eq!(status, 401);
    let (status, answer) = mint(bearer, b"").await;
    assert_eq!(status, 201, "{answer}");
    let answer: Value = serde_json::from_str(&answer).expect("json");
    let ticket = answer["ticket"].as_str().expect("ticket").to_string();
    let life = answer["expires_at_ms"].as_i64().expect("expiry") - ccpulse::auth::wall_ms();
    assert!(
        (12 * 3_600_000 - 60_000..=12 * 3_600_000).contains(&life),
        "12 h by default: {life}"
    );
    let (status, answer) = mint(bearer, br#"{"expires_in": "30d"}"#).await;
    assert_eq!(status, 201, "{answer}");
    for bad in [
        &br#"{"expires_in": "31d"}"#[..],
        br#"{"expires_in": "soon"}"#,
        b"{",
    ] {
        let (status, answer) = mint(bearer, bad).await;
        assert_eq!(status, 400, "{answer}");
    }

    let get = |path: String| {
        let addr = live.addr;
        async move { request(addr, "GET", &path, &[], b"").await.0 }
    };
    assert_eq!(get(format!("/api/v1/snapshot?ticket={ticket}")).await, 200);
    assert_eq!(
        get(format!("/api/v1/queues?queues=q&ticket={ticket}")).await,
        200
    );
    assert_eq!(get("/api/v1/snapshot?ticket=v1.1.00".into()).await, 401);
    // Another token's ticket, and an expired one of this token: refused.
    let other = ccpulse::auth::Auth::new(Some("other"));
    let now = ccpulse::auth::wall_ms();
    let foreign = other.ticket(now + 60_000).expect("ticket");
    assert_eq!(get(format!("/api/v1/snapshot?ticket={foreign}")).await, 401);
    let ours = ccpulse::auth::Auth::new(Some("s3cret"));
    let expired = ours.ticket(now - 1).expect("ticket");
    assert_eq!(get(format!("/api/v1/snapshot?ticket={expired}")).await, 401);
    let mut ws = ws_connect(live.addr, &format!("/ws?teams=A&ticket={ticket}")).await;
    assert_eq!(next_json(&mut ws).await["type"], "snapshot");

    // Not for ingest or writes.
    let line = format!(r#"{{"v":1,"ts":{t0},"type":"contact_queued","contact":"c","queue":"q"}}"#);
    let path = format!("/api/v1/events?ticket={ticket}");
    assert_eq!(
        request(live.addr, "POST", &path, &[], line.as_bytes())
            .await
            .0,
        401
    );
    let path = format!("/api/v1/messages?ticket={ticket}");
    let body = br#"{"text": "Huddle at 10:30"}"#;
    assert_eq!(request(live.addr, "POST", &path, &[], body).await.0, 401);
    live.stop().await;

    // Without a token there is nothing to guard, and no ticket to mint.
    let live = start_live(&fast_config(), Arc::new(ManualClock::new(t0))).await;
    let (status, answer) = request(live.addr, "POST", "/api/v1/tickets", &[], b"").await;
    assert_eq!(status, 400, "{answer}");
    live.stop().await;
}

#[tokio::test]
async fn websocket_ingest_frames_reach_the_engine() {
    let cfg = fast_config();
    let t0 = DEFAULT_START;
    let clock = Arc::new(ManualClock::new(t0));
    let live = start_live(&cfg, clock.clone()).await;
    let mut ws = ws_connect(live.addr, "/api/v1/ingest?ack=true").await;
    let frame = format!(
        "{{\"v\":1,\"ts\":{},\"type\":\"contact_queued\",\"contact\":\"c-1\",\"queue\":\"sales\"}}\n{{oops\n{{\"v\":1,\"ts\":{},\"type\":\"contact_queued\",\"contact\":\"c-2\",\"queue\":\"support\"}}",
        t0 + 100,
        t0 + 200
    );
    ws.send(Message::Text(frame.into())).await.expect("send");
    let ack = next_json(&mut ws).await;
    assert_eq!(
        ack,
        json!({"accepted": 2, "rejected": 1, "unknown": 0, "reasons": {"bad_json": 1}})
    );
    // A binary frame is read the same way.
    let line = format!(
        "{{\"v\":1,\"ts\":{},\"type\":\"contact_queued\",\"contact\":\"c-3\",\"queue\":\"sales\"}}\n",
        t0 + 300
    );
    ws.send(Message::Binary(line.into_bytes().into()))
        .await
        .expect("send");
    assert_eq!(next_json(&mut ws).await["accepted"], 1);
    clock.set(t0 + 5_000);
    let s = wait_snapshot(live.daemon.published(), |s| s.engine.applied == 3).await;
    let waiting: Vec<(String, u64)> = s
        .queues
        .iter()
        .map(|q| (q.queue.clone(), q.waiting))
        .collect();
    assert_eq!(
        waiting,
        [("sales".to_string(), 2), ("support".to_string(), 1)]
    );

    // A frame over 64 KiB ends the connection.
    let huge = "x".repeat(70 * 1024);
    let _ = ws.send(Message::Text(huge.into())).await;
    let closed = tokio::time::timeout(GIVE_UP, async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => continue,
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the server closed the connection");
    live.stop().await;
}
