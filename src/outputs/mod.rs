//! Outputs of the live daemon: they read published snapshots and never touch the engine.
//!
//! Now: [`http`] (JSON API, health), [`metrics`] (`GET /metrics`, Prometheus), [`feed`]
//! (the `/ws` wallboard feed, with [`alert_feed`] for its `alert` frames), [`auth`]
//! (bearer token), [`alerts_api`] and [`schedule_api`] (`GET`/`PUT /api/v1/schedule`).
//! The notifiers are in [`crate::alerts::notify`].

pub mod alert_feed;
pub mod alerts_api;
pub mod auth;
pub mod board;
pub mod feed;
pub mod feed_delta;
pub mod feed_socket;
pub mod feed_view;
pub mod http;
pub mod metrics;
pub mod schedule_api;
