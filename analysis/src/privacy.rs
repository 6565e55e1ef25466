//! Privacy risk assessment: measured exposure metrics and recommendations, each
//! recommendation naming the metrics it rests on (results summary §4–5).
//!
//! [`assess`] counts an [`Exposure`] over the reachable servers; [`metrics`] and
//! [`recommendations`] are pure functions of it. A recommendation is only made when its
//! number supports it (no "never use plain TCP" when no server offers plain TCP, no
//! "avoid the suspicious servers" when none scored medium or high), and its text quotes
//! that number, so the advice printed for a scan is true for that scan.

use observatory_model::snapshot::{Dimension, Level, Privacy, PrivacyMetric, Recommendation};

use crate::hss::ids;
use crate::metrics::{self, ONION_BUCKET};
use crate::normalize::Normalized;
use crate::profile::Facts;
use crate::report::plural;

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
    PrivacyMetric {
        id: id.into(),
        label: label.into(),
        value,
        unit: unit.into(),
        detail,
    }
}

fn rec(audience: &str, text: String, based_on: &[&str]) -> Recommendation {
    Recommendation {
        audience: audience.into(),
        text,
        based_on: based_on.iter().map(|s| (*s).to_string()).collect(),
    }
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

/// Audience of the recommendations for users.
pub const USERS: &str = "users";
/// Audience of the recommendations for wallet developers.
pub const WALLET_DEVELOPERS: &str = "wallet-developers";

/// Share of servers in the top 3 ASNs (%) from which "a few networks see most wallets" is
/// said: at least half of the servers with a known ASN.
pub const TOP3_CONCENTRATED_PCT: f64 = 50.0;
/// A Nakamoto coefficient by ASN at or below this is "a handful of networks" (and the
/// multi-ASN redundancy advice quotes it).
pub const FEW_ASNS: u64 = 5;

/// The counts the assessment is made of (all over servers reachable in the newest round).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Exposure {
    /// Reachable servers.
    pub reachable: usize,
    /// …with a plain-TCP endpoint that answered.
    pub plaintext: usize,
    /// …with plain TCP and no TLS endpoint that answered.
    pub plaintext_only: usize,
    /// …that presented a TLS certificate.
    pub tls: usize,
    /// …of those, whose chain is not web-PKI valid for the host.
    pub tls_unvalidated: usize,
    /// Servers the xpub probe could judge (batch accepted or refused).
    pub xpub_probed: usize,
    /// …that answered the whole history batch in one request.
    pub xpub_batch: usize,
    /// Largest batch the probe sent.
    pub xpub_batch_size: u32,
    /// Servers where the `logging-timing` HSS indicator fired.
    pub timing_leak: usize,
    /// Onion-only servers.
    pub onion: usize,
    /// Servers scoring medium or high.
    pub suspicious: usize,
    /// Servers answering the removed `blockchain.address.*` methods.
    pub legacy: usize,
    /// Servers with a known ASN (onion servers are not in an ASN).
    pub asn_known: usize,
    /// …of those, in the three largest ASNs.
    pub top3_asn: usize,
    /// The three largest ASNs, `AS<n> <organization>`.
    pub top3_names: Vec<String>,
    /// Fewest ASNs holding more than half of the servers with a known ASN.
    pub nakamoto_asn: u64,
}

impl Exposure {
    /// Share of servers with a known ASN that sit in the top 3 ASNs, %.
    pub fn top3_pct(&self) -> f64 {
        pct(self.top3_asn, self.asn_known)
    }
    /// Share of xpub-probed servers accepting the batch, %.
    pub fn xpub_batch_pct(&self) -> f64 {
        pct(self.xpub_batch, self.xpub_probed)
    }
    /// Share of TLS servers without a web-PKI-valid certificate, %.
    pub fn tls_unvalidated_pct(&self) -> f64 {
        pct(self.tls_unvalidated, self.tls)
    }
}

/// Counts the exposure. `levels` and `fired` are per fact (same order); `dims` must hold
/// the `asn` dimension (its onion bucket is not an ASN and is left out).
pub fn exposure(
    facts: &[Facts<'_>],
    n: &Normalized<'_>,
    dims: &[Dimension],
    levels: &[Level],
    fired: &[Vec<String>],
) -> Exposure {
    let reach: Vec<usize> = (0..facts.len())
        .filter(|&i| facts.get(i).is_some_and(|f| f.reachable))
        .collect();
    let count = |p: &dyn Fn(&Facts<'_>) -> bool| {
        reach
            .iter()
            .filter(|&&i| facts.get(i).is_some_and(p))
            .count()
    };
    let asn: Vec<&observatory_model::snapshot::Share> = dims
        .iter()
        .find(|d| d.id == "asn")
        .map(|d| d.buckets.iter().filter(|b| b.key != ONION_BUCKET).collect())
        .unwrap_or_default();
    let asn_counts: Vec<u64> = asn.iter().map(|b| b.count).collect();
    Exposure {
        reachable: reach.len(),
        plaintext: count(&|f| f.tcp_endpoints > 0),
        plaintext_only: count(&|f| f.tcp_endpoints > 0 && f.tls_endpoints == 0),
        tls: count(&|f| f.leaf.is_some()),
        tls_unvalidated: count(&|f| f.leaf.is_some() && !f.tls.is_some_and(|t| t.webpki_valid)),
        xpub_probed: count(&|f| f.xpub.and_then(|x| x.batch_accepted).is_some()),
        xpub_batch: count(&|f| f.xpub.and_then(|x| x.batch_accepted) == Some(true)),
        xpub_batch_size: reach
            .iter()
            .filter_map(|&i| facts.get(i)?.xpub.map(|x| x.batch_size))
            .max()
            .unwrap_or(0),
        timing_leak: reach
            .iter()
            .filter(|&&i| {
                fired
                    .get(i)
                    .is_some_and(|v| v.iter().any(|x| x == ids::LOGGING_TIMING))
            })
            .count(),
        onion: reach
            .iter()
            .filter(|&&i| {
                facts
                    .get(i)
                    .and_then(|f| n.servers.get(f.idx))
                    .is_some_and(|g| g.onion())
            })
            .count(),
        suspicious: reach
            .iter()
            .filter(|&&i| levels.get(i).is_some_and(|l| *l != Level::Low))
            .count(),
        legacy: count(&|f| f.address_formats.is_some_and(|a| a.legacy_address_answered)),
        asn_known: asn_counts.iter().sum::<u64>() as usize,
        top3_asn: asn_counts.iter().take(3).sum::<u64>() as usize,
        top3_names: asn
            .iter()
            .take(3)
            .map(|b| format!("{} {}", b.key, b.label))
            .collect(),
        nakamoto_asn: metrics::concentration(&asn_counts).nakamoto,
    }
}

/// The measured metrics.
pub fn metrics(e: &Exposure) -> Vec<PrivacyMetric> {
    use metric_ids::*;
    let r = e.reachable;
    vec![
        metric(PLAINTEXT, "Servers reachable without TLS", e.plaintext as f64, "servers", format!("{} of {r} reachable servers answer on a plain-TCP port ({:.1}%)", e.plaintext, pct(e.plaintext, r))),
        metric(PLAINTEXT_ONLY, "Servers with no TLS at all", e.plaintext_only as f64, "servers", format!("{} of {r} reachable servers offer only plain TCP", e.plaintext_only)),
        metric(TLS_UNVALIDATED, "TLS servers without a web-PKI-valid certificate", e.tls_unvalidated_pct(), "%", format!("{} of {} TLS servers present a certificate that does not validate (self-signed, expired or name mismatch)", e.tls_unvalidated, e.tls)),
        metric(TOP3_ASN, "Share of servers in the top 3 ASNs", e.top3_pct(), "%", format!("{} of {} servers with a known ASN are in {}", e.top3_asn, e.asn_known, if e.top3_names.is_empty() { "-".into() } else { e.top3_names.join(", ") })),
        metric(NAKAMOTO_ASN, "Nakamoto coefficient by ASN", e.nakamoto_asn as f64, "ASNs", format!("fewest ASNs holding more than 50% of the {} servers with a known ASN", e.asn_known)),
        metric(XPUB_BATCH, "Servers accepting a large history batch", e.xpub_batch_pct(), "%", format!("{} of {} probed servers answered a {}-query get_history batch in one request", e.xpub_batch, e.xpub_probed, e.xpub_batch_size)),
        metric(TIMING_LEAK, "Servers with timing that suggests logging", e.timing_leak as f64, "servers", format!("{} of {r} reachable servers fired the {} indicator", e.timing_leak, ids::LOGGING_TIMING)),
        metric(ONION, "Onion servers reachable", e.onion as f64, "servers", format!("{} of {r} reachable servers are onion-only ({:.1}%)", e.onion, pct(e.onion, r))),
        metric(SUSPICIOUS, "Servers with medium or high HSS", e.suspicious as f64, "servers", format!("{} of {r} reachable servers score medium or high", e.suspicious)),
        metric(LEGACY, "Servers answering removed blockchain.address.* methods", e.legacy as f64, "servers", format!("{} of {r} reachable servers", e.legacy)),
    ]
}

/// "1 server" / "3 servers".
fn servers(n: usize) -> String {
    plural(n as u64, "server", "servers")
}

/// The recommendations the numbers support, each quoting its number (rules in `docs/privacy.md`).
pub fn recommendations(e: &Exposure) -> Vec<Recommendation> {
    use metric_ids::*;
    let mut out = Vec::new();
    if e.reachable == 0 {
        return out;
    }
    // Tor: every server sees the wallet's IP; concentration makes that worse, onion servers avoid it.
    let onion = match e.onion {
        0 => "no onion server answered this scan, so use Tor to reach clearnet servers".to_string(),
        n => format!(
            "{} answered over Tor",
            plural(n as u64, "onion server", "onion servers")
        ),
    };
    if e.asn_known > 0 && e.top3_pct() >= TOP3_CONCENTRATED_PCT {
        out.push(rec(USERS, format!("Connect through Tor: {:.1}% of servers with a known network sit in just 3 ASNs, so a few network operators can see which IP asks about which addresses; {onion}.", e.top3_pct()), &[TOP3_ASN, ONION]));
    } else {
        out.push(rec(USERS, format!("Connect through Tor so that the server does not learn your IP address along with your addresses; {onion}."), &[ONION]));
    }
    if e.plaintext > 0 {
        out.push(rec(USERS, format!("Never use plain-TCP ports: {} of the {} reachable servers answer without TLS, exposing every address you query to anyone on the path.", e.plaintext, e.reachable), &[PLAINTEXT, PLAINTEXT_ONLY]));
    }
    if e.xpub_batch > 0 {
        out.push(rec(USERS, format!("Avoid xpub-style bulk lookups against public servers (run your own server for large wallets): {:.1}% of probed servers accept a {}-address history batch, and one request then ties all those addresses to you.", e.xpub_batch_pct(), e.xpub_batch_size), &[XPUB_BATCH]));
    }
    if e.suspicious > 0 {
        out.push(rec(USERS, format!("Rotate servers and avoid the ones with medium or high suspicion scores: {} of the {} reachable servers score medium or high on the HSS.", e.suspicious, e.reachable), &[SUSPICIOUS]));
    }
    if e.timing_leak > 0 {
        out.push(rec(WALLET_DEVELOPERS, format!("Batch and pad history requests so that per-address timing is not observable, and add random delays: {} show timing patterns consistent with per-query logging.", servers(e.timing_leak)), &[TIMING_LEAK]));
    }
    if e.tls_unvalidated > 0 {
        out.push(rec(WALLET_DEVELOPERS, format!("Validate TLS strictly: pin the certificate on first use (TOFU), since {:.1}% of TLS servers ({} of {}) have no web-PKI-valid certificate, and warn when a pinned certificate changes.", e.tls_unvalidated_pct(), e.tls_unvalidated, e.tls), &[TLS_UNVALIDATED]));
    }
    if e.asn_known > 0 && e.nakamoto_asn <= FEW_ASNS {
        out.push(rec(WALLET_DEVELOPERS, format!("Use several servers in different ASNs for headers and split address queries across them: more than half of the servers with a known network are in {} ASN{}.", e.nakamoto_asn, if e.nakamoto_asn == 1 { "" } else { "s" }), &[NAKAMOTO_ASN]));
    }
    if e.legacy > 0 {
        out.push(rec(WALLET_DEVELOPERS, format!("Use only protocol >= 1.3 scripthash methods and treat servers answering removed methods as suspect: {} still answer{} blockchain.address.*.", servers(e.legacy), if e.legacy == 1 { "s" } else { "" }), &[LEGACY]));
    }
    out
}

/// Builds the assessment. `levels` and `fired` are per fact (same order).
pub fn assess(
    facts: &[Facts<'_>],
    n: &Normalized<'_>,
    dims: &[Dimension],
    levels: &[Level],
    fired: &[Vec<String>],
) -> Privacy {
    let e = exposure(facts, n, dims, levels, fired);
    Privacy {
        metrics: metrics(&e),
        recommendations: recommendations(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::metric_ids::*;
    use super::*;

    /// 40 reachable servers: 10 on plain TCP (4 of them without TLS), 30 TLS servers of
    /// which 27 self-signed, 20 of 25 probed accept the batch, 2 logging-like timers, no onion,
    /// 3 suspicious, 1 legacy; 36 with an ASN, 24 of them in the top three, Nakamoto 2.
    fn busy() -> Exposure {
        Exposure {
            reachable: 40,
            plaintext: 10,
            plaintext_only: 4,
            tls: 30,
            tls_unvalidated: 27,
            xpub_probed: 25,
            xpub_batch: 20,
            xpub_batch_size: 16,
            timing_leak: 2,
            onion: 0,
            suspicious: 3,
            legacy: 1,
            asn_known: 36,
            top3_asn: 24,
            top3_names: vec![
                "AS24940 Hetzner".into(),
                "AS16276 OVH".into(),
                "AS14061 DigitalOcean".into(),
            ],
            nakamoto_asn: 2,
        }
    }

    /// A network where none of the risks shows: everything TLS with web-PKI certificates,
    /// batches refused, nothing suspicious, ASNs spread out, 5 onion servers.
    fn clean() -> Exposure {
        Exposure {
            reachable: 20,
            tls: 20,
            xpub_probed: 20,
            xpub_batch_size: 16,
            onion: 5,
            asn_known: 15,
            top3_asn: 3,
            top3_names: vec!["AS1 A".into(), "AS2 B".into(), "AS3 C".into()],
            nakamoto_asn: 8,
            ..Exposure::default()
        }
    }

    fn based(recs: &[Recommendation]) -> Vec<Vec<&str>> {
        recs.iter()
            .map(|r| r.based_on.iter().map(String::as_str).collect())
            .collect()
    }

    #[test]
    fn each_recommendation_needs_and_quotes_its_number() {
        // (case, exposure, metrics each recommendation rests on, a phrase each must contain)
        type Case = (
            &'static str,
            Exposure,
            Vec<Vec<&'static str>>,
            Vec<&'static str>,
        );
        let cases: Vec<Case> = vec![
            (
                "every risk present",
                busy(),
                vec![
                    vec![TOP3_ASN, ONION],
                    vec![PLAINTEXT, PLAINTEXT_ONLY],
                    vec![XPUB_BATCH],
                    vec![SUSPICIOUS],
                    vec![TIMING_LEAK],
                    vec![TLS_UNVALIDATED],
                    vec![NAKAMOTO_ASN],
                    vec![LEGACY],
                ],
                vec![
                    "66.7% of servers with a known network sit in just 3 ASNs",
                    "10 of the 40 reachable servers answer without TLS",
                    "80.0% of probed servers accept a 16-address history batch",
                    "3 of the 40 reachable servers score medium or high",
                    "2 servers show timing patterns",
                    "90.0% of TLS servers (27 of 30)",
                    "in 2 ASNs",
                    "1 server still answers blockchain.address.*",
                ],
            ),
            (
                "no risk measured: only the Tor advice remains, without the concentration claim",
                clean(),
                vec![vec![ONION]],
                vec!["5 onion servers answered over Tor"],
            ),
        ];
        for (name, e, want_based, phrases) in cases {
            let recs = recommendations(&e);
            assert_eq!(based(&recs), want_based, "{name}");
            for (r, p) in recs.iter().zip(&phrases) {
                assert!(r.text.contains(p), "{name}: {:?} lacks {p:?}", r.text);
            }
        }
    }

    #[test]
    fn tor_advice_says_when_no_onion_server_answered() {
        let recs = recommendations(&busy());
        assert!(
            recs[0].text.contains("no onion server answered this scan"),
            "{}",
            recs[0].text
        );
        assert!(
            !recs.iter().any(|r| r.text.contains("0 onion")),
            "never cite a zero as support"
        );
    }

    #[test]
    fn single_risks_switch_single_recommendations() {
        // Starting from the clean network, each changed count adds exactly its recommendation.
        type Case = (&'static str, fn(&mut Exposure), &'static str);
        let cases: &[Case] = &[
            ("plain TCP", |e| e.plaintext = 1, PLAINTEXT),
            ("xpub batches", |e| e.xpub_batch = 4, XPUB_BATCH),
            ("suspicious", |e| e.suspicious = 1, SUSPICIOUS),
            ("timing", |e| e.timing_leak = 1, TIMING_LEAK),
            (
                "unvalidated TLS",
                |e| e.tls_unvalidated = 20,
                TLS_UNVALIDATED,
            ),
            ("few ASNs", |e| e.nakamoto_asn = FEW_ASNS, NAKAMOTO_ASN),
            ("legacy methods", |e| e.legacy = 2, LEGACY),
            ("concentration", |e| e.top3_asn = 8, TOP3_ASN),
        ];
        let base: Vec<Vec<String>> = recommendations(&clean())
            .into_iter()
            .map(|r| r.based_on)
            .collect();
        for (name, change, id) in cases {
            let mut e = clean();
            change(&mut e);
            let got: Vec<Vec<String>> = recommendations(&e)
                .into_iter()
                .map(|r| r.based_on)
                .collect();
            let added: Vec<&Vec<String>> = got.iter().filter(|b| !base.contains(b)).collect();
            assert_eq!(added.len(), 1, "{name}: {got:?}");
            assert!(added[0].iter().any(|b| b == id), "{name}: {got:?}");
        }
        // Unknown ASNs: no concentration or redundancy claim at all.
        let e = Exposure {
            asn_known: 0,
            top3_asn: 0,
            nakamoto_asn: 0,
            ..busy()
        };
        let ids: Vec<String> = recommendations(&e)
            .into_iter()
            .flat_map(|r| r.based_on)
            .collect();
        assert!(
            !ids.iter().any(|b| b == TOP3_ASN || b == NAKAMOTO_ASN),
            "{ids:?}"
        );
        assert!(
            recommendations(&Exposure::default()).is_empty(),
            "nothing reachable, nothing to recommend"
        );
    }

    #[test]
    fn metric_values_are_the_hand_computed_shares() {
        let m = metrics(&busy());
        let v = |id: &str| m.iter().find(|x| x.id == id).map(|x| x.value).unwrap();
        assert_eq!(v(PLAINTEXT), 10.0);
        assert!((v(TOP3_ASN) - 200.0 / 3.0).abs() < 1e-9);
        assert_eq!(v(XPUB_BATCH), 80.0);
        assert_eq!(v(TLS_UNVALIDATED), 90.0);
        assert_eq!(v(TIMING_LEAK), 2.0);
        assert_eq!(v(NAKAMOTO_ASN), 2.0);
        assert_eq!(
            metrics(&Exposure::default())
                .iter()
                .find(|x| x.id == XPUB_BATCH)
                .map(|x| x.value),
            Some(0.0),
            "no division by zero"
        );
    }
}
