//! Documentation pages (`docs/*.md`, copied into `data/docs/` by the build), as safe markdown.

use leptos::prelude::*;

use crate::api::{fetch_text, LoadError, DOCS_DIR};
use crate::components::{doc_view::DocView, loading::Loading};
use crate::markdown::parse;
use crate::route::{Route, DOCS};

/// A document page with links to its siblings.
#[component]
pub fn DocPage(stem: String) -> impl IntoView {
    let url = format!("{DOCS_DIR}{stem}.md");
    let text = LocalResource::new(move || {
        let url = url.clone();
        async move { fetch_text(&url).await }
    });
    let current = stem.clone();
    view! {
        <nav class="doc-tabs" aria-label="Documents">
            {DOCS
                .iter()
                .map(|(s, title)| {
                    let here = (*s == current).then_some("page");
                    view! { <a href=Route::Doc((*s).to_owned()).href() aria-current=here>{*title}</a> }
                })
                .collect_view()}
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
