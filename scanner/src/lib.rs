//! Electrum network scanner (being built in issue 2; see `rpc` for the probe interface).

pub mod rpc;
