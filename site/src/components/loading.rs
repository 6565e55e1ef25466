//! Loading placeholder: reserves space so the page does not jump when data arrives.

use leptos::prelude::*;

/// "Loading …" with skeleton blocks.
#[component]
pub fn Loading(what: &'static str) -> impl IntoView {
    view! {
        <div class="loading" role="status" aria-live="polite">
            <p>"Loading " {what} "…"</p>
            <div class="skeleton skeleton-title"></div>
            <div class="skeleton-grid">
                <div class="skeleton"></div>
                <div class="skeleton"></div>
                <div class="skeleton"></div>
                <div class="skeleton"></div>
            </div>
            <div class="skeleton skeleton-block"></div>
        </div>
    }
}
