use chrono::TimeZone;

use super::*;

fn msg(id: &str, day: u32, subject: &str, text: &str, user: &str, likes: u32) -> Message {
    Message {
        id: id.to_string(),
        at: Utc.with_ymd_and_hms(2019, 7, 1, 8, 0, 0).unwrap() + chrono::Duration::days(i64::from(day)),
        subject: subject.to_string(),
        text: text.to_string(),
        user: user.to_string(),
        likes,
        dislikes: 0,
        places: Vec::new(),
    }
}

/// Two estates with the same complaint, one unrelated message, one message months later.
fn corpus() -> Vec<Message> {
    let mut m = vec![
        msg("a1", 0, "魅力之城小区临街门面油烟扰民", "魅力之城小区一楼餐馆油烟直排，晚上烧烤噪音", "u1", 2),
        msg("a2", 3, "魅力之城小区油烟扰民严重", "魅力之城小区底层商铺油烟直排，噪音扰民", "u2", 0),
        msg("a3", 9, "魅力之城小区餐馆油烟扰民", "魅力之城小区楼下餐馆油烟直排，噪音扰民", "u3", 40),
        msg("b1", 1, "润芳园小区临街门面油烟扰民", "润芳园小区一楼餐馆油烟直排，晚上烧烤噪音", "u4", 0),
        msg("b2", 5, "润芳园小区油烟扰民严重", "润芳园小区底层商铺油烟直排，噪音扰民", "u5", 0),
        msg("x1", 2, "咨询社保卡办理进度", "社保卡申请一个月了还没有制卡，请问进度", "u6", 0),
        msg("late", 150, "魅力之城小区油烟", "油烟很大", "u7", 0),
        msg("again", 300, "魅力之城小区临街门面油烟扰民", "魅力之城小区一楼餐馆油烟直排，晚上烧烤噪音", "u1", 0),
    ];
    // Background so that document frequencies mean something.
    let filler = ["公交线路调整", "路灯不亮", "学校招生政策", "医保报销比例", "垃圾清运不及时", "停车收费过高"];
    for (k, f) in filler.iter().enumerate() {
        m.push(msg(&format!("f{k}"), 20 + k as u32, f, &format!("{f}，希望相关部门尽快处理"), "u9", 0));
    }
    m
}

fn ids(issue: &HotIssue, m: &[Message]) -> Vec<String> {
    let mut v: Vec<String> = issue.members.iter().map(|&i| m[i].id.clone()).collect();
    v.sort();
    v
}

#[test]
fn the_same_problem_at_two_estates_is_two_issues() {
    let m = corpus();
    let issues = hot_issues(&m, &Options::default());
    let found: Vec<Vec<String>> = issues.iter().map(|i| ids(i, &m)).collect();
    assert!(found.contains(&vec!["a1".into(), "a2".into(), "a3".into(), "again".into()]), "{found:?}");
    assert!(found.contains(&vec!["b1".into(), "b2".into()]), "{found:?}");
    assert!(!found.iter().flatten().any(|id| id == "x1" || id == "late"), "{found:?}");
    // The same petition sent again 300 days later is a near-duplicate: it joins.
    assert!(found[0].contains(&"again".to_string()), "{found:?}");
    let first = &issues[0];
    assert_eq!(first.rank, 1);
    assert_eq!(ids(first, &m), ["a1", "a2", "a3", "again"], "more people and likes: hotter");
    assert_eq!(first.place.as_deref(), Some("魅力之城小区"));
    assert!(first.first <= first.last);
    assert!(issues.windows(2).all(|w| w[0].heat.value >= w[1].heat.value));
}

#[test]
fn a_long_window_joins_the_late_message() {
    let m = corpus();
    let opts = Options { window_days: 400.0, ..Options::default() };
    let issues = hot_issues(&m, &opts);
    let first = ids(&issues[0], &m);
    assert!(first.contains(&"late".to_string()), "{first:?}");
}

#[test]
fn heat_grows_with_people_and_likes_and_falls_with_span() {
    let base = Heat::of(10, 10, 0, 0, 30.0, 0.0);
    assert!(Heat::of(10, 5, 0, 0, 30.0, 0.0).value < base.value, "the same users again count less");
    assert!(Heat::of(10, 10, 100, 0, 30.0, 0.0).value > base.value);
    assert!(Heat::of(10, 10, 0, 0, 300.0, 0.0).value < base.value);
    assert!(Heat::of(10, 10, 0, 0, 30.0, 0.5).value > base.value);
    let h = Heat::of(4, 3, 2096, 2, 0.0, 0.0);
    assert!((h.value - 3.25 * (1.0 + (2098.0f64).ln() / 3.0)).abs() < 1e-9, "{h:?}");
}

#[test]
fn nothing_in_nothing_out() {
    assert!(hot_issues(&[], &Options::default()).is_empty());
    let one = [msg("a", 0, "路灯不亮", "路灯不亮", "u", 0)];
    assert!(hot_issues(&one, &Options::default()).is_empty());
}

#[test]
fn known_places_keep_apart_what_the_text_does_not_name() {
    // Two identical complaints that name no place: one issue, unless the caller knows they are at
    // two different communities.
    let mut m = corpus();
    m.push(msg("p1", 30, "路灯坏了很多天没人修", "晚上路灯坏了很多天没人修，出行危险", "u10", 0));
    m.push(msg("p2", 31, "路灯坏了很多天没人修", "晚上路灯坏了很多天没人修，出行危险", "u11", 0));
    let together = hot_issues(&m, &Options::default());
    let has_pair = |issues: &[HotIssue], m: &[Message]| issues.iter().any(|i| ids(i, m) == ["p1", "p2"]);
    assert!(has_pair(&together, &m));
    let n = m.len();
    m[n - 2].places = vec!["东四社区".to_string()];
    m[n - 1].places = vec!["交道口社区".to_string()];
    let apart = hot_issues(&m, &Options::default());
    assert!(!apart.iter().flat_map(|i| &i.members).any(|&k| k >= n - 2), "different places never link");
}
