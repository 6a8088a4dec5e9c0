//! 通知: each person's new, near-due, returned and 督办 items (the desk's `notices`, read within
//! the viewer's scope), read/unread per person, and the count behind the nav badge.
//!
//! A child of `pages` so that it shows cases exactly as the other lists do (`CaseRow`, with the
//! working-day time left).

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use jiesu_core::notices::{NoticeGroup, NoticeItem};
use serde_json::json;

use super::{CaseRow, check_csrf, chrome, error_page, row, see_other};
use crate::AppState;
use crate::console::Viewer;
use crate::console::forms::{FormPairs, field};
use crate::error::ApiError;

/// One notice as shown.
pub(crate) struct NoticeLine {
    kind: &'static str,
    kind_label: &'static str,
    unread: bool,
    c: CaseRow,
}

/// One group of the page.
pub(crate) struct NoticeSection {
    id: &'static str,
    title: &'static str,
    lines: Vec<NoticeLine>,
    unread: usize,
}

#[derive(Template, WebTemplate)]
#[template(path = "notices.html")]
struct NoticesPage {
    chrome: super::Chrome,
    sections: Vec<NoticeSection>,
    unread: usize,
    total: usize,
}

const GROUPS: &[(NoticeGroup, &str, &str)] = &[
    (NoticeGroup::New, "new", "新的待办"),
    (NoticeGroup::Due, "due", "临期与超期"),
    (NoticeGroup::Returned, "returned", "退回与重办"),
    (NoticeGroup::Supervision, "supervision", "督办"),
];

/// `GET /notices`: the viewer's notices by group, unread first.
pub(crate) async fn page(State(state): State<AppState>, v: Viewer) -> Response {
    let items = match state.desk.notices(&v.actor.0, state.now()).await {
        Ok(items) => items,
        Err(e) => return error_page(Some(chrome(&state, &v, "/notices")), &ApiError::from(e)),
    };
    let (unread, total) = (items.iter().filter(|i| i.unread).count(), items.len());
    let mut sections: Vec<NoticeSection> = GROUPS
        .iter()
        .map(|&(_, id, title)| NoticeSection { id, title: v.lang.t(title), lines: Vec::new(), unread: 0 })
        .collect();
    for NoticeItem { case, notice, unread } in items {
        let Some(i) = GROUPS.iter().position(|(g, _, _)| *g == notice.kind.group()) else { continue };
        sections[i].unread += usize::from(unread);
        sections[i].lines.push(NoticeLine {
            kind: notice.kind.code(),
            kind_label: v.lang.t(notice.kind.label()),
            unread,
            c: row(&state, &v, case),
        });
    }
    NoticesPage { chrome: chrome(&state, &v, "/notices"), sections, unread, total }.into_response()
}

/// `GET /notices/count`: `{"unread": n}` for the nav badge (read by `live.js`).
pub(crate) async fn count(State(state): State<AppState>, v: Viewer) -> Response {
    match state.desk.notices(&v.actor.0, state.now()).await {
        Ok(items) => Json(json!({ "unread": items.iter().filter(|i| i.unread).count() })).into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// `POST /notices/seen` (`case` optional): marks the viewer's notices (of that case) seen.
/// Only notices the viewer has now are marked, so a case id out of scope marks nothing.
pub(crate) async fn seen(State(state): State<AppState>, v: Viewer, Form(form): Form<FormPairs>) -> Response {
    let result = async {
        check_csrf(&v, &form)?;
        let only = match field(&form, "case").filter(|c| !c.is_empty()) {
            Some(c) => Some(c.parse::<i64>().map_err(|_| ApiError::bad_request("case must be a case id"))?),
            None => None,
        };
        let n = state.desk.mark_notices_seen(&v.actor.0, only, state.now()).await?;
        tracing::debug!(marked = n, "notices marked seen (console)");
        Ok::<(), ApiError>(())
    }
    .await;
    match result {
        Ok(()) => see_other("/notices"),
        Err(e) => error_page(Some(chrome(&state, &v, "/notices")), &e),
    }
}
