//! The websocket client source over TLS (`wss://`), as cloud ACD adapters serve their
//! feeds: the daemon binary, trusting a test CA through `SSL_CERT_FILE`, connects to a
//! TLS websocket feed (rustls and tungstenite, a certificate for 127.0.0.1 signed by that
//! CA, both made with the `openssl` CLI) and ingests its events. Without the CA it must
//! refuse the feed and stay down: the certificate is really checked.

#[path = "common/daemon.rs"]
mod daemon;
#[path = "common/tls.rs"]
mod tls;
use daemon::http;
use tls::{make_certs, server_config, start_trusting as start};

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::{self, Message};

/// Events the feed sends on each connection.
const EVENTS: usize = 5;

/// A TLS websocket feed on a loopback port: each connection gets one text frame of
/// `EVENTS` contacts queued now, then stays open until the client leaves.
fn wss_feed(dir: &Path) -> u16 {
    let config = server_config(dir);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let Ok(conn) = rustls::ServerConnection::new(config.clone()) else {
                continue;
            };
            std::thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
                // A refused certificate ends the handshake here, with an error.
                let Ok(mut ws) = tungstenite::accept(rustls::StreamOwned::new(conn, stream)) else {
                    return;
                };
                let ts = jiff::Timestamp::now().as_millisecond();
                let lines: Vec<String> = (0..EVENTS)
                    .map(|i| {
                        format!(
                            r#"{{"v":1,"ts":{ts},"type":"contact_queued","contact":"c-{i}","queue":"sales"}}"#
                        )
                    })
                    .collect();
                if ws.send(Message::text(lines.join("\n"))).is_err() {
                    return;
                }
                // Answers pings until the client goes.
                while ws.read().is_ok() {}
            });
        }
    });
    port
}

/// A daemon whose only source is the feed at `wss://127.0.0.1:port/events`.
fn write_config(dir: &Path, name: &str, port: u16) -> PathBuf {
    let listen = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port");
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(
        &path,
        format!(
            "[daemon]\nlisten = \"{listen}\"\ndata_dir = \"{}\"\ntick = \"100ms\"\ndemo = false\n\
             [engine]\nallowed_lateness = \"1s\"\n\
             [[sources]]\nkind = \"websocket\"\nname = \"acd\"\nurl = \"wss://127.0.0.1:{port}/events\"\n\
             backoff_min = \"100ms\"\nbackoff_max = \"500ms\"\n",
            dir.join(format!("data-{name}")).display()
        ),
    )
    .expect("config");
    path
}

/// A series of the `acd` source from `/metrics` (0 when absent).
fn source_metric(addr: &str, series: &str) -> f64 {
    let text = http(addr, "GET", "/metrics", "", "").expect("metrics").1;
    let want = format!("{series}{{source=\"acd\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&want)?.trim().parse().ok())
        .unwrap_or(0.0)
}

#[test]
#[ignore = "needs the openssl CLI (scripts/test.sh installs it)"]
fn a_wss_feed_is_read_when_its_ca_is_trusted_and_refused_when_not() {
    let dir = tempfile::tempdir().expect("tempdir");
    make_certs(dir.path());
    let port = wss_feed(dir.path());

    // Not trusted: the handshake fails, the source stays down, nothing is ingested.
    let config = write_config(dir.path(), "untrusted", port);
    let (mut daemon, addr) = start(&config, None);
    std::thread::sleep(Duration::from_secs(2));
    let (up, ingested) = (
        source_metric(&addr, "ccpulse_source_up"),
        source_metric(&addr, "ccpulse_events_ingested_total"),
    );
    let _ = daemon.kill();
    let _ = daemon.wait();
    assert_eq!(
        (up, ingested),
        (0.0, 0.0),
        "an untrusted feed must be refused"
    );

    // Trusted through SSL_CERT_FILE: the feed's events arrive.
    let config = write_config(dir.path(), "trusted", port);
    let (mut daemon, addr) = start(&config, Some(&dir.path().join("ca.pem")));
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut ingested = 0.0;
    while Instant::now() < deadline {
        ingested = source_metric(&addr, "ccpulse_events_ingested_total");
        if ingested >= EVENTS as f64 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let up = source_metric(&addr, "ccpulse_source_up");
    let _ = daemon.kill();
    let _ = daemon.wait();
    assert_eq!(
        (up, ingested),
        (1.0, EVENTS as f64),
        "the feed over TLS: up, every event"
    );
}
