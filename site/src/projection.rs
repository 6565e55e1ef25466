//! Map projection: Equal Earth (Šavrič, Patterson, Jenny 2018).
//!
//! Equal-area, so a region's share of the map matches its share of land, which
//! matters when the map's point is "where is the network concentrated". The
//! forward formula is closed-form and cheap; [`Viewport`] then fits the
//! projected world into a canvas of given pixel size.

const A1: f64 = 1.340_264;
const A2: f64 = -0.081_106;
const A3: f64 = 0.000_893;
const A4: f64 = 0.003_796;

/// Southernmost latitude drawn: Antarctica would take a fifth of the height and
/// hosts no servers.
pub const MIN_LAT: f64 = -58.0;
/// Northernmost latitude drawn.
pub const MAX_LAT: f64 = 84.0;

/// Projects `(lon, lat)` degrees to Equal Earth plane units (x in about ±2.7, y in about ±1.3).
pub fn equal_earth(lon: f64, lat: f64) -> (f64, f64) {
    let lambda = lon.clamp(-180.0, 180.0).to_radians();
    let phi = lat.clamp(-90.0, 90.0).to_radians();
    let theta = ((3f64.sqrt() / 2.0) * phi.sin()).asin();
    let t2 = theta * theta;
    let t6 = t2 * t2 * t2;
    let x = 2.0 * 3f64.sqrt() * lambda * theta.cos()
        / (3.0 * (9.0 * A4 * t6 * t2 + 7.0 * A3 * t6 + 3.0 * A2 * t2 + A1));
    let y = theta * (A1 + A2 * t2 + t6 * (A3 + A4 * t2));
    (x, y)
}

/// Fits the projected world (longitudes ±180, latitudes [`MIN_LAT`]..[`MAX_LAT`]) into a canvas.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Viewport {
    scale: f64,
    offset_x: f64,
    offset_y: f64,
    y_top: f64,
}

impl Viewport {
    /// A viewport for a `width` × `height` pixel canvas with `margin` pixels around the world.
    pub fn fit(width: f64, height: f64, margin: f64) -> Viewport {
        let (x_max, _) = equal_earth(180.0, 0.0);
        let (_, y_top) = equal_earth(0.0, MAX_LAT);
        let (_, y_bottom) = equal_earth(0.0, MIN_LAT);
        let world_w = 2.0 * x_max;
        let world_h = y_top - y_bottom;
        let scale = ((width - 2.0 * margin) / world_w).min((height - 2.0 * margin) / world_h);
        Viewport {
            scale,
            offset_x: width / 2.0,
            offset_y: (height - world_h * scale) / 2.0,
            y_top,
        }
    }

    /// Canvas pixel of `(lon, lat)` (y grows downwards).
    pub fn project(&self, lon: f64, lat: f64) -> (f64, f64) {
        let (x, y) = equal_earth(lon, lat.clamp(MIN_LAT, MAX_LAT));
        (
            self.offset_x + x * self.scale,
            self.offset_y + (self.y_top - y) * self.scale,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_maps_to_origin_and_is_symmetric() {
        assert_eq!(equal_earth(0.0, 0.0), (0.0, 0.0));
        let (x1, y1) = equal_earth(30.0, 45.0);
        let (x2, y2) = equal_earth(-30.0, -45.0);
        assert!((x1 + x2).abs() < 1e-12 && (y1 + y2).abs() < 1e-12);
    }

    #[test]
    fn known_extent_matches_the_published_projection() {
        // Equal Earth: x at the equator's end is about 2.7064, pole y about 1.3173.
        let (x, _) = equal_earth(180.0, 0.0);
        let (_, y) = equal_earth(0.0, 90.0);
        assert!((x - 2.7064).abs() < 1e-3, "{x}");
        assert!((y - 1.3173).abs() < 1e-3, "{y}");
    }

    #[test]
    fn viewport_keeps_the_world_inside_the_canvas() {
        let vp = Viewport::fit(1000.0, 500.0, 10.0);
        for (lon, lat) in [(-180.0, MAX_LAT), (180.0, MIN_LAT), (0.0, 0.0), (180.0, 0.0), (-180.0, 0.0)] {
            let (x, y) = vp.project(lon, lat);
            assert!((9.0..=991.0).contains(&x) && (9.0..=491.0).contains(&y), "{lon},{lat} -> {x},{y}");
        }
        // North is up.
        assert!(vp.project(0.0, 60.0).1 < vp.project(0.0, -30.0).1);
    }
}
