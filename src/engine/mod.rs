//! The event-time engine: per-queue contact and per-agent state machines fed in
//! event-time order, counting every counter at its exact instant into totals, the
//! local day, report intervals and rolling windows.
//!
//! Invariants: the engine does no I/O and never reads the wall clock; time moves only
//! with event time (or an explicit [`Engine::advance_to`]). Replaying a log therefore
//! gives exactly the numbers living through it gave.

mod agents;
mod agg;
mod calendar;
mod checkpoint;
mod contact_table;
mod contacts;
mod day_cut;
mod hist;
mod lifetime;
mod reorder;
mod rolling;
mod samples;
mod snapshot;
mod timeline;
mod transitions;

pub use agg::{AgentAgg, AgentObs, AgentRow, Aggregate, QueueAgg, QueueObs, QueueRow, SlOutcome};
pub use calendar::Calendar;
pub use checkpoint::{CheckpointError, CHECKPOINT_VERSION};
pub use day_cut::{DayCut, DayCutError, DaySpec, EntityCut, ReportSpan, WeekSpec};
pub use hist::{Hist, SlidingHist};
pub use lifetime::{ChannelTotals, PromHist};
pub use reorder::{Refused, Reorder};
pub use rolling::Rolling;
pub use snapshot::AdherenceToday;
pub use snapshot::{
    AgentContact, AgentSnapshot, QueueSnapshot, Snapshot, Staffing, TeamSnapshot, WindowKpis,
    WindowTeamKpis,
};
pub use timeline::{day_sums_kept, kept_from, Span, Timeline, WEEK_REPORT_DAYS};
pub use transitions::{AgentTransition, Transitions};

use crate::config::{Config, ConfigError, QueueSettings, Targets};
use crate::kpi::SlPreset;
use crate::model::{AgentStatus, Channel, Event, EventBody, Millis, Name};
use agents::AgentRt;
use contact_table::ContactTable;
use rustc_hash::FxHashMap;
use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, VecDeque};

/// How the engine is run (replay and daemon differ).
#[derive(Debug, Clone, Copy)]
pub struct EngineOptions {
    /// Grace before a missed SL is counted (1 s for whole-second sources like queue_log).
    pub sl_grace_ms: Millis,
    /// Keep closed interval rows (reports).
    pub keep_closed: bool,
    /// Maintain rolling windows for queues and teams (the live daemon).
    pub rolling: bool,
    /// Keep per-channel lifetime counters and Prometheus buckets per queue (what
    /// `/metrics` exports); a replay report does not read them.
    pub lifetime: bool,
    /// Keep the lifetime totals and today of every queue, agent and team current with
    /// each observation (what snapshots and `/metrics` read; queue days record their
    /// wait/handle histogram values as they come). Off (replay, whose report reads
    /// totals and interval rows only once everything is closed), an observation touches
    /// only its open interval: no day is kept (a snapshot's today is empty) and the
    /// totals take each interval's counters and values when it closes.
    pub live_totals: bool,
    /// With `keep_closed` in the daemon (`live_totals`): local days of interval rows and
    /// day totals kept for `/api/v1/report`, today included; 0 keeps every row (replay).
    pub report_days: u32,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            sl_grace_ms: 0,
            keep_closed: true,
            rolling: true,
            lifetime: true,
            live_totals: true,
            report_days: 0,
        }
    }
}

/// What the engine refused or repaired, by kind (never silent).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EngineStats {
    /// Events applied to the state machines.
    pub applied: u64,
    /// Events older than the allowed lateness.
    pub late: u64,
    /// Events whose id was already seen.
    pub duplicates: u64,
    /// Contact events that do not fit the contact's state (e.g. answered twice, ended
    /// while waiting, an outcome for a contact never queued).
    pub unmatched: u64,
    /// Contacts closed as orphans (no outcome / no end after the orphan timeout or an ACD restart).
    pub orphaned: u64,
}

/// Resolved per-queue settings, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct QueueParams {
    /// SL threshold `T`.
    pub sl_threshold_ms: Millis,
    /// Short-abandon threshold `S` (0 disables).
    pub short_abandon_ms: Millis,
    /// Headline SL formula.
    pub preset: SlPreset,
    /// SL target ratio.
    pub sl_target: f64,
    /// Wrap-up for derived agent states.
    pub wrap_up_ms: Millis,
}

impl EngineStats {
    /// The counts added since `earlier` (a copy of these stats taken before).
    pub fn since(&self, earlier: &EngineStats) -> EngineStats {
        EngineStats {
            applied: self.applied.saturating_sub(earlier.applied),
            late: self.late.saturating_sub(earlier.late),
            duplicates: self.duplicates.saturating_sub(earlier.duplicates),
            unmatched: self.unmatched.saturating_sub(earlier.unmatched),
            orphaned: self.orphaned.saturating_sub(earlier.orphaned),
        }
    }
}

impl QueueParams {
    fn resolve(s: &QueueSettings) -> Self {
        let b = s.or(&QueueSettings::builtin());
        QueueParams {
            sl_threshold_ms: b.sl_threshold.unwrap_or_default().ms(),
            short_abandon_ms: b.short_abandon.unwrap_or_default().ms(),
            preset: b.preset(),
            sl_target: b.sl_target.unwrap_or(0.8),
            wrap_up_ms: b.wrap_up.unwrap_or_default().ms(),
        }
    }
}

/// One queue's live state and aggregates; `repr(C)` keeps what every contact event
/// touches (settings, waiting set, the timeline's open interval) together.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[repr(C)]
pub(crate) struct QueueRt {
    pub(crate) params: QueueParams,
    pub(crate) waiting_by_channel: [u32; 6],
    /// Waiting contacts by (queued time, uid): the first is the oldest.
    pub(crate) waiting: BTreeSet<(Millis, u64)>,
    pub(crate) timeline: Timeline<QueueAgg>,
    /// Lifetime counters by channel (Prometheus), allocated when a channel is first seen.
    pub(crate) lifetime: [Option<Box<ChannelTotals>>; 6],
    pub(crate) name: Name,
}

/// One team's aggregates (sums over its agents).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct TeamRt {
    pub(crate) name: Name,
    /// From the config (re-read on restore, never checkpointed).
    #[serde(skip)]
    pub(crate) targets: Targets,
    pub(crate) timeline: Timeline<AgentAgg>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub(crate) enum TimerKind {
    /// A waiting contact (its contact-table slot and phase uid) reaches queued + T (+ grace).
    SlDeadline { slot: u32, uid: u64 },
    /// A contact (slot and phase uid) has been open for the orphan timeout.
    Orphan { slot: u32, uid: u64 },
    /// Decide whether an explicit-state agent went to ACW for the contacts that just ended.
    WrapDecision { agent: u32 },
    /// A derived wrap-up period ends.
    DerivedAcwEnd { agent: u32, seq: u64 },
}

/// Timers kept (orphan FIFO, timer heap) before dead ones (of closed or answered
/// contacts) are dropped.
const DEAD_TIMERS_SLACK: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub(crate) struct Timer {
    at: Millis,
    seq: u64,
    kind: TimerKind,
}

impl Timer {
    /// False for a contact timer whose contact phase is gone (closed, or answered since
    /// an SL deadline was set): firing it would do nothing, so clean-outs drop it.
    fn is_live(&self, contacts: &ContactTable) -> bool {
        match self.kind {
            TimerKind::SlDeadline { slot, uid } | TimerKind::Orphan { slot, uid } => {
                contacts.live(slot, uid).is_some()
            }
            TimerKind::WrapDecision { .. } | TimerKind::DerivedAcwEnd { .. } => true,
        }
    }
}

/// The engine. See the module docs. It serializes to a checkpoint (see
/// [`Engine::checkpoint`]); the fields marked `skip` come from the config on restore.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct Engine {
    #[serde(skip)]
    pub(crate) opts: EngineOptions,
    #[serde(skip)]
    pub(crate) cal: Calendar,
    #[serde(skip)]
    pub(crate) config: Config,
    pub(crate) reorder: Reorder,
    #[serde(skip)]
    pub(crate) orphan_ms: Millis,
    #[serde(skip)]
    pub(crate) rolling_lengths: Vec<Millis>,
    #[serde(skip)]
    pub(crate) granularity: Millis,
    pub(crate) queues: Vec<QueueRt>,
    queue_ix: FxHashMap<Name, u32>,
    pub(crate) agents: Vec<AgentRt>,
    agent_ix: FxHashMap<Name, u32>,
    pub(crate) teams: Vec<TeamRt>,
    team_ix: FxHashMap<Name, u32>,
    pub(crate) reasons: Vec<Name>,
    reason_ix: FxHashMap<Name, u32>,
    pub(crate) contacts: ContactTable,
    timers: BinaryHeap<Reverse<Timer>>,
    /// Orphan timeouts: `event time + constant`, so they arrive in deadline order and a
    /// FIFO replaces a heap holding every open contact.
    orphan_timers: VecDeque<Timer>,
    /// The heap size past which [`Engine::compact_timers`] runs again (not persisted:
    /// a restored engine cleans out at its first schedule past the slack).
    #[serde(skip)]
    timers_compact_at: usize,
    /// Event time reached; `None` before the first event.
    pub(crate) now: Option<Millis>,
    /// The next interval boundary, where agent state time is checkpointed.
    next_boundary: Millis,
    /// Spans ending at or before this are final.
    pub(crate) closed_cutoff: Millis,
    next_close: Millis,
    next_agent_close: Millis,
    /// Live reports: the local day whose start the kept rows were last pruned to.
    #[serde(skip)]
    rows_day: Millis,
    seq: u64,
    pub(crate) stats: EngineStats,
    /// Live reports: [`Engine::stats`] at each kept local day's start (event time), so a
    /// day's report counts that day's input, not the engine's lifetime.
    #[serde(default)]
    pub(crate) day_marks: VecDeque<(Millis, EngineStats)>,
    /// Agent state changes since the last [`Engine::take_transitions`], when recording
    /// (the schedule's adherence needs every change, not one state per tick).
    #[serde(skip)]
    pub(crate) transitions: Option<transitions::TransitionLog>,
    /// Today's schedule adherence per agent and team, from the schedule's latest view
    /// (the `adherence_min` target; the engine does not measure it itself).
    #[serde(skip)]
    pub(crate) adherence: Option<std::sync::Arc<AdherenceToday>>,
    /// Each agent's team as the schedule names it ([`Engine::set_planned_teams`]): the
    /// team of an agent the config does not place (re-set after a restore).
    #[serde(skip)]
    pub(crate) planned_teams: FxHashMap<Name, Name>,
    /// See [`Engine::skip_rolling_before_clock`]: a bucket boundary (not persisted: the
    /// runtime sets it).
    #[serde(skip, default = "no_floor")]
    pub(crate) rolling_floor: Millis,
    /// While a backlog is read: rolling windows are summed when read, not slid bucket
    /// by bucket ([`Rolling::defer`]; until [`Engine::backlog_read`]).
    #[serde(skip)]
    pub(crate) windows_deferred: bool,
    /// While a backlog is read: days and totals take each interval when it closes
    /// ([`Engine::defer_days`]; until [`Engine::backlog_read`]).
    #[serde(skip)]
    pub(crate) days_deferred: bool,
}

fn no_floor() -> Millis {
    Millis::MIN
}

impl Engine {
    /// An engine for a validated config.
    pub fn new(config: &Config, opts: EngineOptions) -> Result<Engine, ConfigError> {
        config.validate("<config>")?;
        let tz = jiff::tz::TimeZone::get(&config.timezone).map_err(|e| ConfigError {
            file: "<config>".into(),
            key: "timezone".into(),
            message: e.to_string(),
        })?;
        Ok(Engine {
            opts,
            cal: Calendar::new(tz, config.interval.ms()),
            config: config.clone(),
            reorder: Reorder::new(
                config.engine.allowed_lateness.ms(),
                config.engine.dedupe_horizon.ms(),
            ),
            orphan_ms: config.engine.orphan_timeout.ms(),
            rolling_lengths: config.windows.rolling.iter().map(|d| d.ms()).collect(),
            granularity: config.windows.granularity.ms(),
            queues: Vec::new(),
            queue_ix: FxHashMap::default(),
            agents: Vec::new(),
            agent_ix: FxHashMap::default(),
            teams: Vec::new(),
            team_ix: FxHashMap::default(),
            reasons: Vec::new(),
            reason_ix: FxHashMap::default(),
            contacts: ContactTable::default(),
            timers: BinaryHeap::new(),
            orphan_timers: VecDeque::new(),
            timers_compact_at: 0,
            now: None,
            next_boundary: Millis::MIN,
            closed_cutoff: Millis::MIN,
            next_close: Millis::MIN,
            next_agent_close: Millis::MIN,
            rows_day: Millis::MIN,
            seq: 0,
            stats: EngineStats::default(),
            day_marks: VecDeque::new(),
            transitions: None,
            adherence: None,
            planned_teams: FxHashMap::default(),
            rolling_floor: no_floor(),
            windows_deferred: false,
            days_deferred: false,
        })
    }

    /// While a backlog is read (the clock at `clock_now`): values older than every rolling
    /// window the clock can still show skip the windows' buckets. Once the backlog is read,
    /// event time follows the clock (watermark `clock − allowed_lateness`), so every window
    /// then starts after `clock_now − lateness − grace − granularity − longest window`;
    /// reading a day's backlog keeps buckets for its last hour only, not for the whole day.
    /// The floor is rounded down to a bucket boundary: the engine's other uses of it (no
    /// stop at the empty buckets below, team state time in one piece) need whole buckets.
    /// Until [`Engine::backlog_read`], the windows are summed when read instead of slid
    /// at every bucket boundary the backlog crosses.
    pub fn skip_rolling_before_clock(&mut self, clock_now: Millis) {
        let longest = self.rolling_lengths.iter().copied().max().unwrap_or(0);
        let g = self.granularity.max(1);
        let floor = clock_now
            - self.config.engine.allowed_lateness.ms()
            - self.opts.sl_grace_ms
            - self.granularity
            - longest;
        let floor = floor - floor.rem_euclid(g);
        // In steps of a bucket: called after every batch of a backlog.
        if floor <= self.rolling_floor {
            return;
        }
        self.rolling_floor = floor;
        self.windows_deferred = true;
        self.each_timeline(|tl| tl.defer_windows(floor), |tl| tl.defer_windows(floor));
    }

    /// The backlog is read (event time follows the clock again): the rolling windows are
    /// summed once from their buckets and slide bucket by bucket again.
    pub fn backlog_read(&mut self) {
        if std::mem::take(&mut self.windows_deferred) {
            self.each_timeline(Timeline::resume_windows, Timeline::resume_windows);
        }
        if std::mem::take(&mut self.days_deferred) {
            self.undefer_days();
        }
    }

    /// While a backlog is read (the daemon): an observation touches only its open
    /// interval, and today's and the lifetime totals take each interval when it closes,
    /// as replay's totals do — one batch per interval instead of two more aggregates
    /// per observation. Snapshots meanwhile read today as the day plus its open
    /// intervals; [`Engine::backlog_read`] folds them in. Not with weekly intervals (a
    /// day cannot be summed from intervals that span several).
    pub fn defer_days(&mut self) {
        if !self.opts.live_totals
            || !self.cal.intervals_within_days()
            || std::mem::replace(&mut self.days_deferred, true)
        {
            return;
        }
        self.each_timeline(Timeline::defer_days, Timeline::defer_days);
    }

    /// Every timeline counts its days and totals per observation again.
    pub(crate) fn undefer_days(&mut self) {
        self.each_timeline(Timeline::undefer_days, Timeline::undefer_days);
    }

    /// Calls `q` on every queue's timeline and `a` on every agent's and team's.
    fn each_timeline(
        &mut self,
        q: impl Fn(&mut Timeline<QueueAgg>),
        a: impl Fn(&mut Timeline<AgentAgg>),
    ) {
        self.queues.iter_mut().for_each(|x| q(&mut x.timeline));
        self.agents.iter_mut().for_each(|x| a(&mut x.timeline));
        self.teams.iter_mut().for_each(|x| a(&mut x.timeline));
    }

    /// The schedule's team of each agent it names (agent → team): an agent the config
    /// does not place is in its planned team, whatever its events say. An agent whose
    /// planned team changes moves at `t` (its state time before `t` stays with the old
    /// team); one the schedule no longer names keeps its team until its events name one.
    pub fn set_planned_teams<'a>(
        &mut self,
        teams: impl IntoIterator<Item = (&'a str, &'a str)>,
        t: Millis,
    ) {
        self.planned_teams = teams
            .into_iter()
            .map(|(a, team)| (Name::from(a), Name::from(team)))
            .collect();
        for a in 0..self.agents.len() as u32 {
            let Some(rt) = self.agents.get_mut(a as usize) else {
                continue;
            };
            if rt.team_from_config {
                continue;
            }
            let planned = self.planned_teams.get(&rt.name).cloned();
            rt.team_from_plan = planned.is_some();
            if let Some(team) = planned {
                self.move_to_team(a, &team, t);
            }
        }
    }

    /// Today's schedule adherence for the `adherence_min` targets of the next snapshots
    /// (`None`: no schedule; those targets have nothing to measure).
    pub fn set_adherence(&mut self, adherence: Option<std::sync::Arc<AdherenceToday>>) {
        self.adherence = adherence;
    }

    /// Counts of refused and repaired input.
    pub fn stats(&self) -> &EngineStats {
        &self.stats
    }

    /// Events held in the reorder buffer until their lateness passes.
    pub fn pending(&self) -> usize {
        self.reorder.pending()
    }

    /// Gives back the reorder buffer's memory a burst of events left ([`Reorder::trim`]).
    pub fn trim(&mut self) {
        self.reorder.trim();
    }

    /// Event time reached (the watermark), `None` before the first event.
    pub fn watermark(&self) -> Option<Millis> {
        self.now
    }

    /// The calendar (time zone and interval length).
    pub fn calendar(&self) -> &Calendar {
        &self.cal
    }

    /// Offers an event; it is applied once the allowed lateness has passed.
    pub fn push(&mut self, ev: Event) -> Result<(), Refused> {
        match self.reorder.push(ev) {
            Ok(()) => {}
            Err(r) => {
                match r {
                    Refused::Late => self.stats.late += 1,
                    Refused::Duplicate => self.stats.duplicates += 1,
                }
                return Err(r);
            }
        }
        while let Some(e) = self.reorder.pop_ready() {
            self.apply(e);
        }
        Ok(())
    }

    /// End of input: applies every buffered event.
    pub fn flush(&mut self) {
        while let Some(e) = self.reorder.pop_any() {
            self.apply(e);
        }
    }

    /// Moves event time to `t` without an event (an idle, caught-up source): timers fire,
    /// so waiting contacts turn into `sl_missed` and orphans even when nothing arrives.
    pub fn advance_to(&mut self, t: Millis) {
        self.reorder.observe(t);
        while let Some(e) = self.reorder.pop_ready() {
            self.apply(e);
        }
        let lateness = self.config.engine.allowed_lateness.ms();
        self.advance(t - lateness);
    }

    fn apply(&mut self, ev: Event) {
        self.advance(ev.ts);
        self.stats.applied += 1;
        let t = ev.ts;
        match ev.body {
            EventBody::ContactQueued {
                contact,
                queue,
                channel,
            } => {
                let q = self.queue_id(&queue);
                self.on_queued(t, q, contact, channel);
            }
            EventBody::ContactAnswered {
                contact,
                queue,
                agent,
                wait_ms,
            } => {
                let q = self.queue_id(&queue);
                let a = self.agent_id(&agent, t);
                self.on_answered(t, q, contact, a, wait_ms);
            }
            EventBody::ContactAbandoned {
                contact,
                queue,
                wait_ms,
            } => {
                let q = self.queue_id(&queue);
                self.on_left_queue(t, q, contact, wait_ms, None);
            }
            EventBody::ContactExited {
                contact,
                queue,
                reason,
                wait_ms,
            } => {
                let q = self.queue_id(&queue);
                self.on_left_queue(t, q, contact, wait_ms, Some(reason));
            }
            EventBody::ContactHold { contact, queue } => {
                self.on_hold(t, contact, queue.as_ref(), true)
            }
            EventBody::ContactUnhold { contact, queue } => {
                self.on_hold(t, contact, queue.as_ref(), false)
            }
            EventBody::ContactTransferred {
                contact,
                queue,
                talk_ms,
                ..
            } => self.on_finished(t, contact, queue.as_ref(), talk_ms, true),
            EventBody::ContactEnded {
                contact,
                queue,
                talk_ms,
            } => self.on_finished(t, contact, queue.as_ref(), talk_ms, false),
            EventBody::AgentState(change) => self.on_agent_state(t, *change),
            EventBody::AgentMembership {
                agent,
                queue,
                joined,
                paused,
            } => {
                let q = self.queue_id(&queue);
                let a = self.agent_id(&agent, t);
                self.on_membership(t, a, q, joined, paused);
            }
            EventBody::RingNoAnswer { agent, queue } => {
                let q = self.queue_id(&queue);
                let a = self.agent_id(&agent, t);
                self.learn_queue(a, q);
                self.record_agent(a, t, AgentObs::RingNoAnswer);
            }
            EventBody::SourceRestart => self.on_restart(t),
        }
    }

    /// Moves event time to `t`: fires due timers and crosses interval boundaries in order.
    fn advance(&mut self, t: Millis) {
        let Some(now) = self.now else {
            self.start_at(t);
            return;
        };
        if t <= now {
            return;
        }
        loop {
            let timer_at = self.next_timer_at().filter(|&d| d < t);
            let boundary = Some(self.next_boundary).filter(|&b| b <= t);
            match (timer_at, boundary) {
                (_, Some(b)) if timer_at.is_none_or(|d| b <= d) => {
                    self.now = Some(b);
                    self.cross_boundary(b);
                }
                (Some(d), _) => {
                    self.now = Some(self.now.map_or(d, |n| n.max(d)));
                    self.close_spans(d);
                    if let Some(timer) = self.pop_timer() {
                        self.fire(timer);
                    }
                }
                _ => break,
            }
        }
        self.now = Some(t);
        self.close_spans(t);
    }

    fn start_at(&mut self, t: Millis) {
        self.now = Some(t);
        self.next_boundary = self.cal.boundary_after(t);
        self.closed_cutoff = t - self.opts.sl_grace_ms;
        self.next_close = self.closed_cutoff;
    }

    /// Agent state time is split exactly at interval and day boundaries.
    fn cross_boundary(&mut self, b: Millis) {
        for a in 0..self.agents.len() as u32 {
            self.checkpoint_agent(a, b);
        }
        if self.keeps_report_days() && self.cal.day(b).0 == b {
            self.mark_day(b);
        }
        self.next_boundary = self.cal.boundary_after(b);
    }

    /// Finalises spans that no record can reach any more (they end before `t − grace`).
    fn close_spans(&mut self, t: Millis) {
        let cutoff = t - self.opts.sl_grace_ms;
        if cutoff < self.next_close {
            return;
        }
        self.closed_cutoff = cutoff;
        for q in &mut self.queues {
            q.timeline.close_before(cutoff);
        }
        for team in &mut self.teams {
            team.timeline.close_before(cutoff);
        }
        // The next end of an interval or a day (a weekly interval spans several days).
        let boundary = self.cal.boundary_after(cutoff);
        if cutoff >= self.next_agent_close {
            for a in &mut self.agents {
                a.timeline.close_before(cutoff);
            }
            self.next_agent_close = boundary;
        }
        self.prune_rows(cutoff);
        let g = self.granularity.max(1);
        let next_bucket = cutoff - cutoff.rem_euclid(g) + g;
        self.next_close = if self.opts.rolling {
            // Buckets before the rolling floor stay empty: no need to stop at each one.
            next_bucket.max(self.rolling_floor).min(boundary)
        } else {
            boundary
        };
    }

    /// True when the engine keeps report rows of local days for live reports.
    fn keeps_report_days(&self) -> bool {
        self.opts.keep_closed && self.opts.live_totals && self.opts.report_days > 0
    }

    /// Live reports: notes the counts as local day `day_start` begins, forgetting the
    /// marks of days no longer kept.
    fn mark_day(&mut self, day_start: Millis) {
        self.day_marks.push_back((day_start, self.stats.clone()));
        if let Some(from) = kept_from(day_start, day_sums_kept(self.opts.report_days)) {
            while self.day_marks.front().is_some_and(|m| m.0 < from) {
                self.day_marks.pop_front();
            }
        }
    }

    /// Live reports: the counts of local day `day` — applied and unmatched events by their
    /// time, orphans by when they were closed, late and duplicate events by the
    /// watermark's day when they were refused. A day whose start the engine did not
    /// cross (it started that day, or was restored from a checkpoint without marks)
    /// counts everything the engine counted before the day ended.
    pub(crate) fn day_stats(&self, day: (Millis, Millis)) -> EngineStats {
        let mark = |t: Millis| self.day_marks.iter().find(|m| m.0 == t).map(|m| &m.1);
        let zero = EngineStats::default();
        let start = mark(day.0).unwrap_or(&zero);
        let end = match self.now {
            Some(now) if now < day.0 => return zero,
            Some(now) if now >= day.1 => mark(day.1).unwrap_or(start),
            _ => &self.stats,
        };
        end.since(start)
    }

    /// Live reports: once a day, drops every entity's rows older than the days kept,
    /// also for queues and agents idle since (their own closes never prune).
    fn prune_rows(&mut self, cutoff: Millis) {
        if !self.keeps_report_days() {
            return;
        }
        let today = self.cal.day(cutoff).0;
        if today <= self.rows_day {
            return;
        }
        self.rows_day = today;
        for q in &mut self.queues {
            q.timeline.prune_days(today);
        }
        for t in &mut self.teams {
            t.timeline.prune_days(today);
        }
        for a in &mut self.agents {
            a.timeline.prune_days(today);
        }
    }

    pub(crate) fn schedule(&mut self, at: Millis, kind: TimerKind) {
        self.seq += 1;
        let timer = Timer {
            at,
            seq: self.seq,
            kind,
        };
        let in_order = self.orphan_timers.back().is_none_or(|b| b.at <= at);
        if matches!(timer.kind, TimerKind::Orphan { .. }) && in_order {
            self.orphan_timers.push_back(timer);
            self.compact_orphan_timers();
        } else {
            self.timers.push(Reverse(timer));
            self.compact_timers();
        }
    }

    /// Drops the SL deadlines of contacts that left the queue once the heap has doubled
    /// since the last clean-out (and outnumbers the open contacts two to one): a busy
    /// center answers most contacts long before queued + T, so at 200k events/s the
    /// dead deadlines were most of the heap; a dead one is a no-op when it fires.
    /// Amortised O(1): each clean-out at least halves what the next one visits.
    fn compact_timers(&mut self) {
        let bound = DEAD_TIMERS_SLACK
            .max(2 * self.contacts.len())
            .max(self.timers_compact_at);
        if self.timers.len() <= bound {
            return;
        }
        let contacts = &self.contacts;
        self.timers.retain(|Reverse(t)| t.is_live(contacts));
        self.timers_compact_at = 2 * self.timers.len();
    }

    /// Drops the orphan timeouts of contacts that already closed once they outnumber
    /// the open contacts two to one: a busy center closes contacts much faster than the
    /// timeout (hours), and a dead timer is a no-op when it fires. Amortised O(1).
    fn compact_orphan_timers(&mut self) {
        if self.orphan_timers.len() <= DEAD_TIMERS_SLACK.max(2 * self.contacts.len()) {
            return;
        }
        let contacts = &self.contacts;
        self.orphan_timers.retain(|t| t.is_live(contacts));
    }

    fn next_timer_at(&self) -> Option<Millis> {
        let heap = self.timers.peek().map(|Reverse(x)| x.at);
        let fifo = self.orphan_timers.front().map(|x| x.at);
        match (heap, fifo) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn pop_timer(&mut self) -> Option<Timer> {
        let heap = self.timers.peek().map(|Reverse(x)| (x.at, x.seq));
        let fifo = self.orphan_timers.front().map(|x| (x.at, x.seq));
        match (heap, fifo) {
            (Some(h), Some(f)) if f < h => self.orphan_timers.pop_front(),
            (Some(_), _) => self.timers.pop().map(|Reverse(x)| x),
            (None, _) => self.orphan_timers.pop_front(),
        }
    }

    pub(crate) fn next_uid(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    fn fire(&mut self, timer: Timer) {
        match timer.kind {
            TimerKind::SlDeadline { slot, uid } => self.on_sl_deadline(slot, uid),
            TimerKind::Orphan { slot, uid } => self.on_orphan(timer.at, slot, uid),
            TimerKind::WrapDecision { agent } => self.on_wrap_decision(timer.at, agent),
            TimerKind::DerivedAcwEnd { agent, seq } => {
                self.on_derived_acw_end(timer.at, agent, seq)
            }
        }
    }

    /// The queue's index, creating it with its configured settings on first sight.
    pub(crate) fn queue_id(&mut self, name: &Name) -> u32 {
        if let Some(&i) = self.queue_ix.get(name) {
            return i;
        }
        let settings = self
            .config
            .queues
            .get(name.as_str())
            .map(|q| q.or(&self.config.defaults))
            .unwrap_or_else(|| self.config.defaults.clone());
        let rolling = self.new_rolling();
        let i = self.queues.len() as u32;
        self.queues.push(QueueRt {
            name: name.clone(),
            params: QueueParams::resolve(&settings),
            waiting: BTreeSet::new(),
            waiting_by_channel: [0; 6],
            timeline: self.new_timeline(rolling),
            lifetime: Default::default(),
        });
        self.queue_ix.insert(name.clone(), i);
        i
    }

    /// The team's index, creating it on first sight.
    pub(crate) fn team_id(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.team_ix.get(name) {
            return i;
        }
        let targets = self
            .config
            .teams
            .get(name)
            .map(|t| t.targets)
            .unwrap_or_default();
        let rolling = self.new_rolling();
        let i = self.teams.len() as u32;
        self.teams.push(TeamRt {
            name: Name::from(name),
            targets,
            timeline: self.new_timeline(rolling),
        });
        self.team_ix.insert(Name::from(name), i);
        i
    }

    /// The agent's index, creating it (logged out since `t`) on first sight.
    pub(crate) fn agent_id(&mut self, name: &Name, t: Millis) -> u32 {
        if let Some(&i) = self.agent_ix.get(name) {
            return i;
        }
        let cfg = self.config.agents.get(name.as_str()).cloned();
        let configured = config_team(&self.config, name.as_str());
        let team_from_config = configured.is_some();
        let planned = match configured {
            Some(_) => None,
            None => self.planned_teams.get(name).map(Name::to_string),
        };
        let team_from_plan = planned.is_some();
        let team = configured.or(planned).map(|n| self.team_id(&n));
        let i = self.agents.len() as u32;
        let mut rt = AgentRt::new(
            name.clone(),
            team,
            t,
            self.opts.keep_closed,
            self.opts.live_totals,
        );
        rt.timeline
            .keep_rows(self.opts.keep_closed, self.opts.report_days);
        if self.days_deferred {
            rt.timeline.defer_days();
        }
        rt.display = cfg.as_ref().and_then(|c| c.name.as_deref().map(Name::from));
        rt.own_targets = cfg.map(|c| c.targets).unwrap_or_default();
        rt.team_from_config = team_from_config;
        rt.team_from_plan = team_from_plan;
        self.agents.push(rt);
        self.agent_ix.insert(name.clone(), i);
        i
    }

    pub(crate) fn reason_id(&mut self, name: &Name) -> u32 {
        if let Some(&i) = self.reason_ix.get(name) {
            return i;
        }
        let i = self.reasons.len() as u32;
        self.reasons.push(name.clone());
        self.reason_ix.insert(name.clone(), i);
        i
    }

    /// A queue's or team's timeline under the engine's options.
    fn new_timeline<A: Aggregate>(&self, rolling: Option<Rolling<A>>) -> Timeline<A> {
        let mut tl = Timeline::new(self.opts.keep_closed, self.opts.live_totals, rolling);
        tl.keep_rows(self.opts.keep_closed, self.opts.report_days);
        if self.days_deferred {
            tl.defer_days();
        }
        tl
    }

    fn new_rolling<A: Aggregate>(&self) -> Option<Rolling<A>> {
        self.opts.rolling.then(|| {
            let mut r = Rolling::new(
                self.granularity,
                &self.rolling_lengths,
                self.now.unwrap_or(0) - self.opts.sl_grace_ms,
            );
            r.skip_before(self.rolling_floor);
            if self.windows_deferred {
                r.defer();
            }
            r
        })
    }

    /// Counts a queue observation of a contact on `channel` at instant `t`.
    pub(crate) fn record_queue(&mut self, q: u32, ch: Channel, t: Millis, o: QueueObs) {
        self.record_queue_exit(q, ch, t, o, None);
    }

    /// [`Engine::record_queue`] with the exit reason for `Exited`.
    pub(crate) fn record_queue_exit(
        &mut self,
        q: u32,
        ch: Channel,
        t: Millis,
        o: QueueObs,
        exit: Option<crate::model::ExitReason>,
    ) {
        if let Some(rt) = self.queues.get_mut(q as usize) {
            rt.timeline.record(&self.cal, t, o);
            let threshold = rt.params.sl_threshold_ms;
            if !self.opts.lifetime {
                return;
            }
            if let Some(slot) = rt.lifetime.get_mut(channel_ix(ch)) {
                slot.get_or_insert_with(|| Box::new(ChannelTotals::new(threshold)))
                    .apply(&o, exit);
            }
        }
    }

    /// Counts an agent observation for the agent and its team.
    pub(crate) fn record_agent(&mut self, a: u32, t: Millis, o: AgentObs) {
        let Some(rt) = self.agents.get_mut(a as usize) else {
            return;
        };
        rt.timeline.record(&self.cal, t, o);
        if let Some(team) = rt.team.and_then(|i| self.teams.get_mut(i as usize)) {
            team.timeline.record(&self.cal, t, o);
        }
    }

    /// The targets in force for an agent: its own, then its team's.
    pub(crate) fn agent_targets(&self, a: u32) -> Targets {
        let Some(rt) = self.agents.get(a as usize) else {
            return Targets::default();
        };
        let team = rt
            .team
            .and_then(|i| self.teams.get(i as usize))
            .map(|t| t.targets)
            .unwrap_or_default();
        rt.own_targets.or(&team)
    }

    /// Settles the engine at the end of input: applies buffered events, and counts the
    /// agents' open state time up to the watermark (the last event's time).
    pub fn finish(&mut self) {
        self.flush();
        if let Some(now) = self.now {
            for a in 0..self.agents.len() as u32 {
                self.checkpoint_agent(a, now);
            }
        }
    }

    /// Closes every open interval (end of a replay) so reports see all rows.
    pub fn close_all(&mut self) {
        for q in &mut self.queues {
            q.timeline.close_before(Millis::MAX);
        }
        for t in &mut self.teams {
            t.timeline.close_before(Millis::MAX);
        }
        for a in &mut self.agents {
            a.timeline.close_before(Millis::MAX);
        }
    }

    /// Queue names with their resolved settings and timelines.
    pub fn queues(&self) -> impl Iterator<Item = (&Name, &QueueParams, &Timeline<QueueAgg>)> {
        self.queues
            .iter()
            .map(|q| (&q.name, &q.params, &q.timeline))
    }

    /// Agent names with their targets and timelines.
    pub fn agents(&self) -> impl Iterator<Item = (&Name, Targets, &Timeline<AgentAgg>)> {
        self.agents
            .iter()
            .enumerate()
            .map(|(i, a)| (&a.name, self.agent_targets(i as u32), &a.timeline))
    }

    /// The team of the agent `name` now, if it has one.
    pub fn agent_team(&self, name: &str) -> Option<&str> {
        self.team_name(*self.agent_ix.get(name)?).map(Name::as_str)
    }

    /// The name of agent `a`'s team now, if it has one.
    pub(crate) fn team_name(&self, a: u32) -> Option<&Name> {
        let t = self.agents.get(a as usize)?.team?;
        Some(&self.teams.get(t as usize)?.name)
    }

    /// Each agent's current state, its reason and since when: the state spans still open
    /// (a replay's schedule adherence closes them at the end of input).
    pub fn agent_states(
        &self,
    ) -> impl Iterator<Item = (&Name, AgentStatus, Option<&Name>, Millis)> {
        self.agents.iter().map(|a| {
            let reason = a.reason.and_then(|r| self.reasons.get(r as usize));
            (&a.name, a.state, reason, a.since)
        })
    }

    /// Team names with their targets and timelines.
    pub fn teams(&self) -> impl Iterator<Item = (&Name, Targets, &Timeline<AgentAgg>)> {
        self.teams.iter().map(|t| (&t.name, t.targets, &t.timeline))
    }
}

/// The channel index used by per-channel arrays.
pub(crate) fn channel_ix(c: Channel) -> usize {
    c as usize
}

/// The state index used by per-state arrays.
pub(crate) fn state_ix(s: AgentStatus) -> usize {
    s as usize
}

/// The team the config puts `agent` in (`[agents."X"] team`, else a `[teams.X] agents`
/// list naming it); it wins over the team a source's events name.
pub(crate) fn config_team(config: &Config, agent: &str) -> Option<String> {
    config
        .agents
        .get(agent)
        .and_then(|c| c.team.clone())
        .or_else(|| {
            config
                .teams
                .iter()
                .find(|(_, t)| t.agents.iter().any(|a| a == agent))
                .map(|(n, _)| n.clone())
        })
}

#[cfg(test)]
mod tests;
