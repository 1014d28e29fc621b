//! Alert rules evaluated on published snapshots, off the engine's path: a breach must
//! last `for` before firing, clears only past a separate threshold (hysteresis), repeats
//! at an interval until acknowledged, and stays quiet during quiet hours.
//!
//! Time is the snapshot's watermark (event time): replaying a day gives the same alerts.

mod eval;
pub mod notify;
pub mod persist;
mod rule;
mod scope;
mod task;
mod text;

pub use eval::{AlertEngine, AlertEvent, AlertKind, AlertView, SavedAlert};
pub use rule::{
    default_rules, schedule_and_source_rules, AlertInputs, Comparison, Measured, Metric,
    QuietHours, Rule, Severity, SourceHealth, StateFilter, ThresholdUnit,
};
pub use scope::ScopeFilter;
pub use task::{spawn, spawn_with, AlertContext, SharedAlerts};
pub use text::Unit;
