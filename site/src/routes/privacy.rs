//! Privacy: the measured risk metrics and the recommendations resting on them.

use std::sync::Arc;

use leptos::prelude::*;
use observatory_model::snapshot::Snapshot;

use crate::format::with_unit;

const AUDIENCES: [(&str, &str); 2] = [
    ("users", "For wallet users"),
    ("wallet-developers", "For wallet developers"),
];

/// Privacy page.
#[component]
pub fn PrivacyPage(snapshot: Arc<Snapshot>) -> impl IntoView {
    let p = snapshot.privacy.clone();
    let metric_label = |id: &str| {
        p.metrics.iter().find(|m| m.id == id).map_or_else(
            || id.to_owned(),
            |m| format!("{}: {}", m.label, with_unit(m.value, &m.unit)),
        )
    };
    let sections = AUDIENCES
        .iter()
        .map(|(audience, title)| {
            let recs: Vec<_> = p.recommendations.iter().filter(|r| r.audience == *audience).collect();
            let items = recs
                .iter()
                .map(|r| view! {
                    <li>
                        <p>{r.text.clone()}</p>
                        <p class="muted small">{format!("Based on: {}", r.based_on.iter().map(|b| metric_label(b)).collect::<Vec<_>>().join("; "))}</p>
                    </li>
                })
                .collect_view();
            view! {
                <section class="card">
                    <h2>{*title}</h2>
                    {if recs.is_empty() { Some(view! { <p class="muted">"None in this snapshot."</p> }) } else { None }}
                    <ul class="recs">{items}</ul>
                </section>
            }
        })
        .collect_view();
    view! {
        <h1>"Privacy risk"</h1>
        <p class="lead">
            "An Electrum server learns every address a wallet asks about and the IP it asks from. These numbers say how "
            "much of the network a single operator, network or country can see, and how many servers make it worse."
        </p>
        <div class="scroll-x"><table class="data" id="privacy-metrics">
            <thead><tr><th scope="col">"Metric"</th><th scope="col" class="num">"Value"</th><th scope="col">"How it was computed"</th></tr></thead>
            <tbody>
                {snapshot.privacy.metrics.iter().map(|m| view! {
                    <tr>
                        <th scope="row">{m.label.clone()}</th>
                        <td class="num">{with_unit(m.value, &m.unit)}</td>
                        <td class="small">{m.detail.clone()}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table></div>
        <div class="two-col">{sections}</div>
        <p>
            <a href="#/docs/privacy">"Privacy risk assessment"</a> " · " <a href="#/docs/threat-model">"Threat model"</a>
            " · " <a href="#/docs/ethics">"Ethics: what the observatory measures and never does"</a>
        </p>
    }
}
