//! Electrum network scanner: polite, hostile-server-proof, and correct about the protocol.
//!
//! [`scan`] takes a [`ScanConfig`] and writes one [`EndpointRecord`](observatory_model::raw::EndpointRecord)
//! per endpoint and round to a [`Sink`] as soon as each finishes ([`RunDir`] writes
//! `DIR/raw/<run-id>/endpoints.jsonl` + `manifest.json`).
//!
//! How one endpoint is scanned ([`endpoint`]): [`targets`] → resolve → [`policy`] →
//! [`dial`] (TCP or SOCKS5, then [`tls`] with the record-any verifier) → [`session`] over a
//! framed [`connection`] → [`metadata`] → [`probes`] → [`inference`]; failures become a
//! [`Status`](observatory_model::raw::Status) through the one function [`status::classify`].
//! [`exclude`] is the opt-out list checked beside the policy. Every limit is a named constant in [`limits`]; [`discovery`] parses what servers say
//! about other servers for `--crawl`; [`run`] schedules (global cap, one connection per
//! host and per IP); [`history`] merges runs, rounds and vantages into per-endpoint uptime,
//! latency stability and tip lag.
//!
//! ```no_run
//! use observatory_scanner::{scan, MemorySink, ScanConfig, targets::TargetSet};
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let mut set = TargetSet::default();
//! set.add_target("electrum.example.org:50002:s")?;
//! let config = ScanConfig::new(set.into_vec(), observatory_scanner::output::new_run_id());
//! let mut sink = MemorySink::default();
//! let manifest = scan(config, &mut sink).await?;
//! println!("{} records, {:?}", sink.records.len(), manifest.counts_by_status);
//! # Ok(()) }
//! ```

pub mod connection;
pub mod dial;
pub mod discovery;
pub mod endpoint;
pub mod exclude;
pub mod history;
pub mod inference;
pub mod limits;
pub mod locks;
pub mod metadata;
pub mod output;
pub mod policy;
pub mod probes;
pub mod rpc;
pub mod run;
pub mod session;
pub mod status;
pub mod targets;
pub mod tls;

pub use output::{MemorySink, RunDir, Sink};
pub use run::{scan, ScanConfig, ScanError};
