//! The websocket client source (`[[sources]] kind = "websocket"`): connects to an
//! ACD/adapter feed and ingests JSON lines v1, each text or binary frame holding one or
//! more lines.
//!
//! - **Handshake**: `url` (`ws://`, or `wss://`: rustls, the server's certificate
//!   checked against the system's roots, which `SSL_CERT_FILE` can replace), the configured
//!   `headers` and, with `token`, `Authorization: Bearer <token>`, within two ping
//!   intervals (clamped to 5 s – 1 min). After every (re)connect the optional
//!   `subscribe` text is sent first.
//! - **Run loop** (Vector's websocket source): one `tokio::select!` over shutdown, the
//!   ping tick and the next message. Every `ping_interval` a ping goes out; when nothing
//!   (pong or any other frame) arrived for two intervals the connection is dropped.
//! - **Failures** are classified ([`Failure::kind`]): the source reports down, logs the
//!   first failure of each kind (`warn`, with the reason; repeats are `debug` until a
//!   connection has been stable), backs off and reconnects.
//! - **Backoff**: exponential with full jitter, the delay drawn uniformly from
//!   `[0, min(backoff_max, backoff_min · 2^attempt)]`; reset after a connection that
//!   lasted at least `backoff_max`.
//! - **Bounds**: frames and messages larger than `max_frame_bytes` are never buffered:
//!   tungstenite refuses them, the frame is counted as one rejected `too_long` line and
//!   the connection is re-established (a stream cannot resume inside a refused frame).
//! - **Decoding** goes through [`JsonlDecoder`] (never here); every line is counted in
//!   the source's [`DecodeStats`](crate::decode::DecodeStats) and every event goes through
//!   [`SourceHandle::send`], waiting while the engine channel is full.
//!
//! All timers are tokio timers, so tests may run it under `tokio::time::pause()`.
//! A websocket feed has no position to resume from: events sent while the daemon was
//! stopped or disconnected are the feed's to replay (or lost), not ours.

use super::backoff::Backoff;
use super::{Source, SourceError, SourceHandle, SourceTask};
use crate::config::{check_ws_url, SourceConfig};
use crate::decode::{Decoded, JsonlDecoder, Line, LineDecoder, LineReader, RejectReason};
use crate::runtime::Shutdown;
use futures_util::{SinkExt, StreamExt};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::error::Error as WsError;
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long a close handshake may take when the daemon stops.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// Bounds of the connect + handshake timeout (two ping intervals, clamped to these).
const HANDSHAKE_TIMEOUT: (Duration, Duration) = (Duration::from_secs(5), Duration::from_secs(60));

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A websocket client source.
#[derive(Debug)]
pub struct WebsocketSource {
    name: String,
    url: String,
    /// Handshake headers, validated once here (config validation checked them too).
    headers: Vec<(HeaderName, HeaderValue)>,
    subscribe: Option<String>,
    ping: Duration,
    backoff_min: Duration,
    backoff_max: Duration,
    max_frame_bytes: usize,
}

impl WebsocketSource {
    /// The source for a `kind = "websocket"` entry.
    pub fn new(src: &SourceConfig) -> Result<Self, SourceError> {
        let bad = |message: String| SourceError::Config {
            source_name: src.name.clone(),
            message,
        };
        check_ws_url(&src.url).map_err(|m| bad(format!("url: {m}")))?;
        let mut headers = Vec::with_capacity(src.headers.len() + 1);
        for (name, value) in &src.headers {
            let n = HeaderName::from_bytes(name.as_bytes())
                .map_err(|e| bad(format!("headers: `{name}`: {e}")))?;
            let v =
                HeaderValue::from_str(value).map_err(|e| bad(format!("headers.{name}: {e}")))?;
            headers.push((n, v));
        }
        if let Some(token) = &src.token {
            let mut v = HeaderValue::from_str(&format!("Bearer {token}"))
                .map_err(|e| bad(format!("token: {e}")))?;
            v.set_sensitive(true);
            headers.push((
                tokio_tungstenite::tungstenite::http::header::AUTHORIZATION,
                v,
            ));
        }
        let dur = |d: crate::config::Duration| Duration::from_millis(d.ms().max(1).unsigned_abs());
        Ok(WebsocketSource {
            name: src.name.clone(),
            url: src.url.clone(),
            headers,
            subscribe: src.subscribe.clone(),
            ping: dur(src.ping_interval),
            backoff_min: dur(src.backoff_min),
            backoff_max: dur(src.backoff_max).max(dur(src.backoff_min)),
            max_frame_bytes: src.max_frame_bytes.max(1),
        })
    }

    /// The run loop: connect, read until the connection fails, back off, reconnect.
    async fn run_loop(
        self,
        handle: SourceHandle,
        mut shutdown: Shutdown,
    ) -> Result<(), SourceError> {
        handle.set_up(false);
        let mut backoff = Backoff::new(self.backoff_min, self.backoff_max);
        let mut logged = LoggedKinds::default();
        let mut reader = FrameReader::new(self.max_frame_bytes);
        let result = loop {
            if shutdown.is_triggered() {
                break Ok(());
            }
            let connected = tokio::select! {
                biased;
                _ = shutdown.wait() => break Ok(()),
                c = tokio::time::timeout(self.handshake_timeout(), self.connect()) => match c {
                    Ok(c) => c,
                    Err(_) => Err(Failure::ConnectTimeout),
                },
            };
            let failure = match connected {
                Ok(ws) => {
                    let since = Instant::now();
                    handle.set_up(true);
                    tracing::info!(source = %self.name, url = %self.url, "connected");
                    let end = self.session(ws, &handle, &mut shutdown, &mut reader).await;
                    handle.set_up(false);
                    if since.elapsed() >= self.backoff_max {
                        backoff.reset();
                        logged.clear();
                    }
                    match end {
                        End::Shutdown => break Ok(()),
                        End::EngineGone => break Err(SourceError::EngineGone),
                        End::Failed(f) => f,
                    }
                }
                Err(f) => f,
            };
            let delay = backoff.next_delay();
            logged.emit(&self.name, &failure, delay);
            tokio::select! {
                biased;
                _ = shutdown.wait() => break Ok(()),
                _ = tokio::time::sleep(delay) => {}
            }
        };
        handle.set_up(false);
        result
    }

    /// Two ping intervals, between 5 s and 1 min.
    fn handshake_timeout(&self) -> Duration {
        (2 * self.ping).clamp(HANDSHAKE_TIMEOUT.0, HANDSHAKE_TIMEOUT.1)
    }

    /// One handshake with the configured headers and frame bounds.
    async fn connect(&self) -> Result<Ws, Failure> {
        let mut request = self
            .url
            .as_str()
            .into_client_request()
            .map_err(|e| Failure::Connect(e.to_string()))?;
        for (name, value) in &self.headers {
            request.headers_mut().insert(name.clone(), value.clone());
        }
        let config = WebSocketConfig::default()
            .max_frame_size(Some(self.max_frame_bytes))
            .max_message_size(Some(self.max_frame_bytes));
        match tokio_tungstenite::connect_async_with_config(request, Some(config), true).await {
            Ok((ws, _response)) => Ok(ws),
            Err(WsError::Http(response)) => Err(Failure::Handshake(response.status().to_string())),
            Err(e) => Err(Failure::Connect(e.to_string())),
        }
    }

    /// Reads one connection until it fails, the engine is gone or the daemon stops.
    async fn session(
        &self,
        mut ws: Ws,
        handle: &SourceHandle,
        shutdown: &mut Shutdown,
        reader: &mut FrameReader,
    ) -> End {
        if let Some(text) = &self.subscribe {
            if let Err(e) = ws.send(Message::text(text.as_str())).await {
                return End::Failed(Failure::Subscribe(e.to_string()));
            }
        }
        let mut tick = tokio::time::interval_at(Instant::now() + self.ping, self.ping);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_heard = Instant::now();
        loop {
            tokio::select! {
                biased;
                _ = shutdown.wait() => {
                    let _ = tokio::time::timeout(CLOSE_GRACE, ws.close(None)).await;
                    return End::Shutdown;
                }
                _ = tick.tick() => {
                    if last_heard.elapsed() >= 2 * self.ping {
                        return End::Failed(Failure::PongTimeout(last_heard.elapsed()));
                    }
                    let ping = ws.send(Message::Ping(Default::default()));
                    match tokio::time::timeout(self.ping, ping).await {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => return End::Failed(classify(e)),
                        Err(_) => return End::Failed(Failure::PongTimeout(last_heard.elapsed())),
                    }
                }
                msg = ws.next() => {
                    let msg = match msg {
                        None => return End::Failed(Failure::Lost("the stream ended".into())),
                        Some(Err(WsError::Capacity(e))) => {
                            reader.too_long(handle);
                            return End::Failed(Failure::FrameTooLong(e.to_string()));
                        }
                        Some(Err(e)) => return End::Failed(classify(e)),
                        Some(Ok(m)) => m,
                    };
                    let sent = match msg {
                        Message::Text(t) => reader.ingest(t.as_bytes(), handle, shutdown).await,
                        Message::Binary(b) => reader.ingest(&b[..], handle, shutdown).await,
                        // Pings are answered by tungstenite on the next read or write.
                        Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => Ok(()),
                        Message::Close(frame) => {
                            let why = frame.map_or_else(
                                || "no reason given".to_string(),
                                |f| format!("code {}, {:?}", u16::from(f.code), f.reason.as_str()),
                            );
                            return End::Failed(Failure::Closed(why));
                        }
                    };
                    match sent {
                        // Heard from the peer. Stamped after the events were handed on:
                        // waiting on a full engine channel is not the peer's silence.
                        Ok(()) => last_heard = Instant::now(),
                        Err(Stop::Shutdown) => {
                            let _ = tokio::time::timeout(CLOSE_GRACE, ws.close(None)).await;
                            return End::Shutdown;
                        }
                        Err(Stop::EngineGone) => return End::EngineGone,
                    }
                }
            }
        }
    }
}

impl Source for WebsocketSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn run(self: Box<Self>, handle: SourceHandle, shutdown: Shutdown) -> SourceTask {
        Box::pin(self.run_loop(handle, shutdown))
    }
}

/// How a connection ended.
enum End {
    /// The daemon stops.
    Shutdown,
    /// The engine channel is closed.
    EngineGone,
    /// Reconnect after a backoff.
    Failed(Failure),
}

/// Why sending decoded events stopped.
enum Stop {
    Shutdown,
    EngineGone,
}

/// A classified connection failure (each kind is logged once per outage).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// TCP connect, DNS or request error.
    Connect(String),
    /// The connect + handshake did not finish within two ping intervals (5 s to 1 min).
    ConnectTimeout,
    /// The server answered the handshake with an HTTP status (401, 404, ...).
    Handshake(String),
    /// Sending the `subscribe` message failed.
    Subscribe(String),
    /// Nothing (not even a pong) arrived for two ping intervals.
    PongTimeout(Duration),
    /// A frame or message was larger than `max_frame_bytes`.
    FrameTooLong(String),
    /// The server sent a close frame.
    Closed(String),
    /// The connection broke (reset, end of stream, I/O error).
    Lost(String),
    /// The server broke the websocket protocol (or sent invalid UTF-8 text).
    Protocol(String),
}

impl Failure {
    /// The kind, a stable snake_case label.
    pub fn kind(&self) -> &'static str {
        match self {
            Failure::Connect(_) => "connect",
            Failure::ConnectTimeout => "connect_timeout",
            Failure::Handshake(_) => "handshake",
            Failure::Subscribe(_) => "subscribe",
            Failure::PongTimeout(_) => "pong_timeout",
            Failure::FrameTooLong(_) => "frame_too_long",
            Failure::Closed(_) => "closed",
            Failure::Lost(_) => "connection_lost",
            Failure::Protocol(_) => "protocol",
        }
    }

    fn index(&self) -> u32 {
        match self {
            Failure::Connect(_) => 0,
            Failure::ConnectTimeout => 1,
            Failure::Handshake(_) => 2,
            Failure::Subscribe(_) => 3,
            Failure::PongTimeout(_) => 4,
            Failure::FrameTooLong(_) => 5,
            Failure::Closed(_) => 6,
            Failure::Lost(_) => 7,
            Failure::Protocol(_) => 8,
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Connect(e) => write!(f, "cannot connect: {e}"),
            Failure::ConnectTimeout => write!(f, "the handshake timed out"),
            Failure::Handshake(status) => write!(f, "the server refused the handshake: {status}"),
            Failure::Subscribe(e) => write!(f, "cannot send the subscribe message: {e}"),
            Failure::PongTimeout(d) => write!(f, "nothing received for {} ms", d.as_millis()),
            Failure::FrameTooLong(e) => write!(f, "frame over max_frame_bytes: {e}"),
            Failure::Closed(why) => write!(f, "closed by the server ({why})"),
            Failure::Lost(e) => write!(f, "connection lost: {e}"),
            Failure::Protocol(e) => write!(f, "protocol error: {e}"),
        }
    }
}

fn classify(e: WsError) -> Failure {
    match e {
        WsError::ConnectionClosed | WsError::AlreadyClosed => {
            Failure::Lost("the connection closed".into())
        }
        WsError::Io(e) => Failure::Lost(e.to_string()),
        WsError::Capacity(e) => Failure::FrameTooLong(e.to_string()),
        WsError::Http(response) => Failure::Handshake(response.status().to_string()),
        other => Failure::Protocol(other.to_string()),
    }
}

/// Which failure kinds were already logged at `warn` in this outage.
#[derive(Debug, Default)]
struct LoggedKinds(u32);

impl LoggedKinds {
    fn emit(&mut self, source: &str, failure: &Failure, delay: Duration) {
        let bit = 1 << failure.index();
        let retry_ms = delay.as_millis();
        if self.0 & bit == 0 {
            self.0 |= bit;
            tracing::warn!(
                source,
                kind = failure.kind(),
                retry_ms,
                "websocket source down: {failure} (reconnecting; further `{}` failures are logged at debug)",
                failure.kind()
            );
        } else {
            tracing::debug!(
                source,
                kind = failure.kind(),
                retry_ms,
                "websocket source down: {failure}"
            );
        }
    }

    fn clear(&mut self) {
        self.0 = 0;
    }
}

/// Splits frames into lines, decodes them and sends the events; counts every line.
#[derive(Debug)]
struct FrameReader {
    decoder: JsonlDecoder,
    max_line: usize,
    /// Lines seen by this source (1-based numbers in the decode log messages).
    line_no: u64,
}

impl FrameReader {
    fn new(max_line: usize) -> Self {
        FrameReader {
            decoder: JsonlDecoder::new(),
            max_line,
            line_no: 0,
        }
    }

    /// Counts a refused oversized frame as one rejected `too_long` line.
    fn too_long(&mut self, handle: &SourceHandle) {
        self.line_no += 1;
        handle.record_decoded(self.line_no, &Decoded::Rejected(RejectReason::TooLong));
    }

    async fn ingest(
        &mut self,
        frame: &[u8],
        handle: &SourceHandle,
        shutdown: &mut Shutdown,
    ) -> Result<(), Stop> {
        let mut lines = LineReader::with_max_len(frame, self.max_line);
        // Reading from a slice cannot fail; an error would end the frame like EOF.
        while let Ok(Some((_, line))) = lines.next_line() {
            let decoded = match line {
                Line::Ok(l) if crate::decode::is_blank(l) => continue,
                Line::Ok(l) => self.decoder.decode(l),
                Line::TooLong => Decoded::Rejected(RejectReason::TooLong),
            };
            self.line_no += 1;
            handle.record_decoded(self.line_no, &decoded);
            if let Decoded::Event(event) = decoded {
                tokio::select! {
                    biased;
                    sent = handle.send(event) => sent.map_err(|_| Stop::EngineGone)?,
                    _ = shutdown.wait() => return Err(Stop::Shutdown),
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_have_distinct_kinds() {
        let all = [
            Failure::Connect(String::new()),
            Failure::ConnectTimeout,
            Failure::Handshake(String::new()),
            Failure::Subscribe(String::new()),
            Failure::PongTimeout(Duration::ZERO),
            Failure::FrameTooLong(String::new()),
            Failure::Closed(String::new()),
            Failure::Lost(String::new()),
            Failure::Protocol(String::new()),
        ];
        let mut seen = std::collections::BTreeSet::new();
        for (i, f) in all.iter().enumerate() {
            assert_eq!(f.index() as usize, i);
            assert!(seen.insert(f.kind()));
        }
    }

    #[test]
    fn ws_and_wss_urls_are_taken_others_refused_with_a_reason() {
        for url in ["wss://acd.example/events", "ws://acd:9/x"] {
            assert!(WebsocketSource::new(&SourceConfig::websocket("feed", url)).is_ok());
        }
        let src = SourceConfig::websocket("feed", "https://acd.example/events");
        let e = WebsocketSource::new(&src).expect_err("not a websocket URL");
        assert!(e.to_string().contains("wss://"), "{e}");
    }
}
