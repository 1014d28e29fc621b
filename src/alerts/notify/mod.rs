//! Notifiers (interfaces.md §6): the alert task hands each [`AlertEvent`] to a
//! [`Dispatcher`], which turns it into a [`Notification`] (labels and annotations of its
//! rule) and offers it to every receiver's bounded queue without waiting. One task per
//! receiver groups, renders and delivers with retries, so a slow or dead receiver only
//! ever delays itself.

pub mod alertmanager;
mod deliver;
mod group;
pub mod log;
pub mod slack;
pub mod teams;
pub mod webhook;

pub use group::GroupMessage;

use super::text::Unit;
use super::{AlertEvent, AlertKind, Comparison, Rule, ThresholdUnit};
use crate::config::{ReceiverConfig, ReceiverKind};
use crate::model::{format_rfc3339, Millis};
use rustc_hash::FxHashMap;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Firing or resolved, as receivers see it (a repeat is `firing` again).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The alert fires.
    Firing,
    /// The alert resolved.
    Resolved,
}

impl Status {
    /// `firing` / `resolved`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Firing => "firing",
            Status::Resolved => "resolved",
        }
    }
}

/// One alert as receivers get it: the labels and annotations of the Alertmanager model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Notification {
    /// Firing or resolved.
    pub status: Status,
    /// `alertname`, `severity`, `queue`, `agent` or `source`, the scope's labels (`team`
    /// of an agent) and the rule's `labels`.
    pub labels: BTreeMap<String, String>,
    /// `summary`, `description` and the rule's other annotations, filled in.
    pub annotations: BTreeMap<String, String>,
    /// When it started firing (event time, ms).
    pub starts_at_ms: Millis,
    /// When it resolved (event time, ms).
    pub ends_at_ms: Option<Millis>,
    /// Stable id of (alertname, scope).
    pub fingerprint: String,
    /// The measured value.
    pub value: f64,
}

/// The generated description; `scale` is what the rule's thresholds were multiplied by
/// for the alert's scope (its queue's T for thresholds in multiples of T).
fn describe(rule: &Rule, scale: f64) -> String {
    let unit = rule.metric.unit();
    let (op, good) = match rule.cmp {
        Comparison::Above => ("above", "at or below"),
        Comparison::Below => ("below", "at or above"),
    };
    let of_t = match rule.threshold_unit {
        ThresholdUnit::Metric => String::new(),
        ThresholdUnit::SlThreshold => format!(
            " ({} × the SL threshold {})",
            Unit::Count.text(rule.threshold),
            unit.text(scale)
        ),
    };
    format!(
        "{} is {{value_text}} for {{scope}}: {op} the threshold {}{of_t}; clears {good} {}.",
        rule.name,
        unit.text(rule.threshold * scale),
        unit.text(rule.clear * scale)
    )
}

impl Notification {
    /// The notification of `event`, with its rule's labels and annotations.
    pub fn from_event(event: &AlertEvent, rule: Option<&Rule>) -> Self {
        let mut labels = BTreeMap::new();
        if let Some(r) = rule {
            labels.extend(r.labels.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        // The scope's own labels (`team` of an agent) after the rule's: config cannot set
        // a label its metric carries, so nothing is overridden in practice.
        labels.extend(
            event
                .scope_labels
                .iter()
                .map(|(k, v)| ((*k).to_string(), v.clone())),
        );
        labels.insert("alertname".into(), event.alertname.clone());
        labels.insert("severity".into(), event.severity.into());
        labels.insert(event.scope_label.into(), event.scope.clone());
        let mut annotations = BTreeMap::new();
        if let Some(r) = rule {
            let fill = |t: &str| r.fill(t, &event.scope, event.value, &event.scope_labels);
            for (k, v) in &r.annotations {
                annotations.insert(k.clone(), fill(v));
            }
            annotations
                .entry("description".into())
                .or_insert_with(|| fill(&describe(r, event.threshold_scale)));
        }
        annotations.insert("summary".into(), event.summary.clone());
        Notification {
            status: if event.kind == AlertKind::Resolved {
                Status::Resolved
            } else {
                Status::Firing
            },
            labels,
            annotations,
            starts_at_ms: event.starts_at_ms,
            ends_at_ms: event.ends_at_ms,
            fingerprint: event.fingerprint.clone(),
            value: event.value,
        }
    }

    /// The `alertname` label.
    pub fn alertname(&self) -> &str {
        self.labels.get("alertname").map_or("", String::as_str)
    }

    /// The queue, agent, source or team it is about: `("queue", "sales")`. An agent's
    /// alert names the agent (its `team` is another label).
    pub fn scope(&self) -> Option<(&str, &str)> {
        ["queue", "agent", "source", "team"]
            .into_iter()
            .find_map(|k| self.labels.get(k).map(|v| (k, v.as_str())))
    }

    /// An annotation, or "".
    pub fn annotation(&self, key: &str) -> &str {
        self.annotations.get(key).map_or("", String::as_str)
    }

    /// `startsAt` in RFC 3339.
    pub fn starts_at(&self) -> String {
        format_rfc3339(self.starts_at_ms)
    }
}

/// The wallboard at `base` (the daemon's URL) with `query` (`teams`, `queues`, `ticket`),
/// URL-encoded: the links of chat alerts and of `ccpulse ticket`. Err: `base` is no URL.
pub fn board_link(base: &str, query: &[(&str, &str)]) -> Result<String, String> {
    let mut url = reqwest::Url::parse(&format!("{}/", base.trim_end_matches('/')))
        .map_err(|e| e.to_string())?;
    if !query.is_empty() {
        url.query_pairs_mut().extend_pairs(query);
    }
    Ok(url.to_string())
}

/// The board filter showing what `alert` is about: `("queues", its queue)`, else
/// `("teams", its team)`, else none (the whole floor).
pub fn board_filter(alert: &Notification) -> Option<(&'static str, &str)> {
    match (alert.labels.get("queue"), alert.labels.get("team")) {
        (Some(q), _) => Some(("queues", q.as_str())),
        (None, Some(t)) => Some(("teams", t.as_str())),
        (None, None) => None,
    }
}

/// Where receivers link to (the daemon's URL), and the center's time zone their texts
/// give clock times in.
#[derive(Debug, Clone)]
pub struct Context {
    /// `externalURL`: the daemon's base URL.
    pub external_url: String,
    /// The config's `timezone`: chat messages say "since 10:05 CET", as the floor's clocks.
    pub time_zone: jiff::tz::TimeZone,
    /// With `[auth] token`: the board links carry a read ticket of this life (ms), so
    /// they open without the token (`[auth] link_tickets`).
    pub link_tickets: Option<(crate::auth::Auth, i64)>,
}

impl Context {
    /// A clock time in the center's zone with its abbreviation ("10:05 CET"): what a
    /// team leader reads in a chat message.
    pub fn clock(&self, ms: Millis) -> String {
        jiff::Timestamp::from_millisecond(ms)
            .map(|t| {
                t.to_zoned_datetime(self.time_zone.clone())
                    .strftime("%H:%M %Z")
                    .to_string()
            })
            .unwrap_or_default()
    }

    /// The wallboard showing what `alert` is about: `?queues=` its queue, `?teams=` its
    /// team (an agent's alert carries the agent's team); the whole floor otherwise. A
    /// link the team leader opens from a chat message, on a phone as on a desk; with a
    /// read ticket when a token guards the board.
    pub fn board_url(&self, alert: &Notification) -> String {
        self.board_url_with(board_filter(alert))
    }

    /// The wallboard with at most one filter (`("teams", "A")`), ticket included.
    pub fn board_url_with(&self, filter: Option<(&str, &str)>) -> String {
        let ticket = self
            .link_tickets
            .as_ref()
            .and_then(|(auth, life)| auth.ticket_lasting(*life).ok())
            .map(|(t, _)| t);
        let mut query: Vec<(&str, &str)> = filter.into_iter().collect();
        if let Some(t) = &ticket {
            query.push(("ticket", t));
        }
        board_link(&self.external_url, &query)
            .unwrap_or_else(|_| format!("{}/", self.external_url.trim_end_matches('/')))
    }

    /// The page acknowledging `alert` (`/ack/{fingerprint}`), for a firing one: a link a
    /// team leader taps on a phone to silence its repeats. Under a token it carries an
    /// acknowledgement ticket (as long-lived as board links) that opens this alert only.
    pub fn ack_url(&self, alert: &Notification) -> Option<String> {
        if alert.status != Status::Firing {
            return None;
        }
        let ticket = self.link_tickets.as_ref().and_then(|(auth, life)| {
            auth.ack_ticket_lasting(&alert.fingerprint, *life)
                .ok()
                .map(|(t, _)| t)
        });
        let base = self.external_url.trim_end_matches('/');
        let mut url = reqwest::Url::parse(&format!("{base}/ack/")).ok()?;
        url.path_segments_mut()
            .ok()?
            .pop_if_empty()
            .push(&alert.fingerprint);
        if let Some(t) = &ticket {
            url.query_pairs_mut().append_pair("ticket", t);
        }
        Some(url.to_string())
    }

    /// `generatorURL` of an alert: the daemon's alert API.
    pub fn generator_url(&self) -> String {
        format!("{}/api/v1/alerts", self.external_url.trim_end_matches('/'))
    }
}

/// Delivery outcomes of one receiver (`ccpulse_notifications_total{notifier,result}`).
#[derive(Debug, Default)]
pub struct Counters {
    /// Attempts that were delivered.
    pub success: AtomicU64,
    /// Attempts that failed and were given up (no retry left, or not retryable).
    pub failure: AtomicU64,
    /// Attempts that failed and are retried.
    pub retry: AtomicU64,
    /// Notifications dropped because the receiver's queue was full.
    pub dropped: AtomicU64,
}

impl Counters {
    fn add(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }
}

/// The counters of every receiver, for `/metrics`.
#[derive(Debug, Clone, Default)]
pub struct NotifyStats(Arc<Vec<(String, Arc<Counters>)>>);

impl NotifyStats {
    /// `(notifier, result, count)` for every receiver and result.
    pub fn totals(&self) -> Vec<(String, &'static str, u64)> {
        let mut out = Vec::with_capacity(self.0.len() * 4);
        for (name, c) in self.0.iter() {
            for (result, v) in [
                ("success", &c.success),
                ("failure", &c.failure),
                ("retry", &c.retry),
                ("dropped", &c.dropped),
            ] {
                out.push((name.clone(), result, v.load(Ordering::Relaxed)));
            }
        }
        out
    }

    /// The counters of receiver `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<Counters>> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, c)| c)
    }
}

/// Why the notifiers could not start.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// The HTTP client could not be built (TLS roots, bad header).
    #[error("receiver `{receiver}`: cannot build the HTTP client: {message}")]
    Client {
        /// The receiver.
        receiver: String,
        /// What failed.
        message: String,
    },
}

enum Sink {
    Log,
    Queue(mpsc::Sender<Notification>),
}

struct Handle {
    name: String,
    sink: Sink,
    counters: Arc<Counters>,
}

/// Hands alert events to the receivers: never waits, a full queue drops (and counts).
pub struct Dispatcher {
    rules: FxHashMap<String, Rule>,
    receivers: Vec<Handle>,
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.receivers.iter().map(|h| h.name.as_str()).collect();
        f.debug_struct("Dispatcher")
            .field("receivers", &names)
            .finish()
    }
}

impl Dispatcher {
    /// Logs every event and nothing else (the behaviour without `[[alerts.receivers]]`).
    pub fn log_only(rules: &[Rule]) -> Self {
        Dispatcher {
            rules: rules.iter().map(|r| (r.name.clone(), r.clone())).collect(),
            receivers: vec![Handle {
                name: "log".into(),
                sink: Sink::Log,
                counters: Arc::default(),
            }],
        }
    }

    /// Offers each event to the receivers its rule names (all when it names none).
    pub fn dispatch(&self, events: &[AlertEvent]) {
        for e in events {
            let rule = self.rules.get(&e.alertname);
            let n = Notification::from_event(e, rule);
            let wanted = rule.map(|r| r.receivers.as_slice()).unwrap_or_default();
            for h in &self.receivers {
                if !wanted.is_empty() && !wanted.contains(&h.name) {
                    continue;
                }
                match &h.sink {
                    Sink::Log => {
                        log::emit(&h.name, e.kind, &n);
                        Counters::add(&h.counters.success);
                    }
                    Sink::Queue(tx) => {
                        if tx.try_send(n.clone()).is_err() {
                            Counters::add(&h.counters.dropped);
                            tracing::warn!(
                                receiver = %h.name,
                                alertname = %e.alertname,
                                "notification dropped: the receiver's queue is full or closed"
                            );
                        }
                    }
                }
            }
        }
    }
}

/// The receivers' tasks; they end when the [`Dispatcher`] is dropped and their queues
/// are flushed (or given up).
#[derive(Debug, Default)]
pub struct NotifyTasks(Vec<JoinHandle<()>>);

impl NotifyTasks {
    /// Waits for the tasks to flush, at most `grace`; then aborts the rest.
    pub async fn join(self, grace: std::time::Duration) {
        let deadline = tokio::time::Instant::now() + grace;
        for mut t in self.0 {
            if tokio::time::timeout_at(deadline, &mut t).await.is_err() {
                t.abort();
                tracing::warn!("a notifier did not finish within {grace:?}: abandoned");
            }
        }
    }
}

/// Starts one task per receiver (a `log` receiver when none is configured).
pub fn start(
    receivers: &[ReceiverConfig],
    rules: &[Rule],
    ctx: Context,
) -> Result<(Dispatcher, NotifyStats, NotifyTasks), NotifyError> {
    if receivers.is_empty() {
        let d = Dispatcher::log_only(rules);
        let stats = NotifyStats(Arc::new(
            d.receivers
                .iter()
                .map(|h| (h.name.clone(), h.counters.clone()))
                .collect(),
        ));
        return Ok((d, stats, NotifyTasks::default()));
    }
    let mut handles = Vec::new();
    let mut tasks = Vec::new();
    for rc in receivers {
        let counters = Arc::new(Counters::default());
        let sink = if rc.kind == ReceiverKind::Log {
            Sink::Log
        } else {
            let (tx, rx) = mpsc::channel(rc.queue_capacity.max(1));
            let http = deliver::Http::new(rc, counters.clone())?;
            let task = if rc.kind == ReceiverKind::Alertmanager {
                tokio::spawn(alertmanager::run(rc.clone(), rx, http, ctx.clone()))
            } else {
                tokio::spawn(group::run(rc.clone(), rx, http, ctx.clone()))
            };
            tasks.push(task);
            Sink::Queue(tx)
        };
        handles.push(Handle {
            name: rc.name.clone(),
            sink,
            counters,
        });
    }
    let stats = NotifyStats(Arc::new(
        handles
            .iter()
            .map(|h| (h.name.clone(), h.counters.clone()))
            .collect(),
    ));
    let d = Dispatcher {
        rules: rules.iter().map(|r| (r.name.clone(), r.clone())).collect(),
        receivers: handles,
    };
    Ok((d, stats, NotifyTasks(tasks)))
}

#[cfg(test)]
mod tests;
