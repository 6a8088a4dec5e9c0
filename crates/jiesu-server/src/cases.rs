//! Cases: 受理 (create), list, read, timeline, and every action of the loop.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiesu_core::Command;
use jiesu_domain::draft::{Contact, FieldError, NewCase, Place};
use jiesu_domain::model::{CaseKind, Channel};
use jiesu_store::{CaseFilter, Page};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::actor::Actor;
use crate::error::ApiError;
use crate::extract::{AppJson, AppQuery, CaseId};
use crate::params::{self, DayEnd};
use crate::views::{CaseView, Renderer};

/// Longest accepted external id.
const MAX_EXTERNAL_ID_CHARS: usize = 200;
/// Default and largest page size of a listing.
const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 200;

fn renderer(state: &AppState) -> Renderer<'_> {
    Renderer { catalog: state.desk.catalog(), tz: state.desk.config().tz, now: state.now() }
}

/// Body of `POST /api/v1/cases`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateCase {
    channel: String,
    kind: String,
    #[serde(default)]
    title: Option<String>,
    text: String,
    category: String,
    #[serde(default)]
    place: PlaceBody,
    #[serde(default)]
    contact: ContactBody,
    #[serde(default)]
    external_id: Option<String>,
    #[serde(default = "yes")]
    auto_dispatch: bool,
}

fn yes() -> bool {
    true
}

/// Where, as the client sends it (blank strings count as absent).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PlaceBody {
    address: Option<String>,
    lat: Option<f64>,
    lon: Option<f64>,
    street: Option<String>,
    community: Option<String>,
    grid: Option<String>,
}

/// Who, as the client sends it (blank strings count as absent).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ContactBody {
    name: Option<String>,
    phone: Option<String>,
    email: Option<String>,
}

/// Trimmed, None when blank.
fn clean(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

impl CreateCase {
    /// The draft, or every field problem found (codes checked here, the rest by the domain).
    fn into_draft(self, state: &AppState) -> Result<(NewCase, bool), ApiError> {
        let mut errors = Vec::new();
        let channel = self.channel.trim().parse::<Channel>().unwrap_or_else(|_| {
            let all = Channel::ALL.iter().map(|c| c.code()).collect::<Vec<_>>().join(", ");
            errors.push(FieldError {
                field: "channel".into(),
                message: format!("unknown channel '{}' (one of {all})", self.channel),
            });
            Channel::Other
        });
        let kind = self.kind.trim().parse::<CaseKind>().unwrap_or_else(|_| {
            let all = CaseKind::ALL.iter().map(|c| c.code()).collect::<Vec<_>>().join(", ");
            errors.push(FieldError {
                field: "kind".into(),
                message: format!("unknown kind '{}' (one of {all})", self.kind),
            });
            CaseKind::Consult
        });
        let external_id = clean(self.external_id);
        if external_id.as_ref().is_some_and(|x| x.chars().count() > MAX_EXTERNAL_ID_CHARS) {
            errors.push(FieldError {
                field: "external_id".into(),
                message: format!("longer than {MAX_EXTERNAL_ID_CHARS} characters"),
            });
        }
        let draft = NewCase {
            channel,
            kind,
            title: clean(self.title),
            text: self.text,
            category: self.category.trim().to_string(),
            place: Place {
                address: clean(self.place.address),
                lat: self.place.lat,
                lon: self.place.lon,
                street: clean(self.place.street),
                community: clean(self.place.community),
                grid: clean(self.place.grid),
            },
            contact: Contact {
                name: clean(self.contact.name),
                phone: clean(self.contact.phone),
                email: clean(self.contact.email),
            },
            external_id,
        };
        if !errors.is_empty() {
            // Report the domain's findings too, so the client sees every problem at once.
            if let Err(more) = draft.validate(state.desk.catalog()) {
                errors.extend(more);
            }
            return Err(ApiError::invalid_fields(errors));
        }
        Ok((draft, self.auto_dispatch))
    }
}

/// `POST /api/v1/cases`: 受理, and 派单 at once unless `auto_dispatch` is false. 201 with the case.
pub async fn create(
    State(state): State<AppState>,
    actor: Actor,
    AppJson(body): AppJson<CreateCase>,
) -> Result<Response, ApiError> {
    let (draft, auto_dispatch) = body.into_draft(&state)?;
    let rec = state.desk.receive(actor.0.clone(), draft, state.now(), auto_dispatch).await?;
    let location = HeaderValue::from_str(&format!("/api/v1/cases/{}", rec.id)).expect("ascii");
    tracing::info!(case = rec.id, status = rec.state.status.code(), "case received");
    let view = renderer(&state).case(rec, &actor);
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], AppJson(view)).into_response())
}

/// Query of `GET /api/v1/cases`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    status: Option<String>,
    unit: Option<String>,
    category: Option<String>,
    street: Option<String>,
    from: Option<String>,
    to: Option<String>,
    overdue: Option<String>,
    external_id: Option<String>,
    q: Option<String>,
    before: Option<String>,
    limit: Option<String>,
}

/// Longest accepted text search.
const MAX_SEARCH_CHARS: usize = 100;

/// `GET /api/v1/cases`: newest first, `next_before` pages on, `total` counts all that match.
/// Only the cases within the actor's scope are searched (see `jiesu_domain::access`).
pub async fn list(
    State(state): State<AppState>,
    actor: Actor,
    AppQuery(q): AppQuery<ListQuery>,
) -> Result<AppJson<Value>, ApiError> {
    let catalog = state.desk.catalog();
    let tz = state.desk.config().tz;
    let now = state.now();
    let blank = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
    let mut filter = CaseFilter::default();
    if let Some(v) = blank(&q.status) {
        filter.statuses = params::statuses("status", &v)?;
    }
    if let Some(v) = blank(&q.unit) {
        filter.assignee = Some(params::unit("unit", &v, catalog)?);
    }
    if let Some(v) = blank(&q.category) {
        filter.category = Some(params::category("category", &v, catalog)?);
    }
    if let Some(v) = blank(&q.street) {
        filter.street = Some(params::street("street", &v, catalog)?);
    }
    if let Some(v) = blank(&q.from) {
        filter.received_from = Some(params::instant("from", &v, tz, DayEnd::Start)?);
    }
    if let Some(v) = blank(&q.to) {
        filter.received_to = Some(params::instant("to", &v, tz, DayEnd::End)?);
    }
    if let (Some(f), Some(t)) = (filter.received_from, filter.received_to)
        && f >= t
    {
        return Err(ApiError::bad_param("to", "must be later than from"));
    }
    if let Some(v) = blank(&q.overdue)
        && params::boolean("overdue", &v)?
    {
        filter.overdue_at = Some(now);
    }
    filter.external_id = blank(&q.external_id);
    if let Some(text) = blank(&q.q) {
        if text.chars().count() > MAX_SEARCH_CHARS {
            return Err(ApiError::bad_param("q", format!("longer than {MAX_SEARCH_CHARS} characters")));
        }
        filter.text = Some(text);
    }
    let before = blank(&q.before).map(|v| params::integer("before", &v, 1, i64::MAX)).transpose()?;
    let limit =
        blank(&q.limit).map(|v| params::integer("limit", &v, 1, MAX_LIMIT)).transpose()?.unwrap_or(DEFAULT_LIMIT);
    let limit = u32::try_from(limit).expect("at most MAX_LIMIT");

    let store = state.desk.store();
    let scope = actor.scope(catalog);
    let (page, total) =
        tokio::try_join!(store.list(&scope, &filter, Page { limit, before }), store.count(&scope, &filter))?;
    let next_before = (page.len() == limit as usize).then(|| page.last().map(|c| c.id)).flatten();
    let r = renderer(&state);
    let cases: Vec<_> = page.into_iter().map(|rec| r.case(rec, &actor)).collect();
    Ok(AppJson(json!({ "cases": cases, "next_before": next_before, "total": total })))
}

/// `GET /api/v1/cases/{id}`.
pub async fn show(
    State(state): State<AppState>,
    actor: Actor,
    CaseId(id): CaseId,
) -> Result<AppJson<CaseView>, ApiError> {
    let rec = state.desk.store().case_in(&actor.scope(state.desk.catalog()), id).await?;
    Ok(AppJson(renderer(&state).case(rec, &actor)))
}

/// `GET /api/v1/cases/{id}/events`: the timeline, oldest first.
pub async fn events(
    State(state): State<AppState>,
    actor: Actor,
    CaseId(id): CaseId,
) -> Result<AppJson<Value>, ApiError> {
    let store = state.desk.store();
    let scope = actor.scope(state.desk.catalog());
    let rec = store.case_in(&scope, id).await?;
    let events = store.events_in(&scope, id).await?;
    let r = renderer(&state);
    let events: Vec<_> = events.iter().map(|e| r.event(e)).collect();
    Ok(AppJson(json!({
        "case_id": id,
        "number": crate::views::case_number(id, rec.state.received_at, r.tz),
        "status": rec.state.status.code(),
        "status_label": rec.state.status.label(),
        "events": events,
    })))
}

/// Splits an action body into the command and its optional note. `Command` is internally tagged
/// and denies unknown fields, which does not combine with `#[serde(flatten)]`; so the note is
/// taken out of the object first.
fn command_and_note(body: Value) -> Result<(Command, Option<String>), ApiError> {
    let Value::Object(mut map) = body else {
        return Err(ApiError::bad_request("expected a JSON object such as {\"action\": \"accept\"}"));
    };
    let note = match map.remove("note") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(_) => return Err(ApiError::bad_param("note", "must be a string")),
    };
    if !map.contains_key("action") {
        return Err(ApiError::bad_param("action", "missing: name the action, e.g. {\"action\": \"accept\"}"));
    }
    let command = serde_json::from_value::<Command>(Value::Object(map.clone())).map_err(|e| {
        let message = e.to_string();
        let field = if message.contains("unknown variant") {
            Some("action".into())
        } else {
            crate::error::serde_field(&message)
        };
        let e = ApiError::bad_request(format!("not a valid action: {message}"));
        match field {
            Some(f) => e.with_field(&f, message),
            None => e,
        }
    })?;
    // serde ignores `deny_unknown_fields` for the unit variants of an internally tagged enum
    // (`{"action": "accept", "bogus": 1}` parses), so compare with the fields the command has.
    let known = serde_json::to_value(&command).map_err(|e| ApiError::internal(e.to_string()))?;
    if let Some(field) = map.keys().find(|k| known.get(k.as_str()).is_none()) {
        return Err(ApiError::bad_param(field, format!("unknown field for the action {}", command.code())));
    }
    Ok((command, note))
}

/// `POST /api/v1/cases/{id}/actions`: one action of the loop; 200 with the case after it.
pub async fn act(
    State(state): State<AppState>,
    actor: Actor,
    CaseId(id): CaseId,
    AppJson(body): AppJson<Value>,
) -> Result<AppJson<CaseView>, ApiError> {
    let (command, note) = command_and_note(body)?;
    let code = command.code();
    let rec = state.desk.act(id, actor.0.clone(), command, note, state.now()).await?;
    tracing::info!(case = id, action = code, status = rec.state.status.code(), "case action");
    Ok(AppJson(renderer(&state).case(rec, &actor)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn note_is_taken_out_before_the_command_is_read() {
        let (c, n) = command_and_note(json!({"action": "reply", "note": "已处理"})).unwrap();
        assert_eq!((c, n.as_deref()), (Command::Reply, Some("已处理")));
        let (c, n) = command_and_note(json!({"action": "dispatch", "unit": "S001"})).unwrap();
        assert_eq!((c, n), (Command::Dispatch { unit: Some("S001".into()) }, None));
        assert!(command_and_note(json!({"action": "accept", "bogus": 1})).unwrap_err().message().contains("bogus"));
        assert_eq!(command_and_note(json!({"note": "x"})).unwrap_err().fields()[0].field, "action");
        assert_eq!(command_and_note(json!({"action": "reply", "note": 5})).unwrap_err().fields()[0].field, "note");
        assert!(command_and_note(json!([1])).is_err());
        let missing = command_and_note(json!({"action": "callback", "solved": true})).unwrap_err();
        assert_eq!(missing.fields()[0].field, "responded");
        assert_eq!(command_and_note(json!({"action": "fly"})).unwrap_err().fields()[0].field, "action");
    }
}
