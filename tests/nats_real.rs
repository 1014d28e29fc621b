//! The durable bus against a real NATS JetStream server (Debian package `nats-server`,
//! started here on a loopback port, its store in a temporary directory): adapters
//! publish JSON lines to a stream, the daemon (the binary, `kind = "nats"`) reads it,
//! is killed with SIGKILL mid-stream, more messages are published, it is started again;
//! then the server goes away (the source is down) and comes back with the rest — and
//! the daemon's numbers equal `ccpulse replay` of every line: no event lost, none
//! counted twice. Also: the source's health and its rejected line in `/metrics`.
//!
//! `#[ignore]`d for plain `cargo test`: `scripts/test.sh` installs `nats-server` and
//! runs it.

#[path = "common/daemon.rs"]
mod daemon;
#[path = "common/restart_support.rs"]
mod restart_support;
use daemon::http;
use restart_support::{
    assert_queues_equal, free_port, poll_until, sim_lines, start, wait_applied, wait_checkpoint,
    write_config,
};

use ccpulse::config::Config;
use ccpulse::decode::FormatChoice;
use ccpulse::replay::{replay, Input};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Lines per published message.
const PER_MESSAGE: usize = 7;

/// A `nats-server -js` on a loopback port; killed when dropped.
struct NatsServer {
    child: Child,
    url: String,
    port: u16,
}

impl NatsServer {
    /// On a free port.
    fn start(store: &Path) -> NatsServer {
        NatsServer::start_on(store, free_port())
    }

    /// On `port` (a server coming back where it was), its JetStream store in `store`.
    fn start_on(store: &Path, port: u16) -> NatsServer {
        let bin = ["/usr/sbin/nats-server", "/usr/bin/nats-server"]
            .into_iter()
            .map(PathBuf::from)
            .find(|p| p.exists())
            .expect("nats-server is not installed (scripts/test.sh installs the Debian package)");
        let child = Command::new(bin)
            .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
            .arg(store)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nats-server");
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "nats-server did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        NatsServer {
            child,
            port,
            url: format!("nats://127.0.0.1:{port}"),
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Publishes `messages` to the stream (each acknowledged by JetStream), creating the
/// stream `ACD` on `acd.>` first if it does not exist.
fn publish(url: &str, messages: Vec<Vec<u8>>) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let client = async_nats::connect(url).await.expect("connect");
        let js = async_nats::jetstream::new(client);
        js.get_or_create_stream(async_nats::jetstream::stream::Config {
            name: "ACD".into(),
            subjects: vec!["acd.>".into()],
            ..Default::default()
        })
        .await
        .expect("stream");
        for (i, m) in messages.into_iter().enumerate() {
            let subject = format!("acd.site{}", i % 2);
            js.publish(subject, m.into())
                .await
                .expect("publish")
                .await
                .expect("ack");
        }
    });
}

/// Groups lines into messages of [`PER_MESSAGE`] lines.
fn messages(lines: &[Vec<u8>]) -> Vec<Vec<u8>> {
    lines.chunks(PER_MESSAGE).map(|c| c.concat()).collect()
}

#[test]
#[ignore = "needs nats-server (scripts/test.sh installs it)"]
fn the_bus_survives_a_sigkill_and_an_outage_and_equals_one_replay() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("jetstream");
    let server = NatsServer::start(&store);
    let cfg_path = dir.path().join("ccpulse.toml");
    write_config(
        &cfg_path,
        &dir.path().join("data"),
        "checkpoint_interval = \"200ms\"",
        &format!(
            "[[sources]]\nkind = \"nats\"\nname = \"bus\"\nurl = \"{}\"\nstream = \"ACD\"\n\
             subject = \"acd.>\"\nstart_at = \"beginning\"\nbackoff_min = \"50ms\"\n\
             backoff_max = \"500ms\"\n",
            server.url
        ),
    );

    let all = sim_lines(11, 2);
    let (cut, later) = (all.len() * 3 / 5, all.len() * 4 / 5);
    publish(&server.url, messages(&all[..cut]));
    let (mut first, addr) = start(&cfg_path);
    wait_applied(&addr, cut as u64);
    wait_checkpoint(&dir.path().join("data/engine.json"), cut as u64);
    first.kill().expect("SIGKILL");
    let _ = first.wait();

    // More, with one malformed line inside a message.
    let mut more = messages(&all[cut..later]);
    more[1].splice(0..0, b"{\"v\":1,\"ts\":\n".iter().copied());
    publish(&server.url, more);
    let (mut second, addr) = start(&cfg_path);
    wait_applied(&addr, later as u64);

    // The bus goes away: the source is down. It comes back with the rest.
    let port = server.port;
    drop(server);
    let metric = |name: &str| {
        http(&addr, "GET", "/metrics", "", "")
            .ok()
            .and_then(|(_, m)| m.lines().find(|l| l.starts_with(name)).map(str::to_string))
    };
    poll_until(30, || {
        let up = metric("ccpulse_source_up{source=\"bus\"}");
        (up.as_deref() == Some("ccpulse_source_up{source=\"bus\"} 0"))
            .then_some(())
            .ok_or_else(|| format!("the source never went down: {up:?}"))
    });
    let server = NatsServer::start_on(&store, port);
    publish(&server.url, messages(&all[later..]));
    let snap = wait_applied(&addr, all.len() as u64);
    let (_, metrics) = http(&addr, "GET", "/metrics", "", "").expect("metrics");
    let _ = second.kill();
    let _ = second.wait();

    let mut cfg = Config::default();
    cfg.engine.allowed_lateness = ccpulse::config::Duration(0);
    let input = Input {
        label: "bus".into(),
        reader: Box::new(std::io::Cursor::new(all.concat())),
    };
    let mut replayed = replay(vec![input], &cfg, FormatChoice::Auto).expect("replay");
    let report = replayed.report();
    assert_eq!(report.input().duplicates + report.input().late, 0);
    assert_eq!(
        snap["engine"]["late"].as_u64(),
        Some(0),
        "{}",
        snap["engine"]
    );
    assert_eq!(
        snap["engine"]["duplicates"].as_u64(),
        Some(0),
        "{}",
        snap["engine"]
    );
    assert_queues_equal(&snap, &report);
    for want in [
        "ccpulse_source_up{source=\"bus\"} 1",
        "ccpulse_events_rejected_total{source=\"bus\",reason=\"truncated\"} 1",
    ] {
        assert!(
            metrics.lines().any(|l| l == want),
            "{want} missing in:\n{}",
            metrics
                .lines()
                .filter(|l| l.contains("bus"))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

/// `ccpulse simulate --nats` publishes exactly what `ccpulse simulate` writes, in
/// messages of `--lines-per-message` lines, into a stream it creates.
#[test]
#[ignore = "needs nats-server (scripts/test.sh installs it)"]
fn simulate_publishes_its_lines_to_the_stream() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = NatsServer::start(&dir.path().join("jetstream"));
    let args = [
        "simulate",
        "--start",
        "2026-11-30",
        "--duration",
        "1h",
        "--seed",
        "3",
    ];
    let bin = env!("CARGO_BIN_EXE_ccpulse");
    let written = Command::new(bin).args(args).output().expect("simulate");
    assert!(written.status.success());
    let published = Command::new(bin)
        .args(args)
        .args([
            "--nats",
            &server.url,
            "--stream",
            "SIM",
            "--subject",
            "acd.sim",
        ])
        .args(["--lines-per-message", "50"])
        .output()
        .expect("simulate --nats");
    assert!(
        published.status.success(),
        "{}",
        String::from_utf8_lossy(&published.stderr)
    );

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let messages: Vec<Vec<u8>> = rt.block_on(async {
        use futures_util::StreamExt;
        let client = async_nats::connect(server.url.as_str())
            .await
            .expect("connect");
        let js = async_nats::jetstream::new(client);
        let stream = js.get_stream("SIM").await.expect("the stream was created");
        let consumer = stream
            .create_consumer(async_nats::jetstream::consumer::pull::OrderedConfig::default())
            .await
            .expect("consumer");
        let mut pending = consumer.cached_info().num_pending;
        let mut out = Vec::new();
        let mut msgs = consumer.messages().await.expect("messages");
        while pending > 0 {
            let m = msgs.next().await.expect("a message").expect("ok");
            pending = m.info().expect("info").pending;
            out.push(m.payload.to_vec());
        }
        out
    });
    let lines_of = |m: &[u8]| m.iter().filter(|&&b| b == b'\n').count();
    assert!(messages.iter().all(|m| lines_of(m) <= 50));
    let total: usize = messages.iter().map(|m| lines_of(m)).sum();
    assert_eq!(
        messages.len(),
        total.div_ceil(50),
        "full messages but the last"
    );
    assert_eq!(messages.concat(), written.stdout);
}
