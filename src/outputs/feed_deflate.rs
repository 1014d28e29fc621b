//! permessage-deflate (RFC 7692) for the feed: whether a client's handshake offers it on
//! terms we accept, and the two pieces a compressed message is made of. Each message is
//! compressed on its own (`server_no_context_takeover`), so the deflated body of a tick
//! is made once and written to every screen with that filter, behind a per-connection
//! header sent as a stored (uncompressed) deflate block.

use axum::http::{header, HeaderMap};
use flate2::{Compress, Compression, FlushCompress};

/// The `Sec-WebSocket-Extensions` answer when an offer is accepted.
pub const RESPONSE: &str = "permessage-deflate; server_no_context_takeover";

/// Compression level of shared bodies: level 3 makes a whole-floor delta ~6x smaller in
/// ~3 ms (level 1: ~4x in ~1.5 ms; level 6: ~7x in ~6 ms).
const LEVEL: u32 = 3;

/// True when one of the client's `Sec-WebSocket-Extensions` offers is a
/// `permessage-deflate` we can honour: parameters among the four of RFC 7692 §7.1, each
/// at most once, and no `server_max_window_bits` below 15 (our compressor's window).
pub fn offered(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::SEC_WEBSOCKET_EXTENSIONS)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(acceptable)
}

fn acceptable(offer: &str) -> bool {
    let mut parts = offer.split(';').map(str::trim);
    if !parts
        .next()
        .is_some_and(|n| n.eq_ignore_ascii_case("permessage-deflate"))
    {
        return false;
    }
    let mut seen: Vec<String> = Vec::new();
    for p in parts {
        let (name, value) = match p.split_once('=') {
            Some((n, v)) => (
                n.trim().to_ascii_lowercase(),
                Some(v.trim().trim_matches('"')),
            ),
            None => (p.to_ascii_lowercase(), None),
        };
        if seen.contains(&name) {
            return false;
        }
        let ok = match (name.as_str(), value) {
            ("server_no_context_takeover" | "client_no_context_takeover", None) => true,
            ("client_max_window_bits", None) => true,
            ("client_max_window_bits", Some(v)) => window_bits(v).is_some(),
            ("server_max_window_bits", Some(v)) => window_bits(v) == Some(15),
            _ => false,
        };
        if !ok {
            return false;
        }
        seen.push(name);
    }
    true
}

fn window_bits(v: &str) -> Option<u8> {
    v.parse::<u8>().ok().filter(|b| (8..=15).contains(b))
}

/// Shorter messages go out plain (RFC 7692 lets each message choose): a team's tick is
/// a few KB, and deflating it costs the daemon more than the bytes it saves.
pub const MIN_BYTES: usize = 4096;

thread_local! {
    /// One compressor per thread, reset for each message: making one allocates and
    /// clears ~300 KB, which cost more than deflating a small message.
    static COMPRESSOR: std::cell::RefCell<Compress> =
        std::cell::RefCell::new(Compress::new(Compression::new(LEVEL), false));
}

/// `text` deflated as one message's payload: raw deflate, flushed to a byte boundary,
/// without the trailing `00 00 ff ff` that the receiver adds back (RFC 7692 §7.2.1).
pub fn deflate(text: &[u8]) -> Result<Vec<u8>, flate2::CompressError> {
    COMPRESSOR.with(|c| {
        let mut c = c.borrow_mut();
        c.reset();
        deflate_with(&mut c, text)
    })
}

fn deflate_with(c: &mut Compress, text: &[u8]) -> Result<Vec<u8>, flate2::CompressError> {
    let mut out = Vec::with_capacity(text.len() / 4 + 64);
    loop {
        let before = c.total_in();
        // The input is all consumed before `compress_vec` returns unless `out` is full.
        c.compress_vec(&text[before as usize..], &mut out, FlushCompress::Sync)?;
        if c.total_in() as usize == text.len() && out.len() < out.capacity() {
            break;
        }
        out.reserve(out.capacity().max(4096));
    }
    if out.ends_with(&[0, 0, 0xff, 0xff]) {
        out.truncate(out.len() - 4);
    }
    Ok(out)
}

/// Appends `data` as stored (uncompressed, non-final) deflate blocks (RFC 1951 §3.2.4):
/// a connection's own header goes in front of a shared deflated body this way, with no
/// compressor per connection.
pub fn stored(data: &[u8], out: &mut Vec<u8>) {
    for chunk in data.chunks(u16::MAX as usize) {
        let len = chunk.len() as u16;
        out.push(0); // BFINAL = 0, BTYPE = 00, padded to the byte boundary
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use flate2::{Decompress, FlushDecompress};

    /// What a client does with a message: append `00 00 ff ff`, inflate.
    fn inflate(payload: &[u8]) -> Vec<u8> {
        let mut input = payload.to_vec();
        input.extend_from_slice(&[0, 0, 0xff, 0xff]);
        let mut d = Decompress::new(false);
        let mut out = Vec::with_capacity(input.len() * 20 + 1024);
        d.decompress_vec(&input, &mut out, FlushDecompress::Sync)
            .expect("valid deflate");
        assert_eq!(d.total_in() as usize, input.len(), "all input consumed");
        out
    }

    #[test]
    fn a_stored_header_then_a_shared_body_inflate_to_the_whole_message() {
        let body: String = (0..20_000)
            .map(|i| format!(",\"PJSIP/{i}\":{{\"state\":\"available\",\"n\":{}}}", i % 7))
            .collect();
        let deflated = deflate(body.as_bytes()).expect("deflate");
        assert!(deflated.len() * 5 < body.len(), "{} bytes", deflated.len());
        for head in ["", "{\"v\":1,\"type\":\"delta\",\"seq\":42"] {
            let mut msg = Vec::new();
            stored(head.as_bytes(), &mut msg);
            msg.extend_from_slice(&deflated);
            assert_eq!(inflate(&msg), format!("{head}{body}").into_bytes());
        }
        // The same body behind two headers: the deflated bytes are shared as they are.
        let big_head = "x".repeat(70_000);
        let mut msg = Vec::new();
        stored(big_head.as_bytes(), &mut msg);
        msg.extend_from_slice(&deflated);
        assert_eq!(inflate(&msg), format!("{big_head}{body}").into_bytes());
    }

    #[test]
    fn empty_and_tiny_bodies_round_trip() {
        for body in ["", "}", "{\"engine\":{\"applied\":5012}}"] {
            let deflated = deflate(body.as_bytes()).expect("deflate");
            assert_eq!(inflate(&deflated), body.as_bytes());
        }
    }

    fn offers(values: &[&str]) -> bool {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(
                header::SEC_WEBSOCKET_EXTENSIONS,
                HeaderValue::from_str(v).expect("header"),
            );
        }
        offered(&h)
    }

    #[test]
    fn offers_we_accept_and_decline() {
        // What browsers send.
        assert!(offers(&["permessage-deflate; client_max_window_bits"]));
        assert!(offers(&["permessage-deflate"]));
        assert!(offers(&[
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
        ]));
        assert!(offers(&["permessage-deflate; server_max_window_bits=15"]));
        // A smaller server window than ours, then an offer we can take.
        assert!(!offers(&["permessage-deflate; server_max_window_bits=10"]));
        assert!(offers(&[
            "permessage-deflate; server_max_window_bits=10, permessage-deflate"
        ]));
        assert!(offers(&["x-webkit-deflate-frame", "permessage-deflate"]));
        // Nothing, another extension, unknown or repeated parameters, bad values.
        assert!(!offers(&[]));
        assert!(!offers(&["x-webkit-deflate-frame"]));
        assert!(!offers(&["permessage-deflate; foo"]));
        assert!(!offers(&[
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover"
        ]));
        assert!(!offers(&["permessage-deflate; client_max_window_bits=16"]));
        assert!(!offers(&["permessage-deflate; server_max_window_bits"]));
    }
}
