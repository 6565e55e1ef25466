//! The scanner foundation's "done means", literally: `observatory scan --target
//! 127.0.0.1:<tcp>:t --target 127.0.0.1:<ssl>:s --allow-loopback --out DIR` against a real
//! ElectrumX 2.0.0 writes success records whose certificate SHA-256 equals openssl's; and the
//! behavioral issue's: with the probes on, the written record names ElectrumX 2.0.0 and carries
//! a behavior hash, every probe's result and the timing statistics.

mod support;

use std::time::Duration;

use observatory_model::probes::{Implementation, ProbeDetail};
use observatory_model::raw::{Status, Transport};
use observatory_scanner::probes::REGISTRY;
use support::electrumx::{openssl_sha256_fingerprint, Config, ElectrumX, ExVersion};

#[test]
fn observatory_scan_against_real_electrumx() {
    let Some(ex) = ElectrumX::start(Config {
        version: ExVersion::V2_0_0,
        ..Config::default()
    }) else {
        return;
    };
    let out = tempfile::tempdir().expect("tempdir");
    let args: Vec<String> = vec![
        "--target".into(),
        ex.tcp_target(),
        "--target".into(),
        ex.ssl_target(),
        "--allow-loopback".into(),
        "--no-probes".into(),
        "--out".into(),
        out.path().display().to_string(),
    ];
    let done = support::wait_measured(
        support::spawn_scan(out.path(), &args),
        out.path(),
        Duration::from_secs(120),
    );
    assert_eq!(done.code, Some(0), "{}", support::log(out.path()));
    let run = support::run_dir(out.path());
    let manifest = support::manifest(&run);
    assert!(manifest.complete);
    assert_eq!(
        manifest.counts_by_status.get("success"),
        Some(&2),
        "{:?}",
        manifest.counts_by_status
    );
    let (records, _) = support::read_records(&run);
    assert_eq!(records.len(), 2);
    for r in &records {
        assert_eq!(r.status, Status::Success, "{:?}", r.error);
        let v = r
            .metadata
            .version
            .as_ref()
            .and_then(|a| a.result.as_ref())
            .expect("version");
        assert_eq!(
            (v.software.as_str(), v.protocol.as_str()),
            ("ElectrumX 2.0.0", "1.6")
        );
        assert_eq!(
            r.metadata
                .headers
                .as_ref()
                .and_then(|a| a.result.as_ref())
                .map(|t| t.height),
            Some(ex.chain.height)
        );
    }
    let tls = records
        .iter()
        .find(|r| r.endpoint.transport == Transport::Tls)
        .and_then(|r| r.tls.as_ref())
        .expect("tls");
    assert_eq!(
        tls.chain[0].sha256,
        openssl_sha256_fingerprint(&ex.cert_path)
    );
    assert_eq!(tls.chain[0].version, Some(1));
}

/// `observatory scan` with the probes on (the default) against a real ElectrumX 2.0.0, the way
/// an operator would run it on their own server: the written record carries the inferred
/// implementation and version, a behavior hash, every probe's result and the timing statistics.
#[test]
fn observatory_scan_with_probes_against_real_electrumx() {
    let Some(ex) = ElectrumX::start(Config {
        version: ExVersion::V2_0_0,
        ..Config::default()
    }) else {
        return;
    };
    let out = tempfile::tempdir().expect("tempdir");
    let args: Vec<String> = vec![
        "--target".into(),
        ex.tcp_target(),
        "--allow-loopback".into(),
        "--out".into(),
        out.path().display().to_string(),
    ];
    let done = support::wait_measured(
        support::spawn_scan(out.path(), &args),
        out.path(),
        Duration::from_secs(120),
    );
    assert_eq!(done.code, Some(0), "{}", support::log(out.path()));
    let (records, _) = support::read_records(&support::run_dir(out.path()));
    assert_eq!(records.len(), 1);
    let r = &records[0];
    assert_eq!(r.status, Status::Success, "{:?}", r.error);
    let inf = r.inference.as_ref().expect("inference");
    assert_eq!(
        inf.implementation,
        Implementation::Electrumx,
        "{:#?}",
        inf.evidence
    );
    assert_eq!(inf.version.as_deref(), Some("2.0.0"));
    assert!(
        r.behavior_hash.as_deref().is_some_and(|h| h.len() == 64),
        "{:?}",
        r.behavior_hash
    );
    let names: Vec<&str> = r.probes.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, REGISTRY.map(|k| k.name()));
    for p in &r.probes {
        assert_eq!(p.status, Status::Success, "{}: {:?}", p.name, p.error);
        assert!(
            p.samples_taken > 0 && p.samples_planned > 0,
            "{}: {} of {}",
            p.name,
            p.samples_taken,
            p.samples_planned
        );
    }
    let timing = r.probes.iter().find_map(|p| match &p.detail {
        ProbeDetail::Timing(t) => Some(t),
        _ => None,
    });
    let timing = timing.expect("timing detail");
    assert!(timing.ping.n > 0 && timing.headers.n > 0, "{timing:?}");
    assert!(
        timing.ping.median_ms > 0.0 && timing.ping.p95_ms >= timing.ping.median_ms,
        "{timing:?}"
    );
    assert_eq!(timing.ping_samples.len(), timing.ping.n as usize);
}
