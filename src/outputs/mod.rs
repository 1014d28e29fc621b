//! Outputs of the live daemon: they read published snapshots and never touch the engine.
//!
//! Now: [`http`] (JSON API, health), [`feed`] (the `/ws` wallboard feed) and [`auth`]
//! (bearer token). Later: `/metrics`, notifiers.

pub mod auth;
pub mod feed;
pub mod http;
