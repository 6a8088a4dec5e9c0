//! Reading polygons out of GeoJSON text (a district outline, street or community polygons).
//! Accepts a FeatureCollection, a single Feature, or a bare Polygon/MultiPolygon geometry.

use geo::MultiPolygon;
use geojson::{GeoJson, GeometryValue, JsonObject};

/// The polygonal features of a GeoJSON text, each with its properties. Features without a
/// geometry, or with a non-polygonal one, are refused (naming the feature).
pub fn features(text: &str) -> Result<Vec<(JsonObject, MultiPolygon<f64>)>, String> {
    let parsed: GeoJson = text.parse().map_err(|e| format!("not valid GeoJSON: {e}"))?;
    let list: Vec<(JsonObject, Option<geojson::Geometry>)> = match parsed {
        GeoJson::FeatureCollection(fc) => {
            fc.features.into_iter().map(|f| (f.properties.unwrap_or_default(), f.geometry)).collect()
        }
        GeoJson::Feature(f) => vec![(f.properties.unwrap_or_default(), f.geometry)],
        GeoJson::Geometry(g) => vec![(JsonObject::new(), Some(g))],
    };
    if list.is_empty() {
        return Err("the GeoJSON has no features".into());
    }
    list.into_iter()
        .enumerate()
        .map(|(n, (props, geometry))| {
            let label = || {
                props
                    .get("name")
                    .and_then(|v| v.as_str())
                    .map_or_else(|| format!("feature {}", n + 1), |name| format!("feature {} ({name})", n + 1))
            };
            let geometry = geometry.ok_or_else(|| format!("{} has no geometry", label()))?;
            let shape = match &geometry.value {
                GeometryValue::MultiPolygon { .. } => MultiPolygon::<f64>::try_from(&geometry.value),
                GeometryValue::Polygon { .. } => {
                    geo::Polygon::<f64>::try_from(&geometry.value).map(|p| MultiPolygon::new(vec![p]))
                }
                other => {
                    return Err(format!("{} is a {}, not a Polygon or MultiPolygon", label(), other.type_name()));
                }
            }
            .map_err(|e| format!("{}: {e}", label()))?;
            check_finite(&shape).map_err(|e| format!("{}: {e}", label()))?;
            Ok((props, shape))
        })
        .collect()
}

/// The union of every polygon in a GeoJSON text, as one outline.
pub fn outline(text: &str) -> Result<MultiPolygon<f64>, String> {
    let polygons: Vec<geo::Polygon<f64>> = features(text)?.into_iter().flat_map(|(_, mp)| mp.0).collect();
    Ok(MultiPolygon::new(polygons))
}

fn check_finite(shape: &MultiPolygon<f64>) -> Result<(), String> {
    use geo::CoordsIter;
    if shape.0.is_empty() {
        return Err("empty polygon".into());
    }
    for c in shape.coords_iter() {
        crate::error::check_coordinate(c.x, c.y).map_err(|e| e.to_string())?;
    }
    Ok(())
}
