//! A byte stream (TCP, TLS, or either through SOCKS5) plus newline framing.
//!
//! Like mini-redis' `Connection`: it owns the stream and a [`LineBuffer`] and offers
//! [`Connection::read_line`] / [`Connection::write_line`], each under a deadline. It also
//! counts the facts about the byte stream that fingerprinting uses ([`WireFacts`]). The
//! connections of one endpoint share one [`ByteTally`], so the byte cap is per endpoint.

use std::io;

use observatory_model::raw::WireFacts;
use observatory_protocol::frame::{ByteTally, FrameError, Limits, Line, LineBuffer};
use thiserror::Error;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::{timeout_at, Instant};

/// Bytes read from the socket at once.
const READ_CHUNK: usize = 16 * 1024;

/// Any stream the scanner can speak over.
pub trait AsyncStream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> AsyncStream for T {}

impl std::fmt::Debug for dyn AsyncStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AsyncStream")
    }
}

/// A boxed stream (TCP, TLS over TCP, SOCKS5-tunnelled TCP or TLS).
pub type BoxStream = Box<dyn AsyncStream>;

/// Why a read ended without a line.
#[derive(Debug, Error)]
pub enum ReadError {
    /// The deadline passed.
    #[error("read timed out")]
    Timeout,
    /// The peer closed the connection (EOF).
    #[error("connection closed by peer")]
    Closed,
    /// A socket error.
    #[error("read failed: {0}")]
    Io(#[from] io::Error),
    /// The server crossed a framing limit.
    #[error(transparent)]
    Limit(#[from] FrameError),
}

/// Why a write failed.
#[derive(Debug, Error)]
pub enum WriteError {
    /// The deadline passed.
    #[error("write timed out")]
    Timeout,
    /// A socket error (including a reset by the peer).
    #[error("write failed: {0}")]
    Io(#[from] io::Error),
}

/// A framed connection.
pub struct Connection {
    stream: BoxStream,
    buffer: LineBuffer,
    chunk: Vec<u8>,
    eof: bool,
    wire: WireFacts,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("eof", &self.eof)
            .field("wire", &self.wire)
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// Wraps a connected stream whose bytes count against a cap of its own.
    pub fn new(stream: BoxStream, limits: Limits) -> Self {
        Connection::sharing(stream, limits, ByteTally::new())
    }

    /// Wraps a connected stream whose bytes count into `tally`, shared with the other
    /// connections of the same endpoint (`limits.max_total` caps them together).
    pub fn sharing(stream: BoxStream, limits: Limits, tally: ByteTally) -> Self {
        Connection {
            stream,
            buffer: LineBuffer::sharing(limits, tally),
            chunk: vec![0; READ_CHUNK],
            eof: false,
            wire: WireFacts::default(),
        }
    }

    /// Facts about the bytes received so far.
    pub fn wire(&self) -> &WireFacts {
        &self.wire
    }

    /// Mutable wire facts (the session adds what it learns from parsing).
    pub fn wire_mut(&mut self) -> &mut WireFacts {
        &mut self.wire
    }

    /// Reads the next complete line, or fails at `deadline`.
    pub async fn read_line(&mut self, deadline: Instant) -> Result<Line, ReadError> {
        loop {
            if let Some(line) = self.buffer.next_line()? {
                self.note_line(&line);
                return Ok(line);
            }
            if self.eof {
                return Err(ReadError::Closed);
            }
            if self.buffer.exhausted() {
                // The endpoint's byte cap is spent (perhaps on another connection): read nothing more.
                return Err(ReadError::Limit(FrameError::SessionTooLarge {
                    limit: self.buffer.limit(),
                }));
            }
            let n = match timeout_at(deadline, self.stream.read(&mut self.chunk)).await {
                Err(_) => return Err(ReadError::Timeout),
                Ok(r) => r?,
            };
            if n == 0 {
                self.eof = true;
                continue;
            }
            self.wire.bytes_received += n as u64;
            let data = self.chunk.get(..n).unwrap_or_default();
            self.buffer.extend(data)?;
        }
    }

    /// Writes `bytes` (which must already end in a newline) and flushes, or fails at `deadline`.
    pub async fn write_line(&mut self, bytes: &[u8], deadline: Instant) -> Result<(), WriteError> {
        let write = async {
            self.stream.write_all(bytes).await?;
            self.stream.flush().await
        };
        match timeout_at(deadline, write).await {
            Err(_) => Err(WriteError::Timeout),
            Ok(r) => Ok(r?),
        }
    }

    /// Best-effort orderly close (TLS close_notify, TCP FIN), bounded by `deadline`.
    pub async fn shutdown(&mut self, deadline: Instant) {
        let _ = timeout_at(deadline, self.stream.shutdown()).await;
    }

    fn note_line(&mut self, line: &Line) {
        self.wire.lines_received += 1;
        if line.crlf {
            self.wire.crlf_lines += 1;
        }
        if line.padding > 0 || inner_padding(&line.bytes) > 0 {
            self.wire.padded_lines += 1;
        }
    }
}

/// Spaces just before the closing `}` / `]` of a JSON line: ElectrumX 2.x pads its replies
/// there (`..."id":1            }`), not after the document.
pub fn inner_padding(line: &[u8]) -> usize {
    match line.split_last() {
        Some((b'}' | b']', body)) => body.iter().rev().take_while(|&&b| b == b' ').count(),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use tokio::io::AsyncWriteExt;

    fn limits() -> Limits {
        Limits {
            max_line: 64,
            max_total: 256,
        }
    }

    #[tokio::test]
    async fn reads_lines_and_counts_wire_facts() {
        let (client, mut server) = tokio::io::duplex(1024);
        let mut conn = Connection::new(Box::new(client), limits());
        server
            .write_all(b"{\"id\":1}\r\n{\"id\":2,\"result\":1    }\n")
            .await
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(1);
        assert_eq!(conn.read_line(deadline).await.unwrap().bytes, b"{\"id\":1}");
        assert_eq!(
            conn.read_line(deadline).await.unwrap().bytes,
            b"{\"id\":2,\"result\":1    }"
        );
        assert_eq!(conn.wire().crlf_lines, 1);
        assert_eq!(conn.wire().padded_lines, 1);
        assert_eq!(conn.wire().lines_received, 2);
        drop(server);
        assert!(matches!(
            conn.read_line(deadline).await,
            Err(ReadError::Closed)
        ));
    }

    #[tokio::test]
    async fn endless_line_hits_the_line_cap() {
        let (client, mut server) = tokio::io::duplex(1024);
        let mut conn = Connection::new(Box::new(client), limits());
        server.write_all(&[b'x'; 100]).await.unwrap();
        let r = conn
            .read_line(Instant::now() + Duration::from_secs(1))
            .await;
        assert!(
            matches!(r, Err(ReadError::Limit(FrameError::LineTooLong { .. }))),
            "{r:?}"
        );
    }

    #[tokio::test]
    async fn silence_times_out() {
        let (client, _server) = tokio::io::duplex(1024);
        let mut conn = Connection::new(Box::new(client), limits());
        let r = conn
            .read_line(Instant::now() + Duration::from_millis(50))
            .await;
        assert!(matches!(r, Err(ReadError::Timeout)));
    }

    #[tokio::test]
    async fn connections_of_one_endpoint_share_the_byte_cap() {
        let tally = ByteTally::new();
        let (a, mut server_a) = tokio::io::duplex(1024);
        let (b, mut server_b) = tokio::io::duplex(1024);
        let mut main = Connection::sharing(Box::new(a), limits(), tally.clone());
        let mut side = Connection::sharing(Box::new(b), limits(), tally.clone());
        let deadline = Instant::now() + Duration::from_secs(1);
        // 200 of the 256 bytes arrive on the main connection …
        let line = format!("{}\n", "x".repeat(49));
        server_a.write_all(line.repeat(4).as_bytes()).await.unwrap();
        for _ in 0..4 {
            main.read_line(deadline).await.unwrap();
        }
        // … so the side connection gets only what is left, not a fresh 256.
        server_b.write_all(line.as_bytes()).await.unwrap();
        side.read_line(deadline).await.unwrap();
        server_b.write_all(line.as_bytes()).await.unwrap();
        let r = side.read_line(deadline).await;
        assert!(
            matches!(
                r,
                Err(ReadError::Limit(FrameError::SessionTooLarge { limit: 256 }))
            ),
            "{r:?}"
        );
        assert_eq!(main.wire().bytes_received, 200);
        assert_eq!(side.wire().bytes_received, 100);
        assert_eq!(tally.get(), 300);
        // Once the cap is spent, no connection of the endpoint reads anything more.
        let (c, _server_c) = tokio::io::duplex(1024);
        let mut third = Connection::sharing(Box::new(c), limits(), tally.clone());
        assert!(matches!(
            third.read_line(deadline).await,
            Err(ReadError::Limit(_))
        ));
        assert_eq!(tally.get(), 300);
    }

    #[test]
    fn inner_padding_counts_spaces_before_the_closing_bracket() {
        assert_eq!(inner_padding(b"{\"a\":1   }"), 3);
        assert_eq!(inner_padding(b"{\"a\":1}"), 0);
        assert_eq!(inner_padding(b""), 0);
        assert_eq!(inner_padding(b"x   "), 0);
    }
}
