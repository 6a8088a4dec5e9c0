//! Who handles a case when the dispatcher names no unit: the simplest responsibility list
//! (权责清单) — the category's own unit, else the street office for street matters, else the
//! district. Each decision names the rule that fired; it is recorded on the dispatch event.

use jiesu_domain::catalog::Catalog;
use jiesu_domain::model::UnitKind;

/// The unit chosen and the rule that chose it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Unit code.
    pub unit: String,
    /// The rule that fired, e.g. `category 0301 → U03`.
    pub rule: String,
}

/// Routes a case of leaf category `category` in street `street`.
pub fn route(catalog: &Catalog, category: &str, street: Option<&str>) -> Route {
    let fallback = || Route {
        unit: catalog.fallback_unit().code.clone(),
        rule: format!("fallback: category {category} has no responsible unit here → district"),
    };
    let Some(cat) = catalog.category(category) else { return fallback() };
    if let Some(unit) = &cat.unit {
        return Route { unit: unit.clone(), rule: format!("category {} ({}) → {unit}", cat.code, cat.name) };
    }
    if cat.unit_kind == UnitKind::Street
        && let Some(u) = street.and_then(|s| catalog.street_unit(s)) {
            return Route {
                unit: u.code.clone(),
                rule: format!("直派: street matter {} ({}) in street {} → {}", cat.code, cat.name, u.street_code.as_deref().unwrap_or(""), u.code),
            };
        }
    fallback()
}
