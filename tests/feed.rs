//! The `/ws` wallboard feed (docs/feed.md) against an in-process daemon: full snapshot on
//! connect, ticks with increasing `seq`, filters, heartbeats, status colours, shutdown,
//! and a client that never reads.

mod live_support;

use ccpulse::decode::{Decoded, JsonlDecoder, LineDecoder};
use ccpulse::model::{Event, Millis};
use ccpulse::outputs::feed::FeedOptions;
use ccpulse::runtime::ManualClock;
use ccpulse::sim::DEFAULT_START;
use futures_util::StreamExt;
use live_support::*;
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

fn ev(line: &str) -> Event {
    match JsonlDecoder::new().decode(line.as_bytes()) {
        Decoded::Event(e) => e,
        other => panic!("{line}: {other:?}"),
    }
}

fn queued(ts: Millis, contact: &str, queue: &str) -> Event {
    ev(&format!(
        r#"{{"v":1,"ts":{ts},"type":"contact_queued","contact":"{contact}","queue":"{queue}"}}"#
    ))
}

fn agent(ts: Millis, agent: &str, team: &str, queues: &[&str]) -> Event {
    let queues = serde_json::to_string(queues).expect("names");
    ev(&format!(
        r#"{{"v":1,"ts":{ts},"type":"agent_state","agent":"{agent}","state":"available","team":"{team}","queues":{queues}}}"#
    ))
}

/// The first state frame of a client connected to `path` that shows the same watermark
/// as the API's `snapshot`.
async fn frame_at(live: &Live, path: &str, snapshot: &Value) -> Value {
    let mut ws = ws_connect(live.addr, path).await;
    let mut seq = 0;
    next_matching(&mut ws, &mut seq, |f| {
        is_state(f) && f["watermark_ms"] == snapshot["watermark_ms"]
    })
    .await
}

fn quick() -> FeedOptions {
    FeedOptions {
        heartbeat: Duration::from_millis(300),
        send_timeout: Duration::from_secs(1),
        compression: true,
    }
}

fn queue_names(frame: &Value) -> Vec<String> {
    frame["queues"]
        .as_array()
        .expect("queues")
        .iter()
        .filter_map(|q| q["queue"].as_str().map(str::to_string))
        .collect()
}

fn queue<'a>(frame: &'a Value, name: &str) -> &'a Value {
    frame["queues"]
        .as_array()
        .expect("queues")
        .iter()
        .find(|q| q["queue"] == name)
        .expect("queue in frame")
}

#[tokio::test]
async fn full_snapshot_on_connect_then_ticks_with_status_colours() {
    let cfg = fast_config();
    let t0 = DEFAULT_START;
    let clock = Arc::new(ManualClock::new(t0));
    let live = start(&cfg, FeedOptions::default(), clock.clone()).await;
    live.script
        .send(queued(t0 + 100, "c-1", "sales"))
        .await
        .expect("sent");
    clock.set(t0 + 3_000);
    wait_snapshot(live.daemon.published(), |s| s.queues.len() == 1).await;

    let mut ws = ws_connect(live.addr, "/ws").await;
    let first = next_json(&mut ws).await;
    assert_eq!(first["v"], 1);
    assert_eq!(first["type"], "snapshot");
    assert_eq!(first["seq"], 1);
    assert_eq!(queue_names(&first), ["sales"]);
    let sales = queue(&first, "sales");
    assert_eq!(sales["waiting"], 1);
    assert_eq!(sales["oldest_queued_at_ms"], Value::from(t0 + 100));
    let wait = &sales["status"]["longest_wait"];
    assert_eq!(wait["colour"], "green", "{wait}");
    assert_eq!(wait["red_after_seconds"], 20.0);
    assert_eq!(wait["red_at_ms"], Value::from(t0 + 100 + 20_000));
    assert_eq!(sales["status"]["service_level"]["colour"], "none");
    assert_eq!(sales["status"]["service_level"]["green_from"], 0.8);
    assert!(first["watermark_ms"].is_i64());
    // The zone days are cut in, so a screen shows local clock times (UTC by default).
    assert_eq!(first["time_zone"], "UTC");
    assert!(first["agents"].is_array() && first["teams"].is_array());

    // A new queue appears in a later tick; seq goes up by one per frame.
    let mut seq = 1;
    live.script
        .send(queued(t0 + 3_100, "c-2", "support"))
        .await
        .expect("sent");
    clock.set(t0 + 6_000);
    let f = next_matching(&mut ws, &mut seq, |f| {
        is_state(f) && f["queues"].as_array().is_some_and(|q| q.len() == 2)
    })
    .await;
    assert_eq!(queue_names(&f), ["sales", "support"]);
    assert!(seq >= 2);

    // The oldest wait passes T/2, then T: amber, then red (and c-1 misses the SL).
    clock.set(t0 + 100 + 12_000);
    next_matching(&mut ws, &mut seq, |f| {
        is_state(f) && queue(f, "sales")["status"]["longest_wait"]["colour"] == "amber"
    })
    .await;
    clock.set(t0 + 100 + 25_000);
    let f = next_matching(&mut ws, &mut seq, |f| {
        is_state(f) && queue(f, "sales")["status"]["longest_wait"]["colour"] == "red"
    })
    .await;
    let sl = &queue(&f, "sales")["status"]["service_level"];
    assert_eq!(sl["value"], 0.0, "{sl}");
    assert_eq!(sl["colour"], "red");
    assert_eq!(live.feed.clients(), 1);

    // Shutdown ends the connection (graceful HTTP shutdown does not wait on it).
    live.stop().await;
    let end = tokio::time::timeout(GIVE_UP, async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => continue,
            }
        }
    })
    .await;
    assert!(end.is_ok(), "the feed closed on shutdown");
}

/// The default frame is the board view: every number it carries equals the API
/// snapshot's, fractions rounded to three decimals (`long_contact_seconds` besides);
/// `?detail=full` carries the API snapshot's objects whole.
#[tokio::test]
async fn board_view_by_default_and_the_full_snapshot_on_request() {
    let cfg = fast_config();
    let t0 = DEFAULT_START;
    let clock = Arc::new(ManualClock::new(t0));
    let live = start(&cfg, quick(), clock.clone()).await;
    let answered = ev(&format!(
        r#"{{"v":1,"ts":{},"type":"contact_answered","contact":"c-1","queue":"sales","agent":"a1"}}"#,
        t0 + 60
    ));
    for e in [
        agent(t0 + 10, "a1", "A", &["sales"]),
        queued(t0 + 40, "c-1", "sales"),
        queued(t0 + 50, "c-2", "sales"),
        answered,
    ] {
        live.script.send(e).await.expect("sent");
    }
    clock.set(t0 + 5_000);
    wait_snapshot(live.daemon.published(), |s| s.engine.applied == 4).await;
    // Let the tick that applied them pass, so both frames and the API show one state.
    clock.set(t0 + 5_000);
    let api = get_json(live.addr, "/api/v1/snapshot").await;
    let board = frame_at(&live, "/ws", &api).await;
    let full = frame_at(&live, "/ws?detail=full", &api).await;
    assert_eq!(board["filter"]["detail"], "board");
    assert_eq!(full["filter"]["detail"], "full");

    // Full: the API's queue objects (plus the status block), agents and teams.
    let mut fq = queue(&full, "sales").clone();
    fq.as_object_mut().expect("object").remove("status");
    assert_eq!(&fq, &api["queues"][0]);
    assert_eq!(full["agents"], api["agents"]);
    assert_eq!(full["teams"], api["teams"]);

    // Board: a subset, each value equal to the API's (fractions to three decimals).
    let bq = queue(&board, "sales");
    let aq = &api["queues"][0];
    for k in [
        "queue",
        "waiting",
        "oldest_queued_at_ms",
        "sl_target",
        "agents",
    ] {
        assert_eq!(bq[k], aq[k], "{k}");
    }
    for k in ["arrived", "answered", "abandoned", "sl_met", "sl_offered"] {
        assert_eq!(bq["today"][k], aq["today"][k], "today.{k}");
        assert_eq!(bq["rolling"][0][k], aq["rolling"][0][k], "rolling.{k}");
    }
    let milli = |v: &Value| v.as_f64().map(ccpulse::outputs::feed_view::milli);
    for w in ["today", "interval"] {
        for k in ["service_level", "asa_seconds", "abandon_rate"] {
            assert_eq!(bq[w][k].as_f64(), milli(&aq[w][k]), "{w}.{k}");
        }
    }
    assert_eq!(bq["today"]["asa_seconds"], 0.02, "c-1 waited 20 ms");
    assert_eq!(bq["today"]["arrived"], 2);
    // The board says how long a1's contacts may last: the LongContact rule's 20 min.
    assert_eq!(
        board["agents"][0]["contact"]["since_ms"],
        Value::from(t0 + 60)
    );
    assert_eq!(board["agents"][0]["long_contact_seconds"], 1200.0);
    // No state rule times a contact (LongAfterCallWork times wrap-up).
    assert_eq!(board["agents"][0]["long_state_seconds"], Value::Null);
    assert!(
        full["agents"][0].get("long_contact_seconds").is_none(),
        "the API's object"
    );
    assert!(bq.get("sl_preset").is_none() && bq["today"].get("avg_talk_seconds").is_none());
    let (ba, aa) = (&board["agents"][0], &api["agents"][0]);
    for k in ["agent", "state", "since_ms", "team", "queues"] {
        assert_eq!(ba[k], aa[k], "agent {k}");
    }
    assert_eq!(ba["today"]["handled"], aa["today"]["handled"]);
    let (bytes_board, bytes_full) = (board.to_string().len(), full.to_string().len());
    assert!(
        bytes_board * 2 < bytes_full,
        "{bytes_board} vs {bytes_full}"
    );
    live.stop().await;
}

#[tokio::test]
async fn the_boards_service_level_fraction_follows_each_queues_preset() {
    // sales counts answered contacts only (Asterisk's servicelevel); support, the
    // default cisco_type2, counts the abandon within T against.
    let mut cfg = fast_config();
    cfg.queues.insert(
        "sales".into(),
        ccpulse::config::QueueSettings {
            sl_preset: Some(ccpulse::kpi::SlPreset::AnsweredOnly),
            ..Default::default()
        },
    );
    let t0 = DEFAULT_START;
    let clock = Arc::new(ManualClock::new(t0));
    let live = start(&cfg, quick(), clock.clone()).await;
    let line = |ts: Millis, ty: &str, contact: &str, queue: &str, rest: &str| {
        ev(&format!(
            r#"{{"v":1,"ts":{ts},"type":"{ty}","contact":"{contact}","queue":"{queue}"{rest}}}"#
        ))
    };
    let mut events = vec![agent(t0, "a1", "A", &["sales", "support"])];
    for q in ["sales", "support"] {
        let (c1, c2) = (format!("{q}-1"), format!("{q}-2"));
        events.push(line(t0 + 100, "contact_queued", &c1, q, ""));
        events.push(line(t0 + 100, "contact_queued", &c2, q, ""));
        // Answered after 2 s; abandoned after 10 s (not short, within T = 20 s).
        events.push(line(
            t0 + 2_100,
            "contact_answered",
            &c1,
            q,
            r#","agent":"a1""#,
        ));
        events.push(line(t0 + 10_100, "contact_abandoned", &c2, q, ""));
    }
    events.sort_by_key(|e| e.ts);
    let n = events.len() as u64;
    for e in events {
        live.script.send(e).await.expect("sent");
    }
    clock.set(t0 + 15_000);
    wait_snapshot(live.daemon.published(), |s| s.engine.applied == n).await;
    let api = get_json(live.addr, "/api/v1/snapshot").await;
    let board = frame_at(&live, "/ws", &api).await;
    let (sales, support) = (queue(&board, "sales"), queue(&board, "support"));
    // The API keeps the Cisco counters; the board gives each preset's own fraction.
    let api_sales = api["queues"]
        .as_array()
        .and_then(|q| q.iter().find(|q| q["queue"] == "sales"))
        .expect("sales in the API");
    assert_eq!(
        (
            &api_sales["today"]["sl_met"],
            &api_sales["today"]["sl_offered"]
        ),
        (&Value::from(1), &Value::from(2))
    );
    assert_eq!(
        (&sales["today"]["sl_met"], &sales["today"]["sl_offered"]),
        (&Value::from(1), &Value::from(1)),
        "answered_only: 1 of 1 answered"
    );
    assert_eq!(sales["today"]["service_level"], 1.0);
    assert_eq!(
        (&support["today"]["sl_met"], &support["today"]["sl_offered"]),
        (&Value::from(1), &Value::from(2)),
        "cisco_type2: 1 of 2"
    );
    assert_eq!(support["today"]["service_level"], 0.5);
    live.stop().await;
}

#[tokio::test]
async fn filters_queues_teams_and_agents() {
    let cfg = fast_config();
    let t0 = DEFAULT_START;
    let clock = Arc::new(ManualClock::new(t0));
    let live = start(&cfg, quick(), clock.clone()).await;
    for e in [
        agent(t0 + 10, "a1", "A", &["sales"]),
        agent(t0 + 20, "a2", "B", &["support"]),
        agent(t0 + 30, "a3", "A", &["support", "chat"]),
        queued(t0 + 40, "c-1", "sales"),
        queued(t0 + 50, "c-2", "support"),
        queued(t0 + 60, "c-3", "chat"),
    ] {
        live.script.send(e).await.expect("sent");
    }
    clock.set(t0 + 5_000);
    wait_snapshot(live.daemon.published(), |s| s.engine.applied == 6).await;

    let mut ws = ws_connect(live.addr, "/ws?queues=sales,chat").await;
    let f = next_json(&mut ws).await;
    assert_eq!(queue_names(&f), ["chat", "sales"]);
    let agents: Vec<&str> = f["agents"]
        .as_array()
        .expect("agents")
        .iter()
        .filter_map(|a| a["agent"].as_str())
        .collect();
    assert_eq!(agents, ["a1", "a3"]);
    assert_eq!(f["filter"]["queues"], serde_json::json!(["sales", "chat"]));
    assert_eq!(f["filter"]["teams"], Value::Null);

    let mut ws = ws_connect(live.addr, "/ws?queues=support&teams=A").await;
    let f = next_json(&mut ws).await;
    assert_eq!(queue_names(&f), ["support"]);
    let agents: Vec<&str> = f["agents"]
        .as_array()
        .expect("agents")
        .iter()
        .filter_map(|a| a["agent"].as_str())
        .collect();
    assert_eq!(agents, ["a3"], "serves support and is in team A");
    let teams: Vec<&str> = f["teams"]
        .as_array()
        .expect("teams")
        .iter()
        .filter_map(|t| t["team"].as_str())
        .collect();
    assert_eq!(teams, ["A"]);
    live.stop().await;
}

#[tokio::test]
async fn heartbeats_when_nothing_changes() {
    let cfg = fast_config();
    let t0 = DEFAULT_START;
    let clock = Arc::new(ManualClock::new(t0));
    let live = start(&cfg, quick(), clock.clone()).await;
    live.script
        .send(queued(t0 + 100, "c-1", "sales"))
        .await
        .expect("sent");
    clock.set(t0 + 3_000);
    wait_snapshot(live.daemon.published(), |s| s.engine.applied == 1).await;
    let mut ws = ws_connect(live.addr, "/ws").await;
    let first = next_json(&mut ws).await;
    assert_eq!(first["type"], "snapshot");
    let mut seq = 1;
    // Then the active alerts (none).
    let alerts = next_matching(&mut ws, &mut seq, |_| true).await;
    assert_eq!(
        (&alerts["type"], &alerts["event"]),
        (&"alert".into(), &"active".into())
    );
    assert_eq!(alerts["alerts"], serde_json::json!([]));
    // The clock stands still: ticks publish the same state, so only heartbeats follow.
    for _ in 0..3 {
        let f = next_matching(&mut ws, &mut seq, |_| true).await;
        assert_eq!(f["type"], "heartbeat", "{f}");
        assert_eq!(f["v"], 1);
        assert_eq!(f["watermark_ms"], first["watermark_ms"]);
        assert!(f.get("queues").is_none());
    }
    // A change brings a snapshot again.
    live.script
        .send(queued(t0 + 3_100, "c-2", "sales"))
        .await
        .expect("sent");
    clock.set(t0 + 6_000);
    let f = next_matching(&mut ws, &mut seq, is_state).await;
    assert_eq!(queue(&f, "sales")["waiting"], 2);
    live.stop().await;
}

/// One `POST /api/v1/events` body of JSON lines.
async fn post_lines(addr: std::net::SocketAddr, lines: &str) -> Value {
    let (status, body) = request(addr, "POST", "/api/v1/events", &[], lines.as_bytes()).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).expect("JSON answer")
}

#[tokio::test]
async fn a_client_that_never_reads_slows_neither_ingestion_nor_other_clients() {
    let cfg = fast_config();
    let t0 = DEFAULT_START;
    let clock = Arc::new(ManualClock::new(t0));
    let opts = FeedOptions {
        heartbeat: Duration::from_millis(200),
        send_timeout: Duration::from_secs(1),
        compression: true,
    };
    let live = start(&cfg, opts, clock.clone()).await;

    // Many agents make every unfiltered frame large (about a megabyte), so the stalled
    // client's socket buffers fill within a few ticks.
    let bulk_agents = 3_000;
    let mut lines = String::new();
    for i in 0..bulk_agents {
        lines.push_str(&format!(
            "{{\"v\":1,\"ts\":{},\"type\":\"agent_state\",\"agent\":\"bulk-{i:05}\",\"state\":\"available\",\"team\":\"bulk\",\"name\":\"Bulk agent number {i}\"}}\n",
            t0 + 1
        ));
    }
    let answer = post_lines(live.addr, &lines).await;
    assert_eq!(answer["accepted"], bulk_agents);
    clock.set(t0 + 3_000);
    wait_snapshot(live.daemon.published(), |s| s.engine.applied == bulk_agents).await;

    // Never polled after the handshake.
    let stalled = ws_connect(live.addr, "/ws").await;
    let mut reader = ws_connect(live.addr, "/ws?queues=sales").await;
    let mut seq = 0;
    next_matching(&mut reader, &mut seq, is_state).await;
    tokio::time::timeout(GIVE_UP, async {
        while live.feed.clients() < 2 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("both clients connected");

    // The reader reads all along and notes every state it is shown.
    let contacts = 20_000u64;
    let total = bulk_agents + contacts;
    let reading = tokio::spawn(async move {
        let mut seen = Vec::new();
        loop {
            let f = next_matching(&mut reader, &mut seq, is_state).await;
            let applied = f["engine"]["applied"].as_u64().expect("applied");
            seen.push(applied);
            if applied == total {
                return (reader, seq, seen, f);
            }
        }
    });

    // A flood of contacts, in POSTs of 1000 lines, while the stalled client holds on.
    let started = Instant::now();
    let mut sent = 0u64;
    while sent < contacts {
        let mut body = String::new();
        for k in sent..(sent + 1_000).min(contacts) {
            body.push_str(&format!(
                "{{\"v\":1,\"ts\":{},\"type\":\"contact_queued\",\"contact\":\"c-{k}\",\"queue\":\"sales\"}}\n",
                t0 + 5_000 + k as i64 / 10
            ));
        }
        let a = post_lines(live.addr, &body).await;
        sent += a["accepted"].as_u64().expect("accepted");
        // Event time follows, so the engine applies as the flood goes on.
        clock.set(t0 + 5_000 + sent as i64 / 10 + 2_000);
        // The flood spans several ticks (100 ms), so the reader has states to see.
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    clock.set(t0 + 5_000 + contacts as i64 / 10 + 3_000);
    wait_snapshot(live.daemon.published(), |s| s.engine.applied == total).await;
    let ingest_time = started.elapsed();
    assert!(
        ingest_time < Duration::from_secs(30),
        "ingestion took {ingest_time:?}"
    );

    // The reading client got fresh states during the flood and then the final one.
    let (mut reader, mut seq, seen, f) = tokio::time::timeout(GIVE_UP, reading)
        .await
        .expect("the reader sees the final state")
        .expect("reader task");
    assert!(
        seen.iter()
            .filter(|&&a| a > bulk_agents && a < total)
            .count()
            >= 1,
        "intermediate states reached the reader: {seen:?}"
    );
    assert_eq!(queue(&f, "sales")["waiting"], contacts);
    assert!(
        f["agents"].as_array().is_some_and(Vec::is_empty),
        "bulk agents serve no queue: filtered out"
    );

    // The stalled client is disconnected; the reader stays.
    tokio::time::timeout(GIVE_UP, async {
        while live.feed.clients() > 1 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the stalled client is disconnected");
    let f = next_matching(&mut reader, &mut seq, |_| true).await;
    assert!(f["type"] == "heartbeat" || is_state(&f));
    assert_eq!(live.feed.clients(), 1);
    drop(stalled);
    live.stop().await;
}

fn is_alert(f: &Value) -> bool {
    f["type"] == "alert"
}

/// A caller waits past `LongestWaitHigh` (3 × T = 60 s, for 1 min): an `alert` frame
/// `firing`, then, once answered (wait back under the 30 s clear threshold), `resolved`. Screens
/// connecting meanwhile get it in their `active` frame when their filter shows `sales`.
#[tokio::test]
async fn a_long_wait_sends_alert_frames_firing_then_resolved() {
    use ccpulse::model::EventBody;
    let cfg = fast_config();
    let t0 = DEFAULT_START;
    let clock = Arc::new(ManualClock::new(t0));
    let live = start(&cfg, quick(), clock.clone()).await;
    live.script
        .send(queued(t0 + 100, "c-1", "sales"))
        .await
        .expect("sent");
    clock.set(t0 + 3_000);
    wait_snapshot(live.daemon.published(), |s| s.engine.applied == 1).await;
    let mut ws = ws_connect(live.addr, "/ws").await;
    let mut seq = 0;
    let active = next_matching(&mut ws, &mut seq, is_alert).await;
    assert_eq!(active["event"], "active");
    assert_eq!(active["alerts"], serde_json::json!([]), "nothing fires yet");

    // Over 60 s: pending (since the first tick past it); by 190 s: firing.
    clock.set(t0 + 125_000);
    let pending = wait_alerts(&live.alerts, |a| {
        a.iter()
            .any(|x| x.alertname == "LongestWaitHigh" && x.state == "pending")
    })
    .await;
    let since_ms = pending[0].since_ms;
    clock.set(t0 + 190_000);
    let firing = next_matching(&mut ws, &mut seq, is_alert).await;
    assert_eq!(firing["event"], "firing", "{firing}");
    let a = &firing["alerts"][0];
    assert_eq!(a["alertname"], "LongestWaitHigh");
    assert_eq!(a["severity"], "warning");
    assert_eq!(
        (&a["scope_label"], &a["scope"]),
        (&"queue".into(), &"sales".into())
    );
    assert_eq!(a["state"], "firing");
    assert!(a["since_ms"].as_i64().expect("since_ms") > since_ms, "{a}");
    // The value is the wait at the watermark it fired at (clock − allowed lateness).
    let wait = a["value"].as_f64().expect("value");
    let watermark = live
        .daemon
        .published()
        .latest()
        .expect("snapshot")
        .watermark_ms;
    assert!(wait > 180.0 && wait <= 190.0, "{wait} at {watermark:?}");
    assert!(a["summary"].as_str().expect("summary").contains("sales"));
    let fp = a["fingerprint"].as_str().expect("fingerprint").to_string();

    // New screens get it in their `active` frame, if their filter shows the queue.
    let mut sales = ws_connect(live.addr, "/ws?queues=sales").await;
    let mut s_seq = 0;
    let f = next_matching(&mut sales, &mut s_seq, is_alert).await;
    assert_eq!(f["event"], "active");
    assert_eq!(f["alerts"][0]["fingerprint"], fp.as_str(), "{f}");
    let mut support = ws_connect(live.addr, "/ws?queues=support").await;
    let mut o_seq = 0;
    let f = next_matching(&mut support, &mut o_seq, is_alert).await;
    assert_eq!(f["alerts"], serde_json::json!([]), "filtered out: {f}");

    // Answered: the wait clears, the alert resolves.
    live.script
        .send(Event {
            ts: t0 + 191_000,
            id: None,
            body: EventBody::ContactAnswered {
                contact: "c-1".into(),
                queue: "sales".into(),
                agent: "a1".into(),
                wait_ms: None,
            },
        })
        .await
        .expect("sent");
    clock.set(t0 + 195_000);
    let resolved = next_matching(&mut ws, &mut seq, is_alert).await;
    assert_eq!(resolved["event"], "resolved", "{resolved}");
    let r = &resolved["alerts"][0];
    assert_eq!(r["fingerprint"], fp.as_str());
    assert_eq!(r["state"], "resolved");
    assert!(r["ends_at_ms"].as_i64().expect("ends_at_ms") >= t0 + 191_000);
    let f = next_matching(&mut sales, &mut s_seq, is_alert).await;
    assert_eq!(f["event"], "resolved", "the filtered screen too: {f}");
    let history = get_json(live.addr, "/api/v1/alerts").await;
    let kinds: Vec<&str> = history["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter(|e| e["fingerprint"] == fp.as_str())
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert_eq!(
        kinds,
        ["firing", "resolved"],
        "the frames match the history"
    );
    live.stop().await;
}

/// Prints a sample frame for docs/feed.md (`cargo test --test feed sample -- --ignored --nocapture`).
#[tokio::test]
#[ignore]
async fn sample_frame() {
    let cfg = fast_config();
    let t0 = DEFAULT_START;
    let clock = Arc::new(ManualClock::new(t0));
    let live = start(&cfg, quick(), clock.clone()).await;
    for e in [
        agent(t0 + 10, "a1", "A", &["sales"]),
        queued(t0 + 40, "c-1", "sales"),
    ] {
        live.script.send(e).await.expect("sent");
    }
    clock.set(t0 + 14_000);
    wait_snapshot(live.daemon.published(), |s| s.engine.applied == 2).await;
    let mut ws = ws_connect(live.addr, "/ws?queues=sales").await;
    let f = next_json(&mut ws).await;
    println!("{}", serde_json::to_string_pretty(&f).expect("json"));
    let f = next_json(&mut ws).await;
    println!("{}", serde_json::to_string_pretty(&f).expect("json"));
    live.stop().await;
}

/// With `[feed] compression = false` an offer of permessage-deflate is declined and the
/// frames go out plain.
#[tokio::test]
async fn compression_off_declines_deflate() {
    let cfg = fast_config();
    let clock = Arc::new(ManualClock::new(DEFAULT_START));
    let opts = FeedOptions {
        compression: false,
        ..quick()
    };
    let live = start(&cfg, opts, clock.clone()).await;
    live.script
        .send(queued(DEFAULT_START + 100, "c-1", "sales"))
        .await
        .expect("sent");
    // Enough agents for a state over the 4 KiB that compression would deflate.
    for i in 0..60 {
        let name = format!("PJSIP/{}", 1000 + i);
        let e = agent(DEFAULT_START + 200, &name, "team-a", &["sales"]);
        live.script.send(e).await.expect("sent");
    }
    clock.set(DEFAULT_START + 3_000);
    wait_snapshot(live.daemon.published(), |s| s.agents.len() == 60).await;
    let (mut ws, accepted) = ws_connect_deflate(live.addr, "/ws").await;
    assert!(!accepted, "no Sec-WebSocket-Extensions answer");
    let f = next_matching(&mut ws, &mut 0, is_state).await;
    assert_eq!(queue_names(&f), ["sales"]);
    let (deflated, _, largest_plain) = ws.deflated();
    assert_eq!(deflated, 0, "nothing deflated");
    assert!(
        largest_plain > 4096,
        "a state of {largest_plain} B went plain"
    );
    live.stop().await;
}

/// The feed writes its websocket frames itself: a client's ping gets its pong, a frame
/// over 4 KiB from the client closes the connection, and a plain GET is refused.
#[tokio::test]
async fn answers_pings_refuses_big_frames_and_plain_gets() {
    use futures_util::SinkExt;
    let cfg = fast_config();
    let clock = Arc::new(ManualClock::new(DEFAULT_START));
    let live = start(&cfg, quick(), clock.clone()).await;
    clock.set(DEFAULT_START + 3_000);

    let (status, _) = request(live.addr, "GET", "/ws", &[], b"").await;
    assert_eq!(status, 426, "a plain GET is not an upgrade");

    let mut ws = ws_connect(live.addr, "/ws").await;
    let mut seq = 0;
    next_matching(&mut ws, &mut seq, is_state).await;
    ws.send(Message::Ping(b"are you there".to_vec().into()))
        .await
        .expect("ping");
    let pong = tokio::time::timeout(GIVE_UP, async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Pong(p))) => return p,
                Some(Ok(_)) => continue,
                other => panic!("connection ended before the pong: {other:?}"),
            }
        }
    })
    .await
    .expect("a pong");
    assert_eq!(&pong[..], b"are you there");

    ws.send(Message::Text("x".repeat(5_000).into()))
        .await
        .expect("send");
    let ended = tokio::time::timeout(GIVE_UP, async {
        loop {
            match ws.next().await {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(_)) => continue,
            }
        }
    })
    .await;
    assert!(
        ended.is_ok(),
        "an oversized client frame ends the connection"
    );
    live.stop().await;
}

/// What a merge patch cannot tell apart (a null member and a missing one), and the
/// per-connection header fields, removed.
fn comparable(frame: &Value) -> Value {
    fn strip(v: &Value) -> Value {
        match v {
            Value::Object(m) => Value::Object(
                m.iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, v)| (k.clone(), strip(v)))
                    .collect(),
            ),
            Value::Array(a) => Value::Array(a.iter().map(strip).collect()),
            other => other.clone(),
        }
    }
    let mut f = strip(frame);
    if let Some(m) = f.as_object_mut() {
        for k in ["type", "seq", "tick", "filter"] {
            m.remove(k);
        }
    }
    f
}

/// A screen that follows `delta` frames holds, at every watermark, the same state as a
/// screen that gets a whole `snapshot` each tick (`?delta=false`), for the board and
/// the full view, through a simulated half hour (agents logging in, breaks, contacts
/// coming and going); and the deltas are smaller than the snapshots. A third screen per
/// view negotiates permessage-deflate as browsers do and inflates what it reads: the
/// same states.
#[tokio::test]
async fn deltas_rebuild_the_state_of_whole_snapshots() {
    let cfg = fast_config();
    let sim_cfg = ccpulse::sim::SimConfig::demo(11);
    let t0 = sim_cfg.start;
    let clock = Arc::new(ManualClock::new(t0));
    let live = start(&cfg, quick(), clock.clone()).await;
    let pairs = ["/ws", "/ws?detail=full&teams=team-b", "/ws?detail=full"];
    let mut screens = Vec::new();
    let mut deflating = Vec::new();
    for path in pairs {
        let raw = format!(
            "{path}{}delta=false",
            if path.contains('?') { '&' } else { '?' }
        );
        screens.push((
            ws_connect(live.addr, path).await,
            0u64,
            ws_connect(live.addr, &raw).await,
            0u64,
        ));
        let (ws, accepted) = ws_connect_deflate(live.addr, path).await;
        assert!(accepted, "permessage-deflate is negotiated");
        deflating.push((ws, 0u64));
    }
    let mut events = ccpulse::sim::Simulator::new(&sim_cfg)
        .expect("simulator")
        .peekable();
    let (mut sent, mut deltas) = (0u64, 0u64);
    for step in 1..=60i64 {
        let until = t0 + 8 * 3_600_000 + step * 30_000;
        while let Some(e) = events.next_if(|e| e.ts <= until) {
            live.script.send(e).await.expect("sent");
            sent += 1;
        }
        clock.set(until + 3_000);
        let snap = wait_snapshot(live.daemon.published(), |s| {
            s.engine.applied + s.engine.late + s.engine.duplicates >= sent
                && s.watermark_ms >= Some(until + 1_000)
        })
        .await;
        let at = snap.watermark_ms;
        for ((delta_ws, dseq, whole_ws, wseq), (deflate_ws, zseq)) in
            screens.iter_mut().zip(deflating.iter_mut())
        {
            let want = |f: &Value| is_state(f) && f["watermark_ms"].as_i64() == at;
            let whole = next_matching(whole_ws, wseq, want).await;
            assert_eq!(
                whole["type"], "snapshot",
                "?delta=false sends snapshots only"
            );
            let rebuilt = next_matching(delta_ws, dseq, want).await;
            deltas += u64::from(rebuilt["type"] == "delta");
            assert_eq!(comparable(&rebuilt), comparable(&whole), "step {step}");
            let inflated = next_matching(deflate_ws, zseq, want).await;
            assert_eq!(
                comparable(&inflated),
                comparable(&whole),
                "deflate, step {step}"
            );
        }
    }
    assert!(sent > 1_000, "a busy half hour: {sent} events");
    assert!(deltas >= 100, "ticks arrived as deltas: {deltas}");
    for (ws, seq) in &deflating {
        // States of 4 KiB or more arrive deflated, smaller frames plain (a header of a
        // few hundred bytes goes in front of the state).
        let (deflated, smallest, largest_plain) = ws.deflated();
        println!(
            "{deflated} of {seq} deflated, smallest {smallest} B; largest plain {largest_plain} B"
        );
        assert!(deflated >= 1, "{deflated} of {seq}");
        assert!(smallest >= 4096 && largest_plain < 4096 + 400);
    }
    live.stop().await;
}
