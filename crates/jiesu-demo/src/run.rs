//! The life of one demo case: a script of real desk actions, cut off at the end of the year.

use chrono::{DateTime, Datelike, Duration, Utc};
use jiesu_core::{Command, CoreError, Desk};
use jiesu_domain::catalog::Catalog;
use jiesu_domain::model::{CaseKind, Channel, Role, Satisfaction, Status, UnitKind};
use jiesu_domain::workflow::Actor;
use jiesu_store::CaseRecord;
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

use crate::Plan;
use crate::text;

/// What one case (and its merged duplicate, if any) left behind.
pub(crate) struct Outcome {
    pub events: usize,
    pub statuses: Vec<Status>,
}

fn actor(user: &str, role: Role, unit: Option<&str>) -> Actor {
    Actor { user: user.to_string(), role, unit: unit.map(str::to_string) }
}

fn handler(unit: &str) -> Actor {
    actor(&format!("{unit}-承办人"), Role::UnitHandler, Some(unit))
}

/// How well a unit works in a month: 0.70–0.98, stable per unit with a monthly drift.
fn quality(unit: &str, month: u32) -> f64 {
    let h = unit.bytes().fold(1469598103934665603u64, |h, b| (h ^ u64::from(b)).wrapping_mul(1099511628211));
    let base = 0.74 + (h % 1000) as f64 / 1000.0 * 0.20;
    let phase = (h >> 20) % 12;
    let drift = 0.04 * (((month as u64 + phase) as f64) * std::f64::consts::PI / 6.0).sin();
    (base + drift).clamp(0.6, 0.98)
}

/// How long after the previous step the next one comes.
enum Delay {
    /// Uniformly between the two numbers of hours.
    Hours(f64, f64),
    /// Exactly this long.
    Exact(Duration),
}

/// A case being driven through the loop.
struct Run<'a> {
    desk: &'a Desk,
    rng: Xoshiro256PlusPlus,
    rec: CaseRecord,
    t: DateTime<Utc>,
    end: DateTime<Utc>,
    events: usize,
}

impl Run<'_> {
    /// Takes `command` after `after`; false when that is past the end of the year (the case
    /// stays where it is).
    async fn act(&mut self, after: Delay, who: Actor, command: Command, note: Option<String>) -> Result<bool, CoreError> {
        let after = match after {
            Delay::Hours(lo, hi) => self.hours(lo, hi),
            Delay::Exact(d) => d,
        };
        let at = self.t + after.max(Duration::minutes(1));
        if at > self.end {
            return Ok(false);
        }
        self.rec = self.desk.act(self.rec.id, who, command, note, at).await?;
        self.t = at;
        self.events += 1;
        Ok(true)
    }

    fn hours(&mut self, lo: f64, hi: f64) -> Duration {
        Duration::seconds((self.rng.random_range(lo..hi) * 3600.0) as i64)
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p.clamp(0.0, 1.0))
    }

    /// Time left until the deadline, as a duration (at least an hour).
    fn span(&self) -> Duration {
        self.rec.state.due.map_or(Duration::days(7), |d| d - self.t).max(Duration::hours(1))
    }

    fn frac(&mut self, lo: f64, hi: f64) -> Duration {
        let span = self.span().num_seconds() as f64;
        Duration::seconds((span * self.rng.random_range(lo..hi)) as i64)
    }

    fn assignee(&self) -> String {
        self.rec.state.assignee.clone().unwrap_or_default()
    }
}

fn other_unit(catalog: &Catalog, current: &str, street: Option<&str>, pick: usize) -> String {
    let kind = catalog.unit(current).map(|u| u.kind);
    if kind == Some(UnitKind::Street) {
        let depts: Vec<_> = catalog.units().iter().filter(|u| u.kind == UnitKind::Department).collect();
        return depts[pick % depts.len()].code.clone();
    }
    street
        .and_then(|s| catalog.street_unit(s))
        .filter(|u| u.code != current)
        .map_or_else(|| catalog.fallback_unit().code.clone(), |u| u.code.clone())
}

/// Drives one planned case from 受理 as far as the year allows.
pub(crate) async fn run_case(desk: &Desk, plan: Plan, end: DateTime<Utc>) -> Result<Outcome, CoreError> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(plan.dice);
    let operator = actor("接线员-01", Role::Operator, None);
    let dispatcher = actor("派单员-01", Role::Dispatcher, None);
    let supervisor = actor("督办员-01", Role::Supervisor, None);
    let inspector = actor("网格员-01", Role::GridInspector, None);
    let receiver = match plan.case.channel {
        Channel::Hotline | Channel::Other => operator.clone(),
        Channel::Grid => inspector.clone(),
        Channel::Sensor => Actor::system("火眼感知"),
        Channel::Web | Channel::App | Channel::Open311 => actor("市民", Role::Citizen, None),
    };
    let direct = plan.case.kind == CaseKind::Consult && plan.case.channel == Channel::Hotline && rng.random_bool(0.6);
    let duplicate = plan.duplicate;
    let street = plan.case.place.street.clone();
    let category = desk.catalog().category(&plan.case.category).expect("planned from the catalog").clone();
    // Most cases are routed at once; some wait in the dispatcher's queue (派单员 decides).
    let manual = !direct && rng.random_bool(0.12);
    let rec = desk.receive(receiver, plan.case.clone(), plan.at, !(direct || manual || duplicate)).await?;
    let events = rec.state.seq as usize;
    let mut run = Run { desk, rng, t: plan.at, end, events, rec };
    let mut statuses = Vec::new();

    if duplicate {
        // The same matter reported again shortly after, merged into this case by the operator.
        let mut dup = plan.case.clone();
        dup.channel = Channel::Hotline;
        dup.title = dup.title.map(|t| format!("{t}（重复来电）"));
        let at = (run.t + run.hours(0.2, 2.0)).min(end);
        let d = desk.receive(operator.clone(), dup, at, false).await?;
        run.events += 1;
        let merged = desk.act(d.id, operator.clone(), Command::Merge { into: run.rec.id }, Some("同一事项重复反映".into()), at).await?;
        run.events += 1;
        statuses.push(merged.state.status);
    }

    if direct && !duplicate {
        if run.act(Delay::Hours(0.05, 0.3), operator.clone(), Command::Reply, Some("接线员已直接解答政策咨询。".into())).await? {
            callback_and_close(&mut run, &operator, 0.95).await?;
        }
        statuses.push(run.rec.state.status);
        return Ok(Outcome { events: run.events, statuses });
    }

    if (manual || duplicate) && !run.act(Delay::Hours(0.2, 8.0), dispatcher.clone(), Command::Dispatch { unit: None }, None).await? {
        statuses.push(run.rec.state.status);
        return Ok(Outcome { events: run.events, statuses });
    }

    for round in 0..2 {
        let month = run.t.month();
        let mut unit = run.assignee();
        let mut q = quality(&unit, month);
        // 退单: the unit says it is not theirs.
        if round == 0 && run.chance(0.05) {
            if !run.act(Delay::Hours(0.5, 3.0), handler(&unit), Command::RequestReturn, Some("经核实不属于本单位职责范围".into())).await? {
                break;
            }
            if run.chance(0.6) {
                let alt = other_unit(desk.catalog(), &unit, street.as_deref(), run.rng.random_range(0..100));
                if !run.act(Delay::Hours(0.5, 3.0), dispatcher.clone(), Command::ApproveReturn, None).await?
                    || !run.act(Delay::Hours(0.1, 1.0), dispatcher.clone(), Command::Dispatch { unit: Some(alt) }, None).await?
                {
                    break;
                }
                unit = run.assignee();
                q = quality(&unit, month);
            } else if !run.act(Delay::Hours(0.5, 3.0), dispatcher.clone(), Command::RefuseReturn, Some("属于本单位职责，请按期办理".into())).await? {
                break;
            }
        }
        if run.rec.state.status == Status::Dispatched {
            let d = run.frac(0.02, 0.12);
            if !run.act(Delay::Exact(d), handler(&unit), Command::Accept, None).await? {
                break;
            }
        }
        let contacted = run.chance(q + 0.04);
        let d = run.frac(0.05, 0.2);
        if !run.act(Delay::Exact(d), handler(&unit), Command::Handle { contacted }, None).await? {
            break;
        }
        // 吹哨报到: a street summons a department.
        let is_street = desk.catalog().unit(&unit).is_some_and(|u| u.kind == UnitKind::Street);
        if round == 0 && is_street && run.chance(0.04) {
            let dept = other_unit(desk.catalog(), &unit, None, run.rng.random_range(0..100));
            if !run.act(Delay::Hours(0.5, 4.0), handler(&unit), Command::Whistle { units: vec![dept.clone()], checkin_hours: None }, Some("需多部门联合处置".into())).await? {
                break;
            }
            let late = run.chance(0.15);
            let d = if late { run.hours(2.5, 6.0) } else { run.hours(0.2, 1.5) };
            if !run.act(Delay::Exact(d), handler(&dept), Command::CheckIn, None).await? {
                break;
            }
        }
        // 延期.
        if round == 0 && run.chance(0.03) && run.span() > Duration::days(2) {
            if !run.act(Delay::Hours(1.0, 8.0), handler(&unit), Command::RequestExtension { until: None, working_days: Some(5) }, Some("涉及多个产权单位，需协调".into())).await? {
                break;
            }
            let approve = run.chance(0.75);
            let cmd = if approve { Command::ApproveExtension } else { Command::RefuseExtension };
            if !run.act(Delay::Hours(1.0, 6.0), dispatcher.clone(), cmd, None).await? {
                break;
            }
        }
        // 答复: on time with probability q, else late after a supervision notice.
        let reply = text::reply(&mut run.rng, &category);
        let on_time = run.chance(q);
        let wait = if on_time {
            run.frac(0.1, 0.85)
        } else {
            let overdue = run.span() + run.hours(0.5, 2.0);
            if !run.act(Delay::Exact(overdue), supervisor.clone(), Command::Supervise, Some("已超期，请立即办理".into())).await? {
                break;
            }
            // Most late replies follow the notice within days; some cases stay stuck for weeks.
            if run.chance(0.3) { run.hours(72.0, 900.0) } else { run.hours(2.0, 60.0) }
        };
        if !run.act(Delay::Exact(wait), handler(&unit), Command::Reply, Some(reply)).await? {
            break;
        }
        if run.rec.state.verify {
            // 核查 by the inspector; a failed check sends the case back once.
            let passed = run.chance(0.9);
            if !run.act(Delay::Hours(2.0, 30.0), inspector.clone(), Command::Verify { passed }, Some(if passed { "现场核查已整改" } else { "现场核查未整改到位" }.into())).await? {
                break;
            }
            if !passed {
                let reply = text::reply(&mut run.rng, &category);
                if !run.act(Delay::Hours(4.0, 48.0), handler(&unit), Command::Reply, Some(reply)).await?
                    || !run.act(Delay::Hours(2.0, 24.0), inspector.clone(), Command::Verify { passed: true }, Some("复核已整改".into())).await?
                {
                    break;
                }
            }
            break;
        }
        let reopen = callback(&mut run, &operator, q).await?;
        match reopen {
            None => break,
            Some(true) if round == 0 => {
                if !run.act(Delay::Hours(1.0, 6.0), dispatcher.clone(), Command::Reopen, Some("诉求人不满意，重办".into())).await? {
                    break;
                }
            }
            Some(_) => {
                run.act(Delay::Hours(1.0, 24.0), operator.clone(), Command::Close, None).await?;
                break;
            }
        }
    }
    statuses.push(run.rec.state.status);
    Ok(Outcome { events: run.events, statuses })
}

/// 回访; returns None when past the end of the year, else whether the case should be reopened.
async fn callback(run: &mut Run<'_>, operator: &Actor, q: f64) -> Result<Option<bool>, CoreError> {
    let reached = run.chance(0.93);
    let responded = run.rec.state.contacted_at.is_some() || run.chance(0.3);
    let solved = run.chance(q);
    let satisfaction = match (solved, run.rng.random::<f64>()) {
        (true, x) if x < 0.82 => Satisfaction::Satisfied,
        (true, _) => Satisfaction::Basic,
        (false, x) if x < 0.65 => Satisfaction::Unsatisfied,
        (false, _) => Satisfaction::Basic,
    };
    let cmd = Command::Callback { reached, responded, solved, satisfaction };
    if !run.act(Delay::Hours(12.0, 72.0), operator.clone(), cmd, None).await? {
        return Ok(None);
    }
    let unhappy = reached && (!solved || satisfaction == Satisfaction::Unsatisfied);
    Ok(Some(unhappy && run.chance(0.5)))
}

async fn callback_and_close(run: &mut Run<'_>, operator: &Actor, q: f64) -> Result<(), CoreError> {
    if callback(run, operator, q).await?.is_some() {
        run.act(Delay::Hours(1.0, 24.0), operator.clone(), Command::Close, None).await?;
    }
    Ok(())
}
