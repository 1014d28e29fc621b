//! Typed configuration (TOML file + `CCPULSE__SECTION__KEY` environment overrides),
//! parsed and validated in one place so the rest of the code never sees bad values.

mod alerts;
mod duration;
mod schedule;
mod sources;

pub use alerts::{
    parse_quiet_hours, AlertsSection, OpConfig, ReceiverConfig, ReceiverKind, RuleConfig,
    SeverityConfig,
};
pub use duration::{parse_duration, Duration};
pub use schedule::ScheduleSection;
pub use sources::{
    check_ws_url, SourceConfig, SourceFormat, SourceKind, StartAt, DEFAULT_MAX_FRAME_BYTES,
};

use crate::kpi::{GenesysSwitches, SlPreset};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A configuration error, naming the file and the key.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{file}: {key}: {message}")]
pub struct ConfigError {
    /// The config file (or `<defaults>` / `<command line>`).
    pub file: String,
    /// The offending key (dotted path), empty when the file as a whole is wrong.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// IANA time zone for "today" and interval alignment (e.g. `Europe/Berlin`).
    pub timezone: String,
    /// Report / current interval length (15m, 30m or 60m are usual; must divide a day;
    /// 24h is the local day, 23 or 25 hours on DST days; 7d is the local week from
    /// Monday 00:00).
    pub interval: Duration,
    /// Rolling windows.
    pub windows: WindowsConfig,
    /// Event-time handling.
    pub engine: EngineSection,
    /// Settings for queues the config does not name, and defaults for those it does.
    pub defaults: QueueSettings,
    /// Per-queue overrides, by queue name.
    pub queues: BTreeMap<String, QueueSettings>,
    /// Teams, by name.
    pub teams: BTreeMap<String, TeamConfig>,
    /// Per-agent settings, by agent id as the ACD names it.
    pub agents: BTreeMap<String, AgentConfig>,
    /// Live staffing: required agents (Erlang C) against agents staffed per queue.
    pub staffing: StaffingSection,
    /// The live daemon (`ccpulse run`).
    pub daemon: DaemonSection,
    /// Inputs of the live daemon (`[[sources]]`); when any is set the demo is off unless
    /// `daemon.demo = true`.
    pub sources: Vec<SourceConfig>,
    /// The Prometheus exposition (`GET /metrics`).
    pub metrics: MetricsSection,
    /// Access control of the HTTP API.
    pub auth: AuthSection,
    /// The `/ws` wallboard feed.
    pub feed: FeedSection,
    /// The push ingest endpoints (`POST /api/v1/events`, `GET /api/v1/ingest`).
    pub ingest: IngestSection,
    /// The team schedule and its adherence / exception settings.
    pub schedule: ScheduleSection,
    /// Alert rules and notification receivers (`[alerts]`, docs/alerts.md).
    pub alerts: AlertsSection,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            timezone: "UTC".into(),
            interval: Duration::mins(15),
            windows: WindowsConfig::default(),
            engine: EngineSection::default(),
            defaults: QueueSettings::builtin(),
            queues: BTreeMap::new(),
            teams: BTreeMap::new(),
            agents: BTreeMap::new(),
            staffing: StaffingSection::default(),
            daemon: DaemonSection::default(),
            sources: Vec::new(),
            metrics: MetricsSection::default(),
            auth: AuthSection::default(),
            feed: FeedSection::default(),
            ingest: IngestSection::default(),
            schedule: ScheduleSection::default(),
            alerts: AlertsSection::default(),
        }
    }
}

/// `[auth]`: when `token` is set, ingest endpoints require `Authorization: Bearer <token>`
/// and read endpoints (`/ws`, `GET /api/v1/*`) require the header, `?token=<token>` or a
/// read ticket (`?ticket=`, `POST /api/v1/tickets`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthSection {
    /// The shared secret; unset: no authentication (the default listen address is local).
    pub token: Option<String>,
    /// How long the board and acknowledge links in chat alerts (Slack, Teams) stay valid:
    /// they carry a ticket of this life when a token is set (`0s`: links without one).
    pub link_tickets: Duration,
}

impl Default for AuthSection {
    fn default() -> Self {
        AuthSection {
            token: None,
            link_tickets: Duration::mins(12 * 60),
        }
    }
}

/// `[feed]`: the `/ws` wallboard feed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FeedSection {
    /// A `heartbeat` frame (and a websocket ping) after this long without a frame.
    pub heartbeat: Duration,
    /// A client whose socket has not taken a frame for this long, or that has sent nothing
    /// (not even a pong) for three heartbeats and this long, is disconnected.
    pub send_timeout: Duration,
    /// permessage-deflate for screens that offer it (every browser does): a state frame is
    /// deflated once per tick and filter, ~6x fewer bytes on the network.
    pub compression: bool,
}

impl Default for FeedSection {
    fn default() -> Self {
        FeedSection {
            heartbeat: Duration::secs(15),
            send_timeout: Duration::secs(10),
            compression: true,
        }
    }
}

/// `[ingest]`: bounds of the push ingest endpoints.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IngestSection {
    /// Largest `POST /api/v1/events` body in bytes (larger: 413).
    pub max_body_bytes: usize,
}

impl Default for IngestSection {
    fn default() -> Self {
        IngestSection {
            max_body_bytes: 1 << 20,
        }
    }
}

/// The Prometheus exposition (`GET /metrics`, docs/metrics.md).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsSection {
    /// Also export per-agent series (`ccpulse_agent_*`). Off by default: one series set
    /// per agent is a cardinality cost; per-agent detail lives on the feed and the API.
    pub per_agent: bool,
}

/// The live daemon (`ccpulse run`): where it listens and how often it publishes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DaemonSection {
    /// HTTP listen address (`--listen` overrides); 127.0.0.1 by default so nothing is exposed.
    pub listen: String,
    /// How often the engine advances with the wall clock and publishes a snapshot.
    pub tick: Duration,
    /// Run the built-in simulator as a source; unset: on when no `[[sources]]` is configured.
    pub demo: Option<bool>,
    /// Capacity of the bounded channel from the sources to the engine, in events.
    pub channel_capacity: usize,
    /// Where the daemon keeps its state between runs (file source offsets, engine state).
    pub data_dir: PathBuf,
    /// How often the engine state is checkpointed into `data_dir` (and at shutdown).
    pub checkpoint_interval: Duration,
    /// Local days of closed interval rows kept for `GET /api/v1/report` (today and
    /// yesterday by default; day sums for weekly reports are kept at least 14 days);
    /// 0 keeps none.
    pub report_days: u32,
}

impl Default for DaemonSection {
    fn default() -> Self {
        DaemonSection {
            listen: "127.0.0.1:8080".into(),
            tick: Duration::secs(1),
            demo: None,
            channel_capacity: 65_536,
            data_dir: PathBuf::from("./ccpulse-data"),
            checkpoint_interval: Duration::secs(10),
            report_days: 2,
        }
    }
}

/// Rolling-window settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WindowsConfig {
    /// Window lengths (default 5, 15, 30, 60 minutes).
    pub rolling: Vec<Duration>,
    /// The step the windows slide by (default 10 s); every length must be a multiple.
    pub granularity: Duration,
}

impl Default for WindowsConfig {
    fn default() -> Self {
        WindowsConfig {
            rolling: vec![
                Duration::mins(5),
                Duration::mins(15),
                Duration::mins(30),
                Duration::mins(60),
            ],
            granularity: Duration::secs(10),
        }
    }
}

/// Event-time handling.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EngineSection {
    /// How far out of order events may arrive; later ones are counted as late and dropped.
    pub allowed_lateness: Duration,
    /// A contact with no outcome (or no end) after this long is closed and counted as orphaned.
    pub orphan_timeout: Duration,
    /// How long event ids are remembered to drop duplicates from at-least-once sources.
    pub dedupe_horizon: Duration,
}

impl Default for EngineSection {
    fn default() -> Self {
        EngineSection {
            allowed_lateness: Duration::secs(2),
            orphan_timeout: Duration::mins(240),
            dedupe_horizon: Duration::mins(10),
        }
    }
}

/// How the live staffing gap is computed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StaffingSection {
    /// Trailing window for the measured arrival rate and AHT; one of `windows.rolling`.
    pub window: Duration,
    /// AHT assumed while the window has too few handled contacts and today has none.
    pub default_aht: Duration,
    /// Handled contacts the window needs before its own AHT is trusted (else today's).
    pub min_handled: u64,
    /// Optional occupancy cap for the required agents (e.g. 0.85).
    pub max_occupancy: Option<f64>,
}

impl Default for StaffingSection {
    fn default() -> Self {
        StaffingSection {
            window: Duration::mins(30),
            default_aht: Duration::secs(180),
            min_handled: 5,
            max_occupancy: None,
        }
    }
}

/// Per-queue settings; in `[defaults]` every key has a value, in `[queues.X]` each is optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QueueSettings {
    /// Service-level threshold `T` (default 20 s).
    pub sl_threshold: Option<Duration>,
    /// Short-abandon threshold `S` (default 5 s, 0 disables); must not exceed `T`.
    pub short_abandon: Option<Duration>,
    /// Which service-level formula the headline number uses.
    pub sl_preset: Option<SlPreset>,
    /// `sl_preset = "genesys"`: abandons count in the denominator (default true).
    pub sl_include_abandons: Option<bool>,
    /// `sl_preset = "genesys"`: short abandons count too (default true).
    pub sl_include_short_abandons: Option<bool>,
    /// `sl_preset = "genesys"`: flow-outs (exits) count (default false).
    pub sl_include_flowouts: Option<bool>,
    /// The service-level target as a ratio (0.8 = 80 %).
    pub sl_target: Option<f64>,
    /// Wrap-up (ACW) time for agents whose states are derived from contact events (queue_log).
    pub wrap_up: Option<Duration>,
}

impl QueueSettings {
    /// The built-in defaults: 80 % in 20 s, short abandons under 5 s, Cisco type 2.
    pub fn builtin() -> Self {
        QueueSettings {
            sl_threshold: Some(Duration::secs(20)),
            short_abandon: Some(Duration::secs(5)),
            sl_preset: Some(SlPreset::CiscoType2),
            sl_include_abandons: None,
            sl_include_short_abandons: None,
            sl_include_flowouts: None,
            sl_target: Some(0.8),
            wrap_up: Some(Duration(0)),
        }
    }

    /// `self` with unset keys taken from `base`.
    pub fn or(&self, base: &QueueSettings) -> QueueSettings {
        QueueSettings {
            sl_threshold: self.sl_threshold.or(base.sl_threshold),
            short_abandon: self.short_abandon.or(base.short_abandon),
            sl_preset: self.sl_preset.or(base.sl_preset),
            sl_include_abandons: self.sl_include_abandons.or(base.sl_include_abandons),
            sl_include_short_abandons: self
                .sl_include_short_abandons
                .or(base.sl_include_short_abandons),
            sl_include_flowouts: self.sl_include_flowouts.or(base.sl_include_flowouts),
            sl_target: self.sl_target.or(base.sl_target),
            wrap_up: self.wrap_up.or(base.wrap_up),
        }
    }

    /// The preset with its switches: a Genesys preset takes the `sl_include_*` keys.
    pub fn preset(&self) -> SlPreset {
        match self.sl_preset.unwrap_or_default() {
            SlPreset::Genesys(d) => SlPreset::Genesys(GenesysSwitches {
                abandons: self.sl_include_abandons.unwrap_or(d.abandons),
                short_abandons: self.sl_include_short_abandons.unwrap_or(d.short_abandons),
                flowouts: self.sl_include_flowouts.unwrap_or(d.flowouts),
            }),
            p => p,
        }
    }
}

/// A team: its members and the targets its agents are measured against.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TeamConfig {
    /// Agent ids (as the ACD names them) in this team.
    pub agents: Vec<String>,
    /// Targets for every agent of the team (each overridable per agent).
    pub targets: Targets,
}

/// Per-agent settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AgentConfig {
    /// The agent's team (overrides team membership lists).
    pub team: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// Targets overriding the team's, key by key.
    pub targets: Targets,
}

/// Agent targets; each is optional and evaluated only when set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Targets {
    /// Average handle time at most this.
    pub aht: Option<Duration>,
    /// Average after-contact work at most this.
    pub avg_acw: Option<Duration>,
    /// Occupancy at least this ratio.
    pub occupancy_min: Option<f64>,
    /// Occupancy at most this ratio.
    pub occupancy_max: Option<f64>,
    /// Handled contacts per logged-in hour, at least.
    pub handled_per_hour: Option<f64>,
    /// Share of logged-in time in aux, at most.
    pub max_aux_share: Option<f64>,
    /// Schedule adherence, at least this ratio: today's in the daemon, each report row's in
    /// `replay --schedule`; nothing to measure without a schedule.
    pub adherence_min: Option<f64>,
}

impl Targets {
    /// `self` with unset keys taken from `base`.
    pub fn or(&self, base: &Targets) -> Targets {
        Targets {
            aht: self.aht.or(base.aht),
            avg_acw: self.avg_acw.or(base.avg_acw),
            occupancy_min: self.occupancy_min.or(base.occupancy_min),
            occupancy_max: self.occupancy_max.or(base.occupancy_max),
            handled_per_hour: self.handled_per_hour.or(base.handled_per_hour),
            max_aux_share: self.max_aux_share.or(base.max_aux_share),
            adherence_min: self.adherence_min.or(base.adherence_min),
        }
    }

    /// True when no target is set.
    pub fn is_empty(&self) -> bool {
        *self == Targets::default()
    }
}

impl Config {
    /// The alert rules in force (built-ins merged with `[[alerts.rules]]`); `file` names
    /// the source in errors.
    pub fn alert_rules(&self, file: &str) -> Result<Vec<crate::alerts::Rule>, ConfigError> {
        let err = |key: &str, message: String| ConfigError {
            file: file.to_string(),
            key: key.to_string(),
            message,
        };
        self.alerts.rules(&self.windows.rolling, &err)
    }

    /// Loads a TOML file, applies `CCPULSE__…` environment overrides and validates.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let file = path.display().to_string();
        if !path.exists() {
            return Err(ConfigError {
                file,
                key: String::new(),
                message: "file not found".into(),
            });
        }
        let built = config::Config::builder()
            .add_source(config::File::from(path).format(config::FileFormat::Toml))
            .add_source(
                config::Environment::with_prefix("CCPULSE")
                    .prefix_separator("__")
                    .separator("__"),
            )
            .build()
            .map_err(|e| from_config_crate(&file, e))?;
        let cfg: Config = built
            .try_deserialize()
            .map_err(|e| from_config_crate(&file, e))?;
        cfg.validate(&file)?;
        Ok(cfg)
    }

    /// Checks cross-field rules; `file` names the source in errors.
    pub fn validate(&self, file: &str) -> Result<(), ConfigError> {
        let err = |key: &str, message: String| ConfigError {
            file: file.to_string(),
            key: key.to_string(),
            message,
        };
        if jiff::tz::TimeZone::get(&self.timezone).is_err() {
            return Err(err(
                "timezone",
                format!(
                    "unknown time zone `{}` (use an IANA name such as Europe/Berlin)",
                    self.timezone
                ),
            ));
        }
        let day = 86_400_000;
        let iv = self.interval.ms();
        if iv < 60_000 || (day % iv != 0 && iv != 7 * day) {
            return Err(err(
                "interval",
                format!(
                    "{} must be at least 1m and divide a day (15m, 30m, 60m, ... 24h), or be 7d \
                     (the local week from Monday)",
                    self.interval
                ),
            ));
        }
        let g = self.windows.granularity.ms();
        if g < 1000 {
            return Err(err("windows.granularity", "must be at least 1s".into()));
        }
        for (i, w) in self.windows.rolling.iter().enumerate() {
            if w.ms() <= 0 || w.ms() % g != 0 {
                return Err(err(
                    &format!("windows.rolling[{i}]"),
                    format!(
                        "{w} must be a positive multiple of the granularity {}",
                        self.windows.granularity
                    ),
                ));
            }
            if w.ms() > day {
                return Err(err(
                    &format!("windows.rolling[{i}]"),
                    format!("{w} is longer than a day"),
                ));
            }
        }
        if !self.windows.rolling.contains(&self.staffing.window) {
            return Err(err(
                "staffing.window",
                format!("{} is not one of windows.rolling", self.staffing.window),
            ));
        }
        if self.staffing.default_aht.ms() <= 0 {
            return Err(err("staffing.default_aht", "must be positive".into()));
        }
        if let Some(cap) = self.staffing.max_occupancy {
            if !(cap > 0.0 && cap <= 1.0) {
                return Err(err(
                    "staffing.max_occupancy",
                    format!("{cap} must be a ratio in (0, 1]"),
                ));
            }
        }
        if self.engine.orphan_timeout.ms() < 60_000 {
            return Err(err("engine.orphan_timeout", "must be at least 1m".into()));
        }
        if self.daemon.listen.parse::<std::net::SocketAddr>().is_err() {
            return Err(err(
                "daemon.listen",
                format!(
                    "`{}` is not an address with a port (e.g. 127.0.0.1:8080)",
                    self.daemon.listen
                ),
            ));
        }
        let tick = self.daemon.tick.ms();
        if !(100..=60_000).contains(&tick) {
            return Err(err(
                "daemon.tick",
                format!("{} must be between 100ms and 1m", self.daemon.tick),
            ));
        }
        if !(16..=16_777_216).contains(&self.daemon.channel_capacity) {
            return Err(err(
                "daemon.channel_capacity",
                format!(
                    "{} must be between 16 and 16777216 events",
                    self.daemon.channel_capacity
                ),
            ));
        }
        if self.daemon.data_dir.as_os_str().is_empty() {
            return Err(err("daemon.data_dir", "must name a directory".into()));
        }
        sources::check_sources(&self.sources, &err)?;
        self.schedule.check(&err)?;
        if self
            .auth
            .token
            .as_deref()
            .is_some_and(|t| t.trim().is_empty())
        {
            return Err(err(
                "auth.token",
                "must not be empty (remove it to turn auth off)".into(),
            ));
        }
        if self.auth.link_tickets.ms() > crate::auth::MAX_TICKET_MS {
            return Err(err(
                "auth.link_tickets",
                "must be at most 30 days (a read ticket's longest life)".into(),
            ));
        }
        for (key, d) in [
            ("feed.heartbeat", self.feed.heartbeat),
            ("feed.send_timeout", self.feed.send_timeout),
        ] {
            if !(100..=300_000).contains(&d.ms()) {
                return Err(err(key, format!("{d} must be between 100ms and 5m")));
            }
        }
        if !(1024..=(64 << 20)).contains(&self.ingest.max_body_bytes) {
            return Err(err(
                "ingest.max_body_bytes",
                format!(
                    "{} must be between 1024 and 67108864 bytes",
                    self.ingest.max_body_bytes
                ),
            ));
        }
        self.alerts.check_receivers(&err)?;
        self.alerts.rules(&self.windows.rolling, &err)?;
        let defaults = self.defaults.or(&QueueSettings::builtin());
        check_queue(&defaults, "defaults", &err)?;
        check_switches(&self.defaults, defaults.sl_preset, "defaults", &err)?;
        for (name, q) in &self.queues {
            let merged = q.or(&self.defaults).or(&QueueSettings::builtin());
            let at = format!("queues.{name}");
            check_queue(&merged, &at, &err)?;
            check_switches(q, merged.sl_preset, &at, &err)?;
        }
        for (name, t) in &self.teams {
            check_targets(&t.targets, &format!("teams.{name}.targets"), &err)?;
        }
        for (name, a) in &self.agents {
            check_targets(&a.targets, &format!("agents.{name}.targets"), &err)?;
            if let Some(team) = &a.team {
                if !self.teams.contains_key(team) {
                    return Err(err(
                        &format!("agents.{name}.team"),
                        format!("team `{team}` is not defined under [teams]"),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The Genesys switches `own` sets itself (not inherited from `[defaults]`, where a
/// queue under another preset ignores them) must come with the `genesys` preset.
fn check_switches(
    own: &QueueSettings,
    preset: Option<SlPreset>,
    at: &str,
    err: &dyn Fn(&str, String) -> ConfigError,
) -> Result<(), ConfigError> {
    if matches!(preset, Some(SlPreset::Genesys(_))) {
        return Ok(());
    }
    for (key, v) in [
        ("sl_include_abandons", own.sl_include_abandons),
        ("sl_include_short_abandons", own.sl_include_short_abandons),
        ("sl_include_flowouts", own.sl_include_flowouts),
    ] {
        if v.is_some() {
            return Err(err(
                &format!("{at}.{key}"),
                format!(
                    "applies to sl_preset = \"genesys\" only (the preset here is {})",
                    preset.unwrap_or_default()
                ),
            ));
        }
    }
    Ok(())
}

fn check_queue(
    q: &QueueSettings,
    at: &str,
    err: &dyn Fn(&str, String) -> ConfigError,
) -> Result<(), ConfigError> {
    let t = q.sl_threshold.unwrap_or_default();
    let s = q.short_abandon.unwrap_or_default();
    if s > t {
        return Err(err(
            &format!("{at}.short_abandon"),
            format!("{s} exceeds the service-level threshold {t}"),
        ));
    }
    if let Some(target) = q.sl_target {
        if !(target > 0.0 && target <= 1.0) {
            return Err(err(
                &format!("{at}.sl_target"),
                format!("{target} must be a ratio in (0, 1], e.g. 0.8 for 80 %"),
            ));
        }
    }
    Ok(())
}

fn check_targets(
    t: &Targets,
    at: &str,
    err: &dyn Fn(&str, String) -> ConfigError,
) -> Result<(), ConfigError> {
    for (key, v) in [
        ("occupancy_min", t.occupancy_min),
        ("occupancy_max", t.occupancy_max),
        ("max_aux_share", t.max_aux_share),
        ("adherence_min", t.adherence_min),
    ] {
        if let Some(v) = v {
            if !(0.0..=1.0).contains(&v) {
                return Err(err(
                    &format!("{at}.{key}"),
                    format!("{v} must be a ratio in [0, 1]"),
                ));
            }
        }
    }
    if let (Some(lo), Some(hi)) = (t.occupancy_min, t.occupancy_max) {
        if lo > hi {
            return Err(err(
                &format!("{at}.occupancy_min"),
                format!("{lo} exceeds occupancy_max {hi}"),
            ));
        }
    }
    if let Some(h) = t.handled_per_hour {
        if !(h.is_finite() && h >= 0.0) {
            return Err(err(
                &format!("{at}.handled_per_hour"),
                format!("{h} must be ≥ 0"),
            ));
        }
    }
    Ok(())
}

fn from_config_crate(file: &str, e: config::ConfigError) -> ConfigError {
    let message = e.to_string();
    // The config crate names the key as "for key `a.b`" in type errors.
    let key = message
        .split("for key `")
        .nth(1)
        .and_then(|rest| rest.split('`').next())
        .unwrap_or_default()
        .to_string();
    let key = if key.is_empty() {
        message
            .split("unknown field `")
            .nth(1)
            .and_then(|rest| rest.split('`').next())
            .unwrap_or_default()
            .to_string()
    } else {
        key
    };
    ConfigError {
        file: file.to_string(),
        key,
        message,
    }
}

#[cfg(test)]
mod tests;
