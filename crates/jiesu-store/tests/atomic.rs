//! A case and its events are written together or not at all, on every backend.

use chrono::{TimeZone, Utc};
use jiesu_domain::draft::{NewCase, Place};
use jiesu_domain::model::{CaseKind, Channel, DeadlineClass, Role};
use jiesu_domain::workflow::{self, Action, Actor, CaseState, Event};
use jiesu_store::{CaseFilter, Scope};

/// A case in category 0101 at `place`, with its first event (受理) and state.
fn draft(text: &str, place: Place) -> (NewCase, Event, CaseState) {
    let at = Utc.with_ymd_and_hms(2026, 11, 2, 1, 0, 0).unwrap();
    let case = NewCase {
        channel: Channel::Web,
        kind: CaseKind::Help,
        title: None,
        text: text.into(),
        category: "0101".into(),
        place,
        contact: Default::default(),
        external_id: None,
    };
    let actor = Actor { user: "t".into(), role: Role::Operator, unit: None };
    let receive = Action::Receive {
        category: "0101".into(),
        deadline_class: DeadlineClass::General,
        verify: false,
        intake: vec![],
    };
    let (event, state) = workflow::step(None, at, actor, receive, None).unwrap();
    (case, event, state)
}

async fn half_written_create_leaves_nothing(url: &str) {
    let store = jiesu_store::testing::connect(url).await.unwrap();
    let (case, event, state) = draft("路灯不亮", Place::default());
    let before = store.count(&Scope::All, &CaseFilter::default()).await.unwrap();
    // The same event twice violates the events' primary key after the case row is in.
    let err = store.create_case(&case, &[event.clone(), event.clone()], &state).await;
    assert!(err.is_err(), "duplicate events must be refused");
    assert_eq!(store.count(&Scope::All, &CaseFilter::default()).await.unwrap(), before, "no half-written case");
    // The writer is usable afterwards (no transaction left open).
    let id = store.create_case(&case, &[event], &state).await.unwrap();
    assert_eq!(store.events(id).await.unwrap().len(), 1);
    assert_eq!(store.count(&Scope::All, &CaseFilter::default()).await.unwrap(), before + 1);
    store.close().await;
}

/// Many cases filed at once (they share commits on SQLite, in batches that mix cases of one and
/// of two events): one bad case fails alone, the others are all stored with their own values and
/// events.
async fn concurrent_creates_fail_alone(url: &str) {
    let store = jiesu_store::testing::connect(url).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..40 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let (case, event, state) = draft(&format!("夜间施工噪声 #{i}"), Place::default());
            let (events, state) = match i {
                17 => (vec![event.clone(), event], state),
                i if i % 3 == 0 => {
                    let dispatch = Action::Dispatch {
                        unit: format!("D{i:02}"),
                        due: state.received_at + chrono::Duration::days(7),
                        rule: None,
                    };
                    let (second, state) =
                        workflow::step(Some(&state), state.received_at, Actor::system("t"), dispatch, None).unwrap();
                    (vec![event, second], state)
                }
                _ => (vec![event], state),
            };
            store.create_case(&case, &events, &state).await
        }));
    }
    let mut ids = Vec::new();
    for (i, t) in tasks.into_iter().enumerate() {
        match t.await.unwrap() {
            Ok(id) => ids.push((i, id)),
            Err(e) => assert_eq!(i, 17, "only the bad case fails: {e}"),
        }
    }
    assert_eq!(ids.len(), 39);
    let mut distinct: Vec<i64> = ids.iter().map(|&(_, id)| id).collect();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 39, "distinct ids");
    assert_eq!(store.count(&Scope::All, &CaseFilter::default()).await.unwrap(), 39);
    for (i, id) in ids {
        let record = store.case(id).await.unwrap();
        assert_eq!(record.case.text, format!("夜间施工噪声 #{i}"), "case {id} has its own text");
        let events = store.events(id).await.unwrap();
        if i % 3 == 0 {
            assert_eq!(events.len(), 2, "case {id} has exactly its own two events");
            assert_eq!(record.state.assignee.as_deref(), Some(format!("D{i:02}").as_str()), "case {id}'s own unit");
        } else {
            assert_eq!(events.len(), 1, "case {id} has exactly its own event");
        }
    }
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_concurrent_creates_fail_alone() {
    let dir = tempfile::tempdir().unwrap();
    concurrent_creates_fail_alone(&format!("sqlite://{}/c.db", dir.path().display())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_concurrent_creates_fail_alone() {
    let Some(db) = jiesu_store::testing::scratch_postgres("concurrent").await else { return };
    concurrent_creates_fail_alone(&db.url).await;
    db.drop().await;
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

/// A case without coordinates, then one with: both store on every backend (the statement cache
/// must not fix the parameter's type from the first NULL).
async fn coordinates_after_a_case_without_any(url: &str) {
    let store = jiesu_store::testing::connect(url).await.unwrap();
    for (lat, lon) in [(None, None), (Some(39.93), Some(116.41)), (None, None), (Some(39.9), Some(116.4))] {
        let (case, event, state) = draft("咨询", Place { lat, lon, ..Place::default() });
        let id = store.create_case(&case, std::slice::from_ref(&event), &state).await.unwrap();
        let back = store.case(id).await.unwrap();
        assert_eq!((back.case.place.lat, back.case.place.lon), (lat, lon));
        store.update_intake(id, &case).await.unwrap();
    }
    store.close().await;
}

#[tokio::test]
async fn sqlite_takes_coordinates_after_a_case_without_any() {
    let dir = tempfile::tempdir().unwrap();
    coordinates_after_a_case_without_any(&format!("sqlite://{}/n.db", dir.path().display())).await;
}

#[tokio::test]
async fn postgres_takes_coordinates_after_a_case_without_any() {
    let Some(db) = jiesu_store::testing::scratch_postgres("nulls").await else { return };
    coordinates_after_a_case_without_any(&db.url).await;
    db.drop().await;
}

/// An external id is unique per filer (the first event's actor), also when the same case is
/// filed many times at once (on SQLite in one group commit): one case, the others are told
/// which; another filer may use the same external id. Open311 extras of a refused duplicate are
/// not written either.
async fn external_ids_are_unique_per_filer(url: &str) {
    let store = jiesu_store::testing::connect(url).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..12 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let (mut case, event, state) = draft(&format!("重复提交 #{i}"), Place::default());
            case.external_id = Some("ext-42".into());
            let open311 = jiesu_store::Open311Intake {
                service_code: "0101".into(),
                attributes: Default::default(),
                media: Some(jiesu_store::NewMedia {
                    id: format!("{i:032x}"),
                    content_type: "image/png".into(),
                    bytes: vec![1, 2, 3],
                }),
                media_url: None,
                client: "t".into(),
                token: Some(format!("token-{i}")),
            };
            store.create_case_with(&case, &[event], &state, Some(&open311)).await
        }));
    }
    let mut created = Vec::new();
    let mut told = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            Ok(id) => created.push(id),
            Err(jiesu_store::StoreError::AlreadyFiled(id)) => told.push(id),
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(created.len(), 1, "one case: {created:?}");
    assert!(told.iter().all(|id| *id == created[0]) && told.len() == 11, "{told:?}");
    assert_eq!(store.case_filed("t", "ext-42").await.unwrap(), Some(created[0]));
    assert!(store.open311_orphans().await.unwrap().is_empty(), "a refused duplicate writes no media");
    // Another filer, same external id.
    let (mut case, event, state) = draft("另一来源", Place::default());
    case.external_id = Some("ext-42".into());
    let event = Event { actor: Actor { user: "u".into(), role: Role::Operator, unit: None }, ..event };
    let other = store.create_case(&case, &[event], &state).await.unwrap();
    assert_ne!(other, created[0]);
    assert_eq!(store.count(&Scope::All, &CaseFilter::default()).await.unwrap(), 2);
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_external_ids_are_unique_per_filer() {
    let dir = tempfile::tempdir().unwrap();
    external_ids_are_unique_per_filer(&format!("sqlite://{}/x.db", dir.path().display())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_external_ids_are_unique_per_filer() {
    let Some(db) = jiesu_store::testing::scratch_postgres("external").await else { return };
    external_ids_are_unique_per_filer(&db.url).await;
    db.drop().await;
}
