//! A rustls certificate verifier that accepts any chain and records it.
//!
//! The observatory must see the certificate every Electrum server presents, including
//! self-signed, expired, wrong-host and X.509 **v1** certificates (ElectrumX's documented
//! `openssl x509 -req -signkey` recipe makes v1 certificates, which webpki refuses to parse).
//! So chain *validity* is not checked here: it is measured afterwards, as data
//! (`super::validity`). What this verifier still insists on is that the server proves
//! possession of the leaf certificate's key: the handshake signature is verified against
//! the leaf's SubjectPublicKeyInfo with the crypto provider's algorithms. Without that a
//! man in the middle could replay someone else's certificate and we would record a lie.
//!
//! The key is taken from the certificate with x509-parser (which reads v1) and checked with
//! `webpki::RawPublicKeyEntity`, the same primitive rustls uses for raw public keys.

use std::sync::{Arc, Mutex};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, ServerName, SubjectPublicKeyInfoDer, UnixTime};
use rustls::{DigitallySignedStruct, Error, PeerIncompatible, PeerMisbehaved, SignatureScheme};

/// Accepts every presented chain, records it, and checks handshake signatures against the leaf key.
#[derive(Debug)]
pub struct RecordAnyVerifier {
    algorithms: WebPkiSupportedAlgorithms,
    chain: Mutex<Vec<CertificateDer<'static>>>,
}

impl RecordAnyVerifier {
    /// A verifier using the given provider's signature algorithms.
    pub fn new(algorithms: WebPkiSupportedAlgorithms) -> Arc<Self> {
        Arc::new(RecordAnyVerifier { algorithms, chain: Mutex::new(Vec::new()) })
    }

    /// The chain the server presented (leaf first), empty if none was seen yet.
    pub fn presented_chain(&self) -> Vec<CertificateDer<'static>> {
        self.chain.lock().map(|c| c.clone()).unwrap_or_default()
    }

    fn leaf_spki(&self, cert: &CertificateDer<'_>) -> Result<Vec<u8>, Error> {
        let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref())
            .map_err(|_| Error::InvalidCertificate(rustls::CertificateError::BadEncoding))?;
        Ok(parsed.tbs_certificate.subject_pki.raw.to_vec())
    }

    /// Verifies `signature` over `message` with the leaf key, trying each algorithm the
    /// provider maps `scheme` to (TLS 1.2 schemes do not name the curve); TLS 1.3 allows
    /// only the first mapping, as rustls does.
    fn verify(&self, message: &[u8], cert: &CertificateDer<'_>, dss: &DigitallySignedStruct, tls13: bool) -> Result<HandshakeSignatureValid, Error> {
        if tls13 && !allowed_in_tls13(dss.scheme) {
            return Err(PeerMisbehaved::SignedHandshakeWithUnadvertisedSigScheme.into());
        }
        let spki = self.leaf_spki(cert)?;
        let spki = SubjectPublicKeyInfoDer::from(spki.as_slice());
        let key = webpki::RawPublicKeyEntity::try_from(&spki)
            .map_err(|_| Error::InvalidCertificate(rustls::CertificateError::BadEncoding))?;
        let candidates = self.algorithms.mapping.iter().find(|(scheme, _)| *scheme == dss.scheme).map(|(_, algs)| *algs);
        let Some(candidates) = candidates.filter(|c| !c.is_empty()) else {
            return Err(PeerIncompatible::NoSignatureSchemesInCommon.into());
        };
        let candidates = if tls13 { candidates.get(..1).unwrap_or_default() } else { candidates };
        for alg in candidates {
            if key.verify_signature(*alg, message, dss.signature()).is_ok() {
                return Ok(HandshakeSignatureValid::assertion());
            }
        }
        Err(Error::InvalidCertificate(rustls::CertificateError::BadSignature))
    }
}

/// Signature schemes TLS 1.3 permits for CertificateVerify (RFC 8446 §4.2.3: no PKCS#1 v1.5, no SHA-1).
fn allowed_in_tls13(scheme: SignatureScheme) -> bool {
    use SignatureScheme::*;
    matches!(
        scheme,
        ECDSA_NISTP256_SHA256 | ECDSA_NISTP384_SHA384 | ECDSA_NISTP521_SHA512 | RSA_PSS_SHA256 | RSA_PSS_SHA384 | RSA_PSS_SHA512 | ED25519 | ED448
    )
}

impl ServerCertVerifier for RecordAnyVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        if let Ok(mut chain) = self.chain.lock() {
            chain.clear();
            chain.push(end_entity.clone().into_owned());
            chain.extend(intermediates.iter().map(|c| c.clone().into_owned()));
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(&self, message: &[u8], cert: &CertificateDer<'_>, dss: &DigitallySignedStruct) -> Result<HandshakeSignatureValid, Error> {
        self.verify(message, cert, dss, false)
    }

    fn verify_tls13_signature(&self, message: &[u8], cert: &CertificateDer<'_>, dss: &DigitallySignedStruct) -> Result<HandshakeSignatureValid, Error> {
        self.verify(message, cert, dss, true)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
