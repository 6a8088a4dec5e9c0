//! Assessment (考核): per-unit figures of a month, rankings with the change from the month before,
//! and the live counts by status. The figures are defined in `jiesu_domain::assessment`.

use axum::extract::State;
use jiesu_domain::assessment::{Period, RankRow, UnitFigures, Weights};
use jiesu_domain::model::{Status, UnitKind};
use jiesu_store::CaseFilter;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::actor::Actor;
use crate::error::{ApiError, Body as ErrorBody};
use crate::extract::{AppJson, AppQuery};
use crate::params;
use crate::views::local_time;

/// Query of `GET /api/v1/assessment` and `GET /api/v1/rankings`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PeriodQuery {
    /// The month, `YYYY-MM`; default the current month (local time).
    #[param(example = "2026-11", pattern = r"^[0-9]{4}-[0-9]{2}$")]
    period: Option<String>,
    /// A kind of unit (code or Chinese label); for rankings default `street`.
    #[param(value_type = Option<UnitKind>)]
    kind: Option<String>,
}

/// One unit's figures with its name.
#[derive(Debug, Serialize, ToSchema)]
pub struct FiguresView {
    /// Unit name.
    unit_name: Option<String>,
    /// Chinese label of the unit kind.
    unit_kind_label: &'static str,
    #[serde(flatten)]
    figures: UnitFigures,
}

/// One ranking row with the unit's name.
#[derive(Debug, Serialize, ToSchema)]
pub struct RankView {
    /// Unit name.
    unit_name: Option<String>,
    /// Chinese label of the unit kind.
    unit_kind_label: &'static str,
    #[serde(flatten)]
    row: RankRow,
}

/// Body of `GET /api/v1/assessment`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Assessment {
    /// The month assessed.
    period: Period,
    /// When the figures were computed (they change until every case of the month is closed).
    #[schema(format = DateTime)]
    as_of: String,
    /// The weights of the composite score.
    weights: Weights,
    /// Every unit with cases received in the month, by unit code.
    units: Vec<FiguresView>,
}

/// Body of `GET /api/v1/rankings`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Ranking {
    /// The month ranked.
    period: Period,
    /// The month compared with.
    previous_period: Period,
    /// The kind of unit ranked.
    #[schema(value_type = UnitKind)]
    kind: &'static str,
    /// Its Chinese label.
    kind_label: &'static str,
    /// When the ranking was computed.
    #[schema(format = DateTime)]
    as_of: String,
    /// Ranked by composite, best first.
    rows: Vec<RankView>,
}

/// Cases of one status.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusCount {
    /// The status.
    #[schema(value_type = Status)]
    status: &'static str,
    /// Its Chinese label.
    label: &'static str,
    /// Cases in it.
    count: u64,
}

/// Body of `GET /api/v1/stats`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Stats {
    /// When counted.
    #[schema(format = DateTime)]
    at: String,
    /// All cases.
    total: u64,
    /// Open cases.
    open: u64,
    /// Open cases past their deadline.
    overdue: u64,
    /// Every status, zeros included.
    by_status: Vec<StatusCount>,
}

fn blank(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// The period asked for, or the current month in local time.
fn period_of(state: &AppState, value: Option<&str>) -> Result<Period, ApiError> {
    match value {
        Some(v) => params::period("period", v),
        None => Ok(Period::of(state.now(), state.desk.config().tz)),
    }
}

fn unit_name(state: &AppState, code: &str) -> Option<String> {
    state.desk.catalog().unit(code).map(|u| u.name.clone())
}

/// `GET /api/v1/assessment?period=2026-11[&kind=street]`: every unit with cases received in the
/// month, by unit code.
#[utoipa::path(get, path = "/assessment", tag = "assessment", params(PeriodQuery),
    responses(
        (status = 200, description = "Per-unit figures of the month", body = Assessment),
        (status = 400, description = "A bad query value or actor header", body = ErrorBody),
        (status = 401, description = "No actor: the caller did not say who is acting", body = ErrorBody),
        (status = 403, description = "Citizens cannot read this", body = ErrorBody),
        (status = 503, description = "The store is busy or down", body = ErrorBody),
    ))]
pub async fn figures(
    State(state): State<AppState>,
    actor: Actor,
    AppQuery(q): AppQuery<PeriodQuery>,
) -> Result<AppJson<Assessment>, ApiError> {
    actor.check_staff()?;
    let period = period_of(&state, blank(&q.period))?;
    let kind = blank(&q.kind).map(|k| params::unit_kind("kind", k)).transpose()?;
    let now = state.now();
    let units: Vec<FiguresView> = state
        .desk
        .assessment(period, now)
        .await?
        .into_iter()
        .filter(|f| kind.is_none_or(|k| f.unit_kind == k))
        .map(|figures| FiguresView {
            unit_name: unit_name(&state, &figures.unit),
            unit_kind_label: figures.unit_kind.label(),
            figures,
        })
        .collect();
    Ok(AppJson(Assessment {
        period,
        as_of: local_time(now, state.desk.config().tz),
        weights: state.desk.config().weights,
        units,
    }))
}

/// `GET /api/v1/rankings?period=2026-11&kind=street|department|utility`: ranked by composite,
/// with the rank of the month before and the change (positive = moved up).
#[utoipa::path(get, path = "/rankings", tag = "assessment", params(PeriodQuery),
    responses(
        (status = 200, description = "The ranking of one kind of unit", body = Ranking),
        (status = 400, description = "A bad query value or actor header", body = ErrorBody),
        (status = 401, description = "No actor: the caller did not say who is acting", body = ErrorBody),
        (status = 403, description = "Citizens cannot read this", body = ErrorBody),
        (status = 503, description = "The store is busy or down", body = ErrorBody),
    ))]
pub async fn rankings(
    State(state): State<AppState>,
    actor: Actor,
    AppQuery(q): AppQuery<PeriodQuery>,
) -> Result<AppJson<Ranking>, ApiError> {
    actor.check_staff()?;
    let period = period_of(&state, blank(&q.period))?;
    let kind = blank(&q.kind).map(|k| params::unit_kind("kind", k)).transpose()?.unwrap_or(UnitKind::Street);
    let now = state.now();
    let rows: Vec<RankView> = state
        .desk
        .ranking(period, kind, now)
        .await?
        .into_iter()
        .map(|row| RankView { unit_name: unit_name(&state, &row.unit), unit_kind_label: row.unit_kind.label(), row })
        .collect();
    Ok(AppJson(Ranking {
        period,
        previous_period: period.previous(),
        kind: kind.code(),
        kind_label: kind.label(),
        as_of: local_time(now, state.desk.config().tz),
        rows,
    }))
}

/// `GET /api/v1/stats`: the cases within the actor's scope by status (every status, zeros
/// included), open and overdue now.
#[utoipa::path(get, path = "/stats", tag = "assessment",
    responses(
        (status = 200, description = "Counts by status", body = Stats),
        (status = 400, description = "A bad query value or actor header", body = ErrorBody),
        (status = 401, description = "No actor: the caller did not say who is acting", body = ErrorBody),
        (status = 403, description = "The actor may not read this", body = ErrorBody),
        (status = 503, description = "The store is busy or down", body = ErrorBody),
    ))]
pub async fn stats(State(state): State<AppState>, actor: Actor) -> Result<AppJson<Stats>, ApiError> {
    let now = state.now();
    let store = state.desk.store();
    let scope = actor.scope(state.desk.catalog());
    let overdue_filter = CaseFilter { overdue_at: Some(now), ..Default::default() };
    let (counts, overdue) = tokio::try_join!(store.count_by_status(&scope), store.count(&scope, &overdue_filter))?;
    let count_of = |s: Status| counts.iter().find(|(code, _)| code == s.code()).map_or(0, |(_, n)| *n);
    let by_status: Vec<StatusCount> =
        Status::ALL.iter().map(|&s| StatusCount { status: s.code(), label: s.label(), count: count_of(s) }).collect();
    let total: u64 = counts.iter().map(|(_, n)| n).sum();
    let open: u64 = Status::ALL.iter().filter(|s| s.is_open()).map(|&s| count_of(s)).sum();
    Ok(AppJson(Stats { at: local_time(now, state.desk.config().tz), total, open, overdue, by_status }))
}
