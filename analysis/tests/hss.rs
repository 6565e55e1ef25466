//! Honeypot Suspicion Score, table-driven: every indicator fires on the pattern it
//! describes and stays silent on the look-alike that is normal on this network; an
//! honest default ElectrumX with a self-signed certificate scores `low` with nothing fired.
//!
//! Each case is a small network (a baseline of honest servers that each miss one round,
//! plus the case's servers) analyzed with [`assemble::analyze`] and an ASN table written
//! as ip-location-db CSV, so no external database is needed.

use observatory_analysis::assemble::{self, Options};
use observatory_analysis::enrich::{asn::AsnDb, Enricher};
use observatory_analysis::hss::ids;
use observatory_analysis::load::{LoadedData, RunData};
use observatory_analysis::synthetic::{self, Rec, Rng};
use observatory_model::probes::{Implementation, ProbeDetail};
use observatory_model::raw::{EndpointRecord, RpcError, Status, Transport};
use observatory_model::snapshot::{Level, Server, Snapshot};

const RUN: &str = "20261121T000000Z-hss";
const ROUNDS: u32 = 6;
const BASELINE: usize = 8;

/// Synthetic ASN table (documentation of the test network, not real data).
const ASN_CSV: &str = "5.9.0.0,5.9.255.255,24940,Hetzner Online GmbH\n\
51.38.0.0,51.38.255.255,16276,OVH SAS\n\
95.216.0.0,95.216.255.255,24940,Hetzner Online GmbH\n\
138.68.0.0,138.68.255.255,14061,DigitalOcean LLC\n";

fn honest(round: u32, host: &str, ip: &str) -> EndpointRecord {
    // A per-server, per-round stream keeps jitter realistic and the test deterministic.
    let seed = host.bytes().fold(u64::from(round), |a, b| {
        a.wrapping_mul(31).wrapping_add(u64::from(b))
    });
    synthetic::honest_electrumx(RUN, round, host, ip, Transport::Tls, &mut Rng::new(seed))
}

fn every_round(f: impl Fn(u32) -> EndpointRecord) -> Vec<EndpointRecord> {
    (0..ROUNDS).map(f).collect()
}

/// Honest servers on host names, each unreachable in one round (as volunteers are).
fn baseline(always_up: bool) -> Vec<EndpointRecord> {
    let prefixes = ["51.38", "95.216", "138.68", "5.9"];
    let mut out = Vec::new();
    for i in 0..BASELINE {
        let host = format!("electrum.volunteer{i}.example");
        let ip = format!("{}.200.{}", prefixes[i % prefixes.len()], i + 1);
        for round in 0..ROUNDS {
            if !always_up && round == i as u32 % ROUNDS {
                out.push(
                    Rec::new(RUN, round, &host, 50002, Transport::Tls)
                        .ip(&ip)
                        .status(Status::ConnectionTimeout, Some("connect timed out"))
                        .build(),
                );
            } else {
                out.push(honest(round, &host, &ip));
            }
        }
    }
    out
}

fn with_leaf(mut r: EndpointRecord, leaf: observatory_model::raw::Certificate) -> EndpointRecord {
    if let Some(c) = r.tls.as_mut().and_then(|t| t.chain.first_mut()) {
        *c = leaf;
    }
    r
}

/// Replaces the probe named `name` by what `add` appends.
fn replace_probe(
    mut r: EndpointRecord,
    name: &str,
    add: impl FnOnce(Rec) -> Rec,
) -> EndpointRecord {
    r.probes.retain(|p| p.name != name);
    add(Rec(r)).build()
}

fn analyze(records: Vec<EndpointRecord>) -> Snapshot {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("asn-ipv4.csv");
    std::fs::write(&csv, ASN_CSV).unwrap();
    let enricher = Enricher {
        asn: Some(AsnDb::open(&csv).unwrap()),
        ..Default::default()
    };
    let data = LoadedData::from_runs(vec![RunData {
        run_id: RUN.into(),
        manifest: None,
        records,
    }]);
    let opts = Options {
        generated_at: "2026-11-21T12:00:00Z".into(),
        asn_loaded: true,
        ..Default::default()
    };
    assemble::analyze(&data, &enricher, &opts).snapshot
}

fn server<'a>(s: &'a Snapshot, host: &str) -> &'a Server {
    s.servers
        .iter()
        .find(|x| x.hosts.iter().any(|h| h == host))
        .unwrap_or_else(|| panic!("no server for {host}"))
}

struct Case {
    name: &'static str,
    /// Baseline servers reachable in every round (so perfect uptime is the norm).
    baseline_always_up: bool,
    records: fn() -> Vec<EndpointRecord>,
    host: &'static str,
    indicator: &'static str,
    /// Points expected when it fires; None: it must not fire.
    points: Option<f64>,
}

fn shared_cert(hosts: &[(&str, &str)]) -> Vec<EndpointRecord> {
    let leaf = synthetic::self_signed_v1("shared", 1_700_000_000);
    hosts
        .iter()
        .flat_map(|(h, ip)| every_round(|r| with_leaf(honest(r, h, ip), leaf.clone())))
        .collect()
}

/// Three IP-only servers in two ASNs presenting `leaf`.
fn on_unrelated_ips(leaf: observatory_model::raw::Certificate) -> Vec<EndpointRecord> {
    ["5.9.40.1", "51.38.40.2", "95.216.40.3"]
        .iter()
        .flat_map(|ip| every_round(|r| with_leaf(honest(r, ip, ip), leaf.clone())))
        .collect()
}

/// A leaf with the Electrum Personal Server bundled certificate's fingerprints; `same_cert`
/// false keeps only its public key (a re-issued copy over the shipped key).
fn eps_default(same_cert: bool) -> observatory_model::raw::Certificate {
    let eps = observatory_analysis::hss::KNOWN_DEFAULT_CERTS
        .iter()
        .find(|k| k.name.starts_with("Electrum Personal Server"))
        .unwrap();
    let mut leaf = synthetic::self_signed_v1("electrum-server.tld", 1_678_779_285);
    if same_cert {
        leaf.sha256 = eps.sha256.to_string();
    }
    leaf.spki_sha256 = Some(eps.spki_sha256.to_string());
    leaf
}

fn ip_fleet(n: usize, spread_secs: i64) -> Vec<EndpointRecord> {
    (0..n)
        .flat_map(|i| {
            let ip = format!("5.9.77.{}", i + 1);
            every_round(move |r| {
                with_leaf(
                    honest(r, &ip, &ip),
                    synthetic::self_signed_v1(&ip, 1_790_000_000 + spread_secs * i as i64),
                )
            })
        })
        .collect()
}

fn throttled(message: &'static str, cheap_burst_throttled: bool) -> Vec<EndpointRecord> {
    every_round(|r| {
        let rec = honest(r, "busy.throttle.example", "51.38.9.9");
        let rec = replace_probe(rec, "xpub", |b| {
            b.xpub(
                true,
                vec![50.0; 20],
                0.05,
                vec![RpcError {
                    code: Some(-101),
                    message: message.into(),
                }],
            )
        });
        replace_probe(rec, "rate-limit", |b| b.rate(cheap_burst_throttled, vec![]))
    })
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "one certificate on unrelated domains in two ASNs",
            baseline_always_up: false,
            records: || {
                shared_cert(&[
                    ("a.alpha.example", "5.9.1.1"),
                    ("b.beta.example", "51.38.1.1"),
                    ("c.gamma.example", "95.216.1.1"),
                ])
            },
            host: "b.beta.example",
            indicator: ids::CERT_REUSE,
            points: Some(20.0),
        },
        Case {
            name: "one certificate on unrelated domains in one ASN",
            baseline_always_up: false,
            records: || {
                shared_cert(&[
                    ("a.alpha.example", "5.9.1.1"),
                    ("b.beta.example", "5.9.2.1"),
                    ("c.gamma.example", "95.216.1.1"),
                ])
            },
            host: "a.alpha.example",
            indicator: ids::CERT_REUSE,
            points: Some(15.0),
        },
        Case {
            name: "one operator's certificate on hosts of one domain",
            baseline_always_up: false,
            records: || {
                shared_cert(&[
                    ("a.pool.example", "5.9.1.1"),
                    ("b.pool.example", "51.38.1.1"),
                    ("c.pool.example", "95.216.1.1"),
                ])
            },
            host: "a.pool.example",
            indicator: ids::CERT_REUSE,
            points: None,
        },
        Case {
            name: "a certificate shared by only two servers",
            baseline_always_up: false,
            records: || {
                shared_cert(&[
                    ("a.alpha.example", "5.9.1.1"),
                    ("b.beta.example", "51.38.1.1"),
                ])
            },
            host: "a.alpha.example",
            indicator: ids::CERT_REUSE,
            points: None,
        },
        Case {
            name: "an unknown certificate on three unrelated IPs in two ASNs",
            baseline_always_up: false,
            records: || on_unrelated_ips(synthetic::self_signed_v1("who-knows", 1_750_000_000)),
            host: "51.38.40.2",
            indicator: ids::CERT_REUSE,
            points: Some(20.0),
        },
        Case {
            name: "Electrum Personal Server's bundled certificate on three unrelated IPs",
            baseline_always_up: false,
            records: || on_unrelated_ips(eps_default(true)),
            host: "51.38.40.2",
            indicator: ids::CERT_REUSE,
            points: None,
        },
        Case {
            name: "a certificate re-issued over EPS's bundled key (public-key match)",
            baseline_always_up: false,
            records: || on_unrelated_ips(eps_default(false)),
            host: "5.9.40.1",
            indicator: ids::CERT_REUSE,
            points: None,
        },
        Case {
            name: "perfect uptime where everyone else misses a round",
            baseline_always_up: false,
            records: || every_round(|r| honest(r, "always.up.example", "138.68.5.5")),
            host: "always.up.example",
            indicator: ids::PERFECT_UPTIME,
            points: Some(10.0),
        },
        Case {
            name: "perfect uptime where it is the norm",
            baseline_always_up: true,
            records: || every_round(|r| honest(r, "always.up.example", "138.68.5.5")),
            host: "always.up.example",
            indicator: ids::PERFECT_UPTIME,
            points: None,
        },
        Case {
            name: "constant 40 ms round trips",
            baseline_always_up: false,
            records: || {
                every_round(|r| {
                    replace_probe(honest(r, "flat.rtt.example", "51.38.3.3"), "timing", |b| {
                        b.timing(vec![40.0; 20])
                    })
                })
            },
            host: "flat.rtt.example",
            indicator: ids::LATENCY_STABILITY,
            points: Some(10.0),
        },
        Case {
            name: "constant 1 ms round trips (a short path is legitimately flat)",
            baseline_always_up: false,
            records: || {
                every_round(|r| {
                    replace_probe(honest(r, "near.rtt.example", "51.38.3.3"), "timing", |b| {
                        b.timing(vec![1.0; 20])
                    })
                })
            },
            host: "near.rtt.example",
            indicator: ids::LATENCY_STABILITY,
            points: None,
        },
        Case {
            name: "claims ElectrumX, behaves otherwise",
            baseline_always_up: false,
            records: || {
                every_round(|r| {
                    Rec(honest(r, "modified.example", "95.216.4.4"))
                        .inference(
                            Implementation::Unknown,
                            "1.16.0",
                            Implementation::Electrumx,
                            true,
                        )
                        .build()
                })
            },
            host: "modified.example",
            indicator: ids::PROTOCOL_MISMATCH,
            points: Some(20.0),
        },
        Case {
            name: "removed blockchain.address.* answered on protocol 1.4",
            baseline_always_up: false,
            records: || {
                every_round(|r| {
                    replace_probe(
                        honest(r, "legacy.example", "95.216.4.4"),
                        "address-formats",
                        |b| b.address_formats(true),
                    )
                })
            },
            host: "legacy.example",
            indicator: ids::PROTOCOL_MISMATCH,
            points: Some(10.0),
        },
        Case {
            name: "blockchain.address.* answered on protocol 1.2, where it still exists",
            baseline_always_up: false,
            records: || {
                every_round(|r| {
                    let rec = replace_probe(
                        honest(r, "old.example", "95.216.4.4"),
                        "address-formats",
                        |b| b.address_formats(true),
                    );
                    Rec(rec).version("ElectrumX 1.8.5", "1.2", 40.0).build()
                })
            },
            host: "old.example",
            indicator: ids::PROTOCOL_MISMATCH,
            points: None,
        },
        Case {
            name: "replies that match no request (wrong, duplicate or mistyped ids)",
            baseline_always_up: false,
            records: || {
                every_round(|r| {
                    let mut rec = honest(r, "wrong-ids.example", "95.216.4.4");
                    rec.wire.unmatched_replies = 3;
                    rec
                })
            },
            host: "wrong-ids.example",
            indicator: ids::PROTOCOL_MISMATCH,
            points: Some(10.0),
        },
        Case {
            name: "history lookups 20x slower than ping",
            baseline_always_up: false,
            records: || {
                every_round(|r| {
                    replace_probe(
                        honest(r, "slow.history.example", "138.68.6.6"),
                        "xpub",
                        |b| b.xpub(true, vec![900.0; 20], 0.0, vec![]),
                    )
                })
            },
            host: "slow.history.example",
            indicator: ids::LOGGING_TIMING,
            points: Some(15.0),
        },
        Case {
            name: "history latency rising 8 ms per query",
            baseline_always_up: false,
            records: || {
                every_round(|r| {
                    replace_probe(honest(r, "rising.example", "138.68.6.6"), "xpub", |b| {
                        b.xpub(true, vec![50.0; 20], 8.0, vec![])
                    })
                })
            },
            host: "rising.example",
            indicator: ids::LOGGING_TIMING,
            points: Some(15.0),
        },
        Case {
            name: "history as fast as ping",
            baseline_always_up: false,
            records: || every_round(|r| honest(r, "normal.history.example", "138.68.6.6")),
            host: "normal.history.example",
            indicator: ids::LOGGING_TIMING,
            points: None,
        },
        Case {
            name: "xpub queries throttled, cheap burst not",
            baseline_always_up: false,
            records: || throttled("rate limit exceeded", false),
            host: "busy.throttle.example",
            indicator: ids::SELECTIVE_RATE_LIMIT,
            points: Some(10.0),
        },
        Case {
            name: "everything throttled (not selective)",
            baseline_always_up: false,
            records: || throttled("rate limit exceeded", true),
            host: "busy.throttle.example",
            indicator: ids::SELECTIVE_RATE_LIMIT,
            points: None,
        },
        Case {
            name: "ElectrumX's documented cost limiter",
            baseline_always_up: false,
            records: || throttled("excessive resource usage", false),
            host: "busy.throttle.example",
            indicator: ids::SELECTIVE_RATE_LIMIT,
            points: None,
        },
        Case {
            name: "five identical IP-only servers in one ASN, certificates minted together",
            baseline_always_up: false,
            records: || ip_fleet(5, 60),
            host: "5.9.77.3",
            indicator: ids::UNIFORM_GROUP,
            points: Some(15.0),
        },
        Case {
            name: "five identical IP-only servers in one ASN, certificates months apart",
            baseline_always_up: false,
            records: || ip_fleet(5, 30 * 86_400),
            host: "5.9.77.3",
            indicator: ids::UNIFORM_GROUP,
            points: Some(10.0),
        },
        Case {
            name: "four identical IP-only servers (below the group size)",
            baseline_always_up: false,
            records: || ip_fleet(4, 60),
            host: "5.9.77.3",
            indicator: ids::UNIFORM_GROUP,
            points: None,
        },
    ]
}

#[test]
fn every_indicator_fires_and_stays_silent_where_it_should() {
    let mut covered = std::collections::BTreeSet::new();
    for c in cases() {
        let mut records = baseline(c.baseline_always_up);
        records.extend((c.records)());
        let snap = analyze(records);
        let s = server(&snap, c.host);
        let fired = s.hss.fired.iter().find(|f| f.id == c.indicator);
        match (c.points, fired) {
            (Some(p), Some(f)) => {
                assert!(
                    (f.points - p).abs() < 1e-9,
                    "{}: {} gave {} points, expected {p}",
                    c.name,
                    c.indicator,
                    f.points
                );
                assert!(!f.evidence.is_empty(), "{}: evidence missing", c.name);
                covered.insert(c.indicator);
            }
            (None, None) => {}
            (Some(_), None) => panic!(
                "{}: {} did not fire; fired {:?}",
                c.name, c.indicator, s.hss.fired
            ),
            (None, Some(f)) => panic!("{}: {} fired: {}", c.name, c.indicator, f.evidence),
        }
        let sum: f64 = s.hss.fired.iter().map(|f| f.points).sum();
        assert!(
            (s.hss.score - sum.min(100.0)).abs() < 1e-9,
            "{}: score is the sum of fired points",
            c.name
        );
    }
    let all: std::collections::BTreeSet<&str> = observatory_analysis::hss::CATALOGUE
        .iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(covered, all, "every catalogued indicator has a firing case");
}

#[test]
fn honest_default_electrumx_with_self_signed_cert_scores_low() {
    let snap = analyze(baseline(false));
    assert_eq!(snap.servers.len(), BASELINE);
    for s in &snap.servers {
        let cert = s.cert.as_ref().expect("TLS server has a certificate view");
        assert!(
            cert.self_signed,
            "{}: the baseline uses ElectrumX's self-signed certificate",
            s.id
        );
        assert_eq!(s.hss.level, Level::Low, "{}: {:?}", s.id, s.hss);
        assert!(s.hss.fired.is_empty(), "{}: {:?}", s.id, s.hss.fired);
    }
    // Even when every honest server is up in every round, nothing fires.
    let snap = analyze(baseline(true));
    assert!(
        snap.servers.iter().all(|s| s.hss.fired.is_empty()),
        "{:?}",
        snap.servers.iter().map(|s| &s.hss).collect::<Vec<_>>()
    );
}

#[test]
fn xpub_probe_detail_is_what_the_cases_modify() {
    // Guards the helpers above: replacing a probe leaves exactly one of that name.
    let r = replace_probe(honest(0, "x.example", "5.9.1.1"), "xpub", |b| {
        b.xpub(true, vec![1.0; 3], 0.0, vec![])
    });
    let xs: Vec<_> = r
        .probes
        .iter()
        .filter(|p| matches!(p.detail, ProbeDetail::Xpub(_)))
        .collect();
    assert_eq!(xs.len(), 1);
}
