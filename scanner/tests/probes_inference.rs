//! Table-driven tests of implementation inference and the behavior hash over the recorded
//! responses in `tests/fixtures/implementations/*.json` (written from each implementation's
//! public source; every fixture names its sources).
//!
//! Each fixture becomes an [`EndpointRecord`] the way the scanner would have filled it:
//! metadata answers, wire facts, and probe details, the malformed cases parsed from the exact
//! reply lines by the probe's own `record` function. Inference must name the implementation
//! and version, flag the mismatch fixtures, and give each implementation its own behavior hash,
//! at both probe levels.

use std::collections::BTreeMap;
use std::path::PathBuf;

use observatory_model::probes::{
    AddressFormatsDetail, CallObservation, FormatQueries, Implementation, MalformedDetail,
    ProbeDetail, ProbeResult, XpubDetail,
};
use observatory_model::raw::{
    Answer, Endpoint, EndpointRecord, Features, RpcError, ServerVersion, Status, Transport,
};
use observatory_scanner::inference::infer;
use observatory_scanner::probes::address_formats::SCRIPTHASH_METHODS;
use observatory_scanner::probes::malformed::{record, CASES};
use observatory_scanner::probes::ProbeLevel;
use observatory_scanner::rpc::RawOutcome;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Debug, Deserialize)]
struct Fixture {
    implementation: Implementation,
    version: Option<String>,
    mismatch: bool,
    about: String,
    sources: BTreeMap<String, String>,
    software: String,
    protocol: String,
    banner: String,
    donation: Option<String>,
    features: Option<Value>,
    features_error: Option<FixtureError>,
    padded: bool,
    lines: u64,
    scripthash_calls: String,
    legacy: Value,
    xpub_batch: String,
    malformed: BTreeMap<String, FixtureCase>,
}

#[derive(Debug, Deserialize)]
struct FixtureError {
    code: Option<i64>,
    message: String,
}

#[derive(Debug, Deserialize)]
struct FixtureCase {
    line: Option<String>,
    #[serde(default)]
    closed: bool,
    #[serde(default)]
    then_closed: bool,
    #[serde(default)]
    notified: Vec<String>,
}

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/implementations")
}

fn load_all() -> Vec<(String, Fixture)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(fixture_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let f: Fixture =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        out.push((path.file_stem().unwrap().to_string_lossy().to_string(), f));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(out.len() >= 7, "expected a fixture per implementation");
    out
}

fn answer<T>(result: Option<T>, error: Option<RpcError>) -> Answer<T> {
    Answer {
        at_ms: 0,
        rtt_ms: 1.0,
        result,
        error,
    }
}

fn call(method: &str, outcome: &Value) -> CallObservation {
    let (outcome_word, error, shape) = match outcome {
        Value::String(s) if s == "closed" => ("closed", None, None),
        Value::String(s) if s == "timeout" => ("timeout", None, None),
        Value::Object(o) if o.contains_key("error") => {
            let e: FixtureError = serde_json::from_value(o["error"].clone()).unwrap();
            (
                "error",
                Some(RpcError {
                    code: e.code,
                    message: e.message,
                }),
                None,
            )
        }
        Value::Object(o) if o.contains_key("result") => (
            "answered",
            None,
            Some(observatory_scanner::probes::observe::result_shape(
                &o["result"],
            )),
        ),
        other => panic!("bad call outcome {other}"),
    };
    CallObservation {
        method: method.into(),
        rtt_ms: (outcome_word == "answered" || outcome_word == "error").then_some(1.0),
        error,
        result_shape: shape,
        outcome: outcome_word.into(),
    }
}

fn probe(name: &str, detail: ProbeDetail) -> ProbeResult {
    ProbeResult {
        name: name.into(),
        status: Status::Success,
        error: None,
        started_ms: 0,
        duration_ms: 1.0,
        requests_sent: 1,
        detail,
        cut_by_time_cap: false,
        samples_planned: 1,
        samples_taken: 1,
    }
}

/// The record the scanner would have written for this server, with the malformed cases of `level`.
fn build(f: &Fixture, level: ProbeLevel, host: &str) -> EndpointRecord {
    let endpoint = Endpoint {
        host: host.into(),
        port: 50001,
        transport: Transport::Tcp,
    };
    let mut r = EndpointRecord::new("20260101T000000Z-test", 0, "local", endpoint, 0);
    r.status = Status::Success;
    let m = &mut r.metadata;
    m.version = Some(answer(
        Some(ServerVersion {
            software: f.software.clone(),
            protocol: f.protocol.clone(),
        }),
        None,
    ));
    m.banner = Some(answer(Some(f.banner.clone()), None));
    m.donation_address = f.donation.clone().map(|d| answer(Some(d), None));
    if let Some(Value::Object(raw)) = &f.features {
        let mut keys: Vec<String> = raw.keys().cloned().collect();
        keys.sort();
        let s = |k: &str| raw.get(k).and_then(Value::as_str).map(str::to_string);
        let feats = Features {
            genesis_hash: s("genesis_hash"),
            protocol_min: s("protocol_min"),
            protocol_max: s("protocol_max"),
            server_version: s("server_version"),
            hash_function: s("hash_function"),
            keys,
            ..Features::default()
        };
        m.features = Some(answer(Some(feats), None));
        m.features_raw = Some(Value::Object(raw.clone()));
    } else if let Some(e) = &f.features_error {
        m.features = Some(answer(
            None,
            Some(RpcError {
                code: e.code,
                message: e.message.clone(),
            }),
        ));
    }
    m.peers = Some(answer(Some(Vec::new()), None));
    r.wire.lines_received = f.lines;
    r.wire.padded_lines = if f.padded { f.lines / 2 } else { 0 };
    r.wire.jsonrpc_2 = Some(true);

    let sh_outcome = |method: &str| -> Value {
        match f.scripthash_calls.as_str() {
            "answered" if method.ends_with("get_balance") => {
                json!({"result": {"confirmed": 0, "unconfirmed": 0}})
            }
            "answered" => json!({"result": []}),
            other => json!(other),
        }
    };
    let formats = ["p2pkh", "p2wpkh", "p2wsh", "p2tr"]
        .iter()
        .map(|fmt| FormatQueries {
            format: (*fmt).into(),
            address: "x".into(),
            source: "test".into(),
            scripthash: "00".repeat(32),
            calls: SCRIPTHASH_METHODS
                .iter()
                .map(|m| call(m, &sh_outcome(m)))
                .collect(),
        })
        .collect();
    let legacy = call("blockchain.address.get_balance", &f.legacy);
    let answered = legacy.outcome == "answered";
    let mut legacy_calls = vec![legacy];
    if answered {
        legacy_calls.push(call(
            "blockchain.address.get_history",
            &json!({"result": []}),
        ));
    }
    r.probes.push(probe(
        "address-formats",
        ProbeDetail::AddressFormats(AddressFormatsDetail {
            formats,
            legacy_address: legacy_calls,
            legacy_address_answered: answered,
        }),
    ));

    let mut cases = Vec::new();
    for spec in CASES
        .iter()
        .filter(|c| level == ProbeLevel::Full || c.level == ProbeLevel::Standard)
    {
        let fc = f
            .malformed
            .get(spec.name)
            .unwrap_or_else(|| panic!("fixture lacks case {}", spec.name));
        let out = match (&fc.line, fc.closed) {
            (Some(text), _) => RawOutcome::Line {
                text: text.clone(),
                rtt_ms: 1.0,
            },
            (None, true) => RawOutcome::Closed { after_ms: 1.0 },
            (None, false) => RawOutcome::Silence,
        };
        let mut c = record(spec, &out);
        c.disconnected |= fc.then_closed;
        c.notifications_before_reply = fc.notified.clone();
        cases.push(c);
    }
    r.probes.push(probe(
        "malformed",
        ProbeDetail::Malformed(MalformedDetail { cases }),
    ));

    let xpub = match f.xpub_batch.as_str() {
        "accepted" => XpubDetail {
            batch_accepted: Some(true),
            batch_size: 16,
            ..Default::default()
        },
        "closed" => XpubDetail {
            batch_accepted: Some(false),
            batch_size: 16,
            ..Default::default()
        },
        other => panic!("bad xpub_batch {other}"),
    };
    r.probes.push(probe("xpub", ProbeDetail::Xpub(xpub)));
    r
}

#[test]
fn fixtures_name_their_sources() {
    for (name, f) in load_all() {
        assert!(!f.sources.is_empty() && !f.about.is_empty(), "{name}");
        assert!(
            f.sources
                .values()
                .all(|s| s.contains('/') || s.starts_with("assumed")),
            "{name}: {:?}",
            f.sources
        );
    }
}

#[test]
fn every_fixture_is_identified_at_both_levels() {
    for level in [ProbeLevel::Standard, ProbeLevel::Full] {
        for (name, f) in load_all() {
            let (inf, hash) = infer(&build(&f, level, "127.0.0.1"));
            let inf = inf.unwrap_or_else(|| panic!("{name}: no inference"));
            assert!(hash.is_some(), "{name}");
            assert_eq!(
                inf.implementation, f.implementation,
                "{name} at {level:?}: {:#?}",
                inf.evidence
            );
            assert_eq!(inf.version, f.version, "{name} at {level:?}");
            assert_eq!(
                inf.mismatch, f.mismatch,
                "{name} at {level:?}: {:?} {:#?}",
                inf.mismatch_reasons, inf.evidence
            );
            if !f.mismatch {
                assert!(
                    inf.confidence >= 0.7,
                    "{name} at {level:?}: confidence {} {:#?}",
                    inf.confidence,
                    inf.evidence
                );
                assert_eq!(inf.claimed, Some(f.implementation), "{name}");
            }
            assert!(
                inf.evidence.iter().any(|e| e.starts_with("claim: ")),
                "{name}"
            );
            assert!(!inf.behavior_description.is_empty(), "{name}");
        }
    }
}

#[test]
fn behavior_hashes_separate_implementations_and_versions() {
    for level in [ProbeLevel::Standard, ProbeLevel::Full] {
        let mut by_hash: BTreeMap<String, String> = BTreeMap::new();
        for (name, f) in load_all()
            .into_iter()
            .filter(|(n, _)| !n.starts_with("mismatch"))
        {
            let (_, hash) = infer(&build(&f, level, "127.0.0.1"));
            if let Some(other) = by_hash.insert(hash.unwrap(), name.clone()) {
                panic!("{name} and {other} share a behavior hash at {level:?}");
            }
        }
    }
}

#[test]
fn behavior_hash_ignores_volatile_fields() {
    for (name, f) in load_all() {
        let a = build(&f, ProbeLevel::Standard, "127.0.0.1");
        let mut b = build(&f, ProbeLevel::Standard, "127.0.0.2");
        // Volatile: host, banner text, timing, peers, line counts, heights.
        b.metadata.banner = Some(answer(
            Some("Welcome, it is 2026-11-22 04:00 UTC".into()),
            None,
        ));
        b.wire.lines_received += 17;
        b.wire.padded_lines = if f.padded { b.wire.padded_lines + 3 } else { 0 };
        b.started_ms = 123_456;
        for p in &mut b.probes {
            p.duration_ms *= 3.0;
            p.started_ms += 99;
        }
        assert_eq!(infer(&a).1, infer(&b).1, "{name}");
    }
}

#[test]
fn mismatch_reasons_explain_themselves() {
    let all = load_all();
    let (_, f) = all
        .iter()
        .find(|(n, _)| n == "mismatch-electrumx-version")
        .unwrap();
    let (inf, _) = infer(&build(f, ProbeLevel::Standard, "127.0.0.1"));
    let inf = inf.unwrap();
    assert!(
        inf.mismatch_reasons
            .iter()
            .any(|r| r.contains("pads replies")),
        "{:?}",
        inf.mismatch_reasons
    );
    let (_, f) = all
        .iter()
        .find(|(n, _)| n == "mismatch-fulcrum-as-electrumx")
        .unwrap();
    let inf = infer(&build(f, ProbeLevel::Standard, "127.0.0.1"))
        .0
        .unwrap();
    assert_eq!(inf.claimed, Some(Implementation::Electrumx));
    assert!(
        inf.mismatch_reasons
            .iter()
            .any(|r| r.contains("claims ElectrumX but behaves like Fulcrum")),
        "{:?}",
        inf.mismatch_reasons
    );
    let (_, f) = all
        .iter()
        .find(|(n, _)| n == "mismatch-electrumx-legacy-address")
        .unwrap();
    let inf = infer(&build(f, ProbeLevel::Standard, "127.0.0.1"))
        .0
        .unwrap();
    assert_eq!(inf.implementation, Implementation::Electrumx);
    assert!(
        inf.mismatch_reasons
            .iter()
            .any(|r| r.contains("answers blockchain.address.*")),
        "{:?}",
        inf.mismatch_reasons
    );
}

#[test]
fn unreachable_record_gives_nothing() {
    let endpoint = Endpoint {
        host: "127.0.0.1".into(),
        port: 1,
        transport: Transport::Tcp,
    };
    let mut r = EndpointRecord::new("run", 0, "local", endpoint, 0);
    r.status = Status::ConnectionRefused;
    assert_eq!(infer(&r), (None, None));
}

#[test]
fn unknown_software_without_evidence_is_unknown() {
    let all = load_all();
    let (_, f) = all.iter().find(|(n, _)| n == "electrs").unwrap();
    let mut r = build(f, ProbeLevel::Standard, "127.0.0.1");
    r.metadata.version = Some(answer(
        Some(ServerVersion {
            software: "MyServer 1.0".into(),
            protocol: "1.4".into(),
        }),
        None,
    ));
    r.metadata.features = None;
    r.metadata.features_raw = None;
    r.metadata.banner = None;
    r.probes.clear();
    let inf = infer(&r).0.unwrap();
    assert_eq!(inf.implementation, Implementation::Unknown);
    assert_eq!(inf.claimed, None);
    // With electrs's probe answers back, behavior alone names it, without a version.
    let mut r2 = build(f, ProbeLevel::Standard, "127.0.0.1");
    r2.metadata.version = r.metadata.version.clone();
    let inf = infer(&r2).0.unwrap();
    assert_eq!(inf.implementation, Implementation::Electrs);
    assert_eq!(inf.version, None);
}

#[test]
fn behavior_hash_survives_a_probe_cut_by_its_time_cap() {
    for (name, f) in load_all() {
        let full = build(&f, ProbeLevel::Standard, "127.0.0.1");
        let mut cut = full.clone();
        for p in &mut cut.probes {
            match &mut p.detail {
                // Only the first format queried before the time cap.
                ProbeDetail::AddressFormats(a) => a.formats.truncate(1),
                // The xpub batch never sent.
                ProbeDetail::Xpub(x) => x.batch_accepted = None,
                _ => {}
            }
        }
        assert_eq!(infer(&full).1, infer(&cut).1, "{name}");
    }
}

#[test]
fn one_odd_error_text_does_not_overrule_a_claim() {
    let all = load_all();
    let (_, f) = all.iter().find(|(n, _)| n == "fulcrum").unwrap();
    let mut r = build(f, ProbeLevel::Standard, "127.0.0.1");
    // Strip Fulcrum's own evidence, then add one electrs-looking error text.
    r.metadata.features = None;
    r.metadata.features_raw = None;
    r.metadata.banner = None;
    for p in &mut r.probes {
        match &mut p.detail {
            ProbeDetail::AddressFormats(a) => {
                a.legacy_address = vec![call(
                    "blockchain.address.get_balance",
                    &json!({"error": {"code": -32601, "message": "method not found"}}),
                )];
                a.legacy_address_answered = false;
            }
            ProbeDetail::Malformed(m) => m.cases.clear(),
            _ => {}
        }
    }
    let inf = infer(&r).0.unwrap();
    assert_eq!(
        inf.implementation,
        Implementation::Fulcrum,
        "{:#?}",
        inf.evidence
    );
    assert!(!inf.mismatch);
    assert!(inf.confidence < 0.5);
}
