//! The built-in demo as a live source: [`SimConfig::demo`] played in real time from
//! "now" (the simulated day's start shifted to the clock's current time), accelerated by
//! the clock's speed.

use super::{Source, SourceError, SourceHandle, SourceTask};
use crate::config::{Config, Duration, Targets};
use crate::model::Millis;
use crate::runtime::{Clock, Shutdown};
use crate::sim::{SimConfig, Simulator, DAY};
use std::sync::Arc;

/// Plays the simulator against an injected clock.
pub struct SimulatorSource {
    sim: SimConfig,
    clock: Arc<dyn Clock>,
}

impl SimulatorSource {
    /// The demo center (seeded), running for a year of simulated days from now.
    pub fn demo(seed: u64, clock: Arc<dyn Clock>) -> Self {
        let mut sim = SimConfig::demo(seed);
        sim.duration_ms = 365 * DAY;
        Self::new(sim, clock)
    }

    /// Any simulated center; its `start` is mapped to the clock's time when it starts.
    pub fn new(sim: SimConfig, clock: Arc<dyn Clock>) -> Self {
        SimulatorSource { sim, clock }
    }

    /// The simulated teams' plan for a week as a schedule CSV, in the clock's time (the
    /// run plays its simulated start from now): the demo's schedule.
    pub fn schedule_csv(&self) -> String {
        self.sim
            .schedule_csv(8, self.clock.now_ms() - self.sim.start)
    }

    /// The engine settings matching the simulated queues (their SL thresholds), and
    /// targets for its teams that have none (AHT ≤ 6 min, occupancy 70–90 %, aux ≤ 20 %,
    /// adherence ≥ 90 %),
    /// so target attainment shows in the demo (`/api/v1/snapshot`, `/?targets=1`).
    pub fn engine_config(&self, base: &Config) -> Config {
        let mut cfg = base.clone();
        for q in &self.sim.queues {
            let settings = cfg.queues.entry(q.name.to_string()).or_default();
            if settings.sl_threshold.is_none() {
                settings.sl_threshold = Some(Duration(q.sl_threshold_ms));
            }
        }
        for t in &self.sim.teams {
            let team = cfg.teams.entry(t.name.to_string()).or_default();
            if team.targets == Targets::default() {
                team.targets = Targets {
                    aht: Some(Duration::mins(6)),
                    occupancy_min: Some(0.70),
                    occupancy_max: Some(0.90),
                    max_aux_share: Some(0.20),
                    adherence_min: Some(0.90),
                    ..Targets::default()
                };
            }
        }
        cfg
    }

    async fn play(self, handle: SourceHandle, mut shutdown: Shutdown) -> Result<(), SourceError> {
        let sim = Simulator::new(&self.sim).map_err(|e| SourceError::Config {
            source_name: "simulator".into(),
            message: e.to_string(),
        })?;
        let offset: Millis = self.clock.now_ms() - self.sim.start;
        handle.set_up(true);
        tracing::debug!(offset_ms = offset, "simulator: playing from now");
        for mut ev in sim {
            ev.ts += offset;
            if self.clock.now_ms() < ev.ts {
                tokio::select! {
                    biased;
                    _ = shutdown.wait() => return Ok(()),
                    _ = self.clock.sleep_until(ev.ts) => {}
                }
            }
            tokio::select! {
                biased;
                _ = shutdown.wait() => return Ok(()),
                sent = handle.send(ev) => sent?,
            }
        }
        // The simulated period is over: an idle, caught-up source (still up).
        shutdown.wait().await;
        Ok(())
    }
}

impl Source for SimulatorSource {
    fn name(&self) -> &str {
        "simulator"
    }

    fn run(self: Box<Self>, handle: SourceHandle, shutdown: Shutdown) -> SourceTask {
        Box::pin(self.play(handle, shutdown))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::ManualClock;

    #[test]
    fn the_demo_teams_get_targets_unless_the_config_sets_theirs() {
        let demo = SimulatorSource::demo(7, Arc::new(ManualClock::new(0)));
        let cfg = demo.engine_config(&Config::default());
        let names: Vec<&str> = demo.sim.teams.iter().map(|t| t.name.as_str()).collect();
        assert!(!names.is_empty());
        for name in &names {
            let t = cfg.teams.get(*name).map(|t| t.targets);
            assert_eq!(t.and_then(|t| t.aht), Some(Duration::mins(6)), "{name}");
            assert_eq!(t.and_then(|t| t.occupancy_min), Some(0.70), "{name}");
            assert_eq!(t.and_then(|t| t.adherence_min), Some(0.90), "{name}");
        }
        // A team the config already gives targets keeps exactly those.
        let mut base = Config::default();
        let own = Targets {
            aht: Some(Duration::mins(4)),
            ..Targets::default()
        };
        base.teams.entry(names[0].to_string()).or_default().targets = own;
        let cfg = demo.engine_config(&base);
        assert_eq!(cfg.teams.get(names[0]).map(|t| t.targets), Some(own));
        cfg.validate("<demo>").expect("a valid config");
    }
}
