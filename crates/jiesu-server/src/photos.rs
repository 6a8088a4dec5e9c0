//! Photos over HTTP (issue 10): reading a multipart form with `photos` files (the console's
//! reply, grid report and 核查 forms, and the API's `POST /cases/{id}/actions/photos`), and the
//! API's routes that list and serve a case's photos within the caller's scope.

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiesu_domain::attachment::{self, ImageKind, Photo};
use jiesu_domain::draft::FieldError;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::AppState;
use crate::actor::Actor;
use crate::cases::{command_and_note, renderer};
use crate::error::{ApiError, Body as ErrorBody};
use crate::extract::{AppJson, CaseId};
use crate::views::{CaseView, local_time};

/// Largest body of a form that may carry photos: every photo at its limit, and the fields.
pub const UPLOAD_LIMIT: usize = attachment::MAX_PHOTOS * attachment::MAX_PHOTO_BYTES + 1024 * 1024;
/// The file field of photo forms.
pub(crate) const PHOTOS_FIELD: &str = "photos";
/// Longest text field of a multipart form.
const MAX_FIELD_CHARS: usize = 10_000;

fn photos_error(message: impl Into<String>) -> ApiError {
    ApiError::invalid_fields(vec![FieldError { field: PHOTOS_FIELD.into(), message: message.into() }])
}

fn read_error(status: StatusCode, text: String) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(status, "too_large", format!("the body is larger than the {UPLOAD_LIMIT} bytes accepted here"))
    } else {
        ApiError::bad_request(format!("malformed multipart body: {text}"))
    }
}

/// The text fields of a multipart form in order, and its `photos` files checked (or why they are
/// refused, kept apart so that the caller checks the CSRF token or the action first). A file
/// field left empty (no file chosen) is skipped. Malformed bodies, text that is not UTF-8 or has
/// control characters, and bodies over the limit are refused at once.
pub(crate) async fn read_multipart(
    req: Request,
) -> Result<(Vec<(String, String)>, Result<Vec<Photo>, ApiError>), ApiError> {
    let mut multipart = Multipart::from_request(req, &()).await.map_err(|e| read_error(e.status(), e.body_text()))?;
    let mut fields = Vec::new();
    let mut photos: Result<Vec<Photo>, ApiError> = Ok(Vec::new());
    loop {
        let part = match multipart.next_field().await {
            Ok(Some(p)) => p,
            Ok(None) => break,
            Err(e) => return Err(read_error(e.status(), e.body_text())),
        };
        let name = part.name().unwrap_or("").to_string();
        let chosen = part.file_name().is_some_and(|f| !f.is_empty());
        let bytes: Bytes = part.bytes().await.map_err(|e| read_error(e.status(), e.body_text()))?;
        if name == PHOTOS_FIELD {
            if bytes.is_empty() && !chosen {
                continue;
            }
            if let Ok(list) = &mut photos {
                match Photo::new(bytes.to_vec()) {
                    Ok(p) => list.push(p),
                    Err(m) => photos = Err(photos_error(m)),
                }
            }
            continue;
        }
        let text = String::from_utf8(bytes.to_vec()).map_err(|_| ApiError::bad_param(&name, "is not valid UTF-8"))?;
        crate::input::check_text(&name).map_err(|m| ApiError::bad_param("parameter name", m))?;
        crate::input::check_text(&text).map_err(|m| ApiError::bad_param(&name, m))?;
        if text.chars().count() > MAX_FIELD_CHARS {
            return Err(ApiError::bad_param(&name, format!("longer than {MAX_FIELD_CHARS} characters")));
        }
        fields.push((name, text));
    }
    if let Ok(list) = &photos
        && let Err(m) = attachment::check_count(list.len())
    {
        photos = Err(photos_error(m));
    }
    Ok((fields, photos))
}

/// One photo of a case, as the API lists it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentView {
    /// Its number within the case, from 1.
    n: i64,
    /// The event it came with (its `seq` in the timeline).
    seq: u32,
    /// `image/jpeg`, `image/png` or `image/webp` (checked by its bytes when it was received).
    content_type: String,
    /// Size in bytes.
    size: u64,
    /// SHA-256 of its bytes, hex.
    sha256: String,
    /// When it was received (the event's time), local.
    #[schema(format = DateTime)]
    at: String,
    /// Where to fetch it.
    url: String,
}

/// Body of `GET /api/v1/cases/{id}/attachments`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentList {
    /// The case id.
    case_id: i64,
    /// Its photos, in order.
    attachments: Vec<AttachmentView>,
}

/// `GET /api/v1/cases/{id}/attachments`: the photos of a case the caller may see (another
/// unit's case is "not found", as a missing one).
#[utoipa::path(get, path = "/cases/{id}/attachments", tag = "cases", operation_id = "list_attachments", params(("id" = i64, Path, minimum = 1, description = "The case id", example = 1)),
    responses(
        (status = 200, description = "The case's photos (without their bytes)", body = AttachmentList),
        (status = 400, description = "Malformed request: bad JSON, path or query value, or actor header", body = ErrorBody),
        (status = 401, description = "No actor: the caller did not say who is acting", body = ErrorBody),
        (status = 404, description = "No such case", body = ErrorBody),
        (status = 503, description = "The store is busy or down", body = ErrorBody),
    ))]
pub async fn list(
    State(state): State<AppState>,
    actor: Actor,
    CaseId(id): CaseId,
) -> Result<AppJson<AttachmentList>, ApiError> {
    let scope = actor.scope(state.desk.catalog());
    let tz = state.desk.config().tz;
    let stored = state.desk.store().attachments_in(&scope, id).await?;
    let shown = shown_to(&state, &actor, id).await?;
    let attachments = stored
        .into_iter()
        .filter(|a| shown.as_ref().is_none_or(|seqs| seqs.contains(&a.seq)))
        .map(|a| AttachmentView {
            url: format!("/api/v1/cases/{id}/attachments/{}", a.n),
            n: a.n,
            seq: a.seq,
            content_type: a.content_type,
            size: a.size,
            sha256: a.sha256,
            at: local_time(a.at, tz),
        })
        .collect();
    Ok(AppJson(AttachmentList { case_id: id, attachments }))
}

/// For a citizen, the events of case `id` they may see (`disclosure::visible`: a photo of the
/// desk's internal work, such as 核查, is not theirs to see); None for staff, who see every photo
/// of a case in their scope.
async fn shown_to(state: &AppState, actor: &Actor, id: i64) -> Result<Option<Vec<u32>>, ApiError> {
    if actor.role() != jiesu_domain::model::Role::Citizen {
        return Ok(None);
    }
    let events = state.desk.store().events_in(&actor.scope(state.desk.catalog()), id).await?;
    Ok(Some(events.iter().filter(|e| jiesu_domain::disclosure::visible(e)).map(|e| e.seq).collect()))
}

/// The bytes of a photo with the headers that keep a browser from reading it as anything else.
pub(crate) fn photo_response(id: i64, n: i64, content_type: &str, bytes: Vec<u8>) -> Response {
    // Stored types are checked ones; anything else would be served as a download.
    let (content_type, disposition) = match ImageKind::from_content_type(content_type) {
        Some(k) => (k.content_type(), format!("inline; filename=\"case-{id}-{n}.{}\"", k.extension())),
        None => ("application/octet-stream", format!("attachment; filename=\"case-{id}-{n}.bin\"")),
    };
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_str(&disposition).expect("ASCII"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    resp
}

/// `GET /api/v1/cases/{id}/attachments/{n}`: photo `n` of a case the caller may see, as an image
/// of its checked type (`nosniff`, never cached); another unit's case is "not found".
#[utoipa::path(get, path = "/cases/{id}/attachments/{n}", tag = "cases", operation_id = "show_attachment",
    params(("id" = i64, Path, minimum = 1, description = "The case id", example = 1),
           ("n" = i64, Path, minimum = 1, description = "The photo's number within the case", example = 1)),
    responses(
        (status = 200, description = "The photo", content(
            (Vec<u8> = "image/jpeg"), (Vec<u8> = "image/png"), (Vec<u8> = "image/webp"))),
        (status = 400, description = "Malformed request: bad JSON, path or query value, or actor header", body = ErrorBody),
        (status = 401, description = "No actor: the caller did not say who is acting", body = ErrorBody),
        (status = 404, description = "No such case or photo", body = ErrorBody),
        (status = 503, description = "The store is busy or down", body = ErrorBody),
    ))]
pub async fn show(
    State(state): State<AppState>,
    actor: Actor,
    Path((id, n)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (Ok(id), Ok(n)) = (id.parse::<i64>(), n.parse::<i64>()) else {
        return Err(ApiError::not_found("no such photo"));
    };
    let scope = actor.scope(state.desk.catalog());
    let (meta, bytes) = state.desk.store().attachment_in(&scope, id, n).await?;
    if shown_to(&state, &actor, id).await?.is_some_and(|seqs| !seqs.contains(&meta.seq)) {
        return Err(ApiError::not_found("no such photo"));
    }
    Ok(photo_response(id, n, &meta.content_type, bytes))
}

/// The multipart body of `POST /api/v1/cases/{id}/actions/photos` (for the document).
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct PhotoAction {
    /// The action as `POST /cases/{id}/actions` takes it, as JSON text (e.g.
    /// `{"action": "reply", "note": "已修复"}`): 办理, 答复 or 核查.
    action: String,
    /// JPEG, PNG or WebP files (by their bytes), at most 4, each at most 10 MiB.
    #[schema(value_type = Vec<String>, format = Binary)]
    photos: Vec<Vec<u8>>,
}

/// `route` (from `routes!`) taking bodies up to [`UPLOAD_LIMIT`] instead of the API's default.
pub(crate) fn with_upload_limit(
    route: utoipa_axum::router::UtoipaMethodRouter<AppState>,
) -> utoipa_axum::router::UtoipaMethodRouter<AppState> {
    let (schemas, paths, method) = route;
    (schemas, paths, method.layer(axum::extract::DefaultBodyLimit::max(UPLOAD_LIMIT)))
}

/// `POST /api/v1/cases/{id}/actions/photos`: an action that carries photos (办理, 答复, 核查),
/// as `multipart/form-data` with the action's JSON in the `action` part and the files in `photos`
/// parts; the photos are stored with the action's event, in its transaction.
#[utoipa::path(post, path = "/cases/{id}/actions/photos", tag = "cases", operation_id = "act_with_photos",
    params(("id" = i64, Path, minimum = 1, description = "The case id", example = 1)),
    request_body(content = PhotoAction, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "The case after the action", body = CaseView),
        (status = 400, description = "Malformed request: bad multipart body, path value, or actor header", body = ErrorBody),
        (status = 401, description = "No actor: the caller did not say who is acting", body = ErrorBody),
        (status = 403, description = "The actor's role or unit may not do this", body = ErrorBody),
        (status = 404, description = "No such case", body = ErrorBody),
        (status = 409, description = "The case's status does not allow the action (`illegal_transition`)", body = ErrorBody),
        (status = 408, description = "The body did not arrive in time (`request_timeout`)", body = ErrorBody),
        (status = 413, description = "The body is larger than the server accepts", body = ErrorBody),
        (status = 415, description = "Not a multipart body", body = ErrorBody),
        (status = 422, description = "The action or a photo is wrong (type, size, count, an action that takes no photos)", body = ErrorBody),
        (status = 503, description = "The case keeps changing under us (`busy`, retry) or the store is down", body = ErrorBody),
    ))]
pub async fn act(
    State(state): State<AppState>,
    actor: Actor,
    CaseId(id): CaseId,
    req: Request,
) -> Result<AppJson<CaseView>, ApiError> {
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.to_ascii_lowercase().starts_with("multipart/form-data"));
    if !multipart {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send multipart/form-data",
        ));
    }
    let (fields, photos) = read_multipart(req).await?;
    let action = fields.iter().rev().find(|(k, _)| k == "action").map(|(_, v)| v.as_str()).unwrap_or("");
    let body: Value = serde_json::from_str(action)
        .map_err(|e| ApiError::bad_param("action", format!("is not the action's JSON: {e}")))?;
    crate::input::check_json(&body)?;
    let (command, note) = command_and_note(body)?;
    let photos = photos?;
    let code = command.code();
    let rec = state.desk.act_with_photos(id, actor.0.clone(), command, note, state.now(), photos).await?;
    tracing::info!(case = id, action = code, status = rec.state.status.code(), "case action with photos");
    Ok(AppJson(renderer(&state).case(rec, &actor)))
}
