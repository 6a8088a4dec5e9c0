//! Category suggestions at the desk (the shipped classifier and label map over a real SQLite
//! store): an empty category is filled when the suggestion is confident, a given one is kept and
//! the suggestion recorded as confirmed or overridden, and an unclassifiable case goes to the
//! dispatcher's manual queue — received under 2299, not dispatched, with the reason on its
//! 受理 event. Messages are from the Teddy Cup 2020 sample (../shared/data/teddy2020c) or written
//! for the test.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use jiesu_core::intake::MANUAL_CATEGORY;
use jiesu_core::{Command, Config, CoreError, Desk, Suggester};
use jiesu_domain::access::Scope;
use jiesu_domain::calendar::Calendar;
use jiesu_domain::catalog::Catalog;
use jiesu_domain::deadline;
use jiesu_domain::draft::{Contact, NewCase, Place};
use jiesu_domain::model::{CaseKind, Channel, DeadlineClass, Role, Status};
use jiesu_domain::suggestion::{Outcome, Suggestion};
use jiesu_domain::workflow::{Action, Actor, WorkflowError};
use jiesu_store::{CaseFilter, Page};

/// Teddy Cup 2020 sample, id 45646 (交通运输).
const TAXI: (&str, &str) =
    ("C4市出租车过年乱收费", "C4市出租车过年乱收费，不打表，一口价，过河15元。才一两公里路！！这股风气谁允许的？");
/// Teddy Cup 2020 sample, id 144491 (环境保护).
const POLLUTION: (&str, &str) = (
    "请责令M3县环保局在U优会所设立环境监测点",
    "U优会所早晨排污持续，请责令环保局在此设环境监测点，加强污染监控，还市民一个好环境。",
);

fn at() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-02T02:00:00Z").unwrap().with_timezone(&Utc)
}

fn operator() -> Actor {
    Actor { user: "op-1".into(), role: Role::Operator, unit: None }
}

fn draft((title, text): (&str, &str), category: &str) -> NewCase {
    NewCase {
        channel: Channel::Hotline,
        kind: CaseKind::Complaint,
        title: Some(title.into()).filter(|t: &String| !t.is_empty()),
        text: text.into(),
        category: category.into(),
        place: Place { street: Some("110101001".into()), ..Place::default() },
        contact: Contact::default(),
        external_id: None,
    }
}

async fn desk(dir: &tempfile::TempDir) -> Desk {
    desk_at(&format!("sqlite://{}/category.db", dir.path().display())).await
}

async fn desk_at(url: &str) -> Desk {
    let store = jiesu_store::testing::connect(url).await.unwrap();
    Desk::new(store, Catalog::dongcheng(), Calendar::china(), Config::default())
        .with_classifier(Arc::new(Suggester::shipped().clone()))
        .unwrap()
}

/// The category suggestion on the case's 受理 event, and how many events the case has.
async fn recorded(desk: &Desk, id: i64) -> (Suggestion, usize) {
    let events = desk.store().events(id).await.unwrap();
    let Action::Receive { intake, .. } = &events[0].action else { panic!("first event is {:?}", events[0].action) };
    let s = intake.iter().find(|s| s.field == "category").unwrap_or_else(|| panic!("no category in {intake:?}"));
    (s.clone(), events.len())
}

#[tokio::test]
async fn an_empty_category_is_filled_by_a_confident_suggestion_and_dispatched() {
    let dir = tempfile::tempdir().unwrap();
    let desk = desk(&dir).await;
    let c = desk.receive(operator(), draft(TAXI, ""), at(), true).await.unwrap();
    // 交通运输 → 10 交通出行; 出租车 picks the leaf.
    assert_eq!(c.case.category, "1005");
    assert_eq!(c.state.category, "1005");
    assert_eq!(c.state.status, Status::Dispatched);
    let (s, events) = recorded(&desk, c.id).await;
    assert_eq!((s.outcome, s.value.as_str(), events), (Outcome::Filled, "1005", 2));
    assert!(s.confidence >= f64::from(desk.classifier().unwrap().classifier().manual_threshold()), "{s:?}");
    assert!(s.source.contains("交通运输") && s.source.contains("出租车"), "{}", s.source);
    assert_eq!(s.reason, None);
    desk.store().close().await;
}

#[tokio::test]
async fn a_given_category_is_kept_and_the_suggestion_confirmed_or_overridden() {
    let dir = tempfile::tempdir().unwrap();
    let desk = desk(&dir).await;
    let c = desk.receive(operator(), draft(TAXI, "1005"), at(), true).await.unwrap();
    let (s, _) = recorded(&desk, c.id).await;
    assert_eq!((s.outcome, s.chosen), (Outcome::Confirmed, None));

    // The operator files it as a price matter: kept, and the override recorded.
    let c = desk.receive(operator(), draft(TAXI, "1104"), at(), true).await.unwrap();
    assert_eq!((c.case.category.as_str(), c.state.status), ("1104", Status::Dispatched));
    let (s, _) = recorded(&desk, c.id).await;
    assert_eq!((s.outcome, s.value.as_str(), s.chosen.as_deref()), (Outcome::Overridden, "1005", Some("1104")));

    // Another message, another label: 环境保护 → 12, 排污 → 水环境污染.
    let c = desk.receive(operator(), draft(POLLUTION, "1202"), at(), false).await.unwrap();
    let (s, _) = recorded(&desk, c.id).await;
    assert_eq!((s.outcome, s.value.as_str(), s.chosen.as_deref()), (Outcome::Overridden, "1203", Some("1202")));
    desk.store().close().await;
}

#[tokio::test]
async fn an_unclassifiable_case_goes_to_the_manual_queue_and_is_not_dispatched() {
    let dir = tempfile::tempdir().unwrap();
    manual_queue(&format!("sqlite://{}/queue.db", dir.path().display())).await;
}

#[tokio::test]
async fn the_manual_queue_on_postgres() {
    let Some(db) = jiesu_store::testing::scratch_postgres("queue").await else { return };
    manual_queue(&db.url).await;
    db.drop().await;
}

async fn manual_queue(url: &str) {
    let desk = desk_at(url).await;
    let threshold = desk.classifier().unwrap().classifier().manual_threshold();
    // A message about nothing the classifier knows: low confidence.
    let text = ("", "我想问一下这个事情到底应该找谁，打了好几次电话都说不归他们管。");
    let suggestion = desk.classifier().unwrap().suggest(text.1);
    assert!(suggestion.manual && suggestion.confidence < threshold, "{suggestion:?}");
    let c = desk.receive(operator(), draft(text, ""), at(), true).await.unwrap();
    assert_eq!(c.case.category, MANUAL_CATEGORY);
    assert_eq!(c.state.status, Status::Received, "not dispatched although auto_dispatch was asked");
    assert_eq!(c.state.assignee, None);
    let (s, events) = recorded(&desk, c.id).await;
    assert_eq!(events, 1);
    assert_eq!(s.outcome, Outcome::Shown);
    let reason = s.reason.clone().unwrap();
    assert!(reason.contains("低于") && reason.contains("人工分类队列"), "{reason}");

    // Confidently 城乡建设 (a written message), but no keyword of its leaves: the leaf would be a
    // guess, so the same queue, with the top-level category shown.
    let c =
        desk.receive(operator(), draft(("", "小区门口天天有人乱停车，堵住消防通道"), ""), at(), true).await.unwrap();
    assert_eq!((c.case.category.as_str(), c.state.status), (MANUAL_CATEGORY, Status::Received));
    let (s, _) = recorded(&desk, c.id).await;
    assert_eq!((s.outcome, s.value.as_str()), (Outcome::Shown, "0301"));
    assert!(s.reason.as_deref().unwrap().contains("需人工选择细类"), "{s:?}");

    // No usable text at all: the same queue, with an empty suggestion.
    let c = desk.receive(operator(), draft(("", "？？？……"), ""), at(), true).await.unwrap();
    assert_eq!((c.case.category.as_str(), c.state.status), (MANUAL_CATEGORY, Status::Received));
    let (s, _) = recorded(&desk, c.id).await;
    assert_eq!((s.outcome, s.value.as_str()), (Outcome::Shown, ""));
    assert!(s.reason.unwrap().contains("诉求内容为空"));

    // A confident case filed at the same time is dispatched as usual.
    let ok = desk.receive(operator(), draft(TAXI, ""), at(), true).await.unwrap();
    assert_eq!(ok.state.status, Status::Dispatched);

    // The queue: received under 2299.
    let filter = CaseFilter {
        statuses: vec![Status::Received],
        category: Some(MANUAL_CATEGORY.into()),
        ..CaseFilter::default()
    };
    let queue = desk.store().list(&Scope::All, &filter, Page { limit: 10, before: None }).await.unwrap();
    let mut ids: Vec<i64> = queue.iter().map(|r| r.id).collect();
    ids.sort();
    assert_eq!(ids, vec![1, 2, 3]);

    // 改分类 + 派单 in one request: case 1 gets its real category, is routed and given its
    // deadline by it, and leaves the queue.
    let dispatcher = Actor { user: "d-1".into(), role: Role::Dispatcher, unit: None };
    // 暖气不热: a utility's case with the utility deadline class, where 2299 is general.
    let leaf = desk.catalog().category("0401").unwrap().clone();
    assert_eq!(leaf.deadline_class, DeadlineClass::Utility);
    let dispatch = Command::Dispatch { unit: None, category: Some("0401".into()) };
    let done = desk.act(1, dispatcher.clone(), dispatch, Some("人工分类后派单".into()), at()).await.unwrap();
    let route = desk.catalog().route("0401", done.case.place.street.as_deref(), done.case.place.community.as_deref());
    let due = deadline::due_at(desk.config().policy.span(leaf.deadline_class), at(), desk.config().tz, desk.calendar())
        .unwrap();
    assert_eq!(
        (done.state.status, done.state.category.as_str(), done.case.category.as_str()),
        (Status::Dispatched, "0401", "0401")
    );
    assert_eq!(
        (done.state.deadline_class, done.state.assignee.as_deref(), done.state.due),
        (leaf.deadline_class, Some(route.unit.as_str()), Some(due))
    );
    let events = desk.store().events(1).await.unwrap();
    assert_eq!(events.len(), 3);
    let Action::Reclassify { from, category, deadline_class } = &events[1].action else { panic!("{:?}", events[1]) };
    assert_eq!((from.as_str(), category.as_str(), *deadline_class), (MANUAL_CATEGORY, "0401", leaf.deadline_class));
    assert_eq!(
        (events[1].from, events[1].to, events[1].note.as_deref()),
        (Some(Status::Received), Status::Received, None)
    );
    let Action::Dispatch { unit, rule, .. } = &events[2].action else { panic!("{:?}", events[2]) };
    assert_eq!((unit, rule.as_ref()), (&route.unit, Some(&route.rule)));
    assert_eq!(events[2].note.as_deref(), Some("人工分类后派单"));
    // The row follows: read back, listed under the new category, out of the queue.
    assert_eq!(desk.store().case(1).await.unwrap().case.category, "0401");
    let page = Page { limit: 10, before: None };
    let by_new = CaseFilter { category: Some("0401".into()), ..CaseFilter::default() };
    let listed: Vec<i64> = desk.store().list(&Scope::All, &by_new, page).await.unwrap().iter().map(|r| r.id).collect();
    assert!(listed.contains(&1), "{listed:?}");
    let by_top =
        CaseFilter { category: Some("04".into()), statuses: vec![Status::Dispatched], ..CaseFilter::default() };
    assert!(desk.store().list(&Scope::All, &by_top, page).await.unwrap().iter().any(|r| r.id == 1));
    assert_eq!(desk.store().count(&Scope::All, &filter).await.unwrap(), 2);

    // 改分类 alone: case 2 stays 已受理 (for an ordinary dispatch later) but leaves the queue.
    let c = desk.act(2, dispatcher.clone(), Command::Reclassify { category: "0301".into() }, None, at()).await.unwrap();
    assert_eq!(
        (c.state.status, c.state.category.as_str(), c.case.category.as_str()),
        (Status::Received, "0301", "0301")
    );
    let queue: Vec<i64> = desk.store().list(&Scope::All, &filter, page).await.unwrap().iter().map(|r| r.id).collect();
    assert_eq!(queue, vec![3]);
    // ... and a plain dispatch then routes by it.
    let c = desk
        .act(2, dispatcher.clone(), Command::Dispatch { unit: None, category: Some("0301".into()) }, None, at())
        .await
        .unwrap();
    assert_eq!(c.state.assignee.as_deref(), Some(desk.catalog().route("0301", Some("110101001"), None).unit.as_str()));
    assert_eq!(desk.store().events(2).await.unwrap().len(), 3, "no 改分类 to the category the case has");

    // Unknown and top-level codes are refused, naming the field; so is an operator's dispatch.
    for (code, words) in [("9999", "unknown"), ("10", "top-level"), ("", "unknown")] {
        let e = desk
            .act(3, dispatcher.clone(), Command::Reclassify { category: code.into() }, None, at())
            .await
            .unwrap_err();
        let CoreError::Invalid(fields) = &e else { panic!("{code}: {e:?}") };
        assert_eq!(fields[0].field, "category");
        assert!(fields[0].message.contains(words), "{code}: {}", fields[0].message);
    }
    let e = desk
        .act(3, operator(), Command::Dispatch { unit: None, category: Some("1005".into()) }, None, at())
        .await
        .unwrap_err();
    assert!(matches!(e, CoreError::Workflow(WorkflowError::Forbidden { action: "dispatch", .. })), "{e:?}");
    assert_eq!(desk.store().events(3).await.unwrap().len(), 1, "nothing of a refused request is written");
    // An operator may reclassify; the same category again is refused.
    desk.act(3, operator(), Command::Reclassify { category: "0301".into() }, None, at()).await.unwrap();
    let e = desk.act(3, operator(), Command::Reclassify { category: "0301".into() }, None, at()).await.unwrap_err();
    assert!(matches!(e, CoreError::Workflow(WorkflowError::Invalid(_))), "{e:?}");

    let report = desk.check().await.unwrap();
    assert!(report.ok(), "{:?}", report.mismatches);
    assert_eq!((report.cases, report.events), (4, 3 + 3 + 2 + 2));
    // A category column changed without an event is reported.
    let mut moved = ok.case.clone();
    moved.category = "0301".into();
    desk.store().update_intake(ok.id, &moved).await.unwrap();
    let report = desk.check().await.unwrap();
    assert_eq!(report.mismatches.iter().map(|m| m.0).collect::<Vec<_>>(), vec![ok.id], "{:?}", report.mismatches);
    desk.store().close().await;
}

#[tokio::test]
async fn without_a_classifier_a_category_is_required() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/plain.db", dir.path().display());
    let store = jiesu_store::testing::connect(&url).await.unwrap();
    let desk = Desk::new(store, Catalog::dongcheng(), Calendar::china(), Config::default());
    let e = desk.receive(operator(), draft(TAXI, ""), at(), true).await.unwrap_err();
    let CoreError::Invalid(fields) = e else { panic!("{e:?}") };
    assert_eq!(fields.len(), 1);
    assert_eq!(fields[0].field, "category");
    assert!(fields[0].message.contains("required"), "{}", fields[0].message);
    // A given category records no category suggestion.
    let c = desk.receive(operator(), draft(TAXI, "1005"), at(), true).await.unwrap();
    let events = desk.store().events(c.id).await.unwrap();
    let Action::Receive { intake, .. } = &events[0].action else { panic!() };
    assert!(intake.is_empty());
    desk.store().close().await;
}

#[tokio::test]
async fn suggest_shows_what_filing_would_do() {
    let dir = tempfile::tempdir().unwrap();
    let desk = desk(&dir).await;
    let s = desk.suggest(&Scope::All, &draft(TAXI, ""), at()).await.unwrap();
    let c = s.category.as_ref().unwrap();
    assert_eq!(
        (c.label.as_str(), c.top_category.as_deref(), c.category.as_deref()),
        ("交通运输", Some("10"), Some("1005"))
    );
    assert_eq!(c.keywords, vec!["出租车".to_string()]);
    assert!(!s.manual_queue);
    assert_eq!(s.suggestions[0].outcome, Outcome::Filled);
    assert!(s.route.is_some(), "routed by the suggested leaf");

    let s = desk
        .suggest(&Scope::All, &draft(("", "我想问一下这个事情到底应该找谁，打了好几次电话都说不归他们管。"), ""), at())
        .await
        .unwrap();
    assert!(s.manual_queue && s.route.is_none(), "{s:?}");
    assert_eq!(s.suggestions[0].outcome, Outcome::Shown);
    // Nothing was stored.
    assert_eq!(desk.store().max_case_id().await.unwrap(), None);
    desk.store().close().await;
}
