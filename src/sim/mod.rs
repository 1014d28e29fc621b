//! A seeded, deterministic discrete-event simulation of a contact center: the demo data
//! of `ccpulse run`, the output of `ccpulse simulate`, and the load generator of benchmarks.
//!
//! [`Simulator`] is an iterator of canonical [`Event`](crate::model::Event)s in
//! non-decreasing time order. Memory depends on the center's size, not the run's length.

mod config;
mod engine;
mod names;

pub use config::{ArrivalProfile, SimBreak, SimConfig, SimQueue, SimTeam, DAY, DEFAULT_START};
pub use engine::Simulator;

/// Pushes a whole simulated run through `engine` and advances it to the last event's time,
/// which it returns (benchmarks and tests that need the snapshot of a realistic center).
pub fn run_through(
    engine: &mut crate::engine::Engine,
    cfg: &SimConfig,
) -> Result<crate::model::Millis, SimError> {
    let mut last = cfg.start;
    for e in Simulator::new(cfg)? {
        last = e.ts;
        // Refusals (late/duplicate) cannot happen on the simulator's ordered output;
        // they would only be counted anyway.
        let _ = engine.push(e);
    }
    engine.advance_to(last);
    Ok(last)
}

/// A configuration the simulator cannot run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SimError {
    /// A team names a queue that is not configured.
    #[error("team `{team}` serves unknown queue `{queue}`")]
    UnknownQueue {
        /// The team.
        team: String,
        /// The queue it names.
        queue: String,
    },
    /// A numeric parameter is out of range.
    #[error("invalid {what}: {value}")]
    Invalid {
        /// The parameter.
        what: &'static str,
        /// Its value.
        value: String,
    },
}
