//! Asterisk `queue_log` lines: `epoch|callid|queue|agent|VERB|data1|…` (whole seconds).
//!
//! queue_log repeats facts that [`EventBody`] only carries once (the agent and wait on
//! COMPLETE*, the member's queues on PAUSE), so [`QueueLogWriter`] keeps a small memory
//! of open contacts and logged-in agents. Agent states map to presence verbs: login →
//! ADDMEMBER per queue (AGENTLOGIN when the queues are unknown), aux → PAUSE, back from
//! aux → UNPAUSE, logout → REMOVEMEMBER per queue (AGENTLOGOFF); on_contact and
//! after_call_work are implied by CONNECT/COMPLETE* and write nothing.

use super::{push_int, Unrepresentable};
use crate::model::{AgentStatus, Event, EventBody, ExitReason, Millis, Name};
use rustc_hash::FxHashMap;

/// What the writer remembers about a contact between ENTERQUEUE and COMPLETE*.
#[derive(Debug)]
struct OpenContact {
    queue: Name,
    queued_at: Millis,
    agent: Option<Name>,
    wait_s: i64,
    answered_at: Millis,
}

/// What the writer remembers about an agent (for per-queue presence lines).
#[derive(Debug, Default)]
struct AgentMemory {
    queues: Vec<Name>,
    state: AgentStatus,
    /// When the agent's phone started ringing (for the CONNECT ring time).
    since: Millis,
}

/// A stateful queue_log writer: one call of [`QueueLogWriter::write`] per event.
#[derive(Debug, Default)]
pub struct QueueLogWriter {
    contacts: FxHashMap<Name, OpenContact>,
    agents: FxHashMap<Name, AgentMemory>,
}

/// Whole seconds, rounded, from milliseconds (queue_log durations).
fn secs(ms: Millis) -> i64 {
    (ms.max(0) + 500) / 1000
}

impl QueueLogWriter {
    /// A writer with no memory.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends the line(s) for `ev` to `out` (none for implied agent states; several for
    /// per-queue presence changes).
    pub fn write(&mut self, ev: &Event, out: &mut Vec<u8>) -> Result<(), Unrepresentable> {
        let epoch = ev.ts.div_euclid(1000);
        match &ev.body {
            EventBody::ContactQueued { contact, queue, .. } => {
                self.contacts.insert(
                    contact.clone(),
                    OpenContact {
                        queue: queue.clone(),
                        queued_at: ev.ts,
                        agent: None,
                        wait_s: 0,
                        answered_at: ev.ts,
                    },
                );
                head(out, epoch, contact, queue, "NONE", "ENTERQUEUE");
                data(out, &["", contact, "1"]);
            }
            EventBody::ContactAnswered {
                contact,
                queue,
                agent,
                wait_ms,
            } => {
                let c = self
                    .contacts
                    .entry(contact.clone())
                    .or_insert_with(|| OpenContact {
                        queue: queue.clone(),
                        queued_at: ev.ts,
                        agent: None,
                        wait_s: 0,
                        answered_at: ev.ts,
                    });
                let wait_s = secs(wait_ms.unwrap_or(ev.ts - c.queued_at));
                c.agent = Some(agent.clone());
                c.wait_s = wait_s;
                c.answered_at = ev.ts;
                let ring_s = match self.agents.get(agent) {
                    Some(m) if m.state == AgentStatus::Ringing => secs(ev.ts - m.since),
                    _ => 0,
                };
                head(out, epoch, contact, queue, agent, "CONNECT");
                sep_int(out, wait_s);
                out.push(b'|');
                out.extend_from_slice(contact.as_bytes());
                out.extend_from_slice(b"-m");
                sep_int(out, ring_s);
                out.push(b'\n');
            }
            EventBody::ContactAbandoned {
                contact,
                queue,
                wait_ms,
            } => {
                let wait_s = self.take_wait(contact, ev.ts, *wait_ms);
                head(out, epoch, contact, queue, "NONE", "ABANDON");
                out.extend_from_slice(b"|1|1");
                sep_int(out, wait_s);
                out.push(b'\n');
            }
            EventBody::ContactExited {
                contact,
                queue,
                reason,
                wait_ms,
            } => {
                let (verb, prefix): (&str, &[u8]) = match reason {
                    ExitReason::Timeout => ("EXITWITHTIMEOUT", b"|1|1"),
                    ExitReason::NoAgents => ("EXITEMPTY", b"|1|1"),
                    ExitReason::ExitKey => ("EXITWITHKEY", b"|0|1|1"),
                    ExitReason::Withdraw => ("WITHDRAW", b"|1|1"),
                    ExitReason::Overflow | ExitReason::Transfer | ExitReason::Other => {
                        return Err(unrepr("an exit by overflow/transfer/other"))
                    }
                };
                let wait_s = self.take_wait(contact, ev.ts, *wait_ms);
                head(out, epoch, contact, queue, "NONE", verb);
                out.extend_from_slice(prefix);
                sep_int(out, wait_s);
                if *reason == ExitReason::Withdraw {
                    out.push(b'|');
                }
                out.push(b'\n');
            }
            EventBody::ContactEnded {
                contact,
                queue,
                talk_ms,
            } => {
                let c = self.contacts.remove(contact);
                let (q, agent, wait_s, talk_s) = complete_fields(c, queue, ev.ts, *talk_ms);
                // Who hung up is not in the event: a stable per-contact choice (~60 % caller).
                let verb = if fx(contact) % 5 < 3 {
                    "COMPLETECALLER"
                } else {
                    "COMPLETEAGENT"
                };
                head(out, epoch, contact, &q, &agent, verb);
                sep_int(out, wait_s);
                sep_int(out, talk_s);
                out.extend_from_slice(b"|1\n");
            }
            EventBody::ContactTransferred {
                contact,
                queue,
                to,
                talk_ms,
            } => {
                let c = self.contacts.remove(contact);
                let (q, agent, wait_s, talk_s) = complete_fields(c, queue, ev.ts, *talk_ms);
                head(out, epoch, contact, &q, &agent, "BLINDTRANSFER");
                data(out, &[to.as_deref().unwrap_or(""), "from-internal"]);
                out.pop();
                sep_int(out, wait_s);
                sep_int(out, talk_s);
                out.extend_from_slice(b"|1\n");
            }
            EventBody::AgentState(ch) => {
                let mem = self.agents.entry(ch.agent.clone()).or_default();
                if let Some(qs) = &ch.queues {
                    mem.queues.clone_from(qs);
                }
                let prev = std::mem::replace(&mut mem.state, ch.state);
                mem.since = ev.ts;
                let reason = ch.reason.as_deref().unwrap_or("");
                let (verb, d): (&str, &str) = match ch.state {
                    AgentStatus::Available | AgentStatus::Aux if prev == AgentStatus::LoggedOut => {
                        let paused = ch.state == AgentStatus::Aux;
                        if mem.queues.is_empty() {
                            head(out, epoch, "NONE", "NONE", &ch.agent, "AGENTLOGIN");
                            data(out, &[ch.agent.as_str()]);
                            if !paused {
                                return Ok(());
                            }
                        } else {
                            let flag = if paused { "PAUSED" } else { "" };
                            for q in &mem.queues {
                                head(out, epoch, "NONE", q, &ch.agent, "ADDMEMBER");
                                data(out, &[flag]);
                            }
                            return Ok(());
                        }
                        ("PAUSE", reason)
                    }
                    AgentStatus::Aux => ("PAUSE", reason),
                    AgentStatus::Available if prev == AgentStatus::Aux => ("UNPAUSE", ""),
                    AgentStatus::LoggedOut if prev != AgentStatus::LoggedOut => {
                        if mem.queues.is_empty() {
                            head(out, epoch, "NONE", "NONE", &ch.agent, "AGENTLOGOFF");
                            data(out, &[ch.agent.as_str(), "0"]);
                        } else {
                            for q in &mem.queues {
                                head(out, epoch, "NONE", q, &ch.agent, "REMOVEMEMBER");
                                data(out, &[]);
                            }
                        }
                        return Ok(());
                    }
                    _ => return Ok(()),
                };
                if mem.queues.is_empty() {
                    head(out, epoch, "NONE", "NONE", &ch.agent, verb);
                    data(out, &[d]);
                } else {
                    for q in &mem.queues {
                        head(out, epoch, "NONE", q, &ch.agent, verb);
                        data(out, &[d]);
                    }
                }
            }
            EventBody::AgentMembership {
                agent,
                queue,
                joined,
                paused,
            } => {
                if *joined {
                    head(out, epoch, "NONE", queue, agent, "ADDMEMBER");
                    data(out, &[if *paused { "PAUSED" } else { "" }]);
                } else {
                    head(out, epoch, "NONE", queue, agent, "REMOVEMEMBER");
                    data(out, &[]);
                }
            }
            EventBody::RingNoAnswer { agent, queue } => {
                // The ring time is not in the event.
                head(out, epoch, "NONE", queue, agent, "RINGNOANSWER");
                data(out, &["0"]);
            }
            EventBody::SourceRestart => {
                self.contacts.clear();
                head(out, epoch, "NONE", "NONE", "NONE", "QUEUESTART");
                data(out, &[]);
            }
            EventBody::ContactHold { .. } | EventBody::ContactUnhold { .. } => {
                return Err(unrepr("hold (no standard verb)"))
            }
        }
        Ok(())
    }

    /// The logged wait of a contact leaving the queue unanswered; forgets the contact.
    fn take_wait(&mut self, contact: &Name, ts: Millis, wait_ms: Option<Millis>) -> i64 {
        let queued = self.contacts.remove(contact).map_or(ts, |c| c.queued_at);
        secs(wait_ms.unwrap_or(ts - queued))
    }
}

/// (queue, agent, wait s, talk s) for COMPLETE*/transfer lines, from memory and the event.
fn complete_fields(
    c: Option<OpenContact>,
    queue: &Option<Name>,
    ts: Millis,
    talk_ms: Option<Millis>,
) -> (Name, Name, i64, i64) {
    let none = || Name::const_new("NONE");
    match c {
        Some(c) => (
            queue.clone().unwrap_or(c.queue),
            c.agent.unwrap_or_else(none),
            c.wait_s,
            secs(talk_ms.unwrap_or(ts - c.answered_at)),
        ),
        None => (
            queue.clone().unwrap_or_else(none),
            none(),
            0,
            secs(talk_ms.unwrap_or(0)),
        ),
    }
}

fn unrepr(what: &'static str) -> Unrepresentable {
    Unrepresentable {
        format: "queue_log",
        what,
    }
}

/// A stable hash of a name (FxHash is deterministic across runs).
fn fx(s: &str) -> u64 {
    use std::hash::{BuildHasher, BuildHasherDefault};
    BuildHasherDefault::<rustc_hash::FxHasher>::default().hash_one(s)
}

/// Appends `epoch|callid|queue|agent|VERB` (no trailing separator).
fn head(out: &mut Vec<u8>, epoch: i64, callid: &str, queue: &str, agent: &str, verb: &str) {
    push_int(out, epoch);
    for part in [callid, queue, agent, verb] {
        out.push(b'|');
        out.extend_from_slice(clean(part).as_bytes());
    }
}

/// Appends `|d1|d2…\n`, or `|\n` when there is no data (as Asterisk does).
fn data(out: &mut Vec<u8>, fields: &[&str]) {
    if fields.is_empty() {
        out.extend_from_slice(b"|\n");
        return;
    }
    for f in fields {
        out.push(b'|');
        out.extend_from_slice(clean(f).as_bytes());
    }
    out.push(b'\n');
}

fn sep_int(out: &mut Vec<u8>, v: i64) {
    out.push(b'|');
    push_int(out, v);
}

/// Names must not contain the separator or a newline; replaces them (rare) with `_`.
fn clean(s: &str) -> std::borrow::Cow<'_, str> {
    if s.bytes().any(|b| b == b'|' || b == b'\n' || b == b'\r') {
        std::borrow::Cow::Owned(s.replace(['|', '\n', '\r'], "_"))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AgentStateChange, Channel};

    fn ev(ts: Millis, body: EventBody) -> Event {
        Event { ts, id: None, body }
    }

    fn state(agent: &str, state: AgentStatus, reason: Option<&str>, queues: bool) -> EventBody {
        EventBody::AgentState(Box::new(AgentStateChange {
            agent: agent.into(),
            state,
            reason: reason.map(Into::into),
            team: None,
            queues: queues.then(|| vec!["sales".into(), "support".into()]),
            name: None,
            explicit: true,
        }))
    }

    fn write_all(events: &[Event]) -> String {
        let mut w = QueueLogWriter::new();
        let mut out = Vec::new();
        for e in events {
            w.write(e, &mut out).unwrap();
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn call_lifecycle() {
        let t = 1_675_555_753_400;
        let text = write_all(&[
            ev(
                t,
                EventBody::ContactQueued {
                    contact: "c-1".into(),
                    queue: "sales".into(),
                    channel: Channel::Voice,
                },
            ),
            ev(
                t + 12_600,
                EventBody::ContactAnswered {
                    contact: "c-1".into(),
                    queue: "sales".into(),
                    agent: "PJSIP/400".into(),
                    wait_ms: Some(12_600),
                },
            ),
            ev(
                t + 72_600,
                EventBody::ContactEnded {
                    contact: "c-1".into(),
                    queue: Some("sales".into()),
                    talk_ms: None,
                },
            ),
            ev(
                t + 80_000,
                EventBody::ContactQueued {
                    contact: "c-2".into(),
                    queue: "sales".into(),
                    channel: Channel::Voice,
                },
            ),
            ev(
                t + 95_000,
                EventBody::ContactAbandoned {
                    contact: "c-2".into(),
                    queue: "sales".into(),
                    wait_ms: None,
                },
            ),
        ]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "1675555753|c-1|sales|NONE|ENTERQUEUE||c-1|1");
        assert_eq!(
            lines[1],
            "1675555766|c-1|sales|PJSIP/400|CONNECT|13|c-1-m|0"
        );
        assert!(lines[2].starts_with("1675555826|c-1|sales|PJSIP/400|COMPLETE"));
        assert!(lines[2].ends_with("|13|60|1"));
        assert_eq!(lines[4], "1675555848|c-2|sales|NONE|ABANDON|1|1|15");
    }

    #[test]
    fn connect_carries_the_ring_time() {
        let text = write_all(&[
            ev(
                0,
                EventBody::ContactQueued {
                    contact: "c".into(),
                    queue: "q".into(),
                    channel: Channel::Voice,
                },
            ),
            ev(1000, state("A", AgentStatus::Ringing, None, false)),
            ev(
                5000,
                EventBody::ContactAnswered {
                    contact: "c".into(),
                    queue: "q".into(),
                    agent: "A".into(),
                    wait_ms: Some(5000),
                },
            ),
        ]);
        assert_eq!(text.lines().nth(1), Some("5|c|q|A|CONNECT|5|c-m|4"));
    }

    #[test]
    fn presence_lines_per_queue() {
        let text = write_all(&[
            ev(0, state("PJSIP/1", AgentStatus::Available, None, true)),
            ev(
                1000,
                state("PJSIP/1", AgentStatus::Aux, Some("lunch"), false),
            ),
            ev(2000, state("PJSIP/1", AgentStatus::Available, None, false)),
            ev(3000, state("PJSIP/1", AgentStatus::OnContact, None, false)),
            ev(4000, state("PJSIP/1", AgentStatus::LoggedOut, None, false)),
            ev(5000, state("PJSIP/2", AgentStatus::Available, None, false)),
            ev(6000, EventBody::SourceRestart),
        ]);
        let expected = "0|NONE|sales|PJSIP/1|ADDMEMBER|\n\
                        0|NONE|support|PJSIP/1|ADDMEMBER|\n\
                        1|NONE|sales|PJSIP/1|PAUSE|lunch\n\
                        1|NONE|support|PJSIP/1|PAUSE|lunch\n\
                        2|NONE|sales|PJSIP/1|UNPAUSE|\n\
                        2|NONE|support|PJSIP/1|UNPAUSE|\n\
                        4|NONE|sales|PJSIP/1|REMOVEMEMBER|\n\
                        4|NONE|support|PJSIP/1|REMOVEMEMBER|\n\
                        5|NONE|NONE|PJSIP/2|AGENTLOGIN|PJSIP/2\n\
                        6|NONE|NONE|NONE|QUEUESTART|\n";
        assert_eq!(text, expected);
    }

    #[test]
    fn exits_and_transfer() {
        let q = |c: &str| EventBody::ContactQueued {
            contact: c.into(),
            queue: "q".into(),
            channel: Channel::Voice,
        };
        let text = write_all(&[
            ev(0, q("a")),
            ev(
                300_000,
                EventBody::ContactExited {
                    contact: "a".into(),
                    queue: "q".into(),
                    reason: ExitReason::Timeout,
                    wait_ms: Some(300_000),
                },
            ),
            ev(0, q("b")),
            ev(
                0,
                EventBody::ContactExited {
                    contact: "b".into(),
                    queue: "q".into(),
                    reason: ExitReason::NoAgents,
                    wait_ms: Some(0),
                },
            ),
            ev(0, q("c")),
            ev(
                2000,
                EventBody::ContactAnswered {
                    contact: "c".into(),
                    queue: "q".into(),
                    agent: "A".into(),
                    wait_ms: None,
                },
            ),
            ev(
                32_000,
                EventBody::ContactTransferred {
                    contact: "c".into(),
                    queue: None,
                    to: Some("2000".into()),
                    talk_ms: Some(30_000),
                },
            ),
        ]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[1], "300|a|q|NONE|EXITWITHTIMEOUT|1|1|300");
        assert_eq!(lines[3], "0|b|q|NONE|EXITEMPTY|1|1|0");
        assert_eq!(lines[6], "32|c|q|A|BLINDTRANSFER|2000|from-internal|2|30|1");
    }
}
