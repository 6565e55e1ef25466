//! Scanning one endpoint, start to finish, into one [`EndpointRecord`].
//!
//! Order of work: resolve (A and AAAA, under a deadline) → address policy on every
//! resolved address → wait for the per-IP lock → connect (direct or SOCKS5) → TLS →
//! `server.version` → metadata (pipelined) → main-session probes → close → side-connection
//! probes (one connection at a time) → implementation inference. Each
//! step records what it saw; the first failure ends the attempt and is classified by
//! [`status::classify`](crate::status::classify). Nothing here can outlive the
//! endpoint deadline: every await is bounded by it, and [`scan_endpoint`] adds a hard stop.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use observatory_model::raw::{Endpoint, EndpointRecord, Provenance};
use observatory_protocol::frame::{ByteTally, Limits};
use observatory_protocol::message::truncate;
use tokio::time::{timeout, Instant};

use crate::dial::{Dialer, Route};
use crate::discovery::linked_hosts;
use crate::exclude::ExcludeList;
use crate::limits::{DNS_TIMEOUT, REQUEST_BUDGET};
use crate::locks::KeyedLocks;
use crate::metadata;
use crate::policy::Policy;
use crate::probes::{self, ProbeContext, ProbeLevel};
use crate::session::{now_ms, Budget, SessionParams};
use crate::status::{classify, Failure};
use crate::{inference, rpc::Rpc};

/// Extra time past the endpoint deadline before the hard stop (orderly paths end sooner).
const HARD_STOP_GRACE: Duration = Duration::from_secs(2);

/// Longest error text stored in a record.
const MAX_ERROR_TEXT: usize = 2_048;

/// Settings shared by every endpoint of a run.
#[derive(Debug)]
pub struct EndpointEnv {
    /// Run id stamped on records.
    pub run_id: String,
    /// Vantage label stamped on records.
    pub vantage: String,
    /// Address-range policy.
    pub policy: Policy,
    /// The opt-out list: listed names are never resolved, listed addresses never dialled.
    pub exclude: ExcludeList,
    /// SOCKS5 proxy for `.onion` endpoints (and for all endpoints with `socks_all`).
    pub socks5: Option<SocketAddr>,
    /// Route every endpoint through the proxy, not only onions.
    pub socks_all: bool,
    /// Connect deadline.
    pub connect_timeout: Duration,
    /// Reply deadline.
    pub request_timeout: Duration,
    /// Whole-endpoint deadline.
    pub endpoint_timeout: Duration,
    /// Framing limits.
    pub limits: Limits,
    /// Run the behavioral probes after the metadata.
    pub probes: bool,
    /// Which probe cases run; [`ProbeLevel::Full`] only reaches endpoints dialled directly at
    /// an address the operator allowed and that is not public ([`Policy::operator_lab`]),
    /// every other endpoint gets [`ProbeLevel::Standard`].
    pub probe_level: ProbeLevel,
    /// One connection at a time per IP address.
    pub ip_locks: KeyedLocks,
}

/// One unit of work.
#[derive(Debug, Clone)]
pub struct Job {
    /// The endpoint.
    pub endpoint: Endpoint,
    /// Every source it was learned from.
    pub provenance: Vec<Provenance>,
    /// Round number.
    pub round: u32,
    /// Crawl depth (seeds and targets are 0).
    pub depth: u32,
}

/// Scans one endpoint. Never panics on server input and never takes much longer than
/// `env.endpoint_timeout` after the per-IP lock is acquired.
pub async fn scan_endpoint(job: Job, env: Arc<EndpointEnv>) -> EndpointRecord {
    let mut record = EndpointRecord::new(
        &env.run_id,
        job.round,
        &env.vantage,
        job.endpoint.clone(),
        now_ms(),
    );
    record.provenance = job.provenance;
    let result = attempt(&mut record, &env).await;
    record.status = classify(&result);
    record.error = result
        .err()
        .map(|e| truncate(&e.to_string(), MAX_ERROR_TEXT));
    record.finished_ms = now_ms();
    record
}

/// Resolves the host (or takes the literal) under [`DNS_TIMEOUT`].
async fn resolve(host: &str, port: u16) -> Result<Vec<IpAddr>, Failure> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![ip]);
    }
    let addrs = match timeout(DNS_TIMEOUT, tokio::net::lookup_host((host, port))).await {
        Err(_) => return Err(Failure::Dns("resolution timed out".into())),
        Ok(Err(e)) => return Err(Failure::Dns(e.to_string())),
        Ok(Ok(a)) => a,
    };
    let mut ips: Vec<IpAddr> = Vec::new();
    for a in addrs {
        if !ips.contains(&a.ip()) {
            ips.push(a.ip());
        }
    }
    if ips.is_empty() {
        return Err(Failure::Dns("no addresses".into()));
    }
    Ok(ips)
}

/// Picks the route: the first resolved address the policy accepts (the only one ever
/// dialled, so a rebinding resolver cannot swap in another), or the SOCKS5 proxy.
async fn route(record: &mut EndpointRecord, env: &EndpointEnv) -> Result<Route, Failure> {
    let ep = &record.endpoint;
    if let Some(entry) = env.exclude.host(&ep.host) {
        return Err(Failure::Policy(format!(
            "{} is on the opt-out list ({entry})",
            ep.host
        )));
    }
    if ep.is_onion() {
        return match env.socks5 {
            Some(proxy) => Ok(Route::Socks5 {
                proxy,
                host: ep.host.clone(),
                port: ep.port,
            }),
            None => Err(Failure::Skipped(
                "onion endpoint and no --socks5 proxy".into(),
            )),
        };
    }
    let t0 = Instant::now();
    let resolved = resolve(&ep.host, ep.port).await;
    if ep.host.parse::<IpAddr>().is_err() {
        record.timing.dns_ms = Some(t0.elapsed().as_secs_f64() * 1000.0);
    }
    let ips = resolved?;
    record.resolved_ips = ips.iter().map(IpAddr::to_string).collect();
    let mut refused = Vec::new();
    let mut chosen = None;
    for ip in &ips {
        if let Some(entry) = env.exclude.ip(*ip) {
            refused.push(format!("{ip} (opt-out list: {entry})"));
            continue;
        }
        match env.policy.check(*ip) {
            Ok(()) if chosen.is_none() => chosen = Some(*ip),
            Ok(()) => {}
            Err(range) => refused.push(format!("{ip} ({range:?})")),
        }
    }
    let Some(ip) = chosen else {
        return Err(Failure::Policy(refused.join(", ")));
    };
    record.ip = Some(ip.to_string());
    match (env.socks_all, env.socks5) {
        (true, Some(proxy)) => Ok(Route::Socks5 {
            proxy,
            host: ip.to_string(),
            port: ep.port,
        }),
        _ => Ok(Route::Direct(SocketAddr::new(ip, ep.port))),
    }
}

async fn attempt(record: &mut EndpointRecord, env: &EndpointEnv) -> Result<(), Failure> {
    let route = route(record, env).await?;
    let lock_key = match &route {
        Route::Direct(addr) => addr.ip().to_string(),
        Route::Socks5 { host, .. } => host.clone(),
    };
    let _ip_guard = env.ip_locks.lock(&lock_key).await;
    // The deadline starts once we may connect, so waiting for the IP lock costs nothing.
    let deadline = Instant::now() + env.endpoint_timeout;
    let dialer = Dialer {
        endpoint: record.endpoint.clone(),
        route,
        connect_timeout: env.connect_timeout,
        limits: env.limits,
        params: SessionParams {
            request_timeout: env.request_timeout,
            endpoint_deadline: deadline,
            budget: Budget::new(REQUEST_BUDGET),
            received: ByteTally::new(),
        },
    };
    match timeout(
        env.endpoint_timeout + HARD_STOP_GRACE,
        session(record, env, &dialer),
    )
    .await
    {
        Ok(r) => r,
        Err(_) => Err(Failure::Version {
            outcome: crate::rpc::CallOutcome::Timeout,
            closure: Some(crate::session::Closure::Deadline),
            bad_line: None,
        }),
    }
}

async fn session(
    record: &mut EndpointRecord,
    env: &EndpointEnv,
    dialer: &Dialer,
) -> Result<(), Failure> {
    let dialed = match dialer.dial().await {
        Ok(d) => d,
        Err(e) => {
            record.timing.connect_ms = e.connect_ms;
            record.tls = e.tls;
            return Err(e.failure);
        }
    };
    record.timing.connect_ms = Some(dialed.connect_ms);
    record.timing.tls_ms = dialed.tls_ms;
    record.tls = dialed.tls;
    let opened = Instant::now();
    let mut session = dialer.session(dialed.stream);
    let (version_answer, version) = metadata::negotiate(&mut session).await;
    record.metadata.version = version_answer;
    let result = match version {
        Ok(v) => {
            metadata::collect(&mut session, &v.protocol, &mut record.metadata).await;
            if let Some(f) = record
                .metadata
                .features
                .as_ref()
                .and_then(|a| a.result.as_ref())
            {
                record.linked_hosts = linked_hosts(&record.endpoint, f);
            }
            if env.probes && !session.is_closed() {
                let ctx = ProbeContext {
                    endpoint: record.endpoint.clone(),
                    protocol: Some(v.protocol.clone()),
                };
                // Closes the main session before any side connection is opened.
                record.probes =
                    probes::run_all_at(&mut session, dialer, &ctx, probe_level(env, &dialer.route))
                        .await;
            }
            Ok(())
        }
        Err(f) => Err(f),
    };
    session.close().await;
    let (requests, notifications, mut wire) = session.into_records();
    // Bytes over every connection of the visit (the byte cap's count), side connections apart.
    let total = dialer.bytes_received().max(wire.bytes_received);
    wire.side_bytes_received = total - wire.bytes_received;
    wire.bytes_received = total;
    record.requests = requests;
    record.notifications = notifications;
    record.wire = wire;
    record.timing.session_ms = Some(opened.elapsed().as_secs_f64() * 1000.0);
    if result.is_ok() {
        let (inference, behavior_hash) = inference::infer(record);
        record.inference = inference;
        record.behavior_hash = behavior_hash;
    }
    result
}

/// The probe level this endpoint gets: the full set only on a direct route to an address that
/// is the operator's own ([`Policy::operator_lab`]), whatever the run asked for.
fn probe_level(env: &EndpointEnv, route: &Route) -> ProbeLevel {
    match (env.probe_level, route) {
        (ProbeLevel::Full, Route::Direct(addr)) if env.policy.operator_lab(addr.ip()) => {
            ProbeLevel::Full
        }
        (ProbeLevel::Full, _) => {
            tracing::warn!(route = ?route, "full probe level refused for an endpoint that is not the operator's own");
            ProbeLevel::Standard
        }
        (level, _) => level,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use observatory_model::raw::Transport;

    fn env(policy: Policy) -> EndpointEnv {
        EndpointEnv {
            run_id: "run".into(),
            vantage: "test".into(),
            policy,
            exclude: ExcludeList::default(),
            socks5: None,
            socks_all: false,
            connect_timeout: Duration::from_secs(1),
            request_timeout: Duration::from_secs(1),
            endpoint_timeout: Duration::from_secs(1),
            limits: Limits::default(),
            probes: false,
            probe_level: ProbeLevel::Standard,
            ip_locks: KeyedLocks::default(),
        }
    }

    fn record(host: &str) -> EndpointRecord {
        let ep = Endpoint {
            host: host.into(),
            port: 50001,
            transport: Transport::Tcp,
        };
        EndpointRecord::new("run", 0, "test", ep, 0)
    }

    /// `route` decides before anything is dialled (it never connects, so this test sends no
    /// packet even if the policy were broken): every special range is refused by default.
    #[tokio::test]
    async fn special_targets_are_refused_before_any_route_exists() {
        let targets = [
            "10.0.0.1",
            "172.16.0.1",
            "192.168.1.1",
            "100.64.0.1",
            "169.254.169.254",
            "127.0.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "192.0.2.1",
            "198.18.0.1",
            "240.0.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "ff02::1",
            "2001:db8::1",
            "::ffff:10.0.0.1",
            "2002:c0a8:0101::1",
            "64:ff9b::a00:1",
        ];
        let env = env(Policy::default());
        for host in targets {
            let mut r = record(host);
            let failure = route(&mut r, &env).await.expect_err(host);
            assert!(matches!(failure, Failure::Policy(_)), "{host}: {failure:?}");
            assert_eq!(r.ip, None, "{host}: no address chosen");
            assert_eq!(
                r.resolved_ips,
                vec![host.parse::<IpAddr>().unwrap().to_string()]
            );
        }
    }

    #[tokio::test]
    async fn allowances_open_exactly_what_they_name() {
        let allowed: IpAddr = "127.0.0.9".parse().unwrap();
        let env = env(Policy {
            allow_ips: vec![allowed],
            ..Policy::default()
        });
        assert!(
            matches!(route(&mut record("127.0.0.9"), &env).await, Ok(Route::Direct(a)) if a.ip() == allowed)
        );
        assert!(matches!(
            route(&mut record("127.0.0.10"), &env).await,
            Err(Failure::Policy(_))
        ));
        let loopback = self::env(Policy {
            allow_loopback: true,
            ..Policy::default()
        });
        assert!(route(&mut record("127.0.0.10"), &loopback).await.is_ok());
        assert!(route(&mut record("::1"), &loopback).await.is_ok());
        assert!(matches!(
            route(&mut record("10.0.0.1"), &loopback).await,
            Err(Failure::Policy(_))
        ));
    }

    #[test]
    fn the_full_level_reaches_only_the_operators_own_addresses() {
        let allowed: IpAddr = "127.0.0.9".parse().unwrap();
        let mut env = env(Policy {
            allow_ips: vec![allowed],
            ..Policy::default()
        });
        env.probe_level = ProbeLevel::Full;
        let direct = |ip: &str| Route::Direct(SocketAddr::new(ip.parse().unwrap(), 50001));
        assert_eq!(probe_level(&env, &direct("127.0.0.9")), ProbeLevel::Full);
        assert_eq!(
            probe_level(&env, &direct("8.8.8.8")),
            ProbeLevel::Standard,
            "public address"
        );
        let proxied = Route::Socks5 {
            proxy: "127.0.0.9:9050".parse().unwrap(),
            host: "x.onion".into(),
            port: 50001,
        };
        assert_eq!(
            probe_level(&env, &proxied),
            ProbeLevel::Standard,
            "behind a proxy: anyone's server"
        );
        env.probe_level = ProbeLevel::Standard;
        assert_eq!(
            probe_level(&env, &direct("127.0.0.9")),
            ProbeLevel::Standard
        );
    }

    #[tokio::test]
    async fn onions_without_a_proxy_are_skipped() {
        let failure = route(
            &mut record("abcdefghijklmnop.onion"),
            &env(Policy::default()),
        )
        .await
        .expect_err("skip");
        assert_eq!(
            classify(&Err(failure)),
            observatory_model::raw::Status::Skipped
        );
    }

    /// The opt-out list is checked where the policy is, before anything is dialled: a listed
    /// name is not even resolved, a listed address is refused even when the loopback
    /// allowance admits it, and an onion is refused before it reaches the proxy.
    #[tokio::test]
    async fn the_opt_out_list_refuses_before_resolving_or_dialling() {
        let mut env = env(Policy {
            allow_loopback: true,
            ..Policy::default()
        });
        env.exclude = ExcludeList::parse(
            "localhost
127.0.0.64/26
abcdefghijklmnop.onion
",
            "test",
        )
        .unwrap();
        env.socks5 = Some("127.0.0.1:9050".parse().unwrap());

        let mut named = record("LOCALHOST.");
        let failure = route(&mut named, &env).await.expect_err("listed name");
        assert!(
            matches!(&failure, Failure::Policy(t) if t.contains("opt-out list (localhost)")),
            "{failure:?}"
        );
        assert!(
            named.resolved_ips.is_empty() && named.timing.dns_ms.is_none(),
            "never resolved"
        );

        let mut listed = record("127.0.0.70");
        let failure = route(&mut listed, &env).await.expect_err("listed address");
        assert!(
            matches!(&failure, Failure::Policy(t) if t.contains("127.0.0.64/26")),
            "{failure:?}"
        );
        assert_eq!(listed.ip, None);
        assert!(
            route(&mut record("127.0.0.63"), &env).await.is_ok(),
            "the neighbour is not listed"
        );

        let failure = route(&mut record("abcdefghijklmnop.onion"), &env)
            .await
            .expect_err("listed onion");
        assert_eq!(
            classify(&Err(failure)),
            observatory_model::raw::Status::RefusedByPolicy
        );
    }
}
