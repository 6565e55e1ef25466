//! Synthetic raw records for tests and benchmarks, built from the model types.
//!
//! [`Rec`] is a builder over [`EndpointRecord`]; the presets cover what the
//! analysis must handle: ElectrumX / Fulcrum / electrs-like servers, self-signed
//! X.509 v1 and CA-issued certificates, one certificate shared by a fleet of IP-only
//! servers in one ASN, onion endpoints, a failure of every status, probe results
//! (xpub batch, throttling, timing) and inference results. [`network`] builds a
//! deterministic mixed network of any size (the 2,000-server benchmark uses it).
//!
//! Addresses here are data only: nothing in this module opens a socket.

use std::path::Path;

use observatory_model::probes::{
    AddressFormatsDetail, Implementation, Inference, MalformedCase, MalformedDetail, ProbeDetail,
    ProbeResult, RateLimitDetail, TimingDetail, TimingSummary, XpubDetail,
};
use observatory_model::raw::{
    Answer, Certificate, Endpoint, EndpointRecord, Features, HeaderTip, HostPorts, Peer,
    Provenance, RpcError, RunManifest, ServerVersion, Status, TlsObservation, Transport,
    RAW_SCHEMA_VERSION,
};
use rand_xoshiro::rand_core::{RngCore, SeedableRng};
use rand_xoshiro::Xoshiro256Plus;

use crate::error::Result;
use crate::load::{RunData, ENDPOINTS_FILE, MANIFEST_FILE};
use crate::stats;

/// Start time of synthetic runs (2026-11-21T12:00:00Z).
pub const T0_MS: u64 = 1_795_262_400_000;
/// Spacing of rounds.
pub const ROUND_MS: u64 = 3_600_000;
/// Default ElectrumX banner.
pub const ELECTRUMX_BANNER: &str = "You are connected to an ElectrumX 1.16.0 server.";

/// A deterministic sample generator.
#[derive(Debug, Clone)]
pub struct Rng(Xoshiro256Plus);

impl Rng {
    /// Seeded generator.
    pub fn new(seed: u64) -> Self {
        Rng(Xoshiro256Plus::seed_from_u64(seed))
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Uniform integer in [0, n).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.0.next_u64() % n
        }
    }
}

/// Summary of samples, as the scanner's probes write it.
pub fn summary(samples: &[f64]) -> TimingSummary {
    let v = stats::sorted_finite(samples);
    let median = stats::median(&v).unwrap_or(0.0);
    let dev: Vec<f64> = v.iter().map(|x| (x - median).abs()).collect();
    TimingSummary {
        n: v.len() as u32,
        min_ms: v.first().copied().unwrap_or(0.0),
        median_ms: median,
        mad_ms: stats::median(&dev).unwrap_or(0.0),
        p95_ms: stats::percentile(&v, 95.0).unwrap_or(0.0),
        max_ms: v.last().copied().unwrap_or(0.0),
        mean_ms: stats::mean(&v).unwrap_or(0.0),
        stdev_ms: stats::stdev(&v).unwrap_or(0.0),
        cv: stats::cv(&v).unwrap_or(0.0),
    }
}

/// `n` samples around `median` with relative spread `spread` (deterministic).
pub fn samples(rng: &mut Rng, n: usize, median: f64, spread: f64) -> Vec<f64> {
    (0..n)
        .map(|_| median * (1.0 + spread * (rng.unit() - 0.5) * 2.0))
        .collect()
}

fn answer<T>(at: u64, rtt: f64, v: T) -> Option<Answer<T>> {
    Some(Answer {
        at_ms: at,
        rtt_ms: rtt,
        result: Some(v),
        error: None,
    })
}

/// A self-signed X.509 v1 certificate as ElectrumX's documented `openssl` recipe makes.
pub fn self_signed_v1(cn: &str, not_before_unix: i64) -> Certificate {
    let sha = hex_of(&format!("cert:{cn}:{not_before_unix}"));
    Certificate {
        position: 0,
        der_len: 780,
        sha256: sha.clone(),
        sha1: sha.chars().take(40).collect(),
        spki_sha256: Some(hex_of(&format!("spki:{cn}"))),
        version: Some(1),
        serial: Some("00c0ffee".into()),
        subject: Some(format!("CN={cn}")),
        subject_cn: Some(cn.into()),
        issuer: Some(format!("CN={cn}")),
        issuer_cn: Some(cn.into()),
        issuer_org: None,
        not_before: None,
        not_after: None,
        not_before_unix: Some(not_before_unix),
        not_after_unix: Some(not_before_unix + 3650 * 86_400),
        san: vec![],
        san_count: 0,
        key_type: Some("RSA".into()),
        key_bits: Some(2048),
        ec_curve: None,
        signature_algorithm: Some("sha256WithRSAEncryption".into()),
        self_signed: true,
        is_ca: false,
        expired: false,
        not_yet_valid: false,
        validity_days: Some(3650),
        parse_error: None,
    }
}

/// A Let's Encrypt-issued leaf for `host`.
pub fn ca_issued(host: &str, not_before_unix: i64) -> Certificate {
    let mut c = self_signed_v1(host, not_before_unix);
    c.version = Some(3);
    c.issuer = Some("C=US, O=Let's Encrypt, CN=R11".into());
    c.issuer_cn = Some("R11".into());
    c.issuer_org = Some("Let's Encrypt".into());
    c.san = vec![format!("DNS:{host}")];
    c.san_count = 1;
    c.self_signed = false;
    c.validity_days = Some(90);
    c.not_after_unix = Some(not_before_unix + 90 * 86_400);
    c
}

fn hex_of(s: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// Builder over an [`EndpointRecord`].
#[derive(Debug, Clone)]
pub struct Rec(pub EndpointRecord);

impl Rec {
    /// A successful record skeleton (status `success`, no metadata yet).
    pub fn new(run: &str, round: u32, host: &str, port: u16, transport: Transport) -> Self {
        let start = T0_MS + u64::from(round) * ROUND_MS;
        let mut r = EndpointRecord::new(
            run,
            round,
            "local",
            Endpoint {
                host: host.to_ascii_lowercase(),
                port,
                transport,
            },
            start,
        );
        r.status = Status::Success;
        r.finished_ms = start + 900;
        r.provenance = vec![Provenance::Seed {
            name: "synthetic".into(),
        }];
        r.timing.connect_ms = Some(20.0);
        Rec(r)
    }
    /// Connected address.
    pub fn ip(mut self, ip: &str) -> Self {
        self.0.ip = Some(ip.into());
        self.0.resolved_ips = vec![ip.into()];
        self
    }
    /// Final status and error text.
    pub fn status(mut self, s: Status, error: Option<&str>) -> Self {
        self.0.status = s;
        self.0.error = error.map(String::from);
        self
    }
    /// `server.version` answer.
    pub fn version(mut self, software: &str, protocol: &str, rtt: f64) -> Self {
        self.0.metadata.version = answer(
            self.0.started_ms,
            rtt,
            ServerVersion {
                software: software.into(),
                protocol: protocol.into(),
            },
        );
        self
    }
    /// Banner.
    pub fn banner(mut self, b: &str) -> Self {
        self.0.metadata.banner = answer(self.0.started_ms, 20.0, b.to_string());
        self
    }
    /// `server.features` with hosts.
    pub fn features(
        mut self,
        hosts: &[&str],
        pmin: &str,
        pmax: &str,
        pruning: Option<u64>,
    ) -> Self {
        let mut f = Features {
            genesis_hash: Some(
                "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f".into(),
            ),
            protocol_min: Some(pmin.into()),
            protocol_max: Some(pmax.into()),
            pruning,
            server_version: None,
            hash_function: Some("sha256".into()),
            keys: vec![
                "genesis_hash".into(),
                "hash_function".into(),
                "hosts".into(),
                "protocol_max".into(),
                "protocol_min".into(),
                "pruning".into(),
                "server_version".into(),
            ],
            hosts: Default::default(),
        };
        for h in hosts {
            f.hosts.insert(
                (*h).into(),
                HostPorts {
                    tcp_port: Some(50001),
                    ssl_port: Some(50002),
                },
            );
        }
        self.0.metadata.features = answer(self.0.started_ms, 20.0, f);
        self
    }
    /// Tip height.
    pub fn tip(mut self, height: u64) -> Self {
        self.0.metadata.headers = answer(
            self.0.started_ms,
            20.0,
            HeaderTip {
                height,
                hash: None,
                hex: "00".repeat(80),
            },
        );
        self
    }
    /// `n` advertised peers (loopback names: data only).
    pub fn peers(mut self, n: usize) -> Self {
        let peers = (0..n)
            .map(|i| Peer {
                ip: format!("127.0.0.{}", i % 250 + 1),
                host: format!("peer{i}.example"),
                ..Default::default()
            })
            .collect();
        self.0.metadata.peers = answer(self.0.started_ms, 20.0, peers);
        self
    }
    /// TLS observation with a leaf.
    pub fn cert(mut self, leaf: Certificate, webpki_valid: bool) -> Self {
        self.0.timing.tls_ms = Some(45.0);
        self.0.tls = Some(TlsObservation {
            protocol_version: Some("TLSv1_3".into()),
            cipher_suite: Some("TLS13_AES_256_GCM_SHA384".into()),
            sni: None,
            chain: vec![leaf],
            chain_presented: Some(1),
            webpki_valid,
            webpki_error: (!webpki_valid).then(|| "UnknownIssuer".into()),
            name_matches: webpki_valid,
            handshake_signature_valid: true,
            handshake_signature_scheme: Some("RSA_PSS_SHA256".into()),
        });
        self
    }
    fn probe(mut self, name: &str, detail: ProbeDetail) -> Self {
        self.0.probes.push(ProbeResult {
            name: name.into(),
            status: Status::Success,
            error: None,
            started_ms: self.0.started_ms,
            duration_ms: 500.0,
            requests_sent: 20,
            detail,
            cut_by_time_cap: false,
            samples_planned: 20,
            samples_taken: 20,
        });
        self
    }
    /// Timing probe with ping samples.
    pub fn timing(self, ping: Vec<f64>) -> Self {
        let headers = ping.iter().map(|x| x * 1.05).collect::<Vec<_>>();
        self.probe(
            "timing",
            ProbeDetail::Timing(TimingDetail {
                ping: summary(&ping),
                headers: summary(&headers),
                ping_samples: ping,
            }),
        )
    }
    /// xpub probe.
    pub fn xpub(
        self,
        batch_accepted: bool,
        sequential: Vec<f64>,
        slope: f64,
        errors: Vec<RpcError>,
    ) -> Self {
        let n = sequential.len() as u32;
        self.probe(
            "xpub",
            ProbeDetail::Xpub(XpubDetail {
                xpub_source: "BIP-32 test vector 1".into(),
                script_types: vec!["p2wpkh".into()],
                addresses_per_type: n,
                scripthashes: n,
                batch_accepted: Some(batch_accepted),
                batch_error: None,
                batch_size: 40,
                batch_total_ms: Some(80.0),
                batch_per_item_ms: Some(2.0),
                sequential: summary(&sequential),
                batch_speedup: Some(10.0),
                sequential_slope_ms: Some(slope),
                errors,
            }),
        )
    }
    /// Rate-limit probe.
    pub fn rate(self, throttling: bool, errors: Vec<RpcError>) -> Self {
        self.probe(
            "rate-limit",
            ProbeDetail::RateLimit(RateLimitDetail {
                burst_size: 20,
                burst: summary(&[20.0, 21.0, 22.0]),
                paced_size: 5,
                paced_interval_ms: 200,
                paced: summary(&[20.0, 20.5]),
                burst_slope_ms: Some(if throttling { 5.0 } else { 0.1 }),
                burst_wall_ms: None,
                throttle_errors: errors,
                disconnected_after: None,
                throttling_observed: throttling,
            }),
        )
    }
    /// Malformed probe with standard outcomes (error codes as ElectrumX sends).
    pub fn malformed(self, disconnect_on_invalid_json: bool) -> Self {
        let case = |c: &str, outcome: &str, code: Option<i64>, disconnected: bool| MalformedCase {
            case: c.into(),
            sent: "{}".into(),
            outcome: outcome.into(),
            code,
            message: None,
            result_shape: None,
            disconnected,
            rtt_ms: Some(20.0),
            message_has_markup_or_url: false,
            reply_form: None,
            notifications_before_reply: Vec::new(),
        };
        self.probe(
            "malformed",
            ProbeDetail::Malformed(MalformedDetail {
                cases: vec![
                    case("wrong-param-count", "error", Some(-32602), false),
                    case("unknown-method", "error", Some(-32601), false),
                    case(
                        "invalid-json",
                        if disconnect_on_invalid_json {
                            "disconnect"
                        } else {
                            "error"
                        },
                        None,
                        disconnect_on_invalid_json,
                    ),
                ],
            }),
        )
    }
    /// Address-format probe.
    pub fn address_formats(self, legacy_answered: bool) -> Self {
        self.probe(
            "address-formats",
            ProbeDetail::AddressFormats(AddressFormatsDetail {
                formats: vec![],
                legacy_address: vec![],
                legacy_address_answered: legacy_answered,
            }),
        )
    }
    /// Inference result.
    pub fn inference(
        mut self,
        imp: Implementation,
        version: &str,
        claimed: Implementation,
        mismatch: bool,
    ) -> Self {
        self.0.inference = Some(Inference {
            implementation: imp,
            version: Some(version.into()),
            confidence: 0.9,
            evidence: vec![format!("version string: {}", imp.label())],
            claimed: Some(claimed),
            claimed_version: Some(version.into()),
            mismatch,
            mismatch_reasons: if mismatch {
                vec![format!(
                    "claims {} but error codes match {}",
                    claimed.label(),
                    imp.label()
                )]
            } else {
                vec![]
            },
            behavior_description: vec![],
        });
        self
    }
    /// Behavior hash.
    pub fn behavior(mut self, h: &str) -> Self {
        self.0.behavior_hash = Some(h.into());
        self
    }
    /// The record.
    pub fn build(self) -> EndpointRecord {
        self.0
    }
}

/// An honest default ElectrumX: self-signed v1 certificate, default banner, normal jittery
/// timing, batch accepted, no throttling on a small burst. Must score `low`.
pub fn honest_electrumx(
    run: &str,
    round: u32,
    host: &str,
    ip: &str,
    transport: Transport,
    rng: &mut Rng,
) -> EndpointRecord {
    let port = if transport == Transport::Tls {
        50002
    } else {
        50001
    };
    let rtt = 30.0 + 60.0 * rng.unit();
    let mut r = Rec::new(run, round, host, port, transport)
        .ip(ip)
        .version("ElectrumX 1.16.0", "1.4", rtt)
        .banner(ELECTRUMX_BANNER)
        .features(&[host], "1.4", "1.4.3", None)
        .tip(870_000)
        .peers(12)
        .timing(samples(rng, 20, rtt, 0.3))
        .xpub(true, samples(rng, 20, rtt * 1.3, 0.3), 0.05, vec![])
        .rate(false, vec![])
        .malformed(false)
        .address_formats(false)
        .inference(
            Implementation::Electrumx,
            "1.16.0",
            Implementation::Electrumx,
            false,
        )
        .behavior("exb16");
    if transport == Transport::Tls {
        r = r.cert(self_signed_v1(host, 1_700_000_000), false);
    }
    r.build()
}

/// A Fulcrum server with a CA-issued certificate.
pub fn fulcrum(run: &str, round: u32, host: &str, ip: &str, rng: &mut Rng) -> EndpointRecord {
    let rtt = 20.0 + 80.0 * rng.unit();
    Rec::new(run, round, host, 50002, Transport::Tls)
        .ip(ip)
        .version("Fulcrum 1.11.1", "1.4", rtt)
        .banner(&format!("Welcome to {host}"))
        .features(&[host], "1.4", "1.5", None)
        .tip(870_000)
        .peers(30)
        .cert(ca_issued(host, 1_790_000_000), true)
        .timing(samples(rng, 20, rtt, 0.25))
        .xpub(true, samples(rng, 20, rtt * 1.2, 0.25), 0.02, vec![])
        .rate(false, vec![])
        .malformed(true)
        .address_formats(false)
        .inference(
            Implementation::Fulcrum,
            "1.11.1",
            Implementation::Fulcrum,
            false,
        )
        .behavior("fulc111")
        .build()
}

/// An electrs server on plain TCP (no batch support, as electrs 0.10 answers batches).
pub fn electrs(run: &str, round: u32, host: &str, ip: &str, rng: &mut Rng) -> EndpointRecord {
    let rtt = 40.0 + 40.0 * rng.unit();
    Rec::new(run, round, host, 50001, Transport::Tcp)
        .ip(ip)
        .version("electrs/0.10.6", "1.4", rtt)
        .banner("Welcome to electrs 0.10.6 (Electrum Rust Server)!")
        .features(&[], "1.4", "1.4", None)
        .tip(869_999)
        .timing(samples(rng, 20, rtt, 0.3))
        .xpub(false, samples(rng, 20, rtt, 0.3), 0.0, vec![])
        .rate(false, vec![])
        .malformed(true)
        .address_formats(false)
        .inference(
            Implementation::Electrs,
            "0.10.6",
            Implementation::Electrs,
            false,
        )
        .behavior("electrs0106")
        .build()
}

/// One failed record per non-success status.
pub fn failures(run: &str, round: u32) -> Vec<EndpointRecord> {
    Status::ALL
        .iter()
        .filter(|s| **s != Status::Success)
        .enumerate()
        .map(|(i, s)| {
            let host = format!("fail-{}.example", s.as_str());
            let mut r = Rec::new(run, round, &host, 50002, Transport::Tls)
                .status(*s, Some(&format!("synthetic {}", s.as_str())));
            if *s != Status::DnsError {
                r = r.ip(&format!("203.0.113.{}", i + 1));
            }
            if *s == Status::ApplicationError {
                r = r.version("ElectrumX 1.16.0", "1.4", 25.0);
            }
            r.build()
        })
        .collect()
}

/// Real-world-like hosting prefixes for synthetic servers (data only): `(first two octets)`.
const PREFIXES: &[(u8, u8)] = &[
    (5, 9),
    (95, 216),
    (51, 38),
    (138, 68),
    (45, 76),
    (34, 90),
    (3, 120),
    (81, 169),
    (185, 107),
    (62, 210),
    (176, 9),
    (91, 121),
];
/// Share of synthetic servers in [`PREFIXES`] (the popular hosting networks); the rest spread
/// over the whole public IPv4 space, so the /16 dimension has as many buckets as a real
/// network of that size (tens of thousands at 100,000 servers, not twelve).
const HOSTING_SHARE: u64 = 40;

/// First octets that are not reserved, private, loopback, CGNAT-heavy or multicast.
fn public_first_octet(x: u64) -> u8 {
    const SKIP: &[u8] = &[0, 10, 100, 127, 169, 172, 192, 198, 203];
    let usable: Vec<u8> = (1..=223u8).filter(|o| !SKIP.contains(o)).collect();
    usable[(x % usable.len() as u64) as usize]
}

/// A synthetic server's address: in a hosting prefix ([`HOSTING_SHARE`]%) or anywhere public.
fn synthetic_ip(srng: &mut Rng) -> String {
    let (a, b) = if srng.below(100) < HOSTING_SHARE {
        PREFIXES[(srng.below(PREFIXES.len() as u64)) as usize]
    } else {
        (
            public_first_octet(srng.below(1 << 16)),
            srng.below(256) as u8,
        )
    };
    format!("{a}.{b}.{}.{}", srng.below(250) + 1, srng.below(250) + 1)
}

/// A deterministic mixed network of `servers` servers over `rounds` rounds in one run.
/// About 55% honest ElectrumX, 20% Fulcrum, 10% electrs, 5% onion, 3% failures, a fleet
/// of 12 identical IP-only servers sharing one certificate in one /16, and a few modified
/// implementations and logging-like timers. 40% of the addresses are in a dozen popular
/// hosting /16s, the rest anywhere in the public IPv4 space.
pub fn network(run: &str, servers: usize, rounds: u32, seed: u64) -> RunData {
    let mut rng = Rng::new(seed);
    let mut records = Vec::new();
    let fleet = servers.min(12);
    for i in 0..servers {
        // Each server's fixed traits come from its own stream so rounds stay consistent.
        let mut srng = Rng::new(seed ^ (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let kind = srng.below(100);
        let ip = synthetic_ip(&mut srng);
        let host = format!("electrum{i}.node{}.example", srng.below(1000));
        let reach_p = 0.7 + 0.3 * srng.unit();
        for round in 0..rounds {
            let up = round == 0 && i % 7 != 0 || rng.unit() < reach_p;
            let mut recs: Vec<EndpointRecord> = if i < fleet {
                // The fleet: IP-only, one ASN (5.9/16), identical everything, one cert, always up.
                let fip = format!("5.9.{}.{}", 100 + i / 200, i % 200 + 1);
                let mut r = honest_electrumx(run, round, &fip, &fip, Transport::Tls, &mut rng);
                if let Some(t) = r.tls.as_mut() {
                    if let Some(c) = t.chain.first_mut() {
                        *c = self_signed_v1("electrum-fleet", 1_790_000_000);
                    }
                }
                r.behavior_hash = Some("fleet-hash".into());
                vec![r]
            } else if !up {
                vec![Rec::new(run, round, &host, 50002, Transport::Tls)
                    .ip(&ip)
                    .status(Status::ConnectionTimeout, Some("connect timed out"))
                    .build()]
            } else if kind < 55 {
                vec![
                    honest_electrumx(run, round, &host, &ip, Transport::Tls, &mut rng),
                    honest_electrumx(run, round, &host, &ip, Transport::Tcp, &mut rng),
                ]
            } else if kind < 75 {
                vec![fulcrum(run, round, &host, &ip, &mut rng)]
            } else if kind < 85 {
                vec![electrs(run, round, &host, &ip, &mut rng)]
            } else if kind < 90 {
                let onion = format!("{}x{i}.onion", "a".repeat(40));
                let mut r = honest_electrumx(run, round, &onion, "", Transport::Tcp, &mut rng);
                r.ip = None;
                r.resolved_ips.clear();
                vec![r]
            } else if kind < 93 {
                let mut f = failures(run, round);
                let idx = (i % f.len().max(1)).min(f.len().saturating_sub(1));
                let mut r = f.swap_remove(idx);
                r.endpoint.host = host.clone();
                vec![r]
            } else if kind < 96 {
                // Modified implementation: claims ElectrumX, behaves like something else.
                let mut r = honest_electrumx(run, round, &host, &ip, Transport::Tls, &mut rng);
                r.inference = Rec(r.clone())
                    .inference(
                        Implementation::Unknown,
                        "1.16.0",
                        Implementation::Electrumx,
                        true,
                    )
                    .build()
                    .inference;
                vec![r]
            } else {
                // Logging-like timing: history far slower than ping, rising.
                let r = honest_electrumx(run, round, &host, &ip, Transport::Tls, &mut rng);
                let mut probes = r.probes.clone();
                for p in &mut probes {
                    if let ProbeDetail::Xpub(x) = &mut p.detail {
                        let seq = samples(&mut rng, 20, 900.0, 0.2);
                        x.sequential = summary(&seq);
                        x.sequential_slope_ms = Some(8.0);
                    }
                }
                let mut r = r;
                r.probes = probes;
                vec![r]
            };
            records.append(&mut recs);
        }
    }
    let manifest = RunManifest {
        schema_version: RAW_SCHEMA_VERSION,
        run_id: run.into(),
        software_version: "synthetic".into(),
        args: vec![],
        vantage: "local".into(),
        started_ms: T0_MS,
        finished_ms: Some(T0_MS + u64::from(rounds) * ROUND_MS),
        rounds,
        endpoints: records.len() as u64,
        counts_by_status: Default::default(),
        complete: true,
    };
    RunData {
        run_id: run.into(),
        manifest: Some(manifest),
        records,
    }
}

/// Writes a run as the scanner would: `DIR/raw/<run>/endpoints.jsonl` + `manifest.json`.
pub fn write_run(data_dir: &Path, run: &RunData) -> Result<()> {
    let dir = data_dir.join("raw").join(&run.run_id);
    let mut lines = Vec::new();
    for r in &run.records {
        let mut l = serde_json::to_vec(r).map_err(|source| crate::Error::Json {
            what: "record",
            source,
        })?;
        l.push(b'\n');
        lines.extend_from_slice(&l);
    }
    crate::atomic::write_atomic(&dir.join(ENDPOINTS_FILE), &lines)?;
    if let Some(m) = &run.manifest {
        crate::atomic::write_json(&dir.join(MANIFEST_FILE), "manifest", m)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_spread_over_many_public_16s() {
        let run = network("r", 2000, 1, 7);
        let prefixes: std::collections::BTreeSet<String> = run
            .records
            .iter()
            .filter_map(|r| crate::metrics::ipv4_16(r.ip.as_deref()?))
            .collect();
        assert!(prefixes.len() > 700, "{} distinct /16s", prefixes.len());
        for p in &prefixes {
            let ip: std::net::Ipv4Addr = p.trim_end_matches("/16").parse().unwrap();
            assert!(
                !ip.is_private() && !ip.is_loopback() && !ip.is_multicast() && ip.octets()[0] != 0,
                "{p}"
            );
        }
    }
}
