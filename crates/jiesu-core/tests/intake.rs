//! Place suggestions at the desk, over the real district outline (../shared/data): empty fields
//! are filled, given ones kept, overrides recorded on the 受理 event, and routing uses the
//! place found.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use jiesu_core::{Config, Desk};
use jiesu_domain::calendar::Calendar;
use jiesu_domain::catalog::Catalog;
use jiesu_domain::draft::{Contact, NewCase, Place};
use jiesu_domain::model::{CaseKind, Channel, Role};
use jiesu_domain::suggestion::{Outcome, Suggestion};
use jiesu_domain::workflow::{Action, Actor};
use jiesu_geo::Geo;

const OUTLINE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/geo/110101_full.json");

fn at() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-02T02:00:00Z").unwrap().with_timezone(&Utc)
}

fn operator() -> Actor {
    Actor { user: "op-1".into(), role: Role::Operator, unit: None }
}

fn draft(text: &str, address: Option<&str>, street: Option<&str>, point: Option<(f64, f64)>) -> NewCase {
    NewCase {
        channel: Channel::Hotline,
        kind: CaseKind::Complaint,
        title: None,
        text: text.into(),
        // 楼道堆物: a street matter, 直派 to the street office of the place.
        category: "0203".into(),
        place: Place {
            address: address.map(str::to_string),
            lon: point.map(|p| p.0),
            lat: point.map(|p| p.1),
            street: street.map(str::to_string),
            community: None,
            grid: None,
        },
        contact: Contact::default(),
        external_id: None,
    }
}

async fn desk(dir: &tempfile::TempDir) -> Desk {
    let url = format!("sqlite://{}/intake.db", dir.path().display());
    let store = jiesu_store::testing::connect(&url).await.unwrap();
    let outline = std::fs::read_to_string(OUTLINE).expect("../shared/data/geo/110101_full.json (the test data)");
    let geo = Geo::dongcheng(&outline).unwrap();
    Desk::new(store, Catalog::dongcheng(), Calendar::china(), Config::default()).with_geo(Arc::new(geo))
}

async fn intake_of(desk: &Desk, id: i64) -> (Vec<Suggestion>, Option<String>) {
    let events = desk.store().events(id).await.unwrap();
    let intake = match &events[0].action {
        Action::Receive { intake, .. } => intake.clone(),
        other => panic!("first event is {other:?}"),
    };
    let rule = match &events[1].action {
        Action::Dispatch { rule, .. } => rule.clone(),
        other => panic!("second event is {other:?}"),
    };
    (intake, rule)
}

fn find<'a>(s: &'a [Suggestion], field: &str) -> &'a Suggestion {
    s.iter().find(|x| x.field == field).unwrap_or_else(|| panic!("no {field} suggestion in {s:?}"))
}

#[tokio::test]
async fn the_desk_fills_the_place_from_the_address_and_routes_by_it() {
    let dir = tempfile::tempdir().unwrap();
    let desk = desk(&dir).await;
    let c = desk
        .receive(operator(), draft("楼道里堆满杂物", Some("东城区王府井大街255号"), None, None), at(), true)
        .await
        .unwrap();
    assert_eq!(c.case.place.street.as_deref(), Some("110101001"), "王府井大街 is in 东华门街道");
    assert_eq!(c.state.assignee.as_deref(), Some("S001"));
    let (intake, rule) = intake_of(&desk, c.id).await;
    let street = find(&intake, "street");
    assert_eq!((street.outcome, street.value.as_str()), (Outcome::Filled, "110101001"));
    assert!(street.source.contains("王府井大街") && street.source.contains("approximate"), "{}", street.source);
    assert!(street.confidence >= 0.5);
    let rule = rule.unwrap();
    assert!(rule.contains("直派") && rule.contains("110101001"), "{rule}");
    // A fine point got a grid cell and a point.
    if let Some(grid) = c.case.place.grid.as_deref() {
        assert!(grid.len() == 14 && grid.starts_with("110101001"), "{grid}");
        assert!(c.case.place.lat.is_some() && c.case.place.lon.is_some());
    }
    desk.store().close().await;
}

#[tokio::test]
async fn a_given_street_is_kept_and_the_suggestion_recorded_as_overridden() {
    let dir = tempfile::tempdir().unwrap();
    let desk = desk(&dir).await;
    let c = desk
        .receive(operator(), draft("南锣鼓巷里面楼道堆物", None, Some("110101006"), None), at(), true)
        .await
        .unwrap();
    assert_eq!(c.case.place.street.as_deref(), Some("110101006"));
    assert_eq!(c.state.assignee.as_deref(), Some("S006"));
    let (intake, _) = intake_of(&desk, c.id).await;
    let street = find(&intake, "street");
    assert_eq!(street.value, "110101003", "南锣鼓巷 is in 交道口街道");
    assert_eq!((street.outcome, street.chosen.as_deref()), (Outcome::Overridden, Some("110101006")));
    // The community suggested lies in another street than the one kept: not filled.
    assert!(c.case.place.community.as_deref().is_none_or(|cm| cm.starts_with("110101006")));
    desk.store().close().await;
}

#[tokio::test]
async fn a_point_in_the_district_gives_its_grid_cell() {
    let dir = tempfile::tempdir().unwrap();
    let desk = desk(&dir).await;
    // Inside the district, near 东四.
    let (lon, lat) = (116.4175, 39.9250);
    let cell = desk.geo().unwrap().locate("", None, Some((lon, lat))).unwrap();
    let c = desk.receive(operator(), draft("楼道堆物", None, None, Some((lon, lat))), at(), true).await.unwrap();
    let grid = c.case.place.grid.clone().expect("a grid cell");
    assert_eq!(Some(grid.clone()), cell.grid);
    assert_eq!(grid.len(), 14);
    assert!(grid.starts_with(c.case.place.street.as_deref().unwrap()), "{grid}");
    let (intake, _) = intake_of(&desk, c.id).await;
    assert_eq!(find(&intake, "grid").outcome, Outcome::Filled);
    assert!(find(&intake, "grid").source.contains("grid lookup"));
    desk.store().close().await;
}

#[tokio::test]
async fn without_geo_nothing_is_suggested() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/plain.db", dir.path().display());
    let store = jiesu_store::testing::connect(&url).await.unwrap();
    let desk = Desk::new(store, Catalog::dongcheng(), Calendar::china(), Config::default());
    let c = desk
        .receive(operator(), draft("楼道堆物", Some("王府井大街"), Some("110101001"), None), at(), true)
        .await
        .unwrap();
    let (intake, _) = intake_of(&desk, c.id).await;
    assert!(intake.is_empty());
    desk.store().close().await;
}
