//! Snapshots: what analysis publishes and the site renders.
//!
//! `observatory analyze` writes `snapshots/<run-id>.json` ([`Snapshot`]) and
//! `snapshots/index.json` ([`SnapshotIndex`]). The site fetches the index,
//! checks [`SNAPSHOT_SCHEMA_VERSION`], then fetches the snapshot. Every string
//! that came from a server (banners, hosts, certificate fields, error texts)
//! is untrusted and must be rendered as text.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Version of the snapshot format. The site refuses other versions with a clear message.
pub const SNAPSHOT_SCHEMA_VERSION: u32 = 1;

/// `snapshots/index.json`: the list of published snapshots, newest last.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotIndex {
    /// [`SNAPSHOT_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Snapshots, oldest first.
    pub snapshots: Vec<SnapshotRef>,
}

/// One entry of the index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotRef {
    /// Run id (also the file stem).
    pub run_id: String,
    /// File name relative to the index, e.g. `20261121T120000Z-ab12.json`.
    pub file: String,
    /// When analysis generated it, RFC 3339.
    pub generated_at: String,
    /// Number of servers in it.
    pub servers: u64,
    /// Number of endpoints in it.
    pub endpoints: u64,
}

/// One published analysis of one scan run (plus any merged history).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// [`SNAPSHOT_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Run id of the newest scan included.
    pub run_id: String,
    /// Generation time, RFC 3339.
    pub generated_at: String,
    /// Scan start (earliest included round), RFC 3339.
    pub scan_started: String,
    /// Scan end (latest included round), RFC 3339.
    pub scan_finished: String,
    /// `observatory` version that produced it.
    pub software_version: String,
    /// Rounds merged into this snapshot.
    pub rounds: u32,
    /// Data sources and their licences (shown on every page footer).
    pub attribution: Vec<Attribution>,
    /// Headline counts.
    pub totals: Totals,
    /// One entry per server (group of endpoints), sorted by HSS descending.
    pub servers: Vec<Server>,
    /// Centralization by dimension.
    pub centralization: Vec<Dimension>,
    /// Clustering results.
    pub clusters: Clustering,
    /// HSS indicator catalogue and level counts.
    pub hss: HssSummary,
    /// Privacy risk assessment.
    pub privacy: Privacy,
    /// Files offered for download, relative to the snapshot directory.
    pub downloads: Vec<Download>,
    /// The data comes from a simulated network, not the public one: synthetic records,
    /// or every reachable server on a loopback address (as with `observatory simnet`).
    /// Set by analysis with `report::is_simulated`; the site shows a banner on every page
    /// when it is `true`. Absent in snapshots written before the field existed (`false`).
    #[serde(default)]
    pub simulated: bool,
}

/// A data source credit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attribution {
    /// What it is, e.g. `IP geolocation`.
    pub what: String,
    /// Who, e.g. `DB-IP.com (dbip-city-lite)`.
    pub source: String,
    /// Licence, e.g. `CC-BY-4.0`.
    pub licence: String,
    /// Link to the source (our constant, never server-supplied).
    pub url: String,
}

/// Headline counts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    /// Endpoints attempted (host, port, transport).
    pub endpoints: u64,
    /// Endpoints that spoke Electrum in the latest round.
    pub reachable_endpoints: u64,
    /// Servers (endpoint groups).
    pub servers: u64,
    /// Servers with at least one reachable endpoint.
    pub reachable_servers: u64,
    /// Onion endpoints.
    pub onion_endpoints: u64,
    /// Reachable TLS endpoints.
    pub tls_endpoints: u64,
    /// Reachable plain-TCP endpoints.
    pub tcp_endpoints: u64,
    /// Distinct IP addresses among reachable endpoints.
    pub distinct_ips: u64,
    /// Endpoints by final status name.
    pub by_status: BTreeMap<String, u64>,
}

/// HSS level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Score below the medium threshold.
    Low,
    /// Score at or above the medium threshold.
    Medium,
    /// Score at or above the high threshold.
    High,
}

impl Level {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Low => "low",
            Level::Medium => "medium",
            Level::High => "high",
        }
    }
}

/// A geographic location from GeoIP.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Location {
    /// ISO 3166-1 alpha-2.
    pub country_code: Option<String>,
    /// English country name.
    pub country: Option<String>,
    /// Continent code (`EU`, `NA`, …).
    pub continent: Option<String>,
    /// City, when a city database was used.
    pub city: Option<String>,
    /// Latitude, degrees.
    pub lat: Option<f64>,
    /// Longitude, degrees.
    pub lon: Option<f64>,
}

/// One endpoint of a server, as the site shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndpointView {
    /// `host:port:t|s`.
    pub key: String,
    /// Host (untrusted when learned from peers).
    pub host: String,
    /// Port.
    pub port: u16,
    /// `t` or `s`.
    pub transport: String,
    /// IP connected to.
    pub ip: Option<String>,
    /// Final status of the latest round.
    pub status: String,
    /// Error text (untrusted).
    pub error: Option<String>,
    /// TCP connect time, ms.
    pub connect_ms: Option<f64>,
    /// TLS handshake time, ms.
    pub tls_ms: Option<f64>,
    /// Where it was learned (`seed:…`, `peer:<key>`, …).
    pub provenance: Vec<String>,
}

/// Certificate facts for the site (leaf of the chain, plus chain length).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CertView {
    /// SHA-256 of the leaf DER, hex.
    pub sha256: String,
    /// SPKI SHA-256, hex.
    pub spki_sha256: Option<String>,
    /// Subject (untrusted).
    pub subject: Option<String>,
    /// Issuer (untrusted).
    pub issuer: Option<String>,
    /// Serial, hex.
    pub serial: Option<String>,
    /// X.509 version.
    pub version: Option<u32>,
    /// notBefore RFC 3339.
    pub not_before: Option<String>,
    /// notAfter RFC 3339.
    pub not_after: Option<String>,
    /// SAN entries (untrusted).
    pub san: Vec<String>,
    /// Key type and size, e.g. `RSA 2048`.
    pub key: Option<String>,
    /// Signature algorithm.
    pub signature_algorithm: Option<String>,
    /// Self-signed.
    pub self_signed: bool,
    /// Expired at scan time.
    pub expired: bool,
    /// Validates against the web PKI.
    pub webpki_valid: bool,
    /// Name matches the host.
    pub name_matches: bool,
    /// TLS version negotiated.
    pub tls_version: Option<String>,
    /// Cipher suite negotiated.
    pub cipher_suite: Option<String>,
    /// Chain length presented.
    pub chain_len: u32,
    /// Number of other servers (distinct IPs) presenting the same leaf.
    pub shared_with: u32,
}

/// A compact per-probe line for the server page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeView {
    /// Probe name.
    pub name: String,
    /// Status name.
    pub status: String,
    /// Key facts, as `(label, value)` pairs (values may contain server text: untrusted).
    pub facts: Vec<(String, String)>,
}

/// One fired HSS indicator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FiredIndicator {
    /// Indicator id (see [`IndicatorDoc`]).
    pub id: String,
    /// Points added to the score.
    pub points: f64,
    /// The measured value and the threshold it crossed, in words.
    pub evidence: String,
}

/// Honeypot Suspicion Score of one server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hss {
    /// 0–100.
    pub score: f64,
    /// Level from the score.
    pub level: Level,
    /// Indicators that fired.
    pub fired: Vec<FiredIndicator>,
}

/// Cluster memberships and projection of one server.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterAssignment {
    /// DBSCAN cluster id; None = noise.
    pub dbscan: Option<u32>,
    /// KMeans cluster id.
    pub kmeans: Option<u32>,
    /// Hierarchical (operator) group id.
    pub operator: Option<u32>,
    /// PCA coordinates.
    pub pca: Option<(f64, f64)>,
}

/// One point of a server's history across rounds/snapshots.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryPoint {
    /// Run id.
    pub run_id: String,
    /// Round within the run.
    pub round: u32,
    /// When, RFC 3339.
    pub at: String,
    /// Any endpoint reachable.
    pub reachable: bool,
    /// Tip height seen.
    pub height: Option<u64>,
    /// Median RTT in that round, ms.
    pub rtt_ms: Option<f64>,
}

/// One server: endpoints grouped by host, IP, or `features.hosts` links.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Server {
    /// Stable id used in URLs (`[a-z0-9.-]`, derived from the primary host).
    pub id: String,
    /// The primary host name (untrusted).
    pub host: String,
    /// All host names in the group.
    pub hosts: Vec<String>,
    /// All IPs in the group.
    pub ips: Vec<String>,
    /// True when every host is an onion.
    pub onion: bool,
    /// Endpoints.
    pub endpoints: Vec<EndpointView>,
    /// Any endpoint reachable in the latest round.
    pub reachable: bool,
    /// Location.
    pub location: Option<Location>,
    /// Autonomous system number.
    pub asn: Option<u32>,
    /// AS organization (from the ASN database).
    pub as_org: Option<String>,
    /// Hosting provider label (cloud ranges or AS org).
    pub provider: Option<String>,
    /// Inferred implementation label.
    pub implementation: String,
    /// Inferred version.
    pub implementation_version: Option<String>,
    /// Inference confidence in [0, 1].
    pub implementation_confidence: f64,
    /// Inference evidence.
    pub implementation_evidence: Vec<String>,
    /// Claimed vs behavior mismatch.
    pub implementation_mismatch: bool,
    /// `server.version` software string (untrusted).
    pub server_software: Option<String>,
    /// Negotiated protocol version.
    pub protocol: Option<String>,
    /// `protocol_min`–`protocol_max` from features.
    pub protocol_range: Option<(String, String)>,
    /// Banner (untrusted).
    pub banner: Option<String>,
    /// Donation address (untrusted).
    pub donation_address: Option<String>,
    /// Genesis hash matches Bitcoin mainnet (or the simnet's chain).
    pub genesis_hash: Option<String>,
    /// Tip height.
    pub tip_height: Option<u64>,
    /// Blocks behind the network's most common tip.
    pub tip_lag: Option<i64>,
    /// Pruning limit when advertised.
    pub pruning: Option<u64>,
    /// Peers it advertised.
    pub peers_advertised: u64,
    /// Behavior hash.
    pub behavior_hash: Option<String>,
    /// Certificate (TLS endpoints).
    pub cert: Option<CertView>,
    /// Uptime fraction over the rounds observed, in [0, 1].
    pub uptime: Option<f64>,
    /// Rounds in which it was attempted.
    pub rounds_observed: u32,
    /// Median RTT over all samples, ms.
    pub rtt_median_ms: Option<f64>,
    /// 95th percentile RTT, ms.
    pub rtt_p95_ms: Option<f64>,
    /// Coefficient of variation of RTT.
    pub rtt_cv: Option<f64>,
    /// Probe summaries.
    pub probes: Vec<ProbeView>,
    /// HSS.
    pub hss: Hss,
    /// Cluster memberships.
    pub clusters: ClusterAssignment,
    /// Privacy-relevant flags: `plaintext-only`, `accepts-large-batch`, `legacy-address-methods`, …
    pub privacy_flags: Vec<String>,
    /// History across rounds/snapshots (oldest first).
    pub history: Vec<HistoryPoint>,
}

/// One bucket of a centralization dimension.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Share {
    /// Bucket key (e.g. `DE`, `AS24940`, `ElectrumX`).
    pub key: String,
    /// Human label (e.g. `Germany`, `Hetzner Online GmbH`).
    pub label: String,
    /// Servers in the bucket.
    pub count: u64,
    /// count / total.
    pub share: f64,
}

/// Concentration of servers along one dimension.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dimension {
    /// `country`, `continent`, `asn`, `provider`, `implementation`, `version`, `cert_issuer`,
    /// `ipv4_16`, `ipv6_48`.
    pub id: String,
    /// Title for charts.
    pub title: String,
    /// Servers counted (those with a known value).
    pub total: u64,
    /// Servers with no value (unknown / onion), not in `buckets`.
    pub unknown: u64,
    /// Buckets, largest first.
    pub buckets: Vec<Share>,
    /// Herfindahl–Hirschman index on shares in [0, 1] (multiply by 10,000 for the antitrust scale).
    pub hhi: f64,
    /// Smallest number of buckets holding more than 50% of servers.
    pub nakamoto: u64,
    /// Gini coefficient of bucket counts.
    pub gini: f64,
    /// Shannon entropy, bits.
    pub entropy_bits: f64,
    /// Entropy divided by log2(number of buckets) (1 = perfectly even).
    pub entropy_normalized: f64,
}

/// A feature of the clustering vectors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureDoc {
    /// Short name (column of the heatmap).
    pub name: String,
    /// What it measures and how it is scaled.
    pub description: String,
}

/// One cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cluster {
    /// Cluster id.
    pub id: u32,
    /// Member server ids.
    pub members: Vec<String>,
    /// Mean standardized value of each feature (same order as [`Clustering::features`]).
    pub centroid: Vec<f64>,
    /// What the members share, in words.
    pub explanation: String,
}

/// One clustering method's result.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterSet {
    /// `dbscan`, `kmeans`, `hierarchical`.
    pub method: String,
    /// Parameters used, in words (eps/min_points, k and how it was chosen, linkage and cut).
    pub parameters: String,
    /// Silhouette score, when computed.
    pub silhouette: Option<f64>,
    /// Clusters.
    pub clusters: Vec<Cluster>,
    /// Servers in no cluster (DBSCAN noise).
    pub noise: Vec<String>,
}

/// A server that stands apart, with the features that make it so.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outlier {
    /// Server id.
    pub server: String,
    /// Robust distance from the network's median server, in scaled MADs above the median
    /// distance (see `analysis::cluster::outliers`).
    pub distance: f64,
    /// The features that make it an outlier (`name = value (z ±…)`, largest |z| first), then
    /// the rule that flagged it (`far: …` or `isolated: …`).
    pub reasons: Vec<String>,
}

/// All clustering output.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Clustering {
    /// Feature catalogue (order of centroid values).
    pub features: Vec<FeatureDoc>,
    /// Servers that were clustered (reachable ones).
    pub servers_clustered: u64,
    /// DBSCAN (identical-behavior groups).
    pub dbscan: ClusterSet,
    /// KMeans (server types).
    pub kmeans: ClusterSet,
    /// Hierarchical (operator groups).
    pub hierarchical: ClusterSet,
    /// Fraction of variance explained by PC1 and PC2.
    pub pca_explained: (f64, f64),
    /// Outliers.
    pub outliers: Vec<Outlier>,
}

/// An HSS indicator's documentation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndicatorDoc {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Maximum points.
    pub weight: f64,
    /// When it fires, in words.
    pub threshold: String,
    /// Why it is suspicious.
    pub rationale: String,
}

/// HSS catalogue and distribution.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HssSummary {
    /// Indicators.
    pub indicators: Vec<IndicatorDoc>,
    /// Score at or above which a server is `medium`.
    pub medium_threshold: f64,
    /// Score at or above which a server is `high`.
    pub high_threshold: f64,
    /// Servers per level name (`low`, `medium`, `high`), counted over the reachable servers
    /// only, plus [`UNREACHABLE_LEVEL_KEY`]: servers that never answered, were not measured and
    /// have no level. Snapshots written before that key existed counted every server.
    pub by_level: BTreeMap<String, u64>,
}

/// Key of [`HssSummary::by_level`] counting the servers that have no level because they never
/// answered.
pub const UNREACHABLE_LEVEL_KEY: &str = "unreachable";

/// One measured privacy metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrivacyMetric {
    /// Id referenced by recommendations.
    pub id: String,
    /// Label.
    pub label: String,
    /// Value.
    pub value: f64,
    /// Unit (`servers`, `%`, `ms`, …).
    pub unit: String,
    /// How it was computed.
    pub detail: String,
}

/// One recommendation, tied to a metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    /// `users` or `wallet-developers`.
    pub audience: String,
    /// The advice.
    pub text: String,
    /// Metric ids it rests on.
    pub based_on: Vec<String>,
}

/// Privacy risk assessment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Privacy {
    /// Metrics.
    pub metrics: Vec<PrivacyMetric>,
    /// Recommendations.
    pub recommendations: Vec<Recommendation>,
}

/// A downloadable file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Download {
    /// Label.
    pub label: String,
    /// Path relative to the site root's `data/` folder.
    pub path: String,
    /// Size in bytes.
    pub bytes: u64,
}
