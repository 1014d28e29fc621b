//! `[[sources]]`: the inputs of the live daemon (`ccpulse run`).

use super::{ConfigError, Duration};
use crate::decode::{Format, FormatChoice};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue, Uri};

/// What kind of input a `[[sources]]` entry reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// Tail a log file (rotation, truncation and restarts handled).
    File,
    /// Connect to an ACD/adapter websocket feed of JSON lines v1 (reconnects).
    Websocket,
    /// Read a NATS JetStream stream (the durable bus), resuming at its saved sequence.
    Nats,
}

impl SourceKind {
    /// The name in the config (`kind = "…"`).
    pub fn name(self) -> &'static str {
        match self {
            SourceKind::File => "file",
            SourceKind::Websocket => "websocket",
            SourceKind::Nats => "nats",
        }
    }
}

/// The input format of a source (`auto` detects it from the file's start).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceFormat {
    /// JSON lines if the first non-blank line starts with `{`, else `queue_log`.
    #[default]
    Auto,
    /// Asterisk `queue_log`.
    QueueLog,
    /// JSON lines, schema v1.
    Jsonl,
}

impl SourceFormat {
    /// The decoder's choice.
    pub fn choice(self) -> FormatChoice {
        match self {
            SourceFormat::Auto => FormatChoice::Auto,
            SourceFormat::QueueLog => FormatChoice::Fixed(Format::QueueLog),
            SourceFormat::Jsonl => FormatChoice::Fixed(Format::Jsonl),
        }
    }
}

/// Where a file source starts reading the first time it sees a file (no checkpoint).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StartAt {
    /// Only lines written from now on.
    #[default]
    End,
    /// The whole file.
    Beginning,
    /// Today's lines. Implemented as [`StartAt::Beginning`]: the engine applies every
    /// line and its "today" figures cover the local day only, so the result is the same
    /// as starting at today's first line (at the cost of reading the older lines).
    Today,
}

/// One `[[sources]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// The kind of input (`file`, `websocket` or `nats`).
    pub kind: SourceKind,
    /// A unique name: the `source` label in logs and metrics, and the checkpoint's file
    /// name (letters, digits, `_`, `-`, `.`).
    pub name: String,
    /// The file to tail (`kind = "file"`; required there, absent for other kinds).
    #[serde(default)]
    pub path: PathBuf,
    /// Input format (default `auto`).
    #[serde(default)]
    pub format: SourceFormat,
    /// Where to start without a checkpoint (default `end`).
    #[serde(default)]
    pub start_at: StartAt,
    /// How often the file is checked for new lines, rotation and truncation (default 250ms).
    #[serde(default = "default_poll_interval")]
    pub poll_interval: Duration,
    /// IANA time zone of queue_log DATETIME stamps (default: the top-level `timezone`).
    #[serde(default)]
    pub timezone: Option<String>,
    /// The feed to connect to: a `ws://host[:port]/path` URL (`kind = "websocket"`), or
    /// the NATS server, `nats://[user:password@]host[:port]` or `tls://…` (`kind = "nats"`).
    #[serde(default)]
    pub url: String,
    /// The JetStream stream to read (`kind = "nats"`; required there).
    #[serde(default)]
    pub stream: Option<String>,
    /// Only the stream's messages on this subject (`kind = "nats"`; wildcards allowed,
    /// default: all of the stream).
    #[serde(default)]
    pub subject: Option<String>,
    /// Extra HTTP headers of the websocket handshake (`kind = "websocket"`), e.g.
    /// `{ "X-Api-Key" = "…" }`.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Sent as `Authorization: Bearer <token>` in the handshake (`kind = "websocket"`),
    /// or as the NATS connection's token (`kind = "nats"`).
    #[serde(default)]
    pub token: Option<String>,
    /// A text message sent after every (re)connect (`kind = "websocket"`), e.g. the
    /// feed's subscription request.
    #[serde(default)]
    pub subscribe: Option<String>,
    /// How often the websocket source pings; no answer within two intervals drops the
    /// connection and reconnects (default 15s).
    #[serde(default = "default_ping_interval")]
    pub ping_interval: Duration,
    /// First reconnect delay bound (default 500ms); doubles per failed attempt, with full
    /// jitter, up to `backoff_max`.
    #[serde(default = "default_backoff_min")]
    pub backoff_min: Duration,
    /// Largest reconnect delay (default 30s).
    #[serde(default = "default_backoff_max")]
    pub backoff_max: Duration,
    /// Largest websocket frame / message accepted (default 1 MiB); a larger one is
    /// counted as rejected `too_long` and the connection is re-established.
    #[serde(default = "default_max_frame_bytes")]
    pub max_frame_bytes: usize,
}

fn default_poll_interval() -> Duration {
    Duration(250)
}

fn default_ping_interval() -> Duration {
    Duration::secs(15)
}

fn default_backoff_min() -> Duration {
    Duration(500)
}

fn default_backoff_max() -> Duration {
    Duration::secs(30)
}

/// Default bound on a websocket frame (1 MiB).
pub const DEFAULT_MAX_FRAME_BYTES: usize = 1 << 20;

fn default_max_frame_bytes() -> usize {
    DEFAULT_MAX_FRAME_BYTES
}

impl SourceConfig {
    /// A file source with the defaults (tests, programmatic use).
    pub fn file(name: impl Into<String>, path: impl Into<PathBuf>) -> Self {
        SourceConfig {
            kind: SourceKind::File,
            name: name.into(),
            path: path.into(),
            format: SourceFormat::Auto,
            start_at: StartAt::End,
            poll_interval: default_poll_interval(),
            timezone: None,
            url: String::new(),
            stream: None,
            subject: None,
            headers: BTreeMap::new(),
            token: None,
            subscribe: None,
            ping_interval: default_ping_interval(),
            backoff_min: default_backoff_min(),
            backoff_max: default_backoff_max(),
            max_frame_bytes: default_max_frame_bytes(),
        }
    }

    /// A websocket client source with the defaults (tests, programmatic use).
    pub fn websocket(name: impl Into<String>, url: impl Into<String>) -> Self {
        SourceConfig {
            kind: SourceKind::Websocket,
            url: url.into(),
            format: SourceFormat::Jsonl,
            ..SourceConfig::file(name, PathBuf::new())
        }
    }
}

impl SourceConfig {
    /// A NATS JetStream source of `stream` on the server at `url`, from the stream's
    /// beginning (tests, programmatic use).
    pub fn nats(name: impl Into<String>, url: impl Into<String>, stream: &str) -> Self {
        SourceConfig {
            kind: SourceKind::Nats,
            url: url.into(),
            stream: Some(stream.into()),
            start_at: StartAt::Beginning,
            ..SourceConfig::file(name, PathBuf::new())
        }
    }
}

/// Checks a websocket URL: `ws://` or `wss://` (TLS, the server's certificate checked
/// against the system's roots) with a host.
pub fn check_ws_url(url: &str) -> Result<Uri, String> {
    let uri: Uri = url
        .parse()
        .map_err(|e| format!("`{url}` is not a URL: {e}"))?;
    match uri.scheme_str() {
        Some("ws" | "wss") => {}
        _ => return Err(format!("`{url}` must start with ws:// or wss://")),
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(format!("`{url}` names no host"));
    }
    Ok(uri)
}

/// Checks every `[[sources]]` entry; errors name the key, e.g. `sources[0].path`.
pub(super) fn check_sources(
    sources: &[SourceConfig],
    err: &dyn Fn(&str, String) -> ConfigError,
) -> Result<(), ConfigError> {
    for (i, s) in sources.iter().enumerate() {
        let at = format!("sources[{i}]");
        let name_ok = !s.name.is_empty()
            && s.name.len() <= 64
            && s.name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
            && !s.name.starts_with('.');
        if !name_ok {
            return Err(err(
                &format!("{at}.name"),
                format!(
                    "`{}` must be 1 to 64 letters, digits, `_`, `-` or `.` (not starting with `.`)",
                    s.name
                ),
            ));
        }
        if let Some(j) = sources[..i].iter().position(|o| o.name == s.name) {
            return Err(err(
                &format!("{at}.name"),
                format!("`{}` is already the name of sources[{j}]", s.name),
            ));
        }
        check_kind_keys(s, &at, err)?;
        match s.kind {
            SourceKind::File => {
                if s.path.as_os_str().is_empty() {
                    return Err(err(&format!("{at}.path"), "must name a file".into()));
                }
            }
            SourceKind::Websocket => check_websocket(s, &at, err)?,
            SourceKind::Nats => check_nats(s, &at, err)?,
        }
        let poll = s.poll_interval.ms();
        if !(10..=60_000).contains(&poll) {
            return Err(err(
                &format!("{at}.poll_interval"),
                format!("{} must be between 10ms and 1m", s.poll_interval),
            ));
        }
        if let Some(tz) = &s.timezone {
            if jiff::tz::TimeZone::get(tz).is_err() {
                return Err(err(
                    &format!("{at}.timezone"),
                    format!("unknown time zone `{tz}` (use an IANA name such as Europe/Berlin)"),
                ));
            }
        }
    }
    Ok(())
}

/// Refuses a key set on a kind it does not apply to, naming the kinds it is for: one
/// table of the keys that belong to some kinds only.
fn check_kind_keys(
    s: &SourceConfig,
    at: &str,
    err: &dyn Fn(&str, String) -> ConfigError,
) -> Result<(), ConfigError> {
    use SourceKind::{File, Nats, Websocket};
    let keys: [(&str, bool, &[SourceKind]); 7] = [
        ("path", !s.path.as_os_str().is_empty(), &[File]),
        ("url", !s.url.is_empty(), &[Websocket, Nats]),
        ("headers", !s.headers.is_empty(), &[Websocket]),
        ("token", s.token.is_some(), &[Websocket, Nats]),
        ("subscribe", s.subscribe.is_some(), &[Websocket]),
        ("stream", s.stream.is_some(), &[Nats]),
        ("subject", s.subject.is_some(), &[Nats]),
    ];
    for (key, set, kinds) in keys {
        if set && !kinds.contains(&s.kind) {
            let names: Vec<String> = kinds.iter().map(|k| format!("\"{}\"", k.name())).collect();
            return Err(err(
                &format!("{at}.{key}"),
                format!("only for kind = {}", names.join(" or ")),
            ));
        }
    }
    Ok(())
}

/// The `kind = "nats"` keys.
fn check_nats(
    s: &SourceConfig,
    at: &str,
    err: &dyn Fn(&str, String) -> ConfigError,
) -> Result<(), ConfigError> {
    let scheme_ok = ["nats://", "tls://"]
        .iter()
        .any(|p| s.url.starts_with(p) && s.url.len() > p.len());
    if !scheme_ok || s.url.parse::<Uri>().is_err() {
        return Err(err(
            &format!("{at}.url"),
            format!(
                "`{}` must be a nats://host[:port] or tls://host[:port] URL",
                s.url
            ),
        ));
    }
    // JetStream stream names: no whitespace, `.`, `*`, `>`, path separators.
    let bad_name = |n: &str| {
        n.is_empty()
            || n.len() > 255
            || n.chars()
                .any(|c| c.is_whitespace() || c.is_control() || ".*>/\\".contains(c))
    };
    match s.stream.as_deref() {
        None => {
            return Err(err(
                &format!("{at}.stream"),
                "must name the JetStream stream to read".into(),
            ))
        }
        Some(n) if bad_name(n) => {
            return Err(err(
                &format!("{at}.stream"),
                format!("`{n}` is not a stream name (no spaces, `.`, `*`, `>`, `/` or `\\`)"),
            ))
        }
        Some(_) => {}
    }
    if let Some(subject) = &s.subject {
        let ok = !subject.is_empty()
            && !subject.chars().any(|c| c.is_whitespace() || c.is_control())
            && subject.split('.').all(|t| !t.is_empty());
        if !ok {
            return Err(err(
                &format!("{at}.subject"),
                format!("`{subject}` is not a subject (dot-separated tokens, no spaces)"),
            ));
        }
    }
    if s.token.as_deref().is_some_and(str::is_empty) {
        return Err(err(&format!("{at}.token"), "must not be empty".into()));
    }
    check_backoff(s, at, err)?;
    check_max_frame(s, at, err)
}

/// The `kind = "websocket"` keys.
fn check_websocket(
    s: &SourceConfig,
    at: &str,
    err: &dyn Fn(&str, String) -> ConfigError,
) -> Result<(), ConfigError> {
    if s.format == SourceFormat::QueueLog {
        return Err(err(
            &format!("{at}.format"),
            "a websocket feed carries JSON lines v1 (`jsonl` or `auto`)".into(),
        ));
    }
    check_ws_url(&s.url).map_err(|m| err(&format!("{at}.url"), m))?;
    for (name, value) in &s.headers {
        if HeaderName::from_bytes(name.as_bytes()).is_err() {
            return Err(err(
                &format!("{at}.headers"),
                format!("`{name}` is not a valid HTTP header name"),
            ));
        }
        if HeaderValue::from_str(value).is_err() {
            return Err(err(
                &format!("{at}.headers.{name}"),
                "is not a valid HTTP header value".into(),
            ));
        }
    }
    if let Some(token) = &s.token {
        if token.is_empty() || HeaderValue::from_str(&format!("Bearer {token}")).is_err() {
            return Err(err(
                &format!("{at}.token"),
                "must be non-empty printable ASCII".into(),
            ));
        }
    }
    let ping = s.ping_interval.ms();
    if !(10..=3_600_000).contains(&ping) {
        return Err(err(
            &format!("{at}.ping_interval"),
            format!("{} must be between 10ms and 1h", s.ping_interval),
        ));
    }
    check_backoff(s, at, err)?;
    check_max_frame(s, at, err)
}

/// `backoff_min` and `backoff_max` (reconnecting sources).
fn check_backoff(
    s: &SourceConfig,
    at: &str,
    err: &dyn Fn(&str, String) -> ConfigError,
) -> Result<(), ConfigError> {
    let (min, max) = (s.backoff_min.ms(), s.backoff_max.ms());
    if !(1..=3_600_000).contains(&min) {
        return Err(err(
            &format!("{at}.backoff_min"),
            format!("{} must be between 1ms and 1h", s.backoff_min),
        ));
    }
    if !(min..=3_600_000).contains(&max) {
        return Err(err(
            &format!("{at}.backoff_max"),
            format!(
                "{} must be at least backoff_min ({}) and at most 1h",
                s.backoff_max, s.backoff_min
            ),
        ));
    }
    Ok(())
}

/// `max_frame_bytes` (websocket frames, bus messages).
fn check_max_frame(
    s: &SourceConfig,
    at: &str,
    err: &dyn Fn(&str, String) -> ConfigError,
) -> Result<(), ConfigError> {
    if !(1024..=(64 << 20)).contains(&s.max_frame_bytes) {
        return Err(err(
            &format!("{at}.max_frame_bytes"),
            format!("{} must be between 1024 and 67108864", s.max_frame_bytes),
        ));
    }
    Ok(())
}
