//! The contact state machine: queued → one queue outcome → (answered) talk/hold → end
//! → optional ACW → handled. Each counter is recorded at its kpi-definitions §2 instant.

use super::agg::{QueueObs, SlOutcome};
use super::contact_table::Open;
use super::{channel_ix, Engine, QueueRt, TimerKind};
use crate::model::{Channel, ExitReason, Millis, Name};

/// Where a contact is in its life within one queue.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) enum Phase {
    /// In the queue.
    Waiting,
    /// With an agent since `at`.
    Answered {
        agent: u32,
        at: Millis,
        hold_ms: u64,
        hold_since: Option<Millis>,
    },
}

/// One contact in one queue, keyed by (queue, contact id).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct ContactRt {
    /// Identifies this phase of the contact for timers (changes on answer).
    pub(crate) uid: u64,
    pub(crate) channel: Channel,
    /// `None` when first seen already answered (started before we did).
    pub(crate) queued_at: Option<Millis>,
    pub(crate) sl_decided: bool,
    pub(crate) phase: Phase,
}

/// A contact whose talk is over and whose handling ends with its ACW.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Finished {
    pub(crate) queue: u32,
    pub(crate) channel: Channel,
    pub(crate) talk_ms: u64,
    pub(crate) hold_ms: u64,
    pub(crate) ended_at: Millis,
    /// When its ACW began; `None` until decided.
    pub(crate) acw_start: Option<Millis>,
}

impl Engine {
    pub(super) fn on_queued(&mut self, t: Millis, q: u32, contact: Name, channel: Channel) {
        let Some(sl_threshold_ms) = self
            .queues
            .get(q as usize)
            .map(|x| x.params.sl_threshold_ms)
        else {
            return;
        };
        // The uid is taken before the insert (one hash lookup, which also refuses a
        // contact already open here); a skipped uid changes no order, uids only grow.
        let uid = self.next_uid();
        let fresh = ContactRt {
            uid,
            channel,
            queued_at: Some(t),
            sl_decided: false,
            phase: Phase::Waiting,
        };
        let Some(slot) = self.contacts.insert(q, contact, fresh) else {
            self.stats.unmatched += 1;
            return;
        };
        if let Some(queue) = self.queues.get_mut(q as usize) {
            queue.waiting.insert((t, uid));
            queue.waiting_by_channel[channel_ix(channel)] += 1;
        }
        let sl_at = t + sl_threshold_ms + self.opts.sl_grace_ms;
        self.record_queue(q, channel, t, QueueObs::Arrived);
        self.schedule(sl_at, TimerKind::SlDeadline { slot, uid });
        self.schedule(t + self.orphan_ms, TimerKind::Orphan { slot, uid });
    }

    /// Removes a waiting contact from its queue's waiting set; returns its wait.
    fn leave_queue(
        &mut self,
        t: Millis,
        q: u32,
        c: &ContactRt,
        logged_wait: Option<Millis>,
    ) -> u64 {
        let queued = c.queued_at.unwrap_or(t);
        if let Some(queue) = self.queues.get_mut(q as usize) {
            if queue.waiting.remove(&(queued, c.uid)) {
                let n = &mut queue.waiting_by_channel[channel_ix(c.channel)];
                *n = n.saturating_sub(1);
            }
        }
        logged_wait.unwrap_or(t - queued).max(0) as u64
    }

    /// Records the SL outcome of a contact leaving the queue after `wait`, unless decided.
    fn decide_sl(&mut self, t: Millis, q: u32, c: &mut ContactRt, wait: u64, within: SlOutcome) {
        if c.sl_decided {
            return;
        }
        c.sl_decided = true;
        let threshold = self.queue_threshold(q);
        if wait as i64 <= threshold {
            self.record_queue(q, c.channel, t, QueueObs::Sl(within));
        } else {
            let at = c.queued_at.map_or(t, |qt| qt + threshold);
            self.record_queue(q, c.channel, at, QueueObs::Sl(SlOutcome::Missed));
        }
    }

    fn queue_threshold(&self, q: u32) -> Millis {
        self.queues
            .get(q as usize)
            .map_or(0, |x| x.params.sl_threshold_ms)
    }

    pub(super) fn on_answered(
        &mut self,
        t: Millis,
        q: u32,
        contact: Name,
        a: u32,
        wait_ms: Option<Millis>,
    ) {
        let uid = self.next_uid();
        let slot = match self.contacts.find(q, &contact) {
            Some(s) => s,
            None => {
                // Queued before we started (or in a log we did not read): no queue
                // outcome to count, but its handling still counts when it ends.
                let fresh = ContactRt {
                    uid,
                    channel: Channel::Voice,
                    queued_at: None,
                    sl_decided: true,
                    phase: Phase::Waiting,
                };
                let Some(s) = self.contacts.insert(q, contact.clone(), fresh) else {
                    return;
                };
                self.stats.unmatched += 1;
                s
            }
        };
        let Some(mut c) = self
            .contacts
            .slot(slot)
            .filter(|o| o.c.phase == Phase::Waiting)
            .map(|o| o.c.clone())
        else {
            self.stats.unmatched += 1;
            return;
        };
        if c.queued_at.is_some() {
            let wait = self.leave_queue(t, q, &c, wait_ms);
            let within = wait as i64 <= self.queue_threshold(q);
            self.record_queue(
                q,
                c.channel,
                t,
                QueueObs::Answered {
                    wait_ms: wait,
                    within,
                },
            );
            self.decide_sl(t, q, &mut c, wait, SlOutcome::Met);
        }
        c.uid = uid;
        c.phase = Phase::Answered {
            agent: a,
            at: t,
            hold_ms: 0,
            hold_since: None,
        };
        if let Some(o) = self.contacts.slot_mut(slot) {
            o.c = c;
        }
        self.schedule(t + self.orphan_ms, TimerKind::Orphan { slot, uid });
        self.agent_answered(t, a, q, contact);
    }

    /// Abandon (`exit == None`) or exit: the contact leaves the queue unanswered.
    pub(super) fn on_left_queue(
        &mut self,
        t: Millis,
        q: u32,
        contact: Name,
        wait_ms: Option<Millis>,
        exit: Option<ExitReason>,
    ) {
        let waiting = |c: &ContactRt| c.phase == Phase::Waiting;
        let Some(mut c) = self.contacts.remove_if(q, &contact, waiting) else {
            self.stats.unmatched += 1;
            return;
        };
        let wait = self.leave_queue(t, q, &c, wait_ms);
        let (threshold, short_limit) = self.queues.get(q as usize).map_or((0, 0), |x| {
            (x.params.sl_threshold_ms, x.params.short_abandon_ms)
        });
        match exit {
            None => {
                let short = short_limit > 0 && (wait as i64) < short_limit;
                let within = !short && wait as i64 <= threshold;
                self.record_queue(
                    q,
                    c.channel,
                    t,
                    QueueObs::Abandoned {
                        wait_ms: wait,
                        short,
                        within,
                    },
                );
                if !short {
                    self.decide_sl(t, q, &mut c, wait, SlOutcome::AbandonedWithin);
                }
            }
            Some(_) => {
                self.record_queue_exit(q, c.channel, t, QueueObs::Exited, exit);
                self.decide_sl(t, q, &mut c, wait, SlOutcome::AbandonedWithin);
            }
        }
    }

    pub(super) fn on_hold(&mut self, t: Millis, contact: Name, queue: Option<&Name>, hold: bool) {
        let found = self.contacts.answered(&contact, named(&self.queues, queue));
        let Some(Phase::Answered {
            hold_ms,
            hold_since,
            ..
        }) = found
            .and_then(|(_, slot)| self.contacts.slot_mut(slot))
            .map(|o| &mut o.c.phase)
        else {
            self.stats.unmatched += 1;
            return;
        };
        match (hold, *hold_since) {
            (true, None) => *hold_since = Some(t),
            (false, Some(since)) => {
                *hold_ms += (t - since).max(0) as u64;
                *hold_since = None;
            }
            _ => {} // repeated hold / unhold: idempotent
        }
    }

    /// Talk is over (ended or transferred): handled now or at the end of its ACW.
    pub(super) fn on_finished(
        &mut self,
        t: Millis,
        contact: Name,
        queue: Option<&Name>,
        talk_ms: Option<Millis>,
        transferred: bool,
    ) {
        let is_queue = named(&self.queues, queue);
        let Some(Open { id, queue: q, c }) = self.contacts.remove_answered(&contact, is_queue)
        else {
            self.stats.unmatched += 1;
            return;
        };
        let Phase::Answered {
            agent,
            at,
            mut hold_ms,
            hold_since,
        } = c.phase
        else {
            return;
        };
        if let Some(since) = hold_since {
            hold_ms += (t - since).max(0) as u64;
        }
        let talk_total = talk_ms.unwrap_or(t - at).max(0) as u64;
        let fin = Finished {
            queue: q,
            channel: c.channel,
            talk_ms: talk_total.saturating_sub(hold_ms),
            hold_ms: hold_ms.min(talk_total),
            ended_at: t,
            acw_start: None,
        };
        if transferred {
            self.record_queue(q, c.channel, t, QueueObs::Transferred);
            self.record_agent(agent, t, super::AgentObs::Transferred);
        }
        self.agent_finished(t, agent, &id, fin);
    }

    /// Counts a finished contact as handled at `t` with `acw_ms` of after-contact work.
    pub(crate) fn handled(&mut self, t: Millis, agent: u32, fin: &Finished, acw_ms: u64) {
        let handle_ms = fin.talk_ms + fin.hold_ms + acw_ms;
        self.record_queue(
            fin.queue,
            fin.channel,
            t,
            QueueObs::Handled {
                handle_ms,
                talk_ms: fin.talk_ms,
                hold_ms: fin.hold_ms,
                acw_ms,
            },
        );
        self.record_agent(
            agent,
            t,
            super::AgentObs::Handled {
                handle_ms,
                talk_ms: fin.talk_ms,
                hold_ms: fin.hold_ms,
                acw_ms,
            },
        );
    }

    pub(super) fn on_sl_deadline(&mut self, slot: u32, uid: u64) {
        let Some(q) = self.contacts.live(slot, uid).map(|o| o.queue) else {
            return;
        };
        let threshold = self.queue_threshold(q);
        let Some(c) = self.contacts.slot_mut(slot).map(|o| &mut o.c) else {
            return;
        };
        if c.sl_decided || c.phase != Phase::Waiting {
            return;
        }
        c.sl_decided = true;
        let (at, ch) = (c.queued_at.map(|qt| qt + threshold), c.channel);
        if let Some(at) = at {
            self.record_queue(q, ch, at, QueueObs::Sl(SlOutcome::Missed));
        }
    }

    pub(super) fn on_orphan(&mut self, at: Millis, slot: u32, uid: u64) {
        if self.contacts.live(slot, uid).is_some() {
            self.orphan(at, slot);
        }
    }

    /// Closes an open contact that can no longer finish, and counts it.
    fn orphan(&mut self, at: Millis, slot: u32) {
        let Some(Open { id, queue: q, c }) = self.contacts.remove_slot(slot) else {
            return;
        };
        match c.phase {
            Phase::Waiting => {
                self.leave_queue(at, q, &c, None);
            }
            Phase::Answered { agent, .. } => {
                self.agent_dropped_contact(at, agent, &id);
            }
        }
        self.stats.orphaned += 1;
        self.record_queue(q, c.channel, at, QueueObs::Orphaned);
    }

    /// The ACD restarted: every open contact is closed as an orphan (oldest phase first).
    pub(super) fn on_restart(&mut self, t: Millis) {
        let mut keys = self.contacts.keys();
        keys.sort_unstable();
        for (_, slot) in keys {
            self.orphan(t, slot);
        }
    }
}

/// Whether queue `q` is the one an event names (any queue when it names none): compares
/// the few queues a contact is open in instead of hashing the name.
fn named<'a>(queues: &'a [QueueRt], queue: Option<&'a Name>) -> impl Fn(u32) -> bool + 'a {
    move |q| queue.is_none_or(|name| queues.get(q as usize).is_some_and(|x| x.name == *name))
}
