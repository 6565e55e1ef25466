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
    VectorAddress {
        format: "p2pkh",
        address: None,
        source: "BIP-32 test vector 1, chain m public key as P2PKH",
    },
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
    let key = master()?
        .derive_pub(&secp, &path)
        .map_err(|e| VectorError(e.to_string()))?;
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
        assert_eq!(
            by_format("p2wpkh").script_hex,
            "0014751e76e8199196d454941c45d1b3a323f1433bd6"
        );
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
        assert_eq!(
            r.script_hex,
            "76a9143442193e1bb70916e914552172cd4e2dbc9df81188ac"
        );
        assert_eq!(r.address, "15mKKb2eos1hWa6tisdPwwDC1a5J1y9nma");
    }

    /// Electrum scripthash of each address-format vector's scriptPubKey, computed outside this
    /// code (`python3 scanner/tests/fixtures/test_vectors.py`: `hashlib.sha256(script).digest()[::-1].hex()`).
    const PINNED_SCRIPTHASHES: [(&str, &str); 4] = [
        (
            "p2pkh",
            "c7b901fe4f269faeb5ff0e633618e8469c944c84bc3d5205be789546589c9183",
        ),
        (
            "p2wpkh",
            "9623df75239b5daa7f5f03042d325b51498c4bb7059c7748b17049bf96f73888",
        ),
        (
            "p2wsh",
            "94ef09765c3092cd7a1d9f7a6e1ff861e446fd795d1e8a93f427c42df7ffe123",
        ),
        (
            "p2tr",
            "a12cf1aa7c74a6e9f54984646526173abed2a9f4a4862dc83eb94e8e8ef5220a",
        ),
    ];

    #[test]
    fn scripthashes_of_the_vectors_are_pinned() {
        for (format, expected) in PINNED_SCRIPTHASHES {
            assert_eq!(by_format(format).scripthash, expected, "{format}");
        }
        assert_eq!(
            PINNED_SCRIPTHASHES.map(|(f, _)| f),
            FORMATS.map(|v| v.format)
        );
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
        assert!(derive("p2pk", 0, 0).is_err());
    }

    /// The first receive (`m/0/0`) and change (`m/1/0`) child of the BIP-32 test vector 1 master
    /// public key in every script type: address, scriptPubKey and Electrum scripthash, computed
    /// independently of this code and of the `bitcoin` crate by
    /// `scanner/tests/fixtures/test_vectors.py` (standard-library Python: secp256k1 point
    /// arithmetic, CKDpub, RIPEMD-160, the BIP-86 TapTweak, Base58Check, bech32/bech32m).
    /// Child public keys: m/0/0 `02756de182c5dd4b717ea87e693006da62dbb3cddaa4a5cad2ed1f5bbab755f0f5`,
    /// m/1/0 `029b393153a1ec68c7af3a98e88aecede3a409f27e698c090540098611c79e05b0`.
    const PINNED_CHILDREN: [(&str, u32, &str, &str, &str); 8] = [
        (
            "p2pkh",
            0,
            "12CL4K2eVqj7hQTix7dM7CVHCkpP17Pry3",
            "76a9140d1c9c02a7be9ba8b8842804feb961481ce6561b88ac",
            "168700aecbcb3d7cb1a5de1ded16677c2c546c125244fc1bcc859d8f9f769e62",
        ),
        (
            "p2wpkh",
            0,
            "bc1qp5wfcq48h6d63wyy9qz0awtpfqwwv4sma86mhz",
            "00140d1c9c02a7be9ba8b8842804feb961481ce6561b",
            "0caf908c5780a1e7e480c7ea2bfe4b163decac1aca3d8c47c15bb75f2c168ebb",
        ),
        (
            "p2sh-p2wpkh",
            0,
            "3AfyxhpBVVLmBR4ZYX2onGzRqjv5QZ7FqD",
            "a914628713e27a36da16174e9d02c1772cd9e406039b87",
            "d19b7d955e916deaa60505a8d385f8fdd49f6b05f6e6686af0548466e477dc54",
        ),
        (
            "p2tr",
            0,
            "bc1pgfhzycz8pckwsdspf04hn6rps5tpapgrchtzx5f3k8wlvqhmxu6qrdt83a",
            "5120426e2260470e2ce836014beb79e86185161e8503c5d6235131b1ddf602fb3734",
            "6ec0ff99f1a1ae8850f287b40a85026e53f5f09f31bce74a07eac21c03f339cd",
        ),
        (
            "p2pkh",
            1,
            "1NwEtFZ6Td7cpKaJtYoeryS6avP2TUkSMh",
            "76a914f09cb16010dc6d58dfafee3d3f9f027dc03be2c488ac",
            "53069aace28d40187528f0fc1e33a823afb85c0e3d2e761e91a49b842901172a",
        ),
        (
            "p2wpkh",
            1,
            "bc1q7zwtzcqsm3k43ha0ac7nl8cz0hqrhckywf6sew",
            "0014f09cb16010dc6d58dfafee3d3f9f027dc03be2c4",
            "e3b759ca7c630bbcbcdf8c73f0f2c4c5621abb4cfa0d0d680c55d966ff3867da",
        ),
        (
            "p2sh-p2wpkh",
            1,
            "35b2nXRneLNWNYfhf3XRVzPSSnhomgKR8H",
            "a9142abeba0a4a8ea98c3734962c28f68b57ed562bb787",
            "cdd78a6ffa6983f99b1ee0ffe573863829c2ec4dd5390e1408f5eb48056fc59f",
        ),
        (
            "p2tr",
            1,
            "bc1p95sucrfv036gg8gsm5dk2dkenlagsatvnh7wfjk8ysljduhec0yslm0w7z",
            "51202d21cc0d2c7c74841d10dd1b6536d99ffa88756c9dfce4cac7243f26f2f9c3c9",
            "ea71c287371b14fdba84092644e1f2d92f541fa5e6a93ea6d50ebde957be1061",
        ),
    ];

    #[test]
    fn first_children_of_the_bip32_tv1_xpub_are_pinned() {
        for (script_type, branch, address, script_hex, hash) in PINNED_CHILDREN {
            let r = derive(script_type, branch, 0).unwrap();
            let expected = Resolved {
                address: address.into(),
                script_hex: script_hex.into(),
                scripthash: hash.into(),
            };
            assert_eq!(r, expected, "{script_type} m/{branch}/0");
        }
        for t in XPUB_SCRIPT_TYPES {
            assert!(
                PINNED_CHILDREN.iter().any(|c| c.0 == t),
                "{t} has no pinned child"
            );
        }
    }
}
