//! Turning what a server sent into bounded, typed observations.
//!
//! * [`Counted`]: wraps the session's [`Rpc`] and counts every request a probe
//!   sends (the `requests_sent` of each [`ProbeResult`](observatory_model::probes::ProbeResult)).
//! * [`result_shape`]: a short, stable description of a JSON result
//!   (`object{confirmed,unconfirmed}`, `array[3]{height,tx_hash}`, `null`).
//! * [`observe`]: a [`CallOutcome`] as a [`CallObservation`].
//! * [`RawReply`]: one raw reply line parsed without trusting it, plus its
//!   [`reply_form`] (top-level key order and separator style), a fingerprint
//!   of the JSON encoder the server uses.
//!
//! Everything here is attacker-controlled input: sizes are capped by named
//! constants and nothing panics on any byte sequence.

use observatory_model::probes::CallObservation;
use observatory_model::raw::RpcError;
use observatory_protocol::message::{classify, truncate, Incoming, MAX_ERROR_TEXT};
use serde_json::Value;

use crate::rpc::{CallOutcome, RawOutcome, Rpc};

/// Most object keys listed in a shape (servers control how many keys they send).
pub const MAX_SHAPE_KEYS: usize = 12;
/// Longest key name kept in a shape.
pub const MAX_SHAPE_KEY_LEN: usize = 32;
/// Bytes of a raw reply line scanned for its form (the form is decided by the first keys).
pub const MAX_FORM_SCAN: usize = 64 * 1024;
/// Most top-level keys listed in a reply form.
pub const MAX_FORM_KEYS: usize = 8;

/// A request counter around the session.
#[derive(Debug)]
pub struct Counted<'a, R> {
    rpc: &'a mut R,
    sent: u32,
}

impl<'a, R: Rpc> Counted<'a, R> {
    /// Wraps `rpc`; the count starts at zero.
    pub fn new(rpc: &'a mut R) -> Self {
        Counted { rpc, sent: 0 }
    }

    /// Requests sent through this wrapper (batch items count one each).
    pub fn sent(&self) -> u32 {
        self.sent
    }

    /// Budget left on the underlying session.
    pub fn budget_left(&self) -> u32 {
        self.rpc.budget_left()
    }

    /// True once the underlying connection is closed.
    pub fn is_closed(&self) -> bool {
        self.rpc.is_closed()
    }

    /// One request.
    pub async fn call(&mut self, method: &str, params: Value) -> CallOutcome {
        let out = self.rpc.call(method, params).await;
        if !matches!(out, CallOutcome::OverBudget) {
            self.sent = self.sent.saturating_add(1);
        }
        out
    }

    /// Requests pipelined on the connection (each its own line, all sent before any reply is
    /// read); each one not refused for budget counts as sent.
    pub async fn pipeline(&mut self, calls: Vec<(String, Value)>) -> Vec<CallOutcome> {
        let outs = self.rpc.pipeline(calls).await;
        let sent = outs
            .iter()
            .filter(|o| !matches!(o, CallOutcome::OverBudget))
            .count();
        self.sent = self
            .sent
            .saturating_add(u32::try_from(sent).unwrap_or(u32::MAX));
        outs
    }

    /// One JSON-RPC batch.
    pub async fn batch(&mut self, calls: Vec<(String, Value)>) -> (Vec<CallOutcome>, f64) {
        let n = u32::try_from(calls.len()).unwrap_or(u32::MAX);
        let (outs, ms) = self.rpc.batch(calls).await;
        if !outs.iter().all(|o| matches!(o, CallOutcome::OverBudget)) {
            self.sent = self.sent.saturating_add(n);
        }
        (outs, ms)
    }

    /// One raw line.
    pub async fn send_raw(&mut self, line: &[u8]) -> RawOutcome {
        let out = self.rpc.send_raw(line).await;
        if !matches!(out, RawOutcome::OverBudget) {
            self.sent = self.sent.saturating_add(1);
        }
        out
    }
}

/// Short description of a JSON value's shape (never its content).
pub fn result_shape(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(_) => "bool".into(),
        Value::Number(_) => "number".into(),
        Value::String(_) => "string".into(),
        Value::Object(m) => format!("object{{{}}}", key_list(m.keys())),
        Value::Array(items) => match items.first() {
            Some(Value::Object(m)) => format!("array[{}]{{{}}}", items.len(), key_list(m.keys())),
            Some(other) => format!("array[{}]<{}>", items.len(), result_shape(other)),
            None => "array[0]".into(),
        },
    }
}

fn key_list<'k>(keys: impl Iterator<Item = &'k String>) -> String {
    let mut k: Vec<String> = keys
        .take(MAX_SHAPE_KEYS)
        .map(|s| truncate(s, MAX_SHAPE_KEY_LEN))
        .collect();
    k.sort();
    k.join(",")
}

/// The outcome word used in [`CallObservation::outcome`].
pub fn outcome_word(o: &CallOutcome) -> &'static str {
    match o {
        CallOutcome::Result { .. } => "answered",
        CallOutcome::Error { .. } => "error",
        CallOutcome::Timeout => "timeout",
        CallOutcome::Closed { .. } => "closed",
        CallOutcome::OverBudget => "over-budget",
    }
}

/// A call outcome as recorded.
pub fn observe(method: &str, o: &CallOutcome) -> CallObservation {
    let (error, result_shape) = match o {
        CallOutcome::Result { value, .. } => (None, Some(result_shape(value))),
        CallOutcome::Error { error, .. } => (Some(bounded_error(error)), None),
        _ => (None, None),
    };
    CallObservation {
        method: method.to_string(),
        rtt_ms: o.rtt_ms(),
        error,
        result_shape,
        outcome: outcome_word(o).into(),
    }
}

/// A copy of `e` with the message cut to [`MAX_ERROR_TEXT`].
pub fn bounded_error(e: &RpcError) -> RpcError {
    RpcError {
        code: e.code,
        message: truncate(&e.message, MAX_ERROR_TEXT),
    }
}

/// One raw reply line, parsed without trusting it.
#[derive(Debug, Clone, PartialEq)]
pub enum RawReply {
    /// An object with an `error` member.
    Error {
        /// `error.code` when it is an integer.
        code: Option<i64>,
        /// The message (or the whole error rendered as text), truncated.
        message: String,
    },
    /// An object with a `result`, or an array (batch answer).
    Result {
        /// Shape of the result (or of the whole array for a batch answer).
        shape: String,
    },
    /// A server-initiated notification (not an answer to anything we sent).
    Notification {
        /// Its method, truncated.
        method: String,
    },
    /// Valid JSON but not a reply (e.g. `42`, an object without result or error).
    NotRpc,
    /// Not JSON at all.
    NotJson,
}

impl RawReply {
    /// Parses one reply line.
    pub fn parse(text: &str) -> RawReply {
        match classify(text.trim_end().as_bytes()) {
            Ok(Incoming::Reply(r)) => match r.error_parts() {
                Some((code, message)) => RawReply::Error { code, message },
                None => RawReply::Result {
                    shape: r
                        .result
                        .as_ref()
                        .map_or_else(|| "absent".into(), result_shape),
                },
            },
            Ok(Incoming::Batch(items)) => RawReply::Result {
                shape: batch_shape(&items),
            },
            Ok(Incoming::Notification(n)) => RawReply::Notification {
                method: truncate(&n.method, MAX_SHAPE_KEY_LEN),
            },
            Ok(_) => RawReply::NotRpc,
            Err(observatory_protocol::message::MessageError::NotJson(_)) => RawReply::NotJson,
            Err(_) => RawReply::NotRpc,
        }
    }
}

fn batch_shape(items: &[Incoming]) -> String {
    let kinds: Vec<&str> = items
        .iter()
        .take(MAX_SHAPE_KEYS)
        .map(|i| match i {
            Incoming::Reply(r) if r.error_parts().is_some() => "error",
            Incoming::Reply(_) => "result",
            _ => "other",
        })
        .collect();
    format!("array[{}]<{}>", items.len(), kinds.join(","))
}

/// The encoder fingerprint of a raw reply line: top-level key order and separator style,
/// e.g. `jsonrpc,result,id;compact` (aiorpcx ≥ 0.22), `jsonrpc,result,id;spaced` (older aiorpcx),
/// `id,jsonrpc,result;compact` (sorted-key encoders: Qt, serde_json). A batch answer is
/// `batch:` followed by the form of its first element. None when the line is not a JSON object or array.
pub fn reply_form(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let bytes = bytes.get(..bytes.len().min(MAX_FORM_SCAN)).unwrap_or(bytes);
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace())?;
    match bytes.get(start)? {
        b'{' => object_form(bytes, start),
        b'[' => {
            let inner = bytes
                .iter()
                .skip(start + 1)
                .position(|b| !b.is_ascii_whitespace())?
                + start
                + 1;
            match bytes.get(inner)? {
                b'{' => object_form(bytes, inner).map(|f| format!("batch:{f}")),
                b']' => Some("batch:empty".into()),
                _ => Some("batch:non-object".into()),
            }
        }
        _ => None,
    }
}

/// Scans the object starting at `open` (a `{`) for its top-level keys.
fn object_form(bytes: &[u8], open: usize) -> Option<String> {
    let mut keys: Vec<String> = Vec::new();
    let mut spaced = false;
    let mut depth = 0usize;
    let mut i = open;
    let mut last_string: Option<(usize, usize)> = None;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'"' => {
                let end = string_end(bytes, i)?;
                last_string = Some((i + 1, end));
                i = end;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    break;
                }
            }
            b':' if depth == 1 => {
                if let Some((s, e)) = last_string.take() {
                    if keys.len() < MAX_FORM_KEYS {
                        let key = String::from_utf8_lossy(bytes.get(s..e).unwrap_or_default());
                        keys.push(truncate(&key, MAX_SHAPE_KEY_LEN));
                    }
                }
                spaced |= bytes.get(i + 1) == Some(&b' ');
            }
            b',' if depth == 1 => spaced |= bytes.get(i + 1) == Some(&b' '),
            _ => {}
        }
        i += 1;
    }
    Some(format!(
        "{};{}",
        keys.join(","),
        if spaced { "spaced" } else { "compact" }
    ))
}

/// Index of the closing quote of the string opening at `open`.
fn string_end(bytes: &[u8], open: usize) -> Option<usize> {
    let mut i = open + 1;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'\\' => i += 2,
            b'"' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shapes() {
        assert_eq!(
            result_shape(&json!({"unconfirmed": 0, "confirmed": 5})),
            "object{confirmed,unconfirmed}"
        );
        assert_eq!(result_shape(&json!([])), "array[0]");
        assert_eq!(
            result_shape(&json!([{"tx_hash": "a", "height": 1}])),
            "array[1]{height,tx_hash}"
        );
        assert_eq!(result_shape(&json!(["a", "b"])), "array[2]<string>");
        assert_eq!(result_shape(&Value::Null), "null");
    }

    #[test]
    fn forms_of_known_encoders() {
        // aiorpcx 0.25 (ElectrumX 2.0.0): json.dumps(separators=(',', ':')), insertion order.
        assert_eq!(
            reply_form(r#"{"jsonrpc":"2.0","result":null,"id":3}"#).unwrap(),
            "jsonrpc,result,id;compact"
        );
        // aiorpcx 0.18 (ElectrumX 1.16.0): json.dumps defaults.
        assert_eq!(
            reply_form(r#"{"jsonrpc": "2.0", "result": null, "id": 3}"#).unwrap(),
            "jsonrpc,result,id;spaced"
        );
        // Qt QVariantMap / serde_json BTreeMap: sorted keys.
        assert_eq!(
            reply_form(r#"{"error":{"code":-32601,"message":"x, y: z"},"id":3,"jsonrpc":"2.0"}"#)
                .unwrap(),
            "error,id,jsonrpc;compact"
        );
        assert_eq!(
            reply_form(r#"[{"id":1,"result":null},{"id":2,"result":null}]"#).unwrap(),
            "batch:id,result;compact"
        );
        assert_eq!(reply_form("[]").unwrap(), "batch:empty");
        assert_eq!(reply_form("not json"), None);
        // Padding (ElectrumX 2.x) does not change the form.
        assert_eq!(
            reply_form("{\"id\":1,\"result\":1}      ").unwrap(),
            "id,result;compact"
        );
    }

    #[test]
    fn keys_inside_strings_and_escapes_do_not_count() {
        assert_eq!(
            reply_form(r#"{"a\"b":"{\"c\":1}","d":[{"e":1}]}"#).unwrap(),
            "a\\\"b,d;compact"
        );
    }

    #[test]
    fn hostile_lines_never_panic() {
        for s in [
            "{", "{\"", "[", "[{", "{\"a\":", "\"", "{\\", "[[[[[[", "{\"a\"\\",
        ] {
            let _ = reply_form(s);
            let _ = RawReply::parse(s);
        }
    }

    #[test]
    fn raw_replies() {
        assert_eq!(
            RawReply::parse(r#"{"jsonrpc":"2.0","error":{"code":1,"message":"bad"},"id":1}"#),
            RawReply::Error {
                code: Some(1),
                message: "bad".into()
            }
        );
        // mempool/electrs sends the error as a bare string.
        assert_eq!(
            RawReply::parse(r#"{"jsonrpc":"2.0","id":1,"error":"unknown method x []"}"#),
            RawReply::Error {
                code: None,
                message: "unknown method x []".into()
            }
        );
        assert_eq!(
            RawReply::parse("[]"),
            RawReply::Result {
                shape: "array[0]<>".into()
            }
        );
        assert_eq!(RawReply::parse("<html>"), RawReply::NotJson);
        assert_eq!(RawReply::parse("42"), RawReply::NotRpc);
        assert_eq!(
            RawReply::parse(r#"{"jsonrpc":"2.0","method":"blockchain.relayfee","params":[]}"#),
            RawReply::Notification {
                method: "blockchain.relayfee".into()
            }
        );
    }
}
