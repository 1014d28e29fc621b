//! Which queues, agents or sources a rule looks at (`queues`, `agents`, `sources`,
//! `teams` in config).

use super::rule::{Measured, Rule};
use crate::engine::Snapshot;
use rustc_hash::FxHashSet;

/// A rule's scope filter for one snapshot: built once per evaluation so a team filter
/// costs one pass over the agents, not one per measured value.
#[derive(Debug)]
pub struct ScopeFilter<'a> {
    only: &'a [String],
    teams: &'a [String],
    team_agents: Option<FxHashSet<&'a str>>,
}

impl Rule {
    /// The filter of this rule's `only` (queues, agents or sources) and `teams` lists
    /// on `snap`.
    pub fn scope_filter<'a>(&'a self, snap: &'a Snapshot) -> ScopeFilter<'a> {
        // Measurements that carry their team (the schedule's) need no snapshot lookup.
        let by_snapshot = !self.teams.is_empty() && !self.metric.scope_labels().contains(&"team");
        let team_agents = by_snapshot.then(|| {
            snap.agents
                .iter()
                .filter(|a| {
                    a.team
                        .as_deref()
                        .is_some_and(|t| self.teams.iter().any(|x| x == t))
                })
                .map(|a| a.agent.as_str())
                .collect()
        });
        ScopeFilter {
            only: &self.only,
            teams: &self.teams,
            team_agents,
        }
    }
}

impl ScopeFilter<'_> {
    /// Whether the rule applies to the queue, agent or source `scope`.
    pub fn admits_scope(&self, scope: &str) -> bool {
        (self.only.is_empty() || self.only.iter().any(|s| s == scope))
            && self.team_agents.as_ref().is_none_or(|t| t.contains(scope))
    }

    /// Whether the rule applies to a measurement: its scope, and its `team` label when it
    /// carries one (an agent not logged in is in no snapshot, but the schedule knows
    /// its team).
    pub fn admits(&self, m: &Measured) -> bool {
        if !self.admits_scope(&m.scope) {
            return false;
        }
        if self.teams.is_empty() || self.team_agents.is_some() {
            return true;
        }
        m.labels
            .iter()
            .find(|(k, _)| *k == "team")
            .is_some_and(|(_, t)| self.teams.iter().any(|x| x == t))
    }
}
