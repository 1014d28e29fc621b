//! The `ccpulse` binary as a child process, for tests that need a real daemon (signals,
//! restarts, environment).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// Spawns `ccpulse` with `args` (and `RUST_LOG=info`) after `setup` adjusts the command
/// (environment); reads its log up to the line saying where it listens, then keeps
/// draining it so the daemon never blocks on a full pipe. Returns the child and the
/// `host:port` it listens on.
#[allow(dead_code)]
pub fn spawn_daemon(args: &[&str], setup: impl FnOnce(&mut Command)) -> (Child, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ccpulse"));
    cmd.args(args)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    setup(&mut cmd);
    let mut child = cmd.spawn().expect("spawn ccpulse");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let found = lines.by_ref().map_while(Result::ok).find_map(|l| {
        let rest = l.split("listening on http://").nth(1)?;
        rest.split('/').next().map(str::to_string)
    });
    let Some(addr) = found else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("the daemon never said where it listens");
    };
    std::thread::spawn(move || lines.for_each(drop));
    (child, addr)
}
