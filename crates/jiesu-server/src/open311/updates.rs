//! FixMyStreet's `servicerequestupdates` extension.
//!
//! GET lists what happened to requests in a time window (default the last 90 days, paged like
//! `requests`): one update per event of a case, `update_id` = `{request id}-{event number}`, with
//! the extended status after the event and our own status code as `external_status_code`.
//!
//! POST takes an update from a client (FixMyStreet sends one when a citizen comments on a report).
//! Its `update_id` is the client's and is unique: posting the same `update_id` again for the same
//! request changes nothing and answers with the update already stored (so a client retrying after
//! a lost answer does not duplicate it); the same `update_id` for another request is refused. An
//! update with status `REOPEN` (or `OPEN`) on a request that was called back or closed reopens the
//! case (重办) through the desk, the update and the 重办 in one transaction; other statuses are
//! recorded, not applied (the district closes a case after its own callback). The poster's name,
//! e-mail and phone are not stored.
//!
//! A key may post updates only on the requests it filed, acting as their filer (`open311:NAME`),
//! or, for a staff key, on the cases in its scope, acting as the key (`key:NAME`, its role and
//! unit). Any other request is answered exactly like a missing one (404).

use axum::extract::{Request, State};
use axum::http::Uri;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::Duration;
use jiesu_core::{Command, CoreError};
use jiesu_domain::model::{CaseKind, Status};
use jiesu_domain::workflow::{Action, WorkflowError};
use jiesu_store::{ClientUpdate, UpdateOutcome};
use serde_json::{Value, json};

use super::error::Open311Error;
use super::format::Doc;
use super::params::{Params, w3c_datetime};
use super::posted::Posted;
use super::requests::event_note;
use super::{Ctx, Fmt, check_jurisdiction, extended_status, respond};

/// The statuses a client may post (FixMyStreet's, upper case).
const POSTED_STATUSES: [&str; 11] = [
    "OPEN",
    "CLOSED",
    "FIXED",
    "IN_PROGRESS",
    "ACTION_SCHEDULED",
    "INVESTIGATING",
    "DUPLICATE",
    "NOT_COUNCILS_RESPONSIBILITY",
    "NO_FURTHER_ACTION",
    "INTERNAL_REFERRAL",
    "REOPEN",
];
/// Longest accepted client update id.
const MAX_UPDATE_ID_CHARS: usize = 100;

/// `GET servicerequestupdates`.
pub(crate) async fn list(State(ctx): State<Ctx>, Fmt(format): Fmt, uri: Uri) -> Response {
    let params = Params::from_query(uri.query());
    respond(format, list_inner(&ctx, &params).await)
}

async fn list_inner(ctx: &Ctx, p: &Params) -> Result<Doc, Open311Error> {
    check_jurisdiction(ctx, p.get("jurisdiction_id"))?;
    let tz = ctx.app.desk.config().tz;
    let now = ctx.app.now();
    let start = p.get("start_date").map(|v| w3c_datetime("start_date", v, tz)).transpose()?.map(|t| t.to_utc());
    let end =
        p.get("end_date").map(|v| w3c_datetime("end_date", v, tz)).transpose()?.map(|t| t.to_utc()).unwrap_or(now);
    let start = start.unwrap_or(end - Duration::days(90));
    if end < start {
        return Err(Open311Error::param("end_date", "is before start_date"));
    }
    let page = p.get("page").map_or(Ok(1), |v| {
        v.parse::<u64>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| Open311Error::param("page", format!("expected a positive integer, got '{v}'")))
    })?;
    let size = p.get("page_size").map_or(Ok(1000), |v| {
        v.parse::<u32>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| Open311Error::param("page_size", format!("expected an integer from 1 to 1000, got '{v}'")))
    })?;
    let events = ctx
        .app
        .desk
        .store()
        .events_between(start, end + Duration::milliseconds(1), (page - 1) * u64::from(size), size)
        .await?;
    let mut ids: Vec<i64> = events.iter().map(|(id, _)| *id).collect();
    ids.sort_unstable();
    ids.dedup();
    let kinds = ctx.app.desk.store().case_kinds(&ids).await?;
    let list: Vec<Value> = events
        .iter()
        .map(|(id, e)| {
            let confidential = kinds.get(id).is_some_and(|k| k == CaseKind::Report.code());
            let description =
                event_note(ctx, e, confidential).unwrap_or_else(|| format!("{}（{}）", e.action.label(), e.to.label()));
            json!({
                "update_id": format!("{id}-{}", e.seq),
                "service_request_id": id.to_string(),
                "status": extended_status(e.to, matches!(e.action, Action::Reopen { .. })),
                "external_status_code": e.to.code(),
                "updated_datetime": ctx.time(e.at),
                "description": description,
                "media_url": "",
            })
        })
        .collect();
    Ok(Doc::ok("service_request_updates", json!(list)))
}

/// `POST servicerequestupdates`.
pub(crate) async fn create(State(ctx): State<Ctx>, Fmt(format): Fmt, req: Request) -> Response {
    let headers = req.headers().clone();
    let result = async {
        let p = Params::from_post(req, ctx.config().max_upload_bytes).await?;
        create_inner(&ctx, &headers, p).await
    }
    .await;
    respond(format, result)
}

async fn create_inner(ctx: &Ctx, _headers: &HeaderMap, p: Params) -> Result<Doc, Open311Error> {
    check_jurisdiction(ctx, p.get("jurisdiction_id"))?;
    let client = super::keys::check_api_key(ctx, p.get("api_key")).await?;
    let mut problems = Vec::new();
    let required = |name: &str, problems: &mut Vec<String>| {
        let v = p.get(name);
        if v.is_none() {
            problems.push(format!("{name}: required"));
        }
        v
    };
    let request_id = required("service_request_id", &mut problems);
    let update_id = required("update_id", &mut problems);
    let status = required("status", &mut problems).map(str::to_ascii_uppercase);
    let updated = required("updated_datetime", &mut problems);
    if update_id.is_some_and(|u| u.chars().count() > MAX_UPDATE_ID_CHARS) {
        problems.push(format!("update_id: longer than {MAX_UPDATE_ID_CHARS} characters"));
    }
    if let Some(s) = &status
        && !POSTED_STATUSES.contains(&s.as_str())
    {
        problems.push(format!("status: '{s}' is not one of {}", POSTED_STATUSES.join(", ")));
    }
    let tz = ctx.app.desk.config().tz;
    let updated = match updated.map(|v| w3c_datetime("updated_datetime", v, tz)).transpose() {
        Ok(t) => t,
        Err(e) => {
            problems.extend(e.descriptions);
            None
        }
    };
    let posted = Posted::check(&p, &mut problems);
    let case_id = match request_id.map(|r| r.parse::<i64>()) {
        Some(Ok(id)) if id > 0 => Some(id),
        Some(_) => {
            problems.push(format!("service_request_id: '{}' is not a request id", request_id.unwrap_or("")));
            None
        }
        None => None,
    };
    if !problems.is_empty() {
        return Err(Open311Error::many(problems));
    }
    let (case_id, update_id, status, updated) = match (case_id, update_id, status, updated) {
        (Some(a), Some(b), Some(c), Some(d)) => (a, b.to_string(), c, d),
        _ => return Err(Open311Error::internal("checked parameters went missing")),
    };
    let store = ctx.app.desk.store();
    // Only a request this key filed (or, for a staff key, a case in its scope): anything else
    // is answered exactly like a missing request.
    let (rec, actor) = client.case(ctx, case_id).await?;
    if let Some(old) = store.client_update(&update_id).await? {
        return duplicate(old, case_id);
    }
    let now = ctx.app.now();
    let media = posted.media(&p);
    let Posted { description, media_url, .. } = posted;
    let update = ClientUpdate {
        id: 0,
        client_update_id: update_id,
        case_id,
        status: status.clone(),
        description: description.clone(),
        media_id: media.as_ref().map(|m| m.id.clone()),
        media_url,
        client: client.name.clone(),
        updated_at: updated.to_utc(),
        received_at: now,
    };
    let reopen =
        matches!(status.as_str(), "REOPEN" | "OPEN") && matches!(rec.state.status, Status::CalledBack | Status::Closed);
    let mut stored = None;
    if reopen {
        // The update and the 重办 it causes are one transaction: a failure leaves neither, and
        // the client's retry of the same update_id reopens.
        let note = format!("市民通过Open311反映问题仍未解决：{description}");
        let done = ctx.app.desk.act_recording(
            case_id,
            actor,
            Command::Reopen,
            Some(note),
            now,
            Some((&update, media.as_ref())),
        );
        match done.await {
            Ok((_, id)) => {
                stored = id;
                tracing::info!(case = case_id, client = %client.name, "open311 update reopened the case");
            }
            // Reopened meanwhile (another update): this one is recorded, not applied.
            Err(CoreError::Workflow(WorkflowError::IllegalTransition { .. })) => {}
            Err(e) => {
                // The same update posted twice at once: the first one in answers both.
                if let Some(old) = store.client_update(&update.client_update_id).await? {
                    return duplicate(old, case_id);
                }
                return Err(e.into());
            }
        }
    }
    let stored = match stored {
        Some(id) => id,
        None => match store.put_client_update(&update, media.as_ref()).await? {
            UpdateOutcome::Stored(u) => u.id,
            UpdateOutcome::Duplicate(old) => return duplicate(old, case_id),
        },
    };
    tracing::info!(case = case_id, update = stored, client = %client.name, "open311 update received");
    Ok(Doc {
        status: StatusCode::CREATED,
        root: "service_request_updates",
        value: json!([{ "update_id": stored.to_string() }]),
    })
}

/// The answer to an `update_id` already stored: the same update again, or a refusal when it was
/// stored for another request.
fn duplicate(old: ClientUpdate, case_id: i64) -> Result<Doc, Open311Error> {
    if old.case_id != case_id {
        // Which request it was used for is not said: it may be one this client may not see.
        return Err(Open311Error::bad(format!(
            "update_id '{}' was already used for another service request",
            old.client_update_id
        )));
    }
    Ok(Doc::ok("service_request_updates", json!([{ "update_id": old.id.to_string() }])))
}
