//! The interval report (`ccpulse replay`, interfaces.md §3): per queue and per agent,
//! totals over the whole input and one row per interval with activity.
//!
//! The report is a *view* over a finished engine: rows are turned into KPIs while
//! they are written, so a report over weeks of 2,000 agents never exists twice in memory.

mod csv;
mod json;
mod table;

use crate::config::Targets;
use crate::engine::{
    AgentAgg, AgentRow, Aggregate, Calendar, DayCut, Engine, EntityCut, QueueParams, QueueRow,
};
use crate::kpi::{AgentCounters, AgentKpis, QueueKpis, ScheduleKpis};
use crate::model::{format_rfc3339_in, Millis, Name};
use crate::schedule::ledger::{by_team, report_team, Adherence, AgentLedger};
use serde::ser::{SerializeSeq, SerializeStruct};
use serde::{Serialize, Serializer};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::io::Write;

/// Report schema version.
pub const REPORT_VERSION: u32 = 1;

/// What was read, and what of it was not counted (and why).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct InputCounts {
    /// Lines read.
    pub lines: u64,
    /// Events decoded.
    pub events: u64,
    /// Lines rejected as malformed.
    pub rejected: u64,
    /// Lines with an unknown type / verb.
    pub unknown: u64,
    /// Events later than the allowed lateness.
    pub late: u64,
    /// Events dropped as duplicate ids.
    pub duplicates: u64,
    /// Contact events that did not fit the contact's state.
    pub unmatched: u64,
    /// Contacts closed as orphans.
    pub orphaned: u64,
}

/// Output formats of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum OutputFormat {
    /// JSON, schema v1.
    #[default]
    Json,
    /// CSV interval rows with a `kind` column.
    Csv,
    /// A readable summary.
    Table,
}

/// The report over a finished engine (replay) or over a day of the live engine.
pub struct Report<'a> {
    calendar: &'a Calendar,
    /// The watermark the report runs to.
    to: Option<Millis>,
    input: InputCounts,
    from: Option<Millis>,
    queues: Vec<ReportQueue<'a>>,
    agents: Vec<ReportAgent<'a>>,
    /// Teams: their agents' counters summed, against the team's targets; with a schedule,
    /// their agents' adherence summed.
    teams: Vec<ReportAgent<'a>>,
    /// Replayed with a schedule: agent rows carry adherence.
    scheduled: bool,
}

/// A queue of the report: its settings, totals and interval rows.
struct ReportQueue<'a> {
    name: &'a Name,
    params: &'a QueueParams,
    totals: QueueRow,
    rows: &'a [(Millis, QueueRow)],
}

/// An agent or team of the report: its targets, totals, rows and, with a schedule,
/// adherence (an agent's own; a team's summed over its agents).
struct ReportAgent<'a> {
    name: Cow<'a, str>,
    targets: Targets,
    totals: AgentCounters,
    rows: Cow<'a, [(Millis, AgentRow)]>,
    adh: Option<Cow<'a, AgentLedger>>,
}

/// One interval row of a queue or agent, with its KPIs.
#[derive(Debug, Clone, Serialize)]
pub struct Row<K> {
    /// Interval start (RFC 3339).
    pub start: String,
    /// The KPIs.
    #[serde(flatten)]
    pub kpis: K,
}

impl<'a> Report<'a> {
    /// Settles `engine` (end of input: buffered events applied, open intervals closed)
    /// and views it as a report. `from` is the first event's time; `adherence` (replays
    /// with a schedule) each scheduled agent's adherence, by agent id.
    pub fn new(
        engine: &'a mut Engine,
        mut input: InputCounts,
        from: Option<Millis>,
        adherence: Option<&'a HashMap<String, AgentLedger>>,
    ) -> Self {
        engine.finish();
        engine.close_all();
        let stats = engine.stats();
        input.late = stats.late;
        input.duplicates = stats.duplicates;
        input.unmatched = stats.unmatched;
        input.orphaned = stats.orphaned;
        let engine: &'a Engine = engine;
        let mut queues: Vec<_> = engine
            .queues()
            .filter(|(_, _, tl)| !tl.closed.is_empty() || tl.totals.has_activity())
            .map(|(name, params, tl)| ReportQueue {
                name,
                params,
                totals: (tl.totals.c.clone(), tl.totals.settled_percentiles()),
                rows: &tl.closed,
            })
            .collect();
        queues.sort_by(|a, b| a.name.cmp(b.name));
        let mut agents: Vec<_> = engine
            .agents()
            .map(|(name, targets, tl)| ReportAgent {
                name: Cow::Borrowed(name.as_str()),
                targets,
                totals: tl.totals.c.clone(),
                rows: Cow::Borrowed(&tl.closed),
                adh: adherence
                    .and_then(|m| m.get(name.as_str()))
                    .map(Cow::Borrowed),
            })
            .filter(|a| a.totals.has_activity() || a.adh.is_some())
            .collect();
        agents.sort_by(|a, b| a.name.cmp(&b.name));
        let teams = engine
            .teams()
            .map(|(name, targets, tl)| ReportAgent {
                name: Cow::Borrowed(name.as_str()),
                targets,
                totals: tl.totals.c.clone(),
                rows: Cow::Borrowed(&tl.closed),
                adh: None,
            })
            .collect();
        let mut teams = with_team_adherence(teams, &agents, adherence, &|a| engine.agent_team(a));
        teams.retain(|t| t.totals.has_activity() || t.adh.is_some());
        Report {
            calendar: engine.calendar(),
            to: engine.watermark(),
            input,
            from,
            queues,
            agents,
            teams,
            scheduled: adherence.is_some(),
        }
    }

    /// The report of one local day of the live engine (`GET /api/v1/report`): the day's
    /// closed interval rows and, as totals, their sum. `input` counts the day's events
    /// ([`crate::engine::Engine::day_stats`]).
    /// With `adherence` (today's, from the schedule) agent rows carry adherence; the
    /// caller adds scheduled agents the engine has not seen to `cut.agents`.
    pub fn of_day(cut: &'a DayCut, adherence: Option<&'a HashMap<String, AgentLedger>>) -> Self {
        let stats = &cut.stats;
        let input = InputCounts {
            lines: stats.applied,
            events: stats.applied,
            late: stats.late,
            duplicates: stats.duplicates,
            unmatched: stats.unmatched,
            orphaned: stats.orphaned,
            ..InputCounts::default()
        };
        let agent_team: HashMap<&str, &str> = cut
            .agents
            .iter()
            .filter_map(|a| Some((a.name.as_str(), a.team.as_ref()?.as_str())))
            .collect();
        let agents: Vec<_> = cut
            .agents
            .iter()
            .map(|c| ReportAgent {
                adh: adherence
                    .and_then(|m| m.get(c.name.as_str()))
                    .map(Cow::Borrowed),
                ..ReportAgent::of_cut(c)
            })
            .collect();
        let teams = cut.teams.iter().map(ReportAgent::of_cut).collect();
        let teams = with_team_adherence(teams, &agents, adherence, &|a| agent_team.get(a).copied());
        Report {
            calendar: &cut.calendar,
            to: cut.to,
            input,
            from: Some(cut.day.0),
            queues: cut
                .queues
                .iter()
                .map(|q| ReportQueue {
                    name: &q.name,
                    params: &q.params,
                    totals: q.totals.clone(),
                    rows: &q.rows,
                })
                .collect(),
            agents,
            teams,
            scheduled: adherence.is_some(),
        }
    }

    /// The input accounting.
    pub fn input(&self) -> &InputCounts {
        &self.input
    }

    /// Queue names, sorted.
    pub fn queue_names(&self) -> impl Iterator<Item = &str> {
        self.queues.iter().map(|q| q.name.as_str())
    }

    /// A queue's totals.
    pub fn queue_totals(&self, queue: &str) -> Option<QueueKpis> {
        let q = self.queues.iter().find(|q| q.name.as_str() == queue)?;
        Some(q.totals_kpis())
    }

    /// A queue's interval rows.
    pub fn queue_rows(&self, queue: &str) -> Vec<Row<QueueKpis>> {
        self.queues
            .iter()
            .filter(|q| q.name.as_str() == queue)
            .flat_map(|q| queue_rows(q, self.tz()))
            .collect()
    }

    /// Agent ids, sorted.
    pub fn agent_names(&self) -> impl Iterator<Item = &str> {
        self.agents.iter().map(|a| &*a.name)
    }

    /// True when the report was replayed with a schedule (agent rows carry adherence).
    pub fn scheduled(&self) -> bool {
        self.scheduled
    }

    /// An agent's totals.
    pub fn agent_totals(&self, agent: &str) -> Option<AgentKpis> {
        self.totals_of(&self.agents, agent)
    }

    /// An agent's interval rows.
    pub fn agent_rows(&self, agent: &str) -> Vec<Row<AgentKpis>> {
        self.rows_of(&self.agents, agent)
    }

    /// Team names, sorted.
    pub fn team_names(&self) -> impl Iterator<Item = &str> {
        self.teams.iter().map(|t| &*t.name)
    }

    /// A team's totals (with its agents' adherence summed when the report has a schedule).
    pub fn team_totals(&self, team: &str) -> Option<AgentKpis> {
        self.totals_of(&self.teams, team)
    }

    /// A team's interval rows.
    pub fn team_rows(&self, team: &str) -> Vec<Row<AgentKpis>> {
        self.rows_of(&self.teams, team)
    }

    /// The totals of `name` among `people` (the report's agents or teams).
    fn totals_of(&self, people: &[ReportAgent<'_>], name: &str) -> Option<AgentKpis> {
        let a = people.iter().find(|a| a.name == name)?;
        Some(self.agent_totals_kpis(a))
    }

    /// The interval rows of `name` among `people` (the report's agents or teams).
    fn rows_of(&self, people: &[ReportAgent<'_>], name: &str) -> Vec<Row<AgentKpis>> {
        people
            .iter()
            .filter(|a| a.name == name)
            .flat_map(|a| agent_rows(a, self.scheduled, self.tz()))
            .collect()
    }

    /// An agent's totals as KPIs (with its adherence when the report has a schedule).
    fn agent_totals_kpis(&self, a: &ReportAgent<'_>) -> AgentKpis {
        agent_kpis(
            &a.totals,
            &a.targets,
            self.adherence_of(a.adh.as_deref(), |l| l.totals),
        )
    }

    /// With a schedule, an agent's adherence picked by `f` (zero for an agent the
    /// schedule does not plan); without, `None`.
    fn adherence_of(
        &self,
        l: Option<&AgentLedger>,
        f: impl Fn(&AgentLedger) -> Adherence,
    ) -> Option<Adherence> {
        self.scheduled.then(|| l.map(f).unwrap_or_default())
    }

    /// Writes the report in `format` (JSON on one line: reports of weeks of 2,000 agents
    /// are large; pipe through `jq` to read one).
    pub fn write(&self, format: OutputFormat, out: &mut dyn Write) -> std::io::Result<()> {
        match format {
            // Byte for byte what `serde_json::to_writer(self)` gives, much faster.
            OutputFormat::Json => json::write(self, out),
            OutputFormat::Csv => csv::write(self, out),
            OutputFormat::Table => table::write(self, out),
        }
    }

    fn interval_seconds(&self) -> i64 {
        self.calendar.interval_ms() / 1000
    }

    fn timezone(&self) -> &str {
        self.tz().iana_name().unwrap_or("UTC")
    }

    /// The report's time zone (the engine calendar's): intervals and times are in it.
    pub(crate) fn tz(&self) -> &jiff::tz::TimeZone {
        self.calendar.tz()
    }

    /// An instant as the report writes it: RFC 3339 with the report zone's offset.
    pub(crate) fn time(&self, ms: Millis) -> String {
        format_rfc3339_in(ms, self.tz())
    }
}

impl<'a> ReportAgent<'a> {
    /// An agent or team of a live day's cut.
    fn of_cut(c: &'a EntityCut<Targets, AgentAgg>) -> Self {
        ReportAgent {
            name: Cow::Borrowed(c.name.as_str()),
            targets: c.params,
            totals: AgentCounters::from(&c.totals),
            rows: Cow::Borrowed(&c.rows),
            adh: None,
        }
    }
}

/// With a schedule (`adherence`), gives each of the engine's `teams` its agents'
/// adherence summed ([`by_team`], an agent in `team_of` its engine team else its
/// schedule's) and adds the teams only the schedule names; sorted by name.
fn with_team_adherence<'a, 't>(
    mut teams: Vec<ReportAgent<'a>>,
    agents: &[ReportAgent<'a>],
    adherence: Option<&HashMap<String, AgentLedger>>,
    team_of: &dyn Fn(&str) -> Option<&'t str>,
) -> Vec<ReportAgent<'a>> {
    if let Some(m) = adherence {
        let mut team_adh = by_team(m, team_of);
        for t in &mut teams {
            t.adh = team_adh.remove(&*t.name).map(Cow::Owned);
        }
        teams.extend(schedule_teams(agents, team_adh, team_of));
    }
    teams.sort_by(|a, b| a.name.cmp(&b.name));
    teams
}

/// Teams the schedule names that the engine does not know (no config team, no team in
/// the events: a queue_log replay): each reported as the sum of the agents `team_of`
/// (the engine) leaves without a team and whose plan places them there, with their
/// adherence in `team_adh` (what [`by_team`] gave for teams the engine does not list).
fn schedule_teams<'a, 't>(
    agents: &[ReportAgent<'a>],
    team_adh: HashMap<String, AgentLedger>,
    team_of: &dyn Fn(&str) -> Option<&'t str>,
) -> Vec<ReportAgent<'a>> {
    let mut out = Vec::new();
    for (team, ledger) in team_adh {
        let mut totals = AgentCounters::default();
        let mut rows: BTreeMap<Millis, AgentCounters> = BTreeMap::new();
        let members = agents
            .iter()
            .filter(|a| report_team(team_of(&a.name), a.adh.as_deref()) == Some(team.as_str()));
        for a in members {
            totals.add(&a.totals);
            for (start, row) in a.rows.iter() {
                rows.entry(*start)
                    .or_default()
                    .add(&AgentCounters::from(row));
            }
        }
        out.push(ReportAgent {
            name: Cow::Owned(team),
            targets: Targets::default(),
            totals,
            rows: Cow::Owned(rows.iter().map(|(s, c)| (*s, AgentRow::from(c))).collect()),
            adh: Some(Cow::Owned(ledger)),
        });
    }
    out
}

impl ReportQueue<'_> {
    fn totals_kpis(&self) -> QueueKpis {
        QueueKpis::compute(&self.totals.0, self.params.preset, self.totals.1)
    }
}

/// A queue's interval rows, each `start` with `tz`'s offset.
fn queue_rows<'a>(
    q: &'a ReportQueue<'a>,
    tz: &'a jiff::tz::TimeZone,
) -> impl Iterator<Item = Row<QueueKpis>> + 'a {
    q.rows.iter().map(move |(start, (c, p))| Row {
        start: format_rfc3339_in(*start, tz),
        kpis: QueueKpis::compute(c, q.params.preset, *p),
    })
}

/// An agent's KPIs over a window, with its adherence when the report has a schedule.
fn agent_kpis(c: &AgentCounters, targets: &Targets, adherence: Option<Adherence>) -> AgentKpis {
    match adherence {
        None => AgentKpis::compute(c, Some(targets)),
        Some(a) => AgentKpis::compute_scheduled(
            c,
            Some(targets),
            ScheduleKpis::from_ms(a.adherent_ms, a.scheduled_ms),
        ),
    }
}

/// An agent's intervals in start order: the engine's rows (where the agent was logged
/// in or did anything) merged with the schedule's (where it was scheduled or adherent),
/// each with its counters (zero where the engine has no row) and, when `scheduled`, its
/// adherence (zero where the schedule has none).
fn agent_intervals<'a>(
    rows: &'a [(Millis, AgentRow)],
    adh: Option<&'a AgentLedger>,
    scheduled: bool,
) -> impl Iterator<Item = (Millis, AgentCounters, Option<Adherence>)> + 'a {
    let mut rows = rows.iter().peekable();
    let mut sched = adh.into_iter().flat_map(|l| l.intervals.iter()).peekable();
    std::iter::from_fn(move || {
        let next_row = rows.peek().map(|(s, _)| *s);
        let next_sched = sched.peek().map(|(s, _)| **s);
        let start = match (next_row, next_sched) {
            (None, None) => return None,
            (Some(r), None) => r,
            (None, Some(s)) => s,
            (Some(r), Some(s)) => r.min(s),
        };
        let c = match rows.next_if(|(s, _)| *s == start) {
            Some((_, row)) => AgentCounters::from(row),
            None => AgentCounters::default(),
        };
        let a = sched.next_if(|(s, _)| **s == start).map(|(_, a)| *a);
        Some((start, c, scheduled.then(|| a.unwrap_or_default())))
    })
}

/// An agent's interval rows, each `start` with `tz`'s offset.
fn agent_rows<'a>(
    a: &'a ReportAgent<'a>,
    scheduled: bool,
    tz: &'a jiff::tz::TimeZone,
) -> impl Iterator<Item = Row<AgentKpis>> + 'a {
    agent_intervals(&a.rows, a.adh.as_deref(), scheduled).map(move |(start, c, adh)| Row {
        start: format_rfc3339_in(start, tz),
        kpis: agent_kpis(&c, &a.targets, adh),
    })
}

/// Serializes an iterator as a sequence without collecting it.
struct Lazy<F>(F);

impl<F, I, T> Serialize for Lazy<F>
where
    F: Fn() -> I,
    I: Iterator<Item = T>,
    T: Serialize,
{
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        for item in (self.0)() {
            seq.serialize_element(&item)?;
        }
        seq.end()
    }
}

/// One entity: its name under `key`, its totals and its rows.
struct Entity<'a, T, R> {
    key: &'static str,
    name: &'a str,
    totals: T,
    rows: R,
}

impl<T: Serialize, R: Serialize> Serialize for Entity<'_, T, R> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Entity", 3)?;
        st.serialize_field(self.key, self.name)?;
        st.serialize_field("totals", &self.totals)?;
        st.serialize_field("intervals", &self.rows)?;
        st.end()
    }
}

impl Serialize for Report<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Report", 9)?;
        st.serialize_field("version", &REPORT_VERSION)?;
        st.serialize_field("interval_seconds", &self.interval_seconds())?;
        st.serialize_field("timezone", self.timezone())?;
        st.serialize_field("from", &self.from.map(|t| self.time(t)))?;
        st.serialize_field("to", &self.to.map(|t| self.time(t)))?;
        st.serialize_field("input", &self.input)?;
        st.serialize_field(
            "queues",
            &Lazy(|| {
                self.queues.iter().map(|q| Entity {
                    key: "queue",
                    name: q.name.as_str(),
                    totals: q.totals_kpis(),
                    rows: Lazy(move || queue_rows(q, self.tz())),
                })
            }),
        )?;
        for (field, key, people) in [
            ("agents", "agent", &self.agents),
            ("teams", "team", &self.teams),
        ] {
            st.serialize_field(
                field,
                &Lazy(|| {
                    people.iter().map(|a| Entity {
                        key,
                        name: &a.name,
                        totals: self.agent_totals_kpis(a),
                        rows: Lazy(move || agent_rows(a, self.scheduled, self.tz())),
                    })
                }),
            )?;
        }
        st.end()
    }
}
