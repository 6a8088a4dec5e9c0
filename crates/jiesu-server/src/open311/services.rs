//! Services (the catalog's leaf categories) and their definitions: the attributes of
//! `data/open311_attributes.csv`, and the checking of the attribute values a client posts.

use std::collections::{BTreeMap, HashSet};

use chrono::SecondsFormat;
use chrono_tz::Tz;
use jiesu_domain::catalog::{Catalog, Category};
use jiesu_domain::deadline::{DeadlinePolicy, Span};
use jiesu_domain::model::DeadlineClass;
use serde_json::{Map, Value, json};

use super::params::w3c_datetime;

/// The attribute definitions, embedded from the project's data directory.
pub const ATTRIBUTES_CSV: &str = include_str!("../../../../data/open311_attributes.csv");

/// Longest accepted `string` attribute value, in characters.
const MAX_STRING_CHARS: usize = 200;
/// Longest accepted `text` attribute value, in characters.
const MAX_TEXT_CHARS: usize = 2_000;

/// The six datatypes of GeoReport v2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Datatype {
    /// One line.
    String,
    /// A number.
    Number,
    /// A W3C date-time with a time zone.
    Datetime,
    /// Several lines.
    Text,
    /// One key of `values`.
    SingleValueList,
    /// Several keys of `values`.
    MultiValueList,
}

impl Datatype {
    /// Every datatype.
    pub const ALL: [Datatype; 6] = [
        Datatype::String,
        Datatype::Number,
        Datatype::Datetime,
        Datatype::Text,
        Datatype::SingleValueList,
        Datatype::MultiValueList,
    ];

    /// The spec's name.
    pub fn code(self) -> &'static str {
        match self {
            Datatype::String => "string",
            Datatype::Number => "number",
            Datatype::Datetime => "datetime",
            Datatype::Text => "text",
            Datatype::SingleValueList => "singlevaluelist",
            Datatype::MultiValueList => "multivaluelist",
        }
    }

    fn is_list(self) -> bool {
        matches!(self, Datatype::SingleValueList | Datatype::MultiValueList)
    }
}

/// One attribute of a service definition.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    /// The services it applies to: `*`, a top-level category code, or a leaf code.
    pub scope: String,
    /// Unique code.
    pub code: String,
    /// Position (1 first).
    pub order: u32,
    /// Type of input.
    pub datatype: Datatype,
    /// Must be given.
    pub required: bool,
    /// A question (true) or information only (false).
    pub variable: bool,
    /// The question.
    pub description: String,
    /// A hint on the format.
    pub datatype_description: Option<String>,
    /// key → name, for the list types.
    pub values: Vec<(String, String)>,
}

impl Attribute {
    fn applies_to(&self, c: &Category) -> bool {
        self.scope == "*" || self.scope == c.code || c.parent.as_deref() == Some(self.scope.as_str())
    }

    fn to_json(&self) -> Value {
        let values: Vec<Value> = self.values.iter().map(|(k, n)| json!({"key": k, "name": n})).collect();
        json!({
            "variable": self.variable,
            "code": self.code,
            "datatype": self.datatype.code(),
            "required": self.required,
            "datatype_description": self.datatype_description,
            "order": self.order,
            "description": self.description,
            "values": values,
        })
    }
}

/// The services of a catalog with their attributes.
#[derive(Debug, Clone)]
pub struct Services {
    attributes: Vec<Attribute>,
}

#[derive(Debug, serde::Deserialize)]
struct Row {
    service: String,
    code: String,
    order: u32,
    datatype: String,
    required: String,
    variable: String,
    description: String,
    datatype_description: String,
    values: String,
}

fn boolean(line: u64, column: &str, v: &str) -> Result<bool, String> {
    match v.trim() {
        "true" => Ok(true),
        "false" => Ok(false),
        other => Err(format!("line {line}: {column} must be true or false, not '{other}'")),
    }
}

impl Services {
    /// Parses attribute rows (`ATTRIBUTES_CSV`'s format) and checks them against `catalog`: known
    /// scopes and datatypes, codes of A-Z/0-9/_, values exactly for the list types, and codes and
    /// orders unique within every service.
    pub fn parse(csv_text: &str, catalog: &Catalog) -> Result<Services, String> {
        let mut reader =
            csv::ReaderBuilder::new().comment(Some(b'#')).trim(csv::Trim::All).from_reader(csv_text.as_bytes());
        let mut attributes = Vec::new();
        let headers = reader.headers().map_err(|e| format!("attributes: {e}"))?.clone();
        for record in reader.records() {
            let record = record.map_err(|e| format!("attributes: {e}"))?;
            let line = record.position().map_or(0, |p| p.line());
            let row: Row = record.deserialize(Some(&headers)).map_err(|e| format!("line {line}: {e}"))?;
            if row.service != "*" && catalog.category(&row.service).is_none() {
                return Err(format!("line {line}: unknown service (category) '{}'", row.service));
            }
            // The code is also an XML element name (in extended_attributes): a letter first.
            let well_formed = row.code.starts_with(|c: char| c.is_ascii_uppercase())
                && row.code.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
            if !well_formed {
                return Err(format!(
                    "line {line}: attribute code '{}' must be A-Z, 0-9 or _, a letter first",
                    row.code
                ));
            }
            let datatype = Datatype::ALL
                .into_iter()
                .find(|d| d.code() == row.datatype)
                .ok_or_else(|| format!("line {line}: unknown datatype '{}'", row.datatype))?;
            if row.order == 0 {
                return Err(format!("line {line}: order must be a positive integer"));
            }
            if row.description.is_empty() {
                return Err(format!("line {line}: the description is empty"));
            }
            let values: Vec<(String, String)> = if row.values.is_empty() {
                Vec::new()
            } else {
                row.values
                    .split('|')
                    .map(|pair| match pair.split_once(':') {
                        Some((k, n)) if !k.trim().is_empty() && !n.trim().is_empty() => {
                            Ok((k.trim().to_string(), n.trim().to_string()))
                        }
                        _ => Err(format!("line {line}: value '{pair}' is not key:name")),
                    })
                    .collect::<Result<_, _>>()?
            };
            if datatype.is_list() == values.is_empty() {
                return Err(format!("line {line}: values are given for exactly the two list datatypes"));
            }
            let mut keys = HashSet::new();
            if let Some((k, _)) = values.iter().find(|(k, _)| !keys.insert(k.clone())) {
                return Err(format!("line {line}: value key '{k}' occurs twice"));
            }
            attributes.push(Attribute {
                scope: row.service,
                code: row.code,
                order: row.order,
                datatype,
                required: boolean(line, "required", &row.required)?,
                variable: boolean(line, "variable", &row.variable)?,
                description: row.description,
                datatype_description: Some(row.datatype_description).filter(|d| !d.is_empty()),
                values,
            });
        }
        let services = Services { attributes };
        for c in catalog.leaf_categories() {
            let attrs = services.attributes_of(c);
            let mut codes = HashSet::new();
            let mut orders = HashSet::new();
            for a in attrs {
                if !codes.insert(&a.code) {
                    return Err(format!("service {}: attribute code {} occurs twice", c.code, a.code));
                }
                if !orders.insert(a.order) {
                    return Err(format!("service {}: order {} occurs twice", c.code, a.order));
                }
            }
        }
        Ok(services)
    }

    /// The embedded attribute file checked against `catalog`. They are Dongcheng's questions: a
    /// store with another city's catalog (`jiesu import`) has services without attributes.
    pub fn embedded(catalog: &Catalog) -> Result<Services, String> {
        if catalog.district_code() != jiesu_domain::catalog::DISTRICT_CODE {
            let header = ATTRIBUTES_CSV.lines().find(|l| !l.starts_with('#')).unwrap_or_default();
            return Services::parse(header, catalog);
        }
        Services::parse(ATTRIBUTES_CSV, catalog)
    }

    /// The attributes of service `c`, in order.
    pub fn attributes_of(&self, c: &Category) -> Vec<&Attribute> {
        let mut v: Vec<&Attribute> = self.attributes.iter().filter(|a| a.applies_to(c)).collect();
        v.sort_by_key(|a| a.order);
        v
    }

    /// Every attribute row.
    pub fn all_attributes(&self) -> &[Attribute] {
        &self.attributes
    }
}

/// `batch` for complex matters (a token first, the request id once it is numbered), else `realtime`.
pub fn service_type(c: &Category) -> &'static str {
    if c.deadline_class == DeadlineClass::Complex { "batch" } else { "realtime" }
}

/// A span in Chinese (`7个工作日`, `2小时`).
pub fn span_label(span: Span) -> String {
    match span {
        Span::Hours(n) => format!("{n}小时"),
        Span::WorkingDays(n) => format!("{n}个工作日"),
        Span::Days(n) => format!("{n}天"),
    }
}

/// What the district promises for a service: its deadline class and span, and who handles it.
pub fn notice(c: &Category, catalog: &Catalog, policy: &DeadlinePolicy) -> String {
    let who = c
        .unit
        .as_deref()
        .and_then(|u| catalog.unit(u))
        .map_or_else(|| c.unit_kind.label().to_string(), |u| u.name.clone());
    format!("{}类诉求，{}内办理，承办：{}", c.deadline_class.label(), span_label(policy.span(c.deadline_class)), who)
}

/// The entry of service `c` in the service list.
pub fn service_json(c: &Category, catalog: &Catalog, services: &Services, policy: &DeadlinePolicy) -> Value {
    let group = c.parent.as_deref().and_then(|p| catalog.category(p)).map(|p| p.name.clone());
    json!({
        "service_code": c.code,
        "service_name": c.name,
        "description": notice(c, catalog, policy),
        "metadata": !services.attributes_of(c).is_empty(),
        "type": service_type(c),
        "keywords": c.keywords.join(", "),
        "group": group,
    })
}

/// The service definition of `c`.
pub fn definition_json(c: &Category, services: &Services) -> Value {
    let attributes: Vec<Value> = services.attributes_of(c).into_iter().map(Attribute::to_json).collect();
    json!({ "service_code": c.code, "attributes": attributes })
}

/// Checks the posted attribute values (`attribute[CODE]` → values) against the definitions of
/// a service. Returns the values to store (a string, or a list for multivaluelist; numbers and
/// date-times normalised) or every problem found.
pub fn check_attributes(
    defs: &[&Attribute],
    posted: &BTreeMap<String, Vec<String>>,
    tz: Tz,
) -> Result<Map<String, Value>, Vec<String>> {
    let mut problems = Vec::new();
    let mut out = Map::new();
    for code in posted.keys() {
        if !defs.iter().any(|d| d.variable && &d.code == code) {
            let known: Vec<&str> = defs.iter().filter(|d| d.variable).map(|d| d.code.as_str()).collect();
            problems
                .push(format!("attribute[{code}]: this service has no such attribute (it has: {})", known.join(", ")));
        }
    }
    for d in defs.iter().filter(|d| d.variable) {
        let name = format!("attribute[{}]", d.code);
        let values = posted.get(&d.code).map(Vec::as_slice).unwrap_or(&[]);
        if values.is_empty() {
            if d.required {
                problems.push(format!("{name}: required ({})", d.description));
            }
            continue;
        }
        if d.datatype != Datatype::MultiValueList && values.len() > 1 {
            problems.push(format!("{name}: takes one value, got {}", values.len()));
            continue;
        }
        let v = values[0].as_str();
        let checked: Result<Value, String> = match d.datatype {
            Datatype::String if v.contains(['\n', '\r']) => Err("a string has no line breaks (text does)".into()),
            Datatype::String if v.chars().count() > MAX_STRING_CHARS => {
                Err(format!("longer than {MAX_STRING_CHARS} characters"))
            }
            Datatype::Text if v.chars().count() > MAX_TEXT_CHARS => {
                Err(format!("longer than {MAX_TEXT_CHARS} characters"))
            }
            Datatype::String | Datatype::Text => Ok(json!(v)),
            Datatype::Number => match v.parse::<f64>() {
                Ok(n) if n.is_finite() => Ok(json!(v)),
                _ => Err(format!("'{v}' is not a number")),
            },
            Datatype::Datetime => w3c_datetime(&name, v, tz)
                .map(|t| json!(t.to_rfc3339_opts(SecondsFormat::Secs, true)))
                .map_err(|e| e.descriptions.join("; ").trim_start_matches(&format!("{name}: ")).to_string()),
            Datatype::SingleValueList | Datatype::MultiValueList => {
                let keys: Vec<&str> = d.values.iter().map(|(k, _)| k.as_str()).collect();
                match values.iter().find(|v| !keys.contains(&v.as_str())) {
                    Some(bad) => Err(format!("'{bad}' is not one of {}", keys.join(", "))),
                    None if d.datatype == Datatype::MultiValueList => {
                        let mut seen = Vec::new();
                        for v in values {
                            if !seen.contains(v) {
                                seen.push(v.clone());
                            }
                        }
                        Ok(json!(seen))
                    }
                    None => Ok(json!(v)),
                }
            }
        };
        match checked {
            Ok(value) => {
                out.insert(d.code.clone(), value);
            }
            Err(m) => problems.push(format!("{name}: {m}")),
        }
    }
    if problems.is_empty() { Ok(out) } else { Err(problems) }
}

/// The attribute values in words, one line each (`室内温度（℃）：16`), for the case text.
pub fn attributes_text(defs: &[&Attribute], values: &Map<String, Value>) -> String {
    let mut lines = Vec::new();
    for d in defs {
        let Some(v) = values.get(&d.code) else { continue };
        let name_of = |key: &str| d.values.iter().find(|(k, _)| k == key).map_or(key.to_string(), |(_, n)| n.clone());
        let shown = match v {
            Value::Array(items) => items.iter().filter_map(Value::as_str).map(name_of).collect::<Vec<_>>().join("、"),
            Value::String(s) if d.datatype == Datatype::SingleValueList => name_of(s),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        lines.push(format!("{}：{shown}", d.description));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn services() -> (Catalog, Services) {
        let catalog = Catalog::dongcheng();
        let s = Services::embedded(&catalog).expect("data/open311_attributes.csv is valid");
        (catalog, s)
    }

    #[test]
    fn the_attribute_file_is_valid_and_uses_every_datatype() {
        let (catalog, s) = services();
        for d in Datatype::ALL {
            assert!(s.all_attributes().iter().any(|a| a.datatype == d), "no attribute of datatype {}", d.code());
        }
        assert!(s.all_attributes().iter().any(|a| !a.variable), "an information-only attribute");
        assert!(s.all_attributes().iter().any(|a| a.required), "a required attribute");
        // A top-level scope reaches every leaf under it.
        for leaf in catalog.children("09") {
            assert!(s.attributes_of(leaf).iter().any(|a| a.code == "HOURS"), "{}", leaf.code);
        }
        let heat = catalog.category("0401").unwrap();
        let codes: Vec<&str> = s.attributes_of(heat).iter().map(|a| a.code.as_str()).collect();
        assert_eq!(codes, ["KIND", "ROOM_TEMP", "PRIVACY"]);
    }

    #[test]
    fn broken_attribute_files_are_refused_with_the_line() {
        let catalog = Catalog::dongcheng();
        let head = "service,code,order,datatype,required,variable,description,datatype_description,values\n";
        let cases = [
            ("9999,X,1,string,false,true,问,,\n", "unknown service"),
            ("0101,x-y,1,string,false,true,问,,\n", "must be A-Z"),
            ("0101,1X,1,string,false,true,问,,\n", "a letter first"),
            ("0101,X,1,colour,false,true,问,,\n", "unknown datatype"),
            ("0101,X,1,singlevaluelist,false,true,问,,\n", "list datatypes"),
            ("0101,X,1,string,false,true,问,,a:甲\n", "list datatypes"),
            ("0101,X,1,singlevaluelist,false,true,问,,a:甲|a:乙\n", "occurs twice"),
            ("0101,X,1,string,maybe,true,问,,\n", "true or false"),
            ("0101,X,1,string,false,true,问,,\n01,Y,1,string,false,true,问,,\n", "order 1 occurs twice"),
            ("0101,X,1,string,false,true,问,,\n*,X,2,string,false,true,问,,\n", "code X occurs twice"),
        ];
        for (rows, expected) in cases {
            let e = Services::parse(&format!("{head}{rows}"), &catalog).unwrap_err();
            assert!(e.contains(expected), "{rows:?}: {e}");
        }
    }

    #[test]
    fn posted_attributes_are_checked_by_datatype() {
        let (catalog, s) = services();
        let tz = chrono_tz::Asia::Shanghai;
        let noise = s.attributes_of(catalog.category("0902").unwrap());
        let post = |pairs: &[(&str, &str)]| {
            let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for (k, v) in pairs {
                m.entry(k.to_string()).or_default().push(v.to_string());
            }
            m
        };
        let ok = check_attributes(
            &noise,
            &post(&[("HOURS", "night"), ("HOURS", "evening"), ("HOURS", "night"), ("KIND", "help")]),
            tz,
        )
        .unwrap();
        assert_eq!(ok["HOURS"], json!(["night", "evening"]));
        assert_eq!(ok["KIND"], json!("help"));
        let text = attributes_text(&noise, &ok);
        assert!(text.contains("夜间") && text.contains("求助"), "{text}");
        let e = check_attributes(&noise, &post(&[]), tz).unwrap_err();
        assert!(e[0].starts_with("attribute[HOURS]: required"), "{e:?}");
        let e = check_attributes(
            &noise,
            &post(&[("HOURS", "noon"), ("BOGUS", "1"), ("KIND", "help"), ("KIND", "consult")]),
            tz,
        )
        .unwrap_err();
        assert_eq!(e.len(), 3, "{e:?}");
        let heat = s.attributes_of(catalog.category("0401").unwrap());
        assert!(check_attributes(&heat, &post(&[("ROOM_TEMP", "warm")]), tz).unwrap_err()[0].contains("not a number"));
        let water = s.attributes_of(catalog.category("0501").unwrap());
        let t = check_attributes(&water, &post(&[("SINCE", "2026-11-27T01:30:00Z")]), tz).unwrap();
        assert_eq!(t["SINCE"], json!("2026-11-27T01:30:00Z"));
        assert!(
            check_attributes(&water, &post(&[("SINCE", "2026-11-27T09:30")]), tz).unwrap_err()[0].contains("time zone")
        );
        let lift = s.attributes_of(catalog.category("0306").unwrap());
        assert!(
            check_attributes(&lift, &post(&[("BUILDING", "3号楼\n2单元")]), tz).unwrap_err()[0].contains("line breaks")
        );
    }
}
