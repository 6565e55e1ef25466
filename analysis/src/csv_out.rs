//! `processed/servers.csv`, `fingerprints.csv`, `tls.csv`: RFC 4180 CSV for pandas.
//!
//! * Header row, CRLF line ends, fields quoted when they contain `,`, `"`, CR or LF
//!   (the `csv` crate's RFC 4180 writer).
//! * Server-supplied text can start with `=`, `+`, `-`, `@`, TAB or CR, which
//!   spreadsheets execute as a formula; [`text`] prefixes such cells with `'`
//!   (OWASP's recommendation). Numeric columns are written by us and left alone.
//!
//! Column meanings are documented in [`SERVERS_COLUMNS`], [`FINGERPRINTS_COLUMNS`]
//! and [`TLS_COLUMNS`]; `docs/methodology.md` carries the same tables (checked by
//! `analysis/tests/docs.rs`).

use observatory_model::probes::ProbeDetail;
use observatory_model::raw::EndpointRecord;

use crate::normalize::Normalized;
use crate::profile::bound;
use crate::ServerResult;

/// Neutralizes a text cell: bounded, and prefixed with `'` when a spreadsheet would
/// read it as a formula.
pub fn text(s: &str) -> String {
    let s = bound(s);
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s
    }
}

fn opt_text(s: Option<&str>) -> String {
    s.map(text).unwrap_or_default()
}

fn num<T: ToString>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

fn float(v: Option<f64>) -> String {
    v.filter(|x| x.is_finite())
        .map(|x| format!("{x:.3}"))
        .unwrap_or_default()
}

fn boolean(b: bool) -> String {
    if b { "true" } else { "false" }.to_string()
}

/// `servers.csv`: one row per endpoint.
pub const SERVERS_COLUMNS: &[(&str, &str)] = &[
    (
        "server_id",
        "stable server id (URL segment); endpoints grouped by host, IP or features.hosts links",
    ),
    ("endpoint", "host:port:t|s"),
    (
        "host",
        "host name, IP literal or onion (server-supplied when learned from peers)",
    ),
    ("port", "TCP port"),
    ("transport", "t = plain TCP, s = TLS"),
    ("onion", "true for .onion hosts"),
    ("ip", "address connected to in the newest round"),
    (
        "status",
        "final status of the newest round (success, connection-refused, …)",
    ),
    (
        "error",
        "error text of the newest round (may contain server text)",
    ),
    (
        "reachable",
        "the endpoint spoke Electrum in the newest round",
    ),
    (
        "server_uptime",
        "fraction of rounds in which any endpoint of the server was reachable",
    ),
    (
        "rounds_observed",
        "rounds in which the server was attempted",
    ),
    ("country_code", "ISO 3166-1 alpha-2 (GeoIP)"),
    ("country", "country name"),
    ("continent", "continent code"),
    ("city", "city (city databases only)"),
    ("lat", "latitude (city, else country centroid)"),
    ("lon", "longitude"),
    ("asn", "autonomous system number"),
    ("as_org", "AS organization"),
    (
        "provider",
        "hosting provider (published cloud ranges, else AS organization)",
    ),
    ("cloud", "true when the IP is in a published cloud range"),
    ("implementation", "inferred implementation"),
    ("implementation_version", "inferred version"),
    ("implementation_confidence", "inference confidence 0..1"),
    (
        "server_software",
        "server.version software string (server text)",
    ),
    ("protocol", "negotiated protocol version"),
    ("banner", "server.banner (server text)"),
    ("tip_height", "blockchain.headers.subscribe height"),
    ("connect_ms", "TCP connect time of the newest round, ms"),
    ("tls_ms", "TLS handshake time of the newest round, ms"),
    ("rtt_median_ms", "server median RTT over all rounds, ms"),
    ("hss_score", "Honeypot Suspicion Score 0..100"),
    ("hss_level", "low / medium / high"),
    ("hss_indicators", "fired indicator ids, ';'-separated"),
    ("dbscan", "DBSCAN cluster (empty = noise or not clustered)"),
    ("kmeans", "KMeans cluster"),
    ("operator", "hierarchical operator group"),
    ("privacy_flags", "';'-separated privacy flags"),
];

/// `fingerprints.csv`: one row per endpoint (behavior of its newest reachable record; an
/// endpoint that never answered has only `server_id` and `endpoint`, every other cell empty).
pub const FINGERPRINTS_COLUMNS: &[(&str, &str)] = &[
    ("server_id", "server id"),
    ("endpoint", "host:port:t|s"),
    ("behavior_hash", "scanner's behavior hash (or analysis fallback); empty when the endpoint never answered in any round"),
    ("implementation", "inferred implementation"),
    ("claimed_software", "server.version software string (server text)"),
    ("inference_confidence", "0..1"),
    ("mismatch", "claimed implementation disagrees with behavior"),
    ("mismatch_reasons", "';'-separated reasons"),
    ("protocol", "negotiated protocol"),
    ("protocol_min", "features.protocol_min"),
    ("protocol_max", "features.protocol_max"),
    ("feature_keys", "';'-separated top-level server.features keys"),
    ("hash_function", "features.hash_function"),
    ("pruning", "features.pruning"),
    ("padded_lines", "reply lines with trailing spaces"),
    ("crlf_lines", "reply lines ending in CRLF"),
    ("jsonrpc_2", "replies carried jsonrpc 2.0"),
    ("legacy_address_answered", "removed blockchain.address.* methods answered"),
    ("malformed_outcomes", "case=outcome[/code] for each malformed-request case, ';'-separated"),
    ("xpub_batch_accepted", "xpub probe: batch of get_history accepted"),
    ("xpub_batch_size", "xpub probe: batch size"),
    ("xpub_sequential_median_ms", "xpub probe: one-by-one get_history median RTT"),
    ("xpub_sequential_slope_ms", "xpub probe: RTT slope, ms per query"),
    ("ratelimit_throttling", "rate-limit probe: throttling observed"),
    ("ratelimit_burst_slope_ms", "rate-limit probe: burst RTT slope, ms per request"),
    ("ping_median_ms", "timing probe: server.ping median"),
    ("ping_cv", "timing probe: coefficient of variation"),
    ("ping_n", "timing probe: samples"),
];

/// `tls.csv`: one row per certificate × endpoint (whole presented chain).
pub const TLS_COLUMNS: &[(&str, &str)] = &[
    ("server_id", "server id"),
    ("endpoint", "host:port:s"),
    ("ip", "address connected to"),
    ("position", "0 = leaf"),
    ("sha256", "SHA-256 of the DER"),
    ("sha1", "SHA-1 of the DER"),
    ("spki_sha256", "SHA-256 of the SubjectPublicKeyInfo"),
    (
        "version",
        "X.509 version (1 = v1, as ElectrumX's documented recipe makes)",
    ),
    ("serial", "serial, hex"),
    ("subject", "subject DN (server text)"),
    ("issuer", "issuer DN (server text)"),
    ("issuer_org", "issuer organization"),
    ("not_before", "RFC 3339"),
    ("not_after", "RFC 3339"),
    ("validity_days", "validity period, days"),
    ("san", "SubjectAltName entries, ';'-separated"),
    ("key", "key type and size"),
    ("signature_algorithm", "signature algorithm"),
    ("self_signed", "subject = issuer and self-verifying"),
    ("is_ca", "basicConstraints CA"),
    ("expired", "expired at scan time"),
    (
        "webpki_valid",
        "chain validates against Mozilla roots for the host",
    ),
    ("webpki_error", "why not"),
    ("name_matches", "SAN/CN covers the host"),
    ("tls_version", "negotiated TLS version"),
    ("cipher_suite", "negotiated suite"),
    (
        "servers_sharing_leaf",
        "servers presenting this leaf certificate (this one included)",
    ),
    ("parse_error", "DER parse error"),
];

fn writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .quote_style(csv::QuoteStyle::Necessary)
        .from_writer(Vec::new())
}

fn finish(w: csv::Writer<Vec<u8>>) -> Vec<u8> {
    w.into_inner().unwrap_or_default()
}

fn header(w: &mut csv::Writer<Vec<u8>>, cols: &[(&str, &str)]) {
    let _ = w.write_record(cols.iter().map(|c| c.0));
}

/// All three CSVs.
#[derive(Debug, Clone, Default)]
pub struct CsvFiles {
    /// servers.csv
    pub servers: Vec<u8>,
    /// fingerprints.csv
    pub fingerprints: Vec<u8>,
    /// tls.csv
    pub tls: Vec<u8>,
}

/// Writes the three CSVs into memory.
pub fn build(
    results: &[ServerResult<'_>],
    n: &Normalized<'_>,
    cert_share: &dyn Fn(&str) -> usize,
) -> CsvFiles {
    let mut s = writer();
    let mut fp = writer();
    let mut t = writer();
    header(&mut s, SERVERS_COLUMNS);
    header(&mut fp, FINGERPRINTS_COLUMNS);
    header(&mut t, TLS_COLUMNS);
    for res in results {
        let f = &res.facts;
        let Some(g) = n.servers.get(f.idx) else {
            continue;
        };
        for e in &g.endpoints {
            let Some(latest) = e.latest() else { continue };
            let loc = f.info.location.as_ref();
            let v = &res.view;
            let row = vec![
                text(&g.id),
                text(&e.endpoint.key()),
                text(&e.endpoint.host),
                e.endpoint.port.to_string(),
                e.endpoint.transport.letter().to_string(),
                boolean(e.endpoint.is_onion()),
                opt_text(latest.ip.as_deref()),
                latest.status.as_str().to_string(),
                opt_text(latest.error.as_deref()),
                boolean(latest.status.is_reachable()),
                float(f.uptime),
                f.rounds_observed.to_string(),
                opt_text(loc.and_then(|l| l.country_code.as_deref())),
                opt_text(loc.and_then(|l| l.country.as_deref())),
                opt_text(loc.and_then(|l| l.continent.as_deref())),
                opt_text(loc.and_then(|l| l.city.as_deref())),
                float(loc.and_then(|l| l.lat)),
                float(loc.and_then(|l| l.lon)),
                num(f.info.asn),
                opt_text(f.info.as_org.as_deref()),
                opt_text(f.info.provider.as_deref()),
                boolean(f.info.cloud),
                text(&f.implementation.label),
                opt_text(f.implementation.version.as_deref()),
                float(Some(f.implementation.confidence)),
                opt_text(v.server_software.as_deref()),
                opt_text(v.protocol.as_deref()),
                opt_text(v.banner.as_deref()),
                num(v.tip_height),
                float(latest.timing.connect_ms),
                float(latest.timing.tls_ms),
                float(f.rtt_median()),
                float(Some(v.hss.score)),
                v.hss.level.as_str().to_string(),
                text(
                    &v.hss
                        .fired
                        .iter()
                        .map(|i| i.id.as_str())
                        .collect::<Vec<_>>()
                        .join(";"),
                ),
                num(v.clusters.dbscan),
                num(v.clusters.kmeans),
                num(v.clusters.operator),
                text(&v.privacy_flags.join(";")),
            ];
            let _ = s.write_record(&row);
            match e.latest_reachable() {
                Some(r) => {
                    let _ = fp.write_record(fingerprint_row(&g.id, r));
                    tls_rows(&mut t, &g.id, r, cert_share);
                }
                // Never answered: the row still exists (one per endpoint), with no behavior.
                None => {
                    let mut row = vec![String::new(); FINGERPRINTS_COLUMNS.len()];
                    row[0] = text(&g.id);
                    row[1] = text(&e.endpoint.key());
                    let _ = fp.write_record(&row);
                }
            }
        }
    }
    CsvFiles {
        servers: finish(s),
        fingerprints: finish(fp),
        tls: finish(t),
    }
}

fn fingerprint_row(id: &str, r: &EndpointRecord) -> Vec<String> {
    let imp = crate::profile::implementation_of(Some(r));
    let feats = r.metadata.features.as_ref().and_then(|a| a.result.as_ref());
    let version = r.metadata.version.as_ref().and_then(|a| a.result.as_ref());
    let mut malformed = Vec::new();
    let (mut legacy, mut xpub, mut rate, mut timing) = (None, None, None, None);
    for p in &r.probes {
        match &p.detail {
            ProbeDetail::Malformed(m) => {
                for c in &m.cases {
                    malformed.push(match c.code {
                        Some(code) => format!("{}={}/{code}", c.case, c.outcome),
                        None => format!("{}={}", c.case, c.outcome),
                    });
                }
            }
            ProbeDetail::AddressFormats(a) => legacy = Some(a.legacy_address_answered),
            ProbeDetail::Xpub(x) => xpub = Some(x),
            ProbeDetail::RateLimit(x) => rate = Some(x),
            ProbeDetail::Timing(x) => timing = Some(x),
            ProbeDetail::None => {}
        }
    }
    vec![
        text(id),
        text(&r.endpoint.key()),
        text(
            &r.behavior_hash
                .clone()
                .unwrap_or_else(|| crate::profile::behavior_hash_fallback(r)),
        ),
        text(&imp.label),
        opt_text(version.map(|v| v.software.as_str())),
        float(Some(imp.confidence)),
        boolean(imp.mismatch),
        text(&imp.mismatch_reasons.join(";")),
        opt_text(version.map(|v| v.protocol.as_str())),
        opt_text(feats.and_then(|x| x.protocol_min.as_deref())),
        opt_text(feats.and_then(|x| x.protocol_max.as_deref())),
        text(&feats.map(|x| x.keys.join(";")).unwrap_or_default()),
        opt_text(feats.and_then(|x| x.hash_function.as_deref())),
        num(feats.and_then(|x| x.pruning)),
        r.wire.padded_lines.to_string(),
        r.wire.crlf_lines.to_string(),
        num(r.wire.jsonrpc_2),
        num(legacy),
        text(&malformed.join(";")),
        num(xpub.and_then(|x| x.batch_accepted)),
        num(xpub.map(|x| x.batch_size)),
        float(xpub.map(|x| x.sequential.median_ms)),
        float(xpub.and_then(|x| x.sequential_slope_ms)),
        num(rate.map(|x| x.throttling_observed)),
        float(rate.and_then(|x| x.burst_slope_ms)),
        float(timing.map(|x| x.ping.median_ms)),
        float(timing.map(|x| x.ping.cv)),
        num(timing.map(|x| x.ping.n)),
    ]
}

fn tls_rows(
    w: &mut csv::Writer<Vec<u8>>,
    id: &str,
    r: &EndpointRecord,
    cert_share: &dyn Fn(&str) -> usize,
) {
    let Some(tls) = &r.tls else { return };
    for c in &tls.chain {
        let key = match (&c.key_type, c.key_bits) {
            (Some(t), Some(b)) => Some(format!("{t} {b}")),
            (Some(t), None) => Some(t.clone()),
            _ => None,
        };
        let row = vec![
            text(id),
            text(&r.endpoint.key()),
            opt_text(r.ip.as_deref()),
            c.position.to_string(),
            text(&c.sha256),
            text(&c.sha1),
            opt_text(c.spki_sha256.as_deref()),
            num(c.version),
            opt_text(c.serial.as_deref()),
            opt_text(c.subject.as_deref()),
            opt_text(c.issuer.as_deref()),
            opt_text(c.issuer_org.as_deref()),
            opt_text(c.not_before.as_deref()),
            opt_text(c.not_after.as_deref()),
            num(c.validity_days),
            text(&c.san.join(";")),
            opt_text(key.as_deref()),
            opt_text(c.signature_algorithm.as_deref()),
            boolean(c.self_signed),
            boolean(c.is_ca),
            boolean(c.expired),
            boolean(tls.webpki_valid),
            opt_text(tls.webpki_error.as_deref()),
            boolean(tls.name_matches),
            opt_text(tls.protocol_version.as_deref()),
            opt_text(tls.cipher_suite.as_deref()),
            if c.position == 0 {
                cert_share(&c.sha256).to_string()
            } else {
                String::new()
            },
            opt_text(c.parse_error.as_deref()),
        ];
        let _ = w.write_record(&row);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralized() {
        for (input, want) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+1", "'+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tcmd", "'\tcmd"),
            ("ElectrumX 1.16.0", "ElectrumX 1.16.0"),
            ("", ""),
        ] {
            assert_eq!(text(input), want);
        }
    }

    #[test]
    fn rfc4180_quoting_round_trips() {
        let mut w = writer();
        w.write_record(["a,b", "say \"hi\"", "two\nlines", &text("=1+1")])
            .unwrap();
        let bytes = finish(w);
        assert_eq!(
            String::from_utf8(bytes.clone()).unwrap(),
            "\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",'=1+1\r\n"
        );
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(bytes.as_slice());
        let rec = r.records().next().unwrap().unwrap();
        assert_eq!(rec.get(2), Some("two\nlines"));
    }

    #[test]
    fn column_catalogues_have_unique_names() {
        for cols in [SERVERS_COLUMNS, FINGERPRINTS_COLUMNS, TLS_COLUMNS] {
            let set: std::collections::BTreeSet<_> = cols.iter().map(|c| c.0).collect();
            assert_eq!(set.len(), cols.len());
        }
    }
}
