//! The server implementations the simnet emulates, with the facts each one announces.
//!
//! Where each string comes from (read in the public source of each project):
//!
//! | flavor | `server.version` software | protocol range | source |
//! |---|---|---|---|
//! | ElectrumX 1.16.0 | `ElectrumX 1.16.0` | 1.4 – 1.4.2 | PyPI `e-x==1.16.0` `electrumx/server/session.py` (`PROTOCOL_MIN`/`MAX`), `electrumx/__init__.py` (`version = f'ElectrumX {__version__}'`) |
//! | ElectrumX 1.19.0 | `ElectrumX 1.19.0` | 1.4 – 1.6.0 | PyPI `e-x==1.19.0` `src/electrumx/server/session.py` |
//! | ElectrumX 2.0.0 | `ElectrumX 2.0.0` | 1.4 – 1.7.0 | PyPI `e-x==2.0.0` `src/electrumx/server/session.py`, `transport.py` (padding) |
//! | Fulcrum 1.12.0 | `Fulcrum 1.12.0` | 1.4 – 1.5.0 | cculianu/Fulcrum `src/ServerMisc.cpp` (`AppSubVersion`, `MaxProtocolVersion`), `src/Servers.cpp` `rpc_server_version` |
//! | electrs 0.10.9 | `electrs/0.10.9` | 1.4 only | romanz/electrs `src/electrum.rs` (`server_id`, `PROTOCOL_VERSION`) |
//! | esplora electrs 0.4.1 | `electrs-esplora 0.4.1` | 1.4 | Blockstream/electrs `src/electrum/server.rs` (`server_version`) |
//! | mempool electrs 3.1.0 | `electrs-esplora 3.1.0` | 1.4 | mempool/electrs `src/electrum/server.rs` (same `server_version` as upstream esplora) |
//! | EPS 0.2.4 | `ElectrumPersonalServer 0.2.4` | 1.1 – 1.4 | chris-belcher/electrum-personal-server `electrumpersonalserver/server/electrumprotocol.py` |
//!
//! The version numbers of electrs, esplora, mempool and EPS are recent releases; the
//! behavior emulated is that of the source files named above.

use observatory_model::probes::Implementation;
use serde::{Deserialize, Serialize};

/// One emulated implementation (and version).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Flavor {
    /// spesmilo ElectrumX 1.16.0.
    Electrumx116,
    /// spesmilo ElectrumX 1.19.0.
    Electrumx119,
    /// spesmilo ElectrumX 2.0.0 (pads replies with spaces).
    Electrumx200,
    /// Fulcrum 1.12.0.
    Fulcrum,
    /// romanz/electrs 0.10.9.
    Electrs,
    /// Blockstream/electrs (esplora) 0.4.1.
    EsploraElectrs,
    /// mempool/electrs 3.1.0.
    MempoolElectrs,
    /// Electrum Personal Server 0.2.4.
    ElectrumPersonalServer,
}

impl Flavor {
    /// Every flavor.
    pub const ALL: [Flavor; 8] = [
        Flavor::Electrumx116,
        Flavor::Electrumx119,
        Flavor::Electrumx200,
        Flavor::Fulcrum,
        Flavor::Electrs,
        Flavor::EsploraElectrs,
        Flavor::MempoolElectrs,
        Flavor::ElectrumPersonalServer,
    ];

    /// True for the ElectrumX versions.
    pub fn is_electrumx(self) -> bool {
        matches!(
            self,
            Flavor::Electrumx116 | Flavor::Electrumx119 | Flavor::Electrumx200
        )
    }

    /// The implementation family, as the schema names it.
    pub fn implementation(self) -> Implementation {
        match self {
            Flavor::Electrumx116 | Flavor::Electrumx119 | Flavor::Electrumx200 => {
                Implementation::Electrumx
            }
            Flavor::Fulcrum => Implementation::Fulcrum,
            Flavor::Electrs => Implementation::Electrs,
            Flavor::EsploraElectrs => Implementation::EsploraElectrs,
            Flavor::MempoolElectrs => Implementation::MempoolElectrs,
            Flavor::ElectrumPersonalServer => Implementation::ElectrumPersonalServer,
        }
    }

    /// Version number of the emulated release.
    pub fn version(self) -> &'static str {
        match self {
            Flavor::Electrumx116 => "1.16.0",
            Flavor::Electrumx119 => "1.19.0",
            Flavor::Electrumx200 => "2.0.0",
            Flavor::Fulcrum => "1.12.0",
            Flavor::Electrs => "0.10.9",
            Flavor::EsploraElectrs => "0.4.1",
            Flavor::MempoolElectrs => "3.1.0",
            Flavor::ElectrumPersonalServer => "0.2.4",
        }
    }

    /// The software string of `server.version` (also `server_version` in features).
    pub fn software(self) -> String {
        let v = self.version();
        match self {
            Flavor::Electrumx116 | Flavor::Electrumx119 | Flavor::Electrumx200 => {
                format!("ElectrumX {v}")
            }
            Flavor::Fulcrum => format!("Fulcrum {v}"),
            Flavor::Electrs => format!("electrs/{v}"),
            // mempool/electrs keeps upstream's `format!("electrs-esplora {}", ELECTRS_VERSION)`.
            Flavor::EsploraElectrs | Flavor::MempoolElectrs => format!("electrs-esplora {v}"),
            Flavor::ElectrumPersonalServer => format!("ElectrumPersonalServer {v}"),
        }
    }

    /// Highest protocol version, as written in a peer's `v…` feature and `protocol_max`.
    pub fn protocol_max(self) -> &'static str {
        match self {
            Flavor::Electrumx116 => "1.4.2",
            Flavor::Electrumx119 => "1.6.0",
            Flavor::Electrumx200 => "1.7.0",
            Flavor::Fulcrum => "1.5",
            Flavor::Electrs
            | Flavor::EsploraElectrs
            | Flavor::MempoolElectrs
            | Flavor::ElectrumPersonalServer => "1.4",
        }
    }

    /// The banner a default installation sends.
    ///
    /// * ElectrumX: `f'You are connected to an {electrumx.version} server.'` (session.py `banner`).
    /// * Fulcrum: `Connected to a Fulcrum X server` (Fulcrum's fallback banner; the same text
    ///   appears in operators' guides quoting what Electrum shows).
    /// * electrs: `Welcome to electrs X (Electrum Rust Server)!` (config default `server_banner`).
    /// * esplora: `format!("Welcome to electrs-esplora {}", ELECTRS_VERSION)` (config.rs).
    /// * mempool: `format!("Welcome to {}", *VERSION_STRING)` with
    ///   `VERSION_STRING = "mempool-electrs {ELECTRS_VERSION}-{GIT_HASH}"` (config.rs).
    /// * EPS: the `BANNER` template of electrumprotocol.py, filled in by the dialect.
    pub fn default_banner(self) -> String {
        let v = self.version();
        match self {
            Flavor::Electrumx116 | Flavor::Electrumx119 | Flavor::Electrumx200 => {
                format!("You are connected to an {} server.", self.software())
            }
            Flavor::Fulcrum => format!("Connected to a {} server", self.software()),
            Flavor::Electrs => format!("Welcome to electrs {v} (Electrum Rust Server)!"),
            Flavor::EsploraElectrs => format!("Welcome to electrs-esplora {v}"),
            Flavor::MempoolElectrs => format!("Welcome to mempool-electrs {v}-{MEMPOOL_GIT_HASH}"),
            Flavor::ElectrumPersonalServer => String::new(),
        }
    }

    /// Whether the implementation itself terminates TLS. electrs and the esplora forks do not
    /// (operators put a TLS proxy in front); EPS serves TLS only.
    pub fn offers_tcp(self) -> bool {
        !matches!(self, Flavor::ElectrumPersonalServer)
    }
}

/// Git hash mempool-electrs embeds in its version string (any 7 hex digits; builds vary).
pub(crate) const MEMPOOL_GIT_HASH: &str = "4b2c1f0";
