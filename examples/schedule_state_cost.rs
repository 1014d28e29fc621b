//! What the schedule tracker's kept days cost: the demo center (two teams of 12 agents
//! on day shifts with breaks, lunch, meetings, no-shows and late logins) with its plan,
//! its agent state changes fed to two trackers — one keeping 2 local days of state
//! spans (the old rule, `report_days`), one keeping 14 (what weekly reports need) — and
//! the saved state's size (written with every checkpoint) after each simulated day.
//!
//! ```sh
//! cargo run --release --example schedule_state_cost -- 16   # days
//! ```

use ccpulse::config::{Config, ScheduleSection};
use ccpulse::engine::{Engine, EngineOptions};
use ccpulse::schedule::{parse_csv, ScheduleSettings, Tracker};
use ccpulse::sim::{SimConfig, Simulator};

const MIN: i64 = 60_000;
const DAY: i64 = 24 * 60 * MIN;

fn saved_bytes(t: &Tracker) -> anyhow::Result<usize> {
    let mut out = Vec::new();
    t.saved_state().write_json(&mut out)?;
    Ok(out.len())
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize, default: i64| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    let days = arg(1, 16);
    let mut sim = SimConfig::demo(7);
    let agents: usize = sim.teams.iter().map(|t| t.agents).sum();
    sim.duration_ms = days * DAY;
    let tz = jiff::tz::TimeZone::UTC;
    let plan = parse_csv(sim.schedule_csv(days + 1, 0).as_bytes(), &tz);
    let opts = EngineOptions {
        sl_grace_ms: 0,
        keep_closed: false,
        rolling: false,
        lifetime: false,
        live_totals: true,
        report_days: 0,
    };
    let mut engine = Engine::new(&Config::default(), opts)?;
    engine.record_transitions(true);
    let settings = ScheduleSettings::from_config(&ScheduleSection::default());
    let mut trackers = [2u32, 14].map(|keep| {
        let mut t = Tracker::new(settings.clone().keeping_days(keep), tz.clone());
        t.set_schedule(plan.schedule.clone(), Default::default());
        (keep, t)
    });
    println!("{agents} agents, {} plan rows", plan.accepted);
    let mut next_observe = sim.start + 10 * MIN;
    let mut next_print = sim.start + DAY;
    let mut observe = |engine: &mut Engine, at: i64, print: bool| -> anyhow::Result<()> {
        engine.advance_to(at);
        let snap = engine.snapshot();
        let changes = engine.take_transitions();
        let mut line = format!("day {:>2}", (at - sim.start) / DAY);
        for (keep, t) in trackers.iter_mut() {
            t.push(changes.clone());
            t.observe(&snap);
            if print {
                let b = saved_bytes(t)?;
                line += &format!(
                    "   keep {keep:>2}: {b:>8} bytes ({:>5} an agent)",
                    b / agents
                );
            }
        }
        if print {
            println!("{line}");
        }
        Ok(())
    };
    for e in Simulator::new(&sim)? {
        while e.ts >= next_observe {
            let print = next_observe >= next_print;
            observe(&mut engine, next_observe, print)?;
            if print {
                next_print += DAY;
            }
            next_observe += 10 * MIN;
        }
        let _ = engine.push(e);
    }
    Ok(())
}
