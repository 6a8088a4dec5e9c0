//! Unit grids (万米单元网格, GB/T 30428.1): ≈100 m × 100 m cells over a district outline, each
//! with a 14-character code and its street and community, and an O(1) point-in-grid lookup.
//!
//! **Lattice.** Cells are the squares of a regular longitude/latitude lattice anchored at the
//! north-west corner of the outline's bounding box, with steps equal to `cell_m` metres at the
//! outline's middle latitude (about 0.00117° of longitude by 0.00090° of latitude for 100 m in
//! Beijing). A cell belongs to the grid when its centre lies inside the outline, so every cell
//! centre is in the district. The slivers along the border (squares that cross the outline but
//! whose centre is outside) are given to the nearest cell, so every point inside the outline has
//! a cell; every point outside it is answered [`Lookup::Outside`].
//!
//! **Lookup.** Each lattice square stores the index of its cell (or none) and whether it crosses
//! the outline: a lookup is two array reads, plus one point-in-polygon test only for the squares
//! on the border.
//!
//! **Codes.** `district (6) + street (3) + community (3) + serial (2)`, e.g. `11010100101503`:
//! the last three digits of the 9-digit street code, the last three of the 12-digit community
//! code (`000` when no community could be assigned), and the cell's serial within its community,
//! counted from the north-west, row by row. Serials 1–99 are written `01`…`99`. A community with
//! more than 99 cells (parks, the Palace Museum, railway land) continues in two base-36 characters
//! with a letter first: 100 → `A0`, 101 → `A1`, …, 135 → `AZ`, 136 → `B0`, … up to `ZZ` (1,035 cells).
//! So codes are always 14 characters; they are all digits for the first 99 cells of a community.
//!
//! Street and community areas come from [`Areas`]; when they are derived from seed points the
//! grid says so ([`AreaPrecision::Approximate`]) in every cell.

use std::collections::HashMap;

use geo::{BoundingRect, Contains, GeodesicArea, Intersects, MultiPolygon, Point, Rect, coord};
use jiesu_domain::catalog::{Community, Street};
use serde::Serialize;

use crate::LonLat;
use crate::areas::{AreaPrecision, Areas};
use crate::error::{GeoError, check_coordinate};

/// Default cell side in metres (万米单元网格: 10,000 m²).
pub const CELL_M: f64 = 100.0;

/// Largest serial a community can hold (`ZZ`).
pub const MAX_SERIAL: usize = 99 + 26 * 36;

const NONE: u32 = u32::MAX;

/// The regular lattice the cells are cut from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Lattice {
    /// Longitude of the west edge.
    pub west: f64,
    /// Latitude of the north edge.
    pub north: f64,
    /// Width of a square in degrees of longitude.
    pub dlon: f64,
    /// Height of a square in degrees of latitude.
    pub dlat: f64,
    /// Number of columns.
    pub cols: u32,
    /// Number of rows.
    pub rows: u32,
}

impl Lattice {
    /// The square (column, row) a point falls in, if within the lattice.
    pub fn slot(&self, at: LonLat) -> Option<(u32, u32)> {
        let c = ((at.lon - self.west) / self.dlon).floor();
        let r = ((self.north - at.lat) / self.dlat).floor();
        if c < 0.0 || r < 0.0 || c >= self.cols as f64 || r >= self.rows as f64 {
            return None;
        }
        Some((c as u32, r as u32))
    }

    /// Centre of a square.
    pub fn centre(&self, col: u32, row: u32) -> LonLat {
        LonLat { lon: self.west + (col as f64 + 0.5) * self.dlon, lat: self.north - (row as f64 + 0.5) * self.dlat }
    }

    /// The square as a rectangle.
    pub fn rect(&self, col: u32, row: u32) -> Rect<f64> {
        let w = self.west + col as f64 * self.dlon;
        let n = self.north - row as f64 * self.dlat;
        Rect::new(coord! { x: w, y: n - self.dlat }, coord! { x: w + self.dlon, y: n })
    }

    fn index(&self, col: u32, row: u32) -> usize {
        row as usize * self.cols as usize + col as usize
    }
}

/// One unit grid cell.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cell {
    /// 14-character code (see the module docs).
    pub code: String,
    /// Column in the lattice.
    pub col: u32,
    /// Row in the lattice (0 = north).
    pub row: u32,
    /// Centre (GCJ-02), inside the outline.
    pub centre: LonLat,
    /// Index of the cell's street in [`Grid::streets`].
    pub street: usize,
    /// Index of the cell's community in [`Grid::communities`], if one was assigned.
    pub community: Option<usize>,
    /// `approximate` unless both the street and the community came from real polygons.
    pub area_precision: AreaPrecision,
}

/// The answer of a point-in-grid lookup.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Lookup<'a> {
    /// The point lies in the district, in this cell.
    Inside(&'a Cell),
    /// The point lies outside the district's outline.
    Outside,
}

/// Counts for one street.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StreetStats {
    /// The street's code.
    pub code: String,
    /// The street's name.
    pub name: String,
    /// Cells in the street.
    pub cells: usize,
    /// Communities of the street that have at least one cell.
    pub communities_with_cells: usize,
    /// Communities of the street in the catalog.
    pub communities: usize,
}

/// Figures about a built grid.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GridStats {
    /// Number of cells.
    pub cells: usize,
    /// Geodesic area of the outline in km².
    pub outline_km2: f64,
    /// Cells × nominal cell area, in km².
    pub cells_km2: f64,
    /// Cells whose serial needed base-36 (their community has more than 99 cells).
    pub base36_serials: usize,
    /// Communities with at least one cell / in the catalog.
    pub communities_with_cells: usize,
    /// Communities in the catalog.
    pub communities: usize,
    /// Per street, in catalog order.
    pub streets: Vec<StreetStats>,
    /// `approximate` or `surveyed`.
    pub area_precision: AreaPrecision,
}

/// A district's unit grid with its lookup index.
#[derive(Debug, Clone)]
pub struct Grid {
    district_code: String,
    cell_m: f64,
    lattice: Lattice,
    cells: Vec<Cell>,
    /// Per lattice square: the cell that answers for it, or `NONE`.
    owner: Vec<u32>,
    /// Per lattice square: whether it crosses the outline (a lookup there tests the polygon).
    boundary: Vec<bool>,
    outline: MultiPolygon<f64>,
    streets: Vec<Street>,
    communities: Vec<Community>,
    by_code: HashMap<String, u32>,
}

impl Grid {
    /// Cuts the grid over the outline (GeoJSON text: FeatureCollection, Feature or geometry,
    /// Polygon or MultiPolygon, GCJ-02 or whatever datum the points will use) and assigns every
    /// cell its street and community from `areas`.
    pub fn build(
        outline_geojson: &str,
        district_code: &str,
        streets: &[Street],
        communities: &[Community],
        areas: &Areas,
        cell_m: f64,
    ) -> Result<Grid, GeoError> {
        if !(cell_m.is_finite() && (10.0..=10_000.0).contains(&cell_m)) {
            return Err(GeoError::Grid(format!("cell size {cell_m} m is not within 10..10000 m")));
        }
        if district_code.len() != 6 || !district_code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(GeoError::Grid(format!("district code {district_code:?} is not 6 digits")));
        }
        let outline = crate::outline::outline(outline_geojson).map_err(GeoError::Outline)?;
        let bbox = outline.bounding_rect().ok_or_else(|| GeoError::Outline("the outline is empty".into()))?;
        let mid_lat = (bbox.min().y + bbox.max().y) / 2.0;
        let (m_per_deg_lon, m_per_deg_lat) = crate::metres_per_degree(mid_lat);
        let dlon = cell_m / m_per_deg_lon;
        let dlat = cell_m / m_per_deg_lat;
        let cols = ((bbox.max().x - bbox.min().x) / dlon).ceil().max(1.0);
        let rows = ((bbox.max().y - bbox.min().y) / dlat).ceil().max(1.0);
        if cols * rows > 50_000_000.0 {
            return Err(GeoError::Grid(format!("{cols} × {rows} squares is too many: is the outline in degrees?")));
        }
        let lattice =
            Lattice { west: bbox.min().x, north: bbox.max().y, dlon, dlat, cols: cols as u32, rows: rows as u32 };
        let rings: Vec<&geo::LineString<f64>> =
            outline.0.iter().flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors())).collect();

        let n = lattice.cols as usize * lattice.rows as usize;
        let mut owner = vec![NONE; n];
        let boundary = border_squares(&lattice, &rings);
        let mut cells = Vec::new();
        for row in 0..lattice.rows {
            for col in 0..lattice.cols {
                let i = lattice.index(col, row);
                let centre = lattice.centre(col, row);
                if outline.contains(&Point::new(centre.lon, centre.lat)) {
                    let a = areas.assign(centre);
                    owner[i] = cells.len() as u32;
                    cells.push(Cell {
                        code: String::new(),
                        col,
                        row,
                        centre,
                        street: a.street,
                        community: a.community,
                        area_precision: a.street_precision.min(a.community_precision),
                    });
                }
            }
        }
        if cells.is_empty() {
            return Err(GeoError::Grid("no cell centre falls inside the outline".into()));
        }
        // Border squares without a cell of their own answer with the nearest cell.
        for row in 0..lattice.rows {
            for col in 0..lattice.cols {
                let i = lattice.index(col, row);
                if boundary[i] && owner[i] == NONE {
                    owner[i] = nearest_cell(&lattice, &owner, &cells, col, row);
                }
            }
        }
        // Number the cells by street, community and position, and point the squares at the new order.
        let mut order: Vec<usize> = (0..cells.len()).collect();
        order.sort_by_key(|&i| {
            let c = &cells[i];
            (c.street, c.community.map_or(0, |k| k + 1), c.row, c.col)
        });
        let mut new_index = vec![0u32; cells.len()];
        for (new, &old) in order.iter().enumerate() {
            new_index[old] = new as u32;
        }
        let mut cells: Vec<Cell> = order.into_iter().map(|i| cells[i].clone()).collect();
        for o in owner.iter_mut().filter(|o| **o != NONE) {
            *o = new_index[*o as usize];
        }
        assign_codes(&mut cells, district_code, streets, communities)?;
        let by_code = cells.iter().enumerate().map(|(i, c)| (c.code.clone(), i as u32)).collect();
        Ok(Grid {
            district_code: district_code.to_string(),
            cell_m,
            lattice,
            cells,
            owner,
            boundary,
            outline,
            streets: streets.to_vec(),
            communities: communities.to_vec(),
            by_code,
        })
    }

    /// The cell a point (GCJ-02 longitude, latitude) lies in, or [`Lookup::Outside`]. Refuses
    /// non-finite or out-of-range coordinates.
    pub fn lookup(&self, lon: f64, lat: f64) -> Result<Lookup<'_>, GeoError> {
        check_coordinate(lon, lat)?;
        let at = LonLat { lon, lat };
        let Some((col, row)) = self.lattice.slot(at) else { return Ok(Lookup::Outside) };
        let i = self.lattice.index(col, row);
        let o = self.owner[i];
        if o == NONE || (self.boundary[i] && !self.outline.contains(&Point::new(lon, lat))) {
            return Ok(Lookup::Outside);
        }
        Ok(Lookup::Inside(&self.cells[o as usize]))
    }

    /// The cell with this code.
    pub fn cell(&self, code: &str) -> Option<&Cell> {
        self.by_code.get(code).map(|&i| &self.cells[i as usize])
    }

    /// The street of a cell.
    pub fn street_of(&self, cell: &Cell) -> &Street {
        &self.streets[cell.street]
    }

    /// The community of a cell, if one was assigned.
    pub fn community_of(&self, cell: &Cell) -> Option<&Community> {
        cell.community.map(|c| &self.communities[c])
    }

    /// All cells, ordered by street, community and serial.
    pub fn cells(&self) -> &[Cell] {
        &self.cells
    }

    /// The catalog's streets (cells refer to them by index).
    pub fn streets(&self) -> &[Street] {
        &self.streets
    }

    /// The catalog's communities (cells refer to them by index).
    pub fn communities(&self) -> &[Community] {
        &self.communities
    }

    /// The lattice the cells are cut from.
    pub fn lattice(&self) -> &Lattice {
        &self.lattice
    }

    /// The district outline.
    pub fn outline(&self) -> &MultiPolygon<f64> {
        &self.outline
    }

    /// Cell side in metres.
    pub fn cell_m(&self) -> f64 {
        self.cell_m
    }

    /// The district code the codes start with.
    pub fn district_code(&self) -> &str {
        &self.district_code
    }

    /// The square of a cell as a rectangle (GCJ-02).
    pub fn cell_rect(&self, cell: &Cell) -> Rect<f64> {
        self.lattice.rect(cell.col, cell.row)
    }

    /// Counts: cells, areas, cells per street.
    pub fn stats(&self) -> GridStats {
        let cell_km2 = self.cell_m * self.cell_m / 1e6;
        let mut per_street: Vec<(usize, std::collections::HashSet<usize>)> =
            vec![(0, Default::default()); self.streets.len()];
        let mut precision = AreaPrecision::Surveyed;
        for c in &self.cells {
            per_street[c.street].0 += 1;
            if let Some(k) = c.community {
                per_street[c.street].1.insert(k);
            }
            precision = precision.min(c.area_precision);
        }
        let streets = self
            .streets
            .iter()
            .zip(&per_street)
            .map(|(s, (cells, comms))| StreetStats {
                code: s.code.clone(),
                name: s.name.clone(),
                cells: *cells,
                communities_with_cells: comms.len(),
                communities: self.communities.iter().filter(|c| c.street_code == s.code).count(),
            })
            .collect();
        GridStats {
            cells: self.cells.len(),
            outline_km2: self.outline.geodesic_area_unsigned() / 1e6,
            cells_km2: self.cells.len() as f64 * cell_km2,
            base36_serials: self.cells.iter().filter(|c| !c.code[12..].bytes().all(|b| b.is_ascii_digit())).count(),
            communities_with_cells: per_street.iter().map(|(_, s)| s.len()).sum(),
            communities: self.communities.len(),
            streets,
            area_precision: precision,
        }
    }

    /// The grid as a GeoJSON FeatureCollection: one square per cell with its code, street,
    /// community and `area_precision`.
    pub fn to_geojson(&self) -> String {
        let features: geojson::FeatureCollection = self
            .cells
            .iter()
            .map(|c| {
                let mut f = geojson::Feature::from(geojson::GeometryValue::from(&self.cell_rect(c).to_polygon()));
                f.set_property("code", c.code.clone());
                f.set_property("street_code", self.streets[c.street].code.clone());
                f.set_property("street", self.streets[c.street].name.clone());
                if let Some(k) = self.community_of(c) {
                    f.set_property("community_code", k.code.clone());
                    f.set_property("community", k.short_name.clone());
                }
                f.set_property("area_precision", c.area_precision.as_str());
                f
            })
            .collect();
        features.to_string()
    }
}

/// Marks the squares an edge of the outline passes through: each edge is tested only against the
/// squares its bounding box covers.
fn border_squares(lattice: &Lattice, rings: &[&geo::LineString<f64>]) -> Vec<bool> {
    let mut boundary = vec![false; lattice.cols as usize * lattice.rows as usize];
    let clamp_col = |x: f64| (((x - lattice.west) / lattice.dlon).floor().max(0.0) as u32).min(lattice.cols - 1);
    let clamp_row = |y: f64| (((lattice.north - y) / lattice.dlat).floor().max(0.0) as u32).min(lattice.rows - 1);
    for ring in rings {
        for line in ring.lines() {
            let (c0, c1) = (clamp_col(line.start.x.min(line.end.x)), clamp_col(line.start.x.max(line.end.x)));
            let (r0, r1) = (clamp_row(line.start.y.max(line.end.y)), clamp_row(line.start.y.min(line.end.y)));
            for row in r0..=r1 {
                for col in c0..=c1 {
                    let i = lattice.index(col, row);
                    if !boundary[i] && line.intersects(&lattice.rect(col, row)) {
                        boundary[i] = true;
                    }
                }
            }
        }
    }
    boundary
}

/// The nearest cell to a border square, looking in growing rings of squares around it.
fn nearest_cell(lattice: &Lattice, owner: &[u32], cells: &[Cell], col: u32, row: u32) -> u32 {
    let at = lattice.centre(col, row);
    let max_r = lattice.cols.max(lattice.rows) as i64;
    for r in 1..=max_r {
        let mut best: Option<(f64, u32)> = None;
        for dr in -r..=r {
            for dc in -r..=r {
                if dr.abs() != r && dc.abs() != r {
                    continue;
                }
                let (c, w) = (col as i64 + dc, row as i64 + dr);
                if c < 0 || w < 0 || c >= lattice.cols as i64 || w >= lattice.rows as i64 {
                    continue;
                }
                let o = owner[lattice.index(c as u32, w as u32)];
                // Only squares that own their cell (centre inside) count.
                if o != NONE && cells[o as usize].col == c as u32 && cells[o as usize].row == w as u32 {
                    let d = crate::distance_m(at, cells[o as usize].centre);
                    if best.is_none_or(|(bd, _)| d < bd) {
                        best = Some((d, o));
                    }
                }
            }
        }
        if let Some((_, o)) = best {
            return o;
        }
    }
    NONE
}

/// Gives every cell its code; the cells come ordered by street, community, row and column.
fn assign_codes(
    cells: &mut [Cell],
    district: &str,
    streets: &[Street],
    communities: &[Community],
) -> Result<(), GeoError> {
    let suffix = |code: &str| code.get(code.len().saturating_sub(3)..).unwrap_or("000").to_string();
    let mut serial = 0usize;
    let mut group: Option<(usize, Option<usize>)> = None;
    for c in cells.iter_mut() {
        if group != Some((c.street, c.community)) {
            group = Some((c.street, c.community));
            serial = 0;
        }
        serial += 1;
        let street = suffix(&streets[c.street].code);
        let community = c.community.map_or_else(|| "000".to_string(), |k| suffix(&communities[k].code));
        let s = serial_code(serial).ok_or_else(|| {
            GeoError::Grid(format!(
                "community {} of {} has more than {MAX_SERIAL} cells: use larger cells or real community polygons",
                c.community.map_or("(none)", |k| communities[k].short_name.as_str()),
                streets[c.street].name
            ))
        })?;
        c.code = format!("{district}{street}{community}{s}");
    }
    Ok(())
}

/// `n` pseudo-random points over the lattice's rectangle (deterministic), inside and outside the
/// outline: the workload of lookup benchmarks.
pub fn sample_points(lattice: &Lattice, n: usize) -> Vec<(f64, f64)> {
    let (width, height) = (lattice.dlon * lattice.cols as f64, lattice.dlat * lattice.rows as f64);
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..n).map(|_| (lattice.west + next() * width, lattice.north - next() * height)).collect()
}

/// `01`…`99`, then `A0`…`ZZ` (see the module docs).
pub fn serial_code(serial: usize) -> Option<String> {
    const B36: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    match serial {
        1..=99 => Some(format!("{serial:02}")),
        100..=MAX_SERIAL => {
            let k = serial - 100;
            Some(format!("{}{}", (b'A' + (k / 36) as u8) as char, B36[k % 36] as char))
        }
        _ => None,
    }
}

/// The inverse of [`serial_code`].
pub fn serial_number(code: &str) -> Option<usize> {
    let b = code.as_bytes();
    if b.len() != 2 {
        return None;
    }
    let digit36 = |c: u8| match c {
        b'0'..=b'9' => Some((c - b'0') as usize),
        b'A'..=b'Z' => Some((c - b'A') as usize + 10),
        _ => None,
    };
    match b[0] {
        b'0'..=b'9' => code.parse().ok().filter(|&n| n >= 1),
        b'A'..=b'Z' => Some(100 + (b[0] - b'A') as usize * 36 + digit36(b[1])?),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_round_trip_and_stay_two_characters() {
        for n in 1..=MAX_SERIAL {
            let s = serial_code(n).unwrap();
            assert_eq!(s.len(), 2, "{n}");
            assert_eq!(serial_number(&s), Some(n), "{n} → {s}");
        }
        assert_eq!(serial_code(1).as_deref(), Some("01"));
        assert_eq!(serial_code(99).as_deref(), Some("99"));
        assert_eq!(serial_code(100).as_deref(), Some("A0"));
        assert_eq!(serial_code(135).as_deref(), Some("AZ"));
        assert_eq!(serial_code(136).as_deref(), Some("B0"));
        assert_eq!(serial_code(0), None);
        assert_eq!(serial_code(MAX_SERIAL + 1), None);
    }
}
