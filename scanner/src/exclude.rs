//! The opt-out list: hosts and networks whose operators asked not to be scanned.
//!
//! Scanning strangers' servers is only defensible if a stranger can say no. An
//! [`ExcludeList`] holds the embedded list ([`EMBEDDED_EXCLUDE_LIST`], `data/seeds/exclude.txt`,
//! where opt-out requests are recorded) plus any `--exclude FILE` the operator adds. An
//! endpoint whose host name is listed is refused before its name is even resolved; an
//! address inside a listed network is never dialled (the same place and status as the
//! address-range [`policy`](crate::policy): `refused-by-policy`, with the entry in the
//! error text). Crawled peers go through the same check, so a peer list cannot route the
//! scanner around an opt-out.
//!
//! File format: one entry per line; `#` starts a comment; blank lines are ignored.
//!
//! | entry | matches |
//! |---|---|
//! | `192.0.2.7`, `2001:db8::7` | that address |
//! | `192.0.2.0/24`, `2001:db8::/32` | every address in the network |
//! | `electrum.example.org` | that host name (case-insensitive, trailing dot ignored) |
//! | `*.example.org` | every name below `example.org`, and `example.org` itself |
//!
//! ```
//! use observatory_scanner::exclude::ExcludeList;
//! let list = ExcludeList::parse("# opt-outs\n*.example.org\n198.51.100.0/24\n", "demo").unwrap();
//! assert!(list.host("Electrum.EXAMPLE.org.").is_some());
//! assert!(list.ip("198.51.100.9".parse().unwrap()).is_some());
//! assert!(list.ip("198.51.101.9".parse().unwrap()).is_none());
//! ```

use std::fmt;
use std::net::IpAddr;

/// The embedded opt-out list (`data/seeds/exclude.txt`), always applied.
pub const EMBEDDED_EXCLUDE_LIST: &str = include_str!("../../data/seeds/exclude.txt");

/// One line of an opt-out list that is not a valid entry.
#[derive(Debug, thiserror::Error)]
#[error("{source_name}:{line}: {reason}: {text:?}")]
pub struct ExcludeError {
    /// The file (or "embedded") the line came from.
    pub source_name: String,
    /// 1-based line number.
    pub line: usize,
    /// The offending text (trimmed, without its comment).
    pub text: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// A network: an address and how many leading bits must match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Net {
    addr: IpAddr,
    prefix: u8,
}

impl Net {
    fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                prefix_eq(u32::from(net).into(), u32::from(ip).into(), 32, self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                prefix_eq(u128::from(net), u128::from(ip), 128, self.prefix)
            }
            // An IPv4 address written as IPv6 (::ffff:a.b.c.d) is the same host.
            (IpAddr::V4(_), IpAddr::V6(v6)) => v6
                .to_ipv4_mapped()
                .is_some_and(|v4| self.contains(IpAddr::V4(v4))),
            (IpAddr::V6(_), IpAddr::V4(_)) => false,
        }
    }
}

impl fmt::Display for Net {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// True when the first `prefix` of `width` bits of `a` and `b` agree.
fn prefix_eq(a: u128, b: u128, width: u8, prefix: u8) -> bool {
    if prefix == 0 {
        return true;
    }
    let shift = u32::from(width - prefix);
    (a >> shift) == (b >> shift)
}

/// Hosts and networks that must never be scanned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExcludeList {
    /// Exact host names, lower-case, without a trailing dot.
    hosts: Vec<String>,
    /// Domains whose every name (and the domain itself) is excluded, lower-case.
    domains: Vec<String>,
    nets: Vec<Net>,
}

impl ExcludeList {
    /// The embedded list ([`EMBEDDED_EXCLUDE_LIST`]).
    pub fn embedded() -> Self {
        // The embedded file is checked by a unit test, so this cannot fail at run time.
        Self::parse(EMBEDDED_EXCLUDE_LIST, "embedded exclude list").unwrap_or_default()
    }

    /// Parses a list; `source_name` names it in errors.
    pub fn parse(text: &str, source_name: &str) -> Result<Self, ExcludeError> {
        let mut list = ExcludeList::default();
        for (i, raw) in text.lines().enumerate() {
            let entry = raw.split('#').next().unwrap_or("").trim();
            if entry.is_empty() {
                continue;
            }
            let error = |reason| ExcludeError {
                source_name: source_name.to_string(),
                line: i + 1,
                text: entry.to_string(),
                reason,
            };
            if let Some((addr, prefix)) = entry.split_once('/') {
                let addr: IpAddr = addr.parse().map_err(|_| error("not an IP network"))?;
                let width = if addr.is_ipv4() { 32 } else { 128 };
                let prefix: u8 = prefix
                    .parse()
                    .ok()
                    .filter(|p| *p <= width)
                    .ok_or_else(|| error("bad prefix length"))?;
                list.nets.push(Net { addr, prefix });
            } else if let Ok(addr) = entry
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
            {
                list.nets.push(Net {
                    addr,
                    prefix: if addr.is_ipv4() { 32 } else { 128 },
                });
            } else {
                let (name, is_domain) = match entry.strip_prefix("*.") {
                    Some(domain) => (domain, true),
                    None => (entry, false),
                };
                let name = normalize_host(name);
                if !valid_host_name(&name) {
                    return Err(error("not a host name, address or network"));
                }
                if is_domain {
                    list.domains.push(name);
                } else {
                    list.hosts.push(name);
                }
            }
        }
        Ok(list)
    }

    /// Adds every entry of `other`.
    pub fn extend(&mut self, other: ExcludeList) {
        self.hosts.extend(other.hosts);
        self.domains.extend(other.domains);
        self.nets.extend(other.nets);
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.hosts.len() + self.domains.len() + self.nets.len()
    }

    /// True when the list has no entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The entry that excludes host name `host` (an address literal is checked as an address).
    pub fn host(&self, host: &str) -> Option<String> {
        if let Ok(ip) = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
        {
            return self.ip(ip);
        }
        let host = normalize_host(host);
        if let Some(h) = self.hosts.iter().find(|h| **h == host) {
            return Some(h.clone());
        }
        self.domains
            .iter()
            .find(|d| {
                host == **d
                    || host
                        .strip_suffix(d.as_str())
                        .is_some_and(|rest| rest.ends_with('.'))
            })
            .map(|d| format!("*.{d}"))
    }

    /// The entry that excludes address `ip`.
    pub fn ip(&self, ip: IpAddr) -> Option<String> {
        self.nets
            .iter()
            .find(|n| n.contains(ip))
            .map(Net::to_string)
    }
}

fn normalize_host(host: &str) -> String {
    host.trim_end_matches('.').to_ascii_lowercase()
}

/// Letters, digits, `-`, `_` and dots between non-empty labels (onion names included).
fn valid_host_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_embedded_list_parses() {
        ExcludeList::parse(EMBEDDED_EXCLUDE_LIST, "embedded").unwrap();
    }

    #[test]
    fn entries_match_what_they_name_and_nothing_else() {
        let list = ExcludeList::parse(
            "# comment\n\n electrum.example.org  # trailing comment\n*.example.net\n192.0.2.7\n198.51.100.0/24\n2001:db8::/32\n[2001:db8:1::1]\n",
            "t",
        )
        .unwrap();
        assert_eq!(list.len(), 6);
        let cases: &[(&str, Option<&str>)] = &[
            ("electrum.example.org", Some("electrum.example.org")),
            ("ELECTRUM.Example.ORG.", Some("electrum.example.org")),
            ("other.example.org", None),
            ("example.net", Some("*.example.net")),
            ("a.b.example.net", Some("*.example.net")),
            ("badexample.net", None),
            ("192.0.2.7", Some("192.0.2.7/32")),
            ("192.0.2.8", None),
            ("198.51.100.255", Some("198.51.100.0/24")),
            ("198.51.101.0", None),
            ("2001:db8:ffff::1", Some("2001:db8::/32")),
            ("[2001:db8:1::1]", Some("2001:db8::/32")),
            ("2001:db9::1", None),
            ("::ffff:198.51.100.3", Some("198.51.100.0/24")),
        ];
        for (host, want) in cases {
            assert_eq!(list.host(host).as_deref(), *want, "{host}");
        }
        assert_eq!(list.ip(ip("192.0.2.7")).as_deref(), Some("192.0.2.7/32"));
    }

    #[test]
    fn zero_and_full_prefixes() {
        let all = ExcludeList::parse("0.0.0.0/0\n", "t").unwrap();
        assert!(all.ip(ip("203.0.113.1")).is_some());
        assert!(
            all.ip(ip("2001:db8::1")).is_none(),
            "an IPv4 network never matches IPv6"
        );
        let one = ExcludeList::parse("2001:db8::1/128\n", "t").unwrap();
        assert!(one.ip(ip("2001:db8::1")).is_some());
        assert!(one.ip(ip("2001:db8::2")).is_none());
    }

    #[test]
    fn bad_lines_name_their_line() {
        for (text, reason) in [
            ("ok.example\n10.0.0.0/33\n", "bad prefix length"),
            ("\n\nnot a host\n", "not a host name, address or network"),
            ("10.0.0/8\n", "not an IP network"),
            ("a..b\n", "not a host name, address or network"),
            ("*.\n", "not a host name, address or network"),
        ] {
            let e = ExcludeList::parse(text, "f.txt").unwrap_err();
            assert_eq!(e.reason, reason, "{text:?}");
            assert!(e.to_string().starts_with("f.txt:"), "{e}");
        }
        let e = ExcludeList::parse("ok.example\n10.0.0.0/33\n", "f.txt").unwrap_err();
        assert_eq!(e.line, 2);
    }

    #[test]
    fn extend_keeps_both() {
        let mut a = ExcludeList::parse("a.example\n", "a").unwrap();
        a.extend(ExcludeList::parse("192.0.2.0/24\n", "b").unwrap());
        assert!(a.host("a.example").is_some() && a.ip(ip("192.0.2.1")).is_some());
        assert!(!a.is_empty());
    }
}
