//! What the API shows of a case and of its events: codes next to their Chinese labels, names next
//! to unit and area codes, times in RFC 3339 local time (Asia/Shanghai, `+08:00`), and the
//! citizen's contact masked unless the actor's role needs it.

use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use jiesu_domain::catalog::Catalog;
use jiesu_domain::draft::Contact;
use jiesu_domain::model::Callback;
use jiesu_domain::workflow::{Action, Event, JointUnit};
use jiesu_store::CaseRecord;
use serde::Serialize;
use serde_json::{Value, json};

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
#[derive(Debug, Serialize)]
pub struct PlaceView {
    address: Option<String>,
    lat: Option<f64>,
    lon: Option<f64>,
    street: Option<String>,
    street_name: Option<String>,
    community: Option<String>,
    community_name: Option<String>,
    grid: Option<String>,
}

/// A unit summoned by 吹哨.
#[derive(Debug, Serialize)]
pub struct JointView {
    unit: String,
    unit_name: Option<String>,
    summoned_at: String,
    checkin_due: String,
    checked_in_at: Option<String>,
    checkin_overdue: bool,
}

/// The latest callback (回访).
#[derive(Debug, Serialize)]
pub struct CallbackView {
    reached: bool,
    responded: bool,
    solved: bool,
    satisfaction: &'static str,
    satisfaction_label: &'static str,
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
#[derive(Debug, Serialize)]
pub struct CaseView {
    id: i64,
    number: String,
    channel: &'static str,
    channel_label: &'static str,
    kind: &'static str,
    kind_label: &'static str,
    status: &'static str,
    status_label: &'static str,
    title: String,
    text: String,
    category: String,
    category_name: Option<String>,
    category_parent: Option<String>,
    category_parent_name: Option<String>,
    deadline_class: &'static str,
    deadline_class_label: &'static str,
    place: PlaceView,
    /// Masked (`138****5678`) unless the actor's role needs it in full.
    contact: Contact,
    contact_masked: bool,
    external_id: Option<String>,
    assignee: Option<String>,
    assignee_name: Option<String>,
    due: Option<String>,
    overdue: bool,
    received_at: String,
    dispatched_at: Option<String>,
    accepted_at: Option<String>,
    replied_at: Option<String>,
    updated_at: String,
    closed_at: Option<String>,
    verify: bool,
    reopen_count: u32,
    supervisions: u32,
    returns: u32,
    extensions: u32,
    pending_extension: Option<String>,
    joint: Vec<JointView>,
    callback: Option<CallbackView>,
    merged_into: Option<i64>,
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
        let (contact, contact_masked) = if actor.sees_contact() {
            (case.contact.clone(), false)
        } else {
            (case.contact.masked(), !case.contact.is_empty())
        };
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
                lat: place.lat,
                lon: place.lon,
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
#[derive(Debug, Serialize)]
pub struct ActorView {
    user: String,
    role: &'static str,
    role_label: &'static str,
    unit: Option<String>,
    unit_name: Option<String>,
}

/// One event of a case's timeline.
#[derive(Debug, Serialize)]
pub struct EventView {
    seq: u32,
    at: String,
    action: &'static str,
    action_label: &'static str,
    from: Option<&'static str>,
    from_label: Option<&'static str>,
    to: &'static str,
    to_label: &'static str,
    actor: ActorView,
    note: Option<String>,
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
