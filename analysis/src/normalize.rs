//! Normalization: dedupe endpoints across rounds and runs, then group them into servers.
//!
//! * An endpoint is one `(host, port, transport)` ([`Endpoint::key`]); every record of it
//!   (one per round) is kept in round order, so uptime and history can be computed.
//! * Servers are the connected components (union-find) of "same host", "same IP"
//!   (the connected address or any resolved address) and "linked by `server.features`
//!   `hosts`". The `hosts` map is server-supplied, so a link is accepted only when it
//!   is mutual, or when the other host never answered (so nothing contradicts it), and
//!   at most [`MAX_LINKED_HOSTS`] links are taken from one endpoint: otherwise a hostile
//!   server could swallow others by naming them.
//! * Each server gets a stable URL id derived from its primary host name.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use observatory_model::raw::{Endpoint, EndpointRecord};
use sha2::{Digest, Sha256};

use crate::load::LoadedData;

/// At most this many `features.hosts` entries of one endpoint are used as links
/// (ElectrumX and Fulcrum list one or two: a clearnet name and an onion).
pub const MAX_LINKED_HOSTS: usize = 8;

/// Longest server id (URL path segment).
pub const MAX_ID_LEN: usize = 64;

/// One scan round: `(run index in load order, round number)`.
pub type RoundKey = (usize, u32);

/// All observations of one endpoint.
#[derive(Debug, Clone)]
pub struct EndpointHistory<'a> {
    /// The endpoint.
    pub endpoint: Endpoint,
    /// Records in round order (oldest first), with their round.
    pub records: Vec<(RoundKey, &'a EndpointRecord)>,
}

impl<'a> EndpointHistory<'a> {
    /// The record of the newest round.
    pub fn latest(&self) -> Option<&'a EndpointRecord> {
        self.records.last().map(|(_, r)| *r)
    }

    /// The newest record that spoke Electrum.
    pub fn latest_reachable(&self) -> Option<&'a EndpointRecord> {
        self.records
            .iter()
            .rev()
            .map(|(_, r)| *r)
            .find(|r| r.status.is_reachable())
    }
}

/// One server: a group of endpoints.
#[derive(Debug, Clone)]
pub struct ServerGroup<'a> {
    /// Stable id for URLs.
    pub id: String,
    /// Primary host.
    pub host: String,
    /// All hosts, sorted.
    pub hosts: Vec<String>,
    /// All IPs seen (connected or resolved), sorted.
    pub ips: Vec<String>,
    /// Endpoints, sorted by key.
    pub endpoints: Vec<EndpointHistory<'a>>,
}

impl ServerGroup<'_> {
    /// True when every host is an onion.
    pub fn onion(&self) -> bool {
        !self.hosts.is_empty() && self.hosts.iter().all(|h| h.ends_with(".onion"))
    }
}

/// Output of normalization.
#[derive(Debug, Clone, Default)]
pub struct Normalized<'a> {
    /// Servers, sorted by id.
    pub servers: Vec<ServerGroup<'a>>,
    /// Every round seen, in order, with its start time (earliest record start).
    pub rounds: Vec<(RoundKey, u64)>,
    /// Run ids in load order (index = `RoundKey.0`).
    pub run_ids: Vec<String>,
}

/// Dedupes and groups every record of `data`.
pub fn normalize(data: &LoadedData) -> Normalized<'_> {
    let mut by_key: BTreeMap<String, EndpointHistory<'_>> = BTreeMap::new();
    let mut rounds: BTreeMap<RoundKey, u64> = BTreeMap::new();
    for (ri, run) in data.runs.iter().enumerate() {
        for r in &run.records {
            let rk = (ri, r.round);
            let start = rounds.entry(rk).or_insert(r.started_ms);
            *start = (*start).min(r.started_ms);
            by_key
                .entry(r.endpoint.key())
                .or_insert_with(|| EndpointHistory {
                    endpoint: r.endpoint.clone(),
                    records: Vec::new(),
                })
                .records
                .push((rk, r));
        }
    }
    for h in by_key.values_mut() {
        // Stable: a duplicate record in the same round keeps file order.
        h.records.sort_by_key(|(rk, r)| (*rk, r.started_ms));
    }
    let histories: Vec<EndpointHistory<'_>> = by_key.into_values().collect();
    let servers = group(histories);
    Normalized {
        servers,
        rounds: rounds.into_iter().collect(),
        run_ids: data.runs.iter().map(|r| r.run_id.clone()).collect(),
    }
}

struct UnionFind(Vec<usize>);

impl UnionFind {
    fn find(&mut self, mut x: usize) -> usize {
        while let Some(&p) = self.0.get(x) {
            if p == x {
                break;
            }
            let gp = self.0.get(p).copied().unwrap_or(p);
            if let Some(slot) = self.0.get_mut(x) {
                *slot = gp;
            }
            x = p;
        }
        x
    }
    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            if let Some(slot) = self.0.get_mut(hi) {
                *slot = lo;
            }
        }
    }
}

/// Hosts an endpoint's records name in `linked_hosts` / `features.hosts`, lower-cased, capped.
fn claimed_hosts(h: &EndpointHistory<'_>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (_, r) in &h.records {
        let feats = r.metadata.features.as_ref().and_then(|a| a.result.as_ref());
        let names = r
            .linked_hosts
            .iter()
            .chain(feats.into_iter().flat_map(|f| f.hosts.keys()));
        for n in names {
            if out.len() >= MAX_LINKED_HOSTS {
                return out;
            }
            out.insert(n.to_ascii_lowercase());
        }
    }
    out
}

fn ips_of(h: &EndpointHistory<'_>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (_, r) in &h.records {
        out.extend(r.ip.iter().cloned());
        out.extend(r.resolved_ips.iter().cloned());
    }
    if h.endpoint.host.parse::<std::net::IpAddr>().is_ok() {
        out.insert(h.endpoint.host.clone());
    }
    out
}

fn group<'a>(histories: Vec<EndpointHistory<'a>>) -> Vec<ServerGroup<'a>> {
    let n = histories.len();
    let mut uf = UnionFind((0..n).collect());
    let mut first_by_host: HashMap<&str, usize> = HashMap::new();
    let mut first_by_ip: HashMap<String, usize> = HashMap::new();
    let ips: Vec<BTreeSet<String>> = histories.iter().map(ips_of).collect();
    for (i, h) in histories.iter().enumerate() {
        match first_by_host.get(h.endpoint.host.as_str()) {
            Some(&j) => uf.union(i, j),
            None => {
                first_by_host.insert(h.endpoint.host.as_str(), i);
            }
        }
        for ip in ips.get(i).into_iter().flatten() {
            match first_by_ip.get(ip) {
                Some(&j) => uf.union(i, j),
                None => {
                    first_by_ip.insert(ip.clone(), i);
                }
            }
        }
    }
    // features.hosts links, accepted when mutual or uncontradicted.
    let claims: Vec<BTreeSet<String>> = histories.iter().map(claimed_hosts).collect();
    let mut claims_by_host: HashMap<&str, BTreeSet<String>> = HashMap::new();
    let mut answered: BTreeSet<&str> = BTreeSet::new();
    for (i, h) in histories.iter().enumerate() {
        let host = h.endpoint.host.as_str();
        claims_by_host
            .entry(host)
            .or_default()
            .extend(claims.get(i).into_iter().flatten().cloned());
        if h.records.iter().any(|(_, r)| {
            r.metadata
                .features
                .as_ref()
                .is_some_and(|f| f.result.is_some())
        }) {
            answered.insert(host);
        }
    }
    for (i, h) in histories.iter().enumerate() {
        let me = h.endpoint.host.as_str();
        for other in claims.get(i).into_iter().flatten() {
            if other == me {
                continue;
            }
            let Some(&j) = first_by_host.get(other.as_str()) else {
                continue;
            };
            let mutual = claims_by_host
                .get(other.as_str())
                .is_some_and(|c| c.contains(me));
            if mutual || !answered.contains(other.as_str()) {
                uf.union(i, j);
            }
        }
    }
    let mut groups: BTreeMap<usize, Vec<(EndpointHistory<'a>, BTreeSet<String>)>> = BTreeMap::new();
    for (i, (h, ipset)) in histories.into_iter().zip(ips).enumerate() {
        groups.entry(uf.find(i)).or_default().push((h, ipset));
    }
    let mut out: Vec<ServerGroup<'a>> = groups
        .into_values()
        .map(|members| {
            let hosts: BTreeSet<String> = members
                .iter()
                .map(|(h, _)| h.endpoint.host.clone())
                .collect();
            let ips: BTreeSet<String> = members
                .iter()
                .flat_map(|(_, s)| s.iter().cloned())
                .collect();
            let hosts: Vec<String> = hosts.into_iter().collect();
            let host = primary_host(&hosts);
            ServerGroup {
                id: String::new(),
                host,
                hosts,
                ips: ips.into_iter().collect(),
                endpoints: members.into_iter().map(|(h, _)| h).collect(),
            }
        })
        .collect();
    assign_ids(&mut out);
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

/// The host a server is named by: a DNS name before an IP literal before an onion.
pub fn primary_host(hosts: &[String]) -> String {
    let rank = |h: &String| {
        if h.ends_with(".onion") {
            2
        } else if h.parse::<std::net::IpAddr>().is_ok() {
            1
        } else {
            0
        }
    };
    hosts
        .iter()
        .min_by_key(|h| (rank(h), h.len(), (*h).clone()))
        .cloned()
        .unwrap_or_default()
}

/// `[a-z0-9.-]` form of a host, bounded.
pub fn slug(host: &str) -> String {
    let mut s: String = host
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .take(MAX_ID_LEN)
        .collect();
    while s.starts_with(['.', '-']) {
        s.remove(0);
    }
    if s.is_empty() {
        s.push_str("server");
    }
    s
}

fn assign_ids(servers: &mut [ServerGroup<'_>]) {
    let mut count: HashMap<String, usize> = HashMap::new();
    for s in servers.iter() {
        *count.entry(slug(&s.host)).or_default() += 1;
    }
    for s in servers.iter_mut() {
        let base = slug(&s.host);
        s.id = if count.get(&base).copied().unwrap_or(0) > 1 {
            // Same slug for different groups (e.g. `a_b` and `a-b`): suffix a hash of the
            // whole host list, which is stable across runs.
            let digest = Sha256::digest(s.hosts.join("\n").as_bytes());
            format!(
                "{base}-{}",
                hex::encode(digest.get(..3).unwrap_or_default())
            )
        } else {
            base
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::RunData;
    use observatory_model::raw::{Answer, Features, Status, Transport};

    fn rec(host: &str, port: u16, t: Transport, ip: Option<&str>, round: u32) -> EndpointRecord {
        let mut r = EndpointRecord::new(
            "run",
            round,
            "local",
            Endpoint {
                host: host.into(),
                port,
                transport: t,
            },
            1000 + u64::from(round),
        );
        r.ip = ip.map(String::from);
        r.status = Status::Success;
        r
    }

    fn with_hosts(mut r: EndpointRecord, hosts: &[&str]) -> EndpointRecord {
        let mut f = Features::default();
        for h in hosts {
            f.hosts.insert((*h).into(), Default::default());
        }
        r.metadata.features = Some(Answer {
            at_ms: 0,
            rtt_ms: 1.0,
            result: Some(f),
            error: None,
        });
        r
    }

    #[test]
    fn groups_by_host_ip_and_mutual_links() {
        let recs = vec![
            rec("a.example", 50001, Transport::Tcp, Some("192.0.2.1"), 0),
            rec("a.example", 50002, Transport::Tls, Some("192.0.2.1"), 0),
            rec("a.example", 50001, Transport::Tcp, Some("192.0.2.1"), 1), // second round, same endpoint
            rec("b.example", 50002, Transport::Tls, Some("192.0.2.1"), 0), // same IP
            with_hosts(
                rec("c.example", 50002, Transport::Tls, Some("192.0.2.3"), 0),
                &["cccc.onion", "victim.example"],
            ),
            with_hosts(
                rec("cccc.onion", 50001, Transport::Tcp, None, 0),
                &["c.example"],
            ),
            with_hosts(
                rec(
                    "victim.example",
                    50002,
                    Transport::Tls,
                    Some("192.0.2.9"),
                    0,
                ),
                &["victim.example"],
            ),
        ];
        let data = LoadedData::from_runs(vec![RunData {
            run_id: "run".into(),
            manifest: None,
            records: recs,
        }]);
        let n = normalize(&data);
        let ids: Vec<&str> = n.servers.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, vec!["a.example", "c.example", "victim.example"]);
        let a = &n.servers[0];
        assert_eq!(a.hosts, vec!["a.example", "b.example"]);
        assert_eq!(a.endpoints.len(), 3);
        assert_eq!(a.endpoints[0].records.len(), 2);
        assert_eq!(n.servers[1].hosts, vec!["c.example", "cccc.onion"]);
        assert_eq!(n.rounds.len(), 2);
    }

    #[test]
    fn slug_and_primary_host() {
        assert_eq!(slug("Ex_AMPLE.org"), "ex-ample.org");
        assert_eq!(slug("..."), "server");
        assert_eq!(slug(&"x".repeat(200)).len(), MAX_ID_LEN);
        let hosts = vec![
            "abc.onion".to_string(),
            "192.0.2.1".to_string(),
            "z.example".to_string(),
        ];
        assert_eq!(primary_host(&hosts), "z.example");
    }

    #[test]
    fn empty_input() {
        let empty = LoadedData::default();
        let n = normalize(&empty);
        assert!(n.servers.is_empty() && n.rounds.is_empty());
    }
}
