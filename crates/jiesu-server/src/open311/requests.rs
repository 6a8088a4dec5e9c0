//! Services, service definitions, requests (list, one, create), tokens and media.

use std::collections::{BTreeMap, HashMap};

use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::Uri;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{Duration, Utc};
use jiesu_domain::catalog::Category;
use jiesu_domain::draft::{Contact, NewCase, Place, mask_phone};
use jiesu_domain::model::{CaseKind, Channel};
use jiesu_domain::workflow::{Action, Event};
use jiesu_store::{CaseFilter, CaseRecord, ClientUpdate, Open311Intake, Open311Request, StoreError};
use rand::RngExt;
use serde_json::{Value, json};

use super::error::Open311Error;
use super::format::{Doc, strip_suffix};
use super::params::{Params, w3c_datetime};
use super::posted::Posted;
use super::services::{self, attributes_text, check_attributes};
use super::{Ctx, Fmt, check_jurisdiction, extended_status, open_or_closed, respond, statuses_for};

/// The default and widest window of `GET requests`, in days.
const WINDOW_DAYS: i64 = 90;
/// The default and largest `page_size`.
const MAX_PAGE_SIZE: i64 = 1000;
/// Most ids in one `service_request_id` list.
const MAX_IDS: usize = 200;
/// The public description of a 举报.
const REPORT_WITHHELD: &str = "（举报内容不公开）";

/// Masks runs of 7 or more digits (phone, ID-card and bank numbers) in a free text meant for the
/// public: `请拨13812345678` → `请拨138****5678`.
pub(crate) fn scrub(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut digits = String::new();
    let flush = |digits: &mut String, out: &mut String| {
        if digits.chars().count() >= 7 {
            out.push_str(&mask_phone(digits));
        } else {
            out.push_str(digits);
        }
        digits.clear();
    };
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else {
            flush(&mut digits, &mut out);
            out.push(c);
        }
    }
    flush(&mut digits, &mut out);
    out
}

/// A random token or media name: 32 hex digits.
pub(crate) fn random_name() -> String {
    let bytes: [u8; 16] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn leaf<'a>(ctx: &'a Ctx, code: &str) -> Result<&'a Category, Open311Error> {
    match ctx.app.desk.catalog().category(code) {
        Some(c) if c.is_leaf() => Ok(c),
        Some(c) => Err(Open311Error::not_found(format!(
            "service_code '{code}' ({}) is a group, not a service; use one of its services",
            c.name
        ))),
        None => Err(Open311Error::not_found(format!("service_code '{code}' not found"))),
    }
}

/// `GET services`.
pub(crate) async fn services(State(ctx): State<Ctx>, Fmt(format): Fmt, uri: Uri) -> Response {
    let params = Params::from_query(uri.query());
    let result = check_jurisdiction(&ctx, params.get("jurisdiction_id")).map(|()| {
        let catalog = ctx.app.desk.catalog();
        let policy = &ctx.app.desk.config().policy;
        let list: Vec<Value> = catalog
            .leaf_categories()
            .into_iter()
            .map(|c| services::service_json(c, catalog, &ctx.services, policy))
            .collect();
        Doc::ok("services", json!(list))
    });
    respond(format, result)
}

/// `GET services/{code}`.
pub(crate) async fn definition(
    State(ctx): State<Ctx>,
    Fmt(format): Fmt,
    Path(code): Path<String>,
    uri: Uri,
) -> Response {
    let params = Params::from_query(uri.query());
    let result = check_jurisdiction(&ctx, params.get("jurisdiction_id"))
        .and_then(|()| leaf(&ctx, strip_suffix(&code)))
        .map(|c| Doc::ok("service_definition", services::definition_json(c, &ctx.services)));
    respond(format, result)
}

/// What is public about a case's history: the latest public note (a reply) and the notes list.
struct History<'a> {
    events: &'a [Event],
    updates: Vec<&'a ClientUpdate>,
}

/// The public note of event `e` (None for staff's working notes); `confidential` for a 举报.
pub(crate) fn event_note(ctx: &Ctx, e: &Event, confidential: bool) -> Option<String> {
    match &e.action {
        // A reply is addressed to the citizen: public (numbers masked), except for a 举报.
        Action::Reply if confidential => None,
        Action::Reply => e.note.as_deref().map(scrub),
        Action::Dispatch { unit, .. } => ctx.app.desk.catalog().unit(unit).map(|u| format!("派至{}", u.name)),
        Action::Whistle { units, .. } => {
            let names: Vec<String> =
                units.iter().map(|u| ctx.app.desk.catalog().unit(u).map_or(u.clone(), |x| x.name.clone())).collect();
            Some(format!("吹哨召集{}", names.join("、")))
        }
        // Other notes are staff's working notes: not published.
        _ => None,
    }
}

fn note_type(a: &Action) -> &'static str {
    match a {
        Action::Receive { .. } => "opened",
        Action::Close | Action::Merge { .. } => "closed",
        Action::Reopen { .. } => "reopened",
        _ => "activity",
    }
}

fn request_json(
    ctx: &Ctx,
    headers: &HeaderMap,
    rec: &CaseRecord,
    extra: Option<&Open311Request>,
    history: &History<'_>,
    extensions: bool,
) -> Value {
    let catalog = ctx.app.desk.catalog();
    let s = &rec.state;
    let category = catalog.category(&s.category);
    let media_url = match extra {
        Some(Open311Request { media_id: Some(id), .. }) => Some(ctx.url(headers, &format!("media/{id}"))),
        Some(x) => x.media_url.clone(),
        None => None,
    };
    // A 举报 (report of wrongdoing) is published without its words: they could name the reporter.
    let confidential = rec.case.kind == CaseKind::Report;
    let status_notes = history
        .events
        .iter()
        .rev()
        .find(|e| matches!(e.action, Action::Reply))
        .and_then(|e| e.note.as_deref())
        .map(scrub)
        .filter(|_| !confidential);
    let description = if confidential { REPORT_WITHHELD.to_string() } else { scrub(&rec.case.text) };
    let agency = s.assignee.as_deref().and_then(|u| catalog.unit(u)).map(|u| u.name.clone());
    let notice = category.map(|c| services::notice(c, catalog, &ctx.app.desk.config().policy));
    let address_id = rec.case.place.community.clone().or_else(|| rec.case.place.street.clone());
    let mut v = json!({
        "service_request_id": rec.id.to_string(),
        "status": open_or_closed(s.status),
        "status_notes": status_notes,
        "service_name": category.map(|c| c.name.clone()),
        "service_code": s.category,
        "description": description,
        "agency_responsible": agency,
        "service_notice": notice,
        "requested_datetime": ctx.time(s.received_at),
        "updated_datetime": ctx.time(s.updated_at),
        "expected_datetime": s.due.map(|d| ctx.time(d)),
        "address": rec.case.place.address.as_deref().map(scrub),
        "address_id": address_id,
        "zipcode": null,
        "lat": rec.case.place.lat,
        "long": rec.case.place.lon,
        "media_url": media_url,
    });
    if extensions {
        let tz = ctx.app.desk.config().tz;
        let street = rec.case.place.street.as_deref().and_then(|c| catalog.street(c));
        let mut notes: Vec<(chrono::DateTime<Utc>, Value)> = history
            .events
            .iter()
            .map(|e| {
                let to = e.to;
                let summary = format!("{}（{}）", e.action.label(), to.label());
                let note = json!({
                    "datetime": ctx.time(e.at),
                    "summary": summary,
                    "type": note_type(&e.action),
                    "status": extended_status(to, matches!(e.action, Action::Reopen { .. })),
                    "description": event_note(ctx, e, confidential),
                });
                (e.at, note)
            })
            .collect();
        for u in &history.updates {
            let media =
                u.media_id.as_ref().map(|id| ctx.url(headers, &format!("media/{id}"))).or_else(|| u.media_url.clone());
            notes.push((
                u.received_at,
                json!({
                    "datetime": ctx.time(u.updated_at),
                    "summary": "市民补充",
                    "type": "update",
                    "status": u.status.to_ascii_lowercase(),
                    "description": if confidential { REPORT_WITHHELD.to_string() } else { scrub(&u.description) },
                    "media_url": media,
                }),
            ));
        }
        notes.sort_by_key(|(t, _)| *t);
        let notes: Vec<Value> = notes.into_iter().map(|(_, n)| n).collect();
        v["extended_attributes"] = json!({
            "status_extended": extended_status(s.status, s.reopen_count > 0 && s.status == jiesu_domain::model::Status::Dispatched),
            "status_label": s.status.label(),
            "case_number": crate::views::case_number(rec.id, s.received_at, tz),
            "channel": rec.case.channel.code(),
            "group": category.and_then(|c| c.parent.as_deref()).and_then(|p| catalog.category(p)).map(|p| p.name.clone()),
            "street": rec.case.place.street,
            "street_name": street.map(|s| s.name.clone()),
            "community": rec.case.place.community,
            "deadline_class": s.deadline_class.code(),
            "attributes": extra.map(|x| Value::Object(x.attributes.clone())).unwrap_or(json!({})),
        });
        v["notes"] = json!(notes);
    }
    v
}

/// The JSON of `recs` (with their Open311 side, history and client updates), in order.
async fn requests_json(
    ctx: &Ctx,
    headers: &HeaderMap,
    recs: &[CaseRecord],
    extensions: bool,
) -> Result<Value, Open311Error> {
    let ids: Vec<i64> = recs.iter().map(|r| r.id).collect();
    let store = ctx.app.desk.store();
    let (extras, events, updates) =
        tokio::try_join!(store.open311_requests(&ids), store.events_of_cases(&ids), store.client_updates_of(&ids))?;
    let mut by_case: HashMap<i64, Vec<Event>> = HashMap::new();
    for (id, e) in events {
        by_case.entry(id).or_default().push(e);
    }
    let list: Vec<Value> = recs
        .iter()
        .map(|rec| {
            let events = by_case.get(&rec.id).map(Vec::as_slice).unwrap_or(&[]);
            let history = History { events, updates: updates.iter().filter(|u| u.case_id == rec.id).collect() };
            request_json(ctx, headers, rec, extras.get(&rec.id), &history, extensions)
        })
        .collect();
    Ok(json!(list))
}

fn boolean(name: &str, v: Option<&str>) -> Result<bool, Open311Error> {
    match v.map(str::to_ascii_lowercase).as_deref() {
        None | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") => Ok(true),
        Some(other) => Err(Open311Error::param(name, format!("expected true or false, got '{other}'"))),
    }
}

fn integer(name: &str, v: Option<&str>, min: i64, max: i64, default: i64) -> Result<i64, Open311Error> {
    match v {
        None => Ok(default),
        Some(v) => match v.parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(Open311Error::param(name, format!("expected an integer from {min} to {max}, got '{v}'"))),
        },
    }
}

/// `GET requests`.
pub(crate) async fn list(State(ctx): State<Ctx>, Fmt(format): Fmt, uri: Uri, headers: HeaderMap) -> Response {
    let params = Params::from_query(uri.query());
    respond(format, list_inner(&ctx, &headers, &params).await)
}

async fn list_inner(ctx: &Ctx, headers: &HeaderMap, p: &Params) -> Result<Doc, Open311Error> {
    check_jurisdiction(ctx, p.get("jurisdiction_id"))?;
    let extensions = boolean("extensions", p.get("extensions"))?;
    let store = ctx.app.desk.store();
    let ids = p.list("service_request_id");
    if !ids.is_empty() {
        // A list of ids overrides every other parameter (the spec's rule).
        if ids.len() > MAX_IDS {
            return Err(Open311Error::param("service_request_id", format!("at most {MAX_IDS} ids at once")));
        }
        let mut recs = Vec::new();
        for raw in ids {
            let id = match raw.parse::<i64>() {
                Ok(id) if id > 0 => id,
                _ => return Err(Open311Error::param("service_request_id", format!("'{raw}' is not a request id"))),
            };
            match store.case(id).await {
                Ok(rec) => recs.push(rec),
                Err(StoreError::NotFound(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        return Ok(Doc::ok("service_requests", requests_json(ctx, headers, &recs, extensions).await?));
    }
    let mut filter = CaseFilter::default();
    for code in p.list("service_code") {
        match ctx.app.desk.catalog().category(code) {
            Some(c) if c.is_leaf() => filter.categories.push(c.code.clone()),
            Some(c) => {
                filter.categories.extend(ctx.app.desk.catalog().children(&c.code).into_iter().map(|l| l.code.clone()))
            }
            None => return Err(Open311Error::param("service_code", format!("unknown service_code '{code}'"))),
        }
    }
    for name in p.list("status") {
        let statuses = statuses_for(name)
            .ok_or_else(|| Open311Error::param("status", format!("unknown status '{name}' (open or closed)")))?;
        filter.statuses.extend(statuses);
    }
    let tz = ctx.app.desk.config().tz;
    let start = p.get("start_date").map(|v| w3c_datetime("start_date", v, tz)).transpose()?.map(|t| t.to_utc());
    let end = p.get("end_date").map(|v| w3c_datetime("end_date", v, tz)).transpose()?.map(|t| t.to_utc());
    let window = Duration::days(WINDOW_DAYS);
    let (start, end) = match (start, end) {
        (Some(s), Some(e)) => (s, e),
        (Some(s), None) => (s, (s + window).min(ctx.app.now()).max(s)),
        (None, Some(e)) => (e - window, e),
        (None, None) => {
            let now = ctx.app.now();
            (now - window, now)
        }
    };
    if end < start {
        return Err(Open311Error::param("end_date", "is before start_date"));
    }
    if end - start > window {
        return Err(Open311Error::param(
            "end_date",
            format!("the window from start_date may not exceed {WINDOW_DAYS} days"),
        ));
    }
    filter.received_from = Some(start);
    // end_date is the latest time included.
    filter.received_to = Some(end + Duration::milliseconds(1));
    let page = integer("page", p.get("page"), 1, 1_000_000, 1)?;
    let size = integer("page_size", p.get("page_size"), 1, MAX_PAGE_SIZE, MAX_PAGE_SIZE)?;
    let offset = u64::try_from((page - 1) * size).unwrap_or(0);
    let recs = store.list_offset(&filter, offset, u32::try_from(size).unwrap_or(1000)).await?;
    Ok(Doc::ok("service_requests", requests_json(ctx, headers, &recs, extensions).await?))
}

fn request_id(raw: &str) -> Result<i64, Open311Error> {
    let raw = strip_suffix(raw);
    match raw.parse::<i64>() {
        Ok(id) if id > 0 => Ok(id),
        _ => Err(Open311Error::not_found(format!("service request '{raw}' not found (ids are positive integers)"))),
    }
}

/// `GET requests/{id}`: a one-element list.
pub(crate) async fn show(
    State(ctx): State<Ctx>,
    Fmt(format): Fmt,
    Path(raw): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let params = Params::from_query(uri.query());
    let result = async {
        check_jurisdiction(&ctx, params.get("jurisdiction_id"))?;
        let extensions = boolean("extensions", params.get("extensions"))?;
        let rec = ctx.app.desk.store().case(request_id(&raw)?).await?;
        Ok(Doc::ok("service_requests", requests_json(&ctx, &headers, &[rec], extensions).await?))
    }
    .await;
    respond(format, result)
}

/// `GET tokens/{token}`.
pub(crate) async fn token(State(ctx): State<Ctx>, Fmt(format): Fmt, Path(raw): Path<String>, uri: Uri) -> Response {
    let params = Params::from_query(uri.query());
    let token = strip_suffix(&raw).to_string();
    let result = async {
        check_jurisdiction(&ctx, params.get("jurisdiction_id"))?;
        let id = ctx.app.desk.store().token_case(&token).await?;
        let id = id.ok_or_else(|| Open311Error::not_found(format!("token '{token}' not found")))?;
        Ok(Doc::ok("service_requests", json!([{ "service_request_id": id.to_string(), "token": token }])))
    }
    .await;
    respond(format, result)
}

/// `GET media/{id}`: a file posted with a request or an update.
pub(crate) async fn media(State(ctx): State<Ctx>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let format = super::Format::from_accept(&headers);
    let valid = id.len() == 32 && id.chars().all(|c| c.is_ascii_hexdigit());
    let found = if valid { ctx.app.desk.store().media(&id).await } else { Ok(None) };
    match found {
        Ok(Some(m)) => {
            let content_type =
                HeaderValue::from_str(&m.content_type).unwrap_or(HeaderValue::from_static("application/octet-stream"));
            (
                [
                    (header::CONTENT_TYPE, content_type),
                    (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable")),
                    (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
                ],
                Bytes::from(m.bytes),
            )
                .into_response()
        }
        Ok(None) => Open311Error::not_found(format!("media '{id}' not found")).render(format),
        Err(e) => Open311Error::from(e).render(format),
    }
}

/// `attribute[CODE]` and `attribute[CODE][]` parameters, by code.
fn posted_attributes(p: &Params) -> Result<BTreeMap<String, Vec<String>>, Open311Error> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (key, value) in p.with_prefix("attribute") {
        let inner = key
            .strip_prefix("attribute[")
            .and_then(|k| k.strip_suffix("[]").or(Some(k)))
            .and_then(|k| k.strip_suffix(']'));
        match inner {
            Some(code) if !code.is_empty() && !code.contains(['[', ']']) => {
                out.entry(code.to_string()).or_default().push(value.to_string())
            }
            _ => {
                return Err(Open311Error::param(
                    key,
                    "attributes are sent as attribute[CODE]=value or attribute[CODE][]=value",
                ));
            }
        }
    }
    Ok(out)
}

fn coordinate(name: &str, v: Option<&str>) -> Result<Option<f64>, Open311Error> {
    v.map(|v| match v.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(x),
        _ => Err(Open311Error::param(name, format!("'{v}' is not a number (WGS-84 degrees)"))),
    })
    .transpose()
}

/// The citizen's name from first and last names: family name first for Chinese names.
fn full_name(first: Option<&str>, last: Option<&str>) -> Option<String> {
    match (first, last) {
        (None, None) => None,
        (Some(x), None) | (None, Some(x)) => Some(x.to_string()),
        (Some(f), Some(l)) if f.is_ascii() && l.is_ascii() => Some(format!("{f} {l}")),
        (Some(f), Some(l)) => Some(format!("{l}{f}")),
    }
}

/// `POST requests`.
pub(crate) async fn create(State(ctx): State<Ctx>, Fmt(format): Fmt, req: Request) -> Response {
    let result = async {
        let p = Params::from_post(req, ctx.config().max_upload_bytes).await?;
        create_inner(&ctx, p).await
    }
    .await;
    respond(format, result)
}

async fn create_inner(ctx: &Ctx, p: Params) -> Result<Doc, Open311Error> {
    check_jurisdiction(ctx, p.get("jurisdiction_id"))?;
    let client = super::keys::check_api_key(ctx, p.get("api_key")).await?;
    let code = p.get("service_code").ok_or_else(|| Open311Error::bad("service_code: required"))?;
    let category = leaf(ctx, code)?;
    let catalog = ctx.app.desk.catalog();
    let tz = ctx.app.desk.config().tz;
    let mut problems = Vec::new();

    // Where: lat & long, address_string or address_id (at least one).
    let lat = coordinate("lat", p.get("lat"));
    let lon = coordinate("long", p.get("long"));
    let (lat, lon) = match (lat, lon) {
        (Ok(a), Ok(b)) => (a, b),
        (a, b) => {
            problems.extend(a.err().into_iter().chain(b.err()).flat_map(|e| e.descriptions));
            (None, None)
        }
    };
    let address = p.get("address_string").map(str::to_string);
    let (mut street, mut community) = (None, None);
    if let Some(id) = p.get("address_id") {
        if let Some(c) = catalog.community(id) {
            community = Some(c.code.clone());
            street = Some(c.street_code.clone());
        } else if catalog.street(id).is_some() {
            street = Some(id.to_string());
        } else {
            problems
                .push(format!("address_id: '{id}' is not a community (社区) or street (街道) code of this district"));
        }
    }
    if lat.is_none() && lon.is_none() && address.is_none() && p.get("address_id").is_none() && problems.is_empty() {
        problems.push("location: give lat and long, address_string or address_id".into());
    }

    // The service's questions.
    let defs = ctx.services.attributes_of(category);
    let attributes = match posted_attributes(&p) {
        Ok(posted) => check_attributes(&defs, &posted, tz).unwrap_or_else(|e| {
            problems.extend(e);
            Default::default()
        }),
        Err(e) => {
            problems.extend(e.descriptions);
            Default::default()
        }
    };
    let posted = Posted::check(&p, &mut problems);
    let description = posted.description.as_str();
    let kind = match attributes.get("KIND").and_then(Value::as_str) {
        Some(k) => k.parse::<CaseKind>().map_err(|e| Open311Error::internal(format!("KIND value: {e}")))?,
        None => CaseKind::Complaint,
    };
    let details = attributes_text(&defs, &attributes);
    let mut text = if description.is_empty() {
        format!("{}（未填写描述）", category.name)
    } else {
        description.to_string()
    };
    if !details.is_empty() {
        text = format!("{text}\n【补充信息】\n{details}");
    }
    let token = (services::service_type(category) == "batch").then(random_name);
    let draft = NewCase {
        channel: Channel::Open311,
        kind,
        title: None,
        text,
        category: category.code.clone(),
        place: Place { address, lat, lon, street, community, grid: None },
        contact: Contact {
            name: full_name(p.get("first_name"), p.get("last_name")),
            phone: p.get("phone").map(str::to_string),
            email: p.get("email").map(str::to_string),
        },
        external_id: token.clone(),
    };
    if let Err(errors) = draft.validate(catalog) {
        problems.extend(
            errors
                .into_iter()
                .map(|f| Open311Error::from(jiesu_core::CoreError::Invalid(vec![f])).descriptions.remove(0)),
        );
    }
    if !problems.is_empty() {
        return Err(Open311Error::many(problems));
    }

    let now = ctx.app.now();
    // The case, its events, the media, the Open311 row and the token: one transaction.
    let extra = Open311Intake {
        service_code: category.code.clone(),
        attributes,
        media: posted.media(&p),
        media_url: posted.media_url,
        client: client.name.clone(),
        token: token.clone(),
    };
    let rec = ctx.app.desk.receive_with(client.filer(), draft, now, true, Some(extra)).await?;
    tracing::info!(case = rec.id, client = %client.name, service = %category.code, "open311 request received");
    let unit = rec.state.assignee.as_deref().and_then(|u| catalog.unit(u)).map(|u| u.name.clone());
    let notice = match (&unit, rec.state.due) {
        (Some(u), Some(due)) => format!("已受理，派至{u}，办理时限至{}", ctx.time(due)),
        _ => "已受理".to_string(),
    };
    let body = match &token {
        Some(t) => json!([{ "token": t, "service_notice": notice, "account_id": null }]),
        None => json!([{ "service_request_id": rec.id.to_string(), "service_notice": notice, "account_id": null }]),
    };
    Ok(Doc { status: StatusCode::CREATED, root: "service_requests", value: body })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_masked_in_public_text() {
        assert_eq!(scrub("请联系13812345678或010-65123456，门牌12号"), "请联系138****5678或010-******56，门牌12号");
        assert_eq!(scrub("身份证110101199001011234"), "身份证110****1234");
        assert_eq!(scrub("没有号码"), "没有号码");
    }

    #[test]
    fn names_put_the_family_name_first_in_chinese() {
        assert_eq!(full_name(Some("三"), Some("张")).as_deref(), Some("张三"));
        assert_eq!(full_name(Some("John"), Some("Smith")).as_deref(), Some("John Smith"));
        assert_eq!(full_name(None, None), None);
    }
}
