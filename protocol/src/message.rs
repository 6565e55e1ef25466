//! JSON-RPC messages as Electrum uses them.
//!
//! A client sends requests with integer ids; the server sends replies
//! (objects with `id` and `result` or `error`), notifications (objects with
//! `method` and no `id`), or arrays of replies answering a batch.
//! [`classify`] sorts one received line into those kinds without trusting it:
//! non-integer ids, objects that are neither, nesting beyond serde_json's
//! recursion limit and invalid UTF-8 all come back as data or as a
//! [`MessageError`], never as a panic.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use thiserror::Error;

/// Longest text kept from a server-supplied error message, bytes.
pub const MAX_ERROR_TEXT: usize = 2048;

/// A received line that is not an Electrum message.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MessageError {
    /// Not JSON (includes invalid UTF-8 and nesting deeper than serde_json's limit of 128).
    #[error("not JSON: {0}")]
    NotJson(String),
    /// Valid JSON, but neither reply, notification nor batch.
    #[error("not a JSON-RPC message: {0}")]
    NotRpc(&'static str),
}

/// A reply to one request.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// The id when it was a non-negative integer (the only kind this client sends).
    pub id: Option<u64>,
    /// The id exactly as sent, when it was not a non-negative integer (string, null, float, …).
    pub odd_id: Option<Value>,
    /// `result`, when present.
    pub result: Option<Value>,
    /// `error`, when present.
    pub error: Option<Value>,
    /// Whether `"jsonrpc": "2.0"` was present.
    pub jsonrpc_2: bool,
}

impl Reply {
    /// `error.code` and `error.message` as the scanner records them (message truncated).
    pub fn error_parts(&self) -> Option<(Option<i64>, String)> {
        let e = self.error.as_ref()?;
        if e.is_null() {
            return None;
        }
        let code = e.get("code").and_then(Value::as_i64);
        let message = match (e, e.get("message")) {
            (_, Some(Value::String(s))) => s.clone(),
            (_, Some(other)) => other.to_string(),
            (Value::String(s), None) => s.clone(),
            (other, None) => other.to_string(),
        };
        Some((code, truncate(&message, MAX_ERROR_TEXT)))
    }
}

/// A server-initiated message.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// `method`.
    pub method: String,
    /// `params` (Null when absent).
    pub params: Value,
}

/// One received line, classified.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    /// A reply (matched to a request by id by the caller).
    Reply(Reply),
    /// A notification (`method`, no `id`).
    Notification(Notification),
    /// An array: the answer to a batch. Elements that are not objects become `Invalid`.
    Batch(Vec<Incoming>),
    /// An element of a batch that is not a message.
    Invalid(&'static str),
}

/// Classifies one line (without its newline).
pub fn classify(line: &[u8]) -> Result<Incoming, MessageError> {
    let value: Value =
        serde_json::from_slice(line).map_err(|e| MessageError::NotJson(e.to_string()))?;
    match value {
        Value::Array(items) => Ok(Incoming::Batch(
            items
                .into_iter()
                .map(|v| classify_value(v).unwrap_or_else(Incoming::Invalid))
                .collect(),
        )),
        v => classify_value(v).map_err(MessageError::NotRpc),
    }
}

fn classify_value(value: Value) -> Result<Incoming, &'static str> {
    let Value::Object(mut obj) = value else {
        return Err("not an object");
    };
    let jsonrpc_2 = obj.get("jsonrpc").and_then(Value::as_str) == Some("2.0");
    let has_result = obj.contains_key("result");
    let has_error = obj.contains_key("error");
    let id = obj.remove("id");
    let is_reply = has_result || has_error;
    if !is_reply {
        if let Some(Value::String(method)) = obj.remove("method") {
            // A message with a method is a notification when it has no id (or a null id).
            if id.as_ref().is_none_or(Value::is_null) {
                let params = obj.remove("params").unwrap_or(Value::Null);
                return Ok(Incoming::Notification(Notification { method, params }));
            }
            return Err("server sent a request");
        }
        return Err("neither result, error nor method");
    }
    let (id, odd_id) = match id {
        Some(Value::Number(n)) if n.as_u64().is_some() => (n.as_u64(), None),
        Some(other) => (None, Some(other)),
        None => (None, Some(Value::Null)),
    };
    Ok(Incoming::Reply(Reply {
        id,
        odd_id,
        result: obj.remove("result"),
        error: obj.remove("error"),
        jsonrpc_2,
    }))
}

/// A request as a server receives it (used by the simnet).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// `id` as sent (None for a notification-style request).
    #[serde(default)]
    pub id: Option<Value>,
    /// `method`.
    pub method: String,
    /// `params` (defaults to an empty list).
    #[serde(default)]
    pub params: Value,
    /// `jsonrpc` member, when sent.
    #[serde(default)]
    pub jsonrpc: Option<String>,
}

/// What a server-side parse of one line gives.
#[derive(Debug, Clone, PartialEq)]
pub enum ServerInput {
    /// One request.
    Single(Request),
    /// A batch (possibly empty); invalid elements are `Err` with a reason.
    Batch(Vec<Result<Request, String>>),
}

/// Parses one line on the server side.
pub fn parse_request(line: &[u8]) -> Result<ServerInput, MessageError> {
    let value: Value =
        serde_json::from_slice(line).map_err(|e| MessageError::NotJson(e.to_string()))?;
    match value {
        Value::Array(items) => Ok(ServerInput::Batch(
            items
                .into_iter()
                .map(|v| serde_json::from_value::<Request>(v).map_err(|e| e.to_string()))
                .collect(),
        )),
        v @ Value::Object(_) => serde_json::from_value(v)
            .map(ServerInput::Single)
            .map_err(|_| MessageError::NotRpc("invalid request")),
        _ => Err(MessageError::NotRpc("not an object")),
    }
}

/// Encodes a JSON-RPC 2.0 request line (with newline), as the Electrum client does.
pub fn encode_request(id: u64, method: &str, params: &Value) -> Vec<u8> {
    let mut out = serde_json::to_vec(
        &json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}),
    )
    .expect("serializing a Value cannot fail");
    out.push(b'\n');
    out
}

/// Encodes a batch of requests as one line.
pub fn encode_batch(requests: &[(u64, &str, Value)]) -> Vec<u8> {
    let items: Vec<Value> = requests
        .iter()
        .map(|(id, method, params)| json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
        .collect();
    let mut out =
        serde_json::to_vec(&Value::Array(items)).expect("serializing a Value cannot fail");
    out.push(b'\n');
    out
}

/// Cuts a string to at most `max` bytes on a char boundary, marking the cut with `…`.
pub fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_with_result() {
        let m = classify(br#"{"jsonrpc":"2.0","id":7,"result":"ok"}"#).unwrap();
        let Incoming::Reply(r) = m else { panic!() };
        assert_eq!(r.id, Some(7));
        assert_eq!(r.result, Some(json!("ok")));
        assert!(r.jsonrpc_2);
        assert_eq!(r.error_parts(), None);
    }

    #[test]
    fn reply_with_error() {
        let m =
            classify(br#"{"id":3,"error":{"code":-32601,"message":"unknown method"}}"#).unwrap();
        let Incoming::Reply(r) = m else { panic!() };
        assert_eq!(
            r.error_parts(),
            Some((Some(-32601), "unknown method".to_string()))
        );
        assert!(!r.jsonrpc_2);
    }

    #[test]
    fn error_that_is_not_an_object_is_kept_as_text() {
        let Incoming::Reply(r) = classify(br#"{"id":3,"result":null,"error":"boom"}"#).unwrap()
        else {
            panic!()
        };
        assert_eq!(r.error_parts(), Some((None, "boom".to_string())));
    }

    #[test]
    fn notification_is_not_a_reply() {
        let m = classify(
            br#"{"jsonrpc":"2.0","method":"blockchain.headers.subscribe","params":[{"height":5}]}"#,
        )
        .unwrap();
        assert!(
            matches!(m, Incoming::Notification(n) if n.method == "blockchain.headers.subscribe")
        );
    }

    #[test]
    fn odd_ids_are_kept_apart() {
        for line in [
            &br#"{"id":"1","result":1}"#[..],
            br#"{"id":-1,"result":1}"#,
            br#"{"id":1.5,"result":1}"#,
            br#"{"result":1}"#,
        ] {
            let Incoming::Reply(r) = classify(line).unwrap() else {
                panic!()
            };
            assert_eq!(r.id, None);
            assert!(r.odd_id.is_some());
        }
    }

    #[test]
    fn batch_answers() {
        let m = classify(br#"[{"id":1,"result":1},{"id":2,"error":{"code":1,"message":"x"}},5]"#)
            .unwrap();
        let Incoming::Batch(items) = m else { panic!() };
        assert_eq!(items.len(), 3);
        assert!(matches!(items[2], Incoming::Invalid(_)));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(matches!(
            classify(b"\xff\xfe"),
            Err(MessageError::NotJson(_))
        ));
        assert!(matches!(classify(b"<html>"), Err(MessageError::NotJson(_))));
        assert!(matches!(classify(b"42"), Err(MessageError::NotRpc(_))));
        assert!(matches!(
            classify(br#"{"foo":1}"#),
            Err(MessageError::NotRpc(_))
        ));
        let deep = "[".repeat(100_000);
        assert!(matches!(
            classify(deep.as_bytes()),
            Err(MessageError::NotJson(_))
        ));
    }

    #[test]
    fn request_roundtrip() {
        let line = encode_request(
            1,
            "server.version",
            &json!(["electrum/4.5.8", ["1.4", "1.6"]]),
        );
        assert_eq!(line.last(), Some(&b'\n'));
        let ServerInput::Single(r) = parse_request(&line[..line.len() - 1]).unwrap() else {
            panic!()
        };
        assert_eq!(r.method, "server.version");
        assert_eq!(r.id, Some(json!(1)));
        let b = encode_batch(&[(1, "server.ping", json!([])), (2, "server.ping", json!([]))]);
        let ServerInput::Batch(items) = parse_request(&b[..b.len() - 1]).unwrap() else {
            panic!()
        };
        assert_eq!(items.len(), 2);
    }

    #[test]
    fn truncate_on_char_boundary() {
        assert_eq!(truncate("héllo", 2), "h…");
        assert_eq!(truncate("abc", 3), "abc");
    }
}
