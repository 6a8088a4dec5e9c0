//! The change feed (`Store::changes`): a change after every committed write, none for a write
//! that failed; on PostgreSQL across stores (processes) on one database, surviving a dropped
//! LISTEN connection.

use std::time::Duration;

use chrono::{TimeZone, Utc};
use futures_util::{Stream, StreamExt};
use jiesu_domain::draft::{NewCase, Place};
use jiesu_domain::model::{CaseKind, Channel, DeadlineClass, Role};
use jiesu_domain::workflow::{self, Action, Actor, CaseState, Event};
use jiesu_store::{Change, Scope, Store};

fn draft(text: &str, street: Option<&str>) -> (NewCase, Event, CaseState) {
    let at = Utc.with_ymd_and_hms(2026, 11, 2, 1, 0, 0).unwrap();
    let case = NewCase {
        channel: Channel::Web,
        kind: CaseKind::Help,
        title: None,
        text: text.into(),
        category: "0101".into(),
        place: Place { street: street.map(str::to_string), ..Place::default() },
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

fn dispatch(state: &CaseState, unit: &str) -> (Event, CaseState) {
    let action = Action::Dispatch { unit: unit.into(), due: state.received_at + chrono::Duration::days(7), rule: None };
    workflow::step(Some(state), state.updated_at, Actor::system("t"), action, None).unwrap()
}

/// The next change within 5 s (panics if none comes).
async fn next(feed: &mut (impl Stream<Item = Change> + Unpin)) -> Change {
    tokio::time::timeout(Duration::from_secs(5), feed.next()).await.expect("a change within 5 s").expect("feed open")
}

/// Nothing within `ms` milliseconds.
async fn quiet(feed: &mut (impl Stream<Item = Change> + Unpin), ms: u64) {
    if let Ok(c) = tokio::time::timeout(Duration::from_millis(ms), feed.next()).await {
        panic!("expected no change, got {c:?}");
    }
}

/// Through one store: a new case, a dispatch and a redispatch are each told, with the units that
/// see the case after and before; a conflicting append and a failed create tell nothing.
async fn one_store(writer: &Store, reader: &Store) {
    let mut feed = Box::pin(reader.changes().await.unwrap());
    let (case, event, state) = draft("路灯不亮", Some("S01"));
    let id = writer.create_case(&case, &[event], &state).await.unwrap();
    let c = next(&mut feed).await;
    assert_eq!((c.case, c.status.as_str(), c.street.as_deref()), (Some(id), "received", Some("S01")));
    assert!(c.units.is_empty() && c.units_before.is_empty());

    let (e2, s2) = dispatch(&state, "U1");
    writer.append(id, state.seq, &[e2], &s2).await.unwrap();
    let c = next(&mut feed).await;
    assert_eq!((c.case, c.status.as_str()), (Some(id), "dispatched"));
    assert_eq!(c.units, vec!["U1".to_string()]);
    let u1 = Scope::Unit { unit: "U1".into(), street: None };
    let u2 = Scope::Unit { unit: "U2".into(), street: None };
    assert!(c.visible_to(&u1) && !c.concerns(&u2));

    // A stale append (the expected sequence number is old) fails and is not told.
    let (stale, stale_state) = dispatch(&state, "U9");
    assert!(writer.append(id, state.seq, &[stale], &stale_state).await.is_err());
    // A failed create (the same event twice) neither.
    let (bad, bad_event, bad_state) = draft("坏的", None);
    assert!(writer.create_case(&bad, &[bad_event.clone(), bad_event], &bad_state).await.is_err());
    // An append that fails after the change was sent (PostgreSQL: NOTIFY inside the transaction)
    // is rolled back, and so is its change.
    jiesu_store::testing::fail_inserts(writer, "events").await.unwrap();
    let (e2b, s2b) = dispatch(&s2, "U3");
    assert!(writer.append(id, s2.seq, &[e2b], &s2b).await.is_err());
    jiesu_store::testing::allow_inserts(writer, "events").await.unwrap();
    quiet(&mut feed, 600).await;

    // 改派 to U2: U1 loses it (told, without seeing it), U2 sees it.
    let (e3, s3) = dispatch(&s2, "U2");
    writer.append(id, s2.seq, &[e3], &s3).await.unwrap();
    let c = next(&mut feed).await;
    assert_eq!(c.units, vec!["U2".to_string()]);
    assert_eq!(c.units_before, vec!["U1".to_string()]);
    assert!(c.visible_to(&u2) && !c.visible_to(&u1) && c.concerns(&u1));

    // A bulk load is one "many" change.
    let (a, ae, ast) = draft("一", None);
    let (b, be, bst) = draft("二", None);
    writer.create_cases(&[(a, vec![ae], ast), (b, vec![be], bst)]).await.unwrap();
    assert!(next(&mut feed).await.is_many());
    quiet(&mut feed, 300).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_changes_follow_committed_writes_only() {
    let dir = tempfile::tempdir().unwrap();
    let store = jiesu_store::testing::connect(&format!("sqlite://{}/c.db", dir.path().display())).await.unwrap();
    one_store(&store, &store).await;
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_changes_follow_committed_writes_only() {
    let Some(db) = jiesu_store::testing::scratch_postgres("changes").await else { return };
    let store = jiesu_store::testing::connect(&db.url).await.unwrap();
    one_store(&store, &store).await;
    store.close().await;
    db.drop().await;
}

/// Two stores on one PostgreSQL database (two server processes): a write through one is in the
/// other's feed; after the other's LISTEN connection is killed it says "many" and hears again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_changes_reach_another_store_and_survive_a_lost_connection() {
    let Some(db) = jiesu_store::testing::scratch_postgres("changes_two").await else { return };
    let a = jiesu_store::testing::connect(&db.url).await.unwrap();
    let b = jiesu_store::testing::connect(&db.url).await.unwrap();
    one_store(&a, &b).await;

    let mut feed = Box::pin(b.changes().await.unwrap());
    // A second reader of the same store shares its one listener.
    let mut second = Box::pin(b.changes().await.unwrap());
    let killed = jiesu_store::testing::strings(
        &a,
        "SELECT CAST(pg_terminate_backend(pid) AS TEXT) FROM pg_stat_activity \
         WHERE datname = current_database() AND query LIKE 'LISTEN%'",
    )
    .await
    .unwrap();
    assert_eq!(killed, vec!["true".to_string()], "one listener on the database (store b's)");
    assert!(next(&mut feed).await.is_many(), "a lost connection is announced as 'many'");
    assert!(next(&mut second).await.is_many());
    // Listening again: a write through `a` reaches `b`'s feed (retried while b reconnects).
    let (case, event, state) = draft("又亮了", None);
    let id = a.create_case(&case, &[event], &state).await.unwrap();
    loop {
        let c = next(&mut feed).await;
        if c.case == Some(id) {
            break;
        }
        assert!(c.is_many(), "only 'many' or the new case: {c:?}");
    }
    a.close().await;
    b.close().await;
    // The feed ends when its store closes.
    let end = tokio::time::timeout(Duration::from_secs(5), async { while feed.next().await.is_some() {} }).await;
    assert!(end.is_ok(), "the feed ends after close");
    db.drop().await;
}
