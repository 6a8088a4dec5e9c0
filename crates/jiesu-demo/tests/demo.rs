//! The demo is deterministic, goes through every stage of the loop, follows the seasons, and
//! leaves a store whose every case replays to its state.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Utc};
use jiesu_core::{Config, Desk};
use jiesu_demo::{DemoOptions, generate};
use jiesu_domain::calendar::Calendar;
use jiesu_domain::catalog::Catalog;
use jiesu_store::{CaseFilter, Page, Store};

async fn demo(dir: &std::path::Path, name: &str, cases: usize) -> (Desk, jiesu_demo::DemoReport) {
    let store = Store::connect(&format!("sqlite://{}/{name}.db", dir.display())).await.unwrap();
    let desk = Desk::new(store, Catalog::dongcheng(), Calendar::china(), Config::default());
    let end: DateTime<Utc> = "2026-11-20T08:00:00Z".parse().unwrap();
    let mut calls = 0;
    let report = generate(&desk, &DemoOptions { cases, seed: 11, end }, |_, _| calls += 1).await.unwrap();
    assert_eq!(calls, report.cases - report.by_status.get("merged").copied().unwrap_or(0).min(calls));
    (desk, report)
}

async fn outcomes(desk: &Desk) -> Vec<(String, String, Option<String>)> {
    let mut all = Vec::new();
    let mut before = None;
    loop {
        let page = desk.store().list(&CaseFilter::default(), Page { limit: 1000, before }).await.unwrap();
        let Some(last) = page.last() else { break };
        before = Some(last.id);
        all.extend(page.into_iter().map(|c| (c.case.text, c.state.status.code().to_string(), c.state.assignee)));
    }
    all.sort();
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_demo_year_is_deterministic_complete_seasonal_and_consistent() {
    let dir = tempfile::tempdir().unwrap();
    let (desk, report) = demo(dir.path(), "a", 600).await;
    assert!(report.cases >= 600, "{report:?}");
    for status in ["in_progress", "closed", "merged"] {
        assert!(report.by_status.get(status).copied().unwrap_or(0) > 0, "no {status} case: {:?}", report.by_status);
    }
    let open_stages = report.by_status.keys().filter(|s| !["closed", "merged"].contains(&s.as_str())).count();
    assert!(open_stages >= 3, "cases open at several stages: {:?}", report.by_status);
    let closed = report.by_status["closed"] as f64 / report.cases as f64;
    assert!(closed > 0.7, "most of a year's cases are closed: {closed}");

    // Heating complaints come in winter.
    let heating = desk.store().list(&CaseFilter { category: Some("04".into()), ..Default::default() }, Page { limit: 1000, before: None }).await.unwrap();
    let winter = heating.iter().filter(|c| matches!(c.state.received_at.month(), 11 | 12 | 1 | 2 | 3)).count();
    assert!(winter * 2 > heating.len() * 1 && heating.len() > 5, "{winter} of {} heating cases in winter", heating.len());

    // Late units: some cases were supervised (督办) for passing their deadline.
    let (from, to) = ("2025-11-01T00:00:00Z".parse().unwrap(), "2026-12-01T00:00:00Z".parse().unwrap());
    let states = desk.store().states_received(from, to).await.unwrap();
    let supervised = states.iter().filter(|(_, s)| s.supervisions > 0).count();
    assert!(supervised * 100 > states.len() * 3, "{supervised} of {} cases supervised", states.len());
    let reopened = states.iter().filter(|(_, s)| s.reopen_count > 0).count();
    let returned = states.iter().filter(|(_, s)| s.returns > 0).count();
    assert!(reopened > 0 && returned > 0, "reopened {reopened}, returned {returned}");

    let check = desk.check().await.unwrap();
    assert!(check.ok(), "{:?}", check.mismatches);

    // The same seed gives the same cases and outcomes.
    let (again, _) = demo(dir.path(), "b", 600).await;
    assert_eq!(outcomes(&desk).await, outcomes(&again).await);
    let by: BTreeMap<_, _> = report.by_status.clone();
    assert!(!by.is_empty());
}
