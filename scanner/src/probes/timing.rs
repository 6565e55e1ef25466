//! `timing`: repeated `server.ping` and `blockchain.headers.subscribe` round trips.
//!
//! Sequential requests, each sent when the previous answer arrived, summarized
//! by [`super::stats::summarize`] (median, MAD, p95, CV). `server.ping` measures
//! the transport plus the server's dispatch; `headers.subscribe` adds a cheap
//! read of the chain tip. Timing is recorded, never interpreted here. These are
//! round trips of single requests, so they cannot be pipelined: on a server that
//! holds lone replies (ElectrumX 2.x, about a second each) the time cap ends the
//! run early, and the result says so (`cut_by_time_cap`, samples planned and taken).

use std::time::Duration;

use observatory_model::probes::{ProbeDetail, TimingDetail};
use serde_json::json;

use super::observe::Counted;
use super::stats::summarize;
use super::{
    status_of, Coverage, Opener, Plan, Probe, ProbeContext, ProbeCost, ProbeLevel, ProbeOutcome,
    Tally,
};
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

    fn samples(&self, _level: ProbeLevel) -> u32 {
        PINGS + HEADERS
    }

    fn cost(&self, level: ProbeLevel) -> ProbeCost {
        ProbeCost {
            requests: self.samples(level),
            electrumx_units: f64::from(PINGS) * UNITS_PING + f64::from(HEADERS) * UNITS_HEADERS,
        }
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
        let mut time_ran_out = false;
        // Interleaved, so that a probe cut by its time cap still has samples of both.
        for i in 0..PINGS.max(HEADERS) {
            if rpc.is_closed() {
                break;
            }
            if plan.expired() {
                time_ran_out = true;
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
        let coverage = Coverage::new(self.samples(plan.level), rpc.sent(), time_ran_out);
        let detail = TimingDetail {
            ping: summarize(&ping_samples),
            headers: summarize(&header_samples),
            ping_samples,
        };
        ProbeOutcome {
            status,
            error,
            detail: ProbeDetail::Timing(detail),
            side_requests: 0,
            coverage,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::Value;

    use super::*;
    use crate::probes::fake::{ok, out_of_time, run_probe, Script};
    use crate::rpc::{CallOutcome, RawOutcome};

    /// Answers pings; answers or hangs up on `headers.subscribe`.
    struct Echo {
        hang_up_on_headers: bool,
    }
    impl Script for Echo {
        fn call(&self, method: &str, _: &Value) -> CallOutcome {
            match method {
                "server.ping" => ok(Value::Null),
                _ if self.hang_up_on_headers => CallOutcome::Closed {
                    reason: "bye".into(),
                },
                _ => ok(serde_json::json!({"height": 1, "hex": "00"})),
            }
        }
        fn raw(&self, _: &str, _: bool) -> (Vec<RawOutcome>, bool) {
            (vec![RawOutcome::Silence], false)
        }
    }

    async fn run(hang_up_on_headers: bool) -> ProbeOutcome {
        run_probe(
            &Timing,
            Arc::new(Echo { hang_up_on_headers }),
            crate::probes::tests::plan(ProbeLevel::Standard),
        )
        .await
        .0
    }

    #[tokio::test]
    async fn summarizes_pings_and_headers() {
        let out = run(false).await;
        let ProbeDetail::Timing(d) = out.detail else {
            panic!()
        };
        assert_eq!((d.ping.n, d.headers.n), (PINGS, HEADERS));
        assert_eq!(d.ping_samples.len(), PINGS as usize);
        assert_eq!(out.status, observatory_model::raw::Status::Success);
        assert_eq!(
            out.coverage,
            Coverage {
                planned: PINGS + HEADERS,
                taken: PINGS + HEADERS,
                cut_by_time_cap: false
            }
        );
    }

    #[tokio::test]
    async fn reports_a_close() {
        let out = run(true).await;
        let ProbeDetail::Timing(d) = out.detail else {
            panic!()
        };
        assert_eq!((d.ping.n, d.headers.n), (1, 0));
        assert_eq!(out.status, observatory_model::raw::Status::ClosedByPeer);
        // Ended by the close, not by time.
        assert!(!out.coverage.cut_by_time_cap);
    }

    #[tokio::test]
    async fn stops_at_its_deadline() {
        let (out, sent) = run_probe(
            &Timing,
            Arc::new(Echo {
                hang_up_on_headers: false,
            }),
            out_of_time(ProbeLevel::Standard),
        )
        .await;
        assert_eq!(sent, 0);
        assert_eq!(
            out.coverage,
            Coverage {
                planned: PINGS + HEADERS,
                taken: 0,
                cut_by_time_cap: true
            }
        );
        let ProbeDetail::Timing(d) = out.detail else {
            panic!()
        };
        assert_eq!(d.ping.n, 0);
    }
}
