//! The embedded Chinese calendar and deadline computation, pinned against real arrangements.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use jiesu_domain::calendar::{CHINA_HOLIDAYS_CSV, Calendar, CalendarError, DayKind};
use jiesu_domain::deadline::{DeadlinePolicy, Span, default_tz, due_at};
use jiesu_domain::model::DeadlineClass;
use proptest::prelude::*;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// A local Asia/Shanghai time as a UTC instant.
fn bj(y: i32, m: u32, day: u32, h: u32, min: u32) -> DateTime<Utc> {
    default_tz().with_ymd_and_hms(y, m, day, h, min, 0).unwrap().with_timezone(&Utc)
}

fn rfc(t: DateTime<Utc>) -> String {
    t.with_timezone(&default_tz()).to_rfc3339()
}

fn due(span: Span, from: DateTime<Utc>) -> Result<DateTime<Utc>, CalendarError> {
    due_at(span, from, default_tz(), &Calendar::china())
}

#[test]
fn embedded_data_parses_and_covers_2020_to_2026() {
    let cal = Calendar::china();
    assert_eq!(cal.years(), (2020..=2026).collect::<Vec<_>>());
    assert!(cal.covers(2022)); // also holds 2022-12-31, the first day of the 2023 notice's 元旦
    assert!(!cal.covers(2019) && !cal.covers(2027));
}

#[test]
fn every_work_row_is_a_weekend_day() {
    let cal = Calendar::china();
    for year in cal.years() {
        for ex in cal.exceptions(year).unwrap().iter().filter(|e| e.kind == DayKind::Work) {
            assert!(matches!(ex.date.weekday(), Weekday::Sat | Weekday::Sun), "{}", ex.line());
        }
    }
}

#[test]
fn raw_csv_work_rows_are_weekend_days() {
    // Independent of the parser's own check: read the embedded text line by line.
    let rows = CHINA_HOLIDAYS_CSV.lines().filter(|l| !l.starts_with('#') && l.contains(",work,"));
    let mut count = 0;
    for row in rows {
        let date = NaiveDate::parse_from_str(&row[..10], "%Y-%m-%d").unwrap();
        assert!(matches!(date.weekday(), Weekday::Sat | Weekday::Sun), "{row}");
        count += 1;
    }
    assert_eq!(count, 6 + 7 + 7 + 7 + 8 + 5 + 6);
}

#[test]
fn off_and_work_counts_per_year() {
    // Counted by calendar date: 2022-12-31 (元旦 of the 2023 notice) falls in 2022.
    let expected =
        [(2020, 30, 6), (2021, 31, 7), (2022, 32, 7), (2023, 26, 7), (2024, 28, 8), (2025, 28, 5), (2026, 33, 6)];
    let cal = Calendar::china();
    for (year, off, work) in expected {
        let ex = cal.exceptions(year).unwrap();
        let count = |k| ex.iter().filter(|e| e.kind == k).count();
        assert_eq!((count(DayKind::Off), count(DayKind::Work)), (off, work), "year {year}");
        assert!(ex.windows(2).all(|w| w[0].date < w[1].date), "sorted, year {year}");
        assert!(ex.iter().all(|e| e.date.year() == year));
    }
}

#[test]
fn exceptions_2026_are_exactly_the_notice() {
    let cal = Calendar::china();
    let lines: Vec<String> = cal.exceptions(2026).unwrap().iter().map(|e| e.line()).collect();
    let mut expected = Vec::new();
    let mut off = |from: NaiveDate, to: NaiveDate, name: &str| {
        for day in from.iter_days().take_while(|x| *x <= to) {
            expected.push((day, format!("{day} off {name}")));
        }
    };
    off(d(2026, 1, 1), d(2026, 1, 3), "元旦");
    off(d(2026, 2, 15), d(2026, 2, 23), "春节");
    off(d(2026, 4, 4), d(2026, 4, 6), "清明节");
    off(d(2026, 5, 1), d(2026, 5, 5), "劳动节");
    off(d(2026, 6, 19), d(2026, 6, 21), "端午节");
    off(d(2026, 9, 25), d(2026, 9, 27), "中秋节");
    off(d(2026, 10, 1), d(2026, 10, 7), "国庆节");
    for (day, name) in [
        (d(2026, 1, 4), "元旦"),
        (d(2026, 2, 14), "春节"),
        (d(2026, 2, 28), "春节"),
        (d(2026, 5, 9), "劳动节"),
        (d(2026, 9, 20), "国庆节"),
        (d(2026, 10, 10), "国庆节"),
    ] {
        expected.push((day, format!("{day} work {name}")));
    }
    expected.sort();
    let expected: Vec<String> = expected.into_iter().map(|(_, l)| l).collect();
    assert_eq!(lines, expected);
    assert!(lines.contains(&"2026-10-01 off 国庆节".to_string()));
    assert!(lines.contains(&"2026-10-10 work 国庆节".to_string()));
}

#[test]
fn csv_errors_carry_line_numbers() {
    let bad_date = "# c\ndate,kind,name\n2026-10-01,off,国庆节\n2026-13-01,off,x\n";
    match Calendar::from_csv(bad_date) {
        Err(CalendarError::Parse { line: 4, message }) => {
            assert!(message.contains("2026-13-01"))
        }
        other => panic!("unexpected {other:?}"),
    }
    let bad_kind = "date,kind,name\n2026-10-01,holiday,国庆节\n";
    match Calendar::from_csv(bad_kind) {
        Err(CalendarError::Parse { line: 2, message }) => assert!(message.contains("holiday")),
        other => panic!("unexpected {other:?}"),
    }
    let weekday_work = "date,kind,name\n2026-10-09,work,国庆节\n";
    match Calendar::from_csv(weekday_work) {
        Err(CalendarError::Parse { line: 2, message }) => assert!(message.contains("Fri")),
        other => panic!("unexpected {other:?}"),
    }
    let conflict = "date,kind,name\n2026-10-10,off,国庆节\n\n2026-10-10,work,国庆节\n";
    match Calendar::from_csv(conflict) {
        Err(CalendarError::Parse { line: 4, message }) => assert!(message.contains("line 2")),
        other => panic!("unexpected {other:?}"),
    }
    let after_comment = "date,kind,name\n2026-10-01,off,x\n# note\n\n2026-10-09,work,x\n";
    assert!(matches!(Calendar::from_csv(after_comment), Err(CalendarError::Parse { line: 5, .. })));
    let header = "day,kind,name\n2026-10-10,off,国庆节\n";
    assert!(matches!(Calendar::from_csv(header), Err(CalendarError::Parse { line: 1, .. })));
    let short = "date,kind,name\n2026-10-10,off\n";
    assert!(matches!(Calendar::from_csv(short), Err(CalendarError::Parse { line: 2, .. })));
}

#[test]
fn working_day_rules() {
    let cal = Calendar::china();
    assert!(!cal.is_working_day(d(2026, 10, 1)).unwrap()); // Thursday, National Day
    assert!(cal.is_working_day(d(2026, 10, 10)).unwrap()); // Saturday, make-up
    assert!(!cal.is_working_day(d(2026, 10, 11)).unwrap()); // ordinary Sunday
    assert!(cal.is_working_day(d(2026, 10, 12)).unwrap()); // ordinary Monday
    assert!(!cal.is_working_day(d(2020, 2, 1)).unwrap()); // Saturday, off after the 2020 extension
    assert!(!cal.is_working_day(d(2022, 12, 31)).unwrap());
    assert!(!cal.is_working_day(d(2023, 1, 2)).unwrap()); // Monday, 元旦
    assert_eq!(cal.is_working_day(d(2027, 1, 4)), Err(CalendarError::YearNotCovered(2027)));
    assert_eq!(cal.exceptions(2019), Err(CalendarError::YearNotCovered(2019)));
}

#[test]
fn seven_working_days_across_national_day_2026() {
    let cal = Calendar::china();
    let from = bj(2026, 9, 29, 10, 0);
    assert_eq!(rfc(due(Span::WorkingDays(7), from).unwrap()), "2026-10-15T00:00:00+08:00");
    let counted: Vec<NaiveDate> = (1..=7).map(|n| cal.add_working_days(d(2026, 9, 29), n).unwrap()).collect();
    let expected = [(9, 30), (10, 8), (10, 9), (10, 10), (10, 12), (10, 13), (10, 14)];
    assert_eq!(counted, expected.map(|(m, day)| d(2026, m, day)));
    // The day of receipt never counts, however early or late the call came in.
    assert_eq!(due(Span::WorkingDays(7), bj(2026, 9, 29, 0, 0)), due(Span::WorkingDays(7), from));
    assert_eq!(due(Span::WorkingDays(7), bj(2026, 9, 29, 23, 59)), due(Span::WorkingDays(7), from));
}

#[test]
fn spring_festival_2026_with_make_up_saturdays() {
    let cal = Calendar::china();
    // Received Friday 2/13: Saturday 2/14 is a make-up day, then nothing until Tuesday 2/24.
    assert_eq!(cal.add_working_days(d(2026, 2, 13), 1).unwrap(), d(2026, 2, 14));
    assert_eq!(cal.add_working_days(d(2026, 2, 13), 2).unwrap(), d(2026, 2, 24));
    // 2/14 (1), 2/24–2/27 (5), make-up Saturday 2/28 (6), Monday 3/2 (7).
    let from = bj(2026, 2, 13, 16, 30);
    assert_eq!(rfc(due(Span::WorkingDays(7), from).unwrap()), "2026-03-03T00:00:00+08:00");
    assert_eq!(cal.working_days_between(d(2026, 2, 13), d(2026, 3, 2)).unwrap(), 7);
    assert_eq!(cal.working_days_between(d(2026, 2, 14), d(2026, 2, 23)).unwrap(), 0);
}

#[test]
fn fifteen_working_days_across_national_day_2024() {
    // Received Friday 2024-09-27: Sunday 9/29 (make-up) and Monday 9/30 count (2), 10/1–10/7 off,
    // 10/8–10/11 (6), Saturday 10/12 make-up (7), 10/14–10/18 (12), 10/21–10/23 (15).
    let from = bj(2024, 9, 27, 9, 15);
    assert_eq!(rfc(due(Span::WorkingDays(15), from).unwrap()), "2024-10-24T00:00:00+08:00");
    let policy = DeadlinePolicy::default();
    assert_eq!(due(policy.span(DeadlineClass::Complex), from), due(Span::WorkingDays(15), from));
}

#[test]
fn hours_and_days_are_elapsed_time() {
    let from = bj(2026, 9, 30, 23, 0); // the evening before National Day
    assert_eq!(rfc(due(Span::Hours(2), from).unwrap()), "2026-10-01T01:00:00+08:00");
    assert_eq!(rfc(due(Span::Hours(24), from).unwrap()), "2026-10-01T23:00:00+08:00");
    assert_eq!(rfc(due(Span::Days(3), from).unwrap()), "2026-10-03T23:00:00+08:00");
    let policy = DeadlinePolicy::default();
    assert_eq!(due(policy.span(DeadlineClass::Emergency), from).unwrap(), from + Duration::hours(2));
    // Elapsed spans need no holiday data.
    let later = bj(2030, 1, 1, 8, 0);
    assert_eq!(due(Span::Hours(24), later).unwrap(), later + Duration::hours(24));
}

#[test]
fn uncovered_year_is_an_error() {
    assert_eq!(due(Span::WorkingDays(1), bj(2027, 3, 1, 9, 0)), Err(CalendarError::YearNotCovered(2027)));
    // 15 working days from Friday 2026-12-25 run past 12/31 (4 working days left in 2026).
    assert_eq!(due(Span::WorkingDays(15), bj(2026, 12, 25, 10, 0)), Err(CalendarError::YearNotCovered(2027)));
    assert_eq!(due(Span::WorkingDays(4), bj(2026, 12, 25, 10, 0)).map(rfc), Ok("2027-01-01T00:00:00+08:00".into()));
    let msg = CalendarError::YearNotCovered(2027).to_string();
    assert!(msg.contains("2027") && msg.contains("holidays.csv"), "{msg}");
}

#[test]
fn a_district_adds_2027() {
    let mut cal = Calendar::china();
    cal.extend_from_csv("# 2027 (example rows)\ndate,kind,name\n2027-01-01,off,元旦\n").unwrap();
    assert!(cal.covers(2027));
    let due = due_at(Span::WorkingDays(15), bj(2026, 12, 25, 10, 0), default_tz(), &cal).unwrap();
    // 12/28–12/31 (4), 1/1 off, 1/4–1/8 (9), 1/11–1/15 (14), 1/18 (15).
    assert_eq!(rfc(due), "2027-01-19T00:00:00+08:00");
}

proptest! {
    #[test]
    fn working_day_deadlines_behave(
        minutes in 0i64..(2400 * 24 * 60), // from 2020-01-01 to mid-2026
        n in 1u32..=30,
    ) {
        let cal = Calendar::china();
        let tz = default_tz();
        let from = bj(2020, 1, 1, 0, 0) + Duration::minutes(minutes);
        let due_n = due_at(Span::WorkingDays(n), from, tz, &cal).unwrap();
        let due_next = due_at(Span::WorkingDays(n + 1), from, tz, &cal).unwrap();
        prop_assert!(due_n > from);
        prop_assert!(due_next > due_n);
        let local = due_n.with_timezone(&tz);
        prop_assert_eq!(local.time(), chrono::NaiveTime::MIN);
        let last_day = local.date_naive().pred_opt().unwrap();
        prop_assert!(cal.is_working_day(last_day).unwrap());
        let received = from.with_timezone(&tz).date_naive();
        prop_assert_eq!(cal.working_days_between(received, last_day).unwrap(), n);
    }
}

#[test]
fn provisional_calendar_counts_later_years_as_plain_weeks_but_never_lists_them() {
    use chrono::NaiveDate;
    let strict = jiesu_domain::calendar::Calendar::china();
    let cal = strict.clone().provisional_after_data();
    let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap();
    // 15 working days from 2026-12-25: 12/28–12/31 in the data, then Mon–Fri in 2027.
    assert!(strict.add_working_days(d(2026, 12, 25), 15).is_err());
    assert_eq!(cal.add_working_days(d(2026, 12, 25), 15).unwrap(), d(2027, 1, 15));
    assert!(cal.is_provisional(2027));
    assert!(!cal.is_provisional(2026));
    assert!(cal.exceptions(2027).is_err(), "no guessed listing");
    assert!(cal.is_working_day(d(2019, 6, 3)).is_err(), "years before the data still fail");
}
