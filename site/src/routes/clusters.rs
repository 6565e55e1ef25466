//! Clusters: method picker, heatmap, PCA scatter, cluster cards, outliers.

use std::sync::Arc;

use leptos::prelude::*;
use observatory_model::snapshot::Snapshot;

use crate::components::{heatmap::Heatmap, pca_scatter::PcaScatter};
use crate::format::fixed;
use crate::route::Route;
use crate::shape::{cluster_color, cluster_set, heatmap, pca_points, server_by_id, METHODS};

/// Members listed per cluster card before "and N more".
const CARD_MEMBERS: usize = 12;

/// Clusters page.
#[component]
pub fn ClustersPage(snapshot: Arc<Snapshot>) -> impl IntoView {
    let method = RwSignal::new("kmeans");
    let snap = snapshot.clone();
    let points = Signal::derive(move || pca_points(&snap.servers, method.get()));
    let explained = snapshot.clusters.pca_explained;

    let snap_body = snapshot.clone();
    let body = move || {
        let m = method.get();
        let set = cluster_set(&snap_body.clusters, m).clone();
        let cards = set
            .clusters
            .iter()
            .map(|c| {
                let more = c.members.len().saturating_sub(CARD_MEMBERS);
                let members = c
                    .members
                    .iter()
                    .take(CARD_MEMBERS)
                    .map(|id| {
                        let host = server_by_id(&snap_body, id).map_or_else(|| id.clone(), |s| s.host.clone());
                        view! { <li><a href=Route::Server(id.clone()).href()>{host}</a></li> }
                    })
                    .collect_view();
                view! {
                    <article class="card cluster-card">
                        <h3>
                            <span class="dot" style=format!("background:{}", cluster_color(Some(c.id)))></span>
                            {format!("Cluster #{} · {} servers", c.id, c.members.len())}
                        </h3>
                        <p>{c.explanation.clone()}</p>
                        <ul class="members">{members}</ul>
                        {(more > 0).then(|| view! { <p class="muted small">{format!("and {more} more")}</p> })}
                    </article>
                }
            })
            .collect_view();
        view! {
            <p class="muted">
                {format!("Parameters: {}", set.parameters)}
                {set.silhouette.map(|s| format!(" · silhouette {}", fixed(s, 2)))}
                {format!(" · {} in no cluster", set.noise.len())}
            </p>
            <Heatmap data=heatmap(&snap_body.clusters, m) />
            <div class="card-grid">{cards}</div>
        }
    };

    let snap_out = snapshot.clone();
    view! {
        <h1>"Clusters"</h1>
        <p class="lead">
            {format!(
                "{} reachable servers were clustered on {} behavioural and infrastructure features. "
                , snapshot.clusters.servers_clustered, snapshot.clusters.features.len()
            )}
            "DBSCAN finds servers that behave identically, KMeans finds server types, hierarchical clustering finds probable operators."
        </p>
        <div class="segmented" role="group" aria-label="Clustering method">
            {METHODS
                .into_iter()
                .map(|(id, label)| view! {
                    <button type="button"
                        aria-pressed=move || if method.get() == id { "true" } else { "false" }
                        on:click=move |_| method.set(id)>{label}</button>
                })
                .collect_view()}
        </div>
        {body}
        <h2>"PCA projection"</h2>
        <PcaScatter points explained />
        <h2>"Features"</h2>
        <dl class="features">
            {snapshot.clusters.features.iter().map(|f| view! { <dt>{f.name.clone()}</dt><dd>{f.description.clone()}</dd> }).collect_view()}
        </dl>
        <h2>"Outliers"</h2>
        {if snap_out.clusters.outliers.is_empty() {
            view! { <p class="muted">"No outliers in this snapshot."</p> }.into_any()
        } else {
            view! {
                <div class="scroll-x"><table class="data" id="outliers">
                    <thead><tr><th scope="col">"Server"</th><th scope="col" class="num">"Distance (scaled MADs)"</th><th scope="col">"Why"</th></tr></thead>
                    <tbody>
                        {snap_out.clusters.outliers.iter().map(|o| {
                            let host = server_by_id(&snap_out, &o.server).map_or_else(|| o.server.clone(), |s| s.host.clone());
                            view! {
                                <tr>
                                    <td><a href=Route::Server(o.server.clone()).href()>{host}</a></td>
                                    <td class="num">{fixed(o.distance, 2)}</td>
                                    <td>{o.reasons.join("; ")}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table></div>
            }.into_any()
        }}
    }
}
