//! What a server's software string claims to be.
//!
//! The software strings each implementation sends in `server.version` (and
//! `server.features.server_version`), from their public sources:
//!
//! | string | implementation | source |
//! |---|---|---|
//! | `ElectrumX 1.16.0` | ElectrumX | spesmilo/electrumx `src/electrumx/__init__.py` (`version = f'ElectrumX {__version__}'`) |
//! | `Fulcrum 1.9.8` | Fulcrum | cculianu/Fulcrum `src/ServerMisc.cpp` (`AppSubVersion = "%1 %2".arg(APPNAME, VERSION)`) |
//! | `electrs/0.10.6` | electrs | romanz/electrs `src/electrum.rs` (`format!("electrs/{}", ELECTRS_VERSION)`) |
//! | `electrs-esplora 0.4.1` | esplora-electrs | Blockstream/electrs `src/electrum/server.rs` (`server_version`) |
//! | `electrs-esplora 3.1.0-dev` | mempool-electrs | mempool/electrs `src/electrum/server.rs` (same format; crate version 3.x in `Cargo.toml`) |
//! | `ElectrumPersonalServer 0.2.4` | Electrum Personal Server | chris-belcher/electrum-personal-server `electrumprotocol.py` |
//!
//! The string is attacker-controlled: only a bounded, character-checked
//! version token is ever kept.

use observatory_model::probes::Implementation;

/// Longest version token kept.
pub const MAX_VERSION_LEN: usize = 32;
/// First major version of mempool/electrs, which reuses the `electrs-esplora` name
/// (Blockstream/electrs is at 0.x).
pub const MEMPOOL_FIRST_MAJOR: u64 = 3;

/// Prefixes, in match order (longest first where one is a prefix of another).
const PREFIXES: [(&str, Implementation); 5] = [
    ("ElectrumX ", Implementation::Electrumx),
    ("Fulcrum ", Implementation::Fulcrum),
    ("electrs-esplora ", Implementation::EsploraElectrs),
    ("electrs/", Implementation::Electrs),
    (
        "ElectrumPersonalServer ",
        Implementation::ElectrumPersonalServer,
    ),
];

/// `(implementation, version)` claimed by a software string, if it names a known implementation.
pub fn parse(software: &str) -> Option<(Implementation, Option<String>)> {
    let s = software.trim();
    let (prefix, imp) = PREFIXES.iter().find(|(p, _)| s.starts_with(p))?;
    let version = s
        .get(prefix.len()..)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(clean_version);
    let imp = match (imp, &version) {
        (Implementation::EsploraElectrs, Some(v))
            if major(v).is_some_and(|m| m >= MEMPOOL_FIRST_MAJOR) =>
        {
            Implementation::MempoolElectrs
        }
        _ => *imp,
    };
    Some((imp, version))
}

/// A version token when it looks like one (digits first, then `[0-9A-Za-z.+-]`, bounded).
pub fn clean_version(v: &str) -> Option<String> {
    let v = v.strip_prefix('v').unwrap_or(v);
    let ok = !v.is_empty()
        && v.len() <= MAX_VERSION_LEN
        && v.starts_with(|c: char| c.is_ascii_digit())
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+' | '_'));
    ok.then(|| v.to_string())
}

/// Numeric `(major, minor, patch)` prefix of a version (missing parts are 0).
pub fn numeric(v: &str) -> Option<(u64, u64, u64)> {
    let mut parts = v
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty())
        .map(|p| p.parse::<u64>().ok());
    let a = parts.next()??;
    let b = parts.next().flatten().unwrap_or(0);
    let c = parts.next().flatten().unwrap_or(0);
    Some((a, b, c))
}

fn major(v: &str) -> Option<u64> {
    numeric(v).map(|t| t.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Implementation::*;

    #[test]
    fn known_strings() {
        let table = [
            ("ElectrumX 1.16.0", Some((Electrumx, Some("1.16.0")))),
            ("ElectrumX 2.0.0", Some((Electrumx, Some("2.0.0")))),
            ("Fulcrum 1.9.8", Some((Fulcrum, Some("1.9.8")))),
            ("electrs/0.10.6", Some((Electrs, Some("0.10.6")))),
            (
                "electrs-esplora 0.4.1",
                Some((EsploraElectrs, Some("0.4.1"))),
            ),
            (
                "electrs-esplora 3.1.0-dev",
                Some((MempoolElectrs, Some("3.1.0-dev"))),
            ),
            (
                "ElectrumPersonalServer 0.2.4",
                Some((ElectrumPersonalServer, Some("0.2.4"))),
            ),
            ("ElectrumX <script>", Some((Electrumx, None))),
            ("SomethingElse 1.0", None),
            ("", None),
        ];
        for (s, want) in table {
            let got = parse(s);
            let want = want.map(|(i, v)| (i, v.map(str::to_string)));
            assert_eq!(got, want, "{s}");
        }
    }

    #[test]
    fn numeric_versions() {
        assert_eq!(numeric("1.16.0"), Some((1, 16, 0)));
        assert_eq!(numeric("3.1.0-dev"), Some((3, 1, 0)));
        assert_eq!(numeric("2"), Some((2, 0, 0)));
        assert_eq!(numeric("x"), None);
        assert_eq!(clean_version(&"9".repeat(40)), None);
    }
}
