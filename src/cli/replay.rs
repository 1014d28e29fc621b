//! `ccpulse replay`: logs through the same engine as the daemon, as fast as the machine
//! allows, into the interval report (interfaces.md §1 and §3).

use super::UsageError;
use ccpulse::config::{parse_duration, Config};
use ccpulse::decode::FormatChoice;
use ccpulse::kpi::SlPreset;
use ccpulse::replay::{decode_only, replay_scheduled, Input};
use ccpulse::report::OutputFormat;
use ccpulse::schedule::{parse_csv, Schedule};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

/// Arguments of `ccpulse replay`.
#[derive(clap::Args, Debug)]
pub struct ReplayArgs {
    /// Log files (`-` for stdin), read in the order given.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Input format: auto (sniffed per file), queue_log or jsonl.
    #[arg(long, default_value = "auto")]
    pub format: String,
    /// Config file (queues, teams, targets, time zone, interval).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Interval length (e.g. 15m; 24h: local days; 7d: local weeks from Monday); overrides the config.
    #[arg(long)]
    pub interval: Option<String>,
    /// Time zone for intervals and days (IANA name); overrides the config.
    #[arg(long)]
    pub tz: Option<String>,
    /// Default SL threshold for queues the config does not name (e.g. 20s).
    #[arg(long)]
    pub sl_threshold: Option<String>,
    /// Default short-abandon threshold (e.g. 5s, 0 disables).
    #[arg(long)]
    pub short_abandon: Option<String>,
    /// Default SL preset (cisco_type1, cisco_type2, cisco_type3, amazon_connect, answered_only,
    /// genesys with its default switches).
    #[arg(long)]
    pub sl_preset: Option<String>,
    /// With `--sl-preset genesys`: the outcomes its denominator counts besides the
    /// answered ones, comma-separated from abandons, short_abandons, flowouts (default
    /// abandons,short_abandons; `none` for answered only).
    #[arg(long)]
    pub sl_include: Option<String>,
    /// Allowed lateness of out-of-order events (e.g. 2s); overrides the config.
    #[arg(long)]
    pub allowed_lateness: Option<String>,
    /// Team schedule CSV (`agent,start,end,activity[,team][,queues]`): agent rows get
    /// adherence. Default: the config's `[schedule] file`, if any.
    #[arg(long)]
    pub schedule: Option<PathBuf>,
    /// Only decode (no engine, no report): prints the input counts. For benchmarks.
    #[arg(long, hide = true)]
    pub decode_only: bool,
    /// Report format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Json)]
    pub output: OutputFormat,
}

fn usage(msg: impl Into<String>) -> anyhow::Error {
    UsageError(msg.into()).into()
}

/// Applies the command-line overrides to the config.
fn configure(args: &ReplayArgs) -> anyhow::Result<Config> {
    let mut cfg = match &args.config {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    let dur = |flag: &str, v: &str| parse_duration(v).map_err(|e| usage(format!("--{flag}: {e}")));
    if let Some(v) = &args.interval {
        cfg.interval = dur("interval", v)?;
    }
    if let Some(v) = &args.tz {
        cfg.timezone = v.clone();
    }
    if let Some(v) = &args.sl_threshold {
        cfg.defaults.sl_threshold = Some(dur("sl-threshold", v)?);
    }
    if let Some(v) = &args.short_abandon {
        cfg.defaults.short_abandon = Some(dur("short-abandon", v)?);
    }
    if let Some(v) = &args.sl_preset {
        cfg.defaults.sl_preset = Some(
            v.parse::<SlPreset>()
                .map_err(|e| usage(format!("--sl-preset: {e}")))?,
        );
    }
    if let Some(v) = &args.sl_include {
        let mut on = [false; 3];
        for item in v
            .split(',')
            .map(str::trim)
            .filter(|i| !i.is_empty() && *i != "none")
        {
            let i = ["abandons", "short_abandons", "flowouts"]
                .iter()
                .position(|n| *n == item)
                .ok_or_else(|| {
                    usage(format!(
                        "--sl-include: unknown `{item}` (abandons, short_abandons, flowouts or none)"
                    ))
                })?;
            on[i] = true;
        }
        let d = &mut cfg.defaults;
        d.sl_include_abandons = Some(on[0]);
        d.sl_include_short_abandons = Some(on[1]);
        d.sl_include_flowouts = Some(on[2]);
    }
    if let Some(v) = &args.allowed_lateness {
        cfg.engine.allowed_lateness = dur("allowed-lateness", v)?;
    }
    let origin = args.config.as_ref().map_or_else(
        || "<command line>".to_string(),
        |p| format!("{} + command line", p.display()),
    );
    cfg.validate(&origin)?;
    Ok(cfg)
}

/// Input buffer size: 128 KiB, so the bytes a read brings in are still in the core's
/// L2 cache when the decoder scans them (a 1 MiB buffer is larger than the L2: the
/// read evicted its own start and the engine's hot data).
const READ_BUF: usize = 1 << 17;

fn open(path: &Path) -> anyhow::Result<Box<dyn BufRead>> {
    if path == Path::new("-") {
        return Ok(Box::new(BufReader::with_capacity(READ_BUF, io::stdin())));
    }
    let f = File::open(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok(Box::new(BufReader::with_capacity(READ_BUF, f)))
}

/// Reads the schedule CSV in the report's zone. Rejected rows are reported on stderr
/// with their line numbers (the rest is used); an unreadable file is an error.
fn load_schedule(path: &Path, cfg: &Config) -> anyhow::Result<Schedule> {
    let data =
        std::fs::read(path).map_err(|e| anyhow::anyhow!("schedule {}: {e}", path.display()))?;
    let tz = jiff::tz::TimeZone::get(&cfg.timezone)
        .map_err(|e| anyhow::anyhow!("timezone {:?}: {e}", cfg.timezone))?;
    let report = parse_csv(&data, &tz);
    if report.rejected > 0 {
        eprintln!(
            "schedule {}: {} row(s) rejected, {} accepted",
            path.display(),
            report.rejected,
            report.accepted
        );
        for e in &report.errors {
            eprintln!("  line {}: {}", e.line, e.reason);
        }
    }
    Ok(report.schedule)
}

/// Runs the replay and prints the report to stdout.
pub fn run(args: ReplayArgs) -> anyhow::Result<()> {
    let choice: FormatChoice = args
        .format
        .parse()
        .map_err(|e| usage(format!("--format: {e}")))?;
    let cfg = configure(&args)?;
    let mut inputs = Vec::new();
    for path in &args.files {
        let label = if path == Path::new("-") {
            "stdin".to_string()
        } else {
            path.display().to_string()
        };
        inputs.push(Input {
            label,
            reader: open(path)?,
        });
    }
    if args.decode_only {
        let counts = decode_only(inputs, choice)?;
        println!("{}", serde_json::to_string(&counts)?);
        return Ok(());
    }
    let schedule = match args.schedule.as_ref().or(cfg.schedule.file.as_ref()) {
        Some(path) => Some(load_schedule(path, &cfg)?),
        None => None,
    };
    let mut replayed = replay_scheduled(inputs, &cfg, choice, schedule)?;
    let report = replayed.report();
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    report.write(args.output, &mut out)?;
    out.flush()?;
    Ok(())
}
