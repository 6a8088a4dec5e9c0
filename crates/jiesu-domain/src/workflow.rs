//! The closed loop as a state machine over append-only events.
//!
//! A case's [`CaseState`] is never stored on its own: it is the fold of its [`Event`]s with
//! [`transition`]. [`step`] is the only way to make a new event: it checks who may act
//! ([`authorize`]), then applies the transition, and returns both the event and the new state.
//! [`replay`] rebuilds the state from stored events and checks that every recorded `from`/`to`
//! matches; it does not re-check authorisation (rules about roles may change, history may not).
//!
//! ```text
//! 受理 received ─派单→ dispatched ─签收→ accepted ─办理→ in_progress ─答复→ replied ─回访→ called_back ─结案→ closed
//!                 ↑      │退单申请          │                          │ (grid case) → verifying ─核查通过→ closed
//!                 └─同意─ return_requested ─┘(驳回: back where it was)  重办 reopen: called_back/closed → dispatched
//! 合并 merge: received…in_progress → merged.   延期, 督办, 吹哨/报到 change facts, not the status.
//! 改分类 reclassify: any open status → the same status, with a new category and deadline class.
//! ```

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{Appeal, AppealReason, Callback, DeadlineClass, Role, Status};
use crate::suggestion::Suggestion;

/// Who acts: a person or system, with the role and unit they act in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// User name (or system component name). Never a citizen's personal data.
    pub user: String,
    /// The role the actor acts in.
    pub role: Role,
    /// The unit the actor belongs to, for unit handlers.
    pub unit: Option<String>,
}

impl Actor {
    /// The deadline timer, sensors and other machine actors.
    pub fn system(name: &str) -> Actor {
        Actor { user: name.to_string(), role: Role::System, unit: None }
    }
}

/// A summoned unit in joint handling (吹哨报到).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JointUnit {
    /// The summoned unit.
    pub unit: String,
    /// When it was summoned.
    pub summoned_at: DateTime<Utc>,
    /// It must check in (报到) before this instant.
    pub checkin_due: DateTime<Utc>,
    /// When it checked in, if it did.
    pub checked_in_at: Option<DateTime<Utc>>,
}

/// What happened to a case. Serialised with a `type` tag (`{"type":"dispatch","unit":"S001",...}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Action {
    /// 受理: the first event of every case.
    Receive {
        /// Leaf category code.
        category: String,
        /// Deadline class of the category at the time of receipt.
        deadline_class: DeadlineClass,
        /// Found by a grid inspector (or sensor): the fix is verified (核查) before closing.
        verify: bool,
        /// What smart intake suggested and what the filer did with it (none when intake ran
        /// without suggestions).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        intake: Vec<Suggestion>,
    },
    /// 派单 (or 改派 before the unit signs): send to a unit with a deadline.
    Dispatch {
        /// The responsible unit.
        unit: String,
        /// Deadline (exclusive), computed from the category's class by the caller.
        due: DateTime<Utc>,
        /// The routing rule that chose the unit (权责清单 entry), if any.
        rule: Option<String>,
    },
    /// 签收: the assigned unit signs for the case.
    Accept,
    /// 办理: a progress note from the unit; `contacted` records that it reached the citizen.
    Handle {
        /// The unit contacted the citizen.
        contacted: bool,
    },
    /// 退单申请: the unit says the case is not theirs.
    RequestReturn,
    /// 退单审核通过: the case goes back to be redispatched.
    ApproveReturn,
    /// 退单驳回: the unit keeps the case.
    RefuseReturn,
    /// 延期申请: the unit asks for a later deadline.
    RequestExtension {
        /// The deadline asked for.
        until: DateTime<Utc>,
    },
    /// 延期批准: the deadline moves to the one asked for.
    ApproveExtension,
    /// 延期驳回.
    RefuseExtension,
    /// 督办: supervision notice; `overdue` when raised because the deadline passed.
    Supervise {
        /// Raised because the deadline passed (by the deadline timer).
        overdue: bool,
    },
    /// 吹哨: the lead unit summons other units to handle the case jointly.
    Whistle {
        /// The summoned units.
        units: Vec<String>,
        /// They must check in before this instant.
        checkin_due: DateTime<Utc>,
    },
    /// 报到: a summoned unit checks in.
    CheckIn,
    /// 答复: the unit (or, for a case not yet dispatched, the operator) replies to the citizen.
    Reply,
    /// 核查: the inspector verifies the fix of a grid-found case.
    Verify {
        /// The fix is confirmed; otherwise the case goes back to the unit.
        passed: bool,
    },
    /// 回访: what the citizen said when called back.
    Callback(Callback),
    /// 结案.
    Close,
    /// 重办: reopen after an unsolved or unsatisfied callback, or a closed case.
    Reopen {
        /// The new deadline for the unit (None when the case goes back to the dispatcher).
        due: Option<DateTime<Utc>>,
    },
    /// 合并: this case duplicates the master case `into`.
    Merge {
        /// Id of the master case.
        into: i64,
    },
    /// 改分类: the case gets another leaf category (e.g. a case from the dispatcher's manual
    /// queue, received under 其他事项, gets its real one). The status does not change. The new
    /// deadline class applies to deadlines computed from now on (the next 派单 or 重办); a
    /// deadline already given to a unit is not moved.
    Reclassify {
        /// The category before (checked against the case: a stale or forged one is refused).
        from: String,
        /// The new leaf category code.
        category: String,
        /// Deadline class of the new category.
        deadline_class: DeadlineClass,
    },
    /// 考核申诉: the unit holding the case asks that it leave the unit's assessment, for `reason`
    /// (the event's note says more). Any status; one appeal at a time; the status does not change.
    Appeal {
        /// Why.
        reason: AppealReason,
    },
    /// 申诉裁定: a supervisor rules on the pending appeal: `excluded` true is 核减 (the case leaves
    /// the unit's three rates), false refuses it. A 核减 is reversible: the same action with
    /// `excluded` false later puts the case back (撤销核减).
    RuleAppeal {
        /// The case is excluded from the unit's assessment.
        excluded: bool,
    },
    /// 设备告警: a sensor's alarm (or all-clear) on a place with this open case, added as a fact
    /// (issue 13). Changes no status: only a person closes the case.
    Alarm {
        /// The device.
        device: String,
        /// The device's message id (an alarm is added once, whatever the redeliveries).
        message: String,
        /// Its level.
        level: crate::alarm::Level,
        /// The device flaps: the alarm is recorded as suppressed (抖动抑制).
        #[serde(default)]
        suppressed: bool,
    },
}

impl Action {
    /// Stable code of the action (the serde tag).
    pub fn code(&self) -> &'static str {
        match self {
            Action::Receive { .. } => "receive",
            Action::Dispatch { .. } => "dispatch",
            Action::Accept => "accept",
            Action::Handle { .. } => "handle",
            Action::RequestReturn => "request_return",
            Action::ApproveReturn => "approve_return",
            Action::RefuseReturn => "refuse_return",
            Action::RequestExtension { .. } => "request_extension",
            Action::ApproveExtension => "approve_extension",
            Action::RefuseExtension => "refuse_extension",
            Action::Supervise { .. } => "supervise",
            Action::Whistle { .. } => "whistle",
            Action::CheckIn => "check_in",
            Action::Reply => "reply",
            Action::Verify { .. } => "verify",
            Action::Callback(_) => "callback",
            Action::Close => "close",
            Action::Reopen { .. } => "reopen",
            Action::Merge { .. } => "merge",
            Action::Reclassify { .. } => "reclassify",
            Action::Appeal { .. } => "appeal",
            Action::RuleAppeal { .. } => "rule_appeal",
            Action::Alarm { .. } => "alarm",
        }
    }

    /// Chinese name of the action.
    pub fn label(&self) -> &'static str {
        match self {
            Action::Receive { .. } => "受理",
            Action::Dispatch { .. } => "派单",
            Action::Accept => "签收",
            Action::Handle { .. } => "办理",
            Action::RequestReturn => "退单申请",
            Action::ApproveReturn => "退单通过",
            Action::RefuseReturn => "退单驳回",
            Action::RequestExtension { .. } => "延期申请",
            Action::ApproveExtension => "延期批准",
            Action::RefuseExtension => "延期驳回",
            Action::Supervise { .. } => "督办",
            Action::Whistle { .. } => "吹哨",
            Action::CheckIn => "报到",
            Action::Reply => "答复",
            Action::Verify { .. } => "核查",
            Action::Callback(_) => "回访",
            Action::Close => "结案",
            Action::Reopen { .. } => "重办",
            Action::Merge { .. } => "合并",
            Action::Reclassify { .. } => "改分类",
            Action::Appeal { .. } => "考核申诉",
            Action::RuleAppeal { excluded: true } => "核减",
            Action::RuleAppeal { excluded: false } => "申诉裁定",
            Action::Alarm { .. } => "设备告警",
        }
    }
}

/// One append-only entry in a case's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Position in the case's history, from 1.
    pub seq: u32,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// Who did it.
    pub actor: Actor,
    /// What was done.
    pub action: Action,
    /// Status before (None for the first event).
    pub from: Option<Status>,
    /// Status after.
    pub to: Status,
    /// Free text (reply text, reason for a return, ...).
    pub note: Option<String>,
}

/// The state of a case: the fold of its events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseState {
    /// Where the case is in the loop.
    pub status: Status,
    /// Leaf category code (at receipt, or as changed by the latest 改分类).
    pub category: String,
    /// Deadline class of `category`.
    pub deadline_class: DeadlineClass,
    /// Grid-found: needs 核查 before closing.
    pub verify: bool,
    /// The unit that holds the case (the lead unit in joint handling).
    pub assignee: Option<String>,
    /// Deadline in force (exclusive).
    pub due: Option<DateTime<Utc>>,
    /// 受理 time.
    pub received_at: DateTime<Utc>,
    /// First 派单 time.
    pub dispatched_at: Option<DateTime<Utc>>,
    /// Latest 签收 time.
    pub accepted_at: Option<DateTime<Utc>>,
    /// First time the unit said it contacted the citizen.
    pub contacted_at: Option<DateTime<Utc>>,
    /// Latest 答复 time.
    pub replied_at: Option<DateTime<Utc>>,
    /// 结案 time (None while open or after a reopen).
    pub closed_at: Option<DateTime<Utc>>,
    /// Status to go back to when a return is refused.
    pub return_from: Option<Status>,
    /// Deadline asked for in a pending extension request.
    pub pending_extension: Option<DateTime<Utc>>,
    /// Approved extensions.
    pub extensions: u32,
    /// Returns approved (退单次数).
    pub returns: u32,
    /// Supervision notices (督办次数).
    pub supervisions: u32,
    /// An overdue notice was raised for the deadline now in force.
    pub overdue_noticed: bool,
    /// Times reopened (重办).
    pub reopen_count: u32,
    /// Units summoned by 吹哨.
    pub joint: Vec<JointUnit>,
    /// The latest callback.
    pub callback: Option<Callback>,
    /// Master case, when merged.
    pub merged_into: Option<i64>,
    /// The latest 考核申诉 and its ruling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appeal: Option<Appeal>,
    /// Time of the latest event.
    pub updated_at: DateTime<Utc>,
    /// Number of events so far.
    pub seq: u32,
}

impl CaseState {
    /// True when the case is open and past its deadline at `now`.
    pub fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        self.status.is_open()
            && !matches!(self.status, Status::Replied | Status::CalledBack | Status::Verifying)
            && self.due.is_some_and(|d| d <= now)
    }
}

/// Why an action was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkflowError {
    /// The action is not possible in the case's status.
    #[error("cannot {action} ({action_label}) a case that is {status} ({status_label})")]
    IllegalTransition {
        /// Action code.
        action: &'static str,
        /// Action in Chinese.
        action_label: &'static str,
        /// Current status code.
        status: &'static str,
        /// Current status in Chinese.
        status_label: &'static str,
    },
    /// The actor's role may not take this action.
    #[error("role {role} may not {action}")]
    Forbidden {
        /// Role code.
        role: &'static str,
        /// Action code.
        action: &'static str,
    },
    /// The actor's unit does not hold the case (or was not summoned).
    #[error("unit {unit} may not {action} this case: it is not {expected}")]
    WrongUnit {
        /// The actor's unit ("none" when they have none).
        unit: String,
        /// Action code.
        action: &'static str,
        /// What the unit should have been.
        expected: String,
    },
    /// The action's arguments make no sense here.
    #[error("{0}")]
    Invalid(String),
    /// A stored history does not replay.
    #[error("event {seq} does not replay: {message}")]
    Corrupt {
        /// Sequence number of the first bad event.
        seq: u32,
        /// What is wrong.
        message: String,
    },
}

fn illegal(action: &Action, status: Status) -> WorkflowError {
    WorkflowError::IllegalTransition {
        action: action.code(),
        action_label: action.label(),
        status: status.code(),
        status_label: status.label(),
    }
}

/// Checks that `actor` may take `action` on a case in `state` (None: the case does not exist yet).
/// Admins may take any action; the state machine still applies to them.
pub fn authorize(state: Option<&CaseState>, actor: &Actor, action: &Action) -> Result<(), WorkflowError> {
    use Role::*;
    let role = actor.role;
    if role == Admin {
        return Ok(());
    }
    let allowed: &[Role] = match action {
        Action::Receive { .. } => &[Operator, GridInspector, Citizen, System],
        Action::Dispatch { .. } | Action::ApproveReturn | Action::RefuseReturn => &[Dispatcher, System],
        Action::Accept
        | Action::Handle { .. }
        | Action::RequestReturn
        | Action::RequestExtension { .. }
        | Action::CheckIn => &[UnitHandler],
        // The system summons a sensor case's responsible unit (issue 13).
        Action::Whistle { .. } => &[UnitHandler, System],
        Action::Alarm { .. } => &[System],
        // The operator answers a consultation directly, before any dispatch.
        Action::Reply if state.is_some_and(|s| s.status == Status::Received) => &[Operator],
        Action::Reply => &[UnitHandler],
        Action::ApproveExtension | Action::RefuseExtension => &[Dispatcher, Supervisor],
        Action::Supervise { .. } => &[Supervisor, System],
        Action::Verify { .. } => &[GridInspector, Supervisor],
        Action::Callback(_) => &[Operator, Citizen, System],
        Action::Close => &[Operator, Dispatcher, Supervisor, System],
        // A citizen reopens a case they filed (their scope is their own cases), e.g. an Open311
        // client's REOPEN: the problem is not solved.
        Action::Reopen { .. } => &[Operator, Dispatcher, Supervisor, Citizen, System],
        Action::Merge { .. } | Action::Reclassify { .. } => &[Operator, Dispatcher],
        Action::Appeal { .. } => &[UnitHandler],
        Action::RuleAppeal { .. } => &[Supervisor],
    };
    if !allowed.contains(&role) {
        return Err(WorkflowError::Forbidden { role: role.code(), action: action.code() });
    }
    if role != UnitHandler {
        return Ok(());
    }
    let Some(state) = state else { return Ok(()) };
    let unit = actor.unit.clone().unwrap_or_else(|| "none".into());
    if matches!(action, Action::CheckIn) {
        if state.joint.iter().any(|j| Some(&j.unit) == actor.unit.as_ref()) {
            return Ok(());
        }
        return Err(WorkflowError::WrongUnit { unit, action: action.code(), expected: "a summoned unit".into() });
    }
    if state.assignee.is_some() && state.assignee == actor.unit {
        return Ok(());
    }
    Err(WorkflowError::WrongUnit {
        unit,
        action: action.code(),
        expected: format!("the assigned unit {}", state.assignee.as_deref().unwrap_or("(none)")),
    })
}

/// Applies `action`, taken by `actor` at `at`, to a case in `state` (None: a new case). Pure:
/// checks the state machine and the action's arguments, not whether the actor may act (that is
/// [`authorize`]); the actor's unit only says which summoned unit checks in.
pub fn transition(
    state: Option<&CaseState>,
    at: DateTime<Utc>,
    actor: &Actor,
    action: &Action,
) -> Result<CaseState, WorkflowError> {
    let Some(s) = state else {
        return match action {
            Action::Receive { category, deadline_class, verify, .. } => Ok(CaseState {
                status: Status::Received,
                category: category.clone(),
                deadline_class: *deadline_class,
                verify: *verify,
                assignee: None,
                due: None,
                received_at: at,
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
                updated_at: at,
                seq: 1,
            }),
            _ => Err(WorkflowError::Invalid(format!(
                "a case starts with receive (受理), not {} ({})",
                action.code(),
                action.label()
            ))),
        };
    };
    if at < s.updated_at {
        return Err(WorkflowError::Invalid(format!(
            "event time {at} is earlier than the case's latest event ({})",
            s.updated_at
        )));
    }
    use Status::*;
    let mut n = s.clone();
    n.updated_at = at;
    n.seq = s.seq + 1;
    let bad = || Err(illegal(action, s.status));
    match action {
        Action::Receive { .. } => return bad(),
        Action::Dispatch { unit, due, .. } => {
            if !matches!(s.status, Received | Dispatched) {
                return bad();
            }
            if *due <= at {
                return Err(WorkflowError::Invalid(format!("deadline {due} is not after the dispatch time {at}")));
            }
            n.status = Dispatched;
            n.assignee = Some(unit.clone());
            n.due = Some(*due);
            n.overdue_noticed = false;
            n.dispatched_at.get_or_insert(at);
        }
        Action::Accept => {
            if s.status != Dispatched {
                return bad();
            }
            n.status = Accepted;
            n.accepted_at = Some(at);
        }
        Action::Handle { contacted } => {
            if !matches!(s.status, Accepted | InProgress) {
                return bad();
            }
            n.status = InProgress;
            if *contacted {
                n.contacted_at.get_or_insert(at);
            }
        }
        Action::RequestReturn => {
            if !matches!(s.status, Dispatched | Accepted | InProgress) {
                return bad();
            }
            if !s.joint.is_empty() {
                return Err(WorkflowError::Invalid(
                    "a case under joint handling (吹哨) cannot be returned: the lead unit must handle it".into(),
                ));
            }
            n.status = ReturnRequested;
            n.return_from = Some(s.status);
        }
        Action::ApproveReturn => {
            if s.status != ReturnRequested {
                return bad();
            }
            n.status = Received;
            n.assignee = None;
            n.due = None;
            n.return_from = None;
            n.pending_extension = None;
            n.overdue_noticed = false;
            n.returns += 1;
        }
        Action::RefuseReturn => {
            if s.status != ReturnRequested {
                return bad();
            }
            n.status = s.return_from.unwrap_or(Accepted);
            n.return_from = None;
        }
        Action::RequestExtension { until } => {
            if !matches!(s.status, Accepted | InProgress) {
                return bad();
            }
            if let Some(pending) = s.pending_extension {
                return Err(WorkflowError::Invalid(format!(
                    "an extension until {pending} is already waiting for a decision"
                )));
            }
            if s.due.is_some_and(|d| *until <= d) {
                return Err(WorkflowError::Invalid(format!(
                    "an extension must move the deadline later than {}",
                    s.due.unwrap_or(at)
                )));
            }
            n.pending_extension = Some(*until);
        }
        Action::ApproveExtension | Action::RefuseExtension => {
            if !matches!(s.status, Accepted | InProgress) {
                return bad();
            }
            let Some(until) = s.pending_extension else {
                return Err(WorkflowError::Invalid("there is no pending extension request".into()));
            };
            n.pending_extension = None;
            if matches!(action, Action::ApproveExtension) {
                n.due = Some(until);
                n.extensions += 1;
                n.overdue_noticed = false;
            }
        }
        Action::Supervise { overdue } => {
            if !matches!(s.status, Dispatched | Accepted | InProgress | ReturnRequested) {
                return bad();
            }
            n.supervisions += 1;
            if *overdue {
                n.overdue_noticed = true;
            }
        }
        Action::Whistle { units, checkin_due } => {
            // The system summons as it dispatches (a sensor alarm's case): the status stays.
            let by_system = actor.role == Role::System && s.status == Dispatched;
            if !matches!(s.status, Accepted | InProgress) && !by_system {
                return bad();
            }
            if units.is_empty() {
                return Err(WorkflowError::Invalid("吹哨 needs at least one unit to summon".into()));
            }
            if *checkin_due <= at {
                return Err(WorkflowError::Invalid(format!("check-in deadline {checkin_due} is not after {at}")));
            }
            for u in units {
                if s.assignee.as_ref() == Some(u) {
                    return Err(WorkflowError::Invalid(format!("unit {u} leads the case and cannot summon itself")));
                }
                if n.joint.iter().any(|j| &j.unit == u) {
                    return Err(WorkflowError::Invalid(format!("unit {u} is already summoned")));
                }
                n.joint.push(JointUnit {
                    unit: u.clone(),
                    summoned_at: at,
                    checkin_due: *checkin_due,
                    checked_in_at: None,
                });
            }
            if !by_system {
                n.status = InProgress;
            }
        }
        Action::CheckIn => {
            if !matches!(s.status, Accepted | InProgress) {
                return bad();
            }
            let unit = actor.unit.as_deref().unwrap_or("(none)");
            let Some(j) = n.joint.iter_mut().find(|j| j.unit == unit) else {
                return Err(WorkflowError::Invalid(format!("unit {unit} was not summoned to this case")));
            };
            if j.checked_in_at.is_some() {
                return Err(WorkflowError::Invalid(format!("unit {unit} has already checked in")));
            }
            j.checked_in_at = Some(at);
        }
        Action::Reply => {
            match s.status {
                Accepted | InProgress => {}
                Received if !s.verify => {}
                _ => return bad(),
            }
            n.status = if s.verify && s.status != Received { Verifying } else { Replied };
            n.replied_at = Some(at);
            n.pending_extension = None;
        }
        Action::Verify { passed } => {
            if s.status != Verifying {
                return bad();
            }
            if *passed {
                n.status = Closed;
                n.closed_at = Some(at);
            } else {
                n.status = InProgress;
                n.reopen_count += 1;
            }
        }
        Action::Callback(cb) => {
            if s.status != Replied {
                return bad();
            }
            n.status = CalledBack;
            n.callback = Some(*cb);
        }
        Action::Close => {
            if !matches!(s.status, Replied | CalledBack) {
                return bad();
            }
            n.status = Closed;
            n.closed_at = Some(at);
        }
        Action::Reopen { due } => {
            match s.status {
                Closed => {}
                CalledBack => {
                    let settled = s.callback.is_some_and(|cb| {
                        cb.reached && cb.solved && cb.satisfaction != crate::model::Satisfaction::Unsatisfied
                    });
                    if settled {
                        return Err(WorkflowError::Invalid(
                            "the callback says solved and satisfied: close the case instead of reopening".into(),
                        ));
                    }
                }
                _ => return bad(),
            }
            n.reopen_count += 1;
            n.closed_at = None;
            n.overdue_noticed = false;
            n.joint.clear();
            match (&s.assignee, due) {
                (Some(_), Some(d)) if *d > at => {
                    n.status = Dispatched;
                    n.due = Some(*d);
                }
                (Some(_), Some(d)) => {
                    return Err(WorkflowError::Invalid(format!("deadline {d} is not after the reopen time {at}")));
                }
                (Some(_), None) => {
                    return Err(WorkflowError::Invalid("reopening a dispatched case needs a new deadline".into()));
                }
                (None, _) => {
                    n.status = Received;
                    n.due = None;
                }
            }
        }
        Action::Merge { into } => {
            if !matches!(s.status, Received | Dispatched | Accepted | InProgress) {
                return bad();
            }
            n.status = Merged;
            n.merged_into = Some(*into);
            n.pending_extension = None;
        }
        Action::Reclassify { from, category, deadline_class } => {
            if !s.status.is_open() {
                return bad();
            }
            if *from != s.category {
                return Err(WorkflowError::Invalid(format!(
                    "改分类 from category {from}, but the case is in category {}",
                    s.category
                )));
            }
            if *category == s.category {
                return Err(WorkflowError::Invalid(format!("the case is already in category {category}")));
            }
            // The status, the unit and its deadline stay: the new class counts from the next
            // deadline computed (派单, 重办).
            n.category = category.clone();
            n.deadline_class = *deadline_class;
        }
        Action::Appeal { reason } => {
            if s.status == Merged {
                return bad();
            }
            let Some(unit) = s.assignee.clone() else {
                return Err(WorkflowError::Invalid(
                    "only a case dispatched to a unit can be appealed (考核申诉)".into(),
                ));
            };
            match &s.appeal {
                Some(a) if a.pending => {
                    return Err(WorkflowError::Invalid("an appeal (考核申诉) is already waiting for a ruling".into()));
                }
                Some(a) if a.excluded && a.unit == unit => {
                    return Err(WorkflowError::Invalid(
                        "the case is already excluded (核减) from this unit's assessment".into(),
                    ));
                }
                _ => {}
            }
            n.appeal = Some(Appeal { unit, reason: *reason, pending: true, excluded: false });
        }
        Action::RuleAppeal { excluded } => {
            if s.status == Merged {
                return bad();
            }
            let Some(a) = &s.appeal else {
                return Err(WorkflowError::Invalid("the case has no appeal (考核申诉) to rule on".into()));
            };
            match (a.pending, a.excluded, *excluded) {
                // A pending appeal: 核减 or refused.
                (true, _, _) => {}
                // 撤销核减: an exclusion taken back.
                (false, true, false) => {}
                _ => {
                    return Err(WorkflowError::Invalid(if *excluded {
                        "the appeal was refused: the unit must appeal again before a 核减".into()
                    } else {
                        "the case is not excluded (核减): nothing to take back".into()
                    }));
                }
            }
            n.appeal = Some(Appeal { pending: false, excluded: *excluded, ..a.clone() });
        }
        Action::Alarm { .. } => {
            if !s.status.is_open() {
                return bad();
            }
        }
    }
    Ok(n)
}

impl CaseState {
    /// True when a supervisor excluded the case (核减) from its assignee's assessment.
    pub fn excluded(&self) -> bool {
        self.appeal.as_ref().is_some_and(|a| a.excluded && Some(&a.unit) == self.assignee.as_ref())
    }
}

/// Takes an action: checks the actor, applies the transition, returns the new event and state.
pub fn step(
    state: Option<&CaseState>,
    at: DateTime<Utc>,
    actor: Actor,
    action: Action,
    note: Option<String>,
) -> Result<(Event, CaseState), WorkflowError> {
    authorize(state, &actor, &action)?;
    let next = transition(state, at, &actor, &action)?;
    let event = Event { seq: next.seq, at, from: state.map(|s| s.status), to: next.status, actor, action, note };
    Ok((event, next))
}

/// Rebuilds a case's state from its events, checking sequence numbers and recorded statuses.
pub fn replay<'a>(events: impl IntoIterator<Item = &'a Event>) -> Result<CaseState, WorkflowError> {
    let mut state: Option<CaseState> = None;
    for e in events {
        let expected_seq = state.as_ref().map_or(1, |s| s.seq + 1);
        if e.seq != expected_seq {
            return Err(WorkflowError::Corrupt {
                seq: e.seq,
                message: format!("expected sequence number {expected_seq}"),
            });
        }
        let from = state.as_ref().map(|s| s.status);
        if e.from != from {
            return Err(WorkflowError::Corrupt {
                seq: e.seq,
                message: format!("recorded from {:?}, replay has {from:?}", e.from),
            });
        }
        let next = transition(state.as_ref(), e.at, &e.actor, &e.action)
            .map_err(|err| WorkflowError::Corrupt { seq: e.seq, message: err.to_string() })?;
        if next.status != e.to {
            return Err(WorkflowError::Corrupt {
                seq: e.seq,
                message: format!("recorded to {}, replay gives {}", e.to, next.status),
            });
        }
        state = Some(next);
    }
    state.ok_or(WorkflowError::Corrupt { seq: 0, message: "a case has no events".into() })
}
