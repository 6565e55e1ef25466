//! Raw observations: what the scanner saw, per endpoint, per round.
//!
//! Layout on disk (written by `observatory scan --out DIR`):
//!
//! ```text
//! DIR/raw/<run-id>/manifest.json      RunManifest, rewritten at the end of the run
//! DIR/raw/<run-id>/endpoints.jsonl    one EndpointRecord per line, appended as results arrive
//! ```
//!
//! Every string that came from a server (banner, error message, certificate
//! field, peer host name, …) is stored verbatim and must be treated as
//! attacker-controlled by every consumer.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::probes::ProbeResult;
use crate::UnixMillis;

/// Version of the raw record format. Bump on any incompatible change.
pub const RAW_SCHEMA_VERSION: u32 = 1;

/// Name of the records file in a run directory (`raw/<run-id>/`): one [`EndpointRecord`] per
/// line, appended as endpoints finish.
pub const ENDPOINTS_FILE: &str = "endpoints.jsonl";
/// Name of the run manifest ([`RunManifest`]) in a run directory.
pub const MANIFEST_FILE: &str = "manifest.json";

/// How the scanner reached an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Transport {
    /// Plain TCP (`t` in servers.json and peer feature lists).
    #[serde(rename = "t")]
    Tcp,
    /// TLS over TCP (`s` in servers.json and peer feature lists).
    #[serde(rename = "s")]
    Tls,
}

impl Transport {
    /// The one-letter code used by Electrum (`t` or `s`).
    pub fn letter(self) -> char {
        match self {
            Transport::Tcp => 't',
            Transport::Tls => 's',
        }
    }

    /// Parses `t` / `s` (also accepts `tcp`, `ssl`, `tls`).
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "t" | "tcp" => Some(Transport::Tcp),
            "s" | "ssl" | "tls" => Some(Transport::Tls),
            _ => None,
        }
    }
}

/// One (host, port, transport) triple: the unit the scanner connects to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Endpoint {
    /// Host name, IPv4/IPv6 literal (without brackets) or `.onion` name, lower-cased.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Plain TCP or TLS.
    pub transport: Transport,
}

impl Endpoint {
    /// Stable textual key `host:port:t|s` (IPv6 hosts are bracketed: `[::1]:50001:t`).
    pub fn key(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}:{}", self.host, self.port, self.transport.letter())
        } else {
            format!("{}:{}:{}", self.host, self.port, self.transport.letter())
        }
    }

    /// Inverse of [`Endpoint::key`]; also the `--target host:port:t|s` syntax.
    pub fn parse_key(s: &str) -> Option<Self> {
        let (rest, t) = s.rsplit_once(':')?;
        let transport = Transport::from_code(t)?;
        let (host, port) = rest.rsplit_once(':')?;
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        if host.is_empty() {
            return None;
        }
        Some(Endpoint {
            host: host.to_ascii_lowercase(),
            port: port.parse().ok()?,
            transport,
        })
    }

    /// True for Tor v2/v3 hidden-service names.
    pub fn is_onion(&self) -> bool {
        self.host.ends_with(".onion")
    }
}

/// The one small set of outcomes an endpoint (or a probe) can end with.
///
/// Produced by exactly one classification function in the scanner; the
/// kebab-case names are what appears in JSON, CSV and the site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Session completed: `server.version` answered and metadata collected.
    Success,
    /// The host name did not resolve.
    DnsError,
    /// TCP RST on connect.
    ConnectionRefused,
    /// No TCP answer before the connect deadline.
    ConnectionTimeout,
    /// Network or host unreachable (ICMP) or no route.
    Unreachable,
    /// The TLS handshake failed (alert, bad record, closed mid-handshake, no certificate).
    TlsHandshakeError,
    /// Connected, but the server did not answer before a read deadline or the endpoint deadline.
    IoTimeout,
    /// The server sent something that is not Electrum JSON-RPC (bad JSON, bad ids, wrong shapes).
    ProtocolError,
    /// The server answered `server.version` with a JSON-RPC error.
    ApplicationError,
    /// The server closed the connection before the session finished.
    ClosedByPeer,
    /// The server exceeded a hard limit (line length, bytes per endpoint, notifications).
    LimitExceeded,
    /// The address-range policy refused the target before any packet was sent.
    RefusedByPolicy,
    /// Not attempted by design (e.g. `.onion` without `--socks5`, budget exhausted).
    Skipped,
    /// Anything else; the error text says what.
    UnknownError,
}

impl Status {
    /// Every status, in declaration order (for tables and tests).
    pub const ALL: [Status; 14] = [
        Status::Success,
        Status::DnsError,
        Status::ConnectionRefused,
        Status::ConnectionTimeout,
        Status::Unreachable,
        Status::TlsHandshakeError,
        Status::IoTimeout,
        Status::ProtocolError,
        Status::ApplicationError,
        Status::ClosedByPeer,
        Status::LimitExceeded,
        Status::RefusedByPolicy,
        Status::Skipped,
        Status::UnknownError,
    ];

    /// The kebab-case name used in files.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Success => "success",
            Status::DnsError => "dns-error",
            Status::ConnectionRefused => "connection-refused",
            Status::ConnectionTimeout => "connection-timeout",
            Status::Unreachable => "unreachable",
            Status::TlsHandshakeError => "tls-handshake-error",
            Status::IoTimeout => "io-timeout",
            Status::ProtocolError => "protocol-error",
            Status::ApplicationError => "application-error",
            Status::ClosedByPeer => "closed-by-peer",
            Status::LimitExceeded => "limit-exceeded",
            Status::RefusedByPolicy => "refused-by-policy",
            Status::Skipped => "skipped",
            Status::UnknownError => "unknown-error",
        }
    }

    /// True when the server spoke Electrum to us (the endpoint is "reachable").
    pub fn is_reachable(self) -> bool {
        matches!(self, Status::Success | Status::ApplicationError)
    }
}

/// Where the scanner learned about an endpoint.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Provenance {
    /// The embedded seed list (`name` says which file, e.g. `electrum-servers-2026-03-10`).
    Seed { name: String },
    /// A `--servers FILE` given by the user.
    ServersFile { path: String },
    /// A `--target` on the command line.
    CommandLine,
    /// Learned from another endpoint's `server.peers.subscribe` answer.
    Peer { from: String, depth: u32 },
    /// Learned from another endpoint's `server.features` `hosts` map.
    FeaturesHosts { from: String, depth: u32 },
}

/// Connection-level timing. All durations in milliseconds (fractional).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConnTiming {
    /// DNS resolution time, when a name was resolved.
    pub dns_ms: Option<f64>,
    /// TCP connect time (SYN to established), or SOCKS5 connect time for onions.
    pub connect_ms: Option<f64>,
    /// TLS handshake time (ClientHello to finished), TLS endpoints only.
    pub tls_ms: Option<f64>,
    /// Time from first byte sent to the end of the session.
    pub session_ms: Option<f64>,
}

/// A JSON-RPC error object as the server sent it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RpcError {
    /// `error.code`, when it was an integer.
    pub code: Option<i64>,
    /// `error.message` (or the whole `error` value rendered as text when it was not an object).
    pub message: String,
}

/// One answer to one request: when, how long, and either a value or an error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answer<T> {
    /// When the request was sent.
    pub at_ms: UnixMillis,
    /// Round-trip time in milliseconds (send to matching reply).
    pub rtt_ms: f64,
    /// The parsed `result`, when the server sent one and it had the expected shape.
    pub result: Option<T>,
    /// The JSON-RPC error, when the server sent one; or a shape error written by the scanner
    /// (`code: None`, message starting with `unexpected result shape:`).
    pub error: Option<RpcError>,
}

/// Result of `server.version`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerVersion {
    /// Software string, e.g. `ElectrumX 1.16.0`, `Fulcrum 1.9.8`, `electrs/0.10.2`.
    pub software: String,
    /// Negotiated protocol version, e.g. `1.4`.
    pub protocol: String,
}

/// Ports a `server.features` `hosts` entry advertises.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct HostPorts {
    /// `tcp_port`, if advertised.
    pub tcp_port: Option<u16>,
    /// `ssl_port`, if advertised.
    pub ssl_port: Option<u16>,
}

/// The parsed subset of `server.features` (the raw object is kept beside it).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Features {
    /// `genesis_hash` (hex).
    pub genesis_hash: Option<String>,
    /// `hosts`: host name → ports.
    pub hosts: BTreeMap<String, HostPorts>,
    /// `protocol_min`.
    pub protocol_min: Option<String>,
    /// `protocol_max`.
    pub protocol_max: Option<String>,
    /// `pruning` (None = not pruning).
    pub pruning: Option<u64>,
    /// `server_version`.
    pub server_version: Option<String>,
    /// `hash_function`.
    pub hash_function: Option<String>,
    /// Every top-level key, sorted (a behavior fingerprint input).
    pub keys: Vec<String>,
}

/// One entry of `server.peers.subscribe`: `[ip, host, [features…]]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Peer {
    /// First element: the IP address the server knows the peer by (may be a host name for onions).
    pub ip: String,
    /// Second element: the host name.
    pub host: String,
    /// `v1.4.2` → `1.4.2`.
    pub version: Option<String>,
    /// `p10000` → 10000.
    pub pruning: Option<u64>,
    /// `t` / `t50001` (bare `t` means the default port 50001).
    pub tcp_port: Option<u16>,
    /// `s` / `s50002` (bare `s` means the default port 50002).
    pub ssl_port: Option<u16>,
    /// The feature strings exactly as sent.
    pub features: Vec<String>,
}

/// `blockchain.headers.subscribe` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeaderTip {
    /// Tip height.
    pub height: u64,
    /// Block hash of the tip header (double SHA-256 of the 80-byte header, byte-reversed hex).
    pub hash: Option<String>,
    /// The raw header hex as sent.
    pub hex: String,
}

/// Metadata collected in one session. Each item is `None` when not asked
/// (not offered at the negotiated protocol version) or when the session ended first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    /// `server.version` (always the first request on the connection).
    pub version: Option<Answer<ServerVersion>>,
    /// `server.banner`.
    pub banner: Option<Answer<String>>,
    /// `server.donation_address`.
    pub donation_address: Option<Answer<String>>,
    /// `server.features`, parsed.
    pub features: Option<Answer<Features>>,
    /// `server.features` exactly as received.
    pub features_raw: Option<serde_json::Value>,
    /// `server.peers.subscribe`, parsed.
    pub peers: Option<Answer<Vec<Peer>>>,
    /// `server.peers.subscribe` exactly as received (truncated to the scanner's peer cap).
    pub peers_raw: Option<serde_json::Value>,
    /// `blockchain.headers.subscribe`.
    pub headers: Option<Answer<HeaderTip>>,
    /// `mempool.get_fee_histogram`: `[[fee_rate, vsize], …]`.
    pub fee_histogram: Option<Answer<Vec<(f64, u64)>>>,
    /// `blockchain.relayfee` (BTC/kvB).
    pub relay_fee: Option<Answer<f64>>,
    /// `blockchain.estimatefee` for a few targets: `(blocks, BTC/kvB)`.
    pub estimate_fee: Vec<(u32, Answer<f64>)>,
}

/// Log line for one request on the session (every request, including probes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestLog {
    /// JSON-RPC id used.
    pub id: u64,
    /// Method name.
    pub method: String,
    /// Milliseconds after the connection was established when the request was sent.
    pub sent_offset_ms: f64,
    /// Round-trip time, when a reply came.
    pub rtt_ms: Option<f64>,
    /// `result`, `error`, `timeout` or `closed`.
    pub outcome: String,
    /// Size in bytes of the reply line.
    pub reply_bytes: Option<u64>,
}

/// A server-initiated message (no `id`), recorded apart from replies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    /// When it arrived.
    pub at_ms: UnixMillis,
    /// `method` field (e.g. `blockchain.headers.subscribe`).
    pub method: String,
    /// `params`, truncated to a small size by the scanner.
    pub params: serde_json::Value,
}

/// Facts about the byte stream of the session (used by fingerprinting).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WireFacts {
    /// Total bytes received from the endpoint over the whole visit: the main session and the
    /// probes' side connections (the byte cap applies to this total). Records written before
    /// `side_bytes_received` existed counted the main session only.
    pub bytes_received: u64,
    /// Of `bytes_received`, the bytes that arrived on side connections (the `malformed`
    /// probe's). The other counters below describe the main session only.
    #[serde(default)]
    pub side_bytes_received: u64,
    /// Number of newline-terminated lines received.
    pub lines_received: u64,
    /// Lines that carried trailing spaces before the newline (ElectrumX 2.x pads replies).
    pub padded_lines: u64,
    /// Lines ending in `\r\n`.
    pub crlf_lines: u64,
    /// Replies whose `id` matched no outstanding request (ignored).
    pub unmatched_replies: u64,
    /// Whether the replies carried `"jsonrpc": "2.0"`.
    pub jsonrpc_2: Option<bool>,
}

/// What the TLS handshake negotiated and presented.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TlsObservation {
    /// `TLSv1_3`, `TLSv1_2`, …
    pub protocol_version: Option<String>,
    /// Negotiated cipher suite name (IANA name as printed by rustls).
    pub cipher_suite: Option<String>,
    /// SNI sent (None when the host is an IP literal).
    pub sni: Option<String>,
    /// Certificates as presented, leaf first (at most the scanner's `MAX_CHAIN_CERTS`).
    pub chain: Vec<Certificate>,
    /// How many certificates the server presented, including those beyond what `chain`
    /// keeps (None in records written before this field existed).
    #[serde(default)]
    pub chain_presented: Option<u32>,
    /// True when the chain validates against the Mozilla (webpki-roots) root store for the host name.
    pub webpki_valid: bool,
    /// Why webpki validation failed, as text.
    pub webpki_error: Option<String>,
    /// True when the leaf certificate's SAN (or CN without SAN) covers the host we connected to.
    pub name_matches: bool,
    /// True when the scanner's verifier checked the server's handshake signature (TLS 1.3
    /// CertificateVerify, TLS 1.2 ServerKeyExchange) against the leaf certificate's key and it
    /// verified. False when it did not verify (the handshake is then aborted and the endpoint
    /// ends `tls-handshake-error`, chain still recorded) or was never checked.
    pub handshake_signature_valid: bool,
    /// The signature scheme the server's handshake signature claimed (rustls name, e.g.
    /// `ECDSA_NISTP256_SHA256`, `RSA_PSS_SHA256`), valid or not; None when no signature was
    /// seen (or in records written before this field existed).
    #[serde(default)]
    pub handshake_signature_scheme: Option<String>,
}

/// One X.509 certificate, as parsed from the presented DER.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Certificate {
    /// Position in the presented chain (0 = leaf).
    pub position: u32,
    /// Size of the DER encoding in bytes.
    pub der_len: u64,
    /// SHA-256 of the DER, lower-case hex (equals `openssl x509 -fingerprint -sha256` without colons).
    pub sha256: String,
    /// SHA-1 of the DER, lower-case hex.
    pub sha1: String,
    /// SHA-256 of the SubjectPublicKeyInfo DER, lower-case hex (key pinning identity).
    pub spki_sha256: Option<String>,
    /// X.509 version as written on the certificate (1, 2 or 3).
    pub version: Option<u32>,
    /// Serial number, lower-case hex.
    pub serial: Option<String>,
    /// Subject distinguished name (RFC 4514 text).
    pub subject: Option<String>,
    /// Subject common name.
    pub subject_cn: Option<String>,
    /// Issuer distinguished name (RFC 4514 text).
    pub issuer: Option<String>,
    /// Issuer common name.
    pub issuer_cn: Option<String>,
    /// Issuer organization.
    pub issuer_org: Option<String>,
    /// notBefore, RFC 3339.
    pub not_before: Option<String>,
    /// notAfter, RFC 3339.
    pub not_after: Option<String>,
    /// notBefore, Unix seconds.
    pub not_before_unix: Option<i64>,
    /// notAfter, Unix seconds.
    pub not_after_unix: Option<i64>,
    /// SubjectAltName entries as `DNS:name`, `IP:addr`, `URI:…`, `email:…`, capped.
    pub san: Vec<String>,
    /// Number of SAN entries present (before the cap).
    pub san_count: u64,
    /// `RSA`, `EC`, `Ed25519`, `Ed448`, `DSA` or the algorithm OID.
    pub key_type: Option<String>,
    /// Key size in bits (RSA modulus bits, EC field bits).
    pub key_bits: Option<u32>,
    /// Named EC curve, when EC.
    pub ec_curve: Option<String>,
    /// Signature algorithm name (e.g. `sha256WithRSAEncryption`) or OID.
    pub signature_algorithm: Option<String>,
    /// Subject equals issuer and the signature verifies with its own key.
    pub self_signed: bool,
    /// basicConstraints CA flag.
    pub is_ca: bool,
    /// notAfter earlier than the scan time.
    pub expired: bool,
    /// notBefore later than the scan time.
    pub not_yet_valid: bool,
    /// Validity period in days.
    pub validity_days: Option<i64>,
    /// Set when the DER could not be parsed (the hashes above are still filled).
    pub parse_error: Option<String>,
}

/// Everything observed for one endpoint in one round: one line of `endpoints.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndpointRecord {
    /// [`RAW_SCHEMA_VERSION`] at write time.
    pub schema_version: u32,
    /// Run identifier (`YYYYMMDDTHHMMSSZ-<random>`), equal to the directory name.
    pub run_id: String,
    /// Round number within the run (0-based; `--rounds N` makes N rounds).
    pub round: u32,
    /// Where the scanner ran from (hostname label given by `--vantage`, default `local`).
    pub vantage: String,
    /// The endpoint.
    pub endpoint: Endpoint,
    /// How it was learned (every source, deduplicated).
    pub provenance: Vec<Provenance>,
    /// A and AAAA addresses the host name resolved to (or the literal itself).
    pub resolved_ips: Vec<String>,
    /// The address actually connected to (None for onions via SOCKS5 and failures before connect).
    pub ip: Option<String>,
    /// Final status.
    pub status: Status,
    /// Error text for non-success statuses (our words, or the server's, verbatim and truncated).
    pub error: Option<String>,
    /// When the attempt started.
    pub started_ms: UnixMillis,
    /// When the attempt ended.
    pub finished_ms: UnixMillis,
    /// Connection timing.
    pub timing: ConnTiming,
    /// Collected metadata.
    pub metadata: Metadata,
    /// TLS facts (TLS endpoints that got as far as a certificate).
    pub tls: Option<TlsObservation>,
    /// Facts about the byte stream.
    pub wire: WireFacts,
    /// Every request sent on the main session, in order.
    pub requests: Vec<RequestLog>,
    /// Server-initiated notifications (capped).
    pub notifications: Vec<Notification>,
    /// Behavioral probe results (empty with `--no-probes`).
    pub probes: Vec<ProbeResult>,
    /// Implementation inference from metadata and probes.
    pub inference: Option<crate::probes::Inference>,
    /// Stable hash over the normalized behavior (see docs/probes.md), hex.
    pub behavior_hash: Option<String>,
    /// Hosts (onion or clearnet) linked to this endpoint by its `server.features` `hosts`.
    pub linked_hosts: Vec<String>,
}

impl EndpointRecord {
    /// A record for an endpoint that has not been attempted yet.
    pub fn new(
        run_id: &str,
        round: u32,
        vantage: &str,
        endpoint: Endpoint,
        started_ms: UnixMillis,
    ) -> Self {
        EndpointRecord {
            schema_version: RAW_SCHEMA_VERSION,
            run_id: run_id.to_string(),
            round,
            vantage: vantage.to_string(),
            endpoint,
            provenance: Vec::new(),
            resolved_ips: Vec::new(),
            ip: None,
            status: Status::UnknownError,
            error: None,
            started_ms,
            finished_ms: started_ms,
            timing: ConnTiming::default(),
            metadata: Metadata::default(),
            tls: None,
            wire: WireFacts::default(),
            requests: Vec::new(),
            notifications: Vec::new(),
            probes: Vec::new(),
            inference: None,
            behavior_hash: None,
            linked_hosts: Vec::new(),
        }
    }
}

/// `manifest.json` of one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunManifest {
    /// [`RAW_SCHEMA_VERSION`] at write time.
    pub schema_version: u32,
    /// Run identifier (directory name).
    pub run_id: String,
    /// `observatory` version that wrote the run.
    pub software_version: String,
    /// Command line arguments (after the program name).
    pub args: Vec<String>,
    /// Vantage label.
    pub vantage: String,
    /// When the run started.
    pub started_ms: UnixMillis,
    /// When the run ended (None while running or when killed).
    pub finished_ms: Option<UnixMillis>,
    /// Rounds requested.
    pub rounds: u32,
    /// Endpoints scanned per round (after dedupe and discovery).
    pub endpoints: u64,
    /// Records written, by status name.
    pub counts_by_status: BTreeMap<String, u64>,
    /// True when the run finished normally (false when interrupted).
    pub complete: bool,
}
