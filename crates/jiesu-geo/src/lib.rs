//! Place finding and unit grids for the district: where a case is, as a point, a street (街道), a
//! community (社区) and a unit grid cell (万米单元网格).
//!
//! * [`gazetteer`]: the district's named places (streets, communities, roads, hutongs,
//!   landmarks) and the matcher that finds them in free Chinese text and addresses.
//! * [`grid`]: ≈100 m cells over the district outline with 14-character codes and an O(1)
//!   point-in-grid lookup.
//! * [`areas`]: which street and community a position belongs to — approximate (from seed
//!   points) unless the district loads real polygons.
//! * [`Geo::locate`]: the one entry point the desk calls: text, address and/or point in,
//!   [`Placement`] out.
//!
//! **Architecture invariant:** pure. No file or network I/O and no clock: the gazetteer is embedded
//! with `include_str!` (or handed in as text), the outline and polygons are GeoJSON text handed
//! in by the caller. Coordinates are GCJ-02 (the datum of Chinese web maps and of the outline).

pub mod areas;
pub mod error;
pub mod gazetteer;
pub mod grid;
mod outline;

use jiesu_domain::catalog::Catalog;
use serde::Serialize;

pub use areas::{AreaPrecision, Areas, Seed};
pub use error::GeoError;
pub use gazetteer::{Entry, Gazetteer, Kind, Mention};
pub use grid::{Cell, Grid, Lookup};

/// A position: longitude and latitude in degrees (GCJ-02).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LonLat {
    /// Longitude (east positive).
    pub lon: f64,
    /// Latitude (north positive).
    pub lat: f64,
}

/// Metres per degree of longitude and of latitude at a latitude (WGS-84 ellipsoid series).
pub fn metres_per_degree(lat_deg: f64) -> (f64, f64) {
    let p = lat_deg.to_radians();
    let lon = 111_412.84 * p.cos() - 93.5 * (3.0 * p).cos() + 0.118 * (5.0 * p).cos();
    let lat = 111_132.92 - 559.82 * (2.0 * p).cos() + 1.175 * (4.0 * p).cos() - 0.0023 * (6.0 * p).cos();
    (lon, lat)
}

/// Distance in metres between two nearby positions (local flat approximation; fine within a city).
pub fn distance_m(a: LonLat, b: LonLat) -> f64 {
    let (mx, my) = metres_per_degree((a.lat + b.lat) / 2.0);
    ((a.lon - b.lon) * mx).hypot((a.lat - b.lat) * my)
}

/// A street or community named by code and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AreaRef {
    /// Statistical division code (9 digits for a street, 12 for a community).
    pub code: String,
    /// Name (`东华门街道`, `王府井社区`).
    pub name: String,
}

/// A grid cell with its street and community, as [`Geo::cell`] returns it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CellPlace {
    /// The 14-character cell code.
    pub code: String,
    /// Centre of the cell (GCJ-02).
    pub centre: LonLat,
    /// The cell's street.
    pub street: AreaRef,
    /// The cell's community, if one was assigned.
    pub community: Option<AreaRef>,
    /// `approximate` unless the street and community came from real polygons.
    pub area_precision: AreaPrecision,
}

/// Where the answer of [`Geo::locate`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// The given point, looked up in the grid.
    Point,
    /// A place named in the address string.
    Address,
    /// A place named in the free text.
    Text,
    /// Nothing usable: no point in the district and no known place named.
    None,
}

/// Where a case is, as far as the district can tell. Every field may be absent; `confidence`
/// (0–1) is the confidence that `street` is right, and `area_precision` says whether the street
/// and community come from approximate areas.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Placement {
    /// A GCJ-02 point: the given one, or the matched place's approximate point.
    pub point: Option<LonLat>,
    /// The street (街道).
    pub street: Option<AreaRef>,
    /// The community (社区).
    pub community: Option<AreaRef>,
    /// The unit grid cell code, when the point is precise enough (a given point, or a landmark,
    /// hutong or road point) and a grid is loaded.
    pub grid: Option<String>,
    /// Confidence that the street is right, 0–1.
    pub confidence: f64,
    /// What the answer rests on.
    pub source: Source,
    /// The text that matched, e.g. `王府井大街`.
    pub matched: Option<String>,
    /// The kind of the matched place.
    pub kind: Option<Kind>,
    /// House number after the matched road or hutong (`255号` → `255`).
    pub house_number: Option<String>,
    /// `approximate` unless the street and community came from real polygons.
    pub area_precision: AreaPrecision,
    /// A point was given but lies outside the district.
    pub outside_district: bool,
}

impl Placement {
    fn nothing(outside_district: bool) -> Placement {
        Placement {
            point: None,
            street: None,
            community: None,
            grid: None,
            confidence: 0.0,
            source: Source::None,
            matched: None,
            kind: None,
            house_number: None,
            area_precision: AreaPrecision::Approximate,
            outside_district,
        }
    }
}

/// Entries whose point is at least this fine (radius in metres) get a grid cell and a derived
/// community; coarser ones (long roads, street centres) only a street.
pub const FINE_POINT_M: u32 = 300;

/// The district's gazetteer and (when an outline was given) its unit grid.
#[derive(Debug, Clone)]
pub struct Geo {
    gazetteer: Gazetteer,
    grid: Option<Grid>,
    /// Per gazetteer entry: (street, community) read off the grid at its point, when inside.
    derived: Vec<Option<(usize, Option<usize>)>>,
}

/// The outline of Dongcheng District (GeoJSON MultiPolygon, GCJ-02), from the project's `data/`
/// (DataV GeoAtlas; see data/README.md), so that a binary has its unit grid wherever it runs.
pub const DONGCHENG_OUTLINE_GEOJSON: &str = include_str!("../../../data/110101_full.json");

impl Geo {
    /// The embedded Dongcheng gazetteer without a grid: text and addresses still give a street
    /// where the gazetteer knows it; points give nothing.
    pub fn dongcheng_without_grid() -> Geo {
        Geo { gazetteer: Gazetteer::dongcheng(), grid: None, derived: vec![] }
    }

    /// The embedded Dongcheng catalog, gazetteer and outline ([`DONGCHENG_OUTLINE_GEOJSON`]): what
    /// `jiesu serve` runs on unless another outline is configured.
    pub fn dongcheng_embedded() -> Result<Geo, GeoError> {
        Geo::dongcheng(DONGCHENG_OUTLINE_GEOJSON)
    }

    /// The embedded Dongcheng catalog and gazetteer, with a grid over this outline (GeoJSON text,
    /// e.g. `../shared/data/geo/110101_full.json`) and approximate street/community areas.
    pub fn dongcheng(outline_geojson: &str) -> Result<Geo, GeoError> {
        Geo::new(&Catalog::dongcheng(), gazetteer::DONGCHENG_GAZETTEER_CSV, Some(outline_geojson), None)
    }

    /// A district's gazetteer (CSV text) and, if `outline_geojson` is given, its grid of
    /// [`grid::CELL_M`] cells. Street and community areas come from `area_polygons_geojson` when
    /// given (real polygons), otherwise from the gazetteer's points (approximate).
    pub fn new(
        catalog: &Catalog,
        gazetteer_csv: &str,
        outline_geojson: Option<&str>,
        area_polygons_geojson: Option<&str>,
    ) -> Result<Geo, GeoError> {
        let gazetteer = Gazetteer::from_csv(gazetteer_csv, catalog)?;
        let Some(outline) = outline_geojson else {
            return Ok(Geo { gazetteer, grid: None, derived: vec![] });
        };
        let seeds: Vec<Seed> = gazetteer
            .entries()
            .iter()
            .filter_map(|e| Some(Seed { point: e.point?, street: e.street?, community: e.community }))
            .collect();
        let mut areas = Areas::from_seeds(seeds, gazetteer.streets(), gazetteer.communities())?;
        if let Some(polygons) = area_polygons_geojson {
            areas = areas.with_polygons(polygons, gazetteer.streets(), gazetteer.communities())?;
        }
        let grid = Grid::build(
            outline,
            catalog.district_code(),
            gazetteer.streets(),
            gazetteer.communities(),
            &areas,
            grid::CELL_M,
        )?;
        let derived = gazetteer
            .entries()
            .iter()
            .map(|e| match grid.lookup(e.point?.lon, e.point?.lat) {
                Ok(Lookup::Inside(c)) => Some((c.street, c.community)),
                _ => None,
            })
            .collect();
        Ok(Geo { gazetteer, grid: Some(grid), derived })
    }

    /// The gazetteer.
    pub fn gazetteer(&self) -> &Gazetteer {
        &self.gazetteer
    }

    /// A grid cell by code, with its street and community (the reverse of a lookup).
    pub fn cell(&self, code: &str) -> Option<CellPlace> {
        let grid = self.grid.as_ref()?;
        let cell = grid.cell(code)?;
        Some(CellPlace {
            code: cell.code.clone(),
            centre: cell.centre,
            street: self.street_ref(cell.street),
            community: cell.community.map(|c| self.community_ref(c)),
            area_precision: cell.area_precision,
        })
    }

    /// The grid, if an outline was loaded.
    pub fn grid(&self) -> Option<&Grid> {
        self.grid.as_ref()
    }

    /// Where a case is: from the point when it lies in the grid, else from the most specific
    /// place named in the address, else in the text. A bad point (not finite, out of range) is
    /// an error; a point outside the district is reported in `outside_district` and the text is
    /// used instead.
    pub fn locate(&self, text: &str, address: Option<&str>, point: Option<(f64, f64)>) -> Result<Placement, GeoError> {
        let mut outside = false;
        if let Some((lon, lat)) = point {
            error::check_coordinate(lon, lat)?;
            if let Some(grid) = &self.grid {
                match grid.lookup(lon, lat)? {
                    Lookup::Inside(cell) => return Ok(self.place_by_cell(cell, LonLat { lon, lat }, text, address)),
                    Lookup::Outside => outside = true,
                }
            }
        }
        for (source, s) in [(Source::Address, address), (Source::Text, Some(text))] {
            if let Some(s) = s
                && let Some(m) = self.gazetteer.best(s)
            {
                let named = self.named_street(s, &m);
                let mut p = self.place_by_mention(&m, source, named);
                p.outside_district = outside;
                return Ok(p);
            }
        }
        let mut p = Placement::nothing(outside);
        if let (Some((lon, lat)), None) = (point, &self.grid) {
            // No grid loaded: keep the point, say nothing about the street.
            p.point = Some(LonLat { lon, lat });
            p.source = Source::Point;
        }
        Ok(p)
    }

    /// The street named outright in a text (a street, or a community by its full name) other
    /// than by the mention `except`, if any.
    fn named_street(&self, text: &str, except: &Mention) -> Option<usize> {
        self.gazetteer.mentions(text).iter().filter(|m| m.start != except.start).find_map(|m| {
            let e = &self.gazetteer.entries()[m.entry];
            let named = match e.kind {
                Kind::Street => true,
                Kind::Community => m.text.ends_with("社区") || m.text.ends_with("居委会"),
                _ => false,
            };
            named.then_some(e.street).flatten()
        })
    }

    fn street_ref(&self, s: usize) -> AreaRef {
        let s = &self.gazetteer.streets()[s];
        AreaRef { code: s.code.clone(), name: s.name.clone() }
    }

    fn community_ref(&self, c: usize) -> AreaRef {
        let c = &self.gazetteer.communities()[c];
        AreaRef { code: c.code.clone(), name: c.short_name.clone() }
    }

    fn place_by_cell(&self, cell: &Cell, at: LonLat, text: &str, address: Option<&str>) -> Placement {
        let mention = address.and_then(|a| self.gazetteer.best(a)).or_else(|| self.gazetteer.best(text));
        let mut confidence: f64 = if cell.area_precision == AreaPrecision::Surveyed { 0.98 } else { 0.8 };
        // A place named in the text whose street the gazetteer states backs the point up, or not.
        if let Some(stated) = mention.as_ref().and_then(|m| self.gazetteer.entries()[m.entry].street) {
            confidence += if stated == cell.street { 0.1 } else { -0.2 };
        }
        Placement {
            point: Some(at),
            street: Some(self.street_ref(cell.street)),
            community: cell.community.map(|c| self.community_ref(c)),
            grid: Some(cell.code.clone()),
            confidence: confidence.clamp(0.0, 0.98),
            source: Source::Point,
            matched: mention.as_ref().map(|m| m.text.clone()),
            kind: mention.as_ref().map(|m| self.gazetteer.entries()[m.entry].kind),
            house_number: mention.and_then(|m| m.house_number),
            area_precision: cell.area_precision,
            outside_district: false,
        }
    }

    fn place_by_mention(&self, m: &Mention, source: Source, named: Option<usize>) -> Placement {
        let e = &self.gazetteer.entries()[m.entry];
        let fine = e.point.is_some()
            && e.precision_m.is_some_and(|p| p <= FINE_POINT_M)
            && !matches!(e.kind, Kind::Street | Kind::Community);
        let derived = self.derived.get(m.entry).copied().flatten();
        // The street: the gazetteer's own, else the one the text names, else the grid's.
        let (street, mut confidence) = match (e.street, named, derived) {
            (Some(s), _, _) => (Some(s), base_confidence(e.kind, true)),
            (None, Some(s), _) => (Some(s), 0.85),
            (None, None, Some((s, _))) => (Some(s), base_confidence(e.kind, false)),
            (None, None, None) => (None, 0.1),
        };
        // A bare community name (`人定湖`, not `人定湖社区`) may mean something else of that name.
        if e.kind == Kind::Community && !m.text.ends_with("社区") && !m.text.ends_with("居委会") {
            confidence = confidence.min(BARE_COMMUNITY_CONFIDENCE);
        }
        if let (Some(s), Some(n)) = (street, named) {
            confidence += if s == n { 0.05 } else { -0.3 };
        }
        if m.house_number.is_some() {
            confidence += 0.05;
        }
        if source == Source::Address {
            confidence += 0.03;
        }
        let community = e.community.or_else(|| {
            let (s, c) = derived.filter(|_| fine)?;
            (Some(s) == street).then_some(c).flatten()
        });
        let grid = if fine {
            let p = e.point.expect("fine entries have a point");
            self.grid.as_ref().and_then(|g| match g.lookup(p.lon, p.lat) {
                Ok(Lookup::Inside(c)) => Some(c.code.clone()),
                _ => None,
            })
        } else {
            None
        };
        Placement {
            point: e.point,
            street: street.map(|s| self.street_ref(s)),
            community: community.map(|c| self.community_ref(c)),
            grid,
            confidence: confidence.clamp(0.0, 0.97),
            source,
            matched: Some(m.text.clone()),
            kind: Some(e.kind),
            house_number: m.house_number.clone(),
            area_precision: AreaPrecision::Approximate,
            outside_district: false,
        }
    }
}

/// Confidence for a community named without `社区`: the name may be a park, an estate or a road
/// elsewhere (人定湖公园 is in Xicheng, 工人体育馆 in Chaoyang).
const BARE_COMMUNITY_CONFIDENCE: f64 = 0.6;

/// Confidence that the street is right, by kind of place and whether the gazetteer states the
/// street (rather than the approximate areas giving it).
fn base_confidence(kind: Kind, stated: bool) -> f64 {
    match (kind, stated) {
        (Kind::Street | Kind::Community, _) => 0.9,
        (Kind::Landmark | Kind::Hutong, true) => 0.85,
        (Kind::Landmark | Kind::Hutong, false) => 0.7,
        (Kind::Road, true) => 0.7,
        (Kind::Road, false) => 0.55,
    }
}
