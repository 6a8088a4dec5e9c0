//! Public reference data: health, the catalog (units, streets, communities, categories) and the
//! working-day calendar. No actor is needed for these.

use axum::extract::State;
use axum::http::StatusCode;
use jiesu_domain::calendar::{CalendarError, DayKind};
use jiesu_domain::catalog::{Catalog, Category, Community, Street, Unit};
use jiesu_store::{Backend, CaseFilter, Scope};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::params;

/// `GET /api/v1/health`: `{"status": "ok", "backend": "sqlite", "cases": N}`; 503 when the store
/// does not answer.
pub async fn health(State(state): State<AppState>) -> Result<AppJson<Value>, ApiError> {
    let store = state.desk.store();
    let backend = match store.backend() {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    match store.count(&Scope::All, &CaseFilter::default()).await {
        Ok(n) => {
            Ok(AppJson(json!({ "status": "ok", "backend": backend, "cases": n, "version": env!("CARGO_PKG_VERSION") })))
        }
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
#[derive(Debug, Serialize)]
struct UnitView<'a> {
    code: &'a str,
    name: &'a str,
    kind: &'static str,
    kind_label: &'static str,
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
#[derive(Debug, Serialize)]
struct CategoryView<'a> {
    code: &'a str,
    name: &'a str,
    parent: Option<&'a str>,
    leaf: bool,
    deadline_class: &'static str,
    deadline_class_label: &'static str,
    unit_kind: &'static str,
    unit_kind_label: &'static str,
    unit: Option<&'a str>,
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

/// `GET /api/v1/catalog`: everything at once.
pub async fn all(State(state): State<AppState>) -> AppJson<Value> {
    let c = state.desk.catalog();
    AppJson(json!({
        "district": { "code": c.district_code(), "name": c.district_name() },
        "streets": c.streets(),
        "communities": c.communities(),
        "units": units_of(c),
        "categories": categories_of(c),
    }))
}

/// `GET /api/v1/catalog/categories`.
pub async fn categories(State(state): State<AppState>) -> AppJson<Value> {
    AppJson(json!({ "categories": categories_of(state.desk.catalog()) }))
}

/// `GET /api/v1/catalog/units`.
pub async fn units(State(state): State<AppState>) -> AppJson<Value> {
    AppJson(json!({ "units": units_of(state.desk.catalog()) }))
}

/// `GET /api/v1/catalog/streets`.
pub async fn streets(State(state): State<AppState>) -> AppJson<Value> {
    let streets: &[Street] = state.desk.catalog().streets();
    AppJson(json!({ "streets": streets }))
}

/// Query of `GET /api/v1/catalog/communities`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommunitiesQuery {
    street: Option<String>,
}

/// `GET /api/v1/catalog/communities?street=110101001`: all, or one street's.
pub async fn communities(
    State(state): State<AppState>,
    AppQuery(q): AppQuery<CommunitiesQuery>,
) -> Result<AppJson<Value>, ApiError> {
    let c = state.desk.catalog();
    let list: Vec<&Community> = match q.street.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => c.communities_of(&params::street("street", s, c)?),
        None => c.communities().iter().collect(),
    };
    Ok(AppJson(json!({ "communities": list })))
}

/// `GET /api/v1/calendar/{year}`: the year's days off and make-up working days; 404 for a year
/// without data (the calendar does not guess).
pub async fn calendar(
    State(state): State<AppState>,
    AppPath(year): AppPath<String>,
) -> Result<AppJson<Value>, ApiError> {
    let year = params::integer("year", &year, 1900, 2999)? as i32;
    let cal = state.desk.calendar();
    let days = cal.exceptions(year).map_err(|e| match e {
        CalendarError::YearNotCovered(_) => {
            let years = cal.years().iter().map(i32::to_string).collect::<Vec<_>>().join(", ");
            ApiError::not_found(format!("the calendar has no data for {year} (covered: {years})"))
        }
        other => ApiError::internal(other.to_string()),
    })?;
    let days: Vec<Value> = days
        .iter()
        .map(|d| {
            let label = match d.kind {
                DayKind::Off => "放假",
                DayKind::Work => "调休上班",
            };
            json!({ "date": d.date.to_string(), "kind": d.kind.code(), "kind_label": label, "name": d.name })
        })
        .collect();
    Ok(AppJson(json!({ "year": year, "days": days })))
}
