//! Pure KPI formulas over mergeable counters (kpi-definitions §2–§3).
//!
//! Nothing here knows about time or events: the engine decides at which instant a
//! counter counts; these functions turn a window's counters into numbers. A ratio
//! with a zero denominator is `None` (JSON `null`), never 0 % or 100 %.

mod agent;
mod counters;
mod preset;
mod queue;
mod targets;

pub use agent::{AgentKpis, ScheduleKpis};
pub use counters::{AgentCounters, QueueCounters};
pub use preset::{GenesysSwitches, SlCounts, SlPreset};
pub use queue::{Percentiles, QueueKpis};
pub use targets::{Attainment, TargetResult};

/// `num / den`, or `None` when `den` is zero.
pub fn ratio(num: f64, den: f64) -> Option<f64> {
    (den != 0.0).then(|| num / den)
}

/// Milliseconds to seconds.
pub fn secs(ms: u64) -> f64 {
    ms as f64 / 1000.0
}
