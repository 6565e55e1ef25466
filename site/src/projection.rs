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

/// Longitudes beyond ±180 are projected as they are (outside the world's
/// outline, where the map clips them) up to this bound: the copies of
/// antimeridian-crossing rings from [`antimeridian_copies`] reach ±540.
const MAX_ABS_LON: f64 = 540.0;

/// Projects `(lon, lat)` degrees to Equal Earth plane units (x in about ±2.7, y in about ±1.3).
pub fn equal_earth(lon: f64, lat: f64) -> (f64, f64) {
    let lambda = lon.clamp(-MAX_ABS_LON, MAX_ABS_LON).to_radians();
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

/// A ring as it must be drawn so that crossing the antimeridian (Fiji, Russia's
/// Chukotka) does not streak a line across the whole map.
///
/// A ring whose consecutive points jump by more than 180° of longitude crosses
/// ±180. It is unwrapped into one continuous ring (reaching past ±180) and
/// returned twice: as is and shifted by 360° to the other side; drawn with the
/// map clipped to the world's outline, each copy shows its own half. Rings
/// that do not cross come back unchanged, alone.
pub fn antimeridian_copies(ring: &[(f64, f64)]) -> Vec<Vec<(f64, f64)>> {
    let crosses = ring
        .windows(2)
        .any(|w| matches!(w, [a, b] if (a.0 - b.0).abs() > 180.0));
    if !crosses {
        return vec![ring.to_vec()];
    }
    let mut unwrapped: Vec<(f64, f64)> = Vec::with_capacity(ring.len());
    let mut shift = 0.0;
    let mut previous: Option<f64> = None;
    for &(lon, lat) in ring {
        if let Some(prev) = previous {
            if lon - prev > 180.0 {
                shift -= 360.0;
            } else if prev - lon > 180.0 {
                shift += 360.0;
            }
        }
        previous = Some(lon);
        unwrapped.push((lon + shift, lat));
    }
    let max = unwrapped
        .iter()
        .map(|p| p.0)
        .fold(f64::NEG_INFINITY, f64::max);
    let other_side = if max > 180.0 { -360.0 } else { 360.0 };
    let copy = unwrapped
        .iter()
        .map(|&(lon, lat)| (lon + other_side, lat))
        .collect();
    vec![unwrapped, copy]
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
    fn antimeridian_rings_are_unwrapped_and_copied() {
        // Does not cross: unchanged.
        let plain = vec![(10.0, 0.0), (20.0, 0.0), (20.0, 10.0)];
        assert_eq!(antimeridian_copies(&plain), vec![plain.clone()]);
        // Crosses eastwards at 180 (like Chukotka): continuous past 180, plus a copy 360° west.
        let ring = vec![
            (170.0, 65.0),
            (180.0, 66.0),
            (-175.0, 66.0),
            (-175.0, 64.0),
            (179.0, 64.0),
        ];
        let copies = antimeridian_copies(&ring);
        assert_eq!(copies.len(), 2);
        assert_eq!(
            copies[0],
            vec![
                (170.0, 65.0),
                (180.0, 66.0),
                (185.0, 66.0),
                (185.0, 64.0),
                (179.0, 64.0)
            ]
        );
        assert_eq!(copies[1][2], (-175.0, 66.0));
        for w in copies[0].windows(2) {
            assert!((w[0].0 - w[1].0).abs() <= 180.0, "{w:?}");
        }
        // Starting west of the line: the copy goes 360° east.
        let west = vec![(-179.0, -16.0), (179.0, -16.5), (-179.5, -17.0)];
        let copies = antimeridian_copies(&west);
        assert_eq!(
            copies[0],
            vec![(-179.0, -16.0), (-181.0, -16.5), (-179.5, -17.0)]
        );
        assert_eq!(copies[1][1], (179.0, -16.5));
    }

    #[test]
    fn viewport_keeps_the_world_inside_the_canvas() {
        let vp = Viewport::fit(1000.0, 500.0, 10.0);
        for (lon, lat) in [
            (-180.0, MAX_LAT),
            (180.0, MIN_LAT),
            (0.0, 0.0),
            (180.0, 0.0),
            (-180.0, 0.0),
        ] {
            let (x, y) = vp.project(lon, lat);
            assert!(
                (9.0..=991.0).contains(&x) && (9.0..=491.0).contains(&y),
                "{lon},{lat} -> {x},{y}"
            );
        }
        // North is up.
        assert!(vp.project(0.0, 60.0).1 < vp.project(0.0, -30.0).1);
    }
}
