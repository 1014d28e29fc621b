//! `GET /api/v1/alerts` (active alerts and today's notifications) and
//! `POST /api/v1/alerts/{fingerprint}/ack` (silences the repeats of a firing alert).

use crate::alerts::SharedAlerts;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

/// The alert routes.
pub fn routes(alerts: SharedAlerts) -> Router {
    Router::new()
        .route("/api/v1/alerts", get(list))
        .route("/api/v1/alerts/{fingerprint}/ack", post(ack))
        .with_state(alerts)
}

async fn list(State(alerts): State<SharedAlerts>) -> Response {
    match alerts.lock() {
        Ok(a) => Json(serde_json::json!({ "active": a.active(), "history": a.history() }))
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

async fn ack(State(alerts): State<SharedAlerts>, Path(fp): Path<String>) -> Response {
    let acked = match alerts.lock() {
        Ok(mut a) => a.acknowledge(&fp),
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    if acked {
        (
            StatusCode::OK,
            Json(serde_json::json!({ "acknowledged": fp })),
        )
            .into_response()
    } else {
        let body = serde_json::json!({ "error": "no firing alert with that fingerprint" });
        (StatusCode::NOT_FOUND, Json(body)).into_response()
    }
}
