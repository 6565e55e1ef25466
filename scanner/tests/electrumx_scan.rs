//! The scanner against a real ElectrumX 2.0.0 on loopback (TCP and TLS): every metadata
//! field, and the full description of the X.509 v1 certificate ElectrumX's HOWTO makes.

mod support;

use std::path::Path;
use std::time::Duration;

use observatory_model::raw::{Certificate, EndpointRecord, Status, Transport};
use observatory_scanner::targets::TargetSet;
use observatory_scanner::{scan, MemorySink, ScanConfig};
use support::electrumx::{
    openssl_fingerprint, openssl_spki_sha256, openssl_x509, Config, ElectrumX, ExVersion,
};

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
    let v = r
        .metadata
        .version
        .as_ref()
        .unwrap()
        .result
        .as_ref()
        .unwrap();
    assert_eq!(v.software, "ElectrumX 2.0.0");
    assert_eq!(v.protocol, "1.6");
    let banner = r
        .metadata
        .banner
        .as_ref()
        .unwrap()
        .result
        .as_deref()
        .unwrap();
    assert_eq!(banner.trim_end(), ex.config.banner.as_deref().unwrap());
    assert_eq!(
        r.metadata
            .donation_address
            .as_ref()
            .unwrap()
            .result
            .as_deref(),
        ex.config.donation_address.as_deref()
    );
    let f = r
        .metadata
        .features
        .as_ref()
        .unwrap()
        .result
        .as_ref()
        .unwrap();
    assert_eq!(
        f.genesis_hash.as_deref(),
        Some(ex.chain.genesis_hash.as_str())
    );
    assert_eq!(f.server_version.as_deref(), Some("ElectrumX 2.0.0"));
    assert_eq!(f.protocol_min.as_deref(), Some("1.4"));
    // ElectrumX 2.0.0's `PROTOCOL_MAX = (1, 7, 0)` (electrumx/server/session.py), printed with
    // all three parts; the session itself negotiated 1.6, the top of what the scanner asks for.
    assert_eq!(f.protocol_max.as_deref(), Some("1.7.0"));
    assert!(f.keys.contains(&"hosts".to_string()));
    assert!(r
        .metadata
        .features_raw
        .as_ref()
        .unwrap()
        .get("genesis_hash")
        .is_some());
    let tip = r
        .metadata
        .headers
        .as_ref()
        .unwrap()
        .result
        .as_ref()
        .unwrap();
    assert_eq!(tip.height, ex.chain.height);
    assert_eq!(tip.hash.as_deref(), Some(ex.chain.tip_hash.as_str()));
    assert_eq!(tip.hex, ex.chain.tip_header);
    assert!(r
        .metadata
        .peers
        .as_ref()
        .unwrap()
        .result
        .as_ref()
        .unwrap()
        .is_empty());
    assert!(r.metadata.fee_histogram.as_ref().unwrap().result.is_some());
    // Protocol 1.6 removed blockchain.relayfee: not asked.
    assert!(r.metadata.relay_fee.is_none());
    assert!(!r.requests.iter().any(|q| q.method == "blockchain.relayfee"));
    assert_eq!(r.metadata.estimate_fee.len(), 3);
    assert_eq!(
        r.requests.first().map(|q| q.method.as_str()),
        Some("server.version")
    );
    assert!(
        r.requests.iter().all(|q| q.rtt_ms.is_some()),
        "{:?}",
        r.requests
    );
    assert!(r.timing.connect_ms.is_some() && r.timing.session_ms.is_some());
    // ElectrumX 2.x pads its replies.
    assert!(r.wire.padded_lines > 0);
    assert_eq!(r.wire.jsonrpc_2, Some(true));
    assert_eq!(r.wire.unmatched_replies, 0);
}

#[test]
fn metadata_and_v1_certificate_from_real_electrumx_2_0_0() {
    let Some(ex) = ElectrumX::start(Config {
        version: ExVersion::V2_0_0,
        ..Config::default()
    }) else {
        return;
    };
    let records = scan_targets(&[ex.tcp_target(), ex.ssl_target()]);
    assert_eq!(records.len(), 2);
    for r in &records {
        check_metadata(r, &ex);
    }
    let tcp = records
        .iter()
        .find(|r| r.endpoint.transport == Transport::Tcp)
        .unwrap();
    assert!(tcp.tls.is_none());
    let tls_rec = records
        .iter()
        .find(|r| r.endpoint.transport == Transport::Tls)
        .unwrap();
    assert!(tls_rec.timing.tls_ms.is_some());
    let tls = tls_rec.tls.as_ref().unwrap();
    assert!(
        tls.protocol_version
            .as_deref()
            .is_some_and(|v| v.starts_with("TLSv1_")),
        "{tls:?}"
    );
    assert!(tls.cipher_suite.is_some());
    assert_eq!(tls.sni, None, "no SNI for an IP literal");
    // The verifier checked ElectrumX's handshake signature against the v1 certificate's RSA key.
    assert!(tls.handshake_signature_valid);
    assert!(
        tls.handshake_signature_scheme
            .as_deref()
            .is_some_and(|s| s.starts_with("RSA_")),
        "{tls:?}"
    );
    assert!(!tls.webpki_valid);
    assert!(tls.webpki_error.is_some());
    assert!(
        !tls.name_matches,
        "CN electrumx.test does not cover 127.0.0.1"
    );
    assert_eq!(tls.chain.len(), 1);
    check_certificate_against_openssl(&tls.chain[0], &ex.cert_path);
}

/// Every field of the recorded certificate that openssl can print, compared with openssl's
/// reading of the PEM file ElectrumX serves.
fn check_certificate_against_openssl(c: &Certificate, pem: &Path) {
    let x509 = |args: &[&str]| openssl_x509(pem, args);
    let after = |text: String, prefix: &str| {
        text.strip_prefix(prefix)
            .unwrap_or_else(|| panic!("{text:?} lacks {prefix:?}"))
            .to_string()
    };
    assert_eq!(c.parse_error, None);
    assert_eq!(c.sha256, openssl_fingerprint(pem, "-sha256"));
    assert_eq!(c.sha1, openssl_fingerprint(pem, "-sha1"));
    assert_eq!(
        c.spki_sha256.as_deref(),
        Some(openssl_spki_sha256(pem).as_str())
    );
    // `serial=44AE9E…`: the integer in hex (openssl upper-case, without the DER sign byte).
    let digits = |s: &str| s.trim_start_matches('0').to_ascii_lowercase();
    assert_eq!(
        digits(&after(x509(&["-serial"]), "serial=")),
        digits(c.serial.as_deref().unwrap())
    );
    // `-nameopt sep_comma_plus_space` prints RDNs in certificate order as `CN=…, O=…`.
    let dn = |which: &str| {
        after(
            x509(&[&format!("-{which}"), "-nameopt", "sep_comma_plus_space"]),
            &format!("{which}="),
        )
    };
    assert_eq!(c.subject.as_deref(), Some(dn("subject").as_str()));
    assert_eq!(c.issuer.as_deref(), Some(dn("issuer").as_str()));
    assert_eq!(
        c.subject.as_deref(),
        Some("CN=electrumx.test, O=Observatory Test")
    );
    assert_eq!(c.subject_cn.as_deref(), Some("electrumx.test"));
    assert_eq!(c.issuer_cn.as_deref(), Some("electrumx.test"));
    assert_eq!(c.issuer_org.as_deref(), Some("Observatory Test"));
    // `notBefore=2026-07-01 12:00:00Z` with `-dateopt iso_8601`; the record holds RFC 3339.
    for (flag, prefix, text, unix) in [
        ("-startdate", "notBefore=", &c.not_before, c.not_before_unix),
        ("-enddate", "notAfter=", &c.not_after, c.not_after_unix),
    ] {
        let iso = after(x509(&[flag, "-dateopt", "iso_8601"]), prefix).replacen(' ', "T", 1);
        assert_eq!(text.as_deref(), Some(iso.as_str()), "{flag}");
        let parsed =
            time::OffsetDateTime::parse(&iso, &time::format_description::well_known::Rfc3339)
                .expect("openssl date");
        assert_eq!(unix, Some(parsed.unix_timestamp()), "{flag}");
    }
    assert_eq!(c.validity_days, Some(1825));
    assert!(!c.expired && !c.not_yet_valid);
    // Version, key and signature algorithm as `openssl x509 -text` states them.
    let text = x509(&["-text"]);
    let line = |label: &str| {
        let l = text
            .lines()
            .map(str::trim)
            .find(|l| l.starts_with(label))
            .unwrap_or_else(|| panic!("no {label:?} in -text"));
        l[label.len()..].trim().to_string()
    };
    assert_eq!(
        line("Version:"),
        format!("{} (0x{:x})", c.version.unwrap(), c.version.unwrap() - 1)
    );
    assert_eq!(
        c.version,
        Some(1),
        "ElectrumX's HOWTO recipe makes X.509 v1"
    );
    assert_eq!(line("Public Key Algorithm:"), "rsaEncryption");
    assert_eq!(c.key_type.as_deref(), Some("RSA"));
    assert_eq!(
        line("Public-Key:"),
        format!("({} bit)", c.key_bits.unwrap())
    );
    assert_eq!(c.key_bits, Some(2048));
    assert_eq!(
        c.signature_algorithm.as_deref(),
        Some(line("Signature Algorithm:").as_str())
    );
    assert_eq!(
        c.signature_algorithm.as_deref(),
        Some("sha256WithRSAEncryption")
    );
    assert!(
        c.san.is_empty() && c.san_count == 0,
        "a v1 certificate has no extensions"
    );
    assert!(c.self_signed);
    assert!(!c.is_ca);
}
