//! Renders parsed markdown as text nodes (never HTML).

use leptos::prelude::*;

use crate::markdown::{Block, Inline};

fn inline_view(spans: Vec<Inline>) -> impl IntoView {
    spans
        .into_iter()
        .map(|span| match span {
            Inline::Text(t) => view! { <span>{t}</span> }.into_any(),
            Inline::Strong(t) => view! { <strong>{t}</strong> }.into_any(),
            Inline::Emphasis(t) => view! { <em>{t}</em> }.into_any(),
            Inline::Code(t) => view! { <code>{t}</code> }.into_any(),
        })
        .collect_view()
}

/// A document.
#[component]
pub fn DocView(blocks: Vec<Block>) -> impl IntoView {
    view! {
        <article class="doc">
            {blocks
                .into_iter()
                .map(|block| match block {
                    // The page title is the single h1; document headings start at h2.
                    Block::Heading(1, t) => view! { <h1>{inline_view(t)}</h1> }.into_any(),
                    Block::Heading(2, t) => view! { <h2>{inline_view(t)}</h2> }.into_any(),
                    Block::Heading(3, t) => view! { <h3>{inline_view(t)}</h3> }.into_any(),
                    Block::Heading(_, t) => view! { <h4>{inline_view(t)}</h4> }.into_any(),
                    Block::Paragraph(t) => view! { <p>{inline_view(t)}</p> }.into_any(),
                    Block::Quote(t) => view! { <blockquote>{inline_view(t)}</blockquote> }.into_any(),
                    Block::List(false, items) => view! {
                        <ul>{items.into_iter().map(|i| view! { <li>{inline_view(i)}</li> }).collect_view()}</ul>
                    }.into_any(),
                    Block::List(true, items) => view! {
                        <ol>{items.into_iter().map(|i| view! { <li>{inline_view(i)}</li> }).collect_view()}</ol>
                    }.into_any(),
                    Block::Pre(text) => view! { <pre class="scroll-x">{text}</pre> }.into_any(),
                    Block::Rule => view! { <hr /> }.into_any(),
                })
                .collect_view()}
        </article>
    }
}
