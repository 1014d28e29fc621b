//! The `log` notifier: one log line per notification (the daemon's log, at `warn`).

use super::Notification;
use crate::alerts::AlertKind;

/// Logs `n`.
pub fn emit(receiver: &str, kind: AlertKind, n: &Notification) {
    let (scope_label, scope) = n.scope().unwrap_or(("", ""));
    tracing::warn!(
        receiver,
        alertname = n.alertname(),
        severity = n.labels.get("severity").map_or("", String::as_str),
        scope_label,
        scope,
        team = n.labels.get("team").map(String::as_str),
        kind = ?kind,
        value = n.value,
        "alert: {}",
        n.annotation("summary")
    );
}
