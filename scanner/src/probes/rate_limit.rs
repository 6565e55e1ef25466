//! `rate-limit`: a bounded, pipelined burst of `server.ping` and a paced run; throttling facts.
//!
//! The burst is a real burst: [`BURST`] pings are all written before any answer
//! is read (pipelined, matched by id), so the server sees them arrive together.
//! Then [`PACED`] pings go [`PACED_INTERVAL_MS`] apart, one at a time. It records
//! both RTT distributions, the burst's wall time and RTT slope, errors that
//! signal throttling (aiorpcx `-101` excessive resource usage and `-102` server
//! busy, codes 3/4, or messages about limits) and the request after which the
//! server disconnected. A pipelined burst's RTTs rise with the index by
//! queueing alone, so "spread out" is judged by the burst's wall time per
//! request against the paced median, not by the slope. On ElectrumX the whole
//! probe costs about 5 session cost units.

use std::time::Duration;

use observatory_model::probes::{ProbeDetail, RateLimitDetail};
use observatory_model::raw::RpcError;
use serde_json::json;

use super::observe::{bounded_error, Counted};
use super::stats::{slope, summarize};
use super::timing::UNITS_PING;
use super::{
    status_of, Coverage, Opener, Plan, Probe, ProbeContext, ProbeCost, ProbeLevel, ProbeOutcome,
    Tally,
};
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
/// A burst counts as spread out when its wall time per request exceeds this many ms and
/// [`SPREAD_FACTOR`] times the paced median.
pub const RISE_MIN_MS: f64 = 20.0;
/// … and this multiple of the paced median (one request alone, after the burst).
pub const SPREAD_FACTOR: f64 = 2.0;

/// The probe.
#[derive(Debug, Clone, Copy)]
pub struct RateLimit;

/// True when an error object looks like throttling.
pub fn is_throttle(e: &RpcError) -> bool {
    let m = e.message.to_ascii_lowercase();
    e.code.is_some_and(|c| THROTTLE_CODES.contains(&c))
        || THROTTLE_WORDS.iter().any(|w| m.contains(w))
}

impl Probe for RateLimit {
    fn name(&self) -> &'static str {
        "rate-limit"
    }

    fn cost(&self, level: ProbeLevel) -> ProbeCost {
        ProbeCost {
            requests: self.samples(level),
            electrumx_units: f64::from(BURST + PACED) * UNITS_PING,
        }
    }

    fn samples(&self, _level: ProbeLevel) -> u32 {
        BURST + PACED
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
        let mut detail = RateLimitDetail {
            paced_interval_ms: PACED_INTERVAL_MS,
            ..Default::default()
        };
        let mut burst = Vec::new();
        let mut paced = Vec::new();
        let mut index = 0u32;
        let mut note = |out: &CallOutcome, index: u32, detail: &mut RateLimitDetail| {
            tally.add(out);
            match out {
                CallOutcome::Error { error, .. }
                    if is_throttle(error) && detail.throttle_errors.len() < MAX_THROTTLE_ERRORS =>
                {
                    detail.throttle_errors.push(bounded_error(error));
                }
                CallOutcome::Closed { .. } if detail.disconnected_after.is_none() => {
                    detail.disconnected_after = Some(index)
                }
                _ => {}
            }
        };
        let mut time_ran_out = plan.expired();
        if !time_ran_out && !rpc.is_closed() {
            let started = std::time::Instant::now();
            let outs = rpc
                .pipeline(
                    (0..BURST)
                        .map(|_| ("server.ping".to_string(), json!([])))
                        .collect(),
                )
                .await;
            let answered = outs.iter().any(|o| o.rtt_ms().is_some());
            detail.burst_wall_ms = answered.then(|| started.elapsed().as_secs_f64() * 1000.0);
            for out in &outs {
                if !matches!(out, CallOutcome::OverBudget) {
                    note(out, index, &mut detail);
                    index += 1;
                }
                burst.extend(out.rtt_ms());
            }
        }
        detail.burst_size = index;
        for _ in 0..PACED {
            if rpc.is_closed() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(u64::from(PACED_INTERVAL_MS))).await;
            if plan.expired() {
                time_ran_out = true;
                break;
            }
            let out = rpc.call("server.ping", json!([])).await;
            if matches!(out, CallOutcome::OverBudget) {
                break;
            }
            note(&out, index, &mut detail);
            index += 1;
            paced.extend(out.rtt_ms());
        }
        detail.paced_size = index - detail.burst_size;
        detail.burst = summarize(&burst);
        detail.paced = summarize(&paced);
        detail.burst_slope_ms = slope(&burst);
        detail.throttling_observed = spread_out(&detail)
            || !detail.throttle_errors.is_empty()
            || detail.disconnected_after.is_some();
        let (status, error) = status_of(tally);
        let coverage = Coverage::new(self.samples(plan.level), index, time_ran_out);
        ProbeOutcome {
            status,
            error,
            detail: ProbeDetail::RateLimit(detail),
            side_requests: 0,
            coverage,
        }
    }
}

/// True when the burst took longer per request than [`RISE_MIN_MS`] and [`SPREAD_FACTOR`] times
/// the paced median: the server spread the burst out (a paced run is needed to judge it).
pub fn spread_out(d: &RateLimitDetail) -> bool {
    match d.burst_wall_ms {
        Some(wall) if d.paced.n > 0 && d.burst.n > 0 => {
            let per_request = wall / f64::from(d.burst.n);
            per_request > RISE_MIN_MS.max(SPREAD_FACTOR * d.paced.median_ms)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    use serde_json::Value;

    use observatory_model::probes::TimingSummary;

    use super::*;
    use crate::probes::fake::{err, ok, run_probe, Script};
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
                CallOutcome::Closed {
                    reason: "eof".into(),
                }
            }
        }
        fn raw(&self, _: &str, _: bool) -> (Vec<RawOutcome>, bool) {
            (vec![RawOutcome::Silence], false)
        }
    }

    #[tokio::test]
    async fn detects_throttle_error_and_disconnect() {
        let script: Arc<dyn Script> = Arc::new(Throttler {
            allow: 10,
            seen: AtomicU32::new(0),
        });
        let (out, sent) = run_probe(
            &RateLimit,
            script,
            crate::probes::tests::plan(ProbeLevel::Standard),
        )
        .await;
        let ProbeDetail::RateLimit(d) = out.detail else {
            panic!()
        };
        assert_eq!(d.throttle_errors.len(), 1);
        assert_eq!(d.disconnected_after, Some(11));
        assert!(d.throttling_observed);
        assert_eq!(d.burst.n, 11);
        // The burst was pipelined: all 30 were on the wire when the server hung up.
        assert_eq!((d.burst_size, d.paced_size), (BURST, 0));
        assert_eq!(sent, BURST);
    }

    /// Answers every ping at once (1 ms in the fake).
    struct Prompt;
    impl Script for Prompt {
        fn call(&self, _: &str, _: &Value) -> CallOutcome {
            ok(Value::Null)
        }
        fn raw(&self, _: &str, _: bool) -> (Vec<RawOutcome>, bool) {
            (vec![RawOutcome::Silence], false)
        }
    }

    #[tokio::test]
    async fn the_burst_is_pipelined_and_the_paced_run_follows() {
        let (out, _) = run_probe(
            &RateLimit,
            Arc::new(Prompt),
            crate::probes::tests::plan(ProbeLevel::Standard),
        )
        .await;
        let ProbeDetail::RateLimit(d) = out.detail else {
            panic!()
        };
        assert_eq!(
            (d.burst_size, d.paced_size, d.burst.n, d.paced.n),
            (BURST, PACED, BURST, PACED)
        );
        assert!(d.burst_wall_ms.is_some());
        assert!(!d.throttling_observed, "{d:?}");
        assert_eq!(
            out.coverage,
            Coverage {
                planned: BURST + PACED,
                taken: BURST + PACED,
                cut_by_time_cap: false
            }
        );
    }

    #[tokio::test]
    async fn a_cap_during_the_paced_run_is_recorded() {
        // Room for the burst and about two paced pings.
        let plan = Plan {
            level: ProbeLevel::Standard,
            deadline: std::time::Instant::now() + Duration::from_millis(600),
        };
        let (out, _) = run_probe(&RateLimit, Arc::new(Prompt), plan).await;
        let ProbeDetail::RateLimit(d) = out.detail else {
            panic!()
        };
        assert_eq!(d.burst_size, BURST);
        assert!(d.paced_size < PACED, "{d:?}");
        assert!(out.coverage.cut_by_time_cap);
        assert_eq!(out.coverage.taken, BURST + d.paced_size);
    }

    #[test]
    fn a_burst_spread_out_in_time_is_throttling_queueing_is_not() {
        let with = |wall: f64, burst_n: u32, paced_median: f64| RateLimitDetail {
            burst_wall_ms: Some(wall),
            burst: TimingSummary {
                n: burst_n,
                ..Default::default()
            },
            paced: TimingSummary {
                n: 5,
                median_ms: paced_median,
                ..Default::default()
            },
            ..Default::default()
        };
        // 30 pings answered in 15 ms (queueing) with 0.5 ms paced: fine.
        assert!(!spread_out(&with(15.0, 30, 0.5)));
        // ElectrumX 2.x's padding transport: the burst tail held 1 s, a paced ping 750 ms.
        assert!(!spread_out(&with(1_000.0, 30, 750.0)));
        // Token bucket: 30 pings over 3 s while a lone ping takes 1 ms.
        assert!(spread_out(&with(3_000.0, 30, 1.0)));
        // Without a paced run there is no yardstick.
        let mut no_paced = with(3_000.0, 30, 1.0);
        no_paced.paced = TimingSummary::default();
        assert!(!spread_out(&no_paced));
    }

    #[test]
    fn throttle_classification() {
        assert!(is_throttle(&RpcError {
            code: Some(-102),
            message: "server busy - request timed out".into()
        }));
        assert!(is_throttle(&RpcError {
            code: Some(1),
            message: "Subscription limit reached".into()
        }));
        assert!(!is_throttle(&RpcError {
            code: Some(-32601),
            message: "unknown method".into()
        }));
    }
}
