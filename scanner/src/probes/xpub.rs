//! `xpub`: histories of addresses derived from a BIP-32 test-vector xpub, one by one and batched.
//!
//! From the BIP-32 test vector 1 master public key it derives
//! [`RECEIVE`] receive (`m/0/i`) and [`CHANGE`] change (`m/1/i`) keys, each as
//! P2PKH, P2WPKH, P2SH-P2WPKH and P2TR, and asks `blockchain.scripthash.get_history`
//! for every scripthash: first sequentially (per-query RTT distribution and
//! slope), then as one JSON-RPC batch (wall time, per-item time, acceptance).
//! A wallet restoring from an xpub does exactly this, so the timing features
//! describe how the server treats wallet-like traffic. The batch goes last
//! because some servers answer a batch by disconnecting.

use std::time::{Duration, Instant};

use observatory_model::probes::{ProbeDetail, XpubDetail};
use observatory_model::raw::Status;
use serde_json::{json, Value};

use super::observe::{bounded_error, Counted};
use super::stats::{slope, summarize};
use super::vectors::{self, BIP32_TV1_SOURCE, XPUB_SCRIPT_TYPES};
use super::{
    status_of, Coverage, Opener, Plan, Probe, ProbeContext, ProbeCost, ProbeLevel, ProbeOutcome,
    Tally,
};
use crate::rpc::{CallOutcome, Rpc};

/// Receive addresses per script type.
pub const RECEIVE: u32 = 2;
/// Change addresses per script type.
pub const CHANGE: u32 = 2;
/// Errors kept.
pub const MAX_ERRORS: usize = 5;
/// Time kept back from the sequential run for the batch.
pub const BATCH_RESERVE: Duration = Duration::from_secs(2);
/// Estimated ElectrumX cost of one `get_history` of a short history (0.1 + 0.1 + 0.25 + slack).
const UNITS_HISTORY: f64 = 0.5;
const METHOD: &str = "blockchain.scripthash.get_history";

/// The probe.
#[derive(Debug, Clone, Copy)]
pub struct XpubProbe;

fn scripthash_count() -> u32 {
    XPUB_SCRIPT_TYPES.len() as u32 * (RECEIVE + CHANGE)
}

/// Every derived scripthash, in query order.
pub fn scripthashes() -> Vec<String> {
    let mut out = Vec::new();
    for t in XPUB_SCRIPT_TYPES {
        for (branch, count) in [(0, RECEIVE), (1, CHANGE)] {
            for i in 0..count {
                match vectors::derive(t, branch, i) {
                    Ok(r) => out.push(r.scripthash),
                    Err(e) => tracing::error!("{e}"),
                }
            }
        }
    }
    out
}

impl Probe for XpubProbe {
    fn name(&self) -> &'static str {
        "xpub"
    }

    fn samples(&self, _level: ProbeLevel) -> u32 {
        scripthash_count() * 2
    }

    fn cost(&self, level: ProbeLevel) -> ProbeCost {
        let n = self.samples(level);
        ProbeCost {
            requests: n,
            electrumx_units: f64::from(n) * UNITS_HISTORY,
        }
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
        let hashes = scripthashes();
        let mut tally = Tally::default();
        let mut detail = XpubDetail {
            xpub_source: BIP32_TV1_SOURCE.into(),
            script_types: XPUB_SCRIPT_TYPES.iter().map(|s| (*s).to_string()).collect(),
            addresses_per_type: RECEIVE + CHANGE,
            scripthashes: u32::try_from(hashes.len()).unwrap_or(u32::MAX),
            ..Default::default()
        };
        let mut rtts = Vec::new();
        let sequential_end = plan
            .deadline
            .checked_sub(BATCH_RESERVE)
            .unwrap_or(plan.deadline);
        let mut time_ran_out = false;
        for h in &hashes {
            if rpc.is_closed() {
                break;
            }
            if Instant::now() >= sequential_end {
                time_ran_out = true;
                break;
            }
            let out = rpc.call(METHOD, json!([h])).await;
            tally.add(&out);
            note_error(&mut detail, &out);
            rtts.extend(out.rtt_ms());
        }
        detail.sequential = summarize(&rtts);
        detail.sequential_slope_ms = slope(&rtts);
        time_ran_out |= !rpc.is_closed() && plan.expired();
        if !rpc.is_closed() && !plan.expired() {
            let calls: Vec<(String, Value)> = hashes
                .iter()
                .map(|h| (METHOD.to_string(), json!([h])))
                .collect();
            detail.batch_size = u32::try_from(calls.len()).unwrap_or(u32::MAX);
            let (outs, total_ms) = rpc.batch(calls).await;
            outs.iter().for_each(|o| tally.add(o));
            let first_error = outs.iter().find_map(|o| match o {
                CallOutcome::Error { error, .. } => Some(bounded_error(error)),
                _ => None,
            });
            let all_answered =
                !outs.is_empty() && outs.iter().all(|o| matches!(o, CallOutcome::Result { .. }));
            let not_sent = outs.iter().all(|o| matches!(o, CallOutcome::OverBudget));
            if !not_sent {
                detail.batch_accepted = Some(all_answered);
                detail.batch_error = first_error;
                if all_answered {
                    detail.batch_total_ms = Some(total_ms);
                    let per_item = total_ms / f64::from(detail.batch_size.max(1));
                    detail.batch_per_item_ms = Some(per_item);
                    detail.batch_speedup = (per_item > 0.0 && detail.sequential.n > 0)
                        .then(|| detail.sequential.median_ms / per_item);
                }
            }
        }
        // A visit whose deadline left no room for a single request measured nothing: that
        // is a skip, not a success with empty timings.
        let (status, error) = if tally == Tally::default() {
            (
                Status::Skipped,
                Some("probe deadline reached before the first request".to_string()),
            )
        } else {
            status_of(tally)
        };
        let coverage = Coverage::new(self.samples(plan.level), rpc.sent(), time_ran_out);
        ProbeOutcome {
            status,
            error,
            detail: ProbeDetail::Xpub(detail),
            side_requests: 0,
            coverage,
        }
    }
}

fn note_error(detail: &mut XpubDetail, out: &CallOutcome) {
    if let CallOutcome::Error { error, .. } = out {
        if detail.errors.len() < MAX_ERRORS {
            detail.errors.push(bounded_error(error));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::probes::fake::{ok, out_of_time, run_probe, Script};
    use crate::rpc::RawOutcome;

    struct Histories;
    impl Script for Histories {
        fn call(&self, _: &str, _: &Value) -> CallOutcome {
            ok(json!([]))
        }
        fn raw(&self, _: &str, _: bool) -> (Vec<RawOutcome>, bool) {
            (vec![RawOutcome::Silence], false)
        }
    }

    #[test]
    fn sixteen_distinct_scripthashes() {
        let h = scripthashes();
        assert_eq!(h.len(), 16);
        let set: std::collections::BTreeSet<_> = h.iter().collect();
        assert_eq!(set.len(), 16);
    }

    #[tokio::test]
    async fn sequential_then_batch() {
        let (out, sent) = run_probe(
            &XpubProbe,
            Arc::new(Histories),
            crate::probes::tests::plan(ProbeLevel::Standard),
        )
        .await;
        let ProbeDetail::Xpub(d) = out.detail else {
            panic!()
        };
        assert_eq!(d.sequential.n, 16);
        assert_eq!(d.batch_accepted, Some(true));
        assert_eq!(d.batch_size, 16);
        assert_eq!(d.batch_per_item_ms, Some(0.5));
        assert_eq!(d.batch_speedup, Some(2.0));
        assert_eq!(sent, 32);
        assert_eq!(
            out.coverage,
            Coverage {
                planned: 32,
                taken: 32,
                cut_by_time_cap: false
            }
        );
    }

    #[tokio::test]
    async fn no_time_for_a_request_is_a_skip() {
        let (out, sent) = run_probe(
            &XpubProbe,
            Arc::new(Histories),
            out_of_time(ProbeLevel::Standard),
        )
        .await;
        assert_eq!(sent, 0);
        assert_eq!(
            out.coverage,
            Coverage {
                planned: 32,
                taken: 0,
                cut_by_time_cap: true
            }
        );
        assert_eq!(out.status, Status::Skipped);
        assert!(out.error.is_some());
    }
}
