//! The `ccpulse` binary as a child process, for tests that need a real daemon (signals,
//! restarts, environment).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A daemon child process, killed and reaped when dropped: a test that fails (panics)
/// leaves no daemon running behind it. Use it as the `Child` it derefs to.
#[derive(Debug)]
pub struct DaemonChild(pub Child);

impl std::ops::Deref for DaemonChild {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for DaemonChild {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for DaemonChild {
    fn drop(&mut self) {
        // Already exited (and waited for) in most tests: both calls are then no-ops.
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Spawns `ccpulse` with `args` (and `RUST_LOG=info`) after `setup` adjusts the command
/// (environment); reads its log up to the line saying where it listens, then keeps
/// draining it so the daemon never blocks on a full pipe. Returns the child (killed if
/// dropped while running) and the `host:port` it listens on.
#[allow(dead_code)]
pub fn spawn_daemon(args: &[&str], setup: impl FnOnce(&mut Command)) -> (DaemonChild, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ccpulse"));
    cmd.args(args).env("RUST_LOG", "info");
    setup(&mut cmd);
    spawn_command(cmd)
}

/// Spawns `cmd` (the daemon, or a tool that runs it such as strace) with its stderr
/// piped; reads the daemon's log up to where it says it listens, then keeps draining it
/// (a closed or full pipe would fail or block its writes). The child is killed if
/// dropped while running.
#[allow(dead_code)]
pub fn spawn_command(mut cmd: Command) -> (DaemonChild, String) {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn the daemon");
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
    (DaemonChild(child), addr)
}

/// Sends SIGTERM to process `pid` and waits up to `limit` for `child` to exit (the same
/// process, or a tracer that exits with it); its exit status.
#[allow(dead_code)]
pub fn terminate(pid: u32, child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let killed = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(killed.success(), "kill -TERM {pid}");
    let deadline = std::time::Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not stopped within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// One HTTP/1.1 request to the daemon at `addr` (`Connection: close`, reads bounded by
/// 10 s): the status and the body. `headers` are extra lines, each ending in `\r\n`.
#[allow(dead_code)]
pub fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &str,
    body: &str,
) -> std::io::Result<(u16, String)> {
    http_with_head(addr, method, path, headers, body).map(|(status, _, body)| (status, body))
}

/// [`http`], also giving the response's head (status line and headers) as text.
#[allow(dead_code)]
pub fn http_with_head(
    addr: &str,
    method: &str,
    path: &str,
    headers: &str,
    body: &str,
) -> std::io::Result<(u16, String, String)> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut resp = String::new();
    s.read_to_string(&mut resp)?;
    let status = resp
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("no status line: {resp}")))?;
    let (head, body) = resp.split_once("\r\n\r\n").unwrap_or((&resp, ""));
    Ok((status, head.to_string(), body.to_string()))
}
