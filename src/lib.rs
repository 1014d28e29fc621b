//! ccpulse: a real-time contact-center monitor.
//!
//! # Layout (the data flow)
//! - [`model`]: the canonical event type every source is decoded into.
//! - [`decode`]: vendor formats (JSON lines v1, Asterisk queue_log) → events.
//! - [`encode`]: the inverse (events → JSON lines / queue_log), for the simulator.
//! - [`sim`]: a seeded simulated contact center (demo data, load generation).
//! - [`engine`]: event-time state machines and windows → counters and snapshots.
//! - [`kpi`]: pure formulas from counters to KPIs (service level presets, AHT, ...).
//! - [`replay`]: files → decoders → engine → report, as fast as one core allows.
//! - [`report`]: interval reports (`ccpulse replay`).
//! - [`staffing`]: Erlang C / Erlang A staffing.
//! - [`config`]: typed configuration, loaded and validated in one place.
#![forbid(unsafe_code)]

pub mod config;
pub mod decode;
pub mod encode;
pub mod engine;
pub mod kpi;
pub mod model;
pub mod replay;
pub mod report;
pub mod sim;
pub mod staffing;
