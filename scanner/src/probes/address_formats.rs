//! `address-formats`: standard scripthash queries for P2PKH, P2WPKH, P2WSH and P2TR
//! test-vector addresses, plus the legacy `blockchain.address.*` fingerprint.
//!
//! First it sends `blockchain.address.get_balance` once with the P2PKH vector
//! (the `blockchain.address.*` methods were removed in protocol 1.3, so most
//! servers reject it; Fulcrum still answers). At [`ProbeLevel::Standard`] it
//! sends `blockchain.address.get_history` only when that was answered: on
//! ElectrumX each rejected call is an error reply of 100 cost units, and a
//! second one would lift the standard set over `STANDARD_COST_CEILING`
//! (docs/probes.md). At [`ProbeLevel::Full`] (the operator's own servers) it
//! always sends both. Then, for each format, `blockchain.scripthash.get_balance`,
//! `get_history`, `listunspent` and `get_mempool`, recording shape, error and
//! RTT. The queries are independent, so they are pipelined: all sent at once,
//! replies matched by id. That is what keeps all four formats within the time
//! cap on ElectrumX 2.x, whose padding transport holds a lone small reply for
//! about a second.

use std::time::Duration;

use observatory_model::probes::{AddressFormatsDetail, FormatQueries, ProbeDetail};
use serde_json::json;

use super::observe::{observe, Counted};
use super::vectors::{self, FORMATS};
use super::{
    status_of, Coverage, Opener, Plan, Probe, ProbeContext, ProbeCost, ProbeLevel, ProbeOutcome,
    Tally,
};
use crate::rpc::{CallOutcome, Rpc};

/// The four scripthash methods queried per format, in order.
pub const SCRIPTHASH_METHODS: [&str; 4] = [
    "blockchain.scripthash.get_balance",
    "blockchain.scripthash.get_history",
    "blockchain.scripthash.listunspent",
    "blockchain.scripthash.get_mempool",
];

/// Estimated ElectrumX cost of the four queries for one (empty-history) script:
/// get_balance 1.0 + get_history 0.45 + listunspent 1.0 + get_mempool 0.25, plus slack for
/// the few transactions public test vectors have received.
const UNITS_PER_FORMAT: f64 = 3.5;
/// ElectrumX cost of the rejected legacy call (aiorpcx `error_base_cost`).
const UNITS_LEGACY_ERROR: f64 = 100.0;

/// The probe.
#[derive(Debug, Clone, Copy)]
pub struct AddressFormats;

impl Probe for AddressFormats {
    fn name(&self) -> &'static str {
        "address-formats"
    }

    fn cost(&self, level: ProbeLevel) -> ProbeCost {
        // Standard: the legacy get_history follows only an answered get_balance (one error at most).
        let legacy_errors = match level {
            ProbeLevel::Standard => 1.0,
            ProbeLevel::Full => 2.0,
        };
        ProbeCost {
            requests: self.samples(level) + 2,
            electrumx_units: FORMATS.len() as f64 * UNITS_PER_FORMAT
                + legacy_errors * UNITS_LEGACY_ERROR,
        }
    }

    fn samples(&self, _level: ProbeLevel) -> u32 {
        (FORMATS.len() * SCRIPTHASH_METHODS.len()) as u32
    }

    fn time_cap(&self) -> Duration {
        Duration::from_secs(10)
    }

    async fn run<R: Rpc, O: Opener>(
        &self,
        rpc: &mut Counted<'_, R>,
        _opener: &O,
        _ctx: &ProbeContext,
        plan: Plan,
    ) -> ProbeOutcome {
        let mut detail = AddressFormatsDetail::default();
        let mut tally = Tally::default();
        let resolved: Vec<_> = FORMATS
            .iter()
            .filter_map(|v| {
                vectors::resolve(v)
                    .map(|r| (v, r))
                    .map_err(|e| tracing::error!("{e}"))
                    .ok()
            })
            .collect();
        let mut calls: Vec<(String, serde_json::Value)> = Vec::new();
        let mut legacy_history = false;
        if let Some((_, p2pkh)) = resolved.iter().find(|(v, _)| v.format == "p2pkh") {
            let out = rpc
                .call("blockchain.address.get_balance", json!([p2pkh.address]))
                .await;
            tally.add(&out);
            let answered = matches!(out, CallOutcome::Result { .. });
            detail
                .legacy_address
                .push(observe("blockchain.address.get_balance", &out));
            detail.legacy_address_answered = answered;
            legacy_history = answered || plan.level == ProbeLevel::Full;
            if legacy_history {
                calls.push((
                    "blockchain.address.get_history".into(),
                    json!([p2pkh.address]),
                ));
            }
        }
        for (_, r) in &resolved {
            calls.extend(
                SCRIPTHASH_METHODS
                    .iter()
                    .map(|m| ((*m).to_string(), json!([r.scripthash]))),
            );
        }
        // Pipelined: every query is sent before any answer is read.
        let cut = plan.expired() || rpc.is_closed();
        let mut outs = if cut {
            Vec::new()
        } else {
            rpc.pipeline(calls).await
        }
        .into_iter();
        if legacy_history {
            if let Some(out) = outs.next() {
                tally.add(&out);
                detail.legacy_address_answered |= matches!(out, CallOutcome::Result { .. });
                detail
                    .legacy_address
                    .push(observe("blockchain.address.get_history", &out));
            }
        }
        let mut taken = 0u32;
        for (v, r) in resolved {
            let mut calls = Vec::with_capacity(SCRIPTHASH_METHODS.len());
            for method in SCRIPTHASH_METHODS {
                let Some(out) = outs.next() else { break };
                tally.add(&out);
                taken += u32::from(!matches!(out, CallOutcome::OverBudget));
                calls.push(observe(method, &out));
            }
            if !calls.is_empty() {
                detail.formats.push(FormatQueries {
                    format: v.format.into(),
                    address: r.address,
                    source: v.source.into(),
                    scripthash: r.scripthash,
                    calls,
                });
            }
        }
        let (status, mut error) = status_of(tally);
        if cut && error.is_none() {
            error = Some("time cap reached before the scripthash queries were sent".into());
        }
        let coverage = Coverage::new(self.samples(plan.level), taken, cut);
        ProbeOutcome {
            status,
            error,
            detail: ProbeDetail::AddressFormats(detail),
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
    use crate::probes::fake::{err, ok, out_of_time, run_probe, FakeOpener, FakeRpc, Script};
    use crate::rpc::RawOutcome;

    struct Server {
        legacy: bool,
    }
    impl Script for Server {
        fn call(&self, method: &str, params: &Value) -> CallOutcome {
            let arg = params.get(0).and_then(Value::as_str).unwrap_or_default();
            match method {
                "blockchain.scripthash.get_balance" if arg.len() == 64 => {
                    ok(json!({"confirmed": 0, "unconfirmed": 0}))
                }
                m if m.starts_with("blockchain.scripthash.") => ok(json!([])),
                "blockchain.address.get_balance" if self.legacy => {
                    ok(json!({"confirmed": 0, "unconfirmed": 0}))
                }
                "blockchain.address.get_history" if self.legacy => ok(json!([])),
                m => err(-32601, &format!("unknown method \"{m}\"")),
            }
        }
        fn raw(&self, _: &str, _: bool) -> (Vec<RawOutcome>, bool) {
            (vec![RawOutcome::Silence], false)
        }
    }

    async fn run_at(legacy: bool, level: ProbeLevel) -> (ProbeOutcome, u32, Vec<String>) {
        let script: Arc<dyn Script> = Arc::new(Server { legacy });
        let mut rpc = FakeRpc::new(script.clone(), 100);
        let log = rpc.log.clone();
        let mut c = Counted::new(&mut rpc);
        let out = AddressFormats
            .run(
                &mut c,
                &FakeOpener::new(script),
                &crate::probes::tests::ctx(),
                crate::probes::tests::plan(level),
            )
            .await;
        let sent = c.sent();
        let log = log.lock().unwrap().clone();
        (out, sent, log)
    }

    async fn run(legacy: bool) -> (ProbeOutcome, u32) {
        let (out, sent, _) = run_at(legacy, ProbeLevel::Standard).await;
        (out, sent)
    }

    #[tokio::test]
    async fn queries_four_formats_and_rejected_legacy_once() {
        let (out, sent) = run(false).await;
        let ProbeDetail::AddressFormats(d) = out.detail else {
            panic!()
        };
        assert_eq!(
            d.formats
                .iter()
                .map(|f| f.format.as_str())
                .collect::<Vec<_>>(),
            ["p2pkh", "p2wpkh", "p2wsh", "p2tr"]
        );
        assert_eq!(
            d.formats[0].calls[0].result_shape.as_deref(),
            Some("object{confirmed,unconfirmed}")
        );
        assert_eq!(d.formats[0].calls.len(), 4);
        assert_eq!(
            d.formats[1].calls[1].result_shape.as_deref(),
            Some("array[0]")
        );
        assert_eq!(d.legacy_address.len(), 1);
        assert!(!d.legacy_address_answered);
        assert_eq!(
            d.legacy_address[0].error.as_ref().unwrap().code,
            Some(-32601)
        );
        assert_eq!(sent, 17);
        assert_eq!(out.status, observatory_model::raw::Status::Success);
        assert_eq!(
            out.coverage,
            Coverage {
                planned: 16,
                taken: 16,
                cut_by_time_cap: false
            }
        );
    }

    #[tokio::test]
    async fn full_level_sends_both_legacy_calls_even_when_refused() {
        let (out, sent, log) = run_at(false, ProbeLevel::Full).await;
        let ProbeDetail::AddressFormats(d) = out.detail else {
            panic!()
        };
        let legacy: Vec<&str> = d.legacy_address.iter().map(|c| c.method.as_str()).collect();
        assert_eq!(
            legacy,
            [
                "blockchain.address.get_balance",
                "blockchain.address.get_history"
            ]
        );
        assert!(d.legacy_address.iter().all(|c| c.outcome == "error"));
        assert!(!d.legacy_address_answered);
        assert_eq!(sent, 18);
        assert_eq!(sent, AddressFormats.cost(ProbeLevel::Full).requests);
        assert_eq!(
            log.iter()
                .filter(|m| m.starts_with("blockchain.address."))
                .count(),
            2
        );
    }

    #[tokio::test]
    async fn out_of_time_before_the_queries_is_recorded_as_cut() {
        let (out, _) = run_probe(
            &AddressFormats,
            Arc::new(Server { legacy: false }),
            out_of_time(ProbeLevel::Standard),
        )
        .await;
        assert_eq!(
            out.coverage,
            Coverage {
                planned: 16,
                taken: 0,
                cut_by_time_cap: true
            }
        );
        assert!(out.error.is_some());
    }

    #[tokio::test]
    async fn answered_legacy_is_recorded_with_history() {
        let (out, sent) = run(true).await;
        let ProbeDetail::AddressFormats(d) = out.detail else {
            panic!()
        };
        assert!(d.legacy_address_answered);
        assert_eq!(d.legacy_address.len(), 2);
        assert_eq!(
            d.legacy_address[1].result_shape.as_deref(),
            Some("array[0]")
        );
        assert_eq!(sent, AddressFormats.cost(ProbeLevel::Standard).requests);
    }
}
