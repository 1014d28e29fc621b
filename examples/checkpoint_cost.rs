//! What the daemon's report rows cost a large center: a simulated day of 200 queues ×
//! 2,000 agents through a live engine, then the checkpoint's size and encoding time and
//! one `GET /api/v1/report` (copying the day out, writing its JSON).
//!
//! ```sh
//! cargo run --release --example checkpoint_cost -- 2 24   # report_days, simulated hours
//! cargo run --release --example checkpoint_cost -- 0 24   # no rows kept: the baseline
//! ```

use ccpulse::config::Config;
use ccpulse::engine::{Engine, EngineOptions};
use ccpulse::report::{OutputFormat, Report};
use ccpulse::sim::SimConfig;
use std::time::Instant;

fn main() -> anyhow::Result<()> {
    let arg = |i: usize, default: i64| {
        std::env::args()
            .nth(i)
            .and_then(|a| a.parse().ok())
            .unwrap_or(default)
    };
    let days = u32::try_from(arg(1, 2))?;
    let hours = arg(2, 24);
    let cfg = Config::default();
    let opts = EngineOptions {
        sl_grace_ms: 0,
        keep_closed: days > 0,
        rolling: true,
        lifetime: true,
        live_totals: true,
        report_days: days,
    };
    let mut engine = Engine::new(&cfg, opts)?;
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
    }
    if days > 0 {
        let t = Instant::now();
        let cut = engine.day_cut(ccpulse::engine::DaySpec::Today)?;
        let copied = t.elapsed();
        let mut out = Vec::new();
        Report::of_day(&cut, None).write(OutputFormat::Json, &mut out)?;
        println!(
            "day report  {:>11} bytes: copied out in {copied:?}, written in {:?}",
            out.len(),
            t.elapsed() - copied
        );
    }
    Ok(())
}
