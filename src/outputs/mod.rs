//! Outputs of the live daemon: they read published snapshots and never touch the engine.
//!
//! Now: [`http`] (JSON API, health), [`metrics`] (`GET /metrics`, Prometheus). Later:
//! the `/ws` feed, notifiers.

pub mod http;
pub mod metrics;
