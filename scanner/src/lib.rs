//! Electrum network scanner.
//!
//! * [`rpc`]: the request/reply trait probes talk through.
//! * [`probes`]: behavioral probes (issue 3).
//! * [`inference`]: implementation inference and behavior hash (issue 3).
//! * [`limits`]: every limit and default, as named constants.
//! * [`policy`]: which addresses may be connected to.
//! * [`connection`]: a framed byte stream; [`session`]: one Electrum session over it.

pub mod connection;
pub mod dial;
pub mod discovery;
pub mod endpoint;
pub mod inference;
pub mod limits;
pub mod locks;
pub mod metadata;
pub mod output;
pub mod policy;
pub mod probes;
pub mod rpc;
pub mod session;
pub mod status;
pub mod targets;
pub mod tls;
