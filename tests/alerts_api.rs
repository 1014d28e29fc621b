//! The built-in alert rules in the live daemon: a queue with more than 10 contacts
//! waiting for 2 minutes fires `ContactsWaitingHigh` once; `GET /api/v1/alerts` shows it
//! and the notification; acknowledging it answers 200 (404 for an unknown one).

mod live_support;

use ccpulse::model::{Channel, Event, EventBody};
use live_support::{fast_config, get_json, request, start_manual, wait_snapshot, GIVE_UP};

const T0: i64 = 1_795_856_400_000; // 2026-11-28T09:00:00Z

#[tokio::test]
async fn contacts_waiting_high_fires_and_can_be_acknowledged() {
    let (live, clock) = start_manual(&fast_config(), T0).await;
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
    let firing = loop {
        let v = get_json(live.addr, "/api/v1/alerts").await;
        let hit = v["active"].as_array().and_then(|a| {
            a.iter()
                .find(|x| x["alertname"] == "ContactsWaitingHigh" && x["state"] == "firing")
                .cloned()
        });
        if let Some(h) = hit {
            break (h, v);
        }
        assert!(tokio::time::Instant::now() < deadline, "never fired: {v}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    let (alert, body) = firing;
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
