//! Draws the world map: ocean, countries, then server markers.

use leptos::wasm_bindgen::JsCast;
use plotters::prelude::*;
use plotters_canvas::CanvasBackend;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

use crate::projection::{antimeridian_copies, Viewport, MAX_LAT, MIN_LAT};
use crate::topo::Country;

const OCEAN: RGBColor = RGBColor(0xe8, 0xef, 0xf5);
const LAND: RGBColor = RGBColor(0xd5, 0xdb, 0xe1);
const BORDER: RGBColor = RGBColor(0xff, 0xff, 0xff);

/// One marker in canvas pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Marker {
    /// Centre x, canvas pixels.
    pub x: f64,
    /// Centre y, canvas pixels.
    pub y: f64,
    /// Radius, canvas pixels.
    pub radius: f64,
    /// Fill colour.
    pub color: RGBColor,
    /// Drawn with a heavy outline (hovered or selected).
    pub emphasized: bool,
}

fn pixel((x, y): (f64, f64)) -> (i32, i32) {
    // Canvas coordinates are a few thousand pixels at most.
    (x.round() as i32, y.round() as i32)
}

/// The projected outline of the drawn world (for the ocean fill).
fn world_outline(vp: &Viewport) -> Vec<(i32, i32)> {
    let steps = 60;
    let mut points = Vec::with_capacity(4 * steps);
    for i in 0..=steps {
        points.push(vp.project(
            -180.0,
            MIN_LAT + (MAX_LAT - MIN_LAT) * i as f64 / steps as f64,
        ));
    }
    for i in 0..=steps {
        points.push(vp.project(
            180.0,
            MAX_LAT - (MAX_LAT - MIN_LAT) * i as f64 / steps as f64,
        ));
    }
    points.into_iter().map(pixel).collect()
}

/// Draws everything; errors are the canvas backend's, as text.
pub fn draw(
    canvas: HtmlCanvasElement,
    countries: &[Country],
    markers: &[Marker],
    vp: &Viewport,
    line_width: u32,
) -> Result<(), String> {
    let context: CanvasRenderingContext2d = canvas
        .get_context("2d")
        .ok()
        .flatten()
        .and_then(|c| c.dyn_into().ok())
        .ok_or("the canvas has no 2D context")?;
    let backend =
        CanvasBackend::with_canvas_object(canvas).ok_or("the canvas has no 2D context")?;
    let root = backend.into_drawing_area();
    let err = |e: DrawingAreaErrorKind<_>| e.to_string();
    root.fill(&WHITE).map_err(err)?;
    let outline = world_outline(vp);
    root.draw(&Polygon::new(outline.clone(), OCEAN.filled()))
        .map_err(err)?;
    // Land is clipped to the world's outline: the halves of rings that cross
    // the antimeridian are drawn on both sides and each shows only its part.
    // plotters draws straight onto this context, so the clip applies to it.
    context.save();
    context.begin_path();
    for (i, &(x, y)) in outline.iter().enumerate() {
        if i == 0 {
            context.move_to(f64::from(x), f64::from(y));
        } else {
            context.line_to(f64::from(x), f64::from(y));
        }
    }
    context.close_path();
    context.clip();
    for country in countries {
        for ring in country.rings.iter().flat_map(|r| antimeridian_copies(r)) {
            let points: Vec<(i32, i32)> = ring
                .iter()
                .map(|&(lon, lat)| pixel(vp.project(lon, lat)))
                .collect();
            root.draw(&Polygon::new(points.clone(), LAND.filled()))
                .map_err(err)?;
            root.draw(&PathElement::new(points, BORDER.stroke_width(line_width)))
                .map_err(err)?;
        }
    }
    context.restore();
    // Larger markers first so small ones stay visible on top.
    let mut order: Vec<&Marker> = markers.iter().collect();
    order.sort_by(|a, b| b.radius.total_cmp(&a.radius));
    for m in order {
        let centre = pixel((m.x, m.y));
        let r = m.radius.round().max(1.0) as u32;
        root.draw(&Circle::new(centre, r, m.color.mix(0.82).filled()))
            .map_err(err)?;
        let (outline, width) = if m.emphasized {
            (BLACK, line_width * 3)
        } else {
            (WHITE, line_width)
        };
        root.draw(&Circle::new(centre, r, outline.stroke_width(width)))
            .map_err(err)?;
    }
    root.present().map_err(err)?;
    Ok(())
}
