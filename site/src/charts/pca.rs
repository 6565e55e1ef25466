//! Draws the PCA scatter: PC1 × PC2, points coloured by cluster.

use plotters::prelude::*;
use plotters_canvas::CanvasBackend;
use web_sys::HtmlCanvasElement;

use super::rgb;
use crate::shape::{cluster_color, PcaPoint};

/// Padded axis range around values (never empty).
fn range(values: impl Iterator<Item = f64>) -> std::ops::Range<f64> {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if !lo.is_finite() || !hi.is_finite() {
        return -1.0..1.0;
    }
    let pad = ((hi - lo) * 0.08).max(0.5);
    (lo - pad)..(hi + pad)
}

/// Draws the scatter; `explained` is the variance share of PC1 and PC2; `scale` the pixel ratio.
pub fn draw(
    canvas: HtmlCanvasElement,
    points: &[PcaPoint],
    explained: (f64, f64),
    scale: f64,
) -> Result<(), String> {
    let backend =
        CanvasBackend::with_canvas_object(canvas).ok_or("the canvas has no 2D context")?;
    let root = backend.into_drawing_area();
    let err = |e: DrawingAreaErrorKind<_>| e.to_string();
    root.fill(&WHITE).map_err(err)?;
    let px = |v: f64| (v * scale).round() as u32;
    let font = ("sans-serif", 13.0 * scale);
    let mut chart = ChartBuilder::on(&root)
        .margin(px(12.0))
        .x_label_area_size(px(40.0))
        .y_label_area_size(px(48.0))
        .build_cartesian_2d(
            range(points.iter().map(|p| p.x)),
            range(points.iter().map(|p| p.y)),
        )
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc(format!("PC1 ({:.0}% of variance)", explained.0 * 100.0))
        .y_desc(format!("PC2 ({:.0}%)", explained.1 * 100.0))
        .label_style(font)
        .axis_desc_style(font)
        .light_line_style(RGBColor(0xf0, 0xf0, 0xf0))
        .bold_line_style(RGBColor(0xdd, 0xdd, 0xdd))
        .draw()
        .map_err(err)?;
    let r = px(5.0);
    chart
        .draw_series(points.iter().map(|p| {
            Circle::new(
                (p.x, p.y),
                r,
                rgb(cluster_color(p.cluster)).mix(0.8).filled(),
            )
        }))
        .map_err(err)?;
    root.present().map_err(err)?;
    Ok(())
}
