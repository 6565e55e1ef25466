//! Address-range policy: which IP addresses the scanner may connect to.
//!
//! The public Electrum network lives on global unicast addresses. A peer list or a DNS
//! answer naming a private, loopback, link-local or otherwise special address is either a
//! mistake or an attempt to make the scanner probe someone's internal network, so such
//! addresses are refused before any packet is sent (status `refused-by-policy`), unless
//! `--allow-private` is given (permits every special range), `--allow-loopback` is given
//! (permits 127.0.0.0/8 and `::1` and nothing else: the allowance of the tests and of the
//! simulated network, so a test can never reach a private network), or the address is named
//! by an explicit `--allow-ip` (exactly the 127.0.0.N addresses a test's fake servers listen
//! on, so a crawled peer at another loopback address is still refused).
//!
//! The check is on addresses, not names: the scanner resolves a name, checks every
//! address, and connects only to an address it checked (no second lookup, so DNS
//! rebinding cannot slip a private address in between).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why an address is special. `None` from [`classify`] means global unicast.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Range {
    /// 0.0.0.0/8, ::/128.
    Unspecified,
    /// 127.0.0.0/8, ::1.
    Loopback,
    /// 10/8, 172.16/12, 192.168/16 (RFC 1918).
    Private,
    /// 100.64.0.0/10 (RFC 6598 carrier-grade NAT).
    SharedCgnat,
    /// 169.254/16, fe80::/10.
    LinkLocal,
    /// 224/4, ff00::/8.
    Multicast,
    /// 255.255.255.255.
    Broadcast,
    /// 192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32, 3fff::/20.
    Documentation,
    /// 198.18/15, 2001:2::/48.
    Benchmarking,
    /// 192.0.0/24 (IETF protocol assignments), 2001::/23 (IETF protocol assignments).
    IetfProtocol,
    /// 240/4 (reserved for future use).
    Reserved,
    /// fc00::/7 (unique local).
    UniqueLocal,
    /// fec0::/10 (deprecated site-local).
    SiteLocal,
    /// 64:ff9b:1::/48 local-use NAT64, 100::/64 discard-only.
    OtherSpecialV6,
    /// ::ffff:0:0/96 and ::a.b.c.d: an IPv4 address in IPv6 clothing (checked as IPv4 too).
    Ipv4Embedded,
    /// A 6to4 (2002::/16), Teredo (2001::/32) or NAT64 (64:ff9b::/96) address whose embedded IPv4 is special.
    TunnelToSpecial,
}

/// Classifies an address; `None` means it is global unicast and may be scanned.
pub fn classify(ip: IpAddr) -> Option<Range> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> Option<Range> {
    let [a, b, c, _] = ip.octets();
    let range = match (a, b, c) {
        (0, _, _) => Range::Unspecified,
        (127, _, _) => Range::Loopback,
        (10, _, _) => Range::Private,
        (172, 16..=31, _) => Range::Private,
        (192, 168, _) => Range::Private,
        (100, 64..=127, _) => Range::SharedCgnat,
        (169, 254, _) => Range::LinkLocal,
        (224..=239, _, _) => Range::Multicast,
        (255, 255, 255) if ip == Ipv4Addr::BROADCAST => Range::Broadcast,
        (240..=255, _, _) => Range::Reserved,
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => Range::Documentation,
        (198, 18..=19, _) => Range::Benchmarking,
        (192, 0, 0) => Range::IetfProtocol,
        _ => return None,
    };
    Some(range)
}

fn classify_v6(ip: Ipv6Addr) -> Option<Range> {
    let s = ip.segments();
    if ip.is_unspecified() {
        return Some(Range::Unspecified);
    }
    if ip.is_loopback() {
        return Some(Range::Loopback);
    }
    // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (deprecated compatible): never dial an IPv4
    // address through an IPv6 spelling, whatever the IPv4 is.
    if s[..5] == [0, 0, 0, 0, 0] && (s[5] == 0xffff || s[5] == 0) {
        return Some(Range::Ipv4Embedded);
    }
    let range = match s[0] {
        0xff00..=0xffff => Range::Multicast,
        0xfe80..=0xfebf => Range::LinkLocal,
        0xfec0..=0xfeff => Range::SiteLocal,
        0xfc00..=0xfdff => Range::UniqueLocal,
        0x2001 if s[1] == 0x0db8 => Range::Documentation,
        0x3fff if s[1] <= 0x0fff => Range::Documentation,
        0x2001 if s[1] == 0x0002 && s[2] == 0 => Range::Benchmarking,
        0x2001 if s[1] == 0 => {
            // Teredo: the client's IPv4 is the last 32 bits, inverted.
            let v4 = Ipv4Addr::from(!(u32::from(s[6]) << 16 | u32::from(s[7])));
            return Some(classify_v4(v4).map_or(Range::IetfProtocol, |_| Range::TunnelToSpecial));
        }
        0x2001 if s[1] < 0x0200 => Range::IetfProtocol,
        0x2002 => {
            // 6to4: the IPv4 is bits 16..48.
            let v4 = Ipv4Addr::from(u32::from(s[1]) << 16 | u32::from(s[2]));
            return classify_v4(v4).map(|_| Range::TunnelToSpecial);
        }
        0x0064 if s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] => {
            // Well-known NAT64 prefix: the gateway dials the embedded IPv4.
            let v4 = Ipv4Addr::from(u32::from(s[6]) << 16 | u32::from(s[7]));
            return classify_v4(v4).map(|_| Range::TunnelToSpecial);
        }
        0x0064 if s[1] == 0xff9b && s[2] == 0x0001 => Range::OtherSpecialV6,
        0x0100 if s[1..4] == [0, 0, 0] => Range::OtherSpecialV6,
        // Everything outside 2000::/3 is unassigned or special.
        x if !(0x2000..=0x3fff).contains(&x) => Range::Reserved,
        _ => return None,
    };
    Some(range)
}

/// The scanner's decision for one address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    /// `--allow-private`: permit every special range (private networks, loopback).
    pub allow_private: bool,
    /// `--allow-loopback`: permit 127.0.0.0/8 and `::1` only; every other special range
    /// (private networks included) stays refused.
    pub allow_loopback: bool,
    /// `--allow-ip`: these exact addresses are permitted whatever their range (the tests'
    /// allowance for their own loopback servers; nothing else in the range is).
    pub allow_ips: Vec<IpAddr>,
}

impl Policy {
    /// `Ok` when the scanner may connect to `ip`; otherwise the range that forbids it.
    pub fn check(&self, ip: IpAddr) -> Result<(), Range> {
        match classify(ip) {
            Some(Range::Loopback) if self.allow_loopback => Ok(()),
            Some(range) if !self.allow_private && !self.allow_ips.contains(&ip) => Err(range),
            _ => Ok(()),
        }
    }

    /// True when `ip` is outside the public internet *and* one of the operator's explicit
    /// allowances admits it (`--allow-loopback`, `--allow-ip`, `--allow-private`): a lab
    /// address, the operator's own server, never a stranger's. Such endpoints may get the
    /// full malformed probe set, and ElectrumX does not cost-account them.
    pub fn operator_lab(&self, ip: IpAddr) -> bool {
        classify(ip).is_some() && self.check(ip).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operator_lab_is_non_public_and_explicitly_allowed() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let loopback = Policy {
            allow_loopback: true,
            ..Policy::default()
        };
        assert!(loopback.operator_lab(ip("127.0.0.5")) && loopback.operator_lab(ip("::1")));
        assert!(
            !loopback.operator_lab(ip("10.0.0.1")),
            "refused, so not the operator's"
        );
        assert!(
            !loopback.operator_lab(ip("8.8.8.8")),
            "public: a stranger's server"
        );
        let one = Policy {
            allow_ips: vec![ip("127.0.0.9")],
            ..Policy::default()
        };
        assert!(one.operator_lab(ip("127.0.0.9")) && !one.operator_lab(ip("127.0.0.10")));
        assert!(!one.operator_lab(ip("8.8.8.8")));
        let private = Policy {
            allow_private: true,
            ..Policy::default()
        };
        assert!(private.operator_lab(ip("192.168.1.1")) && !private.operator_lab(ip("1.1.1.1")));
        assert!(!Policy::default().operator_lab(ip("127.0.0.1")));
    }

    const REFUSED: &[(&str, Range)] = &[
        ("0.0.0.0", Range::Unspecified),
        ("0.1.2.3", Range::Unspecified),
        ("127.0.0.1", Range::Loopback),
        ("127.255.255.254", Range::Loopback),
        ("10.0.0.1", Range::Private),
        ("172.16.0.1", Range::Private),
        ("172.31.255.255", Range::Private),
        ("192.168.1.1", Range::Private),
        ("100.64.0.1", Range::SharedCgnat),
        ("100.127.255.255", Range::SharedCgnat),
        ("169.254.169.254", Range::LinkLocal),
        ("224.0.0.1", Range::Multicast),
        ("239.255.255.250", Range::Multicast),
        ("255.255.255.255", Range::Broadcast),
        ("240.0.0.1", Range::Reserved),
        ("192.0.2.1", Range::Documentation),
        ("198.51.100.7", Range::Documentation),
        ("203.0.113.9", Range::Documentation),
        ("198.18.0.1", Range::Benchmarking),
        ("198.19.255.1", Range::Benchmarking),
        ("192.0.0.8", Range::IetfProtocol),
        ("::", Range::Unspecified),
        ("::1", Range::Loopback),
        ("::ffff:127.0.0.1", Range::Ipv4Embedded),
        ("::ffff:8.8.8.8", Range::Ipv4Embedded),
        ("::10.0.0.1", Range::Ipv4Embedded),
        ("fe80::1", Range::LinkLocal),
        ("fec0::1", Range::SiteLocal),
        ("fc00::1", Range::UniqueLocal),
        ("fd12:3456::1", Range::UniqueLocal),
        ("ff02::1", Range::Multicast),
        ("2001:db8::1", Range::Documentation),
        ("3fff::1", Range::Documentation),
        ("2001:2::1", Range::Benchmarking),
        ("2001:10::1", Range::IetfProtocol),
        ("2002:0a00:0001::1", Range::TunnelToSpecial),
        ("2002:7f00:0001::1", Range::TunnelToSpecial),
        // Teredo with embedded (inverted) 192.168.1.1
        (
            "2001:0:4136:e378:8000:63bf:3f57:fefe",
            Range::TunnelToSpecial,
        ),
        ("64:ff9b:1::1", Range::OtherSpecialV6),
        ("100::1", Range::OtherSpecialV6),
        ("4000::1", Range::Reserved),
        ("::2", Range::Ipv4Embedded),
        ("64:ff9b::7f00:1", Range::TunnelToSpecial),
    ];

    const ALLOWED: &[&str] = &[
        "1.1.1.1",
        "8.8.8.8",
        "172.32.0.1",
        "100.128.0.1",
        "192.169.0.1",
        "198.20.0.1",
        "2606:4700:4700::1111",
        "2a01:4f8::1",
        "2002:0808:0808::1",
        "64:ff9b::808:808",
    ];

    #[test]
    fn every_special_range_is_refused_by_default() {
        let policy = Policy::default();
        for (text, range) in REFUSED {
            let ip: IpAddr = text.parse().unwrap();
            assert_eq!(classify(ip), Some(*range), "{text}");
            assert_eq!(policy.check(ip), Err(*range), "{text}");
        }
    }

    #[test]
    fn global_unicast_is_allowed() {
        let policy = Policy::default();
        for text in ALLOWED {
            let ip: IpAddr = text.parse().unwrap();
            assert_eq!(classify(ip), None, "{text}");
            assert_eq!(policy.check(ip), Ok(()), "{text}");
        }
    }

    #[test]
    fn loopback_is_allowed_only_with_the_allowance() {
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        assert!(Policy::default().check(ip).is_err());
        assert!(Policy {
            allow_private: true,
            ..Policy::default()
        }
        .check(ip)
        .is_ok());
        assert!(Policy {
            allow_loopback: true,
            ..Policy::default()
        }
        .check(ip)
        .is_ok());
    }

    #[test]
    fn the_loopback_allowance_permits_loopback_only() {
        let policy = Policy {
            allow_loopback: true,
            ..Policy::default()
        };
        for ok in ["127.0.0.1", "127.1.2.3", "::1"] {
            assert_eq!(policy.check(ok.parse().unwrap()), Ok(()), "{ok}");
        }
        for refused in [
            "10.0.0.5",
            "172.16.0.1",
            "192.168.0.5",
            "100.64.0.1",
            "169.254.1.1",
            "0.0.0.0",
            "fc00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
            "::ffff:127.0.0.1",
        ] {
            assert!(policy.check(refused.parse().unwrap()).is_err(), "{refused}");
        }
    }

    #[test]
    fn an_allowed_ip_permits_only_itself() {
        let allowed: IpAddr = "127.0.0.5".parse().unwrap();
        let policy = Policy {
            allow_ips: vec![allowed],
            ..Policy::default()
        };
        assert_eq!(policy.check(allowed), Ok(()));
        for other in ["127.0.0.6", "127.0.0.1", "::1", "10.0.0.5", "192.168.0.5"] {
            assert!(policy.check(other.parse().unwrap()).is_err(), "{other}");
        }
    }
}
