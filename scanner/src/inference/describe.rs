//! The normalized behavior description and the behavior hash over it.
//!
//! [`describe`] turns a finished record into sorted `key=value` lines that
//! depend only on how the server software behaves: error codes and normalized
//! messages, feature key set, padding, batch support, pre-version outcome,
//! legacy-address answer, result shapes, reply forms. Nothing volatile goes
//! in: no heights, hashes, hosts, ports, timing, banner text or counts of
//! history entries. [`behavior_hash`] is SHA-256 over those lines; the exact
//! list of inputs is documented in `docs/probes.md`.

use std::collections::{BTreeMap, BTreeSet};

use observatory_model::probes::{CallObservation, ProbeDetail};
use observatory_model::raw::{Answer, EndpointRecord, RpcError};
use observatory_protocol::message::truncate;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::claim::clean_version;
use crate::probes::malformed::{
    INVALID_TX_HEX, NON_HEX_SCRIPTHASH, SHORT_SCRIPTHASH, UNKNOWN_METHOD,
};

/// Version tag of the description format, hashed first: bump when the inputs change.
/// v2: notifications pushed before a malformed case's reply, and the notified-then-closed form.
pub const DESCRIPTION_VERSION: &str = "behavior-v2";
/// Longest normalized message kept.
pub const MAX_NORMALIZED_MESSAGE: usize = 120;
/// Hex runs at least this long become `<hex>` (script hashes, txids, raw transactions).
pub const MIN_HEX_RUN: usize = 16;
/// Most feature keys listed.
pub const MAX_FEATURE_KEYS: usize = 24;
/// Outcomes that say nothing about the server (our budget or time ran out, or no connection):
/// left out of the description so that they cannot split two identical servers.
pub const NOT_ANSWERS: [&str; 4] = ["over-budget", "not-run", "no-connection", "timeout"];

/// Normalizes an error message for comparison across servers: our own fixed arguments become
/// `<arg>`, long hex runs `<hex>`, numbers `<n>`, lower case, single spaces, bounded length.
pub fn normalize_message(message: &str) -> String {
    let mut m = message.to_string();
    for ours in [
        NON_HEX_SCRIPTHASH,
        SHORT_SCRIPTHASH,
        INVALID_TX_HEX,
        UNKNOWN_METHOD,
    ] {
        m = m.replace(ours, "<arg>");
    }
    let m = m.to_lowercase();
    let mut out = String::with_capacity(m.len().min(4 * MAX_NORMALIZED_MESSAGE));
    let chars: Vec<char> = m.chars().take(8 * MAX_NORMALIZED_MESSAGE).collect();
    let mut i = 0;
    while i < chars.len() && out.len() < 2 * MAX_NORMALIZED_MESSAGE {
        let c = chars.get(i).copied().unwrap_or(' ');
        let hex_run = chars
            .iter()
            .skip(i)
            .take_while(|c| c.is_ascii_hexdigit())
            .count();
        if hex_run >= MIN_HEX_RUN {
            out.push_str("<hex>");
            i += hex_run;
        } else if c.is_ascii_digit() {
            out.push_str("<n>");
            i += chars
                .iter()
                .skip(i)
                .take_while(|c| c.is_ascii_digit())
                .count();
        } else if c.is_whitespace() {
            if !out.ends_with(' ') {
                out.push(' ');
            }
            i += 1;
        } else {
            out.push(c);
            i += 1;
        }
    }
    truncate(out.trim(), MAX_NORMALIZED_MESSAGE)
}

fn error_word(e: &RpcError) -> String {
    let code = e.code.map_or_else(|| "none".to_string(), |c| c.to_string());
    format!("error:{code}:{}", normalize_message(&e.message))
}

fn answer_word<T>(a: Option<&Answer<T>>) -> String {
    match a {
        None => "absent".into(),
        Some(Answer { error: Some(e), .. }) => error_word(e),
        Some(Answer {
            result: Some(_), ..
        }) => "ok".into(),
        Some(_) => "empty".into(),
    }
}

/// Shape without counts: `array[3]{height,tx_hash}` → `array` (history lengths are volatile).
fn stable_shape(shape: &str) -> String {
    if shape.starts_with("array") {
        "array".into()
    } else {
        shape.into()
    }
}

fn call_word(c: &CallObservation) -> String {
    match (&c.error, &c.result_shape) {
        (Some(e), _) => error_word(e),
        (None, Some(s)) => format!("answered:{}", stable_shape(s)),
        (None, None) => c.outcome.clone(),
    }
}

fn short_method(m: &str) -> &str {
    m.rsplit('.').next().unwrap_or(m)
}

fn yes(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// The normalized behavior description: sorted `key=value` lines.
pub fn describe(r: &EndpointRecord) -> Vec<String> {
    let mut d: Vec<String> = Vec::new();
    let w = &r.wire;
    d.push(format!("wire.padded={}", yes(w.padded_lines > 0)));
    d.push(format!("wire.crlf={}", yes(w.crlf_lines > 0)));
    d.push(format!(
        "wire.jsonrpc2={}",
        w.jsonrpc_2.map_or("unknown", yes)
    ));
    describe_metadata(r, &mut d);
    for p in &r.probes {
        match &p.detail {
            ProbeDetail::AddressFormats(a) => {
                // Per method, the set of answers over every format queried: the same whether the
                // probe queried all four formats or was cut by its time cap after the first.
                let mut per_method: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
                for c in a.formats.iter().flat_map(|f| f.calls.iter()) {
                    if !NOT_ANSWERS.contains(&c.outcome.as_str()) {
                        per_method
                            .entry(short_method(&c.method))
                            .or_default()
                            .insert(call_word(c));
                    }
                }
                for (method, words) in per_method {
                    let words: Vec<String> = words.into_iter().collect();
                    d.push(format!("address.{method}={}", words.join("|")));
                }
                for c in &a.legacy_address {
                    d.push(format!(
                        "legacy.{}={}",
                        short_method(&c.method),
                        call_word(c)
                    ));
                }
            }
            ProbeDetail::Malformed(m) => {
                for c in m
                    .cases
                    .iter()
                    .filter(|c| !NOT_ANSWERS.contains(&c.outcome.as_str()))
                {
                    if !c.notifications_before_reply.is_empty() {
                        d.push(format!(
                            "malformed.{}.notified={}",
                            c.case,
                            c.notifications_before_reply.join(",")
                        ));
                    }
                    if c.disconnected && !c.notifications_before_reply.is_empty() {
                        // Reading past each notification costs a follow-up write, and a server
                        // that closes after its reply (ElectrumX 2.x: two notifications, the
                        // error, the close) may reset the connection before the last write, so
                        // whether the reply itself was read is a race: only the fact is hashed.
                        d.push(format!("malformed.{}=notified:disconnected", c.case));
                        continue;
                    }
                    let mut v = c.outcome.clone();
                    if let Some(code) = c.code {
                        v.push_str(&format!(":{code}"));
                    }
                    if let Some(msg) = &c.message {
                        v.push_str(&format!(":{}", normalize_message(msg)));
                    }
                    if let Some(s) = &c.result_shape {
                        v.push_str(&format!(":{s}"));
                    }
                    if c.disconnected {
                        v.push_str(":disconnected");
                    }
                    d.push(format!("malformed.{}={v}", c.case));
                    if let Some(f) = &c.reply_form {
                        d.push(format!("malformed.{}.form={f}", c.case));
                    }
                }
            }
            // Timing, rate-limit and xpub results are timing (and the xpub batch may be cut by
            // the time cap): never hashed. Batch support is in the malformed small-batch case.
            ProbeDetail::Xpub(_)
            | ProbeDetail::RateLimit(_)
            | ProbeDetail::Timing(_)
            | ProbeDetail::None => {}
        }
    }
    d.sort();
    d.dedup();
    d
}

fn describe_metadata(r: &EndpointRecord, d: &mut Vec<String>) {
    let m = &r.metadata;
    match &m.version {
        Some(Answer {
            result: Some(v), ..
        }) => {
            d.push(format!(
                "version.protocol={}",
                clean_version(&v.protocol).unwrap_or_else(|| "invalid".into())
            ));
        }
        other => d.push(format!("version={}", answer_word(other.as_ref()))),
    }
    match &m.features {
        Some(Answer {
            result: Some(f), ..
        }) => {
            let keys: Vec<&str> = f
                .keys
                .iter()
                .take(MAX_FEATURE_KEYS)
                .map(String::as_str)
                .collect();
            d.push(format!("features.keys={}", keys.join(",")));
            let p = |v: &Option<String>| {
                v.as_deref()
                    .and_then(clean_version)
                    .unwrap_or_else(|| "-".into())
            };
            d.push(format!(
                "features.protocol={}..{}",
                p(&f.protocol_min),
                p(&f.protocol_max)
            ));
            if let Some(h) = &f.hash_function {
                d.push(format!(
                    "features.hash_function={}",
                    truncate(&h.to_lowercase(), 16)
                ));
            }
        }
        other => d.push(format!("features={}", answer_word(other.as_ref()))),
    }
    if let Some(Value::Object(raw)) = &m.features_raw {
        let hosts = match raw.get("hosts") {
            Some(Value::Object(h)) if h.contains_key("tcp_port") || h.contains_key("ssl_port") => {
                "flat"
            }
            Some(Value::Object(h)) if h.is_empty() => "empty",
            Some(Value::Object(_)) => "map",
            Some(_) => "other",
            None => "absent",
        };
        d.push(format!("features.hosts={hosts}"));
    }
    d.push(format!("banner={}", answer_word(m.banner.as_ref())));
    d.push(format!(
        "donation={}",
        answer_word(m.donation_address.as_ref())
    ));
    d.push(format!("peers={}", answer_word(m.peers.as_ref())));
    d.push(format!("headers={}", answer_word(m.headers.as_ref())));
    d.push(format!(
        "fee_histogram={}",
        answer_word(m.fee_histogram.as_ref())
    ));
    d.push(format!("relay_fee={}", answer_word(m.relay_fee.as_ref())));
}

/// SHA-256 (hex) over [`DESCRIPTION_VERSION`] and the description lines, newline-separated.
pub fn behavior_hash(description: &[String]) -> String {
    let mut h = Sha256::new();
    h.update(DESCRIPTION_VERSION.as_bytes());
    for line in description {
        h.update(b"\n");
        h.update(line.as_bytes());
    }
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_normalize_away_volatile_parts() {
        assert_eq!(
            normalize_message(&format!("{NON_HEX_SCRIPTHASH} is not a valid script hash")),
            "<arg> is not a valid script hash"
        );
        assert_eq!(
            normalize_message(
                "the transaction was rejected by network rules.\n\nTX decode failed\n[deadbeef]"
            ),
            "the transaction was rejected by network rules. tx decode failed [<arg>]"
        );
        assert_eq!(
            normalize_message("height 812345 out of range"),
            "height <n> out of range"
        );
        assert_eq!(
            normalize_message(
                "8b01df4e368ea28f8dc0423bcf7a4923e3a12d307c875e47a0cfbf90b5c39161 unknown"
            ),
            "<hex> unknown"
        );
        assert_eq!(
            normalize_message("Unsupported request: observatory.no_such_method"),
            "unsupported request: <arg>"
        );
        assert!(normalize_message(&"x".repeat(10_000)).len() <= MAX_NORMALIZED_MESSAGE + 3);
    }

    /// ElectrumX 2.0.0 before server.version: two notifications, the error, the close. Whether
    /// the error line is read before the reset is a race; the description must not see it.
    #[test]
    fn notified_then_closed_reads_the_same_with_or_without_the_reply() {
        use crate::probes::fake::{malformed_case, record_with_malformed};
        let case = |outcome: &str, code: Option<i64>, message: Option<&str>| {
            let mut c = malformed_case("before-version", outcome, true);
            c.code = code;
            c.message = message.map(str::to_string);
            c.reply_form = code.map(|_| "jsonrpc,error,id;compact".to_string());
            c.notifications_before_reply = vec![
                "blockchain.relayfee".into(),
                "blockchain.estimatefee".into(),
            ];
            c
        };
        let lines = |c| {
            describe(&record_with_malformed(vec![c]))
                .into_iter()
                .filter(|l| l.starts_with("malformed."))
                .collect::<Vec<_>>()
        };
        let read = lines(case(
            "error",
            Some(1),
            Some("use server.version to identify client"),
        ));
        let lost = lines(case("disconnect", None, None));
        assert_eq!(read, lost);
        assert_eq!(
            read,
            [
                "malformed.before-version.notified=blockchain.relayfee,blockchain.estimatefee",
                "malformed.before-version=notified:disconnected"
            ]
        );
    }

    #[test]
    fn hash_depends_on_every_line_and_order_is_fixed() {
        let a = vec!["a=1".to_string(), "b=2".to_string()];
        let b = vec!["a=1".to_string(), "b=3".to_string()];
        assert_ne!(behavior_hash(&a), behavior_hash(&b));
        assert_eq!(behavior_hash(&a), behavior_hash(&a.clone()));
        assert_eq!(behavior_hash(&a).len(), 64);
    }
}
