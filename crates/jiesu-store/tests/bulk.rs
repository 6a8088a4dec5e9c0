//! The bulk write (`Store::create_cases`, what `jiesu demo` loads a million cases with) on SQLite
//! and PostgreSQL: many rows per statement across the statements' row limits, ids in the order
//! given and continued by the next single create, events, summoned units, external ids, chain and
//! search terms written as the single create writes them.

use chrono::{DateTime, Duration, TimeZone, Utc};
use jiesu_domain::draft::{NewCase, Place};
use jiesu_domain::model::{CaseKind, Channel, DeadlineClass, Role};
use jiesu_domain::workflow::{self, Action, Actor, CaseState, Event};
use jiesu_store::testing::{connect, scratch_postgres};
use jiesu_store::{CaseFilter, Scope, Store, StoreError};

fn at(i: usize) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 1, 0, 0).unwrap() + Duration::seconds(i as i64)
}

/// Case `i`: received; every other one dispatched to S001; every fifth summons two departments;
/// every third has an external id.
fn case(i: usize) -> (NewCase, Vec<Event>, CaseState) {
    let new = NewCase {
        channel: Channel::Hotline,
        kind: CaseKind::Complaint,
        title: None,
        text: format!("第{i}号 楼道堆物占道，影响通行"),
        category: "0101".into(),
        place: Place::default(),
        contact: Default::default(),
        external_id: i.is_multiple_of(3).then(|| format!("X-{i}")),
    };
    let op = Actor { user: "op".into(), role: Role::Operator, unit: None };
    let receive = Action::Receive {
        category: "0101".into(),
        deadline_class: DeadlineClass::General,
        verify: false,
        intake: vec![],
    };
    let (e, mut state) = workflow::step(None, at(i), op, receive, None).unwrap();
    let mut events = vec![e];
    if i.is_multiple_of(2) {
        let dispatcher = Actor { user: "d".into(), role: Role::Dispatcher, unit: None };
        let dispatch = Action::Dispatch { unit: "S001".into(), due: at(i) + Duration::days(5), rule: None };
        let (e, next) = workflow::step(Some(&state), at(i), dispatcher, dispatch, None).unwrap();
        events.push(e);
        state = next;
        if i.is_multiple_of(5) {
            let unit = Actor { user: "h".into(), role: Role::UnitHandler, unit: Some("S001".into()) };
            let (e, next) = workflow::step(Some(&state), at(i), unit.clone(), Action::Accept, None).unwrap();
            events.push(e);
            state = next;
            let whistle =
                Action::Whistle { units: vec!["D001".into(), "D002".into()], checkin_due: at(i) + Duration::hours(4) };
            let (e, next) = workflow::step(Some(&state), at(i), unit, whistle, Some("联合处置".into())).unwrap();
            events.push(e);
            state = next;
        }
    }
    (new, events, state)
}

async fn story(store: Store) {
    // One case written alone first: the bulk ids continue after it.
    let (c, e, s) = case(1);
    assert_eq!(store.create_case(&c, &e, &s).await.unwrap(), 1);

    // More cases than one statement's rows of cases (1,000) and of events (2,500).
    let batch: Vec<_> = (2..=2_700).map(case).collect();
    let ids = store.create_cases(&batch).await.unwrap();
    assert_eq!(ids, (2..=2_700).collect::<Vec<i64>>(), "ids follow the order given");
    assert!(store.create_cases(&[]).await.unwrap().is_empty());

    // The next single create continues the ids (PostgreSQL's identity was moved on).
    let (c, e, s) = case(2_701);
    assert_eq!(store.create_case(&c, &e, &s).await.unwrap(), 2_701);

    // Each case as written: state, events, the summoned units (in scope of D001), chain.
    for (i, id) in [(2usize, 2i64), (10, 10), (999, 999), (1_000, 1_000), (1_001, 1_001), (2_700, 2_700)] {
        let rec = store.case(id).await.unwrap();
        let (c, e, s) = case(i);
        assert_eq!(rec.case.text, c.text);
        assert_eq!(rec.state, s, "case {id}");
        assert_eq!(store.events(id).await.unwrap(), e, "events of case {id}");
    }
    let d001 = Scope::Unit { unit: "D001".into(), street: None };
    let summoned = store.count(&d001, &CaseFilter::default()).await.unwrap();
    assert_eq!(summoned, (2..=2_701).filter(|i| i % 10 == 0).count() as u64);
    assert!(store.chain_faults_between(1, 2_701).await.unwrap().is_empty(), "the chain holds");

    // External ids are kept per filer: filing one again is refused.
    let (c, e, s) = case(3);
    assert!(matches!(store.create_case(&c, &e, &s).await, Err(StoreError::AlreadyFiled(3))));

    // Search finds the bulk cases once the index caught up (on SQLite the second bulk write,
    // following an indexed tail, indexes in its own transaction).
    store.index_pending().await.unwrap();
    let more: Vec<_> = (2_702..=2_710).map(case).collect();
    store.create_cases(&more).await.unwrap();
    assert_eq!(store.index_pending().await.unwrap(), 0, "the bulk write indexed its cases");
    let f = CaseFilter { text: Some("第2705号".into()), ..Default::default() };
    assert_eq!(store.count(&Scope::All, &f).await.unwrap(), 1);
    let f = CaseFilter { text: Some("堆物".into()), ..Default::default() };
    assert_eq!(store.count(&Scope::All, &f).await.unwrap(), 2_710);
}

#[tokio::test]
async fn bulk_writes_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    story(connect(&format!("sqlite://{}", dir.path().join("bulk.db").display())).await.unwrap()).await;
}

#[tokio::test]
async fn bulk_writes_on_postgres() {
    let Some(db) = scratch_postgres("bulk").await else { return };
    story(connect(&db.url).await.unwrap()).await;
    db.drop().await;
}
