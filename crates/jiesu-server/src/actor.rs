//! Who is acting: the one extractor that turns a request into a domain [`workflow::Actor`], and
//! what that actor may read.
//!
//! **Development-only.** The caller names itself in headers (`X-Jiesu-User`, `X-Jiesu-Role`,
//! `X-Jiesu-Unit`) and is believed. The authentication issue replaces [`Actor`]'s
//! `FromRequestParts` implementation with sessions or tokens; handlers do not change.
//!
//! Reading rules (writing rules are the workflow's, see `jiesu_domain::workflow::authorize`):
//! unit handlers see the cases their unit holds or was summoned to (吹哨); citizens see no case
//! through this API until accounts tie them to their own; every other role sees every case.
//! The citizen's contact is shown in full to operators, dispatchers, supervisors and admins only.

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use jiesu_domain::model::Role;
use jiesu_domain::workflow::{self, CaseState};

use crate::AppState;
use crate::error::ApiError;

/// Header naming the acting user.
pub const USER_HEADER: &str = "x-jiesu-user";
/// Header naming the role the user acts in (a role code, e.g. `dispatcher`).
pub const ROLE_HEADER: &str = "x-jiesu-role";
/// Header naming the user's unit (a unit code from the catalog; required for `unit_handler`).
pub const UNIT_HEADER: &str = "x-jiesu-unit";

/// Longest accepted user name, in characters.
const MAX_USER_CHARS: usize = 64;

/// The acting person or system, checked against the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor(pub workflow::Actor);

impl Actor {
    /// The role acted in.
    pub fn role(&self) -> Role {
        self.0.role
    }

    /// True when this actor sees the citizen's contact unmasked.
    pub fn sees_contact(&self) -> bool {
        matches!(self.role(), Role::Operator | Role::Dispatcher | Role::Supervisor | Role::Admin)
    }

    /// Refuses with 403 unless this actor may read a case in `state`.
    pub fn check_can_read(&self, state: &CaseState) -> Result<(), ApiError> {
        match self.role() {
            Role::UnitHandler => {
                let unit = self.0.unit.as_deref();
                let holds = unit.is_some() && state.assignee.as_deref() == unit;
                let summoned = state.joint.iter().any(|j| Some(j.unit.as_str()) == unit);
                if holds || summoned {
                    Ok(())
                } else {
                    Err(ApiError::new(
                        StatusCode::FORBIDDEN,
                        "wrong_unit",
                        format!("unit {} may only see the cases it holds or was summoned to", unit.unwrap_or("none")),
                    ))
                }
            }
            Role::Citizen => Err(ApiError::forbidden("citizens cannot read cases through this API yet")),
            _ => Ok(()),
        }
    }

    /// Refuses with 403 for roles that may not read listings, statistics or assessment figures.
    pub fn check_staff(&self) -> Result<(), ApiError> {
        match self.role() {
            Role::Citizen => Err(ApiError::forbidden("citizens cannot read this")),
            _ => Ok(()),
        }
    }
}

/// The header's value as text, None when absent or blank.
fn header<'a>(parts: &'a Parts, name: &str) -> Result<Option<&'a str>, ApiError> {
    let Some(value) = parts.headers.get(name) else { return Ok(None) };
    let text = std::str::from_utf8(value.as_bytes()).map_err(|_| invalid_actor(name, "is not valid UTF-8"))?.trim();
    Ok(Some(text).filter(|t| !t.is_empty()))
}

fn invalid_actor(header: &str, message: impl Into<String>) -> ApiError {
    let message = message.into();
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_actor", format!("header {header} {message}"))
        .with_field(header, message)
}

fn unauthenticated(missing: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        format!("say who is acting: header {missing} is missing (development scheme: {USER_HEADER}, {ROLE_HEADER}, {UNIT_HEADER})"),
    )
    .with_field(missing, "missing")
}

impl FromRequestParts<AppState> for Actor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let user = header(parts, USER_HEADER)?.ok_or_else(|| unauthenticated(USER_HEADER))?;
        let role = header(parts, ROLE_HEADER)?.ok_or_else(|| unauthenticated(ROLE_HEADER))?;
        if user.chars().count() > MAX_USER_CHARS || user.chars().any(char::is_control) {
            return Err(invalid_actor(USER_HEADER, format!("must be at most {MAX_USER_CHARS} printable characters")));
        }
        let role: Role = role.parse().map_err(|_| {
            let roles = Role::ALL.iter().map(|r| r.code()).collect::<Vec<_>>().join(", ");
            invalid_actor(ROLE_HEADER, format!("names an unknown role '{role}' (one of {roles})"))
        })?;
        let unit = header(parts, UNIT_HEADER)?;
        if let Some(code) = unit {
            if state.desk.catalog().unit(code).is_none() {
                return Err(invalid_actor(UNIT_HEADER, format!("names an unknown unit '{code}'")));
            }
        } else if role == Role::UnitHandler {
            return Err(invalid_actor(UNIT_HEADER, "is required for the role unit_handler"));
        }
        Ok(Actor(workflow::Actor { user: user.to_string(), role, unit: unit.map(str::to_string) }))
    }
}
