//! Restart without loss, as an operator would see it: the daemon tails a file, is killed
//! with SIGKILL mid-stream, more lines arrive, it is started again — and its numbers equal
//! `ccpulse replay` of the whole file: no event lost, none counted twice.

use ccpulse::config::Config;
use ccpulse::decode::FormatChoice;
use ccpulse::encode::jsonl::JsonlWriter;
use ccpulse::replay::{replay, Input};
use ccpulse::sim::{SimConfig, Simulator};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A simulated morning, a day in the future so the wall clock never overtakes it.
fn lines() -> Vec<Vec<u8>> {
    let mut cfg = SimConfig::demo(5);
    let now = jiff::Timestamp::now().as_millisecond();
    cfg.start = now - now.rem_euclid(86_400_000) + 86_400_000 + 8 * 3_600_000;
    cfg.duration_ms = 3 * 3_600_000;
    let mut w = JsonlWriter::new();
    Simulator::new(&cfg)
        .expect("demo")
        .filter_map(|e| {
            let mut b = Vec::new();
            w.write(&e, &mut b).ok().map(|_| b)
        })
        .collect()
}

fn start(config: &Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ccpulse"))
        .args(["run", "--config", config.to_str().expect("utf8")])
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ccpulse run");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let addr = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| {
            Some(
                l.split("listening on http://")
                    .nth(1)?
                    .split('/')
                    .next()?
                    .to_string(),
            )
        })
        .expect("the daemon says where it listens");
    // Keep draining stderr so the daemon never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    (child, addr)
}

fn snapshot(addr: &str) -> Option<serde_json::Value> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(
        s,
        "GET /api/v1/snapshot HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut resp = String::new();
    s.read_to_string(&mut resp).ok()?;
    let body = resp.split("\r\n\r\n").nth(1)?;
    serde_json::from_str(body).ok()
}

/// Waits until the daemon has applied `n` events.
fn wait_applied(addr: &str, n: u64) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(s) = snapshot(addr) {
            if s["engine"]["applied"].as_u64() == Some(n) {
                return s;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the daemon never applied {n} events"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits until the periodic checkpoint on disk covers `n` applied events.
fn wait_checkpoint(path: &Path, n: u64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let saved = std::fs::read(path)
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|v| v["engine"]["engine"]["stats"]["applied"].as_u64());
        if saved == Some(n) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no checkpoint with {n} events (saw {saved:?})"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn sigkill_mid_stream_then_resume_equals_one_uninterrupted_replay() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("events.jsonl");
    let cfg_path = dir.path().join("ccpulse.toml");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    std::fs::write(
        &cfg_path,
        format!(
            "[daemon]\nlisten = \"127.0.0.1:{port}\"\ndata_dir = \"{}\"\ntick = \"100ms\"\ncheckpoint_interval = \"200ms\"\n\
             [engine]\nallowed_lateness = \"0s\"\n\
             [[sources]]\nkind = \"file\"\nname = \"adapter\"\npath = \"{}\"\nformat = \"jsonl\"\nstart_at = \"beginning\"\npoll_interval = \"50ms\"\n",
            dir.path().join("data").display(),
            log.display()
        ),
    )
    .expect("config");
    let all = lines();
    let cut = all.len() * 3 / 5;
    std::fs::write(&log, all[..cut].concat()).expect("first part");

    let (mut first, addr) = start(&cfg_path);
    wait_applied(&addr, cut as u64);
    wait_checkpoint(&dir.path().join("data/engine.json"), cut as u64);
    first.kill().expect("SIGKILL");
    let _ = first.wait();

    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&log)
        .expect("append");
    f.write_all(&all[cut..].concat()).expect("second part");
    drop(f);

    let (mut second, addr) = start(&cfg_path);
    let snap = wait_applied(&addr, all.len() as u64);
    let _ = second.kill();
    let _ = second.wait();

    // The same file replayed in one go, under the same settings.
    let mut cfg = Config::default();
    cfg.engine.allowed_lateness = ccpulse::config::Duration(0);
    let input = Input {
        label: "log".into(),
        reader: Box::new(BufReader::new(std::fs::File::open(&log).expect("log"))),
    };
    let mut replayed = replay(vec![input], &cfg, FormatChoice::Auto).expect("replay");
    let report = replayed.report();
    assert_eq!(report.input().duplicates + report.input().late, 0);
    let queues = snap["queues"].as_array().expect("queues");
    assert!(!queues.is_empty());
    for q in queues {
        let name = q["queue"].as_str().expect("name");
        let want = report.queue_totals(name).expect("queue in replay");
        let got = &q["today"];
        for (k, v) in [
            ("arrived", want.arrived),
            ("answered", want.answered),
            ("abandoned", want.abandoned),
            ("exited", want.exited),
            ("sl_met", want.sl_met),
            ("sl_missed", want.sl_missed),
            ("handled", want.handled),
        ] {
            assert_eq!(
                got[k].as_u64(),
                Some(v),
                "{name}.{k} after a SIGKILL and a restart"
            );
        }
    }
}
