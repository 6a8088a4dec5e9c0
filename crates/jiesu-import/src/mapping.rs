//! The mapping file (TOML): how another system's CSV export becomes our cases. One file per
//! source format; another city is a matter of writing one (README, "Importing case history").
//!
//! Every column name is the header's, exactly. Only `source.id` and `columns.opened` are required;
//! whatever is not mapped takes its default.

use std::collections::BTreeMap;

use chrono_tz::Tz;
use jiesu_domain::model::{CaseKind, Channel, DeadlineClass, Status};
use serde::Deserialize;

/// The mappings shipped with jiesu, selectable by name (`--mapping boston311`).
pub const SHIPPED: &[(&str, &str)] = &[
    ("boston311", include_str!("../../../mappings/boston311.toml")),
    ("teddy2020c", include_str!("../../../mappings/teddy2020c.toml")),
];

/// A parsed mapping.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// Where the rows come from.
    pub source: Source,
    /// The city, for the catalog built into an empty store.
    pub district: District,
    /// Which column holds what.
    pub columns: Columns,
    /// Source status values → our statuses (`received`, `dispatched`, `accepted`, `in_progress`,
    /// `replied`, `closed`). Without a status column (or for a value not listed, when
    /// `defaults.status` is `"infer"`), the status follows the times the row has.
    #[serde(default)]
    pub status: BTreeMap<String, String>,
    /// Source channel values → our channels (`hotline`, `web`, `app`, `open311`, `grid`,
    /// `sensor`, `other`).
    #[serde(default)]
    pub channel: BTreeMap<String, Channel>,
    /// Source values of the category column → deadline classes of those categories.
    #[serde(default)]
    pub deadline_class: BTreeMap<String, DeadlineClass>,
    /// What an absent column or an empty value stands for.
    #[serde(default)]
    pub defaults: Defaults,
    /// How rows that break an invariant are repaired (else rejected).
    #[serde(default)]
    pub repairs: Repairs,
    /// Points to ignore.
    #[serde(default)]
    pub points: Points,
}

/// `[source]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// The source's name: imported ids are unique per source (`case_sources`).
    pub name: String,
    /// The column of the row's id in the source.
    pub id: String,
    /// The time zone of the times in the file (IANA name).
    pub time_zone: String,
    /// chrono formats of the times (`%m/%d/%Y %I:%M:%S %p`), tried in order.
    pub date_formats: Vec<String>,
    /// Mapped columns that may be absent from a file (one mapping for several files).
    #[serde(default)]
    pub optional: Vec<String>,
}

/// `[district]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct District {
    /// Short code of the city (no spaces).
    pub code: String,
    /// Its name.
    pub name: String,
    /// Its working-day calendar: CSV `date,kind,name` (`off` / `work`), or `"china"` for the
    /// embedded State Council table.
    pub holidays: String,
    /// Name of the district-wide unit that takes what nobody else does.
    #[serde(default = "default_centre")]
    pub centre: String,
}

fn default_centre() -> String {
    "311".into()
}

/// `[columns]`: the header names of the columns that hold each field.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Columns {
    /// 受理 time (required).
    pub opened: String,
    /// The deadline given at 派单.
    pub deadline: Option<String>,
    /// 答复 time (the close time when absent).
    pub replied: Option<String>,
    /// 结案 time.
    pub closed: Option<String>,
    /// Status.
    pub status: Option<String>,
    /// Title.
    pub title: Option<String>,
    /// The text: these columns joined by newlines (empty ones left out).
    #[serde(default)]
    pub text: Vec<String>,
    /// The reply's text.
    pub reply: Option<String>,
    /// Address.
    pub address: Option<String>,
    /// Latitude and longitude (WGS-84; GCJ-02 inside China).
    pub lat: Option<String>,
    /// Longitude.
    pub lon: Option<String>,
    /// Channel.
    pub channel: Option<String>,
    /// The responsible unit (department) → units.
    pub unit: Option<String>,
    /// The category's group → top-level categories.
    pub group: Option<String>,
    /// The category → leaf categories (under their group).
    pub category: Option<String>,
    /// The area (neighbourhood) → streets.
    pub area: Option<String>,
    /// The sub-area (ward) → communities of their area.
    pub subarea: Option<String>,
}

/// `[defaults]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Defaults {
    /// Channel of an empty or unlisted value.
    pub channel: Channel,
    /// What every case is (咨询, 投诉 …).
    pub kind: CaseKind,
    /// Deadline class of a category not in `[deadline_class]`.
    pub deadline_class: DeadlineClass,
    /// Group of an empty group value.
    pub group: String,
    /// Category of an empty category value.
    pub category: String,
    /// Status of a value not in `[status]`: a status, or `"infer"` (from the times), or
    /// `"reject"`.
    pub status: String,
}

impl Default for Defaults {
    fn default() -> Self {
        Defaults {
            channel: Channel::Other,
            kind: CaseKind::Complaint,
            deadline_class: DeadlineClass::General,
            group: "其他".into(),
            category: "其他".into(),
            status: "infer".into(),
        }
    }
}

/// What to do with a row that breaks an invariant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Repair {
    /// Reject the row (with its line and the reason).
    Reject,
    /// Give the deadline the category's class gives at 派单 (the desk's policy and calendar).
    Policy,
    /// Take the time of receipt instead (a close recorded before the opening: same instant).
    Opened,
    /// Leave the value out (the case stays at the step before).
    Drop,
}

/// `[repairs]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Repairs {
    /// A dispatched row without a deadline: `policy` or `reject`.
    pub no_deadline: Repair,
    /// A deadline at or before the receipt: `policy` or `reject`.
    pub deadline_before_opened: Repair,
    /// A close (or reply) before the receipt: `opened` or `reject`.
    pub closed_before_opened: Repair,
    /// A closed status without a close time: `drop` (keep it open, as dispatched) or `reject`.
    pub no_close_time: Repair,
}

impl Default for Repairs {
    fn default() -> Self {
        Repairs {
            no_deadline: Repair::Policy,
            deadline_before_opened: Repair::Reject,
            closed_before_opened: Repair::Reject,
            no_close_time: Repair::Reject,
        }
    }
}

/// `[points]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Points {
    /// `[lat, lon]` pairs that mean "not geocoded" (a city-centre default): left out.
    #[serde(default)]
    pub not_geocoded: Vec<[f64; 2]>,
}

/// Why a mapping could not be used.
#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    /// The TOML does not parse or names an unknown key or value.
    #[error("mapping {name}: {message}")]
    Invalid {
        /// The mapping's name or file.
        name: String,
        /// What is wrong.
        message: String,
    },
}

impl Mapping {
    /// A shipped mapping by name, or the mapping file at `name_or_path`.
    pub fn load(name_or_path: &str) -> Result<Mapping, MappingError> {
        if let Some((_, text)) = SHIPPED.iter().find(|(n, _)| *n == name_or_path) {
            return Mapping::parse(name_or_path, text);
        }
        let text = std::fs::read_to_string(name_or_path).map_err(|e| MappingError::Invalid {
            name: name_or_path.into(),
            message: format!(
                "not a shipped mapping ({}) and not a readable file: {e}",
                SHIPPED.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
            ),
        })?;
        Mapping::parse(name_or_path, &text)
    }

    /// Parses and checks a mapping's text.
    pub fn parse(name: &str, text: &str) -> Result<Mapping, MappingError> {
        let invalid = |message: String| MappingError::Invalid { name: name.into(), message };
        let m: Mapping = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        m.time_zone().map_err(invalid)?;
        if m.source.date_formats.is_empty() {
            return Err(invalid("source.date_formats: give at least one format".into()));
        }
        for (value, status) in &m.status {
            parse_status(status).map_err(|e| invalid(format!("status.{value:?}: {e}")))?;
        }
        if !matches!(m.defaults.status.as_str(), "infer" | "reject") {
            parse_status(&m.defaults.status).map_err(|e| invalid(format!("defaults.status: {e}")))?;
        }
        let r = &m.repairs;
        let allowed = [
            ("no_deadline", r.no_deadline, &[Repair::Policy, Repair::Reject][..]),
            ("deadline_before_opened", r.deadline_before_opened, &[Repair::Policy, Repair::Reject]),
            ("closed_before_opened", r.closed_before_opened, &[Repair::Opened, Repair::Reject]),
            ("no_close_time", r.no_close_time, &[Repair::Drop, Repair::Reject]),
        ];
        for (key, value, ok) in allowed {
            if !ok.contains(&value) {
                return Err(invalid(format!("repairs.{key} = {value:?} is not one of {ok:?}")));
            }
        }
        if m.district.code.is_empty() || m.district.code.chars().any(char::is_whitespace) {
            return Err(invalid(format!("district.code {:?}: a short code without spaces", m.district.code)));
        }
        Ok(m)
    }

    /// The time zone of the file's times.
    pub fn time_zone(&self) -> Result<Tz, String> {
        let tz = &self.source.time_zone;
        tz.parse().map_err(|_| format!("source.time_zone: unknown time zone {tz:?}"))
    }

    /// Every column the mapping reads, with the field it fills, in a fixed order.
    pub fn columns(&self) -> Vec<(&'static str, &str)> {
        let c = &self.columns;
        let mut out = vec![("source.id", self.source.id.as_str()), ("opened", c.opened.as_str())];
        let optional = [
            ("deadline", &c.deadline),
            ("replied", &c.replied),
            ("closed", &c.closed),
            ("status", &c.status),
            ("title", &c.title),
            ("reply", &c.reply),
            ("address", &c.address),
            ("lat", &c.lat),
            ("lon", &c.lon),
            ("channel", &c.channel),
            ("unit", &c.unit),
            ("group", &c.group),
            ("category", &c.category),
            ("area", &c.area),
            ("subarea", &c.subarea),
        ];
        out.extend(optional.into_iter().filter_map(|(f, c)| Some((f, c.as_deref()?))));
        out.extend(c.text.iter().map(|t| ("text", t.as_str())));
        out
    }
}

/// One of the statuses an imported case may end in.
pub fn parse_status(s: &str) -> Result<Status, String> {
    let status: Status = s.parse().map_err(|_| format!("unknown status {s:?}"))?;
    match status {
        Status::Received
        | Status::Dispatched
        | Status::Accepted
        | Status::InProgress
        | Status::Replied
        | Status::Closed => Ok(status),
        other => Err(format!(
            "{} is not a status an import ends in (received, dispatched, accepted, in_progress, replied, closed)",
            other.code()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_mappings_parse() {
        for (name, text) in SHIPPED {
            Mapping::parse(name, text).unwrap_or_else(|e| panic!("{e}"));
        }
    }

    #[test]
    fn bad_values_are_named() {
        let base = |extra: &str| {
            format!(
                "[source]\nname='x'\nid='ID'\ntime_zone='UTC'\ndate_formats=['%Y']\n\
                 [district]\ncode='x'\nname='X'\nholidays='china'\n[columns]\nopened='T'\n{extra}"
            )
        };
        assert!(Mapping::parse("m", &base("")).is_ok());
        let e = Mapping::parse("m", &base("[status]\nOpen = 'merged'\n")).unwrap_err().to_string();
        assert!(e.contains("status.\"Open\"") && e.contains("merged is not a status"), "{e}");
        let e = Mapping::parse("m", &base("[repairs]\nno_deadline='opened'\n")).unwrap_err().to_string();
        assert!(e.contains("repairs.no_deadline"), "{e}");
        let e = Mapping::parse("m", &base("[columns2]\n")).unwrap_err().to_string();
        assert!(e.contains("columns2"), "{e}");
    }
}
