//! Cluster × feature heatmap as an HTML table: every cell carries its value as text.

use leptos::prelude::*;

use crate::format::fixed;
use crate::shape::{heat_color, Heatmap as HeatmapData};

/// The heatmap table (diverging colours; values in standard deviations).
#[component]
pub fn Heatmap(data: HeatmapData) -> impl IntoView {
    let max_abs = data.max_abs;
    view! {
        <div class="scroll-x">
            <table class="heatmap">
                <caption>"Mean standardized feature value per cluster (blue below average, red above)"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Cluster"</th>
                        {data.columns.iter().map(|c| view! { <th scope="col" class="rot"><span>{c.clone()}</span></th> }).collect_view()}
                    </tr>
                </thead>
                <tbody>
                    {data
                        .rows
                        .into_iter()
                        .map(|row| view! {
                            <tr>
                                <th scope="row">{format!("#{} ({} servers)", row.cluster, row.size)}</th>
                                {row
                                    .cells
                                    .into_iter()
                                    .map(|cell| match cell {
                                        Some(v) => {
                                            let (r, g, b) = heat_color(v, max_abs);
                                            let dark = v.abs() / max_abs > 0.6;
                                            let style = format!("background: rgb({r},{g},{b}); color: {}", if dark { "#fff" } else { "#111" });
                                            view! { <td class="heat" style=style>{fixed(v, 2)}</td> }.into_any()
                                        }
                                        None => view! { <td class="heat empty">"–"</td> }.into_any(),
                                    })
                                    .collect_view()}
                            </tr>
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}
