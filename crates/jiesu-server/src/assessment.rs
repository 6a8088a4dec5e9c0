//! Assessment (考核): per-unit figures of a month, rankings with the change from the month before,
//! and the live counts by status. The figures are defined in `jiesu_domain::assessment`.

use axum::extract::State;
use jiesu_domain::assessment::{Period, RankRow, UnitFigures};
use jiesu_domain::model::{Status, UnitKind};
use jiesu_store::CaseFilter;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::AppState;
use crate::actor::Actor;
use crate::error::ApiError;
use crate::extract::{AppJson, AppQuery};
use crate::params;
use crate::views::local_time;

/// Query of `GET /api/v1/assessment`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssessmentQuery {
    period: Option<String>,
    kind: Option<String>,
}

/// Query of `GET /api/v1/rankings`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RankingQuery {
    period: Option<String>,
    kind: Option<String>,
}

/// One unit's figures with its name.
#[derive(Debug, Serialize)]
struct FiguresView {
    unit_name: Option<String>,
    unit_kind_label: &'static str,
    #[serde(flatten)]
    figures: UnitFigures,
}

/// One ranking row with the unit's name.
#[derive(Debug, Serialize)]
struct RankView {
    unit_name: Option<String>,
    unit_kind_label: &'static str,
    #[serde(flatten)]
    row: RankRow,
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
pub async fn figures(
    State(state): State<AppState>,
    actor: Actor,
    AppQuery(q): AppQuery<AssessmentQuery>,
) -> Result<AppJson<Value>, ApiError> {
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
    Ok(AppJson(json!({
        "period": period,
        "as_of": local_time(now, state.desk.config().tz),
        "weights": state.desk.config().weights,
        "units": units,
    })))
}

/// `GET /api/v1/rankings?period=2026-11&kind=street|department|utility`: ranked by composite,
/// with the rank of the month before and the change (positive = moved up).
pub async fn rankings(
    State(state): State<AppState>,
    actor: Actor,
    AppQuery(q): AppQuery<RankingQuery>,
) -> Result<AppJson<Value>, ApiError> {
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
    Ok(AppJson(json!({
        "period": period,
        "previous_period": period.previous(),
        "kind": kind.code(),
        "kind_label": kind.label(),
        "as_of": local_time(now, state.desk.config().tz),
        "rows": rows,
    })))
}

/// `GET /api/v1/stats`: the cases within the actor's scope by status (every status, zeros
/// included), open and overdue now.
pub async fn stats(State(state): State<AppState>, actor: Actor) -> Result<AppJson<Value>, ApiError> {
    let now = state.now();
    let store = state.desk.store();
    let scope = actor.scope(state.desk.catalog());
    let overdue_filter = CaseFilter { overdue_at: Some(now), ..Default::default() };
    let (counts, overdue) = tokio::try_join!(store.count_by_status(&scope), store.count(&scope, &overdue_filter))?;
    let count_of = |s: Status| counts.iter().find(|(code, _)| code == s.code()).map_or(0, |(_, n)| *n);
    let by_status: Vec<Value> =
        Status::ALL.iter().map(|&s| json!({ "status": s.code(), "label": s.label(), "count": count_of(s) })).collect();
    let total: u64 = counts.iter().map(|(_, n)| n).sum();
    let open: u64 = Status::ALL.iter().filter(|s| s.is_open()).map(|&s| count_of(s)).sum();
    Ok(AppJson(json!({
        "at": local_time(now, state.desk.config().tz),
        "total": total,
        "open": open,
        "overdue": overdue,
        "by_status": by_status,
    })))
}
