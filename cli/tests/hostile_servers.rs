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
        add("control-tls", Behavior::good(), Some(certs::valid()), Status::Success),
        add("silent", Behavior::Silent, None, Status::IoTimeout),
        add("slowloris", Behavior::Slowloris, None, Status::IoTimeout),
        add("endless-line", Behavior::EndlessLine, None, Status::LimitExceeded),
        add("100MB-json", Behavior::HugeJson, None, Status::LimitExceeded),
        add("deep-nesting", Behavior::DeepNesting, None, Status::ProtocolError),
        add("invalid-utf8", Behavior::InvalidUtf8, None, Status::ProtocolError),
        add("wrong-ids", Behavior::quirky(Quirk::WrongIds), None, Status::ProtocolError),
        add("duplicate-ids", Behavior::quirky(Quirk::DuplicateIds), None, Status::Success),
        add("string-ids", Behavior::quirky(Quirk::StringIds), None, Status::ProtocolError),
        add("notification-flood", Behavior::quirky(Quirk::NotificationFlood), None, Status::LimitExceeded),
        add("huge-histories", Behavior::quirky(Quirk::HugeHistories), None, Status::Success),
        add("tls-close-mid-handshake", Behavior::good(), Some(TlsSetup::CloseMidHandshake), Status::TlsHandshakeError),
        add("tls-expired", Behavior::good(), Some(certs::expired()), Status::Success),
        add("tls-not-yet-valid", Behavior::good(), Some(certs::not_yet_valid()), Status::Success),
        add("tls-malformed-der", Behavior::good(), Some(certs::malformed_der()), Status::TlsHandshakeError),
        add("tls-16kb-san", Behavior::good(), Some(certs::huge_san()), Status::Success),
        add("tls-huge-chain", Behavior::good(), Some(certs::huge_chain()), Status::Success),
        add("100k-peers", Behavior::with_peers(hundred_thousand_peers(), json!({})), None, Status::Success),
    ];
    for (name, ip, behavior, tls, is_tls, want) in specs {
        let fake = spawn_fake(&ip, behavior, tls).await;
        cases.push(Case { name, fake, tls: is_tls, want });
    }
    cases
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
        args.extend(["--target".to_string(), c.fake.target(c.tls), "--allow-ip".to_string(), c.fake.addr.ip().to_string()]);
    }
    let child = support::spawn_scan(out.path(), &args);
    let finished = tokio::task::spawn_blocking({
        let out = out.path().to_path_buf();
        move || support::wait_measured(child, &out, CHILD_LIMIT)
    })
    .await
    .expect("wait");
    let log = support::log(out.path());
    println!("hostile suite: {:?} wall, peak RSS {} MiB", finished.elapsed, finished.peak_rss / (1024 * 1024));
    assert_eq!(finished.code, Some(0), "scan failed:\n{log}");
    assert!(finished.peak_rss > 0, "no RSS measured:\n{log}");
    assert!(finished.peak_rss < PEAK_RSS_BOUND, "peak RSS {} bytes", finished.peak_rss);

    let run = support::run_dir(out.path());
    let manifest = support::manifest(&run);
    assert!(manifest.complete);
    let (records, _) = support::read_records(&run);
    let by_key: HashMap<String, &EndpointRecord> = records.iter().map(|r| (r.endpoint.key(), r)).collect();
    let mut failures = Vec::new();
    for c in &cases {
        let key = c.fake.target(c.tls);
        let Some(r) = by_key.get(&key) else {
            failures.push(format!("{}: not recorded", c.name));
            continue;
        };
        let took = Duration::from_millis(r.finished_ms.saturating_sub(r.started_ms));
        if r.status != c.want {
            failures.push(format!("{}: {:?} (want {:?}): {:?}", c.name, r.status, c.want, r.error));
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
    let crawled: Vec<&EndpointRecord> = records.iter().filter(|r| !cases.iter().any(|c| c.fake.target(c.tls) == r.endpoint.key())).collect();
    assert_eq!(crawled.len(), MAX_SERVERS - cases.len());
    for r in crawled {
        assert_eq!(r.status, Status::RefusedByPolicy, "{}", r.endpoint.key());
        assert!(r.endpoint.host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback()));
    }
}

/// What the successful hostile endpoints must have recorded.
fn check_details(cases: &[Case], by_key: &HashMap<String, &EndpointRecord>) {
    let get = |name: &str| {
        let c = cases.iter().find(|c| c.name == name).expect("case");
        by_key[&c.fake.target(c.tls)]
    };
    let control = get("control");
    assert_eq!(control.metadata.banner.as_ref().and_then(|a| a.result.as_deref()), Some("tiny banner"));
    assert!(!control.probes.is_empty(), "probes ran on the control");

    let leaf = |name: &str| get(name).tls.as_ref().and_then(|t| t.chain.first()).cloned().unwrap_or_else(|| panic!("{name}: no leaf"));
    assert!(leaf("tls-expired").expired);
    assert!(leaf("tls-not-yet-valid").not_yet_valid);
    let san = leaf("tls-16kb-san");
    assert_eq!(san.san_count, support::fake_servers::SAN_NAMES as u64);
    assert_eq!(san.san.len(), observatory_scanner::limits::MAX_SAN_ENTRIES);
    let malformed = get("tls-malformed-der").tls.as_ref().expect("malformed-der: chain recorded");
    assert!(malformed.chain.first().is_some_and(|c| c.parse_error.is_some()), "{malformed:?}");

    let huge = get("tls-huge-chain").tls.as_ref().expect("huge chain: TLS recorded");
    assert_eq!(huge.chain.len(), observatory_scanner::limits::MAX_CHAIN_CERTS, "only the first certificates are parsed");
    assert_eq!(huge.chain_presented, Some(support::fake_servers::HUGE_CHAIN_CERTS as u32), "but all are counted");

    let answer = get("100k-peers").metadata.peers.as_ref();
    let peers = answer.and_then(|a| a.result.as_ref()).unwrap_or_else(|| panic!("no peers: {answer:?}"));
    assert_eq!(peers.len(), observatory_scanner::limits::MAX_PEERS_PARSED);

    // 2.8 MB histories (to the address-format and xpub probes): the batch answer breaks the
    // line cap, single answers eat the session byte cap and the reply deadline. How far each
    // probe gets depends on timing; what must hold is that the histories were really
    // received, nothing beyond the session cap was, and the metadata stands.
    let histories = get("huge-histories");
    let received = histories.wire.bytes_received;
    assert!(received > 2 * 1024 * 1024, "no gigantic history was received: {received} bytes");
    // The session cap is checked per read chunk, so the count may pass it by less than one chunk.
    assert!(received <= observatory_protocol::frame::MAX_SESSION_BYTES + 64 * 1024, "{received} bytes");
    assert!(histories.metadata.features.is_some());

    let dup = get("duplicate-ids");
    assert!(dup.wire.unmatched_replies > 0, "{:?}", dup.wire);
}
