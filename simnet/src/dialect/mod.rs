//! How each emulated implementation answers one received line.
//!
//! A [`Dialect`] turns one line from the client into an [`Outcome`]: the reply lines
//! (already serialized the way that implementation writes JSON), an extra delay, and
//! whether to close. The method *results* that do not depend on the implementation
//! (balances, histories, the tip header, fees) come from one catalogue, [`standard`]; each
//! dialect decides version negotiation, error codes and texts, batch and pre-version
//! behavior, and the serialization style. One module per implementation family:
//!
//! * `electrumx`: ElectrumX 1.16 / 1.19 / 2.0 (aiorpcx framing, cost-based throttling, 2.0 padding).
//! * `fulcrum`: Fulcrum.
//! * `electrs`: romanz/electrs.
//! * `esplora`: Blockstream/electrs and its fork mempool/electrs.
//! * `eps`: Electrum Personal Server.
//!
//! [`crate::honeypot`] wraps a dialect with the planted honeypot behaviors.

pub(crate) mod electrs;
pub(crate) mod electrumx;
pub(crate) mod eps;
pub(crate) mod esplora;
pub(crate) mod fulcrum;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::chain::Chain;
use crate::flavor::Flavor;
use crate::json::{Style, J};
use crate::plan::{Behavior, ServerPlan};

/// Fee histogram every server reports: `[fee_rate sat/vB, vsize]`, highest fee first.
const FEE_HISTOGRAM: [(f64, i64); 4] = [
    (25.3, 102_114),
    (12.0, 150_432),
    (5.1, 220_019),
    (1.0, 331_870),
];

/// Minimum relay fee, BTC/kvB (Bitcoin Core's default 1 sat/vB).
const RELAY_FEE_BTC_PER_KVB: f64 = 0.00001;

/// `blockchain.estimatefee` for 1 block, BTC/kvB; longer targets get less.
const FEE_ONE_BLOCK_BTC_PER_KVB: f64 = 0.00024;

/// Longest confirmation target `blockchain.estimatefee` answers (Bitcoin Core's limit).
const MAX_FEE_TARGET: i64 = 1008;

/// One `server.peers.subscribe` entry: `[ip, host, [features…]]`.
#[derive(Debug, Clone)]
pub(crate) struct PeerAd {
    /// IP the server knows the peer by.
    pub ip: String,
    /// Host name (the IP for IP-only peers).
    pub host: String,
    /// `v1.4.2`, `s50002`, `t50001`.
    pub features: Vec<String>,
}

/// Everything a dialect may know about its own server (shared by its sessions).
#[derive(Debug)]
pub(crate) struct ServerCtx {
    /// The plan of this server.
    pub plan: ServerPlan,
    /// Its implementation (hostile and blackholed servers have no dialect).
    pub flavor: Flavor,
    /// The fake chain.
    pub chain: Arc<Chain>,
    /// Advertised peers (shared: the huge-peers list is one allocation for every server using it).
    pub peers: Arc<Vec<PeerAd>>,
    /// `getnetworkinfo.subversion` of the node behind it (EPS puts it in its banner).
    pub node_subversion: &'static str,
}

impl ServerCtx {
    /// `(height, header hex)` this server reports as its tip.
    pub(crate) fn tip(&self) -> (u64, String) {
        self.chain.tip_for_lag(self.plan.tip_lag)
    }

    /// Whether this is the planted server that still answers `blockchain.address.*`.
    pub(crate) fn legacy_address(&self) -> bool {
        self.plan.behavior == Behavior::LegacyAddress
    }
}

/// Per-connection state a dialect keeps.
#[derive(Debug)]
pub(crate) struct Session {
    /// `server.version` was received.
    pub sv_seen: bool,
    /// Negotiated protocol version, as numbers.
    pub protocol: Vec<u32>,
    /// ElectrumX-style accumulated cost.
    pub cost: f64,
    /// When `cost` was last decayed.
    pub cost_at: Instant,
    /// Errors counted against the client (Fulcrum disconnects after a few).
    pub errors: u32,
    /// Times of recent history queries answered (honeypot throttling).
    pub history_times: VecDeque<Instant>,
}

impl Session {
    /// A fresh session that starts at protocol `min`.
    pub(crate) fn new(min: &[u32]) -> Session {
        Session {
            sv_seen: false,
            protocol: min.to_vec(),
            cost: 0.0,
            cost_at: Instant::now(),
            errors: 0,
            history_times: VecDeque::new(),
        }
    }
}

/// What to do after one received line.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    /// Lines to send, each with its terminating newline.
    pub lines: Vec<Vec<u8>>,
    /// Delay on top of the server's network latency (throttling, slow lookups).
    pub extra_delay: Duration,
    /// Close the connection after sending.
    pub close: bool,
}

impl Outcome {
    /// Nothing to send.
    pub(crate) fn silence() -> Outcome {
        Outcome::default()
    }

    /// Close without sending.
    pub(crate) fn close() -> Outcome {
        Outcome {
            close: true,
            ..Outcome::default()
        }
    }

    /// One line of JSON.
    pub(crate) fn line(text: String) -> Outcome {
        let mut o = Outcome::default();
        o.push(text);
        o
    }

    /// Appends a line of JSON (the newline is added here).
    pub(crate) fn push(&mut self, text: String) {
        let mut bytes = text.into_bytes();
        bytes.push(b'\n');
        self.lines.push(bytes);
    }
}

/// Answers one line from a client.
pub(crate) trait Dialect: Send + Sync + std::fmt::Debug {
    /// Handles one received line (without its newline).
    fn on_line(&self, srv: &ServerCtx, st: &mut Session, line: &[u8]) -> Outcome;

    /// Protocol version a session starts at before negotiation.
    fn initial_protocol(&self) -> Vec<u32> {
        vec![1, 4]
    }
}

/// The dialect of a flavor.
pub(crate) fn for_flavor(flavor: Flavor) -> Arc<dyn Dialect> {
    match flavor {
        Flavor::Electrumx116 | Flavor::Electrumx119 | Flavor::Electrumx200 => {
            Arc::new(electrumx::Electrumx::new(flavor))
        }
        Flavor::Fulcrum => Arc::new(fulcrum::Fulcrum),
        Flavor::Electrs => Arc::new(electrs::Electrs),
        Flavor::EsploraElectrs => Arc::new(esplora::Esplora {
            mempool_fork: false,
        }),
        Flavor::MempoolElectrs => Arc::new(esplora::Esplora { mempool_fork: true }),
        Flavor::ElectrumPersonalServer => Arc::new(eps::Eps),
    }
}

/// Why the catalogue could not answer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum StdError {
    /// The method is not in the catalogue.
    Unknown,
    /// Wrong number of positional parameters.
    Arity {
        /// Parameters given.
        given: usize,
        /// Fewest accepted.
        min: usize,
        /// Most accepted.
        max: usize,
    },
    /// A scripthash parameter that is not 64 hex digits (the value as sent, as text).
    BadScripthash(String),
    /// A parameter of the wrong type (its name).
    BadParam(&'static str),
    /// A transaction the node refuses (every broadcast here): the raw hex as sent.
    TxRejected(String),
    /// A header height outside the fake chain.
    NoHeader(u64),
}

/// Parameters as a list: positional lists as they are, named objects by value, absent as empty.
pub(crate) fn positional(params: &Value) -> Vec<Value> {
    match params {
        Value::Array(a) => a.clone(),
        Value::Object(o) => o.values().cloned().collect(),
        Value::Null => Vec::new(),
        other => vec![other.clone()],
    }
}

/// `(min, max)` positional parameters of the catalogue's methods.
pub(crate) fn arity(method: &str) -> Option<(usize, usize)> {
    Some(match method {
        "blockchain.scripthash.get_balance"
        | "blockchain.scripthash.get_history"
        | "blockchain.scripthash.listunspent"
        | "blockchain.scripthash.get_mempool"
        | "blockchain.scripthash.subscribe"
        | "blockchain.transaction.broadcast" => (1, 1),
        "blockchain.address.get_balance"
        | "blockchain.address.get_history"
        | "blockchain.address.listunspent"
        | "blockchain.address.get_mempool" => (1, 1),
        "blockchain.headers.subscribe" | "blockchain.relayfee" | "mempool.get_fee_histogram" => {
            (0, 0)
        }
        "blockchain.estimatefee" => (1, 2),
        "blockchain.block.header" => (1, 2),
        _ => return None,
    })
}

/// True for a scripthash: 64 hex digits.
pub(crate) fn is_scripthash(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|s| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Text of a parameter as an error message would quote it.
pub(crate) fn param_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The `{hex, height}` tip object, keys in the order given (sorted styles re-sort them).
pub(crate) fn tip_object(srv: &ServerCtx) -> J {
    let (height, hex) = srv.tip();
    J::obj([("hex", J::s(hex)), ("height", J::Int(height as i64))])
}

/// Answers the implementation-independent methods. `legacy` enables `blockchain.address.*`.
pub(crate) fn standard(
    method: &str,
    params: &[Value],
    srv: &ServerCtx,
    legacy: bool,
) -> Result<J, StdError> {
    let Some((min, max)) = arity(method) else {
        return Err(StdError::Unknown);
    };
    if method.starts_with("blockchain.address.") && !legacy {
        return Err(StdError::Unknown);
    }
    if params.len() < min || params.len() > max {
        return Err(StdError::Arity {
            given: params.len(),
            min,
            max,
        });
    }
    let first = params.first();
    match method {
        "blockchain.scripthash.get_balance"
        | "blockchain.scripthash.get_history"
        | "blockchain.scripthash.listunspent"
        | "blockchain.scripthash.get_mempool"
        | "blockchain.scripthash.subscribe" => {
            let sh = first.cloned().unwrap_or(Value::Null);
            if !is_scripthash(&sh) {
                return Err(StdError::BadScripthash(param_text(&sh)));
            }
            Ok(scripthash_result(method))
        }
        "blockchain.address.get_balance"
        | "blockchain.address.get_history"
        | "blockchain.address.listunspent"
        | "blockchain.address.get_mempool" => {
            if !first.is_some_and(Value::is_string) {
                return Err(StdError::BadParam("address"));
            }
            Ok(scripthash_result(method))
        }
        "blockchain.headers.subscribe" => Ok(tip_object(srv)),
        "blockchain.relayfee" => Ok(J::Float(RELAY_FEE_BTC_PER_KVB)),
        "mempool.get_fee_histogram" => Ok(J::Arr(
            FEE_HISTOGRAM
                .iter()
                .map(|&(fee, vsize)| J::Arr(vec![J::Float(fee), J::Int(vsize)]))
                .collect(),
        )),
        "blockchain.estimatefee" => {
            let Some(target) = first.and_then(Value::as_i64) else {
                return Err(StdError::BadParam("number"));
            };
            if !(1..=MAX_FEE_TARGET).contains(&target) {
                return Ok(J::Int(-1));
            }
            let fee = FEE_ONE_BLOCK_BTC_PER_KVB / (target as f64).sqrt();
            Ok(J::Float((fee * 1e8).round() / 1e8))
        }
        "blockchain.block.header" => {
            let Some(height) = first.and_then(Value::as_u64) else {
                return Err(StdError::BadParam("height"));
            };
            srv.chain
                .header_hex(height)
                .map(J::Str)
                .ok_or(StdError::NoHeader(height))
        }
        "blockchain.transaction.broadcast" => Err(StdError::TxRejected(
            first.map(param_text).unwrap_or_default(),
        )),
        _ => Err(StdError::Unknown),
    }
}

/// Results for a scripthash (or legacy address) that has never been used: the simnet's
/// chain holds no transactions.
fn scripthash_result(method: &str) -> J {
    if method.ends_with("get_balance") {
        J::obj([("confirmed", J::Int(0)), ("unconfirmed", J::Int(0))])
    } else if method.ends_with("subscribe") {
        J::Null
    } else {
        J::Arr(Vec::new())
    }
}

/// `server.peers.subscribe` entries in the `[ip, host, [features]]` shape.
pub(crate) fn peers_result(srv: &ServerCtx) -> J {
    J::Arr(
        srv.peers
            .iter()
            .map(|p| {
                J::Arr(vec![
                    J::s(&p.ip),
                    J::s(&p.host),
                    J::Arr(p.features.iter().map(J::s).collect()),
                ])
            })
            .collect(),
    )
}

/// The `hosts` map of `server.features`: `{ip: {tcp_port, ssl_port}}` for the ports it has.
pub(crate) fn hosts_object(srv: &ServerCtx) -> J {
    let mut ports = Vec::new();
    if let Some(p) = srv.plan.tcp_port {
        ports.push(("tcp_port".to_string(), J::Int(p.into())));
    }
    if let Some(p) = srv.plan.tls_port {
        ports.push(("ssl_port".to_string(), J::Int(p.into())));
    }
    J::Obj(vec![(srv.plan.ip.to_string(), J::Obj(ports))])
}

/// The id of a request echoed back (`null` when absent).
pub(crate) fn echo_id(id: &Option<Value>) -> J {
    id.as_ref().map(J::from_value).unwrap_or(J::Null)
}

/// Parses `1.4.2` into numbers, like aiorpcx's `protocol_tuple` (None when not numeric).
pub(crate) fn version_tuple(s: &str) -> Option<Vec<u32>> {
    s.split('.').map(|p| p.trim().parse::<u32>().ok()).collect()
}

/// `1.4.2` from numbers, with at least one dot (aiorpcx `version_string`).
pub(crate) fn version_text(v: &[u32]) -> String {
    let mut parts: Vec<String> = v.iter().map(u32::to_string).collect();
    while parts.len() < 2 {
        parts.push("0".into());
    }
    parts.join(".")
}

/// A value as Python's `str()` prints it (error messages of the Python servers quote
/// client input this way, e.g. `['1.4', '1.6']`).
pub(crate) fn py_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => py_repr(other),
    }
}

fn py_repr(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")),
        Value::Array(a) => format!("[{}]", a.iter().map(py_repr).collect::<Vec<_>>().join(", ")),
        Value::Object(o) => {
            format!(
                "{{{}}}",
                o.iter()
                    .map(|(k, v)| format!("'{k}': {}", py_repr(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    }
}

/// Serializes a JSON-RPC 2.0 result in the given key order style.
pub(crate) fn result_line(style: Style, id: J, result: J) -> String {
    J::obj([("jsonrpc", J::s("2.0")), ("result", result), ("id", id)]).write(style)
}

/// Serializes a JSON-RPC 2.0 error object reply.
pub(crate) fn error_line(style: Style, id: J, code: i64, message: &str) -> String {
    J::obj([
        ("jsonrpc", J::s("2.0")),
        (
            "error",
            J::obj([("code", J::Int(code)), ("message", J::s(message))]),
        ),
        ("id", id),
    ])
    .write(style)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn python_str_of_client_values() {
        assert_eq!(py_str(&json!(["1.4", "1.6"])), "['1.4', '1.6']");
        assert_eq!(py_str(&json!("9.9")), "9.9");
        assert_eq!(py_str(&json!(null)), "None");
    }

    #[test]
    fn version_tuples() {
        assert_eq!(version_tuple("1.4.2"), Some(vec![1, 4, 2]));
        assert_eq!(version_tuple("1.x"), None);
        assert_eq!(version_text(&[1]), "1.0");
        assert_eq!(version_text(&[1, 6]), "1.6");
    }

    #[test]
    fn scripthash_check() {
        assert!(is_scripthash(&json!(
            "8b01df4e368ea28f8dc0423bcf7a4923e3a12d307c875e47a0cfbf90b5c39161"
        )));
        assert!(!is_scripthash(&json!("8b01")));
        assert!(!is_scripthash(&json!(12)));
    }
}
