//! Where the endpoints of a scan come from: the embedded seed lists, `--servers FILE`
//! (Electrum's servers.json format) and `--target host:port:t|s`. Each host yields one
//! endpoint per advertised transport; [`TargetSet`] deduplicates by (host, port,
//! transport) and keeps every provenance.

use std::collections::BTreeMap;

use observatory_model::raw::{Endpoint, Provenance, Transport};
use serde_json::Value;
use thiserror::Error;

use crate::discovery::{DEFAULT_SSL_PORT, DEFAULT_TCP_PORT};

/// The Electrum client's servers.json (spesmilo/electrum, 2026-03-10), MIT.
pub const ELECTRUM_SERVERS_JSON: &str = include_str!("../../data/seeds/electrum-servers.json");
/// ElectrumX's hard-coded `BitcoinMainnet.PEERS` (spesmilo/electrumx), MIT.
pub const ELECTRUMX_PEERS_JSON: &str = include_str!("../../data/seeds/electrumx-peers.json");

/// Name recorded in [`Provenance::Seed`] for the Electrum client list.
pub const ELECTRUM_SEED_NAME: &str = "electrum-servers-2026-03-10";
/// Name recorded in [`Provenance::Seed`] for ElectrumX's peer list.
pub const ELECTRUMX_SEED_NAME: &str = "electrumx-peers";

/// A target list could not be read.
#[derive(Debug, Error)]
pub enum TargetError {
    /// Not JSON, or not the expected shape.
    #[error("{what}: {why}")]
    Format {
        /// Which list.
        what: String,
        /// What is wrong.
        why: String,
    },
    /// A `--target` that is not `host:port:t|s`.
    #[error("bad target {0:?}: expected host:port:t|s")]
    BadTarget(String),
}

/// Endpoints with their provenances, deduplicated, in a stable order.
#[derive(Debug, Clone, Default)]
pub struct TargetSet {
    entries: BTreeMap<Endpoint, Vec<Provenance>>,
}

impl TargetSet {
    /// Adds one endpoint (or one more provenance of a known endpoint). Returns true when new.
    pub fn add(&mut self, endpoint: Endpoint, provenance: Provenance) -> bool {
        let entry = self.entries.entry(endpoint);
        let new = matches!(entry, std::collections::btree_map::Entry::Vacant(_));
        let provs = entry.or_default();
        if !provs.contains(&provenance) {
            provs.push(provenance);
        }
        new
    }

    /// Number of distinct endpoints.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The endpoints and their provenances.
    pub fn into_vec(self) -> Vec<(Endpoint, Vec<Provenance>)> {
        self.entries.into_iter().collect()
    }

    /// Adds both embedded seed lists.
    pub fn add_seeds(&mut self) -> Result<(), TargetError> {
        let seed = |name: &str| Provenance::Seed {
            name: name.to_string(),
        };
        for (ep, _) in parse_servers_json(ELECTRUM_SERVERS_JSON, ELECTRUM_SEED_NAME)? {
            self.add(ep, seed(ELECTRUM_SEED_NAME));
        }
        for ep in parse_electrumx_peers(ELECTRUMX_PEERS_JSON)? {
            self.add(ep, seed(ELECTRUMX_SEED_NAME));
        }
        Ok(())
    }

    /// Adds the endpoints of a servers.json document read from `path`.
    pub fn add_servers_file(&mut self, text: &str, path: &str) -> Result<(), TargetError> {
        for (ep, _) in parse_servers_json(text, path)? {
            self.add(
                ep,
                Provenance::ServersFile {
                    path: path.to_string(),
                },
            );
        }
        Ok(())
    }

    /// Adds a `--target host:port:t|s`.
    pub fn add_target(&mut self, key: &str) -> Result<(), TargetError> {
        let ep = Endpoint::parse_key(key).ok_or_else(|| TargetError::BadTarget(key.to_string()))?;
        self.add(ep, Provenance::CommandLine);
        Ok(())
    }
}

fn port_value(v: &Value) -> Option<u16> {
    match v {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_u64().and_then(|p| u16::try_from(p).ok()),
        _ => None,
    }
}

/// Parses servers.json (`{"host": {"s": "50002", "t": "50001", …}}`).
pub fn parse_servers_json(
    text: &str,
    what: &str,
) -> Result<Vec<(Endpoint, Option<String>)>, TargetError> {
    let fmt = |why: String| TargetError::Format {
        what: what.to_string(),
        why,
    };
    let v: Value = serde_json::from_str(text).map_err(|e| fmt(e.to_string()))?;
    let obj = v.as_object().ok_or_else(|| fmt("not an object".into()))?;
    let mut out = Vec::new();
    for (host, info) in obj {
        let host = host.to_ascii_lowercase();
        let version = info
            .get("version")
            .and_then(Value::as_str)
            .map(str::to_string);
        for (code, transport) in [("t", Transport::Tcp), ("s", Transport::Tls)] {
            if let Some(port) = info.get(code).and_then(port_value) {
                out.push((
                    Endpoint {
                        host: host.clone(),
                        port,
                        transport,
                    },
                    version.clone(),
                ));
            }
        }
    }
    Ok(out)
}

/// Parses ElectrumX's peer list (`{"BitcoinMainnet": ["host s t50001", …]}`): a bare `s`/`t`
/// means the default port.
pub fn parse_electrumx_peers(text: &str) -> Result<Vec<Endpoint>, TargetError> {
    let fmt = |why: String| TargetError::Format {
        what: ELECTRUMX_SEED_NAME.to_string(),
        why,
    };
    let v: Value = serde_json::from_str(text).map_err(|e| fmt(e.to_string()))?;
    let list = v
        .get("BitcoinMainnet")
        .and_then(Value::as_array)
        .ok_or_else(|| fmt("no BitcoinMainnet list".into()))?;
    let mut out = Vec::new();
    for line in list.iter().filter_map(Value::as_str) {
        let mut parts = line.split_whitespace();
        let Some(host) = parts.next() else { continue };
        for part in parts {
            let (code, port) = part.split_at(1.min(part.len()));
            let (transport, default) = match code {
                "t" => (Transport::Tcp, DEFAULT_TCP_PORT),
                "s" => (Transport::Tls, DEFAULT_SSL_PORT),
                _ => continue,
            };
            let port = if port.is_empty() {
                Some(default)
            } else {
                port.parse().ok()
            };
            if let Some(port) = port {
                out.push(Endpoint {
                    host: host.to_ascii_lowercase(),
                    port,
                    transport,
                });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_seeds_parse_and_dedupe() {
        let mut set = TargetSet::default();
        set.add_seeds().unwrap();
        assert!(set.len() > 100, "{}", set.len());
        let eps = set.into_vec();
        assert!(eps.iter().any(|(e, _)| e.is_onion()));
        assert!(eps
            .iter()
            .any(|(e, _)| e.host == "5.9.83.108" && e.transport == Transport::Tls));
        // 5.9.83.108:50002:s is in both lists: one endpoint, two provenances.
        let both = eps
            .iter()
            .find(|(e, _)| e.host == "5.9.83.108" && e.port == 50002)
            .unwrap();
        assert_eq!(both.1.len(), 2);
    }

    #[test]
    fn electrumx_peer_forms() {
        let eps = parse_electrumx_peers(r#"{"BitcoinMainnet": ["a.example s t", "b.example s50006", "c.onion t110", "d.example x"]}"#).unwrap();
        let keys: Vec<String> = eps.iter().map(Endpoint::key).collect();
        assert_eq!(
            keys,
            vec![
                "a.example:50002:s",
                "a.example:50001:t",
                "b.example:50006:s",
                "c.onion:110:t"
            ]
        );
    }

    #[test]
    fn servers_file_and_targets() {
        let mut set = TargetSet::default();
        set.add_servers_file(
            r#"{"Host.Example": {"s": "50002", "t": 50001, "pruning": "-"}}"#,
            "f.json",
        )
        .unwrap();
        set.add_target("host.example:50002:s").unwrap();
        set.add_target("[::1]:50001:t").unwrap();
        assert!(set.add_target("nope").is_err());
        assert!(set.add_servers_file("[]", "g.json").is_err());
        let eps = set.into_vec();
        assert_eq!(eps.len(), 3);
        let s = eps.iter().find(|(e, _)| e.port == 50002).unwrap();
        assert_eq!(s.1.len(), 2);
    }
}
