//! Bearer-token access control (`[auth] token`, interfaces.md §5).
//!
//! - ingest endpoints (`POST /api/v1/events`, `GET /api/v1/ingest`) require
//!   `Authorization: Bearer <token>`;
//! - read endpoints (`GET /ws`, other `/api/v1/*`) accept the header or `?token=<token>`
//!   (kiosk browsers cannot set headers on a websocket);
//! - `/`, `/healthz`, `/readyz` and anything else stay open.
//!
//! Without a configured token every request passes. There is no ticket scheme yet: the
//! query-string token is the configured token itself (see docs/feed.md).

use axum::extract::{Query, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use std::sync::Arc;

/// Paths that push events into the engine (header-only authentication).
pub const INGEST_PATHS: [&str; 2] = ["/api/v1/events", "/api/v1/ingest"];

/// The configured token, if any; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Auth {
    token: Option<Arc<str>>,
}

impl Auth {
    /// Access control with `token` (`None`: everything open).
    pub fn new(token: Option<&str>) -> Self {
        Auth {
            token: token.map(Arc::from),
        }
    }

    /// True when a token is configured.
    pub fn is_enabled(&self) -> bool {
        self.token.is_some()
    }

    fn matches(&self, candidate: &str) -> bool {
        self.token
            .as_deref()
            .is_some_and(|t| constant_time_eq(t.as_bytes(), candidate.as_bytes()))
    }
}

/// Compares without an early exit on the first differing byte.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[derive(Debug, PartialEq, Eq)]
enum Class {
    Open,
    Read,
    Ingest,
}

fn classify(method: &axum::http::Method, path: &str) -> Class {
    let write = !matches!(*method, axum::http::Method::GET | axum::http::Method::HEAD);
    // Ingest, and every change through the API (messages, acknowledgements, reload),
    // needs the header: a token in a URL is for kiosk screens that only read.
    if INGEST_PATHS.contains(&path) || (write && path.starts_with("/api/")) {
        Class::Ingest
    } else if path == "/ws" || path.starts_with("/api/") {
        Class::Read
    } else {
        Class::Open
    }
}

#[derive(Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

fn bearer(req: &Request) -> Option<&str> {
    req.headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Bearer")],
        Json(serde_json::json!({ "error": "missing or wrong token" })),
    )
        .into_response()
}

/// The middleware: lets a request through or answers 401.
pub async fn require_token(State(auth): State<Auth>, req: Request, next: Next) -> Response {
    if !auth.is_enabled() {
        return next.run(req).await;
    }
    let ok = match classify(req.method(), req.uri().path()) {
        Class::Open => true,
        Class::Ingest => bearer(&req).is_some_and(|t| auth.matches(t)),
        Class::Read => {
            bearer(&req).is_some_and(|t| auth.matches(t))
                || Query::<TokenQuery>::try_from_uri(req.uri())
                    .ok()
                    .and_then(|q| q.0.token)
                    .is_some_and(|t| auth.matches(&t))
        }
    };
    if ok {
        next.run(req).await
    } else {
        unauthorized()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_paths() {
        let get = axum::http::Method::GET;
        let post = axum::http::Method::POST;
        assert_eq!(classify(&post, "/api/v1/events"), Class::Ingest);
        assert_eq!(classify(&get, "/api/v1/ingest"), Class::Ingest);
        assert_eq!(classify(&get, "/api/v1/snapshot"), Class::Read);
        assert_eq!(classify(&post, "/api/v1/messages"), Class::Ingest);
        assert_eq!(classify(&post, "/api/v1/alerts/abc/ack"), Class::Ingest);
        assert_eq!(classify(&get, "/ws"), Class::Read);
        assert_eq!(classify(&get, "/healthz"), Class::Open);
        assert_eq!(classify(&get, "/"), Class::Open);
    }

    #[test]
    fn compares_tokens() {
        let a = Auth::new(Some("s3cret"));
        assert!(a.matches("s3cret"));
        assert!(!a.matches("s3cre"));
        assert!(!a.matches("s3creT"));
        assert!(!Auth::new(None).matches(""));
    }
}
