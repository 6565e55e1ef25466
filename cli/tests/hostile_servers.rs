//! The hostile-server suite: one `observatory scan` child process against every hostile fake
//! at once (plus a well-behaved control), on 127.0.0.N only.
//!
//! For each server: the scan does not panic (it exits 0 with a complete manifest), the
//! endpoint ends with its expected, meaningful status within its deadline, the control is
//! unaffected, and the scan's peak RSS stays under [`PEAK_RSS_BOUND`].

mod support;

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use observatory_model::raw::{EndpointRecord, Status};
use serde_json::{json, Value};
use support::fake_servers::{certs, spawn_fake, Behavior, Fake, Quirk, TlsSetup};

/// Whole-endpoint deadline given to the scan.
const ENDPOINT_TIMEOUT: Duration = Duration::from_secs(10);
/// The scanner's hard stop comes this long after the deadline (`endpoint::HARD_STOP_GRACE`),
/// plus scheduling slack on a loaded 2-core machine.
const DEADLINE_SLACK: Duration = Duration::from_secs(4);
/// Peak resident memory allowed to the whole scan (debug build). The hostile servers offer
/// well over a gigabyte in total (100 MB JSON, 128 MB endless line, 30k-entry histories, …);
/// the scanner's caps (4 MiB per line, 16 MiB per session) keep it to a small fraction.
const PEAK_RSS_BOUND: u64 = 256 * 1024 * 1024;
/// Peers advertised by the amplification server.
const ADVERTISED_PEERS: usize = 100_000;
/// `--max-servers` for the run: the targets plus a handful of crawled peers.
const MAX_SERVERS: usize = 30;
/// Longest the child may run before the test kills it and fails.
const CHILD_LIMIT: Duration = Duration::from_secs(120);

/// One hostile case: a fake and what the scanner must conclude.
struct Case {
    name: &'static str,
    fake: Fake,
    tls: bool,
    want: Status,
    /// DER of the leaf the fake presents (TLS cases).
    leaf: Option<Vec<u8>>,
}

fn hundred_thousand_peers() -> Value {
    // Loopback names only (never a packet elsewhere, even if the policy were broken).
    let peers: Vec<Value> = (0..ADVERTISED_PEERS)
        .map(|i| {
            let ip = format!("127.{}.{}.{}", 1 + i / 65_536, (i / 256) % 256, i % 256);
            // Short entries (empty host: the IP is used; bare `t`: port 50001) keep the
            // answer (~2.5 MB) under the line cap, so the peer-list cap itself is exercised.
            json!([ip, "", ["t"]])
        })
        .collect();
    Value::Array(peers)
}

async fn start_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    let mut n = 0u8;
    let mut add = |name, behavior: Behavior, tls: Option<TlsSetup>, want| {
        n += 1;
        let ip = format!("127.0.1.{n}");
        let is_tls = tls.is_some();
        (name, ip, behavior, tls, is_tls, want)
    };
    let specs = vec![
        add("control", Behavior::good(), None, Status::Success),
        add(
            "control-tls",
            Behavior::good(),
            Some(certs::valid()),
            Status::Success,
        ),
        add("silent", Behavior::Silent, None, Status::IoTimeout),
        add("slowloris", Behavior::Slowloris, None, Status::IoTimeout),
        add(
            "endless-line",
            Behavior::EndlessLine,
            None,
            Status::LimitExceeded,
        ),
        add(
            "100MB-json",
            Behavior::HugeJson,
            None,
            Status::LimitExceeded,
        ),
        add(
            "deep-nesting",
            Behavior::DeepNesting,
            None,
            Status::ProtocolError,
        ),
        add(
            "invalid-utf8",
            Behavior::InvalidUtf8,
            None,
            Status::ProtocolError,
        ),
        add(
            "wrong-ids",
            Behavior::quirky(Quirk::WrongIds),
            None,
            Status::ProtocolError,
        ),
        add(
            "duplicate-ids",
            Behavior::quirky(Quirk::DuplicateIds),
            None,
            Status::Success,
        ),
        add(
            "string-ids",
            Behavior::quirky(Quirk::StringIds),
            None,
            Status::ProtocolError,
        ),
        add(
            "notification-flood",
            Behavior::quirky(Quirk::NotificationFlood),
            None,
            Status::LimitExceeded,
        ),
        add(
            "huge-histories",
            Behavior::quirky(Quirk::HugeHistories),
            None,
            Status::Success,
        ),
        add(
            "tls-close-mid-handshake",
            Behavior::good(),
            Some(TlsSetup::CloseMidHandshake),
            Status::TlsHandshakeError,
        ),
        add(
            "tls-expired",
            Behavior::good(),
            Some(certs::expired()),
            Status::Success,
        ),
        add(
            "tls-not-yet-valid",
            Behavior::good(),
            Some(certs::not_yet_valid()),
            Status::Success,
        ),
        add(
            "tls-malformed-der",
            Behavior::good(),
            Some(certs::malformed_der()),
            Status::TlsHandshakeError,
        ),
        add(
            "tls-16kb-san",
            Behavior::good(),
            Some(certs::huge_san()),
            Status::Success,
        ),
        add(
            "tls-huge-chain",
            Behavior::good(),
            Some(certs::huge_chain()),
            Status::Success,
        ),
        add(
            "100k-peers",
            Behavior::with_peers(hundred_thousand_peers(), json!({})),
            None,
            Status::Success,
        ),
        add(
            "tls-wrong-key",
            Behavior::good(),
            Some(certs::wrong_key()),
            Status::TlsHandshakeError,
        ),
    ];
    for (name, ip, behavior, tls, is_tls, want) in specs {
        let leaf = match &tls {
            Some(TlsSetup::Chain { chain, .. }) => chain.first().cloned(),
            _ => None,
        };
        let fake = spawn_fake(&ip, behavior, tls).await;
        cases.push(Case {
            name,
            fake,
            tls: is_tls,
            want,
            leaf,
        });
    }
    cases
}

/// Runs `observatory scan ARGS` writing into `out`, and waits for it (measured, bounded).
async fn scan(out: &std::path::Path, args: &[String]) -> support::Finished {
    let child = support::spawn_scan(out, args);
    let out = out.to_path_buf();
    tokio::task::spawn_blocking(move || support::wait_measured(child, &out, CHILD_LIMIT))
        .await
        .expect("wait")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_servers_end_with_meaningful_statuses_in_bounded_time_and_memory() {
    let cases = start_cases().await;
    let out = tempfile::tempdir().expect("tempdir");
    let mut args: Vec<String> = vec![
        "--out".into(),
        out.path().display().to_string(),
        "--endpoint-timeout".into(),
        format!("{}s", ENDPOINT_TIMEOUT.as_secs()),
        // Generous for a loaded 2-core CI machine: the 2.5 MB peer list is built, sent and
        // parsed by debug builds on both sides.
        "--request-timeout".into(),
        "5s".into(),
        "--connect-timeout".into(),
        "2s".into(),
        "--crawl".into(),
        "--max-servers".into(),
        MAX_SERVERS.to_string(),
    ];
    for c in &cases {
        args.extend([
            "--target".to_string(),
            c.fake.target(c.tls),
            "--allow-ip".to_string(),
            c.fake.addr.ip().to_string(),
        ]);
    }
    let finished = scan(out.path(), &args).await;
    let log = support::log(out.path());
    println!(
        "hostile suite: {:?} wall, peak RSS {} MiB",
        finished.elapsed,
        finished.peak_rss / (1024 * 1024)
    );
    assert_eq!(finished.code, Some(0), "scan failed:\n{log}");
    assert!(finished.peak_rss > 0, "no RSS measured:\n{log}");
    assert!(
        finished.peak_rss < PEAK_RSS_BOUND,
        "peak RSS {} bytes",
        finished.peak_rss
    );

    let run = support::run_dir(out.path());
    let manifest = support::manifest(&run);
    assert!(manifest.complete);
    let (records, _) = support::read_records(&run);
    let by_key: HashMap<String, &EndpointRecord> =
        records.iter().map(|r| (r.endpoint.key(), r)).collect();
    let mut failures = Vec::new();
    for c in &cases {
        let key = c.fake.target(c.tls);
        let Some(r) = by_key.get(&key) else {
            failures.push(format!("{}: not recorded", c.name));
            continue;
        };
        let took = Duration::from_millis(r.finished_ms.saturating_sub(r.started_ms));
        if r.status != c.want {
            failures.push(format!(
                "{}: {:?} (want {:?}): {:?}",
                c.name, r.status, c.want, r.error
            ));
        }
        if took > ENDPOINT_TIMEOUT + DEADLINE_SLACK {
            failures.push(format!("{}: took {took:?}", c.name));
        }
        if r.status != Status::Success && r.error.as_deref().is_none_or(str::is_empty) {
            failures.push(format!("{}: no error text", c.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    check_details(&cases, &by_key);

    // No amplification: 100,000 advertised peers yield at most MAX_SERVERS endpoints, and the
    // crawled ones (loopback, not allowed) are refused without a connection.
    assert_eq!(records.len(), MAX_SERVERS, "records: {}", records.len());
    let crawled: Vec<&EndpointRecord> = records
        .iter()
        .filter(|r| {
            !cases
                .iter()
                .any(|c| c.fake.target(c.tls) == r.endpoint.key())
        })
        .collect();
    assert_eq!(crawled.len(), MAX_SERVERS - cases.len());
    for r in crawled {
        assert_eq!(r.status, Status::RefusedByPolicy, "{}", r.endpoint.key());
        assert!(r
            .endpoint
            .host
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()));
    }
}

/// What the successful hostile endpoints must have recorded.
fn check_details(cases: &[Case], by_key: &HashMap<String, &EndpointRecord>) {
    let get = |name: &str| {
        let c = cases.iter().find(|c| c.name == name).expect("case");
        by_key[&c.fake.target(c.tls)]
    };
    let control = get("control");
    assert_eq!(
        control
            .metadata
            .banner
            .as_ref()
            .and_then(|a| a.result.as_deref()),
        Some("tiny banner")
    );
    assert!(!control.probes.is_empty(), "probes ran on the control");

    let leaf = |name: &str| {
        get(name)
            .tls
            .as_ref()
            .and_then(|t| t.chain.first())
            .cloned()
            .unwrap_or_else(|| panic!("{name}: no leaf"))
    };
    assert!(leaf("tls-expired").expired);
    assert!(leaf("tls-not-yet-valid").not_yet_valid);
    let san = leaf("tls-16kb-san");
    assert_eq!(san.san_count, support::fake_servers::SAN_NAMES as u64);
    assert_eq!(san.san.len(), observatory_scanner::limits::MAX_SAN_ENTRIES);
    let malformed = get("tls-malformed-der")
        .tls
        .as_ref()
        .expect("malformed-der: chain recorded");
    assert!(
        malformed
            .chain
            .first()
            .is_some_and(|c| c.parse_error.is_some()),
        "{malformed:?}"
    );

    let huge = get("tls-huge-chain")
        .tls
        .as_ref()
        .expect("huge chain: TLS recorded");
    assert_eq!(
        huge.chain.len(),
        observatory_scanner::limits::MAX_CHAIN_CERTS,
        "only the first certificates are parsed"
    );
    assert_eq!(
        huge.chain_presented,
        Some(support::fake_servers::HUGE_CHAIN_CERTS as u32),
        "but all are counted"
    );

    let answer = get("100k-peers").metadata.peers.as_ref();
    let peers = answer
        .and_then(|a| a.result.as_ref())
        .unwrap_or_else(|| panic!("no peers: {answer:?}"));
    assert_eq!(peers.len(), observatory_scanner::limits::MAX_PEERS_PARSED);

    // 2.8 MB histories (to the address-format and xpub probes): the batch answer breaks the
    // line cap, single answers eat the session byte cap and the reply deadline. How far each
    // probe gets depends on timing; what must hold is that the histories were really
    // received, nothing beyond the session cap was, and the metadata stands.
    let histories = get("huge-histories");
    let received = histories.wire.bytes_received;
    assert!(
        received > 2 * 1024 * 1024,
        "no gigantic history was received: {received} bytes"
    );
    // The session cap is checked per read chunk, so the count may pass it by less than one chunk.
    assert!(
        received <= observatory_protocol::frame::MAX_SESSION_BYTES + 64 * 1024,
        "{received} bytes"
    );
    assert!(histories.metadata.features.is_some());

    let dup = get("duplicate-ids");
    assert!(dup.wire.unmatched_replies > 0, "{:?}", dup.wire);

    // Every TLS endpoint that got as far as a certificate recorded the leaf it was shown, and
    // the handshake signature was recorded valid exactly where the server held the leaf's key.
    for c in cases.iter().filter(|c| c.leaf.is_some()) {
        let tls = get(c.name)
            .tls
            .as_ref()
            .unwrap_or_else(|| panic!("{}: no TLS recorded", c.name));
        let want = c
            .leaf
            .as_deref()
            .map(|der| observatory_scanner::tls::certificate::describe(der, 0, 0).sha256);
        assert_eq!(
            tls.chain.first().map(|l| l.sha256.clone()),
            want,
            "{}: recorded leaf",
            c.name
        );
        let holds_key = !matches!(c.name, "tls-wrong-key" | "tls-malformed-der");
        assert_eq!(
            tls.handshake_signature_valid, holds_key,
            "{}: {tls:?}",
            c.name
        );
    }
    // Certificate A signed with key B: refused at the handshake, the signature recorded as
    // checked and failed, A's chain kept.
    let wrong = get("tls-wrong-key");
    let tls = wrong.tls.as_ref().expect("chain recorded");
    assert_eq!(
        tls.handshake_signature_scheme.as_deref(),
        Some("ECDSA_NISTP256_SHA256"),
        "{tls:?}"
    );
    assert!(
        wrong
            .error
            .as_deref()
            .is_some_and(|e| e.contains("BadSignature")),
        "{:?}",
        wrong.error
    );
    assert!(
        wrong.requests.is_empty(),
        "nothing was sent to a server that failed the handshake"
    );
}

/// Private and reserved addresses a hostile peer list names, with the range the policy must
/// give as the reason. None of them is ever dialled (the policy decides before a route
/// exists), so naming them here sends no packet even if the policy were broken only partly.
const RESERVED_PEERS: &[(&str, &str)] = &[
    ("10.0.0.1", "Private"),
    ("192.168.1.1", "Private"),
    ("172.16.0.1", "Private"),
    ("169.254.169.254", "LinkLocal"),
    ("100.64.0.1", "SharedCgnat"),
    ("fd00::1", "UniqueLocal"),
    ("fe80::1", "LinkLocal"),
    ("2001:db8::1", "Documentation"),
    ("224.0.0.1", "Multicast"),
];

/// A server advertising peers (and `features.hosts`) at private and reserved addresses, next
/// to a well-behaved loopback neighbour, scanned with the tests' loopback allowance: loopback
/// is scanned, every other special range is still refused with a recorded status and no
/// connection attempt, and the neighbour is unaffected. (Host names resolving to loopback
/// without the allowance, DNS rebinding, are `scanner/tests/crawl_policy.rs`.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peers_at_private_and_reserved_addresses_are_refused_with_loopback_allowed() {
    let neighbour = spawn_fake("127.0.2.2", Behavior::good(), None).await;
    let neighbour_ip = neighbour.addr.ip().to_string();
    let mut peers: Vec<Value> = RESERVED_PEERS
        .iter()
        .map(|(ip, _)| json!([ip, ip, ["v1.4", "t50001", "s50002"]]))
        .collect();
    peers.push(json!([
        neighbour_ip,
        neighbour_ip,
        ["v1.4", format!("t{}", neighbour.addr.port())]
    ]));
    // The same addresses through features.hosts, on another port: a second lead each.
    let hosts: serde_json::Map<String, Value> = RESERVED_PEERS
        .iter()
        .map(|(ip, _)| (ip.to_string(), json!({"tcp_port": 50011, "ssl_port": null})))
        .collect();
    let hub = spawn_fake(
        "127.0.2.1",
        Behavior::with_peers(Value::Array(peers), Value::Object(hosts)),
        None,
    )
    .await;

    let out = tempfile::tempdir().expect("tempdir");
    let args: Vec<String> = [
        "--out",
        &out.path().display().to_string(),
        "--endpoint-timeout",
        &format!("{}s", ENDPOINT_TIMEOUT.as_secs()),
        "--connect-timeout",
        "2s",
        "--crawl",
        "--allow-loopback",
        "--target",
        &hub.target(false),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let finished = scan(out.path(), &args).await;
    let log = support::log(out.path());
    assert_eq!(finished.code, Some(0), "scan failed:\n{log}");
    let run = support::run_dir(out.path());
    let (records, _) = support::read_records(&run);
    let by_key: HashMap<String, &EndpointRecord> =
        records.iter().map(|r| (r.endpoint.key(), r)).collect();
    let status = |key: &str| by_key.get(key).map(|r| (r.status, r.error.clone()));

    // The hub and its loopback neighbour (a crawled peer) are scanned normally.
    assert_eq!(
        status(&hub.target(false)).map(|s| s.0),
        Some(Status::Success),
        "{:?}",
        status(&hub.target(false))
    );
    assert_eq!(
        status(&neighbour.target(false)).map(|s| s.0),
        Some(Status::Success),
        "{:?}",
        status(&neighbour.target(false))
    );
    assert!(neighbour.accepted() >= 1, "the neighbour was dialled");

    // Each reserved address: three leads (t and s from the peer list, t from features.hosts),
    // each refused by policy, naming its range, with nothing chosen to dial and nothing measured.
    let mut refused = 0;
    for (ip, range) in RESERVED_PEERS {
        let addr: IpAddr = ip.parse().unwrap();
        let mine: Vec<&EndpointRecord> = records
            .iter()
            .filter(|r| r.endpoint.host.parse::<IpAddr>().ok() == Some(addr))
            .collect();
        assert_eq!(
            mine.len(),
            3,
            "{ip}: {:?}",
            mine.iter().map(|r| r.endpoint.key()).collect::<Vec<_>>()
        );
        for r in mine {
            let key = r.endpoint.key();
            assert_eq!(r.status, Status::RefusedByPolicy, "{key}: {:?}", r.error);
            assert!(
                r.error
                    .as_deref()
                    .is_some_and(|e| e.contains(&format!("{addr} ({range})"))),
                "{key}: {:?}",
                r.error
            );
            assert_eq!(r.resolved_ips, vec![addr.to_string()], "{key}");
            assert_eq!(r.ip, None, "{key}: no address was chosen to dial");
            assert!(
                r.timing.connect_ms.is_none() && r.timing.tls_ms.is_none(),
                "{key}: {:?}",
                r.timing
            );
            assert!(
                r.tls.is_none() && r.requests.is_empty() && r.wire.bytes_received == 0,
                "{key}"
            );
            assert!(!r.provenance.is_empty(), "{key}: learned from the hub");
            refused += 1;
        }
    }
    assert_eq!(records.len(), 2 + refused, "{:?}", by_key.keys());
    let manifest = support::manifest(&run);
    assert!(manifest.complete);
    assert_eq!(
        manifest.counts_by_status.get("refused-by-policy").copied(),
        Some(refused as u64),
        "{:?}",
        manifest.counts_by_status
    );
}
