//! The site's data shaping on a snapshot written by the real analysis
//! pipeline (not the hand-built fixture): every chart and table gets data, and
//! the rows the ranking links to resolve to server pages.

use observatory_analysis::{synthetic, Config};
use observatory_model::snapshot::{Snapshot, SnapshotIndex};
use observatory_site::shape::{
    bars, check_schema, dimension, headline, heatmap, level_counts, pca_points, rank, server_by_id,
    unmeasured_count, RankQuery, MAX_BARS, METHODS,
};

/// Servers in the synthetic network: enough for every clustering method to find groups.
const SERVERS: usize = 80;

/// The analyzed data directory (kept alive with the snapshot, for file checks).
fn analyzed() -> (Snapshot, SnapshotIndex, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = synthetic::network("20261121T120000Z-site", SERVERS, 3, 11);
    synthetic::write_run(dir.path(), &run).expect("write raw run");
    let mut cfg = Config::new(dir.path());
    cfg.generated_at = Some("2026-11-21T15:00:00Z".into());
    observatory_analysis::run(&cfg).expect("analysis");
    let read = |rel: &str| std::fs::read_to_string(dir.path().join(rel)).expect(rel);
    let index: SnapshotIndex = serde_json::from_str(&read("snapshots/index.json")).expect("index");
    let file = &index.snapshots.last().expect("one snapshot").file;
    let snapshot: Snapshot =
        serde_json::from_str(&read(&format!("snapshots/{file}"))).expect("snapshot");
    (snapshot, index, dir)
}

#[test]
fn every_view_gets_data_from_a_real_snapshot() {
    let (snap, index, dir) = analyzed();
    check_schema(index.schema_version).expect("index schema");
    check_schema(snap.schema_version).expect("snapshot schema");
    // The synthetic run adds a few failing endpoints of its own to the servers asked for.
    assert!(snap.servers.len() >= SERVERS, "{}", snap.servers.len());
    let total = snap.servers.len();

    // Overview and centralization.
    let h = headline(&snap);
    // Without GeoIP databases (as in CI) the ASN is unknown everywhere: no coefficient.
    assert_eq!(
        h.nakamoto_asn.is_some(),
        dimension(&snap, "asn").is_some_and(|d| d.total > 0)
    );
    for id in ["implementation", "version"] {
        let d = dimension(&snap, id).unwrap_or_else(|| panic!("dimension {id}"));
        let b = bars(d, MAX_BARS);
        assert!(!b.is_empty() && b.len() <= MAX_BARS, "{id}: {b:?}");
    }
    assert_eq!(
        level_counts(&snap).iter().map(|c| c.1).sum::<u64>() + unmeasured_count(&snap),
        total as u64
    );

    // Ranking: every server, score descending, each row resolves to its page.
    let rows = rank(&snap.servers, &RankQuery::default());
    assert_eq!(rows.len(), total);
    assert!(rows.windows(2).all(|w| w[0].hss.score >= w[1].hss.score));
    for s in rows {
        assert!(server_by_id(&snap, &s.id).is_some(), "{}", s.id);
    }

    // Clusters: a heatmap row per cluster with one cell per feature, PCA points.
    for (method, _) in METHODS {
        let hm = heatmap(&snap.clusters, method);
        assert!(
            hm.rows.iter().all(|r| r.cells.len() == hm.columns.len()),
            "{method}"
        );
    }
    assert!(!heatmap(&snap.clusters, "kmeans").rows.is_empty());
    assert!(!pca_points(&snap.servers, "kmeans").is_empty());

    // Downloads are relative paths inside the data folder, and each names a file
    // analysis wrote (scripts/build-site.sh copies them into the site as they are).
    assert!(!snap.downloads.is_empty());
    for d in &snap.downloads {
        assert!(
            !d.path.starts_with('/') && !d.path.contains(".."),
            "{}",
            d.path
        );
        let on_disk = std::fs::metadata(dir.path().join(&d.path))
            .unwrap_or_else(|e| panic!("{}: {e}", d.path));
        assert_eq!(on_disk.len(), d.bytes, "{}: recorded size", d.path);
    }

    // The synthetic network is labelled simulated, so the site shows its banner.
    assert!(snap.simulated);
}

/// The browser test's fixture offers the same files as a real analysis (its
/// snapshot under the fixture's file name), so its download links are not made up.
#[test]
fn fixture_downloads_name_the_files_analysis_writes() {
    // Snapshot file names differ by run id; everything else must be the same.
    let paths = |s: &Snapshot| -> Vec<String> {
        s.downloads
            .iter()
            .map(|d| {
                if d.path.starts_with("snapshots/") {
                    "snapshots/*".into()
                } else {
                    d.path.clone()
                }
            })
            .collect()
    };
    let (snap, _, _dir) = analyzed();
    let real = paths(&snap);
    let fixture = paths(&observatory_site::fixture::small());
    assert_eq!(fixture, real);
}
