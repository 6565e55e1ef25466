//! Centralization: one bar chart per dimension and the index table.

use std::sync::Arc;

use leptos::prelude::*;
use observatory_model::snapshot::Snapshot;

use crate::components::bar_chart::BarChart;
use crate::format::{fixed, thousands};
use crate::shape::{bars, MAX_BARS};

/// Centralization page.
#[component]
pub fn CentralizationPage(snapshot: Arc<Snapshot>) -> impl IntoView {
    let dims = snapshot.centralization.clone();
    view! {
        <h1>"Centralization"</h1>
        <p class="lead">
            "How concentrated the servers are along each dimension. HHI is the sum of squared shares (0–1; "
            "×10,000 gives the antitrust scale, above 2,500 is highly concentrated). The Nakamoto coefficient is the "
            "fewest buckets that together hold more than half of the servers. Gini 0 means every bucket is the same size; "
            "normalized entropy 1 means perfectly even."
        </p>
        <div class="scroll-x">
            <table class="data" id="indices">
                <caption>"Concentration indices by dimension"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Dimension"</th>
                        <th scope="col" class="num">"Servers"</th>
                        <th scope="col" class="num">"Unknown"</th>
                        <th scope="col" class="num">"Buckets"</th>
                        <th scope="col" class="num">"HHI"</th>
                        <th scope="col" class="num">"HHI ×10k"</th>
                        <th scope="col" class="num">"Nakamoto"</th>
                        <th scope="col" class="num">"Gini"</th>
                        <th scope="col" class="num">"Entropy (bits)"</th>
                        <th scope="col" class="num">"Normalized"</th>
                    </tr>
                </thead>
                <tbody>
                    {dims
                        .iter()
                        .map(|d| view! {
                            <tr>
                                <th scope="row">{d.title.clone()}</th>
                                <td class="num">{thousands(d.total)}</td>
                                <td class="num">{thousands(d.unknown)}</td>
                                <td class="num">{thousands(d.buckets.len() as u64)}</td>
                                <td class="num">{fixed(d.hhi, 3)}</td>
                                <td class="num">{fixed(d.hhi * 10_000.0, 0)}</td>
                                <td class="num">{d.nakamoto}</td>
                                <td class="num">{fixed(d.gini, 2)}</td>
                                <td class="num">{fixed(d.entropy_bits, 2)}</td>
                                <td class="num">{fixed(d.entropy_normalized, 2)}</td>
                            </tr>
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
        <div class="chart-grid">
            {dims
                .into_iter()
                .map(|d| {
                    let note = format!(
                        "{} servers with a value, {} unknown · Nakamoto {} · HHI {}",
                        thousands(d.total), thousands(d.unknown), d.nakamoto, fixed(d.hhi * 10_000.0, 0)
                    );
                    let b = bars(&d, MAX_BARS);
                    view! {
                        <section class="card" id=format!("dim-{}", d.id)>
                            <h2>{d.title.clone()}</h2>
                            <p class="muted small">{note}</p>
                            {if b.is_empty() {
                                view! { <p class="muted">"No data."</p> }.into_any()
                            } else {
                                view! { <BarChart bars=b caption=d.title.clone() /> }.into_any()
                            }}
                        </section>
                    }
                })
                .collect_view()}
        </div>
    }
}
