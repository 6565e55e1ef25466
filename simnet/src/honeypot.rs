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
//! * **Selective rate limiting**: more than [`HISTORY_LIMIT`] `get_history` queries in
//!   [`HISTORY_WINDOW`] (per session) get [`THROTTLE_MESSAGE`] ([`THROTTLE_CODE`]) without a
//!   disconnect, after the same logging delay as an answer (the refused query is recorded
//!   too); a batch that would cross the limit is refused item by item. Pings, headers and
//!   the other scripthash methods are never limited. The text is deliberately not
//!   ElectrumX's `excessive resource usage`: that one comes from ElectrumX's documented
//!   per-session cost limiter, which weighs every request, so it proves nothing about
//!   selectivity.
//! * **Accepts huge batches**: batches within the limit are answered whatever their size (no
//!   per-batch limit), which lets a client leak a whole xpub's worth of scripthashes at once.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use observatory_protocol::message::{parse_request, Request, ServerInput};

use crate::dialect::{echo_id, error_line, Dialect, Outcome, ServerCtx, Session};
use crate::json::Style;

/// Extra delay of every history answer, milliseconds (over ten times the default honeypot
/// latency, [`crate::SimnetConfig::honeypot_latency_ms`]).
pub const HISTORY_BASE_MS: u64 = 650;
/// Added per history query already answered by this server, milliseconds.
pub const HISTORY_STEP_MS: u64 = 2;
/// Cap of the per-query history delay, milliseconds.
pub const HISTORY_MAX_MS: u64 = 1_500;
/// JSON-RPC error code of the selective throttle (the generic "server error" code).
pub const THROTTLE_CODE: i64 = -32000;
/// Message of the selective throttle.
pub const THROTTLE_MESSAGE: &str = "rate limit exceeded, try again later";
/// Cap of the extra delay of one line (a huge batch), so a session stays bounded.
const MAX_LINE_DELAY: Duration = Duration::from_secs(8);
/// `get_history` queries answered per session and window; the rest are refused. A wallet
/// restoring an xpub asks for dozens; a scanner's first look at a server, a handful.
pub const HISTORY_LIMIT: usize = 8;
/// The rate-limit window.
pub const HISTORY_WINDOW: Duration = Duration::from_secs(10);
/// The history method the honeypot logs, delays and limits.
const HISTORY_METHOD: &str = "blockchain.scripthash.get_history";

/// A honest dialect with the honeypot layer on top. One per server: the history counter is
/// shared by all of the server's sessions.
#[derive(Debug)]
pub(crate) struct Honeypot {
    inner: Arc<dyn Dialect>,
    history_queries: AtomicU64,
}

impl Honeypot {
    pub(crate) fn new(inner: Arc<dyn Dialect>) -> Honeypot {
        Honeypot {
            inner,
            history_queries: AtomicU64::new(0),
        }
    }

    fn history_delay(&self, queries: u64) -> Duration {
        let mut total = Duration::ZERO;
        for _ in 0..queries {
            let n = self.history_queries.fetch_add(1, Ordering::Relaxed);
            total +=
                Duration::from_millis((HISTORY_BASE_MS + HISTORY_STEP_MS * n).min(HISTORY_MAX_MS));
        }
        total.min(MAX_LINE_DELAY)
    }
}

impl Dialect for Honeypot {
    fn on_line(&self, srv: &ServerCtx, st: &mut Session, line: &[u8]) -> Outcome {
        let now = Instant::now();
        while st
            .history_times
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) > HISTORY_WINDOW)
        {
            st.history_times.pop_front();
        }
        let allowed = HISTORY_LIMIT.saturating_sub(st.history_times.len());
        let is_history = |r: &Request| r.method == HISTORY_METHOD;
        match parse_request(line) {
            Ok(ServerInput::Single(r)) if is_history(&r) && allowed == 0 => {
                let mut out = Outcome::line(throttle_error(&r.id));
                out.extra_delay = self.history_delay(1);
                return out;
            }
            Ok(ServerInput::Batch(items)) => {
                let history = items
                    .iter()
                    .filter(|i| i.as_ref().is_ok_and(is_history))
                    .count();
                if history > allowed {
                    let refusals = items
                        .iter()
                        .map(|i| throttle_error_value(i.as_ref().ok().map(|r| &r.id)));
                    let mut out =
                        Outcome::line(format!("[{}]", refusals.collect::<Vec<_>>().join(",")));
                    out.extra_delay = self.history_delay(history as u64);
                    return out;
                }
            }
            _ => {}
        }
        let mut out = self.inner.on_line(srv, st, line);
        let history = match parse_request(line) {
            Ok(ServerInput::Single(r)) => usize::from(is_history(&r)),
            Ok(ServerInput::Batch(items)) => items
                .iter()
                .filter(|i| i.as_ref().is_ok_and(is_history))
                .count(),
            Err(_) => 0,
        };
        st.history_times
            .extend(std::iter::repeat_n(now, history.min(HISTORY_LIMIT)));
        out.extra_delay += self.history_delay(history as u64);
        out
    }

    fn initial_protocol(&self) -> Vec<u32> {
        self.inner.initial_protocol()
    }
}

/// The refusal of one history query, as ElectrumX (which the honeypots claim to be) writes errors.
fn throttle_error(id: &Option<serde_json::Value>) -> String {
    error_line(
        Style::CompactOrdered,
        echo_id(id),
        THROTTLE_CODE,
        THROTTLE_MESSAGE,
    )
}

/// The refusal of one batch item (a malformed item has no id to echo).
fn throttle_error_value(id: Option<&Option<serde_json::Value>>) -> String {
    throttle_error(id.unwrap_or(&None))
}
