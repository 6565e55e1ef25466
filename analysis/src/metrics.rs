//! Centralization metrics over one categorical dimension.
//!
//! Given one optional bucket per server (country, ASN, implementation, …),
//! [`dimension`] counts servers per bucket and computes:
//!
//! * **HHI** (Herfindahl–Hirschman): Σ sᵢ² over bucket shares, in [1/k, 1].
//! * **Nakamoto coefficient**: the fewest buckets whose servers are *more than* 50%.
//! * **Gini** of bucket counts: Σᵢ Σⱼ |xᵢ − xⱼ| / (2 k² x̄); 0 = all buckets equal. Computed
//!   in O(k log k) from the sorted counts: with x₍₁₎ ≥ … ≥ x₍ₖ₎ (descending),
//!   G = Σᵢ (k + 1 − 2i) x₍ᵢ₎ / (k Σ x), the same number without the k² pairs.
//! * **Shannon entropy** −Σ sᵢ log₂ sᵢ in bits, and normalized by log₂ k
//!   (0 when there is a single bucket: fully concentrated).
//!
//! Servers with no value (a failed GeoIP or ASN lookup) are reported as `unknown` and left
//! out of the shares, so that missing data never looks like a bucket. Onion servers have
//! no network location by design; the location dimensions (country, continent, ASN,
//! provider) put them in their own bucket, [`ONION_BUCKET`], instead of `unknown`.

use std::collections::BTreeMap;
use std::net::IpAddr;

use observatory_model::snapshot::{Dimension, Share};

/// Bucket key of onion servers in the location dimensions.
pub const ONION_BUCKET: &str = "onion";
/// Its label.
pub const ONION_LABEL: &str = "Onion (Tor)";

/// Counts and concentration indices of bucket counts.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Concentration {
    /// HHI on shares.
    pub hhi: f64,
    /// Nakamoto coefficient.
    pub nakamoto: u64,
    /// Gini coefficient.
    pub gini: f64,
    /// Entropy, bits.
    pub entropy_bits: f64,
    /// Normalized entropy.
    pub entropy_normalized: f64,
}

/// Concentration of a list of bucket counts (order irrelevant, zeros ignored).
pub fn concentration(counts: &[u64]) -> Concentration {
    let mut c: Vec<u64> = counts.iter().copied().filter(|&x| x > 0).collect();
    c.sort_unstable_by(|a, b| b.cmp(a));
    let total: u64 = c.iter().sum();
    if total == 0 {
        return Concentration::default();
    }
    let t = total as f64;
    let shares: Vec<f64> = c.iter().map(|&x| x as f64 / t).collect();
    let hhi = shares.iter().map(|s| s * s).sum();
    let mut acc = 0u64;
    let mut nakamoto = 0u64;
    for &x in &c {
        acc += x;
        nakamoto += 1;
        // Strictly more than half: 2·acc > total avoids float rounding.
        if 2 * acc > total {
            break;
        }
    }
    let k = c.len() as f64;
    // Rank form of the pairwise mean difference: each count is larger than the i − 1 counts
    // after it and smaller than the k − i before it (c is sorted descending).
    let weighted: f64 = c
        .iter()
        .enumerate()
        .map(|(i, &x)| (k + 1.0 - 2.0 * (i as f64 + 1.0)) * x as f64)
        .sum();
    let gini = (weighted / (k * t)).max(0.0);
    let entropy_bits: f64 = shares.iter().map(|s| -s * s.log2()).sum();
    let entropy_normalized = if c.len() > 1 {
        entropy_bits / k.log2()
    } else {
        0.0
    };
    Concentration {
        hhi,
        nakamoto,
        gini,
        entropy_bits: entropy_bits.max(0.0),
        entropy_normalized,
    }
}

/// One server's value on a dimension: `(key, label)`.
pub type Value = Option<(String, String)>;

/// Builds a [`Dimension`] from one value per server.
pub fn dimension(id: &str, title: &str, values: &[Value]) -> Dimension {
    let mut buckets: BTreeMap<&str, (u64, &str)> = BTreeMap::new();
    let mut unknown = 0u64;
    for v in values {
        match v {
            Some((k, l)) => buckets.entry(k.as_str()).or_insert((0, l.as_str())).0 += 1,
            None => unknown += 1,
        }
    }
    let total: u64 = buckets.values().map(|b| b.0).sum();
    let mut list: Vec<Share> = buckets
        .into_iter()
        .map(|(k, (n, l))| Share {
            key: k.to_string(),
            label: l.to_string(),
            count: n,
            share: if total > 0 {
                n as f64 / total as f64
            } else {
                0.0
            },
        })
        .collect();
    list.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
    let c = concentration(&list.iter().map(|s| s.count).collect::<Vec<_>>());
    Dimension {
        id: id.to_string(),
        title: title.to_string(),
        total,
        unknown,
        buckets: list,
        hhi: c.hhi,
        nakamoto: c.nakamoto,
        gini: c.gini,
        entropy_bits: c.entropy_bits,
        entropy_normalized: c.entropy_normalized,
    }
}

/// The IPv4 /16 bucket (`a.b.0.0/16`) of an address, as the Electrum client groups servers.
pub fn ipv4_16(ip: &str) -> Option<String> {
    match ip.parse::<IpAddr>().ok()? {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            Some(format!("{}.{}.0.0/16", o[0], o[1]))
        }
        IpAddr::V6(_) => None,
    }
}

/// The IPv6 /48 bucket of an address.
pub fn ipv6_48(ip: &str) -> Option<String> {
    match ip.parse::<IpAddr>().ok()? {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            Some(format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2]))
        }
        IpAddr::V4(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn hand_computed_table() {
        // counts, hhi, nakamoto, gini, entropy bits, normalized entropy
        // (counts, hhi, nakamoto, gini, entropy bits, entropy normalized)
        type Case<'a> = (&'a [u64], f64, u64, f64, f64, f64);
        let cases: &[Case<'_>] = &[
            (&[], 0.0, 0, 0.0, 0.0, 0.0),
            (&[7], 1.0, 1, 0.0, 0.0, 0.0),
            (&[5, 5], 0.5, 2, 0.0, 1.0, 1.0), // exactly 50% is not a majority
            (&[1, 1, 1, 1], 0.25, 3, 0.0, 2.0, 1.0), // 3 of 4 needed for >50%
            // shares .5,.25,.25: hhi .375; 2 buckets needed; ordered |diffs| sum = 4·|2−1| = 4, 4/(2·9·(4/3)) = 1/6;
            // H = .5*1 + 2*.25*2 = 1.5 bits; /log2(3)
            (&[2, 1, 1], 0.375, 2, 1.0 / 6.0, 1.5, 1.5 / 3f64.log2()),
        ];
        for (counts, hhi, nak, gini, h, hn) in cases {
            let c = concentration(counts);
            assert!(close(c.hhi, *hhi), "{counts:?} hhi {}", c.hhi);
            assert_eq!(c.nakamoto, *nak, "{counts:?}");
            assert!(close(c.gini, *gini), "{counts:?} gini {}", c.gini);
            assert!(close(c.entropy_bits, *h), "{counts:?} H {}", c.entropy_bits);
            assert!(
                close(c.entropy_normalized, *hn),
                "{counts:?} Hn {}",
                c.entropy_normalized
            );
        }
        // 6,3,1 (and a zero bucket, ignored): shares .6,.3,.1 → hhi .46; first bucket alone > 50%
        let c = concentration(&[6, 3, 1, 0]);
        assert!(close(c.hhi, 0.46));
        assert_eq!(c.nakamoto, 1);
        // pairs: |6-3|+|6-1|+|3-1| = 10, doubled 20; 20 / (2*9*(10/3)) = 1/3
        assert!(close(c.gini, 1.0 / 3.0), "{}", c.gini);
        let h = -(0.6f64 * 0.6f64.log2() + 0.3 * 0.3f64.log2() + 0.1 * 0.1f64.log2());
        assert!(close(c.entropy_bits, h));
    }

    #[test]
    fn sorted_gini_equals_the_pairwise_definition() {
        // The O(k²) definition, kept here only as the reference.
        let pairwise = |c: &[u64]| {
            let c: Vec<f64> = c
                .iter()
                .copied()
                .filter(|&x| x > 0)
                .map(|x| x as f64)
                .collect();
            let (k, t) = (c.len() as f64, c.iter().sum::<f64>());
            let diff: f64 = c
                .iter()
                .flat_map(|a| c.iter().map(move |b| (a - b).abs()))
                .sum();
            diff / (2.0 * k * k * (t / k))
        };
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for len in 1..60 {
            let counts: Vec<u64> = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state % 40
                })
                .collect();
            if counts.iter().all(|&x| x == 0) {
                continue;
            }
            let (fast, slow) = (concentration(&counts).gini, pairwise(&counts));
            assert!((fast - slow).abs() < 1e-12, "{counts:?}: {fast} vs {slow}");
        }
    }

    #[test]
    fn dimension_counts_unknown_apart_and_sorts() {
        let v = |k: &str| Some((k.to_string(), format!("label {k}")));
        let d = dimension(
            "country",
            "Country",
            &[v("DE"), v("US"), v("DE"), None, v("FR"), v("DE")],
        );
        assert_eq!((d.total, d.unknown), (5, 1));
        let keys: Vec<&str> = d.buckets.iter().map(|b| b.key.as_str()).collect();
        assert_eq!(keys, vec!["DE", "FR", "US"]);
        assert!(close(d.buckets[0].share, 0.6));
        assert_eq!(d.nakamoto, 1);
        let empty = dimension("asn", "ASN", &[None, None]);
        assert_eq!((empty.total, empty.unknown, empty.nakamoto), (0, 2, 0));
    }

    #[test]
    fn prefixes() {
        assert_eq!(ipv4_16("5.9.10.10").as_deref(), Some("5.9.0.0/16"));
        assert_eq!(ipv4_16("2a01:4f8::1"), None);
        assert_eq!(
            ipv6_48("2a01:4f8:10a:1::2").as_deref(),
            Some("2a01:4f8:10a::/48")
        );
        assert_eq!(ipv6_48("not an ip"), None);
    }
}
