//! Open cases near a point within a time window, on SQLite and PostgreSQL: the box, the window,
//! the open statuses and the category all narrow; the query is served by an index.

use chrono::{DateTime, Duration, TimeZone, Utc};
use jiesu_domain::draft::{NewCase, Place};
use jiesu_domain::model::{CaseKind, Channel, DeadlineClass, Role};
use jiesu_domain::workflow::{self, Action, Actor};
use jiesu_store::{NearbyQuery, Store};

const LAT: f64 = 39.9300;
const LON: f64 = 116.4170;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 1, 0, 0).unwrap()
}

/// Files a case in `category` at (`lat`, `lon`) received at `at`; merged into case 1 if `merged`.
async fn file(
    store: &Store,
    text: &str,
    category: &str,
    point: Option<(f64, f64)>,
    at: DateTime<Utc>,
    merged: bool,
) -> i64 {
    let case = NewCase {
        channel: Channel::Hotline,
        kind: CaseKind::Complaint,
        title: None,
        text: text.into(),
        category: category.into(),
        place: Place { lat: point.map(|p| p.0), lon: point.map(|p| p.1), ..Place::default() },
        contact: Default::default(),
        external_id: None,
    };
    let op = Actor { user: "op".into(), role: Role::Operator, unit: None };
    let receive = Action::Receive {
        category: category.into(),
        deadline_class: DeadlineClass::General,
        verify: false,
        intake: vec![],
    };
    let (event, state) = workflow::step(None, at, op.clone(), receive, None).unwrap();
    let id = store.create_case(&case, &[event], &state).await.unwrap();
    if merged {
        let (e, s) = workflow::step(Some(&state), at, op, Action::Merge { into: 1 }, None).unwrap();
        store.append(id, state.seq, &[e], &s).await.unwrap();
    }
    id
}

fn query(category: Option<&str>) -> NearbyQuery {
    NearbyQuery {
        lat: LAT,
        lon: LON,
        radius_m: 500.0,
        received_from: t0() - Duration::days(7),
        received_to: t0() + Duration::days(1),
        category: category.map(str::to_string),
        limit: 50,
    }
}

async fn nearby_open_cases(url: &str) {
    let store = jiesu_store::testing::connect(url).await.unwrap();
    let here = Some((LAT, LON));
    let a = file(&store, "路灯不亮", "0301", here, t0(), false).await;
    let north = file(&store, "路灯坏了", "0301", Some((LAT + 0.0027, LON)), t0() + Duration::hours(1), false).await; // 300 m
    file(&store, "路灯不亮", "0301", Some((LAT + 0.018, LON)), t0(), false).await; // 2 km
    file(&store, "路灯不亮", "0301", here, t0() - Duration::days(40), false).await; // too old
    let other = file(&store, "垃圾没人清", "0502", here, t0(), false).await;
    file(&store, "路灯不亮", "0301", here, t0(), true).await; // merged: not open
    file(&store, "路灯不亮", "0301", None, t0(), false).await; // no point
    let found: Vec<i64> = store.open_cases_near(&query(None)).await.unwrap().iter().map(|r| r.id).collect();
    assert_eq!(found, vec![north, other, a], "newest first, then the higher id");
    let found: Vec<i64> = store.open_cases_near(&query(Some("0301"))).await.unwrap().iter().map(|r| r.id).collect();
    assert_eq!(found, vec![north, a]);
    let rec = &store.open_cases_near(&query(Some("0502"))).await.unwrap()[0];
    assert_eq!((rec.id, rec.case.text.as_str(), rec.case.place.lat), (other, "垃圾没人清", Some(LAT)));
    let plan = store.explain_open_cases_near(&query(Some("0301"))).await.unwrap().join(" | ");
    println!("{url}: {plan}");
    store.close().await;
}

#[tokio::test]
async fn nearby_open_cases_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    nearby_open_cases(&format!("sqlite://{}/nearby.db", dir.path().display())).await;
}

#[tokio::test]
async fn nearby_open_cases_on_postgres() {
    let Some(db) = jiesu_store::testing::scratch_postgres("nearby").await else { return };
    nearby_open_cases(&db.url).await;
    db.drop().await;
}

#[tokio::test]
async fn nearby_query_uses_an_index_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&format!("sqlite://{}/plan.db", dir.path().display())).await.unwrap();
    // Without a category: the open statuses, then the band of latitude.
    let plan = store.explain_open_cases_near(&query(None)).await.unwrap().join(" | ");
    assert!(plan.contains("cases_status_place") && plan.contains("lat>?"), "{plan}");
    // With one, SQLite may prefer the category index; either way no table scan.
    let plan = store.explain_open_cases_near(&query(Some("0301"))).await.unwrap().join(" | ");
    assert!(plan.contains("USING INDEX") && !plan.contains("SCAN cases"), "{plan}");
}
