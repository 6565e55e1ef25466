//! Behavioral probes (issue 3): one module per probe behind one trait.
//!
//! Integration contract with the session (kept stable while both are built):
//! the session calls [`run_all`] after the metadata requests, on the same
//! connection (`server.version` already negotiated), passing an [`Opener`]
//! that can open a fresh connection to the same endpoint *without* sending
//! `server.version` (for the before-version and unsupported-protocol cases).

use std::future::Future;

use observatory_model::probes::ProbeResult;
use observatory_model::raw::Endpoint;

use crate::rpc::Rpc;

/// Opens extra connections to the endpoint being probed (same address, transport, deadlines, budget).
pub trait Opener: Send + Sync {
    /// The connection type.
    type Conn: Rpc;
    /// A fresh connection on which nothing has been sent yet; None when it could not be opened.
    fn open_unversioned(&self) -> impl Future<Output = Option<Self::Conn>> + Send;
}

/// What probes may know about the endpoint.
#[derive(Debug, Clone)]
pub struct ProbeContext {
    /// The endpoint.
    pub endpoint: Endpoint,
    /// Protocol version negotiated by `server.version` on the main connection.
    pub protocol: Option<String>,
}

/// Runs every registered probe in order and returns their results.
pub async fn run_all<R: Rpc, O: Opener>(_rpc: &mut R, _opener: &O, _ctx: &ProbeContext) -> Vec<ProbeResult> {
    Vec::new()
}
