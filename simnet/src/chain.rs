//! A short fake block chain: real-looking 80-byte headers with consistent heights.
//!
//! Only the last [`CHAIN_WINDOW`] headers below the tip exist; that is enough for
//! `blockchain.headers.subscribe` on servers at the tip and on servers lagging a few
//! blocks, and for `blockchain.block.header` near the tip. Each header links to the
//! previous one by its double-SHA-256 hash, carries mainnet-like version bits,
//! timestamps ten minutes apart and a mainnet-like `bits` value. The proof of work is
//! not valid (that would need real mining); the scanner does not check it.

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use sha2::{Digest, Sha256};

/// Headers kept below and including the tip.
pub const CHAIN_WINDOW: u64 = 16;

/// Mainnet genesis block hash (what `server.features` reports as `genesis_hash`).
pub const GENESIS_HASH: &str = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f";

/// Compact difficulty target of a 2025-era mainnet block (`bits` field).
const MAINNET_LIKE_BITS: u32 = 0x1702_3a04;

/// Version field with BIP-9 version bits set, as most recent blocks carry.
const BLOCK_VERSION: i32 = 0x2000_0000;

/// Unix time of the tip block (fixed so that runs are reproducible).
const TIP_TIME: u32 = 1_763_700_000;

/// Seconds between blocks.
const BLOCK_INTERVAL: u32 = 600;

/// The fake chain: `headers[i]` is at height `first_height + i`.
#[derive(Debug, Clone)]
pub struct Chain {
    first_height: u64,
    headers: Vec<[u8; 80]>,
}

impl Chain {
    /// Builds the window of headers ending at `tip_height`, deterministically from `seed`.
    pub fn new(tip_height: u64, seed: u64) -> Chain {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed ^ 0x636861696e); // "chain"
        let first_height = tip_height.saturating_sub(CHAIN_WINDOW - 1);
        let count = tip_height - first_height + 1;
        let mut prev: [u8; 32] = rng.gen();
        let mut headers = Vec::with_capacity(count as usize);
        for i in 0..count {
            let mut h = [0u8; 80];
            h[0..4].copy_from_slice(&BLOCK_VERSION.to_le_bytes());
            h[4..36].copy_from_slice(&prev);
            let merkle: [u8; 32] = rng.gen();
            h[36..68].copy_from_slice(&merkle);
            let back = (count - 1 - i) as u32;
            let time = TIP_TIME - back * BLOCK_INTERVAL + rng.gen_range(0..120);
            h[68..72].copy_from_slice(&time.to_le_bytes());
            h[72..76].copy_from_slice(&MAINNET_LIKE_BITS.to_le_bytes());
            let nonce: u32 = rng.gen();
            h[76..80].copy_from_slice(&nonce.to_le_bytes());
            prev = Sha256::digest(Sha256::digest(h)).into();
            headers.push(h);
        }
        Chain {
            first_height,
            headers,
        }
    }

    /// Height of the tip.
    pub fn tip_height(&self) -> u64 {
        self.first_height + self.headers.len() as u64 - 1
    }

    /// The header at `height` as lower-case hex, when it is in the window.
    pub fn header_hex(&self, height: u64) -> Option<String> {
        let index = height.checked_sub(self.first_height)?;
        self.headers
            .get(usize::try_from(index).ok()?)
            .map(hex::encode)
    }

    /// The tip a server lagging `lag` blocks reports: `(height, header hex)`.
    pub fn tip_for_lag(&self, lag: u64) -> (u64, String) {
        let lag = lag.min(CHAIN_WINDOW - 1);
        let height = self.tip_height() - lag;
        let hex = self.header_hex(height).unwrap_or_default();
        (height, hex)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_link_and_heights_are_consistent() {
        let chain = Chain::new(925_000, 7);
        assert_eq!(chain.tip_height(), 925_000);
        for h in chain.first_height + 1..=chain.tip_height() {
            let prev = hex::decode(chain.header_hex(h - 1).unwrap()).unwrap();
            let cur = hex::decode(chain.header_hex(h).unwrap()).unwrap();
            assert_eq!(cur.len(), 80);
            let hash: [u8; 32] = Sha256::digest(Sha256::digest(&prev)).into();
            assert_eq!(&cur[4..36], &hash[..], "header {h} links to {}", h - 1);
        }
        assert_eq!(chain.header_hex(925_001), None);
        assert_eq!(chain.tip_for_lag(2).0, 924_998);
    }

    #[test]
    fn same_seed_same_chain() {
        assert_eq!(
            Chain::new(100, 1).header_hex(100),
            Chain::new(100, 1).header_hex(100)
        );
        assert_ne!(
            Chain::new(100, 1).header_hex(100),
            Chain::new(100, 2).header_hex(100)
        );
    }
}
