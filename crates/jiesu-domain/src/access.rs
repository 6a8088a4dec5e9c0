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
use crate::workflow::{Actor, CaseState};

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
            Role::Citizen => Scope::Own(owner_identity(&actor.user)),
        }
    }

    /// True for [`Scope::All`].
    pub fn is_all(&self) -> bool {
        matches!(self, Scope::All)
    }
}

/// The one owner identity of a citizen principal: an API key's holder files as `key:NAME`
/// through both doors (the JSON API and Open311); cases filed through Open311 before the two were
/// one recorded `open311:NAME`, which is the same key.
pub fn owner_identity(user: &str) -> String {
    match user.strip_prefix("open311:") {
        Some(name) => format!("key:{name}"),
        None => user.to_string(),
    }
}

/// How much of a case's citizen contact an actor may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactAccess {
    /// In full, in every view (the 12345 desk, who call citizens back).
    Full,
    /// Masked in views, in full on an explicit request that is recorded (who, when, which case):
    /// the unit that holds the open case, which must call the citizen back.
    OnRequest,
    /// Masked only.
    Masked,
}

/// Who may look up a caller's earlier cases by the number they call from (来电弹屏): the roles
/// that take calls (operators, and admins, who may do everything an operator does). A lookup
/// says who called before and about what, so a unit, an inspector or a citizen may not.
pub fn may_look_up_callers(role: Role) -> bool {
    matches!(role, Role::Operator | Role::Admin)
}

/// Who may see the citizen of a case in `state` (`confidential`: see
/// [`crate::draft::NewCase::contact_confidential`]):
///
/// - operators and dispatchers (the 12345 desk) always, in full;
/// - supervisors and admins in full, unless the case is confidential;
/// - a handler of the unit that holds the case now, while it is open and not confidential, on
///   request (each reveal recorded); not after the case leaves the unit or closes;
/// - nobody else (summoned units, inspectors, the citizen's own views show it masked).
pub fn contact_access(actor: &Actor, state: &CaseState, confidential: bool) -> ContactAccess {
    match actor.role {
        Role::Operator | Role::Dispatcher => ContactAccess::Full,
        Role::Supervisor | Role::Admin if !confidential => ContactAccess::Full,
        Role::UnitHandler
            if !confidential
                && state.status.is_open()
                && actor.unit.is_some()
                && state.assignee.as_deref() == actor.unit.as_deref() =>
        {
            ContactAccess::OnRequest
        }
        _ => ContactAccess::Masked,
    }
}

/// True when people in `role` work for a unit and must name one.
pub fn role_needs_unit(role: Role) -> bool {
    matches!(role, Role::UnitHandler | Role::GridInspector)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_those_who_take_calls_look_up_callers() {
        for &r in Role::ALL {
            assert_eq!(may_look_up_callers(r), matches!(r, Role::Operator | Role::Admin), "{r:?}");
        }
    }

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
        let open311 = Actor { user: "open311:app".into(), role: Role::Citizen, unit: None };
        assert_eq!(Scope::of(&open311, &c), Scope::Own("key:app".into()), "one owner per key, both doors");
        assert_eq!(owner_identity("key:app"), "key:app");
    }

    #[test]
    fn the_holding_unit_sees_the_citizen_while_it_holds_the_case() {
        use crate::model::DeadlineClass;
        use crate::workflow::{Action, step};
        use chrono::{Duration, TimeZone, Utc};
        let t0 = Utc.with_ymd_and_hms(2026, 11, 2, 1, 0, 0).unwrap();
        let receive = Action::Receive {
            category: "0101".into(),
            deadline_class: DeadlineClass::General,
            verify: false,
            intake: vec![],
        };
        let (_, received) = step(None, t0, actor(Role::Operator, None), receive, None).unwrap();
        let dispatch = Action::Dispatch { unit: "S001".into(), due: t0 + Duration::days(3), rule: None };
        let (_, held) = step(Some(&received), t0, actor(Role::Dispatcher, None), dispatch, None).unwrap();
        let (_, closed) = step(Some(&held), t0, actor(Role::Operator, None), Action::Merge { into: 9 }, None).unwrap();
        let s001 = actor(Role::UnitHandler, Some("S001"));
        assert_eq!(contact_access(&s001, &held, false), ContactAccess::OnRequest);
        assert_eq!(contact_access(&s001, &held, true), ContactAccess::Masked, "保密: no unit");
        assert_eq!(contact_access(&s001, &received, false), ContactAccess::Masked, "not held by S001");
        assert_eq!(contact_access(&s001, &closed, false), ContactAccess::Masked, "no longer open");
        assert_eq!(contact_access(&actor(Role::UnitHandler, Some("S002")), &held, false), ContactAccess::Masked);
        assert_eq!(contact_access(&actor(Role::GridInspector, Some("S001")), &held, false), ContactAccess::Masked);
        for desk in [Role::Operator, Role::Dispatcher] {
            assert_eq!(contact_access(&actor(desk, None), &held, true), ContactAccess::Full);
        }
        assert_eq!(contact_access(&actor(Role::Supervisor, None), &held, false), ContactAccess::Full);
        assert_eq!(contact_access(&actor(Role::Supervisor, None), &held, true), ContactAccess::Masked);
        assert_eq!(contact_access(&actor(Role::Citizen, None), &held, false), ContactAccess::Masked);
    }
}
