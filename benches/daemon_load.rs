//! Load test of the live daemon (`ccpulse run`), the live-daemon issue's harness.
//!
//! ```sh
//! cargo bench --bench daemon_load -- [--clients 500] [--duration 30] [--warmup 5] …
//! scripts/bench-daemon.sh                     # the same, with the documented defaults
//! ```
//!
//! What it does, everything on loopback, bounded in time and count:
//! 1. writes a config (`daemon.demo = false`, `tick`, `listen = 127.0.0.1:<free port>`,
//!    `engine.allowed_lateness`, a fresh `data_dir`) and starts the **release** binary
//!    `ccpulse run --config …` as a child process (killed on exit by a drop guard);
//! 2. attaches `--clients` websocket clients to `/ws`, each reading frames continuously;
//! 3. pushes `SimConfig::scaled(queues, agents, seed)` through `/api/v1/ingest`
//!    (`--connections` websockets, binary frames of JSON lines ≤ `--batch-bytes`) as
//!    fast as the daemon takes them for `--duration` seconds. The simulator runs in its
//!    own thread; every event of a frame gets `ts` = the wall clock (epoch ms) at the
//!    moment the frame is handed to the socket, so event time is "now";
//! 4. samples `engine.applied` from `GET /api/v1/snapshot` every second: the sustained
//!    rate is Δapplied / Δt between the first sample after `--warmup` and the last one
//!    before the push stops (events *applied by the engine*, not merely sent);
//! 5. closes the feed clients, times `GET /metrics` `--scrapes` times, reads the
//!    daemon's peak RSS (`VmHWM` in `/proc/<pid>/status`) and prints a report.
//!
//! **Feed latency, exactly.** The pusher logs, for every frame it sends, the cumulative
//! event count at its end and the frame's `ts`. With one ingest connection the events
//! are stamped in send order, the engine releases them in `(ts, arrival)` order, so an
//! `engine.applied` of `A` in a feed frame means "the first `A` events sent" (the tool
//! checks that none were late or duplicate). For every snapshot frame a client receives
//! after the warm-up, each event newly covered (`applied` went from `A'` to `A`) is
//! recorded with latency = frame arrival (wall clock, µs, when the whole message was
//! read) − the event's `ts`. That is the per-event *event-to-feed latency*: the time
//! from an event being sent until a wallboard first shows it, over all clients. It
//! includes the engine's `allowed_lateness` hold (events are applied only once event
//! time has moved `allowed_lateness` past them) and the wait for the next tick; the
//! report also gives it minus the configured lateness. The client's first frame (the
//! snapshot on connect) only sets `A'`. With `--connections` > 1 the mapping is
//! approximate (frames of different connections interleave); late events (refused by
//! the engine) make it slightly pessimistic. Clients stop reading `allowed_lateness` +
//! 2 ticks + 0.5 s after the push: events not shown by then are not counted, so under
//! overload the figures are optimistic.
//!
//! The load generator, the feed clients and the daemon share the machine: on 2 cores
//! the clients' reading of the frames competes with the daemon for CPU.

use ccpulse::encode::jsonl::JsonlWriter;
use ccpulse::sim::{SimConfig, Simulator};
use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::{Bytes, Message};

#[path = "../tests/common/deflate_ws.rs"]
mod deflate_ws;

/// Command line (all bounded; defaults are the issue's setup).
#[derive(Debug, Parser)]
#[command(about = "Load test of `ccpulse run`: ws ingest + /ws feed clients + /metrics")]
struct Args {
    /// Feed clients attached to `/ws`.
    #[arg(long, default_value_t = 500)]
    clients: usize,
    /// Seconds of pushing.
    #[arg(long, default_value_t = 30)]
    duration: u64,
    /// Seconds at the start excluded from the rate and latency figures.
    #[arg(long, default_value_t = 5)]
    warmup: u64,
    /// Websocket ingest connections.
    #[arg(long, default_value_t = 1)]
    connections: usize,
    /// What each feed client shows: `all` (unfiltered: every queue and agent in every
    /// frame) or `team` (client i is team i mod teams' screen: `?teams=T&queues=<T's
    /// queues>`, as a team leader's TV would be).
    #[arg(long, default_value = "all")]
    screens: String,
    /// Screens ask for a whole `snapshot` every tick (`?delta=false`) instead of `delta`
    /// frames.
    #[arg(long)]
    no_delta: bool,
    /// Events per second to push, over all connections (0: as fast as the daemon takes).
    #[arg(long, default_value_t = 0)]
    rate: u64,
    /// Largest ingest frame (the daemon accepts ≤ 64 KiB).
    #[arg(long, default_value_t = 60_000)]
    batch_bytes: usize,
    /// Simulated queues.
    #[arg(long, default_value_t = 200)]
    queues: usize,
    /// Simulated agents.
    #[arg(long, default_value_t = 2000)]
    agents: usize,
    /// Simulator seed.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// `[daemon] tick` of the generated config.
    #[arg(long, default_value = "1s")]
    tick: String,
    /// `[engine] allowed_lateness` of the generated config (the daemon's default).
    #[arg(long, default_value = "2s")]
    allowed_lateness: String,
    /// `GET /metrics` requests timed at the end.
    #[arg(long, default_value_t = 10)]
    scrapes: usize,
    /// The daemon's `RUST_LOG` (e.g. `warn,ccpulse::timing=debug` for the tick's
    /// per-stage timings).
    #[arg(long, default_value = "warn")]
    daemon_log: String,
    /// Where the daemon's log goes (default: a file in the run's temporary directory).
    #[arg(long)]
    daemon_log_file: Option<PathBuf>,
    /// The daemon binary (build it with `cargo build --release`).
    #[arg(long)]
    binary: Option<PathBuf>,
    /// Screens offer permessage-deflate, as browsers do, and inflate what they read (a
    /// message arrives when its bytes are all read, before inflating, as a plain one
    /// does). Without it they read plain frames (tungstenite has no permessage-deflate).
    #[arg(long)]
    deflate: bool,
    /// Write one `delta` frame received mid-run by the first client to this file (to see
    /// what a tick carries at this load).
    #[arg(long)]
    dump_delta: Option<PathBuf>,
    /// Passed by `cargo bench`; without it (`cargo test --all-targets`) the tool only
    /// says how to run it, since the load needs the release binary and 30 s.
    #[arg(long, hide = true)]
    bench: bool,
}

/// Kills and reaps the daemon when the tool exits, however it exits.
struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Wall clock in microseconds since the epoch.
fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

/// One ingest frame waiting for its timestamps: JSON lines whose `ts` is a 13-digit
/// placeholder at each of `ts_at`.
struct Batch {
    buf: Vec<u8>,
    ts_at: Vec<usize>,
}

/// `(cumulative events at the end of a sent frame, its ts in ms)`, in send order.
type SendLog = Arc<RwLock<Vec<(u64, i64)>>>;

/// Runs the simulator and encodes frames until `stop` or the receiver is gone.
fn generate(args: &Args, tx: tokio::sync::mpsc::Sender<Batch>, stop: Arc<AtomicBool>) {
    let mut cfg = SimConfig::scaled(args.queues, args.agents, args.seed);
    cfg.duration_ms = 100_000 * 3_600_000; // never runs out within a run
    let sim = Simulator::new(&cfg).expect("the scaled simulator config is valid");
    let mut writer = JsonlWriter::new();
    let mut line = Vec::with_capacity(512);
    let prefix = b"{\"v\":1,\"ts\":\"";
    let mut batch = Batch {
        buf: Vec::with_capacity(args.batch_bytes),
        ts_at: Vec::new(),
    };
    for ev in sim {
        line.clear();
        // Ring-no-answer and membership events have no JSON-lines v1 form: skipped.
        if writer.write(&ev, &mut line).is_err() {
            continue;
        }
        // `{"v":1,"ts":"<rfc3339>",…` → `{"v":1,"ts":0000000000000,…`
        let close = line[prefix.len()..]
            .iter()
            .position(|b| *b == b'"')
            .expect("the encoder quotes ts")
            + prefix.len();
        let len = b"{\"v\":1,\"ts\":".len() + 13 + (line.len() - close - 1);
        if batch.buf.len() + len > args.batch_bytes && !batch.ts_at.is_empty() {
            let full = std::mem::replace(
                &mut batch,
                Batch {
                    buf: Vec::with_capacity(args.batch_bytes),
                    ts_at: Vec::new(),
                },
            );
            if stop.load(Ordering::Relaxed) || tx.blocking_send(full).is_err() {
                return;
            }
        }
        batch.buf.extend_from_slice(b"{\"v\":1,\"ts\":");
        batch.ts_at.push(batch.buf.len());
        batch.buf.extend_from_slice(b"0000000000000");
        batch.buf.extend_from_slice(&line[close + 1..]);
    }
}

/// Pushes frames from `rx` over one ingest websocket until `until`.
async fn push(
    addr: String,
    rx: Arc<tokio::sync::Mutex<tokio::sync::mpsc::Receiver<Batch>>>,
    log: SendLog,
    until: Instant,
    rate: f64,
) -> u64 {
    let start = Instant::now();
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/api/v1/ingest"))
        .await
        .expect("connect to /api/v1/ingest");
    let mut sent = 0u64;
    while Instant::now() < until {
        let Some(mut b) = rx.lock().await.recv().await else {
            break;
        };
        // Paced: this frame leaves when the events sent so far are due at `rate`.
        if rate > 0.0 {
            let due = start + Duration::from_secs_f64(sent as f64 / rate);
            if due >= until {
                break;
            }
            tokio::time::sleep_until(due.into()).await;
        }
        let ts_ms = now_us() / 1000;
        let digits = format!("{ts_ms:013}");
        for &at in &b.ts_at {
            b.buf[at..at + 13].copy_from_slice(digits.as_bytes());
        }
        {
            let mut log = log.write().expect("send log lock");
            let end = log.last().map_or(0, |l| l.0) + b.ts_at.len() as u64;
            log.push((end, ts_ms));
        }
        sent += b.ts_at.len() as u64;
        // A send blocked by backpressure must not run past the end of the push.
        match tokio::time::timeout_at(until.into(), ws.send(Message::Binary(b.buf.into()))).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => {
                eprintln!("ingest connection closed by the daemon");
                break;
            }
            Err(_) => break,
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(2), ws.close(None)).await;
    sent
}

/// What one feed client saw.
struct ClientStats {
    /// Per-event latency, µs.
    events: Histogram<u64>,
    /// Per-frame freshness (arrival − ts of the newest event covered), µs.
    frames: Histogram<u64>,
    bytes: u64,
    snapshots: u64,
    /// Of which `delta` frames.
    deltas: u64,
    /// The daemon closed the connection (or it failed) before the end of the run.
    dropped: bool,
}

fn hist() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds")
}

/// `"applied":<n>` of the `engine` block, at the end of a snapshot frame.
fn applied(frame: &[u8]) -> Option<u64> {
    let key = b"\"applied\":";
    let at = memchr::memmem::rfind(frame, key)? + key.len();
    let digits = frame[at..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    std::str::from_utf8(&frame[at..at + digits])
        .ok()?
        .parse()
        .ok()
}

/// A screen's connection: plain (tungstenite) or with permessage-deflate.
enum Screen {
    Plain(Box<tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>>),
    Deflate(Box<deflate_ws::DeflateWs>),
}

impl Screen {
    /// The next message with its arrival (µs since the epoch: when its bytes were all
    /// read; a deflated one before inflating it, the screen's own work like parsing, on
    /// its own machine on a real floor): `Some(None)` for a non-text frame, `None` when
    /// the connection ended.
    async fn next_text(&mut self) -> Option<Option<(Bytes, i64)>> {
        match self {
            Screen::Plain(ws) => match ws.next().await {
                Some(Ok(Message::Text(t))) => Some(Some((t.into(), now_us()))),
                Some(Ok(_)) => Some(None),
                _ => None,
            },
            Screen::Deflate(ws) => {
                let t = ws.next_text().await.ok()?;
                let at = ws
                    .complete_at
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_micros() as i64);
                Some(Some((t.into(), at)))
            }
        }
    }
}

/// One `/ws` client: reads every frame until `stop`, records latencies after `from_us`.
async fn feed_client(
    addr: String,
    path: String,
    log: SendLog,
    from_us: Arc<AtomicI64>,
    stop: Arc<AtomicBool>,
    dump: Option<PathBuf>,
    deflate: bool,
) -> ClientStats {
    let mut st = ClientStats {
        events: hist(),
        frames: hist(),
        bytes: 0,
        snapshots: 0,
        deltas: 0,
        dropped: false,
    };
    let mut screen = if deflate {
        match deflate_ws::connect(&addr, &path).await {
            Ok((ws, true)) => Screen::Deflate(Box::new(ws)),
            Ok((_, false)) => {
                eprintln!("the daemon declined permessage-deflate");
                return st;
            }
            Err(e) => {
                eprintln!("a feed client could not connect: {e}");
                return st;
            }
        }
    } else {
        match tokio_tungstenite::connect_async(format!("ws://{addr}{path}")).await {
            Ok((ws, _)) => Screen::Plain(Box::new(ws)),
            Err(e) => {
                eprintln!("a feed client could not connect: {e}");
                return st;
            }
        }
    };
    let mut prev: Option<u64> = None;
    while !stop.load(Ordering::Relaxed) {
        let (t, arrival) =
            match tokio::time::timeout(Duration::from_millis(200), screen.next_text()).await {
                Err(_) => continue,
                Ok(Some(Some(m))) => m,
                Ok(Some(None)) => continue,
                Ok(None) => {
                    st.dropped = true;
                    break;
                }
            };
        let frame = &t[..];
        st.bytes += frame.len() as u64;
        let delta = frame.starts_with(b"{\"v\":1,\"type\":\"delta\"");
        if !delta && !frame.starts_with(b"{\"v\":1,\"type\":\"snapshot\"") {
            continue;
        }
        st.snapshots += 1;
        st.deltas += u64::from(delta);
        if delta && st.deltas == 10 {
            if let Some(path) = &dump {
                if let Err(e) = std::fs::write(path, frame) {
                    eprintln!("--dump-delta {}: {e}", path.display());
                }
            }
        }
        let Some(a) = applied(frame) else { continue };
        let Some(p) = prev.replace(a) else { continue };
        if a <= p || arrival < from_us.load(Ordering::Relaxed) {
            continue;
        }
        let log = log.read().expect("send log lock");
        // Frames covering (p, a]: the first whose end is past p, on while they start before a.
        let mut i = log.partition_point(|l| l.0 <= p);
        let mut newest = None;
        while i < log.len() {
            let start = if i == 0 { 0 } else { log[i - 1].0 };
            if start >= a {
                break;
            }
            let (end, ts_ms) = log[i];
            let n = end.min(a) - start.max(p);
            let lat = (arrival - ts_ms * 1000).max(1) as u64;
            let _ = st.events.record_n(lat, n);
            newest = Some(lat);
            i += 1;
        }
        if let Some(lat) = newest {
            let _ = st.frames.record(lat);
        }
    }
    st
}

/// A plain HTTP/1.1 GET: (status, body, time until the whole response was read).
async fn get(addr: &str, path: &str) -> std::io::Result<(u16, Vec<u8>, Duration)> {
    let t = Instant::now();
    let mut s = TcpStream::connect(addr).await?;
    s.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await?;
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).await?;
    let took = t.elapsed();
    let status = resp
        .get(9..12)
        .and_then(|s| std::str::from_utf8(s).ok())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body =
        memchr::memmem::find(&resp, b"\r\n\r\n").map_or(Vec::new(), |i| resp[i + 4..].to_vec());
    Ok((status, body, took))
}

/// `"key":<n>` in a JSON document (first occurrence).
fn field(doc: &[u8], key: &str) -> Option<u64> {
    let pat = format!("\"{key}\":");
    let at = memchr::memmem::find(doc, pat.as_bytes())? + pat.len();
    let digits = doc[at..].iter().take_while(|b| b.is_ascii_digit()).count();
    std::str::from_utf8(&doc[at..at + digits])
        .ok()?
        .parse()
        .ok()
}

/// `VmHWM` / `VmRSS` of a process, in kB.
fn proc_kb(pid: u32, key: &str) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = s.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// User + system CPU seconds of a process so far (`/proc/<pid>/stat`, 100 Hz ticks).
fn cpu_s(pid: &str) -> f64 {
    let Ok(s) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    let rest = s.rsplit_once(')').map_or("", |r| r.1);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn pct(h: &Histogram<u64>, q: f64) -> f64 {
    h.value_at_quantile(q) as f64 / 1000.0
}

fn parse_secs(s: &str) -> f64 {
    let (n, unit) = s.split_at(s.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(s.len()));
    let n: f64 = n.parse().unwrap_or(0.0);
    match unit {
        "ms" => n / 1000.0,
        "m" => n * 60.0,
        _ => n,
    }
}

fn start_daemon(args: &Args, dir: &Path, addr: &str) -> ChildGuard {
    let binary = args
        .binary
        .clone()
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/ccpulse"));
    assert!(
        binary.exists(),
        "{} not found: run `cargo build --release` first (or pass --binary)",
        binary.display()
    );
    let config = dir.join("ccpulse.toml");
    std::fs::write(
        &config,
        format!(
            "[daemon]\nlisten = \"{addr}\"\ntick = \"{}\"\ndemo = false\ndata_dir = \"{}\"\n\n\
             [engine]\nallowed_lateness = \"{}\"\n",
            args.tick,
            dir.join("data").display(),
            args.allowed_lateness
        ),
    )
    .expect("write the config");
    let log_path = args
        .daemon_log_file
        .clone()
        .unwrap_or_else(|| dir.join("daemon.log"));
    let log = std::fs::File::create(log_path).expect("create the daemon log");
    let child = Command::new(&binary)
        .args(["run", "--config"])
        .arg(&config)
        .env("RUST_LOG", &args.daemon_log)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start the daemon");
    ChildGuard(child)
}

#[tokio::main]
async fn main() {
    // `cargo test` runs bench targets too, with libtest flags (`--ignored`, …): only
    // `cargo bench` (which passes `--bench`) runs the load.
    if !std::env::args().any(|a| a == "--bench") {
        println!("daemon_load: a load test; run it with `cargo bench --bench daemon_load` or scripts/bench-daemon.sh (skipped)");
        return;
    }
    let args = Args::parse();
    let limit = Duration::from_secs(args.duration + args.warmup + 120);
    if tokio::time::timeout(limit, run(args)).await.is_err() {
        eprintln!("daemon_load: gave up after {limit:?}");
        std::process::exit(1);
    }
}

async fn run(args: Args) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let addr = format!("127.0.0.1:{}", free_port());
    let mut daemon = start_daemon(&args, dir.path(), &addr);
    let pid = daemon.0.id();

    // Ready: a first snapshot is published and the push sources are up.
    let ready_by = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok((200, _, _)) = get(&addr, "/readyz").await {
            break;
        }
        if let Ok(Some(status)) = daemon.0.try_wait() {
            panic!(
                "the daemon exited ({status}); see {}",
                dir.path().join("daemon.log").display()
            );
        }
        assert!(
            Instant::now() < ready_by,
            "the daemon did not become ready in 30 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let args = Arc::new(args);

    // What the screens show: everything, or one team each.
    let paths: Vec<String> = match args.screens.as_str() {
        "team" => SimConfig::scaled(args.queues, args.agents, args.seed)
            .teams
            .iter()
            .map(|t| {
                let queues: Vec<&str> = t.queues.iter().map(|q| q.as_str()).collect();
                format!("/ws?teams={}&queues={}", t.name, queues.join(","))
            })
            .collect(),
        _ => vec!["/ws?".to_string()],
    };
    let paths: Vec<String> = paths
        .into_iter()
        .map(|p| match (args.no_delta, p.ends_with('?')) {
            (true, true) => format!("{p}delta=false"),
            (true, false) => format!("{p}&delta=false"),
            (false, true) => p.trim_end_matches('?').to_string(),
            (false, false) => p,
        })
        .collect();

    // Feed clients, attached before the push starts (25 connecting at a time).
    let log: SendLog = Arc::new(RwLock::new(Vec::new()));
    let stop_clients = Arc::new(AtomicBool::new(false));
    let t0 = Instant::now();
    let from_us = Arc::new(AtomicI64::new(i64::MAX));
    let mut clients = Vec::with_capacity(args.clients);
    for chunk in 0..args.clients.div_ceil(25) {
        for _ in 0..25.min(args.clients - chunk * 25) {
            let path = paths[clients.len() % paths.len()].clone();
            clients.push(tokio::spawn(feed_client(
                addr.clone(),
                path,
                log.clone(),
                from_us.clone(),
                stop_clients.clone(),
                args.dump_delta.clone().filter(|_| clients.is_empty()),
                args.deflate,
            )));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let connect_s = t0.elapsed().as_secs_f64();
    let until = Instant::now() + Duration::from_secs(args.duration);
    from_us.store(
        now_us() + (args.warmup as i64) * 1_000_000,
        Ordering::Relaxed,
    );

    // Generator thread → pushers.
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    let stop_gen = Arc::new(AtomicBool::new(false));
    let gen = {
        let (args, stop) = (args.clone(), stop_gen.clone());
        std::thread::spawn(move || generate(&args, tx, stop))
    };
    let rx = Arc::new(tokio::sync::Mutex::new(rx));
    let (cpu_daemon0, cpu_tool0) = (cpu_s(&pid.to_string()), cpu_s("self"));
    let push_start = Instant::now();
    let pushers: Vec<_> = (0..args.connections.max(1))
        .map(|_| {
            let rate = args.rate as f64 / args.connections.max(1) as f64;
            tokio::spawn(push(addr.clone(), rx.clone(), log.clone(), until, rate))
        })
        .collect();

    // Monitor: engine.applied and RSS once a second.
    let mut samples: Vec<(f64, u64)> = Vec::new();
    let peak_rss = AtomicU64::new(0);
    while Instant::now() < until {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let sample = tokio::time::timeout(Duration::from_secs(2), get(&addr, "/api/v1/snapshot"));
        if let Ok(Ok((200, body, _))) = sample.await {
            if let Some(a) = applied(&body) {
                samples.push((push_start.elapsed().as_secs_f64(), a));
            }
        }
        peak_rss.fetch_max(proc_kb(pid, "VmRSS:").unwrap_or(0), Ordering::Relaxed);
    }
    let mut sent = 0;
    for p in pushers {
        sent += p.await.unwrap_or(0);
    }
    stop_gen.store(true, Ordering::Relaxed);
    drop(rx);
    let _ = gen.join();

    // Let the last events through the lateness hold and a tick or two, then stop reading.
    let settle = parse_secs(&args.allowed_lateness) + 2.0 * parse_secs(&args.tick) + 0.5;
    tokio::time::sleep(Duration::from_secs_f64(settle)).await;
    stop_clients.store(true, Ordering::Relaxed);
    let run_s = push_start.elapsed().as_secs_f64();
    let cpu_daemon = cpu_s(&pid.to_string()) - cpu_daemon0;
    let cpu_tool = cpu_s("self") - cpu_tool0;
    let (mut events, mut frames, mut bytes, mut snapshots, mut connected, mut dropped) =
        (hist(), hist(), 0, 0, 0, 0);
    let mut deltas = 0;
    for c in clients {
        if let Ok(s) = c.await {
            connected += usize::from(s.snapshots > 0);
            dropped += usize::from(s.dropped);
            let _ = events.add(&s.events);
            let _ = frames.add(&s.frames);
            bytes += s.bytes;
            snapshots += s.snapshots;
            deltas += s.deltas;
        }
    }
    let (_, snap, _) = get(&addr, "/api/v1/snapshot")
        .await
        .expect("final snapshot");
    let final_applied = applied(&snap).unwrap_or(0);

    // /metrics with the center loaded and the clients gone.
    let mut scrape_ms = Vec::new();
    let mut metrics_bytes = 0;
    for _ in 0..args.scrapes {
        let (status, body, took) = get(&addr, "/metrics").await.expect("GET /metrics");
        assert_eq!(status, 200, "GET /metrics");
        metrics_bytes = body.len();
        scrape_ms.push(took.as_secs_f64() * 1000.0);
    }
    scrape_ms.sort_by(f64::total_cmp);
    let hwm = proc_kb(pid, "VmHWM:").unwrap_or(0);
    drop(daemon);

    // Report.
    let steady: Vec<_> = samples
        .iter()
        .filter(|s| s.0 >= args.warmup as f64)
        .collect();
    let rate = match (steady.first(), steady.last()) {
        (Some(a), Some(b)) if b.0 > a.0 => (b.1 - a.1) as f64 / (b.0 - a.0),
        _ => 0.0,
    };
    let lateness_ms = parse_secs(&args.allowed_lateness) * 1000.0;
    let pace = if args.rate > 0 {
        format!("paced at {} events/s", args.rate)
    } else {
        "unpaced (as fast as the daemon takes)".to_string()
    };
    println!("daemon_load: {} queues × {} agents, seed {}, tick {}, allowed_lateness {}, {} ingest connection(s), frames ≤ {} B, {pace}",
        args.queues, args.agents, args.seed, args.tick, args.allowed_lateness, args.connections, args.batch_bytes);
    println!(
        "screens           {} ({} distinct feed URLs, e.g. {}){}",
        args.screens,
        paths.len(),
        paths[0],
        if args.deflate {
            ", permessage-deflate"
        } else {
            ""
        }
    );
    println!(
        "feed clients      {connected}/{} received snapshots ({connect_s:.1} s to attach), {dropped} disconnected early",
        args.clients
    );
    println!(
        "pushed            {sent} events in {} s ({:.0}/s sent)",
        args.duration,
        sent as f64 / args.duration as f64
    );
    println!(
        "applied           {final_applied} in total; sustained {rate:.0} events/s (engine.applied, {:.0}–{:.0} s)",
        steady.first().map_or(0.0, |s| s.0),
        steady.last().map_or(0.0, |s| s.0)
    );
    println!(
        "applied / push    {:.0} events/s (all events applied by the end / {} s of pushing)",
        final_applied as f64 / args.duration as f64,
        args.duration
    );
    println!(
        "engine            late {} duplicates {} unmatched {}",
        field(&snap, "late").unwrap_or(0),
        field(&snap, "duplicates").unwrap_or(0),
        field(&snap, "unmatched").unwrap_or(0)
    );
    println!(
        "feed              {snapshots} state frames, {deltas} of them deltas ({:.1} per client per s), {:.1} MB/s to all clients ({:.2} MB per frame)",
        snapshots as f64 / args.clients.max(1) as f64 / run_s,
        bytes as f64 / 1e6 / run_s,
        bytes as f64 / 1e6 / snapshots.max(1) as f64
    );
    println!(
        "event→feed        p50 {:.1} ms  p99 {:.1} ms  max {:.1} ms  ({} event×client samples)",
        pct(&events, 0.5),
        pct(&events, 0.99),
        events.max() as f64 / 1000.0,
        events.len()
    );
    println!(
        "  minus lateness  p50 {:.1} ms  p99 {:.1} ms  max {:.1} ms  (allowed_lateness {lateness_ms:.0} ms)",
        pct(&events, 0.5) - lateness_ms,
        pct(&events, 0.99) - lateness_ms,
        events.max() as f64 / 1000.0 - lateness_ms
    );
    println!(
        "frame freshness   p50 {:.1} ms  p99 {:.1} ms  max {:.1} ms  (arrival − ts of the newest event in the frame)",
        pct(&frames, 0.5),
        pct(&frames, 0.99),
        frames.max() as f64 / 1000.0
    );
    println!(
        "CPU               daemon {cpu_daemon:.1} s, this tool (generator, pusher, clients) {cpu_tool:.1} s over {run_s:.1} s wall"
    );
    if let (Some(min), Some(max)) = (scrape_ms.first(), scrape_ms.last()) {
        println!(
            "GET /metrics      min {min:.1} ms  median {:.1} ms  max {max:.1} ms  ({} scrapes, {metrics_bytes} B)",
            scrape_ms[scrape_ms.len() / 2],
            scrape_ms.len()
        );
    }
    println!(
        "daemon RSS        peak {:.0} MB (VmHWM); highest VmRSS sample {:.0} MB",
        hwm as f64 / 1024.0,
        peak_rss.load(Ordering::Relaxed) as f64 / 1024.0
    );
}
