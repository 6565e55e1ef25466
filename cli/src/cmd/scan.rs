//! `observatory scan`: parse arguments, build a [`ScanConfig`], run [`scan`] into a run
//! directory with a progress bar on a terminal. All scanning logic is in the library.

use std::io::IsTerminal;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressStyle};
use observatory_model::raw::{EndpointRecord, RunManifest};
use observatory_scanner::exclude::ExcludeList;
use observatory_scanner::history;
use observatory_scanner::limits::{DEFAULT_CONCURRENCY, DEFAULT_MAX_DEPTH, DEFAULT_MAX_SERVERS};
use observatory_scanner::output::{new_run_id, RunDir, Sink};
use observatory_scanner::probes::ProbeLevel;
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
    #[arg(long, value_parser = super::parse_duration)]
    endpoint_timeout: Option<Duration>,
    /// TCP/SOCKS connect deadline [default: limits::DEFAULT_CONNECT_TIMEOUT, 10s].
    #[arg(long, value_parser = super::parse_duration)]
    connect_timeout: Option<Duration>,
    /// Deadline for each reply [default: limits::DEFAULT_REQUEST_TIMEOUT, 10s].
    #[arg(long, value_parser = super::parse_duration)]
    request_timeout: Option<Duration>,
    /// Allow private, loopback and other special-purpose addresses (tests, private networks).
    #[arg(long)]
    allow_private: bool,
    /// Allow 127.0.0.0/8 and ::1 only (the simulated network, tests); private networks stay refused.
    #[arg(long)]
    allow_loopback: bool,
    /// Allow exactly this address whatever its range (repeatable; for tests on 127.0.0.N:
    /// other loopback and private addresses, e.g. crawled peers, stay refused).
    #[arg(long = "allow-ip", value_name = "IP")]
    allow_ips: Vec<IpAddr>,
    /// Never scan the hosts and networks listed in FILE (repeatable; added to the embedded
    /// opt-out list data/seeds/exclude.txt). One host name, `*.domain`, address or CIDR
    /// network per line; `#` comments.
    #[arg(long = "exclude", value_name = "FILE")]
    excludes: Vec<PathBuf>,
    /// SOCKS5 proxy (e.g. Tor at 127.0.0.1:9050) for .onion endpoints; names are resolved by the proxy.
    #[arg(long, value_name = "HOST:PORT")]
    socks5: Option<SocketAddr>,
    /// Route every endpoint through --socks5, not only onions.
    #[arg(long, requires = "socks5")]
    socks5_all: bool,
    /// Skip the behavioral probes (metadata only).
    #[arg(long)]
    no_probes: bool,
    /// Which probe cases run. `standard`: the polite set, under half of ElectrumX's default
    /// cost soft limit. `full`: every malformed case (about 2,000 ElectrumX cost units, over the
    /// soft limit), for your own servers only: refused unless every target is a non-public
    /// address that --allow-loopback, --allow-ip or --allow-private admits, without --crawl.
    #[arg(long, value_enum, default_value_t = LevelArg::Standard, conflicts_with = "no_probes")]
    probe_level: LevelArg,
    /// Number of rounds (same run id; each record carries its round).
    #[arg(long, default_value_t = 1)]
    rounds: u32,
    /// Time between the starts of consecutive rounds (e.g. 10m).
    #[arg(long, value_parser = super::parse_duration, default_value = "0s")]
    interval: Duration,
    /// Continue an interrupted run in this run directory (DIR/raw/<run-id>), skipping endpoints
    /// already recorded. Alone, it reuses the run's recorded options; given targets, it uses those.
    #[arg(long, value_name = "RUN_DIR")]
    resume: Option<PathBuf>,
    /// Merge earlier runs (this DIR's raw/<run-id>/ directories, from any machine) with this
    /// one into OUT/history.json: per-endpoint uptime, RTT stability, tip lag. Repeatable.
    /// history.json is also written, for this run alone, when --rounds > 1.
    #[arg(long = "history", value_name = "DIR")]
    history: Vec<PathBuf>,
    /// Label of the machine/network the scan runs from.
    #[arg(long, default_value = "local")]
    vantage: String,
}

/// `--probe-level` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LevelArg {
    /// The polite set (`ProbeLevel::Standard`).
    Standard,
    /// Every case (`ProbeLevel::Full`): your own servers only.
    Full,
}

impl From<LevelArg> for ProbeLevel {
    fn from(l: LevelArg) -> Self {
        match l {
            LevelArg::Standard => ProbeLevel::Standard,
            LevelArg::Full => ProbeLevel::Full,
        }
    }
}

/// `scan` parsed on its own (to re-read the options recorded in a manifest).
#[derive(Debug, clap::Parser)]
#[command(name = "scan")]
struct Recorded {
    #[command(flatten)]
    args: Args,
    /// The global `--log` may follow `scan` on the recorded line; it is not an option of the run.
    #[arg(long)]
    log: Option<String>,
}

/// The options of the run being resumed (`--resume DIR` alone): the manifest's recorded
/// command line, minus anything before `scan`, with this invocation's `--resume`.
fn recorded_options(dir: &Path, current: &Args) -> anyhow::Result<Args> {
    let path = dir.join(observatory_scanner::output::MANIFEST_FILE);
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let manifest: RunManifest =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    let after_scan = manifest
        .args
        .iter()
        .position(|a| a == "scan")
        .map_or(0, |i| i + 1);
    let recorded = manifest.args.get(after_scan..).unwrap_or_default();
    let parsed = <Recorded as clap::Parser>::try_parse_from(
        std::iter::once("scan").chain(recorded.iter().map(String::as_str)),
    )
    .with_context(|| format!("re-reading the options recorded in {}", path.display()))?;
    Ok(Args {
        resume: current.resume.clone(),
        ..parsed.args
    })
}

/// Peak resident memory of this process so far (Linux `VmHWM`), KiB; logged at the end of
/// a scan so that operators (and the hostile-server tests) see what the run cost.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
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
        self.bar.set_message(format!(
            "{} {}",
            record.endpoint.key(),
            record.status.as_str()
        ));
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
    let args = match &args.resume {
        Some(dir) if args.targets.is_empty() && args.servers.is_none() && !args.seeds => {
            recorded_options(dir, &args)?
        }
        _ => args,
    };
    // A new run's directory is created only once the options are known to be acceptable.
    let (run_dir, run_id, previous, started_ms, recorded_args) = match &args.resume {
        Some(dir) => {
            let (run_dir, resumed) =
                RunDir::resume(dir).with_context(|| format!("resuming {}", dir.display()))?;
            if resumed.bad_lines > 0 {
                tracing::warn!(lines = resumed.bad_lines, "unreadable record lines in the run being resumed (a truncated last line is cut)");
            }
            tracing::info!(run = %resumed.manifest.run_id, done = resumed.records.len(), "resuming");
            let m = resumed.manifest;
            (
                Some(run_dir),
                m.run_id,
                resumed.records,
                Some(m.started_ms),
                m.args,
            )
        }
        None => (None, new_run_id(), Vec::new(), None, cli_args),
    };
    let mut set = TargetSet::default();
    for t in &args.targets {
        set.add_target(t)?;
    }
    if let Some(path) = &args.servers {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
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
    config.allow_loopback = args.allow_loopback;
    config.allow_ips = args.allow_ips.clone();
    for path in &args.excludes {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        config
            .exclude
            .extend(ExcludeList::parse(&text, &path.display().to_string())?);
    }
    config.socks5 = args.socks5;
    config.socks_all = args.socks5_all;
    config.probes = !args.no_probes;
    config.probe_level = args.probe_level.into();
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
    if config.probe_level == ProbeLevel::Full {
        if let Err(why) = observatory_scanner::run::lab_only(&config) {
            bail!(
                "--probe-level full is only for your own servers ({why}); it costs more than ElectrumX's \
                 soft limit. Name every target by a loopback or private address you allow with \
                 --allow-loopback, --allow-ip or --allow-private, without --crawl, or use --probe-level standard"
            );
        }
    }
    let run_dir = match run_dir {
        Some(d) => d,
        None => RunDir::create(&args.out, &config.run_id)?,
    };
    let interval = observatory_scanner::run::round_interval(&config);
    if interval != config.interval {
        tracing::warn!(asked = ?config.interval, used = ?interval, "probed rounds that may reach servers other than your own are spaced for ElectrumX's cost decay");
    }
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
    let mut sink = ProgressSink {
        inner: run_dir,
        bar,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let manifest = runtime.block_on(scan(config, &mut sink))?;
    let peak_rss_kib = peak_rss_kib().unwrap_or(0);
    tracing::info!(run = %manifest.run_id, dir = %dir.display(), counts = ?manifest.counts_by_status, peak_rss_kib, "scan complete");
    if !args.history.is_empty() || manifest.rounds > 1 {
        let path = write_history(&args, &dir)?;
        tracing::info!(file = %path.display(), "history written");
    }
    println!("{}", dir.display());
    Ok(())
}

/// Merges the `--history` runs with this one (a pure function over the raw files) and
/// writes `history.json` atomically beside the `raw/` directory of this run.
fn write_history(args: &Args, run_dir: &Path) -> anyhow::Result<PathBuf> {
    let mut dirs = args.history.clone();
    dirs.push(run_dir.to_path_buf());
    let loaded = history::load(&dirs).context("reading runs for --history")?;
    let merged = history::merge(&loaded.records);
    // run_dir is OUT/raw/<run-id>: history.json goes to OUT.
    let out = run_dir.parent().and_then(Path::parent).unwrap_or(run_dir);
    let path = out.join("history.json");
    let tmp = out.join("history.json.tmp");
    let mut text = serde_json::to_vec_pretty(&merged)?;
    text.push(b'\n');
    std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_options_are_reused_on_resume() {
        let tmp = std::env::temp_dir().join(format!("observatory-recorded-{}", std::process::id()));
        std::fs::create_dir_all(&tmp).unwrap();
        let recorded = [
            "--log",
            "info",
            "scan",
            "--target",
            "127.0.0.1:50001:t",
            "--log",
            "debug",
            "--rounds",
            "3",
            "--no-probes",
        ];
        let manifest = serde_json::json!({
            "schema_version": 1, "run_id": "r", "software_version": "t", "vantage": "local", "started_ms": 1,
            "rounds": 3, "endpoints": 1, "counts_by_status": {}, "complete": false,
            "args": recorded,
        });
        std::fs::write(tmp.join("manifest.json"), manifest.to_string()).unwrap();
        let current =
            <Recorded as clap::Parser>::try_parse_from(["scan", "--resume", tmp.to_str().unwrap()])
                .unwrap()
                .args;
        let args = recorded_options(&tmp, &current).unwrap();
        std::fs::remove_dir_all(&tmp).unwrap();
        assert_eq!(args.targets, vec!["127.0.0.1:50001:t"]);
        assert_eq!(args.rounds, 3);
        assert!(args.no_probes);
        assert_eq!(args.resume.as_deref(), Some(tmp.as_path()));
    }
}
