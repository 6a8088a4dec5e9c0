//! The HTTP face of jiesu: a JSON API under `/api/v1` for every action of the closed loop and
//! for the assessment figures, built on axum.
//!
//! **Architecture invariant:** this is the only crate that knows HTTP. Handlers change cases only
//! through the [`Desk`] (`receive`, `act`); they read through the store. Every rejection — the
//! desk's, the extractors', an unknown route, an oversized body, a panic — leaves as the one JSON
//! shape of [`ApiError`]: `{"error": {"code", "message", "fields": [{"field", "message"}]}}`.
//!
//! # Routes
//!
//! | method | path | what |
//! |---|---|---|
//! | GET | `/api/v1/openapi.json` | the OpenAPI 3.1 document of all of this, generated from the code |
//! | GET | `/api/v1/health` | liveness, backend and case count (no actor needed) |
//! | POST | `/api/v1/login` | password login; sets the session cookie (no actor needed) |
//! | POST | `/api/v1/logout` | ends the session |
//! | GET | `/api/v1/me` | who the request acts as |
//! | GET | `/api/v1/catalog` | units, streets, communities, categories (no actor needed) |
//! | GET | `/api/v1/catalog/{categories,units,streets,communities}` | one list; communities take `?street=` |
//! | GET | `/api/v1/calendar/{year}` | the year's holidays and make-up working days (no actor needed) |
//! | POST | `/api/v1/cases` | 受理 a new case (optionally dispatched at once) |
//! | GET | `/api/v1/cases` | list with filters, text search (`q`) and keyset paging |
//! | GET | `/api/v1/cases/{id}` | one case |
//! | GET | `/api/v1/cases/{id}/events` | its timeline |
//! | GET | `/api/v1/cases/{id}/contact` | the citizen's contact in full, for the callback (recorded) |
//! | GET | `/api/v1/cases/{id}/contact/accesses` | who was shown the contact, when (supervisors) |
//! | POST | `/api/v1/cases/{id}/actions` | one action of the loop (`{"action": "dispatch", ...}`) |
//! | GET | `/api/v1/assessment` | per-unit figures of a month |
//! | GET | `/api/v1/rankings` | ranking of one kind of unit, with the change from the month before |
//! | GET | `/api/v1/stats` | counts by status, overdue now |
//! | POST | `/api/v1/alarms` | a sensor alarm, authenticated by the device's token (`X-Device-Token`) |
//! | GET | `/api/v1/alarms/counts`, `/api/v1/colours` | alarm counts; 三色预警 of places and grid cells |
//! | GET, POST, DELETE | `/api/v1/devices[/{device}]` | the device registry (admins write) |
//! | GET, POST | `/open311/v2/…` | Open311 GeoReport v2 in JSON and XML (see [`open311`]) |
//! | GET, POST | `/`, `/intake`, `/dispatch`, `/inbox`, `/cases/…`, `/callback`, `/assessment`, `/assets/…` | the console: HTML pages for people (not in the OpenAPI document) |
//!
//! # Who is acting
//!
//! A session cookie from `POST /api/v1/login`, or an API key (`Authorization: Bearer KEY` or
//! `X-Api-Key: KEY`), read by the one [`Actor`] extractor (see the `actor` module); anything else
//! is 401. Users and keys are made with `jiesu user add` / `jiesu key add`. Login attempts are
//! rate-limited per name and per client IP ([`RateLimiter`], reusable for other routes).
//!
//! # Who sees what
//!
//! Handlers pass the actor's [`jiesu_domain::access::Scope`] to every case query of the store, and
//! the desk loads a case within the actor's scope before any action: a unit handler cannot read,
//! list, search, count or act on another unit's case; it gets 404 as if the case did not exist.
//!
//! # Personal data
//!
//! The citizen's contact is shown in full only to operators, dispatchers, supervisors and admins
//! (to operators and dispatchers only when the citizen asked for 保密, or for a 举报); everyone
//! else gets [`jiesu_domain::draft::Contact::masked`]. The unit that holds an open case asks for
//! it with `GET /api/v1/cases/{id}/contact`, and each reveal is recorded. Request bodies and query strings
//! are never logged (the trace span carries the method and the path only).

#![deny(missing_docs)]

mod actor;
mod alarms;
mod assessment;
mod auth;
mod cases;
mod catalog;
mod console;
mod error;
mod extract;
mod input;
mod intake;
mod limit;
pub mod mqtt;
pub mod open311;
mod openapi;
mod params;
mod photos;
mod place;
mod timeouts;
mod views;

pub use actor::{API_KEY_HEADER, Actor, SESSION_COOKIE};
pub use error::{ApiError, FieldIssue};
pub use limit::{AnonymousReads, ClientIp, RateLimiter, Throttled};
pub use place::{Bounds, DEFAULT_MARGIN_DEG};
pub use timeouts::Timeouts;

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::response::Response;
use chrono::{DateTime, Utc};
use jiesu_core::Desk;
use tokio::task::JoinHandle;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::{DefaultOnFailure, DefaultOnRequest, DefaultOnResponse, TraceLayer};
use tracing::Level;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Default largest request body accepted: 256 KiB (a case text is at most 5,000 characters).
pub const DEFAULT_BODY_LIMIT: usize = 256 * 1024;

/// Where handlers get the time from. Tests pin it; production reads the system clock.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// Sessions and cookies.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// How long a login lasts.
    pub session_ttl: chrono::Duration,
    /// Mark the session cookie `Secure` (serve behind HTTPS).
    pub secure_cookie: bool,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings { session_ttl: chrono::Duration::hours(12), secure_cookie: false }
    }
}

/// Rate limits of `POST /api/v1/login`.
#[derive(Debug, Clone)]
pub struct LoginLimits {
    /// Attempts per user name (default 5 a minute).
    pub by_name: RateLimiter,
    /// Attempts per client IP (default 30 a minute).
    pub by_ip: RateLimiter,
}

impl Default for LoginLimits {
    fn default() -> Self {
        LoginLimits { by_name: RateLimiter::per_minute(5), by_ip: RateLimiter::per_minute(30) }
    }
}

/// What every handler shares. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The desk: the only way to change a case; its store serves reads.
    pub desk: Desk,
    /// Sensor alarms (both doors, one rule; issue 13).
    pub alarms: jiesu_core::alarms::Alarms,
    /// The current time.
    pub clock: Clock,
    /// Largest accepted request body, in bytes (Open311 POSTs have their own limit).
    pub body_limit: usize,
    /// Sessions and cookies.
    pub auth: AuthSettings,
    /// Rate limits of login attempts.
    pub login_limits: LoginLimits,
    /// The Open311 endpoint's settings.
    pub open311: Arc<open311::Open311Config>,
    /// Rate limit of Open311 POSTs (requests and updates) per API key (default 60 a minute).
    pub open311_posts: RateLimiter,
    /// Limits on anonymous reads (Open311 GETs): per client IP, and at once.
    pub anonymous_reads: AnonymousReads,
    /// Header, body and read time limits.
    pub timeouts: Timeouts,
    /// Where the points of new cases may lie (the district's box and a margin); None: anywhere.
    pub bounds: Option<Bounds>,
    /// The console's live update streams (ended at shutdown).
    pub(crate) live: console::Live,
    /// The console map's geometry (outline and grid cells as GeoJSON), made on first use.
    pub(crate) map_geometry: console::GeometryCache,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("desk", &self.desk)
            .field("body_limit", &self.body_limit)
            .field("open311", &self.open311)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// State over `desk` with the system clock and the default body limit.
    pub fn new(desk: Desk) -> AppState {
        AppState {
            clock: Arc::new(Utc::now),
            body_limit: DEFAULT_BODY_LIMIT,
            auth: AuthSettings::default(),
            login_limits: LoginLimits::default(),
            open311: Arc::new(open311::Open311Config::default()),
            open311_posts: RateLimiter::per_minute(60),
            anonymous_reads: AnonymousReads::default(),
            timeouts: Timeouts::default(),
            bounds: Bounds::of_desk(&desk, DEFAULT_MARGIN_DEG),
            live: console::Live::default(),
            map_geometry: console::GeometryCache::default(),
            alarms: jiesu_core::alarms::Alarms::new(desk.clone(), Default::default()).expect("default rules are valid"),
            desk,
        }
    }

    /// The same state with these alarm colour rules (`[alarms]` settings).
    pub fn with_alarm_rules(mut self, rules: jiesu_domain::alarm::Rules) -> Result<AppState, jiesu_core::CoreError> {
        self.alarms = jiesu_core::alarms::Alarms::new(self.desk.clone(), rules)?;
        Ok(self)
    }

    /// The same state with points allowed `margin` degrees around the district's box.
    pub fn with_coordinate_margin(mut self, margin: f64) -> AppState {
        self.bounds = Bounds::of_desk(&self.desk, margin);
        self
    }

    /// The same state with these Open311 settings.
    pub fn with_open311(mut self, config: open311::Open311Config) -> AppState {
        self.open311 = Arc::new(config);
        self
    }

    /// The same state reading the time from `clock`.
    pub fn with_clock(mut self, clock: impl Fn() -> DateTime<Utc> + Send + Sync + 'static) -> AppState {
        self.clock = Arc::new(clock);
        self
    }

    /// The current time by this state's clock, to the millisecond (the store's precision, so
    /// that what a write returns equals what a later read shows).
    pub fn now(&self) -> DateTime<Utc> {
        let t = (self.clock)();
        DateTime::from_timestamp_millis(t.timestamp_millis()).unwrap_or(t)
    }
}

/// The API's routes with their documentation: each handler is registered through `routes!`,
/// which takes its path and methods from the handler's `#[utoipa::path]`, so the router and the
/// OpenAPI document cannot disagree. Never add a route with `.route(...)`.
fn routes() -> OpenApiRouter<AppState> {
    let api = OpenApiRouter::new()
        .routes(routes!(openapi::json))
        .routes(routes!(catalog::health))
        .routes(routes!(auth::login))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::me))
        .routes(routes!(catalog::all))
        .routes(routes!(catalog::categories))
        .routes(routes!(catalog::units))
        .routes(routes!(catalog::streets))
        .routes(routes!(catalog::communities))
        .routes(routes!(catalog::calendar))
        .routes(routes!(cases::create, cases::list))
        .routes(routes!(intake::suggest))
        .routes(routes!(cases::show))
        .routes(routes!(cases::events))
        .routes(routes!(cases::contact))
        .routes(routes!(cases::contact_accesses))
        .routes(routes!(cases::act))
        .routes(routes!(photos::list))
        .routes(routes!(photos::show))
        .routes(photos::with_upload_limit(routes!(photos::act)))
        .routes(routes!(assessment::figures))
        .routes(routes!(assessment::rankings))
        .routes(routes!(assessment::stats))
        .routes(routes!(alarms::post))
        .routes(routes!(alarms::counts))
        .routes(routes!(alarms::colours))
        .routes(routes!(alarms::create, alarms::list))
        .routes(routes!(alarms::show, alarms::delete));
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi()).nest("/api/v1", api)
}

/// The OpenAPI 3.1 document of the API (also served at `GET /api/v1/openapi.json`).
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    routes().into_openapi()
}

/// [`openapi_document`] as pretty-printed JSON.
pub fn openapi_json() -> String {
    openapi_document().to_pretty_json().expect("the OpenAPI document serialises")
}

/// The whole HTTP application: routes, JSON fallbacks, body limit, panic guard and tracing.
///
/// Panics when the Open311 settings are invalid (check them first with
/// [`open311::Open311Config::mount_path`]) or the embedded Open311 attribute file is broken
/// (a test checks it).
pub fn app(state: AppState) -> Router {
    let (open311_path, open311) = open311::router(&state).unwrap_or_else(|e| panic!("open311: {e}"));
    let (router, _) = routes().split_for_parts();
    let trace = TraceLayer::new_for_http()
        // Method and path only: query strings may carry personal data, bodies always do.
        .make_span_with(|req: &Request| tracing::info_span!("http", method = %req.method(), path = %req.uri().path()))
        .on_request(DefaultOnRequest::new().level(Level::DEBUG))
        .on_response(DefaultOnResponse::new().level(Level::INFO))
        .on_failure(DefaultOnFailure::new().level(Level::ERROR));
    let limits = Arc::new(timeouts::Limits { timeouts: state.timeouts, open311_mount: open311_path.clone() });
    console::mount(router)
        .nest(&open311_path, open311)
        .fallback(error::no_route)
        .method_not_allowed_fallback(error::method_not_allowed)
        // Path segments and query parameters of every route: UTF-8, no control characters.
        .layer(axum::middleware::from_fn_with_state(open311_path.clone(), input::check_uri))
        .layer(DefaultBodyLimit::max(state.body_limit))
        .layer(axum::middleware::from_fn_with_state(limits, timeouts::limit_time))
        .layer(CatchPanicLayer::custom(error::panicked as fn(Box<dyn std::any::Any + Send>) -> Response))
        .layer(trace)
        .layer(axum::middleware::from_fn(server_timing))
        .with_state(state)
}

/// Tells the client how long the server took to produce the response's head (`Server-Timing:
/// app;dur=MS`): what `jiesu bench pages` measures, and what a browser's developer tools show.
async fn server_timing(req: Request, next: axum::middleware::Next) -> Response {
    let started = std::time::Instant::now();
    let mut resp = next.run(req).await;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    if let Ok(v) = axum::http::HeaderValue::from_str(&format!("app;dur={ms:.2}")) {
        resp.headers_mut().insert("server-timing", v);
    }
    resp
}

/// Serves [`app`] on `listener` until `shutdown` completes, then finishes the requests in flight.
///
/// HTTP/1.1 through hyper, with the state's [`Timeouts`]: a connection that does not send a
/// request's headers within `header_read` is closed (idle keep-alive connections too), so slow
/// clients cannot hold connections for minutes.
pub async fn serve(
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tower::ServiceExt;

    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "serving the jiesu API");
    }
    let header_read = state.timeouts.header_read;
    let live = state.live.clone();
    let router = app(state);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(header_read);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // The peer address feeds the per-IP rate limits (`ClientIp`).
        let service = router.clone().map_request(move |mut req: axum::http::Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(axum::extract::ConnectInfo(peer));
            req
        });
        let conn = http.serve_connection(TokioIo::new(stream), hyper_util::service::TowerToHyperService::new(service));
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    // Open event streams never finish on their own: end them, or shutdown would wait for them.
    live.close();
    graceful.shutdown().await;
    Ok(())
}

/// Runs the deadline sweep ([`Desk::sweep_overdue`]) every `every`, raising 督办 notices on cases
/// past their deadline. Safe on several servers at once (the desk coordinates through the store).
/// Failures are logged (no personal data) and the next tick tries again. Abort the handle to stop.
pub fn spawn_deadline_sweeper(desk: Desk, every: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match desk.sweep_overdue(Utc::now()).await {
                Ok(0) => tracing::debug!("deadline sweep: nothing overdue"),
                Ok(n) => tracing::info!(raised = n, "deadline sweep raised overdue notices"),
                Err(e) => tracing::error!(error = %e, "deadline sweep failed"),
            }
        }
    })
}
