//! The rules for accounts: login names, roles and units checked against the catalog, password
//! length. One place for `jiesu user` / `jiesu key` and the console's 管理 page, so that the store
//! only ever holds codes that mean something, whichever way an account was made.

use crate::access::role_needs_unit;
use crate::catalog::Catalog;
use crate::model::Role;

/// Shortest accepted password, in characters.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longest user or key name, in characters.
pub const MAX_NAME_CHARS: usize = 64;
/// Longest accepted password, in characters (argon2 takes anything, but a page or a CLI should
/// not hash megabytes).
pub const MAX_PASSWORD_CHARS: usize = 256;

/// The roles a person who logs in may have.
pub const USER_ROLES: &[Role] =
    &[Role::Operator, Role::Dispatcher, Role::UnitHandler, Role::GridInspector, Role::Supervisor, Role::Admin];

/// The roles an API key may have: a person's, a citizen's (Open311 and app clients) or a system's.
pub const KEY_ROLES: &[Role] = &[
    Role::Operator,
    Role::Dispatcher,
    Role::UnitHandler,
    Role::GridInspector,
    Role::Supervisor,
    Role::Admin,
    Role::Citizen,
    Role::System,
];

/// Why an account's name, role, unit or password is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    /// The name is empty, too long, or has spaces, control characters or ':'.
    #[error("the name must be 1 to {MAX_NAME_CHARS} characters without spaces or ':' (got '{0}')")]
    Name(String),
    /// No such role.
    #[error("unknown role '{role}' (one of {allowed})")]
    UnknownRole {
        /// As given.
        role: String,
        /// The codes allowed here, comma separated.
        allowed: String,
    },
    /// A role that this kind of account cannot have.
    #[error("role {role} is not for this (one of {allowed})")]
    RoleNotAllowed {
        /// Role code.
        role: &'static str,
        /// The codes allowed here, comma separated.
        allowed: String,
    },
    /// A unit-bound role without a unit.
    #[error("role {0} works for a unit: give a unit code (e.g. S001, a code from data/units.csv)")]
    UnitRequired(&'static str),
    /// A unit given to a role that has none.
    #[error("role {role} is not bound to a unit: drop the unit {unit}")]
    UnitNotBound {
        /// Role code.
        role: &'static str,
        /// The unit given.
        unit: String,
    },
    /// A unit code the catalog does not know.
    #[error("unknown unit code '{0}' (see data/units.csv or GET /api/v1/catalog/units)")]
    UnknownUnit(String),
    /// Too short or too long.
    #[error(
        "the password must have at least {MIN_PASSWORD_CHARS} and at most {MAX_PASSWORD_CHARS} characters, and no NUL"
    )]
    Password,
}

impl AccountError {
    /// The field the error is about: `name`, `role`, `unit` or `password`.
    pub fn field(&self) -> &'static str {
        match self {
            AccountError::Name(_) => "name",
            AccountError::UnknownRole { .. } | AccountError::RoleNotAllowed { .. } => "role",
            AccountError::UnitRequired(_) | AccountError::UnitNotBound { .. } | AccountError::UnknownUnit(_) => "unit",
            AccountError::Password => "password",
        }
    }
}

/// Checks a user's or key's name: 1 to [`MAX_NAME_CHARS`] characters, no white space, control
/// characters or ':' (which marks keys' and Open311 clients' identities).
pub fn check_name(name: &str) -> Result<(), AccountError> {
    let n = name.chars().count();
    if n == 0 || n > MAX_NAME_CHARS || name.chars().any(|c| c.is_whitespace() || c.is_control() || c == ':') {
        return Err(AccountError::Name(name.chars().take(MAX_NAME_CHARS + 1).collect()));
    }
    Ok(())
}

/// Checks a password's length.
pub fn check_password(password: &str) -> Result<(), AccountError> {
    let n = password.chars().count();
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&n) || password.contains('\0') {
        return Err(AccountError::Password);
    }
    Ok(())
}

/// The role (code or Chinese label) among `allowed`, and the unit checked against the role and
/// `catalog`: unit-bound roles need a unit the catalog knows, others take none. A blank unit is
/// none.
pub fn role_and_unit(
    catalog: &Catalog,
    role: &str,
    unit: Option<&str>,
    allowed: &[Role],
) -> Result<(Role, Option<String>), AccountError> {
    let codes = || allowed.iter().map(|r| r.code()).collect::<Vec<_>>().join(", ");
    let role: Role =
        role.trim().parse().map_err(|_| AccountError::UnknownRole { role: role.to_string(), allowed: codes() })?;
    if !allowed.contains(&role) {
        return Err(AccountError::RoleNotAllowed { role: role.code(), allowed: codes() });
    }
    let unit = unit.map(str::trim).filter(|u| !u.is_empty());
    match (role_needs_unit(role), unit) {
        (true, None) => Err(AccountError::UnitRequired(role.code())),
        (false, Some(u)) => Err(AccountError::UnitNotBound { role: role.code(), unit: u.to_string() }),
        (false, None) => Ok((role, None)),
        (true, Some(u)) => match catalog.unit(u) {
            Some(found) => Ok((role, Some(found.code.clone()))),
            None => Err(AccountError::UnknownUnit(u.to_string())),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_and_units_are_checked_against_the_catalog() {
        let c = Catalog::dongcheng();
        let ok = |r, u| role_and_unit(&c, r, u, USER_ROLES);
        assert_eq!(ok("unit_handler", Some("S001")).unwrap().1.as_deref(), Some("S001"));
        assert_eq!(ok("派单员", None).unwrap().0, Role::Dispatcher);
        assert_eq!(ok("operator", Some("  ")).unwrap(), (Role::Operator, None), "a blank unit is none");
        assert_eq!(ok("unit_handler", None).unwrap_err(), AccountError::UnitRequired("unit_handler"));
        assert_eq!(ok("grid_inspector", Some("X9")).unwrap_err(), AccountError::UnknownUnit("X9".into()));
        assert_eq!(ok("operator", Some("S001")).unwrap_err().field(), "unit");
        assert!(matches!(ok("mayor", None).unwrap_err(), AccountError::UnknownRole { .. }));
        assert!(matches!(ok("citizen", None).unwrap_err(), AccountError::RoleNotAllowed { .. }));
        assert_eq!(role_and_unit(&c, "citizen", None, KEY_ROLES).unwrap(), (Role::Citizen, None));
        assert_eq!(ok("system", None).unwrap_err().field(), "role");
    }

    #[test]
    fn names_and_passwords() {
        assert!(check_name("王五").is_ok() && check_name("ops-1").is_ok());
        for bad in ["", "key:x", "a b", "a\0b", "tab\t", &"x".repeat(MAX_NAME_CHARS + 1)] {
            assert_eq!(check_name(bad).unwrap_err().field(), "name", "{bad:?}");
        }
        assert!(check_password("12345678").is_ok() && check_password("八个汉字的密码啊").is_ok());
        assert!(check_password("1234567").is_err());
        assert!(check_password(&"x".repeat(MAX_PASSWORD_CHARS + 1)).is_err());
        assert!(check_password("12345678\0").is_err());
    }
}
