//! The file tail source in-process: a daemon with one file source on a temp directory,
//! short real polls, and waits for conditions with a deadline (never a fixed sleep).

use ccpulse::config::{Config, Duration as CfgDuration, SourceConfig, SourceFormat, StartAt};
use ccpulse::decode::{FormatChoice, RejectReason};
use ccpulse::encode::jsonl::JsonlWriter;
use ccpulse::engine::Engine;
use ccpulse::model::Millis;
use ccpulse::replay::{replay, Input};
use ccpulse::runtime::{Daemon, DaemonBuilder, ManualClock, RuntimeOptions};
use ccpulse::sim::{SimConfig, Simulator};
use ccpulse::sources::file_tail::FileTailSource;
use ccpulse::sources::SourceStatus;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Every wait is for a condition; this only bounds a broken run.
const GIVE_UP: Duration = Duration::from_secs(20);

/// A simulated half hour as JSON lines (one event per line) and its time span.
struct Script {
    lines: Vec<Vec<u8>>,
    start: Millis,
    end: Millis,
}

fn script() -> Script {
    let mut sim = SimConfig::demo(11);
    sim.duration_ms = 30 * 60_000;
    let start = sim.start;
    let mut w = JsonlWriter::new();
    let mut lines = Vec::new();
    let mut last = start;
    for ev in Simulator::new(&sim).expect("demo simulator") {
        let mut out = Vec::new();
        if w.write(&ev, &mut out).is_ok() {
            last = ev.ts;
            lines.push(out);
        }
    }
    assert!(lines.len() > 100, "{} lines", lines.len());
    Script {
        lines,
        start,
        end: last + 600_000,
    }
}

fn append(path: &Path, lines: &[Vec<u8>]) {
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("open log");
    f.write_all(&lines.concat()).expect("append");
}

fn append_raw(path: &Path, bytes: &[u8]) {
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("open log");
    f.write_all(bytes).expect("append");
}

struct Rig {
    _dir: tempfile::TempDir,
    log: PathBuf,
    data: PathBuf,
}

fn rig() -> Rig {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("events.jsonl");
    let data = dir.path().join("data");
    Rig {
        log,
        data,
        _dir: dir,
    }
}

fn config(rig: &Rig) -> Config {
    let mut cfg = Config::default();
    cfg.daemon.tick = CfgDuration(100);
    cfg.daemon.data_dir = rig.data.clone();
    cfg
}

fn source(rig: &Rig, start_at: StartAt) -> SourceConfig {
    let mut s = SourceConfig::file("events", &rig.log);
    s.format = SourceFormat::Auto;
    s.start_at = start_at;
    s.poll_interval = CfgDuration(20);
    s
}

/// Starts a daemon whose only source tails `src`.
fn start(cfg: &Config, src: FileTailSource, clock: Arc<ManualClock>) -> Daemon {
    let mut b = DaemonBuilder::new(cfg, RuntimeOptions::from_config(cfg)).expect("daemon");
    b.source(Box::new(src)).expect("source");
    b.start(clock)
}

fn status(d: &Daemon) -> Arc<SourceStatus> {
    d.published().sources()[0].clone()
}

async fn wait_for(what: &str, cond: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + GIVE_UP;
    while !cond() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn wait_lines(st: &SourceStatus, n: u64) {
    wait_for(&format!("{n} lines"), || st.decode_stats().lines() >= n).await;
    assert_eq!(st.decode_stats().lines(), n, "no line counted twice");
}

async fn stop(d: Daemon) -> Engine {
    d.shutdown().await.expect("clean shutdown")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appended_lines_are_picked_up_and_match_replay() {
    let rig = rig();
    let cfg = config(&rig);
    let s = script();
    let half = s.lines.len() / 2;
    append(&rig.log, &s.lines[..half]);

    let clock = Arc::new(ManualClock::new(s.start));
    let src = FileTailSource::new(&source(&rig, StartAt::Beginning), &cfg).expect("source");
    let d = start(&cfg, src, clock.clone());
    let st = status(&d);
    wait_lines(&st, half as u64).await;
    assert!(st.is_up());
    append(&rig.log, &s.lines[half..]);
    wait_lines(&st, s.lines.len() as u64).await;
    assert_eq!(st.events(), s.lines.len() as u64);

    clock.set(s.end);
    let watermark = s.end - cfg.engine.allowed_lateness.ms();
    let p = d.published().clone();
    wait_for("the watermark", || {
        p.latest()
            .is_some_and(|x| x.watermark_ms == Some(watermark))
    })
    .await;
    let snap = p.latest().expect("snapshot");
    let engine = stop(d).await;
    assert_eq!(engine.stats().applied, s.lines.len() as u64);
    assert_eq!(engine.stats().late, 0);

    let reader = std::io::BufReader::new(fs::File::open(&rig.log).expect("log"));
    let mut replayed = replay(
        vec![Input {
            label: "log".into(),
            reader: Box::new(reader),
        }],
        &cfg,
        FormatChoice::Auto,
    )
    .expect("replay");
    let report = replayed.report();
    assert_eq!(report.input().events, s.lines.len() as u64);
    assert!(!snap.queues.is_empty());
    for q in &snap.queues {
        let totals = report.queue_totals(&q.queue).expect("queue in replay");
        let live = &q.today;
        assert_eq!(
            (live.arrived, live.answered, live.abandoned, live.exited),
            (
                totals.arrived,
                totals.answered,
                totals.abandoned,
                totals.exited
            ),
            "queue {}",
            q.queue
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backlog_is_read_without_late_events_when_the_clock_is_ahead() {
    // The realistic start: a log from earlier today, the clock at "now".
    let rig = rig();
    let cfg = config(&rig);
    let s = script();
    append(&rig.log, &s.lines);
    let clock = Arc::new(ManualClock::new(s.end));
    let src = FileTailSource::new(&source(&rig, StartAt::Today), &cfg).expect("source");
    let d = start(&cfg, src, clock);
    let st = status(&d);
    wait_lines(&st, s.lines.len() as u64).await;
    let engine = stop(d).await;
    assert_eq!(engine.stats().late, 0, "the engine waited for the backlog");
    assert_eq!(engine.stats().applied, s.lines.len() as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rename_and_create_rotation_loses_nothing() {
    let rig = rig();
    let cfg = config(&rig);
    let s = script();
    let (a, b) = (s.lines.len() / 3, 2 * s.lines.len() / 3);
    append(&rig.log, &s.lines[..a]);
    let clock = Arc::new(ManualClock::new(s.start));
    let src = FileTailSource::new(&source(&rig, StartAt::Beginning), &cfg).expect("source");
    let d = start(&cfg, src, clock);
    let st = status(&d);
    wait_lines(&st, a as u64).await;

    // The writer appends, logrotate renames, the writer reopens a new file: the lines
    // written just before the rename are in the old file only.
    append(&rig.log, &s.lines[a..b]);
    fs::rename(&rig.log, rig.log.with_extension("jsonl.1")).expect("rename");
    append(&rig.log, &s.lines[b..]);
    wait_lines(&st, s.lines.len() as u64).await;
    let engine = stop(d).await;
    assert_eq!(engine.stats().applied, s.lines.len() as u64);
    assert_eq!(st.decode_stats().rejected(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copytruncate_reads_the_file_again_from_the_start() {
    let rig = rig();
    let cfg = config(&rig);
    let s = script();
    let a = s.lines.len() / 2;
    append(&rig.log, &s.lines[..a]);
    let clock = Arc::new(ManualClock::new(s.start));
    let src = FileTailSource::new(&source(&rig, StartAt::Beginning), &cfg).expect("source");
    let d = start(&cfg, src, clock);
    let st = status(&d);
    wait_lines(&st, a as u64).await;

    fs::copy(&rig.log, rig.log.with_extension("jsonl.1")).expect("copy");
    OpenOptions::new()
        .write(true)
        .open(&rig.log)
        .expect("open")
        .set_len(0)
        .expect("truncate");
    append(&rig.log, &s.lines[a..]);
    wait_lines(&st, s.lines.len() as u64).await;
    let engine = stop(d).await;
    assert_eq!(engine.stats().applied, s.lines.len() as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_file_is_waited_for() {
    let rig = rig();
    let cfg = config(&rig);
    let s = script();
    let clock = Arc::new(ManualClock::new(s.start));
    // `end`: only lines written from now on, yet a file created later is new, read whole.
    let src = FileTailSource::new(&source(&rig, StartAt::End), &cfg).expect("source");
    let d = start(&cfg, src, clock);
    let st = status(&d);
    let p = d.published().clone();
    wait_for("a few snapshots", || {
        p.latest().is_some() && *p.subscribe().borrow() >= 3
    })
    .await;
    assert!(!st.is_up(), "no file: the source is down");
    append(&rig.log, &s.lines[..10]);
    wait_lines(&st, 10).await;
    assert!(st.is_up());
    let engine = stop(d).await;
    assert_eq!(engine.stats().applied, 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_resumes_at_the_checkpoint_exactly_once() {
    let rig = rig();
    let cfg = config(&rig);
    let s = script();
    let n = s.lines.len();
    let (a, b) = (n / 3, 2 * n / 3);
    append(&rig.log, &s.lines[..a]);
    // Half of line `a` is written too: it must wait for its newline across the restart.
    let (head, tail) = s.lines[a].split_at(s.lines[a].len() / 2);
    append_raw(&rig.log, head);

    let clock = Arc::new(ManualClock::new(s.start));
    let src = FileTailSource::new(&source(&rig, StartAt::Beginning), &cfg).expect("source");
    let d = start(&cfg, src, clock.clone());
    let st1 = status(&d);
    wait_lines(&st1, a as u64).await;
    let first = stop(d).await;
    assert!(rig.data.join("sources/events.json").exists());

    append_raw(&rig.log, tail);
    append(&rig.log, &s.lines[a + 1..b]);
    let src = FileTailSource::new(&source(&rig, StartAt::Beginning), &cfg).expect("source");
    let d = start(&cfg, src, clock.clone());
    let st2 = status(&d);
    wait_lines(&st2, (b - a) as u64).await;
    append(&rig.log, &s.lines[b..]);
    wait_lines(&st2, (n - a) as u64).await;
    let second = stop(d).await;

    let lines = st1.decode_stats().lines() + st2.decode_stats().lines();
    let events = st1.decode_stats().events() + st2.decode_stats().events();
    assert_eq!((lines, events), (n as u64, n as u64));
    assert_eq!(
        first.stats().applied + second.stats().applied,
        n as u64,
        "every event applied exactly once across the two runs"
    );
    assert_eq!(st2.decode_stats().rejected(), 0, "the split line was whole");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_overlong_lines_are_counted_and_skipped() {
    let rig = rig();
    let cfg = config(&rig);
    let s = script();
    append(&rig.log, &s.lines[..5]);
    append_raw(&rig.log, b"this is not json\n");
    append_raw(&rig.log, &[b'x'; 500]);
    append_raw(&rig.log, b"\n");
    append(&rig.log, &s.lines[5..10]);
    let clock = Arc::new(ManualClock::new(s.start));
    let src = FileTailSource::new(&source(&rig, StartAt::Beginning), &cfg)
        .expect("source")
        .with_max_line_len(300);
    let d = start(&cfg, src, clock);
    let st = status(&d);
    wait_lines(&st, 12).await;
    let engine = stop(d).await;
    let stats = st.decode_stats();
    assert_eq!(stats.events(), 10);
    assert_eq!(stats.rejected(), 2);
    assert_eq!(stats.rejected_for(RejectReason::TooLong), 1);
    assert_eq!(engine.stats().applied, 10);
}
