//! `malformed`: malformed and non-standard requests, sent as exact bytes.
//!
//! Every case is one fixed line of ours ([`CASES`]), sent with
//! [`Rpc::send_raw`] so the answer is seen as the server wrote it: error code,
//! verbatim message (bounded), reply form (key order and separators), whether
//! the server disconnected, and time to answer. No case touches the main
//! session, so nothing here can end it. The probe runs after the main session
//! was closed ([`Channel::SideConnections`]) and holds one connection at a time:
//!
//! * cases that need a connection on which `server.version` was never sent
//!   (before-version, JSON-RPC 1.0 framing, unsupported protocol) each get a
//!   fresh connection from the [`Opener`], closed once the case is recorded;
//! * the others share one *versioned* side connection (our own
//!   `server.version` line first), reopened if the server drops it (at most
//!   [`MAX_VERSIONED_CONNECTIONS`]). [`CASES`] lists every fresh case first, so
//!   the versioned connection is opened once the fresh ones are closed.
//!
//! Every answered case is followed by a `server.ping`, so "disconnected" is
//! known exactly, per case. A notification arriving before a case's reply
//! (ElectrumX 2.x pushes `blockchain.relayfee` and `blockchain.estimatefee` at a
//! client that skipped `server.version`) is noted and read past with the same
//! follow-up, at most [`MAX_NOTIFICATIONS_BEFORE_REPLY`] times.
//!
//! Errors are expensive on ElectrumX (aiorpcx charges `error_base_cost` = 100
//! per error reply and 1100 for unparsable JSON), so only the most telling
//! cases run at [`ProbeLevel::Standard`]; [`ProbeLevel::Full`] adds the rest.
//! The invalid-transaction case records the error text verbatim: HTML or URLs
//! there are a known phishing marker ([`has_markup_or_url`]).

use std::time::Duration;

use observatory_model::probes::{MalformedCase, MalformedDetail, ProbeDetail};
use observatory_model::raw::Status;
use observatory_protocol::message::{truncate, MAX_ERROR_TEXT};

use super::observe::{reply_form, Counted, RawReply};
use super::{
    Channel, Coverage, Opener, Plan, Probe, ProbeContext, ProbeCost, ProbeLevel, ProbeOutcome,
};
use crate::rpc::{RawOutcome, Rpc};

/// Which connection a case is sent on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conn {
    /// The shared side connection on which [`VERSION_LINE`] was sent first.
    Versioned,
    /// A fresh connection on which nothing was sent before; `follow_up` is sent after the
    /// case to learn whether the server closed the connection.
    Fresh {
        /// The follow-up line.
        follow_up: &'static str,
    },
}

/// Notifications skipped while waiting for a case's answer (each costs one follow-up line).
pub const MAX_NOTIFICATIONS_BEFORE_REPLY: usize = 2;
/// Worst-case follow-up lines per case: one per notification read past, one for the hang-up check.
const FOLLOW_UPS_PER_CASE: u32 = MAX_NOTIFICATIONS_BEFORE_REPLY as u32 + 1;
/// Side connections the versioned cases may open (one, plus reopenings after disconnects).
pub const MAX_VERSIONED_CONNECTIONS: u32 = 4;
/// The `server.version` line opening a versioned side connection. A single version string
/// (not a range), because romanz/electrs accepts only exactly "1.4".
pub const VERSION_LINE: &str = r#"{"jsonrpc":"2.0","id":900000,"method":"server.version","params":["electrum-observatory-probe","1.4"]}"#;
/// ElectrumX cost of one side connection: session cost 5.0 plus `server.version` 0.5 plus a ping.
pub const UNITS_SIDE_CONNECTION: f64 = 5.6;

/// One malformed case.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CaseSpec {
    /// Case name (as in [`MalformedCase::case`]).
    pub name: &'static str,
    /// Lowest level at which it runs.
    pub level: ProbeLevel,
    /// Where it is sent.
    pub conn: Conn,
    /// The exact line (without newline).
    pub line: &'static str,
    /// Estimated ElectrumX cost units (100 per error reply, 5 per extra connection, method costs).
    pub electrumx_units: f64,
}

/// 64 characters that are not hex: right length, wrong alphabet.
pub const NON_HEX_SCRIPTHASH: &str =
    "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz";
/// 62 hex characters: right alphabet, wrong length.
pub const SHORT_SCRIPTHASH: &str = "00000000000000000000000000000000000000000000000000000000000000";
/// A hex string that is not a transaction.
pub const INVALID_TX_HEX: &str = "deadbeef";
/// The method name no server implements.
pub const UNKNOWN_METHOD: &str = "observatory.no_such_method";
/// Follow-up on fresh JSON-RPC 2.0 connections.
const PING_V2: &str = r#"{"jsonrpc":"2.0","id":900091,"method":"server.ping","params":[]}"#;
/// Follow-up on the JSON-RPC 1.0 connection.
const PING_V1: &str = r#"{"jsonrpc":"1.0","id":900092,"method":"server.ping","params":[]}"#;

/// Every case, in the order sent. Fresh-connection cases first (so that only one side connection
/// is ever open); on the versioned connection the cases most likely to end it come last.
pub const CASES: [CaseSpec; 11] = [
    CaseSpec {
        name: "before-version",
        level: ProbeLevel::Standard,
        conn: Conn::Fresh { follow_up: PING_V2 },
        line: r#"{"jsonrpc":"2.0","id":900001,"method":"server.ping","params":[]}"#,
        electrumx_units: 105.2,
    },
    CaseSpec {
        name: "jsonrpc-1.0",
        level: ProbeLevel::Standard,
        conn: Conn::Fresh { follow_up: PING_V1 },
        line: r#"{"jsonrpc":"1.0","id":900002,"method":"server.version","params":["electrum-observatory-probe","1.4"]}"#,
        electrumx_units: 5.6,
    },
    CaseSpec {
        name: "unsupported-protocol",
        level: ProbeLevel::Full,
        conn: Conn::Fresh { follow_up: PING_V2 },
        line: r#"{"jsonrpc":"2.0","id":900003,"method":"server.version","params":["electrum-observatory-probe","0.9"]}"#,
        electrumx_units: 105.6,
    },
    CaseSpec {
        name: "scripthash-non-hex",
        level: ProbeLevel::Standard,
        conn: Conn::Versioned,
        line: r#"{"jsonrpc":"2.0","id":900004,"method":"blockchain.scripthash.get_balance","params":["zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"]}"#,
        electrumx_units: 100.0,
    },
    CaseSpec {
        name: "broadcast-invalid-tx",
        level: ProbeLevel::Standard,
        conn: Conn::Versioned,
        line: r#"{"jsonrpc":"2.0","id":900005,"method":"blockchain.transaction.broadcast","params":["deadbeef"]}"#,
        electrumx_units: 100.3,
    },
    CaseSpec {
        name: "wrong-param-count",
        level: ProbeLevel::Full,
        conn: Conn::Versioned,
        line: r#"{"jsonrpc":"2.0","id":900006,"method":"blockchain.scripthash.get_balance","params":[]}"#,
        electrumx_units: 100.0,
    },
    CaseSpec {
        name: "scripthash-wrong-length",
        level: ProbeLevel::Full,
        conn: Conn::Versioned,
        line: r#"{"jsonrpc":"2.0","id":900007,"method":"blockchain.scripthash.get_balance","params":["00000000000000000000000000000000000000000000000000000000000000"]}"#,
        electrumx_units: 100.0,
    },
    CaseSpec {
        name: "unknown-method",
        level: ProbeLevel::Full,
        conn: Conn::Versioned,
        line: r#"{"jsonrpc":"2.0","id":900008,"method":"observatory.no_such_method","params":[]}"#,
        electrumx_units: 100.0,
    },
    CaseSpec {
        name: "small-batch",
        level: ProbeLevel::Standard,
        conn: Conn::Versioned,
        line: r#"[{"jsonrpc":"2.0","id":900009,"method":"server.ping","params":[]},{"jsonrpc":"2.0","id":900010,"method":"server.ping","params":[]}]"#,
        electrumx_units: 0.2,
    },
    CaseSpec {
        name: "empty-batch",
        level: ProbeLevel::Full,
        conn: Conn::Versioned,
        line: "[]",
        electrumx_units: 100.0,
    },
    CaseSpec {
        name: "invalid-json",
        level: ProbeLevel::Full,
        conn: Conn::Versioned,
        line: r#"{"jsonrpc":"2.0","id":900011,"method":"server.ping","params":["#,
        electrumx_units: 1100.0,
    },
];

/// The cases that run at `level`.
pub fn cases_at(level: ProbeLevel) -> impl Iterator<Item = &'static CaseSpec> {
    CASES
        .iter()
        .filter(move |c| level == ProbeLevel::Full || c.level == ProbeLevel::Standard)
}

/// True unless the case never left the scanner (the outcomes recorded without sending).
pub fn was_sent(outcome: &str) -> bool {
    !matches!(outcome, "not-run" | "over-budget" | "no-connection")
}

/// True when `message` contains an HTML tag or a URL (a known phishing marker in broadcast errors).
pub fn has_markup_or_url(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    if ["http://", "https://", "www.", "href="]
        .iter()
        .any(|p| m.contains(p))
    {
        return true;
    }
    let b = m.as_bytes();
    b.windows(2)
        .any(|w| matches!(w, [b'<', c] if c.is_ascii_alphabetic() || *c == b'/' || *c == b'!'))
}

/// The probe.
#[derive(Debug, Clone, Copy)]
pub struct Malformed;

impl Probe for Malformed {
    fn name(&self) -> &'static str {
        "malformed"
    }

    fn cost(&self, level: ProbeLevel) -> ProbeCost {
        let cases = cases_at(level).fold(
            ProbeCost {
                requests: 0,
                electrumx_units: 0.0,
            },
            |acc, c| ProbeCost {
                // Case, a follow-up per notification read past, the follow-up ping; a versioned
                // case may also need a (re)opening version line.
                requests: acc.requests
                    + FOLLOW_UPS_PER_CASE
                    + if matches!(c.conn, Conn::Fresh { .. }) {
                        1
                    } else {
                        2
                    },
                electrumx_units: acc.electrumx_units + c.electrumx_units,
            },
        );
        ProbeCost {
            requests: cases.requests,
            electrumx_units: cases.electrumx_units + UNITS_SIDE_CONNECTION,
        }
    }

    fn samples(&self, level: ProbeLevel) -> u32 {
        u32::try_from(cases_at(level).count()).unwrap_or(u32::MAX)
    }

    fn channel(&self) -> Channel {
        Channel::SideConnections
    }

    fn time_cap(&self) -> Duration {
        Duration::from_secs(12)
    }

    async fn run<R: Rpc, O: Opener>(
        &self,
        _rpc: &mut Counted<'_, R>,
        opener: &O,
        _ctx: &ProbeContext,
        plan: Plan,
    ) -> ProbeOutcome {
        let mut detail = MalformedDetail::default();
        let mut side = 0u32;
        let mut versioned: Option<O::Conn> = None;
        let mut opened = 0u32;
        for spec in cases_at(plan.level) {
            if plan.expired() {
                detail.cases.push(blank(spec, "not-run"));
                continue;
            }
            let case = match spec.conn {
                Conn::Versioned => {
                    if versioned.as_ref().is_none_or(|c| c.is_closed())
                        && opened < MAX_VERSIONED_CONNECTIONS
                    {
                        close(versioned.take()).await;
                        opened += 1;
                        versioned = open_versioned(opener, &mut side).await;
                    }
                    match versioned.as_mut() {
                        None => no_connection(spec),
                        Some(conn) => send_case(conn, spec, PING_V2, &mut side).await,
                    }
                }
                Conn::Fresh { follow_up } => {
                    // One connection at a time: a versioned connection still open goes first.
                    close(versioned.take()).await;
                    match opener.open_unversioned().await {
                        None => no_connection(spec),
                        Some(mut conn) => {
                            let case = send_case(&mut conn, spec, follow_up, &mut side).await;
                            conn.close().await;
                            case
                        }
                    }
                }
            };
            detail.cases.push(case);
        }
        close(versioned).await;
        let answered = detail
            .cases
            .iter()
            .filter(|c| !matches!(c.outcome.as_str(), "over-budget" | "no-connection"))
            .count();
        let (status, error) = if answered == 0 && !detail.cases.is_empty() {
            (Status::Skipped, Some("no case could be sent".to_string()))
        } else {
            (Status::Success, None)
        };
        let taken = u32::try_from(detail.cases.iter().filter(|c| was_sent(&c.outcome)).count())
            .unwrap_or(u32::MAX);
        let cut = detail.cases.iter().any(|c| c.outcome == "not-run");
        let coverage = Coverage::new(self.samples(plan.level), taken, cut);
        ProbeOutcome {
            status,
            error,
            detail: ProbeDetail::Malformed(detail),
            side_requests: side,
            coverage,
        }
    }
}

/// Closes a side connection, if there is one.
async fn close<C: Rpc>(conn: Option<C>) {
    if let Some(mut c) = conn {
        c.close().await;
    }
}

/// A side connection on which [`VERSION_LINE`] was answered with a result.
async fn open_versioned<O: Opener>(opener: &O, side: &mut u32) -> Option<O::Conn> {
    let mut conn = opener.open_unversioned().await?;
    let mut counted = Counted::new(&mut conn);
    let out = counted.send_raw(VERSION_LINE.as_bytes()).await;
    *side = side.saturating_add(counted.sent());
    match out {
        RawOutcome::Line { text, .. }
            if matches!(RawReply::parse(&text), RawReply::Result { .. }) =>
        {
            Some(conn)
        }
        _ => {
            conn.close().await;
            None
        }
    }
}

/// Sends one case and, when it was answered, the follow-up that tells whether the server hung up.
/// A notification arriving first is noted and the answer read by sending the follow-up (the
/// session returns the next line, whichever it is).
async fn send_case<C: Rpc>(
    conn: &mut C,
    spec: &CaseSpec,
    follow_up: &str,
    side: &mut u32,
) -> MalformedCase {
    let mut conn = Counted::new(conn);
    let mut out = conn.send_raw(spec.line.as_bytes()).await;
    let mut notified = Vec::new();
    while let RawOutcome::Line { text, .. } = &out {
        match RawReply::parse(text) {
            RawReply::Notification { method }
                if notified.len() < MAX_NOTIFICATIONS_BEFORE_REPLY =>
            {
                notified.push(method);
                out = conn.send_raw(follow_up.as_bytes()).await;
            }
            _ => break,
        }
    }
    let mut case = record(spec, &out);
    case.notifications_before_reply = notified;
    if matches!(out, RawOutcome::Line { .. }) {
        case.disconnected = conn.is_closed()
            || matches!(
                conn.send_raw(follow_up.as_bytes()).await,
                RawOutcome::Closed { .. }
            );
    }
    *side = side.saturating_add(conn.sent());
    case
}

fn blank(spec: &CaseSpec, outcome: &str) -> MalformedCase {
    MalformedCase {
        case: spec.name.into(),
        sent: spec.line.into(),
        outcome: outcome.into(),
        code: None,
        message: None,
        result_shape: None,
        disconnected: false,
        rtt_ms: None,
        message_has_markup_or_url: false,
        reply_form: None,
        notifications_before_reply: Vec::new(),
    }
}

fn no_connection(spec: &CaseSpec) -> MalformedCase {
    blank(spec, "no-connection")
}

/// One case's answer as recorded.
pub fn record(spec: &CaseSpec, out: &RawOutcome) -> MalformedCase {
    match out {
        RawOutcome::OverBudget => blank(spec, "over-budget"),
        RawOutcome::Silence => blank(spec, "silence"),
        RawOutcome::Closed { after_ms } => MalformedCase {
            disconnected: true,
            rtt_ms: Some(*after_ms),
            ..blank(spec, "disconnect")
        },
        RawOutcome::Line { text, rtt_ms } => {
            let mut c = MalformedCase {
                rtt_ms: Some(*rtt_ms),
                reply_form: reply_form(text),
                ..blank(spec, "")
            };
            match RawReply::parse(text) {
                RawReply::Error { code, message } => {
                    c.outcome = "error".into();
                    c.code = code;
                    c.message_has_markup_or_url = has_markup_or_url(&message);
                    c.message = Some(truncate(&message, MAX_ERROR_TEXT));
                }
                RawReply::Result { shape } => {
                    c.outcome = "result".into();
                    c.result_shape = Some(shape);
                }
                RawReply::Notification { method } => {
                    c.outcome = "notification".into();
                    c.result_shape = Some(format!("notification:{method}"));
                }
                RawReply::NotRpc => c.outcome = "not-rpc".into(),
                RawReply::NotJson => {
                    c.outcome = "not-json".into();
                    c.message_has_markup_or_url = has_markup_or_url(text);
                    c.message = Some(truncate(text, MAX_ERROR_TEXT));
                }
            }
            c
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::Value;

    use super::*;
    use crate::probes::fake::{line, out_of_time, run_probe, FakeOpener, FakeRpc, Script};
    use crate::rpc::CallOutcome;

    /// ElectrumX 2.0.0 as read from its source (see tests/fixtures/implementations/electrumx-2.0.0.json).
    struct ElectrumX2;
    impl Script for ElectrumX2 {
        fn call(&self, _: &str, _: &Value) -> CallOutcome {
            CallOutcome::Timeout
        }
        fn raw(&self, l: &str, version_sent: bool) -> (Vec<RawOutcome>, bool) {
            let id = serde_json::from_str::<Value>(l)
                .ok()
                .and_then(|v| v.get("id").cloned())
                .unwrap_or(Value::Null);
            if !version_sent && !l.contains("server.version") {
                let t = format!(
                    r#"{{"jsonrpc":"2.0","error":{{"code":1,"message":"use server.version to identify client"}},"id":{id}}}"#
                );
                // session.py handle_request(): _do_crash_old_electrum_client() first pushes
                // blockchain.relayfee and blockchain.estimatefee notifications, then the error,
                // then the close.
                let relayfee = r#"{"jsonrpc":"2.0","method":"blockchain.relayfee","params":[]}"#;
                let estimatefee =
                    r#"{"jsonrpc":"2.0","method":"blockchain.estimatefee","params":[]}"#;
                return (vec![line(relayfee), line(estimatefee), line(&t)], true);
            }
            if l.contains("\"1.0\"") {
                return (
                    vec![line(&format!(
                        r#"{{"result":["ElectrumX 2.0.0","1.4"],"error":null,"id":{id}}}"#
                    ))],
                    false,
                );
            }
            if l.contains("zzzz") {
                let t = format!(
                    r#"{{"jsonrpc":"2.0","error":{{"code":1,"message":"{NON_HEX_SCRIPTHASH} is not a valid script hash"}},"id":{id}}}"#
                );
                return (vec![line(&t)], false);
            }
            if l.contains("broadcast") {
                let t = format!(
                    r#"{{"jsonrpc":"2.0","error":{{"code":1,"message":"the transaction was rejected by network rules.\n\nTX decode failed\n[deadbeef]"}},"id":{id}}}"#
                );
                return (vec![line(&t)], false);
            }
            if l.starts_with('[') {
                return (
                    vec![line(
                        r#"[{"jsonrpc":"2.0","result":null,"id":900009},{"jsonrpc":"2.0","result":null,"id":900010}]"#,
                    )],
                    false,
                );
            }
            (
                vec![line(&format!(
                    r#"{{"jsonrpc":"2.0","result":null,"id":{id}}}"#
                ))],
                false,
            )
        }
    }

    async fn run(script: Arc<dyn Script>, level: ProbeLevel) -> (MalformedDetail, u32, u32) {
        let (out, main) = run_probe(&Malformed, script, crate::probes::tests::plan(level)).await;
        let ProbeDetail::Malformed(d) = out.detail else {
            panic!()
        };
        (d, main, out.side_requests)
    }

    #[tokio::test]
    async fn electrumx2_standard_cases() {
        let (d, main, side) = run(Arc::new(ElectrumX2), ProbeLevel::Standard).await;
        let names: Vec<&str> = d.cases.iter().map(|c| c.case.as_str()).collect();
        assert_eq!(
            names,
            [
                "before-version",
                "jsonrpc-1.0",
                "scripthash-non-hex",
                "broadcast-invalid-tx",
                "small-batch"
            ]
        );
        let bv = &d.cases[0];
        assert_eq!(
            (bv.outcome.as_str(), bv.code, bv.disconnected),
            ("error", Some(1), true)
        );
        assert_eq!(
            bv.notifications_before_reply,
            ["blockchain.relayfee", "blockchain.estimatefee"]
        );
        assert_eq!(bv.reply_form.as_deref(), Some("jsonrpc,error,id;compact"));
        let v1 = &d.cases[1];
        assert_eq!((v1.outcome.as_str(), v1.disconnected), ("result", false));
        assert_eq!(v1.reply_form.as_deref(), Some("result,error,id;compact"));
        assert_eq!(
            d.cases[2]
                .message
                .as_deref()
                .map(|m| m.ends_with("is not a valid script hash")),
            Some(true)
        );
        assert!(!d.cases[3].message_has_markup_or_url);
        assert_eq!(
            d.cases[4].result_shape.as_deref(),
            Some("array[2]<result,result>")
        );
        // Nothing on the main session.
        assert_eq!(main, 0);
        // before-version: case + one follow-up per notification read past (3); jsonrpc-1.0:
        // case + ping (2); versioned: version line + 3 × (case + ping) (7).
        assert_eq!(side, 12);
        assert!(main + side <= Malformed.cost(ProbeLevel::Standard).requests);
    }

    #[tokio::test]
    async fn full_level_sends_every_case() {
        let (d, _, _) = run(Arc::new(ElectrumX2), ProbeLevel::Full).await;
        assert_eq!(d.cases.len(), CASES.len());
    }

    #[test]
    fn fresh_cases_come_first_so_one_side_connection_suffices() {
        let first_versioned = CASES
            .iter()
            .position(|c| c.conn == Conn::Versioned)
            .unwrap();
        assert!(CASES[first_versioned..]
            .iter()
            .all(|c| c.conn == Conn::Versioned));
    }

    #[tokio::test]
    async fn side_connections_are_opened_one_at_a_time_and_closed() {
        use crate::probes::fake::OpenConnections;
        let script: Arc<dyn Script> = Arc::new(ElectrumX2);
        let open = Arc::new(OpenConnections::default());
        let opener = FakeOpener::counting(script.clone(), open.clone());
        let mut rpc = FakeRpc::new(script, 100);
        let mut c = Counted::new(&mut rpc);
        let out = Malformed
            .run(
                &mut c,
                &opener,
                &crate::probes::tests::ctx(),
                crate::probes::tests::plan(ProbeLevel::Full),
            )
            .await;
        // before-version, jsonrpc-1.0, unsupported-protocol and at least one versioned connection.
        assert!(*opener.opened.lock().unwrap() >= 4);
        assert_eq!(open.max(), 1, "two side connections were open at once");
        assert_eq!(open.now(), 0, "a side connection was left open");
        assert_eq!(
            out.coverage,
            Coverage {
                planned: CASES.len() as u32,
                taken: CASES.len() as u32,
                cut_by_time_cap: false
            }
        );
    }

    #[tokio::test]
    async fn a_probe_out_of_time_says_so() {
        let (out, _) = run_probe(
            &Malformed,
            Arc::new(ElectrumX2),
            out_of_time(ProbeLevel::Standard),
        )
        .await;
        assert_eq!(
            out.coverage,
            Coverage {
                planned: 5,
                taken: 0,
                cut_by_time_cap: true
            }
        );
    }

    #[test]
    fn markup_and_urls_are_flagged() {
        assert!(has_markup_or_url("<br/><br/>Download the latest version"));
        assert!(has_markup_or_url(
            "visit https://electrum.example for the fix"
        ));
        assert!(has_markup_or_url("<a href=x>"));
        assert!(!has_markup_or_url(
            "the transaction was rejected by network rules.\n\nTX decode failed\n[deadbeef]"
        ));
        assert!(!has_markup_or_url("fee < 1 sat/vB"));
    }

    #[test]
    fn every_case_line_is_ours_and_fixed() {
        for c in CASES {
            assert!(!c.line.contains('\n'));
            if c.name != "invalid-json" {
                serde_json::from_str::<Value>(c.line).unwrap();
            } else {
                assert!(serde_json::from_str::<Value>(c.line).is_err());
            }
        }
        assert!(CASES[3].line.contains(NON_HEX_SCRIPTHASH));
        assert!(CASES[6].line.contains(SHORT_SCRIPTHASH));
        assert!(CASES[4].line.contains(INVALID_TX_HEX));
        assert!(CASES[7].line.contains(UNKNOWN_METHOD));
        assert_eq!(SHORT_SCRIPTHASH.len(), 62);
        assert_eq!(NON_HEX_SCRIPTHASH.len(), 64);
    }
}
