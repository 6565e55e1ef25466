//! Merging scans over time: per-endpoint uptime, latency stability and tip lag.
//!
//! [`merge`] is a pure function over raw [`EndpointRecord`]s, from any number of runs,
//! rounds and machines (vantages), in any order: records are keyed by
//! (vantage, run id, round, endpoint), so feeding the same file twice changes nothing and
//! scans from several machines merge like rounds of one. [`load`] reads the raw files
//! (`DIR/raw/<run-id>/endpoints.jsonl`, or run directories directly) that `observatory scan
//! --history DIR` merges; a truncated or corrupt line is counted, never fatal.
//!
//! Definitions (per endpoint):
//! * an *observation* is one (vantage, run, round) in which the endpoint was attempted;
//!   it is *up* when the status is reachable (`success`, `application-error`);
//! * `uptime` = up observations / observations;
//! * `rtt` summarizes the `server.version` round-trip times of the up observations;
//! * tip lag of an up observation = the best tip height any endpoint reported in the same
//!   (vantage, run, round) minus this endpoint's height.

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::File;
use std::path::{Path, PathBuf};

use observatory_model::probes::TimingSummary;
use observatory_model::raw::EndpointRecord;
use serde::{Deserialize, Serialize};

use crate::output::{read_records, OutputError, ENDPOINTS_FILE};
use crate::probes::stats::summarize;

/// Blocks behind the best tip that still count as "at the tip" (a block can arrive while a
/// round is in progress).
pub const TIP_LAG_TOLERANCE: u64 = 1;

/// One endpoint's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndpointHistory {
    /// Endpoint key `host:port:t|s`.
    pub endpoint: String,
    /// (vantage, run, round) triples in which it was attempted.
    pub observations: u32,
    /// Observations in which it was reachable.
    pub up: u32,
    /// `up / observations`, in [0, 1].
    pub uptime: f64,
    /// Observations by status name.
    pub statuses: BTreeMap<String, u32>,
    /// Earliest attempt start, Unix milliseconds.
    pub first_ms: u64,
    /// Latest attempt start, Unix milliseconds.
    pub last_ms: u64,
    /// Vantages that observed it.
    pub vantages: Vec<String>,
    /// `server.version` RTT over the up observations (latency stability: MAD, CV, p95).
    pub rtt: TimingSummary,
    /// Tip lag (blocks) of each up observation that reported a height, oldest first.
    pub tip_lags: Vec<u64>,
    /// Up observations more than [`TIP_LAG_TOLERANCE`] blocks behind the best tip.
    pub behind: u32,
}

/// Everything [`merge`] produces.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    /// Run ids merged, sorted.
    pub runs: Vec<String>,
    /// Distinct (vantage, run, round) triples.
    pub rounds: u32,
    /// Records ignored as duplicates of an already merged (vantage, run, round, endpoint).
    pub duplicates: u64,
    /// Per-endpoint history, sorted by endpoint key.
    pub endpoints: Vec<EndpointHistory>,
}

type RoundKey<'a> = (&'a str, &'a str, u32);

/// Merges records from any runs, rounds and vantages. Pure: the output depends only on the
/// set of records (order and repeats do not matter).
pub fn merge<'a>(records: impl IntoIterator<Item = &'a EndpointRecord>) -> History {
    // Deduplicate, then sort so that everything below is order-independent.
    let mut unique: BTreeMap<(RoundKey<'a>, String), &'a EndpointRecord> = BTreeMap::new();
    let mut duplicates = 0;
    for r in records {
        let key = (
            (r.vantage.as_str(), r.run_id.as_str(), r.round),
            r.endpoint.key(),
        );
        match unique.entry(key) {
            Entry::Occupied(_) => duplicates += 1,
            Entry::Vacant(slot) => {
                slot.insert(r);
            }
        }
    }
    let mut best_tip: HashMap<RoundKey<'a>, u64> = HashMap::new();
    for ((round, _), r) in &unique {
        if let Some(h) = tip_height(r) {
            let best = best_tip.entry(*round).or_insert(h);
            *best = (*best).max(h);
        }
    }
    let mut by_endpoint: BTreeMap<&str, Vec<(RoundKey<'a>, &'a EndpointRecord)>> = BTreeMap::new();
    for ((round, key), r) in &unique {
        by_endpoint
            .entry(key.as_str())
            .or_default()
            .push((*round, r));
    }
    let endpoints = by_endpoint
        .into_iter()
        .map(|(key, mut obs)| {
            obs.sort_by_key(|(round, r)| (r.started_ms, *round));
            endpoint_history(key, &obs, &best_tip)
        })
        .collect();
    let runs: BTreeSet<&str> = unique.keys().map(|((_, run, _), _)| *run).collect();
    let rounds: BTreeSet<RoundKey<'_>> = unique.keys().map(|(round, _)| *round).collect();
    History {
        runs: runs.into_iter().map(str::to_string).collect(),
        rounds: u32::try_from(rounds.len()).unwrap_or(u32::MAX),
        duplicates,
        endpoints,
    }
}

fn tip_height(r: &EndpointRecord) -> Option<u64> {
    if !r.status.is_reachable() {
        return None;
    }
    r.metadata
        .headers
        .as_ref()?
        .result
        .as_ref()
        .map(|t| t.height)
}

fn endpoint_history(
    key: &str,
    obs: &[(RoundKey<'_>, &EndpointRecord)],
    best_tip: &HashMap<RoundKey<'_>, u64>,
) -> EndpointHistory {
    let mut statuses = BTreeMap::new();
    let mut vantages = BTreeSet::new();
    let (mut up, mut rtts, mut tip_lags, mut behind) = (0u32, Vec::new(), Vec::new(), 0u32);
    for (round, r) in obs {
        *statuses.entry(r.status.as_str().to_string()).or_insert(0) += 1;
        vantages.insert(r.vantage.clone());
        if !r.status.is_reachable() {
            continue;
        }
        up += 1;
        if let Some(v) = &r.metadata.version {
            rtts.push(v.rtt_ms);
        }
        if let (Some(h), Some(best)) = (tip_height(r), best_tip.get(round)) {
            let lag = best.saturating_sub(h);
            behind += u32::from(lag > TIP_LAG_TOLERANCE);
            tip_lags.push(lag);
        }
    }
    let observations = u32::try_from(obs.len()).unwrap_or(u32::MAX);
    EndpointHistory {
        endpoint: key.to_string(),
        observations,
        up,
        uptime: if observations > 0 {
            f64::from(up) / f64::from(observations)
        } else {
            0.0
        },
        statuses,
        first_ms: obs.iter().map(|(_, r)| r.started_ms).min().unwrap_or(0),
        last_ms: obs.iter().map(|(_, r)| r.started_ms).max().unwrap_or(0),
        vantages: vantages.into_iter().collect(),
        rtt: summarize(&rtts),
        tip_lags,
        behind,
    }
}

/// What [`load`] read.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Records from every run found.
    pub records: Vec<EndpointRecord>,
    /// Run directories read.
    pub run_dirs: Vec<PathBuf>,
    /// Lines that could not be parsed (reported, skipped).
    pub bad_lines: u64,
}

/// Run directories under `dir`: `dir` itself when it holds an `endpoints.jsonl`, else its
/// `raw/*/` (a `--out` directory), else its `*/` (a `raw` directory).
fn run_dirs(dir: &Path) -> Result<Vec<PathBuf>, OutputError> {
    if dir.join(ENDPOINTS_FILE).is_file() {
        return Ok(vec![dir.to_path_buf()]);
    }
    let parent = if dir.join("raw").is_dir() {
        dir.join("raw")
    } else {
        dir.to_path_buf()
    };
    let entries = std::fs::read_dir(&parent).map_err(|source| OutputError::Io {
        path: parent.clone(),
        source,
    })?;
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join(ENDPOINTS_FILE).is_file())
        .collect();
    dirs.sort();
    Ok(dirs)
}

/// Reads every run under each of `dirs` (see [`run_dirs`] for the accepted layouts).
pub fn load(dirs: &[PathBuf]) -> Result<Loaded, OutputError> {
    let mut loaded = Loaded::default();
    for dir in dirs {
        for run in run_dirs(dir)? {
            let path = run.join(ENDPOINTS_FILE);
            let mut file = File::open(&path).map_err(|source| OutputError::Io {
                path: path.clone(),
                source,
            })?;
            let (records, bad, _) = read_records(&mut file).map_err(|source| OutputError::Io {
                path: path.clone(),
                source,
            })?;
            if bad > 0 {
                tracing::warn!(file = %path.display(), lines = bad, "unreadable record lines skipped");
            }
            loaded.records.extend(records);
            loaded.bad_lines += bad;
            loaded.run_dirs.push(run);
        }
    }
    Ok(loaded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use observatory_model::raw::{Answer, Endpoint, HeaderTip, ServerVersion, Status, Transport};

    fn rec(
        vantage: &str,
        run: &str,
        round: u32,
        port: u16,
        status: Status,
        height: Option<u64>,
        rtt: f64,
    ) -> EndpointRecord {
        let ep = Endpoint {
            host: "h.example".into(),
            port,
            transport: Transport::Tls,
        };
        let mut r = EndpointRecord::new(
            run,
            round,
            vantage,
            ep,
            1_000 * u64::from(round) + u64::from(port),
        );
        r.status = status;
        if status.is_reachable() {
            let version = ServerVersion {
                software: "X".into(),
                protocol: "1.4".into(),
            };
            r.metadata.version = Some(Answer {
                at_ms: 0,
                rtt_ms: rtt,
                result: Some(version),
                error: None,
            });
            r.metadata.headers = height.map(|height| Answer {
                at_ms: 0,
                rtt_ms: rtt,
                result: Some(HeaderTip {
                    height,
                    hash: None,
                    hex: String::new(),
                }),
                error: None,
            });
        }
        r
    }

    fn sample() -> Vec<EndpointRecord> {
        vec![
            rec("a", "run1", 0, 1, Status::Success, Some(100), 10.0),
            rec("a", "run1", 0, 2, Status::Success, Some(97), 50.0),
            rec("a", "run1", 1, 1, Status::Success, Some(101), 12.0),
            rec("a", "run1", 1, 2, Status::IoTimeout, None, 0.0),
            rec("b", "run2", 0, 1, Status::ConnectionRefused, None, 0.0),
            rec("b", "run2", 0, 2, Status::Success, Some(101), 40.0),
        ]
    }

    #[test]
    fn uptime_rtt_and_tip_lag_per_endpoint() {
        let h = merge(&sample());
        assert_eq!(h.runs, vec!["run1", "run2"]);
        assert_eq!(h.rounds, 3);
        assert_eq!(h.duplicates, 0);
        let [one, two] = h.endpoints.as_slice() else {
            panic!("{h:?}")
        };
        assert_eq!(one.endpoint, "h.example:1:s");
        assert_eq!((one.observations, one.up), (3, 2));
        assert!((one.uptime - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(one.statuses.get("connection-refused"), Some(&1));
        assert_eq!(one.vantages, vec!["a", "b"]);
        assert_eq!(one.rtt.n, 2);
        assert_eq!(one.rtt.median_ms, 11.0);
        assert_eq!(one.tip_lags, vec![0, 0]);
        assert_eq!(one.behind, 0);
        // Three blocks behind in run1/round 0 (best 100), at the tip in run2 (best 101).
        assert_eq!(two.tip_lags, vec![3, 0]);
        assert_eq!(two.behind, 1);
        assert_eq!((two.observations, two.up), (3, 2));
    }

    #[test]
    fn merge_ignores_order_and_repeats() {
        let records = sample();
        let once = merge(&records);
        let mut twice: Vec<EndpointRecord> = records.iter().rev().cloned().collect();
        twice.extend(records.iter().cloned());
        let merged = merge(&twice);
        assert_eq!(merged.duplicates, records.len() as u64);
        assert_eq!(merged.endpoints, once.endpoints);
        assert_eq!(merged.rounds, once.rounds);
        assert_eq!(merge(std::iter::empty()), History::default());
    }

    #[test]
    fn load_reads_out_dirs_and_run_dirs() {
        use crate::output::{RunDir, Sink};
        let tmp = tempfile::tempdir().unwrap();
        for (run, records) in [("run1", &sample()[..4]), ("run2", &sample()[4..])] {
            let mut dir = RunDir::create(tmp.path(), run).unwrap();
            for r in records {
                dir.record(r).unwrap();
            }
        }
        let all = load(&[tmp.path().to_path_buf()]).unwrap();
        assert_eq!(
            (all.records.len(), all.run_dirs.len(), all.bad_lines),
            (6, 2, 0)
        );
        let one = load(&[tmp.path().join("raw/run2")]).unwrap();
        assert_eq!(one.records.len(), 2);
        assert_eq!(merge(&all.records), merge(&sample()));
    }
}
