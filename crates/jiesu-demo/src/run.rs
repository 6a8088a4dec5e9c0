//! Taking the planned cases through the desk's rules in memory and writing them in bulk.
//!
//! Each case's whole life is decided by the desk itself, without the store: [`Desk::prepare`]
//! settles its intake (category, place, route, deadline) and [`Desk::steps_for`] each planned
//! command, applied with `workflow::step`, exactly as `receive` and `act` would. The deadline timer
//! is simulated too: it sweeps at 09:00 local every day (`Desk::sweep_overdue` in a server), and
//! [`jiesu_core::overdue_notice`] decides at each sweep whether the case gets its 督办, the sweep's
//! own rule. A case's events therefore are those the live path would write: `jiesu check` replays
//! them. Cases are written in order of receipt, many per transaction (the store's shared
//! [`BulkWriter`], [`jiesu_store::Store::create_cases`]), so
//! ids are the same on every run; a duplicate is written after its master has its id.

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use jiesu_core::{Command, Desk, Prepared};
use jiesu_domain::draft::NewCase;
use jiesu_domain::model::Status;
use jiesu_domain::workflow::{self, CaseState, Event};
use jiesu_store::{BulkWriter, CaseRecord};

use crate::DemoError;
use crate::lifecycle::{Do, Plan};

/// Cases per transaction.
const CHUNK: usize = 2_000;

/// What the run wrote.
#[derive(Debug, Default)]
pub(crate) struct Written {
    /// Events written (receipts and dispatches at intake count one each).
    pub events: usize,
}

/// The daily sweeps of the deadline timer: 09:00:00.5 local on every day from the one before
/// the first case (planned steps fall on whole seconds, so none coincides with a sweep).
struct Sweeps {
    first: DateTime<Utc>,
    end: DateTime<Utc>,
}

impl Sweeps {
    fn new(first_case: DateTime<Utc>, end: DateTime<Utc>, tz: Tz) -> Sweeps {
        let day = first_case.with_timezone(&tz).date_naive().pred_opt().unwrap_or(first_case.date_naive());
        let nine = NaiveTime::from_hms_milli_opt(9, 0, 0, 500).unwrap_or_default();
        let b0 = tz
            .from_local_datetime(&day.and_time(nine))
            .single()
            .map_or(first_case - Duration::days(1), |t| t.with_timezone(&Utc));
        Sweeps { first: b0 + Duration::days(1), end }
    }

    /// The first sweep at or after `t`, if it is not past the end.
    fn at_or_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let days = ((t - self.first).num_milliseconds().max(0) + 86_399_999) / 86_400_000;
        let s = self.first + Duration::days(days);
        (s <= self.end).then_some(s)
    }
}

/// A case decided in memory, waiting for its transaction.
struct Decided {
    plan: usize,
    case: NewCase,
    events: Vec<Event>,
    state: CaseState,
}

/// Runs `plans` (sorted by receipt) through `desk`'s rules, never past `end`.
pub(crate) async fn run(
    desk: &Desk,
    plans: Vec<Plan>,
    end: DateTime<Utc>,
    tz: Tz,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Written, DemoError> {
    let total = plans.len();
    let mut written = Written::default();
    let Some(first) = plans.first().map(|p| p.at) else { return Ok(written) };
    let sweeps = Sweeps::new(first, end, tz);
    // Masters of duplicates: when each is open (received, and not closed or merged at a time).
    let mut is_master = vec![false; total];
    for p in &plans {
        for s in &p.steps {
            if let Do::MergeInto(m) = s.what {
                is_master[m] = true;
            }
        }
    }
    let mut timelines: std::collections::HashMap<usize, Vec<(DateTime<Utc>, Status)>> = Default::default();
    let mut ids: Vec<i64> = vec![0; total];
    let mut pending: Vec<Decided> = Vec::with_capacity(CHUNK);
    let mut writer = BulkWriter::new(desk.store().clone(), None);

    let mut day = 0;
    for (i, plan) in plans.into_iter().enumerate() {
        // Progress once per simulated day.
        let today = (plan.at - first).num_days();
        while day < today {
            day += 1;
            progress(i, total);
        }
        let masters: Vec<usize> =
            plan.steps.iter().filter_map(|s| if let Do::MergeInto(m) = s.what { Some(m) } else { None }).collect();
        if masters.iter().any(|&m| ids[m] == 0) {
            flush(&mut writer, &mut pending, &mut written).await?;
            record(writer.finish().await?, &mut ids);
        }
        let refused = |action: &'static str, at, source| DemoError::Action { case: i, action, at, source };
        let Prepared { case, events, state } =
            desk.prepare(plan.actor, plan.case, plan.at, plan.auto).map_err(|e| refused("receive", plan.at, e))?;
        let mut rec = CaseRecord { id: 0, case, state };
        let mut events = events;
        for step in plan.steps {
            notices(&sweeps, &mut rec.state, &mut events, Some(step.at))
                .map_err(|e| refused("supervise", step.at, e))?;
            let at = step.at.max(rec.state.updated_at);
            let command = match step.what {
                Do::Act(c) => c,
                Do::MergeInto(m) => {
                    let open = timelines
                        .get(&m)
                        .and_then(|t| t.iter().rev().find(|(when, _)| *when <= at))
                        .is_some_and(|(_, status)| status.is_open());
                    if !open {
                        let e = jiesu_core::CoreError::Invalid(vec![jiesu_domain::draft::FieldError {
                            field: "into".into(),
                            message: format!("master case {} is not open at {at}", ids[m]),
                        }]);
                        return Err(refused("merge", at, e));
                    }
                    Command::Merge { into: ids[m] }
                }
            };
            let code = command.code();
            let steps = desk.steps_for(&rec, &step.actor, &command, step.note, at).map_err(|e| refused(code, at, e))?;
            for (actor, action, note) in steps {
                let (event, next) = workflow::step(Some(&rec.state), at, actor, action, note)
                    .map_err(|e| refused(code, at, e.into()))?;
                events.push(event);
                rec.state = next;
            }
        }
        notices(&sweeps, &mut rec.state, &mut events, None).map_err(|e| refused("supervise", end, e))?;
        if is_master[i] {
            timelines.insert(i, events.iter().map(|e| (e.at, e.to)).collect());
        }
        // The row's category follows the state (改分类), as `Desk::act` keeps it.
        rec.case.category.clone_from(&rec.state.category);
        pending.push(Decided { plan: i, case: rec.case, events, state: rec.state });
        if pending.len() >= CHUNK {
            flush(&mut writer, &mut pending, &mut written).await?;
            record(writer.take_done(), &mut ids);
        }
    }
    flush(&mut writer, &mut pending, &mut written).await?;
    record(writer.finish().await?, &mut ids);
    progress(total, total);
    Ok(written)
}

/// The deadline timer's notices on a case in `state` from its latest event until `until` (or the
/// end): at each daily sweep the sweep's own rule decides.
fn notices(
    sweeps: &Sweeps,
    state: &mut CaseState,
    events: &mut Vec<Event>,
    until: Option<DateTime<Utc>>,
) -> Result<(), jiesu_core::CoreError> {
    loop {
        // Nothing is overdue before its deadline, and a sweep sees only what came before it.
        let Some(due) = state.due else { return Ok(()) };
        let Some(sweep) = sweeps.at_or_after(due.max(state.updated_at)) else { return Ok(()) };
        if until.is_some_and(|u| sweep >= u) {
            return Ok(());
        }
        let Some((actor, action, note)) = jiesu_core::overdue_notice(state, sweep) else { return Ok(()) };
        let (event, next) = workflow::step(Some(state), sweep, actor, action, note)?;
        events.push(event);
        *state = next;
    }
}

/// Hands the decided cases to the shared bulk writer (one transaction in flight while the next
/// chunk is decided), counting their events.
async fn flush(
    writer: &mut BulkWriter<usize>,
    pending: &mut Vec<Decided>,
    written: &mut Written,
) -> Result<(), DemoError> {
    let batch: Vec<_> = pending.drain(..).map(|d| (d.plan, (d.case, d.events, d.state), None)).collect();
    written.events += batch.iter().map(|b| b.1.1.len()).sum::<usize>();
    Ok(writer.write(batch).await?)
}

/// Records the ids of the finished transactions.
fn record(done: Vec<(usize, i64)>, ids: &mut [i64]) {
    for (plan, id) in done {
        ids[plan] = id;
    }
}
