//! Bearer-token access control (`[auth] token`, interfaces.md §5).
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
//! Without a configured token every request passes.

use axum::extract::{Query, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use std::sync::Arc;

/// Paths that push events into the engine (header-only authentication).
pub const INGEST_PATHS: [&str; 2] = ["/api/v1/events", "/api/v1/ingest"];

/// A read ticket's longest life: 30 days (a kiosk's ticket is replaced by minting another).
pub const MAX_TICKET_MS: i64 = 30 * 86_400_000;

/// A ticket's life when `POST /api/v1/tickets` names none: 12 hours, a day's shifts.
const DEFAULT_TICKET_MS: i64 = 12 * 3_600_000;

/// The configured token, if any; cheap to clone.
#[derive(Clone, Default)]
pub struct Auth {
    token: Option<Arc<str>>,
}

/// Never the token itself: an `Auth` sits in structures that may be debug-printed.
impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
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

    /// A read ticket valid until `expires_at_ms` (epoch ms, wall clock):
    /// `v1.<expiry>.<HMAC-SHA256 of it, hex>`, keyed by the token. `None` without one.
    pub fn ticket(&self, expires_at_ms: i64) -> Option<String> {
        let token = self.token.as_deref()?;
        Some(format!("v1.{expires_at_ms}.{}", sign(token, expires_at_ms)))
    }

    /// True when `ticket` was signed with this token and has not expired at `now_ms`.
    pub fn ticket_valid(&self, ticket: &str, now_ms: i64) -> bool {
        let Some(token) = self.token.as_deref() else {
            return false;
        };
        let mut parts = ticket.splitn(3, '.');
        let (Some("v1"), Some(expiry), Some(mac)) = (parts.next(), parts.next(), parts.next())
        else {
            return false;
        };
        match expiry.parse::<i64>() {
            // Never one minted for longer than the longest life from now either.
            Ok(exp) if exp > now_ms && exp - now_ms <= MAX_TICKET_MS => {
                constant_time_eq(sign(token, exp).as_bytes(), mac.as_bytes())
            }
            _ => false,
        }
    }
}

/// The ticket's signature: HMAC-SHA256 of its version and expiry, keyed by the token.
fn sign(token: &str, expires_at_ms: i64) -> String {
    use std::fmt::Write;
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, token.as_bytes());
    let tag = ring::hmac::sign(
        &key,
        format!("ccpulse read ticket v1 {expires_at_ms}").as_bytes(),
    );
    tag.as_ref()
        .iter()
        .fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// The wall clock in epoch ms (tickets expire in real time, not event time).
pub fn wall_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
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
                    .is_some_and(|q| {
                        q.0.token.is_some_and(|t| auth.matches(&t))
                            || q.0.ticket.is_some_and(|t| auth.ticket_valid(&t, wall_ms()))
                    })
        }
    };
    if ok {
        next.run(req).await
    } else {
        unauthorized()
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
        Some(Ok(d)) if d.ms() > 0 && d.ms() <= MAX_TICKET_MS => d.ms(),
        Some(Ok(_)) => {
            return bad("expires_in: must be more than 0 and at most 30 days".into())
                .into_response()
        }
        Some(Err(e)) => return bad(format!("expires_in: {e}")).into_response(),
    };
    let expires_at_ms = wall_ms().saturating_add(life);
    let Some(ticket) = auth.ticket(expires_at_ms) else {
        return bad("no [auth] token is set: the read endpoints are open, no ticket needed".into())
            .into_response();
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
    }

    #[test]
    fn compares_tokens() {
        let a = Auth::new(Some("s3cret"));
        assert!(a.matches("s3cret"));
        assert!(!a.matches("s3cre"));
        assert!(!a.matches("s3creT"));
        assert!(!Auth::new(None).matches(""));
        assert!(!format!("{a:?}").contains("s3cret"), "{a:?}");
    }

    #[test]
    fn tickets_expire_and_belong_to_their_token() {
        let a = Auth::new(Some("s3cret"));
        let now = 1_795_856_400_000;
        let t = a.ticket(now + 60_000).expect("a ticket");
        assert!(t.starts_with(&format!("v1.{}.", now + 60_000)), "{t}");
        assert!(a.ticket_valid(&t, now));
        assert!(a.ticket_valid(&t, now + 59_999));
        assert!(!a.ticket_valid(&t, now + 60_000), "expired");
        // Another token (changed in the config) revokes it; no token, no tickets.
        assert!(!Auth::new(Some("other")).ticket_valid(&t, now));
        assert!(Auth::new(None).ticket(now).is_none());
        assert!(!Auth::new(None).ticket_valid(&t, now));
        // A longer expiry with the same signature, a cut or damaged one: refused.
        let forged = t.replacen(&(now + 60_000).to_string(), &(now + 600_000).to_string(), 1);
        assert!(!a.ticket_valid(&forged, now));
        assert!(!a.ticket_valid(&t[..t.len() - 1], now));
        assert!(!a.ticket_valid("v1.x.y", now));
        assert!(!a.ticket_valid("", now));
        assert!(!a.ticket_valid("s3cret", now), "the token is no ticket");
        // Never valid for more than the longest life from now.
        let far = a.ticket(now + MAX_TICKET_MS + 1).expect("a ticket");
        assert!(!a.ticket_valid(&far, now));
    }
}
