//! Push ingest (interfaces.md §2, §5): events sent to the daemon over HTTP.
//!
//! - `POST /api/v1/events`: a body of JSON lines v1 (one object per line) or a JSON array
//!   of v1 objects; the answer counts what happened to every line/element:
//!   `{"accepted": n, "rejected": m, "unknown": u, "reasons": {"bad_json": k, ...}}`.
//! - `GET /api/v1/ingest`: a websocket; every text (or binary) frame holds one or more
//!   JSON lines. With `?ack=true` the server answers each frame with the same counts.
//!
//! Lines are decoded by [`JsonlDecoder`] (never here) and sent through the daemon's
//! bounded channel with a [`SourceHandle`] each (`http`, `ws-ingest`), so a full channel
//! slows the pushing client, never the engine. Bounds: the body (`[ingest]
//! max_body_bytes`, 413 beyond), websocket frames and messages ([`MAX_FRAME_BYTES`]) and
//! lines ([`MAX_LINE_BYTES`], longer ones are rejected as `too_long`).
//!
//! `accepted` means "decoded and handed to the engine"; the engine may still count an
//! accepted event as late or duplicate (see `/api/v1/snapshot` → `engine`).

use super::{SourceError, SourceHandle};
use crate::decode::{DecodeStats, Decoded, JsonlDecoder, Line, LineDecoder, LineReader};
use crate::model::Event;
use crate::runtime::Shutdown;
use axum::body::Bytes;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Longest accepted line (bytes); longer lines are rejected as `too_long`.
pub const MAX_LINE_BYTES: usize = 64 << 10;

/// Largest websocket frame and message on `/api/v1/ingest` (bytes); larger ones close
/// the connection (code 1009, "message too big").
pub const MAX_FRAME_BYTES: usize = 64 << 10;

/// Default bound on a `POST` body (bytes).
pub const DEFAULT_MAX_BODY_BYTES: usize = 1 << 20;

/// What happened to the lines (or array elements) of one request or frame.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushReport {
    /// Events decoded and sent to the engine.
    pub accepted: u64,
    /// Malformed lines.
    pub rejected: u64,
    /// Lines with an unknown `type` (counted and skipped, interfaces.md §2).
    pub unknown: u64,
    /// Rejected lines by reason (`bad_json`, `missing_field`, `too_long`, ...).
    pub reasons: BTreeMap<String, u64>,
}

impl PushReport {
    fn reject(&mut self, reason: &str) {
        self.rejected += 1;
        *self.reasons.entry(reason.to_string()).or_default() += 1;
    }
}

/// One push source: its handle on the engine channel and its cumulative decode counts.
#[derive(Debug, Clone)]
pub struct PushSource {
    handle: SourceHandle,
    stats: Arc<Mutex<DecodeStats>>,
}

impl PushSource {
    /// A push source over `handle` (create it with `DaemonBuilder::handle`); reports it up.
    pub fn new(handle: SourceHandle) -> Self {
        handle.set_up(true);
        let stats = DecodeStats::new(handle.status().name());
        PushSource {
            handle,
            stats: Arc::new(Mutex::new(stats)),
        }
    }

    /// Cumulative decode counts (for `/metrics`: `events_rejected_total{source,reason}`).
    pub fn stats(&self) -> DecodeStats {
        match self.stats.lock() {
            Ok(s) => s.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn record(&self, outcomes: &[(u64, Decoded)]) {
        let mut stats = match self.stats.lock() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        };
        for (no, d) in outcomes {
            stats.record(*no, d);
        }
    }

    /// Decodes JSON lines and sends the events; `Err` only when the engine is gone.
    pub async fn push_lines(&self, bytes: &[u8]) -> Result<PushReport, SourceError> {
        let mut outcomes = Vec::new();
        let mut reader = LineReader::with_max_len(bytes, MAX_LINE_BYTES);
        let decoder = JsonlDecoder::new();
        // Reading from a slice cannot fail; an error would end the input like EOF.
        while let Ok(Some((no, line))) = reader.next_line() {
            let d = match line {
                Line::Ok(l) if crate::decode::is_blank(l) => continue,
                Line::Ok(l) => decoder.decode(l),
                Line::TooLong => Decoded::Rejected(crate::decode::RejectReason::TooLong),
            };
            outcomes.push((no, d));
        }
        self.finish(outcomes).await
    }

    /// Decodes a JSON array of v1 objects, element by element, and sends the events.
    /// `Ok(None)` when the body is not a JSON array at all.
    pub async fn push_array(&self, bytes: &[u8]) -> Result<Option<PushReport>, SourceError> {
        let Ok(items) = serde_json::from_slice::<Vec<serde_json::Value>>(bytes) else {
            return Ok(None);
        };
        let decoder = JsonlDecoder::new();
        let mut outcomes = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            // Each element goes back to its JSON text and through the v1 decoder, so the
            // array form accepts and rejects exactly what the line form does.
            let d = match serde_json::to_vec(item) {
                Ok(line) if line.len() > MAX_LINE_BYTES => {
                    Decoded::Rejected(crate::decode::RejectReason::TooLong)
                }
                Ok(line) => decoder.decode(&line),
                Err(_) => Decoded::Rejected(crate::decode::RejectReason::BadJson),
            };
            outcomes.push((i as u64 + 1, d));
        }
        self.finish(outcomes).await.map(Some)
    }

    async fn finish(&self, outcomes: Vec<(u64, Decoded)>) -> Result<PushReport, SourceError> {
        self.record(&outcomes);
        let mut report = PushReport::default();
        // In batches: one channel message per 256 events, not one per event.
        let mut batch: Vec<Event> = Vec::new();
        for (_, d) in outcomes {
            match d {
                Decoded::Event(e) => batch.push(e),
                Decoded::Ignored => {}
                Decoded::Unknown(_) => report.unknown += 1,
                Decoded::Rejected(r) => report.reject(r.as_str()),
            }
            if batch.len() >= PUSH_BATCH {
                report.accepted += batch.len() as u64;
                self.handle
                    .send_batch(std::mem::take(&mut batch), None)
                    .await?;
            }
        }
        report.accepted += batch.len() as u64;
        self.handle.send_batch(batch, None).await?;
        Ok(report)
    }
}

/// Events per message to the engine at most.
const PUSH_BATCH: usize = 256;

/// State of the ingest routes.
#[derive(Debug, Clone)]
pub struct PushState {
    /// `POST /api/v1/events`.
    pub http: PushSource,
    /// `GET /api/v1/ingest`.
    pub ws: PushSource,
    /// Bound on a `POST` body.
    pub max_body_bytes: usize,
    /// Ends open ingest websockets when the daemon stops.
    pub shutdown: Shutdown,
}

/// The ingest routes (`POST /api/v1/events`, `GET /api/v1/ingest`).
pub fn routes(state: PushState) -> Router {
    let limit = state.max_body_bytes;
    Router::new()
        .route(
            "/api/v1/events",
            post(post_events).layer(DefaultBodyLimit::max(limit)),
        )
        .route("/api/v1/ingest", get(ws_ingest))
        .with_state(state)
}

fn engine_gone() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(serde_json::json!({ "error": "the daemon is shutting down" })),
    )
        .into_response()
}

async fn post_events(State(st): State<PushState>, body: Bytes) -> Response {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    let result = if first == Some(&b'[') {
        match st.http.push_array(&body).await {
            Ok(Some(r)) => Ok(r),
            Ok(None) => {
                let mut r = PushReport::default();
                r.reject(crate::decode::RejectReason::BadJson.as_str());
                st.http
                    .record(&[(1, Decoded::Rejected(crate::decode::RejectReason::BadJson))]);
                return (StatusCode::BAD_REQUEST, Json(r)).into_response();
            }
            Err(e) => Err(e),
        }
    } else {
        st.http.push_lines(&body).await
    };
    match result {
        Ok(r) => Json(r).into_response(),
        Err(_) => engine_gone(),
    }
}

/// `?ack=true`: answer every frame with its [`PushReport`].
#[derive(Debug, Default, Deserialize)]
struct IngestQuery {
    #[serde(default)]
    ack: bool,
}

async fn ws_ingest(
    State(st): State<PushState>,
    Query(q): Query<IngestQuery>,
    ws: WebSocketUpgrade,
) -> Response {
    ws.max_frame_size(MAX_FRAME_BYTES)
        .max_message_size(MAX_FRAME_BYTES)
        .on_upgrade(move |socket| ingest_connection(socket, st.ws, q.ack, st.shutdown))
}

async fn ingest_connection(
    mut socket: WebSocket,
    source: PushSource,
    ack: bool,
    mut shutdown: Shutdown,
) {
    loop {
        let msg = tokio::select! {
            _ = shutdown.wait() => break,
            msg = socket.recv() => msg,
        };
        let report = match msg {
            Some(Ok(Message::Text(t))) => source.push_lines(t.as_str().as_bytes()).await,
            Some(Ok(Message::Binary(b))) => source.push_lines(&b).await,
            // Pings are answered by the websocket layer.
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            Some(Ok(Message::Close(_))) | None => break,
            Some(Err(e)) => {
                tracing::debug!("ws ingest: {e}");
                break;
            }
        };
        let Ok(report) = report else {
            break;
        };
        if ack {
            let Ok(text) = serde_json::to_string(&report) else {
                break;
            };
            if socket.send(Message::Text(text.into())).await.is_err() {
                break;
            }
        }
    }
    let _ = socket.send(Message::Close(None)).await;
}
