//! `GET /api/v1/report`: the interval report (interfaces.md §3, the same JSON, CSV or
//! table as `ccpulse replay`) of one local day of the live engine — for sources that
//! push their events and leave no log to replay. `?date=YYYY-MM-DD` (default: today in
//! event time), `?output=json|csv|table`, `?queues=a,b` and `?teams=A` as elsewhere.

use crate::engine::{DayCut, DayCutError};
use crate::report::{OutputFormat, Report};
use crate::runtime::Published;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use std::sync::Arc;

/// The report route.
pub fn routes(state: Arc<Published>) -> Router {
    Router::new()
        .route("/api/v1/report", get(report))
        .with_state(state)
}

/// `GET /api/v1/report` parameters.
#[derive(Debug, Default, serde::Deserialize)]
struct ReportQuery {
    /// The local day, `YYYY-MM-DD` (default: today).
    date: Option<String>,
    /// `json` (default), `csv` or `table`.
    output: Option<String>,
    /// Comma-separated queue names (default: all).
    queues: Option<String>,
    /// Comma-separated team names: their agents only (default: all agents).
    teams: Option<String>,
}

fn error(status: StatusCode, message: impl std::fmt::Display) -> Response {
    (
        status,
        Json(serde_json::json!({ "error": message.to_string() })),
    )
        .into_response()
}

async fn report(State(state): State<Arc<Published>>, Query(q): Query<ReportQuery>) -> Response {
    let date = match q.date.as_deref().filter(|d| !d.is_empty()) {
        None => None,
        Some(d) => match d.parse::<jiff::civil::Date>() {
            Ok(d) => Some(d),
            Err(e) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("date={d}: not a date (YYYY-MM-DD): {e}"),
                )
            }
        },
    };
    let format = match q.output.as_deref().unwrap_or("json") {
        "json" => OutputFormat::Json,
        "csv" => OutputFormat::Csv,
        "table" => OutputFormat::Table,
        other => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("output={other}: expected json, csv or table"),
            )
        }
    };
    let mut cut = match state.day_cut(date).await {
        None => return error(StatusCode::SERVICE_UNAVAILABLE, "the engine has stopped"),
        Some(Err(e @ (DayCutError::Off | DayCutError::NotKept { .. }))) => {
            return error(StatusCode::NOT_FOUND, e)
        }
        Some(Err(e @ DayCutError::NoToday)) => return error(StatusCode::SERVICE_UNAVAILABLE, e),
        Some(Ok(cut)) => cut,
    };
    select(&mut cut, &q);
    // Writing weeks of rows is CPU work: off the async workers.
    let written = tokio::task::spawn_blocking(move || {
        let mut out = Vec::new();
        Report::of_day(&cut).write(format, &mut out).map(|()| out)
    })
    .await;
    let body = match written {
        Ok(Ok(body)) => body,
        Ok(Err(e)) => return error(StatusCode::INTERNAL_SERVER_ERROR, e),
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, e),
    };
    let content_type = match format {
        OutputFormat::Json => "application/json",
        OutputFormat::Csv => "text/csv; charset=utf-8",
        OutputFormat::Table => "text/plain; charset=utf-8",
    };
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

/// Keeps the queues, the teams and the teams' agents the query names.
fn select(cut: &mut DayCut, q: &ReportQuery) {
    if let Some(queues) = super::name_list(q.queues.as_deref()) {
        cut.queues.retain(|c| queues.contains(&c.name.as_str()));
    }
    if let Some(teams) = super::name_list(q.teams.as_deref()) {
        cut.agents
            .retain(|c| c.team.as_ref().is_some_and(|t| teams.contains(&t.as_str())));
    }
}
