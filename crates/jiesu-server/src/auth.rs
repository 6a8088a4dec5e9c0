//! Login, logout and "who am I" for the console.
//!
//! `POST /api/v1/login` with `{"name", "password"}` checks the password (argon2, in the store),
//! starts a session and sets it as the `jiesu_session` cookie: `HttpOnly` (scripts cannot read
//! it), `SameSite=Strict` (other sites cannot make the browser send it), `Path=/`, and `Secure`
//! when the server is told it sits behind HTTPS. Only a hash of the token is stored. Attempts are
//! rate-limited per name and per client IP, successful or not; a wrong password and an unknown
//! or disabled name get the same answer.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use jiesu_domain::model::Role;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::actor::{Actor, SESSION_COOKIE, Via, cookie, principal};
use crate::error::{ApiError, Body as ErrorBody};
use crate::extract::AppJson;
use crate::limit::ClientIp;
use crate::views::local_time;

/// Longest accepted name and password (argon2 on megabytes would be a cheap attack).
const MAX_NAME_CHARS: usize = 64;
const MAX_PASSWORD_CHARS: usize = 1024;

/// Body of `POST /api/v1/login`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Login {
    /// User name.
    #[schema(example = "wang")]
    name: String,
    /// Password.
    password: String,
}

/// Who a request acts as (body of `GET /api/v1/me` and of a successful login).
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    /// User or key name.
    name: String,
    /// Role acted in.
    #[schema(value_type = Role)]
    role: &'static str,
    /// Its Chinese label.
    role_label: &'static str,
    /// Unit code.
    unit: Option<String>,
    /// Unit name.
    unit_name: Option<String>,
    /// How the request proved it: `session` or `api_key`.
    #[schema(example = "session")]
    via: &'static str,
    /// When the session ends (sessions only).
    #[schema(format = DateTime)]
    expires_at: Option<String>,
}

pub(crate) fn session_cookie(state: &AppState, token: &str, max_age: i64) -> HeaderValue {
    let secure = if state.auth.secure_cookie { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    ))
    .expect("a token is URL-safe base64")
}

fn me_json(state: &AppState, actor: &Actor, via: &Via) -> Me {
    let a = &actor.0;
    let (via, expires_at) = match via {
        Via::Session { expires_at } => ("session", Some(local_time(*expires_at, state.desk.config().tz))),
        Via::ApiKey => ("api_key", None),
    };
    Me {
        name: a.user.clone(),
        role: a.role.code(),
        role_label: a.role.label(),
        unit: a.unit.clone(),
        unit_name: a.unit.as_deref().and_then(|u| state.desk.catalog().unit(u)).map(|u| u.name.clone()),
        via,
        expires_at,
    }
}

/// `POST /api/v1/login`: 200 with who logged in, and the session cookie; 401 `bad_credentials`;
/// 429 `too_many_requests` (with `Retry-After`) when the name or the client IP tries too often.
#[utoipa::path(post, path = "/login", tag = "accounts", security(()), request_body = Login,
    responses(
        (status = 200, description = "Logged in: who, and the session cookie", body = Me,
            headers(("Set-Cookie" = String, description = "The session cookie `jiesu_session` (HttpOnly, SameSite=Strict)"))),
        (status = 400, description = "Malformed request, or a name or password of a bad length", body = ErrorBody),
        (status = 401, description = "Wrong name or password (`bad_credentials`)", body = ErrorBody),
        (status = 408, description = "The body did not arrive in time (`request_timeout`)", body = ErrorBody),
        (status = 413, description = "The body is larger than the server accepts", body = ErrorBody),
        (status = 415, description = "Not a JSON body", body = ErrorBody),
        (status = 429, description = "Too many attempts for the name or from the client (`Retry-After`)", body = ErrorBody,
            headers(("Retry-After" = String, description = "Seconds to wait"))),
        (status = 503, description = "The store is busy or down", body = ErrorBody),
    ))]
pub async fn login(
    State(state): State<AppState>,
    ip: ClientIp,
    AppJson(body): AppJson<Login>,
) -> Result<Response, ApiError> {
    let (actor, expires_at, cookie) = start_session(&state, &ip, &body.name, &body.password).await?;
    let body = me_json(&state, &actor, &Via::Session { expires_at });
    Ok(([(header::SET_COOKIE, cookie)], AppJson(body)).into_response())
}

/// Checks a password login (rate limits, lengths, the password) and starts a session: who, when
/// it ends, and the `Set-Cookie` value. Shared by the JSON login and the console's login form.
pub(crate) async fn start_session(
    state: &AppState,
    ip: &ClientIp,
    name: &str,
    password: &str,
) -> Result<(Actor, DateTime<Utc>, HeaderValue), ApiError> {
    let name = name.trim();
    state.login_limits.by_ip.check(&ip.key())?;
    state.login_limits.by_name.check(name)?;
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(ApiError::bad_param("name", format!("give a user name of 1 to {MAX_NAME_CHARS} characters")));
    }
    if password.chars().count() > MAX_PASSWORD_CHARS {
        return Err(ApiError::bad_param("password", format!("longer than {MAX_PASSWORD_CHARS} characters")));
    }
    let store = state.desk.store();
    let Some(user) = store.check_password(name, password).await? else {
        tracing::info!("login refused");
        return Err(ApiError::new(StatusCode::UNAUTHORIZED, "bad_credentials", "wrong name or password"));
    };
    let now = state.now();
    let token = store.create_session(user.id, now, state.auth.session_ttl).await?;
    let expires_at: DateTime<Utc> = now + state.auth.session_ttl;
    tracing::info!(user = %user.name, role = user.role.code(), "logged in");
    let actor = Actor(jiesu_domain::workflow::Actor { user: user.name, role: user.role, unit: user.unit });
    Ok((actor, expires_at, session_cookie(state, &token, state.auth.session_ttl.num_seconds())))
}

/// `POST /api/v1/logout`: ends the session of the cookie, if any, and clears the cookie. 204.
#[utoipa::path(post, path = "/logout", tag = "accounts", security(()),
    responses(
        (status = 204, description = "The session (if any) is ended and the cookie cleared",
            headers(("Set-Cookie" = String, description = "Clears `jiesu_session`"))),
        (status = 503, description = "The store is busy or down", body = ErrorBody),
    ))]
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        state.desk.store().end_session(token).await?;
    }
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, session_cookie(&state, "", 0))]).into_response())
}

/// `GET /api/v1/me`: who the request acts as, and how it proved it.
#[utoipa::path(get, path = "/me", tag = "accounts",
    responses(
        (status = 200, description = "Who the request acts as", body = Me),
        (status = 400, description = "A malformed credential", body = ErrorBody),
        (status = 401, description = "Not logged in and no API key, or an unknown, revoked or expired one", body = ErrorBody),
        (status = 503, description = "The store is busy or down", body = ErrorBody),
    ))]
pub async fn me(State(state): State<AppState>, headers: HeaderMap) -> Result<AppJson<Me>, ApiError> {
    match principal(&headers, &state).await? {
        Some((actor, via)) => Ok(AppJson(me_json(&state, &actor, &via))),
        None => Err(ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", "not logged in and no API key")),
    }
}
