//! Opening connections to one endpoint: TCP or SOCKS5, then TLS for `s` endpoints.
//!
//! A [`Dialer`] is bound to one endpoint and one route (an address the policy already
//! accepted, or a SOCKS5 proxy). It opens the main connection and, as the probes'
//! [`Opener`], fresh extra connections with the same deadlines, the same shared request
//! budget and the same shared byte tally (the byte cap is per endpoint, not per connection).
//! It never decides *when* to open: the probes open a side connection only after the main
//! session is closed, so the endpoint never sees two connections from us at once.

use std::net::SocketAddr;
use std::time::Duration;

use observatory_model::raw::{Endpoint, TlsObservation, Transport};
use observatory_protocol::frame::Limits;
use tokio::net::TcpStream;
use tokio::time::{timeout, Instant};

use crate::connection::{BoxStream, Connection};
use crate::limits::TLS_HANDSHAKE_TIMEOUT;
use crate::probes::Opener;
use crate::session::{Session, SessionParams};
use crate::status::Failure;
use crate::tls;

/// How to reach the endpoint.
#[derive(Debug, Clone)]
pub enum Route {
    /// Connect straight to this (policy-checked) address.
    Direct(SocketAddr),
    /// Ask the SOCKS5 proxy to connect to `host:port` (the proxy resolves names: onions).
    Socks5 {
        /// The proxy.
        proxy: SocketAddr,
        /// Target host name or address literal.
        host: String,
        /// Target port.
        port: u16,
    },
}

/// A connected stream and what it took to get it.
#[derive(Debug)]
pub struct Dialed {
    /// The stream, TLS-wrapped for `s` endpoints.
    pub stream: BoxStream,
    /// TCP (or SOCKS5) connect time, ms.
    pub connect_ms: f64,
    /// TLS handshake time, ms.
    pub tls_ms: Option<f64>,
    /// TLS facts.
    pub tls: Option<TlsObservation>,
}

/// A failed dial, with what was measured before the failure.
#[derive(Debug)]
pub struct DialError {
    /// Why.
    pub failure: Failure,
    /// Connect time, when TCP connected.
    pub connect_ms: Option<f64>,
    /// TLS facts seen before the failure (the chain, if the server sent it).
    pub tls: Option<TlsObservation>,
}

/// Opens connections to one endpoint.
#[derive(Debug, Clone)]
pub struct Dialer {
    /// The endpoint.
    pub endpoint: Endpoint,
    /// How to reach it.
    pub route: Route,
    /// TCP/SOCKS connect deadline.
    pub connect_timeout: Duration,
    /// Framing limits for sessions.
    pub limits: Limits,
    /// Deadlines and shared budget for sessions.
    pub params: SessionParams,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

impl Dialer {
    /// Time left before the endpoint deadline, capped at `cap`.
    fn left(&self, cap: Duration) -> Duration {
        self.params
            .endpoint_deadline
            .saturating_duration_since(Instant::now())
            .min(cap)
    }

    async fn connect_tcp(&self) -> Result<BoxStream, Failure> {
        let wait = self.left(self.connect_timeout);
        match &self.route {
            Route::Direct(addr) => match timeout(wait, TcpStream::connect(addr)).await {
                Err(_) => Err(Failure::ConnectTimeout),
                Ok(Err(e)) => Err(Failure::Connect(e)),
                Ok(Ok(s)) => {
                    let _ = s.set_nodelay(true);
                    Ok(Box::new(s))
                }
            },
            Route::Socks5 { proxy, host, port } => {
                match timeout(
                    wait,
                    tokio_socks::tcp::Socks5Stream::connect(*proxy, (host.as_str(), *port)),
                )
                .await
                {
                    Err(_) => Err(Failure::ConnectTimeout),
                    Ok(Err(e)) => Err(Failure::Socks(e)),
                    Ok(Ok(s)) => Ok(Box::new(s)),
                }
            }
        }
    }

    /// Opens one connection (TLS handshake included for `s` endpoints).
    pub async fn dial(&self) -> Result<Dialed, DialError> {
        let t0 = Instant::now();
        let stream = self.connect_tcp().await.map_err(|failure| DialError {
            failure,
            connect_ms: None,
            tls: None,
        })?;
        let connect_ms = ms(t0.elapsed());
        if self.endpoint.transport == Transport::Tcp {
            return Ok(Dialed {
                stream,
                connect_ms,
                tls_ms: None,
                tls: None,
            });
        }
        let t1 = Instant::now();
        match tls::handshake(
            stream,
            &self.endpoint.host,
            self.left(TLS_HANDSHAKE_TIMEOUT),
        )
        .await
        {
            Ok((stream, obs)) => Ok(Dialed {
                stream,
                connect_ms,
                tls_ms: Some(ms(t1.elapsed())),
                tls: Some(obs),
            }),
            Err(e) => Err(DialError {
                failure: if e.timed_out {
                    Failure::TlsTimeout
                } else {
                    Failure::Tls(e.message)
                },
                connect_ms: Some(connect_ms),
                tls: Some(e.observation),
            }),
        }
    }

    /// Wraps a dialed stream in a session with this endpoint's limits, shared budget and
    /// shared byte tally.
    pub fn session(&self, stream: BoxStream) -> Session {
        Session::new(
            Connection::sharing(stream, self.limits, self.params.received.clone()),
            self.params.clone(),
        )
    }

    /// Bytes received from the endpoint so far, over every connection this dialer opened.
    pub fn bytes_received(&self) -> u64 {
        self.params.received.get()
    }
}

impl Opener for Dialer {
    type Conn = Session;

    async fn open_unversioned(&self) -> Option<Session> {
        // Past the deadline, or with the endpoint's byte cap spent, a new connection could
        // carry nothing: do not open it.
        if Instant::now() >= self.params.endpoint_deadline
            || self.bytes_received() >= self.limits.max_total
        {
            return None;
        }
        self.dial().await.ok().map(|d| self.session(d.stream))
    }
}
