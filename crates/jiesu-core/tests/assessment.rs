//! The monthly assessment tallies follow every write (receive, act, a redispatch that moves a
//! case to another unit, a reopen) on SQLite and PostgreSQL: the figures read from them equal
//! the figures folded from the cases at every `now` (before a reply, after everything, later
//! when deadlines have passed), the trend's composites equal the fold's, and `jiesu check`
//! finds a tampered tally.

use chrono::{DateTime, Duration, Utc};
use jiesu_core::{Command, Config, Desk};
use jiesu_domain::assessment::{Period, Tally};
use jiesu_domain::calendar::Calendar;
use jiesu_domain::catalog::Catalog;
use jiesu_domain::draft::{Contact, NewCase, Place};
use jiesu_domain::model::{CaseKind, Channel, Role, Satisfaction, UnitKind};
use jiesu_domain::workflow::Actor;

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
        contact: Contact::default(),
        external_id: None,
    }
}

fn street_category(c: &Catalog) -> String {
    c.leaf_categories()
        .into_iter()
        .find(|c| c.unit.is_none() && c.unit_kind == UnitKind::Street)
        .expect("a street-handled category")
        .code
        .clone()
}

async fn same_as_fold(desk: &Desk, period: Period, now: DateTime<Utc>) {
    let read = desk.assessment(period, now).await.unwrap();
    let folded = desk.assessment_by_fold(period, now).await.unwrap();
    assert_eq!(read, folded, "{period} at {now}");
}

async fn tallies_follow_every_write(url: &str) {
    let store = jiesu_store::testing::connect(url).await.expect("connect");
    let catalog = Catalog::dongcheng();
    let cat = street_category(&catalog);
    let desk = Desk::new(store.clone(), catalog.clone(), Calendar::china(), Config::default());
    let op = actor(Role::Operator, None);
    let disp = actor(Role::Dispatcher, None);
    let s001 = actor(Role::UnitHandler, Some("S001"));
    let (oct, nov) = (Period::new(2026, 10).unwrap(), Period::new(2026, 11).unwrap());

    // October: one case solved and closed, one reopened and closed again.
    let at = t("2026-10-12T02:00:00Z");
    let a = desk.receive(op.clone(), draft("楼道堆物", &cat, "110101001"), at, true).await.unwrap().id;
    let b = desk.receive(op.clone(), draft("噪音扰民", &cat, "110101001"), at, true).await.unwrap().id;
    assert!(!desk.store().tallies(oct, oct).await.unwrap().is_empty(), "a new dispatched case is tallied at once");
    for (id, solved) in [(a, true), (b, false)] {
        desk.act(id, s001.clone(), Command::Accept, None, at + Duration::hours(1)).await.unwrap();
        desk.act(id, s001.clone(), Command::Reply, Some("已处理".into()), at + Duration::days(1)).await.unwrap();
        let satisfaction = if solved { Satisfaction::Satisfied } else { Satisfaction::Unsatisfied };
        let cb = Command::Callback { reached: true, responded: true, solved, satisfaction };
        desk.act(id, op.clone(), cb, None, at + Duration::days(2)).await.unwrap();
    }
    desk.act(a, op.clone(), Command::Close, None, at + Duration::days(2)).await.unwrap();
    desk.act(b, disp.clone(), Command::Reopen, None, at + Duration::days(2)).await.unwrap();
    desk.act(b, s001.clone(), Command::Accept, None, at + Duration::days(2)).await.unwrap();
    desk.act(b, s001.clone(), Command::Reply, Some("已彻底处理".into()), at + Duration::days(3)).await.unwrap();
    let cb = Command::Callback { reached: true, responded: false, solved: true, satisfaction: Satisfaction::Basic };
    desk.act(b, op.clone(), cb, None, at + Duration::days(4)).await.unwrap();
    desk.act(b, op.clone(), Command::Close, None, at + Duration::days(4)).await.unwrap();

    // November: one case returned by S001 and sent to S002 (its tally moves), one left open
    // past its deadline, one never dispatched.
    let at = t("2026-11-03T02:00:00Z");
    let c = desk.receive(op.clone(), draft("占道经营", &cat, "110101001"), at, true).await.unwrap().id;
    desk.act(c, s001.clone(), Command::RequestReturn, Some("非本辖区".into()), at + Duration::hours(1)).await.unwrap();
    desk.act(c, disp.clone(), Command::ApproveReturn, None, at + Duration::hours(2)).await.unwrap();
    let to_s002 = Command::Dispatch { unit: Some("S002".into()), category: None };
    desk.act(c, disp.clone(), to_s002, None, at + Duration::hours(3)).await.unwrap();
    let s002 = actor(Role::UnitHandler, Some("S002"));
    desk.act(c, s002.clone(), Command::Accept, None, at + Duration::hours(4)).await.unwrap();
    desk.act(c, s002.clone(), Command::Reply, Some("已处理".into()), at + Duration::days(1)).await.unwrap();
    let cb = Command::Callback { reached: true, responded: true, solved: true, satisfaction: Satisfaction::Satisfied };
    desk.act(c, op.clone(), cb, None, at + Duration::days(1)).await.unwrap();
    desk.receive(op.clone(), draft("路灯不亮", &cat, "110101001"), at, true).await.unwrap();
    desk.receive(op.clone(), draft("井盖缺失", &cat, "110101001"), at, false).await.unwrap();

    let nov_rows = desk.store().tallies(nov, nov).await.unwrap();
    let units: Vec<&str> = nov_rows.iter().map(|r| r.unit.as_str()).collect();
    assert_eq!(units, ["S001", "S002"], "the returned case counts for S002 only: {nov_rows:?}");
    assert_eq!(nov_rows[0].tally.cases, 1);
    assert_eq!((nov_rows[1].tally.cases, nov_rows[1].tally.callbacks), (1, 1));

    // The same figures as the fold at every time asked about: during October (before replies,
    // so the tallies cannot say and the desk folds), after everything, and months later when
    // the open case is overdue.
    for now in
        [t("2026-10-12T12:00:00Z"), t("2026-10-14T00:00:00Z"), t("2026-11-05T00:00:00Z"), t("2027-01-01T00:00:00Z")]
    {
        for p in [oct, nov] {
            same_as_fold(&desk, p, now).await;
        }
    }
    let later = desk.assessment(nov, t("2027-01-01T00:00:00Z")).await.unwrap();
    assert_eq!(later.iter().find(|f| f.unit == "S001").unwrap().overdue_open, 1);
    let oct_figs = desk.assessment(oct, t("2027-01-01T00:00:00Z")).await.unwrap();
    let s = &oct_figs[0];
    assert_eq!((s.unit.as_str(), s.cases, s.callbacks, s.closed), ("S001", 2, 2, 2));
    assert_eq!((s.response_rate, s.resolution_rate, s.rework_rate), (Some(0.5), Some(1.0), Some(0.5)));

    // The trend: the district and S001, per month, as composites of the fold.
    let trend = desk.trend(nov, 3, Some("S001")).await.unwrap();
    assert_eq!(trend.iter().map(|p| p.period.to_string()).collect::<Vec<_>>(), ["2026-09", "2026-10", "2026-11"]);
    assert_eq!((trend[0].district, trend[0].unit), (None, None));
    let weights = desk.config().weights;
    for p in &trend[1..] {
        let (from, to) = p.period.bounds(desk.config().tz);
        let states: Vec<_> =
            desk.store().states_received(from, to).await.unwrap().into_iter().map(|(_, s)| s).collect();
        let sum = |unit: Option<&str>| {
            states
                .iter()
                .filter(|s| s.assignee.is_some() && (unit.is_none() || s.assignee.as_deref() == unit))
                .fold(Tally::default(), |t, s| t.plus(Tally::settled(s)))
        };
        assert_eq!(p.district, sum(None).composite(&weights), "{}", p.period);
        assert_eq!(p.unit, sum(Some("S001")).composite(&weights), "{}", p.period);
    }
    assert!(trend[1].unit.is_some() && trend[2].unit.is_none(), "S001 has no callback in November: {trend:?}");

    // Rankings read the tallies too.
    let ranks = desk.ranking(nov, UnitKind::Street, t("2026-12-01T00:00:00Z")).await.unwrap();
    assert_eq!(ranks.iter().map(|r| r.unit.as_str()).collect::<Vec<_>>(), ["S002"]);

    appeals_exclude_cases_from_the_unit_only_while_excluded(&desk, b).await;

    let report = desk.check().await.unwrap();
    assert!(report.ok(), "{report:?}");

    // A tally edited behind the desk's back is found by check.
    jiesu_store::testing::execute(
        desk.store(),
        "UPDATE assessment_tallies SET satisfied = satisfied + 1 WHERE period = '2026-10' AND unit = 'S001'",
    )
    .await
    .unwrap();
    let report = desk.check().await.unwrap();
    assert!(!report.ok());
    assert_eq!(report.tallies.len(), 1, "{:?}", report.tallies);
    assert!(report.tallies[0].contains("2026-10 S001"), "{:?}", report.tallies);
    store.close().await;
}

/// 考核申诉 and 核减: S001 appeals October's reopened case `b`; only S001's handler may, only a
/// supervisor rules; a 核减 takes it out of S001's figures (and the tallies agree with the fold),
/// counted as excluded; taking it back puts it in again; a refused appeal cannot be 核减'd.
async fn appeals_exclude_cases_from_the_unit_only_while_excluded(desk: &Desk, b: i64) {
    use jiesu_domain::model::AppealReason;
    let oct = Period::new(2026, 10).unwrap();
    let now = t("2027-01-01T00:00:00Z");
    let at = t("2026-11-20T02:00:00Z");
    let s001 = actor(Role::UnitHandler, Some("S001"));
    let s002 = actor(Role::UnitHandler, Some("S002"));
    let sup = actor(Role::Supervisor, None);
    let appeal = Command::Appeal { reason: AppealReason::Unreasonable };
    let s001_oct =
        |figs: Vec<jiesu_domain::assessment::UnitFigures>| figs.into_iter().find(|f| f.unit == "S001").unwrap();

    assert!(desk.act(b, s002.clone(), appeal.clone(), Some("不是我们的".into()), at).await.is_err(), "another unit");
    assert!(desk.act(b, s001.clone(), appeal.clone(), None, at).await.is_err(), "an appeal gives its grounds");
    desk.act(b, s001.clone(), appeal.clone(), Some("诉求人要求拆除合法建筑".into()), at).await.unwrap();
    let exclude = Command::RuleAppeal { excluded: true };
    assert!(desk.act(b, s001.clone(), exclude.clone(), None, at).await.is_err(), "the unit cannot rule");
    assert_eq!(s001_oct(desk.assessment(oct, now).await.unwrap()).cases, 2, "a pending appeal changes nothing");
    let rec =
        desk.act(b, sup.clone(), exclude.clone(), Some("属实，核减".into()), at + Duration::hours(1)).await.unwrap();
    assert!(rec.state.excluded(), "{:?}", rec.state.appeal);
    let figs = s001_oct(desk.assessment(oct, now).await.unwrap());
    assert_eq!((figs.cases, figs.callbacks, figs.excluded), (1, 1, 1), "{figs:?}");
    assert_eq!((figs.response_rate, figs.resolution_rate, figs.rework_rate), (Some(1.0), Some(1.0), Some(0.0)));
    same_as_fold(desk, oct, now).await;
    assert!(desk.check().await.unwrap().ok());

    // 撤销核减: back in the figures; a second appeal refused cannot then be 核减'd.
    let take_back = Command::RuleAppeal { excluded: false };
    desk.act(b, sup.clone(), take_back.clone(), Some("复核不属实".into()), at + Duration::hours(2)).await.unwrap();
    let figs = s001_oct(desk.assessment(oct, now).await.unwrap());
    assert_eq!((figs.cases, figs.excluded), (2, 0));
    same_as_fold(desk, oct, now).await;
    desk.act(b, s001.clone(), appeal, Some("补充材料".into()), at + Duration::hours(3)).await.unwrap();
    desk.act(b, sup.clone(), take_back, Some("驳回".into()), at + Duration::hours(4)).await.unwrap();
    assert!(desk.act(b, sup.clone(), exclude, None, at + Duration::hours(5)).await.is_err(), "refused stays refused");
    assert_eq!(s001_oct(desk.assessment(oct, now).await.unwrap()).cases, 2);

    // An excluded case open past its deadline is not 超期未结 either: November's open case.
    let nov = Period::new(2026, 11).unwrap();
    let open = desk
        .store()
        .list(
            &jiesu_domain::access::Scope::All,
            &jiesu_store::CaseFilter { assignee: Some("S001".into()), ..Default::default() },
            jiesu_store::Page { limit: 10, before: None },
        )
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.state.closed_at.is_none() && c.state.received_at >= t("2026-11-01T00:00:00Z"))
        .unwrap()
        .id;
    let appeal = Command::Appeal { reason: AppealReason::NotOurs };
    desk.act(open, s001.clone(), appeal, Some("属园林部门".into()), at).await.unwrap();
    desk.act(open, sup.clone(), Command::RuleAppeal { excluded: true }, Some("核减".into()), at).await.unwrap();
    let figs = desk.assessment(nov, now).await.unwrap();
    assert_eq!(figs.iter().find(|f| f.unit == "S001").map_or(0, |f| f.overdue_open), 0, "{figs:?}");
    same_as_fold(desk, nov, now).await;
}

#[tokio::test]
async fn tallies_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    tallies_follow_every_write(&format!("sqlite://{}/jiesu.db", dir.path().display())).await;
}

#[tokio::test]
async fn tallies_on_postgres() {
    let Some(db) = jiesu_store::testing::scratch_postgres("tallies").await else { return };
    tallies_follow_every_write(&db.url).await;
    db.drop().await;
}
