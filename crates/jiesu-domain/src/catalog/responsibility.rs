//! The responsibility list (权责清单): which unit handles a case of a category in an area.
//!
//! Rows name a category (leaf, top level or `*`), an area (community, street or `*`) and a unit
//! or 直派 (the street office of the case's street). The most specific row wins — by area first,
//! then by category, then the earlier row — and the chosen row is reported as a [`Route`] whose
//! `rule` text goes on the dispatch event, so every routing decision can be traced to a line.

use std::collections::HashMap;

use serde::Serialize;

use super::{Catalog, CatalogError, RESPONSIBILITY_FILE, Row, Unit, invalid, read_table};
use crate::model::UnitKind;

/// Which categories a row covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "level", content = "code")]
pub enum CategoryScope {
    /// Every category.
    Any,
    /// Every leaf under a top-level category.
    Top(String),
    /// One leaf category.
    Leaf(String),
}

/// Where a row applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "level", content = "code")]
pub enum AreaScope {
    /// The whole district.
    Any,
    /// One street (9-digit code).
    Street(String),
    /// One community (12-digit code).
    Community(String),
}

/// Who a row sends the case to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "unit")]
pub enum Target {
    /// A fixed unit.
    Unit(String),
    /// 直派: the street office of the case's street.
    Street,
}

/// One row of the responsibility list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rule {
    /// Line in the file (1-based, comments included).
    pub line: usize,
    /// Categories covered.
    pub category: CategoryScope,
    /// Area covered.
    pub area: AreaScope,
    /// Who handles it.
    pub target: Target,
    /// Why, for the dispatcher.
    pub note: String,
}

impl Rule {
    /// (area, category) specificity: higher wins.
    fn rank(&self) -> (u8, u8) {
        let area = match self.area {
            AreaScope::Community(_) => 2,
            AreaScope::Street(_) => 1,
            AreaScope::Any => 0,
        };
        let category = match self.category {
            CategoryScope::Leaf(_) => 2,
            CategoryScope::Top(_) => 1,
            CategoryScope::Any => 0,
        };
        (area, category)
    }

    fn covers(&self, leaf: &str, top: Option<&str>, street: Option<&str>, community: Option<&str>) -> bool {
        let category = match &self.category {
            CategoryScope::Any => true,
            CategoryScope::Top(c) => Some(c.as_str()) == top,
            CategoryScope::Leaf(c) => c == leaf,
        };
        let area = match &self.area {
            AreaScope::Any => true,
            AreaScope::Street(s) => Some(s.as_str()) == street,
            AreaScope::Community(c) => Some(c.as_str()) == community,
        };
        category && area
    }
}

/// The unit chosen for a case and the rule that chose it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Route {
    /// Unit code.
    pub unit: String,
    /// The rule that fired, for the dispatch event, e.g.
    /// `权责清单 line 20: 0105 井盖缺失破损 × 全区 → B01 (井盖缺失破损：主责单位)`.
    pub rule: String,
}

/// The parsed and validated list.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ResponsibilityList {
    rules: Vec<Rule>,
    /// For each leaf category, the positions of the rules that can cover it (its own, its top
    /// level's and the `*` rows), in file order: routing looks at a handful of rows, not all.
    #[serde(skip)]
    by_leaf: HashMap<String, Vec<usize>>,
    /// Positions of the `*`-category rows, for codes that are not leaves.
    #[serde(skip)]
    any_category: Vec<usize>,
}

impl ResponsibilityList {
    /// Every row, in file order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The `*`-area row for exactly this leaf category naming a fixed unit, if any: the
    /// category's default unit.
    pub(super) fn default_unit(&self, leaf: &str) -> Option<&str> {
        self.rules.iter().find_map(|r| match (&r.category, &r.area, &r.target) {
            (CategoryScope::Leaf(c), AreaScope::Any, Target::Unit(u)) if c == leaf => Some(u.as_str()),
            _ => None,
        })
    }
}

impl Catalog {
    /// Routes a case of leaf category `category` in `street` / `community` by the
    /// responsibility list. Never fails: when no row applies (or the list is empty), the
    /// district unit takes the case and the rule says so.
    pub fn route(&self, category: &str, street: Option<&str>, community: Option<&str>) -> Route {
        let top = self.category(category).and_then(|c| c.parent.as_deref());
        // A community also lies in its street, even if the case did not say so.
        let street = street.or_else(|| community.and_then(|c| self.community(c)).map(|c| c.street_code.as_str()));
        let mut best: Option<(&Rule, &Unit)> = None;
        let list = &self.responsibility;
        let candidates = list.by_leaf.get(category).unwrap_or(&list.any_category);
        for rule in candidates.iter().map(|&i| &list.rules[i]) {
            if !rule.covers(category, top, street, community) {
                continue;
            }
            let unit = match &rule.target {
                Target::Unit(code) => self.unit(code),
                Target::Street => street.and_then(|s| self.street_unit(s)),
            };
            let Some(unit) = unit else { continue };
            if best.is_none_or(|(b, _)| rule.rank() > b.rank()) {
                best = Some((rule, unit));
            }
        }
        match best {
            Some((rule, unit)) => Route { unit: unit.code.clone(), rule: self.describe(rule, category, street, unit) },
            None => {
                let unit = self.fallback_unit();
                Route {
                    unit: unit.code.clone(),
                    rule: format!(
                        "兜底: no row of {RESPONSIBILITY_FILE} covers category {category} here → {}",
                        unit.code
                    ),
                }
            }
        }
    }

    fn describe(&self, rule: &Rule, category: &str, street: Option<&str>, unit: &Unit) -> String {
        let name = self.category(category).map_or("", |c| c.name.as_str());
        let area = match &rule.area {
            AreaScope::Any => "全区".to_string(),
            AreaScope::Street(s) | AreaScope::Community(s) => s.clone(),
        };
        let how = match rule.target {
            Target::Street => format!("直派 street {} → {}", street.unwrap_or(""), unit.code),
            Target::Unit(_) => format!("→ {}", unit.code),
        };
        format!("权责清单 line {}: {category} {name} × {area} {how} ({})", rule.line, rule.note)
    }
}

/// Parses `responsibility.csv` against the rest of the catalog.
pub(super) fn parse(text: &str, catalog: &Catalog) -> Result<ResponsibilityList, CatalogError> {
    let rows = read_table(RESPONSIBILITY_FILE, text, &["category", "area", "unit", "note"])?;
    let rules = rows.iter().map(|row| parse_rule(row, catalog)).collect::<Result<Vec<_>, _>>()?;
    for (i, a) in rules.iter().enumerate() {
        if let Some(b) = rules[..i].iter().find(|b| b.category == a.category && b.area == a.area) {
            let row = &rows[i];
            return Err(row.error(format!("the same category and area as line {} (one row each)", b.line)));
        }
    }
    // Every leaf must be routable somewhere without relying on the built-in fallback.
    let anywhere = |leaf: &str, top: Option<&str>| {
        rules.iter().any(|r| r.area == AreaScope::Any && r.covers(leaf, top, None, None))
    };
    if let Some(c) = catalog.leaf_categories().into_iter().find(|c| !anywhere(&c.code, c.parent.as_deref())) {
        return Err(invalid(
            RESPONSIBILITY_FILE,
            format!("no district-wide row (area *) covers category {} ({}); add one, or a `*,*,…` row", c.code, c.name),
        ));
    }
    let any_category: Vec<usize> = (0..rules.len()).filter(|&i| rules[i].category == CategoryScope::Any).collect();
    let mut by_leaf = HashMap::new();
    for leaf in catalog.leaf_categories() {
        let top = leaf.parent.as_deref();
        let covering = (0..rules.len()).filter(|&i| match &rules[i].category {
            CategoryScope::Any => true,
            CategoryScope::Top(c) => Some(c.as_str()) == top,
            CategoryScope::Leaf(c) => *c == leaf.code,
        });
        by_leaf.insert(leaf.code.clone(), covering.collect());
    }
    Ok(ResponsibilityList { rules, by_leaf, any_category })
}

fn parse_rule(row: &Row, catalog: &Catalog) -> Result<Rule, CatalogError> {
    let category = match row.code(0, "category")?.as_str() {
        "*" => CategoryScope::Any,
        code => match catalog.category(code) {
            Some(c) if c.is_leaf() => CategoryScope::Leaf(code.to_string()),
            Some(_) => CategoryScope::Top(code.to_string()),
            None => return Err(row.error(format!("unknown category '{code}' (not in categories.csv)"))),
        },
    };
    let area = match row.code(1, "area")?.as_str() {
        "*" => AreaScope::Any,
        code if catalog.street(code).is_some() => AreaScope::Street(code.to_string()),
        code if catalog.community(code).is_some() => AreaScope::Community(code.to_string()),
        code => {
            return Err(row.error(format!(
                "unknown area '{code}': expected *, a street code (streets.csv) or a community code (communities.csv)"
            )));
        }
    };
    let target = match row.code(2, "unit")?.as_str() {
        "街道" | "street" => Target::Street,
        code => match catalog.unit(code) {
            Some(_) => Target::Unit(code.to_string()),
            None => {
                return Err(
                    row.error(format!("unknown unit '{code}': expected a code from units.csv or 街道 (street)"))
                );
            }
        },
    };
    // A district-wide row for one leaf is that category's default: it must agree with the kind of
    // unit the category says normally handles it.
    if let (CategoryScope::Leaf(code), AreaScope::Any) = (&category, &area) {
        let c = catalog.category(code).expect("checked above");
        let kind = match &target {
            Target::Street => UnitKind::Street,
            Target::Unit(u) => catalog.unit(u).expect("checked above").kind,
        };
        if kind != c.unit_kind && kind != UnitKind::District {
            return Err(row.error(format!(
                "category {code} ({}) has unit_kind '{}' in categories.csv but this row sends it to a unit of kind '{kind}'",
                c.name, c.unit_kind
            )));
        }
    }
    Ok(Rule { line: row.line, category, area, target, note: row.optional(3).unwrap_or_default() })
}
