//! Deterministic test snapshots built from the schema types (native only).
//!
//! [`small`] is the browser test's fixture: 20 servers over several countries,
//! ASNs, implementations, HSS levels and clusters, some onion and some
//! unreachable, and one server whose banner, software string, certificate and
//! error text are XSS payloads. `site/fixtures/snapshot.json` is its JSON and a
//! test keeps the two identical, so the committed file cannot drift from the
//! schema. [`synthetic`] scales the same recipe to any size (2,000 servers for
//! the first-render measurement). Centralization metrics here are computed
//! simply for display; the real ones come from `observatory analyze`.

use std::collections::BTreeMap;

use observatory_model::snapshot::{
    Attribution, CertView, Cluster, ClusterAssignment, ClusterSet, Clustering, Dimension, Download,
    EndpointView, FeatureDoc, FiredIndicator, HistoryPoint, Hss, HssSummary, IndicatorDoc, Level,
    Location, Outlier, Privacy, PrivacyMetric, ProbeView, Recommendation, Server, Share, Snapshot,
    SnapshotIndex, SnapshotRef, Totals, SNAPSHOT_SCHEMA_VERSION, UNREACHABLE_LEVEL_KEY,
};

/// Run id of the fixture snapshots.
pub const RUN_ID: &str = "20261121T120000Z-fixture";

/// Run id of the earlier scan whose round appears in some servers' history.
pub const PREVIOUS_RUN_ID: &str = "20261114T120000Z-fixture";

/// The banner payload the browser test checks is shown literally and inert.
pub const XSS_BANNER: &str = "<img src=x onerror=alert(1)> <script>alert(2)</script>";

/// The server id carrying [`XSS_BANNER`].
pub const XSS_SERVER_ID: &str = "evil.example";

/// (city, country code, country, continent, lat, lon)
const PLACES: [(&str, &str, &str, &str, f64, f64); 12] = [
    ("Falkenstein", "DE", "Germany", "EU", 50.478, 12.371),
    ("Stockholm", "SE", "Sweden", "EU", 59.329, 18.069),
    ("Helsinki", "FI", "Finland", "EU", 60.169, 24.938),
    ("Ashburn", "US", "United States", "NA", 39.044, -77.487),
    ("San Jose", "US", "United States", "NA", 37.339, -121.895),
    ("Roubaix", "FR", "France", "EU", 50.692, 3.174),
    ("Madrid", "ES", "Spain", "EU", 40.417, -3.704),
    ("Montreal", "CA", "Canada", "NA", 45.502, -73.567),
    ("Tokyo", "JP", "Japan", "AS", 35.690, 139.692),
    ("Singapore", "SG", "Singapore", "AS", 1.352, 103.820),
    ("Sao Paulo", "BR", "Brazil", "SA", -23.551, -46.633),
    ("Sydney", "AU", "Australia", "OC", -33.869, 151.209),
];

/// (asn, org, provider)
const NETWORKS: [(u32, &str, &str); 6] = [
    (24940, "Hetzner Online GmbH", "Hetzner"),
    (16276, "OVH SAS", "OVHcloud"),
    (14061, "DigitalOcean, LLC", "DigitalOcean"),
    (16509, "Amazon.com, Inc.", "AWS"),
    (51167, "Contabo GmbH", "Contabo"),
    (
        7922,
        "Comcast Cable Communications, LLC",
        "Comcast (residential)",
    ),
];

/// (label, version, software string)
const IMPLEMENTATIONS: [(&str, &str, &str); 4] = [
    ("ElectrumX", "1.18.0", "ElectrumX 1.18.0"),
    ("Fulcrum", "1.11.1", "Fulcrum 1.11.1"),
    ("electrs", "0.10.9", "electrs/0.10.9"),
    ("Esplora-electrs", "0.4.1", "electrs-esplora 0.4.1"),
];

const FEATURES: [(&str, &str); 8] = [
    (
        "rtt_median",
        "Median round-trip time (log ms, standardized)",
    ),
    ("rtt_cv", "Coefficient of variation of RTT"),
    ("tip_lag", "Blocks behind the network tip"),
    ("peers", "Peers advertised (log)"),
    ("batch_limit", "Largest JSON-RPC batch accepted (log)"),
    (
        "legacy_methods",
        "Answers removed blockchain.address.* methods (0/1)",
    ),
    ("self_signed", "Self-signed certificate (0/1)"),
    ("uptime", "Fraction of rounds reachable"),
];

const INDICATORS: [(&str, &str, f64, &str, &str); 5] = [
    ("legacy-address-methods", "Answers removed address methods", 20.0,
     "replies to blockchain.address.* (removed in protocol 1.3)",
     "Address-keyed queries link addresses to a client directly; modern servers do not offer them."),
    ("huge-batch", "Accepts very large batches", 15.0,
     "accepts a batch of 1,000 scripthash subscriptions",
     "Unbounded batches make bulk address collection cheap."),
    ("shared-cert", "Certificate shared across operators", 15.0,
     "same leaf certificate on servers in 3 or more ASNs",
     "One operator behind many apparently independent servers."),
    ("tip-lag", "Stale chain tip", 10.0, "more than 3 blocks behind the network tip",
     "A server that does not follow the chain may be a logger, not a full node."),
    ("no-peers", "Advertises no peers but is widely listed", 10.0,
     "0 peers advertised while 5 or more peers advertise it",
     "Distribution without participation."),
];

/// Small deterministic generator (SplitMix64) so fixtures are reproducible without a rand dependency.
#[derive(Debug)]
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Rounds to 3 decimals so the committed JSON stays readable.
fn r3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// The browser-test fixture: 20 servers. Servers in one city share its
/// coordinates, as city-level GeoIP gives them, so each city is one map marker
/// (the cities are far enough apart that no two markers overlap).
pub fn small() -> Snapshot {
    build(20, 0.0)
}

/// A snapshot of `n` servers following the fixture recipe (for size and speed
/// measurements), spread over ±0.1° around each city so the map has many markers.
pub fn synthetic(n: usize) -> Snapshot {
    build(n, 0.2)
}

/// File name of fixture snapshots next to their `index.json`.
pub const SNAPSHOT_FILE: &str = "snapshot.json";

/// The index listing one snapshot stored as [`SNAPSHOT_FILE`].
pub fn index_for(snapshot: &Snapshot) -> SnapshotIndex {
    SnapshotIndex {
        schema_version: SNAPSHOT_SCHEMA_VERSION,
        snapshots: vec![SnapshotRef {
            run_id: snapshot.run_id.clone(),
            file: SNAPSHOT_FILE.into(),
            generated_at: snapshot.generated_at.clone(),
            servers: snapshot.totals.servers,
            endpoints: snapshot.totals.endpoints,
        }],
    }
}

/// `n` servers; `spread` is the width in degrees of the jitter around each city.
fn build(n: usize, spread: f64) -> Snapshot {
    let mut rng = Mix(0x0B5E_4A70);
    let mut servers: Vec<Server> = (0..n).map(|i| server(i, spread, &mut rng)).collect();
    servers.sort_by(|a, b| {
        b.hss
            .score
            .total_cmp(&a.hss.score)
            .then_with(|| a.id.cmp(&b.id))
    });
    let clusters = clustering(&servers);
    let totals = totals(&servers);
    let centralization = vec![
        dimension("country", "Servers by country", &servers, |s| {
            let l = s.location.as_ref()?;
            Some((l.country_code.clone()?, l.country.clone()?))
        }),
        dimension("continent", "Servers by continent", &servers, |s| {
            let c = s.location.as_ref()?.continent.clone()?;
            Some((c.clone(), c))
        }),
        dimension("asn", "Servers by autonomous system", &servers, |s| {
            Some((format!("AS{}", s.asn?), s.as_org.clone()?))
        }),
        dimension("provider", "Servers by hosting provider", &servers, |s| {
            let p = s.provider.clone()?;
            Some((p.clone(), p))
        }),
        dimension(
            "implementation",
            "Servers by implementation",
            &servers,
            |s| Some((s.implementation.clone(), s.implementation.clone())),
        ),
        dimension("version", "Servers by software version", &servers, |s| {
            let v = format!("{} {}", s.implementation, s.implementation_version.clone()?);
            Some((v.clone(), v))
        }),
        dimension(
            "cert_issuer",
            "Servers by certificate issuer",
            &servers,
            |s| {
                let i = s.cert.as_ref()?.issuer.clone()?;
                Some((i.clone(), i))
            },
        ),
    ];
    let by_level = [Level::Low, Level::Medium, Level::High]
        .iter()
        .map(|l| {
            (
                l.as_str().to_owned(),
                servers
                    .iter()
                    .filter(|s| s.reachable && s.hss.level == *l)
                    .count() as u64,
            )
        })
        .chain([(
            UNREACHABLE_LEVEL_KEY.to_owned(),
            servers.iter().filter(|s| !s.reachable).count() as u64,
        )])
        .collect();
    Snapshot {
        schema_version: SNAPSHOT_SCHEMA_VERSION,
        run_id: RUN_ID.into(),
        generated_at: "2026-11-21T12:40:00Z".into(),
        scan_started: "2026-11-21T12:00:00Z".into(),
        scan_finished: "2026-11-21T12:31:07Z".into(),
        software_version: "0.1.0".into(),
        rounds: 3,
        attribution: vec![
            Attribution {
                what: "IP geolocation".into(),
                source: "DB-IP.com (dbip-city-lite)".into(),
                licence: "CC-BY-4.0".into(),
                url: "https://db-ip.com".into(),
            },
            Attribution {
                what: "Country outlines".into(),
                source: "Natural Earth via world-atlas 2.0.2".into(),
                licence: "Public domain / ISC".into(),
                url: "https://www.naturalearthdata.com".into(),
            },
        ],
        totals,
        servers,
        centralization,
        clusters,
        hss: HssSummary {
            indicators: INDICATORS
                .iter()
                .map(|(id, name, weight, threshold, rationale)| IndicatorDoc {
                    id: (*id).into(),
                    name: (*name).into(),
                    weight: *weight,
                    threshold: (*threshold).into(),
                    rationale: (*rationale).into(),
                })
                .collect(),
            medium_threshold: 25.0,
            high_threshold: 50.0,
            by_level,
        },
        privacy: privacy(n),
        // The files `observatory analyze` writes (analysis `assemble::*_CSV`).
        downloads: vec![
            Download {
                label: "Servers (one row per endpoint), CSV".into(),
                path: "processed/servers.csv".into(),
                bytes: 1024,
            },
            Download {
                label: "Behavior fingerprints, CSV".into(),
                path: "processed/fingerprints.csv".into(),
                bytes: 2048,
            },
            Download {
                label: "TLS certificates (certificate × endpoint), CSV".into(),
                path: "processed/tls.csv".into(),
                bytes: 512,
            },
            Download {
                label: "This snapshot (JSON)".into(),
                path: format!("snapshots/{SNAPSHOT_FILE}"),
                bytes: 4096,
            },
        ],
        simulated: false,
    }
}

fn server(i: usize, spread: f64, rng: &mut Mix) -> Server {
    let onion = i % 7 == 6;
    let reachable = i % 9 != 8;
    let evil = i == 3;
    let place = PLACES[(i * 5 + i / 3) % PLACES.len()];
    let network = NETWORKS[(i + i / 4) % NETWORKS.len()];
    let implementation = IMPLEMENTATIONS[i % IMPLEMENTATIONS.len()];
    let host = if evil {
        XSS_SERVER_ID.to_owned()
    } else if onion {
        // A v3 onion name is 56 base32 characters.
        format!("fixture{i:05}{}.onion", "q".repeat(44))
    } else {
        format!("electrum{i}.node{}.example", i % 5)
    };
    let id = host.to_lowercase();
    let ip = (!onion).then(|| format!("203.0.113.{}", i % 250 + 1));
    // Scores: a few high, some medium, most low.
    let score = r3(match i % 10 {
        0 => 55.0 + rng.unit() * 40.0,
        3 | 7 => 25.0 + rng.unit() * 24.0,
        _ => rng.unit() * 24.0,
    });
    let level = if score >= 50.0 {
        Level::High
    } else if score >= 25.0 {
        Level::Medium
    } else {
        Level::Low
    };
    let fired: Vec<FiredIndicator> = INDICATORS
        .iter()
        .enumerate()
        .filter(|(k, _)| {
            (level != Level::Low && (i + k) % 3 == 0) || (level == Level::High && *k == 0)
        })
        .map(|(_, (id, _, weight, threshold, _))| FiredIndicator {
            id: (*id).into(),
            points: *weight,
            evidence: format!("measured: yes; threshold: {threshold}"),
        })
        .collect();
    let kmeans = (i % 3) as u32;
    let dbscan = (i % 5 < 3).then_some((i % 2) as u32);
    let operator = ((i + i / 4) % NETWORKS.len()) as u32;
    let pca = (
        r3(f64::from(kmeans) * 2.0 - 2.0 + rng.unit() - 0.5),
        r3(f64::from(kmeans % 2) * 1.5 - 0.7 + rng.unit() - 0.5),
    );
    let tls = i % 4 != 2;
    let endpoints = [(50001u16, "t"), (50002u16, "s")]
        .into_iter()
        .filter(|(_, t)| *t == "t" || tls)
        .map(|(port, transport)| EndpointView {
            key: format!("{host}:{port}:{transport}"),
            host: host.clone(),
            port,
            transport: transport.into(),
            ip: ip.clone(),
            status: if reachable {
                "success".into()
            } else {
                "connection-timeout".into()
            },
            error: if evil {
                Some("<b>handshake</b> failed: <iframe src=javascript:alert(4)>".into())
            } else {
                (!reachable).then(|| "connect timed out after 10 s".into())
            },
            connect_ms: reachable.then(|| r3(20.0 + rng.unit() * 200.0)),
            tls_ms: (reachable && transport == "s").then(|| r3(30.0 + rng.unit() * 200.0)),
            provenance: vec![if i % 2 == 0 {
                "seed:electrum-servers.json".into()
            } else {
                "peer:electrum0.node0.example:50002:s".into()
            }],
        })
        .collect();
    let cert = tls.then(|| CertView {
        sha256: format!(
            "{:064x}",
            (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ),
        spki_sha256: Some(format!(
            "{:064x}",
            (i as u64 + 7).wrapping_mul(0xBF58_476D_1CE4_E5B9)
        )),
        subject: Some(if evil {
            "CN=<script>alert(5)</script>".into()
        } else {
            format!("CN={host}")
        }),
        issuer: Some(match i % 3 {
            0 => "C=US, O=Let's Encrypt, CN=R11".into(),
            1 => format!("CN={host}"),
            _ => "C=US, O=Google Trust Services, CN=WR1".into(),
        }),
        serial: Some(format!("{:x}", i * 7919 + 1)),
        version: Some(if i % 3 == 1 { 1 } else { 3 }),
        not_before: Some("2026-09-01T00:00:00Z".into()),
        not_after: Some(if i % 11 == 5 {
            "2026-10-01T00:00:00Z".into()
        } else {
            "2026-12-30T00:00:00Z".into()
        }),
        san: vec![host.clone()],
        key: Some(if i % 2 == 0 {
            "ECDSA P-256".into()
        } else {
            "RSA 2048".into()
        }),
        signature_algorithm: Some("sha256WithRSAEncryption".into()),
        self_signed: i % 3 == 1,
        expired: i % 11 == 5,
        webpki_valid: i % 3 != 1 && i % 11 != 5,
        name_matches: true,
        tls_version: Some("TLSv1.3".into()),
        cipher_suite: Some("TLS13_AES_256_GCM_SHA384".into()),
        chain_len: if i % 3 == 1 { 1 } else { 2 },
        shared_with: if i % 10 == 0 { 3 } else { 0 },
    });
    // Every fourth server has history: one round of the previous week's run
    // (an earlier snapshot) and this run's three rounds.
    let history = if i % 4 == 0 {
        let earlier = HistoryPoint {
            run_id: PREVIOUS_RUN_ID.into(),
            round: 0,
            at: "2026-11-14T12:00:00Z".into(),
            reachable: true,
            height: Some(924_000),
            rtt_ms: Some(r3(40.0 + rng.unit() * 60.0)),
        };
        std::iter::once(earlier)
            .chain((0..3).map(|round| HistoryPoint {
                run_id: RUN_ID.into(),
                round,
                at: format!("2026-11-21T12:{:02}:00Z", round * 10),
                reachable: reachable || round == 0,
                height: Some(925_000 + u64::from(round)),
                rtt_ms: Some(r3(40.0 + rng.unit() * 60.0)),
            }))
            .collect()
    } else {
        Vec::new()
    };
    Server {
        id,
        host: host.clone(),
        hosts: vec![host],
        ips: ip.clone().into_iter().collect(),
        onion,
        endpoints,
        reachable,
        location: (!onion).then(|| Location {
            country_code: Some(place.1.into()),
            country: Some(place.2.into()),
            continent: Some(place.3.into()),
            city: Some(place.0.into()),
            lat: Some(r3(place.4 + (rng.unit() - 0.5) * spread)),
            lon: Some(r3(place.5 + (rng.unit() - 0.5) * spread)),
        }),
        asn: (!onion).then_some(network.0),
        as_org: (!onion).then(|| network.1.into()),
        provider: (!onion).then(|| network.2.into()),
        implementation: implementation.0.into(),
        implementation_version: Some(implementation.1.into()),
        implementation_confidence: r3(0.6 + rng.unit() * 0.4),
        implementation_evidence: vec![
            format!("server.version reply \"{}\"", implementation.2),
            "error text for an invalid scripthash matches".into(),
        ],
        implementation_mismatch: i % 13 == 4,
        server_software: Some(if evil {
            "<script>alert(2)</script>".into()
        } else {
            implementation.2.into()
        }),
        protocol: reachable.then(|| "1.4".into()),
        protocol_range: reachable.then(|| ("1.4".into(), "1.4.2".into())),
        banner: reachable.then(|| {
            if evil {
                XSS_BANNER.into()
            } else {
                format!("Welcome to {} on {}", implementation.2, network.2)
            }
        }),
        donation_address: evil.then(|| "javascript:alert(3)".into()),
        genesis_hash: Some(
            "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f".into(),
        ),
        tip_height: reachable.then_some(925_002),
        tip_lag: reachable.then_some(if i % 10 == 0 { 5 } else { 0 }),
        pruning: None,
        peers_advertised: (i % 6) as u64 * 3,
        behavior_hash: Some(format!("{:016x}", (i % 5) as u64 * 0x1234_5678_9ABC)),
        cert,
        uptime: Some(if reachable { 1.0 } else { 0.333 }),
        rounds_observed: 3,
        rtt_median_ms: reachable.then(|| r3(30.0 + rng.unit() * 150.0)),
        rtt_p95_ms: reachable.then(|| r3(200.0 + rng.unit() * 100.0)),
        rtt_cv: reachable.then(|| r3(rng.unit() * 0.8)),
        probes: vec![
            ProbeView {
                name: "batch-limit".into(),
                status: if reachable {
                    "success".into()
                } else {
                    "connection-timeout".into()
                },
                facts: vec![(
                    "largest batch accepted".into(),
                    if i % 10 == 0 {
                        "1000".into()
                    } else {
                        "100".into()
                    },
                )],
            },
            ProbeView {
                name: "legacy-address-methods".into(),
                status: "success".into(),
                facts: vec![(
                    "blockchain.address.get_balance".into(),
                    if level == Level::High {
                        "answered".into()
                    } else {
                        "method not found".into()
                    },
                )],
            },
        ],
        hss: Hss {
            score,
            level,
            fired,
        },
        clusters: ClusterAssignment {
            dbscan,
            kmeans: Some(kmeans),
            operator: Some(operator),
            pca: reachable.then_some(pca),
        },
        privacy_flags: if tls {
            Vec::new()
        } else {
            vec!["plaintext-only".into()]
        },
        history,
    }
}

fn totals(servers: &[Server]) -> Totals {
    let endpoints: Vec<&EndpointView> = servers.iter().flat_map(|s| &s.endpoints).collect();
    let ok = |e: &&&EndpointView| e.status == "success";
    let mut by_status: BTreeMap<String, u64> = BTreeMap::new();
    for e in &endpoints {
        *by_status.entry(e.status.clone()).or_default() += 1;
    }
    Totals {
        endpoints: endpoints.len() as u64,
        reachable_endpoints: endpoints.iter().filter(ok).count() as u64,
        servers: servers.len() as u64,
        reachable_servers: servers.iter().filter(|s| s.reachable).count() as u64,
        onion_endpoints: endpoints
            .iter()
            .filter(|e| e.host.ends_with(".onion"))
            .count() as u64,
        tls_endpoints: endpoints
            .iter()
            .filter(ok)
            .filter(|e| e.transport == "s")
            .count() as u64,
        tcp_endpoints: endpoints
            .iter()
            .filter(ok)
            .filter(|e| e.transport == "t")
            .count() as u64,
        distinct_ips: {
            let mut ips: Vec<&String> = servers
                .iter()
                .filter(|s| s.reachable)
                .flat_map(|s| &s.ips)
                .collect();
            ips.sort();
            ips.dedup();
            ips.len() as u64
        },
        by_status,
    }
}

fn dimension(
    id: &str,
    title: &str,
    servers: &[Server],
    key: impl Fn(&Server) -> Option<(String, String)>,
) -> Dimension {
    let mut counts: BTreeMap<String, (String, u64)> = BTreeMap::new();
    let mut unknown = 0;
    for s in servers {
        match key(s) {
            Some((k, label)) => counts.entry(k).or_insert((label, 0)).1 += 1,
            None => unknown += 1,
        }
    }
    let total: u64 = counts.values().map(|c| c.1).sum();
    let mut buckets: Vec<Share> = counts
        .into_iter()
        .map(|(k, (label, count))| Share {
            key: k,
            label,
            count,
            share: if total > 0 {
                r3(count as f64 / total as f64)
            } else {
                0.0
            },
        })
        .collect();
    buckets.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
    let shares: Vec<f64> = buckets
        .iter()
        .map(|b| b.count as f64 / total.max(1) as f64)
        .collect();
    let hhi = shares.iter().map(|s| s * s).sum::<f64>();
    let mut acc = 0.0;
    let nakamoto = shares
        .iter()
        .position(|s| {
            acc += s;
            acc > 0.5
        })
        .map_or(0, |p| p as u64 + 1);
    let entropy: f64 = shares
        .iter()
        .filter(|s| **s > 0.0)
        .map(|s| -s * s.log2())
        .sum();
    let k = shares.len() as f64;
    let mut sorted: Vec<f64> = buckets.iter().map(|b| b.count as f64).collect();
    sorted.sort_by(f64::total_cmp);
    let sum: f64 = sorted.iter().sum();
    let gini = if k > 0.0 && sum > 0.0 {
        let weighted: f64 = sorted
            .iter()
            .enumerate()
            .map(|(i, x)| (2.0 * (i as f64 + 1.0) - k - 1.0) * x)
            .sum();
        weighted / (k * sum)
    } else {
        0.0
    };
    Dimension {
        id: id.into(),
        title: title.into(),
        total,
        unknown,
        buckets,
        hhi: r3(hhi),
        nakamoto,
        gini: r3(gini),
        entropy_bits: r3(entropy),
        entropy_normalized: if k > 1.0 { r3(entropy / k.log2()) } else { 0.0 },
    }
}

fn cluster_set(
    method: &str,
    parameters: &str,
    servers: &[Server],
    of: impl Fn(&ClusterAssignment) -> Option<u32>,
    explain: impl Fn(u32) -> String,
) -> ClusterSet {
    let mut members: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    let mut noise = Vec::new();
    for s in servers.iter().filter(|s| s.reachable) {
        match of(&s.clusters) {
            Some(c) => members.entry(c).or_default().push(s.id.clone()),
            None => noise.push(s.id.clone()),
        }
    }
    ClusterSet {
        method: method.into(),
        parameters: parameters.into(),
        silhouette: Some(0.41),
        clusters: members
            .into_iter()
            .map(|(id, members)| Cluster {
                id,
                members,
                centroid: (0..FEATURES.len())
                    .map(|f| r3(((f as f64 + 1.0) * (f64::from(id) + 1.3)).sin() * 1.8))
                    .collect(),
                explanation: explain(id),
            })
            .collect(),
        noise,
    }
}

fn clustering(servers: &[Server]) -> Clustering {
    Clustering {
        features: FEATURES
            .iter()
            .map(|(name, description)| FeatureDoc {
                name: (*name).into(),
                description: (*description).into(),
            })
            .collect(),
        servers_clustered: servers.iter().filter(|s| s.reachable).count() as u64,
        dbscan: cluster_set(
            "dbscan",
            "eps 0.5, min_points 3",
            servers,
            |c| c.dbscan,
            |id| {
                format!("Identical behaviour hash family {id}: same error texts, same batch limit, same peers")
            },
        ),
        kmeans: cluster_set(
            "kmeans",
            "k = 3 (silhouette maximum over k = 2..8)",
            servers,
            |c| c.kmeans,
            |id| match id {
                0 => "Well-connected, low-latency ElectrumX servers in data centres".into(),
                1 => "Fulcrum servers with self-signed certificates and few peers".into(),
                _ => "Slow or lagging servers; several answer removed address methods".into(),
            },
        ),
        hierarchical: cluster_set(
            "hierarchical",
            "average linkage on certificate, ASN and behaviour distance, cut at 0.35",
            servers,
            |c| c.operator,
            |id| format!("Probable operator {id}: shared ASN and certificate issuer"),
        ),
        pca_explained: (0.412, 0.187),
        outliers: servers
            .iter()
            .filter(|s| s.hss.level == Level::High)
            .take(3)
            .map(|s| Outlier {
                server: s.id.clone(),
                distance: r3(3.0 + s.hss.score / 50.0),
                reasons: vec![
                    "batch_limit z = +3.1".into(),
                    "legacy_methods z = +2.7".into(),
                ],
            })
            .collect(),
    }
}

fn privacy(n: usize) -> Privacy {
    Privacy {
        metrics: vec![
            PrivacyMetric {
                id: "plaintext".into(),
                label: "Servers reachable only over plain TCP".into(),
                value: r3(25.0),
                unit: "%".into(),
                detail: format!("servers without a TLS endpoint among {n}"),
            },
            PrivacyMetric {
                id: "top3-asn".into(),
                label: "Share of servers in the 3 largest ASNs".into(),
                value: 61.0,
                unit: "%".into(),
                detail: "from the ASN dimension".into(),
            },
            PrivacyMetric {
                id: "legacy".into(),
                label: "Servers answering removed address methods".into(),
                value: 2.0,
                unit: "servers".into(),
                detail: "blockchain.address.* answered although removed in protocol 1.3".into(),
            },
        ],
        recommendations: vec![
            Recommendation {
                audience: "users".into(),
                text: "Connect over TLS or Tor only; a plain-TCP server sees and can alter every reply.".into(),
                based_on: vec!["plaintext".into()],
            },
            Recommendation {
                audience: "wallet-developers".into(),
                text: "Spread queries over servers in different ASNs; three networks host most servers.".into(),
                based_on: vec!["top3-asn".into()],
            },
            Recommendation {
                audience: "wallet-developers".into(),
                text: "Never fall back to blockchain.address.* methods.".into(),
                based_on: vec!["legacy".into()],
            },
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMMITTED_SNAPSHOT: &str = include_str!("../fixtures/snapshot.json");
    const COMMITTED_INDEX: &str = include_str!("../fixtures/index.json");

    /// The committed fixture equals the generator's output and still parses as
    /// the current schema; regenerate with
    /// `cargo run -p observatory-site --example fixtures -- site/fixtures`.
    #[test]
    fn committed_fixture_matches_the_schema_and_the_generator() {
        let parsed: Snapshot = serde_json::from_str(COMMITTED_SNAPSHOT).unwrap();
        assert_eq!(parsed, small());
        let index: SnapshotIndex = serde_json::from_str(COMMITTED_INDEX).unwrap();
        assert_eq!(index, index_for(&parsed));
    }

    #[test]
    fn small_fixture_covers_what_the_views_need() {
        let s = small();
        assert_eq!(s.servers.len(), 20);
        for level in [Level::Low, Level::Medium, Level::High] {
            assert!(s.servers.iter().any(|x| x.hss.level == level), "{level:?}");
        }
        assert!(s.servers.iter().any(|x| x.onion));
        assert!(s.servers.iter().any(|x| !x.reachable));
        // History across snapshots (the server page's History section) and outliers (the clusters page).
        let across_runs = |x: &Server| {
            let runs: std::collections::BTreeSet<_> =
                x.history.iter().map(|h| h.run_id.as_str()).collect();
            runs.len() > 1
        };
        assert!(s.servers.iter().any(across_runs));
        assert!(!s.clusters.outliers.is_empty());
        assert!(!s.simulated);
        // Download links name the files analysis writes, nothing else.
        let paths: Vec<&str> = s.downloads.iter().map(|d| d.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "processed/servers.csv",
                "processed/fingerprints.csv",
                "processed/tls.csv",
                "snapshots/snapshot.json"
            ]
        );
        let evil = s.servers.iter().find(|x| x.id == XSS_SERVER_ID).unwrap();
        assert_eq!(evil.banner.as_deref(), Some(XSS_BANNER));
        assert!(s
            .servers
            .windows(2)
            .all(|w| w[0].hss.score >= w[1].hss.score));
        let countries: std::collections::BTreeSet<_> = s
            .servers
            .iter()
            .filter_map(|x| x.location.as_ref()?.country_code.clone())
            .collect();
        assert!(countries.len() >= 6);
        assert!(s.servers.iter().all(|x| x
            .id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')));
    }

    #[test]
    fn synthetic_scales() {
        let s = synthetic(2000);
        assert_eq!(s.servers.len(), 2000);
        assert_eq!(s.totals.servers, 2000);
    }
}
