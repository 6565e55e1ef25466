//! Public test vectors the probes query, and their Electrum scripthashes.
//!
//! Probes only ever ask about keys and addresses published as test vectors in
//! the BIPs (never a real user's): the BIP-173 mainnet P2WPKH and P2WSH
//! examples, the BIP-350 P2TR valid-address vector, and keys derived from the
//! BIP-32 test vector 1 master public key. Addresses are parsed and keys
//! derived with the `bitcoin` crate; the scripthash comes from
//! [`observatory_protocol::scripthash::scripthash`] (the one implementation).

use std::str::FromStr;

use bitcoin::bip32::{ChildNumber, Xpub};
use bitcoin::secp256k1::{Secp256k1, VerifyOnly};
use bitcoin::{Address, Network, ScriptBuf};
use observatory_protocol::scripthash::scripthash;

/// BIP-32 test vector 1, chain `m`: extended public key.
pub const BIP32_TV1_XPUB: &str = "xpub661MyMwAqRbcFtXgS5sYJABqqG9YLmC4Q1Rdap9gSE8NqtwybGhePY2gZ29ESFjqJoCu1Rupje8YtGqsefD265TMg7usUDFdp6W1EGMcet8";
/// Where [`BIP32_TV1_XPUB`] comes from.
pub const BIP32_TV1_SOURCE: &str = "BIP-32 test vector 1, chain m";

/// One fixed address the `address-formats` probe queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VectorAddress {
    /// `p2pkh`, `p2wpkh`, `p2wsh`, `p2tr`.
    pub format: &'static str,
    /// The address string (mainnet), or None when derived from [`BIP32_TV1_XPUB`].
    pub address: Option<&'static str>,
    /// Where it comes from.
    pub source: &'static str,
}

/// The four address formats, in probe order.
pub const FORMATS: [VectorAddress; 4] = [
    VectorAddress { format: "p2pkh", address: None, source: "BIP-32 test vector 1, chain m public key as P2PKH" },
    VectorAddress {
        format: "p2wpkh",
        address: Some("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"),
        source: "BIP-173 example (mainnet P2WPKH)",
    },
    VectorAddress {
        format: "p2wsh",
        address: Some("bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3"),
        source: "BIP-173 example (mainnet P2WSH)",
    },
    VectorAddress {
        format: "p2tr",
        address: Some("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0"),
        source: "BIP-350 valid address test vector (P2TR, witness v1)",
    },
];

/// Script types the xpub probe derives, in probe order.
pub const XPUB_SCRIPT_TYPES: [&str; 4] = ["p2pkh", "p2wpkh", "p2sh-p2wpkh", "p2tr"];

/// Why a vector could not be turned into a script (only a bug can cause this: the inputs are constants).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("test vector error: {0}")]
pub struct VectorError(String);

/// A resolved address: the string queried and its Electrum scripthash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// Address string (mainnet).
    pub address: String,
    /// scriptPubKey hex.
    pub script_hex: String,
    /// Electrum scripthash.
    pub scripthash: String,
}

fn resolved(address: &Address) -> Resolved {
    let script: ScriptBuf = address.script_pubkey();
    Resolved {
        address: address.to_string(),
        script_hex: hex::encode(script.as_bytes()),
        scripthash: scripthash(script.as_bytes()),
    }
}

fn secp() -> Secp256k1<VerifyOnly> {
    Secp256k1::verification_only()
}

fn master() -> Result<Xpub, VectorError> {
    Xpub::from_str(BIP32_TV1_XPUB).map_err(|e| VectorError(e.to_string()))
}

/// Resolves one of [`FORMATS`].
pub fn resolve(v: &VectorAddress) -> Result<Resolved, VectorError> {
    let address = match v.address {
        Some(s) => Address::from_str(s)
            .and_then(|a| a.require_network(Network::Bitcoin))
            .map_err(|e| VectorError(format!("{s}: {e}")))?,
        None => Address::p2pkh(master()?.to_pub(), Network::Bitcoin),
    };
    Ok(resolved(&address))
}

/// `script_type` address of `m/branch/index` below [`BIP32_TV1_XPUB`] (branch 0 receive, 1 change).
pub fn derive(script_type: &str, branch: u32, index: u32) -> Result<Resolved, VectorError> {
    let secp = secp();
    let path = [
        ChildNumber::from_normal_idx(branch).map_err(|e| VectorError(e.to_string()))?,
        ChildNumber::from_normal_idx(index).map_err(|e| VectorError(e.to_string()))?,
    ];
    let key = master()?.derive_pub(&secp, &path).map_err(|e| VectorError(e.to_string()))?;
    let address = match script_type {
        "p2pkh" => Address::p2pkh(key.to_pub(), Network::Bitcoin),
        "p2wpkh" => Address::p2wpkh(&key.to_pub(), Network::Bitcoin),
        "p2sh-p2wpkh" => Address::p2shwpkh(&key.to_pub(), Network::Bitcoin),
        // BIP-86 key-path-only output: internal key tweaked with no script tree.
        "p2tr" => Address::p2tr(&secp, key.to_x_only_pub(), None, Network::Bitcoin),
        other => return Err(VectorError(format!("unknown script type {other}"))),
    };
    Ok(resolved(&address))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn by_format(f: &str) -> Resolved {
        let v = FORMATS.iter().find(|v| v.format == f).unwrap();
        resolve(v).unwrap()
    }

    #[test]
    fn bip173_p2wpkh_script_pubkey() {
        // BIP-173 test vectors: BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4 -> 0014751e76e8199196d454941c45d1b3a323f1433bd6
        assert_eq!(by_format("p2wpkh").script_hex, "0014751e76e8199196d454941c45d1b3a323f1433bd6");
    }

    #[test]
    fn bip173_p2wsh_script_pubkey() {
        // BIP-173 test vectors: tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7 ->
        // 00201863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262; the mainnet example
        // bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3 encodes the same program.
        assert_eq!(
            by_format("p2wsh").script_hex,
            "00201863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262"
        );
    }

    #[test]
    fn bip350_p2tr_script_pubkey() {
        // BIP-350 valid test vector: bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0 ->
        // 512079be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798
        assert_eq!(
            by_format("p2tr").script_hex,
            "512079be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
        );
    }

    #[test]
    fn bip32_master_key_as_p2pkh() {
        // BIP-32 test vector 1, chain m: public key 0339a36013301597daef41fbe593a02cc513d0b55527ec2df1050e2e8ff49c85c2,
        // whose HASH160 is 3442193e1bb70916e914552172cd4e2dbc9df811 (its P2PKH address 15mKKb2eos1hWa6tisdPwwDC1a5J1y9nma).
        let r = by_format("p2pkh");
        assert_eq!(r.script_hex, "76a9143442193e1bb70916e914552172cd4e2dbc9df81188ac");
        assert_eq!(r.address, "15mKKb2eos1hWa6tisdPwwDC1a5J1y9nma");
    }

    #[test]
    fn scripthash_is_reversed_sha256_of_the_script() {
        // BIP-173 P2WPKH: sha256(0014751e...) reversed; checked against the protocol crate's
        // Electrum-documented P2PKH example in protocol/src/scripthash.rs.
        let r = by_format("p2wpkh");
        let script = hex::decode(&r.script_hex).unwrap();
        assert_eq!(r.scripthash, scripthash(&script));
        assert_eq!(r.scripthash.len(), 64);
    }

    #[test]
    fn bip32_tv1_child_keys() {
        // BIP-32 test vector 1 lists m/0H/1 etc. (hardened, private); from the public master only
        // normal children derive. Check the derivation is deterministic and distinct per path/type.
        let mut seen = std::collections::BTreeSet::new();
        for t in XPUB_SCRIPT_TYPES {
            for branch in 0..2 {
                for index in 0..2 {
                    let r = derive(t, branch, index).unwrap();
                    assert_eq!(r, derive(t, branch, index).unwrap());
                    assert!(seen.insert(r.scripthash));
                }
            }
        }
        assert!(derive("p2wpkh", 0, 0).unwrap().address.starts_with("bc1q"));
        assert!(derive("p2sh-p2wpkh", 0, 0).unwrap().address.starts_with('3'));
        assert!(derive("p2tr", 0, 0).unwrap().address.starts_with("bc1p"));
        assert!(derive("p2pk", 0, 0).is_err());
    }
}
