//! Outputs of the live daemon: they read published snapshots and never touch the engine.
//!
//! Now: [`http`] (JSON API, health), [`metrics`] (`GET /metrics`, Prometheus), [`feed`]
//! (the `/ws` wallboard feed), [`auth`] (bearer token), [`alerts_api`] and
//! [`schedule_api`] (`GET`/`PUT /api/v1/schedule`). Later: notifiers.

pub mod alerts_api;
pub mod auth;
pub mod board;
pub mod feed;
pub mod http;
pub mod metrics;
pub mod schedule_api;
