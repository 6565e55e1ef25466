//! The app shell: hash router, snapshot loading, header, navigation and footer.

use std::sync::Arc;

use leptos::prelude::*;
use leptos::wasm_bindgen::JsCast;
use observatory_model::snapshot::Snapshot;

use crate::api::load_latest;
use crate::components::{
    error_panel::ErrorPanel, footer::Footer, loading::Loading, nav::Nav,
    simulated_banner::SimulatedBanner,
};
use crate::route::Route;
use crate::routes;

/// The current `location.hash`.
fn current_hash() -> String {
    window().location().hash().unwrap_or_default()
}

/// The root component.
#[component]
pub fn App() -> impl IntoView {
    let (hash, set_hash) = signal(current_hash());
    let handle = window_event_listener(leptos::ev::hashchange, move |_| {
        set_hash.set(current_hash());
        // A new page starts at its top, like a normal navigation.
        window().scroll_to_with_x_and_y(0.0, 0.0);
    });
    on_cleanup(move || handle.remove());
    let route = Memo::new(move |_| Route::parse(&hash.get()));
    let snapshot = LocalResource::new(load_latest);

    view! {
        <a class="skip" href="#main" on:click=|ev| {
            // The fragment is the router's: move focus without changing it.
            ev.prevent_default();
            if let Some(main) = document().get_element_by_id("main") {
                let _ = main.unchecked_into::<web_sys::HtmlElement>().focus();
            }
        }>"Skip to content"</a>
        <header class="site-header">
            <div class="wrap header-row">
                <a class="brand" href="#/">
                    <span class="brand-mark" aria-hidden="true"></span>
                    <span>"Electrum Observatory"</span>
                </a>
                <Nav route=route />
            </div>
        </header>
        // On every page, documentation included: simulated data is labelled wherever it could be read.
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                snapshot.await.ok().filter(|s| s.simulated).map(|_| view! { <SimulatedBanner /> })
            })}
        </Suspense>
        <main id="main" tabindex="-1" class="wrap">
            {move || {
                let route = route.get();
                if let Route::Doc(stem) = &route {
                    return view! { <routes::doc::DocPage stem=stem.clone() /> }.into_any();
                }
                view! {
                    <Suspense fallback=|| view! { <Loading what="snapshot" /> }>
                        <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors=errors /> }>
                            {
                                let route = route.clone();
                                move || {
                                    let route = route.clone();
                                    Suspend::new(async move {
                                        snapshot.await.map(|s| page(route, s))
                                    })
                                }
                            }
                        </ErrorBoundary>
                    </Suspense>
                }
                .into_any()
            }}
        </main>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                snapshot.await.ok().map(|s| view! { <Footer snapshot=s /> })
            })}
        </Suspense>
    }
}

/// The page for a route once the snapshot is loaded.
fn page(route: Route, snapshot: Arc<Snapshot>) -> AnyView {
    match route {
        Route::Overview => view! { <routes::overview::OverviewPage snapshot /> }.into_any(),
        Route::Map => view! { <routes::map::MapPage snapshot /> }.into_any(),
        Route::Centralization => {
            view! { <routes::centralization::CentralizationPage snapshot /> }.into_any()
        }
        Route::Clusters => view! { <routes::clusters::ClustersPage snapshot /> }.into_any(),
        Route::Ranking => view! { <routes::ranking::RankingPage snapshot /> }.into_any(),
        Route::Server(id) => view! { <routes::server::ServerPage snapshot id /> }.into_any(),
        Route::Privacy => view! { <routes::privacy::PrivacyPage snapshot /> }.into_any(),
        Route::Downloads => view! { <routes::downloads::DownloadsPage snapshot /> }.into_any(),
        Route::Doc(stem) => view! { <routes::doc::DocPage stem /> }.into_any(),
        Route::NotFound(path) => view! { <routes::not_found::NotFoundPage path /> }.into_any(),
    }
}
