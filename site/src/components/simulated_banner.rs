//! The banner every page shows when the snapshot describes a simulated network
//! (`Snapshot::simulated`), so its numbers are never taken for measurements of
//! the public Electrum network.

use leptos::prelude::*;

/// "Simulated network — not real measurements", with what that means.
#[component]
pub fn SimulatedBanner() -> impl IntoView {
    view! {
        <div class="simulated-banner" id="simulated-banner" role="note">
            <div class="wrap">
                <strong>"Simulated network — not real measurements."</strong>
                " This report was made from a simulated Electrum network (synthetic records, or "
                <code>"observatory simnet"</code>
                " servers on loopback addresses). Its numbers illustrate the method only and say nothing about the public network."
            </div>
        </div>
    }
}
