//! Certificates of the simulated servers (rcgen) and their rustls server configurations.
//!
//! * Most servers present their own self-signed certificate (CN and SAN = their address),
//!   the usual setup on the Electrum network.
//! * Some present a leaf issued by a CA-looking chain made for this run: a root
//!   ("Simnet Root X1") and an intermediate ("Simnet R3"); the server sends leaf and
//!   intermediate, as web servers do. Nothing about it is trusted anywhere.
//! * All planted honeypots present one and the same certificate.
//! * All Electrum Personal Servers present one shared certificate, standing in for the
//!   certificate EPS ships in its repository (`electrumpersonalserver/certs/`), which every
//!   install keeps unless the operator replaces it.
//!
//! Keys are ECDSA P-256 generated per run (ring cannot derive keys from a seed), so
//! fingerprints differ between runs; the ground truth names certificate *groups* instead.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use rcgen::{BasicConstraints, Certificate, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose, SanType};
use rustls::ServerConfig;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::plan::CertGroup;
use crate::SimnetError;

/// Certificates shared by several servers, made once per run.
pub(crate) struct CertStore {
    honeypot: Arc<ServerConfig>,
    eps: Arc<ServerConfig>,
    intermediate: Certificate,
    intermediate_key: KeyPair,
}

impl std::fmt::Debug for CertStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertStore").finish_non_exhaustive()
    }
}

fn tls_err(e: impl std::fmt::Display) -> SimnetError {
    SimnetError::Tls(e.to_string())
}

fn params(common_name: &str, sans: Vec<SanType>) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = rcgen::DistinguishedName::new();
    p.distinguished_name.push(DnType::CommonName, common_name);
    p.subject_alt_names = sans;
    // A plausible validity window around the simulated date (the fake chain's tip is late 2025).
    p.not_before = rcgen::date_time_ymd(2025, 6, 1);
    p.not_after = rcgen::date_time_ymd(2027, 6, 1);
    p
}

fn server_config(chain: Vec<CertificateDer<'static>>, key: &KeyPair) -> Result<Arc<ServerConfig>, SimnetError> {
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(tls_err)?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(tls_err)?;
    Ok(Arc::new(config))
}

fn self_signed(common_name: &str, sans: Vec<SanType>) -> Result<Arc<ServerConfig>, SimnetError> {
    let key = KeyPair::generate().map_err(tls_err)?;
    let cert = params(common_name, sans).self_signed(&key).map_err(tls_err)?;
    server_config(vec![cert.der().clone()], &key)
}

impl CertStore {
    /// Makes the shared certificates and the CA-like chain.
    pub(crate) fn new() -> Result<CertStore, SimnetError> {
        let honeypot = self_signed("electrum.server", Vec::new())?;
        let eps = self_signed("electrum-personal-server", Vec::new())?;

        let root_key = KeyPair::generate().map_err(tls_err)?;
        let mut root_params = params("Simnet Root X1", Vec::new());
        root_params.distinguished_name.push(DnType::OrganizationName, "Simnet Trust Services");
        root_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        root_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        root_params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        root_params.not_after = rcgen::date_time_ymd(2035, 1, 1);
        let root = root_params.self_signed(&root_key).map_err(tls_err)?;

        let intermediate_key = KeyPair::generate().map_err(tls_err)?;
        let mut inter_params = params("Simnet R3", Vec::new());
        inter_params.distinguished_name.push(DnType::OrganizationName, "Simnet Trust Services");
        inter_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        inter_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::DigitalSignature];
        inter_params.not_before = rcgen::date_time_ymd(2024, 1, 1);
        inter_params.not_after = rcgen::date_time_ymd(2029, 1, 1);
        let intermediate = inter_params.signed_by(&intermediate_key, &root, &root_key).map_err(tls_err)?;
        Ok(CertStore { honeypot, eps, intermediate, intermediate_key })
    }

    /// The rustls configuration a server at `ip` uses for `group`.
    pub(crate) fn config_for(&self, group: CertGroup, ip: Ipv4Addr) -> Result<Arc<ServerConfig>, SimnetError> {
        let name = ip.to_string();
        let sans = vec![SanType::IpAddress(IpAddr::V4(ip))];
        match group {
            CertGroup::SelfSigned => self_signed(&name, sans),
            CertGroup::SharedHoneypot => Ok(self.honeypot.clone()),
            CertGroup::EpsBundled => Ok(self.eps.clone()),
            CertGroup::CaSigned => {
                let key = KeyPair::generate().map_err(tls_err)?;
                let mut p = params(&name, sans);
                p.use_authority_key_identifier_extension = true;
                let leaf = p.signed_by(&key, &self.intermediate, &self.intermediate_key).map_err(tls_err)?;
                server_config(vec![leaf.der().clone(), self.intermediate.der().clone()], &key)
            }
        }
    }
}
