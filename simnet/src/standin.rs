//! Stand-in public addresses: where each simulated server "is".
//!
//! The simulated network lives on 127.0.0.0/8, which no GeoIP or ASN database places
//! anywhere, so without help its map would be empty and its centralization charts flat.
//! Each server therefore gets a *stand-in* public IPv4 address, written to
//! [`IP_ALIASES_FILE`]; `observatory analyze --ip-aliases FILE` looks the stand-in up in
//! the real databases in place of the loopback address. Stand-ins are lookup keys only:
//! nothing ever connects to them, and analysis accepts them for loopback keys only.
//!
//! Honest servers spread over the hosting networks where public Electrum servers are
//! commonly found (weighted towards Hetzner and OVH, as in the results outline), a few home
//! connections included. The planted honeypot group sits in one cloud region (AWS
//! eu-central-1), the way a rented Sybil fleet does, which is what the HSS uniform-group
//! indicator looks for. Addresses are a pure function of the server index and role.

use std::net::Ipv4Addr;

use crate::plan::Role;

/// File name of the alias map (`{"<loopback ip>": "<stand-in ip>"}`) in the output directory.
pub const IP_ALIASES_FILE: &str = "ip-aliases.json";

/// Honest hosting: the first two octets of a /16 of the named network, and a weight.
/// (Checked against DB-IP Lite country and ip-location-db ASN data, 2026.)
const HONEST_POOL: &[([u8; 2], u32)] = &[
    ([5, 9], 6),     // Hetzner, DE
    ([88, 99], 5),   // Hetzner, DE
    ([116, 202], 3), // Hetzner, DE
    ([95, 216], 4),  // Hetzner, FI
    ([65, 108], 2),  // Hetzner, FI
    ([51, 68], 4),   // OVH, FR
    ([54, 36], 3),   // OVH, FR
    ([149, 56], 2),  // OVH, US/CA
    ([104, 248], 3), // DigitalOcean, US
    ([159, 89], 2),  // DigitalOcean, DE
    ([178, 62], 2),  // DigitalOcean, GB
    ([139, 59], 1),  // DigitalOcean, IN
    ([172, 104], 2), // Akamai (Linode), US
    ([45, 32], 1),   // Vultr, JP
    ([192, 248], 1), // Vultr, GB
    ([37, 120], 2),  // netcup, DE
    ([217, 160], 1), // IONOS, DE
    ([51, 15], 2),   // Scaleway, NL
    ([194, 5], 1),   // Selectel, RU
    ([73, 10], 2),   // Comcast (home), US
    ([84, 130], 2),  // Deutsche Telekom (home), DE
];

/// The honeypot group's region: AWS eu-central-1 (3.120.0.0/14).
const HONEYPOT_PREFIX: [u8; 2] = [3, 120];
/// /16 blocks the honeypot group spreads over inside its /14.
const HONEYPOT_BLOCKS: u8 = 4;

/// SplitMix64: a fixed, well-mixed hash of the index (no shared RNG, so adding stand-ins
/// does not change any other planned value).
pub(crate) fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The stand-in public address of server `index` with `role`.
pub fn stand_in(index: usize, role: Role) -> Ipv4Addr {
    let h = mix(index as u64);
    let host = |h: u64| ((h >> 8) as u8, (h >> 16) as u8 % 254 + 1);
    if role == Role::Honeypot {
        let (c, d) = host(h);
        let block = (index % usize::from(HONEYPOT_BLOCKS)) as u8;
        return Ipv4Addr::new(HONEYPOT_PREFIX[0], HONEYPOT_PREFIX[1] + block, c, d);
    }
    let total: u64 = HONEST_POOL.iter().map(|(_, w)| u64::from(*w)).sum();
    let mut pick = (h >> 32) % total;
    let mut prefix = HONEST_POOL[0].0;
    for (p, w) in HONEST_POOL {
        if pick < u64::from(*w) {
            prefix = *p;
            break;
        }
        pick -= u64::from(*w);
    }
    let (c, d) = host(h);
    Ipv4Addr::new(prefix[0], prefix[1], c, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn honeypots_share_one_cloud_region_and_honest_servers_spread() {
        let honeypots: Vec<_> = (0..40).map(|i| stand_in(i, Role::Honeypot)).collect();
        assert!(honeypots
            .iter()
            .all(|ip| ip.octets()[0] == 3 && (120..124).contains(&ip.octets()[1])));
        let prefixes: std::collections::BTreeSet<_> = (0..400)
            .map(|i| {
                let o = stand_in(i, Role::Honest).octets();
                (o[0], o[1])
            })
            .collect();
        assert!(prefixes.len() >= 15, "{prefixes:?}");
        assert!(prefixes
            .iter()
            .all(|p| HONEST_POOL.iter().any(|(q, _)| (q[0], q[1]) == *p)));
    }

    #[test]
    fn stand_ins_are_public_and_stable() {
        for i in 0..500 {
            for role in [
                Role::Honest,
                Role::Honeypot,
                Role::Hostile,
                Role::Blackholed,
            ] {
                let ip = stand_in(i, role);
                assert_eq!(ip, stand_in(i, role));
                assert!(
                    !ip.is_private()
                        && !ip.is_loopback()
                        && ip.octets()[3] != 0
                        && ip.octets()[3] != 255,
                    "{ip}"
                );
            }
        }
    }
}
