//! Who may see which cases: the [`Scope`] of an actor.
//!
//! The store applies a scope inside every case query (lists, counts, single reads, timelines and
//! the load before an action), so a handler cannot forget it; a case outside the scope is simply
//! not found. The rules:
//!
//! - operators, dispatchers, supervisors, admins and the system see every case;
//! - a unit handler sees the cases its unit holds now, and the joint cases (吹哨) it is summoned to;
//! - a grid inspector (网格员) sees what a unit handler of its unit sees, and every case located in
//!   the street its unit serves: inspectors find problems on their street and verify (核查) the
//!   fixes there, whoever handles them;
//! - a citizen sees only the cases they filed (the first event's actor).
//!
//! Writing rules stay in [`crate::workflow::authorize`]: a case in scope may still refuse an action.

use crate::catalog::Catalog;
use crate::model::Role;
use crate::workflow::Actor;

/// Which cases an actor may see and act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every case.
    All,
    /// The cases `unit` holds or was summoned to, and (for grid inspectors) those in `street`.
    Unit {
        /// Unit code.
        unit: String,
        /// Street code whose cases are also in scope.
        street: Option<String>,
    },
    /// The cases this citizen filed (the user name of the first event's actor).
    Own(String),
    /// No case (a unit-bound role without a unit).
    Nothing,
}

impl Scope {
    /// The scope of `actor`.
    pub fn of(actor: &Actor, catalog: &Catalog) -> Scope {
        match actor.role {
            Role::Operator | Role::Dispatcher | Role::Supervisor | Role::Admin | Role::System => Scope::All,
            Role::UnitHandler | Role::GridInspector => match &actor.unit {
                None => Scope::Nothing,
                Some(unit) => {
                    let street = (actor.role == Role::GridInspector)
                        .then(|| catalog.unit(unit).and_then(|u| u.street_code.clone()))
                        .flatten();
                    Scope::Unit { unit: unit.clone(), street }
                }
            },
            Role::Citizen => Scope::Own(actor.user.clone()),
        }
    }

    /// True for [`Scope::All`].
    pub fn is_all(&self) -> bool {
        matches!(self, Scope::All)
    }
}

/// True when people in `role` work for a unit and must name one.
pub fn role_needs_unit(role: Role) -> bool {
    matches!(role, Role::UnitHandler | Role::GridInspector)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role, unit: Option<&str>) -> Actor {
        Actor { user: "u".into(), role, unit: unit.map(str::to_string) }
    }

    #[test]
    fn scopes_by_role() {
        let c = Catalog::dongcheng();
        assert_eq!(Scope::of(&actor(Role::Dispatcher, None), &c), Scope::All);
        assert_eq!(
            Scope::of(&actor(Role::UnitHandler, Some("S001")), &c),
            Scope::Unit { unit: "S001".into(), street: None }
        );
        assert_eq!(
            Scope::of(&actor(Role::GridInspector, Some("S001")), &c),
            Scope::Unit { unit: "S001".into(), street: Some("110101001".into()) }
        );
        assert_eq!(Scope::of(&actor(Role::UnitHandler, None), &c), Scope::Nothing);
        assert_eq!(Scope::of(&actor(Role::Citizen, None), &c), Scope::Own("u".into()));
    }
}
