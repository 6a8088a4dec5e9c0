//! What a citizen may see of a case's history: the one rule for the citizen's own view of a case
//! (the JSON API's timeline for a citizen) and for the public (Open311's notes and updates).
//!
//! - **Which events:** the steps of the loop the citizen lives through — 受理, 派单, 签收, 办理,
//!   吹哨, 答复, 回访, 结案, 重办, 合并. The desk's internal work is not shown: 督办, 改分类, 报到,
//!   退单 and 延期 requests and decisions, 核查, 考核申诉 and its ruling (the case's status, shown elsewhere, still says
//!   where it stands).
//! - **Who:** never a member of staff's name: a role label — 承办单位 for units, 12345 for the
//!   desk (operators, dispatchers, supervisors, the system), 市民 for the citizen.
//! - **What was said:** only what is addressed to the citizen: the reply (答复) text, the unit a
//!   case went to, the units summoned; for the filer also their own words. Staff's working notes
//!   (reasons for returns, extensions, supervision) are never shown. A 举报's reply is not
//!   published (it could name the reporter), but its filer reads it.
//!
//! Pure: the callers mask numbers in the public text (Open311's scrubber) and render the result.

use crate::catalog::Catalog;
use crate::model::Role;
use crate::workflow::{Action, Event};

/// Who is looking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// The citizen who filed the case, reading its timeline.
    Filer,
    /// Anyone (Open311); `confidential` for a 举报, whose words are not published.
    Public {
        /// The case is a 举报.
        confidential: bool,
    },
}

/// True when a citizen (the filer or the public) sees event `e` at all.
pub fn visible(e: &Event) -> bool {
    match e.action {
        Action::Receive { .. }
        | Action::Dispatch { .. }
        | Action::Accept
        | Action::Handle { .. }
        | Action::Whistle { .. }
        | Action::Reply
        | Action::Callback(_)
        | Action::Close
        | Action::Reopen { .. }
        | Action::Merge { .. } => true,
        Action::RequestReturn
        | Action::ApproveReturn
        | Action::RefuseReturn
        | Action::RequestExtension { .. }
        | Action::ApproveExtension
        | Action::RefuseExtension
        | Action::Supervise { .. }
        | Action::CheckIn
        | Action::Verify { .. }
        | Action::Reclassify { .. }
        | Action::Appeal { .. }
        | Action::RuleAppeal { .. }
        | Action::Alarm { .. } => false,
    }
}

/// The label that stands for whoever took event `e`: 承办单位, 12345 or 市民.
pub fn actor_label(role: Role) -> &'static str {
    match role {
        Role::UnitHandler | Role::GridInspector => "承办单位",
        Role::Citizen => "市民",
        Role::Operator | Role::Dispatcher | Role::Supervisor | Role::Admin | Role::System => "12345",
    }
}

/// What `audience` may read of event `e` (None when nothing, or when the event is not
/// [`visible`]): the reply text, the unit it was sent to, the units summoned, and (for the filer)
/// the citizen's own notes. Unmasked: public callers mask numbers before sending.
pub fn note(e: &Event, catalog: &Catalog, audience: Audience) -> Option<String> {
    if !visible(e) {
        return None;
    }
    let unit_name = |u: &String| catalog.unit(u).map_or_else(|| u.clone(), |x| x.name.clone());
    match (&e.action, audience) {
        (Action::Reply, Audience::Public { confidential: true }) => None,
        (Action::Reply, _) => e.note.clone(),
        (Action::Dispatch { unit, .. }, _) => catalog.unit(unit).map(|u| format!("派至{}", u.name)),
        (Action::Whistle { units, .. }, _) => {
            Some(format!("吹哨召集{}", units.iter().map(unit_name).collect::<Vec<_>>().join("、")))
        }
        // The filer's own words (a callback's comment, say) are theirs to read.
        (_, Audience::Filer) if e.actor.role == Role::Citizen => e.note.clone(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflow::Actor;
    use chrono::{TimeZone, Utc};

    fn t0() -> chrono::DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 2, 1, 0, 0).unwrap()
    }

    fn event(action: Action, role: Role, note: Option<&str>) -> Event {
        let s = crate::model::Status::Dispatched;
        Event {
            seq: 2,
            at: t0(),
            actor: Actor { user: "wang.xiaoming".into(), role, unit: Some("S001".into()) },
            action,
            from: Some(s),
            to: s,
            note: note.map(str::to_string),
        }
    }

    #[test]
    fn citizens_read_replies_not_working_notes() {
        let c = Catalog::dongcheng();
        let public = Audience::Public { confidential: false };
        let reply = event(Action::Reply, Role::UnitHandler, Some("已清理完毕"));
        assert_eq!(note(&reply, &c, public).as_deref(), Some("已清理完毕"));
        assert_eq!(note(&reply, &c, Audience::Public { confidential: true }), None);
        assert_eq!(note(&reply, &c, Audience::Filer).as_deref(), Some("已清理完毕"));
        let ret = event(Action::RequestReturn, Role::UnitHandler, Some("王科长说不归我们管"));
        assert!(!visible(&ret));
        assert_eq!(note(&ret, &c, Audience::Filer), None);
        let handle = event(Action::Handle { contacted: true }, Role::UnitHandler, Some("内部备注"));
        assert!(visible(&handle));
        assert_eq!(note(&handle, &c, Audience::Filer), None);
        let own = event(Action::Reopen { due: None }, Role::Citizen, Some("问题没有解决"));
        assert_eq!(note(&own, &c, Audience::Filer).as_deref(), Some("问题没有解决"));
        assert_eq!(note(&own, &c, public), None);
        let d = event(Action::Dispatch { unit: "S001".into(), due: t0(), rule: None }, Role::System, None);
        assert!(note(&d, &c, public).unwrap().starts_with("派至"));
        assert!(!visible(&event(Action::Supervise { overdue: true }, Role::System, Some("超期督办"))));
        assert_eq!(actor_label(Role::UnitHandler), "承办单位");
        assert_eq!(actor_label(Role::Dispatcher), "12345");
    }
}
