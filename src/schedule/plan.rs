//! Schedule rows and the per-agent timelines built from them.
//!
//! Rows of one agent may overlap (a `work` shift row with `break` rows inside it, as
//! schedule exports usually have): at any instant the row that started **latest** wins,
//! ties go to the **shorter** row, then to the **later** row in the file. `off` rows
//! win like any other and leave a hole. The result is one sorted, non-overlapping list
//! of [`Span`]s per agent without `off`.

use super::Activity;
use crate::model::Millis;
use serde::Serialize;
use std::collections::BTreeMap;

/// One accepted schedule row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Segment {
    /// Agent id as the ACD names it.
    pub agent: String,
    /// Start (inclusive), event time.
    pub start: Millis,
    /// End (exclusive).
    pub end: Millis,
    /// What the agent is scheduled to do.
    pub activity: Activity,
    /// The agent's team, if the row says.
    pub team: Option<String>,
    /// Queues the agent works in this row, if the row says.
    pub queues: Vec<String>,
}

/// A stretch of one activity in an agent's flattened timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Span {
    /// Start (inclusive).
    pub start: Millis,
    /// End (exclusive).
    pub end: Millis,
    /// The activity (never `off`).
    pub activity: Activity,
}

/// One agent's schedule.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentPlan {
    /// Team from the rows (the last row that names one), if any.
    pub team: Option<String>,
    /// Queues from the rows (the last row that names any), if any.
    pub queues: Vec<String>,
    /// Sorted, non-overlapping, adjacent spans of the same activity merged.
    pub spans: Vec<Span>,
}

impl AgentPlan {
    /// Index of the span containing `t`.
    pub fn at(&self, t: Millis) -> Option<usize> {
        let i = self.spans.partition_point(|s| s.end <= t);
        self.spans.get(i).filter(|s| s.start <= t).map(|_| i)
    }

    /// The activity at `t` (`None`: not scheduled, i.e. off).
    pub fn activity_at(&self, t: Millis) -> Option<Activity> {
        self.at(t)
            .and_then(|i| self.spans.get(i))
            .map(|s| s.activity)
    }

    /// The shift around span `i`: the first and last index of its run of touching spans.
    pub fn shift(&self, i: usize) -> (usize, usize) {
        let mut lo = i;
        while lo > 0 && self.spans.get(lo - 1).map(|s| s.end) == self.spans.get(lo).map(|s| s.start)
        {
            lo -= 1;
        }
        let mut hi = i;
        while self.spans.get(hi + 1).map(|s| s.start) == self.spans.get(hi).map(|s| s.end)
            && hi + 1 < self.spans.len()
        {
            hi += 1;
        }
        (lo, hi)
    }

    /// The span right before span `i` if it ends where `i` starts.
    pub fn touching_before(&self, i: usize) -> Option<&Span> {
        let cur = self.spans.get(i)?;
        let prev = self.spans.get(i.checked_sub(1)?)?;
        (prev.end == cur.start).then_some(prev)
    }

    /// Spans overlapping `[from, to)`.
    pub fn overlapping(&self, from: Millis, to: Millis) -> &[Span] {
        let lo = self.spans.partition_point(|s| s.end <= from);
        let hi = self.spans.partition_point(|s| s.start < to);
        self.spans.get(lo..hi.max(lo)).unwrap_or(&[])
    }
}

/// The whole schedule, by agent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Schedule {
    /// Per-agent plans.
    pub agents: BTreeMap<String, AgentPlan>,
    /// Accepted rows.
    pub rows: usize,
}

impl Schedule {
    /// Builds the per-agent timelines from accepted rows (file order matters for ties).
    pub fn from_segments(segments: &[Segment]) -> Schedule {
        let mut by_agent: BTreeMap<&str, Vec<(usize, &Segment)>> = BTreeMap::new();
        for (i, s) in segments.iter().enumerate() {
            by_agent.entry(s.agent.as_str()).or_default().push((i, s));
        }
        let agents = by_agent
            .into_iter()
            .map(|(agent, rows)| {
                let mut plan = AgentPlan::default();
                for (_, s) in &rows {
                    if s.team.is_some() {
                        plan.team.clone_from(&s.team);
                    }
                    if !s.queues.is_empty() {
                        plan.queues.clone_from(&s.queues);
                    }
                }
                plan.spans = flatten(&rows);
                (agent.to_string(), plan)
            })
            .collect();
        Schedule {
            agents,
            rows: segments.len(),
        }
    }

    /// The plan of `agent`.
    pub fn plan(&self, agent: &str) -> Option<&AgentPlan> {
        self.agents.get(agent)
    }

    /// Each agent's team, for agents whose rows name one (the last such row).
    pub fn teams(&self) -> std::collections::BTreeMap<String, String> {
        self.agents
            .iter()
            .filter_map(|(a, p)| Some((a.clone(), p.team.clone()?)))
            .collect()
    }
}

/// The winning row among those covering an instant: latest start, then shortest, then
/// latest in the file.
fn wins(a: &(usize, &Segment), b: &(usize, &Segment)) -> bool {
    let key = |(i, s): &(usize, &Segment)| (s.start, -(s.end - s.start), *i);
    key(a) > key(b)
}

fn flatten(rows: &[(usize, &Segment)]) -> Vec<Span> {
    let mut cuts: Vec<Millis> = rows.iter().flat_map(|(_, s)| [s.start, s.end]).collect();
    cuts.sort_unstable();
    cuts.dedup();
    let mut out: Vec<Span> = Vec::new();
    for w in cuts.windows(2) {
        let (a, b) = (w[0], w[1]);
        let mut best: Option<&(usize, &Segment)> = None;
        for r in rows.iter().filter(|(_, s)| s.start <= a && a < s.end) {
            if best.is_none_or(|b| wins(r, b)) {
                best = Some(r);
            }
        }
        let Some((_, seg)) = best else { continue };
        if seg.activity == Activity::Off {
            continue;
        }
        match out.last_mut() {
            Some(last) if last.end == a && last.activity == seg.activity => last.end = b,
            _ => out.push(Span {
                start: a,
                end: b,
                activity: seg.activity,
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(start: Millis, end: Millis, activity: Activity) -> Segment {
        Segment {
            agent: "a".into(),
            start,
            end,
            activity,
            team: None,
            queues: Vec::new(),
        }
    }

    #[test]
    fn inner_rows_override_the_shift_and_off_leaves_a_hole() {
        let rows = [
            seg(0, 100, Activity::Work),
            seg(30, 40, Activity::Break),
            seg(60, 70, Activity::Off),
        ];
        let s = Schedule::from_segments(&rows);
        let p = s.plan("a").expect("plan");
        let got: Vec<_> = p
            .spans
            .iter()
            .map(|s| (s.start, s.end, s.activity))
            .collect();
        assert_eq!(
            got,
            vec![
                (0, 30, Activity::Work),
                (30, 40, Activity::Break),
                (40, 60, Activity::Work),
                (70, 100, Activity::Work),
            ]
        );
        assert_eq!(p.activity_at(35), Some(Activity::Break));
        assert_eq!(p.activity_at(65), None);
        assert_eq!(p.activity_at(100), None);
        assert_eq!(p.shift(1), (0, 2));
        assert_eq!(p.shift(3), (3, 3));
        assert_eq!(
            p.touching_before(2).map(|s| s.activity),
            Some(Activity::Break)
        );
        assert_eq!(p.overlapping(35, 65).len(), 2);
    }

    #[test]
    fn ties_go_to_the_shorter_then_the_later_row() {
        let rows = [
            seg(0, 50, Activity::Work),
            seg(0, 10, Activity::Meeting),
            seg(0, 10, Activity::Training),
        ];
        let p = Schedule::from_segments(&rows)
            .agents
            .remove("a")
            .expect("plan");
        assert_eq!(p.activity_at(5), Some(Activity::Training));
        assert_eq!(p.activity_at(10), Some(Activity::Work));
    }
}
