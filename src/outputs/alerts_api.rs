//! `GET /api/v1/alerts` (active alerts and today's notifications),
//! `GET /api/v1/alerts/{fingerprint}` (one active alert) and
//! `POST /api/v1/alerts/{fingerprint}/ack` (silences the repeats of a firing alert), and
//! `GET /ack/{fingerprint}`: the page a chat alert's "acknowledge" link opens.

use crate::alerts::{AlertEngine, SharedAlerts};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

/// The alert routes.
pub fn routes(alerts: SharedAlerts) -> Router {
    Router::new()
        .route("/api/v1/alerts", get(list))
        .route("/api/v1/alerts/{fingerprint}", get(one))
        .route("/api/v1/alerts/{fingerprint}/ack", post(ack))
        .with_state(alerts)
        .route("/ack/{fingerprint}", get(ack_page))
}

/// The acknowledge page (assets/ack.html): it holds nothing secret (the alert is read
/// with the link's ticket), so it is served to anyone, and asks before it acknowledges:
/// a link previewer or a mail scanner that opens the link acknowledges nothing.
const ACK_PAGE: &str = include_str!("../../assets/ack.html");

async fn ack_page() -> axum::response::Html<&'static str> {
    axum::response::Html(ACK_PAGE)
}

/// The active alert `fp` (pending or firing) of `engine`, if any, with the center's
/// `time_zone` (the acknowledge page shows its clock times as the floor's clocks do).
fn active(engine: &AlertEngine, fp: &str) -> Option<serde_json::Value> {
    let view = engine.active().into_iter().find(|v| v.fingerprint == fp)?;
    let mut v = serde_json::to_value(view).ok()?;
    if let Some(o) = v.as_object_mut() {
        o.insert("time_zone".into(), engine.time_zone_name().into());
    }
    Some(v)
}

fn not_active() -> Response {
    let body = serde_json::json!({ "error": "no active alert with that fingerprint (resolved?)" });
    (StatusCode::NOT_FOUND, Json(body)).into_response()
}

async fn one(State(alerts): State<SharedAlerts>, Path(fp): Path<String>) -> Response {
    match alerts.lock() {
        Ok(engine) => match active(&engine, &fp) {
            Some(view) => Json(view).into_response(),
            None => not_active(),
        },
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

async fn list(State(alerts): State<SharedAlerts>) -> Response {
    match alerts.lock() {
        Ok(a) => Json(serde_json::json!({ "active": a.active(), "history": a.history() }))
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

async fn ack(State(alerts): State<SharedAlerts>, Path(fp): Path<String>) -> Response {
    // Acknowledged and read back under one lock: the answer shows the alert as acked.
    let acked = match alerts.lock() {
        Ok(mut engine) => engine.acknowledge(&fp).then(|| active(&engine, &fp)),
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    if let Some(alert) = acked {
        (
            StatusCode::OK,
            Json(serde_json::json!({ "acknowledged": fp, "alert": alert })),
        )
            .into_response()
    } else {
        let body = serde_json::json!({ "error": "no firing alert with that fingerprint" });
        (StatusCode::NOT_FOUND, Json(body)).into_response()
    }
}
