//! Monthly assessment (考核) of responsible units and their rankings (排名).
//!
//! Beijing ranks districts, streets, departments and utilities every month on three figures
//! taken from callbacks (回访): 响应率, 解决率 and 满意率, combined into a weighted composite
//! score. Next to them this module computes the GB/T 30428 indicators 结案率, 按期结案率,
//! 按期处置率, 返工率 and the average handling time. Everything here is pure: cases come in as
//! [`CaseFacts`], the clock comes in as `now`, and the time zone comes in as `tz`.
//!
//! # Definitions
//!
//! - A case belongs to the period of its `received_at` in `tz` (Asia/Shanghai by default), and
//!   to the unit in `unit`.
//! - callbacks = cases whose callback has `reached == true`. 响应率 response_rate =
//!   responded / callbacks; 解决率 resolution_rate = solved / callbacks; 满意率
//!   satisfaction_rate = (Satisfied + Basic) / callbacks. None when callbacks == 0.
//! - composite = 100 × (w_r·响应率 + w_s·解决率 + w_m·满意率) / (w_r + w_s + w_m); None when
//!   callbacks == 0 (and when the weights are invalid, see [`Weights::validate`]).
//! - 结案率 closure_rate = closed / cases (closed = `closed_at.is_some()` and `closed_at ≤ now`).
//!   按期结案率 on_time_closure_rate = closed with `closed_at < due` (or no due) / closed.
//!   按期处置率 on_time_handling_rate = replied with `replied_at < due` (or no due) / replied
//!   (replied = `replied_at.is_some()` and `replied_at ≤ now`). 返工率 rework_rate = cases with
//!   `reopen_count > 0` / cases. avg_handling_hours = mean of (`replied_at − dispatched_at`), in
//!   hours, over replied cases with a `dispatched_at`. overdue_open = cases not closed at `now`
//!   whose `due < now`. Rates are in 0..=1 and None when their denominator is 0.
//! - Ranking: units of one kind with a composite, by composite descending; composites equal
//!   when rounded to 10⁻⁶ of a point tie and share a rank (competition ranking: 1, 1, 3), and
//!   are listed by unit code. Units without a composite are not ranked. change =
//!   previous_rank − rank (positive = moved up); None for a unit not ranked the month before.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::model::{Callback, Satisfaction, UnitKind};
use crate::workflow::CaseState;

/// The time zone assessment periods are cut in by default (Beijing time).
pub const DEFAULT_TZ: Tz = chrono_tz::Asia::Shanghai;

/// Why an assessment input was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssessmentError {
    /// A period string is not `YYYY-MM` with a month in 1..=12.
    #[error("invalid period '{0}': expected YYYY-MM")]
    InvalidPeriod(String),
    /// The weights are negative, not finite, or sum to zero.
    #[error("invalid weights: {0}")]
    InvalidWeights(String),
}

/// What the assessment needs to know about one case, as seen from the unit it is assessed against.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseFacts {
    /// Code of the unit the case is assessed against (承办单位).
    pub unit: String,
    /// Kind of that unit; rankings are per kind.
    pub unit_kind: UnitKind,
    /// When the request was received (受理); decides the period.
    pub received_at: DateTime<Utc>,
    /// When the case was dispatched to the unit (派单), if it was.
    pub dispatched_at: Option<DateTime<Utc>>,
    /// When the unit (or the operator) replied (答复), if it did.
    pub replied_at: Option<DateTime<Utc>>,
    /// When the case was closed (结案), if it was.
    pub closed_at: Option<DateTime<Utc>>,
    /// The deadline in force, after approved extensions (延期); exclusive.
    pub due: Option<DateTime<Utc>>,
    /// The latest callback (回访), if any.
    pub callback: Option<Callback>,
    /// How many times the case was reopened (重办); any reopening counts as rework.
    pub reopen_count: u32,
}

/// A calendar month in the assessment time zone (考核周期). Displays and parses as `2026-11`,
/// and serialises the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Period {
    /// The year, e.g. 2026.
    pub year: i32,
    /// The month, 1..=12.
    pub month: u32,
}

/// In the API a period is a string `YYYY-MM`.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Period {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some(r"^[0-9]{4}-(0[1-9]|1[0-2])$"))
            .examples(["2026-11"])
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Period {}

impl Period {
    /// The period for `year` and `month`; fails unless the month is in 1..=12.
    pub fn new(year: i32, month: u32) -> Result<Period, AssessmentError> {
        if (1..=12).contains(&month) && NaiveDate::from_ymd_opt(year, month, 1).is_some() {
            Ok(Period { year, month })
        } else {
            Err(AssessmentError::InvalidPeriod(format!("{year}-{month}")))
        }
    }

    /// The period that contains `instant`, read in `tz`.
    pub fn of(instant: DateTime<Utc>, tz: Tz) -> Period {
        let local = instant.with_timezone(&tz);
        Period { year: local.year(), month: local.month() }
    }

    /// The month before this one.
    pub fn previous(self) -> Period {
        if self.month <= 1 {
            Period { year: self.year - 1, month: 12 }
        } else {
            Period { year: self.year, month: self.month - 1 }
        }
    }

    /// The month after this one.
    pub fn next(self) -> Period {
        if self.month >= 12 {
            Period { year: self.year + 1, month: 1 }
        } else {
            Period { year: self.year, month: self.month + 1 }
        }
    }

    /// True if `instant`, read in `tz`, falls in this month.
    pub fn contains(self, instant: DateTime<Utc>, tz: Tz) -> bool {
        Period::of(instant, tz) == self
    }

    /// The half-open range `[start, end)` of instants in this month in `tz`, handy for
    /// selecting cases from storage. Panics only for months outside chrono's date range.
    pub fn bounds(self, tz: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
        (self.start(tz), self.next().start(tz))
    }

    /// The first instant of the month in `tz` (local midnight of the 1st, or the first instant
    /// after it should a time-zone transition skip midnight).
    fn start(self, tz: Tz) -> DateTime<Utc> {
        let midnight = NaiveDate::from_ymd_opt(self.year, self.month, 1)
            .expect("period within chrono's date range")
            .and_hms_opt(0, 0, 0)
            .expect("midnight exists");
        (0..=24)
            .find_map(|h| tz.from_local_datetime(&(midnight + chrono::Duration::hours(h))).earliest())
            .expect("some hour of the first day exists")
            .with_timezone(&Utc)
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl FromStr for Period {
    type Err = AssessmentError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || AssessmentError::InvalidPeriod(s.to_string());
        let (y, m) = s.trim().split_once('-').ok_or_else(bad)?;
        let digits = |t: &str, lens: &[usize]| lens.contains(&t.len()) && t.bytes().all(|b| b.is_ascii_digit());
        if !digits(y, &[4]) || !digits(m, &[1, 2]) {
            return Err(bad());
        }
        Period::new(y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?).map_err(|_| bad())
    }
}

impl TryFrom<String> for Period {
    type Error = AssessmentError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Period> for String {
    fn from(p: Period) -> String {
        p.to_string()
    }
}

/// Weights of the three callback rates in the composite score.
///
/// Configurable: the defaults (响应率 0.1, 解决率 0.45, 满意率 0.45) are a reasonable starting
/// point, but Beijing's exact monthly weights are set by the city and may change; load them from
/// configuration. Weights need not sum to 1: the composite divides by their sum. Call
/// [`Weights::validate`] when loading them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Weights {
    /// Weight of 响应率 (response rate).
    pub response: f64,
    /// Weight of 解决率 (resolution rate).
    pub resolution: f64,
    /// Weight of 满意率 (satisfaction rate).
    pub satisfaction: f64,
}

impl Default for Weights {
    fn default() -> Self {
        Weights { response: 0.1, resolution: 0.45, satisfaction: 0.45 }
    }
}

impl Weights {
    /// Validated weights.
    pub fn new(response: f64, resolution: f64, satisfaction: f64) -> Result<Weights, AssessmentError> {
        let w = Weights { response, resolution, satisfaction };
        w.validate()?;
        Ok(w)
    }

    /// Checks that every weight is finite and non-negative and that they sum to more than zero.
    pub fn validate(&self) -> Result<(), AssessmentError> {
        for (name, w) in
            [("response", self.response), ("resolution", self.resolution), ("satisfaction", self.satisfaction)]
        {
            if !w.is_finite() || w < 0.0 {
                return Err(AssessmentError::InvalidWeights(format!(
                    "{name} weight {w} must be finite and non-negative"
                )));
            }
        }
        let sum = self.sum();
        if !(sum > 0.0 && sum.is_finite()) {
            return Err(AssessmentError::InvalidWeights(format!("weights must sum to a finite number > 0, got {sum}")));
        }
        Ok(())
    }

    fn sum(&self) -> f64 {
        self.response + self.resolution + self.satisfaction
    }

    /// The composite score in 0..=100 for three rates in 0..=1; None if the weights are invalid.
    pub fn composite(&self, response: f64, resolution: f64, satisfaction: f64) -> Option<f64> {
        self.validate().ok()?;
        let weighted = self.response * response + self.resolution * resolution + self.satisfaction * satisfaction;
        Some((100.0 * weighted / self.sum()).clamp(0.0, 100.0))
    }
}

/// One unit's figures for one period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UnitFigures {
    /// Unit code.
    pub unit: String,
    /// Unit kind (of the first case seen for the unit).
    pub unit_kind: UnitKind,
    /// The assessed month.
    pub period: Period,
    /// Cases received in the period.
    pub cases: u32,
    /// Reached callbacks (回访成功) among those cases.
    pub callbacks: u32,
    /// 响应率: responded / callbacks.
    pub response_rate: Option<f64>,
    /// 解决率: solved / callbacks.
    pub resolution_rate: Option<f64>,
    /// 满意率: (满意 + 基本满意) / callbacks.
    pub satisfaction_rate: Option<f64>,
    /// Weighted composite score (综合成绩), 0..=100.
    pub composite: Option<f64>,
    /// Cases closed at `now`.
    pub closed: u32,
    /// 结案率: closed / cases.
    pub closure_rate: Option<f64>,
    /// 按期结案率: closed before the deadline / closed.
    pub on_time_closure_rate: Option<f64>,
    /// 按期处置率: replied before the deadline / replied.
    pub on_time_handling_rate: Option<f64>,
    /// 返工率: reopened at least once / cases.
    pub rework_rate: Option<f64>,
    /// Mean hours from dispatch to reply (平均处置时长).
    pub avg_handling_hours: Option<f64>,
    /// Cases still open at `now` past their deadline (超期未结).
    pub overdue_open: u32,
    /// Cases received in the period that a supervisor excluded (核减) from these figures on the
    /// unit's appeal (考核申诉): counted in none of the above.
    #[serde(default)]
    pub excluded: u32,
}

/// `num / den`, or None when `den` is 0.
fn ratio(num: i64, den: i64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

/// A count as shown (never negative; saturating).
fn count(x: i64) -> u32 {
    u32::try_from(x.max(0)).unwrap_or(u32::MAX)
}

/// True if `at` is before the exclusive deadline `due` (always true without a deadline).
fn in_time(at: DateTime<Utc>, due: Option<DateTime<Utc>>) -> bool {
    due.is_none_or(|d| at < d)
}

/// The counts behind a unit's figures for a month, summed over its cases: everything but
/// overdue_open, the one figure that changes with the clock alone.
///
/// A case's own tally depends on `now` only through "closed at `now`" and "replied at `now`"
/// (`closed_at ≤ now`, `replied_at ≤ now`). [`Tally::settled`] is the tally at any `now` at or
/// after the case's [`latest`] instant: what a store keeps per unit and month, in step with
/// every write (add the new state's tally, take away the old one's). Its callback counts, and so
/// the composite, do not depend on `now` at all.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Tally {
    /// Cases.
    pub cases: i64,
    /// Reached callbacks.
    pub callbacks: i64,
    /// Reached callbacks that say the unit responded.
    pub responded: i64,
    /// Reached callbacks that say the problem is solved.
    pub solved: i64,
    /// Reached callbacks 满意 or 基本满意.
    pub satisfied: i64,
    /// Closed cases.
    pub closed: i64,
    /// Closed before the deadline in force (or without one).
    pub closed_on_time: i64,
    /// Replied cases.
    pub replied: i64,
    /// Replied before the deadline in force (or without one).
    pub replied_on_time: i64,
    /// Cases reopened at least once.
    pub reworked: i64,
    /// Replied cases with a dispatch time (the handling-time denominator).
    pub handled: i64,
    /// Sum of reply − dispatch over those, in milliseconds.
    pub handling_ms: i64,
}

impl Tally {
    /// The tally of one case as seen at `now`, or, with `now` None, at any time at or after its
    /// [`latest`] instant.
    fn of_parts(f: FactParts, now: Option<DateTime<Utc>>) -> Tally {
        let seen = |t: Option<DateTime<Utc>>| t.filter(|&t| now.is_none_or(|n| t <= n));
        let mut t = Tally { cases: 1, ..Tally::default() };
        if let Some(cb) = f.callback.filter(|cb| cb.reached) {
            t.callbacks = 1;
            t.responded = i64::from(cb.responded);
            t.solved = i64::from(cb.solved);
            t.satisfied = i64::from(matches!(cb.satisfaction, Satisfaction::Satisfied | Satisfaction::Basic));
        }
        if let Some(c) = seen(f.closed_at) {
            t.closed = 1;
            t.closed_on_time = i64::from(in_time(c, f.due));
        }
        if let Some(r) = seen(f.replied_at) {
            t.replied = 1;
            t.replied_on_time = i64::from(in_time(r, f.due));
            if let Some(d) = f.dispatched_at {
                t.handled = 1;
                t.handling_ms = (r - d).num_milliseconds();
            }
        }
        t.reworked = i64::from(f.reopen_count > 0);
        t
    }

    /// The tally of the case `f` as seen at `now`.
    pub fn of_case(f: &CaseFacts, now: DateTime<Utc>) -> Tally {
        Tally::of_parts(FactParts::of(f), Some(now))
    }

    /// The tally of a case in `state` at any `now` at or after [`latest`]`(state)`: what is kept
    /// per unit (its assignee) and month (of its `received_at`).
    pub fn settled(state: &CaseState) -> Tally {
        Tally::of_parts(FactParts::of_state(state), None)
    }

    /// The sum of two tallies.
    pub fn plus(self, o: Tally) -> Tally {
        self.zip(o, |a, b| a + b)
    }

    /// This tally less `o`.
    pub fn minus(self, o: Tally) -> Tally {
        self.zip(o, |a, b| a - b)
    }

    /// True when every count is zero.
    pub fn is_zero(&self) -> bool {
        *self == Tally::default()
    }

    /// The counts in a fixed order (the order of the fields), for storage.
    pub fn to_array(&self) -> [i64; 12] {
        [
            self.cases,
            self.callbacks,
            self.responded,
            self.solved,
            self.satisfied,
            self.closed,
            self.closed_on_time,
            self.replied,
            self.replied_on_time,
            self.reworked,
            self.handled,
            self.handling_ms,
        ]
    }

    /// The tally of counts in the order of [`Tally::to_array`].
    pub fn from_array(a: [i64; 12]) -> Tally {
        Tally {
            cases: a[0],
            callbacks: a[1],
            responded: a[2],
            solved: a[3],
            satisfied: a[4],
            closed: a[5],
            closed_on_time: a[6],
            replied: a[7],
            replied_on_time: a[8],
            reworked: a[9],
            handled: a[10],
            handling_ms: a[11],
        }
    }

    fn zip(self, o: Tally, f: impl Fn(i64, i64) -> i64) -> Tally {
        let (a, b) = (self.to_array(), o.to_array());
        Tally::from_array(std::array::from_fn(|i| f(a[i], b[i])))
    }

    /// The figures of `unit` for `period` from this tally and the count of its cases open past
    /// their deadline at the time asked about.
    pub fn figures(
        &self,
        unit: String,
        unit_kind: UnitKind,
        period: Period,
        weights: &Weights,
        overdue_open: u32,
    ) -> UnitFigures {
        let response_rate = ratio(self.responded, self.callbacks);
        let resolution_rate = ratio(self.solved, self.callbacks);
        let satisfaction_rate = ratio(self.satisfied, self.callbacks);
        UnitFigures {
            unit,
            unit_kind,
            period,
            cases: count(self.cases),
            callbacks: count(self.callbacks),
            response_rate,
            resolution_rate,
            satisfaction_rate,
            composite: self.composite(weights),
            closed: count(self.closed),
            closure_rate: ratio(self.closed, self.cases),
            on_time_closure_rate: ratio(self.closed_on_time, self.closed),
            on_time_handling_rate: ratio(self.replied_on_time, self.replied),
            rework_rate: ratio(self.reworked, self.cases),
            avg_handling_hours: (self.handled > 0).then(|| self.handling_ms as f64 / self.handled as f64 / 3_600_000.0),
            overdue_open,
            excluded: 0,
        }
    }

    /// The composite score of this tally (None without reached callbacks or with invalid weights).
    pub fn composite(&self, weights: &Weights) -> Option<f64> {
        match (
            ratio(self.responded, self.callbacks),
            ratio(self.solved, self.callbacks),
            ratio(self.satisfied, self.callbacks),
        ) {
            (Some(r), Some(s), Some(m)) => weights.composite(r, s, m),
            _ => None,
        }
    }
}

/// The unit whose assessment a case in `state` counts for: its assignee, unless a supervisor
/// excluded the case from that unit's assessment on its appeal (核减, [`CaseState::excluded`]).
pub fn assessed_unit(state: &CaseState) -> Option<&str> {
    state.assignee.as_deref().filter(|_| !state.excluded())
}

/// The latest instant a case's [`Tally::settled`] depends on (its reply or its close): at any
/// `now` before it, the tally seen at `now` may differ.
pub fn latest(state: &CaseState) -> Option<DateTime<Utc>> {
    state.replied_at.max(state.closed_at)
}

/// True if the case `f` is open at `now` past its deadline (超期未结): not closed at `now`
/// and `due < now`.
pub fn overdue_open(f: &CaseFacts, now: DateTime<Utc>) -> bool {
    f.closed_at.is_none_or(|c| c > now) && f.due.is_some_and(|d| d < now)
}

/// The parts of a case a tally reads, from [`CaseFacts`] or a [`CaseState`].
#[derive(Clone, Copy)]
struct FactParts {
    dispatched_at: Option<DateTime<Utc>>,
    replied_at: Option<DateTime<Utc>>,
    closed_at: Option<DateTime<Utc>>,
    due: Option<DateTime<Utc>>,
    callback: Option<Callback>,
    reopen_count: u32,
}

impl FactParts {
    fn of(f: &CaseFacts) -> FactParts {
        FactParts {
            dispatched_at: f.dispatched_at,
            replied_at: f.replied_at,
            closed_at: f.closed_at,
            due: f.due,
            callback: f.callback,
            reopen_count: f.reopen_count,
        }
    }

    fn of_state(s: &CaseState) -> FactParts {
        FactParts {
            dispatched_at: s.dispatched_at,
            replied_at: s.replied_at,
            closed_at: s.closed_at,
            due: s.due,
            callback: s.callback,
            reopen_count: s.reopen_count,
        }
    }
}

impl CaseFacts {
    /// The facts of a case in `state` assessed against its assignee, of kind `unit_kind`; None
    /// when no unit holds it or it is excluded (核减) from its unit's assessment.
    pub fn of_state(state: &CaseState, unit_kind: UnitKind) -> Option<CaseFacts> {
        Some(CaseFacts {
            unit: assessed_unit(state)?.to_string(),
            unit_kind,
            received_at: state.received_at,
            dispatched_at: state.dispatched_at,
            replied_at: state.replied_at,
            closed_at: state.closed_at,
            due: state.due,
            callback: state.callback,
            reopen_count: state.reopen_count,
        })
    }
}

/// Computes every unit's figures for `period`: one row per unit with at least one case received
/// in the period (read in `tz`), sorted by unit code. `now` decides what counts as closed,
/// replied and overdue. With invalid `weights` every composite is None (validate weights when
/// loading them).
pub fn assess(facts: &[CaseFacts], period: Period, tz: Tz, now: DateTime<Utc>, weights: &Weights) -> Vec<UnitFigures> {
    let mut units: BTreeMap<&str, (UnitKind, Tally, u32)> = BTreeMap::new();
    for f in facts.iter().filter(|f| period.contains(f.received_at, tz)) {
        let (_, tally, overdue) = units.entry(f.unit.as_str()).or_insert_with(|| (f.unit_kind, Tally::default(), 0));
        *tally = tally.plus(Tally::of_case(f, now));
        *overdue += u32::from(overdue_open(f, now));
    }
    units
        .into_iter()
        .map(|(unit, (kind, tally, overdue))| tally.figures(unit.to_string(), kind, period, weights, overdue))
        .collect()
}

/// One line of a ranking (排名).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RankRow {
    /// 1-based rank; tied units share it (1, 1, 3).
    pub rank: u32,
    /// Unit code.
    pub unit: String,
    /// Unit kind.
    pub unit_kind: UnitKind,
    /// The composite score ranked on.
    pub composite: f64,
    /// The unit's rank among units of the same kind the period before, if it was ranked.
    pub previous_rank: Option<u32>,
    /// `previous_rank − rank`: positive means the unit moved up.
    pub change: Option<i32>,
    /// All the unit's figures for the period.
    pub figures: UnitFigures,
}

/// The key composites are compared on: rounded to 10⁻⁶ of a point, so that float noise from
/// different but equal fractions does not break ties.
fn score_key(composite: f64) -> i64 {
    (composite * 1e6).round() as i64
}

/// Ranks the units of `kind` in `current` by composite, descending, and compares each with its
/// rank in `previous` (the same ranking computed on the previous period's figures).
///
/// Ties share a rank (competition ranking 1, 1, 3) and are ordered by unit code; units without a
/// composite are left out, both now and when computing previous ranks.
pub fn rank(current: &[UnitFigures], previous: &[UnitFigures], kind: UnitKind) -> Vec<RankRow> {
    let before: BTreeMap<&str, u32> =
        ranked(previous, kind).into_iter().map(|(r, f, _)| (f.unit.as_str(), r)).collect();
    ranked(current, kind)
        .into_iter()
        .map(|(rank, f, composite)| {
            let previous_rank = before.get(f.unit.as_str()).copied();
            RankRow {
                rank,
                unit: f.unit.clone(),
                unit_kind: f.unit_kind,
                composite,
                previous_rank,
                change: previous_rank.map(|p| i64::from(p) - i64::from(rank)).map(|c| c as i32),
                figures: f.clone(),
            }
        })
        .collect()
}

/// The units of `kind` with a composite, ordered and numbered.
fn ranked(figures: &[UnitFigures], kind: UnitKind) -> Vec<(u32, &UnitFigures, f64)> {
    let mut rows: Vec<(&UnitFigures, f64)> = figures
        .iter()
        .filter(|f| f.unit_kind == kind)
        .filter_map(|f| f.composite.filter(|c| c.is_finite()).map(|c| (f, c)))
        .collect();
    rows.sort_by(|(a, ca), (b, cb)| score_key(*cb).cmp(&score_key(*ca)).then_with(|| a.unit.cmp(&b.unit)));
    let mut out = Vec::with_capacity(rows.len());
    let mut current_rank = 0;
    for (i, (f, c)) in rows.iter().enumerate() {
        if i == 0 || score_key(*c) != score_key(rows[i - 1].1) {
            current_rank = i as u32 + 1;
        }
        out.push((current_rank, *f, *c));
    }
    out
}
