//! What one tick of the `/ws` feed costs the daemon for a whole-floor screen (200 queues
//! × 2,000 agents, board view): building the filtered state, the `delta` from the
//! previous tick, and the whole `snapshot` serialised. All clients with one filter share
//! these (docs/feed.md), so this is per tick and distinct filter, not per client.
//! `tick` is what a tick costs with deltas (`state` + `delta` + parsing the changed
//! entities); before deltas a tick cost `state` + `snapshot`. `deflate_delta` and
//! `deflate_snapshot` are what permessage-deflate adds once per tick and filter when a
//! screen negotiated it (`outputs/feed_deflate.rs`).
//!
//! Two snapshots one simulated second apart of `SimConfig::scaled(200, 2000, 7)` after
//! two simulated hours. Run: `cargo bench --bench feed_frames`.

use ccpulse::config::Config;
use ccpulse::engine::{Engine, Snapshot};
use ccpulse::outputs::feed::filtered_doc;
use ccpulse::outputs::feed_deflate::deflate;
use ccpulse::outputs::feed_view::LongRules;
use ccpulse::outputs::http::Filter;
use ccpulse::runtime::RuntimeOptions;
use ccpulse::sim::{SimConfig, Simulator};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

/// The scaled center after two simulated hours, and one simulated second later.
fn snapshots() -> (Snapshot, Snapshot) {
    let cfg = Config::default();
    let mut engine = Engine::new(&cfg, RuntimeOptions::from_config(&cfg).engine)
        .expect("the default config builds an engine");
    let mut sim = SimConfig::scaled(200, 2_000, 7);
    sim.duration_ms = 2 * 3_600_000 + 1_000;
    let cut = sim.start + 2 * 3_600_000;
    let mut first = None;
    for e in Simulator::new(&sim).expect("the scaled simulator config is valid") {
        if first.is_none() && e.ts > cut {
            engine.advance_to(cut);
            first = Some(engine.snapshot());
        }
        let _ = engine.push(e);
    }
    engine.advance_to(cut + 1_000);
    let second = engine.snapshot();
    (first.unwrap_or_else(|| second.clone()), second)
}

fn bench(c: &mut Criterion) {
    let (a, b) = snapshots();
    // The built-in rules' long-contact threshold, as the daemon gives its boards.
    let long = LongRules::from_rules(&ccpulse::alerts::default_rules());
    let all = Filter::default();
    let doc_a = filtered_doc(&a, &all, &long).expect("doc");
    let doc_b = filtered_doc(&b, &all, &long).expect("doc");
    let full = doc_b.snapshot_tail().len();
    let delta_text = doc_b.delta_tail(&doc_a).unwrap_or_default();
    let delta = delta_text.len();
    eprintln!(
        "whole floor, board view: snapshot {full} B, delta over one simulated second {delta} B ({:.0} %)",
        100.0 * delta as f64 / full.max(1) as f64
    );
    let full_text = doc_b.snapshot_tail();
    let deflated = |t: &str| deflate(t.as_bytes()).map_or(0, |d| d.len());
    eprintln!(
        "deflated: snapshot {} B, delta {} B",
        deflated(&full_text),
        deflated(&delta_text)
    );
    let mut g = c.benchmark_group("feed_tick_200q_2000a");
    g.sample_size(20);
    g.bench_function("state", |x| {
        x.iter(|| black_box(filtered_doc(&b, &all, &long).map(|d| d.entities())))
    });
    g.bench_function("delta", |x| {
        x.iter(|| black_box(doc_b.delta_tail(&doc_a).map(|d| d.len())))
    });
    // A whole tick as the daemon does it: the new state, then its delta from the previous
    // one (whose changed entities were parsed at the previous tick).
    g.bench_function("tick", |x| {
        x.iter(|| {
            let doc = filtered_doc(&b, &all, &long).expect("doc");
            black_box(doc.delta_tail(&doc_a).map(|d| d.len()))
        })
    });
    g.bench_function("snapshot", |x| {
        x.iter(|| black_box(doc_b.snapshot_tail().len()))
    });
    g.bench_function("deflate_delta", |x| {
        x.iter(|| black_box(deflate(delta_text.as_bytes()).map(|d| d.len())))
    });
    g.bench_function("deflate_snapshot", |x| {
        x.iter(|| black_box(deflate(full_text.as_bytes()).map(|d| d.len())))
    });
    g.finish();

    // One team's screen (`?teams=team-000&queues=q-000,q-001`): 200 of these per tick
    // in the 500-screen benchmark.
    let team = Filter {
        teams: Some("team-000".into()),
        queues: Some("q-000,q-001".into()),
        ..Filter::default()
    };
    let team_a = filtered_doc(&a, &team, &long).expect("doc");
    let mut g = c.benchmark_group("feed_tick_team_screen");
    g.bench_function("state+snapshot", |x| {
        x.iter(|| black_box(filtered_doc(&b, &team, &long).map(|d| d.snapshot_tail().len())))
    });
    g.bench_function("state+delta", |x| {
        x.iter(|| {
            let doc = filtered_doc(&b, &team, &long).expect("doc");
            black_box(doc.delta_tail(&team_a).map(|d| d.len()))
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
