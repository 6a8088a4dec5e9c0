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
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use jiesu_domain::attachment::Photo;
use serde::Deserialize;

use super::Viewer;
use super::forms::{FormPairs, field};
use crate::AppState;
use crate::cases::renderer;
use crate::error::ApiError;

/// Largest body of a form that may carry photos.
pub(crate) const UPLOAD_LIMIT: usize = crate::photos::UPLOAD_LIMIT;
/// Earlier cases shown while a call is taken.
const CALLER_CASES: u32 = 10;

/// A console form as posted, URL-encoded or multipart: its fields, and the photos of its file
/// field (or why they are refused: the handler checks the CSRF token first, then says so).
pub(crate) struct Posted {
    pub form: FormPairs,
    pub photos: Result<Vec<Photo>, ApiError>,
}

impl FromRequest<AppState> for Posted {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let parts_headers = req.headers().clone();
        let content_type =
            req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
        if !content_type.starts_with("multipart/form-data") {
            let Form(form) = Form::<FormPairs>::from_request(req, state).await.map_err(IntoResponse::into_response)?;
            return Ok(Posted { form, photos: Ok(Vec::new()) });
        }
        let (form, photos) = crate::photos::read_multipart(req)
            .await
            .map_err(|e| super::pages::error_page_in(super::Lang::of(&parts_headers), None, &e))?;
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
    lang: super::Lang,
    /// Nothing typed yet, or not a number: nothing shown.
    looked_up: bool,
    rows: Vec<CallerRow>,
    total: u64,
    /// The caller's name on their latest case.
    name: Option<String>,
    error: Option<String>,
}

impl CallerFragment {
    fn empty(lang: super::Lang) -> CallerFragment {
        CallerFragment { lang, looked_up: false, rows: Vec::new(), total: 0, name: None, error: None }
    }

    fn t<'a>(&self, zh: &'a str) -> &'a str {
        self.lang.t(zh)
    }

    fn f(&self, zh: &str, a: impl std::fmt::Display) -> String {
        self.lang.f(zh, &[&a])
    }
}

/// `POST /intake/caller` (htmx, as the number is typed): the caller's earlier 工单, newest first,
/// looked up through the desk (who may, by the number's keyed hash, recorded).
pub(crate) async fn caller(State(state): State<AppState>, v: Viewer, Form(form): Form<FormPairs>) -> Response {
    if let Err(e) = super::pages::check_csrf(&v, &form) {
        return (
            e.status(),
            CallerFragment { error: Some(super::pages::explain(v.lang, &e)), ..CallerFragment::empty(v.lang) },
        )
            .into_response();
    }
    let phone = field(&form, "phone").unwrap_or("");
    if phone.is_empty() {
        return CallerFragment::empty(v.lang).into_response();
    }
    match state.desk.caller_history(&v.actor.0, phone, CALLER_CASES, state.now()).await {
        Ok(None) => CallerFragment::empty(v.lang).into_response(),
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
                    row.status_label = v.lang.t(&row.status_label).to_string();
                    row
                })
                .collect();
            CallerFragment { lang: v.lang, looked_up: true, rows, total: found.total, name, error: None }
                .into_response()
        }
        Err(e) => {
            let e = ApiError::from(e);
            (
                e.status(),
                CallerFragment { error: Some(super::pages::explain(v.lang, &e)), ..CallerFragment::empty(v.lang) },
            )
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
            label: v.lang.f("照片 {}（{} KB）", &[&a.n, &a.size.div_ceil(1024)]),
        });
    }
    if let Some(media) = store.open311_requests(&[id]).await?.remove(&id).and_then(|r| r.media_id)
        && let Ok(mount) = state.open311.mount_path()
    {
        by_seq
            .entry(1)
            .or_default()
            .push(PhotoLink {
                href: format!("{mount}/media/{media}"), label: v.lang.t("市民上传的照片").into()
            });
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
        return super::pages::error_page_in(v.lang, None, &ApiError::not_found("no such attachment"));
    };
    let scope = v.actor.scope(state.desk.catalog());
    match state.desk.store().attachment_in(&scope, id, n).await {
        Ok((meta, bytes)) => crate::photos::photo_response(id, n, &meta.content_type, bytes),
        Err(e) => super::pages::error_page_in(v.lang, None, &ApiError::from(e)),
    }
}
