//! Engine checkpoints: the whole event-time state (open contacts, agent states, timers,
//! today's and the current interval's aggregates, rolling windows, the reorder buffer)
//! as one versioned document, so a restarted daemon continues as if it never stopped.

use super::{Engine, EngineOptions, QueueParams};
use crate::config::{Config, ConfigError};
use serde::{Deserialize, Serialize};

/// Checkpoint format version; a different version is refused, never misread.
pub const CHECKPOINT_VERSION: u32 = 5;

/// Why a checkpoint could not be written or used.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// Not a checkpoint, or a damaged one.
    #[error("checkpoint is unreadable: {0}")]
    Corrupt(#[from] serde_json::Error),
    /// Written by another format version.
    #[error("checkpoint format {found} is not {CHECKPOINT_VERSION}")]
    Version {
        /// The version found.
        found: u32,
    },
    /// The config changed in a way the saved windows cannot follow.
    #[error("checkpoint was taken with {key} = {saved}, the config now says {now}")]
    Incompatible {
        /// The config key.
        key: &'static str,
        /// Its value when the checkpoint was taken.
        saved: String,
        /// Its value now.
        now: String,
    },
    /// The config itself is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// What shapes the saved aggregates: restoring under different values would mix windows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Shape {
    timezone: String,
    interval_ms: i64,
    rolling_ms: Vec<i64>,
    granularity_ms: i64,
    sl_grace_ms: i64,
    rolling: bool,
}

impl Shape {
    fn of(cfg: &Config, opts: &EngineOptions) -> Self {
        Shape {
            timezone: cfg.timezone.clone(),
            interval_ms: cfg.interval.ms(),
            rolling_ms: cfg.windows.rolling.iter().map(|d| d.ms()).collect(),
            granularity_ms: cfg.windows.granularity.ms(),
            sl_grace_ms: opts.sl_grace_ms,
            rolling: opts.rolling,
        }
    }
}

#[derive(Serialize)]
struct EnvelopeRef<'a> {
    version: u32,
    shape: Shape,
    engine: &'a Engine,
}

#[derive(Deserialize)]
struct Envelope {
    shape: Shape,
    engine: Engine,
}

#[derive(Deserialize)]
struct VersionOnly {
    version: u32,
}

impl Engine {
    /// Serializes the engine's whole state (JSON, versioned).
    pub fn checkpoint(&self) -> Result<Vec<u8>, CheckpointError> {
        let mut out = Vec::new();
        self.checkpoint_to(&mut out)?;
        Ok(out)
    }

    /// [`Engine::checkpoint`] streamed into `out` (a file: no in-memory copy of a large
    /// state). An I/O error of `out` comes back as [`CheckpointError::Corrupt`] with
    /// `is_io()` set.
    pub fn checkpoint_to(&self, out: impl std::io::Write) -> Result<(), CheckpointError> {
        let env = EnvelopeRef {
            version: CHECKPOINT_VERSION,
            shape: Shape::of(&self.config, &self.opts),
            engine: self,
        };
        Ok(serde_json::to_writer(out, &env)?)
    }

    /// Rebuilds an engine from a checkpoint taken under a compatible config; queue
    /// settings and targets are taken from `cfg` (they may have changed).
    pub fn restore(
        cfg: &Config,
        opts: EngineOptions,
        bytes: &[u8],
    ) -> Result<Engine, CheckpointError> {
        let v: VersionOnly = serde_json::from_slice(bytes)?;
        if v.version != CHECKPOINT_VERSION {
            return Err(CheckpointError::Version { found: v.version });
        }
        let env: Envelope = serde_json::from_slice(bytes)?;
        let now = Shape::of(cfg, &opts);
        let saved = env.shape;
        let differs = |key: &'static str, a: String, b: String| {
            (a != b).then_some(CheckpointError::Incompatible {
                key,
                saved: a,
                now: b,
            })
        };
        let checks = [
            differs("timezone", saved.timezone.clone(), now.timezone.clone()),
            differs(
                "interval",
                format!("{}ms", saved.interval_ms),
                format!("{}ms", now.interval_ms),
            ),
            differs(
                "windows.rolling",
                format!("{:?}", saved.rolling_ms),
                format!("{:?}", now.rolling_ms),
            ),
            differs(
                "windows.granularity",
                format!("{}ms", saved.granularity_ms),
                format!("{}ms", now.granularity_ms),
            ),
            differs(
                "sl grace",
                format!("{}ms", saved.sl_grace_ms),
                format!("{}ms", now.sl_grace_ms),
            ),
            differs(
                "rolling windows",
                saved.rolling.to_string(),
                now.rolling.to_string(),
            ),
        ];
        if let Some(e) = checks.into_iter().flatten().next() {
            return Err(e);
        }
        let fresh = Engine::new(cfg, opts)?;
        let mut e = env.engine;
        e.opts = fresh.opts;
        e.cal = fresh.cal;
        e.config = fresh.config;
        e.orphan_ms = fresh.orphan_ms;
        e.rolling_lengths = fresh.rolling_lengths;
        e.granularity = fresh.granularity;
        e.reorder.set_limits(
            cfg.engine.allowed_lateness.ms(),
            cfg.engine.dedupe_horizon.ms(),
        );
        for q in &mut e.queues {
            let settings = cfg
                .queues
                .get(q.name.as_str())
                .map(|s| s.or(&cfg.defaults))
                .unwrap_or_else(|| cfg.defaults.clone());
            q.params = QueueParams::resolve(&settings);
            q.timeline.keep_rows(opts.keep_closed, opts.report_days);
            if let Some(r) = q.timeline.rolling.as_mut() {
                r.rebuild();
            }
        }
        for t in &mut e.teams {
            t.targets = cfg
                .teams
                .get(t.name.as_str())
                .map(|x| x.targets)
                .unwrap_or_default();
            t.timeline.keep_rows(opts.keep_closed, opts.report_days);
            if let Some(r) = t.timeline.rolling.as_mut() {
                r.rebuild();
            }
        }
        for a in &mut e.agents {
            a.own_targets = cfg
                .agents
                .get(a.name.as_str())
                .map(|x| x.targets)
                .unwrap_or_default();
            a.team_from_config = super::config_team(cfg, a.name.as_str()).is_some();
            a.timeline.keep_rows(opts.keep_closed, opts.report_days);
        }
        // Taken while a backlog was read: today's open intervals join their days now (a
        // restarted daemon that reads a backlog again defers them again).
        e.undefer_days();
        Ok(e)
    }
}
