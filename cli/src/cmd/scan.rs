//! `observatory scan`: parse arguments, build a [`ScanConfig`], run [`scan`] into a run
//! directory with a progress bar on a terminal. All scanning logic is in the library.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressStyle};
use observatory_model::raw::{EndpointRecord, RunManifest};
use observatory_scanner::limits::{DEFAULT_CONCURRENCY, DEFAULT_MAX_DEPTH, DEFAULT_MAX_SERVERS};
use observatory_scanner::output::{new_run_id, RunDir, Sink};
use observatory_scanner::targets::TargetSet;
use observatory_scanner::{scan, ScanConfig};

/// Arguments of `observatory scan`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Output directory; the run goes to DIR/raw/<run-id>/.
    #[arg(long, default_value = "data")]
    out: PathBuf,
    /// Scan this endpoint (`host:port:t` for TCP, `host:port:s` for TLS; IPv6 as `[::1]:50001:t`). Repeatable.
    #[arg(long = "target", value_name = "HOST:PORT:t|s")]
    targets: Vec<String>,
    /// Scan the servers in this Electrum servers.json file.
    #[arg(long, value_name = "FILE")]
    servers: Option<PathBuf>,
    /// Also scan the embedded seed lists (the default when no --target/--servers is given).
    #[arg(long)]
    seeds: bool,
    /// Follow server.peers.subscribe and server.features hosts.
    #[arg(long)]
    crawl: bool,
    /// Deepest crawl level (targets are level 0).
    #[arg(long, default_value_t = DEFAULT_MAX_DEPTH)]
    max_depth: u32,
    /// Most endpoints per round, targets included.
    #[arg(long, default_value_t = DEFAULT_MAX_SERVERS)]
    max_servers: usize,
    /// Endpoints scanned at once.
    #[arg(long, default_value_t = DEFAULT_CONCURRENCY)]
    concurrency: usize,
    /// Wall-clock budget per endpoint, e.g. 45s, 2m [default: limits::DEFAULT_ENDPOINT_TIMEOUT, 45s].
    #[arg(long, value_parser = parse_duration)]
    endpoint_timeout: Option<Duration>,
    /// TCP/SOCKS connect deadline [default: limits::DEFAULT_CONNECT_TIMEOUT, 10s].
    #[arg(long, value_parser = parse_duration)]
    connect_timeout: Option<Duration>,
    /// Deadline for each reply [default: limits::DEFAULT_REQUEST_TIMEOUT, 10s].
    #[arg(long, value_parser = parse_duration)]
    request_timeout: Option<Duration>,
    /// Allow private, loopback and other special-purpose addresses (tests, private networks).
    #[arg(long)]
    allow_private: bool,
    /// SOCKS5 proxy (e.g. Tor at 127.0.0.1:9050) for .onion endpoints; names are resolved by the proxy.
    #[arg(long, value_name = "HOST:PORT")]
    socks5: Option<SocketAddr>,
    /// Route every endpoint through --socks5, not only onions.
    #[arg(long, requires = "socks5")]
    socks5_all: bool,
    /// Skip the behavioral probes (metadata only).
    #[arg(long)]
    no_probes: bool,
    /// Number of rounds (same run id; each record carries its round).
    #[arg(long, default_value_t = 1)]
    rounds: u32,
    /// Time between the starts of consecutive rounds (e.g. 10m).
    #[arg(long, value_parser = parse_duration, default_value = "0s")]
    interval: Duration,
    /// Continue an interrupted run in this run directory (DIR/raw/<run-id>), skipping endpoints already recorded.
    #[arg(long, value_name = "RUN_DIR")]
    resume: Option<PathBuf>,
    /// Label of the machine/network the scan runs from.
    #[arg(long, default_value = "local")]
    vantage: String,
}

/// Parses `500ms`, `45s`, `2m`, `1h` or a bare number of seconds.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = s.find(|c: char| !c.is_ascii_digit() && c != '.').map_or((s, "s"), |i| s.split_at(i));
    let n: f64 = num.parse().map_err(|_| format!("bad duration {s:?}"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("bad duration unit in {s:?} (use ms, s, m, h)")),
    };
    Duration::try_from_secs_f64(secs).map_err(|e| e.to_string())
}

/// Wraps the run directory with a progress bar (hidden when stderr is not a terminal).
struct ProgressSink {
    inner: RunDir,
    bar: ProgressBar,
}

impl Sink for ProgressSink {
    fn begin(&mut self, manifest: &RunManifest) -> std::io::Result<()> {
        self.inner.begin(manifest)
    }
    fn record(&mut self, record: &EndpointRecord) -> std::io::Result<()> {
        self.bar.inc(1);
        self.bar.set_message(format!("{} {}", record.endpoint.key(), record.status.as_str()));
        self.inner.record(record)
    }
    fn end(&mut self, manifest: &RunManifest) -> std::io::Result<()> {
        self.bar.finish_and_clear();
        self.inner.end(manifest)
    }
    fn planned(&mut self, n: u64) {
        self.bar.inc_length(n);
    }
}

/// Runs the subcommand.
pub fn run(args: Args) -> anyhow::Result<()> {
    let cli_args: Vec<String> = std::env::args().skip(1).collect();
    let (run_dir, run_id, previous, started_ms, recorded_args) = match &args.resume {
        Some(dir) => {
            let (run_dir, resumed) = RunDir::resume(dir).with_context(|| format!("resuming {}", dir.display()))?;
            if resumed.bad_lines > 0 {
                tracing::warn!(lines = resumed.bad_lines, "unreadable record lines in the run being resumed (a truncated last line is cut)");
            }
            tracing::info!(run = %resumed.manifest.run_id, done = resumed.records.len(), "resuming");
            let m = resumed.manifest;
            (run_dir, m.run_id, resumed.records, Some(m.started_ms), m.args)
        }
        None => {
            let run_id = new_run_id();
            (RunDir::create(&args.out, &run_id)?, run_id, Vec::new(), None, cli_args)
        }
    };
    let mut set = TargetSet::default();
    for t in &args.targets {
        set.add_target(t)?;
    }
    if let Some(path) = &args.servers {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        set.add_servers_file(&text, &path.display().to_string())?;
    }
    if args.seeds || (args.targets.is_empty() && args.servers.is_none()) {
        set.add_seeds()?;
    }
    if set.is_empty() {
        bail!("nothing to scan");
    }
    let mut config = ScanConfig::new(set.into_vec(), run_id);
    config.concurrency = args.concurrency;
    config.endpoint_timeout = args.endpoint_timeout.unwrap_or(config.endpoint_timeout);
    config.connect_timeout = args.connect_timeout.unwrap_or(config.connect_timeout);
    config.request_timeout = args.request_timeout.unwrap_or(config.request_timeout);
    config.allow_private = args.allow_private;
    config.socks5 = args.socks5;
    config.socks_all = args.socks5_all;
    config.probes = !args.no_probes;
    config.crawl = args.crawl;
    config.max_depth = args.max_depth;
    config.max_servers = args.max_servers;
    config.rounds = args.rounds.max(1);
    config.interval = args.interval;
    config.vantage = args.vantage.clone();
    config.args = recorded_args;
    config.software_version = env!("CARGO_PKG_VERSION").to_string();
    config.previous = previous;
    config.started_ms = started_ms;
    let bar = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} {wide_msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let dir = run_dir.path().to_path_buf();
    let mut sink = ProgressSink { inner: run_dir, bar };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")?;
    let manifest = runtime.block_on(scan(config, &mut sink))?;
    tracing::info!(run = %manifest.run_id, dir = %dir.display(), counts = ?manifest.counts_by_status, "scan complete");
    println!("{}", dir.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("45s"), Ok(Duration::from_secs(45)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert!(parse_duration("3x").is_err());
    }
}
