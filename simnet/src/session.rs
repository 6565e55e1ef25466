//! One client connection to an honest or honeypot server.
//!
//! The reader frames lines with the project's one framing ([`LineBuffer`]), hands each to
//! the server's [`Dialect`] and queues the reply lines with a send time of
//! `now + latency + extra delay`. A separate writer sends them at those times. Pipelined
//! requests therefore each see one network round trip, as on a real link, instead of
//! queueing behind each other's latency; reply order is kept (send times never go back).

use std::sync::Arc;
use std::time::Duration;

use observatory_protocol::frame::{Limits, LineBuffer};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, watch};
use tokio::time::{sleep_until, timeout, Instant};

use crate::dialect::{Dialect, ServerCtx, Session};
use crate::plan::Latency;

/// Longest request line a simulated server accepts (aiorpcX's framer drops messages over
/// 1,000,000 bytes; the simnet closes instead).
pub const MAX_REQUEST_LINE: usize = 1_000_000;

/// Most bytes a client may send over one session.
pub const MAX_REQUEST_BYTES: u64 = 64 * 1024 * 1024;

/// Reply lines queued for sending before the reader waits.
const WRITE_QUEUE: usize = 1024;

/// Read buffer size.
const READ_CHUNK: usize = 16 * 1024;

/// Something for the writer to do at a given time.
enum Queued {
    Line(Instant, Vec<u8>),
    Close(Instant),
}

impl Latency {
    /// One reply's delay.
    pub(crate) fn sample(&self, rng: &mut Xoshiro256PlusPlus) -> Duration {
        let jitter = if self.jitter_ms > 0.0 {
            rng.gen_range(-self.jitter_ms..=self.jitter_ms)
        } else {
            0.0
        };
        Duration::from_secs_f64((self.base_ms + jitter).max(0.0) / 1000.0)
    }
}

/// Serves one connection until the client leaves, the dialect closes, the session idles for
/// `idle`, or the simnet stops.
pub(crate) async fn serve<S>(
    stream: S,
    srv: Arc<ServerCtx>,
    dialect: Arc<dyn Dialect>,
    idle: Duration,
    mut stop: watch::Receiver<bool>,
    seed: u64,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut rd, wr) = tokio::io::split(stream);
    let (tx, rx) = mpsc::channel::<Queued>(WRITE_QUEUE);
    let writer = tokio::spawn(write_loop(wr, rx, stop.clone()));
    let mut buf = LineBuffer::new(Limits {
        max_line: MAX_REQUEST_LINE,
        max_total: MAX_REQUEST_BYTES,
    });
    let mut st = Session::new(&dialect.initial_protocol());
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut last_at = Instant::now();
    let mut chunk = vec![0u8; READ_CHUNK];
    'session: loop {
        let n = tokio::select! {
            _ = stop.changed() => break,
            r = timeout(idle, rd.read(&mut chunk)) => match r {
                Ok(Ok(n)) if n > 0 => n,
                _ => break,
            },
        };
        let Some(data) = chunk.get(..n) else { break };
        if buf.extend(data).is_err() {
            break;
        }
        loop {
            let line = match buf.next_line() {
                Ok(Some(line)) => line,
                Ok(None) => break,
                Err(_) => break 'session,
            };
            let out = dialect.on_line(&srv, &mut st, &line.bytes);
            let at =
                (Instant::now() + srv.plan.latency.sample(&mut rng) + out.extra_delay).max(last_at);
            last_at = at;
            for l in out.lines {
                if tx.send(Queued::Line(at, l)).await.is_err() {
                    break 'session;
                }
            }
            if out.close {
                let _ = tx.send(Queued::Close(at)).await;
                break 'session;
            }
        }
    }
    drop(tx);
    let _ = writer.await;
}

async fn write_loop<W: AsyncWrite + Unpin>(
    mut wr: W,
    mut rx: mpsc::Receiver<Queued>,
    mut stop: watch::Receiver<bool>,
) {
    while let Some(item) = rx.recv().await {
        let (at, bytes) = match item {
            Queued::Line(at, bytes) => (at, Some(bytes)),
            Queued::Close(at) => (at, None),
        };
        tokio::select! {
            _ = stop.changed() => break,
            _ = sleep_until(at) => {}
        }
        let Some(bytes) = bytes else { break };
        if wr.write_all(&bytes).await.is_err() {
            return;
        }
    }
    let _ = wr.shutdown().await;
}
