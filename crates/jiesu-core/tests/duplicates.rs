//! Duplicate suggestions at intake, on SQLite and PostgreSQL: the same incident reported again
//! nearby comes first and likely; an unrelated or far case does not; the operator merges the new
//! case into the suggested one through the ordinary action API.

use chrono::{DateTime, Duration, Utc};
use jiesu_core::{Command, Config, Desk};
use jiesu_domain::access::Scope;
use jiesu_domain::calendar::Calendar;
use jiesu_domain::catalog::Catalog;
use jiesu_domain::draft::{NewCase, Place};
use jiesu_domain::model::{CaseKind, Channel, Role, Status};
use jiesu_domain::workflow::Actor;
use jiesu_intake::dups::CategoryMatch;

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn draft(text: &str, category: &str, address: &str, lat: f64, lon: f64) -> NewCase {
    NewCase {
        channel: Channel::Hotline,
        kind: CaseKind::Complaint,
        title: None,
        text: text.into(),
        category: category.into(),
        place: Place {
            address: Some(address.into()),
            lat: Some(lat),
            lon: Some(lon),
            street: None,
            community: None,
            grid: None,
        },
        contact: Default::default(),
        external_id: None,
    }
}

async fn suggest_and_merge(url: &str) {
    let store = jiesu_store::testing::connect(url).await.unwrap();
    let catalog = Catalog::dongcheng();
    let leaves = catalog.leaf_categories();
    let lamp = leaves[0].code.clone();
    let other = leaves.iter().find(|c| c.parent != leaves[0].parent).unwrap().code.clone();
    let desk = Desk::new(store.clone(), catalog, Calendar::china(), Config::default());
    let op = Actor { user: "op-1".into(), role: Role::Operator, unit: None };
    let at = t("2026-10-20T02:00:00Z");
    let (lat, lon) = (39.9300, 116.4170);

    let master = desk
        .receive(op.clone(), draft("东四北大街12号门前路灯不亮，晚上很黑", &lamp, "东四北大街12号", lat, lon), at, true)
        .await
        .unwrap();
    let far = desk
        .receive(op.clone(), draft("东四北大街路灯不亮", &lamp, "东四北大街", lat + 0.006, lon), at, true)
        .await
        .unwrap(); // ≈ 670 m
    let unrelated =
        desk.receive(op.clone(), draft("饭馆油烟扰民", &other, "东四北大街12号", lat, lon), at, true).await.unwrap();
    desk.receive(op.clone(), draft("东四北大街12号路灯不亮", &lamp, "东四北大街12号", lat + 0.05, lon), at, true)
        .await
        .unwrap(); // 5.5 km
    desk.receive(
        op.clone(),
        draft("东四北大街12号路灯不亮", &lamp, "东四北大街12号", lat, lon),
        at - Duration::days(45),
        true,
    )
    .await
    .unwrap();

    let now = at + Duration::hours(3);
    // The same address, geocoded to the same point.
    let again = draft("东四北大街12号路灯坏了不亮", &lamp, "东四北大街12号", lat, lon);
    let s = desk.duplicate_candidates(&Scope::All, &again, now, None).await.unwrap();
    let ids: Vec<i64> = s.iter().map(|x| x.case_id).collect();
    assert_eq!(ids[0], master.id, "{s:#?}");
    assert_eq!(ids.len(), 3, "the far (5.5 km) and old (45 days) cases are not candidates: {s:#?}");
    assert!(ids.contains(&far.id) && ids.contains(&unrelated.id));
    let top = &s[0];
    assert!(top.likely && top.confidence > s[1].confidence, "{s:#?}");
    assert!((top.reasons.hours_apart - 3.0).abs() < 1e-9);
    assert_eq!(top.reasons.distance_m, Some(0.0));
    assert_eq!(top.status, Status::Dispatched);
    assert!(s.iter().skip(1).all(|x| !x.likely), "{s:#?}");
    let u = s.iter().find(|x| x.case_id == unrelated.id).unwrap();
    assert_eq!(u.reasons.category, CategoryMatch::Other);
    assert!(
        desk.duplicate_candidates(&Scope::All, &NewCase { place: Place::default(), ..again.clone() }, now, None)
            .await
            .unwrap()
            .is_empty()
    );

    // The operator takes the suggestion: the new case is stored, then merged into the master.
    let new = desk.receive(op.clone(), again.clone(), now, false).await.unwrap();
    let s = desk.duplicate_candidates(&Scope::All, &new.case, now, Some(new.id)).await.unwrap();
    assert_eq!(s[0].case_id, master.id);
    let merged = desk
        .act(new.id, op.clone(), Command::Merge { into: s[0].case_id }, Some("与已有工单重复".into()), now)
        .await
        .unwrap();
    assert_eq!((merged.state.status, merged.state.merged_into), (Status::Merged, Some(master.id)));
    // A merged case is no longer open: a third report finds the master, not the merged copy.
    let s = desk.duplicate_candidates(&Scope::All, &again, now + Duration::hours(1), None).await.unwrap();
    assert!(s.iter().all(|x| x.case_id != new.id));
    assert_eq!(s[0].case_id, master.id);
    store.close().await;
}

#[tokio::test]
async fn duplicates_are_suggested_and_merged_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    suggest_and_merge(&format!("sqlite://{}/dups.db", dir.path().display())).await;
}

#[tokio::test]
async fn duplicates_are_suggested_and_merged_on_postgres() {
    let Some(db) = jiesu_store::testing::scratch_postgres("dups").await else { return };
    suggest_and_merge(&db.url).await;
    db.drop().await;
}
