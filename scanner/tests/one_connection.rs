//! Politeness measured from the server's side: during a full visit with probes (metadata, every
//! probe, the malformed probe's side connections), a host never sees two connections from the
//! scanner at once, at the standard and at the full probe level, for its TCP and its TLS
//! endpoint together. And every byte the server sends, on the main session and on the side
//! connections, is counted in the record (`wire.bytes_received`, the figure the per-endpoint
//! byte cap applies to).

mod support;

use std::time::Duration;

use observatory_model::raw::{EndpointRecord, Status};
use observatory_scanner::probes::{ProbeLevel, REGISTRY};
use support::fake_servers::{certs, max_concurrent, spawn_fake, Behavior, Fake, Lifetime, Quirk};

/// Overlap tolerated between one connection's end and the next one's accept (the server task
/// may read a close a moment after the client's next connection was accepted; measured here in
/// microseconds).
const SLACK: Duration = Duration::from_millis(100);
/// Every reply is held this long, so that any connection kept open while another works (a
/// malformed case alone takes two replies) overlaps by far more than [`SLACK`].
const REPLY_DELAY: Duration = Duration::from_millis(40);

fn record<'a>(records: &'a [EndpointRecord], fake: &Fake, tls: bool) -> &'a EndpointRecord {
    let key = fake.target(tls);
    records
        .iter()
        .find(|r| r.endpoint.key() == key)
        .unwrap_or_else(|| panic!("no record for {key}"))
}

async fn visit(level: ProbeLevel, ip: &str) {
    // One host, two endpoints: the scheduler must serialize them, and each visit must close
    // its main session before the malformed probe opens side connections.
    let tcp = spawn_fake(ip, Behavior::quirky(Quirk::Slow(REPLY_DELAY)), None).await;
    let tls = spawn_fake(
        ip,
        Behavior::quirky(Quirk::Slow(REPLY_DELAY)),
        Some(certs::valid()),
    )
    .await;
    let mut config = support::loopback_config(
        &[tcp.target(false), tls.target(true)],
        Duration::from_secs(45),
    );
    config.probe_level = level;
    // A pipelined burst of 30 slow replies takes over a second: more than the loopback default.
    config.request_timeout = Duration::from_secs(10);
    let records = support::run(config).await;
    assert_eq!(records.len(), 2);

    // The server task sees the last close a moment after the scan returned.
    let settled = std::time::Instant::now() + Duration::from_secs(2);
    let mut lifetimes: Vec<Lifetime> = Vec::new();
    while lifetimes.is_empty()
        || (lifetimes.iter().any(|(_, end)| end.is_none()) && std::time::Instant::now() < settled)
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
        lifetimes = tcp.lifetimes();
        lifetimes.extend(tls.lifetimes());
    }
    assert!(
        lifetimes.iter().all(|(_, end)| end.is_some()),
        "{level:?}: a connection was left open: {lifetimes:?}"
    );
    assert_eq!(
        max_concurrent(&lifetimes, SLACK),
        1,
        "{level:?}: two connections to one host at once: {lifetimes:?}"
    );
    // Each endpoint: the main session plus the malformed probe's side connections.
    assert!(
        tcp.accepted() >= 3 && tls.accepted() >= 3,
        "{level:?}: {} / {} connections",
        tcp.accepted(),
        tls.accepted()
    );

    for (fake, is_tls) in [(&tcp, false), (&tls, true)] {
        let r = record(&records, fake, is_tls);
        assert_eq!(r.status, Status::Success, "{level:?}: {:?}", r.error);
        assert_eq!(r.probes.len(), REGISTRY.len());
        for p in &r.probes {
            assert_eq!(
                p.status,
                Status::Success,
                "{level:?} {}: {:?}",
                p.name,
                p.error
            );
            assert!(
                !p.cut_by_time_cap,
                "{level:?} {}: cut on a prompt server",
                p.name
            );
            assert_eq!(p.samples_taken, p.samples_planned, "{level:?} {}", p.name);
        }
        // Every byte the server wrote, on every connection, is in the record's count.
        assert_eq!(
            r.wire.bytes_received,
            fake.written() as u64,
            "{level:?}: {:?}",
            r.wire
        );
        assert!(
            r.wire.side_bytes_received > 0,
            "{level:?}: side connections' bytes missing: {:?}",
            r.wire
        );
        assert!(r.wire.side_bytes_received < r.wire.bytes_received);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_connection_per_host_at_a_time_during_a_standard_probed_visit() {
    visit(ProbeLevel::Standard, "127.0.9.1").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_connection_per_host_at_a_time_during_a_full_probed_visit() {
    visit(ProbeLevel::Full, "127.0.9.2").await;
}

#[test]
fn overlaps_are_counted() {
    let t0 = std::time::Instant::now();
    let at = |ms: u64| t0 + Duration::from_millis(ms);
    // Back to back (the next accepted 1 ms before the first's close was seen): one at a time.
    assert_eq!(
        max_concurrent(&[(at(0), Some(at(101))), (at(100), Some(at(200)))], SLACK),
        1
    );
    // The first held open for a second while the second ran: two.
    assert_eq!(
        max_concurrent(&[(at(0), Some(at(1_500))), (at(100), Some(at(200)))], SLACK),
        2
    );
    // Still open at the end: counts as open.
    assert_eq!(
        max_concurrent(&[(at(0), None), (at(100), Some(at(200)))], SLACK),
        2
    );
}
