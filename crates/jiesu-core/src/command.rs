//! What people and integrations ask the desk to do, before the desk turns it into a domain
//! [`Action`] (computing deadlines, routing, checking unit codes).

use chrono::{DateTime, Utc};
use jiesu_domain::model::{AppealReason, Callback, Satisfaction};
use jiesu_domain::workflow::Action;
use serde::{Deserialize, Serialize};

/// One action on an existing case, as the API and the CLI take it:
/// `{"action": "dispatch", "unit": "S001"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    /// 派单 to `unit`, or to the unit the responsibility list names when absent. With
    /// `category`, the case is first given that leaf category (改分类, its own event) and is then
    /// routed and given its deadline by the new category: how a dispatcher classifies and
    /// dispatches a case from the manual queue in one request.
    Dispatch {
        /// Unit code; None routes automatically.
        #[serde(default)]
        unit: Option<String>,
        /// Leaf category code to give the case first (nothing happens when it already has it).
        #[serde(default)]
        category: Option<String>,
    },
    /// 改分类: give the case another leaf category (and so its deadline class). The status does
    /// not change; a deadline already given to a unit is not moved.
    Reclassify {
        /// Leaf category code.
        category: String,
    },
    /// 签收.
    Accept,
    /// 办理 progress note.
    Handle {
        /// The unit reached the citizen.
        #[serde(default)]
        contacted: bool,
    },
    /// 退单申请 (the note gives the reason).
    RequestReturn,
    /// 退单通过.
    ApproveReturn,
    /// 退单驳回.
    RefuseReturn,
    /// 延期申请: give `until` or `working_days` (added to the current deadline).
    RequestExtension {
        /// New deadline.
        #[serde(default)]
        until: Option<DateTime<Utc>>,
        /// Working days to add to the current deadline.
        #[serde(default)]
        working_days: Option<u32>,
    },
    /// 延期批准.
    ApproveExtension,
    /// 延期驳回.
    RefuseExtension,
    /// 督办.
    Supervise,
    /// 吹哨: summon `units`; they must check in within `checkin_hours` (default from config).
    Whistle {
        /// Unit codes of departments or utilities.
        units: Vec<String>,
        /// Hours allowed for 报到.
        #[serde(default)]
        checkin_hours: Option<u32>,
    },
    /// 报到.
    CheckIn,
    /// 答复 (the note is the reply text).
    Reply,
    /// 核查.
    Verify {
        /// The fix is confirmed.
        passed: bool,
    },
    /// 回访 result.
    Callback {
        /// The citizen was reached (default true).
        #[serde(default = "yes")]
        reached: bool,
        /// The unit contacted the citizen in time.
        responded: bool,
        /// Solved.
        solved: bool,
        /// Satisfaction.
        satisfaction: Satisfaction,
    },
    /// 结案.
    Close,
    /// 重办 (the deadline restarts from now).
    Reopen,
    /// 合并 into case `into`.
    Merge {
        /// Master case id.
        into: i64,
    },
    /// 考核申诉: the unit holding the case asks that it leave the unit's assessment (the note
    /// gives the grounds).
    Appeal {
        /// 不合理诉求 / 重复诉求 / 非本单位职责.
        reason: AppealReason,
    },
    /// 申诉裁定 (supervisor): `excluded` true is 核减, false refuses the pending appeal or takes
    /// back an earlier 核减.
    RuleAppeal {
        /// The case leaves the unit's assessment.
        excluded: bool,
    },
}

fn yes() -> bool {
    true
}

impl Command {
    /// Stable code of the command (the `action` tag).
    pub fn code(&self) -> &'static str {
        match self {
            Command::Dispatch { .. } => "dispatch",
            Command::Accept => "accept",
            Command::Handle { .. } => "handle",
            Command::RequestReturn => "request_return",
            Command::ApproveReturn => "approve_return",
            Command::RefuseReturn => "refuse_return",
            Command::RequestExtension { .. } => "request_extension",
            Command::ApproveExtension => "approve_extension",
            Command::RefuseExtension => "refuse_extension",
            Command::Supervise => "supervise",
            Command::Whistle { .. } => "whistle",
            Command::CheckIn => "check_in",
            Command::Reply => "reply",
            Command::Verify { .. } => "verify",
            Command::Callback { .. } => "callback",
            Command::Close => "close",
            Command::Reopen => "reopen",
            Command::Merge { .. } => "merge",
            Command::Reclassify { .. } => "reclassify",
            Command::Appeal { .. } => "appeal",
            Command::RuleAppeal { .. } => "rule_appeal",
        }
    }

    /// Whether the command needs a note (the reason or the reply text).
    pub fn needs_note(&self) -> bool {
        matches!(
            self,
            Command::RequestReturn | Command::Reply | Command::RequestExtension { .. } | Command::Appeal { .. }
        )
    }

    /// The domain action for commands that need nothing computed.
    pub(crate) fn plain_action(&self) -> Option<Action> {
        Some(match self {
            Command::Accept => Action::Accept,
            Command::Handle { contacted } => Action::Handle { contacted: *contacted },
            Command::RequestReturn => Action::RequestReturn,
            Command::ApproveReturn => Action::ApproveReturn,
            Command::RefuseReturn => Action::RefuseReturn,
            Command::ApproveExtension => Action::ApproveExtension,
            Command::RefuseExtension => Action::RefuseExtension,
            Command::Supervise => Action::Supervise { overdue: false },
            Command::CheckIn => Action::CheckIn,
            Command::Reply => Action::Reply,
            Command::Verify { passed } => Action::Verify { passed: *passed },
            Command::Callback { reached, responded, solved, satisfaction } => Action::Callback(Callback {
                reached: *reached,
                responded: *responded,
                solved: *solved,
                satisfaction: *satisfaction,
            }),
            Command::Close => Action::Close,
            Command::Merge { into } => Action::Merge { into: *into },
            Command::Appeal { reason } => Action::Appeal { reason: *reason },
            Command::RuleAppeal { excluded } => Action::RuleAppeal { excluded: *excluded },
            Command::Dispatch { .. }
            | Command::Reclassify { .. }
            | Command::RequestExtension { .. }
            | Command::Whistle { .. }
            | Command::Reopen => {
                return None;
            }
        })
    }
}
