//! ElectrumX 1.16.0, 1.19.0 and 2.0.0, as their source reads (PyPI `e-x`, with aiorpcX).
//!
//! Sources (file → what is emulated):
//! * `electrumx/server/session.py` (`ElectrumX` class): `PROTOCOL_MIN`/`MAX`, `server_version`
//!   ("server.version already sent", `unsupported protocol version: {protocol_version}` with
//!   ReplyAndDisconnect), `banner` (`You are connected to an {electrumx.version} server.`),
//!   `server_features` key order (hosts, pruning, server_version, protocol_min, protocol_max,
//!   genesis_hash, hash_function, services), `scripthash_to_hashX`
//!   (`{scripthash} is not a valid script hash`, code `BAD_REQUEST = 1`), `transaction_broadcast`
//!   (`the transaction was rejected by network rules.\n\n{message}\n[{raw_tx}]`), handler
//!   tables per protocol (`blockchain.relayfee` removed at 1.6), `bump_cost` amounts.
//! * 1.19 and 2.0 `SessionBase.handle_request`: before `server.version`, send the
//!   `blockchain.relayfee` and `blockchain.estimatefee` notifications meant to crash old
//!   clients (`_do_crash_old_electrum_client`), then reply `use server.version to identify
//!   client` (code 1) and disconnect. 1.16 serves requests before `server.version`.
//! * 2.0 `server/transport.py` `PaddedRSTransport`: each send is padded with spaces inserted
//!   before the final `}`/`]` up to `max(1024, next power of two)` bytes. The real transport
//!   may coalesce several queued replies into one padded packet; the simnet pads each reply.
//! * aiorpcX `jsonrpc.py`: compact `json.dumps` (`separators=(',', ':')`), key order
//!   `jsonrpc, result|error, id`; `unknown method "{method}"` (-32601); argument-count texts
//!   (-32602); `invalid JSON` / `messages must be encoded in UTF-8` (-32700, id null);
//!   `batch is empty` (-32600). aiorpcX `session.py`: cost soft/hard limits with a sleep of up
//!   to `REQUEST_SLEEP` between them, `excessive resource usage` (-101) and disconnect past
//!   the hard limit; a parse error costs ten times the base error cost.
//! * `server/env.py` defaults: `COST_SOFT_LIMIT=1000`, `COST_HARD_LIMIT=10000`,
//!   `REQUEST_SLEEP=2500` ms, `DONATION_ADDRESS=''`.

use std::time::{Duration, Instant};

use observatory_protocol::message::{parse_request, MessageError, Request, ServerInput};
use serde_json::Value;

use super::{
    echo_id, error_line, hosts_object, peers_result, positional, py_str, result_line, standard,
    version_text, version_tuple, Dialect, Outcome, ServerCtx, Session, StdError,
};
use crate::chain::GENESIS_HASH;
use crate::flavor::Flavor;
use crate::json::{Style, J};

/// aiorpcX / ElectrumX error codes.
const BAD_REQUEST: i64 = 1;
const PARSE_ERROR: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;
const METHOD_NOT_FOUND: i64 = -32601;
const INVALID_ARGS: i64 = -32602;
const EXCESSIVE_RESOURCE_USAGE: i64 = -101;

/// `COST_SOFT_LIMIT` default.
const COST_SOFT_LIMIT: f64 = 1000.0;
/// `COST_HARD_LIMIT` default.
const COST_HARD_LIMIT: f64 = 10_000.0;
/// `REQUEST_SLEEP` default, seconds: the delay at the hard limit.
const REQUEST_SLEEP_SECS: f64 = 2.5;
/// Cost decay per second (`cost_hard_limit / 10000` in ElectrumX's session manager).
const COST_DECAY_PER_SEC: f64 = COST_HARD_LIMIT / 10_000.0;
/// aiorpcX `error_base_cost`.
const ERROR_BASE_COST: f64 = 100.0;
/// Padding granularity of 2.0's `PaddedRSTransport.MIN_PACKET_SIZE`.
const MIN_PACKET_SIZE: usize = 1024;

/// Message ElectrumX sends before closing a session that skipped `server.version`.
const USE_SERVER_VERSION: &str = "use server.version to identify client";

/// One of the three ElectrumX releases.
#[derive(Debug)]
pub(crate) struct Electrumx {
    flavor: Flavor,
    protocol_min: Vec<u32>,
    protocol_max: Vec<u32>,
}

/// What one request produced.
struct Handled {
    reply: Option<String>,
    close: bool,
}

impl Electrumx {
    pub(crate) fn new(flavor: Flavor) -> Electrumx {
        let protocol_max = version_tuple(flavor.protocol_max()).unwrap_or_else(|| vec![1, 4]);
        Electrumx {
            flavor,
            protocol_min: vec![1, 4],
            protocol_max,
        }
    }

    fn requires_version_first(&self) -> bool {
        matches!(self.flavor, Flavor::Electrumx119 | Flavor::Electrumx200)
    }

    fn pads(&self) -> bool {
        self.flavor == Flavor::Electrumx200
    }

    fn finish(&self, mut text: String) -> String {
        if self.pads() {
            text = pad(text);
        }
        text
    }

    fn error(&self, id: J, code: i64, message: &str) -> String {
        self.finish(error_line(Style::CompactOrdered, id, code, message))
    }

    fn notification(&self, method: &str) -> String {
        self.finish(
            J::obj([("jsonrpc", J::s("2.0")), ("method", J::s(method))])
                .write(Style::CompactOrdered),
        )
    }

    /// Handles one request (id present) or notification (id absent: ignored, as ElectrumX has
    /// no client notification handlers below protocol 1.7).
    fn handle(
        &self,
        srv: &ServerCtx,
        st: &mut Session,
        req: &Request,
        out: &mut Outcome,
    ) -> Handled {
        let Some(id_value) = &req.id else {
            return Handled {
                reply: None,
                close: false,
            };
        };
        let id = echo_id(&Some(id_value.clone()));
        let params = positional(&req.params);
        let method = req.method.as_str();

        if self.requires_version_first() && !st.sv_seen && method != "server.version" {
            out.push(self.notification("blockchain.relayfee"));
            out.push(self.notification("blockchain.estimatefee"));
            return Handled {
                reply: Some(plain_error(id, BAD_REQUEST, USE_SERVER_VERSION)),
                close: true,
            };
        }

        st.cost += method_cost(method);
        if st.cost > COST_HARD_LIMIT {
            return Handled {
                reply: Some(plain_error(
                    id,
                    EXCESSIVE_RESOURCE_USAGE,
                    "excessive resource usage",
                )),
                close: true,
            };
        }

        let result = match method {
            "server.version" => return self.server_version(st, id, &params),
            "server.banner" => Ok(J::s(if srv.plan.banner.is_empty() {
                srv.flavor.default_banner()
            } else {
                srv.plan.banner.clone()
            })),
            "server.donation_address" => Ok(J::s(&srv.plan.donation)),
            "server.features" => Ok(self.features(srv)),
            "server.peers.subscribe" => Ok(peers_result(srv)),
            "server.ping" => Ok(J::Null),
            "blockchain.relayfee" if st.protocol.as_slice() >= [1, 6].as_slice() => {
                Err(StdError::Unknown)
            }
            _ => standard(method, &params, srv, srv.legacy_address()),
        };
        let text = match result {
            Ok(value) => result_line(Style::CompactOrdered, id, value),
            Err(e) => {
                st.cost += ERROR_BASE_COST;
                let (code, message) = self.error_text(method, &e);
                plain_error(id, code, &message)
            }
        };
        Handled {
            reply: Some(text),
            close: false,
        }
    }

    fn error_text(&self, method: &str, e: &StdError) -> (i64, String) {
        match e {
            StdError::Unknown => (METHOD_NOT_FOUND, format!("unknown method \"{method}\"")),
            StdError::Arity { given, min, max } => {
                let s = if *given == 1 { "" } else { "s" };
                if given < min {
                    (INVALID_ARGS, format!("{given} argument{s} passed to method \"{method}\" but it requires {min}"))
                } else {
                    (
                        INVALID_ARGS,
                        format!(
                            "{given} argument{s} passed to method {method} taking at most {max}"
                        ),
                    )
                }
            }
            StdError::BadScripthash(sh) => {
                (BAD_REQUEST, format!("{sh} is not a valid script hash"))
            }
            StdError::BadParam(what) => (BAD_REQUEST, format!("invalid {what}")),
            StdError::TxRejected(raw) => {
                let reason = if raw.bytes().all(|b| b.is_ascii_hexdigit()) && raw.len() % 2 == 0 {
                    "TX decode failed"
                } else {
                    "TX decode failed. Make sure the tx has at least one input."
                };
                (
                    BAD_REQUEST,
                    format!("the transaction was rejected by network rules.\n\n{reason}\n[{raw}]"),
                )
            }
            StdError::NoHeader(h) => (BAD_REQUEST, format!("height {h} out of range")),
        }
    }

    /// `server.version(client_name, protocol_version)` with aiorpcX's `protocol_version()`.
    fn server_version(&self, st: &mut Session, id: J, params: &[Value]) -> Handled {
        // 1.16 takes at most 2 arguments; 1.19+ tolerate extra ones ("MUST be tolerated").
        if self.flavor == Flavor::Electrumx116 && params.len() > 2 {
            let msg = format!(
                "{} arguments passed to method server.version taking at most 2",
                params.len()
            );
            return Handled {
                reply: Some(plain_error(id, INVALID_ARGS, &msg)),
                close: false,
            };
        }
        if st.sv_seen {
            return Handled {
                reply: Some(plain_error(id, BAD_REQUEST, "server.version already sent")),
                close: false,
            };
        }
        st.sv_seen = true;
        let requested = params.get(1).cloned().unwrap_or(Value::Null);
        match negotiate(&requested, &self.protocol_min, &self.protocol_max) {
            Some(v) => {
                st.protocol = v.clone();
                let result = J::Arr(vec![J::s(self.flavor.software()), J::s(version_text(&v))]);
                Handled {
                    reply: Some(result_line(Style::CompactOrdered, id, result)),
                    close: false,
                }
            }
            None => {
                let msg = format!("unsupported protocol version: {}", py_str(&requested));
                Handled {
                    reply: Some(plain_error(id, BAD_REQUEST, &msg)),
                    close: true,
                }
            }
        }
    }

    fn features(&self, srv: &ServerCtx) -> J {
        let mut services = Vec::new();
        if let Some(p) = srv.plan.tcp_port {
            services.push(J::s(format!("tcp://{}:{p}", srv.plan.ip)));
        }
        if let Some(p) = srv.plan.tls_port {
            services.push(J::s(format!("ssl://{}:{p}", srv.plan.ip)));
        }
        J::obj([
            ("hosts", hosts_object(srv)),
            ("pruning", J::Null),
            ("server_version", J::s(self.flavor.software())),
            ("protocol_min", J::s(version_text(&self.protocol_min))),
            ("protocol_max", J::s(version_text(&self.protocol_max))),
            ("genesis_hash", J::s(GENESIS_HASH)),
            ("hash_function", J::s("sha256")),
            ("services", J::Arr(services)),
        ])
    }
}

impl Dialect for Electrumx {
    fn on_line(&self, srv: &ServerCtx, st: &mut Session, line: &[u8]) -> Outcome {
        let now = Instant::now();
        let elapsed = now.saturating_duration_since(st.cost_at).as_secs_f64();
        st.cost = (st.cost - elapsed * COST_DECAY_PER_SEC).max(0.0);
        st.cost_at = now;

        let mut out = Outcome::default();
        if std::str::from_utf8(line).is_err() {
            st.cost += ERROR_BASE_COST * 11.0;
            out.push(self.error(J::Null, PARSE_ERROR, "messages must be encoded in UTF-8"));
            return out;
        }
        match parse_request(line) {
            Err(MessageError::NotJson(_)) => {
                st.cost += ERROR_BASE_COST * 11.0;
                out.push(self.error(J::Null, PARSE_ERROR, "invalid JSON"));
            }
            Err(MessageError::NotRpc(_)) => {
                // A scalar, or an object that is not a request (aiorpcX treats an object
                // without "method" as a response to nothing and only counts an error).
                st.cost += ERROR_BASE_COST;
                if line.trim_ascii_start().first() != Some(&b'{') {
                    out.push(self.error(
                        J::Null,
                        INVALID_REQUEST,
                        "request object must be a dictionary",
                    ));
                }
            }
            Ok(ServerInput::Single(req)) => {
                let h = self.handle(srv, st, &req, &mut out);
                if let Some(r) = h.reply {
                    out.push(self.finish(r));
                }
                out.close = h.close;
            }
            Ok(ServerInput::Batch(items)) => {
                if items.is_empty() {
                    st.cost += ERROR_BASE_COST;
                    out.push(self.error(J::Null, INVALID_REQUEST, "batch is empty"));
                    return out;
                }
                let mut replies = Vec::new();
                for item in items {
                    match item {
                        Ok(req) => {
                            let h = self.handle(srv, st, &req, &mut out);
                            if let Some(r) = h.reply {
                                replies.push(J::Raw(r));
                            }
                            out.close |= h.close;
                        }
                        Err(_) => replies.push(J::Raw(error_line(
                            Style::CompactOrdered,
                            J::Null,
                            INVALID_REQUEST,
                            "request object must be a dictionary",
                        ))),
                    }
                }
                if !replies.is_empty() {
                    out.push(self.finish(J::Arr(replies).write(Style::CompactOrdered)));
                }
            }
        }
        // Between the soft and hard limits every request sleeps a fraction of REQUEST_SLEEP.
        let fraction =
            ((st.cost - COST_SOFT_LIMIT) / (COST_HARD_LIMIT - COST_SOFT_LIMIT)).clamp(0.0, 1.0);
        out.extra_delay = Duration::from_secs_f64(fraction * REQUEST_SLEEP_SECS);
        out
    }
}

/// An error reply before padding.
fn plain_error(id: J, code: i64, message: &str) -> String {
    error_line(Style::CompactOrdered, id, code, message)
}

/// aiorpcX `util.protocol_version`: the highest common version, or None.
fn negotiate(requested: &Value, min: &[u32], max: &[u32]) -> Option<Vec<u32>> {
    let tuple = |v: &Value| {
        v.as_str()
            .and_then(version_tuple)
            .unwrap_or_else(|| vec![0])
    };
    let (client_min, client_max) = match requested {
        Value::Null => (min.to_vec(), min.to_vec()),
        Value::Array(a) if a.len() == 2 => (tuple(&a[0]), tuple(&a[1])),
        other => (tuple(other), tuple(other)),
    };
    let result = std::cmp::min(client_max, max.to_vec());
    let floor = std::cmp::max(client_min, min.to_vec());
    if result < floor || result == [0] {
        None
    } else {
        Some(result)
    }
}

/// Cost ElectrumX's handlers add per request (`bump_cost` calls in session.py).
fn method_cost(method: &str) -> f64 {
    match method {
        "server.ping" | "blockchain.headers.subscribe" => 0.1,
        "server.features" => 0.2,
        "server.version"
        | "server.banner"
        | "server.donation_address"
        | "mempool.get_fee_histogram" => 0.5,
        "server.peers.subscribe" | "blockchain.relayfee" | "blockchain.estimatefee" => 1.0,
        m if m.starts_with("blockchain.scripthash.") => 1.1,
        _ => 0.25,
    }
}

/// 2.0's padding: spaces inserted before the final `}` or `]` so that the line (with its
/// newline) is `max(1024, 2^bit_length(len))` bytes long.
fn pad(text: String) -> String {
    let wire_len = text.len() + 1;
    let bits = usize::BITS - wire_len.leading_zeros();
    let total = MIN_PACKET_SIZE.max(1usize << bits);
    let npad = total - wire_len;
    let split = text.len().saturating_sub(1);
    let (body, last) = text.split_at(split);
    let mut out = String::with_capacity(total);
    out.push_str(body);
    out.extend(std::iter::repeat_n(' ', npad));
    out.push_str(last);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn negotiation_follows_aiorpcx() {
        let (min, max116, max200) = (vec![1, 4], vec![1, 4, 2], vec![1, 7, 0]);
        assert_eq!(
            negotiate(&json!(["1.4", "1.6"]), &min, &max116),
            Some(vec![1, 4, 2])
        );
        assert_eq!(
            negotiate(&json!(["1.4", "1.6"]), &min, &max200),
            Some(vec![1, 6])
        );
        assert_eq!(negotiate(&json!("1.4"), &min, &max200), Some(vec![1, 4]));
        assert_eq!(negotiate(&json!(["9.9", "9.9"]), &min, &max200), None);
        assert_eq!(negotiate(&json!("1.2"), &min, &max200), None);
        assert_eq!(negotiate(&json!(null), &min, &max200), Some(vec![1, 4]));
        assert_eq!(negotiate(&json!("junk"), &min, &max200), None);
    }

    #[test]
    fn padding_reaches_a_power_of_two_before_the_last_brace() {
        let p = pad(r#"{"jsonrpc":"2.0","result":null,"id":1}"#.to_string());
        assert_eq!(p.len() + 1, 1024);
        assert!(p.ends_with(" }"));
        assert!(p.starts_with(r#"{"jsonrpc":"2.0","result":null,"id":1"#));
        let long = format!("{{\"a\":\"{}\"}}", "x".repeat(1500));
        assert_eq!(pad(long).len() + 1, 2048);
    }
}
