//! An opt-in log of agent state changes with their event times, for readers that need
//! every change rather than one state per snapshot (the schedule's adherence).

use super::Engine;
use crate::model::{AgentStatus, Millis, Name};

/// Bound on unread transitions: beyond it the oldest are dropped (and counted), so a
/// reader that stopped reading cannot grow the engine without limit.
const MAX_PENDING: usize = 1 << 20;

/// One agent state change at its event time.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AgentTransition {
    /// When (event time).
    pub t: Millis,
    /// Agent id as the ACD names it.
    pub agent: Name,
    /// The state left, its reason, and since when the agent was in it.
    pub from: (AgentStatus, Option<Name>, Millis),
    /// The state entered.
    pub to: AgentStatus,
    /// Its aux / logout reason.
    pub reason: Option<Name>,
}

/// Recorded changes not yet taken, and how many were dropped over the bound.
#[derive(Debug, Default)]
pub(crate) struct TransitionLog {
    items: Vec<AgentTransition>,
    dropped: u64,
}

/// What [`Engine::take_transitions`] hands over.
#[derive(Debug, Clone, Default)]
pub struct Transitions {
    /// The changes, in the order applied (event-time order per agent).
    pub items: Vec<AgentTransition>,
    /// Changes lost since the last take (the reader fell `MAX_PENDING` behind): a
    /// reader that sees a non-zero count must resynchronise from a snapshot.
    pub dropped: u64,
    /// Set on the batch sent as the engine checkpoint with this id was taken: that
    /// checkpoint holds the engine after exactly the changes sent up to here, so a
    /// reader's state saved now belongs with it (a restart resumes both).
    pub checkpoint: Option<u64>,
}

impl Engine {
    /// Starts (or stops) recording agent state changes for [`Engine::take_transitions`].
    pub fn record_transitions(&mut self, on: bool) {
        self.transitions = on.then(TransitionLog::default);
    }

    /// The state changes applied since the last call; empty when not recording.
    pub fn take_transitions(&mut self) -> Transitions {
        match self.transitions.as_mut() {
            Some(log) => Transitions {
                items: std::mem::take(&mut log.items),
                dropped: std::mem::take(&mut log.dropped),
                checkpoint: None,
            },
            None => Transitions::default(),
        }
    }

    pub(super) fn record_transition(
        &mut self,
        a: u32,
        t: Millis,
        state: AgentStatus,
        reason: Option<u32>,
    ) {
        let Some(log) = self.transitions.as_mut() else {
            return;
        };
        let Some(rt) = self.agents.get(a as usize) else {
            return;
        };
        let name = |r: Option<u32>| r.and_then(|r| self.reasons.get(r as usize)).cloned();
        if log.items.len() >= MAX_PENDING {
            log.items.drain(..MAX_PENDING / 2);
            log.dropped += (MAX_PENDING / 2) as u64;
        }
        log.items.push(AgentTransition {
            t,
            agent: rt.name.clone(),
            from: (rt.state, name(rt.reason), rt.since),
            to: state,
            reason: name(reason),
        });
    }
}
