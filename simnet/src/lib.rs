//! A simulated Electrum network on 127.0.0.0/8, with ground truth.
//!
//! [`Simnet::start`] binds N servers on distinct loopback addresses (`127.50.0.1`, …), each
//! with a TCP port, a TLS port or both, and answers the Electrum protocol the way one real
//! implementation does according to its public source (ElectrumX 1.16/1.19/2.0, Fulcrum,
//! electrs, esplora and mempool electrs, Electrum Personal Server — see [`Flavor`] and the
//! `dialect` modules for where each string and behavior comes from). A configurable share
//! is planted with honeypot-like behavior, a share with hostile behavior, and a share of
//! addresses is blackholed. Servers advertise each other in `server.peers.subscribe`, so a
//! crawl finds the servers left out of the seed list.
//!
//! Everything except key material is a pure function of the [`SimnetConfig`] (seed
//! included): [`Plan::generate`] decides, [`GroundTruth`] records it, and
//! [`GroundTruth::write`] saves `ground_truth.json` and a `servers.json` seed list;
//! [`GroundTruth::score`] scores a scan and its analysis against it ([`Scorecard`]).
//!
//! Main types: [`SimnetConfig`], [`Simnet`], [`SimnetHandle`], [`GroundTruth`],
//! [`EndpointTruth`], [`Role`], [`Flavor`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), observatory_simnet::SimnetError> {
//! use observatory_simnet::{Simnet, SimnetConfig};
//! let net = Simnet::start(SimnetConfig { servers: 20, seed: 7, ..SimnetConfig::default() }).await?;
//! net.ground_truth().write(std::path::Path::new("/tmp/simnet"))?;
//! for e in net.ground_truth().reachable().take(3) {
//!     println!("{}:{} {:?} {:?}", e.address, e.port, e.transport, e.implementation);
//! }
//! net.shutdown().await;
//! # Ok(()) }
//! ```

mod chain;
mod config;
mod dialect;
mod flavor;
mod honeypot;
mod hostile;
mod json;
mod net;
mod plan;
mod score;
mod session;
mod standin;
mod tls;
mod truth;
mod x509v1;

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use thiserror::Error;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

pub use chain::{Chain, CHAIN_WINDOW, GENESIS_HASH};
pub use config::{HostileKind, SimnetConfig, DEFAULT_BASE, MAX_SERVERS};
pub use flavor::Flavor;
pub use honeypot::{
    HISTORY_BASE_MS, HISTORY_LIMIT, HISTORY_MAX_MS, HISTORY_STEP_MS, HISTORY_WINDOW, THROTTLE_CODE,
    THROTTLE_MESSAGE,
};
pub use hostile::{DEEP_JSON_DEPTH, FLOOD_PER_REQUEST};
pub use plan::{
    address_for, Behavior, CertGroup, Latency, Plan, Role, ServerPlan, HONEYPOT_BANNER,
    TEST_VECTOR_ADDRESS,
};
pub use score::{HoneypotRanking, Miss, Outcome, Ranked, Scorecard, DEADLINE_GRACE};
pub use session::{MAX_REQUEST_BYTES, MAX_REQUEST_LINE};
pub use standin::{stand_in, IP_ALIASES_FILE};
pub use truth::{
    EndpointTruth, GroundTruth, GROUND_TRUTH_FILE, GROUND_TRUTH_VERSION, SERVERS_FILE,
};

use dialect::{PeerAd, ServerCtx};
use net::{ListenerSettings, Service};

/// Number of peers the huge-peers hostile kind advertises.
pub const HUGE_PEER_COUNT: usize = 100_000;

/// `subversion` of the Bitcoin Core node behind the simulated servers.
const NODE_SUBVERSION: &str = "/Satoshi:28.1.0/";

/// File descriptors the simnet asks for: every endpoint needs one or two, every client
/// connection one, and a benchmark runs the scanner in the same process.
const WANTED_NOFILE: u64 = 1 << 20;

/// What can go wrong starting a simnet.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SimnetError {
    /// The configuration is inconsistent.
    #[error("invalid simnet configuration: {0}")]
    Config(String),
    /// A socket could not be bound (address in use, out of file descriptors, …).
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// A certificate or TLS configuration could not be made.
    #[error("TLS setup failed: {0}")]
    Tls(String),
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Serializing the ground truth failed.
    #[error("JSON: {0}")]
    Json(serde_json::Error),
}

impl SimnetError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> SimnetError {
        SimnetError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Starts simulated networks.
#[derive(Debug)]
pub struct Simnet;

/// A running simulated network. Dropping it stops every server and session.
#[derive(Debug)]
pub struct SimnetHandle {
    truth: GroundTruth,
    plan: Plan,
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
    /// Blackholed listeners and the connections that keep their queues full.
    _blackholes: Vec<(TcpListener, TcpStream)>,
}

/// Raises the soft limit of open files to the hard limit (or [`WANTED_NOFILE`]), returning
/// the new soft limit. A simnet of thousands of endpoints needs thousands of sockets.
pub fn raise_fd_limit() -> std::io::Result<u64> {
    rlimit::increase_nofile_limit(WANTED_NOFILE)
}

impl Simnet {
    /// Binds every server of the configured network and starts serving. Must run inside a
    /// tokio runtime (the servers are tasks of it).
    pub async fn start(config: SimnetConfig) -> Result<SimnetHandle, SimnetError> {
        config.validate()?;
        if let Err(e) = raise_fd_limit() {
            tracing::warn!("could not raise the open-file limit: {e}");
        }
        let plan = Plan::generate(&config);
        let truth = GroundTruth::from_plan(&config, &plan);
        let chain = Arc::new(Chain::new(config.tip_height, config.seed));
        // Certificates first, off the async threads: RSA key generation takes a while.
        let acceptors = {
            let plan = plan.clone();
            tokio::task::spawn_blocking(move || tls::acceptors(&tls::CertStore::new()?, &plan))
                .await
                .map_err(|e| SimnetError::Tls(format!("certificate generation failed: {e}")))??
        };
        let (stop, stop_rx) = watch::channel(false);
        let settings = ListenerSettings {
            idle: config.idle_timeout,
            giant_json_bytes: config.giant_json_bytes,
            seed: config.seed,
        };
        let huge_peers = Arc::new(huge_peer_list());
        let mut tasks = JoinSet::new();
        let mut blackholes = Vec::new();

        for server in &plan.servers {
            let ports = [(server.tcp_port, false), (server.tls_port, true)];
            if server.role == Role::Blackholed {
                for port in ports.iter().filter_map(|(p, _)| *p) {
                    blackholes.push(net::blackhole(sock(server.ip, port)).await?);
                }
                continue;
            }
            let service = Arc::new(service_for(server, &plan, &chain, &huge_peers));
            let acceptor: Option<TlsAcceptor> = acceptors.get(server.index).cloned().flatten();
            for (port, is_tls) in ports {
                let Some(port) = port else { continue };
                let listener = net::bind_serving(sock(server.ip, port))?;
                let tls = if is_tls { acceptor.clone() } else { None };
                let mut s = settings.clone();
                s.seed ^= (server.index as u64) << 24 | u64::from(is_tls);
                tasks.spawn(net::accept_loop(
                    listener,
                    service.clone(),
                    tls,
                    s,
                    stop_rx.clone(),
                ));
            }
        }
        tracing::info!(
            servers = plan.servers.len(),
            endpoints = truth.endpoints.len(),
            "simnet listening on {}..",
            config.base
        );
        Ok(SimnetHandle {
            truth,
            plan,
            stop,
            tasks,
            _blackholes: blackholes,
        })
    }
}

fn sock(ip: Ipv4Addr, port: u16) -> SocketAddr {
    SocketAddr::V4(SocketAddrV4::new(ip, port))
}

/// What a (non-blackholed) server's sockets serve.
fn service_for(
    server: &ServerPlan,
    plan: &Plan,
    chain: &Arc<Chain>,
    huge_peers: &Arc<Vec<PeerAd>>,
) -> Service {
    let hostile_electrumx = |peers: Arc<Vec<PeerAd>>| {
        let flavor = Flavor::Electrumx116;
        let srv = ServerCtx {
            plan: server.clone(),
            flavor,
            chain: chain.clone(),
            peers,
            node_subversion: NODE_SUBVERSION,
        };
        Service::Electrum {
            srv: Arc::new(srv),
            dialect: dialect::for_flavor(flavor),
            one_at_a_time: false,
        }
    };
    match (server.behavior, server.flavor) {
        (Behavior::Hostile(HostileKind::HugePeers), _) => hostile_electrumx(huge_peers.clone()),
        (Behavior::Hostile(HostileKind::PrivatePeers), _) => {
            hostile_electrumx(Arc::new(private_peer_list()))
        }
        (Behavior::Hostile(kind), _) => Service::Hostile(kind),
        // The plan gives every non-hostile, non-blackholed server a flavor; be silent otherwise.
        (_, None) => Service::Hostile(HostileKind::NeverAnswers),
        (_, Some(flavor)) => {
            let peers = Arc::new(peer_ads(server, plan));
            let srv = ServerCtx {
                plan: server.clone(),
                flavor,
                chain: chain.clone(),
                peers,
                node_subversion: NODE_SUBVERSION,
            };
            let inner = dialect::for_flavor(flavor);
            let dialect: Arc<dyn dialect::Dialect> = if server.role == Role::Honeypot {
                Arc::new(honeypot::Honeypot::new(inner))
            } else {
                inner
            };
            Service::Electrum {
                srv: Arc::new(srv),
                dialect,
                one_at_a_time: flavor == Flavor::ElectrumPersonalServer,
            }
        }
    }
}

/// The peers a server advertises, with the features each peer would announce.
fn peer_ads(server: &ServerPlan, plan: &Plan) -> Vec<PeerAd> {
    server
        .peers
        .iter()
        .filter_map(|&i| plan.servers.get(i))
        .map(|p| {
            let version = p.flavor.map(Flavor::protocol_max).unwrap_or("1.4.2");
            let mut features = vec![format!("v{version}")];
            if let Some(s) = p.tls_port {
                features.push(format!("s{s}"));
            }
            if let Some(t) = p.tcp_port {
                features.push(format!("t{t}"));
            }
            PeerAd {
                ip: p.ip.to_string(),
                host: p.ip.to_string(),
                features,
            }
        })
        .collect()
}

/// 100,000 peers on 127.250.0.0/15, where nothing listens (a crawl gets refused at once).
fn huge_peer_list() -> Vec<PeerAd> {
    (0..HUGE_PEER_COUNT)
        .map(|i| {
            let ip = address_for(Ipv4Addr::new(127, 250, 0, 0), i).to_string();
            PeerAd {
                ip: ip.clone(),
                host: ip,
                features: vec!["v1.4.2".into(), "s50002".into(), "t50001".into()],
            }
        })
        .collect()
}

/// Peers at private, link-local, CGNAT and unique-local addresses (advertised strings only).
fn private_peer_list() -> Vec<PeerAd> {
    [
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.20",
        "169.254.1.1",
        "100.64.0.1",
        "fd00::1",
        "fe80::1",
    ]
    .iter()
    .map(|ip| PeerAd {
        ip: ip.to_string(),
        host: ip.to_string(),
        features: vec!["v1.4.2".into(), "t50001".into()],
    })
    .collect()
}

impl SimnetHandle {
    /// What the network is.
    pub fn ground_truth(&self) -> &GroundTruth {
        &self.truth
    }

    /// The plan it was built from.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// Stops every server and waits for the listeners to end.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        while self.tasks.join_next().await.is_some() {}
    }
}

impl Drop for SimnetHandle {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        self.tasks.abort_all();
    }
}
