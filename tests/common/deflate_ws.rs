//! A websocket client that offers permessage-deflate as browsers do
//! (`client_max_window_bits`) and inflates what arrives compressed (RFC 7692): the
//! feed tests' and the load tool's compressed screens. tungstenite has no
//! permessage-deflate, so frames are read with its `FrameHeader`, inflated with flate2,
//! and pings answered with masked pongs.

use std::io::{Error, Result};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Control, Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::FrameHeader;

/// One connection. `next_text` is cancel-safe between frames (what was read is kept).
pub struct DeflateWs {
    tcp: TcpStream,
    buf: Vec<u8>,
    msg: Vec<u8>,
    compressed: bool,
    /// Messages that arrived deflated.
    pub deflated: u64,
    /// The largest message that came plain, and the smallest that came deflated
    /// (inflated size).
    pub largest_plain: usize,
    pub smallest_deflated: usize,
    /// When the last message's bytes were all read (before inflating).
    pub complete_at: std::time::SystemTime,
}

/// Connects to `ws://{addr}{path}` offering permessage-deflate; returns the connection
/// and whether the server accepted the offer (its `Sec-WebSocket-Extensions` answer).
pub async fn connect(addr: &str, path: &str) -> Result<(DeflateWs, bool)> {
    let mut tcp = TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"
    );
    tcp.write_all(req.as_bytes()).await?;
    let mut buf = Vec::new();
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let mut chunk = [0u8; 1024];
        let n = tcp.read(&mut chunk).await?;
        if n == 0 {
            return Err(Error::other("the server closed during the handshake"));
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
    if !head.starts_with("http/1.1 101") {
        return Err(Error::other(format!("handshake refused: {head}")));
    }
    let accepted = head
        .lines()
        .filter_map(|l| l.strip_prefix("sec-websocket-extensions:"))
        .any(|v| v.trim() == "permessage-deflate; server_no_context_takeover");
    buf.drain(..end);
    let ws = DeflateWs {
        tcp,
        buf,
        msg: Vec::new(),
        compressed: false,
        deflated: 0,
        largest_plain: 0,
        smallest_deflated: usize::MAX,
        complete_at: std::time::SystemTime::now(),
    };
    Ok((ws, accepted))
}

impl DeflateWs {
    /// The next whole text message, inflated when its first frame has RSV1 set.
    pub async fn next_text(&mut self) -> Result<Vec<u8>> {
        loop {
            let mut cur = std::io::Cursor::new(&self.buf[..]);
            let parsed = FrameHeader::parse(&mut cur).map_err(Error::other)?;
            let start = cur.position() as usize;
            let need = parsed.as_ref().map_or(0, |(_, len)| start + *len as usize);
            let complete = parsed.filter(|_| self.buf.len() >= need);
            let Some((h, len)) = complete else {
                // Room for the rest of the frame: one read per socket buffer, no regrowth.
                self.buf
                    .reserve(need.saturating_sub(self.buf.len()).max(64 * 1024));
                if self.tcp.read_buf(&mut self.buf).await? == 0 {
                    return Err(Error::other("websocket ended"));
                }
                continue;
            };
            if h.mask.is_some() {
                return Err(Error::other("a server does not mask"));
            }
            let end = start + len as usize;
            let payload = if end == self.buf.len() {
                // The usual case: the buffer holds just this frame; keep it, minus the header.
                let mut p = std::mem::take(&mut self.buf);
                p.drain(..start);
                p
            } else {
                let p = self.buf[start..end].to_vec();
                self.buf.drain(..end);
                p
            };
            match h.opcode {
                OpCode::Data(Data::Text) => {
                    self.compressed = h.rsv1;
                    self.msg = payload;
                }
                OpCode::Data(Data::Continue) if !h.rsv1 => self.msg.extend_from_slice(&payload),
                OpCode::Control(Control::Ping) => {
                    self.pong(&payload).await?;
                    continue;
                }
                OpCode::Control(Control::Close) => {
                    return Err(Error::other("closed by the server"))
                }
                other => return Err(Error::other(format!("unexpected frame {other:?} {h:?}"))),
            }
            if !h.is_final {
                continue;
            }
            self.complete_at = std::time::SystemTime::now();
            let msg = std::mem::take(&mut self.msg);
            let text = if self.compressed {
                self.deflated += 1;
                let text = inflate(msg)?;
                self.smallest_deflated = self.smallest_deflated.min(text.len());
                text
            } else {
                self.largest_plain = self.largest_plain.max(msg.len());
                msg
            };
            return Ok(text);
        }
    }

    async fn pong(&mut self, payload: &[u8]) -> Result<()> {
        let mask = [7u8, 1, 2, 3];
        let mut out = Vec::new();
        let pong = FrameHeader {
            opcode: OpCode::Control(Control::Pong),
            mask: Some(mask),
            ..FrameHeader::default()
        };
        pong.format(payload.len() as u64, &mut out)
            .map_err(Error::other)?;
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        self.tcp.write_all(&out).await
    }
}

/// A permessage-deflate payload inflated: `00 00 ff ff` appended, raw inflate.
fn inflate(mut payload: Vec<u8>) -> Result<Vec<u8>> {
    use flate2::{Decompress, FlushDecompress};
    payload.extend_from_slice(&[0, 0, 0xff, 0xff]);
    let mut d = Decompress::new(false);
    let mut out = Vec::with_capacity(payload.len() * 8);
    loop {
        let at = d.total_in() as usize;
        d.decompress_vec(&payload[at..], &mut out, FlushDecompress::Sync)
            .map_err(Error::other)?;
        if d.total_in() as usize == payload.len() && out.len() < out.capacity() {
            return Ok(out);
        }
        out.reserve(out.capacity().max(4096));
    }
}
