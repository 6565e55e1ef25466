//! A scripted fake [`Rpc`] and [`Opener`] for unit tests of the probes.
//!
//! A [`Script`] decides every answer from the request alone (method + params,
//! or the raw line), so tests state behavior as a table-like function instead
//! of a fragile sequence. The fake counts requests against a budget and can
//! be told to close after a given raw line, like a server that disconnects.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use observatory_model::raw::RpcError;
use serde_json::Value;

use super::Opener;
use crate::rpc::{CallOutcome, RawOutcome, Rpc};

/// Answers for a fake server.
pub trait Script: Send + Sync {
    /// Answer to a request.
    fn call(&self, method: &str, params: &Value) -> CallOutcome;
    /// Lines the server writes after receiving a raw line, on a connection where `version_sent`
    /// tells whether `server.version` was negotiated; the bool asks the fake to close after them.
    /// Each `send_raw` returns the next queued line, as the real session does.
    fn raw(&self, line: &str, version_sent: bool) -> (Vec<RawOutcome>, bool);
}

/// A fake connection.
pub struct FakeRpc {
    script: Arc<dyn Script>,
    budget: u32,
    closed: bool,
    closing: bool,
    queue: VecDeque<RawOutcome>,
    version_sent: bool,
    /// Every method or raw line sent, in order.
    pub log: Arc<Mutex<Vec<String>>>,
}

impl std::fmt::Debug for FakeRpc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeRpc").field("budget", &self.budget).field("closed", &self.closed).finish()
    }
}

impl FakeRpc {
    /// A connection on which `server.version` was already negotiated.
    pub fn new(script: Arc<dyn Script>, budget: u32) -> Self {
        FakeRpc {
            script,
            budget,
            closed: false,
            closing: false,
            queue: VecDeque::new(),
            version_sent: true,
            log: Arc::default(),
        }
    }

    fn take_budget(&mut self) -> bool {
        if self.budget == 0 {
            return false;
        }
        self.budget -= 1;
        true
    }
}

/// The ok answer used by scripts.
pub fn ok(value: Value) -> CallOutcome {
    CallOutcome::Result { value, rtt_ms: 1.0 }
}

/// The error answer used by scripts.
pub fn err(code: i64, message: &str) -> CallOutcome {
    CallOutcome::Error { error: RpcError { code: Some(code), message: message.into() }, rtt_ms: 1.0 }
}

/// A raw line answer.
pub fn line(text: &str) -> RawOutcome {
    RawOutcome::Line { text: text.into(), rtt_ms: 1.0 }
}

impl Rpc for FakeRpc {
    async fn call(&mut self, method: &str, params: Value) -> CallOutcome {
        if self.closed {
            return CallOutcome::Closed { reason: "closed".into() };
        }
        if !self.take_budget() {
            return CallOutcome::OverBudget;
        }
        self.log.lock().unwrap().push(method.to_string());
        let out = self.script.call(method, &params);
        if matches!(out, CallOutcome::Closed { .. }) {
            self.closed = true;
        }
        out
    }

    async fn batch(&mut self, calls: Vec<(String, Value)>) -> (Vec<CallOutcome>, f64) {
        let mut outs = Vec::new();
        for (m, p) in calls {
            outs.push(self.call(&m, p).await);
        }
        let n = outs.len() as f64;
        (outs, n * 0.5)
    }

    async fn send_raw(&mut self, bytes: &[u8]) -> RawOutcome {
        if self.closed {
            return RawOutcome::Closed { after_ms: 0.0 };
        }
        if !self.take_budget() {
            return RawOutcome::OverBudget;
        }
        let text = String::from_utf8_lossy(bytes).to_string();
        self.log.lock().unwrap().push(text.clone());
        if !self.closing {
            let (outs, close) = self.script.raw(&text, self.version_sent);
            self.queue.extend(outs);
            self.closing = close;
        }
        if text.contains("\"server.version\"") {
            self.version_sent = true;
        }
        let out = self.queue.pop_front().unwrap_or(if self.closing {
            RawOutcome::Closed { after_ms: 0.0 }
        } else {
            RawOutcome::Silence
        });
        if matches!(out, RawOutcome::Closed { .. }) || (self.closing && self.queue.is_empty()) {
            self.closed = true;
        }
        out
    }

    fn budget_left(&self) -> u32 {
        self.budget
    }

    fn is_closed(&self) -> bool {
        self.closed
    }
}

/// Opens fake connections running the same script.
pub struct FakeOpener {
    /// The script.
    pub script: Arc<dyn Script>,
    /// Connections opened so far.
    pub opened: Mutex<u32>,
}

impl std::fmt::Debug for FakeOpener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeOpener").finish()
    }
}

impl FakeOpener {
    /// An opener for `script`.
    pub fn new(script: Arc<dyn Script>) -> Self {
        FakeOpener { script, opened: Mutex::new(0) }
    }
}

impl Opener for FakeOpener {
    type Conn = FakeRpc;
    async fn open_unversioned(&self) -> Option<FakeRpc> {
        *self.opened.lock().unwrap() += 1;
        let mut c = FakeRpc::new(self.script.clone(), 10);
        c.version_sent = false;
        Some(c)
    }
}

/// A malformed case as recorded, with nothing but its name, outcome and hang-up.
pub fn malformed_case(name: &str, outcome: &str, disconnected: bool) -> observatory_model::probes::MalformedCase {
    observatory_model::probes::MalformedCase {
        case: name.into(),
        sent: String::new(),
        outcome: outcome.into(),
        code: None,
        message: None,
        result_shape: None,
        disconnected,
        rtt_ms: None,
        message_has_markup_or_url: false,
        reply_form: None,
        notifications_before_reply: Vec::new(),
    }
}

/// A record of a loopback endpoint whose only probe result is `malformed` with `cases`.
pub fn record_with_malformed(
    cases: Vec<observatory_model::probes::MalformedCase>,
) -> observatory_model::raw::EndpointRecord {
    use observatory_model::probes::{MalformedDetail, ProbeDetail, ProbeResult};
    use observatory_model::raw::{Endpoint, EndpointRecord, Status, Transport};
    let ep = Endpoint { host: "127.0.0.1".into(), port: 50001, transport: Transport::Tcp };
    let mut r = EndpointRecord::new("run", 0, "test", ep, 0);
    r.probes.push(ProbeResult {
        name: "malformed".into(),
        status: Status::Success,
        error: None,
        started_ms: 0,
        duration_ms: 0.0,
        requests_sent: 0,
        detail: ProbeDetail::Malformed(MalformedDetail { cases }),
    });
    r
}
