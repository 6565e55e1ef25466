//! The schema shared by every stage of Electrum Observatory.
//!
//! Two families of documents live here, each with its own version number:
//!
//! * [`raw`]: what the scanner writes under `data/raw/<run-id>/`: one
//!   [`raw::EndpointRecord`] per endpoint and round (JSON Lines) plus a
//!   [`raw::RunManifest`]. Raw records are facts as observed: every string a
//!   server sent is kept verbatim (and is attacker-controlled).
//! * [`snapshot`]: what `observatory analyze` writes for the site under
//!   `data/snapshots/`: a [`snapshot::Snapshot`] per run and a
//!   [`snapshot::SnapshotIndex`].
//!
//! The crate depends on `serde` and `serde_json` only so that it builds for
//! `wasm32-unknown-unknown`; the site never links tokio or rustls.
//!
//! ```
//! use observatory_model::raw::{Endpoint, Transport};
//! let e = Endpoint { host: "electrum.example.org".into(), port: 50002, transport: Transport::Tls };
//! assert_eq!(e.key(), "electrum.example.org:50002:s");
//! assert_eq!(Endpoint::parse_key("electrum.example.org:50002:s"), Some(e));
//! ```

pub mod probes;
pub mod raw;
pub mod snapshot;

/// Milliseconds since the Unix epoch (UTC). Every observation carries one.
pub type UnixMillis = u64;
