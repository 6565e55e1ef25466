//! The SOCKS5 path: against a real SOCKS5 server (microsocks, installed by
//! `scripts/setup/11-socks.sh`) started by the test on 127.0.0.1, and, for `.onion`
//! endpoints whose names only the proxy can resolve, against a small SOCKS5 server written
//! here ([`MiniSocks`]) that records what it was asked and maps onion names to loopback fakes.
//!
//! Both proxies make their outgoing connections from a source address of their own
//! ([`PROXY_SOURCE`], [`MINI_SOCKS_SOURCE`]), so a fake server can tell a proxied connection
//! from a direct one by its source address.

mod support;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use observatory_model::raw::{Status, Transport};
use observatory_scanner::targets::TargetSet;
use observatory_scanner::ScanConfig;
use support::electrumx::free_port;
use support::fake_servers::{certs, spawn_fake, Behavior, Fake};
use support::tools::missing_tool;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Source address of the proxy's outgoing connections (`microsocks -b`).
const PROXY_SOURCE: &str = "127.0.0.99";
/// The proxy stops by itself after this long (`timeout`), whatever happens to the test.
const PROXY_LIFETIME_SECS: u64 = 300;

/// A running microsocks, killed on drop.
struct Proxy {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        // SIGTERM to `timeout`, which forwards it to microsocks (SIGKILL would orphan it).
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_proxy() -> Option<Proxy> {
    if Command::new("microsocks")
        .arg("-h")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_err()
    {
        missing_tool("microsocks", "scripts/setup/11-socks.sh");
        return None;
    }
    let port = free_port();
    let child = Command::new("timeout")
        .args([
            PROXY_LIFETIME_SECS.to_string(),
            "microsocks".into(),
            "-i".into(),
            "127.0.0.1".into(),
        ])
        .args([
            "-p".to_string(),
            port.to_string(),
            "-b".into(),
            PROXY_SOURCE.into(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start microsocks");
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let started = Instant::now();
    while TcpStream::connect(addr).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "microsocks did not listen on {addr}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(Proxy { child, addr })
}

fn config(targets: &[String], allow: &[&Fake], proxy: SocketAddr) -> ScanConfig {
    let mut set = TargetSet::default();
    for t in targets {
        set.add_target(t).expect("target");
    }
    let mut config = ScanConfig::new(set.into_vec(), "test-run".into());
    config.allow_ips = allow.iter().map(|f| f.addr.ip()).collect();
    config.endpoint_timeout = Duration::from_secs(5);
    config.connect_timeout = Duration::from_secs(2);
    config.probes = false;
    config.socks5 = Some(proxy);
    config.socks_all = true;
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoints_through_a_real_socks5_proxy() {
    let Some(proxy) = start_proxy() else { return };
    let good = spawn_fake("127.0.0.90", Behavior::good(), None).await;
    let closed = spawn_fake("127.0.0.91", Behavior::Refuse, None).await;
    let denied = spawn_fake("127.0.0.92", Behavior::good(), None).await;
    let targets = [
        good.target(false),
        closed.target(false),
        denied.target(false),
    ];
    // 127.0.0.92 is not allowed: the policy applies before the proxy is asked.
    let records = support::run(config(&targets, &[&good, &closed], proxy.addr)).await;
    let status = |f: &Fake| {
        records
            .iter()
            .find(|r| r.endpoint.key() == f.target(false))
            .map(|r| (r.status, r.error.clone()))
    };
    assert_eq!(
        status(&good).map(|s| s.0),
        Some(Status::Success),
        "{:?}",
        status(&good)
    );
    let source: IpAddr = PROXY_SOURCE.parse().unwrap();
    assert_eq!(
        good.sources()
            .iter()
            .map(SocketAddr::ip)
            .collect::<Vec<_>>(),
        vec![source],
        "connected through the proxy"
    );
    assert_eq!(
        status(&closed).map(|s| s.0),
        Some(Status::ConnectionRefused),
        "{:?}",
        status(&closed)
    );
    assert_eq!(status(&denied).map(|s| s.0), Some(Status::RefusedByPolicy));
    assert_eq!(denied.accepted(), 0);

    // An onion without a proxy is skipped, not failed.
    let mut cfg = config(
        &["abcdefghijklmnop.onion:50001:t".to_string()],
        &[],
        proxy.addr,
    );
    cfg.socks5 = None;
    cfg.socks_all = false;
    let records = support::run(cfg).await;
    assert_eq!(records[0].status, Status::Skipped);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_proxy_is_unreachable_and_never_bypassed() {
    let good = spawn_fake("127.0.0.93", Behavior::good(), None).await;
    let dead: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let records = support::run(config(&[good.target(false)], &[&good], dead)).await;
    assert_eq!(
        records[0].status,
        Status::Unreachable,
        "{:?}",
        records[0].error
    );
    assert!(
        records[0].error.as_deref().unwrap_or("").contains("Proxy"),
        "{:?}",
        records[0].error
    );
    assert_eq!(
        good.accepted(),
        0,
        "no direct connection when the proxy is down"
    );
}

/// A syntactically valid v3 onion name (base32 of key, checksum and version byte, as Tor's
/// rend-spec-v3 §6 defines it) made from the Ed25519 public key of RFC 8032's TEST 1. No such
/// service is expected to exist; only the test proxy knows where it "is".
const ONION: &str = "25njqamcweflpvkl73j4szahhihoc4xt3ktcgjnpaingr5yhkenl5sid.onion";
/// Another valid v3 onion name (RFC 8032 TEST 2's public key) that the test proxy cannot reach.
const UNKNOWN_ONION: &str = "hvabpq7iioevvevxbktu2g36xsojqlgpf3cjndgazvk7ckxumygcmyyd.onion";
/// Source address of the test proxy's outgoing connections.
const MINI_SOCKS_SOURCE: &str = "127.0.0.98";
/// Longest one proxied connection may live (the test proxy is as bounded as the fakes).
const MINI_SOCKS_SESSION: Duration = Duration::from_secs(30);
/// SOCKS5 address types (RFC 1928 §5).
const ATYP_IPV4: u8 = 1;
const ATYP_DOMAIN: u8 = 3;
const ATYP_IPV6: u8 = 4;

/// One CONNECT request as the test proxy received it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Asked {
    /// Address type: [`ATYP_IPV4`], [`ATYP_DOMAIN`] or [`ATYP_IPV6`].
    atyp: u8,
    /// The name or address literal, as sent.
    host: String,
    /// Destination port.
    port: u16,
}

/// A minimal SOCKS5 server (no authentication, CONNECT only) on 127.0.0.1 that resolves
/// names from its own table, like Tor resolving an onion, and records every request.
struct MiniSocks {
    addr: SocketAddr,
    asked: Arc<Mutex<Vec<Asked>>>,
}

impl MiniSocks {
    async fn start(routes: HashMap<(String, u16), SocketAddr>) -> MiniSocks {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind proxy");
        let addr = listener.local_addr().expect("proxy addr");
        let asked = Arc::new(Mutex::new(Vec::new()));
        let (log, routes) = (asked.clone(), Arc::new(routes));
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (log, routes) = (log.clone(), routes.clone());
                tokio::spawn(async move {
                    let _ = tokio::time::timeout(
                        MINI_SOCKS_SESSION,
                        socks_session(client, &routes, &log),
                    )
                    .await;
                });
            }
        });
        MiniSocks { addr, asked }
    }

    fn asked(&self) -> Vec<Asked> {
        self.asked.lock().map(|a| a.clone()).unwrap_or_default()
    }
}

/// Serves one client: greeting, CONNECT request, reply, then relays bytes both ways.
async fn socks_session(
    mut client: tokio::net::TcpStream,
    routes: &HashMap<(String, u16), SocketAddr>,
    log: &Mutex<Vec<Asked>>,
) -> std::io::Result<()> {
    let mut head = [0u8; 2];
    client.read_exact(&mut head).await?;
    let mut methods = vec![0u8; usize::from(head[1])];
    client.read_exact(&mut methods).await?;
    if head[0] != 5 || !methods.contains(&0) {
        return client.write_all(&[5, 0xff]).await;
    }
    client.write_all(&[5, 0]).await?;
    let mut request = [0u8; 4];
    client.read_exact(&mut request).await?;
    let host = match request[3] {
        ATYP_IPV4 => {
            let mut a = [0u8; 4];
            client.read_exact(&mut a).await?;
            Ipv4Addr::from(a).to_string()
        }
        ATYP_DOMAIN => {
            let len = client.read_u8().await?;
            let mut name = vec![0u8; usize::from(len)];
            client.read_exact(&mut name).await?;
            String::from_utf8_lossy(&name).into_owned()
        }
        ATYP_IPV6 => {
            let mut a = [0u8; 16];
            client.read_exact(&mut a).await?;
            Ipv6Addr::from(a).to_string()
        }
        _ => return client.write_all(&[5, 8, 0, 1, 0, 0, 0, 0, 0, 0]).await,
    };
    let port = client.read_u16().await?;
    if let Ok(mut log) = log.lock() {
        log.push(Asked {
            atyp: request[3],
            host: host.clone(),
            port,
        });
    }
    // Only CONNECT, only to names in the table (reply 4: host unreachable, as Tor says).
    let Some(target) = routes.get(&(host, port)).filter(|_| request[1] == 1) else {
        return client.write_all(&[5, 4, 0, 1, 0, 0, 0, 0, 0, 0]).await;
    };
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(
        MINI_SOCKS_SOURCE.parse().expect("source"),
        0,
    ))?;
    let mut upstream = match socket.connect(*target).await {
        Ok(s) => s,
        Err(_) => return client.write_all(&[5, 5, 0, 1, 0, 0, 0, 0, 0, 0]).await,
    };
    let bound = upstream.local_addr()?;
    let IpAddr::V4(ip) = bound.ip() else {
        unreachable!("bound to an IPv4 source")
    };
    let mut reply = vec![5, 0, 0, ATYP_IPV4];
    reply.extend_from_slice(&ip.octets());
    reply.extend_from_slice(&bound.port().to_be_bytes());
    client.write_all(&reply).await?;
    tokio::io::copy_bidirectional(&mut client, &mut upstream)
        .await
        .map(drop)
}

/// `.onion` endpoints (TCP and TLS on one onion name) go to the proxy as a domain name
/// (ATYP 3), unresolved: the scanner never looks the name up itself, the proxy reaches the
/// servers, and the endpoints are recorded as successes through it. An onion the proxy
/// cannot reach is recorded `unreachable`, without any direct connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn onions_reach_the_proxy_as_unresolved_names() {
    let tcp = spawn_fake("127.0.0.94", Behavior::good(), None).await;
    let tls = spawn_fake("127.0.0.95", Behavior::good(), Some(certs::valid())).await;
    let routes = HashMap::from([
        ((ONION.to_string(), 50001), tcp.addr),
        ((ONION.to_string(), 50002), tls.addr),
    ]);
    let proxy = MiniSocks::start(routes).await;
    let targets = [
        format!("{ONION}:50001:t"),
        format!("{ONION}:50002:s"),
        format!("{UNKNOWN_ONION}:50001:t"),
    ];
    let mut cfg = config(&targets, &[], proxy.addr);
    // The default: only onions go through the proxy, and no address is allowed at all.
    cfg.socks_all = false;
    let records = support::run(cfg).await;
    assert_eq!(records.len(), 3);

    let asked = proxy.asked();
    assert!(
        asked.iter().all(|a| a.atyp == ATYP_DOMAIN),
        "every request names a domain: {asked:?}"
    );
    for (host, port) in [(ONION, 50001), (ONION, 50002), (UNKNOWN_ONION, 50001)] {
        assert!(
            asked.contains(&Asked {
                atyp: ATYP_DOMAIN,
                host: host.into(),
                port
            }),
            "{host}:{port} not asked: {asked:?}"
        );
    }

    let source: IpAddr = MINI_SOCKS_SOURCE.parse().unwrap();
    for fake in [&tcp, &tls] {
        let sources = fake.sources();
        assert!(
            !sources.is_empty() && sources.iter().all(|s| s.ip() == source),
            "only the proxy connected: {sources:?}"
        );
    }
    for r in &records {
        let key = r.endpoint.key();
        // Never resolved locally: no DNS time, no resolved address, no address chosen.
        assert!(
            r.resolved_ips.is_empty() && r.timing.dns_ms.is_none() && r.ip.is_none(),
            "{key}: {r:?}"
        );
        if r.endpoint.host == UNKNOWN_ONION {
            assert_eq!(r.status, Status::Unreachable, "{key}: {:?}", r.error);
            continue;
        }
        assert_eq!(r.status, Status::Success, "{key}: {:?}", r.error);
        let version = r
            .metadata
            .version
            .as_ref()
            .and_then(|a| a.result.as_ref())
            .map(|v| v.software.as_str());
        assert_eq!(version, Some("TinyFake 0.1"), "{key}");
        assert!(r.timing.connect_ms.is_some(), "{key}");
        if r.endpoint.transport == Transport::Tls {
            let t = r.tls.as_ref().expect("TLS observed");
            assert_eq!(
                t.sni.as_deref(),
                Some(ONION),
                "the onion name is the TLS name"
            );
            assert!(t.handshake_signature_valid && t.chain.len() == 1, "{t:?}");
        }
    }
}
