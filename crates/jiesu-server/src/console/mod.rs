//! The console (控制台): every role's daily work as server-rendered pages (askama templates,
//! htmx for the live parts), beside the JSON API and outside its OpenAPI document.
//!
//! The pages call the desk exactly as the JSON API does: the same [`Actor`] from the same session
//! cookie, the same `Scope` in every store read, the same `Command`s (read from the form by the
//! API's own `command_and_note`), the same views and masking (`views::Renderer`). The server
//! decides; a page only hides what a role cannot do.
//!
//! Security: a session cookie only (API keys are for machines); a CSRF token on every form post
//! (derived from the session token, or a double-submit cookie before login); a strict
//! Content-Security-Policy on every response of this router (scripts and styles from the server
//! only, no inline script or style); askama escapes everything; pages are never cached.

mod admin;
mod assessment;
mod assets;
mod bulk;
mod desk;
mod forms;
mod i18n;
mod live;
mod map;
mod pages;
mod summon;

pub(crate) use i18n::Lang;
pub(crate) use live::Live;

pub(crate) use map::GeometryCache;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use jiesu_domain::model::Role;
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::actor::{Actor, SESSION_COOKIE, Via, cookie, principal};

/// The cookie of the login form's CSRF token (double submit: the form carries the same value).
pub(crate) const LOGIN_CSRF_COOKIE: &str = "jiesu_csrf";

/// Scripts, styles, images and requests from this server only; no inline script or style, no
/// frames, forms post here only.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
    frame-ancestors 'none'";

/// The console's routes (HTML and assets), to be merged beside `/api/v1`. Not in the OpenAPI
/// document: it describes the JSON API only.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(pages::home))
        .route("/login", post(pages::login))
        .route("/logout", post(pages::logout))
        .route("/lang/{code}", get(i18n::switch))
        .route("/intake", get(pages::intake).post(pages::file_case))
        .route("/intake/suggest", post(pages::suggest))
        .route("/intake/caller", post(desk::caller))
        .route("/dispatch", get(pages::dispatch))
        .route("/dispatch/bulk", post(bulk::dispatch_many))
        .route("/inbox", get(pages::inbox))
        .route("/callback", get(pages::callback))
        .route("/supervise", get(pages::supervise))
        .route("/grid", get(pages::grid).post(pages::grid_report).layer(DefaultBodyLimit::max(desk::UPLOAD_LIMIT)))
        .route("/cases", get(pages::cases))
        .route("/cases/{id}", get(pages::case))
        .route("/cases/{id}/act", post(pages::act).layer(DefaultBodyLimit::max(desk::UPLOAD_LIMIT)))
        .route("/cases/{id}/attachments/{n}", get(desk::attachment))
        .route("/assessment", get(assessment::page))
        .route("/assessment.xlsx", get(assessment::xlsx))
        .route("/notices", get(pages::notices::page))
        .route("/notices/count", get(pages::notices::count))
        .route("/notices/seen", post(pages::notices::seen))
        .route("/events", get(live::events))
        .route("/admin", get(admin::admin))
        .route("/admin/{what}", post(admin::post))
        .route("/map", get(map::page))
        .route("/map/data", get(map::data))
        .route("/map/geometry.json", get(map::geometry))
        .route("/assets/{*path}", get(assets::serve))
        .layer(axum::middleware::map_response(secure_headers))
}

/// Adds the app's console routes to `router` (kept here, not in `lib.rs`, so that the JSON API's
/// router stays the documented one).
pub(crate) fn mount(router: Router<AppState>) -> Router<AppState> {
    router.merge(self::router())
}

async fn secure_headers(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !h.contains_key(header::CACHE_CONTROL) {
        // Pages carry personal data: never kept by the browser or a proxy.
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

/// The CSRF token of a session: a hash of its secret token, so it is fixed for the session,
/// known only to whoever holds the cookie, and needs nothing stored.
pub(crate) fn csrf_of(session_token: &str) -> String {
    let digest = Sha256::digest(format!("jiesu-console-csrf\0{session_token}").as_bytes());
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// Compares two tokens in time independent of where they differ.
pub(crate) fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len() && !a.is_empty() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Where each role starts.
pub(crate) fn home_of(role: Role) -> &'static str {
    match role {
        Role::Operator => "/intake",
        Role::Dispatcher => "/dispatch",
        Role::UnitHandler => "/inbox",
        Role::Supervisor => "/supervise",
        Role::Admin => "/assessment",
        Role::GridInspector => "/grid",
        Role::Citizen | Role::System => "/cases",
    }
}

/// A logged-in person using the console: the API's [`Actor`] and the session's CSRF token.
/// Without a valid session the request is sent to the login page.
pub(crate) struct Viewer {
    pub actor: Actor,
    pub csrf: String,
    /// The language of the pages (the `lang` cookie).
    pub lang: Lang,
    /// Where the language switch comes back to: this page (a GET), else the home page.
    pub back: String,
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        // An htmx request (the live suggestions) is told to load the login page rather than
        // having it swapped into a fragment.
        let htmx = parts.headers.contains_key("hx-request");
        let to_login = || {
            if htmx {
                ([("hx-redirect", "/")], StatusCode::NO_CONTENT).into_response()
            } else {
                Redirect::to("/").into_response()
            }
        };
        // Sessions only: an API key belongs to a machine and a page form could not prove intent.
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else { return Err(to_login()) };
        let csrf = csrf_of(token);
        let lang = Lang::of(&parts.headers);
        let back = match parts.method {
            axum::http::Method::GET => parts.uri.path_and_query().map_or("/", |p| p.as_str()).to_string(),
            _ => "/".to_string(),
        };
        match principal(&parts.headers, state).await {
            Ok(Some((actor, Via::Session { .. }))) if actor.role() != Role::Citizen => {
                Ok(Viewer { actor, csrf, lang, back })
            }
            Ok(_) => Err(to_login()),
            Err(e) if e.status() == StatusCode::UNAUTHORIZED => Err(to_login()),
            Err(e) => Err(pages::error_page_in(lang, None, &e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_tokens_are_fixed_per_session_and_compared_whole() {
        assert_eq!(csrf_of("abc"), csrf_of("abc"));
        assert_ne!(csrf_of("abc"), csrf_of("abd"));
        assert_eq!(csrf_of("abc").len(), 32);
        assert!(same_token("0123", "0123"));
        assert!(!same_token("0123", "0124"));
        assert!(!same_token("0123", "012"));
        assert!(!same_token("", ""));
    }
}
