//! ASN lookups: a GeoLite2-ASN-layout mmdb, or ip-location-db ASN CSV ranges.
//!
//! The mmdb record is `{autonomous_system_number, autonomous_system_organization}`
//! (GeoLite2-ASN; the `ip-location-db-asn.mmdb` built from the ip-location-db CSV has
//! the same names). npm carries no ASN mmdb, only CSVs of
//! `start_ip,end_ip,asn,organization`; [`AsnDb::open`] reads those too (a file, or a
//! directory holding `asn-ipv4.csv` and `asn-ipv6.csv`) into sorted ranges.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use maxminddb::Reader;
use serde::Deserialize;

use super::Number;
use crate::error::{Error, Result};

/// Longest AS organization kept.
const MAX_ORG_LEN: usize = 128;

/// GeoLite2-ASN record (with aliases for other writers' names).
#[derive(Debug, Default, Deserialize)]
pub struct AsnRecord {
    /// AS number (uint32 in GeoLite2-ASN; any integer width is accepted).
    #[serde(alias = "asn", alias = "as_number")]
    pub autonomous_system_number: Option<Number>,
    /// AS organization.
    #[serde(alias = "as_organization", alias = "organization", alias = "as_name")]
    pub autonomous_system_organization: Option<String>,
}

/// One CSV range, addresses as u128 (IPv4 mapped into the low 32 bits, tagged by family).
#[derive(Debug, Clone)]
struct Range {
    v6: bool,
    start: u128,
    end: u128,
    asn: u32,
    org: String,
}

/// An open ASN database.
#[derive(Debug)]
pub enum AsnDb {
    /// MaxMind format.
    Mmdb(Reader<Vec<u8>>),
    /// Sorted CSV ranges.
    Ranges(Vec<RangeEntry>),
}

/// A CSV range (public so the enum is documentable; fields are private).
#[derive(Debug, Clone)]
pub struct RangeEntry(Range);

fn bounded(s: &str) -> String {
    s.trim().chars().take(MAX_ORG_LEN).collect()
}

fn ip_key(ip: IpAddr) -> (bool, u128) {
    match ip {
        IpAddr::V4(v4) => (false, u128::from(u32::from(v4))),
        IpAddr::V6(v6) => (true, u128::from(v6)),
    }
}

impl AsnDb {
    /// Opens an mmdb file, a CSV file, or a directory of `asn-ipv4.csv` / `asn-ipv6.csv`.
    pub fn open(path: &Path) -> Result<Self> {
        let is_csv = path.extension().is_some_and(|e| e == "csv");
        if path.is_dir() || is_csv {
            let files: Vec<PathBuf> = if path.is_dir() {
                ["asn-ipv4.csv", "asn-ipv6.csv"]
                    .iter()
                    .map(|n| path.join(n))
                    .filter(|p| p.is_file())
                    .collect()
            } else {
                // A named v4 file brings its v6 sibling along.
                let mut v = vec![path.to_path_buf()];
                let sib = path.with_file_name("asn-ipv6.csv");
                if sib != path && sib.is_file() {
                    v.push(sib);
                }
                v
            };
            if files.is_empty() {
                return Err(Error::Database {
                    path: path.into(),
                    reason: "no asn-ipv4.csv / asn-ipv6.csv".into(),
                });
            }
            let mut ranges = Vec::new();
            for f in files {
                read_csv(&f, &mut ranges)?;
            }
            ranges.sort_by_key(|r| (r.v6, r.start));
            return Ok(AsnDb::Ranges(ranges.into_iter().map(RangeEntry).collect()));
        }
        Reader::open_readfile(path)
            .map(AsnDb::Mmdb)
            .map_err(|e| Error::Database {
                path: path.into(),
                reason: e.to_string(),
            })
    }

    /// What kind of database this is.
    pub fn kind(&self) -> String {
        match self {
            AsnDb::Mmdb(r) => format!("mmdb type {:?}", r.metadata().database_type),
            AsnDb::Ranges(v) => format!("CSV, {} ranges", v.len()),
        }
    }

    /// AS number and organization of an address.
    pub fn lookup(&self, ip: IpAddr) -> Option<(u32, Option<String>)> {
        match self {
            AsnDb::Mmdb(reader) => {
                let rec: AsnRecord = reader.lookup(ip).ok()?.decode().ok()??;
                Some((
                    rec.autonomous_system_number?.as_u32()?,
                    rec.autonomous_system_organization.as_deref().map(bounded),
                ))
            }
            AsnDb::Ranges(ranges) => {
                let key = ip_key(ip);
                let idx = ranges.partition_point(|r| (r.0.v6, r.0.start) <= key);
                let r = &ranges.get(idx.checked_sub(1)?)?.0;
                (r.v6 == key.0 && key.1 <= r.end)
                    .then(|| (r.asn, Some(r.org.clone()).filter(|o| !o.is_empty())))
            }
        }
    }
}

fn read_csv(path: &Path, out: &mut Vec<Range>) -> Result<()> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(path)
        .map_err(|e| Error::Database {
            path: path.into(),
            reason: e.to_string(),
        })?;
    for row in rdr.records().flatten() {
        let (Some(a), Some(b), Some(asn)) = (row.get(0), row.get(1), row.get(2)) else {
            continue;
        };
        let (Ok(a), Ok(b), Ok(asn)) =
            (a.parse::<IpAddr>(), b.parse::<IpAddr>(), asn.parse::<u32>())
        else {
            continue;
        };
        let ((va, sa), (vb, sb)) = (ip_key(a), ip_key(b));
        if va != vb || sa > sb {
            continue;
        }
        out.push(Range {
            v6: va,
            start: sa,
            end: sb,
            asn,
            org: bounded(row.get(3).unwrap_or("")),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_ranges() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("asn-ipv4.csv"), "1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.\"\n5.9.0.0,5.9.255.255,24940,Hetzner Online GmbH\nbad,row\n").unwrap();
        std::fs::write(
            dir.path().join("asn-ipv6.csv"),
            "2a01:4f8::,2a01:4f8:ffff:ffff:ffff:ffff:ffff:ffff,24940,Hetzner Online GmbH\n",
        )
        .unwrap();
        let db = AsnDb::open(dir.path()).unwrap();
        assert_eq!(
            db.lookup("1.0.0.1".parse().unwrap()),
            Some((13335, Some("Cloudflare, Inc.".into())))
        );
        assert_eq!(
            db.lookup("5.9.10.10".parse().unwrap()).map(|r| r.0),
            Some(24940)
        );
        assert_eq!(
            db.lookup("2a01:4f8::1".parse().unwrap()).map(|r| r.0),
            Some(24940)
        );
        assert_eq!(db.lookup("1.0.1.0".parse().unwrap()), None);
        assert_eq!(db.lookup("0.0.0.1".parse().unwrap()), None);
        assert!(AsnDb::open(&dir.path().join("asn-ipv4.csv")).is_ok());
        assert!(AsnDb::open(&dir.path().join("missing")).is_err());
    }
}
