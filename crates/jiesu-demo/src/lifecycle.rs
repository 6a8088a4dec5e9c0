//! The life of one demo case, planned ahead as a list of timed steps that the runner later takes
//! through the real desk.
//!
//! Most cases go 派单 → 签收 → 办理 (contacting the citizen) → 答复 → 回访 → 结案 well within the
//! deadline. Along the way, by chance and by the unit's quality that month: a consultation is
//! answered by the operator at once; a unit asks to return the case (退单) and the dispatcher
//! approves (redispatch to the neighbouring street or the street of the place) or refuses; a street
//! office summons departments (吹哨) which check in (报到); a unit asks for more time (延期); a
//! supervisor presses (督办); the reply comes after the deadline; a grid-found case fails its first
//! verification (核查); the citizen is unhappy at the callback and the case is reopened (重办).
//!
//! The planner mirrors the desk's deadline rules (same policy, calendar and time zone) so that it
//! knows when a reply is on time. Every step is later than the one before it.

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use jiesu_core::Command;
use jiesu_domain::calendar::Calendar;
use jiesu_domain::catalog::Catalog;
use jiesu_domain::deadline::{self, DeadlinePolicy, Span};
use jiesu_domain::draft::NewCase;
use jiesu_domain::model::{AppealReason, CaseKind, Channel, DeadlineClass, Role, Satisfaction, Status, UnitKind};
use jiesu_domain::workflow::Actor;

use crate::dice::Dice;
use crate::intake;
use crate::places::{STREETS, Spot};
use crate::profiles;
use crate::texts;
use crate::units::Units;

/// What a step does.
#[derive(Debug, Clone)]
pub(crate) enum Do {
    /// A command on the case.
    Act(Command),
    /// 合并 into the case planned at this index (its id is known once it is received).
    MergeInto(usize),
}

/// One planned action on a case.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: Actor,
    /// What.
    pub what: Do,
    /// Note (reply text, reason).
    pub note: Option<String>,
    /// Status before the step.
    pub before: Status,
    /// Status after the step.
    pub after: Status,
    /// The deadline in force before the step.
    pub due: Option<DateTime<Utc>>,
}

/// A planned case: its intake and its steps.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// 受理 time.
    pub at: DateTime<Utc>,
    /// Who writes it in.
    pub actor: Actor,
    /// What is written.
    pub case: NewCase,
    /// Dispatched at intake by the router (直派).
    pub auto: bool,
    /// Later steps, in time order.
    pub steps: Vec<Step>,
    /// Index into `PROFILES`.
    pub profile: usize,
    /// Where.
    pub spot: Spot,
    /// A duplicate merged into an earlier case.
    pub dup: bool,
}

impl Plan {
    /// When the case is first closed, if it is.
    pub fn closed_at(&self) -> Option<DateTime<Utc>> {
        self.steps.iter().find(|s| s.after == Status::Closed).map(|s| s.at)
    }

    /// Drops the steps from index `i` on (the case stalls there).
    pub fn stall_at(&mut self, i: usize) {
        self.steps.truncate(i);
    }
}

/// What the planner needs to know about the district.
pub(crate) struct World<'a> {
    /// Units, areas, categories.
    pub catalog: &'a Catalog,
    /// Working days.
    pub calendar: &'a Calendar,
    /// Deadlines per class.
    pub policy: &'a DeadlinePolicy,
    /// Local time zone.
    pub tz: Tz,
    /// Unit qualities.
    pub units: &'a Units,
}

impl World<'_> {
    /// The deadline of a case of `class` dispatched at `at`, as the desk computes it.
    fn due(&self, class: DeadlineClass, at: DateTime<Utc>) -> DateTime<Utc> {
        deadline::due_at(self.policy.span(class), at, self.tz, self.calendar).unwrap_or(at + Duration::days(10))
    }

    /// `due` moved by `n` working days, as the desk computes an extension (None past the calendar's data).
    fn extended(&self, due: DateTime<Utc>, n: u32) -> Option<DateTime<Utc>> {
        deadline::due_at(Span::WorkingDays(n), due - Duration::seconds(1), self.tz, self.calendar).ok()
    }

    /// `t`, or the next opening of the hours `[open, close)` (local) plus a little.
    fn within(&self, d: &mut Dice, t: DateTime<Utc>, open: u32, close: u32) -> DateTime<Utc> {
        let local = t.with_timezone(&self.tz);
        if (open..close).contains(&local.hour()) {
            return t;
        }
        let day = if local.hour() >= close {
            local.date_naive().succ_opt().unwrap_or(local.date_naive())
        } else {
            local.date_naive()
        };
        let opening = day.and_time(NaiveTime::from_hms_opt(open, 0, 0).unwrap_or_default());
        match self.tz.from_local_datetime(&opening).single() {
            Some(o) => o.with_timezone(&Utc) + d.minutes(0.0, 90.0),
            None => t,
        }
    }
}

/// Plans the whole life of a case received at `at`.
pub(crate) fn plan(
    w: &World<'_>,
    d: &mut Dice,
    index: usize,
    at: DateTime<Utc>,
    profile: usize,
    channel: Channel,
    spot: Spot,
) -> Plan {
    let p = &profiles::PROFILES[profile];
    let kind = intake::kind(d, p, channel);
    let inspector = (channel == Channel::Grid).then(|| intake::inspector(d, &spot));
    let actor = intake::receiver(d, channel, p.code, inspector.as_ref());
    let case = intake::draft(d, w.catalog, w.tz, index, at, p, channel, kind, &spot);
    let class = w.catalog.category(p.code).map_or(DeadlineClass::General, |c| c.deadline_class);
    // Consultations (and praise) are mostly answered by the operator at once.
    let verify = matches!(channel, Channel::Grid | Channel::Sensor);
    let direct_share = match p.code {
        "2202" | "2203" | "2204" => 0.92,
        _ => 0.6,
    };
    let direct = !verify && (kind == CaseKind::Consult || p.code == "2202") && d.chance(direct_share);
    // 直派: emergencies and sensor alarms always, a third of the rest.
    let auto = !direct
        && (class == DeadlineClass::Emergency
            || channel == Channel::Sensor
            || (kind != CaseKind::Consult && d.chance(0.3)));
    // The dispatcher's manual queue: a citizen filing online without choosing a category, and
    // the classifier unsure, is received under 其他事项 (2299); a dispatcher classifies and
    // dispatches it by hand (改分类 + 派单). Cases still waiting at the end stay in the queue.
    let queued = !direct
        && !auto
        && matches!(channel, Channel::Web | Channel::App | Channel::Open311)
        && matches!(class, DeadlineClass::General | DeadlineClass::Complex)
        && p.code != jiesu_core::intake::MANUAL_CATEGORY
        && d.chance(0.35);
    let mut case = case;
    if queued {
        case.category = jiesu_core::intake::MANUAL_CATEGORY.to_string();
    }
    let mut sim = Sim {
        w,
        d,
        t: at,
        status: Status::Received,
        steps: Vec::new(),
        class,
        code: p.code,
        spot: &spot,
        verify,
        channel,
        assignee: None,
        due: None,
        dispatched_at: None,
        contacted_in_time: false,
        inspector,
        receiver: actor.clone(),
        queued,
        unhappy: false,
    };
    sim.run(direct, auto);
    let steps = sim.steps;
    Plan { at, actor, case, auto, steps, profile, spot, dup: false }
}

/// Plans a duplicate of `master` (planned at index `master_ix`) received at `at`: another caller
/// about the same matter, merged by the operator a few minutes later.
pub(crate) fn duplicate(
    w: &World<'_>,
    d: &mut Dice,
    index: usize,
    at: DateTime<Utc>,
    master: &Plan,
    master_ix: usize,
) -> Plan {
    let p = &profiles::PROFILES[master.profile];
    let channel = if d.chance(0.8) { Channel::Hotline } else { Channel::App };
    let kind = master.case.kind;
    let actor = intake::receiver(d, channel, p.code, None);
    let case = intake::draft(d, w.catalog, w.tz, index, at, p, channel, kind, &master.spot);
    let merge_at = at + d.minutes(3.0, 25.0);
    let step = Step {
        at: merge_at,
        actor: intake::operator(d),
        what: Do::MergeInto(master_ix),
        note: Some("同一事项重复反映，合并办理".into()),
        before: Status::Received,
        after: Status::Merged,
        due: None,
    };
    Plan {
        at,
        actor,
        case,
        auto: false,
        steps: vec![step],
        profile: master.profile,
        spot: master.spot.clone(),
        dup: true,
    }
}

/// The planner's view of a case while it plans it.
struct Sim<'a, 'w> {
    w: &'a World<'w>,
    d: &'a mut Dice,
    t: DateTime<Utc>,
    status: Status,
    steps: Vec<Step>,
    class: DeadlineClass,
    code: &'static str,
    spot: &'a Spot,
    verify: bool,
    channel: Channel,
    assignee: Option<String>,
    due: Option<DateTime<Utc>>,
    dispatched_at: Option<DateTime<Utc>>,
    contacted_in_time: bool,
    inspector: Option<Actor>,
    receiver: Actor,
    /// Received under 2299 for the manual queue: the first 派单 also sets the category.
    queued: bool,
    /// The latest callback found the citizen unsolved or unsatisfied.
    unhappy: bool,
}

fn actor(prefix: &str, role: Role, d: &mut Dice, n: i64) -> Actor {
    Actor { user: format!("{prefix}-{:02}", d.int(1, n)), role, unit: None }
}

impl Sim<'_, '_> {
    fn push(&mut self, at: DateTime<Utc>, actor: Actor, what: Do, note: Option<String>, after: Status) {
        let at = at.max(self.t + Duration::seconds(self.d.int(20, 90)));
        self.steps.push(Step { at, actor, what, note, before: self.status, after, due: self.due });
        self.t = at;
        self.status = after;
    }

    fn cmd(&mut self, at: DateTime<Utc>, actor: Actor, command: Command, note: Option<String>, after: Status) {
        self.push(at, actor, Do::Act(command), note, after);
    }

    fn dispatcher(&mut self) -> Actor {
        actor("disp", Role::Dispatcher, self.d, 12)
    }

    fn handler(&mut self, unit: &str) -> Actor {
        Actor { user: format!("{unit}-{:02}", self.d.int(1, 5)), role: Role::UnitHandler, unit: Some(unit.to_string()) }
    }

    fn slow_class(&self) -> bool {
        matches!(self.class, DeadlineClass::General | DeadlineClass::Complex)
    }

    /// Unit work on ordinary matters happens in office hours; urgent work round the clock.
    fn unit_time(&mut self, t: DateTime<Utc>) -> DateTime<Utc> {
        if self.slow_class() { self.w.within(self.d, t, 8, 18) } else { t }
    }

    fn run(&mut self, direct: bool, auto: bool) {
        if direct {
            return self.answer_at_once();
        }
        let street = STREETS[self.spot.street].code;
        let routed = self.w.catalog.route(self.code, Some(street), None).unit;
        if auto {
            self.assignee = Some(routed);
            self.due = Some(self.w.due(self.class, self.t));
            self.dispatched_at = Some(self.t);
            self.status = Status::Dispatched;
        } else {
            let at = self.dispatch_time();
            let unit = match self.code {
                "2101" | "2102" => Some(self.d.pick(&["U06", "U07", "U08"]).to_string()),
                _ => None,
            };
            let unit_code = unit.clone().unwrap_or(routed);
            self.dispatch(at, unit, unit_code);
        }
        if self.class != DeadlineClass::Emergency
            && profiles::profile(self.code).is_some_and(|p| p.at != profiles::At::Nowhere)
            && self.d.chance(0.065)
        {
            self.return_flow();
        }
        self.round(false);
        self.finish(false);
    }

    /// The operator answers a consultation at once; a callback follows for some.
    fn answer_at_once(&mut self) {
        let op = if self.receiver.role == Role::Operator { self.receiver.clone() } else { intake::operator(self.d) };
        let at = self.t + self.d.minutes(2.0, 15.0);
        let note = texts::answer(self.d);
        self.cmd(at, op.clone(), Command::Reply, Some(note), Status::Replied);
        if self.d.chance(0.45) {
            self.callback(0.93, false);
        }
        let at = self.t + self.d.minutes(1.0, 8.0);
        self.cmd(at, op, Command::Close, None, Status::Closed);
    }

    fn dispatch_time(&mut self) -> DateTime<Utc> {
        if self.queued {
            // Read, classified and dispatched from the queue in office hours.
            let at = self.t + self.d.skewed(90.0, 0.8, 10.0, 720.0);
            return self.w.within(self.d, at, 8, 20);
        }
        let wait = match self.class {
            DeadlineClass::Emergency => self.d.minutes(2.0, 8.0),
            DeadlineClass::Utility => self.d.minutes(5.0, 40.0),
            _ => self.d.skewed(35.0, 0.8, 5.0, 300.0),
        };
        let mut at = self.t + wait;
        if self.slow_class() {
            if self.d.chance(0.03) {
                // The dispatcher has to research who is responsible.
                at += self.d.minutes(240.0, 1800.0);
            }
            at = self.w.within(self.d, at, 7, 22);
        }
        at
    }

    /// 派单 at `at` to `unit` (None: as routed, which is `unit_code`).
    fn dispatch(&mut self, at: DateTime<Utc>, unit: Option<String>, unit_code: String) {
        let disp = self.dispatcher();
        // From the manual queue: classified in the same request (改分类 then 派单).
        let (category, note) = match std::mem::take(&mut self.queued) {
            true => (Some(self.code.to_string()), Some("人工分类后派单".to_string())),
            false => (None, None),
        };
        self.cmd(at, disp, Command::Dispatch { unit, category }, note, Status::Dispatched);
        self.due = Some(self.w.due(self.class, self.t));
        self.dispatched_at.get_or_insert(self.t);
        self.assignee = Some(unit_code);
    }

    /// 退单: the unit says the case is not theirs; the dispatcher approves (and redispatches) or refuses.
    fn return_flow(&mut self) {
        let Some(unit) = self.assignee.clone() else { return };
        let catalog = self.w.catalog;
        let street = self.spot.street;
        let other = match catalog.unit(&unit).map(|u| u.kind) {
            Some(UnitKind::Street) => {
                let next = if street + 1 < STREETS.len() && (street == 0 || self.d.chance(0.5)) {
                    street + 1
                } else {
                    street - 1
                };
                catalog.street_unit(STREETS[next].code)
            }
            _ => catalog.street_unit(STREETS[street].code),
        };
        let Some(other) = other.filter(|o| o.code != unit) else { return };
        let (other_code, other_name) = (other.code.clone(), other.name.clone());
        let h = self.handler(&unit);
        let at = self.t + self.d.skewed(60.0, 0.8, 10.0, 480.0);
        let at = self.unit_time(at);
        let reason = texts::return_reason(self.d, &other_name);
        self.cmd(at, h, Command::RequestReturn, Some(reason), Status::ReturnRequested);
        let at = self.t + self.d.skewed(60.0, 0.8, 15.0, 360.0);
        let at = self.w.within(self.d, at, 8, 20);
        let disp = self.dispatcher();
        if self.d.chance(0.6) {
            self.cmd(at, disp, Command::ApproveReturn, None, Status::Received);
            self.assignee = None;
            self.due = None;
            let at = self.t + self.d.minutes(5.0, 40.0);
            self.dispatch(at, Some(other_code.clone()), other_code);
        } else {
            let note = Some("经核查权责清单，该事项属贵单位职责，请继续办理".to_string());
            self.cmd(at, disp, Command::RefuseReturn, note, Status::Dispatched);
        }
    }

    /// One round of the unit's work: sign, contact, (summon, extend), reply.
    fn round(&mut self, reopened: bool) {
        let Some(unit) = self.assignee.clone() else { return };
        let q = self.w.units.at(&unit, self.t, self.w.tz);
        let h = self.handler(&unit);
        let (accept, contact) = match self.class {
            DeadlineClass::Emergency => (self.d.minutes(2.0, 12.0), self.d.minutes(5.0, 25.0)),
            DeadlineClass::Utility => {
                (self.d.skewed(20.0 * q.pace, 0.6, 5.0, 120.0), self.d.skewed(40.0 * q.pace, 0.6, 10.0, 240.0))
            }
            _ => (self.d.skewed(80.0 * q.pace, 0.7, 10.0, 720.0), self.d.skewed(240.0 * q.pace, 0.8, 30.0, 2880.0)),
        };
        let at = self.t + accept;
        let at = self.unit_time(at);
        self.cmd(at, h.clone(), Command::Accept, None, Status::Accepted);
        let contacted = self.d.chance(q.contact);
        let at = self.t + contact;
        let at = self.unit_time(at);
        self.cmd(at, h.clone(), Command::Handle { contacted }, None, Status::InProgress);
        if contacted {
            let limit = if self.class == DeadlineClass::Emergency { Duration::hours(2) } else { Duration::hours(24) };
            let since = self.t - self.dispatched_at.unwrap_or(self.t);
            self.contacted_in_time |= since <= limit;
        }
        let street_office = self.w.catalog.unit(&unit).is_some_and(|u| u.kind == UnitKind::Street);
        if !reopened
            && street_office
            && let Some(units) = profiles::whistle(self.code)
        {
            let p = if self.class == DeadlineClass::Complex { 0.35 } else { 0.15 };
            if self.d.chance(p) {
                self.whistle(&h, units);
            }
        }
        let mut late = self.d.chance(if self.class == DeadlineClass::Emergency { q.late * 0.5 } else { q.late });
        if !reopened && self.slow_class() {
            let p = if self.class == DeadlineClass::Complex { 0.12 } else { 0.035 };
            if self.d.chance(p) && self.extension(&h) {
                late = self.d.chance(q.late * 0.4);
            }
        }
        let reply_at = self.reply_time(late, q.pace);
        if self.d.chance(0.012) || (late && self.d.chance(0.2)) {
            let at = self.t + (reply_at - self.t) / 2;
            let sup = actor("sup", Role::Supervisor, self.d, 4);
            let note = texts::supervision(self.d);
            self.cmd(at, sup, Command::Supervise, Some(note), Status::InProgress);
        }
        let note = texts::reply(self.d, self.code);
        let after = if self.verify { Status::Verifying } else { Status::Replied };
        self.cmd(reply_at, h, Command::Reply, Some(note), after);
    }

    /// 吹哨: the street office summons departments; each checks in, most within the two hours.
    fn whistle(&mut self, h: &Actor, units: &[&str]) {
        let at = self.t + self.d.minutes(60.0, 360.0);
        let at = self.unit_time(at);
        let command = Command::Whistle { units: units.iter().map(|u| u.to_string()).collect(), checkin_hours: None };
        self.cmd(at, h.clone(), command, Some("召集相关部门现场联合处置".into()), Status::InProgress);
        for u in units {
            let wait = if self.d.chance(0.9) { self.d.minutes(15.0, 110.0) } else { self.d.minutes(150.0, 480.0) };
            let who = self.handler(u);
            self.cmd(self.t + wait, who, Command::CheckIn, Some("已到场报到".into()), Status::InProgress);
        }
    }

    /// 延期: asked with a few working days; approved or refused. True when approved.
    fn extension(&mut self, h: &Actor) -> bool {
        let Some(due) = self.due else { return false };
        let at = self.t + self.d.minutes(240.0, 2400.0);
        let at = self.unit_time(at);
        if at + Duration::hours(1) >= due {
            return false;
        }
        let n = if self.class == DeadlineClass::Complex { self.d.int(5, 15) } else { self.d.int(3, 10) } as u32;
        let Some(until) = self.w.extended(due, n) else { return false };
        let note = texts::extension_reason(self.d);
        self.cmd(
            at,
            h.clone(),
            Command::RequestExtension { until: None, working_days: Some(n) },
            Some(note),
            Status::InProgress,
        );
        let at = self.t + self.d.minutes(60.0, 1200.0);
        let at = self.w.within(self.d, at, 8, 20);
        let approved = self.d.chance(0.7);
        let who = if self.d.chance(0.5) { self.dispatcher() } else { actor("sup", Role::Supervisor, self.d, 4) };
        if approved {
            self.cmd(at, who, Command::ApproveExtension, None, Status::InProgress);
            self.due = Some(until);
        } else {
            self.cmd(at, who, Command::RefuseExtension, Some("理由不充分，请按期办结".into()), Status::InProgress);
        }
        approved
    }

    /// When the unit replies: a typical handling time, kept inside the deadline unless `late`.
    fn reply_time(&mut self, late: bool, pace: f64) -> DateTime<Utc> {
        let due = self.due.unwrap_or(self.t + Duration::days(7));
        if late {
            let extra = match self.class {
                DeadlineClass::Emergency => self.d.minutes(15.0, 150.0),
                DeadlineClass::Utility => self.d.minutes(120.0, 1800.0),
                DeadlineClass::General => self.d.minutes(600.0, 8000.0),
                DeadlineClass::Complex => self.d.minutes(1440.0, 14000.0),
            };
            let at = due + extra;
            return self.unit_time(at);
        }
        let (median, lo, hi, margin) = match self.class {
            DeadlineClass::Emergency => (35.0, 10.0, 100.0, 5),
            DeadlineClass::Utility => (360.0, 30.0, 1300.0, 30),
            DeadlineClass::General => (2400.0, 120.0, 12000.0, 180),
            DeadlineClass::Complex => (6000.0, 600.0, 25000.0, 180),
        };
        let latest = due - Duration::minutes(margin);
        let mut at = self.t + self.d.skewed(median * pace, 0.7, lo, hi);
        if at > latest && latest > self.t {
            at = self.t + Duration::seconds(((latest - self.t).num_seconds() as f64 * self.d.float(0.5, 0.95)) as i64);
        }
        let office = self.unit_time(at);
        if office < latest { office } else { at }
    }

    /// After the reply: 核查 for grid and sensor cases, else 回访 then 结案 or 重办.
    fn finish(&mut self, reopened: bool) {
        if self.status == Status::Verifying {
            return self.verification();
        }
        if self.status != Status::Replied {
            return;
        }
        let reopen = self.callback(if reopened { 0.75 } else { 1.0 }, !reopened);
        if reopen {
            let at = self.t + self.d.minutes(10.0, 360.0);
            let disp = self.dispatcher();
            self.cmd(at, disp, Command::Reopen, Some("来电人表示问题未解决，重新派单办理".into()), Status::Dispatched);
            self.due = Some(self.w.due(self.class, self.t));
            self.round(true);
            self.finish(true);
            return;
        }
        let at = self.t + self.d.minutes(1.0, 20.0);
        let op = actor("cb", Role::Operator, self.d, 20);
        self.cmd(at, op, Command::Close, None, Status::Closed);
        if self.unhappy && self.d.chance(0.12) {
            self.appeal();
        }
    }

    /// 考核申诉 after an unhappy callback: the unit asks that the case leave its assessment; a
    /// supervisor rules within days, excluding (核减) a little under half.
    fn appeal(&mut self) {
        let Some(unit) = self.assignee.clone() else { return };
        let (reason, grounds) = *self.d.pick(&[
            (AppealReason::Unreasonable, "诉求人要求超出政策规定范围，已依法解释"),
            (AppealReason::Repeated, "同一诉求人就同一事项重复来电，前案已办结"),
            (AppealReason::NotOurs, "该事项属产权单位职责，非本单位职责范围"),
        ]);
        let later = self.t + self.d.minutes(120.0, 4320.0);
        let at = self.unit_time(later);
        let h = self.handler(&unit);
        self.cmd(at, h, Command::Appeal { reason }, Some(grounds.into()), Status::Closed);
        let later = self.t + self.d.minutes(600.0, 7200.0);
        let at = self.w.within(self.d, later, 9, 18);
        let sup = actor("sup", Role::Supervisor, self.d, 4);
        let excluded = self.d.chance(0.45);
        let note = if excluded {
            "经核实，申诉理由成立，予以核减"
        } else {
            "经核实，申诉理由不成立，不予核减"
        };
        self.cmd(at, sup, Command::RuleAppeal { excluded }, Some(note.into()), Status::Closed);
    }

    /// 核查 by the inspector; one in eight fails first and the unit works again.
    fn verification(&mut self) {
        let inspector = match &self.inspector {
            Some(i) => i.clone(),
            None => intake::inspector(self.d, self.spot),
        };
        let at = self.t + self.d.minutes(60.0, 1560.0);
        let at = self.w.within(self.d, at, 8, 18);
        let passed = self.d.chance(0.88);
        let note = texts::verification(self.d, passed);
        let after = if passed { Status::Closed } else { Status::InProgress };
        self.cmd(at, inspector.clone(), Command::Verify { passed }, Some(note), after);
        if passed {
            return;
        }
        let Some(unit) = self.assignee.clone() else { return };
        let h = self.handler(&unit);
        let at = self.t + self.d.minutes(120.0, 2880.0);
        let at = self.unit_time(at);
        let note = texts::reply(self.d, self.code);
        self.cmd(at, h, Command::Reply, Some(note), Status::Verifying);
        let at = self.t + self.d.minutes(60.0, 1440.0);
        let at = self.w.within(self.d, at, 8, 18);
        let note = texts::verification(self.d, true);
        self.cmd(at, inspector, Command::Verify { passed: true }, Some(note), Status::Closed);
    }

    /// 回访: what the citizen says. Returns true when the case should be reopened.
    fn callback(&mut self, solve_factor: f64, may_reopen: bool) -> bool {
        let at = self.t + self.d.skewed(1080.0, 0.7, 120.0, 4320.0);
        let at = self.w.within(self.d, at, 9, 20);
        let who = if self.channel == Channel::App && self.d.chance(0.3) {
            Actor { user: "portal-app".into(), role: Role::Citizen, unit: None }
        } else {
            actor("cb", Role::Operator, self.d, 20)
        };
        let reached = self.d.chance(0.94);
        let q = self.assignee.as_deref().map(|u| self.w.units.at(u, self.t, self.w.tz));
        let base = q.map_or(0.92, |q| q.solve);
        let late = self.due.is_some_and(|d| self.t >= d);
        let solved = reached && self.d.chance(base * solve_factor * if late { 0.85 } else { 1.0 });
        let satisfaction = match (reached, solved, self.d.unit()) {
            (false, ..) => Satisfaction::Basic,
            (true, true, x) if x < 0.86 => Satisfaction::Satisfied,
            (true, true, x) if x < 0.98 => Satisfaction::Basic,
            (true, false, x) if x < 0.08 => Satisfaction::Satisfied,
            (true, false, x) if x < 0.45 => Satisfaction::Basic,
            _ => Satisfaction::Unsatisfied,
        };
        let responded = reached && (self.assignee.is_none() || self.contacted_in_time);
        let command = Command::Callback { reached, responded, solved, satisfaction };
        self.cmd(at, who, command, None, Status::CalledBack);
        let unhappy = reached && (!solved || satisfaction == Satisfaction::Unsatisfied);
        self.unhappy = unhappy;
        may_reopen && unhappy && self.assignee.is_some() && self.d.chance(0.35)
    }
}
