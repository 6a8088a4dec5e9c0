//! Demo data: a realistic year of Beijing Dongcheng cases, so that every view of jiesu has something
//! true to show.
//!
//! [`generate`] plans a year of cases ending at [`DemoOptions::end`] and takes every one of them
//! through the real [`Desk`]: each receipt and each action is a validated event, deadlines come from
//! the desk's calendar, overdue supervision from its own sweep. Nothing is written behind the desk's
//! back, so `jiesu check` passes on the result. The store must be empty ([`DemoError::NotEmpty`]
//! otherwise), and the calendar must cover the year and the deadlines after it ([`DemoError::Calendar`]).
//!
//! What the year looks like (everything from the catalog; texts from templates):
//!
//! - **Volume**: about 20,000 cases (scaled by [`DemoOptions::cases`]), busier on working days and
//!   Mondays, quieter on weekends and holidays (the Spring Festival most), at call-centre hours (peaks
//!   9–11 and 14–17); module `volume`.
//! - **Seasons**: heating complaints from November to March, peaking in the first cold weeks; rain,
//!   flooding, drainage and fallen trees in the rainy season with a few storm days; noise, oil fume,
//!   pests and barbecues in summer; catkins in spring; construction noise in spring and autumn; snow
//!   days in winter; property management, parking, street vending and sanitation all year.
//! - **Channels**: about 70% by the 12345 hotline, 15% by web and app, 3% by Open311; about 12% found by grid
//!   inspectors on patrol (verified, 核查, before closing); a few sensor alarms (fire "火眼" in the
//!   hutongs, oil-fume monitors, manhole covers, building tilt, waterlogging).
//! - **Outcomes** (module `lifecycle`): most cases close within the deadline; some
//!   units are systematically slower and every unit's month differs (module `units`); about
//!   5% returns, 3% extensions, 4% reopenings, 2% duplicates merged into an earlier open case of the
//!   same place, some joint handling (吹哨报到); overdue cases get the deadline timer's 督办.
//! - **The end of the year**: cases of the last two weeks stop at various stages (waiting for
//!   dispatch, in units' inboxes, being handled, waiting for the callback), and some are overdue.
//!
//! The same seed and end give the same store contents (ids included); module `run` tells how the
//! work runs in parallel without losing that. Texts and places: modules `texts`, `places` (synthetic
//! names, fake phone numbers, approximate coordinates) and `profiles` (one per catalog category).

mod dice;
mod intake;
mod lifecycle;
mod places;
mod profiles;
mod run;
mod texts;
mod units;
mod volume;

use std::collections::BTreeMap;
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, Timelike, Utc};
use jiesu_core::{CoreError, Desk};
use jiesu_domain::calendar::CalendarError;
use jiesu_domain::deadline::Span;
use jiesu_domain::model::{DeadlineClass, Status};
use jiesu_store::{CaseFilter, Scope, StoreError};
use serde::{Deserialize, Serialize};

use crate::dice::Dice;
use crate::lifecycle::{Do, Plan, World};

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoOptions {
    /// Number of cases in the year (default 20,000).
    pub cases: usize,
    /// Seed of every random choice (default 2026).
    pub seed: u64,
    /// The year ends here: cases are received over the 365 days before it, and no event is later.
    /// The default is now, to the second.
    pub end: DateTime<Utc>,
}

impl Default for DemoOptions {
    fn default() -> Self {
        let now = Utc::now();
        DemoOptions { cases: 20_000, seed: 2026, end: now.with_nanosecond(0).unwrap_or(now) }
    }
}

/// What [`generate`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DemoReport {
    /// Cases written.
    pub cases: usize,
    /// Events written (including the deadline timer's supervision notices).
    pub events: usize,
    /// Cases per status code (`received`, `closed`, …) at the end.
    pub by_status: BTreeMap<String, usize>,
    /// Wall-clock time taken.
    pub elapsed: StdDuration,
}

/// Why demo data could not be generated.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The store already has cases; demo data goes into an empty store only.
    #[error("the store already holds {0} cases: demo data is only loaded into an empty store")]
    NotEmpty(u64),
    /// The calendar cannot count working days over the demo year and its deadlines.
    #[error("cannot plan a demo year ending {end}: {source}")]
    Calendar {
        /// The requested end.
        end: DateTime<Utc>,
        /// The calendar's complaint.
        source: CalendarError,
    },
    /// The desk refused a planned action (a bug in the demo's planning).
    #[error("demo case #{case}: {action} at {at} was refused: {source}")]
    Action {
        /// Index of the case in the demo's plan (in order of receipt).
        case: usize,
        /// The action's code.
        action: &'static str,
        /// Its time.
        at: DateTime<Utc>,
        /// Why.
        source: CoreError,
    },
    /// The desk failed.
    #[error(transparent)]
    Core(#[from] CoreError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A worker task panicked or was cancelled.
    #[error("demo worker failed: {0}")]
    Task(String),
}

/// Stream numbers of independent random draws.
const VOLUME: u64 = 1;
const CASES: u64 = 2;
const DUPS: u64 = 3;

/// Share of cases that are duplicates of an earlier case.
const DUP_SHARE: f64 = 0.02;

/// Fills the (empty) store behind `desk` with a year of cases; calls `progress(done, total)` as
/// cases are received (once per simulated day).
pub async fn generate(
    desk: &Desk,
    opts: &DemoOptions,
    mut progress: impl FnMut(usize, usize),
) -> Result<DemoReport, DemoError> {
    let started = Instant::now();
    let existing = desk.store().count(&Scope::All, &CaseFilter::default()).await?;
    if existing > 0 {
        return Err(DemoError::NotEmpty(existing));
    }
    let tz = desk.config().tz;
    let end = opts.end;
    check_calendar(desk, end)?;
    let plans = plan_year(desk, opts);
    let cases = plans.len();
    tracing::info!(cases, seed = opts.seed, %end, "demo: planned, writing through the desk");
    let written = run::run(desk, plans, end, tz, &mut progress).await?;
    // The search index catches up now rather than in the first minutes of the server.
    desk.store().index_pending().await?;
    let by_status =
        desk.store().count_by_status(&Scope::All).await?.into_iter().map(|(s, n)| (s, n as usize)).collect();
    let report = DemoReport { cases, events: written.events, by_status, elapsed: started.elapsed() };
    tracing::info!(cases, events = report.events, secs = report.elapsed.as_secs_f64(), "demo: done");
    Ok(report)
}

/// The year and the deadlines of its last cases must lie in years the calendar covers.
/// (Extensions that would reach past the calendar's data are simply not planned.)
fn check_calendar(desk: &Desk, end: DateTime<Utc>) -> Result<(), DemoError> {
    let tz = desk.config().tz;
    let cal = desk.calendar();
    let first = (end - Duration::days(366)).with_timezone(&tz).date_naive();
    let last = end.with_timezone(&tz).date_naive();
    let longest = DeadlineClass::ALL
        .iter()
        .filter_map(|c| match desk.config().policy.span(*c) {
            Span::WorkingDays(n) => Some(n),
            _ => None,
        })
        .max()
        .unwrap_or(0);
    cal.is_working_day(first)
        .and_then(|_| cal.add_working_days(last, longest + 1))
        .map(|_| ())
        .map_err(|source| DemoError::Calendar { end, source })
}

/// Plans every case of the year, sorted by receipt, with merges pointing at earlier cases.
fn plan_year(desk: &Desk, opts: &DemoOptions) -> Vec<Plan> {
    let catalog = desk.catalog();
    let tz = desk.config().tz;
    let units = units::Units::new(opts.seed, catalog);
    let world = World { catalog, calendar: desk.calendar(), policy: &desk.config().policy, tz, units: &units };
    let end = opts.end;

    // When and what: day, category, channel, instant.
    let mut d = Dice::derive(opts.seed, VOLUME, 0);
    let year = volume::Year::new(&mut d, end, tz, desk.calendar());
    let dups = ((opts.cases as f64) * DUP_SHARE).round() as usize;
    let primaries = opts.cases - dups.min(opts.cases);
    let mut arrivals = Vec::with_capacity(primaries);
    while arrivals.len() < primaries {
        let (day, profile) = year.draw(&mut d);
        let channel = intake::channel(&mut d, &profiles::PROFILES[profile], year.working(day));
        if let Some(at) = year.instant(&mut d, day, intake::hours(channel)) {
            arrivals.push((at, profile, channel));
        }
    }
    arrivals.sort_by_key(|a| a.0);

    // Each case's life.
    let mut plans: Vec<Plan> = arrivals
        .into_iter()
        .enumerate()
        .map(|(i, (at, profile, channel))| {
            let mut d = Dice::derive(opts.seed, CASES, i as u64);
            let spot = places::spot(&mut d, catalog);
            lifecycle::plan(&world, &mut d, i, at, profile, channel, spot)
        })
        .collect();
    stall_the_last_weeks(&mut plans, end, &mut Dice::derive(opts.seed, CASES, u64::MAX));
    for p in &mut plans {
        p.steps.retain(|s| s.at <= end);
    }

    // Duplicates of open cases, merged into them.
    let mut d = Dice::derive(opts.seed, DUPS, 0);
    let mut extra = Vec::with_capacity(dups);
    let mut tries = 0;
    while extra.len() < dups && tries < dups * 50 {
        tries += 1;
        let m = d.index(plans.len().max(1));
        let Some(master) = plans.get(m) else { break };
        let open_until = master.closed_at().unwrap_or(end);
        // The master stays open at least a day past the merge (see `run` for why).
        let room = open_until - master.at - Duration::hours(25) - Duration::minutes(30);
        if room <= Duration::minutes(30) {
            continue;
        }
        let lead = Duration::minutes(20) + d.minutes(0.0, room.num_minutes().min(3 * 24 * 60) as f64);
        let at = master.at + lead;
        if at >= end {
            continue;
        }
        let index = plans.len() + extra.len();
        let mut dd = Dice::derive(opts.seed, DUPS, index as u64);
        let mut dup = lifecycle::duplicate(&world, &mut dd, index, at, master, m);
        dup.steps.retain(|s| s.at <= end);
        extra.push(dup);
    }
    plans.extend(extra);

    // Sort by receipt; point merges at the new positions.
    let mut order: Vec<usize> = (0..plans.len()).collect();
    order.sort_by_key(|&i| (plans[i].at, i));
    let mut rank = vec![0; plans.len()];
    for (new, &old) in order.iter().enumerate() {
        rank[old] = new;
    }
    let mut slots: Vec<Option<Plan>> = plans.into_iter().map(Some).collect();
    let mut sorted: Vec<Plan> = order.iter().filter_map(|&i| slots[i].take()).collect();
    for p in &mut sorted {
        for s in &mut p.steps {
            if let Do::MergeInto(m) = &mut s.what {
                *m = rank[*m];
            }
        }
    }
    sorted
}

/// Cases received in the last two weeks stop at various stages: waiting for dispatch, dispatched,
/// signed for, being handled, replied (waiting for the callback).
///
/// 1. The youngest cases stop at every one of these stages in turn, so even a small demo has a
///    dispatch queue and full inboxes.
/// 2. Others stop the more often the younger they are, at the stages in turn; a stop that would
///    leave a case past its deadline at the end is kept only now and then.
/// 3. At least one case of the last month is overdue at the end (a late unit), as in any real
///    district.
fn stall_the_last_weeks(plans: &mut [Plan], end: DateTime<Utc>, d: &mut Dice) {
    const STAGES: [Status; 5] =
        [Status::Received, Status::Dispatched, Status::InProgress, Status::Replied, Status::Accepted];
    let from = end - Duration::days(14);
    let tail: Vec<usize> =
        (0..plans.len()).rev().take_while(|&i| plans[i].at >= from).filter(|&i| !plans[i].dup).collect();
    let overdue_at =
        |p: &Plan, i: usize| p.steps[i].before != Status::Replied && p.steps[i].due.is_some_and(|due| due <= end);
    let mut stalled = vec![false; plans.len()];
    let mut overdue = 0;

    // 1. Every stage once, youngest first.
    let mut missing: Vec<Status> = STAGES.to_vec();
    for &c in &tail {
        let p = &mut plans[c];
        let found = missing.iter().enumerate().find_map(|(m, stage)| {
            let i = p.steps.iter().position(|s| s.before == *stage)?;
            (!overdue_at(p, i)).then_some((m, i))
        });
        if let Some((m, i)) = found {
            p.stall_at(i);
            stalled[c] = true;
            missing.remove(m);
        }
        if missing.is_empty() {
            break;
        }
    }

    // 2. More, the younger the likelier.
    let mut turn = 0;
    for &c in &tail {
        let p = &mut plans[c];
        let age = (end - p.at).num_hours() as f64 / 24.0;
        if stalled[c] || !d.chance(0.05 + 0.5 * (1.0 - age / 14.0)) {
            continue;
        }
        for k in 0..STAGES.len() {
            let stage = STAGES[(turn + k) % STAGES.len()];
            let Some(i) = p.steps.iter().position(|s| s.before == stage) else { continue };
            let late = overdue_at(p, i);
            if !late || d.chance(0.08) {
                overdue += usize::from(late);
                p.stall_at(i);
                stalled[c] = true;
                turn = (turn + k + 1) % STAGES.len();
                break;
            }
        }
    }

    // 3. At least one overdue: the oldest case of the last month that can be, stopped before its reply.
    if overdue == 0 {
        let month = end - Duration::days(30);
        let candidates: Vec<usize> =
            (0..plans.len()).filter(|&c| plans[c].at >= month && !plans[c].dup && !stalled[c]).collect();
        for c in candidates {
            let p = &mut plans[c];
            let reply = p.steps.iter().position(|s| s.after == Status::Replied || s.after == Status::Verifying);
            if let Some(i) = reply.filter(|&i| overdue_at(p, i)) {
                p.stall_at(i);
                break;
            }
        }
    }
}
