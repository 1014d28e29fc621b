//! JSON lines, schema v1 (interfaces.md §2): one object per event, `\n`-terminated.
//!
//! `wait_ms`/`talk_ms` are not part of v1 and are not written. v1 names the agent on
//! `contact_ended`/`contact_transferred`/hold events but [`EventBody`] does not carry it
//! there: the stateless [`write`] omits it, [`JsonlWriter`] remembers it from the answer.

use super::{push_rfc3339_ms, Unrepresentable};
use crate::model::{Event, EventBody, Name};
use rustc_hash::FxHashMap;

/// Writes one v1 line for `ev` (without the agent on ended/transferred/hold events).
pub fn write(ev: &Event, out: &mut Vec<u8>) -> Result<(), Unrepresentable> {
    write_line(ev, None, out)
}

/// A JSON-lines writer that remembers which agent answered each open contact, so
/// `contact_ended`, `contact_transferred` and hold events name the agent as v1 expects.
#[derive(Debug, Default)]
pub struct JsonlWriter {
    answered_by: FxHashMap<Name, Name>,
}

impl JsonlWriter {
    /// A writer with no open contacts.
    pub fn new() -> Self {
        Self::default()
    }

    /// Writes one v1 line for `ev`, filling the agent of answered contacts.
    pub fn write(&mut self, ev: &Event, out: &mut Vec<u8>) -> Result<(), Unrepresentable> {
        match &ev.body {
            EventBody::ContactAnswered { contact, agent, .. } => {
                self.answered_by.insert(contact.clone(), agent.clone());
                write_line(ev, None, out)
            }
            EventBody::ContactEnded { contact, .. }
            | EventBody::ContactTransferred { contact, .. } => {
                let agent = self.answered_by.remove(contact);
                write_line(ev, agent.as_deref(), out)
            }
            EventBody::ContactHold { contact, .. } | EventBody::ContactUnhold { contact, .. } => {
                let agent = self.answered_by.get(contact).cloned();
                write_line(ev, agent.as_deref(), out)
            }
            _ => write_line(ev, None, out),
        }
    }
}

fn write_line(ev: &Event, agent: Option<&str>, out: &mut Vec<u8>) -> Result<(), Unrepresentable> {
    let ty = match &ev.body {
        EventBody::ContactQueued { .. } => "contact_queued",
        EventBody::ContactAnswered { .. } => "contact_answered",
        EventBody::ContactAbandoned { .. } => "contact_abandoned",
        EventBody::ContactExited { .. } => "contact_exited",
        EventBody::ContactHold { .. } => "contact_hold",
        EventBody::ContactUnhold { .. } => "contact_unhold",
        EventBody::ContactTransferred { .. } => "contact_transferred",
        EventBody::ContactEnded { .. } => "contact_ended",
        EventBody::AgentState(_) => "agent_state",
        EventBody::AgentMembership { .. } => return Err(unrepr("agent membership")),
        EventBody::RingNoAnswer { .. } => return Err(unrepr("ring-no-answer")),
        EventBody::SourceRestart => return Err(unrepr("source restart")),
    };
    out.extend_from_slice(b"{\"v\":1,\"ts\":\"");
    push_rfc3339_ms(out, ev.ts);
    out.push(b'"');
    if let Some(id) = &ev.id {
        field(out, "id", id);
    }
    field(out, "type", ty);
    match &ev.body {
        EventBody::ContactQueued {
            contact,
            queue,
            channel,
        } => {
            field(out, "contact", contact);
            field(out, "queue", queue);
            field(out, "channel", channel.as_str());
        }
        EventBody::ContactAnswered {
            contact,
            queue,
            agent,
            ..
        } => {
            field(out, "contact", contact);
            field(out, "queue", queue);
            field(out, "agent", agent);
        }
        EventBody::ContactAbandoned { contact, queue, .. } => {
            field(out, "contact", contact);
            field(out, "queue", queue);
        }
        EventBody::ContactExited {
            contact,
            queue,
            reason,
            ..
        } => {
            field(out, "contact", contact);
            field(out, "queue", queue);
            field(out, "reason", reason.as_str());
        }
        EventBody::ContactHold { contact, queue }
        | EventBody::ContactUnhold { contact, queue }
        | EventBody::ContactEnded { contact, queue, .. } => {
            field(out, "contact", contact);
            opt_field(out, "agent", agent);
            opt_field(out, "queue", queue.as_deref());
        }
        EventBody::ContactTransferred {
            contact, queue, to, ..
        } => {
            field(out, "contact", contact);
            opt_field(out, "agent", agent);
            opt_field(out, "queue", queue.as_deref());
            opt_field(out, "to", to.as_deref());
        }
        EventBody::AgentState(ch) => {
            field(out, "agent", &ch.agent);
            field(out, "state", ch.state.as_str());
            opt_field(out, "reason", ch.reason.as_deref());
            opt_field(out, "team", ch.team.as_deref());
            if let Some(queues) = &ch.queues {
                out.extend_from_slice(b",\"queues\":[");
                for (i, q) in queues.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    push_json_str(out, q);
                }
                out.push(b']');
            }
            opt_field(out, "name", ch.name.as_deref());
        }
        EventBody::AgentMembership { .. }
        | EventBody::RingNoAnswer { .. }
        | EventBody::SourceRestart => {}
    }
    out.extend_from_slice(b"}\n");
    Ok(())
}

fn unrepr(what: &'static str) -> Unrepresentable {
    Unrepresentable {
        format: "jsonl v1",
        what,
    }
}

/// Appends `,"key":"value"` (keys are static ASCII and need no escaping).
fn field(out: &mut Vec<u8>, key: &str, value: &str) {
    out.extend_from_slice(b",\"");
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":");
    push_json_str(out, value);
}

fn opt_field(out: &mut Vec<u8>, key: &str, value: Option<&str>) {
    if let Some(v) = value {
        field(out, key, v);
    }
}

/// Appends `s` as a JSON string literal, escaping quotes, backslashes and control characters.
pub fn push_json_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: Option<&[u8]> = match b {
            b'"' => Some(b"\\\""),
            b'\\' => Some(b"\\\\"),
            b'\n' => Some(b"\\n"),
            b'\r' => Some(b"\\r"),
            b'\t' => Some(b"\\t"),
            0..=0x1f => None,
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        match esc {
            Some(e) => out.extend_from_slice(e),
            None => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[(b >> 4) as usize]);
                out.push(HEX[(b & 0xf) as usize]);
            }
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AgentStateChange, AgentStatus, Channel, ExitReason};

    fn line(w: &mut JsonlWriter, ev: &Event) -> serde_json::Value {
        let mut out = Vec::new();
        w.write(ev, &mut out).unwrap_or_default();
        assert_eq!(out.last(), Some(&b'\n'));
        assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 1);
        serde_json::from_slice(&out).unwrap_or_default()
    }

    #[test]
    fn writes_v1_fields_and_remembers_agent() {
        let mut w = JsonlWriter::new();
        let ts = 1_798_707_601_250;
        let q = line(
            &mut w,
            &Event {
                ts,
                id: Some("e-1".into()),
                body: EventBody::ContactQueued {
                    contact: "c-1".into(),
                    queue: "sales".into(),
                    channel: Channel::Chat,
                },
            },
        );
        assert_eq!(q["v"], 1);
        assert_eq!(q["ts"], "2026-12-31T09:00:01.250Z");
        assert_eq!(q["id"], "e-1");
        assert_eq!(q["type"], "contact_queued");
        assert_eq!(q["channel"], "chat");
        let a = line(
            &mut w,
            &Event {
                ts,
                id: None,
                body: EventBody::ContactAnswered {
                    contact: "c-1".into(),
                    queue: "sales".into(),
                    agent: "PJSIP/101".into(),
                    wait_ms: Some(1200),
                },
            },
        );
        assert_eq!(a["agent"], "PJSIP/101");
        assert!(a.get("wait_ms").is_none());
        assert!(a.get("id").is_none());
        let e = line(
            &mut w,
            &Event {
                ts,
                id: None,
                body: EventBody::ContactEnded {
                    contact: "c-1".into(),
                    queue: Some("sales".into()),
                    talk_ms: Some(5000),
                },
            },
        );
        assert_eq!(e["type"], "contact_ended");
        assert_eq!(e["agent"], "PJSIP/101");
        assert_eq!(e["queue"], "sales");
        assert!(e.get("talk_ms").is_none());
        let x = line(
            &mut w,
            &Event {
                ts,
                id: None,
                body: EventBody::ContactExited {
                    contact: "c-2".into(),
                    queue: "sales".into(),
                    reason: ExitReason::NoAgents,
                    wait_ms: Some(0),
                },
            },
        );
        assert_eq!(x["reason"], "no_agents");
    }

    #[test]
    fn escapes_names_and_writes_agent_state() {
        let ev = Event {
            ts: 0,
            id: None,
            body: EventBody::AgentState(Box::new(AgentStateChange {
                agent: "a\\1".into(),
                state: AgentStatus::Aux,
                reason: Some("lunch".into()),
                team: Some("team \"A\"".into()),
                queues: Some(vec!["sales".into(), "sup\nport".into()]),
                name: Some("Robert \"Bob\" O'Brien\u{1}".into()),
                explicit: true,
            })),
        };
        let v = line(&mut JsonlWriter::new(), &ev);
        assert_eq!(v["agent"], "a\\1");
        assert_eq!(v["state"], "aux");
        assert_eq!(v["reason"], "lunch");
        assert_eq!(v["team"], "team \"A\"");
        assert_eq!(v["queues"][1], "sup\nport");
        assert_eq!(v["name"], "Robert \"Bob\" O'Brien\u{1}");
    }

    #[test]
    fn membership_is_not_v1() {
        let ev = Event {
            ts: 0,
            id: None,
            body: EventBody::SourceRestart,
        };
        let mut out = Vec::new();
        assert!(write(&ev, &mut out).is_err());
        assert!(out.is_empty());
    }
}
