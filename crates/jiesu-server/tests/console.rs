//! The console: its security over HTTP (CSP, CSRF, escaping, scoping, sessions only) on SQLite
//! and PostgreSQL, and the whole loop in a real browser (headless Chromium through chromedriver
//! and WebDriver): an operator takes a call with live suggestions, a dispatcher sends it, the
//! unit signs, handles and replies, the callback closes it and the assessment counts it; another
//! unit cannot open it. Every page is saved as a screenshot (desktop and phone) under
//! `target/screenshots/`.
//!
//! The browser test is skipped, with the reason printed, when chromedriver is not installed,
//! unless `CI` is set: in CI a missing browser is a failure (`.ci/run` installs it).

mod common;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::console::*;
use common::*;
use fantoccini::Locator;
use jiesu_core::{Config, Desk};
use jiesu_domain::access::Scope;
use jiesu_domain::calendar::Calendar;
use jiesu_domain::catalog::Catalog;
use jiesu_domain::model::{Role, Status};
use jiesu_server::{AppState, serve};
use jiesu_store::CaseFilter;
use serde_json::json;

// ---------------------------------------------------------------------------------------------
// Over HTTP, without a browser.

async fn console_security(url: &str) {
    let a = TestApp::new(url, chrono::Utc::now()).await;

    // The login page: Chinese, strict CSP, every script and style from this server, no inline style.
    let (status, headers, html) = page(&a, NOBODY, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
    let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && csp.contains("style-src 'self'") && !csp.contains("unsafe"), "{csp}");
    assert!(html.contains("登录") && html.contains("lang=\"zh-CN\""));
    assert!(!html.contains("style="), "no inline styles");
    for tag in html.split("<script").skip(1).chain(html.split("<link").skip(1)) {
        let src = tag.split(['>']).next().unwrap();
        assert!(src.contains("src=\"/assets/") || src.contains("href=\"/assets/"), "external or inline: {src}");
    }
    // Its assets are served, with their types.
    for (path, kind) in [("/assets/console.css", "text/css"), ("/assets/vendor/htmx-2.0.11.min.js", "text/javascript")]
    {
        let (status, headers, _) = page(&a, NOBODY, path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(headers[header::CONTENT_TYPE].to_str().unwrap().starts_with(kind), "{path}");
    }

    // Login needs the form's CSRF token (double submit) ...
    let user = "console-op";
    a.store.create_user(user, Role::Operator, None, PASSWORD, a.now()).await.unwrap();
    let login = form(&[("name", user), ("password", PASSWORD), ("csrf", "forged")]);
    let (status, headers, html) = post_form(&a, NOBODY, "/login", login).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(headers.get_all(header::SET_COOKIE).iter().all(|c| !c.to_str().unwrap().starts_with("jiesu_session=")));
    assert!(html.contains("页面已过期"));
    // ... and with it, sets the session cookie and lands on the role's home.
    let (_, headers, html) = page(&a, NOBODY, "/").await;
    let token = csrf_in(&html);
    let cookie = headers[header::SET_COOKIE].to_str().unwrap().split(';').next().unwrap().to_string();
    let req = Request::post("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, cookie)
        .body(Body::from(form(&[("name", user), ("password", PASSWORD), ("csrf", &token)])))
        .unwrap();
    let (status, headers, _) = a.send_raw(req).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/intake");
    let session = headers[header::SET_COOKIE].to_str().unwrap();
    assert!(
        session.starts_with("jiesu_session=") && session.contains("HttpOnly") && session.contains("SameSite=Strict")
    );

    // Each role lands on its home; a page needs a session (an API key is not one).
    for (who, home) in [(OPERATOR, "/intake"), (DISPATCHER, "/dispatch"), (S001, "/inbox"), (SUPERVISOR, "/supervise")]
    {
        let (status, headers, _) = page(&a, who, "/").await;
        assert_eq!((status, headers[header::LOCATION].to_str().unwrap()), (StatusCode::SEE_OTHER, home));
    }
    let (status, headers, _) = page(&a, Some(("citizen", Some("app"))), "/cases").await;
    assert_eq!((status, headers[header::LOCATION].to_str().unwrap()), (StatusCode::SEE_OTHER, "/"));
    let (status, _, _) = page(&a, S001, "/dispatch").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "pages of another role are refused");

    // A case with markup in it, filed through the API to street S001.
    let body = json!({
        "channel": "hotline", "kind": "complaint", "title": "<script>alert(1)</script>",
        "text": "东华门大街占道经营 <b>严重</b>", "category": "0101", "place": {"street": "110101001"},
        "contact": {"name": "张三", "phone": "13812345678"}
    });
    let (status, v) = a.post(OPERATOR, "/api/v1/cases", body).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    let id = v["id"].as_i64().unwrap();
    let unit = v["assignee"].as_str().unwrap().to_string();
    assert_eq!(unit, "S001", "{v}");

    // Escaped everywhere; the contact in full for the operator, masked for the unit.
    let path = format!("/cases/{id}");
    let (status, _, html) = page(&a, OPERATOR, &path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("alert(1)") && !html.contains("<script>alert"), "{html}");
    assert!(html.contains("严重") && !html.contains("<b>严重"), "{html}");
    assert!(html.contains("13812345678"));
    let (status, _, html) = page(&a, S001, &path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("13812345678") && !html.contains("张三") && html.contains("138****5678"), "masked");
    // Another unit's case does not exist for it, as in the API.
    let (status, _, html) = page(&a, S002, &path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("工单不存在或无权查看") && !html.contains("alert(1)"));
    let (status, _, html) = page(&a, S002, "/inbox").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains(&path));

    // An action needs the session's CSRF token; with it, it goes through the desk.
    let act = format!("/cases/{id}/act");
    let (status, _, html) = post_form(&a, S001, &act, form(&[("action", "accept"), ("csrf", "0123")])).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("页面已过期"), "{html}");
    let (_, _, html) = page(&a, S001, &path).await;
    let token = csrf_in(&html);
    let (_, _, other) = page(&a, S002, "/inbox").await;
    let (status, _, html) = post_form(&a, S001, &act, form(&[("action", "accept"), ("csrf", &csrf_in(&other))])).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "another session's token: {html}");
    let (status, headers, _) =
        post_form(&a, S001, &act, form(&[("action", "accept"), ("csrf", &token), ("back", "/inbox")])).await;
    assert_eq!((status, headers[header::LOCATION].to_str().unwrap()), (StatusCode::SEE_OTHER, "/inbox"));
    let (_, v) = a.get(S001, &format!("/api/v1/cases/{id}")).await;
    assert_eq!(v["status"], "accepted");
    // The desk's refusals come back on the page, in Chinese, with the API's status.
    let (status, _, html) = post_form(&a, S001, &act, form(&[("action", "reply"), ("csrf", &token)])).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(html.contains("填写有误"), "{html}");
    let (status, _, html) = post_form(&a, S001, &act, form(&[("action", "dispatch"), ("csrf", &token)])).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("无权执行此操作"));
    // An open redirect is not possible through `back`.
    let (status, headers, _) = post_form(
        &a,
        S001,
        &act,
        form(&[("action", "handle"), ("contacted", "true"), ("csrf", &token), ("back", "//evil.example")]),
    )
    .await;
    assert_eq!((status, headers[header::LOCATION].to_str().unwrap()), (StatusCode::SEE_OTHER, path.as_str()));

    // 工单: the API's list with its filters; a bad filter is named; a unit sees its own only.
    let (status, _, html) =
        page(&a, OPERATOR, "/cases?q=%E4%B8%A5%E9%87%8D&street=110101001&category=01&status=").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&format!("href=\"{path}\"")) && html.contains("共 1 件"), "{html}");
    let (status, _, html) = page(&a, OPERATOR, "/cases?q=%E4%B8%A5%E9%87%8D&street=110101002").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains(&format!("href=\"{path}\"")) && html.contains("共 0 件"));
    let (status, _, html) = page(&a, OPERATOR, "/cases?from=yesterday").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("from"), "{html}");
    let (_, _, html) = page(&a, S002, "/cases").await;
    assert!(!html.contains(&format!("href=\"{path}\"")));

    // 受理 and merge into a likely duplicate in one post: filed, then merged through the desk.
    let (_, _, html) = page(&a, OPERATOR, "/intake").await;
    let token = csrf_in(&html);
    let id_text = id.to_string();
    let filing = form(&[
        ("csrf", &token),
        ("channel", "hotline"),
        ("kind", "complaint"),
        ("text", "东华门大街又有人占道经营"),
        ("category", "0101"),
        ("merge_into", &id_text),
    ]);
    let (status, headers, html) = post_form(&a, OPERATOR, "/intake", filing).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
    assert_eq!(headers[header::LOCATION].to_str().unwrap(), path);
    let (_, v) = a.get(OPERATOR, "/api/v1/cases?status=merged").await;
    assert_eq!((v["total"].as_u64(), v["cases"][0]["merged_into"].as_i64()), (Some(1), Some(id)), "{v}");
    // A bad filing comes back with the form kept and the field named.
    let bad = form(&[
        ("csrf", &token),
        ("channel", "hotline"),
        ("kind", "complaint"),
        ("text", "路灯不亮"),
        ("category", "99"),
    ]);
    let (status, _, html) = post_form(&a, OPERATOR, "/intake", bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("category") && html.contains("路灯不亮"), "{html}");

    // Without a session, htmx is told to load the login page (not to swap it into the form).
    let req = Request::post("/intake/suggest")
        .header("hx-request", "true")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("text=x"))
        .unwrap();
    let (status, headers, _) = a.send_raw(req).await;
    assert_eq!((status, headers["hx-redirect"].to_str().unwrap()), (StatusCode::NO_CONTENT, "/"));

    // Logging out ends the session.
    let (_, _, html) = page(&a, S001, "/inbox").await;
    let (status, _, _) = post_form(&a, S001, "/logout", form(&[("csrf", &csrf_in(&html))])).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, v) = a.get(S001, "/api/v1/me").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{v}");
}

#[tokio::test]
async fn console_security_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    console_security(&format!("sqlite://{}/jiesu.db", dir.path().display())).await;
}

#[tokio::test]
async fn console_security_on_postgres() {
    let Some(db) = jiesu_store::testing::scratch_postgres("console").await else { return };
    console_security(&db.url).await;
    db.drop().await;
}

// ---------------------------------------------------------------------------------------------
// In a browser.

async fn browser_story(url: &str) {
    let Some(driver) = chromedriver().await else { return };
    let store = jiesu_store::testing::connect(url).await.unwrap();
    // As `jiesu serve` runs it: the gazetteer and the unit grid (when the outline is at hand) and
    // the shipped classifier.
    let outline = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/geo/110101_full.json");
    let geo = match std::fs::read_to_string(&outline) {
        Ok(text) => jiesu_geo::Geo::dongcheng(&text).unwrap(),
        Err(_) => jiesu_geo::Geo::dongcheng_without_grid(),
    };
    let desk = Desk::new(store.clone(), Catalog::dongcheng(), Calendar::china(), Config::default())
        .with_geo(Arc::new(geo))
        .with_classifier(Arc::new(jiesu_core::Suggester::shipped().clone()))
        .unwrap();
    let now = chrono::Utc::now();
    for (name, role, unit) in [
        ("wang", Role::Operator, None),
        ("li", Role::Dispatcher, None),
        ("zhao", Role::UnitHandler, Some("S006")),
        ("qian", Role::UnitHandler, Some("S001")),
        ("sun", Role::Supervisor, None),
        ("zhou", Role::GridInspector, Some("S006")),
    ] {
        store.create_user(name, role, unit, PASSWORD, now).await.unwrap();
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(AppState::new(desk), listener, async move {
        let _ = stopped.await;
    }));
    let profile = tempfile::tempdir().unwrap();
    let s = Story { c: browser(&driver, profile.path()).await, base };

    // 登录 → 受理: the operator types the call; suggestions appear as the text is typed.
    s.goto("/").await;
    shot(&s.c, "01-login").await;
    // The language switch, on the login page and in every page's header (issue 10): English
    // pages at desktop size, then back to Chinese for the rest of the story.
    s.submit("#lang-en").await;
    assert_eq!(s.path().await, "/");
    assert_eq!(s.text("#login").await, "Log in");
    shot_sized(&s.c, "01-login-en", EN).await;
    s.submit("#lang-zh").await;
    s.login("wang", "/intake").await;
    s.submit("#lang-en").await;
    assert_eq!(s.path().await, "/intake", "the switch comes back to the page");
    assert!(s.html().await.contains("<html lang=\"en\">"));
    s.css("#text").await.send_keys("东四北大街107号门口有商贩占道经营，晚上一直摆摊，影响行人通行。").await.unwrap();
    s.c.wait().at_most(Duration::from_secs(20)).for_element(Locator::Id("suggest-category")).await.unwrap();
    assert!(s.text("#suggestions").await.contains("confidence"), "the suggestions in English");
    s.css("#contact-name").await.send_keys("张三").await.unwrap();
    shot_sized(&s.c, "02-intake-en", EN).await;
    s.submit("#lang-zh").await;
    assert_eq!(s.text("h1").await.split_whitespace().next(), Some("受理"));
    s.css("#text")
        .await
        .send_keys("东四北大街107号门口有商贩占道经营，晚上一直摆摊，影响行人通行，希望管一管。")
        .await
        .unwrap();
    s.c.wait().at_most(Duration::from_secs(20)).for_element(Locator::Id("suggest-category")).await.unwrap();
    let unit = s.text("#suggest-unit").await;
    assert!(!unit.is_empty(), "the responsibility list names a unit");
    assert!(s.text("#suggest-place").await.contains("东四"), "the place is found from the text");
    s.css("#contact-name").await.send_keys("张三").await.unwrap();
    s.css("#contact-phone").await.send_keys("13812345678").await.unwrap();
    s.css("#hold").await.click().await.unwrap();
    shot(&s.c, "02-intake").await;
    s.submit("#file").await;
    let case_path = s.path().await;
    let id: i64 = case_path.strip_prefix("/cases/").unwrap().parse().unwrap();
    assert_eq!(s.text("#case-status").await, "已受理");
    assert!(s.text("#contact").await.contains("13812345678"), "the operator sees the contact");
    shot(&s.c, "03-case-received").await;
    s.logout().await;

    // 派单: the dispatcher sends it to the 东四 street office.
    s.login("li", "/dispatch").await;
    shot(&s.c, "04-dispatch").await;
    s.submit("#lang-en").await;
    shot_sized(&s.c, "04-dispatch-en", EN).await;
    s.submit("#lang-zh").await;
    let form = format!("#to-dispatch form[action='/cases/{id}/act']");
    s.css(&format!("{form} select[name=unit]")).await.select_by_value("S006").await.unwrap();
    s.submit(&format!("{form} button.dispatch-button")).await;
    assert_eq!(s.path().await, "/dispatch");
    s.goto(&case_path).await;
    assert_eq!(s.text("#case-status").await, "已派单");
    assert!(s.text("#assignee").await.contains("东四街道办事处"));
    s.goto("/cases").await;
    shot(&s.c, "05-cases").await;
    s.logout().await;

    // 承办: the unit signs, handles and replies; it sees the contact masked.
    s.login("zhao", "/inbox").await;
    shot(&s.c, "06-inbox").await;
    s.submit("#lang-en").await;
    assert_eq!(s.path().await, "/inbox");
    assert!(s.text("#inbox").await.contains("Dispatched"), "statuses in English");
    shot(&s.c, "06-inbox-en").await;
    s.goto(&case_path).await;
    assert_eq!(s.text("#case-status").await, "Dispatched");
    shot_sized(&s.c, "06-case-en", EN).await;
    s.submit("#lang-zh").await;
    assert_eq!(s.text("#case-status").await, "已派单");
    s.goto("/inbox").await;
    s.submit(&format!("#inbox form[action='/cases/{id}/act'] button[value=accept]")).await;
    assert_eq!(s.path().await, "/inbox");
    s.goto(&case_path).await;
    assert_eq!(s.text("#case-status").await, "已签收");
    s.css("#handle-note").await.send_keys("已到现场核实，联系城管执法队").await.unwrap();
    s.submit("#handle").await;
    assert_eq!(s.text("#case-status").await, "办理中");
    s.css("#reply-text").await.send_keys("已清理占道摊贩，并安排每晚巡查。").await.unwrap();
    s.submit("#reply").await;
    assert_eq!(s.text("#case-status").await, "已答复");
    let html = s.html().await;
    assert!(!html.contains("13812345678") && html.contains("138****5678"), "masked for the unit");
    shot(&s.c, "07-case-replied").await;
    s.logout().await;

    // 督办: the supervisor sees what is overdue or near due (nothing here) and the extension queue.
    s.login("sun", "/supervise").await;
    shot(&s.c, "08-supervise").await;
    s.logout().await;

    // Another unit cannot open it.
    s.login("qian", "/inbox").await;
    s.goto(&case_path).await;
    assert!(s.text("#error").await.contains("工单不存在或无权查看"));
    assert!(!s.html().await.contains("占道经营"));
    shot(&s.c, "08-other-unit-refused").await;
    s.logout().await;

    // 回访: the operator records the callback and closes the case.
    s.login("wang", "/intake").await;
    s.goto("/callback").await;
    shot(&s.c, "09-callback").await;
    s.submit(&format!("#to-call form[action='/cases/{id}/act'] button.callback-button")).await;
    assert_eq!(s.path().await, case_path);
    assert_eq!(s.text("#case-status").await, "已结案");
    shot(&s.c, "10-case-closed").await;

    // 考核: the street office's month counts the callback.
    s.goto("/assessment").await;
    let row = "//section[@id='streets']//tr[td[@class='name' and text()='东四街道办事处']]";
    let callbacks = s.c.find(Locator::XPath(&format!("{row}/td[4]"))).await.unwrap().text().await.unwrap();
    assert_eq!(callbacks, "1");
    let composite = s.c.find(Locator::XPath(&format!("{row}/td[8]"))).await.unwrap().text().await.unwrap();
    assert_eq!(composite, "100.00");
    s.c.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css("#chart svg")).await.unwrap();
    shot(&s.c, "11-assessment").await;
    s.submit("#lang-en").await;
    s.c.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css("#trend svg")).await.unwrap();
    assert!(s.text("#trend").await.contains("District"), "the trend's legend in English");
    shot_sized(&s.c, "11-assessment-en", EN).await;
    s.goto("/notices").await;
    shot_sized(&s.c, "11-notices-en", EN).await;
    s.submit("#lang-zh").await;
    s.goto("/assessment").await;
    // The 12-month trend, with the street office's line beside the district's.
    s.goto("/assessment?unit=S006").await;
    s.c.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css("#trend svg")).await.unwrap();
    assert!(s.text("#trend").await.contains("东四街道办事处"), "the trend's legend names the unit");
    shot(&s.c, "11-assessment-trend").await;

    s.logout().await;

    // 网格: a grid inspector reports from a phone-sized window.
    s.c.set_window_size(390, 844).await.unwrap();
    s.login("zhou", "/grid").await;
    shot(&s.c, "12-grid").await;
    s.c.set_window_size(390, 844).await.unwrap();
    s.css("#grid-text").await.send_keys("东四北大街与东四十条路口东北角井盖松动，车辆经过咣当响。").await.unwrap();
    s.css("#grid-address").await.send_keys("东四北大街").await.unwrap();
    s.submit("#report").await;
    assert_eq!(s.path().await, "/grid");
    let filed = s.text("#filed").await;
    let reported: i64 = filed.split_whitespace().find_map(|w| w.parse().ok()).unwrap_or_else(|| panic!("{filed}"));
    let rec = store.case_in(&Scope::All, reported).await.unwrap();
    assert_eq!(rec.case.channel, jiesu_domain::model::Channel::Grid, "filed through the grid channel");
    let events = store.events_in(&Scope::All, reported).await.unwrap();
    assert_eq!(events[0].actor.user, "zhou");
    shot(&s.c, "13-grid-reported").await;
    s.c.set_window_size(1366, 768).await.unwrap();

    s.c.close().await.unwrap();
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn browser_story_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    browser_story(&format!("sqlite://{}/jiesu.db", dir.path().display())).await;
}

#[tokio::test]
async fn browser_story_on_postgres() {
    let Some(db) = jiesu_store::testing::scratch_postgres("console_browser").await else { return };
    browser_story(&db.url).await;
    db.drop().await;
}

/// The size of the English screenshots.
const EN: &[(&str, u32, u32)] = &[("desktop", 1366, 768)];

/// The size of the README's screenshots.
const DOCS: &[(&str, u32, u32)] = &[("desktop", 1366, 900)];

/// The README's screenshots: the console over a few months of demo data, at desktop size, saved
/// as `target/screenshots/docs-*.png`. Run by hand (`cargo test -p jiesu-server --test console
/// docs_screenshots -- --ignored`) and copy the chosen ones to `docs/`.
#[tokio::test]
#[ignore = "makes the README's screenshots; run by hand"]
async fn docs_screenshots() {
    let Some(driver) = chromedriver().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let store = jiesu_store::testing::connect(&format!("sqlite://{}/jiesu.db", dir.path().display())).await.unwrap();
    let outline = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/geo/110101_full.json");
    let geo = match std::fs::read_to_string(&outline) {
        Ok(text) => jiesu_geo::Geo::dongcheng(&text).unwrap(),
        Err(_) => jiesu_geo::Geo::dongcheng_without_grid(),
    };
    let desk = Desk::new(store.clone(), Catalog::dongcheng(), Calendar::china(), Config::default());
    let opts = jiesu_demo::DemoOptions { cases: 6000, seed: 2026, end: chrono::Utc::now() };
    jiesu_demo::generate(&desk, &opts, |_, _| {}).await.unwrap();
    let desk =
        desk.with_geo(Arc::new(geo)).with_classifier(Arc::new(jiesu_core::Suggester::shipped().clone())).unwrap();
    let now = chrono::Utc::now();
    // The handler works for the unit with the most cases in hand.
    let held = vec![Status::Dispatched, Status::Accepted, Status::InProgress, Status::ReturnRequested];
    let mut busiest = (String::new(), 0);
    for unit in Catalog::dongcheng().units() {
        let filter = CaseFilter { assignee: Some(unit.code.clone()), statuses: held.clone(), ..Default::default() };
        let n = store.count(&Scope::All, &filter).await.unwrap();
        if n > busiest.1 {
            busiest = (unit.code.clone(), n);
        }
    }
    for (name, role, unit) in [
        ("wang", Role::Operator, None),
        ("li", Role::Dispatcher, None),
        ("zhao", Role::UnitHandler, Some(busiest.0.as_str())),
        ("sun", Role::Supervisor, None),
    ] {
        store.create_user(name, role, unit, PASSWORD, now).await.unwrap();
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(AppState::new(desk), listener, async move {
        let _ = stopped.await;
    }));
    let profile = tempfile::tempdir().unwrap();
    let s = Story { c: browser(&driver, profile.path()).await, base };

    s.login("wang", "/intake").await;
    s.css("#text")
        .await
        .send_keys("交道口南大街菊儿胡同口有人占道经营卖水果，晚上摊位一直摆到路中间，车辆过不去。")
        .await
        .unwrap();
    s.c.wait().at_most(Duration::from_secs(20)).for_element(Locator::Id("suggest-category")).await.unwrap();
    s.css("#contact-name").await.send_keys("刘女士").await.unwrap();
    s.css("#contact-phone").await.send_keys("13911112222").await.unwrap();
    shot_sized(&s.c, "docs-intake", DOCS).await;
    s.logout().await;
    s.login("li", "/dispatch").await;
    shot_sized(&s.c, "docs-dispatch", DOCS).await;
    s.logout().await;
    s.login("zhao", "/inbox").await;
    shot_sized(&s.c, "docs-inbox", DOCS).await;
    let first = s.css("#inbox a.case-link").await.attr("href").await.unwrap().unwrap();
    s.goto(&first).await;
    shot_sized(&s.c, "docs-case", DOCS).await;
    s.logout().await;
    s.login("sun", "/supervise").await;
    shot_sized(&s.c, "docs-supervise", DOCS).await;
    s.goto("/assessment").await;
    let previous = s.css("a.button").await.attr("href").await.unwrap().unwrap();
    s.goto(&previous).await;
    s.c.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css("#chart svg")).await.unwrap();
    shot_sized(&s.c, "docs-assessment", DOCS).await;

    s.c.close().await.unwrap();
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}
