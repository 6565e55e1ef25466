//! TLS: handshake with chain capture, certificate description, validity measurement.
//!
//! * [`record_any_verifier`]: the verifier that accepts and records any chain but still checks
//!   the handshake signature against the leaf key.
//! * [`certificate`]: DER → [`Certificate`](observatory_model::raw::Certificate).
//! * [`validity`]: web-PKI validation and host-name match, as data.
//!
//! [`handshake`] wraps a connected stream in TLS and returns what was observed; on failure
//! the observation (with any chain already presented) comes back beside the error.

pub mod certificate;
pub mod record_any_verifier;
pub mod validity;

use std::sync::Arc;
use std::time::Duration;

use observatory_model::raw::TlsObservation;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::ClientConfig;
use tokio::time::timeout;
use tokio_rustls::TlsConnector;

use crate::connection::BoxStream;
use crate::limits::MAX_CHAIN_CERTS;
use record_any_verifier::{RecordAnyVerifier, SignatureCheck};

/// A failed handshake, with what was seen before it failed.
#[derive(Debug)]
pub struct HandshakeError {
    /// What went wrong, in words.
    pub message: String,
    /// Whether it was the handshake deadline.
    pub timed_out: bool,
    /// The observation so far (chain if the server got as far as sending it).
    pub observation: TlsObservation,
}

fn client_config(verifier: Arc<RecordAnyVerifier>) -> Result<ClientConfig, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
}

/// The TLS name for `host`: an IP literal (no SNI is sent, as rustls does for IPs) or a DNS name.
fn server_name(host: &str) -> Result<ServerName<'static>, String> {
    ServerName::try_from(host.to_string()).map_err(|e| format!("host is not a valid TLS name: {e}"))
}

/// Runs the TLS handshake over `stream` for `host` under `deadline`.
pub async fn handshake(
    stream: BoxStream,
    host: &str,
    deadline: Duration,
) -> Result<(BoxStream, TlsObservation), HandshakeError> {
    let provider = rustls::crypto::ring::default_provider();
    let verifier = RecordAnyVerifier::new(provider.signature_verification_algorithms);
    let fail = |message: String, timed_out: bool, verifier: &RecordAnyVerifier| {
        let mut observation = observe_chain(&verifier.presented_chain(), host);
        record_signature_check(&mut observation, verifier.signature_check());
        HandshakeError {
            message,
            timed_out,
            observation,
        }
    };
    let config =
        client_config(verifier.clone()).map_err(|e| fail(e.to_string(), false, &verifier))?;
    let name = server_name(host).map_err(|e| fail(e, false, &verifier))?;
    let sni = match &name {
        ServerName::DnsName(d) => Some(d.as_ref().to_string()),
        _ => None,
    };
    let connector = TlsConnector::from(Arc::new(config));
    let tls = match timeout(deadline, connector.connect(name, stream)).await {
        Err(_) => return Err(fail("TLS handshake timed out".into(), true, &verifier)),
        Ok(Err(e)) => return Err(fail(e.to_string(), false, &verifier)),
        Ok(Ok(tls)) => tls,
    };
    let (_, conn) = tls.get_ref();
    let mut chain = verifier.presented_chain();
    if chain.is_empty() {
        chain = conn
            .peer_certificates()
            .map(|c| c.iter().map(|c| c.clone().into_owned()).collect())
            .unwrap_or_default();
    }
    let mut obs = observe_chain(&chain, host);
    obs.protocol_version = conn.protocol_version().map(|v| format!("{v:?}"));
    obs.cipher_suite = conn
        .negotiated_cipher_suite()
        .map(|s| format!("{:?}", s.suite()));
    obs.sni = sni;
    record_signature_check(&mut obs, verifier.signature_check());
    Ok((Box::new(tls), obs))
}

/// Records what the verifier concluded about the handshake signature (not what the
/// handshake's outcome would suggest: a completed handshake whose signature the verifier
/// never saw is recorded as not valid).
fn record_signature_check(obs: &mut TlsObservation, check: SignatureCheck) {
    obs.handshake_signature_valid = check.is_valid();
    obs.handshake_signature_scheme = check.scheme().map(|s| format!("{s:?}"));
}

/// Describes a presented chain and measures its validity for `host`.
pub fn observe_chain(chain: &[CertificateDer<'static>], host: &str) -> TlsObservation {
    let now = UnixTime::now();
    let now_unix = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
    let certs: Vec<_> = chain
        .iter()
        .take(MAX_CHAIN_CERTS)
        .enumerate()
        .map(|(i, der)| certificate::describe(der.as_ref(), i as u32, now_unix))
        .collect();
    let (webpki_valid, webpki_error) = match validity::webpki_check(chain, host, now) {
        Ok(()) => (true, None),
        Err(e) => (false, Some(e)),
    };
    let name_matches = certs.first().is_some_and(|leaf| {
        validity::name_matches(host, &leaf.san, leaf.san_count, leaf.subject_cn.as_deref())
    });
    TlsObservation {
        chain: certs,
        chain_presented: Some(u32::try_from(chain.len()).unwrap_or(u32::MAX)),
        webpki_valid,
        webpki_error,
        name_matches,
        ..TlsObservation::default()
    }
}

#[cfg(test)]
mod tests {
    //! [`handshake`] against an in-memory rustls server (TLS 1.2 or 1.3 only) that presents a
    //! chosen certificate and signs its handshake with a chosen key: what is recorded is what
    //! the verifier concluded.

    use super::*;
    use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    use rustls::server::{ClientHello, ResolvesServerCert};
    use rustls::sign::CertifiedKey;
    use rustls::SupportedProtocolVersion;
    use sha2::{Digest, Sha256};

    /// A self-signed certificate (DER) and its PKCS#8 key (DER).
    fn identity(alg: &'static rcgen::SignatureAlgorithm, expired: bool) -> (Vec<u8>, Vec<u8>) {
        let mut params = rcgen::CertificateParams::new(vec!["fake.example".to_string()]).unwrap();
        if expired {
            params.not_before = rcgen::date_time_ymd(2000, 1, 1);
            params.not_after = rcgen::date_time_ymd(2001, 1, 1);
        }
        let key = rcgen::KeyPair::generate_for(alg).unwrap();
        let cert = params.self_signed(&key).unwrap();
        (cert.der().to_vec(), key.serialize_der())
    }

    /// Presents the certificate whatever the key (rustls' own builders would refuse a mismatch).
    #[derive(Debug)]
    struct Present(Arc<CertifiedKey>);

    impl ResolvesServerCert for Present {
        fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
            Some(self.0.clone())
        }
    }

    /// Runs [`handshake`] against a server presenting `cert` and signing with `key`.
    async fn against(
        cert: &[u8],
        key: &[u8],
        version: &'static SupportedProtocolVersion,
    ) -> Result<TlsObservation, HandshakeError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let signing = provider
            .key_provider
            .load_private_key(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.to_vec())))
            .unwrap();
        let certified = Arc::new(CertifiedKey::new(
            vec![CertificateDer::from(cert.to_vec())],
            signing,
        ));
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[version])
            .unwrap()
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(Present(certified)));
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let (client, server) = tokio::io::duplex(64 * 1024);
        let server = tokio::spawn(async move { acceptor.accept(server).await.map(drop) });
        let result = handshake(Box::new(client), "fake.example", Duration::from_secs(10))
            .await
            .map(|(_, obs)| obs);
        let _ = server.await;
        result
    }

    const VERSIONS: [(&SupportedProtocolVersion, &str); 2] = [
        (&rustls::version::TLS12, "TLSv1_2"),
        (&rustls::version::TLS13, "TLSv1_3"),
    ];

    #[tokio::test]
    async fn a_good_signature_is_recorded_valid_with_its_scheme() {
        for (alg, scheme) in [
            (&rcgen::PKCS_ECDSA_P256_SHA256, "ECDSA_NISTP256_SHA256"),
            (&rcgen::PKCS_ED25519, "ED25519"),
        ] {
            let (cert, key) = identity(alg, false);
            for (version, name) in VERSIONS {
                let obs = against(&cert, &key, version)
                    .await
                    .unwrap_or_else(|e| panic!("{name} {scheme}: {}", e.message));
                assert_eq!(obs.protocol_version.as_deref(), Some(name));
                assert!(obs.handshake_signature_valid, "{name} {scheme}");
                assert_eq!(
                    obs.handshake_signature_scheme.as_deref(),
                    Some(scheme),
                    "{name}"
                );
                assert_eq!(obs.chain.len(), 1);
            }
        }
    }

    /// Certificate A, handshake signed with key B: the handshake fails, and the record says
    /// the signature did not verify and still holds the chain that was presented.
    #[tokio::test]
    async fn certificate_a_signed_with_key_b_fails_with_the_chain_recorded() {
        let (cert_a, _) = identity(&rcgen::PKCS_ECDSA_P256_SHA256, false);
        let (_, key_b) = identity(&rcgen::PKCS_ECDSA_P256_SHA256, false);
        for (version, name) in VERSIONS {
            let err = against(&cert_a, &key_b, version)
                .await
                .map(|_| ())
                .expect_err(name);
            assert!(!err.timed_out, "{name}");
            assert!(
                err.message.contains("BadSignature"),
                "{name}: {}",
                err.message
            );
            let obs = err.observation;
            assert!(!obs.handshake_signature_valid, "{name}");
            assert_eq!(
                obs.handshake_signature_scheme.as_deref(),
                Some("ECDSA_NISTP256_SHA256"),
                "{name}"
            );
            assert_eq!(obs.chain.len(), 1, "{name}");
            assert_eq!(
                obs.chain[0].sha256,
                hex::encode(Sha256::digest(&cert_a)),
                "{name}: the presented certificate"
            );
        }
        // A key of another type than the certificate's cannot verify either.
        let (_, ed_key) = identity(&rcgen::PKCS_ED25519, false);
        let err = against(&cert_a, &ed_key, &rustls::version::TLS13)
            .await
            .map(|_| ())
            .expect_err("ed25519 key, ECDSA cert");
        assert!(!err.observation.handshake_signature_valid);
        assert_eq!(
            err.observation.handshake_signature_scheme.as_deref(),
            Some("ED25519")
        );
    }

    #[tokio::test]
    async fn expired_self_signed_certificates_are_accepted_and_recorded() {
        let (cert, key) = identity(&rcgen::PKCS_ECDSA_P256_SHA256, true);
        for (version, name) in VERSIONS {
            let obs = against(&cert, &key, version)
                .await
                .unwrap_or_else(|e| panic!("{name}: {}", e.message));
            assert!(obs.handshake_signature_valid, "{name}");
            assert!(
                obs.chain[0].expired && obs.chain[0].self_signed,
                "{name}: {:?}",
                obs.chain[0]
            );
            assert!(!obs.webpki_valid && obs.webpki_error.is_some(), "{name}");
        }
    }

    #[tokio::test]
    async fn a_handshake_that_ends_before_any_signature_records_none() {
        let (client, server) = tokio::io::duplex(1024);
        drop(server);
        let err = handshake(Box::new(client), "fake.example", Duration::from_secs(5))
            .await
            .map(|_| ())
            .expect_err("closed");
        assert!(!err.observation.handshake_signature_valid);
        assert_eq!(err.observation.handshake_signature_scheme, None);
        assert!(err.observation.chain.is_empty());
    }
}
