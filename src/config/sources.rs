//! `[[sources]]`: the inputs of the live daemon (`ccpulse run`).

use super::{ConfigError, Duration};
use crate::decode::{Format, FormatChoice};
use serde::Deserialize;
use std::path::PathBuf;

/// What kind of input a `[[sources]]` entry reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// Tail a log file (rotation, truncation and restarts handled).
    File,
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
    /// The kind of input (`file`).
    pub kind: SourceKind,
    /// A unique name: the `source` label in logs and metrics, and the checkpoint's file
    /// name (letters, digits, `_`, `-`, `.`).
    pub name: String,
    /// The file to tail (`kind = "file"`).
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
}

fn default_poll_interval() -> Duration {
    Duration(250)
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
        }
    }
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
        match s.kind {
            SourceKind::File => {
                if s.path.as_os_str().is_empty() {
                    return Err(err(&format!("{at}.path"), "must name a file".into()));
                }
            }
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
