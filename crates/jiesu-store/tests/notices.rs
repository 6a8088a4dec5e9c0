//! Notice marks (what each person has seen) on both backends: stored per person, case and kind,
//! a later version replaces an earlier one, and they survive a restart.

use chrono::{TimeZone, Utc};
use jiesu_domain::draft::{NewCase, Place};
use jiesu_domain::model::{CaseKind, Channel, DeadlineClass, Role};
use jiesu_domain::workflow::{self, Action, Actor};
use jiesu_store::NoticeMark;

async fn marks_survive(url: &str) {
    let store = jiesu_store::testing::connect(url).await.unwrap();
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
    let receive = Action::Receive {
        category: "0101".into(),
        deadline_class: DeadlineClass::General,
        verify: false,
        intake: vec![],
    };
    let (event, state) = workflow::step(None, at, actor, receive, None).unwrap();
    let a = store.create_case(&case, std::slice::from_ref(&event), &state).await.unwrap();
    let b = store.create_case(&case, &[event], &state).await.unwrap();
    let mark = |case_id, kind: &str, version| NoticeMark { case_id, kind: kind.into(), version };
    store.mark_notices("alice", &[mark(a, "dispatched", 5), mark(a, "supervised", 1)], at).await.unwrap();
    store.mark_notices("bob", &[mark(b, "dispatched", 7)], at).await.unwrap();
    // A later version replaces the earlier one.
    store.mark_notices("alice", &[mark(a, "supervised", 2)], at).await.unwrap();
    store.mark_notices("alice", &[], at).await.unwrap();
    store.close().await;

    let store = jiesu_store::testing::connect(url).await.unwrap();
    let mut got = store.notice_marks("alice", &[a, b]).await.unwrap();
    got.sort_by(|x, y| x.kind.cmp(&y.kind));
    assert_eq!(got, vec![mark(a, "dispatched", 5), mark(a, "supervised", 2)]);
    assert_eq!(store.notice_marks("bob", &[a, b]).await.unwrap(), vec![mark(b, "dispatched", 7)]);
    assert!(store.notice_marks("bob", &[a]).await.unwrap().is_empty());
    assert!(store.notice_marks("carol", &[]).await.unwrap().is_empty());
    // Many cases at once (read in chunks).
    let many: Vec<i64> = (1..=1200).collect();
    assert_eq!(store.notice_marks("alice", &many).await.unwrap().len(), 2);
    store.close().await;
}

#[tokio::test]
async fn sqlite_notice_marks_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    marks_survive(&format!("sqlite://{}/n.db", dir.path().display())).await;
}

#[tokio::test]
async fn postgres_notice_marks_survive_a_restart() {
    let Some(db) = jiesu_store::testing::scratch_postgres("notices").await else { return };
    marks_survive(&db.url).await;
    db.drop().await;
}
