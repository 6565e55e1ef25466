//! End to end against ground truth: start a simulated network, scan it with the scanner
//! (crawling, loopback allowed), analyze the records, and score the findings against what
//! the simnet says it planted (issue 6, "done means"):
//!
//! * the implementation is identified for at least [`MIN_IDENTIFIED`] of the reachable
//!   (Electrum-speaking) endpoints;
//! * every planted honeypot server has a higher Honeypot Suspicion Score than every honest one;
//! * every hostile and blackholed endpoint ends within the endpoint deadline with its
//!   hostility on record (nothing crashes or stalls the scan); every hostile kind is planted.
//!
//! One hostile kind is not a failure: the `wrong-ids` server sends each reply with a string
//! id, a made-up id, then the right id twice. The right answer is there, so its metadata is
//! true and `success` stays truthful about the answers; the junk is the finding, and it must
//! be visible: counted in the record's `wire.unmatched_replies` and reported by the HSS
//! protocol-mismatch indicator (docs/security.md, "Replies that match no request"). See
//! [`VIOLATION_KINDS`].

use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::time::Duration;

use observatory_analysis::assemble::{analyze, Options};
use observatory_analysis::enrich::Enricher;
use observatory_analysis::hss;
use observatory_analysis::load::{LoadedData, RunData};
use observatory_model::raw::Status;
use observatory_scanner::targets::TargetSet;
use observatory_scanner::{scan, MemorySink, ScanConfig};
use observatory_simnet::{Behavior, HostileKind, Role, Simnet, SimnetConfig};

#[path = "../../scanner/tests/support/tools.rs"]
mod tools;

/// Servers in the simulated network (the issue asks for about 60 in CI).
const SERVERS: usize = 60;
/// Share of reachable endpoints whose implementation must be identified.
const MIN_IDENTIFIED: f64 = 0.95;
/// The whole-endpoint deadline the scan runs with.
const ENDPOINT_DEADLINE: Duration = Duration::from_secs(45);
/// Giant-JSON reply size: over the scanner's 4 MiB line limit, small enough for CI.
const GIANT_JSON_BYTES: u64 = 8 * 1024 * 1024;
/// Hostile share: 9 of 60 servers, one per default hostile kind.
const HOSTILE_SHARE: f64 = 0.15;
/// Hostile kinds whose requests are all answered correctly among junk replies: contained
/// when they end within the deadline with the junk counted and reported (not by a failure).
const VIOLATION_KINDS: &[&str] = &["wrong-ids"];

#[test]
fn scan_and_analysis_find_what_the_simnet_planted() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let config = SimnetConfig {
            servers: SERVERS,
            seed: 1,
            // Its own block, away from the simnet crate's tests and a running `observatory simnet`.
            base: Ipv4Addr::new(127, 71, 0, 0),
            giant_json_bytes: GIANT_JSON_BYTES,
            hostile_share: HOSTILE_SHARE,
            ..SimnetConfig::default()
        };
        let net = Simnet::start(config).await.unwrap();
        let truth = net.ground_truth().clone();
        for role in [
            Role::Honest,
            Role::Honeypot,
            Role::Hostile,
            Role::Blackholed,
        ] {
            assert!(
                truth.endpoints.iter().any(|e| e.role == role),
                "{role:?} planted"
            );
        }
        assert!(
            truth.endpoints.iter().any(|e| !e.seeded),
            "some servers only reachable by crawling"
        );
        let planted: BTreeSet<String> = truth
            .endpoints
            .iter()
            .filter(|e| e.role == Role::Hostile)
            .map(|e| e.behavior.clone())
            .collect();
        for kind in HostileKind::DEFAULT_SET {
            assert!(
                planted.contains(&Behavior::Hostile(kind).name()),
                "{kind:?} planted"
            );
        }

        let mut targets = TargetSet::default();
        targets
            .add_servers_file(&truth.servers_json().to_string(), "simnet servers.json")
            .unwrap();
        let mut scan_config = ScanConfig::new(targets.into_vec(), "simnet-e2e".into());
        scan_config.allow_loopback = true;
        scan_config.crawl = true;
        scan_config.endpoint_timeout = ENDPOINT_DEADLINE;
        let mut sink = MemorySink::default();
        let started = std::time::Instant::now();
        let manifest = scan(scan_config, &mut sink).await.unwrap();
        eprintln!(
            "scan of {} endpoints took {:.1} s: {:?}",
            sink.records.len(),
            started.elapsed().as_secs_f64(),
            manifest.counts_by_status
        );
        net.shutdown().await;

        let data = LoadedData::from_runs(vec![RunData {
            run_id: manifest.run_id.clone(),
            manifest: Some(manifest),
            records: sink.records.clone(),
        }]);
        let opts = Options {
            generated_at: "2026-01-01T00:00:00Z".into(),
            ..Options::default()
        };
        let analysis = analyze(&data, &Enricher::default(), &opts);
        let card = truth.score(&sink.records, &analysis.snapshot.servers);
        eprintln!("{card}");
        let dump = keep_for_inspection(&truth, &sink.records, &analysis.snapshot);
        eprintln!(
            "records, snapshot and ground truth kept in {}",
            dump.display()
        );

        assert_eq!(
            card.foreign_records, 0,
            "the crawl stayed inside the simnet"
        );
        assert!(
            card.identified_share() >= MIN_IDENTIFIED,
            "implementation identified for too few endpoints:\n{card}"
        );
        assert!(
            card.ranking.separated(),
            "honeypots not ranked above every honest server:\n{card}"
        );

        // With the real GeoIP/ASN databases and the simnet's stand-in addresses, the network
        // has a geography: honeypots land in one cloud ASN, the uniform-group indicator can
        // see them, and the ranking still separates.
        if let Some(geoip) = observatory_analysis::enrich::real_geoip_dir(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".."),
        ) {
            let located = located_enricher(&truth, geoip);
            let analysis = analyze(&data, &located, &opts);
            let card = truth.score(&sink.records, &analysis.snapshot.servers);
            eprintln!("with stand-in locations:\n{card}");
            assert!(
                card.ranking.separated(),
                "honeypots not ranked above every honest server with locations:\n{card}"
            );
            let honeypot_hosts: BTreeSet<&str> = truth
                .endpoints
                .iter()
                .filter(|e| e.role == Role::Honeypot)
                .map(|e| e.address.as_str())
                .collect();
            let honeypot_asns: BTreeSet<Option<u32>> = analysis
                .snapshot
                .servers
                .iter()
                .filter(|s| honeypot_hosts.contains(s.host.as_str()))
                .map(|s| s.asn)
                .collect();
            assert_eq!(
                honeypot_asns,
                BTreeSet::from([Some(16509)]),
                "the honeypot fleet sits in one cloud ASN"
            );
            let located_servers = analysis
                .snapshot
                .servers
                .iter()
                .filter(|s| s.location.is_some())
                .count();
            assert!(
                located_servers * 2 > analysis.snapshot.servers.len(),
                "{located_servers} of {} located",
                analysis.snapshot.servers.len()
            );
        } else {
            tools::missing_tool("GeoIP databases in data/geoip", "scripts/setup/20-geoip.sh");
        }

        // The protocol violators: every one recorded with its unmatched replies counted and,
        // when it succeeded, flagged by the protocol-mismatch indicator with that evidence.
        let violators: Vec<_> = card
            .hostile
            .iter()
            .filter(|o| VIOLATION_KINDS.contains(&o.behavior.as_str()))
            .collect();
        assert!(!violators.is_empty(), "{VIOLATION_KINDS:?} planted");
        for o in &violators {
            let r = sink
                .records
                .iter()
                .find(|r| r.endpoint.key() == o.endpoint)
                .unwrap_or_else(|| panic!("{} not recorded", o.endpoint));
            assert!(
                r.wire.unmatched_replies > 0,
                "{} ({}): no unmatched replies counted: {:?}",
                o.endpoint,
                o.behavior,
                r.wire
            );
            if r.status == Status::Success {
                let server = analysis
                    .snapshot
                    .servers
                    .iter()
                    .find(|s| s.hosts.contains(&r.endpoint.host));
                let fired = server.and_then(|s| {
                    s.hss
                        .fired
                        .iter()
                        .find(|i| i.id == hss::ids::PROTOCOL_MISMATCH)
                });
                assert!(
                    fired.is_some_and(|i| i.evidence.contains("matched no request")),
                    "{} ({}): the violation is not reported: {:?}",
                    o.endpoint,
                    o.behavior,
                    server.map(|s| &s.hss)
                );
            }
        }
        let uncontained = card.uncontained(ENDPOINT_DEADLINE);
        assert!(
            uncontained.is_empty(),
            "hostile endpoints not contained: {uncontained:?}\n{card}"
        );
    });
}

/// An enricher over the real databases in `geoip` that looks the simnet's loopback
/// addresses up as their stand-in public addresses.
fn located_enricher(
    truth: &observatory_simnet::GroundTruth,
    geoip: std::path::PathBuf,
) -> Enricher {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("simnet-ground-truth-aliases");
    truth.write(&dir).unwrap();
    let mut cfg = observatory_analysis::enrich::EnrichConfig {
        ip_aliases: Some(dir.join(observatory_simnet::IP_ALIASES_FILE)),
        ..Default::default()
    };
    observatory_analysis::enrich::discover(&mut cfg, &[geoip]);
    Enricher::open(&cfg).unwrap()
}

/// Writes what was scanned, analyzed and planted under the target directory, so a failure
/// can be investigated without rerunning the scan.
fn keep_for_inspection(
    truth: &observatory_simnet::GroundTruth,
    records: &[observatory_model::raw::EndpointRecord],
    snapshot: &observatory_model::snapshot::Snapshot,
) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("simnet-ground-truth");
    std::fs::create_dir_all(&dir).unwrap();
    truth.write(&dir).unwrap();
    let lines: Vec<String> = records
        .iter()
        .map(|r| serde_json::to_string(r).unwrap())
        .collect();
    std::fs::write(dir.join("endpoints.jsonl"), lines.join("\n") + "\n").unwrap();
    std::fs::write(
        dir.join("snapshot.json"),
        serde_json::to_string_pretty(snapshot).unwrap(),
    )
    .unwrap();
    dir
}
