//! ccpulse: a real-time contact-center monitor.
//!
//! # Layout (the data flow)
//! - [`model`]: the canonical event type every source is decoded into.
//! - [`decode`]: vendor formats (JSON lines v1, Asterisk queue_log) → events.
//! - [`engine`]: event-time state machines and windows → counters and snapshots.
//! - [`kpi`]: pure formulas from counters to KPIs (service level presets, AHT, ...).
//! - [`report`]: interval reports (`ccpulse replay`).
//! - [`sim`]: a seeded simulated contact center (demo data, load generation).
//! - [`staffing`]: Erlang C / Erlang A.
//! - [`config`]: typed configuration, loaded and validated in one place.
#![forbid(unsafe_code)]

pub mod config;
pub mod encode;
pub mod model;
pub mod sim;
