//! Implementation inference and the behavior hash (issue 3).
//!
//! [`infer`] is pure: from a finished [`EndpointRecord`] it derives
//!
//! * the **claim**: what `server.version` (or `server.features.server_version`)
//!   says the software is ([`claim`]);
//! * the **behavioral verdict**: weighted [`rules`] over error templates,
//!   feature keys, padding, pre-version and batch handling;
//! * an [`Inference`]: implementation, version (only when claim and behavior
//!   agree), confidence, evidence, and the **mismatch** flag when the claim and
//!   the behavior disagree (the methodology's "modified implementation" signal);
//! * the **behavior hash** over the normalized description ([`describe`]).

use std::collections::BTreeMap;

use observatory_model::probes::{Implementation, Inference};
use observatory_model::raw::{Answer, EndpointRecord};

pub mod claim;
pub mod describe;
pub mod rules;

/// Behavioral score from which the behavior alone decides the implementation when nothing
/// (or the same implementation) is claimed.
pub const DECISIVE_SCORE: f64 = 3.0;
/// Behavioral score needed to overrule a claim: at least two independent rules, so that one
/// odd error text (a custom build, a proxy) cannot turn an honest server into a "mismatch".
pub const OVERRIDE_SCORE: f64 = 5.0;
/// Score at which the behavioral evidence counts as complete (confidence saturates).
pub const FULL_SCORE: f64 = 8.0;
/// Fewest reply lines before "no padding" counts against an ElectrumX ≥ 2.0 claim
/// (ElectrumX 2.x sends its first 1024 bytes unpadded: transport.py `WARMUP_BUDGET_SIZE`).
pub const MIN_LINES_FOR_PADDING_CHECK: u64 = 20;
/// First ElectrumX version that pads replies and refuses requests before `server.version`.
pub const ELECTRUMX_PADDING_SINCE: (u64, u64, u64) = (2, 0, 0);
/// Protocol version that removed the `blockchain.address.*` methods: an ElectrumX that serves
/// them on a session negotiated at or above it runs modified code.
pub const LEGACY_ADDRESS_REMOVED_IN: (u64, u64, u64) = (1, 3, 0);

/// Infers the implementation from a finished record (metadata, wire facts, probes) and computes the
/// behavior hash. Pure: same record, same answer. Both are None when the server never spoke
/// Electrum to us (nothing to infer from, nothing to hash).
pub fn infer(record: &EndpointRecord) -> (Option<Inference>, Option<String>) {
    if !record.status.is_reachable()
        && record.metadata.version.is_none()
        && record.probes.is_empty()
    {
        return (None, None);
    }
    let description = describe::describe(record);
    let hash = describe::behavior_hash(&description);
    let mut inference = decide(record);
    inference.behavior_description = description;
    (Some(inference), Some(hash))
}

/// The software string: `server.version` first, `server.features.server_version` otherwise.
fn software(r: &EndpointRecord) -> Option<&str> {
    match &r.metadata.version {
        Some(Answer {
            result: Some(v), ..
        }) => Some(v.software.as_str()),
        _ => r
            .metadata
            .features
            .as_ref()?
            .result
            .as_ref()?
            .server_version
            .as_deref(),
    }
}

fn decide(r: &EndpointRecord) -> Inference {
    let claimed = software(r).and_then(claim::parse);
    let facts = rules::Facts::of(r);
    let (scores, mut evidence) = rules::score(&facts);
    if let Some(s) = software(r) {
        evidence.insert(
            0,
            format!(
                "claim: {}",
                observatory_protocol::message::truncate(s, rules::MAX_EVIDENCE_VALUE)
            ),
        );
    }
    let total: f64 = scores.values().sum();
    let best = leader(&scores);
    let (claimed_imp, claimed_version) = match &claimed {
        Some((i, v)) => (Some(*i), v.clone()),
        None => (None, None),
    };
    let mut mismatch_reasons = Vec::new();
    let decisive = |b: Implementation, s: f64| {
        s >= DECISIVE_SCORE
            && (claimed_imp.is_none() || claimed_imp == Some(b) || s >= OVERRIDE_SCORE)
    };
    let (implementation, confidence) = match (best, claimed_imp) {
        (Some((b, s)), claim) if decisive(b, s) => {
            let share = (s / total) * (s / FULL_SCORE).min(1.0);
            if claim == Some(b) {
                (b, 0.6 + 0.39 * share)
            } else {
                if let Some(c) = claim {
                    let support = scores.get(&c).copied().unwrap_or(0.0);
                    if support < s / 2.0 {
                        mismatch_reasons.push(format!(
                            "claims {} but behaves like {} (behavior score {:.1} vs {:.1})",
                            c.label(),
                            b.label(),
                            s,
                            support
                        ));
                    }
                }
                (b, 0.3 + 0.5 * share)
            }
        }
        (_, Some(c)) => {
            let against: f64 = scores
                .iter()
                .filter(|(i, _)| **i != c)
                .map(|(_, v)| v)
                .sum();
            (c, if against > 0.0 { 0.35 } else { 0.5 })
        }
        (Some((b, s)), None) => (b, 0.2 + 0.1 * (s / DECISIVE_SCORE)),
        (None, None) => (Implementation::Unknown, 0.0),
    };
    if implementation == Implementation::Electrumx && claimed_imp == Some(Implementation::Electrumx)
    {
        electrumx_version_checks(r, &facts, claimed_version.as_deref(), &mut mismatch_reasons);
    }
    let version = (claimed_imp == Some(implementation))
        .then(|| claimed_version.clone())
        .flatten();
    Inference {
        implementation,
        version,
        confidence: (confidence * 100.0).round() / 100.0,
        evidence,
        claimed: claimed_imp,
        claimed_version,
        mismatch: !mismatch_reasons.is_empty(),
        mismatch_reasons,
        behavior_description: Vec::new(),
    }
}

/// The implementation with the highest score, unless two tie.
fn leader(scores: &BTreeMap<Implementation, f64>) -> Option<(Implementation, f64)> {
    let mut v: Vec<(Implementation, f64)> = scores.iter().map(|(i, s)| (*i, *s)).collect();
    v.sort_by(|a, b| b.1.total_cmp(&a.1));
    match v.as_slice() {
        [first, second, ..] if first.1 == second.1 => None,
        [first, ..] => Some(*first),
        [] => None,
    }
}

/// Version-specific ElectrumX behavior: 2.0.0 pads replies and refuses requests before
/// `server.version`; 1.x does neither (by default); no ElectrumX serves `blockchain.address.*`
/// on a protocol ≥ 1.3 session (spesmilo/electrumx `session.py` `set_request_handlers()`).
fn electrumx_version_checks(
    r: &EndpointRecord,
    f: &rules::Facts<'_>,
    version: Option<&str>,
    reasons: &mut Vec<String>,
) {
    let negotiated = match &r.metadata.version {
        Some(Answer {
            result: Some(v), ..
        }) => claim::numeric(&v.protocol),
        _ => None,
    };
    if f.legacy_answered && negotiated.is_some_and(|p| p >= LEGACY_ADDRESS_REMOVED_IN) {
        reasons.push(
            "claims ElectrumX but answers blockchain.address.* (removed in protocol 1.3)"
                .to_string(),
        );
    }
    let Some(v) = version.and_then(claim::numeric) else {
        return;
    };
    let modern = v >= ELECTRUMX_PADDING_SINCE;
    let answered_before_version = f
        .case("before-version")
        .is_some_and(|c| c.outcome == "result");
    if !modern && f.padded {
        reasons.push(format!(
            "claims ElectrumX {}.{}.{} but pads replies (ElectrumX ≥ 2.0 behavior)",
            v.0, v.1, v.2
        ));
    }
    if modern && !f.padded && r.wire.lines_received >= MIN_LINES_FOR_PADDING_CHECK {
        reasons.push(format!(
            "claims ElectrumX {}.{}.{} but does not pad replies",
            v.0, v.1, v.2
        ));
    }
    if modern && answered_before_version {
        reasons.push(format!(
            "claims ElectrumX {}.{}.{} but answers requests before server.version",
            v.0, v.1, v.2
        ));
    }
}
