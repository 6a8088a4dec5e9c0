//! Notices (通知): each person's new, near-due, returned and 督办 items, derived from the cases
//! the person may see, and whether the person has seen them.
//!
//! Nothing is stored about a notice but a person's mark of having seen it (case, kind, version):
//! the notice itself follows from the case's state, so it cannot drift from the case. Its
//! `version` changes when the notice is raised anew (a new deadline, another 督办, another 重办),
//! which makes it unread again.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use jiesu_domain::calendar::Calendar;
use jiesu_domain::model::{Role, Status};
use jiesu_domain::workflow::{Actor, CaseState};
use jiesu_store::{CaseFilter, CaseRecord, NoticeMark, Page};

use crate::intake::MANUAL_CATEGORY;
use crate::{CoreError, Desk};

/// Cases read per list (as the console's lists).
const LIMIT: u32 = 200;

/// What a notice is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NoticeKind {
    /// 新派单: dispatched to the viewer's unit and not yet signed.
    Dispatched,
    /// 待人工派单: waiting in the manual queue (2299).
    ManualQueue,
    /// 退回申请: a unit asks to return the case.
    ReturnRequest,
    /// 延期申请: a unit asks for a later deadline.
    ExtensionRequest,
    /// 待回访: replied, waiting for the citizen's callback.
    AwaitingCallback,
    /// 待核查: the fix waits for a grid inspector's check.
    Verify,
    /// 临期: due by the end of the next working day.
    NearDue,
    /// 超期: past its deadline.
    Overdue,
    /// 重办: reopened and back with the unit.
    Reopened,
    /// 退回待改派: a return was approved; the case waits to be dispatched again.
    Returned,
    /// 督办: supervision notices on the case.
    Supervised,
}

/// The four groups of the notices page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeGroup {
    /// New work.
    New,
    /// Near or past the deadline.
    Due,
    /// Come back (returned, reopened).
    Returned,
    /// 督办.
    Supervision,
}

impl NoticeKind {
    /// Every kind.
    pub const ALL: &'static [NoticeKind] = &[
        NoticeKind::Dispatched,
        NoticeKind::ManualQueue,
        NoticeKind::ReturnRequest,
        NoticeKind::ExtensionRequest,
        NoticeKind::AwaitingCallback,
        NoticeKind::Verify,
        NoticeKind::NearDue,
        NoticeKind::Overdue,
        NoticeKind::Reopened,
        NoticeKind::Returned,
        NoticeKind::Supervised,
    ];

    /// Stable code (stored in the marks).
    pub fn code(self) -> &'static str {
        match self {
            NoticeKind::Dispatched => "dispatched",
            NoticeKind::ManualQueue => "manual_queue",
            NoticeKind::ReturnRequest => "return_request",
            NoticeKind::ExtensionRequest => "extension_request",
            NoticeKind::AwaitingCallback => "awaiting_callback",
            NoticeKind::Verify => "verify",
            NoticeKind::NearDue => "near_due",
            NoticeKind::Overdue => "overdue",
            NoticeKind::Reopened => "reopened",
            NoticeKind::Returned => "returned",
            NoticeKind::Supervised => "supervised",
        }
    }

    /// The kind of a code.
    pub fn of_code(code: &str) -> Option<NoticeKind> {
        NoticeKind::ALL.iter().copied().find(|k| k.code() == code)
    }

    /// In Chinese.
    pub fn label(self) -> &'static str {
        match self {
            NoticeKind::Dispatched => "新派单",
            NoticeKind::ManualQueue => "待人工派单",
            NoticeKind::ReturnRequest => "退回申请",
            NoticeKind::ExtensionRequest => "延期申请",
            NoticeKind::AwaitingCallback => "待回访",
            NoticeKind::Verify => "待核查",
            NoticeKind::NearDue => "临期",
            NoticeKind::Overdue => "超期",
            NoticeKind::Reopened => "重办",
            NoticeKind::Returned => "退回待改派",
            NoticeKind::Supervised => "督办",
        }
    }

    /// The page's group.
    pub fn group(self) -> NoticeGroup {
        match self {
            NoticeKind::NearDue | NoticeKind::Overdue => NoticeGroup::Due,
            NoticeKind::Reopened | NoticeKind::Returned => NoticeGroup::Returned,
            NoticeKind::Supervised => NoticeGroup::Supervision,
            _ => NoticeGroup::New,
        }
    }
}

/// One notice about one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// What it is about.
    pub kind: NoticeKind,
    /// Changes when the notice is raised anew.
    pub version: i64,
    /// When it arose (or, for deadlines, the deadline), for ordering.
    pub at: DateTime<Utc>,
}

/// A notice with its case, as the viewer may see it, and whether the viewer has seen it.
#[derive(Debug, Clone)]
pub struct NoticeItem {
    /// The case (read within the viewer's scope).
    pub case: CaseRecord,
    /// The notice.
    pub notice: Notice,
    /// Not yet seen in this version.
    pub unread: bool,
}

/// The end of the next working day in `tz` after `now`: a deadline before it is near (the
/// supervise page's horizon). A year without calendar data counts 24 hours.
pub fn near_due_until(calendar: &Calendar, tz: Tz, now: DateTime<Utc>) -> DateTime<Utc> {
    let today = now.with_timezone(&tz).date_naive();
    calendar
        .add_working_days(today, 1)
        .ok()
        .and_then(|d| d.succ_opt())
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .and_then(|t| t.and_local_timezone(tz).earliest())
        .map_or(now + chrono::Duration::hours(24), |t| t.with_timezone(&Utc))
}

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// The notices `actor` gets about a case in `state`, at `now`, with deadlines before
/// `near_until` near. Pure: the rule of who is told what.
pub fn notices_for(actor: &Actor, state: &CaseState, now: DateTime<Utc>, near_until: DateTime<Utc>) -> Vec<Notice> {
    let mut out = Vec::new();
    let mut add = |kind, version, at| out.push(Notice { kind, version, at });
    let st = state.status;
    let open = st.is_open();
    let holding = matches!(st, Status::Dispatched | Status::Accepted | Status::InProgress);
    let running = holding || st == Status::ReturnRequested;
    let due = |add: &mut dyn FnMut(NoticeKind, i64, DateTime<Utc>)| {
        if let Some(d) = state.due.filter(|_| running) {
            if d <= now {
                add(NoticeKind::Overdue, ms(d), d);
            } else if d <= near_until {
                add(NoticeKind::NearDue, ms(d), d);
            }
        }
    };
    let supervised = |add: &mut dyn FnMut(NoticeKind, i64, DateTime<Utc>)| {
        if open && state.supervisions > 0 && st != Status::Received {
            add(NoticeKind::Supervised, i64::from(state.supervisions), state.updated_at);
        }
    };
    let role = actor.role;
    let dispatcher = matches!(role, Role::Dispatcher | Role::Admin);
    let supervisor = matches!(role, Role::Supervisor | Role::Admin);
    let operator = matches!(role, Role::Operator | Role::Admin);
    if role == Role::UnitHandler {
        if actor.unit.is_none() || state.assignee != actor.unit {
            return out;
        }
        if st == Status::Dispatched {
            add(NoticeKind::Dispatched, state.due.map_or(0, ms), state.updated_at);
        }
        if holding && state.reopen_count > 0 {
            add(NoticeKind::Reopened, i64::from(state.reopen_count), state.updated_at);
        }
        due(&mut add);
        supervised(&mut add);
        return out;
    }
    if dispatcher && st == Status::Received {
        if state.category == MANUAL_CATEGORY {
            add(NoticeKind::ManualQueue, ms(state.received_at), state.received_at);
        } else if state.returns > 0 {
            add(NoticeKind::Returned, i64::from(state.returns), state.updated_at);
        }
    }
    if dispatcher && st == Status::ReturnRequested {
        add(NoticeKind::ReturnRequest, i64::from(state.seq), state.updated_at);
    }
    if (dispatcher || supervisor)
        && let Some(until) = state.pending_extension.filter(|_| holding)
    {
        add(NoticeKind::ExtensionRequest, ms(until), state.updated_at);
    }
    if operator && st == Status::Replied {
        let at = state.replied_at.unwrap_or(state.updated_at);
        add(NoticeKind::AwaitingCallback, ms(at), at);
    }
    if role == Role::GridInspector && st == Status::Verifying {
        add(NoticeKind::Verify, i64::from(state.seq), state.updated_at);
    }
    if supervisor {
        due(&mut add);
        supervised(&mut add);
    }
    out
}

/// The lists of cases whose notices a role gets (read within the viewer's scope).
fn watched(actor: &Actor, near_until: DateTime<Utc>) -> Vec<CaseFilter> {
    let status = |s: &[Status]| CaseFilter { statuses: s.to_vec(), ..Default::default() };
    let held = [Status::Dispatched, Status::Accepted, Status::InProgress];
    let mut lists = Vec::new();
    match actor.role {
        Role::UnitHandler => lists.push(CaseFilter {
            statuses: vec![Status::Dispatched, Status::Accepted, Status::InProgress, Status::ReturnRequested],
            assignee: actor.unit.clone(),
            ..Default::default()
        }),
        Role::GridInspector => lists.push(status(&[Status::Verifying])),
        Role::Operator => lists.push(status(&[Status::Replied])),
        Role::Dispatcher | Role::Supervisor | Role::Admin => {
            if actor.role != Role::Supervisor {
                lists.push(status(&[Status::Received, Status::ReturnRequested]));
            }
            // Extension requests (no column for them: the newest held cases, as the 派单 page).
            lists.push(status(&held));
            if actor.role != Role::Dispatcher {
                lists.push(CaseFilter { overdue_at: Some(near_until), ..Default::default() });
            }
            if actor.role == Role::Admin {
                lists.push(status(&[Status::Replied]));
            }
        }
        Role::Citizen | Role::System => {}
    }
    lists
}

impl Desk {
    /// The notices of `actor` at `now`: read within the actor's scope, newest first within
    /// unread then read, each marked unread unless the actor has seen its version.
    pub async fn notices(&self, actor: &Actor, now: DateTime<Utc>) -> Result<Vec<NoticeItem>, CoreError> {
        let scope = jiesu_domain::access::Scope::of(actor, self.catalog());
        let near_until = near_due_until(self.calendar(), self.config().tz, now);
        let page = Page { limit: LIMIT, before: None };
        let store = self.store();
        // The lists at once (each one indexed query on the read pool).
        let filters = watched(actor, near_until);
        let lists = futures_util::future::try_join_all(filters.iter().map(|f| store.list(&scope, f, page))).await?;
        let mut seen_ids = std::collections::HashSet::new();
        let mut items = Vec::new();
        for rec in lists.into_iter().flatten() {
            if !seen_ids.insert(rec.id) {
                continue;
            }
            for notice in notices_for(actor, &rec.state, now, near_until) {
                items.push(NoticeItem { case: rec.clone(), notice, unread: true });
            }
        }
        let ids: Vec<i64> = seen_ids.into_iter().collect();
        let marks = store.notice_marks(&actor.user, &ids).await?;
        let marked: std::collections::HashSet<(i64, &str, i64)> =
            marks.iter().map(|m| (m.case_id, m.kind.as_str(), m.version)).collect();
        for it in &mut items {
            it.unread = !marked.contains(&(it.case.id, it.notice.kind.code(), it.notice.version));
        }
        items.sort_by(|a, b| {
            b.unread.cmp(&a.unread).then(b.notice.at.cmp(&a.notice.at)).then(b.case.id.cmp(&a.case.id))
        });
        Ok(items)
    }

    /// Marks `actor`'s notices seen at `now`: all of them, or only those about case `only`.
    /// Only notices the actor has now are marked (so no mark names a case out of scope).
    /// Returns how many were marked.
    pub async fn mark_notices_seen(
        &self,
        actor: &Actor,
        only: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<usize, CoreError> {
        let marks: Vec<NoticeMark> = self
            .notices(actor, now)
            .await?
            .into_iter()
            .filter(|it| it.unread && only.is_none_or(|id| it.case.id == id))
            .map(|it| NoticeMark {
                case_id: it.case.id,
                kind: it.notice.kind.code().into(),
                version: it.notice.version,
            })
            .collect();
        self.store().mark_notices(&actor.user, &marks, now).await?;
        Ok(marks.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiesu_domain::model::DeadlineClass;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn state(status: Status, assignee: Option<&str>, due: Option<&str>) -> CaseState {
        CaseState {
            status,
            category: "0101".into(),
            deadline_class: DeadlineClass::General,
            verify: false,
            assignee: assignee.map(str::to_string),
            due: due.map(at),
            received_at: at("2026-12-01T09:00:00+08:00"),
            dispatched_at: None,
            accepted_at: None,
            contacted_at: None,
            replied_at: None,
            closed_at: None,
            return_from: None,
            pending_extension: None,
            extensions: 0,
            returns: 0,
            supervisions: 0,
            overdue_noticed: false,
            reopen_count: 0,
            joint: Vec::new(),
            callback: None,
            merged_into: None,
            appeal: None,
            updated_at: at("2026-12-01T09:05:00+08:00"),
            seq: 2,
        }
    }

    fn actor(role: Role, unit: Option<&str>) -> Actor {
        Actor { user: "u".into(), role, unit: unit.map(str::to_string) }
    }

    fn kinds(a: &Actor, s: &CaseState, now: DateTime<Utc>) -> Vec<NoticeKind> {
        let near = near_due_until(&Calendar::china(), chrono_tz::Asia::Shanghai, now);
        notices_for(a, s, now, near).into_iter().map(|n| n.kind).collect()
    }

    #[test]
    fn a_unit_is_told_of_new_near_due_reopened_and_supervised_cases_it_holds() {
        // Friday morning; the next working day is Monday, so Monday 18:00 is near, Wednesday not.
        let now = at("2026-12-04T10:00:00+08:00");
        let handler = actor(Role::UnitHandler, Some("A"));
        let s = state(Status::Dispatched, Some("A"), Some("2026-12-09T18:00:00+08:00"));
        assert_eq!(kinds(&handler, &s, now), vec![NoticeKind::Dispatched]);
        let mut s = state(Status::Accepted, Some("A"), Some("2026-12-07T18:00:00+08:00"));
        assert_eq!(kinds(&handler, &s, now), vec![NoticeKind::NearDue]);
        s.due = Some(at("2026-12-04T09:00:00+08:00"));
        s.supervisions = 1;
        s.reopen_count = 1;
        assert_eq!(kinds(&handler, &s, now), vec![NoticeKind::Reopened, NoticeKind::Overdue, NoticeKind::Supervised]);
        // Another unit's case tells this unit nothing.
        assert!(kinds(&actor(Role::UnitHandler, Some("B")), &s, now).is_empty());
        assert!(kinds(&actor(Role::UnitHandler, None), &s, now).is_empty());
    }

    #[test]
    fn each_desk_role_is_told_what_it_rules_on() {
        let now = at("2026-12-04T10:00:00+08:00");
        let mut manual = state(Status::Received, None, None);
        manual.category = MANUAL_CATEGORY.into();
        assert_eq!(kinds(&actor(Role::Dispatcher, None), &manual, now), vec![NoticeKind::ManualQueue]);
        assert!(kinds(&actor(Role::Operator, None), &manual, now).is_empty());
        let mut returned = state(Status::Received, None, None);
        returned.returns = 1;
        assert_eq!(kinds(&actor(Role::Dispatcher, None), &returned, now), vec![NoticeKind::Returned]);
        let asked = state(Status::ReturnRequested, Some("A"), Some("2026-12-20T00:00:00+08:00"));
        assert_eq!(kinds(&actor(Role::Dispatcher, None), &asked, now), vec![NoticeKind::ReturnRequest]);
        let mut ext = state(Status::InProgress, Some("A"), Some("2026-12-20T00:00:00+08:00"));
        ext.pending_extension = Some(at("2026-12-30T00:00:00+08:00"));
        assert_eq!(kinds(&actor(Role::Supervisor, None), &ext, now), vec![NoticeKind::ExtensionRequest]);
        let mut replied = state(Status::Replied, Some("A"), Some("2026-12-01T00:00:00+08:00"));
        replied.replied_at = Some(at("2026-12-03T00:00:00+08:00"));
        // Replied: the deadline no longer runs, so nobody is told it is overdue.
        assert_eq!(kinds(&actor(Role::Operator, None), &replied, now), vec![NoticeKind::AwaitingCallback]);
        assert!(kinds(&actor(Role::Supervisor, None), &replied, now).is_empty());
        let late = state(Status::InProgress, Some("A"), Some("2026-12-04T09:00:00+08:00"));
        assert_eq!(kinds(&actor(Role::Supervisor, None), &late, now), vec![NoticeKind::Overdue]);
        assert!(kinds(&actor(Role::Dispatcher, None), &late, now).is_empty());
    }

    #[test]
    fn a_new_deadline_or_another_supervision_is_a_new_version() {
        let now = at("2026-12-04T10:00:00+08:00");
        let handler = actor(Role::UnitHandler, Some("A"));
        let near = near_due_until(&Calendar::china(), chrono_tz::Asia::Shanghai, now);
        let mut s = state(Status::Accepted, Some("A"), Some("2026-12-04T09:00:00+08:00"));
        s.supervisions = 1;
        let first = notices_for(&handler, &s, now, near);
        s.supervisions = 2;
        s.seq = 5;
        let second = notices_for(&handler, &s, now, near);
        assert_eq!(first[0], second[0], "the overdue notice is the same deadline");
        assert_ne!(first[1].version, second[1].version);
        for k in NoticeKind::ALL {
            assert_eq!(NoticeKind::of_code(k.code()), Some(*k));
        }
    }
}
