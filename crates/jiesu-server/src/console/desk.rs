//! The desk's own parts of the console (issue 10): 来电弹屏 (the caller's earlier 工单 while the
//! number is typed) and photos (a reply's, a grid report's and a 核查's; served back only within
//! the viewer's scope).
//!
//! A lookup goes through `Desk::caller_history`, which decides who may look up, normalises the
//! number, finds the cases by its keyed hash and records the lookup. Photos come in multipart
//! forms ([`Posted`]: the CSRF token is still a form field and still checked by the handler) and
//! go to the desk with the action, which checks them again (type by bytes, size, count, action).

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiesu_domain::attachment::{self, ImageKind, Photo};
use jiesu_domain::draft::FieldError;
use serde::Deserialize;

use super::Viewer;
use super::forms::{FormPairs, field};
use crate::AppState;
use crate::cases::renderer;
use crate::error::ApiError;

/// Largest body of a form that may carry photos: every photo at its limit, and the fields.
pub(crate) const UPLOAD_LIMIT: usize = attachment::MAX_PHOTOS * attachment::MAX_PHOTO_BYTES + 1024 * 1024;
/// The file field of the photo forms.
const PHOTOS_FIELD: &str = "photos";
/// Longest text field of a multipart form.
const MAX_FIELD_CHARS: usize = 10_000;
/// Earlier cases shown while a call is taken.
const CALLER_CASES: u32 = 10;

/// A console form as posted, URL-encoded or multipart: its fields, and the photos of its file
/// field (or why they are refused: the handler checks the CSRF token first, then says so).
pub(crate) struct Posted {
    pub form: FormPairs,
    pub photos: Result<Vec<Photo>, ApiError>,
}

fn photos_error(message: impl Into<String>) -> ApiError {
    ApiError::invalid_fields(vec![FieldError { field: PHOTOS_FIELD.into(), message: message.into() }])
}

fn rejected(e: ApiError) -> Response {
    super::pages::error_page(None, &e)
}

fn read_error(status: StatusCode, text: String) -> Response {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        rejected(ApiError::new(
            status,
            "too_large",
            format!("the form is larger than {} MiB", UPLOAD_LIMIT / (1024 * 1024)),
        ))
    } else {
        rejected(ApiError::bad_request(format!("malformed form: {text}")))
    }
}

impl FromRequest<AppState> for Posted {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let content_type =
            req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
        if !content_type.starts_with("multipart/form-data") {
            let Form(form) = Form::<FormPairs>::from_request(req, state).await.map_err(IntoResponse::into_response)?;
            return Ok(Posted { form, photos: Ok(Vec::new()) });
        }
        let mut multipart =
            Multipart::from_request(req, state).await.map_err(|e| read_error(e.status(), e.body_text()))?;
        let mut form = FormPairs::new();
        let mut photos: Result<Vec<Photo>, ApiError> = Ok(Vec::new());
        loop {
            let part = match multipart.next_field().await {
                Ok(Some(p)) => p,
                Ok(None) => break,
                Err(e) => return Err(read_error(e.status(), e.body_text())),
            };
            let name = part.name().unwrap_or("").to_string();
            let chosen = part.file_name().is_some_and(|f| !f.is_empty());
            let bytes = part.bytes().await.map_err(|e| read_error(e.status(), e.body_text()))?;
            if name == PHOTOS_FIELD {
                // A file input left empty still sends an empty part without a file name.
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
            let text = String::from_utf8(bytes.to_vec())
                .map_err(|_| rejected(ApiError::bad_param(&name, "is not valid UTF-8")))?;
            crate::input::check_text(&name).map_err(|m| rejected(ApiError::bad_param("parameter name", m)))?;
            crate::input::check_text(&text).map_err(|m| rejected(ApiError::bad_param(&name, m)))?;
            if text.chars().count() > MAX_FIELD_CHARS {
                return Err(rejected(ApiError::bad_param(&name, format!("longer than {MAX_FIELD_CHARS} characters"))));
            }
            form.push((name, text));
        }
        if let Ok(list) = &photos
            && let Err(m) = attachment::check_count(list.len())
        {
            photos = Err(photos_error(m));
        }
        Ok(Posted { form, photos })
    }
}

// ---------------------------------------------------------------------------------------------
// 来电弹屏

/// One earlier case of the caller, from the API's case view.
#[derive(Debug, Deserialize)]
struct CallerRow {
    id: i64,
    number: String,
    title: String,
    status: String,
    status_label: String,
    received_at: String,
    assignee_name: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
struct CallerContact {
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
struct CallerView {
    contact: CallerContact,
}

#[derive(Template, WebTemplate)]
#[template(path = "caller.html")]
struct CallerFragment {
    /// Nothing typed yet, or not a number: nothing shown.
    looked_up: bool,
    rows: Vec<CallerRow>,
    total: u64,
    /// The caller's name on their latest case.
    name: Option<String>,
    error: Option<String>,
}

impl CallerFragment {
    fn empty() -> CallerFragment {
        CallerFragment { looked_up: false, rows: Vec::new(), total: 0, name: None, error: None }
    }
}

/// `POST /intake/caller` (htmx, as the number is typed): the caller's earlier 工单, newest first,
/// looked up through the desk (who may, by the number's keyed hash, recorded).
pub(crate) async fn caller(State(state): State<AppState>, v: Viewer, Form(form): Form<FormPairs>) -> Response {
    if let Err(e) = super::pages::check_csrf(&v, &form) {
        return (e.status(), CallerFragment { error: Some(super::pages::explain(&e)), ..CallerFragment::empty() })
            .into_response();
    }
    let phone = field(&form, "phone").unwrap_or("");
    if phone.is_empty() {
        return CallerFragment::empty().into_response();
    }
    match state.desk.caller_history(&v.actor.0, phone, CALLER_CASES, state.now()).await {
        Ok(None) => CallerFragment::empty().into_response(),
        Ok(Some(found)) => {
            let r = renderer(&state);
            let mut name = None;
            let rows = found
                .cases
                .into_iter()
                .map(|rec| {
                    let json = serde_json::to_value(r.case(rec, &v.actor)).expect("a case view serialises");
                    if name.is_none() {
                        name = serde_json::from_value::<CallerView>(json.clone()).ok().and_then(|c| c.contact.name);
                    }
                    let mut row: CallerRow = serde_json::from_value(json).expect("the case view has these fields");
                    row.received_at = row.received_at.replacen('T', " ", 1).chars().take(16).collect();
                    row
                })
                .collect();
            CallerFragment { looked_up: true, rows, total: found.total, name, error: None }.into_response()
        }
        Err(e) => {
            let e = ApiError::from(e);
            (e.status(), CallerFragment { error: Some(super::pages::explain(&e)), ..CallerFragment::empty() })
                .into_response()
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Photos

/// A photo as the case page links it.
#[derive(Debug)]
pub(crate) struct PhotoLink {
    pub href: String,
    pub label: String,
}

/// The photos of case `id` by the event they came with (`seq`), as links for the viewer (the
/// case was just read within the viewer's scope; the store checks it again), and the Open311
/// media file the citizen sent with the request, if any (public by design: its URL is in the
/// Open311 answers), shown with the 受理 event.
pub(crate) async fn photo_links(
    state: &AppState,
    v: &Viewer,
    id: i64,
) -> Result<std::collections::HashMap<u32, Vec<PhotoLink>>, ApiError> {
    let scope = v.actor.scope(state.desk.catalog());
    let store = state.desk.store();
    let mut by_seq: std::collections::HashMap<u32, Vec<PhotoLink>> = std::collections::HashMap::new();
    for a in store.attachments_in(&scope, id).await? {
        by_seq.entry(a.seq).or_default().push(PhotoLink {
            href: format!("/cases/{id}/attachments/{}", a.n),
            label: format!("照片 {}（{} KB）", a.n, a.size.div_ceil(1024)),
        });
    }
    if let Some(media) = store.open311_requests(&[id]).await?.remove(&id).and_then(|r| r.media_id)
        && let Ok(mount) = state.open311.mount_path()
    {
        by_seq
            .entry(1)
            .or_default()
            .push(PhotoLink { href: format!("{mount}/media/{media}"), label: "市民上传的照片".into() });
    }
    Ok(by_seq)
}

/// `GET /cases/{id}/attachments/{n}`: photo `n` of case `id`, to someone who may see the case
/// (another unit's case is "not found", as a missing one), as an image of its checked type,
/// never sniffed, never cached.
pub(crate) async fn attachment(
    State(state): State<AppState>,
    v: Viewer,
    Path((id, n)): Path<(String, String)>,
) -> Response {
    let (Ok(id), Ok(n)) = (id.parse::<i64>(), n.parse::<i64>()) else {
        return super::pages::error_page(None, &ApiError::not_found("no such attachment"));
    };
    let scope = v.actor.scope(state.desk.catalog());
    match state.desk.store().attachment_in(&scope, id, n).await {
        Ok((meta, bytes)) => {
            // Stored types are checked ones; anything else would be served as a download.
            let kind = ImageKind::from_content_type(&meta.content_type);
            let (content_type, disposition) = match kind {
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
        Err(e) => super::pages::error_page(None, &ApiError::from(e)),
    }
}
