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
//! Onion hosts are never looked up: they have no location and form their own bucket.

pub mod asn;
pub mod centroids;
pub mod cloud;
pub mod geo;

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
}

/// The loaded databases. Each is optional: a missing database yields unknown values.
#[derive(Debug, Default)]
pub struct Enricher {
    /// GeoIP.
    pub geo: Option<geo::GeoDb>,
    /// ASN.
    pub asn: Option<asn::AsnDb>,
    /// Cloud ranges.
    pub cloud: cloud::CloudRanges,
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
            e.sources.push(format!("GeoIP: {} ({})", p.display(), db.kind()));
            e.geo = Some(db);
        }
        if let Some(p) = &cfg.geoip_asn {
            let db = asn::AsnDb::open(p)?;
            e.sources.push(format!("ASN: {} ({})", p.display(), db.kind()));
            e.asn = Some(db);
        }
        if let Some(d) = &cfg.cloud_dir {
            e.cloud = cloud::CloudRanges::load_dir(d)?;
            e.sources.push(format!("cloud ranges: {} ({} providers, {} prefixes)", d.display(), e.cloud.providers().len(), e.cloud.len()));
        }
        Ok(e)
    }

    /// Looks up one IP (text form). Non-IP text yields an empty [`IpInfo`].
    pub fn lookup(&self, ip: &str) -> IpInfo {
        let Ok(addr) = ip.parse::<IpAddr>() else { return IpInfo::default() };
        let location = self.geo.as_ref().and_then(|g| g.lookup(addr));
        let (asn, as_org) = self.asn.as_ref().and_then(|a| a.lookup(addr)).map_or((None, None), |r| (Some(r.0), r.1));
        let cloud = self.cloud.lookup(addr);
        let provider = cloud.map(str::to_string).or_else(|| as_org.as_deref().map(provider_label));
        IpInfo { location, asn, as_org, provider, cloud: cloud.is_some() }
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

/// Default file names searched in a GeoIP directory, best first.
pub const CITY_DB_NAMES: &[&str] =
    &["dbip-city.mmdb", "dbip-city-lite.mmdb", "GeoLite2-City.mmdb", "dbip-country.mmdb", "dbip-country-lite.mmdb", "GeoLite2-Country.mmdb"];
/// Default ASN database names searched in a GeoIP directory, best first.
pub const ASN_DB_NAMES: &[&str] = &["ip-location-db-asn.mmdb", "GeoLite2-ASN.mmdb", "asn.mmdb", "asn-ipv4.csv"];

/// Fills unset database paths from the first directory of `dirs` holding a known file name.
pub fn discover(cfg: &mut EnrichConfig, dirs: &[PathBuf]) {
    let find = |names: &[&str]| -> Option<PathBuf> {
        dirs.iter().flat_map(|d| names.iter().map(move |n| d.join(n))).find(|p| p.is_file())
    };
    if cfg.geoip_city.is_none() {
        cfg.geoip_city = find(CITY_DB_NAMES);
    }
    if cfg.geoip_asn.is_none() {
        cfg.geoip_asn = find(ASN_DB_NAMES);
    }
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
    candidates.into_iter().find(|d| d.join("ip-location-db-asn.mmdb").is_file() || d.join("asn-ipv4.csv").is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

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
