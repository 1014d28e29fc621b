//! The canonical event model: what every decoder produces and the engine consumes.
//!
//! Decoders turn vendor formats into [`Event`]s; nothing downstream knows about
//! vendors. Names (queues, agents, teams, reasons, contacts) travel as
//! [`Name`]s, small strings stored inline, and are interned by the engine.

mod event;
mod time;

pub use event::{
    AgentStateChange, AgentStatus, Channel, Event, EventBody, ExitReason, Name, ParseEnumError,
};
pub use time::{format_rfc3339, format_rfc3339_in, Millis, MAX_PLAUSIBLE_MS, MIN_PLAUSIBLE_MS};
