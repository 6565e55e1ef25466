//! The SOCKS5 path against a real SOCKS5 server (microsocks, installed by
//! `scripts/setup/11-socks.sh`) started by the test on 127.0.0.1.
//!
//! microsocks binds its outgoing connections to [`PROXY_SOURCE`], so the fake server can
//! tell a proxied connection from a direct one by its source address.

mod support;

use std::net::{IpAddr, SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use observatory_model::raw::Status;
use observatory_scanner::targets::TargetSet;
use observatory_scanner::ScanConfig;
use support::electrumx::{free_port, tools_required};
use support::fake_servers::{spawn_fake, Behavior, Fake};

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
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_proxy() -> Option<Proxy> {
    if Command::new("microsocks").arg("-h").stdout(Stdio::null()).stderr(Stdio::null()).status().is_err() {
        assert!(!tools_required(), "microsocks is missing and OBSERVATORY_REQUIRE_TOOLS=1 (run scripts/setup/11-socks.sh)");
        eprintln!("SKIPPED: microsocks is missing (run scripts/setup/11-socks.sh)");
        return None;
    }
    let port = free_port();
    let child = Command::new("timeout")
        .args([PROXY_LIFETIME_SECS.to_string(), "microsocks".into(), "-i".into(), "127.0.0.1".into()])
        .args(["-p".to_string(), port.to_string(), "-b".into(), PROXY_SOURCE.into()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start microsocks");
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let started = Instant::now();
    while TcpStream::connect(addr).is_err() {
        assert!(started.elapsed() < Duration::from_secs(10), "microsocks did not listen on {addr}");
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
    let targets = [good.target(false), closed.target(false), denied.target(false)];
    // 127.0.0.92 is not allowed: the policy applies before the proxy is asked.
    let records = support::run(config(&targets, &[&good, &closed], proxy.addr)).await;
    let status = |f: &Fake| records.iter().find(|r| r.endpoint.key() == f.target(false)).map(|r| (r.status, r.error.clone()));
    assert_eq!(status(&good).map(|s| s.0), Some(Status::Success), "{:?}", status(&good));
    let source: IpAddr = PROXY_SOURCE.parse().unwrap();
    assert_eq!(good.sources().iter().map(SocketAddr::ip).collect::<Vec<_>>(), vec![source], "connected through the proxy");
    assert_eq!(status(&closed).map(|s| s.0), Some(Status::ConnectionRefused), "{:?}", status(&closed));
    assert_eq!(status(&denied).map(|s| s.0), Some(Status::RefusedByPolicy));
    assert_eq!(denied.accepted(), 0);

    // An onion without a proxy is skipped, not failed.
    let mut cfg = config(&["abcdefghijklmnop.onion:50001:t".to_string()], &[], proxy.addr);
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
    assert_eq!(records[0].status, Status::Unreachable, "{:?}", records[0].error);
    assert!(records[0].error.as_deref().unwrap_or("").contains("Proxy"), "{:?}", records[0].error);
    assert_eq!(good.accepted(), 0, "no direct connection when the proxy is down");
}
