//! Tests of the monthly assessment: hand-computed figures, period boundaries, rankings.

use chrono::{DateTime, Duration, TimeZone, Utc};
use jiesu_domain::assessment::{AssessmentError, CaseFacts, DEFAULT_TZ, Period, UnitFigures, Weights, assess, rank};
use jiesu_domain::model::{Callback, Satisfaction, UnitKind};
use proptest::prelude::*;

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

const NOV: Period = Period { year: 2026, month: 11 };

fn now() -> DateTime<Utc> {
    t("2026-12-05T00:00:00Z")
}

fn case(unit: &str) -> CaseFacts {
    CaseFacts {
        unit: unit.to_string(),
        unit_kind: UnitKind::Street,
        received_at: t("2026-11-10T02:00:00Z"),
        dispatched_at: None,
        replied_at: None,
        closed_at: None,
        due: None,
        callback: None,
        reopen_count: 0,
    }
}

fn cb(reached: bool, responded: bool, solved: bool, satisfaction: Satisfaction) -> Option<Callback> {
    Some(Callback { reached, responded, solved, satisfaction })
}

fn with_cb(unit: &str, callback: Option<Callback>) -> CaseFacts {
    CaseFacts { callback, ..case(unit) }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

fn one(facts: &[CaseFacts]) -> UnitFigures {
    let rows = assess(facts, NOV, DEFAULT_TZ, now(), &Weights::default());
    assert_eq!(rows.len(), 1, "{rows:?}");
    rows.into_iter().next().unwrap()
}

#[test]
fn the_worked_example_from_the_docs() {
    use Satisfaction::*;
    let facts = [
        with_cb("A", cb(true, true, true, Satisfied)),
        with_cb("A", cb(true, true, true, Satisfied)),
        with_cb("A", cb(true, true, true, Basic)),
        with_cb("A", cb(true, true, false, Unsatisfied)),
    ];
    let f = one(&facts);
    assert_eq!((f.cases, f.callbacks), (4, 4));
    assert_eq!(f.response_rate, Some(1.0));
    assert_eq!(f.resolution_rate, Some(0.75));
    assert_eq!(f.satisfaction_rate, Some(0.75));
    assert!(close(f.composite.unwrap(), 77.5), "{:?}", f.composite);
}

#[test]
fn hand_computed_table() {
    use Satisfaction::*;
    // (callbacks as (reached, responded, solved, satisfaction), weights, expected rates, composite)
    type Row = (Vec<(bool, bool, bool, Satisfaction)>, Weights, Option<(f64, f64, f64)>, Option<f64>);
    let w = Weights::default();
    let table: Vec<Row> = vec![
        (vec![(true, true, true, Satisfied)], w, Some((1.0, 1.0, 1.0)), Some(100.0)),
        (vec![(true, false, false, Unsatisfied)], w, Some((0.0, 0.0, 0.0)), Some(0.0)),
        // 2 callbacks: responded 1, solved 1, basic 1 -> 0.5 each -> 50.
        (vec![(true, true, false, Unsatisfied), (true, false, true, Basic)], w, Some((0.5, 0.5, 0.5)), Some(50.0)),
        // Weights need not sum to 1: (1, 1, 2) -> 100 × (1·1 + 1·0 + 2·1) / 4 = 75.
        (vec![(true, true, false, Satisfied)], Weights::new(1.0, 1.0, 2.0).unwrap(), Some((1.0, 0.0, 1.0)), Some(75.0)),
        // Only response counts: 100 × 1/1.
        (
            vec![(true, true, false, Unsatisfied)],
            Weights::new(1.0, 0.0, 0.0).unwrap(),
            Some((1.0, 0.0, 0.0)),
            Some(100.0),
        ),
        // Unreached callbacks count in no rate.
        (vec![(false, true, true, Satisfied), (true, false, false, Unsatisfied)], w, Some((0.0, 0.0, 0.0)), Some(0.0)),
        (vec![(false, true, true, Satisfied)], w, None, None),
        // 3 callbacks: responded 3, solved 2, satisfied 1 + basic 1 -> 100×(0.1 + 0.45·2/3 + 0.45·2/3) = 70.
        (
            vec![(true, true, true, Satisfied), (true, true, true, Unsatisfied), (true, true, false, Basic)],
            w,
            Some((1.0, 2.0 / 3.0, 2.0 / 3.0)),
            Some(70.0),
        ),
    ];
    for (i, (cbs, weights, rates, composite)) in table.into_iter().enumerate() {
        let facts: Vec<_> = cbs.iter().map(|&(a, b, c, d)| with_cb("A", cb(a, b, c, d))).collect();
        let f = assess(&facts, NOV, DEFAULT_TZ, now(), &weights).remove(0);
        match rates {
            Some((r, s, m)) => {
                assert!(close(f.response_rate.unwrap(), r), "row {i}: {f:?}");
                assert!(close(f.resolution_rate.unwrap(), s), "row {i}: {f:?}");
                assert!(close(f.satisfaction_rate.unwrap(), m), "row {i}: {f:?}");
            }
            None => {
                assert_eq!((f.response_rate, f.resolution_rate, f.satisfaction_rate), (None, None, None), "row {i}")
            }
        }
        match composite {
            Some(c) => assert!(close(f.composite.unwrap(), c), "row {i}: {f:?}"),
            None => assert_eq!(f.composite, None, "row {i}"),
        }
    }
}

#[test]
fn cases_without_callbacks_count_as_cases_only() {
    let f = one(&[case("A"), with_cb("A", cb(true, true, true, Satisfaction::Basic))]);
    assert_eq!((f.cases, f.callbacks), (2, 1));
    assert_eq!(f.satisfaction_rate, Some(1.0));
}

#[test]
fn periods_are_cut_in_beijing_time() {
    let late_october_utc = CaseFacts { received_at: t("2026-10-31T16:30:00Z"), ..case("A") };
    let last_minute_of_november = CaseFacts { received_at: t("2026-11-30T15:59:59Z"), ..case("A") };
    let first_second_of_december = CaseFacts { received_at: t("2026-11-30T16:00:00Z"), ..case("A") };
    let just_before_november = CaseFacts { received_at: t("2026-10-31T15:59:59Z"), ..case("A") };
    assert!(NOV.contains(late_october_utc.received_at, DEFAULT_TZ));
    assert_eq!(Period::of(late_october_utc.received_at, DEFAULT_TZ), NOV);
    assert!(!NOV.contains(late_october_utc.received_at, chrono_tz::UTC));
    let facts = [late_october_utc, last_minute_of_november, first_second_of_december, just_before_november];
    assert_eq!(one(&facts).cases, 2);
    let dec = assess(&facts, NOV.next(), DEFAULT_TZ, now(), &Weights::default());
    assert_eq!(dec[0].cases, 1);
    assert_eq!(NOV.bounds(DEFAULT_TZ), (t("2026-10-31T16:00:00Z"), t("2026-11-30T16:00:00Z")));
}

#[test]
fn period_parsing_display_and_arithmetic() {
    assert_eq!(NOV.to_string(), "2026-11");
    assert_eq!("2026-11".parse::<Period>().unwrap(), NOV);
    assert_eq!("2026-1".parse::<Period>().unwrap(), Period { year: 2026, month: 1 });
    for bad in ["2026-13", "2026-00", "2026", "26-11", "2026/11", "2026-11-01", "", "abcd-ef", "2026--1"] {
        assert!(matches!(bad.parse::<Period>(), Err(AssessmentError::InvalidPeriod(_))), "{bad}");
    }
    assert_eq!(Period { year: 2026, month: 1 }.previous(), Period { year: 2025, month: 12 });
    assert_eq!(NOV.previous(), Period { year: 2026, month: 10 });
    assert_eq!(Period { year: 2026, month: 12 }.next(), Period { year: 2027, month: 1 });
    assert!(Period::new(2026, 0).is_err());
    assert_eq!(serde_json::to_string(&NOV).unwrap(), "\"2026-11\"");
    assert_eq!(serde_json::from_str::<Period>("\"2026-11\"").unwrap(), NOV);
    assert!(serde_json::from_str::<Period>("\"2026-13\"").is_err());
}

#[test]
fn closure_handling_rework_and_overdue() {
    let due = Some(t("2026-11-17T02:00:00Z"));
    let base = CaseFacts { dispatched_at: Some(t("2026-11-10T02:00:00Z")), due, ..case("A") };
    let facts = [
        // Replied after 10 h, closed in time.
        CaseFacts {
            replied_at: Some(t("2026-11-10T12:00:00Z")),
            closed_at: Some(t("2026-11-12T00:00:00Z")),
            ..base.clone()
        },
        // Replied exactly at the deadline (late: the deadline is exclusive), closed late, reopened.
        CaseFacts { replied_at: due, closed_at: Some(t("2026-11-20T00:00:00Z")), reopen_count: 1, ..base.clone() },
        // Open and past its deadline.
        base.clone(),
        // "Closed" after now: still open at now, and overdue.
        CaseFacts { closed_at: Some(t("2026-12-06T00:00:00Z")), ..base.clone() },
        // Open, no deadline: not overdue; replied without dispatch (an operator's answer).
        CaseFacts { due: None, dispatched_at: None, replied_at: Some(t("2026-11-10T03:00:00Z")), ..base.clone() },
    ];
    let f = one(&facts);
    assert_eq!((f.cases, f.closed, f.overdue_open), (5, 2, 2));
    assert_eq!(f.closure_rate, Some(0.4));
    assert_eq!(f.on_time_closure_rate, Some(0.5));
    // Replied: 3 (first in time, second at the deadline = late, fifth has no deadline = in time).
    assert!(close(f.on_time_handling_rate.unwrap(), 2.0 / 3.0));
    assert_eq!(f.rework_rate, Some(0.2));
    // (10 h + 168 h) / 2; the fifth case has no dispatch.
    assert!(close(f.avg_handling_hours.unwrap(), 89.0));
    assert_eq!(f.callbacks, 0);
    assert_eq!(f.composite, None);
}

#[test]
fn empty_denominators_are_none() {
    let f = one(&[case("A")]);
    assert_eq!(f.closure_rate, Some(0.0));
    assert_eq!(f.rework_rate, Some(0.0));
    assert_eq!((f.on_time_closure_rate, f.on_time_handling_rate, f.avg_handling_hours), (None, None, None));
    assert_eq!(f.overdue_open, 0);
}

#[test]
fn one_row_per_unit_sorted_by_code() {
    let facts =
        [case("c"), case("a"), case("b"), case("a"), CaseFacts { received_at: t("2026-09-01T00:00:00Z"), ..case("z") }];
    let rows = assess(&facts, NOV, DEFAULT_TZ, now(), &Weights::default());
    let units: Vec<_> = rows.iter().map(|r| (r.unit.as_str(), r.cases)).collect();
    assert_eq!(units, [("a", 2), ("b", 1), ("c", 1)]);
    assert!(rows.iter().all(|r| r.period == NOV));
}

#[test]
fn invalid_weights_are_rejected() {
    assert!(Weights::default().validate().is_ok());
    for (r, s, m) in
        [(-0.1, 0.5, 0.6), (0.0, 0.0, 0.0), (f64::NAN, 1.0, 1.0), (f64::INFINITY, 1.0, 1.0), (1.0, -1.0, 1.0)]
    {
        assert!(matches!(Weights::new(r, s, m), Err(AssessmentError::InvalidWeights(_))), "{r} {s} {m}");
    }
    // assess does not fail, but an invalid weighting yields no composite (and no ranking).
    let bad = Weights { response: -1.0, resolution: 1.0, satisfaction: 1.0 };
    let rows = assess(&[with_cb("A", cb(true, true, true, Satisfaction::Satisfied))], NOV, DEFAULT_TZ, now(), &bad);
    assert_eq!(rows[0].satisfaction_rate, Some(1.0));
    assert_eq!(rows[0].composite, None);
    assert!(rank(&rows, &[], UnitKind::Street).is_empty());
    // Configuration: missing fields take defaults, unknown fields are refused.
    let w: Weights = serde_json::from_str(r#"{"response": 0.2}"#).unwrap();
    assert_eq!(w, Weights { response: 0.2, ..Weights::default() });
    assert!(serde_json::from_str::<Weights>(r#"{"speed": 1}"#).is_err());
}

fn fig(unit: &str, kind: UnitKind, composite: Option<f64>) -> UnitFigures {
    let mut f = assess(&[case(unit)], NOV, DEFAULT_TZ, now(), &Weights::default()).remove(0);
    f.unit_kind = kind;
    f.composite = composite;
    f
}

fn ranks(rows: &[jiesu_domain::assessment::RankRow]) -> Vec<(u32, &str)> {
    rows.iter().map(|r| (r.rank, r.unit.as_str())).collect()
}

#[test]
fn ties_share_a_rank_and_are_ordered_by_code() {
    let current = [
        fig("s4", UnitKind::Street, Some(80.0)),
        fig("s2", UnitKind::Street, Some(90.0)),
        fig("s1", UnitKind::Street, Some(90.0)),
        fig("s3", UnitKind::Street, Some(70.0)),
        fig("s5", UnitKind::Street, Some(70.0)),
        fig("s6", UnitKind::Street, None),
        fig("d1", UnitKind::Department, Some(99.0)),
    ];
    let rows = rank(&current, &[], UnitKind::Street);
    assert_eq!(ranks(&rows), [(1, "s1"), (1, "s2"), (3, "s4"), (4, "s3"), (4, "s5")]);
    assert!(rows.iter().all(|r| r.previous_rank.is_none() && r.change.is_none()));
    assert_eq!(ranks(&rank(&current, &[], UnitKind::Department)), [(1, "d1")]);
    assert!(rank(&current, &[], UnitKind::Utility).is_empty());
    assert_eq!(rows[2].figures.unit, "s4");
    assert_eq!(rows[2].composite, 80.0);
}

#[test]
fn equal_fractions_tie_despite_float_noise() {
    // 0.1 + 0.2 != 0.3 in floating point; such noise must not split a tie.
    let current = [fig("a", UnitKind::Street, Some(0.1 + 0.2)), fig("b", UnitKind::Street, Some(0.3))];
    assert_eq!(ranks(&rank(&current, &[], UnitKind::Street)), [(1, "a"), (1, "b")]);
}

#[test]
fn rank_change_against_the_previous_month() {
    let previous = [
        fig("a", UnitKind::Street, Some(95.0)),
        fig("b", UnitKind::Street, Some(90.0)),
        fig("c", UnitKind::Street, Some(85.0)),
        fig("gone", UnitKind::Street, Some(99.0)),
        fig("quiet", UnitKind::Street, None),
    ];
    let current = [
        fig("a", UnitKind::Street, Some(80.0)),
        fig("b", UnitKind::Street, Some(90.0)),
        fig("c", UnitKind::Street, Some(97.0)),
        fig("new", UnitKind::Street, Some(60.0)),
        fig("quiet", UnitKind::Street, Some(70.0)),
    ];
    let rows = rank(&current, &previous, UnitKind::Street);
    let got: Vec<_> = rows.iter().map(|r| (r.unit.as_str(), r.rank, r.previous_rank, r.change)).collect();
    assert_eq!(
        got,
        [
            ("c", 1, Some(4), Some(3)),
            ("b", 2, Some(3), Some(1)),
            ("a", 3, Some(2), Some(-1)),
            ("quiet", 4, None, None),
            ("new", 5, None, None),
        ]
    );
    // Without "gone" the month before, c moves from 3rd to 1st: +2.
    let rows = rank(&current, &previous[..3], UnitKind::Street);
    assert_eq!(rows[0].unit, "c");
    assert_eq!((rows[0].previous_rank, rows[0].change), (Some(3), Some(2)));
}

fn arb_time() -> impl Strategy<Value = DateTime<Utc>> {
    // October to December 2026.
    (0i64..92 * 24 * 60).prop_map(|m| Utc.with_ymd_and_hms(2026, 10, 1, 0, 0, 0).unwrap() + Duration::minutes(m))
}

fn arb_callback() -> impl Strategy<Value = Option<Callback>> {
    proptest::option::of((any::<bool>(), any::<bool>(), any::<bool>(), 0usize..3).prop_map(|(a, b, c, s)| Callback {
        reached: a,
        responded: b,
        solved: c,
        satisfaction: Satisfaction::ALL[s],
    }))
}

fn arb_facts() -> impl Strategy<Value = CaseFacts> {
    (
        (0usize..6, 0usize..4, arb_time()),
        proptest::option::of(arb_time()),
        proptest::option::of(arb_time()),
        proptest::option::of(arb_time()),
        proptest::option::of(arb_time()),
        arb_callback(),
        0u32..3,
    )
        .prop_map(|((u, k, received_at), dispatched_at, replied_at, closed_at, due, callback, reopen_count)| {
            CaseFacts {
                unit: format!("u{u}"),
                unit_kind: UnitKind::ALL[k],
                received_at,
                dispatched_at,
                replied_at,
                closed_at,
                due,
                callback,
                reopen_count,
            }
        })
}

fn arb_weights() -> impl Strategy<Value = Weights> {
    (0.0f64..10.0, 0.0f64..10.0, 0.0f64..10.0)
        .prop_filter("sum > 0", |(a, b, c)| a + b + c > 0.0)
        .prop_map(|(response, resolution, satisfaction)| Weights { response, resolution, satisfaction })
}

proptest! {
    #[test]
    fn rates_and_composites_stay_in_range(
        facts in proptest::collection::vec(arb_facts(), 0..60),
        weights in arb_weights(),
        now in arb_time(),
    ) {
        let rows = assess(&facts, NOV, DEFAULT_TZ, now, &weights);
        let in_period = facts.iter().filter(|f| NOV.contains(f.received_at, DEFAULT_TZ)).count();
        prop_assert_eq!(rows.iter().map(|r| r.cases as usize).sum::<usize>(), in_period);
        prop_assert!(rows.windows(2).all(|w| w[0].unit < w[1].unit));
        for r in &rows {
            prop_assert!(r.cases > 0 && r.callbacks <= r.cases && r.closed <= r.cases && r.overdue_open <= r.cases);
            for rate in [r.response_rate, r.resolution_rate, r.satisfaction_rate, r.closure_rate,
                         r.on_time_closure_rate, r.on_time_handling_rate, r.rework_rate].into_iter().flatten() {
                prop_assert!((0.0..=1.0).contains(&rate), "{:?}", r);
            }
            prop_assert_eq!(r.composite.is_some(), r.callbacks > 0);
            if let Some(c) = r.composite {
                prop_assert!((0.0..=100.0).contains(&c), "{:?}", r);
            }
        }
    }

    #[test]
    fn ranking_is_a_consistent_ordering(
        facts in proptest::collection::vec(arb_facts(), 0..80),
        prev_facts in proptest::collection::vec(arb_facts(), 0..80),
        k in 0usize..4,
    ) {
        let kind = UnitKind::ALL[k];
        let w = Weights::default();
        let current = assess(&facts, NOV, DEFAULT_TZ, now(), &w);
        let previous = assess(&prev_facts, NOV, DEFAULT_TZ, now(), &w);
        let rows = rank(&current, &previous, kind);
        // Exactly the units of this kind with a composite, each once.
        let mut expected: Vec<_> = current.iter().filter(|f| f.unit_kind == kind && f.composite.is_some()).map(|f| f.unit.clone()).collect();
        let mut got: Vec<_> = rows.iter().map(|r| r.unit.clone()).collect();
        expected.sort();
        got.sort();
        prop_assert_eq!(got, expected);
        for (i, r) in rows.iter().enumerate() {
            // Competition ranking: 1 + the number of units strictly ahead.
            let ahead = rows.iter().filter(|o| o.composite > r.composite + 1e-6).count() as u32;
            prop_assert_eq!(r.rank, ahead + 1);
            prop_assert_eq!(Some(r.composite), r.figures.composite);
            if i > 0 {
                let p = &rows[i - 1];
                prop_assert!(p.rank <= r.rank && p.composite >= r.composite - 1e-6);
                if p.rank == r.rank { prop_assert!(p.unit < r.unit); }
            }
            let prev = rank(&previous, &[], kind).into_iter().find(|p| p.unit == r.unit).map(|p| p.rank);
            prop_assert_eq!(r.previous_rank, prev);
            prop_assert_eq!(r.change, prev.map(|p| p as i32 - r.rank as i32));
        }
    }
}

/// A case's tally counts a reply or a close only once `now` has reached it; the composite does
/// not depend on `now`; tallies add and take away exactly (what a store does at every write).
#[test]
fn tallies_by_now_and_their_arithmetic() {
    use jiesu_domain::assessment::{Tally, overdue_open};
    let f = CaseFacts {
        dispatched_at: Some(t("2026-11-10T03:00:00Z")),
        replied_at: Some(t("2026-11-12T03:00:00Z")),
        closed_at: Some(t("2026-11-13T03:00:00Z")),
        due: Some(t("2026-11-12T16:00:00Z")),
        ..with_cb("A", cb(true, true, false, Satisfaction::Basic))
    };
    let before = Tally::of_case(&f, t("2026-11-11T00:00:00Z"));
    let between = Tally::of_case(&f, t("2026-11-12T12:00:00Z"));
    let after = Tally::of_case(&f, t("2026-11-20T00:00:00Z"));
    assert_eq!((before.replied, before.closed), (0, 0));
    assert_eq!((between.replied, between.replied_on_time, between.handled, between.closed), (1, 1, 1, 0));
    assert_eq!(between.handling_ms, 48 * 3_600_000);
    assert_eq!((after.closed, after.closed_on_time), (1, 0), "closed after the deadline");
    let w = Weights::default();
    assert_eq!(before.composite(&w), after.composite(&w));
    assert!(!overdue_open(&f, t("2026-11-12T12:00:00Z")));
    assert!(overdue_open(&f, t("2026-11-12T20:00:00Z")), "open past due until the close");
    assert!(!overdue_open(&f, t("2026-11-13T03:00:00Z")));
    let sum = after.plus(between).plus(before);
    assert_eq!(sum.minus(between).minus(before), after);
    assert_eq!(Tally::from_array(sum.to_array()), sum);
    assert!(sum.minus(sum).is_zero());
    // The figures of a tally are the fold's.
    let folded = assess(std::slice::from_ref(&f), NOV, DEFAULT_TZ, now(), &w).remove(0);
    let from_tally = Tally::of_case(&f, now()).figures("A".into(), UnitKind::Street, NOV, &w, 0);
    assert_eq!(folded, from_tally);
}
