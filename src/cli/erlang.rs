//! `ccpulse erlang`: staffing calculator (Erlang C; Erlang A with `--patience`), interfaces.md §1.

use super::UsageError;
use ccpulse::staffing::{self, StaffingError};
use serde::Serialize;
use std::io::Write;

/// Rows shown on each side of the answer when `--agents` is not given.
const ROWS_AROUND: u32 = 3;
/// Most rows an `--agents` range may ask for.
const MAX_ROWS: u32 = 10_000;

/// Output format of `ccpulse erlang`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Output {
    /// Aligned, human-readable columns.
    #[default]
    Table,
    /// One JSON object (interfaces.md §1).
    Json,
}

/// Arguments of `ccpulse erlang`; values are parsed in [`run`] so that every bad one is a usage error.
#[derive(clap::Args, Debug)]
pub struct ErlangArgs {
    /// Contacts arriving per period (forecast or measured; may be fractional).
    #[arg(long)]
    pub calls: f64,
    /// Length of the period the calls arrive in, e.g. `30m`, `1h`, `900s`.
    #[arg(long)]
    pub per: String,
    /// Average handle time, e.g. `180s`, `3m`.
    #[arg(long)]
    pub aht: String,
    /// Service-level target as `PERCENT/SECONDS`, e.g. `80/20` (80 % answered within 20 s).
    #[arg(long)]
    pub target: String,
    /// Shrinkage (breaks, training, absence) as a fraction `0.3` or percentage `30%`.
    #[arg(long)]
    pub shrinkage: Option<String>,
    /// Highest acceptable agent occupancy, as a fraction `0.85` or percentage `85%`.
    #[arg(long)]
    pub max_occupancy: Option<String>,
    /// Mean caller patience (switches to Erlang A, with abandonment), e.g. `120s`.
    #[arg(long)]
    pub patience: Option<String>,
    /// Inclusive range of agent counts to tabulate, e.g. `10..20`.
    #[arg(long)]
    pub agents: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Output::Table)]
    pub output: Output,
}

/// The JSON document (interfaces.md §1); the table shows the same numbers.
#[derive(Serialize, Debug)]
struct Report {
    load_erlangs: f64,
    required_agents: u32,
    scheduled_agents: u32,
    rows: Vec<Row>,
}

/// One staffing level.
#[derive(Serialize, Debug)]
struct Row {
    agents: u32,
    service_level: f64,
    p_wait: f64,
    asa_seconds: Option<f64>,
    occupancy: Option<f64>,
    p_abandon: Option<f64>,
}

/// Validated inputs.
struct Inputs {
    calls: f64,
    /// `--per` and `--aht` as typed, for the table's title line.
    per_text: String,
    aht_text: String,
    per_secs: f64,
    aht_secs: f64,
    target: f64,
    threshold_secs: f64,
    shrinkage: f64,
    max_occupancy: Option<f64>,
    patience_secs: Option<f64>,
    agents: Option<(u32, u32)>,
}

fn usage(msg: impl Into<String>) -> anyhow::Error {
    UsageError(msg.into()).into()
}

/// Parses a duration such as `30m`, `180s`, `1h 30m`, `PT30M` or a bare number of seconds.
fn parse_duration(flag: &str, s: &str) -> anyhow::Result<f64> {
    let s = s.trim();
    let secs = match s.parse::<f64>() {
        Ok(v) => v,
        Err(_) => s
            .parse::<jiff::SignedDuration>()
            .map(|d| d.as_secs_f64())
            .map_err(|e| usage(format!("{flag}: invalid duration {s:?} ({e})")))?,
    };
    if !(secs.is_finite() && secs > 0.0) {
        return Err(usage(format!(
            "{flag}: must be a positive duration, got {s:?}"
        )));
    }
    Ok(secs)
}

/// Parses a fraction `0.3` or a percentage `30%` into a fraction.
fn parse_fraction(flag: &str, s: &str) -> anyhow::Result<f64> {
    let t = s.trim();
    let (num, scale) = match t.strip_suffix('%') {
        Some(p) => (p.trim(), 100.0),
        None => (t, 1.0),
    };
    let v = num.parse::<f64>().map_err(|_| {
        usage(format!(
            "{flag}: expected a fraction like 0.3 or 30%, got {s:?}"
        ))
    })?;
    Ok(v / scale)
}

/// Parses `PERCENT/SECONDS` (`80/20`, `80%/20s`) into (fraction, seconds).
fn parse_target(s: &str) -> anyhow::Result<(f64, f64)> {
    let (pct, secs) = s.split_once('/').ok_or_else(|| {
        usage(format!(
            "--target: expected PERCENT/SECONDS like 80/20, got {s:?}"
        ))
    })?;
    let pct = pct.trim();
    let pct = pct.strip_suffix('%').unwrap_or(pct).trim();
    let pct: f64 = pct
        .parse()
        .map_err(|_| usage(format!("--target: invalid percentage in {s:?}")))?;
    if !(pct.is_finite() && pct > 0.0 && pct < 100.0) {
        return Err(usage(format!(
            "--target: percentage must be above 0 and below 100, got {pct}"
        )));
    }
    let secs = secs.trim();
    let threshold = match secs.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => v,
        Ok(_) => {
            return Err(usage(format!(
                "--target: threshold must be ≥ 0, got {secs:?}"
            )))
        }
        Err(_) => parse_duration("--target", secs)?,
    };
    Ok((pct / 100.0, threshold))
}

/// Parses an inclusive range `LO..HI` (or `LO..=HI`).
fn parse_range(s: &str) -> anyhow::Result<(u32, u32)> {
    let bad = || usage(format!("--agents: expected a range like 10..20, got {s:?}"));
    let (lo, hi) = s.split_once("..").ok_or_else(bad)?;
    let hi = hi.strip_prefix('=').unwrap_or(hi);
    let lo: u32 = lo.trim().parse().map_err(|_| bad())?;
    let hi: u32 = hi.trim().parse().map_err(|_| bad())?;
    if lo > hi {
        return Err(usage(format!("--agents: empty range {s:?}")));
    }
    if hi - lo >= MAX_ROWS {
        return Err(usage(format!(
            "--agents: at most {MAX_ROWS} rows, got {s:?}"
        )));
    }
    Ok((lo, hi))
}

fn parse_inputs(args: &ErlangArgs) -> anyhow::Result<Inputs> {
    if !(args.calls.is_finite() && args.calls >= 0.0) {
        return Err(usage(format!(
            "--calls: must be a number ≥ 0, got {}",
            args.calls
        )));
    }
    let (target, threshold_secs) = parse_target(&args.target)?;
    let shrinkage = match &args.shrinkage {
        Some(s) => parse_fraction("--shrinkage", s)?,
        None => 0.0,
    };
    if !(0.0..1.0).contains(&shrinkage) {
        return Err(usage(format!(
            "--shrinkage: must be at least 0 and below 1 (100%), got {shrinkage}"
        )));
    }
    let max_occupancy = match &args.max_occupancy {
        Some(s) => {
            let c = parse_fraction("--max-occupancy", s)?;
            if !(c > 0.0 && c <= 1.0) {
                return Err(usage(format!(
                    "--max-occupancy: must be above 0 and at most 1 (100%), got {c}"
                )));
            }
            Some(c)
        }
        None => None,
    };
    Ok(Inputs {
        calls: args.calls,
        per_text: args.per.trim().to_owned(),
        aht_text: args.aht.trim().to_owned(),
        per_secs: parse_duration("--per", &args.per)?,
        aht_secs: parse_duration("--aht", &args.aht)?,
        target,
        threshold_secs,
        shrinkage,
        max_occupancy,
        patience_secs: args
            .patience
            .as_deref()
            .map(|p| parse_duration("--patience", p))
            .transpose()?,
        agents: args.agents.as_deref().map(parse_range).transpose()?,
    })
}

/// Invalid inputs the parser let through (e.g. a load over the supported maximum) are usage errors.
fn staffing_err(e: StaffingError) -> anyhow::Error {
    match e {
        StaffingError::InvalidInput { .. } => usage(e.to_string()),
        other => anyhow::Error::new(other),
    }
}

fn compute(inp: &Inputs) -> anyhow::Result<Report> {
    let load =
        staffing::offered_load(inp.calls, inp.per_secs, inp.aht_secs).map_err(staffing_err)?;
    let required = match inp.patience_secs {
        None => staffing::required_agents(
            load,
            inp.aht_secs,
            inp.target,
            inp.threshold_secs,
            inp.max_occupancy,
        ),
        Some(p) => staffing::required_agents_erlang_a(
            load,
            inp.aht_secs,
            p,
            inp.target,
            inp.threshold_secs,
            inp.max_occupancy,
        ),
    }
    .map_err(staffing_err)?;
    let scheduled = staffing::scheduled_agents(required, inp.shrinkage).map_err(staffing_err)?;

    let (lo, hi) = match inp.agents {
        Some(r) => r,
        None => {
            // Erlang C is only meaningful above A; Erlang A from one agent up.
            let floor = match inp.patience_secs {
                None => load.floor() as u32 + 1,
                Some(_) => 1,
            };
            (
                required.saturating_sub(ROWS_AROUND).max(floor),
                required.saturating_add(ROWS_AROUND),
            )
        }
    };
    let mut rows = Vec::with_capacity((hi - lo + 1) as usize);
    for n in lo..=hi {
        let row = match inp.patience_secs {
            None => {
                let m = staffing::erlang_c(n, load, inp.aht_secs, inp.threshold_secs)
                    .map_err(staffing_err)?;
                Row {
                    agents: n,
                    service_level: m.service_level,
                    p_wait: m.p_wait,
                    asa_seconds: m.asa_seconds,
                    occupancy: m.occupancy,
                    p_abandon: None,
                }
            }
            Some(p) => {
                let m = staffing::erlang_a(n, load, inp.aht_secs, p, inp.threshold_secs)
                    .map_err(staffing_err)?;
                Row {
                    agents: n,
                    service_level: m.service_level,
                    p_wait: m.p_wait,
                    asa_seconds: m.asa_seconds,
                    occupancy: m.occupancy,
                    p_abandon: Some(m.p_abandon),
                }
            }
        };
        rows.push(row);
    }
    Ok(Report {
        load_erlangs: load,
        required_agents: required,
        scheduled_agents: scheduled,
        rows,
    })
}

fn fmt_secs(s: f64) -> String {
    if s == s.trunc() && s.abs() < 1e15 {
        format!("{s:.0}s")
    } else {
        format!("{s}s")
    }
}

fn fmt_pct(x: Option<f64>) -> String {
    x.map_or_else(|| "-".to_owned(), |v| format!("{:.2}%", v * 100.0))
}

fn write_table(out: &mut impl Write, inp: &Inputs, r: &Report) -> std::io::Result<()> {
    let model = match inp.patience_secs {
        None => "Erlang C".to_owned(),
        Some(p) => format!("Erlang A, mean patience {}", fmt_secs(p)),
    };
    writeln!(
        out,
        "{model}: {} contacts per {}, AHT {} -> load {:.2} Erlangs",
        inp.calls, inp.per_text, inp.aht_text, r.load_erlangs
    )?;
    let mut goal = format!(
        "target {}% answered within {}",
        inp.target * 100.0,
        fmt_secs(inp.threshold_secs)
    );
    if let Some(c) = inp.max_occupancy {
        goal.push_str(&format!(", occupancy at most {}%", c * 100.0));
    }
    writeln!(out, "{goal}")?;
    writeln!(out, "required agents:  {}", r.required_agents)?;
    writeln!(
        out,
        "scheduled agents: {} (shrinkage {}%)",
        r.scheduled_agents,
        inp.shrinkage * 100.0
    )?;
    writeln!(out)?;
    let abandon = inp.patience_secs.is_some();
    let mut header = format!(
        "  {:>6}  {:>13}  {:>8}  {:>9}  {:>9}",
        "agents", "service level", "P(wait)", "ASA", "occupancy"
    );
    if abandon {
        header.push_str(&format!("  {:>10}", "P(abandon)"));
    }
    writeln!(out, "{header}")?;
    for row in &r.rows {
        let mark = if row.agents == r.required_agents {
            '>'
        } else {
            ' '
        };
        let asa = row
            .asa_seconds
            .map_or_else(|| "inf".to_owned(), |s| format!("{s:.2}s"));
        let mut line = format!(
            "{mark} {:>6}  {:>13}  {:>8}  {:>9}  {:>9}",
            row.agents,
            fmt_pct(Some(row.service_level)),
            fmt_pct(Some(row.p_wait)),
            asa,
            fmt_pct(row.occupancy),
        );
        if abandon {
            line.push_str(&format!("  {:>10}", fmt_pct(row.p_abandon)));
        }
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// Runs the subcommand: prints the required and scheduled agents and a row per staffing level.
pub fn run(args: ErlangArgs) -> anyhow::Result<()> {
    let inputs = parse_inputs(&args)?;
    let report = compute(&inputs)?;
    match write_report(args.output, &inputs, &report) {
        // `ccpulse erlang | head` closing the pipe early is not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

fn write_report(output: Output, inputs: &Inputs, report: &Report) -> std::io::Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match output {
        Output::Json => {
            serde_json::to_writer_pretty(&mut out, report)?;
            writeln!(out)?;
        }
        Output::Table => write_table(&mut out, inputs, report)?,
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_durations() {
        assert_eq!(parse_duration("--per", "30m").unwrap(), 1800.0);
        assert_eq!(parse_duration("--per", "1h").unwrap(), 3600.0);
        assert_eq!(parse_duration("--aht", "180s").unwrap(), 180.0);
        assert_eq!(parse_duration("--aht", "180").unwrap(), 180.0);
        assert_eq!(parse_duration("--aht", "2m 30s").unwrap(), 150.0);
        for bad in ["", "0s", "-5s", "abc", "nan"] {
            let e = parse_duration("--aht", bad).unwrap_err();
            assert!(e.is::<UsageError>(), "{bad}");
        }
    }

    #[test]
    fn parses_targets_fractions_and_ranges() {
        assert_eq!(parse_target("80/20").unwrap(), (0.8, 20.0));
        assert_eq!(parse_target("80%/20s").unwrap(), (0.8, 20.0));
        assert_eq!(parse_target("90/0").unwrap(), (0.9, 0.0));
        for bad in ["80", "100/20", "0/20", "80/-1", "x/20"] {
            assert!(parse_target(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_fraction("--shrinkage", "30%").unwrap(), 0.3);
        assert_eq!(parse_fraction("--shrinkage", "0.3").unwrap(), 0.3);
        assert_eq!(parse_range("10..20").unwrap(), (10, 20));
        assert_eq!(parse_range("10..=20").unwrap(), (10, 20));
        assert!(parse_range("20..10").is_err());
        assert!(parse_range("10-20").is_err());
    }
}
