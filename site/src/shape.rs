//! Data shaping: what each view and chart gets from a [`Snapshot`].
//!
//! Everything here is plain Rust over the schema types, so it is unit-tested
//! natively; the Leptos components only lay the results out. Nothing here
//! interprets a server-supplied string: hosts, banners and labels are carried
//! through verbatim and compared only for search.

use std::collections::BTreeMap;

use observatory_model::snapshot::{
    ClusterSet, Clustering, Dimension, Level, Server, Snapshot, SNAPSHOT_SCHEMA_VERSION,
    UNREACHABLE_LEVEL_KEY,
};

/// Bars shown per centralization chart before the rest is folded into "Other".
pub const MAX_BARS: usize = 12;

/// Map points closer than this (degrees) are merged into one marker, so a
/// data centre with forty servers is one clickable dot listing forty servers.
pub const MERGE_DEGREES: f64 = 0.05;

/// The schema versions this build renders.
pub fn check_schema(version: u32) -> Result<(), String> {
    if version == SNAPSHOT_SCHEMA_VERSION {
        Ok(())
    } else {
        Err(format!(
            "This snapshot uses schema version {version}; this site renders version \
             {SNAPSHOT_SCHEMA_VERSION}. Rebuild the site from the same observatory version \
             that produced the data."
        ))
    }
}

/// One bar of a centralization chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// Bucket key (`DE`, `AS24940`), empty for the folded "Other" bar.
    pub key: String,
    /// Label shown (bucket label, or `Other (N more)`).
    pub label: String,
    /// Servers.
    pub count: u64,
    /// Share of the dimension's known total, in [0, 1].
    pub share: f64,
    /// True for the folded remainder.
    pub other: bool,
}

/// The bars for one dimension: the `max` largest buckets, the rest folded into one.
pub fn bars(dimension: &Dimension, max: usize) -> Vec<Bar> {
    let max = max.max(2);
    let mut out: Vec<Bar> = Vec::new();
    let fold = dimension.buckets.len() > max;
    let shown = if fold {
        max - 1
    } else {
        dimension.buckets.len()
    };
    for share in dimension.buckets.iter().take(shown) {
        out.push(Bar {
            key: share.key.clone(),
            label: if share.label.is_empty() {
                share.key.clone()
            } else {
                share.label.clone()
            },
            count: share.count,
            share: share.share,
            other: false,
        });
    }
    if fold {
        let rest = &dimension.buckets[shown..];
        out.push(Bar {
            key: String::new(),
            label: format!("Other ({} more)", rest.len()),
            count: rest.iter().map(|s| s.count).sum(),
            share: rest.iter().map(|s| s.share).sum(),
            other: true,
        });
    }
    out
}

/// The dimension with this id, if the snapshot has it.
pub fn dimension<'a>(snapshot: &'a Snapshot, id: &str) -> Option<&'a Dimension> {
    snapshot.centralization.iter().find(|d| d.id == id)
}

/// The overview's headline: Nakamoto coefficients by ASN and by country.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Headline {
    /// Fewest ASNs holding more than half of the servers.
    pub nakamoto_asn: Option<u64>,
    /// Fewest countries holding more than half of the servers.
    pub nakamoto_country: Option<u64>,
    /// Share of the largest ASN.
    pub top_asn_share: Option<f64>,
    /// Share of the largest country.
    pub top_country_share: Option<f64>,
}

/// Computes the [`Headline`] from the centralization dimensions.
pub fn headline(snapshot: &Snapshot) -> Headline {
    // A dimension with no known value (e.g. no GeoIP database at analysis
    // time) has no meaningful coefficient: show "–", not 0.
    let asn = dimension(snapshot, "asn").filter(|d| d.total > 0);
    let country = dimension(snapshot, "country").filter(|d| d.total > 0);
    Headline {
        nakamoto_asn: asn.map(|d| d.nakamoto),
        nakamoto_country: country.map(|d| d.nakamoto),
        top_asn_share: asn.and_then(|d| d.buckets.first()).map(|s| s.share),
        top_country_share: country.and_then(|d| d.buckets.first()).map(|s| s.share),
    }
}

/// Columns of the ranking table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    /// HSS score.
    Score,
    /// Primary host.
    Host,
    /// AS number.
    Asn,
    /// Country code.
    Country,
    /// Implementation label.
    Implementation,
}

impl SortKey {
    /// Every key, in column order.
    pub const ALL: [SortKey; 5] = [
        SortKey::Score,
        SortKey::Host,
        SortKey::Asn,
        SortKey::Country,
        SortKey::Implementation,
    ];

    /// Column header.
    pub fn label(self) -> &'static str {
        match self {
            SortKey::Score => "Score",
            SortKey::Host => "Host",
            SortKey::Asn => "ASN",
            SortKey::Country => "Country",
            SortKey::Implementation => "Implementation",
        }
    }

    /// The natural first direction when a column is chosen: scores high-first, names A–Z.
    pub fn default_descending(self) -> bool {
        matches!(self, SortKey::Score)
    }
}

/// What the ranking table shows.
#[derive(Debug, Clone, PartialEq)]
pub struct RankQuery {
    /// Case-insensitive substring of host, any host name, IP, AS org, country or implementation.
    pub search: String,
    /// Only this level.
    pub level: Option<Level>,
    /// Only reachable servers.
    pub reachable_only: bool,
    /// Sort column.
    pub sort: SortKey,
    /// Sort direction.
    pub descending: bool,
}

impl Default for RankQuery {
    fn default() -> Self {
        RankQuery {
            search: String::new(),
            level: None,
            reachable_only: false,
            sort: SortKey::Score,
            descending: true,
        }
    }
}

/// Country code of a server, if located.
pub fn country_code(server: &Server) -> Option<&str> {
    server
        .location
        .as_ref()
        .and_then(|l| l.country_code.as_deref())
}

fn matches_search(server: &Server, needle: &str) -> bool {
    if needle.is_empty() {
        return true;
    }
    let hit = |s: &str| s.to_lowercase().contains(needle);
    server.hosts.iter().any(|h| hit(h))
        || hit(&server.host)
        || server.ips.iter().any(|ip| hit(ip))
        || server.as_org.as_deref().is_some_and(hit)
        || server.asn.is_some_and(|a| hit(&format!("as{a}")))
        || country_code(server).is_some_and(hit)
        || server
            .location
            .as_ref()
            .and_then(|l| l.country.as_deref())
            .is_some_and(hit)
        || hit(&server.implementation)
}

/// The ranking rows: filtered, then sorted (ties broken by score, then id, so the order is stable).
pub fn rank<'a>(servers: &'a [Server], query: &RankQuery) -> Vec<&'a Server> {
    let needle = query.search.trim().to_lowercase();
    let mut rows: Vec<&Server> = servers
        .iter()
        .filter(|s| query.level.is_none_or(|l| s.hss.level == l))
        .filter(|s| !query.reachable_only || s.reachable)
        .filter(|s| matches_search(s, &needle))
        .collect();
    rows.sort_by(|a, b| {
        let primary = match query.sort {
            SortKey::Score => a.hss.score.total_cmp(&b.hss.score),
            SortKey::Host => a.host.to_lowercase().cmp(&b.host.to_lowercase()),
            // Unknown ASN / country sort after every known one.
            SortKey::Asn => a.asn.unwrap_or(u32::MAX).cmp(&b.asn.unwrap_or(u32::MAX)),
            SortKey::Country => country_code(a)
                .unwrap_or("\u{10FFFF}")
                .cmp(country_code(b).unwrap_or("\u{10FFFF}")),
            SortKey::Implementation => a.implementation.cmp(&b.implementation),
        };
        let primary = if query.descending {
            primary.reverse()
        } else {
            primary
        };
        primary
            .then_with(|| b.hss.score.total_cmp(&a.hss.score))
            .then_with(|| a.id.cmp(&b.id))
    });
    rows
}

/// One marker on the world map: one or more servers at (almost) the same place.
#[derive(Debug, Clone, PartialEq)]
pub struct MapPoint {
    /// Longitude, degrees.
    pub lon: f64,
    /// Latitude, degrees.
    pub lat: f64,
    /// Highest HSS level among the servers here (drives the colour).
    pub level: Level,
    /// Server ids here, highest score first.
    pub servers: Vec<String>,
    /// Where, for the tooltip (`City, Country` or the country).
    pub place: String,
}

/// Servers with coordinates, merged per [`MERGE_DEGREES`] cell, in a stable order.
pub fn map_points(servers: &[Server]) -> Vec<MapPoint> {
    let mut cells: BTreeMap<(i64, i64), MapPoint> = BTreeMap::new();
    for server in servers {
        let Some(loc) = &server.location else {
            continue;
        };
        let (Some(lat), Some(lon)) = (loc.lat, loc.lon) else {
            continue;
        };
        if !lat.is_finite() || !lon.is_finite() {
            continue;
        }
        // Cell indices are small (|lon| / 0.05 <= 3600), so the cast is exact.
        let cell = (
            (lon / MERGE_DEGREES).round() as i64,
            (lat / MERGE_DEGREES).round() as i64,
        );
        let point = cells.entry(cell).or_insert_with(|| MapPoint {
            lon,
            lat,
            level: server.hss.level,
            servers: Vec::new(),
            place: place_name(
                loc.city.as_deref(),
                loc.country.as_deref().or(loc.country_code.as_deref()),
            ),
        });
        point.level = point.level.max(server.hss.level);
        point.servers.push(server.id.clone());
    }
    cells.into_values().collect()
}

/// Per-country bubble: count-sized, worst-level-coloured, at the mean server position.
#[derive(Debug, Clone, PartialEq)]
pub struct CountryBubble {
    /// ISO code.
    pub country_code: String,
    /// Country name (or the code).
    pub country: String,
    /// Mean longitude of its servers.
    pub lon: f64,
    /// Mean latitude of its servers.
    pub lat: f64,
    /// Servers.
    pub count: usize,
    /// Highest level present.
    pub level: Level,
    /// Server ids, in snapshot order (highest score first).
    pub servers: Vec<String>,
}

/// One bubble per country that has located servers, largest first.
pub fn country_bubbles(servers: &[Server]) -> Vec<CountryBubble> {
    let mut by_country: BTreeMap<String, (CountryBubble, f64, f64)> = BTreeMap::new();
    for server in servers {
        let Some(loc) = &server.location else {
            continue;
        };
        let (Some(lat), Some(lon), Some(code)) = (loc.lat, loc.lon, loc.country_code.as_ref())
        else {
            continue;
        };
        if !lat.is_finite() || !lon.is_finite() {
            continue;
        }
        let entry = by_country.entry(code.clone()).or_insert_with(|| {
            (
                CountryBubble {
                    country_code: code.clone(),
                    country: loc.country.clone().unwrap_or_else(|| code.clone()),
                    lon: 0.0,
                    lat: 0.0,
                    count: 0,
                    level: server.hss.level,
                    servers: Vec::new(),
                },
                0.0,
                0.0,
            )
        });
        entry.0.count += 1;
        entry.0.level = entry.0.level.max(server.hss.level);
        entry.0.servers.push(server.id.clone());
        entry.1 += lon;
        entry.2 += lat;
    }
    let mut out: Vec<CountryBubble> = by_country
        .into_values()
        .map(|(mut b, lon_sum, lat_sum)| {
            // count >= 1: every entry was created by a server.
            b.lon = lon_sum / b.count as f64;
            b.lat = lat_sum / b.count as f64;
            b
        })
        .collect();
    out.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| a.country_code.cmp(&b.country_code))
    });
    out
}

/// `City, Country`, either part optional.
pub fn place_name(city: Option<&str>, country: Option<&str>) -> String {
    match (city, country) {
        (Some(c), Some(k)) => format!("{c}, {k}"),
        (Some(c), None) => c.to_owned(),
        (None, Some(k)) => k.to_owned(),
        (None, None) => "Unknown location".to_owned(),
    }
}

/// The map's status line (`#map-status`): how many markers were drawn for how many
/// located servers, or why drawing failed. A failure to load the country outlines
/// does not stop the markers from being drawn, so its message stays in front of the
/// marker count instead of being replaced by it.
pub fn map_status(outlines_error: Option<&str>, drawn: Result<(usize, usize), &str>) -> String {
    let result = match drawn {
        Ok((markers, servers)) => format!("{markers} markers drawn for {servers} located servers."),
        Err(e) => format!("Map drawing failed: {e}."),
    };
    match outlines_error {
        Some(e) => format!("Map outlines unavailable: {e}. {result}"),
        None => result,
    }
}

/// The three clustering methods, for pickers.
pub const METHODS: [(&str, &str); 3] = [
    ("kmeans", "KMeans (server types)"),
    ("dbscan", "DBSCAN (identical behaviour)"),
    ("hierarchical", "Hierarchical (operator groups)"),
];

/// The cluster set of a method id (`kmeans`, `dbscan`, `hierarchical`).
pub fn cluster_set<'a>(clustering: &'a Clustering, method: &str) -> &'a ClusterSet {
    match method {
        "dbscan" => &clustering.dbscan,
        "hierarchical" => &clustering.hierarchical,
        _ => &clustering.kmeans,
    }
}

/// Heatmap of cluster × feature.
#[derive(Debug, Clone, PartialEq)]
pub struct Heatmap {
    /// Feature names (columns).
    pub columns: Vec<String>,
    /// One row per cluster.
    pub rows: Vec<HeatRow>,
    /// Largest |value| (at least 1), the colour scale's end.
    pub max_abs: f64,
}

/// One heatmap row.
#[derive(Debug, Clone, PartialEq)]
pub struct HeatRow {
    /// Cluster id.
    pub cluster: u32,
    /// Members.
    pub size: usize,
    /// Mean standardized value per column; `None` where the centroid is short.
    pub cells: Vec<Option<f64>>,
}

/// The heatmap for one method; a centroid shorter than the feature list leaves blank cells.
pub fn heatmap(clustering: &Clustering, method: &str) -> Heatmap {
    let set = cluster_set(clustering, method);
    let columns: Vec<String> = clustering.features.iter().map(|f| f.name.clone()).collect();
    let mut max_abs: f64 = 1.0;
    let rows = set
        .clusters
        .iter()
        .map(|c| {
            let cells: Vec<Option<f64>> = (0..columns.len())
                .map(|i| c.centroid.get(i).copied().filter(|v| v.is_finite()))
                .collect();
            for v in cells.iter().flatten() {
                max_abs = max_abs.max(v.abs());
            }
            HeatRow {
                cluster: c.id,
                size: c.members.len(),
                cells,
            }
        })
        .collect();
    Heatmap {
        columns,
        rows,
        max_abs,
    }
}

/// Diverging colour for a standardized value: blue (below mean) – white – red (above).
pub fn heat_color(value: f64, max_abs: f64) -> (u8, u8, u8) {
    let t = if max_abs > 0.0 {
        (value / max_abs).clamp(-1.0, 1.0)
    } else {
        0.0
    };
    let mix = |from: f64, to: f64, t: f64| (from + (to - from) * t).round().clamp(0.0, 255.0) as u8;
    if t >= 0.0 {
        (
            mix(255.0, 178.0, t),
            mix(255.0, 24.0, t),
            mix(255.0, 43.0, t),
        )
    } else {
        let t = -t;
        (
            mix(255.0, 33.0, t),
            mix(255.0, 102.0, t),
            mix(255.0, 172.0, t),
        )
    }
}

/// One PCA scatter point.
#[derive(Debug, Clone, PartialEq)]
pub struct PcaPoint {
    /// PC1.
    pub x: f64,
    /// PC2.
    pub y: f64,
    /// Cluster of the chosen method; `None` = noise / unassigned.
    pub cluster: Option<u32>,
    /// Server id.
    pub server: String,
}

/// Servers with PCA coordinates, with their cluster under `method`.
pub fn pca_points(servers: &[Server], method: &str) -> Vec<PcaPoint> {
    servers
        .iter()
        .filter_map(|s| {
            let (x, y) = s.clusters.pca?;
            if !x.is_finite() || !y.is_finite() {
                return None;
            }
            let cluster = match method {
                "dbscan" => s.clusters.dbscan,
                "hierarchical" => s.clusters.operator,
                _ => s.clusters.kmeans,
            };
            Some(PcaPoint {
                x,
                y,
                cluster,
                server: s.id.clone(),
            })
        })
        .collect()
}

/// A categorical palette (Okabe–Ito, colour-blind safe) for cluster ids; noise is grey.
pub fn cluster_color(cluster: Option<u32>) -> &'static str {
    const PALETTE: [&str; 8] = [
        "#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000",
    ];
    match cluster {
        // The palette has 8 entries: the modulo keeps the index in bounds.
        Some(id) => PALETTE[id as usize % PALETTE.len()],
        None => "#9a9a9a",
    }
}

/// Colour of an HSS level (also used as CSS class suffix via [`Level::as_str`]).
pub fn level_color(level: Level) -> &'static str {
    match level {
        Level::Low => "#2e7d32",
        Level::Medium => "#ef8f00",
        Level::High => "#c62828",
    }
}

/// Looks a server up by its URL id.
pub fn server_by_id<'a>(snapshot: &'a Snapshot, id: &str) -> Option<&'a Server> {
    snapshot.servers.iter().find(|s| s.id == id)
}

/// The summary's level counts when they leave unreachable servers out (snapshots that carry
/// [`UNREACHABLE_LEVEL_KEY`]); older snapshots counted every server, so theirs are not used.
fn measured_levels(snapshot: &Snapshot) -> Option<&std::collections::BTreeMap<String, u64>> {
    let by_level = &snapshot.hss.by_level;
    by_level
        .contains_key(UNREACHABLE_LEVEL_KEY)
        .then_some(by_level)
}

/// Level counts in display order (high, medium, low) over the servers that answered, from the
/// summary or, when it does not have them, counted from the reachable servers.
pub fn level_counts(snapshot: &Snapshot) -> [(Level, u64); 3] {
    let levels = [Level::High, Level::Medium, Level::Low];
    levels.map(|l| {
        let counted = || {
            snapshot
                .servers
                .iter()
                .filter(|s| s.reachable && s.hss.level == l)
                .count() as u64
        };
        let n = measured_levels(snapshot)
            .and_then(|b| b.get(l.as_str()).copied())
            .unwrap_or_else(counted);
        (l, n)
    })
}

/// Servers with no level: they never answered, so nothing was measured.
pub fn unmeasured_count(snapshot: &Snapshot) -> u64 {
    let counted = || snapshot.servers.iter().filter(|s| !s.reachable).count() as u64;
    measured_levels(snapshot)
        .and_then(|b| b.get(UNREACHABLE_LEVEL_KEY).copied())
        .unwrap_or_else(counted)
}

/// The indicator's display name, or its id when the catalogue lacks it.
pub fn indicator_name<'a>(snapshot: &'a Snapshot, id: &'a str) -> &'a str {
    snapshot
        .hss
        .indicators
        .iter()
        .find(|i| i.id == id)
        .map_or(id, |i| i.name.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture;
    use observatory_model::snapshot::Share;

    fn dim(n: usize) -> Dimension {
        Dimension {
            id: "country".into(),
            title: "Country".into(),
            total: (n * 10) as u64,
            unknown: 3,
            buckets: (0..n)
                .map(|i| Share {
                    key: format!("K{i}"),
                    label: if i == 0 {
                        String::new()
                    } else {
                        format!("L{i}")
                    },
                    count: 10,
                    share: 1.0 / n as f64,
                })
                .collect(),
            hhi: 0.0,
            nakamoto: 1,
            gini: 0.0,
            entropy_bits: 0.0,
            entropy_normalized: 0.0,
        }
    }

    #[test]
    fn bars_fold_the_tail_into_other() {
        let b = bars(&dim(20), 5);
        assert_eq!(b.len(), 5);
        assert_eq!(b[0].label, "K0", "empty label falls back to the key");
        assert_eq!(b[1].label, "L1");
        let other = &b[4];
        assert!(other.other);
        assert_eq!(other.label, "Other (16 more)");
        assert_eq!(other.count, 160);
        assert!((b.iter().map(|x| x.share).sum::<f64>() - 1.0).abs() < 1e-9);
    }

    #[test]
    fn bars_keep_everything_when_it_fits() {
        let b = bars(&dim(5), 5);
        assert_eq!(b.len(), 5);
        assert!(b.iter().all(|x| !x.other));
        assert!(bars(&dim(0), 5).is_empty());
    }

    #[test]
    fn schema_check_names_both_versions() {
        assert!(check_schema(SNAPSHOT_SCHEMA_VERSION).is_ok());
        let err = check_schema(99).unwrap_err();
        assert!(err.contains("99") && err.contains(&SNAPSHOT_SCHEMA_VERSION.to_string()));
    }

    #[test]
    fn ranking_defaults_to_score_descending() {
        let snap = fixture::small();
        let rows = rank(&snap.servers, &RankQuery::default());
        assert_eq!(rows.len(), snap.servers.len());
        assert!(rows.windows(2).all(|w| w[0].hss.score >= w[1].hss.score));
    }

    #[test]
    fn ranking_filters_by_level_search_and_reachability() {
        let snap = fixture::small();
        let high = rank(
            &snap.servers,
            &RankQuery {
                level: Some(Level::High),
                ..RankQuery::default()
            },
        );
        assert!(!high.is_empty());
        assert!(high.iter().all(|s| s.hss.level == Level::High));

        let q = RankQuery {
            search: "  HETZNER ".into(),
            ..RankQuery::default()
        };
        let hetzner = rank(&snap.servers, &q);
        assert!(!hetzner.is_empty());
        assert!(hetzner
            .iter()
            .all(|s| s.as_org.as_deref().unwrap_or("").contains("Hetzner")));

        let by_asn = rank(
            &snap.servers,
            &RankQuery {
                search: "as24940".into(),
                ..RankQuery::default()
            },
        );
        assert_eq!(by_asn.len(), hetzner.len());

        let reachable = rank(
            &snap.servers,
            &RankQuery {
                reachable_only: true,
                ..RankQuery::default()
            },
        );
        assert!(reachable.iter().all(|s| s.reachable));
        assert!(reachable.len() < snap.servers.len());
    }

    #[test]
    fn ranking_sorts_by_each_column() {
        let snap = fixture::small();
        for key in SortKey::ALL {
            for descending in [false, true] {
                let rows = rank(
                    &snap.servers,
                    &RankQuery {
                        sort: key,
                        descending,
                        ..RankQuery::default()
                    },
                );
                assert_eq!(rows.len(), snap.servers.len(), "{key:?}");
                let ordered = rows.windows(2).all(|w| {
                    let (a, b) = if descending {
                        (w[1], w[0])
                    } else {
                        (w[0], w[1])
                    };
                    match key {
                        SortKey::Score => a.hss.score <= b.hss.score,
                        SortKey::Host => a.host.to_lowercase() <= b.host.to_lowercase(),
                        SortKey::Asn => a.asn.unwrap_or(u32::MAX) <= b.asn.unwrap_or(u32::MAX),
                        SortKey::Country => {
                            country_code(a).unwrap_or("\u{10FFFF}")
                                <= country_code(b).unwrap_or("\u{10FFFF}")
                        }
                        SortKey::Implementation => a.implementation <= b.implementation,
                    }
                });
                assert!(ordered, "{key:?} descending={descending}");
            }
        }
        assert!(SortKey::Score.default_descending() && !SortKey::Host.default_descending());
    }

    #[test]
    fn map_status_keeps_the_outlines_error_in_front_of_the_marker_count() {
        assert_eq!(
            map_status(None, Ok((3, 5))),
            "3 markers drawn for 5 located servers."
        );
        let s = map_status(
            Some("data/geo/countries-110m.json answered HTTP 404"),
            Ok((3, 5)),
        );
        assert_eq!(
            s,
            "Map outlines unavailable: data/geo/countries-110m.json answered HTTP 404. 3 markers drawn for 5 located servers."
        );
        let s = map_status(Some("offline"), Err("no 2D context"));
        assert!(
            s.starts_with("Map outlines unavailable: offline.")
                && s.ends_with("Map drawing failed: no 2D context."),
            "{s}"
        );
    }

    #[test]
    fn map_points_merge_colocated_servers_and_take_the_worst_level() {
        let mut snap = fixture::small();
        let (a, b) = (0, 1);
        let loc = snap.servers[a].location.clone();
        snap.servers[b].location = loc;
        snap.servers[a].hss.level = Level::Low;
        snap.servers[b].hss.level = Level::High;
        let points = map_points(&snap.servers);
        let merged = points
            .iter()
            .find(|p| p.servers.contains(&snap.servers[a].id))
            .unwrap();
        assert!(merged.servers.contains(&snap.servers[b].id));
        assert_eq!(merged.level, Level::High);
        let located = snap
            .servers
            .iter()
            .filter(|s| {
                s.location
                    .as_ref()
                    .is_some_and(|l| l.lat.is_some() && l.lon.is_some())
            })
            .count();
        assert_eq!(
            points.iter().map(|p| p.servers.len()).sum::<usize>(),
            located
        );
        assert!(
            located < snap.servers.len(),
            "onion servers have no position"
        );
    }

    #[test]
    fn country_bubbles_count_and_average() {
        let snap = fixture::small();
        let bubbles = country_bubbles(&snap.servers);
        assert!(bubbles.windows(2).all(|w| w[0].count >= w[1].count));
        let de = bubbles.iter().find(|b| b.country_code == "DE").unwrap();
        let de_servers: Vec<_> = snap
            .servers
            .iter()
            .filter(|s| country_code(s) == Some("DE"))
            .collect();
        assert_eq!(de.count, de_servers.len());
        let mean_lat = de_servers
            .iter()
            .filter_map(|s| s.location.as_ref()?.lat)
            .sum::<f64>()
            / de_servers.len() as f64;
        assert!((de.lat - mean_lat).abs() < 1e-9);
    }

    #[test]
    fn heatmap_has_one_row_per_cluster_and_blank_short_cells() {
        let mut snap = fixture::small();
        snap.clusters.kmeans.clusters[0].centroid.truncate(1);
        snap.clusters.kmeans.clusters[0].centroid[0] = -7.5;
        let h = heatmap(&snap.clusters, "kmeans");
        assert_eq!(h.rows.len(), snap.clusters.kmeans.clusters.len());
        assert_eq!(h.columns.len(), snap.clusters.features.len());
        assert!(h.rows[0].cells[1..].iter().all(Option::is_none));
        assert_eq!(h.max_abs, 7.5);
        assert_eq!(
            heatmap(&snap.clusters, "dbscan").rows.len(),
            snap.clusters.dbscan.clusters.len()
        );
    }

    #[test]
    fn heat_colors_diverge_from_white() {
        assert_eq!(heat_color(0.0, 2.0), (255, 255, 255));
        assert_eq!(heat_color(2.0, 2.0), (178, 24, 43));
        assert_eq!(heat_color(-5.0, 2.0), (33, 102, 172), "clamped");
        assert_eq!(heat_color(1.0, 0.0), (255, 255, 255));
    }

    #[test]
    fn pca_points_follow_the_method() {
        let snap = fixture::small();
        let km = pca_points(&snap.servers, "kmeans");
        let db = pca_points(&snap.servers, "dbscan");
        assert_eq!(km.len(), db.len());
        assert!(!km.is_empty());
        assert!(
            db.iter().any(|p| p.cluster.is_none()),
            "the fixture has DBSCAN noise"
        );
        assert_eq!(cluster_color(None), "#9a9a9a");
        assert_eq!(cluster_color(Some(8)), cluster_color(Some(0)));
    }

    #[test]
    fn headline_and_level_counts() {
        let snap = fixture::small();
        let h = headline(&snap);
        assert_eq!(h.nakamoto_asn, dimension(&snap, "asn").map(|d| d.nakamoto));
        assert!(h.top_country_share.is_some());
        // Nothing known (no GeoIP at analysis time): no coefficient rather than 0.
        let mut blind = snap.clone();
        for d in &mut blind.centralization {
            d.unknown += d.total;
            d.total = 0;
            d.buckets.clear();
            d.nakamoto = 0;
        }
        let h = headline(&blind);
        assert_eq!(
            (h.nakamoto_asn, h.nakamoto_country, h.top_asn_share),
            (None, None, None)
        );
        let counts = level_counts(&snap);
        let unmeasured = unmeasured_count(&snap);
        assert!(unmeasured > 0, "the fixture has unreachable servers");
        assert_eq!(
            counts.iter().map(|c| c.1).sum::<u64>() + unmeasured,
            snap.servers.len() as u64
        );
        // A snapshot from before the unreachable key: counted from the servers, not double.
        let mut old = snap.clone();
        old.hss.by_level = [("low".to_string(), snap.servers.len() as u64)].into();
        assert_eq!(level_counts(&old), counts);
        assert_eq!(unmeasured_count(&old), unmeasured);
        assert_eq!(indicator_name(&snap, "nope"), "nope");
    }
}
