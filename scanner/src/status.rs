//! Why an endpoint attempt ended, and the one function that turns it into a [`Status`].
//!
//! Every failure path of the scanner produces a [`Failure`]; [`classify`] is the only place
//! that decides which [`Status`] a record gets (zgrab2 style), so the status vocabulary stays
//! small and consistent across the code.

use std::io;

use observatory_model::raw::Status;
use thiserror::Error;

use crate::rpc::CallOutcome;
use crate::session::Closure;

/// Why an endpoint did not end in success.
#[derive(Debug, Error)]
pub enum Failure {
    /// The host name did not resolve (or resolved to nothing).
    #[error("DNS: {0}")]
    Dns(String),
    /// The address-range policy refused every address.
    #[error("refused by address policy: {0}")]
    Policy(String),
    /// Not attempted by design.
    #[error("skipped: {0}")]
    Skipped(String),
    /// TCP connect failed.
    #[error("connect: {0}")]
    Connect(io::Error),
    /// TCP (or SOCKS5) connect did not complete before the connect deadline.
    #[error("connect timed out")]
    ConnectTimeout,
    /// The SOCKS5 proxy refused or failed to connect to the target.
    #[error("SOCKS5: {0}")]
    Socks(#[from] tokio_socks::Error),
    /// The TLS handshake failed.
    #[error("TLS handshake: {0}")]
    Tls(String),
    /// The TLS handshake did not complete before its deadline.
    #[error("TLS handshake timed out")]
    TlsTimeout,
    /// `server.version` did not succeed; the closure (if the session ended) and the last
    /// non-JSON-RPC line (if any) say more.
    #[error("server.version: {}", describe_version(.outcome, .closure.as_ref(), .bad_line.as_deref()))]
    Version {
        /// What became of the request.
        outcome: CallOutcome,
        /// How the session ended, when it did.
        closure: Option<Closure>,
        /// The last line that was not JSON-RPC.
        bad_line: Option<String>,
    },
    /// `server.version` got no reply with its id, but the server did send replies, all with
    /// ids matching no request (wrong, duplicated or of another type): it talks, but not
    /// JSON-RPC as the protocol requires.
    #[error(
        "server.version: no reply with its id; {count} replies carried ids matching no request"
    )]
    UnmatchedIds {
        /// Replies whose id matched no request.
        count: u64,
    },
    /// `server.version` answered with a result of the wrong shape.
    #[error("server.version result has an unexpected shape: {0}")]
    VersionShape(String),
    /// Anything else (a bug or an unexpected local condition).
    #[error("{0}")]
    Internal(String),
}

fn describe_version(
    outcome: &CallOutcome,
    closure: Option<&Closure>,
    bad_line: Option<&str>,
) -> String {
    let base = match outcome {
        CallOutcome::Result { .. } => "answered".to_string(),
        CallOutcome::Error { error, .. } => format!("error {:?}: {}", error.code, error.message),
        CallOutcome::Timeout => "no answer before the deadline".to_string(),
        CallOutcome::Closed { reason } => reason.clone(),
        CallOutcome::OverBudget => "request budget exhausted".to_string(),
    };
    match (closure, bad_line) {
        (_, Some(line)) => format!("{base}; server sent: {line}"),
        (Some(c), None) if !matches!(outcome, CallOutcome::Closed { .. }) => {
            format!("{base}; {}", c.reason())
        }
        _ => base,
    }
}

fn io_status(e: &io::Error) -> Status {
    use io::ErrorKind::*;
    match e.kind() {
        ConnectionRefused => Status::ConnectionRefused,
        TimedOut => Status::ConnectionTimeout,
        HostUnreachable | NetworkUnreachable | AddrNotAvailable | NetworkDown => {
            Status::Unreachable
        }
        ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof => Status::ClosedByPeer,
        _ => Status::UnknownError,
    }
}

/// The status of an endpoint attempt: `Ok(())` is success, every [`Failure`] maps to one status.
pub fn classify(result: &Result<(), Failure>) -> Status {
    let Err(failure) = result else {
        return Status::Success;
    };
    match failure {
        Failure::Dns(_) => Status::DnsError,
        Failure::Policy(_) => Status::RefusedByPolicy,
        Failure::Skipped(_) => Status::Skipped,
        Failure::Connect(e) => io_status(e),
        Failure::ConnectTimeout => Status::ConnectionTimeout,
        Failure::Socks(e) => match e {
            tokio_socks::Error::Io(io) => io_status(io),
            tokio_socks::Error::ConnectionRefused => Status::ConnectionRefused,
            // The proxy itself cannot be reached: nothing got through to the endpoint (the
            // error text names the proxy, so analysis can tell this from a dead server).
            tokio_socks::Error::NetworkUnreachable
            | tokio_socks::Error::HostUnreachable
            | tokio_socks::Error::ProxyServerUnreachable => Status::Unreachable,
            tokio_socks::Error::TtlExpired => Status::ConnectionTimeout,
            _ => Status::UnknownError,
        },
        Failure::Tls(_) => Status::TlsHandshakeError,
        Failure::TlsTimeout => Status::IoTimeout,
        Failure::Version {
            outcome,
            closure,
            bad_line,
        } => match (outcome, closure) {
            (CallOutcome::Error { .. }, _) => Status::ApplicationError,
            (CallOutcome::Result { .. }, _) => Status::Success,
            (CallOutcome::OverBudget, _) => Status::Skipped,
            // The server talked, but not JSON-RPC: whatever ended the session, it is a protocol error.
            (_, _) if bad_line.is_some() => Status::ProtocolError,
            (_, Some(Closure::Limit(_))) => Status::LimitExceeded,
            (_, Some(Closure::Protocol(_))) => Status::ProtocolError,
            (_, Some(Closure::Deadline)) => Status::IoTimeout,
            (_, Some(Closure::Peer(_))) => Status::ClosedByPeer,
            // Only after the scan's own close, never while negotiating: no server behavior.
            (_, Some(Closure::Local)) => Status::UnknownError,
            (CallOutcome::Timeout, None) => Status::IoTimeout,
            (CallOutcome::Closed { .. }, None) => Status::ClosedByPeer,
        },
        Failure::VersionShape(_) | Failure::UnmatchedIds { .. } => Status::ProtocolError,
        Failure::Internal(_) => Status::UnknownError,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use observatory_model::raw::RpcError;
    use std::collections::BTreeSet;

    fn version(
        outcome: CallOutcome,
        closure: Option<Closure>,
        bad_line: Option<&str>,
    ) -> Result<(), Failure> {
        Err(Failure::Version {
            outcome,
            closure,
            bad_line: bad_line.map(str::to_string),
        })
    }

    #[test]
    fn every_status_is_reachable() {
        let closed = || CallOutcome::Closed {
            reason: "eof".into(),
        };
        let table: Vec<(Result<(), Failure>, Status)> = vec![
            (Ok(()), Status::Success),
            (Err(Failure::Dns("nxdomain".into())), Status::DnsError),
            (
                Err(Failure::Connect(io::ErrorKind::ConnectionRefused.into())),
                Status::ConnectionRefused,
            ),
            (Err(Failure::ConnectTimeout), Status::ConnectionTimeout),
            (
                Err(Failure::Connect(io::ErrorKind::TimedOut.into())),
                Status::ConnectionTimeout,
            ),
            (
                Err(Failure::Connect(io::ErrorKind::HostUnreachable.into())),
                Status::Unreachable,
            ),
            (
                Err(Failure::Socks(tokio_socks::Error::HostUnreachable)),
                Status::Unreachable,
            ),
            (
                Err(Failure::Socks(tokio_socks::Error::ProxyServerUnreachable)),
                Status::Unreachable,
            ),
            (
                Err(Failure::Socks(tokio_socks::Error::ConnectionRefused)),
                Status::ConnectionRefused,
            ),
            (Err(Failure::Tls("alert".into())), Status::TlsHandshakeError),
            (Err(Failure::TlsTimeout), Status::IoTimeout),
            (version(CallOutcome::Timeout, None, None), Status::IoTimeout),
            (
                version(CallOutcome::Timeout, Some(Closure::Deadline), None),
                Status::IoTimeout,
            ),
            (
                version(CallOutcome::Timeout, None, Some("HTTP/1.1 400")),
                Status::ProtocolError,
            ),
            (
                version(closed(), Some(Closure::Protocol("junk".into())), None),
                Status::ProtocolError,
            ),
            (
                Err(Failure::VersionShape("42".into())),
                Status::ProtocolError,
            ),
            (
                Err(Failure::UnmatchedIds { count: 3 }),
                Status::ProtocolError,
            ),
            (
                version(
                    CallOutcome::Error {
                        error: RpcError {
                            code: Some(1),
                            message: "unsupported".into(),
                        },
                        rtt_ms: 1.0,
                    },
                    None,
                    None,
                ),
                Status::ApplicationError,
            ),
            (
                version(closed(), Some(Closure::Peer("eof".into())), None),
                Status::ClosedByPeer,
            ),
            (version(closed(), None, None), Status::ClosedByPeer),
            (
                Err(Failure::Connect(io::ErrorKind::ConnectionReset.into())),
                Status::ClosedByPeer,
            ),
            (
                version(closed(), Some(Closure::Limit("line".into())), None),
                Status::LimitExceeded,
            ),
            (
                Err(Failure::Policy("127.0.0.1 is loopback".into())),
                Status::RefusedByPolicy,
            ),
            (
                Err(Failure::Skipped("onion without --socks5".into())),
                Status::Skipped,
            ),
            (
                version(CallOutcome::OverBudget, None, None),
                Status::Skipped,
            ),
            (Err(Failure::Internal("bug".into())), Status::UnknownError),
            (
                Err(Failure::Connect(io::ErrorKind::PermissionDenied.into())),
                Status::UnknownError,
            ),
        ];
        let mut seen = BTreeSet::new();
        for (input, want) in &table {
            assert_eq!(classify(input), *want, "{input:?}");
            seen.insert(*want);
        }
        assert_eq!(seen.len(), Status::ALL.len(), "some status is unreachable");
    }

    #[test]
    fn error_text_names_the_server_line() {
        let f = Failure::Version {
            outcome: CallOutcome::Timeout,
            closure: None,
            bad_line: Some("not JSON: <html>".into()),
        };
        assert!(f.to_string().contains("<html>"));
    }
}
