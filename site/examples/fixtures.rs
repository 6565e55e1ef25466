//! Writes fixture snapshots for the site's tests.
//!
//! `cargo run -p observatory-site --example fixtures -- DIR [SERVERS]` writes
//! `DIR/index.json` and `DIR/snapshot.json`: without `SERVERS` the 20-server
//! browser-test fixture (committed in `site/fixtures/`), with it a synthetic
//! snapshot of that many servers.

use std::path::PathBuf;

use observatory_site::fixture;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().ok_or("usage: fixtures DIR [SERVERS]")?);
    let snapshot = match args.next() {
        Some(n) => fixture::synthetic(n.parse()?),
        None => fixture::small(),
    };
    std::fs::create_dir_all(&dir)?;
    let json = serde_json::to_string_pretty(&snapshot)? + "\n";
    std::fs::write(dir.join(fixture::SNAPSHOT_FILE), json)?;
    let index = serde_json::to_string_pretty(&fixture::index_for(&snapshot))? + "\n";
    std::fs::write(dir.join("index.json"), index)?;
    println!(
        "wrote {} servers to {}",
        snapshot.servers.len(),
        dir.display()
    );
    Ok(())
}
