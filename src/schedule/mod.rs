//! The team schedule: imported from CSV, compared in event time with what agents do.
//!
//! - [`import`] parses `agent,start,end,activity[,team][,queues]` rows (bad rows are
//!   counted with their line number, never fatal) into a [`Schedule`] ([`plan`]: one
//!   flattened, non-overlapping timeline per agent).
//! - [`adherence`] says which agent states match which activity.
//! - [`tracker`] follows every agent state change (the engine's
//!   [`crate::engine::AgentTransition`]s) and, at each snapshot's watermark, computes
//!   the [`ScheduleView`] ([`view`]): scheduled vs logged-in agents per team and queue,
//!   adherence now and over today, no-shows, break overruns, late returns and the
//!   scheduled staffing gap. It runs in the alert task, off the engine's path.
//! - [`ledger`] sums adherent and scheduled time per agent and report interval for
//!   `ccpulse replay --schedule`.
//! - [`live`] holds it for the daemon: reload on the file's mtime, `PUT` replacement,
//!   the latest view for `/metrics` and `GET /api/v1/schedule`.

pub mod adherence;
pub mod import;
pub mod ledger;
pub mod live;
pub mod plan;
pub mod tracker;
pub mod view;

pub use import::{parse_csv, ImportReport, RejectedRow};
pub use live::{DayLedger, PlannedTeams, ScheduleService, SharedSchedule};
pub use plan::{AgentPlan, Schedule, Segment, Span};
pub use tracker::{ScheduleSettings, Tracker};
pub use view::{AgentAdherence, LateReturn, QueueSchedule, ScheduleView, TeamSchedule};

use serde::Serialize;

/// What an agent is scheduled to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Activity {
    /// Taking contacts: available, ringing, on a contact or in after-contact work.
    Work,
    /// A short break.
    Break,
    /// Lunch.
    Lunch,
    /// A meeting.
    Meeting,
    /// Training.
    Training,
    /// Coaching.
    Coaching,
    /// Not scheduled (a hole in a shift, e.g. an unpaid lunch): not counted.
    Off,
}

impl Activity {
    /// Every activity, in the CSV's spelling.
    pub const NAMES: [&'static str; 7] = [
        "work", "break", "lunch", "meeting", "training", "coaching", "off",
    ];

    /// Every activity (same order as [`Activity::NAMES`]).
    pub const ALL: [Activity; 7] = [
        Activity::Work,
        Activity::Break,
        Activity::Lunch,
        Activity::Meeting,
        Activity::Training,
        Activity::Coaching,
        Activity::Off,
    ];

    /// The CSV / JSON spelling.
    pub fn as_str(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    /// Parses a CSV value (case-insensitive).
    pub fn parse(s: &str) -> Option<Activity> {
        let s = s.trim();
        Self::NAMES
            .iter()
            .position(|n| n.eq_ignore_ascii_case(s))
            .and_then(|i| Self::ALL.get(i).copied())
    }

    /// Break or lunch: the activities whose end is watched for overruns.
    pub fn is_break(self) -> bool {
        matches!(self, Activity::Break | Activity::Lunch)
    }
}
