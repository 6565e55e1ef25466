//! The metadata requests of a session: `server.version` first, then the rest pipelined.
//!
//! Which requests are sent depends on the negotiated protocol version: `blockchain.relayfee`
//! was removed in protocol 1.6 (ElectrumX 2.0.0 `session.py` registers it only below 1.6;
//! protocol docs "removed in version 1.6"), so it is asked only when the server negotiated
//! an older version. Every answer is kept with its send time and round-trip time; a result
//! of an unexpected shape is kept as an error written by the scanner.

use observatory_model::raw::{Answer, HeaderTip, Metadata, RpcError, ServerVersion};
use observatory_model::UnixMillis;
use observatory_protocol::message::truncate;
use observatory_protocol::scripthash::header_hash;
use serde_json::{json, Value};

use crate::discovery::{parse_features, parse_peers};
use crate::limits::{
    CLIENT_NAME, ESTIMATEFEE_TARGETS, MAX_RAW_FEATURES_BYTES, MAX_SERVER_STRING, PROTOCOL_MAX,
    PROTOCOL_MIN,
};
use crate::rpc::{CallOutcome, Rpc};
use crate::session::{now_ms, Session};
use crate::status::Failure;

/// Most fee-histogram buckets kept.
pub const MAX_FEE_HISTOGRAM: usize = 1_000;

/// Longest header hex kept (an 80-byte header is 160 hex characters).
const MAX_HEADER_HEX: usize = 1_024;

/// Turns a call outcome into an [`Answer`]; None when no reply came (timeout, close, budget).
pub fn answer<T>(
    at_ms: UnixMillis,
    outcome: CallOutcome,
    parse: impl FnOnce(&Value) -> Option<T>,
) -> Option<Answer<T>> {
    match outcome {
        CallOutcome::Result { value, rtt_ms } => Some(match parse(&value) {
            Some(result) => Answer {
                at_ms,
                rtt_ms,
                result: Some(result),
                error: None,
            },
            None => Answer {
                at_ms,
                rtt_ms,
                result: None,
                error: Some(RpcError {
                    code: None,
                    message: format!(
                        "unexpected result shape: {}",
                        truncate(&value.to_string(), 256)
                    ),
                }),
            },
        }),
        CallOutcome::Error { error, rtt_ms } => Some(Answer {
            at_ms,
            rtt_ms,
            result: None,
            error: Some(error),
        }),
        CallOutcome::Timeout | CallOutcome::Closed { .. } | CallOutcome::OverBudget => None,
    }
}

fn server_string(v: &Value) -> Option<String> {
    v.as_str().map(|s| truncate(s, MAX_SERVER_STRING))
}

/// `["ElectrumX 1.16.0", "1.4"]` → [`ServerVersion`].
pub fn parse_version(v: &Value) -> Option<ServerVersion> {
    let [software, protocol] = v.as_array()?.as_slice() else {
        return None;
    };
    Some(ServerVersion {
        software: server_string(software)?,
        protocol: truncate(protocol.as_str()?, 32),
    })
}

fn parse_header(v: &Value) -> Option<HeaderTip> {
    let height = v.get("height")?.as_u64()?;
    let hex = v.get("hex")?.as_str()?;
    Some(HeaderTip {
        height,
        hash: header_hash(hex),
        hex: truncate(hex, MAX_HEADER_HEX),
    })
}

fn parse_histogram(v: &Value) -> Option<Vec<(f64, u64)>> {
    v.as_array()?
        .iter()
        .take(MAX_FEE_HISTOGRAM)
        .map(|pair| match pair.as_array()?.as_slice() {
            [fee, size] => Some((
                fee.as_f64()?,
                size.as_u64().or_else(|| size.as_f64().map(|f| f as u64))?,
            )),
            _ => None,
        })
        .collect()
}

/// Numeric protocol version (`"1.4.2"` → `[1, 4, 2]`); unparsable parts count as 0.
fn version_tuple(v: &str) -> Vec<u32> {
    v.split('.').map(|p| p.parse().unwrap_or(0)).collect()
}

/// True when protocol version `a` is older than `b`.
pub fn protocol_older(a: &str, b: &str) -> bool {
    version_tuple(a) < version_tuple(b)
}

/// Sends `server.version` (always the first request) and returns its answer, or the
/// [`Failure`] that ends the endpoint.
pub async fn negotiate(
    session: &mut Session,
) -> (
    Option<Answer<ServerVersion>>,
    Result<ServerVersion, Failure>,
) {
    let at = now_ms();
    let outcome = session
        .call(
            "server.version",
            json!([CLIENT_NAME, [PROTOCOL_MIN, PROTOCOL_MAX]]),
        )
        .await;
    match &outcome {
        CallOutcome::Result { value, .. } => {
            let shape = truncate(&value.to_string(), 256);
            let ans = answer(at, outcome, parse_version);
            match ans.as_ref().and_then(|a| a.result.clone()) {
                Some(v) => (ans, Ok(v)),
                None => (ans, Err(Failure::VersionShape(shape))),
            }
        }
        CallOutcome::Error { .. } => (
            answer(at, outcome.clone(), parse_version),
            Err(Failure::Version {
                outcome,
                closure: None,
                bad_line: None,
            }),
        ),
        // Silence toward our id while replies with other ids arrive is a protocol fault, not a timeout.
        CallOutcome::Timeout
            if session.unmatched_replies() > 0 && session.last_bad_line().is_none() =>
        {
            (
                None,
                Err(Failure::UnmatchedIds {
                    count: session.unmatched_replies(),
                }),
            )
        }
        _ => {
            let failure = Failure::Version {
                outcome,
                closure: session.closure().cloned(),
                bad_line: session.last_bad_line().map(str::to_string),
            };
            (None, Err(failure))
        }
    }
}

/// Collects the rest of the metadata, pipelined, after a successful `server.version`.
pub async fn collect(session: &mut Session, protocol: &str, meta: &mut Metadata) {
    let with_relayfee = protocol_older(protocol, "1.6");
    let mut plan: Vec<(&str, Value)> = vec![
        ("server.banner", json!([])),
        ("server.donation_address", json!([])),
        ("server.features", json!([])),
        ("server.peers.subscribe", json!([])),
        ("blockchain.headers.subscribe", json!([])),
        ("mempool.get_fee_histogram", json!([])),
    ];
    if with_relayfee {
        plan.push(("blockchain.relayfee", json!([])));
    }
    for n in ESTIMATEFEE_TARGETS {
        plan.push(("blockchain.estimatefee", json!([n])));
    }
    let mut sent = Vec::with_capacity(plan.len());
    for (method, params) in plan {
        let at = now_ms();
        sent.push((
            method,
            params.clone(),
            at,
            session.send(method, params).await,
        ));
    }
    for (method, params, at, id) in sent {
        let outcome = match id {
            Ok(id) => session.wait(id).await,
            Err(outcome) => outcome,
        };
        match method {
            "server.banner" => meta.banner = answer(at, outcome, server_string),
            "server.donation_address" => meta.donation_address = answer(at, outcome, server_string),
            "server.features" => {
                if let CallOutcome::Result { value, .. } = &outcome {
                    let text = value.to_string();
                    meta.features_raw = Some(if text.len() > MAX_RAW_FEATURES_BYTES {
                        Value::String(truncate(&text, MAX_RAW_FEATURES_BYTES))
                    } else {
                        value.clone()
                    });
                }
                meta.features = answer(at, outcome, parse_features);
            }
            "server.peers.subscribe" => {
                if let CallOutcome::Result { value, .. } = &outcome {
                    meta.peers_raw = parse_peers(value).map(|(_, raw)| raw);
                }
                meta.peers = answer(at, outcome, |v| parse_peers(v).map(|(p, _)| p));
            }
            "blockchain.headers.subscribe" => meta.headers = answer(at, outcome, parse_header),
            "mempool.get_fee_histogram" => {
                meta.fee_histogram = answer(at, outcome, parse_histogram)
            }
            "blockchain.relayfee" => meta.relay_fee = answer(at, outcome, Value::as_f64),
            "blockchain.estimatefee" => {
                let blocks = params
                    .get(0)
                    .and_then(Value::as_u64)
                    .and_then(|b| u32::try_from(b).ok())
                    .unwrap_or(0);
                if let Some(a) = answer(at, outcome, Value::as_f64) {
                    meta.estimate_fee.push((blocks, a));
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_ordering() {
        assert!(protocol_older("1.4", "1.6"));
        assert!(protocol_older("1.4.2", "1.6"));
        assert!(!protocol_older("1.6", "1.6"));
        assert!(!protocol_older("1.7.0", "1.6"));
    }

    #[test]
    fn shapes() {
        assert_eq!(
            parse_version(&json!(["ElectrumX 1.16.0", "1.4"])),
            Some(ServerVersion {
                software: "ElectrumX 1.16.0".into(),
                protocol: "1.4".into()
            })
        );
        assert_eq!(parse_version(&json!("ElectrumX")), None);
        assert_eq!(
            parse_histogram(&json!([[12.5, 1000], [1, 2]])),
            Some(vec![(12.5, 1000), (1.0, 2)])
        );
        assert_eq!(parse_histogram(&json!([[1]])), None);
        let tip = parse_header(&json!({"height": 5, "hex": "00"})).unwrap();
        assert_eq!((tip.height, tip.hash), (5, None));
        let a = answer(
            1,
            CallOutcome::Result {
                value: json!(3),
                rtt_ms: 1.0,
            },
            |v| v.as_str().map(str::to_string),
        )
        .unwrap();
        assert!(a
            .error
            .unwrap()
            .message
            .starts_with("unexpected result shape"));
        assert!(answer(1, CallOutcome::Timeout, Value::as_f64).is_none());
    }
}
