//! The privacy assessment and the location dimensions on small networks whose numbers are
//! computed by hand below: plain-TCP exposure, the share of the top three ASNs, xpub-leak
//! exposure (servers answering a large history batch), timing-leak indicators, the
//! recommendations those numbers support; onion servers as their own location bucket; a
//! simulated server's stand-in address used for the IPv4 /16 bucket as for its ASN.
//!
//! Enrichment is an ASN table written as ip-location-db CSV (no external database).

use std::collections::HashMap;

use observatory_analysis::assemble::{self, Options};
use observatory_analysis::enrich::{asn::AsnDb, Enricher};
use observatory_analysis::load::{LoadedData, RunData};
use observatory_analysis::privacy::metric_ids::*;
use observatory_analysis::synthetic::{self, Rec, Rng};
use observatory_model::probes::ProbeDetail;
use observatory_model::raw::{EndpointRecord, Status, Transport};
use observatory_model::snapshot::{Dimension, Snapshot};

const RUN: &str = "20261121T000000Z-assess";

/// Documentation of the test network (not real data).
const ASN_CSV: &str = "5.9.0.0,5.9.255.255,24940,Hetzner Online GmbH\n\
51.38.0.0,51.38.255.255,16276,OVH SAS\n\
95.216.0.0,95.216.255.255,24940,Hetzner Online GmbH\n\
138.68.0.0,138.68.255.255,14061,DigitalOcean LLC\n\
45.76.0.0,45.76.255.255,20473,The Constant Company LLC\n\
185.107.0.0,185.107.255.255,43350,NForce Entertainment B.V.\n";

fn rng(host: &str) -> Rng {
    Rng::new(
        host.bytes()
            .fold(7u64, |a, b| a.wrapping_mul(31).wrapping_add(u64::from(b))),
    )
}

fn electrumx(host: &str, ip: &str, t: Transport) -> EndpointRecord {
    synthetic::honest_electrumx(RUN, 0, host, ip, t, &mut rng(host))
}

fn analyze_with(
    records: Vec<EndpointRecord>,
    aliases: HashMap<std::net::IpAddr, std::net::IpAddr>,
) -> Snapshot {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("asn-ipv4.csv");
    std::fs::write(&csv, ASN_CSV).unwrap();
    let enricher = Enricher {
        asn: Some(AsnDb::open(&csv).unwrap()),
        aliases,
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

/// Nine servers, one round:
///
/// | host | endpoints | ASN | TLS cert | xpub batch | note |
/// |---|---|---|---|---|---|
/// | a | TLS + TCP | 24940 | self-signed | accepted | |
/// | b | TLS | 24940 | self-signed | accepted | |
/// | c | TCP (electrs) | 16276 | – | refused | |
/// | d | TLS (Fulcrum) | 24940 | web-PKI valid | accepted | |
/// | e | TLS | 14061 | self-signed | accepted | history 900 ms vs ~60 ms ping: logging timing |
/// | f | TLS | 20473 | – | – | unreachable (connection timeout) |
/// | g | TCP, onion | – | – | accepted | |
/// | h | TCP | 16276 | – | not probed | |
/// | i | TLS | 43350 | self-signed | accepted | |
fn network() -> Vec<EndpointRecord> {
    let logging = {
        let mut r = electrumx("e.example", "138.68.1.1", Transport::Tls);
        for p in &mut r.probes {
            if let ProbeDetail::Xpub(x) = &mut p.detail {
                x.sequential = synthetic::summary(&[900.0; 20]);
            }
        }
        r
    };
    let mut not_probed = electrumx("h.example", "51.38.1.2", Transport::Tcp);
    not_probed.probes.retain(|p| p.name != "xpub");
    let mut onion = electrumx(&format!("{}.onion", "g".repeat(56)), "", Transport::Tcp);
    onion.ip = None;
    onion.resolved_ips.clear();
    vec![
        electrumx("a.example", "5.9.1.1", Transport::Tls),
        electrumx("a.example", "5.9.1.1", Transport::Tcp),
        electrumx("b.example", "5.9.1.2", Transport::Tls),
        synthetic::electrs(RUN, 0, "c.example", "51.38.1.1", &mut rng("c")),
        synthetic::fulcrum(RUN, 0, "d.example", "95.216.1.1", &mut rng("d")),
        logging,
        Rec::new(RUN, 0, "f.example", 50002, Transport::Tls)
            .ip("45.76.1.1")
            .status(Status::ConnectionTimeout, Some("connect timed out"))
            .build(),
        onion,
        not_probed,
        electrumx("i.example", "185.107.1.1", Transport::Tls),
    ]
}

fn metric(s: &Snapshot, id: &str) -> (f64, String) {
    let m = s
        .privacy
        .metrics
        .iter()
        .find(|m| m.id == id)
        .unwrap_or_else(|| panic!("no metric {id}"));
    (m.value, m.detail.clone())
}

fn dim<'a>(s: &'a Snapshot, id: &str) -> &'a Dimension {
    s.centralization.iter().find(|d| d.id == id).unwrap()
}

#[test]
fn privacy_metrics_are_the_hand_counted_numbers() {
    let s = analyze_with(network(), HashMap::new());
    assert_eq!(s.totals.reachable_servers, 8, "f is down");
    // (metric, value, a phrase of its detail)
    let table: &[(&str, f64, &str)] = &[
        (PLAINTEXT, 4.0, "4 of 8 reachable servers answer on a plain-TCP port (50.0%)"), // a, c, g, h
        (PLAINTEXT_ONLY, 3.0, "3 of 8"),                                                  // c, g, h
        (TLS_UNVALIDATED, 80.0, "4 of 5 TLS servers"),                                   // a, b, e, i of a, b, d, e, i
        // Hetzner 3 (a, b, d), OVH 2 (c, h), DigitalOcean 1 (e), NForce 1 (i); the onion server has no ASN.
        (TOP3_ASN, 600.0 / 7.0, "6 of 7 servers with a known ASN are in AS24940 Hetzner Online GmbH, AS16276 OVH SAS, AS14061 DigitalOcean LLC"),
        (NAKAMOTO_ASN, 2.0, "of the 7 servers"), // 3 of 7 is not a majority, 5 of 7 is
        (XPUB_BATCH, 600.0 / 7.0, "6 of 7 probed servers answered a 40-query"), // all but c accept; h not probed
        (TIMING_LEAK, 1.0, "1 of 8 reachable servers fired the logging-timing indicator"), // e
        (ONION, 1.0, "1 of 8"),
        (SUSPICIOUS, 0.0, "0 of 8"),
        (LEGACY, 0.0, "0 of 8"),
    ];
    for (id, value, phrase) in table {
        let (v, detail) = metric(&s, id);
        assert!((v - value).abs() < 1e-9, "{id}: {v} (want {value})");
        assert!(detail.contains(phrase), "{id}: {detail:?} lacks {phrase:?}");
    }
    // The onion server is a bucket of the ASN dimension, but not one of the "top 3 ASNs".
    let asn = dim(&s, "asn");
    assert_eq!((asn.total, asn.unknown), (8, 0));
    assert!(asn.buckets.iter().any(|b| b.key == "onion" && b.count == 1));
}

#[test]
fn recommendations_rest_on_the_numbers_that_support_them() {
    let s = analyze_with(network(), HashMap::new());
    let recs: Vec<(&str, &str, Vec<&str>)> = s
        .privacy
        .recommendations
        .iter()
        .map(|r| {
            (
                r.audience.as_str(),
                r.text.as_str(),
                r.based_on.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    let based: Vec<&Vec<&str>> = recs.iter().map(|r| &r.2).collect();
    assert_eq!(
        based,
        vec![
            &vec![TOP3_ASN, ONION],
            &vec![PLAINTEXT, PLAINTEXT_ONLY],
            &vec![XPUB_BATCH],
            &vec![TIMING_LEAK],
            &vec![TLS_UNVALIDATED],
            &vec![NAKAMOTO_ASN]
        ],
        "no suspicious or legacy servers: no advice about them"
    );
    for (phrase, i) in [
        (
            "85.7% of servers with a known network sit in just 3 ASNs",
            0,
        ),
        ("1 onion server answered over Tor", 0),
        ("4 of the 8 reachable servers answer without TLS", 1),
        (
            "85.7% of probed servers accept a 40-address history batch",
            2,
        ),
        ("1 server show", 3),
        ("80.0% of TLS servers (4 of 5)", 4),
        ("in 2 ASNs", 5),
    ] {
        assert!(
            recs[i].1.contains(phrase),
            "{:?} lacks {phrase:?}",
            recs[i].1
        );
    }
    assert_eq!(recs.iter().filter(|r| r.0 == "users").count(), 3);

    // All TLS with web-PKI certificates and every batch refused: those recommendations go.
    let strict: Vec<EndpointRecord> = ["5.9.2.1", "51.38.2.1", "138.68.2.1"]
        .iter()
        .enumerate()
        .map(|(i, ip)| synthetic::fulcrum(RUN, 0, &format!("s{i}.example"), ip, &mut rng(ip)))
        .map(|mut r| {
            for p in &mut r.probes {
                if let ProbeDetail::Xpub(x) = &mut p.detail {
                    x.batch_accepted = Some(false);
                }
            }
            r
        })
        .collect();
    let s = analyze_with(strict, HashMap::new());
    let ids: Vec<&str> = s
        .privacy
        .recommendations
        .iter()
        .flat_map(|r| r.based_on.iter().map(String::as_str))
        .collect();
    for absent in [
        PLAINTEXT,
        XPUB_BATCH,
        TLS_UNVALIDATED,
        TIMING_LEAK,
        SUSPICIOUS,
        LEGACY,
    ] {
        assert!(
            !ids.contains(&absent),
            "{absent} recommended without support: {:#?}",
            s.privacy.recommendations
        );
    }
    let tor = &s.privacy.recommendations[0].text;
    assert!(
        tor.contains("no onion server answered this scan") && !tor.contains("0 onion"),
        "{tor}"
    );
}

#[test]
fn onion_servers_are_their_own_location_bucket() {
    let s = analyze_with(network(), HashMap::new());
    for id in ["country", "continent", "asn", "provider"] {
        let d = dim(&s, id);
        let onion = d
            .buckets
            .iter()
            .find(|b| b.key == "onion")
            .unwrap_or_else(|| panic!("{id}: no onion bucket"));
        assert_eq!(
            (onion.count, onion.label.as_str()),
            (1, "Onion (Tor)"),
            "{id}"
        );
    }
    // No GeoIP database: the clearnet servers are unknown countries, not onion and not a bucket.
    let country = dim(&s, "country");
    assert_eq!((country.total, country.unknown), (1, 7));
    // The prefix dimensions have no address for it.
    assert_eq!(dim(&s, "ipv4_16").unknown, 1);
}

#[test]
fn stand_in_addresses_are_used_for_prefixes_as_for_asns() {
    // Two simulated servers on loopback, standing in for addresses in two networks.
    let records = vec![
        electrumx("127.0.0.9", "127.0.0.9", Transport::Tls),
        electrumx("127.0.1.9", "127.0.1.9", Transport::Tls),
    ];
    let aliases: HashMap<std::net::IpAddr, std::net::IpAddr> =
        [("127.0.0.9", "5.9.10.10"), ("127.0.1.9", "51.38.3.4")]
            .iter()
            .map(|(a, b)| (a.parse().unwrap(), b.parse().unwrap()))
            .collect();
    let s = analyze_with(records, aliases);
    let keys = |id: &str| {
        dim(&s, id)
            .buckets
            .iter()
            .map(|b| b.key.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(keys("asn"), vec!["AS16276", "AS24940"]);
    assert_eq!(
        keys("ipv4_16"),
        vec!["5.9.0.0/16", "51.38.0.0/16"],
        "not 127.0.0.0/16"
    );
    // The servers themselves keep their real (loopback) addresses.
    assert!(s
        .servers
        .iter()
        .all(|x| x.ips.iter().all(|ip| ip.starts_with("127."))));
}
