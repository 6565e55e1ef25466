//! A minimal, safe markdown reader for the documentation pages.
//!
//! It produces a tree of [`Block`]s and [`Inline`]s that the site renders as
//! Leptos text nodes, so no input can become HTML: raw HTML in a document is
//! shown as the literal text it is. Only what `docs/*.md` uses is understood —
//! headings, paragraphs, bullet and numbered lists, fenced code, pipe tables
//! (kept as preformatted text when they have no `|---|` separator), rules, `**bold**`, `*emphasis*`, `` `code` `` and
//! links (shown as text followed by the address, never clickable).

/// A block of a document.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// `#`..`######` heading: level and text.
    Heading(u8, Vec<Inline>),
    /// A paragraph (lines joined by spaces).
    Paragraph(Vec<Inline>),
    /// A bullet list (or numbered when `true`), one entry per item.
    List(bool, Vec<Vec<Inline>>),
    /// Fenced code (or a malformed table), shown verbatim.
    Pre(String),
    /// A pipe table: header cells, then body rows (rows may be ragged).
    Table(Vec<Vec<Inline>>, Vec<Vec<Vec<Inline>>>),
    /// `> quote`.
    Quote(Vec<Inline>),
    /// `---`.
    Rule,
}

/// A span of text inside a block.
#[derive(Debug, Clone, PartialEq)]
pub enum Inline {
    /// Plain text.
    Text(String),
    /// `**strong**`.
    Strong(String),
    /// `*emphasis*` or `_emphasis_`.
    Emphasis(String),
    /// `` `code` ``.
    Code(String),
}

/// Parses a markdown document into blocks.
pub fn parse(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut paragraph: Vec<&str> = Vec::new();
    let mut list: Option<(bool, Vec<String>)> = None;
    let mut lines = text.lines().peekable();

    fn flush(
        blocks: &mut Vec<Block>,
        paragraph: &mut Vec<&str>,
        list: &mut Option<(bool, Vec<String>)>,
    ) {
        if !paragraph.is_empty() {
            blocks.push(Block::Paragraph(inlines(&paragraph.join(" "))));
            paragraph.clear();
        }
        if let Some((ordered, items)) = list.take() {
            blocks.push(Block::List(
                ordered,
                items.iter().map(|i| inlines(i)).collect(),
            ));
        }
    }

    while let Some(line) = lines.next() {
        let trimmed = line.trim();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            flush(&mut blocks, &mut paragraph, &mut list);
            let fence = &trimmed[..3];
            let mut code = Vec::new();
            for inner in lines.by_ref() {
                if inner.trim_start().starts_with(fence) {
                    break;
                }
                code.push(inner);
            }
            blocks.push(Block::Pre(code.join("\n")));
        } else if trimmed.starts_with('|') {
            flush(&mut blocks, &mut paragraph, &mut list);
            let mut table = vec![trimmed];
            while let Some(next) = lines.peek() {
                if !next.trim().starts_with('|') {
                    break;
                }
                table.push(next.trim());
                lines.next();
            }
            blocks.push(table_block(&table));
        } else if trimmed.is_empty() || (trimmed.starts_with("<!--") && trimmed.ends_with("-->")) {
            // A one-line HTML comment is an authoring marker (e.g. where a
            // generated table starts): not content, so it ends the block and
            // is dropped rather than shown.
            flush(&mut blocks, &mut paragraph, &mut list);
        } else if let Some(level) = heading_level(trimmed) {
            flush(&mut blocks, &mut paragraph, &mut list);
            let body = trimmed[usize::from(level)..]
                .trim()
                .trim_end_matches('#')
                .trim();
            blocks.push(Block::Heading(level, inlines(body)));
        } else if is_rule(trimmed) {
            flush(&mut blocks, &mut paragraph, &mut list);
            blocks.push(Block::Rule);
        } else if let Some(quote) = trimmed.strip_prefix('>') {
            flush(&mut blocks, &mut paragraph, &mut list);
            blocks.push(Block::Quote(inlines(quote.trim())));
        } else if let Some((ordered, item)) = list_item(trimmed) {
            if !paragraph.is_empty() {
                flush(&mut blocks, &mut paragraph, &mut list);
            }
            match &mut list {
                Some((o, items)) if *o == ordered => items.push(item.to_owned()),
                _ => {
                    flush(&mut blocks, &mut paragraph, &mut list);
                    list = Some((ordered, vec![item.to_owned()]));
                }
            }
        } else if let (Some((_, items)), true) = (&mut list, line.starts_with(' ')) {
            // An indented continuation line belongs to the last list item.
            if let Some(last) = items.last_mut() {
                last.push(' ');
                last.push_str(trimmed);
            }
        } else {
            if list.is_some() {
                flush(&mut blocks, &mut paragraph, &mut list);
            }
            paragraph.push(trimmed);
        }
    }
    flush(&mut blocks, &mut paragraph, &mut list);
    blocks
}

fn heading_level(line: &str) -> Option<u8> {
    let hashes = line.bytes().take_while(|b| *b == b'#').count();
    let after = line.as_bytes().get(hashes);
    // At most six hashes, then a space: the count fits a u8.
    ((1..=6).contains(&hashes) && after == Some(&b' ')).then_some(hashes as u8)
}

fn is_rule(line: &str) -> bool {
    let compact: String = line.chars().filter(|c| !c.is_whitespace()).collect();
    compact.len() >= 3
        && (compact.chars().all(|c| c == '-')
            || compact.chars().all(|c| c == '*')
            || compact.chars().all(|c| c == '_'))
}

fn list_item(line: &str) -> Option<(bool, &str)> {
    for marker in ["- ", "* ", "+ "] {
        if let Some(rest) = line.strip_prefix(marker) {
            return Some((false, rest));
        }
    }
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    if digits > 0 {
        let rest = &line[digits..];
        if let Some(item) = rest.strip_prefix(". ").or_else(|| rest.strip_prefix(") ")) {
            return Some((true, item));
        }
    }
    None
}

/// Longest table kept as a table (rows beyond are dropped, with a note row).
const MAX_TABLE_ROWS: usize = 500;

/// A table from its `|`-lines: a header, a `|---|` separator, then rows;
/// anything else is shown verbatim.
fn table_block(lines: &[&str]) -> Block {
    let is_separator = |line: &str| {
        let cells = table_cells(line);
        !cells.is_empty()
            && cells.iter().all(|c| {
                let c = c.trim();
                c.contains('-') && c.chars().all(|ch| matches!(ch, '-' | ':'))
            })
    };
    match lines {
        [header, separator, rows @ ..] if is_separator(separator) => {
            let cells = |line: &str| {
                table_cells(line)
                    .iter()
                    .map(|c| inlines(c.trim()))
                    .collect()
            };
            let mut body: Vec<Vec<Vec<Inline>>> =
                rows.iter().take(MAX_TABLE_ROWS).map(|r| cells(r)).collect();
            if rows.len() > MAX_TABLE_ROWS {
                body.push(vec![vec![Inline::Text(format!(
                    "… {} more rows",
                    rows.len() - MAX_TABLE_ROWS
                ))]]);
            }
            Block::Table(cells(header), body)
        }
        _ => Block::Pre(lines.join("\n")),
    }
}

/// The cells of a `| a | b |` line: split on `|` outside backticks, `\|` kept as `|`.
fn table_cells(line: &str) -> Vec<String> {
    let inner = line.trim();
    let inner = inner.strip_prefix('|').unwrap_or(inner);
    let inner = inner
        .strip_suffix('|')
        .filter(|i| !i.ends_with('\\'))
        .unwrap_or(inner);
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut in_code = false;
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                cell.push('|');
                chars.next();
            }
            '`' => {
                in_code = !in_code;
                cell.push(c);
            }
            '|' if !in_code => cells.push(std::mem::take(&mut cell)),
            _ => cell.push(c),
        }
    }
    cells.push(cell);
    cells
}

/// The character entities the generated reports use, and what they stand for.
const ENTITIES: &[(&str, char)] = &[
    ("&lt;", '<'),
    ("&gt;", '>'),
    ("&amp;", '&'),
    ("&quot;", '"'),
    ("&#39;", '\''),
    ("&#124;", '|'),
];

/// Splits a line into inline spans. Unclosed markers stay literal text.
pub fn inlines(text: &str) -> Vec<Inline> {
    let mut out = Vec::new();
    let mut plain = String::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let span = match c {
            '`' => delimited(rest, "`").map(|(inner, len)| (Inline::Code(inner.to_owned()), len)),
            '*' if rest.starts_with("**") => {
                delimited(rest, "**").map(|(inner, len)| (Inline::Strong(inner.to_owned()), len))
            }
            // `_` inside a word (snake_case) is not emphasis.
            '*' | '_' if c == '*' || plain.chars().last().is_none_or(|p| !p.is_alphanumeric()) => {
                delimited(rest, if c == '*' { "*" } else { "_" })
                    .filter(|(inner, _)| !inner.starts_with(' '))
                    .map(|(inner, len)| (Inline::Emphasis(inner.to_owned()), len))
            }
            '[' => {
                link(rest).map(|(label, url, len)| (Inline::Text(format!("{label} ({url})")), len))
            }
            _ => None,
        };
        match span {
            Some((inline, len)) => {
                if !plain.is_empty() {
                    out.push(Inline::Text(std::mem::take(&mut plain)));
                }
                out.push(inline);
                rest = &rest[len..];
            }
            None => {
                // The reports escape `< > &` in table cells as entities (GitHub renders them);
                // decoded here into plain text, which is still only ever a text node.
                match ENTITIES.iter().find(|(e, _)| rest.starts_with(e)) {
                    Some((entity, decoded)) => {
                        plain.push(*decoded);
                        rest = &rest[entity.len()..];
                    }
                    None => {
                        plain.push(c);
                        rest = &rest[c.len_utf8()..];
                    }
                }
            }
        }
    }
    if !plain.is_empty() {
        out.push(Inline::Text(plain));
    }
    out
}

/// `marker inner marker` at the start of `s`: the inner text and the total byte length.
fn delimited<'a>(s: &'a str, marker: &str) -> Option<(&'a str, usize)> {
    let body = s.strip_prefix(marker)?;
    let end = body.find(marker)?;
    (end > 0).then(|| (&body[..end], marker.len() * 2 + end))
}

/// `[label](url)` at the start of `s`.
fn link(s: &str) -> Option<(&str, &str, usize)> {
    let close = s.find("](")?;
    let label = s.get(1..close)?;
    let after = s.get(close + 2..)?;
    let end = after.find(')')?;
    Some((label, &after[..end], close + 2 + end + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Inline {
        Inline::Text(s.into())
    }

    #[test]
    fn parses_blocks() {
        let doc = "# Title\n\nFirst line\nsecond line.\n\n- a\n- b\n  continued\n\n1. one\n2. two\n\n---\n\n```\n<b>x</b>\n```\n\n| a | b |\n|---|---|\n\n> quoted\n";
        let blocks = parse(doc);
        assert_eq!(
            blocks,
            vec![
                Block::Heading(1, vec![text("Title")]),
                Block::Paragraph(vec![text("First line second line.")]),
                Block::List(false, vec![vec![text("a")], vec![text("b continued")]]),
                Block::List(true, vec![vec![text("one")], vec![text("two")]]),
                Block::Rule,
                Block::Pre("<b>x</b>".into()),
                Block::Table(vec![vec![text("a")], vec![text("b")]], vec![]),
                Block::Quote(vec![text("quoted")]),
            ]
        );
    }

    #[test]
    fn parses_inlines_and_keeps_html_literal() {
        assert_eq!(
            inlines("a **b** *c* `d` [e](https://x.example) <script>alert(1)</script> 2*3"),
            vec![
                text("a "),
                Inline::Strong("b".into()),
                text(" "),
                Inline::Emphasis("c".into()),
                text(" "),
                Inline::Code("d".into()),
                text(" "),
                text("e (https://x.example)"),
                text(" <script>alert(1)</script> 2*3"),
            ]
        );
        assert_eq!(inlines("**unclosed"), vec![text("**unclosed")]);
        // Entities decode to text, never to markup: `&lt;script&gt;` is the literal `<script>`.
        assert_eq!(
            inlines("&gt;= 3 &lt;script&gt; &amp;lt; &unknown;"),
            vec![text(">= 3 <script> &lt; &unknown;")]
        );
        assert_eq!(inlines("snake_case_name"), vec![text("snake_case_name")]);
        assert_eq!(inlines("_em_"), vec![Inline::Emphasis("em".into())]);
    }

    #[test]
    fn tables_split_cells_outside_code() {
        let doc = "| id | rule |\n|:---|---:|\n| `a|b` | x \\| y |\n| **z** |\n";
        assert_eq!(
            parse(doc),
            vec![Block::Table(
                vec![vec![text("id")], vec![text("rule")]],
                vec![
                    vec![vec![Inline::Code("a|b".into())], vec![text("x | y")]],
                    vec![vec![Inline::Strong("z".into())]],
                ],
            )]
        );
        // Authoring comments around a table are dropped; other HTML stays literal text.
        assert_eq!(
            parse("<!-- t:begin -->\n<b>x</b>\n<!-- t:end -->"),
            vec![Block::Paragraph(vec![text("<b>x</b>")])]
        );
        // No separator line: not a table, shown as it is.
        assert_eq!(
            parse("| a |\n| b |"),
            vec![Block::Pre("| a |\n| b |".into())]
        );
    }

    #[test]
    fn headings_need_a_space_and_at_most_six_hashes() {
        assert_eq!(heading_level("## x"), Some(2));
        assert_eq!(heading_level("#x"), None);
        assert_eq!(heading_level("####### x"), None);
        assert!(parse("").is_empty());
    }
}
