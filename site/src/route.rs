//! Hash routing: `#/ranking`, `#/server/<id>`, …
//!
//! The site is static and may live under a sub-path on GitHub Pages, which
//! serves no fallback for unknown paths; keeping the route in the URL
//! fragment makes every deep link load `index.html` and work anywhere.

/// Documentation pages listed when the build published no docs index (file
/// stem, title); `scripts/build-site.sh` lists every `docs/*.md` in
/// `data/docs/index.txt`, read with [`parse_doc_index`].
pub const DOCS: [(&str, &str); 5] = [
    ("methodology", "Methodology"),
    ("ethics", "Ethics"),
    ("honeypot-indicators", "Honeypot Suspicion Score (HSS)"),
    ("privacy", "Privacy risk assessment"),
    ("threat-model", "Threat model"),
];

/// Longest document stem accepted in a route or the index.
const MAX_DOC_STEM: usize = 64;
/// Longest title kept from the index (longer ones are cut).
const MAX_DOC_TITLE: usize = 120;
/// Most documents listed from the index.
const MAX_DOCS: usize = 32;

/// Whether `stem` can name a file in `data/docs/` (`[a-z0-9_-]`, bounded): a
/// route can only ever fetch `data/docs/<stem>.md`, never another path.
pub fn is_doc_stem(stem: &str) -> bool {
    (1..=MAX_DOC_STEM).contains(&stem.len())
        && stem
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_'))
}

/// Reads `data/docs/index.txt`: one `stem<TAB>title` per line, in display
/// order. Lines with a bad stem are skipped; a missing title becomes the stem.
pub fn parse_doc_index(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|line| {
            let (stem, title) = line.split_once('\t').unwrap_or((line, ""));
            let stem = stem.trim();
            let title = title.trim();
            is_doc_stem(stem).then(|| {
                let title = if title.is_empty() { stem } else { title };
                (stem.to_owned(), title.chars().take(MAX_DOC_TITLE).collect())
            })
        })
        .take(MAX_DOCS)
        .collect()
}

/// A page of the site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// Headline numbers.
    Overview,
    /// World map.
    Map,
    /// Centralization charts and metrics.
    Centralization,
    /// Clustering results.
    Clusters,
    /// HSS ranking table.
    Ranking,
    /// One server, by id.
    Server(String),
    /// Privacy assessment.
    Privacy,
    /// A document from `docs/` (stem from [`DOCS`]).
    Doc(String),
    /// Download links.
    Downloads,
    /// Anything else (shown as "page not found", never echoed as HTML).
    NotFound(String),
}

impl Route {
    /// Parses `location.hash` (with or without the leading `#`).
    pub fn parse(hash: &str) -> Route {
        let path = hash.trim_start_matches('#').trim_start_matches('/');
        let path = path.split(['?', '#']).next().unwrap_or("");
        let mut parts = path.splitn(2, '/');
        let head = parts.next().unwrap_or("");
        let rest = parts.next().unwrap_or("").trim_end_matches('/');
        match (head, rest) {
            ("", "") => Route::Overview,
            ("map", "") => Route::Map,
            ("centralization", "") => Route::Centralization,
            ("clusters", "") => Route::Clusters,
            ("ranking", "") => Route::Ranking,
            ("server", id) if !id.is_empty() => Route::Server(percent_decode(id)),
            ("privacy", "") => Route::Privacy,
            ("docs", stem) if is_doc_stem(stem) => Route::Doc(stem.to_owned()),
            ("downloads", "") => Route::Downloads,
            _ => Route::NotFound(path.to_owned()),
        }
    }

    /// The `href` for a link to this route.
    pub fn href(&self) -> String {
        match self {
            Route::Overview => "#/".into(),
            Route::Map => "#/map".into(),
            Route::Centralization => "#/centralization".into(),
            Route::Clusters => "#/clusters".into(),
            Route::Ranking => "#/ranking".into(),
            Route::Server(id) => format!("#/server/{}", percent_encode(id)),
            Route::Privacy => "#/privacy".into(),
            Route::Doc(stem) => format!("#/docs/{}", percent_encode(stem)),
            Route::Downloads => "#/downloads".into(),
            Route::NotFound(path) => format!("#/{}", percent_encode(path)),
        }
    }

    /// The navigation section this route belongs to (for `aria-current`).
    pub fn section(&self) -> &'static str {
        match self {
            Route::Overview => "overview",
            Route::Map => "map",
            Route::Centralization => "centralization",
            Route::Clusters => "clusters",
            Route::Ranking | Route::Server(_) => "ranking",
            Route::Privacy => "privacy",
            Route::Doc(_) => "docs",
            Route::Downloads => "downloads",
            Route::NotFound(_) => "",
        }
    }
}

/// Encodes everything but `[A-Za-z0-9._~-]` (server ids are `[a-z0-9.-]`, so
/// this is the identity for them; anything else stays unambiguous).
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'~' | b'-') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes `%XX` escapes; malformed escapes are kept literally.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |c: u8| char::from(c).to_digit(16);
        match (
            bytes.get(i),
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (Some(b'%'), Some(h), Some(l)) => {
                // h and l are < 16, so the value fits a byte.
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (Some(&b), _, _) => {
                out.push(b);
                i += 1;
            }
            (None, _, _) => break,
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_route() {
        let cases = [
            ("", Route::Overview),
            ("#", Route::Overview),
            ("#/", Route::Overview),
            ("#/map", Route::Map),
            ("#/centralization/", Route::Centralization),
            ("#/clusters", Route::Clusters),
            ("#/ranking?x=1", Route::Ranking),
            (
                "#/server/electrum.example.org",
                Route::Server("electrum.example.org".into()),
            ),
            ("#/server/a%20b", Route::Server("a b".into())),
            ("#/privacy", Route::Privacy),
            ("#/docs/methodology", Route::Doc("methodology".into())),
            ("#/docs/threat-model", Route::Doc("threat-model".into())),
            ("#/docs/../index", Route::NotFound("docs/../index".into())),
            ("#/docs/a%2Fb", Route::NotFound("docs/a%2Fb".into())),
            ("#/downloads", Route::Downloads),
            ("#/server/", Route::NotFound("server/".into())),
            ("#/<script>", Route::NotFound("<script>".into())),
        ];
        for (hash, want) in cases {
            assert_eq!(Route::parse(hash), want, "{hash}");
        }
    }

    #[test]
    fn href_round_trips() {
        for route in [
            Route::Overview,
            Route::Map,
            Route::Centralization,
            Route::Clusters,
            Route::Ranking,
            Route::Server("x-1.example".into()),
            Route::Server("odd/id with space".into()),
            Route::Privacy,
            Route::Doc("ethics".into()),
            Route::Downloads,
        ] {
            assert_eq!(Route::parse(&route.href()), route, "{}", route.href());
        }
        assert_eq!(Route::Server("a.b".into()).href(), "#/server/a.b");
        assert_eq!(Route::Server("a.b".into()).section(), "ranking");
    }

    #[test]
    fn doc_index_keeps_valid_lines_in_order() {
        let text = "methodology\tMethodology\nethics\n../etc\tbad\nThreat\tupper case\nprivacy\t  Privacy risk  \n\n";
        assert_eq!(
            parse_doc_index(text),
            vec![
                ("methodology".to_owned(), "Methodology".to_owned()),
                ("ethics".to_owned(), "ethics".to_owned()),
                ("privacy".to_owned(), "Privacy risk".to_owned()),
            ]
        );
        let long = format!("x\t{}", "t".repeat(500));
        assert_eq!(parse_doc_index(&long)[0].1.len(), MAX_DOC_TITLE);
        assert!(!is_doc_stem(&"a".repeat(MAX_DOC_STEM + 1)));
        assert!(!is_doc_stem(""));
    }

    #[test]
    fn malformed_escapes_stay_literal() {
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_decode("%41%42c"), "ABc");
    }
}
