//! The request/reply interface probes talk through.
//!
//! The session (one persistent connection per endpoint, `server.version`
//! already sent) implements [`Rpc`]; probes only see this trait, so they can
//! be unit-tested against a scripted fake. Every method has a deadline inside
//! and never panics: failures come back as data.

use std::future::Future;

use observatory_model::raw::RpcError;
use serde_json::Value;

/// What became of one request.
#[derive(Debug, Clone, PartialEq)]
pub enum CallOutcome {
    /// A reply with `result`.
    Result {
        /// The result value.
        value: Value,
        /// Round-trip time, ms.
        rtt_ms: f64,
    },
    /// A reply with `error`.
    Error {
        /// The error object.
        error: RpcError,
        /// Round-trip time, ms.
        rtt_ms: f64,
    },
    /// No reply before the per-request deadline.
    Timeout,
    /// The connection closed (or was closed by us after a limit) before the reply.
    Closed {
        /// Why, in words.
        reason: String,
    },
    /// Not sent: the per-endpoint request budget is exhausted.
    OverBudget,
}

impl CallOutcome {
    /// Round-trip time when a reply came.
    pub fn rtt_ms(&self) -> Option<f64> {
        match self {
            CallOutcome::Result { rtt_ms, .. } | CallOutcome::Error { rtt_ms, .. } => Some(*rtt_ms),
            _ => None,
        }
    }
}

/// What became of one raw line sent (malformed-request probes).
#[derive(Debug, Clone, PartialEq)]
pub enum RawOutcome {
    /// The next line the server sent (replies or non-JSON), as text (lossy UTF-8, truncated).
    Line {
        /// The line.
        text: String,
        /// Time from send to the line, ms.
        rtt_ms: f64,
    },
    /// Nothing before the deadline.
    Silence,
    /// The server closed the connection.
    Closed {
        /// Time from send to the close, ms.
        after_ms: f64,
    },
    /// Not sent: budget exhausted.
    OverBudget,
}

/// A connection that can carry Electrum requests.
pub trait Rpc: Send {
    /// Sends one request and waits for the reply with the matching id.
    /// Notifications arriving meanwhile are recorded by the session, never returned here.
    fn call(&mut self, method: &str, params: Value) -> impl Future<Output = CallOutcome> + Send;

    /// Sends every request at once, each as its own line (pipelining, not a batch), then waits
    /// for the replies matched by id. Outcomes come back in request order; each RTT runs from
    /// that request's own send.
    fn pipeline(
        &mut self,
        calls: Vec<(String, Value)>,
    ) -> impl Future<Output = Vec<CallOutcome>> + Send;

    /// Sends the requests as one JSON-RPC batch (one line holding an array) and waits for all
    /// replies (array or individual lines), in request order. The wall time of the whole batch is
    /// returned beside the outcomes.
    fn batch(
        &mut self,
        calls: Vec<(String, Value)>,
    ) -> impl Future<Output = (Vec<CallOutcome>, f64)> + Send;

    /// Sends exactly `line` (a newline is appended) and reports the next line or the close.
    fn send_raw(&mut self, line: &[u8]) -> impl Future<Output = RawOutcome> + Send;

    /// Requests still allowed on this endpoint (the politeness budget).
    fn budget_left(&self) -> u32;

    /// True once the connection is closed.
    fn is_closed(&self) -> bool;

    /// Closes the connection (orderly where possible, bounded in time); later requests find it
    /// closed. The probes close each connection before opening the next one to the endpoint.
    fn close(&mut self) -> impl Future<Output = ()> + Send;
}
