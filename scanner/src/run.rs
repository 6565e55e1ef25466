//! A whole scan: rounds of endpoints, scheduled politely, crawled if asked, written to a [`Sink`].
//!
//! The scheduler is one loop that owns all bookkeeping (no shared maps): it starts at most
//! `concurrency` endpoint tasks, never two for the same host at once (a job whose host is
//! busy waits in that host's queue), and receives each finished record as it completes,
//! hands it to the sink immediately, and, with `--crawl`, queues the endpoints it
//! advertises (up to `max_depth` and `max_servers`). A panicking endpoint task becomes an
//! `unknown-error` record; nothing one server does can stop or stall the others.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use observatory_model::raw::{
    Endpoint, EndpointRecord, Provenance, RunManifest, Status, RAW_SCHEMA_VERSION,
};
use observatory_protocol::frame::Limits;
use thiserror::Error;
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::discovery::leads;
use crate::endpoint::{scan_endpoint, EndpointEnv, Job};
use crate::exclude::ExcludeList;
use crate::limits::{
    DEFAULT_CONCURRENCY, DEFAULT_CONNECT_TIMEOUT, DEFAULT_ENDPOINT_TIMEOUT, DEFAULT_MAX_DEPTH,
    DEFAULT_MAX_SERVERS, DEFAULT_REQUEST_TIMEOUT, MIN_PROBED_ROUND_INTERVAL, NOFILE_TARGET,
};
use crate::locks::KeyedLocks;
use crate::output::{count_by_status, Sink};
use crate::policy::{classify, Policy};
use crate::probes::ProbeLevel;
use crate::session::now_ms;

/// Everything a scan needs to know.
#[derive(Debug, Clone)]
pub struct ScanConfig {
    /// Endpoints to start from, with their provenances.
    pub targets: Vec<(Endpoint, Vec<Provenance>)>,
    /// Endpoints scanned at once.
    pub concurrency: usize,
    /// Whole-endpoint deadline.
    pub endpoint_timeout: Duration,
    /// Connect deadline.
    pub connect_timeout: Duration,
    /// Reply deadline.
    pub request_timeout: Duration,
    /// Permit private, loopback and other special addresses.
    pub allow_private: bool,
    /// Permit 127.0.0.0/8 and `::1` only (tests, the simulated network).
    pub allow_loopback: bool,
    /// Permit exactly these addresses whatever their range (tests' loopback servers).
    pub allow_ips: Vec<IpAddr>,
    /// Hosts and networks never scanned (the embedded opt-out list plus `--exclude` files).
    pub exclude: ExcludeList,
    /// SOCKS5 proxy for onions.
    pub socks5: Option<SocketAddr>,
    /// Send every endpoint through the SOCKS5 proxy.
    pub socks_all: bool,
    /// Run behavioral probes.
    pub probes: bool,
    /// Which probe cases run. [`ProbeLevel::Full`] is refused unless [`lab_only`] holds.
    pub probe_level: ProbeLevel,
    /// Follow peers and `features.hosts`.
    pub crawl: bool,
    /// Deepest crawl level (targets are 0).
    pub max_depth: u32,
    /// Most endpoints per round.
    pub max_servers: usize,
    /// Rounds (each scans every known endpoint once).
    pub rounds: u32,
    /// Time from the start of one round to the start of the next.
    pub interval: Duration,
    /// Vantage label.
    pub vantage: String,
    /// Run id.
    pub run_id: String,
    /// Command line, for the manifest.
    pub args: Vec<String>,
    /// Software version, for the manifest.
    pub software_version: String,
    /// Framing limits.
    pub limits: Limits,
    /// Records already on disk (`--resume`): their (round, endpoint) pairs are not scanned again.
    pub previous: Vec<EndpointRecord>,
    /// Start time of the run (kept from the manifest on resume).
    pub started_ms: Option<u64>,
}

impl ScanConfig {
    /// A configuration with the defaults from [`crate::limits`].
    pub fn new(targets: Vec<(Endpoint, Vec<Provenance>)>, run_id: String) -> Self {
        ScanConfig {
            targets,
            concurrency: DEFAULT_CONCURRENCY,
            endpoint_timeout: DEFAULT_ENDPOINT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            allow_private: false,
            allow_loopback: false,
            allow_ips: Vec::new(),
            exclude: ExcludeList::embedded(),
            socks5: None,
            socks_all: false,
            probes: true,
            probe_level: ProbeLevel::Standard,
            crawl: false,
            max_depth: DEFAULT_MAX_DEPTH,
            max_servers: DEFAULT_MAX_SERVERS,
            rounds: 1,
            interval: Duration::ZERO,
            vantage: "local".to_string(),
            run_id,
            args: Vec::new(),
            software_version: env!("CARGO_PKG_VERSION").to_string(),
            limits: Limits::default(),
            previous: Vec::new(),
            started_ms: None,
        }
    }
}

/// A scan could not run or could not record its results.
#[derive(Debug, Error)]
pub enum ScanError {
    /// The sink failed (disk full, directory gone): continuing would lose data silently.
    #[error("writing results: {0}")]
    Sink(#[from] io::Error),
    /// `ProbeLevel::Full` was asked for a scan that may reach servers that are not the operator's.
    #[error("the full probe level is only for your own servers: {0}")]
    FullProbesNeedLab(#[from] NotLab),
}

/// Why a scan may reach a server that is not the operator's own (see [`lab_only`]).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NotLab {
    /// `--crawl` may lead anywhere, public servers included.
    #[error("--crawl may reach servers other than the targets")]
    Crawl,
    /// Nothing to judge.
    #[error("no targets")]
    NoTargets,
    /// A host name (or onion) could resolve to anyone's server.
    #[error("target {0} is a host name, not an address")]
    HostName(String),
    /// A public address: a stranger's server.
    #[error("target {0} is a public address")]
    Public(String),
    /// A non-public address no allowance admits (the scan would refuse it anyway).
    #[error("target {0} is not allowed by --allow-loopback, --allow-ip or --allow-private")]
    NotAllowed(String),
}

/// Ok when every endpoint the scan can reach is a non-public address that one of the
/// operator's explicit allowances admits ([`Policy::operator_lab`]): a lab, the operator's own
/// servers. Only then may the full malformed set run (it costs more than ElectrumX's soft limit
/// and is not for strangers' servers), and only then are probed rounds not spaced for
/// ElectrumX's cost decay (it does not cost-account non-public clients).
pub fn lab_only(config: &ScanConfig) -> Result<(), NotLab> {
    if config.crawl {
        return Err(NotLab::Crawl);
    }
    if config.targets.is_empty() {
        return Err(NotLab::NoTargets);
    }
    let policy = policy_of(config);
    for (ep, _) in &config.targets {
        let Ok(ip) = ep
            .host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
        else {
            return Err(NotLab::HostName(ep.host.clone()));
        };
        if !policy.operator_lab(ip) {
            return Err(if classify(ip).is_none() {
                NotLab::Public(ep.host.clone())
            } else {
                NotLab::NotAllowed(ep.host.clone())
            });
        }
    }
    Ok(())
}

/// The address policy of a configuration.
fn policy_of(config: &ScanConfig) -> Policy {
    Policy {
        allow_private: config.allow_private,
        allow_loopback: config.allow_loopback,
        allow_ips: config.allow_ips.clone(),
    }
}

/// Raises the open-file limit toward [`NOFILE_TARGET`] (thousands of endpoints at once on simnet).
fn raise_nofile_limit() {
    match rlimit::increase_nofile_limit(NOFILE_TARGET) {
        Ok(n) => tracing::debug!(limit = n, "open-file limit"),
        Err(e) => tracing::warn!(error = %e, "could not raise the open-file limit"),
    }
}

/// Crawl depth an earlier record was found at (for resumed crawls).
fn depth_of(record: &EndpointRecord) -> u32 {
    record
        .provenance
        .iter()
        .map(|p| match p {
            Provenance::Peer { depth, .. } | Provenance::FeaturesHosts { depth, .. } => *depth,
            _ => 0,
        })
        .min()
        .unwrap_or(0)
}

/// Endpoints known to the run, with provenance and crawl depth.
struct Known {
    map: BTreeMap<Endpoint, (Vec<Provenance>, u32)>,
    max: usize,
}

impl Known {
    /// Adds an endpoint; returns true when it is new and within the cap.
    fn add(&mut self, ep: Endpoint, prov: Provenance, depth: u32) -> bool {
        if let Some((provs, _)) = self.map.get_mut(&ep) {
            if !provs.contains(&prov) {
                provs.push(prov);
            }
            return false;
        }
        if self.map.len() >= self.max {
            return false;
        }
        self.map.insert(ep, (vec![prov], depth));
        true
    }
}

/// Runs the scan and writes every record to `sink` as it finishes. Returns the final manifest.
pub async fn scan<S: Sink>(config: ScanConfig, sink: &mut S) -> Result<RunManifest, ScanError> {
    if config.probes && config.probe_level == ProbeLevel::Full {
        lab_only(&config)?;
    }
    raise_nofile_limit();
    let env = Arc::new(EndpointEnv {
        run_id: config.run_id.clone(),
        vantage: config.vantage.clone(),
        policy: policy_of(&config),
        exclude: config.exclude.clone(),
        socks5: config.socks5,
        socks_all: config.socks_all,
        connect_timeout: config.connect_timeout,
        request_timeout: config.request_timeout,
        endpoint_timeout: config.endpoint_timeout,
        limits: config.limits,
        probes: config.probes,
        probe_level: config.probe_level,
        ip_locks: KeyedLocks::default(),
    });
    let mut known = Known {
        map: BTreeMap::new(),
        max: config.max_servers.max(config.targets.len()),
    };
    for (ep, provs) in &config.targets {
        for p in provs {
            known.add(ep.clone(), p.clone(), 0);
        }
    }
    let mut counts = count_by_status(&config.previous);
    let mut manifest = RunManifest {
        schema_version: RAW_SCHEMA_VERSION,
        run_id: config.run_id.clone(),
        software_version: config.software_version.clone(),
        args: config.args.clone(),
        vantage: config.vantage.clone(),
        started_ms: config.started_ms.unwrap_or_else(now_ms),
        finished_ms: None,
        rounds: config.rounds,
        endpoints: known.map.len() as u64,
        counts_by_status: counts.clone(),
        complete: false,
    };
    sink.begin(&manifest)?;
    sink.planned(known.map.len() as u64 * u64::from(config.rounds.max(1)));
    for round in 0..config.rounds.max(1) {
        let round_start = Instant::now();
        run_round(round, &config, &env, &mut known, &mut counts, sink).await?;
        if round + 1 < config.rounds {
            tokio::time::sleep_until(round_start + round_interval(&config)).await;
        }
    }
    manifest.finished_ms = Some(now_ms());
    manifest.endpoints = known.map.len() as u64;
    manifest.counts_by_status = counts;
    manifest.complete = true;
    sink.end(&manifest)?;
    Ok(manifest)
}

async fn run_round<S: Sink>(
    round: u32,
    config: &ScanConfig,
    env: &Arc<EndpointEnv>,
    known: &mut Known,
    counts: &mut BTreeMap<String, u64>,
    sink: &mut S,
) -> Result<(), ScanError> {
    let previous: Vec<&EndpointRecord> = config
        .previous
        .iter()
        .filter(|r| r.round == round)
        .collect();
    let done: HashSet<&Endpoint> = previous.iter().map(|r| &r.endpoint).collect();
    if config.crawl {
        // A resumed crawl still follows what the endpoints finished before the kill advertised.
        for r in &previous {
            let depth = depth_of(r);
            if depth < config.max_depth {
                for (ep, prov) in leads(r, depth + 1) {
                    known.add(ep, prov, depth + 1);
                }
            }
        }
    }
    let mut queue: VecDeque<Job> = known
        .map
        .iter()
        .filter(|(ep, _)| !done.contains(ep))
        .map(|(ep, (provenance, depth))| Job {
            endpoint: ep.clone(),
            provenance: provenance.clone(),
            round,
            depth: *depth,
        })
        .collect();
    let mut busy_hosts: HashSet<String> = HashSet::new();
    let mut waiting: HashMap<String, VecDeque<Job>> = HashMap::new();
    let mut running: HashMap<tokio::task::Id, Job> = HashMap::new();
    let mut tasks: JoinSet<EndpointRecord> = JoinSet::new();
    let concurrency = config.concurrency.max(1);
    loop {
        while tasks.len() < concurrency {
            let Some(mut job) = queue.pop_front() else {
                break;
            };
            // Sources found after the job was queued (the same peer in peers and features.hosts).
            if let Some((provenance, _)) = known.map.get(&job.endpoint) {
                job.provenance.clone_from(provenance);
            }
            if busy_hosts.contains(&job.endpoint.host) {
                waiting
                    .entry(job.endpoint.host.clone())
                    .or_default()
                    .push_back(job);
                continue;
            }
            busy_hosts.insert(job.endpoint.host.clone());
            let handle = tasks.spawn(scan_endpoint(job.clone(), env.clone()));
            running.insert(handle.id(), job);
        }
        let Some(joined) = tasks.join_next_with_id().await else {
            break;
        };
        let (id, record) = match joined {
            Ok((id, record)) => (id, Some(record)),
            Err(e) => (e.id(), None),
        };
        let Some(job) = running.remove(&id) else {
            continue;
        };
        let record = record.unwrap_or_else(|| {
            let mut r = EndpointRecord::new(
                &env.run_id,
                round,
                &env.vantage,
                job.endpoint.clone(),
                now_ms(),
            );
            r.provenance = job.provenance.clone();
            r.status = Status::UnknownError;
            r.error = Some("scanner task failed".to_string());
            r
        });
        busy_hosts.remove(&job.endpoint.host);
        if let Some(next) = waiting
            .get_mut(&job.endpoint.host)
            .and_then(VecDeque::pop_front)
        {
            queue.push_front(next);
        }
        if config.crawl && job.depth < config.max_depth {
            for (ep, prov) in leads(&record, job.depth + 1) {
                if known.add(ep.clone(), prov.clone(), job.depth + 1) {
                    queue.push_back(Job {
                        endpoint: ep,
                        provenance: vec![prov],
                        round,
                        depth: job.depth + 1,
                    });
                    sink.planned(1);
                }
            }
        }
        *counts
            .entry(record.status.as_str().to_string())
            .or_insert(0) += 1;
        tracing::debug!(endpoint = %record.endpoint.key(), status = record.status.as_str(), "endpoint done");
        sink.record(&record)?;
    }
    Ok(())
}
/// The time between round starts actually used: `--interval`, raised to
/// [`MIN_PROBED_ROUND_INTERVAL`] when probed rounds may reach servers that are not the
/// operator's own. A target set of operator-allowed non-public addresses ([`lab_only`]:
/// `--allow-loopback`, `--allow-ip` or `--allow-private`, no crawl), which ElectrumX does not
/// cost-account, keeps what was asked.
pub fn round_interval(config: &ScanConfig) -> Duration {
    if config.probes
        && config.rounds > 1
        && config.interval < MIN_PROBED_ROUND_INTERVAL
        && lab_only(config).is_err()
    {
        MIN_PROBED_ROUND_INTERVAL
    } else {
        config.interval
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use observatory_model::raw::Transport;

    fn targets(hosts: &[&str]) -> Vec<(Endpoint, Vec<Provenance>)> {
        hosts
            .iter()
            .map(|h| {
                (
                    Endpoint {
                        host: (*h).into(),
                        port: 50001,
                        transport: Transport::Tcp,
                    },
                    vec![Provenance::CommandLine],
                )
            })
            .collect()
    }

    fn config(rounds: u32, interval: Duration) -> ScanConfig {
        let mut c = ScanConfig::new(targets(&["electrum.example.org"]), "test".into());
        c.rounds = rounds;
        c.interval = interval;
        c
    }

    fn lab(hosts: &[&str], f: impl FnOnce(&mut ScanConfig)) -> ScanConfig {
        let mut c = config(3, Duration::from_secs(1));
        c.targets = targets(hosts);
        f(&mut c);
        c
    }

    #[test]
    fn probed_public_rounds_are_spaced_for_electrumx_cost_decay() {
        assert_eq!(
            round_interval(&config(3, Duration::from_secs(10))),
            MIN_PROBED_ROUND_INTERVAL
        );
        assert_eq!(
            round_interval(&config(3, Duration::from_secs(900))),
            Duration::from_secs(900)
        );
        let mut metadata_only = config(3, Duration::from_secs(10));
        metadata_only.probes = false;
        assert_eq!(round_interval(&metadata_only), Duration::from_secs(10));
        let loopback = lab(&["127.0.0.1"], |c| c.allow_loopback = true);
        assert_eq!(round_interval(&loopback), Duration::from_secs(1));
    }

    #[test]
    fn every_operator_allowance_counts_as_a_lab_for_round_spacing() {
        let one_second = Duration::from_secs(1);
        // Regression: a scan allowed only by --allow-ip was treated as public (300 s waits).
        let allow_ip = lab(&["127.0.3.1"], |c| {
            c.allow_ips = vec!["127.0.3.1".parse().unwrap()]
        });
        assert_eq!(round_interval(&allow_ip), one_second);
        let private = lab(&["10.1.2.3"], |c| c.allow_private = true);
        assert_eq!(round_interval(&private), one_second);
        // An allowance does not make strangers' servers a lab: public targets, host names and
        // crawls keep the spacing, and so does a target no allowance admits.
        let public = lab(&["127.0.0.1", "8.8.8.8"], |c| c.allow_loopback = true);
        assert_eq!(round_interval(&public), MIN_PROBED_ROUND_INTERVAL);
        let named = lab(&["electrum.example.org"], |c| c.allow_private = true);
        assert_eq!(round_interval(&named), MIN_PROBED_ROUND_INTERVAL);
        let crawl = lab(&["127.0.0.1"], |c| {
            c.allow_loopback = true;
            c.crawl = true;
        });
        assert_eq!(round_interval(&crawl), MIN_PROBED_ROUND_INTERVAL);
        let other = lab(&["127.0.3.2"], |c| {
            c.allow_ips = vec!["127.0.3.1".parse().unwrap()]
        });
        assert_eq!(round_interval(&other), MIN_PROBED_ROUND_INTERVAL);
    }

    #[test]
    fn lab_only_says_why_not() {
        assert_eq!(
            lab_only(&lab(&["[::1]", "127.0.0.2"], |c| c.allow_loopback = true)),
            Ok(())
        );
        assert_eq!(
            lab_only(&lab(&["1.1.1.1"], |c| c.allow_loopback = true)),
            Err(NotLab::Public("1.1.1.1".into()))
        );
        assert_eq!(
            lab_only(&lab(&["192.0.2.1"], |c| c.allow_loopback = true)),
            Err(NotLab::NotAllowed("192.0.2.1".into()))
        );
        assert_eq!(
            lab_only(&lab(&["x.onion"], |c| c.allow_private = true)),
            Err(NotLab::HostName("x.onion".into()))
        );
        assert_eq!(
            lab_only(&lab(&[], |c| c.allow_private = true)),
            Err(NotLab::NoTargets)
        );
    }

    #[tokio::test]
    async fn the_full_probe_level_is_refused_before_anything_is_sent() {
        // A documentation address nothing allows: refused before any socket exists.
        let mut c = lab(&["192.0.2.1"], |c| c.allow_loopback = true);
        c.probe_level = ProbeLevel::Full;
        let mut sink = crate::MemorySink::default();
        let err = scan(c, &mut sink)
            .await
            .expect_err("full level on a stranger's server");
        assert!(
            matches!(err, ScanError::FullProbesNeedLab(NotLab::NotAllowed(_))),
            "{err}"
        );
        assert!(sink.records.is_empty());
    }
}
