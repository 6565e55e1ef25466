//! Electrum scripthash: SHA-256 of the scriptPubKey, byte-reversed, as hex.
//!
//! ```
//! // scriptPubKey of the BIP-173 P2WPKH test vector bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4
//! let script = hex::decode("0014751e76e8199196d454941c45d1b3a323f1433bd6").unwrap();
//! assert_eq!(observatory_protocol::scripthash::scripthash(&script).len(), 64);
//! ```

use sha2::{Digest, Sha256};

/// Electrum scripthash of a scriptPubKey.
pub fn scripthash(script_pubkey: &[u8]) -> String {
    let mut h: [u8; 32] = Sha256::digest(script_pubkey).into();
    h.reverse();
    hex::encode(h)
}

/// Block hash of an 80-byte header given as hex (double SHA-256, byte-reversed), if it decodes.
pub fn header_hash(header_hex: &str) -> Option<String> {
    let bytes = hex::decode(header_hex).ok()?;
    if bytes.len() != 80 {
        return None;
    }
    let mut h: [u8; 32] = Sha256::digest(Sha256::digest(&bytes)).into();
    h.reverse();
    Some(hex::encode(h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn genesis_header_hash() {
        let genesis = "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c";
        assert_eq!(
            header_hash(genesis).unwrap(),
            "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"
        );
        assert_eq!(header_hash("00"), None);
    }

    #[test]
    fn electrum_docs_example() {
        // Electrum protocol docs ("Script Hashes"): P2PKH 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa.
        let script = hex::decode("76a91462e907b15cbf27d5425399ebf6f0fb50ebb88f1888ac").unwrap();
        assert_eq!(
            scripthash(&script),
            "8b01df4e368ea28f8dc0423bcf7a4923e3a12d307c875e47a0cfbf90b5c39161"
        );
    }
}
