//! The built-in alert rules in the live daemon: a queue with more than 10 contacts
//! waiting for 2 minutes fires `ContactsWaitingHigh` once; `GET /api/v1/alerts` shows it
//! and the notification; acknowledging it answers 200 (404 for an unknown one). Under a
//! token, a chat alert's acknowledgement ticket reads and acknowledges that alert only.

mod live_support;

use ccpulse::model::{Channel, Event, EventBody};
use ccpulse::runtime::ManualClock;
use live_support::{fast_config, get_json, request, start_manual, wait_snapshot, Live, GIVE_UP};
use serde_json::Value;

const T0: i64 = 1_795_856_400_000; // 2026-11-28T09:00:00Z

/// Twelve contacts wait in `sales` for over 2 minutes of event time; returns the firing
/// `ContactsWaitingHigh` and the alerts API's answer (read with `headers`).
async fn fire(live: &Live, clock: &ManualClock, headers: &[(&str, &str)]) -> (Value, Value) {
    for k in 0..12 {
        let ev = Event {
            ts: T0 + k,
            id: None,
            body: EventBody::ContactQueued {
                contact: format!("c{k}").into(),
                queue: "sales".into(),
                channel: Channel::Voice,
            },
        };
        live.script.send(ev).await.expect("send");
    }
    // Events wait out the allowed lateness (2 s) before they are applied.
    clock.set(T0 + 2_000 + 1_000);
    wait_snapshot(live.daemon.published(), |s| s.engine.applied == 12).await;
    // Event time moves with the clock: 2 minutes and a bit of 12 waiting contacts.
    for step in 1..=15 {
        clock.set(T0 + 2_000 + step * 10_000);
        wait_snapshot(live.daemon.published(), |s| {
            s.watermark_ms >= Some(T0 + step * 10_000)
        })
        .await;
    }
    let deadline = tokio::time::Instant::now() + GIVE_UP;
    loop {
        let (status, body) = request(live.addr, "GET", "/api/v1/alerts", headers, b"").await;
        assert_eq!(status, 200, "{body}");
        let v: Value = serde_json::from_str(&body).expect("json");
        let hit = v["active"].as_array().and_then(|a| {
            a.iter()
                .find(|x| x["alertname"] == "ContactsWaitingHigh" && x["state"] == "firing")
                .cloned()
        });
        if let Some(h) = hit {
            return (h, v);
        }
        assert!(tokio::time::Instant::now() < deadline, "never fired: {v}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn contacts_waiting_high_fires_and_can_be_acknowledged() {
    let (live, clock) = start_manual(&fast_config(), T0).await;
    let (alert, body) = fire(&live, &clock, &[]).await;
    assert_eq!(alert["scope"], "sales");
    assert_eq!(alert["severity"], "warning");
    let notified = body["history"].as_array().expect("history");
    // Notified once (`LongestWaitHigh`, above 3 × T = 60 s, fires for these callers too).
    assert_eq!(
        notified
            .iter()
            .filter(|e| e["kind"] == "firing" && e["alertname"] == "ContactsWaitingHigh")
            .count(),
        1,
        "{body}"
    );
    // The snapshot carries the same alert state.
    let snap = get_json(live.addr, "/api/v1/snapshot").await;
    assert!(
        snap["alerts"]
            .as_array()
            .expect("alerts in the snapshot")
            .iter()
            .any(|a| a["fingerprint"] == alert["fingerprint"] && a["state"] == "firing"),
        "{snap}"
    );
    let fp = alert["fingerprint"].as_str().expect("fingerprint");
    let (status, _) = request(
        live.addr,
        "POST",
        &format!("/api/v1/alerts/{fp}/ack"),
        &[],
        b"",
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = request(
        live.addr,
        "POST",
        "/api/v1/alerts/0000000000000000/ack",
        &[],
        b"",
    )
    .await;
    assert_eq!(status, 404);
    let v = get_json(live.addr, "/api/v1/alerts").await;
    assert!(v["active"]
        .as_array()
        .expect("active")
        .iter()
        .any(|x| x["acknowledged"] == true));
    live.stop().await;
}

/// The "acknowledge" link of a chat alert under a token: `/ack/{fp}` is a page anyone may
/// load; its ticket reads and acknowledges that one alert, and opens nothing else.
#[tokio::test]
async fn an_ack_ticket_acknowledges_its_alert_only() {
    let mut cfg = fast_config();
    cfg.auth.token = Some("s3cret".into());
    let (live, clock) = start_manual(&cfg, T0).await;
    let bearer: &[(&str, &str)] = &[("Authorization", "Bearer s3cret")];
    let (alert, _) = fire(&live, &clock, bearer).await;
    let fp = alert["fingerprint"]
        .as_str()
        .expect("fingerprint")
        .to_string();
    let auth = ccpulse::auth::Auth::new(Some("s3cret"));
    let (ack, _) = auth.ack_ticket_lasting(&fp, 3_600_000).expect("ticket");
    let (other, _) = auth
        .ack_ticket_lasting("0000000000000000", 3_600_000)
        .expect("ticket");
    let (read, _) = auth.ticket_lasting(3_600_000).expect("ticket");
    let call = |method: &'static str, path: String| {
        let addr = live.addr;
        async move { request(addr, method, &path, &[], b"").await }
    };

    // The page: open, asks before acting.
    let (status, page) = call("GET", format!("/ack/{fp}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("Acknowledge alert"), "{page}");
    // Its ticket reads this alert, and nothing else.
    let (status, one) = call("GET", format!("/api/v1/alerts/{fp}?ticket={ack}")).await;
    assert_eq!(status, 200, "{one}");
    let one: Value = serde_json::from_str(&one).expect("json");
    assert_eq!(
        (&one["summary"], &one["acknowledged"]),
        (&alert["summary"], &Value::Bool(false))
    );
    assert_eq!(
        one["time_zone"], "UTC",
        "the config's zone, for the page's clock times"
    );
    for path in [
        format!("/api/v1/alerts?ticket={ack}"),
        format!("/api/v1/snapshot?ticket={ack}"),
        format!("/api/v1/alerts/0000000000000000?ticket={ack}"),
        format!("/api/v1/alerts/{fp}"),
    ] {
        assert_eq!(call("GET", path.clone()).await.0, 401, "{path}");
    }
    // Another alert's ticket, a read ticket, no ticket: no acknowledgement.
    for q in [
        format!("?ticket={other}"),
        format!("?ticket={read}"),
        String::new(),
    ] {
        let (status, body) = call("POST", format!("/api/v1/alerts/{fp}/ack{q}")).await;
        assert_eq!(status, 401, "{q}: {body}");
    }
    let (status, body) = call("POST", format!("/api/v1/alerts/{fp}/ack?ticket={ack}")).await;
    assert_eq!(status, 200, "{body}");
    let body: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(body["acknowledged"], fp.as_str());
    assert_eq!(body["alert"]["acknowledged"], true, "{body}");
    let (_, after) = request(live.addr, "GET", "/api/v1/alerts", bearer, b"").await;
    let after: Value = serde_json::from_str(&after).expect("json");
    assert!(
        after["active"]
            .as_array()
            .expect("active")
            .iter()
            .any(|x| x["fingerprint"] == fp.as_str() && x["acknowledged"] == true),
        "{after}"
    );
    live.stop().await;
}
