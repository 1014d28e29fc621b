//! Property tests: whatever the bytes, the decoders never panic and every line is
//! accounted for exactly once (`lines = events + ignored + unknown + rejected`).

use std::io::BufReader;

use ccpulse::decode::{
    decode_reader, DecodeStats, Decoded, JsonlDecoder, LineDecoder, LineReader, QueueLogDecoder,
};
use proptest::prelude::*;

const QUEUE_LOG: &[&str] = &[
    "1675555753|1675555752.0|Support|NONE|ENTERQUEUE||200|1",
    "1675555761|1675555752.0|Support|PJSIP/400|CONNECT|8|1675555753.1|7",
    "1675555766|1675555752.0|Support|PJSIP/400|COMPLETEAGENT|8|5|1",
    "1675720943|1675720922.0|Support|NONE|ABANDON|1|1|20",
    "1543833653|1543833609.335|IT|Agent/1128|ATTENDEDTRANSFER|LINK|a|b|6|30|1",
    "1543938963|1543938872.1743|IT|Agent/1128|BLINDTRANSFER|1142|transfer|6|38|1",
    "1543598990|1543598985.25|IT|Local/1127@callback-agent|ADDMEMBER|PAUSED",
    "2012-07-03 15:28:06.249357|NONE|NONE|Agent/3001|AGENTCALLBACKLOGOFF|1002@pcm-dev|43|CommandLogoff||",
    "1341343643.896208|NONE|q1|Agent/3001|PAUSE|lunch",
    "1674044163|NONE|NONE|NONE|CONFIGRELOAD|",
    "1543601975|1543601975.170|NONE|Agent/1127|OUTDIAL|881142",
];

const JSONL: &[&str] = &[
    r#"{"v":1,"ts":"2026-11-28T09:00:01.250Z","type":"contact_queued","contact":"c-1","queue":"sales","channel":"voice"}"#,
    r#"{"ts":1795856401250,"type":"contact_answered","contact":"c-1","queue":"sales","agent":"a1"}"#,
    r#"{"ts":"2026-11-28T10:00:01+01:00","type":"contact_exited","contact":"c","queue":"q","reason":"timeout"}"#,
    r#"{"ts":1795856401250,"type":"agent_state","agent":"a1","state":"aux","reason":"lunch","queues":["a","b"]}"#,
    r#"{"ts":1795856401250,"type":"contact_transferred","contact":"c\u00e9","agent":"a","to":"x"}"#,
    r#"{"ts":1795856401250,"type":"something_new"}"#,
];

/// Counts lines the way the reader must: `\n`-separated, a last line without newline.
fn expected_lines(input: &[u8]) -> u64 {
    let newlines = input.iter().filter(|&&b| b == b'\n').count() as u64;
    let tail = !input.is_empty() && input.last() != Some(&b'\n');
    newlines + u64::from(tail)
}

fn check<D: LineDecoder>(input: &[u8], decoder: &D, buf_cap: usize, max_len: usize) {
    let mut stats = DecodeStats::new("prop");
    let mut events = 0u64;
    // Through the reader, with a small buffer so that lines straddle refills.
    let mut reader = LineReader::with_max_len(BufReader::with_capacity(buf_cap, input), max_len);
    while let Some((n, line)) = reader.next_line().unwrap() {
        let d = match line {
            ccpulse::decode::Line::Ok(b) => decoder.decode(b),
            ccpulse::decode::Line::TooLong => {
                Decoded::Rejected(ccpulse::decode::RejectReason::TooLong)
            }
        };
        if matches!(d, Decoded::Event(_)) {
            events += 1;
        }
        stats.record(n, &d);
    }
    assert_eq!(stats.lines(), expected_lines(input));
    assert_eq!(
        stats.lines(),
        stats.events() + stats.ignored() + stats.unknown() + stats.rejected()
    );
    assert_eq!(stats.events(), events);

    // And through `decode_reader` with default settings.
    let mut stats2 = DecodeStats::new("prop");
    let mut events2 = 0u64;
    decode_reader(input, decoder, &mut stats2, |_| events2 += 1).unwrap();
    assert_eq!(stats2.lines(), expected_lines(input));
    assert_eq!(
        stats2.lines(),
        stats2.events() + stats2.ignored() + stats2.unknown() + stats2.rejected()
    );
    assert_eq!(stats2.events(), events2);
}

#[derive(Debug, Clone)]
enum Mutation {
    Delete(usize),
    Insert(usize, u8),
    Replace(usize, u8),
    Truncate(usize),
    Duplicate(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::Delete),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        (
            any::<usize>(),
            prop::sample::select(&b"|{}\":,.-0123456789N\\\r\n\xff "[..])
        )
            .prop_map(|(i, b)| Mutation::Replace(i, b)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), any::<usize>()).prop_map(|(i, j)| Mutation::Duplicate(i, j)),
    ]
}

fn apply(line: &str, muts: &[Mutation]) -> Vec<u8> {
    let mut b = line.as_bytes().to_vec();
    for m in muts {
        let len = b.len().max(1);
        match *m {
            Mutation::Delete(i) => {
                if !b.is_empty() {
                    b.remove(i % b.len());
                }
            }
            Mutation::Insert(i, x) => b.insert(i % (b.len() + 1), x),
            Mutation::Replace(i, x) => {
                if !b.is_empty() {
                    let k = i % b.len();
                    b[k] = x;
                }
            }
            Mutation::Truncate(i) => b.truncate(i % len),
            Mutation::Duplicate(i, j) => {
                let (i, j) = (i % len, j % len);
                let (lo, hi) = (i.min(j), i.max(j).min(b.len()));
                let piece = b[lo.min(hi)..hi].to_vec();
                b.splice(hi..hi, piece);
            }
        }
    }
    b
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(
        input in prop::collection::vec(any::<u8>(), 0..600),
        cap in 1usize..64,
        max_len in 1usize..128,
    ) {
        check(&input, &QueueLogDecoder::new(), cap, max_len);
        check(&input, &JsonlDecoder::new(), cap, max_len);
    }

    #[test]
    fn mutated_queue_log_lines(
        picks in prop::collection::vec(
            (prop::sample::select(QUEUE_LOG), prop::collection::vec(mutation(), 0..4)),
            1..20,
        ),
        cap in 1usize..256,
    ) {
        let mut input = Vec::new();
        for (line, muts) in &picks {
            input.extend_from_slice(&apply(line, muts));
            input.push(b'\n');
        }
        check(&input, &QueueLogDecoder::new(), cap, 4096);
        check(&input, &JsonlDecoder::new(), cap, 4096);
    }

    #[test]
    fn mutated_json_lines(
        picks in prop::collection::vec(
            (prop::sample::select(JSONL), prop::collection::vec(mutation(), 0..4)),
            1..20,
        ),
        cap in 1usize..256,
    ) {
        let mut input = Vec::new();
        for (line, muts) in &picks {
            input.extend_from_slice(&apply(line, muts));
            input.push(b'\n');
        }
        check(&input, &JsonlDecoder::new(), cap, 4096);
        check(&input, &QueueLogDecoder::new(), cap, 4096);
    }

    #[test]
    fn unmutated_lines_are_events_or_known(
        picks in prop::collection::vec(prop::sample::select(QUEUE_LOG), 1..20),
    ) {
        let d = QueueLogDecoder::new();
        for line in picks {
            prop_assert!(!matches!(d.decode(line.as_bytes()), Decoded::Rejected(_)), "{}", line);
        }
    }
}

#[test]
fn valid_json_samples_decode() {
    let d = JsonlDecoder::new();
    for line in JSONL {
        assert!(
            !matches!(d.decode(line.as_bytes()), Decoded::Rejected(_)),
            "{line}"
        );
    }
}
