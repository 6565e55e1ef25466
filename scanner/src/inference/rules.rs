//! Behavioral rules: observed facts that point at one implementation.
//!
//! Each [`Rule`] looks at [`Facts`] extracted from a record and, when it
//! matches, adds its weight to one implementation and an evidence line
//! `rule-id: observed value`. Rules use only behavior that each
//! implementation's public source fixes (error templates, feature keys,
//! padding, pre-version handling, batch handling); none uses timing. The
//! source of every string is cited next to the rule and in
//! `tests/fixtures/implementations/`.

use std::collections::BTreeMap;

use observatory_model::probes::{CallObservation, Implementation, MalformedCase, ProbeDetail};
use observatory_model::raw::{Answer, EndpointRecord, RpcError};
use observatory_protocol::message::truncate;
use serde_json::Value;

use Implementation::*;

/// Longest observed value quoted in an evidence line.
pub const MAX_EVIDENCE_VALUE: usize = 80;
/// Electrum Personal Server's hard-coded donation address (chris-belcher/electrum-personal-server
/// `electrumpersonalserver/server/electrumprotocol.py`, `DONATION_ADDR`).
pub const EPS_DONATION: &str = "bc1qe74qzd256kxevq2gn7gmscs564lfk5tqrxqsuy";
/// Prefix of the errors the scanner itself writes into an [`Answer`] whose result had the wrong shape.
pub const SCANNER_SHAPE_ERROR: &str = "unexpected result shape";

/// Facts the rules look at.
#[derive(Debug, Default)]
pub struct Facts<'a> {
    /// `server.banner` text.
    pub banner: Option<&'a str>,
    /// `server.donation_address` text.
    pub donation: Option<&'a str>,
    /// `server.features` keys (sorted).
    pub feature_keys: Vec<&'a str>,
    /// `server.features` error, when it was refused.
    pub features_error: Option<&'a RpcError>,
    /// `server.features` `hosts` carries `tcp_port`/`ssl_port` at top level (not per host).
    pub features_hosts_flat: bool,
    /// The server pads reply lines with spaces.
    pub padded: bool,
    /// Every error reply seen (metadata, probe calls, malformed cases), as `(code, message)`.
    pub errors: Vec<(Option<i64>, &'a str)>,
    /// The legacy `blockchain.address.*` calls.
    pub legacy: Vec<&'a CallObservation>,
    /// Whether a legacy call was answered with a result.
    pub legacy_answered: bool,
    /// Malformed cases by name.
    pub cases: BTreeMap<&'a str, &'a MalformedCase>,
}

impl<'a> Facts<'a> {
    /// Extracts the facts from a record.
    pub fn of(r: &'a EndpointRecord) -> Facts<'a> {
        let m = &r.metadata;
        let mut f = Facts {
            banner: m.banner.as_ref().and_then(|a| a.result.as_deref()),
            donation: m
                .donation_address
                .as_ref()
                .and_then(|a| a.result.as_deref()),
            padded: r.wire.padded_lines > 0,
            ..Facts::default()
        };
        if let Some(Answer {
            result: Some(feat), ..
        }) = &m.features
        {
            f.feature_keys = feat.keys.iter().map(String::as_str).collect();
        }
        if let Some(Value::Object(raw)) = &m.features_raw {
            if let Some(Value::Object(h)) = raw.get("hosts") {
                f.features_hosts_flat = h.contains_key("tcp_port") || h.contains_key("ssl_port");
            }
            if f.feature_keys.is_empty() {
                f.feature_keys = raw.keys().map(String::as_str).collect();
            }
        }
        if let Some(Answer { error: Some(e), .. }) = &m.features {
            f.features_error = Some(e);
            f.push_error(e);
        }
        for e in [
            m.banner.as_ref().and_then(|a| a.error.as_ref()),
            m.peers.as_ref().and_then(|a| a.error.as_ref()),
        ]
        .into_iter()
        .flatten()
        {
            f.push_error(e);
        }
        for p in &r.probes {
            match &p.detail {
                ProbeDetail::AddressFormats(a) => {
                    for c in a
                        .formats
                        .iter()
                        .flat_map(|x| x.calls.iter())
                        .chain(a.legacy_address.iter())
                    {
                        if let Some(e) = &c.error {
                            f.push_error(e);
                        }
                    }
                    f.legacy = a.legacy_address.iter().collect();
                    f.legacy_answered = a.legacy_address_answered;
                }
                ProbeDetail::Malformed(md) => {
                    for c in &md.cases {
                        f.cases.insert(c.case.as_str(), c);
                        if c.outcome == "error" {
                            if let Some(msg) = &c.message {
                                f.errors.push((c.code, msg.as_str()));
                            }
                        }
                    }
                }
                ProbeDetail::Xpub(x) => {
                    for e in x.errors.iter().chain(x.batch_error.iter()) {
                        f.push_error(e);
                    }
                }
                _ => {}
            }
        }
        f
    }

    fn error_where(&self, pred: impl Fn(Option<i64>, &str) -> bool) -> Option<String> {
        self.errors
            .iter()
            .find(|(c, m)| pred(*c, m))
            .map(|(c, m)| quote(*c, m))
    }

    fn push_error(&mut self, e: &'a RpcError) {
        // The scanner's own shape errors (code None, "unexpected result shape: …") are not the server's words.
        if !(e.code.is_none() && e.message.starts_with(SCANNER_SHAPE_ERROR)) {
            self.errors.push((e.code, e.message.as_str()));
        }
    }

    /// A malformed case by name.
    pub fn case(&self, name: &str) -> Option<&'a MalformedCase> {
        self.cases.get(name).copied()
    }

    fn has_key(&self, k: &str) -> bool {
        self.feature_keys.contains(&k)
    }
}

fn quote(code: Option<i64>, message: &str) -> String {
    let code = code.map_or_else(|| "none".into(), |c| c.to_string());
    format!(
        "code {code} \"{}\"",
        truncate(message, MAX_EVIDENCE_VALUE).replace('\n', "\\n")
    )
}

/// One behavioral rule.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// Stable identifier (appears in evidence and in docs/probes.md).
    pub id: &'static str,
    /// The implementation it points at.
    pub implementation: Implementation,
    /// Weight added when it matches.
    pub weight: f64,
    /// The check: the observed value when it matches.
    pub check: fn(&Facts<'_>) -> Option<String>,
}

/// Every rule. Weights: 3 = a string or behavior only that implementation produces;
/// 2 = characteristic but shared with a fork or a configuration; 1–1.5 = weak or operator-set.
pub const RULES: &[Rule] = &[
    // --- ElectrumX (spesmilo/electrumx, aiorpcx) ---
    // electrumx/server/transport.py PaddedRSTransport (2.0.0+).
    Rule {
        id: "ex-reply-padding",
        implementation: Electrumx,
        weight: 3.0,
        check: |f| f.padded.then(|| "reply lines padded with spaces".into()),
    },
    // session.py server_features(): 'services' key.
    Rule {
        id: "ex-features-services-key",
        implementation: Electrumx,
        weight: 2.0,
        check: |f| {
            f.has_key("services")
                .then(|| "features has `services`".into())
        },
    },
    // session.py handle_request(): RPCError(BAD_REQUEST, 'use server.version to identify client') + disconnect.
    Rule {
        id: "ex-before-version-refused",
        implementation: Electrumx,
        weight: 3.0,
        check: |f| {
            f.error_where(|c, m| {
                c == Some(1) && m.contains("use server.version to identify client")
            })
        },
    },
    // session.py handle_request() → _do_crash_old_electrum_client(): `blockchain.relayfee` and
    // `blockchain.estimatefee` notifications pushed at a client that skipped server.version,
    // before the error (no other implementation pushes anything at an unversioned client).
    Rule {
        id: "ex-crash-old-client-notification",
        implementation: Electrumx,
        weight: 3.0,
        check: |f| {
            let c = f.case("before-version")?;
            c.notifications_before_reply
                .iter()
                .any(|m| m == "blockchain.relayfee")
                .then(|| "blockchain.relayfee pushed before the reply".into())
        },
    },
    // aiorpcx jsonrpc.py handler_invocation(): f'unknown method "{method}"'.
    Rule {
        id: "aiorpcx-unknown-method",
        implementation: Electrumx,
        weight: 3.0,
        check: |f| f.error_where(|c, m| c == Some(-32601) && m.starts_with("unknown method \"")),
    },
    // aiorpcx jsonrpc.py handler_invocation(): '… argument(s) passed to method …'.
    Rule {
        id: "aiorpcx-argument-count",
        implementation: Electrumx,
        weight: 2.0,
        check: |f| f.error_where(|c, m| c == Some(-32602) && m.contains("passed to method")),
    },
    // aiorpcx jsonrpc.py message_to_item(): 'batch is empty'.
    Rule {
        id: "aiorpcx-empty-batch",
        implementation: Electrumx,
        weight: 2.0,
        check: |f| f.error_where(|c, m| c == Some(-32600) && m == "batch is empty"),
    },
    // session.py scripthash_to_hashX(): f'{scripthash} is not a valid script hash'.
    Rule {
        id: "ex-invalid-scripthash",
        implementation: Electrumx,
        weight: 2.0,
        check: |f| f.error_where(|c, m| c == Some(1) && m.ends_with("is not a valid script hash")),
    },
    // session.py transaction_broadcast(): '…rejected by network rules.\n\n{message}\n[{raw_tx}]' (echoes the tx).
    Rule {
        id: "ex-broadcast-echoes-tx",
        implementation: Electrumx,
        weight: 2.0,
        check: |f| {
            f.error_where(|_, m| {
                m.starts_with("the transaction was rejected by network rules.")
                    && m.trim_end().ends_with("[deadbeef]")
            })
        },
    },
    // aiorpcx JSONRPCv1 response_payload(): {'result', 'error': None, 'id'} to a 1.0-framed first message.
    Rule {
        id: "aiorpcx-jsonrpc-1.0-reply",
        implementation: Electrumx,
        weight: 2.0,
        check: |f| {
            let c = f.case("jsonrpc-1.0")?;
            c.reply_form
                .as_deref()
                .filter(|r| r.starts_with("result,error,id"))
                .map(|r| format!("reply form {r}"))
        },
    },
    // aiorpcx JSONRPCv2 error_payload(): key order jsonrpc, error, id.
    Rule {
        id: "aiorpcx-error-key-order",
        implementation: Electrumx,
        weight: 1.5,
        check: |f| {
            f.cases.values().find_map(|c| {
                c.reply_form
                    .as_deref()
                    .filter(|r| r.starts_with("jsonrpc,error,id"))
                    .map(|r| format!("reply form {r}"))
            })
        },
    },
    // session.py banner(): f'You are connected to an {electrumx.version} server.' (no BANNER_FILE).
    Rule {
        id: "ex-default-banner",
        implementation: Electrumx,
        weight: 1.5,
        check: |f| {
            f.banner
                .filter(|b| b.starts_with("You are connected to an ElectrumX"))
                .map(|b| truncate(b, MAX_EVIDENCE_VALUE))
        },
    },
    // --- Fulcrum (cculianu/Fulcrum) ---
    // Servers.cpp makeFeaturesDictForConnection(): r["dsproof"].
    Rule {
        id: "fulcrum-features-dsproof-key",
        implementation: Fulcrum,
        weight: 3.0,
        check: |f| {
            f.has_key("dsproof")
                .then(|| "features has `dsproof`".into())
        },
    },
    // RPC.cpp processObject_internal(): UnknownMethod("Unsupported request: %1").
    Rule {
        id: "fulcrum-unsupported-request",
        implementation: Fulcrum,
        weight: 3.0,
        check: |f| f.error_where(|c, m| c == Some(-32601) && m.starts_with("Unsupported request:")),
    },
    // RPC.cpp ValidateParams: "Expected at least %1 parameter(s) for %3, got %4 instead".
    Rule {
        id: "fulcrum-param-count",
        implementation: Fulcrum,
        weight: 2.0,
        check: |f| {
            f.error_where(|c, m| {
                c == Some(-32602) && m.starts_with("Expected at") && m.contains("parameter")
            })
        },
    },
    // Servers.cpp rpc_blockchain_scripthash_*: RPCError("Invalid scripthash").
    Rule {
        id: "fulcrum-invalid-scripthash",
        implementation: Fulcrum,
        weight: 2.0,
        check: |f| f.error_where(|_, m| m == "Invalid scripthash"),
    },
    // Servers.cpp registry: blockchain.address.get_balance etc. still served.
    Rule {
        id: "fulcrum-legacy-address-answered",
        implementation: Fulcrum,
        weight: 2.0,
        check: |f| {
            f.legacy_answered
                .then(|| "blockchain.address.get_balance answered".into())
        },
    },
    // Servers.cpp rpc_server_banner(): "Connected to a %1 server" fallback.
    Rule {
        id: "fulcrum-default-banner",
        implementation: Fulcrum,
        weight: 1.5,
        check: |f| {
            f.banner
                .filter(|b| b.starts_with("Connected to a Fulcrum"))
                .map(|b| truncate(b, MAX_EVIDENCE_VALUE))
        },
    },
    // --- electrs (romanz/electrs) ---
    // src/electrum.rs RpcError::to_value(): fixed lower-case texts.
    Rule {
        id: "electrs-method-not-found",
        implementation: Electrs,
        weight: 3.0,
        check: |f| f.error_where(|c, m| c == Some(-32601) && m == "method not found"),
    },
    Rule {
        id: "electrs-invalid-params",
        implementation: Electrs,
        weight: 3.0,
        check: |f| f.error_where(|c, m| c == Some(-32602) && m == "invalid params"),
    },
    // src/electrum.rs features(): "hosts": {"tcp_port": port} (flat, not per host).
    Rule {
        id: "electrs-flat-hosts",
        implementation: Electrs,
        weight: 3.0,
        check: |f| {
            f.features_hosts_flat
                .then(|| "features.hosts is {tcp_port: …}".into())
        },
    },
    // config.rs default server_banner "Welcome to electrs <v> (Electrum Rust Server)!".
    Rule {
        id: "electrs-default-banner",
        implementation: Electrs,
        weight: 1.5,
        check: |f| {
            f.banner
                .filter(|b| b.contains("(Electrum Rust Server)"))
                .map(|b| truncate(b, MAX_EVIDENCE_VALUE))
        },
    },
    // --- esplora-electrs (Blockstream/electrs) ---
    // src/electrum/server.rs handle_command(): format!("unknown method {}", method), code -32601.
    Rule {
        id: "esplora-unknown-method",
        implementation: EsploraElectrs,
        weight: 3.0,
        check: |f| {
            f.error_where(|c, m| {
                c == Some(-32601)
                    && m.starts_with("unknown method ")
                    && !m.starts_with("unknown method \"")
            })
        },
    },
    // src/electrum/server.rs hash_from_value(): invalid_params("non-hex hash" / "missing hash").
    Rule {
        id: "esplora-hash-params",
        implementation: EsploraElectrs,
        weight: 2.0,
        check: |f| {
            f.error_where(|c, m| {
                c == Some(-32602) && (m.contains("non-hex hash") || m.contains("missing hash"))
            })
        },
    },
    // server.features only with the electrum-discovery feature; esplora and mempool builds usually lack it.
    Rule {
        id: "esplora-no-features",
        implementation: EsploraElectrs,
        weight: 1.0,
        check: |f| {
            f.features_error
                .filter(|e| e.message.contains("server.features"))
                .map(|e| quote(e.code, &e.message))
        },
    },
    // config.rs default electrum_banner "Welcome to electrs-esplora <v>".
    Rule {
        id: "esplora-default-banner",
        implementation: EsploraElectrs,
        weight: 1.0,
        check: |f| {
            f.banner
                .filter(|b| b.starts_with("Welcome to electrs-esplora"))
                .map(|b| truncate(b, MAX_EVIDENCE_VALUE))
        },
    },
    // --- mempool-electrs (mempool/electrs) ---
    // src/electrum/server.rs handle_command(): json!({"error": format!("{}", e)}) — a bare string.
    Rule {
        id: "mempool-string-error",
        implementation: MempoolElectrs,
        weight: 3.0,
        check: |f| f.error_where(|c, m| c.is_none() && !m.starts_with('{')),
    },
    // handle_replies(): a batch (array) is "invalid command" and ends the connection.
    Rule {
        id: "mempool-batch-disconnect",
        implementation: MempoolElectrs,
        weight: 1.5,
        check: |f| {
            f.case("small-batch")
                .filter(|c| c.outcome == "disconnect")
                .map(|_| "small batch answered by disconnect".into())
        },
    },
    Rule {
        id: "mempool-no-features",
        implementation: MempoolElectrs,
        weight: 1.0,
        check: |f| {
            f.features_error
                .filter(|e| e.message.contains("server.features"))
                .map(|e| quote(e.code, &e.message))
        },
    },
    // --- Electrum Personal Server (chris-belcher/electrum-personal-server) ---
    // electrumprotocol.py: BANNER "Welcome to Electrum Personal Server {serverversion}".
    Rule {
        id: "eps-default-banner",
        implementation: ElectrumPersonalServer,
        weight: 2.0,
        check: |f| {
            f.banner
                .filter(|b| b.starts_with("Welcome to Electrum Personal Server"))
                .map(|b| truncate(b, MAX_EVIDENCE_VALUE))
        },
    },
    // electrumprotocol.py: DONATION_ADDR.
    Rule {
        id: "eps-donation-address",
        implementation: ElectrumPersonalServer,
        weight: 2.0,
        check: |f| {
            f.donation
                .filter(|d| *d == EPS_DONATION)
                .map(str::to_string)
        },
    },
    // electrumprotocol.py handle_query(): unhandled methods are logged, never answered.
    Rule {
        id: "eps-unknown-method-silence",
        implementation: ElectrumPersonalServer,
        weight: 2.0,
        check: |f| {
            let legacy_silent = f.legacy.first().is_some_and(|c| c.outcome == "timeout");
            let unknown_silent = f
                .case("unknown-method")
                .is_some_and(|c| c.outcome == "silence");
            (legacy_silent || unknown_silent).then(|| "unknown method left unanswered".into())
        },
    },
];

/// Scores per implementation and the evidence lines of every matching rule.
pub fn score(f: &Facts<'_>) -> (BTreeMap<Implementation, f64>, Vec<String>) {
    let mut scores = BTreeMap::new();
    let mut evidence = Vec::new();
    for rule in RULES {
        if let Some(observed) = (rule.check)(f) {
            *scores.entry(rule.implementation).or_insert(0.0) += rule.weight;
            evidence.push(format!("{}: {}", rule.id, observed));
        }
    }
    (scores, evidence)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ids_are_unique() {
        let mut ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
        ids.sort_unstable();
        let n = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), n);
    }

    #[test]
    fn empty_facts_match_nothing() {
        let (s, e) = score(&Facts::default());
        assert!(s.is_empty() && e.is_empty());
    }
}
