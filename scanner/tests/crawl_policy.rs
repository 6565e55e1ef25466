//! Crawling and the address-range policy, on loopback only.
//!
//! The scans here allow exactly the 127.0.0.N addresses of their own fake servers
//! (`ScanConfig::allow_ips`, the CLI's `--allow-ip`); every other special address, loopback
//! included, must be refused with `refused-by-policy` before any connection, which the
//! servers listening there prove by counting zero accepts.

mod support;

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use observatory_model::raw::{EndpointRecord, Provenance, Status};
use observatory_scanner::exclude::ExcludeList;
use observatory_scanner::targets::TargetSet;
use observatory_scanner::ScanConfig;
use serde_json::json;
use support::electrumx::{Config, ElectrumX, ExVersion};
use support::fake_servers::{spawn_fake, Behavior, Fake};

const DEADLINE: Duration = Duration::from_secs(5);

fn config(targets: &[String], allow: &[&Fake]) -> ScanConfig {
    let mut set = TargetSet::default();
    for t in targets {
        set.add_target(t).expect("target");
    }
    let mut config = ScanConfig::new(set.into_vec(), "test-run".into());
    config.allow_private = false;
    config.allow_ips = allow.iter().map(|f| f.addr.ip()).collect();
    config.endpoint_timeout = DEADLINE;
    config.request_timeout = Duration::from_secs(2);
    config.connect_timeout = Duration::from_secs(2);
    config.probes = false;
    config
}

fn by_key(records: &[EndpointRecord]) -> HashMap<String, &EndpointRecord> {
    records.iter().map(|r| (r.endpoint.key(), r)).collect()
}

fn peer(fake: &Fake) -> serde_json::Value {
    let ip = fake.addr.ip().to_string();
    json!([ip, ip, ["v1.4", format!("t{}", fake.addr.port())]])
}

/// A → B (peers.subscribe), A → C (features.hosts), B → D, D → E: depth 2 stops before E.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crawl_follows_peers_and_feature_hosts_up_to_the_caps() {
    let e = spawn_fake("127.0.0.64", Behavior::good(), None).await;
    let d = spawn_fake(
        "127.0.0.63",
        Behavior::with_peers(json!([peer(&e)]), json!({})),
        None,
    )
    .await;
    let c = spawn_fake("127.0.0.62", Behavior::good(), None).await;
    let b = spawn_fake(
        "127.0.0.61",
        Behavior::with_peers(json!([peer(&d)]), json!({})),
        None,
    )
    .await;
    let hosts = json!({ "127.0.0.62": {"tcp_port": c.addr.port(), "ssl_port": null} });
    let a = spawn_fake(
        "127.0.0.60",
        Behavior::with_peers(json!([peer(&b)]), hosts),
        None,
    )
    .await;
    let all = [&a, &b, &c, &d, &e];

    let mut cfg = config(&[a.target(false)], &all);
    cfg.crawl = true;
    cfg.max_depth = 2;
    let records = support::run(cfg).await;
    let got = by_key(&records);
    assert_eq!(records.len(), 4, "{:?}", got.keys());
    for f in [&a, &b, &c, &d] {
        assert_eq!(
            got[&f.target(false)].status,
            Status::Success,
            "{}",
            f.target(false)
        );
    }
    assert_eq!(e.accepted(), 0, "E is at depth 3");
    assert_eq!(
        got[&b.target(false)].provenance,
        vec![Provenance::Peer {
            from: a.target(false),
            depth: 1
        }]
    );
    assert_eq!(
        got[&c.target(false)].provenance,
        vec![Provenance::FeaturesHosts {
            from: a.target(false),
            depth: 1
        }]
    );
    assert_eq!(
        got[&d.target(false)].provenance,
        vec![Provenance::Peer {
            from: b.target(false),
            depth: 2
        }]
    );
    assert_eq!(
        got[&a.target(false)].linked_hosts,
        vec!["127.0.0.62".to_string()]
    );

    // --max-servers 2: the target and one discovery, however deep the crawl may go.
    let mut cfg = config(&[a.target(false)], &all);
    cfg.crawl = true;
    cfg.max_depth = 10;
    cfg.max_servers = 2;
    let records = support::run(cfg).await;
    assert_eq!(
        records.len(),
        2,
        "{:?}",
        records.iter().map(|r| r.endpoint.key()).collect::<Vec<_>>()
    );
    assert_eq!(d.accepted(), 1, "D was reached only by the first scan");
}

/// Peers and `features.hosts` naming loopback addresses other than the allowed fake (an IP
/// literal, `::1`, and the name `localhost`, which resolves to loopback) are refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crawled_special_addresses_are_refused_before_any_connect() {
    let lure = spawn_fake("127.0.0.71", Behavior::good(), None).await;
    let lure_v4_localhost = spawn_fake("127.0.0.1", Behavior::good(), None).await;
    // A machine without IPv6 loopback (some containers) still checks the refusal; only the
    // zero-connection proof for ::1 needs a listener there.
    let lure_v6 = if std::net::TcpListener::bind("[::1]:0").is_ok() {
        Some(spawn_fake("::1", Behavior::good(), None).await)
    } else {
        None
    };
    let v6_port = lure_v6.as_ref().map_or(50001, |f| f.addr.port());
    let peers = json!([
        peer(&lure),
        ["::1", "::1", [format!("t{v6_port}")]],
        [
            "localhost",
            "localhost",
            [format!("t{}", lure_v4_localhost.addr.port())]
        ]
    ]);
    let hosts = json!({ "localhost": {"tcp_port": lure_v4_localhost.addr.port() } });
    let hub = spawn_fake("127.0.0.70", Behavior::with_peers(peers, hosts), None).await;

    let mut cfg = config(&[hub.target(false)], &[&hub]);
    cfg.crawl = true;
    let records = support::run(cfg).await;
    let got = by_key(&records);
    assert_eq!(records.len(), 4, "{:?}", got.keys());
    assert_eq!(got[&hub.target(false)].status, Status::Success);
    for key in [
        lure.target(false),
        format!("[::1]:{v6_port}:t"),
        format!("localhost:{}:t", lure_v4_localhost.addr.port()),
    ] {
        let r = got
            .get(&key)
            .unwrap_or_else(|| panic!("{key} not recorded: {:?}", got.keys()));
        assert_eq!(r.status, Status::RefusedByPolicy, "{key}");
        assert!(
            r.error.as_deref().unwrap_or("").contains("Loopback"),
            "{key}: {:?}",
            r.error
        );
        assert_eq!(r.ip, None, "{key}: nothing chosen to dial");
        assert!(r.timing.connect_ms.is_none(), "{key}");
    }
    let localhost = &got[&format!("localhost:{}:t", lure_v4_localhost.addr.port())];
    assert!(
        localhost
            .resolved_ips
            .iter()
            .any(|ip| ip.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())),
        "{localhost:?}"
    );
    assert!(
        localhost.provenance.len() == 2,
        "learned from peers and features.hosts: {:?}",
        localhost.provenance
    );
    assert_eq!(
        lure.accepted() + lure_v4_localhost.accepted() + lure_v6.map_or(0, |f| f.accepted()),
        0
    );
}

/// Targets given directly are held to the same policy; `--allow-loopback` lifts it for loopback.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn special_targets_are_refused_unless_allowed() {
    let fake = spawn_fake("127.0.0.72", Behavior::good(), None).await;
    let by_name = format!("localhost:{}:t", fake.addr.port());
    let targets = [fake.target(false), by_name.clone()];
    let records = support::run(config(&targets, &[])).await;
    assert_eq!(records.len(), 2);
    assert!(
        records.iter().all(|r| r.status == Status::RefusedByPolicy),
        "{records:?}"
    );
    assert_eq!(fake.accepted(), 0);

    let mut cfg = config(&[fake.target(false)], &[]);
    cfg.allow_loopback = true;
    let records = support::run(cfg).await;
    assert_eq!(records[0].status, Status::Success, "{:?}", records[0].error);
    assert_eq!(fake.accepted(), 1);
}

/// The opt-out list holds even where the loopback allowance admits the address: a listed
/// target and a listed crawled peer are refused before any connect, the unlisted peer beside
/// them is scanned.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opted_out_targets_and_peers_are_never_dialled() {
    let listed_peer = spawn_fake("127.0.0.74", Behavior::good(), None).await;
    let neighbour = spawn_fake("127.0.0.75", Behavior::good(), None).await;
    let listed_target = spawn_fake("127.0.0.76", Behavior::good(), None).await;
    let hub = spawn_fake(
        "127.0.0.73",
        Behavior::with_peers(json!([peer(&listed_peer), peer(&neighbour)]), json!({})),
        None,
    )
    .await;

    let mut cfg =
        support::loopback_config(&[hub.target(false), listed_target.target(false)], DEADLINE);
    cfg.probes = false;
    cfg.crawl = true;
    cfg.exclude
        .extend(ExcludeList::parse("# opt-outs\n127.0.0.74\n127.0.0.76/32\n", "test").unwrap());
    let records = support::run(cfg).await;
    let got = by_key(&records);
    assert_eq!(records.len(), 4, "{:?}", got.keys());
    for fake in [&hub, &neighbour] {
        assert_eq!(
            got[&fake.target(false)].status,
            Status::Success,
            "{}",
            fake.target(false)
        );
    }
    for fake in [&listed_peer, &listed_target] {
        let r = &got[&fake.target(false)];
        assert_eq!(r.status, Status::RefusedByPolicy, "{}", fake.target(false));
        assert!(
            r.error.as_deref().unwrap_or("").contains("opt-out list"),
            "{:?}",
            r.error
        );
        assert_eq!(r.ip, None);
        assert_eq!(fake.accepted(), 0, "{} was dialled", fake.target(false));
    }
}

/// A real ElectrumX (TCP and TLS) and fake servers, good and bad, in one run: each ends as
/// it should and none disturbs the others.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_electrumx_and_fakes_in_one_run() {
    let Some(ex) = tokio::task::spawn_blocking(|| {
        ElectrumX::start(Config {
            version: ExVersion::V2_0_0,
            ..Config::default()
        })
    })
    .await
    .expect("start electrumx") else {
        return;
    };
    let good = spawn_fake("127.0.0.80", Behavior::good(), None).await;
    let silent = spawn_fake("127.0.0.81", Behavior::Silent, None).await;
    let closer = spawn_fake("127.0.0.82", Behavior::CloseMidLine, None).await;
    let refused = spawn_fake("127.0.0.83", Behavior::Refuse, None).await;
    let targets = [
        ex.tcp_target(),
        ex.ssl_target(),
        good.target(false),
        silent.target(false),
        closer.target(false),
        refused.target(false),
    ];
    let mut cfg = support::loopback_config(&targets, Duration::from_secs(30));
    cfg.request_timeout = Duration::from_secs(3);
    cfg.probes = false; // the mix is about statuses; the probes have their own ElectrumX tests
    let records = support::run(cfg).await;
    let got = by_key(&records);
    assert_eq!(records.len(), targets.len());
    for (key, want) in [
        (ex.tcp_target(), Status::Success),
        (ex.ssl_target(), Status::Success),
        (good.target(false), Status::Success),
        (silent.target(false), Status::IoTimeout),
        (closer.target(false), Status::ClosedByPeer),
        (refused.target(false), Status::ConnectionRefused),
    ] {
        assert_eq!(got[&key].status, want, "{key}: {:?}", got[&key].error);
    }
    let ex_tls = &got[&ex.ssl_target()];
    let software = &ex_tls
        .metadata
        .version
        .as_ref()
        .unwrap()
        .result
        .as_ref()
        .unwrap()
        .software;
    assert_eq!(software, "ElectrumX 2.0.0");
    assert_eq!(ex_tls.tls.as_ref().unwrap().chain.len(), 1);
}
