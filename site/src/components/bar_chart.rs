//! Horizontal bar chart in HTML: readable text labels, screen-reader friendly,
//! crisp at any zoom and phone width.

use leptos::prelude::*;

use crate::format::{percent, thousands};
use crate::shape::Bar;

/// Widest bar, percent of its cell (the rest holds the share label).
const BAR_SPAN: f64 = 72.0;

/// Bars with label, count and share.
#[component]
pub fn BarChart(bars: Vec<Bar>, #[prop(into)] caption: String) -> impl IntoView {
    let max = bars
        .iter()
        .map(|b| b.share)
        .fold(0.0_f64, f64::max)
        .max(1e-9);
    view! {
        <table class="bars">
            <caption class="sr-only">{caption}</caption>
            <thead class="sr-only">
                <tr><th scope="col">"Bucket"</th><th scope="col">"Share"</th><th scope="col">"Servers"</th></tr>
            </thead>
            <tbody>
                {bars
                    .into_iter()
                    .map(|b| {
                        let title = b.label.clone();
                        // The longest bar leaves room for its share label on the same line.
                        let width = format!("width: {:.1}%", (b.share / max * BAR_SPAN).clamp(0.0, BAR_SPAN));
                        view! {
                            <tr class:other=b.other>
                                <th scope="row" class="bar-label" title=title>{b.label}</th>
                                <td class="bar-cell">
                                    <span class="bar" style=width></span>
                                    <span class="bar-share">{percent(b.share)}</span>
                                </td>
                                <td class="num">{thousands(b.count)}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}
