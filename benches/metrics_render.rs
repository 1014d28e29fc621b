//! `/metrics` render time for a large center: 200 queues × 2,000 agents, per-agent
//! series off (the live-daemon issue's target: ≤ 50 ms per scrape) and on.
//!
//! The snapshot is built in-process: two simulated hours of `SimConfig::scaled(200,
//! 2000, 7)` pushed into an [`Engine`], then [`metrics::render`] — the very function
//! the `GET /metrics` handler calls — is timed without HTTP.

use ccpulse::config::Config;
use ccpulse::engine::{Engine, Snapshot};
use ccpulse::outputs::metrics::{self, MetricsOptions};
use ccpulse::runtime::RuntimeOptions;
use ccpulse::sim::SimConfig;
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::sync::Arc;

const QUEUES: usize = 200;
const AGENTS: usize = 2_000;
const SIMULATED_MS: i64 = 2 * 3_600_000;

/// Two simulated hours of the scaled center, pushed through an engine.
fn snapshot() -> Snapshot {
    let cfg = Config::default();
    let mut engine = Engine::new(&cfg, RuntimeOptions::from_config(&cfg).engine)
        .expect("the default config builds an engine");
    let mut sim = SimConfig::scaled(QUEUES, AGENTS, 7);
    sim.duration_ms = SIMULATED_MS;
    ccpulse::sim::run_through(&mut engine, &sim).expect("the scaled simulator config is valid");
    engine.snapshot()
}

fn bench(c: &mut Criterion) {
    let snap = Arc::new(snapshot());
    eprintln!(
        "snapshot: {} queues, {} agents, {} events applied",
        snap.queues.len(),
        snap.agents.len(),
        snap.engine.applied
    );
    let mut g = c.benchmark_group("metrics_render_200q_2000a");
    g.sample_size(20);
    for per_agent in [false, true] {
        let opts = MetricsOptions {
            per_agent,
            feed_clients: None,
            alerts_firing: None,
            schedule: None,
            notifications: None,
        };
        let name = if per_agent {
            "per_agent_on"
        } else {
            "per_agent_off"
        };
        let bytes = metrics::render(Some(snap.clone()), &[], &opts)
            .expect("render")
            .len();
        eprintln!("{name}: {bytes} bytes of exposition");
        g.bench_function(name, |b| {
            b.iter(|| black_box(metrics::render(Some(snap.clone()), &[], &opts).map(|s| s.len())))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
