//! What a rule measures and when it breaches.

use crate::engine::Snapshot;
use serde::Serialize;
use std::collections::BTreeMap;

/// How loud an alert is (the `severity` label).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Needs action now.
    Critical,
    /// Needs attention.
    Warning,
    /// For information.
    Info,
}

impl Severity {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// Breach when the value is above or below the threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    /// `value > threshold` breaches; clears at `value ≤ clear`.
    Above,
    /// `value < threshold` breaches; clears at `value ≥ clear`.
    Below,
}

/// A measured quantity, per queue or per agent, read from a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Service level over the rolling window of this many seconds, minus the queue's
    /// target (so `Below 0.0` means "below target").
    ServiceLevelVsTarget {
        /// The rolling window.
        window_seconds: i64,
    },
    /// Seconds the oldest waiting contact has waited.
    LongestWaitSeconds,
    /// Contacts waiting now.
    ContactsWaiting,
    /// Abandon rate over a rolling window.
    AbandonRate {
        /// The rolling window.
        window_seconds: i64,
    },
    /// Required minus staffed agents.
    StaffingGap,
    /// Seconds an agent has been on its current contact.
    ContactSeconds,
}

impl Metric {
    /// `(scope label, key, value)` for every queue or agent the metric applies to.
    pub fn measure(&self, snap: &Snapshot) -> Vec<(&'static str, String, f64)> {
        let now = snap.watermark_ms.unwrap_or(0);
        let mut out = Vec::new();
        match *self {
            Metric::ServiceLevelVsTarget { window_seconds } => {
                for q in &snap.queues {
                    let w = q
                        .rolling
                        .iter()
                        .find(|w| w.window_seconds == window_seconds);
                    if let Some(sl) = w.and_then(|w| w.kpis.service_level) {
                        out.push(("queue", q.queue.clone(), sl - q.sl_target));
                    }
                }
            }
            Metric::LongestWaitSeconds => {
                for q in &snap.queues {
                    let age = q.oldest_queued_at_ms.map_or(0, |at| (now - at).max(0));
                    out.push(("queue", q.queue.clone(), age as f64 / 1000.0));
                }
            }
            Metric::ContactsWaiting => {
                for q in &snap.queues {
                    out.push(("queue", q.queue.clone(), q.waiting as f64));
                }
            }
            Metric::AbandonRate { window_seconds } => {
                for q in &snap.queues {
                    let w = q
                        .rolling
                        .iter()
                        .find(|w| w.window_seconds == window_seconds);
                    if let Some(r) = w.and_then(|w| w.kpis.abandon_rate) {
                        out.push(("queue", q.queue.clone(), r));
                    }
                }
            }
            Metric::StaffingGap => {
                for q in &snap.queues {
                    if let Some(s) = &q.staffing {
                        out.push(("queue", q.queue.clone(), s.staffing_gap as f64));
                    }
                }
            }
            Metric::ContactSeconds => {
                for a in &snap.agents {
                    if let Some(c) = &a.contact {
                        out.push((
                            "agent",
                            a.agent.clone(),
                            (now - c.since_ms).max(0) as f64 / 1000.0,
                        ));
                    }
                }
            }
        }
        out
    }
}

/// Local times of day (minutes since midnight) when notifications are held back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    /// From (inclusive), minutes since local midnight.
    pub from_minute: u32,
    /// To (exclusive); smaller than `from_minute` spans midnight (e.g. 18:00–08:00).
    pub to_minute: u32,
}

impl QuietHours {
    /// True when `minute` (since local midnight) is inside.
    pub fn contains(&self, minute: u32) -> bool {
        if self.from_minute <= self.to_minute {
            (self.from_minute..self.to_minute).contains(&minute)
        } else {
            minute >= self.from_minute || minute < self.to_minute
        }
    }
}

/// One alert rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// The `alertname` (CamelCase, the same in the shipped Prometheus rules).
    pub name: String,
    /// What is measured.
    pub metric: Metric,
    /// Breach direction.
    pub cmp: Comparison,
    /// Breach threshold.
    pub threshold: f64,
    /// Clear threshold (hysteresis); equal to `threshold` for none.
    pub clear: f64,
    /// How long a breach must last before firing (ms).
    pub for_ms: i64,
    /// Repeat interval of notifications while firing and not acknowledged (ms).
    pub repeat_ms: i64,
    /// Severity label.
    pub severity: Severity,
    /// Summary annotation; `{scope}` and `{value}` are filled in.
    pub summary: String,
    /// Only these queues / agents (empty: all).
    pub only: Vec<String>,
    /// Quiet hours in the configured time zone.
    pub quiet: Option<QuietHours>,
    /// Only agents of these teams (agent metrics; empty: all).
    pub teams: Vec<String>,
    /// Extra labels on every notification of this rule (config `labels`).
    pub labels: BTreeMap<String, String>,
    /// Annotations besides `summary` (e.g. `description`); `{scope}`/`{value}` filled in.
    pub annotations: BTreeMap<String, String>,
    /// The receivers notified, by name (empty: all).
    pub receivers: Vec<String>,
}

impl Rule {
    /// Whether `value` breaches.
    pub fn breaches(&self, value: f64) -> bool {
        match self.cmp {
            Comparison::Above => value > self.threshold,
            Comparison::Below => value < self.threshold,
        }
    }

    /// Whether `value` is back on the good side of the clear threshold.
    pub fn clears(&self, value: f64) -> bool {
        match self.cmp {
            Comparison::Above => value <= self.clear,
            Comparison::Below => value >= self.clear,
        }
    }
}

/// The built-in rules (interfaces.md §6 names): SL below target over 15 minutes, a long
/// wait, many waiting, a high abandon rate, a staffing gap, a very long contact.
pub fn default_rules() -> Vec<Rule> {
    let min = 60_000;
    let rule =
        |name: &str, metric, cmp, threshold: f64, clear: f64, for_ms, severity, summary: &str| {
            Rule {
                name: name.into(),
                metric,
                cmp,
                threshold,
                clear,
                for_ms,
                repeat_ms: 30 * min,
                severity,
                summary: summary.into(),
                only: Vec::new(),
                quiet: None,
                teams: Vec::new(),
                labels: BTreeMap::new(),
                annotations: BTreeMap::new(),
                receivers: Vec::new(),
            }
        };
    vec![
        rule(
            "ServiceLevelBelowTarget",
            Metric::ServiceLevelVsTarget {
                window_seconds: 900,
            },
            Comparison::Below,
            0.0,
            0.02,
            5 * min,
            Severity::Warning,
            "Service level of {scope} below target ({value} vs target over 15 min)",
        ),
        rule(
            "LongestWaitHigh",
            Metric::LongestWaitSeconds,
            Comparison::Above,
            120.0,
            60.0,
            min,
            Severity::Warning,
            "A caller in {scope} has waited {value} s",
        ),
        rule(
            "ContactsWaitingHigh",
            Metric::ContactsWaiting,
            Comparison::Above,
            10.0,
            5.0,
            2 * min,
            Severity::Warning,
            "{value} contacts waiting in {scope}",
        ),
        rule(
            "AbandonRateHigh",
            Metric::AbandonRate {
                window_seconds: 900,
            },
            Comparison::Above,
            0.10,
            0.07,
            10 * min,
            Severity::Warning,
            "Abandon rate of {scope} at {value} over 15 min",
        ),
        rule(
            "StaffingGap",
            Metric::StaffingGap,
            Comparison::Above,
            0.0,
            0.0,
            10 * min,
            Severity::Warning,
            "{scope} is short of {value} agents",
        ),
        rule(
            "LongContact",
            Metric::ContactSeconds,
            Comparison::Above,
            1200.0,
            1200.0,
            0,
            Severity::Info,
            "{scope} has been on one contact for {value} s",
        ),
    ]
}
