//! Taking the planned cases through the real desk, fast and deterministically.
//!
//! Simulated time advances in daily windows that end at 09:00 local time, when the deadline timer
//! sweeps (`Desk::sweep_overdue`, raising 督办 on cases past their deadline). In each window:
//!
//! 1. the cases received in it are written in order of receipt, one after another, so that case ids
//!    are the same on every run;
//! 2. every case's steps that fall in the window run as one task per case (a case's own steps in
//!    order), with a bounded number of tasks in flight;
//! 3. the sweep runs at the window's end, when every step before it has been taken.
//!
//! So the store sees each case's events in time order, every sweep sees exactly the events before
//! its instant, and the contents of the store depend on the seed and the end of the year alone.

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use jiesu_core::{Command, CoreError, Desk};
use jiesu_domain::workflow::Actor;
use tokio::task::JoinSet;

use crate::DemoError;
use crate::lifecycle::{Do, Plan, Step};

/// Cases worked on at the same time.
const IN_FLIGHT: usize = 8;

/// What the run wrote.
#[derive(Debug, Default)]
pub(crate) struct Written {
    /// Events written (receipts and dispatches at intake count one each).
    pub events: usize,
}

/// One case's steps inside one window.
struct Chunk {
    plan: usize,
    steps: Vec<Step>,
}

/// Runs `plans` (sorted by receipt) through `desk`, never past `end`.
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
    // Window k is [b0 + k days, b0 + (k+1) days); sweeps at 09:00:00.5 local (planned steps fall on whole seconds).
    let first_local = first.with_timezone(&tz).date_naive().pred_opt().unwrap_or(first.date_naive());
    let nine = NaiveTime::from_hms_milli_opt(9, 0, 0, 500).unwrap_or_default();
    let b0 = tz
        .from_local_datetime(&first_local.and_time(nine))
        .single()
        .map_or(first - Duration::days(1), |t| t.with_timezone(&Utc));
    let window = |t: DateTime<Utc>| ((t - b0).num_milliseconds().max(0) / 86_400_000) as usize;
    let windows = window(end) + 1;

    let mut receipts: Vec<Vec<usize>> = vec![Vec::new(); windows];
    let mut chunks: Vec<Vec<Chunk>> = (0..windows).map(|_| Vec::new()).collect();
    let mut intake = Vec::with_capacity(plans.len());
    for (i, plan) in plans.into_iter().enumerate() {
        receipts[window(plan.at)].push(i);
        let mut current: Option<(usize, Vec<Step>)> = None;
        for step in plan.steps {
            let w = window(step.at);
            match &mut current {
                Some((cw, steps)) if *cw == w => steps.push(step),
                _ => {
                    if let Some((cw, steps)) = current.take() {
                        chunks[cw].push(Chunk { plan: i, steps });
                    }
                    current = Some((w, vec![step]));
                }
            }
        }
        if let Some((cw, steps)) = current {
            chunks[cw].push(Chunk { plan: i, steps });
        }
        intake.push(Some((plan.at, plan.actor, plan.case, plan.auto)));
    }

    let mut ids: Vec<i64> = vec![0; total];
    let mut received = 0;
    for k in 0..windows {
        for &i in &receipts[k] {
            let Some((at, actor, case, auto)) = intake[i].take() else { continue };
            let rec = desk.receive(actor, case, at, auto).await.map_err(|e| DemoError::Action {
                case: i,
                action: "receive",
                at,
                source: e,
            })?;
            ids[i] = rec.id;
            written.events += if auto { 2 } else { 1 };
            received += 1;
        }
        let mut set: JoinSet<Result<usize, DemoError>> = JoinSet::new();
        for chunk in std::mem::take(&mut chunks[k]) {
            while set.len() >= IN_FLIGHT {
                written.events += joined(set.join_next().await)?;
            }
            let id = ids[chunk.plan];
            let steps: Vec<(DateTime<Utc>, Actor, Command, Option<String>)> = chunk
                .steps
                .into_iter()
                .map(|s| {
                    let command = match s.what {
                        Do::Act(c) => c,
                        Do::MergeInto(master) => Command::Merge { into: ids[master] },
                    };
                    (s.at, s.actor, command, s.note)
                })
                .collect();
            let desk = desk.clone();
            let plan = chunk.plan;
            set.spawn(async move {
                let mut n = 0;
                for (at, actor, command, note) in steps {
                    let action = command.code();
                    // A dispatch from the manual queue also reclassifies: 改分类 + 派单.
                    n += 1 + usize::from(matches!(command, Command::Dispatch { category: Some(_), .. }));
                    desk.act(id, actor, command, note, at).await.map_err(|e: CoreError| DemoError::Action {
                        case: plan,
                        action,
                        at,
                        source: e,
                    })?;
                }
                Ok(n)
            });
        }
        while let Some(r) = set.join_next().await {
            written.events += joined(Some(r))?;
        }
        let sweep = b0 + Duration::days(k as i64 + 1);
        if sweep <= end {
            written.events += desk.sweep_overdue(sweep).await?;
        }
        progress(received, total);
        tracing::debug!(window = k, received, events = written.events, "demo day done");
    }
    Ok(written)
}

fn joined(r: Option<Result<Result<usize, DemoError>, tokio::task::JoinError>>) -> Result<usize, DemoError> {
    match r {
        None => Ok(0),
        Some(Ok(r)) => r,
        Some(Err(e)) => Err(DemoError::Task(e.to_string())),
    }
}
