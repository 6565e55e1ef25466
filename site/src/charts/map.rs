//! Draws the world map: ocean, countries, then server markers.

use plotters::prelude::*;
use plotters_canvas::CanvasBackend;
use web_sys::HtmlCanvasElement;

use crate::projection::{Viewport, MAX_LAT, MIN_LAT};
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
        points.push(vp.project(-180.0, MIN_LAT + (MAX_LAT - MIN_LAT) * i as f64 / steps as f64));
    }
    for i in 0..=steps {
        points.push(vp.project(180.0, MAX_LAT - (MAX_LAT - MIN_LAT) * i as f64 / steps as f64));
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
    let backend = CanvasBackend::with_canvas_object(canvas).ok_or("the canvas has no 2D context")?;
    let root = backend.into_drawing_area();
    let err = |e: DrawingAreaErrorKind<_>| e.to_string();
    root.fill(&WHITE).map_err(err)?;
    root.draw(&Polygon::new(world_outline(vp), OCEAN.filled())).map_err(err)?;
    for country in countries {
        for ring in &country.rings {
            let points: Vec<(i32, i32)> = ring.iter().map(|&(lon, lat)| pixel(vp.project(lon, lat))).collect();
            root.draw(&Polygon::new(points.clone(), LAND.filled())).map_err(err)?;
            root.draw(&PathElement::new(points, BORDER.stroke_width(line_width))).map_err(err)?;
        }
    }
    // Larger markers first so small ones stay visible on top.
    let mut order: Vec<&Marker> = markers.iter().collect();
    order.sort_by(|a, b| b.radius.total_cmp(&a.radius));
    for m in order {
        let centre = pixel((m.x, m.y));
        let r = m.radius.round().max(1.0) as u32;
        root.draw(&Circle::new(centre, r, m.color.mix(0.82).filled())).map_err(err)?;
        let (outline, width) = if m.emphasized { (BLACK, line_width * 3) } else { (WHITE, line_width) };
        root.draw(&Circle::new(centre, r, outline.stroke_width(width))).map_err(err)?;
    }
    root.present().map_err(err)?;
    Ok(())
}
