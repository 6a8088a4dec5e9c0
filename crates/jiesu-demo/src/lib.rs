//! Demo data: a realistic year of Dongcheng cases, taken through the real desk.
//!
//! Every case is received with [`Desk::receive`] and every later step is a real, validated
//! [`Desk::act`]: nothing is written behind the domain's back, so `jiesu check` passes on the
//! result and every view (queue, inbox, timeline, rankings) has something true to show.
//!
//! What is modelled: daily volume with weekday and holiday dips and call-centre hours; a seasonal
//! category mix (heating in winter, drainage, trees and noise in summer); all channels (hotline
//! most, grid inspectors, web, app, Open311, a few sensor alarms); consultations answered by the
//! operator; units of different quality (some systematically late, drifting month to month so that
//! rankings move); returns, extensions, supervision of late cases, joint handling (吹哨报到),
//! verification of grid cases, reopening after unsatisfied callbacks, and duplicates merged into
//! their master. Cases received shortly before the end are still open at every stage.
//!
//! Determinism: the plan of every case (when, what, where, who, and its dice) comes from the seed;
//! cases are executed concurrently, so ids may differ between runs but the multiset of cases and
//! their outcomes does not. Coordinates are approximate points near each street's centre (the
//! district publishes no street polygons); names and phone numbers are synthetic.

mod run;
mod text;

use std::collections::BTreeMap;
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Datelike, Duration, NaiveTime, TimeZone, Utc};
use jiesu_core::{CoreError, Desk};
use jiesu_domain::catalog::{Catalog, Category};
use jiesu_domain::draft::{Contact, NewCase, Place};
use jiesu_domain::model::{CaseKind, Channel, DeadlineClass};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

/// What to generate.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Number of cases (duplicates merged into others included).
    pub cases: usize,
    /// Seed of every random choice.
    pub seed: u64,
    /// The year of cases ends here.
    pub end: DateTime<Utc>,
}

/// What was generated.
#[derive(Debug, Clone)]
pub struct DemoReport {
    /// Cases created.
    pub cases: usize,
    /// Events written.
    pub events: usize,
    /// Cases per status code at the end.
    pub by_status: BTreeMap<String, usize>,
    /// Time taken.
    pub elapsed: StdDuration,
}

/// Why the demo could not be generated.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The desk refused something (a bug in the demo, or a calendar year without data).
    #[error("demo case {case}: {source}")]
    Core {
        /// Number of the planned case.
        case: usize,
        /// What the desk said.
        source: CoreError,
    },
    /// A worker task panicked.
    #[error("demo worker failed: {0}")]
    Worker(String),
}

/// Cases processed at the same time.
const IN_FLIGHT: usize = 8;

/// One planned case: everything decided up front from the seed.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub number: usize,
    pub at: DateTime<Utc>,
    pub case: NewCase,
    /// The same matter is reported again and merged into this case (counts as a second case).
    pub duplicate: bool,
    pub dice: u64,
}

/// Generates the demo into `desk`'s store, calling `progress(done, total)` as cases finish.
pub async fn generate(
    desk: &Desk,
    opts: &DemoOptions,
    mut progress: impl FnMut(usize, usize),
) -> Result<DemoReport, DemoError> {
    let started = Instant::now();
    let plans = plan(desk.catalog(), desk, opts);
    let total = plans.len();
    let mut events = 0;
    let mut by_status: BTreeMap<String, usize> = BTreeMap::new();
    let mut tasks = tokio::task::JoinSet::new();
    let mut queue = plans.into_iter();
    let mut done = 0;
    loop {
        while tasks.len() < IN_FLIGHT {
            let Some(p) = queue.next() else { break };
            let (desk, end) = (desk.clone(), opts.end);
            tasks.spawn(async move {
                let n = p.number;
                run::run_case(&desk, p, end).await.map_err(|source| DemoError::Core { case: n, source })
            });
        }
        let Some(joined) = tasks.join_next().await else { break };
        let outcome = joined.map_err(|e| DemoError::Worker(e.to_string()))??;
        events += outcome.events;
        for s in outcome.statuses {
            *by_status.entry(s.code().to_string()).or_default() += 1;
        }
        done += 1;
        progress(done, total);
    }
    // Cases still open and past their deadline at the end get their 督办 notice.
    let raised = desk.sweep_overdue(opts.end).await.map_err(|source| DemoError::Core { case: 0, source })?;
    events += raised;
    let cases = by_status.values().sum();
    Ok(DemoReport { cases, events, by_status, elapsed: started.elapsed() })
}

/// Hour-of-day weights of a 12345 call centre.
const HOURS: [f64; 24] =
    [0.6, 0.3, 0.2, 0.2, 0.2, 0.3, 0.8, 2.5, 5.5, 8.5, 9.0, 8.0, 5.0, 6.0, 8.0, 8.0, 7.0, 6.0, 4.0, 3.0, 3.0, 2.0, 1.5, 1.0];

/// Relative volume of a top-level class in a month (1–12).
fn class_weight(top: &str, month: u32) -> f64 {
    let winter = matches!(month, 11 | 12 | 1 | 2 | 3);
    let summer = matches!(month, 6..=8);
    match top {
        "供暖" => match month {
            11 => 22.0,
            12 => 16.0,
            1 | 2 => 10.0,
            3 => 6.0,
            10 => 2.0,
            _ => 0.3,
        },
        "排水" => if summer { 6.0 } else { 0.8 },
        "园林绿化" => if summer { 4.0 } else { 1.2 },
        "噪声扰民" => if (5..=9).contains(&month) { 9.0 } else { 5.0 },
        "生态环境" => if winter { 2.0 } else { 3.5 },
        "供水" => if summer { 4.0 } else { 2.5 },
        "供电" => if summer { 3.0 } else { 1.5 },
        "燃气" => if winter { 1.5 } else { 0.8 },
        "城管" | "城市管理" => 8.0,
        "市容环卫" => 8.0,
        "住房物业" => 10.0,
        "交通出行" => 7.0,
        "市场监管" => 6.0,
        "劳动和社会保障" => 4.0,
        "教育" => if matches!(month, 2 | 8 | 9) { 4.5 } else { 2.5 },
        "公共安全" => 2.0,
        _ => 2.0,
    }
}

/// Approximate centre of each street (WGS-84-ish, a few hundred metres of slack).
fn street_centre(name: &str) -> (f64, f64) {
    const CENTRES: &[(&str, f64, f64)] = &[
        ("东华门", 39.918, 116.405),
        ("景山", 39.929, 116.400),
        ("交道口", 39.940, 116.404),
        ("安定门", 39.947, 116.410),
        ("北新桥", 39.945, 116.420),
        ("东四", 39.930, 116.418),
        ("朝阳门", 39.924, 116.428),
        ("建国门", 39.910, 116.428),
        ("东直门", 39.939, 116.430),
        ("和平里", 39.958, 116.420),
        ("前门", 39.896, 116.400),
        ("崇文门外", 39.895, 116.418),
        ("东花市", 39.893, 116.434),
        ("龙潭", 39.880, 116.442),
        ("体育馆路", 39.883, 116.425),
        ("天坛", 39.877, 116.410),
        ("永定门外", 39.864, 116.402),
    ];
    CENTRES.iter().find(|(n, ..)| name.starts_with(n)).map_or((39.917, 116.418), |&(_, la, lo)| (la, lo))
}

fn weighted<T: Copy>(rng: &mut Xoshiro256PlusPlus, items: &[(T, f64)]) -> T {
    let total: f64 = items.iter().map(|(_, w)| w).sum();
    let mut x = rng.random::<f64>() * total;
    for &(item, w) in items {
        if x < w {
            return item;
        }
        x -= w;
    }
    items.last().expect("non-empty").0
}

/// Plans every case, sorted by time of receipt.
fn plan(catalog: &Catalog, desk: &Desk, opts: &DemoOptions) -> Vec<Plan> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(opts.seed);
    let tz = desk.config().tz;
    let start = opts.end - Duration::days(365);
    // Day weights: weekends and holidays are quieter.
    let days: Vec<(i64, f64)> = (0..365)
        .map(|d| {
            let day = (start + Duration::days(d)).with_timezone(&tz).date_naive();
            let working = desk.calendar().is_working_day(day).unwrap_or(day.weekday().number_from_monday() <= 5);
            (d, if working { 1.0 } else { 0.65 })
        })
        .collect();
    let hours: Vec<(u32, f64)> = HOURS.iter().enumerate().map(|(h, w)| (h as u32, *w)).collect();
    let tops: BTreeMap<&str, &Category> =
        catalog.categories().iter().filter(|c| c.parent.is_none()).map(|c| (c.code.as_str(), c)).collect();
    let streets: Vec<(usize, f64)> = catalog
        .streets()
        .iter()
        .enumerate()
        .map(|(i, s)| (i, 2.0 + catalog.communities_of(&s.code).len() as f64))
        .collect();
    let channels = [
        (Channel::Hotline, 0.70),
        (Channel::Grid, 0.12),
        (Channel::App, 0.07),
        (Channel::Web, 0.05),
        (Channel::Open311, 0.02),
        (Channel::Other, 0.02),
        (Channel::Sensor, 0.01),
    ];
    let kinds = [
        (CaseKind::Complaint, 0.45),
        (CaseKind::Consult, 0.20),
        (CaseKind::Help, 0.18),
        (CaseKind::Report, 0.09),
        (CaseKind::Suggestion, 0.08),
    ];
    let leaves = catalog.leaf_categories();
    let mut plans = Vec::with_capacity(opts.cases);
    let mut counted = 0;
    while counted < opts.cases {
        let number = plans.len();
        let duplicate = counted + 1 < opts.cases && rng.random_bool(0.02);
        counted += 1 + usize::from(duplicate);
        let day = weighted(&mut rng, &days);
        let hour = weighted(&mut rng, &hours);
        let local = (start + Duration::days(day)).with_timezone(&tz).date_naive();
        let time = NaiveTime::from_hms_opt(hour, rng.random_range(0..60), rng.random_range(0..60)).expect("valid time");
        let at = tz
            .from_local_datetime(&local.and_time(time))
            .earliest()
            .map_or(start + Duration::days(day), |t| t.with_timezone(&Utc))
            .min(opts.end - Duration::minutes(1));
        let month = at.with_timezone(&tz).month();
        let channel = weighted(&mut rng, &channels);
        // Sensors report fire and safety hazards; everything else follows the season.
        let weights: Vec<(usize, f64)> = leaves
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let top = c.parent.as_deref().and_then(|p| tops.get(p)).map_or("", |t| t.name.as_str());
                let siblings = catalog.children(c.parent.as_deref().unwrap_or("")).len().max(1) as f64;
                let mut w = class_weight(top, month) / siblings;
                if c.deadline_class == DeadlineClass::Emergency {
                    w *= 0.25;
                }
                if channel == Channel::Sensor {
                    w = if top == "公共安全" || top == "生态环境" { 1.0 } else { 0.0 };
                }
                (i, w)
            })
            .collect();
        let weights = if weights.iter().all(|(_, w)| *w == 0.0) {
            leaves.iter().enumerate().map(|(i, _)| (i, 1.0)).collect()
        } else {
            weights
        };
        let category = leaves[weighted(&mut rng, &weights)];
        let street = &catalog.streets()[weighted(&mut rng, &streets)];
        let communities = catalog.communities_of(&street.code);
        let community = communities.get(rng.random_range(0..communities.len().max(1))).copied();
        let (lat0, lon0) = street_centre(&street.name);
        let kind = match channel {
            Channel::Grid | Channel::Sensor => CaseKind::Report,
            _ => weighted(&mut rng, &kinds),
        };
        let (title, text, address) =
            text::message(&mut rng, category, community.map_or(street.name.as_str(), |c| c.short_name.as_str()));
        let contact = match channel {
            Channel::Grid | Channel::Sensor => Contact::default(),
            _ => {
                let (name, phone) = text::citizen(&mut rng);
                Contact { name: Some(name), phone: Some(phone), email: None }
            }
        };
        let case = NewCase {
            channel,
            kind,
            title: Some(title),
            text,
            category: category.code.clone(),
            place: Place {
                address: Some(address),
                lat: Some(((lat0 + rng.random_range(-0.006..0.006)) * 1e6).round() / 1e6),
                lon: Some(((lon0 + rng.random_range(-0.007..0.007)) * 1e6).round() / 1e6),
                street: Some(street.code.clone()),
                community: community.map(|c| c.code.clone()),
                grid: None,
            },
            contact,
            external_id: None,
        };
        plans.push(Plan { number, at, case, duplicate, dice: rng.random() });
    }
    plans.sort_by_key(|p| (p.at, p.number));
    plans
}
