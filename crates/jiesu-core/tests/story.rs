//! One story, told against every backend: SQLite in a temp dir always, PostgreSQL when
//! `DATABASE_URL` names one (CI sets it). A case goes round the whole loop, with a return, an
//! extension, a joint handling, a reopen and a merge; the overdue sweep runs twice in parallel.

use chrono::{DateTime, Duration, Utc};
use jiesu_core::{Command, Config, CoreError, Desk};
use jiesu_domain::calendar::Calendar;
use jiesu_domain::catalog::Catalog;
use jiesu_domain::draft::{Contact, NewCase, Place};
use jiesu_domain::model::{CaseKind, Channel, Role, Satisfaction, Status};
use jiesu_domain::workflow::Actor;
use jiesu_store::{CaseFilter, Page, Scope};

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn actor(role: Role, unit: Option<&str>) -> Actor {
    Actor { user: format!("{}-1", role.code()), role, unit: unit.map(str::to_string) }
}

fn draft(text: &str, category: &str, street: &str) -> NewCase {
    NewCase {
        channel: Channel::Hotline,
        kind: CaseKind::Complaint,
        title: None,
        text: text.into(),
        category: category.into(),
        place: Place {
            address: Some("东城区美术馆后街".into()),
            lat: Some(39.93),
            lon: Some(116.41),
            street: Some(street.into()),
            community: None,
            grid: None,
        },
        contact: Contact {
            name: Some("张三".into()),
            phone: Some("13812345678".into()),
            email: None,
            confidential: false,
        },
        external_id: None,
    }
}

/// A leaf category handled by street offices with no fixed unit, for direct dispatch (直派).
fn street_category(c: &Catalog) -> String {
    c.leaf_categories()
        .into_iter()
        .find(|c| c.unit.is_none() && c.unit_kind == jiesu_domain::model::UnitKind::Street)
        .expect("a street-handled category")
        .code
        .clone()
}

async fn story(url: &str) {
    let store = jiesu_store::testing::connect(url).await.expect("connect");
    let catalog = Catalog::dongcheng();
    let cat = street_category(&catalog);
    let desk = Desk::new(store.clone(), catalog.clone(), Calendar::china(), Config::default());
    let op = actor(Role::Operator, None);
    let disp = actor(Role::Dispatcher, None);
    let s001 = actor(Role::UnitHandler, Some("S001"));
    let s002 = actor(Role::UnitHandler, Some("S002"));

    // 受理 + 直派 to the street office of the case's street.
    let at = t("2026-09-29T02:00:00Z");
    let c = desk.receive(op.clone(), draft("楼道堆物影响通行", &cat, "110101001"), at, true).await.unwrap();
    assert_eq!(c.state.status, Status::Dispatched);
    assert_eq!(c.state.assignee.as_deref(), Some("S001"));
    // 7 working days across National Day 2026 (10/10 is a make-up Saturday).
    assert_eq!(c.state.due, Some(t("2026-10-14T16:00:00Z")));
    let id = c.id;
    // The dispatch event names the row of the responsibility list that fired.
    let events = desk.store().events(id).await.unwrap();
    match &events[1].action {
        jiesu_domain::workflow::Action::Dispatch { rule: Some(rule), .. } => {
            assert!(rule.starts_with("权责清单 line ") && rule.contains("直派"), "{rule}")
        }
        other => panic!("expected the router's dispatch, got {other:?}"),
    }

    // Another unit may not sign for it: to that unit the case does not exist.
    let err = desk.act(id, s002.clone(), Command::Accept, None, at + Duration::minutes(5)).await.unwrap_err();
    assert!(matches!(err, CoreError::NotFound(n) if n == id), "{err}");

    // 退单: asked, refused; then accepted and handled.
    desk.act(id, s001.clone(), Command::RequestReturn, Some("非本单位职责".into()), at + Duration::minutes(10))
        .await
        .unwrap();
    let r = desk.act(id, disp.clone(), Command::RefuseReturn, None, at + Duration::minutes(20)).await.unwrap();
    assert_eq!(r.state.status, Status::Dispatched);
    desk.act(id, s001.clone(), Command::Accept, None, at + Duration::minutes(30)).await.unwrap();
    desk.act(id, s001.clone(), Command::Handle { contacted: true }, None, at + Duration::hours(1)).await.unwrap();

    // 延期: 3 more working days, approved.
    let r = desk
        .act(
            id,
            s001.clone(),
            Command::RequestExtension { until: None, working_days: Some(3) },
            Some("需协调产权单位".into()),
            at + Duration::hours(2),
        )
        .await
        .unwrap();
    assert_eq!(r.state.pending_extension, Some(t("2026-10-19T16:00:00Z")));
    let r = desk.act(id, disp.clone(), Command::ApproveExtension, None, at + Duration::hours(3)).await.unwrap();
    assert_eq!(r.state.due, Some(t("2026-10-19T16:00:00Z")));

    // 吹哨报到: the street summons a department, which checks in.
    let dept =
        catalog.units().iter().find(|u| u.kind == jiesu_domain::model::UnitKind::Department).unwrap().code.clone();
    desk.act(
        id,
        s001.clone(),
        Command::Whistle { units: vec![dept.clone()], checkin_hours: None },
        None,
        at + Duration::hours(4),
    )
    .await
    .unwrap();
    let r = desk
        .act(id, actor(Role::UnitHandler, Some(&dept)), Command::CheckIn, None, at + Duration::hours(5))
        .await
        .unwrap();
    assert!(r.state.joint[0].checked_in_at.is_some());

    // 答复, 回访 (unsolved) → 重办 → answered again → satisfied → 结案.
    desk.act(id, s001.clone(), Command::Reply, Some("已清理楼道堆物".into()), at + Duration::days(1)).await.unwrap();
    let cb =
        Command::Callback { reached: true, responded: true, solved: false, satisfaction: Satisfaction::Unsatisfied };
    desk.act(id, op.clone(), cb, None, at + Duration::days(2)).await.unwrap();
    let r = desk.act(id, disp.clone(), Command::Reopen, None, at + Duration::days(2)).await.unwrap();
    assert_eq!((r.state.status, r.state.reopen_count), (Status::Dispatched, 1));
    desk.act(id, s001.clone(), Command::Accept, None, at + Duration::days(3)).await.unwrap();
    desk.act(id, s001.clone(), Command::Reply, Some("已彻底清理".into()), at + Duration::days(4)).await.unwrap();
    let cb = Command::Callback { reached: true, responded: true, solved: true, satisfaction: Satisfaction::Satisfied };
    desk.act(id, op.clone(), cb, None, at + Duration::days(5)).await.unwrap();
    let r = desk.act(id, op.clone(), Command::Close, None, at + Duration::days(5)).await.unwrap();
    assert_eq!(r.state.status, Status::Closed);
    // Closed cases take no action but reopen.
    let err = desk.act(id, s001.clone(), Command::Reply, Some("x".into()), at + Duration::days(6)).await.unwrap_err();
    assert!(err.to_string().contains("closed"), "{err}");

    // 合并: a duplicate merges into an open master; not into itself or a missing case.
    let master = desk.receive(op.clone(), draft("小区门口占道经营", &cat, "110101002"), at, true).await.unwrap();
    let dup = desk.receive(op.clone(), draft("小区门口又有占道经营", &cat, "110101002"), at, false).await.unwrap();
    assert!(desk.act(dup.id, op.clone(), Command::Merge { into: dup.id }, None, at).await.is_err());
    assert!(desk.act(dup.id, op.clone(), Command::Merge { into: 999_999 }, None, at).await.is_err());
    let m = desk.act(dup.id, op.clone(), Command::Merge { into: master.id }, None, at).await.unwrap();
    assert_eq!((m.state.status, m.state.merged_into), (Status::Merged, Some(master.id)));

    // Overdue sweep, twice at once: exactly one notice per overdue case.
    let late = t("2026-12-01T00:00:00Z");
    let (a, b) = tokio::join!(desk.sweep_overdue(late), desk.sweep_overdue(late));
    assert_eq!(a.unwrap() + b.unwrap(), 1, "only the master case is overdue");
    let m = store.case(master.id).await.unwrap();
    assert_eq!((m.state.supervisions, m.state.overdue_noticed), (1, true));
    assert_eq!(desk.sweep_overdue(late).await.unwrap(), 0);

    // Listing and counting with filters and paging.
    let all = store.list(&Scope::All, &CaseFilter::default(), Page { limit: 2, before: None }).await.unwrap();
    assert_eq!(all.iter().map(|c| c.id).collect::<Vec<_>>(), vec![dup.id, master.id]);
    let next =
        store.list(&Scope::All, &CaseFilter::default(), Page { limit: 2, before: Some(master.id) }).await.unwrap();
    assert_eq!(next.iter().map(|c| c.id).collect::<Vec<_>>(), vec![id]);
    let f = CaseFilter { statuses: vec![Status::Dispatched], street: Some("110101002".into()), ..Default::default() };
    assert_eq!(store.count(&Scope::All, &f).await.unwrap(), 1);
    let f = CaseFilter { overdue_at: Some(late), ..Default::default() };
    assert_eq!(store.count(&Scope::All, &f).await.unwrap(), 1);
    let f = CaseFilter { category: Some(cat[..2].to_string()), assignee: Some("S001".into()), ..Default::default() };
    assert_eq!(store.count(&Scope::All, &f).await.unwrap(), 1);
    // Personal data round-trips (masking is the API's job).
    assert_eq!(store.case(id).await.unwrap().case.contact.phone.as_deref(), Some("13812345678"));

    // Assessment: S001 has one reached callback (the latest: solved, satisfied).
    let figs = desk.assessment("2026-09".parse().unwrap(), late).await.unwrap();
    let s001f = figs.iter().find(|f| f.unit == "S001").unwrap();
    assert_eq!((s001f.cases, s001f.callbacks), (1, 1));
    assert_eq!(s001f.satisfaction_rate, Some(1.0));
    assert_eq!(s001f.rework_rate, Some(1.0));

    // Every case replays to its stored state.
    let report = desk.check().await.unwrap();
    assert!(report.ok(), "{:?}", report.mismatches);
    assert_eq!(report.cases, 3);
    store.close().await;
}

#[tokio::test]
async fn story_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    story(&format!("sqlite://{}/jiesu.db", dir.path().display())).await;
}

#[tokio::test]
async fn story_on_postgres() {
    // A fresh database per run: the story counts cases.
    let Some(db) = jiesu_store::testing::scratch_postgres("story").await else { return };
    story(&db.url).await;
    db.drop().await;
}
