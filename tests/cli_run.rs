//! `ccpulse run` as a process: it says where it listens, serves, and exits 0 on SIGTERM.

#[path = "common/daemon.rs"]
mod daemon;

use daemon::http;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn run_serves_the_demo_and_stops_on_sigterm() {
    // Killed if the test fails before the SIGTERM below.
    let mut child = daemon::DaemonChild(
        Command::new(env!("CARGO_BIN_EXE_ccpulse"))
            .args(["run", "--listen", "127.0.0.1:0", "--speed", "600"])
            .env("RUST_LOG", "info")
            // The machine's zone: the demo (no config) cuts its days and shows its clock in it.
            .env("TZ", "America/New_York")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn ccpulse run"),
    );
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    // The daemon logs its address once bound: read up to that line.
    let addr = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| {
            let rest = l.split("listening on http://").nth(1)?;
            rest.split('/').next().map(str::to_string)
        })
        .expect("the daemon says where it listens");

    let (status, body) = http(&addr, "GET", "/healthz", "", "").expect("GET /healthz");
    assert_eq!(status, 200, "{body}");

    // The demo's teams come with their week's schedule: 24 agents × 8 days × a shift
    // and three breaks.
    let deadline = Instant::now() + Duration::from_secs(30);
    let import = loop {
        let (_, body) = http(&addr, "GET", "/api/v1/schedule", "", "").expect("GET schedule");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        if v["import"]["source"] == "demo" {
            break v["import"].clone();
        }
        assert!(Instant::now() < deadline, "no demo schedule: {body}");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(import["accepted"], 24 * 8 * 4, "{import}");
    assert_eq!(import["rejected"], 0, "{import}");
    // (503 until the first snapshot is published.)
    let snap = loop {
        let (status, body) = http(&addr, "GET", "/api/v1/snapshot", "", "").expect("GET");
        if status == 200 {
            break serde_json::from_str::<serde_json::Value>(&body).unwrap_or_default();
        }
        assert!(Instant::now() < deadline, "no snapshot: {status} {body}");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(
        snap["time_zone"], "America/New_York",
        "{}",
        snap["time_zone"]
    );

    let pid = child.id().to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait") {
            break st;
        }
        assert!(Instant::now() < deadline, "the daemon did not stop");
        std::thread::sleep(Duration::from_millis(20));
    };
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(status.success(), "{status}: {rest:?}");
    assert!(
        rest.iter().any(|l| l.contains("SIGTERM: shutting down")),
        "{rest:?}"
    );
    assert!(
        rest.iter().any(|l| l.contains("stopped cleanly")),
        "{rest:?}"
    );
}

#[test]
fn run_rejects_a_bad_speed_with_exit_2() {
    let out = Command::new(env!("CARGO_BIN_EXE_ccpulse"))
        .args(["run", "--speed", "0"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--speed"));
}

#[test]
fn run_rejects_a_bad_listen_address_with_exit_2() {
    let out = Command::new(env!("CARGO_BIN_EXE_ccpulse"))
        .args(["run", "--listen", "nowhere"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("daemon.listen"));
}
