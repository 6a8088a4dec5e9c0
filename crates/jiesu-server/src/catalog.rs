//! Public reference data: health, the catalog (units, streets, communities, categories) and the
//! working-day calendar. No actor is needed for these.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiesu_domain::calendar::{CalendarError, DayKind};
use jiesu_domain::catalog::{Catalog, Category, Community, Street, Unit};
use jiesu_domain::model::{DeadlineClass, UnitKind};
use jiesu_store::{Backend, CaseFilter, Scope};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::error::{ApiError, Body as ErrorBody};
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::params;

/// Body of `GET /api/v1/health`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` (otherwise the answer is a 503 error).
    #[schema(example = "ok")]
    status: &'static str,
    /// `sqlite` or `postgres`.
    #[schema(example = "sqlite")]
    backend: &'static str,
    /// Cases in the store.
    cases: u64,
    /// Server version.
    version: &'static str,
}

/// `GET /api/v1/health`: `{"status": "ok", "backend": "sqlite", "cases": N}`; 503 when the store
/// does not answer.
#[utoipa::path(
    get,
    path = "/health",
    tag = "reference",
    security(()),
    responses(
        (status = 200, description = "The server and its store answer", body = Health),
        (status = 503, description = "The store does not answer (`unavailable`)", body = ErrorBody),
    ),
)]
pub async fn health(State(state): State<AppState>) -> Result<AppJson<Health>, ApiError> {
    let store = state.desk.store();
    let backend = match store.backend() {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    match store.count(&Scope::All, &CaseFilter::default()).await {
        Ok(n) => Ok(AppJson(Health { status: "ok", backend, cases: n, version: env!("CARGO_PKG_VERSION") })),
        Err(e) => {
            tracing::error!(error = %e, "health check: the store does not answer");
            Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                format!("the {backend} store does not answer"),
            ))
        }
    }
}

/// A unit with its kind's label.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Unit)]
pub struct UnitView<'a> {
    /// Short stable code: `D000` district, `S001` street office, `B01` department, `U01` utility.
    #[schema(example = "S001")]
    code: &'a str,
    /// Name.
    name: &'a str,
    /// Kind of unit.
    #[schema(value_type = UnitKind)]
    kind: &'static str,
    /// The kind's Chinese label.
    kind_label: &'static str,
    /// For a street office, the street it serves.
    street: Option<&'a str>,
}

impl<'a> From<&'a Unit> for UnitView<'a> {
    fn from(u: &'a Unit) -> Self {
        UnitView {
            code: &u.code,
            name: &u.name,
            kind: u.kind.code(),
            kind_label: u.kind.label(),
            street: u.street_code.as_deref(),
        }
    }
}

/// A category with the labels of its deadline class and unit kind.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Category)]
pub struct CategoryView<'a> {
    /// `01` for a top-level category, `0101` for a leaf (cases are filed under leaves).
    #[schema(example = "0101")]
    code: &'a str,
    /// Name.
    name: &'a str,
    /// The top-level category of a leaf.
    parent: Option<&'a str>,
    /// True for a leaf.
    leaf: bool,
    /// How fast its cases must be handled.
    #[schema(value_type = DeadlineClass)]
    deadline_class: &'static str,
    /// The deadline class's Chinese label.
    deadline_class_label: &'static str,
    /// The kind of unit responsible.
    #[schema(value_type = UnitKind)]
    unit_kind: &'static str,
    /// The unit kind's Chinese label.
    unit_kind_label: &'static str,
    /// The responsible unit, when one unit always is.
    unit: Option<&'a str>,
    /// Words that suggest the category.
    keywords: &'a [String],
}

impl<'a> From<&'a Category> for CategoryView<'a> {
    fn from(c: &'a Category) -> Self {
        CategoryView {
            code: &c.code,
            name: &c.name,
            parent: c.parent.as_deref(),
            leaf: c.is_leaf(),
            deadline_class: c.deadline_class.code(),
            deadline_class_label: c.deadline_class.label(),
            unit_kind: c.unit_kind.code(),
            unit_kind_label: c.unit_kind.label(),
            unit: c.unit.as_deref(),
            keywords: &c.keywords,
        }
    }
}

fn units_of(c: &Catalog) -> Vec<UnitView<'_>> {
    c.units().iter().map(UnitView::from).collect()
}

fn categories_of(c: &Catalog) -> Vec<CategoryView<'_>> {
    c.categories().iter().map(CategoryView::from).collect()
}

/// The district itself.
#[derive(Debug, Serialize, ToSchema)]
pub struct District<'a> {
    /// 6-digit division code.
    code: &'a str,
    /// Name.
    name: &'a str,
}

/// Body of `GET /api/v1/catalog`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Catalog)]
pub struct CatalogView<'a> {
    /// The district.
    district: District<'a>,
    /// Its streets (街道).
    streets: &'a [Street],
    /// Its communities (社区).
    communities: &'a [Community],
    /// Responsible units.
    units: Vec<UnitView<'a>>,
    /// Request categories, top levels and leaves.
    categories: Vec<CategoryView<'a>>,
}

/// `GET /api/v1/catalog`: everything at once.
#[utoipa::path(get, path = "/catalog", tag = "reference", security(()),
    responses((status = 200, description = "Units, streets, communities and categories", body = CatalogView)))]
pub async fn all(State(state): State<AppState>) -> Response {
    let c = state.desk.catalog();
    AppJson(CatalogView {
        district: District { code: c.district_code(), name: c.district_name() },
        streets: c.streets(),
        communities: c.communities(),
        units: units_of(c),
        categories: categories_of(c),
    })
    .into_response()
}

/// Body of `GET /api/v1/catalog/categories`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryList<'a> {
    /// Every category.
    categories: Vec<CategoryView<'a>>,
}

/// `GET /api/v1/catalog/categories`.
#[utoipa::path(get, path = "/catalog/categories", tag = "reference", security(()),
    responses((status = 200, description = "Request categories", body = CategoryList)))]
pub async fn categories(State(state): State<AppState>) -> Response {
    AppJson(CategoryList { categories: categories_of(state.desk.catalog()) }).into_response()
}

/// Body of `GET /api/v1/catalog/units`.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnitList<'a> {
    /// Every unit.
    units: Vec<UnitView<'a>>,
}

/// `GET /api/v1/catalog/units`.
#[utoipa::path(get, path = "/catalog/units", tag = "reference", security(()),
    responses((status = 200, description = "Responsible units", body = UnitList)))]
pub async fn units(State(state): State<AppState>) -> Response {
    AppJson(UnitList { units: units_of(state.desk.catalog()) }).into_response()
}

/// Body of `GET /api/v1/catalog/streets`.
#[derive(Debug, Serialize, ToSchema)]
pub struct StreetList<'a> {
    /// Every street.
    streets: &'a [Street],
}

/// `GET /api/v1/catalog/streets`.
#[utoipa::path(get, path = "/catalog/streets", tag = "reference", security(()),
    responses((status = 200, description = "Streets", body = StreetList)))]
pub async fn streets(State(state): State<AppState>) -> Response {
    AppJson(StreetList { streets: state.desk.catalog().streets() }).into_response()
}

/// Body of `GET /api/v1/catalog/communities`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommunityList<'a> {
    /// The communities asked for.
    communities: Vec<&'a Community>,
}

/// Query of `GET /api/v1/catalog/communities`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CommunitiesQuery {
    /// Only this street's communities (a 9-digit street code); blank means all.
    #[param(example = "110101001")]
    street: Option<String>,
}

/// `GET /api/v1/catalog/communities?street=110101001`: all, or one street's.
#[utoipa::path(get, path = "/catalog/communities", tag = "reference", security(()), params(CommunitiesQuery),
    responses(
        (status = 200, description = "Communities", body = CommunityList),
        (status = 400, description = "Unknown street code or query parameter", body = ErrorBody),
    ))]
pub async fn communities(
    State(state): State<AppState>,
    AppQuery(q): AppQuery<CommunitiesQuery>,
) -> Result<Response, ApiError> {
    let c = state.desk.catalog();
    let list: Vec<&Community> = match q.street.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => c.communities_of(&params::street("street", s, c)?),
        None => c.communities().iter().collect(),
    };
    Ok(AppJson(CommunityList { communities: list }).into_response())
}

/// One day that departs from the Monday–Friday week.
#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarDay {
    /// The date, `YYYY-MM-DD`.
    #[schema(format = Date, example = "2026-10-01")]
    date: String,
    /// `off` (放假) or `work` (调休上班).
    #[schema(value_type = DayKind)]
    kind: &'static str,
    /// Chinese label of the kind.
    kind_label: &'static str,
    /// The holiday's name.
    name: String,
}

/// Body of `GET /api/v1/calendar/{year}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarYear {
    /// The year.
    year: i32,
    /// Its exceptions, in date order.
    days: Vec<CalendarDay>,
}

/// `GET /api/v1/calendar/{year}`: the year's days off and make-up working days; 404 for a year
/// without data (the calendar does not guess).
#[utoipa::path(get, path = "/calendar/{year}", tag = "reference", security(()),
    params(("year" = i32, Path, minimum = 1900, maximum = 2999, description = "The year", example = 2026)),
    responses(
        (status = 200, description = "The year's holidays and make-up working days", body = CalendarYear),
        (status = 400, description = "The year is not a number from 1900 to 2999", body = ErrorBody),
        (status = 404, description = "The calendar has no data for that year", body = ErrorBody),
    ))]
pub async fn calendar(
    State(state): State<AppState>,
    AppPath(year): AppPath<String>,
) -> Result<AppJson<CalendarYear>, ApiError> {
    let year = params::integer("year", &year, 1900, 2999)? as i32;
    let cal = state.desk.calendar();
    let days = cal.exceptions(year).map_err(|e| match e {
        CalendarError::YearNotCovered(_) => {
            let years = cal.years().iter().map(i32::to_string).collect::<Vec<_>>().join(", ");
            ApiError::not_found(format!("the calendar has no data for {year} (covered: {years})"))
        }
        other => ApiError::internal(other.to_string()),
    })?;
    let days = days
        .iter()
        .map(|d| CalendarDay {
            date: d.date.to_string(),
            kind: d.kind.code(),
            kind_label: match d.kind {
                DayKind::Off => "放假",
                DayKind::Work => "调休上班",
            },
            name: d.name.clone(),
        })
        .collect();
    Ok(AppJson(CalendarYear { year, days }))
}
