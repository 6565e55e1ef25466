//! Documentation pages (`docs/*.md`, copied into `data/docs/` by the build), as safe markdown.

use leptos::prelude::*;

use crate::api::{fetch_text, LoadError, DOCS_DIR};
use crate::components::{doc_view::DocView, loading::Loading};
use crate::markdown::parse;
use crate::route::{parse_doc_index, Route, DOCS};

/// The published documents (stem, title): the build's index, else [`DOCS`].
async fn doc_list() -> Vec<(String, String)> {
    match fetch_text(&format!("{DOCS_DIR}index.txt"))
        .await
        .map(|t| parse_doc_index(&t))
    {
        Ok(list) if !list.is_empty() => list,
        _ => DOCS
            .iter()
            .map(|(s, t)| ((*s).to_owned(), (*t).to_owned()))
            .collect(),
    }
}

/// A document page with links to its siblings.
#[component]
pub fn DocPage(stem: String) -> impl IntoView {
    let url = format!("{DOCS_DIR}{stem}.md");
    let text = LocalResource::new(move || {
        let url = url.clone();
        async move { fetch_text(&url).await }
    });
    let list = LocalResource::new(doc_list);
    let current = stem.clone();
    view! {
        <nav class="doc-tabs" aria-label="Documents">
            <Suspense fallback=|| ()>
                {move || {
                    let current = current.clone();
                    Suspend::new(async move {
                        list.await
                            .into_iter()
                            .map(|(s, title)| {
                                let here = (s == current).then_some("page");
                                view! { <a href=Route::Doc(s).href() aria-current=here>{title}</a> }
                            })
                            .collect_view()
                    })
                }}
            </Suspense>
        </nav>
        <Suspense fallback=|| view! { <Loading what="document" /> }>
            {move || Suspend::new(async move {
                match text.await {
                    Ok(t) => view! { <DocView blocks=parse(&t) /> }.into_any(),
                    Err(LoadError::Status { status: 404, .. }) => view! {
                        <p class="notice">"This document is not included in this build of the site."</p>
                    }.into_any(),
                    Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}
