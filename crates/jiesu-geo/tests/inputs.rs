//! Bad gazetteer rows and area polygons are refused with a reason; real polygons replace the
//! approximate areas.

use jiesu_domain::catalog::Catalog;
use jiesu_geo::{AreaPrecision, Geo, GeoError, Lookup};

const HEADER: &str = "# comment\nname,kind,aliases,lon,lat,precision_m,street,community\n";

fn gazetteer_error(rows: &str) -> String {
    let text = format!("{HEADER}{rows}\n");
    match Geo::new(&Catalog::dongcheng(), &text, None, None) {
        Err(e @ GeoError::Gazetteer { .. }) => e.to_string(),
        other => panic!("expected a gazetteer error for {rows:?}, got {other:?}"),
    }
}

#[test]
fn bad_gazetteer_rows_name_the_line_and_the_value() {
    let cases = [
        ("南锣鼓巷,hutong,,116.40,39.93,300,海淀街道,", "line 3: street \"海淀街道\" is not in the catalog"),
        ("南锣鼓巷,alley,,116.40,39.93,300,,", "line 3: unknown kind \"alley\""),
        ("南锣鼓巷,hutong,,east,39.93,300,,", "line 3: lon \"east\" is not a number"),
        ("南锣鼓巷,hutong,,116.40,95,300,,", "line 3: bad coordinate"),
        ("南锣鼓巷,hutong,,116.40,39.93,near,,", "line 3: precision_m \"near\""),
        (",hutong,,116.40,39.93,300,,", "line 3: empty name"),
        ("某某社区,community,,,,,,", "line 3: community \"某某社区\" is not in the catalog"),
        ("南锣鼓巷,hutong,,116.40,39.93,300,龙潭街道,南锣鼓巷社区", "belongs to another street"),
        ("东华门街道,street,,,,,,\n东华门街道,street,,,,,,", "line 4: street \"东华门街道\" is listed twice"),
    ];
    for (rows, needle) in cases {
        let err = gazetteer_error(rows);
        assert!(err.contains(needle), "{rows:?}: {err}");
    }
    let err = Geo::new(&Catalog::dongcheng(), "name,aliases\nx,y\n", None, None).unwrap_err().to_string();
    assert!(err.contains("no \"kind\" column"), "{err}");
}

#[test]
fn catalog_streets_and_communities_are_found_even_when_the_file_omits_them() {
    let geo = Geo::new(&Catalog::dongcheng(), HEADER, None, None).unwrap();
    assert_eq!(geo.gazetteer().entries().len(), 17 + 169);
    let p = geo.locate("上龙社区有人占道", None, None).unwrap();
    assert_eq!(p.street.unwrap().name, "和平里街道");
    assert_eq!(p.community.unwrap().code, "110101010029");
    assert!(p.point.is_none());
}

/// A square around a point, as a GeoJSON polygon ring.
fn square(lon: f64, lat: f64, half: f64) -> String {
    format!(
        "[[[{w},{s}],[{e},{s}],[{e},{n}],[{w},{n}],[{w},{s}]]]",
        w = lon - half,
        e = lon + half,
        s = lat - half,
        n = lat + half
    )
}

#[test]
fn real_polygons_replace_the_approximate_areas_where_they_cover() {
    let outline = format!(r#"{{"type":"Polygon","coordinates":{}}}"#, square(116.41, 39.92, 0.01));
    // The whole test district is 景山街道 by polygon, and one corner is 隆福寺社区.
    let areas = format!(
        r#"{{"type":"FeatureCollection","features":[
            {{"type":"Feature","properties":{{"code":"110101002"}},"geometry":{{"type":"Polygon","coordinates":{}}}}},
            {{"type":"Feature","properties":{{"name":"隆福寺社区"}},"geometry":{{"type":"Polygon","coordinates":{}}}}}
        ]}}"#,
        square(116.41, 39.92, 0.011),
        square(116.415, 39.925, 0.004)
    );
    let csv = jiesu_geo::gazetteer::DONGCHENG_GAZETTEER_CSV;
    let geo = Geo::new(&Catalog::dongcheng(), csv, Some(&outline), Some(&areas)).unwrap();
    let grid = geo.grid().unwrap();
    assert!(grid.cells().iter().all(|c| grid.street_of(c).name == "景山街道"));
    let Lookup::Inside(c) = grid.lookup(116.416, 39.926).unwrap() else { panic!("inside") };
    assert_eq!(grid.community_of(c).unwrap().short_name, "隆福寺社区");
    assert_eq!(c.area_precision, AreaPrecision::Surveyed);
    let Lookup::Inside(c) = grid.lookup(116.403, 39.913).unwrap() else { panic!("inside") };
    assert_eq!(c.area_precision, AreaPrecision::Approximate, "street surveyed, community from seeds");
    let p = geo.locate("", None, Some((116.416, 39.926))).unwrap();
    assert_eq!(p.area_precision, AreaPrecision::Surveyed);

    let unknown = format!(
        r#"{{"type":"FeatureCollection","features":[{{"type":"Feature","properties":{{"code":"110102001"}},"geometry":{{"type":"Polygon","coordinates":{}}}}}]}}"#,
        square(116.41, 39.92, 0.01)
    );
    let err = Geo::new(&Catalog::dongcheng(), csv, Some(&outline), Some(&unknown)).unwrap_err().to_string();
    assert!(err.contains("110102001") && err.contains("neither a street nor a community"), "{err}");
}
