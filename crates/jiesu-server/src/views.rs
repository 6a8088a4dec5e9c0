//! What the API shows of a case and of its events: codes next to their Chinese labels, names next
//! to unit and area codes, times in RFC 3339 local time (Asia/Shanghai, `+08:00`), and the
//! citizen's contact masked unless the actor's role needs it.

use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use jiesu_domain::access::{ContactAccess, contact_access};
use jiesu_domain::catalog::Catalog;
use jiesu_domain::disclosure::{self, Audience};
use jiesu_domain::draft::Contact;
use jiesu_domain::model::{AppealReason, Callback, CaseKind, Channel, DeadlineClass, Role, Satisfaction, Status};
use jiesu_domain::workflow::{Action, Event, JointUnit};
use jiesu_store::CaseRecord;
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::actor::Actor;

/// A time as RFC 3339 in `tz` (`2026-09-29T10:00:00+08:00`).
pub fn local_time(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

fn local_opt(t: Option<DateTime<Utc>>, tz: Tz) -> Option<String> {
    t.map(|t| local_time(t, tz))
}

/// The public case number (诉求编号): `DC`, the local date of receipt, the id padded to 6 digits.
pub fn case_number(id: i64, received_at: DateTime<Utc>, tz: Tz) -> String {
    format!("DC{}{id:06}", received_at.with_timezone(&tz).format("%Y%m%d"))
}

/// Where the matter is, with the names of its street and community.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Place)]
pub struct PlaceView {
    /// Street address.
    address: Option<String>,
    /// Latitude, WGS-84 degrees (stored in the map's GCJ-02, converted on the way out).
    lat: Option<f64>,
    /// Longitude, WGS-84 degrees.
    lon: Option<f64>,
    /// Street code.
    street: Option<String>,
    /// Street name.
    street_name: Option<String>,
    /// Community code.
    community: Option<String>,
    /// Community short name.
    community_name: Option<String>,
    /// Grid cell id.
    grid: Option<String>,
}

/// A unit summoned by 吹哨.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = JointUnit)]
pub struct JointView {
    /// Unit code.
    unit: String,
    /// Unit name.
    unit_name: Option<String>,
    /// When it was summoned.
    #[schema(format = DateTime)]
    summoned_at: String,
    /// When it must check in (报到) by.
    #[schema(format = DateTime)]
    checkin_due: String,
    /// When it checked in.
    #[schema(format = DateTime)]
    checked_in_at: Option<String>,
    /// Not checked in and past `checkin_due`.
    checkin_overdue: bool,
}

/// The latest callback (回访).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Callback)]
pub struct CallbackView {
    /// The citizen was reached.
    reached: bool,
    /// The unit contacted the citizen in time.
    responded: bool,
    /// Solved.
    solved: bool,
    /// The citizen's verdict.
    #[schema(value_type = Satisfaction)]
    satisfaction: &'static str,
    /// Its Chinese label.
    satisfaction_label: &'static str,
}

/// The latest 考核申诉 and its ruling.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Appeal)]
pub struct AppealView {
    /// The unit that appealed.
    unit: String,
    /// Its name.
    unit_name: Option<String>,
    /// Why.
    #[schema(value_type = AppealReason)]
    reason: &'static str,
    /// Its Chinese label.
    reason_label: &'static str,
    /// Waiting for a supervisor's ruling.
    pending: bool,
    /// The case is excluded (核减) from the unit's assessment.
    excluded: bool,
}

impl From<Callback> for CallbackView {
    fn from(c: Callback) -> Self {
        CallbackView {
            reached: c.reached,
            responded: c.responded,
            solved: c.solved,
            satisfaction: c.satisfaction.code(),
            satisfaction_label: c.satisfaction.label(),
        }
    }
}

/// One case as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Case)]
pub struct CaseView {
    /// Case id.
    id: i64,
    /// Public case number (诉求编号), `DC` + local date + id.
    #[schema(example = "DC20261127000042")]
    number: String,
    /// How the request reached us.
    #[schema(value_type = Channel)]
    channel: &'static str,
    /// Its Chinese label.
    channel_label: &'static str,
    /// What the citizen wants.
    #[schema(value_type = CaseKind)]
    kind: &'static str,
    /// Its Chinese label.
    kind_label: &'static str,
    /// Where the case is in the loop.
    #[schema(value_type = Status)]
    status: &'static str,
    /// Its Chinese label.
    status_label: &'static str,
    /// Title.
    title: String,
    /// The citizen's words.
    text: String,
    /// Leaf category code.
    category: String,
    /// Category name.
    category_name: Option<String>,
    /// Top-level category code.
    category_parent: Option<String>,
    /// Top-level category name.
    category_parent_name: Option<String>,
    /// How fast it must be handled.
    #[schema(value_type = DeadlineClass)]
    deadline_class: &'static str,
    /// Its Chinese label.
    deadline_class_label: &'static str,
    /// Where.
    place: PlaceView,
    /// Masked (`138****5678`) unless the actor's role needs it in full.
    contact: Contact,
    /// True when `contact` is masked.
    contact_masked: bool,
    /// True when the actor may ask for the contact in full (`GET /cases/{id}/contact`, recorded):
    /// a handler of the unit that holds the open case, unless the citizen asked for 保密.
    contact_on_request: bool,
    /// The id in the system the request came from.
    external_id: Option<String>,
    /// The unit that holds the case.
    assignee: Option<String>,
    /// Its name.
    assignee_name: Option<String>,
    /// The deadline in force.
    #[schema(format = DateTime)]
    due: Option<String>,
    /// Open and past `due` now.
    overdue: bool,
    /// 受理 time.
    #[schema(format = DateTime)]
    received_at: String,
    /// Latest 派单.
    #[schema(format = DateTime)]
    dispatched_at: Option<String>,
    /// Latest 签收.
    #[schema(format = DateTime)]
    accepted_at: Option<String>,
    /// Latest 答复.
    #[schema(format = DateTime)]
    replied_at: Option<String>,
    /// Latest event.
    #[schema(format = DateTime)]
    updated_at: String,
    /// 结案 time.
    #[schema(format = DateTime)]
    closed_at: Option<String>,
    /// The category needs 核查 before closing.
    verify: bool,
    /// Times reopened (重办).
    reopen_count: u32,
    /// 督办 notices.
    supervisions: u32,
    /// Returns (退单) approved.
    returns: u32,
    /// Extensions (延期) approved.
    extensions: u32,
    /// The deadline an extension request asks for, while pending.
    #[schema(format = DateTime)]
    pending_extension: Option<String>,
    /// Units summoned by 吹哨.
    joint: Vec<JointView>,
    /// The latest callback (回访).
    callback: Option<CallbackView>,
    /// The master case, when merged.
    merged_into: Option<i64>,
    /// The latest 考核申诉 (assessment appeal) and its ruling.
    appeal: Option<AppealView>,
    /// Number of events.
    events: u32,
}

/// Renders views: the catalog for names, the time zone, the instant "now" and the actor.
pub struct Renderer<'a> {
    /// Names of units, areas and categories.
    pub catalog: &'a Catalog,
    /// Local time zone.
    pub tz: Tz,
    /// Decides `overdue`.
    pub now: DateTime<Utc>,
}

impl Renderer<'_> {
    fn unit_name(&self, code: &str) -> Option<String> {
        self.catalog.unit(code).map(|u| u.name.clone())
    }

    /// The view of `rec` for `actor`.
    pub fn case(&self, rec: CaseRecord, actor: &Actor) -> CaseView {
        let tz = self.tz;
        let CaseRecord { id, case, state } = rec;
        let category = self.catalog.category(&case.category);
        let parent = category.and_then(|c| c.parent.as_deref()).and_then(|p| self.catalog.category(p));
        let access = contact_access(&actor.0, &state, case.contact_confidential());
        let (contact, contact_masked) = if access == ContactAccess::Full {
            (case.contact.clone(), false)
        } else {
            (case.contact.masked(), !case.contact.is_empty())
        };
        // The holding unit asks for the contact explicitly (each reveal is recorded), so that
        // listing its inbox reveals nobody.
        let contact_on_request = access == ContactAccess::OnRequest && !case.contact.is_empty();
        let place = &case.place;
        CaseView {
            id,
            number: case_number(id, state.received_at, tz),
            channel: case.channel.code(),
            channel_label: case.channel.label(),
            kind: case.kind.code(),
            kind_label: case.kind.label(),
            status: state.status.code(),
            status_label: state.status.label(),
            title: case.display_title(),
            category_name: category.map(|c| c.name.clone()),
            category_parent: parent.map(|p| p.code.clone()),
            category_parent_name: parent.map(|p| p.name.clone()),
            category: case.category.clone(),
            deadline_class: state.deadline_class.code(),
            deadline_class_label: state.deadline_class.label(),
            place: PlaceView {
                address: place.address.clone(),
                lat: crate::place::outgoing(place.lat, place.lon).0,
                lon: crate::place::outgoing(place.lat, place.lon).1,
                street_name: place.street.as_deref().and_then(|s| self.catalog.street(s)).map(|s| s.name.clone()),
                street: place.street.clone(),
                community_name: place
                    .community
                    .as_deref()
                    .and_then(|c| self.catalog.community(c))
                    .map(|c| c.short_name.clone()),
                community: place.community.clone(),
                grid: place.grid.clone(),
            },
            contact,
            contact_masked,
            contact_on_request,
            external_id: case.external_id.clone(),
            assignee_name: state.assignee.as_deref().and_then(|u| self.unit_name(u)),
            assignee: state.assignee.clone(),
            due: local_opt(state.due, tz),
            overdue: state.is_overdue(self.now),
            received_at: local_time(state.received_at, tz),
            dispatched_at: local_opt(state.dispatched_at, tz),
            accepted_at: local_opt(state.accepted_at, tz),
            replied_at: local_opt(state.replied_at, tz),
            updated_at: local_time(state.updated_at, tz),
            closed_at: local_opt(state.closed_at, tz),
            verify: state.verify,
            reopen_count: state.reopen_count,
            supervisions: state.supervisions,
            returns: state.returns,
            extensions: state.extensions,
            pending_extension: local_opt(state.pending_extension, tz),
            joint: state.joint.iter().map(|j| self.joint(j)).collect(),
            callback: state.callback.map(CallbackView::from),
            merged_into: state.merged_into,
            appeal: state.appeal.as_ref().map(|a| AppealView {
                unit: a.unit.clone(),
                unit_name: self.unit_name(&a.unit),
                reason: a.reason.code(),
                reason_label: a.reason.label(),
                pending: a.pending,
                excluded: a.excluded,
            }),
            events: state.seq,
            text: case.text,
        }
    }

    fn joint(&self, j: &JointUnit) -> JointView {
        JointView {
            unit: j.unit.clone(),
            unit_name: self.unit_name(&j.unit),
            summoned_at: local_time(j.summoned_at, self.tz),
            checkin_due: local_time(j.checkin_due, self.tz),
            checked_in_at: local_opt(j.checked_in_at, self.tz),
            checkin_overdue: j.checked_in_at.is_none() && j.checkin_due <= self.now,
        }
    }

    /// One event of a timeline.
    pub fn event(&self, e: &Event) -> EventView {
        EventView {
            seq: e.seq,
            at: local_time(e.at, self.tz),
            action: e.action.code(),
            action_label: e.action.label(),
            from: e.from.map(|s| s.code()),
            from_label: e.from.map(|s| s.label()),
            to: e.to.code(),
            to_label: e.to.label(),
            actor: ActorView {
                user: e.actor.user.clone(),
                role: e.actor.role.code(),
                role_label: e.actor.role.label(),
                unit_name: e.actor.unit.as_deref().and_then(|u| self.unit_name(u)),
                unit: e.actor.unit.clone(),
            },
            note: e.note.clone(),
            detail: self.detail(&e.action),
        }
    }

    /// One event of a timeline as its citizen sees it (None when they do not see it at all):
    /// the rule of `jiesu_domain::disclosure` — the loop's steps only, a role label (承办单位,
    /// 12345) instead of staff's names, only the notes addressed to the citizen, no intake or
    /// routing internals.
    pub fn citizen_event(&self, e: &Event) -> Option<EventView> {
        if !disclosure::visible(e) {
            return None;
        }
        let mut view = self.event(e);
        view.actor.user = disclosure::actor_label(e.actor.role).to_string();
        view.note = disclosure::note(e, self.catalog, Audience::Filer);
        if let Value::Object(detail) = &mut view.detail {
            // How intake classified it and which row of the responsibility list fired are the desk's.
            detail.remove("intake");
            detail.remove("rule");
        }
        Some(view)
    }

    /// What the action carried, with names and local times.
    fn detail(&self, action: &Action) -> Value {
        let tz = self.tz;
        match action {
            Action::Receive { category, deadline_class, verify, intake } => json!({
                "category": category,
                "category_name": self.catalog.category(category).map(|c| c.name.clone()),
                "deadline_class": deadline_class.code(),
                "deadline_class_label": deadline_class.label(),
                "verify": verify,
                "intake": intake,
            }),
            Action::Dispatch { unit, due, rule } => json!({
                "unit": unit, "unit_name": self.unit_name(unit), "due": local_time(*due, tz), "rule": rule,
            }),
            Action::Handle { contacted } => json!({ "contacted": contacted }),
            Action::RequestExtension { until } => json!({ "until": local_time(*until, tz) }),
            Action::Supervise { overdue } => json!({ "overdue": overdue }),
            Action::Whistle { units, checkin_due } => json!({
                "units": units.iter().map(|u| json!({"unit": u, "unit_name": self.unit_name(u)})).collect::<Vec<_>>(),
                "checkin_due": local_time(*checkin_due, tz),
            }),
            Action::Verify { passed } => json!({ "passed": passed }),
            Action::Callback(cb) => serde_json::to_value(CallbackView::from(*cb)).unwrap_or(Value::Null),
            Action::Reopen { due } => json!({ "due": local_opt(*due, tz) }),
            Action::Merge { into } => json!({ "into": into }),
            Action::Reclassify { from, category, deadline_class } => json!({
                "from": from,
                "from_name": self.catalog.category(from).map(|c| c.name.clone()),
                "category": category,
                "category_name": self.catalog.category(category).map(|c| c.name.clone()),
                "deadline_class": deadline_class.code(),
                "deadline_class_label": deadline_class.label(),
            }),
            Action::Appeal { reason } => json!({ "reason": reason.code(), "reason_label": reason.label() }),
            Action::RuleAppeal { excluded } => json!({ "excluded": excluded }),
            Action::Alarm { device, message, level, suppressed } => json!({
                "device": device, "message": message, "level": level.code(), "level_label": level.label(),
                "suppressed": suppressed,
            }),
            Action::Accept
            | Action::RequestReturn
            | Action::ApproveReturn
            | Action::RefuseReturn
            | Action::ApproveExtension
            | Action::RefuseExtension
            | Action::CheckIn
            | Action::Reply
            | Action::Close => json!({}),
        }
    }
}

/// Who took an event.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = EventActor)]
pub struct ActorView {
    /// User name; for a citizen reading their own case, a role label instead (承办单位, 12345,
    /// 市民): staff's names are not shown to citizens.
    user: String,
    /// Role acted in.
    #[schema(value_type = Role)]
    role: &'static str,
    /// Its Chinese label.
    role_label: &'static str,
    /// Unit code.
    unit: Option<String>,
    /// Unit name.
    unit_name: Option<String>,
}

/// One event of a case's timeline.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Event)]
pub struct EventView {
    /// Position in the timeline, from 1.
    seq: u32,
    /// When.
    #[schema(format = DateTime)]
    at: String,
    /// The action's code (`receive`, `dispatch`, `accept`, ...).
    action: &'static str,
    /// Its Chinese label.
    action_label: &'static str,
    /// Status before (none for 受理).
    #[schema(value_type = Option<Status>)]
    from: Option<&'static str>,
    /// Its Chinese label.
    from_label: Option<&'static str>,
    /// Status after.
    #[schema(value_type = Status)]
    to: &'static str,
    /// Its Chinese label.
    to_label: &'static str,
    /// Who acted.
    actor: ActorView,
    /// The note (reason, reply text); for a citizen, only what is addressed to them (the reply).
    note: Option<String>,
    /// What the action carried (unit, deadline, callback ...), with names and local times. For
    /// 改分类 (`reclassify`): `from` → `category` with their names, and the new deadline class.
    #[schema(value_type = Object)]
    detail: Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_times_are_local() {
        let tz = chrono_tz::Asia::Shanghai;
        let t = DateTime::parse_from_rfc3339("2026-09-29T17:30:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(case_number(42, t, tz), "DC20260930000042");
        assert_eq!(local_time(t, tz), "2026-09-30T01:30:00+08:00");
    }
}
