//! Ticker messages and remote reload: what the team leader posts reaches every feed
//! client as `message` / `reload` frames; writes need the bearer token when one is set.

mod live_support;

use ccpulse::outputs::feed::FeedOptions;
use ccpulse::runtime::{Clock, ManualClock};
use live_support::{fast_config, get_json, next_json, request, start, ws_connect};
use std::sync::Arc;

const T0: i64 = 1_795_856_400_000;

#[tokio::test]
async fn messages_and_reload_reach_the_screens() {
    let clock = Arc::new(ManualClock::new(T0));
    let live = start(
        &fast_config(),
        FeedOptions::default(),
        clock as Arc<dyn Clock>,
    )
    .await;
    let mut ws = ws_connect(live.addr, "/ws").await;
    let json = [("content-type", "application/json")];
    let body = br#"{"text": "Team huddle at 10:30", "expires_in": "15m"}"#;
    let (status, created) = request(live.addr, "POST", "/api/v1/messages", &json, body).await;
    assert_eq!(status, 201, "{created}");
    let frame = loop {
        let f = next_json(&mut ws).await;
        if f["type"] == "message" {
            break f;
        }
    };
    assert_eq!(frame["messages"][0]["text"], "Team huddle at 10:30");
    let listed = get_json(live.addr, "/api/v1/messages").await;
    assert_eq!(listed.as_array().map(Vec::len), Some(1));

    let (status, _) = request(live.addr, "POST", "/api/v1/wallboard/reload", &[], b"").await;
    assert_eq!(status, 202);
    loop {
        if next_json(&mut ws).await["type"] == "reload" {
            break;
        }
    }
    let id = listed[0]["id"].as_u64().expect("id");
    let (status, _) = request(
        live.addr,
        "DELETE",
        &format!("/api/v1/messages/{id}"),
        &[],
        b"",
    )
    .await;
    assert_eq!(status, 204);
    let frame = loop {
        let f = next_json(&mut ws).await;
        if f["type"] == "message" {
            break f;
        }
    };
    assert_eq!(frame["messages"].as_array().map(Vec::len), Some(0));
    let (status, _) = request(
        live.addr,
        "POST",
        "/api/v1/messages",
        &json,
        br#"{"text": ""}"#,
    )
    .await;
    assert_eq!(status, 400);
    live.stop().await;
}

#[tokio::test]
async fn writes_need_the_bearer_token() {
    let mut cfg = fast_config();
    cfg.auth.token = Some("s3cret".into());
    let live = start(
        &cfg,
        FeedOptions::default(),
        Arc::new(ManualClock::new(T0)) as Arc<dyn Clock>,
    )
    .await;
    let json = [("content-type", "application/json")];
    let body = br#"{"text": "hello"}"#;
    let (status, _) = request(
        live.addr,
        "POST",
        "/api/v1/messages?token=s3cret",
        &json,
        body,
    )
    .await;
    assert_eq!(status, 401, "a token in the URL does not allow writes");
    let auth = [
        ("content-type", "application/json"),
        ("authorization", "Bearer s3cret"),
    ];
    let (status, _) = request(live.addr, "POST", "/api/v1/messages", &auth, body).await;
    assert_eq!(status, 201);
    live.stop().await;
}
