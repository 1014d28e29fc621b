//! `ccpulse simulate` end to end: formats, determinism, limits and exit codes.

use std::process::Command;

fn simulate(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ccpulse"))
        .arg("simulate")
        .args(args)
        .output()
        .expect("run ccpulse")
}

#[test]
fn same_arguments_same_bytes() {
    let args = [
        "--start",
        "2026-11-28",
        "--duration",
        "2h",
        "--seed",
        "5",
        "--ids",
    ];
    let (a, b) = (simulate(&args), simulate(&args));
    assert!(a.status.success());
    assert!(!a.stdout.is_empty());
    assert_eq!(a.stdout, b.stdout);
    let first = String::from_utf8_lossy(&a.stdout);
    assert!(first.starts_with("{\"v\":1,\"ts\":\"2026-11-28T08:"));
}

#[test]
fn event_limit_queue_log_and_file_output() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("q.log");
    let p = path.to_str().expect("utf-8 path");
    let out = simulate(&[
        "--start",
        "2026-11-28T08:00:00Z",
        "--queues",
        "5",
        "--agents",
        "50",
        "--format",
        "queue_log",
        "--events",
        "1000",
        "--output",
        p,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&path).expect("output file");
    // Implied agent states (on_contact, ACW) write no queue_log line.
    assert!(text.lines().count() > 300);
    assert!(text.lines().all(|l| l.split('|').count() >= 6));
    assert!(text.contains("|ENTERQUEUE|"));
    let jsonl = simulate(&["--start", "2026-11-28", "--events", "1000"]);
    assert_eq!(String::from_utf8_lossy(&jsonl.stdout).lines().count(), 1000);
}

#[test]
fn bad_arguments_exit_2() {
    for args in [
        &["--duration", "soon"][..],
        &["--start", "yesterday"],
        &["--rate", "-1"],
        &["--agents", "0"],
        &["--format", "xml"],
    ] {
        let out = simulate(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}
