//! Prints the analysis runtime and peak memory over a synthetic network (figures for
//! `docs/performance.md`; asserts nothing).
//!
//! ```text
//! cargo run --release -p observatory-analysis --example synthetic_bench -- [SERVERS] [ROUNDS] [DIR]
//! ```
//!
//! Writes a synthetic raw run (default 2,000 servers, 1 round; realistic records with every
//! probe filled, see `observatory_analysis::synthetic::network`) into DIR (default a temp
//! directory), frees it, resets the process's peak-RSS mark (Linux `clear_refs`), then times
//! `observatory_analysis::run` over the files: load, analysis and every write. The peak RSS
//! printed is the analysis's own.

use std::path::PathBuf;

/// `VmHWM` (peak resident set) of this process in KiB, where /proc has it.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// User + system CPU time of this process in seconds (/proc/self/stat, clock ticks at the
/// usual 100 Hz). On a shared machine this is steadier than wall time.
fn cpu_secs() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesized command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let servers: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(2000);
    let rounds: u32 = args.next().and_then(|s| s.parse().ok()).unwrap_or(1);
    let tmp = tempfile::tempdir()?;
    let dir = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(|| tmp.path().to_path_buf());
    let gen = std::time::Instant::now();
    {
        let run =
            observatory_analysis::synthetic::network("20261121T120000Z-synth", servers, rounds, 7);
        observatory_analysis::synthetic::write_run(&dir, &run)?;
    }
    let raw_bytes: u64 = std::fs::read_dir(dir.join("raw/20261121T120000Z-synth"))?
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum();
    println!(
        "generated {servers} servers x {rounds} round(s): {:.1} MB raw in {:.1} s",
        raw_bytes as f64 / 1e6,
        gen.elapsed().as_secs_f64()
    );
    // Reset the peak-RSS mark so the figure below is the analysis's own, not the generator's.
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let cpu0 = cpu_secs();
    let mut cfg = observatory_analysis::Config::new(&dir);
    cfg.generated_at = Some("2026-11-21T13:00:00Z".into());
    let s = observatory_analysis::run(&cfg)?;
    println!(
        "servers {} (reachable {}), endpoints {}, records {}, rounds {}",
        s.servers, s.reachable_servers, s.endpoints, s.records, s.rounds
    );
    println!(
        "analysis wall time: {:.1} ms (load to last write)",
        s.elapsed_ms
    );
    if let (Some(a), Some(b)) = (cpu0, cpu_secs()) {
        println!("analysis CPU time (user+sys): {:.2} s", b - a);
    }
    for (stage, ms) in &s.stage_ms {
        println!("  {stage:<16} {ms:10.1} ms");
    }
    match peak_rss_kib() {
        Some(k) => println!(
            "peak RSS: {:.1} MB{}",
            k as f64 / 1024.0,
            if reset {
                ""
            } else {
                " (includes generation: clear_refs unavailable)"
            }
        ),
        None => println!("peak RSS: unavailable (no /proc)"),
    }
    for e in &s.enrichment {
        println!("source: {e}");
    }
    let snapshot = s.files.iter().find(|f| {
        f.parent().is_some_and(|p| p.ends_with("snapshots")) && !f.ends_with("index.json")
    });
    if let Some(f) = snapshot {
        println!(
            "snapshot: {:.1} MB",
            std::fs::metadata(f)?.len() as f64 / 1e6
        );
    }
    println!("HSS levels: {:?}", s.hss_levels);
    Ok(())
}
