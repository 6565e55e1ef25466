//! TopoJSON decoding: the world map's country outlines.
//!
//! The site ships `data/geo/countries-110m.json` (world-atlas, Natural Earth
//! 110m). TopoJSON stores shared borders once as *arcs*; a quantized file
//! delta-encodes each arc's points as integers and gives a `transform`
//! (scale, translate) back to degrees. A polygon ring lists arc indices; a
//! negative index `!i` (i.e. `-i - 1`) means arc `i` reversed. Consecutive arcs
//! share their junction point, which is dropped from all but the first.
//!
//! [`decode_countries`] turns the file into [`Country`] rings in
//! longitude/latitude degrees, ready for [`crate::projection`].

use serde::Deserialize;

/// Upper bound on arcs and on points per arc: the bundled file has 595 arcs;
/// a larger one is not the file we ship, and bounding it keeps a corrupted
/// download from making the page allocate without limit.
pub const MAX_ARCS: usize = 100_000;

/// Upper bound on the total number of decoded points (the 110m file has ~20k).
pub const MAX_POINTS: usize = 2_000_000;

/// Why a TopoJSON document could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum TopoError {
    /// Not valid JSON or not the expected shape.
    #[error("TopoJSON parse error: {0}")]
    Json(#[from] serde_json::Error),
    /// The named object is missing.
    #[error("TopoJSON has no object named {0:?}")]
    MissingObject(String),
    /// A ring references an arc that does not exist.
    #[error("TopoJSON ring references arc {0}, which does not exist")]
    BadArc(i64),
    /// More arcs or points than the limits allow.
    #[error("TopoJSON exceeds the size limits")]
    TooLarge,
}

/// One country: its name and outline rings (outer rings and holes alike;
/// the map fills with the even-odd rule, so holes stay holes).
#[derive(Debug, Clone, PartialEq)]
pub struct Country {
    /// Natural Earth `name` property (`""` when absent).
    pub name: String,
    /// ISO 3166-1 numeric id when present.
    pub id: Option<String>,
    /// Rings of `(lon, lat)` degrees.
    pub rings: Vec<Vec<(f64, f64)>>,
}

#[derive(Debug, Deserialize)]
struct Topology {
    #[serde(default)]
    transform: Option<Transform>,
    arcs: Vec<Vec<Vec<f64>>>,
    objects: std::collections::BTreeMap<String, GeometryCollection>,
}

#[derive(Debug, Deserialize)]
struct Transform {
    scale: (f64, f64),
    translate: (f64, f64),
}

#[derive(Debug, Deserialize)]
struct GeometryCollection {
    #[serde(default)]
    geometries: Vec<Geometry>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type")]
enum Geometry {
    Polygon {
        arcs: Vec<Vec<i64>>,
        #[serde(default)]
        id: Option<serde_json::Value>,
        #[serde(default)]
        properties: Option<Properties>,
    },
    MultiPolygon {
        arcs: Vec<Vec<Vec<i64>>>,
        #[serde(default)]
        id: Option<serde_json::Value>,
        #[serde(default)]
        properties: Option<Properties>,
    },
    /// Points, lines and null geometries carry no area to draw.
    #[serde(other)]
    Other,
}

#[derive(Debug, Default, Deserialize)]
struct Properties {
    #[serde(default)]
    name: Option<String>,
}

/// Decodes the geometry collection `object` (e.g. `"countries"`) of a TopoJSON text.
pub fn decode_countries(text: &str, object: &str) -> Result<Vec<Country>, TopoError> {
    let topo: Topology = serde_json::from_str(text)?;
    if topo.arcs.len() > MAX_ARCS {
        return Err(TopoError::TooLarge);
    }
    let arcs = decode_arcs(&topo.arcs, topo.transform.as_ref())?;
    let collection = topo
        .objects
        .get(object)
        .ok_or_else(|| TopoError::MissingObject(object.to_owned()))?;
    let mut countries = Vec::with_capacity(collection.geometries.len());
    for geometry in &collection.geometries {
        let (polygons, id, properties) = match geometry {
            Geometry::Polygon {
                arcs,
                id,
                properties,
            } => (vec![arcs.clone()], id, properties),
            Geometry::MultiPolygon {
                arcs,
                id,
                properties,
            } => (arcs.clone(), id, properties),
            Geometry::Other => continue,
        };
        let mut rings = Vec::new();
        for polygon in &polygons {
            for ring in polygon {
                rings.push(stitch_ring(&arcs, ring)?);
            }
        }
        countries.push(Country {
            name: properties
                .as_ref()
                .and_then(|p| p.name.clone())
                .unwrap_or_default(),
            id: id.as_ref().map(|v| match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            }),
            rings,
        });
    }
    Ok(countries)
}

/// Turns every arc into absolute degrees: undo the delta encoding (only when
/// the file is quantized, i.e. has a transform) and apply scale + translate.
fn decode_arcs(
    raw: &[Vec<Vec<f64>>],
    transform: Option<&Transform>,
) -> Result<Vec<Vec<(f64, f64)>>, TopoError> {
    let mut total = 0usize;
    let mut arcs = Vec::with_capacity(raw.len());
    for arc in raw {
        total = total.saturating_add(arc.len());
        if total > MAX_POINTS {
            return Err(TopoError::TooLarge);
        }
        let mut points = Vec::with_capacity(arc.len());
        let (mut x, mut y) = (0.0, 0.0);
        for position in arc {
            let (Some(&px), Some(&py)) = (position.first(), position.get(1)) else {
                continue;
            };
            match transform {
                Some(t) => {
                    x += px;
                    y += py;
                    points.push((x * t.scale.0 + t.translate.0, y * t.scale.1 + t.translate.1));
                }
                None => points.push((px, py)),
            }
        }
        arcs.push(points);
    }
    Ok(arcs)
}

/// Concatenates a ring's arcs, reversing negative references and dropping
/// each following arc's first point (it repeats the previous arc's last).
fn stitch_ring(arcs: &[Vec<(f64, f64)>], ring: &[i64]) -> Result<Vec<(f64, f64)>, TopoError> {
    let mut points: Vec<(f64, f64)> = Vec::new();
    for &index in ring {
        let (arc_index, reversed) = if index < 0 {
            (!index, true)
        } else {
            (index, false)
        };
        let arc = usize::try_from(arc_index)
            .ok()
            .and_then(|i| arcs.get(i))
            .ok_or(TopoError::BadArc(index))?;
        let skip = usize::from(!points.is_empty());
        if reversed {
            points.extend(arc.iter().rev().skip(skip).copied());
        } else {
            points.extend(arc.iter().skip(skip).copied());
        }
    }
    Ok(points)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two arcs forming a unit square, quantized with scale 1 and a translate.
    const SQUARE: &str = r#"{
        "type": "Topology",
        "transform": {"scale": [1, 1], "translate": [10, 20]},
        "arcs": [[[0, 0], [1, 0], [0, 1]], [[0, 0], [-1, 0], [0, -1]]],
        "objects": {"countries": {"type": "GeometryCollection", "geometries": [
            {"type": "Polygon", "arcs": [[0, 1]], "id": "001", "properties": {"name": "Square"}},
            {"type": "MultiPolygon", "arcs": [[[-1]]], "properties": {"name": "Reversed"}},
            {"type": "Point", "coordinates": [0, 0]}
        ]}}
    }"#;

    #[test]
    fn decodes_delta_encoded_arcs_and_stitches_rings() {
        let countries = decode_countries(SQUARE, "countries").unwrap();
        assert_eq!(countries.len(), 2, "points are skipped");
        let square = &countries[0];
        assert_eq!(square.name, "Square");
        assert_eq!(square.id.as_deref(), Some("001"));
        // arc 0: (10,20) (11,20) (11,21); arc 1 starts at (0,0) => (10,20) (9,20) (9,19)
        // as raw deltas; the junction point of arc 1 is dropped.
        assert_eq!(
            square.rings,
            vec![vec![
                (10.0, 20.0),
                (11.0, 20.0),
                (11.0, 21.0),
                (9.0, 20.0),
                (9.0, 19.0)
            ]]
        );
    }

    #[test]
    fn negative_index_means_reversed_arc() {
        let countries = decode_countries(SQUARE, "countries").unwrap();
        assert_eq!(
            countries[1].rings,
            vec![vec![(11.0, 21.0), (11.0, 20.0), (10.0, 20.0)]]
        );
    }

    #[test]
    fn rejects_missing_object_and_bad_arc() {
        assert!(matches!(
            decode_countries(SQUARE, "land"),
            Err(TopoError::MissingObject(_))
        ));
        let bad = SQUARE.replace("[[0, 1]]", "[[0, 7]]");
        assert!(matches!(
            decode_countries(&bad, "countries"),
            Err(TopoError::BadArc(7))
        ));
        assert!(decode_countries("{", "countries").is_err());
    }

    #[test]
    fn decodes_the_bundled_world_file() {
        let text = include_str!("../../data/geo/countries-110m.json");
        let countries = decode_countries(text, "countries").unwrap();
        assert_eq!(countries.len(), 177);
        let germany = countries.iter().find(|c| c.name == "Germany").unwrap();
        let (lon, lat) = germany.rings[0][0];
        assert!(
            (5.0..16.0).contains(&lon) && (47.0..56.0).contains(&lat),
            "{lon},{lat}"
        );
        for country in &countries {
            for ring in &country.rings {
                for &(lon, lat) in ring {
                    assert!((-180.0..=180.0).contains(&lon) && (-90.0..=90.0).contains(&lat));
                }
            }
        }
    }
}
