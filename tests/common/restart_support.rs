//! What the restart tests share: a simulated morning that the wall clock never
//! overtakes, and waiting on a daemon child until it has applied (and checkpointed) a
//! number of events. Needs `mod daemon` (common/daemon.rs) beside it.

use crate::daemon::{http, spawn_daemon, DaemonChild};
use ccpulse::encode::jsonl::JsonlWriter;
use ccpulse::sim::{SimConfig, Simulator};
use std::path::Path;
use std::time::{Duration, Instant};

/// Tomorrow's 08:00 UTC: the simulated morning starts there, so the wall clock never
/// overtakes its events.
pub fn morning() -> i64 {
    let now = jiff::Timestamp::now().as_millisecond();
    now - now.rem_euclid(86_400_000) + 86_400_000 + 8 * 3_600_000
}

/// `hours` of the demo center from [`morning`] (seed `seed`), as JSON lines.
pub fn sim_lines(seed: u64, hours: i64) -> Vec<Vec<u8>> {
    let mut cfg = SimConfig::demo(seed);
    cfg.start = morning();
    cfg.duration_ms = hours * 3_600_000;
    let mut w = JsonlWriter::new();
    Simulator::new(&cfg)
        .expect("demo")
        .filter_map(|e| {
            let mut b = Vec::new();
            w.write(&e, &mut b).ok().map(|_| b)
        })
        .collect()
}

/// A free loopback port (free when asked).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port()
}

/// Writes a config: `[daemon]` on a free loopback port with `data_dir`, a 100 ms tick
/// and `daemon_keys`, no allowed lateness, then `rest` (more sections).
pub fn write_config(path: &Path, data_dir: &Path, daemon_keys: &str, rest: &str) {
    let port = free_port();
    std::fs::write(
        path,
        format!(
            "[daemon]\nlisten = \"127.0.0.1:{port}\"\ndata_dir = \"{}\"\ntick = \"100ms\"\n{daemon_keys}\n\
             [engine]\nallowed_lateness = \"0s\"\n{rest}",
            data_dir.display()
        ),
    )
    .expect("config");
}

/// `ccpulse run --config config`: the child and the address it listens on.
pub fn start(config: &Path) -> (DaemonChild, String) {
    spawn_daemon(&["run", "--config", config.to_str().expect("utf8")], |_| {})
}

/// `GET path` as JSON, if the daemon answers with JSON.
pub fn get(addr: &str, path: &str) -> Option<serde_json::Value> {
    let (_, body) = http(addr, "GET", path, "", "").ok()?;
    serde_json::from_str(&body).ok()
}

/// Polls every 50 ms until `poll` gives a value; after `secs` seconds fails with its
/// last reason for not having one.
pub fn poll_until<T>(secs: u64, mut poll: impl FnMut() -> Result<T, String>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        match poll() {
            Ok(v) => return v,
            Err(why) => assert!(Instant::now() < deadline, "{why}"),
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits until the daemon has applied `n` events; returns its snapshot then.
pub fn wait_applied(addr: &str, n: u64) -> serde_json::Value {
    poll_until(60, || {
        get(addr, "/api/v1/snapshot")
            .filter(|s| s["engine"]["applied"].as_u64() == Some(n))
            .ok_or_else(|| format!("the daemon never applied {n} events"))
    })
}

/// Waits until the periodic checkpoint on disk covers `n` applied events.
pub fn wait_checkpoint(path: &Path, n: u64) {
    poll_until(60, || {
        let saved = std::fs::read(path)
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|v| v["engine"]["engine"]["stats"]["applied"].as_u64());
        (saved == Some(n))
            .then_some(())
            .ok_or_else(|| format!("no checkpoint with {n} events (saw {saved:?})"))
    })
}

/// Each queue's `today` in the daemon's snapshot `snap` equals its totals in the replay
/// `report` of the same events.
pub fn assert_queues_equal(snap: &serde_json::Value, report: &ccpulse::report::Report<'_>) {
    let queues = snap["queues"].as_array().expect("queues");
    assert!(!queues.is_empty());
    for q in queues {
        let name = q["queue"].as_str().expect("name");
        let want = report.queue_totals(name).expect("queue in replay");
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
                q["today"][k].as_u64(),
                Some(v),
                "{name}.{k} after a SIGKILL and a restart"
            );
        }
    }
}
