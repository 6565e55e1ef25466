//! Electrum network scanner.
//!
//! * [`rpc`]: the request/reply trait probes talk through.
//! * [`probes`]: behavioral probes (issue 3).
//! * [`inference`]: implementation inference and behavior hash (issue 3).
//! * [`limits`]: every limit and default, as named constants.
//! * [`policy`]: which addresses may be connected to.
//! * [`connection`]: a framed byte stream; [`session`]: one Electrum session over it.

pub mod connection;
pub mod inference;
pub mod limits;
pub mod policy;
pub mod probes;
pub mod rpc;
pub mod session;
pub mod tls;
