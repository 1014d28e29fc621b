//! Decode-only vs end-to-end replay of the same simulated input, side by side in one
//! run (the ratio is what the KPI-engine issue's target speaks of).

use ccpulse::config::Config;
use ccpulse::decode::FormatChoice;
use ccpulse::encode::jsonl::JsonlWriter;
use ccpulse::encode::queue_log::QueueLogWriter;
use ccpulse::replay::{decode_only, replay, Input};
use ccpulse::report::OutputFormat;
use ccpulse::sim::{SimConfig, Simulator};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use std::io::Cursor;

const EVENTS: usize = 300_000;

fn inputs() -> (Vec<u8>, Vec<u8>) {
    let mut cfg = SimConfig::scaled(50, 500, 7);
    cfg.start = 1_795_852_800_000;
    cfg.duration_ms = 1_000 * 3_600_000;
    let (mut q, mut j) = (Vec::new(), Vec::new());
    let (mut qw, mut jw) = (QueueLogWriter::new(), JsonlWriter::new());
    for e in Simulator::new(&cfg).expect("valid config").take(EVENTS) {
        let _ = qw.write(&e, &mut q);
        let _ = jw.write(&e, &mut j);
    }
    (q, j)
}

fn input(bytes: &[u8]) -> Vec<Input> {
    vec![Input {
        label: "bench".into(),
        reader: Box::new(Cursor::new(bytes.to_vec())),
    }]
}

fn bench(c: &mut Criterion) {
    let (qlog, jsonl) = inputs();
    let cfg = Config::default();
    for (name, bytes) in [("queue_log", &qlog), ("jsonl", &jsonl)] {
        let lines = bytes.iter().filter(|b| **b == b'\n').count() as u64;
        let mut g = c.benchmark_group(format!("replay_{name}"));
        g.throughput(Throughput::Elements(lines));
        g.sample_size(10);
        g.bench_function("decode_only", |b| {
            b.iter(|| black_box(decode_only(input(bytes), FormatChoice::Auto).map(|c| c.events)))
        });
        g.bench_function("end_to_end", |b| {
            b.iter(|| {
                let Ok(mut r) = replay(input(bytes), &cfg, FormatChoice::Auto) else {
                    return 0;
                };
                let mut sink = std::io::sink();
                let _ = r.report().write(OutputFormat::Json, &mut sink);
                black_box(r.input.events)
            })
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
