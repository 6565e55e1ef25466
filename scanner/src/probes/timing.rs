//! `timing`: repeated `server.ping` and `blockchain.headers.subscribe` round trips.
//!
//! Sequential requests, each sent when the previous answer arrived, summarized
//! by [`super::stats::summarize`] (median, MAD, p95, CV). `server.ping` measures
//! the transport plus the server's dispatch; `headers.subscribe` adds a cheap
//! read of the chain tip. Timing is recorded, never interpreted here.

use std::time::Duration;

use observatory_model::probes::{ProbeDetail, TimingDetail};
use serde_json::json;

use super::observe::Counted;
use super::stats::summarize;
use super::{status_of, Opener, Plan, Probe, ProbeContext, ProbeCost, ProbeLevel, ProbeOutcome, Tally};
use crate::rpc::Rpc;

/// `server.ping` samples.
pub const PINGS: u32 = 10;
/// `blockchain.headers.subscribe` samples.
pub const HEADERS: u32 = 4;
/// ElectrumX cost of one `server.ping` (`bump_cost(0.1)`).
pub(crate) const UNITS_PING: f64 = 0.1;
/// ElectrumX cost of one `blockchain.headers.subscribe` (`bump_cost(0.25)`).
const UNITS_HEADERS: f64 = 0.25;

/// The probe.
#[derive(Debug, Clone, Copy)]
pub struct Timing;

impl Probe for Timing {
    fn name(&self) -> &'static str {
        "timing"
    }

    fn cost(&self, _level: ProbeLevel) -> ProbeCost {
        ProbeCost { requests: PINGS + HEADERS, electrumx_units: f64::from(PINGS) * UNITS_PING + f64::from(HEADERS) * UNITS_HEADERS }
    }

    fn time_cap(&self) -> Duration {
        Duration::from_secs(5)
    }

    async fn run<R: Rpc, O: Opener>(
        &self,
        rpc: &mut Counted<'_, R>,
        _opener: &O,
        _ctx: &ProbeContext,
        plan: Plan,
    ) -> ProbeOutcome {
        let mut tally = Tally::default();
        let mut ping_samples = Vec::new();
        let mut header_samples = Vec::new();
        // Interleaved, so that a probe cut by its time cap still has samples of both.
        for i in 0..PINGS.max(HEADERS) {
            if rpc.is_closed() || plan.expired() {
                break;
            }
            if i < PINGS {
                let out = rpc.call("server.ping", json!([])).await;
                tally.add(&out);
                ping_samples.extend(out.rtt_ms());
            }
            if i >= HEADERS || rpc.is_closed() {
                continue;
            }
            let out = rpc.call("blockchain.headers.subscribe", json!([])).await;
            tally.add(&out);
            header_samples.extend(out.rtt_ms());
        }
        let (status, error) = status_of(tally);
        let detail = TimingDetail { ping: summarize(&ping_samples), headers: summarize(&header_samples), ping_samples };
        ProbeOutcome { status, error, detail: ProbeDetail::Timing(detail), side_requests: 0 }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::Value;

    use super::*;
    use crate::probes::fake::{ok, FakeOpener, FakeRpc, Script};
    use crate::rpc::{CallOutcome, RawOutcome};

    /// Answers pings; answers or hangs up on `headers.subscribe`.
    struct Echo {
        hang_up_on_headers: bool,
    }
    impl Script for Echo {
        fn call(&self, method: &str, _: &Value) -> CallOutcome {
            match method {
                "server.ping" => ok(Value::Null),
                _ if self.hang_up_on_headers => CallOutcome::Closed { reason: "bye".into() },
                _ => ok(serde_json::json!({"height": 1, "hex": "00"})),
            }
        }
        fn raw(&self, _: &str, _: bool) -> (Vec<RawOutcome>, bool) {
            (vec![RawOutcome::Silence], false)
        }
    }

    async fn run(hang_up_on_headers: bool) -> ProbeOutcome {
        let script: Arc<dyn Script> = Arc::new(Echo { hang_up_on_headers });
        let mut rpc = FakeRpc::new(script.clone(), 100);
        let mut c = Counted::new(&mut rpc);
        let plan = crate::probes::tests::plan(ProbeLevel::Standard);
        Timing.run(&mut c, &FakeOpener::new(script), &crate::probes::tests::ctx(), plan).await
    }

    #[tokio::test]
    async fn summarizes_pings_and_headers() {
        let out = run(false).await;
        let ProbeDetail::Timing(d) = out.detail else { panic!() };
        assert_eq!((d.ping.n, d.headers.n), (PINGS, HEADERS));
        assert_eq!(d.ping_samples.len(), PINGS as usize);
        assert_eq!(out.status, observatory_model::raw::Status::Success);
    }

    #[tokio::test]
    async fn reports_a_close() {
        let out = run(true).await;
        let ProbeDetail::Timing(d) = out.detail else { panic!() };
        assert_eq!((d.ping.n, d.headers.n), (1, 0));
        assert_eq!(out.status, observatory_model::raw::Status::ClosedByPeer);
    }

    #[tokio::test]
    async fn stops_at_its_deadline() {
        let script: Arc<dyn Script> = Arc::new(Echo { hang_up_on_headers: false });
        let mut rpc = FakeRpc::new(script.clone(), 100);
        let mut c = Counted::new(&mut rpc);
        let plan = Plan { level: ProbeLevel::Standard, deadline: std::time::Instant::now() };
        let out = Timing.run(&mut c, &FakeOpener::new(script), &crate::probes::tests::ctx(), plan).await;
        assert_eq!(c.sent(), 0);
        let ProbeDetail::Timing(d) = out.detail else { panic!() };
        assert_eq!(d.ping.n, 0);
    }
}
