//! A small demo year on SQLite: deterministic, every stage present, consistent with its events,
//! seasonal, and alive at the end (open and overdue cases).

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Utc};
use jiesu_core::{Config, Desk};
use jiesu_demo::{DemoOptions, generate};
use jiesu_domain::calendar::Calendar;
use jiesu_domain::catalog::Catalog;
use jiesu_domain::model::Status;
use jiesu_store::{CaseFilter, Page, Scope, Store};

fn end() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-06-30T06:30:00Z").unwrap().with_timezone(&Utc)
}

async fn desk(dir: &tempfile::TempDir, name: &str) -> Desk {
    let store = Store::connect(&format!("sqlite://{}/{name}.db", dir.path().display())).await.unwrap();
    Desk::new(store, Catalog::dongcheng(), Calendar::china(), Config::default())
}

/// (id, status, category, assignee, received_at, seq) of every case.
async fn snapshot(desk: &Desk) -> Vec<(i64, Status, String, Option<String>, DateTime<Utc>, u32)> {
    let mut out = Vec::new();
    let mut before = None;
    loop {
        let page = desk.store().list(&Scope::All, &CaseFilter::default(), Page { limit: 500, before }).await.unwrap();
        let Some(last) = page.last() else { break };
        before = Some(last.id);
        out.extend(
            page.into_iter()
                .map(|c| (c.id, c.state.status, c.state.category, c.state.assignee, c.state.received_at, c.state.seq)),
        );
    }
    out.sort_by_key(|c| c.0);
    out
}

#[tokio::test]
async fn a_small_year() {
    let dir = tempfile::tempdir().unwrap();
    let opts = DemoOptions { cases: 500, seed: 7, end: end() };
    let a = desk(&dir, "a").await;
    let mut calls = 0;
    let report = generate(&a, &opts, |done, total| {
        calls += 1;
        assert!(done <= total);
    })
    .await
    .unwrap();
    assert_eq!(report.cases, 500);
    assert!(calls > 300, "progress once per simulated day");
    assert!(report.events > 500 * 5, "{report:?}");
    eprintln!("{report:?}");

    // Every stage of interest is there.
    for status in ["received", "dispatched", "in_progress", "replied", "closed", "merged"] {
        assert!(report.by_status.get(status).copied().unwrap_or(0) > 0, "no {status} case: {:?}", report.by_status);
    }
    assert_eq!(report.by_status.values().sum::<usize>(), 500);

    // Every case replays to its stored state.
    let check = a.check().await.unwrap();
    assert!(check.ok(), "{:?}", check.mismatches);
    assert_eq!(check.events as usize, report.events);

    // Most of a year's cases are closed; late units were supervised (督办); some cases were
    // returned, extended, summoned help, reopened.
    assert!(report.by_status["closed"] * 10 > 500 * 7, "{:?}", report.by_status);
    let states = a.store().states_received(end() - chrono::Duration::days(400), end()).await.unwrap();
    assert_eq!(states.len(), 500);
    let share = |f: &dyn Fn(&jiesu_domain::workflow::CaseState) -> bool| states.iter().filter(|(_, s)| f(s)).count();
    assert!(share(&|s| s.supervisions > 0) * 100 > 500 * 3, "too few supervised cases");
    assert!(share(&|s| s.returns > 0) > 0 && share(&|s| s.reopen_count > 0) > 0 && share(&|s| s.extensions > 0) > 0);
    assert!(share(&|s| !s.joint.is_empty()) > 0, "no joint handling (吹哨)");
    assert!(share(&|s| s.appeal.is_some()) > 0, "no 考核申诉");

    // Seasons: more heating cases in winter months than in summer months.
    let cases = snapshot(&a).await;
    let heating = |months: &[u32]| {
        cases
            .iter()
            .filter(|c| {
                c.2.starts_with("04") && months.contains(&c.4.with_timezone(&chrono_tz::Asia::Shanghai).month())
            })
            .count()
    };
    let (winter, summer) = (heating(&[11, 12, 1, 2]), heating(&[6, 7, 8]));
    assert!(winter > 3 * summer.max(1), "heating: winter {winter}, summer {summer}");

    // Alive at the end: open cases, some overdue, nothing later than the end.
    let open: usize =
        report.by_status.iter().filter(|(s, _)| !matches!(s.as_str(), "closed" | "merged")).map(|(_, n)| n).sum();
    assert!(open >= 5, "{:?}", report.by_status);
    let overdue =
        a.store().count(&Scope::All, &CaseFilter { overdue_at: Some(end()), ..Default::default() }).await.unwrap();
    assert!(overdue > 0);
    let latest = a.store().list(&Scope::All, &CaseFilter::default(), Page { limit: 500, before: None }).await.unwrap();
    assert!(latest.iter().all(|c| c.state.updated_at <= end()));
    // Some online filings went through the dispatcher's manual queue: received under 2299,
    // then classified and dispatched (改分类 + 派单).
    let mut classified = 0;
    for c in &latest {
        let events = a.store().events(c.id).await.unwrap();
        if events.iter().any(|e| e.action.code() == "reclassify") {
            assert_ne!(c.state.category, "2299", "case {} classified from the queue", c.id);
            classified += 1;
        }
    }
    assert!(classified > 0, "no case went through the manual queue");

    // Repeat callers (来电弹屏): regulars call again, their numbers spelled in several ways, and the
    // desk finds all their cases by the number's key.
    let mut by_number: BTreeMap<String, (usize, Vec<String>)> = BTreeMap::new();
    for c in &latest {
        if let Some(p) = c.case.contact.phone.as_deref() {
            let e = by_number.entry(jiesu_domain::phone::normalise(p).unwrap()).or_default();
            e.0 += 1;
            e.1.push(p.to_string());
        }
    }
    let (number, (calls, spellings)) = by_number.iter().max_by_key(|(_, (n, _))| *n).unwrap();
    let repeat = by_number.values().filter(|(n, _)| *n >= 2).count();
    eprintln!("repeat callers: {repeat}, the most frequent called {calls} times");
    assert!(*calls >= 2 && repeat >= 3, "too few repeat callers: {repeat}, at most {calls} calls");
    let operator =
        jiesu_domain::workflow::Actor { user: "op".into(), role: jiesu_domain::model::Role::Operator, unit: None };
    let found = a.caller_history(&operator, &spellings[0], 50, end()).await.unwrap().unwrap();
    assert_eq!(found.total as usize, *calls, "{number}: {spellings:?}");

    // Deterministic: the same seed gives the same store.
    let b = desk(&dir, "b").await;
    let again = generate(&b, &opts, |_, _| {}).await.unwrap();
    assert_eq!((again.events, &again.by_status), (report.events, &report.by_status));
    assert_eq!(snapshot(&b).await, cases);

    // A store with cases is refused.
    assert!(generate(&a, &opts, |_, _| {}).await.is_err());

    let months: BTreeMap<u32, usize> = cases.iter().fold(BTreeMap::new(), |mut m, c| {
        *m.entry(c.4.with_timezone(&chrono_tz::Asia::Shanghai).month()).or_default() += 1;
        m
    });
    eprintln!("cases per month: {months:?}");
}
