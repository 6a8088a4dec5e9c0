//! Tests of the district catalog: the shipped Dongcheng files and every validation rule.

use jiesu_domain::catalog::{Catalog, CatalogError, CatalogFiles};
use jiesu_domain::model::{DeadlineClass, UnitKind};
use proptest::prelude::*;

// ---------------------------------------------------------------------------------------------
// The shipped catalog
// ---------------------------------------------------------------------------------------------

#[test]
fn shipped_catalog_parses() {
    Catalog::from_files(CatalogFiles::DONGCHENG).expect("embedded catalog must be valid");
    let catalog = Catalog::dongcheng();
    assert_eq!(catalog.district_code(), "110101");
    assert_eq!(catalog.district_name(), "东城区");
}

#[test]
fn shipped_catalog_has_17_streets_and_169_communities() {
    let catalog = Catalog::dongcheng();
    assert_eq!(catalog.streets().len(), 17);
    for (i, street) in catalog.streets().iter().enumerate() {
        assert_eq!(street.code, format!("110101{:03}", i + 1));
        assert!(street.name.ends_with("街道"), "{}", street.name);
    }
    assert_eq!(catalog.communities().len(), 169);
    for street in catalog.streets() {
        assert!(!catalog.communities_of(&street.code).is_empty(), "{} has no community", street.name);
    }
    for c in catalog.communities() {
        assert!(c.code.starts_with(&c.street_code), "{}", c.code);
        assert!(c.name.ends_with("社区居委会"), "{}", c.name);
        assert!(c.short_name.ends_with("社区") && c.name.starts_with(&c.short_name), "{}", c.short_name);
    }
    assert_eq!(catalog.street("110101001").unwrap().name, "东华门街道");
    assert_eq!(catalog.street("110101017").unwrap().name, "永定门外街道");
    assert_eq!(catalog.community("110101001001").unwrap().short_name, "多福巷社区");
    assert_eq!(catalog.communities_of("110101010").len(), 20);
    assert!(catalog.street("110102001").is_none());
    assert!(catalog.community("nope").is_none());
    assert!(catalog.communities_of("nope").is_empty());
}

#[test]
fn shipped_units() {
    let catalog = Catalog::dongcheng();
    let fallback = catalog.fallback_unit();
    assert_eq!(fallback.kind, UnitKind::District);
    assert_eq!(fallback.code, "D000");
    assert_eq!(catalog.units().iter().filter(|u| u.kind == UnitKind::District).count(), 1);
    for street in catalog.streets() {
        let unit = catalog.street_unit(&street.code).expect("street office");
        assert_eq!(unit.kind, UnitKind::Street);
        assert_eq!(unit.street_code.as_deref(), Some(street.code.as_str()));
        assert_eq!(unit.code, format!("S{}", &street.code[6..]));
        assert_eq!(unit.name, format!("{}办事处", street.name));
    }
    let count = |kind| catalog.units().iter().filter(|u| u.kind == kind).count();
    assert!(count(UnitKind::Department) >= 20);
    assert!(count(UnitKind::Utility) >= 8);
    assert_eq!(catalog.unit("S001").unwrap().name, "东华门街道办事处");
    assert_eq!(catalog.unit("B04").unwrap().name, "北京市东城区市场监督管理局");
    assert!(catalog.unit("X99").is_none());
    assert!(catalog.street_unit("110102001").is_none());
}

#[test]
fn shipped_categories() {
    let catalog = Catalog::dongcheng();
    let tops: Vec<_> = catalog.categories().iter().filter(|c| !c.is_leaf()).collect();
    let leaves = catalog.leaf_categories();
    assert!((18..=25).contains(&tops.len()), "{} top-level", tops.len());
    assert!(leaves.len() >= 90, "{} leaves", leaves.len());
    assert_eq!(tops.len() + leaves.len(), catalog.categories().len());
    for top in &tops {
        assert_eq!(top.code.len(), 2);
        assert!(!catalog.children(&top.code).is_empty(), "{} has no children", top.name);
    }
    for leaf in &leaves {
        let parent = catalog.category(leaf.parent.as_deref().unwrap()).expect("parent");
        assert!(!parent.is_leaf());
        assert!(leaf.code.starts_with(&parent.code) && leaf.code.len() == 4);
        assert!(DeadlineClass::ALL.contains(&leaf.deadline_class));
        assert!(!leaf.keywords.is_empty(), "{} has no keywords", leaf.name);
        if let Some(unit) = &leaf.unit {
            assert_eq!(catalog.unit(unit).expect("unit").kind, leaf.unit_kind, "{}", leaf.name);
        }
    }
    for class in DeadlineClass::ALL {
        assert!(leaves.iter().any(|l| l.deadline_class == *class), "no leaf is {class}");
    }
    let by_name = |name: &str| *leaves.iter().find(|c| c.name == name).expect(name);
    assert_eq!(by_name("燃气泄漏").deadline_class, DeadlineClass::Emergency);
    assert_eq!(by_name("消防安全隐患").deadline_class, DeadlineClass::Emergency);
    assert_eq!(by_name("房屋安全隐患").deadline_class, DeadlineClass::Emergency);
    assert_eq!(by_name("供水管道爆裂").deadline_class, DeadlineClass::Emergency);
    assert_eq!(by_name("暖气不热").deadline_class, DeadlineClass::Utility);
    assert_eq!(by_name("停电").deadline_class, DeadlineClass::Utility);
    assert_eq!(by_name("违法建设").deadline_class, DeadlineClass::Complex);
    assert_eq!(by_name("物业纠纷").deadline_class, DeadlineClass::Complex);
    assert_eq!(by_name("占道经营").unit_kind, UnitKind::Street);
    assert_eq!(by_name("楼道堆物").unit_kind, UnitKind::Street);
    let heating = catalog.unit(by_name("暖气不热").unit.as_deref().unwrap()).unwrap();
    assert_eq!(heating.name, "北京市热力集团有限责任公司");
    assert_eq!(by_name("食品安全").unit.as_deref(), Some("B04"));
    assert!(by_name("燃气泄漏").keywords.iter().any(|k| k == "煤气味"));
    assert!(leaves.iter().any(|l| l.name == "办不成事"));
    assert!(catalog.category("99").is_none());
    assert!(catalog.children("0101").is_empty());
}

#[test]
fn catalog_serialises_to_json() {
    let json = serde_json::to_value(Catalog::dongcheng()).unwrap();
    assert_eq!(json["district_code"], "110101");
    assert_eq!(json["streets"].as_array().unwrap().len(), 17);
    assert_eq!(json["units"][0]["kind"], "district");
    assert!(json.get("index").is_none());
}

// ---------------------------------------------------------------------------------------------
// Validation, on a small catalog whose line numbers are known
// ---------------------------------------------------------------------------------------------

const STREETS: &str = "# two streets\ncode,name\n110101001,东华门街道\n110101002,景山街道\n";
const COMMUNITIES: &str = "code,name,street_code,short_name\n\
    110101001001,多福巷社区居委会,110101001,多福巷社区\n\
    110101002001,景山社区居委会,110101002,景山社区\n";
const UNITS: &str = "# units\n# more comment\ncode,name,kind,street_code\n\
    D000,区中心,district,\n\
    S001,东华门街道办事处,street,110101001\n\
    S002,景山街道办事处,街道,110101002\n\
    B04,区市场监督管理局,department,\n";
const CATEGORIES: &str = "code,name,parent,deadline_class,unit_kind,keywords\n\
    01,城市管理,,general,street,\n\
    0101,占道经营,01,general,street,摆摊|游商\n\
    02,市场监管,,general,department,\n\
    0201,食品安全,02,紧急,委办局,食品 | 变质\n";
const RESPONSIBILITY: &str = "# who handles what\ncategory,area,unit,note\n\
    0101,*,街道,属地直派\n\
    0201,*,B04,主责\n\
    *,*,D000,兜底\n";

fn files() -> CatalogFiles<'static> {
    CatalogFiles {
        streets: STREETS,
        communities: COMMUNITIES,
        units: UNITS,
        categories: CATEGORIES,
        responsibility: RESPONSIBILITY,
    }
}

fn parse_error(files: CatalogFiles<'_>) -> CatalogError {
    Catalog::from_files(files).expect_err("should be refused")
}

/// Asserts a row error at `file`, `line` whose message contains every one of `words`.
fn assert_row_error(error: CatalogError, file: &str, line: usize, words: &[&str]) {
    let text = error.to_string();
    match &error {
        CatalogError::Parse { file: f, line: l, message } => {
            assert_eq!((*f, *l), (file, line), "{text}");
            for word in words {
                assert!(message.contains(word), "'{word}' not in: {text}");
            }
        }
        other => panic!("expected a row error, got {other:?}"),
    }
    assert!(text.starts_with(&format!("{file}, line {line}: ")), "{text}");
}

fn assert_file_error(error: CatalogError, file: &str, words: &[&str]) {
    let text = error.to_string();
    match &error {
        CatalogError::Invalid { file: f, message } => {
            assert_eq!(*f, file, "{text}");
            for word in words {
                assert!(message.contains(word), "'{word}' not in: {text}");
            }
        }
        other => panic!("expected a file error, got {other:?}"),
    }
    assert!(text.starts_with(&format!("{file}: ")), "{text}");
}

#[test]
fn small_catalog_parses_with_labels_and_keywords() {
    let catalog = Catalog::from_files(files()).unwrap();
    assert_eq!(catalog.unit("S002").unwrap().kind, UnitKind::Street);
    let food = catalog.category("0201").unwrap();
    assert_eq!(food.deadline_class, DeadlineClass::Emergency);
    assert_eq!(food.unit_kind, UnitKind::Department);
    assert_eq!(food.keywords, vec!["食品", "变质"]);
    assert!(catalog.category("01").unwrap().keywords.is_empty());
    assert_eq!(catalog.leaf_categories().len(), 2);
    assert_eq!(catalog.children("01")[0].code, "0101");
    assert_eq!(catalog.street_unit("110101002").unwrap().code, "S002");
    let other = catalog.with_district("110102", "西城区");
    assert_eq!((other.district_code(), other.district_name()), ("110102", "西城区"));
}

#[test]
fn duplicate_codes_are_refused() {
    let streets = format!("{STREETS}110101001,又一个街道\n");
    let e = parse_error(CatalogFiles { streets: &streets, ..files() });
    assert_row_error(e, "streets.csv", 5, &["duplicate", "110101001", "line 3"]);

    let communities = format!("{COMMUNITIES}110101001001,重复社区居委会,110101001,重复社区\n");
    let e = parse_error(CatalogFiles { communities: &communities, ..files() });
    assert_row_error(e, "communities.csv", 4, &["duplicate", "110101001001", "line 2"]);

    let units = format!("{UNITS}B04,另一个局,department,\n");
    let e = parse_error(CatalogFiles { units: &units, ..files() });
    assert_row_error(e, "units.csv", 8, &["duplicate", "B04", "line 7"]);

    let categories = format!("{CATEGORIES}0101,重复,01,general,street,\n");
    let e = parse_error(CatalogFiles { categories: &categories, ..files() });
    assert_row_error(e, "categories.csv", 6, &["duplicate", "0101", "line 3"]);
}

#[test]
fn community_of_unknown_street_is_refused() {
    let communities = format!("{COMMUNITIES}110101099001,某社区居委会,110101099,某社区\n");
    let e = parse_error(CatalogFiles { communities: &communities, ..files() });
    assert_row_error(e, "communities.csv", 4, &["110101099", "street_code"]);
}

#[test]
fn street_unit_needs_a_known_street() {
    let units = format!("{UNITS}S003,无街道办事处,street,\n");
    let e = parse_error(CatalogFiles { units: &units, ..files() });
    assert_row_error(e, "units.csv", 8, &["S003", "no street_code"]);

    let units = format!("{UNITS}S099,某街道办事处,street,110101099\n");
    let e = parse_error(CatalogFiles { units: &units, ..files() });
    assert_row_error(e, "units.csv", 8, &["S099", "unknown street_code", "110101099"]);

    let units = format!("{UNITS}S009,重复街道办事处,street,110101001\n");
    let e = parse_error(CatalogFiles { units: &units, ..files() });
    assert_row_error(e, "units.csv", 8, &["110101001", "S001", "S009"]);
}

#[test]
fn exactly_one_district_unit() {
    let units = format!("{UNITS}D001,另一个中心,district,\n");
    let e = parse_error(CatalogFiles { units: &units, ..files() });
    assert_row_error(e, "units.csv", 8, &["D001", "D000", "line 4"]);

    let units = UNITS.replace("D000,区中心,district,\n", "");
    let e = parse_error(CatalogFiles { units: &units, ..files() });
    assert_file_error(e, "units.csv", &["district"]);
}

#[test]
fn every_street_needs_a_street_unit() {
    let units = UNITS.replace("S002,景山街道办事处,街道,110101002\n", "");
    let e = parse_error(CatalogFiles { units: &units, ..files() });
    assert_file_error(e, "units.csv", &["110101002", "景山街道", "street office"]);
}

#[test]
fn unknown_unit_kind_is_refused() {
    let units = format!("{UNITS}B99,某局,bureau,\n");
    let e = parse_error(CatalogFiles { units: &units, ..files() });
    assert_row_error(e, "units.csv", 8, &["unknown kind", "bureau", "department"]);
}

#[test]
fn category_with_unknown_parent_is_refused() {
    let categories = format!("{CATEGORIES}0901,某类,09,general,street,\n");
    let e = parse_error(CatalogFiles { categories: &categories, ..files() });
    assert_row_error(e, "categories.csv", 6, &["unknown parent", "09"]);
}

#[test]
fn category_with_unknown_class_or_kind_is_refused() {
    let categories = format!("{CATEGORIES}0102,某类,01,urgent,street,\n");
    let e = parse_error(CatalogFiles { categories: &categories, ..files() });
    assert_row_error(e, "categories.csv", 6, &["deadline_class", "urgent", "emergency"]);

    let categories = format!("{CATEGORIES}0102,某类,01,general,company,\n");
    let e = parse_error(CatalogFiles { categories: &categories, ..files() });
    assert_row_error(e, "categories.csv", 6, &["unit_kind", "company", "utility"]);
}

#[test]
fn responsibility_rows_with_unknown_or_mismatched_codes_are_refused() {
    let bad = |row: &str| {
        let responsibility = format!("{RESPONSIBILITY}{row}\n");
        parse_error(CatalogFiles { responsibility: &responsibility, ..files() })
    };
    // Line 6: two header lines, three rows, then the added one.
    assert_row_error(bad("0201,*,B77,x"), "responsibility.csv", 6, &["unknown unit", "B77"]);
    assert_row_error(bad("0999,*,B04,x"), "responsibility.csv", 6, &["unknown category", "0999"]);
    assert_row_error(bad("0201,110101099,B04,x"), "responsibility.csv", 6, &["unknown area", "110101099"]);
    assert_row_error(bad("0201,*,D000,x"), "responsibility.csv", 6, &["same category and area", "line 4"]);
    let mismatched = RESPONSIBILITY.replace("0201,*,B04", "0201,*,S001");
    let e = parse_error(CatalogFiles { responsibility: &mismatched, ..files() });
    assert_row_error(e, "responsibility.csv", 4, &["0201", "department", "street"]);
    let uncovered = RESPONSIBILITY.replace("*,*,D000,兜底\n", "").replace("0201,*,B04,主责\n", "");
    let e = parse_error(CatalogFiles { responsibility: &uncovered, ..files() });
    assert_file_error(e, "responsibility.csv", &["0201", "食品安全"]);
}

#[test]
fn the_most_specific_responsibility_row_wins_and_is_named() {
    let catalog = Catalog::from_files(files()).unwrap();
    assert_eq!(catalog.category("0201").unwrap().unit.as_deref(), Some("B04"));
    assert_eq!(catalog.category("0101").unwrap().unit, None);
    // District-wide rows.
    let r = catalog.route("0201", None, None);
    assert_eq!(r.unit, "B04");
    assert!(r.rule.contains("line 4") && r.rule.contains("主责"), "{}", r.rule);
    let r = catalog.route("0101", Some("110101002"), None);
    assert_eq!(r.unit, "S002");
    assert!(r.rule.contains("直派") && r.rule.contains("line 3"), "{}", r.rule);
    // 直派 needs a street: without one the case goes to the next row that applies.
    let r = catalog.route("0101", None, None);
    assert_eq!(r.unit, "D000");
    assert!(r.rule.contains("兜底"), "{}", r.rule);
    // The street is found from the community.
    assert_eq!(catalog.route("0101", None, Some("110101001001")).unit, "S001");

    // Area rows beat district-wide rows; a community row beats a street row; a top-level row in
    // an area beats a district-wide leaf row.
    let responsibility = format!(
        "{RESPONSIBILITY}0201,110101001,S001,东华门地区由街道统筹\n0201,110101001001,B04,多福巷仍归市场监管\n02,110101002,S002,景山地区\n"
    );
    let catalog = Catalog::from_files(CatalogFiles { responsibility: &responsibility, ..files() }).unwrap();
    assert_eq!(catalog.route("0201", Some("110101001"), None).unit, "S001");
    assert_eq!(catalog.route("0201", Some("110101001"), Some("110101001001")).unit, "B04");
    let r = catalog.route("0201", Some("110101002"), None);
    assert_eq!(r.unit, "S002");
    assert!(r.rule.contains("line 8") && r.rule.contains("110101002"), "{}", r.rule);
    // Unknown category: the district.
    assert_eq!(catalog.route("7777", None, None).unit, "D000");
}

#[test]
fn every_dongcheng_leaf_routes_somewhere_named_in_the_list() {
    let catalog = Catalog::dongcheng();
    assert_eq!(catalog.responsibility().rules().len(), 146);
    for leaf in catalog.leaf_categories() {
        for street in catalog.streets() {
            let r = catalog.route(&leaf.code, Some(&street.code), None);
            assert!(r.rule.starts_with("权责清单 line "), "{}: {}", leaf.code, r.rule);
            let unit = catalog.unit(&r.unit).unwrap();
            if leaf.unit_kind == UnitKind::Street {
                assert_eq!(unit.street_code.as_deref(), Some(street.code.as_str()), "{}", r.rule);
            }
        }
    }
}

#[test]
fn top_level_category_with_parent_is_refused() {
    let categories = format!("{CATEGORIES}03,某类,01,general,street,\n");
    let e = parse_error(CatalogFiles { categories: &categories, ..files() });
    assert_row_error(e, "categories.csv", 6, &["top-level", "03", "01"]);
}

#[test]
fn leaf_under_a_leaf_is_refused() {
    let categories = format!("{CATEGORIES}0102,某类,0101,general,street,\n");
    let e = parse_error(CatalogFiles { categories: &categories, ..files() });
    assert_row_error(e, "categories.csv", 6, &["0101", "itself a second-level"]);
}

#[test]
fn malformed_category_codes_are_refused() {
    let categories = format!("{CATEGORIES}0301,某类,,general,street,\n");
    let e = parse_error(CatalogFiles { categories: &categories, ..files() });
    assert_row_error(e, "categories.csv", 6, &["0301", "no parent"]);

    let categories = format!("{CATEGORIES}1a,某类,,general,street,\n");
    let e = parse_error(CatalogFiles { categories: &categories, ..files() });
    assert_row_error(e, "categories.csv", 6, &["1a", "2 digits"]);

    let categories = format!("{CATEGORIES}0302,某类,01,general,street,\n");
    let e = parse_error(CatalogFiles { categories: &categories, ..files() });
    assert_row_error(e, "categories.csv", 6, &["0302", "start with", "01"]);

    let categories = format!("{CATEGORIES}03,空类,,general,street,\n");
    let e = parse_error(CatalogFiles { categories: &categories, ..files() });
    assert_file_error(e, "categories.csv", &["03", "no second-level"]);
}

#[test]
fn malformed_rows_and_headers_are_refused() {
    let streets = format!("{STREETS}110101003,和平里街道,多余\n");
    let e = parse_error(CatalogFiles { streets: &streets, ..files() });
    assert_row_error(e, "streets.csv", 5, &["expected 2 fields", "found 3"]);

    let streets = format!("{STREETS}110101003,\n");
    let e = parse_error(CatalogFiles { streets: &streets, ..files() });
    assert_row_error(e, "streets.csv", 5, &["'name' is empty"]);

    let streets = format!("{STREETS}1101 01003,某街道\n");
    let e = parse_error(CatalogFiles { streets: &streets, ..files() });
    assert_row_error(e, "streets.csv", 5, &["whitespace", "1101 01003"]);

    let communities = COMMUNITIES.replace("short_name", "short");
    let e = parse_error(CatalogFiles { communities: &communities, ..files() });
    assert_file_error(e, "communities.csv", &["missing column 'short_name'"]);

    let e = parse_error(CatalogFiles { streets: "# nothing\n", ..files() });
    assert_file_error(e, "streets.csv", &["missing column 'code'"]);

    let e = parse_error(CatalogFiles { streets: "code,name\n", ..files() });
    assert_file_error(e, "streets.csv", &["no rows"]);
}

#[test]
fn extra_columns_and_column_order_are_free() {
    let streets = "note,name,code\nx,东华门街道,110101001\ny,景山街道,110101002\n";
    let catalog = Catalog::from_files(CatalogFiles { streets, ..files() }).unwrap();
    assert_eq!(catalog.street("110101002").unwrap().name, "景山街道");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Whatever text a district supplies, parsing returns a result and never panics.
    #[test]
    fn arbitrary_files_never_panic(text in "[-a-z0-9,|#\"\n 社区街道]{0,200}", which in 0usize..4) {
        let mut f = files();
        match which {
            0 => f.streets = &text,
            1 => f.communities = &text,
            2 => f.units = &text,
            _ => f.categories = &text,
        }
        let _ = Catalog::from_files(f);
    }
}
