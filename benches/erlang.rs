//! Benchmarks of the staffing search: Erlang C and Erlang A required agents at small, medium and huge loads.

use ccpulse::staffing::{required_agents, required_agents_erlang_a};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use std::hint::black_box;

fn bench_required_agents(c: &mut Criterion) {
    let mut group = c.benchmark_group("required_agents");
    for load in [10.0, 500.0, 5000.0] {
        group.bench_with_input(BenchmarkId::new("erlang_c", load), &load, |b, &a| {
            b.iter(|| required_agents(black_box(a), 180.0, 0.8, 20.0, None))
        });
        group.bench_with_input(BenchmarkId::new("erlang_a", load), &load, |b, &a| {
            b.iter(|| required_agents_erlang_a(black_box(a), 180.0, 300.0, 0.8, 20.0, None))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_required_agents);
criterion_main!(benches);
