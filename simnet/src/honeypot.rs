//! The planted honeypot behaviors, layered over an honest dialect.
//!
//! Methodology §7 lists what a surveillance server may betray; the planted group shows
//! each of those signals in a measurable way (the rest — shared certificate, identical
//! banner, uniform latency, sitting side by side — is in the plan and the certificates):
//!
//! * **Slow, slowing history**: every `blockchain.scripthash.get_history` answer is
//!   delayed by [`HISTORY_BASE_MS`] plus [`HISTORY_STEP_MS`] per history query the server has
//!   answered so far (all sessions together, capped at [`HISTORY_MAX_MS`]) — as if each query
//!   were written to a growing log — while `server.ping` stays fast. On an honest server a
//!   history lookup for an empty script is an index read as cheap as a ping; the base delay
//!   is an order of magnitude above the default honeypot latency so the signal is plain.
//! * **Selective rate limiting**: more than [`SCRIPTHASH_LIMIT`] single scripthash queries in
//!   [`SCRIPTHASH_WINDOW`] get [`THROTTLE_MESSAGE`] ([`THROTTLE_CODE`]) without a disconnect;
//!   pings and headers are never limited. The text is deliberately not ElectrumX's
//!   `excessive resource usage`: that one comes from ElectrumX's documented per-session
//!   cost limiter, which weighs every request, so it proves nothing about selectivity.
//! * **Accepts huge batches**: batches are answered whatever their size (no per-batch limit),
//!   which lets a client leak a whole xpub's worth of scripthashes in one request.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use observatory_protocol::message::{parse_request, ServerInput};

use crate::dialect::{echo_id, error_line, is_scripthash_method, Dialect, Outcome, ServerCtx, Session};
use crate::json::Style;

/// Extra delay of every history answer, milliseconds (over ten times the default honeypot
/// latency, [`crate::SimnetConfig::honeypot_latency_ms`]).
pub const HISTORY_BASE_MS: u64 = 900;
/// Added per history query already answered by this server, milliseconds.
pub const HISTORY_STEP_MS: u64 = 4;
/// Cap of the per-query history delay, milliseconds.
pub const HISTORY_MAX_MS: u64 = 1_500;
/// JSON-RPC error code of the selective throttle (the generic "server error" code).
pub const THROTTLE_CODE: i64 = -32000;
/// Message of the selective throttle.
pub const THROTTLE_MESSAGE: &str = "rate limit exceeded, try again later";
/// Cap of the extra delay of one line (a huge batch), so a session stays bounded.
const MAX_LINE_DELAY: Duration = Duration::from_secs(8);
/// Single scripthash queries allowed per window.
pub const SCRIPTHASH_LIMIT: usize = 20;
/// The rate-limit window.
pub const SCRIPTHASH_WINDOW: Duration = Duration::from_secs(10);

/// A honest dialect with the honeypot layer on top. One per server: the history counter is
/// shared by all of the server's sessions.
#[derive(Debug)]
pub(crate) struct Honeypot {
    inner: Arc<dyn Dialect>,
    history_queries: AtomicU64,
}

impl Honeypot {
    pub(crate) fn new(inner: Arc<dyn Dialect>) -> Honeypot {
        Honeypot { inner, history_queries: AtomicU64::new(0) }
    }

    fn history_delay(&self, queries: u64) -> Duration {
        let mut total = Duration::ZERO;
        for _ in 0..queries {
            let n = self.history_queries.fetch_add(1, Ordering::Relaxed);
            total += Duration::from_millis((HISTORY_BASE_MS + HISTORY_STEP_MS * n).min(HISTORY_MAX_MS));
        }
        total.min(MAX_LINE_DELAY)
    }
}

impl Dialect for Honeypot {
    fn on_line(&self, srv: &ServerCtx, st: &mut Session, line: &[u8]) -> Outcome {
        let now = Instant::now();
        while st.scripthash_times.front().is_some_and(|t| now.saturating_duration_since(*t) > SCRIPTHASH_WINDOW) {
            st.scripthash_times.pop_front();
        }
        let (methods, single_id) = match parse_request(line) {
            Ok(ServerInput::Single(r)) => (vec![r.method.clone()], Some(r.id)),
            Ok(ServerInput::Batch(items)) => (items.iter().filter_map(|i| i.as_ref().ok().map(|r| r.method.clone())).collect(), None),
            Err(_) => (Vec::new(), None),
        };
        let scripthash_queries = methods.iter().filter(|m| is_scripthash_method(m)).count();
        if let Some(id) = single_id {
            if scripthash_queries > 0 && st.scripthash_times.len() >= SCRIPTHASH_LIMIT {
                return Outcome::line(error_line(Style::CompactOrdered, echo_id(&id), THROTTLE_CODE, THROTTLE_MESSAGE));
            }
        }
        // Only whether the limit is reached matters, so the window never holds more than that.
        for _ in 0..scripthash_queries.min(SCRIPTHASH_LIMIT) {
            st.scripthash_times.push_back(now);
        }
        let mut out = self.inner.on_line(srv, st, line);
        let history = methods.iter().filter(|m| m.as_str() == "blockchain.scripthash.get_history").count() as u64;
        out.extra_delay += self.history_delay(history);
        out
    }

    fn initial_protocol(&self) -> Vec<u32> {
        self.inner.initial_protocol()
    }
}
