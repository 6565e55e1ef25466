//! `observatory bench`: benchmarks that print figures (never pass/fail on time).
//!
//! `observatory bench scan` measures the scanner against a simulated network:
//!
//! 1. starts `observatory simnet` as a child process sized to `--endpoints` endpoints (so
//!    the peak RSS measured here is the scanner's alone), with `--blackholed-share` of the
//!    addresses blackholed and honest latency drawn from `--latency-min-ms..--latency-max-ms`;
//! 2. scans every endpoint at `--concurrency` into a run directory, exactly as
//!    `observatory scan` does, and records wall time and peak RSS;
//! 3. compares the wall time with the floor the measured endpoint times allow (the busiest
//!    host's endpoints run one after another; no more than `concurrency` endpoints at once);
//! 4. scans a spread-out subset of `--sequential` endpoints one at a time and scales the
//!    time up to the whole network;
//! 5. analyzes the full run and scores it against the simnet's ground truth.
//!
//! Figures go to stdout as Markdown, ready for `docs/performance.md`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use observatory_analysis::assemble::{analyze, Options};
use observatory_analysis::enrich::Enricher;
use observatory_analysis::load::load_dir;
use observatory_model::raw::{Endpoint, EndpointRecord, Provenance, Status};
use observatory_scanner::limits::{
    DEFAULT_CONCURRENCY, DEFAULT_CONNECT_TIMEOUT, DEFAULT_ENDPOINT_TIMEOUT,
};
use observatory_scanner::output::{new_run_id, RunDir};
use observatory_scanner::{scan, ScanConfig};
use observatory_simnet::{GroundTruth, Plan, Role, SimnetConfig, GROUND_TRUTH_FILE, MAX_SERVERS};

/// How long the simnet child may take to bind its sockets and write its ground truth.
const SIMNET_READY: Duration = Duration::from_secs(300);
/// How often to look for the ground truth while waiting.
const READY_POLL: Duration = Duration::from_millis(200);
/// The simnet child stops by itself after this long, whatever happens to this process.
const SIMNET_MAX_LIFETIME: &str = "3h";

/// Arguments of `observatory bench`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    bench: Bench,
}

#[derive(Debug, clap::Subcommand)]
enum Bench {
    /// Scan a simulated network: wall time vs floor and vs a sequential subset, peak RSS, accuracy.
    Scan(ScanBench),
}

/// Arguments of `observatory bench scan`.
#[derive(Debug, clap::Args)]
struct ScanBench {
    /// Endpoints in the simulated network (servers are added until there are at least this many).
    #[arg(long, default_value_t = 2_000)]
    endpoints: usize,
    /// Share of blackholed addresses.
    #[arg(long, default_value_t = 0.30)]
    blackholed_share: f64,
    /// Lowest honest reply latency, milliseconds.
    #[arg(long, default_value_t = 20)]
    latency_min_ms: u32,
    /// Highest honest reply latency, milliseconds.
    #[arg(long, default_value_t = 300)]
    latency_max_ms: u32,
    /// Simnet seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// First address block of the simnet (its own, away from a running `observatory simnet`).
    #[arg(long, default_value = "127.90.0.0")]
    base: std::net::Ipv4Addr,
    /// Endpoints scanned at once in the full run.
    #[arg(long, default_value_t = DEFAULT_CONCURRENCY)]
    concurrency: usize,
    /// Size of the subset scanned one endpoint at a time (0: skip).
    #[arg(long, default_value_t = 100)]
    sequential: usize,
    /// Size of the planted giant-JSON reply, bytes (over the scanner's line limit is enough).
    #[arg(long, default_value_t = 8 * 1024 * 1024)]
    giant_json_bytes: u64,
    /// Working directory: OUT/<run-id>/{simnet,full,sequential}.
    #[arg(long, default_value = "target/bench-scan")]
    out: PathBuf,
}

/// Runs the subcommand.
pub fn run(args: Args) -> anyhow::Result<()> {
    match args.bench {
        Bench::Scan(b) => bench_scan(&b),
    }
}

/// The simnet child; killed (by its own handle) when dropped.
struct SimnetChild(Child);

impl Drop for SimnetChild {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl ScanBench {
    fn simnet_config(&self, servers: usize) -> SimnetConfig {
        SimnetConfig {
            servers,
            seed: self.seed,
            base: self.base,
            blackholed_share: self.blackholed_share,
            latency_ms: (self.latency_min_ms, self.latency_max_ms),
            giant_json_bytes: self.giant_json_bytes,
            ..SimnetConfig::default()
        }
    }

    /// Fewest servers whose network has at least `self.endpoints` endpoints (servers have
    /// one or two endpoints, so the count grows with the servers; binary search).
    fn servers_for_endpoints(&self) -> anyhow::Result<usize> {
        let endpoints = |servers: usize| {
            let c = self.simnet_config(servers);
            GroundTruth::from_plan(&c, &Plan::generate(&c))
                .endpoints
                .len()
        };
        // Every server has at least one endpoint, so there are never more servers than endpoints.
        let (mut lo, mut hi) = (1, self.endpoints.clamp(1, MAX_SERVERS));
        if endpoints(hi) < self.endpoints {
            bail!(
                "{} endpoints need more than {MAX_SERVERS} servers",
                self.endpoints
            );
        }
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if endpoints(mid) >= self.endpoints {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        Ok(lo)
    }

    /// Starts `observatory simnet` and waits for its ground truth.
    fn start_simnet(
        &self,
        servers: usize,
        dir: &Path,
    ) -> anyhow::Result<(SimnetChild, GroundTruth)> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let log =
            std::fs::File::create(dir.join("simnet.log")).context("creating the simnet log")?;
        let exe = std::env::current_exe().context("locating the observatory binary")?;
        let child = Command::new(exe)
            .arg("simnet")
            .args([
                "--servers",
                &servers.to_string(),
                "--seed",
                &self.seed.to_string(),
                "--base",
                &self.base.to_string(),
            ])
            .args(["--blackholed-share", &self.blackholed_share.to_string()])
            .args([
                "--latency-min-ms",
                &self.latency_min_ms.to_string(),
                "--latency-max-ms",
                &self.latency_max_ms.to_string(),
            ])
            .args([
                "--giant-json-bytes",
                &self.giant_json_bytes.to_string(),
                "--duration",
                SIMNET_MAX_LIFETIME,
            ])
            .arg("--out")
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .context("starting observatory simnet")?;
        let mut child = SimnetChild(child);
        let path = dir.join(GROUND_TRUTH_FILE);
        let started = Instant::now();
        while !path.exists() {
            if let Some(status) = child.0.try_wait()? {
                bail!(
                    "observatory simnet exited ({status}); see {}",
                    dir.join("simnet.log").display()
                );
            }
            if started.elapsed() > SIMNET_READY {
                bail!(
                    "observatory simnet not ready after {}s",
                    SIMNET_READY.as_secs()
                );
            }
            std::thread::sleep(READY_POLL);
        }
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let truth: GroundTruth = serde_json::from_str(&text).context("parsing the ground truth")?;
        if truth.config != self.simnet_config(servers) {
            bail!("the simnet child runs another configuration than the one planned");
        }
        Ok((child, truth))
    }
}

/// Every endpoint of the truth as a scan target.
fn targets(truth: &GroundTruth) -> Vec<(Endpoint, Vec<Provenance>)> {
    truth
        .endpoints
        .iter()
        .map(|e| {
            (
                Endpoint {
                    host: e.address.clone(),
                    port: e.port,
                    transport: e.transport,
                },
                vec![Provenance::CommandLine],
            )
        })
        .collect()
}

/// `n` targets spread evenly over the list (every k-th), so each role is represented in proportion.
fn spread<T: Clone>(all: &[T], n: usize) -> Vec<T> {
    if n == 0 || all.is_empty() {
        return Vec::new();
    }
    let n = n.min(all.len());
    (0..n)
        .filter_map(|i| all.get(i * all.len() / n).cloned())
        .collect()
}

/// Scans into `data_dir/raw/<run-id>/` and returns the wall time.
fn timed_scan(
    runtime: &tokio::runtime::Runtime,
    targets: Vec<(Endpoint, Vec<Provenance>)>,
    concurrency: usize,
    data_dir: &Path,
) -> anyhow::Result<Duration> {
    let run_id = new_run_id();
    let mut sink = RunDir::create(data_dir, &run_id)?;
    let mut config = ScanConfig::new(targets, run_id);
    config.allow_loopback = true;
    config.concurrency = concurrency;
    config.args = std::env::args().skip(1).collect();
    let started = Instant::now();
    runtime.block_on(scan(config, &mut sink))?;
    Ok(started.elapsed())
}

/// Peak resident set size of a process, from `/proc/<pid>/status` (`VmHWM`), bytes.
fn peak_rss(pid: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn mib(bytes: Option<u64>) -> String {
    bytes.map_or("n/a".into(), |b| {
        format!("{:.1} MiB", b as f64 / (1024.0 * 1024.0))
    })
}

/// An HSS for display (a sum of no points prints as 0, not -0).
fn score(s: f64) -> String {
    format!("{}", s + 0.0)
}

fn duration_ms(r: &EndpointRecord) -> u64 {
    r.finished_ms.saturating_sub(r.started_ms)
}

/// Lower bounds on the wall time the measured endpoint times allow, ms: the busiest host's
/// endpoints in sequence (the scheduler never runs two on one host), and all endpoint time
/// spread perfectly over `concurrency` slots.
fn floors(records: &[EndpointRecord], concurrency: usize) -> (u64, u64) {
    let mut per_host: BTreeMap<&str, u64> = BTreeMap::new();
    for r in records {
        *per_host.entry(r.endpoint.host.as_str()).or_default() += duration_ms(r);
    }
    let host_path = per_host.values().copied().max().unwrap_or(0);
    let total: u64 = records.iter().map(duration_ms).sum();
    (host_path, total / concurrency.max(1) as u64)
}

fn bench_scan(b: &ScanBench) -> anyhow::Result<()> {
    let servers = b.servers_for_endpoints()?;
    let dir = b.out.join(new_run_id());
    eprintln!(
        "bench: {servers} servers for >= {} endpoints; working in {}",
        b.endpoints,
        dir.display()
    );
    let (child, truth) = b.start_simnet(servers, &dir.join("simnet"))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let all = targets(&truth);

    eprintln!(
        "bench: full scan of {} endpoints at concurrency {}",
        all.len(),
        b.concurrency
    );
    let full_dir = dir.join("full");
    let wall = timed_scan(&runtime, all.clone(), b.concurrency, &full_dir)?;
    let rss = peak_rss("self");
    let simnet_rss = peak_rss(&child.0.id().to_string());

    let sequential = if b.sequential > 0 {
        let subset = spread(&all, b.sequential);
        eprintln!("bench: sequential scan of {} endpoints", subset.len());
        let n = subset.len();
        Some((n, timed_scan(&runtime, subset, 1, &dir.join("sequential"))?))
    } else {
        None
    };
    drop(child);

    let data = load_dir(&full_dir)?;
    let records: Vec<EndpointRecord> = data.records().cloned().collect();
    let (host_floor, capacity_floor) = floors(&records, b.concurrency);
    let floor_ms = host_floor.max(capacity_floor);
    let analyzed_at = Instant::now();
    let analysis = analyze(
        &data,
        &Enricher::default(),
        &Options {
            generated_at: "bench".into(),
            ..Options::default()
        },
    );
    let analysis_ms = analyzed_at.elapsed().as_secs_f64() * 1000.0;
    let card = truth.score(&records, &analysis.snapshot.servers);

    let count = |r: Role| truth.endpoints.iter().filter(|e| e.role == r).count();
    let by_status = |s: Status| records.iter().filter(|r| r.status == s).count();
    let secs = |ms: u64| ms as f64 / 1000.0;
    println!("## Scan of {} simnet endpoints\n", all.len());
    println!(
        "Network: {servers} servers, {} endpoints ({} honest, {} honeypot, {} hostile, {} blackholed), honest latency {}–{} ms, seed {}.",
        truth.endpoints.len(),
        count(Role::Honest),
        count(Role::Honeypot),
        count(Role::Hostile),
        count(Role::Blackholed),
        b.latency_min_ms,
        b.latency_max_ms,
        b.seed
    );
    println!(
        "Scanner: concurrency {}, endpoint deadline {} s, connect timeout {} s, probes on.\n",
        b.concurrency,
        DEFAULT_ENDPOINT_TIMEOUT.as_secs(),
        DEFAULT_CONNECT_TIMEOUT.as_secs()
    );
    println!("| figure | value |\n|---|---|");
    println!("| wall time, full scan | {:.1} s |", wall.as_secs_f64());
    println!(
        "| floor: busiest host's endpoints in sequence | {:.1} s |",
        secs(host_floor)
    );
    println!(
        "| floor: total endpoint time / concurrency | {:.1} s |",
        secs(capacity_floor)
    );
    println!(
        "| wall time / floor | {:.2} |",
        wall.as_secs_f64() / secs(floor_ms).max(f64::EPSILON)
    );
    println!(
        "| sum of endpoint times (sequential estimate from the full run) | {:.1} s |",
        secs(records.iter().map(duration_ms).sum())
    );
    if let Some((n, t)) = sequential {
        let scaled = t.as_secs_f64() * all.len() as f64 / n.max(1) as f64;
        println!(
            "| sequential scan of {n} endpoints | {:.1} s |",
            t.as_secs_f64()
        );
        println!("| …scaled to {} endpoints | {:.1} s |", all.len(), scaled);
        println!(
            "| speed-up of the full scan over sequential | {:.1}x |",
            scaled / wall.as_secs_f64().max(f64::EPSILON)
        );
    }
    println!("| peak RSS, scanner process | {} |", mib(rss));
    println!("| peak RSS, simnet process | {} |", mib(simnet_rss));
    println!(
        "| success / connection-timeout / other | {} / {} / {} |",
        by_status(Status::Success),
        by_status(Status::ConnectionTimeout),
        records.len() - by_status(Status::Success) - by_status(Status::ConnectionTimeout)
    );
    println!(
        "| implementation identified (reachable endpoints) | {}/{} ({:.1}%) |",
        card.identified,
        card.reachable,
        100.0 * card.identified_share()
    );
    println!(
        "| lowest honeypot HSS / highest honest HSS | {} / {} |",
        card.ranking.min_honeypot().map_or("n/a".into(), score),
        card.ranking
            .max_honest
            .as_ref()
            .map_or("n/a".into(), |r| score(r.score))
    );
    println!(
        "| hostile and blackholed endpoints not contained within the deadline | {} |",
        card.uncontained(DEFAULT_ENDPOINT_TIMEOUT).len()
    );
    println!("| analysis of the run (in process, no GeoIP) | {analysis_ms:.0} ms |");
    println!("\nRecords: {}", full_dir.display());
    eprintln!("{card}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_takes_evenly_and_never_more_than_there_is() {
        let all: Vec<u32> = (0..10).collect();
        assert_eq!(spread(&all, 5), vec![0, 2, 4, 6, 8]);
        assert_eq!(spread(&all, 20).len(), 10);
        assert!(spread(&all, 0).is_empty());
    }

    #[test]
    fn servers_are_sized_to_the_endpoint_count() {
        let b = ScanBench {
            endpoints: 200,
            blackholed_share: 0.3,
            latency_min_ms: 20,
            latency_max_ms: 300,
            seed: 1,
            base: std::net::Ipv4Addr::new(127, 90, 0, 0),
            concurrency: 64,
            sequential: 0,
            giant_json_bytes: 1,
            out: PathBuf::new(),
        };
        let n = b.servers_for_endpoints().unwrap();
        let count = |s: usize| {
            let c = b.simnet_config(s);
            GroundTruth::from_plan(&c, &Plan::generate(&c))
                .endpoints
                .len()
        };
        assert!(count(n) >= 200 && count(n - 1) < 200);
    }
}
