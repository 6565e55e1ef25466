//! Test support shared by the scanner's integration tests (`mod support;`).
//!
//! * [`electrumx`]: a real ElectrumX (2.0.0 or 1.16.0) with a fake regtest bitcoind on loopback.

#![allow(dead_code)]

pub mod electrumx;
