//! The console's English switch (issue 10: "Chinese first; an English switch"), over HTTP on
//! SQLite and PostgreSQL: with the `lang=en` cookie every role's pages and the case page show no
//! Chinese apart from catalog data (units, categories, streets, communities, the responsibility
//! list) and what people wrote (titles, texts, addresses, names, notes); without it, or with
//! `lang=zh`, the pages are the same Chinese pages as before, byte for byte. The switch itself
//! (`GET /lang/{zh|en}?back=…`) sets the cookie and goes back to local paths only.

mod common;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use chrono::Duration;
use common::console::form;
use common::*;
use jiesu_domain::catalog::Catalog;
use serde_json::{Value, json};

const ADMIN: Who = Some(("admin", None));
const INSPECTOR: Who = Some(("grid_inspector", Some("S001")));
const B03: Who = Some(("unit_handler", Some("B03")));

/// Han characters and full-width punctuation.
fn chinese(c: char) -> bool {
    matches!(c, '\u{3000}'..='\u{303f}' | '\u{3400}'..='\u{4dbf}' | '\u{4e00}'..='\u{9fff}' | '\u{f900}'..='\u{faff}' | '\u{ff00}'..='\u{ffef}')
}

/// A page as `who` sees it, with the `lang` cookie set to `lang` (none when `None`).
async fn page_in(a: &TestApp, who: Who, path: &str, lang: Option<&str>) -> (StatusCode, HeaderMap, String) {
    let mut b = Request::get(path);
    let mut cookies: Vec<String> = lang.map(|l| format!("lang={l}")).into_iter().collect();
    if let Some((_, value)) = a.credential(who).await {
        cookies.insert(0, value);
    }
    if !cookies.is_empty() {
        b = b.header(header::COOKIE, cookies.join("; "));
    }
    a.send_raw(b.body(Body::empty()).unwrap()).await
}

/// What may stay Chinese on an English page: the catalog's names and notes, and what people
/// wrote (as the API shows it to `who`).
async fn data_of(a: &TestApp, who: Who, ids: &[i64]) -> Vec<String> {
    let c = Catalog::dongcheng();
    let mut data: Vec<String> = Vec::new();
    data.extend(c.units().iter().flat_map(|u| [u.name.clone(), u.name.trim_end_matches("街道办事处").to_string()]));
    data.extend(c.categories().iter().map(|x| x.name.clone()));
    data.extend(c.streets().iter().map(|x| x.name.clone()));
    data.extend(c.communities().iter().map(|x| x.name.clone()));
    data.extend(c.responsibility().rules().iter().map(|r| r.note.clone()));
    data.push(c.district_name().to_string());
    // What the viewer typed in the search box.
    data.push(SEARCHED.to_string());
    for &id in ids {
        let (status, v) = a.get(who, &format!("/api/v1/cases/{id}")).await;
        if status != StatusCode::OK {
            continue;
        }
        for k in ["/title", "/text", "/place/address", "/contact/name"] {
            if let Some(s) = v.pointer(k).and_then(Value::as_str) {
                data.push(s.to_string());
            }
        }
        let (_, events) = a.get(who, &format!("/api/v1/cases/{id}/events")).await;
        for e in events["events"].as_array().into_iter().flatten() {
            if let Some(n) = e["note"].as_str() {
                data.push(n.to_string());
            }
        }
    }
    data.retain(|s| !s.is_empty());
    // Longest first, so that a name is not broken by a shorter one inside it.
    data.sort_by_key(|s| std::cmp::Reverse(s.chars().count()));
    data
}

/// The Chinese left on `html` once the data are taken out, with some context, or None.
fn chinese_left(html: &str, data: &[String]) -> Option<String> {
    // HTML escapes what people wrote; the data are compared as shown.
    let mut text = html.replace("&#34;", "\"").replace("&#39;", "'").replace("&quot;", "\"");
    for d in data {
        text = text.replace(d.as_str(), "");
    }
    // The switch names Chinese in Chinese.
    text = text.replace("lang=\"zh-CN\" id=\"lang-zh\">中文</a>", "");
    let at = text.char_indices().find(|(_, c)| chinese(*c)).map(|(i, _)| i)?;
    let from = text[..at].char_indices().rev().nth(80).map_or(0, |(i, _)| i);
    Some(text[from..].chars().take(160).collect())
}

async fn act(a: &TestApp, who: Who, id: i64, body: Value) {
    let (status, v) = a.act(who, id, body).await;
    assert_eq!(status, StatusCode::OK, "{v}");
}

/// Cases in every state the pages list: dispatched, signed and summoned, replied, closed, held
/// for the dispatcher, returned, an extension asked; some overdue.
async fn cases(a: &TestApp) -> Vec<i64> {
    let mut ids = Vec::new();
    let texts = [
        "美术馆后街楼道堆物影响通行，请尽快清理",
        "东四北大街夜间施工噪音扰民，希望管一管",
        "钱粮胡同路灯不亮，晚上出行不便",
        "北新桥地区共享单车乱停放，堵住人行道",
        "交道口南大街井盖松动，车辆经过咣当响",
        "东华门大街老旧小区楼道私搭乱建，存在消防隐患",
    ];
    for (i, text) in texts.iter().enumerate() {
        let mut body = new_case_body(&street_category());
        body["text"] = json!(text);
        body["auto_dispatch"] = json!(i != 4);
        let (status, v) = a.post(OPERATOR, "/api/v1/cases", body).await;
        assert_eq!(status, StatusCode::CREATED, "{v}");
        if i != 4 {
            assert_eq!(v["assignee"], "S001", "{v}");
        }
        ids.push(v["id"].as_i64().unwrap());
    }
    // 0: signed, summoned, handled, replied, called back and closed.
    act(a, S001_, ids[0], json!({"action": "accept"})).await;
    act(a, S001_, ids[0], json!({"action": "handle", "contacted": true, "note": "已到现场核实"})).await;
    act(a, S001_, ids[0], json!({"action": "reply", "note": "已清理堆物"})).await;
    act(
        a,
        OPERATOR,
        ids[0],
        json!({"action": "callback", "reached": true, "responded": true, "solved": true, "satisfaction": "satisfied"}),
    )
    .await;
    act(a, OPERATOR, ids[0], json!({"action": "close"})).await;
    // 1: signed and summoned (吹哨), a department to check in.
    act(a, S001_, ids[1], json!({"action": "accept"})).await;
    act(a, S001_, ids[1], json!({"action": "whistle", "units": ["B03"], "note": "需房管协同处置"})).await;
    // 2: replied, waiting for the callback.
    act(a, S001_, ids[2], json!({"action": "accept"})).await;
    act(a, S001_, ids[2], json!({"action": "reply", "note": "路灯已修复"})).await;
    // 3: a return asked.
    act(a, S001_, ids[3], json!({"action": "request_return", "note": "非本单位职责"})).await;
    // 5: an extension asked.
    act(a, S001_, ids[5], json!({"action": "accept"})).await;
    act(a, S001_, ids[5], json!({"action": "request_extension", "working_days": 3, "note": "需协调多部门"})).await;
    ids
}

const S001_: Who = S001;

/// A word searched for (路灯, street light).
const SEARCHED: &str = "路灯";

/// Every page of every role, in English and in Chinese.
async fn english_pages(url: &str) {
    // A Wednesday morning in Beijing, so that working days are plain.
    let a = TestApp::new(url, t("2026-11-04T09:00:00+08:00")).await;
    let ids = cases(&a).await;
    // Ten days on, the open cases are overdue (督办, the overdue lists and notices show).
    a.advance(Duration::days(10));
    let case = |i: usize| format!("/cases/{}", ids[i]);
    let pages: Vec<(Who, Vec<String>)> = vec![
        (OPERATOR, vec!["/intake".into(), "/callback".into(), "/cases".into(), "/notices".into(), case(0), case(2)]),
        (DISPATCHER, vec!["/dispatch".into(), "/cases".into(), "/notices".into(), "/map".into(), case(3)]),
        (S001, vec!["/inbox".into(), "/notices".into(), case(1), case(5), "/cases?q=%E8%B7%AF%E7%81%AF".into()]),
        (B03, vec!["/inbox".into(), case(1)]),
        (SUPERVISOR, vec!["/supervise".into(), "/dispatch".into(), "/assessment".into(), case(1)]),
        (INSPECTOR, vec!["/grid".into(), "/map".into()]),
        (ADMIN, vec!["/assessment".into(), "/admin".into(), "/intake".into(), "/dispatch".into(), "/supervise".into()]),
        // An error page: another unit's case is not found.
        (S002, vec![case(0)]),
    ];
    for (who, paths) in pages {
        let data = data_of(&a, who, &ids).await;
        for path in paths {
            let (status, _, en) = page_in(&a, who, &path, Some("en")).await;
            assert!(status == StatusCode::OK || status == StatusCode::NOT_FOUND, "{who:?} {path}: {status}");
            assert!(en.contains("<html lang=\"en\">"), "{who:?} {path}: <html lang> follows the cookie");
            if let Some(left) = chinese_left(&en, &data) {
                panic!("{who:?} {path} in English still shows Chinese: …{left}…");
            }
            // Chinese stays as it was: no cookie and lang=zh give the same page.
            let (_, _, plain) = page_in(&a, who, &path, None).await;
            let (_, _, zh) = page_in(&a, who, &path, Some("zh")).await;
            assert_eq!(plain, zh, "{who:?} {path}: lang=zh is the default");
            assert!(zh.contains("<html lang=\"zh-CN\">"), "{who:?} {path}");
            assert!(chinese_left(&zh, &data).is_some(), "{who:?} {path}: the Chinese page is Chinese");
            assert!(zh.contains("href=\"/lang/en?back=") && en.contains("href=\"/lang/zh?back="), "{path}: the switch");
        }
    }

    // The server's own words, in English: statuses, time left, the timeline, the nav.
    let (_, _, inbox) = page_in(&a, S001, "/inbox", Some("en")).await;
    assert!(inbox.contains(">Inbox</a>") && inbox.contains("Return requested"), "{inbox}");
    assert!(inbox.contains("h overdue</span>"), "time left in English: {inbox}");
    let (_, _, zh_inbox) = page_in(&a, S001, "/inbox", None).await;
    assert!(zh_inbox.contains(">承办</a>") && zh_inbox.contains("退单审核中") && zh_inbox.contains(" 小时</span>"));
    assert!(!zh_inbox.contains("Return requested"));
    let (_, _, closed) = page_in(&a, OPERATOR, &case(0), Some("en")).await;
    for words in ["Closed", "Reached: yes, responded: yes, solved: yes, Satisfied", "Sign for", "Operator"] {
        assert!(closed.contains(words), "the closed case says {words:?}: {closed}");
    }
    // The back link of the switch is the page itself.
    assert!(closed.contains(&format!("href=\"/lang/zh?back=%2Fcases%2F{}\"", ids[0])), "{closed}");

    // The login page has the switch too, with no session.
    let (status, _, login) = page_in(&a, NOBODY, "/", Some("en")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        login.contains("<html lang=\"en\">")
            && login.contains("Log in")
            && login.contains("href=\"/lang/zh?back=%2F\"")
    );
    assert_eq!(chinese_left(&login, &[]), None, "the login page in English");
    // A failed login says why in English.
    let (_, headers, _) = page_in(&a, NOBODY, "/", Some("en")).await;
    let csrf_cookie = headers.get(header::SET_COOKIE).unwrap().to_str().unwrap().split(';').next().unwrap().to_string();
    let token = csrf_cookie.split_once('=').unwrap().1.to_string();
    let req = Request::post("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, format!("{csrf_cookie}; lang=en"))
        .body(Body::from(form(&[("csrf", &token), ("name", "nobody"), ("password", "wrong password")])))
        .unwrap();
    let (status, _, html) = a.send_raw(req).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{html}");
    assert!(html.contains("Wrong user name or password"), "{html}");
    assert_eq!(chinese_left(&html, &[]), None);
}

/// A form posted by `who` with the `lang` cookie.
async fn post_in(
    a: &TestApp,
    who: Who,
    path: &str,
    pairs: &[(&str, &str)],
    lang: &str,
) -> (StatusCode, HeaderMap, String) {
    let (_, value) = a.credential(who).await.unwrap();
    let req = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, format!("{value}; lang={lang}"))
        .body(Body::from(form(pairs)))
        .unwrap();
    a.send_raw(req).await
}

/// The answers to posts in English: the live suggestions and the caller's history (htmx
/// fragments), a refused action, the bulk dispatch's result, the admin's banners, a grid report.
async fn english_answers(url: &str) {
    let a = TestApp::new(url, t("2026-11-04T09:00:00+08:00")).await;
    let ids = cases(&a).await;
    let check = |who: Who, what: &str, html: &str, data: &[String]| {
        if let Some(left) = chinese_left(html, data) {
            panic!("{who:?} {what} in English still shows Chinese: …{left}…");
        }
    };
    let csrf = |html: &str| common::console::csrf_in(html);

    // 受理: suggestions as the call is typed (one the classifier places, one it cannot), and the
    // caller's earlier cases.
    let (_, _, intake) = page_in(&a, OPERATOR, "/intake", Some("en")).await;
    let token = csrf(&intake);
    let mut data = data_of(&a, OPERATOR, &ids).await;
    for text in ["东四北大街107号门口有商贩占道经营，晚上一直摆摊，影响行人通行。", "啊啊啊"]
    {
        let (_, s) = a.post(OPERATOR, "/api/v1/intake/suggest", json!({"text": text})).await;
        data.extend(s.pointer("/place/matched").and_then(Value::as_str).map(str::to_string));
        data.push(text.to_string());
        data.sort_by_key(|s| std::cmp::Reverse(s.chars().count()));
        let (status, _, html) =
            post_in(&a, OPERATOR, "/intake/suggest", &[("csrf", &token), ("text", text)], "en").await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(html.contains("id=\"suggestions\"") && html.contains("confidence"), "{html}");
        check(OPERATOR, "/intake/suggest", &html, &data);
    }
    let (status, _, html) =
        post_in(&a, OPERATOR, "/intake/caller", &[("csrf", &token), ("phone", "13812345678")], "en").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("earlier cases") && html.contains("Closed"), "{html}");
    check(OPERATOR, "/intake/caller", &html, &data);

    // A refused action says why in English, on the case page.
    let (_, _, page) = page_in(&a, OPERATOR, &format!("/cases/{}", ids[1]), Some("en")).await;
    let act = format!("/cases/{}/act", ids[1]);
    let (status, _, html) = post_in(&a, OPERATOR, &act, &[("csrf", &csrf(&page)), ("action", "accept")], "en").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{html}");
    assert!(html.contains("Not allowed ("), "{html}");
    check(OPERATOR, &act, &html, &data);

    // 批量派单: one case sent, one already dispatched by someone else.
    let (_, _, dispatch) = page_in(&a, DISPATCHER, "/dispatch", Some("en")).await;
    let held = format!("{}:{}", ids[4], 1);
    let taken = format!("{}:{}", ids[2], 1);
    let pairs = [("csrf", csrf(&dispatch)), ("case", held), ("case", taken), ("unit", "S001".to_string())];
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, _, html) = post_in(&a, DISPATCHER, "/dispatch/bulk", &pairs, "en").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Sent to ") && html.contains("someone acted after the page was shown"), "{html}");
    check(DISPATCHER, "/dispatch/bulk", &html, &data_of(&a, DISPATCHER, &ids).await);

    // 管理: a user made (the password shown once), a name refused.
    let (_, _, admin) = page_in(&a, ADMIN, "/admin", Some("en")).await;
    let token = csrf(&admin);
    let data = data_of(&a, ADMIN, &ids).await;
    let (status, _, html) = post_in(
        &a,
        ADMIN,
        "/admin/users",
        &[("csrf", &token), ("name", "amy"), ("role", "operator"), ("unit", "")],
        "en",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("User amy (Operator) created. First password"), "{html}");
    check(ADMIN, "/admin/users", &html, &data);
    let (status, _, html) =
        post_in(&a, ADMIN, "/admin/users", &[("csrf", &token), ("name", "a b"), ("role", "operator")], "en").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(html.contains("A name has 1 to"), "{html}");
    check(ADMIN, "/admin/users", &html, &data);

    // 网格: a report, and the page that says it was received.
    let (_, _, grid) = page_in(&a, INSPECTOR, "/grid", Some("en")).await;
    let text = "交道口南大街井盖松动，车辆经过咣当响";
    let (status, headers, _) =
        post_in(&a, INSPECTOR, "/grid", &[("csrf", &csrf(&grid)), ("text", text), ("address", "")], "en").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let back = headers.get(header::LOCATION).unwrap().to_str().unwrap().to_string();
    let (_, _, html) = page_in(&a, INSPECTOR, &back, Some("en")).await;
    assert!(html.contains("Reported: case "), "{html}");
    let mut data = data_of(&a, INSPECTOR, &ids).await;
    data.push(text.to_string());
    check(INSPECTOR, &back, &html, &data);
}

#[tokio::test]
async fn english_answers_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    english_answers(&format!("sqlite://{}/jiesu.db", dir.path().display())).await;
}

#[tokio::test]
async fn english_answers_on_postgres() {
    let Some(db) = jiesu_store::testing::scratch_postgres("console_lang_answers").await else { return };
    english_answers(&db.url).await;
    db.drop().await;
}

#[tokio::test]
async fn english_pages_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    english_pages(&format!("sqlite://{}/jiesu.db", dir.path().display())).await;
}

#[tokio::test]
async fn english_pages_on_postgres() {
    let Some(db) = jiesu_store::testing::scratch_postgres("console_lang").await else { return };
    english_pages(&db.url).await;
    db.drop().await;
}

/// `GET /lang/{code}?back=…`: the cookie for a year, and back to a local path only.
#[tokio::test]
async fn the_switch_goes_back_to_local_paths_only() {
    let dir = tempfile::tempdir().unwrap();
    let a = TestApp::new(&format!("sqlite://{}/jiesu.db", dir.path().display()), chrono::Utc::now()).await;
    let go = |path: String| {
        let a = &a;
        async move {
            let (status, headers, _) = a.send_raw(Request::get(path.as_str()).body(Body::empty()).unwrap()).await;
            let location = headers.get(header::LOCATION).map(|l| l.to_str().unwrap().to_string());
            let cookie = headers.get(header::SET_COOKIE).map(|c| c.to_str().unwrap().to_string());
            (status, location, cookie)
        }
    };
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();

    let (status, location, cookie) = go(format!("/lang/en?back={}", enc("/cases?q=路灯&status=closed"))).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some("/cases?q=%E8%B7%AF%E7%81%AF&status=closed"), "kept, non-ASCII encoded");
    let cookie = cookie.unwrap();
    assert!(
        cookie.starts_with("lang=en;") && cookie.contains("Path=/") && cookie.contains("Max-Age=31536000"),
        "{cookie}"
    );
    let (_, location, cookie) = go("/lang/zh?back=%2Finbox".into()).await;
    assert_eq!(location.as_deref(), Some("/inbox"));
    assert!(cookie.unwrap().starts_with("lang=zh;"));

    for evil in [
        "//evil.example/",
        "http://evil.example/",
        "https:evil.example",
        "/\\evil.example",
        "\\/evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
        "evil.example",
        "",
    ] {
        let (status, location, cookie) = go(format!("/lang/en?back={}", enc(evil))).await;
        if status == StatusCode::BAD_REQUEST {
            // Control characters are refused at the edge (`input::check_uri`) before the switch.
            assert!(evil.chars().any(char::is_control), "{evil:?}");
            continue;
        }
        assert_eq!(status, StatusCode::SEE_OTHER, "{evil:?}");
        assert_eq!(location.as_deref(), Some("/"), "{evil:?} is not followed");
        assert!(cookie.is_some(), "the language is still switched");
    }
    let (_, location, _) = go("/lang/en".into()).await;
    assert_eq!(location.as_deref(), Some("/"));
    let (status, _, cookie) = go("/lang/fr?back=%2F".into()).await;
    assert_eq!((status, cookie), (StatusCode::NOT_FOUND, None), "only zh and en");
}
