//! Alert state per rule and scope, advanced on every snapshot.

#[cfg(test)]
use super::rule::default_rules;
use super::rule::{AlertInputs, Rule};
use crate::engine::Snapshot;
use crate::model::{format_rfc3339, Millis};
use rustc_hash::FxHashMap;
use serde::Serialize;
use std::collections::BTreeMap;

/// What a notification says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// Started firing (after `for`).
    Firing,
    /// Still firing, repeated after the repeat interval.
    Repeat,
    /// Cleared past the clear threshold (or its queue/agent went away).
    Resolved,
}

/// One notification to send.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertEvent {
    /// Firing, repeat or resolved.
    pub kind: AlertKind,
    /// `alertname`.
    pub alertname: String,
    /// `severity`.
    pub severity: &'static str,
    /// `queue`, `agent` or `source`.
    pub scope_label: &'static str,
    /// The queue, agent or source.
    pub scope: String,
    /// Labels that come with the scope (the `team` of an agent).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub scope_labels: BTreeMap<&'static str, String>,
    /// The measured value.
    pub value: f64,
    /// Summary annotation.
    pub summary: String,
    /// When it started firing (event time).
    pub starts_at_ms: Millis,
    /// When it resolved.
    pub ends_at_ms: Option<Millis>,
    /// Stable id of (alertname, scope).
    pub fingerprint: String,
    /// What the rule's thresholds were multiplied by for this scope: the queue's T (s)
    /// for a rule counted in multiples of T, else 1 (for the generated description).
    #[serde(skip)]
    pub threshold_scale: f64,
}

/// An alert as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertView {
    /// `alertname`.
    pub alertname: String,
    /// `severity`.
    pub severity: &'static str,
    /// `queue`, `agent` or `source`.
    pub scope_label: &'static str,
    /// The queue, agent or source.
    pub scope: String,
    /// Labels that come with the scope (the `team` of an agent).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub scope_labels: BTreeMap<&'static str, String>,
    /// `pending` (breaching, `for` not over) or `firing`.
    pub state: &'static str,
    /// Last measured value.
    pub value: f64,
    /// Pending or firing since (RFC 3339).
    pub since: String,
    /// The same instant, epoch ms.
    pub since_ms: Millis,
    /// Acknowledged: repeats are silenced until it resolves.
    pub acknowledged: bool,
    /// Summary annotation.
    pub summary: String,
    /// Stable id (for acknowledging).
    pub fingerprint: String,
}

/// When an alert became pending, fired and was last notified (event time), whether it
/// is acknowledged, and its last measurement: what a restart must not lose.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
struct Timing {
    pending_since: Option<Millis>,
    firing_since: Option<Millis>,
    last_notified: Option<Millis>,
    acked: bool,
    value: f64,
    /// The rule's threshold multiplier for this scope when last measured.
    scale: f64,
}

/// One alert's state as saved across a restart: its rule by name, its scope, its
/// [`Timing`] and its scope's labels (the scope label itself is the rule's metric's).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct SavedAlert {
    rule: String,
    scope: String,
    #[serde(flatten)]
    t: Timing,
    scope_labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default)]
struct State {
    t: Timing,
    scope_label: &'static str,
    scope_labels: BTreeMap<&'static str, String>,
    /// The evaluation that last measured this scope (older: its scope went away).
    seen: u64,
}

/// Evaluates rules on snapshots and keeps the alert states.
#[derive(Debug)]
pub struct AlertEngine {
    rules: Vec<Rule>,
    tz: jiff::tz::TimeZone,
    states: FxHashMap<(usize, String), State>,
    history: Vec<AlertEvent>,
    /// Local date (in `tz`) of the events in `history`: a new day starts it afresh.
    history_day: Option<jiff::civil::Date>,
    /// Evaluations so far (marks the states each one measured).
    generation: u64,
    /// Every notification, to live subscribers (the `/ws` feed); never waits for them.
    events: tokio::sync::broadcast::Sender<AlertEvent>,
}

/// Notifications a subscriber may fall behind by before it skips to the active list.
const EVENTS_BUFFER: usize = 256;

/// Bound on the kept history (today's events in practice).
const HISTORY_MAX: usize = 10_000;

fn fingerprint(rule: &str, scope: &str) -> String {
    // FNV-1a: stable across runs and platforms (ids in URLs and Alertmanager).
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in rule.bytes().chain([0]).chain(scope.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

impl AlertEngine {
    /// An engine for `rules`, with quiet hours read in `tz`.
    pub fn new(rules: Vec<Rule>, tz: jiff::tz::TimeZone) -> Self {
        AlertEngine {
            rules,
            tz,
            states: FxHashMap::default(),
            history: Vec::new(),
            history_day: None,
            generation: 0,
            events: tokio::sync::broadcast::channel(EVENTS_BUFFER).0,
        }
    }

    fn local_date(&self, t: Millis) -> Option<jiff::civil::Date> {
        jiff::Timestamp::from_millisecond(t)
            .ok()
            .map(|ts| ts.to_zoned_datetime(self.tz.clone()).date())
    }

    fn minute_of_day(&self, t: Millis) -> u32 {
        jiff::Timestamp::from_millisecond(t)
            .map(|ts| {
                let z = ts.to_zoned_datetime(self.tz.clone());
                u32::from(z.hour().unsigned_abs()) * 60 + u32::from(z.minute().unsigned_abs())
            })
            .unwrap_or(0)
    }

    /// Advances every alert to the snapshot's watermark; returns what to notify.
    pub fn evaluate(&mut self, snap: &Snapshot) -> Vec<AlertEvent> {
        self.evaluate_with(snap, &AlertInputs::default())
    }

    /// [`AlertEngine::evaluate`] with the schedule view and the sources' health, for
    /// the rules that read them.
    pub fn evaluate_with(&mut self, snap: &Snapshot, inputs: &AlertInputs<'_>) -> Vec<AlertEvent> {
        let Some(now) = snap.watermark_ms else {
            return Vec::new();
        };
        let minute = self.minute_of_day(now);
        let mut out = Vec::new();
        self.generation += 1;
        let gen = self.generation;
        for (ri, rule) in self.rules.iter().enumerate() {
            let quiet = rule.quiet.is_some_and(|q| q.contains(minute));
            let filter = rule.scope_filter(snap);
            for m in rule.metric.measure_with(snap, inputs) {
                if !filter.admits(&m) {
                    continue;
                }
                let (label, value) = (m.scope_label, m.value);
                let scale = rule.scale(snap, &m.scope);
                let key = (ri, m.scope);
                // The common case, a scope not breaching and not alerting: no state.
                if !rule.breaches_at(value, scale) && !self.states.contains_key(&key) {
                    continue;
                }
                let scope = key.1.clone();
                let st = self.states.entry(key).or_default();
                st.t.value = value;
                st.t.scale = scale;
                st.scope_label = label;
                st.scope_labels = m.labels.into_iter().collect();
                st.seen = gen;
                let event = |kind, st: &State, ends: Option<Millis>| AlertEvent {
                    kind,
                    alertname: rule.name.clone(),
                    severity: rule.severity.as_str(),
                    scope_label: label,
                    scope: scope.clone(),
                    scope_labels: st.scope_labels.clone(),
                    value,
                    summary: rule.fill(&rule.summary, &scope, value, &st.scope_labels),
                    starts_at_ms: st.t.firing_since.unwrap_or(now),
                    ends_at_ms: ends,
                    fingerprint: fingerprint(&rule.name, &scope),
                    threshold_scale: scale,
                };
                if st.t.firing_since.is_some() {
                    if rule.clears_at(value, scale) {
                        if st.t.last_notified.is_some() {
                            out.push(event(AlertKind::Resolved, st, Some(now)));
                        }
                        self.states.remove(&(ri, scope));
                        continue;
                    }
                    match st.t.last_notified {
                        // Fired during quiet hours: notify once they are over.
                        None if !quiet => {
                            st.t.last_notified = Some(now);
                            out.push(event(AlertKind::Firing, st, None));
                        }
                        Some(last) if !quiet && !st.t.acked && now - last >= rule.repeat_ms => {
                            st.t.last_notified = Some(now);
                            out.push(event(AlertKind::Repeat, st, None));
                        }
                        _ => {}
                    }
                } else if rule.breaches_at(value, scale) {
                    let since = *st.t.pending_since.get_or_insert(now);
                    if now - since >= rule.for_ms {
                        st.t.firing_since = Some(now);
                        if !quiet {
                            st.t.last_notified = Some(now);
                            out.push(event(AlertKind::Firing, st, None));
                        }
                    }
                } else {
                    self.states.remove(&(ri, scope));
                }
            }
        }
        // Queues, agents or sources that went away: their alerts resolve.
        let gone: Vec<(usize, String)> = self
            .states
            .iter()
            .filter(|(_, st)| st.seen != gen)
            .map(|(k, _)| k.clone())
            .collect();
        for key in gone {
            if let (Some(st), Some(rule)) = (self.states.remove(&key), self.rules.get(key.0)) {
                if st.t.firing_since.is_some() && st.t.last_notified.is_some() {
                    out.push(AlertEvent {
                        kind: AlertKind::Resolved,
                        alertname: rule.name.clone(),
                        severity: rule.severity.as_str(),
                        scope_label: st.scope_label,
                        scope: key.1.clone(),
                        summary: rule.fill(&rule.summary, &key.1, st.t.value, &st.scope_labels),
                        scope_labels: st.scope_labels,
                        value: st.t.value,
                        starts_at_ms: st.t.firing_since.unwrap_or(now),
                        ends_at_ms: Some(now),
                        fingerprint: fingerprint(&rule.name, &key.1),
                        threshold_scale: st.t.scale,
                    });
                }
            }
        }
        // The history is today's (local, event time): a new day starts it afresh.
        let today = self.local_date(now);
        if today != self.history_day {
            self.history.clear();
            self.history_day = today;
        }
        if self.history.len() + out.len() > HISTORY_MAX {
            let drop = (self.history.len() + out.len()).saturating_sub(HISTORY_MAX);
            self.history.drain(..drop.min(self.history.len()));
        }
        self.history.extend(out.iter().cloned());
        for e in &out {
            // No subscriber is not an error; a lagging one skips (broadcast never blocks).
            let _ = self.events.send(e.clone());
        }
        out
    }

    /// The rules evaluated.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The IANA name of the time zone quiet hours and days are read in (the config's
    /// `timezone`): what pages showing an alert's clock times use.
    pub fn time_zone_name(&self) -> &str {
        self.tz.iana_name().unwrap_or("UTC")
    }

    /// Every alert's state (pending, firing, acknowledged), to save across a restart.
    pub fn saved(&self) -> Vec<SavedAlert> {
        let mut out: Vec<SavedAlert> = self
            .states
            .iter()
            .filter_map(|((ri, scope), st)| {
                Some(SavedAlert {
                    rule: self.rules.get(*ri)?.name.clone(),
                    scope: scope.clone(),
                    t: st.t.clone(),
                    scope_labels: st
                        .scope_labels
                        .iter()
                        .map(|(k, v)| ((*k).to_string(), v.clone()))
                        .collect(),
                })
            })
            .collect();
        out.sort_by(|a, b| (&a.rule, &a.scope).cmp(&(&b.rule, &b.scope)));
        out
    }

    /// Takes back states [`saved`](Self::saved) before a restart, for the rules still
    /// configured (matched by name); returns how many. The next evaluation measures them
    /// again: an alert still breaching stays firing without a second notification (its
    /// repeats and acknowledgement continue), one past its clear threshold or whose
    /// scope went away resolves.
    pub fn restore(&mut self, saved: Vec<SavedAlert>) -> usize {
        let mut n = 0;
        for a in saved {
            let Some((ri, rule)) = self
                .rules
                .iter()
                .enumerate()
                .find(|(_, r)| r.name == a.rule)
            else {
                continue;
            };
            // The rule's metric names the scope and the labels it carries (others dropped).
            let metric = &rule.metric;
            let label = |k: &str| metric.scope_labels().iter().copied().find(|n| *n == k);
            let st = State {
                t: a.t,
                scope_label: metric.scope_label(),
                scope_labels: a
                    .scope_labels
                    .into_iter()
                    .filter_map(|(k, v)| Some((label(&k)?, v)))
                    .collect(),
                seen: self.generation,
            };
            self.states.insert((ri, a.scope), st);
            n += 1;
        }
        n
    }

    /// Every notification [`evaluate`](Self::evaluate) returns from now on. A receiver
    /// that falls more than a few hundred behind gets `Lagged` and should re-read
    /// [`active`](Self::active).
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<AlertEvent> {
        self.events.subscribe()
    }

    /// Pending and firing alerts.
    pub fn active(&self) -> Vec<AlertView> {
        let mut v: Vec<AlertView> = self
            .states
            .iter()
            .filter_map(|((ri, scope), st)| {
                let rule = self.rules.get(*ri)?;
                let since = st.t.firing_since.or(st.t.pending_since)?;
                Some(AlertView {
                    alertname: rule.name.clone(),
                    severity: rule.severity.as_str(),
                    scope_label: st.scope_label,
                    scope: scope.clone(),
                    scope_labels: st.scope_labels.clone(),
                    state: if st.t.firing_since.is_some() {
                        "firing"
                    } else {
                        "pending"
                    },
                    value: st.t.value,
                    since: format_rfc3339(since),
                    since_ms: since,
                    acknowledged: st.t.acked,
                    summary: rule.fill(&rule.summary, scope, st.t.value, &st.scope_labels),
                    fingerprint: fingerprint(&rule.name, scope),
                })
            })
            .collect();
        v.sort_by(|a, b| (&a.alertname, &a.scope).cmp(&(&b.alertname, &b.scope)));
        v
    }

    /// Firing alerts by (alertname, severity), for the `alerts_firing` gauge.
    pub fn firing_counts(&self) -> Vec<(String, &'static str, u64)> {
        let mut m: std::collections::BTreeMap<(String, &'static str), u64> = Default::default();
        for ((ri, _), st) in &self.states {
            if let (Some(rule), Some(_)) = (self.rules.get(*ri), st.t.firing_since) {
                *m.entry((rule.name.clone(), rule.severity.as_str()))
                    .or_default() += 1;
            }
        }
        m.into_iter().map(|((n, s), c)| (n, s, c)).collect()
    }

    /// Today's notifications (local day of the latest evaluation; bounded), oldest first.
    pub fn history(&self) -> &[AlertEvent] {
        &self.history
    }

    /// Acknowledges a firing alert: its repeats stop until it resolves. False if unknown.
    pub fn acknowledge(&mut self, fp: &str) -> bool {
        let rules = &self.rules;
        let mut found = false;
        for ((ri, scope), st) in self.states.iter_mut() {
            if rules
                .get(*ri)
                .is_some_and(|r| fingerprint(&r.name, scope) == fp)
                && st.t.firing_since.is_some()
            {
                st.t.acked = true;
                found = true;
            }
        }
        found
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
