//! The main navigation, marking the current section with `aria-current`.

use leptos::prelude::*;

use crate::route::Route;

const ITEMS: [(&str, &str, &str); 8] = [
    ("overview", "#/", "Overview"),
    ("map", "#/map", "Map"),
    ("centralization", "#/centralization", "Centralization"),
    ("clusters", "#/clusters", "Clusters"),
    ("ranking", "#/ranking", "HSS ranking"),
    ("privacy", "#/privacy", "Privacy"),
    ("docs", "#/docs/methodology", "Methodology"),
    ("downloads", "#/downloads", "Downloads"),
];

/// The site navigation.
#[component]
pub fn Nav(route: Memo<Route>) -> impl IntoView {
    view! {
        <nav aria-label="Main">
            <ul class="nav">
                {ITEMS
                    .into_iter()
                    .map(|(section, href, label)| {
                        let current = move || (route.get().section() == section).then_some("page");
                        view! {
                            <li>
                                <a href=href aria-current=current>{label}</a>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </nav>
    }
}
