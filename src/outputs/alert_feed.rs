//! `alert` frames of the `/ws` feed (docs/feed.md): on connect the firing alerts
//! (`kind: "active"`), then one frame per notification (`firing`, `repeat`,
//! `resolved`) as the alert task produces them.
//!
//! The alert engine broadcasts its notifications ([`AlertEngine::subscribe`]); sending
//! never waits for a connection. A connection that falls behind the broadcast buffer
//! skips what it missed and gets the active list again (`kind: "active"`), so a screen
//! always converges on the current state. Alerts scoped to a queue, team or agent pass
//! the connection's `?queues=`/`?teams=` filter like the snapshot's parts do; an alert
//! that carries a `team` label (the schedule rules) passes the team filter by it.
//!
//! [`AlertEngine::subscribe`]: crate::alerts::AlertEngine::subscribe

use super::feed::FEED_VERSION;
use super::http::Selection;
use crate::alerts::{AlertEvent, AlertKind, AlertView, SharedAlerts};
use crate::engine::Snapshot;
use crate::model::Millis;
use serde::Serialize;
use std::collections::BTreeMap;
use tokio::sync::broadcast::{self, error::RecvError};

/// One alert in an `alert` frame.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeedAlert {
    /// Stable id of (alertname, scope): screens key their list by it.
    pub fingerprint: String,
    /// `alertname`.
    pub alertname: String,
    /// `critical`, `warning` or `info`.
    pub severity: &'static str,
    /// What `scope` names: `queue`, `team`, `agent`, …
    pub scope_label: &'static str,
    /// The queue, team, agent or source.
    pub scope: String,
    /// Labels that come with the scope (the `team` of an agent in a schedule alert);
    /// absent when there are none.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<&'static str, String>,
    /// `firing` or `resolved`.
    pub state: &'static str,
    /// The summary annotation.
    pub summary: String,
    /// The measured value.
    pub value: f64,
    /// Firing since (event time, epoch ms).
    pub since_ms: Millis,
    /// Resolved at (event time, epoch ms); absent while firing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ends_at_ms: Option<Millis>,
    /// Acknowledged (repeats silenced).
    pub acknowledged: bool,
}

impl From<&AlertEvent> for FeedAlert {
    fn from(e: &AlertEvent) -> Self {
        FeedAlert {
            fingerprint: e.fingerprint.clone(),
            alertname: e.alertname.clone(),
            severity: e.severity,
            scope_label: e.scope_label,
            scope: e.scope.clone(),
            labels: e.scope_labels.clone(),
            state: if e.kind == AlertKind::Resolved {
                "resolved"
            } else {
                "firing"
            },
            summary: e.summary.clone(),
            value: e.value,
            since_ms: e.starts_at_ms,
            ends_at_ms: e.ends_at_ms,
            acknowledged: false,
        }
    }
}

impl From<&AlertView> for FeedAlert {
    fn from(a: &AlertView) -> Self {
        FeedAlert {
            fingerprint: a.fingerprint.clone(),
            alertname: a.alertname.clone(),
            severity: a.severity,
            scope_label: a.scope_label,
            scope: a.scope.clone(),
            labels: a.scope_labels.clone(),
            state: "firing",
            summary: a.summary.clone(),
            value: a.value,
            since_ms: a.since_ms,
            ends_at_ms: None,
            acknowledged: a.acknowledged,
        }
    }
}

/// The `kind` of an `alert` frame for a notification.
fn kind_name(k: AlertKind) -> &'static str {
    match k {
        AlertKind::Firing => "firing",
        AlertKind::Repeat => "repeat",
        AlertKind::Resolved => "resolved",
    }
}

/// Whether a connection with `sel` sees an alert on `scope` with the scope's `labels`.
/// An alert with a `team` label passes the team filter by it (a scheduled agent who
/// never logged in is in no snapshot). Agents are looked up in the latest snapshot; an
/// agent no longer there passes (a `resolved` for an alert the screen never had is
/// harmless), as do scopes no filter applies to (e.g. sources).
pub(crate) fn visible(
    sel: &Selection,
    latest: Option<&Snapshot>,
    scope_label: &str,
    scope: &str,
    labels: &BTreeMap<&'static str, String>,
) -> bool {
    let team = labels.get("team");
    if team.is_some_and(|t| !sel.team_name(t)) {
        return false;
    }
    match scope_label {
        "queue" => sel.queue_name(scope),
        "team" => sel.team_name(scope),
        "agent" => latest
            .and_then(|s| s.agents.iter().find(|a| a.agent == scope))
            .is_none_or(|a| match team {
                // The team passed above: the agent's queues decide.
                Some(_) => sel.agent_queues(a),
                None => sel.agent(a),
            }),
        _ => true,
    }
}

/// A connection's view of the alerts: its broadcast receiver and the shared engine.
pub(crate) struct AlertStream {
    alerts: SharedAlerts,
    rx: Option<broadcast::Receiver<AlertEvent>>,
}

/// What [`AlertStream::next`] yields.
pub(crate) enum AlertNext {
    /// One notification.
    Event(Box<AlertEvent>),
    /// Notifications were missed: resend the active list.
    Lagged,
    /// The alert engine is gone: no more alert frames.
    Closed,
}

impl AlertStream {
    /// Subscribes (before the active list is read, so nothing falls in between).
    pub(crate) fn new(alerts: SharedAlerts) -> Self {
        let rx = alerts.lock().ok().map(|a| a.subscribe());
        AlertStream { alerts, rx }
    }

    /// The firing alerts now (pending ones are not shown: nobody was told yet).
    pub(crate) fn active(&self) -> Vec<FeedAlert> {
        self.alerts
            .lock()
            .map(|a| {
                a.active()
                    .iter()
                    .filter(|v| v.state == "firing")
                    .map(FeedAlert::from)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The next notification; pending forever once closed.
    pub(crate) async fn next(&mut self) -> AlertNext {
        let Some(rx) = self.rx.as_mut() else {
            return std::future::pending().await;
        };
        match rx.recv().await {
            Ok(e) => AlertNext::Event(Box::new(e)),
            Err(RecvError::Lagged(_)) => AlertNext::Lagged,
            Err(RecvError::Closed) => {
                self.rx = None;
                AlertNext::Closed
            }
        }
    }
}

#[derive(Serialize)]
struct Frame<'a> {
    v: u32,
    #[serde(rename = "type")]
    kind: &'static str,
    seq: u64,
    /// `active` (replaces the screen's list) or `firing`/`repeat`/`resolved`.
    event: &'static str,
    alerts: &'a [FeedAlert],
}

/// An `alert` frame with the active list (`event: "active"`), filtered.
pub(crate) fn active_frame(
    seq: u64,
    active: Vec<FeedAlert>,
    sel: &Selection,
    latest: Option<&Snapshot>,
) -> String {
    let list: Vec<FeedAlert> = active
        .into_iter()
        .filter(|a| visible(sel, latest, a.scope_label, &a.scope, &a.labels))
        .collect();
    frame(seq, "active", &list)
}

/// An `alert` frame for one notification, or `None` when the filter hides it.
pub(crate) fn event_frame(
    seq: u64,
    e: &AlertEvent,
    sel: &Selection,
    latest: Option<&Snapshot>,
) -> Option<String> {
    visible(sel, latest, e.scope_label, &e.scope, &e.scope_labels)
        .then(|| frame(seq, kind_name(e.kind), &[FeedAlert::from(e)]))
}

fn frame(seq: u64, event: &'static str, alerts: &[FeedAlert]) -> String {
    let f = Frame {
        v: FEED_VERSION,
        kind: "alert",
        seq,
        event,
        alerts,
    };
    // Strings, numbers and booleans always serialise (a NaN value becomes null).
    serde_json::to_string(&f).unwrap_or_else(|_| String::from("{}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outputs::http::Filter;

    fn sel(teams: Option<&str>) -> Selection {
        Selection::new(&Filter {
            queues: None,
            teams: teams.map(Into::into),
            detail: None,
            delta: None,
        })
    }

    fn no_show(team: &str) -> AlertEvent {
        AlertEvent {
            kind: AlertKind::Firing,
            alertname: "AgentNoShow".into(),
            severity: "warning",
            scope_label: "agent",
            scope: "PJSIP/400".into(),
            scope_labels: [("team", team.to_string())].into_iter().collect(),
            value: 360.0,
            summary: "PJSIP/400 (team A) is scheduled but not logged in".into(),
            starts_at_ms: 1_000,
            ends_at_ms: None,
            fingerprint: "fp".into(),
            threshold_scale: 1.0,
        }
    }

    #[test]
    fn alert_frames_carry_scope_labels_and_follow_the_team_filter() {
        let e = no_show("A");
        // The agent is in no snapshot (never logged in): its team label decides.
        let frame = event_frame(3, &e, &sel(Some("A")), None).expect("team A sees it");
        let v: serde_json::Value = serde_json::from_str(&frame).expect("json");
        assert_eq!(v["alerts"][0]["labels"]["team"], "A", "{v}");
        assert_eq!(v["alerts"][0]["scope_label"], "agent");
        assert!(event_frame(4, &e, &sel(Some("B")), None).is_none());
        assert!(event_frame(5, &e, &sel(None), None).is_some(), "no filter");
        // Without scope labels there is no `labels` key; a source alert passes a team
        // filter.
        let mut down = no_show("A");
        down.scope_label = "source";
        down.scope = "acd".into();
        down.scope_labels.clear();
        let frame = event_frame(6, &down, &sel(Some("B")), None).expect("sources pass");
        assert!(!frame.contains("\"labels\""), "{frame}");
        // The active list filters the same way.
        let active = vec![FeedAlert::from(&e), FeedAlert::from(&no_show("B"))];
        let frame = active_frame(7, active, &sel(Some("B")), None);
        let v: serde_json::Value = serde_json::from_str(&frame).expect("json");
        assert_eq!(v["alerts"].as_array().map(Vec::len), Some(1), "{v}");
        assert_eq!(v["alerts"][0]["labels"]["team"], "B");
    }
}
