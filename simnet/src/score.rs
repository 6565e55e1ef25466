//! Scoring what the observatory found against the ground truth.
//!
//! [`GroundTruth::score`] takes the scanner's records and the analysis' server views (both
//! plain schema types from `observatory-model`, so this crate needs neither the scanner nor
//! the analysis) and answers the three questions of issue 6:
//!
//! * was the implementation of every Electrum-speaking endpoint identified
//!   ([`Scorecard::identified_share`])?
//! * is the planted honeypot group ranked above every honest server by the Honeypot
//!   Suspicion Score ([`HoneypotRanking::separated`])?
//! * did every hostile endpoint end within its deadline with its hostility on record: a
//!   failure status, or stray replies counted ([`Scorecard::hostile_contained`])?
//!
//! Misses are kept with what was observed, so a failing test or a benchmark says *why*.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::time::Duration;

use observatory_model::probes::Implementation;
use observatory_model::raw::{EndpointRecord, Status};
use observatory_model::snapshot::Server;

use crate::plan::Role;
use crate::truth::{EndpointTruth, GroundTruth};

/// Evidence lines kept per miss (enough to see which rule decided).
const EVIDENCE_KEPT: usize = 6;

/// Slack on top of the endpoint deadline before an endpoint counts as stalled: the
/// scanner's deadline is checked between steps, and a busy runtime adds scheduling delay.
pub const DEADLINE_GRACE: Duration = Duration::from_secs(5);

/// An Electrum-speaking endpoint whose implementation was not identified.
#[derive(Debug, Clone, PartialEq)]
pub struct Miss {
    /// `host:port:t|s`.
    pub endpoint: String,
    /// What it is.
    pub truth: Option<Implementation>,
    /// Its planted behavior (`normal`, `legacy-address`, `honeypot`).
    pub behavior: String,
    /// What the scan concluded (None: no record or no inference).
    pub inferred: Option<Implementation>,
    /// The record's status (None: never scanned).
    pub status: Option<Status>,
    /// The record's error text.
    pub error: Option<String>,
    /// The first evidence lines of the inference.
    pub evidence: Vec<String>,
}

/// How a hostile or blackholed endpoint ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// `host:port:t|s`.
    pub endpoint: String,
    /// Planted behavior (`slowloris`, `blackhole`, …).
    pub behavior: String,
    /// The record's status (None: never scanned).
    pub status: Option<Status>,
    /// Wall time of the endpoint's scan, ms.
    pub elapsed_ms: u64,
    /// Replies that matched no request (`wire.unmatched_replies`).
    pub unmatched_replies: u64,
}

impl Outcome {
    /// Ended with a failure status (anything but success).
    pub fn failed(&self) -> bool {
        self.status.is_some_and(|s| s != Status::Success)
    }

    /// The hostility is on record: a failure status, or a success whose stray replies (ids of
    /// no request, duplicates) were counted, as for the `wrong-ids` server, which also sends
    /// the right reply to every request.
    pub fn recorded_as_hostile(&self) -> bool {
        self.failed() || (self.status.is_some() && self.unmatched_replies > 0)
    }

    /// Ended within `deadline` plus [`DEADLINE_GRACE`].
    pub fn within(&self, deadline: Duration) -> bool {
        self.status.is_some()
            && u128::from(self.elapsed_ms) <= (deadline + DEADLINE_GRACE).as_millis()
    }
}

/// One analyzed server's Honeypot Suspicion Score.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranked {
    /// Primary host (the address, on the simnet).
    pub host: String,
    /// HSS, 0–100.
    pub score: f64,
    /// Ids of the indicators that fired.
    pub fired: Vec<String>,
}

impl Ranked {
    fn of(s: &Server) -> Ranked {
        Ranked {
            host: s.host.clone(),
            score: s.hss.score,
            fired: s.hss.fired.iter().map(|i| i.id.clone()).collect(),
        }
    }
}

impl fmt::Display for Ranked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} [{}]",
            self.host,
            self.score,
            self.fired.join(", ")
        )
    }
}

/// HSS of the planted honeypot group against the honest servers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HoneypotRanking {
    /// Each planted honeypot server found in the analysis.
    pub honeypots: Vec<Ranked>,
    /// Number of honest servers found in the analysis.
    pub honest_servers: usize,
    /// The highest-scoring honest server.
    pub max_honest: Option<Ranked>,
    /// Honest servers scoring at or above the lowest-scoring honeypot.
    pub honest_at_or_above: Vec<Ranked>,
}

impl HoneypotRanking {
    /// Lowest honeypot HSS.
    pub fn min_honeypot(&self) -> Option<f64> {
        self.honeypots
            .iter()
            .map(|r| r.score)
            .min_by(f64::total_cmp)
    }

    /// Every planted honeypot scores strictly above every honest server.
    pub fn separated(&self) -> bool {
        !self.honeypots.is_empty() && self.honest_at_or_above.is_empty()
    }
}

/// The observatory's findings scored against the ground truth.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scorecard {
    /// Electrum-speaking endpoints (honest and honeypot) in the truth.
    pub reachable: usize,
    /// …of which the scan has a successful record.
    pub reachable_succeeded: usize,
    /// …of which the implementation was identified.
    pub identified: usize,
    /// …of which the version was identified too.
    pub version_identified: usize,
    /// The reachable endpoints not identified.
    pub misses: Vec<Miss>,
    /// Honeypot separation.
    pub ranking: HoneypotRanking,
    /// Hostile endpoints.
    pub hostile: Vec<Outcome>,
    /// Blackholed endpoints.
    pub blackholed: Vec<Outcome>,
    /// Records whose endpoint is not in the truth (crawled addresses outside the simnet).
    pub foreign_records: usize,
}

impl Scorecard {
    /// Share of reachable endpoints whose implementation was identified, in [0, 1].
    pub fn identified_share(&self) -> f64 {
        share(self.identified, self.reachable)
    }

    /// Hostile and blackholed endpoints that did not end in failure within `deadline`.
    pub fn uncontained(&self, deadline: Duration) -> Vec<&Outcome> {
        self.hostile
            .iter()
            .chain(&self.blackholed)
            .filter(|o| !o.recorded_as_hostile() || !o.within(deadline))
            .collect()
    }

    /// Every hostile and blackholed endpoint ended within `deadline` with its hostility on
    /// record ([`Outcome::recorded_as_hostile`]).
    pub fn hostile_contained(&self, deadline: Duration) -> bool {
        self.uncontained(deadline).is_empty()
    }
}

fn share(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        1.0
    } else {
        part as f64 / whole as f64
    }
}

/// `host:port:t|s` of a truth endpoint, as the scanner keys it.
fn key_of(e: &EndpointTruth) -> String {
    format!("{}:{}:{}", e.address, e.port, e.transport.letter())
}

impl GroundTruth {
    /// Scores scan records and analyzed servers against this truth. With several rounds,
    /// the latest record of each endpoint counts.
    pub fn score(&self, records: &[EndpointRecord], servers: &[Server]) -> Scorecard {
        let mut latest: HashMap<String, &EndpointRecord> = HashMap::new();
        for r in records {
            let key = r.endpoint.key();
            if latest.get(&key).is_none_or(|old| old.round <= r.round) {
                latest.insert(key, r);
            }
        }
        let mut card = Scorecard::default();
        let known: HashMap<String, &EndpointTruth> =
            self.endpoints.iter().map(|e| (key_of(e), e)).collect();
        card.foreign_records = latest.keys().filter(|k| !known.contains_key(*k)).count();
        for e in &self.endpoints {
            let record = latest.get(&key_of(e)).copied();
            match e.role {
                Role::Honest | Role::Honeypot => score_reachable(&mut card, e, record),
                Role::Hostile => card.hostile.push(outcome(e, record)),
                Role::Blackholed => card.blackholed.push(outcome(e, record)),
            }
        }
        card.ranking = self.rank(servers);
        card
    }

    /// Role of each address (all endpoints of one address share a server).
    fn roles(&self) -> BTreeMap<&str, Role> {
        self.endpoints
            .iter()
            .map(|e| (e.address.as_str(), e.role))
            .collect()
    }

    fn rank(&self, servers: &[Server]) -> HoneypotRanking {
        let roles = self.roles();
        let role_of = |s: &Server| {
            s.ips
                .iter()
                .chain(std::iter::once(&s.host))
                .find_map(|ip| roles.get(ip.as_str()).copied())
        };
        let mut ranking = HoneypotRanking::default();
        let mut honest = Vec::new();
        for s in servers {
            match role_of(s) {
                Some(Role::Honeypot) => ranking.honeypots.push(Ranked::of(s)),
                Some(Role::Honest) => honest.push(Ranked::of(s)),
                _ => {}
            }
        }
        ranking.honest_servers = honest.len();
        ranking.max_honest = honest
            .iter()
            .max_by(|a, b| a.score.total_cmp(&b.score))
            .cloned();
        if let Some(floor) = ranking.min_honeypot() {
            ranking.honest_at_or_above = honest.into_iter().filter(|r| r.score >= floor).collect();
        }
        ranking
    }
}

fn score_reachable(card: &mut Scorecard, e: &EndpointTruth, record: Option<&EndpointRecord>) {
    card.reachable += 1;
    let inference = record.and_then(|r| r.inference.as_ref());
    if record.is_some_and(|r| r.status == Status::Success) {
        card.reachable_succeeded += 1;
    }
    let inferred = inference.map(|i| i.implementation);
    if inferred.is_some() && inferred == e.implementation {
        card.identified += 1;
        if inference.and_then(|i| i.version.as_deref()) == e.version.as_deref() {
            card.version_identified += 1;
        }
        return;
    }
    card.misses.push(Miss {
        endpoint: key_of(e),
        truth: e.implementation,
        behavior: e.behavior.clone(),
        inferred,
        status: record.map(|r| r.status),
        error: record.and_then(|r| r.error.clone()),
        evidence: inference
            .map(|i| i.evidence.iter().take(EVIDENCE_KEPT).cloned().collect())
            .unwrap_or_default(),
    });
}

fn outcome(e: &EndpointTruth, record: Option<&EndpointRecord>) -> Outcome {
    Outcome {
        endpoint: key_of(e),
        behavior: e.behavior.clone(),
        status: record.map(|r| r.status),
        elapsed_ms: record.map_or(0, |r| r.finished_ms.saturating_sub(r.started_ms)),
        unmatched_replies: record.map_or(0, |r| r.wire.unmatched_replies),
    }
}

fn label(i: Option<Implementation>) -> &'static str {
    i.map_or("-", |i| i.label())
}

impl fmt::Display for Scorecard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "identified {}/{} reachable endpoints ({:.1}%), version too for {}, {} succeeded; {} records outside the truth",
            self.identified,
            self.reachable,
            100.0 * self.identified_share(),
            self.version_identified,
            self.reachable_succeeded,
            self.foreign_records
        )?;
        for m in &self.misses {
            writeln!(
                f,
                "  miss {} ({}, {}): inferred {}, status {}, error {:?}, evidence {:?}",
                m.endpoint,
                label(m.truth),
                m.behavior,
                label(m.inferred),
                m.status.map_or("none", |s| s.as_str()),
                m.error,
                m.evidence
            )?;
        }
        let r = &self.ranking;
        writeln!(
            f,
            "honeypots: {} servers, lowest HSS {:?}; honest: {} servers",
            r.honeypots.len(),
            r.min_honeypot(),
            r.honest_servers
        )?;
        for h in &r.honeypots {
            writeln!(f, "  honeypot {h}")?;
        }
        if let Some(m) = &r.max_honest {
            writeln!(f, "  highest honest {m}")?;
        }
        for h in &r.honest_at_or_above {
            writeln!(f, "  honest at or above the lowest honeypot: {h}")?;
        }
        for o in self.hostile.iter().chain(&self.blackholed) {
            writeln!(
                f,
                "  {} {}: {} after {} ms",
                o.behavior,
                o.endpoint,
                o.status.map_or("not scanned", |s| s.as_str()),
                o.elapsed_ms
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SimnetConfig;
    use crate::plan::Plan;
    use observatory_model::probes::Inference;
    use observatory_model::raw::Endpoint;

    fn record(
        e: &EndpointTruth,
        status: Status,
        implementation: Option<Implementation>,
        elapsed_ms: u64,
    ) -> EndpointRecord {
        let endpoint = Endpoint {
            host: e.address.clone(),
            port: e.port,
            transport: e.transport,
        };
        let mut r = EndpointRecord::new("run", 0, "local", endpoint, 1_000);
        r.finished_ms = 1_000 + elapsed_ms;
        r.status = status;
        r.inference = implementation.map(|implementation| Inference {
            implementation,
            version: e.version.clone(),
            confidence: 1.0,
            evidence: vec![],
            claimed: None,
            claimed_version: None,
            mismatch: false,
            mismatch_reasons: vec![],
            behavior_description: vec![],
        });
        r
    }

    #[test]
    fn a_perfect_scan_scores_perfectly_and_a_wrong_one_does_not() {
        let config = SimnetConfig {
            servers: 40,
            seed: 4,
            ..SimnetConfig::default()
        };
        let truth = GroundTruth::from_plan(&config, &Plan::generate(&config));
        let perfect: Vec<EndpointRecord> = truth
            .endpoints
            .iter()
            .map(|e| match e.role {
                Role::Honest | Role::Honeypot => record(e, Status::Success, e.implementation, 900),
                Role::Hostile => record(e, Status::ProtocolError, None, 900),
                Role::Blackholed => record(e, Status::ConnectionTimeout, None, 10_000),
            })
            .collect();
        let card = truth.score(&perfect, &[]);
        assert_eq!(card.identified, card.reachable);
        assert!(card.reachable > 0 && card.misses.is_empty());
        assert!(card.hostile_contained(Duration::from_secs(10)));
        assert!(
            !card.hostile_contained(Duration::from_secs(1)),
            "blackholes took 10 s"
        );
        assert!(!card.ranking.separated(), "no analysis, no separation");

        let mut wrong = perfect.clone();
        let first = truth.reachable().next().unwrap();
        let idx = truth.endpoints.iter().position(|e| e == first).unwrap();
        wrong[idx] = record(first, Status::Success, Some(Implementation::Unknown), 900);
        let hostile = truth
            .endpoints
            .iter()
            .position(|e| e.role == Role::Hostile)
            .unwrap();
        wrong[hostile].status = Status::Success;
        let card = truth.score(&wrong, &[]);
        assert_eq!(card.identified + 1, card.reachable);
        assert_eq!(card.misses[0].endpoint, key_of(first));
        assert!(
            !card.hostile_contained(Duration::from_secs(60)),
            "a hostile endpoint succeeded"
        );
        // A success that counted stray replies (the wrong-ids server) is on record.
        wrong[hostile].wire.unmatched_replies = 3;
        let card = truth.score(&wrong, &[]);
        assert!(card
            .hostile
            .iter()
            .any(|o| o.status == Some(Status::Success) && o.recorded_as_hostile()));
        assert!(card.to_string().contains("miss "));
    }
}
