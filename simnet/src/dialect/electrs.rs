//! romanz/electrs, as `src/electrum.rs` reads.
//!
//! * Replies are `serde_json::json!` values (keys sorted): `{"id":…,"jsonrpc":"2.0","result":…}`.
//! * `RpcError::to_value`: `parse error` (-32700), `invalid request` (-32600),
//!   `method not found` (-32601), `invalid params` (-32602) — the standard errors carry no
//!   detail; application errors are code 1 with the anyhow text, daemon errors code 2.
//! * Requests deserialize into `struct Request { id: Value, method: String, params }`: a
//!   message without `id` is an `invalid request`. A batch (`Requests::Batch`) that contains
//!   anything unparsable is one `invalid request`; an empty batch is answered with `[]`.
//! * Parameters deserialize into tuples (`(ScriptHash,)`), so a wrong count or a bad
//!   scripthash is `invalid params`.
//! * `version`: `VersionRequest::Single | MinMax`, `check_between(PROTOCOL_VERSION = "1.4", …)`;
//!   failure is code 1 `unsupported request {:?} by {client}`; no "already sent" check.
//! * `features`: `"hosts": {"tcp_port": port}` (not keyed by host name), protocol 1.4/1.4.
//! * `server.donation_address` → null, `server.peers.subscribe` → `[]`.
//! * `transaction_broadcast`: `non-hex transaction` / `invalid transaction` (code 1).
//! * Lines are read as UTF-8 strings; invalid UTF-8 ends the connection.

use observatory_protocol::message::{parse_request, MessageError, Request, ServerInput};
use serde_json::Value;

use super::{
    echo_id, error_line, positional, result_line, standard, Dialect, Outcome, ServerCtx, Session,
    StdError,
};
use crate::chain::GENESIS_HASH;
use crate::flavor::Flavor;
use crate::json::{Style, J};

const STYLE: Style = Style::CompactSorted;
const PROTOCOL_VERSION: &str = "1.4";
/// Client name the simnet assumes when `server.version` had none (electrs quotes it).
const UNNAMED_CLIENT: &str = "";

/// romanz/electrs 0.10.
#[derive(Debug)]
pub(crate) struct Electrs;

fn standard_error(id: J, code: i64, message: &str) -> String {
    error_line(STYLE, id, code, message)
}

fn parse_version(s: &str) -> Option<Vec<u64>> {
    s.split('.').map(|p| p.parse::<u64>().ok()).collect()
}

impl Electrs {
    fn handle(&self, srv: &ServerCtx, req: &Request) -> String {
        let id = echo_id(&req.id);
        let params = positional(&req.params);
        let method = req.method.as_str();
        let result = match method {
            "server.version" => return self.version(id, &params),
            "server.banner" => Ok(J::s(if srv.plan.banner.is_empty() {
                Flavor::Electrs.default_banner()
            } else {
                srv.plan.banner.clone()
            })),
            "server.donation_address" => Ok(J::Null),
            "server.features" => Ok(J::obj([
                ("genesis_hash", J::s(GENESIS_HASH)),
                (
                    "hosts",
                    J::obj([(
                        "tcp_port",
                        J::Int(srv.plan.tcp_port.unwrap_or(50001).into()),
                    )]),
                ),
                ("protocol_max", J::s(PROTOCOL_VERSION)),
                ("protocol_min", J::s(PROTOCOL_VERSION)),
                ("pruning", J::Null),
                ("server_version", J::s(Flavor::Electrs.software())),
                ("hash_function", J::s("sha256")),
            ])),
            "server.peers.subscribe" => Ok(J::Arr(Vec::new())),
            "server.ping" => Ok(J::Null),
            _ => standard(method, &params, srv, false),
        };
        match result {
            Ok(v) => result_line(STYLE, id, v),
            Err(StdError::Unknown) => standard_error(id, -32601, "method not found"),
            Err(StdError::Arity { .. } | StdError::BadScripthash(_) | StdError::BadParam(_)) => {
                standard_error(id, -32602, "invalid params")
            }
            Err(StdError::TxRejected(raw)) => {
                let text = if raw.len() % 2 == 0 && raw.bytes().all(|b| b.is_ascii_hexdigit()) {
                    "invalid transaction"
                } else {
                    "non-hex transaction"
                };
                standard_error(id, 1, text)
            }
            Err(StdError::NoHeader(h)) => standard_error(id, 1, &format!("no header at {h}")),
        }
    }

    fn version(&self, id: J, params: &[Value]) -> String {
        // Params deserialize into (String, VersionRequest); anything else is invalid params.
        let (Some(Value::String(client)), Some(req), 2) =
            (params.first(), params.get(1), params.len())
        else {
            return standard_error(id, -32602, "invalid params");
        };
        let (debug, min, max) = match req {
            Value::String(v) => (format!("Single({v:?})"), v.clone(), v.clone()),
            Value::Array(pair) => match (pair.first(), pair.get(1), pair.len()) {
                (Some(Value::String(a)), Some(Value::String(b)), 2) => {
                    (format!("MinMax({a:?}, {b:?})"), a.clone(), b.clone())
                }
                _ => return standard_error(id, -32602, "invalid params"),
            },
            _ => return standard_error(id, -32602, "invalid params"),
        };
        let ours = parse_version(PROTOCOL_VERSION);
        let ok = match (parse_version(&min), parse_version(&max)) {
            (Some(lo), Some(hi)) => ours.as_ref().is_some_and(|v| *v >= lo && *v <= hi),
            _ => false,
        };
        if ok {
            result_line(
                STYLE,
                id,
                J::Arr(vec![
                    J::s(Flavor::Electrs.software()),
                    J::s(PROTOCOL_VERSION),
                ]),
            )
        } else {
            let client = if client.is_empty() {
                UNNAMED_CLIENT
            } else {
                client.as_str()
            };
            standard_error(id, 1, &format!("unsupported request {debug} by {client}"))
        }
    }
}

impl Dialect for Electrs {
    fn on_line(&self, srv: &ServerCtx, _st: &mut Session, line: &[u8]) -> Outcome {
        if std::str::from_utf8(line).is_err() {
            return Outcome::close();
        }
        match parse_request(line) {
            Err(MessageError::NotJson(_)) => {
                Outcome::line(standard_error(J::Null, -32700, "parse error"))
            }
            Err(MessageError::NotRpc(_)) => {
                Outcome::line(standard_error(J::Null, -32600, "invalid request"))
            }
            Ok(ServerInput::Single(req)) => {
                if req.id.is_none() {
                    return Outcome::line(standard_error(J::Null, -32600, "invalid request"));
                }
                Outcome::line(self.handle(srv, &req))
            }
            Ok(ServerInput::Batch(items)) => {
                // The whole batch must deserialize (each item with an id) or it is one error.
                let mut requests = Vec::with_capacity(items.len());
                for item in items {
                    match item {
                        Ok(r) if r.id.is_some() => requests.push(r),
                        _ => {
                            return Outcome::line(standard_error(
                                J::Null,
                                -32600,
                                "invalid request",
                            ))
                        }
                    }
                }
                let replies: Vec<J> = requests
                    .iter()
                    .map(|r| J::Raw(self.handle(srv, r)))
                    .collect();
                Outcome::line(J::Arr(replies).write(STYLE))
            }
        }
    }
}
