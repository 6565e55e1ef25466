//! Behavioral probe results and implementation inference (raw records).
//!
//! Each probe is one module in the scanner implementing one trait; it ends
//! with one [`ProbeResult`] carrying a [`ProbeStatus`] and a typed
//! [`ProbeDetail`]. Timing values are facts, never conclusions: analysis
//! decides what they mean.

use serde::{Deserialize, Serialize};

use crate::raw::{RpcError, Status};
use crate::UnixMillis;

/// Outcome of one probe (the same status names as endpoints, so one function classifies both).
pub type ProbeStatus = Status;

/// One probe's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeResult {
    /// Probe name (module name): `address-formats`, `malformed`, `xpub`, `rate-limit`, `timing`.
    pub name: String,
    /// How the probe ended.
    pub status: ProbeStatus,
    /// Error text when status is not success.
    pub error: Option<String>,
    /// When it started.
    pub started_ms: UnixMillis,
    /// How long it ran, milliseconds.
    pub duration_ms: f64,
    /// Requests it sent (counts against the per-endpoint budget).
    pub requests_sent: u32,
    /// What it measured.
    pub detail: ProbeDetail,
    /// True when the probe's time cap (or the probe set's time budget) stopped it before it
    /// took every planned sample: its statistics then rest on `samples_taken`, not on
    /// `samples_planned` (false in records written before this field existed).
    #[serde(default)]
    pub cut_by_time_cap: bool,
    /// Samples the probe plans at its level. A sample is one scripthash query
    /// (`address-formats`), one RTT request (`timing`), one ping (`rate-limit`), one
    /// `get_history` query, sequential or batch item (`xpub`), one case (`malformed`).
    /// 0 in records written before this field existed.
    #[serde(default)]
    pub samples_planned: u32,
    /// Samples actually sent (answered or not); below `samples_planned` when the probe was cut
    /// short by its time cap, the connection closing or the request budget.
    #[serde(default)]
    pub samples_taken: u32,
}

/// Typed detail of each probe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "probe", rename_all = "kebab-case")]
pub enum ProbeDetail {
    /// Standard scripthash queries per address format plus the legacy `blockchain.address.*` check.
    AddressFormats(AddressFormatsDetail),
    /// Malformed and non-standard requests.
    Malformed(MalformedDetail),
    /// Many addresses derived from a test-vector xpub, batched and one by one.
    Xpub(XpubDetail),
    /// Burst and paced runs of cheap requests.
    RateLimit(RateLimitDetail),
    /// Repeated `server.ping` / `blockchain.headers.subscribe` RTT samples.
    Timing(TimingDetail),
    /// The probe did not get far enough to produce detail.
    None,
}

/// One request/answer pair observed by a probe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallObservation {
    /// Method sent.
    pub method: String,
    /// Round-trip time when answered.
    pub rtt_ms: Option<f64>,
    /// Error object when the server answered with one.
    pub error: Option<RpcError>,
    /// Shape of the result: e.g. `object{confirmed,unconfirmed}`, `array[0]`, `array[3]{height,tx_hash}`, `null`.
    pub result_shape: Option<String>,
    /// `answered`, `error`, `timeout`, `closed`.
    pub outcome: String,
}

/// Scripthash queries for one address format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormatQueries {
    /// `p2pkh`, `p2wpkh`, `p2wsh`, `p2tr`.
    pub format: String,
    /// The test-vector address used (public test vector, never a user's).
    pub address: String,
    /// Where the address comes from (e.g. `BIP-173 test vector`).
    pub source: String,
    /// Electrum scripthash (sha256 of scriptPubKey, byte-reversed hex).
    pub scripthash: String,
    /// `get_balance`, `get_history`, `listunspent`, `get_mempool` in that order.
    pub calls: Vec<CallObservation>,
}

/// Detail of the `address-formats` probe.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AddressFormatsDetail {
    /// One entry per address format.
    pub formats: Vec<FormatQueries>,
    /// The legacy `blockchain.address.get_balance` / `get_history` calls (removed in protocol 1.3):
    /// a fingerprint, not a capability test.
    pub legacy_address: Vec<CallObservation>,
    /// True when the server answered a legacy `blockchain.address.*` call with a result.
    pub legacy_address_answered: bool,
}

/// One malformed / non-standard case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MalformedCase {
    /// Case name: `wrong-param-count`, `scripthash-wrong-length`, `scripthash-non-hex`, `unknown-method`,
    /// `invalid-json`, `before-version`, `unsupported-protocol`, `jsonrpc-1.0`, `empty-batch`,
    /// `small-batch`, `broadcast-invalid-tx`.
    pub case: String,
    /// What was sent (exact bytes, without the newline; only our own fixed strings).
    pub sent: String,
    /// `error`, `result`, `silence`, `disconnect`, `not-json`; also `not-rpc` (JSON but not a reply),
    /// `no-connection` (the extra connection could not be opened), `over-budget` (not sent),
    /// `not-run` (the probe's time cap was reached first).
    pub outcome: String,
    /// Error code, when there was an error object.
    pub code: Option<i64>,
    /// Error message verbatim (truncated to a cap): attacker-controlled.
    pub message: Option<String>,
    /// Shape of a non-error answer.
    pub result_shape: Option<String>,
    /// Whether the server closed the connection after this case.
    pub disconnected: bool,
    /// Time to the answer (or to the close).
    pub rtt_ms: Option<f64>,
    /// True when the message contains HTML tags or URLs (a known phishing marker).
    pub message_has_markup_or_url: bool,
    /// Encoder fingerprint of the raw reply: top-level key order and separator style, e.g.
    /// `jsonrpc,result,id;compact`; a batch answer is `batch:` + the form of its first element.
    #[serde(default)]
    pub reply_form: Option<String>,
    /// Methods of notifications the server pushed before answering this case (e.g. ElectrumX 2.x
    /// sends `blockchain.relayfee` to a client that skipped `server.version`), capped.
    #[serde(default)]
    pub notifications_before_reply: Vec<String>,
}

/// Detail of the `malformed` probe.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MalformedDetail {
    /// Every case, in the order sent.
    pub cases: Vec<MalformedCase>,
}

/// Distribution summary of a set of millisecond samples.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TimingSummary {
    /// Number of samples.
    pub n: u32,
    /// Minimum.
    pub min_ms: f64,
    /// Median.
    pub median_ms: f64,
    /// Median absolute deviation (unscaled).
    pub mad_ms: f64,
    /// 95th percentile (nearest rank).
    pub p95_ms: f64,
    /// Maximum.
    pub max_ms: f64,
    /// Mean.
    pub mean_ms: f64,
    /// Sample standard deviation.
    pub stdev_ms: f64,
    /// Coefficient of variation (stdev / mean; 0 when mean is 0).
    pub cv: f64,
}

/// Detail of the `xpub` probe.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct XpubDetail {
    /// Which test vector the xpub comes from.
    pub xpub_source: String,
    /// Script types derived (`p2pkh`, `p2wpkh`, `p2sh-p2wpkh`, `p2tr`).
    pub script_types: Vec<String>,
    /// Receive + change addresses derived per script type.
    pub addresses_per_type: u32,
    /// Total scripthashes queried.
    pub scripthashes: u32,
    /// Whether the server accepted a JSON-RPC batch of `get_history` calls.
    pub batch_accepted: Option<bool>,
    /// Error returned for the batch, if any.
    pub batch_error: Option<RpcError>,
    /// Size of the batch sent.
    pub batch_size: u32,
    /// Wall time of the whole batch, milliseconds.
    pub batch_total_ms: Option<f64>,
    /// Per-item latency inside the batch (total / n).
    pub batch_per_item_ms: Option<f64>,
    /// One-by-one `get_history` RTTs.
    pub sequential: TimingSummary,
    /// Ratio of sequential median to batch per-item latency.
    pub batch_speedup: Option<f64>,
    /// Slope of RTT against query index (ms per query) in the sequential run: rising latency.
    pub sequential_slope_ms: Option<f64>,
    /// Errors seen (first few).
    pub errors: Vec<RpcError>,
}

/// Detail of the `rate-limit` probe.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RateLimitDetail {
    /// Requests sent in the burst (all written before any answer is read).
    pub burst_size: u32,
    /// RTTs of the burst.
    pub burst: TimingSummary,
    /// Requests sent with a pause between them.
    pub paced_size: u32,
    /// Pause between paced requests, milliseconds.
    pub paced_interval_ms: u32,
    /// RTTs of the paced run.
    pub paced: TimingSummary,
    /// Slope of burst RTT against index (ms per request). The burst is pipelined, so RTTs
    /// rise with the index by queueing alone: a fact, not a throttling signal by itself.
    pub burst_slope_ms: Option<f64>,
    /// Wall time from sending the burst to its last answer, ms (None in records written before
    /// the burst was pipelined, or when nothing was answered).
    #[serde(default)]
    pub burst_wall_ms: Option<f64>,
    /// Error codes seen that signal throttling (-101, -102, 3, 4 or messages mentioning limits).
    pub throttle_errors: Vec<RpcError>,
    /// Index of the request after which the server disconnected, if it did.
    pub disconnected_after: Option<u32>,
    /// Our summary fact: any of throttle errors, a disconnect, or a burst spread out in time
    /// (wall time per burst request above max(20 ms, twice the paced median)).
    pub throttling_observed: bool,
}

/// Detail of the `timing` probe.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TimingDetail {
    /// `server.ping` RTTs.
    pub ping: TimingSummary,
    /// `blockchain.headers.subscribe` RTTs.
    pub headers: TimingSummary,
    /// Raw ping samples, milliseconds.
    pub ping_samples: Vec<f64>,
}

/// Known Electrum server implementations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Implementation {
    /// spesmilo/electrumx (or kyuupichan/electrumx).
    Electrumx,
    /// cculianu/Fulcrum.
    Fulcrum,
    /// romanz/electrs.
    Electrs,
    /// Blockstream/electrs (esplora).
    EsploraElectrs,
    /// mempool/electrs.
    MempoolElectrs,
    /// chris-belcher/electrum-personal-server.
    ElectrumPersonalServer,
    /// Nothing matched.
    Unknown,
}

impl Implementation {
    /// Display name.
    pub fn label(self) -> &'static str {
        match self {
            Implementation::Electrumx => "ElectrumX",
            Implementation::Fulcrum => "Fulcrum",
            Implementation::Electrs => "electrs",
            Implementation::EsploraElectrs => "esplora-electrs",
            Implementation::MempoolElectrs => "mempool-electrs",
            Implementation::ElectrumPersonalServer => "Electrum Personal Server",
            Implementation::Unknown => "unknown",
        }
    }
}

/// Implementation inferred from metadata and behavior.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inference {
    /// Best guess.
    pub implementation: Implementation,
    /// Version, when it could be told.
    pub version: Option<String>,
    /// Confidence in [0, 1].
    pub confidence: f64,
    /// Evidence lines, each `rule: observed value`.
    pub evidence: Vec<String>,
    /// What the version string claims, if it names an implementation.
    pub claimed: Option<Implementation>,
    /// Version the software string claims.
    pub claimed_version: Option<String>,
    /// True when claimed and behavioral implementation disagree (the "modified implementation" signal).
    pub mismatch: bool,
    /// Why it is a mismatch.
    pub mismatch_reasons: Vec<String>,
    /// The normalized behavior description the behavior hash is computed over, one `key=value`
    /// line each, sorted (see docs/probes.md): lets analysis explain why endpoints share a hash.
    #[serde(default)]
    pub behavior_description: Vec<String>,
}
