//! What a simulated network looks like: size, seed, shares of each role, latency.

use std::net::Ipv4Addr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::SimnetError;

/// Most servers one simnet may run (each needs one or two listening sockets and an address).
pub const MAX_SERVERS: usize = 20_000;

/// Default first address block: servers get `127.50.0.1`, `127.50.0.2`, … (never `127.0.0.1`,
/// which other local services use).
pub const DEFAULT_BASE: Ipv4Addr = Ipv4Addr::new(127, 50, 0, 0);

/// Default tip height of the fake chain (a 2025-era mainnet height).
pub const DEFAULT_TIP_HEIGHT: u64 = 925_000;

/// Size of the planted giant-JSON reply, bytes (issue 7 asks for 100 MB of valid JSON).
pub const DEFAULT_GIANT_JSON_BYTES: u64 = 100 * 1024 * 1024;

/// How long an idle client session may stay open before the simnet closes it. Real servers
/// wait longer (ElectrumX `SESSION_TIMEOUT` 600 s); the simnet is bounded by design.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(120);

/// Planted hostile behaviors (issue 7). Each hostile server gets one, round-robin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HostileKind {
    /// Accepts, reads and discards, never sends a byte.
    NeverAnswers,
    /// Sends a valid-looking reply one byte per second.
    Slowloris,
    /// Sends bytes without ever sending a newline.
    EndlessLine,
    /// Answers with newline-terminated lines that are not UTF-8.
    InvalidUtf8,
    /// Answers `server.version` with one line of valid JSON of [`SimnetConfig::giant_json_bytes`].
    GiantJson,
    /// Answers with an array nested 100,000 deep.
    DeepJson,
    /// Answers with wrong ids, duplicated ids and ids of other JSON types.
    WrongIds,
    /// Answers correctly but sends thousands of unsolicited notifications in between.
    NotificationFlood,
    /// TLS endpoints only: reads the ClientHello, sends part of a record header, closes.
    TlsCloseMidHandshake,
    /// Answers `server.peers.subscribe` with 100,000 peers (all on 127.0.0.0/8). Opt-in.
    HugePeers,
    /// Advertises peers at private, link-local and CGNAT addresses (strings only). Opt-in:
    /// a scan run with `--allow-private --crawl` would send packets to them (`--allow-loopback`,
    /// which simnet scans use, refuses them).
    PrivatePeers,
}

impl HostileKind {
    /// The kinds planted unless the configuration says otherwise. `HugePeers` and
    /// `PrivatePeers` are left out: they make a crawling scan reach far beyond the simnet.
    pub const DEFAULT_SET: [HostileKind; 9] = [
        HostileKind::NeverAnswers,
        HostileKind::Slowloris,
        HostileKind::EndlessLine,
        HostileKind::InvalidUtf8,
        HostileKind::GiantJson,
        HostileKind::DeepJson,
        HostileKind::WrongIds,
        HostileKind::NotificationFlood,
        HostileKind::TlsCloseMidHandshake,
    ];
}

/// Everything that defines a simulated network. Same configuration (seed included), same
/// network: addresses, roles, implementations, banners, peers and latencies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimnetConfig {
    /// Number of servers (distinct addresses). Each has a TCP port, a TLS port, or both.
    pub servers: usize,
    /// Seed of every random choice.
    pub seed: u64,
    /// Addresses are allocated after this one (inside 127.0.0.0/8, skipping `.0` and `.255`).
    pub base: Ipv4Addr,
    /// TCP port of every server (each server has its own address, so all can share it).
    pub tcp_port: u16,
    /// TLS port of every server.
    pub tls_port: u16,
    /// Share of servers planted with honeypot behavior (one group).
    pub honeypot_share: f64,
    /// Share of servers with a hostile behavior.
    pub hostile_share: f64,
    /// Share of servers whose addresses are blackholed (connects time out).
    pub blackholed_share: f64,
    /// Share of honest and honeypot servers left out of `servers.json` (found only by crawling).
    pub unseeded_share: f64,
    /// Honest servers' base reply latency is drawn uniformly from this range, milliseconds.
    pub latency_ms: (u32, u32),
    /// The honeypot group's (uniform, very stable) reply latency, milliseconds.
    pub honeypot_latency_ms: u32,
    /// Hostile behaviors to plant, round-robin over the hostile servers.
    pub hostile_kinds: Vec<HostileKind>,
    /// Tip height of the fake chain.
    pub tip_height: u64,
    /// Size of the giant-JSON reply, bytes.
    pub giant_json_bytes: u64,
    /// Idle timeout of a client session.
    #[serde(with = "duration_secs")]
    pub idle_timeout: Duration,
}

impl Default for SimnetConfig {
    fn default() -> Self {
        SimnetConfig {
            servers: 60,
            seed: 1,
            base: DEFAULT_BASE,
            tcp_port: 50001,
            tls_port: 50002,
            honeypot_share: 0.10,
            hostile_share: 0.10,
            blackholed_share: 0.10,
            unseeded_share: 0.20,
            latency_ms: (20, 300),
            honeypot_latency_ms: 50,
            hostile_kinds: HostileKind::DEFAULT_SET.to_vec(),
            tip_height: DEFAULT_TIP_HEIGHT,
            giant_json_bytes: DEFAULT_GIANT_JSON_BYTES,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
        }
    }
}

impl SimnetConfig {
    /// Checks ranges, shares and that every address fits in 127.0.0.0/8.
    pub fn validate(&self) -> Result<(), SimnetError> {
        let bad = |why: String| Err(SimnetError::Config(why));
        if self.servers == 0 || self.servers > MAX_SERVERS {
            return bad(format!(
                "servers must be in 1..={MAX_SERVERS}, got {}",
                self.servers
            ));
        }
        for (name, share) in [
            ("honeypot_share", self.honeypot_share),
            ("hostile_share", self.hostile_share),
            ("blackholed_share", self.blackholed_share),
            ("unseeded_share", self.unseeded_share),
        ] {
            if !(0.0..=1.0).contains(&share) {
                return bad(format!("{name} must be in [0, 1], got {share}"));
            }
        }
        if self.honeypot_share + self.hostile_share + self.blackholed_share > 1.0 {
            return bad("honeypot, hostile and blackholed shares add up to more than 1".into());
        }
        if self.latency_ms.0 > self.latency_ms.1 {
            return bad(format!("latency range {:?} is reversed", self.latency_ms));
        }
        if self.tcp_port == 0 || self.tls_port == 0 || self.tcp_port == self.tls_port {
            return bad("tcp_port and tls_port must be distinct and non-zero".into());
        }
        if self.base.octets()[0] != 127 {
            return bad(format!("base {} is not in 127.0.0.0/8", self.base));
        }
        let last = crate::plan::address_for(self.base, self.servers - 1);
        if last.octets()[0] != 127 {
            return bad(format!(
                "{} servers after {} leave 127.0.0.0/8",
                self.servers, self.base
            ));
        }
        if self.hostile_share > 0.0 && self.hostile_kinds.is_empty() {
            return bad("hostile_share > 0 but no hostile kinds".into());
        }
        Ok(())
    }
}

/// `Duration` as whole seconds in JSON.
mod duration_secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_secs())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_secs(u64::deserialize(d)?))
    }
}
