//! X.509 certificate → [`model::raw::Certificate`](observatory_model::raw::Certificate).
//!
//! Parsing uses x509-parser, which reads v1 certificates too. The fingerprints are computed
//! from the DER before parsing, so a malformed certificate still yields its hashes and a
//! `parse_error`, never a panic. Every text field is attacker-controlled and bounded.

use observatory_model::raw::Certificate;
use observatory_protocol::message::truncate;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use x509_parser::extensions::GeneralName;
use x509_parser::oid_registry::{Oid, OID_X509_COMMON_NAME};
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::public_key::PublicKey;
use x509_parser::x509::X509Name;

use crate::limits::{MAX_CERT_FIELD, MAX_SAN_ENTRIES};

/// Describes one presented certificate; `now_unix` decides `expired` / `not_yet_valid`.
pub fn describe(der: &[u8], position: u32, now_unix: i64) -> Certificate {
    let mut cert = Certificate {
        position,
        der_len: der.len() as u64,
        sha256: hex::encode(Sha256::digest(der)),
        sha1: hex::encode(Sha1::digest(der)),
        ..Certificate::default()
    };
    match X509Certificate::from_der(der) {
        Ok((_, x509)) => fill(&mut cert, &x509, now_unix),
        Err(e) => cert.parse_error = Some(truncate(&e.to_string(), MAX_CERT_FIELD)),
    }
    cert
}

fn fill(cert: &mut Certificate, x: &X509Certificate<'_>, now_unix: i64) {
    let tbs = &x.tbs_certificate;
    cert.spki_sha256 = Some(hex::encode(Sha256::digest(tbs.subject_pki.raw)));
    cert.version = Some(tbs.version.0 + 1);
    // The integer's value in hex: DER's leading 0x00 sign byte is not part of it (as openssl prints).
    let serial = tbs.raw_serial();
    let serial = match serial {
        [0, rest @ ..] if !rest.is_empty() => rest,
        s => s,
    };
    cert.serial = Some(hex::encode(serial));
    cert.subject = Some(truncate(&tbs.subject.to_string(), MAX_CERT_FIELD));
    cert.subject_cn = first_attr(&tbs.subject, &OID_X509_COMMON_NAME);
    cert.issuer = Some(truncate(&tbs.issuer.to_string(), MAX_CERT_FIELD));
    cert.issuer_cn = first_attr(&tbs.issuer, &OID_X509_COMMON_NAME);
    cert.issuer_org = tbs
        .issuer
        .iter_organization()
        .next()
        .and_then(|a| a.as_str().ok())
        .map(|s| truncate(s, MAX_CERT_FIELD));
    let (nb, na) = (tbs.validity.not_before, tbs.validity.not_after);
    cert.not_before_unix = Some(nb.timestamp());
    cert.not_after_unix = Some(na.timestamp());
    cert.not_after = rfc3339(na.timestamp());
    cert.not_before = rfc3339(nb.timestamp());
    cert.validity_days = Some((na.timestamp() - nb.timestamp()).div_euclid(86_400));
    cert.expired = na.timestamp() < now_unix;
    cert.not_yet_valid = nb.timestamp() > now_unix;
    if let Ok(Some(san)) = x.subject_alternative_name() {
        cert.san_count = san.value.general_names.len() as u64;
        cert.san = san
            .value
            .general_names
            .iter()
            .take(MAX_SAN_ENTRIES)
            .map(san_text)
            .collect();
    }
    cert.is_ca = x.is_ca();
    let (key_type, bits, curve) = key_facts(x);
    cert.key_type = Some(key_type);
    cert.key_bits = bits;
    cert.ec_curve = curve;
    cert.signature_algorithm = Some(oid_name(&x.signature_algorithm.algorithm));
    // Self-signed means both: names equal, and the signature verifies with its own key.
    cert.self_signed =
        tbs.subject.as_raw() == tbs.issuer.as_raw() && x.verify_signature(None).is_ok();
}

fn first_attr(name: &X509Name<'_>, oid: &Oid<'_>) -> Option<String> {
    name.iter_by_oid(oid).next().map(|a| match a.as_str() {
        Ok(s) => truncate(s, MAX_CERT_FIELD),
        Err(_) => truncate(
            &String::from_utf8_lossy(a.attr_value().data),
            MAX_CERT_FIELD,
        ),
    })
}

fn rfc3339(unix: i64) -> Option<String> {
    let t = time::OffsetDateTime::from_unix_timestamp(unix).ok()?;
    t.format(&time::format_description::well_known::Rfc3339)
        .ok()
}

fn san_text(name: &GeneralName<'_>) -> String {
    let text = match name {
        GeneralName::DNSName(s) => format!("DNS:{s}"),
        GeneralName::IPAddress(b) => match b.len() {
            4 => <[u8; 4]>::try_from(*b)
                .map(|a| format!("IP:{}", std::net::Ipv4Addr::from(a)))
                .unwrap_or_default(),
            16 => <[u8; 16]>::try_from(*b)
                .map(|a| format!("IP:{}", std::net::Ipv6Addr::from(a)))
                .unwrap_or_default(),
            _ => format!("IP:{}", hex::encode(b)),
        },
        GeneralName::URI(s) => format!("URI:{s}"),
        GeneralName::RFC822Name(s) => format!("email:{s}"),
        GeneralName::DirectoryName(n) => format!("DirName:{n}"),
        other => format!("other:{other:?}"),
    };
    truncate(&text, MAX_CERT_FIELD)
}

fn oid_name(oid: &Oid<'_>) -> String {
    x509_parser::objects::oid2sn(oid, x509_parser::objects::oid_registry())
        .map(str::to_string)
        .unwrap_or_else(|_| oid.to_id_string())
}

fn key_facts(x: &X509Certificate<'_>) -> (String, Option<u32>, Option<String>) {
    let spki = &x.tbs_certificate.subject_pki;
    let alg = &spki.algorithm;
    let curve = alg
        .parameters
        .as_ref()
        .and_then(|p| p.as_oid().ok())
        .map(|o| oid_name(&o));
    match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => ("RSA".into(), u32::try_from(rsa.key_size()).ok(), None),
        Ok(PublicKey::EC(_)) => {
            let bits = curve.as_deref().and_then(curve_bits);
            ("EC".into(), bits, curve)
        }
        Ok(PublicKey::DSA(_)) => ("DSA".into(), None, None),
        _ => {
            let name = oid_name(&alg.algorithm);
            let bits = match name.as_str() {
                "ed25519" | "Ed25519" => Some(256),
                "ed448" | "Ed448" => Some(456),
                _ => None,
            };
            let label = match name.as_str() {
                "ed25519" => "Ed25519".to_string(),
                "ed448" => "Ed448".to_string(),
                _ => name,
            };
            (label, bits, None)
        }
    }
}

fn curve_bits(curve: &str) -> Option<u32> {
    match curve {
        "prime256v1" | "secp256r1" | "secp256k1" | "brainpoolP256r1" => Some(256),
        "secp384r1" | "brainpoolP384r1" => Some(384),
        "secp521r1" => Some(521),
        "secp224r1" => Some(224),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_der_still_has_hashes_and_a_parse_error() {
        for der in [
            &b""[..],
            b"\x30\x03\x02\x01",
            b"not a certificate at all",
            &[0x30, 0x82, 0xff, 0xff],
        ] {
            let c = describe(der, 0, 0);
            assert_eq!(c.sha256.len(), 64);
            assert_eq!(c.sha1.len(), 40);
            assert!(c.parse_error.is_some());
            assert_eq!(c.der_len, der.len() as u64);
        }
    }

    #[test]
    fn rcgen_certificate_fields() {
        let mut params = rcgen::CertificateParams::new(vec![
            "electrum.example.org".to_string(),
            "alt.example.org".to_string(),
        ])
        .unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "electrum.example.org");
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        let c = describe(cert.der(), 0, 0);
        assert_eq!(c.parse_error, None);
        assert_eq!(c.version, Some(3));
        assert_eq!(c.subject_cn.as_deref(), Some("electrum.example.org"));
        assert_eq!(
            c.san,
            vec!["DNS:electrum.example.org", "DNS:alt.example.org"]
        );
        assert_eq!(c.san_count, 2);
        assert_eq!(c.key_type.as_deref(), Some("EC"));
        assert_eq!(c.key_bits, Some(256));
        assert_eq!(c.ec_curve.as_deref(), Some("prime256v1"));
        assert!(c.self_signed);
        assert!(c.spki_sha256.is_some());
        assert_eq!(c.signature_algorithm.as_deref(), Some("ecdsa-with-SHA256"));
    }
}
