//! The shipped systemd unit (`deploy/systemd/ccpulse.service`): its command line and
//! environment start a daemon that keeps its state where the unit says and stops
//! cleanly on the unit's kill signal; `systemd-analyze` verifies the unit and rates its
//! hardening, and every system call a traced daemon makes passes the unit's filter (the
//! `#[ignore]`d tests: scripts/test.sh installs `systemd` and `strace`).

#[path = "common/daemon.rs"]
mod daemon;

use daemon::{http, spawn_daemon};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const UNIT: &str = include_str!("../deploy/systemd/ccpulse.service");

/// The values of `key=` lines in the `[Service]` section, in order.
fn service_values(key: &str) -> Vec<String> {
    let mut section = "";
    let mut out = Vec::new();
    for line in UNIT.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line;
        } else if section == "[Service]" {
            if let Some(v) = line.strip_prefix(key).and_then(|r| r.strip_prefix('=')) {
                out.push(v.to_string());
            }
        }
    }
    out
}

fn one(key: &str) -> String {
    let v = service_values(key);
    assert_eq!(v.len(), 1, "one {key}= in the unit: {v:?}");
    v[0].clone()
}

/// A queue_log of one answered call, `ago` seconds before now.
fn queue_log(path: &Path) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let t = now - 120;
    let text = format!(
        "{t}|{t}.1|sales|NONE|ENTERQUEUE||1001|1\n\
         {}|{t}.1|sales|PJSIP/400|CONNECT|5|{t}.2|3\n\
         {}|{t}.1|sales|PJSIP/400|COMPLETECALLER|5|60|1\n",
        t + 5,
        t + 65
    );
    std::fs::write(path, text).expect("queue_log");
}

#[test]
fn the_units_command_and_environment_run_the_daemon_and_keep_its_state() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (etc, state, qlog) = (
        dir.path().join("etc"),
        dir.path().join("var-lib-ccpulse"),
        dir.path().join("queue_log"),
    );
    std::fs::create_dir_all(&etc).expect("etc");
    std::fs::create_dir_all(&state).expect("state");
    queue_log(&qlog);
    // The config's own data_dir must lose to the unit's environment.
    let config_dir = dir.path().join("config-data-dir");
    let config = etc.join("ccpulse.toml");
    std::fs::write(
        &config,
        format!(
            "[daemon]\nlisten = \"127.0.0.1:0\"\ndata_dir = \"{}\"\n\n\
             [[sources]]\nkind = \"file\"\nname = \"asterisk\"\npath = \"{}\"\n\
             format = \"queue_log\"\nstart_at = \"beginning\"\npoll_interval = \"50ms\"\n",
            config_dir.display(),
            qlog.display()
        ),
    )
    .expect("config");

    // ExecStart with the test's binary and config; Environment= with the state
    // directory moved under the temporary directory.
    let exec = one("ExecStart");
    let args: Vec<String> = exec
        .split_whitespace()
        .skip(1)
        .map(|a| a.replace("/etc/ccpulse/ccpulse.toml", &config.display().to_string()))
        .collect();
    assert!(exec.starts_with("/usr/local/bin/ccpulse run "), "{exec}");
    assert!(
        args.iter().any(|a| a == &config.display().to_string()),
        "the unit names /etc/ccpulse/ccpulse.toml: {exec}"
    );
    let env: Vec<(String, String)> = service_values("Environment")
        .iter()
        .map(|kv| {
            let (k, v) = kv.split_once('=').expect("KEY=VALUE");
            let v = v.replace("/var/lib/ccpulse", &state.display().to_string());
            (k.to_string(), v)
        })
        .collect();
    assert!(
        env.iter().any(|(k, _)| k == "CCPULSE__DAEMON__DATA_DIR"),
        "the unit sets the data directory: {env:?}"
    );
    assert_eq!(
        one("StateDirectory"),
        "ccpulse",
        "/var/lib/ccpulse is the state"
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (mut child, addr) = spawn_daemon(&args, |cmd| {
        cmd.envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    });

    // The queue_log's three events arrive.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, body) = http(&addr, "GET", "/api/v1/snapshot", "", "").expect("GET");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        if status == 200 && v["engine"]["applied"] == 3 {
            break;
        }
        assert!(Instant::now() < deadline, "not ingested: {status} {body}");
        std::thread::sleep(Duration::from_millis(50));
    }

    // The unit's KillSignal, within its TimeoutStopSec.
    assert_eq!(one("KillSignal"), "SIGTERM");
    let stop = one("TimeoutStopSec");
    let stop_s: u64 = stop.trim_end_matches('s').parse().expect("seconds");
    let pid = child.id();
    let status = daemon::terminate(pid, &mut child, Duration::from_secs(stop_s));
    assert!(status.success(), "{status}");
    // Restart=on-failure restarts crashes only: a clean stop is exit 0.
    assert_eq!(one("Restart"), "on-failure");

    // The checkpoint and the file source's offset are in the unit's state directory.
    let names = |d: &Path| -> Vec<String> {
        std::fs::read_dir(d)
            .map(|r| {
                r.filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    assert!(
        names(&state).iter().any(|n| n == "engine.json"),
        "the engine's checkpoint in {}: {:?}",
        state.display(),
        names(&state)
    );
    let offsets = names(&state.join("sources"));
    assert!(
        offsets.iter().any(|n| n.contains("asterisk")),
        "the offset of source `asterisk`: {offsets:?}"
    );
    assert!(!config_dir.exists(), "the config's data_dir was overridden");
}

/// `systemd-analyze` on a copy of the unit whose ExecStart is this build's binary.
fn analyze(args: &[&str]) -> std::process::Output {
    let dir = tempfile::tempdir().expect("tempdir");
    let unit = dir.path().join("ccpulse.service");
    let text = UNIT.replace("/usr/local/bin/ccpulse", env!("CARGO_BIN_EXE_ccpulse"));
    std::fs::write(&unit, text).expect("unit");
    let unit = unit.display().to_string();
    let mut all: Vec<&str> = args.to_vec();
    all.push(&unit);
    Command::new("systemd-analyze")
        .args(&all)
        .output()
        .expect("systemd-analyze (package systemd)")
}

#[test]
#[ignore = "needs systemd-analyze (scripts/test.sh installs systemd)"]
fn systemd_analyze_verifies_the_unit_without_a_warning() {
    let out = analyze(&["verify"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.trim().is_empty(), "warnings: {err}");
}

#[test]
#[ignore = "needs systemd-analyze (scripts/test.sh installs systemd)"]
fn the_units_hardening_rates_ok() {
    // Exposure 0.0 (locked down) to 10.0 (unsafe); 2.0 and under rates "OK".
    let out = analyze(&["security", "--offline=true", "--threshold=20"]);
    let text = String::from_utf8_lossy(&out.stdout);
    let level: f64 = text
        .lines()
        .find_map(|l| l.split("Overall exposure level for ").nth(1))
        .and_then(|r| r.split(": ").nth(1))
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no exposure level: {text}"));
    assert!(level <= 2.0, "exposure {level}");
    assert!(out.status.success(), "{text}");
}

/// The system calls an unconfined set (`@system-service` after `~@privileged`) as
/// `systemd-analyze syscall-filter` lists them, groups expanded.
fn allowed_syscalls() -> std::collections::HashSet<String> {
    let out = Command::new("systemd-analyze")
        .arg("syscall-filter")
        .output()
        .expect("systemd-analyze (package systemd)");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut groups: std::collections::HashMap<String, Vec<String>> = Default::default();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if line.starts_with('@') {
            let name = line
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_string();
            groups.insert(name.clone(), Vec::new());
            current = Some(name);
        } else if let (Some(g), Some(item)) = (&current, line.split_whitespace().next()) {
            if !item.starts_with('#') {
                groups.entry(g.clone()).or_default().push(item.to_string());
            }
        }
    }
    fn expand(
        groups: &std::collections::HashMap<String, Vec<String>>,
        g: &str,
        seen: &mut std::collections::HashSet<String>,
        out: &mut std::collections::HashSet<String>,
    ) {
        for item in groups.get(g).into_iter().flatten() {
            if item.starts_with('@') {
                if seen.insert(item.clone()) {
                    expand(groups, item, seen, out);
                }
            } else {
                out.insert(item.clone());
            }
        }
    }
    let (mut allowed, mut privileged) = (Default::default(), Default::default());
    expand(
        &groups,
        "@system-service",
        &mut Default::default(),
        &mut allowed,
    );
    expand(
        &groups,
        "@privileged",
        &mut Default::default(),
        &mut privileged,
    );
    assert!(
        allowed.len() > 100,
        "the @system-service set: {}",
        allowed.len()
    );
    allowed.difference(&privileged).cloned().collect()
}

#[test]
#[ignore = "needs strace and systemd-analyze (scripts/test.sh installs them)"]
fn every_system_call_the_daemon_makes_passes_the_units_filter() {
    // The unit's filter, as this test checks it.
    assert_eq!(
        service_values("SystemCallFilter"),
        ["@system-service", "~@privileged"]
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let (qlog, trace) = (dir.path().join("queue_log"), dir.path().join("trace"));
    queue_log(&qlog);
    let config = dir.path().join("ccpulse.toml");
    std::fs::write(
        &config,
        format!(
            "[daemon]\nlisten = \"127.0.0.1:0\"\ndata_dir = \"{}\"\n\n[auth]\ntoken = \"s3cret-s3cret-s3cret\"\n\n\
             [[sources]]\nkind = \"file\"\nname = \"asterisk\"\npath = \"{}\"\n\
             format = \"queue_log\"\nstart_at = \"beginning\"\npoll_interval = \"50ms\"\n",
            dir.path().join("data").display(),
            qlog.display()
        ),
    )
    .expect("config");
    let mut cmd = Command::new("strace");
    cmd.args(["-f", "-qq", "-o"])
        .arg(&trace)
        .arg(env!("CARGO_BIN_EXE_ccpulse"))
        .args(["run", "--config"])
        .arg(&config)
        .env("RUST_LOG", "info");
    let (mut child, addr) = daemon::spawn_command(cmd);
    // Its work: the file source, reads under the token, /metrics, the page; then a stop.
    let auth = "Authorization: Bearer s3cret-s3cret-s3cret\r\n";
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, body) = http(&addr, "GET", "/api/v1/snapshot", auth, "").expect("GET");
        if status == 200 && body.contains("\"applied\":3") {
            break;
        }
        assert!(Instant::now() < deadline, "not ingested: {status} {body}");
        std::thread::sleep(Duration::from_millis(50));
    }
    for path in ["/metrics", "/", "/api/v1/alerts"] {
        http(&addr, "GET", path, auth, "").expect("GET");
    }
    // SIGTERM to the daemon (strace's child); strace exits when it has.
    let pgrep = Command::new("pgrep")
        .args(["-P", &child.id().to_string()])
        .output()
        .expect("pgrep");
    let pid = String::from_utf8_lossy(&pgrep.stdout).trim().to_string();
    assert!(!pid.is_empty(), "the traced daemon's pid");
    let pid: u32 = pid.parse().expect("a pid");
    daemon::terminate(pid, &mut child, Duration::from_secs(30));
    let text = std::fs::read_to_string(&trace).expect("trace");
    let used: std::collections::BTreeSet<String> = text
        .lines()
        .filter_map(|l| {
            // "<pid> name(args…" (strace -f), or "<pid> <... name resumed>".
            let call = l.split_whitespace().nth(1)?;
            let name = call.split('(').next()?;
            (name.len() < call.len()
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
            .then(|| name.to_string())
        })
        .collect();
    assert!(used.len() > 20, "a trace of the daemon: {used:?}");
    let allowed = allowed_syscalls();
    let refused: Vec<&String> = used.iter().filter(|s| !allowed.contains(*s)).collect();
    assert!(
        refused.is_empty(),
        "calls the unit's filter refuses: {refused:?}"
    );
}
