//! The feed's websocket, written frame by frame (RFC 6455 framing from `tungstenite`'s
//! `FrameHeader`): a snapshot leaves as a small per-connection first fragment (the
//! header: `seq`, …) followed by the shared body, written straight from the one copy
//! every screen with that filter shares. A websocket library would copy the whole frame
//! into a buffer per connection: 500 screens × a 3 MB state was 1.5 GB of buffers.
//!
//! With permessage-deflate (when the client offers it and `[feed] compression` is on), a
//! state message is the header as a stored deflate block then the shared body deflated
//! once (`feed_deflate`).
//!
//! Clients only ever send control frames: pings are answered, a close ends the
//! connection, and any frame larger than [`MAX_CLIENT_FRAME`] closes it.

use super::feed_deflate;
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;
use std::io::Cursor;
use tokio::io::{AsyncReadExt, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Control, Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::FrameHeader;

/// Largest frame a feed client may send (it has nothing to send but control frames).
pub const MAX_CLIENT_FRAME: u64 = 4096;

/// A shared body up to this size is copied behind the header and written with it.
const COPIED_TAIL: usize = 64 * 1024;

/// A refused handshake: the status (400 / 426) and why.
pub type Refused = (StatusCode, &'static str);

fn refuse(status: StatusCode, why: &'static str) -> Refused {
    (status, why)
}

fn has_token(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().any(|v| {
        v.to_str()
            .is_ok_and(|s| s.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    })
}

/// An accepted upgrade: the `101` answer, the pending upgrade, and whether state
/// messages may be sent deflated.
pub type Accepted = (Response, OnUpgrade, bool);

/// Checks a websocket upgrade request; returns the `101` answer and the pending upgrade.
/// With `compression`, a permessage-deflate offer is accepted.
pub fn accept(req: &mut Request, compression: bool) -> Result<Accepted, Refused> {
    let h = req.headers();
    if !has_token(h, header::UPGRADE, "websocket") || !has_token(h, header::CONNECTION, "upgrade") {
        return Err(refuse(
            StatusCode::UPGRADE_REQUIRED,
            "a websocket upgrade is required",
        ));
    }
    if h.get(header::SEC_WEBSOCKET_VERSION)
        .is_none_or(|v| v.as_bytes() != b"13")
    {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "Sec-WebSocket-Version must be 13",
        ));
    }
    let Some(key) = h.get(header::SEC_WEBSOCKET_KEY) else {
        return Err(refuse(StatusCode::BAD_REQUEST, "Sec-WebSocket-Key missing"));
    };
    let accept = derive_accept_key(key.as_bytes());
    let deflate = compression && feed_deflate::offered(h);
    let Some(on_upgrade) = req.extensions_mut().remove::<OnUpgrade>() else {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "this connection cannot be upgraded",
        ));
    };
    let Ok(accept) = HeaderValue::from_str(&accept) else {
        return Err(refuse(StatusCode::BAD_REQUEST, "bad Sec-WebSocket-Key"));
    };
    let mut res = StatusCode::SWITCHING_PROTOCOLS.into_response();
    let rh = res.headers_mut();
    rh.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    rh.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    rh.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    if deflate {
        rh.insert(
            header::SEC_WEBSOCKET_EXTENSIONS,
            HeaderValue::from_static(feed_deflate::RESPONSE),
        );
    }
    Ok((res, on_upgrade, deflate))
}

/// What a client sent.
#[derive(Debug, PartialEq, Eq)]
pub enum Inbound {
    /// A sign of life (a pong, a data frame we ignore, a ping already queued for a pong).
    Alive,
    /// The client closed the connection (a close frame or end of stream).
    Closed,
    /// A protocol error or an oversized frame.
    Invalid,
}

/// One upgraded feed connection.
pub struct FeedSocket {
    rd: ReadHalf<TokioIo<Upgraded>>,
    wr: WriteHalf<TokioIo<Upgraded>>,
    inbuf: Vec<u8>,
    /// Pong payloads owed to the client's pings, sent before the next frame.
    pongs: Vec<Vec<u8>>,
    /// permessage-deflate was negotiated.
    deflate: bool,
}

fn header(opcode: OpCode, is_final: bool, len: usize, out: &mut Vec<u8>) {
    header_rsv1(opcode, is_final, false, len, out);
}

/// A frame header; `rsv1` marks the first frame of a deflated message (RFC 7692 §6).
fn header_rsv1(opcode: OpCode, is_final: bool, rsv1: bool, len: usize, out: &mut Vec<u8>) {
    let h = FrameHeader {
        is_final,
        rsv1,
        opcode,
        ..FrameHeader::default()
    };
    // Writing into a Vec cannot fail.
    let _ = h.format(len as u64, out);
}

impl FeedSocket {
    /// Wraps a completed upgrade; `deflate` as [`accept`] negotiated it.
    pub fn new(upgraded: Upgraded, deflate: bool) -> Self {
        let (rd, wr) = tokio::io::split(TokioIo::new(upgraded));
        FeedSocket {
            rd,
            wr,
            inbuf: Vec::with_capacity(256),
            pongs: Vec::new(),
            deflate,
        }
    }

    /// True when state messages go out deflated ([`FeedSocket::deflated_in_two`]).
    pub fn deflates(&self) -> bool {
        self.deflate
    }

    fn flush_pongs(&mut self, out: &mut Vec<u8>) {
        for p in self.pongs.drain(..) {
            header(OpCode::Control(Control::Pong), true, p.len(), out);
            out.extend_from_slice(&p);
        }
    }

    /// Writes owed pongs, then the frames `frames` formats, then `tail` (the shared body
    /// of a fragmented message, written without a copy; may be empty).
    async fn send(
        &mut self,
        frames: impl FnOnce(&mut Vec<u8>),
        tail: &[u8],
    ) -> std::io::Result<()> {
        let small = tail.len() <= COPIED_TAIL;
        let mut out = Vec::with_capacity(256 + if small { tail.len() } else { 0 });
        self.flush_pongs(&mut out);
        frames(&mut out);
        if small {
            // One write (one syscall, one wake-up of the reader) for a small frame.
            out.extend_from_slice(tail);
        }
        self.wr.write_all(&out).await?;
        if !small {
            self.wr.write_all(tail).await?;
        }
        self.wr.flush().await
    }

    /// Sends one text message.
    pub async fn text(&mut self, text: &str) -> std::io::Result<()> {
        let frame = |out: &mut Vec<u8>| {
            header(OpCode::Data(Data::Text), true, text.len(), out);
            out.extend_from_slice(text.as_bytes());
        };
        self.send(frame, &[]).await
    }

    /// Sends one text message in two fragments: `head` (this connection's) and `body`
    /// (shared, written without a copy). Their concatenation must be valid UTF-8.
    pub async fn text_in_two(&mut self, head: &str, body: &str) -> std::io::Result<()> {
        let frames = |out: &mut Vec<u8>| {
            header(OpCode::Data(Data::Text), false, head.len(), out);
            out.extend_from_slice(head.as_bytes());
            header(OpCode::Data(Data::Continue), true, body.len(), out);
        };
        self.send(frames, body.as_bytes()).await
    }

    /// Sends one deflated text message in two fragments: `head` (this connection's, as a
    /// stored block) and `deflated` (the shared body from `feed_deflate::deflate`,
    /// written without a copy). Only on a connection that negotiated permessage-deflate.
    pub async fn deflated_in_two(&mut self, head: &str, deflated: &[u8]) -> std::io::Result<()> {
        let frames = |out: &mut Vec<u8>| {
            let mut block = Vec::with_capacity(head.len() + 8);
            feed_deflate::stored(head.as_bytes(), &mut block);
            header_rsv1(OpCode::Data(Data::Text), false, true, block.len(), out);
            out.extend_from_slice(&block);
            header(OpCode::Data(Data::Continue), true, deflated.len(), out);
        };
        self.send(frames, deflated).await
    }

    /// Sends a ping.
    pub async fn ping(&mut self, payload: &[u8]) -> std::io::Result<()> {
        let frame = |out: &mut Vec<u8>| {
            header(OpCode::Control(Control::Ping), true, payload.len(), out);
            out.extend_from_slice(payload);
        };
        self.send(frame, &[]).await
    }

    /// Sends a close frame (going away) and shuts the stream down.
    pub async fn close(&mut self) -> std::io::Result<()> {
        let mut out = Vec::with_capacity(8);
        header(OpCode::Control(Control::Close), true, 2, &mut out);
        out.extend_from_slice(&1001u16.to_be_bytes());
        self.wr.write_all(&out).await?;
        self.wr.shutdown().await
    }

    /// Pongs owed (answered with the next frame sent, or by [`FeedSocket::ping`]).
    pub fn owes_pong(&self) -> bool {
        !self.pongs.is_empty()
    }

    /// Sends owed pongs now.
    pub async fn send_pongs(&mut self) -> std::io::Result<()> {
        self.send(|_| {}, &[]).await
    }

    /// Waits for the next complete client frame. Cancel-safe: bytes read are kept for
    /// the next call.
    pub async fn recv(&mut self) -> Inbound {
        loop {
            if let Some(r) = self.parse() {
                return r;
            }
            let mut chunk = [0u8; 1024];
            match self.rd.read(&mut chunk).await {
                Ok(0) | Err(_) => return Inbound::Closed,
                Ok(n) => self.inbuf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// One complete frame out of `inbuf`, if there is one.
    fn parse(&mut self) -> Option<Inbound> {
        let mut cur = Cursor::new(&self.inbuf[..]);
        let (h, len) = match FrameHeader::parse(&mut cur) {
            Ok(Some(x)) => x,
            Ok(None) => return None,
            Err(_) => return Some(Inbound::Invalid),
        };
        if len > MAX_CLIENT_FRAME || h.mask.is_none() {
            // Too long, or unmasked (a client must mask: RFC 6455 §5.1).
            return Some(Inbound::Invalid);
        }
        let start = cur.position() as usize;
        let end = start + len as usize;
        if self.inbuf.len() < end {
            return None;
        }
        let mut payload = self.inbuf[start..end].to_vec();
        self.inbuf.drain(..end);
        if let Some(mask) = h.mask {
            for (i, b) in payload.iter_mut().enumerate() {
                *b ^= mask[i % 4];
            }
        }
        Some(match h.opcode {
            OpCode::Control(Control::Close) => Inbound::Closed,
            OpCode::Control(Control::Ping) => {
                self.pongs.push(payload);
                Inbound::Alive
            }
            OpCode::Control(Control::Reserved(_)) | OpCode::Data(Data::Reserved(_)) => {
                Inbound::Invalid
            }
            _ => Inbound::Alive,
        })
    }
}
