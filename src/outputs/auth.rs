//! Bearer-token access control over HTTP (`[auth] token`, interfaces.md §5; the token and
//! tickets themselves are [`crate::auth`]).
//!
//! - ingest endpoints (`POST /api/v1/events`, `GET /api/v1/ingest`) require
//!   `Authorization: Bearer <token>`;
//! - read endpoints (`GET /ws`, other `/api/v1/*`) accept the header or `?token=<token>`
//!   (kiosk browsers cannot set headers on a websocket);
//! - `/`, `/healthz`, `/readyz` and anything else stay open.
//!
//! - read endpoints also take `?ticket=<ticket>`: a read-only ticket with an expiry,
//!   signed with the token (HMAC-SHA256, so stateless: it survives restarts, and changing
//!   the token revokes every ticket), minted by `POST /api/v1/tickets` (header only) for a
//!   kiosk's URL or put by the daemon in the board links of chat alerts; the token itself
//!   then never has to sit in a URL.
//!
//! - `GET /api/v1/alerts/{fingerprint}` and `POST /api/v1/alerts/{fingerprint}/ack` also
//!   take `?ticket=<ack ticket>` for that alert: the "acknowledge" link of a chat alert
//!   (`/ack/{fingerprint}`, a page anyone may load) works from a phone without the token
//!   and opens nothing else.
//!
//! Without a configured token every request passes.

pub use crate::auth::Auth;
use crate::auth::{wall_ms, TicketError, DEFAULT_TICKET_MS};
use axum::extract::{Query, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

/// Paths that push events into the engine (header-only authentication).
pub const INGEST_PATHS: [&str; 2] = ["/api/v1/events", "/api/v1/ingest"];

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
    ticket: Option<String>,
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

/// The alert a request reads or acknowledges (`GET /api/v1/alerts/{fp}`,
/// `POST /api/v1/alerts/{fp}/ack`): what an ack ticket may open.
fn ack_target<'a>(method: &axum::http::Method, path: &'a str) -> Option<&'a str> {
    let rest = path.strip_prefix("/api/v1/alerts/")?;
    let fp = match rest.strip_suffix("/ack") {
        Some(fp) if *method == axum::http::Method::POST => fp,
        None if *method == axum::http::Method::GET => rest,
        _ => return None,
    };
    (!fp.is_empty() && !fp.contains('/')).then_some(fp)
}

/// The middleware: lets a request through or answers 401.
pub async fn require_token(State(auth): State<Auth>, req: Request, next: Next) -> Response {
    if !auth.is_enabled() || allowed(&auth, &req) {
        next.run(req).await
    } else {
        unauthorized()
    }
}

/// Whether `req` passes `auth` (a token is configured).
fn allowed(auth: &Auth, req: &Request) -> bool {
    let query = || {
        Query::<TokenQuery>::try_from_uri(req.uri())
            .ok()
            .map(|q| q.0)
    };
    let path = req.uri().path();
    if let Some(fp) = ack_target(req.method(), path) {
        let ticket = query().and_then(|q| q.ticket);
        if ticket.is_some_and(|t| auth.ack_ticket_valid(fp, &t, wall_ms())) {
            return true;
        }
    }
    match classify(req.method(), path) {
        Class::Open => true,
        Class::Ingest => bearer(req).is_some_and(|t| auth.matches(t)),
        Class::Read => {
            bearer(req).is_some_and(|t| auth.matches(t))
                || query().is_some_and(|q| {
                    q.token.is_some_and(|t| auth.matches(&t))
                        || q.ticket.is_some_and(|t| auth.ticket_valid(&t, wall_ms()))
                })
        }
    }
}

/// `POST /api/v1/tickets` (a write: the bearer header only).
pub fn routes(auth: Auth) -> axum::Router {
    axum::Router::new()
        .route("/api/v1/tickets", axum::routing::post(mint))
        .with_state(auth)
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct TicketRequest {
    /// `12h`, `30d`: the ticket's life (default 12 h, at most 30 days).
    expires_in: Option<String>,
}

/// Mints a read ticket: `{"expires_in": "30d"}` (optional body) →
/// `{"ticket", "expires_at", "expires_at_ms"}`.
async fn mint(State(auth): State<Auth>, body: axum::body::Bytes) -> Response {
    let bad = |why: String| {
        (
            StatusCode::BAD_REQUEST,
            Json(serde_json::json!({ "error": why })),
        )
    };
    let req: TicketRequest = if body.iter().all(u8::is_ascii_whitespace) {
        TicketRequest::default()
    } else {
        match serde_json::from_slice(&body) {
            Ok(r) => r,
            Err(e) => return bad(format!("body: {e}")).into_response(),
        }
    };
    let life = match req.expires_in.as_deref().map(crate::config::parse_duration) {
        None => DEFAULT_TICKET_MS,
        Some(Ok(d)) => d.ms(),
        Some(Err(e)) => return bad(format!("expires_in: {e}")).into_response(),
    };
    let (ticket, expires_at_ms) = match auth.ticket_lasting(life) {
        Ok(minted) => minted,
        Err(TicketError::Life) => {
            return bad("expires_in: must be more than 0 and at most 30 days".into())
                .into_response()
        }
        Err(TicketError::NoToken) => {
            return bad(
                "no [auth] token is set: the read endpoints are open, no ticket needed".into(),
            )
            .into_response()
        }
    };
    (
        StatusCode::CREATED,
        Json(serde_json::json!({
            "ticket": ticket,
            "expires_at": crate::model::format_rfc3339(expires_at_ms),
            "expires_at_ms": expires_at_ms,
        })),
    )
        .into_response()
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
        assert_eq!(classify(&get, "/ack/abc"), Class::Open);
    }

    #[test]
    fn ack_tickets_open_their_alert_only() {
        let get = axum::http::Method::GET;
        let post = axum::http::Method::POST;
        assert_eq!(ack_target(&post, "/api/v1/alerts/abc/ack"), Some("abc"));
        assert_eq!(ack_target(&get, "/api/v1/alerts/abc"), Some("abc"));
        assert_eq!(ack_target(&get, "/api/v1/alerts/abc/ack"), None);
        assert_eq!(ack_target(&post, "/api/v1/alerts/abc"), None);
        assert_eq!(ack_target(&get, "/api/v1/alerts"), None);
        assert_eq!(ack_target(&get, "/api/v1/alerts/"), None);
        assert_eq!(ack_target(&get, "/api/v1/alerts/a/b"), None);
        assert_eq!(ack_target(&post, "/api/v1/alerts/a/b/ack"), None);
        assert_eq!(ack_target(&get, "/api/v1/snapshot"), None);
    }
}
