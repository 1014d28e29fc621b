//! Rule evaluation per tick for a large center: every default rule (queue, agent,
//! schedule and source rules) over a snapshot of 200 queues × 2,000 agents, with a
//! schedule for every agent (issue #4 target: ≤ 5 ms per evaluation). For scale, the
//! same run times one snapshot build and one schedule update at that size.
//!
//! The snapshot comes from the simulator pushed through a real [`Engine`] (two
//! simulated hours under `cargo bench`; ten minutes under `cargo test`, which runs each
//! benchmark once).

use ccpulse::alerts::{default_rules, AlertEngine, AlertInputs, SourceHealth};
use ccpulse::config::Config;
use ccpulse::engine::Engine;
use ccpulse::model::format_rfc3339;
use ccpulse::runtime::RuntimeOptions;
use ccpulse::schedule::{parse_csv, ScheduleSettings, Tracker};
use ccpulse::sim::SimConfig;
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

const QUEUES: usize = 200;
const AGENTS: usize = 2_000;

fn bench(c: &mut Criterion) {
    let full = std::env::args().any(|a| a == "--bench");
    let cfg = Config::default();
    let mut engine = Engine::new(&cfg, RuntimeOptions::from_config(&cfg).engine)
        .expect("the default config builds an engine");
    engine.record_transitions(true);
    let mut sim = SimConfig::scaled(QUEUES, AGENTS, 7);
    sim.duration_ms = if full { 2 * 3_600_000 } else { 600_000 };
    let start = sim.start;
    let last =
        ccpulse::sim::run_through(&mut engine, &sim).expect("the scaled simulator config is valid");
    let snap = engine.snapshot();

    // Everyone works an 8-hour shift from the simulated opening, with a break after an
    // hour for a quarter of them (so schedule rules have something to measure).
    let mut csv = String::from("agent,start,end,activity\n");
    for (i, a) in snap.agents.iter().enumerate() {
        csv.push_str(&format!(
            "{},{},{},work\n",
            a.agent,
            format_rfc3339(start),
            format_rfc3339(start + 8 * 3_600_000)
        ));
        if i % 4 == 0 {
            csv.push_str(&format!(
                "{},{},{},break\n",
                a.agent,
                format_rfc3339(start + 3_600_000),
                format_rfc3339(start + 3_600_000 + 900_000)
            ));
        }
    }
    let report = parse_csv(csv.as_bytes(), &jiff::tz::TimeZone::UTC);
    let mut tracker = Tracker::new(
        ScheduleSettings::from_config(&cfg.schedule),
        jiff::tz::TimeZone::UTC,
    );
    tracker.set_schedule(report.schedule, Default::default());
    tracker.push(engine.take_transitions());
    let view = tracker.observe(&snap);
    let sources: Vec<SourceHealth> = (0..4)
        .map(|i| SourceHealth {
            name: format!("acd-{i}"),
            up: i != 3,
            silent_since_ms: Some(last - i * 120_000),
        })
        .collect();
    let inputs = AlertInputs {
        schedule: Some(&view),
        sources: &sources,
    };
    let mut alerts = AlertEngine::new(default_rules(), jiff::tz::TimeZone::UTC);
    alerts.evaluate_with(&snap, &inputs);
    eprintln!(
        "snapshot: {} queues, {} agents, {} events; {} rules; {} alerts active; {} scheduled agents",
        snap.queues.len(),
        snap.agents.len(),
        snap.engine.applied,
        default_rules().len(),
        alerts.active().len(),
        view.agents.len(),
    );

    let mut g = c.benchmark_group("alerts_200q_2000a");
    g.sample_size(20);
    g.bench_function("evaluate_default_rules", |b| {
        b.iter(|| black_box(alerts.evaluate_with(&snap, &inputs).len()))
    });
    g.bench_function("schedule_update", |b| {
        b.iter(|| black_box(tracker.observe(&snap).agents.len()))
    });
    g.bench_function("snapshot_build", |b| {
        b.iter(|| black_box(engine.snapshot().agents.len()))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
