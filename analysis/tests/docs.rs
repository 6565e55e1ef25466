//! Documentation that restates code must agree with it.
//!
//! * `docs/honeypot-indicators.md`: the table between the `indicators:begin/end` markers
//!   is exactly [`hss::CATALOGUE`] (id, name, weight, threshold), the level thresholds
//!   quoted in the text are [`hss::MEDIUM_THRESHOLD`] and [`hss::HIGH_THRESHOLD`], and the
//!   known default certificates are [`hss::KNOWN_DEFAULT_CERTS`].
//! * `docs/methodology.md`: the clustering feature table is [`cluster::FEATURES`], and the
//!   column tables of `servers.csv`, `fingerprints.csv` and `tls.csv` are exactly
//!   [`csv_out::SERVERS_COLUMNS`], [`csv_out::FINGERPRINTS_COLUMNS`] and [`csv_out::TLS_COLUMNS`]
//!   (every column the code writes is documented, and the doc names no column the code lacks).
//!
//! `UPDATE_GOLDEN=1` rewrites the generated blocks in place (then review the diff).

use std::path::PathBuf;

use observatory_analysis::{cluster, csv_out, hss};

fn doc(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../docs")
        .join(name)
}

/// Replaces or checks the block between `<!-- {tag}:begin -->` and `<!-- {tag}:end -->`.
fn check_block(file: &str, tag: &str, want: &str) {
    let path = doc(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (begin, end) = (
        format!("<!-- {tag}:begin -->\n"),
        format!("<!-- {tag}:end -->"),
    );
    let b = text
        .find(&begin)
        .unwrap_or_else(|| panic!("{file}: no {begin:?} marker"))
        + begin.len();
    let e = text[b..]
        .find(&end)
        .unwrap_or_else(|| panic!("{file}: no {end:?} marker"))
        + b;
    if std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1") {
        let updated = format!("{}{want}{}", &text[..b], &text[e..]);
        std::fs::write(&path, updated).unwrap();
        return;
    }
    assert!(text[b..e] == *want, "{file}: the {tag} block differs from the code; rerun with UPDATE_GOLDEN=1 and review.\n--- code says:\n{want}");
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|")
}

#[test]
fn honeypot_indicator_table_matches_the_code() {
    let mut t =
        String::from("| Indicator | Id | Weight (points) | Fires when |\n|---|---|---:|---|\n");
    for i in hss::CATALOGUE {
        t.push_str(&format!(
            "| {} | `{}` | {} | {} |\n",
            cell(i.name),
            i.id,
            i.weight,
            cell(i.threshold)
        ));
    }
    check_block("honeypot-indicators.md", "indicators", &t);
    let text = std::fs::read_to_string(doc("honeypot-indicators.md")).unwrap();
    for (what, v) in [
        ("medium", hss::MEDIUM_THRESHOLD),
        ("high", hss::HIGH_THRESHOLD),
    ] {
        let needle = format!("`{what}` at {v} points");
        assert!(
            text.contains(&needle),
            "honeypot-indicators.md must say {needle:?}"
        );
    }
    for i in hss::CATALOGUE {
        assert!(
            text.contains(&format!("### `{}`", i.id)),
            "honeypot-indicators.md: no section for {}",
            i.id
        );
        assert!(
            text.contains(i.rationale),
            "honeypot-indicators.md: rationale of {} differs from the code",
            i.id
        );
    }
}

#[test]
fn known_default_certificate_table_matches_the_code() {
    let mut t =
        String::from("| Certificate | SHA-256 | SPKI SHA-256 | Source |\n|---|---|---|---|\n");
    for k in hss::KNOWN_DEFAULT_CERTS {
        t.push_str(&format!(
            "| {} | `{}` | `{}` | {} |\n",
            cell(k.name),
            k.sha256,
            k.spki_sha256,
            cell(k.source)
        ));
    }
    check_block("honeypot-indicators.md", "known-defaults", &t);
}

#[test]
fn methodology_feature_table_matches_the_code() {
    let mut t = String::from("| # | Feature | Meaning |\n|---:|---|---|\n");
    for (n, (name, what)) in cluster::FEATURES.iter().enumerate() {
        t.push_str(&format!("| {} | `{name}` | {} |\n", n + 1, cell(what)));
    }
    check_block("methodology.md", "features", &t);
}

/// The documented column names of one CSV table block, in order.
fn documented_columns(file: &str, tag: &str) -> Vec<String> {
    let text = std::fs::read_to_string(doc(file)).unwrap();
    let (begin, end) = (
        format!("<!-- {tag}:begin -->"),
        format!("<!-- {tag}:end -->"),
    );
    let b = text
        .find(&begin)
        .unwrap_or_else(|| panic!("{file}: no {begin} marker"));
    let e = text[b..]
        .find(&end)
        .unwrap_or_else(|| panic!("{file}: no {end} marker"))
        + b;
    text[b..e]
        .lines()
        .filter_map(|l| {
            l.strip_prefix("| `")?
                .split_once('`')
                .map(|(name, _)| name.to_string())
        })
        .collect()
}

#[test]
fn methodology_csv_column_tables_match_the_code() {
    for (tag, cols) in [
        ("csv-servers", csv_out::SERVERS_COLUMNS),
        ("csv-fingerprints", csv_out::FINGERPRINTS_COLUMNS),
        ("csv-tls", csv_out::TLS_COLUMNS),
    ] {
        let mut t = String::from("| Column | Meaning |\n|---|---|\n");
        for (name, what) in cols {
            t.push_str(&format!("| `{name}` | {} |\n", cell(what)));
        }
        check_block("methodology.md", tag, &t);
        // Stated separately so a failure names the column: both directions, in order.
        let code: Vec<String> = cols.iter().map(|c| c.0.to_string()).collect();
        let documented = documented_columns("methodology.md", tag);
        for c in &code {
            assert!(
                documented.contains(c),
                "methodology.md {tag}: column {c} is written but not documented"
            );
        }
        for c in &documented {
            assert!(
                code.contains(c),
                "methodology.md {tag}: documents {c}, which the code does not write"
            );
        }
        assert_eq!(code, documented, "{tag}: column order");
    }
}
