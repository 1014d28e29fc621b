//! ccpulse: a real-time contact-center monitor.
//!
//! # Layout (the data flow)
//! - [`model`]: the canonical event type every source is decoded into.
//! - [`decode`]: vendor formats (JSON lines v1, Asterisk queue_log) → events.
//! - [`encode`]: the inverse (events → JSON lines / queue_log), for the simulator.
//! - [`sim`]: a seeded simulated contact center (demo data, load generation).
//! - [`engine`]: event-time state machines and windows → counters and snapshots.
//! - [`kpi`]: pure formulas from counters to KPIs (service level presets, AHT, ...).
//! - [`sources`]: live event sources of the daemon (simulator, file tail, push ingest,
//!   websocket client) → bounded channel.
//! - [`runtime`]: the engine task (owns the engine, ticks with an injected clock,
//!   publishes `Arc<Snapshot>`), shutdown.
//! - [`outputs`]: readers of published snapshots (the HTTP API).
//! - [`replay`]: files → decoders → engine → report, as fast as one core allows.
//! - [`report`]: interval reports (`ccpulse replay`).
//! - [`staffing`]: Erlang C / Erlang A staffing.
//! - [`schedule`]: the team schedule (CSV), adherence and its exceptions (no-show,
//!   break overrun, late return), computed in event time off the engine's path.
//! - [`config`]: typed configuration, loaded and validated in one place.
#![forbid(unsafe_code)]

pub mod alerts;
pub mod auth;
pub mod config;
pub mod decode;
pub mod encode;
pub mod engine;
pub mod kpi;
pub mod model;
pub mod outputs;
pub mod replay;
pub mod report;
pub mod runtime;
pub mod schedule;
pub mod sim;
pub mod sources;
pub mod staffing;
