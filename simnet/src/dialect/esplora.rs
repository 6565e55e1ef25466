//! Blockstream/electrs (esplora) and its fork mempool/electrs, as `src/electrum/server.rs` reads.
//!
//! Both: `server.version` always answers `["electrs-esplora {version}", "1.4"]` (no
//! negotiation); `server.donation_address` null; `server.peers.subscribe` `[]`;
//! `server.features` exists only with the `electrum-discovery` build feature, which public
//! deployments leave off, so it is an unknown method; replies are `json!` values (sorted keys);
//! invalid UTF-8 ends the connection (`bail!("invalid UTF8: …")`).
//!
//! Blockstream (upstream, current): JSON-RPC error objects (`json_rpc_error`): unknown method
//! `unknown method {method}` (-32601), bad parameters -32602 with the helper's text
//! (`missing hash`, `non-string hash`, `non-hex hash`), bitcoind errors code 2 shown as
//! `{method} RPC error {code}: {message}` (errors.rs `RpcError` display), `parse error`
//! (-32700), `invalid request` (-32600). Batches up to `MAX_ARRAY_BATCH = 20`; a longer one
//! ends the connection; an empty one is answered `[]`.
//!
//! mempool/electrs: the older upstream code. `handle_command` answers errors as a bare
//! *string* (`"error": format!("{}", e)`): `unknown method {method} {params:?}`,
//! `bad script_hash`; anything that is not an object with a string `method`, an array
//! `params` and an `id` — including every batch — ends the connection (`bail!("invalid
//! command: …")`), as does invalid JSON (`chain_err(|| "invalid JSON format")?`).

use observatory_protocol::message::{parse_request, MessageError, Request, ServerInput};
use serde_json::Value;

use super::{
    echo_id, error_line, positional, result_line, standard, Dialect, Outcome, ServerCtx, Session,
    StdError,
};
use crate::flavor::Flavor;
use crate::json::{Style, J};

const STYLE: Style = Style::CompactSorted;

/// `MAX_ARRAY_BATCH` of Blockstream's server.rs.
const MAX_ARRAY_BATCH: usize = 20;

/// bitcoind's answer to `sendrawtransaction` with an undecodable transaction.
const TX_DECODE_FAILED: &str = "TX decode failed. Make sure the tx has at least one input.";

/// Esplora electrs (upstream) or the mempool fork.
#[derive(Debug)]
pub(crate) struct Esplora {
    /// mempool/electrs (string errors, no batches) rather than Blockstream's upstream.
    pub mempool_fork: bool,
}

impl Esplora {
    fn flavor(&self) -> Flavor {
        if self.mempool_fork {
            Flavor::MempoolElectrs
        } else {
            Flavor::EsploraElectrs
        }
    }

    fn error(&self, id: J, code: i64, message: &str) -> String {
        if self.mempool_fork {
            J::obj([
                ("jsonrpc", J::s("2.0")),
                ("id", id),
                ("error", J::s(message)),
            ])
            .write(STYLE)
        } else {
            error_line(STYLE, id, code, message)
        }
    }

    fn handle(&self, srv: &ServerCtx, req: &Request) -> String {
        let id = echo_id(&req.id);
        let params = positional(&req.params);
        let method = req.method.as_str();
        let flavor = self.flavor();
        let result = match method {
            "server.version" => Ok(J::Arr(vec![J::s(flavor.software()), J::s("1.4")])),
            "server.banner" => Ok(J::s(if srv.plan.banner.is_empty() {
                flavor.default_banner()
            } else {
                srv.plan.banner.clone()
            })),
            "server.donation_address" => Ok(J::Null),
            "server.peers.subscribe" => Ok(J::Arr(Vec::new())),
            "server.ping" => Ok(J::Null),
            _ => standard(method, &params, srv, false),
        };
        match result {
            Ok(v) => result_line(STYLE, id, v),
            Err(e) => {
                let (code, text) = self.error_text(method, &params, &e);
                self.error(id, code, &text)
            }
        }
    }

    fn error_text(&self, method: &str, params: &[Value], e: &StdError) -> (i64, String) {
        if self.mempool_fork {
            let text = match e {
                // `bail!("unknown method {} {:?}", method, params)`: Rust Debug of &[Value].
                StdError::Unknown => format!("unknown method {method} {params:?}"),
                StdError::Arity { .. } | StdError::BadScripthash(_)
                    if method.starts_with("blockchain.scripthash.") =>
                {
                    "bad script_hash".to_string()
                }
                StdError::Arity { .. } | StdError::BadParam(_) | StdError::BadScripthash(_) => {
                    "missing param".to_string()
                }
                StdError::TxRejected(_) => {
                    format!("sendrawtransaction RPC error -22: {TX_DECODE_FAILED}")
                }
                StdError::NoHeader(_) => "missing header".to_string(),
            };
            return (0, text);
        }
        match e {
            StdError::Unknown => (-32601, format!("unknown method {method}")),
            StdError::Arity { given: 0, .. } => (-32602, "missing hash".to_string()),
            StdError::Arity { .. } | StdError::BadParam(_) => {
                (-32602, "invalid params".to_string())
            }
            StdError::BadScripthash(_) => {
                let text = if params.first().is_some_and(Value::is_string) {
                    "non-hex hash"
                } else {
                    "non-string hash"
                };
                (-32602, text.to_string())
            }
            StdError::TxRejected(_) => (
                2,
                format!("sendrawtransaction RPC error -22: {TX_DECODE_FAILED}"),
            ),
            StdError::NoHeader(_) => (-32603, "missing header".to_string()),
        }
    }

    /// mempool/electrs accepts only `{"method": str, "params": [..]?, "id": …}`.
    fn mempool_accepts(req: &Request) -> bool {
        req.id.is_some() && matches!(req.params, Value::Array(_) | Value::Null)
    }
}

impl Dialect for Esplora {
    fn on_line(&self, srv: &ServerCtx, _st: &mut Session, line: &[u8]) -> Outcome {
        if std::str::from_utf8(line).is_err() {
            return Outcome::close();
        }
        let parsed = parse_request(line);
        if self.mempool_fork {
            return match parsed {
                Ok(ServerInput::Single(req)) if Self::mempool_accepts(&req) => {
                    Outcome::line(self.handle(srv, &req))
                }
                _ => Outcome::close(),
            };
        }
        match parsed {
            Err(MessageError::NotJson(_)) => {
                Outcome::line(error_line(STYLE, J::Null, -32700, "parse error"))
            }
            Err(MessageError::NotRpc(_)) => {
                Outcome::line(error_line(STYLE, J::Null, -32600, "invalid request"))
            }
            Ok(ServerInput::Single(req)) => {
                if req.id.is_none() || !matches!(req.params, Value::Array(_) | Value::Null) {
                    return Outcome::line(error_line(
                        STYLE,
                        echo_id(&req.id),
                        -32600,
                        "invalid request",
                    ));
                }
                Outcome::line(self.handle(srv, &req))
            }
            Ok(ServerInput::Batch(items)) => {
                if items.len() > MAX_ARRAY_BATCH {
                    return Outcome::close();
                }
                let replies: Vec<J> = items
                    .iter()
                    .map(|item| match item {
                        Ok(req) if req.id.is_some() => J::Raw(self.handle(srv, req)),
                        Ok(req) => J::Raw(error_line(
                            STYLE,
                            echo_id(&req.id),
                            -32600,
                            "invalid request",
                        )),
                        Err(_) => J::Raw(error_line(STYLE, J::Null, -32600, "invalid request")),
                    })
                    .collect();
                Outcome::line(J::Arr(replies).write(STYLE))
            }
        }
    }
}
