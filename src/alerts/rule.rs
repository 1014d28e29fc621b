//! What a rule measures and when it breaches.

use super::text::fill_labels;
use crate::engine::{AgentSnapshot, Snapshot, TeamSnapshot};
use crate::model::{AgentStatus, Millis};
use crate::schedule::ScheduleView;
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

/// What a rule's `threshold` and `clear` are counted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ThresholdUnit {
    /// The metric's own unit (seconds, a ratio, a count).
    #[default]
    Metric,
    /// Multiples of the queue's service-level threshold T (queue metrics in seconds):
    /// one rule fits a voice queue (T = 20 s) and an e-mail queue (T = 4 h) alike.
    SlThreshold,
}

/// Which agent states a `state_seconds` rule times or an `agents_in_state` rule counts:
/// its `states` and, in aux, its `reasons` (none listed: any reason).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StateFilter {
    /// The timed states (never `logged_out`).
    pub states: Vec<AgentStatus>,
    /// Aux reasons an agent in aux must have to be timed (empty: any).
    pub reasons: Vec<String>,
}

impl StateFilter {
    /// How many of `team`'s agents are in the filter's states (aux: with its reasons).
    pub fn count(&self, team: &TeamSnapshot) -> u64 {
        let by_state = |s: AgentStatus| team.agents.get(s.as_str()).copied().unwrap_or(0);
        self.states
            .iter()
            .map(|&s| match s {
                AgentStatus::Aux if !self.reasons.is_empty() => self
                    .reasons
                    .iter()
                    .filter_map(|r| team.aux_by_reason.get(r))
                    .sum(),
                _ => by_state(s),
            })
            .sum()
    }

    /// Whether an agent in `state` with `reason` is timed.
    pub fn admits(&self, state: AgentStatus, reason: Option<&str>) -> bool {
        self.states.contains(&state)
            && (state != AgentStatus::Aux
                || self.reasons.is_empty()
                || reason.is_some_and(|r| self.reasons.iter().any(|x| x == r)))
    }
}

/// A measured quantity, per queue, agent or source, read from a snapshot (and, for the
/// schedule and source metrics, from [`AlertInputs`]).
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// Seconds an agent has been in its current state, for the states (and aux
    /// reasons) of the filter: stuck in wrap-up, a break run long without a schedule.
    StateSeconds(Box<StateFilter>),
    /// A team's agents in the filter's states (and aux reasons) now: too many on break
    /// at once, nobody available.
    AgentsInState(Box<StateFilter>),
    /// Seconds since the shift start of a scheduled agent who has not logged in, once
    /// past `[schedule] no_show_grace` (per agent, with its team).
    NoShowSeconds,
    /// Seconds since a scheduled break/lunch ended while the agent is still in aux,
    /// once past `[schedule] break_grace` (per agent, with its team).
    BreakOverrunSeconds,
    /// How late (seconds) an agent came back from a break, shown for
    /// `[schedule] late_return_hold` after the return (per agent, with its team).
    LateReturnSeconds,
    /// Seconds a scheduled agent has been out of adherence without interruption (state
    /// not fitting the scheduled activity; per agent, with its team).
    OutOfAdherenceSeconds,
    /// Seconds without an event from a source that is up and should be live (per source).
    SourceSilentSeconds,
    /// 1 while a source reports itself up, 0 while down (per source).
    SourceUp,
}

/// What rules read besides the snapshot: the schedule view and the sources' health.
#[derive(Debug, Clone, Copy, Default)]
pub struct AlertInputs<'a> {
    /// The schedule as of the same watermark (`None`: no schedule rules measured).
    pub schedule: Option<&'a ScheduleView>,
    /// The daemon's sources.
    pub sources: &'a [SourceHealth],
}

/// A source's health as the alert rules see it.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceHealth {
    /// The source's name (the `source` label).
    pub name: String,
    /// Connected / reading.
    pub up: bool,
    /// Event time of its newest event, or when it was first expected to deliver one;
    /// `None` while it is not expected to be live (an idle push endpoint).
    pub silent_since_ms: Option<Millis>,
}

/// One measured value: the scope it belongs to and labels that come with the scope
/// (e.g. the `team` of an agent).
#[derive(Debug, Clone, PartialEq)]
pub struct Measured {
    /// `queue`, `agent` or `source`.
    pub scope_label: &'static str,
    /// The queue, agent or source.
    pub scope: String,
    /// The value.
    pub value: f64,
    /// Extra labels of the scope.
    pub labels: Vec<(&'static str, String)>,
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
            Metric::StateSeconds(ref f) => {
                for a in snap
                    .agents
                    .iter()
                    .filter(|a| f.admits(a.state, a.reason.as_deref()))
                {
                    out.push(("agent", a.agent.clone(), state_seconds(a, now)));
                }
            }
            Metric::AgentsInState(ref f) => {
                for t in &snap.teams {
                    out.push(("team", t.team.clone(), f.count(t) as f64));
                }
            }
            // Need the schedule or the sources: see `measure_with`.
            Metric::NoShowSeconds
            | Metric::BreakOverrunSeconds
            | Metric::LateReturnSeconds
            | Metric::OutOfAdherenceSeconds
            | Metric::SourceSilentSeconds
            | Metric::SourceUp => {}
        }
        out
    }
}

/// Seconds `a` has been in its state at `now`.
fn state_seconds(a: &AgentSnapshot, now: Millis) -> f64 {
    (now - a.since_ms).max(0) as f64 / 1000.0
}

impl Metric {
    /// The states (and aux reasons) a `state_seconds` or `agents_in_state` metric
    /// selects, to be set from config.
    pub fn state_filter_mut(&mut self) -> Option<&mut StateFilter> {
        match self {
            Metric::StateSeconds(f) | Metric::AgentsInState(f) => Some(f),
            _ => None,
        }
    }

    /// What it is measured per: `queue`, `agent`, `team` or `source` (the scope label).
    pub fn scope_label(&self) -> &'static str {
        match self {
            Metric::ServiceLevelVsTarget { .. }
            | Metric::LongestWaitSeconds
            | Metric::ContactsWaiting
            | Metric::AbandonRate { .. }
            | Metric::StaffingGap => "queue",
            Metric::AgentsInState(_) => "team",
            Metric::ContactSeconds
            | Metric::StateSeconds(_)
            | Metric::NoShowSeconds
            | Metric::BreakOverrunSeconds
            | Metric::LateReturnSeconds
            | Metric::OutOfAdherenceSeconds => "agent",
            Metric::SourceSilentSeconds | Metric::SourceUp => "source",
        }
    }

    /// The labels besides the scope label that its measurements carry (`team` for the
    /// schedule metrics; the timed `state` and its aux `reason` for `state_seconds`).
    pub fn scope_labels(&self) -> &'static [&'static str] {
        match self {
            Metric::NoShowSeconds
            | Metric::BreakOverrunSeconds
            | Metric::LateReturnSeconds
            | Metric::OutOfAdherenceSeconds => &["team"],
            Metric::StateSeconds(_) => &["state", "reason"],
            _ => &[],
        }
    }

    /// Like [`Metric::measure`], with the schedule and source inputs and scope labels.
    pub fn measure_with(&self, snap: &Snapshot, inputs: &AlertInputs<'_>) -> Vec<Measured> {
        let now = snap.watermark_ms.unwrap_or(0);
        let agent = |agent: &str, team: &str, value: f64| Measured {
            scope_label: "agent",
            scope: agent.to_string(),
            value,
            labels: vec![("team", team.to_string())],
        };
        let source = |name: &str, value: f64| Measured {
            scope_label: "source",
            scope: name.to_string(),
            value,
            labels: Vec::new(),
        };
        let agents = inputs.schedule.map_or(&[][..], |s| s.agents.as_slice());
        match self {
            Metric::NoShowSeconds => agents
                .iter()
                .filter_map(|a| a.no_show_seconds.map(|v| agent(&a.agent, &a.team, v)))
                .collect(),
            Metric::BreakOverrunSeconds => agents
                .iter()
                .filter_map(|a| a.break_overrun_seconds.map(|v| agent(&a.agent, &a.team, v)))
                .collect(),
            Metric::LateReturnSeconds => {
                let mut out: Vec<Measured> = Vec::new();
                for l in inputs
                    .schedule
                    .map_or(&[][..], |s| s.late_returns.as_slice())
                {
                    // Two late returns of one agent within the hold: the latest counts.
                    out.retain(|m| m.scope != l.agent);
                    out.push(agent(&l.agent, &l.team, l.late_seconds));
                }
                out
            }
            Metric::OutOfAdherenceSeconds => agents
                .iter()
                .filter_map(|a| {
                    a.out_of_adherence_since_ms
                        .map(|t| agent(&a.agent, &a.team, (now - t).max(0) as f64 / 1000.0))
                })
                .collect(),
            Metric::SourceSilentSeconds => inputs
                .sources
                .iter()
                .filter(|s| s.up)
                .filter_map(|s| {
                    s.silent_since_ms
                        .map(|t| source(&s.name, (now - t).max(0) as f64 / 1000.0))
                })
                .collect(),
            Metric::SourceUp => inputs
                .sources
                .iter()
                .map(|s| source(&s.name, if s.up { 1.0 } else { 0.0 }))
                .collect(),
            // The state and its reason come along: "{scope} has been in {reason} for …".
            Metric::StateSeconds(f) => snap
                .agents
                .iter()
                .filter(|a| f.admits(a.state, a.reason.as_deref()))
                .map(|a| Measured {
                    scope_label: "agent",
                    scope: a.agent.clone(),
                    value: state_seconds(a, now),
                    labels: [("state", a.state.as_str().to_string())]
                        .into_iter()
                        .chain(a.reason.clone().map(|r| ("reason", r)))
                        .collect(),
                })
                .collect(),
            _ => self
                .measure(snap)
                .into_iter()
                .map(|(scope_label, scope, value)| Measured {
                    scope_label,
                    scope,
                    value,
                    labels: Vec::new(),
                })
                .collect(),
        }
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
    /// What `threshold` and `clear` count in (the metric's unit, or multiples of T).
    pub threshold_unit: ThresholdUnit,
    /// How long a breach must last before firing (ms).
    pub for_ms: i64,
    /// Repeat interval of notifications while firing and not acknowledged (ms).
    pub repeat_ms: i64,
    /// Severity label.
    pub severity: Severity,
    /// Summary annotation; `{scope}`, `{value}`, `{value_text}` and the scope's labels (`{team}`) are
    /// filled in.
    pub summary: String,
    /// Only these queues, agents or sources (by the metric's scope; empty: all).
    pub only: Vec<String>,
    /// Quiet hours in the configured time zone.
    pub quiet: Option<QuietHours>,
    /// Only agents of these teams (agent metrics; empty: all). The schedule metrics
    /// match the team their measurement carries (the schedule's team), the others the
    /// agent's team in the snapshot.
    pub teams: Vec<String>,
    /// Extra labels on every notification of this rule (config `labels`).
    pub labels: BTreeMap<String, String>,
    /// Annotations besides `summary` (e.g. `description`); `{scope}`, `{value}`, `{value_text}` and the
    /// scope's labels (`{team}`) filled in.
    pub annotations: BTreeMap<String, String>,
    /// The receivers notified, by name (empty: all).
    pub receivers: Vec<String>,
}

impl Rule {
    /// Whether `value` breaches (thresholds in the metric's unit).
    pub fn breaches(&self, value: f64) -> bool {
        self.breaches_at(value, 1.0)
    }

    /// Whether `value` is back on the good side of the clear threshold.
    pub fn clears(&self, value: f64) -> bool {
        self.clears_at(value, 1.0)
    }

    /// Whether `value` breaches `threshold × scale` (`scale`: see [`Rule::scale`]).
    pub fn breaches_at(&self, value: f64, scale: f64) -> bool {
        let threshold = self.threshold * scale;
        match self.cmp {
            Comparison::Above => value > threshold,
            Comparison::Below => value < threshold,
        }
    }

    /// Whether `value` is on the good side of `clear × scale`.
    pub fn clears_at(&self, value: f64, scale: f64) -> bool {
        let clear = self.clear * scale;
        match self.cmp {
            Comparison::Above => value <= clear,
            Comparison::Below => value >= clear,
        }
    }

    /// What this rule's thresholds are multiplied by for `scope` in `snap`: the queue's
    /// T in seconds for [`ThresholdUnit::SlThreshold`], else 1.
    pub fn scale(&self, snap: &Snapshot, scope: &str) -> f64 {
        match self.threshold_unit {
            ThresholdUnit::Metric => 1.0,
            // Snapshot queues are sorted by name; a queue that left it is not measured.
            ThresholdUnit::SlThreshold => snap
                .queues
                .binary_search_by(|q| q.queue.as_str().cmp(scope))
                .ok()
                .and_then(|i| snap.queues.get(i))
                .map_or(1.0, |q| q.sl_threshold_seconds),
        }
    }

    /// `template` with `{scope}`, `{value}`, `{value_text}` (in this rule's metric's
    /// unit) and the scope's labels filled in; a label the metric may carry but this
    /// measurement lacks (the aux `reason` of an agent in wrap-up) reads as nothing.
    pub(crate) fn fill(
        &self,
        template: &str,
        scope: &str,
        value: f64,
        labels: &BTreeMap<&'static str, String>,
    ) -> String {
        let text = fill_labels(template, scope, value, self.metric.unit(), labels);
        self.metric
            .scope_labels()
            .iter()
            .filter(|k| !labels.contains_key(*k))
            .fold(text, |t, k| t.replace(&format!("{{{k}}}"), ""))
    }
}

impl Rule {
    /// A built-in rule for every scope, with no hysteresis (`clear` = `threshold`), no
    /// repeat, quiet hours, labels, annotations or receivers of its own.
    fn builtin(
        name: &str,
        metric: Metric,
        cmp: Comparison,
        threshold: f64,
        for_ms: i64,
        severity: Severity,
        summary: &str,
    ) -> Rule {
        Rule {
            name: name.into(),
            metric,
            cmp,
            threshold,
            clear: threshold,
            threshold_unit: ThresholdUnit::Metric,
            for_ms,
            repeat_ms: 0,
            severity,
            summary: summary.into(),
            only: Vec::new(),
            quiet: None,
            teams: Vec::new(),
            labels: BTreeMap::new(),
            annotations: BTreeMap::new(),
            receivers: Vec::new(),
        }
    }
}

/// The built-in rules (interfaces.md §6 names): SL below target over 15 minutes, a long
/// wait, many waiting, a high abandon rate, a staffing gap, a very long contact, a long
/// wrap-up, and the
/// schedule and source rules of [`schedule_and_source_rules`].
pub fn default_rules() -> Vec<Rule> {
    let mut rules = kpi_rules();
    rules.extend(schedule_and_source_rules());
    rules
}

/// The schedule exceptions (their graces are in `[schedule]`, so they fire at once:
/// `for` 0, threshold 0) and the source health rules.
pub fn schedule_and_source_rules() -> Vec<Rule> {
    let min = 60_000;
    let rule =
        |name: &str, metric, cmp, threshold: f64, for_ms, repeat_ms, severity, summary: &str| {
            let mut r = Rule::builtin(name, metric, cmp, threshold, for_ms, severity, summary);
            r.repeat_ms = repeat_ms;
            r
        };
    vec![
        rule(
            "AgentNoShow",
            Metric::NoShowSeconds,
            Comparison::Above,
            0.0,
            0,
            60 * min,
            Severity::Warning,
            "{scope} (team {team}) not logged in, {value_text} into the shift",
        ),
        rule(
            "BreakOverrun",
            Metric::BreakOverrunSeconds,
            Comparison::Above,
            0.0,
            0,
            60 * min,
            Severity::Warning,
            "{scope} (team {team}) is still on break {value_text} after it ended",
        ),
        rule(
            "LateReturn",
            Metric::LateReturnSeconds,
            Comparison::Above,
            0.0,
            0,
            24 * 60 * min,
            Severity::Info,
            "{scope} (team {team}) came back from break {value_text} late",
        ),
        rule(
            "SourceSilent",
            Metric::SourceSilentSeconds,
            Comparison::Above,
            600.0,
            5 * min,
            30 * min,
            Severity::Warning,
            "No event from source {scope} for {value_text}",
        ),
        rule(
            "SourceDown",
            Metric::SourceUp,
            Comparison::Below,
            1.0,
            2 * min,
            30 * min,
            Severity::Critical,
            "Source {scope} is down",
        ),
    ]
}

/// The queue and contact rules.
fn kpi_rules() -> Vec<Rule> {
    let min = 60_000;
    let rule =
        |name: &str, metric, cmp, threshold: f64, clear: f64, for_ms, severity, summary: &str| {
            let mut r = Rule::builtin(name, metric, cmp, threshold, for_ms, severity, summary);
            r.clear = clear;
            r.repeat_ms = 30 * min;
            r
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
            "Service level of {scope} {value_text} vs target over 15 min",
        ),
        {
            // Three times the queue's SL threshold, as the shipped Prometheus rule: a fixed
            // 2 min would page all day for an e-mail queue whose T is 4 h.
            let mut r = rule(
                "LongestWaitHigh",
                Metric::LongestWaitSeconds,
                Comparison::Above,
                3.0,
                1.5,
                min,
                Severity::Warning,
                "A caller in {scope} has waited {value_text}",
            );
            r.threshold_unit = ThresholdUnit::SlThreshold;
            r
        },
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
            "Abandon rate of {scope} at {value_text} over 15 min",
        ),
        rule(
            "StaffingGap",
            Metric::StaffingGap,
            Comparison::Above,
            0.0,
            0.0,
            10 * min,
            Severity::Warning,
            "{scope} is short of {value_text}",
        ),
        rule(
            "LongContact",
            Metric::ContactSeconds,
            Comparison::Above,
            1200.0,
            1200.0,
            0,
            Severity::Info,
            "{scope} has been on one contact for {value_text}",
        ),
        // Stuck in wrap-up: a form left open, or "ready" forgotten after a hard call.
        rule(
            "LongAfterCallWork",
            Metric::StateSeconds(Box::new(StateFilter {
                states: vec![AgentStatus::AfterCallWork],
                reasons: Vec::new(),
            })),
            Comparison::Above,
            300.0,
            300.0,
            0,
            Severity::Info,
            "{scope} has been in wrap-up for {value_text}",
        ),
    ]
}
