//! Analysis of raw Electrum Observatory scans.
//!
//! `observatory analyze --data DIR` calls [`run`], which:
//!
//! 1. [`load`]s every `DIR/raw/<run-id>/endpoints.jsonl` (corrupt lines are warnings),
//! 2. [`normalize`]s: dedupes endpoints across rounds, groups them into servers,
//! 3. [`profile`]s each server and [`enrich`]es it (GeoIP, ASN, hosting provider),
//! 4. scores the Honeypot Suspicion Score ([`hss`]), clusters ([`cluster`]),
//!    measures centralization ([`metrics`]) and privacy exposure ([`privacy`]),
//! 5. writes, atomically ([`atomic`]): `DIR/processed/{servers,fingerprints,tls}.csv`
//!    ([`csv_out`]), `DIR/snapshots/<run-id>.json` + `index.json` (the site's input, in
//!    [`observatory_model::snapshot`]), `DIR/reports/summary.{md,json}` ([`report`]), and
//!    optionally the executive summary `docs/results_summary.md`.
//!
//! Steps 2–4 are the pure function [`assemble::analyze`]; [`synthetic`] builds
//! realistic raw records for tests and benchmarks.
//!
//! ```no_run
//! let cfg = observatory_analysis::Config::new("data");
//! let summary = observatory_analysis::run(&cfg)?;
//! println!("{} servers in {:.0} ms", summary.servers, summary.elapsed_ms);
//! # Ok::<(), observatory_analysis::Error>(())
//! ```

pub mod assemble;
pub mod atomic;
pub mod cluster;
pub mod csv_out;
pub mod enrich;
pub mod error;
pub mod geoip_fetch;
pub mod hss;
pub mod load;
pub mod metrics;
pub mod normalize;
pub mod privacy;
pub mod profile;
pub mod report;
pub mod stats;
pub mod synthetic;
pub mod timefmt;

use std::path::{Path, PathBuf};
use std::time::Instant;

use observatory_model::snapshot::{
    Download, Server, SnapshotIndex, SnapshotRef, SNAPSHOT_SCHEMA_VERSION,
};

pub use error::{Error, Result};

/// One server's facts and its snapshot view, carried together through output.
#[derive(Debug)]
pub struct ServerResult<'a> {
    /// Facts.
    pub facts: profile::Facts<'a>,
    /// View.
    pub view: Server,
}

/// What to analyze and where to write.
#[derive(Debug, Clone)]
pub struct Config {
    /// The data directory (`raw/` inside; `processed/`, `snapshots/`, `reports/` written).
    pub data_dir: PathBuf,
    /// Databases; unset paths are discovered in `geoip_dirs`.
    pub enrich: enrich::EnrichConfig,
    /// Directories searched for GeoIP databases when not given explicitly.
    pub geoip_dirs: Vec<PathBuf>,
    /// Write the executive summary here (e.g. `docs/results_summary.md`).
    pub summary_path: Option<PathBuf>,
    /// Fixed generation time (RFC 3339) for reproducible output; now when None.
    pub generated_at: Option<String>,
}

impl Config {
    /// Defaults for a data directory: GeoIP searched in `DIR/geoip` and `data/geoip`,
    /// cloud ranges from `data/cloud` when present, no executive summary.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        let data_dir = data_dir.into();
        let cloud = Path::new("data/cloud");
        Config {
            geoip_dirs: vec![data_dir.join("geoip"), PathBuf::from("data/geoip")],
            enrich: enrich::EnrichConfig {
                cloud_dir: cloud.is_dir().then(|| cloud.to_path_buf()),
                ..Default::default()
            },
            data_dir,
            summary_path: None,
            generated_at: None,
        }
    }
}

/// What a run did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Summary {
    /// Newest run id (snapshot name).
    pub run_id: String,
    /// Raw records read.
    pub records: u64,
    /// Endpoints.
    pub endpoints: u64,
    /// Servers.
    pub servers: u64,
    /// Reachable servers.
    pub reachable_servers: u64,
    /// Rounds merged.
    pub rounds: u32,
    /// Corrupt lines skipped.
    pub corrupt_lines: u64,
    /// Unreadable files.
    pub corrupt_files: u64,
    /// Warnings (load problems, missing databases), as text.
    pub warnings: Vec<String>,
    /// Enrichment sources used.
    pub enrichment: Vec<String>,
    /// Files written.
    pub files: Vec<PathBuf>,
    /// Wall time of the analysis proper (load to last write), ms.
    pub elapsed_ms: f64,
    /// Per-stage times, ms.
    pub stage_ms: Vec<(String, f64)>,
    /// Servers per HSS level.
    pub hss_levels: std::collections::BTreeMap<String, u64>,
}

/// Loads, analyzes and writes everything for `cfg`.
pub fn run(cfg: &Config) -> Result<Summary> {
    let start = Instant::now();
    let data = load::load_dir(&cfg.data_dir)?;
    let load_ms = start.elapsed().as_secs_f64() * 1000.0;
    let mut ecfg = cfg.enrich.clone();
    enrich::discover(&mut ecfg, &cfg.geoip_dirs);
    let enricher = enrich::Enricher::open(&ecfg)?;
    // Enrichment notes travel with the load warnings so the report shows them too.
    let mut notes: Vec<load::LoadWarning> = Vec::new();
    let mut note = |problem: &str| {
        notes.push(load::LoadWarning {
            file: "geoip".into(),
            line: None,
            problem: problem.into(),
        })
    };
    match &enricher.geo {
        None => note("no GeoIP database found: locations unknown (run `observatory geoip fetch` or scripts/setup/20-geoip.sh)"),
        Some(g) if g.is_country_only() => note(
            "GeoIP database is country-level: no city names, map points at country centroids (`observatory geoip fetch` adds the DB-IP city database)",
        ),
        Some(_) => {}
    }
    if enricher.asn.is_none() {
        note("no ASN database found: ASN and provider dimensions unknown");
    }
    let all_warnings: Vec<load::LoadWarning> = data.warnings.iter().cloned().chain(notes).collect();
    let warnings: Vec<String> = all_warnings
        .iter()
        .map(|w| {
            format!(
                "{}{}: {}",
                w.file,
                w.line.map(|l| format!(":{l}")).unwrap_or_default(),
                w.problem
            )
        })
        .collect();
    for w in &warnings {
        tracing::warn!("{w}");
    }
    let opts = assemble::Options {
        generated_at: cfg
            .generated_at
            .clone()
            .unwrap_or_else(timefmt::now_rfc3339),
        geo_loaded: enricher.geo.is_some(),
        asn_loaded: enricher.asn.is_some(),
        cloud_loaded: !enricher.cloud.is_empty(),
    };
    let mut analysis = assemble::analyze(&data, &enricher, &opts);
    analysis.stage_ms.insert(0, ("load".into(), load_ms));
    let write_start = Instant::now();
    let files = write_outputs(cfg, &data, &all_warnings, &enricher, &mut analysis)?;
    analysis
        .stage_ms
        .push(("write".into(), write_start.elapsed().as_secs_f64() * 1000.0));
    let s = &analysis.snapshot;
    Ok(Summary {
        run_id: s.run_id.clone(),
        records: data.records().count() as u64,
        endpoints: s.totals.endpoints,
        servers: s.totals.servers,
        reachable_servers: s.totals.reachable_servers,
        rounds: s.rounds,
        corrupt_lines: data.corrupt_lines,
        corrupt_files: data.corrupt_files,
        warnings,
        enrichment: enricher.sources.clone(),
        files,
        elapsed_ms: start.elapsed().as_secs_f64() * 1000.0,
        stage_ms: analysis.stage_ms.clone(),
        hss_levels: s.hss.by_level.clone(),
    })
}

/// Serializations tried to make the snapshot's recorded own size exact.
const MAX_SIZE_PASSES: usize = 4;

/// Snapshot file name for a run id (ids are `[A-Za-z0-9-]` by construction; anything else is replaced).
pub fn snapshot_file(run_id: &str) -> String {
    let safe: String = run_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!(
        "{}.json",
        if safe.is_empty() {
            "snapshot".into()
        } else {
            safe
        }
    )
}

fn write_outputs(
    cfg: &Config,
    data: &load::LoadedData,
    warnings: &[load::LoadWarning],
    enricher: &enrich::Enricher,
    a: &mut assemble::Analysis,
) -> Result<Vec<PathBuf>> {
    let d = &cfg.data_dir;
    let mut files = Vec::new();
    let mut downloads = Vec::new();
    for (rel, bytes, label) in [
        (
            assemble::SERVERS_CSV,
            &a.csv.servers,
            "Servers (one row per endpoint), CSV",
        ),
        (
            assemble::FINGERPRINTS_CSV,
            &a.csv.fingerprints,
            "Behavior fingerprints, CSV",
        ),
        (
            assemble::TLS_CSV,
            &a.csv.tls,
            "TLS certificates (certificate × endpoint), CSV",
        ),
    ] {
        let p = d.join(rel);
        atomic::write_atomic(&p, bytes)?;
        files.push(p);
        downloads.push(Download {
            label: label.into(),
            path: rel.into(),
            bytes: bytes.len() as u64,
        });
    }
    let file = snapshot_file(&a.snapshot.run_id);
    downloads.push(Download {
        label: "This snapshot, JSON".into(),
        path: format!("snapshots/{file}"),
        bytes: 0,
    });
    a.snapshot.downloads = downloads;
    // Compact JSON: the site downloads this file (pretty printing adds about 70%).
    // The snapshot records its own size, which it only knows once serialized; writing the
    // number can change the size (more digits), so repeat until it is a fixed point. Two or
    // three passes settle it: the digit count of a length stops changing at once.
    let mut json = serde_json::to_vec(&a.snapshot).map_err(|source| Error::Json {
        what: "snapshot",
        source,
    })?;
    for _ in 0..MAX_SIZE_PASSES {
        let size = json.len() as u64 + 1; // + the final newline
        match a.snapshot.downloads.last_mut() {
            Some(dl) if dl.bytes != size => dl.bytes = size,
            _ => break,
        }
        json = serde_json::to_vec(&a.snapshot).map_err(|source| Error::Json {
            what: "snapshot",
            source,
        })?;
    }
    json.push(b'\n');
    let snap_path = d.join("snapshots").join(&file);
    atomic::write_atomic(&snap_path, &json)?;
    files.push(snap_path);

    let index_path = d.join("snapshots/index.json");
    let mut index = std::fs::read(&index_path)
        .ok()
        .and_then(|b| serde_json::from_slice::<SnapshotIndex>(&b).ok())
        .filter(|i| i.schema_version == SNAPSHOT_SCHEMA_VERSION)
        .unwrap_or(SnapshotIndex {
            schema_version: SNAPSHOT_SCHEMA_VERSION,
            snapshots: vec![],
        });
    // Keep only entries whose file still exists, then upsert this run.
    index
        .snapshots
        .retain(|r| r.run_id != a.snapshot.run_id && d.join("snapshots").join(&r.file).is_file());
    index.snapshots.push(SnapshotRef {
        run_id: a.snapshot.run_id.clone(),
        file,
        generated_at: a.snapshot.generated_at.clone(),
        servers: a.snapshot.totals.servers,
        endpoints: a.snapshot.totals.endpoints,
    });
    index.snapshots.sort_by(|x, y| x.run_id.cmp(&y.run_id));
    atomic::write_json(&index_path, "snapshot index", &index)?;
    files.push(index_path);

    let rep = report::build(
        &a.snapshot,
        warnings,
        data.corrupt_lines,
        data.corrupt_files,
        &enricher.sources,
        &a.stage_ms,
    );
    let p = d.join("reports/summary.json");
    atomic::write_json(&p, "report", &rep)?;
    files.push(p);
    let p = d.join("reports/summary.md");
    atomic::write_atomic(
        &p,
        report::markdown(&rep, report::Flavor::Report).as_bytes(),
    )?;
    files.push(p);
    if let Some(p) = &cfg.summary_path {
        atomic::write_atomic(
            p,
            report::markdown(&rep, report::Flavor::Executive).as_bytes(),
        )?;
        files.push(p.clone());
    }
    Ok(files)
}
