//! Fifty endpoints that refuse, stay silent, close mid-line or answer: the scan ends within
//! the per-endpoint deadline plus a little, and every endpoint is recorded with the right status.

mod support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use observatory_model::raw::Status;
use support::fake_servers::{spawn, Behavior};

/// Slack allowed beyond one endpoint deadline for the whole mix (scheduling, TLS-free loopback).
const SLACK: Duration = Duration::from_secs(4);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_endpoint_mix_finishes_within_the_deadline() {
    let deadline = Duration::from_secs(3);
    let mut expected = HashMap::new();
    for i in 0..50u8 {
        let ip = format!("127.0.0.{}", 10 + i);
        let (behavior, status) = match i % 4 {
            0 => (Behavior::Refuse, Status::ConnectionRefused),
            1 => (Behavior::Silent, Status::IoTimeout),
            2 => (Behavior::CloseMidLine, Status::ClosedByPeer),
            _ => (Behavior::good(), Status::Success),
        };
        let addr = spawn(&ip, behavior).await;
        expected.insert(format!("{ip}:{}:t", addr.port()), status);
    }
    let targets: Vec<String> = expected.keys().cloned().collect();
    let config = support::loopback_config(&targets, deadline);
    let started = Instant::now();
    let records = support::run(config).await;
    let elapsed = started.elapsed();
    println!("50-endpoint mix: {elapsed:?}");
    assert!(elapsed < deadline + SLACK, "took {elapsed:?}");
    assert_eq!(records.len(), 50);
    for r in &records {
        let want = expected[&r.endpoint.key()];
        assert_eq!(r.status, want, "{} {:?}", r.endpoint.key(), r.error);
        assert!(r.finished_ms >= r.started_ms);
        if want == Status::Success {
            assert_eq!(
                r.metadata
                    .version
                    .as_ref()
                    .unwrap()
                    .result
                    .as_ref()
                    .unwrap()
                    .software,
                "TinyFake 0.1"
            );
            // Protocol 1.4 still has blockchain.relayfee.
            assert_eq!(r.metadata.relay_fee.as_ref().unwrap().result, Some(0.00001));
        } else {
            assert!(r.error.is_some());
        }
    }
}
