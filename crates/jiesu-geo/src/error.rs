//! The one error type of the crate: every variant says what is wrong and where.

/// Why a gazetteer, a grid or a lookup failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GeoError {
    /// A row of the gazetteer file is wrong.
    #[error("gazetteer, line {line}: {message}")]
    Gazetteer {
        /// 1-based line number in the file, comment lines included.
        line: usize,
        /// What is wrong, naming the value.
        message: String,
    },
    /// The district outline (GeoJSON) cannot be used.
    #[error("outline: {0}")]
    Outline(String),
    /// The street/community polygons (GeoJSON) cannot be used.
    #[error("area polygons: {0}")]
    Areas(String),
    /// A coordinate is not a number or out of range.
    #[error("bad coordinate (lon {lon}, lat {lat}): {reason}")]
    Coordinate {
        /// Longitude as given.
        lon: f64,
        /// Latitude as given.
        lat: f64,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The grid cannot be built as asked.
    #[error("grid: {0}")]
    Grid(String),
}

/// Checks that a (longitude, latitude) pair is a real position on Earth.
pub fn check_coordinate(lon: f64, lat: f64) -> Result<(), GeoError> {
    let bad = |reason| Err(GeoError::Coordinate { lon, lat, reason });
    if !lon.is_finite() || !lat.is_finite() {
        return bad("not a finite number");
    }
    if !(-180.0..=180.0).contains(&lon) {
        return bad("longitude must be within -180..180");
    }
    if !(-90.0..=90.0).contains(&lat) {
        return bad("latitude must be within -90..90");
    }
    Ok(())
}
