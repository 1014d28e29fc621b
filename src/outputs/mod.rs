//! Outputs of the live daemon: they read published snapshots and never touch the engine.
//!
//! Now: [`http`] (JSON API, health). Later: `/metrics`, the `/ws` feed, notifiers.

pub mod http;
