//! Electrum Personal Server, as chris-belcher/electrum-personal-server reads
//! (`electrumpersonalserver/server/electrumprotocol.py` and `common.py`).
//!
//! * Replies: `{"jsonrpc": "2.0", "result": …, "id": …}` and `{"error": …, "jsonrpc": "2.0",
//!   "id": …}` written by plain `json.dumps` (spaces after `,` and `:`).
//! * The connection loop (common.py) decodes each line as UTF-8 JSON and raises `IOError`
//!   otherwise, which closes the connection; so does a query without `"method"` — a batch
//!   (a JSON list) included.
//! * `handle_query` answers a fixed set of methods; anything else (`server.features`,
//!   `blockchain.scripthash.listunspent`, `get_mempool`, `blockchain.address.*`, made-up
//!   names) is only logged (`*** BUG! Not handling method`): the client gets no answer.
//! * `get_history`/`get_balance`/`subscribe` for a scripthash that is not in the wallet raise
//!   `UnknownScripthashError`, which ends the connection: a personal server only knows its
//!   owner's addresses.
//! * `server.version`: protocol 1.1 – 1.4 as floats, answer `["ElectrumPersonalServer 0.2.x",
//!   str(version)]`; unsupported → `ConnectionRefusedError` (connection closed). The 0.2.0
//!   source unpacks a `[min, max]` pair incorrectly; the simnet reads the pair as intended.
//! * `server.banner`: the `BANNER` template; `server.donation_address`: `DONATION_ADDR`;
//!   `server.peers.subscribe`: `[]`; `blockchain.transaction.broadcast` goes through
//!   `testmempoolaccept`, whose RPC error for an undecodable transaction is not caught
//!   (connection closed).
//! * One client at a time (the accept loop serves a connection to its end); see the listener.

use observatory_protocol::message::{parse_request, ServerInput};
use serde_json::Value;

use super::{echo_id, tip_object, Dialect, Outcome, ServerCtx, Session};
use crate::flavor::Flavor;
use crate::json::{Style, J};

const STYLE: Style = Style::PythonDefault;

/// `SERVER_PROTOCOL_VERSION_MIN` / `MAX` (floats in the source).
const PROTOCOL_MIN: f64 = 1.1;
const PROTOCOL_MAX: f64 = 1.4;

/// `DONATION_ADDR` constant of electrumprotocol.py (the project's published address).
const DONATION_ADDR: &str = "bc1q5d8l0w33h65e2l5x7ty6wgnvkvlqcz0wfaslpz";

/// Electrum Personal Server 0.2.
#[derive(Debug)]
pub(crate) struct Eps;

fn respond(id: J, result: J) -> Outcome {
    Outcome::line(J::obj([("jsonrpc", J::s("2.0")), ("result", result), ("id", id)]).write(STYLE))
}

fn banner(srv: &ServerCtx) -> String {
    format!(
        "Welcome to Electrum Personal Server {version}\n\n\
         Monitoring 1 deterministic wallets, in total 400 addresses.\n\n\
         Connected bitcoin node: {node}\n\
         Uptime: 12 days, 3:14:07\n\
         Peers: 10\n\
         Download: 21.4GB (1.8GB per day)\n\
         Upload: 9.1GB (766.5MB per day)\n\
         Blocksonly: False\n\
         Pruning: True\n\
         Blockchain size: 5.2GB\n\
         First unpruned block: {pruned} (2025-09-01 10:02:11)\n\n\
         https://github.com/chris-belcher/electrum-personal-server\n\n\
         Donate to help make Electrum Personal Server even better:\n\
         {DONATION_ADDR}\n\n",
        version = Flavor::ElectrumPersonalServer.version(),
        node = srv.node_subversion,
        pruned = srv.chain.tip_height().saturating_sub(12_000),
    )
}

/// Python's `str(float)` for the protocol versions EPS can negotiate.
fn float_text(v: f64) -> String {
    let s = format!("{v}");
    if s.contains('.') {
        s
    } else {
        format!("{s}.0")
    }
}

fn as_float(v: &Value) -> Option<f64> {
    match v {
        Value::String(s) => s.trim().parse().ok(),
        Value::Number(n) => n.as_f64(),
        _ => None,
    }
}

impl Eps {
    fn version(&self, id: J, params: &[Value]) -> Outcome {
        // query["params"][1]: missing → IndexError → connection closed.
        let Some(requested) = params.get(1) else {
            return Outcome::close();
        };
        let (min, max) = match requested {
            Value::Array(pair) => match (
                pair.first().and_then(as_float),
                pair.get(1).and_then(as_float),
            ) {
                (Some(a), Some(b)) => (a, b),
                _ => return Outcome::close(),
            },
            other => match as_float(other) {
                Some(v) => (v, v),
                None => return Outcome::close(),
            },
        };
        let version = max.min(PROTOCOL_MAX);
        if version < min.max(PROTOCOL_MIN) {
            return Outcome::close();
        }
        respond(
            id,
            J::Arr(vec![
                J::s(Flavor::ElectrumPersonalServer.software()),
                J::s(float_text(version)),
            ]),
        )
    }
}

impl Dialect for Eps {
    fn on_line(&self, srv: &ServerCtx, _st: &mut Session, line: &[u8]) -> Outcome {
        if std::str::from_utf8(line).is_err() {
            return Outcome::close();
        }
        let req = match parse_request(line) {
            Ok(ServerInput::Single(req)) => req,
            _ => return Outcome::close(),
        };
        let id = echo_id(&req.id);
        let params = match &req.params {
            Value::Array(a) => a.clone(),
            _ => Vec::new(),
        };
        match req.method.as_str() {
            "server.version" => self.version(id, &params),
            "server.banner" => respond(id, J::s(banner(srv))),
            "server.donation_address" => respond(id, J::s(DONATION_ADDR)),
            "server.peers.subscribe" => respond(id, J::Arr(Vec::new())),
            "server.ping" => respond(id, J::Null),
            "blockchain.headers.subscribe" => respond(id, tip_object(srv)),
            "blockchain.relayfee" => respond(id, J::Float(0.00001)),
            "blockchain.estimatefee" => match params.first() {
                Some(_) => respond(id, J::Float(0.00012)),
                None => Outcome::close(),
            },
            "mempool.get_fee_histogram" => respond(
                id,
                J::Arr(vec![
                    J::Arr(vec![J::Float(25.0), J::Int(101_325)]),
                    J::Arr(vec![J::Float(9.0), J::Int(112_884)]),
                ]),
            ),
            "blockchain.block.header" => match params
                .first()
                .and_then(Value::as_u64)
                .and_then(|h| srv.chain.header_hex(h))
            {
                Some(hex) => respond(id, J::s(hex)),
                None => {
                    let h = params.first().map(|v| v.to_string()).unwrap_or_default();
                    Outcome::line(
                        J::obj([
                            (
                                "error",
                                J::obj([
                                    ("message", J::s(format!("height {h} out of range"))),
                                    ("code", J::Int(-1)),
                                ]),
                            ),
                            ("jsonrpc", J::s("2.0")),
                            ("id", id),
                        ])
                        .write(STYLE),
                    )
                }
            },
            // Not the owner's wallet (UnknownScripthashError), a broadcast the node rejects,
            // or a missing parameter: all end the connection.
            "blockchain.scripthash.get_history"
            | "blockchain.scripthash.get_balance"
            | "blockchain.scripthash.subscribe"
            | "blockchain.transaction.broadcast" => Outcome::close(),
            _ => Outcome::silence(),
        }
    }
}
