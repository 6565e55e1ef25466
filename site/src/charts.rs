//! Canvas drawing with plotters-canvas (wasm32 only): the world map and the PCA scatter.

pub mod map;
pub mod pca;

use plotters::style::RGBColor;

/// `#rrggbb` → colour (black for anything else; inputs are our own constants).
pub fn rgb(hex: &str) -> RGBColor {
    let channel = |i: usize| {
        hex.get(i..i + 2)
            .and_then(|h| u8::from_str_radix(h, 16).ok())
            .unwrap_or(0)
    };
    RGBColor(channel(1), channel(3), channel(5))
}

/// Device pixel ratio, so canvases are crisp on high-density screens (capped: beyond 2 only costs memory).
pub fn pixel_ratio() -> f64 {
    leptos::prelude::window()
        .device_pixel_ratio()
        .clamp(1.0, 2.0)
}
