//! A scripted fake [`Rpc`] and [`Opener`] for unit tests of the probes.
//!
//! A [`Script`] decides every answer from the request alone (method + params,
//! or the raw line), so tests state behavior as a table-like function instead
//! of a fragile sequence. The fake counts requests against a budget and can
//! be told to close after a given raw line, like a server that disconnects.
//! A shared [`OpenConnections`] counts how many fake connections are open at
//! once (open from creation until `close` or drop), the politeness rule the
//! probes must keep.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use observatory_model::raw::RpcError;
use serde_json::Value;

use super::observe::Counted;
use super::{Opener, Plan, Probe, ProbeLevel, ProbeOutcome};
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

/// Connections open at once, and the most ever open together.
#[derive(Debug, Default)]
pub struct OpenConnections {
    open: AtomicU32,
    max: AtomicU32,
}

impl OpenConnections {
    fn opened(&self) {
        let now = self.open.fetch_add(1, Ordering::SeqCst) + 1;
        self.max.fetch_max(now, Ordering::SeqCst);
    }

    fn closed(&self) {
        self.open.fetch_sub(1, Ordering::SeqCst);
    }

    /// The most connections that were open at the same time.
    pub fn max(&self) -> u32 {
        self.max.load(Ordering::SeqCst)
    }

    /// Connections open now.
    pub fn now(&self) -> u32 {
        self.open.load(Ordering::SeqCst)
    }
}

/// A fake connection.
pub struct FakeRpc {
    script: Arc<dyn Script>,
    budget: u32,
    closed: bool,
    /// Counted as open in this tally until closed or dropped.
    open: Option<Arc<OpenConnections>>,
    closing: bool,
    queue: VecDeque<RawOutcome>,
    version_sent: bool,
    /// Every method or raw line sent, in order.
    pub log: Arc<Mutex<Vec<String>>>,
}

impl std::fmt::Debug for FakeRpc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeRpc")
            .field("budget", &self.budget)
            .field("closed", &self.closed)
            .finish()
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
            open: None,
        }
    }

    /// Like [`FakeRpc::new`], counted as open in `open` until closed or dropped.
    pub fn counted(script: Arc<dyn Script>, budget: u32, open: Arc<OpenConnections>) -> Self {
        open.opened();
        let mut c = FakeRpc::new(script, budget);
        c.open = Some(open);
        c
    }

    fn release(&mut self) {
        if let Some(open) = self.open.take() {
            open.closed();
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
    CallOutcome::Error {
        error: RpcError {
            code: Some(code),
            message: message.into(),
        },
        rtt_ms: 1.0,
    }
}

/// A raw line answer.
pub fn line(text: &str) -> RawOutcome {
    RawOutcome::Line {
        text: text.into(),
        rtt_ms: 1.0,
    }
}

impl Drop for FakeRpc {
    fn drop(&mut self) {
        self.release();
    }
}

impl Rpc for FakeRpc {
    async fn call(&mut self, method: &str, params: Value) -> CallOutcome {
        if self.closed {
            return CallOutcome::Closed {
                reason: "closed".into(),
            };
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

    async fn pipeline(&mut self, calls: Vec<(String, Value)>) -> Vec<CallOutcome> {
        let mut outs = Vec::new();
        for (m, p) in calls {
            outs.push(self.call(&m, p).await);
        }
        outs
    }

    async fn batch(&mut self, calls: Vec<(String, Value)>) -> (Vec<CallOutcome>, f64) {
        let outs = self.pipeline(calls).await;
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

    async fn close(&mut self) {
        self.closed = true;
        self.release();
    }
}

/// Requests allowed on each fake side connection (the real budget is shared per endpoint;
/// the probes' own accounting is tested against the main connection's).
const SIDE_BUDGET: u32 = 100;

/// Opens fake connections running the same script.
pub struct FakeOpener {
    /// The script.
    pub script: Arc<dyn Script>,
    /// Connections opened so far.
    pub opened: Mutex<u32>,
    /// Where the connections it opens are counted as open.
    pub open: Arc<OpenConnections>,
}

impl std::fmt::Debug for FakeOpener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeOpener").finish()
    }
}

impl FakeOpener {
    /// An opener for `script`.
    pub fn new(script: Arc<dyn Script>) -> Self {
        FakeOpener::counting(script, Arc::default())
    }

    /// An opener whose connections count into `open` (share it with the main connection's
    /// [`FakeRpc::counted`] to check that no two are ever open at once).
    pub fn counting(script: Arc<dyn Script>, open: Arc<OpenConnections>) -> Self {
        FakeOpener {
            script,
            opened: Mutex::new(0),
            open,
        }
    }
}

impl Opener for FakeOpener {
    type Conn = FakeRpc;
    async fn open_unversioned(&self) -> Option<FakeRpc> {
        *self.opened.lock().unwrap() += 1;
        let mut c = FakeRpc::counted(self.script.clone(), SIDE_BUDGET, self.open.clone());
        c.version_sent = false;
        Some(c)
    }
}

/// Runs `probe` with `plan` on a fresh fake main connection (budget 100) and an opener, both
/// answering from `script`; returns the outcome and the requests sent on the main connection.
pub async fn run_probe<P: Probe>(
    probe: &P,
    script: Arc<dyn Script>,
    plan: Plan,
) -> (ProbeOutcome, u32) {
    let mut rpc = FakeRpc::new(script.clone(), 100);
    let mut c = Counted::new(&mut rpc);
    let out = probe
        .run(
            &mut c,
            &FakeOpener::new(script),
            &crate::probes::tests::ctx(),
            plan,
        )
        .await;
    let sent = c.sent();
    (out, sent)
}

/// A plan whose deadline has already passed.
pub fn out_of_time(level: ProbeLevel) -> Plan {
    Plan {
        level,
        deadline: std::time::Instant::now(),
    }
}

/// A malformed case as recorded, with nothing but its name, outcome and hang-up.
pub fn malformed_case(
    name: &str,
    outcome: &str,
    disconnected: bool,
) -> observatory_model::probes::MalformedCase {
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
    let ep = Endpoint {
        host: "127.0.0.1".into(),
        port: 50001,
        transport: Transport::Tcp,
    };
    let mut r = EndpointRecord::new("run", 0, "test", ep, 0);
    r.probes.push(ProbeResult {
        name: "malformed".into(),
        status: Status::Success,
        error: None,
        started_ms: 0,
        duration_ms: 0.0,
        requests_sent: 0,
        detail: ProbeDetail::Malformed(MalformedDetail { cases }),
        cut_by_time_cap: false,
        samples_planned: 0,
        samples_taken: 0,
    });
    r
}
