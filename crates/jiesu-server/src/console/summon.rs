//! 吹哨报到 in the console: on the case page, the lead unit (a street office) summons departments
//! with a reason and sees, for each summoned unit, whether and when it checked in and what it
//! reported; a summoned unit's handler checks in (报到) there. In the 承办 inbox, the cases the
//! unit is summoned to. The forms post to `/cases/{id}/act` with the API's `whistle` and
//! `check_in` commands, so the desk decides, as for the JSON API.

use chrono::{DateTime, Utc};
use jiesu_domain::access::Scope;
use jiesu_domain::deadline::Span;
use jiesu_domain::model::{Role, Status, UnitKind};
use jiesu_domain::workflow::{Action, CaseState, Event};
use jiesu_store::{CaseFilter, CaseRecord, Page};

use super::Lang;
use super::pages::Opt;
use crate::AppState;
use crate::actor::Actor;
use crate::error::ApiError;

/// Local minutes, as the pages show times.
fn local(state: &AppState, t: DateTime<Utc>) -> String {
    t.with_timezone(&state.desk.config().tz).format("%Y-%m-%d %H:%M").to_string()
}

fn unit_name(state: &AppState, code: &str) -> String {
    state.desk.catalog().unit(code).map_or_else(|| code.to_string(), |u| u.name.clone())
}

/// One summoned unit as the case page shows it.
pub(crate) struct JointLine {
    pub unit: String,
    pub unit_name: String,
    pub summoned_at: String,
    /// Who summoned it, and why (the 吹哨 event's note).
    pub summoned_by: String,
    pub reason: Option<String>,
    pub checkin_due: String,
    pub checked_in_at: Option<String>,
    /// Who checked in, and what they reported (the 报到 event's note).
    pub checked_in_by: Option<String>,
    pub report: Option<String>,
    /// Not checked in and past the check-in deadline.
    pub late: bool,
}

/// The case page's 吹哨报到 panel.
#[derive(Default)]
pub(crate) struct Summons {
    /// The summoned units, in the order they were summoned.
    pub joint: Vec<JointLine>,
    /// The viewer's unit leads the case and may summon (吹哨).
    pub can_whistle: bool,
    /// Units the lead may summon: departments and utilities not yet summoned.
    pub candidates: Vec<Opt>,
    /// The time summoned units have to check in by default, in words.
    pub default_checkin: String,
    /// The viewer's unit was summoned and has not checked in yet.
    pub can_check_in: bool,
}

impl Summons {
    /// Whether the panel has anything to show.
    pub fn shown(&self) -> bool {
        !self.joint.is_empty() || self.can_whistle
    }

    /// How many summoned units have checked in.
    pub fn checked_in(&self) -> usize {
        self.joint.iter().filter(|j| j.checked_in_at.is_some()).count()
    }
}

/// Statuses in which 吹哨 and 报到 are possible.
fn joint_status(status: Status) -> bool {
    matches!(status, Status::Accepted | Status::InProgress)
}

/// The panel of case `rec` with its `events`, for `actor`. What it offers follows the desk's
/// rules (`workflow::authorize`: only the lead unit's handler summons, only a summoned unit checks
/// in, once); the desk decides again when the form is posted.
pub(crate) fn panel(state: &AppState, lang: Lang, actor: &Actor, rec: &CaseRecord, events: &[Event]) -> Summons {
    let s: &CaseState = &rec.state;
    let who = |e: &Event| {
        let unit = e.actor.unit.as_deref().map(|u| format!(" · {}", unit_name(state, u))).unwrap_or_default();
        lang.f("{}（{}）", &[&e.actor.user, &format!("{}{unit}", lang.t(e.actor.role.label()))])
    };
    let now = state.now();
    let joint = s
        .joint
        .iter()
        .map(|j| {
            // The 吹哨 event that named this unit, and the unit's 报到.
            let whistle = events
                .iter()
                .rev()
                .find(|e| matches!(&e.action, Action::Whistle { units, .. } if units.contains(&j.unit)));
            let check_in = events
                .iter()
                .find(|e| matches!(e.action, Action::CheckIn) && e.actor.unit.as_deref() == Some(j.unit.as_str()));
            JointLine {
                unit: j.unit.clone(),
                unit_name: unit_name(state, &j.unit),
                summoned_at: local(state, j.summoned_at),
                summoned_by: whistle.map(who).unwrap_or_default(),
                reason: whistle.and_then(|e| e.note.clone()),
                checkin_due: local(state, j.checkin_due),
                checked_in_at: j.checked_in_at.map(|t| local(state, t)),
                checked_in_by: check_in.map(who),
                report: check_in.and_then(|e| e.note.clone()),
                late: j.checked_in_at.is_none() && j.checkin_due <= now,
            }
        })
        .collect();
    let a = &actor.0;
    let handler = a.role == Role::UnitHandler && a.unit.is_some();
    // The desk's rule: a street office leading the case summons departments and utilities.
    let street_office = |code: &str| state.desk.catalog().unit(code).is_some_and(|u| u.kind == UnitKind::Street);
    let leads =
        handler && s.assignee.is_some() && s.assignee == a.unit && s.assignee.as_deref().is_some_and(street_office);
    let can_whistle = leads && joint_status(s.status);
    let can_check_in = handler
        && joint_status(s.status)
        && s.joint.iter().any(|j| Some(&j.unit) == a.unit.as_ref() && j.checked_in_at.is_none());
    let candidates = if can_whistle {
        state
            .desk
            .catalog()
            .units()
            .iter()
            .filter(|u| matches!(u.kind, UnitKind::Department | UnitKind::Utility))
            .filter(|u| Some(&u.code) != s.assignee.as_ref() && !s.joint.iter().any(|j| j.unit == u.code))
            .map(|u| Opt { value: u.code.clone(), label: u.name.clone() })
            .collect()
    } else {
        Vec::new()
    };
    let default_checkin = match state.desk.config().checkin {
        Span::Hours(h) => lang.f("{} 小时", &[&h]),
        Span::WorkingDays(d) => lang.f("{} 个工作日", &[&d]),
        Span::Days(d) => lang.f("{} 天", &[&d]),
    };
    Summons { joint, can_whistle, candidates, default_checkin, can_check_in }
}

/// A case the viewer's unit is summoned to, as the inbox lists it.
pub(crate) struct SummonedRow {
    pub id: i64,
    pub number: String,
    pub title: String,
    pub status_label: &'static str,
    pub lead: String,
    pub checkin_due: String,
    pub checked_in_at: Option<String>,
    pub late: bool,
}

/// The open cases `actor`'s unit is summoned to (吹哨) and does not lead, the ones still to check
/// in first, then by check-in deadline: read within the actor's scope, which holds exactly the
/// unit's cases and those it is summoned to.
pub(crate) async fn summoned(state: &AppState, lang: Lang, actor: &Actor) -> Result<Vec<SummonedRow>, ApiError> {
    let Some(unit) = actor.0.unit.clone() else { return Ok(Vec::new()) };
    let scope: Scope = actor.scope(state.desk.catalog());
    let filter = CaseFilter {
        statuses: vec![Status::Accepted, Status::InProgress],
        summoned: Some(unit.clone()),
        ..Default::default()
    };
    let recs = state.desk.store().list(&scope, &filter, Page { limit: 200, before: None }).await?;
    let tz = state.desk.config().tz;
    let now = state.now();
    let mut rows: Vec<(bool, DateTime<Utc>, SummonedRow)> = recs
        .into_iter()
        .filter(|r| r.state.assignee.as_deref() != Some(unit.as_str()))
        .filter_map(|r| {
            let j = r.state.joint.iter().find(|j| j.unit == unit)?.clone();
            let row = SummonedRow {
                id: r.id,
                number: crate::views::case_number(r.id, r.state.received_at, tz),
                title: r.case.display_title(),
                status_label: lang.t(r.state.status.label()),
                lead: r.state.assignee.as_deref().map(|u| unit_name(state, u)).unwrap_or_default(),
                checkin_due: local(state, j.checkin_due),
                checked_in_at: j.checked_in_at.map(|t| local(state, t)),
                late: j.checked_in_at.is_none() && j.checkin_due <= now,
            };
            Some((j.checked_in_at.is_some(), j.checkin_due, row))
        })
        .collect();
    rows.sort_by_key(|(done, due, _)| (*done, *due));
    Ok(rows.into_iter().map(|(_, _, r)| r).collect())
}
