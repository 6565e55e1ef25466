//! Published cloud IP ranges (`data/cloud/<provider>/ipv{4,6}_merged.txt`, CC0).
//!
//! One CIDR per line; lines that do not parse are ignored. Lookups are a binary
//! search over sorted, merged ranges, so thousands of prefixes cost microseconds.

use std::net::IpAddr;
use std::path::Path;

use crate::error::{Error, Result};

/// Display names for the provider directory names of lord-alfred/ipranges.
const PROVIDER_NAMES: &[(&str, &str)] = &[
    ("amazon", "Amazon AWS"),
    ("cloudflare", "Cloudflare"),
    ("digitalocean", "DigitalOcean"),
    ("google", "Google Cloud"),
    ("linode", "Linode (Akamai)"),
    ("microsoft", "Microsoft Azure"),
    ("oracle", "Oracle Cloud"),
    ("vultr", "Vultr"),
];

/// Sorted ranges per family.
#[derive(Debug, Default, Clone)]
pub struct CloudRanges {
    // (is_v6, start, end, provider index)
    ranges: Vec<(bool, u128, u128, usize)>,
    providers: Vec<String>,
}

/// Parses `a.b.c.d/n` or `x::/n` into an inclusive u128 range with its family.
pub fn parse_cidr(s: &str) -> Option<(bool, u128, u128)> {
    let (addr, len) = s.trim().split_once('/')?;
    let len: u32 = len.parse().ok()?;
    match addr.parse::<IpAddr>().ok()? {
        IpAddr::V4(v4) if len <= 32 => {
            let a = u128::from(u32::from(v4));
            let host_bits = 32 - len;
            let mask = if host_bits == 0 {
                0
            } else {
                (1u128 << host_bits) - 1
            };
            Some((false, a & !mask, a | mask))
        }
        IpAddr::V6(v6) if len <= 128 => {
            let a = u128::from(v6);
            let host_bits = 128 - len;
            let mask = if host_bits == 0 {
                0
            } else if host_bits == 128 {
                u128::MAX
            } else {
                (1u128 << host_bits) - 1
            };
            Some((true, a & !mask, a | mask))
        }
        _ => None,
    }
}

impl CloudRanges {
    /// Loads every provider directory under `dir`.
    pub fn load_dir(dir: &Path) -> Result<Self> {
        let mut out = CloudRanges::default();
        let entries = std::fs::read_dir(dir).map_err(|e| Error::io("list", dir, e))?;
        let mut dirs: Vec<_> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect();
        dirs.sort();
        for d in dirs {
            let key = d
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let name = PROVIDER_NAMES
                .iter()
                .find(|(k, _)| *k == key)
                .map_or(key.clone(), |(_, n)| (*n).to_string());
            let mut text = String::new();
            for f in ["ipv4_merged.txt", "ipv6_merged.txt"] {
                if let Ok(t) = std::fs::read_to_string(d.join(f)) {
                    text.push_str(&t);
                    text.push('\n');
                }
            }
            out.add(&name, &text);
        }
        out.finish();
        Ok(out)
    }

    /// Adds a provider's CIDR lines (call [`CloudRanges::finish`] afterwards).
    pub fn add(&mut self, provider: &str, cidrs: &str) {
        let idx = self.providers.len();
        self.providers.push(provider.to_string());
        for line in cidrs.lines() {
            if let Some((v6, a, b)) = parse_cidr(line) {
                self.ranges.push((v6, a, b, idx));
            }
        }
    }

    /// Sorts the ranges for lookup.
    pub fn finish(&mut self) {
        self.ranges.sort();
    }

    /// Provider names loaded.
    pub fn providers(&self) -> &[String] {
        &self.providers
    }

    /// Number of prefixes.
    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    /// True when nothing is loaded.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// The provider whose published ranges contain `ip`.
    pub fn lookup(&self, ip: IpAddr) -> Option<&str> {
        let key = match ip {
            IpAddr::V4(v4) => (false, u128::from(u32::from(v4))),
            IpAddr::V6(v6) => (true, u128::from(v6)),
        };
        // Ranges may nest (merged per provider, not across providers): scan back over
        // the candidates whose start is <= ip, nearest first, a bounded number of steps.
        let idx = self.ranges.partition_point(|r| (r.0, r.1) <= key);
        self.ranges
            .get(..idx)?
            .iter()
            .rev()
            .take(MAX_BACKSCAN)
            .take_while(|r| r.0 == key.0)
            .find(|r| key.1 <= r.2)
            .and_then(|r| self.providers.get(r.3))
            .map(String::as_str)
    }
}

/// How many preceding ranges a lookup inspects for an enclosing prefix.
const MAX_BACKSCAN: usize = 64;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_and_lookup() {
        assert_eq!(
            parse_cidr("10.0.0.0/8"),
            Some((false, 0x0a00_0000, 0x0aff_ffff))
        );
        assert_eq!(parse_cidr("0.0.0.0/0").map(|r| r.2), Some(0xffff_ffff));
        assert!(parse_cidr("1.2.3.4/33").is_none() && parse_cidr("junk").is_none());
        let mut c = CloudRanges::default();
        c.add("Alpha", "192.0.2.0/24\n2001:db8::/32\nnot a cidr\n");
        c.add("Beta", "198.51.100.0/25\n");
        c.finish();
        for (ip, want) in [
            ("192.0.2.7", Some("Alpha")),
            ("2001:db8::1", Some("Alpha")),
            ("198.51.100.1", Some("Beta")),
            ("198.51.100.200", None),
            ("203.0.113.1", None),
        ] {
            assert_eq!(c.lookup(ip.parse().unwrap()), want, "{ip}");
        }
    }
}
