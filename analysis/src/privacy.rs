//! Privacy risk assessment: measured exposure metrics and recommendations, each
//! recommendation naming the metrics it rests on (results summary §4–5).

use observatory_model::snapshot::{Dimension, Level, Privacy, PrivacyMetric, Recommendation};

use crate::hss::ids;
use crate::profile::Facts;
use crate::normalize::Normalized;

/// Per-server privacy flags (also shown on the server page).
pub fn flags(f: &Facts<'_>) -> Vec<String> {
    let mut out = Vec::new();
    if f.tcp_endpoints > 0 && f.tls_endpoints == 0 {
        out.push("plaintext-only".to_string());
    } else if f.tcp_endpoints > 0 {
        out.push("plaintext-offered".to_string());
    }
    if f.xpub.and_then(|x| x.batch_accepted) == Some(true) {
        out.push("accepts-large-batch".to_string());
    }
    if f.address_formats.is_some_and(|a| a.legacy_address_answered) {
        out.push("legacy-address-methods".to_string());
    }
    if let Some(l) = f.leaf {
        if l.self_signed {
            out.push("self-signed-cert".to_string());
        }
        if l.expired {
            out.push("expired-cert".to_string());
        }
    }
    out
}

fn pct(n: usize, d: usize) -> f64 {
    if d == 0 {
        0.0
    } else {
        100.0 * n as f64 / d as f64
    }
}

fn metric(id: &str, label: &str, value: f64, unit: &str, detail: String) -> PrivacyMetric {
    PrivacyMetric { id: id.into(), label: label.into(), value, unit: unit.into(), detail }
}

fn rec(audience: &str, text: String, based_on: &[&str]) -> Recommendation {
    Recommendation { audience: audience.into(), text, based_on: based_on.iter().map(|s| (*s).to_string()).collect() }
}

/// Metric ids.
pub mod metric_ids {
    /// Reachable servers answering on plain TCP.
    pub const PLAINTEXT: &str = "plaintext-servers";
    /// Reachable servers with no TLS at all.
    pub const PLAINTEXT_ONLY: &str = "plaintext-only-servers";
    /// TLS servers whose certificate does not validate.
    pub const TLS_UNVALIDATED: &str = "tls-unvalidated-share";
    /// Share of servers in the top 3 ASNs.
    pub const TOP3_ASN: &str = "top3-asn-share";
    /// Nakamoto coefficient by ASN.
    pub const NAKAMOTO_ASN: &str = "nakamoto-asn";
    /// Servers accepting a large history batch.
    pub const XPUB_BATCH: &str = "xpub-batch-accepting";
    /// Servers with a logging-timing signal.
    pub const TIMING_LEAK: &str = "timing-leak-servers";
    /// Onion servers.
    pub const ONION: &str = "onion-servers";
    /// Medium/high HSS servers.
    pub const SUSPICIOUS: &str = "hss-medium-high";
    /// Servers answering removed address methods.
    pub const LEGACY: &str = "legacy-address-servers";
}

/// Builds the assessment. `levels` and `fired` are per fact (same order).
pub fn assess(facts: &[Facts<'_>], n: &Normalized<'_>, dims: &[Dimension], levels: &[Level], fired: &[Vec<String>]) -> Privacy {
    use metric_ids::*;
    let reach: Vec<usize> = (0..facts.len()).filter(|&i| facts.get(i).is_some_and(|f| f.reachable)).collect();
    let r = reach.len();
    let count = |p: &dyn Fn(&Facts<'_>) -> bool| reach.iter().filter(|&&i| facts.get(i).is_some_and(p)).count();
    let plaintext = count(&|f| f.tcp_endpoints > 0);
    let plaintext_only = count(&|f| f.tcp_endpoints > 0 && f.tls_endpoints == 0);
    let tls = count(&|f| f.leaf.is_some());
    let unvalidated = count(&|f| f.leaf.is_some() && !f.tls.is_some_and(|t| t.webpki_valid));
    let probed_xpub = count(&|f| f.xpub.and_then(|x| x.batch_accepted).is_some());
    let batch = count(&|f| f.xpub.and_then(|x| x.batch_accepted) == Some(true));
    let batch_size = facts.iter().filter_map(|f| f.xpub.map(|x| x.batch_size)).max().unwrap_or(0);
    let timing = reach.iter().filter(|&&i| fired.get(i).is_some_and(|v| v.iter().any(|x| x == ids::LOGGING_TIMING))).count();
    let onion = reach.iter().filter(|&&i| facts.get(i).and_then(|f| n.servers.get(f.idx)).is_some_and(|g| g.onion())).count();
    let suspicious = reach.iter().filter(|&&i| levels.get(i).is_some_and(|l| *l != Level::Low)).count();
    let legacy = count(&|f| f.address_formats.is_some_and(|a| a.legacy_address_answered));
    let asn = dims.iter().find(|d| d.id == "asn");
    let top3: u64 = asn.map(|d| d.buckets.iter().take(3).map(|b| b.count).sum()).unwrap_or(0);
    let top3_names: Vec<String> = asn.map(|d| d.buckets.iter().take(3).map(|b| format!("{} {}", b.key, b.label)).collect()).unwrap_or_default();
    let asn_total = asn.map_or(0, |d| d.total) as usize;
    let nakamoto = asn.map_or(0, |d| d.nakamoto);

    let metrics = vec![
        metric(PLAINTEXT, "Servers reachable without TLS", plaintext as f64, "servers", format!("{plaintext} of {r} reachable servers answer on a plain-TCP port ({:.1}%)", pct(plaintext, r))),
        metric(PLAINTEXT_ONLY, "Servers with no TLS at all", plaintext_only as f64, "servers", format!("{plaintext_only} of {r} reachable servers offer only plain TCP")),
        metric(TLS_UNVALIDATED, "TLS servers without a web-PKI-valid certificate", pct(unvalidated, tls), "%", format!("{unvalidated} of {tls} TLS servers present a certificate that does not validate (self-signed, expired or name mismatch)")),
        metric(TOP3_ASN, "Share of servers in the top 3 ASNs", pct(top3 as usize, asn_total), "%", format!("{top3} of {asn_total} servers with a known ASN are in {}", if top3_names.is_empty() { "-".into() } else { top3_names.join(", ") })),
        metric(NAKAMOTO_ASN, "Nakamoto coefficient by ASN", nakamoto as f64, "ASNs", "fewest ASNs holding more than 50% of servers".into()),
        metric(XPUB_BATCH, "Servers accepting a large history batch", pct(batch, probed_xpub), "%", format!("{batch} of {probed_xpub} probed servers answered a {batch_size}-query get_history batch in one request")),
        metric(TIMING_LEAK, "Servers with timing that suggests logging", timing as f64, "servers", format!("{timing} of {r} reachable servers fired the {} indicator", ids::LOGGING_TIMING)),
        metric(ONION, "Onion servers reachable", onion as f64, "servers", format!("{onion} of {r} reachable servers are onion-only ({:.1}%)", pct(onion, r))),
        metric(SUSPICIOUS, "Servers with medium or high HSS", suspicious as f64, "servers", format!("{suspicious} of {r} reachable servers score medium or high")),
        metric(LEGACY, "Servers answering removed blockchain.address.* methods", legacy as f64, "servers", format!("{legacy} of {r} reachable servers")),
    ];

    let recommendations = vec![
        rec("users", format!("Connect through Tor: {:.1}% of servers with a known network sit in just 3 ASNs, so a few providers can see which IP asks about which addresses; {onion} onion servers were reachable.", pct(top3 as usize, asn_total)), &[TOP3_ASN, ONION]),
        rec("users", format!("Never use plain-TCP ports: {plaintext} servers answer without TLS, exposing every address you query to anyone on the path."), &[PLAINTEXT, PLAINTEXT_ONLY]),
        rec("users", format!("Avoid xpub-style bulk lookups against public servers (run your own server for large wallets): {:.1}% of probed servers accept a {batch_size}-address history batch, and one request then ties all those addresses to you.", pct(batch, probed_xpub)), &[XPUB_BATCH]),
        rec("users", format!("Rotate servers and prefer ones with low suspicion scores: {suspicious} servers score medium or high on the HSS; the network's Nakamoto coefficient by ASN is {nakamoto}."), &[SUSPICIOUS, NAKAMOTO_ASN]),
        rec("wallet-developers", format!("Batch and pad history requests so that per-address timing is not observable, and add random delays: {timing} servers show timing patterns consistent with per-query logging."), &[TIMING_LEAK, XPUB_BATCH]),
        rec("wallet-developers", format!("Validate TLS strictly: pin the certificate on first use (TOFU) since {:.1}% of TLS servers have no web-PKI-valid certificate, and warn when a pinned certificate changes.", pct(unvalidated, tls)), &[TLS_UNVALIDATED]),
        rec("wallet-developers", format!("Use several servers in different ASNs for headers and split address queries across them: more than half the servers are in {nakamoto} ASN(s)."), &[NAKAMOTO_ASN, TOP3_ASN]),
        rec("wallet-developers", format!("Use only protocol >= 1.3 scripthash methods and treat servers answering removed methods as suspect: {legacy} still answer blockchain.address.*."), &[LEGACY]),
    ];
    Privacy { metrics, recommendations }
}
