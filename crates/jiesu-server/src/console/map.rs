//! 地图: the district's streets and ≈100 m unit grid cells coloured by the cases of a period
//! (all cases received, those still open, or those open past their deadline; optionally of one
//! category), drawn in the browser by ECharts from geometry this server serves. A click on a cell
//! or a street leads to its cases in the list (`/cases?grid=…`), with the very filter the count used.
//!
//! Three routes:
//! - `GET /map`: the page (filters, the map, the streets' table).
//! - `GET /map/geometry.json`: the outline and the grid cells as GeoJSON (GCJ-02, the datum of the
//!   domain, the grid and the embedded outline), the same for everyone: made once per server,
//!   gzipped when the browser accepts it, with an ETag and a week's `max-age` (the page asks for
//!   it with its ETag in the URL, so a new grid is a new URL).
//! - `GET /map/data?period=YYYY-MM|30d&measure=all|open|overdue&category=CODE`: the counts as a
//!   small JSON, from one aggregate query in the store (`Store::count_by_place`) within the
//!   viewer's `Scope`: a unit handler counts its unit's cases only.

use std::io::Write as _;
use std::sync::{Arc, OnceLock};

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use jiesu_domain::assessment::Period;
use jiesu_domain::model::{Role, Status};
use jiesu_geo::Grid;
use jiesu_store::CaseFilter;
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::pages::{Chrome, chrome, error_page};
use super::{Lang, Viewer};
use crate::AppState;
use crate::error::ApiError;
use crate::params::{self, DayEnd};

/// The map's entry in the navigation: every role of the console (the scope decides what it counts).
pub(crate) fn nav(role: Role) -> &'static [(&'static str, &'static str)] {
    match role {
        Role::Citizen | Role::System => &[],
        _ => &[("/map", "地图")],
    }
}

/// The open statuses as a comma-separated list (the `status` filter of "未办结").
pub(crate) fn open_statuses() -> String {
    Status::ALL.iter().filter(|s| s.is_open()).map(|s| s.code()).collect::<Vec<_>>().join(",")
}

// ---------------------------------------------------------------------------------------------
// Geometry

/// The geometry document, made once per server.
#[derive(Debug, Default, Clone)]
pub(crate) struct GeometryCache(Arc<OnceLock<Option<Geometry>>>);

#[derive(Debug)]
pub(crate) struct Geometry {
    /// Quoted, as sent in `ETag`.
    etag: String,
    json: Vec<u8>,
    gzip: Vec<u8>,
}

impl GeometryCache {
    /// The geometry of the desk's grid; None when the server runs without one (no outline).
    fn get(&self, state: &AppState) -> Option<&Geometry> {
        self.0.get_or_init(|| state.desk.geo().and_then(|g| g.grid()).map(Geometry::of)).as_ref()
    }
}

/// Degrees rounded to 1e-6 (about 0.1 m): enough for 100 m cells, and shared edges stay equal.
fn deg(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

impl Geometry {
    fn of(grid: &Grid) -> Geometry {
        let json = geometry_json(grid).to_string().into_bytes();
        let digest = Sha256::digest(&json);
        let etag = format!("\"{}\"", digest.iter().take(12).map(|b| format!("{b:02x}")).collect::<String>());
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&json).expect("writes to memory");
        let gzip = gz.finish().expect("writes to memory");
        Geometry { etag, json, gzip }
    }

    /// The ETag without its quotes (for the page's URL).
    fn version(&self) -> &str {
        self.etag.trim_matches('"')
    }
}

/// `{outline, cells, streets, bounds, aspect_scale}`: the outline and the cells as two GeoJSON
/// FeatureCollections (a cell's `name` is its code, for ECharts' `registerMap`), the streets'
/// names, the outline's box `[[west, south], [east, north]]` and cos(latitude) of its middle,
/// which ECharts takes as `aspectScale` so that a 100 m cell is drawn square.
fn geometry_json(grid: &Grid) -> Value {
    let l = grid.lattice();
    let x = |col: u32| deg(l.west + f64::from(col) * l.dlon);
    let y = |row: u32| deg(l.north - f64::from(row) * l.dlat);
    let streets = grid.streets();
    let cells: Vec<Value> = grid
        .cells()
        .iter()
        .map(|c| {
            let (w, e, n, s) = (x(c.col), x(c.col + 1), y(c.row), y(c.row + 1));
            json!({
                "type": "Feature",
                "properties": {"name": c.code, "street": streets[c.street].code},
                "geometry": {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]},
            })
        })
        .collect();
    let ring = |r: &geo_ring::Ring| -> Vec<[f64; 2]> { r.iter().map(|&(x, y)| [deg(x), deg(y)]).collect() };
    let polygons: Vec<Vec<Vec<[f64; 2]>>> =
        geo_ring::polygons(grid).iter().map(|p| p.iter().map(ring).collect()).collect();
    let (mut west, mut south, mut east, mut north) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for &[px, py] in polygons.iter().flatten().flatten() {
        west = west.min(px);
        east = east.max(px);
        south = south.min(py);
        north = north.max(py);
    }
    json!({
        "outline": {"type": "FeatureCollection", "features": [{
            "type": "Feature",
            "properties": {"name": "outline"},
            "geometry": {"type": "MultiPolygon", "coordinates": polygons},
        }]},
        "cells": {"type": "FeatureCollection", "features": cells},
        "streets": streets.iter().map(|s| json!({"code": s.code, "name": s.name})).collect::<Vec<_>>(),
        "bounds": [[west, south], [east, north]],
        "aspect_scale": ((south + north) / 2.0).to_radians().cos(),
    })
}

/// The outline's rings as plain coordinates (the grid keeps it as a `geo` MultiPolygon).
mod geo_ring {
    use jiesu_geo::Grid;

    /// One ring: (longitude, latitude) pairs.
    pub(super) type Ring = Vec<(f64, f64)>;

    /// Each polygon of the outline: its exterior ring, then its holes.
    pub(super) fn polygons(grid: &Grid) -> Vec<Vec<Ring>> {
        grid.outline()
            .0
            .iter()
            .map(|p| {
                std::iter::once(p.exterior())
                    .chain(p.interiors())
                    .map(|r| r.coords().map(|c| (c.x, c.y)).collect())
                    .collect()
            })
            .collect()
    }
}

/// `GET /map/geometry.json`: the outline and the grid cells (see [`geometry_json`]); 404 when the
/// server has no grid.
pub(crate) async fn geometry(State(state): State<AppState>, _v: Viewer, headers: HeaderMap) -> Response {
    let Some(g) = state.map_geometry.get(&state) else {
        return ApiError::new(StatusCode::NOT_FOUND, "not_found", "this server has no unit grid (no district outline)")
            .into_response();
    };
    let etag = HeaderValue::from_str(&g.etag).expect("hex");
    // The same for everyone, but only for people logged in: private; revalidated after a week.
    let cache = (header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=604800"));
    let vary = (header::VARY, HeaderValue::from_static("accept-encoding"));
    if headers.get(header::IF_NONE_MATCH).is_some_and(|m| m.as_bytes() == g.etag.as_bytes()) {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag), cache, vary]).into_response();
    }
    let kind = (header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let gzip_ok =
        headers.get_all(header::ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(
            |e| e.split(';').next().is_some_and(|name| name.trim().eq_ignore_ascii_case("gzip")) && !e.contains("q=0"),
        );
    if gzip_ok {
        let encoding = (header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        ([kind, (header::ETAG, etag), cache, vary, encoding], g.gzip.clone()).into_response()
    } else {
        ([kind, (header::ETAG, etag), cache, vary], g.json.clone()).into_response()
    }
}

// ---------------------------------------------------------------------------------------------
// What to count

/// Which cases the map counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Measure {
    /// Every case received in the period (a merged repeat call too: each is a citizen's call).
    All,
    /// Those of them still open now.
    Open,
    /// Those of them open past their deadline now.
    Overdue,
}

impl Measure {
    const ALL: [Measure; 3] = [Measure::All, Measure::Open, Measure::Overdue];

    fn code(self) -> &'static str {
        match self {
            Measure::All => "all",
            Measure::Open => "open",
            Measure::Overdue => "overdue",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Measure::All => "全部工单",
            Measure::Open => "未办结",
            Measure::Overdue => "超期未办",
        }
    }
}

/// The days counted: a calendar month, or the last 30 days up to today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Span {
    Month(Period),
    Last30,
}

/// A parsed map query.
#[derive(Debug, Clone)]
struct MapQuery {
    span: Span,
    measure: Measure,
    /// A category code (top level or leaf), checked against the catalog.
    category: Option<String>,
}

fn period_code(p: Period) -> String {
    format!("{:04}-{:02}", p.year, p.month)
}

impl MapQuery {
    /// Reads `period`, `measure` and `category` (blank = default; anything else is ignored);
    /// a bad value is a 400 naming the parameter.
    fn parse(state: &AppState, raw: Option<&str>) -> Result<MapQuery, ApiError> {
        let pairs: Vec<(String, String)> = form_urlencoded::parse(raw.unwrap_or("").as_bytes())
            .map(|(k, v)| (k.into_owned(), v.trim().to_string()))
            .collect();
        let get = |k: &str| pairs.iter().rev().find(|(n, _)| n == k).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty());
        let span = match get("period") {
            None => Span::Month(Period::of(state.now(), state.desk.config().tz)),
            Some("30d") => Span::Last30,
            Some(p) => Span::Month(params::period("period", p).map_err(|_| {
                ApiError::bad_param("period", format!("expected a month as YYYY-MM (e.g. 2026-11) or 30d, got '{p}'"))
            })?),
        };
        let measure = match get("measure") {
            None => Measure::All,
            Some(m) => Measure::ALL
                .into_iter()
                .find(|x| x.code() == m)
                .ok_or_else(|| ApiError::bad_param("measure", format!("expected all, open or overdue, got '{m}'")))?,
        };
        let category = get("category").map(|c| params::category("category", c, state.desk.catalog())).transpose()?;
        Ok(MapQuery { span, measure, category })
    }

    /// The first and last local day counted.
    fn days(&self, state: &AppState) -> (NaiveDate, NaiveDate) {
        match self.span {
            Span::Month(p) => {
                let first = NaiveDate::from_ymd_opt(p.year, p.month, 1).expect("a checked month");
                let next = p.next();
                let last = NaiveDate::from_ymd_opt(next.year, next.month, 1)
                    .and_then(|d| d.pred_opt())
                    .expect("a checked month");
                (first, last)
            }
            Span::Last30 => {
                let today = state.now().with_timezone(&state.desk.config().tz).date_naive();
                (today - Duration::days(29), today)
            }
        }
    }

    fn period_code(&self) -> String {
        match self.span {
            Span::Month(p) => period_code(p),
            Span::Last30 => "30d".into(),
        }
    }

    fn period_label(&self, state: &AppState, lang: Lang) -> String {
        match self.span {
            Span::Month(p) => lang.f("{}年{}月", &[&p.year, &p.month]),
            Span::Last30 => {
                let (from, to) = self.days(state);
                lang.f("近30天（{} 至 {}）", &[&from.format("%m-%d"), &to.format("%m-%d")])
            }
        }
    }

    /// The store's filter: received in the days (local), then the measure and the category. The
    /// same as the list's filter for [`MapQuery::list_query`] (the API parses the same dates).
    fn filter(&self, state: &AppState, now: DateTime<Utc>) -> Result<CaseFilter, ApiError> {
        let tz = state.desk.config().tz;
        let (first, last) = self.days(state);
        let mut f = CaseFilter {
            received_from: Some(params::instant("period", &first.to_string(), tz, DayEnd::Start)?),
            received_to: Some(params::instant("period", &last.to_string(), tz, DayEnd::End)?),
            category: self.category.clone(),
            ..CaseFilter::default()
        };
        match self.measure {
            Measure::All => {}
            Measure::Open => f.statuses = Status::ALL.iter().copied().filter(|s| s.is_open()).collect(),
            Measure::Overdue => f.overdue_at = Some(now),
        }
        Ok(f)
    }

    /// The query of `/cases` that lists the cases counted (a cell or a street is added to it).
    fn list_query(&self, state: &AppState) -> String {
        let (first, last) = self.days(state);
        let mut q = form_urlencoded::Serializer::new(String::new());
        q.append_pair("from", &first.to_string()).append_pair("to", &last.to_string());
        if let Some(c) = &self.category {
            q.append_pair("category", c);
        }
        match self.measure {
            Measure::All => {}
            Measure::Open => {
                q.append_pair("status", &open_statuses());
            }
            Measure::Overdue => {
                q.append_pair("overdue", "true");
            }
        }
        q.finish()
    }

    /// This query, normalised, for `/map/data`.
    fn data_query(&self) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        q.append_pair("period", &self.period_code()).append_pair("measure", self.measure.code());
        if let Some(c) = &self.category {
            q.append_pair("category", c);
        }
        q.finish()
    }
}

// ---------------------------------------------------------------------------------------------
// The counts

/// Body of `GET /map/data`.
#[derive(Debug, Serialize)]
struct MapData {
    period: String,
    period_label: String,
    /// First and last local day counted.
    from: String,
    to: String,
    measure: &'static str,
    measure_label: &'static str,
    category: Option<String>,
    /// Cases counted.
    total: u64,
    /// Of them, cases without a grid cell (no point, or outside the grid).
    without_cell: u64,
    /// The largest count of a cell (for the colour scale).
    max_cell: u64,
    /// `[code, count]` per cell with cases.
    cells: Vec<(String, u64)>,
    /// Every street of the catalog with its count (those with cases first), and cases without a
    /// street under a null code.
    streets: Vec<StreetCount>,
    /// The query of `/cases` listing these cases; add `&grid=CODE` or `&street=CODE`.
    list: String,
    /// 三色预警 (issue 13): `[code, "red"|"yellow"]` per cell that is not green, now.
    alarms: Vec<(String, &'static str)>,
}

#[derive(Debug, Serialize)]
struct StreetCount {
    code: Option<String>,
    name: String,
    cases: u64,
}

async fn counts(state: &AppState, v: &Viewer, q: &MapQuery) -> Result<MapData, ApiError> {
    let catalog = state.desk.catalog();
    let filter = q.filter(state, state.now())?;
    let rows = state.desk.store().count_by_place(&v.actor.scope(catalog), &filter).await?;
    let mut cells: Vec<(String, u64)> = Vec::new();
    let mut by_street: std::collections::HashMap<Option<String>, u64> = Default::default();
    let (mut total, mut without_cell) = (0, 0);
    for r in rows {
        total += r.cases;
        *by_street.entry(r.street).or_default() += r.cases;
        match r.grid {
            Some(g) => cells.push((g, r.cases)),
            None => without_cell += r.cases,
        }
    }
    // One row per cell (a cell could come under two streets should a case's street disagree).
    cells.sort();
    cells.dedup_by(|b, a| {
        let same = a.0 == b.0;
        if same {
            a.1 += b.1;
        }
        same
    });
    let mut streets: Vec<StreetCount> = catalog
        .streets()
        .iter()
        .map(|s| StreetCount {
            code: Some(s.code.clone()),
            name: s.name.clone(),
            cases: by_street.remove(&Some(s.code.clone())).unwrap_or(0),
        })
        .collect();
    // Streets the catalog does not know (none in practice) and cases without a street.
    for (code, n) in by_street {
        let name = code.clone().unwrap_or_else(|| v.lang.t("未定位街道").into());
        streets.push(StreetCount { code, name, cases: n });
    }
    streets.sort_by(|a, b| b.cases.cmp(&a.cases).then_with(|| a.code.cmp(&b.code)));
    let (first, last) = q.days(state);
    Ok(MapData {
        period: q.period_code(),
        period_label: q.period_label(state, v.lang),
        from: first.to_string(),
        to: last.to_string(),
        measure: q.measure.code(),
        measure_label: v.lang.t(q.measure.label()),
        category: q.category.clone(),
        total,
        without_cell,
        max_cell: cells.iter().map(|c| c.1).max().unwrap_or(0),
        cells,
        streets,
        list: q.list_query(state),
        alarms: state.desk.store().grid_colours().await?.into_iter().map(|(g, _, c)| (g, c.code())).collect(),
    })
}

/// `GET /map/data?period=&measure=&category=`: the counts per cell and per street, within the
/// viewer's scope, as JSON; a bad parameter is a 400 naming it.
pub(crate) async fn data(State(state): State<AppState>, v: Viewer, RawQuery(raw): RawQuery) -> Response {
    let result = async {
        let q = MapQuery::parse(&state, raw.as_deref())?;
        counts(&state, &v, &q).await
    }
    .await;
    match result {
        Ok(d) => axum::Json(d).into_response(),
        Err(e) => e.into_response(),
    }
}

// ---------------------------------------------------------------------------------------------
// The page

/// A choice of a select on the map page.
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "map.html")]
struct MapPage {
    chrome: Chrome,
    period_label: String,
    periods: Vec<Choice>,
    measures: Vec<Choice>,
    categories: Vec<Choice>,
    /// The geometry's URL (with its version); None without a grid.
    geometry: Option<String>,
    /// The counts' URL.
    data: String,
    /// What the viewer's counts cover, in words.
    scope_note: String,
}

/// Months offered in the period choice (this one and the ones before).
const MONTHS_OFFERED: u32 = 24;

/// `GET /map?period=&measure=&category=`: the map page; the counts come from `/map/data`.
pub(crate) async fn page(State(state): State<AppState>, v: Viewer, RawQuery(raw): RawQuery) -> Response {
    let q = match MapQuery::parse(&state, raw.as_deref()) {
        Ok(q) => q,
        Err(e) => return error_page(Some(chrome(&state, &v, "/map")), &e),
    };
    let catalog = state.desk.catalog();
    let current = Period::of(state.now(), state.desk.config().tz);
    let mut months = vec![current];
    for _ in 1..MONTHS_OFFERED {
        let before = months.last().expect("one").previous();
        months.push(before);
    }
    if let Span::Month(p) = q.span
        && !months.contains(&p)
    {
        months.push(p);
    }
    let periods = std::iter::once(Choice {
        value: "30d".into(),
        label: v.lang.t("近30天").into(),
        selected: q.span == Span::Last30,
    })
    .chain(months.into_iter().map(|p| Choice {
        value: period_code(p),
        label: v.lang.f("{}年{}月", &[&p.year, &p.month]),
        selected: q.span == Span::Month(p),
    }))
    .collect();
    let measures = Measure::ALL
        .iter()
        .map(|m| Choice { value: m.code().into(), label: v.lang.t(m.label()).into(), selected: *m == q.measure })
        .collect();
    let chosen = q.category.as_deref().unwrap_or("");
    let categories = catalog
        .categories()
        .iter()
        .map(|c| {
            // Leaves indented under their top category (an ideographic space, an em space in English).
            let indent = if v.lang.en() { '\u{2003}' } else { '\u{3000}' };
            let label = if c.parent.is_none() { c.name.clone() } else { format!("{indent}{} {}", c.code, c.name) };
            Choice { value: c.code.clone(), label, selected: c.code == chosen }
        })
        .collect();
    let scope_note = match v.actor.role() {
        Role::UnitHandler => v.lang.t("仅统计本单位承办或被“吹哨”的工单").into(),
        Role::GridInspector => v.lang.t("统计本单位工单及本街道内的工单").into(),
        _ => v.lang.t("全区工单").into(),
    };
    MapPage {
        chrome: chrome(&state, &v, "/map"),
        period_label: q.period_label(&state, v.lang),
        periods,
        measures,
        categories,
        geometry: state.map_geometry.get(&state).map(|g| format!("/map/geometry.json?v={}", g.version())),
        data: format!("/map/data?{}", q.data_query()),
        scope_note,
    }
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_geometry_is_the_grid_in_its_own_datum_with_square_cells() {
        let geo = jiesu_geo::Geo::dongcheng_embedded().unwrap();
        let grid = geo.grid().unwrap();
        let g = geometry_json(grid);
        let cells = g["cells"]["features"].as_array().unwrap();
        assert_eq!(cells.len(), grid.cells().len());
        // Each cell's square contains its centre (the grid's own coordinates, GCJ-02).
        for (f, c) in cells.iter().zip(grid.cells()) {
            assert_eq!(f["properties"]["name"], c.code.as_str());
            let ring = f["geometry"]["coordinates"][0].as_array().unwrap();
            let (w, s) = (ring[0][0].as_f64().unwrap(), ring[0][1].as_f64().unwrap());
            let (e, n) = (ring[2][0].as_f64().unwrap(), ring[2][1].as_f64().unwrap());
            assert!(w < c.centre.lon && c.centre.lon < e && s < c.centre.lat && c.centre.lat < n, "{}", c.code);
        }
        // cos(latitude) of Beijing, so that 100 m east and 100 m north are drawn the same length.
        let k = g["aspect_scale"].as_f64().unwrap();
        assert!((0.76..0.78).contains(&k), "{k}");
        let l = grid.lattice();
        let (mx, my) = jiesu_geo::metres_per_degree(l.north);
        assert!(((l.dlon * mx * 1.0) / (l.dlat * my) - 1.0).abs() < 0.02, "a cell is square on the ground");
        assert!((l.dlon * k / l.dlat - 1.0).abs() < 0.02, "and square on the screen with aspectScale");
        // The outline encloses every cell centre.
        let [[w, s], [e, n]] = [0, 1].map(|i| [0, 1].map(|j| g["bounds"][i][j].as_f64().unwrap()));
        assert!(grid.cells().iter().all(|c| (w..e).contains(&c.centre.lon) && (s..n).contains(&c.centre.lat)));
        assert_eq!(g["streets"].as_array().unwrap().len(), grid.streets().len());
        // Made once: a few hundred kilobytes, much less gzipped.
        let made = Geometry::of(grid);
        assert!(made.gzip.len() * 3 < made.json.len(), "{} {}", made.gzip.len(), made.json.len());
    }
}
