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
use record_any_verifier::RecordAnyVerifier;

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
pub async fn handshake(stream: BoxStream, host: &str, deadline: Duration) -> Result<(BoxStream, TlsObservation), HandshakeError> {
    let provider = rustls::crypto::ring::default_provider();
    let verifier = RecordAnyVerifier::new(provider.signature_verification_algorithms);
    let fail = |message: String, timed_out: bool, verifier: &RecordAnyVerifier| HandshakeError {
        message,
        timed_out,
        observation: observe_chain(&verifier.presented_chain(), host),
    };
    let config = client_config(verifier.clone()).map_err(|e| fail(e.to_string(), false, &verifier))?;
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
        chain = conn.peer_certificates().map(|c| c.iter().map(|c| c.clone().into_owned()).collect()).unwrap_or_default();
    }
    let mut obs = observe_chain(&chain, host);
    obs.protocol_version = conn.protocol_version().map(|v| format!("{v:?}"));
    obs.cipher_suite = conn.negotiated_cipher_suite().map(|s| format!("{:?}", s.suite()));
    obs.sni = sni;
    // The handshake completed, so the verifier checked the signature against the leaf key.
    obs.handshake_signature_valid = true;
    Ok((Box::new(tls), obs))
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
    let name_matches = certs
        .first()
        .is_some_and(|leaf| validity::name_matches(host, &leaf.san, leaf.san_count, leaf.subject_cn.as_deref()));
    TlsObservation {
        chain: certs,
        chain_presented: Some(u32::try_from(chain.len()).unwrap_or(u32::MAX)),
        webpki_valid,
        webpki_error,
        name_matches,
        ..TlsObservation::default()
    }
}
