use super::group::group_of;
use super::*;
use crate::alerts::{default_rules, AlertEvent, AlertKind};
use serde::Deserialize;
use serde_json::Value;

const T0: Millis = 1_795_856_400_000; // 2026-11-28T09:00:00Z

fn event(kind: AlertKind, name: &str, queue: &str, value: f64) -> AlertEvent {
    AlertEvent {
        kind,
        alertname: name.into(),
        severity: "warning",
        scope_label: "queue",
        scope: queue.into(),
        scope_labels: Default::default(),
        value,
        summary: format!("{value} contacts waiting in {queue}"),
        starts_at_ms: T0,
        ends_at_ms: (kind == AlertKind::Resolved).then_some(T0 + 90_000),
        fingerprint: format!("fp-{name}-{queue}"),
        threshold_scale: 1.0,
    }
}

fn ctx() -> Context {
    Context {
        external_url: "http://ccpulse.example:8080".into(),
        time_zone: jiff::tz::TimeZone::get("Europe/Berlin").expect("zone"),
        link_tickets: None,
    }
}

fn rule_with_extras() -> Rule {
    let mut r = default_rules()
        .into_iter()
        .find(|r| r.name == "ContactsWaitingHigh")
        .expect("built-in");
    r.labels.insert("team".into(), "blue".into());
    r.annotations.insert(
        "description".into(),
        "{scope} has {value} waiting; call the backup team".into(),
    );
    r
}

fn message<'a>(alerts: &'a [Notification]) -> GroupMessage<'a> {
    let (group_key, group_labels) = group_of(&alerts[0], &["alertname".to_string()]);
    GroupMessage {
        receiver: "ops",
        group_key,
        group_labels,
        alerts: alerts.iter().collect(),
    }
}

/// Alertmanager's `webhook.Message` (notify/webhook), field by field with its JSON
/// names, written independently of our serializer: every field required, none unknown.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct AmMessage {
    version: String,
    #[serde(rename = "groupKey")]
    group_key: String,
    #[serde(rename = "truncatedAlerts")]
    truncated_alerts: u64,
    status: String,
    receiver: String,
    #[serde(rename = "groupLabels")]
    group_labels: BTreeMap<String, String>,
    #[serde(rename = "commonLabels")]
    common_labels: BTreeMap<String, String>,
    #[serde(rename = "commonAnnotations")]
    common_annotations: BTreeMap<String, String>,
    #[serde(rename = "externalURL")]
    external_url: String,
    alerts: Vec<AmAlert>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct AmAlert {
    status: String,
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
    #[serde(rename = "startsAt")]
    starts_at: String,
    #[serde(rename = "endsAt")]
    ends_at: String,
    #[serde(rename = "generatorURL")]
    generator_url: String,
    fingerprint: String,
}

#[test]
fn notification_carries_rule_labels_and_filled_annotations() {
    let r = rule_with_extras();
    let n = Notification::from_event(
        &event(AlertKind::Firing, "ContactsWaitingHigh", "sales", 12.0),
        Some(&r),
    );
    assert_eq!(n.labels["alertname"], "ContactsWaitingHigh");
    assert_eq!(n.labels["severity"], "warning");
    assert_eq!(n.labels["queue"], "sales");
    assert_eq!(n.labels["team"], "blue");
    assert_eq!(n.annotations["summary"], "12 contacts waiting in sales");
    assert_eq!(
        n.annotations["description"],
        "sales has 12 waiting; call the backup team"
    );
    // A rule without a description gets a generated one.
    let plain = default_rules()
        .into_iter()
        .find(|r| r.name == "LongestWaitHigh")
        .expect("built-in");
    // Its thresholds count in the queue's SL threshold (20 s here).
    let mut e = event(AlertKind::Repeat, "LongestWaitHigh", "sales", 130.0);
    e.threshold_scale = 20.0;
    let n = Notification::from_event(&e, Some(&plain));
    assert_eq!(n.status, Status::Firing, "a repeat is firing again");
    assert_eq!(
        n.annotations["description"],
        "LongestWaitHigh is 2\u{a0}min 10\u{a0}s for sales: above the threshold 1\u{a0}min \
         (3 × the SL threshold 20\u{a0}s); clears at or below 30\u{a0}s."
    );
}

#[test]
fn webhook_payload_is_alertmanager_v4() {
    let r = rule_with_extras();
    let alerts = vec![
        Notification::from_event(
            &event(AlertKind::Firing, "ContactsWaitingHigh", "sales", 12.0),
            Some(&r),
        ),
        Notification::from_event(
            &event(AlertKind::Resolved, "ContactsWaitingHigh", "support", 3.0),
            Some(&r),
        ),
    ];
    let msg = message(&alerts);
    let json = serde_json::to_value(webhook::payload(&msg, &ctx())).expect("json");
    let am: AmMessage = serde_json::from_value(json.clone()).expect("Alertmanager's schema");
    assert_eq!(am.version, "4");
    assert_eq!(am.status, "firing", "one alert of the group still fires");
    assert_eq!(am.receiver, "ops");
    assert_eq!(am.group_key, r#"{}:{alertname="ContactsWaitingHigh"}"#);
    assert_eq!(am.group_labels.len(), 1);
    assert_eq!(am.common_labels["alertname"], "ContactsWaitingHigh");
    assert_eq!(am.common_labels["team"], "blue");
    assert!(
        !am.common_labels.contains_key("queue"),
        "queues differ: not common"
    );
    assert!(!am.common_annotations.contains_key("summary"));
    assert_eq!(am.external_url, "http://ccpulse.example:8080");
    assert_eq!(am.alerts.len(), 2);
    let firing = &am.alerts[0];
    assert_eq!(firing.status, "firing");
    assert_eq!(firing.starts_at, "2026-11-28T09:00:00Z");
    assert_eq!(firing.ends_at, "0001-01-01T00:00:00Z");
    assert_eq!(
        firing.generator_url,
        "http://ccpulse.example:8080/api/v1/alerts"
    );
    assert_eq!(firing.fingerprint, "fp-ContactsWaitingHigh-sales");
    assert_eq!(firing.labels["queue"], "sales");
    let resolved = &am.alerts[1];
    assert_eq!(resolved.status, "resolved");
    assert_eq!(resolved.ends_at, "2026-11-28T09:01:30Z");
    // Only resolved alerts: the message is resolved.
    let only = vec![alerts[1].clone()];
    let v = serde_json::to_value(webhook::payload(&message(&only), &ctx())).expect("json");
    assert_eq!(v["status"], "resolved");
}

#[test]
fn slack_payload_has_fallback_text_and_blocks() {
    let alerts = vec![Notification::from_event(
        &event(AlertKind::Firing, "ContactsWaitingHigh", "<sales&co>", 12.0),
        Some(&rule_with_extras()),
    )];
    let v = slack::payload(&message(&alerts), &ctx());
    let text = v["text"].as_str().expect("text");
    assert!(text.starts_with("[FIRING:1] ContactsWaitingHigh"), "{text}");
    let blocks = v["blocks"].as_array().expect("blocks");
    assert_eq!(blocks[0]["type"], "header");
    assert_eq!(blocks[0]["text"]["type"], "plain_text");
    assert_eq!(blocks[1]["type"], "section");
    let section = blocks[1]["text"]["text"].as_str().expect("mrkdwn");
    assert_eq!(blocks[1]["text"]["type"], "mrkdwn");
    assert!(
        section.contains("&lt;sales&amp;co&gt;"),
        "escaped: {section}"
    );
    assert!(section.contains("call the backup team"), "{section}");
    // 09:00Z on the Berlin floor's clock, its queue's board (the name URL-encoded) and,
    // firing, the page acknowledging it (mrkdwn-escaped).
    assert!(
        section.ends_with(
            "\nsince 10:00 CET · <http://ccpulse.example:8080/?queues=%3Csales%26co%3E|open the board> · <http://ccpulse.example:8080/ack/fp-ContactsWaitingHigh-%3Csales&amp;co%3E|acknowledge>"
        ),
        "{section}"
    );
    assert_eq!(blocks.last().expect("context")["type"], "context");
    assert!(blocks.len() <= 50);
    // Resolved: from when to when.
    let resolved = vec![Notification::from_event(
        &event(AlertKind::Resolved, "ContactsWaitingHigh", "sales", 3.0),
        None,
    )];
    let v = slack::payload(&message(&resolved), &ctx());
    let section = v["blocks"][1]["text"]["text"].as_str().expect("mrkdwn");
    assert!(
        section.contains("\n10:00 CET – 10:01 CET · <http://ccpulse.example:8080/?queues=sales|"),
        "{section}"
    );
    assert!(
        !section.contains("acknowledge"),
        "resolved: nothing to acknowledge"
    );
}

#[test]
fn chat_links_open_the_board_of_the_alerts_queue_or_team() {
    let c = ctx();
    let mut n = Notification::from_event(
        &event(AlertKind::Firing, "ContactsWaitingHigh", "sales", 12.0),
        None,
    );
    assert_eq!(c.board_url(&n), "http://ccpulse.example:8080/?queues=sales");
    // An agent's alert carries the agent's team: that team's board.
    n.labels.remove("queue");
    n.labels.insert("agent".into(), "PJSIP/1000".into());
    n.labels.insert("team".into(), "Team A".into());
    assert_eq!(c.board_url(&n), "http://ccpulse.example:8080/?teams=Team+A");
    // A source's alert: the whole floor.
    n.labels.remove("team");
    assert_eq!(c.board_url(&n), "http://ccpulse.example:8080/");
    // Summer time in Berlin, and another zone.
    assert_eq!(c.clock(1_783_500_000_000), "10:40 CEST");
    let ny = Context {
        time_zone: jiff::tz::TimeZone::get("America/New_York").expect("zone"),
        ..c
    };
    assert_eq!(ny.clock(T0), "04:00 EST");
    // With a token guarding the board, a link carries a read ticket of the configured
    // life: it opens the board (and nothing else) without the token.
    let auth = crate::auth::Auth::new(Some("s3cret"));
    let guarded = Context {
        link_tickets: Some((auth.clone(), 3_600_000)),
        ..ny
    };
    n.labels.insert("team".into(), "A".into());
    let url = reqwest::Url::parse(&guarded.board_url(&n)).expect("url");
    let q: BTreeMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(q.get("teams").map(String::as_str), Some("A"), "{url}");
    let ticket = q.get("ticket").expect("a ticket");
    let now = crate::auth::wall_ms();
    assert!(auth.ticket_valid(ticket, now), "{ticket}");
    assert!(
        !auth.ticket_valid(ticket, now + 3_600_001),
        "an hour's life: {ticket}"
    );
    // Its acknowledge link: this alert's page, with a ticket acknowledging it only.
    n.fingerprint = "0123abcd".into();
    let ack = reqwest::Url::parse(&guarded.ack_url(&n).expect("firing")).expect("url");
    assert_eq!(ack.path(), "/ack/0123abcd");
    let q: BTreeMap<String, String> = ack.query_pairs().into_owned().collect();
    let t = q.get("ticket").expect("an ack ticket");
    assert!(auth.ack_ticket_valid("0123abcd", t, now), "{t}");
    assert!(
        !auth.ack_ticket_valid("0123abce", t, now),
        "that alert only"
    );
    assert!(!auth.ticket_valid(t, now), "no read ticket");
    assert!(!auth.ack_ticket_valid("0123abcd", t, now + 3_600_001));
    // No token: the bare page; resolved: no link.
    assert_eq!(
        ctx().ack_url(&n).as_deref(),
        Some("http://ccpulse.example:8080/ack/0123abcd")
    );
    n.status = Status::Resolved;
    assert_eq!(guarded.ack_url(&n), None);
}

#[test]
fn slack_caps_blocks_for_big_groups() {
    let alerts: Vec<Notification> = (0..60)
        .map(|i| {
            Notification::from_event(
                &event(
                    AlertKind::Firing,
                    "ContactsWaitingHigh",
                    &format!("q{i}"),
                    12.0,
                ),
                None,
            )
        })
        .collect();
    let v = slack::payload(&message(&alerts), &ctx());
    let blocks = v["blocks"].as_array().expect("blocks");
    assert!(blocks.len() <= 50, "{}", blocks.len());
    let last = blocks.last().expect("context")["elements"][0]["text"]
        .as_str()
        .expect("text");
    assert!(last.contains("and 40 more"), "{last}");
}

#[test]
fn teams_payload_is_an_adaptive_card_message() {
    let alerts = vec![Notification::from_event(
        &event(AlertKind::Resolved, "ContactsWaitingHigh", "sales", 3.0),
        Some(&rule_with_extras()),
    )];
    let v = teams::payload(&message(&alerts), &ctx());
    assert_eq!(v["type"], "message");
    let att = &v["attachments"][0];
    assert_eq!(
        att["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    let card = &att["content"];
    assert_eq!(card["type"], "AdaptiveCard");
    assert_eq!(card["version"], "1.4");
    assert_eq!(
        card["$schema"],
        "http://adaptivecards.io/schemas/adaptive-card.json"
    );
    let body = card["body"].as_array().expect("body");
    assert_eq!(body[0]["type"], "TextBlock");
    assert_eq!(body[0]["text"], "[RESOLVED] ContactsWaitingHigh");
    assert_eq!(body[0]["color"], "Good");
    let facts = body[1]["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["type"] == "FactSet")
        .expect("facts");
    let has = |t: &str, v: &str| {
        facts["facts"]
            .as_array()
            .is_some_and(|f| f.iter().any(|x| x["title"] == t && x["value"] == v))
    };
    assert!(
        has("queue", "sales") && has("Status", "resolved"),
        "{facts}"
    );
    assert!(
        has("Since", "10:00 CET") && has("Resolved", "10:01 CET"),
        "the Berlin floor's clock: {facts}"
    );
    let board = "http://ccpulse.example:8080/?queues=sales";
    assert!(
        body[1]["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|i| i["text"] == format!("[Open the board]({board})")),
        "{}",
        body[1]
    );
    assert_eq!(card["actions"][0]["type"], "Action.OpenUrl");
    assert_eq!(card["actions"][0]["url"], board, "one queue: its board");
    // Firing: the board and the page acknowledging it.
    let firing = vec![Notification::from_event(
        &event(AlertKind::Firing, "ContactsWaitingHigh", "sales", 12.0),
        None,
    )];
    let v = teams::payload(&message(&firing), &ctx());
    let links = format!(
        "[Open the board]({board}) · [Acknowledge](http://ccpulse.example:8080/ack/fp-ContactsWaitingHigh-sales)"
    );
    let items = &v["attachments"][0]["content"]["body"][1]["items"];
    assert!(
        items
            .as_array()
            .expect("items")
            .iter()
            .any(|i| i["text"] == links.as_str()),
        "{items}"
    );
    // Under a token every link carries its own ticket: two alerts of one queue still
    // share its board, two queues get the whole floor.
    let guarded = Context {
        link_tickets: Some((crate::auth::Auth::new(Some("s3cret")), 3_600_000)),
        ..ctx()
    };
    let button = |alerts: &[Notification]| {
        let v = teams::payload(&message(alerts), &guarded);
        let url = v["attachments"][0]["content"]["actions"][0]["url"]
            .as_str()
            .map(str::to_string)
            .expect("url");
        let url = reqwest::Url::parse(&url).expect("url");
        url.query_pairs()
            .filter(|(k, _)| k != "ticket")
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
    };
    let of = |name: &str, queue: &str| {
        Notification::from_event(&event(AlertKind::Firing, name, queue, 3.0), None)
    };
    let same = [
        of("ContactsWaitingHigh", "sales"),
        of("AbandonRateHigh", "sales"),
    ];
    assert_eq!(button(&same), ["queues=sales"]);
    let two = [
        of("ContactsWaitingHigh", "sales"),
        of("ContactsWaitingHigh", "support"),
    ];
    assert!(button(&two).is_empty(), "{:?}", button(&two));
}

#[test]
fn alertmanager_postable_alerts() {
    let r = rule_with_extras();
    let firing = Notification::from_event(
        &event(AlertKind::Firing, "ContactsWaitingHigh", "sales", 12.0),
        Some(&r),
    );
    let resolved = Notification::from_event(
        &event(AlertKind::Resolved, "ContactsWaitingHigh", "support", 2.0),
        Some(&r),
    );
    let now = T0 + 120_000;
    let resend = std::time::Duration::from_secs(60);
    let p = alertmanager::postable(&firing, &ctx(), now, resend);
    assert_eq!(p.starts_at, "2026-11-28T09:00:00Z");
    assert_eq!(
        p.ends_at, "2026-11-28T09:06:00Z",
        "now + 4 resend intervals"
    );
    assert_eq!(p.labels["alertname"], "ContactsWaitingHigh");
    let p = alertmanager::postable(&resolved, &ctx(), now, resend);
    assert_eq!(p.ends_at, "2026-11-28T09:01:30Z", "its resolve time");
    // A resolve time ahead of the wall clock (replay, accelerated clock) is clamped.
    let p = alertmanager::postable(&resolved, &ctx(), T0 + 60_000, resend);
    assert_eq!(p.ends_at, "2026-11-28T09:01:00Z");
    let v: Value = serde_json::to_value(&p).expect("json");
    let keys: Vec<&str> = v
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "labels",
            "annotations",
            "startsAt",
            "endsAt",
            "generatorURL"
        ]
    );
}

#[test]
fn group_key_and_labels_follow_group_by() {
    let n = Notification::from_event(
        &event(AlertKind::Firing, "ContactsWaitingHigh", "sales", 12.0),
        None,
    );
    let (key, labels) = group_of(&n, &["alertname".into(), "queue".into(), "nope".into()]);
    assert_eq!(
        key,
        r#"{}:{alertname="ContactsWaitingHigh", queue="sales"}"#
    );
    assert_eq!(labels.len(), 2);
}

#[tokio::test]
async fn a_full_queue_drops_and_counts_without_waiting() {
    // A receiver whose task never reads: capacity 2, then every offer is dropped.
    let mut rc = ReceiverConfig::new("slow", ReceiverKind::Webhook, "http://127.0.0.1:9/");
    rc.queue_capacity = 2;
    let counters = Arc::new(Counters::default());
    let (tx, _rx) = mpsc::channel(rc.queue_capacity);
    let d = Dispatcher {
        rules: FxHashMap::default(),
        receivers: vec![Handle {
            name: rc.name.clone(),
            sink: Sink::Queue(tx),
            counters: counters.clone(),
        }],
    };
    let events: Vec<AlertEvent> = (0..5)
        .map(|i| event(AlertKind::Firing, "X", &format!("q{i}"), 1.0))
        .collect();
    d.dispatch(&events);
    assert_eq!(counters.dropped.load(Ordering::Relaxed), 3);
    let stats = NotifyStats(Arc::new(vec![("slow".into(), counters)]));
    assert!(stats.totals().contains(&("slow".to_string(), "dropped", 3)));
}

#[test]
fn rule_receivers_route_notifications() {
    let mut r = rule_with_extras();
    r.receivers = vec!["b".into()];
    let mk = |name: &str| {
        let (tx, rx) = mpsc::channel(8);
        (
            Handle {
                name: name.into(),
                sink: Sink::Queue(tx),
                counters: Arc::default(),
            },
            rx,
        )
    };
    let (a, mut rx_a) = mk("a");
    let (b, mut rx_b) = mk("b");
    let d = Dispatcher {
        rules: [(r.name.clone(), r)].into_iter().collect(),
        receivers: vec![a, b],
    };
    d.dispatch(&[
        event(AlertKind::Firing, "ContactsWaitingHigh", "sales", 12.0),
        event(AlertKind::Firing, "LongestWaitHigh", "sales", 200.0),
    ]);
    let names = |rx: &mut mpsc::Receiver<Notification>| {
        let mut v = Vec::new();
        while let Ok(n) = rx.try_recv() {
            v.push(n.alertname().to_string());
        }
        v
    };
    assert_eq!(names(&mut rx_a), ["LongestWaitHigh"]);
    assert_eq!(names(&mut rx_b), ["ContactsWaitingHigh", "LongestWaitHigh"]);
}
