//! Query parameters: each is parsed on its own so that a bad value is refused with a 400 that
//! names the parameter and says what was expected.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use jiesu_domain::assessment::Period;
use jiesu_domain::catalog::Catalog;
use jiesu_domain::model::{Status, UnitKind};

use crate::error::ApiError;

/// Which end of a day a bare date stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayEnd {
    /// Local midnight at the start of the day (for `from`).
    Start,
    /// Local midnight at the end of the day (for `to`, which is exclusive: the day is included).
    End,
}

/// An instant given as RFC 3339 (`2026-11-01T08:00:00+08:00`) or a local date (`2026-11-01`).
/// A `+` that the query string turned into a space is taken back.
pub fn instant(name: &str, value: &str, tz: Tz, end: DayEnd) -> Result<DateTime<Utc>, ApiError> {
    let value = value.trim();
    let bad = || {
        ApiError::bad_param(
            name,
            format!("expected RFC 3339 (2026-11-01T08:00:00+08:00) or a date (2026-11-01), got '{value}'"),
        )
    };
    for candidate in [value.to_string(), value.replace(' ', "+")] {
        if let Ok(t) = DateTime::parse_from_rfc3339(&candidate) {
            return Ok(t.with_timezone(&Utc));
        }
    }
    let date = NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|_| bad())?;
    let date = match end {
        DayEnd::Start => date,
        DayEnd::End => date.succ_opt().ok_or_else(bad)?,
    };
    let midnight = date.and_hms_opt(0, 0, 0).ok_or_else(bad)?;
    tz.from_local_datetime(&midnight).earliest().map(|t| t.with_timezone(&Utc)).ok_or_else(bad)
}

/// Comma-separated statuses (codes or Chinese labels).
pub fn statuses(name: &str, value: &str) -> Result<Vec<Status>, ApiError> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<Status>().map_err(|_| {
                let all = Status::ALL.iter().map(|s| s.code()).collect::<Vec<_>>().join(", ");
                ApiError::bad_param(name, format!("unknown status '{s}' (one of {all})"))
            })
        })
        .collect()
}

/// A boolean: `true`/`false`/`1`/`0`.
pub fn boolean(name: &str, value: &str) -> Result<bool, ApiError> {
    match value.trim() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        other => Err(ApiError::bad_param(name, format!("expected true or false, got '{other}'"))),
    }
}

/// An integer in `min..=max`.
pub fn integer(name: &str, value: &str, min: i64, max: i64) -> Result<i64, ApiError> {
    match value.trim().parse::<i64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(ApiError::bad_param(name, format!("expected an integer from {min} to {max}, got '{value}'"))),
    }
}

/// A month, `YYYY-MM`.
pub fn period(name: &str, value: &str) -> Result<Period, ApiError> {
    value
        .parse()
        .map_err(|_| ApiError::bad_param(name, format!("expected a month as YYYY-MM (e.g. 2026-11), got '{value}'")))
}

/// A unit kind (code or Chinese label).
pub fn unit_kind(name: &str, value: &str) -> Result<UnitKind, ApiError> {
    value.trim().parse().map_err(|_| {
        let all = UnitKind::ALL.iter().map(|k| k.code()).collect::<Vec<_>>().join(", ");
        ApiError::bad_param(name, format!("unknown unit kind '{value}' (one of {all})"))
    })
}

/// A unit code that exists in the catalog.
pub fn unit(name: &str, value: &str, catalog: &Catalog) -> Result<String, ApiError> {
    let v = value.trim();
    catalog.unit(v).map(|u| u.code.clone()).ok_or_else(|| ApiError::bad_param(name, format!("unknown unit code '{v}'")))
}

/// A street code that exists in the catalog.
pub fn street(name: &str, value: &str, catalog: &Catalog) -> Result<String, ApiError> {
    let v = value.trim();
    catalog
        .street(v)
        .map(|s| s.code.clone())
        .ok_or_else(|| ApiError::bad_param(name, format!("unknown street code '{v}'")))
}

/// A unit grid cell code: 14 characters, digits and capital letters (`11010100101503`).
pub fn grid(name: &str, value: &str) -> Result<String, ApiError> {
    let v = value.trim();
    if v.len() == 14 && v.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()) {
        Ok(v.to_string())
    } else {
        Err(ApiError::bad_param(
            name,
            format!("expected a 14-character grid cell code (e.g. 11010100101503), got '{v}'"),
        ))
    }
}

/// A category code (top level or leaf) that exists in the catalog.
pub fn category(name: &str, value: &str, catalog: &Catalog) -> Result<String, ApiError> {
    let v = value.trim();
    catalog
        .category(v)
        .map(|c| c.code.clone())
        .ok_or_else(|| ApiError::bad_param(name, format!("unknown category code '{v}'")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn dates_are_local_days_and_rfc3339_keeps_its_offset() {
        let tz = chrono_tz::Asia::Shanghai;
        assert_eq!(instant("from", "2026-11-01", tz, DayEnd::Start).unwrap(), t("2026-10-31T16:00:00Z"));
        assert_eq!(instant("to", "2026-11-01", tz, DayEnd::End).unwrap(), t("2026-11-01T16:00:00Z"));
        assert_eq!(instant("from", "2026-11-01T08:00:00 08:00", tz, DayEnd::Start).unwrap(), t("2026-11-01T00:00:00Z"));
        let e = instant("from", "yesterday", tz, DayEnd::Start).unwrap_err();
        assert_eq!(e.fields()[0].field, "from");
    }

    #[test]
    fn statuses_take_codes_and_labels() {
        assert_eq!(statuses("status", "dispatched,已结案").unwrap(), vec![Status::Dispatched, Status::Closed]);
        assert!(statuses("status", "dispatched,nope").unwrap_err().message().contains("nope"));
    }
}
