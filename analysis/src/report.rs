//! Reports: `reports/summary.json`, `reports/summary.md` and the executive summary
//! `docs/results_summary.md`, all rendered from one [`ReportData`] built from the snapshot.
//!
//! Every sentence with a number reads that number from the snapshot; nothing is typed in.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use observatory_model::snapshot::{Dimension, Level, Snapshot};
use serde::Serialize;

use crate::cluster::K_AT_BOUNDARY_NOTE;
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
    /// Certificates presented by more than one server: (sha256 prefix, servers, the known
    /// default certificate it is, if it is one).
    pub shared_certs: Vec<(String, u32, Option<String>)>,
    /// Clusters per method: (method, clusters, noise, parameters, silhouette).
    pub clusters: Vec<(String, usize, usize, String, Option<f64>)>,
    /// Cluster explanations (method, id, explanation), largest first.
    pub cluster_explanations: Vec<(String, u32, String)>,
    /// Servers with a claimed-vs-behavior mismatch.
    pub mismatches: Vec<String>,
    /// Outliers: (server, distance, reasons).
    pub outliers: Vec<(String, f64, Vec<String>)>,
    /// Outliers found (the list above is capped).
    pub outlier_count: usize,
    /// KMeans chose the largest k it searched (the parameters say so too).
    pub kmeans_k_at_boundary: bool,
    /// KMeans clusters whose members all score low: (id, members, explanation), largest first.
    pub benign_clusters: Vec<(u32, usize, String)>,
    /// HSS level counts over reachable servers, plus `unreachable` (servers not measured).
    pub hss_levels: BTreeMap<String, u64>,
    /// Reachable medium and high servers, highest score first.
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
    /// The data comes from a simulated network (synthetic records, or every reachable
    /// server on a loopback address as with `observatory simnet`), not the public network.
    pub simulated: bool,
    /// The headline numbers in sentences (the executive summary's opening paragraph).
    pub key_findings: String,
}

/// Software version the synthetic builder writes into its manifests.
pub const SYNTHETIC_SOFTWARE: &str = "synthetic";

/// True when the snapshot describes a simulated network rather than the public one.
pub fn is_simulated(s: &Snapshot) -> bool {
    let mut reachable_ips = s
        .servers
        .iter()
        .filter(|x| x.reachable)
        .flat_map(|x| x.ips.iter())
        .peekable();
    let all_loopback = reachable_ips.peek().is_some()
        && reachable_ips.all(|ip| {
            ip.parse::<std::net::IpAddr>()
                .is_ok_and(|a| a.is_loopback())
        });
    s.software_version == SYNTHETIC_SOFTWARE || all_loopback
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
        top: d
            .buckets
            .iter()
            .take(TOP_BUCKETS)
            .map(|b| (b.key.clone(), b.label.clone(), b.count, b.share))
            .collect(),
    }
}

/// Builds the report data from a finished snapshot.
pub fn build(
    s: &Snapshot,
    warnings: &[LoadWarning],
    corrupt_lines: u64,
    corrupt_files: u64,
    enrichment: &[String],
    stage_ms: &[(String, f64)],
) -> ReportData {
    let certs: Vec<_> = s.servers.iter().filter_map(|x| x.cert.as_ref()).collect();
    let mut shared: BTreeMap<String, (u32, Option<String>)> = BTreeMap::new();
    for c in &certs {
        if c.shared_with > 0 {
            // The name up to its parenthesized details.
            let known = crate::hss::known_default_by(&c.sha256, c.spki_sha256.as_deref())
                .map(|k| k.name.split(" (").next().unwrap_or(k.name).to_string());
            shared.insert(
                c.sha256.chars().take(16).collect(),
                (c.shared_with + 1, known),
            );
        }
    }
    let mut shared_certs: Vec<(String, u32, Option<String>)> =
        shared.into_iter().map(|(k, (n, d))| (k, n, d)).collect();
    shared_certs.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let sets = [
        &s.clusters.dbscan,
        &s.clusters.kmeans,
        &s.clusters.hierarchical,
    ];
    let mut cluster_explanations: Vec<(String, u32, String, usize)> = sets
        .iter()
        .flat_map(|set| {
            set.clusters.iter().map(move |c| {
                (
                    set.method.clone(),
                    c.id,
                    c.explanation.clone(),
                    c.members.len(),
                )
            })
        })
        .collect();
    cluster_explanations.sort_by(|a, b| {
        b.3.cmp(&a.3)
            .then_with(|| a.0.cmp(&b.0))
            .then(a.1.cmp(&b.1))
    });
    let mut indicator_counts: BTreeMap<String, u64> =
        s.hss.indicators.iter().map(|i| (i.id.clone(), 0)).collect();
    for srv in s.servers.iter().filter(|x| x.reachable) {
        for f in &srv.hss.fired {
            *indicator_counts.entry(f.id.clone()).or_default() += 1;
        }
    }
    let level_of: BTreeMap<&str, Level> = s
        .servers
        .iter()
        .map(|x| (x.id.as_str(), x.hss.level))
        .collect();
    let mut benign_clusters: Vec<(u32, usize, String)> = s
        .clusters
        .kmeans
        .clusters
        .iter()
        .filter(|c| {
            !c.members.is_empty()
                && c.members
                    .iter()
                    .all(|m| level_of.get(m.as_str()) == Some(&Level::Low))
        })
        .map(|c| (c.id, c.members.len(), c.explanation.clone()))
        .collect();
    benign_clusters.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut r = ReportData {
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
        clusters: sets
            .iter()
            .map(|c| {
                (
                    c.method.clone(),
                    c.clusters.len(),
                    c.noise.len(),
                    c.parameters.clone(),
                    c.silhouette,
                )
            })
            .collect(),
        cluster_explanations: cluster_explanations
            .into_iter()
            .take(12)
            .map(|(m, i, e, _)| (m, i, e))
            .collect(),
        mismatches: s
            .servers
            .iter()
            .filter(|x| x.implementation_mismatch)
            .map(|x| x.id.clone())
            .collect(),
        outliers: s
            .clusters
            .outliers
            .iter()
            .take(MAX_OUTLIERS_LISTED)
            .map(|o| (o.server.clone(), o.distance, o.reasons.clone()))
            .collect(),
        outlier_count: s.clusters.outliers.len(),
        kmeans_k_at_boundary: s.clusters.kmeans.parameters.contains(K_AT_BOUNDARY_NOTE),
        benign_clusters,
        hss_levels: s.hss.by_level.clone(),
        suspects: s
            .servers
            .iter()
            .filter(|x| x.reachable && x.hss.level != Level::Low)
            .take(TOP_SUSPICIOUS)
            .map(|x| SuspectLine {
                server: x.id.clone(),
                score: x.hss.score,
                level: x.hss.level.as_str().into(),
                indicators: x
                    .hss
                    .fired
                    .iter()
                    .map(|f| format!("{} (+{:.1}): {}", f.id, f.points, f.evidence))
                    .collect(),
            })
            .collect(),
        indicator_counts,
        privacy: s
            .privacy
            .metrics
            .iter()
            .map(|m| {
                (
                    m.id.clone(),
                    m.label.clone(),
                    m.value,
                    m.unit.clone(),
                    m.detail.clone(),
                )
            })
            .collect(),
        recommendations: s
            .privacy
            .recommendations
            .iter()
            .map(|r| (r.audience.clone(), r.text.clone(), r.based_on.clone()))
            .collect(),
        corrupt_lines,
        corrupt_files,
        warnings: warnings.iter().take(MAX_WARNINGS).cloned().collect(),
        enrichment: enrichment.to_vec(),
        stage_ms: stage_ms.to_vec(),
        attribution: s
            .attribution
            .iter()
            .map(|a| format!("{}: {} ({}) <{}>", a.what, a.source, a.licence, a.url))
            .collect(),
        simulated: s.simulated,
        key_findings: String::new(),
    };
    r.key_findings = key_findings(&r);
    r
}

fn level_count(r: &ReportData, level: &str) -> u64 {
    r.hss_levels.get(level).copied().unwrap_or(0)
}

fn privacy_value(r: &ReportData, id: &str) -> Option<f64> {
    r.privacy.iter().find(|p| p.0 == id).map(|p| p.2)
}

/// "1 server" / "3 servers": `n` and the form that fits it.
pub(crate) fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The opening paragraph of the executive summary: the headline numbers in sentences, all
/// read from the report data (nothing typed in). Bucket names are server- or database-supplied
/// and are escaped by the caller's renderer, not here.
pub fn key_findings(r: &ReportData) -> String {
    let mut out: Vec<String> = Vec::new();
    let unreachable = r.servers.saturating_sub(r.reachable_servers);
    out.push(format!(
        "{} of the {} servers attempted answered ({}){}.",
        r.reachable_servers,
        r.servers,
        pct(r.reachable_servers as f64 / r.servers.max(1) as f64),
        if unreachable > 0 {
            format!("; {unreachable} did not and are left out of every share below")
        } else {
            String::new()
        }
    ));
    let top = |id: &str| dim(r, id).and_then(|d| d.top.first().cloned());
    if let (Some((_, cont, _, cs)), Some((_, country, _, ks))) = (top("continent"), top("country"))
    {
        out.push(format!(
            "Most of them are in {cont} ({}), {country} alone holding {}.",
            pct(cs),
            pct(ks)
        ));
    }
    if let (Some(top3), Some(nak)) = (
        privacy_value(r, crate::privacy::metric_ids::TOP3_ASN),
        privacy_value(r, crate::privacy::metric_ids::NAKAMOTO_ASN),
    ) {
        if nak > 0.0 {
            let names: Vec<String> = dim(r, "asn")
                .map(|d| {
                    d.top
                        .iter()
                        .filter(|b| b.0 != crate::metrics::ONION_BUCKET)
                        .take(3)
                        .map(|b| b.1.clone())
                        .collect()
                })
                .unwrap_or_default();
            out.push(format!(
                "{}: the three largest networks ({}) hold {top3:.1}% of the servers with a known network, and more than half of them sit in {}.",
                if top3 >= crate::privacy::TOP3_CONCENTRATED_PCT { "Hosting is concentrated" } else { "Hosting is spread out" },
                names.join(", "),
                plural(nak as u64, "ASN", "ASNs")
            ));
        }
    }
    if let Some(d) = dim(r, "implementation") {
        let mut top = d.top.iter();
        if let Some((_, first, _, share)) = top.next() {
            let second = top
                .next()
                .map(|(_, l, _, s)| format!(" and {} {l}", pct(*s)))
                .unwrap_or_default();
            out.push(format!(
                "Identified by behavior, {} of the servers run {first}{second}.",
                pct(*share)
            ));
        }
    }
    if r.tls_servers > 0 {
        out.push(format!(
            "{} present a TLS certificate: {} self-signed (normal on this network, where wallets pin on first use) and {} valid in the web PKI{}.",
            plural(r.tls_servers, "server", "servers"),
            r.self_signed,
            r.webpki_valid,
            match r.shared_certs.first() {
                Some((_, n, _)) => {
                    let defaults = r.shared_certs.iter().filter(|c| c.2.is_some()).count();
                    format!(
                        "; {} presented by more than one server, the most shared by {n}{}",
                        plural(r.shared_certs.len() as u64, "certificate is", "certificates are"),
                        match defaults {
                            0 => String::new(),
                            d => format!(" ({d} of them a known default certificate shipped with server software, not a sign of one operator)"),
                        }
                    )
                }
                None => String::new(),
            }
        ));
    }
    let (high, medium, low) = (
        level_count(r, "high"),
        level_count(r, "medium"),
        level_count(r, "low"),
    );
    let mut fired: Vec<(&String, &u64)> =
        r.indicator_counts.iter().filter(|(_, n)| **n > 0).collect();
    fired.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    let most: Vec<&str> = fired.iter().take(3).map(|(k, _)| k.as_str()).collect();
    out.push(format!(
        "On the Honeypot Suspicion Score, {} high, {} medium and {} low{}.",
        plural(high, "server scores", "servers score"),
        medium,
        low,
        if high + medium > 0 && !most.is_empty() {
            format!("; the indicators that fired most are {}", most.join(", "))
        } else {
            String::new()
        }
    ));
    out.push(match r.outlier_count {
        0 => "No server stands out as an outlier.".to_string(),
        n => format!(
            "{} stand{} out as {} (listed in section 2 with the features that make {}).",
            plural(n as u64, "server", "servers"),
            if n == 1 { "s" } else { "" },
            if n == 1 { "an outlier" } else { "outliers" },
            if n == 1 { "it one" } else { "them so" }
        ),
    });
    if r.kmeans_k_at_boundary {
        out.push("KMeans chose the largest number of clusters it searched, so the network may hold more server types than listed.".to_string());
    }
    if let (Some(plain), Some(batch)) = (
        privacy_value(r, crate::privacy::metric_ids::PLAINTEXT),
        privacy_value(r, crate::privacy::metric_ids::XPUB_BATCH),
    ) {
        out.push(format!(
            "For wallet privacy, {} can be used without TLS and {batch:.1}% of the probed servers answer a whole xpub-sized history batch in one request.",
            plural(plain as u64, "server", "servers")
        ));
    }
    out.join(" ")
}

fn pct(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

/// Longest server string quoted in a Markdown cell, in characters.
pub const MAX_MD_CELL_CHARS: usize = 200;
/// Outliers listed in the reports.
pub const MAX_OUTLIERS_LISTED: usize = 10;

/// A server-supplied string (host, id, banner, bucket name) in Markdown: escaped by
/// [`md_text`] and cut at [`MAX_MD_CELL_CHARS`] characters, since a server chooses its length.
pub fn md_cell(s: &str) -> String {
    escape_md(s, MAX_MD_CELL_CHARS)
}

/// Text the analysis wrote (cluster explanations, evidence, parameters, details): escaped so
/// that it stays on one line and cannot close a table or open markup, but never cut. Server
/// fragments inside it were bounded where they were quoted. Escapes render as the original
/// characters (`&lt;` shows `<`), so evidence such as ">= 3 servers" reads as written.
pub fn md_text(s: &str) -> String {
    escape_md(s, usize::MAX)
}

fn escape_md(s: &str, max_chars: usize) -> String {
    let mut out = String::new();
    for c in s.chars().take(max_chars) {
        match c {
            '|' => out.push_str("\\|"),
            '\n' | '\r' | '\t' => out.push(' '),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '`' => out.push('\''),
            _ => out.push(c),
        }
    }
    out
}

fn dim<'a>(r: &'a ReportData, id: &str) -> Option<&'a DimSummary> {
    r.centralization.iter().find(|d| d.id == id)
}

fn top_line(d: Option<&DimSummary>) -> String {
    match d {
        Some(d) if !d.top.is_empty() => d
            .top
            .iter()
            .map(|(k, l, n, s)| {
                if k == l {
                    format!("{} {} ({n})", md_cell(k), pct(*s))
                } else {
                    format!("{} {} {} ({n})", md_cell(k), md_cell(l), pct(*s))
                }
            })
            .collect::<Vec<_>>()
            .join(", "),
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
            let _ = writeln!(
                w,
                "# Results Summary\n**Electrum Observatory — executive analysis of scan `{}`**\n",
                md_cell(&r.run_id)
            );
            let _ = writeln!(w, "_Generated by `observatory analyze` at {} from {} round(s) between {} and {}. Every number below is measured; regenerate to update._\n", r.generated_at, r.rounds, r.scan_window.0, r.scan_window.1);
        }
        Flavor::Report => {
            let _ = writeln!(w, "# Analysis report — run `{}`\n", md_cell(&r.run_id));
            let _ = writeln!(
                w,
                "Generated {}; scan window {} – {}; {} round(s).\n",
                r.generated_at, r.scan_window.0, r.scan_window.1, r.rounds
            );
        }
    }
    if r.simulated {
        let _ = writeln!(
            w,
            "> **Simulated data.** This analysis was made from a simulated network (synthetic records or `observatory simnet` on loopback addresses), not from the public Electrum network. Its numbers illustrate the method only.\n"
        );
    }
    let _ = writeln!(w, "**Key findings.** {}\n", md_text(&r.key_findings));
    let _ = writeln!(w, "---\n\n## 1. Network Overview\n");
    let _ = writeln!(w, "- **Reachable servers: {} of {}** attempted ({} of {} endpoints answered; {} onion endpoints).", r.reachable_servers, r.servers, r.reachable_endpoints, r.endpoints, r.onion_endpoints);
    let status: Vec<String> = r
        .by_status
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    let _ = writeln!(
        w,
        "- Endpoint outcomes (newest round): {}.",
        if status.is_empty() {
            "none".into()
        } else {
            status.join(", ")
        }
    );
    let _ = writeln!(w, "- **Continents:** {}.", top_line(dim(r, "continent")));
    let _ = writeln!(w, "- **Countries:** {}.", top_line(dim(r, "country")));
    let _ = writeln!(
        w,
        "- **Hosting providers:** {}.",
        top_line(dim(r, "provider"))
    );
    let _ = writeln!(w, "- **Autonomous systems:** {}.", top_line(dim(r, "asn")));
    let _ = writeln!(
        w,
        "- **Implementations:** {}.",
        top_line(dim(r, "implementation"))
    );
    let _ = writeln!(w, "- **Versions:** {}.", top_line(dim(r, "version")));
    let _ = writeln!(w, "- **TLS:** {} servers presented a certificate: {} self-signed, {} web-PKI-valid, {} X.509 v1, {} expired. Issuers: {}.", r.tls_servers, r.self_signed, r.webpki_valid, r.v1_certs, r.expired, top_line(dim(r, "cert_issuer")));
    if r.shared_certs.is_empty() {
        let _ = writeln!(
            w,
            "- **Certificate reuse:** no leaf certificate is presented by more than one server."
        );
    } else {
        let list: Vec<String> = r
            .shared_certs
            .iter()
            .take(5)
            .map(|(c, n, known)| {
                format!(
                    "`{c}…` × {n}{}",
                    known
                        .as_deref()
                        .map(|k| format!(" (known default: {})", md_text(k)))
                        .unwrap_or_default()
                )
            })
            .collect();
        let _ = writeln!(
            w,
            "- **Certificate reuse:** {} certificate(s) are presented by more than one server: {}.",
            r.shared_certs.len(),
            list.join(", ")
        );
    }
    let _ = writeln!(w, "\n### Centralization\n\n| dimension | servers | unknown | HHI | Nakamoto | Gini | entropy (norm.) | largest |\n|---|---:|---:|---:|---:|---:|---:|---|");
    for d in &r.centralization {
        let largest = d
            .top
            .first()
            .map(|(k, _, _, s)| format!("{} {}", md_cell(k), pct(*s)))
            .unwrap_or_else(|| "-".into());
        let _ = writeln!(
            w,
            "| {} | {} | {} | {:.3} | {} | {:.3} | {:.3} | {} |",
            d.id, d.total, d.unknown, d.hhi, d.nakamoto, d.gini, d.entropy_normalized, largest
        );
    }
    let _ = writeln!(w, "\nHHI is on shares in [0, 1] (×10,000 for the antitrust scale; above 0.25 is highly concentrated). The Nakamoto coefficient is the fewest buckets holding more than half the servers. Onion servers form their own bucket in the location dimensions.\n");

    let _ = writeln!(w, "## 2. Behavioral Clusters\n");
    for (m, k, noise, params, sil) in &r.clusters {
        let _ = writeln!(
            w,
            "- **{m}**: {k} cluster(s), {noise} noise; {}{}.",
            md_text(params),
            sil.map(|s| format!("; silhouette {s:.3}"))
                .unwrap_or_default()
        );
    }
    if r.kmeans_k_at_boundary {
        let _ = writeln!(w, "- **Note:** KMeans chose the largest k it searched; the network may hold more server types than these clusters show.");
    }
    if !r.cluster_explanations.is_empty() {
        let _ = writeln!(w, "\nLargest clusters:\n");
        for (m, id, e) in &r.cluster_explanations {
            let _ = writeln!(w, "- {m} #{id}: {}", md_text(e));
        }
    }
    let _ = writeln!(
        w,
        "\n- **Modified implementations** (claimed software disagrees with behavior): {}.",
        if r.mismatches.is_empty() {
            "none detected".into()
        } else {
            r.mismatches
                .iter()
                .map(|m| md_cell(m))
                .collect::<Vec<_>>()
                .join(", ")
        }
    );
    if r.outliers.is_empty() {
        let _ = writeln!(w, "- **Outliers:** none: no server is far from the network's median server or isolated with an extreme feature (rule in docs/methodology.md §6).\n");
    } else {
        let more = r.outlier_count.saturating_sub(r.outliers.len());
        let _ = writeln!(
            w,
            "- **Outliers** ({} found{}; rule in docs/methodology.md §6):",
            r.outlier_count,
            if more > 0 {
                format!(", the {} farthest listed", r.outliers.len())
            } else {
                String::new()
            }
        );
        for (s, d, reasons) in &r.outliers {
            let _ = writeln!(
                w,
                "  - {} ({d:.1} scaled MADs): {}",
                md_cell(s),
                reasons
                    .iter()
                    .map(|x| md_text(x))
                    .collect::<Vec<_>>()
                    .join("; ")
            );
        }
        let _ = writeln!(w);
    }

    let _ = writeln!(w, "## 3. Honeypot Suspicion Rankings\n");
    let lv = |k: &str| level_count(r, k);
    let unreachable = lv(crate::hss::UNREACHABLE_KEY);
    let _ = writeln!(
        w,
        "- Levels over the {} reachable servers: **{} high**, **{} medium**, {} low{} (indicators are signals, not proof; see docs/honeypot-indicators.md).",
        r.reachable_servers,
        lv("high"),
        lv("medium"),
        lv("low"),
        if unreachable > 0 { format!("; {unreachable} unreachable server(s) were not measured and have no level") } else { String::new() }
    );
    let fired: Vec<String> = r
        .indicator_counts
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    let _ = writeln!(
        w,
        "- Indicator firings (reachable servers): {}.",
        fired.join(", ")
    );
    for (level, title) in [("high", "High suspicion"), ("medium", "Medium suspicion")] {
        let list: Vec<&SuspectLine> = r.suspects.iter().filter(|x| x.level == level).collect();
        let _ = writeln!(w, "\n### {title}\n");
        if list.is_empty() {
            let _ = writeln!(w, "No server scored {level}.");
            continue;
        }
        let _ = writeln!(w, "| server | score | indicators |\n|---|---:|---|");
        for s in list {
            let _ = writeln!(
                w,
                "| {} | {:.1} | {} |",
                md_cell(&s.server),
                s.score,
                s.indicators
                    .iter()
                    .map(|i| md_text(i))
                    .collect::<Vec<_>>()
                    .join("; ")
            );
        }
    }
    let _ = writeln!(w, "\n### Benign clusters\n");
    if r.benign_clusters.is_empty() {
        let _ = writeln!(w, "No KMeans cluster has only low-scoring members.\n");
    } else {
        let _ = writeln!(
            w,
            "KMeans clusters (server types) in which every member scores low:\n"
        );
        for (id, n, e) in &r.benign_clusters {
            let _ = writeln!(
                w,
                "- kmeans #{id} ({}): {}",
                plural(*n as u64, "server", "servers"),
                md_text(e)
            );
        }
        let _ = writeln!(w);
    }

    let _ = writeln!(
        w,
        "## 4. Privacy Risk Assessment\n\n| metric | value | detail |\n|---|---:|---|"
    );
    for (_, label, v, unit, detail) in &r.privacy {
        let _ = writeln!(
            w,
            "| {} | {} {} | {} |",
            md_text(label),
            if unit == "%" {
                format!("{v:.1}")
            } else {
                format!("{v:.0}")
            },
            unit,
            md_text(detail)
        );
    }
    let recs = |audience: &str| -> Vec<String> {
        r.recommendations
            .iter()
            .filter(|(a, _, _)| a == audience)
            .map(|(_, text, based)| {
                format!("- {} _(based on: {})_", md_text(text), based.join(", "))
            })
            .collect()
    };
    let _ = writeln!(w, "\n**Recommendations for users**\n");
    let users = recs(crate::privacy::USERS);
    let _ = writeln!(
        w,
        "{}",
        if users.is_empty() {
            "- None: no measured risk calls for one.".to_string()
        } else {
            users.join("\n")
        }
    );
    let _ = writeln!(w, "\n## 5. Recommendations for Wallet Developers\n");
    let devs = recs(crate::privacy::WALLET_DEVELOPERS);
    let _ = writeln!(
        w,
        "{}",
        if devs.is_empty() {
            "- None: no measured risk calls for one.".to_string()
        } else {
            devs.join("\n")
        }
    );
    if flavor == Flavor::Executive {
        // Section 6 keeps the seed's numbering: deliverables.
        let deliver = "\n## 6. Final Deliverables\n\n- **Data:** `data/processed/servers.csv`, `fingerprints.csv`, `tls.csv` (columns in docs/methodology.md), `data/snapshots/<run>.json`.\n- **Visualizations:** the site's global server map, centralization charts and clustering heatmap/PCA view.\n- **Documentation:** docs/methodology.md, docs/threat-model.md, docs/honeypot-indicators.md, docs/privacy.md and this executive analysis.\n";
        w.push_str(deliver);
    }
    let _ = writeln!(
        w,
        "\n## {}. Data quality and sources\n",
        if flavor == Flavor::Executive { 7 } else { 6 }
    );
    let _ = writeln!(
        w,
        "- Corrupt or truncated input lines skipped: **{}**; unreadable files: **{}**.",
        r.corrupt_lines, r.corrupt_files
    );
    for e in &r.enrichment {
        let _ = writeln!(w, "- {}", md_text(e));
    }
    for a in &r.attribution {
        let _ = writeln!(w, "- {}", a);
    }
    let _ = writeln!(
        w,
        "- IP geolocation by DB-IP (<https://db-ip.com>), licensed CC-BY-4.0."
    );
    if flavor == Flavor::Report {
        let stages: Vec<String> = r
            .stage_ms
            .iter()
            .map(|(k, v)| format!("{k} {v:.1} ms"))
            .collect();
        let _ = writeln!(w, "- Analysis stage times: {}.", stages.join(", "));
        for wn in &r.warnings {
            let _ = writeln!(
                w,
                "- warning: {}{}: {}",
                md_cell(&wn.file),
                wn.line.map(|l| format!(":{l}")).unwrap_or_default(),
                md_cell(&wn.problem)
            );
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md_cells_cannot_break_tables_or_inject_html() {
        assert_eq!(
            md_cell("a|b\n<script>`x` & >= 3"),
            "a\\|b &lt;script&gt;'x' &amp; &gt;= 3"
        );
        assert_eq!(md_cell(&"x".repeat(500)).len(), MAX_MD_CELL_CHARS);
    }

    #[test]
    fn our_own_text_is_escaped_but_never_cut() {
        // A cluster explanation longer than a server cell, ending in a word that must survive.
        let explanation = format!("{}; distinctive: impl_other high (z +4.8), banner_len_log high (z +4.3), plaintext low (z -1.9)", "6 servers; 100% ElectrumX".repeat(8));
        assert!(explanation.chars().count() > MAX_MD_CELL_CHARS);
        let out = md_text(&explanation);
        assert!(out.ends_with("plaintext low (z -1.9)"), "{out}");
        assert_eq!(md_text("a|b\n<i>"), "a\\|b &lt;i&gt;");
    }
}
