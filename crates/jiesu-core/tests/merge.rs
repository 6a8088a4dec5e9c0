//! Merges are decided and written atomically over both cases: two operators merging A into B
//! and B into A at the same moment never leave both merged (a cycle that loses the request);
//! chains (A into B, then B into C) stay legal. On SQLite and, when `DATABASE_URL` is set,
//! PostgreSQL.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use jiesu_core::{Command, Config, CoreError, Desk};
use jiesu_domain::calendar::Calendar;
use jiesu_domain::catalog::Catalog;
use jiesu_domain::draft::{NewCase, Place};
use jiesu_domain::model::{CaseKind, Channel, Role, Status};
use jiesu_domain::workflow::Actor;

/// Concurrent trials per backend.
const TRIALS: usize = 40;

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn operator(n: u32) -> Actor {
    Actor { user: format!("op-{n}"), role: Role::Operator, unit: None }
}

fn draft(text: &str) -> NewCase {
    NewCase {
        channel: Channel::Hotline,
        kind: CaseKind::Complaint,
        title: None,
        text: text.into(),
        category: "0101".into(),
        place: Place { street: Some("110101001".into()), ..Default::default() },
        contact: Default::default(),
        external_id: None,
    }
}

async fn desk(url: &str) -> Desk {
    let store = jiesu_store::testing::connect(url).await.expect("connect");
    Desk::new(store, Catalog::dongcheng(), Calendar::china(), Config::default())
}

/// A→B and B→A at once, many times: exactly one merge wins each time, the other is refused.
async fn crossed_merges_never_make_a_cycle(url: &str) {
    let desk = desk(url).await;
    let at = t("2026-11-02T02:00:00Z");
    for trial in 0..TRIALS {
        let a = desk.receive(operator(1), draft(&format!("噪声扰民 A{trial}")), at, false).await.unwrap().id;
        let b = desk.receive(operator(1), draft(&format!("噪声扰民 B{trial}")), at, false).await.unwrap().id;
        // Both operators load their case before either writes.
        let start = Arc::new(tokio::sync::Barrier::new(2));
        let merge = |from: i64, into: i64, n: u32| {
            let (desk, start) = (desk.clone(), start.clone());
            tokio::spawn(async move {
                start.wait().await;
                desk.act(from, operator(n), Command::Merge { into }, None, at + Duration::minutes(1)).await
            })
        };
        let (ab, ba) = (merge(a, b, 1), merge(b, a, 2));
        let (ab, ba) = (ab.await.unwrap(), ba.await.unwrap());
        let (sa, sb) = (desk.store().case(a).await.unwrap().state, desk.store().case(b).await.unwrap().state);
        assert!(
            !(sa.status == Status::Merged && sb.status == Status::Merged),
            "trial {trial}: cases {a} and {b} were merged into each other"
        );
        assert_eq!(ab.is_ok() as u8 + ba.is_ok() as u8, 1, "trial {trial}: exactly one merge wins: {ab:?} {ba:?}");
        for loser in [ab, ba].into_iter().filter_map(Result::err) {
            assert!(matches!(loser, CoreError::Invalid(ref f) if f[0].field == "into"), "{loser:?}");
        }
    }
    let report = desk.check().await.unwrap();
    assert!(report.ok(), "{report:?}");
    desk.store().close().await;
}

/// A into B, later B into C: a chain is legal; merging C back into A is refused (A is merged).
async fn chains_stay_legal(url: &str) {
    let desk = desk(url).await;
    let at = t("2026-11-02T02:00:00Z");
    let ids: Vec<i64> = {
        let mut v = Vec::new();
        for x in ["甲", "乙", "丙"] {
            v.push(desk.receive(operator(1), draft(&format!("井盖缺失{x}")), at, false).await.unwrap().id);
        }
        v
    };
    let (a, b, c) = (ids[0], ids[1], ids[2]);
    let later = at + Duration::minutes(5);
    desk.act(a, operator(1), Command::Merge { into: b }, None, later).await.unwrap();
    let m = desk.act(b, operator(1), Command::Merge { into: c }, None, later).await.unwrap();
    assert_eq!((m.state.status, m.state.merged_into), (Status::Merged, Some(c)));
    let err = desk.act(c, operator(1), Command::Merge { into: a }, None, later).await.unwrap_err();
    assert!(matches!(err, CoreError::Invalid(ref f) if f[0].field == "into"), "{err:?}");
    assert_eq!(desk.store().case(c).await.unwrap().state.status, Status::Received);
    assert!(desk.check().await.unwrap().ok());
    desk.store().close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_crossed_merges_never_make_a_cycle() {
    let dir = tempfile::tempdir().unwrap();
    crossed_merges_never_make_a_cycle(&format!("sqlite://{}/m.db", dir.path().display())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_crossed_merges_never_make_a_cycle() {
    let Some(db) = jiesu_store::testing::scratch_postgres("merge_race").await else { return };
    crossed_merges_never_make_a_cycle(&db.url).await;
    db.drop().await;
}

#[tokio::test]
async fn sqlite_merge_chains_stay_legal() {
    let dir = tempfile::tempdir().unwrap();
    chains_stay_legal(&format!("sqlite://{}/c.db", dir.path().display())).await;
}

#[tokio::test]
async fn postgres_merge_chains_stay_legal() {
    let Some(db) = jiesu_store::testing::scratch_postgres("merge_chain").await else { return };
    chains_stay_legal(&db.url).await;
    db.drop().await;
}
