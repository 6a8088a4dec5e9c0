//! Open311 GeoReport v2, in JSON and XML, nested under a configurable base path
//! (default `/open311/v2/`).
//!
//! | method | path (each also with `.json` / `.xml`) | what |
//! |---|---|---|
//! | GET | `discovery` | endpoints, formats, contact |
//! | GET | `services` | the catalog's leaf categories as services |
//! | GET | `services/{code}` (also `service/{code}`) | a service definition (attributes) |
//! | GET | `requests` | requests by id list, service codes, dates, status; `page`/`page_size`; `extensions=true` |
//! | POST | `requests` | a new request (form-urlencoded or multipart with a `media` file); API key required |
//! | GET | `requests/{id}` | one request, as a one-element list |
//! | GET | `tokens/{token}` | the request id a batch service's token stands for |
//! | GET | `servicerequestupdates` | FixMyStreet's extension: what happened to requests in a time window |
//! | POST | `servicerequestupdates` | an update from a client, unique by its `update_id`; API key required |
//! | GET | `media/{id}` | a file posted with a request or an update |
//!
//! A request becomes a case through [`jiesu_core::Desk::receive`] (channel Open311), so routing
//! and deadlines apply as for any other case.
//!
//! **Personal data:** the citizen's name, phone and e-mail are stored with the case (for the
//! handling unit and the callback) and never appear in any Open311 response; free texts (the
//! description, the address, public replies, client updates, attribute answers) go through the
//! one scrubber of public text, `jiesu_domain::scrub` (phones in every spelling, landlines, ID and
//! card numbers, e-mails, plates, names).
//!
//! **Input:** `lat`/`long` are WGS-84 (as GPS gives them; converted to the map's GCJ-02 inside,
//! and back on the way out) and must lie within the district's box and a margin. A parameter that
//! is not valid UTF-8 or holds a control character (other than tab and newlines) is refused with
//! 400 naming it; the XML never carries a character XML 1.0 forbids, whatever was stored.
//!
//! # Status mapping
//!
//! | our status | `status` | FixMyStreet extended status |
//! |---|---|---|
//! | received 已受理 | open | open |
//! | dispatched 已派单 | open | investigating (`reopen` after a 重办) |
//! | accepted 已签收 | open | action_scheduled |
//! | in_progress 办理中 | open | in_progress |
//! | return_requested 退单审核中 | open | internal_referral |
//! | replied 已答复, verifying 待核查, called_back 已回访 | open | fixed |
//! | closed 已结案 | closed | closed |
//! | merged 已合并 | closed | duplicate |
//!
//! Back: `status=open` / `closed` (and the extended names) select the statuses of their row.

mod error;
mod format;
mod keys;
mod params;
mod posted;
mod requests;
mod services;
mod updates;

pub use error::Open311Error;
pub use format::{Format, to_xml};
pub use services::{ATTRIBUTES_CSV, Datatype, Services};

use std::sync::Arc;

use axum::Router;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use axum::routing::get;
use chrono::{DateTime, SecondsFormat, Utc};
use jiesu_domain::model::Status;
use serde_json::json;

use crate::AppState;
use format::Doc;

/// Settings of the Open311 endpoint (`[open311]` in the settings file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Open311Config {
    /// Where the endpoint is mounted, e.g. `/open311/v2/`.
    pub base_path: String,
    /// The one jurisdiction served; a request naming another gets a 404 (empty = absent).
    pub jurisdiction_id: String,
    /// The public URL of the server (`https://12345.example.gov.cn`), for discovery and
    /// media URLs; when None, taken from the request's `Host` header.
    pub public_url: Option<String>,
    /// Contact shown by discovery.
    pub contact: String,
    /// Largest accepted POST body (media included), in bytes.
    pub max_upload_bytes: usize,
}

impl Default for Open311Config {
    fn default() -> Self {
        Open311Config {
            base_path: "/open311/v2/".into(),
            jurisdiction_id: "bjdch.gov.cn".into(),
            public_url: None,
            contact: "北京市东城区12345市民服务热线 (12345)".into(),
            max_upload_bytes: 8 * 1024 * 1024,
        }
    }
}

impl Open311Config {
    /// The base path as axum nests it: leading slash, no trailing slash. Err when it is the root
    /// or not a plain path.
    pub fn mount_path(&self) -> Result<String, String> {
        let p = self.base_path.trim().trim_end_matches('/');
        if !p.starts_with('/') || p.is_empty() {
            return Err(format!("open311 base_path '{}' must start with / and not be the root", self.base_path));
        }
        if p.contains(['{', '}', '*', '?', '#', ' ']) || p.contains("//") {
            return Err(format!("open311 base_path '{}' must be a plain path such as /open311/v2/", self.base_path));
        }
        Ok(p.to_string())
    }
}

/// What the Open311 handlers share.
#[derive(Clone)]
pub(crate) struct Ctx {
    app: AppState,
    services: Arc<Services>,
    mount: String,
}

impl Ctx {
    fn config(&self) -> &Open311Config {
        &self.app.open311
    }

    /// The absolute URL of `rest` under the base path (`requests.json` → `http://host/open311/v2/requests.json`).
    fn url(&self, headers: &HeaderMap, rest: &str) -> String {
        let root = match &self.config().public_url {
            Some(u) => u.trim_end_matches('/').to_string(),
            None => {
                let host = headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("localhost");
                let scheme = headers.get("x-forwarded-proto").and_then(|h| h.to_str().ok()).unwrap_or("http");
                format!("{scheme}://{host}")
            }
        };
        format!("{root}{}/{rest}", self.mount)
    }

    /// A time as the spec wants it: W3C with the deployment's offset (`2026-11-27T09:30:00+08:00`).
    fn time(&self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.app.desk.config().tz).to_rfc3339_opts(SecondsFormat::Secs, true)
    }
}

/// The Open311 router, to be nested at [`Open311Config::mount_path`].
pub(crate) fn router(state: &AppState) -> Result<(String, Router<AppState>), String> {
    let mount = state.open311.mount_path()?;
    let services = Services::embedded(state.desk.catalog())?;
    let ctx = Ctx { app: state.clone(), services: Arc::new(services), mount: mount.clone() };
    let mut r = Router::new();
    for suffix in ["", ".json", ".xml"] {
        r = r
            .route(&format!("/discovery{suffix}"), get(discovery))
            .route(&format!("/services{suffix}"), get(requests::services))
            .route(&format!("/requests{suffix}"), get(requests::list).post(requests::create))
            .route(&format!("/servicerequestupdates{suffix}"), get(updates::list).post(updates::create));
    }
    let r = r
        .route("/services/{code}", get(requests::definition))
        // The `open311` Python library (1.1) asks for `service/{code}`.
        .route("/service/{code}", get(requests::definition))
        .route("/requests/{id}", get(requests::show))
        .route("/tokens/{token}", get(requests::token))
        .route("/media/{id}", get(requests::media))
        .fallback(no_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(state.open311.max_upload_bytes))
        .layer(axum::middleware::from_fn_with_state(ctx.clone(), shed_anonymous_reads))
        .with_state(ctx);
    Ok((mount, r))
}

/// Anonymous reads (every GET here needs no key) are limited per client IP and in number at
/// once (`AppState::anonymous_reads`): 429 with Retry-After beyond, in the spec's error shape.
async fn shed_anonymous_reads(State(ctx): State<Ctx>, req: Request, next: axum::middleware::Next) -> Response {
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return next.run(req).await;
    }
    let format =
        Format::of_request(req.uri().path(), req.headers()).unwrap_or_else(|_| Format::from_accept(req.headers()));
    let limits = &ctx.app.anonymous_reads;
    let throttled = |secs: u64| {
        let mut r = Open311Error::too_many_reads(secs).render(format);
        r.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from(secs));
        r
    };
    // In-process callers have no peer address; they share the slots only.
    if let Some(ip) = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip())
        && let Err(t) = limits.per_ip.check(&format!("ip {ip}"))
    {
        return throttled(t.retry_after.as_secs());
    }
    // Wait a little for a turn (waiting costs no CPU); then give up.
    let slot = tokio::time::timeout(limits.queue, limits.slots.clone().acquire_owned()).await;
    let Ok(Ok(_slot)) = slot else { return throttled(1) };
    next.run(req).await
}

/// The format a request asks for; a suffix we do not serve is refused (in the `Accept` format).
pub(crate) struct Fmt(pub Format);

impl<S: Send + Sync> FromRequestParts<S> for Fmt {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Fmt, Response> {
        Format::of_request(parts.uri.path(), &parts.headers).map(Fmt).map_err(|ext| {
            Open311Error::bad(format!("unknown format '{ext}': ask for .json or .xml"))
                .render(Format::from_accept(&parts.headers))
        })
    }
}

/// Renders a handler's result in `format`.
pub(crate) fn respond(format: Format, result: Result<Doc, Open311Error>) -> Response {
    match result {
        Ok(doc) => doc.render(format),
        Err(e) => e.render(format),
    }
}

/// Refuses a `jurisdiction_id` other than ours (absent or empty is fine).
pub(crate) fn check_jurisdiction(ctx: &Ctx, given: Option<&str>) -> Result<(), Open311Error> {
    match given {
        Some(j) if j != ctx.config().jurisdiction_id => Err(Open311Error::not_found(format!(
            "jurisdiction_id '{j}' is not served here (this endpoint serves '{}')",
            ctx.config().jurisdiction_id
        ))),
        _ => Ok(()),
    }
}

/// `open` or `closed`.
pub fn open_or_closed(s: Status) -> &'static str {
    if s.is_open() { "open" } else { "closed" }
}

/// FixMyStreet's extended status of a case (see the module docs); `reopened` when the case went
/// back to a unit after a 重办.
pub fn extended_status(s: Status, reopened: bool) -> &'static str {
    match s {
        Status::Received => "open",
        Status::Dispatched if reopened => "reopen",
        Status::Dispatched => "investigating",
        Status::Accepted => "action_scheduled",
        Status::InProgress => "in_progress",
        Status::ReturnRequested => "internal_referral",
        Status::Replied | Status::Verifying | Status::CalledBack => "fixed",
        Status::Closed => "closed",
        Status::Merged => "duplicate",
    }
}

/// Our statuses that an Open311 status name selects (`open`, `closed`, or an extended name).
pub fn statuses_for(name: &str) -> Option<Vec<Status>> {
    let name = name.to_ascii_lowercase();
    let all = Status::ALL.iter().copied();
    let v: Vec<Status> = match name.as_str() {
        "open" => all.filter(|s| s.is_open()).collect(),
        "closed" => all.filter(|s| !s.is_open()).collect(),
        "reopen" => vec![Status::Dispatched],
        other => all.filter(|s| extended_status(*s, false) == other).collect(),
    };
    (!v.is_empty()).then_some(v)
}

async fn discovery(State(ctx): State<Ctx>, Fmt(format): Fmt, uri: Uri, headers: HeaderMap) -> Response {
    let params = params::Params::from_query(uri.query());
    let result = check_jurisdiction(&ctx, params.get("jurisdiction_id")).map(|()| {
        let changeset = "2026-11-27T00:00:00+08:00";
        Doc::ok(
            "discovery",
            json!({
                "changeset": changeset,
                "contact": ctx.config().contact,
                "key_service": "API keys are issued by the district: jiesu key add --name CLIENT",
                "endpoints": [{
                    "specification": "http://wiki.open311.org/GeoReport_v2",
                    "url": ctx.url(&headers, "").trim_end_matches('/'),
                    "changeset": changeset,
                    "type": "production",
                    "formats": format::MIME_TYPES,
                }],
            }),
        )
    });
    respond(format, result)
}

async fn no_route(req: Request) -> Response {
    let format = Format::from_accept(req.headers());
    let last = req.uri().path().rsplit('/').next().unwrap_or("");
    if let Some((stem, ext)) = last.rsplit_once('.')
        && ["discovery", "services", "requests", "servicerequestupdates"].contains(&stem)
    {
        return Open311Error::bad(format!("unknown format '{ext}': ask for {stem}.json or {stem}.xml")).render(format);
    }
    Open311Error::not_found(
        "no such Open311 resource: discovery, services, requests, tokens, servicerequestupdates (each .json or .xml)",
    )
    .render(format)
}

async fn method_not_allowed(req: Request) -> Response {
    let format = Format::of_request(req.uri().path(), req.headers()).unwrap_or(Format::Xml);
    let mut e = Open311Error::bad(format!("{} is not accepted on this resource", req.method()));
    e.status = axum::http::StatusCode::METHOD_NOT_ALLOWED;
    e.render(format)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_maps_to_open_or_closed_and_back() {
        for s in Status::ALL.iter().copied() {
            let name = open_or_closed(s);
            assert!(statuses_for(name).unwrap().contains(&s), "{s}");
            let ext = extended_status(s, false);
            assert!(statuses_for(ext).unwrap().contains(&s), "{s} → {ext}");
        }
        assert_eq!(statuses_for("closed").unwrap(), vec![Status::Closed, Status::Merged]);
        assert_eq!(extended_status(Status::Dispatched, true), "reopen");
        assert!(statuses_for("pending").is_none());
    }

    #[test]
    fn base_paths_are_checked() {
        let p = |s: &str| Open311Config { base_path: s.into(), ..Open311Config::default() }.mount_path();
        assert_eq!(p("/open311/v2/").unwrap(), "/open311/v2");
        assert_eq!(p("/georeport").unwrap(), "/georeport");
        assert!(p("/").is_err());
        assert!(p("open311").is_err());
        assert!(p("/a/{b}").is_err());
    }
}
