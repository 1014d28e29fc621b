//! The agent state machine. Explicit states (the source reports them) win; otherwise
//! the state is derived: on a contact → `on_contact`, in wrap-up → `after_call_work`,
//! else the presence from login/pause verbs (kpi-definitions §4). State time is
//! recorded when a state ends and checkpointed at every interval boundary.

use super::agg::AgentObs;
use super::contacts::Finished;
use super::timeline::Timeline;
use super::{AgentAgg, Engine, TimerKind};
use crate::config::Targets;
use crate::model::{AgentStateChange, AgentStatus, Millis, Name};

/// One agent's live state and aggregates. `repr(C)` keeps the declaration order: what
/// every contact event reads and writes (state, presence, queues, the contact, then
/// the open interval at the head of the timeline) lies in the first few adjacent
/// cache lines; 2,000 agents of ~900 bytes do not fit a core's L2, and scattered
/// fields cost a miss each.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[repr(C)]
pub(crate) struct AgentRt {
    /// The effective state, its reason and since when.
    pub(crate) state: AgentStatus,
    /// In derived wrap-up.
    pub(crate) in_acw: bool,
    /// Contacts the agent is on (derived).
    pub(crate) on_contacts: u32,
    /// The source reports this agent's states itself.
    pub(crate) explicit: Option<(AgentStatus, Option<u32>)>,
    /// Presence from login/pause verbs: logged_out, available or aux(reason).
    pub(crate) presence: (AgentStatus, Option<u32>),
    pub(crate) reason: Option<u32>,
    pub(crate) team: Option<u32>,
    pub(crate) since: Millis,
    /// State time before this instant is already recorded.
    pub(crate) acc_from: Millis,
    pub(crate) queues: Vec<u32>,
    /// The contact the agent is on: (queue, contact id, answered at).
    pub(crate) contact: Option<(u32, Name, Millis)>,
    pub(crate) timeline: Timeline<AgentAgg>,
    /// Contacts ended and awaiting the end of their ACW.
    pub(crate) finished: Vec<Finished>,
    pub(crate) acw_seq: u64,
    pub(crate) name: Name,
    pub(crate) display: Option<Name>,
    /// From the config (re-read on restore, never checkpointed).
    #[serde(skip)]
    pub(crate) own_targets: Targets,
    /// The config places the agent in its team: events naming another are not followed
    /// (re-read on restore).
    #[serde(skip)]
    pub(crate) team_from_config: bool,
    /// The schedule places the agent in its team (and the config does not): events
    /// naming another are not followed (re-set with the schedule after a restore).
    #[serde(skip)]
    pub(crate) team_from_plan: bool,
}

impl AgentRt {
    pub(crate) fn new(
        name: Name,
        team: Option<u32>,
        t: Millis,
        keep_closed: bool,
        keep_days: bool,
    ) -> Self {
        AgentRt {
            name,
            display: None,
            team,
            queues: Vec::new(),
            own_targets: Targets::default(),
            team_from_config: false,
            team_from_plan: false,
            explicit: None,
            presence: (AgentStatus::LoggedOut, None),
            on_contacts: 0,
            in_acw: false,
            acw_seq: 0,
            state: AgentStatus::LoggedOut,
            reason: None,
            since: t,
            acc_from: t,
            contact: None,
            finished: Vec::new(),
            timeline: Timeline::new(keep_closed, keep_days, None),
        }
    }

    fn effective(&self) -> (AgentStatus, Option<u32>) {
        if let Some(e) = self.explicit {
            e
        } else if self.on_contacts > 0 {
            (AgentStatus::OnContact, None)
        } else if self.in_acw {
            (AgentStatus::AfterCallWork, None)
        } else {
            self.presence
        }
    }
}

impl Engine {
    /// Records the agent's state time up to `t` (interval boundary or state change).
    pub(super) fn checkpoint_agent(&mut self, a: u32, t: Millis) {
        let Some(rt) = self.agents.get_mut(a as usize) else {
            return;
        };
        let (from, state) = (rt.acc_from, rt.state);
        if t <= from {
            return;
        }
        rt.acc_from = t;
        rt.timeline.record(
            &self.cal,
            from,
            AgentObs::State {
                state,
                ms: (t - from) as u64,
            },
        );
        let Some(team) = rt.team.and_then(|i| self.teams.get_mut(i as usize)) else {
            return;
        };
        // The team's day and interval take the span in one piece (it never crosses an
        // interval boundary: `cross_boundary` checkpoints every agent there).
        team.timeline.record_spans(
            &self.cal,
            from,
            AgentObs::State {
                state,
                ms: (t - from) as u64,
            },
        );
        // Its rolling windows take it split at their bucket boundaries, from the first
        // piece they still keep (a piece starts at `from` or at a boundary; older ones,
        // below the rolling floor or every window, are dropped).
        let Some(r) = team.timeline.rolling.as_mut() else {
            return;
        };
        let g = self.granularity.max(1);
        let kept = r.kept_from();
        let mut s = if from >= kept {
            from
        } else {
            kept + (g - kept.rem_euclid(g)) % g
        };
        while s < t {
            let e = (s - s.rem_euclid(g) + g).min(t);
            r.record(
                s,
                AgentObs::State {
                    state,
                    ms: (e - s) as u64,
                },
            );
            s = e;
        }
    }

    /// Re-derives the effective state; a change closes the previous state's span.
    fn update_state(&mut self, a: u32, t: Millis) {
        let Some(rt) = self.agents.get(a as usize) else {
            return;
        };
        let (state, reason) = rt.effective();
        if (state, reason) == (rt.state, rt.reason) {
            return;
        }
        self.checkpoint_agent(a, t);
        self.record_transition(a, t, state, reason);
        if let Some(rt) = self.agents.get_mut(a as usize) {
            rt.state = state;
            rt.reason = reason;
            rt.since = t;
        }
        if state != AgentStatus::AfterCallWork {
            self.end_explicit_acw(a, t);
        }
    }

    /// An explicit agent left ACW: the contacts whose ACW it was are handled now, in
    /// order. Taken out one by one: the agent's list keeps its allocation (one contact
    /// a time is the rule, and a fresh list per contact cost an allocation and a free).
    fn end_explicit_acw(&mut self, a: u32, t: Millis) {
        loop {
            let Some(rt) = self.agents.get_mut(a as usize) else {
                return;
            };
            if rt.explicit.is_none() {
                return;
            }
            let Some(i) = rt.finished.iter().position(|f| f.acw_start.is_some()) else {
                return;
            };
            let f = rt.finished.remove(i);
            let acw = (t - f.acw_start.unwrap_or(t)).max(0) as u64;
            self.handled(t, a, &f, acw);
        }
    }

    pub(super) fn learn_queue(&mut self, a: u32, q: u32) {
        if let Some(rt) = self.agents.get_mut(a as usize) {
            if !rt.queues.contains(&q) {
                rt.queues.push(q);
            }
        }
    }

    /// Moves the agent to the team its events name, unless it is there already or the
    /// config or the schedule places it (the team leader's grouping wins over the
    /// source's).
    fn set_team(&mut self, a: u32, team: &Name, t: Millis) {
        if self
            .agents
            .get(a as usize)
            .is_none_or(|rt| rt.team_from_config || rt.team_from_plan)
        {
            return;
        }
        self.move_to_team(a, team, t);
    }

    /// Moves the agent to `team` at `t` unless it is there already: its state time up
    /// to `t` stays with the team it leaves.
    pub(super) fn move_to_team(&mut self, a: u32, team: &Name, t: Millis) {
        let id = self.team_id(team);
        if self
            .agents
            .get(a as usize)
            .is_some_and(|rt| rt.team != Some(id))
        {
            self.checkpoint_agent(a, t);
            if let Some(rt) = self.agents.get_mut(a as usize) {
                rt.team = Some(id);
            }
        }
    }

    pub(super) fn on_agent_state(&mut self, t: Millis, ch: AgentStateChange) {
        let a = self.agent_id(&ch.agent, t);
        if let Some(team) = &ch.team {
            self.set_team(a, team, t);
        }
        if let Some(queues) = &ch.queues {
            // Refilled in place: no allocation per state change once it has grown.
            let mut ids = self
                .agents
                .get_mut(a as usize)
                .map(|rt| std::mem::take(&mut rt.queues))
                .unwrap_or_default();
            ids.clear();
            for q in queues {
                ids.push(self.queue_id(q));
            }
            if let Some(rt) = self.agents.get_mut(a as usize) {
                rt.queues = ids;
            }
        }
        let reason = ch.reason.as_ref().map(|r| self.reason_id(r));
        let Some(rt) = self.agents.get_mut(a as usize) else {
            return;
        };
        if let Some(name) = ch.name {
            rt.display = Some(name);
        }
        if ch.explicit {
            rt.explicit = Some((ch.state, reason));
        } else {
            match ch.state {
                AgentStatus::LoggedOut | AgentStatus::Available | AgentStatus::Aux => {
                    rt.presence = (ch.state, reason);
                }
                _ => {}
            }
        }
        self.update_state(a, t);
    }

    pub(super) fn on_membership(&mut self, t: Millis, a: u32, q: u32, joined: bool, paused: bool) {
        let Some(rt) = self.agents.get_mut(a as usize) else {
            return;
        };
        if joined {
            if !rt.queues.contains(&q) {
                rt.queues.push(q);
            }
            if paused {
                rt.presence = (AgentStatus::Aux, None);
            } else if rt.presence.0 == AgentStatus::LoggedOut {
                rt.presence = (AgentStatus::Available, None);
            }
        } else {
            rt.queues.retain(|&x| x != q);
            if rt.queues.is_empty() {
                rt.presence = (AgentStatus::LoggedOut, None);
            }
        }
        self.update_state(a, t);
    }

    pub(super) fn agent_answered(&mut self, t: Millis, a: u32, q: u32, contact: Name) {
        self.learn_queue(a, q);
        let Some(rt) = self.agents.get_mut(a as usize) else {
            return;
        };
        rt.contact = Some((q, contact, t));
        if rt.explicit.is_none() {
            if rt.in_acw {
                self.end_derived_acw(t, a);
            }
            if let Some(rt) = self.agents.get_mut(a as usize) {
                rt.on_contacts += 1;
                if rt.presence.0 == AgentStatus::LoggedOut {
                    rt.presence = (AgentStatus::Available, None);
                }
            }
        }
        self.update_state(a, t);
    }

    /// The agent's talk on a contact is over; its ACW (if any) decides when it is handled.
    pub(super) fn agent_finished(&mut self, t: Millis, a: u32, contact: &Name, mut fin: Finished) {
        let wrap = self
            .queues
            .get(fin.queue as usize)
            .map_or(0, |q| q.params.wrap_up_ms);
        let Some(rt) = self.agents.get_mut(a as usize) else {
            return;
        };
        if rt.contact.as_ref().is_some_and(|(_, c, _)| c == contact) {
            rt.contact = None;
        }
        if rt.explicit.is_some() {
            // Whether the agent goes to ACW is known once event time passes `t`.
            rt.finished.push(fin);
            self.schedule(t, TimerKind::WrapDecision { agent: a });
            return;
        }
        rt.on_contacts = rt.on_contacts.saturating_sub(1);
        if wrap > 0 {
            fin.acw_start = Some(t);
            rt.finished.push(fin);
            rt.in_acw = true;
            rt.acw_seq += 1;
            let seq = rt.acw_seq;
            self.schedule(t + wrap, TimerKind::DerivedAcwEnd { agent: a, seq });
        } else {
            self.handled(t, a, &fin, 0);
        }
        self.update_state(a, t);
    }

    /// An open contact was closed as an orphan: the agent is free again.
    pub(super) fn agent_dropped_contact(&mut self, t: Millis, a: u32, contact: &Name) {
        let Some(rt) = self.agents.get_mut(a as usize) else {
            return;
        };
        if rt.contact.as_ref().is_some_and(|(_, c, _)| c == contact) {
            rt.contact = None;
        }
        if rt.explicit.is_none() {
            rt.on_contacts = rt.on_contacts.saturating_sub(1);
        }
        self.update_state(a, t);
    }

    pub(super) fn on_wrap_decision(&mut self, at: Millis, a: u32) {
        let Some(rt) = self.agents.get_mut(a as usize) else {
            return;
        };
        let in_acw = rt.state == AgentStatus::AfterCallWork;
        let since = rt.since;
        let mut now_handled = Vec::new();
        rt.finished.retain_mut(|f| {
            if f.acw_start.is_some() || f.ended_at > at {
                return true;
            }
            if in_acw {
                f.acw_start = Some(since.max(f.ended_at));
                true
            } else {
                now_handled.push(f.clone());
                false
            }
        });
        for f in now_handled {
            self.handled(f.ended_at, a, &f, 0);
        }
    }

    pub(super) fn on_derived_acw_end(&mut self, at: Millis, a: u32, seq: u64) {
        if self
            .agents
            .get(a as usize)
            .is_some_and(|rt| rt.acw_seq == seq && rt.in_acw)
        {
            self.end_derived_acw(at, a);
            self.update_state(a, at);
        }
    }

    fn end_derived_acw(&mut self, t: Millis, a: u32) {
        let Some(rt) = self.agents.get_mut(a as usize) else {
            return;
        };
        rt.in_acw = false;
        rt.acw_seq += 1;
        let mut done = std::mem::take(&mut rt.finished);
        for f in done.drain(..) {
            let acw = (t - f.acw_start.unwrap_or(t)).max(0) as u64;
            self.handled(t, a, &f, acw);
        }
        // The emptied list goes back, allocation kept, for the agent's next contact.
        if let Some(rt) = self.agents.get_mut(a as usize) {
            if rt.finished.is_empty() {
                rt.finished = done;
            }
        }
    }
}
