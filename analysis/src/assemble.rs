//! The pure analysis pipeline: loaded records in, [`Analysis`] (snapshot, CSVs, report) out.
//!
//! No I/O happens here, so the same records always give the same output (given the
//! same `generated_at`), which the golden and determinism tests rely on.

use std::collections::BTreeSet;
use std::time::Instant;

use observatory_model::probes::ProbeDetail;
use observatory_model::raw::{EndpointRecord, Provenance};
use observatory_model::snapshot::{
    Attribution, CertView, ClusterAssignment, Dimension, Download, EndpointView, Level, ProbeView,
    Server, Snapshot, Totals, SNAPSHOT_SCHEMA_VERSION,
};

use crate::cluster::{self, ClusterOutput};
use crate::csv_out::{self, CsvFiles};
use crate::enrich::{centroids, Enricher};
use crate::hss;
use crate::load::LoadedData;
use crate::metrics::{self, Value};
use crate::normalize::{normalize, Normalized};
use crate::privacy;
use crate::profile::{bound, profile, Facts};
use crate::stats;
use crate::timefmt::rfc3339;
use crate::ServerResult;

/// Paths of the downloadable files, relative to the site's `data/` folder.
pub const SERVERS_CSV: &str = "processed/servers.csv";
/// fingerprints.csv path.
pub const FINGERPRINTS_CSV: &str = "processed/fingerprints.csv";
/// tls.csv path.
pub const TLS_CSV: &str = "processed/tls.csv";

/// Everything one analysis produces, in memory.
#[derive(Debug)]
pub struct Analysis {
    /// The snapshot (downloads filled by the writer once sizes are known).
    pub snapshot: Snapshot,
    /// The CSVs.
    pub csv: CsvFiles,
    /// Wall time per stage, ms.
    pub stage_ms: Vec<(String, f64)>,
}

/// Options of one analysis.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Generation time (RFC 3339); fixed in tests for reproducible output.
    pub generated_at: String,
    /// Enrichment sources actually loaded (for the attribution list).
    pub geo_loaded: bool,
    /// ASN database loaded.
    pub asn_loaded: bool,
    /// Cloud ranges loaded.
    pub cloud_loaded: bool,
}

/// Data credits shown on every page; the DB-IP credit is required by its licence.
pub fn attributions(opts: &Options) -> Vec<Attribution> {
    let mut v = vec![Attribution {
        what: "IP geolocation".into(),
        source: "DB-IP.com (IP to City Lite / IP to Country Lite, via ip-location-db)".into(),
        licence: "CC-BY-4.0".into(),
        url: "https://db-ip.com".into(),
    }];
    if opts.asn_loaded || !opts.geo_loaded {
        v.push(Attribution {
            what: "IP to ASN".into(),
            source: "ip-location-db ASN (RouteViews, NRO, DB-IP)".into(),
            licence: "CC-BY-4.0".into(),
            url: "https://github.com/sapics/ip-location-db".into(),
        });
    }
    v.push(Attribution {
        what: "Cloud provider IP ranges".into(),
        source: "lord-alfred/ipranges (provider-published ranges)".into(),
        licence: "CC0-1.0".into(),
        url: "https://github.com/lord-alfred/ipranges".into(),
    });
    v.push(Attribution {
        what: "Country shapes and centroids".into(),
        source: "Natural Earth via world-atlas".into(),
        licence: "Public domain (world-atlas: ISC)".into(),
        url: "https://www.naturalearthdata.com".into(),
    });
    v.push(Attribution {
        what: "Seed server list".into(),
        source: "Electrum servers.json and ElectrumX peers".into(),
        licence: "MIT".into(),
        url: "https://github.com/spesmilo/electrum".into(),
    });
    v
}

/// Runs the whole pipeline.
pub fn analyze(data: &LoadedData, enricher: &Enricher, opts: &Options) -> Analysis {
    let mut stage_ms = Vec::new();
    let mut t = Instant::now();
    let mut lap = |name: &str, t: &mut Instant| {
        stage_ms.push((name.to_string(), t.elapsed().as_secs_f64() * 1000.0));
        *t = Instant::now();
    };
    let n = normalize(data);
    lap("normalize", &mut t);
    let facts = profile(&n, enricher);
    lap("profile+enrich", &mut t);
    let ctx = hss::Context::build(&facts, &n);
    let scores: Vec<_> = facts.iter().map(|f| hss::score(f, &ctx)).collect();
    lap("hss", &mut t);
    let mut clusters = cluster::cluster(&facts, &n);
    lap("cluster", &mut t);
    let cluster_timings = std::mem::take(&mut clusters.timings);
    let dims = centralization(&facts, &n, enricher);
    lap("centralization", &mut t);
    let levels: Vec<Level> = scores.iter().map(|s| s.level).collect();
    let fired: Vec<Vec<String>> = scores
        .iter()
        .map(|s| s.fired.iter().map(|i| i.id.clone()).collect())
        .collect();
    let privacy = privacy::assess(&facts, &n, &dims, &levels, &fired);
    let reachable: Vec<bool> = facts.iter().map(|f| f.reachable).collect();
    let hss_summary = hss::summary(&levels, &reachable);
    let tip = cluster::common_tip(&facts);
    let share_count = |sha: &str| ctx.cert_servers.get(sha).map_or(0, Vec::len);
    let mut results: Vec<ServerResult<'_>> = facts
        .into_iter()
        .zip(scores)
        .map(|(f, h)| {
            let view = server_view(
                &f,
                &n,
                h,
                clusters
                    .assignments
                    .get(&f.idx)
                    .cloned()
                    .unwrap_or_default(),
                tip,
                &share_count,
            );
            ServerResult { facts: f, view }
        })
        .collect();
    results.sort_by(|a, b| {
        b.view
            .hss
            .score
            .total_cmp(&a.view.hss.score)
            .then_with(|| a.view.id.cmp(&b.view.id))
    });
    let csv = csv_out::build(&results, &n, &share_count);
    lap("csv", &mut t);
    let mut snapshot = snapshot(
        data,
        &n,
        results,
        dims,
        clusters,
        privacy,
        hss_summary,
        opts,
    );
    snapshot.simulated = crate::report::is_simulated(&snapshot);
    lap("snapshot", &mut t);
    // Per-method clustering times go right after the clustering total.
    let at = stage_ms
        .iter()
        .position(|(s, _)| s == "cluster")
        .map_or(stage_ms.len(), |i| i + 1);
    stage_ms.splice(
        at..at,
        cluster_timings
            .into_iter()
            .map(|(m, ms)| (format!("  cluster.{m}"), ms)),
    );
    Analysis {
        snapshot,
        csv,
        stage_ms,
    }
}

#[allow(clippy::too_many_arguments)]
fn snapshot(
    data: &LoadedData,
    n: &Normalized<'_>,
    results: Vec<ServerResult<'_>>,
    dims: Vec<Dimension>,
    clusters: ClusterOutput,
    privacy: observatory_model::snapshot::Privacy,
    hss: observatory_model::snapshot::HssSummary,
    opts: &Options,
) -> Snapshot {
    let totals = totals(n, &results);
    let started = data.records().map(|r| r.started_ms).min().unwrap_or(0);
    let finished = data
        .records()
        .map(|r| r.finished_ms.max(r.started_ms))
        .max()
        .unwrap_or(0);
    let run_id = data
        .runs
        .last()
        .map(|r| r.run_id.clone())
        .unwrap_or_default();
    let software_version = data
        .runs
        .last()
        .and_then(|r| r.manifest.as_ref())
        .map(|m| bound(&m.software_version))
        .unwrap_or_else(|| env!("CARGO_PKG_VERSION").to_string());
    Snapshot {
        schema_version: SNAPSHOT_SCHEMA_VERSION,
        run_id,
        generated_at: opts.generated_at.clone(),
        scan_started: rfc3339(started),
        scan_finished: rfc3339(finished),
        software_version,
        rounds: n.rounds.len() as u32,
        attribution: attributions(opts),
        totals,
        servers: results.into_iter().map(|r| r.view).collect(),
        centralization: dims,
        clusters: clusters.clustering,
        hss,
        privacy,
        downloads: Vec::<Download>::new(),
        // Decided by `report::is_simulated` once the snapshot is complete (see `analyze`).
        simulated: false,
    }
}

fn totals(n: &Normalized<'_>, results: &[ServerResult<'_>]) -> Totals {
    let mut t = Totals::default();
    let mut ips = BTreeSet::new();
    for g in &n.servers {
        for e in &g.endpoints {
            let Some(r) = e.latest() else { continue };
            t.endpoints += 1;
            *t.by_status
                .entry(r.status.as_str().to_string())
                .or_default() += 1;
            if e.endpoint.is_onion() {
                t.onion_endpoints += 1;
            }
            if r.status.is_reachable() {
                t.reachable_endpoints += 1;
                match e.endpoint.transport {
                    observatory_model::raw::Transport::Tls => t.tls_endpoints += 1,
                    observatory_model::raw::Transport::Tcp => t.tcp_endpoints += 1,
                }
                if let Some(ip) = &r.ip {
                    ips.insert(ip.clone());
                }
            }
        }
    }
    t.servers = n.servers.len() as u64;
    t.reachable_servers = results.iter().filter(|r| r.facts.reachable).count() as u64;
    t.distinct_ips = ips.len() as u64;
    t
}

fn provenance_text(p: &Provenance) -> String {
    match p {
        Provenance::Seed { name } => format!("seed:{}", bound(name)),
        Provenance::ServersFile { path } => format!("file:{}", bound(path)),
        Provenance::CommandLine => "command-line".into(),
        Provenance::Peer { from, depth } => format!("peer:{} (depth {depth})", bound(from)),
        Provenance::FeaturesHosts { from, depth } => {
            format!("features-hosts:{} (depth {depth})", bound(from))
        }
    }
}

/// Issuer bucket for centralization: `self-signed`, else the issuer organization or CN.
pub fn issuer_bucket(c: &observatory_model::raw::Certificate) -> Option<String> {
    if c.self_signed {
        return Some("self-signed".into());
    }
    c.issuer_org
        .as_deref()
        .or(c.issuer_cn.as_deref())
        .or(c.issuer.as_deref())
        .map(bound)
}

fn centralization(facts: &[Facts<'_>], n: &Normalized<'_>, enricher: &Enricher) -> Vec<Dimension> {
    let reach: Vec<&Facts<'_>> = facts.iter().filter(|f| f.reachable).collect();
    let pick =
        |f: &dyn Fn(&Facts<'_>) -> Value| -> Vec<Value> { reach.iter().map(|x| f(x)).collect() };
    let onion = |f: &Facts<'_>| n.servers.get(f.idx).is_some_and(|g| g.onion());
    // Location dimensions: onion servers are their own bucket, not a failed lookup.
    let located = |f: &dyn Fn(&Facts<'_>) -> Value| -> Vec<Value> {
        pick(&|x| {
            if onion(x) {
                Some((
                    metrics::ONION_BUCKET.to_string(),
                    metrics::ONION_LABEL.to_string(),
                ))
            } else {
                f(x)
            }
        })
    };
    let loc = |f: &Facts<'_>| f.info.location.clone();
    // The address enrichment used (a simulated server's stand-in), so prefixes agree with GeoIP and ASN.
    let first_ip = |f: &Facts<'_>, v6: bool| -> Option<String> {
        let g = n.servers.get(f.idx)?;
        f.ip.iter()
            .chain(g.ips.iter())
            .filter_map(|ip| ip.parse::<std::net::IpAddr>().ok())
            .map(|ip| enricher.effective_address(ip))
            .find(|ip| ip.is_ipv6() == v6)
            .map(|ip| ip.to_string())
    };
    vec![
        metrics::dimension(
            "country",
            "Servers by country",
            &located(&|f| {
                let l = loc(f)?;
                let code = l.country_code?;
                Some((code.clone(), l.country.unwrap_or(code)))
            }),
        ),
        metrics::dimension(
            "continent",
            "Servers by continent",
            &located(&|f| {
                let c = loc(f)?.continent.filter(|c| !c.is_empty())?;
                Some((c.clone(), centroids::continent_name(&c).to_string()))
            }),
        ),
        metrics::dimension(
            "asn",
            "Servers by autonomous system",
            &located(&|f| {
                let a = f.info.asn?;
                Some((
                    format!("AS{a}"),
                    f.info.as_org.clone().unwrap_or_else(|| format!("AS{a}")),
                ))
            }),
        ),
        metrics::dimension(
            "provider",
            "Servers by hosting provider",
            &located(&|f| f.info.provider.clone().map(|p| (p.clone(), p))),
        ),
        metrics::dimension(
            "implementation",
            "Servers by implementation",
            &pick(&|f| {
                Some((
                    f.implementation.label.clone(),
                    f.implementation.label.clone(),
                ))
            }),
        ),
        metrics::dimension(
            "version",
            "Servers by implementation version",
            &pick(&|f| {
                let v = f.implementation.version.as_ref()?;
                let k = format!("{} {v}", f.implementation.label);
                Some((k.clone(), k))
            }),
        ),
        metrics::dimension(
            "cert_issuer",
            "TLS servers by certificate issuer",
            &pick(&|f| issuer_bucket(f.leaf?).map(|i| (i.clone(), i))),
        ),
        metrics::dimension(
            "ipv4_16",
            "Servers by IPv4 /16 (Electrum client bucket)",
            &pick(&|f| metrics::ipv4_16(&first_ip(f, false)?).map(|k| (k.clone(), k))),
        ),
        metrics::dimension(
            "ipv6_48",
            "Servers by IPv6 /48 (Electrum client bucket)",
            &pick(&|f| metrics::ipv6_48(&first_ip(f, true)?).map(|k| (k.clone(), k))),
        ),
    ]
}

fn fmt_ms(v: f64) -> String {
    format!("{v:.1} ms")
}

fn probe_views(r: &EndpointRecord) -> Vec<ProbeView> {
    r.probes
        .iter()
        .map(|p| {
            let mut facts: Vec<(String, String)> = Vec::new();
            let mut push = |k: &str, v: String| facts.push((k.to_string(), v));
            match &p.detail {
                ProbeDetail::Xpub(x) => {
                    push(
                        "batch accepted",
                        x.batch_accepted.map_or("-".into(), |b| b.to_string()),
                    );
                    push("batch size", x.batch_size.to_string());
                    if let Some(v) = x.batch_per_item_ms {
                        push("batch per item", fmt_ms(v));
                    }
                    push("sequential median", fmt_ms(x.sequential.median_ms));
                    if let Some(s) = x.sequential_slope_ms {
                        push("sequential slope", format!("{s:.2} ms/query"));
                    }
                }
                ProbeDetail::RateLimit(x) => {
                    push("burst median", fmt_ms(x.burst.median_ms));
                    push("paced median", fmt_ms(x.paced.median_ms));
                    push("throttling observed", x.throttling_observed.to_string());
                    push("throttle errors", x.throttle_errors.len().to_string());
                    if let Some(d) = x.disconnected_after {
                        push("disconnected after", d.to_string());
                    }
                }
                ProbeDetail::Timing(x) => {
                    push("ping median", fmt_ms(x.ping.median_ms));
                    push("ping cv", format!("{:.3}", x.ping.cv));
                    push("ping samples", x.ping.n.to_string());
                    push("headers median", fmt_ms(x.headers.median_ms));
                }
                ProbeDetail::Malformed(m) => {
                    for c in m.cases.iter().take(MAX_PROBE_FACTS) {
                        push(
                            &bound(&c.case),
                            match c.code {
                                Some(code) => format!("{} ({code})", bound(&c.outcome)),
                                None => bound(&c.outcome),
                            },
                        );
                    }
                }
                ProbeDetail::AddressFormats(a) => {
                    for f in a.formats.iter().take(MAX_PROBE_FACTS) {
                        let ok = f.calls.iter().filter(|c| c.outcome == "answered").count();
                        push(
                            &bound(&f.format),
                            format!("{ok}/{} answered", f.calls.len()),
                        );
                    }
                    push(
                        "legacy blockchain.address.* answered",
                        a.legacy_address_answered.to_string(),
                    );
                }
                ProbeDetail::None => {}
            }
            ProbeView {
                name: bound(&p.name),
                status: p.status.as_str().to_string(),
                facts,
            }
        })
        .collect()
}

/// Facts shown per probe at most (malformed cases, address formats).
const MAX_PROBE_FACTS: usize = 16;

fn server_view(
    f: &Facts<'_>,
    n: &Normalized<'_>,
    hss: observatory_model::snapshot::Hss,
    clusters: ClusterAssignment,
    tip: Option<u64>,
    share_count: &dyn Fn(&str) -> usize,
) -> Server {
    let g = n.servers.get(f.idx);
    let endpoints: Vec<EndpointView> = g
        .map(|g| {
            g.endpoints
                .iter()
                .filter_map(|e| {
                    let r = e.latest()?;
                    Some(EndpointView {
                        key: e.endpoint.key(),
                        host: bound(&e.endpoint.host),
                        port: e.endpoint.port,
                        transport: e.endpoint.transport.letter().to_string(),
                        ip: r.ip.clone(),
                        status: r.status.as_str().into(),
                        error: r.error.as_deref().map(bound),
                        connect_ms: r.timing.connect_ms,
                        tls_ms: r.timing.tls_ms,
                        provenance: r.provenance.iter().map(provenance_text).collect(),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let main = f.main;
    let feats = main.and_then(|r| r.metadata.features.as_ref()?.result.as_ref());
    let version = main.and_then(|r| r.metadata.version.as_ref()?.result.as_ref());
    let cert = f.leaf.map(|c| CertView {
        sha256: c.sha256.clone(),
        spki_sha256: c.spki_sha256.clone(),
        subject: c.subject.as_deref().map(bound),
        issuer: c.issuer.as_deref().map(bound),
        serial: c.serial.clone(),
        version: c.version,
        not_before: c.not_before.clone(),
        not_after: c.not_after.clone(),
        san: c.san.iter().take(MAX_SAN).map(|s| bound(s)).collect(),
        key: match (&c.key_type, c.key_bits) {
            (Some(t), Some(b)) => Some(format!("{t} {b}")),
            (Some(t), None) => Some(t.clone()),
            _ => None,
        },
        signature_algorithm: c.signature_algorithm.clone(),
        self_signed: c.self_signed,
        expired: c.expired,
        webpki_valid: f.tls.is_some_and(|t| t.webpki_valid),
        name_matches: f.tls.is_some_and(|t| t.name_matches),
        tls_version: f.tls.and_then(|t| t.protocol_version.clone()),
        cipher_suite: f.tls.and_then(|t| t.cipher_suite.clone()),
        chain_len: f
            .tls
            .map_or(0, |t| t.chain_presented.unwrap_or(t.chain.len() as u32)),
        shared_with: share_count(&c.sha256).saturating_sub(1) as u32,
    });
    let height = f.tip_height();
    Server {
        id: g.map(|g| g.id.clone()).unwrap_or_default(),
        host: g.map(|g| bound(&g.host)).unwrap_or_default(),
        hosts: g
            .map(|g| g.hosts.iter().map(|h| bound(h)).collect())
            .unwrap_or_default(),
        ips: g.map(|g| g.ips.clone()).unwrap_or_default(),
        onion: g.is_some_and(|g| g.onion()),
        endpoints,
        reachable: f.reachable,
        location: f.info.location.clone(),
        asn: f.info.asn,
        as_org: f.info.as_org.clone(),
        provider: f.info.provider.clone(),
        implementation: f.implementation.label.clone(),
        implementation_version: f.implementation.version.clone(),
        implementation_confidence: f.implementation.confidence,
        implementation_evidence: f.implementation.evidence.clone(),
        implementation_mismatch: f.implementation.mismatch,
        server_software: version.map(|v| bound(&v.software)),
        protocol: version.map(|v| bound(&v.protocol)),
        protocol_range: feats.and_then(|x| {
            Some((
                bound(x.protocol_min.as_deref()?),
                bound(x.protocol_max.as_deref()?),
            ))
        }),
        banner: f.banner().map(bound),
        donation_address: main
            .and_then(|r| r.metadata.donation_address.as_ref()?.result.as_deref())
            .map(bound),
        genesis_hash: feats.and_then(|x| x.genesis_hash.as_deref()).map(bound),
        tip_height: height,
        tip_lag: tip.zip(height).map(|(t, h)| t as i64 - h as i64),
        pruning: feats.and_then(|x| x.pruning),
        peers_advertised: main
            .and_then(|r| {
                r.metadata
                    .peers
                    .as_ref()?
                    .result
                    .as_ref()
                    .map(|p| p.len() as u64)
            })
            .unwrap_or(0),
        behavior_hash: f.behavior_hash.clone(),
        cert,
        uptime: f.uptime,
        rounds_observed: f.rounds_observed,
        rtt_median_ms: stats::median(&f.rtt_samples),
        rtt_p95_ms: stats::percentile(&f.rtt_samples, 95.0),
        rtt_cv: stats::cv(&f.rtt_samples),
        probes: main.map(probe_views).unwrap_or_default(),
        privacy_flags: privacy::flags(f),
        history: f.history.clone(),
        hss,
        clusters,
    }
}

/// SAN entries kept per certificate in the snapshot.
const MAX_SAN: usize = 32;
