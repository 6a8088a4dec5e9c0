//! The Chinese working-day calendar: statutory holidays (法定节假日) and make-up working days (调休).
//!
//! A day is a working day when it is Monday to Friday and not a holiday day off, or when it is a
//! Saturday or Sunday that the State Council turned into a make-up working day (调休上班).
//! The exceptions come from the State Council General Office's yearly notices
//! (国务院办公厅关于XXXX年部分节假日安排的通知) and live in `data/holidays.csv`, embedded here with
//! `include_str!` ([`CHINA_HOLIDAYS_CSV`]); a deployment can load later years at run time with
//! [`Calendar::extend_from_csv`].
//!
//! **Coverage.** Holidays are announced one year at a time, so the calendar only answers for the
//! years it has data for: a year is covered when at least one row has a date in it. Asking about
//! an uncovered year is an error ([`CalendarError::YearNotCovered`]), never a guess: a deadline
//! that silently ignored next year's Spring Festival would be wrong by a week.
//!
//! CSV format: columns `date,kind,name` (`YYYY-MM-DD`, `off` or `work`, holiday name); lines
//! starting with `#` are comments.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

/// The embedded holiday data (`data/holidays.csv`), State Council notices 2020–2026.
pub const CHINA_HOLIDAYS_CSV: &str = include_str!("../../../data/holidays.csv");

static CHINA: LazyLock<Calendar> =
    LazyLock::new(|| Calendar::from_csv(CHINA_HOLIDAYS_CSV).expect("embedded data/holidays.csv must parse (tested)"));

/// What a listed day is, departing from the ordinary Monday–Friday week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    /// A day off of a statutory holiday period (放假), weekends inside the period included.
    Off,
    /// A make-up working day (调休上班): a Saturday or Sunday worked in exchange for a holiday.
    Work,
}

impl DayKind {
    /// The code used in the CSV file and in output: `off` or `work`.
    pub fn code(self) -> &'static str {
        match self {
            DayKind::Off => "off",
            DayKind::Work => "work",
        }
    }
}

impl fmt::Display for DayKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for DayKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "off" => Ok(DayKind::Off),
            "work" => Ok(DayKind::Work),
            other => Err(format!("unknown kind '{other}' (expected 'off' or 'work')")),
        }
    }
}

/// One listed day: a holiday day off or a make-up working day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayException {
    /// The calendar date.
    pub date: NaiveDate,
    /// Day off or make-up working day.
    pub kind: DayKind,
    /// The holiday it belongs to, in Chinese as the notice names it (e.g. 国庆节).
    pub name: String,
}

impl DayException {
    /// One line for people and the CLI (`jiesu calendar --year`): `2026-10-01 off 国庆节`.
    pub fn line(&self) -> String {
        format!("{} {} {}", self.date, self.kind, self.name)
    }
}

/// Why the calendar could not answer or could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// The calendar has no holiday data for this year, so working days cannot be counted in it.
    #[error(
        "the holiday calendar has no data for year {0}: add the State Council's holiday \
         arrangement for {0} to data/holidays.csv (or load it with Calendar::extend_from_csv)"
    )]
    YearNotCovered(i32),
    /// The holiday CSV is malformed; `line` is 1-based in the CSV text, comments included.
    #[error("holiday CSV, line {line}: {message}")]
    Parse {
        /// 1-based line number in the CSV text.
        line: usize,
        /// What is wrong on that line.
        message: String,
    },
    /// Date arithmetic left the range chrono can represent.
    #[error("date out of range while computing from {0}")]
    OutOfRange(NaiveDate),
}

/// The working-day calendar: the ordinary week plus the listed exceptions. Cheap to clone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calendar {
    days: BTreeMap<NaiveDate, DayException>,
    years: BTreeSet<i32>,
    /// Count years after the data as plain Monday–Friday weeks instead of refusing them.
    provisional_after: bool,
}

/// A parsed row with the line it came from.
struct Row {
    line: usize,
    day: DayException,
}

impl Calendar {
    /// The mainland China calendar from the embedded `data/holidays.csv` (2020–2026).
    pub fn china() -> Calendar {
        CHINA.clone()
    }

    /// Parses a calendar from CSV text (`date,kind,name`, `#` comments).
    ///
    /// Fails with [`CalendarError::Parse`] and the line number on a bad date, an unknown kind, a
    /// `work` day that is not a Saturday or Sunday, or a date listed twice with different kinds.
    pub fn from_csv(text: &str) -> Result<Calendar, CalendarError> {
        let mut cal = Calendar::default();
        cal.extend_from_csv(text)?;
        Ok(cal)
    }

    /// Adds the rows of another CSV text, e.g. a year announced after this build (2027).
    ///
    /// All-or-nothing: on any error the calendar is left unchanged. A row repeating a known date
    /// with the same kind is accepted (reloading a file is harmless); a different kind is an error.
    pub fn extend_from_csv(&mut self, text: &str) -> Result<(), CalendarError> {
        let rows = parse_rows(text)?;
        let mut added: BTreeMap<NaiveDate, Row> = BTreeMap::new();
        for row in rows {
            let date = row.day.date;
            let earlier = added.get(&date).map(|r| (r.day.kind, format!("line {}", r.line)));
            let earlier =
                earlier.or_else(|| self.days.get(&date).map(|d| (d.kind, "the calendar already loaded".to_string())));
            match earlier {
                Some((kind, _)) if kind == row.day.kind => {}
                Some((kind, place)) => {
                    return Err(CalendarError::Parse {
                        line: row.line,
                        message: format!("{date} is listed as '{}' here but as '{kind}' in {place}", row.day.kind),
                    });
                }
                None => {
                    added.insert(date, row);
                }
            }
        }
        for (date, row) in added {
            self.years.insert(date.year());
            self.days.insert(date, row.day);
        }
        Ok(())
    }

    /// Whether the calendar has holiday data for `year` (at least one listed date in it).
    pub fn covers(&self, year: i32) -> bool {
        self.years.contains(&year)
    }

    /// The covered years, ascending.
    pub fn years(&self) -> Vec<i32> {
        self.years.iter().copied().collect()
    }

    /// The listed exception for a date, if any (no coverage check).
    pub fn exception(&self, d: NaiveDate) -> Option<&DayException> {
        self.days.get(&d)
    }

    /// Whether `d` is a working day: Monday–Friday unless a holiday day off, Saturday/Sunday only
    /// when a make-up working day. Errors with [`CalendarError::YearNotCovered`] outside the data.
    pub fn is_working_day(&self, d: NaiveDate) -> Result<bool, CalendarError> {
        if !self.covers(d.year()) {
            if self.provisional_after && self.years.last().is_some_and(|last| d.year() > *last) {
                return Ok(!is_weekend(d));
            }
            return Err(CalendarError::YearNotCovered(d.year()));
        }
        Ok(match self.days.get(&d) {
            Some(ex) => ex.kind == DayKind::Work,
            None => !is_weekend(d),
        })
    }

    /// The exceptions whose date falls in `year`, sorted by date.
    pub fn exceptions(&self, year: i32) -> Result<Vec<DayException>, CalendarError> {
        if !self.covers(year) {
            return Err(CalendarError::YearNotCovered(year));
        }
        Ok(self.days.values().filter(|d| d.date.year() == year).cloned().collect())
    }

    /// The same calendar, but counting years *after* the last one with data as plain
    /// Monday–Friday weeks (a provisional answer until the State Council's notice for that year
    /// is loaded) instead of failing. Years before the data still fail; [`Calendar::exceptions`]
    /// still refuses every year without data. For the desk, so that cases keep being dispatched
    /// in December before next year's notice has been added.
    pub fn provisional_after_data(mut self) -> Calendar {
        self.provisional_after = true;
        self
    }

    /// True when `year` is counted provisionally (no data, after the data).
    pub fn is_provisional(&self, year: i32) -> bool {
        self.provisional_after && !self.covers(year) && self.years.last().is_some_and(|last| year > *last)
    }

    /// The `n`-th working day strictly after `from`; `n == 0` returns `from` itself.
    ///
    /// Errors with [`CalendarError::YearNotCovered`] as soon as the count reaches an uncovered year.
    pub fn add_working_days(&self, from: NaiveDate, n: u32) -> Result<NaiveDate, CalendarError> {
        let mut day = from;
        let mut left = n;
        while left > 0 {
            day = day.succ_opt().ok_or(CalendarError::OutOfRange(from))?;
            if self.is_working_day(day)? {
                left -= 1;
            }
        }
        Ok(day)
    }

    /// The number of working days in `(from, to]`: after `from`, up to and including `to`.
    /// Zero when `to <= from`. Errors when the range touches an uncovered year.
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> Result<u32, CalendarError> {
        let mut count = 0;
        let mut day = from;
        while day < to {
            day = day.succ_opt().ok_or(CalendarError::OutOfRange(from))?;
            if self.is_working_day(day)? {
                count += 1;
            }
        }
        Ok(count)
    }
}

/// Saturday or Sunday.
fn is_weekend(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

/// The 1-based line of the first data line at or after byte `start` (blank and `#` lines skipped).
fn line_at(text: &str, start: usize) -> usize {
    let mut at = start.min(text.len());
    while let Some(rest) = text.get(at..).filter(|r| !r.is_empty()) {
        let line = rest.split('\n').next().unwrap_or_default();
        if !(line.trim().is_empty() || line.starts_with('#')) {
            break;
        }
        at = (at + line.len() + 1).min(text.len());
    }
    text.as_bytes()[..at].iter().filter(|b| **b == b'\n').count() + 1
}

/// Parses and validates every row of a holiday CSV text (duplicates are checked by the caller).
fn parse_rows(text: &str) -> Result<Vec<Row>, CalendarError> {
    let mut reader = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .has_headers(true)
        .from_reader(text.as_bytes());
    // csv's own line counter skips blank lines, so count from the byte offset instead, past
    // the blank and comment lines the reader consumed before the record.
    let line_of = |pos: Option<&csv::Position>| pos.map_or(0, |p| line_at(text, p.byte() as usize));
    let csv_error = |e: csv::Error| CalendarError::Parse { line: line_of(e.position()), message: e.to_string() };
    let headers = reader.headers().map_err(csv_error)?.clone();
    if headers.iter().collect::<Vec<_>>() != ["date", "kind", "name"] {
        return Err(CalendarError::Parse {
            line: line_of(headers.position()),
            message: format!(
                "expected the header 'date,kind,name', found '{}'",
                headers.iter().collect::<Vec<_>>().join(",")
            ),
        });
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(csv_error)?;
        let line = line_of(record.position());
        let err = |message: String| CalendarError::Parse { line, message };
        let (date, kind, name) = (&record[0], &record[1], &record[2]);
        let date = NaiveDate::parse_from_str(date, "%Y-%m-%d")
            .map_err(|e| err(format!("invalid date '{date}' (expected YYYY-MM-DD): {e}")))?;
        let kind = DayKind::from_str(kind).map_err(err)?;
        if name.is_empty() {
            return Err(err(format!("{date} has no holiday name")));
        }
        if kind == DayKind::Work && !is_weekend(date) {
            return Err(err(format!(
                "make-up working day {date} is a {:?}; 'work' rows must be a Saturday or Sunday",
                date.weekday()
            )));
        }
        rows.push(Row { line, day: DayException { date, kind, name: name.to_string() } });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    const SMALL: &str = "# comment\ndate,kind,name\n2026-10-01,off,国庆节\n# inner comment\n2026-10-10,work,国庆节\n";

    #[test]
    fn parses_with_comments() {
        let cal = Calendar::from_csv(SMALL).unwrap();
        assert_eq!(cal.years(), vec![2026]);
        assert!(!cal.is_working_day(d(2026, 10, 1)).unwrap());
        assert!(cal.is_working_day(d(2026, 10, 10)).unwrap());
        assert!(!cal.is_working_day(d(2026, 10, 11)).unwrap());
        assert!(cal.is_working_day(d(2026, 10, 12)).unwrap());
    }

    #[test]
    fn extend_is_all_or_nothing() {
        let mut cal = Calendar::from_csv(SMALL).unwrap();
        let before = cal.clone();
        let bad = "date,kind,name\n2027-01-01,off,元旦\n2026-10-10,off,国庆节\n";
        assert!(matches!(cal.extend_from_csv(bad), Err(CalendarError::Parse { line: 3, .. })));
        assert_eq!(cal, before);
        cal.extend_from_csv(SMALL).unwrap(); // reloading the same rows is harmless
        cal.extend_from_csv("date,kind,name\n2027-01-01,off,元旦\n").unwrap();
        assert_eq!(cal.years(), vec![2026, 2027]);
    }

    #[test]
    fn counting() {
        let cal = Calendar::from_csv(SMALL).unwrap();
        assert_eq!(cal.add_working_days(d(2026, 9, 30), 0).unwrap(), d(2026, 9, 30));
        assert_eq!(cal.add_working_days(d(2026, 9, 30), 1).unwrap(), d(2026, 10, 2));
        assert_eq!(cal.working_days_between(d(2026, 9, 30), d(2026, 10, 2)).unwrap(), 1);
        assert_eq!(cal.working_days_between(d(2026, 10, 2), d(2026, 9, 30)).unwrap(), 0);
        assert_eq!(cal.add_working_days(d(2026, 12, 31), 1), Err(CalendarError::YearNotCovered(2027)));
    }
}
