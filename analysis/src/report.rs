//! Reports: `reports/summary.json`, `reports/summary.md` and the executive summary
//! `docs/results_summary.md`, all rendered from one [`ReportData`] built from the snapshot.
//!
//! Every sentence with a number reads that number from the snapshot; nothing is typed in.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use observatory_model::snapshot::{Dimension, Level, Snapshot};
use serde::Serialize;

use crate::load::LoadWarning;

/// Buckets listed per dimension.
pub const TOP_BUCKETS: usize = 5;
/// Servers listed per suspicion level.
pub const TOP_SUSPICIOUS: usize = 15;
/// Load warnings copied into the report.
pub const MAX_WARNINGS: usize = 50;

/// One dimension, shortened.
#[derive(Debug, Clone, Serialize)]
pub struct DimSummary {
    /// Dimension id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Servers with a value.
    pub total: u64,
    /// Servers without.
    pub unknown: u64,
    /// HHI.
    pub hhi: f64,
    /// Nakamoto coefficient.
    pub nakamoto: u64,
    /// Gini.
    pub gini: f64,
    /// Normalized entropy.
    pub entropy_normalized: f64,
    /// Top buckets: (key, label, count, share).
    pub top: Vec<(String, String, u64, f64)>,
}

/// A suspicious server line.
#[derive(Debug, Clone, Serialize)]
pub struct SuspectLine {
    /// Server id.
    pub server: String,
    /// Score.
    pub score: f64,
    /// Level.
    pub level: String,
    /// Indicators and evidence.
    pub indicators: Vec<String>,
}

/// Everything the reports say.
#[derive(Debug, Clone, Serialize)]
pub struct ReportData {
    /// Run id.
    pub run_id: String,
    /// Generated at.
    pub generated_at: String,
    /// Scan window.
    pub scan_window: (String, String),
    /// Rounds.
    pub rounds: u32,
    /// Endpoints.
    pub endpoints: u64,
    /// Reachable endpoints.
    pub reachable_endpoints: u64,
    /// Servers.
    pub servers: u64,
    /// Reachable servers.
    pub reachable_servers: u64,
    /// Onion endpoints.
    pub onion_endpoints: u64,
    /// Status counts.
    pub by_status: BTreeMap<String, u64>,
    /// Dimensions.
    pub centralization: Vec<DimSummary>,
    /// TLS servers (leaf seen).
    pub tls_servers: u64,
    /// Self-signed leaf certificates.
    pub self_signed: u64,
    /// Web-PKI-valid.
    pub webpki_valid: u64,
    /// X.509 v1 certificates.
    pub v1_certs: u64,
    /// Expired.
    pub expired: u64,
    /// Certificates presented by more than one server: (sha256 prefix, servers).
    pub shared_certs: Vec<(String, u32)>,
    /// Clusters per method: (method, clusters, noise, parameters, silhouette).
    pub clusters: Vec<(String, usize, usize, String, Option<f64>)>,
    /// Cluster explanations (method, id, explanation), largest first.
    pub cluster_explanations: Vec<(String, u32, String)>,
    /// Servers with a claimed-vs-behavior mismatch.
    pub mismatches: Vec<String>,
    /// Outliers: (server, distance, reasons).
    pub outliers: Vec<(String, f64, Vec<String>)>,
    /// HSS level counts.
    pub hss_levels: BTreeMap<String, u64>,
    /// Medium and high servers.
    pub suspects: Vec<SuspectLine>,
    /// Indicator firing counts.
    pub indicator_counts: BTreeMap<String, u64>,
    /// Privacy metrics: (id, label, value, unit, detail).
    pub privacy: Vec<(String, String, f64, String, String)>,
    /// Recommendations: (audience, text, based_on).
    pub recommendations: Vec<(String, String, Vec<String>)>,
    /// Corrupt lines skipped.
    pub corrupt_lines: u64,
    /// Corrupt files.
    pub corrupt_files: u64,
    /// First warnings.
    pub warnings: Vec<LoadWarning>,
    /// Enrichment sources.
    pub enrichment: Vec<String>,
    /// Stage timings, ms.
    pub stage_ms: Vec<(String, f64)>,
    /// Attribution lines.
    pub attribution: Vec<String>,
}

fn dim_summary(d: &Dimension) -> DimSummary {
    DimSummary {
        id: d.id.clone(),
        title: d.title.clone(),
        total: d.total,
        unknown: d.unknown,
        hhi: d.hhi,
        nakamoto: d.nakamoto,
        gini: d.gini,
        entropy_normalized: d.entropy_normalized,
        top: d.buckets.iter().take(TOP_BUCKETS).map(|b| (b.key.clone(), b.label.clone(), b.count, b.share)).collect(),
    }
}

/// Builds the report data from a finished snapshot.
pub fn build(s: &Snapshot, warnings: &[LoadWarning], corrupt_lines: u64, corrupt_files: u64, enrichment: &[String], stage_ms: &[(String, f64)]) -> ReportData {
    let certs: Vec<_> = s.servers.iter().filter_map(|x| x.cert.as_ref()).collect();
    let mut shared: BTreeMap<String, u32> = BTreeMap::new();
    for c in &certs {
        if c.shared_with > 0 {
            shared.insert(c.sha256.chars().take(16).collect(), c.shared_with + 1);
        }
    }
    let mut shared_certs: Vec<(String, u32)> = shared.into_iter().collect();
    shared_certs.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let sets = [&s.clusters.dbscan, &s.clusters.kmeans, &s.clusters.hierarchical];
    let mut cluster_explanations: Vec<(String, u32, String, usize)> = sets
        .iter()
        .flat_map(|set| set.clusters.iter().map(move |c| (set.method.clone(), c.id, c.explanation.clone(), c.members.len())))
        .collect();
    cluster_explanations.sort_by(|a, b| b.3.cmp(&a.3).then_with(|| a.0.cmp(&b.0)).then(a.1.cmp(&b.1)));
    let mut indicator_counts: BTreeMap<String, u64> = s.hss.indicators.iter().map(|i| (i.id.clone(), 0)).collect();
    for srv in &s.servers {
        for f in &srv.hss.fired {
            *indicator_counts.entry(f.id.clone()).or_default() += 1;
        }
    }
    ReportData {
        run_id: s.run_id.clone(),
        generated_at: s.generated_at.clone(),
        scan_window: (s.scan_started.clone(), s.scan_finished.clone()),
        rounds: s.rounds,
        endpoints: s.totals.endpoints,
        reachable_endpoints: s.totals.reachable_endpoints,
        servers: s.totals.servers,
        reachable_servers: s.totals.reachable_servers,
        onion_endpoints: s.totals.onion_endpoints,
        by_status: s.totals.by_status.clone(),
        centralization: s.centralization.iter().map(dim_summary).collect(),
        tls_servers: certs.len() as u64,
        self_signed: certs.iter().filter(|c| c.self_signed).count() as u64,
        webpki_valid: certs.iter().filter(|c| c.webpki_valid).count() as u64,
        v1_certs: certs.iter().filter(|c| c.version == Some(1)).count() as u64,
        expired: certs.iter().filter(|c| c.expired).count() as u64,
        shared_certs,
        clusters: sets.iter().map(|c| (c.method.clone(), c.clusters.len(), c.noise.len(), c.parameters.clone(), c.silhouette)).collect(),
        cluster_explanations: cluster_explanations.into_iter().take(12).map(|(m, i, e, _)| (m, i, e)).collect(),
        mismatches: s.servers.iter().filter(|x| x.implementation_mismatch).map(|x| x.id.clone()).collect(),
        outliers: s.clusters.outliers.iter().take(10).map(|o| (o.server.clone(), o.distance, o.reasons.clone())).collect(),
        hss_levels: s.hss.by_level.clone(),
        suspects: s
            .servers
            .iter()
            .filter(|x| x.hss.level != Level::Low)
            .take(TOP_SUSPICIOUS)
            .map(|x| SuspectLine {
                server: x.id.clone(),
                score: x.hss.score,
                level: x.hss.level.as_str().into(),
                indicators: x.hss.fired.iter().map(|f| format!("{} (+{:.1}): {}", f.id, f.points, f.evidence)).collect(),
            })
            .collect(),
        indicator_counts,
        privacy: s.privacy.metrics.iter().map(|m| (m.id.clone(), m.label.clone(), m.value, m.unit.clone(), m.detail.clone())).collect(),
        recommendations: s.privacy.recommendations.iter().map(|r| (r.audience.clone(), r.text.clone(), r.based_on.clone())).collect(),
        corrupt_lines,
        corrupt_files,
        warnings: warnings.iter().take(MAX_WARNINGS).cloned().collect(),
        enrichment: enrichment.to_vec(),
        stage_ms: stage_ms.to_vec(),
        attribution: s.attribution.iter().map(|a| format!("{}: {} ({}) <{}>", a.what, a.source, a.licence, a.url)).collect(),
    }
}

fn pct(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

/// Markdown cells come from servers: keep them on one line and stop them from closing the table
/// or opening markup.
pub fn md_cell(s: &str) -> String {
    s.chars()
        .take(200)
        .map(|c| match c {
            '|' => '/',
            '\n' | '\r' | '\t' => ' ',
            '<' => '‹',
            '>' => '›',
            '`' => '\'',
            _ => c,
        })
        .collect()
}

fn dim<'a>(r: &'a ReportData, id: &str) -> Option<&'a DimSummary> {
    r.centralization.iter().find(|d| d.id == id)
}

fn top_line(d: Option<&DimSummary>) -> String {
    match d {
        Some(d) if !d.top.is_empty() => d.top.iter().map(|(k, l, n, s)| if k == l { format!("{} {} ({n})", md_cell(k), pct(*s)) } else { format!("{} {} {} ({n})", md_cell(k), md_cell(l), pct(*s)) }).collect::<Vec<_>>().join(", "),
        _ => "no data".into(),
    }
}

/// Which document is rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// `reports/summary.md`: the full technical report.
    Report,
    /// `docs/results_summary.md`: the executive summary with the deliverables section.
    Executive,
}

/// Renders markdown.
pub fn markdown(r: &ReportData, flavor: Flavor) -> String {
    let mut o = String::new();
    let w = &mut o;
    match flavor {
        Flavor::Executive => {
            let _ = writeln!(w, "# Results Summary\n**Electrum Observatory — executive analysis of scan `{}`**\n", md_cell(&r.run_id));
            let _ = writeln!(w, "_Generated by `observatory analyze --write-summary` at {} from {} round(s) between {} and {}. Every number below is measured; regenerate to update._\n", r.generated_at, r.rounds, r.scan_window.0, r.scan_window.1);
        }
        Flavor::Report => {
            let _ = writeln!(w, "# Analysis report — run `{}`\n", md_cell(&r.run_id));
            let _ = writeln!(w, "Generated {}; scan window {} – {}; {} round(s).\n", r.generated_at, r.scan_window.0, r.scan_window.1, r.rounds);
        }
    }
    let _ = writeln!(w, "---\n\n## 1. Network Overview\n");
    let _ = writeln!(w, "- **Reachable servers: {} of {}** attempted ({} of {} endpoints answered; {} onion endpoints).", r.reachable_servers, r.servers, r.reachable_endpoints, r.endpoints, r.onion_endpoints);
    let status: Vec<String> = r.by_status.iter().map(|(k, v)| format!("{k} {v}")).collect();
    let _ = writeln!(w, "- Endpoint outcomes (newest round): {}.", if status.is_empty() { "none".into() } else { status.join(", ") });
    let _ = writeln!(w, "- **Continents:** {}.", top_line(dim(r, "continent")));
    let _ = writeln!(w, "- **Countries:** {}.", top_line(dim(r, "country")));
    let _ = writeln!(w, "- **Hosting providers:** {}.", top_line(dim(r, "provider")));
    let _ = writeln!(w, "- **Autonomous systems:** {}.", top_line(dim(r, "asn")));
    let _ = writeln!(w, "- **Implementations:** {}.", top_line(dim(r, "implementation")));
    let _ = writeln!(w, "- **Versions:** {}.", top_line(dim(r, "version")));
    let _ = writeln!(w, "- **TLS:** {} servers presented a certificate: {} self-signed, {} web-PKI-valid, {} X.509 v1, {} expired. Issuers: {}.", r.tls_servers, r.self_signed, r.webpki_valid, r.v1_certs, r.expired, top_line(dim(r, "cert_issuer")));
    if r.shared_certs.is_empty() {
        let _ = writeln!(w, "- **Certificate reuse:** no leaf certificate is presented by more than one server.");
    } else {
        let list: Vec<String> = r.shared_certs.iter().take(5).map(|(c, n)| format!("`{c}…` × {n}")).collect();
        let _ = writeln!(w, "- **Certificate reuse:** {} certificate(s) are presented by more than one server: {}.", r.shared_certs.len(), list.join(", "));
    }
    let _ = writeln!(w, "\n### Centralization\n\n| dimension | servers | unknown | HHI | Nakamoto | Gini | entropy (norm.) | largest |\n|---|---:|---:|---:|---:|---:|---:|---|");
    for d in &r.centralization {
        let largest = d.top.first().map(|(k, _, _, s)| format!("{} {}", md_cell(k), pct(*s))).unwrap_or_else(|| "-".into());
        let _ = writeln!(w, "| {} | {} | {} | {:.3} | {} | {:.3} | {:.3} | {} |", d.id, d.total, d.unknown, d.hhi, d.nakamoto, d.gini, d.entropy_normalized, largest);
    }
    let _ = writeln!(w, "\nHHI is on shares in [0, 1] (×10,000 for the antitrust scale; above 0.25 is highly concentrated). The Nakamoto coefficient is the fewest buckets holding more than half the servers.\n");

    let _ = writeln!(w, "## 2. Behavioral Clusters\n");
    for (m, k, noise, params, sil) in &r.clusters {
        let _ = writeln!(w, "- **{m}**: {k} cluster(s), {noise} noise; {}{}.", md_cell(params), sil.map(|s| format!("; silhouette {s:.3}")).unwrap_or_default());
    }
    if !r.cluster_explanations.is_empty() {
        let _ = writeln!(w, "\nLargest clusters:\n");
        for (m, id, e) in &r.cluster_explanations {
            let _ = writeln!(w, "- {m} #{id}: {}", md_cell(e));
        }
    }
    let _ = writeln!(w, "\n- **Modified implementations** (claimed software disagrees with behavior): {}.", if r.mismatches.is_empty() { "none detected".into() } else { r.mismatches.iter().map(|m| md_cell(m)).collect::<Vec<_>>().join(", ") });
    if r.outliers.is_empty() {
        let _ = writeln!(w, "- **Outliers:** none beyond 3 standard deviations from their cluster.\n");
    } else {
        let _ = writeln!(w, "- **Outliers:**");
        for (s, d, reasons) in &r.outliers {
            let _ = writeln!(w, "  - {} ({d:.1} σ): {}", md_cell(s), reasons.iter().map(|x| md_cell(x)).collect::<Vec<_>>().join(", "));
        }
        let _ = writeln!(w);
    }

    let _ = writeln!(w, "## 3. Honeypot Suspicion Rankings\n");
    let lv = |k: &str| r.hss_levels.get(k).copied().unwrap_or(0);
    let _ = writeln!(w, "- Levels: **{} high**, **{} medium**, {} low (indicators are signals, not proof; see docs/honeypot-indicators.md).", lv("high"), lv("medium"), lv("low"));
    let fired: Vec<String> = r.indicator_counts.iter().map(|(k, v)| format!("{k} {v}")).collect();
    let _ = writeln!(w, "- Indicator firings: {}.", fired.join(", "));
    if r.suspects.is_empty() {
        let _ = writeln!(w, "- No server scored medium or high.\n");
    } else {
        let _ = writeln!(w, "\n| server | score | level | indicators |\n|---|---:|---|---|");
        for s in &r.suspects {
            let _ = writeln!(w, "| {} | {:.1} | {} | {} |", md_cell(&s.server), s.score, s.level, s.indicators.iter().map(|i| md_cell(i)).collect::<Vec<_>>().join("; "));
        }
        let _ = writeln!(w);
    }
    let _ = writeln!(w, "Benign clusters are those whose members all score low; the site's cluster view colors them by HSS.\n");

    let _ = writeln!(w, "## 4. Privacy Risk Assessment\n\n| metric | value | detail |\n|---|---:|---|");
    for (_, label, v, unit, detail) in &r.privacy {
        let _ = writeln!(w, "| {} | {} {} | {} |", label, if unit == "%" { format!("{v:.1}") } else { format!("{v:.0}") }, unit, md_cell(detail));
    }
    let _ = writeln!(w, "\n**Recommendations for users**\n");
    for (aud, text, based) in &r.recommendations {
        if aud == "users" {
            let _ = writeln!(w, "- {text} _(based on: {})_", based.join(", "));
        }
    }
    let _ = writeln!(w, "\n## 5. Recommendations for Wallet Developers\n");
    for (aud, text, based) in &r.recommendations {
        if aud == "wallet-developers" {
            let _ = writeln!(w, "- {text} _(based on: {})_", based.join(", "));
        }
    }
    if flavor == Flavor::Executive {
        // Section 6 keeps the seed's numbering: deliverables.
        let deliver = "\n## 6. Final Deliverables\n\n- **Data:** `data/processed/servers.csv`, `fingerprints.csv`, `tls.csv` (columns in docs/methodology.md), `data/snapshots/<run>.json`.\n- **Visualizations:** the site's global server map, centralization charts and clustering heatmap/PCA view.\n- **Documentation:** docs/methodology.md, docs/threat-model.md, docs/honeypot-indicators.md, docs/privacy.md and this executive analysis.\n";
        w.push_str(deliver);
    }
    let _ = writeln!(w, "\n## {}. Data quality and sources\n", if flavor == Flavor::Executive { 7 } else { 6 });
    let _ = writeln!(w, "- Corrupt or truncated input lines skipped: **{}**; unreadable files: **{}**.", r.corrupt_lines, r.corrupt_files);
    for e in &r.enrichment {
        let _ = writeln!(w, "- {}", md_cell(e));
    }
    for a in &r.attribution {
        let _ = writeln!(w, "- {}", a);
    }
    let _ = writeln!(w, "- IP geolocation by DB-IP (<https://db-ip.com>), licensed CC-BY-4.0.");
    if flavor == Flavor::Report {
        let stages: Vec<String> = r.stage_ms.iter().map(|(k, v)| format!("{k} {v:.1} ms")).collect();
        let _ = writeln!(w, "- Analysis stage times: {}.", stages.join(", "));
        for wn in &r.warnings {
            let _ = writeln!(w, "- warning: {}{}: {}", md_cell(&wn.file), wn.line.map(|l| format!(":{l}")).unwrap_or_default(), md_cell(&wn.problem));
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md_cells_cannot_break_tables_or_inject_html() {
        assert_eq!(md_cell("a|b\n<script>`x`"), "a/b ‹script›'x'");
    }
}
