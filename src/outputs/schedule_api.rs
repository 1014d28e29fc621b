//! `GET /api/v1/schedule` (the schedule view as of the latest snapshot; `?teams=A,B`
//! keeps those teams' rows, agents and late returns: a team's wallboard polls it) and
//! `PUT /api/v1/schedule` (replace the schedule with a CSV body; a write, so it needs
//! the bearer token when `[auth] token` is set).

use crate::schedule::{ScheduleView, SharedSchedule};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

/// Largest accepted CSV body (a schedule of 2,000 agents for a week is well under 2 MiB).
pub const MAX_BODY_BYTES: usize = 8 << 20;

/// The schedule routes.
pub fn routes(schedule: SharedSchedule) -> Router {
    Router::new()
        .route("/api/v1/schedule", get(view).put(replace))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(schedule)
}

/// `GET /api/v1/schedule` parameters.
#[derive(Debug, serde::Deserialize)]
struct ViewQuery {
    /// Comma-separated team names.
    teams: Option<String>,
}

async fn view(State(schedule): State<SharedSchedule>, Query(q): Query<ViewQuery>) -> Response {
    let Some(v) = schedule.latest() else {
        return Json(ScheduleView::default()).into_response();
    };
    let Some(teams) = super::name_list(q.teams.as_deref()) else {
        return Json(&*v).into_response();
    };
    let keep = |team: &str| teams.contains(&team);
    let mut view = ScheduleView {
        watermark_ms: v.watermark_ms,
        import: v.import.clone(),
        queues: v.queues.clone(),
        ..ScheduleView::default()
    };
    view.teams = v.teams.iter().filter(|t| keep(&t.team)).cloned().collect();
    view.agents = v.agents.iter().filter(|a| keep(&a.team)).cloned().collect();
    view.late_returns = v
        .late_returns
        .iter()
        .filter(|l| keep(&l.team))
        .cloned()
        .collect();
    Json(view).into_response()
}

async fn replace(State(schedule): State<SharedSchedule>, body: Bytes) -> Response {
    let report = schedule.upload(&body);
    // Every row rejected: the current schedule stays, and the client is told why.
    let applied = report.applies();
    let status = if applied {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let body = serde_json::json!({
        "applied": applied,
        "accepted": report.accepted,
        "rejected": report.rejected,
        "errors": report.errors,
        "agents": report.agents,
    });
    (status, Json(body)).into_response()
}
