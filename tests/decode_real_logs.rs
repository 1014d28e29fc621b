//! Decodes the real queue_logs in `../shared/data/` (read at test time, never copied:
//! they have no licence) and the Wazo fixture, and checks exact counts.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use ccpulse::decode::{decode_reader, DecodeStats, QueueLogDecoder};
use ccpulse::model::{AgentStatus, Event, EventBody, ExitReason, Millis};

fn shared_data() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipped: ../shared/data not present");
        None
    }
}

/// A label per event kind (with the sub-kind that matters for the checks).
fn kind(e: &Event) -> String {
    match &e.body {
        EventBody::ContactQueued { .. } => "queued".into(),
        EventBody::ContactAnswered { .. } => "answered".into(),
        EventBody::ContactAbandoned { .. } => "abandoned".into(),
        EventBody::ContactExited { reason, .. } => format!("exited:{}", reason.as_str()),
        EventBody::ContactHold { .. } => "hold".into(),
        EventBody::ContactUnhold { .. } => "unhold".into(),
        EventBody::ContactTransferred { .. } => "transferred".into(),
        EventBody::ContactEnded { .. } => "ended".into(),
        EventBody::AgentState(c) => format!("agent_state:{}", c.state.as_str()),
        EventBody::AgentMembership { joined, .. } => format!("membership:{joined}"),
        EventBody::RingNoAnswer { .. } => "ring_no_answer".into(),
        EventBody::SourceRestart => "restart".into(),
    }
}

struct Decoded {
    stats: DecodeStats,
    events: Vec<Event>,
}

fn decode(path: &Path, decoder: &QueueLogDecoder) -> Decoded {
    let file = File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut stats = DecodeStats::new(path.display().to_string());
    let mut events = Vec::new();
    decode_reader(BufReader::new(file), decoder, &mut stats, |e| {
        events.push(e)
    })
    .unwrap();
    assert_eq!(
        stats.lines(),
        stats.events() + stats.ignored() + stats.unknown() + stats.rejected()
    );
    assert_eq!(stats.events(), events.len() as u64);
    Decoded { stats, events }
}

fn kinds(events: &[Event]) -> BTreeMap<String, u64> {
    let mut m = BTreeMap::new();
    for e in events {
        *m.entry(kind(e)).or_insert(0) += 1;
    }
    m
}

fn map(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

fn sum_ms(events: &[Event], f: impl Fn(&EventBody) -> Option<Millis>) -> Millis {
    events.iter().filter_map(|e| f(&e.body)).sum()
}

#[test]
fn malariapbx_2023() {
    let Some(dir) = shared_data() else { return };
    let d = decode(
        &dir.join("malariapbx_2023_queue_log.pipe"),
        &QueueLogDecoder::new(),
    );
    // `wc -l`: 85 lines.
    assert_eq!(d.stats.lines(), 85);
    assert_eq!(d.stats.rejected(), 0);
    assert_eq!(d.stats.unknown(), 0);
    // `cut -d'|' -f5 | sort | uniq -c`: CONFIGRELOAD 46 + RINGCANCELED 1.
    assert_eq!(d.stats.ignored(), 47);
    // Every other line is an event: 85 - 47.
    assert_eq!(d.stats.events(), 38);
    // From the same `uniq -c`: ENTERQUEUE 8, CONNECT 2, COMPLETEAGENT 1 + COMPLETECALLER 1,
    // ABANDON 5, EXITWITHTIMEOUT 1, RINGNOANSWER 2, QUEUESTART 18.
    assert_eq!(
        kinds(&d.events),
        map(&[
            ("queued", 8),
            ("answered", 2),
            ("ended", 2),
            ("abandoned", 5),
            ("exited:timeout", 1),
            ("ring_no_answer", 2),
            ("restart", 18),
        ])
    );
    // awk -F'|' '$5=="CONNECT"{c+=$6} $5~/^COMPLETE/{t+=$7} $5=="ABANDON"{a+=$8}':
    // 13 s, 109 s and 77 s.
    let wait = sum_ms(&d.events, |b| match b {
        EventBody::ContactAnswered { wait_ms, .. } => *wait_ms,
        _ => None,
    });
    let talk = sum_ms(&d.events, |b| match b {
        EventBody::ContactEnded { talk_ms, .. } => *talk_ms,
        _ => None,
    });
    let abandon = sum_ms(&d.events, |b| match b {
        EventBody::ContactAbandoned { wait_ms, .. } => *wait_ms,
        _ => None,
    });
    assert_eq!((wait, talk, abandon), (13_000, 109_000, 77_000));
    // First line `1674044163|NONE|NONE|NONE|CONFIGRELOAD|` is ignored; the first event is
    // the QUEUESTART on line 2 (epoch 1674048942).
    assert_eq!(d.events[0].ts, 1_674_048_942_000);
    assert_eq!(d.events[0].body, EventBody::SourceRestart);
}

#[test]
fn pbxware_2018() {
    let Some(dir) = shared_data() else { return };
    let d = decode(
        &dir.join("pbxware_2018_queue_log.pipe"),
        &QueueLogDecoder::new(),
    );
    // `wc -l`: 1000 lines.
    assert_eq!(d.stats.lines(), 1000);
    assert_eq!(d.stats.rejected(), 0);
    // `cut -d'|' -f5 | sort | uniq -c`: CONFIGRELOAD 11.
    assert_eq!(d.stats.ignored(), 11);
    // Same `uniq -c`, the PBXware outbound verbs: OUTANSWER 77, OUTCANCEL 24,
    // OUTCHANUNAVAIL 18, OUTCONGESTION 9, OUTDIAL 128, OUTTRANSFER 1 (= 257).
    let unknown: BTreeMap<String, u64> = d
        .stats
        .unknown_by_name()
        .iter()
        .map(|(k, v)| (k.to_string(), *v))
        .collect();
    assert_eq!(
        unknown,
        map(&[
            ("OUTANSWER", 77),
            ("OUTCANCEL", 24),
            ("OUTCHANUNAVAIL", 18),
            ("OUTCONGESTION", 9),
            ("OUTDIAL", 128),
            ("OUTTRANSFER", 1),
        ])
    );
    assert_eq!(d.stats.unknown(), 257);
    // 1000 - 11 - 257.
    assert_eq!(d.stats.events(), 732);
    // Same `uniq -c`: ENTERQUEUE 108, CONNECT 93, COMPLETEAGENT 51 + COMPLETECALLER 38,
    // ABANDON 12, EXITWITHTIMEOUT 1, ATTENDEDTRANSFER 1 + BLINDTRANSFER 1, RINGNOANSWER 360,
    // ADDMEMBER 26, REMOVEMEMBER 10, AGENTCALLBACKLOGIN 14, AGENTCALLBACKLOGOFF 10,
    // QUEUESTART 7.
    assert_eq!(
        kinds(&d.events),
        map(&[
            ("queued", 108),
            ("answered", 93),
            ("ended", 89),
            ("abandoned", 12),
            ("exited:timeout", 1),
            ("transferred", 2),
            ("ring_no_answer", 360),
            ("membership:true", 26),
            ("membership:false", 10),
            ("agent_state:available", 14),
            ("agent_state:logged_out", 10),
            ("restart", 7),
        ])
    );
    // awk -F'|' '$5=="CONNECT"{c+=$6} $5~/^COMPLETE/{t+=$7} $5=="ABANDON"{a+=$8}
    //   $5~/TRANSFER$/ && $5!~/^OUT/{x+=$9}': 3599 s, 23845 s, 1141 s and 68 s
    // (ATTENDEDTRANSFER with empty data1: talk 30 in data4; BLINDTRANSFER: talk 38).
    let wait = sum_ms(&d.events, |b| match b {
        EventBody::ContactAnswered { wait_ms, .. } => *wait_ms,
        _ => None,
    });
    let talk = sum_ms(&d.events, |b| match b {
        EventBody::ContactEnded { talk_ms, .. } => *talk_ms,
        _ => None,
    });
    let abandon = sum_ms(&d.events, |b| match b {
        EventBody::ContactAbandoned { wait_ms, .. } => *wait_ms,
        _ => None,
    });
    let transfer = sum_ms(&d.events, |b| match b {
        EventBody::ContactTransferred { talk_ms, .. } => *talk_ms,
        _ => None,
    });
    assert_eq!(
        (wait, talk, abandon, transfer),
        (3_599_000, 23_845_000, 1_141_000, 68_000)
    );
    // `grep BLINDTRANSFER`: `…|BLINDTRANSFER|1142|transfer|6|38|1` → to `1142@transfer`.
    assert!(d.events.iter().any(|e| matches!(&e.body,
        EventBody::ContactTransferred { to: Some(to), talk_ms: Some(38_000), .. } if to == "1142@transfer")));
    // `grep EXITWITHTIMEOUT`: `…|EXITWITHTIMEOUT|1|2|300` → wait 300 s.
    assert!(d.events.iter().any(|e| matches!(
        &e.body,
        EventBody::ContactExited {
            reason: ExitReason::Timeout,
            wait_ms: Some(300_000),
            ..
        }
    )));
}

#[test]
fn wazo_fixture() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/wazo_queue_log.pipe");
    // Local time UTC-4 (the callid `1341343640.4` was created 3 s before the
    // `2012-07-03 15:27:23.896208` login stamp).
    let tz = jiff::tz::TimeZone::get("America/Montreal").unwrap();
    let d = decode(&path, &QueueLogDecoder::with_time_zone(tz));
    // 12 rows in the documentation's tables.
    assert_eq!(d.stats.lines(), 12);
    assert_eq!(d.stats.rejected(), 0);
    assert_eq!(d.stats.ignored(), 0);
    // JOINEMPTY, FULL, CLOSED: one row each.
    assert_eq!(d.stats.unknown(), 3);
    assert_eq!(d.stats.events(), 9);
    assert_eq!(
        kinds(&d.events),
        map(&[
            ("agent_state:available", 4), // AGENTCALLBACKLOGIN, UNPAUSEALL, 2 × UNPAUSE
            ("agent_state:logged_out", 1),
            ("queued", 1),
            ("answered", 1),
            ("ended", 1),
            ("abandoned", 1),
        ])
    );
    assert_eq!(d.events[0].ts, 1_341_343_643_896);
    let EventBody::AgentState(logoff) = &d.events[1].body else {
        panic!("expected the logoff")
    };
    assert_eq!(logoff.state, AgentStatus::LoggedOut);
    assert_eq!(logoff.reason.as_deref(), Some("CommandLogoff"));
    // Event time follows file order (sorted by time).
    assert!(d.events.windows(2).all(|w| w[0].ts <= w[1].ts));
}
