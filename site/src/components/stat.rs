//! A headline number card.

use leptos::prelude::*;

/// One number with its label and an optional note.
#[component]
pub fn Stat(
    /// What is counted.
    label: &'static str,
    /// The number, formatted.
    value: String,
    /// A short qualifier shown under the number.
    #[prop(optional, into)]
    note: Option<String>,
) -> impl IntoView {
    view! {
        <div class="stat">
            <div class="stat-value">{value}</div>
            <div class="stat-label">{label}</div>
            {note.map(|n| view! { <div class="stat-note">{n}</div> })}
        </div>
    }
}
