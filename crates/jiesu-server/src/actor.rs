//! Who is acting: the one extractor that turns a request into a domain [`workflow::Actor`].
//!
//! A request names its principal in one of two ways:
//! - an API key (machine clients, Open311 integrations): `Authorization: Bearer jsk_…` or
//!   `X-Api-Key: jsk_…`. The key's holder acts as `key:NAME` in the key's role and unit.
//! - a session cookie (`jiesu_session`, from `POST /api/v1/login`): the user acts under their
//!   name, role and unit.
//!
//! With neither, or with a key or session that is unknown, revoked, expired or disabled, the
//! request is refused with 401 `unauthenticated`. Nothing the client says about itself besides
//! these secrets is believed.
//!
//! What an actor may see is its [`Scope`], applied by the store in every case query; what it may
//! do is the workflow's `authorize`. The citizen's contact is shown in full to operators,
//! dispatchers, supervisors and admins only (to the desk only, when confidential); the unit that
//! holds an open case asks for it explicitly (see `jiesu_domain::access::contact_access`).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use chrono::{DateTime, Utc};
use jiesu_domain::access::Scope;
use jiesu_domain::catalog::Catalog;
use jiesu_domain::model::Role;
use jiesu_domain::workflow;

use crate::AppState;
use crate::error::ApiError;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "jiesu_session";
/// Header that may carry an API key (besides `Authorization: Bearer`).
pub const API_KEY_HEADER: &str = "x-api-key";

/// The acting person or machine, as established by a session or an API key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor(pub workflow::Actor);

/// How a request proved who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// A login session, valid until the given time.
    Session {
        /// When it ends.
        expires_at: DateTime<Utc>,
    },
    /// An API key.
    ApiKey,
}

impl Actor {
    /// The role acted in.
    pub fn role(&self) -> Role {
        self.0.role
    }

    /// Which cases this actor may see and act on.
    pub fn scope(&self, catalog: &Catalog) -> Scope {
        Scope::of(&self.0, catalog)
    }

    /// True when this actor sees a citizen's contact unmasked in every view (`confidential`:
    /// the case's, see `NewCase::contact_confidential`): the 12345 desk always, supervisors and
    /// admins unless confidential. The unit holding a case asks for it (`GET /cases/{id}/contact`).
    pub fn sees_contact(&self, confidential: bool) -> bool {
        match self.role() {
            Role::Operator | Role::Dispatcher => true,
            Role::Supervisor | Role::Admin => !confidential,
            _ => false,
        }
    }

    /// Refuses with 403 for roles that may not read assessment figures.
    pub fn check_staff(&self) -> Result<(), ApiError> {
        match self.role() {
            Role::Citizen => Err(ApiError::forbidden("citizens cannot read this")),
            _ => Ok(()),
        }
    }
}

fn unauthenticated(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", message)
}

/// The API key of a request, if it carries one.
fn api_key(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    if let Some(v) = headers.get(header::AUTHORIZATION) {
        let v = v.to_str().map_err(|_| unauthenticated("the Authorization header is not ASCII"))?.trim();
        let (scheme, rest) = v.split_once(' ').unwrap_or((v, ""));
        if !scheme.eq_ignore_ascii_case("bearer") || rest.trim().is_empty() {
            return Err(unauthenticated("the Authorization header must be `Bearer API_KEY`"));
        }
        return Ok(Some(rest.trim()));
    }
    match headers.get(API_KEY_HEADER) {
        Some(v) => Ok(Some(v.to_str().map_err(|_| unauthenticated("the X-Api-Key header is not ASCII"))?.trim())),
        None => Ok(None),
    }
}

/// The value of cookie `name`, if the request carries it.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// The principal of a request: None when it carries no credentials; 401 when they are bad.
pub(crate) async fn principal(headers: &HeaderMap, state: &AppState) -> Result<Option<(Actor, Via)>, ApiError> {
    let store = state.desk.store();
    if let Some(secret) = api_key(headers)? {
        return match store.api_key_at(secret, state.now()).await? {
            Some(k) => {
                let actor = workflow::Actor { user: format!("key:{}", k.name), role: k.role, unit: k.unit };
                Ok(Some((Actor(actor), Via::ApiKey)))
            }
            None => Err(unauthenticated("the API key is unknown or revoked")),
        };
    }
    if let Some(token) = cookie(headers, SESSION_COOKIE) {
        return match store.session(token, state.now()).await? {
            Some((user, expires_at)) => {
                let actor = workflow::Actor { user: user.name, role: user.role, unit: user.unit };
                Ok(Some((Actor(actor), Via::Session { expires_at })))
            }
            None => Err(unauthenticated("the session has ended or expired: log in again")),
        };
    }
    Ok(None)
}

impl FromRequestParts<AppState> for Actor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match principal(&parts.headers, state).await? {
            Some((actor, _)) => Ok(actor),
            None => Err(unauthenticated(
                "log in (POST /api/v1/login) or send an API key (Authorization: Bearer KEY, or X-Api-Key)",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn finds_keys_and_cookies() {
        let mut h = HeaderMap::new();
        assert_eq!(api_key(&h).unwrap(), None);
        h.insert(API_KEY_HEADER, HeaderValue::from_static(" jsk_abc "));
        assert_eq!(api_key(&h).unwrap(), Some("jsk_abc"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("bearer jsk_def"));
        assert_eq!(api_key(&h).unwrap(), Some("jsk_def"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic dTpw"));
        assert_eq!(api_key(&h).unwrap_err().status(), StatusCode::UNAUTHORIZED);
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_static("a=1; jiesu_session=tok; b=2"));
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("tok"));
        assert_eq!(cookie(&h, "c"), None);
    }
}
