//! `rate-limit`: a bounded burst of `server.ping` and a paced run; throttling facts.
//!
//! The burst sends [`BURST`] pings back to back (each as soon as the previous
//! answer arrived: the session has one request in flight), then [`PACED`] pings
//! [`PACED_INTERVAL_MS`] apart. It records both RTT distributions, the burst
//! RTT slope, errors that signal throttling (aiorpcx `-101` excessive resource
//! usage and `-102` server busy, codes 3/4, or messages about limits) and the
//! request after which the server disconnected. On ElectrumX the whole probe
//! costs about 5 session cost units.

use std::time::Duration;

use observatory_model::probes::{ProbeDetail, RateLimitDetail};
use observatory_model::raw::RpcError;
use serde_json::json;

use super::observe::{bounded_error, Counted};
use super::stats::{slope, summarize};
use super::timing::UNITS_PING;
use super::{status_of, Opener, Plan, Probe, ProbeContext, ProbeCost, ProbeLevel, ProbeOutcome, Tally};
use crate::rpc::{CallOutcome, Rpc};

/// Pings sent back to back.
pub const BURST: u32 = 30;
/// Pings sent paced.
pub const PACED: u32 = 5;
/// Pause between paced pings, milliseconds.
pub const PACED_INTERVAL_MS: u32 = 250;
/// Error codes that signal throttling: aiorpcx EXCESSIVE_RESOURCE_USAGE and SERVER_BUSY, and the
/// small application codes some servers use for limits.
pub const THROTTLE_CODES: [i64; 4] = [-101, -102, 3, 4];
/// Lower-case message fragments that signal throttling.
pub const THROTTLE_WORDS: [&str; 5] = ["limit", "excessive", "busy", "too many", "throttl"];
/// Throttle errors kept.
pub const MAX_THROTTLE_ERRORS: usize = 5;
/// Latency rise over the burst (slope × burst length) counted as "rising": at least this many ms …
pub const RISE_MIN_MS: f64 = 20.0;

/// The probe.
#[derive(Debug, Clone, Copy)]
pub struct RateLimit;

/// True when an error object looks like throttling.
pub fn is_throttle(e: &RpcError) -> bool {
    let m = e.message.to_ascii_lowercase();
    e.code.is_some_and(|c| THROTTLE_CODES.contains(&c)) || THROTTLE_WORDS.iter().any(|w| m.contains(w))
}

impl Probe for RateLimit {
    fn name(&self) -> &'static str {
        "rate-limit"
    }

    fn cost(&self, _level: ProbeLevel) -> ProbeCost {
        ProbeCost { requests: BURST + PACED, electrumx_units: f64::from(BURST + PACED) * UNITS_PING }
    }

    fn time_cap(&self) -> Duration {
        Duration::from_secs(7)
    }

    async fn run<R: Rpc, O: Opener>(
        &self,
        rpc: &mut Counted<'_, R>,
        _opener: &O,
        _ctx: &ProbeContext,
        plan: Plan,
    ) -> ProbeOutcome {
        let mut tally = Tally::default();
        let mut detail = RateLimitDetail { paced_interval_ms: PACED_INTERVAL_MS, ..Default::default() };
        let mut burst = Vec::new();
        let mut paced = Vec::new();
        let mut index = 0u32;
        for i in 0..BURST + PACED {
            if rpc.is_closed() || plan.expired() {
                break;
            }
            if i >= BURST {
                tokio::time::sleep(Duration::from_millis(u64::from(PACED_INTERVAL_MS))).await;
            }
            let out = rpc.call("server.ping", json!([])).await;
            tally.add(&out);
            index += 1;
            match &out {
                CallOutcome::Error { error, .. } if is_throttle(error) && detail.throttle_errors.len() < MAX_THROTTLE_ERRORS => {
                    detail.throttle_errors.push(bounded_error(error));
                }
                CallOutcome::Closed { .. } if detail.disconnected_after.is_none() => {
                    detail.disconnected_after = Some(index.saturating_sub(1));
                }
                _ => {}
            }
            if let Some(rtt) = out.rtt_ms() {
                if i < BURST { burst.push(rtt) } else { paced.push(rtt) }
            }
        }
        // Sizes as sent (fewer than planned when the time cap or a close cut the run).
        detail.burst_size = index.min(BURST);
        detail.paced_size = index.saturating_sub(BURST);
        detail.burst = summarize(&burst);
        detail.paced = summarize(&paced);
        detail.burst_slope_ms = slope(&burst);
        let rise = detail.burst_slope_ms.unwrap_or(0.0) * burst.len() as f64;
        let rising = rise > RISE_MIN_MS.max(detail.burst.median_ms);
        detail.throttling_observed = rising || !detail.throttle_errors.is_empty() || detail.disconnected_after.is_some();
        let (status, error) = status_of(tally);
        ProbeOutcome { status, error, detail: ProbeDetail::RateLimit(detail), side_requests: 0 }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    use serde_json::Value;

    use super::*;
    use crate::probes::fake::{err, ok, FakeOpener, FakeRpc, Script};
    use crate::rpc::RawOutcome;

    /// Answers the first `allow` pings, then says "excessive resource usage" and disconnects.
    struct Throttler {
        allow: u32,
        seen: AtomicU32,
    }
    impl Script for Throttler {
        fn call(&self, _: &str, _: &Value) -> CallOutcome {
            let n = self.seen.fetch_add(1, Ordering::SeqCst);
            if n < self.allow {
                ok(Value::Null)
            } else if n == self.allow {
                err(-101, "excessive resource usage")
            } else {
                CallOutcome::Closed { reason: "eof".into() }
            }
        }
        fn raw(&self, _: &str, _: bool) -> (Vec<RawOutcome>, bool) {
            (vec![RawOutcome::Silence], false)
        }
    }

    #[tokio::test]
    async fn detects_throttle_error_and_disconnect() {
        let script: Arc<dyn Script> = Arc::new(Throttler { allow: 10, seen: AtomicU32::new(0) });
        let mut rpc = FakeRpc::new(script.clone(), 100);
        let mut c = Counted::new(&mut rpc);
        let out = RateLimit.run(&mut c, &FakeOpener::new(script), &crate::probes::tests::ctx(), crate::probes::tests::plan(ProbeLevel::Standard)).await;
        let ProbeDetail::RateLimit(d) = out.detail else { panic!() };
        assert_eq!(d.throttle_errors.len(), 1);
        assert_eq!(d.disconnected_after, Some(11));
        assert!(d.throttling_observed);
        assert_eq!(d.burst.n, 11);
        assert_eq!(c.sent(), 12);
    }

    #[test]
    fn throttle_classification() {
        assert!(is_throttle(&RpcError { code: Some(-102), message: "server busy - request timed out".into() }));
        assert!(is_throttle(&RpcError { code: Some(1), message: "Subscription limit reached".into() }));
        assert!(!is_throttle(&RpcError { code: Some(-32601), message: "unknown method".into() }));
    }
}
