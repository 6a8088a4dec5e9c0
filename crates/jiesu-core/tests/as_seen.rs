//! Acting on a case as it was seen (`Desk::act_as_seen`): two dispatchers who chose the same
//! cases from their lists and send them at the same moment dispatch each case exactly once; the
//! other is told the case changed, and nothing of theirs is written. Without it, the desk's
//! reload-and-decide would redispatch a case already sent (派单 is legal on a dispatched case).
//! On SQLite and, when `DATABASE_URL` is set, PostgreSQL.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use jiesu_core::{Command, Config, CoreError, Desk};
use jiesu_domain::calendar::Calendar;
use jiesu_domain::catalog::Catalog;
use jiesu_domain::draft::{NewCase, Place};
use jiesu_domain::model::{CaseKind, Channel, Role, Status};
use jiesu_domain::workflow::{Action, Actor};

/// Concurrent trials per backend.
const TRIALS: usize = 30;

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn dispatcher(n: u32) -> Actor {
    Actor { user: format!("disp-{n}"), role: Role::Dispatcher, unit: None }
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

async fn race(url: &str) {
    let store = jiesu_store::testing::connect(url).await.expect("connect");
    let desk = Desk::new(store, Catalog::dongcheng(), Calendar::china(), Config::default());
    let at = t("2026-11-02T02:00:00Z");
    let operator = Actor { user: "op".into(), role: Role::Operator, unit: None };
    for trial in 0..TRIALS {
        let id = desk.receive(operator.clone(), draft(&format!("占道经营 {trial}")), at, false).await.unwrap().id;
        let seen = desk.store().case(id).await.unwrap().state.seq;
        let start = Arc::new(tokio::sync::Barrier::new(2));
        let send = |n: u32, unit: &str| {
            let (desk, start, unit) = (desk.clone(), start.clone(), unit.to_string());
            tokio::spawn(async move {
                start.wait().await;
                let command = Command::Dispatch { unit: Some(unit), category: None };
                desk.act_as_seen(id, seen, dispatcher(n), command, None, at + Duration::minutes(1)).await
            })
        };
        let (a, b) = (send(1, "S001"), send(2, "S002"));
        let (a, b) = (a.await.unwrap(), b.await.unwrap());
        assert_eq!(a.is_ok() as u8 + b.is_ok() as u8, 1, "trial {trial}: exactly one dispatch wins: {a:?} {b:?}");
        let loser = [&a, &b].into_iter().find_map(|r| r.as_ref().err()).unwrap();
        assert!(
            matches!(loser, CoreError::Changed { id: i, seen: s, now } if *i == id && *s == seen && *now == seen + 1),
            "{loser:?}"
        );
        let events = desk.store().events(id).await.unwrap();
        let dispatches = events.iter().filter(|e| matches!(e.action, Action::Dispatch { .. })).count();
        assert_eq!(dispatches, 1, "trial {trial}: dispatched once");
        let state = desk.store().case(id).await.unwrap().state;
        assert_eq!(state.status, Status::Dispatched);
        let winner = if a.is_ok() { "S001" } else { "S002" };
        assert_eq!(state.assignee.as_deref(), Some(winner));
    }
    // Seen as it is, the redispatch goes through; a stale view never does.
    let id = desk.receive(operator, draft("占道经营 改派"), at, true).await.unwrap().id;
    let seen = desk.store().case(id).await.unwrap().state.seq;
    let redispatch = || Command::Dispatch { unit: Some("S003".into()), category: None };
    let later = at + Duration::minutes(2);
    let stale = desk.act_as_seen(id, seen - 1, dispatcher(1), redispatch(), None, later).await.unwrap_err();
    assert!(matches!(stale, CoreError::Changed { .. }), "{stale:?}");
    let rec = desk.act_as_seen(id, seen, dispatcher(1), redispatch(), None, later).await.unwrap();
    assert_eq!(rec.state.assignee.as_deref(), Some("S003"));
    // The desk's rules still apply: a unit handler may not dispatch, as seen or not.
    let handler = Actor { user: "h".into(), role: Role::UnitHandler, unit: Some("S003".into()) };
    let err = desk.act_as_seen(id, rec.state.seq, handler, redispatch(), None, later).await.unwrap_err();
    assert!(matches!(err, CoreError::Workflow(_)), "{err:?}");
    let report = desk.check().await.unwrap();
    assert!(report.ok(), "{report:?}");
    desk.store().close().await;
}

#[tokio::test]
async fn sqlite_each_case_is_dispatched_once() {
    let dir = tempfile::tempdir().unwrap();
    race(&format!("sqlite://{}/jiesu.db", dir.path().display())).await;
}

#[tokio::test]
async fn postgres_each_case_is_dispatched_once() {
    let Some(db) = jiesu_store::testing::scratch_postgres("as_seen").await else { return };
    race(&db.url).await;
    db.drop().await;
}
