//! `docs/ethics.md` states the scanner's politeness limits with their values; this keeps
//! every value in its table equal to the constant it names, so the published page cannot
//! promise less load than the code allows.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use observatory_scanner::limits;
use observatory_scanner::probes;
use observatory_site::markdown::{parse, Block, Inline};

fn seconds(d: Duration) -> String {
    format!("{} s", d.as_secs())
}

/// Constant name → the value as the page must print it.
fn expected() -> BTreeMap<&'static str, String> {
    BTreeMap::from([
        (
            "DEFAULT_CONCURRENCY",
            limits::DEFAULT_CONCURRENCY.to_string(),
        ),
        ("REQUEST_BUDGET", limits::REQUEST_BUDGET.to_string()),
        (
            "STANDARD_COST_CEILING",
            probes::STANDARD_COST_CEILING.to_string(),
        ),
        (
            "ELECTRUMX_COST_SOFT_LIMIT",
            probes::ELECTRUMX_COST_SOFT_LIMIT.to_string(),
        ),
        ("RATE_LIMIT_BACKOFF", seconds(limits::RATE_LIMIT_BACKOFF)),
        (
            "MIN_PROBED_ROUND_INTERVAL",
            seconds(limits::MIN_PROBED_ROUND_INTERVAL),
        ),
        (
            "DEFAULT_CONNECT_TIMEOUT",
            seconds(limits::DEFAULT_CONNECT_TIMEOUT),
        ),
        (
            "DEFAULT_ENDPOINT_TIMEOUT",
            seconds(limits::DEFAULT_ENDPOINT_TIMEOUT),
        ),
        ("DEFAULT_MAX_DEPTH", limits::DEFAULT_MAX_DEPTH.to_string()),
        (
            "DEFAULT_MAX_SERVERS",
            limits::DEFAULT_MAX_SERVERS.to_string(),
        ),
        ("MAX_PEERS_PARSED", limits::MAX_PEERS_PARSED.to_string()),
    ])
}

fn text(cell: &[Inline]) -> String {
    cell.iter()
        .map(|i| match i {
            Inline::Text(t) | Inline::Strong(t) | Inline::Emphasis(t) | Inline::Code(t) => {
                t.as_str()
            }
        })
        .collect::<String>()
        .trim()
        .to_owned()
}

#[test]
fn the_politeness_table_states_the_scanners_constants() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/ethics.md");
    let doc = std::fs::read_to_string(&path)
        .expect("docs/ethics.md (scripts/build-site.sh publishes it)");
    let table = parse(&doc)
        .into_iter()
        .find_map(|b| match b {
            Block::Table(header, rows) if header.iter().any(|h| text(h) == "Constant") => {
                Some(rows)
            }
            _ => None,
        })
        .expect("a table with a Constant column");
    let mut stated = BTreeMap::new();
    for row in &table {
        let [_, constant, value] = row.as_slice() else {
            panic!("row of {} cells", row.len())
        };
        if let [Inline::Code(name)] = constant.as_slice() {
            stated.insert(name.clone(), text(value));
        }
    }
    let want: BTreeMap<String, String> = expected()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    assert_eq!(
        stated, want,
        "docs/ethics.md politeness table vs the scanner's constants"
    );
}
