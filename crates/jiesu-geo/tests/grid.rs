//! The unit grid over the real Dongcheng outline (../shared/data/geo/110101_full.json).

use std::collections::HashSet;
use std::sync::OnceLock;

use jiesu_geo::grid::serial_number;
use jiesu_geo::{AreaPrecision, Geo, GeoError, Lookup};

const OUTLINE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/geo/110101_full.json");

fn geo() -> &'static Geo {
    static GEO: OnceLock<Geo> = OnceLock::new();
    GEO.get_or_init(|| {
        let text = std::fs::read_to_string(OUTLINE)
            .unwrap_or_else(|e| panic!("these tests need the shared data ({OUTLINE}): {e}"));
        Geo::dongcheng(&text).expect("grid over the Dongcheng outline")
    })
}

#[test]
fn cell_count_matches_the_district_area() {
    let grid = geo().grid().unwrap();
    let stats = grid.stats();
    println!(
        "cells {}, outline {:.2} km², cells {:.2} km², base-36 serials {}, communities with cells {}/{}",
        stats.cells,
        stats.outline_km2,
        stats.cells_km2,
        stats.base36_serials,
        stats.communities_with_cells,
        stats.communities
    );
    for s in &stats.streets {
        println!(
            "  {} {}: {} cells, {}/{} communities",
            s.code, s.name, s.cells, s.communities_with_cells, s.communities
        );
    }
    // Dongcheng is 41.84 km²: about 4,184 cells of one hectare.
    assert!((40.0..44.0).contains(&stats.outline_km2), "outline area {}", stats.outline_km2);
    assert!((3_900..4_500).contains(&stats.cells), "{} cells", stats.cells);
    assert!(
        (stats.cells_km2 - stats.outline_km2).abs() < 1.5,
        "cells {} vs outline {}",
        stats.cells_km2,
        stats.outline_km2
    );
    assert_eq!(stats.area_precision, AreaPrecision::Approximate);
    for s in &stats.streets {
        assert!(s.cells >= 40, "street {} has only {} cells", s.name, s.cells);
    }
}

#[test]
fn codes_are_unique_fourteen_characters_and_carry_street_and_community() {
    let grid = geo().grid().unwrap();
    let mut seen = HashSet::new();
    for c in grid.cells() {
        assert_eq!(c.code.len(), 14, "{}", c.code);
        assert!(seen.insert(c.code.clone()), "duplicate code {}", c.code);
        assert!(c.code[..12].bytes().all(|b| b.is_ascii_digit()), "{}", c.code);
        assert!(serial_number(&c.code[12..]).is_some(), "{}", c.code);
        assert_eq!(&c.code[..6], "110101");
        let street = grid.street_of(c);
        assert_eq!(&c.code[6..9], &street.code[6..9], "{}", c.code);
        if let Some(k) = grid.community_of(c) {
            assert_eq!(k.street_code, street.code, "community {} is not in street {}", k.short_name, street.name);
            assert_eq!(&c.code[9..12], &k.code[9..12]);
        }
        assert_eq!(grid.cell(&c.code), Some(c));
    }
    let digits = grid.cells().iter().filter(|c| c.code.bytes().all(|b| b.is_ascii_digit())).count();
    println!("all-digit codes: {digits} of {}", grid.cells().len());
}

#[test]
fn every_cell_centre_is_inside_the_outline_and_finds_its_own_cell() {
    use geo::Contains;
    let grid = geo().grid().unwrap();
    for c in grid.cells() {
        assert!(grid.outline().contains(&geo::Point::new(c.centre.lon, c.centre.lat)), "{}", c.code);
        match grid.lookup(c.centre.lon, c.centre.lat).unwrap() {
            Lookup::Inside(found) => assert_eq!(found.code, c.code),
            Lookup::Outside => panic!("centre of {} is outside", c.code),
        }
    }
}

#[test]
fn every_point_inside_the_outline_has_a_cell_and_every_point_outside_has_none() {
    use geo::{BoundingRect, Contains};
    let grid = geo().grid().unwrap();
    let bbox = grid.outline().bounding_rect().unwrap();
    let (mut inside, mut outside, mut neighbour) = (0, 0, 0);
    let steps = 400;
    for i in 0..=steps {
        for j in 0..=steps {
            let lon = bbox.min().x - 0.002 + (bbox.width() + 0.004) * i as f64 / steps as f64;
            let lat = bbox.min().y - 0.002 + (bbox.height() + 0.004) * j as f64 / steps as f64;
            let truth = grid.outline().contains(&geo::Point::new(lon, lat));
            match grid.lookup(lon, lat).unwrap() {
                Lookup::Inside(c) => {
                    assert!(truth, "({lon}, {lat}) is outside the outline but got {}", c.code);
                    inside += 1;
                    // The answering cell is the point's own square, or for border slivers a
                    // nearby cell (a narrow tongue of the outline may be thinner than a cell).
                    let d = jiesu_geo::distance_m(c.centre, jiesu_geo::LonLat { lon, lat });
                    if d > 72.0 {
                        neighbour += 1;
                    }
                    assert!(d < 400.0, "({lon}, {lat}) answered by far cell {} ({d:.0} m)", c.code);
                }
                Lookup::Outside => {
                    assert!(!truth, "({lon}, {lat}) is inside the outline but got no cell");
                    outside += 1;
                }
            }
        }
    }
    println!("sampled {inside} points inside ({neighbour} answered by a neighbouring cell), {outside} outside");
    assert!(inside > 10_000 && outside > 10_000);
}

#[test]
fn known_places_fall_in_their_streets() {
    let grid = geo().grid().unwrap();
    // (place, GCJ-02 point, street): points of well-known places, away from street borders.
    let cases = [
        ("故宫 太和殿", 116.3970, 39.9165, "东华门街道"),
        ("王府井百货大楼", 116.4112, 39.9142, "东华门街道"),
        ("南锣鼓巷中段", 116.4033, 39.9370, "交道口街道"),
        ("天坛祈年殿", 116.4070, 39.8830, "天坛街道"),
        ("地坛公园", 116.4165, 39.9540, "和平里街道"),
        ("北京站", 116.4273, 39.9030, "建国门街道"),
        ("国子监", 116.4125, 39.9470, "安定门街道"),
        ("龙潭公园", 116.4350, 39.8795, "龙潭街道"),
        ("百荣世贸商城", 116.4000, 39.8620, "永定门外街道"),
    ];
    for (place, lon, lat, street) in cases {
        match grid.lookup(lon, lat).unwrap() {
            Lookup::Inside(c) => assert_eq!(grid.street_of(c).name, street, "{place}: cell {}", c.code),
            Lookup::Outside => panic!("{place} is outside"),
        }
    }
}

#[test]
fn outside_points_are_refused_and_bad_coordinates_are_errors() {
    let grid = geo().grid().unwrap();
    // 人民大会堂 (西城区), 北海公园 (西城区), 国贸 (朝阳区), 北京南站 (丰台区), Shanghai, Null Island.
    for (lon, lat) in [
        (116.3875, 39.9045),
        (116.3890, 39.9255),
        (116.4610, 39.9090),
        (116.3790, 39.8650),
        (121.47, 31.23),
        (0.0, 0.0),
    ] {
        assert_eq!(grid.lookup(lon, lat).unwrap(), Lookup::Outside, "({lon}, {lat})");
    }
    for (lon, lat) in [(f64::NAN, 39.9), (116.4, f64::INFINITY), (181.0, 39.9), (116.4, -91.0), (39.9, 116.4)] {
        let err = grid.lookup(lon, lat).unwrap_err();
        assert!(matches!(err, GeoError::Coordinate { .. }), "{err}");
    }
    let located = geo().locate("井盖丢失", None, Some((116.4610, 39.9090))).unwrap();
    assert!(located.outside_district);
    assert!(located.street.is_none());
    assert!(geo().locate("井盖丢失", None, Some((f64::NAN, 39.9))).is_err());
}

#[test]
fn a_bad_outline_is_refused_with_a_reason() {
    let catalog = jiesu_domain::catalog::Catalog::dongcheng();
    let csv = jiesu_geo::gazetteer::DONGCHENG_GAZETTEER_CSV;
    for (text, needle) in [
        ("{not json", "not valid GeoJSON"),
        (r#"{"type":"FeatureCollection","features":[]}"#, "no features"),
        (r#"{"type":"Point","coordinates":[116.4,39.9]}"#, "not a Polygon"),
    ] {
        let err = Geo::new(&catalog, csv, Some(text), None).unwrap_err().to_string();
        assert!(err.contains(needle), "{err}");
    }
}

/// How well the approximate areas predict a place's street: for every gazetteer place with a
/// stated street and a fine point, the street the seeds *other than its own* give its point.
#[test]
fn approximate_areas_agree_with_the_stated_streets_leave_one_out() {
    use jiesu_geo::{Areas, Kind, Seed};
    let g = geo().gazetteer();
    let seeds: Vec<(usize, Seed)> = g
        .entries()
        .iter()
        .enumerate()
        .filter_map(|(i, e)| Some((i, Seed { point: e.point?, street: e.street?, community: e.community })))
        .collect();
    let (mut tried, mut agree) = (0, 0);
    for (i, e) in g.entries().iter().enumerate() {
        let fine = e.precision_m.is_some_and(|p| p <= jiesu_geo::FINE_POINT_M);
        let (Some(point), Some(street)) = (e.point, e.street) else { continue };
        if !fine || matches!(e.kind, Kind::Street | Kind::Community) {
            continue;
        }
        let others: Vec<Seed> = seeds.iter().filter(|(j, _)| *j != i).map(|(_, s)| *s).collect();
        let areas = Areas::from_seeds(others, g.streets(), g.communities()).unwrap();
        tried += 1;
        if areas.assign(point).street == street {
            agree += 1;
        } else {
            println!("  {} ({}) → {}", e.name, g.streets()[street].name, g.streets()[areas.assign(point).street].name);
        }
    }
    let rate = agree as f64 / tried as f64;
    println!(
        "approximate areas, leave-one-out: {agree} of {tried} places in their stated street ({:.1}%)",
        100.0 * rate
    );
    assert!(tried >= 100, "{tried}");
    assert!(rate >= 0.85, "{rate}");
}
