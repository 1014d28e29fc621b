//! Alerts reach a receiver over HTTPS, as Slack and Teams webhooks are: the daemon
//! binary, trusting a test CA through `SSL_CERT_FILE` (read by the system certificate
//! store the notifier uses), posts a firing alert to a TLS server (rustls, a server
//! certificate for 127.0.0.1 signed by that CA, both made with the `openssl` CLI). Without
//! the CA it must refuse the server: the certificate is really checked.

#[path = "common/daemon.rs"]
mod daemon;
#[path = "common/tls.rs"]
mod tls;
use daemon::http;
use tls::{make_certs, server_config, start_trusting as start};

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A TLS server on a loopback port: every request's body goes to the channel and is
/// answered `200`.
fn https_receiver(dir: &Path) -> (u16, mpsc::Receiver<String>) {
    let config = server_config(dir);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let Ok(conn) = rustls::ServerConnection::new(config.clone()) else {
                continue;
            };
            let tx = tx.clone();
            std::thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                let mut tls = BufReader::new(rustls::StreamOwned::new(conn, stream));
                // One request per connection is enough for the test (a refused
                // handshake ends here with an error).
                let mut len = 0usize;
                let mut line = String::new();
                loop {
                    line.clear();
                    match tls.read_line(&mut line) {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {}
                    }
                    if line == "\r\n" {
                        break;
                    }
                    if let Some((k, v)) = line.split_once(':') {
                        if k.eq_ignore_ascii_case("content-length") {
                            len = v.trim().parse().unwrap_or(0);
                        }
                    }
                }
                let mut body = vec![0; len];
                if tls.read_exact(&mut body).is_err() {
                    return;
                }
                let _ = tx.send(String::from_utf8_lossy(&body).into_owned());
                let tls = tls.get_mut();
                let _ = tls.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
                let _ = tls.flush();
                tls.conn.send_close_notify();
                let _ = tls.flush();
            });
        }
    });
    (port, rx)
}

/// Pushes one waiting caller (now) through `POST /api/v1/events`.
fn push_waiting_caller(addr: &str) {
    let ts = jiff::Timestamp::now();
    let body = format!(
        "{{\"v\":1,\"ts\":\"{ts}\",\"type\":\"contact_queued\",\"contact\":\"c-1\",\"queue\":\"sales\"}}\n"
    );
    let (status, resp) = http(
        addr,
        "POST",
        "/api/v1/events",
        "Content-Type: application/x-ndjson\r\n",
        &body,
    )
    .expect("post");
    assert_eq!(status, 200, "{resp}");
}

/// `GET /metrics`, the body.
fn metrics_text(addr: &str) -> String {
    http(addr, "GET", "/metrics", "", "").expect("get").1
}

/// `ccpulse_notifications_total` of the receiver for `result`, from `/metrics`.
fn notifications(addr: &str, result: &str) -> u64 {
    let resp = metrics_text(addr);
    let want = format!("ccpulse_notifications_total{{notifier=\"tls-hook\",result=\"{result}\"}} ");
    resp.lines()
        .find_map(|l| l.strip_prefix(&want)?.trim().parse().ok())
        .unwrap_or(0)
}

/// A daemon with one rule (a caller waiting fires it at once) and one webhook receiver
/// at `https://127.0.0.1:port/hook`. The lateness is not 0: the idle push source lets
/// event time follow the clock, and the caller, stamped just before it is sent, would
/// arrive late.
fn write_config(dir: &Path, port: u16) -> std::path::PathBuf {
    let listen = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port");
    std::fs::create_dir_all(dir).expect("dir");
    let path = dir.join("ccpulse.toml");
    std::fs::write(
        &path,
        format!(
            "[daemon]\nlisten = \"{listen}\"\ndata_dir = \"{}\"\ntick = \"100ms\"\ndemo = false\n\
             [engine]\nallowed_lateness = \"1s\"\n\
             [alerts]\ndefaults = false\n\
             [[alerts.rules]]\nname = \"ContactsWaitingHigh\"\nmetric = \"contacts_waiting\"\nop = \"above\"\nthreshold = 0\n\
             [[alerts.receivers]]\nname = \"tls-hook\"\nkind = \"webhook\"\nurl = \"https://127.0.0.1:{port}/hook\"\n\
             group_wait = \"0s\"\nretries = 0\ntimeout = \"5s\"\n",
            dir.join("data").display()
        ),
    )
    .expect("config");
    path
}

#[test]
#[ignore = "needs the openssl CLI (scripts/test.sh installs it)"]
fn a_firing_alert_is_posted_over_https_to_a_receiver_the_system_store_trusts() {
    let dir = tempfile::tempdir().expect("tempdir");
    make_certs(dir.path());
    let (port, bodies) = https_receiver(dir.path());

    // Trusted through SSL_CERT_FILE: the alert arrives.
    let config = write_config(dir.path(), port);
    let (mut daemon, addr) = start(&config, Some(&dir.path().join("ca.pem")));
    push_waiting_caller(&addr);
    let Ok(body) = bodies.recv_timeout(Duration::from_secs(30)) else {
        let m = metrics_text(&addr);
        let _ = daemon.kill();
        panic!(
            "the alert was not posted over TLS; /metrics says:\n{}",
            m.lines()
                .filter(|l| l.contains("notification") || l.contains("alerts_firing"))
                .collect::<Vec<_>>()
                .join("\n")
        );
    };
    let _ = daemon.kill();
    let _ = daemon.wait();
    let doc: serde_json::Value = serde_json::from_str(&body).expect("JSON body");
    let text = doc.to_string();
    assert!(text.contains("ContactsWaitingHigh"), "{text}");
    assert!(text.contains("sales"), "{text}");
    assert!(text.contains("firing"), "{text}");

    // Not trusted: the handshake fails, nothing is delivered, the failure is counted.
    let config = write_config(&dir.path().join("untrusted"), port);
    let (mut daemon, addr) = start(&config, None);
    push_waiting_caller(&addr);
    let deadline = Instant::now() + Duration::from_secs(30);
    while notifications(&addr, "failure") == 0 {
        assert!(
            Instant::now() < deadline,
            "the refused delivery was never counted"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(notifications(&addr, "success"), 0);
    let _ = daemon.kill();
    let _ = daemon.wait();
    assert!(
        bodies.try_recv().is_err(),
        "nothing reached the server without the CA"
    );
}
