//! The simulated network answers like the implementations it emulates, its plants behave
//! as specified, and its ground truth matches what is on the wire.
//!
//! Each test uses its own address block (127.6x.0.0) so the tests can run in parallel.

mod common;

use std::net::Ipv4Addr;
use std::time::Duration;

use common::{addr_of, find, Client};
use observatory_model::raw::Transport;
use observatory_protocol::message::{classify, Incoming};
use observatory_simnet::{
    Behavior, Flavor, GroundTruth, HostileKind, Plan, Role, Simnet, SimnetConfig, HISTORY_LIMIT,
    HONEYPOT_BANNER,
};
use serde_json::{json, Value};

/// Scripthash of the Electrum protocol docs' example (P2PKH 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa).
const SCRIPTHASH: &str = "8b01df4e368ea28f8dc0423bcf7a4923e3a12d307c875e47a0cfbf90b5c39161";

fn version_params() -> Value {
    json!(["electrum/4.5.8", ["1.4", "1.6"]])
}

/// An all-honest network large enough to contain every flavor, with tiny latency.
fn honest_config(base: Ipv4Addr) -> SimnetConfig {
    SimnetConfig {
        servers: 90,
        seed: 11,
        base,
        honeypot_share: 0.0,
        hostile_share: 0.0,
        blackholed_share: 0.0,
        latency_ms: (1, 3),
        ..SimnetConfig::default()
    }
}

/// What `server.version`, an unknown method and a bad scripthash must produce, per flavor,
/// as read in each implementation's source (see the simnet's dialect modules).
struct Expect {
    flavor: Flavor,
    version: &'static str,
    protocol: &'static str,
    unknown_method: Option<&'static str>,
    bad_scripthash: Option<&'static str>,
}

const EXPECTED: [Expect; 7] = [
    Expect {
        flavor: Flavor::Electrumx116,
        version: "ElectrumX 1.16.0",
        protocol: "1.4.2",
        unknown_method: Some(
            r#"{"jsonrpc":"2.0","error":{"code":-32601,"message":"unknown method \"no.such\""},"id":3}"#,
        ),
        bad_scripthash: Some(
            r#"{"jsonrpc":"2.0","error":{"code":1,"message":"zz is not a valid script hash"},"id":4}"#,
        ),
    },
    Expect {
        flavor: Flavor::Electrumx119,
        version: "ElectrumX 1.19.0",
        protocol: "1.6",
        unknown_method: Some(
            r#"{"jsonrpc":"2.0","error":{"code":-32601,"message":"unknown method \"no.such\""},"id":3}"#,
        ),
        bad_scripthash: Some(
            r#"{"jsonrpc":"2.0","error":{"code":1,"message":"zz is not a valid script hash"},"id":4}"#,
        ),
    },
    Expect {
        flavor: Flavor::Fulcrum,
        version: "Fulcrum 1.12.0",
        protocol: "1.5",
        unknown_method: Some(
            r#"{"error":{"code":-32601,"message":"Unsupported request: no.such"},"id":3,"jsonrpc":"2.0"}"#,
        ),
        bad_scripthash: Some(
            r#"{"error":{"code":1,"message":"Invalid scripthash"},"id":4,"jsonrpc":"2.0"}"#,
        ),
    },
    Expect {
        flavor: Flavor::Electrs,
        version: "electrs/0.10.9",
        protocol: "1.4",
        unknown_method: Some(
            r#"{"error":{"code":-32601,"message":"method not found"},"id":3,"jsonrpc":"2.0"}"#,
        ),
        bad_scripthash: Some(
            r#"{"error":{"code":-32602,"message":"invalid params"},"id":4,"jsonrpc":"2.0"}"#,
        ),
    },
    Expect {
        flavor: Flavor::EsploraElectrs,
        version: "electrs-esplora 0.4.1",
        protocol: "1.4",
        unknown_method: Some(
            r#"{"error":{"code":-32601,"message":"unknown method no.such"},"id":3,"jsonrpc":"2.0"}"#,
        ),
        bad_scripthash: Some(
            r#"{"error":{"code":-32602,"message":"non-hex hash"},"id":4,"jsonrpc":"2.0"}"#,
        ),
    },
    Expect {
        flavor: Flavor::MempoolElectrs,
        version: "electrs-esplora 3.1.0",
        protocol: "1.4",
        unknown_method: Some(r#"{"error":"unknown method no.such []","id":3,"jsonrpc":"2.0"}"#),
        bad_scripthash: Some(r#"{"error":"bad script_hash","id":4,"jsonrpc":"2.0"}"#),
    },
    Expect {
        flavor: Flavor::ElectrumPersonalServer,
        version: "ElectrumPersonalServer 0.2.4",
        protocol: "1.4",
        // EPS logs unknown methods and answers nothing; unknown scripthashes end the session.
        unknown_method: None,
        bad_scripthash: None,
    },
];

#[tokio::test]
async fn implementations_answer_as_their_source_says() {
    let net = Simnet::start(honest_config(Ipv4Addr::new(127, 61, 0, 0)))
        .await
        .unwrap();
    let truth = net.ground_truth().clone();
    for flavor in Flavor::ALL {
        assert!(
            truth.endpoints.iter().any(|e| e.software.as_deref()
                == Some(flavor.software().as_str())
                && e.version.as_deref() == Some(flavor.version())),
            "seed 11 / 90 servers should contain {flavor:?}"
        );
    }
    for exp in &EXPECTED {
        let e = find(&truth, |e| {
            e.version.as_deref() == Some(exp.flavor.version())
                && e.software.as_deref() == Some(exp.flavor.software().as_str())
        });
        let mut c = Client::to(e).await;
        let v = c.call("server.version", version_params()).await;
        assert_eq!(
            v["result"],
            json!([exp.version, exp.protocol]),
            "{:?}: {v}",
            exp.flavor
        );
        let banner = c.call("server.banner", json!([])).await;
        assert!(
            banner["result"].as_str().is_some_and(|b| !b.is_empty()),
            "{:?} banner {banner}",
            exp.flavor
        );
        match exp.unknown_method {
            Some(text) => {
                c.send("no.such", json!([])).await;
                assert_eq!(c.line().await.unwrap(), text, "{:?}", exp.flavor);
            }
            None => {
                c.send("no.such", json!([])).await;
                assert_eq!(
                    c.try_line(Duration::from_millis(500)).await,
                    Err(()),
                    "EPS stays silent"
                );
                c.send("server.ping", json!([])).await; // id 4: keeps the ids aligned with the table
            }
        }
        match exp.bad_scripthash {
            Some(text) => {
                c.send("blockchain.scripthash.get_balance", json!(["zz"]))
                    .await;
                assert_eq!(c.line().await.unwrap(), text, "{:?}", exp.flavor);
            }
            None => {
                assert!(
                    c.line().await.unwrap().contains("\"result\": null"),
                    "EPS answers the ping"
                );
                c.send("blockchain.scripthash.get_history", json!([SCRIPTHASH]))
                    .await;
                assert_eq!(
                    c.line().await,
                    None,
                    "EPS closes on a scripthash outside its wallet"
                );
            }
        }
    }
    net.shutdown().await;
}

#[tokio::test]
async fn electrumx_2_pads_and_newer_electrumx_require_version_first() {
    let net = Simnet::start(honest_config(Ipv4Addr::new(127, 62, 0, 0)))
        .await
        .unwrap();
    let truth = net.ground_truth();
    let x20 = find(truth, |e| {
        e.version.as_deref() == Some("2.0.0") && e.transport == Transport::Tcp
    });
    let mut c = Client::to(x20).await;
    c.send("server.version", version_params()).await;
    let (line, padding) = c.line_with_padding().await.unwrap();
    assert_eq!(
        padding, 0,
        "the padding sits before the closing brace, not at the end"
    );
    assert_eq!(line.len() + 1, 1024, "padded to MIN_PACKET_SIZE");
    assert!(line.ends_with(b" }"));

    for version in ["1.19.0", "2.0.0"] {
        let e = find(truth, |e| {
            e.version.as_deref() == Some(version)
                && e.software
                    .as_deref()
                    .is_some_and(|s| s.starts_with("ElectrumX"))
        });
        let mut c = Client::to(e).await;
        c.send("server.features", json!([])).await;
        let lines: Vec<String> = [c.line().await, c.line().await, c.line().await]
            .into_iter()
            .map(Option::unwrap)
            .collect();
        assert!(
            lines[0].contains(r#""method":"blockchain.relayfee""#),
            "{version}: {lines:?}"
        );
        assert!(
            lines[1].contains(r#""method":"blockchain.estimatefee""#),
            "{version}: {lines:?}"
        );
        assert!(
            lines[2].contains("use server.version to identify client"),
            "{version}: {lines:?}"
        );
        assert_eq!(c.line().await, None, "{version} disconnects");
    }
    let x116 = find(truth, |e| {
        e.version.as_deref() == Some("1.16.0") && e.role == Role::Honest
    });
    let mut c = Client::to(x116).await;
    let features = c.call("server.features", json!([])).await;
    assert_eq!(
        features["result"]["server_version"], "ElectrumX 1.16.0",
        "1.16 serves before server.version"
    );
    net.shutdown().await;
}

#[tokio::test]
async fn batches_empty_batches_and_unsupported_versions() {
    let net = Simnet::start(honest_config(Ipv4Addr::new(127, 63, 0, 0)))
        .await
        .unwrap();
    let truth = net.ground_truth();
    let by = |f: Flavor| {
        find(truth, move |e| {
            e.version.as_deref() == Some(f.version())
                && e.software.as_deref() == Some(f.software().as_str())
        })
    };

    // electrs answers an empty batch with an empty array; ElectrumX with an error.
    let mut c = Client::to(by(Flavor::Electrs)).await;
    c.send_raw(b"[]").await;
    assert_eq!(c.line().await.unwrap(), "[]");
    let mut c = Client::to(by(Flavor::Electrumx116)).await;
    c.send_raw(b"[]").await;
    assert_eq!(
        c.line().await.unwrap(),
        r#"{"jsonrpc":"2.0","error":{"code":-32600,"message":"batch is empty"},"id":null}"#
    );

    // A small batch: one array line with both answers.
    let batch = br#"[{"jsonrpc":"2.0","id":1,"method":"server.ping","params":[]},{"jsonrpc":"2.0","id":2,"method":"blockchain.relayfee","params":[]}]"#;
    c.send_raw(batch).await;
    let Incoming::Batch(items) = classify(c.line().await.unwrap().as_bytes()).unwrap() else {
        panic!("not a batch")
    };
    assert_eq!(items.len(), 2);

    // mempool/electrs has no batch support: the connection ends.
    let mut c = Client::to(by(Flavor::MempoolElectrs)).await;
    c.send_raw(batch).await;
    assert_eq!(c.line().await, None);

    // Blockstream esplora closes on batches over MAX_ARRAY_BATCH (20).
    let mut c = Client::to(by(Flavor::EsploraElectrs)).await;
    let big: Vec<Value> = (0..21)
        .map(|i| json!({"jsonrpc":"2.0","id":i,"method":"server.ping","params":[]}))
        .collect();
    c.send_raw(serde_json::to_string(&big).unwrap().as_bytes())
        .await;
    assert_eq!(c.line().await, None);

    // Unsupported protocol: ElectrumX replies and disconnects; electrs replies and stays.
    let mut c = Client::to(by(Flavor::Electrumx200)).await;
    c.send("server.version", json!(["x", ["9.9", "9.9"]])).await;
    assert!(c
        .line()
        .await
        .unwrap()
        .contains("unsupported protocol version: ['9.9', '9.9']"));
    let (rest, _) = c
        .try_line(Duration::from_secs(2))
        .await
        .unwrap()
        .unwrap_or_default();
    assert!(rest.is_empty(), "then closes");
    let mut c = Client::to(by(Flavor::Electrs)).await;
    let v = c.call("server.version", json!(["x", ["9.9", "9.9"]])).await;
    assert_eq!(
        v["error"]["message"],
        r#"unsupported request MinMax("9.9", "9.9") by x"#
    );
    assert!(c.call("server.ping", json!([])).await["result"].is_null());

    // Invalid JSON.
    let mut c = Client::to(by(Flavor::Electrumx119)).await;
    c.send_raw(b"{not json").await;
    assert_eq!(
        c.line().await.unwrap(),
        r#"{"jsonrpc":"2.0","error":{"code":-32700,"message":"invalid JSON"},"id":null}"#
    );
    net.shutdown().await;
}

#[tokio::test]
async fn headers_are_real_looking_and_consistent() {
    let net = Simnet::start(honest_config(Ipv4Addr::new(127, 64, 0, 0)))
        .await
        .unwrap();
    let truth = net.ground_truth();
    let mut seen_lag = false;
    for e in truth
        .endpoints
        .iter()
        .filter(|e| e.transport == Transport::Tcp)
        .take(25)
    {
        let mut c = Client::to(e).await;
        c.call("server.version", version_params()).await;
        let h = c.call("blockchain.headers.subscribe", json!([])).await;
        let height = h["result"]["height"].as_u64().unwrap();
        let hex = h["result"]["hex"].as_str().unwrap();
        assert_eq!(height, truth.tip_height - e.tip_lag, "{}", e.address);
        assert_eq!(hex.len(), 160);
        assert!(observatory_protocol::scripthash::header_hash(hex).is_some());
        seen_lag |= e.tip_lag > 0;
    }
    assert!(seen_lag, "some servers lag the tip");
    net.shutdown().await;
}

#[tokio::test]
async fn honeypots_share_a_certificate_a_banner_and_log_history() {
    let config = SimnetConfig {
        servers: 30,
        seed: 5,
        base: Ipv4Addr::new(127, 65, 0, 0),
        honeypot_share: 0.2,
        hostile_share: 0.0,
        blackholed_share: 0.0,
        latency_ms: (1, 3),
        ..SimnetConfig::default()
    };
    let net = Simnet::start(config).await.unwrap();
    let truth = net.ground_truth();
    let pots: Vec<_> = truth
        .endpoints
        .iter()
        .filter(|e| e.role == Role::Honeypot && e.transport == Transport::Tls)
        .collect();
    assert_eq!(pots.len(), 6);
    let a = Client::tls(addr_of(pots[0])).await.unwrap();
    let b = Client::tls(addr_of(pots[1])).await.unwrap();
    assert_eq!(a.certs[0], b.certs[0], "one certificate across the group");
    let honest = truth
        .endpoints
        .iter()
        .filter(|e| {
            e.role == Role::Honest
                && e.cert_group == Some(observatory_simnet::CertGroup::SelfSigned)
        })
        .take(2)
        .collect::<Vec<_>>();
    let h1 = Client::tls(addr_of(honest[0])).await.unwrap();
    let h2 = Client::tls(addr_of(honest[1])).await.unwrap();
    assert_ne!(h1.certs[0], h2.certs[0], "honest servers have their own");

    let mut c = Client::to(pots[2]).await;
    c.call("server.version", version_params()).await;
    assert_eq!(
        c.call("server.banner", json!([])).await["result"],
        HONEYPOT_BANNER
    );
    // History answers are slower than pings (the injected logging delay).
    let t = std::time::Instant::now();
    c.call("server.ping", json!([])).await;
    let ping = t.elapsed();
    let t = std::time::Instant::now();
    c.call("blockchain.scripthash.get_history", json!([SCRIPTHASH]))
        .await;
    let history = t.elapsed();
    assert!(
        history > ping + Duration::from_millis(40),
        "history {history:?} vs ping {ping:?}"
    );
    // Selective rate limiting: history queries past the limit are refused, nothing else is.
    for i in 1..HISTORY_LIMIT {
        let r = c
            .call("blockchain.scripthash.get_history", json!([SCRIPTHASH]))
            .await;
        assert!(r["result"].is_array(), "history query {i} answered: {r}");
    }
    let r = c
        .call("blockchain.scripthash.get_history", json!([SCRIPTHASH]))
        .await;
    assert_eq!(r["error"]["code"], observatory_simnet::THROTTLE_CODE, "{r}");
    assert_eq!(r["error"]["message"], observatory_simnet::THROTTLE_MESSAGE);
    assert!(
        c.call("blockchain.scripthash.get_balance", json!([SCRIPTHASH]))
            .await["result"]
            .is_object(),
        "balances pass"
    );
    assert!(
        c.call("server.ping", json!([])).await["result"].is_null(),
        "pings still pass"
    );
    net.shutdown().await;
}

/// A network of hostile servers only, one per kind, including the opt-in ones.
fn hostile_config(base: Ipv4Addr) -> SimnetConfig {
    let mut kinds = HostileKind::DEFAULT_SET.to_vec();
    kinds.extend([HostileKind::HugePeers, HostileKind::PrivatePeers]);
    SimnetConfig {
        servers: kinds.len(),
        seed: 3,
        base,
        honeypot_share: 0.0,
        hostile_share: 1.0,
        blackholed_share: 0.0,
        unseeded_share: 0.0,
        hostile_kinds: kinds,
        giant_json_bytes: 3 * 1024 * 1024,
        ..SimnetConfig::default()
    }
}

#[tokio::test]
async fn hostile_servers_misbehave_as_specified() {
    let net = Simnet::start(hostile_config(Ipv4Addr::new(127, 66, 0, 0)))
        .await
        .unwrap();
    let truth = net.ground_truth();
    let tcp = |kind: HostileKind| {
        let name = Behavior::Hostile(kind).name();
        find(truth, move |e| {
            e.behavior == name && e.transport == Transport::Tcp
        })
    };

    let mut c = Client::to(tcp(HostileKind::NeverAnswers)).await;
    c.send("server.version", version_params()).await;
    assert!(
        c.read_raw(Duration::from_millis(800), 1).await.is_empty(),
        "never answers"
    );

    let mut c = Client::to(tcp(HostileKind::Slowloris)).await;
    c.send("server.version", version_params()).await;
    let got = c.read_raw(Duration::from_millis(2500), 1000).await;
    assert!(
        !got.is_empty() && got.len() <= 4,
        "one byte per second, got {}",
        got.len()
    );

    let mut c = Client::to(tcp(HostileKind::EndlessLine)).await;
    c.send("server.version", version_params()).await;
    let got = c.read_raw(Duration::from_secs(5), 2 << 20).await;
    assert!(
        got.len() >= 1 << 20 && !got.contains(&b'\n'),
        "endless line: {} bytes",
        got.len()
    );

    let mut c = Client::to(tcp(HostileKind::InvalidUtf8)).await;
    c.send("server.version", version_params()).await;
    let (line, _) = c.line_with_padding().await.unwrap();
    assert!(std::str::from_utf8(&line).is_err());

    let mut c = Client::to(tcp(HostileKind::GiantJson)).await;
    c.send("server.version", version_params()).await;
    let (line, _) = c.line_with_padding().await.unwrap();
    assert!(line.len() > 3 * 1024 * 1024);
    let v: Value = serde_json::from_slice(&line).expect("giant but valid JSON");
    assert_eq!(v["id"], 1);

    let mut c = Client::to(tcp(HostileKind::DeepJson)).await;
    c.send("server.version", version_params()).await;
    let (line, _) = c.line_with_padding().await.unwrap();
    assert_eq!(line.len(), 200_000);
    assert!(classify(&line).is_err(), "too deep for any parser");

    let mut c = Client::to(tcp(HostileKind::WrongIds)).await;
    c.send("server.version", version_params()).await;
    let mut ids = Vec::new();
    for _ in 0..4 {
        let v: Value = serde_json::from_str(&c.line().await.unwrap()).unwrap();
        ids.push(v["id"].clone());
    }
    assert_eq!(ids, vec![json!("1"), json!(7778), json!(1), json!(1)]);

    let mut c = Client::to(tcp(HostileKind::NotificationFlood)).await;
    c.send("server.version", version_params()).await;
    for _ in 0..observatory_simnet::FLOOD_PER_REQUEST {
        assert!(matches!(
            classify(c.line().await.unwrap().as_bytes()),
            Ok(Incoming::Notification(_))
        ));
    }
    assert!(matches!(
        classify(c.line().await.unwrap().as_bytes()),
        Ok(Incoming::Reply(_))
    ));

    let mid = find(truth, |e| e.behavior == "tls-close-mid-handshake");
    assert_eq!(mid.transport, Transport::Tls);
    assert!(Client::tls(addr_of(mid)).await.is_err(), "handshake dies");

    let mut c = Client::to(tcp(HostileKind::HugePeers)).await;
    c.call("server.version", version_params()).await;
    let peers = c.call("server.peers.subscribe", json!([])).await;
    let peers = peers["result"].as_array().unwrap();
    assert_eq!(peers.len(), observatory_simnet::HUGE_PEER_COUNT);
    assert!(
        peers
            .iter()
            .all(|p| p[0].as_str().unwrap().starts_with("127.")),
        "loopback only"
    );

    let mut c = Client::to(tcp(HostileKind::PrivatePeers)).await;
    c.call("server.version", version_params()).await;
    let peers = c.call("server.peers.subscribe", json!([])).await;
    let hosts: Vec<&str> = peers["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[0].as_str().unwrap())
        .collect();
    assert!(hosts.contains(&"10.0.0.1") && hosts.contains(&"192.168.1.20"));
    net.shutdown().await;
}

#[tokio::test]
async fn blackholed_addresses_accept_nothing() {
    let config = SimnetConfig {
        servers: 4,
        base: Ipv4Addr::new(127, 67, 0, 0),
        honeypot_share: 0.0,
        hostile_share: 0.0,
        blackholed_share: 1.0,
        ..SimnetConfig::default()
    };
    let net = Simnet::start(config).await.unwrap();
    for e in &net.ground_truth().endpoints {
        assert_eq!(e.role, Role::Blackholed);
        let r = tokio::time::timeout(
            Duration::from_millis(700),
            tokio::net::TcpStream::connect(addr_of(e)),
        )
        .await;
        assert!(
            r.is_err(),
            "{}:{} must time out (dropped SYN), got {r:?}",
            e.address,
            e.port
        );
    }
    net.shutdown().await;
}

#[tokio::test]
async fn ground_truth_and_seed_list_are_written_and_match_the_wire() {
    let config = SimnetConfig {
        servers: 40,
        seed: 21,
        base: Ipv4Addr::new(127, 68, 0, 0),
        latency_ms: (1, 3),
        ..SimnetConfig::default()
    };
    let net = Simnet::start(config).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    net.ground_truth().write(dir.path()).unwrap();
    let truth: GroundTruth =
        serde_json::from_slice(&std::fs::read(dir.path().join("ground_truth.json")).unwrap())
            .unwrap();
    assert_eq!(&truth, net.ground_truth());
    let seeds: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("servers.json")).unwrap()).unwrap();
    let seeded: std::collections::BTreeSet<&str> = truth
        .endpoints
        .iter()
        .filter(|e| e.seeded)
        .map(|e| e.address.as_str())
        .collect();
    assert_eq!(seeds.as_object().unwrap().len(), seeded.len());
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
    // What the truth says is what the wire says, for every honest TCP endpoint.
    for e in truth
        .endpoints
        .iter()
        .filter(|e| e.role == Role::Honest && e.transport == Transport::Tcp)
    {
        let mut c = Client::to(e).await;
        let v = c.call("server.version", version_params()).await;
        assert_eq!(
            v["result"][0].as_str(),
            e.software.as_deref(),
            "{}",
            e.address
        );
    }
    // Peers are advertised on loopback only, and every advertised peer is in the truth.
    let addresses: std::collections::BTreeSet<&str> =
        truth.endpoints.iter().map(|e| e.address.as_str()).collect();
    for s in &net.plan().servers {
        for &p in &s.peers {
            let ip = net.plan().servers[p].ip;
            assert!(ip.is_loopback() && addresses.contains(ip.to_string().as_str()));
        }
    }
    net.shutdown().await;
}

#[test]
fn same_seed_same_network() {
    let config = SimnetConfig {
        servers: 300,
        seed: 77,
        ..SimnetConfig::default()
    };
    let a = GroundTruth::from_plan(&config, &Plan::generate(&config));
    let b = GroundTruth::from_plan(&config, &Plan::generate(&config));
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap()
    );
    let other = SimnetConfig {
        seed: 78,
        ..config.clone()
    };
    assert_ne!(
        a.endpoints,
        GroundTruth::from_plan(&other, &Plan::generate(&other)).endpoints
    );
}

#[test]
fn invalid_configurations_are_refused() {
    let bad = [
        SimnetConfig {
            servers: 0,
            ..SimnetConfig::default()
        },
        SimnetConfig {
            base: Ipv4Addr::new(10, 0, 0, 0),
            ..SimnetConfig::default()
        },
        SimnetConfig {
            base: Ipv4Addr::new(127, 255, 255, 0),
            servers: 500,
            ..SimnetConfig::default()
        },
        SimnetConfig {
            honeypot_share: 0.6,
            hostile_share: 0.6,
            ..SimnetConfig::default()
        },
        SimnetConfig {
            latency_ms: (300, 20),
            ..SimnetConfig::default()
        },
    ];
    for c in bad {
        assert!(c.validate().is_err(), "{c:?}");
    }
}

/// ElectrumX servers with their own certificate present what ElectrumX's HOWTO recipe makes
/// (`openssl genrsa 2048`, `openssl x509 -req -days 1825 -signkey`): self-signed, RSA-2048,
/// X.509 v1 without extensions, a valid signature, a key that signs the handshake. Other
/// implementations' own certificates stay v3. Electrum Personal Servers all present the
/// stand-in for EPS's bundled certificate, which the analysis knows as a default.
#[tokio::test]
async fn electrumx_presents_the_recipe_certificate_and_eps_a_known_default() {
    use x509_parser::prelude::{FromDer, X509Certificate, X509Version};
    let net = Simnet::start(honest_config(Ipv4Addr::new(127, 69, 0, 0)))
        .await
        .unwrap();
    let truth = net.ground_truth();
    let own = |imp: observatory_model::probes::Implementation| {
        truth.endpoints.iter().filter(move |e| {
            e.implementation == Some(imp)
                && e.cert_group == Some(observatory_simnet::CertGroup::SelfSigned)
        })
    };
    let mut checked = 0;
    for e in own(observatory_model::probes::Implementation::Electrumx).take(3) {
        // The TLS handshake verifies the server's signature with the certificate's key.
        let c = Client::tls(addr_of(e)).await.unwrap();
        assert_eq!(c.certs.len(), 1, "{}", e.address);
        let (rest, cert) = X509Certificate::from_der(&c.certs[0]).unwrap();
        assert!(rest.is_empty());
        assert_eq!(cert.version(), X509Version::V1, "{}", e.address);
        assert!(cert.extensions().is_empty());
        assert_eq!(cert.subject().to_string(), format!("CN={}", e.address));
        assert_eq!(cert.subject(), cert.issuer(), "self-signed");
        cert.verify_signature(None).expect("signed by its own key");
        assert_eq!(
            cert.signature_algorithm.algorithm.to_id_string(),
            "1.2.840.113549.1.1.11",
            "sha256WithRSAEncryption"
        );
        let spki = &cert.tbs_certificate.subject_pki;
        assert_eq!(
            spki.algorithm.algorithm.to_id_string(),
            "1.2.840.113549.1.1.1",
            "rsaEncryption"
        );
        match spki.parsed().unwrap() {
            x509_parser::public_key::PublicKey::RSA(k) => assert_eq!(k.key_size(), 2048),
            other => panic!("not RSA: {other:?}"),
        }
        let v = cert.validity();
        assert_eq!(
            (v.not_after.timestamp() - v.not_before.timestamp()) / 86_400,
            1825
        );
        checked += 1;
    }
    assert_eq!(checked, 3);
    let fulcrum = own(observatory_model::probes::Implementation::Fulcrum)
        .next()
        .unwrap();
    let c = Client::tls(addr_of(fulcrum)).await.unwrap();
    assert_eq!(
        X509Certificate::from_der(&c.certs[0]).unwrap().1.version(),
        X509Version::V3
    );

    let eps: Vec<_> = truth
        .endpoints
        .iter()
        .filter(|e| e.cert_group == Some(observatory_simnet::CertGroup::EpsBundled))
        .collect();
    assert!(!eps.is_empty(), "the honest network holds EPS installs");
    let mut leaves = Vec::new();
    for e in &eps {
        leaves.push(Client::tls(addr_of(e)).await.unwrap().certs[0].clone());
    }
    assert!(
        leaves.windows(2).all(|w| w[0] == w[1]),
        "one bundled certificate"
    );
    let (_, cert) = X509Certificate::from_der(&leaves[0]).unwrap();
    assert_eq!(cert.version(), X509Version::V1);
    use sha2::Digest as _;
    let sha = hex::encode(sha2::Sha256::digest(&leaves[0]));
    let spki = hex::encode(sha2::Sha256::digest(cert.tbs_certificate.subject_pki.raw));
    let listed = observatory_analysis::hss::KNOWN_DEFAULT_CERTS
        .iter()
        .find(|k| k.sha256 == sha);
    assert!(
        listed.is_some_and(|k| k.spki_sha256 == spki),
        "EPS stand-in sha256 {sha} spki {spki} must be in KNOWN_DEFAULT_CERTS"
    );
    net.shutdown().await;
}
