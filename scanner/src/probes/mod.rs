//! Behavioral probes (issue 3): one module per probe behind one trait.
//!
//! Integration contract with the session (kept stable while both are built):
//! the session calls [`run_all_at`] after the metadata requests, on the same
//! connection (`server.version` already negotiated), passing an [`Opener`]
//! that can open a fresh connection to the same endpoint *without* sending
//! `server.version` (for the before-version and unsupported-protocol cases).
//!
//! One connection at a time: the probes that talk on the main session run
//! first; then [`run_all_at`] closes the main session, and only then do the
//! probes that need side connections ([`Channel::SideConnections`]) open them,
//! one after the other. The endpoint never sees two connections from us at once.
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
//! its own [`Probe::time_cap`]; the side-connection probes' caps are kept back
//! from the main-session probes, so the fingerprint cases get the same time
//! whatever the main session took. Independent requests are pipelined; truly
//! sequential probes on slow servers (Tor, or ElectrumX 2.x, whose padding
//! transport holds small replies up to one second) stop early, record what they
//! saw and say so (`cut_by_time_cap`, samples planned and taken); the behavior
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

/// Where a probe talks to the endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// On the main session (`server.version` negotiated), while it is open.
    MainSession,
    /// On its own side connections from the [`Opener`], opened one at a time after the main
    /// session was closed.
    SideConnections,
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

/// How much of its plan a probe carried out (see `ProbeResult::samples_planned` for what one
/// sample is per probe).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Coverage {
    /// Samples planned at the probe's level.
    pub planned: u32,
    /// Samples sent.
    pub taken: u32,
    /// The plan's deadline (time cap or probe time budget) stopped the probe before every
    /// planned sample was taken.
    pub cut_by_time_cap: bool,
}

impl Coverage {
    /// `taken` of `planned`, cut by time when `time_ran_out` and something was left.
    pub fn new(planned: u32, taken: u32, time_ran_out: bool) -> Self {
        Coverage {
            planned,
            taken,
            cut_by_time_cap: time_ran_out && taken < planned,
        }
    }
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
    /// How much of the plan was carried out.
    pub coverage: Coverage,
}

/// One behavioral probe.
pub trait Probe: Sync {
    /// Module name as it appears in results (`address-formats`, …).
    fn name(&self) -> &'static str;
    /// Worst-case cost at `level`.
    fn cost(&self, level: ProbeLevel) -> ProbeCost;
    /// Samples planned at `level` (what `Coverage::planned` reports).
    fn samples(&self, level: ProbeLevel) -> u32;
    /// Where it talks (main-session probes run first, side-connection probes after the close).
    fn channel(&self) -> Channel {
        Channel::MainSession
    }
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

/// The registered probes, in record order: the fingerprint probes first, then the timing probes,
/// and the xpub batch last, because some servers (mempool/electrs) answer a batch by
/// disconnecting. They *run* in this order within each [`Channel`]: the main-session probes,
/// then (after the main session is closed) `malformed`, on its own side connections, so
/// nothing it sends can end the main session and no two connections are ever open at once.
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

/// Every probe, in record order.
pub const REGISTRY: [ProbeKind; 5] = [
    ProbeKind::Malformed,
    ProbeKind::AddressFormats,
    ProbeKind::Timing,
    ProbeKind::RateLimit,
    ProbeKind::Xpub,
];

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

    /// Samples the probe plans at `level`.
    pub fn samples(self, level: ProbeLevel) -> u32 {
        match self {
            ProbeKind::AddressFormats => address_formats::AddressFormats.samples(level),
            ProbeKind::Timing => timing::Timing.samples(level),
            ProbeKind::RateLimit => rate_limit::RateLimit.samples(level),
            ProbeKind::Xpub => xpub::XpubProbe.samples(level),
            ProbeKind::Malformed => malformed::Malformed.samples(level),
        }
    }

    /// Where the probe talks.
    pub fn channel(self) -> Channel {
        match self {
            ProbeKind::AddressFormats => address_formats::AddressFormats.channel(),
            ProbeKind::Timing => timing::Timing.channel(),
            ProbeKind::RateLimit => rate_limit::RateLimit.channel(),
            ProbeKind::Xpub => xpub::XpubProbe.channel(),
            ProbeKind::Malformed => malformed::Malformed.channel(),
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

    async fn run<R: Rpc, O: Opener>(
        self,
        rpc: &mut Counted<'_, R>,
        opener: &O,
        ctx: &ProbeContext,
        plan: Plan,
    ) -> ProbeOutcome {
        match self {
            ProbeKind::AddressFormats => {
                address_formats::AddressFormats
                    .run(rpc, opener, ctx, plan)
                    .await
            }
            ProbeKind::Timing => timing::Timing.run(rpc, opener, ctx, plan).await,
            ProbeKind::RateLimit => rate_limit::RateLimit.run(rpc, opener, ctx, plan).await,
            ProbeKind::Xpub => xpub::XpubProbe.run(rpc, opener, ctx, plan).await,
            ProbeKind::Malformed => malformed::Malformed.run(rpc, opener, ctx, plan).await,
        }
    }
}

/// Total worst-case cost of the registry at `level`.
pub fn total_cost(level: ProbeLevel) -> ProbeCost {
    REGISTRY.iter().fold(
        ProbeCost {
            requests: 0,
            electrumx_units: 0.0,
        },
        |acc, k| {
            let c = k.cost(level);
            ProbeCost {
                requests: acc.requests + c.requests,
                electrumx_units: acc.electrumx_units + c.electrumx_units,
            }
        },
    )
}

/// Runs every registered probe at the standard level and returns their results.
pub async fn run_all<R: Rpc, O: Opener>(
    rpc: &mut R,
    opener: &O,
    ctx: &ProbeContext,
) -> Vec<ProbeResult> {
    run_all_at(rpc, opener, ctx, ProbeLevel::Standard).await
}

/// Runs every registered probe at `level` within [`PROBE_TIME_BUDGET`]: first those on the main
/// session `rpc`, then it closes `rpc`, then those on side connections, one connection at a
/// time. Results come back in [`REGISTRY`] order.
pub async fn run_all_at<R: Rpc, O: Opener>(
    rpc: &mut R,
    opener: &O,
    ctx: &ProbeContext,
    level: ProbeLevel,
) -> Vec<ProbeResult> {
    let end = Instant::now() + PROBE_TIME_BUDGET;
    // The side-connection probes keep their whole time caps, whatever the main session took.
    let side_reserve: Duration = REGISTRY
        .iter()
        .filter(|k| k.channel() == Channel::SideConnections)
        .map(|k| k.time_cap())
        .sum();
    let main_end = end.checked_sub(side_reserve).unwrap_or(end);
    let mut results: Vec<Option<ProbeResult>> = REGISTRY.iter().map(|_| None).collect();
    for channel in [Channel::MainSession, Channel::SideConnections] {
        if channel == Channel::SideConnections {
            rpc.close().await;
        }
        let phase_end = if channel == Channel::MainSession {
            main_end
        } else {
            end
        };
        for (slot, kind) in results
            .iter_mut()
            .zip(REGISTRY)
            .filter(|(_, k)| k.channel() == channel)
        {
            *slot = Some(run_one(kind, rpc, opener, ctx, level, phase_end).await);
        }
    }
    results.into_iter().flatten().collect()
}

/// Runs one probe (or records why it was skipped) with its deadline at its cap or `end`.
async fn run_one<R: Rpc, O: Opener>(
    kind: ProbeKind,
    rpc: &mut R,
    opener: &O,
    ctx: &ProbeContext,
    level: ProbeLevel,
    end: Instant,
) -> ProbeResult {
    let started_ms = now_ms();
    let clock = Instant::now();
    let cost = kind.cost(level);
    let plan = Plan {
        level,
        deadline: (clock + kind.time_cap()).min(end),
    };
    let mut counted = Counted::new(rpc);
    let skip = if counted.budget_left() < cost.requests {
        Some((
            format!(
                "request budget: {} left, probe needs {}",
                counted.budget_left(),
                cost.requests
            ),
            false,
        ))
    } else if plan.expired() {
        Some(("probe time budget exhausted".to_string(), true))
    } else {
        None
    };
    let outcome = match skip {
        Some((why, time)) => ProbeOutcome {
            status: Status::Skipped,
            error: Some(why),
            detail: ProbeDetail::None,
            side_requests: 0,
            coverage: Coverage::new(kind.samples(level), 0, time),
        },
        None => kind.run(&mut counted, opener, ctx, plan).await,
    };
    tracing::debug!(
        probe = kind.name(),
        status = outcome.status.as_str(),
        cut = outcome.coverage.cut_by_time_cap,
        "probe finished"
    );
    ProbeResult {
        name: kind.name().to_string(),
        status: outcome.status,
        error: outcome.error,
        started_ms,
        duration_ms: clock.elapsed().as_secs_f64() * 1000.0,
        requests_sent: counted.sent().saturating_add(outcome.side_requests),
        detail: outcome.detail,
        cut_by_time_cap: outcome.coverage.cut_by_time_cap,
        samples_planned: outcome.coverage.planned,
        samples_taken: outcome.coverage.taken,
    }
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
        return (
            Status::ClosedByPeer,
            Some(format!(
                "connection closed; {} of {total} requests answered",
                t.replies
            )),
        );
    }
    if t.replies == 0 && t.timeouts > 0 {
        return (
            Status::IoTimeout,
            Some(format!("no answer to {} requests", t.timeouts)),
        );
    }
    if t.replies == 0 && t.over_budget > 0 {
        return (Status::Skipped, Some("request budget exhausted".into()));
    }
    if t.timeouts > 0 || t.over_budget > 0 {
        return (
            Status::Success,
            Some(format!(
                "{} timeouts, {} not sent for budget, of {total}",
                t.timeouts, t.over_budget
            )),
        );
    }
    (Status::Success, None)
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
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
                "blockchain.scripthash.get_balance" => {
                    ok(json!({"confirmed": 0, "unconfirmed": 0}))
                }
                "blockchain.headers.subscribe" => ok(json!({"height": 5, "hex": "00"})),
                "server.ping" => ok(Value::Null),
                m if m.starts_with("blockchain.scripthash.") => ok(json!([])),
                _ => err(-32601, "unknown method"),
            }
        }
        fn raw(&self, l: &str, _v: bool) -> (Vec<RawOutcome>, bool) {
            if l.contains("server.version") {
                return (
                    vec![line(
                        r#"{"jsonrpc":"2.0","result":["Polite 1.0","1.4"],"id":900000}"#,
                    )],
                    false,
                );
            }
            (
                vec![line(
                    r#"{"jsonrpc":"2.0","error":{"code":1,"message":"no"},"id":1}"#,
                )],
                false,
            )
        }
    }

    pub(crate) fn ctx() -> ProbeContext {
        ProbeContext {
            endpoint: Endpoint {
                host: "127.0.0.1".into(),
                port: 50001,
                transport: Transport::Tcp,
            },
            protocol: Some("1.4".into()),
        }
    }

    pub(crate) fn plan(level: ProbeLevel) -> Plan {
        Plan {
            level,
            deadline: Instant::now() + Duration::from_secs(30),
        }
    }

    #[test]
    fn standard_set_is_well_below_the_electrumx_soft_limit() {
        let c = total_cost(ProbeLevel::Standard);
        for k in REGISTRY {
            println!(
                "{:<16} {:?} {:?}",
                k.name(),
                k.cost(ProbeLevel::Standard),
                k.cost(ProbeLevel::Full)
            );
        }
        println!(
            "total standard {c:?}, full {:?}",
            total_cost(ProbeLevel::Full)
        );
        assert!(c.electrumx_units <= STANDARD_COST_CEILING, "{c:?}");
        // Room left in the per-endpoint request budget for the metadata requests.
        assert!(c.requests + 20 <= crate::limits::REQUEST_BUDGET, "{c:?}");
        const { assert!(STANDARD_COST_CEILING <= ELECTRUMX_COST_SOFT_LIMIT / 2.0) };
        assert!(total_cost(ProbeLevel::Full).electrumx_units > c.electrumx_units);
    }

    #[test]
    fn time_caps_fit_the_budget_for_the_fingerprint_probes() {
        // The side-connection probes keep their caps; the first main-session probe (the other
        // fingerprint probe) must still fit its whole cap in what is left.
        let side: Duration = REGISTRY
            .iter()
            .filter(|k| k.channel() == Channel::SideConnections)
            .map(|k| k.time_cap())
            .sum();
        let first_main = REGISTRY
            .iter()
            .find(|k| k.channel() == Channel::MainSession)
            .map(|k| k.time_cap())
            .unwrap();
        assert!(side + first_main <= PROBE_TIME_BUDGET);
    }

    #[test]
    fn status_classification() {
        assert_eq!(
            status_of(Tally {
                replies: 3,
                ..Tally::default()
            })
            .0,
            Status::Success
        );
        assert_eq!(
            status_of(Tally {
                replies: 1,
                closed: 1,
                ..Tally::default()
            })
            .0,
            Status::ClosedByPeer
        );
        assert_eq!(
            status_of(Tally {
                timeouts: 2,
                ..Tally::default()
            })
            .0,
            Status::IoTimeout
        );
        assert_eq!(
            status_of(Tally {
                over_budget: 2,
                ..Tally::default()
            })
            .0,
            Status::Skipped
        );
        assert_eq!(status_of(Tally::default()), (Status::Success, None));
    }

    #[tokio::test]
    async fn run_all_runs_the_registry_and_counts_requests() {
        let script: Arc<dyn Script> = Arc::new(Polite);
        let mut rpc = FakeRpc::new(script.clone(), 1000);
        let opener = FakeOpener::new(script);
        let results = run_all(&mut rpc, &opener, &ctx()).await;
        let names: Vec<&str> = results.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "malformed",
                "address-formats",
                "timing",
                "rate-limit",
                "xpub"
            ]
        );
        // The main session's budget pays for the main-session probes' requests exactly; the
        // side connections' requests are counted by the probe that sent them.
        let used = 1000 - rpc.budget_left();
        let on_main: u32 = results
            .iter()
            .filter(|r| r.name != "malformed")
            .map(|r| r.requests_sent)
            .sum();
        assert_eq!(on_main, used);
        let side: u32 = results
            .iter()
            .filter(|r| r.name == "malformed")
            .map(|r| r.requests_sent)
            .sum();
        assert!(
            side >= *opener.opened.lock().unwrap(),
            "at least one line per side connection"
        );
        for r in &results {
            assert!(
                r.requests_sent
                    <= REGISTRY
                        .iter()
                        .find(|k| k.name() == r.name)
                        .unwrap()
                        .cost(ProbeLevel::Standard)
                        .requests
            );
        }
    }

    #[tokio::test]
    async fn the_main_session_is_closed_before_any_side_connection_opens() {
        use super::fake::OpenConnections;
        let script: Arc<dyn Script> = Arc::new(Polite);
        let open = Arc::new(OpenConnections::default());
        let mut rpc = FakeRpc::counted(script.clone(), 1000, open.clone());
        let opener = FakeOpener::counting(script, open.clone());
        let results = run_all_at(&mut rpc, &opener, &ctx(), ProbeLevel::Full).await;
        assert!(
            *opener.opened.lock().unwrap() >= 4,
            "side connections were opened"
        );
        assert_eq!(
            open.max(),
            1,
            "the main session and a side connection were open at once"
        );
        assert_eq!(open.now(), 0, "every connection was closed");
        assert!(rpc.is_closed());
        // Still recorded in registry order, with what each planned and took.
        let names: Vec<&str> = results.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, REGISTRY.map(ProbeKind::name));
        for (r, k) in results.iter().zip(REGISTRY) {
            assert_eq!(r.samples_planned, k.samples(ProbeLevel::Full), "{}", r.name);
            assert_eq!(
                (r.samples_taken, r.cut_by_time_cap),
                (r.samples_planned, false),
                "{}",
                r.name
            );
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
