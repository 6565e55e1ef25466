//! Ground truth and seed list of a simulated network, as files.
//!
//! * `ground_truth.json`: [`GroundTruth`], one [`EndpointTruth`] per (address, port,
//!   transport), so tests and benchmarks can score what the observatory found.
//! * `servers.json`: the seeded servers in the Electrum client's `servers.json` format
//!   (`{"127.50.0.7": {"pruning": "-", "s": "50002", "t": "50001", "version": "1.4.2"}}`),
//!   for `observatory scan --servers DIR/servers.json --allow-loopback`.
//! * `ip-aliases.json`: each address's stand-in public address (see [`crate::standin`]),
//!   for `observatory analyze --ip-aliases DIR/ip-aliases.json`.

use std::collections::BTreeMap;
use std::path::Path;

use observatory_model::probes::Implementation;
use observatory_model::raw::Transport;
use serde::{Deserialize, Serialize};

use crate::config::SimnetConfig;
use crate::plan::{Behavior, CertGroup, Plan, Role, ServerPlan};
use crate::standin::{stand_in, IP_ALIASES_FILE};
use crate::SimnetError;

/// Version of the ground-truth file format.
pub const GROUND_TRUTH_VERSION: u32 = 1;

/// File name of the ground truth inside the output directory.
pub const GROUND_TRUTH_FILE: &str = "ground_truth.json";

/// File name of the seed list inside the output directory.
pub const SERVERS_FILE: &str = "servers.json";

/// What one endpoint really is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndpointTruth {
    /// IPv4 address (on 127.0.0.0/8).
    pub address: String,
    /// Port.
    pub port: u16,
    /// `t` or `s`.
    pub transport: Transport,
    /// The implementation it emulates (None for hostile and blackholed endpoints).
    pub implementation: Option<Implementation>,
    /// Version of the implementation.
    pub version: Option<String>,
    /// What `server.version` says (e.g. `ElectrumX 1.16.0`).
    pub software: Option<String>,
    /// honest / honeypot / hostile / blackholed.
    pub role: Role,
    /// Behavior kind: `normal`, `legacy-address`, `honeypot`, `blackhole`, or a hostile kind
    /// (`never-answers`, `slowloris`, …).
    pub behavior: String,
    /// Index of the server (endpoints of one server share it).
    pub server: usize,
    /// Honeypot group, for planted honeypots.
    pub honeypot_group: Option<u32>,
    /// Certificate group of a TLS endpoint (`self-signed`, `ca-signed`, `shared-honeypot`, `eps-bundled`).
    pub cert_group: Option<CertGroup>,
    /// Mean injected reply latency, milliseconds.
    pub latency_ms: f64,
    /// Blocks behind the tip.
    pub tip_lag: u64,
    /// Listed in `servers.json` (false: reachable only by crawling peers).
    pub seeded: bool,
    /// The public address enrichment looks up in place of `address` (never contacted).
    #[serde(default)]
    pub stand_in: Option<String>,
}

/// The ground truth of one simulated network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroundTruth {
    /// [`GROUND_TRUTH_VERSION`].
    pub schema_version: u32,
    /// The configuration that generated the network.
    pub config: SimnetConfig,
    /// Tip height of the fake chain.
    pub tip_height: u64,
    /// Every endpoint, in address then port order.
    pub endpoints: Vec<EndpointTruth>,
}

impl Behavior {
    /// The kebab-case name written in the ground truth.
    pub fn name(self) -> String {
        match self {
            Behavior::Normal => "normal".into(),
            Behavior::LegacyAddress => "legacy-address".into(),
            Behavior::Honeypot => "honeypot".into(),
            Behavior::Blackhole => "blackhole".into(),
            Behavior::Hostile(kind) => serde_json::to_value(kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_else(|| "hostile".into()),
        }
    }
}

impl GroundTruth {
    /// The ground truth of a plan.
    pub fn from_plan(config: &SimnetConfig, plan: &Plan) -> GroundTruth {
        let mut endpoints = Vec::new();
        for s in &plan.servers {
            for (port, transport) in [(s.tcp_port, Transport::Tcp), (s.tls_port, Transport::Tls)] {
                let Some(port) = port else { continue };
                endpoints.push(endpoint_truth(s, port, transport));
            }
        }
        GroundTruth {
            schema_version: GROUND_TRUTH_VERSION,
            config: config.clone(),
            tip_height: config.tip_height,
            endpoints,
        }
    }

    /// Endpoints that speak Electrum (honest and honeypot), the denominator of "identified".
    pub fn reachable(&self) -> impl Iterator<Item = &EndpointTruth> {
        self.endpoints
            .iter()
            .filter(|e| matches!(e.role, Role::Honest | Role::Honeypot))
    }

    /// Writes `ground_truth.json` and `servers.json` into `dir` (created if missing).
    pub fn write(&self, dir: &Path) -> Result<(), SimnetError> {
        std::fs::create_dir_all(dir).map_err(|e| SimnetError::io(dir, e))?;
        write_json(
            &dir.join(GROUND_TRUTH_FILE),
            &serde_json::to_value(self).map_err(SimnetError::Json)?,
        )?;
        write_json(&dir.join(IP_ALIASES_FILE), &self.ip_aliases())?;
        write_json(&dir.join(SERVERS_FILE), &self.servers_json())
    }

    /// `{"<loopback address>": "<stand-in public address>"}` for every address.
    pub fn ip_aliases(&self) -> serde_json::Value {
        let map: serde_json::Map<String, serde_json::Value> = self
            .endpoints
            .iter()
            .filter_map(|e| {
                Some((
                    e.address.clone(),
                    serde_json::Value::from(e.stand_in.clone()?),
                ))
            })
            .collect();
        serde_json::Value::Object(map)
    }

    /// The seeded endpoints in `servers.json` format: one entry per address.
    pub fn servers_json(&self) -> serde_json::Value {
        let mut hosts: BTreeMap<String, serde_json::Map<String, serde_json::Value>> =
            BTreeMap::new();
        for e in self.endpoints.iter().filter(|e| e.seeded) {
            let entry = hosts.entry(e.address.clone()).or_default();
            entry.insert("pruning".into(), "-".into());
            entry.insert(e.transport.letter().to_string(), e.port.to_string().into());
            // servers.json carries the protocol version the client last saw, "1.4" or newer.
            entry.entry("version").or_insert_with(|| "1.4".into());
        }
        serde_json::Value::Object(
            hosts
                .into_iter()
                .map(|(k, v)| (k, serde_json::Value::Object(v)))
                .collect(),
        )
    }
}

fn endpoint_truth(s: &ServerPlan, port: u16, transport: Transport) -> EndpointTruth {
    EndpointTruth {
        address: s.ip.to_string(),
        port,
        transport,
        implementation: s.flavor.map(|f| f.implementation()),
        version: s.flavor.map(|f| f.version().to_string()),
        software: s.flavor.map(|f| f.software()),
        role: s.role,
        behavior: s.behavior.name(),
        server: s.index,
        honeypot_group: s.honeypot_group,
        cert_group: if transport == Transport::Tls {
            s.cert
        } else {
            None
        },
        latency_ms: s.latency.base_ms,
        tip_lag: s.tip_lag,
        seeded: s.seeded,
        stand_in: Some(stand_in(s.index, s.role).to_string()),
    }
}

/// Writes pretty JSON through a temporary file and a rename, so readers never see half a file.
fn write_json(path: &Path, value: &serde_json::Value) -> Result<(), SimnetError> {
    let text = serde_json::to_string_pretty(value).map_err(SimnetError::Json)?;
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, text + "\n").map_err(|e| SimnetError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| SimnetError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::HostileKind;

    #[test]
    fn behavior_names_are_kebab_case() {
        assert_eq!(
            Behavior::Hostile(HostileKind::TlsCloseMidHandshake).name(),
            "tls-close-mid-handshake"
        );
        assert_eq!(Behavior::LegacyAddress.name(), "legacy-address");
    }

    #[test]
    fn servers_json_lists_seeded_only() {
        let config = SimnetConfig {
            servers: 50,
            ..SimnetConfig::default()
        };
        let truth = GroundTruth::from_plan(&config, &Plan::generate(&config));
        let seeds = truth.servers_json();
        let obj = seeds.as_object().unwrap();
        let seeded: std::collections::BTreeSet<&str> = truth
            .endpoints
            .iter()
            .filter(|e| e.seeded)
            .map(|e| e.address.as_str())
            .collect();
        assert_eq!(obj.len(), seeded.len());
        assert!(truth.endpoints.iter().any(|e| !e.seeded));
        for (host, entry) in obj {
            assert!(host.starts_with("127."));
            assert!(entry.get("s").is_some() || entry.get("t").is_some());
        }
    }
}
