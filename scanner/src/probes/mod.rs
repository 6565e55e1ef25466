//! Behavioral probes (issue 3): one module per probe behind one trait.
//!
//! Integration contract with the session (kept stable while both are built):
//! the session calls [`run_all`] after the metadata requests, on the same
//! connection (`server.version` already negotiated), passing an [`Opener`]
//! that can open a fresh connection to the same endpoint *without* sending
//! `server.version` (for the before-version and unsupported-protocol cases).
//!
//! * [`Probe`]: the trait (name, cost, run); each probe module implements it
//!   for one unit struct, and [`REGISTRY`] lists them in run order.
//! * [`address_formats`], [`timing`], [`rate_limit`], [`xpub`], [`malformed`]:
//!   the probes. Their answers are facts (shapes, codes, verbatim bounded
//!   messages, RTTs), never conclusions; [`crate::inference`] interprets them.
//! * [`cost`]: prices a finished visit with ElectrumX's cost model (what was actually sent,
//!   on every connection), to check it against the soft limit.
//! * [`stats`]: the one timing-summary function; [`observe`]: bounded parsing
//!   of what servers send; [`vectors`]: the public test vectors queried.
//!
//! Politeness: every probe declares its worst-case cost in requests and in
//! ElectrumX session cost units ([`ProbeCost`]); the default
//! [`ProbeLevel::Standard`] set stays under [`STANDARD_COST_CEILING`], well
//! below ElectrumX's default `COST_SOFT_LIMIT` of 1000 (see `docs/probes.md`).
//! [`run_all`] skips a probe whose request cost exceeds the session's
//! remaining budget.
//!
//! Time: the whole set runs within [`PROBE_TIME_BUDGET`] and each probe within
//! its own [`Probe::time_cap`], fingerprint probes first. Sequential probes on
//! slow servers (Tor, or ElectrumX 2.x, whose padding transport holds small
//! replies up to one second) stop early and record what they saw; the behavior
//! description only uses facts that survive such truncation.

use std::future::Future;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use observatory_model::probes::{ProbeDetail, ProbeResult};
use observatory_model::raw::{Endpoint, Status};

use crate::rpc::Rpc;

pub mod address_formats;
pub mod cost;
pub mod malformed;
pub mod observe;
pub mod rate_limit;
pub mod stats;
pub mod timing;
pub mod vectors;
pub mod xpub;

#[cfg(test)]
pub(crate) mod fake;

use observe::Counted;

/// ElectrumX's default `COST_SOFT_LIMIT` (spesmilo/electrumx `src/electrumx/server/env.py`):
/// above it a session's requests are delayed and its concurrency reduced.
pub const ELECTRUMX_COST_SOFT_LIMIT: f64 = 1000.0;
/// Ceiling on the estimated ElectrumX cost of the whole standard probe set (half the soft limit).
pub const STANDARD_COST_CEILING: f64 = 500.0;
/// Wall time the whole probe set may take (the session's endpoint deadline, 45 s by default,
/// also covers connecting and the metadata requests).
pub const PROBE_TIME_BUDGET: Duration = Duration::from_secs(32);

/// Opens extra connections to the endpoint being probed (same address, transport, deadlines, budget).
pub trait Opener: Send + Sync {
    /// The connection type.
    type Conn: Rpc;
    /// A fresh connection on which nothing has been sent yet; None when it could not be opened.
    fn open_unversioned(&self) -> impl Future<Output = Option<Self::Conn>> + Send;
}

/// Which probe cases run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ProbeLevel {
    /// The polite default: estimated ElectrumX cost under [`STANDARD_COST_CEILING`].
    #[default]
    Standard,
    /// Every malformed case of issue 3, including invalid JSON (which alone costs 1100 ElectrumX
    /// units): for loopback, simnet and servers one operates, never for the public scan.
    Full,
}

/// What probes may know about the endpoint.
#[derive(Debug, Clone)]
pub struct ProbeContext {
    /// The endpoint.
    pub endpoint: Endpoint,
    /// Protocol version negotiated by `server.version` on the main connection.
    pub protocol: Option<String>,
}

/// How one probe is to run: which cases, and until when.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Which cases run.
    pub level: ProbeLevel,
    /// Send nothing new after this instant.
    pub deadline: Instant,
}

impl Plan {
    /// True once the deadline has passed.
    pub fn expired(&self) -> bool {
        Instant::now() >= self.deadline
    }
}

/// Worst-case cost of one probe.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProbeCost {
    /// Requests sent, counting batch items and requests on extra connections.
    pub requests: u32,
    /// Estimated ElectrumX session cost units (per-method `bump_cost`, 100 per error reply,
    /// 5 per extra connection; from spesmilo/electrumx `server/session.py` and aiorpcx `session.py`).
    pub electrumx_units: f64,
}

/// How a probe ended, before [`run_all`] stamps names and times on it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeOutcome {
    /// Status (from [`status_of`]).
    pub status: Status,
    /// Error text when not a success.
    pub error: Option<String>,
    /// What it measured.
    pub detail: ProbeDetail,
    /// Requests sent on extra connections (the main-connection count is kept by [`Counted`]).
    pub side_requests: u32,
}

/// One behavioral probe.
pub trait Probe: Sync {
    /// Module name as it appears in results (`address-formats`, …).
    fn name(&self) -> &'static str;
    /// Worst-case cost at `level`.
    fn cost(&self, level: ProbeLevel) -> ProbeCost;
    /// Longest the probe may run (it stops sending new requests after it).
    fn time_cap(&self) -> Duration;
    /// Runs the probe on the main connection (and, when it needs one, fresh connections).
    fn run<R: Rpc, O: Opener>(
        &self,
        rpc: &mut Counted<'_, R>,
        opener: &O,
        ctx: &ProbeContext,
        plan: Plan,
    ) -> impl Future<Output = ProbeOutcome> + Send;
}

/// The registered probes, in run order: the fingerprint probes first (malformed runs on its own
/// connections, so nothing it sends can end the main session), then the timing probes, and the
/// xpub batch last, because some servers (mempool/electrs) answer a batch by disconnecting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeKind {
    /// [`malformed::Malformed`].
    Malformed,
    /// [`address_formats::AddressFormats`].
    AddressFormats,
    /// [`timing::Timing`].
    Timing,
    /// [`rate_limit::RateLimit`].
    RateLimit,
    /// [`xpub::XpubProbe`].
    Xpub,
}

/// Every probe, in run order.
pub const REGISTRY: [ProbeKind; 5] =
    [ProbeKind::Malformed, ProbeKind::AddressFormats, ProbeKind::Timing, ProbeKind::RateLimit, ProbeKind::Xpub];

impl ProbeKind {
    /// The probe's name.
    pub fn name(self) -> &'static str {
        match self {
            ProbeKind::AddressFormats => address_formats::AddressFormats.name(),
            ProbeKind::Timing => timing::Timing.name(),
            ProbeKind::RateLimit => rate_limit::RateLimit.name(),
            ProbeKind::Xpub => xpub::XpubProbe.name(),
            ProbeKind::Malformed => malformed::Malformed.name(),
        }
    }

    /// The probe's worst-case cost.
    pub fn cost(self, level: ProbeLevel) -> ProbeCost {
        match self {
            ProbeKind::AddressFormats => address_formats::AddressFormats.cost(level),
            ProbeKind::Timing => timing::Timing.cost(level),
            ProbeKind::RateLimit => rate_limit::RateLimit.cost(level),
            ProbeKind::Xpub => xpub::XpubProbe.cost(level),
            ProbeKind::Malformed => malformed::Malformed.cost(level),
        }
    }

    /// The probe's time cap.
    pub fn time_cap(self) -> Duration {
        match self {
            ProbeKind::AddressFormats => address_formats::AddressFormats.time_cap(),
            ProbeKind::Timing => timing::Timing.time_cap(),
            ProbeKind::RateLimit => rate_limit::RateLimit.time_cap(),
            ProbeKind::Xpub => xpub::XpubProbe.time_cap(),
            ProbeKind::Malformed => malformed::Malformed.time_cap(),
        }
    }

    async fn run<R: Rpc, O: Opener>(self, rpc: &mut Counted<'_, R>, opener: &O, ctx: &ProbeContext, plan: Plan) -> ProbeOutcome {
        match self {
            ProbeKind::AddressFormats => address_formats::AddressFormats.run(rpc, opener, ctx, plan).await,
            ProbeKind::Timing => timing::Timing.run(rpc, opener, ctx, plan).await,
            ProbeKind::RateLimit => rate_limit::RateLimit.run(rpc, opener, ctx, plan).await,
            ProbeKind::Xpub => xpub::XpubProbe.run(rpc, opener, ctx, plan).await,
            ProbeKind::Malformed => malformed::Malformed.run(rpc, opener, ctx, plan).await,
        }
    }
}

/// Total worst-case cost of the registry at `level`.
pub fn total_cost(level: ProbeLevel) -> ProbeCost {
    REGISTRY.iter().fold(ProbeCost { requests: 0, electrumx_units: 0.0 }, |acc, k| {
        let c = k.cost(level);
        ProbeCost { requests: acc.requests + c.requests, electrumx_units: acc.electrumx_units + c.electrumx_units }
    })
}

/// Runs every registered probe in order at the standard level and returns their results.
pub async fn run_all<R: Rpc, O: Opener>(rpc: &mut R, opener: &O, ctx: &ProbeContext) -> Vec<ProbeResult> {
    run_all_at(rpc, opener, ctx, ProbeLevel::Standard).await
}

/// Runs every registered probe in order at `level` within [`PROBE_TIME_BUDGET`].
pub async fn run_all_at<R: Rpc, O: Opener>(rpc: &mut R, opener: &O, ctx: &ProbeContext, level: ProbeLevel) -> Vec<ProbeResult> {
    let end = Instant::now() + PROBE_TIME_BUDGET;
    let mut results = Vec::with_capacity(REGISTRY.len());
    for kind in REGISTRY {
        let started_ms = now_ms();
        let clock = Instant::now();
        let cost = kind.cost(level);
        let plan = Plan { level, deadline: (clock + kind.time_cap()).min(end) };
        let mut counted = Counted::new(rpc);
        let skip = if counted.budget_left() < cost.requests {
            Some(format!("request budget: {} left, probe needs {}", counted.budget_left(), cost.requests))
        } else if plan.expired() {
            Some("probe time budget exhausted".to_string())
        } else {
            None
        };
        let outcome = match skip {
            Some(why) => ProbeOutcome { status: Status::Skipped, error: Some(why), detail: ProbeDetail::None, side_requests: 0 },
            None => kind.run(&mut counted, opener, ctx, plan).await,
        };
        tracing::debug!(probe = kind.name(), status = outcome.status.as_str(), "probe finished");
        results.push(ProbeResult {
            name: kind.name().to_string(),
            status: outcome.status,
            error: outcome.error,
            started_ms,
            duration_ms: clock.elapsed().as_secs_f64() * 1000.0,
            requests_sent: counted.sent().saturating_add(outcome.side_requests),
            detail: outcome.detail,
        });
    }
    results
}

/// Tallies of what became of a probe's requests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Replies (results or errors): the server spoke.
    pub replies: u32,
    /// Requests that timed out.
    pub timeouts: u32,
    /// Requests that found the connection closed.
    pub closed: u32,
    /// Requests not sent for lack of budget.
    pub over_budget: u32,
}

impl Tally {
    /// Counts one call outcome.
    pub fn add(&mut self, o: &crate::rpc::CallOutcome) {
        use crate::rpc::CallOutcome as C;
        match o {
            C::Result { .. } | C::Error { .. } => self.replies += 1,
            C::Timeout => self.timeouts += 1,
            C::Closed { .. } => self.closed += 1,
            C::OverBudget => self.over_budget += 1,
        }
    }
}

/// The one classification of a probe's end state. Server errors are data, so a probe
/// whose requests were answered (with results or errors) is a success.
pub fn status_of(t: Tally) -> (Status, Option<String>) {
    let total = t.replies + t.timeouts + t.closed + t.over_budget;
    if t.closed > 0 {
        return (Status::ClosedByPeer, Some(format!("connection closed; {} of {total} requests answered", t.replies)));
    }
    if t.replies == 0 && t.timeouts > 0 {
        return (Status::IoTimeout, Some(format!("no answer to {} requests", t.timeouts)));
    }
    if t.replies == 0 && t.over_budget > 0 {
        return (Status::Skipped, Some("request budget exhausted".into()));
    }
    if t.timeouts > 0 || t.over_budget > 0 {
        return (
            Status::Success,
            Some(format!("{} timeouts, {} not sent for budget, of {total}", t.timeouts, t.over_budget)),
        );
    }
    (Status::Success, None)
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use observatory_model::raw::Transport;
    use serde_json::{json, Value};

    use super::fake::{err, line, ok, FakeOpener, FakeRpc, Script};
    use super::*;
    use crate::rpc::{CallOutcome, RawOutcome};

    /// A well-behaved server: answers everything, errors on unknown methods.
    struct Polite;
    impl Script for Polite {
        fn call(&self, method: &str, _params: &Value) -> CallOutcome {
            match method {
                "blockchain.scripthash.get_balance" => ok(json!({"confirmed": 0, "unconfirmed": 0})),
                "blockchain.headers.subscribe" => ok(json!({"height": 5, "hex": "00"})),
                "server.ping" => ok(Value::Null),
                m if m.starts_with("blockchain.scripthash.") => ok(json!([])),
                _ => err(-32601, "unknown method"),
            }
        }
        fn raw(&self, _line: &str, _v: bool) -> (Vec<RawOutcome>, bool) {
            (vec![line(r#"{"jsonrpc":"2.0","error":{"code":1,"message":"no"},"id":1}"#)], false)
        }
    }

    pub(crate) fn ctx() -> ProbeContext {
        ProbeContext {
            endpoint: Endpoint { host: "127.0.0.1".into(), port: 50001, transport: Transport::Tcp },
            protocol: Some("1.4".into()),
        }
    }

    pub(crate) fn plan(level: ProbeLevel) -> Plan {
        Plan { level, deadline: Instant::now() + Duration::from_secs(30) }
    }

    #[test]
    fn standard_set_is_well_below_the_electrumx_soft_limit() {
        let c = total_cost(ProbeLevel::Standard);
        for k in REGISTRY {
            println!("{:<16} {:?} {:?}", k.name(), k.cost(ProbeLevel::Standard), k.cost(ProbeLevel::Full));
        }
        println!("total standard {c:?}, full {:?}", total_cost(ProbeLevel::Full));
        assert!(c.electrumx_units <= STANDARD_COST_CEILING, "{c:?}");
        // Room left in the per-endpoint request budget for the metadata requests.
        assert!(c.requests + 20 <= crate::limits::REQUEST_BUDGET, "{c:?}");
        const { assert!(STANDARD_COST_CEILING <= ELECTRUMX_COST_SOFT_LIMIT / 2.0) };
        assert!(total_cost(ProbeLevel::Full).electrumx_units > c.electrumx_units);
    }

    #[test]
    fn time_caps_fit_the_budget_for_the_first_probes() {
        let first_two: Duration = REGISTRY.iter().take(2).map(|k| k.time_cap()).sum();
        assert!(first_two <= PROBE_TIME_BUDGET);
    }

    #[test]
    fn status_classification() {
        assert_eq!(status_of(Tally { replies: 3, ..Tally::default() }).0, Status::Success);
        assert_eq!(status_of(Tally { replies: 1, closed: 1, ..Tally::default() }).0, Status::ClosedByPeer);
        assert_eq!(status_of(Tally { timeouts: 2, ..Tally::default() }).0, Status::IoTimeout);
        assert_eq!(status_of(Tally { over_budget: 2, ..Tally::default() }).0, Status::Skipped);
        assert_eq!(status_of(Tally::default()), (Status::Success, None));
    }

    #[tokio::test]
    async fn run_all_runs_the_registry_and_counts_requests() {
        let script: Arc<dyn Script> = Arc::new(Polite);
        let mut rpc = FakeRpc::new(script.clone(), 1000);
        let opener = FakeOpener::new(script);
        let results = run_all(&mut rpc, &opener, &ctx()).await;
        let names: Vec<&str> = results.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["malformed", "address-formats", "timing", "rate-limit", "xpub"]);
        let used = 1000 - rpc.budget_left();
        let counted: u32 = results.iter().map(|r| r.requests_sent).sum();
        let side: u32 = *opener.opened.lock().unwrap() * 2;
        assert!(counted >= used && counted <= used + side, "counted {counted}, used {used}");
        for r in &results {
            assert!(r.requests_sent <= REGISTRY.iter().find(|k| k.name() == r.name).unwrap().cost(ProbeLevel::Standard).requests);
        }
    }

    #[tokio::test]
    async fn over_budget_probes_are_skipped_not_sent() {
        let script: Arc<dyn Script> = Arc::new(Polite);
        let mut rpc = FakeRpc::new(script.clone(), 5);
        let results = run_all(&mut rpc, &FakeOpener::new(script), &ctx()).await;
        assert!(results.iter().all(|r| r.status == Status::Skipped));
        assert_eq!(rpc.budget_left(), 5);
    }
}
