//! `ccpulse simulate`: writes the simulated contact center's events as JSON lines v1 or
//! Asterisk queue_log.
//!
//! Defaults: the demo center (`SimConfig::demo`), 8 h from today 08:00 UTC, seed 1.
//! Output is byte-identical for the same arguments only when `--start` is given (the
//! default start moves with the date). `--queues`/`--agents` select the scaled load-test
//! center (the missing one defaults to 10 agents per queue).

use super::UsageError;
use anyhow::Context;
use ccpulse::encode::jsonl::JsonlWriter;
use ccpulse::encode::queue_log::QueueLogWriter;
use ccpulse::model::Millis;
use ccpulse::sim::{SimConfig, Simulator};
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

/// Output format of `ccpulse simulate`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SimFormat {
    /// JSON lines, schema v1.
    Jsonl,
    /// Asterisk queue_log pipe lines.
    #[value(name = "queue_log", alias = "queue-log")]
    QueueLog,
}

/// Arguments of `ccpulse simulate`.
#[derive(clap::Args, Debug)]
pub struct SimulateArgs {
    /// Simulated time span (`8h`, `30m`, `90s`, `1h30m`).
    #[arg(long, default_value = "8h")]
    pub duration: String,
    /// RNG seed: the same seed and arguments give the same output.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = SimFormat::Jsonl)]
    pub format: SimFormat,
    /// Arrival-rate multiplier (1.0 = the configured traffic).
    #[arg(long, default_value_t = 1.0)]
    pub rate: f64,
    /// Start: RFC 3339 timestamp, or a date (`2026-11-28` = 08:00 UTC that day).
    /// Default: today 08:00 UTC.
    #[arg(long)]
    pub start: Option<String>,
    /// Number of queues of the scaled load-test center.
    #[arg(long)]
    pub queues: Option<usize>,
    /// Number of agents of the scaled load-test center.
    #[arg(long)]
    pub agents: Option<usize>,
    /// Stop after this many events.
    #[arg(long)]
    pub events: Option<u64>,
    /// Give every event a unique `id` (JSON lines).
    #[arg(long)]
    pub ids: bool,
    /// Output file (default stdout).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Publish to this NATS server's JetStream (`nats://host[:port]`) instead of writing
    /// (the bus source's demo and load generator).
    #[arg(long, value_name = "URL")]
    pub nats: Option<String>,
    /// With `--nats`: the stream, created on `--subject` if it does not exist.
    #[arg(long, default_value = "ACD", requires = "nats")]
    pub stream: String,
    /// With `--nats`: the subject of every message.
    #[arg(long, default_value = "acd.sim", requires = "nats")]
    pub subject: String,
    /// With `--nats`: lines per message.
    #[arg(long, default_value_t = 100, requires = "nats")]
    pub lines_per_message: usize,
    /// Also write the teams' plan (the schedule CSV the agents are meant to follow, for
    /// `replay --schedule` or `[schedule] file`) to this file.
    #[arg(long)]
    pub schedule: Option<PathBuf>,
}

/// Runs the subcommand.
pub fn run(args: SimulateArgs) -> anyhow::Result<()> {
    let cfg = build_config(&args)?;
    let sim = Simulator::new(&cfg).map_err(|e| UsageError(e.to_string()))?;
    if let Some(p) = &args.schedule {
        // From the day before the start (agents on a night shift) to the day after the end.
        let days = cfg.duration_ms.div_euclid(86_400_000) + 3;
        std::fs::write(p, cfg.schedule_csv(days, 0))
            .with_context(|| format!("writing {}", p.display()))?;
    }
    let limit = args.events.unwrap_or(u64::MAX);
    if let Some(url) = &args.nats {
        if args.output.is_some() {
            return Err(UsageError("--nats and --output exclude each other".into()).into());
        }
        if args.lines_per_message == 0 {
            return Err(UsageError("--lines-per-message must be at least 1".into()).into());
        }
        let target = super::bus_publish::BusTarget {
            url: url.clone(),
            stream: args.stream.clone(),
            subject: args.subject.clone(),
        };
        let events = sim.take(usize::try_from(limit).unwrap_or(usize::MAX));
        let stored = super::bus_publish::publish(
            &target,
            messages(events, args.format, args.lines_per_message),
        )?;
        tracing::info!(messages = stored, stream = %target.stream, subject = %target.subject, "published");
        return Ok(());
    }
    let sink: Box<dyn Write> = match &args.output {
        Some(p) => {
            Box::new(std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?)
        }
        None => Box::new(io::stdout().lock()),
    };
    let mut w = BufWriter::with_capacity(1 << 20, sink);
    match write_events(sim, args.format, limit, &mut w).and_then(|()| w.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        r => r.context("writing events"),
    }
}

/// Encodes up to `limit` events; events the format cannot express are skipped.
fn write_events(
    sim: Simulator,
    format: SimFormat,
    limit: u64,
    w: &mut impl Write,
) -> io::Result<()> {
    let mut buf = Vec::with_capacity(1 << 16);
    let mut jsonl = JsonlWriter::new();
    let mut qlog = QueueLogWriter::new();
    for ev in sim.take(usize::try_from(limit).unwrap_or(usize::MAX)) {
        let _skipped = match format {
            SimFormat::Jsonl => jsonl.write(&ev, &mut buf),
            SimFormat::QueueLog => qlog.write(&ev, &mut buf),
        };
        if buf.len() >= 1 << 15 {
            w.write_all(&buf)?;
            buf.clear();
        }
    }
    w.write_all(&buf)
}

/// The events encoded in `format`, `per_message` lines to a message (events the format
/// cannot express are skipped).
fn messages(
    events: impl Iterator<Item = ccpulse::model::Event>,
    format: SimFormat,
    per_message: usize,
) -> impl Iterator<Item = Vec<u8>> {
    let mut jsonl = JsonlWriter::new();
    let mut qlog = QueueLogWriter::new();
    let mut events = events.peekable();
    std::iter::from_fn(move || {
        let mut buf = Vec::new();
        let mut lines = 0;
        while lines < per_message {
            let ev = events.next()?;
            let before = buf.len();
            let _skipped = match format {
                SimFormat::Jsonl => jsonl.write(&ev, &mut buf),
                SimFormat::QueueLog => qlog.write(&ev, &mut buf),
            };
            lines += usize::from(buf.len() > before);
            if events.peek().is_none() {
                break;
            }
        }
        (!buf.is_empty()).then_some(buf)
    })
}

/// The simulator configuration the arguments describe.
pub fn build_config(args: &SimulateArgs) -> anyhow::Result<SimConfig> {
    let duration_ms = parse_duration(&args.duration)?;
    if !(args.rate.is_finite() && args.rate >= 0.0) {
        return Err(UsageError(format!(
            "--rate must be a non-negative number, got {}",
            args.rate
        ))
        .into());
    }
    let start = match &args.start {
        Some(s) => parse_start(s)?,
        None => default_start()?,
    };
    let mut cfg = match (args.queues, args.agents) {
        (None, None) => SimConfig::demo(args.seed),
        (q, a) => {
            let queues = q.unwrap_or_else(|| a.unwrap_or(10).div_ceil(10)).max(1);
            let agents = a.unwrap_or(queues * 10);
            if agents == 0 {
                return Err(UsageError("--agents must be at least 1".into()).into());
            }
            SimConfig::scaled(queues, agents, args.seed)
        }
    };
    cfg.start = start;
    cfg.duration_ms = duration_ms;
    cfg.rate_scale = args.rate;
    cfg.event_ids = args.ids;
    Ok(cfg)
}

/// Parses `8h`, `30m`, `90s`, `1h30m`, `500ms` (jiff's friendly format) into ms.
pub fn parse_duration(s: &str) -> Result<Millis, UsageError> {
    let d: jiff::SignedDuration = s
        .trim()
        .parse()
        .map_err(|e| UsageError(format!("invalid duration `{s}`: {e}")))?;
    let ms = d.as_millis();
    if ms < 0 {
        return Err(UsageError(format!("duration `{s}` is negative")));
    }
    i64::try_from(ms).map_err(|_| UsageError(format!("duration `{s}` is too long")))
}

/// Parses an RFC 3339 timestamp, or a date meaning 08:00 UTC that day.
pub fn parse_start(s: &str) -> Result<Millis, UsageError> {
    if let Ok(ts) = s.parse::<jiff::Timestamp>() {
        return Ok(ts.as_millisecond());
    }
    let date: jiff::civil::Date = s.parse().map_err(|_| {
        UsageError(format!(
            "invalid --start `{s}`: expected RFC 3339 (2026-11-28T08:00:00Z) or a date (2026-11-28)"
        ))
    })?;
    date.at(8, 0, 0, 0)
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .map(|z| z.timestamp().as_millisecond())
        .map_err(|e| UsageError(format!("invalid --start `{s}`: {e}")))
}

/// Today 08:00 UTC.
fn default_start() -> anyhow::Result<Millis> {
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date();
    Ok(parse_start(&today.to_string())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("8h").ok(), Some(8 * 3_600_000));
        assert_eq!(parse_duration("30m").ok(), Some(1_800_000));
        assert_eq!(parse_duration("90s").ok(), Some(90_000));
        assert_eq!(parse_duration("1h30m").ok(), Some(5_400_000));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("-5m").is_err());
    }

    #[test]
    fn starts() {
        assert_eq!(
            parse_start("2026-11-28").ok(),
            parse_start("2026-11-28T08:00:00Z").ok()
        );
        assert_eq!(parse_start("1970-01-01T00:00:01.5Z").ok(), Some(1500));
        assert!(parse_start("yesterday").is_err());
    }
}
