//! Listening sockets: accept loops, TLS, and blackholed addresses.
//!
//! **Blackholes.** On loopback, connecting to an address where nothing listens is refused
//! at once (RST), which is not what a dropped SYN looks like. A blackholed endpoint instead
//! listens with a backlog of 0, and the simnet itself opens one connection to it that is
//! never accepted. Linux then considers the accept queue full and silently drops every
//! further SYN (`tcp_conn_request` → `sk_acceptq_is_full` → drop), so a client's connect
//! times out exactly as it would against a filtered host — without a single packet leaving
//! 127.0.0.0/8.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::{sleep, timeout};
use tokio_rustls::TlsAcceptor;

use crate::config::HostileKind;
use crate::dialect::{Dialect, ServerCtx};
use crate::{hostile, session, SimnetError};

/// Listen backlog of serving sockets (a scan may open hundreds of connections at once).
const LISTEN_BACKLOG: u32 = 1024;
/// Deadline of a TLS handshake on the server side.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Pause after a failed `accept` (e.g. out of file descriptors) before trying again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(20);
/// Deadline of the simnet's own filler connection to a blackholed listener.
const FILLER_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// What a listening socket serves.
#[derive(Debug)]
pub(crate) enum Service {
    /// An Electrum server (honest or honeypot).
    Electrum {
        /// The server.
        srv: Arc<ServerCtx>,
        /// How it talks.
        dialect: Arc<dyn Dialect>,
        /// Serve one connection at a time (Electrum Personal Server's accept loop).
        one_at_a_time: bool,
    },
    /// A hostile server.
    Hostile(HostileKind),
}

/// Per-listener settings.
#[derive(Debug, Clone)]
pub(crate) struct ListenerSettings {
    /// Session idle timeout (also the cap of a hostile session).
    pub idle: Duration,
    /// Size of the giant JSON reply.
    pub giant_json_bytes: u64,
    /// Seed of the sessions' latency draws.
    pub seed: u64,
}

/// A listening socket on `addr`.
pub(crate) fn bind(addr: SocketAddr, backlog: u32) -> Result<TcpListener, SimnetError> {
    let bind_err = |source| SimnetError::Bind { addr, source };
    let socket = TcpSocket::new_v4().map_err(bind_err)?;
    socket.set_reuseaddr(true).map_err(bind_err)?;
    socket.bind(addr).map_err(bind_err)?;
    socket.listen(backlog).map_err(bind_err)
}

/// Binds a serving socket.
pub(crate) fn bind_serving(addr: SocketAddr) -> Result<TcpListener, SimnetError> {
    bind(addr, LISTEN_BACKLOG)
}

/// A blackholed address: the listener and the filler connection that keeps its queue full.
/// Both must stay alive as long as the blackhole should.
pub(crate) async fn blackhole(addr: SocketAddr) -> Result<(TcpListener, TcpStream), SimnetError> {
    let listener = bind(addr, 0)?;
    let filler = timeout(FILLER_CONNECT_TIMEOUT, TcpStream::connect(addr))
        .await
        .map_err(|_| SimnetError::Bind {
            addr,
            source: std::io::Error::from(std::io::ErrorKind::TimedOut),
        })?
        .map_err(|source| SimnetError::Bind { addr, source })?;
    Ok((listener, filler))
}

/// Accepts connections until the simnet stops; each connection is served in its own task,
/// owned by this loop so that aborting the loop ends its sessions too.
pub(crate) async fn accept_loop(
    listener: TcpListener,
    service: Arc<Service>,
    tls: Option<TlsAcceptor>,
    settings: ListenerSettings,
    mut stop: watch::Receiver<bool>,
) {
    let mut sessions = JoinSet::new();
    let mut counter: u64 = 0;
    let one_at_a_time = matches!(
        &*service,
        Service::Electrum {
            one_at_a_time: true,
            ..
        }
    );
    loop {
        let accepted = tokio::select! {
            _ = stop.changed() => break,
            r = listener.accept() => r,
        };
        let Ok((stream, _peer)) = accepted else {
            sleep(ACCEPT_BACKOFF).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        counter += 1;
        let seed = settings.seed ^ counter.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let conn = connection(
            stream,
            service.clone(),
            tls.clone(),
            settings.clone(),
            stop.clone(),
            seed,
        );
        if one_at_a_time {
            tokio::select! {
                _ = stop.changed() => break,
                _ = conn => {}
            }
        } else {
            sessions.spawn(conn);
        }
        while sessions.try_join_next().is_some() {}
    }
}

async fn connection(
    stream: TcpStream,
    service: Arc<Service>,
    tls: Option<TlsAcceptor>,
    settings: ListenerSettings,
    stop: watch::Receiver<bool>,
    seed: u64,
) {
    match (&*service, tls) {
        (Service::Hostile(HostileKind::TlsCloseMidHandshake), _) => {
            hostile::close_mid_handshake(stream).await
        }
        (Service::Hostile(kind), Some(acceptor)) => {
            if let Ok(Ok(s)) = timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                hostile::serve(s, *kind, settings.giant_json_bytes, settings.idle, stop).await;
            }
        }
        (Service::Hostile(kind), None) => {
            hostile::serve(
                stream,
                *kind,
                settings.giant_json_bytes,
                settings.idle,
                stop,
            )
            .await
        }
        (Service::Electrum { srv, dialect, .. }, Some(acceptor)) => {
            if let Ok(Ok(s)) = timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                session::serve(s, srv.clone(), dialect.clone(), settings.idle, stop, seed).await;
            }
        }
        (Service::Electrum { srv, dialect, .. }, None) => {
            session::serve(
                stream,
                srv.clone(),
                dialect.clone(),
                settings.idle,
                stop,
                seed,
            )
            .await
        }
    }
}
