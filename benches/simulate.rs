//! Generation speed of the simulator (events/s), alone and with each encoder.

use ccpulse::encode::jsonl::JsonlWriter;
use ccpulse::encode::queue_log::QueueLogWriter;
use ccpulse::sim::{SimConfig, Simulator};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;

const EVENTS: u64 = 200_000;

fn config() -> SimConfig {
    let mut cfg = SimConfig::scaled(200, 2000, 42);
    cfg.start = 1_795_852_800_000;
    cfg.duration_ms = 1_000 * 3_600_000;
    cfg
}

fn bench(c: &mut Criterion) {
    let cfg = config();
    let mut g = c.benchmark_group("simulate_200q_2000a");
    g.throughput(Throughput::Elements(EVENTS));
    g.sample_size(10);
    g.bench_function("events", |b| {
        b.iter(|| {
            let sim = Simulator::new(&cfg).expect("valid config");
            black_box(sim.take(EVENTS as usize).count())
        })
    });
    g.bench_function("jsonl", |b| {
        let mut out = Vec::with_capacity(1 << 26);
        b.iter(|| {
            out.clear();
            let mut w = JsonlWriter::new();
            for e in Simulator::new(&cfg)
                .expect("valid config")
                .take(EVENTS as usize)
            {
                let _ = w.write(&e, &mut out);
            }
            black_box(out.len())
        })
    });
    g.bench_function("queue_log", |b| {
        let mut out = Vec::with_capacity(1 << 26);
        b.iter(|| {
            out.clear();
            let mut w = QueueLogWriter::new();
            for e in Simulator::new(&cfg)
                .expect("valid config")
                .take(EVENTS as usize)
            {
                let _ = w.write(&e, &mut out);
            }
            black_box(out.len())
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
