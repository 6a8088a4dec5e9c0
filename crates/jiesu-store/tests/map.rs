//! The map's counts (`Store::count_by_place`): per street and grid cell, within the scope, with
//! the list's own filters (period, status, deadline, category, grid), on SQLite and PostgreSQL;
//! and on SQLite the count reads its covering index only.

use chrono::{DateTime, Duration, TimeZone, Utc};
use jiesu_domain::access::Scope;
use jiesu_domain::draft::{Contact, NewCase, Place};
use jiesu_domain::model::{CaseKind, Channel, DeadlineClass, Role, Status};
use jiesu_domain::workflow::{self, Action, Actor, Event};
use jiesu_store::testing::{connect, scratch_postgres};
use jiesu_store::{CaseFilter, Page, PlaceCount, Store};

fn at(h: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 1, 0, 0).unwrap() + Duration::hours(h)
}

/// Files a case received at hour `h` in `street` and `grid`, of `category`, dispatched to `unit`
/// with a deadline at hour 100.
async fn file(store: &Store, h: i64, street: &str, grid: Option<&str>, category: &str, unit: &str) -> i64 {
    let case = NewCase {
        channel: Channel::Hotline,
        kind: CaseKind::Complaint,
        title: None,
        text: "占道经营".into(),
        category: category.into(),
        place: Place { street: Some(street.into()), grid: grid.map(str::to_string), ..Place::default() },
        contact: Contact::default(),
        external_id: None,
    };
    let op = Actor { user: "op".into(), role: Role::Operator, unit: None };
    let receive = Action::Receive {
        category: category.into(),
        deadline_class: DeadlineClass::General,
        verify: false,
        intake: vec![],
    };
    let (e1, state) = workflow::step(None, at(h), op, receive, None).unwrap();
    let dispatch = Action::Dispatch { unit: unit.into(), due: at(100), rule: None };
    let (e2, state) = workflow::step(Some(&state), at(h), Actor::system("router"), dispatch, None).unwrap();
    let events: Vec<Event> = vec![e1, e2];
    store.create_case(&case, &events, &state).await.unwrap()
}

fn sorted(mut v: Vec<PlaceCount>) -> Vec<(Option<String>, Option<String>, u64)> {
    v.sort_by(|a, b| (&a.street, &a.grid).cmp(&(&b.street, &b.grid)));
    v.into_iter().map(|c| (c.street, c.grid, c.cases)).collect()
}

fn row(street: &str, grid: Option<&str>, n: u64) -> (Option<String>, Option<String>, u64) {
    (Some(street.into()), grid.map(str::to_string), n)
}

const G1: &str = "11010100100101";
const G2: &str = "11010100100102";
const G3: &str = "11010100200101";

async fn counts(url: &str) {
    let store = connect(url).await.unwrap();
    let a = file(&store, 0, "110101001", Some(G1), "0101", "S001").await;
    file(&store, 1, "110101001", Some(G1), "0101", "S001").await;
    file(&store, 2, "110101001", Some(G2), "0401", "S001").await;
    file(&store, 3, "110101001", None, "0101", "S001").await;
    file(&store, 4, "110101002", Some(G3), "0101", "S002").await;
    // Received the month before (hour -48 is 31 October in Beijing).
    file(&store, -48, "110101001", Some(G1), "0101", "S001").await;
    let november = CaseFilter {
        received_from: Some(Utc.with_ymd_and_hms(2026, 10, 31, 16, 0, 0).unwrap()),
        received_to: Some(Utc.with_ymd_and_hms(2026, 11, 30, 16, 0, 0).unwrap()),
        ..Default::default()
    };
    let got = sorted(store.count_by_place(&Scope::All, &november).await.unwrap());
    assert_eq!(
        got,
        [
            row("110101001", None, 1),
            row("110101001", Some(G1), 2),
            row("110101001", Some(G2), 1),
            row("110101002", Some(G3), 1)
        ]
    );
    // Scoped: another unit's cases are not counted.
    let s002 = Scope::Unit { unit: "S002".into(), street: None };
    assert_eq!(sorted(store.count_by_place(&s002, &november).await.unwrap()), [row("110101002", Some(G3), 1)]);
    let inspector = Scope::Unit { unit: "S002".into(), street: Some("110101001".into()) };
    assert_eq!(store.count_by_place(&inspector, &november).await.unwrap().iter().map(|c| c.cases).sum::<u64>(), 5);
    assert!(store.count_by_place(&Scope::Nothing, &november).await.unwrap().is_empty());
    // The list's filters: a top-level category, statuses, the deadline, a cell.
    let cat = CaseFilter { category: Some("04".into()), ..november.clone() };
    assert_eq!(sorted(store.count_by_place(&Scope::All, &cat).await.unwrap()), [row("110101001", Some(G2), 1)]);
    let closed = CaseFilter { statuses: vec![Status::Closed], ..november.clone() };
    assert!(store.count_by_place(&Scope::All, &closed).await.unwrap().is_empty());
    let overdue = CaseFilter { overdue_at: Some(at(101)), ..november.clone() };
    assert_eq!(store.count_by_place(&Scope::All, &overdue).await.unwrap().iter().map(|c| c.cases).sum::<u64>(), 5);
    let not_yet = CaseFilter { overdue_at: Some(at(99)), ..november.clone() };
    assert!(store.count_by_place(&Scope::All, &not_yet).await.unwrap().is_empty());
    // A cell's list agrees with its count.
    let cell = CaseFilter { grid: Some(G1.into()), ..november.clone() };
    let listed = store.list(&Scope::All, &cell, Page::default()).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().all(|c| c.case.place.grid.as_deref() == Some(G1)));
    assert_eq!(listed.last().unwrap().id, a);
    assert_eq!(store.count(&Scope::All, &cell).await.unwrap(), 2);
    assert!(store.list(&s002, &cell, Page::default()).await.unwrap().is_empty(), "scoped");
    // Values are bound, never spliced: a quote in a filter is only a value.
    let odd = CaseFilter { grid: Some("1' OR '1'='1".into()), ..november };
    assert!(store.count_by_place(&Scope::All, &odd).await.unwrap().is_empty());
    store.close().await;
}

#[tokio::test]
async fn sqlite_counts_by_place() {
    let dir = tempfile::tempdir().unwrap();
    counts(&format!("sqlite://{}/map.db", dir.path().display())).await;
}

#[tokio::test]
async fn postgres_counts_by_place() {
    let Some(db) = scratch_postgres("map").await else { return };
    counts(&db.url).await;
    db.drop().await;
}

/// A month is counted from the covering index alone, for every measure and scope the map uses.
#[tokio::test]
async fn the_count_reads_only_its_index_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&format!("sqlite://{}/plans.db", dir.path().display())).await.unwrap();
    let month = CaseFilter {
        received_from: Some(Utc.with_ymd_and_hms(2026, 10, 31, 16, 0, 0).unwrap()),
        received_to: Some(Utc.with_ymd_and_hms(2026, 11, 30, 16, 0, 0).unwrap()),
        ..Default::default()
    };
    let open = Status::ALL.iter().copied().filter(|s| s.is_open()).collect();
    let filters = [
        ("all", month.clone()),
        ("open", CaseFilter { statuses: open, ..month.clone() }),
        ("overdue", CaseFilter { overdue_at: Some(at(0)), ..month.clone() }),
        ("category", CaseFilter { category: Some("01".into()), ..month.clone() }),
    ];
    for (name, f) in filters {
        let plan = store.explain_count_by_place(&Scope::All, &f).await.unwrap().join(" | ");
        assert!(plan.contains("USING COVERING INDEX cases_received_place"), "{name}: {plan}");
        println!("{name}: {plan}");
    }
    let unit = Scope::Unit { unit: "S001".into(), street: None };
    let plan = store.explain_count_by_place(&unit, &month).await.unwrap().join(" | ");
    assert!(plan.contains("USING") && !plan.contains("SCAN cases |"), "unit: {plan}");
    println!("unit: {plan}");
}
