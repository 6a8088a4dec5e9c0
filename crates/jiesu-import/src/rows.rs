//! One row of the export as the values a case needs, or why it cannot be one. Pure.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use jiesu_domain::model::{Channel, Status};

use crate::mapping::{Mapping, Repair, parse_status};

/// A row read through the mapping: names as the source writes them, times in UTC.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    /// Line the row starts on.
    pub line: u64,
    /// Its id in the source.
    pub source_id: String,
    /// 受理.
    pub opened: DateTime<Utc>,
    /// Deadline given at 派单 (None: none, or to come from the policy).
    pub deadline: Option<DateTime<Utc>>,
    /// 答复.
    pub replied: Option<DateTime<Utc>>,
    /// 结案.
    pub closed: Option<DateTime<Utc>>,
    /// The status it ends in.
    pub status: Status,
    /// Title, text, reply text, address.
    pub title: Option<String>,
    /// The text.
    pub text: String,
    /// The reply's text.
    pub reply: Option<String>,
    /// Address.
    pub address: Option<String>,
    /// (lat, lon).
    pub point: Option<(f64, f64)>,
    /// Channel.
    pub channel: Channel,
    /// Unit name.
    pub unit: Option<String>,
    /// Group and category names.
    pub group: String,
    /// Category name.
    pub category: String,
    /// Area and sub-area names.
    pub area: Option<String>,
    /// Sub-area name.
    pub subarea: Option<String>,
}

/// Where each mapped field is in the file's rows (computed once per file).
pub struct Layout {
    at: std::collections::HashMap<&'static str, usize>,
    text: Vec<usize>,
}

impl Layout {
    /// The positions of `mapping`'s fields, from [`crate::read::Table::positions`].
    pub fn new(mapping: &Mapping, positions: &[Option<usize>]) -> Layout {
        let mut at = std::collections::HashMap::new();
        let mut text = Vec::new();
        for ((field, _), p) in mapping.columns().into_iter().zip(positions) {
            match (field, p) {
                ("text", Some(p)) => text.push(*p),
                (_, Some(p)) => {
                    at.insert(field, *p);
                }
                _ => {}
            }
        }
        Layout { at, text }
    }
}

/// The values of a row by field.
struct Fields<'a> {
    layout: &'a Layout,
    record: &'a csv::StringRecord,
}

impl Fields<'_> {
    fn get(&self, field: &str) -> Option<&str> {
        let v = self.record.get(*self.layout.at.get(field)?)?.trim();
        (!v.is_empty()).then_some(v)
    }

    fn texts(&self) -> Vec<&str> {
        self.layout.text.iter().filter_map(|&i| self.record.get(i)).map(str::trim).filter(|v| !v.is_empty()).collect()
    }
}

/// Parses a time in the mapping's formats and zone.
pub fn parse_time(value: &str, formats: &[String], tz: Tz) -> Result<DateTime<Utc>, String> {
    for f in formats {
        // A format without a time of day reads a date: its midnight.
        let t = NaiveDateTime::parse_from_str(value, f).or_else(|e| {
            chrono::NaiveDate::parse_from_str(value, f).map(|d| d.and_time(chrono::NaiveTime::MIN)).map_err(|_| e)
        });
        if let Ok(t) = t {
            return match tz.from_local_datetime(&t) {
                chrono::LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
                // The hour repeated when the clocks go back: the earlier one.
                chrono::LocalResult::Ambiguous(t, _) => Ok(t.with_timezone(&Utc)),
                chrono::LocalResult::None => Err(format!("{value:?} does not exist in {tz} (the clocks skipped it)")),
            };
        }
    }
    Err(format!("{value:?} matches none of the date formats {formats:?}"))
}

/// Reads one row, applying the mapping's repairs; the reason when it must be rejected.
pub fn parse(
    mapping: &Mapping,
    tz: Tz,
    layout: &Layout,
    line: u64,
    record: &csv::StringRecord,
) -> Result<Parsed, String> {
    let f = Fields { layout, record };
    let c = &mapping.columns;
    let time = |field: &str, column: &Option<String>| -> Result<Option<DateTime<Utc>>, String> {
        match f.get(field) {
            None => Ok(None),
            Some(v) => parse_time(v, &mapping.source.date_formats, tz)
                .map(Some)
                .map_err(|e| format!("bad date: {} ({field}) {e}", column.as_deref().unwrap_or(field))),
        }
    };
    let source_id = f.get("source.id").ok_or_else(|| format!("no id: {} is empty", mapping.source.id))?.to_string();
    let opened = time("opened", &Some(c.opened.clone()))?.ok_or_else(|| format!("no date: {} is empty", c.opened))?;
    let mut deadline = time("deadline", &c.deadline)?;
    let mut replied = time("replied", &c.replied)?;
    let mut closed = time("closed", &c.closed)?;
    let r = &mapping.repairs;
    for (what, t) in [("closed", &mut closed), ("replied", &mut replied)] {
        if let Some(at) = *t
            && at < opened
        {
            match r.closed_before_opened {
                Repair::Opened => *t = Some(opened),
                _ => return Err(format!("{what} before opened: {what} {at}, opened {opened}")),
            }
        }
    }
    if let (Some(rep), Some(cl)) = (replied, closed)
        && cl < rep
    {
        return Err(format!("closed before replied: closed {cl}, replied {rep}"));
    }
    if let Some(d) = deadline
        && d <= opened
    {
        match r.deadline_before_opened {
            Repair::Policy => deadline = None,
            _ => return Err(format!("deadline not after opened: deadline {d}, opened {opened}")),
        }
    }
    let unit = f.get("unit").map(str::to_string);
    let inferred = || {
        if closed.is_some() {
            Status::Closed
        } else if replied.is_some() {
            Status::Replied
        } else if unit.is_some() || c.unit.is_none() && c.deadline.is_some() {
            Status::Dispatched
        } else {
            Status::Received
        }
    };
    let mut status = match f.get("status") {
        None => inferred(),
        Some(v) => match mapping.status.get(v) {
            Some(s) => parse_status(s)?,
            None => match mapping.defaults.status.as_str() {
                "infer" => inferred(),
                "reject" => return Err(format!("unknown status: {v:?} is not in [status]")),
                s => parse_status(s)?,
            },
        },
    };
    if status == Status::Closed && closed.is_none() {
        match r.no_close_time {
            Repair::Drop => status = if replied.is_some() { Status::Replied } else { Status::Dispatched },
            _ => return Err(format!("no close time: closed, but {} is empty", name(&c.closed))),
        }
    }
    if status == Status::Replied && replied.is_none() && closed.is_none() {
        return Err(format!("no reply time: replied, but {} is empty", name(&c.replied)));
    }
    if deadline.is_none() && f.get("deadline").is_none() && c.deadline.is_some() && r.no_deadline == Repair::Reject {
        // (A deadline dropped as before the receipt was repaired by the policy on purpose.)
        if status != Status::Received {
            return Err(format!("no deadline: {} is empty", name(&c.deadline)));
        }
    }
    let number = |field: &str| -> Result<Option<f64>, String> {
        match f.get(field) {
            None => Ok(None),
            Some(v) => v.parse::<f64>().map(Some).map_err(|_| format!("bad number: {field} {v:?}")),
        }
    };
    let point = match (number("lat")?, number("lon")?) {
        (Some(lat), Some(lon)) => {
            let ignored =
                mapping.points.not_geocoded.iter().any(|[a, b]| (lat - a).abs() < 1e-9 && (lon - b).abs() < 1e-9);
            let valid = (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon) && (lat, lon) != (0.0, 0.0);
            (!ignored && valid).then_some((lat, lon))
        }
        _ => None,
    };
    let channel = match f.get("channel") {
        Some(v) => mapping.channel.get(v).copied().unwrap_or(mapping.defaults.channel),
        None => mapping.defaults.channel,
    };
    let title = f.get("title").map(|t| truncate(t, jiesu_domain::draft::MAX_LINE_CHARS));
    let mut text = f.texts().join("\n");
    if text.is_empty() {
        text = title.clone().or_else(|| f.get("category").map(str::to_string)).unwrap_or_else(|| "(无内容)".into());
    }
    Ok(Parsed {
        line,
        source_id,
        opened,
        deadline,
        replied,
        closed,
        status,
        title,
        text: truncate(&text, jiesu_domain::draft::MAX_TEXT_CHARS),
        reply: f.get("reply").map(|t| truncate(t, jiesu_domain::draft::MAX_TEXT_CHARS)),
        address: f.get("address").map(|t| truncate(t, jiesu_domain::draft::MAX_LINE_CHARS)),
        point,
        channel,
        unit,
        group: f.get("group").unwrap_or(&mapping.defaults.group).to_string(),
        category: f.get("category").unwrap_or(&mapping.defaults.category).to_string(),
        area: f.get("area").map(str::to_string),
        subarea: f.get("subarea").map(str::to_string),
    })
}

fn name(column: &Option<String>) -> &str {
    column.as_deref().unwrap_or("(no column)")
}

/// At most `max` characters (the domain's limits), cut with an ellipsis.
fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max.saturating_sub(1)) {
        Some((i, _)) if s.chars().count() > max => format!("{}…", &s[..i]),
        _ => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_in_the_source_zone() {
        let f = vec!["%m/%d/%Y %I:%M:%S %p".to_string()];
        let t = parse_time("07/04/2015 01:30:00 PM", &f, chrono_tz::America::New_York).unwrap();
        assert_eq!(t.to_rfc3339(), "2015-07-04T17:30:00+00:00");
        assert!(parse_time("2015-07-04", &f, chrono_tz::UTC).unwrap_err().contains("matches none"));
        let dates = vec!["%Y/%m/%d %H:%M:%S".to_string(), "%Y/%m/%d".to_string()];
        let t = parse_time("2018/4/24", &dates, chrono_tz::Asia::Shanghai).unwrap();
        assert_eq!(t.to_rfc3339(), "2018-04-23T16:00:00+00:00");
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
    }
}
