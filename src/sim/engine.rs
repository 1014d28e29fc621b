//! The discrete-event core: a time-ordered agenda of internal happenings (arrivals, talk
//! ends, breaks, shifts) that produces canonical events into a small output buffer.

use super::config::{SimConfig, DAY};
use super::names::{agent_id, agent_name};
use super::SimError;
use crate::model::{
    AgentStateChange, AgentStatus, Channel, Event, EventBody, ExitReason, Millis, Name,
};
use compact_str::format_compact;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Exp, Exp1, LogNormal};
use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

const MIN: Millis = 60_000;

/// Something scheduled to happen inside the simulation.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Arrival {
        queue: u32,
    },
    QueueTimeout {
        slot: u32,
        gen: u32,
    },
    Connect {
        agent: u32,
    },
    TalkEnd {
        agent: u32,
    },
    AcwEnd {
        agent: u32,
    },
    Login {
        agent: u32,
        day: i64,
    },
    Logout {
        agent: u32,
        shift: u32,
    },
    BreakDue {
        agent: u32,
        shift: u32,
        reason: u16,
        len: Millis,
    },
    BreakEnd {
        agent: u32,
        shift: u32,
    },
}

/// An agenda entry; the heap pops the earliest `(t, seq)` first (seq keeps it deterministic).
#[derive(Debug)]
struct Sched {
    t: Millis,
    seq: u64,
    kind: Kind,
}

impl PartialEq for Sched {
    fn eq(&self, other: &Self) -> bool {
        (self.t, self.seq) == (other.t, other.seq)
    }
}
impl Eq for Sched {}
impl PartialOrd for Sched {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Sched {
    fn cmp(&self, other: &Self) -> Ordering {
        (other.t, other.seq).cmp(&(self.t, self.seq))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum St {
    LoggedOut,
    Available,
    Ringing,
    OnContact,
    Acw,
    Aux,
}

#[derive(Debug)]
struct Talk {
    contact: Name,
    queue: u32,
    queued_at: Millis,
    answered_at: Millis,
}

#[derive(Debug)]
struct Agent {
    id: Name,
    name: Name,
    team: u32,
    queues: Vec<u32>,
    state: St,
    avail_epoch: u32,
    shift: u32,
    next_day: i64,
    talk: Option<Talk>,
    pending_break: Option<(u16, Millis)>,
    pending_logout: bool,
}

#[derive(Debug)]
struct Queue {
    name: Name,
    channel: Channel,
    /// Peak arrivals per ms (rate_scale applied).
    rate: f64,
    /// Next arrival, fractional ms (kept exact across thinning).
    next_at: f64,
    talk: LogNormal<f64>,
    acw_mean_ms: f64,
    patience: Option<Exp<f64>>,
    max_wait_ms: Option<Millis>,
    transfer_prob: f64,
    ring_max_ms: Millis,
    /// FIFO of waiting contacts `(slot, gen)`; stale entries are skipped lazily.
    waiting: VecDeque<(u32, u32)>,
    live: usize,
    /// Available agents serving the queue, longest idle first `(agent, epoch)`; lazy.
    avail: VecDeque<(u32, u32)>,
    serving: usize,
    logged_in: usize,
}

#[derive(Debug)]
struct Waiting {
    contact: Name,
    queue: u32,
    queued_at: Millis,
    gen: u32,
    abandon: bool,
}

#[derive(Debug)]
struct Team {
    name: Name,
    queue_names: Vec<Name>,
    shift_start_ms: Millis,
    shift_length_ms: Millis,
    always_on: bool,
    breaks: Vec<(Millis, Millis, Millis, u16)>,
}

/// The simulated contact center, run as an iterator of events in time order.
#[derive(Debug)]
pub struct Simulator {
    rng: SmallRng,
    start: Millis,
    end: Millis,
    utc_offset_ms: Millis,
    profile: Vec<f64>,
    /// Minutes from each minute to the next open minute (0 if open; None: never open).
    next_open: Vec<Option<u32>>,
    queues: Vec<Queue>,
    agents: Vec<Agent>,
    teams: Vec<Team>,
    reasons: Vec<Name>,
    slots: Vec<Waiting>,
    free_slots: Vec<u32>,
    agenda: BinaryHeap<Sched>,
    seq: u64,
    out: VecDeque<Event>,
    contacts: u64,
    event_ids: bool,
    events: u64,
    no_show_prob: f64,
    late_prob: f64,
    login_jitter_ms: Millis,
    meeting_prob: f64,
}

fn invalid(what: &'static str, value: impl ToString) -> SimError {
    SimError::Invalid {
        what,
        value: value.to_string(),
    }
}

fn check_prob(what: &'static str, p: f64) -> Result<f64, SimError> {
    if (0.0..=1.0).contains(&p) {
        Ok(p)
    } else {
        Err(invalid(what, p))
    }
}

impl Simulator {
    /// Builds the simulator, validating the configuration.
    pub fn new(cfg: &SimConfig) -> Result<Self, SimError> {
        if cfg.duration_ms < 0 {
            return Err(invalid("duration_ms", cfg.duration_ms));
        }
        if !(cfg.rate_scale.is_finite() && cfg.rate_scale >= 0.0) {
            return Err(invalid("rate_scale", cfg.rate_scale));
        }
        if cfg.profile.per_minute.len() != 1440
            || cfg
                .profile
                .per_minute
                .iter()
                .any(|f| !(0.0..=1.0).contains(f))
        {
            return Err(invalid("profile", "need 1440 factors in [0, 1]"));
        }
        let mut queues = Vec::with_capacity(cfg.queues.len());
        for q in &cfg.queues {
            if !(q.calls_per_hour.is_finite() && q.calls_per_hour >= 0.0) {
                return Err(invalid("calls_per_hour", q.calls_per_hour));
            }
            if !(q.talk_mean_ms.is_finite() && q.talk_mean_ms > 0.0) {
                return Err(invalid("talk_mean_ms", q.talk_mean_ms));
            }
            if !(q.acw_mean_ms.is_finite() && q.acw_mean_ms >= 0.0) {
                return Err(invalid("acw_mean_ms", q.acw_mean_ms));
            }
            let mu = q.talk_mean_ms.ln() - q.talk_sigma * q.talk_sigma / 2.0;
            let talk = LogNormal::new(mu, q.talk_sigma)
                .map_err(|_| invalid("talk_sigma", q.talk_sigma))?;
            let patience = match q.patience_mean_ms {
                None => None,
                Some(p) if p.is_finite() && p > 0.0 => {
                    Some(Exp::new(1.0 / p).map_err(|_| invalid("patience_mean_ms", p))?)
                }
                Some(p) => return Err(invalid("patience_mean_ms", p)),
            };
            if let Some(m) = q.max_wait_ms {
                if m <= 0 {
                    return Err(invalid("max_wait_ms", m));
                }
            }
            queues.push(Queue {
                name: q.name.clone(),
                channel: q.channel,
                rate: q.calls_per_hour * cfg.rate_scale / 3_600_000.0,
                next_at: cfg.start as f64,
                talk,
                acw_mean_ms: q.acw_mean_ms,
                patience,
                max_wait_ms: q.max_wait_ms,
                transfer_prob: check_prob("transfer_prob", q.transfer_prob)?,
                ring_max_ms: q.ring_max_ms.max(0),
                waiting: VecDeque::new(),
                live: 0,
                avail: VecDeque::new(),
                serving: 0,
                logged_in: 0,
            });
        }
        let mut reasons: Vec<Name> = ["meeting", "training"].map(Name::from).to_vec();
        let mut intern = |r: &Name| -> u16 {
            match reasons.iter().position(|x| x == r) {
                Some(i) => i as u16,
                None => {
                    reasons.push(r.clone());
                    (reasons.len() - 1) as u16
                }
            }
        };
        let mut teams = Vec::with_capacity(cfg.teams.len());
        let mut agents = Vec::new();
        for (ti, t) in cfg.teams.iter().enumerate() {
            let mut qidx = Vec::with_capacity(t.queues.len());
            for qn in &t.queues {
                let qi = cfg
                    .queues
                    .iter()
                    .position(|q| q.name == *qn)
                    .ok_or_else(|| SimError::UnknownQueue {
                        team: t.name.to_string(),
                        queue: qn.to_string(),
                    })?;
                if !qidx.contains(&(qi as u32)) {
                    qidx.push(qi as u32);
                }
            }
            if t.shift_length_ms <= 0 {
                return Err(invalid("shift_length_ms", t.shift_length_ms));
            }
            let mut breaks = Vec::new();
            for b in &t.breaks {
                if b.length_ms <= 0 || b.length_max_ms < b.length_ms {
                    return Err(invalid("break length", b.length_ms));
                }
                breaks.push((b.offset_ms, b.length_ms, b.length_max_ms, intern(&b.reason)));
            }
            teams.push(Team {
                name: t.name.clone(),
                queue_names: qidx
                    .iter()
                    .map(|&q| queues[q as usize].name.clone())
                    .collect(),
                shift_start_ms: t.shift_start_ms,
                shift_length_ms: t.shift_length_ms,
                always_on: t.shift_length_ms >= DAY,
                breaks,
            });
            for &q in &qidx {
                queues[q as usize].serving += t.agents;
            }
            for _ in 0..t.agents {
                let i = agents.len();
                agents.push(Agent {
                    id: agent_id(i),
                    name: agent_name(i).into(),
                    team: ti as u32,
                    queues: qidx.clone(),
                    state: St::LoggedOut,
                    avail_epoch: 0,
                    shift: 0,
                    next_day: 0,
                    talk: None,
                    pending_break: None,
                    pending_logout: false,
                });
            }
        }
        let profile = cfg.profile.per_minute.clone();
        let next_open = (0..1440)
            .map(|m| (0..1440u32).find(|d| profile[(m + *d as usize) % 1440] > 0.0))
            .collect();
        let mut sim = Self {
            rng: SmallRng::seed_from_u64(cfg.seed),
            start: cfg.start,
            end: cfg.start.saturating_add(cfg.duration_ms),
            utc_offset_ms: cfg.utc_offset_ms,
            profile,
            next_open,
            queues,
            agents,
            teams,
            reasons,
            slots: Vec::new(),
            free_slots: Vec::new(),
            agenda: BinaryHeap::new(),
            seq: 0,
            out: VecDeque::new(),
            contacts: 0,
            event_ids: cfg.event_ids,
            events: 0,
            no_show_prob: check_prob("no_show_prob", cfg.no_show_prob)?,
            late_prob: check_prob("late_prob", cfg.late_prob)?,
            login_jitter_ms: cfg.login_jitter_ms.max(0),
            meeting_prob: check_prob("meeting_prob", cfg.meeting_prob)?,
        };
        for a in 0..sim.agents.len() as u32 {
            let first_day = (cfg.start + cfg.utc_offset_ms).div_euclid(DAY) - 1;
            sim.plan_shift(a, first_day);
        }
        for q in 0..sim.queues.len() as u32 {
            sim.schedule_arrival(q);
        }
        Ok(sim)
    }

    fn at(&mut self, t: Millis, kind: Kind) {
        self.seq += 1;
        self.agenda.push(Sched {
            t,
            seq: self.seq,
            kind,
        });
    }

    fn emit(&mut self, ts: Millis, body: EventBody) {
        self.events += 1;
        let id = self.event_ids.then(|| format_compact!("e-{}", self.events));
        self.out.push_back(Event { ts, id, body });
    }

    fn emit_state(
        &mut self,
        ts: Millis,
        agent: u32,
        state: AgentStatus,
        reason: Option<Name>,
        login: bool,
    ) {
        let a = &self.agents[agent as usize];
        let (team, queues, name) = if login {
            let t = &self.teams[a.team as usize];
            (
                Some(t.name.clone()),
                Some(t.queue_names.clone()),
                Some(a.name.clone()),
            )
        } else {
            (None, None, None)
        };
        let body = EventBody::AgentState(Box::new(AgentStateChange {
            agent: a.id.clone(),
            state,
            reason,
            team,
            queues,
            name,
            explicit: true,
        }));
        self.emit(ts, body);
    }

    /// Local midnight (as UTC ms) of local day `day`.
    fn day_start(&self, day: i64) -> Millis {
        day * DAY - self.utc_offset_ms
    }

    /// Schedules the agent's next login at or after `day` (skipping no-shows).
    fn plan_shift(&mut self, agent: u32, mut day: i64) {
        let team = &self.teams[self.agents[agent as usize].team as usize];
        let (shift_start, len, always_on) =
            (team.shift_start_ms, team.shift_length_ms, team.always_on);
        if always_on {
            self.at(self.start, Kind::Login { agent, day });
            return;
        }
        loop {
            let base = self.day_start(day) + shift_start;
            if base + len <= self.start {
                day += 1;
                continue;
            }
            if base > self.end {
                return;
            }
            if self.rng.random::<f64>() < self.no_show_prob {
                day += 1;
                continue;
            }
            let mut login = base;
            if self.login_jitter_ms > 0 {
                login += self
                    .rng
                    .random_range(-self.login_jitter_ms..=self.login_jitter_ms);
            }
            if self.rng.random::<f64>() < self.late_prob {
                login += self.rng.random_range(5 * MIN..=40 * MIN);
            }
            self.at(login.max(self.start), Kind::Login { agent, day });
            return;
        }
    }

    /// Draws the queue's next arrival (thinning against the profile) and schedules it.
    fn schedule_arrival(&mut self, q: u32) {
        let rate = self.queues[q as usize].rate;
        if rate <= 0.0 {
            return;
        }
        let mut t = self.queues[q as usize].next_at;
        let end = self.end as f64;
        loop {
            let gap: f64 = self.rng.sample(Exp1);
            t += gap / rate;
            if t > end {
                return;
            }
            let ms = t as Millis;
            let minute = ((ms + self.utc_offset_ms).rem_euclid(DAY) / MIN) as usize;
            let f = self.profile[minute];
            if f <= 0.0 {
                match self.next_open[minute] {
                    Some(d) => t = ((ms.div_euclid(MIN) + d as i64) * MIN) as f64,
                    None => return,
                }
                continue;
            }
            if f >= 1.0 || self.rng.random::<f64>() < f {
                break;
            }
        }
        self.queues[q as usize].next_at = t;
        self.at(t as Millis, Kind::Arrival { queue: q });
    }

    fn dispatch(&mut self, t: Millis, kind: Kind) {
        match kind {
            Kind::Arrival { queue } => self.on_arrival(t, queue),
            Kind::QueueTimeout { slot, gen } => self.on_queue_timeout(t, slot, gen),
            Kind::Connect { agent } => self.connect(t, agent),
            Kind::TalkEnd { agent } => self.on_talk_end(t, agent),
            Kind::AcwEnd { agent } => self.ready(t, agent),
            Kind::Login { agent, day } => self.on_login(t, agent, day),
            Kind::Logout { agent, shift } => {
                let a = &mut self.agents[agent as usize];
                if a.shift != shift || a.state == St::LoggedOut {
                    return;
                }
                match a.state {
                    St::Available | St::Aux => self.logout(t, agent),
                    _ => a.pending_logout = true,
                }
            }
            Kind::BreakDue {
                agent,
                shift,
                reason,
                len,
            } => {
                let a = &mut self.agents[agent as usize];
                if a.shift != shift || a.state == St::LoggedOut || a.pending_logout {
                    return;
                }
                if a.state == St::Available {
                    self.go_aux(t, agent, reason, len);
                } else if a.pending_break.is_none() {
                    a.pending_break = Some((reason, len));
                }
            }
            Kind::BreakEnd { agent, shift } => {
                let a = &self.agents[agent as usize];
                if a.shift == shift && a.state == St::Aux {
                    self.ready(t, agent);
                }
            }
        }
    }

    fn on_login(&mut self, t: Millis, agent: u32, day: i64) {
        let a = &mut self.agents[agent as usize];
        a.shift += 1;
        a.next_day = day + 1;
        a.state = St::Available;
        let shift = a.shift;
        let team = &self.teams[a.team as usize];
        let always_on = team.always_on;
        let base = self.day_start(day) + team.shift_start_ms;
        let shift_end = base + team.shift_length_ms;
        let breaks = team.breaks.clone();
        let shift_len = team.shift_length_ms;
        for &q in &self.agents[agent as usize].queues {
            self.queues[q as usize].logged_in += 1;
        }
        self.emit_state(t, agent, AgentStatus::Available, None, true);
        if !always_on {
            let jitter = self.rng.random_range(-3 * MIN..=6 * MIN);
            self.at((shift_end + jitter).max(t), Kind::Logout { agent, shift });
            for (offset, lo, hi, reason) in breaks {
                let due = base + offset + self.rng.random_range(-10 * MIN..=10 * MIN);
                let len = self.rng.random_range(lo..=hi);
                if due > t && due < shift_end {
                    self.at(
                        due,
                        Kind::BreakDue {
                            agent,
                            shift,
                            reason,
                            len,
                        },
                    );
                }
            }
            if shift_len > 3 * 60 * MIN && self.rng.random::<f64>() < self.meeting_prob {
                let due = base + self.rng.random_range(60 * MIN..shift_len - 90 * MIN);
                let len = self.rng.random_range(30..=60) * MIN;
                let reason = self.rng.random_range(0..2u16); // meeting, training
                if due > t {
                    self.at(
                        due,
                        Kind::BreakDue {
                            agent,
                            shift,
                            reason,
                            len,
                        },
                    );
                }
            }
        }
        self.become_available(t, agent, true);
    }

    fn logout(&mut self, t: Millis, agent: u32) {
        let a = &mut self.agents[agent as usize];
        a.state = St::LoggedOut;
        a.pending_logout = false;
        a.pending_break = None;
        let next_day = a.next_day;
        self.emit_state(t, agent, AgentStatus::LoggedOut, None, false);
        let queues = std::mem::take(&mut self.agents[agent as usize].queues);
        for &q in &queues {
            let qs = &mut self.queues[q as usize];
            qs.logged_in -= 1;
            if qs.logged_in == 0 && qs.channel != Channel::Email {
                self.flush_no_agents(t, q);
            }
        }
        self.agents[agent as usize].queues = queues;
        self.plan_shift(agent, next_day);
    }

    /// The last agent of a queue left: waiting contacts exit (Asterisk leavewhenempty).
    fn flush_no_agents(&mut self, t: Millis, q: u32) {
        while let Some((slot, gen)) = self.queues[q as usize].waiting.pop_front() {
            if let Some(w) = self.take_slot(slot, gen) {
                let body = EventBody::ContactExited {
                    contact: w.0,
                    queue: self.queues[q as usize].name.clone(),
                    reason: ExitReason::NoAgents,
                    wait_ms: Some(t - w.1),
                };
                self.emit(t, body);
            }
        }
    }

    /// Frees a waiting contact's slot if `gen` is current: `(contact, queued_at)`.
    fn take_slot(&mut self, slot: u32, gen: u32) -> Option<(Name, Millis)> {
        let w = self.slots.get_mut(slot as usize)?;
        if w.gen != gen {
            return None;
        }
        w.gen = w.gen.wrapping_add(1);
        self.free_slots.push(slot);
        let q = w.queue as usize;
        self.queues[q].live -= 1;
        Some((std::mem::take(&mut w.contact), w.queued_at))
    }

    fn go_aux(&mut self, t: Millis, agent: u32, reason: u16, len: Millis) {
        let a = &mut self.agents[agent as usize];
        a.state = St::Aux;
        let shift = a.shift;
        let r = self.reasons[reason as usize].clone();
        self.emit_state(t, agent, AgentStatus::Aux, Some(r), false);
        self.at(t + len, Kind::BreakEnd { agent, shift });
    }

    /// The agent is free (end of ACW or break): logout, a pending break, or available.
    fn ready(&mut self, t: Millis, agent: u32) {
        let a = &mut self.agents[agent as usize];
        if a.pending_logout {
            self.logout(t, agent);
        } else if let Some((reason, len)) = a.pending_break.take() {
            self.go_aux(t, agent, reason, len);
        } else {
            self.become_available(t, agent, false);
        }
    }

    /// Takes the oldest waiting contact of the agent's queues, or joins their idle lists.
    fn become_available(&mut self, t: Millis, agent: u32, logged_in: bool) {
        // Always announced (even if a waiting contact is taken at once) so every consumer,
        // including derived queue_log presence (UNPAUSE), sees the agent ready.
        if !logged_in {
            self.emit_state(t, agent, AgentStatus::Available, None, false);
        }
        let mut best: Option<(Millis, u32)> = None;
        for i in 0..self.agents[agent as usize].queues.len() {
            let q = self.agents[agent as usize].queues[i];
            let qs = &mut self.queues[q as usize];
            while let Some(&(slot, gen)) = qs.waiting.front() {
                let w = &self.slots[slot as usize];
                if w.gen == gen {
                    if best.is_none_or(|(b, _)| w.queued_at < b) {
                        best = Some((w.queued_at, q));
                    }
                    break;
                }
                qs.waiting.pop_front();
            }
        }
        if let Some((_, q)) = best {
            if let Some((slot, gen)) = self.queues[q as usize].waiting.pop_front() {
                if let Some((contact, queued_at)) = self.take_slot(slot, gen) {
                    self.answer(t, agent, contact, q, queued_at);
                    return;
                }
            }
        }
        let a = &mut self.agents[agent as usize];
        a.state = St::Available;
        a.avail_epoch = a.avail_epoch.wrapping_add(1);
        let epoch = a.avail_epoch;
        for i in 0..self.agents[agent as usize].queues.len() {
            let q = self.agents[agent as usize].queues[i] as usize;
            self.queues[q].avail.push_back((agent, epoch));
            if self.queues[q].avail.len() > 2 * self.queues[q].serving + 16 {
                let agents = &self.agents;
                self.queues[q].avail.retain(|&(a, e)| {
                    agents[a as usize].state == St::Available && agents[a as usize].avail_epoch == e
                });
            }
        }
    }

    /// Offers the contact to the agent: it rings (voice) or is answered at once.
    fn answer(&mut self, t: Millis, agent: u32, contact: Name, q: u32, queued_at: Millis) {
        let ring_max = self.queues[q as usize].ring_max_ms;
        let a = &mut self.agents[agent as usize];
        a.talk = Some(Talk {
            contact,
            queue: q,
            queued_at,
            answered_at: t,
        });
        if ring_max > 0 {
            a.state = St::Ringing;
            let ring = self.rng.random_range(1_000.min(ring_max)..=ring_max);
            self.emit_state(t, agent, AgentStatus::Ringing, None, false);
            self.at(t + ring, Kind::Connect { agent });
        } else {
            self.connect(t, agent);
        }
    }

    /// The agent picks up: the contact's queue outcome is `answered`; talk begins.
    fn connect(&mut self, t: Millis, agent: u32) {
        let a = &mut self.agents[agent as usize];
        let Some(talk) = a.talk.as_mut() else {
            return;
        };
        a.state = St::OnContact;
        talk.answered_at = t;
        let (contact, q, queued_at) = (talk.contact.clone(), talk.queue, talk.queued_at);
        let qs = &self.queues[q as usize];
        let talk_ms = (qs.talk.sample(&mut self.rng) as Millis).max(5_000);
        let body = EventBody::ContactAnswered {
            contact,
            queue: qs.name.clone(),
            agent: self.agents[agent as usize].id.clone(),
            wait_ms: Some(t - queued_at),
        };
        self.emit(t, body);
        self.emit_state(t, agent, AgentStatus::OnContact, None, false);
        self.at(t + talk_ms, Kind::TalkEnd { agent });
    }

    fn on_arrival(&mut self, t: Millis, q: u32) {
        self.schedule_arrival(q);
        self.contacts += 1;
        let contact = format_compact!("c-{}", self.contacts);
        let qs = &self.queues[q as usize];
        let (queue, channel, logged_in) = (qs.name.clone(), qs.channel, qs.logged_in);
        self.emit(
            t,
            EventBody::ContactQueued {
                contact: contact.clone(),
                queue: queue.clone(),
                channel,
            },
        );
        // Voice and chat leave an empty queue at once (Asterisk joinempty); e-mail waits.
        if logged_in == 0 && channel != Channel::Email {
            let body = EventBody::ContactExited {
                contact,
                queue,
                reason: ExitReason::NoAgents,
                wait_ms: Some(0),
            };
            self.emit(t, body);
            return;
        }
        while let Some((a, e)) = self.queues[q as usize].avail.pop_front() {
            let ag = &self.agents[a as usize];
            if ag.state == St::Available && ag.avail_epoch == e {
                self.answer(t, a, contact, q, t);
                return;
            }
        }
        // Nobody free: wait in FIFO until answered, abandoned or timed out.
        let qs = &self.queues[q as usize];
        let patience = qs
            .patience
            .as_ref()
            .map(|p| p.sample(&mut self.rng) as Millis);
        let deadline = match (patience, qs.max_wait_ms) {
            (Some(p), Some(m)) if p < m => Some((p, true)),
            (Some(p), None) => Some((p, true)),
            (_, Some(m)) => Some((m, false)),
            (None, None) => None,
        };
        let w = Waiting {
            contact,
            queue: q,
            queued_at: t,
            gen: 0,
            abandon: deadline.is_some_and(|d| d.1),
        };
        let slot = match self.free_slots.pop() {
            Some(s) => {
                let old = &mut self.slots[s as usize];
                let gen = old.gen;
                *old = Waiting { gen, ..w };
                s
            }
            None => {
                self.slots.push(w);
                (self.slots.len() - 1) as u32
            }
        };
        let gen = self.slots[slot as usize].gen;
        let qs = &mut self.queues[q as usize];
        qs.live += 1;
        qs.waiting.push_back((slot, gen));
        if qs.waiting.len() > 2 * qs.live + 64 {
            let slots = &self.slots;
            qs.waiting.retain(|&(s, g)| slots[s as usize].gen == g);
        }
        if let Some((d, _)) = deadline {
            self.at(t + d.max(1), Kind::QueueTimeout { slot, gen });
        }
    }

    fn on_queue_timeout(&mut self, t: Millis, slot: u32, gen: u32) {
        let Some(w) = self.slots.get(slot as usize) else {
            return;
        };
        let (q, abandon) = (w.queue, w.abandon);
        let Some((contact, queued_at)) = self.take_slot(slot, gen) else {
            return;
        };
        let queue = self.queues[q as usize].name.clone();
        let wait_ms = Some(t - queued_at);
        let body = if abandon {
            EventBody::ContactAbandoned {
                contact,
                queue,
                wait_ms,
            }
        } else {
            EventBody::ContactExited {
                contact,
                queue,
                reason: ExitReason::Timeout,
                wait_ms,
            }
        };
        self.emit(t, body);
    }

    fn on_talk_end(&mut self, t: Millis, agent: u32) {
        let Some(talk) = self.agents[agent as usize].talk.take() else {
            return;
        };
        let qs = &self.queues[talk.queue as usize];
        let queue = Some(qs.name.clone());
        let (transfer_prob, acw_mean) = (qs.transfer_prob, qs.acw_mean_ms);
        let talk_ms = Some(t - talk.answered_at);
        let body = if transfer_prob > 0.0 && self.rng.random::<f64>() < transfer_prob {
            EventBody::ContactTransferred {
                contact: talk.contact,
                queue,
                to: Some(Name::const_new("2000")),
                talk_ms,
            }
        } else {
            EventBody::ContactEnded {
                contact: talk.contact,
                queue,
                talk_ms,
            }
        };
        self.emit(t, body);
        if acw_mean > 0.0 {
            let u: f64 = self.rng.sample(Exp1);
            let acw = ((u * acw_mean) as Millis).max(1_000);
            self.agents[agent as usize].state = St::Acw;
            self.emit_state(t, agent, AgentStatus::AfterCallWork, None, false);
            self.at(t + acw, Kind::AcwEnd { agent });
        } else {
            self.ready(t, agent);
        }
    }
}

impl Iterator for Simulator {
    type Item = Event;

    fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(e) = self.out.pop_front() {
                return Some(e);
            }
            let s = self.agenda.pop()?;
            if s.t > self.end {
                self.agenda.clear();
                return None;
            }
            self.dispatch(s.t, s.kind);
        }
    }
}
