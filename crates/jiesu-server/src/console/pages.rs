//! The console's pages. Each handler reads through the store within the viewer's `Scope` and
//! changes cases only through the desk, with the API's own parsing of what was posted.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use jiesu_core::Command;
use jiesu_domain::calendar::Calendar;
use jiesu_domain::model::{AppealReason, CaseKind, Channel, Role, Satisfaction, Status};
use jiesu_store::{CaseFilter, CaseRecord, Page};
use rand::RngExt;
use serde::Deserialize;
use serde_json::Value;

use super::forms::{self, FormPairs, field};
use super::{LOGIN_CSRF_COOKIE, Lang, Viewer, home_of, same_token};
use crate::AppState;
use crate::actor::{Actor, SESSION_COOKIE, Via, cookie, principal};
use crate::cases::{CreateCase, command_and_note, renderer};
use crate::error::ApiError;
use crate::extract::{AppJson, AppQuery, CaseId};
use crate::limit::ClientIp;
use crate::{auth, intake};

pub(crate) mod notices;

/// Rows shown per list (the busiest queue pages on from the API; the console shows the first).
const LIST_LIMIT: u32 = 200;

// ---------------------------------------------------------------------------------------------
// The frame every page shares.

/// One entry of the left navigation.
pub(crate) struct NavLink {
    pub(crate) href: &'static str,
    pub(crate) label: &'static str,
    pub(crate) active: bool,
}

/// The frame of a page: who is logged in, the role's pages, the CSRF token of its forms.
pub(crate) struct Chrome {
    pub(crate) user: String,
    pub(crate) role_label: &'static str,
    pub(crate) unit_name: Option<String>,
    pub(crate) links: Vec<NavLink>,
    pub(crate) csrf: String,
    /// The language of the page, and the path its language switch comes back to.
    pub(crate) lang: Lang,
    pub(crate) back: String,
}

impl Chrome {
    /// `zh` in the page's language (templates: `{{ chrome.t("承办") }}`).
    pub(crate) fn t<'a>(&self, zh: &'a str) -> &'a str {
        self.lang.t(zh)
    }

    /// `zh` in the page's language with its `{}` filled (`{{ chrome.f("共 {} 件", total) }}`).
    pub(crate) fn f(&self, zh: &str, a: impl std::fmt::Display) -> String {
        self.lang.f(zh, &[&a])
    }

    /// The same with four values.
    pub(crate) fn f4(
        &self,
        zh: &str,
        a: impl std::fmt::Display,
        b: impl std::fmt::Display,
        c: impl std::fmt::Display,
        d: impl std::fmt::Display,
    ) -> String {
        self.lang.f(zh, &[&a, &b, &c, &d])
    }

    /// 是 or 否.
    pub(crate) fn yes(&self, b: impl std::borrow::Borrow<bool>) -> &'static str {
        self.lang.t(if *b.borrow() { "是" } else { "否" })
    }

    /// The same with two values.
    pub(crate) fn f2(&self, zh: &str, a: impl std::fmt::Display, b: impl std::fmt::Display) -> String {
        self.lang.f(zh, &[&a, &b])
    }

    /// The language switch's link to `code` (`zh` or `en`), back to this page.
    pub(crate) fn switch(&self, code: &str) -> String {
        switch_href(code, &self.back)
    }
}

/// `/lang/{code}?back=…` (the query encoded).
pub(crate) fn switch_href(code: &str, back: &str) -> String {
    let back: String = form_urlencoded::byte_serialize(back.as_bytes()).collect();
    format!("/lang/{code}?back={back}")
}

/// The 通知 link every staff role has (its badge is filled in by `live.js`).
const NOTICES: (&str, &str) = ("/notices", "通知");

pub(crate) fn chrome(state: &AppState, v: &Viewer, active: &str) -> Chrome {
    let a = &v.actor.0;
    let pages: &[(&str, &str)] = match a.role {
        Role::Operator => {
            &[("/intake", "受理"), ("/callback", "回访"), ("/cases", "工单"), ("/assessment", "考核"), NOTICES]
        }
        Role::Dispatcher => &[("/dispatch", "派单"), ("/cases", "工单"), ("/assessment", "考核"), NOTICES],
        Role::UnitHandler => &[("/inbox", "承办"), ("/cases", "工单"), NOTICES],
        Role::Supervisor => {
            &[("/supervise", "督办"), ("/dispatch", "延期审批"), ("/assessment", "考核"), ("/cases", "工单"), NOTICES]
        }
        Role::Admin => &[
            ("/assessment", "考核"),
            ("/intake", "受理"),
            ("/dispatch", "派单"),
            ("/supervise", "督办"),
            ("/callback", "回访"),
            ("/cases", "工单"),
            NOTICES,
            ("/admin", "管理"),
        ],
        Role::GridInspector => &[("/grid", "网格"), ("/cases", "工单"), NOTICES],
        Role::Citizen | Role::System => &[("/cases", "工单")],
    };
    Chrome {
        user: a.user.clone(),
        role_label: v.lang.t(a.role.label()),
        unit_name: a.unit.as_deref().and_then(|u| state.desk.catalog().unit(u)).map(|u| u.name.clone()),
        links: pages
            .iter()
            .chain(super::map::nav(a.role))
            .map(|&(href, label)| NavLink { href, label: v.lang.t(label), active: href == active })
            .collect(),
        csrf: v.csrf.clone(),
        lang: v.lang,
        back: v.back.clone(),
    }
}

/// The words for an API error's code (in the page's language), then its detail.
pub(crate) fn explain(lang: Lang, e: &ApiError) -> String {
    let what = match e.code() {
        "forbidden" => "无权执行此操作",
        "csrf" => "页面已过期，请刷新后重试",
        "wrong_unit" => "不是本单位的工单",
        "illegal_transition" => "工单当前状态不允许此操作",
        "invalid" | "invalid_fields" => "填写有误",
        "not_found" => "工单不存在或无权查看",
        "changed" => "工单已被他人处理",
        "bad_credentials" => "用户名或密码错误",
        "too_many_requests" => "尝试过于频繁，请稍后再试",
        "busy" => "系统繁忙，请重试",
        "bad_request" => "请求有误",
        _ => "操作失败",
    };
    let what = lang.t(what);
    let fields: Vec<String> = e.fields().iter().map(|f| lang.f("{}：{}", &[&f.field, &f.message])).collect();
    let detail = if fields.is_empty() { e.message().to_string() } else { fields.join(lang.t("；")) };
    lang.f("{}（{}）", &[&what, &detail])
}

#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
struct ErrorPage {
    lang: Lang,
    chrome: Option<Chrome>,
    status: u16,
    message: String,
    back: String,
}

impl ErrorPage {
    fn t<'a>(&self, zh: &'a str) -> &'a str {
        self.lang.t(zh)
    }

    fn switch(&self, code: &str) -> String {
        switch_href(code, &self.back)
    }
}

/// An error as a page, with the status of the API's answer (in the frame's language).
pub(crate) fn error_page(chrome: Option<Chrome>, e: &ApiError) -> Response {
    let lang = chrome.as_ref().map_or(Lang::Zh, |c| c.lang);
    error_page_in(lang, chrome, e)
}

/// An error as a page in `lang`.
pub(crate) fn error_page_in(lang: Lang, chrome: Option<Chrome>, e: &ApiError) -> Response {
    let back = chrome.as_ref().map_or_else(|| "/".to_string(), |c| c.back.clone());
    let page = ErrorPage { lang, chrome, status: e.status().as_u16(), message: explain(lang, e), back };
    (e.status(), page).into_response()
}

pub(crate) fn forbidden_page(state: &AppState, v: &Viewer) -> Response {
    error_page(Some(chrome(state, v, "")), &ApiError::forbidden("this page is not for your role"))
}

/// Refuses a form post whose CSRF token is not the session's.
pub(crate) fn check_csrf(v: &Viewer, form: &FormPairs) -> Result<(), ApiError> {
    match field(form, "csrf") {
        Some(t) if same_token(t, &v.csrf) => Ok(()),
        _ => Err(ApiError::new(StatusCode::FORBIDDEN, "csrf", "the form's CSRF token is missing or stale")),
    }
}

/// A redirect after a post (303: the browser follows with GET).
pub(crate) fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// Where to go back to after a form: a local path only.
fn back_to(form: &FormPairs, default: String) -> String {
    match field(form, "back") {
        Some(b) if b.starts_with('/') && !b.starts_with("//") && !b.contains('\\') => b.to_string(),
        _ => default,
    }
}

// ---------------------------------------------------------------------------------------------
// Cases as the pages show them: the API's view (with its masking), plus display helpers.

#[derive(Debug, Deserialize, Default)]
struct PlaceRow {
    address: Option<String>,
    street_name: Option<String>,
    community_name: Option<String>,
    grid: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
struct ContactRow {
    name: Option<String>,
    phone: Option<String>,
    email: Option<String>,
}

#[derive(Debug, Deserialize)]
struct CallbackRow {
    reached: bool,
    responded: bool,
    solved: bool,
    satisfaction_label: String,
}

/// The case's 考核申诉, as the API shows it.
#[derive(Debug, Deserialize)]
struct AppealRow {
    unit: String,
    unit_name: Option<String>,
    reason_label: String,
    pending: bool,
    excluded: bool,
}

/// One case as the pages show it: read from the API's `CaseView` (so masked exactly as the API
/// masks it), times shortened to local minutes.
#[derive(Debug, Deserialize)]
pub(crate) struct CaseRow {
    id: i64,
    number: String,
    status: String,
    status_label: String,
    kind: String,
    kind_label: String,
    channel_label: String,
    title: String,
    text: String,
    category: String,
    category_name: Option<String>,
    category_parent_name: Option<String>,
    deadline_class_label: String,
    place: PlaceRow,
    contact: ContactRow,
    contact_masked: bool,
    assignee: Option<String>,
    assignee_name: Option<String>,
    due: Option<String>,
    overdue: bool,
    received_at: String,
    replied_at: Option<String>,
    closed_at: Option<String>,
    pending_extension: Option<String>,
    callback: Option<CallbackRow>,
    merged_into: Option<i64>,
    appeal: Option<AppealRow>,
    returns: u32,
    extensions: u32,
    reopen_count: u32,
    supervisions: u32,
    /// The latest event's number when the page was made (bulk actions act on the case as seen).
    events: u32,
    /// Time left to the deadline, in words (`剩余 2 个工作日`, `超期 5 小时`).
    #[serde(skip)]
    left: String,
    /// CSS class of the time left: `late`, `soon` (this working day), `near` (two), `ok`.
    #[serde(skip)]
    urgency: &'static str,
    /// When the deadline falls (for sorting).
    #[serde(skip)]
    due_at: Option<DateTime<Utc>>,
}

/// `2026-09-30T01:30:00+08:00` → `2026-09-30 01:30`.
fn short(t: &str) -> String {
    let t = t.replacen('T', " ", 1);
    t.get(..16).map_or(t.clone(), str::to_string)
}

impl CaseRow {
    fn street_label(&self) -> String {
        [self.place.street_name.as_deref(), self.place.community_name.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" · ")
    }

    fn in_manual_queue(&self) -> bool {
        self.status == "received" && self.category == "2299"
    }

    fn open(&self) -> bool {
        !matches!(self.status.as_str(), "closed" | "merged")
    }
}

fn rows(state: &AppState, v: &Viewer, recs: Vec<CaseRecord>) -> Vec<CaseRow> {
    recs.into_iter().map(|r| row(state, v, r)).collect()
}

fn row(state: &AppState, v: &Viewer, rec: CaseRecord) -> CaseRow {
    let view = renderer(state).case(rec, &v.actor);
    row_from_view(state, v.lang, serde_json::to_value(view).expect("a case view serialises"))
}

/// A row from the API's case view (as JSON), its labels in `lang`.
fn row_from_view(state: &AppState, lang: Lang, json: Value) -> CaseRow {
    let now = state.now();
    let mut r: CaseRow = serde_json::from_value(json).expect("the case view has the console's fields");
    for label in [&mut r.status_label, &mut r.kind_label, &mut r.channel_label, &mut r.deadline_class_label] {
        *label = lang.t(label).to_string();
    }
    if let Some(cb) = r.callback.as_mut() {
        cb.satisfaction_label = lang.t(&cb.satisfaction_label).to_string();
    }
    r.due_at = r.due.as_deref().and_then(|d| DateTime::parse_from_rfc3339(d).ok()).map(|d| d.with_timezone(&Utc));
    if let Some(due) = r.due_at.filter(|_| r.open() && r.replied_at.is_none()) {
        let (left, urgency) = time_left(state, lang, now, due);
        r.left = left;
        r.urgency = urgency;
    } else {
        r.urgency = "none";
    }
    for t in [&mut r.due, &mut r.replied_at, &mut r.closed_at, &mut r.pending_extension] {
        *t = t.as_deref().map(short);
    }
    r.received_at = short(&r.received_at);
    r
}

/// Time left to `due`, in working days of the district's calendar (hours on the last day).
fn time_left(state: &AppState, lang: Lang, now: DateTime<Utc>, due: DateTime<Utc>) -> (String, &'static str) {
    time_left_by(state.desk.calendar(), state.desk.config().tz, lang, now, due)
}

fn time_left_by(
    calendar: &Calendar,
    tz: Tz,
    lang: Lang,
    now: DateTime<Utc>,
    due: DateTime<Utc>,
) -> (String, &'static str) {
    let hours = (due - now).num_minutes() as f64 / 60.0;
    if hours <= 0.0 {
        return (lang.f("超期 {} 小时", &[&format!("{:.0}", -hours)]), "late");
    }
    // A deadline at 00:00 ends the day before.
    let last = due - chrono::Duration::milliseconds(1);
    let (today, due_day) = (now.with_timezone(&tz).date_naive(), last.with_timezone(&tz).date_naive());
    // Working days strictly after today up to the due day (a calendar without the year's data: count days).
    let days = calendar
        .working_days_between(today, due_day)
        .unwrap_or_else(|_| u32::try_from((due_day - today).num_days()).unwrap_or(0));
    let hours = format!("{hours:.0}");
    match days {
        0 => (lang.f("剩余 {} 小时", &[&hours]), "soon"),
        1 => (lang.f("剩余 1 个工作日（{} 小时）", &[&hours]), "near"),
        n => (lang.f("剩余 {} 个工作日", &[&n]), "ok"),
    }
}

/// One event of a timeline as the pages show it.
#[derive(Debug, Deserialize)]
struct EventRow {
    seq: u32,
    at: String,
    action: String,
    action_label: String,
    to_label: String,
    actor: EventActor,
    note: Option<String>,
    detail: Value,
    #[serde(skip)]
    summary: String,
    /// Photos that came with it.
    #[serde(skip)]
    photos: Vec<super::desk::PhotoLink>,
}

#[derive(Debug, Deserialize)]
struct EventActor {
    user: String,
    role_label: String,
    unit_name: Option<String>,
}

fn event_summary(lang: Lang, action: &str, d: &Value) -> String {
    let s = |k: &str| d.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let yes = |k: &str| lang.t(if d.get(k).and_then(Value::as_bool).unwrap_or(false) { "是" } else { "否" });
    match action {
        "receive" => {
            lang.f("分类 {} {}，{}", &[&s("category"), &s("category_name"), &lang.t(&s("deadline_class_label"))])
        }
        "dispatch" => lang.f("派往 {}，办理时限 {}", &[&s("unit_name"), &short(&s("due"))]),
        "reclassify" => format!("{} → {} {}", s("from_name"), s("category"), s("category_name")),
        "request_extension" => lang.f("申请延至 {}", &[&short(&s("until"))]),
        "handle" => lang.f("已联系诉求人：{}", &[&yes("contacted")]),
        "callback" => lang.f(
            "联系上：{}，响应：{}，解决：{}，{}",
            &[&yes("reached"), &yes("responded"), &yes("solved"), &lang.t(&s("satisfaction_label"))],
        ),
        "reopen" if !s("due").is_empty() => lang.f("新时限 {}", &[&short(&s("due"))]),
        "verify" => lang.f("核查通过：{}", &[&yes("passed")]),
        "whistle" => {
            let units = d.get("units").and_then(Value::as_array).into_iter().flatten();
            let names: Vec<&str> = units
                .filter_map(|u| u.get("unit_name").and_then(Value::as_str).or_else(|| u["unit"].as_str()))
                .collect();
            lang.f("召集 {}，报到时限 {}", &[&names.join(lang.t("、")), &short(&s("checkin_due"))])
        }
        "merge" => lang.f("并入工单 {}", &[&d.get("into").and_then(Value::as_i64).unwrap_or(0)]),
        "alarm" if d.get("suppressed").and_then(Value::as_bool).unwrap_or(false) => {
            lang.f("设备 {}：{}（抖动抑制）", &[&s("device"), &lang.t(&s("level_label"))])
        }
        "alarm" => lang.f("设备 {}：{}", &[&s("device"), &lang.t(&s("level_label"))]),
        "appeal" => lang.t(&s("reason_label")).to_string(),
        "rule_appeal" => lang
            .t(if d.get("excluded").and_then(Value::as_bool).unwrap_or(false) {
                "予以核减"
            } else {
                "不予核减"
            })
            .to_string(),
        "supervise" if d.get("overdue").and_then(Value::as_bool).unwrap_or(false) => lang.t("超期自动督办").into(),
        _ => String::new(),
    }
}

/// A choice of a select.
pub(crate) struct Opt {
    pub(crate) value: String,
    pub(crate) label: String,
}

pub(crate) fn unit_options(state: &AppState) -> Vec<Opt> {
    state.desk.catalog().units().iter().map(|u| Opt { value: u.code.clone(), label: u.name.clone() }).collect()
}

pub(crate) fn category_options(state: &AppState) -> Vec<Opt> {
    let catalog = state.desk.catalog();
    catalog
        .leaf_categories()
        .into_iter()
        .map(|c| {
            let parent = c.parent.as_deref().and_then(|p| catalog.category(p)).map_or("", |p| p.name.as_str());
            Opt { value: c.code.clone(), label: format!("{} {} · {}", c.code, parent, c.name) }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// 登录

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
struct LoginPage {
    lang: Lang,
    csrf: String,
    name: String,
    error: Option<String>,
}

impl LoginPage {
    fn t<'a>(&self, zh: &'a str) -> &'a str {
        self.lang.t(zh)
    }

    fn switch(&self, code: &str) -> String {
        switch_href(code, "/")
    }
}

fn login_page(lang: Lang, status: StatusCode, name: String, error: Option<String>) -> Response {
    let bytes: [u8; 16] = rand::rng().random();
    let csrf: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let cookie = format!("{LOGIN_CSRF_COOKIE}={csrf}; Path=/; HttpOnly; SameSite=Strict; Max-Age=3600");
    let cookie = HeaderValue::from_str(&cookie).expect("hex");
    (status, [(header::SET_COOKIE, cookie)], LoginPage { lang, csrf, name, error }).into_response()
}

/// `GET /`: the login page, or the role's home when logged in.
pub(crate) async fn home(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match principal(&headers, &state).await {
        Ok(Some((actor, Via::Session { .. }))) if actor.role() != Role::Citizen => see_other(home_of(actor.role())),
        _ => login_page(Lang::of(&headers), StatusCode::OK, String::new(), None),
    }
}

/// `POST /login`: the JSON login's checks and session, then the role's home.
pub(crate) async fn login(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    Form(form): Form<FormPairs>,
) -> Response {
    let name = field(&form, "name").unwrap_or("").to_string();
    let posted = field(&form, "csrf").unwrap_or("");
    let lang = Lang::of(&headers);
    if !cookie(&headers, LOGIN_CSRF_COOKIE).is_some_and(|c| same_token(c, posted)) {
        return login_page(lang, StatusCode::FORBIDDEN, name, Some(lang.t("页面已过期，请重新登录").into()));
    }
    let password = form.iter().rev().find(|(k, _)| k == "password").map_or("", |(_, v)| v.as_str());
    match auth::start_session(&state, &ip, &name, password).await {
        Ok((actor, _, _)) if actor.role() == Role::Citizen => {
            let msg = lang.t("市民请通过 12345 热线、网站或 App 反映诉求");
            login_page(lang, StatusCode::FORBIDDEN, name, Some(msg.into()))
        }
        Ok((actor, _, cookie)) => {
            let mut resp = see_other(home_of(actor.role()));
            resp.headers_mut().append(header::SET_COOKIE, cookie);
            resp
        }
        Err(e) => login_page(lang, e.status(), name, Some(explain(lang, &e))),
    }
}

/// `POST /logout`: ends the session and clears the cookie.
pub(crate) async fn logout(
    State(state): State<AppState>,
    v: Viewer,
    headers: HeaderMap,
    Form(form): Form<FormPairs>,
) -> Response {
    if let Err(e) = check_csrf(&v, &form) {
        return error_page_in(v.lang, None, &e);
    }
    if let Some(token) = cookie(&headers, SESSION_COOKIE)
        && let Err(e) = state.desk.store().end_session(token).await
    {
        return error_page_in(v.lang, None, &ApiError::from(e));
    }
    let mut resp = see_other("/");
    resp.headers_mut().append(header::SET_COOKIE, auth::session_cookie(&state, "", 0));
    resp
}

// ---------------------------------------------------------------------------------------------
// 受理

#[derive(Template, WebTemplate)]
#[template(path = "intake.html")]
struct IntakePage {
    chrome: Chrome,
    channels: Vec<Opt>,
    kinds: Vec<Opt>,
    categories: Vec<Opt>,
    channel: String,
    kind: String,
    title: String,
    text: String,
    category: String,
    address: String,
    name: String,
    phone: String,
    email: String,
    hold: bool,
    error: Option<String>,
    recent: Vec<CaseRow>,
}

fn may_take_calls(role: Role) -> bool {
    matches!(role, Role::Operator | Role::Admin)
}

async fn intake_page(state: &AppState, v: &Viewer, form: &FormPairs, error: Option<String>) -> Response {
    let get = |k: &str| field(form, k).unwrap_or("").to_string();
    // The viewer's latest filings, newest first.
    let recent = state
        .desk
        .store()
        .list(&v.actor.scope(state.desk.catalog()), &CaseFilter::default(), Page { limit: 8, before: None })
        .await
        .map(|recs| rows(state, v, recs))
        .unwrap_or_default();
    let page = IntakePage {
        chrome: chrome(state, v, "/intake"),
        channels: Channel::ALL
            .iter()
            .map(|c| Opt { value: c.code().into(), label: v.lang.t(c.label()).into() })
            .collect(),
        kinds: CaseKind::ALL
            .iter()
            .map(|c| Opt { value: c.code().into(), label: v.lang.t(c.label()).into() })
            .collect(),
        categories: category_options(state),
        channel: field(form, "channel").unwrap_or("hotline").to_string(),
        kind: field(form, "kind").unwrap_or("complaint").to_string(),
        title: get("title"),
        text: get("text"),
        category: get("category"),
        address: get("address"),
        name: get("name"),
        phone: get("phone"),
        email: get("email"),
        hold: field(form, "hold").is_some_and(|h| h == "on" || h == "true"),
        error,
        recent,
    };
    let status = if page.error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    (status, page).into_response()
}

/// `GET /intake`: the call form.
pub(crate) async fn intake(State(state): State<AppState>, v: Viewer) -> Response {
    if !may_take_calls(v.actor.role()) {
        return forbidden_page(&state, &v);
    }
    intake_page(&state, &v, &Vec::new(), None).await
}

/// `POST /intake`: 受理 through the desk as `POST /api/v1/cases` does (dispatched at once by the
/// responsibility list unless bound for the manual queue); with `merge_into`, filed and merged
/// into that open case.
pub(crate) async fn file_case(State(state): State<AppState>, v: Viewer, Form(form): Form<FormPairs>) -> Response {
    if let Err(e) = check_csrf(&v, &form) {
        return error_page(Some(chrome(&state, &v, "/intake")), &e);
    }
    let merge_into = field(&form, "merge_into").and_then(|m| m.parse::<i64>().ok());
    // 交派单员: received only; the dispatcher sends it from the 派单 page.
    let hold = field(&form, "hold").is_some_and(|h| h == "on" || h == "true");
    let result = async {
        let body: CreateCase = serde_json::from_value(forms::case_body(&form, merge_into.is_none() && !hold))
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        let (draft, auto_dispatch) = body.into_draft(&state)?;
        let rec = state.desk.receive(v.actor.0.clone(), draft, state.now(), auto_dispatch).await?;
        tracing::info!(case = rec.id, status = rec.state.status.code(), "case received (console)");
        if let Some(into) = merge_into {
            state.desk.act(rec.id, v.actor.0.clone(), Command::Merge { into }, None, state.now()).await?;
            return Ok::<i64, ApiError>(into);
        }
        Ok(rec.id)
    }
    .await;
    match result {
        Ok(id) => see_other(&format!("/cases/{id}")),
        Err(e) => intake_page(&state, &v, &form, Some(explain(v.lang, &e))).await,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "suggest.html")]
struct SuggestFragment {
    lang: Lang,
    s: Option<SuggestView>,
    error: Option<String>,
}

impl SuggestFragment {
    fn t<'a>(&self, zh: &'a str) -> &'a str {
        self.lang.t(zh)
    }
}

#[derive(Debug, Deserialize)]
struct SuggestView {
    category: Option<SuggestCategory>,
    manual_queue: bool,
    place: Option<SuggestPlace>,
    duplicates: Vec<SuggestDup>,
    route: Option<SuggestRoute>,
    #[serde(skip)]
    deadline_class: Option<&'static str>,
}

#[derive(Debug, Deserialize)]
struct SuggestCategory {
    category: Option<String>,
    category_name: Option<String>,
    top_category_name: Option<String>,
    confidence: f64,
    manual: bool,
    reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct SuggestPlace {
    street_name: Option<String>,
    community_name: Option<String>,
    grid: Option<String>,
    matched: Option<String>,
    confidence: f64,
    area_precision: String,
}

#[derive(Debug, Deserialize)]
struct SuggestDup {
    case_id: i64,
    title: String,
    confidence: f64,
    likely: bool,
    distance_m: Option<f64>,
    /// How far, in words.
    #[serde(skip)]
    distance_text: String,
}

#[derive(Debug, Deserialize)]
struct SuggestRoute {
    unit_name: Option<String>,
    unit: String,
}

/// Duplicate candidates below this confidence are not shown while a call is taken (unless the
/// scorer calls them likely).
const DUPLICATE_SHOWN: f64 = 0.3;

/// A confidence as a whole percentage.
fn pct(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}

impl SuggestCategory {
    fn conf(&self) -> String {
        pct(self.confidence)
    }
}

impl SuggestPlace {
    fn conf(&self) -> String {
        pct(self.confidence)
    }
}

impl SuggestDup {
    fn conf(&self) -> String {
        pct(self.confidence)
    }

    fn distance(&self, lang: Lang) -> String {
        self.distance_m.map_or_else(String::new, |m| lang.f("相距 {} 米", &[&format!("{m:.0}")]))
    }
}

/// `POST /intake/suggest` (htmx, as the call is typed): the API's `POST /api/v1/intake/suggest`
/// handler itself, rendered as a fragment.
pub(crate) async fn suggest(State(state): State<AppState>, v: Viewer, Form(form): Form<FormPairs>) -> Response {
    if let Err(e) = check_csrf(&v, &form) {
        return (e.status(), SuggestFragment { lang: v.lang, s: None, error: Some(explain(v.lang, &e)) })
            .into_response();
    }
    if field(&form, "text").unwrap_or("").is_empty() {
        return SuggestFragment { lang: v.lang, s: None, error: None }.into_response();
    }
    let body = match serde_json::from_value(forms::suggest_body(&form)) {
        Ok(b) => b,
        Err(e) => return SuggestFragment { lang: v.lang, s: None, error: Some(e.to_string()) }.into_response(),
    };
    let chosen = field(&form, "category").filter(|c| !c.is_empty()).map(str::to_string);
    match intake::suggest(State(state.clone()), v.actor, AppJson(body)).await {
        Ok(AppJson(s)) => {
            let json = serde_json::to_value(s).expect("suggestions serialise");
            let mut s: SuggestView = serde_json::from_value(json).expect("the console reads the suggestion view");
            // The leaf under its catalog parent, as the case page will show it.
            let catalog = state.desk.catalog();
            if let Some(c) = s.category.as_mut()
                && let Some(parent) =
                    c.category.as_deref().and_then(|l| catalog.category(l)).and_then(|l| l.parent.clone())
            {
                c.top_category_name = catalog.category(&parent).map(|p| p.name.clone());
            }
            // Only candidates worth a look: the likely ones, and others from 30 % up; five at most.
            s.duplicates.retain(|d| d.likely || d.confidence >= DUPLICATE_SHOWN);
            s.duplicates.truncate(5);
            for d in &mut s.duplicates {
                d.distance_text = d.distance(v.lang);
            }
            // The classifier explains itself in Chinese; in English, why in general words.
            if let Some(c) = s.category.as_mut().filter(|c| v.lang.en() && c.reason.is_some()) {
                let why = if c.category.is_none() {
                    "未能归入本区诉求分类，需人工分类"
                } else {
                    "置信度不足，需人工确认分类"
                };
                c.reason = Some(v.lang.t(why).into());
            }
            let leaf = chosen.or_else(|| s.category.as_ref().and_then(|c| c.category.clone()));
            s.deadline_class =
                leaf.and_then(|c| state.desk.catalog().category(&c).map(|c| v.lang.t(c.deadline_class.label())));
            SuggestFragment { lang: v.lang, s: Some(s), error: None }.into_response()
        }
        Err(e) => (StatusCode::OK, SuggestFragment { lang: v.lang, s: None, error: Some(explain(v.lang, &e)) })
            .into_response(),
    }
}

// ---------------------------------------------------------------------------------------------
// 派单

#[derive(Template, WebTemplate)]
#[template(path = "dispatch.html")]
struct DispatchPage {
    chrome: Chrome,
    can_dispatch: bool,
    manual: Vec<CaseRow>,
    received: Vec<CaseRow>,
    returns: Vec<CaseRow>,
    extensions: Vec<CaseRow>,
    overdue: Vec<CaseRow>,
    units: Vec<Opt>,
    categories: Vec<Opt>,
    /// Dispatched and not yet signed for: may be redispatched (改派).
    unsigned: Vec<CaseRow>,
}

async fn list(state: &AppState, v: &Viewer, filter: CaseFilter) -> Result<Vec<CaseRow>, ApiError> {
    let scope = v.actor.scope(state.desk.catalog());
    let recs = state.desk.store().list(&scope, &filter, Page { limit: LIST_LIMIT, before: None }).await?;
    Ok(rows(state, v, recs))
}

/// `GET /dispatch`: the manual queue (2299), other cases waiting for 派单, returns and extension
/// requests to rule on, and overdue cases.
pub(crate) async fn dispatch(State(state): State<AppState>, v: Viewer) -> Response {
    if !matches!(v.actor.role(), Role::Dispatcher | Role::Supervisor | Role::Admin) {
        return forbidden_page(&state, &v);
    }
    let status = |s: &[Status]| CaseFilter { statuses: s.to_vec(), ..Default::default() };
    let held = [Status::Dispatched, Status::Accepted, Status::InProgress];
    let result = tokio::try_join!(
        list(&state, &v, status(&[Status::Received])),
        list(&state, &v, status(&[Status::ReturnRequested])),
        list(&state, &v, status(&held)),
        list(&state, &v, CaseFilter { overdue_at: Some(state.now()), ..Default::default() }),
    );
    let (received, returns, held, mut overdue) = match result {
        Ok(r) => r,
        Err(e) => return error_page(Some(chrome(&state, &v, "/dispatch")), &e),
    };
    let (manual, received): (Vec<_>, Vec<_>) = received.into_iter().partition(CaseRow::in_manual_queue);
    let (unsigned, held): (Vec<_>, Vec<_>) = held.into_iter().partition(|c| c.status == "dispatched");
    let extensions = held.into_iter().filter(|c| c.pending_extension.is_some()).collect();
    overdue.sort_by_key(|c| c.due_at);
    DispatchPage {
        chrome: chrome(&state, &v, "/dispatch"),
        can_dispatch: matches!(v.actor.role(), Role::Dispatcher | Role::Admin),
        manual,
        received,
        returns,
        extensions,
        overdue,
        units: unit_options(&state),
        categories: category_options(&state),
        unsigned,
    }
    .into_response()
}

// ---------------------------------------------------------------------------------------------
// 承办

#[derive(Template, WebTemplate)]
#[template(path = "inbox.html")]
struct InboxPage {
    chrome: Chrome,
    rows: Vec<CaseRow>,
    late: usize,
    soon: usize,
    summoned: Vec<super::summon::SummonedRow>,
}

/// `GET /inbox`: the unit's cases by time left, the nearest deadline first.
pub(crate) async fn inbox(State(state): State<AppState>, v: Viewer) -> Response {
    if v.actor.role() != Role::UnitHandler {
        return forbidden_page(&state, &v);
    }
    let filter = CaseFilter {
        statuses: vec![Status::Dispatched, Status::Accepted, Status::InProgress, Status::ReturnRequested],
        assignee: v.actor.0.unit.clone(),
        ..Default::default()
    };
    let (mut rows, summoned) =
        match tokio::try_join!(list(&state, &v, filter), super::summon::summoned(&state, v.lang, &v.actor)) {
            Ok(r) => r,
            Err(e) => return error_page(Some(chrome(&state, &v, "/inbox")), &e),
        };
    rows.sort_by_key(|c| (c.due_at.is_none(), c.due_at));
    let late = rows.iter().filter(|c| c.urgency == "late").count();
    let soon = rows.iter().filter(|c| matches!(c.urgency, "soon" | "near")).count();
    InboxPage { chrome: chrome(&state, &v, "/inbox"), rows, late, soon, summoned }.into_response()
}

// ---------------------------------------------------------------------------------------------
// 回访

#[derive(Template, WebTemplate)]
#[template(path = "callback.html")]
struct CallbackPage {
    chrome: Chrome,
    replied: Vec<CaseRow>,
    called: Vec<CaseRow>,
    satisfactions: Vec<Opt>,
}

/// `GET /callback`: cases replied and waiting for the citizen's callback, and cases called back
/// but not yet closed.
pub(crate) async fn callback(State(state): State<AppState>, v: Viewer) -> Response {
    if !may_take_calls(v.actor.role()) {
        return forbidden_page(&state, &v);
    }
    let status = |s: Status| CaseFilter { statuses: vec![s], ..Default::default() };
    match tokio::try_join!(list(&state, &v, status(Status::Replied)), list(&state, &v, status(Status::CalledBack))) {
        Ok((replied, called)) => CallbackPage {
            chrome: chrome(&state, &v, "/callback"),
            replied,
            called,
            satisfactions: satisfactions(v.lang),
        }
        .into_response(),
        Err(e) => error_page(Some(chrome(&state, &v, "/callback")), &e),
    }
}

// ---------------------------------------------------------------------------------------------
// 督办

#[derive(Template, WebTemplate)]
#[template(path = "supervise.html")]
struct SupervisePage {
    chrome: Chrome,
    overdue: Vec<CaseRow>,
    near: Vec<CaseRow>,
}

/// `GET /supervise`: cases past their deadline and cases due by the end of the next working day,
/// across units, nearest deadline first, each with 督办.
pub(crate) async fn supervise(State(state): State<AppState>, v: Viewer) -> Response {
    if !matches!(v.actor.role(), Role::Supervisor | Role::Admin) {
        return forbidden_page(&state, &v);
    }
    let now = state.now();
    let tz = state.desk.config().tz;
    // The end of the next working day (local): "due past this instant" is overdue or near due.
    let today = now.with_timezone(&tz).date_naive();
    let horizon = state
        .desk
        .calendar()
        .add_working_days(today, 1)
        .ok()
        .and_then(|d| d.succ_opt())
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .and_then(|t| t.and_local_timezone(tz).earliest())
        .map_or(now + chrono::Duration::hours(24), |t| t.with_timezone(&Utc));
    let mut rows = match list(&state, &v, CaseFilter { overdue_at: Some(horizon), ..Default::default() }).await {
        Ok(r) => r,
        Err(e) => return error_page(Some(chrome(&state, &v, "/supervise")), &e),
    };
    rows.sort_by_key(|c| c.due_at);
    let (overdue, near) = rows.into_iter().partition(|c| c.due_at.is_some_and(|d| d <= now));
    SupervisePage { chrome: chrome(&state, &v, "/supervise"), overdue, near }.into_response()
}

// ---------------------------------------------------------------------------------------------
// 网格: the grid inspector's phone page

#[derive(Template, WebTemplate)]
#[template(path = "grid.html")]
struct GridPage {
    chrome: Chrome,
    text: String,
    address: String,
    error: Option<String>,
    /// The id of the case just reported.
    filed: Option<i64>,
    verifying: Vec<CaseRow>,
    reported: Vec<CaseRow>,
}

async fn grid_page(
    state: &AppState,
    v: &Viewer,
    form: &FormPairs,
    filed: Option<i64>,
    error: Option<String>,
) -> Response {
    let status = |s: Vec<Status>| CaseFilter { statuses: s, ..Default::default() };
    let lists = tokio::try_join!(
        list(state, v, status(vec![Status::Verifying])),
        list(state, v, status(Status::ALL.iter().copied().filter(|s| s.is_open()).collect())),
    );
    let (verifying, open) = match lists {
        Ok(l) => l,
        Err(e) => return error_page(Some(chrome(state, v, "/grid")), &e),
    };
    // Open cases of the area that came from grid patrols, newest first.
    let reported: Vec<CaseRow> =
        open.into_iter().filter(|c| c.channel_label == v.lang.t(Channel::Grid.label())).take(20).collect();
    let page = GridPage {
        chrome: chrome(state, v, "/grid"),
        text: field(form, "text").unwrap_or("").to_string(),
        address: field(form, "address").unwrap_or("").to_string(),
        error,
        filed,
        verifying,
        reported,
    };
    let status = if page.error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    (status, page).into_response()
}

/// `GET /grid`: report what was found (with the phone's position), and the cases waiting for
/// 核查 in the inspector's area.
pub(crate) async fn grid(State(state): State<AppState>, v: Viewer, Query(q): Query<GridQuery>) -> Response {
    if !matches!(v.actor.role(), Role::GridInspector | Role::Admin) {
        return forbidden_page(&state, &v);
    }
    grid_page(&state, &v, &Vec::new(), q.filed, None).await
}

/// Query of `GET /grid`: `filed` names the case just reported.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct GridQuery {
    #[serde(default)]
    filed: Option<i64>,
}

/// `POST /grid`: 受理 a grid report through the desk (channel 网格巡查, dispatched by the
/// responsibility list), as `POST /api/v1/cases` does; then back to `/grid`, which says so.
pub(crate) async fn grid_report(
    State(state): State<AppState>,
    v: Viewer,
    super::desk::Posted { form, photos }: super::desk::Posted,
) -> Response {
    if let Err(e) = check_csrf(&v, &form) {
        return error_page(Some(chrome(&state, &v, "/grid")), &e);
    }
    let result = async {
        let photos = photos?;
        let mut body = forms::case_body(&form, true);
        body["channel"] = Value::from(Channel::Grid.code());
        body["kind"] = Value::from(CaseKind::Report.code());
        let body: CreateCase = serde_json::from_value(body).map_err(|e| ApiError::bad_request(e.to_string()))?;
        let (draft, auto_dispatch) = body.into_draft(&state)?;
        let rec = state.desk.receive_full(v.actor.0.clone(), draft, state.now(), auto_dispatch, None, photos).await?;
        tracing::info!(case = rec.id, status = rec.state.status.code(), "grid report received (console)");
        Ok::<i64, ApiError>(rec.id)
    }
    .await;
    // Back to the phone page (the case itself may be outside the inspector's scope, e.g. when it
    // waits unrouted in the manual queue).
    match result {
        Ok(id) => see_other(&format!("/grid?filed={id}")),
        Err(e) => grid_page(&state, &v, &form, None, Some(explain(v.lang, &e))).await,
    }
}

// ---------------------------------------------------------------------------------------------
// 工单: list and one case

#[derive(Template, WebTemplate)]
#[template(path = "cases.html")]
struct CasesPage {
    chrome: Chrome,
    rows: Vec<CaseRow>,
    total: u64,
    /// A text search matched more than `total` (the API's cap): shown as "超过 N 件".
    total_capped: bool,
    /// The filters as given (blank when absent), to keep them in the form.
    q: String,
    status: String,
    category: String,
    street: String,
    /// A unit grid cell (from the map), kept as a hidden filter.
    grid: String,
    /// Only cases open past their deadline (from the map), kept as a hidden filter.
    overdue: String,
    unit: String,
    from: String,
    to: String,
    statuses: Vec<Opt>,
    categories: Vec<Opt>,
    streets: Vec<Opt>,
    units: Vec<Opt>,
    /// The next page's URL, when there is one.
    next: Option<String>,
}

/// The filters of `GET /cases`, named as the API's `GET /api/v1/cases` names them.
const LIST_FILTERS: &[&str] = &["q", "status", "category", "street", "grid", "unit", "from", "to", "overdue", "before"];

/// `GET /cases?q=&status=&category=&street=&unit=&from=&to=&before=`: the cases the viewer may
/// see, newest first, 50 a page: the API's own list handler with the same query.
pub(crate) async fn cases(
    State(state): State<AppState>,
    v: Viewer,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
) -> Response {
    // Blank and unknown parameters are dropped; the rest go to the API's parser as they are.
    let given: Vec<(String, String)> = form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .map(|(k, v)| (k.into_owned(), v.trim().to_string()))
        .filter(|(k, v)| !v.is_empty() && LIST_FILTERS.contains(&k.as_str()))
        .collect();
    let get = |k: &str| given.iter().rev().find(|(n, _)| n == k).map_or_else(String::new, |(_, v)| v.clone());
    let mut query = serde_json::Map::new();
    for (k, val) in &given {
        query.insert(k.clone(), Value::String(val.clone()));
    }
    query.insert("limit".into(), Value::String("50".into()));
    let result = async {
        let q: crate::cases::ListQuery =
            serde_json::from_value(Value::Object(query)).map_err(|e| ApiError::bad_request(e.to_string()))?;
        let AppJson(list) = crate::cases::list(State(state.clone()), v.actor.clone(), AppQuery(q)).await?;
        Ok::<Value, ApiError>(serde_json::to_value(list).expect("a case list serialises"))
    }
    .await;
    let list = match result {
        Ok(l) => l,
        Err(e) => return error_page(Some(chrome(&state, &v, "/cases")), &e),
    };
    let rows: Vec<CaseRow> = list["cases"]
        .as_array()
        .map(|cases| cases.iter().map(|c| row_from_view(&state, v.lang, c.clone())).collect())
        .unwrap_or_default();
    let next = list["next_before"].as_i64().map(|before| {
        let mut url = form_urlencoded::Serializer::new(String::new());
        for (k, val) in given.iter().filter(|(k, _)| k != "before") {
            url.append_pair(k, val);
        }
        format!("/cases?{}", url.append_pair("before", &before.to_string()).finish())
    });
    let catalog = state.desk.catalog();
    CasesPage {
        chrome: chrome(&state, &v, "/cases"),
        rows,
        total: list["total"].as_u64().unwrap_or(0),
        total_capped: list["total_capped"].as_bool().unwrap_or(false),
        q: get("q"),
        status: get("status"),
        category: get("category"),
        street: get("street"),
        grid: get("grid"),
        overdue: get("overdue"),
        unit: get("unit"),
        from: get("from"),
        to: get("to"),
        statuses: std::iter::once(Opt { value: super::map::open_statuses(), label: v.lang.t("未办结").into() })
            .chain(Status::ALL.iter().map(|s| Opt { value: s.code().into(), label: v.lang.t(s.label()).into() }))
            .collect(),
        categories: catalog
            .categories()
            .iter()
            .filter(|c| c.parent.is_none())
            .map(|c| Opt { value: c.code.clone(), label: c.name.clone() })
            .collect(),
        streets: catalog.streets().iter().map(|s| Opt { value: s.code.clone(), label: s.name.clone() }).collect(),
        units: unit_options(&state),
        next,
    }
    .into_response()
}

/// The forms the case page offers: what the role may do in the case's status. The server
/// decides again when the form is posted.
#[derive(Default)]
struct Offers {
    dispatch: bool,
    accept: bool,
    handle: bool,
    reply: bool,
    direct_reply: bool,
    request_return: bool,
    request_extension: bool,
    rule_return: bool,
    rule_extension: bool,
    callback: bool,
    close: bool,
    reopen: bool,
    supervise: bool,
    verify: bool,
    /// 考核申诉 (the holding unit, no appeal pending, not excluded already).
    appeal: bool,
    /// 核减 or refuse a pending appeal (supervisor).
    rule_appeal: bool,
    /// 撤销核减 (supervisor).
    take_back_exclusion: bool,
}

impl Offers {
    fn any(&self) -> bool {
        let Offers {
            dispatch,
            accept,
            handle,
            reply,
            direct_reply,
            request_return,
            request_extension,
            rule_return,
            rule_extension,
            callback,
            close,
            reopen,
            supervise,
            verify,
            appeal,
            rule_appeal,
            take_back_exclusion,
        } = *self;
        dispatch
            || accept
            || handle
            || reply
            || direct_reply
            || request_return
            || request_extension
            || rule_return
            || rule_extension
            || callback
            || close
            || reopen
            || supervise
            || verify
            || appeal
            || rule_appeal
            || take_back_exclusion
    }
}

fn offers(actor: &Actor, c: &CaseRow) -> Offers {
    let role = actor.role();
    let st = c.status.as_str();
    let mine = c.assignee.is_some() && c.assignee == actor.0.unit;
    let admin = role == Role::Admin;
    let dispatcher = role == Role::Dispatcher || admin;
    let operator = role == Role::Operator || admin;
    let supervisor = role == Role::Supervisor || admin;
    let handler = role == Role::UnitHandler && mine;
    let holding = matches!(st, "accepted" | "in_progress");
    Offers {
        dispatch: dispatcher && st == "received",
        accept: handler && st == "dispatched",
        handle: handler && holding,
        reply: handler && holding,
        direct_reply: operator && st == "received" && c.kind == "consult",
        request_return: handler && (st == "dispatched" || holding),
        request_extension: handler && holding && c.pending_extension.is_none(),
        rule_return: dispatcher && st == "return_requested",
        rule_extension: (dispatcher || supervisor) && c.pending_extension.is_some(),
        callback: operator && st == "replied",
        close: (operator || dispatcher || supervisor) && st == "called_back",
        reopen: (operator || dispatcher || supervisor) && matches!(st, "closed" | "called_back"),
        supervise: supervisor && c.open() && st != "received",
        verify: (role == Role::GridInspector || supervisor) && st == "verifying",
        appeal: (handler || (admin && c.assignee.is_some()))
            && st != "merged"
            && c.appeal.as_ref().is_none_or(|a| !(a.pending || (a.excluded && c.assignee.as_ref() == Some(&a.unit)))),
        rule_appeal: supervisor && c.appeal.as_ref().is_some_and(|a| a.pending),
        take_back_exclusion: supervisor && c.appeal.as_ref().is_some_and(|a| !a.pending && a.excluded),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "case.html")]
struct CasePage {
    chrome: Chrome,
    c: CaseRow,
    events: Vec<EventRow>,
    offers: Offers,
    units: Vec<Opt>,
    categories: Vec<Opt>,
    satisfactions: Vec<Opt>,
    appeal_reasons: Vec<Opt>,
    error: Option<String>,
    summons: super::summon::Summons,
}

async fn case_page(state: &AppState, v: &Viewer, id: i64, error: Option<(StatusCode, String)>) -> Response {
    let scope = v.actor.scope(state.desk.catalog());
    let store = state.desk.store();
    let (rec, events) = match tokio::try_join!(store.case_in(&scope, id), store.events_in(&scope, id)) {
        Ok(r) => r,
        Err(e) => return error_page(Some(chrome(state, v, "/cases")), &ApiError::from(e)),
    };
    let mut photos = match super::desk::photo_links(state, v, id).await {
        Ok(p) => p,
        Err(e) => return error_page(Some(chrome(state, v, "/cases")), &e),
    };
    let r = renderer(state);
    let summons = super::summon::panel(state, v.lang, &v.actor, &rec, &events);
    let events = events
        .iter()
        .map(|e| {
            let json = serde_json::to_value(r.event(e)).expect("an event view serialises");
            let mut row: EventRow = serde_json::from_value(json).expect("the console reads the event view");
            row.summary = event_summary(v.lang, &row.action, &row.detail);
            row.action_label = v.lang.t(&row.action_label).to_string();
            row.to_label = v.lang.t(&row.to_label).to_string();
            row.actor.role_label = v.lang.t(&row.actor.role_label).to_string();
            row.at = short(&row.at);
            row.photos = photos.remove(&row.seq).unwrap_or_default();
            row
        })
        .collect();
    let c = row(state, v, rec);
    let (status, error) = match error {
        Some((s, m)) => (s, Some(m)),
        None => (StatusCode::OK, None),
    };
    let page = CasePage {
        chrome: chrome(state, v, "/cases"),
        offers: offers(&v.actor, &c),
        c,
        events,
        units: unit_options(state),
        categories: category_options(state),
        satisfactions: satisfactions(v.lang),
        appeal_reasons: AppealReason::ALL
            .iter()
            .map(|r| Opt { value: r.code().into(), label: v.lang.t(r.label()).into() })
            .collect(),
        error,
        summons,
    };
    (status, page).into_response()
}

/// `GET /cases/{id}`: one case within the viewer's scope (another unit's case is "not found",
/// exactly as in the API).
pub(crate) async fn case(State(state): State<AppState>, v: Viewer, id: Result<CaseId, ApiError>) -> Response {
    match id {
        Ok(CaseId(id)) => case_page(&state, &v, id, None).await,
        Err(e) => error_page(Some(chrome(&state, &v, "/cases")), &e),
    }
}

/// `POST /cases/{id}/act`: one command, read from the form by the API's own parser and given to
/// the desk. `then=close|reopen` after a callback takes that command next (回访 then 结案 or
/// 重办). On success back to `back` (or the case); on failure the case page with the reason.
pub(crate) async fn act(
    State(state): State<AppState>,
    v: Viewer,
    id: Result<CaseId, ApiError>,
    super::desk::Posted { form, photos }: super::desk::Posted,
) -> Response {
    let id = match id {
        Ok(CaseId(id)) => id,
        Err(e) => return error_page(Some(chrome(&state, &v, "/cases")), &e),
    };
    let result = async {
        check_csrf(&v, &form)?;
        forms::check_form(&form)?;
        let photos = photos?;
        let (command, note) = command_and_note(forms::command_body(&form))?;
        let code = command.code();
        let rec = state.desk.act_with_photos(id, v.actor.0.clone(), command, note, state.now(), photos).await?;
        tracing::info!(case = id, action = code, status = rec.state.status.code(), "case action (console)");
        let next = match field(&form, "then") {
            Some("close") if code == "callback" => Some(Command::Close),
            Some("reopen") if code == "callback" => Some(Command::Reopen),
            _ => None,
        };
        if let Some(next) = next {
            state.desk.act(id, v.actor.0.clone(), next, None, state.now()).await?;
        }
        Ok::<(), ApiError>(())
    }
    .await;
    match result {
        Ok(()) => see_other(&back_to(&form, format!("/cases/{id}"))),
        Err(e) if e.status() == StatusCode::NOT_FOUND => error_page(Some(chrome(&state, &v, "/cases")), &e),
        Err(e) => case_page(&state, &v, id, Some((e.status(), explain(v.lang, &e)))).await,
    }
}

/// Every satisfaction choice, for the callback form.
fn satisfactions(lang: Lang) -> Vec<Opt> {
    Satisfaction::ALL.iter().map(|s| Opt { value: s.code().into(), label: lang.t(s.label()).into() }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn time_left_counts_working_days_and_a_midnight_deadline_ends_the_day_before() {
        let (cal, tz) = (Calendar::china(), chrono_tz::Asia::Shanghai);
        let friday = at("2026-12-04T10:00:00+08:00");
        // Due Monday 00:00: the work must be done today (Friday), the weekend does not count.
        assert_eq!(time_left_by(&cal, tz, Lang::Zh, friday, at("2026-12-07T00:00:00+08:00")).1, "soon");
        // Due Tuesday 00:00: one working day (Monday) after today.
        let (text, class) = time_left_by(&cal, tz, Lang::Zh, friday, at("2026-12-08T00:00:00+08:00"));
        assert_eq!(class, "near", "{text}");
        assert_eq!(
            time_left_by(&cal, tz, Lang::Zh, friday, at("2026-12-11T18:00:00+08:00")),
            ("剩余 5 个工作日".into(), "ok")
        );
        assert_eq!(
            time_left_by(&cal, tz, Lang::Zh, friday, at("2026-12-04T07:00:00+08:00")),
            ("超期 3 小时".into(), "late")
        );
        // In English.
        let en = |due| time_left_by(&cal, tz, Lang::En, friday, at(due)).0;
        assert_eq!(en("2026-12-04T07:00:00+08:00"), "3 h overdue");
        assert_eq!(en("2026-12-04T18:00:00+08:00"), "8 h left");
        assert_eq!(en("2026-12-08T00:00:00+08:00"), "1 working day left (86 h)");
        assert_eq!(en("2026-12-11T18:00:00+08:00"), "5 working days left");
    }
}
