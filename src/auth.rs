//! Access control's core: the `[auth] token` and the read tickets signed with it.
//!
//! A read ticket is `v1.<expiry epoch ms>.<HMAC-SHA256 of it, hex>` keyed by the token:
//! read-only, valid until its expiry (wall clock), stateless (it survives restarts, and
//! changing the token revokes every ticket). The HTTP layer (`outputs::auth`) checks
//! tokens and tickets; the notifiers put tickets in the board links of chat alerts; the
//! `ccpulse ticket` command mints them without a daemon.
//!
//! An acknowledgement ticket, `ack1.<expiry>.<HMAC>`, signs one alert's fingerprint as
//! well: it lets the holder of a chat alert's "acknowledge" link read and acknowledge
//! that alert, and nothing else.

use std::sync::Arc;

/// A read ticket's longest life: 30 days (a kiosk's ticket is replaced by minting another).
pub const MAX_TICKET_MS: i64 = 30 * 86_400_000;

/// A ticket's life when `POST /api/v1/tickets` names none: 12 hours, a day's shifts.
pub const DEFAULT_TICKET_MS: i64 = 12 * 3_600_000;

/// Why no ticket was minted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TicketError {
    /// The life asked for is 0 or longer than [`MAX_TICKET_MS`].
    #[error("a ticket's life must be more than 0 and at most 30 days")]
    Life,
    /// No `[auth] token`: the read endpoints are open, nothing signs a ticket.
    #[error("no [auth] token is set")]
    NoToken,
}

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

    /// True when `candidate` is the configured token (compared in constant time).
    pub fn matches(&self, candidate: &str) -> bool {
        self.token
            .as_deref()
            .is_some_and(|t| constant_time_eq(t.as_bytes(), candidate.as_bytes()))
    }

    /// A read ticket valid until `expires_at_ms` (epoch ms, wall clock):
    /// `v1.<expiry>.<HMAC-SHA256 of it, hex>`, keyed by the token. `None` without one.
    pub fn ticket(&self, expires_at_ms: i64) -> Option<String> {
        self.mint(Kind::Read, expires_at_ms)
    }

    /// A read ticket lasting `life_ms` from now (more than 0, at most [`MAX_TICKET_MS`]),
    /// with its expiry: what the mint endpoint, `ccpulse ticket` and chat links hand out.
    pub fn ticket_lasting(&self, life_ms: i64) -> Result<(String, i64), TicketError> {
        self.mint_lasting(Kind::Read, life_ms)
    }

    /// True when `ticket` is a read ticket signed with this token, unexpired at `now_ms`.
    pub fn ticket_valid(&self, ticket: &str, now_ms: i64) -> bool {
        self.valid(Kind::Read, ticket, now_ms)
    }

    /// An acknowledgement ticket for the alert `fingerprint` lasting `life_ms` from now
    /// (bounds as [`Auth::ticket_lasting`]): the "acknowledge" link of a chat alert.
    pub fn ack_ticket_lasting(
        &self,
        fingerprint: &str,
        life_ms: i64,
    ) -> Result<(String, i64), TicketError> {
        self.mint_lasting(Kind::Ack(fingerprint), life_ms)
    }

    /// True when `ticket` acknowledges the alert `fingerprint`, signed with this token
    /// and unexpired at `now_ms`.
    pub fn ack_ticket_valid(&self, fingerprint: &str, ticket: &str, now_ms: i64) -> bool {
        self.valid(Kind::Ack(fingerprint), ticket, now_ms)
    }

    fn mint(&self, kind: Kind<'_>, expires_at_ms: i64) -> Option<String> {
        let token = self.token.as_deref()?;
        let mac = sign(token, kind, expires_at_ms);
        Some(format!("{}.{expires_at_ms}.{mac}", kind.prefix()))
    }

    fn mint_lasting(&self, kind: Kind<'_>, life_ms: i64) -> Result<(String, i64), TicketError> {
        if life_ms <= 0 || life_ms > MAX_TICKET_MS {
            return Err(TicketError::Life);
        }
        let expires_at_ms = wall_ms().saturating_add(life_ms);
        let ticket = self.mint(kind, expires_at_ms).ok_or(TicketError::NoToken)?;
        Ok((ticket, expires_at_ms))
    }

    fn valid(&self, kind: Kind<'_>, ticket: &str, now_ms: i64) -> bool {
        let Some(token) = self.token.as_deref() else {
            return false;
        };
        let mut parts = ticket.splitn(3, '.');
        let (Some(prefix), Some(expiry), Some(mac)) = (parts.next(), parts.next(), parts.next())
        else {
            return false;
        };
        if prefix != kind.prefix() {
            return false;
        }
        match expiry.parse::<i64>() {
            // Never one minted for longer than the longest life from now either.
            Ok(exp) if exp > now_ms && exp - now_ms <= MAX_TICKET_MS => {
                constant_time_eq(sign(token, kind, exp).as_bytes(), mac.as_bytes())
            }
            _ => false,
        }
    }
}

/// What a ticket grants: reading, or acknowledging (and reading) one alert.
#[derive(Debug, Clone, Copy)]
enum Kind<'a> {
    Read,
    Ack(&'a str),
}

impl Kind<'_> {
    fn prefix(self) -> &'static str {
        match self {
            Kind::Read => "v1",
            Kind::Ack(_) => "ack1",
        }
    }
}

/// The ticket's signature: HMAC-SHA256 of what it grants and its expiry, keyed by the
/// token.
fn sign(token: &str, kind: Kind<'_>, expires_at_ms: i64) -> String {
    use std::fmt::Write;
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, token.as_bytes());
    let message = match kind {
        Kind::Read => format!("ccpulse read ticket v1 {expires_at_ms}"),
        Kind::Ack(fp) => format!("ccpulse ack ticket v1 {fp} {expires_at_ms}"),
    };
    let tag = ring::hmac::sign(&key, message.as_bytes());
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

#[cfg(test)]
mod tests {
    use super::*;

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
        // Minted for a life from now: bounded, and only with a token.
        let (t, exp) = a.ticket_lasting(60_000).expect("a minute");
        assert!(a.ticket_valid(&t, exp - 1) && !a.ticket_valid(&t, exp));
        assert_eq!(a.ticket_lasting(0), Err(TicketError::Life));
        assert_eq!(a.ticket_lasting(MAX_TICKET_MS + 1), Err(TicketError::Life));
        assert!(a.ticket_lasting(MAX_TICKET_MS).is_ok());
        assert_eq!(
            Auth::new(None).ticket_lasting(60_000),
            Err(TicketError::NoToken)
        );
    }

    #[test]
    fn ack_tickets_acknowledge_their_alert_only() {
        let a = Auth::new(Some("s3cret"));
        let now = wall_ms();
        let (t, exp) = a.ack_ticket_lasting("0123abcd", 60_000).expect("a minute");
        assert!(t.starts_with(&format!("ack1.{exp}.")), "{t}");
        assert!(a.ack_ticket_valid("0123abcd", &t, now));
        assert!(!a.ack_ticket_valid("0123abcd", &t, exp), "expired");
        assert!(!a.ack_ticket_valid("0123abce", &t, now), "another alert");
        assert!(!a.ticket_valid(&t, now), "no read ticket");
        assert!(!Auth::new(Some("other")).ack_ticket_valid("0123abcd", &t, now));
        // A read ticket with the same expiry and its signature does not acknowledge.
        let read = a.ticket(exp).expect("read");
        assert!(!a.ack_ticket_valid("0123abcd", &read, now));
        let relabelled = read.replacen("v1.", "ack1.", 1);
        assert!(!a.ack_ticket_valid("0123abcd", &relabelled, now));
        assert_eq!(
            Auth::new(None).ack_ticket_lasting("0123abcd", 60_000),
            Err(TicketError::NoToken)
        );
        assert_eq!(a.ack_ticket_lasting("0123abcd", 0), Err(TicketError::Life));
    }
}
