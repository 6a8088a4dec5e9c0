//! Deadlines: how long a unit has to handle a case, and the instant it falls due.
//!
//! A deadline is a [`Span`] counted from the moment a case is received (or dispatched; the
//! caller chooses `from`). [`DeadlinePolicy`] maps each [`DeadlineClass`] to a span; its default
//! follows DB11/T 2021—2022 as reported: emergency 2 hours, water/power/gas/heating 24 hours,
//! general 7 working days, complex 15 working days. Spans are configurable.
//!
//! Semantics of [`due_at`]:
//!
//! - [`Span::Hours`] and [`Span::Days`] are elapsed clock time from `from` (`Days(3)` = 72 hours),
//!   with no regard to holidays or time zones.
//! - [`Span::WorkingDays`]`(n)` is counted on the working-day [`Calendar`] in the local time zone
//!   `tz` (Asia/Shanghai, see [`default_tz`]). Counting starts on the local day after `from`:
//!   the day of receipt never counts, whatever the hour. The deadline is the **end** of the
//!   `n`-th working day, represented as 00:00 local time of the following calendar day. The
//!   returned instant is therefore exclusive: a reply at 23:59:59 on the `n`-th working day is on
//!   time, a reply at the returned instant is late. `WorkingDays(0)` means "by the end of the day
//!   of receipt". Counting into a year the calendar does not cover fails with
//!   [`CalendarError::YearNotCovered`] rather than guessing.
//!
//! Example: received 2026-09-29 10:00 (+08:00), 7 working days: 9/30, 10/8, 10/9, 10/10 (make-up
//! Saturday), 10/12, 10/13, 10/14, so the case is due at 2026-10-15 00:00 +08:00.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, LocalResult, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::calendar::{Calendar, CalendarError};
use crate::model::DeadlineClass;

/// A length of time allowed to handle a case.
///
/// Serialised as `{"hours":2}`, `{"working_days":7}` or `{"days":3}`; written as text
/// (config files, CLI) as `2h`, `7wd` or `3d` via [`FromStr`] and [`Display`](fmt::Display).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Span {
    /// Elapsed hours.
    Hours(u32),
    /// Working days on the calendar, ending at the end of the last one (see the module doc).
    WorkingDays(u32),
    /// Elapsed days of 24 hours.
    Days(u32),
}

/// A span text that is not `<number>h`, `<number>wd` or `<number>d`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid deadline span '{0}': expected a whole number followed by 'h' (hours), \
     'wd' (working days) or 'd' (days), e.g. 2h, 7wd, 3d"
)]
pub struct SpanParseError(pub String);

impl FromStr for Span {
    type Err = SpanParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim();
        let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
        let (digits, unit) = text.split_at(split);
        let value: u32 = digits.parse().map_err(|_| SpanParseError(s.to_string()))?;
        match unit.trim() {
            "h" => Ok(Span::Hours(value)),
            "wd" => Ok(Span::WorkingDays(value)),
            "d" => Ok(Span::Days(value)),
            _ => Err(SpanParseError(s.to_string())),
        }
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Span::Hours(n) => write!(f, "{n}h"),
            Span::WorkingDays(n) => write!(f, "{n}wd"),
            Span::Days(n) => write!(f, "{n}d"),
        }
    }
}

/// The span allowed for each deadline class. Missing fields in a config take the defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeadlinePolicy {
    /// Risk to life or property (default 2 hours).
    pub emergency: Span,
    /// Water, power, gas, heating (default 24 hours).
    pub utility: Span,
    /// General matters (default 7 working days).
    pub general: Span,
    /// Complex matters (default 15 working days).
    pub complex: Span,
}

impl Default for DeadlinePolicy {
    fn default() -> Self {
        DeadlinePolicy {
            emergency: Span::Hours(2),
            utility: Span::Hours(24),
            general: Span::WorkingDays(7),
            complex: Span::WorkingDays(15),
        }
    }
}

impl DeadlinePolicy {
    /// The span for a deadline class.
    pub fn span(&self, class: DeadlineClass) -> Span {
        match class {
            DeadlineClass::Emergency => self.emergency,
            DeadlineClass::Utility => self.utility,
            DeadlineClass::General => self.general,
            DeadlineClass::Complex => self.complex,
        }
    }
}

/// The district's time zone for counting working days: Asia/Shanghai (UTC+8, no DST).
pub fn default_tz() -> Tz {
    chrono_tz::Asia::Shanghai
}

/// The instant a case received at `from` falls due under `span` (exclusive; see the module doc).
///
/// Errors with [`CalendarError::YearNotCovered`] when a working-day count reaches a year without
/// holiday data, and [`CalendarError::OutOfRange`] if the date arithmetic overflows.
pub fn due_at(span: Span, from: DateTime<Utc>, tz: Tz, cal: &Calendar) -> Result<DateTime<Utc>, CalendarError> {
    let elapsed = |d: Duration| from.checked_add_signed(d).ok_or(CalendarError::OutOfRange(from.date_naive()));
    match span {
        Span::Hours(h) => elapsed(Duration::hours(i64::from(h))),
        Span::Days(d) => elapsed(Duration::days(i64::from(d))),
        Span::WorkingDays(n) => {
            let received = from.with_timezone(&tz).date_naive();
            let last = cal.add_working_days(received, n)?;
            let next = last.succ_opt().ok_or(CalendarError::OutOfRange(last))?;
            start_of_day(next, tz)
        }
    }
}

/// The first instant of local day `day` in `tz` (00:00, or the first hour after a DST gap).
fn start_of_day(day: NaiveDate, tz: Tz) -> Result<DateTime<Utc>, CalendarError> {
    let midnight = day.and_hms_opt(0, 0, 0).ok_or(CalendarError::OutOfRange(day))?;
    for hour in 0..=3 {
        let local = midnight + Duration::hours(hour);
        match tz.from_local_datetime(&local) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => {
                return Ok(t.with_timezone(&Utc));
            }
            LocalResult::None => continue,
        }
    }
    Err(CalendarError::OutOfRange(day))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn span_text_round_trips() {
        for (text, span) in [("2h", Span::Hours(2)), ("7wd", Span::WorkingDays(7)), ("3d", Span::Days(3))] {
            assert_eq!(text.parse::<Span>().unwrap(), span);
            assert_eq!(span.to_string(), text);
        }
        assert_eq!(" 15 wd ".parse::<Span>().unwrap(), Span::WorkingDays(15));
        for bad in ["", "h", "7", "7w", "-1d", "2.5h", "7 days"] {
            assert!(bad.parse::<Span>().is_err(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn span_serde_shape() {
        assert_eq!(serde_json::to_string(&Span::Hours(2)).unwrap(), r#"{"hours":2}"#);
        assert_eq!(serde_json::to_string(&Span::WorkingDays(7)).unwrap(), r#"{"working_days":7}"#);
        assert_eq!(serde_json::from_str::<Span>(r#"{"days":3}"#).unwrap(), Span::Days(3));
    }

    #[test]
    fn policy_defaults_and_partial_config() {
        let p = DeadlinePolicy::default();
        assert_eq!(p.span(DeadlineClass::Emergency), Span::Hours(2));
        assert_eq!(p.span(DeadlineClass::Utility), Span::Hours(24));
        assert_eq!(p.span(DeadlineClass::General), Span::WorkingDays(7));
        assert_eq!(p.span(DeadlineClass::Complex), Span::WorkingDays(15));
        let p: DeadlinePolicy = serde_json::from_str(r#"{"general":{"days":5}}"#).unwrap();
        assert_eq!(p.general, Span::Days(5));
        assert_eq!(p.complex, Span::WorkingDays(15));
    }

    #[test]
    fn start_of_day_handles_dst_gap() {
        // America/Santiago skipped 00:00–01:00 on 2022-09-11.
        let day = NaiveDate::from_ymd_opt(2022, 9, 11).unwrap();
        let t = start_of_day(day, chrono_tz::America::Santiago).unwrap();
        assert_eq!(t.with_timezone(&chrono_tz::America::Santiago).to_rfc3339(), "2022-09-11T01:00:00-03:00");
    }
}
