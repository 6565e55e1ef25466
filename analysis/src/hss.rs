//! Honeypot Suspicion Score (HSS): methodology §7 indicators, each with a weight,
//! a threshold and a rationale ([`CATALOGUE`], rendered in `docs/honeypot-indicators.md`
//! and in every snapshot).
//!
//! The score is the sum of the points of the indicators that fired, capped at 100
//! (the weights sum to 100). Levels: `high` at [`HIGH_THRESHOLD`] and above, `medium` at
//! [`MEDIUM_THRESHOLD`] and above, `low` below. Indicators are *signals, not proof*; in
//! particular a self-signed certificate is the norm on this network (ElectrumX's
//! documented setup makes one) and is not an indicator at all.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use observatory_model::raw::RpcError;
use observatory_model::snapshot::{FiredIndicator, Hss, HssSummary, IndicatorDoc, Level};

use crate::normalize::Normalized;
use crate::profile::Facts;

/// Score at or above which a server is `medium`.
pub const MEDIUM_THRESHOLD: f64 = 25.0;
/// Score at or above which a server is `high`.
pub const HIGH_THRESHOLD: f64 = 50.0;

/// A leaf certificate shared by at least this many servers (distinct IP groups) is "reused".
pub const CERT_REUSE_MIN_SERVERS: usize = 3;
/// Perfect uptime is only judged over at least this many rounds.
pub const UPTIME_MIN_ROUNDS: u32 = 6;
/// Perfect uptime is "unusual" only when fewer than this share of servers (with enough rounds) have it.
pub const UPTIME_PERFECT_MAX_SHARE: f64 = 0.5;
/// Latency stability needs at least this many ping samples.
pub const LATENCY_MIN_SAMPLES: u32 = 10;
/// …and a path long enough to jitter (loopback and LAN paths are legitimately flat).
pub const LATENCY_MIN_MEDIAN_MS: f64 = 5.0;
/// Ping RTT coefficient of variation below which latency is "abnormally stable".
pub const LATENCY_MAX_CV: f64 = 0.01;
/// History lookups this many times slower than ping suggest per-query work such as logging.
pub const HISTORY_PING_RATIO: f64 = 10.0;
/// …and at least this many milliseconds slower (ratios of tiny numbers mean nothing).
pub const HISTORY_MIN_EXTRA_MS: f64 = 50.0;
/// Minimum sequential history samples for the ratio test.
pub const HISTORY_MIN_SAMPLES: u32 = 5;
/// xpub sequential latency rising faster than this (ms per query) is "rising".
pub const XPUB_SLOPE_MS: f64 = 2.0;
/// Minimum scripthashes for the slope test.
pub const XPUB_SLOPE_MIN_QUERIES: u32 = 20;
/// Uniform groups need at least this many IP-only servers in one ASN.
pub const UNIFORM_MIN_GROUP: usize = 5;
/// Points of a uniform group whose certificates were not minted together (the rest of the
/// weight is for certificates minted together).
pub const UNIFORM_BASE_POINTS: f64 = 10.0;
/// Certificates "minted together": notBefore of the whole group within this many seconds.
pub const MINTED_TOGETHER_SECS: i64 = 48 * 3600;
/// JSON-RPC error codes that mean throttling (ElectrumX/Fulcrum, and JSON-RPC "server busy").
pub const THROTTLE_CODES: &[i64] = &[-101, -102, -32000];
/// Message fragments that mean throttling (matched lower-case).
pub const THROTTLE_WORDS: &[&str] = &[
    "rate limit",
    "too many",
    "limit exceeded",
    "slow down",
    "busy",
    "throttl",
    "excessive",
];
/// ElectrumX's documented cost limiter text: applied to every request type, so not selective.
pub const ELECTRUMX_COST_LIMIT_TEXT: &str = "excessive resource usage";

/// A certificate that server software ships with its key, so that every install which keeps
/// it presents the same certificate. Its private key is public, so sharing it says nothing
/// about who runs the servers: [`cert_reuse`] never counts it.
#[derive(Debug, Clone, Copy)]
pub struct KnownDefault {
    /// What it is.
    pub name: &'static str,
    /// SHA-256 of the certificate DER, lower-case hex.
    pub sha256: &'static str,
    /// SHA-256 of its SubjectPublicKeyInfo DER, lower-case hex (matches re-issued copies too).
    pub spki_sha256: &'static str,
    /// Where it comes from.
    pub source: &'static str,
}

/// Default certificates shipped with server software (rendered in `docs/honeypot-indicators.md`,
/// checked by `analysis/tests/docs.rs`).
pub const KNOWN_DEFAULT_CERTS: &[KnownDefault] = &[
    KnownDefault {
        name: "Electrum Personal Server bundled certificate (CN=electrum-server.tld, RSA 2048, X.509 v1, 2023-03-14 to 2028-03-12)",
        sha256: "8c290a8e9ed4ea7eed626bcc03717d22f19f1b922aa1e9d9a16109cb589729b8",
        spki_sha256: "df35cf4272968c8fe061df131802f817ec901a2766888783e7549424b83ccf40",
        source: "chris-belcher/electrum-personal-server, electrumpersonalserver/certs/cert.crt (with cert.key) at commit 04e0674, used by every install that keeps the default certfile",
    },
    KnownDefault {
        name: "Simulated network's stand-in for the Electrum Personal Server certificate (CN=electrum-server.tld, RSA 2048, X.509 v1)",
        sha256: "9c8f230214f72ef4ea5d9f5ce1e4ff7f4ca2d3df6175005714204020da4f9b8f",
        spki_sha256: "19df315196fe0c0fa9a122351c52a887f3904628f86e928234c33e19fda64e44",
        source: "this repository, simnet/src/tls.rs (key derived from the fixed seed EPS_STANDIN_SEED; checked by simnet/tests/simnet.rs)",
    },
];

/// The known default certificate a leaf is (by certificate or public-key hash), if any.
pub fn known_default(leaf: &observatory_model::raw::Certificate) -> Option<&'static KnownDefault> {
    known_default_by(&leaf.sha256, leaf.spki_sha256.as_deref())
}

/// [`known_default`] from the two hashes (lower- or upper-case hex).
pub fn known_default_by(sha256: &str, spki_sha256: Option<&str>) -> Option<&'static KnownDefault> {
    KNOWN_DEFAULT_CERTS.iter().find(|k| {
        sha256.eq_ignore_ascii_case(k.sha256)
            || spki_sha256.is_some_and(|s| s.eq_ignore_ascii_case(k.spki_sha256))
    })
}

/// Indicator ids.
pub mod ids {
    /// Certificate reuse.
    pub const CERT_REUSE: &str = "cert-reuse";
    /// Perfect uptime.
    pub const PERFECT_UPTIME: &str = "perfect-uptime";
    /// Latency stability.
    pub const LATENCY_STABILITY: &str = "latency-stability";
    /// Protocol mismatch.
    pub const PROTOCOL_MISMATCH: &str = "protocol-mismatch";
    /// Logging timing.
    pub const LOGGING_TIMING: &str = "logging-timing";
    /// Selective rate limiting.
    pub const SELECTIVE_RATE_LIMIT: &str = "selective-rate-limit";
    /// Uniform group.
    pub const UNIFORM_GROUP: &str = "uniform-group";
}

/// One catalogue entry (static form of [`IndicatorDoc`]).
#[derive(Debug, Clone, Copy)]
pub struct Indicator {
    /// Id.
    pub id: &'static str,
    /// Name.
    pub name: &'static str,
    /// Maximum points.
    pub weight: f64,
    /// When it fires.
    pub threshold: &'static str,
    /// Why it matters.
    pub rationale: &'static str,
}

/// The indicators, in methodology §7 order. Weights sum to 100.
pub const CATALOGUE: &[Indicator] = &[
    Indicator {
        id: ids::CERT_REUSE,
        name: "Certificate reuse across unrelated servers",
        weight: 20.0,
        threshold: "the same leaf certificate (SHA-256) is presented by >= 3 servers (distinct IP groups) whose host names do not share one base domain; full points when they span >= 2 ASNs, 75% within one ASN; known default certificates shipped with server software never count",
        rationale: "An operator reusing one key across unrelated-looking servers is running them as a fleet while presenting them as independent; a wallet that rotates between them still talks to one party.",
    },
    Indicator {
        id: ids::PERFECT_UPTIME,
        name: "Unusually perfect uptime",
        weight: 10.0,
        threshold: "reachable in every one of >= 6 rounds while fewer than 50% of servers observed over >= 6 rounds manage that",
        rationale: "Volunteer servers restart, upgrade and resync; uninterrupted availability well above the network's norm suggests professionally run infrastructure with an interest in staying in wallets' server lists.",
    },
    Indicator {
        id: ids::LATENCY_STABILITY,
        name: "Abnormal latency stability",
        weight: 10.0,
        threshold: "timing probe: >= 10 ping samples, median >= 5 ms, coefficient of variation < 0.01",
        rationale: "Round trips over the Internet jitter; near-constant RTT on a long path suggests a synthetic responder or a fixed artificial delay in front of the real server.",
    },
    Indicator {
        id: ids::PROTOCOL_MISMATCH,
        name: "Inconsistent or modified protocol responses",
        weight: 20.0,
        threshold: "inference: claimed implementation disagrees with observed behavior (full points); or the removed blockchain.address.* methods answer while protocol >= 1.3 was negotiated, or replies arrive that match no request (wrong, duplicate or mistyped ids) (half points)",
        rationale: "A server that claims to be stock software but behaves differently runs modified code; modified servers are where extra logging lives.",
    },
    Indicator {
        id: ids::LOGGING_TIMING,
        name: "Timing that suggests logging",
        weight: 15.0,
        threshold: "xpub probe: sequential get_history median >= 10x the ping median and >= 50 ms slower (>= 5 samples); or sequential latency rising >= 2 ms per query over >= 20 queries",
        rationale: "History lookups for empty test-vector addresses are index reads as cheap as a ping; much slower or steadily slower answers point to per-query work such as recording who asked for what.",
    },
    Indicator {
        id: ids::SELECTIVE_RATE_LIMIT,
        name: "Selective rate limiting",
        weight: 10.0,
        threshold: "xpub history queries draw throttling errors while the rate-limit probe's burst of cheap requests is not throttled (ElectrumX's documented cost limiter text excepted)",
        rationale: "Throttling only wallet-scan traffic, not cheap requests, is what a server does when it wants to pace and correlate address sets rather than protect itself.",
    },
    Indicator {
        id: ids::UNIFORM_GROUP,
        name: "Suspiciously uniform group",
        weight: 15.0,
        threshold: ">= 5 IP-only servers in one ASN with identical behavior hash, software string and banner (10 points); +5 when their certificates were minted within 48 hours of each other",
        rationale: "Independent volunteers differ in versions, banners and setup dates; a batch of identical anonymous servers in one network is a fleet deployed at once.",
    },
];

/// Points of an indicator.
fn weight(id: &str) -> f64 {
    CATALOGUE
        .iter()
        .find(|i| i.id == id)
        .map_or(0.0, |i| i.weight)
}

/// The catalogue as snapshot documentation.
pub fn indicator_docs() -> Vec<IndicatorDoc> {
    CATALOGUE
        .iter()
        .map(|i| IndicatorDoc {
            id: i.id.into(),
            name: i.name.into(),
            weight: i.weight,
            threshold: i.threshold.into(),
            rationale: i.rationale.into(),
        })
        .collect()
}

/// Level of a score.
pub fn level(score: f64) -> Level {
    if score >= HIGH_THRESHOLD {
        Level::High
    } else if score >= MEDIUM_THRESHOLD {
        Level::Medium
    } else {
        Level::Low
    }
}

/// What is known about one leaf certificate presented by several servers, computed once
/// per certificate (not once per member: a fleet of m servers would cost O(m²)).
#[derive(Debug, Clone, PartialEq)]
pub struct SharedCert {
    /// Servers presenting it.
    pub servers: usize,
    /// Distinct IPs among them.
    pub ips: usize,
    /// Distinct ASNs among them.
    pub asns: usize,
    /// Every host of every member shares one base domain (one operator's certificate).
    pub one_domain: bool,
}

/// A uniform group: its members and whether their certificates were minted together.
#[derive(Debug, Clone, PartialEq)]
pub struct UniformGroup {
    /// Server indices.
    pub members: Vec<usize>,
    /// notBefore of at least [`UNIFORM_MIN_GROUP`] members within [`MINTED_TOGETHER_SECS`].
    pub minted_together: bool,
}

/// Network-wide facts the indicators compare a server against, built in O(n).
#[derive(Debug, Default)]
pub struct Context {
    /// Leaf SHA-256 → servers presenting it.
    pub cert_servers: HashMap<String, Vec<usize>>,
    /// Leaf SHA-256 → reuse facts, for certificates on at least [`CERT_REUSE_MIN_SERVERS`] servers.
    pub shared_certs: HashMap<String, SharedCert>,
    /// Share of servers (with enough rounds) with perfect uptime.
    pub perfect_uptime_share: Option<f64>,
    /// Uniform groups.
    pub uniform_groups: Vec<UniformGroup>,
    /// Server index → index into `uniform_groups`.
    pub uniform: HashMap<usize, usize>,
}

/// Base domain (last two labels) of a DNS name; None for IP literals and onions.
pub fn base_domain(host: &str) -> Option<String> {
    if host.parse::<std::net::IpAddr>().is_ok() || host.ends_with(".onion") {
        return None;
    }
    let labels: Vec<&str> = host.trim_end_matches('.').rsplit('.').take(2).collect();
    (labels.len() == 2).then(|| format!("{}.{}", labels[1], labels[0]))
}

impl Context {
    /// Builds the context over every server.
    pub fn build(facts: &[Facts<'_>], n: &Normalized<'_>) -> Self {
        let mut ctx = Context::default();
        for f in facts {
            if let Some(leaf) = f.leaf {
                ctx.cert_servers
                    .entry(leaf.sha256.clone())
                    .or_default()
                    .push(f.idx);
            }
        }
        let judged: Vec<&Facts<'_>> = facts
            .iter()
            .filter(|f| f.rounds_observed >= UPTIME_MIN_ROUNDS)
            .collect();
        if !judged.is_empty() {
            let perfect = judged
                .iter()
                .filter(|f| f.uptime.is_some_and(|u| u >= 1.0))
                .count();
            ctx.perfect_uptime_share = Some(perfect as f64 / judged.len() as f64);
        }
        let mut groups: BTreeMap<(u32, String, String, String), Vec<usize>> = BTreeMap::new();
        for f in facts.iter().filter(|f| f.reachable) {
            let Some(g) = n.servers.get(f.idx) else {
                continue;
            };
            let ip_only = g
                .hosts
                .iter()
                .all(|h| h.parse::<std::net::IpAddr>().is_ok());
            let (Some(asn), Some(hash)) = (f.info.asn, f.behavior_hash.clone()) else {
                continue;
            };
            if ip_only {
                let key = (
                    asn,
                    hash,
                    f.software().unwrap_or("").to_string(),
                    f.banner().unwrap_or("").to_string(),
                );
                groups.entry(key).or_default().push(f.idx);
            }
        }
        for members in groups
            .into_values()
            .filter(|m| m.len() >= UNIFORM_MIN_GROUP)
        {
            let before: Vec<i64> = members
                .iter()
                .filter_map(|&i| facts.get(i)?.leaf?.not_before_unix)
                .collect();
            let minted_together = before.len() >= UNIFORM_MIN_GROUP
                && before
                    .iter()
                    .max()
                    .zip(before.iter().min())
                    .is_some_and(|(a, b)| a - b <= MINTED_TOGETHER_SECS);
            let g = ctx.uniform_groups.len();
            for &m in &members {
                ctx.uniform.insert(m, g);
            }
            ctx.uniform_groups.push(UniformGroup {
                members,
                minted_together,
            });
        }
        // A known default certificate (its key ships with the software) is shared by design.
        let default_shas: BTreeSet<&str> = facts
            .iter()
            .filter_map(|f| f.leaf)
            .filter(|l| known_default(l).is_some())
            .map(|l| l.sha256.as_str())
            .collect();
        for (sha, members) in ctx.cert_servers.iter().filter(|(sha, m)| {
            m.len() >= CERT_REUSE_MIN_SERVERS && !default_shas.contains(sha.as_str())
        }) {
            let mut domains: BTreeSet<Option<String>> = BTreeSet::new();
            for &m in members {
                for h in n
                    .servers
                    .get(m)
                    .map(|g| g.hosts.as_slice())
                    .unwrap_or_default()
                {
                    domains.insert(base_domain(h));
                }
            }
            let asns: BTreeSet<u32> = members
                .iter()
                .filter_map(|&m| facts.get(m)?.info.asn)
                .collect();
            let ips: BTreeSet<&str> = members
                .iter()
                .filter_map(|&m| facts.get(m)?.ip.as_deref())
                .collect();
            let one_domain =
                domains.len() == 1 && domains.iter().next().is_some_and(Option::is_some);
            ctx.shared_certs.insert(
                sha.clone(),
                SharedCert {
                    servers: members.len(),
                    ips: ips.len(),
                    asns: asns.len(),
                    one_domain,
                },
            );
        }
        ctx
    }
}

/// Scores one server against the network context (O(1) per server beyond its own facts).
pub fn score(f: &Facts<'_>, ctx: &Context) -> Hss {
    let fired: Vec<FiredIndicator> = [
        cert_reuse(f, ctx),
        perfect_uptime(f, ctx),
        latency_stability(f),
        protocol_mismatch(f),
        logging_timing(f),
        selective_rate_limit(f),
        uniform_group(f, ctx),
    ]
    .into_iter()
    .flatten()
    .collect();
    let score = fired
        .iter()
        .map(|i| i.points)
        .sum::<f64>()
        .clamp(0.0, 100.0);
    Hss {
        score,
        level: level(score),
        fired,
    }
}

fn fire(id: &str, fraction: f64, evidence: String) -> Option<FiredIndicator> {
    Some(FiredIndicator {
        id: id.into(),
        points: weight(id) * fraction,
        evidence,
    })
}

/// Certificate reuse across unrelated servers.
pub fn cert_reuse(f: &Facts<'_>, ctx: &Context) -> Option<FiredIndicator> {
    let leaf = f.leaf?;
    let c = ctx.shared_certs.get(&leaf.sha256)?;
    // One shared base domain across every host: one operator's multi-host certificate.
    if c.one_domain {
        return None;
    }
    let fraction = if c.asns >= 2 { 1.0 } else { 0.75 };
    fire(
        ids::CERT_REUSE,
        fraction,
        format!(
            "leaf {} presented by {} servers on {} IPs in {} ASN(s) without a common domain (threshold >= {CERT_REUSE_MIN_SERVERS} servers)",
            leaf.sha256.chars().take(16).collect::<String>(),
            c.servers,
            c.ips,
            c.asns
        ),
    )
}

/// Perfect uptime, judged against the network.
pub fn perfect_uptime(f: &Facts<'_>, ctx: &Context) -> Option<FiredIndicator> {
    let share = ctx.perfect_uptime_share?;
    if f.rounds_observed < UPTIME_MIN_ROUNDS || f.uptime? < 1.0 || share >= UPTIME_PERFECT_MAX_SHARE
    {
        return None;
    }
    fire(
        ids::PERFECT_UPTIME,
        1.0,
        format!(
            "reachable in {0}/{0} rounds while only {1:.0}% of servers with >= {UPTIME_MIN_ROUNDS} rounds were (threshold < {2:.0}%)",
            f.rounds_observed,
            share * 100.0,
            UPTIME_PERFECT_MAX_SHARE * 100.0
        ),
    )
}

/// Abnormally stable latency.
pub fn latency_stability(f: &Facts<'_>) -> Option<FiredIndicator> {
    let p = &f.timing?.ping;
    if p.n < LATENCY_MIN_SAMPLES
        || p.median_ms < LATENCY_MIN_MEDIAN_MS
        || !p.cv.is_finite()
        || p.cv >= LATENCY_MAX_CV
    {
        return None;
    }
    fire(
        ids::LATENCY_STABILITY,
        1.0,
        format!("ping RTT cv {:.4} over {} samples at median {:.1} ms (threshold cv < {LATENCY_MAX_CV})", p.cv, p.n, p.median_ms),
    )
}

/// Negotiated protocol at least 1.3 (when `blockchain.address.*` was removed).
fn protocol_at_least_1_3(p: &str) -> bool {
    let mut it = p.split('.').map(|x| x.parse::<u32>().unwrap_or(0));
    let (maj, min) = (it.next().unwrap_or(0), it.next().unwrap_or(0));
    (maj, min) >= (1, 3)
}

/// Inconsistent or modified protocol responses. Full points for a claim that behavior
/// contradicts, half points otherwise; the evidence lists every reason seen.
pub fn protocol_mismatch(f: &Facts<'_>) -> Option<FiredIndicator> {
    let mut reasons = Vec::new();
    if f.implementation.mismatch {
        let why = if f.implementation.mismatch_reasons.is_empty() {
            "no reason recorded".to_string()
        } else {
            f.implementation.mismatch_reasons.join("; ")
        };
        reasons.push(format!(
            "claimed implementation disagrees with behavior: {why}"
        ));
    }
    if let Some(main) = f.main {
        let proto = main
            .metadata
            .version
            .as_ref()
            .and_then(|a| a.result.as_ref())
            .map(|v| v.protocol.as_str());
        if let Some(proto) = proto.filter(|p| protocol_at_least_1_3(p)) {
            if f.address_formats.is_some_and(|a| a.legacy_address_answered) {
                reasons.push(format!("blockchain.address.* answered although protocol {proto} (>= 1.3) was negotiated"));
            }
        }
        // A stock server answers each request once, with its id; the scanner sets the others
        // aside (`wire.unmatched_replies`), so the metadata stands but the deviation shows here.
        let unmatched = main.wire.unmatched_replies;
        if unmatched > 0 {
            reasons.push(format!(
                "{unmatched} repl{} matched no request (wrong, duplicate or mistyped id)",
                if unmatched == 1 { "y" } else { "ies" }
            ));
        }
    }
    if reasons.is_empty() {
        return None;
    }
    fire(
        ids::PROTOCOL_MISMATCH,
        if f.implementation.mismatch { 1.0 } else { 0.5 },
        reasons.join("; "),
    )
}

/// Timing that suggests logging.
pub fn logging_timing(f: &Facts<'_>) -> Option<FiredIndicator> {
    let x = f.xpub?;
    let ping = f
        .timing
        .map(|t| t.ping.median_ms)
        .filter(|m| *m > 0.0)
        .or_else(|| f.rtt_median());
    if let Some(ping) = ping {
        let h = x.sequential.median_ms;
        if x.sequential.n >= HISTORY_MIN_SAMPLES
            && h >= HISTORY_PING_RATIO * ping
            && h - ping >= HISTORY_MIN_EXTRA_MS
        {
            return fire(
                ids::LOGGING_TIMING,
                1.0,
                format!("get_history median {h:.1} ms vs ping {ping:.1} ms ({:.1}x; threshold >= {HISTORY_PING_RATIO}x and >= {HISTORY_MIN_EXTRA_MS} ms)", h / ping),
            );
        }
    }
    let slope = x.sequential_slope_ms?;
    if x.scripthashes >= XPUB_SLOPE_MIN_QUERIES && slope.is_finite() && slope >= XPUB_SLOPE_MS {
        return fire(
            ids::LOGGING_TIMING,
            1.0,
            format!("sequential get_history latency rising {slope:.2} ms/query over {} queries (threshold >= {XPUB_SLOPE_MS})", x.scripthashes),
        );
    }
    None
}

/// True when an error object signals throttling (and is not ElectrumX's all-requests cost limiter).
pub fn is_selective_throttle(e: &RpcError) -> bool {
    let m = e.message.to_ascii_lowercase();
    if m.contains(ELECTRUMX_COST_LIMIT_TEXT) {
        return false;
    }
    e.code.is_some_and(|c| THROTTLE_CODES.contains(&c))
        || THROTTLE_WORDS.iter().any(|w| m.contains(w))
}

/// Selective rate limiting.
pub fn selective_rate_limit(f: &Facts<'_>) -> Option<FiredIndicator> {
    let x = f.xpub?;
    let r = f.rate?;
    if r.throttling_observed || !r.throttle_errors.is_empty() || r.disconnected_after.is_some() {
        return None;
    }
    let hits: Vec<&RpcError> = x
        .batch_error
        .iter()
        .chain(x.errors.iter())
        .filter(|e| is_selective_throttle(e))
        .collect();
    let first = hits.first()?;
    fire(
        ids::SELECTIVE_RATE_LIMIT,
        1.0,
        format!(
            "{} throttling error(s) on xpub history queries (first: code {}, {:?}) while a burst of {} cheap requests was not throttled",
            hits.len(),
            first.code.map_or_else(|| "none".to_string(), |c| c.to_string()),
            first.message.chars().take(80).collect::<String>(),
            r.burst_size
        ),
    )
}

/// Suspiciously uniform group.
pub fn uniform_group(f: &Facts<'_>, ctx: &Context) -> Option<FiredIndicator> {
    let g = ctx.uniform_groups.get(*ctx.uniform.get(&f.idx)?)?;
    let (members, minted) = (&g.members, &g.minted_together);
    let fraction = if *minted {
        1.0
    } else {
        UNIFORM_BASE_POINTS / weight(ids::UNIFORM_GROUP)
    };
    fire(
        ids::UNIFORM_GROUP,
        fraction,
        format!(
            "one of {} IP-only servers in AS{} with identical behavior hash, software and banner{} (threshold >= {UNIFORM_MIN_GROUP})",
            members.len(),
            f.info.asn.unwrap_or(0),
            if *minted { ", certificates minted within 48 h" } else { "" }
        ),
    )
}

pub use observatory_model::snapshot::UNREACHABLE_LEVEL_KEY as UNREACHABLE_KEY;

/// Catalogue plus level counts. `levels` and `reachable` are per server (same order). The
/// levels count reachable servers only: a server that did not answer was not measured, so it
/// is not `low`; those are counted under [`UNREACHABLE_KEY`].
pub fn summary(levels: &[Level], reachable: &[bool]) -> HssSummary {
    let mut by_level = BTreeMap::new();
    let measured: Vec<Level> = levels
        .iter()
        .zip(reachable)
        .filter(|(_, r)| **r)
        .map(|(l, _)| *l)
        .collect();
    for l in [Level::Low, Level::Medium, Level::High] {
        by_level.insert(
            l.as_str().to_string(),
            measured.iter().filter(|x| **x == l).count() as u64,
        );
    }
    by_level.insert(
        UNREACHABLE_KEY.to_string(),
        reachable.iter().filter(|r| !**r).count() as u64,
    );
    HssSummary {
        indicators: indicator_docs(),
        medium_threshold: MEDIUM_THRESHOLD,
        high_threshold: HIGH_THRESHOLD,
        by_level,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_sum_to_100_and_levels() {
        let total: f64 = CATALOGUE.iter().map(|i| i.weight).sum();
        assert!((total - 100.0).abs() < 1e-9);
        assert_eq!(level(0.0), Level::Low);
        assert_eq!(level(24.9), Level::Low);
        assert_eq!(level(25.0), Level::Medium);
        assert_eq!(level(50.0), Level::High);
        let ids: BTreeSet<&str> = CATALOGUE.iter().map(|i| i.id).collect();
        assert_eq!(ids.len(), CATALOGUE.len());
    }

    #[test]
    fn helpers() {
        assert_eq!(
            base_domain("electrum.example.org").as_deref(),
            Some("example.org")
        );
        assert_eq!(base_domain("192.0.2.1"), None);
        assert_eq!(base_domain("abc.onion"), None);
        assert!(
            protocol_at_least_1_3("1.4")
                && protocol_at_least_1_3("1.10")
                && !protocol_at_least_1_3("1.2")
        );
        assert!(is_selective_throttle(&RpcError {
            code: Some(-101),
            message: "x".into()
        }));
        assert!(is_selective_throttle(&RpcError {
            code: None,
            message: "Too many requests".into()
        }));
        assert!(!is_selective_throttle(&RpcError {
            code: Some(-101),
            message: "excessive resource usage".into()
        }));
        assert!(!is_selective_throttle(&RpcError {
            code: Some(1),
            message: "unknown method".into()
        }));
    }
}
