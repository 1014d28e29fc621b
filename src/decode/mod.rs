//! Vendor formats → canonical [`Event`]s: JSON lines v1 ([`jsonl`]) and Asterisk
//! `queue_log` ([`queue_log`]).
//!
//! Every input line is accounted for exactly once (see [`Decoded`]): it becomes an
//! event, is ignored (known but meaningless, e.g. `CONFIGRELOAD` or a blank line),
//! is *unknown* (a type or verb we do not interpret, counted by name) or is rejected
//! with a [`RejectReason`]. [`DecodeStats`] keeps the counts, so that
//! `lines = events + ignored + unknown + rejected` always holds.
//!
//! Architecture invariant: vendor formats are decoded here and nowhere else; nothing
//! downstream knows about vendors. Decoding never panics on input.

pub mod jsonl;
mod lines;
pub mod queue_log;

use std::fmt;
use std::io::{self, BufRead};
use std::str::FromStr;

use rustc_hash::FxHashMap;

use crate::model::{Event, Name};

pub use jsonl::JsonlDecoder;
pub use lines::{Line, LineReader, DEFAULT_MAX_LINE_LEN};
pub use queue_log::QueueLogDecoder;

/// An input format ccpulse can decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// JSON lines, schema v1 (interfaces.md §2).
    Jsonl,
    /// Asterisk `queue_log` pipe lines (and the FreePBX/Wazo/PBXware variants).
    QueueLog,
}

impl Format {
    /// Guesses the format from the start of the input: the first non-blank line
    /// starting with `{` means JSON lines, anything else `queue_log`.
    pub fn detect(sample: &[u8]) -> Format {
        let sample = sample.strip_prefix(lines::UTF8_BOM).unwrap_or(sample);
        for line in sample.split(|&b| b == b'\n') {
            match line.iter().find(|b| !b.is_ascii_whitespace()) {
                None => continue,
                Some(b'{') => return Format::Jsonl,
                Some(_) => return Format::QueueLog,
            }
        }
        Format::QueueLog
    }

    /// The name used on the command line (`jsonl`, `queue_log`).
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Jsonl => "jsonl",
            Format::QueueLog => "queue_log",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `--format` choice: a fixed format, or `auto` (detected from the input's start).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum FormatChoice {
    /// Detect with [`Format::detect`].
    #[default]
    Auto,
    /// Always this format.
    Fixed(Format),
}

impl FormatChoice {
    /// The format to use for an input starting with `sample`.
    pub fn resolve(self, sample: &[u8]) -> Format {
        match self {
            FormatChoice::Auto => Format::detect(sample),
            FormatChoice::Fixed(f) => f,
        }
    }
}

/// Resolves `choice` from the start of `reader` without consuming anything (the sample
/// is whatever the reader has buffered, 8 KiB for a default `BufReader`).
pub fn sniff_format<R: BufRead>(reader: &mut R, choice: FormatChoice) -> io::Result<Format> {
    match choice {
        FormatChoice::Fixed(f) => Ok(f),
        FormatChoice::Auto => Ok(Format::detect(reader.fill_buf()?)),
    }
}

/// A `--format` value that is not `auto`, `jsonl` or `queue_log`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown format `{0}` (expected auto, jsonl or queue_log)")]
pub struct ParseFormatError(pub String);

impl FromStr for FormatChoice {
    type Err = ParseFormatError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(FormatChoice::Auto),
            "jsonl" => Ok(FormatChoice::Fixed(Format::Jsonl)),
            "queue_log" => Ok(FormatChoice::Fixed(Format::QueueLog)),
            other => Err(ParseFormatError(other.to_string())),
        }
    }
}

impl FromStr for Format {
    type Err = ParseFormatError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.parse::<FormatChoice>()? {
            FormatChoice::Fixed(f) => Ok(f),
            FormatChoice::Auto => Err(ParseFormatError(s.to_string())),
        }
    }
}

/// Why a line was rejected; [`RejectReason::as_str`] is the metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, thiserror::Error)]
pub enum RejectReason {
    /// The line is not valid UTF-8.
    #[error("line is not valid UTF-8")]
    NotUtf8,
    /// The line is longer than the reader's bound (skipped without buffering it).
    #[error("line is too long")]
    TooLong,
    /// The line ends early: a JSON object cut off, or a queue_log line without a verb.
    #[error("line is truncated")]
    Truncated,
    /// Not a JSON object (syntax error or wrong top-level type).
    #[error("line is not a valid JSON object")]
    BadJson,
    /// JSON `v` is not 1.
    #[error("unsupported schema version")]
    BadVersion,
    /// A required field is absent (or `NONE`/empty where a name is required).
    #[error("a required field is missing")]
    MissingField,
    /// A field is present but has the wrong type or an invalid value.
    #[error("a field has an invalid value")]
    BadField,
    /// The timestamp cannot be parsed.
    #[error("the timestamp cannot be parsed")]
    BadTimestamp,
    /// The timestamp parses but lies outside 2000..2100.
    #[error("the timestamp is implausible")]
    AbsurdTimestamp,
}

impl RejectReason {
    /// Every reason, in a fixed order (index = `as usize`).
    pub const ALL: [RejectReason; 9] = [
        RejectReason::NotUtf8,
        RejectReason::TooLong,
        RejectReason::Truncated,
        RejectReason::BadJson,
        RejectReason::BadVersion,
        RejectReason::MissingField,
        RejectReason::BadField,
        RejectReason::BadTimestamp,
        RejectReason::AbsurdTimestamp,
    ];

    /// The snake_case name used as the `reason` metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            RejectReason::NotUtf8 => "not_utf8",
            RejectReason::TooLong => "too_long",
            RejectReason::Truncated => "truncated",
            RejectReason::BadJson => "bad_json",
            RejectReason::BadVersion => "bad_version",
            RejectReason::MissingField => "missing_field",
            RejectReason::BadField => "bad_field",
            RejectReason::BadTimestamp => "bad_timestamp",
            RejectReason::AbsurdTimestamp => "absurd_timestamp",
        }
    }
}

/// The outcome of decoding one line: every line ends up in exactly one variant.
#[derive(Debug, Clone, PartialEq)]
pub enum Decoded {
    /// A canonical event.
    Event(Event),
    /// A known line with no KPI meaning (blank line, queue_log `CONFIGRELOAD`, ...).
    Ignored,
    /// A JSON type or queue_log verb we do not interpret, by name (counted, skipped).
    Unknown(Name),
    /// A malformed line.
    Rejected(RejectReason),
}

/// Decodes one line (without its line terminator) of a given format.
pub trait LineDecoder {
    /// Decodes `line`; never panics, whatever the bytes.
    fn decode(&self, line: &[u8]) -> Decoded;
}

/// A decoder for either format, chosen at run time.
#[derive(Debug, Clone)]
pub enum AnyDecoder {
    /// JSON lines v1.
    Jsonl(JsonlDecoder),
    /// Asterisk queue_log.
    QueueLog(QueueLogDecoder),
}

impl AnyDecoder {
    /// A decoder for `format`; `tz` interprets queue_log DATETIME stamps (JSON ignores it).
    pub fn new(format: Format, tz: jiff::tz::TimeZone) -> AnyDecoder {
        match format {
            Format::Jsonl => AnyDecoder::Jsonl(JsonlDecoder::new()),
            Format::QueueLog => AnyDecoder::QueueLog(QueueLogDecoder::with_time_zone(tz)),
        }
    }
}

impl LineDecoder for AnyDecoder {
    fn decode(&self, line: &[u8]) -> Decoded {
        match self {
            AnyDecoder::Jsonl(d) => d.decode(line),
            AnyDecoder::QueueLog(d) => d.decode(line),
        }
    }
}

/// `true` for an empty or all-whitespace line (ignored by every format).
pub(crate) fn is_blank(line: &[u8]) -> bool {
    line.iter().all(u8::is_ascii_whitespace)
}

/// Distinct unknown type/verb names counted by name; further names count as
/// [`UNKNOWN_OTHER`], so that hostile input cannot grow memory or metric labels.
pub const MAX_UNKNOWN_NAMES: usize = 64;

/// The name under which unknown types/verbs beyond [`MAX_UNKNOWN_NAMES`] are counted.
pub const UNKNOWN_OTHER: &str = "_other";

/// Per-source decode counters; the first occurrence of each reject reason and each
/// unknown name is logged once (`warn`), later ones only counted.
#[derive(Debug, Clone, Default)]
pub struct DecodeStats {
    /// The source label used in log messages (file name, `stdin`, listener name).
    source: String,
    lines: u64,
    events: u64,
    ignored: u64,
    unknown: FxHashMap<Name, u64>,
    unknown_total: u64,
    rejected: [u64; RejectReason::ALL.len()],
}

impl DecodeStats {
    /// Empty counters for the source named `source`.
    pub fn new(source: impl Into<String>) -> DecodeStats {
        DecodeStats {
            source: source.into(),
            ..DecodeStats::default()
        }
    }

    /// The source label.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Counts one decoded line (line numbers are 1-based, for the log message).
    pub fn record(&mut self, line_no: u64, decoded: &Decoded) {
        self.lines += 1;
        match decoded {
            Decoded::Event(_) => self.events += 1,
            Decoded::Ignored => self.ignored += 1,
            Decoded::Unknown(name) => self.record_unknown(line_no, name),
            Decoded::Rejected(reason) => self.record_rejected(line_no, *reason),
        }
    }

    /// Counts a rejected line (also used by readers for `too_long`).
    pub fn record_rejected(&mut self, line_no: u64, reason: RejectReason) {
        let n = &mut self.rejected[reason as usize];
        if *n == 0 {
            tracing::warn!(
                source = %self.source,
                line = line_no,
                reason = reason.as_str(),
                "rejected input line: {reason} (further lines with this reason are only counted)"
            );
        }
        *n += 1;
    }

    fn record_unknown(&mut self, line_no: u64, name: &Name) {
        self.unknown_total += 1;
        if let Some(n) = self.unknown.get_mut(name) {
            *n += 1;
        } else if self.unknown.len() >= MAX_UNKNOWN_NAMES {
            // Bounded cardinality (metric labels, memory, log lines) whatever the input.
            let other = self
                .unknown
                .entry(Name::const_new(UNKNOWN_OTHER))
                .or_insert(0);
            if *other == 0 {
                tracing::warn!(
                    source = %self.source,
                    line = line_no,
                    "more than {MAX_UNKNOWN_NAMES} distinct unknown types or verbs: further ones are counted as `{UNKNOWN_OTHER}`"
                );
            }
            *other += 1;
        } else {
            tracing::warn!(
                source = %self.source,
                line = line_no,
                name = %name,
                "unknown event type or verb `{name}` skipped (further ones are only counted)"
            );
            self.unknown.insert(name.clone(), 1);
        }
    }

    /// Lines seen (every line: events + ignored + unknown + rejected).
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Lines that became events.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Known lines without KPI meaning (blank, `CONFIGRELOAD`, ...).
    pub fn ignored(&self) -> u64 {
        self.ignored
    }

    /// Lines with an unknown type or verb, all names together.
    pub fn unknown(&self) -> u64 {
        self.unknown_total
    }

    /// Lines with an unknown type or verb, by name (at most [`MAX_UNKNOWN_NAMES`] names
    /// plus [`UNKNOWN_OTHER`]).
    pub fn unknown_by_name(&self) -> &FxHashMap<Name, u64> {
        &self.unknown
    }

    /// Rejected lines, all reasons together.
    pub fn rejected(&self) -> u64 {
        self.rejected.iter().sum()
    }

    /// Rejected lines with this reason.
    pub fn rejected_for(&self, reason: RejectReason) -> u64 {
        self.rejected[reason as usize]
    }

    /// Rejected lines by reason, every reason listed (zeros included).
    pub fn rejected_by_reason(&self) -> impl Iterator<Item = (RejectReason, u64)> + '_ {
        RejectReason::ALL
            .into_iter()
            .map(|r| (r, self.rejected[r as usize]))
    }
}

/// Reads every line of `reader`, decodes it with `decoder`, counts it in `stats` and
/// hands each event to `sink`. Returns only I/O errors; bad lines are counted.
pub fn decode_reader<R: BufRead, D: LineDecoder>(
    reader: R,
    decoder: &D,
    stats: &mut DecodeStats,
    mut sink: impl FnMut(Event),
) -> io::Result<()> {
    let mut lines = LineReader::new(reader);
    while let Some((line_no, line)) = lines.next_line()? {
        let decoded = match line {
            Line::Ok(bytes) => decoder.decode(bytes),
            Line::TooLong => Decoded::Rejected(RejectReason::TooLong),
        };
        stats.record(line_no, &decoded);
        if let Decoded::Event(ev) = decoded {
            sink(ev);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_format_from_first_non_blank_line() {
        assert_eq!(Format::detect(b"\n  \r\n {\"v\":1}\n"), Format::Jsonl);
        assert_eq!(
            Format::detect(b"1|x|q|NONE|ENTERQUEUE||1|1\n{"),
            Format::QueueLog
        );
        assert_eq!(Format::detect(b""), Format::QueueLog);
        assert_eq!(Format::detect(b"\xEF\xBB\xBF{\"v\":1}"), Format::Jsonl);
    }

    #[test]
    fn sniffing_does_not_consume() {
        let mut r = &b"{\"ts\":1}\n"[..];
        assert_eq!(
            sniff_format(&mut r, FormatChoice::Auto).unwrap(),
            Format::Jsonl
        );
        assert_eq!(r.len(), 9);
        let fixed = FormatChoice::Fixed(Format::QueueLog);
        assert_eq!(sniff_format(&mut r, fixed).unwrap(), Format::QueueLog);
    }

    #[test]
    fn parses_format_choice() {
        assert_eq!("auto".parse(), Ok(FormatChoice::Auto));
        assert_eq!("jsonl".parse(), Ok(FormatChoice::Fixed(Format::Jsonl)));
        assert_eq!("queue_log".parse(), Ok(Format::QueueLog));
        assert!("csv".parse::<FormatChoice>().is_err());
        assert!("auto".parse::<Format>().is_err());
    }

    #[test]
    fn reject_reason_labels_are_snake_case_and_unique() {
        let mut names: Vec<_> = RejectReason::ALL.iter().map(|r| r.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), RejectReason::ALL.len());
        for (i, r) in RejectReason::ALL.iter().enumerate() {
            assert_eq!(*r as usize, i);
        }
        assert!(names.iter().all(|n| n
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')));
    }

    #[test]
    fn unknown_names_are_bounded() {
        let mut stats = DecodeStats::new("test");
        for i in 0..(MAX_UNKNOWN_NAMES + 10) {
            let name = Name::from(format!("T{i}"));
            stats.record(1, &Decoded::Unknown(name.clone()));
            stats.record(2, &Decoded::Unknown(name));
        }
        assert_eq!(stats.unknown(), 2 * (MAX_UNKNOWN_NAMES as u64 + 10));
        assert_eq!(stats.unknown_by_name().len(), MAX_UNKNOWN_NAMES + 1);
        assert_eq!(stats.unknown_by_name().get(UNKNOWN_OTHER), Some(&20));
        assert_eq!(stats.unknown_by_name().get("T0"), Some(&2));
    }

    #[test]
    fn lines_over_one_mib_are_rejected_as_too_long() {
        let mut input = Vec::new();
        input.extend_from_slice(b"{\"ts\":1795856401250,\"type\":\"contact_ended\",\"contact\":\"");
        input.resize(DEFAULT_MAX_LINE_LEN + 10, b'x');
        input.extend_from_slice(
            b"\"}\n{\"ts\":1795856401250,\"type\":\"contact_ended\",\"contact\":\"c\"}\n",
        );
        let mut stats = DecodeStats::new("test");
        let mut n = 0;
        decode_reader(
            std::io::BufReader::new(&input[..]),
            &JsonlDecoder::new(),
            &mut stats,
            |_| n += 1,
        )
        .unwrap();
        assert_eq!((stats.lines(), stats.events(), n), (2, 1, 1));
        assert_eq!(stats.rejected_for(RejectReason::TooLong), 1);
    }

    #[test]
    fn stats_account_for_every_line() {
        let input = b"1675555753|c1|q|NONE|ENTERQUEUE||200|1\n\n1|x\n1675555753|c1|q|NONE|FULL|\r\n1675555753|NONE|NONE|NONE|CONFIGRELOAD|";
        let mut stats = DecodeStats::new("test");
        let mut events = Vec::new();
        decode_reader(&input[..], &QueueLogDecoder::new(), &mut stats, |e| {
            events.push(e)
        })
        .unwrap();
        assert_eq!(stats.lines(), 5);
        assert_eq!(stats.events(), 1);
        assert_eq!(events.len(), 1);
        assert_eq!(stats.ignored(), 2);
        assert_eq!(stats.unknown(), 1);
        assert_eq!(stats.unknown_by_name().get("FULL"), Some(&1));
        assert_eq!(stats.rejected(), 1);
        assert_eq!(stats.rejected_for(RejectReason::Truncated), 1);
    }
}
