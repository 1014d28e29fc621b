//! The built-in demo as a live source: [`SimConfig::demo`] played in real time from
//! "now" (the simulated day's start shifted to the clock's current time), accelerated by
//! the clock's speed.

use super::{Source, SourceError, SourceHandle, SourceTask};
use crate::config::{Config, Duration};
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

    /// The engine settings matching the simulated queues (their SL thresholds).
    pub fn engine_config(&self, base: &Config) -> Config {
        let mut cfg = base.clone();
        for q in &self.sim.queues {
            let settings = cfg.queues.entry(q.name.to_string()).or_default();
            if settings.sl_threshold.is_none() {
                settings.sl_threshold = Some(Duration(q.sl_threshold_ms));
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
