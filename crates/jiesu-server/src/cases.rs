//! Cases: 受理 (create), list, read, timeline, and every action of the loop.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiesu_core::{Command, CoreError};
use jiesu_domain::access::{ContactAccess, contact_access};
use jiesu_domain::draft::{Contact, FieldError, MAX_LINE_CHARS, MAX_NAME_CHARS, MAX_TEXT_CHARS, NewCase, Place};
use jiesu_domain::model::{CaseKind, Channel, Role, Status};
use jiesu_store::{CaseFilter, Page, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::actor::Actor;
use crate::error::{ApiError, Body as ErrorBody};
use crate::extract::{AppJson, AppQuery, CaseId};
use crate::params::{self, DayEnd};
use crate::views::{CaseView, EventView, Renderer};

/// Longest accepted external id.
const MAX_EXTERNAL_ID_CHARS: usize = 200;
/// Longest accepted code (channel, kind, category, street, community, grid) and contact fields:
/// longer ones are refused before they are looked up.
const MAX_CODE_CHARS: usize = 40;
const MAX_PHONE_CHARS: usize = 20;
const MAX_EMAIL_CHARS: usize = 254;
/// Default and largest page size of a listing.
const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 200;

pub(crate) fn renderer(state: &AppState) -> Renderer<'_> {
    Renderer { catalog: state.desk.catalog(), tz: state.desk.config().tz, now: state.now() }
}

/// Body of `POST /api/v1/cases`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCase {
    /// How the request reached us.
    #[schema(value_type = Channel, example = "hotline")]
    channel: String,
    /// What the citizen wants.
    #[schema(value_type = CaseKind, example = "complaint")]
    kind: String,
    /// A short title (made from the text when absent).
    #[serde(default)]
    #[schema(example = "占道经营")]
    title: Option<String>,
    /// The citizen's words (at most 5,000 characters).
    #[schema(example = "东四北大街路口有商贩占道经营，影响通行。")]
    text: String,
    /// A leaf category code from the catalog. Absent or blank: the classifier suggests one; a
    /// confident suggestion fills it, otherwise the case is received under 2299 其他事项 and
    /// waits, not dispatched, in the dispatcher's manual queue (`?status=received&category=2299`).
    #[serde(default)]
    #[schema(example = "0101")]
    category: Option<String>,
    /// Where.
    #[serde(default)]
    place: PlaceBody,
    /// Who (personal data: masked for roles that do not need it).
    #[serde(default)]
    contact: ContactBody,
    /// The id in the system the request came from (at most 200 characters). Unique per filer
    /// (the acting user or API key): the same filer posting it again gets the first case back
    /// (200) instead of a second case.
    #[serde(default)]
    external_id: Option<String>,
    /// Dispatch (派单) at once by the responsibility list; default true.
    #[serde(default = "yes")]
    #[schema(default = true)]
    auto_dispatch: bool,
}

fn yes() -> bool {
    true
}

/// Where, as the client sends it (blank strings count as absent).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewPlace)]
pub(crate) struct PlaceBody {
    /// Street address.
    #[schema(example = "东四北大街")]
    address: Option<String>,
    /// Latitude, WGS-84 degrees (what GPS and phones give; converted to the map's GCJ-02 inside),
    /// within the district's box and a margin.
    #[schema(example = 39.93)]
    lat: Option<f64>,
    /// Longitude, WGS-84 degrees, within the district's box and a margin.
    #[schema(example = 116.417)]
    lon: Option<f64>,
    /// Street code (9 digits) from the catalog.
    street: Option<String>,
    /// Community code (12 digits) from the catalog.
    community: Option<String>,
    /// Grid cell id.
    grid: Option<String>,
}

/// Who, as the client sends it (blank strings count as absent).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewContact)]
struct ContactBody {
    /// Name.
    name: Option<String>,
    /// Phone number.
    phone: Option<String>,
    /// E-mail address.
    email: Option<String>,
    /// 保密: the citizen asks that no unit see who they are; only the 12345 desk (operators,
    /// dispatchers) sees the contact, and calls back. A 举报 (`kind: report`) is always so.
    #[serde(default)]
    confidential: bool,
}

/// Trimmed, None when blank.
pub(crate) fn clean(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

impl PlaceBody {
    /// The domain's place: strings trimmed, blank ones absent.
    pub(crate) fn into_place(self) -> Place {
        Place {
            address: clean(self.address),
            lat: self.lat,
            lon: self.lon,
            street: clean(self.street),
            community: clean(self.community),
            grid: clean(self.grid),
        }
    }
}

impl CreateCase {
    /// The draft, or every field problem found (codes checked here, the rest by the domain).
    pub(crate) fn into_draft(self, state: &AppState) -> Result<(NewCase, bool), ApiError> {
        // Over-long fields are malformed input (400), refused before anything is looked at.
        let c = &self.contact;
        let p = &self.place;
        crate::input::check_lengths(&[
            ("text", Some(&self.text), MAX_TEXT_CHARS),
            ("title", self.title.as_ref(), MAX_LINE_CHARS),
            ("place.address", p.address.as_ref(), MAX_LINE_CHARS),
            ("place.street", p.street.as_ref(), MAX_CODE_CHARS),
            ("place.community", p.community.as_ref(), MAX_CODE_CHARS),
            ("place.grid", p.grid.as_ref(), MAX_CODE_CHARS),
            ("contact.name", c.name.as_ref(), MAX_NAME_CHARS),
            ("contact.phone", c.phone.as_ref(), MAX_PHONE_CHARS),
            ("contact.email", c.email.as_ref(), MAX_EMAIL_CHARS),
            ("external_id", self.external_id.as_ref(), MAX_EXTERNAL_ID_CHARS),
            ("category", self.category.as_ref(), MAX_CODE_CHARS),
            ("channel", Some(&self.channel), MAX_CODE_CHARS),
            ("kind", Some(&self.kind), MAX_CODE_CHARS),
        ])?;
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
        let mut place = self.place.into_place();
        errors.extend(crate::place::incoming(&mut place, state.bounds.as_ref(), "place.lat", "place.lon"));
        let draft = NewCase {
            channel,
            kind,
            title: clean(self.title),
            text: self.text,
            category: clean(self.category).unwrap_or_default(),
            place,
            contact: Contact {
                name: clean(self.contact.name),
                phone: clean(self.contact.phone),
                email: clean(self.contact.email),
                confidential: self.contact.confidential,
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

/// `POST /api/v1/cases`: 受理, and 派单 at once unless `auto_dispatch` is false or the case went to
/// the manual queue (no category and no confident suggestion). 201 with the case.
///
/// Idempotent by `external_id`: an external id is unique per filer (the acting user or API key).
/// Posting a case whose `external_id` the same filer already used files nothing and answers 200
/// with the case filed first, as it is now (also when both posts arrive at once: one case).
#[utoipa::path(post, path = "/cases", tag = "cases", request_body = CreateCase,
    responses(
        (status = 201, description = "The case as received (and dispatched, unless it went to the manual queue)", body = CaseView,
            headers(("Location" = String, description = "The case's URL"))),
        (status = 200, description = "The same filer already filed this `external_id`: nothing is filed, the case filed first is returned as it is now", body = CaseView,
            headers(("Location" = String, description = "The case's URL"))),
        (status = 409, description = "The same filer already filed this `external_id`, but the case is no longer in their scope", body = ErrorBody),
        (status = 400, description = "Malformed request: bad JSON, path or query value, or actor header", body = ErrorBody),
        (status = 401, description = "No actor: the caller did not say who is acting", body = ErrorBody),
        (status = 403, description = "The actor's role or unit may not do this", body = ErrorBody),
        (status = 408, description = "The body did not arrive in time (`request_timeout`)", body = ErrorBody),
        (status = 413, description = "The body is larger than the server accepts", body = ErrorBody),
        (status = 415, description = "Not a JSON body", body = ErrorBody),
        (status = 422, description = "Input that parses but is wrong: every problem is listed in `fields`", body = ErrorBody),
        (status = 503, description = "The store is busy or down", body = ErrorBody),
    ))]
pub async fn create(
    State(state): State<AppState>,
    actor: Actor,
    AppJson(body): AppJson<CreateCase>,
) -> Result<Response, ApiError> {
    let (draft, auto_dispatch) = body.into_draft(&state)?;
    let external_id = draft.external_id.clone();
    let (status, rec) = match state.desk.receive(actor.0.clone(), draft, state.now(), auto_dispatch).await {
        Ok(rec) => {
            tracing::info!(case = rec.id, status = rec.state.status.code(), "case received");
            (StatusCode::CREATED, rec)
        }
        // The same filer sent this external id before (a retry, or two posts at once): the
        // first case answers, as it is now.
        Err(CoreError::Store(StoreError::AlreadyFiled(id))) => {
            match state.desk.store().case_in(&actor.scope(state.desk.catalog()), id).await {
                Ok(rec) => (StatusCode::OK, rec),
                // Filed by this actor, but no longer theirs to see (e.g. a unit's case sent on).
                Err(StoreError::NotFound(_)) => {
                    return Err(ApiError::new(
                        StatusCode::CONFLICT,
                        "already_filed",
                        format!("external_id: '{}' was already filed", external_id.unwrap_or_default()),
                    ));
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(e) => return Err(e.into()),
    };
    let location = HeaderValue::from_str(&format!("/api/v1/cases/{}", rec.id)).expect("ascii");
    let view = renderer(&state).case(rec, &actor);
    Ok((status, [(header::LOCATION, location)], AppJson(view)).into_response())
}

/// Query of `GET /api/v1/cases`. Blank values count as absent.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Comma-separated statuses (codes or Chinese labels), e.g. `dispatched,accepted`.
    #[param(example = "dispatched,accepted")]
    status: Option<String>,
    /// The assignee's unit code (unit handlers may only give their own).
    #[param(example = "S001")]
    unit: Option<String>,
    /// A category code: a leaf, or a top level for all its leaves.
    #[param(example = "01")]
    category: Option<String>,
    /// A street code.
    #[param(example = "110101001")]
    street: Option<String>,
    /// A unit grid cell code (14 characters).
    #[param(example = "11010100101503")]
    grid: Option<String>,
    /// Received at or after: RFC 3339, or a local date (from its start).
    #[param(example = "2026-11-01")]
    from: Option<String>,
    /// Received before: RFC 3339, or a local date (to its end, the day included).
    #[param(example = "2026-11-30")]
    to: Option<String>,
    /// Only cases open past their deadline now (`true`/`false`/`1`/`0`).
    #[param(value_type = Option<bool>)]
    overdue: Option<String>,
    /// The id in the system the request came from.
    external_id: Option<String>,
    /// Text search in the title, text and address (at most 100 characters).
    q: Option<String>,
    /// Paging: only cases with a smaller id (the `next_before` of the previous page).
    #[param(value_type = Option<i64>, minimum = 1)]
    before: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 200)]
    limit: Option<String>,
}

/// Longest accepted text search.
const MAX_SEARCH_CHARS: usize = 100;

/// Body of `GET /api/v1/cases`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseList {
    /// One page, newest first.
    cases: Vec<CaseView>,
    /// Pass as `before` for the next page; null on the last page.
    next_before: Option<i64>,
    /// How many cases match the filters in all; for a text search (`q`), counted up to
    /// [`SEARCH_COUNT_CAP`] only (see `total_capped`).
    total: u64,
    /// True when a text search matched more than [`SEARCH_COUNT_CAP`] cases: `total` is then the cap,
    /// a lower bound.
    total_capped: bool,
}

/// A text search counts its matches up to this many (`CaseList::total_capped`).
pub const SEARCH_COUNT_CAP: u64 = 10_000;

/// `GET /api/v1/cases`: newest first, `next_before` pages on, `total` counts all that match.
/// Only the cases within the actor's scope are searched (see `jiesu_domain::access`).
#[utoipa::path(get, path = "/cases", tag = "cases", params(ListQuery),
    responses(
        (status = 200, description = "One page of cases", body = CaseList),
        (status = 400, description = "Malformed request: bad JSON, path or query value, or actor header", body = ErrorBody),
        (status = 401, description = "No actor: the caller did not say who is acting", body = ErrorBody),
        (status = 403, description = "The actor's role or unit may not do this", body = ErrorBody),
        (status = 503, description = "The store is busy or down", body = ErrorBody),
    ))]
pub async fn list(
    State(state): State<AppState>,
    actor: Actor,
    AppQuery(q): AppQuery<ListQuery>,
) -> Result<AppJson<CaseList>, ApiError> {
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
    if let Some(v) = blank(&q.grid) {
        filter.grid = Some(params::grid("grid", &v)?);
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
    let count = async {
        match filter.text {
            Some(_) => store.count_up_to(&scope, &filter, SEARCH_COUNT_CAP).await,
            None => store.count(&scope, &filter).await,
        }
    };
    let (page, total) = tokio::try_join!(store.list(&scope, &filter, Page { limit, before }), count)?;
    let total_capped = total > SEARCH_COUNT_CAP;
    let total = if total_capped { SEARCH_COUNT_CAP } else { total };
    let next_before = (page.len() == limit as usize).then(|| page.last().map(|c| c.id)).flatten();
    let r = renderer(&state);
    let cases: Vec<_> = page.into_iter().map(|rec| r.case(rec, &actor)).collect();
    Ok(AppJson(CaseList { cases, next_before, total, total_capped }))
}

/// `GET /api/v1/cases/{id}`.
#[utoipa::path(get, path = "/cases/{id}", tag = "cases", params(("id" = i64, Path, minimum = 1, description = "The case id", example = 1)),
    responses(
        (status = 200, description = "The case", body = CaseView),
        (status = 400, description = "Malformed request: bad JSON, path or query value, or actor header", body = ErrorBody),
        (status = 401, description = "No actor: the caller did not say who is acting", body = ErrorBody),
        (status = 403, description = "The actor's role or unit may not do this", body = ErrorBody),
        (status = 404, description = "No such case", body = ErrorBody),
        (status = 503, description = "The store is busy or down", body = ErrorBody),
    ))]
pub async fn show(
    State(state): State<AppState>,
    actor: Actor,
    CaseId(id): CaseId,
) -> Result<AppJson<CaseView>, ApiError> {
    let rec = state.desk.store().case_in(&actor.scope(state.desk.catalog()), id).await?;
    Ok(AppJson(renderer(&state).case(rec, &actor)))
}

/// Body of `GET /api/v1/cases/{id}/events`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Timeline {
    /// The case id.
    case_id: i64,
    /// The public case number (诉求编号).
    number: String,
    /// The case's status now.
    #[schema(value_type = Status)]
    status: &'static str,
    /// Its Chinese label.
    status_label: &'static str,
    /// Every event, oldest first.
    events: Vec<EventView>,
}

/// `GET /api/v1/cases/{id}/events`: the timeline, oldest first. A citizen sees the steps of the
/// loop only, with role labels (承办单位, 12345) for who acted and only the notes addressed to
/// them (the reply), as Open311 publishes them.
#[utoipa::path(get, path = "/cases/{id}/events", tag = "cases", params(("id" = i64, Path, minimum = 1, description = "The case id", example = 1)),
    responses(
        (status = 200, description = "The case's timeline", body = Timeline),
        (status = 400, description = "Malformed request: bad JSON, path or query value, or actor header", body = ErrorBody),
        (status = 401, description = "No actor: the caller did not say who is acting", body = ErrorBody),
        (status = 403, description = "The actor's role or unit may not do this", body = ErrorBody),
        (status = 404, description = "No such case", body = ErrorBody),
        (status = 503, description = "The store is busy or down", body = ErrorBody),
    ))]
pub async fn events(
    State(state): State<AppState>,
    actor: Actor,
    CaseId(id): CaseId,
) -> Result<AppJson<Timeline>, ApiError> {
    let store = state.desk.store();
    let scope = actor.scope(state.desk.catalog());
    let rec = store.case_in(&scope, id).await?;
    let events = store.events_in(&scope, id).await?;
    let r = renderer(&state);
    Ok(AppJson(Timeline {
        case_id: id,
        number: crate::views::case_number(id, rec.state.received_at, r.tz),
        status: rec.state.status.code(),
        status_label: rec.state.status.label(),
        events: if actor.role() == Role::Citizen {
            // A citizen reads the public steps of their case, not the desk's working notes.
            events.iter().filter_map(|e| r.citizen_event(e)).collect()
        } else {
            events.iter().map(|e| r.event(e)).collect()
        },
    }))
}

/// Body of `GET /api/v1/cases/{id}/contact`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactView {
    /// The case id.
    case_id: i64,
    /// The citizen's contact, in full.
    contact: Contact,
    /// 保密: only the 12345 desk sees it (a 举报 always).
    confidential: bool,
}

/// `GET /api/v1/cases/{id}/contact`: the citizen's contact in full, for calling them back; each
/// answer is recorded (who, when, which case). The 12345 desk (operators, dispatchers) may always
/// ask; supervisors and admins unless the case is confidential (保密); a handler of the unit
/// that holds the case while it is open and not confidential. Case views show the contact masked
/// to the unit, so listing an inbox reveals nobody.
#[utoipa::path(get, path = "/cases/{id}/contact", tag = "cases", params(("id" = i64, Path, minimum = 1, description = "The case id", example = 1)),
    responses(
        (status = 200, description = "The contact, in full; the reveal is recorded", body = ContactView),
        (status = 400, description = "Malformed request: bad JSON, path or query value, or actor header", body = ErrorBody),
        (status = 401, description = "No actor: the caller did not say who is acting", body = ErrorBody),
        (status = 403, description = "The actor may not see this case's contact (not the holding unit, the case is closed or confidential)", body = ErrorBody),
        (status = 404, description = "No such case", body = ErrorBody),
        (status = 503, description = "The store is busy or down", body = ErrorBody),
    ))]
pub async fn contact(
    State(state): State<AppState>,
    actor: Actor,
    CaseId(id): CaseId,
) -> Result<AppJson<ContactView>, ApiError> {
    let store = state.desk.store();
    let rec = store.case_in(&actor.scope(state.desk.catalog()), id).await?;
    let confidential = rec.case.contact_confidential();
    match contact_access(&actor.0, &rec.state, confidential) {
        ContactAccess::Full | ContactAccess::OnRequest => {}
        ContactAccess::Masked => {
            return Err(ApiError::forbidden(if confidential {
                "the citizen asked for confidentiality (保密): only the 12345 desk sees the contact"
            } else {
                "only the unit that holds the open case (and the 12345 desk) may see the contact"
            }));
        }
    }
    // Recorded before it is shown: a reveal that cannot be recorded is not made.
    store.record_contact_access(id, &actor.0, state.now()).await?;
    tracing::info!(case = id, user = %actor.0.user, "citizen contact revealed");
    Ok(AppJson(ContactView { case_id: id, contact: rec.case.contact, confidential }))
}

/// One reveal of a case's contact.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactAccessView {
    /// When.
    #[schema(format = DateTime)]
    at: String,
    /// Who.
    user: String,
    /// In which role.
    #[schema(value_type = Role)]
    role: &'static str,
    /// For which unit.
    unit: Option<String>,
}

/// `GET /api/v1/cases/{id}/contact/accesses`: who was shown the case's contact and when, oldest
/// first (supervisors and admins).
#[utoipa::path(get, path = "/cases/{id}/contact/accesses", tag = "cases", params(("id" = i64, Path, minimum = 1, description = "The case id", example = 1)),
    responses(
        (status = 200, description = "The reveals, oldest first", body = [ContactAccessView]),
        (status = 400, description = "Malformed request: bad JSON, path or query value, or actor header", body = ErrorBody),
        (status = 401, description = "No actor: the caller did not say who is acting", body = ErrorBody),
        (status = 403, description = "Only supervisors and admins read the record", body = ErrorBody),
        (status = 404, description = "No such case", body = ErrorBody),
        (status = 503, description = "The store is busy or down", body = ErrorBody),
    ))]
pub async fn contact_accesses(
    State(state): State<AppState>,
    actor: Actor,
    CaseId(id): CaseId,
) -> Result<AppJson<Vec<ContactAccessView>>, ApiError> {
    let store = state.desk.store();
    store.case_in(&actor.scope(state.desk.catalog()), id).await?;
    if !matches!(actor.role(), Role::Supervisor | Role::Admin) {
        return Err(ApiError::forbidden("only supervisors and admins read who saw a citizen's contact"));
    }
    let tz = state.desk.config().tz;
    let list = store.contact_accesses(id).await?;
    Ok(AppJson(
        list.into_iter()
            .map(|a| ContactAccessView {
                at: crate::views::local_time(a.at, tz),
                user: a.actor.user,
                role: a.actor.role.code(),
                unit: a.actor.unit,
            })
            .collect(),
    ))
}

/// Splits an action body into the command and its optional note. `Command` is internally tagged
/// and denies unknown fields, which does not combine with `#[serde(flatten)]`; so the note is
/// taken out of the object first.
pub(crate) fn command_and_note(body: Value) -> Result<(Command, Option<String>), ApiError> {
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

/// Body of `POST /api/v1/cases/{id}/actions`: one command, named by `action`, and an optional
/// note (the reason of a return or extension request, the text of a reply).
// Documentation only: the handler reads the body with `command_and_note`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ActionRequest)]
#[allow(dead_code)]
pub struct ActionRequest {
    #[serde(flatten)]
    command: Command,
    /// A note: required for `request_return`, `request_extension`, `reply` and `appeal` (its grounds).
    note: Option<String>,
}

/// `POST /api/v1/cases/{id}/actions`: one action of the loop; 200 with the case after it.
#[utoipa::path(post, path = "/cases/{id}/actions", tag = "cases", params(("id" = i64, Path, minimum = 1, description = "The case id", example = 1)), request_body = ActionRequest,
    responses(
        (status = 200, description = "The case after the action", body = CaseView),
        (status = 400, description = "Malformed request: bad JSON, path or query value, or actor header", body = ErrorBody),
        (status = 401, description = "No actor: the caller did not say who is acting", body = ErrorBody),
        (status = 403, description = "The actor's role or unit may not do this", body = ErrorBody),
        (status = 404, description = "No such case", body = ErrorBody),
        (status = 409, description = "The case's status does not allow the action (`illegal_transition`)", body = ErrorBody),
        (status = 408, description = "The body did not arrive in time (`request_timeout`)", body = ErrorBody),
        (status = 413, description = "The body is larger than the server accepts", body = ErrorBody),
        (status = 415, description = "Not a JSON body", body = ErrorBody),
        (status = 422, description = "The action parses but is wrong (unknown unit, unknown or top-level category, missing note, bad deadline)", body = ErrorBody),
        (status = 503, description = "The case keeps changing under us (`busy`, retry) or the store is down", body = ErrorBody),
    ))]
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
    use serde_json::json;

    #[test]
    fn note_is_taken_out_before_the_command_is_read() {
        let (c, n) = command_and_note(json!({"action": "reply", "note": "已处理"})).unwrap();
        assert_eq!((c, n.as_deref()), (Command::Reply, Some("已处理")));
        let (c, n) = command_and_note(json!({"action": "dispatch", "unit": "S001"})).unwrap();
        assert_eq!((c, n), (Command::Dispatch { unit: Some("S001".into()), category: None }, None));
        assert!(command_and_note(json!({"action": "accept", "bogus": 1})).unwrap_err().message().contains("bogus"));
        assert_eq!(command_and_note(json!({"note": "x"})).unwrap_err().fields()[0].field, "action");
        assert_eq!(command_and_note(json!({"action": "reply", "note": 5})).unwrap_err().fields()[0].field, "note");
        assert!(command_and_note(json!([1])).is_err());
        let missing = command_and_note(json!({"action": "callback", "solved": true})).unwrap_err();
        assert_eq!(missing.fields()[0].field, "responded");
        assert_eq!(command_and_note(json!({"action": "fly"})).unwrap_err().fields()[0].field, "action");
    }
}
