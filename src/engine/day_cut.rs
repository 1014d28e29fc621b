//! One local day of the live engine's report rows (or one local week of its day sums),
//! copied out for `GET /api/v1/report`: the engine thread only copies (a day of rows),
//! the report is written elsewhere.

use super::calendar::{DAY_MS, WEEK_MS};
use super::timeline::{day_sums_kept, kept_from};
use super::{Aggregate, Calendar, Engine, EngineStats, QueueParams, Timeline};
use crate::config::Targets;
use crate::engine::{AgentAgg, AgentRow, QueueAgg};
use crate::kpi::AgentCounters;
use crate::model::{Millis, Name};
use std::collections::HashMap;

/// A queue's or agent's rows of the day, and their sum.
#[derive(Debug, Clone)]
pub struct EntityCut<P, A: Aggregate> {
    /// Queue or agent id.
    pub name: Name,
    /// Queue settings or agent targets.
    pub params: P,
    /// An agent's team now (`None` for queues).
    pub team: Option<Name>,
    /// The day's closed intervals summed (counters; histograms for percentiles).
    pub totals: A::Row,
    /// The day's closed interval rows, oldest first.
    pub rows: Vec<(Millis, A::Row)>,
}

/// The report rows of one local day (or of a local week, one row per day), with what
/// the report header needs.
#[derive(Debug, Clone)]
pub struct DayCut {
    /// `[start, end)` of the local day (or week).
    pub day: (Millis, Millis),
    /// The engine's watermark when the cut was taken, or the day's end when the
    /// watermark has passed it.
    pub to: Option<Millis>,
    /// The rows' length and time zone: the engine's intervals for a day, local days for
    /// a week.
    pub calendar: Calendar,
    /// The engine's own calendar (its report intervals), for counting adherence.
    pub intervals: Calendar,
    /// The day's counts of applied and refused events ([`Engine::day_stats`]).
    pub stats: EngineStats,
    /// Queues with a closed interval that day, by name.
    pub queues: Vec<EntityCut<QueueParams, QueueAgg>>,
    /// Agents with a closed interval that day, by id.
    pub agents: Vec<EntityCut<Targets, AgentAgg>>,
    /// Teams with a closed interval that day, by name.
    pub teams: Vec<EntityCut<Targets, AgentAgg>>,
    /// Intervals ending at or before this are closed (the start of the oldest open one).
    pub closed_to: Millis,
    /// The config's agent targets and teams, for agents the engine has not seen (a
    /// scheduled no-show still gets its row, under its team's targets).
    book: TargetBook,
}

/// The config's per-agent targets and team placements, and each team's targets.
#[derive(Debug, Clone, Default)]
struct TargetBook {
    agents: HashMap<String, (Targets, Option<String>)>,
    teams: HashMap<String, Targets>,
}

impl DayCut {
    /// The row of an agent the engine has not seen that day (nothing counted): its
    /// targets and team from the config, else the team `plan_team` (the schedule's).
    pub fn unseen_agent(
        &self,
        name: &str,
        plan_team: Option<&str>,
    ) -> EntityCut<Targets, AgentAgg> {
        let (own, team) = self.book.agents.get(name).cloned().unwrap_or_default();
        let team = team.or_else(|| plan_team.map(str::to_string));
        let team_targets = team
            .as_deref()
            .and_then(|t| self.book.teams.get(t))
            .copied()
            .unwrap_or_default();
        EntityCut {
            name: Name::from(name),
            params: own.or(&team_targets),
            team: team.map(|t| Name::from(t.as_str())),
            totals: AgentRow::from(&AgentCounters::default()),
            rows: Vec::new(),
        }
    }
}

/// Why a day's rows cannot be given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DayCutError {
    /// The engine keeps no rows for live reports.
    #[error("the daemon keeps no report rows ([daemon] report_days = 0)")]
    Off,
    /// No event was applied yet, so there is no "today".
    #[error("no event has been applied yet: there is no today to report")]
    NoToday,
    /// The week is older than the day sums kept.
    #[error("the week of {monday} is older than the {days} local days of day sums the daemon keeps ([daemon] report_days, at least 14)")]
    WeekNotKept {
        /// The week's Monday.
        monday: jiff::civil::Date,
        /// Days of day sums kept.
        days: u32,
    },
    /// The day is older than the days kept.
    #[error("{date} is older than the {days} local day(s) of rows the daemon keeps ([daemon] report_days)")]
    NotKept {
        /// The day asked for.
        date: jiff::civil::Date,
        /// `report_days`.
        days: u32,
    },
}

/// Which local day a report covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DaySpec {
    /// The day of the watermark ("today" in event time).
    Today,
    /// The day before it.
    Yesterday,
    /// A calendar date in the engine's time zone.
    Date(jiff::civil::Date),
}

/// Which local week (Monday 00:00 to Monday 00:00) a weekly report covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeekSpec {
    /// The week of the watermark.
    This,
    /// The week before it.
    Last,
    /// The week holding a calendar date in the engine's time zone.
    Of(jiff::civil::Date),
}

/// What a report covers: a local day of interval rows, or a local week of day rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportSpan {
    /// One local day ([`Engine::day_cut`]).
    Day(DaySpec),
    /// One local week ([`Engine::week_cut`]).
    Week(WeekSpec),
}

/// How a cut reads each timeline.
#[derive(Debug, Clone, Copy)]
enum Rows {
    /// A day's closed interval rows and their sum.
    Intervals,
    /// The kept day sums of a span of days and their sum.
    Days,
}

impl Engine {
    /// The rows a report of `span` needs ([`Engine::day_cut`] or [`Engine::week_cut`]).
    pub fn report_cut(&mut self, span: ReportSpan) -> Result<DayCut, DayCutError> {
        match span {
            ReportSpan::Day(d) => self.day_cut(d),
            ReportSpan::Week(w) => self.week_cut(w),
        }
    }

    /// The kept day sums of local week `spec`, one row per local day (rows of
    /// `calendar` 24 hours long) and the week's sum as totals, percentiles included:
    /// what `ccpulse replay --interval 24h` of the week's events gives. Day sums are
    /// kept [`day_sums_kept`] days (two weeks at least), whatever `report_days` is.
    pub fn week_cut(&mut self, spec: WeekSpec) -> Result<DayCut, DayCutError> {
        if !self.keeps_report_days() {
            return Err(DayCutError::Off);
        }
        let now = self.now;
        let t = match spec {
            WeekSpec::This => now.ok_or(DayCutError::NoToday)?,
            WeekSpec::Last => {
                let now = now.ok_or(DayCutError::NoToday)?;
                let date = self.cal.date(now);
                self.cal
                    .noon(date.saturating_sub(jiff::Span::new().days(7)))
            }
            WeekSpec::Of(d) => self.cal.noon(d),
        };
        let weeks = Calendar::new(self.cal.tz().clone(), WEEK_MS);
        let week = weeks.interval(t, self.cal.day(t));
        if let Some(now) = now {
            let today = self.cal.day(now).0;
            let days = day_sums_kept(self.opts.report_days);
            if kept_from(today, days).is_some_and(|from| week.1 <= from) {
                let monday = self.cal.date(week.0);
                return Err(DayCutError::WeekNotKept { monday, days });
            }
        }
        let days = Calendar::new(self.cal.tz().clone(), DAY_MS);
        Ok(self.cut_span(week, days, Rows::Days))
    }

    /// The closed interval rows of local day `spec`, when the engine keeps rows for live
    /// reports and still holds that day. A day without activity gives an empty cut.
    pub fn day_cut(&mut self, spec: DaySpec) -> Result<DayCut, DayCutError> {
        if !(self.opts.keep_closed && self.opts.live_totals) {
            return Err(DayCutError::Off);
        }
        let now = self.now;
        let t = match spec {
            DaySpec::Today => now.ok_or(DayCutError::NoToday)?,
            DaySpec::Yesterday => self.cal.day(now.ok_or(DayCutError::NoToday)?).0 - 1,
            DaySpec::Date(d) => self.cal.noon(d),
        };
        let day = self.cal.day(t);
        if let Some(now) = now {
            let today = self.cal.day(now).0;
            if kept_from(today, self.opts.report_days).is_some_and(|from| day.0 < from) {
                let date = self.cal.date(day.0);
                return Err(DayCutError::NotKept {
                    date,
                    days: self.opts.report_days,
                });
            }
        }
        Ok(self.cut_span(day, self.cal.clone(), Rows::Intervals))
    }

    /// Every queue's, agent's and team's rows of `span` (read as `rows` says) and what
    /// the report header needs.
    fn cut_span(&mut self, span: (Millis, Millis), calendar: Calendar, rows: Rows) -> DayCut {
        let mut queues: Vec<_> = self
            .queues
            .iter_mut()
            .filter_map(|q| cut(&mut q.timeline, span, rows, &q.name, q.params, None))
            .collect();
        queues.sort_by(|a, b| a.name.cmp(&b.name));
        let mut agents: Vec<_> = (0..self.agents.len() as u32)
            .filter_map(|a| {
                let params = self.agent_targets(a);
                let team = self.team_name(a).cloned();
                let rt = self.agents.get_mut(a as usize)?;
                cut(&mut rt.timeline, span, rows, &rt.name, params, team)
            })
            .collect();
        agents.sort_by(|a, b| a.name.cmp(&b.name));
        let mut teams: Vec<_> = self
            .teams
            .iter_mut()
            .filter_map(|t| cut(&mut t.timeline, span, rows, &t.name, t.targets, None))
            .collect();
        teams.sort_by(|a, b| a.name.cmp(&b.name));
        let mut book = TargetBook::default();
        for (name, t) in &self.config.teams {
            book.teams.insert(name.clone(), t.targets);
        }
        for name in self.config.teams.values().flat_map(|t| &t.agents) {
            book.agents.insert(
                name.clone(),
                (Targets::default(), super::config_team(&self.config, name)),
            );
        }
        for (name, a) in &self.config.agents {
            book.agents.insert(
                name.clone(),
                (a.targets, super::config_team(&self.config, name)),
            );
        }
        // Nothing closed yet (no event): nothing before the span's start.
        let cutoff = self.closed_cutoff.max(span.0);
        DayCut {
            closed_to: self.cal.interval(cutoff, self.cal.day(cutoff)).0,
            book,
            day: span,
            to: self.now.map(|now| now.min(span.1)),
            calendar,
            intervals: self.cal.clone(),
            stats: self.day_stats(span),
            queues,
            agents,
            teams,
        }
    }
}

/// One entity's rows of `span` and their sum, if it had a closed interval then.
fn cut<P, A: Aggregate>(
    tl: &mut Timeline<A>,
    span: (Millis, Millis),
    rows: Rows,
    name: &Name,
    params: P,
    team: Option<Name>,
) -> Option<EntityCut<P, A>> {
    let (rows, totals) = match rows {
        Rows::Intervals => (
            tl.rows_between(span.0, span.1).to_vec(),
            tl.day_row(span.0)?,
        ),
        Rows::Days => tl.days_between(span.0, span.1)?,
    };
    Some(EntityCut {
        totals,
        rows,
        name: name.clone(),
        params,
        team,
    })
}
