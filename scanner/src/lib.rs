//! Electrum network scanner (being built in issue 2).
//!
//! * [`rpc`]: the request/reply trait probes talk through.
//! * [`probes`]: behavioral probes (issue 3).
//! * [`inference`]: implementation inference and behavior hash (issue 3).

pub mod inference;
pub mod probes;
pub mod rpc;
