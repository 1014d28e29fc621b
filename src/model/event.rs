//! One canonical event type for every source (JSON lines v1, Asterisk queue_log, ...).

use compact_str::CompactString;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use super::Millis;

/// A short name (queue, agent, team, reason, contact id): up to 24 bytes are stored inline.
pub type Name = CompactString;

/// The media of a contact.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// A phone call (the default when a source does not say).
    #[default]
    Voice,
    /// A web or app chat.
    Chat,
    /// An e-mail.
    Email,
    /// A social-media message.
    Social,
    /// A scheduled callback.
    Callback,
    /// Any other routed work item.
    Task,
}

impl Channel {
    /// Every channel, in a fixed order (index = `as usize`).
    pub const ALL: [Channel; 6] = [
        Channel::Voice,
        Channel::Chat,
        Channel::Email,
        Channel::Social,
        Channel::Callback,
        Channel::Task,
    ];

    /// The wire name (`voice`, `chat`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Voice => "voice",
            Channel::Chat => "chat",
            Channel::Email => "email",
            Channel::Social => "social",
            Channel::Callback => "callback",
            Channel::Task => "task",
        }
    }
}

/// An agent's state, as in kpi-definitions §4.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum AgentStatus {
    /// Not logged in.
    #[default]
    LoggedOut,
    /// Logged in and ready for a contact.
    Available,
    /// A contact is being offered to the agent.
    Ringing,
    /// Talking to / working on a contact (hold included).
    OnContact,
    /// After-contact work (wrap-up).
    AfterCallWork,
    /// Logged in but not available (break, lunch, meeting, ...): see the reason.
    Aux,
}

impl AgentStatus {
    /// Every state, in a fixed order (index = `as usize`).
    pub const ALL: [AgentStatus; 6] = [
        AgentStatus::LoggedOut,
        AgentStatus::Available,
        AgentStatus::Ringing,
        AgentStatus::OnContact,
        AgentStatus::AfterCallWork,
        AgentStatus::Aux,
    ];

    /// The wire name (`logged_out`, `available`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            AgentStatus::LoggedOut => "logged_out",
            AgentStatus::Available => "available",
            AgentStatus::Ringing => "ringing",
            AgentStatus::OnContact => "on_contact",
            AgentStatus::AfterCallWork => "after_call_work",
            AgentStatus::Aux => "aux",
        }
    }
}

/// Why a contact left a queue without being answered or abandoned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitReason {
    /// The queue's maximum wait ran out.
    Timeout,
    /// The caller pressed an exit key.
    ExitKey,
    /// No agents were logged in / reachable.
    NoAgents,
    /// Flowed out to another queue or destination.
    Overflow,
    /// Transferred out of the queue before being answered.
    Transfer,
    /// Withdrawn from the queue by the system (Asterisk WITHDRAW, e.g. callback offered).
    Withdraw,
    /// Any other reason a source gives.
    Other,
}

impl ExitReason {
    /// Every reason, in a fixed order (index = `as usize`).
    pub const ALL: [ExitReason; 7] = [
        ExitReason::Timeout,
        ExitReason::ExitKey,
        ExitReason::NoAgents,
        ExitReason::Overflow,
        ExitReason::Transfer,
        ExitReason::Withdraw,
        ExitReason::Other,
    ];

    /// The wire name (`timeout`, `exit_key`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ExitReason::Timeout => "timeout",
            ExitReason::ExitKey => "exit_key",
            ExitReason::NoAgents => "no_agents",
            ExitReason::Overflow => "overflow",
            ExitReason::Transfer => "transfer",
            ExitReason::Withdraw => "withdraw",
            ExitReason::Other => "other",
        }
    }
}

/// A wire name that is not one of an enum's values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{value}`")]
pub struct ParseEnumError {
    /// Which enum (channel, state, exit reason).
    pub what: &'static str,
    /// The offending text.
    pub value: String,
}

macro_rules! wire_from_str {
    ($ty:ty, $what:literal) => {
        impl FromStr for $ty {
            type Err = ParseEnumError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                <$ty>::ALL
                    .into_iter()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| ParseEnumError {
                        what: $what,
                        value: s.to_string(),
                    })
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
wire_from_str!(Channel, "channel");
wire_from_str!(AgentStatus, "agent state");
wire_from_str!(ExitReason, "exit reason");

/// One event from any source, in event time.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Event {
    /// When it happened (event time, ms since the epoch).
    pub ts: Millis,
    /// Optional unique id, used to drop duplicates from at-least-once sources.
    pub id: Option<Name>,
    /// What happened.
    pub body: EventBody,
}

/// An agent-state change, explicit (the source says so) or derived (from queue_log verbs).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AgentStateChange {
    /// The agent.
    pub agent: Name,
    /// The new state. Derived changes only use `logged_out`, `available` and `aux`.
    pub state: AgentStatus,
    /// Aux / logout reason (break, lunch, ...).
    pub reason: Option<Name>,
    /// The agent's team, when the source says.
    pub team: Option<Name>,
    /// The queues the agent serves, when the source says (replaces the known set).
    pub queues: Option<Vec<Name>>,
    /// Display name, when the source says.
    pub name: Option<Name>,
    /// `true` when the source reports agent states itself (JSON `agent_state`): such
    /// states win over states derived from contact events. `false` for presence
    /// derived from queue_log verbs (login, pause, ...).
    pub explicit: bool,
}

/// What happened. Contact events are keyed by contact id **and** queue; events that
/// carry no queue (hold, end, transfer in JSON v1) refer to the contact's answered queue.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum EventBody {
    /// The contact entered a queue.
    ContactQueued {
        /// Contact id (call id, chat id, ...).
        contact: Name,
        /// The queue.
        queue: Name,
        /// The media.
        channel: Channel,
    },
    /// An agent answered the contact: its queue outcome is `answered`.
    ContactAnswered {
        /// Contact id.
        contact: Name,
        /// The queue.
        queue: Name,
        /// The answering agent.
        agent: Name,
        /// The wait the source measured (queue_log CONNECT holdtime), if any.
        wait_ms: Option<Millis>,
    },
    /// The customer left the queue: outcome `abandoned`.
    ContactAbandoned {
        /// Contact id.
        contact: Name,
        /// The queue.
        queue: Name,
        /// The wait the source measured, if any.
        wait_ms: Option<Millis>,
    },
    /// The contact left the queue without abandoning: outcome `exited`.
    ContactExited {
        /// Contact id.
        contact: Name,
        /// The queue.
        queue: Name,
        /// Why.
        reason: ExitReason,
        /// The wait the source measured, if any.
        wait_ms: Option<Millis>,
    },
    /// The answered contact was put on hold.
    ContactHold {
        /// Contact id.
        contact: Name,
        /// The queue, when the source says (queue_log); otherwise the answered queue.
        queue: Option<Name>,
    },
    /// The contact came back from hold.
    ContactUnhold {
        /// Contact id.
        contact: Name,
        /// The queue, when the source says.
        queue: Option<Name>,
    },
    /// The answered contact was transferred away: it counts as handled and transferred.
    ContactTransferred {
        /// Contact id.
        contact: Name,
        /// The queue, when the source says.
        queue: Option<Name>,
        /// Where it went, when known.
        to: Option<Name>,
        /// The talk time the source measured (queue_log calltime), if any.
        talk_ms: Option<Millis>,
    },
    /// The answered contact ended (talk is over; after-contact work may follow).
    ContactEnded {
        /// Contact id.
        contact: Name,
        /// The queue, when the source says.
        queue: Option<Name>,
        /// The talk time the source measured (queue_log calltime), if any.
        talk_ms: Option<Millis>,
    },
    /// An agent's state changed.
    AgentState(Box<AgentStateChange>),
    /// An agent joined (`joined`) or left a queue (queue_log ADDMEMBER/REMOVEMEMBER).
    AgentMembership {
        /// The agent.
        agent: Name,
        /// The queue.
        queue: Name,
        /// Joined (true) or left (false).
        joined: bool,
        /// Joined paused (ADDMEMBER `PAUSED`).
        paused: bool,
    },
    /// A contact rang an agent who did not answer (queue_log RINGNOANSWER).
    RingNoAnswer {
        /// The agent.
        agent: Name,
        /// The queue.
        queue: Name,
    },
    /// The ACD restarted (queue_log QUEUESTART): contacts still open cannot finish.
    SourceRestart,
}

impl EventBody {
    /// The queue named by the event, if any.
    pub fn queue(&self) -> Option<&Name> {
        match self {
            EventBody::ContactQueued { queue, .. }
            | EventBody::ContactAnswered { queue, .. }
            | EventBody::ContactAbandoned { queue, .. }
            | EventBody::ContactExited { queue, .. }
            | EventBody::AgentMembership { queue, .. }
            | EventBody::RingNoAnswer { queue, .. } => Some(queue),
            EventBody::ContactHold { queue, .. }
            | EventBody::ContactUnhold { queue, .. }
            | EventBody::ContactTransferred { queue, .. }
            | EventBody::ContactEnded { queue, .. } => queue.as_ref(),
            EventBody::AgentState(_) | EventBody::SourceRestart => None,
        }
    }
}
