//! What one visit (metadata + every probe, on every connection) costs an ElectrumX server,
//! estimated after the fact from the record with ElectrumX's own cost model.
//!
//! The probes declare their worst case up front ([`super::ProbeCost`]); this module prices
//! what was actually sent, so tests against a real server (and `docs/probes.md`) can check
//! the visit against ElectrumX's default `COST_SOFT_LIMIT`. Why the whole visit and not one
//! session: ElectrumX adds a closed session's cost to its IP group's retained cost (a /24 for
//! IPv4, weight 1.0; private addresses exempt), and a live session is throttled on its own cost
//! *plus* its group's, so the malformed probe's side connections count against the main
//! session too.
//!
//! The model, from spesmilo/electrumx `server/session.py` and aiorpcX `session.py`
//! (both 1.16.0 and 2.0.0 agree): 5.0 per connection, the handler's `bump_cost` per method
//! ([`method_units`]), 100.0 per error reply (`error_base_cost`), and one unit per 5,000
//! bytes on the wire (`BANDWIDTH_UNIT_COST`). The estimate leaves out decay (ElectrumX takes
//! back 1 unit per second from a live session and 600 per 5 minutes from a group), so it is
//! an upper bound of what the server holds against us when the visit ends.

use observatory_model::probes::ProbeDetail;
use observatory_model::raw::EndpointRecord;

use super::malformed::{
    cases_at, was_sent, Conn, MAX_VERSIONED_CONNECTIONS, UNITS_SIDE_CONNECTION,
};
use super::ProbeLevel;

/// Session cost ElectrumX charges for accepting a connection (`SessionBase.cost = 5.0`).
pub const UNITS_CONNECTION: f64 = 5.0;
/// aiorpcX `error_base_cost`: every error reply costs the session this much.
pub const UNITS_ERROR: f64 = 100.0;
/// ElectrumX's default `BANDWIDTH_UNIT_COST`: bytes per cost unit, both directions.
pub const BYTES_PER_UNIT: f64 = 5_000.0;
/// Price of a method [`method_units`] does not know (ElectrumX's usual cheap-query price).
pub const UNITS_UNKNOWN_METHOD: f64 = 1.0;

/// ElectrumX's `bump_cost` for one call of `method` with an empty history (the test vectors'
/// histories are empty on the servers we run; on mainnet a 2-output history adds 0.002).
pub fn method_units(method: &str) -> f64 {
    match method {
        "server.ping" | "server.donation_address" | "blockchain.estimatefee" => 0.1,
        "server.features" => 0.2,
        "blockchain.headers.subscribe" | "blockchain.scripthash.get_mempool" => 0.25,
        "server.version" | "server.banner" => 0.5,
        // limited_history() 0.1 (+0.1 uncached) plus unconfirmed_history() 0.25.
        "blockchain.scripthash.get_history" => 0.45,
        "server.peers.subscribe"
        | "blockchain.relayfee"
        | "blockchain.scripthash.get_balance"
        | "blockchain.scripthash.listunspent" => 1.0,
        // Not an ElectrumX method: priced by the error reply alone.
        m if m.starts_with("blockchain.address.") => 0.0,
        _ => UNITS_UNKNOWN_METHOD,
    }
}

/// Estimated ElectrumX cost of one visit.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct VisitCost {
    /// The main session: connection, every logged request, its error replies and reply bytes.
    pub main_session: f64,
    /// The malformed probe's side connections (their cases' worst-case units).
    pub side_connections: f64,
    /// Requests priced on the main session.
    pub main_requests: u32,
    /// Error replies priced on the main session.
    pub main_errors: u32,
}

impl VisitCost {
    /// Main session plus side connections.
    pub fn total(&self) -> f64 {
        self.main_session + self.side_connections
    }
}

/// Prices a visit from its record: the main session's request log, and the malformed cases
/// that were sent on side connections.
pub fn visit_cost(record: &EndpointRecord) -> VisitCost {
    let mut cost = VisitCost {
        main_session: UNITS_CONNECTION,
        ..VisitCost::default()
    };
    for req in &record.requests {
        cost.main_requests += 1;
        cost.main_session += method_units(&req.method);
        if req.outcome == "error" {
            cost.main_errors += 1;
            cost.main_session += UNITS_ERROR;
        }
        cost.main_session += req.reply_bytes.unwrap_or(0) as f64 / BYTES_PER_UNIT;
    }
    cost.side_connections = record
        .probes
        .iter()
        .map(|p| match &p.detail {
            ProbeDetail::Malformed(m) => side_cost(m),
            _ => 0.0,
        })
        .sum();
    cost
}

/// Worst-case units of the malformed cases that were sent, plus their versioned connections
/// (one, and one more after each case the server hung up on).
fn side_cost(m: &observatory_model::probes::MalformedDetail) -> f64 {
    let mut units = 0.0;
    let mut versioned_sent = false;
    let mut reopenings = 0u32;
    for case in m.cases.iter().filter(|c| was_sent(&c.outcome)) {
        // Full-level specs include the standard ones, so every case name is found there.
        let Some(spec) = cases_at(ProbeLevel::Full).find(|s| s.name == case.case) else {
            continue;
        };
        units += spec.electrumx_units;
        if matches!(spec.conn, Conn::Versioned) {
            versioned_sent = true;
            reopenings += u32::from(case.disconnected);
        }
    }
    if versioned_sent {
        let connections = (1 + reopenings).min(MAX_VERSIONED_CONNECTIONS);
        units += f64::from(connections) * UNITS_SIDE_CONNECTION;
    }
    units
}

#[cfg(test)]
mod tests {
    use observatory_model::raw::RequestLog;

    use super::*;
    use crate::probes::fake::{malformed_case as case, record_with_malformed};

    fn req(method: &str, outcome: &str, bytes: u64) -> RequestLog {
        RequestLog {
            id: 1,
            method: method.into(),
            sent_offset_ms: 0.0,
            rtt_ms: Some(1.0),
            outcome: outcome.into(),
            reply_bytes: Some(bytes),
        }
    }

    fn record(
        requests: Vec<RequestLog>,
        cases: Vec<observatory_model::probes::MalformedCase>,
    ) -> EndpointRecord {
        let mut r = record_with_malformed(cases);
        r.requests = requests;
        r
    }
    #[test]
    fn prices_methods_errors_bytes_and_side_connections() {
        let r = record(
            vec![
                req("server.version", "result", 5_000),
                req("blockchain.address.get_balance", "error", 0),
            ],
            vec![
                case("before-version", "error", true),
                case("scripthash-non-hex", "error", false),
                case("small-batch", "result", true),
                case("invalid-json", "not-run", false),
            ],
        );
        let c = visit_cost(&r);
        assert_eq!((c.main_requests, c.main_errors), (2, 1));
        // 5 connection + 0.5 version + 1 for 5,000 bytes + 100 error.
        assert!((c.main_session - 106.5).abs() < 1e-9, "{c:?}");
        // 105.2 + 100.0 + 0.2, two versioned connections (one reopening) of 5.6.
        assert!(
            (c.side_connections - (105.4 + 100.0 + 2.0 * UNITS_SIDE_CONNECTION)).abs() < 1e-9,
            "{c:?}"
        );
        assert!((c.total() - c.main_session - c.side_connections).abs() < 1e-12);
    }

    #[test]
    fn every_malformed_case_is_priced() {
        for spec in cases_at(ProbeLevel::Full) {
            let r = record(Vec::new(), vec![case(spec.name, "error", false)]);
            assert!(
                visit_cost(&r).side_connections >= spec.electrumx_units,
                "{}",
                spec.name
            );
        }
    }
}
