//! The schedule as of a watermark: what readers (`GET /api/v1/schedule`, `/metrics`,
//! the alert rules) see.

use super::import::RejectedRow;
use super::Activity;
use crate::model::{AgentStatus, Millis};
use serde::Serialize;

/// Where the schedule came from and what its import rejected.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportInfo {
    /// `file:<path>`, `api` or `none`.
    pub source: String,
    /// Rows accepted.
    pub accepted: usize,
    /// Rows rejected.
    pub rejected: usize,
    /// The first rejected rows with their line and reason.
    pub errors: Vec<RejectedRow>,
}

/// One team now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TeamSchedule {
    /// Team name (`""` for agents without a team).
    pub team: String,
    /// Agents scheduled to `work` now.
    pub scheduled: u32,
    /// The team's agents logged in now (scheduled or not).
    pub logged_in: u32,
    /// Scheduled agents now in their scheduled state.
    pub adherent: u32,
    /// Agents scheduled for anything now (work, break, meeting, ...).
    pub on_shift: u32,
    /// Adherent over scheduled time today, summed over the team's scheduled agents.
    pub adherence_today: Option<f64>,
}

/// One queue now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueueSchedule {
    /// Queue name.
    pub queue: String,
    /// Agents scheduled to `work` in this queue now.
    pub scheduled: u32,
    /// Agents serving the queue and logged in now.
    pub logged_in: u32,
    /// Required agents from the live staffing (Erlang C), if computed.
    pub required_agents: Option<u32>,
    /// `required − scheduled` (> 0: the schedule is short for the load).
    pub scheduled_staffing_gap: Option<i64>,
}

/// One scheduled agent now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentAdherence {
    /// Agent id.
    pub agent: String,
    /// Team: the schedule's, else the engine's; `""` when neither says.
    pub team: String,
    /// Scheduled activity now (`None`: not scheduled now).
    pub activity: Option<Activity>,
    /// Until when (event time, ms).
    pub activity_until_ms: Option<Millis>,
    /// Current state (`logged_out` for agents the engine has not seen).
    pub state: AgentStatus,
    /// Aux / logout reason.
    pub reason: Option<String>,
    /// In the scheduled state now (`None` when not scheduled now).
    pub adherent: Option<bool>,
    /// Adherent time today (seconds).
    pub adherent_seconds_today: f64,
    /// Scheduled time today up to the watermark (seconds).
    pub scheduled_seconds_today: f64,
    /// `adherent / scheduled` today (`None` without scheduled time).
    pub adherence_today: Option<f64>,
    /// Since when state changes are known (a restart loses what came before).
    pub tracked_since_ms: Option<Millis>,
    /// Seconds since the shift started without a login, once past `no_show_grace`.
    pub no_show_seconds: Option<f64>,
    /// Seconds since the scheduled break ended while still in aux, past `break_grace`.
    pub break_overrun_seconds: Option<f64>,
    /// While scheduled now and not adherent: since when without interruption,
    /// i.e. the start of the current run of non-adherence (at most back to the start of
    /// today's known states). Real-time adherence: who is out of their plan, how long.
    pub out_of_adherence_since_ms: Option<Millis>,
}

/// An agent who came back from a break or lunch later than `break_grace`.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct LateReturn {
    /// Agent id.
    pub agent: String,
    /// Team (as for [`AgentAdherence::team`]).
    pub team: String,
    /// When the break was scheduled to end (ms).
    pub break_end_ms: Millis,
    /// When the agent came back (ms).
    pub returned_at_ms: Millis,
    /// How late (seconds).
    pub late_seconds: f64,
}

/// Everything the schedule says as of a watermark.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ScheduleView {
    /// The snapshot watermark this view is for.
    pub watermark_ms: Option<Millis>,
    /// The loaded schedule's origin and import counts.
    pub import: ImportInfo,
    /// Per team, by name.
    pub teams: Vec<TeamSchedule>,
    /// Per queue, by name.
    pub queues: Vec<QueueSchedule>,
    /// Per scheduled agent, by id.
    pub agents: Vec<AgentAdherence>,
    /// Late returns of the last `late_return_hold`.
    pub late_returns: Vec<LateReturn>,
}

impl ScheduleView {
    /// Each agent's and team's adherence today that has a value (scheduled time so far).
    pub fn adherence_today(&self) -> crate::engine::AdherenceToday {
        crate::engine::AdherenceToday {
            agents: self
                .agents
                .iter()
                .filter_map(|a| a.adherence_today.map(|v| (a.agent.clone(), v)))
                .collect(),
            teams: self
                .teams
                .iter()
                .filter_map(|t| t.adherence_today.map(|v| (t.team.clone(), v)))
                .collect(),
        }
    }
}
