//! Listing stays fast on millions of rows because every filter the console uses is served by an
//! index: checked on SQLite's query planner, which plans the same on an empty table.

use chrono::{TimeZone, Utc};
use jiesu_domain::model::Status;
use jiesu_store::{CaseFilter, Page, Scope, Store};

#[tokio::test]
async fn every_list_filter_uses_an_index_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&format!("sqlite://{}/plans.db", dir.path().display())).await.unwrap();
    let t = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
    let filters = [
        ("status", CaseFilter { statuses: vec![Status::Dispatched, Status::Accepted], ..Default::default() }),
        ("unit", CaseFilter { assignee: Some("S001".into()), ..Default::default() }),
        ("category", CaseFilter { category: Some("0101".into()), ..Default::default() }),
        ("top-level category", CaseFilter { category: Some("01".into()), ..Default::default() }),
        ("street", CaseFilter { street: Some("110101001".into()), ..Default::default() }),
        ("grid", CaseFilter { grid: Some("11010100100101".into()), ..Default::default() }),
        ("date range", CaseFilter { received_from: Some(t), received_to: Some(t), ..Default::default() }),
        ("overdue", CaseFilter { overdue_at: Some(t), ..Default::default() }),
        ("external id", CaseFilter { external_id: Some("x".into()), ..Default::default() }),
        ("no filter, paged", CaseFilter::default()),
        ("text", CaseFilter { text: Some("占道".into()), ..Default::default() }),
    ];
    let scopes = [
        ("all", Scope::All),
        ("unit", Scope::Unit { unit: "S001".into(), street: None }),
        ("inspector", Scope::Unit { unit: "S001".into(), street: Some("110101001".into()) }),
        ("citizen", Scope::Own("key:app".into())),
    ];
    let runs = filters
        .iter()
        .map(|(n, f)| (n.to_string(), Scope::All, f.clone()))
        .chain(scopes.into_iter().map(|(n, s)| (format!("scope {n}"), s, CaseFilter::default())));
    for (name, scope, f) in runs {
        let plan = store.explain_list(&scope, &f, Page { limit: 50, before: Some(1000) }).await.unwrap().join(" | ");
        let full_scan = plan.contains("SCAN cases") && !plan.contains("USING");
        assert!(!full_scan, "{name}: full table scan: {plan}");
        assert!(!plan.contains("USE TEMP B-TREE FOR ORDER BY") || plan.contains("USING INDEX"), "{name}: {plan}");
        println!("{name}: {plan}");
    }
}
