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
//!
//! What the check concluded is kept ([`RecordAnyVerifier::signature_check`]) and recorded
//! as data (`TlsObservation::handshake_signature_valid` and `handshake_signature_scheme`),
//! so a record says what was verified, not what the handshake's success implies.

use std::sync::{Arc, Mutex};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, ServerName, SubjectPublicKeyInfoDer, UnixTime};
use rustls::{DigitallySignedStruct, Error, PeerIncompatible, PeerMisbehaved, SignatureScheme};

/// What the verifier concluded about the server's handshake signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SignatureCheck {
    /// No handshake signature reached the verifier (the handshake ended before it).
    #[default]
    NotChecked,
    /// The signature, made with this scheme, verified against the leaf certificate's key.
    Valid(SignatureScheme),
    /// The signature, claimed to be made with this scheme, did not verify (or the scheme is
    /// not allowed, or the leaf's key could not be read); the handshake is aborted.
    Invalid(SignatureScheme),
}

impl SignatureCheck {
    /// True only for a signature that verified.
    pub fn is_valid(self) -> bool {
        matches!(self, SignatureCheck::Valid(_))
    }

    /// The scheme the server signed with, when a signature was seen.
    pub fn scheme(self) -> Option<SignatureScheme> {
        match self {
            SignatureCheck::NotChecked => None,
            SignatureCheck::Valid(s) | SignatureCheck::Invalid(s) => Some(s),
        }
    }
}

/// Accepts every presented chain, records it, and checks handshake signatures against the leaf key.
#[derive(Debug)]
pub struct RecordAnyVerifier {
    algorithms: WebPkiSupportedAlgorithms,
    chain: Mutex<Vec<CertificateDer<'static>>>,
    signature: Mutex<SignatureCheck>,
}

impl RecordAnyVerifier {
    /// A verifier using the given provider's signature algorithms.
    pub fn new(algorithms: WebPkiSupportedAlgorithms) -> Arc<Self> {
        Arc::new(RecordAnyVerifier {
            algorithms,
            chain: Mutex::new(Vec::new()),
            signature: Mutex::new(SignatureCheck::NotChecked),
        })
    }

    /// What the last handshake signature check concluded.
    pub fn signature_check(&self) -> SignatureCheck {
        self.signature.lock().map(|s| *s).unwrap_or_default()
    }

    /// Checks the signature and remembers the conclusion.
    fn check(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
        tls13: bool,
    ) -> Result<HandshakeSignatureValid, Error> {
        let result = self.verify(message, cert, dss, tls13);
        let conclusion = if result.is_ok() {
            SignatureCheck::Valid(dss.scheme)
        } else {
            SignatureCheck::Invalid(dss.scheme)
        };
        if let Ok(mut s) = self.signature.lock() {
            *s = conclusion;
        }
        result
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
    fn verify(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
        tls13: bool,
    ) -> Result<HandshakeSignatureValid, Error> {
        if tls13 && !allowed_in_tls13(dss.scheme) {
            return Err(PeerMisbehaved::SignedHandshakeWithUnadvertisedSigScheme.into());
        }
        let spki = self.leaf_spki(cert)?;
        let spki = SubjectPublicKeyInfoDer::from(spki.as_slice());
        let key = webpki::RawPublicKeyEntity::try_from(&spki)
            .map_err(|_| Error::InvalidCertificate(rustls::CertificateError::BadEncoding))?;
        let candidates = self
            .algorithms
            .mapping
            .iter()
            .find(|(scheme, _)| *scheme == dss.scheme)
            .map(|(_, algs)| *algs);
        let Some(candidates) = candidates.filter(|c| !c.is_empty()) else {
            return Err(PeerIncompatible::NoSignatureSchemesInCommon.into());
        };
        let candidates = if tls13 {
            candidates.get(..1).unwrap_or_default()
        } else {
            candidates
        };
        for alg in candidates {
            if key.verify_signature(*alg, message, dss.signature()).is_ok() {
                return Ok(HandshakeSignatureValid::assertion());
            }
        }
        Err(Error::InvalidCertificate(
            rustls::CertificateError::BadSignature,
        ))
    }
}

/// Signature schemes TLS 1.3 permits for CertificateVerify (RFC 8446 §4.2.3: no PKCS#1 v1.5, no SHA-1).
fn allowed_in_tls13(scheme: SignatureScheme) -> bool {
    use SignatureScheme::*;
    matches!(
        scheme,
        ECDSA_NISTP256_SHA256
            | ECDSA_NISTP384_SHA384
            | ECDSA_NISTP521_SHA512
            | RSA_PSS_SHA256
            | RSA_PSS_SHA384
            | RSA_PSS_SHA512
            | ED25519
            | ED448
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

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.check(message, cert, dss, false)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.check(message, cert, dss, true)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    //! The signature check called directly, as rustls calls it for TLS 1.2's
    //! ServerKeyExchange and TLS 1.3's CertificateVerify. (The whole handshake path is
    //! tested in `super::super::tests`.)

    use super::*;
    // rustls has no public constructor for a DigitallySignedStruct; its wire decoder is the
    // one way to make one outside a handshake.
    use rustls::internal::msgs::codec::{Codec, Reader};
    use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

    /// A self-signed certificate and a signer for its key.
    fn identity() -> (CertificateDer<'static>, Arc<dyn rustls::sign::SigningKey>) {
        let params = rcgen::CertificateParams::new(vec!["fake.example".to_string()]).unwrap();
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let cert = params.self_signed(&key).unwrap();
        let provider = rustls::crypto::ring::default_provider();
        let signer = provider
            .key_provider
            .load_private_key(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
                key.serialize_der(),
            )))
            .unwrap();
        (cert.der().clone(), signer)
    }

    fn dss(scheme: SignatureScheme, signature: &[u8]) -> DigitallySignedStruct {
        let mut wire = Vec::new();
        scheme.encode(&mut wire);
        wire.extend_from_slice(&u16::try_from(signature.len()).unwrap().to_be_bytes());
        wire.extend_from_slice(signature);
        DigitallySignedStruct::read(&mut Reader::init(&wire)).unwrap()
    }

    fn sign(key: &Arc<dyn rustls::sign::SigningKey>, message: &[u8]) -> DigitallySignedStruct {
        let signer = key
            .choose_scheme(&[SignatureScheme::ECDSA_NISTP256_SHA256])
            .unwrap();
        dss(signer.scheme(), &signer.sign(message).unwrap())
    }

    fn verifier() -> Arc<RecordAnyVerifier> {
        RecordAnyVerifier::new(
            rustls::crypto::ring::default_provider().signature_verification_algorithms,
        )
    }

    const MESSAGE: &[u8] = b"handshake transcript stand-in";

    #[test]
    fn good_signatures_verify_in_tls12_and_tls13() {
        let (cert, key) = identity();
        let signed = sign(&key, MESSAGE);
        let v = verifier();
        assert_eq!(v.signature_check(), SignatureCheck::NotChecked);
        assert!(v.verify_tls12_signature(MESSAGE, &cert, &signed).is_ok());
        assert_eq!(
            v.signature_check(),
            SignatureCheck::Valid(SignatureScheme::ECDSA_NISTP256_SHA256)
        );
        let v = verifier();
        assert!(v.verify_tls13_signature(MESSAGE, &cert, &signed).is_ok());
        assert!(v.signature_check().is_valid());
    }

    #[test]
    fn bad_signatures_fail_in_tls12_and_tls13() {
        let (cert_a, key_a) = identity();
        let (_, key_b) = identity();
        let by_b = sign(&key_b, MESSAGE);
        let other_message = sign(&key_a, b"another transcript");
        for tls13 in [false, true] {
            let v = verifier();
            let check = |m: &[u8], d: &DigitallySignedStruct| {
                if tls13 {
                    v.verify_tls13_signature(m, &cert_a, d)
                } else {
                    v.verify_tls12_signature(m, &cert_a, d)
                }
            };
            // Another key's signature over the right message.
            let err = check(MESSAGE, &by_b).map(|_| ()).expect_err("key B");
            assert_eq!(
                err,
                Error::InvalidCertificate(rustls::CertificateError::BadSignature)
            );
            assert_eq!(
                v.signature_check(),
                SignatureCheck::Invalid(SignatureScheme::ECDSA_NISTP256_SHA256)
            );
            // The right key over another message, and bytes that are no signature at all.
            assert!(check(MESSAGE, &other_message).is_err());
            assert!(check(
                MESSAGE,
                &dss(
                    SignatureScheme::ECDSA_NISTP256_SHA256,
                    &[0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01]
                )
            )
            .is_err());
            assert!(check(MESSAGE, &dss(SignatureScheme::ECDSA_NISTP256_SHA256, &[])).is_err());
            assert!(!v.signature_check().is_valid());
        }
    }

    #[test]
    fn a_good_signature_over_the_wrong_certificate_fails() {
        let (cert_a, key_a) = identity();
        let (cert_b, _) = identity();
        let v = verifier();
        let signed = sign(&key_a, MESSAGE);
        assert!(v.verify_tls13_signature(MESSAGE, &cert_a, &signed).is_ok());
        assert!(v.verify_tls13_signature(MESSAGE, &cert_b, &signed).is_err());
        assert!(!v.signature_check().is_valid(), "the last check decides");
    }

    /// TLS 1.3 forbids PKCS#1 v1.5 and SHA-1 in CertificateVerify; TLS 1.2 allows them.
    #[test]
    fn tls13_refuses_schemes_it_forbids() {
        let (cert, _) = identity();
        let v = verifier();
        let err = v
            .verify_tls13_signature(
                MESSAGE,
                &cert,
                &dss(SignatureScheme::RSA_PKCS1_SHA256, &[1; 256]),
            )
            .map(|_| ())
            .unwrap_err();
        assert_eq!(
            err,
            PeerMisbehaved::SignedHandshakeWithUnadvertisedSigScheme.into()
        );
        assert_eq!(
            v.signature_check(),
            SignatureCheck::Invalid(SignatureScheme::RSA_PKCS1_SHA256)
        );
        // Under TLS 1.2 the scheme is allowed, but the ECDSA key cannot verify an RSA signature.
        let err = v
            .verify_tls12_signature(
                MESSAGE,
                &cert,
                &dss(SignatureScheme::RSA_PKCS1_SHA256, &[1; 256]),
            )
            .map(|_| ())
            .unwrap_err();
        assert_eq!(
            err,
            Error::InvalidCertificate(rustls::CertificateError::BadSignature)
        );
        // A scheme the provider does not implement.
        let err = v
            .verify_tls12_signature(
                MESSAGE,
                &cert,
                &dss(SignatureScheme::ECDSA_SHA1_Legacy, &[1; 64]),
            )
            .map(|_| ())
            .unwrap_err();
        assert_eq!(err, PeerIncompatible::NoSignatureSchemesInCommon.into());
    }

    #[test]
    fn an_unreadable_certificate_cannot_verify_anything() {
        let (_, key) = identity();
        let v = verifier();
        let garbage = CertificateDer::from(vec![0x30, 0x03, 0x02, 0x01, 0x00]);
        let err = v
            .verify_tls13_signature(MESSAGE, &garbage, &sign(&key, MESSAGE))
            .map(|_| ())
            .unwrap_err();
        assert_eq!(
            err,
            Error::InvalidCertificate(rustls::CertificateError::BadEncoding)
        );
        assert_eq!(
            v.signature_check(),
            SignatureCheck::Invalid(SignatureScheme::ECDSA_NISTP256_SHA256)
        );
    }

    /// Any chain is accepted and recorded, leaf first, whatever it contains.
    #[test]
    fn any_chain_is_accepted_and_recorded() {
        let (cert, _) = identity();
        let junk = CertificateDer::from(b"not a certificate".to_vec());
        let v = verifier();
        let name = ServerName::try_from("fake.example").unwrap();
        assert!(v
            .verify_server_cert(
                &junk,
                std::slice::from_ref(&cert),
                &name,
                &[],
                UnixTime::now()
            )
            .is_ok());
        assert_eq!(v.presented_chain(), vec![junk.into_owned(), cert]);
    }
}
