//! Certificates of the simulated servers and their rustls server configurations.
//!
//! * ElectrumX servers with their own certificate present what ElectrumX's documented recipe
//!   makes: a self-signed X.509 **v1** certificate over a fresh RSA-2048 key, valid 1825 days,
//!   no extensions ([`crate::x509v1`]). The planted honeypot fleet claims to be ElectrumX and
//!   shares one such certificate.
//! * Other implementations' own certificates are self-signed v3 (rcgen, ECDSA P-256; CN and
//!   SAN = their address), as Fulcrum's and electrs' `openssl req -x509` instructions make.
//! * Some present a leaf issued by a CA-looking chain made for this run: a root
//!   ("Simnet Root X1") and an intermediate ("Simnet R3"); the server sends leaf and
//!   intermediate, as web servers do. Nothing about it is trusted anywhere.
//! * All Electrum Personal Servers present one shared certificate, standing in for the
//!   certificate EPS ships in its repository (`electrumpersonalserver/certs/`), which every
//!   install keeps unless the operator replaces it. Like the real one it is RSA-2048 and v1,
//!   and its key is public: it is derived from a fixed seed ([`EPS_STANDIN_SEED`]), so its
//!   fingerprint is the same in every run and the analysis lists it among the known default
//!   certificates (`analysis/src/hss.rs`, `KNOWN_DEFAULT_CERTS`), next to the real EPS one.
//!
//! Other keys are generated per run (ring cannot derive ECDSA keys from a seed, and fresh
//! RSA keys are what `openssl genrsa` gives every operator), so those fingerprints differ
//! between runs; the ground truth names certificate *groups* instead. RSA key generation is
//! the slow part of starting a simnet (about 0.1 s a key in release builds): [`acceptors`]
//! spreads it over every core.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, OnceLock};

use rand::{RngCore, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose,
    SanType,
};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::ServerConfig;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs1KeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::TlsAcceptor;

use crate::flavor::Flavor;
use crate::plan::{CertGroup, Plan, ServerPlan};
use crate::x509v1::{self, Date, RsaKey, Subject, RECIPE_DAYS};
use crate::SimnetError;

/// Seed of the Electrum Personal Server stand-in certificate's key (public by design, like
/// the key EPS ships).
pub const EPS_STANDIN_SEED: u64 = 0xe95_b0d1ed;
/// Its subject (EPS's own bundled certificate is issued to `electrum-server.tld` as well).
const EPS_STANDIN_CN: &str = "electrum-server.tld";
const EPS_STANDIN_ORG: &str = "Electrum Personal Server (simnet stand-in)";
/// Its validity start: the date of EPS's current bundled certificate.
const EPS_STANDIN_NOT_BEFORE: Date = Date {
    year: 2023,
    month: 3,
    day: 14,
};
/// When the honeypot fleet minted its one certificate.
const HONEYPOT_NOT_BEFORE: Date = Date {
    year: 2025,
    month: 9,
    day: 1,
};
/// Honest ElectrumX operators set their servers up over the years before the simulated date:
/// their certificates start up to this many days before [`SETUP_LATEST`].
const SETUP_SPREAD_DAYS: u64 = 1200;
const SETUP_LATEST: Date = Date {
    year: 2025,
    month: 10,
    day: 1,
};

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

fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: &KeyPair,
) -> Result<Arc<ServerConfig>, SimnetError> {
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
    let cert = params(common_name, sans)
        .self_signed(&key)
        .map_err(tls_err)?;
    server_config(vec![cert.der().clone()], &key)
}

/// A certificate and its PKCS#1 key, both DER.
#[derive(Clone)]
pub(crate) struct RecipeCert {
    /// Certificate DER.
    pub(crate) cert: Vec<u8>,
    key: Vec<u8>,
}

impl std::fmt::Debug for RecipeCert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecipeCert")
            .field("cert_bytes", &self.cert.len())
            .finish_non_exhaustive()
    }
}

/// ElectrumX's recipe: a fresh RSA key from `rng`, a random serial (as `openssl x509 -req`
/// picks one), a self-signed v1 certificate valid [`RECIPE_DAYS`] days from `not_before`.
pub(crate) fn recipe_cert(
    rng: &mut impl RngCore,
    subject: &Subject,
    not_before: Date,
) -> RecipeCert {
    let key = RsaKey::generate(rng);
    let mut serial = [0u8; 20];
    rng.fill_bytes(&mut serial);
    serial[0] &= 0x7f; // positive, as openssl's random serials are
    serial[0] |= 0x01; // and never shorter than 20 bytes
    RecipeCert {
        cert: x509v1::self_signed_v1(&key, subject, &serial, not_before, RECIPE_DAYS),
        key: key.pkcs1_der(),
    }
}

/// Always presents one certificate. `with_single_cert` cannot be used for v1 certificates:
/// it checks the key against the certificate by parsing it with webpki, which refuses v1
/// (`UnsupportedCertVersion`); OpenSSL, which ElectrumX uses, serves them without complaint.
#[derive(Debug)]
struct Fixed(Arc<CertifiedKey>);

impl ResolvesServerCert for Fixed {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }
}

fn recipe_config(c: &RecipeCert) -> Result<Arc<ServerConfig>, SimnetError> {
    let key = PrivateKeyDer::Pkcs1(PrivatePkcs1KeyDer::from(c.key.clone()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    // ring validates the RSA key itself (component consistency) when loading it.
    let signing = provider
        .key_provider
        .load_private_key(key)
        .map_err(tls_err)?;
    let certified = CertifiedKey::new(vec![CertificateDer::from(c.cert.clone())], signing);
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(tls_err)?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(Fixed(Arc::new(certified))));
    Ok(Arc::new(config))
}

/// The Electrum Personal Server stand-in certificate: the same in every run and process.
pub(crate) fn eps_standin() -> &'static RecipeCert {
    static EPS: OnceLock<RecipeCert> = OnceLock::new();
    EPS.get_or_init(|| {
        let subject = Subject {
            organization: Some(EPS_STANDIN_ORG.into()),
            common_name: EPS_STANDIN_CN.into(),
        };
        recipe_cert(
            &mut Xoshiro256PlusPlus::seed_from_u64(EPS_STANDIN_SEED),
            &subject,
            EPS_STANDIN_NOT_BEFORE,
        )
    })
}

/// Days before [`SETUP_LATEST`] a server was set up: a hash of its index, independent of every
/// other planned value (the stand-in address uses the low bits, this the high ones).
fn setup_offset_days(index: usize) -> i64 {
    ((crate::standin::mix(index as u64) >> 40) % SETUP_SPREAD_DAYS) as i64
}

/// True for the servers that present ElectrumX's recipe certificate of their own.
fn uses_recipe(server: &ServerPlan) -> bool {
    server.cert == Some(CertGroup::SelfSigned) && server.flavor.is_some_and(Flavor::is_electrumx)
}

impl CertStore {
    /// Makes the shared certificates and the CA-like chain (blocking: RSA key generation).
    pub(crate) fn new() -> Result<CertStore, SimnetError> {
        let fleet = Subject {
            organization: None,
            common_name: "electrum.server".into(),
        };
        let honeypot = recipe_config(&recipe_cert(
            &mut rand::thread_rng(),
            &fleet,
            HONEYPOT_NOT_BEFORE,
        ))?;
        let eps = recipe_config(eps_standin())?;

        let root_key = KeyPair::generate().map_err(tls_err)?;
        let mut root_params = params("Simnet Root X1", Vec::new());
        root_params
            .distinguished_name
            .push(DnType::OrganizationName, "Simnet Trust Services");
        root_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        root_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        root_params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        root_params.not_after = rcgen::date_time_ymd(2035, 1, 1);
        let root = root_params.self_signed(&root_key).map_err(tls_err)?;

        let intermediate_key = KeyPair::generate().map_err(tls_err)?;
        let mut inter_params = params("Simnet R3", Vec::new());
        inter_params
            .distinguished_name
            .push(DnType::OrganizationName, "Simnet Trust Services");
        inter_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        inter_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        inter_params.not_before = rcgen::date_time_ymd(2024, 1, 1);
        inter_params.not_after = rcgen::date_time_ymd(2029, 1, 1);
        let intermediate = inter_params
            .signed_by(&intermediate_key, &root, &root_key)
            .map_err(tls_err)?;
        Ok(CertStore {
            honeypot,
            eps,
            intermediate,
            intermediate_key,
        })
    }

    /// The rustls configuration of `server`'s TLS port (None without one).
    pub(crate) fn config_for(
        &self,
        server: &ServerPlan,
    ) -> Result<Option<Arc<ServerConfig>>, SimnetError> {
        let Some(group) = server.cert.filter(|_| server.tls_port.is_some()) else {
            return Ok(None);
        };
        if uses_recipe(server) {
            let subject = Subject {
                organization: None,
                common_name: server.ip.to_string(),
            };
            let not_before = SETUP_LATEST.plus_days(-setup_offset_days(server.index));
            return recipe_config(&recipe_cert(&mut rand::thread_rng(), &subject, not_before))
                .map(Some);
        }
        self.config_for_group(group, server.ip).map(Some)
    }

    /// The rustls configuration a server at `ip` uses for `group` (v3 for its own certificate).
    fn config_for_group(
        &self,
        group: CertGroup,
        ip: Ipv4Addr,
    ) -> Result<Arc<ServerConfig>, SimnetError> {
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
                let leaf = p
                    .signed_by(&key, &self.intermediate, &self.intermediate_key)
                    .map_err(tls_err)?;
                server_config(
                    vec![leaf.der().clone(), self.intermediate.der().clone()],
                    &key,
                )
            }
        }
    }
}

/// Every server's TLS acceptor (None without a TLS port), indexed like `plan.servers`. Blocking;
/// the certificates are made on every core at once.
pub(crate) fn acceptors(
    certs: &CertStore,
    plan: &Plan,
) -> Result<Vec<Option<TlsAcceptor>>, SimnetError> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(plan.servers.len().max(1));
    let mut out: Vec<Option<TlsAcceptor>> = vec![None; plan.servers.len()];
    // (server position, its configuration) as each worker made them.
    type Made = (usize, Result<Option<Arc<ServerConfig>>, SimnetError>);
    let results: Vec<Vec<Made>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || {
                    plan.servers
                        .iter()
                        .enumerate()
                        .skip(t)
                        .step_by(threads)
                        .map(|(i, s)| (i, certs.config_for(s)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_default())
            .collect()
    });
    let mut made = 0usize;
    for (i, config) in results.into_iter().flatten() {
        if let (Some(slot), Some(config)) = (out.get_mut(i), config?) {
            *slot = Some(TlsAcceptor::from(config));
            made += 1;
        }
    }
    // A worker that panicked returned nothing: never start with TLS ports silently missing.
    let wanted = plan
        .servers
        .iter()
        .filter(|s| s.cert.is_some() && s.tls_port.is_some())
        .count();
    if made != wanted {
        return Err(SimnetError::Tls(format!(
            "made {made} of {wanted} TLS configurations"
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eps_standin_is_fixed_and_loads() {
        let a = eps_standin();
        let b = recipe_cert(
            &mut Xoshiro256PlusPlus::seed_from_u64(EPS_STANDIN_SEED),
            &Subject {
                organization: Some(EPS_STANDIN_ORG.into()),
                common_name: EPS_STANDIN_CN.into(),
            },
            EPS_STANDIN_NOT_BEFORE,
        );
        assert_eq!(a.cert, b.cert, "the stand-in does not change between runs");
        // ring accepts the PKCS#1 key (rustls validates it against the certificate's key).
        recipe_config(a).unwrap();
    }

    #[test]
    fn setup_dates_spread_and_stay_valid() {
        let dates: std::collections::BTreeSet<i64> = (0..200).map(setup_offset_days).collect();
        assert!(dates.len() > 150);
        assert!(dates
            .iter()
            .all(|d| (0..SETUP_SPREAD_DAYS as i64).contains(d)));
        // The oldest certificate still runs past the simulated date (late 2025).
        let oldest_end =
            SETUP_LATEST.plus_days(-(SETUP_SPREAD_DAYS as i64) + i64::from(RECIPE_DAYS));
        assert!(oldest_end.year >= 2026, "{oldest_end:?}");
    }
}
