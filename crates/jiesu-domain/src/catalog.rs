//! The district's catalog: its streets (街道), communities (社区), responsible units (承办单位) and the
//! two-level request categories (诉求分类) that cases are filed under.
//!
//! The catalog is data, not code. The defaults for Dongcheng District (东城区, 110101) live in the
//! project's `data/*.csv` files and are embedded here with `include_str!`; another district passes its
//! own files to [`Catalog::from_files`]. Parsing is pure (strings in, values out) and checks the files
//! against each other: an unknown street, unit or parent, a duplicate code or a missing street office is
//! refused with a [`CatalogError`] that names the file, the line and the offending value.
//!
//! Every file may start with `#` comment lines and must have a header row naming its columns; the
//! columns may come in any order and extra columns are ignored.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Serialize;

use crate::model::{DeadlineClass, UnitKind};

mod responsibility;
mod stored;
pub use responsibility::{AreaScope, CategoryScope, ResponsibilityList, Route, Rule, Target};
pub use stored::{DISTRICT_FILE, HOLIDAYS_FILE, StoredCatalog};

/// Statistical division code of the default district (北京市东城区).
pub const DISTRICT_CODE: &str = "110101";
/// Name of the default district.
pub const DISTRICT_NAME: &str = "东城区";

/// Name used for the streets file in errors.
pub const STREETS_FILE: &str = "streets.csv";
/// Name used for the communities file in errors.
pub const COMMUNITIES_FILE: &str = "communities.csv";
/// Name used for the units file in errors.
pub const UNITS_FILE: &str = "units.csv";
/// Name used for the categories file in errors.
pub const CATEGORIES_FILE: &str = "categories.csv";
/// Name used for the responsibility list (权责清单) in errors.
pub const RESPONSIBILITY_FILE: &str = "responsibility.csv";

/// A street (街道), the administrative level below the district.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Street {
    /// 9-digit statistical division code, e.g. `110101001`.
    pub code: String,
    /// Name, e.g. `东华门街道`.
    pub name: String,
}

/// A community (社区), the level below the street.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Community {
    /// 12-digit statistical division code, e.g. `110101001001`.
    pub code: String,
    /// Official name, e.g. `多福巷社区居委会`.
    pub name: String,
    /// Common short form, e.g. `多福巷社区`.
    pub short_name: String,
    /// Code of the street the community belongs to.
    pub street_code: String,
}

/// A responsible unit (承办单位) that cases are dispatched to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unit {
    /// Short stable code: `D000` district, `S001` street office, `B01` department, `U01` utility.
    pub code: String,
    /// Name, e.g. `东华门街道办事处`.
    pub name: String,
    /// What kind of unit it is.
    pub kind: UnitKind,
    /// For a street office, the street it serves.
    pub street_code: Option<String>,
}

/// A request category. Top-level categories group leaves; cases are filed under leaves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Category {
    /// `01` for a top-level category, `0101` (parent code + 2 digits) for a leaf.
    pub code: String,
    /// Name, e.g. `占道经营`.
    pub name: String,
    /// Parent code for a leaf, `None` for a top-level category.
    pub parent: Option<String>,
    /// How fast a case in this category must be handled.
    pub deadline_class: DeadlineClass,
    /// Which kind of unit normally handles it (`Street`: the street office of the place).
    pub unit_kind: UnitKind,
    /// Default unit code, if one unit handles it district-wide: the responsibility list's
    /// district-wide row for this leaf, when that row names a fixed unit.
    pub unit: Option<String>,
    /// Keywords that hint at this category during intake.
    pub keywords: Vec<String>,
}

impl Category {
    /// True for a second-level category (the level cases are filed under).
    pub fn is_leaf(&self) -> bool {
        self.parent.is_some()
    }
}

/// Why a catalog could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    /// A row is wrong: it cannot be read, a value is missing or malformed, or it contradicts another row.
    #[error("{file}, line {line}: {message}")]
    Parse {
        /// The file (e.g. `units.csv`).
        file: &'static str,
        /// 1-based line number in the file, comment lines included.
        line: usize,
        /// What is wrong, naming the value.
        message: String,
    },
    /// The file as a whole is wrong (a missing column, a required row that is absent).
    #[error("{file}: {message}")]
    Invalid {
        /// The file (e.g. `units.csv`).
        file: &'static str,
        /// What is wrong.
        message: String,
    },
}

/// The texts of the five catalog files.
#[derive(Debug, Clone, Copy)]
pub struct CatalogFiles<'a> {
    /// `streets.csv`: `code,name`.
    pub streets: &'a str,
    /// `communities.csv`: `code,name,street_code,short_name`.
    pub communities: &'a str,
    /// `units.csv`: `code,name,kind,street_code`.
    pub units: &'a str,
    /// `categories.csv`: `code,name,parent,deadline_class,unit_kind,keywords`.
    pub categories: &'a str,
    /// `responsibility.csv` (权责清单): `category,area,unit,note`.
    pub responsibility: &'a str,
}

impl CatalogFiles<'static> {
    /// The embedded files for Dongcheng District (the project's `data/` directory).
    pub const DONGCHENG: CatalogFiles<'static> = CatalogFiles {
        streets: include_str!("../../../data/streets.csv"),
        communities: include_str!("../../../data/communities.csv"),
        units: include_str!("../../../data/units.csv"),
        categories: include_str!("../../../data/categories.csv"),
        responsibility: include_str!("../../../data/responsibility.csv"),
    };
}

/// The validated catalog of one district, with lookups by code.
#[derive(Debug, Clone, Serialize)]
pub struct Catalog {
    district_code: String,
    district_name: String,
    streets: Vec<Street>,
    communities: Vec<Community>,
    units: Vec<Unit>,
    categories: Vec<Category>,
    responsibility: ResponsibilityList,
    #[serde(skip)]
    index: Index,
}

/// Positions in the catalog's vectors, by code.
#[derive(Debug, Clone, Default)]
struct Index {
    streets: HashMap<String, usize>,
    communities: HashMap<String, usize>,
    units: HashMap<String, usize>,
    categories: HashMap<String, usize>,
    street_units: HashMap<String, usize>,
    fallback: usize,
}

impl Catalog {
    /// The embedded Dongcheng catalog. The embedded files are checked by the tests, so this never fails.
    pub fn dongcheng() -> Catalog {
        static DONGCHENG: OnceLock<Catalog> = OnceLock::new();
        DONGCHENG
            .get_or_init(|| {
                Catalog::from_files(CatalogFiles::DONGCHENG)
                    .unwrap_or_else(|e| panic!("embedded catalog is invalid: {e}"))
            })
            .clone()
    }

    /// Parses and validates the five files. The district code and name are the defaults
    /// ([`DISTRICT_CODE`], [`DISTRICT_NAME`]); change them with [`Catalog::with_district`].
    pub fn from_files(files: CatalogFiles<'_>) -> Result<Catalog, CatalogError> {
        let mut index = Index::default();
        let streets = parse_streets(files.streets, &mut index)?;
        let communities = parse_communities(files.communities, &mut index)?;
        let units = parse_units(files.units, &streets, &mut index)?;
        let categories = parse_categories(files.categories, &mut index)?;
        let mut catalog = Catalog {
            district_code: DISTRICT_CODE.to_string(),
            district_name: DISTRICT_NAME.to_string(),
            streets,
            communities,
            units,
            categories,
            responsibility: ResponsibilityList::default(),
            index,
        };
        let list = responsibility::parse(files.responsibility, &catalog)?;
        // A category's default unit: its district-wide row, when that names a unit of the kind
        // that normally handles it (not the district centre standing in).
        let units: HashMap<String, UnitKind> = catalog.units.iter().map(|u| (u.code.clone(), u.kind)).collect();
        for c in &mut catalog.categories {
            let unit = list.default_unit(&c.code).filter(|u| units.get(*u) == Some(&c.unit_kind));
            c.unit = unit.map(str::to_string);
        }
        catalog.responsibility = list;
        Ok(catalog)
    }

    /// The same catalog for another district code and name.
    pub fn with_district(mut self, code: impl Into<String>, name: impl Into<String>) -> Catalog {
        self.district_code = code.into();
        self.district_name = name.into();
        self
    }

    /// Statistical division code of the district, e.g. `110101`.
    pub fn district_code(&self) -> &str {
        &self.district_code
    }

    /// Name of the district, e.g. `东城区`.
    pub fn district_name(&self) -> &str {
        &self.district_name
    }

    /// All streets, in file order.
    pub fn streets(&self) -> &[Street] {
        &self.streets
    }

    /// The street with this code.
    pub fn street(&self, code: &str) -> Option<&Street> {
        lookup(&self.index.streets, &self.streets, code)
    }

    /// All communities, in file order.
    pub fn communities(&self) -> &[Community] {
        &self.communities
    }

    /// The community with this code.
    pub fn community(&self, code: &str) -> Option<&Community> {
        lookup(&self.index.communities, &self.communities, code)
    }

    /// The communities of a street, in file order (empty for an unknown street).
    pub fn communities_of(&self, street_code: &str) -> Vec<&Community> {
        self.communities.iter().filter(|c| c.street_code == street_code).collect()
    }

    /// All units, in file order.
    pub fn units(&self) -> &[Unit] {
        &self.units
    }

    /// The unit with this code.
    pub fn unit(&self, code: &str) -> Option<&Unit> {
        lookup(&self.index.units, &self.units, code)
    }

    /// The district unit: takes whatever cannot be routed elsewhere.
    pub fn fallback_unit(&self) -> &Unit {
        &self.units[self.index.fallback]
    }

    /// The street office (unit of kind street) of a street.
    pub fn street_unit(&self, street_code: &str) -> Option<&Unit> {
        lookup(&self.index.street_units, &self.units, street_code)
    }

    /// The responsibility list (权责清单) that [`Catalog::route`] applies.
    pub fn responsibility(&self) -> &ResponsibilityList {
        &self.responsibility
    }

    /// All categories, in file order.
    pub fn categories(&self) -> &[Category] {
        &self.categories
    }

    /// The category with this code.
    pub fn category(&self, code: &str) -> Option<&Category> {
        lookup(&self.index.categories, &self.categories, code)
    }

    /// The second-level categories, which cases are filed under, in file order.
    pub fn leaf_categories(&self) -> Vec<&Category> {
        self.categories.iter().filter(|c| c.is_leaf()).collect()
    }

    /// The categories whose parent is `parent`, in file order.
    pub fn children(&self, parent: &str) -> Vec<&Category> {
        self.categories.iter().filter(|c| c.parent.as_deref() == Some(parent)).collect()
    }
}

/// The item whose code maps to a position in `items`.
fn lookup<'a, T>(index: &HashMap<String, usize>, items: &'a [T], code: &str) -> Option<&'a T> {
    index.get(code).map(|&i| &items[i])
}

/// One data row: its line and the values of the requested columns, in the requested order.
struct Row {
    file: &'static str,
    line: usize,
    values: Vec<String>,
}

impl Row {
    fn error(&self, message: impl Into<String>) -> CatalogError {
        let (file, line, message) = (self.file, self.line, message.into());
        CatalogError::Parse { file, line, message }
    }

    /// A value that must not be empty.
    fn required(&self, i: usize, column: &str) -> Result<String, CatalogError> {
        match self.values[i].as_str() {
            "" => Err(self.error(format!("column '{column}' is empty"))),
            v => Ok(v.to_string()),
        }
    }

    /// A value that may be empty.
    fn optional(&self, i: usize) -> Option<String> {
        Some(self.values[i].clone()).filter(|v| !v.is_empty())
    }

    /// A code: required, without spaces.
    fn code(&self, i: usize, column: &str) -> Result<String, CatalogError> {
        let value = self.required(i, column)?;
        match value.chars().any(char::is_whitespace) {
            true => Err(self.error(format!("{column} '{value}' contains whitespace"))),
            false => Ok(value),
        }
    }

    /// A coded enum value (code or Chinese label); `choices` lists the accepted values.
    fn coded<T: std::str::FromStr>(&self, i: usize, column: &str, choices: fn() -> String) -> Result<T, CatalogError> {
        let value = self.required(i, column)?;
        value.parse().map_err(|_| {
            let owner = &self.values[0];
            self.error(format!("'{owner}' has unknown {column} '{value}' (expected {})", choices()))
        })
    }
}

fn invalid(file: &'static str, message: impl Into<String>) -> CatalogError {
    CatalogError::Invalid { file, message: message.into() }
}

/// Reads a CSV text with `#` comments and a header row, returning the given columns of every row.
fn read_table(file: &'static str, text: &str, columns: &[&str]) -> Result<Vec<Row>, CatalogError> {
    let mut reader = csv::ReaderBuilder::new().comment(Some(b'#')).trim(csv::Trim::All).from_reader(text.as_bytes());
    let csv_error = |e: csv::Error| {
        let line = e.position().map_or(0, |p| p.line() as usize);
        let message = match e.kind() {
            csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
                format!("expected {expected_len} fields as in the header, found {len}")
            }
            _ => e.to_string(),
        };
        CatalogError::Parse { file, line, message }
    };
    let header = reader.headers().map_err(csv_error)?.clone();
    let mut positions = Vec::new();
    for column in columns {
        let Some(i) = header.iter().position(|h| h == *column) else {
            let expected = columns.join(",");
            let message = format!("missing column '{column}' in the header (expected {expected})");
            return Err(invalid(file, message));
        };
        positions.push(i);
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(csv_error)?;
        let line = record.position().map_or(0, |p| p.line() as usize);
        let values = positions.iter().map(|&i| record[i].to_string()).collect();
        rows.push(Row { file, line, values });
    }
    match rows.is_empty() {
        true => Err(invalid(file, "no rows")),
        false => Ok(rows),
    }
}

/// Maps each item's code to its position, refusing a code that occurs twice.
fn index_codes<T>(
    rows: &[Row],
    items: &[T],
    what: &str,
    code: fn(&T) -> &str,
) -> Result<HashMap<String, usize>, CatalogError> {
    let mut index = HashMap::new();
    for (i, (row, item)) in rows.iter().zip(items).enumerate() {
        if let Some(first) = index.insert(code(item).to_string(), i) {
            let (code, line) = (code(item), rows[first].line);
            return Err(row.error(format!("duplicate {what} code '{code}' (first on line {line})")));
        }
    }
    Ok(index)
}

/// Parses every row with `parse`, stopping at the first error.
fn parse_rows<T>(rows: &[Row], parse: impl Fn(&Row) -> Result<T, CatalogError>) -> Result<Vec<T>, CatalogError> {
    rows.iter().map(parse).collect()
}

/// "a or 甲, b or 乙" for error messages.
fn expected<'a>(choices: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    let choices: Vec<_> = choices.map(|(code, label)| format!("{code} or {label}")).collect();
    choices.join(", ")
}

fn unit_kinds() -> String {
    expected(UnitKind::ALL.iter().map(|k| (k.code(), k.label())))
}

fn deadline_classes() -> String {
    expected(DeadlineClass::ALL.iter().map(|c| (c.code(), c.label())))
}

fn parse_streets(text: &str, index: &mut Index) -> Result<Vec<Street>, CatalogError> {
    let rows = read_table(STREETS_FILE, text, &["code", "name"])?;
    let streets = parse_rows(&rows, |row| Ok(Street { code: row.code(0, "code")?, name: row.required(1, "name")? }))?;
    index.streets = index_codes(&rows, &streets, "street", |s| &s.code)?;
    Ok(streets)
}

fn parse_communities(text: &str, index: &mut Index) -> Result<Vec<Community>, CatalogError> {
    let columns = ["code", "name", "street_code", "short_name"];
    let rows = read_table(COMMUNITIES_FILE, text, &columns)?;
    let communities = parse_rows(&rows, |row| {
        let (code, street_code) = (row.code(0, "code")?, row.code(2, "street_code")?);
        if !index.streets.contains_key(&street_code) {
            return Err(row.error(format!(
                "community '{code}' names unknown street_code '{street_code}' (not in {STREETS_FILE})"
            )));
        }
        let (name, short_name) = (row.required(1, "name")?, row.required(3, "short_name")?);
        Ok(Community { code, name, short_name, street_code })
    })?;
    index.communities = index_codes(&rows, &communities, "community", |c| &c.code)?;
    Ok(communities)
}

fn parse_units(text: &str, streets: &[Street], index: &mut Index) -> Result<Vec<Unit>, CatalogError> {
    let rows = read_table(UNITS_FILE, text, &["code", "name", "kind", "street_code"])?;
    let units = parse_rows(&rows, |row| {
        let code = row.code(0, "code")?;
        let kind = row.coded(2, "kind", unit_kinds)?;
        let street_code = row.optional(3);
        match &street_code {
            Some(s) if !index.streets.contains_key(s) => {
                Err(row.error(format!("unit '{code}' names unknown street_code '{s}' (not in {STREETS_FILE})")))
            }
            None if kind == UnitKind::Street => Err(row.error(format!("street unit '{code}' has no street_code"))),
            _ => Ok(Unit { code, name: row.required(1, "name")?, kind, street_code }),
        }
    })?;
    index.units = index_codes(&rows, &units, "unit", |u| &u.code)?;

    let mut district: Option<usize> = None;
    for (i, (row, unit)) in rows.iter().zip(&units).enumerate() {
        if unit.kind == UnitKind::District {
            if let Some(first) = district {
                let (code, first_code, line) = (&unit.code, &units[first].code, rows[first].line);
                return Err(row.error(format!(
                    "second district unit '{code}' (the first is '{first_code}' on line {line}); \
                     exactly one is allowed"
                )));
            }
            district = Some(i);
        }
        if let (UnitKind::Street, Some(street)) = (unit.kind, &unit.street_code)
            && let Some(first) = index.street_units.insert(street.clone(), i)
        {
            let (code, first_code) = (&unit.code, &units[first].code);
            return Err(row.error(format!(
                "street '{street}' already has street unit '{first_code}'; '{code}' would be a second one"
            )));
        }
    }
    let Some(district) = district else {
        return Err(invalid(UNITS_FILE, "no unit of kind 'district' (exactly one is required, as the fallback)"));
    };
    index.fallback = district;
    if let Some(street) = streets.iter().find(|s| !index.street_units.contains_key(&s.code)) {
        return Err(invalid(
            UNITS_FILE,
            format!(
                "street '{}' ({}) has no street office (a unit of kind 'street' with that street_code)",
                street.code, street.name
            ),
        ));
    }
    Ok(units)
}

fn parse_categories(text: &str, index: &mut Index) -> Result<Vec<Category>, CatalogError> {
    let columns = ["code", "name", "parent", "deadline_class", "unit_kind", "keywords"];
    let rows = read_table(CATEGORIES_FILE, text, &columns)?;
    let categories = parse_rows(&rows, |row| {
        let code = row.code(0, "code")?;
        if !matches!(code.len(), 2 | 4) || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(
                row.error(format!("category code '{code}' must be 2 digits (top level) or 4 digits (second level)"))
            );
        }
        let deadline_class = row.coded(3, "deadline_class", deadline_classes)?;
        let unit_kind = row.coded(4, "unit_kind", unit_kinds)?;
        let keywords = row.values[5].split('|').map(str::trim).filter(|k| !k.is_empty());
        Ok(Category {
            name: row.required(1, "name")?,
            parent: row.optional(2),
            keywords: keywords.map(str::to_string).collect(),
            code,
            deadline_class,
            unit_kind,
            unit: None,
        })
    })?;
    index.categories = index_codes(&rows, &categories, "category", |c| &c.code)?;
    for (row, category) in rows.iter().zip(&categories) {
        check_level(row, category, &categories, &index.categories)?;
    }
    let has_children = |c: &Category| categories.iter().any(|l| l.parent.as_ref() == Some(&c.code));
    if let Some(top) = categories.iter().find(|c| !c.is_leaf() && !has_children(c)) {
        let (code, name) = (&top.code, &top.name);
        let message = format!("top-level category '{code}' ({name}) has no second-level categories");
        return Err(invalid(CATEGORIES_FILE, message));
    }
    Ok(categories)
}

/// Checks that a category sits at the level its code says: 2 digits and no parent, or 4 digits under
/// a known top-level category whose code it extends.
fn check_level(
    row: &Row,
    category: &Category,
    categories: &[Category],
    positions: &HashMap<String, usize>,
) -> Result<(), CatalogError> {
    let code = &category.code;
    let Some(parent) = &category.parent else {
        return match code.len() {
            2 => Ok(()),
            _ => Err(row.error(format!("second-level category '{code}' has no parent"))),
        };
    };
    if code.len() == 2 {
        return Err(row.error(format!("top-level category '{code}' must not have a parent (found '{parent}')")));
    }
    let Some(&i) = positions.get(parent) else {
        return Err(row.error(format!("category '{code}' names unknown parent '{parent}'")));
    };
    if categories[i].is_leaf() || parent.len() != 2 {
        return Err(row.error(format!(
            "parent '{parent}' of category '{code}' is itself a second-level category \
             (only two levels are allowed)"
        )));
    }
    if !code.starts_with(parent.as_str()) {
        return Err(row.error(format!("category code '{code}' must start with its parent's code '{parent}'")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_files_parse_and_errors_list_choices() {
        let catalog = Catalog::from_files(CatalogFiles::DONGCHENG).unwrap();
        assert_eq!(catalog.fallback_unit().kind, UnitKind::District);
        assert!(unit_kinds().starts_with("district or 区级, street or 街道"));
    }
}
