//! `observatory simnet`: run a simulated Electrum network on 127.0.0.0/8.
//!
//! Writes `OUT/ground_truth.json` and `OUT/servers.json` once every server listens (their
//! appearance is the readiness signal scripts wait for), then serves until Ctrl-C or
//! `--duration`, whichever comes first: the process never outlives its duration.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use observatory_simnet::{
    HostileKind, Role, Simnet, SimnetConfig, GROUND_TRUTH_FILE, SERVERS_FILE,
};

/// Arguments of `observatory simnet`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Number of servers (distinct loopback addresses).
    #[arg(long, default_value_t = 60)]
    pub servers: usize,
    /// Seed of every random choice (same seed, same network).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Directory for ground_truth.json and servers.json.
    #[arg(long, default_value = "simnet")]
    pub out: PathBuf,
    /// Stop after this long: seconds, or with a unit (`90s`, `30m`, `2h`).
    #[arg(long, default_value = "30m", value_parser = super::parse_duration)]
    pub duration: Duration,
    /// First address block (servers get .1, .2, … after it; must be in 127.0.0.0/8).
    #[arg(long, default_value_t = observatory_simnet::DEFAULT_BASE)]
    pub base: Ipv4Addr,
    /// TCP port of every server.
    #[arg(long, default_value_t = 50001)]
    pub tcp_port: u16,
    /// TLS port of every server.
    #[arg(long, default_value_t = 50002)]
    pub tls_port: u16,
    /// Share of honeypot servers.
    #[arg(long, default_value_t = 0.10)]
    pub honeypot_share: f64,
    /// Share of hostile servers.
    #[arg(long, default_value_t = 0.10)]
    pub hostile_share: f64,
    /// Share of blackholed addresses.
    #[arg(long, default_value_t = 0.10)]
    pub blackholed_share: f64,
    /// Share of servers left out of servers.json (reachable only by crawling).
    #[arg(long, default_value_t = 0.20)]
    pub unseeded_share: f64,
    /// Lowest injected reply latency of honest servers, milliseconds.
    #[arg(long, default_value_t = 20)]
    pub latency_min_ms: u32,
    /// Highest injected reply latency of honest servers, milliseconds.
    #[arg(long, default_value_t = 300)]
    pub latency_max_ms: u32,
    /// Hostile kinds to plant, comma-separated (default: all but huge-peers and private-peers).
    #[arg(long, value_delimiter = ',', value_parser = parse_hostile_kind)]
    pub hostile_kinds: Vec<HostileKind>,
    /// Size of the giant-JSON reply, bytes.
    #[arg(long, default_value_t = observatory_simnet::SimnetConfig::default().giant_json_bytes)]
    pub giant_json_bytes: u64,
}

impl Args {
    /// The simnet configuration these arguments describe.
    pub fn config(&self) -> SimnetConfig {
        let defaults = SimnetConfig::default();
        SimnetConfig {
            servers: self.servers,
            seed: self.seed,
            base: self.base,
            tcp_port: self.tcp_port,
            tls_port: self.tls_port,
            honeypot_share: self.honeypot_share,
            hostile_share: self.hostile_share,
            blackholed_share: self.blackholed_share,
            unseeded_share: self.unseeded_share,
            latency_ms: (self.latency_min_ms, self.latency_max_ms),
            hostile_kinds: if self.hostile_kinds.is_empty() {
                defaults.hostile_kinds.clone()
            } else {
                self.hostile_kinds.clone()
            },
            giant_json_bytes: self.giant_json_bytes,
            ..defaults
        }
    }
}

fn parse_hostile_kind(s: &str) -> Result<HostileKind, String> {
    serde_json::from_value(serde_json::Value::String(s.to_string()))
        .map_err(|_| format!("unknown hostile kind {s:?}"))
}

/// Runs the subcommand.
pub fn run(args: Args) -> anyhow::Result<()> {
    let config = args.config();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let net = Simnet::start(config).await.context("starting the simnet")?;
        let truth = net.ground_truth();
        truth.write(&args.out).with_context(|| format!("writing {}", args.out.display()))?;
        let count = |r: Role| truth.endpoints.iter().filter(|e| e.role == r).count();
        println!(
            "simnet: {} servers, {} endpoints ({} honest, {} honeypot, {} hostile, {} blackholed) from {}",
            args.servers,
            truth.endpoints.len(),
            count(Role::Honest),
            count(Role::Honeypot),
            count(Role::Hostile),
            count(Role::Blackholed),
            args.base
        );
        println!("ground truth: {}", args.out.join(GROUND_TRUTH_FILE).display());
        println!("seed list:    {}  (observatory scan --servers {} --allow-loopback)", args.out.join(SERVERS_FILE).display(), args.out.join(SERVERS_FILE).display());
        let aliases = args.out.join(observatory_simnet::IP_ALIASES_FILE);
        println!("stand-ins:    {}  (observatory analyze --ip-aliases {})", aliases.display(), aliases.display());
        println!("stops after {}s or on Ctrl-C", args.duration.as_secs());
        tokio::select! {
            _ = tokio::signal::ctrl_c() => eprintln!("simnet: interrupted, stopping"),
            _ = tokio::time::sleep(args.duration) => eprintln!("simnet: duration reached, stopping"),
        }
        net.shutdown().await;
        anyhow::Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_kinds_parse_in_kebab_case() {
        assert_eq!(parse_hostile_kind("giant-json"), Ok(HostileKind::GiantJson));
        assert!(parse_hostile_kind("nope").is_err());
    }
}
