//! Newline framing with hard limits.
//!
//! Electrum speaks one JSON document per line. A hostile server can send an
//! endless line, or gigabytes of valid lines; [`LineBuffer`] refuses both
//! with a [`FrameError`] as soon as a cap is crossed, before buffering more.
//!
//! The byte cap belongs to the endpoint, not to one connection: every connection of one
//! endpoint visit (the main session and the probes' side connections) counts into one
//! [`ByteTally`], so opening another connection never buys a server a fresh allowance.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use thiserror::Error;

/// Longest line accepted, bytes (without the newline). Large enough for a
/// `server.peers.subscribe` answer of a few thousand peers, far below memory trouble.
pub const MAX_LINE_BYTES: usize = 4 * 1024 * 1024;

/// Most bytes accepted from one endpoint over its whole visit: every connection to it (main
/// session and side connections) counts into the one [`ByteTally`].
pub const MAX_SESSION_BYTES: u64 = 16 * 1024 * 1024;

/// Framing limits (tests and the simnet use smaller ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest line, bytes.
    pub max_line: usize,
    /// Most bytes over the endpoint visit (all connections sharing one [`ByteTally`]).
    pub max_total: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_line: MAX_LINE_BYTES,
            max_total: MAX_SESSION_BYTES,
        }
    }
}

/// A limit was crossed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FrameError {
    /// A line grew past `max_line` without a newline.
    #[error("line longer than {limit} bytes")]
    LineTooLong {
        /// The limit crossed.
        limit: usize,
    },
    /// The endpoint (over all its connections) sent more than `max_total` bytes.
    #[error("more than {limit} bytes received from this endpoint")]
    SessionTooLarge {
        /// The limit crossed.
        limit: u64,
    },
}

/// One complete line and what framing noticed about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The line without its terminator and without trailing spaces.
    pub bytes: Vec<u8>,
    /// Number of trailing space bytes stripped (ElectrumX 2.x pads replies).
    pub padding: usize,
    /// Whether it ended in `\r\n`.
    pub crlf: bool,
    /// Length on the wire including the terminator.
    pub wire_len: usize,
}

/// Bytes received from one endpoint over all its connections, shared by their
/// [`LineBuffer`]s (cloning shares the count, like the scanner's request budget).
#[derive(Debug, Clone, Default)]
pub struct ByteTally(Arc<AtomicU64>);

impl ByteTally {
    /// A tally at zero.
    pub fn new() -> Self {
        ByteTally::default()
    }

    /// Bytes counted so far, over every buffer sharing this tally.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }

    /// Adds `n` bytes; returns the new total.
    fn add(&self, n: u64) -> u64 {
        self.0.fetch_add(n, Ordering::SeqCst).saturating_add(n)
    }
}

/// Accumulates bytes and yields complete lines.
#[derive(Debug)]
pub struct LineBuffer {
    limits: Limits,
    buf: Vec<u8>,
    /// Bytes of `buf` already scanned for a newline (so scanning stays linear).
    scanned: usize,
    /// Length of the unterminated tail of `buf`.
    tail: usize,
    /// Bytes this buffer accepted.
    own: u64,
    /// Bytes of every buffer of the same endpoint, checked against `limits.max_total`.
    shared: ByteTally,
}

impl LineBuffer {
    /// An empty buffer with the given limits and a byte tally of its own.
    pub fn new(limits: Limits) -> Self {
        LineBuffer::sharing(limits, ByteTally::new())
    }

    /// An empty buffer whose bytes count into `tally`, shared with the other connections
    /// of the same endpoint: `limits.max_total` caps them all together.
    pub fn sharing(limits: Limits, tally: ByteTally) -> Self {
        LineBuffer {
            limits,
            buf: Vec::new(),
            scanned: 0,
            tail: 0,
            own: 0,
            shared: tally,
        }
    }

    /// Bytes this buffer accepted so far.
    pub fn total_bytes(&self) -> u64 {
        self.own
    }

    /// The byte cap over the endpoint's connections.
    pub fn limit(&self) -> u64 {
        self.limits.max_total
    }

    /// True when the shared tally has already reached the cap: nothing more may be read
    /// from this endpoint, on any connection.
    pub fn exhausted(&self) -> bool {
        self.shared.get() >= self.limits.max_total
    }

    /// Bytes buffered that are not yet a complete line.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    /// Appends received bytes. Fails when the session cap is crossed, or when the
    /// unterminated tail is already longer than a line may be.
    pub fn extend(&mut self, data: &[u8]) -> Result<(), FrameError> {
        self.own += data.len() as u64;
        if self.shared.add(data.len() as u64) > self.limits.max_total {
            return Err(FrameError::SessionTooLarge {
                limit: self.limits.max_total,
            });
        }
        // Only the new bytes are scanned, so a slow endless line costs linear time.
        self.tail = match data.iter().rposition(|&b| b == b'\n') {
            Some(p) => data.len() - p - 1,
            None => self.tail + data.len(),
        };
        if self.tail > self.limits.max_line {
            return Err(FrameError::LineTooLong {
                limit: self.limits.max_line,
            });
        }
        self.buf.extend_from_slice(data);
        Ok(())
    }

    /// Takes the next complete line, if one is buffered. Empty lines are skipped.
    pub fn next_line(&mut self) -> Result<Option<Line>, FrameError> {
        loop {
            let Some(pos) = self.buf[self.scanned..].iter().position(|&b| b == b'\n') else {
                self.scanned = self.buf.len();
                return Ok(None);
            };
            let end = self.scanned + pos;
            if end > self.limits.max_line {
                return Err(FrameError::LineTooLong {
                    limit: self.limits.max_line,
                });
            }
            let mut line: Vec<u8> = self.buf.drain(..=end).collect();
            self.scanned = 0;
            let wire_len = line.len();
            line.pop(); // '\n'
            let crlf = line.last() == Some(&b'\r');
            if crlf {
                line.pop();
            }
            let trimmed = line
                .iter()
                .rposition(|&b| b != b' ')
                .map(|p| p + 1)
                .unwrap_or(0);
            let padding = line.len() - trimmed;
            line.truncate(trimmed);
            if line.is_empty() {
                continue;
            }
            return Ok(Some(Line {
                bytes: line,
                padding,
                crlf,
                wire_len,
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Limits {
        Limits {
            max_line: 16,
            max_total: 64,
        }
    }

    #[test]
    fn splits_lines_across_reads() {
        let mut b = LineBuffer::new(Limits::default());
        b.extend(b"{\"a\":").unwrap();
        assert_eq!(b.next_line().unwrap(), None);
        b.extend(b"1}\n{\"b\":2}\r\n").unwrap();
        let l1 = b.next_line().unwrap().unwrap();
        assert_eq!(l1.bytes, b"{\"a\":1}");
        assert!(!l1.crlf);
        let l2 = b.next_line().unwrap().unwrap();
        assert_eq!(l2.bytes, b"{\"b\":2}");
        assert!(l2.crlf);
        assert_eq!(b.next_line().unwrap(), None);
    }

    #[test]
    fn strips_and_counts_padding() {
        let mut b = LineBuffer::new(Limits::default());
        b.extend(b"{}      \n").unwrap();
        let l = b.next_line().unwrap().unwrap();
        assert_eq!(l.bytes, b"{}");
        assert_eq!(l.padding, 6);
        assert_eq!(l.wire_len, 9);
    }

    #[test]
    fn skips_empty_lines() {
        let mut b = LineBuffer::new(Limits::default());
        b.extend(b"\n\r\n   \n{}\n").unwrap();
        assert_eq!(b.next_line().unwrap().unwrap().bytes, b"{}");
    }

    #[test]
    fn endless_line_is_refused_at_the_cap() {
        let mut b = LineBuffer::new(small());
        b.extend(&[b'x'; 16]).unwrap();
        assert_eq!(b.extend(b"x"), Err(FrameError::LineTooLong { limit: 16 }));
    }

    #[test]
    fn long_line_after_complete_lines_is_refused() {
        let mut b = LineBuffer::new(small());
        b.extend(b"{}\n").unwrap();
        assert!(matches!(
            b.extend(&[b'y'; 17]),
            Err(FrameError::LineTooLong { .. })
        ));
    }

    #[test]
    fn long_complete_line_is_refused() {
        let mut b = LineBuffer::new(Limits {
            max_line: 4,
            max_total: 1000,
        });
        // arrives in one read together with its newline: extend sees no tail, next_line checks it
        let r = b.extend(b"123456\n");
        let r2 = b.next_line();
        assert!(r.is_err() || r2.is_err());
    }

    #[test]
    fn session_cap() {
        let mut b = LineBuffer::new(small());
        for _ in 0..21 {
            b.extend(b"{}\n").unwrap();
            while b.next_line().unwrap().is_some() {}
        }
        assert_eq!(
            b.extend(b"{}\n"),
            Err(FrameError::SessionTooLarge { limit: 64 })
        );
    }

    #[test]
    fn the_byte_cap_is_per_endpoint_not_per_connection() {
        let tally = ByteTally::new();
        let mut main = LineBuffer::sharing(small(), tally.clone());
        let mut side = LineBuffer::sharing(small(), tally.clone());
        // 40 bytes on the main connection, then 24 on a side connection: 64, at the cap.
        let line = b"{\"a\":1}\n";
        for _ in 0..5 {
            main.extend(line).unwrap();
        }
        while main.next_line().unwrap().is_some() {}
        for _ in 0..3 {
            side.extend(line).unwrap();
        }
        assert_eq!(
            (main.total_bytes(), side.total_bytes(), tally.get()),
            (40, 24, 64)
        );
        assert!(main.exhausted() && side.exhausted());
        // A third, fresh connection gets no fresh allowance.
        let mut third = LineBuffer::sharing(small(), tally.clone());
        assert_eq!(
            third.extend(b"\n"),
            Err(FrameError::SessionTooLarge { limit: 64 })
        );
        // Alone, each connection would have been far below the cap.
        let mut alone = LineBuffer::new(small());
        for _ in 0..3 {
            alone.extend(line).unwrap();
        }
        assert!(!alone.exhausted());
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let mut b = LineBuffer::new(small());
        let junk: Vec<u8> = (0..=255u8).cycle().take(60).collect();
        let _ = b.extend(&junk);
        while let Ok(Some(_)) = b.next_line() {}
    }
}
