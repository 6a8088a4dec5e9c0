//! Street and community areas: which street (街道) and community (社区) a position belongs to.
//!
//! No street or community polygons of Dongcheng are public, so by default the areas are
//! **approximate**: a position belongs to the street of the nearest *seed* (a gazetteer point
//! whose street is known: communities, landmarks, hutongs, street centres), and to the nearest
//! community seed *of that street*, so that a community always lies in its own street. Borders
//! drawn this way are Voronoi lines between seeds, not the real ones (which follow roads and
//! walls); every answer built on them carries [`AreaPrecision::Approximate`].
//!
//! A district that has real polygons loads them with [`Areas::with_polygons`] (a GeoJSON
//! FeatureCollection whose features carry the 9-digit street or 12-digit community code, or the
//! name, in a `code`/`adcode`/`name` property); positions inside them are then
//! [`AreaPrecision::Surveyed`], and seeds remain only as the fallback for gaps.

use geo::{Contains, MultiPolygon, Point};
use jiesu_domain::catalog::{Community, Street};
use serde::Serialize;

use crate::LonLat;
use crate::error::GeoError;

/// How far an area assignment can be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AreaPrecision {
    /// Derived from seed points (nearest seed): near borders, the street or community may be wrong.
    Approximate,
    /// From polygons the district provided.
    Surveyed,
}

impl AreaPrecision {
    /// `approximate` or `surveyed`.
    pub fn as_str(self) -> &'static str {
        match self {
            AreaPrecision::Approximate => "approximate",
            AreaPrecision::Surveyed => "surveyed",
        }
    }

    /// The weaker of two precisions.
    pub fn min(self, other: AreaPrecision) -> AreaPrecision {
        if self == AreaPrecision::Surveyed && other == AreaPrecision::Surveyed {
            AreaPrecision::Surveyed
        } else {
            AreaPrecision::Approximate
        }
    }
}

/// A point whose street (and perhaps community) is known.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Seed {
    /// GCJ-02 position.
    pub point: LonLat,
    /// Index of the street.
    pub street: usize,
    /// Index of the community, if the seed marks one.
    pub community: Option<usize>,
}

/// The street and community of a position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AreaAssignment {
    /// Index of the street.
    pub street: usize,
    /// Index of the community, when one could be assigned.
    pub community: Option<usize>,
    /// How the street was decided.
    pub street_precision: AreaPrecision,
    /// How the community was decided.
    pub community_precision: AreaPrecision,
}

/// The rule that maps a position to its street and community.
#[derive(Debug, Clone)]
pub struct Areas {
    seeds: Vec<Seed>,
    street_polygons: Vec<(usize, MultiPolygon<f64>)>,
    community_polygons: Vec<(usize, MultiPolygon<f64>)>,
    /// For each community, its street index.
    community_street: Vec<Option<usize>>,
    /// Metres per degree of longitude and latitude at the seeds' mean latitude.
    scale: (f64, f64),
}

impl Areas {
    /// Approximate areas from seed points. `communities` and `streets` are the catalog's, in the
    /// order the seeds' indices refer to.
    pub fn from_seeds(seeds: Vec<Seed>, streets: &[Street], communities: &[Community]) -> Result<Areas, GeoError> {
        if seeds.is_empty() {
            return Err(GeoError::Areas("no seed points: cannot derive street areas".into()));
        }
        let community_street =
            communities.iter().map(|c| streets.iter().position(|s| s.code == c.street_code)).collect();
        let mean_lat = seeds.iter().map(|s| s.point.lat).sum::<f64>() / seeds.len() as f64;
        let scale = crate::metres_per_degree(mean_lat);
        Ok(Areas { seeds, street_polygons: vec![], community_polygons: vec![], community_street, scale })
    }

    /// Adds real street and/or community polygons from a GeoJSON text. Features are matched to
    /// the catalog by a `code`/`adcode` property (9 digits: street, 12 digits: community) or by
    /// `name` (a street or community name as in the catalog). Unknown features are refused.
    pub fn with_polygons(
        mut self,
        geojson: &str,
        streets: &[Street],
        communities: &[Community],
    ) -> Result<Areas, GeoError> {
        let features = crate::outline::features(geojson).map_err(GeoError::Areas)?;
        for (n, (props, shape)) in features.into_iter().enumerate() {
            let code = ["code", "adcode"].iter().find_map(|k| props.get(*k)).map(|v| match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            });
            let name = props.get("name").and_then(|v| v.as_str()).map(str::to_string);
            let street =
                streets.iter().position(|s| code.as_deref() == Some(&s.code) || name.as_deref() == Some(&s.name));
            let community = communities.iter().position(|c| {
                code.as_deref() == Some(&c.code)
                    || name.as_deref() == Some(&c.name)
                    || name.as_deref() == Some(&c.short_name)
            });
            match (street, community) {
                (Some(s), _) => self.street_polygons.push((s, shape)),
                (None, Some(c)) => self.community_polygons.push((c, shape)),
                (None, None) => {
                    return Err(GeoError::Areas(format!(
                        "feature {} (code {:?}, name {:?}) is neither a street nor a community of the catalog",
                        n + 1,
                        code.unwrap_or_default(),
                        name.unwrap_or_default()
                    )));
                }
            }
        }
        Ok(self)
    }

    /// Whether the street areas come from polygons.
    pub fn streets_surveyed(&self) -> bool {
        !self.street_polygons.is_empty()
    }

    /// Whether the community areas come from polygons.
    pub fn communities_surveyed(&self) -> bool {
        !self.community_polygons.is_empty()
    }

    /// The seed points.
    pub fn seeds(&self) -> &[Seed] {
        &self.seeds
    }

    /// The street and community of a position.
    pub fn assign(&self, at: LonLat) -> AreaAssignment {
        let p = Point::new(at.lon, at.lat);
        let (street, street_precision) = match self.street_polygons.iter().find(|(_, poly)| poly.contains(&p)) {
            Some((s, _)) => (*s, AreaPrecision::Surveyed),
            None => (self.nearest(at, |_| true).map_or(0, |s| s.street), AreaPrecision::Approximate),
        };
        let in_polygon = self
            .community_polygons
            .iter()
            .find(|(c, poly)| self.community_street[*c] == Some(street) && poly.contains(&p));
        let (community, community_precision) = match in_polygon {
            Some((c, _)) => (Some(*c), AreaPrecision::Surveyed),
            None => (
                self.nearest(at, |s| s.street == street && s.community.is_some()).and_then(|s| s.community),
                AreaPrecision::Approximate,
            ),
        };
        AreaAssignment { street, community, street_precision, community_precision }
    }

    fn nearest(&self, at: LonLat, keep: impl Fn(&Seed) -> bool) -> Option<&Seed> {
        let (kx, ky) = self.scale;
        let d2 = |s: &Seed| ((s.point.lon - at.lon) * kx).powi(2) + ((s.point.lat - at.lat) * ky).powi(2);
        self.seeds.iter().filter(|s| keep(s)).map(|s| (d2(s), s)).min_by(|a, b| a.0.total_cmp(&b.0)).map(|(_, s)| s)
    }
}
