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
pub mod feed_deflate;
pub mod feed_delta;
pub mod feed_socket;
pub mod feed_view;
pub mod http;
pub mod metrics;
pub mod report_api;
pub mod schedule_api;

/// The names of a `?queues=`/`?teams=` parameter: comma-separated, trimmed, empty ones
/// skipped; `None` when the parameter is absent (no filter).
pub(crate) fn name_list(list: Option<&str>) -> Option<Vec<&str>> {
    list.map(|l| {
        l.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect()
    })
}
