//! The scanner against a real ElectrumX 2.0.0 on loopback (TCP and TLS): every metadata
//! field, and the full description of the X.509 v1 certificate ElectrumX's HOWTO makes.

mod support;

use std::time::Duration;

use observatory_model::raw::{EndpointRecord, Status, Transport};
use observatory_scanner::targets::TargetSet;
use observatory_scanner::{scan, MemorySink, ScanConfig};
use support::electrumx::{openssl_field, openssl_sha256_fingerprint, Config, ElectrumX, ExVersion};

fn scan_targets(targets: &[String]) -> Vec<EndpointRecord> {
    let mut set = TargetSet::default();
    for t in targets {
        set.add_target(t).unwrap();
    }
    let mut config = ScanConfig::new(set.into_vec(), "test-run".into());
    config.allow_loopback = true;
    config.endpoint_timeout = Duration::from_secs(30);
    let mut sink = MemorySink::default();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let manifest = rt.block_on(scan(config, &mut sink)).unwrap();
    assert!(manifest.complete);
    sink.records
}

fn check_metadata(r: &EndpointRecord, ex: &ElectrumX) {
    assert_eq!(r.status, Status::Success, "{:?}", r.error);
    let v = r.metadata.version.as_ref().unwrap().result.as_ref().unwrap();
    assert_eq!(v.software, "ElectrumX 2.0.0");
    assert_eq!(v.protocol, "1.6");
    let banner = r.metadata.banner.as_ref().unwrap().result.as_deref().unwrap();
    assert_eq!(banner.trim_end(), ex.config.banner.as_deref().unwrap());
    assert_eq!(r.metadata.donation_address.as_ref().unwrap().result.as_deref(), ex.config.donation_address.as_deref());
    let f = r.metadata.features.as_ref().unwrap().result.as_ref().unwrap();
    assert_eq!(f.genesis_hash.as_deref(), Some(ex.chain.genesis_hash.as_str()));
    assert_eq!(f.server_version.as_deref(), Some("ElectrumX 2.0.0"));
    assert_eq!(f.protocol_min.as_deref(), Some("1.4"));
    assert!(f.keys.contains(&"hosts".to_string()));
    assert!(r.metadata.features_raw.as_ref().unwrap().get("genesis_hash").is_some());
    let tip = r.metadata.headers.as_ref().unwrap().result.as_ref().unwrap();
    assert_eq!(tip.height, ex.chain.height);
    assert_eq!(tip.hash.as_deref(), Some(ex.chain.tip_hash.as_str()));
    assert_eq!(tip.hex, ex.chain.tip_header);
    assert!(r.metadata.peers.as_ref().unwrap().result.as_ref().unwrap().is_empty());
    assert!(r.metadata.fee_histogram.as_ref().unwrap().result.is_some());
    // Protocol 1.6 removed blockchain.relayfee: not asked.
    assert!(r.metadata.relay_fee.is_none());
    assert!(!r.requests.iter().any(|q| q.method == "blockchain.relayfee"));
    assert_eq!(r.metadata.estimate_fee.len(), 3);
    assert_eq!(r.requests.first().map(|q| q.method.as_str()), Some("server.version"));
    assert!(r.requests.iter().all(|q| q.rtt_ms.is_some()), "{:?}", r.requests);
    assert!(r.timing.connect_ms.is_some() && r.timing.session_ms.is_some());
    // ElectrumX 2.x pads its replies.
    assert!(r.wire.padded_lines > 0);
    assert_eq!(r.wire.jsonrpc_2, Some(true));
    assert_eq!(r.wire.unmatched_replies, 0);
}

#[test]
fn metadata_and_v1_certificate_from_real_electrumx_2_0_0() {
    let Some(ex) = ElectrumX::start(Config { version: ExVersion::V2_0_0, ..Config::default() }) else { return };
    let records = scan_targets(&[ex.tcp_target(), ex.ssl_target()]);
    assert_eq!(records.len(), 2);
    for r in &records {
        check_metadata(r, &ex);
    }
    let tcp = records.iter().find(|r| r.endpoint.transport == Transport::Tcp).unwrap();
    assert!(tcp.tls.is_none());
    let tls_rec = records.iter().find(|r| r.endpoint.transport == Transport::Tls).unwrap();
    assert!(tls_rec.timing.tls_ms.is_some());
    let tls = tls_rec.tls.as_ref().unwrap();
    assert!(tls.protocol_version.as_deref().is_some_and(|v| v.starts_with("TLSv1_")), "{tls:?}");
    assert!(tls.cipher_suite.is_some());
    assert_eq!(tls.sni, None, "no SNI for an IP literal");
    assert!(tls.handshake_signature_valid);
    assert!(!tls.webpki_valid);
    assert!(tls.webpki_error.is_some());
    assert!(!tls.name_matches, "CN electrumx.test does not cover 127.0.0.1");
    assert_eq!(tls.chain.len(), 1);
    let c = &tls.chain[0];
    assert_eq!(c.parse_error, None);
    assert_eq!(c.sha256, openssl_sha256_fingerprint(&ex.cert_path));
    assert_eq!(c.version, Some(1));
    assert_eq!(c.subject_cn.as_deref(), Some("electrumx.test"));
    assert_eq!(c.issuer_cn.as_deref(), Some("electrumx.test"));
    assert_eq!(c.issuer_org.as_deref(), Some("Observatory Test"));
    assert_eq!(c.subject, c.issuer);
    assert!(c.subject.as_deref().unwrap().contains("CN=electrumx.test"));
    // `serial=44AE9E…` from openssl.
    let serial = openssl_field(&ex.cert_path, "-serial");
    let digits = |s: &str| s.trim_start_matches('0').to_ascii_lowercase();
    assert_eq!(digits(serial.trim_start_matches("serial=")), digits(c.serial.as_deref().unwrap()));
    assert!(c.san.is_empty() && c.san_count == 0);
    assert_eq!(c.key_type.as_deref(), Some("RSA"));
    assert_eq!(c.key_bits, Some(2048));
    assert_eq!(c.signature_algorithm.as_deref(), Some("sha256WithRSAEncryption"));
    assert!(c.self_signed);
    assert!(!c.is_ca);
    assert!(!c.expired && !c.not_yet_valid);
    assert_eq!(c.validity_days, Some(1825));
    assert_eq!(c.sha1.len(), 40);
    assert!(c.spki_sha256.is_some());
    assert!(c.not_before.is_some() && c.not_after_unix.is_some());
}
