//! Adherence per agent and report interval over a replay (`ccpulse replay --schedule`):
//! the interval, daily and weekly reports a team leader files, with the same adherence
//! definition as the daemon's today (docs/kpis.md §Schedule and adherence).
//!
//! The engine's state spans ([`crate::engine::AgentTransition`]s, then each agent's
//! open span at the end) are intersected with the plan and split at the report's
//! interval boundaries; scheduled time is the plan's over `[from, to)` of the input,
//! whether or not the agent was ever seen (never seen is logged out: a no-show).

use super::adherence::{span_pieces, AuxReasons};
use super::Schedule;
use crate::engine::{Calendar, Transitions};
use crate::model::{AgentStatus, Millis};
use std::collections::{BTreeMap, HashMap};

/// Adherent and scheduled milliseconds of one agent in one window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Adherence {
    /// Time in the scheduled activity.
    pub adherent_ms: u64,
    /// Scheduled time (`off` excluded).
    pub scheduled_ms: u64,
}

impl Adherence {
    fn add(&mut self, o: Adherence) {
        self.adherent_ms += o.adherent_ms;
        self.scheduled_ms += o.scheduled_ms;
    }
}

/// One agent's adherence over the whole input and per report interval.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentLedger {
    /// Over `[from, to)` of the input.
    pub totals: Adherence,
    /// By interval start (only intervals with scheduled or adherent time).
    pub intervals: BTreeMap<Millis, Adherence>,
    /// The schedule's team for the agent (the last row naming one), if any.
    pub team: Option<String>,
}

impl AgentLedger {
    /// Adds a day's adherence as one row starting at `day_start` (weekly reports: one
    /// row per local day); the schedule's team is the latest day's.
    pub fn add_day(&mut self, day_start: Millis, day: &AgentLedger) {
        self.totals.add(day.totals);
        self.intervals.entry(day_start).or_default().add(day.totals);
        if day.team.is_some() {
            self.team.clone_from(&day.team);
        }
    }

    fn add(&mut self, o: &AgentLedger) {
        self.totals.add(o.totals);
        for (start, a) in &o.intervals {
            self.intervals.entry(*start).or_default().add(*a);
        }
    }
}

/// The team an agent counts for in reports: the engine's (whose counters its work adds
/// to), else its schedule's.
pub fn report_team<'t>(
    engine_team: Option<&'t str>,
    ledger: Option<&'t AgentLedger>,
) -> Option<&'t str> {
    engine_team.or_else(|| ledger?.team.as_deref())
}

/// Teams' adherence for reports: each agent's ledger summed into its team's, the team
/// being `engine_team(agent)` (the one whose counters the agent's work adds to), else
/// the schedule's; agents with neither are in no team.
pub fn by_team<'t>(
    agents: &HashMap<String, AgentLedger>,
    engine_team: impl Fn(&str) -> Option<&'t str>,
) -> HashMap<String, AgentLedger> {
    let mut teams: HashMap<String, AgentLedger> = HashMap::new();
    for (agent, l) in agents {
        let Some(team) = report_team(engine_team(agent), Some(l)) else {
            continue;
        };
        teams.entry(team.to_string()).or_default().add(l);
    }
    teams
}

/// Collects adherent time while a replay runs; [`Ledger::finish`] adds the scheduled time.
#[derive(Debug)]
pub struct Ledger {
    schedule: Schedule,
    aux: AuxReasons,
    cal: Calendar,
    adherent: HashMap<String, BTreeMap<Millis, u64>>,
    /// The last interval looked up: consecutive pieces mostly fall in it.
    last: (Millis, Millis),
    /// State changes the engine dropped before they were taken (never with the replay's
    /// cadence; reported if it happens, as the adherence is then short).
    lost: u64,
}

impl Ledger {
    /// A ledger of `schedule` in the report's calendar (its zone and interval length).
    pub fn new(schedule: Schedule, aux: AuxReasons, cal: Calendar) -> Self {
        Ledger {
            schedule,
            aux,
            cal,
            adherent: HashMap::new(),
            last: (0, 0),
            lost: 0,
        }
    }

    /// Accounts the engine's state changes: each closes a span of its agent.
    pub fn transitions(&mut self, t: &Transitions) {
        self.lost += t.dropped;
        for tr in &t.items {
            let (state, reason, since) = &tr.from;
            self.span(&tr.agent, *since, tr.t, *state, reason.as_deref());
        }
    }

    /// Accounts `[from, to)` spent by `agent` in `state` (with aux `reason`).
    pub fn span(
        &mut self,
        agent: &str,
        from: Millis,
        to: Millis,
        state: AgentStatus,
        reason: Option<&str>,
    ) {
        let Some(plan) = self.schedule.plan(agent) else {
            return;
        };
        let mut adherent = span_pieces(plan, from, to, state, reason, &self.aux)
            .filter(|(_, _, ok)| *ok)
            .peekable();
        if adherent.peek().is_none() {
            return;
        }
        if !self.adherent.contains_key(agent) {
            self.adherent.insert(agent.to_string(), BTreeMap::new());
        }
        let Some(rows) = self.adherent.get_mut(agent) else {
            return;
        };
        for (a, b, _) in adherent {
            split(&self.cal, &mut self.last, a, b, |start, ms| {
                *rows.entry(start).or_default() += ms
            });
        }
    }

    /// The scheduled time of every planned agent over `[from, to)` joined with the
    /// adherent time collected: one ledger per agent that was scheduled or adherent.
    pub fn finish(mut self, from: Millis, to: Millis) -> HashMap<String, AgentLedger> {
        if self.lost > 0 {
            tracing::warn!(
                lost = self.lost,
                "agent state changes were dropped before the schedule ledger took them: adherence is short"
            );
        }
        let mut out: HashMap<String, AgentLedger> = HashMap::new();
        for (agent, plan) in &self.schedule.agents {
            let mut ledger = AgentLedger {
                team: plan.team.clone(),
                ..AgentLedger::default()
            };
            for s in plan.overlapping(from, to) {
                let (a, b) = (s.start.max(from), s.end.min(to));
                split(&self.cal, &mut self.last, a, b, |start, ms| {
                    ledger.intervals.entry(start).or_default().scheduled_ms += ms;
                });
            }
            if !ledger.intervals.is_empty() {
                out.insert(agent.clone(), ledger);
            }
        }
        for (agent, rows) in std::mem::take(&mut self.adherent) {
            let ledger = out.entry(agent).or_default();
            for (start, ms) in rows {
                ledger.intervals.entry(start).or_default().adherent_ms += ms;
            }
        }
        for ledger in out.values_mut() {
            let mut totals = Adherence::default();
            for a in ledger.intervals.values() {
                totals.add(*a);
            }
            ledger.totals = totals;
        }
        out
    }
}

/// Calls `f(interval start, ms)` for each piece of `[a, b)` cut at `cal`'s interval
/// bounds; `last` caches the interval last looked up (consecutive pieces mostly share it).
fn split(
    cal: &Calendar,
    last: &mut (Millis, Millis),
    a: Millis,
    b: Millis,
    mut f: impl FnMut(Millis, u64),
) {
    let mut t = a;
    while t < b {
        if !(last.0 <= t && t < last.1) {
            *last = cal.interval(t, cal.day(t));
            if last.1 <= t {
                // A calendar that cannot place `t` (never for valid times): stop.
                return;
            }
        }
        let end = last.1.min(b);
        f(last.0, (end - t) as u64);
        t = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::parse_csv;
    use jiff::tz::TimeZone;

    const H: Millis = 3_600_000;
    const M: Millis = 60_000;
    /// 2026-11-30 00:00 UTC (a Monday).
    const DAY: Millis = 1_795_996_800_000;

    fn ledger(csv: &str, interval: Millis) -> Ledger {
        let report = parse_csv(csv.as_bytes(), &TimeZone::UTC);
        assert_eq!(report.rejected, 0, "{:?}", report.errors);
        Ledger::new(
            report.schedule,
            AuxReasons::default(),
            Calendar::new(TimeZone::UTC, interval),
        )
    }

    #[test]
    fn splits_adherent_and_scheduled_time_at_interval_bounds() {
        // 09:00–10:00 work, 10:00–10:15 break, 10:15–11:00 work.
        let mut l = ledger(
            "a1,2026-11-30 09:00,2026-11-30 11:00,work\n\
             a1,2026-11-30 10:00,2026-11-30 10:15,break\n",
            30 * M,
        );
        // Logs in late at 09:10, takes the break 10:05–10:20, then works to 11:00.
        let spans = [
            (9 * H, 9 * H + 10 * M, AgentStatus::LoggedOut, None),
            (9 * H + 10 * M, 10 * H + 5 * M, AgentStatus::Available, None),
            (10 * H + 5 * M, 10 * H + 20 * M, AgentStatus::Aux, Some("x")),
            (10 * H + 20 * M, 11 * H, AgentStatus::OnContact, None),
        ];
        for (from, to, state, reason) in spans {
            l.span("a1", DAY + from, DAY + to, state, reason);
        }
        // An agent the schedule does not plan is not counted.
        l.span("zz", DAY, DAY + H, AgentStatus::Available, None);
        let out = l.finish(DAY + 9 * H, DAY + 11 * H);
        assert_eq!(out.len(), 1);
        let a = &out["a1"];
        let row = |h: Millis, m: Millis| a.intervals[&(DAY + h * H + m * M)];
        // 09:00–09:30: 20 of 30 min; 09:30–10:00: all; 10:00–10:30: 5 min work
        // missed, break 10:05–10:15 kept, 10:15–10:20 still on break (missed), 10:20–10:30
        // working: 20 of 30; 10:30–11:00: all.
        // (adherent, scheduled) minutes.
        let mins = |x: Adherence| (x.adherent_ms / M as u64, x.scheduled_ms / M as u64);
        assert_eq!(mins(row(9, 0)), (20, 30));
        assert_eq!(mins(row(9, 30)), (30, 30));
        assert_eq!(mins(row(10, 0)), (20, 30));
        assert_eq!(mins(row(10, 30)), (30, 30));
        assert_eq!(mins(a.totals), (100, 120));
    }

    #[test]
    fn a_no_show_is_scheduled_and_never_adherent_and_input_bounds_clip() {
        let l = ledger("b1,2026-11-30 08:00,2026-11-30 12:00,work\n", 24 * H);
        // The input covers 10:00–11:30 only.
        let out = l.finish(DAY + 10 * H, DAY + 11 * H + 30 * M);
        assert_eq!(
            out["b1"].intervals[&DAY],
            Adherence {
                adherent_ms: 0,
                scheduled_ms: 90 * M as u64
            }
        );
    }

    #[test]
    fn teams_sum_their_agents_under_the_engines_team_else_the_schedules() {
        // p1 has no engine team (the schedule's "plan" counts); e1's engine team "eng"
        // wins over its schedule team; e2 has only the engine's; n1 neither (no team).
        let mut l = ledger(
            "p1,2026-11-30 09:00,2026-11-30 10:00,work,plan\n\
             e1,2026-11-30 09:00,2026-11-30 10:00,work,plan\n\
             e2,2026-11-30 09:30,2026-11-30 10:00,work\n\
             n1,2026-11-30 09:00,2026-11-30 10:00,work\n",
            30 * M,
        );
        l.span(
            "e1",
            DAY + 9 * H,
            DAY + 10 * H,
            AgentStatus::Available,
            None,
        );
        l.span(
            "p1",
            DAY + 9 * H,
            DAY + 9 * H + 30 * M,
            AgentStatus::Available,
            None,
        );
        let out = l.finish(DAY + 9 * H, DAY + 10 * H);
        assert_eq!(out["p1"].team.as_deref(), Some("plan"));
        assert_eq!(out["e2"].team, None);
        let engine_team = |a: &str| matches!(a, "e1" | "e2").then_some("eng");
        let teams = by_team(&out, engine_team);
        assert_eq!(teams.len(), 2, "{teams:?}");
        let mins = |x: Adherence| (x.adherent_ms / M as u64, x.scheduled_ms / M as u64);
        assert_eq!(mins(teams["plan"].totals), (30, 60));
        // e1 adherent 60 of 60, e2 (a no-show) 0 of 30: 09:00 has e1 only.
        assert_eq!(mins(teams["eng"].totals), (60, 90));
        assert_eq!(mins(teams["eng"].intervals[&(DAY + 9 * H)]), (30, 30));
        assert_eq!(
            mins(teams["eng"].intervals[&(DAY + 9 * H + 30 * M)]),
            (30, 60)
        );
    }
}
