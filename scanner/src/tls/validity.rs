//! Validity of a captured chain, measured after the handshake (never enforced).
//!
//! * [`webpki_check`]: does the chain validate for the host against the Mozilla root store
//!   (webpki-roots), as a browser-grade client would decide? v1 and self-signed certificates
//!   fail here, and the reason is recorded.
//! * [`name_matches`]: does the leaf's SAN (or, without SAN, its CN) cover the host, with
//!   RFC 6125 single-label wildcards? Computed separately because webpki stops at the first
//!   problem (a v1 certificate never reaches its name check).

use std::net::IpAddr;
use std::sync::{Arc, OnceLock};

use rustls::client::danger::ServerCertVerifier;
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::RootCertStore;

fn webpki_verifier() -> Option<&'static Arc<WebPkiServerVerifier>> {
    static VERIFIER: OnceLock<Option<Arc<WebPkiServerVerifier>>> = OnceLock::new();
    VERIFIER
        .get_or_init(|| {
            let roots = RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            };
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .ok()
        })
        .as_ref()
}

/// Validates `chain` (leaf first) for `host` against the web PKI roots at `now`.
/// `Ok(())` when valid; otherwise the reason as text.
pub fn webpki_check(
    chain: &[CertificateDer<'static>],
    host: &str,
    now: UnixTime,
) -> Result<(), String> {
    let Some((leaf, intermediates)) = chain.split_first() else {
        return Err("no certificate presented".to_string());
    };
    let name = ServerName::try_from(host.to_string())
        .map_err(|e| format!("host is not a valid TLS name: {e}"))?;
    let verifier = webpki_verifier().ok_or_else(|| "web PKI verifier unavailable".to_string())?;
    verifier
        .verify_server_cert(leaf, intermediates, &name, &[], now)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// True when the leaf (given as its SAN entries in `DNS:`/`IP:` text form and its CN)
/// covers `host`. The CN is only consulted when there is no SAN at all (RFC 6125 §6.4.4).
pub fn name_matches(host: &str, san: &[String], san_count: u64, subject_cn: Option<&str>) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if let Ok(ip) = host.parse::<IpAddr>() {
        return san
            .iter()
            .filter_map(|s| s.strip_prefix("IP:"))
            .any(|s| s.parse::<IpAddr>().ok() == Some(ip));
    }
    if san_count > 0 {
        return san
            .iter()
            .filter_map(|s| s.strip_prefix("DNS:"))
            .any(|pattern| dns_match(pattern, &host));
    }
    subject_cn.is_some_and(|cn| dns_match(cn, &host))
}

fn dns_match(pattern: &str, host: &str) -> bool {
    let pattern = pattern.trim_end_matches('.').to_ascii_lowercase();
    match pattern.strip_prefix("*.") {
        // A wildcard covers exactly one left-most label.
        Some(suffix) => host
            .split_once('.')
            .is_some_and(|(label, rest)| !label.is_empty() && rest == suffix),
        None => pattern == host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_matching_table() {
        let san = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let cases: &[(&str, Vec<String>, Option<&str>, bool)] = &[
            (
                "electrum.example.org",
                san(&["DNS:electrum.example.org"]),
                None,
                true,
            ),
            (
                "Electrum.Example.org.",
                san(&["DNS:electrum.example.org"]),
                None,
                true,
            ),
            ("a.example.org", san(&["DNS:*.example.org"]), None, true),
            ("a.b.example.org", san(&["DNS:*.example.org"]), None, false),
            ("example.org", san(&["DNS:*.example.org"]), None, false),
            (
                "other.org",
                san(&["DNS:electrum.example.org"]),
                Some("other.org"),
                false,
            ),
            ("electrumx.test", vec![], Some("electrumx.test"), true),
            ("127.0.0.1", vec![], Some("127.0.0.1"), false),
            ("127.0.0.1", san(&["IP:127.0.0.1"]), None, true),
            ("::1", san(&["IP:::1"]), None, true),
        ];
        for (host, san, cn, want) in cases {
            assert_eq!(
                name_matches(host, san, san.len() as u64, *cn),
                *want,
                "{host} {san:?} {cn:?}"
            );
        }
    }

    #[test]
    fn self_signed_fails_webpki_with_a_reason() {
        let mut params =
            rcgen::CertificateParams::new(vec!["electrum.example.org".to_string()]).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "electrum.example.org");
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        let err = webpki_check(
            &[cert.der().clone()],
            "electrum.example.org",
            UnixTime::now(),
        )
        .unwrap_err();
        assert!(err.contains("UnknownIssuer"), "{err}");
        assert!(webpki_check(&[], "x", UnixTime::now()).is_err());
    }
}
