//! Follows agent state changes against the schedule, in event time.
//!
//! Every [`AgentTransition`] closes the span the agent spent in its previous state;
//! that span is compared with the agent's plan ([`span_adherence`]) and added to
//! today's adherent / scheduled time (split at local midnight). At a snapshot's
//! watermark `W` the open span `[last change, W)` is added on the fly, so adherence is
//! exact in event time whatever the tick. Changes are applied only up to `W` (later
//! ones wait for a later snapshot), in the order the engine applied them. Today's closed
//! spans are kept per agent so a new schedule recomputes today exactly.

use super::adherence::{is_adherent, span_adherence, AuxReasons};
use super::ledger::{AgentLedger, Ledger};
use super::plan::{AgentPlan, Schedule};
use super::view::{
    AgentAdherence, ImportInfo, LateReturn, QueueSchedule, ScheduleView, TeamSchedule,
};
use super::Activity;
use crate::config::ScheduleSection;
use crate::engine::{kept_from, AgentSnapshot, AgentTransition, Calendar, Snapshot, Transitions};
use crate::model::{AgentStatus, Millis, Name};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, VecDeque};

/// The graces and reason lists of `[schedule]`, in milliseconds.
#[derive(Debug, Clone, Default)]
pub struct ScheduleSettings {
    /// Not logged in this long after the shift start: a no-show.
    pub no_show_grace_ms: Millis,
    /// In aux longer than this after a break's end: an overrun / late return.
    pub break_grace_ms: Millis,
    /// How long a late return stays in the view.
    pub late_return_hold_ms: Millis,
    /// Aux reasons per activity.
    pub aux: AuxReasons,
    /// Local days of state spans kept for day reports' adherence, today included (at
    /// least 2: today and yesterday); the daemon keeps `[daemon] report_days`.
    pub keep_days: u32,
}

impl ScheduleSettings {
    /// From the `[schedule]` section.
    pub fn from_config(s: &ScheduleSection) -> Self {
        ScheduleSettings {
            no_show_grace_ms: s.no_show_grace.ms(),
            break_grace_ms: s.break_grace.ms(),
            late_return_hold_ms: s.late_return_hold.ms().max(1),
            aux: AuxReasons::from_config(&s.aux_reasons),
            keep_days: 2,
        }
    }

    /// These settings keeping `days` local days of spans (as the report rows keep).
    pub fn keeping_days(mut self, days: u32) -> Self {
        self.keep_days = days.max(2);
        self
    }
}

/// A closed span of one state (today's, kept for recomputation), compact: 16 bytes
/// instead of 48, and consecutive working states merged into one span. Saved as
/// `[from, len, reason, "state"]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(
    into = "(u32, u32, u32, AgentStatus)",
    from = "(u32, u32, u32, AgentStatus)"
)]
struct Closed {
    /// Start, in ms after the track's `day_start` (a span lies within its day).
    from: u32,
    /// Length in ms.
    len: u32,
    /// The reason: 0 none, `i + 1` the track's `reasons[i]`.
    reason: u32,
    state: AgentStatus,
}

impl From<Closed> for (u32, u32, u32, AgentStatus) {
    fn from(c: Closed) -> Self {
        (c.from, c.len, c.reason, c.state)
    }
}

impl From<(u32, u32, u32, AgentStatus)> for Closed {
    fn from((from, len, reason, state): (u32, u32, u32, AgentStatus)) -> Self {
        Closed {
            from,
            len,
            reason,
            state,
        }
    }
}

/// What is known of one agent.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Track {
    state: AgentStatus,
    reason: Option<Name>,
    /// Time before this is accounted.
    acc_from: Millis,
    /// In aux (any reason) continuously since.
    aux_since: Option<Millis>,
    /// End of the last logged-in span (`None`: not seen logged in).
    logged_in_until: Option<Millis>,
    tracked_since: Millis,
    /// The engine's team for this agent (last snapshot).
    engine_team: Option<String>,
    day_start: Millis,
    adherent_ms: u64,
    scheduled_ms: u64,
    history: Vec<Closed>,
    /// The reasons today's `history` names (an agent uses a handful).
    reasons: Vec<Name>,
    /// The previous day's closed spans (yesterday's report), moved out at midnight.
    #[serde(default)]
    prev: Option<DayHistory>,
    /// The days before `prev` still kept (`keep_days`), oldest first.
    #[serde(default)]
    older: VecDeque<DayHistory>,
}

/// One local day's closed spans of an agent and the reasons they name.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct DayHistory {
    day_start: Millis,
    history: Vec<Closed>,
    reasons: Vec<Name>,
}

impl DayHistory {
    /// The spans as `(from, to, state, reason)`, oldest first.
    fn spans(
        &self,
    ) -> impl DoubleEndedIterator<Item = (Millis, Millis, AgentStatus, Option<&str>)> {
        spans(self.day_start, &self.history, &self.reasons)
    }
}

/// `history` (a day's closed spans, starting at `day_start`, naming `reasons`) as
/// `(from, to, state, reason)`, oldest first.
fn spans<'a>(
    day_start: Millis,
    history: &'a [Closed],
    reasons: &'a [Name],
) -> impl DoubleEndedIterator<Item = (Millis, Millis, AgentStatus, Option<&'a str>)> {
    history.iter().map(move |c| {
        let from = day_start + Millis::from(c.from);
        let reason = c
            .reason
            .checked_sub(1)
            .and_then(|i| reasons.get(i as usize))
            .map(Name::as_str);
        (from, from + Millis::from(c.len), c.state, reason)
    })
}

impl Track {
    fn new(state: AgentStatus, reason: Option<Name>, since: Millis) -> Self {
        Track {
            state,
            reason,
            acc_from: since,
            aux_since: (state == AgentStatus::Aux).then_some(since),
            logged_in_until: None,
            tracked_since: since,
            engine_team: None,
            day_start: Millis::MIN,
            adherent_ms: 0,
            scheduled_ms: 0,
            history: Vec::new(),
            reasons: Vec::new(),
            prev: None,
            older: VecDeque::new(),
        }
    }

    /// Accounts `[acc_from, to)` in the current state; days of spans beyond `keep`
    /// (today included) are dropped.
    fn close(
        &mut self,
        to: Millis,
        plan: Option<&AgentPlan>,
        cal: &Calendar,
        aux: &AuxReasons,
        keep: u32,
    ) {
        let mut a = self.acc_from;
        while a < to {
            let (ds, de) = cal.day(a);
            let b = to.min(de.max(a + 1));
            if ds > self.day_start {
                // The day's spans move aside (emptying today's) for yesterday's report.
                let done = DayHistory {
                    day_start: self.day_start,
                    history: std::mem::take(&mut self.history),
                    reasons: std::mem::take(&mut self.reasons),
                };
                self.older.extend(self.prev.take());
                let older = keep.saturating_sub(2) as usize;
                while self.older.len() > older {
                    self.older.pop_front();
                }
                self.prev = (done.day_start != Millis::MIN).then_some(done);
                self.day_start = ds;
                self.adherent_ms = 0;
                self.scheduled_ms = 0;
            }
            if ds == self.day_start {
                if let Some(p) = plan {
                    let (adh, sch) =
                        span_adherence(p, a, b, self.state, self.reason.as_deref(), aux);
                    self.adherent_ms += adh;
                    self.scheduled_ms += sch;
                }
                let reason = self.reason_ix();
                // Within the day: both fit (a day is < 2^32 ms).
                let off = |d: Millis| u32::try_from(d).unwrap_or(u32::MAX);
                let span = Closed {
                    from: off(a - ds),
                    len: off(b - a),
                    reason,
                    state: self.state,
                };
                // A span that continues the last one in an equivalent state (the
                // working states adhere to the same activities) extends it: a busy
                // agent's day of contacts is one span between breaks, not thousands.
                match self.history.last_mut() {
                    Some(last)
                        if last.from.checked_add(last.len) == Some(span.from)
                            && last.reason == span.reason
                            && same_adherence(last.state, span.state) =>
                    {
                        last.len = last.len.saturating_add(span.len);
                    }
                    _ => self.history.push(span),
                }
            }
            a = b;
        }
        if self.state != AgentStatus::LoggedOut && to > self.acc_from {
            self.logged_in_until = Some(to);
        }
        self.acc_from = self.acc_from.max(to);
    }

    /// The history's code for the current reason (added to `reasons` when new).
    fn reason_ix(&mut self) -> u32 {
        let Some(r) = &self.reason else { return 0 };
        let i = match self.reasons.iter().position(|x| x == r) {
            Some(i) => i,
            None => {
                self.reasons.push(r.clone());
                self.reasons.len() - 1
            }
        };
        u32::try_from(i + 1).unwrap_or(u32::MAX)
    }

    /// The closed spans of `history` as `(from, to, state, reason)`, oldest first.
    fn closed_spans(
        &self,
    ) -> impl DoubleEndedIterator<Item = (Millis, Millis, AgentStatus, Option<&str>)> {
        spans(self.day_start, &self.history, &self.reasons)
    }

    /// The closed spans of the local day starting at `day` (today's or a kept earlier
    /// day's history; none for another day).
    fn closed_spans_of(
        &self,
        day: Millis,
    ) -> Box<dyn Iterator<Item = (Millis, Millis, AgentStatus, Option<&str>)> + '_> {
        if self.day_start == day {
            Box::new(self.closed_spans())
        } else {
            match self
                .prev
                .iter()
                .chain(&self.older)
                .find(|p| p.day_start == day)
            {
                Some(p) => Box::new(p.spans()),
                None => Box::new(std::iter::empty()),
            }
        }
    }

    /// Today's state spans, newest first, as `(from, to, state, reason)`: the open one
    /// up to `w`, then the closed ones (those of `day` only; none before it is known).
    fn spans_back(
        &self,
        w: Millis,
        day: Millis,
    ) -> impl Iterator<Item = (Millis, Millis, AgentStatus, Option<&str>)> {
        let open = (
            self.acc_from.max(day),
            w,
            self.state,
            self.reason.as_deref(),
        );
        let today = self.day_start == day;
        let closed = self.closed_spans().rev().filter(move |_| today);
        std::iter::once(open).chain(closed)
    }

    /// Recomputes today's closed time against a new plan.
    fn recompute(&mut self, plan: Option<&AgentPlan>, aux: &AuxReasons) {
        self.adherent_ms = 0;
        self.scheduled_ms = 0;
        if let Some(p) = plan {
            let (adh, sch) = self.closed_spans().fold((0, 0), |acc, (from, to, st, r)| {
                let (adh, sch) = span_adherence(p, from, to, st, r, aux);
                (acc.0 + adh, acc.1 + sch)
            });
            self.adherent_ms = adh;
            self.scheduled_ms = sch;
        }
    }
}

/// Where the run of non-adherence that reaches `w` began: walking back over the state
/// spans (newest first, `(from, to, state, reason)`) and the plan, the latest instant
/// before which the agent was adherent, unscheduled (a gap in the plan: `off` rows leave
/// one) or not known (before today's first span). The caller has checked that `w` itself is non-adherent.
fn non_adherent_since<'a>(
    plan: &AgentPlan,
    w: Millis,
    spans: impl Iterator<Item = (Millis, Millis, AgentStatus, Option<&'a str>)>,
    aux: &AuxReasons,
) -> Millis {
    let mut c = w;
    for (a, b, state, reason) in spans {
        if b < c {
            return c; // a hole in what is known
        }
        if a >= c {
            continue;
        }
        for p in plan.overlapping(a, c).iter().rev() {
            let off_plan = p.end.min(c) < c; // `[p.end, c)` is unscheduled
            if off_plan || is_adherent(p.activity, state, reason, aux) {
                return c;
            }
            c = p.start.max(a);
        }
        if c > a {
            return c; // `[a, c)` is unscheduled
        }
    }
    c
}

/// Two states that adhere to exactly the same activities ([`is_adherent`]): equal
/// ones, or two working states.
fn same_adherence(a: AgentStatus, b: AgentStatus) -> bool {
    a == b || (logged_in_working(a) && logged_in_working(b))
}

fn logged_in_working(s: AgentStatus) -> bool {
    matches!(
        s,
        AgentStatus::Available
            | AgentStatus::Ringing
            | AgentStatus::OnContact
            | AgentStatus::AfterCallWork
    )
}

/// The schedule and every agent's state history of today.
#[derive(Debug)]
pub struct Tracker {
    settings: ScheduleSettings,
    cal: Calendar,
    schedule: Schedule,
    import: ImportInfo,
    agents: FxHashMap<String, Track>,
    pending: VecDeque<AgentTransition>,
    late: Vec<LateReturn>,
    /// Transitions were lost: states are re-read from the next snapshot.
    resync: bool,
    /// The watermark of the last snapshot observed: changes are applied up to it.
    applied_to: Option<Millis>,
}

impl Tracker {
    /// An empty schedule; local days in `tz`.
    pub fn new(settings: ScheduleSettings, tz: jiff::tz::TimeZone) -> Self {
        Tracker {
            settings,
            cal: Calendar::new(tz, 86_400_000),
            schedule: Schedule::default(),
            import: ImportInfo {
                source: "none".into(),
                ..ImportInfo::default()
            },
            agents: FxHashMap::default(),
            pending: VecDeque::new(),
            late: Vec::new(),
            resync: false,
            applied_to: None,
        }
    }

    /// Adherence per agent and report interval (`cal`'s) of the local day starting at
    /// `day.0`, over whole intervals up to `until` that the tracker has applied: the
    /// day's kept state spans and the open one against the plan, counted as
    /// `replay --schedule` counts them. `None` without a schedule, for a day before the
    /// `keep_days` the tracker keeps spans of (today and yesterday by default), or for a
    /// past day it did not watch.
    pub fn day_ledger(
        &self,
        cal: &Calendar,
        day: (Millis, Millis),
        until: Millis,
    ) -> Option<HashMap<String, AgentLedger>> {
        let w = self.applied_to?;
        let today = self.cal.day(w).0;
        // The days the engine keeps report rows of (the same rule).
        let from = kept_from(today, self.settings.keep_days.max(2)).unwrap_or(today);
        if self.schedule.agents.is_empty() || day.0 < from || day.0 > today {
            return None;
        }
        // A past day the tracker never watched (it started later) has no adherence, not
        // every scheduled agent a no-show.
        if day.0 < today && !self.agents.values().any(|t| t.tracked_since < day.1) {
            return None;
        }
        let until = until.min(cal.interval(w, cal.day(w)).0).min(day.1);
        let mut ledger = Ledger::new(
            self.schedule.clone(),
            self.settings.aux.clone(),
            cal.clone(),
        );
        for (agent, t) in &self.agents {
            for (from, to, state, reason) in t.closed_spans_of(day.0) {
                ledger.span(agent, from, to.min(until), state, reason);
            }
            // The open span, from the last change (or the day's start) on.
            let from = t.acc_from.max(day.0);
            ledger.span(agent, from, until, t.state, t.reason.as_deref());
        }
        Some(ledger.finish(day.0, until.max(day.0)))
    }

    /// The loaded schedule.
    pub fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    /// Replaces the schedule; today's adherence is recomputed from the kept history.
    pub fn set_schedule(&mut self, schedule: Schedule, import: ImportInfo) {
        self.schedule = schedule;
        self.import = import;
        for (agent, t) in self.agents.iter_mut() {
            t.recompute(self.schedule.plan(agent), &self.settings.aux);
        }
    }

    /// A copy of what survives a restart: every agent's track of today, the changes not
    /// yet applied and the late returns still shown (the schedule itself is reloaded).
    /// A copy (16 bytes a closed span), so that the tracker is not held while it is
    /// written out with [`SavedState::write_json`].
    pub fn saved_state(&self) -> SavedState {
        let mut agents: Vec<(String, Track)> = self
            .agents
            .iter()
            .map(|(k, t)| (k.clone(), t.clone()))
            .collect();
        agents.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        SavedState(Saved {
            agents,
            pending: self.pending.iter().cloned().collect(),
            late: self.late.clone(),
            resync: self.resync,
        })
    }

    /// Takes back a state written by [`SavedState::write_json`] in place of the current one;
    /// today's adherence is recomputed against the schedule loaded now.
    pub fn restore_state(&mut self, bytes: &[u8]) -> Result<(), serde_json::Error> {
        let saved: Saved = serde_json::from_slice(bytes)?;
        self.agents = saved.agents.into_iter().collect();
        self.pending = saved.pending.into();
        self.late = saved.late;
        self.resync = saved.resync;
        for (agent, t) in self.agents.iter_mut() {
            t.recompute(self.schedule.plan(agent), &self.settings.aux);
        }
        Ok(())
    }

    /// Queues state changes taken from the engine (applied up to each watermark).
    pub fn push(&mut self, tr: Transitions) {
        if tr.dropped > 0 {
            self.resync = true;
        }
        self.pending.extend(tr.items);
    }

    fn apply(&mut self, tr: AgentTransition) {
        let plan = self.schedule.plan(&tr.agent);
        let track = self
            .agents
            .entry(tr.agent.to_string())
            .or_insert_with(|| Track::new(tr.from.0, tr.from.1.clone(), tr.from.2));
        let t = tr.t.max(track.acc_from);
        let (old, aux_since) = (track.state, track.aux_since);
        track.close(
            t,
            plan,
            &self.cal,
            &self.settings.aux,
            self.settings.keep_days,
        );
        track.state = tr.to;
        track.reason = tr.reason;
        track.aux_since = match (old, tr.to) {
            (AgentStatus::Aux, AgentStatus::Aux) => aux_since,
            (_, AgentStatus::Aux) => Some(t),
            _ => None,
        };
        // Back from aux to work: a late return if the break before this work span ended
        // more than `break_grace` ago and the agent was in aux since before its end.
        let (Some(plan), Some(since)) = (plan, aux_since) else {
            return;
        };
        if old != AgentStatus::Aux || !logged_in_working(tr.to) {
            return;
        }
        let Some(i) = plan.at(t) else { return };
        let (Some(cur), Some(prev)) = (plan.spans.get(i), plan.touching_before(i)) else {
            return;
        };
        let end = cur.start;
        if cur.activity == Activity::Work
            && prev.activity.is_break()
            && since < end
            && t - end > self.settings.break_grace_ms
        {
            let team = plan
                .team
                .clone()
                .or_else(|| track.engine_team.clone())
                .unwrap_or_default();
            self.late.push(LateReturn {
                agent: tr.agent.to_string(),
                team,
                break_end_ms: end,
                returned_at_ms: t,
                late_seconds: (t - end) as f64 / 1000.0,
            });
        }
    }

    /// Applies the changes up to the snapshot's watermark and computes the view there.
    pub fn observe(&mut self, snap: &Snapshot) -> ScheduleView {
        let Some(w) = snap.watermark_ms else {
            return ScheduleView {
                import: self.import.clone(),
                ..ScheduleView::default()
            };
        };
        while self.pending.front().is_some_and(|t| t.t <= w) {
            if let Some(tr) = self.pending.pop_front() {
                self.apply(tr);
            }
        }
        self.applied_to = Some(w);
        let resync = std::mem::take(&mut self.resync);
        for a in &snap.agents {
            match self.agents.get_mut(a.agent.as_str()) {
                Some(t) => {
                    t.engine_team.clone_from(&a.team);
                    if resync && (t.state != a.state || t.reason.as_deref() != a.reason.as_deref())
                    {
                        // Changes were lost: close what is known, take the state as is.
                        let plan = self.schedule.plan(&a.agent);
                        let keep = self.settings.keep_days;
                        t.close(a.since_ms.min(w), plan, &self.cal, &self.settings.aux, keep);
                        t.state = a.state;
                        t.reason = a.reason.as_deref().map(Name::from);
                        t.aux_since = (a.state == AgentStatus::Aux).then_some(a.since_ms);
                    }
                }
                None => {
                    let mut t =
                        Track::new(a.state, a.reason.as_deref().map(Name::from), a.since_ms);
                    t.engine_team.clone_from(&a.team);
                    self.agents.insert(a.agent.clone(), t);
                }
            }
        }
        let hold = self.settings.late_return_hold_ms;
        self.late.retain(|l| l.returned_at_ms + hold > w);
        // A return applied before any snapshot named the agent's team gets it now.
        for l in self.late.iter_mut().filter(|l| l.team.is_empty()) {
            if let Some(team) = self
                .agents
                .get(&l.agent)
                .and_then(|t| t.engine_team.clone())
            {
                l.team = team;
            }
        }
        self.view(snap, w)
    }

    fn view(&self, snap: &Snapshot, w: Millis) -> ScheduleView {
        let day = self.cal.day(w);
        let by_agent: FxHashMap<&str, &AgentSnapshot> =
            snap.agents.iter().map(|a| (a.agent.as_str(), a)).collect();
        struct TeamAcc {
            t: TeamSchedule,
            adh: u64,
            sch: u64,
        }
        let mut teams: BTreeMap<String, TeamAcc> = BTreeMap::new();
        // Looked up by `&str` first: no allocation per agent once the team exists.
        fn team_acc<'m>(
            teams: &'m mut BTreeMap<String, TeamAcc>,
            name: &str,
        ) -> Option<&'m mut TeamAcc> {
            if !teams.contains_key(name) {
                teams.insert(
                    name.to_string(),
                    TeamAcc {
                        t: TeamSchedule {
                            team: name.to_string(),
                            scheduled: 0,
                            logged_in: 0,
                            adherent: 0,
                            on_shift: 0,
                            adherence_today: None,
                        },
                        adh: 0,
                        sch: 0,
                    },
                );
            }
            teams.get_mut(name)
        }
        let mut queues: BTreeMap<String, QueueSchedule> = snap
            .queues
            .iter()
            .map(|q| {
                (
                    q.queue.clone(),
                    QueueSchedule {
                        queue: q.queue.clone(),
                        scheduled: 0,
                        logged_in: 0,
                        required_agents: q.staffing.as_ref().map(|s| s.required_agents),
                        scheduled_staffing_gap: None,
                    },
                )
            })
            .collect();
        let new_queue = |name: &str| QueueSchedule {
            queue: name.to_string(),
            scheduled: 0,
            logged_in: 0,
            required_agents: None,
            scheduled_staffing_gap: None,
        };
        for a in &snap.agents {
            if a.state == AgentStatus::LoggedOut {
                continue;
            }
            let name = self
                .schedule
                .plan(&a.agent)
                .and_then(|p| p.team.as_deref())
                .or(a.team.as_deref())
                .unwrap_or_default();
            if let Some(e) = team_acc(&mut teams, name) {
                e.t.logged_in += 1;
            }
            for q in &a.queues {
                match queues.get_mut(q.as_str()) {
                    Some(x) => x.logged_in += 1,
                    None => {
                        let mut x = new_queue(q);
                        x.logged_in = 1;
                        queues.insert(q.clone(), x);
                    }
                }
            }
        }
        let mut agents = Vec::with_capacity(self.schedule.agents.len());
        for (agent, plan) in &self.schedule.agents {
            let snap_agent = by_agent.get(agent.as_str()).copied();
            let track = self.agents.get(agent.as_str());
            let (state, reason) = track.map_or((AgentStatus::LoggedOut, None), |t| {
                (t.state, t.reason.as_deref())
            });
            let team_name = plan
                .team
                .clone()
                .or_else(|| track.and_then(|t| t.engine_team.clone()))
                .or_else(|| snap_agent.and_then(|a| a.team.clone()))
                .unwrap_or_default();
            let i = plan.at(w);
            let span = i.and_then(|i| plan.spans.get(i));
            let activity = span.map(|s| s.activity);
            let adherent = activity.map(|act| is_adherent(act, state, reason, &self.settings.aux));
            let (mut adh, mut sch) = match track {
                Some(t) if t.day_start == day.0 => (t.adherent_ms, t.scheduled_ms),
                _ => (0, 0),
            };
            if let Some(t) = track {
                let (a2, s2) = span_adherence(
                    plan,
                    t.acc_from.max(day.0),
                    w,
                    state,
                    reason,
                    &self.settings.aux,
                );
                adh += a2;
                sch += s2;
            } else {
                // Never seen by the engine: logged out all day.
                let (a2, s2) = span_adherence(
                    plan,
                    day.0,
                    w,
                    AgentStatus::LoggedOut,
                    None,
                    &self.settings.aux,
                );
                adh += a2;
                sch += s2;
            }
            let no_show = i.and_then(|i| {
                let (lo, hi) = plan.shift(i);
                let start = plan.spans.get(lo)?.start;
                let has_work = plan
                    .spans
                    .get(lo..=hi)?
                    .iter()
                    .any(|s| s.activity == Activity::Work);
                let logged_in = state != AgentStatus::LoggedOut
                    || track
                        .and_then(|t| t.logged_in_until)
                        .is_some_and(|u| u > start);
                (has_work && !logged_in && w - start >= self.settings.no_show_grace_ms)
                    .then(|| (w - start) as f64 / 1000.0)
            });
            let out_since = (adherent == Some(false)).then(|| match track {
                Some(t) => non_adherent_since(plan, w, t.spans_back(w, day.0), &self.settings.aux),
                // Never seen by the engine: logged out all day.
                None => non_adherent_since(
                    plan,
                    w,
                    std::iter::once((day.0, w, AgentStatus::LoggedOut, None)),
                    &self.settings.aux,
                ),
            });
            let overrun = i.and_then(|i| {
                let cur = plan.spans.get(i)?;
                let prev = plan.touching_before(i)?;
                let since = track?.aux_since?;
                (cur.activity == Activity::Work
                    && prev.activity.is_break()
                    && state == AgentStatus::Aux
                    && since < cur.start
                    && w - cur.start > self.settings.break_grace_ms)
                    .then(|| (w - cur.start) as f64 / 1000.0)
            });
            if let Some(e) = team_acc(&mut teams, &team_name) {
                e.adh += adh;
                e.sch += sch;
                e.t.on_shift += u32::from(activity.is_some());
                e.t.scheduled += u32::from(activity == Some(Activity::Work));
                e.t.adherent += u32::from(adherent == Some(true));
            }
            if activity == Some(Activity::Work) {
                let qs: &[String] = if plan.queues.is_empty() {
                    snap_agent.map_or(&[], |a| a.queues.as_slice())
                } else {
                    &plan.queues
                };
                for q in qs {
                    match queues.get_mut(q.as_str()) {
                        Some(x) => x.scheduled += 1,
                        None => {
                            let mut x = new_queue(q);
                            x.scheduled = 1;
                            queues.insert(q.clone(), x);
                        }
                    }
                }
            }
            agents.push(AgentAdherence {
                agent: agent.clone(),
                team: team_name,
                activity,
                activity_until_ms: span.map(|s| s.end),
                state,
                reason: reason.map(str::to_string),
                adherent,
                adherent_seconds_today: adh as f64 / 1000.0,
                scheduled_seconds_today: sch as f64 / 1000.0,
                adherence_today: (sch > 0).then(|| adh as f64 / sch as f64),
                tracked_since_ms: track.map(|t| t.tracked_since),
                no_show_seconds: no_show,
                break_overrun_seconds: overrun,
                out_of_adherence_since_ms: out_since,
            });
        }
        for q in queues.values_mut() {
            q.scheduled_staffing_gap = q
                .required_agents
                .map(|r| i64::from(r) - i64::from(q.scheduled));
        }
        ScheduleView {
            watermark_ms: Some(w),
            import: self.import.clone(),
            teams: teams
                .into_values()
                .map(|e| {
                    let mut t = e.t;
                    t.adherence_today = (e.sch > 0).then(|| e.adh as f64 / e.sch as f64);
                    t
                })
                .collect(),
            queues: queues.into_values().collect(),
            agents,
            late_returns: self
                .late
                .iter()
                .filter(|l| l.returned_at_ms <= w)
                .cloned()
                .collect(),
        }
    }
}

/// The tracker's state as saved for a restart ([`Tracker::saved_state`]).
#[derive(Debug)]
pub struct SavedState(Saved);

impl SavedState {
    /// Streams it as JSON into `w` (no copy of the document in memory).
    pub fn write_json(&self, w: impl std::io::Write) -> Result<(), serde_json::Error> {
        serde_json::to_writer(w, &self.0)
    }
}

/// [`SavedState`]'s document, read back by [`Tracker::restore_state`].
#[derive(Debug, Serialize, Deserialize)]
struct Saved {
    agents: Vec<(String, Track)>,
    pending: Vec<AgentTransition>,
    late: Vec<LateReturn>,
    resync: bool,
}
