//! When cases arrive: how many per day (weekday/weekend, holidays, season), which categories each
//! day brings (heating in the first cold weeks, rain and noise in summer, snow days, storms), and
//! at what hour (call-centre hours for citizens, patrol hours for grid inspectors, round the clock
//! for sensors).
//!
//! Each category's profile weight is its expected yearly count; its season multiplies that by a
//! day factor normalised to an average of 1 over the year, so the mix moves with the seasons while
//! the yearly totals stay put. Days are sampled in proportion to their expected total, the category
//! in proportion to its share of that day, and the hour from the channel's daily profile.

use std::collections::HashSet;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use jiesu_domain::calendar::{Calendar, DayKind};

use crate::dice::Dice;
use crate::profiles::{PROFILES, Season};

/// Calls per hour of the day (local) for citizens: few at night, peaks 9–11 and 14–17.
const CITIZEN_HOURS: [f64; 24] = [
    0.35, 0.22, 0.15, 0.1, 0.1, 0.18, 0.5, 1.5, 3.6, 6.0, 6.4, 5.6, 3.6, 4.2, 5.6, 6.0, 5.8, 4.6, 3.0, 2.6, 2.3, 1.8,
    1.1, 0.6,
];

/// Reports per hour for grid inspectors on patrol (8:00–12:00, 13:00–18:00).
const PATROL_HOURS: [f64; 24] = [
    0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.2, 2.0, 4.0, 4.0, 3.0, 0.6, 2.0, 4.0, 4.0, 3.5, 1.5, 0.3, 0.0, 0.0, 0.0, 0.0,
    0.0,
];

/// Alarms per hour for sensors: round the clock, a little more at mealtimes and in the evening.
const SENSOR_HOURS: [f64; 24] = [
    0.8, 0.7, 0.6, 0.6, 0.6, 0.7, 0.8, 1.0, 1.0, 1.0, 1.1, 1.5, 1.6, 1.2, 1.0, 1.0, 1.1, 1.5, 1.7, 1.6, 1.3, 1.1, 1.0,
    0.9,
];

/// Whose hours a case follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hours {
    /// Citizens calling or writing.
    Citizen,
    /// Grid inspectors on patrol.
    Patrol,
    /// Sensors.
    Sensor,
}

/// Weather of the simulated year: the days it snowed and the summer storm days.
#[derive(Debug, Clone, Default)]
pub(crate) struct Weather {
    snow: HashSet<NaiveDate>,
    storms: HashSet<NaiveDate>,
}

impl Weather {
    /// Four snow days in the winter and five storm days in the rainy season of the window.
    fn draw(d: &mut Dice, days: &[NaiveDate]) -> Weather {
        let winter: Vec<NaiveDate> = days.iter().copied().filter(|x| matches!(x.month(), 12 | 1 | 2)).collect();
        let summer: Vec<NaiveDate> =
            days.iter().copied().filter(|x| (x.month() == 6 && x.day() >= 15) || matches!(x.month(), 7 | 8)).collect();
        let mut w = Weather::default();
        for _ in 0..4 {
            if !winter.is_empty() {
                w.snow.insert(*d.pick(&winter));
            }
        }
        for _ in 0..5 {
            if !summer.is_empty() {
                w.storms.insert(*d.pick(&summer));
            }
        }
        w
    }

    /// 1 on a snow day, less on the days after (the snow lies), 0 otherwise.
    fn snow(&self, day: NaiveDate) -> f64 {
        let back = |n: i64| self.snow.contains(&(day - Duration::days(n)));
        if back(0) {
            1.0
        } else if back(1) {
            0.6
        } else if back(2) {
            0.25
        } else {
            0.0
        }
    }

    /// Extra factor on and after a storm day.
    fn storm(&self, day: NaiveDate) -> f64 {
        if self.storms.contains(&day) {
            6.0
        } else if self.storms.contains(&(day - Duration::days(1))) {
            2.5
        } else {
            1.0
        }
    }
}

/// The day factor of a season (before normalisation).
fn season_factor(season: Season, day: NaiveDate, w: &Weather) -> f64 {
    let (m, dd) = (day.month(), day.day());
    match season {
        Season::Flat => 1.0,
        Season::Heating => match (m, dd) {
            (11, 1..=14) => 0.8,
            (11, _) => 3.2,
            (12, 1..=20) => 2.5,
            (12, _) | (1, _) => 1.6,
            (2, _) => 1.2,
            (3, 1..=15) => 0.8,
            (3, _) => 0.15,
            _ => 0.02,
        },
        Season::HeatingFee => match m {
            10 => 2.5,
            11 => 3.0,
            12 => 1.0,
            3 => 1.2,
            _ => 0.3,
        },
        Season::Summer => match m {
            6..=8 => 1.6,
            5 | 9 => 1.2,
            4 | 10 => 0.9,
            _ => 0.6,
        },
        Season::Rain => {
            let base = match (m, dd) {
                (6, _) => 0.6,
                (7, 1..=15) => 1.2,
                (7, _) | (8, 1..=15) => 2.5,
                (8, _) => 1.2,
                (9, _) => 0.5,
                _ => 0.15,
            };
            base * w.storm(day)
        }
        Season::Trees => {
            let base = match m {
                5..=9 => 1.5,
                4 | 10 => 1.0,
                _ => 0.5,
            };
            base * w.storm(day).sqrt()
        }
        Season::Catkin => match (m, dd) {
            (4, 10..) | (5, 1..=15) => 8.0,
            _ => 0.3,
        },
        Season::Construction => match m {
            3..=5 | 9..=11 => 1.4,
            6..=8 => 1.0,
            12 => 0.7,
            _ => 0.35,
        },
        Season::Snow => w.snow(day),
        Season::Winter => match m {
            11 | 12 | 1 | 2 => 1.5,
            3 | 10 => 1.0,
            _ => 0.7,
        },
        Season::YearEnd => match m {
            12 | 1 => 2.2,
            2 => 1.0,
            _ => 0.8,
        },
        Season::Enrolment => match (m, dd) {
            (4..=6, _) => 2.2,
            (8, 15..) | (9, 1..=10) => 1.5,
            _ => 0.4,
        },
    }
}

/// How busy a day is compared with an ordinary working day.
fn day_factor(day: NaiveDate, cal: &Calendar) -> f64 {
    if let Some(ex) = cal.exception(day) {
        return match ex.kind {
            DayKind::Work => 1.05,
            DayKind::Off if ex.name.contains("春节") => 0.5,
            DayKind::Off => 0.65,
        };
    }
    match day.weekday() {
        Weekday::Mon => 1.15,
        Weekday::Sat | Weekday::Sun => 0.72,
        _ => 1.05,
    }
}

/// The simulated year: its days, and each day's expected count per category.
pub(crate) struct Year {
    tz: Tz,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    /// Local dates touching `[start, end)`.
    pub days: Vec<NaiveDate>,
    /// Expected total per day.
    totals: Vec<f64>,
    /// Expected count per day and profile.
    mix: Vec<Vec<f64>>,
    working: Vec<bool>,
}

impl Year {
    /// The 365 days before `end`.
    pub fn new(d: &mut Dice, end: DateTime<Utc>, tz: Tz, cal: &Calendar) -> Year {
        let start = end - Duration::days(365);
        let first = start.with_timezone(&tz).date_naive();
        let last = end.with_timezone(&tz).date_naive();
        let days: Vec<NaiveDate> = first.iter_days().take_while(|x| *x <= last).collect();
        let weather = Weather::draw(d, &days);
        // Normalise each season to an average factor of 1 over the window.
        let seasons: Vec<Season> = PROFILES.iter().map(|p| p.season).collect();
        let means: Vec<f64> = seasons
            .iter()
            .map(|s| {
                let sum: f64 = days.iter().map(|x| season_factor(*s, *x, &weather)).sum();
                (sum / days.len() as f64).max(1e-9)
            })
            .collect();
        let mut totals = Vec::with_capacity(days.len());
        let mut mix = Vec::with_capacity(days.len());
        let mut working = Vec::with_capacity(days.len());
        for x in &days {
            let busy = day_factor(*x, cal);
            let cover = coverage(*x, tz, start, end);
            let row: Vec<f64> = PROFILES
                .iter()
                .zip(&means)
                .map(|(p, mean)| p.weight / 365.0 * season_factor(p.season, *x, &weather) / mean * busy * cover)
                .collect();
            totals.push(row.iter().sum());
            mix.push(row);
            working.push(cal.is_working_day(*x).unwrap_or(!matches!(x.weekday(), Weekday::Sat | Weekday::Sun)));
        }
        Year { tz, start, end, days, totals, mix, working }
    }

    /// A day (index into `days`) and a profile (index into `PROFILES`).
    pub fn draw(&self, d: &mut Dice) -> (usize, usize) {
        let day = d.weighted(&self.totals);
        (day, d.weighted(&self.mix[day]))
    }

    /// Whether day `day` is a working day.
    pub fn working(&self, day: usize) -> bool {
        self.working[day]
    }

    /// An instant on day `day` following `hours`, inside `[start, end)`; None if the day has no
    /// such instant (e.g. patrol hours of a partial last day).
    pub fn instant(&self, d: &mut Dice, day: usize, hours: Hours) -> Option<DateTime<Utc>> {
        let weights = match hours {
            Hours::Citizen => &CITIZEN_HOURS,
            Hours::Patrol => &PATROL_HOURS,
            Hours::Sensor => &SENSOR_HOURS,
        };
        for _ in 0..24 {
            let h = d.weighted(weights) as u32;
            let t = self.days[day].and_hms_opt(h, d.int(0, 59) as u32, d.int(1, 59) as u32)?;
            let t = self.tz.from_local_datetime(&t).single()?.with_timezone(&Utc);
            if t >= self.start && t < self.end {
                return Some(t);
            }
        }
        None
    }
}

/// Share of local day `day` that lies in `[start, end)`.
fn coverage(day: NaiveDate, tz: Tz, start: DateTime<Utc>, end: DateTime<Utc>) -> f64 {
    let Some(from) = day.and_hms_opt(0, 0, 0).and_then(|t| tz.from_local_datetime(&t).single()) else { return 1.0 };
    let from = from.with_timezone(&Utc);
    let to = from + Duration::days(1);
    let (a, b) = (from.max(start), to.min(end));
    if b <= a { 0.0 } else { (b - a).num_seconds() as f64 / 86_400.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heating_peaks_in_the_first_cold_weeks_and_snow_only_falls_in_winter() {
        let cal = Calendar::china();
        let end = Utc.with_ymd_and_hms(2026, 6, 30, 16, 0, 0).unwrap();
        let year = Year::new(&mut Dice::new(1), end, chrono_tz::Asia::Shanghai, &cal);
        let heating = PROFILES.iter().position(|p| p.code == "0401").unwrap();
        let snow = PROFILES.iter().position(|p| p.code == "0209").unwrap();
        let on = |m: u32, dd: u32| year.days.iter().position(|x| x.month() == m && x.day() == dd).unwrap();
        assert!(year.mix[on(11, 20)][heating] > 5.0 * year.mix[on(7, 20)][heating]);
        let summer_snow: f64 =
            (0..year.days.len()).filter(|i| (5..=9).contains(&year.days[*i].month())).map(|i| year.mix[i][snow]).sum();
        assert_eq!(summer_snow, 0.0);
        let yearly: f64 = year.totals.iter().sum();
        let weights: f64 = PROFILES.iter().map(|p| p.weight).sum();
        assert!((yearly / weights - 1.0).abs() < 0.15, "{yearly} vs {weights}");
    }
}
