//! PCA scatter of the clustered servers, coloured by cluster (plotters-canvas).

use leptos::prelude::*;

use crate::charts::{pca, pixel_ratio};
use crate::shape::{cluster_color, PcaPoint};

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 420.0;

/// The scatter plus a colour legend (the legend is text, so the chart is not colour-only).
#[component]
pub fn PcaScatter(points: Signal<Vec<PcaPoint>>, explained: (f64, f64)) -> impl IntoView {
    let canvas_ref = NodeRef::<leptos::html::Canvas>::new();
    let scale = pixel_ratio();
    let (error, set_error) = signal(None::<String>);
    Effect::new(move |_| {
        let Some(canvas) = canvas_ref.get() else {
            return;
        };
        let pts = points.get();
        set_error.set(pca::draw(canvas, &pts, explained, scale).err());
    });
    let legend = move || {
        let mut ids: Vec<Option<u32>> = points.get().iter().map(|p| p.cluster).collect();
        ids.sort();
        ids.dedup();
        ids.into_iter()
            .map(|id| {
                let label = id.map_or_else(|| "noise".to_owned(), |c| format!("cluster #{c}"));
                view! {
                    <span class="legend-item">
                        <span class="dot" style=format!("background:{}", cluster_color(id))></span>{label}
                    </span>
                }
            })
            .collect_view()
    };
    view! {
        <figure class="chart">
            <canvas
                id="pca-scatter"
                node_ref=canvas_ref
                width=(WIDTH * scale).round().to_string()
                height=(HEIGHT * scale).round().to_string()
                role="img"
                aria-label="PCA projection of the clustered servers, coloured by cluster"
            ></canvas>
            <figcaption class="legend">{legend}</figcaption>
            {move || error.get().map(|e| view! { <p class="error">{e}</p> })}
        </figure>
    }
}
