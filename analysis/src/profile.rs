//! Per-server facts: the one place that reads raw records after normalization.
//!
//! [`profile`] turns a [`ServerGroup`] into [`Facts`]: reachability, uptime over
//! rounds, the representative record (newest reachable, TLS preferred), the leaf
//! certificate, probe details, RTT samples and the implementation. Every later
//! stage (HSS, clustering, privacy, CSV, snapshot) reads `Facts`, never records.

use observatory_model::probes::{
    AddressFormatsDetail, Implementation, MalformedDetail, ProbeDetail, RateLimitDetail,
    TimingDetail, XpubDetail,
};
use observatory_model::raw::{Certificate, EndpointRecord, TlsObservation, Transport};
use observatory_model::snapshot::HistoryPoint;
use sha2::{Digest, Sha256};

use crate::enrich::{Enricher, IpInfo};
use crate::normalize::{Normalized, ServerGroup};
use crate::stats;
use crate::timefmt::rfc3339;

/// Longest server string (banner, software) carried into outputs.
pub const MAX_TEXT_LEN: usize = 512;

/// Bounds an attacker-controlled string: at most [`MAX_TEXT_LEN`] characters, kept verbatim otherwise.
pub fn bound(s: &str) -> String {
    s.chars().take(MAX_TEXT_LEN).collect()
}

/// Implementation as analysis sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct ImplFacts {
    /// Label (`ElectrumX`, `Fulcrum`, `electrs`, …, `unknown`).
    pub label: String,
    /// Version.
    pub version: Option<String>,
    /// Confidence in [0, 1].
    pub confidence: f64,
    /// Evidence lines.
    pub evidence: Vec<String>,
    /// Claimed vs behavior mismatch.
    pub mismatch: bool,
    /// Why.
    pub mismatch_reasons: Vec<String>,
}

/// Everything later stages need about one server.
#[derive(Debug, Clone)]
pub struct Facts<'a> {
    /// Index into [`Normalized::servers`].
    pub idx: usize,
    /// The representative record: newest reachable, TLS endpoints first.
    pub main: Option<&'a EndpointRecord>,
    /// Newest reachable TLS record with a certificate.
    pub tls: Option<&'a TlsObservation>,
    /// Leaf certificate of `tls`.
    pub leaf: Option<&'a Certificate>,
    /// Any endpoint reachable in its newest round.
    pub reachable: bool,
    /// Rounds in which any endpoint was attempted.
    pub rounds_observed: u32,
    /// Fraction of those rounds with any endpoint reachable.
    pub uptime: Option<f64>,
    /// History, oldest first.
    pub history: Vec<HistoryPoint>,
    /// RTT samples (ms) over every reachable record: `server.version` RTT and timing-probe pings.
    pub rtt_samples: Vec<f64>,
    /// Primary IP (connected address of `main`, else the first known).
    pub ip: Option<String>,
    /// Enrichment of `ip`.
    pub info: IpInfo,
    /// Implementation.
    pub implementation: ImplFacts,
    /// Behavior hash (scanner's, else computed here).
    pub behavior_hash: Option<String>,
    /// Probe details of the newest record that ran each probe.
    pub xpub: Option<&'a XpubDetail>,
    /// Rate-limit probe.
    pub rate: Option<&'a RateLimitDetail>,
    /// Timing probe.
    pub timing: Option<&'a TimingDetail>,
    /// Malformed-request probe.
    pub malformed: Option<&'a MalformedDetail>,
    /// Address-format probe.
    pub address_formats: Option<&'a AddressFormatsDetail>,
    /// Reachable TLS endpoints.
    pub tls_endpoints: u32,
    /// Reachable plain-TCP endpoints.
    pub tcp_endpoints: u32,
}

impl Facts<'_> {
    /// `server.version` software string.
    pub fn software(&self) -> Option<&str> {
        self.main?
            .metadata
            .version
            .as_ref()?
            .result
            .as_ref()
            .map(|v| v.software.as_str())
    }
    /// Banner text.
    pub fn banner(&self) -> Option<&str> {
        self.main?.metadata.banner.as_ref()?.result.as_deref()
    }
    /// Tip height.
    pub fn tip_height(&self) -> Option<u64> {
        self.main?
            .metadata
            .headers
            .as_ref()?
            .result
            .as_ref()
            .map(|h| h.height)
    }
    /// Median RTT.
    pub fn rtt_median(&self) -> Option<f64> {
        stats::median(&self.rtt_samples)
    }
}

/// Builds facts for every server.
pub fn profile<'a>(n: &Normalized<'a>, enricher: &Enricher) -> Vec<Facts<'a>> {
    n.servers
        .iter()
        .enumerate()
        .map(|(i, g)| profile_one(i, g, n, enricher))
        .collect()
}

fn all_records<'a, 'g>(g: &'g ServerGroup<'a>) -> impl Iterator<Item = &'a EndpointRecord> + 'g {
    g.endpoints
        .iter()
        .flat_map(|e| e.records.iter().map(|(_, r)| *r))
}

fn profile_one<'a>(
    idx: usize,
    g: &ServerGroup<'a>,
    n: &Normalized<'a>,
    enricher: &Enricher,
) -> Facts<'a> {
    // Newest reachable record per endpoint, TLS first, then newest.
    let mut candidates: Vec<&'a EndpointRecord> = g
        .endpoints
        .iter()
        .filter_map(|e| e.latest_reachable())
        .collect();
    candidates.sort_by_key(|r| {
        (
            r.endpoint.transport != Transport::Tls,
            std::cmp::Reverse(r.started_ms),
        )
    });
    let main = candidates.first().copied();
    let tls = candidates
        .iter()
        .filter_map(|r| r.tls.as_ref())
        .find(|t| !t.chain.is_empty());
    let leaf = tls.and_then(|t| t.chain.iter().find(|c| c.position == 0).or(t.chain.first()));
    let reachable = g
        .endpoints
        .iter()
        .any(|e| e.latest().is_some_and(|r| r.status.is_reachable()));
    let (mut tls_endpoints, mut tcp_endpoints) = (0, 0);
    for e in &g.endpoints {
        if e.latest().is_some_and(|r| r.status.is_reachable()) {
            match e.endpoint.transport {
                Transport::Tls => tls_endpoints += 1,
                Transport::Tcp => tcp_endpoints += 1,
            }
        }
    }

    // Rounds: a round counts once however many endpoints were tried in it.
    // Per round: (reachable, tip height, RTT samples, started ms).
    type RoundFacts = (bool, Option<u64>, Vec<f64>, u64);
    let mut per_round: std::collections::BTreeMap<(usize, u32), RoundFacts> = Default::default();
    let mut rtt_samples = Vec::new();
    for (rk, r) in g.endpoints.iter().flat_map(|e| e.records.iter()) {
        let (rk, r) = (*rk, *r);
        let slot = per_round
            .entry(rk)
            .or_insert((false, None, Vec::new(), r.started_ms));
        slot.3 = slot.3.min(r.started_ms);
        if r.status.is_reachable() {
            slot.0 = true;
            if let Some(h) = r.metadata.headers.as_ref().and_then(|a| a.result.as_ref()) {
                slot.1 = Some(slot.1.map_or(h.height, |x: u64| x.max(h.height)));
            }
            if let Some(v) = &r.metadata.version {
                if v.rtt_ms.is_finite() && v.rtt_ms >= 0.0 {
                    slot.2.push(v.rtt_ms);
                    rtt_samples.push(v.rtt_ms);
                }
            }
            for p in &r.probes {
                if let ProbeDetail::Timing(t) = &p.detail {
                    rtt_samples.extend(
                        t.ping_samples
                            .iter()
                            .copied()
                            .filter(|x| x.is_finite() && *x >= 0.0),
                    );
                }
            }
        }
    }
    let rounds_observed = per_round.len() as u32;
    let up = per_round.values().filter(|v| v.0).count();
    let uptime = (rounds_observed > 0).then(|| up as f64 / f64::from(rounds_observed));
    let history = per_round
        .iter()
        .map(|(rk, v)| HistoryPoint {
            run_id: n.run_ids.get(rk.0).cloned().unwrap_or_default(),
            round: rk.1,
            at: rfc3339(v.3),
            reachable: v.0,
            height: v.1,
            rtt_ms: stats::median(&v.2),
        })
        .collect();

    let ip = main
        .and_then(|r| r.ip.clone())
        .or_else(|| g.ips.first().cloned());
    let info = if g.onion() {
        IpInfo::default()
    } else {
        ip.as_deref()
            .map(|i| enricher.lookup(i))
            .unwrap_or_default()
    };

    // Probe details: newest record (any endpoint) that carries each probe.
    let mut recs: Vec<&'a EndpointRecord> =
        all_records(g).filter(|r| r.status.is_reachable()).collect();
    recs.sort_by_key(|r| std::cmp::Reverse(r.started_ms));
    let find = |f: &dyn Fn(&'a ProbeDetail) -> bool| -> Option<&'a ProbeDetail> {
        recs.iter()
            .flat_map(|r| r.probes.iter())
            .map(|p| &p.detail)
            .find(|d| f(d))
    };
    let xpub = find(&|d| matches!(d, ProbeDetail::Xpub(_))).and_then(|d| {
        if let ProbeDetail::Xpub(x) = d {
            Some(x)
        } else {
            None
        }
    });
    let rate = find(&|d| matches!(d, ProbeDetail::RateLimit(_))).and_then(|d| {
        if let ProbeDetail::RateLimit(x) = d {
            Some(x)
        } else {
            None
        }
    });
    let timing = find(&|d| matches!(d, ProbeDetail::Timing(_))).and_then(|d| {
        if let ProbeDetail::Timing(x) = d {
            Some(x)
        } else {
            None
        }
    });
    let malformed = find(&|d| matches!(d, ProbeDetail::Malformed(_))).and_then(|d| {
        if let ProbeDetail::Malformed(x) = d {
            Some(x)
        } else {
            None
        }
    });
    let address_formats = find(&|d| matches!(d, ProbeDetail::AddressFormats(_))).and_then(|d| {
        if let ProbeDetail::AddressFormats(x) = d {
            Some(x)
        } else {
            None
        }
    });

    let implementation = implementation_of(main);
    let behavior_hash = main
        .and_then(|r| r.behavior_hash.clone())
        .or_else(|| main.map(behavior_hash_fallback));
    Facts {
        idx,
        main,
        tls,
        leaf,
        reachable,
        rounds_observed,
        uptime,
        history,
        rtt_samples,
        ip,
        info,
        implementation,
        behavior_hash,
        xpub,
        rate,
        timing,
        malformed,
        address_formats,
        tls_endpoints,
        tcp_endpoints,
    }
}

/// Implementation from the scanner's inference, else from the software string.
pub fn implementation_of(main: Option<&EndpointRecord>) -> ImplFacts {
    if let Some(inf) = main.and_then(|r| r.inference.as_ref()) {
        return ImplFacts {
            label: inf.implementation.label().to_string(),
            version: inf.version.as_deref().map(bound),
            confidence: inf.confidence.clamp(0.0, 1.0),
            evidence: inf
                .evidence
                .iter()
                .take(MAX_EVIDENCE)
                .map(|s| bound(s))
                .collect(),
            mismatch: inf.mismatch,
            mismatch_reasons: inf
                .mismatch_reasons
                .iter()
                .take(MAX_EVIDENCE)
                .map(|s| bound(s))
                .collect(),
        };
    }
    let software = main.and_then(|r| {
        r.metadata
            .version
            .as_ref()?
            .result
            .as_ref()
            .map(|v| v.software.clone())
    });
    let Some(sw) = software else {
        return ImplFacts {
            label: Implementation::Unknown.label().into(),
            version: None,
            confidence: 0.0,
            evidence: vec![],
            mismatch: false,
            mismatch_reasons: vec![],
        };
    };
    let (imp, version) = parse_software(&sw);
    ImplFacts {
        label: imp.label().into(),
        version,
        // A version string alone is a claim, not behavior: low confidence.
        confidence: if imp == Implementation::Unknown {
            0.0
        } else {
            SOFTWARE_ONLY_CONFIDENCE
        },
        evidence: vec![format!("server.version software: {}", bound(&sw))],
        mismatch: false,
        mismatch_reasons: vec![],
    }
}

/// Evidence lines kept per server.
const MAX_EVIDENCE: usize = 16;
/// Confidence given to an implementation read from the software string alone.
pub const SOFTWARE_ONLY_CONFIDENCE: f64 = 0.5;

/// Reads `ElectrumX 1.16.0`, `Fulcrum 1.9.8`, `electrs/0.10.2`, `electrs-esplora 0.4.1`, … .
pub fn parse_software(sw: &str) -> (Implementation, Option<String>) {
    let lower = sw.to_ascii_lowercase();
    let imp = if lower.starts_with("electrumx") {
        Implementation::Electrumx
    } else if lower.starts_with("fulcrum") {
        Implementation::Fulcrum
    } else if lower.contains("esplora") {
        Implementation::EsploraElectrs
    } else if lower.contains("mempool") {
        Implementation::MempoolElectrs
    } else if lower.starts_with("electrs") {
        Implementation::Electrs
    } else if lower.contains("personal") || lower.starts_with("eps") {
        Implementation::ElectrumPersonalServer
    } else {
        Implementation::Unknown
    };
    let version = sw
        .split([' ', '/', '-'])
        .map(|t| t.trim_start_matches('v'))
        .find(|t| t.chars().next().is_some_and(|c| c.is_ascii_digit()) && t.contains('.'))
        .map(bound);
    (imp, version)
}

/// A behavior hash when the scanner wrote none: SHA-256 over the normalized facts that
/// do not depend on the host (software family, protocol, feature keys, wire padding, probe outcomes).
pub fn behavior_hash_fallback(r: &EndpointRecord) -> String {
    let mut h = Sha256::new();
    let sw = r.metadata.version.as_ref().and_then(|a| a.result.as_ref());
    h.update(
        sw.map(|v| parse_software(&v.software).0.label())
            .unwrap_or("-"),
    );
    h.update(b"\0");
    h.update(sw.map(|v| v.protocol.as_str()).unwrap_or("-"));
    h.update(b"\0");
    if let Some(f) = r.metadata.features.as_ref().and_then(|a| a.result.as_ref()) {
        h.update(f.keys.join(",").as_bytes());
    }
    h.update([
        u8::from(r.wire.padded_lines > 0),
        u8::from(r.wire.crlf_lines > 0),
    ]);
    for p in &r.probes {
        if let ProbeDetail::Malformed(m) = &p.detail {
            for c in &m.cases {
                h.update(format!("{}={}/{:?};", c.case, c.outcome, c.code).as_bytes());
            }
        }
    }
    hex::encode(h.finalize()).chars().take(16).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn software_strings() {
        for (s, imp, v) in [
            (
                "ElectrumX 1.16.0",
                Implementation::Electrumx,
                Some("1.16.0"),
            ),
            ("Fulcrum 1.9.8", Implementation::Fulcrum, Some("1.9.8")),
            ("electrs/0.10.2", Implementation::Electrs, Some("0.10.2")),
            (
                "electrs-esplora 0.4.1",
                Implementation::EsploraElectrs,
                Some("0.4.1"),
            ),
            (
                "mempool-electrs v3.0.0",
                Implementation::MempoolElectrs,
                Some("3.0.0"),
            ),
            ("<script>", Implementation::Unknown, None),
        ] {
            assert_eq!(parse_software(s), (imp, v.map(String::from)), "{s}");
        }
    }
}
