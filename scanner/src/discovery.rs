//! Parsers for what servers say about other servers, and the endpoints they lead to.
//!
//! * [`parse_peers`]: `server.peers.subscribe` → [`Peer`]s, at most [`MAX_PEERS_PARSED`].
//! * [`parse_features`]: `server.features` → [`Features`] (hosts capped at [`MAX_FEATURE_HOSTS`]).
//! * [`leads`]: the endpoints a finished record points at, for `--crawl`.
//!
//! Everything here is attacker-controlled input: shapes are checked, not assumed, and every
//! string is bounded.

use observatory_model::raw::{
    Endpoint, EndpointRecord, Features, HostPorts, Peer, Provenance, Transport,
};
use observatory_protocol::message::truncate;
use serde_json::Value;

use crate::limits::{
    MAX_FEATURE_HOSTS, MAX_FEATURE_KEYS, MAX_HOST_LEN, MAX_PEERS_PARSED, MAX_PEER_FEATURES,
    MAX_SERVER_STRING,
};

/// Default ports a bare `t` / `s` feature means.
pub const DEFAULT_TCP_PORT: u16 = 50001;
/// Default SSL port a bare `s` means.
pub const DEFAULT_SSL_PORT: u16 = 50002;

/// Parses a `server.peers.subscribe` result. Returns the peers (first [`MAX_PEERS_PARSED`]
/// entries that have the `[ip, host, [features]]` shape) and the raw value truncated to the
/// same number of entries; None when the result is not an array.
pub fn parse_peers(value: &Value) -> Option<(Vec<Peer>, Value)> {
    let items = value.as_array()?;
    let kept: Vec<Value> = items.iter().take(MAX_PEERS_PARSED).cloned().collect();
    let peers = kept.iter().filter_map(parse_peer).collect();
    Some((peers, Value::Array(kept)))
}

/// One `[ip, host, ["v1.4", "s50002", "t", "p10000", …]]` entry.
pub fn parse_peer(item: &Value) -> Option<Peer> {
    let [ip, host, features] = item.as_array()?.as_slice() else {
        return None;
    };
    let (ip, host) = (ip.as_str()?, host.as_str()?);
    if ip.len() > MAX_HOST_LEN || host.len() > MAX_HOST_LEN {
        return None;
    }
    let mut peer = Peer {
        ip: ip.to_string(),
        host: host.to_ascii_lowercase(),
        ..Peer::default()
    };
    for f in features
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .take(MAX_PEER_FEATURES)
    {
        peer.features.push(truncate(f, 64));
        let mut chars = f.chars();
        let (Some(kind), rest) = (chars.next(), chars.as_str()) else {
            continue;
        };
        match kind {
            'v' if !rest.is_empty() => peer.version = Some(truncate(rest, 32)),
            'p' => peer.pruning = rest.parse().ok(),
            't' => {
                peer.tcp_port = if rest.is_empty() {
                    Some(DEFAULT_TCP_PORT)
                } else {
                    rest.parse().ok()
                }
            }
            's' => {
                peer.ssl_port = if rest.is_empty() {
                    Some(DEFAULT_SSL_PORT)
                } else {
                    rest.parse().ok()
                }
            }
            _ => {}
        }
    }
    Some(peer)
}

fn port(v: Option<&Value>) -> Option<u16> {
    match v? {
        Value::Number(n) => n.as_u64().and_then(|p| u16::try_from(p).ok()),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn text(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str)
        .map(|s| truncate(s, MAX_SERVER_STRING))
}

/// Parses a `server.features` result; None when it is not an object.
pub fn parse_features(value: &Value) -> Option<Features> {
    let obj = value.as_object()?;
    let mut keys: Vec<String> = obj
        .keys()
        .take(MAX_FEATURE_KEYS)
        .map(|k| truncate(k, 64))
        .collect();
    keys.sort();
    let hosts = obj
        .get("hosts")
        .and_then(Value::as_object)
        .map(|h| {
            h.iter()
                .filter(|(name, _)| name.len() <= MAX_HOST_LEN)
                .take(MAX_FEATURE_HOSTS)
                .map(|(name, ports)| {
                    (
                        name.to_ascii_lowercase(),
                        HostPorts {
                            tcp_port: port(ports.get("tcp_port")),
                            ssl_port: port(ports.get("ssl_port")),
                        },
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    Some(Features {
        genesis_hash: text(obj.get("genesis_hash")),
        hosts,
        protocol_min: text(obj.get("protocol_min")),
        protocol_max: text(obj.get("protocol_max")),
        pruning: obj.get("pruning").and_then(Value::as_u64),
        server_version: text(obj.get("server_version")),
        hash_function: text(obj.get("hash_function")),
        keys,
    })
}

/// A host name as the scanner accepts it from a server: lower-case, no spaces or control
/// characters, not empty, bounded. Brackets around IPv6 literals are removed.
fn clean_host(host: &str) -> Option<String> {
    let host = host
        .trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    let ok = !host.is_empty()
        && host.len() <= MAX_HOST_LEN
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '_'));
    ok.then_some(host)
}

fn push(
    out: &mut Vec<(Endpoint, Provenance)>,
    host: &str,
    tcp: Option<u16>,
    ssl: Option<u16>,
    prov: &Provenance,
) {
    let Some(host) = clean_host(host) else { return };
    for (port, transport) in [(tcp, Transport::Tcp), (ssl, Transport::Tls)] {
        if let Some(port) = port.filter(|p| *p != 0) {
            out.push((
                Endpoint {
                    host: host.clone(),
                    port,
                    transport,
                },
                prov.clone(),
            ));
        }
    }
}

/// The endpoints a finished record advertises (peers and `features.hosts`), each with the
/// provenance to record; `depth` is the depth of the new endpoints.
pub fn leads(record: &EndpointRecord, depth: u32) -> Vec<(Endpoint, Provenance)> {
    let from = record.endpoint.key();
    let mut out = Vec::new();
    if let Some(peers) = record
        .metadata
        .peers
        .as_ref()
        .and_then(|a| a.result.as_ref())
    {
        let prov = Provenance::Peer {
            from: from.clone(),
            depth,
        };
        for p in peers {
            // The host name is how clients reach it; the IP column is the server's own view.
            let host = if p.host.is_empty() { &p.ip } else { &p.host };
            push(&mut out, host, p.tcp_port, p.ssl_port, &prov);
        }
    }
    if let Some(f) = record
        .metadata
        .features
        .as_ref()
        .and_then(|a| a.result.as_ref())
    {
        let prov = Provenance::FeaturesHosts { from, depth };
        for (host, ports) in &f.hosts {
            push(&mut out, host, ports.tcp_port, ports.ssl_port, &prov);
        }
    }
    out
}

/// Hosts named by `features.hosts` other than the endpoint's own (clearnet ↔ onion links).
pub fn linked_hosts(endpoint: &Endpoint, features: &Features) -> Vec<String> {
    features
        .hosts
        .keys()
        .filter(|h| **h != endpoint.host)
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn peer_feature_forms() {
        let v = json!([
            ["1.2.3.4", "host.example", ["v1.4", "s", "t50001", "p10000"]],
            ["5.6.7.8", "other.example", ["v1.4.2", "s50012"]],
            ["abc.onion", "abc.onion", ["t"]],
            ["bad"],
            [1, "x", []],
            ["1.1.1.1", "weird.example", ["q", "", "tNaN", "v"]]
        ]);
        let (peers, raw) = parse_peers(&v).unwrap();
        assert_eq!(raw.as_array().unwrap().len(), 6);
        assert_eq!(peers.len(), 4);
        let p = &peers[0];
        assert_eq!(
            (p.ip.as_str(), p.host.as_str()),
            ("1.2.3.4", "host.example")
        );
        assert_eq!(p.version.as_deref(), Some("1.4"));
        assert_eq!(p.ssl_port, Some(50002));
        assert_eq!(p.tcp_port, Some(50001));
        assert_eq!(p.pruning, Some(10000));
        assert_eq!(p.features, vec!["v1.4", "s", "t50001", "p10000"]);
        assert_eq!(peers[1].ssl_port, Some(50012));
        assert_eq!(peers[1].tcp_port, None);
        assert_eq!(peers[2].tcp_port, Some(50001));
        assert_eq!(peers[3].tcp_port, None);
        assert_eq!(peers[3].version, None);
        assert!(parse_peers(&json!({"a": 1})).is_none());
    }

    #[test]
    fn peer_lists_are_capped() {
        let many: Vec<Value> = (0..MAX_PEERS_PARSED + 500)
            .map(|i| json!([format!("127.0.0.{}", i % 250), "h", ["t"]]))
            .collect();
        let (peers, raw) = parse_peers(&Value::Array(many)).unwrap();
        assert_eq!(peers.len(), MAX_PEERS_PARSED);
        assert_eq!(raw.as_array().unwrap().len(), MAX_PEERS_PARSED);
    }

    #[test]
    fn features_parse_and_hosts() {
        let v = json!({
            "genesis_hash": "00ab", "hash_function": "sha256", "server_version": "ElectrumX 1.16.0",
            "protocol_min": "1.4", "protocol_max": "1.4.2", "pruning": null,
            "hosts": {"Example.org": {"tcp_port": 50001, "ssl_port": 50002}, "xyz.onion": {"tcp_port": "50001", "ssl_port": null}}
        });
        let f = parse_features(&v).unwrap();
        assert_eq!(f.hosts.len(), 2);
        assert_eq!(
            f.hosts["example.org"],
            HostPorts {
                tcp_port: Some(50001),
                ssl_port: Some(50002)
            }
        );
        assert_eq!(
            f.hosts["xyz.onion"],
            HostPorts {
                tcp_port: Some(50001),
                ssl_port: None
            }
        );
        assert_eq!(
            f.keys,
            vec![
                "genesis_hash",
                "hash_function",
                "hosts",
                "protocol_max",
                "protocol_min",
                "pruning",
                "server_version"
            ]
        );
        assert_eq!(f.pruning, None);
        assert!(parse_features(&json!([1])).is_none());
    }

    #[test]
    fn hostile_host_names_are_dropped() {
        assert_eq!(clean_host("Good.Example"), Some("good.example".into()));
        assert_eq!(clean_host("[::1]"), Some("::1".into()));
        assert_eq!(clean_host(""), None);
        assert_eq!(clean_host("a b"), None);
        assert_eq!(clean_host("evil\n.com"), None);
        assert_eq!(clean_host(&"a".repeat(300)), None);
    }
}
