//! Which queues or agents a rule looks at (`queues`, `agents`, `teams` in config).

use super::rule::Rule;
use crate::engine::Snapshot;
use rustc_hash::FxHashSet;

/// A rule's scope filter for one snapshot: built once per evaluation so a team filter
/// costs one pass over the agents, not one per measured value.
#[derive(Debug)]
pub struct ScopeFilter<'a> {
    only: &'a [String],
    team_agents: Option<FxHashSet<&'a str>>,
}

impl Rule {
    /// The filter of this rule's `only` (queues or agents) and `teams` lists on `snap`.
    pub fn scope_filter<'a>(&'a self, snap: &'a Snapshot) -> ScopeFilter<'a> {
        let team_agents = (!self.teams.is_empty()).then(|| {
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
            team_agents,
        }
    }
}

impl ScopeFilter<'_> {
    /// Whether the rule applies to the queue or agent `scope`.
    pub fn admits(&self, scope: &str) -> bool {
        (self.only.is_empty() || self.only.iter().any(|s| s == scope))
            && self.team_agents.as_ref().is_none_or(|t| t.contains(scope))
    }
}
