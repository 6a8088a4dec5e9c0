//! A city's catalog built from its export and its mapping, for an empty store: departments →
//! units, category groups → top-level categories, categories → leaves, areas → streets (each with
//! its office), sub-areas → communities, and a responsibility list sending each leaf to the unit
//! that handled most of its cases. Pure: rows in, catalog files out (checked by the domain).

use std::collections::HashMap;

use jiesu_domain::catalog::{
    CATEGORIES_FILE, COMMUNITIES_FILE, DISTRICT_FILE, HOLIDAYS_FILE, RESPONSIBILITY_FILE, STREETS_FILE, UNITS_FILE,
};

use crate::mapping::Mapping;
use crate::rows::Parsed;

/// Distinct values in order of first appearance.
#[derive(Default)]
struct Distinct<K> {
    order: Vec<K>,
    seen: HashMap<K, usize>,
}

impl<K: Clone + Eq + std::hash::Hash> Distinct<K> {
    fn add(&mut self, k: &K) -> usize {
        if let Some(&i) = self.seen.get(k) {
            return i;
        }
        self.order.push(k.clone());
        self.seen.insert(k.clone(), self.order.len() - 1);
        self.order.len() - 1
    }
}

/// Writes rows as CSV text (quoted where needed).
fn csv_text(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header).expect("in memory");
    for r in rows {
        w.write_record(r).expect("in memory");
    }
    String::from_utf8(w.into_inner().expect("in memory")).expect("UTF-8 in, UTF-8 out")
}

/// The catalog files (`name`, text) for the rows' city.
pub fn catalog_files(mapping: &Mapping, rows: &[Parsed]) -> Result<Vec<(String, String)>, String> {
    let mut units: Distinct<String> = Distinct::default();
    let mut groups: Distinct<String> = Distinct::default();
    let mut leaves: Distinct<(String, String)> = Distinct::default();
    let mut areas: Distinct<String> = Distinct::default();
    let mut subareas: Distinct<(String, String)> = Distinct::default();
    // Per leaf, cases per unit.
    let mut handled: HashMap<usize, HashMap<usize, usize>> = HashMap::new();
    for r in rows {
        groups.add(&r.group);
        let leaf = leaves.add(&(r.group.clone(), r.category.clone()));
        if let Some(u) = &r.unit {
            let u = units.add(u);
            *handled.entry(leaf).or_default().entry(u).or_default() += 1;
        }
        if let Some(a) = &r.area {
            areas.add(a);
            if let Some(s) = &r.subarea {
                subareas.add(&(a.clone(), s.clone()));
            }
        }
    }
    if groups.order.len() > 99 {
        return Err(format!("{} category groups: at most 99 fit the catalog's codes", groups.order.len()));
    }
    if areas.order.is_empty() {
        // The catalog needs one area: the whole city.
        areas.add(&mapping.district.name);
    }
    let d = &mapping.district;
    let street_code = |i: usize| format!("A{:03}", i + 1);
    let unit_code = |i: usize| format!("B{:03}", i + 1);
    let streets: Vec<Vec<String>> =
        areas.order.iter().enumerate().map(|(i, a)| vec![street_code(i), a.clone()]).collect();
    let mut communities: Vec<Vec<String>> = Vec::new();
    let mut per_street = vec![0usize; areas.order.len()];
    for (a, s) in &subareas.order {
        let i = areas.seen[a];
        per_street[i] += 1;
        let code = format!("{}-{:03}", street_code(i), per_street[i]);
        communities.push(vec![code, format!("{s} ({a})"), street_code(i), s.clone()]);
    }
    for (i, a) in areas.order.iter().enumerate().filter(|(i, _)| per_street[*i] == 0) {
        communities.push(vec![format!("{}-000", street_code(i)), a.clone(), street_code(i), a.clone()]);
    }
    let mut unit_rows = vec![vec!["D000".into(), d.centre.clone(), "district".into(), String::new()]];
    unit_rows.extend(
        units.order.iter().enumerate().map(|(i, u)| vec![unit_code(i), u.clone(), "department".into(), String::new()]),
    );
    unit_rows.extend(
        areas
            .order
            .iter()
            .enumerate()
            .map(|(i, a)| vec![format!("S{:03}", i + 1), format!("{a} office"), "street".into(), street_code(i)]),
    );
    let mut categories = Vec::new();
    let mut responsibility = Vec::new();
    let mut per_group = vec![0usize; groups.order.len()];
    for (g, name) in groups.order.iter().enumerate() {
        categories.push(vec![
            format!("{:02}", g + 1),
            name.clone(),
            String::new(),
            "general".into(),
            "department".into(),
            String::new(),
        ]);
    }
    for (l, (group, name)) in leaves.order.iter().enumerate() {
        let g = groups.seen[group];
        per_group[g] += 1;
        if per_group[g] > 99 {
            return Err(format!("group {group:?} has more than 99 categories: they do not fit the catalog's codes"));
        }
        let code = format!("{:02}{:02}", g + 1, per_group[g]);
        let unit = handled
            .get(&l)
            .and_then(|by| by.iter().max_by_key(|(u, n)| (**n, std::cmp::Reverse(**u))).map(|(u, _)| *u));
        let (kind, unit, note) = match unit {
            Some(u) => ("department", unit_code(u), format!("{}: most cases of {name}", units.order[u])),
            None => ("district", "D000".to_string(), format!("{name}: no unit in the data")),
        };
        let class = mapping.deadline_class.get(name).copied().unwrap_or(mapping.defaults.deadline_class);
        categories.push(vec![
            code.clone(),
            name.clone(),
            format!("{:02}", g + 1),
            class.code().into(),
            kind.into(),
            String::new(),
        ]);
        responsibility.push(vec![code, "*".into(), unit, note]);
    }
    let holidays = match d.holidays.trim() {
        "china" => jiesu_domain::calendar::CHINA_HOLIDAYS_CSV.to_string(),
        text => text.to_string(),
    };
    let district = csv_text(
        &["code", "name", "time_zone"],
        &[vec![d.code.clone(), d.name.clone(), mapping.source.time_zone.clone()]],
    );
    Ok(vec![
        (STREETS_FILE.into(), csv_text(&["code", "name"], &streets)),
        (COMMUNITIES_FILE.into(), csv_text(&["code", "name", "street_code", "short_name"], &communities)),
        (UNITS_FILE.into(), csv_text(&["code", "name", "kind", "street_code"], &unit_rows)),
        (
            CATEGORIES_FILE.into(),
            csv_text(&["code", "name", "parent", "deadline_class", "unit_kind", "keywords"], &categories),
        ),
        (RESPONSIBILITY_FILE.into(), csv_text(&["category", "area", "unit", "note"], &responsibility)),
        (HOLIDAYS_FILE.into(), holidays),
        (DISTRICT_FILE.into(), district),
    ])
}
