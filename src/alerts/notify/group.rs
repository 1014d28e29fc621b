//! Grouping and batching for message receivers (webhook, Slack, Teams), after
//! Alertmanager: alerts whose `group_by` labels agree form a group; a new group waits
//! `group_wait` for company, then one message carries all of its alerts; later changes
//! wait until `group_interval` has passed since the group's last message.
//! This is delivery timing, on the wall clock; alert logic stays on event time.

use super::deliver::Http;
use super::{slack, teams, webhook, Context, Notification, Status};
use crate::config::{ReceiverConfig, ReceiverKind};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// One message's content: a group of alerts for one receiver.
#[derive(Debug, Clone)]
pub struct GroupMessage<'a> {
    /// The receiver's name.
    pub receiver: &'a str,
    /// `{}:{alertname="…"}`: the group's identity.
    pub group_key: String,
    /// The `group_by` labels and their values.
    pub group_labels: BTreeMap<String, String>,
    /// The alerts, firing ones first, then by labels.
    pub alerts: Vec<&'a Notification>,
}

impl GroupMessage<'_> {
    /// `firing` if any alert fires, else `resolved`.
    pub fn status(&self) -> Status {
        if self.alerts.iter().any(|a| a.status == Status::Firing) {
            Status::Firing
        } else {
            Status::Resolved
        }
    }

    /// Alerts with `status`.
    pub fn count(&self, status: Status) -> usize {
        self.alerts.iter().filter(|a| a.status == status).count()
    }

    /// Labels every alert has with the same value.
    pub fn common_labels(&self) -> BTreeMap<String, String> {
        common(self.alerts.iter().map(|a| &a.labels))
    }

    /// Annotations every alert has with the same value.
    pub fn common_annotations(&self) -> BTreeMap<String, String> {
        common(self.alerts.iter().map(|a| &a.annotations))
    }

    /// `[FIRING:2] ContactsWaitingHigh` — Alertmanager's default title.
    pub fn title(&self) -> String {
        let values: Vec<&str> = self.group_labels.values().map(String::as_str).collect();
        let what = if values.is_empty() {
            "ccpulse".to_string()
        } else {
            values.join(" ")
        };
        match self.status() {
            Status::Firing => format!("[FIRING:{}] {what}", self.count(Status::Firing)),
            Status::Resolved => format!("[RESOLVED] {what}"),
        }
    }
}

fn common<'a>(
    mut maps: impl Iterator<Item = &'a BTreeMap<String, String>>,
) -> BTreeMap<String, String> {
    let Some(first) = maps.next() else {
        return BTreeMap::new();
    };
    let mut out = first.clone();
    for m in maps {
        out.retain(|k, v| m.get(k) == Some(v));
    }
    out
}

/// The group key and labels of `n` under `group_by`.
pub(super) fn group_of(
    n: &Notification,
    group_by: &[String],
) -> (String, BTreeMap<String, String>) {
    let labels: BTreeMap<String, String> = group_by
        .iter()
        .filter_map(|k| n.labels.get(k).map(|v| (k.clone(), v.clone())))
        .collect();
    let inner: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}={}", serde_json::Value::String(v.clone())))
        .collect();
    (format!("{{}}:{{{}}}", inner.join(", ")), labels)
}

#[derive(Debug, Default)]
struct Group {
    labels: BTreeMap<String, String>,
    alerts: BTreeMap<String, Notification>,
    due: Option<Instant>,
    last_sent: Option<Instant>,
}

fn dur(d: crate::config::Duration) -> Duration {
    Duration::from_millis(d.ms().unsigned_abs())
}

/// The body a message receiver posts for `msg`.
pub(super) fn render(kind: ReceiverKind, msg: &GroupMessage<'_>, ctx: &Context) -> Vec<u8> {
    let v = match kind {
        ReceiverKind::Slack => slack::payload(msg, ctx),
        ReceiverKind::Teams => teams::payload(msg, ctx),
        _ => serde_json::to_value(webhook::payload(msg, ctx)).unwrap_or_default(),
    };
    serde_json::to_vec(&v).unwrap_or_default()
}

/// The task of a message receiver: groups, waits, renders, delivers; ends when the
/// queue closes, after one last delivery of what is pending.
pub(super) async fn run(
    rc: ReceiverConfig,
    mut rx: mpsc::Receiver<Notification>,
    http: Http,
    ctx: Context,
) {
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    let (wait, interval) = (dur(rc.group_wait), dur(rc.group_interval));
    loop {
        let next = groups.values().filter_map(|g| g.due).min();
        tokio::select! {
            msg = rx.recv() => {
                let Some(n) = msg else { break };
                let (key, labels) = group_of(&n, &rc.group_by);
                let now = Instant::now();
                let g = groups.entry(key).or_default();
                g.labels = labels;
                g.alerts.insert(n.fingerprint.clone(), n);
                if g.due.is_none() {
                    let soonest = now + wait;
                    g.due = Some(match g.last_sent {
                        Some(t) => soonest.max(t + interval),
                        None => soonest,
                    });
                }
            }
            () = sleep_until(next) => {
                let now = Instant::now();
                let due: Vec<String> = groups
                    .iter()
                    .filter(|(_, g)| g.due.is_some_and(|d| d <= now))
                    .map(|(k, _)| k.clone())
                    .collect();
                for key in due {
                    flush(&rc, &http, &ctx, &mut groups, &key).await;
                }
            }
        }
    }
    // The queue closed (shutdown): deliver what is pending now.
    let pending: Vec<String> = groups
        .iter()
        .filter(|(_, g)| g.due.is_some())
        .map(|(k, _)| k.clone())
        .collect();
    for key in pending {
        flush(&rc, &http, &ctx, &mut groups, &key).await;
    }
}

async fn sleep_until(t: Option<Instant>) {
    match t {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

/// Sends group `key` and forgets its resolved alerts (delivered or given up).
async fn flush(
    rc: &ReceiverConfig,
    http: &Http,
    ctx: &Context,
    groups: &mut BTreeMap<String, Group>,
    key: &str,
) {
    let Some(g) = groups.get_mut(key) else {
        return;
    };
    let body = {
        let mut alerts: Vec<&Notification> = g.alerts.values().collect();
        alerts.sort_by(|a, b| {
            (a.status != Status::Firing, &a.labels).cmp(&(b.status != Status::Firing, &b.labels))
        });
        let msg = GroupMessage {
            receiver: &rc.name,
            group_key: key.to_string(),
            group_labels: g.labels.clone(),
            alerts,
        };
        render(rc.kind, &msg, ctx)
    };
    http.post(&body).await;
    g.due = None;
    g.last_sent = Some(Instant::now());
    g.alerts.retain(|_, a| a.status == Status::Firing);
    if g.alerts.is_empty() {
        groups.remove(key);
    }
}
