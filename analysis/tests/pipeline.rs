//! `observatory_analysis::run` end to end on raw run directories: every output written
//! (atomically, no temp file left), the snapshot index maintained across runs, corrupt
//! and truncated raw files reported and skipped, byte-identical output for identical
//! input, hostile strings kept out of spreadsheet formulas, and golden files that catch
//! schema drift.
//!
//! Goldens live in `data/golden/` at the repository root: a fixed raw input
//! (`raw/<run>/`), the snapshot it produces, the CSV headers, and the JSON shape of the
//! snapshot. `UPDATE_GOLDEN=1 cargo test -p observatory-analysis --test pipeline`
//! rewrites the outputs (and creates the raw input when it is missing); review the diff.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use observatory_analysis::enrich::EnrichConfig;
use observatory_analysis::load::{RunData, ENDPOINTS_FILE, MANIFEST_FILE};
use observatory_analysis::synthetic::{self, Rec};
use observatory_analysis::{csv_out, Config, Summary};
use observatory_model::raw::{Status, Transport};
use observatory_model::snapshot::{Snapshot, SnapshotIndex, SNAPSHOT_SCHEMA_VERSION};

const GENERATED_AT: &str = "2026-11-21T13:00:00Z";
const RUN_A: &str = "20261121T120000Z-a";
const RUN_B: &str = "20261121T180000Z-b";

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn golden_dir() -> PathBuf {
    crate_dir().join("../data/golden")
}

/// A configuration that depends only on checked-in fixtures: the nested-layout city
/// fixture, the fixture ASN table, no cloud ranges, a fixed generation time.
fn config(data: &Path) -> Config {
    let fx = crate_dir().join("tests/fixtures");
    let mut cfg = Config::new(data);
    cfg.geoip_dirs = vec![];
    cfg.enrich = EnrichConfig {
        geoip_city: Some(fx.join("nested-city.mmdb")),
        geoip_asn: Some(fx.join("asn-ipv4.csv")),
        cloud_dir: None,
        ip_aliases: None,
    };
    cfg.generated_at = Some(GENERATED_AT.into());
    cfg
}

fn write(data: &Path, run: &RunData) {
    synthetic::write_run(data, run).unwrap();
}

fn run(data: &Path) -> Summary {
    observatory_analysis::run(&config(data)).unwrap()
}

fn read_snapshot(path: &Path) -> Snapshot {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Files whose names mark an unfinished atomic write.
fn temp_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in walk(dir) {
        let name = entry
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.starts_with('.') && name.contains(".tmp-") {
            out.push(entry);
        }
    }
    out
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn csv_rows(path: &Path) -> (Vec<String>, Vec<csv::StringRecord>) {
    let mut r = csv::ReaderBuilder::new().from_path(path).unwrap();
    let headers = r.headers().unwrap().iter().map(String::from).collect();
    let rows = r.records().collect::<Result<Vec<_>, _>>().unwrap();
    (headers, rows)
}

#[test]
fn end_to_end_writes_every_output() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let mut input = synthetic::network(RUN_A, 60, 3, 5);
    // A server that never answers, in any round.
    for round in 0..3 {
        input.records.push(
            Rec::new(RUN_A, round, "never.example", 50002, Transport::Tls)
                .ip("51.38.7.7")
                .status(Status::ConnectionTimeout, Some("connect timed out"))
                .build(),
        );
    }
    write(data, &input);
    let mut cfg = config(data);
    let summary_md = data.join("docs/results_summary.md");
    cfg.summary_path = Some(summary_md.clone());
    let s = observatory_analysis::run(&cfg).unwrap();

    assert_eq!(s.run_id, RUN_A);
    assert_eq!(s.rounds, 3);
    assert_eq!((s.corrupt_lines, s.corrupt_files), (0, 0));
    assert!(s.servers >= 60 && s.reachable_servers > 0, "{s:?}");
    let expect: BTreeSet<PathBuf> = [
        "processed/servers.csv",
        "processed/fingerprints.csv",
        "processed/tls.csv",
        &format!("snapshots/{RUN_A}.json"),
        "snapshots/index.json",
        "reports/summary.json",
        "reports/summary.md",
        "docs/results_summary.md",
    ]
    .iter()
    .map(|p| data.join(p))
    .collect();
    assert_eq!(s.files.iter().cloned().collect::<BTreeSet<_>>(), expect);
    for f in &expect {
        assert!(
            std::fs::metadata(f).unwrap().len() > 0,
            "{} is empty",
            f.display()
        );
    }
    assert!(temp_files(data).is_empty(), "{:?}", temp_files(data));

    let snap = read_snapshot(&data.join(format!("snapshots/{RUN_A}.json")));
    assert_eq!(snap.schema_version, SNAPSHOT_SCHEMA_VERSION);
    assert_eq!(snap.totals.servers, s.servers);
    assert_eq!(snap.servers.len() as u64, s.servers);
    assert!(snap
        .downloads
        .iter()
        .any(|d| d.path == "processed/servers.csv" && d.bytes > 0));
    let own = snap
        .downloads
        .iter()
        .find(|d| d.path == format!("snapshots/{RUN_A}.json"))
        .unwrap();
    assert_eq!(
        own.bytes,
        std::fs::metadata(data.join(&own.path)).unwrap().len(),
        "the snapshot records its own exact size"
    );
    assert!(snap
        .attribution
        .iter()
        .any(|a| a.source.contains("DB-IP") && a.licence == "CC-BY-4.0"));

    // One servers.csv row per endpoint, columns as documented.
    let (headers, rows) = csv_rows(&data.join("processed/servers.csv"));
    assert_eq!(
        headers,
        csv_out::SERVERS_COLUMNS
            .iter()
            .map(|c| c.0)
            .collect::<Vec<_>>()
    );
    assert_eq!(rows.len() as u64, s.endpoints);
    assert!(rows.iter().all(|r| r.len() == headers.len()));
    // Enrichment from the fixtures reached the outputs.
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (asn, city) = (col("asn"), col("city"));
    assert!(
        rows.iter().any(|r| r.get(asn) == Some("24940")),
        "fixture ASN table applied"
    );
    assert!(
        rows.iter().any(|r| r.get(city) == Some("Falkenstein")),
        "fixture city database applied"
    );

    // fingerprints.csv: one row per endpoint too, the never-reachable ones with no behavior.
    let (fh, frows) = csv_rows(&data.join("processed/fingerprints.csv"));
    assert_eq!(
        frows.len() as u64,
        s.endpoints,
        "one fingerprints.csv row per endpoint"
    );
    let hash = fh.iter().position(|h| h == "behavior_hash").unwrap();
    let never: Vec<&csv::StringRecord> = frows.iter().filter(|r| r.get(hash) == Some("")).collect();
    assert!(
        !never.is_empty(),
        "the synthetic network has endpoints that never answered"
    );
    assert!(
        never
            .iter()
            .all(|r| r.iter().skip(2).all(str::is_empty) && !r.get(1).unwrap_or("").is_empty()),
        "only server_id and endpoint"
    );

    let index: SnapshotIndex =
        serde_json::from_slice(&std::fs::read(data.join("snapshots/index.json")).unwrap()).unwrap();
    assert_eq!(index.snapshots.len(), 1);
    assert_eq!(index.snapshots[0].file, format!("{RUN_A}.json"));

    let md = std::fs::read_to_string(&summary_md).unwrap();
    assert!(
        md.contains(&s.servers.to_string()),
        "executive summary quotes the measured server count"
    );
    assert!(
        md.contains("**Simulated data.**"),
        "synthetic input is labelled as such"
    );
    // An executive summary: the headline numbers in sentences first, then seed sections 1–5.
    let findings = md
        .lines()
        .find(|l| l.starts_with("**Key findings.**"))
        .expect("key findings paragraph");
    assert!(
        findings.contains(&format!(
            "{} of the {} servers attempted answered",
            s.reachable_servers, s.servers
        )),
        "{findings}"
    );
    assert!(md.find("**Key findings.**") < md.find("## 1. Network Overview"));
    for section in [
        "## 2. Behavioral Clusters",
        "### High suspicion",
        "### Medium suspicion",
        "### Benign clusters",
        "## 4. Privacy Risk Assessment",
        "## 5. Recommendations for Wallet Developers",
    ] {
        assert!(md.contains(section), "no {section:?}");
    }
    // HSS levels count reachable servers only; the unreachable ones are reported apart.
    let snap_levels = &snap.hss.by_level;
    let measured: u64 = ["low", "medium", "high"]
        .iter()
        .map(|l| snap_levels[*l])
        .sum();
    assert_eq!(measured, s.reachable_servers);
    assert_eq!(snap_levels["unreachable"], s.servers - s.reachable_servers);
    assert!(
        md.contains(&format!(
            "Levels over the {} reachable servers",
            s.reachable_servers
        )),
        "{md}"
    );
    assert!(md.contains(&format!(
        "{} unreachable server(s) were not measured",
        s.servers - s.reachable_servers
    )));
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(data.join("reports/summary.json")).unwrap()).unwrap();
    assert_eq!(report["servers"], s.servers);
}

#[test]
fn index_accumulates_runs_and_forgets_deleted_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    write(data, &synthetic::network(RUN_A, 12, 1, 1));
    run(data);
    let mut b = synthetic::network(RUN_B, 12, 1, 2);
    if let Some(m) = b.manifest.as_mut() {
        m.started_ms += 6 * synthetic::ROUND_MS;
    }
    for r in &mut b.records {
        r.started_ms += 6 * synthetic::ROUND_MS;
        r.finished_ms += 6 * synthetic::ROUND_MS;
    }
    write(data, &b);
    let s = run(data);
    assert_eq!(s.run_id, RUN_B, "the newest run names the snapshot");
    let index: SnapshotIndex =
        serde_json::from_slice(&std::fs::read(data.join("snapshots/index.json")).unwrap()).unwrap();
    assert_eq!(
        index
            .snapshots
            .iter()
            .map(|r| r.run_id.as_str())
            .collect::<Vec<_>>(),
        vec![RUN_A, RUN_B]
    );

    std::fs::remove_file(data.join(format!("snapshots/{RUN_A}.json"))).unwrap();
    run(data);
    let index: SnapshotIndex =
        serde_json::from_slice(&std::fs::read(data.join("snapshots/index.json")).unwrap()).unwrap();
    assert_eq!(
        index
            .snapshots
            .iter()
            .map(|r| r.run_id.as_str())
            .collect::<Vec<_>>(),
        vec![RUN_B]
    );

    // A corrupt index is rebuilt, not fatal.
    std::fs::write(
        data.join("snapshots/index.json"),
        b"{\"schema_version\": 1, \"snap",
    )
    .unwrap();
    run(data);
    let index: SnapshotIndex =
        serde_json::from_slice(&std::fs::read(data.join("snapshots/index.json")).unwrap()).unwrap();
    assert_eq!(index.snapshots.len(), 1);
}

#[test]
fn corrupt_and_truncated_raw_files_are_reported_and_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let good = synthetic::network(RUN_A, 20, 1, 3);
    write(data, &good);

    // A run killed mid-write: no manifest, last line cut in half, plus garbage lines.
    let killed = synthetic::network(RUN_B, 6, 1, 4);
    let killed_dir = data.join("raw").join(RUN_B);
    std::fs::create_dir_all(&killed_dir).unwrap();
    let mut body = Vec::new();
    for r in &killed.records {
        body.extend_from_slice(&serde_json::to_vec(r).unwrap());
        body.push(b'\n');
    }
    let whole = killed.records.len() as u64;
    body.extend_from_slice(b"\x00\xff\xfe binary garbage \xc3\x28\n");
    body.extend_from_slice(b"{\"schema_version\": 1, \"run_id\": \"x\"}\n");
    let last = serde_json::to_vec(&killed.records[0]).unwrap();
    body.extend_from_slice(&last[..last.len() / 2]);
    std::fs::write(killed_dir.join(ENDPOINTS_FILE), &body).unwrap();

    // A run whose record file is unreadable (a directory) and whose manifest is broken.
    let broken = data.join("raw/20261121T000000Z-broken");
    std::fs::create_dir_all(broken.join(ENDPOINTS_FILE)).unwrap();
    std::fs::write(broken.join(MANIFEST_FILE), b"{ not json").unwrap();
    // A run directory without records at all, and an empty record file.
    std::fs::create_dir_all(data.join("raw/20261121T010000Z-empty")).unwrap();
    let empty = data.join("raw/20261121T020000Z-zero");
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::write(empty.join(ENDPOINTS_FILE), b"").unwrap();

    // Without an ASN database, which the report must say as well.
    let mut cfg = config(data);
    cfg.enrich.geoip_asn = None;
    let s = observatory_analysis::run(&cfg).unwrap();
    assert_eq!(
        s.records,
        good.records.len() as u64 + whole,
        "every intact record used"
    );
    assert_eq!(
        s.corrupt_lines, 3,
        "garbage, wrong-shape and truncated lines: {:#?}",
        s.warnings
    );
    // Killed run: missing manifest. Broken run: manifest + unreadable records. Empty run: no jsonl. Zero run: missing manifest.
    assert_eq!(s.corrupt_files, 5, "{:#?}", s.warnings);
    for needle in [RUN_B, "-broken", "-empty", "does not parse"] {
        assert!(
            s.warnings.iter().any(|w| w.contains(needle)),
            "no warning mentions {needle}: {:#?}",
            s.warnings
        );
    }
    // Reported in the run's report, not only on stderr.
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(data.join("reports/summary.json")).unwrap()).unwrap();
    assert_eq!(report["corrupt_lines"], 3);
    assert_eq!(report["corrupt_files"], 5);
    let warnings = report["warnings"].as_array().unwrap();
    assert!(warnings.len() >= 8, "{warnings:#?}");
    assert!(
        warnings.iter().any(|w| w["file"] == "geoip"),
        "enrichment notes are in the report too: {warnings:#?}"
    );
    let md = std::fs::read_to_string(data.join("reports/summary.md")).unwrap();
    assert!(
        md.contains("lines skipped: **3**; unreadable files: **5**"),
        "{md}"
    );
    assert!(md.contains(RUN_B), "the report names the damaged file");
    assert!(temp_files(data).is_empty());
}

#[test]
fn a_data_dir_without_runs_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    assert!(observatory_analysis::run(&config(dir.path())).is_err());
    std::fs::create_dir_all(dir.path().join("raw/only-garbage")).unwrap();
    assert!(observatory_analysis::run(&config(dir.path())).is_err());
}

#[test]
fn identical_input_gives_identical_output() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let input = synthetic::network(RUN_A, 80, 2, 9);
    for d in [a.path(), b.path()] {
        write(d, &input);
        run(d);
    }
    for rel in [
        format!("snapshots/{RUN_A}.json"),
        "snapshots/index.json".into(),
        "processed/servers.csv".into(),
        "processed/fingerprints.csv".into(),
        "processed/tls.csv".into(),
    ] {
        let (x, y) = (
            std::fs::read(a.path().join(&rel)).unwrap(),
            std::fs::read(b.path().join(&rel)).unwrap(),
        );
        assert!(
            x == y,
            "{rel} differs between two runs over the same input (clustering seeds, map order?)"
        );
    }
}

/// Hostile strings a server controls, and where they end up.
/// Even entries become the only (plain TCP) endpoint of a server, so they are its banner
/// and software; odd entries are an error text plus a certificate's subject.
const HOSTILE: &[&str] = &[
    "two\nlines, \"quoted\"\r\nthird",
    "+cmd|' /C calc'!A0",
    "=HYPERLINK(\"http://evil.example\",\"x\")",
    "@SUM(1,2)",
    "-2+3",
    "\t=1",
];

#[test]
fn hostile_strings_cannot_break_csv_or_become_formulas() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let mut records = Vec::new();
    for (i, h) in HOSTILE.iter().enumerate() {
        let host = format!("hostile{i}.example");
        let ip = format!("51.38.1.{}", i + 1);
        let tcp = Rec::new(RUN_A, 0, &host, 50001, Transport::Tcp)
            .ip(&ip)
            .version(h, "1.4", 30.0)
            .banner(h);
        if i % 2 == 0 {
            records.push(tcp.build());
        } else {
            records.push(tcp.status(Status::ProtocolError, Some(h)).build());
            let tls = synthetic::honest_electrumx(
                RUN_A,
                0,
                &host,
                &ip,
                Transport::Tls,
                &mut synthetic::Rng::new(i as u64),
            );
            records.push(
                Rec(tls)
                    .cert(synthetic::self_signed_v1(h, 1_700_000_000), false)
                    .build(),
            );
        }
    }
    write(
        data,
        &RunData {
            run_id: RUN_A.into(),
            manifest: None,
            records,
        },
    );
    let s = run(data);
    assert_eq!(s.corrupt_lines, 0);

    let mut cells = 0;
    for (file, cols) in [
        ("servers.csv", csv_out::SERVERS_COLUMNS),
        ("fingerprints.csv", csv_out::FINGERPRINTS_COLUMNS),
        ("tls.csv", csv_out::TLS_COLUMNS),
    ] {
        let (headers, rows) = csv_rows(&data.join("processed").join(file));
        assert_eq!(headers.len(), cols.len(), "{file}");
        assert!(!rows.is_empty(), "{file}");
        for row in &rows {
            assert_eq!(
                row.len(),
                headers.len(),
                "{file}: a hostile string shifted the columns"
            );
            for (col, cell) in headers.iter().zip(row.iter()) {
                let numeric = cell.parse::<f64>().is_ok();
                assert!(
                    numeric || !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                    "{file}.{col}: {cell:?} would run as a spreadsheet formula"
                );
                if HOSTILE.iter().any(|h| cell.trim_start_matches('\'') == *h) {
                    cells += 1;
                }
            }
        }
    }
    assert!(
        cells >= HOSTILE.len(),
        "hostile values are kept verbatim (after the quote prefix), found {cells}"
    );
    // The multi-line banner survives as one cell.
    let (h, rows) = csv_rows(&data.join("processed/servers.csv"));
    let banner = h.iter().position(|c| c == "banner").unwrap();
    assert!(rows
        .iter()
        .any(|r| r.get(banner) == Some("two\nlines, \"quoted\"\r\nthird")));
}

// ---------------------------------------------------------------- goldens

const GOLDEN_RUN: &str = "20261121T120000Z-golden";

fn update_golden() -> bool {
    std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1")
}

fn check_golden(name: &str, actual: &str) {
    let path = golden_dir().join(name);
    if update_golden() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 creates it)", path.display()));
    if want != actual {
        let line = want
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(want.lines().count().min(actual.lines().count()));
        panic!(
            "{} drifted at line {}:\n  golden: {:?}\n  actual: {:?}\nIf the change is intended, rerun with UPDATE_GOLDEN=1 and review the diff.",
            path.display(),
            line + 1,
            want.lines().nth(line),
            actual.lines().nth(line)
        );
    }
}

/// The golden raw input, created from the synthetic builder once and then fixed on disk
/// (a change to the builder must not silently change the golden input).
fn golden_input() -> PathBuf {
    let raw = golden_dir().join("raw").join(GOLDEN_RUN);
    if !raw.join(ENDPOINTS_FILE).is_file() {
        assert!(
            update_golden(),
            "{} missing (UPDATE_GOLDEN=1 creates it)",
            raw.display()
        );
        write(&golden_dir(), &synthetic::network(GOLDEN_RUN, 24, 2, 21));
    }
    golden_dir()
}

/// Every JSON path with the set of value types seen there (`[]` for array elements).
fn shape(v: &serde_json::Value, path: &str, out: &mut BTreeMap<String, BTreeSet<&'static str>>) {
    use serde_json::Value;
    let kind = match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    out.entry(path.to_string()).or_default().insert(kind);
    match v {
        Value::Array(items) => items
            .iter()
            .for_each(|x| shape(x, &format!("{path}[]"), out)),
        Value::Object(map) => map
            .iter()
            .for_each(|(k, x)| shape(x, &format!("{path}.{k}"), out)),
        _ => {}
    }
}

#[test]
fn golden_snapshot_csv_headers_and_schema_shape() {
    let gold = golden_input();
    let out = tempfile::tempdir().unwrap();
    // Analyze a copy so outputs never land in the repository.
    let raw_copy = out.path().join("raw").join(GOLDEN_RUN);
    std::fs::create_dir_all(&raw_copy).unwrap();
    for f in [ENDPOINTS_FILE, MANIFEST_FILE] {
        std::fs::copy(gold.join("raw").join(GOLDEN_RUN).join(f), raw_copy.join(f)).unwrap();
    }
    let s = run(out.path());
    assert_eq!(
        (s.corrupt_lines, s.corrupt_files),
        (0, 0),
        "{:?}",
        s.warnings
    );

    let snap =
        std::fs::read_to_string(out.path().join(format!("snapshots/{GOLDEN_RUN}.json"))).unwrap();
    // The file is compact JSON; the golden is pretty-printed so that drift shows as a readable diff.
    let value: serde_json::Value = serde_json::from_str(&snap).unwrap();
    check_golden(
        "snapshot.json",
        &format!("{}\n", serde_json::to_string_pretty(&value).unwrap()),
    );

    let mut headers = String::new();
    for f in ["servers.csv", "fingerprints.csv", "tls.csv"] {
        let text = std::fs::read_to_string(out.path().join("processed").join(f)).unwrap();
        headers.push_str(&format!("{f}: {}\n", text.lines().next().unwrap_or("")));
    }
    check_golden("csv-headers.txt", &headers);

    let mut paths = BTreeMap::new();
    shape(&value, "$", &mut paths);
    let text: String = paths
        .iter()
        .map(|(p, kinds)| {
            format!(
                "{p}: {}\n",
                kinds.iter().copied().collect::<Vec<_>>().join("|")
            )
        })
        .collect();
    check_golden("snapshot-shape.txt", &text);
}
