//! `GET /metrics`: the Prometheus exposition (interfaces.md §4, docs/metrics.md).
//!
//! Rendered from the latest published snapshot *at scrape time*: every scrape builds a
//! fresh [`Registry`] with one [`Collector`] that reads the `Arc<Snapshot>` and the
//! sources' status, so a departed agent or a closed queue disappears with the snapshot
//! instead of lingering as a stale series. Nothing is counted here: lifetime counters
//! and histogram buckets come precomputed from the engine (`QueueSnapshot::lifetime`,
//! `TeamSnapshot::state_seconds_total`, `AgentSnapshot::lifetime`); the collector only
//! writes them out. Histograms are written from the engine's [`PromHist`] buckets with
//! `MetricEncoder::encode_histogram` (prometheus-client's own histogram type cannot be
//! set from precomputed buckets).
//!
//! The format is the Prometheus text format 0.0.4 ([`CONTENT_TYPE`]), which every
//! scraper and `promtool check metrics` read.

use crate::config::Config;
use crate::engine::{PromHist, QueueSnapshot, Snapshot};
use crate::kpi::{QueueCounters, SlCounts};
use crate::model::{AgentStatus, ExitReason};
use crate::runtime::Published;
use crate::schedule::ScheduleView;
use crate::sources::SourceStatus;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{
    DescriptorEncoder, EncodeCounterValue, EncodeGaugeValue, EncodeLabelSet, MetricEncoder,
    NoLabelSet,
};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// The `Content-Type` of `/metrics`: Prometheus text format 0.0.4.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// The prefix of every metric name.
pub const PREFIX: &str = "ccpulse";

/// Reads the number of connected feed clients (the `ccpulse_feed_clients` gauge).
///
/// Hook for the `/ws` feed: wrap its connection counter, e.g.
/// `Arc::new(move || clients.load(Ordering::Relaxed) as u64)`, and pass it with
/// [`MetricsOptions::with_feed_clients`]. Until then the gauge reads 0.
pub type FeedClients = Arc<dyn Fn() -> u64 + Send + Sync>;

/// What `/metrics` exports beyond the always-on families.
#[derive(Clone, Default)]
pub struct MetricsOptions {
    /// Export per-agent series (`metrics.per_agent`; off by default for cardinality).
    pub per_agent: bool,
    /// The feed's client count; `None` exports 0.
    pub feed_clients: Option<FeedClients>,
    /// Firing alerts by (alertname, severity); `None` exports no series.
    pub alerts_firing: Option<AlertsFiring>,
    /// The latest schedule view; `None` exports no schedule series.
    pub schedule: Option<ScheduleHook>,
    /// Notification outcomes by (receiver, result); `None` exports no series.
    pub notifications: Option<Notifications>,
}

/// Reads the latest schedule view (`ccpulse_scheduled_*`, adherence, exceptions).
pub type ScheduleHook = Arc<dyn Fn() -> Option<Arc<ScheduleView>> + Send + Sync>;

/// Reads delivery outcomes by (notifier, result) for `ccpulse_notifications_total`.
pub type Notifications = Arc<dyn Fn() -> Vec<(String, &'static str, u64)> + Send + Sync>;

/// Reads the firing alerts by (alertname, severity) for `ccpulse_alerts_firing`.
pub type AlertsFiring = Arc<dyn Fn() -> Vec<(String, &'static str, u64)> + Send + Sync>;

impl fmt::Debug for MetricsOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MetricsOptions")
            .field("per_agent", &self.per_agent)
            .field("feed_clients", &self.feed_clients.is_some())
            .field("alerts_firing", &self.alerts_firing.is_some())
            .field("schedule", &self.schedule.is_some())
            .field("notifications", &self.notifications.is_some())
            .finish()
    }
}

impl MetricsOptions {
    /// The options the `[metrics]` section asks for.
    pub fn from_config(cfg: &Config) -> Self {
        MetricsOptions {
            per_agent: cfg.metrics.per_agent,
            feed_clients: None,
            alerts_firing: None,
            schedule: None,
            notifications: None,
        }
    }

    /// These options with the schedule's latest view hooked in.
    pub fn with_schedule(mut self, schedule: ScheduleHook) -> Self {
        self.schedule = Some(schedule);
        self
    }

    /// These options with the notifiers' outcome counters hooked in.
    pub fn with_notifications(mut self, totals: Notifications) -> Self {
        self.notifications = Some(totals);
        self
    }

    /// These options with the alert engine's firing counts hooked in.
    pub fn with_alerts(mut self, firing: AlertsFiring) -> Self {
        self.alerts_firing = Some(firing);
        self
    }

    /// These options with the feed's client counter hooked in.
    pub fn with_feed_clients(mut self, clients: FeedClients) -> Self {
        self.feed_clients = Some(clients);
        self
    }
}

/// Why the exposition could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// The text encoder failed (it writes to a `String`, so in practice never).
    #[error("cannot encode the metrics")]
    Encode(#[from] fmt::Error),
}

/// Renders the exposition: the snapshot's families (when there is a snapshot) and the
/// daemon's own (sources, feed, build info).
pub fn render(
    snapshot: Option<Arc<Snapshot>>,
    sources: &[Arc<SourceStatus>],
    opts: &MetricsOptions,
) -> Result<String, MetricsError> {
    let mut registry = Registry::with_prefix(PREFIX);
    registry.register_collector(Box::new(ScrapeCollector {
        snapshot,
        sources: sources.to_vec(),
        per_agent: opts.per_agent,
        feed_clients: opts.feed_clients.as_ref().map_or(0, |f| f()),
        alerts_firing: opts.alerts_firing.as_ref().map(|f| f()),
        schedule: opts.schedule.as_ref().and_then(|f| f()),
        notifications: opts.notifications.as_ref().map(|f| f()),
    }));
    let mut out = String::new();
    prometheus_client::encoding::prometheus_text::encode(&mut out, &registry)?;
    Ok(out)
}

/// State of the `/metrics` route.
#[derive(Debug)]
struct MetricsState {
    published: Arc<Published>,
    opts: MetricsOptions,
}

/// The `/metrics` route over the daemon's published state (merged into the HTTP router).
pub fn router(published: Arc<Published>, opts: MetricsOptions) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .with_state(Arc::new(MetricsState { published, opts }))
}

async fn metrics(State(state): State<Arc<MetricsState>>) -> Response {
    let p = &state.published;
    match render(p.latest(), p.sources(), &state.opts) {
        Ok(body) => (
            [
                (header::CONTENT_TYPE, CONTENT_TYPE),
                (header::CACHE_CONTROL, "no-store"),
            ],
            body,
        )
            .into_response(),
        Err(e) => {
            tracing::error!("/metrics: {e}");
            (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response()
        }
    }
}

/// One scrape's view: the snapshot and the sources as they were when it began.
#[derive(Debug)]
struct ScrapeCollector {
    snapshot: Option<Arc<Snapshot>>,
    sources: Vec<Arc<SourceStatus>>,
    per_agent: bool,
    feed_clients: u64,
    alerts_firing: Option<Vec<(String, &'static str, u64)>>,
    schedule: Option<Arc<ScheduleView>>,
    notifications: Option<Vec<(String, &'static str, u64)>>,
}

/// A lifetime counter by queue and channel: its name (without `_total`, which the
/// encoder appends), help, and how to read it.
struct QueueCounter {
    name: &'static str,
    help: &'static str,
    value: fn(&QueueCounters) -> CounterValue,
}

enum CounterValue {
    Count(u64),
    Millis(u64),
}

const QUEUE_COUNTERS: &[QueueCounter] = &[
    QueueCounter {
        name: "contacts_arrived",
        help: "Contacts that entered the queue.",
        value: |c| CounterValue::Count(c.arrived),
    },
    QueueCounter {
        name: "contacts_answered",
        help: "Contacts answered by an agent.",
        value: |c| CounterValue::Count(c.answered),
    },
    QueueCounter {
        name: "contacts_answered_within_sl",
        help: "Contacts answered within the queue's service-level threshold.",
        value: |c| CounterValue::Count(c.answered_within_sl),
    },
    QueueCounter {
        name: "contacts_abandoned",
        help: "Contacts abandoned after the short-abandon threshold.",
        value: |c| CounterValue::Count(c.abandoned),
    },
    QueueCounter {
        name: "contacts_short_abandoned",
        help: "Contacts abandoned within the short-abandon threshold.",
        value: |c| CounterValue::Count(c.short_abandoned),
    },
    QueueCounter {
        name: "contacts_abandoned_within_sl",
        help: "Abandoned (not short) contacts that abandoned within the service-level threshold.",
        value: |c| CounterValue::Count(c.abandoned_within_sl),
    },
    QueueCounter {
        name: "contacts_handled",
        help: "Contacts whose handling ended (talk, hold and after-contact work done).",
        value: |c| CounterValue::Count(c.handled),
    },
    QueueCounter {
        name: "contacts_transferred",
        help: "Answered contacts transferred away by the agent.",
        value: |c| CounterValue::Count(c.transferred),
    },
    QueueCounter {
        name: "handle_seconds",
        help: "Handle time (talk + hold + after-contact work) of handled contacts.",
        value: |c| CounterValue::Millis(c.handle_ms),
    },
    QueueCounter {
        name: "talk_seconds",
        help: "Talk time of handled contacts.",
        value: |c| CounterValue::Millis(c.talk_ms),
    },
    QueueCounter {
        name: "hold_seconds",
        help: "Hold time of handled contacts.",
        value: |c| CounterValue::Millis(c.hold_ms),
    },
    QueueCounter {
        name: "acw_seconds",
        help: "After-contact work time of handled contacts.",
        value: |c| CounterValue::Millis(c.acw_ms),
    },
    QueueCounter {
        name: "answer_wait_seconds",
        help: "Queue wait of answered contacts (ASA = rate of this / rate of contacts_answered).",
        value: |c| CounterValue::Millis(c.answered_wait_ms),
    },
];

fn secs(ms: u64) -> f64 {
    ms as f64 / 1000.0
}

/// `300` → `5m`, `3600` → `1h`, `90` → `90s`.
fn window_label(seconds: i64) -> String {
    if seconds > 0 && seconds % 3600 == 0 {
        format!("{}h", seconds / 3600)
    } else if seconds > 0 && seconds % 60 == 0 {
        format!("{}m", seconds / 60)
    } else {
        format!("{seconds}s")
    }
}

fn counter<V: EncodeCounterValue>(
    m: &mut MetricEncoder,
    labels: &impl EncodeLabelSet,
    v: V,
) -> fmt::Result {
    m.encode_family(labels)?
        .encode_counter::<NoLabelSet, V, f64>(&v, None)
}

fn gauge<V: EncodeGaugeValue>(
    m: &mut MetricEncoder,
    labels: &impl EncodeLabelSet,
    v: V,
) -> fmt::Result {
    m.encode_family(labels)?.encode_gauge(&v)
}

/// Writes a [`PromHist`]: per-bucket counts (the encoder accumulates), `+Inf`, sum, count.
fn histogram(m: &mut MetricEncoder, labels: &impl EncodeLabelSet, h: &PromHist) -> fmt::Result {
    let mut buckets = Vec::with_capacity(h.le.len() + 1);
    let mut prev = 0;
    for (le, cum) in h.cumulative() {
        buckets.push((le, cum.saturating_sub(prev)));
        prev = cum;
    }
    buckets.push((f64::INFINITY, h.count.saturating_sub(prev)));
    m.encode_family(labels)?
        .encode_histogram::<NoLabelSet>(secs(h.sum_ms), h.count, &buckets, None)
}

impl Collector for ScrapeCollector {
    fn encode(&self, mut enc: DescriptorEncoder) -> fmt::Result {
        if let Some(snap) = &self.snapshot {
            encode_queues(&mut enc, snap)?;
            encode_teams(&mut enc, snap)?;
            if self.per_agent {
                encode_agents(&mut enc, snap)?;
            }
        }
        if let Some(view) = &self.schedule {
            encode_schedule(&mut enc, view, self.per_agent)?;
        }
        self.encode_daemon(&mut enc)
    }
}

fn encode_queues(enc: &mut DescriptorEncoder, snap: &Snapshot) -> fmt::Result {
    let per_channel = || {
        snap.queues.iter().flat_map(|q| {
            q.lifetime
                .iter()
                .map(move |(ch, t)| (q.queue.as_str(), ch.as_str(), t))
        })
    };

    for spec in QUEUE_COUNTERS {
        let mut m = enc.encode_descriptor(spec.name, spec.help, None, MetricType::Counter)?;
        for (queue, channel, t) in per_channel() {
            let labels = [("queue", queue), ("channel", channel)];
            match (spec.value)(&t.c) {
                CounterValue::Count(n) => counter(&mut m, &labels, n)?,
                CounterValue::Millis(ms) => counter(&mut m, &labels, secs(ms))?,
            }
        }
    }

    let mut m = enc.encode_descriptor(
        "contacts_exited",
        "Contacts that left the queue unanswered for a reason other than abandoning (timeout, exit key, overflow, ...).",
        None,
        MetricType::Counter,
    )?;
    for (queue, channel, t) in per_channel() {
        for r in ExitReason::ALL {
            let n = t.exited_by_reason.get(r as usize).copied().unwrap_or(0);
            let labels = [
                ("queue", queue),
                ("channel", channel),
                ("reason", r.as_str()),
            ];
            counter(&mut m, &labels, n)?;
        }
    }

    let mut m = enc.encode_descriptor(
        "service_level_outcomes",
        "Service-level outcomes, each counted at its instant: met (answered within T), abandoned_within (abandoned within T), missed (still waiting at T, or exited).",
        None,
        MetricType::Counter,
    )?;
    for (queue, channel, t) in per_channel() {
        for (outcome, n) in [
            ("met", t.c.sl_met),
            ("abandoned_within", t.c.sl_abandoned_within),
            ("missed", t.c.sl_missed),
        ] {
            let labels = [("queue", queue), ("channel", channel), ("outcome", outcome)];
            counter(&mut m, &labels, n)?;
        }
    }

    // Each queue's service level under its own preset, as its numerator and denominator
    // (what the wallboard's SL tiles sum): `increase(numerator) / increase(denominator)`
    // is that service level over any window, summable over channels and queues.
    type PartOf = fn((u64, u64)) -> u64;
    let parts: [(&str, &str, PartOf); 2] = [
        (
            "service_level_numerator",
            "Contacts that met the service level under the queue's configured preset (its numerator: answered within T, plus abandoned within T for cisco_type3 / amazon_connect).",
            |(met, _)| met,
        ),
        (
            "service_level_denominator",
            "Contacts the queue's configured service-level preset counts (its denominator: offered for cisco_type2, answered for answered_only, ...).",
            |(_, counted)| counted,
        ),
    ];
    for (name, help, part) in parts {
        let mut m = enc.encode_descriptor(name, help, None, MetricType::Counter)?;
        for q in &snap.queues {
            for (channel, t) in q.lifetime.iter() {
                let fraction = q.sl_preset.fraction(&SlCounts::from(&t.c));
                let labels = [("queue", q.queue.as_str()), ("channel", channel.as_str())];
                counter(&mut m, &labels, part(fraction))?;
            }
        }
    }

    type HistOf = fn(&crate::engine::ChannelTotals) -> &PromHist;
    let hists: [(&str, &str, HistOf); 3] = [
        (
            "answer_wait_seconds",
            "Queue wait of answered contacts (a bucket edge at the queue's service-level threshold).",
            |t| &t.answer_wait,
        ),
        (
            "abandon_wait_seconds",
            "Queue wait of abandoned (not short) contacts.",
            |t| &t.abandon_wait,
        ),
        (
            "handle_time_seconds",
            "Handle time of handled contacts.",
            |t| &t.handle_time,
        ),
    ];
    for (name, help, of) in hists {
        let mut m = enc.encode_descriptor(name, help, None, MetricType::Histogram)?;
        for (queue, channel, t) in per_channel() {
            histogram(&mut m, &[("queue", queue), ("channel", channel)], of(t))?;
        }
    }

    let mut m = enc.encode_descriptor(
        "contacts_waiting",
        "Contacts waiting in the queue now.",
        None,
        MetricType::Gauge,
    )?;
    for q in &snap.queues {
        for (channel, n) in waiting_by_channel(q) {
            gauge(
                &mut m,
                &[("queue", q.queue.as_str()), ("channel", channel)],
                n,
            )?;
        }
    }

    if let Some(now) = snap.watermark_ms {
        let mut m = enc.encode_descriptor(
            "oldest_contact_wait_seconds",
            "How long the oldest waiting contact has waited, as of the watermark (0 when none waits).",
            None,
            MetricType::Gauge,
        )?;
        for q in &snap.queues {
            let age = q
                .oldest_queued_at_ms
                .map_or(0, |at| now.saturating_sub(at).max(0));
            gauge(&mut m, &[("queue", q.queue.as_str())], age as f64 / 1000.0)?;
        }
    }

    let mut m = enc.encode_descriptor(
        "agents",
        "Agents serving the queue, by state (an agent in several queues counts in each).",
        None,
        MetricType::Gauge,
    )?;
    for q in &snap.queues {
        for st in AgentStatus::ALL {
            let n = q.agents.get(st.as_str()).copied().unwrap_or(0);
            gauge(
                &mut m,
                &[("queue", q.queue.as_str()), ("state", st.as_str())],
                n,
            )?;
        }
    }

    let mut m = enc.encode_descriptor(
        "service_level_threshold_seconds",
        "The queue's service-level threshold T.",
        None,
        MetricType::Gauge,
    )?;
    for q in &snap.queues {
        gauge(
            &mut m,
            &[("queue", q.queue.as_str())],
            q.sl_threshold_seconds,
        )?;
    }

    let mut m = enc.encode_descriptor(
        "service_level_target_ratio",
        "The queue's service-level target (0.8 = 80 %).",
        None,
        MetricType::Gauge,
    )?;
    for q in &snap.queues {
        gauge(&mut m, &[("queue", q.queue.as_str())], q.sl_target)?;
    }

    let mut m = enc.encode_descriptor(
        "required_agents",
        "Agents the queue needs for its SL target (Erlang C on the load measured over [staffing] window).",
        None,
        MetricType::Gauge,
    )?;
    for q in &snap.queues {
        if let Some(st) = &q.staffing {
            gauge(
                &mut m,
                &[("queue", q.queue.as_str())],
                i64::from(st.required_agents),
            )?;
        }
    }

    let mut m = enc.encode_descriptor(
        "staffing_gap",
        "Required agents minus agents serving the queue who are not in aux or logged out (> 0: short).",
        None,
        MetricType::Gauge,
    )?;
    for q in &snap.queues {
        if let Some(st) = &q.staffing {
            gauge(&mut m, &[("queue", q.queue.as_str())], st.staffing_gap)?;
        }
    }

    let mut m = enc.encode_descriptor(
        "service_level_ratio",
        "Service level over each rolling window with the queue's configured preset (absent while the window has no outcome).",
        None,
        MetricType::Gauge,
    )?;
    for q in &snap.queues {
        for w in &q.rolling {
            if let Some(sl) = w.kpis.service_level.filter(|v| v.is_finite()) {
                let window = window_label(w.window_seconds);
                gauge(
                    &mut m,
                    &[("queue", q.queue.as_str()), ("window", window.as_str())],
                    sl,
                )?;
            }
        }
    }
    Ok(())
}

/// Waiting contacts for every channel the queue has seen (0 included, so the series
/// does not vanish when the queue empties) and any channel waiting now.
fn waiting_by_channel(q: &QueueSnapshot) -> BTreeMap<&'static str, u64> {
    let mut m: BTreeMap<&'static str, u64> =
        q.lifetime.iter().map(|(ch, _)| (ch.as_str(), 0)).collect();
    for (ch, n) in &q.waiting_by_channel {
        m.insert(ch, *n);
    }
    m
}

fn encode_teams(enc: &mut DescriptorEncoder, snap: &Snapshot) -> fmt::Result {
    let mut m = enc.encode_descriptor(
        "agent_state_seconds",
        "Agent time spent in each state by the team's agents (open states up to the watermark); occupancy over any window comes from its rate.",
        None,
        MetricType::Counter,
    )?;
    for t in &snap.teams {
        for (state, s) in &t.state_seconds_total {
            counter(&mut m, &[("team", t.team.as_str()), ("state", *state)], *s)?;
        }
    }

    let mut m = enc.encode_descriptor(
        "team_agents",
        "The team's agents, by state.",
        None,
        MetricType::Gauge,
    )?;
    for t in &snap.teams {
        for st in AgentStatus::ALL {
            let n = t.agents.get(st.as_str()).copied().unwrap_or(0);
            gauge(
                &mut m,
                &[("team", t.team.as_str()), ("state", st.as_str())],
                n,
            )?;
        }
    }

    let mut m = enc.encode_descriptor(
        "agents_aux",
        "The team's agents in aux now, by reason.",
        None,
        MetricType::Gauge,
    )?;
    for t in &snap.teams {
        for (reason, n) in &t.aux_by_reason {
            gauge(
                &mut m,
                &[("team", t.team.as_str()), ("reason", reason.as_str())],
                *n,
            )?;
        }
    }

    let mut m = enc.encode_descriptor(
        "team_target_met",
        "1 while the team meets the target today, 0 while it misses it (absent: not set or nothing measured yet).",
        None,
        MetricType::Gauge,
    )?;
    for t in &snap.teams {
        let results = t.today.targets.iter().flat_map(|a| &a.results);
        for r in results {
            if let Some(met) = r.met {
                let labels = [("team", t.team.as_str()), ("target", r.target)];
                gauge(&mut m, &labels, u64::from(met))?;
            }
        }
    }
    let mut m = enc.encode_descriptor(
        "team_targets_met_ratio",
        "The team's targets met today over those measurable (absent when none is).",
        None,
        MetricType::Gauge,
    )?;
    for t in &snap.teams {
        if let Some(share) = t.today.targets.as_ref().and_then(|a| a.share_met) {
            gauge(&mut m, &[("team", t.team.as_str())], share)?;
        }
    }
    Ok(())
}

fn encode_agents(enc: &mut DescriptorEncoder, snap: &Snapshot) -> fmt::Result {
    let mut m = enc.encode_descriptor(
        "agent_state",
        "1 for the agent's current state (per-agent series: metrics.per_agent).",
        None,
        MetricType::Gauge,
    )?;
    for a in &snap.agents {
        let team = a.team.as_deref().unwrap_or("");
        let labels = [
            ("agent", a.agent.as_str()),
            ("team", team),
            ("state", a.state.as_str()),
        ];
        gauge(&mut m, &labels, 1u64)?;
    }

    let mut m = enc.encode_descriptor(
        "agent_handled",
        "Contacts the agent handled.",
        None,
        MetricType::Counter,
    )?;
    for a in &snap.agents {
        counter(&mut m, &[("agent", a.agent.as_str())], a.lifetime.handled)?;
    }

    let mut m = enc.encode_descriptor(
        "agent_handle_seconds",
        "The agent's handle time (talk + hold + after-contact work).",
        None,
        MetricType::Counter,
    )?;
    for a in &snap.agents {
        counter(
            &mut m,
            &[("agent", a.agent.as_str())],
            secs(a.lifetime.handle_ms),
        )?;
    }

    let mut m = enc.encode_descriptor(
        "agent_time_in_state_seconds",
        "Time the agent spent in each state (open state up to the watermark).",
        None,
        MetricType::Counter,
    )?;
    for a in &snap.agents {
        for st in AgentStatus::ALL {
            let ms = a.lifetime.in_state(st);
            counter(
                &mut m,
                &[("agent", a.agent.as_str()), ("state", st.as_str())],
                secs(ms),
            )?;
        }
    }

    let mut m = enc.encode_descriptor(
        "agent_targets_met_ratio",
        "The agent's targets met today over those measurable (per-agent series: metrics.per_agent).",
        None,
        MetricType::Gauge,
    )?;
    for a in &snap.agents {
        if let Some(share) = a.today.targets.as_ref().and_then(|t| t.share_met) {
            let labels = [
                ("agent", a.agent.as_str()),
                ("team", a.team.as_deref().unwrap_or("")),
            ];
            gauge(&mut m, &labels, share)?;
        }
    }
    Ok(())
}

fn encode_schedule(enc: &mut DescriptorEncoder, v: &ScheduleView, per_agent: bool) -> fmt::Result {
    let mut m = enc.encode_descriptor(
        "scheduled_agents",
        "The team's agents scheduled to work now (schedule CSV), as of the watermark.",
        None,
        MetricType::Gauge,
    )?;
    for t in &v.teams {
        gauge(&mut m, &[("team", t.team.as_str())], t.scheduled)?;
    }
    let mut m = enc.encode_descriptor(
        "team_adherence_ratio",
        "Adherent over scheduled time today, summed over the team's scheduled agents (absent without scheduled time).",
        None,
        MetricType::Gauge,
    )?;
    for t in &v.teams {
        if let Some(r) = t.adherence_today {
            gauge(&mut m, &[("team", t.team.as_str())], r)?;
        }
    }
    let mut no_show: BTreeMap<&str, u64> = v.teams.iter().map(|t| (t.team.as_str(), 0)).collect();
    let mut overrun = no_show.clone();
    let mut out_of_adherence = no_show.clone();
    for a in &v.agents {
        if a.no_show_seconds.is_some() {
            *no_show.entry(a.team.as_str()).or_default() += 1;
        }
        if a.break_overrun_seconds.is_some() {
            *overrun.entry(a.team.as_str()).or_default() += 1;
        }
        if a.out_of_adherence_since_ms.is_some() {
            *out_of_adherence.entry(a.team.as_str()).or_default() += 1;
        }
    }
    let mut m = enc.encode_descriptor(
        "agents_out_of_adherence",
        "The team's scheduled agents whose state does not fit their scheduled activity now.",
        None,
        MetricType::Gauge,
    )?;
    for (team, n) in &out_of_adherence {
        gauge(&mut m, &[("team", *team)], *n)?;
    }
    let mut m = enc.encode_descriptor(
        "agents_no_show",
        "The team's agents scheduled on shift, not logged in since the shift start, past schedule.no_show_grace.",
        None,
        MetricType::Gauge,
    )?;
    for (team, n) in &no_show {
        gauge(&mut m, &[("team", *team)], *n)?;
    }
    let mut m = enc.encode_descriptor(
        "agents_break_overrun",
        "The team's agents still in aux past the end of a scheduled break or lunch plus schedule.break_grace.",
        None,
        MetricType::Gauge,
    )?;
    for (team, n) in &overrun {
        gauge(&mut m, &[("team", *team)], *n)?;
    }
    let mut m = enc.encode_descriptor(
        "queue_scheduled_agents",
        "Agents scheduled to work in the queue now (the schedule's queues, else the queues the agent serves).",
        None,
        MetricType::Gauge,
    )?;
    for q in &v.queues {
        gauge(&mut m, &[("queue", q.queue.as_str())], q.scheduled)?;
    }
    let mut m = enc.encode_descriptor(
        "scheduled_staffing_gap",
        "Required agents (live Erlang C) minus agents scheduled to work in the queue now (> 0: the schedule is short).",
        None,
        MetricType::Gauge,
    )?;
    for q in &v.queues {
        if let Some(gap) = q.scheduled_staffing_gap {
            gauge(&mut m, &[("queue", q.queue.as_str())], gap)?;
        }
    }
    if per_agent {
        let mut m = enc.encode_descriptor(
            "agent_adherence_ratio",
            "The agent's adherent over scheduled time today (per-agent series: metrics.per_agent).",
            None,
            MetricType::Gauge,
        )?;
        for a in &v.agents {
            if let Some(r) = a.adherence_today {
                gauge(
                    &mut m,
                    &[("agent", a.agent.as_str()), ("team", a.team.as_str())],
                    r,
                )?;
            }
        }
    }
    Ok(())
}

impl ScrapeCollector {
    fn encode_daemon(&self, enc: &mut DescriptorEncoder) -> fmt::Result {
        let mut m = enc.encode_descriptor(
            "events_ingested",
            "Events the source sent to the engine.",
            None,
            MetricType::Counter,
        )?;
        for s in &self.sources {
            counter(&mut m, &[("source", s.name())], s.events())?;
        }

        let mut m = enc.encode_descriptor(
            "events_rejected",
            "Lines or events not counted, by reason: a decode reject reason (bad_json, bad_field, too_long, ...), `unknown` (unknown type or verb) or `refused` (late or duplicate events the engine refused).",
            None,
            MetricType::Counter,
        )?;
        for s in &self.sources {
            counter(
                &mut m,
                &[("source", s.name()), ("reason", "refused")],
                s.refused(),
            )?;
            let stats = s.decode_stats();
            for (reason, n) in stats.rejected_by_reason().filter(|(_, n)| *n > 0) {
                counter(
                    &mut m,
                    &[("source", s.name()), ("reason", reason.as_str())],
                    n,
                )?;
            }
            if stats.unknown() > 0 {
                counter(
                    &mut m,
                    &[("source", s.name()), ("reason", "unknown")],
                    stats.unknown(),
                )?;
            }
        }

        let mut m = enc.encode_descriptor(
            "events_late",
            "Events the source sent that the engine dropped as later than the allowed lateness.",
            None,
            MetricType::Counter,
        )?;
        for s in &self.sources {
            counter(&mut m, &[("source", s.name())], s.late())?;
        }

        let mut m = enc.encode_descriptor(
            "source_up",
            "1 while the source reports itself connected / reading.",
            None,
            MetricType::Gauge,
        )?;
        for s in &self.sources {
            gauge(&mut m, &[("source", s.name())], u64::from(s.is_up()))?;
        }

        let mut m = enc.encode_descriptor(
            "source_last_event_timestamp_seconds",
            "Event time of the newest event the source sent (Unix seconds).",
            None,
            MetricType::Gauge,
        )?;
        for s in &self.sources {
            if let Some(ms) = s.last_event_ms() {
                gauge(&mut m, &[("source", s.name())], ms as f64 / 1000.0)?;
            }
        }

        let mut m = enc.encode_descriptor(
            "feed_clients",
            "Clients connected to the /ws feed.",
            None,
            MetricType::Gauge,
        )?;
        m.encode_gauge(&self.feed_clients)?;

        if let Some(firing) = &self.alerts_firing {
            let mut m = enc.encode_descriptor(
                "alerts_firing",
                "Alerts of the built-in rules firing now, by alertname and severity.",
                None,
                MetricType::Gauge,
            )?;
            for (name, severity, n) in firing {
                gauge(
                    &mut m,
                    &[("alertname", name.as_str()), ("severity", *severity)],
                    *n,
                )?;
            }
        }

        if let Some(totals) = &self.notifications {
            let mut m = enc.encode_descriptor(
                "notifications",
                "Notification delivery attempts by receiver and result (success, retry, \
                 failure: given up) and notifications dropped on a full queue.",
                None,
                MetricType::Counter,
            )?;
            for (notifier, result, n) in totals {
                counter(
                    &mut m,
                    &[("notifier", notifier.as_str()), ("result", *result)],
                    *n,
                )?;
            }
        }

        let mut m = enc.encode_descriptor(
            "build_info",
            "Always 1; the version label says which build runs.",
            None,
            MetricType::Gauge,
        )?;
        gauge(&mut m, &[("version", env!("CARGO_PKG_VERSION"))], 1u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_labels() {
        assert_eq!(window_label(300), "5m");
        assert_eq!(window_label(3600), "1h");
        assert_eq!(window_label(5400), "90m");
        assert_eq!(window_label(90), "90s");
    }

    #[test]
    fn without_a_snapshot_only_the_daemon_families_render() {
        let out = render(None, &[], &MetricsOptions::default()).expect("render");
        assert!(out.contains("ccpulse_feed_clients 0\n"), "{out}");
        assert!(out.contains("ccpulse_build_info{version=\""), "{out}");
        assert!(!out.contains("ccpulse_contacts_arrived"), "{out}");
    }

    #[test]
    fn the_feed_hook_is_read_at_scrape_time() {
        let opts = MetricsOptions::default().with_feed_clients(Arc::new(|| 3));
        let out = render(None, &[], &opts).expect("render");
        assert!(out.contains("ccpulse_feed_clients 3\n"), "{out}");
    }
}
