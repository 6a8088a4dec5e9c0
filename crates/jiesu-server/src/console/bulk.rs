//! 派单 of many cases at once: the dispatcher ticks cases on the 派单 page (or "select all on
//! page") and sends them to one unit, or each by the responsibility list. Each case goes through
//! the desk on its own, with the API's `dispatch` command, acting on the case *as the page showed
//! it* (`Desk::act_as_seen`, the latest event's number travels with each tick): when another
//! dispatcher sent it in between, nothing is written and the page says who did what. The answer
//! lists every case: 已派单, 已被他人处理 (and by whom), or 未派单 with the desk's reason.

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use jiesu_core::{Command, CoreError};
use jiesu_domain::workflow::Action;

use super::forms::{FormPairs, check_form, field};
use super::pages::{Chrome, check_csrf, chrome, error_page, explain};
use super::{Lang, Viewer};
use crate::AppState;
use crate::actor::Actor;
use crate::error::ApiError;

/// Most cases one post may send (the 派单 page lists at most this many per queue).
pub(crate) const MAX_CASES: usize = 200;
/// Cases sent at the same time by one post.
const PARALLEL: usize = 8;

/// What happened to one ticked case.
pub(crate) struct Outcome {
    pub id: i64,
    pub number: String,
    pub title: String,
    /// `done`, `changed` (someone else acted first) or `refused`.
    pub kind: &'static str,
    pub message: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "dispatch_result.html")]
struct ResultPage {
    chrome: Chrome,
    outcomes: Vec<Outcome>,
    error: Option<String>,
    done: usize,
    changed: usize,
    refused: usize,
}

/// A tick: `ID:SEQ` (the case and the latest event the page showed).
fn tick(value: &str) -> Option<(i64, u32)> {
    let (id, seq) = value.trim().split_once(':')?;
    let (id, seq) = (id.parse::<i64>().ok()?, seq.parse::<u32>().ok()?);
    (id > 0 && seq > 0).then_some((id, seq))
}

fn local(state: &AppState, t: chrono::DateTime<chrono::Utc>) -> String {
    t.with_timezone(&state.desk.config().tz).format("%Y-%m-%d %H:%M").to_string()
}

fn unit_name(state: &AppState, code: &str) -> String {
    state.desk.catalog().unit(code).map_or_else(|| code.to_string(), |u| u.name.clone())
}

/// Who did what to the case after event `seen`, in words (the events the viewer may see).
async fn since(state: &AppState, lang: Lang, actor: &Actor, id: i64, seen: u32) -> String {
    let scope = actor.scope(state.desk.catalog());
    let Ok(events) = state.desk.store().events_in(&scope, id).await else { return String::new() };
    let lines: Vec<String> = events
        .iter()
        .filter(|e| e.seq > seen)
        .map(|e| {
            let what = match &e.action {
                Action::Dispatch { unit, .. } => lang.f("派单至{}", &[&unit_name(state, unit)]),
                other => lang.t(other.label()).to_string(),
            };
            lang.f("{} 于 {} {}", &[&e.actor.user, &local(state, e.at), &what])
        })
        .collect();
    lines.join(lang.t("；"))
}

/// One ticked case through the desk, as seen, and what became of it.
#[allow(clippy::too_many_arguments)]
async fn one(
    state: &AppState,
    lang: Lang,
    actor: &Actor,
    id: i64,
    seen: u32,
    command: Command,
    note: Option<String>,
    at: chrono::DateTime<chrono::Utc>,
) -> Outcome {
    let by_list = matches!(&command, Command::Dispatch { unit: None, .. });
    let result = state.desk.act_as_seen(id, seen, actor.0.clone(), command, note, at).await;
    let (kind, message, rec) = match result {
        Ok(rec) => {
            let to = rec.state.assignee.as_deref().map(|u| unit_name(state, u)).unwrap_or_default();
            let due = rec.state.due.map(|d| lang.f("，办理时限 {}", &[&local(state, d)])).unwrap_or_default();
            let how = if by_list { lang.t("（按权责清单）") } else { "" };
            tracing::info!(case = id, action = "dispatch", "case action (console, bulk)");
            ("done", lang.f("已派往{}{}{}", &[&to, &how, &due]), Some(rec))
        }
        Err(CoreError::Changed { seen, .. }) => {
            let what = since(state, lang, actor, id, seen).await;
            ("changed", lang.f("未派单：派单页显示后已有人处理（{}）", &[&what]), None)
        }
        Err(e) => ("refused", lang.f("未派单：{}", &[&explain(lang, &ApiError::from(e))]), None),
    };
    // Number and title as the viewer may see them now (a case out of scope shows only its id).
    let rec = match rec {
        Some(r) => Some(r),
        None => state.desk.store().case_in(&actor.scope(state.desk.catalog()), id).await.ok(),
    };
    let tz = state.desk.config().tz;
    let (number, title) = rec.map_or_else(
        || (lang.f("工单 {}", &[&id]), String::new()),
        |r| (crate::views::case_number(r.id, r.state.received_at, tz), r.case.display_title()),
    );
    Outcome { id, number, title, kind, message }
}

/// `POST /dispatch/bulk`: `case=ID:SEQ` (repeated), `unit` (blank: by the responsibility list),
/// `category` (blank: keep), `note`. Every case through the desk, one by one; the page lists the
/// outcome of each.
pub(crate) async fn dispatch_many(State(state): State<AppState>, v: Viewer, Form(form): Form<FormPairs>) -> Response {
    let page_chrome = || chrome(&state, &v, "/dispatch");
    if let Err(e) = check_csrf(&v, &form).and_then(|()| check_form(&form)) {
        return error_page(Some(page_chrome()), &e);
    }
    let mut ticks: Vec<(i64, u32)> = Vec::new();
    let mut bad = 0usize;
    for (k, value) in &form {
        if k != "case" {
            continue;
        }
        match tick(value) {
            Some(t) if !ticks.iter().any(|(id, _)| *id == t.0) => ticks.push(t),
            Some(_) => {}
            None => bad += 1,
        }
    }
    let refuse = |message: &str| {
        let page = ResultPage {
            chrome: page_chrome(),
            outcomes: Vec::new(),
            error: Some(message.to_string()),
            done: 0,
            changed: 0,
            refused: 0,
        };
        (axum::http::StatusCode::BAD_REQUEST, page).into_response()
    };
    if bad > 0 {
        return refuse(v.lang.t("所选工单有误，请刷新派单页后重新选择"));
    }
    if ticks.is_empty() {
        return refuse(v.lang.t("未选择工单：请先勾选要派单的工单"));
    }
    if ticks.len() > MAX_CASES {
        return refuse(&v.lang.f("一次最多派 {} 件工单", &[&MAX_CASES]));
    }
    let unit = field(&form, "unit").filter(|u| !u.is_empty()).map(str::to_string);
    let category = field(&form, "category").filter(|c| !c.is_empty()).map(str::to_string);
    let note = field(&form, "note").filter(|n| !n.is_empty()).map(str::to_string);
    // Cases are independent: a few at a time (each its own transaction), reported in the order
    // they were ticked.
    let at = state.now();
    let permits = Arc::new(tokio::sync::Semaphore::new(PARALLEL));
    let mut running = tokio::task::JoinSet::new();
    for (i, (id, seen)) in ticks.into_iter().enumerate() {
        let (state, actor, permits, lang) = (state.clone(), v.actor.clone(), permits.clone(), v.lang);
        let command = Command::Dispatch { unit: unit.clone(), category: category.clone() };
        let note = note.clone();
        running.spawn(async move {
            let _permit = permits.acquire_owned().await.expect("the semaphore is never closed");
            (i, one(&state, lang, &actor, id, seen, command, note, at).await)
        });
    }
    let mut outcomes: Vec<(usize, Outcome)> = Vec::new();
    while let Some(done) = running.join_next().await {
        match done {
            Ok(o) => outcomes.push(o),
            Err(e) => return error_page(Some(page_chrome()), &ApiError::internal(format!("bulk dispatch: {e}"))),
        }
    }
    outcomes.sort_by_key(|(i, _)| *i);
    let outcomes: Vec<Outcome> = outcomes.into_iter().map(|(_, o)| o).collect();
    let count = |k: &str| outcomes.iter().filter(|o| o.kind == k).count();
    let (done, changed, refused) = (count("done"), count("changed"), count("refused"));
    ResultPage { chrome: page_chrome(), outcomes, error: None, done, changed, refused }.into_response()
}

#[cfg(test)]
mod tests {
    use super::tick;

    #[test]
    fn ticks_name_a_case_and_the_event_seen() {
        assert_eq!(tick("12:3"), Some((12, 3)));
        assert_eq!(tick(" 12:3 "), Some((12, 3)));
        for bad in ["12", "12:", ":3", "0:1", "-1:2", "1:-2", "a:b", "1:2:3", "1\u{0}:2", ""] {
            assert_eq!(tick(bad), None, "{bad:?}");
        }
    }
}
