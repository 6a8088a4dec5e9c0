//! The tamper-evident record: each case's events form a hash chain keyed by the data key. An
//! edited, removed or reordered event is found; an older store is chained when it is opened.
//! Every test runs on SQLite and, when `DATABASE_URL` is set, on PostgreSQL.

use chrono::{DateTime, Duration, TimeZone, Utc};
use jiesu_domain::draft::{NewCase, Place};
use jiesu_domain::model::{CaseKind, Channel, DeadlineClass, Role};
use jiesu_domain::workflow::{self, Action, Actor, CaseState};
use jiesu_store::Store;
use jiesu_store::testing::{connect, scratch_postgres};

fn at(h: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 1, 0, 0).unwrap() + Duration::hours(h)
}

/// A case with four events: 受理 and 派单 at creation, then 签收 and 答复 appended.
async fn case_of_four(store: &Store, text: &str) -> i64 {
    let case = NewCase {
        channel: Channel::Hotline,
        kind: CaseKind::Complaint,
        title: None,
        text: text.into(),
        category: "0101".into(),
        place: Place { street: Some("110101001".into()), ..Place::default() },
        contact: Default::default(),
        external_id: None,
    };
    let op = Actor { user: "op".into(), role: Role::Operator, unit: None };
    let handler = Actor { user: "h".into(), role: Role::UnitHandler, unit: Some("S001".into()) };
    let receive = Action::Receive {
        category: "0101".into(),
        deadline_class: DeadlineClass::General,
        verify: false,
        intake: vec![],
    };
    let (e1, s1) = workflow::step(None, at(0), op, receive, None).unwrap();
    let dispatch = Action::Dispatch { unit: "S001".into(), due: at(100), rule: None };
    let (e2, s2) = workflow::step(Some(&s1), at(0), Actor::system("router"), dispatch, None).unwrap();
    let id = store.create_case(&case, &[e1, e2], &s2).await.unwrap();
    let mut state: CaseState = s2;
    for (h, action) in [(1, Action::Accept), (2, Action::Reply)] {
        let (e, next) = workflow::step(Some(&state), at(h), handler.clone(), action, None).unwrap();
        store.append(id, state.seq, &[e], &next).await.unwrap();
        state = next;
    }
    id
}

async fn faults(store: &Store) -> Vec<(i64, String)> {
    store.chain_faults_between(1, i64::MAX).await.unwrap()
}

async fn sql(store: &Store, statement: &str) {
    jiesu_store::testing::execute(store, statement).await.unwrap();
}

/// Each kind of tampering, on a case of its own; the untouched case stays clean.
async fn tampering(url: &str) {
    let store = connect(url).await.unwrap();
    let mut ids = Vec::new();
    for n in 0..7 {
        ids.push(case_of_four(&store, &format!("门前占道经营 {n}")).await);
    }
    assert_eq!(faults(&store).await, vec![], "freshly written chains verify");
    let [edited, column, removed, renumbered, swapped, truncated, unhashed] = ids[..] else { unreachable!() };
    // An edited note in the stored JSON.
    sql(&store, &format!("UPDATE events SET body = replace(body, '\"note\":null', '\"note\":\"x\"') WHERE case_id = {edited} AND seq = 2")).await;
    // An edited column.
    sql(&store, &format!("UPDATE events SET actor_user = 'someone' WHERE case_id = {column} AND seq = 3")).await;
    // A removed event, then one removed and the rest renumbered.
    sql(&store, &format!("DELETE FROM events WHERE case_id = {removed} AND seq = 2")).await;
    sql(&store, &format!("DELETE FROM events WHERE case_id = {renumbered} AND seq = 2")).await;
    for seq in 3..=4 {
        sql(&store, &format!("UPDATE events SET seq = {} WHERE case_id = {renumbered} AND seq = {seq}", seq - 1)).await;
    }
    // Two events swapped.
    sql(&store, &format!("UPDATE events SET seq = 99 WHERE case_id = {swapped} AND seq = 3")).await;
    sql(&store, &format!("UPDATE events SET seq = 3 WHERE case_id = {swapped} AND seq = 2")).await;
    sql(&store, &format!("UPDATE events SET seq = 2 WHERE case_id = {swapped} AND seq = 99")).await;
    // The last event removed (its hash is public: a row pointing at the one before cannot be made).
    sql(&store, &format!("DELETE FROM events WHERE case_id = {truncated} AND seq = 4")).await;
    // A hash removed (to have it filled in again at the next start).
    sql(&store, &format!("UPDATE events SET hash = NULL WHERE case_id = {unhashed} AND seq = 1")).await;
    store.close().await;
    let store = connect(url).await.unwrap();
    let found = faults(&store).await;
    let found_ids: Vec<i64> = found.iter().map(|(id, _)| *id).collect();
    assert_eq!(found_ids, ids[..7], "{found:#?}");
    assert!(found[5].1.contains("at the end"), "{found:#?}");
    assert!(found[6].1.contains("no hash"), "a missing hash is not filled in on open: {found:#?}");
    store.close().await;
}

/// A store written before the chain existed (no hash columns, migration 0007 not applied) is
/// chained when the new code opens it, and verifies.
async fn old_store_is_chained(url: &str) {
    let store = connect(url).await.unwrap();
    let a = case_of_four(&store, "噪音扰民").await;
    let b = case_of_four(&store, "路灯不亮").await;
    // Back to the schema before 0007.
    sql(&store, "ALTER TABLE events DROP COLUMN hash").await;
    sql(&store, "ALTER TABLE cases DROP COLUMN chain").await;
    sql(&store, "DELETE FROM _sqlx_migrations WHERE version = 7").await;
    sql(&store, "DELETE FROM meta WHERE name = 'chain_pending'").await;
    store.close().await;
    let store = connect(url).await.unwrap();
    let unhashed =
        jiesu_store::testing::strings(&store, "SELECT CAST(COUNT(*) AS TEXT) FROM events WHERE hash IS NULL")
            .await
            .unwrap();
    assert_eq!(unhashed, ["0"]);
    assert_eq!(faults(&store).await, vec![]);
    // The chains go on with new events, and still catch an edit.
    let c = case_of_four(&store, "井盖缺失").await;
    sql(&store, &format!("UPDATE events SET at = at + 1 WHERE case_id = {b} AND seq = 1")).await;
    let found: Vec<i64> = faults(&store).await.iter().map(|(id, _)| *id).collect();
    assert_eq!(found, vec![b]);
    assert!(a < c);
    store.close().await;
}

#[tokio::test]
async fn sqlite_tampering_breaks_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    tampering(&format!("sqlite://{}/t.db", dir.path().display())).await;
}

#[tokio::test]
async fn postgres_tampering_breaks_the_chain() {
    let Some(db) = scratch_postgres("chain_tamper").await else { return };
    tampering(&db.url).await;
    db.drop().await;
}

#[tokio::test]
async fn sqlite_old_store_is_chained_on_open() {
    let dir = tempfile::tempdir().unwrap();
    old_store_is_chained(&format!("sqlite://{}/old.db", dir.path().display())).await;
}

#[tokio::test]
async fn postgres_old_store_is_chained_on_open() {
    let Some(db) = scratch_postgres("chain_old").await else { return };
    old_store_is_chained(&db.url).await;
    db.drop().await;
}
