//! `[alerts]`: rules in config (`[[alerts.rules]]`, merged with the built-in ones) and
//! the receivers notifications go to (`[[alerts.receivers]]`).

use super::{ConfigError, Duration};
use crate::alerts::{
    default_rules, Comparison, Metric, QuietHours, Rule, Severity, StateFilter, ThresholdUnit,
};
use crate::model::AgentStatus;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The `[alerts]` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertsSection {
    /// Keep the built-in rules (a config rule with the same name replaces one).
    pub defaults: bool,
    /// Rules from config.
    pub rules: Vec<RuleConfig>,
    /// Where notifications go; none: the log.
    pub receivers: Vec<ReceiverConfig>,
    /// The daemon's URL as receivers should link to it (`externalURL`, `generatorURL`);
    /// default `http://` + `daemon.listen`.
    pub external_url: Option<String>,
}

impl Default for AlertsSection {
    fn default() -> Self {
        AlertsSection {
            defaults: true,
            rules: Vec::new(),
            receivers: Vec::new(),
            external_url: None,
        }
    }
}

/// Breach direction in config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpConfig {
    /// Breaches above the threshold.
    Above,
    /// Breaches below the threshold.
    Below,
}

/// `threshold_unit` in config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThresholdUnitConfig {
    /// The metric's own unit.
    #[default]
    Metric,
    /// Multiples of the queue's SL threshold T.
    SlThreshold,
}

/// Severity in config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeverityConfig {
    /// `critical`.
    Critical,
    /// `warning` (the default).
    #[default]
    Warning,
    /// `info`.
    Info,
}

/// One `[[alerts.rules]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    /// The `alertname`, CamelCase; the name of a built-in rule replaces it.
    pub name: String,
    /// What is measured (e.g. `contacts_waiting`, see docs/alerts.md).
    pub metric: String,
    /// The rolling window of `service_level_vs_target` and `abandon_rate` (default 15m);
    /// one of `windows.rolling`.
    #[serde(default)]
    pub window: Option<Duration>,
    /// Only these queues (queue metrics; empty: all).
    #[serde(default)]
    pub queues: Vec<String>,
    /// Only these agents (agent metrics; empty: all).
    #[serde(default)]
    pub agents: Vec<String>,
    /// Only agents of these teams (agent metrics; empty: all).
    #[serde(default)]
    pub teams: Vec<String>,
    /// Only these sources, by `[[sources]]` name, `http` or `ws-ingest` (source
    /// metrics; empty: all).
    #[serde(default)]
    pub sources: Vec<String>,
    /// The agent states `state_seconds` times (required there, e.g. `["after_call_work"]`).
    #[serde(default)]
    pub states: Vec<String>,
    /// `state_seconds` in aux: only these aux reasons (empty: any).
    #[serde(default)]
    pub reasons: Vec<String>,
    /// `above` or `below`.
    pub op: OpConfig,
    /// Breach threshold.
    pub threshold: f64,
    /// Clear threshold (hysteresis; default: the threshold).
    #[serde(default)]
    pub clear: Option<f64>,
    /// What `threshold` and `clear` count in: `metric` (default, the metric's unit) or
    /// `sl_threshold` (multiples of each queue's SL threshold T; `longest_wait_seconds`).
    #[serde(default)]
    pub threshold_unit: ThresholdUnitConfig,
    /// How long the breach must last before firing (default 0s).
    #[serde(default, rename = "for")]
    pub for_: Duration,
    /// Repeat interval while firing and not acknowledged (default 30m).
    #[serde(default = "default_repeat")]
    pub repeat: Duration,
    /// `critical`, `warning` (default) or `info`.
    #[serde(default)]
    pub severity: SeverityConfig,
    /// Extra labels on its notifications.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// `summary`, `description`, …; `{scope}`, `{value}`, `{value_text}` and the scope's labels
    /// (`{team}` of the schedule metrics) are filled in.
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// Local times when notifications are held back, e.g. `"18:00-08:00"`.
    #[serde(default)]
    pub quiet_hours: Option<String>,
    /// Receivers notified, by name (default: all).
    #[serde(default)]
    pub receivers: Vec<String>,
}

fn default_repeat() -> Duration {
    Duration::mins(30)
}

/// What a receiver is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiverKind {
    /// POST the Alertmanager webhook JSON (version 4).
    Webhook,
    /// A Slack incoming webhook (`text` + `blocks`).
    Slack,
    /// A Microsoft Teams Workflows webhook (Adaptive Card).
    Teams,
    /// An Alertmanager: `POST {url}/api/v2/alerts`, re-sent while firing.
    Alertmanager,
    /// The daemon's log.
    Log,
}

impl ReceiverKind {
    /// The config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ReceiverKind::Webhook => "webhook",
            ReceiverKind::Slack => "slack",
            ReceiverKind::Teams => "teams",
            ReceiverKind::Alertmanager => "alertmanager",
            ReceiverKind::Log => "log",
        }
    }
}

/// One `[[alerts.receivers]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiverConfig {
    /// A unique name: the `notifier` label of `ccpulse_notifications_total`.
    pub name: String,
    /// `webhook`, `slack`, `teams`, `alertmanager` or `log`.
    pub kind: ReceiverKind,
    /// Where to POST (`http://` or `https://`); for `alertmanager` its base URL.
    #[serde(default)]
    pub url: String,
    /// Extra HTTP headers, e.g. `{ Authorization = "Bearer …" }`.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Bound on one HTTP attempt (default 10s).
    #[serde(default = "default_timeout")]
    pub timeout: Duration,
    /// Labels that make a group: one message per group (default `["alertname"]`).
    #[serde(default = "default_group_by")]
    pub group_by: Vec<String>,
    /// How long a new group waits for more alerts before its first message (default 10s).
    #[serde(default = "default_group_wait")]
    pub group_wait: Duration,
    /// Least time between two messages of one group (default 1m).
    #[serde(default = "default_group_interval")]
    pub group_interval: Duration,
    /// Retries of a failed delivery (default 5; 0: one attempt).
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// First retry delay bound (default 500ms); doubles per retry, with jitter.
    #[serde(default = "default_backoff_min")]
    pub backoff_min: Duration,
    /// Largest retry delay (default 30s).
    #[serde(default = "default_backoff_max")]
    pub backoff_max: Duration,
    /// Notifications waiting for delivery; beyond it new ones are dropped and counted
    /// (default 1000).
    #[serde(default = "default_queue_capacity")]
    pub queue_capacity: usize,
    /// `alertmanager`: how often the firing alerts are re-sent (default 60s; keep it
    /// well under Alertmanager's `resolve_timeout`, 5m by default).
    #[serde(default = "default_resend")]
    pub resend_interval: Duration,
}

fn default_timeout() -> Duration {
    Duration::secs(10)
}
fn default_group_by() -> Vec<String> {
    vec!["alertname".into()]
}
fn default_group_wait() -> Duration {
    Duration::secs(10)
}
fn default_group_interval() -> Duration {
    Duration::mins(1)
}
fn default_retries() -> u32 {
    5
}
fn default_backoff_min() -> Duration {
    Duration(500)
}
fn default_backoff_max() -> Duration {
    Duration::secs(30)
}
fn default_queue_capacity() -> usize {
    1000
}
fn default_resend() -> Duration {
    Duration::secs(60)
}

impl ReceiverConfig {
    /// A receiver with the defaults (tests, programmatic use).
    pub fn new(name: impl Into<String>, kind: ReceiverKind, url: impl Into<String>) -> Self {
        ReceiverConfig {
            name: name.into(),
            kind,
            url: url.into(),
            headers: BTreeMap::new(),
            timeout: default_timeout(),
            group_by: default_group_by(),
            group_wait: default_group_wait(),
            group_interval: default_group_interval(),
            retries: default_retries(),
            backoff_min: default_backoff_min(),
            backoff_max: default_backoff_max(),
            queue_capacity: default_queue_capacity(),
            resend_interval: default_resend(),
        }
    }
}

/// Labels ccpulse sets itself; config `labels` cannot override them (nor the labels
/// a rule's metric carries: `source` of the source metrics, `team` of the schedule
/// metrics).
const RESERVED_LABELS: [&str; 4] = ["alertname", "severity", "queue", "agent"];

fn label_name_ok(n: &str) -> bool {
    let mut c = n.chars();
    c.next()
        .is_some_and(|f| f.is_ascii_alphabetic() || f == '_')
        && c.all(|x| x.is_ascii_alphanumeric() || x == '_')
        && !n.starts_with("__")
}

fn camel_case_ok(n: &str) -> bool {
    n.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && n.chars().all(|c| c.is_ascii_alphanumeric())
        && n.len() <= 128
}

/// Parses `"HH:MM-HH:MM"` (local time; may span midnight).
pub fn parse_quiet_hours(text: &str) -> Result<QuietHours, String> {
    let bad = || format!("`{text}` is not a time range like \"18:00-08:00\"");
    let (from, to) = text.split_once('-').ok_or_else(bad)?;
    let minute = |t: &str| -> Option<u32> {
        let (h, m) = t.trim().split_once(':')?;
        let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
        (h < 24 && m < 60).then_some(h * 60 + m)
    };
    let (from_minute, to_minute) = (minute(from).ok_or_else(bad)?, minute(to).ok_or_else(bad)?);
    if from_minute == to_minute {
        return Err(format!("`{text}` is empty (from equals to)"));
    }
    Ok(QuietHours {
        from_minute,
        to_minute,
    })
}

/// The config names of the metrics, as the error of an unknown one lists them.
const METRIC_NAMES: [&str; 14] = [
    "service_level_vs_target",
    "longest_wait_seconds",
    "contacts_waiting",
    "abandon_rate",
    "staffing_gap",
    "contact_seconds",
    "state_seconds",
    "agents_in_state",
    "no_show_seconds",
    "break_overrun_seconds",
    "late_return_seconds",
    "out_of_adherence_seconds",
    "source_silent_seconds",
    "source_up",
];

/// The metric a config name means; `window` only where the metric has one.
fn metric(name: &str, window: Option<Duration>) -> Result<Metric, (&'static str, String)> {
    let windowed = matches!(name, "service_level_vs_target" | "abandon_rate");
    if !windowed && window.is_some() {
        return Err(("window", format!("`{name}` has no window")));
    }
    let window_seconds = window.unwrap_or(Duration::mins(15)).ms() / 1000;
    Ok(match name {
        "service_level_vs_target" => Metric::ServiceLevelVsTarget { window_seconds },
        "abandon_rate" => Metric::AbandonRate { window_seconds },
        "longest_wait_seconds" => Metric::LongestWaitSeconds,
        "contacts_waiting" => Metric::ContactsWaiting,
        "staffing_gap" => Metric::StaffingGap,
        "contact_seconds" => Metric::ContactSeconds,
        // Its states and reasons are set by the caller (`state_filter`).
        "state_seconds" => Metric::StateSeconds(Box::default()),
        "agents_in_state" => Metric::AgentsInState(Box::default()),
        "no_show_seconds" => Metric::NoShowSeconds,
        "break_overrun_seconds" => Metric::BreakOverrunSeconds,
        "late_return_seconds" => Metric::LateReturnSeconds,
        "out_of_adherence_seconds" => Metric::OutOfAdherenceSeconds,
        "source_silent_seconds" => Metric::SourceSilentSeconds,
        "source_up" => Metric::SourceUp,
        other => {
            return Err((
                "metric",
                format!("unknown metric `{other}` ({})", METRIC_NAMES.join(", ")),
            ))
        }
    })
}

/// The agent states a `state_seconds` or `agents_in_state` rule may select: every state
/// but `logged_out` (agents who are not logged in leave the floor's view).
fn timed_states() -> impl Iterator<Item = AgentStatus> {
    AgentStatus::ALL
        .into_iter()
        .filter(|s| *s != AgentStatus::LoggedOut)
}

/// The filter of a `state_seconds` or `agents_in_state` rule's (`metric`) `states` and
/// `reasons`; the error names its key.
fn state_filter(
    metric: &str,
    states: &[String],
    reasons: &[String],
) -> Result<StateFilter, (&'static str, String)> {
    let names = || {
        timed_states()
            .map(AgentStatus::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    };
    if states.is_empty() {
        return Err((
            "states",
            format!("`{metric}` needs the states it selects ({})", names()),
        ));
    }
    let mut out = StateFilter::default();
    for name in states {
        let Some(s) = timed_states().find(|s| s.as_str() == name) else {
            return Err((
                "states",
                format!(
                    "`{name}` is not one of the states `{metric}` selects ({})",
                    names()
                ),
            ));
        };
        if !out.states.contains(&s) {
            out.states.push(s);
        }
    }
    if !reasons.is_empty() && !out.states.contains(&AgentStatus::Aux) {
        return Err((
            "reasons",
            "are aux reasons: `states` must include \"aux\"".into(),
        ));
    }
    out.reasons = reasons.to_vec();
    Ok(out)
}

impl RuleConfig {
    /// The rule this entry describes; errors name the key under `at`.
    fn to_rule(
        &self,
        at: &str,
        windows: &[Duration],
        receivers: &[ReceiverConfig],
        err: &dyn Fn(&str, String) -> ConfigError,
    ) -> Result<Rule, ConfigError> {
        let key = |k: &str| format!("{at}.{k}");
        if !camel_case_ok(&self.name) {
            return Err(err(
                &key("name"),
                format!(
                    "`{}` must be a CamelCase alert name (letters and digits, upper-case first)",
                    self.name
                ),
            ));
        }
        let mut metric = metric(&self.metric, self.window).map_err(|(k, m)| err(&key(k), m))?;
        if let Some(f) = metric.state_filter_mut() {
            *f = state_filter(&self.metric, &self.states, &self.reasons)
                .map_err(|(k, m)| err(&key(k), m))?;
        } else if let Some(k) = [("states", &self.states), ("reasons", &self.reasons)]
            .iter()
            .find(|(_, v)| !v.is_empty())
            .map(|(k, _)| *k)
        {
            return Err(err(
                &key(k),
                format!(
                    "applies to `state_seconds` and `agents_in_state`, not `{}`",
                    self.metric
                ),
            ));
        }
        if let Metric::ServiceLevelVsTarget { window_seconds }
        | Metric::AbandonRate { window_seconds } = metric
        {
            if !windows.iter().any(|w| w.ms() == window_seconds * 1000) {
                return Err(err(
                    &key("window"),
                    format!(
                        "{} is not one of windows.rolling",
                        Duration(window_seconds * 1000)
                    ),
                ));
            }
        }
        // What it is measured per: `queue`, `agent` or `source`.
        let per = metric.scope_label();
        for (k, set, allowed) in [
            ("queues", !self.queues.is_empty(), per == "queue"),
            ("agents", !self.agents.is_empty(), per == "agent"),
            (
                "teams",
                !self.teams.is_empty(),
                per == "agent" || per == "team",
            ),
            ("sources", !self.sources.is_empty(), per == "source"),
        ] {
            if set && !allowed {
                return Err(err(
                    &key(k),
                    format!("`{}` is measured per {per}", self.metric),
                ));
            }
        }
        let threshold_unit = match self.threshold_unit {
            ThresholdUnitConfig::Metric => ThresholdUnit::Metric,
            ThresholdUnitConfig::SlThreshold if metric == Metric::LongestWaitSeconds => {
                ThresholdUnit::SlThreshold
            }
            ThresholdUnitConfig::SlThreshold => {
                return Err(err(
                    &key("threshold_unit"),
                    format!(
                        "`sl_threshold` applies to `longest_wait_seconds`, not `{}`",
                        self.metric
                    ),
                ))
            }
        };
        if !self.threshold.is_finite() {
            return Err(err(&key("threshold"), "must be a finite number".into()));
        }
        let clear = self.clear.unwrap_or(self.threshold);
        let cmp = match self.op {
            OpConfig::Above => Comparison::Above,
            OpConfig::Below => Comparison::Below,
        };
        let wrong_side = match cmp {
            Comparison::Above => clear > self.threshold,
            Comparison::Below => clear < self.threshold,
        };
        if !clear.is_finite() || wrong_side {
            return Err(err(
                &key("clear"),
                format!(
                    "{clear} must be on the good side of the threshold {} (op = {})",
                    self.threshold,
                    if cmp == Comparison::Above {
                        "above: clear ≤ threshold"
                    } else {
                        "below: clear ≥ threshold"
                    }
                ),
            ));
        }
        if self.repeat.ms() < 60_000 {
            return Err(err(&key("repeat"), "must be at least 1m".into()));
        }
        for (k, map) in [("labels", &self.labels), ("annotations", &self.annotations)] {
            for name in map.keys() {
                if !label_name_ok(name) {
                    return Err(err(
                        &key(k),
                        format!("`{name}` is not a valid name ([a-zA-Z_][a-zA-Z0-9_]*)"),
                    ));
                }
            }
        }
        if let Some(r) = self.labels.keys().find(|k| {
            RESERVED_LABELS.contains(&k.as_str())
                || k.as_str() == per
                || metric.scope_labels().contains(&k.as_str())
        }) {
            return Err(err(
                &format!("{at}.labels.{r}"),
                "is set by ccpulse and cannot be overridden".into(),
            ));
        }
        let quiet = match &self.quiet_hours {
            Some(q) => Some(parse_quiet_hours(q).map_err(|m| err(&key("quiet_hours"), m))?),
            None => None,
        };
        if let Some(r) = self
            .receivers
            .iter()
            .find(|r| !receivers.iter().any(|c| &c.name == *r))
        {
            return Err(err(
                &key("receivers"),
                format!("`{r}` is not the name of an [[alerts.receivers]] entry"),
            ));
        }
        let mut annotations = self.annotations.clone();
        let summary = annotations
            .remove("summary")
            .unwrap_or_else(|| format!("{} on {{scope}}: {{value_text}}", self.name));
        Ok(Rule {
            name: self.name.clone(),
            metric,
            cmp,
            threshold: self.threshold,
            clear,
            threshold_unit,
            for_ms: self.for_.ms(),
            repeat_ms: self.repeat.ms(),
            severity: match self.severity {
                SeverityConfig::Critical => Severity::Critical,
                SeverityConfig::Warning => Severity::Warning,
                SeverityConfig::Info => Severity::Info,
            },
            summary,
            only: match per {
                "queue" => self.queues.clone(),
                "source" => self.sources.clone(),
                "team" => self.teams.clone(),
                _ => self.agents.clone(),
            },
            quiet,
            // A team metric's `teams` is its scope (`only`), not a filter of agents.
            teams: if per == "team" {
                Vec::new()
            } else {
                self.teams.clone()
            },
            labels: self.labels.clone(),
            annotations,
            receivers: self.receivers.clone(),
        })
    }
}

impl AlertsSection {
    /// The rules in force: the built-ins (unless `defaults = false`), each replaced by
    /// a config rule of the same name, then the other config rules in order.
    pub fn rules(
        &self,
        windows: &[Duration],
        err: &dyn Fn(&str, String) -> ConfigError,
    ) -> Result<Vec<Rule>, ConfigError> {
        let mut out = if self.defaults {
            default_rules()
        } else {
            Vec::new()
        };
        for (i, rc) in self.rules.iter().enumerate() {
            let at = format!("alerts.rules[{i}]");
            if let Some(j) = self.rules[..i].iter().position(|o| o.name == rc.name) {
                return Err(err(
                    &format!("{at}.name"),
                    format!("`{}` is already the name of alerts.rules[{j}]", rc.name),
                ));
            }
            let rule = rc.to_rule(&at, windows, &self.receivers, err)?;
            match out.iter_mut().find(|r| r.name == rule.name) {
                Some(builtin) => *builtin = rule,
                None => out.push(rule),
            }
        }
        Ok(out)
    }

    /// Checks `[[alerts.receivers]]` and `external_url`.
    pub(super) fn check_receivers(
        &self,
        err: &dyn Fn(&str, String) -> ConfigError,
    ) -> Result<(), ConfigError> {
        if let Some(u) = &self.external_url {
            check_http_url(u).map_err(|m| err("alerts.external_url", m))?;
        }
        for (i, r) in self.receivers.iter().enumerate() {
            let at = format!("alerts.receivers[{i}]");
            let key = |k: &str| format!("{at}.{k}");
            let name_ok = !r.name.is_empty()
                && r.name.len() <= 64
                && r.name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
            if !name_ok {
                return Err(err(
                    &key("name"),
                    format!(
                        "`{}` must be 1 to 64 letters, digits, `_`, `-` or `.`",
                        r.name
                    ),
                ));
            }
            if let Some(j) = self.receivers[..i].iter().position(|o| o.name == r.name) {
                return Err(err(
                    &key("name"),
                    format!("`{}` is already the name of alerts.receivers[{j}]", r.name),
                ));
            }
            if r.kind == ReceiverKind::Log {
                if !r.url.is_empty() {
                    return Err(err(&key("url"), "a `log` receiver has no url".into()));
                }
            } else {
                check_http_url(&r.url).map_err(|m| err(&key("url"), m))?;
            }
            for (name, value) in &r.headers {
                if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
                    return Err(err(
                        &key("headers"),
                        format!("`{name}` is not a valid HTTP header name"),
                    ));
                }
                if reqwest::header::HeaderValue::from_str(value).is_err() {
                    return Err(err(
                        &format!("{at}.headers.{name}"),
                        "is not a valid HTTP header value".into(),
                    ));
                }
            }
            if !(100..=300_000).contains(&r.timeout.ms()) {
                return Err(err(
                    &key("timeout"),
                    format!("{} must be between 100ms and 5m", r.timeout),
                ));
            }
            if let Some(l) = r.group_by.iter().find(|l| !label_name_ok(l)) {
                return Err(err(&key("group_by"), format!("`{l}` is not a label name")));
            }
            for (k, d) in [
                ("group_wait", r.group_wait),
                ("group_interval", r.group_interval),
            ] {
                if d.ms() > 3_600_000 {
                    return Err(err(&key(k), format!("{d} must be at most 1h")));
                }
            }
            if r.retries > 20 {
                return Err(err(
                    &key("retries"),
                    format!("{} must be at most 20", r.retries),
                ));
            }
            let (min, max) = (r.backoff_min.ms(), r.backoff_max.ms());
            if !(1..=3_600_000).contains(&min) {
                return Err(err(
                    &key("backoff_min"),
                    format!("{} must be between 1ms and 1h", r.backoff_min),
                ));
            }
            if !(min..=3_600_000).contains(&max) {
                return Err(err(
                    &key("backoff_max"),
                    format!(
                        "{} must be at least backoff_min ({}) and at most 1h",
                        r.backoff_max, r.backoff_min
                    ),
                ));
            }
            if !(1..=1_000_000).contains(&r.queue_capacity) {
                return Err(err(
                    &key("queue_capacity"),
                    format!("{} must be between 1 and 1000000", r.queue_capacity),
                ));
            }
            if !(100..=3_600_000).contains(&r.resend_interval.ms()) {
                return Err(err(
                    &key("resend_interval"),
                    format!("{} must be between 100ms and 1h", r.resend_interval),
                ));
            }
        }
        Ok(())
    }
}

/// An `http://` or `https://` URL with a host.
fn check_http_url(url: &str) -> Result<(), String> {
    let u = reqwest::Url::parse(url).map_err(|e| format!("`{url}` is not a URL: {e}"))?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(format!("`{url}` must start with http:// or https://"));
    }
    if u.host_str().is_none_or(str::is_empty) {
        return Err(format!("`{url}` names no host"));
    }
    Ok(())
}

#[cfg(test)]
#[path = "alerts_tests.rs"]
mod tests;
