//! Asterisk `queue_log`: `epoch|callid|queue|agent|VERB|data1|…|data5` lines, with the
//! FreePBX/Wazo/PBXware/QueueMetrics variants (see `../shared/data/README.md`).
//!
//! Fields are split by a byte scan into borrowed slices; the only allocations are the
//! [`Name`]s of the event (inline up to 24 bytes). `callid`, `queue` and `agent` are
//! always strings (a callid looks like a number but is not one); `NONE` means absent.

use jiff::tz::TimeZone;

use super::{is_blank, Decoded, LineDecoder, RejectReason};
use crate::model::{
    AgentStateChange, AgentStatus, Channel, Event, EventBody, ExitReason, Millis, Name,
    MAX_PLAUSIBLE_MS, MIN_PLAUSIBLE_MS,
};

/// Fields kept per line: time, callid, queue, agent, verb, data1..data6 (data6 only
/// exists for `ATTENDEDTRANSFER|LINK`); further fields are ignored.
const MAX_FIELDS: usize = 11;

/// Decodes Asterisk queue_log lines.
#[derive(Debug, Clone)]
pub struct QueueLogDecoder {
    /// Interprets database-export `YYYY-MM-DD HH:MM:SS[.ffffff]` stamps (local time).
    tz: TimeZone,
}

impl Default for QueueLogDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl QueueLogDecoder {
    /// A decoder that reads DATETIME stamps as UTC.
    pub fn new() -> Self {
        Self::with_time_zone(TimeZone::UTC)
    }

    /// A decoder that reads DATETIME stamps in `tz` (epoch stamps are zone-free).
    pub fn with_time_zone(tz: TimeZone) -> Self {
        QueueLogDecoder { tz }
    }
}

impl LineDecoder for QueueLogDecoder {
    fn decode(&self, line: &[u8]) -> Decoded {
        match self.decode_line(line) {
            Ok(d) => d,
            Err(reason) => Decoded::Rejected(reason),
        }
    }
}

/// A line split into fields; absent trailing fields read as `""`.
struct Fields<'a> {
    f: [&'a str; MAX_FIELDS],
    n: usize,
}

impl<'a> Fields<'a> {
    fn split(line: &'a str) -> Fields<'a> {
        let mut f = [""; MAX_FIELDS];
        let mut n = 0;
        let mut start = 0;
        for_each_pipe(line.as_bytes(), |i| {
            if let Some(slot) = f.get_mut(n) {
                *slot = line.get(start..i).unwrap_or("");
            }
            n += 1;
            start = i + 1;
            n < MAX_FIELDS
        });
        if n < MAX_FIELDS {
            if let Some(slot) = f.get_mut(n) {
                *slot = line.get(start..).unwrap_or("");
            }
            n += 1;
        }
        Fields { f, n }
    }

    fn get(&self, i: usize) -> &'a str {
        self.f.get(i).copied().unwrap_or("")
    }

    /// data1..data6 (1-based, as in the Asterisk docs).
    fn data(&self, i: usize) -> &'a str {
        self.get(4 + i)
    }
}

/// Calls `f` with the index of each `|` in `b`, in order, until it returns false.
///
/// Eight bytes at a time (SWAR): fields are a few bytes long, too short for `memchr`'s
/// per-call setup, and a byte-by-byte loop costs one branch per byte.
fn for_each_pipe(b: &[u8], mut f: impl FnMut(usize) -> bool) {
    const LO7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const PIPES: u64 = 0x7c7c_7c7c_7c7c_7c7c; // b'|' in every byte
    let mut chunks = b.chunks_exact(8);
    let mut base = 0;
    for chunk in chunks.by_ref() {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let v = u64::from_le_bytes(word) ^ PIPES;
        // The high bit of each byte that was `|` (exact: no carries between bytes).
        let mut hits = !(((v & LO7) + LO7) | v | LO7);
        while hits != 0 {
            if !f(base + (hits.trailing_zeros() / 8) as usize) {
                return;
            }
            hits &= hits - 1;
        }
        base += 8;
    }
    for (i, &c) in chunks.remainder().iter().enumerate() {
        if c == b'|' && !f(base + i) {
            return;
        }
    }
}

/// A name field: `None` when empty or `NONE`.
fn opt_name(s: &str) -> Option<Name> {
    if s.is_empty() || s == "NONE" {
        None
    } else {
        Some(Name::new(s))
    }
}

fn req_name(s: &str) -> Result<Name, RejectReason> {
    opt_name(s).ok_or(RejectReason::MissingField)
}

/// A duration in whole seconds → ms; empty = `None`, not a number = `bad_field`.
fn secs(s: &str) -> Result<Option<Millis>, RejectReason> {
    let s = s.trim_ascii();
    if s.is_empty() {
        return Ok(None);
    }
    let mut v: i64 = 0;
    for &b in s.as_bytes() {
        if !b.is_ascii_digit() {
            return Err(RejectReason::BadField);
        }
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add(i64::from(b - b'0')))
            .ok_or(RejectReason::BadField)?;
    }
    v.checked_mul(1000).map(Some).ok_or(RejectReason::BadField)
}

/// Checks that a field documented as a number is one, when present. Used only on
/// fields *before* a value we read, to make sure the line has the shape we expect
/// (a shifted variant would otherwise give a wrong wait or talk); numbers we do not
/// depend on are not checked, so a vendor quirk there cannot lose an event.
fn check_number(s: &str) -> Result<(), RejectReason> {
    secs(s).map(|_| ())
}

impl QueueLogDecoder {
    fn decode_line(&self, line: &[u8]) -> Result<Decoded, RejectReason> {
        if is_blank(line) {
            return Ok(Decoded::Ignored);
        }
        let text = std::str::from_utf8(line).map_err(|_| RejectReason::NotUtf8)?;
        let f = Fields::split(text);
        if f.n < 5 {
            return Err(RejectReason::Truncated);
        }
        let verb = f.get(4).trim_ascii();
        let Some(body) = body(verb, &f)? else {
            return Ok(if verb.is_empty() {
                Decoded::Rejected(RejectReason::MissingField)
            } else if is_known_ignored(verb) {
                Decoded::Ignored
            } else {
                Decoded::Unknown(Name::new(verb))
            });
        };
        let ts = self.timestamp(f.get(0))?;
        Ok(Decoded::Event(Event { ts, id: None, body }))
    }

    /// Epoch seconds (`1341343643`, `1341343643.896208`) or a DATETIME in `self.tz`.
    fn timestamp(&self, s: &str) -> Result<Millis, RejectReason> {
        let s = s.trim_ascii();
        let b = s.as_bytes();
        let ms = if b.get(4) == Some(&b'-') {
            let dt: jiff::civil::DateTime = s.parse().map_err(|_| RejectReason::BadTimestamp)?;
            self.tz
                .to_ambiguous_timestamp(dt)
                .compatible()
                .map_err(|_| RejectReason::BadTimestamp)?
                .as_millisecond()
        } else {
            parse_epoch_secs(b)?
        };
        if (MIN_PLAUSIBLE_MS..MAX_PLAUSIBLE_MS).contains(&ms) {
            Ok(ms)
        } else {
            Err(RejectReason::AbsurdTimestamp)
        }
    }
}

/// `digits[.digits]` epoch seconds → ms (fraction truncated to ms).
fn parse_epoch_secs(b: &[u8]) -> Result<Millis, RejectReason> {
    let (int, frac) = match b.iter().position(|&c| c == b'.') {
        Some(i) => (&b[..i], &b[i + 1..]),
        None => (b, &b""[..]),
    };
    if int.is_empty() || !int.iter().all(u8::is_ascii_digit) || !frac.iter().all(u8::is_ascii_digit)
    {
        return Err(RejectReason::BadTimestamp);
    }
    if int.len() > 15 {
        return Err(RejectReason::AbsurdTimestamp);
    }
    let secs = int.iter().fold(0i64, |v, &d| v * 10 + i64::from(d - b'0'));
    let mut ms = 0i64;
    for i in 0..3 {
        ms = ms * 10 + frac.get(i).map_or(0, |&d| i64::from(d - b'0'));
    }
    Ok(secs * 1000 + ms)
}

/// Known verbs that carry no KPI meaning.
fn is_known_ignored(verb: &str) -> bool {
    matches!(
        verb,
        "CONFIGRELOAD" | "RINGCANCELED" | "AGENTDUMP" | "DID" | "INFO"
    )
}

fn agent_state(agent: &str, state: AgentStatus, reason: &str) -> Result<EventBody, RejectReason> {
    Ok(EventBody::AgentState(Box::new(AgentStateChange {
        agent: req_name(agent)?,
        state,
        reason: if reason.is_empty() {
            None
        } else {
            Some(Name::new(reason))
        },
        team: None,
        queues: None,
        name: None,
        explicit: false,
    })))
}

/// An exit; `wait` is the data index of the wait, and the numeric fields between
/// `first_number` and it are checked.
fn exited(
    f: &Fields<'_>,
    reason: ExitReason,
    first_number: usize,
    wait: usize,
) -> Result<EventBody, RejectReason> {
    for i in first_number..wait {
        check_number(f.data(i))?;
    }
    Ok(EventBody::ContactExited {
        contact: req_name(f.get(1))?,
        queue: req_name(f.get(2))?,
        reason,
        wait_ms: secs(f.data(wait))?,
    })
}

/// `exten@context` (or just one of them) as a transfer target.
fn target(exten: &str, context: &str) -> Option<Name> {
    match (exten.is_empty(), context.is_empty()) {
        (true, _) => None,
        (false, true) => Some(Name::new(exten)),
        (false, false) => {
            let mut n = Name::with_capacity(exten.len() + 1 + context.len());
            n.push_str(exten);
            n.push('@');
            n.push_str(context);
            Some(n)
        }
    }
}

/// The event for a verb; `Ok(None)` for ignored and unknown verbs.
fn body(verb: &str, f: &Fields<'_>) -> Result<Option<EventBody>, RejectReason> {
    let (callid, queue, agent) = (f.get(1), f.get(2), f.get(3));
    let body = match verb {
        "ENTERQUEUE" => EventBody::ContactQueued {
            contact: req_name(callid)?,
            queue: req_name(queue)?,
            channel: Channel::Voice,
        },
        "CONNECT" => EventBody::ContactAnswered {
            contact: req_name(callid)?,
            queue: req_name(queue)?,
            agent: req_name(agent)?,
            wait_ms: secs(f.data(1))?,
        },
        "COMPLETECALLER" | "COMPLETEAGENT" => {
            check_number(f.data(1))?;
            EventBody::ContactEnded {
                contact: req_name(callid)?,
                queue: Some(req_name(queue)?),
                talk_ms: secs(f.data(2))?,
            }
        }
        "ABANDON" => {
            check_number(f.data(1))?;
            check_number(f.data(2))?;
            EventBody::ContactAbandoned {
                contact: req_name(callid)?,
                queue: req_name(queue)?,
                wait_ms: secs(f.data(3))?,
            }
        }
        "EXITEMPTY" => exited(f, ExitReason::NoAgents, 1, 3)?,
        "EXITWITHTIMEOUT" => exited(f, ExitReason::Timeout, 1, 3)?,
        // data1 is the key pressed (`*`, `#`, a digit): not a number to check.
        "EXITWITHKEY" => exited(f, ExitReason::ExitKey, 2, 4)?,
        "WITHDRAW" => exited(f, ExitReason::Withdraw, 1, 3)?,
        "SYSCOMPAT" => EventBody::ContactExited {
            contact: req_name(callid)?,
            queue: req_name(queue)?,
            reason: ExitReason::Other,
            wait_ms: None,
        },
        "BLINDTRANSFER" | "TRANSFER" => {
            check_number(f.data(3))?;
            EventBody::ContactTransferred {
                contact: req_name(callid)?,
                queue: opt_name(queue),
                to: target(f.data(1), f.data(2)),
                talk_ms: secs(f.data(4))?,
            }
        }
        "ATTENDEDTRANSFER" => {
            // data1 BRIDGE/APP: target, wait, talk, origpos. LINK: one more field
            // after data2, so wait and talk move to data4 and data5.
            let shift = usize::from(f.data(1) == "LINK");
            check_number(f.data(3 + shift))?;
            EventBody::ContactTransferred {
                contact: req_name(callid)?,
                queue: opt_name(queue),
                to: opt_name(f.data(2)),
                talk_ms: secs(f.data(4 + shift))?,
            }
        }
        // data1 is the ring time in ms: not used.
        "RINGNOANSWER" => EventBody::RingNoAnswer {
            agent: req_name(agent)?,
            queue: req_name(queue)?,
        },
        "PAUSE" | "PAUSEALL" => agent_state(agent, AgentStatus::Aux, f.data(1))?,
        "UNPAUSE" | "UNPAUSEALL" | "AGENTLOGIN" | "AGENTCALLBACKLOGIN" => {
            agent_state(agent, AgentStatus::Available, "")?
        }
        "AGENTLOGOFF" => agent_state(agent, AgentStatus::LoggedOut, "")?,
        "AGENTCALLBACKLOGOFF" => {
            check_number(f.data(2))?;
            agent_state(agent, AgentStatus::LoggedOut, f.data(3))?
        }
        "ADDMEMBER" => EventBody::AgentMembership {
            agent: req_name(agent)?,
            queue: req_name(queue)?,
            joined: true,
            paused: f.data(1) == "PAUSED",
        },
        "REMOVEMEMBER" => EventBody::AgentMembership {
            agent: req_name(agent)?,
            queue: req_name(queue)?,
            joined: false,
            paused: false,
        },
        "QUEUESTART" => EventBody::SourceRestart,
        "CALLERONHOLD" => EventBody::ContactHold {
            contact: req_name(callid)?,
            queue: opt_name(queue),
        },
        "CALLEROFFHOLD" => EventBody::ContactUnhold {
            contact: req_name(callid)?,
            queue: opt_name(queue),
        },
        _ => return Ok(None),
    };
    Ok(Some(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Millis = 1_675_555_753_000;

    fn dec(line: &str) -> Decoded {
        QueueLogDecoder::new().decode(line.as_bytes())
    }

    fn body(line: &str) -> EventBody {
        match dec(line) {
            Decoded::Event(e) => {
                assert_eq!(e.ts, T, "{line}");
                assert_eq!(e.id, None);
                e.body
            }
            other => panic!("{line}: expected an event, got {other:?}"),
        }
    }

    fn rej(line: &[u8]) -> RejectReason {
        match QueueLogDecoder::new().decode(line) {
            Decoded::Rejected(r) => r,
            other => panic!("{line:?}: expected a reject, got {other:?}"),
        }
    }

    fn state(agent: &str, state: AgentStatus, reason: Option<&str>) -> EventBody {
        EventBody::AgentState(Box::new(AgentStateChange {
            agent: agent.into(),
            state,
            reason: reason.map(Name::from),
            team: None,
            queues: None,
            name: None,
            explicit: false,
        }))
    }

    #[test]
    fn contact_verbs() {
        assert_eq!(
            body("1675555753|1675555752.0|Support|NONE|ENTERQUEUE||200|1"),
            EventBody::ContactQueued {
                contact: "1675555752.0".into(),
                queue: "Support".into(),
                channel: Channel::Voice
            }
        );
        assert_eq!(
            body("1675555753|1675555752.0|Support|PJSIP/400|CONNECT|8|1675555753.1|7"),
            EventBody::ContactAnswered {
                contact: "1675555752.0".into(),
                queue: "Support".into(),
                agent: "PJSIP/400".into(),
                wait_ms: Some(8000)
            }
        );
        for verb in ["COMPLETECALLER", "COMPLETEAGENT"] {
            assert_eq!(
                body(&format!("1675555753|c1|Support|PJSIP/400|{verb}|8|5|1")),
                EventBody::ContactEnded {
                    contact: "c1".into(),
                    queue: Some("Support".into()),
                    talk_ms: Some(5000)
                }
            );
        }
        assert_eq!(
            body("1675555753|c1|q|NONE|ABANDON|1|1|20"),
            EventBody::ContactAbandoned {
                contact: "c1".into(),
                queue: "q".into(),
                wait_ms: Some(20_000)
            }
        );
        let ex = |reason, wait_ms| EventBody::ContactExited {
            contact: "c1".into(),
            queue: "q".into(),
            reason,
            wait_ms,
        };
        assert_eq!(
            body("1675555753|c1|q|NONE|EXITEMPTY|1|1|3"),
            ex(ExitReason::NoAgents, Some(3000))
        );
        assert_eq!(
            body("1675555753|c1|q|NONE|EXITWITHTIMEOUT|1|2|300"),
            ex(ExitReason::Timeout, Some(300_000))
        );
        assert_eq!(
            body("1675555753|c1|q|NONE|EXITWITHKEY|5|1|1|42"),
            ex(ExitReason::ExitKey, Some(42_000))
        );
        assert_eq!(
            body("1675555753|c1|q|NONE|EXITWITHKEY|5|1"),
            ex(ExitReason::ExitKey, None)
        );
        assert_eq!(
            body("1675555753|c1|q|NONE|WITHDRAW|1|1|9|info"),
            ex(ExitReason::Withdraw, Some(9000))
        );
        assert_eq!(
            body("1675555753|c1|q|NONE|SYSCOMPAT|"),
            ex(ExitReason::Other, None)
        );
        assert_eq!(
            body("1675555753|c1|q|NONE|CALLERONHOLD|"),
            EventBody::ContactHold {
                contact: "c1".into(),
                queue: Some("q".into())
            }
        );
        assert_eq!(
            body("1675555753|c1|NONE|NONE|CALLEROFFHOLD"),
            EventBody::ContactUnhold {
                contact: "c1".into(),
                queue: None
            }
        );
    }

    #[test]
    fn transfer_verbs() {
        let tr = |to: Option<&str>, talk_ms| EventBody::ContactTransferred {
            contact: "c1".into(),
            queue: Some("q".into()),
            to: to.map(Name::from),
            talk_ms,
        };
        assert_eq!(
            body("1675555753|c1|q|A/1|BLINDTRANSFER|2001|from-internal|4|60|1"),
            tr(Some("2001@from-internal"), Some(60_000))
        );
        assert_eq!(
            body("1675555753|c1|q|A/1|TRANSFER|2001|from-internal|4|60"),
            tr(Some("2001@from-internal"), Some(60_000))
        );
        assert_eq!(
            body("1675555753|c1|q|A/1|TRANSFER|2001"),
            tr(Some("2001"), None)
        );
        assert_eq!(
            body("1675555753|c1|q|A/1|ATTENDEDTRANSFER|BRIDGE|b-7|4|60|1"),
            tr(Some("b-7"), Some(60_000))
        );
        assert_eq!(
            body("1675555753|c1|q|A/1|ATTENDEDTRANSFER|APP|Dial|4|61|1"),
            tr(Some("Dial"), Some(61_000))
        );
        assert_eq!(
            body("1675555753|c1|q|A/1|ATTENDEDTRANSFER|LINK|chanA|chanB|4|62|1"),
            tr(Some("chanA"), Some(62_000))
        );
        // PBXware writes an empty data1 and target.
        assert_eq!(
            body("1675555753|c1|q|A/1|ATTENDEDTRANSFER|||6|30|1"),
            tr(None, Some(30_000))
        );
    }

    #[test]
    fn agent_verbs() {
        assert_eq!(
            body("1675555753|NONE|q|A/1|PAUSE|lunch"),
            state("A/1", AgentStatus::Aux, Some("lunch"))
        );
        assert_eq!(
            body("1675555753|NONE|NONE|A/1|PAUSEALL|"),
            state("A/1", AgentStatus::Aux, None)
        );
        assert_eq!(
            body("1675555753|NONE|q|A/1|UNPAUSE|"),
            state("A/1", AgentStatus::Available, None)
        );
        assert_eq!(
            body("1675555753|NONE|NONE|A/1|UNPAUSEALL|"),
            state("A/1", AgentStatus::Available, None)
        );
        assert_eq!(
            body("1675555753|NONE|NONE|Agent/1|AGENTLOGIN|SIP/100-0001"),
            state("Agent/1", AgentStatus::Available, None)
        );
        assert_eq!(
            body("1675555753|NONE|NONE|Agent/1|AGENTLOGOFF|SIP/100-0001|600"),
            state("Agent/1", AgentStatus::LoggedOut, None)
        );
        assert_eq!(
            body("1675555753|x.1|NONE|Agent/1|AGENTCALLBACKLOGIN|hint:1127@default"),
            state("Agent/1", AgentStatus::Available, None)
        );
        assert_eq!(
            body(
                "1675555753|NONE|NONE|Agent/3001|AGENTCALLBACKLOGOFF|1002@pcm-dev|43|CommandLogoff"
            ),
            state("Agent/3001", AgentStatus::LoggedOut, Some("CommandLogoff"))
        );
        assert_eq!(
            body("1675555753|NONE|q|Local/1127@callback-agent|ADDMEMBER|"),
            EventBody::AgentMembership {
                agent: "Local/1127@callback-agent".into(),
                queue: "q".into(),
                joined: true,
                paused: false
            }
        );
        assert_eq!(
            body("1675555753|NONE|q|Agent Smith|ADDMEMBER|PAUSED"),
            EventBody::AgentMembership {
                agent: "Agent Smith".into(),
                queue: "q".into(),
                joined: true,
                paused: true
            }
        );
        assert_eq!(
            body("1675555753|NONE|q|A/1|REMOVEMEMBER|"),
            EventBody::AgentMembership {
                agent: "A/1".into(),
                queue: "q".into(),
                joined: false,
                paused: false
            }
        );
        assert_eq!(
            body("1675555753|c1|q|PJSIP/400|RINGNOANSWER|15000"),
            EventBody::RingNoAnswer {
                agent: "PJSIP/400".into(),
                queue: "q".into()
            }
        );
        assert_eq!(
            body("1675555753|NONE|NONE|NONE|QUEUESTART|"),
            EventBody::SourceRestart
        );
    }

    #[test]
    fn ignored_and_unknown_verbs() {
        for verb in ["CONFIGRELOAD", "RINGCANCELED", "AGENTDUMP", "DID", "INFO"] {
            assert_eq!(
                dec(&format!("1675555753|c1|q|NONE|{verb}|1")),
                Decoded::Ignored,
                "{verb}"
            );
        }
        for verb in [
            "FULL",
            "CLOSED",
            "JOINEMPTY",
            "OUTDIAL",
            "OUTANSWER",
            "enterqueue",
        ] {
            assert_eq!(
                dec(&format!("1675555753|c1|q|NONE|{verb}|")),
                Decoded::Unknown(verb.into())
            );
        }
        // Unknown verbs are counted even when the rest of the line is odd.
        assert_eq!(
            dec("garbage|c1|q|NONE|FULL"),
            Decoded::Unknown("FULL".into())
        );
        assert_eq!(dec(""), Decoded::Ignored);
        assert_eq!(dec(" \t"), Decoded::Ignored);
    }

    #[test]
    fn pipe_scan_finds_every_separator() {
        let lines = [
            "",
            "|",
            "a|b",
            "1234567|",
            "12345678|",
            "|||||||||||||||||||",
            "1700000000|1700000000.1|q-001|PJSIP/1000|CONNECT|3|1700000000.2|1",
            "é|ü|\u{7c}x|\u{fc}|\u{17c}",
        ];
        for line in lines {
            let want: Vec<usize> = line
                .bytes()
                .enumerate()
                .filter(|(_, c)| *c == b'|')
                .map(|(i, _)| i)
                .collect();
            let mut got = Vec::new();
            for_each_pipe(line.as_bytes(), |i| {
                got.push(i);
                true
            });
            assert_eq!(got, want, "{line:?}");
            let mut first = Vec::new();
            for_each_pipe(line.as_bytes(), |i| {
                first.push(i);
                false
            });
            assert_eq!(first, want.get(..1).unwrap_or_default(), "{line:?}");
        }
    }

    #[test]
    fn field_count_variants() {
        // single data field, trailing pipe, missing trailing fields, extra fields.
        assert!(matches!(
            body("1675555753|c1|q|A|CONNECT|8"),
            EventBody::ContactAnswered {
                wait_ms: Some(8000),
                ..
            }
        ));
        assert!(matches!(
            body("1675555753|c1|q|A|CONNECT|8|"),
            EventBody::ContactAnswered {
                wait_ms: Some(8000),
                ..
            }
        ));
        assert!(matches!(
            body("1675555753|c1|q|A|CONNECT"),
            EventBody::ContactAnswered { wait_ms: None, .. }
        ));
        assert!(matches!(
            body("1675555753|c1|q|A|COMPLETEAGENT|8"),
            EventBody::ContactEnded { talk_ms: None, .. }
        ));
        assert!(matches!(
            body("1675555753|c1|q|A|COMPLETEAGENT|8|5|1|x|y|z|more|and|more"),
            EventBody::ContactEnded {
                talk_ms: Some(5000),
                ..
            }
        ));
        assert!(matches!(
            body("1675555753|c1|q|NONE|ENTERQUEUE||200|1|Alice||"),
            EventBody::ContactQueued { .. }
        ));
    }

    #[test]
    fn timestamps() {
        let d = QueueLogDecoder::new();
        let ts = |line: &str, d: &QueueLogDecoder| match d.decode(line.as_bytes()) {
            Decoded::Event(e) => e.ts,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            ts("1341343643.896208|c|q|NONE|ENTERQUEUE||1|1", &d),
            1_341_343_643_896
        );
        assert_eq!(
            ts("1341343643.8|c|q|NONE|ENTERQUEUE||1|1", &d),
            1_341_343_643_800
        );
        assert_eq!(
            ts("2012-07-03 15:27:23.896208|c|q|NONE|ENTERQUEUE||1|1", &d),
            1_341_329_243_896
        );
        assert_eq!(
            ts("2012-07-03 15:27:23|c|q|NONE|ENTERQUEUE||1|1", &d),
            1_341_329_243_000
        );
        let paris =
            QueueLogDecoder::with_time_zone(jiff::tz::TimeZone::get("Europe/Paris").unwrap());
        // CEST = UTC+2 in July.
        assert_eq!(
            ts(
                "2012-07-03 17:27:23.896208|c|q|NONE|ENTERQUEUE||1|1",
                &paris
            ),
            1_341_329_243_896
        );
    }

    #[test]
    fn each_reject_reason() {
        assert_eq!(
            rej(b"1675555753|c\xff|q|NONE|ENTERQUEUE||1|1"),
            RejectReason::NotUtf8
        );
        assert_eq!(rej(b"1675555753|c1|q|NONE"), RejectReason::Truncated);
        assert_eq!(rej(b"1675555753"), RejectReason::Truncated);
        assert_eq!(rej(b"1675555753|c1|q|NONE||"), RejectReason::MissingField);
        assert_eq!(
            rej(b"1675555753|NONE|q|NONE|ENTERQUEUE||1|1"),
            RejectReason::MissingField
        );
        assert_eq!(
            rej(b"1675555753|c1|NONE|NONE|ENTERQUEUE||1|1"),
            RejectReason::MissingField
        );
        assert_eq!(
            rej(b"1675555753|c1|q|NONE|CONNECT|8|x|1"),
            RejectReason::MissingField
        );
        assert_eq!(
            rej(b"1675555753|NONE|NONE|NONE|PAUSE|"),
            RejectReason::MissingField
        );
        assert_eq!(
            rej(b"1675555753|c1|q|A|CONNECT|eight|x|1"),
            RejectReason::BadField
        );
        assert_eq!(
            rej(b"1675555753|c1|q|A|COMPLETEAGENT|8|-5|1"),
            RejectReason::BadField
        );
        assert_eq!(
            rej(b"1675555753|c1|q|NONE|ABANDON|1|1|99999999999999999999"),
            RejectReason::BadField
        );
        assert_eq!(
            rej(b"1675555753|c1|q|NONE|EXITWITHTIMEOUT|one|2|300"),
            RejectReason::BadField
        );
        assert_eq!(
            rej(b"1675555753|c1|q|NONE|EXITWITHKEY|*|x|1|5"),
            RejectReason::BadField
        );
        assert_eq!(
            rej(b"1675555753|c1|q|A|COMPLETECALLER|x|5|1"),
            RejectReason::BadField
        );
        // Numbers we do not use are not checked.
        assert!(matches!(
            QueueLogDecoder::new().decode(b"1675555753|c1|q|A|RINGNOANSWER|soon"),
            Decoded::Event(_)
        ));
        assert_eq!(
            rej(b"yesterday|c1|q|NONE|ENTERQUEUE||1|1"),
            RejectReason::BadTimestamp
        );
        assert_eq!(
            rej(b"|c1|q|NONE|ENTERQUEUE||1|1"),
            RejectReason::BadTimestamp
        );
        assert_eq!(
            rej(b"1675555753.5.5|c1|q|NONE|ENTERQUEUE||1|1"),
            RejectReason::BadTimestamp
        );
        assert_eq!(
            rej(b"2023-02-30 10:00:00|c1|q|NONE|ENTERQUEUE||1|1"),
            RejectReason::BadTimestamp
        );
        assert_eq!(
            rej(b"0|c1|q|NONE|ENTERQUEUE||1|1"),
            RejectReason::AbsurdTimestamp
        );
        assert_eq!(
            rej(b"1675555753000|c1|q|NONE|ENTERQUEUE||1|1"),
            RejectReason::AbsurdTimestamp
        );
        assert_eq!(
            rej(b"99999999999999999999999|c1|q|NONE|ENTERQUEUE||1|1"),
            RejectReason::AbsurdTimestamp
        );
        assert_eq!(
            rej(b"1975-01-01 00:00:00|c1|q|NONE|ENTERQUEUE||1|1"),
            RejectReason::AbsurdTimestamp
        );
    }
}
