//! Clustering of reachable servers (linfa + ndarray): DBSCAN for identical-behavior
//! groups, KMeans for server types, PCA for the 2-D map, agglomerative hierarchical
//! clustering (average linkage) for operator groups, plus outliers.
//!
//! Feature vectors ([`FEATURES`]) mix behavior, TLS, latency and network location.
//! Every column is standardized (z-score; constant columns become 0) before any
//! algorithm runs: distances then weigh features equally, and linfa-reduction's
//! PCA does not hit its NaN panic on unscaled clustered data. All randomness
//! comes from a fixed-seed Xoshiro256+ ([`SEED`]); cluster ids are relabeled in
//! order of each cluster's first member, so output is deterministic.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use linfa::prelude::*;
use linfa::DatasetBase;
use linfa_clustering::{Dbscan, KMeans};
use linfa_hierarchical::HierarchicalCluster;
use linfa_kernel::{Kernel, KernelMethod, KernelType};
use linfa_reduction::Pca;
use ndarray::{Array1, Array2, Axis};
use observatory_model::snapshot::{
    Cluster, ClusterAssignment, ClusterSet, Clustering, FeatureDoc, Outlier,
};
use rand_xoshiro::rand_core::SeedableRng;
use rand_xoshiro::Xoshiro256Plus;

use crate::normalize::Normalized;
use crate::profile::Facts;
use crate::stats;

/// Seed of every random choice (KMeans++ initialization).
pub const SEED: u64 = 0x000b_5e7a_7012;
/// DBSCAN neighborhood radius in standardized units (Euclidean over all features).
pub const DBSCAN_EPS: f64 = 1.0;
/// DBSCAN core-point minimum (including the point itself).
pub const DBSCAN_MIN_POINTS: usize = 3;
/// KMeans k range searched by silhouette.
pub const KMEANS_K_MIN: usize = 2;
/// Upper end of the k search. When the best silhouette is at this end the parameters say
/// so ([`K_AT_BOUNDARY_NOTE`]): the data may hold more server types than the search allowed.
pub const KMEANS_K_MAX: usize = 12;
/// Appended to the KMeans parameters when the chosen k is the largest one searched.
pub const K_AT_BOUNDARY_NOTE: &str = "the best silhouette is at the upper end of the range searched, so the data may hold more server types than k";
/// Silhouette is computed on at most this many servers (evenly spaced sample), to stay O(n).
pub const SILHOUETTE_SAMPLE: usize = 400;
/// Hierarchical cut: merge while the average-linkage distance (mean squared z difference
/// per feature) stays below this.
pub const HIER_MAX_DISTANCE: f64 = 0.15;
/// Hierarchical clustering runs on at most this many servers: its dense kernel matrix is
/// O(n²) in memory (2,000² × 8 B = 32 MB) and the linkage at least O(n²) in time. Larger
/// inputs are clustered on an evenly spaced sample; every other server joins the nearest
/// group centroid when within [`HIER_MAX_DISTANCE`] (O(n × groups)).
pub const HIER_MAX_SERVERS: usize = 2_000;
/// DBSCAN runs on at most this many servers (evenly spaced sample): its neighbourhood
/// queries degrade towards O(n²) in 24 dimensions. Other servers join the DBSCAN cluster with
/// the nearest centroid when within that cluster's radius (farthest sampled member), else noise.
pub const DBSCAN_MAX_SERVERS: usize = 5_000;
/// KMeans and PCA are fitted on at most this many servers (evenly spaced sample) and then
/// applied to every server (assignment and projection are O(n)).
pub const FIT_MAX_SERVERS: usize = 10_000;
/// A feature with |mean z| at least this is "what a cluster shares".
pub const EXPLAIN_Z: f64 = 0.8;
/// MAD → standard deviation for normal data (1 / Φ⁻¹(3/4)).
pub const MAD_TO_SD: f64 = 1.4826;
/// Distance outlier: robust distance above the median distance by more than this many
/// scaled MADs of the distances (Iglewicz and Hoaglin's modified z-score cut).
pub const OUTLIER_DISTANCE_MADS: f64 = 3.5;
/// Isolation outlier: DBSCAN noise in a KMeans cluster of fewer than this many servers.
pub const OUTLIER_MIN_CLUSTER: usize = 5;
/// An outlier has at least one feature this far from the network's median (robust z)…
pub const OUTLIER_FEATURE_Z: f64 = 3.0;
/// …where at most this share of servers lie (that far out or farther, on the same side). A
/// robust z alone calls a large minority extreme when a feature is multimodal (the 27% of
/// servers without TLS sit 5 robust z from the median certificate validity); rarity does not.
/// Both outlier rules require such a rare extreme feature.
pub const OUTLIER_RARE_SHARE: f64 = 0.10;
/// Features named per outlier: those with |robust z| at least this, largest first.
pub const OUTLIER_REASON_Z: f64 = 2.0;
/// …at most this many.
pub const OUTLIER_REASONS: usize = 4;
/// At most this many outliers are listed.
pub const MAX_OUTLIERS: usize = 25;
/// Fewer servers than this: no KMeans search (k = 1).
pub const MIN_SERVERS_FOR_K: usize = 4;
/// Fewer clustered servers than this: no outliers (a median of a handful says nothing).
pub const MIN_SERVERS_FOR_OUTLIERS: usize = 8;

/// The feature catalogue: `(name, description)`, in column order.
pub const FEATURES: &[(&str, &str)] = &[
    ("tls", "1 when a TLS endpoint answered"),
    ("plaintext", "1 when a plain-TCP endpoint answered"),
    ("self_signed", "1 when the leaf certificate is self-signed"),
    (
        "webpki_valid",
        "1 when the chain validates against the Mozilla roots for the host",
    ),
    (
        "cert_validity_log",
        "ln(1 + certificate validity period in days); 0 without a certificate",
    ),
    (
        "cert_shared_log",
        "ln(1 + number of other servers presenting the same leaf certificate)",
    ),
    ("rtt_log", "ln(1 + median round-trip time in ms)"),
    (
        "rtt_cv",
        "coefficient of variation of round-trip times (capped at 5)",
    ),
    ("impl_electrumx", "1 when inferred ElectrumX"),
    ("impl_fulcrum", "1 when inferred Fulcrum"),
    (
        "impl_electrs",
        "1 when inferred electrs (romanz, esplora or mempool)",
    ),
    ("impl_other", "1 when another or unknown implementation"),
    (
        "protocol_max",
        "highest protocol version advertised (major + minor/10)",
    ),
    ("pruning", "1 when the server advertises pruning"),
    (
        "peers_log",
        "ln(1 + peers advertised by server.peers.subscribe)",
    ),
    ("banner_len_log", "ln(1 + banner length in characters)"),
    (
        "batch_accepted",
        "xpub probe: 1 batch accepted, 0 refused, 0.5 not probed",
    ),
    (
        "throttling",
        "1 when the rate-limit probe observed throttling",
    ),
    (
        "legacy_address",
        "1 when removed blockchain.address.* methods still answer",
    ),
    (
        "malformed_disconnects",
        "share of malformed-request cases after which the server disconnected",
    ),
    ("onion", "1 for onion-only servers"),
    ("cloud", "1 when the IP is in a published cloud range"),
    ("asn_share", "share of clustered servers in the same ASN"),
    ("tip_lag_log", "ln(1 + blocks behind the most common tip)"),
];

/// Clustering output plus each server's memberships.
#[derive(Debug, Default)]
pub struct ClusterOutput {
    /// For the snapshot.
    pub clustering: Clustering,
    /// Server index → memberships.
    pub assignments: HashMap<usize, ClusterAssignment>,
    /// Wall time per method, ms (for the benchmark figures).
    pub timings: Vec<(String, f64)>,
}

fn ln1p(x: f64) -> f64 {
    if x.is_finite() && x > 0.0 {
        x.ln_1p()
    } else {
        0.0
    }
}

fn protocol_number(p: &str) -> f64 {
    let mut it = p.split('.');
    let maj: f64 = it.next().and_then(|x| x.parse().ok()).unwrap_or(0.0);
    let min: f64 = it.next().and_then(|x| x.parse().ok()).unwrap_or(0.0);
    maj + (min / 10.0).min(0.99)
}

/// The raw (unscaled) feature vector of a server. `tip` is the network's most common tip.
pub fn feature_vector(
    f: &Facts<'_>,
    n: &Normalized<'_>,
    cert_count: &HashMap<&str, usize>,
    asn_share: &HashMap<u32, f64>,
    tip: Option<u64>,
) -> Vec<f64> {
    let b = |x: bool| if x { 1.0 } else { 0.0 };
    let leaf = f.leaf;
    let label = f.implementation.label.as_str();
    let feats = f
        .main
        .and_then(|r| r.metadata.features.as_ref()?.result.as_ref());
    let proto = feats
        .and_then(|x| x.protocol_max.clone())
        .or_else(|| {
            f.main?
                .metadata
                .version
                .as_ref()?
                .result
                .as_ref()
                .map(|v| v.protocol.clone())
        })
        .map_or(0.0, |p| protocol_number(&p));
    let peers = f
        .main
        .and_then(|r| r.metadata.peers.as_ref()?.result.as_ref().map(Vec::len))
        .unwrap_or(0);
    let malformed = f.malformed.map_or(0.0, |m| {
        if m.cases.is_empty() {
            0.0
        } else {
            m.cases.iter().filter(|c| c.disconnected).count() as f64 / m.cases.len() as f64
        }
    });
    let onion = n.servers.get(f.idx).is_some_and(|g| g.onion());
    let lag = match (tip, f.tip_height()) {
        (Some(t), Some(h)) => (t as f64 - h as f64).abs(),
        _ => 0.0,
    };
    vec![
        b(f.tls_endpoints > 0),
        b(f.tcp_endpoints > 0),
        b(leaf.is_some_and(|c| c.self_signed)),
        b(f.tls.is_some_and(|t| t.webpki_valid)),
        leaf.and_then(|c| c.validity_days)
            .map_or(0.0, |d| ln1p(d as f64)),
        leaf.map_or(0.0, |c| {
            ln1p(
                cert_count
                    .get(c.sha256.as_str())
                    .copied()
                    .unwrap_or(1)
                    .saturating_sub(1) as f64,
            )
        }),
        f.rtt_median().map_or(0.0, ln1p),
        stats::cv(&f.rtt_samples).unwrap_or(0.0).clamp(0.0, 5.0),
        b(label == "ElectrumX"),
        b(label == "Fulcrum"),
        b(label.contains("electrs")),
        b(label != "ElectrumX" && label != "Fulcrum" && !label.contains("electrs")),
        proto,
        b(feats.is_some_and(|x| x.pruning.is_some())),
        ln1p(peers as f64),
        f.banner().map_or(0.0, |s| ln1p(s.chars().count() as f64)),
        f.xpub.and_then(|x| x.batch_accepted).map_or(0.5, &b),
        b(f.rate.is_some_and(|r| r.throttling_observed)),
        b(f.address_formats.is_some_and(|a| a.legacy_address_answered)),
        malformed,
        b(onion),
        b(f.info.cloud),
        f.info
            .asn
            .and_then(|a| asn_share.get(&a).copied())
            .unwrap_or(0.0),
        ln1p(lag),
    ]
}

/// Z-score standardization per column; constant columns become 0.
pub fn standardize(x: &Array2<f64>) -> Array2<f64> {
    let mut out = x.clone();
    if x.nrows() == 0 {
        return out;
    }
    for mut col in out.axis_iter_mut(Axis(1)) {
        let mean = col.mean().unwrap_or(0.0);
        let sd = col.std(0.0);
        if sd.is_finite() && sd > 1e-12 {
            col.mapv_inplace(|v| (v - mean) / sd);
        } else {
            col.fill(0.0);
        }
    }
    out
}

/// Renumbers labels so that cluster 0 is the one containing the first server, etc.
pub fn canonical_labels(labels: &[Option<usize>]) -> Vec<Option<u32>> {
    let mut map: HashMap<usize, u32> = HashMap::new();
    labels
        .iter()
        .map(|l| {
            l.map(|l| {
                let next = map.len() as u32;
                *map.entry(l).or_insert(next)
            })
        })
        .collect()
}

fn dist(a: ndarray::ArrayView1<'_, f64>, b: ndarray::ArrayView1<'_, f64>) -> f64 {
    a.iter()
        .zip(b.iter())
        .map(|(x, y)| (x - y).powi(2))
        .sum::<f64>()
        .sqrt()
}

/// Evenly spaced row indices: all rows when `n <= cap`, else `cap` of them.
pub fn sample_rows(n: usize, cap: usize) -> Vec<usize> {
    let cap = cap.max(1);
    if n <= cap {
        (0..n).collect()
    } else {
        (0..cap).map(|i| i * n / cap).collect()
    }
}

/// Mean silhouette over an evenly spaced sample of at most [`SILHOUETTE_SAMPLE`] rows.
pub fn silhouette(x: &Array2<f64>, labels: &[u32]) -> Option<f64> {
    let n = x.nrows();
    let k = labels.iter().copied().max().map_or(0, |m| m as usize + 1);
    if n < 3 || k < 2 {
        return None;
    }
    let step = n.div_ceil(SILHOUETTE_SAMPLE).max(1);
    let sample: Vec<usize> = (0..n).step_by(step).collect();
    let mut total = 0.0;
    let mut counted = 0usize;
    for &i in &sample {
        let mut sum = vec![0.0; k];
        let mut cnt = vec![0usize; k];
        for &j in &sample {
            if i == j {
                continue;
            }
            let l = labels.get(j).copied().unwrap_or(0) as usize;
            if let (Some(s), Some(c)) = (sum.get_mut(l), cnt.get_mut(l)) {
                *s += dist(x.row(i), x.row(j));
                *c += 1;
            }
        }
        let own = labels.get(i).copied().unwrap_or(0) as usize;
        let a = match cnt.get(own) {
            Some(&c) if c > 0 => sum.get(own).copied().unwrap_or(0.0) / c as f64,
            _ => continue, // singleton: silhouette 0 by convention, skip
        };
        let b = (0..k)
            .filter(|&l| l != own && cnt.get(l).is_some_and(|&c| c > 0))
            .map(|l| sum[l] / cnt[l] as f64)
            .fold(f64::INFINITY, f64::min);
        if !b.is_finite() {
            continue;
        }
        let m = a.max(b);
        total += if m > 0.0 { (b - a) / m } else { 0.0 };
        counted += 1;
    }
    (counted > 0).then(|| total / counted as f64)
}

fn kmeans(z: &Array2<f64>, k: usize) -> Option<Vec<u32>> {
    let ds = DatasetBase::from(z.select(Axis(0), &sample_rows(z.nrows(), FIT_MAX_SERVERS)));
    let model = KMeans::params_with_rng(k, Xoshiro256Plus::seed_from_u64(SEED))
        .max_n_iterations(200)
        .tolerance(1e-6)
        .n_runs(4)
        .fit(&ds)
        .ok()?;
    let labels: Array1<usize> = model.predict(z);
    let canon = canonical_labels(&labels.iter().map(|&l| Some(l)).collect::<Vec<_>>());
    Some(canon.into_iter().map(|l| l.unwrap_or(0)).collect())
}

fn catch<T>(f: impl FnOnce() -> Option<T>) -> Option<T> {
    // linfa asserts on degenerate input in places (e.g. PCA on NaN, kodama on empty);
    // a failed method yields no result instead of ending the analysis.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .ok()
        .flatten()
}

/// Runs every method over the reachable servers.
pub fn cluster(facts: &[Facts<'_>], n: &Normalized<'_>) -> ClusterOutput {
    let members: Vec<&Facts<'_>> = facts.iter().filter(|f| f.reachable).collect();
    let ids: Vec<String> = members
        .iter()
        .map(|f| {
            n.servers
                .get(f.idx)
                .map(|g| g.id.clone())
                .unwrap_or_default()
        })
        .collect();
    let mut cert_count: HashMap<&str, usize> = HashMap::new();
    for f in &members {
        if let Some(l) = f.leaf {
            *cert_count.entry(l.sha256.as_str()).or_default() += 1;
        }
    }
    let mut asn_count: HashMap<u32, usize> = HashMap::new();
    for f in &members {
        if let Some(a) = f.info.asn {
            *asn_count.entry(a).or_default() += 1;
        }
    }
    let m = members.len().max(1) as f64;
    let asn_share: HashMap<u32, f64> = asn_count
        .into_iter()
        .map(|(a, c)| (a, c as f64 / m))
        .collect();
    let tip = common_tip(facts);
    let p = FEATURES.len();
    let mut x = Array2::<f64>::zeros((members.len(), p));
    for (i, f) in members.iter().enumerate() {
        for (j, v) in feature_vector(f, n, &cert_count, &asn_share, tip)
            .into_iter()
            .enumerate()
            .take(p)
        {
            x[[i, j]] = if v.is_finite() { v } else { 0.0 };
        }
    }
    let z = standardize(&x);
    let mut out = ClusterOutput::default();
    out.clustering.features = FEATURES
        .iter()
        .map(|(n, d)| FeatureDoc {
            name: (*n).into(),
            description: (*d).into(),
        })
        .collect();
    out.clustering.servers_clustered = members.len() as u64;
    let mut assign: Vec<ClusterAssignment> = vec![ClusterAssignment::default(); members.len()];
    let mut lap = Instant::now();

    // DBSCAN.
    let db_labels: Vec<Option<u32>> = if members.is_empty() {
        vec![]
    } else {
        dbscan(&z).unwrap_or_else(|| vec![None; members.len()])
    };
    out.timings
        .push(("dbscan".into(), lap.elapsed().as_secs_f64() * 1000.0));
    lap = Instant::now();
    out.clustering.dbscan = cluster_set(
        "dbscan",
        format!(
            "eps = {DBSCAN_EPS} (Euclidean, standardized features), min_points = {DBSCAN_MIN_POINTS}; unclustered servers are noise{}",
            if members.len() > DBSCAN_MAX_SERVERS {
                format!("; run on an evenly spaced sample of {DBSCAN_MAX_SERVERS} servers, the others joined to the nearest cluster within its radius")
            } else {
                String::new()
            }
        ),
        &db_labels,
        &z,
        &members,
        &ids,
        None,
    );
    for (a, l) in assign.iter_mut().zip(&db_labels) {
        a.dbscan = *l;
    }

    // KMeans with k by silhouette.
    let (km_labels, k_note, sil) = if members.len() < MIN_SERVERS_FOR_K {
        (
            vec![0u32; members.len()],
            format!("k = 1 (fewer than {MIN_SERVERS_FOR_K} servers)"),
            None,
        )
    } else {
        let kmax = KMEANS_K_MAX.min(members.len() - 1);
        let mut best: Option<(f64, usize, Vec<u32>)> = None;
        let mut tried = Vec::new();
        for k in KMEANS_K_MIN..=kmax {
            let Some(labels) = catch(|| kmeans(&z, k)) else {
                continue;
            };
            let s = silhouette(&z, &labels).unwrap_or(-1.0);
            tried.push(format!("k={k}: {s:.3}"));
            if best.as_ref().is_none_or(|b| s > b.0 + 1e-12) {
                best = Some((s, k, labels));
            }
        }
        match best {
            Some((s, k, labels)) => {
                // Only a limit of the search, not of the data (k = n − 1), leaves room for more.
                let boundary = if k == kmax && kmax < members.len() - 1 {
                    format!("; {K_AT_BOUNDARY_NOTE}")
                } else {
                    String::new()
                };
                let note = format!(
                    "k = {k} chosen by the highest mean silhouette over k in {KMEANS_K_MIN}..={kmax} ({}); seed {SEED:#x}, 4 runs, k-means++ init{boundary}",
                    tried.join(", ")
                );
                (labels, note, Some(s))
            }
            None => (
                vec![0u32; members.len()],
                "k = 1 (KMeans failed on this input)".into(),
                None,
            ),
        }
    };
    out.timings.push((
        "kmeans+silhouette".into(),
        lap.elapsed().as_secs_f64() * 1000.0,
    ));
    lap = Instant::now();
    let km_opt: Vec<Option<u32>> = km_labels.iter().map(|&l| Some(l)).collect();
    out.clustering.kmeans = cluster_set("kmeans", k_note, &km_opt, &z, &members, &ids, sil);
    for (a, l) in assign.iter_mut().zip(&km_labels) {
        a.kmeans = Some(*l);
    }

    // Hierarchical, average linkage on a Gaussian kernel (distance = mean squared z difference).
    let (hier, hier_sampled) = hierarchical(&z);
    out.clustering.hierarchical = cluster_set(
        "hierarchical",
        format!(
            "agglomerative, average linkage (UPGMA) on distance = mean squared standardized difference per feature (Gaussian kernel, -ln); cut at {HIER_MAX_DISTANCE}{}",
            if hier_sampled { format!("; run on an evenly spaced sample of {HIER_MAX_SERVERS} servers, the others joined to the nearest group centroid within the cut") } else { String::new() }
        ),
        &hier,
        &z,
        &members,
        &ids,
        None,
    );
    for (a, l) in assign.iter_mut().zip(&hier) {
        a.operator = *l;
    }
    out.timings
        .push(("hierarchical".into(), lap.elapsed().as_secs_f64() * 1000.0));
    lap = Instant::now();

    // PCA 2-D.
    if members.len() >= 2 {
        if let Some((coords, ratio)) = catch(|| {
            let ds = DatasetBase::from(z.select(Axis(0), &sample_rows(z.nrows(), FIT_MAX_SERVERS)));
            let pca = Pca::params(2).fit(&ds).ok()?;
            let proj: Array2<f64> = pca.predict(&z);
            let r = pca.explained_variance_ratio();
            if proj.iter().any(|v| !v.is_finite()) {
                return None;
            }
            Some((
                proj,
                (
                    r.get(0).copied().unwrap_or(0.0),
                    r.get(1).copied().unwrap_or(0.0),
                ),
            ))
        }) {
            for (i, a) in assign.iter_mut().enumerate() {
                let x = coords.get((i, 0)).copied().unwrap_or(0.0);
                let y = coords.get((i, 1)).copied().unwrap_or(0.0);
                a.pca = Some((x, y));
            }
            out.clustering.pca_explained = ratio;
        }
    }

    out.timings
        .push(("pca".into(), lap.elapsed().as_secs_f64() * 1000.0));
    out.clustering.outliers = outliers(&x, &db_labels, &km_labels, &ids);
    for (f, a) in members.iter().zip(assign) {
        out.assignments.insert(f.idx, a);
    }
    out
}

/// DBSCAN labels over standardized rows, on a sample above [`DBSCAN_MAX_SERVERS`]; None when
/// linfa fails (it is wrapped in [`catch`]).
fn dbscan(z: &Array2<f64>) -> Option<Vec<Option<u32>>> {
    dbscan_capped(z, DBSCAN_MAX_SERVERS)
}

/// [`dbscan`] with the sample size as a parameter (tests use a small one).
fn dbscan_capped(z: &Array2<f64>, cap: usize) -> Option<Vec<Option<u32>>> {
    let sample = sample_rows(z.nrows(), cap);
    let zs = z.select(Axis(0), &sample);
    let labels = catch(|| {
        let l = Dbscan::params(DBSCAN_MIN_POINTS)
            .tolerance(DBSCAN_EPS)
            .transform(&zs)
            .ok()?;
        Some(canonical_labels(&l.to_vec()))
    })?;
    if sample.len() == z.nrows() {
        return Some(labels);
    }
    // Centroid and radius (farthest member) of each sampled cluster.
    let mut groups: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    for (row, l) in labels.iter().enumerate() {
        if let Some(l) = l {
            groups.entry(*l).or_default().push(row);
        }
    }
    let shapes: Vec<(u32, Array1<f64>, f64)> = groups
        .into_iter()
        .map(|(l, rows)| {
            let c = zs
                .select(Axis(0), &rows)
                .mean_axis(Axis(0))
                .unwrap_or_else(|| Array1::zeros(z.ncols()));
            let radius = rows
                .iter()
                .map(|&r| dist(zs.row(r), c.view()))
                .fold(0.0, f64::max);
            (l, c, radius)
        })
        .collect();
    let own: HashMap<usize, Option<u32>> =
        sample.iter().copied().zip(labels.iter().copied()).collect();
    let all: Vec<Option<usize>> = z
        .outer_iter()
        .enumerate()
        .map(|(i, row)| {
            if let Some(l) = own.get(&i) {
                return l.map(|l| l as usize);
            }
            shapes
                .iter()
                .map(|(l, c, r)| (*l, dist(row, c.view()), *r))
                .filter(|(_, d, r)| d <= r)
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(l, _, _)| l as usize)
        })
        .collect();
    Some(canonical_labels(&all))
}

/// Operator groups by hierarchical clustering over standardized rows `z`; the flag says
/// whether a sample was clustered (more than [`HIER_MAX_SERVERS`] rows).
fn hierarchical(z: &Array2<f64>) -> (Vec<Option<u32>>, bool) {
    hierarchical_capped(z, HIER_MAX_SERVERS)
}

/// [`hierarchical`] with the sample size as a parameter (tests use a small one).
fn hierarchical_capped(z: &Array2<f64>, cap: usize) -> (Vec<Option<u32>>, bool) {
    let n = z.nrows();
    if n < 2 {
        return ((0..n).map(|_| Some(0)).collect(), false);
    }
    let cap = cap.max(2);
    let sampled = n > cap;
    let sample: Vec<usize> = if sampled {
        (0..cap).map(|i| i * n / cap).collect()
    } else {
        (0..n).collect()
    };
    let zs = z.select(Axis(0), &sample);
    let p = z.ncols().max(1);
    let labels = catch(|| {
        let kernel = Kernel::params()
            .kind(KernelType::Dense)
            .method(KernelMethod::Gaussian(p as f64))
            .transform(zs.view());
        let res = HierarchicalCluster::default()
            .with_method(linfa_hierarchical::Method::Average)
            .max_distance(HIER_MAX_DISTANCE)
            .transform(kernel)
            .ok()?;
        Some(canonical_labels(
            &res.targets().iter().map(|&l| Some(l)).collect::<Vec<_>>(),
        ))
    });
    let Some(labels) = labels else {
        return (vec![None; n], sampled);
    };
    if !sampled {
        return (labels, false);
    }
    // Centroids of the sample's groups, then every row joins the nearest one within the cut.
    let mut sums: BTreeMap<u32, (Array1<f64>, f64)> = BTreeMap::new();
    for (row, l) in zs.outer_iter().zip(&labels) {
        let Some(l) = l else { continue };
        let e = sums
            .entry(*l)
            .or_insert_with(|| (Array1::zeros(z.ncols()), 0.0));
        e.0 += &row;
        e.1 += 1.0;
    }
    let centroids: Vec<(u32, Array1<f64>)> =
        sums.into_iter().map(|(l, (s, c))| (l, s / c)).collect();
    let own: HashMap<usize, Option<u32>> =
        sample.iter().copied().zip(labels.iter().copied()).collect();
    let all: Vec<Option<usize>> = z
        .outer_iter()
        .enumerate()
        .map(|(i, row)| {
            // A sampled row keeps the group the linkage gave it.
            if let Some(l) = own.get(&i) {
                return l.map(|l| l as usize);
            }
            centroids
                .iter()
                .map(|(l, c)| (*l, (&row - c).mapv(|d| d * d).sum() / p as f64))
                .filter(|(_, d)| *d <= HIER_MAX_DISTANCE)
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(l, _)| l as usize)
        })
        .collect();
    (canonical_labels(&all), true)
}

/// The most common tip height among reachable servers.
pub fn common_tip(facts: &[Facts<'_>]) -> Option<u64> {
    let mut c: BTreeMap<u64, usize> = BTreeMap::new();
    for h in facts.iter().filter_map(|f| f.tip_height()) {
        *c.entry(h).or_default() += 1;
    }
    c.into_iter().max_by_key(|(h, n)| (*n, *h)).map(|(h, _)| h)
}

fn describe_z(name: &str, z: f64) -> String {
    format!(
        "{name} {} (z {z:+.1})",
        if z > 0.0 { "high" } else { "low" }
    )
}

fn top_share(values: impl Iterator<Item = Option<String>>, total: usize) -> Option<(String, f64)> {
    let mut c: BTreeMap<String, usize> = BTreeMap::new();
    for v in values.flatten() {
        *c.entry(v).or_default() += 1;
    }
    let (k, n) = c
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(&a.0)))?;
    Some((k, n as f64 / total.max(1) as f64))
}

fn explain(rows: &[usize], centroid: &[f64], members: &[&Facts<'_>]) -> String {
    let n = rows.len();
    let mut parts = vec![format!("{n} server{}", if n == 1 { "" } else { "s" })];
    let fs: Vec<&Facts<'_>> = rows
        .iter()
        .filter_map(|&r| members.get(r).copied())
        .collect();
    if let Some((imp, s)) = top_share(fs.iter().map(|f| Some(f.implementation.label.clone())), n) {
        parts.push(format!("{:.0}% {imp}", s * 100.0));
    }
    if let Some((asn, s)) = top_share(
        fs.iter().map(|f| {
            f.info.asn.map(|a| {
                format!(
                    "AS{a}{}",
                    f.info
                        .as_org
                        .as_deref()
                        .map(|o| format!(" ({o})"))
                        .unwrap_or_default()
                )
            })
        }),
        n,
    ) {
        if s >= 0.5 {
            parts.push(format!("{:.0}% in {asn}", s * 100.0));
        }
    }
    if let Some((cert, s)) = top_share(
        fs.iter().map(|f| {
            f.leaf
                .map(|l| l.sha256.chars().take(12).collect::<String>())
        }),
        n,
    ) {
        if s >= 0.5
            && n >= 2
            && fs
                .iter()
                .filter(|f| f.leaf.is_some_and(|l| l.sha256.starts_with(&cert)))
                .count()
                >= 2
        {
            parts.push(format!("{:.0}% share certificate {cert}…", s * 100.0));
        }
    }
    let mut dims: Vec<(usize, f64)> = centroid
        .iter()
        .copied()
        .enumerate()
        .filter(|(_, z)| z.abs() >= EXPLAIN_Z)
        .collect();
    dims.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()).then(a.0.cmp(&b.0)));
    let distinctive: Vec<String> = dims
        .iter()
        .take(4)
        .map(|(j, z)| describe_z(FEATURES.get(*j).map_or("?", |f| f.0), *z))
        .collect();
    if distinctive.is_empty() {
        parts.push("no feature far from the network average".into());
    } else {
        parts.push(format!("distinctive: {}", distinctive.join(", ")));
    }
    parts.join("; ")
}

fn cluster_set(
    method: &str,
    parameters: String,
    labels: &[Option<u32>],
    z: &Array2<f64>,
    members: &[&Facts<'_>],
    ids: &[String],
    silhouette: Option<f64>,
) -> ClusterSet {
    let mut by: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    let mut noise = Vec::new();
    for (i, l) in labels.iter().enumerate() {
        match l {
            Some(l) => by.entry(*l).or_default().push(i),
            None => noise.push(ids.get(i).cloned().unwrap_or_default()),
        }
    }
    let clusters = by
        .into_iter()
        .map(|(id, rows)| {
            let mut c = vec![0.0; z.ncols()];
            for &r in &rows {
                for (j, v) in c.iter_mut().enumerate() {
                    *v += z.get((r, j)).copied().unwrap_or(0.0);
                }
            }
            c.iter_mut().for_each(|v| *v /= rows.len().max(1) as f64);
            Cluster {
                id,
                members: rows.iter().filter_map(|&r| ids.get(r).cloned()).collect(),
                explanation: explain(&rows, &c, members),
                centroid: c,
            }
        })
        .collect();
    ClusterSet {
        method: method.into(),
        parameters,
        silhouette,
        clusters,
        noise,
    }
}

/// Median and scaled MAD of finite values; the standard deviation stands in for the MAD
/// when more than half the values are equal (MAD 0) but not all.
pub fn robust_center_scale(values: &[f64]) -> (f64, f64) {
    let med = stats::median(values).unwrap_or(0.0);
    let dev: Vec<f64> = values.iter().map(|v| (v - med).abs()).collect();
    let mad = stats::median(&dev).unwrap_or(0.0) * MAD_TO_SD;
    let scale = if mad > 1e-12 {
        mad
    } else {
        stats::stdev(values).unwrap_or(0.0)
    };
    (med, if scale.is_finite() { scale } else { 0.0 })
}

/// Robust z-score of every value against its column: (x − median) / scale, with the scale of
/// [`robust_center_scale`]; a constant column is 0.
pub fn robust_z(x: &Array2<f64>) -> Array2<f64> {
    let mut out = Array2::<f64>::zeros(x.raw_dim());
    for (j, col) in x.axis_iter(Axis(1)).enumerate() {
        let values: Vec<f64> = col.to_vec();
        let (med, scale) = robust_center_scale(&values);
        if scale > 1e-12 {
            for (i, v) in values.iter().enumerate() {
                out[[i, j]] = (v - med) / scale;
            }
        }
    }
    out
}

/// Servers that stand apart from the network as a whole (not from their own cluster: a
/// KMeans with up to [`KMEANS_K_MAX`] clusters gives an extreme server a cluster of its own,
/// at distance 0 from its centroid). `x` holds the raw feature rows, `dbscan` and `kmeans`
/// the labels. A server is an outlier when it has a **rare extreme feature** — one
/// [`OUTLIER_FEATURE_Z`] or more robust z ([`robust_z`]) from the median, where at most
/// [`OUTLIER_RARE_SHARE`] of all servers lie that far out on that side — and it is
///
/// * **far**: its robust distance, the root mean square of its per-feature robust z-scores,
///   exceeds the median distance by more than [`OUTLIER_DISTANCE_MADS`] scaled MADs of all
///   servers' distances; or
/// * **isolated**: it is DBSCAN noise (no near-identical neighbours) and its KMeans cluster has
///   fewer than [`OUTLIER_MIN_CLUSTER`] servers.
///
/// Each outlier lists the features that make it one (name, raw value, robust z; those with
/// |z| ≥ [`OUTLIER_REASON_Z`], largest first) and then the rule that flagged it. `distance`
/// is its robust distance in scaled MADs above the median distance.
pub fn outliers(
    x: &Array2<f64>,
    dbscan: &[Option<u32>],
    kmeans: &[u32],
    ids: &[String],
) -> Vec<Outlier> {
    let n = x.nrows();
    if n < MIN_SERVERS_FOR_OUTLIERS {
        return vec![];
    }
    let rz = robust_z(x);
    // Per feature, how many servers lie OUTLIER_FEATURE_Z or more robust z out on each side.
    let mut beyond: Vec<(usize, usize)> = vec![(0, 0); x.ncols()];
    for row in rz.outer_iter() {
        for (b, &z) in beyond.iter_mut().zip(row.iter()) {
            if z >= OUTLIER_FEATURE_Z {
                b.0 += 1;
            } else if z <= -OUTLIER_FEATURE_Z {
                b.1 += 1;
            }
        }
    }
    let rare = |j: usize, z: f64| -> bool {
        let (hi, lo) = beyond.get(j).copied().unwrap_or((n, n));
        (if z > 0.0 { hi } else { lo }) as f64 <= OUTLIER_RARE_SHARE * n as f64
    };
    let p = x.ncols().max(1) as f64;
    let d: Vec<f64> = rz
        .outer_iter()
        .map(|row| (row.iter().map(|v| v * v).sum::<f64>() / p).sqrt())
        .collect();
    let (med, scale) = robust_center_scale(&d);
    let cut = med + OUTLIER_DISTANCE_MADS * scale;
    let mut size: HashMap<u32, usize> = HashMap::new();
    for l in kmeans {
        *size.entry(*l).or_default() += 1;
    }
    let mut out: Vec<Outlier> = Vec::new();
    for (i, row) in rz.outer_iter().enumerate() {
        // Both rules need a rare extreme feature: what is far from the median but shared by
        // many (a mode of a multimodal feature) describes a group, not an outlier.
        let extreme = row
            .iter()
            .enumerate()
            .any(|(j, &z)| z.abs() >= OUTLIER_FEATURE_Z && rare(j, z));
        if !extreme {
            continue;
        }
        let di = d.get(i).copied().unwrap_or(0.0);
        let far = scale > 1e-12 && di > cut;
        let cluster = kmeans.get(i).copied();
        let cluster_size = cluster.and_then(|c| size.get(&c).copied()).unwrap_or(0);
        let isolated =
            dbscan.get(i).is_some_and(Option::is_none) && cluster_size < OUTLIER_MIN_CLUSTER;
        if !far && !isolated {
            continue;
        }
        let mut feats: Vec<(usize, f64)> = row
            .iter()
            .copied()
            .enumerate()
            .filter(|(_, z)| z.abs() >= OUTLIER_REASON_Z)
            .collect();
        if feats.is_empty() {
            // Far by the sum of many moderate differences: name the largest ones anyway.
            feats = row.iter().copied().enumerate().collect();
        }
        feats.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()).then(a.0.cmp(&b.0)));
        let mut reasons: Vec<String> = feats
            .iter()
            .take(OUTLIER_REASONS)
            .map(|&(j, z)| {
                format!(
                    "{} = {} (z {z:+.1})",
                    FEATURES.get(j).map_or("?", |f| f.0),
                    fmt_value(x.get((i, j)).copied().unwrap_or(0.0))
                )
            })
            .collect();
        if far {
            reasons.push(format!("far: robust distance {di:.2} > {cut:.2} (median {med:.2} + {OUTLIER_DISTANCE_MADS} scaled MADs)"));
        }
        if isolated {
            reasons.push(format!(
                "isolated: DBSCAN noise in KMeans cluster #{} of {cluster_size} server{} (< {OUTLIER_MIN_CLUSTER})",
                cluster.unwrap_or(0),
                if cluster_size == 1 { "" } else { "s" }
            ));
        }
        out.push(Outlier {
            server: ids.get(i).cloned().unwrap_or_default(),
            distance: if scale > 1e-12 {
                (di - med) / scale
            } else {
                0.0
            },
            reasons,
        });
    }
    out.sort_by(|a, b| {
        b.distance
            .total_cmp(&a.distance)
            .then_with(|| a.server.cmp(&b.server))
    });
    out.truncate(MAX_OUTLIERS);
    out
}

/// A feature value for a reason: integers as such, else three decimals.
fn fmt_value(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e9 {
        format!("{v:.0}")
    } else {
        format!("{v:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn standardize_handles_constant_columns() {
        let x = array![[1.0, 5.0], [3.0, 5.0]];
        let z = standardize(&x);
        assert_eq!(z, array![[-1.0, 0.0], [1.0, 0.0]]);
        assert_eq!(standardize(&Array2::zeros((0, 3))).nrows(), 0);
    }

    #[test]
    fn dbscan_sample_assigns_rows_within_a_cluster_radius() {
        // Two blobs of spread 0.4 far apart (rows 0..60, 60..120) and one far-away row.
        let n = 120;
        let mut z = Array2::from_shape_fn(
            (n, 3),
            |(i, j)| if i < n / 2 { 0.0 } else { 8.0 } + 0.1 * ((i * 7 + j * 3) % 5) as f64,
        );
        z.row_mut(1).fill(40.0);
        let full = dbscan_capped(&z, n).unwrap();
        let capped = dbscan_capped(&z, 40).unwrap();
        for labels in [&full, &capped] {
            assert_eq!(labels[1], None, "the far row is noise");
            let first: std::collections::BTreeSet<_> = labels
                .iter()
                .take(n / 2)
                .enumerate()
                .filter(|(i, _)| *i != 1)
                .map(|(_, l)| l)
                .collect();
            let second: std::collections::BTreeSet<_> = labels.iter().skip(n / 2).collect();
            assert_eq!((first.len(), second.len()), (1, 1), "{labels:?}");
            assert_ne!(first, second);
            assert!(first.iter().chain(second.iter()).all(|l| l.is_some()));
        }
        assert_eq!(sample_rows(10, 4), vec![0, 2, 5, 7]);
        assert_eq!(sample_rows(3, 4), vec![0, 1, 2]);
    }

    #[test]
    fn hierarchical_sample_assigns_every_row_to_its_blob() {
        // Two tight blobs far apart (rows 0..60 and 60..120); clustered whole and through a 30-row sample.
        let n = 120;
        let z = Array2::from_shape_fn(
            (n, 3),
            |(i, j)| if i < n / 2 { 0.0 } else { 5.0 } + 0.01 * ((i * 7 + j * 3) % 5) as f64,
        );
        let (full, sampled_full) = hierarchical_capped(&z, n);
        let (capped, sampled) = hierarchical_capped(&z, 30);
        assert!(!sampled_full && sampled);
        for labels in [&full, &capped] {
            assert!(labels.iter().all(Option::is_some), "{labels:?}");
            let first: std::collections::BTreeSet<_> = labels.iter().take(n / 2).collect();
            let second: std::collections::BTreeSet<_> = labels.iter().skip(n / 2).collect();
            assert_eq!((first.len(), second.len()), (1, 1), "{labels:?}");
            assert_ne!(first, second);
        }
        // A row far from both blobs joins neither.
        let mut far = z.clone();
        far.row_mut(1).fill(40.0);
        let (labels, _) = hierarchical_capped(&far, 30);
        assert_eq!(
            labels[1], None,
            "row 1 is not in the sample (rows 0, 4, 8, …) and is far from both groups"
        );
    }

    #[test]
    fn canonical_relabeling() {
        assert_eq!(
            canonical_labels(&[Some(7), None, Some(2), Some(7)]),
            vec![Some(0), None, Some(1), Some(0)]
        );
    }

    #[test]
    fn silhouette_of_separated_blobs_is_high() {
        let x = array![[0.0, 0.0], [0.1, 0.0], [10.0, 10.0], [10.1, 10.0]];
        let s = silhouette(&x, &[0, 0, 1, 1]).unwrap();
        assert!(s > 0.9, "{s}");
        assert!(silhouette(&x, &[0, 0, 0, 0]).is_none());
    }

    /// `n` rows of the 24 features, each uniform noise of width 1 around a column mean (a
    /// homogeneous network: nothing stands apart).
    fn homogeneous(n: usize) -> Array2<f64> {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        Array2::from_shape_fn((n, FEATURES.len()), |(_, j)| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            j as f64 + (state % 1000) as f64 / 1000.0
        })
    }

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("s{i}")).collect()
    }

    #[test]
    fn homogeneous_network_has_no_outliers() {
        let x = homogeneous(60);
        let km: Vec<u32> = (0..60).map(|i| (i % 6) as u32).collect();
        // Whether DBSCAN groups them or calls them all noise, nothing stands apart.
        for db in [vec![Some(0); 60], vec![None; 60]] {
            assert!(
                outliers(&x, &db, &km, &ids(60)).is_empty(),
                "{:?}",
                outliers(&x, &db, &km, &ids(60))
            );
        }
        // Constant columns (every feature equal on every server) neither divide by zero nor flag.
        let flat = Array2::<f64>::ones((20, FEATURES.len()));
        assert!(outliers(&flat, &[None; 20], &[0; 20], &ids(20)).is_empty());
    }

    #[test]
    fn planted_far_server_is_found_with_its_features() {
        let tip_lag = FEATURES.iter().position(|f| f.0 == "tip_lag_log").unwrap();
        let rtt = FEATURES.iter().position(|f| f.0 == "rtt_log").unwrap();
        let mut x = homogeneous(60);
        x[[17, tip_lag]] += 6.0; // six column widths behind everyone else
        x[[17, rtt]] -= 3.0;
        let km: Vec<u32> = (0..60).map(|i| (i % 6) as u32).collect();
        let found = outliers(&x, &[Some(0); 60], &km, &ids(60));
        assert_eq!(found.len(), 1, "{found:#?}");
        let o = &found[0];
        assert_eq!(o.server, "s17");
        assert!(o.distance > OUTLIER_DISTANCE_MADS, "{o:?}");
        assert!(
            o.reasons[0].starts_with("tip_lag_log = ") && o.reasons[0].contains("(z +"),
            "{:?}",
            o.reasons
        );
        assert!(
            o.reasons[1].starts_with("rtt_log = ") && o.reasons[1].contains("(z -"),
            "{:?}",
            o.reasons
        );
        assert!(
            o.reasons
                .last()
                .unwrap()
                .starts_with("far: robust distance"),
            "{:?}",
            o.reasons
        );
    }

    #[test]
    fn isolated_server_in_a_tiny_cluster_is_an_outlier_only_with_a_rare_extreme_feature() {
        // Three tip-lagging servers: a KMeans cluster of their own and DBSCAN noise. The
        // old rule measured them against that cluster's centroid (distance 0) and missed them.
        let tip_lag = FEATURES.iter().position(|f| f.0 == "tip_lag_log").unwrap();
        let n = 60;
        let mut x = homogeneous(n);
        let mut km: Vec<u32> = vec![0; n];
        let mut db: Vec<Option<u32>> = vec![Some(0); n];
        for i in [3, 4, 5] {
            x[[i, tip_lag]] += 3.0;
            km[i] = 1;
            db[i] = None;
        }
        let found = outliers(&x, &db, &km, &ids(n));
        let names: Vec<&str> = found.iter().map(|o| o.server.as_str()).collect();
        assert_eq!(
            names
                .iter()
                .copied()
                .collect::<std::collections::BTreeSet<_>>(),
            ["s3", "s4", "s5"].into_iter().collect(),
            "{found:#?}"
        );
        for o in &found {
            assert!(
                o.reasons[0].starts_with("tip_lag_log = "),
                "{:?}",
                o.reasons
            );
            assert!(
                o.reasons
                    .iter()
                    .any(|r| r == "isolated: DBSCAN noise in KMeans cluster #1 of 3 servers (< 5)"),
                "{:?}",
                o.reasons
            );
        }
        // A large minority far from the median (a bimodal feature, such as the servers without
        // TLS) is a group, not 15 outliers: neither far nor isolated counts without rarity.
        let tls = FEATURES
            .iter()
            .position(|f| f.0 == "cert_validity_log")
            .unwrap();
        let mut bimodal = homogeneous(n);
        for i in 0..n / 4 {
            bimodal[[i, tls]] -= 8.0;
        }
        let mut km_small: Vec<u32> = vec![0; n];
        km_small[2] = 1;
        let mut db_noise = vec![Some(0); n];
        db_noise[2] = None;
        assert!(
            outliers(&bimodal, &db_noise, &km_small, &ids(n)).is_empty(),
            "{:#?}",
            outliers(&bimodal, &db_noise, &km_small, &ids(n))
        );
        // The same tiny cluster without an extreme feature is just a small group.
        let calm = homogeneous(n);
        assert!(outliers(&calm, &db, &km, &ids(n)).is_empty());
        // Too few servers for a median to mean anything.
        let few = x.select(Axis(0), &[0, 1, 2, 3, 4, 5]);
        assert!(outliers(&few, &db[..6], &km[..6], &ids(6)).is_empty());
    }

    #[test]
    fn robust_scale_falls_back_to_the_standard_deviation() {
        // Median 0, MAD 0 (most are 0): the standard deviation is the scale.
        let (m, s) = robust_center_scale(&[0.0, 0.0, 0.0, 0.0, 1.0]);
        assert_eq!(m, 0.0);
        assert!((s - (0.2f64).sqrt()).abs() < 1e-12, "{s}");
        let (m, s) = robust_center_scale(&[1.0, 2.0, 3.0, 4.0, 100.0]);
        assert_eq!((m, s), (3.0, MAD_TO_SD), "the MAD ignores the 100");
        assert_eq!(robust_center_scale(&[2.0; 4]), (2.0, 0.0));
    }

    #[test]
    fn feature_catalogue_matches_vector_length() {
        assert_eq!(FEATURES.len(), 24);
    }
}
