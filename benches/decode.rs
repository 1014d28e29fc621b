//! Decode-only throughput: synthetic queue_log and JSON lines through the line reader
//! and decoder (no engine). Run with `cargo bench --bench decode`.

use std::hint::black_box;

use ccpulse::decode::{decode_reader, DecodeStats, JsonlDecoder, LineDecoder, QueueLogDecoder};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const CALLS: u64 = 50_000;

/// A realistic mix: per call ENTERQUEUE, RINGNOANSWER, CONNECT, COMPLETE*, plus some
/// abandons and agent pauses (about 4.3 lines per call).
fn queue_log_input() -> (Vec<u8>, u64) {
    let mut out = String::new();
    let mut lines = 0;
    let queues = ["sales", "support", "billing", "Support-Premium-EMEA"];
    for i in 0..CALLS {
        let t = 1_675_555_753 + i * 7;
        let id = format!("{}.{}", t - 3, i);
        let q = queues[(i % 4) as usize];
        let agent = format!("PJSIP/{}", 400 + i % 50);
        out.push_str(&format!("{t}|{id}|{q}|NONE|ENTERQUEUE||caller-{i:x}|1\n"));
        out.push_str(&format!("{}|{id}|{q}|{agent}|RINGNOANSWER|15000\n", t + 15));
        lines += 2;
        if i % 10 == 0 {
            out.push_str(&format!("{}|{id}|{q}|NONE|ABANDON|1|1|20\n", t + 20));
            lines += 1;
        } else {
            out.push_str(&format!("{}|{id}|{q}|{agent}|CONNECT|18|{t}.9|3\n", t + 18));
            out.push_str(&format!(
                "{}|{id}|{q}|{agent}|COMPLETECALLER|18|{}|1\n",
                t + 200,
                100 + i % 300
            ));
            lines += 2;
        }
        if i % 25 == 0 {
            out.push_str(&format!("{}|NONE|{q}|{agent}|PAUSE|lunch\n", t + 201));
            lines += 1;
        }
    }
    (out.into_bytes(), lines)
}

/// The same calls as JSON lines v1 (RFC 3339 strings and integer timestamps mixed).
fn json_input() -> (Vec<u8>, u64) {
    let mut out = String::new();
    let mut lines = 0;
    let queues = ["sales", "support", "billing", "Support-Premium-EMEA"];
    for i in 0..CALLS {
        let ms = 1_795_856_401_250 + i as i64 * 7_000;
        let rfc = jiff::Timestamp::from_millisecond(ms)
            .map(|t| t.to_string())
            .unwrap_or_default();
        let q = queues[(i % 4) as usize];
        let agent = format!("agent-{}", i % 50);
        out.push_str(&format!(
            r#"{{"v":1,"ts":"{rfc}","id":"e-{i}-1","type":"contact_queued","contact":"c-{i}","queue":"{q}","channel":"voice"}}"#
        ));
        out.push('\n');
        out.push_str(&format!(
            r#"{{"v":1,"ts":{},"type":"contact_answered","contact":"c-{i}","queue":"{q}","agent":"{agent}"}}"#,
            ms + 18_000
        ));
        out.push('\n');
        out.push_str(&format!(
            r#"{{"v":1,"ts":{},"type":"contact_ended","contact":"c-{i}","agent":"{agent}"}}"#,
            ms + 200_000
        ));
        out.push('\n');
        out.push_str(&format!(
            r#"{{"v":1,"ts":"{rfc}","type":"agent_state","agent":"{agent}","state":"after_call_work","team":"A"}}"#
        ));
        out.push('\n');
        lines += 4;
    }
    (out.into_bytes(), lines)
}

fn run<D: LineDecoder>(input: &[u8], decoder: &D) -> u64 {
    let mut stats = DecodeStats::new("bench");
    let mut n = 0u64;
    let r = decode_reader(input, decoder, &mut stats, |e| {
        black_box(&e);
        n += 1;
    });
    black_box(r.is_ok());
    n
}

fn bench(c: &mut Criterion) {
    let (ql, ql_lines) = queue_log_input();
    let (js, js_lines) = json_input();
    let qd = QueueLogDecoder::new();
    let jd = JsonlDecoder::new();
    assert_eq!(
        run(&ql, &qd),
        ql_lines,
        "every synthetic queue_log line decodes"
    );
    assert_eq!(run(&js, &jd), js_lines, "every synthetic JSON line decodes");

    let mut g = c.benchmark_group("decode");
    g.sample_size(20);
    g.throughput(Throughput::Elements(ql_lines));
    g.bench_function("queue_log", |b| b.iter(|| run(black_box(&ql), &qd)));
    g.throughput(Throughput::Elements(js_lines));
    g.bench_function("jsonl", |b| b.iter(|| run(black_box(&js), &jd)));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
