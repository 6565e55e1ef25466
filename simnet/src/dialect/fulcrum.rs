//! Fulcrum, as cculianu/Fulcrum's source reads.
//!
//! Sources:
//! * `src/RPC.cpp`: replies built as `QVariantMap` (keys come out sorted: `error`/`id`/
//!   `jsonrpc`/`result`); unknown method `Unsupported request: {method}` (-32601);
//!   parameter counts `Expected at least {n} parameter(s) for {method}, got {k} instead`
//!   (-32602); empty batch and non-object values `Invalid request` (-32600); JSON parse
//!   errors answered with -32700 (the parser's own text, shortened to 120 characters; the
//!   simnet's text is a stand-in); batches are supported.
//! * `src/RPC.h`: `Code_App_BadRequest = 1`, `Code_App_DaemonError = 2`.
//! * `src/Servers.cpp` `rpc_server_version`: a `[min, max]` pair or a single version;
//!   `server.version already sent`; `Unsupported protocol version` with disconnect; result
//!   `[AppSubVersion, pver.toString()]`. `Server::onPeerError`: five errors and the client
//!   is dropped. Scripthash arguments that do not decode to 32 bytes: `Invalid scripthash`.
//! * `src/ServerMisc.cpp`: protocol 1.4 – 1.5.0; `src/Version.cpp` prints `1.5` for `1.5.0`.
//! * The default banner `Connected to a Fulcrum X server` (see [`crate::flavor`]).
//! * Requests before `server.version` are served (Fulcrum does not enforce the order).

use observatory_protocol::message::{parse_request, Request, ServerInput};
use serde_json::Value;

use super::{
    echo_id, error_line, hosts_object, peers_result, positional, result_line, standard,
    version_text, version_tuple, Dialect, Outcome, ServerCtx, Session, StdError,
};
use crate::chain::GENESIS_HASH;
use crate::flavor::Flavor;
use crate::json::{Style, J};

const CODE_PARSE_ERROR: i64 = -32700;
const CODE_INVALID_REQUEST: i64 = -32600;
const CODE_METHOD_NOT_FOUND: i64 = -32601;
const CODE_INVALID_PARAMS: i64 = -32602;
const CODE_APP_BAD_REQUEST: i64 = 1;
const CODE_APP_DAEMON_ERROR: i64 = 2;

/// `Server::onPeerError` drops a client after this many errors.
const MAX_PEER_ERRORS: u32 = 5;

/// `ServerMisc::MinProtocolVersion` / `MaxProtocolVersion`.
const PROTOCOL_MIN: [u32; 2] = [1, 4];
const PROTOCOL_MAX: [u32; 3] = [1, 5, 0];

/// Stand-in for the JSON parser's error text (Fulcrum sends its parser's message verbatim).
const PARSE_ERROR_TEXT: &str = "Failed to parse JSON";

/// Fulcrum 1.12.
#[derive(Debug)]
pub(crate) struct Fulcrum;

const STYLE: Style = Style::CompactSorted;

/// `Version::toString()`: the revision only when non-zero.
fn fulcrum_version_text(v: &[u32]) -> String {
    match v {
        [major, minor, rev, ..] if *rev != 0 => format!("{major}.{minor}.{rev}"),
        [major, minor, ..] => format!("{major}.{minor}"),
        [major] => format!("{major}.0"),
        [] => "0.0".into(),
    }
}

fn pluralize(word: &str, n: usize) -> String {
    if n == 1 {
        word.to_string()
    } else {
        format!("{word}s")
    }
}

impl Fulcrum {
    fn handle(&self, srv: &ServerCtx, st: &mut Session, req: &Request) -> (Option<String>, bool) {
        let Some(id) = &req.id else {
            // Unexpected notification: counted as a peer error, nothing sent.
            st.errors += 1;
            return (None, st.errors >= MAX_PEER_ERRORS);
        };
        let id = echo_id(&Some(id.clone()));
        let params = positional(&req.params);
        let method = req.method.as_str();
        let result = match method {
            "server.version" => return self.server_version(st, id, &params),
            "server.banner" => Ok(J::s(if srv.plan.banner.is_empty() {
                Flavor::Fulcrum.default_banner()
            } else {
                srv.plan.banner.clone()
            })),
            "server.donation_address" => Ok(J::s(&srv.plan.donation)),
            "server.features" => Ok(J::obj([
                ("genesis_hash", J::s(GENESIS_HASH)),
                ("hash_function", J::s("sha256")),
                ("hosts", hosts_object(srv)),
                ("protocol_max", J::s(fulcrum_version_text(&PROTOCOL_MAX))),
                ("protocol_min", J::s(version_text(&PROTOCOL_MIN))),
                ("pruning", J::Null),
                ("server_version", J::s(Flavor::Fulcrum.software())),
            ])),
            "server.peers.subscribe" => Ok(peers_result(srv)),
            "server.ping" => Ok(J::Null),
            _ => standard(method, &params, srv, false),
        };
        let text = match result {
            Ok(v) => result_line(STYLE, id, v),
            Err(e) => {
                let (code, msg) = match e {
                    StdError::Unknown => (CODE_METHOD_NOT_FOUND, format!("Unsupported request: {method}")),
                    StdError::Arity { given, min, .. } if given < min => (
                        CODE_INVALID_PARAMS,
                        format!("Expected at least {min} {} for {method}, got {given} instead", pluralize("parameter", min)),
                    ),
                    StdError::Arity { given, max, .. } => (
                        CODE_INVALID_PARAMS,
                        format!("Expected at most {max} {} for {method}, got {given} instead", pluralize("parameter", max)),
                    ),
                    StdError::BadScripthash(_) => (CODE_APP_BAD_REQUEST, "Invalid scripthash".to_string()),
                    StdError::BadParam(what) => (CODE_APP_BAD_REQUEST, format!("Invalid {what}")),
                    StdError::TxRejected(_) => (
                        CODE_APP_DAEMON_ERROR,
                        "the transaction was rejected by network rules.\n\nTX decode failed. Make sure the tx has at least one input.\n"
                            .to_string(),
                    ),
                    StdError::NoHeader(_) => (CODE_APP_BAD_REQUEST, "Invalid height".to_string()),
                };
                error_line(STYLE, id, code, &msg)
            }
        };
        (Some(text), false)
    }

    fn server_version(&self, st: &mut Session, id: J, params: &[Value]) -> (Option<String>, bool) {
        if st.sv_seen {
            return (
                Some(error_line(
                    STYLE,
                    id,
                    CODE_APP_BAD_REQUEST,
                    "server.version already sent",
                )),
                false,
            );
        }
        let min = PROTOCOL_MIN.to_vec();
        let max = PROTOCOL_MAX.to_vec();
        let parse = |v: &Value| v.as_str().and_then(version_tuple);
        let requested = params
            .get(1)
            .cloned()
            .unwrap_or_else(|| Value::String(version_text(&min)));
        let pver = match &requested {
            Value::Array(pair) if pair.len() == 2 => {
                let (Some(cmin), Some(cmax)) =
                    (pair.first().and_then(parse), pair.get(1).and_then(parse))
                else {
                    let text = pair
                        .iter()
                        .map(|v| v.as_str().unwrap_or_default().to_string())
                        .collect::<Vec<_>>()
                        .join(", ");
                    return (
                        Some(error_line(
                            STYLE,
                            id,
                            CODE_APP_BAD_REQUEST,
                            &format!("Bad version tuple: {text}"),
                        )),
                        true,
                    );
                };
                if cmin > cmax {
                    return (
                        Some(error_line(
                            STYLE,
                            id,
                            CODE_APP_BAD_REQUEST,
                            "Bad version tuple",
                        )),
                        true,
                    );
                }
                let v = std::cmp::min(cmax, max.clone());
                if v < cmin {
                    None
                } else {
                    Some(v)
                }
            }
            other => parse(other),
        };
        match pver {
            Some(v) if v >= min && v <= max => {
                st.sv_seen = true;
                st.protocol = v.clone();
                let result = J::Arr(vec![
                    J::s(Flavor::Fulcrum.software()),
                    J::s(fulcrum_version_text(&v)),
                ]);
                (Some(result_line(STYLE, id, result)), false)
            }
            _ => (
                Some(error_line(
                    STYLE,
                    id,
                    CODE_APP_BAD_REQUEST,
                    "Unsupported protocol version",
                )),
                true,
            ),
        }
    }

    fn parse_error(&self, st: &mut Session, out: &mut Outcome) {
        out.push(error_line(
            STYLE,
            J::Null,
            CODE_PARSE_ERROR,
            PARSE_ERROR_TEXT,
        ));
        st.errors += 1;
        out.close = st.errors >= MAX_PEER_ERRORS;
    }
}

impl Dialect for Fulcrum {
    fn on_line(&self, srv: &ServerCtx, st: &mut Session, line: &[u8]) -> Outcome {
        let mut out = Outcome::default();
        if std::str::from_utf8(line).is_err() {
            self.parse_error(st, &mut out);
            return out;
        }
        match parse_request(line) {
            Err(observatory_protocol::message::MessageError::NotJson(_)) => {
                self.parse_error(st, &mut out)
            }
            Err(observatory_protocol::message::MessageError::NotRpc(_)) => {
                st.errors += 1;
                out.push(error_line(
                    STYLE,
                    J::Null,
                    CODE_INVALID_REQUEST,
                    "Invalid request",
                ));
                out.close = st.errors >= MAX_PEER_ERRORS;
            }
            Ok(ServerInput::Single(req)) => {
                let (reply, close) = self.handle(srv, st, &req);
                if let Some(r) = reply {
                    out.push(r);
                }
                out.close = close;
            }
            Ok(ServerInput::Batch(items)) => {
                if items.is_empty() {
                    out.push(error_line(
                        STYLE,
                        J::Null,
                        CODE_INVALID_REQUEST,
                        "Invalid request",
                    ));
                    return out;
                }
                let mut replies = Vec::new();
                for item in items {
                    match item {
                        Ok(req) => {
                            let (reply, close) = self.handle(srv, st, &req);
                            if let Some(r) = reply {
                                replies.push(J::Raw(r));
                            }
                            out.close |= close;
                        }
                        Err(_) => replies.push(J::Raw(error_line(
                            STYLE,
                            J::Null,
                            CODE_INVALID_REQUEST,
                            "Invalid request",
                        ))),
                    }
                }
                if !replies.is_empty() {
                    out.push(J::Arr(replies).write(STYLE));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_text_drops_zero_revision() {
        assert_eq!(fulcrum_version_text(&[1, 5, 0]), "1.5");
        assert_eq!(fulcrum_version_text(&[1, 4, 5]), "1.4.5");
        assert_eq!(fulcrum_version_text(&[1, 4]), "1.4");
    }
}
