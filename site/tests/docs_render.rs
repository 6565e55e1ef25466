//! Every `docs/*.md` that `scripts/build-site.sh` publishes parses into a
//! titled document, and its pipe tables come out as tables (not raw text).

use std::path::Path;

use observatory_site::markdown::{parse, Block};
use observatory_site::route::is_doc_stem;

#[test]
fn every_published_doc_parses_with_a_title() {
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs");
    let Ok(entries) = std::fs::read_dir(&docs) else {
        // No docs folder in this checkout: nothing is published, nothing to check.
        return;
    };
    let mut tables = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(stem) = path
            .file_stem()
            .and_then(|s| s.to_str())
            .filter(|_| path.extension().is_some_and(|e| e == "md"))
        else {
            continue;
        };
        assert!(
            is_doc_stem(stem),
            "{stem}.md would not be published: rename it to [a-z0-9_-]"
        );
        let text = std::fs::read_to_string(&path).expect("readable doc");
        let blocks = parse(&text);
        assert!(
            matches!(blocks.first(), Some(Block::Heading(1, _))),
            "{stem}.md does not start with a # title"
        );
        tables += blocks
            .iter()
            .filter(|b| matches!(b, Block::Table(..)))
            .count();
        let raw_tables = blocks
            .iter()
            .filter(|b| matches!(b, Block::Pre(p) if p.starts_with('|')))
            .count();
        assert_eq!(
            raw_tables, 0,
            "{stem}.md has a table without a |---| separator"
        );
    }
    println!("{tables} tables in docs/");
}
