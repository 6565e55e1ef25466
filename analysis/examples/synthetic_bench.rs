//! Prints the analysis runtime over a synthetic network (the figure in the closing note).
//!
//! `cargo run --release -p observatory-analysis --example synthetic_bench -- [SERVERS] [ROUNDS] [DIR]`
//!
//! Writes a synthetic raw run (default 2,000 servers, 1 round) into DIR (default a temp
//! directory), then times `observatory_analysis::run` over it. Prints figures, asserts nothing.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let servers: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(2000);
    let rounds: u32 = args.next().and_then(|s| s.parse().ok()).unwrap_or(1);
    let tmp = tempfile::tempdir()?;
    let dir = args.next().map(PathBuf::from).unwrap_or_else(|| tmp.path().to_path_buf());
    let run = observatory_analysis::synthetic::network("20261121T120000Z-synth", servers, rounds, 7);
    observatory_analysis::synthetic::write_run(&dir, &run)?;
    let mut cfg = observatory_analysis::Config::new(&dir);
    cfg.generated_at = Some("2026-11-21T13:00:00Z".into());
    let s = observatory_analysis::run(&cfg)?;
    println!("servers {} (reachable {}), endpoints {}, records {}, rounds {}", s.servers, s.reachable_servers, s.endpoints, s.records, s.rounds);
    println!("analysis wall time: {:.1} ms", s.elapsed_ms);
    for (stage, ms) in &s.stage_ms {
        println!("  {stage:<16} {ms:8.1} ms");
    }
    for e in &s.enrichment {
        println!("source: {e}");
    }
    println!("HSS levels: {:?}", s.hss_levels);
    Ok(())
}
