//! Writes a data directory analyzed by the real pipeline, for the site.
//!
//! `cargo run -p observatory-site --example analyzed -- DIR [SERVERS] [ROUNDS]`
//! writes a synthetic raw run of SERVERS servers (default 2,000) over ROUNDS
//! rounds (default 3) with `observatory_analysis::synthetic`, then runs
//! `observatory_analysis::run` on DIR, which writes `DIR/snapshots/`,
//! `DIR/processed/` and `DIR/reports/` exactly as `observatory analyze` does.
//! Locations stay empty unless GeoIP databases are installed (`data/geoip/`).

use std::path::PathBuf;

use observatory_analysis::{synthetic, Config};

/// Run id of the written run.
const RUN_ID: &str = "20261121T120000Z-synthetic";
/// Seed of the synthetic network, so every build measures the same data.
const SEED: u64 = 7;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(
        args.next()
            .ok_or("usage: analyzed DIR [SERVERS] [ROUNDS]")?,
    );
    let servers: usize = args.next().map_or(Ok(2000), |n| n.parse())?;
    let rounds: u32 = args.next().map_or(Ok(3), |n| n.parse())?;
    synthetic::write_run(&dir, &synthetic::network(RUN_ID, servers, rounds, SEED))?;
    let mut cfg = Config::new(&dir);
    cfg.generated_at = Some("2026-11-21T15:00:00Z".into());
    let summary = observatory_analysis::run(&cfg)?;
    println!(
        "analyzed {} servers ({} endpoints, {} rounds) into {}",
        summary.servers,
        summary.endpoints,
        summary.rounds,
        dir.display()
    );
    Ok(())
}
