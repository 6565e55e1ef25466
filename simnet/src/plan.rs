//! The deterministic plan of a simulated network: who is where and behaves how.
//!
//! [`Plan::generate`] is a pure function of the [`SimnetConfig`]: no sockets, no clock, no
//! OS randomness. Everything the ground truth says comes from here, so two runs with the
//! same seed describe the same network (key material is the only thing generated anew).

use std::net::Ipv4Addr;

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

use crate::config::{HostileKind, SimnetConfig};
use crate::flavor::Flavor;

/// Most peers an honest server advertises.
const MAX_HONEST_PEERS: usize = 8;

/// Most peers a honeypot advertises (it favors its own group).
const MAX_HONEYPOT_PEERS: usize = 24;

/// Relative weight of each implementation among honest servers, roughly the mix seen on the
/// public network (ElectrumX and Fulcrum dominate; personal servers are rare).
const FLAVOR_WEIGHTS: [(Flavor, u32); 8] = [
    (Flavor::Electrumx116, 16),
    (Flavor::Electrumx119, 12),
    (Flavor::Electrumx200, 22),
    (Flavor::Fulcrum, 28),
    (Flavor::Electrs, 10),
    (Flavor::EsploraElectrs, 5),
    (Flavor::MempoolElectrs, 4),
    (Flavor::ElectrumPersonalServer, 3),
];

/// The banner every honeypot sends (identical across the group).
pub const HONEYPOT_BANNER: &str =
    "Welcome! Fast, reliable and private Electrum server. 99.99% uptime.";

/// Donation address some honest operators set: the BIP-173 P2WPKH test vector (never a
/// real user's address).
pub const TEST_VECTOR_ADDRESS: &str = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4";

/// What a server is, in the ground truth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Behaves like its implementation.
    Honest,
    /// Planted surveillance-like behavior (one group).
    Honeypot,
    /// Planted hostile behavior.
    Hostile,
    /// Address accepts no connection (SYNs are dropped).
    Blackholed,
}

/// The behavior planted on a server (one per server; both ports behave alike).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Behavior {
    /// The implementation's documented behavior.
    Normal,
    /// An otherwise honest ElectrumX that still answers the `blockchain.address.*` methods
    /// removed in protocol 1.3 (the "planted odd server").
    LegacyAddress,
    /// Shared certificate, identical banner, uniform latency, slow and slowing history,
    /// throttles scripthash queries but not pings, accepts huge batches.
    Honeypot,
    /// A hostile behavior.
    Hostile(HostileKind),
    /// Nothing answers.
    Blackhole,
}

/// Which certificate a TLS port presents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CertGroup {
    /// Its own self-signed certificate (the common case on this network).
    SelfSigned,
    /// Its own leaf issued by the simnet's CA-like chain (root → intermediate → leaf).
    CaSigned,
    /// The one certificate every honeypot presents.
    SharedHoneypot,
    /// The certificate bundled with Electrum Personal Server, shared by every EPS install
    /// that never replaced it (a benign form of certificate reuse).
    EpsBundled,
}

/// Reply latency of a server.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    /// Mean added delay per reply, milliseconds.
    pub base_ms: f64,
    /// Each reply's delay is `base ± jitter` (uniform), milliseconds.
    pub jitter_ms: f64,
}

/// One planned server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerPlan {
    /// Position in the plan.
    pub index: usize,
    /// Its loopback address.
    pub ip: Ipv4Addr,
    /// Ground-truth role.
    pub role: Role,
    /// Planted behavior.
    pub behavior: Behavior,
    /// Emulated implementation (None for hostile and blackholed servers).
    pub flavor: Option<Flavor>,
    /// TCP port, when it offers one.
    pub tcp_port: Option<u16>,
    /// TLS port, when it offers one.
    pub tls_port: Option<u16>,
    /// Certificate of the TLS port.
    pub cert: Option<CertGroup>,
    /// `server.banner` text (EPS fills its template at answer time when empty).
    pub banner: String,
    /// `server.donation_address`.
    pub donation: String,
    /// Reply latency.
    pub latency: Latency,
    /// Blocks behind the tip.
    pub tip_lag: u64,
    /// Indexes of the servers it advertises in `server.peers.subscribe`.
    pub peers: Vec<usize>,
    /// Listed in `servers.json` (otherwise only reachable by crawling).
    pub seeded: bool,
    /// Honeypot group number (one group today).
    pub honeypot_group: Option<u32>,
}

/// The whole network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// The servers, in address order.
    pub servers: Vec<ServerPlan>,
}

/// The `index`-th usable address after `base`: `.0` and `.255` last octets are skipped so
/// that no address looks like a network or broadcast address.
pub fn address_for(base: Ipv4Addr, index: usize) -> Ipv4Addr {
    // 254 usable addresses per /24 block.
    let block = (index / 254) as u32;
    let host = (index % 254) as u32 + 1;
    let start = u32::from(base) & 0xffff_ff00;
    Ipv4Addr::from(start.wrapping_add(block << 8).wrapping_add(host))
}

impl Plan {
    /// Plans the network described by `config` (call [`SimnetConfig::validate`] first).
    pub fn generate(config: &SimnetConfig) -> Plan {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(config.seed);
        let n = config.servers;
        let roles = assign_roles(config, &mut rng);
        let mut hostile_round = config.hostile_kinds.iter().copied().cycle();
        let mut servers = Vec::with_capacity(n);
        for (index, role) in roles.into_iter().enumerate() {
            let ip = address_for(config.base, index);
            let plan = match role {
                Role::Honest => honest(config, index, ip, &mut rng),
                Role::Honeypot => honeypot(config, index, ip),
                Role::Hostile => {
                    let kind = hostile_round.next().unwrap_or(HostileKind::NeverAnswers);
                    hostile(config, index, ip, kind)
                }
                Role::Blackholed => blackholed(config, index, ip),
            };
            servers.push(plan);
        }
        assign_peers(&mut servers, config, &mut rng);
        Plan { servers }
    }
}

/// Role of each index: the honeypots form one contiguous block (Sybil servers tend to sit
/// side by side in one provider's range), the other roles are shuffled.
fn assign_roles(config: &SimnetConfig, rng: &mut Xoshiro256PlusPlus) -> Vec<Role> {
    let n = config.servers;
    let count = |share: f64| ((n as f64) * share).round() as usize;
    let honeypots = count(config.honeypot_share).min(n);
    let hostile = count(config.hostile_share).min(n - honeypots);
    let blackholed = count(config.blackholed_share).min(n - honeypots - hostile);
    let honest = n - honeypots - hostile - blackholed;
    let mut others: Vec<Role> = std::iter::repeat_n(Role::Honest, honest)
        .chain(std::iter::repeat_n(Role::Hostile, hostile))
        .chain(std::iter::repeat_n(Role::Blackholed, blackholed))
        .collect();
    others.shuffle(rng);
    let at = rng.gen_range(0..=others.len());
    others.splice(at..at, std::iter::repeat_n(Role::Honeypot, honeypots));
    others
}

fn pick_flavor(rng: &mut Xoshiro256PlusPlus) -> Flavor {
    let total: u32 = FLAVOR_WEIGHTS.iter().map(|(_, w)| w).sum();
    let mut x = rng.gen_range(0..total);
    for (flavor, w) in FLAVOR_WEIGHTS {
        if x < w {
            return flavor;
        }
        x -= w;
    }
    Flavor::Electrumx200
}

fn honest(
    config: &SimnetConfig,
    index: usize,
    ip: Ipv4Addr,
    rng: &mut Xoshiro256PlusPlus,
) -> ServerPlan {
    let flavor = pick_flavor(rng);
    // Which transports: EPS serves TLS only; electrs-family servers are TCP first (TLS through
    // a proxy when the operator set one up); the rest mostly offer both.
    let roll: f64 = rng.gen();
    let (tcp, tls) = match flavor {
        Flavor::ElectrumPersonalServer => (false, true),
        Flavor::Electrs | Flavor::EsploraElectrs | Flavor::MempoolElectrs => (true, roll < 0.4),
        _ if roll < 0.75 => (true, true),
        _ if roll < 0.90 => (false, true),
        _ => (true, false),
    };
    let cert = tls.then(|| match flavor {
        Flavor::ElectrumPersonalServer => CertGroup::EpsBundled,
        _ if rng.gen_bool(0.2) => CertGroup::CaSigned,
        _ => CertGroup::SelfSigned,
    });
    let banner = match flavor {
        Flavor::ElectrumPersonalServer => String::new(),
        _ if rng.gen_bool(0.5) => flavor.default_banner(),
        _ => format!(
            "Welcome to electrum node #{index}, running {}. Be nice.",
            flavor.software()
        ),
    };
    let donation = match flavor {
        Flavor::Electrumx116 | Flavor::Electrumx119 | Flavor::Electrumx200 | Flavor::Fulcrum
            if rng.gen_bool(0.3) =>
        {
            TEST_VECTOR_ADDRESS.to_string()
        }
        _ => String::new(),
    };
    let (lo, hi) = config.latency_ms;
    // Rounded to microseconds so the ground truth survives a JSON round trip unchanged.
    let round_us = |ms: f64| (ms * 1000.0).round() / 1000.0;
    let base_ms = round_us(rng.gen_range(lo as f64..=hi as f64));
    let jitter_ms = round_us(base_ms * rng.gen_range(0.10..0.25) + 2.0);
    let lag_roll: f64 = rng.gen();
    let tip_lag = if lag_roll < 0.85 {
        0
    } else if lag_roll < 0.95 {
        1
    } else {
        rng.gen_range(2..=5)
    };
    let behavior = Behavior::Normal;
    ServerPlan {
        index,
        ip,
        role: Role::Honest,
        behavior,
        flavor: Some(flavor),
        tcp_port: tcp.then_some(config.tcp_port),
        tls_port: tls.then_some(config.tls_port),
        cert,
        banner,
        donation,
        latency: Latency { base_ms, jitter_ms },
        tip_lag,
        peers: Vec::new(),
        seeded: true,
        honeypot_group: None,
    }
}

/// Jitter of the honeypots' reply latency, milliseconds: next to nothing (a fixed artificial
/// delay in front of the server). The tokio timer's 1 ms granularity adds more than this.
const HONEYPOT_JITTER_MS: f64 = 0.1;

fn honeypot(config: &SimnetConfig, index: usize, ip: Ipv4Addr) -> ServerPlan {
    // They claim a popular, slightly old ElectrumX and all look the same.
    ServerPlan {
        flavor: Some(Flavor::Electrumx116),
        tcp_port: Some(config.tcp_port),
        tls_port: Some(config.tls_port),
        cert: Some(CertGroup::SharedHoneypot),
        banner: HONEYPOT_BANNER.to_string(),
        latency: Latency {
            base_ms: config.honeypot_latency_ms as f64,
            jitter_ms: HONEYPOT_JITTER_MS,
        },
        honeypot_group: Some(0),
        ..bare(index, ip, Role::Honeypot, Behavior::Honeypot)
    }
}

/// A server that does not speak Electrum honestly: no implementation, no banner, no latency.
fn bare(index: usize, ip: Ipv4Addr, role: Role, behavior: Behavior) -> ServerPlan {
    ServerPlan {
        index,
        ip,
        role,
        behavior,
        flavor: None,
        tcp_port: None,
        tls_port: None,
        cert: None,
        banner: String::new(),
        donation: String::new(),
        latency: Latency {
            base_ms: 0.0,
            jitter_ms: 0.0,
        },
        tip_lag: 0,
        peers: Vec::new(),
        seeded: true,
        honeypot_group: None,
    }
}

fn hostile(config: &SimnetConfig, index: usize, ip: Ipv4Addr, kind: HostileKind) -> ServerPlan {
    let tcp = kind != HostileKind::TlsCloseMidHandshake;
    ServerPlan {
        tcp_port: tcp.then_some(config.tcp_port),
        tls_port: Some(config.tls_port),
        cert: Some(CertGroup::SelfSigned),
        ..bare(index, ip, Role::Hostile, Behavior::Hostile(kind))
    }
}

fn blackholed(config: &SimnetConfig, index: usize, ip: Ipv4Addr) -> ServerPlan {
    ServerPlan {
        tcp_port: Some(config.tcp_port),
        tls_port: Some(config.tls_port),
        ..bare(index, ip, Role::Blackholed, Behavior::Blackhole)
    }
}

/// Peer lists, the unseeded set and the planted odd server.
///
/// Honest servers advertise a few random honest, honeypot or blackholed servers (dead peers
/// are realistic); honeypots advertise their own group first. Every unseeded server is
/// advertised by at least one seeded honest server, so a crawl can find it.
fn assign_peers(servers: &mut [ServerPlan], config: &SimnetConfig, rng: &mut Xoshiro256PlusPlus) {
    let n = servers.len();
    let advertisable: Vec<usize> = servers
        .iter()
        .filter(|s| matches!(s.role, Role::Honest | Role::Honeypot | Role::Blackholed))
        .map(|s| s.index)
        .collect();
    let honeypots: Vec<usize> = servers
        .iter()
        .filter(|s| s.role == Role::Honeypot)
        .map(|s| s.index)
        .collect();
    let mut honest: Vec<usize> = servers
        .iter()
        .filter(|s| s.role == Role::Honest)
        .map(|s| s.index)
        .collect();

    // Unseeded: a share of honest and honeypot servers (never all of them).
    let mut candidates: Vec<usize> = honest.iter().chain(honeypots.iter()).copied().collect();
    candidates.shuffle(rng);
    let unseeded = ((candidates.len() as f64) * config.unseeded_share).round() as usize;
    let unseeded = unseeded.min(candidates.len().saturating_sub(1));
    let unseeded_set: Vec<usize> = candidates.iter().take(unseeded).copied().collect();
    for &i in &unseeded_set {
        if let Some(s) = servers.get_mut(i) {
            s.seeded = false;
        }
    }

    for i in 0..n {
        let Some(role) = servers.get(i).map(|s| s.role) else {
            continue;
        };
        let peers: Vec<usize> = match role {
            Role::Honest => {
                let mut pool: Vec<usize> =
                    advertisable.iter().copied().filter(|&p| p != i).collect();
                pool.shuffle(rng);
                let k = rng.gen_range(0..=MAX_HONEST_PEERS.min(pool.len()));
                pool.truncate(k);
                pool
            }
            Role::Honeypot => {
                let mut own: Vec<usize> = honeypots.iter().copied().filter(|&p| p != i).collect();
                own.shuffle(rng);
                own.truncate(MAX_HONEYPOT_PEERS);
                own
            }
            Role::Hostile | Role::Blackholed => Vec::new(),
        };
        if let Some(s) = servers.get_mut(i) {
            s.peers = peers;
        }
    }

    // Make sure each unseeded server is advertised by some seeded honest server.
    honest.retain(|&h| servers.get(h).is_some_and(|s| s.seeded));
    if !honest.is_empty() {
        for &u in &unseeded_set {
            let already = servers
                .iter()
                .any(|s| s.seeded && s.role == Role::Honest && s.peers.contains(&u));
            if !already {
                let advertiser = honest[rng.gen_range(0..honest.len())];
                if let Some(s) = servers.get_mut(advertiser) {
                    s.peers.push(u);
                }
            }
        }
    }

    // The planted odd server: one honest ElectrumX 1.16 still answering blockchain.address.*.
    if let Some(odd) = servers
        .iter_mut()
        .find(|s| s.role == Role::Honest && s.flavor == Some(Flavor::Electrumx116))
    {
        odd.behavior = Behavior::LegacyAddress;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_skip_network_and_broadcast() {
        let base = Ipv4Addr::new(127, 50, 0, 0);
        assert_eq!(address_for(base, 0), Ipv4Addr::new(127, 50, 0, 1));
        assert_eq!(address_for(base, 253), Ipv4Addr::new(127, 50, 0, 254));
        assert_eq!(address_for(base, 254), Ipv4Addr::new(127, 50, 1, 1));
    }

    #[test]
    fn shares_are_respected() {
        let config = SimnetConfig {
            servers: 100,
            ..SimnetConfig::default()
        };
        let plan = Plan::generate(&config);
        let count = |r: Role| plan.servers.iter().filter(|s| s.role == r).count();
        assert_eq!(count(Role::Honeypot), 10);
        assert_eq!(count(Role::Hostile), 10);
        assert_eq!(count(Role::Blackholed), 10);
        assert_eq!(count(Role::Honest), 70);
        // honeypots are contiguous
        let hp: Vec<usize> = plan
            .servers
            .iter()
            .filter(|s| s.role == Role::Honeypot)
            .map(|s| s.index)
            .collect();
        assert_eq!(hp.last().unwrap() - hp.first().unwrap(), hp.len() - 1);
    }

    #[test]
    fn unseeded_servers_are_advertised_by_seeded_honest_ones() {
        let plan = Plan::generate(&SimnetConfig {
            servers: 200,
            ..SimnetConfig::default()
        });
        for s in plan.servers.iter().filter(|s| !s.seeded) {
            assert!(plan
                .servers
                .iter()
                .any(|a| a.seeded && a.role == Role::Honest && a.peers.contains(&s.index)));
        }
    }

    #[test]
    fn deterministic() {
        let c = SimnetConfig {
            servers: 80,
            seed: 9,
            ..SimnetConfig::default()
        };
        assert_eq!(Plan::generate(&c), Plan::generate(&c));
        assert_ne!(
            Plan::generate(&c),
            Plan::generate(&SimnetConfig {
                seed: 10,
                ..c.clone()
            })
        );
    }
}
