//! `observatory analyze`: raw scans → CSVs, snapshots for the site, reports.
//!
//! Thin wrapper over [`observatory_analysis::run`]: it maps flags to a
//! [`observatory_analysis::Config`], prints what was written and the timing.
//! The executive summary (`docs/results_summary.md`) is only rewritten when
//! asked (`--write-summary` or `--summary PATH`), so an ad-hoc run never
//! overwrites the committed document.

use std::path::PathBuf;

use anyhow::Context as _;

/// Default location of the executive summary (`--write-summary`).
const DEFAULT_SUMMARY: &str = "docs/results_summary.md";

/// Arguments of `observatory analyze`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Data directory holding `raw/<run-id>/`; outputs go to `processed/`, `snapshots/`, `reports/`.
    #[arg(long, default_value = "data")]
    data: PathBuf,
    /// City or country mmdb (DB-IP Lite or GeoLite2 layout). Default: first found in DATA/geoip, data/geoip.
    #[arg(long)]
    geoip_city: Option<PathBuf>,
    /// ASN mmdb (GeoLite2-ASN layout) or ip-location-db ASN CSV file/directory.
    #[arg(long)]
    geoip_asn: Option<PathBuf>,
    /// Directory of published cloud ranges (`<provider>/ipv4_merged.txt`). Default: data/cloud.
    #[arg(long)]
    cloud_dir: Option<PathBuf>,
    /// Simulated network only: JSON `{"<loopback ip>": "<stand-in public ip>"}` written by
    /// `observatory simnet`; loopback addresses are enriched as their stand-ins.
    #[arg(long, value_name = "FILE")]
    ip_aliases: Option<PathBuf>,
    /// Write the executive summary to PATH.
    #[arg(long, value_name = "PATH")]
    summary: Option<PathBuf>,
    /// Write the executive summary to docs/results_summary.md.
    #[arg(long, conflicts_with = "summary")]
    write_summary: bool,
    /// Fixed generation time (RFC 3339) for reproducible output.
    #[arg(long)]
    generated_at: Option<String>,
    /// Print the run summary as JSON on stdout.
    #[arg(long)]
    json: bool,
}

/// Runs the subcommand.
pub fn run(args: Args) -> anyhow::Result<()> {
    let mut cfg = observatory_analysis::Config::new(&args.data);
    cfg.enrich.geoip_city = args.geoip_city;
    cfg.enrich.geoip_asn = args.geoip_asn;
    cfg.enrich.ip_aliases = args.ip_aliases;
    if let Some(d) = args.cloud_dir {
        cfg.enrich.cloud_dir = Some(d);
    }
    cfg.summary_path = args
        .summary
        .or_else(|| args.write_summary.then(|| PathBuf::from(DEFAULT_SUMMARY)));
    cfg.generated_at = args.generated_at;
    let s = observatory_analysis::run(&cfg)
        .with_context(|| format!("analyzing {}", args.data.display()))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&s)?);
        return Ok(());
    }
    println!(
        "analyzed run {}: {} records, {} endpoints, {} servers ({} reachable), {} round(s) in {:.0} ms",
        s.run_id, s.records, s.endpoints, s.servers, s.reachable_servers, s.rounds, s.elapsed_ms
    );
    let levels: Vec<String> = s
        .hss_levels
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    println!("HSS levels: {}", levels.join(", "));
    if s.corrupt_lines > 0 || s.corrupt_files > 0 {
        println!(
            "skipped {} corrupt line(s) and {} unreadable file(s) (see reports/summary.md)",
            s.corrupt_lines, s.corrupt_files
        );
    }
    for e in &s.enrichment {
        println!("source: {e}");
    }
    for f in &s.files {
        println!("wrote {}", f.display());
    }
    Ok(())
}
