//! JSON lines, schema v1 (interfaces.md §2): one object per line.
//!
//! Parsed with serde_json into a borrowed intermediate (`Raw`) whose string fields
//! point into the line when they have no escapes, then validated by hand so that
//! each problem maps to one [`RejectReason`].
//!
//! Leniencies, deliberate: `agent` on `contact_hold/unhold/transferred/ended` is read by
//! no one (the model keys those by contact and answered queue), so it is not required;
//! `queue` is passed through when present. An empty optional string counts as absent,
//! `null` as absent. A repeated key: the last value wins. `exited.reason` also accepts
//! the model's `withdraw` and `other`.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::{is_blank, Decoded, LineDecoder, RejectReason};
use crate::model::{
    AgentStateChange, AgentStatus, Channel, Event, EventBody, ExitReason, Millis, Name,
    MAX_PLAUSIBLE_MS, MIN_PLAUSIBLE_MS,
};

/// Decodes JSON lines schema v1. Stateless; cheap to clone.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonlDecoder;

impl JsonlDecoder {
    /// A decoder for schema v1.
    pub fn new() -> Self {
        JsonlDecoder
    }
}

impl LineDecoder for JsonlDecoder {
    fn decode(&self, line: &[u8]) -> Decoded {
        match decode_line(line) {
            Ok(d) => d,
            Err(reason) => Decoded::Rejected(reason),
        }
    }
}

/// Any JSON value, classified just enough for validation (strings borrowed when possible).
#[derive(Debug, Default)]
enum Field<'a> {
    /// Absent or `null`.
    #[default]
    Absent,
    Str(Cow<'a, str>),
    Int(i64),
    /// An array of strings.
    List(Vec<Cow<'a, str>>),
    /// Anything else (bool, float, object, mixed array).
    Other,
}

impl<'de: 'a, 'a> Deserialize<'de> for Field<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(FieldVisitor(PhantomData))
    }
}

struct FieldVisitor<'a>(PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for FieldVisitor<'a> {
    type Value = Field<'a>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Field::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Field::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Field::Str(Cow::Owned(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Field::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(i64::try_from(v).map_or(Field::Other, Field::Int))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Field::Other)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Field::Other)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Field::Absent)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Field::Absent)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        let mut all_str = true;
        while let Some(item) = seq.next_element::<Field<'a>>()? {
            match item {
                Field::Str(s) if all_str => items.push(s),
                _ => all_str = false,
            }
        }
        Ok(if all_str {
            Field::List(items)
        } else {
            Field::Other
        })
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Field::Other)
    }
}

/// The v1 fields we read; unknown fields are skipped.
#[derive(Debug, Default)]
struct Raw<'a> {
    v: Field<'a>,
    ts: Field<'a>,
    id: Field<'a>,
    kind: Field<'a>,
    contact: Field<'a>,
    queue: Field<'a>,
    channel: Field<'a>,
    agent: Field<'a>,
    reason: Field<'a>,
    to: Field<'a>,
    state: Field<'a>,
    team: Field<'a>,
    queues: Field<'a>,
    name: Field<'a>,
}

/// The keys of [`Raw`] (matched without allocating; anything else is `Other`).
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum Key {
    V,
    Ts,
    Id,
    #[serde(rename = "type")]
    Kind,
    Contact,
    Queue,
    Channel,
    Agent,
    Reason,
    To,
    State,
    Team,
    Queues,
    Name,
    #[serde(other)]
    Other,
}

/// Fills a [`Raw`] in place from a JSON object (no large moves per line, which the
/// derived `Deserialize` showed in profiles). A repeated key: the last one wins.
struct RawSeed<'r, 'a>(&'r mut Raw<'a>);

impl<'de: 'a, 'a> de::DeserializeSeed<'de> for RawSeed<'_, 'a> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de: 'a, 'a> Visitor<'de> for RawSeed<'_, 'a> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let raw = self.0;
        while let Some(key) = map.next_key::<Key>()? {
            let slot = match key {
                Key::V => &mut raw.v,
                Key::Ts => &mut raw.ts,
                Key::Id => &mut raw.id,
                Key::Kind => &mut raw.kind,
                Key::Contact => &mut raw.contact,
                Key::Queue => &mut raw.queue,
                Key::Channel => &mut raw.channel,
                Key::Agent => &mut raw.agent,
                Key::Reason => &mut raw.reason,
                Key::To => &mut raw.to,
                Key::State => &mut raw.state,
                Key::Team => &mut raw.team,
                Key::Queues => &mut raw.queues,
                Key::Name => &mut raw.name,
                Key::Other => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            *slot = map.next_value()?;
        }
        Ok(())
    }
}

fn parse_raw<'a>(text: &'a str, raw: &mut Raw<'a>) -> Result<(), RejectReason> {
    let mut de = serde_json::Deserializer::from_str(text);
    let classify = |e: serde_json::Error| {
        if e.is_eof() {
            RejectReason::Truncated
        } else {
            RejectReason::BadJson
        }
    };
    de::DeserializeSeed::deserialize(RawSeed(raw), &mut de).map_err(classify)?;
    de.end().map_err(classify)
}

fn decode_line(line: &[u8]) -> Result<Decoded, RejectReason> {
    if is_blank(line) {
        return Ok(Decoded::Ignored);
    }
    let text = std::str::from_utf8(line).map_err(|_| RejectReason::NotUtf8)?;
    let mut raw = Raw::default();
    parse_raw(text, &mut raw)?;
    match raw.v {
        Field::Absent | Field::Int(1) => {}
        _ => return Err(RejectReason::BadVersion),
    }
    let kind = match &raw.kind {
        Field::Str(s) => s.as_ref(),
        Field::Absent => return Err(RejectReason::MissingField),
        _ => return Err(RejectReason::BadField),
    };
    let body = match kind {
        "contact_queued" => EventBody::ContactQueued {
            contact: required(&raw.contact)?,
            queue: required(&raw.queue)?,
            channel: match optional(&raw.channel)? {
                None => Channel::Voice,
                Some(c) => c.parse().map_err(|_| RejectReason::BadField)?,
            },
        },
        "contact_answered" => EventBody::ContactAnswered {
            contact: required(&raw.contact)?,
            queue: required(&raw.queue)?,
            agent: required(&raw.agent)?,
            wait_ms: None,
        },
        "contact_abandoned" => EventBody::ContactAbandoned {
            contact: required(&raw.contact)?,
            queue: required(&raw.queue)?,
            wait_ms: None,
        },
        "contact_exited" => EventBody::ContactExited {
            contact: required(&raw.contact)?,
            queue: required(&raw.queue)?,
            reason: required_str(&raw.reason)?
                .parse::<ExitReason>()
                .map_err(|_| RejectReason::BadField)?,
            wait_ms: None,
        },
        "contact_hold" => EventBody::ContactHold {
            contact: required(&raw.contact)?,
            queue: optional_name(&raw.queue)?,
        },
        "contact_unhold" => EventBody::ContactUnhold {
            contact: required(&raw.contact)?,
            queue: optional_name(&raw.queue)?,
        },
        "contact_transferred" => EventBody::ContactTransferred {
            contact: required(&raw.contact)?,
            queue: optional_name(&raw.queue)?,
            to: optional_name(&raw.to)?,
            talk_ms: None,
        },
        "contact_ended" => EventBody::ContactEnded {
            contact: required(&raw.contact)?,
            queue: optional_name(&raw.queue)?,
            talk_ms: None,
        },
        "agent_state" => EventBody::AgentState(Box::new(AgentStateChange {
            agent: required(&raw.agent)?,
            state: required_str(&raw.state)?
                .parse::<AgentStatus>()
                .map_err(|_| RejectReason::BadField)?,
            reason: optional_name(&raw.reason)?,
            team: optional_name(&raw.team)?,
            queues: match &raw.queues {
                Field::Absent => None,
                Field::List(items) => Some(items.iter().map(|s| Name::new(s)).collect()),
                _ => return Err(RejectReason::BadField),
            },
            name: optional_name(&raw.name)?,
            explicit: true,
        })),
        other => return Ok(Decoded::Unknown(Name::new(other))),
    };
    let ts = timestamp(&raw.ts)?;
    let id = optional_name(&raw.id)?;
    Ok(Decoded::Event(Event { ts, id, body }))
}

/// `ts`: RFC 3339 with an offset, or integer epoch milliseconds; 2000..2100 only.
fn timestamp(field: &Field<'_>) -> Result<Millis, RejectReason> {
    let ms = match field {
        Field::Absent => return Err(RejectReason::MissingField),
        Field::Int(ms) => *ms,
        Field::Str(s) => parse_rfc3339_ms(s)?,
        _ => return Err(RejectReason::BadTimestamp),
    };
    if (MIN_PLAUSIBLE_MS..MAX_PLAUSIBLE_MS).contains(&ms) {
        Ok(ms)
    } else {
        Err(RejectReason::AbsurdTimestamp)
    }
}

/// Parses an RFC 3339 timestamp (offset required) to epoch milliseconds.
pub(crate) fn parse_rfc3339_ms(s: &str) -> Result<Millis, RejectReason> {
    if let Some(ms) = simple_utc_ms(s.as_bytes()) {
        return Ok(ms);
    }
    let ts: jiff::Timestamp = s.parse().map_err(|_| RejectReason::BadTimestamp)?;
    Ok(ts.as_millisecond())
}

/// The common form `YYYY-MM-DDTHH:MM:SS[.f…]Z` (years 1970–9999, a valid date and
/// time, seconds ≤ 59) without the general parser, which took a tenth of a JSON replay;
/// anything else is `None` and goes to `jiff`. The fraction is truncated to ms, as
/// `jiff::Timestamp::as_millisecond` does for these (non-negative) times.
fn simple_utc_ms(b: &[u8]) -> Option<Millis> {
    fn num(b: &[u8]) -> Option<i64> {
        b.iter().try_fold(0i64, |v, &c| {
            c.is_ascii_digit().then(|| v * 10 + i64::from(c - b'0'))
        })
    }
    let (head, tail) = (b.get(..19)?, b.get(19..)?);
    let sep = |i: usize, c: u8| head.get(i) == Some(&c);
    if !(sep(4, b'-') && sep(7, b'-') && sep(10, b'T') && sep(13, b':') && sep(16, b':')) {
        return None;
    }
    let field = |from: usize, to: usize| head.get(from..to).and_then(num);
    let (year, month, day) = (field(0, 4)?, field(5, 7)?, field(8, 10)?);
    let (hour, min, sec) = (field(11, 13)?, field(14, 16)?, field(17, 19)?);
    let frac_ms = match tail {
        [b'Z'] => 0,
        [b'.', digits @ .., b'Z'] if (1..=9).contains(&digits.len()) => {
            num(digits)?;
            (0..3).fold(0, |ms, i| {
                ms * 10 + digits.get(i).map_or(0, |&d| i64::from(d - b'0'))
            })
        }
        _ => return None,
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    let days_in_month = usize::try_from(month - 1)
        .ok()
        .and_then(|m| month_days.get(m).copied());
    let valid = year >= 1970
        && days_in_month.is_some_and(|d| (1..=d).contains(&day))
        && hour <= 23
        && min <= 59
        && sec <= 59;
    if !valid {
        return None;
    }
    // Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 24 + hour) * 60 + min) * 60_000 + sec * 1000 + frac_ms)
}

fn required_str<'f>(field: &'f Field<'_>) -> Result<&'f str, RejectReason> {
    match field {
        Field::Str(s) if !s.is_empty() => Ok(s),
        Field::Absent => Err(RejectReason::MissingField),
        Field::Str(_) => Err(RejectReason::MissingField),
        _ => Err(RejectReason::BadField),
    }
}

fn required(field: &Field<'_>) -> Result<Name, RejectReason> {
    required_str(field).map(Name::new)
}

fn optional<'f>(field: &'f Field<'_>) -> Result<Option<&'f str>, RejectReason> {
    match field {
        Field::Absent => Ok(None),
        Field::Str(s) if s.is_empty() => Ok(None),
        Field::Str(s) => Ok(Some(s)),
        _ => Err(RejectReason::BadField),
    }
}

fn optional_name(field: &Field<'_>) -> Result<Option<Name>, RejectReason> {
    optional(field).map(|o| o.map(Name::new))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast path agrees with `jiff` wherever it answers, and leaves the rest to it.
    #[test]
    fn simple_utc_timestamps_match_jiff() {
        let jiff_ms = |s: &str| {
            s.parse::<jiff::Timestamp>()
                .ok()
                .map(|t| t.as_millisecond())
        };
        let mut ms: i64 = 0;
        let step = 7_919_777_777; // ~92 days and odd milliseconds: every month, leap days
        while ms < 253_402_300_799_000 {
            let ts = jiff::Timestamp::from_millisecond(ms).expect("in range");
            for s in [
                format!("{ts:.0}"),
                format!("{ts:.1}"),
                format!("{ts:.3}"),
                format!("{ts:.6}"),
                format!("{ts:.9}"),
            ] {
                assert_eq!(simple_utc_ms(s.as_bytes()), jiff_ms(&s), "{s}");
            }
            ms += step;
        }
        for s in [
            "2024-02-29T23:59:59.999Z",
            "2023-02-29T00:00:00Z",
            "2100-02-29T00:00:00Z",
            "2000-02-29T12:00:00Z",
            "2026-11-23T24:00:00Z",
            "2026-11-23T23:60:00Z",
            "2026-11-23T23:59:60Z",
            "2026-13-01T00:00:00Z",
            "2026-00-01T00:00:00Z",
            "2026-11-00T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "2026-11-23T00:00:00.Z",
            "2026-11-23T00:00:00.1234567890Z",
            "2026-11-23T00:00:00z",
            "2026-11-23t00:00:00Z",
            "2026-11-23T00:00:00+00:00",
            "2026-11-23 00:00:00Z",
            "1969-12-31T23:59:59.999Z",
            "+2026-11-23T00:00:00Z",
            "2026-1a-23T00:00:00Z",
            "2026-11-23T00:00:0\u{e9}Z",
            "",
        ] {
            if let Some(fast) = simple_utc_ms(s.as_bytes()) {
                assert_eq!(Some(fast), jiff_ms(s), "{s}");
            }
            assert_eq!(
                parse_rfc3339_ms(s).ok(),
                jiff_ms(s),
                "{s}: the decoder answers as jiff does"
            );
        }
    }

    const TS: Millis = 1_795_856_401_250; // 2026-11-28T09:00:01.250Z

    fn dec(line: &str) -> Decoded {
        JsonlDecoder::new().decode(line.as_bytes())
    }

    fn ev(line: &str) -> Event {
        match dec(line) {
            Decoded::Event(e) => e,
            other => panic!("{line}: expected an event, got {other:?}"),
        }
    }

    fn rej(line: &[u8]) -> RejectReason {
        match JsonlDecoder::new().decode(line) {
            Decoded::Rejected(r) => r,
            other => panic!("{line:?}: expected a reject, got {other:?}"),
        }
    }

    #[test]
    fn contact_queued_with_defaults_and_channel() {
        let e = ev(
            r#"{"v":1,"ts":"2026-11-28T09:00:01.250Z","type":"contact_queued","contact":"c-1","queue":"sales","channel":"voice"}"#,
        );
        assert_eq!(e.ts, TS);
        assert_eq!(e.id, None);
        assert_eq!(
            e.body,
            EventBody::ContactQueued {
                contact: "c-1".into(),
                queue: "sales".into(),
                channel: Channel::Voice
            }
        );
        let e = ev(
            r#"{"ts":1795856401250,"id":"e9","type":"contact_queued","contact":"c-\u0032","queue":"sales","channel":"chat","priority":3,"extra":{"a":[1,2]}}"#,
        );
        assert_eq!(e.ts, TS);
        assert_eq!(e.id.as_deref(), Some("e9"));
        assert_eq!(
            e.body,
            EventBody::ContactQueued {
                contact: "c-2".into(),
                queue: "sales".into(),
                channel: Channel::Chat
            }
        );
    }

    #[test]
    fn offsets_are_honoured() {
        let e = ev(
            r#"{"ts":"2026-11-28T10:00:01.250+01:00","type":"contact_abandoned","contact":"c","queue":"q"}"#,
        );
        assert_eq!(e.ts, TS);
    }

    #[test]
    fn every_contact_type() {
        let t = r#""ts":1795856401250"#;
        assert_eq!(
            ev(&format!(
                r#"{{{t},"type":"contact_answered","contact":"c","queue":"q","agent":"a"}}"#
            ))
            .body,
            EventBody::ContactAnswered {
                contact: "c".into(),
                queue: "q".into(),
                agent: "a".into(),
                wait_ms: None
            }
        );
        assert_eq!(
            ev(&format!(
                r#"{{{t},"type":"contact_abandoned","contact":"c","queue":"q"}}"#
            ))
            .body,
            EventBody::ContactAbandoned {
                contact: "c".into(),
                queue: "q".into(),
                wait_ms: None
            }
        );
        for (wire, reason) in [
            ("timeout", ExitReason::Timeout),
            ("exit_key", ExitReason::ExitKey),
            ("no_agents", ExitReason::NoAgents),
            ("overflow", ExitReason::Overflow),
            ("transfer", ExitReason::Transfer),
        ] {
            assert_eq!(
                ev(&format!(
                    r#"{{{t},"type":"contact_exited","contact":"c","queue":"q","reason":"{wire}"}}"#
                ))
                .body,
                EventBody::ContactExited {
                    contact: "c".into(),
                    queue: "q".into(),
                    reason,
                    wait_ms: None
                }
            );
        }
        assert_eq!(
            ev(&format!(
                r#"{{{t},"type":"contact_hold","contact":"c","agent":"a"}}"#
            ))
            .body,
            EventBody::ContactHold {
                contact: "c".into(),
                queue: None
            }
        );
        assert_eq!(
            ev(&format!(
                r#"{{{t},"type":"contact_unhold","contact":"c","agent":"a","queue":"q"}}"#
            ))
            .body,
            EventBody::ContactUnhold {
                contact: "c".into(),
                queue: Some("q".into())
            }
        );
        assert_eq!(
            ev(&format!(
                r#"{{{t},"type":"contact_transferred","contact":"c","agent":"a","to":"ext-9"}}"#
            ))
            .body,
            EventBody::ContactTransferred {
                contact: "c".into(),
                queue: None,
                to: Some("ext-9".into()),
                talk_ms: None
            }
        );
        assert_eq!(
            ev(&format!(
                r#"{{{t},"type":"contact_transferred","contact":"c","agent":"a","to":null}}"#
            ))
            .body,
            EventBody::ContactTransferred {
                contact: "c".into(),
                queue: None,
                to: None,
                talk_ms: None
            }
        );
        assert_eq!(
            ev(&format!(
                r#"{{{t},"type":"contact_ended","contact":"c","agent":"a","queue":"q"}}"#
            ))
            .body,
            EventBody::ContactEnded {
                contact: "c".into(),
                queue: Some("q".into()),
                talk_ms: None
            }
        );
    }

    #[test]
    fn agent_state_full_and_minimal() {
        let e = ev(
            r#"{"ts":1795856401250,"type":"agent_state","agent":"a1","state":"aux","reason":"lunch","team":"A","queues":["sales","support"],"name":"Ann"}"#,
        );
        assert_eq!(
            e.body,
            EventBody::AgentState(Box::new(AgentStateChange {
                agent: "a1".into(),
                state: AgentStatus::Aux,
                reason: Some("lunch".into()),
                team: Some("A".into()),
                queues: Some(vec!["sales".into(), "support".into()]),
                name: Some("Ann".into()),
                explicit: true,
            }))
        );
        for s in AgentStatus::ALL {
            let e = ev(&format!(
                r#"{{"ts":1795856401250,"type":"agent_state","agent":"a1","state":"{s}"}}"#
            ));
            let EventBody::AgentState(c) = e.body else {
                panic!("not agent_state")
            };
            assert_eq!(c.state, s);
            assert!(c.explicit);
            assert_eq!(c.queues, None);
        }
    }

    #[test]
    fn unknown_types_and_blank_lines() {
        assert_eq!(
            dec(r#"{"ts":1,"type":"agent_message","x":1}"#),
            Decoded::Unknown("agent_message".into())
        );
        assert_eq!(dec("   "), Decoded::Ignored);
        assert_eq!(dec(""), Decoded::Ignored);
    }

    #[test]
    fn each_reject_reason() {
        assert_eq!(
            rej(b"{\"ts\":1795856401250,\"type\":\"contact_ended\",\"contact\":\"\xff\"}"),
            RejectReason::NotUtf8
        );
        assert_eq!(
            rej(br#"{"ts":1795856401250,"type":"contact_ended","#),
            RejectReason::Truncated
        );
        assert_eq!(
            rej(br#"{"ts":1795856401250,"type":"contact_ended""#),
            RejectReason::Truncated
        );
        assert_eq!(rej(b"not json"), RejectReason::BadJson);
        assert_eq!(rej(b"[1,2]"), RejectReason::BadJson);
        assert_eq!(
            rej(br#"{"ts":1795856401250,"type":"contact_ended","contact":"c"} x"#),
            RejectReason::BadJson
        );
        assert_eq!(
            rej(br#"{"v":2,"ts":1795856401250,"type":"contact_ended","contact":"c"}"#),
            RejectReason::BadVersion
        );
        assert_eq!(
            rej(br#"{"v":"1","ts":1795856401250,"type":"contact_ended","contact":"c"}"#),
            RejectReason::BadVersion
        );
        assert_eq!(
            rej(br#"{"ts":1795856401250,"contact":"c"}"#),
            RejectReason::MissingField
        );
        assert_eq!(
            rej(br#"{"ts":1795856401250,"type":"contact_ended"}"#),
            RejectReason::MissingField
        );
        assert_eq!(
            rej(br#"{"ts":1795856401250,"type":"contact_ended","contact":""}"#),
            RejectReason::MissingField
        );
        assert_eq!(
            rej(br#"{"type":"contact_ended","contact":"c"}"#),
            RejectReason::MissingField
        );
        assert_eq!(
            rej(br#"{"ts":1795856401250,"type":"contact_exited","contact":"c","queue":"q"}"#),
            RejectReason::MissingField
        );
        assert_eq!(
            rej(br#"{"ts":1795856401250,"type":"contact_ended","contact":7}"#),
            RejectReason::BadField
        );
        assert_eq!(rej(br#"{"ts":1795856401250,"type":"contact_queued","contact":"c","queue":"q","channel":"fax"}"#), RejectReason::BadField);
        assert_eq!(rej(br#"{"ts":1795856401250,"type":"contact_exited","contact":"c","queue":"q","reason":"bored"}"#), RejectReason::BadField);
        assert_eq!(
            rej(br#"{"ts":1795856401250,"type":"agent_state","agent":"a","state":"sleeping"}"#),
            RejectReason::BadField
        );
        assert_eq!(rej(br#"{"ts":1795856401250,"type":"agent_state","agent":"a","state":"aux","queues":"q"}"#), RejectReason::BadField);
        assert_eq!(
            rej(br#"{"ts":1795856401250,"type":5}"#),
            RejectReason::BadField
        );
        assert_eq!(
            rej(br#"{"ts":"yesterday","type":"contact_ended","contact":"c"}"#),
            RejectReason::BadTimestamp
        );
        assert_eq!(
            rej(br#"{"ts":"2026-11-28T09:00:01","type":"contact_ended","contact":"c"}"#),
            RejectReason::BadTimestamp
        );
        assert_eq!(
            rej(br#"{"ts":1.5e12,"type":"contact_ended","contact":"c"}"#),
            RejectReason::BadTimestamp
        );
        assert_eq!(
            rej(br#"{"ts":1795856401,"type":"contact_ended","contact":"c"}"#),
            RejectReason::AbsurdTimestamp
        );
        assert_eq!(
            rej(br#"{"ts":"1970-01-01T00:00:00Z","type":"contact_ended","contact":"c"}"#),
            RejectReason::AbsurdTimestamp
        );
        assert_eq!(
            rej(br#"{"ts":-5,"type":"contact_ended","contact":"c"}"#),
            RejectReason::AbsurdTimestamp
        );
    }
}
