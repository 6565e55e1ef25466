//! The global map page.

use std::sync::Arc;

use leptos::prelude::*;
use observatory_model::snapshot::Snapshot;

use crate::components::world_map::WorldMap;

/// Map page.
#[component]
pub fn MapPage(snapshot: Arc<Snapshot>) -> impl IntoView {
    view! {
        <h1>"Where the servers are"</h1>
        <p class="lead">
            "Each dot is a server location from IP geolocation (city-level, approximate); co-located servers share a dot. "
            "Colour is the highest Honeypot Suspicion Score level at that spot. Hover for details, click to list the servers."
        </p>
        <WorldMap snapshot />
    }
}
