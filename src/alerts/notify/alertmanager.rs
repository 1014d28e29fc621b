//! Alertmanager: `POST {url}/api/v2/alerts` with postable alerts. Alertmanager resolves
//! an alert it has not heard of within its `endsAt`, so every firing alert is re-sent
//! each `resend_interval` with `endsAt` four intervals ahead (as Prometheus does);
//! a resolved one is sent with its `endsAt` until delivered. Alertmanager does the
//! grouping, repeats and routing itself.

use super::deliver::Http;
use super::{Context, Notification, Status};
use crate::config::ReceiverConfig;
use crate::model::{format_rfc3339, Millis};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::sync::mpsc;

/// One alert of `POST /api/v2/alerts` (Alertmanager's `postableAlert`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostableAlert {
    /// Its labels (identity).
    pub labels: BTreeMap<String, String>,
    /// Its annotations.
    pub annotations: BTreeMap<String, String>,
    /// RFC 3339.
    pub starts_at: String,
    /// RFC 3339: in the future while firing, the resolve time once resolved.
    pub ends_at: String,
    /// Link back to the daemon.
    #[serde(rename = "generatorURL")]
    pub generator_url: String,
}

/// The postable alert of `n`; `now_ms` is the wall clock (Alertmanager's time).
pub fn postable(
    n: &Notification,
    ctx: &Context,
    now_ms: Millis,
    resend: Duration,
) -> PostableAlert {
    let ends = match (n.status, n.ends_at_ms) {
        // Never in Alertmanager's future: replays and accelerated clocks run ahead.
        (Status::Resolved, Some(t)) => t.min(now_ms),
        (Status::Resolved, None) => now_ms,
        (Status::Firing, _) => now_ms + 4 * i64::try_from(resend.as_millis()).unwrap_or(60_000),
    };
    PostableAlert {
        labels: n.labels.clone(),
        annotations: n.annotations.clone(),
        starts_at: format_rfc3339(n.starts_at_ms.min(ends)),
        ends_at: format_rfc3339(ends),
        generator_url: ctx.generator_url(),
    }
}

/// The body: every firing alert and every resolved one not yet delivered.
pub fn payload(
    alerts: &BTreeMap<String, Notification>,
    ctx: &Context,
    now_ms: Millis,
    resend: Duration,
) -> Vec<PostableAlert> {
    alerts
        .values()
        .map(|n| postable(n, ctx, now_ms, resend))
        .collect()
}

fn wall_ms() -> Millis {
    jiff::Timestamp::now().as_millisecond()
}

/// The task: posts on every change and every `resend_interval`; ends when the queue
/// closes, after one last post of pending resolutions.
pub(super) async fn run(
    rc: ReceiverConfig,
    mut rx: mpsc::Receiver<Notification>,
    http: Http,
    ctx: Context,
) {
    let url = format!("{}/api/v2/alerts", rc.url.trim_end_matches('/'));
    let http = http.with_url(url);
    let resend = Duration::from_millis(rc.resend_interval.ms().unsigned_abs());
    let mut tick = tokio::time::interval(resend);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    let mut alerts: BTreeMap<String, Notification> = BTreeMap::new();
    loop {
        tokio::select! {
            msg = rx.recv() => {
                let Some(n) = msg else { break };
                alerts.insert(n.fingerprint.clone(), n);
                // Take whatever else is already queued into the same post.
                while let Ok(n) = rx.try_recv() {
                    alerts.insert(n.fingerprint.clone(), n);
                }
            }
            _ = tick.tick() => {
                if alerts.is_empty() {
                    continue;
                }
            }
        }
        send(&http, &ctx, &mut alerts, resend).await;
    }
    if alerts.values().any(|a| a.status == Status::Resolved) {
        send(&http, &ctx, &mut alerts, resend).await;
    }
}

async fn send(
    http: &Http,
    ctx: &Context,
    alerts: &mut BTreeMap<String, Notification>,
    resend: Duration,
) {
    let body = payload(alerts, ctx, wall_ms(), resend);
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    if http.post(&bytes).await {
        alerts.retain(|_, a| a.status == Status::Firing);
    }
}
