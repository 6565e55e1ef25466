//! The error state: what failed and what the reader (or publisher) can do.

use leptos::prelude::*;

/// Shows every error of an `<ErrorBoundary>` as text.
#[component]
pub fn ErrorPanel(errors: ArcRwSignal<Errors>) -> impl IntoView {
    view! {
        <section class="error-panel" role="alert">
            <h1>"The observatory data could not be shown"</h1>
            <ul>
                {move || {
                    errors
                        .get()
                        .into_iter()
                        .map(|(_, e)| view! { <li>{e.to_string()}</li> })
                        .collect_view()
                }}
            </ul>
            <p class="muted">
                "The site reads data/snapshots/index.json and the newest snapshot it lists. "
                "Publish one with `observatory analyze` and rebuild with scripts/build-site.sh."
            </p>
        </section>
    }
}
