//! The generic webhook: Alertmanager's webhook JSON, version 4, so receivers written for
//! Alertmanager work unchanged.

use super::{Context, GroupMessage, Notification, Status};
use crate::model::format_rfc3339;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Alertmanager's zero time: `endsAt` of an alert still firing.
pub const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// The webhook body (Alertmanager `webhook.Message`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    /// Always `"4"`.
    pub version: String,
    /// The group's identity.
    pub group_key: String,
    /// Alerts left out (never: ccpulse sends them all).
    pub truncated_alerts: u64,
    /// `firing` or `resolved`.
    pub status: String,
    /// The receiver's name.
    pub receiver: String,
    /// The `group_by` labels.
    pub group_labels: BTreeMap<String, String>,
    /// Labels all alerts share.
    pub common_labels: BTreeMap<String, String>,
    /// Annotations all alerts share.
    pub common_annotations: BTreeMap<String, String>,
    /// The daemon's URL.
    #[serde(rename = "externalURL")]
    pub external_url: String,
    /// The alerts.
    pub alerts: Vec<Alert>,
}

/// One alert of a webhook message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    /// `firing` or `resolved`.
    pub status: String,
    /// Its labels.
    pub labels: BTreeMap<String, String>,
    /// Its annotations.
    pub annotations: BTreeMap<String, String>,
    /// RFC 3339.
    pub starts_at: String,
    /// RFC 3339; [`ZERO_TIME`] while firing.
    pub ends_at: String,
    /// Link back to the daemon.
    #[serde(rename = "generatorURL")]
    pub generator_url: String,
    /// Stable id of the alert.
    pub fingerprint: String,
}

/// One alert in the webhook shape.
pub fn alert(n: &Notification, ctx: &Context) -> Alert {
    Alert {
        status: n.status.as_str().into(),
        labels: n.labels.clone(),
        annotations: n.annotations.clone(),
        starts_at: n.starts_at(),
        ends_at: match (n.status, n.ends_at_ms) {
            (Status::Resolved, Some(t)) => format_rfc3339(t),
            _ => ZERO_TIME.into(),
        },
        generator_url: ctx.generator_url(),
        fingerprint: n.fingerprint.clone(),
    }
}

/// The message for a group.
pub fn payload(msg: &GroupMessage<'_>, ctx: &Context) -> Message {
    Message {
        version: "4".into(),
        group_key: msg.group_key.clone(),
        truncated_alerts: 0,
        status: msg.status().as_str().into(),
        receiver: msg.receiver.into(),
        group_labels: msg.group_labels.clone(),
        common_labels: msg.common_labels(),
        common_annotations: msg.common_annotations(),
        external_url: ctx.external_url.clone(),
        alerts: msg.alerts.iter().map(|n| alert(n, ctx)).collect(),
    }
}
