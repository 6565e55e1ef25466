//! Test support shared by the scanner's integration tests (`mod support;`).
//!
//! * [`electrumx`]: a real ElectrumX (2.0.0 or 1.16.0) with a fake regtest bitcoind on loopback.
//! * [`fake_servers`]: tiny hostile and well-behaved servers on 127.0.0.N.
//! * [`tools`]: whether a missing tool fails or skips a test (fails unless
//!   `OBSERVATORY_REQUIRE_TOOLS=0`).

#![allow(dead_code)]

pub mod electrumx;
pub mod fake_servers;
pub mod tools;

use std::time::Duration;

use observatory_model::raw::EndpointRecord;
use observatory_scanner::{scan, MemorySink, ScanConfig};

/// A scan configuration for loopback tests: loopback (only) allowed, short deadlines.
pub fn loopback_config(targets: &[String], endpoint_timeout: Duration) -> ScanConfig {
    let mut set = observatory_scanner::targets::TargetSet::default();
    for t in targets {
        set.add_target(t).expect("target");
    }
    let mut config = ScanConfig::new(set.into_vec(), "test-run".into());
    config.allow_loopback = true;
    config.endpoint_timeout = endpoint_timeout;
    config.request_timeout = endpoint_timeout.min(Duration::from_secs(2));
    config.connect_timeout = Duration::from_secs(2);
    config
}

/// Runs a scan into memory.
pub async fn run(config: ScanConfig) -> Vec<EndpointRecord> {
    let mut sink = MemorySink::default();
    let manifest = scan(config, &mut sink).await.expect("scan");
    assert!(manifest.complete);
    sink.records
}
