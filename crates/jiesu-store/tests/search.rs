//! Full-text search on SQLite and PostgreSQL: one- and two-character Chinese words, longer
//! phrases, across punctuation, with `%` and `_` literal; the same answers before the SQLite
//! indexer has caught up (the tail is searched with LIKE) and after; the index really narrows.

use chrono::{Duration, TimeZone, Utc};
use jiesu_domain::draft::{NewCase, Place};
use jiesu_domain::model::{CaseKind, Channel, DeadlineClass, Role};
use jiesu_domain::workflow::{self, Action, Actor};
use jiesu_store::testing::{self, connect, scratch_postgres};
use jiesu_store::{CaseFilter, Page, Scope, Store};

const TEXTS: &[&str] = &[
    "东直门内大街路边有人占道经营，影响通行",
    "楼上装修噪音太大，晚上十点还在施工",
    "小区门口违规停车，堵住消防通道",
    "占道停车严重，希望处理",
    "暖气不热，室温只有15度",
    "100% 满意_谢谢 Pot-Hole on Main St",
];

async fn file(store: &Store, text: &str, i: i64) -> i64 {
    let case = NewCase {
        channel: Channel::Hotline,
        kind: CaseKind::Complaint,
        title: None,
        text: text.into(),
        category: "0101".into(),
        place: Place::default(),
        contact: Default::default(),
        external_id: None,
    };
    let op = Actor { user: "op".into(), role: Role::Operator, unit: None };
    let receive = Action::Receive {
        category: "0101".into(),
        deadline_class: DeadlineClass::General,
        verify: false,
        intake: vec![],
    };
    let at = Utc.with_ymd_and_hms(2026, 11, 2, 1, 0, 0).unwrap() + Duration::minutes(i);
    let (event, state) = workflow::step(None, at, op, receive, None).unwrap();
    store.create_case(&case, &[event], &state).await.unwrap()
}

async fn search(store: &Store, q: &str) -> Vec<i64> {
    let f = CaseFilter { text: Some(q.into()), ..Default::default() };
    let mut ids: Vec<i64> =
        store.list(&Scope::All, &f, Page { limit: 100, before: None }).await.unwrap().iter().map(|r| r.id).collect();
    ids.sort();
    assert_eq!(store.count(&Scope::All, &f).await.unwrap(), ids.len() as u64, "{q}");
    // The capped count agrees below its cap and stops one above it.
    for cap in [0, 1, 2, 100] {
        let n = store.count_up_to(&Scope::All, &f, cap).await.unwrap();
        assert_eq!(n, (ids.len() as u64).min(cap + 1), "{q}, cap {cap}");
    }
    ids
}

/// The cases whose text contains `q` (titles are the text's start here, so the text decides).
fn expected(ids: &[i64], q: &str) -> Vec<i64> {
    TEXTS.iter().zip(ids).filter(|(t, _)| t.to_lowercase().contains(&q.to_lowercase())).map(|(_, id)| *id).collect()
}

const QUERIES: &[&str] = &[
    "占",
    "占道",
    "噪音",
    "停车",
    "占道经营",
    "消防通道",
    "十点",
    "15",
    "100%",
    "%",
    "_谢",
    "pot-hole",
    "main",
    "无此词",
];

async fn story(store: Store) {
    let mut ids = Vec::new();
    for (i, t) in TEXTS.iter().enumerate() {
        ids.push(file(&store, t, i as i64).await);
    }
    for q in QUERIES {
        assert_eq!(search(&store, q).await, expected(&ids, q), "before indexing: {q}");
    }
    store.index_pending().await.unwrap();
    for q in QUERIES {
        assert_eq!(search(&store, q).await, expected(&ids, q), "indexed: {q}");
    }
    // Matches across punctuation are still checked by LIKE: "路边有" is in the text, "路边，有" is not.
    assert_eq!(search(&store, "路边，有").await, Vec::<i64>::new());
    // The index narrows: a word written into a case behind the index's back is not a candidate.
    testing::execute(&store, &format!("UPDATE cases SET body = body || '藏起来' WHERE id = {}", ids[1])).await.unwrap();
    assert_eq!(search(&store, "藏起来").await, Vec::<i64>::new());
    store.close().await;
}

#[tokio::test]
async fn search_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    story(connect(&format!("sqlite://{}/search.db", dir.path().display())).await.unwrap()).await;
}

#[tokio::test]
async fn search_on_postgres() {
    let Some(db) = scratch_postgres("search").await else { return };
    story(connect(&db.url).await.unwrap()).await;
    db.drop().await;
}

/// A store that had cases before search existed is indexed when it opens (PostgreSQL) or by the
/// indexer from the migration's mark 0 on (SQLite); after the mark, only the index can find them.
#[tokio::test]
async fn cases_from_before_the_index_are_found() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/old.db", dir.path().display());
    let store = connect(&url).await.unwrap();
    let id = file(&store, "胡同里私搭乱建", 0).await;
    store.close().await;
    let store = connect(&url).await.unwrap();
    store.index_pending().await.unwrap();
    testing::execute(&store, "UPDATE meta SET value = '999' WHERE name = 'search_indexed_to'").await.unwrap();
    assert_eq!(search(&store, "搭乱").await, vec![id]);
    store.close().await;

    let Some(db) = scratch_postgres("search_old").await else { return };
    let store = connect(&db.url).await.unwrap();
    let id = file(&store, "胡同里私搭乱建", 0).await;
    testing::execute(&store, "DELETE FROM case_terms").await.unwrap();
    let unmark = format!("DELETE FROM meta WHERE name = '{}'", jiesu_store::UPGRADE_TERMS);
    testing::execute(&store, &unmark).await.unwrap();
    store.close().await;
    let store = connect(&db.url).await.unwrap();
    assert_eq!(search(&store, "搭乱").await, vec![id]);
    store.close().await;
    db.drop().await;
}
