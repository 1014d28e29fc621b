//! What the daemon's report rows cost a large center: a simulated day of 200 queues ×
//! 2,000 agents through a live engine, then the checkpoint's size and encoding time and
//! one `GET /api/v1/report` of today and one of this week (copying the rows out,
//! writing the JSON).
//!
//! ```sh
//! cargo run --release --example checkpoint_cost -- 2 24   # report_days, simulated hours
//! cargo run --release --example checkpoint_cost -- 0 24   # no rows kept: the baseline
//! cargo run --release --example checkpoint_cost -- 2 24 DIR   # also save into DIR …
//! cargo run --release --example checkpoint_cost -- load DIR   # … and time a restart's load
//! ```
//!
//! `load` runs in its own process so that its peak RSS (`VmHWM`) is the restart's.
//! `CHECKPOINT_OUT=FILE` also writes the engine's checkpoint there, to see what it holds.

use ccpulse::config::Config;
use ccpulse::engine::{Engine, EngineOptions};
use ccpulse::report::{OutputFormat, Report};
use ccpulse::runtime::{EngineStore, Positions};
use ccpulse::sim::SimConfig;
use std::path::Path;
use std::time::Instant;

fn options(days: u32) -> EngineOptions {
    EngineOptions {
        sl_grace_ms: 0,
        keep_closed: days > 0,
        rolling: true,
        lifetime: true,
        live_totals: true,
        report_days: days,
    }
}

/// Peak resident memory of this process so far, in MB.
fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn load(dir: &Path) -> anyhow::Result<()> {
    let before = peak_rss_mb();
    let t = Instant::now();
    let restored = EngineStore::new(dir)
        .load(&Config::default(), options(2))?
        .ok_or_else(|| anyhow::anyhow!("no checkpoint in {}", dir.display()))?;
    println!(
        "load        {} events' state in {:?}, peak RSS {before:.0} → {:.0} MB",
        restored.engine.stats().applied,
        t.elapsed(),
        peak_rss_mb()
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("load") {
        let dir = args
            .get(2)
            .ok_or_else(|| anyhow::anyhow!("load needs a directory"))?;
        return load(Path::new(dir));
    }
    let arg = |i: usize, default: i64| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    let days = u32::try_from(arg(1, 2))?;
    let hours = arg(2, 24);
    let cfg = Config::default();
    let mut engine = Engine::new(&cfg, options(days))?;
    let mut sim = SimConfig::scaled(200, 2000, 7);
    sim.duration_ms = hours * 3_600_000;
    ccpulse::sim::run_through(&mut engine, &sim)?;
    println!(
        "report_days {days}, {hours} h, {} events",
        engine.stats().applied
    );
    for _ in 0..3 {
        let t = Instant::now();
        let bytes = engine.checkpoint()?;
        println!("checkpoint  {:>11} bytes in {:?}", bytes.len(), t.elapsed());
        if let Some(path) = std::env::var_os("CHECKPOINT_OUT") {
            std::fs::write(path, &bytes)?;
        }
    }
    if let Some(dir) = args.get(3) {
        let t = Instant::now();
        let store = EngineStore::new(Path::new(dir));
        store.stage(&engine, &Positions::new(), 1)?.commit()?;
        println!(
            "saved       {} in {:?}",
            store.path().display(),
            t.elapsed()
        );
    }
    if days > 0 {
        use ccpulse::engine::{DaySpec, ReportSpan, WeekSpec};
        for (what, span) in [
            ("day report ", ReportSpan::Day(DaySpec::Today)),
            ("week report", ReportSpan::Week(WeekSpec::This)),
        ] {
            let t = Instant::now();
            let cut = engine.report_cut(span)?;
            let copied = t.elapsed();
            let mut out = Vec::new();
            Report::of_day(&cut, None).write(OutputFormat::Json, &mut out)?;
            println!(
                "{what} {:>11} bytes: copied out in {copied:?}, written in {:?}",
                out.len(),
                t.elapsed() - copied
            );
        }
    }
    Ok(())
}
