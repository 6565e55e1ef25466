//! Unknown route.

use leptos::prelude::*;

/// "Page not found", echoing the path as text.
#[component]
pub fn NotFoundPage(path: String) -> impl IntoView {
    view! {
        <section>
            <h1>"Page not found"</h1>
            <p>"There is no page " <code>{path}</code> ". " <a href="#/">"Back to the overview"</a></p>
        </section>
    }
}
