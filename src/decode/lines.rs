//! A line reader over any [`BufRead`]: `\n` or `\r\n` endings, a last line without a
//! newline, and a bound on line length so that one huge line cannot exhaust memory.

use std::io::{self, BufRead};

/// Default bound on a line's length (1 MiB); longer lines are skipped as `too_long`.
pub const DEFAULT_MAX_LINE_LEN: usize = 1 << 20;

/// One line from a [`LineReader`], without its terminator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Line<'a> {
    /// The line's bytes (a trailing `\r` removed).
    Ok(&'a [u8]),
    /// The line was longer than the bound: its bytes were skipped, not buffered.
    TooLong,
}

/// Yields `(line_no, line)` pairs (1-based numbers) from a reader, reusing one buffer.
///
/// Lines that lie whole in the reader's buffer are returned without copying; only
/// lines that straddle a refill are copied into the reusable buffer.
#[derive(Debug)]
pub struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    /// Bytes of the line returned last, still to be consumed from `inner`.
    pending: usize,
    line_no: u64,
    max_len: usize,
}

impl<R: BufRead> LineReader<R> {
    /// A reader with the default line bound ([`DEFAULT_MAX_LINE_LEN`]).
    pub fn new(inner: R) -> Self {
        Self::with_max_len(inner, DEFAULT_MAX_LINE_LEN)
    }

    /// A reader that reports lines longer than `max_len` bytes as [`Line::TooLong`].
    pub fn with_max_len(inner: R, max_len: usize) -> Self {
        LineReader {
            inner,
            buf: Vec::new(),
            pending: 0,
            line_no: 0,
            max_len,
        }
    }

    /// The number of the last line returned (0 before the first).
    pub fn line_no(&self) -> u64 {
        self.line_no
    }

    /// The next line, or `None` at the end of the input.
    pub fn next_line(&mut self) -> io::Result<Option<(u64, Line<'_>)>> {
        if self.pending > 0 {
            self.inner.consume(self.pending);
            self.pending = 0;
        }
        // Fast path: the whole line is already buffered.
        let found = {
            let available = fill_buf(&mut self.inner)?;
            if available.is_empty() {
                return Ok(None);
            }
            memchr::memchr(b'\n', available).filter(|&i| i <= self.max_len)
        };
        if let Some(i) = found {
            self.pending = i + 1;
            self.line_no += 1;
            let available = fill_buf(&mut self.inner)?;
            let line = available.get(..i).unwrap_or_default();
            return Ok(Some((self.line_no, Line::Ok(clean(self.line_no, line)))));
        }
        // Slow path: the line straddles refills (or is too long).
        self.buf.clear();
        let mut too_long = false;
        loop {
            let available = fill_buf(&mut self.inner)?;
            if available.is_empty() {
                break;
            }
            let (end, used, done) = match memchr::memchr(b'\n', available) {
                Some(i) => (i, i + 1, true),
                None => (available.len(), available.len(), false),
            };
            if !too_long {
                if self.buf.len() + end > self.max_len {
                    too_long = true;
                    self.buf = Vec::new();
                } else {
                    self.buf.extend_from_slice(&available[..end]);
                }
            }
            self.inner.consume(used);
            if done {
                break;
            }
        }
        self.line_no += 1;
        if too_long {
            return Ok(Some((self.line_no, Line::TooLong)));
        }
        Ok(Some((
            self.line_no,
            Line::Ok(clean(self.line_no, &self.buf)),
        )))
    }
}

fn fill_buf<R: BufRead>(r: &mut R) -> io::Result<&[u8]> {
    loop {
        match r.fill_buf() {
            Ok(_) => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    r.fill_buf()
}

/// Removes a trailing `\r`, and a UTF-8 byte-order mark at the start of line 1
/// (Windows tools write one; it is not part of the data).
fn clean(line_no: u64, line: &[u8]) -> &[u8] {
    let line = if line_no == 1 {
        line.strip_prefix(UTF8_BOM).unwrap_or(line)
    } else {
        line
    };
    strip_cr(line)
}

/// The UTF-8 byte-order mark.
pub(crate) const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

fn strip_cr(line: &[u8]) -> &[u8] {
    match line.split_last() {
        Some((b'\r', rest)) => rest,
        _ => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::BufReader;

    fn collect<R: BufRead>(mut r: LineReader<R>) -> Vec<(u64, Option<Vec<u8>>)> {
        let mut out = Vec::new();
        while let Some((n, line)) = r.next_line().unwrap() {
            out.push((
                n,
                match line {
                    Line::Ok(b) => Some(b.to_vec()),
                    Line::TooLong => None,
                },
            ));
        }
        out
    }

    fn s(x: &str) -> Option<Vec<u8>> {
        Some(x.as_bytes().to_vec())
    }

    #[test]
    fn handles_crlf_and_missing_final_newline() {
        let got = collect(LineReader::new(&b"a\r\nb\n\nc"[..]));
        assert_eq!(got, vec![(1, s("a")), (2, s("b")), (3, s("")), (4, s("c"))]);
    }

    #[test]
    fn strips_a_leading_bom_only() {
        let got = collect(LineReader::new(&b"\xEF\xBB\xBFa\n\xEF\xBB\xBFb"[..]));
        assert_eq!(got, vec![(1, s("a")), (2, Some(b"\xEF\xBB\xBFb".to_vec()))]);
    }

    #[test]
    fn empty_input_has_no_lines() {
        assert!(collect(LineReader::new(&b""[..])).is_empty());
        assert_eq!(collect(LineReader::new(&b"\n"[..])), vec![(1, s(""))]);
    }

    #[test]
    fn lines_straddling_refills_are_joined() {
        let text = "first line here\nsecond, longer line\r\nthird";
        let r = BufReader::with_capacity(4, text.as_bytes());
        let got = collect(LineReader::new(r));
        assert_eq!(
            got,
            vec![
                (1, s("first line here")),
                (2, s("second, longer line")),
                (3, s("third"))
            ]
        );
    }

    #[test]
    fn too_long_lines_are_skipped_and_counted() {
        let long = "x".repeat(100);
        let text = format!("ok\n{long}\nok2\n{long}");
        for cap in [3, 16, 8192] {
            let r = BufReader::with_capacity(cap, text.as_bytes());
            let got = collect(LineReader::with_max_len(r, 10));
            assert_eq!(
                got,
                vec![(1, s("ok")), (2, None), (3, s("ok2")), (4, None)],
                "capacity {cap}"
            );
        }
    }
}
