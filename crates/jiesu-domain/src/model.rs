//! The nouns of the domain: channels, kinds, statuses, units, deadline classes and callbacks.
//!
//! Every enum serialises to a stable snake_case code (used in the database, the API and data
//! files) and has a Chinese label for people (`label()`).

use serde::{Deserialize, Serialize};

macro_rules! coded_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $var:ident = ($code:literal, $label:literal)),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vm])* $var),+ }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$var),+];
            /// Stable machine code (snake_case), as stored and sent over the API.
            pub fn code(self) -> &'static str { match self { $($name::$var => $code),+ } }
            /// Chinese label for people.
            pub fn label(self) -> &'static str { match self { $($name::$var => $label),+ } }
        }

        impl std::str::FromStr for $name {
            type Err = crate::model::UnknownCode;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s { $($code | $label => Ok($name::$var),)+
                    _ => Err(crate::model::UnknownCode { what: stringify!($name), code: s.to_string() }) }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.code()) }
        }
    };
}

/// A code that names nothing we know (an unknown status, channel, unit kind, ...).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} code '{code}'")]
pub struct UnknownCode {
    /// What kind of code was expected.
    pub what: &'static str,
    /// The code that was given.
    pub code: String,
}

coded_enum! {
    /// How a request reached us.
    Channel {
        Hotline = ("hotline", "12345热线"),
        Web = ("web", "网站"),
        App = ("app", "移动应用"),
        Open311 = ("open311", "Open311"),
        Grid = ("grid", "网格巡查"),
        Sensor = ("sensor", "感知设备"),
        Other = ("other", "其他"),
    }
}

coded_enum! {
    /// What the citizen wants (诉求类型).
    CaseKind {
        Consult = ("consult", "咨询"),
        Help = ("help", "求助"),
        Complaint = ("complaint", "投诉"),
        Report = ("report", "举报"),
        Suggestion = ("suggestion", "建议"),
    }
}

coded_enum! {
    /// How fast a case must be handled; each class maps to a deadline span (configurable).
    DeadlineClass {
        /// Risk to life or property: 2 hours by default.
        Emergency = ("emergency", "紧急"),
        /// Water, power, gas, heating: 24 hours by default.
        Utility = ("utility", "水电气热"),
        /// General matters: 7 working days by default.
        General = ("general", "一般"),
        /// Complex matters: 15 working days by default.
        Complex = ("complex", "复杂"),
    }
}

coded_enum! {
    /// Kinds of responsible units (承办单位).
    UnitKind {
        /// The district itself (区级), also the fallback for unrouted cases.
        District = ("district", "区级"),
        /// A street office (街道办事处).
        Street = ("street", "街道"),
        /// A district department (委办局).
        Department = ("department", "委办局"),
        /// A utility or public-service company (公共服务企业).
        Utility = ("utility", "公共服务企业"),
    }
}

coded_enum! {
    /// Where a case is in the closed loop. Derived from the events, never stored on its own.
    Status {
        /// 已受理: written down, waiting to be dispatched.
        Received = ("received", "已受理"),
        /// 已派单: sent to a unit, not yet signed for.
        Dispatched = ("dispatched", "已派单"),
        /// 已签收: the unit signed for it.
        Accepted = ("accepted", "已签收"),
        /// 办理中: the unit is handling it.
        InProgress = ("in_progress", "办理中"),
        /// 退单申请中: the unit asked to return it; the dispatcher must rule.
        ReturnRequested = ("return_requested", "退单审核中"),
        /// 已答复: the unit (or the operator, for a consultation) replied.
        Replied = ("replied", "已答复"),
        /// 待核查: a grid-found case whose fix the inspector must verify.
        Verifying = ("verifying", "待核查"),
        /// 已回访: the citizen was called back.
        CalledBack = ("called_back", "已回访"),
        /// 已结案.
        Closed = ("closed", "已结案"),
        /// 已合并: merged into a master case; takes no further action.
        Merged = ("merged", "已合并"),
    }
}

impl Status {
    /// True for statuses in which the case is still somebody's work.
    pub fn is_open(self) -> bool {
        !matches!(self, Status::Closed | Status::Merged)
    }
}

coded_enum! {
    /// Roles of people (and systems) who act on cases.
    Role {
        /// The citizen who made the request.
        Citizen = ("citizen", "市民"),
        /// 接线员.
        Operator = ("operator", "接线员"),
        /// 派单员.
        Dispatcher = ("dispatcher", "派单员"),
        /// 承办单位经办人.
        UnitHandler = ("unit_handler", "承办人"),
        /// 网格员 (also 小巷管家, 社区专员).
        GridInspector = ("grid_inspector", "网格员"),
        /// 督办/领导.
        Supervisor = ("supervisor", "督办员"),
        /// 系统管理员.
        Admin = ("admin", "管理员"),
        /// A machine: deadline timers, sensors, integrations.
        System = ("system", "系统"),
    }
}

coded_enum! {
    /// The citizen's verdict on satisfaction at callback (回访).
    Satisfaction {
        Satisfied = ("satisfied", "满意"),
        Basic = ("basic", "基本满意"),
        Unsatisfied = ("unsatisfied", "不满意"),
    }
}

coded_enum! {
    /// Why a unit asks that a case leave its assessment (考核申诉, 核减).
    AppealReason {
        /// 不合理诉求: the request itself is unreasonable (e.g. asks for what the law forbids).
        Unreasonable = ("unreasonable", "不合理诉求"),
        /// 重复诉求: the same person asked the same again while it was being handled.
        Repeated = ("repeated", "重复诉求"),
        /// 非本单位职责: not within the unit's duties, yet dispatched to it.
        NotOurs = ("not_ours", "非本单位职责"),
    }
}

/// A unit's appeal against a case counting in its assessment, and the supervisor's ruling.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appeal {
    /// The unit that appealed (the case's assignee then).
    pub unit: String,
    /// Why.
    pub reason: AppealReason,
    /// Waiting for a supervisor's ruling.
    pub pending: bool,
    /// The case is excluded (核减) from `unit`'s assessment.
    pub excluded: bool,
}

/// What the citizen said when called back (回访). The three rates of the assessment come from here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Callback {
    /// The citizen could be reached. Unreached callbacks count in no rate.
    pub reached: bool,
    /// The unit contacted the citizen in time (响应).
    pub responded: bool,
    /// The citizen says the problem is solved (解决).
    pub solved: bool,
    /// How satisfied the citizen is (满意).
    pub satisfaction: Satisfaction,
}
