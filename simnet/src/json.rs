//! JSON text exactly as each emulated implementation writes it.
//!
//! Implementations differ in *how* they serialize the same value, and those
//! differences are fingerprints the scanner may use:
//!
//! * ElectrumX (aiorpcx `encode_payload`): `json.dumps(payload, separators=(',', ':'))`,
//!   keys in insertion order (`aiorpcX jsonrpc.py`).
//! * Electrum Personal Server: plain `json.dumps(...)`, i.e. `", "` and `": "` separators,
//!   insertion order (`electrumpersonalserver/server/electrumprotocol.py`, `_send_response`).
//! * electrs / esplora / mempool electrs: `serde_json::json!` without `preserve_order`,
//!   so object keys come out sorted (`src/electrum.rs`, `src/electrum/server.rs`).
//! * Fulcrum: Qt `QVariantMap`, also key-sorted, compact (`src/RPC.cpp`).
//!
//! serde_json's `Value` cannot keep insertion order without a workspace-wide feature
//! flag, so the simnet builds replies as [`J`] and writes them with a [`Style`].

use std::fmt::Write as _;

/// How objects are laid out on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    /// Compact, keys in the order given (Python `separators=(',', ':')`).
    CompactOrdered,
    /// Python `json.dumps` defaults: `", "` and `": "`, keys in the order given.
    PythonDefault,
    /// Compact, keys sorted (serde_json `Map` = `BTreeMap`, Qt `QVariantMap`).
    CompactSorted,
}

/// A JSON value whose object keys keep the order they were built in.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum J {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float (written the way the implementation's language prints it).
    Float(f64),
    /// A string.
    Str(String),
    /// An array.
    Arr(Vec<J>),
    /// An object, in build order.
    Obj(Vec<(String, J)>),
    /// Already-serialized JSON text inserted verbatim (e.g. a client's id echoed back).
    Raw(String),
}

impl J {
    /// A string value.
    pub(crate) fn s(text: impl Into<String>) -> J {
        J::Str(text.into())
    }

    /// An object from `(key, value)` pairs.
    pub(crate) fn obj<const N: usize>(pairs: [(&str, J); N]) -> J {
        J::Obj(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    }

    /// Converts a serde_json value (object keys come out sorted, as serde_json stores them).
    pub(crate) fn from_value(v: &serde_json::Value) -> J {
        match v {
            serde_json::Value::Null => J::Null,
            serde_json::Value::Bool(b) => J::Bool(*b),
            serde_json::Value::Number(n) => J::Raw(n.to_string()),
            serde_json::Value::String(s) => J::Str(s.clone()),
            serde_json::Value::Array(a) => J::Arr(a.iter().map(J::from_value).collect()),
            serde_json::Value::Object(o) => J::Obj(
                o.iter()
                    .map(|(k, v)| (k.clone(), J::from_value(v)))
                    .collect(),
            ),
        }
    }

    /// Serializes with the given style.
    pub(crate) fn write(&self, style: Style) -> String {
        let mut out = String::new();
        self.write_into(style, &mut out);
        out
    }

    fn write_into(&self, style: Style, out: &mut String) {
        let (item_sep, kv_sep) = match style {
            Style::PythonDefault => (", ", ": "),
            Style::CompactOrdered | Style::CompactSorted => (",", ":"),
        };
        match self {
            J::Null => out.push_str("null"),
            J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            J::Int(i) => {
                let _ = write!(out, "{i}");
            }
            J::Float(f) => out.push_str(&format_float(*f, style)),
            J::Str(s) => out.push_str(&quote(s, style)),
            J::Raw(r) => out.push_str(r),
            J::Arr(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(item_sep);
                    }
                    item.write_into(style, out);
                }
                out.push(']');
            }
            J::Obj(pairs) => {
                let mut refs: Vec<&(String, J)> = pairs.iter().collect();
                if style == Style::CompactSorted {
                    refs.sort_by(|a, b| a.0.cmp(&b.0));
                }
                out.push('{');
                for (i, (k, v)) in refs.into_iter().enumerate() {
                    if i > 0 {
                        out.push_str(item_sep);
                    }
                    out.push_str(&quote(k, style));
                    out.push_str(kv_sep);
                    v.write_into(style, out);
                }
                out.push('}');
            }
        }
    }
}

/// Quotes a string. Python's `json.dumps` escapes non-ASCII (`ensure_ascii=True`); serde and Qt do not.
fn quote(s: &str, style: Style) -> String {
    let plain = serde_json::Value::String(s.to_string()).to_string();
    match style {
        Style::CompactSorted => plain,
        Style::CompactOrdered | Style::PythonDefault => {
            let mut out = String::with_capacity(plain.len());
            for c in plain.chars() {
                if c.is_ascii() {
                    out.push(c);
                } else {
                    let mut buf = [0u16; 2];
                    for unit in c.encode_utf16(&mut buf) {
                        let _ = write!(out, "\\u{unit:04x}");
                    }
                }
            }
            out
        }
    }
}

/// Prints a float the way the implementation's language does: Python `repr` for the
/// Python servers (`1e-05`, `0.0002`), Rust's shortest round-trip form (serde_json/ryu)
/// for the others (`0.00001`, `1.5e-7`).
fn format_float(f: f64, style: Style) -> String {
    if !f.is_finite() {
        return "null".to_string();
    }
    match style {
        Style::CompactSorted => serde_json::Value::from(f).to_string(),
        Style::CompactOrdered | Style::PythonDefault => python_repr(f),
    }
}

/// Python's `repr(float)`: shortest round-trip digits; scientific notation below 1e-4 or
/// from 1e16 on, with a two-digit minimum exponent; integral values keep a `.0`.
fn python_repr(f: f64) -> String {
    let abs = f.abs();
    if abs != 0.0 && !(1e-4..1e16).contains(&abs) {
        let s = format!("{f:e}"); // e.g. "1e-5", "1.5e-7"
        if let Some((mantissa, exp)) = s.split_once('e') {
            let (sign, digits) = match exp.strip_prefix('-') {
                Some(d) => ("-", d),
                None => ("+", exp),
            };
            return format!("{mantissa}e{sign}{digits:0>2}");
        }
        return s;
    }
    let s = format!("{f}");
    if s.contains('.') {
        s
    } else {
        format!("{s}.0")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn styles_differ_as_the_implementations_do() {
        let v = J::obj([
            ("jsonrpc", J::s("2.0")),
            ("result", J::Arr(vec![J::Int(1), J::Null])),
            ("id", J::Int(7)),
        ]);
        assert_eq!(
            v.write(Style::CompactOrdered),
            r#"{"jsonrpc":"2.0","result":[1,null],"id":7}"#
        );
        assert_eq!(
            v.write(Style::PythonDefault),
            r#"{"jsonrpc": "2.0", "result": [1, null], "id": 7}"#
        );
        assert_eq!(
            v.write(Style::CompactSorted),
            r#"{"id":7,"jsonrpc":"2.0","result":[1,null]}"#
        );
    }

    #[test]
    fn floats_print_like_python_or_rust() {
        let table = [
            (1e-5, "1e-05", "0.00001"),
            (0.0002, "0.0002", "0.0002"),
            (12.0, "12.0", "12.0"),
            (1.5e-7, "1.5e-07", "1.5e-7"),
        ];
        for (f, py, rs) in table {
            assert_eq!(J::Float(f).write(Style::CompactOrdered), py, "{f}");
            assert_eq!(J::Float(f).write(Style::CompactSorted), rs, "{f}");
        }
    }

    #[test]
    fn python_escapes_non_ascii() {
        assert_eq!(J::s("é").write(Style::PythonDefault), r#""\u00e9""#);
        assert_eq!(J::s("é").write(Style::CompactSorted), "\"é\"");
    }
}
