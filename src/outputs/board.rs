//! What a team leader pushes to the floor's screens: ticker messages with an expiry
//! (`POST /api/v1/messages`) and a remote reload of every wallboard
//! (`POST /api/v1/wallboard/reload`). Feed connections send them as `message` and
//! `reload` frames.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

/// Longest a message may stay on screen.
const MAX_TTL_MS: i64 = 24 * 3_600_000;
/// Messages kept at once (the newest win).
const MAX_MESSAGES: usize = 20;

/// One ticker message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TickerMessage {
    /// Id (for deleting it).
    pub id: u64,
    /// The text.
    pub text: String,
    /// Wall-clock expiry (epoch ms): screens drop it then.
    pub expires_at_ms: i64,
}

/// Messages and the reload counter, watched by every feed connection.
#[derive(Debug)]
pub struct Board {
    messages: Mutex<(u64, Vec<TickerMessage>)>,
    /// Bumped on every change of the messages.
    pub(crate) changed: watch::Sender<u64>,
    /// Bumped on every reload request.
    pub(crate) reload: watch::Sender<u64>,
}

impl Default for Board {
    fn default() -> Self {
        Board {
            messages: Mutex::new((0, Vec::new())),
            changed: watch::channel(0).0,
            reload: watch::channel(0).0,
        }
    }
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

impl Board {
    /// The messages not yet expired.
    pub fn active(&self) -> Vec<TickerMessage> {
        let now = now_ms();
        self.messages
            .lock()
            .map(|m| {
                m.1.iter()
                    .filter(|x| x.expires_at_ms > now)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    fn post(&self, text: String, ttl_ms: i64) -> Option<TickerMessage> {
        let mut m = self.messages.lock().ok()?;
        m.0 += 1;
        let msg = TickerMessage {
            id: m.0,
            text,
            expires_at_ms: now_ms() + ttl_ms,
        };
        let now = now_ms();
        m.1.retain(|x| x.expires_at_ms > now);
        m.1.push(msg.clone());
        if m.1.len() > MAX_MESSAGES {
            m.1.remove(0);
        }
        drop(m);
        self.changed.send_modify(|v| *v += 1);
        Some(msg)
    }

    fn remove(&self, id: u64) -> bool {
        let removed = self
            .messages
            .lock()
            .map(|mut m| {
                let before = m.1.len();
                m.1.retain(|x| x.id != id);
                m.1.len() != before
            })
            .unwrap_or(false);
        if removed {
            self.changed.send_modify(|v| *v += 1);
        }
        removed
    }
}

#[derive(Deserialize)]
struct NewMessage {
    text: String,
    /// e.g. "15m"; default one hour, at most a day.
    expires_in: Option<String>,
}

/// The board routes.
pub fn routes(board: Arc<Board>) -> Router {
    Router::new()
        .route("/api/v1/messages", get(list).post(create))
        .route("/api/v1/messages/{id}", delete(remove))
        .route("/api/v1/wallboard/reload", post(reload))
        .with_state(board)
}

async fn list(State(board): State<Arc<Board>>) -> Json<Vec<TickerMessage>> {
    Json(board.active())
}

fn bad(msg: String) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(serde_json::json!({ "error": msg })),
    )
        .into_response()
}

async fn create(
    State(board): State<Arc<Board>>,
    body: Result<Json<NewMessage>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Ok(Json(m)) = body else {
        return bad("expected {\"text\": \"…\", \"expires_in\": \"15m\"}".into());
    };
    let text = m.text.trim().to_string();
    if text.is_empty() || text.chars().count() > 280 {
        return bad("text must be 1 to 280 characters".into());
    }
    let ttl = match m.expires_in.as_deref().map(crate::config::parse_duration) {
        None => 3_600_000,
        Some(Ok(d)) if d.ms() > 0 && d.ms() <= MAX_TTL_MS => d.ms(),
        Some(Ok(_)) => return bad("expires_in must be between 1s and 24h".into()),
        Some(Err(e)) => return bad(format!("expires_in: {e}")),
    };
    match board.post(text, ttl) {
        Some(msg) => (StatusCode::CREATED, Json(msg)).into_response(),
        None => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

async fn remove(State(board): State<Arc<Board>>, Path(id): Path<u64>) -> StatusCode {
    if board.remove(id) {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::NOT_FOUND
    }
}

async fn reload(State(board): State<Arc<Board>>) -> StatusCode {
    board.reload.send_modify(|v| *v += 1);
    StatusCode::ACCEPTED
}
