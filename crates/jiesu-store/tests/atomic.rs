//! A case and its events are written together or not at all, on every backend.

use chrono::{TimeZone, Utc};
use jiesu_domain::draft::{NewCase, Place};
use jiesu_domain::model::{CaseKind, Channel, DeadlineClass, Role};
use jiesu_domain::workflow::{self, Action, Actor};
use jiesu_store::{CaseFilter, Store};

async fn half_written_create_leaves_nothing(url: &str) {
    let store = Store::connect(url).await.unwrap();
    let at = Utc.with_ymd_and_hms(2026, 11, 2, 1, 0, 0).unwrap();
    let case = NewCase {
        channel: Channel::Web,
        kind: CaseKind::Help,
        title: None,
        text: "路灯不亮".into(),
        category: "0101".into(),
        place: Place::default(),
        contact: Default::default(),
        external_id: None,
    };
    let actor = Actor { user: "t".into(), role: Role::Operator, unit: None };
    let receive = Action::Receive { category: "0101".into(), deadline_class: DeadlineClass::General, verify: false };
    let (event, state) = workflow::step(None, at, actor, receive, None).unwrap();
    let before = store.count(&CaseFilter::default()).await.unwrap();
    // The same event twice violates the events' primary key after the case row is in.
    let err = store.create_case(&case, &[event.clone(), event.clone()], &state).await;
    assert!(err.is_err(), "duplicate events must be refused");
    assert_eq!(store.count(&CaseFilter::default()).await.unwrap(), before, "no half-written case");
    // The writer is usable afterwards (no transaction left open).
    let id = store.create_case(&case, &[event], &state).await.unwrap();
    assert_eq!(store.events(id).await.unwrap().len(), 1);
    assert_eq!(store.count(&CaseFilter::default()).await.unwrap(), before + 1);
    store.close().await;
}

#[tokio::test]
async fn sqlite_create_is_atomic() {
    let dir = tempfile::tempdir().unwrap();
    half_written_create_leaves_nothing(&format!("sqlite://{}/a.db", dir.path().display())).await;
}

#[tokio::test]
async fn postgres_create_is_atomic() {
    let Some(db) = jiesu_store::testing::scratch_postgres("atomic").await else { return };
    half_written_create_leaves_nothing(&db.url).await;
    db.drop().await;
}
