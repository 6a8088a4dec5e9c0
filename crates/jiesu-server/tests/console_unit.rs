//! The console's 吹哨报到, multi-dispatch and 管理 pages, over HTTP on SQLite and PostgreSQL
//! (CSRF, scoping, refusals, two dispatchers racing on the same cases, secrets shown once) and in
//! a real browser (headless Chromium): a street office summons departments, a department checks
//! in from its inbox, two dispatchers send the same selection at once, the administrator makes a
//! user. Screenshots (desktop and phone) go to `target/screenshots/unit-*.png`.
//!
//! The browser test is skipped, with the reason printed, when chromedriver is not installed,
//! unless `CI` is set.

mod common;

use std::collections::HashMap;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::console::*;
use common::*;
use fantoccini::Locator;
use jiesu_core::{Config, Desk};
use jiesu_domain::access::Scope;
use jiesu_domain::calendar::Calendar;
use jiesu_domain::catalog::Catalog;
use jiesu_domain::draft::{NewCase, Place};
use jiesu_domain::model::{CaseKind, Channel, Role};
use jiesu_domain::workflow::{Action, Actor};
use jiesu_server::{AppState, serve};
use serde_json::json;

// ---------------------------------------------------------------------------------------------
// Over HTTP, without a browser: people by name, each with their own session.

/// A person's session cookie (the user is made with the test password).
async fn session(a: &TestApp, name: &str, role: Role, unit: Option<&str>) -> String {
    a.store.create_user(name, role, unit, PASSWORD, a.now()).await.unwrap();
    let (status, body, cookie) = a.login(name, PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    cookie.unwrap()
}

async fn get_as(a: &TestApp, cookie: &str, path: &str) -> (StatusCode, String) {
    let req = Request::get(path).header(header::COOKIE, cookie).body(Body::empty()).unwrap();
    let (s, _, text) = a.send_raw(req).await;
    (s, text)
}

async fn post_as(a: &TestApp, cookie: &str, path: &str, pairs: &[(&str, &str)]) -> (StatusCode, String, String) {
    let req = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, cookie)
        .body(Body::from(form(pairs)))
        .unwrap();
    let (s, headers, text) = a.send_raw(req).await;
    let location = headers.get(header::LOCATION).map(|l| l.to_str().unwrap().to_string()).unwrap_or_default();
    (s, location, text)
}

/// The CSRF token of a person's session (read off a page of theirs).
async fn token(a: &TestApp, cookie: &str, path: &str) -> String {
    let (status, html) = get_as(a, cookie, path).await;
    assert_eq!(status, StatusCode::OK, "{path}: {html}");
    csrf_in(&html)
}

fn pairs(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// The bulk-dispatch ticks (`ID:SEQ`) a page offers, by case id.
fn ticks(html: &str) -> HashMap<i64, String> {
    html.split("name=\"case\" value=\"")
        .skip(1)
        .map(|rest| {
            let v = rest.split('"').next().unwrap().to_string();
            (v.split(':').next().unwrap().parse().unwrap(), v)
        })
        .collect()
}

/// Files a case through the API (held for the dispatcher unless `dispatch`).
async fn file(a: &TestApp, text: &str, dispatch: bool) -> i64 {
    let mut body = new_case_body("0101");
    body["text"] = json!(text);
    body["auto_dispatch"] = json!(dispatch);
    let (status, v) = a.post(OPERATOR, "/api/v1/cases", body).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    v["id"].as_i64().unwrap()
}

async fn dispatches(a: &TestApp, id: i64) -> Vec<String> {
    let events = a.store.events_in(&Scope::All, id).await.unwrap();
    events
        .iter()
        .filter_map(|e| match &e.action {
            Action::Dispatch { unit, .. } => Some(format!("{}→{unit}", e.actor.user)),
            _ => None,
        })
        .collect()
}

/// 吹哨 and 报到 from the case page and the inbox.
async fn summons(url: &str) {
    let a = TestApp::new(url, chrono::Utc::now()).await;
    let lead = session(&a, "s001-zhang", Role::UnitHandler, Some("S001")).await;
    let housing = session(&a, "b03-wang", Role::UnitHandler, Some("B03")).await;
    let ecology = session(&a, "b05-li", Role::UnitHandler, Some("B05")).await;
    let other_street = session(&a, "s002-zhao", Role::UnitHandler, Some("S002")).await;
    let id = file(&a, "东华门大街老旧小区楼道私搭乱建，堆放杂物，存在消防隐患", true).await;
    let path = format!("/cases/{id}");
    let act = format!("{path}/act");

    // Only the lead, once it has signed for the case, is offered 吹哨.
    let (_, html) = get_as(&a, &lead, &path).await;
    assert!(!html.contains("id=\"whistle-form\""), "not before 签收");
    let t = csrf_in(&html);
    let (status, location, _) = post_as(&a, &lead, &act, &[("csrf", &t), ("action", "accept")]).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, path.as_str()));
    let (_, html) = get_as(&a, &lead, &path).await;
    assert!(
        html.contains("id=\"whistle-form\"") && html.contains("value=\"B03\"") && !html.contains("value=\"S002\"> ")
    );
    // The department cannot see the case before it is summoned.
    let (status, _) = get_as(&a, &housing, &path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // 吹哨 needs the session's token; another street cannot blow it (it does not see the case);
    // a street office cannot be summoned (the desk says so, on the page).
    let whistle = |t: &str| {
        vec![
            ("csrf".to_string(), t.to_string()),
            ("action".into(), "whistle".into()),
            ("units".into(), "B03".into()),
            ("units".into(), "B05".into()),
            ("note".into(), "私搭乱建需房管、环保协同处置".into()),
        ]
    };
    let (status, _, html) = post_as(&a, &lead, &act, &pairs(&whistle("0123"))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{html}");
    let other_t = token(&a, &other_street, "/inbox").await;
    let (status, _, _) = post_as(&a, &other_street, &act, &pairs(&whistle(&other_t))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, html) =
        post_as(&a, &lead, &act, &[("csrf", &t), ("action", "whistle"), ("units", "S002"), ("note", "x")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("填写有误") && html.contains("not a department"), "{html}");
    // A summoned department may not summon in turn (only the lead), nor check in before it is summoned.
    let housing_t = token(&a, &housing, "/inbox").await;
    let (status, _, _) = post_as(&a, &housing, &act, &[("csrf", &housing_t), ("action", "check_in")]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        a.store.events_in(&Scope::All, id).await.unwrap().iter().all(|e| !matches!(e.action, Action::Whistle { .. }))
    );
    let (status, location, _) = post_as(&a, &lead, &act, &pairs(&whistle(&t))).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, path.as_str()));
    let (_, html) = get_as(&a, &lead, &path).await;
    assert!(html.contains("已报到 0 / 2") && html.contains("私搭乱建需房管、环保协同处置"), "{html}");
    assert_eq!(html.matches("待报到").count(), 2, "{html}");
    assert!(!html.contains("name=\"units\" value=\"B03\""), "summoned units are not offered again");

    // The department sees it in its inbox, with the contact masked, and checks in with its report.
    let (_, html) = get_as(&a, &housing, "/inbox").await;
    assert!(html.contains("id=\"summoned\"") && html.contains(&format!("href=\"{path}\"")) && html.contains("待报到"));
    let (status, html) = get_as(&a, &housing, &path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"checkin-form\"") && !html.contains("id=\"whistle-form\""));
    assert!(!html.contains("13812345678") && !html.contains("张三"), "masked for a summoned unit");
    let (status, _, html) =
        post_as(&a, &housing, &act, &[("csrf", &housing_t), ("action", "whistle"), ("units", "B05")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "only the lead summons: {html}");
    // NUL and oversized reports are refused, nothing written.
    let before = a.store.events_in(&Scope::All, id).await.unwrap().len();
    let (status, _, _) =
        post_as(&a, &housing, &act, &[("csrf", &housing_t), ("action", "check_in"), ("note", "已到\0场")]).await;
    assert!(status.is_client_error(), "{status}");
    let huge = "报".repeat(5001);
    let (status, _, html) =
        post_as(&a, &housing, &act, &[("csrf", &housing_t), ("action", "check_in"), ("note", &huge)]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{}", &html[..200.min(html.len())]);
    assert_eq!(a.store.events_in(&Scope::All, id).await.unwrap().len(), before);
    let report = "房管局已派两名工作人员到场，负责违建认定";
    let (status, location, _) =
        post_as(&a, &housing, &act, &[("csrf", &housing_t), ("action", "check_in"), ("note", report)]).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, path.as_str()));
    // Once only.
    let (status, _, html) = post_as(&a, &housing, &act, &[("csrf", &housing_t), ("action", "check_in")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("already checked in"), "{html}");
    let (_, html) = get_as(&a, &housing, &path).await;
    assert!(!html.contains("id=\"checkin-form\""));

    // The lead sees who checked in, when, and what they reported; the other is still awaited.
    let (_, html) = get_as(&a, &lead, &path).await;
    assert!(html.contains("已报到 1 / 2") && html.contains(report) && html.contains("b03-wang"), "{html}");
    assert_eq!(html.matches("待报到").count(), 1);
    let (_, html) = get_as(&a, &ecology, "/inbox").await;
    assert!(html.contains(&format!("href=\"{path}\"")) && html.contains("待报到"));
    let (_, html) = get_as(&a, &housing, "/inbox").await;
    assert!(html.contains("已报到"));
    // The same check-in through the JSON API agrees (one desk).
    let (_, v) = a.get(OPERATOR, &format!("/api/v1/cases/{id}")).await;
    let joint = v["joint"].as_array().unwrap();
    assert_eq!(joint.len(), 2);
    assert!(joint[0]["checked_in_at"].is_string() && joint[1]["checked_in_at"].is_null(), "{v}");
    a.store.close().await;
}

/// Many cases at once, and two dispatchers on the same cases at the same moment.
async fn multi_dispatch(url: &str) {
    let a = TestApp::new(url, chrono::Utc::now()).await;
    let li = session(&a, "li", Role::Dispatcher, None).await;
    let liu = session(&a, "liu", Role::Dispatcher, None).await;
    let boss = session(&a, "sun", Role::Supervisor, None).await;
    let handler = session(&a, "s001", Role::UnitHandler, Some("S001")).await;
    let mut ids = Vec::new();
    for i in 0..6 {
        ids.push(file(&a, &format!("东华门大街{i}号门前占道经营"), false).await);
    }

    // Both dispatchers open 派单 and tick the same cases.
    let (_, li_page) = get_as(&a, &li, "/dispatch").await;
    let (_, liu_page) = get_as(&a, &liu, "/dispatch").await;
    assert!(li_page.contains("id=\"bulk-dispatch\"") && li_page.contains("id=\"select-all\""));
    let (li_ticks, liu_ticks) = (ticks(&li_page), ticks(&liu_page));
    for id in &ids {
        assert!(li_ticks.contains_key(id) && liu_ticks.contains_key(id), "case {id} can be ticked");
    }
    let (li_t, liu_t) = (csrf_in(&li_page), csrf_in(&liu_page));
    let send = |cookie: String, t: String, unit: &'static str, ticks: Vec<String>| {
        let a = &a;
        async move {
            let mut pairs = vec![("csrf", t.as_str()), ("unit", unit)];
            pairs.extend(ticks.iter().map(|v| ("case", v.as_str())));
            post_as(a, &cookie, "/dispatch/bulk", &pairs).await
        }
    };
    let pick = |m: &HashMap<i64, String>| ids.iter().map(|id| m[id].clone()).collect::<Vec<_>>();
    let ((s1, _, p1), (s2, _, p2)) = tokio::join!(
        send(li.clone(), li_t.clone(), "S001", pick(&li_ticks)),
        send(liu.clone(), liu_t.clone(), "S002", pick(&liu_ticks))
    );
    assert_eq!((s1, s2), (StatusCode::OK, StatusCode::OK), "{p1}\n{p2}");
    // Each case dispatched exactly once; every case on each page is reported, none silently.
    let mut won = (0, 0);
    for id in &ids {
        let d = dispatches(&a, *id).await;
        assert_eq!(d.len(), 1, "case {id}: {d:?}");
        if d[0] == "li→S001" {
            won.0 += 1
        } else {
            assert_eq!(d[0], "liu→S002");
            won.1 += 1
        }
    }
    let count = |html: &str, kind: &str| html.matches(&format!("class=\"outcome-{kind}\"")).count();
    assert_eq!((count(&p1, "done"), count(&p2, "done")), won, "{p1}");
    assert_eq!(count(&p1, "done") + count(&p1, "changed"), 6, "{p1}");
    assert_eq!(count(&p2, "done") + count(&p2, "changed"), 6, "{p2}");
    // The loser is told who acted first.
    if won.0 < 6 {
        assert!(p1.contains("已被他人处理") && p1.contains("liu 于") && p1.contains("派单至景山街道办事处"), "{p1}");
    }
    if won.1 < 6 {
        assert!(p2.contains("已被他人处理") && p2.contains("li 于") && p2.contains("派单至东华门街道办事处"), "{p2}");
    }

    // 改派: dispatched and not yet signed for, ticked again from a fresh page: through.
    let (_, page) = get_as(&a, &li, "/dispatch").await;
    assert!(page.contains("id=\"unsigned\""));
    let fresh = ticks(&page);
    let (status, _, html) = post_as(
        &a,
        &li,
        "/dispatch/bulk",
        &[("csrf", &li_t), ("unit", "S003"), ("case", &fresh[&ids[0]]), ("case", &fresh[&ids[1]])],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(count(&html, "done"), 2, "{html}");
    assert!(html.contains("已派往交道口街道办事处"));
    // The stale tick from before is refused as changed, not redispatched.
    let (_, _, html) =
        post_as(&a, &li, "/dispatch/bulk", &[("csrf", &li_t), ("unit", "S004"), ("case", &li_ticks[&ids[0]])]).await;
    assert_eq!(count(&html, "changed"), 1, "{html}");
    assert_eq!(dispatches(&a, ids[0]).await.len(), 2);

    // By the responsibility list (no unit): a held case goes where the list says.
    let held = file(&a, "东华门大街口商贩占道", false).await;
    let (_, page) = get_as(&a, &li, "/dispatch").await;
    let (_, _, html) =
        post_as(&a, &li, "/dispatch/bulk", &[("csrf", &li_t), ("unit", ""), ("case", &ticks(&page)[&held])]).await;
    assert!(html.contains("按权责清单") && count(&html, "done") == 1, "{html}");
    let (_, v) = a.get(OPERATOR, &format!("/api/v1/cases/{held}")).await;
    assert_eq!(v["assignee"], "S001", "{v}");

    // Refusals, each named: a case that does not exist; a case its unit has signed for (the
    // desk's state machine: 派单 is over).
    let (status, _, html) =
        post_as(&a, &li, "/dispatch/bulk", &[("csrf", &li_t), ("unit", "S004"), ("case", "999999:1")]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(count(&html, "refused") == 1 && html.contains("工单不存在或无权查看"), "{html}");
    for id in &ids[2..] {
        if a.store.case(*id).await.unwrap().state.assignee.as_deref() != Some("S001") {
            continue;
        }
        let (s, v) = a.act(S001, *id, json!({"action": "accept"})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let seen = format!("{id}:{}", v["events"]);
        let (_, _, html) =
            post_as(&a, &li, "/dispatch/bulk", &[("csrf", &li_t), ("unit", "S004"), ("case", &seen)]).await;
        assert!(count(&html, "refused") == 1 && html.contains("工单当前状态不允许此操作"), "{html}");
        break;
    }
    // The desk's rights: a supervisor or a unit handler cannot dispatch.
    let sun_t = token(&a, &boss, "/dispatch").await;
    let (_, page) = get_as(&a, &li, "/dispatch").await;
    let any = ticks(&page).into_values().next().unwrap();
    let (_, _, html) =
        post_as(&a, &boss, "/dispatch/bulk", &[("csrf", &sun_t), ("unit", "S004"), ("case", &any)]).await;
    assert!(count(&html, "refused") == 1 && html.contains("无权执行此操作"), "the desk decides: {html}");
    let h_t = token(&a, &handler, "/inbox").await;
    let (_, _, html) =
        post_as(&a, &handler, "/dispatch/bulk", &[("csrf", &h_t), ("unit", "S004"), ("case", &any)]).await;
    assert_eq!(count(&html, "done"), 0, "{html}");

    // The form itself: a token, a selection, well-formed ticks, at most 200.
    let (status, _, _) = post_as(&a, &li, "/dispatch/bulk", &[("csrf", "forged"), ("case", &any)]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, html) = post_as(&a, &li, "/dispatch/bulk", &[("csrf", &li_t), ("unit", "S004")]).await;
    assert!(status == StatusCode::BAD_REQUEST && html.contains("未选择工单"), "{html}");
    let (status, _, html) = post_as(&a, &li, "/dispatch/bulk", &[("csrf", &li_t), ("case", "12")]).await;
    assert!(status == StatusCode::BAD_REQUEST && html.contains("所选工单有误"), "{html}");
    let many: Vec<String> = (1..=201).map(|i| format!("{i}:1")).collect();
    let mut pairs = vec![("csrf", li_t.as_str())];
    pairs.extend(many.iter().map(|v| ("case", v.as_str())));
    let (status, _, html) = post_as(&a, &li, "/dispatch/bulk", &pairs).await;
    assert!(status == StatusCode::BAD_REQUEST && html.contains("一次最多派 200 件"), "{html}");
    a.store.close().await;
}

/// The most one post takes (200, the 派单 page's list length), all through the desk, timed.
async fn bulk_of_200(url: &str, backend: &str) {
    let a = TestApp::new(url, chrono::Utc::now()).await;
    let li = session(&a, "li", Role::Dispatcher, None).await;
    for i in 0..200 {
        file(&a, &format!("东华门大街{i}号门前占道经营"), false).await;
    }
    let (_, page) = get_as(&a, &li, "/dispatch").await;
    let t = csrf_in(&page);
    let all: Vec<String> = ticks(&page).into_values().collect();
    assert_eq!(all.len(), 200);
    let mut pairs = vec![("csrf", t.as_str()), ("unit", "")];
    pairs.extend(all.iter().map(|v| ("case", v.as_str())));
    let started = std::time::Instant::now();
    let (status, _, html) = post_as(&a, &li, "/dispatch/bulk", &pairs).await;
    let took = started.elapsed();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(html.matches("class=\"outcome-done\"").count(), 200);
    eprintln!("bulk dispatch of 200 cases by the responsibility list on {backend}: {} ms", took.as_millis());
    a.store.close().await;
}

/// 管理: admins only; users and keys as the CLI makes them; secrets shown once; catalog read-only.
async fn admin(url: &str) {
    let a = TestApp::new(url, chrono::Utc::now()).await;
    let root = session(&a, "root", Role::Admin, None).await;
    let disp = session(&a, "li", Role::Dispatcher, None).await;

    let (status, html) = get_as(&a, &disp, "/admin").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("无权执行此操作"));
    let disp_t = token(&a, &disp, "/dispatch").await;
    let (status, _, _) =
        post_as(&a, &disp, "/admin/users", &[("csrf", &disp_t), ("name", "x1"), ("role", "admin")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(a.store.user("x1").await.unwrap().is_none());

    let (status, html) = get_as(&a, &root, "/admin").await;
    assert_eq!(status, StatusCode::OK);
    for part in [
        "id=\"user-list\"",
        "id=\"key-list\"",
        "东华门街道办事处",
        "北京市东城区房屋管理局",
        "id=\"rules\"",
        "直派属地街道",
        "id=\"categories\"",
    ] {
        assert!(html.contains(part), "{part}");
    }
    assert!(html.contains("href=\"/admin\""), "the nav links to 管理");
    let t = csrf_in(&html);

    // Create: checked by the shared rules, refused in words, kept in the form.
    let bad = [
        (("a b", "operator", ""), "名称须为"),
        (("k:x", "operator", ""), "名称须为"),
        (("zhang", "unit_handler", ""), "承办人和网格员须选择所属单位"),
        (("zhang", "unit_handler", "X9"), "单位代码 X9 不在单位目录中"),
        (("zhang", "operator", "S001"), "该角色不隶属于单位"),
        (("zhang", "citizen", ""), "请选择有效的角色"),
        (("zhang", "mayor", ""), "请选择有效的角色"),
    ];
    for ((name, role, unit), words) in bad {
        let (status, _, html) =
            post_as(&a, &root, "/admin/users", &[("csrf", &t), ("name", name), ("role", role), ("unit", unit)]).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{name} {role} {unit}");
        assert!(html.contains(words), "{name} {role} {unit}: {words}");
    }
    let (status, _, _) =
        post_as(&a, &root, "/admin/users", &[("csrf", &t), ("name", "zhang\u{1}"), ("role", "operator")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "control characters are refused at the edge");
    assert_eq!(a.store.users().await.unwrap().len(), 2, "nothing made");
    let (status, _, _) =
        post_as(&a, &root, "/admin/users", &[("csrf", "0123"), ("name", "zhang"), ("role", "operator")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, html) = post_as(
        &a,
        &root,
        "/admin/users",
        &[("csrf", &t), ("name", "zhang"), ("role", "unit_handler"), ("unit", "S001")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let first = secret_in(&html);
    assert_eq!(first.chars().count(), 14);
    assert!(!html.contains("$argon2") && !html.contains("password_hash"));
    let (status, v, _) = a.login("zhang", &first).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!((v["role"].as_str(), v["unit"].as_str()), (Some("unit_handler"), Some("S001")), "{v}");
    let (_, html) = get_as(&a, &root, "/admin").await;
    assert!(!html.contains(&first), "shown once only");
    assert!(html.contains("data-user=\"zhang\""));
    let (status, _, html) =
        post_as(&a, &root, "/admin/users", &[("csrf", &t), ("name", "zhang"), ("role", "operator")]).await;
    assert!(status == StatusCode::UNPROCESSABLE_ENTITY && html.contains("名称已被使用"));

    // Reset: a new one-time password; the old one stops working.
    let (_, _, html) = post_as(&a, &root, "/admin/users-password", &[("csrf", &t), ("name", "zhang")]).await;
    let second = secret_in(&html);
    assert_ne!(first, second);
    assert_eq!(a.login("zhang", &first).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(a.login("zhang", &second).await.0, StatusCode::OK);
    let (status, _, html) = post_as(&a, &root, "/admin/users-password", &[("csrf", &t), ("name", "nobody")]).await;
    assert!(status == StatusCode::UNPROCESSABLE_ENTITY && html.contains("没有名为 nobody 的账号"));

    // Disable and enable; not oneself.
    let (_, _, html) = post_as(&a, &root, "/admin/users-disable", &[("csrf", &t), ("name", "zhang")]).await;
    assert!(html.contains("已停用 zhang"), "{html}");
    assert_eq!(a.login("zhang", &second).await.0, StatusCode::UNAUTHORIZED);
    let (_, _, html) = post_as(&a, &root, "/admin/users-enable", &[("csrf", &t), ("name", "zhang")]).await;
    assert!(html.contains("已启用 zhang"));
    assert_eq!(a.login("zhang", &second).await.0, StatusCode::OK);
    let (status, _, html) = post_as(&a, &root, "/admin/users-disable", &[("csrf", &t), ("name", "root")]).await;
    assert!(status == StatusCode::UNPROCESSABLE_ENTITY && html.contains("不能停用自己"));
    assert_eq!(get_as(&a, &root, "/admin").await.0, StatusCode::OK);

    // API keys: made with the same rules, the secret once, listed by name with use, revoked.
    let (status, _, html) =
        post_as(&a, &root, "/admin/keys", &[("csrf", &t), ("name", "bot"), ("role", "operator"), ("unit", "S001")])
            .await;
    assert!(status == StatusCode::UNPROCESSABLE_ENTITY && html.contains("该角色不隶属于单位"));
    let (status, _, html) =
        post_as(&a, &root, "/admin/keys", &[("csrf", &t), ("name", "fixmystreet"), ("role", "citizen")]).await;
    assert_eq!(status, StatusCode::OK);
    let key = secret_in(&html);
    assert!(key.starts_with("jsk_"), "{key}");
    let (_, html) = get_as(&a, &root, "/admin").await;
    assert!(!html.contains(&key) && html.contains("data-key=\"fixmystreet\"") && html.contains("从未使用"));
    let hash: String =
        jiesu_store::testing::strings(&a.store, "SELECT key_hash FROM api_keys").await.unwrap().remove(0);
    assert!(!html.contains(&hash), "never the hash");
    let use_key = || {
        Request::get("/api/v1/cases")
            .header(header::AUTHORIZATION, format!("Bearer {key}"))
            .body(Body::empty())
            .unwrap()
    };
    assert_eq!(a.send_raw(use_key()).await.0, StatusCode::OK);
    let (_, html) = get_as(&a, &root, "/admin").await;
    assert!(!html.contains("从未使用"), "last use shown");
    let (_, _, html) = post_as(&a, &root, "/admin/keys-revoke", &[("csrf", &t), ("name", "fixmystreet")]).await;
    assert!(html.contains("已吊销 API 密钥 fixmystreet"));
    assert_eq!(a.send_raw(use_key()).await.0, StatusCode::UNAUTHORIZED);
    let (status, _, _) = post_as(&a, &root, "/admin/keys-revoke", &[("csrf", &t), ("name", "fixmystreet")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "already revoked");
    let (status, _, _) = post_as(&a, &root, "/admin/drop-tables", &[("csrf", &t)]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    a.store.close().await;
}

/// The one-time secret a page shows.
fn secret_in(html: &str) -> String {
    let at = html.find("id=\"secret\">").unwrap_or_else(|| panic!("no secret shown: {html}")) + 12;
    html[at..].split('<').next().unwrap().trim().to_string()
}

/// 考核申诉 and 核减 from the case page: the holding unit appeals with its grounds (none: refused
/// on the page), cannot rule itself; the supervisor rules 核减, the case shows it to both, and the
/// supervisor can take it back, after which the unit may appeal again.
async fn appeals(url: &str) {
    let a = TestApp::new(url, chrono::Utc::now()).await;
    let unit = session(&a, "s001-zhang", Role::UnitHandler, Some("S001")).await;
    let sup = session(&a, "sup-liu", Role::Supervisor, None).await;
    let id = file(&a, "东华门大街老旧小区楼道私搭乱建，堆放杂物，存在消防隐患", true).await;
    let path = format!("/cases/{id}");
    let act = format!("{path}/act");

    let (_, html) = get_as(&a, &unit, &path).await;
    assert!(html.contains("id=\"appeal-form\"") && !html.contains("id=\"rule-appeal-form\""), "{html}");
    let t = csrf_in(&html);
    let appeal = |note: &'static str| {
        vec![("csrf", t.clone()), ("action", "appeal".into()), ("reason", "not_ours".into()), ("note", note.into())]
    };
    let (status, _, html) = post_as(&a, &unit, &act, &pairs(&own(appeal("")))).await;
    assert_ne!(status, StatusCode::SEE_OTHER, "an appeal without grounds: {html}");
    let (status, location, _) = post_as(&a, &unit, &act, &pairs(&own(appeal("属园林部门职责")))).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, path.as_str()));
    let (_, html) = get_as(&a, &unit, &path).await;
    assert!(html.contains("非本单位职责") && html.contains("待裁定") && !html.contains("id=\"appeal-form\""), "{html}");
    let rule = |t: &str, excluded: &str| {
        own(vec![("csrf", t.to_string()), ("action", "rule_appeal".into()), ("excluded", excluded.into())])
    };
    let (status, _, _) = post_as(&a, &unit, &act, &pairs(&rule(&csrf_in(&html), "true"))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a unit does not rule on its own appeal");

    let (_, html) = get_as(&a, &sup, &path).await;
    assert!(html.contains("id=\"rule-appeal-form\""), "{html}");
    let t = csrf_in(&html);
    let (status, _, _) = post_as(&a, &sup, &act, &pairs(&rule(&t, "true"))).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    for who in [&unit, &sup] {
        let (_, html) = get_as(&a, who, &path).await;
        assert!(html.contains("已核减") && !html.contains("id=\"appeal-form\""), "{html}");
    }
    let (_, html) = get_as(&a, &sup, &path).await;
    assert!(html.contains("撤销核减"), "{html}");
    let (status, _, _) = post_as(&a, &sup, &act, &pairs(&rule(&t, "false"))).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, html) = get_as(&a, &unit, &path).await;
    assert!(html.contains("未核减") && html.contains("id=\"appeal-form\""), "{html}");
}

fn own(v: Vec<(&str, String)>) -> Vec<(String, String)> {
    v.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

#[tokio::test]
async fn appeals_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    appeals(&format!("sqlite://{}/jiesu.db", dir.path().display())).await;
}

#[tokio::test]
async fn appeals_on_postgres() {
    let Some(db) = jiesu_store::testing::scratch_postgres("console_appeals").await else { return };
    appeals(&db.url).await;
    db.drop().await;
}

#[tokio::test]
async fn summons_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    summons(&format!("sqlite://{}/jiesu.db", dir.path().display())).await;
}

#[tokio::test]
async fn summons_on_postgres() {
    let Some(db) = jiesu_store::testing::scratch_postgres("console_summons").await else { return };
    summons(&db.url).await;
    db.drop().await;
}

#[tokio::test]
async fn multi_dispatch_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    multi_dispatch(&format!("sqlite://{}/jiesu.db", dir.path().display())).await;
}

#[tokio::test]
async fn multi_dispatch_on_postgres() {
    let Some(db) = jiesu_store::testing::scratch_postgres("console_bulk").await else { return };
    multi_dispatch(&db.url).await;
    db.drop().await;
}

#[tokio::test]
async fn bulk_of_200_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    bulk_of_200(&format!("sqlite://{}/jiesu.db", dir.path().display()), "SQLite").await;
}

#[tokio::test]
async fn bulk_of_200_on_postgres() {
    let Some(db) = jiesu_store::testing::scratch_postgres("console_bulk200").await else { return };
    bulk_of_200(&db.url, "PostgreSQL").await;
    db.drop().await;
}

#[tokio::test]
async fn admin_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    admin(&format!("sqlite://{}/jiesu.db", dir.path().display())).await;
}

#[tokio::test]
async fn admin_on_postgres() {
    let Some(db) = jiesu_store::testing::scratch_postgres("console_admin").await else { return };
    admin(&db.url).await;
    db.drop().await;
}

// ---------------------------------------------------------------------------------------------
// In a browser.

/// Saves the page as `NAME-desktop.png` (1280×800) and `NAME-phone.png` (390×844), scrolled to
/// `css` when given (from the top otherwise).
async fn shot_at(c: &fantoccini::Client, name: &str, css: Option<&str>) {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).parent().unwrap().join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    for (size, w, h) in [("phone", 390, 844), ("desktop", 1280, 800)] {
        c.set_window_size(w, h).await.unwrap();
        let scroll = match css {
            Some(css) => format!("document.querySelector({css:?}).scrollIntoView()"),
            None => "window.scrollTo(0, 0)".to_string(),
        };
        c.execute(&scroll, vec![]).await.unwrap();
        std::fs::write(dir.join(format!("{name}-{size}.png")), c.screenshot().await.unwrap()).unwrap();
    }
    c.set_window_size(1280, 800).await.unwrap();
}

fn held_case(text: &str, street: &str) -> NewCase {
    NewCase {
        channel: Channel::Hotline,
        kind: CaseKind::Complaint,
        title: None,
        text: text.into(),
        category: "0101".into(),
        place: Place { street: Some(street.into()), address: Some("东四北大街".into()), ..Default::default() },
        contact: jiesu_domain::draft::Contact {
            name: Some("李四".into()),
            phone: Some("13900001111".into()),
            ..Default::default()
        },
        external_id: None,
    }
}

async fn browser_unit(url: &str) {
    let Some(driver) = chromedriver().await else { return };
    let store = jiesu_store::testing::connect(url).await.unwrap();
    let desk = Desk::new(store.clone(), Catalog::dongcheng(), Calendar::china(), Config::default());
    let now = chrono::Utc::now();
    for (name, role, unit) in [
        ("guan", Role::Admin, None),
        ("li", Role::Dispatcher, None),
        ("liu", Role::Dispatcher, None),
        ("zhao", Role::UnitHandler, Some("S006")),
        ("chen", Role::UnitHandler, Some("B03")),
    ] {
        store.create_user(name, role, unit, PASSWORD, now).await.unwrap();
    }
    // Cases waiting for 派单, and one the 东四 street office holds.
    let operator = Actor { user: "wang".into(), role: Role::Operator, unit: None };
    let mut held = Vec::new();
    for (i, what) in
        ["东四北大街商贩占道经营", "东四十条路口共享单车乱停放", "东四六条胡同堆物堵塞通道", "东四南大街夜市噪音扰民"]
            .iter()
            .enumerate()
    {
        let rec = desk
            .receive(operator.clone(), held_case(&format!("{what}，请尽快处理（{i}）"), "110101006"), now, false)
            .await
            .unwrap();
        held.push(rec.id);
    }
    let joint = desk
        .receive(
            operator.clone(),
            held_case("东四北大街一居民楼下违建彩钢房，占用消防通道，需房管、城管协同处置", "110101006"),
            now,
            true,
        )
        .await
        .unwrap();
    assert_eq!(joint.state.assignee.as_deref(), Some("S006"));
    desk.act(
        joint.id,
        Actor { user: "zhao".into(), role: Role::UnitHandler, unit: Some("S006".into()) },
        jiesu_core::Command::Accept,
        None,
        now,
    )
    .await
    .unwrap();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(AppState::new(desk), listener, async move {
        let _ = stopped.await;
    }));
    let (p1, p2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let s = Story { c: browser(&driver, p1.path()).await, base: base.clone() };
    let t = Story { c: browser(&driver, p2.path()).await, base };

    // 派单: two dispatchers select all on the page and send at the same moment.
    s.login("li", "/dispatch").await;
    t.login("liu", "/dispatch").await;
    for (story, unit) in [(&s, "S006"), (&t, "S005")] {
        story.css("#select-all").await.click().await.unwrap();
        assert_eq!(story.text("#selected-count").await, format!("已选 {} 件", held.len()));
        story.css("#bulk-unit").await.select_by_value(unit).await.unwrap();
    }
    shot_at(&s.c, "unit-01-dispatch-selected", None).await;
    let (a, b) = tokio::join!(s.submit("#bulk-send"), t.submit("#bulk-send"));
    let ((), ()) = (a, b);
    assert_eq!(s.path().await, "/dispatch/bulk");
    let done = |html: &str| html.matches("class=\"outcome-done\"").count();
    let (h1, h2) = (s.html().await, t.html().await);
    assert_eq!(done(&h1) + done(&h2), held.len(), "each case once:\n{h1}\n{h2}");
    for id in &held {
        let n = store
            .events_in(&Scope::All, *id)
            .await
            .unwrap()
            .iter()
            .filter(|e| matches!(e.action, Action::Dispatch { .. }))
            .count();
        assert_eq!(n, 1, "case {id}");
    }
    let loser = if done(&h1) < held.len() { &s } else { &t };
    assert!(loser.html().await.contains("已被他人处理"));
    shot_at(&loser.c, "unit-02-dispatch-result", None).await;
    s.logout().await;
    t.c.close().await.unwrap();

    // 吹哨: the street office summons two departments with a reason.
    let case_path = format!("/cases/{}", joint.id);
    s.login("zhao", "/inbox").await;
    s.goto(&case_path).await;
    s.css("#whistle-form input[value=B03]").await.click().await.unwrap();
    s.css("#whistle-form input[value=B01]").await.click().await.unwrap();
    s.css("#whistle-reason").await.send_keys("违建彩钢房需房管局认定、城管委拆除，请两部门到场").await.unwrap();
    s.submit("#whistle").await;
    assert_eq!(s.path().await, case_path);
    assert_eq!(s.c.find_all(Locator::Css("#joint .joint-item")).await.unwrap().len(), 2);
    assert!(s.text("#summons h2").await.contains("已报到 0 / 2"));
    shot_at(&s.c, "unit-03-case-summoned", Some("#summons")).await;
    s.logout().await;

    // 报到: the department finds it in its inbox and checks in with what it will do.
    s.login("chen", "/inbox").await;
    assert!(s.text("#summoned").await.contains("待报到"));
    shot_at(&s.c, "unit-04-inbox-summoned", Some("#summoned")).await;
    s.submit("#summoned a.checkin-link").await;
    assert_eq!(s.path().await, case_path);
    assert!(s.text("#contact").await.contains("139****1111"), "masked for the department");
    s.css("#checkin-note").await.send_keys("房管局已派两人到场，今日完成违建认定").await.unwrap();
    s.submit("#check-in").await;
    assert_eq!(s.text("[data-unit=B03] .checkin-state").await.split_whitespace().next(), Some("已报到"));
    s.logout().await;

    // The street office sees who checked in, when and what they reported.
    s.login("zhao", "/inbox").await;
    s.goto(&case_path).await;
    assert!(s.text("#summons h2").await.contains("已报到 1 / 2"));
    assert!(s.text("[data-unit=B03] .checkin-report").await.contains("今日完成违建认定"));
    assert!(s.text("[data-unit=B01] .checkin-state").await.contains("待报到"));
    shot_at(&s.c, "unit-05-case-summons", Some("#summons")).await;
    s.logout().await;

    // 管理: the administrator makes a user and is shown the password once.
    store.create_api_key("fixmystreet", Role::Citizen, None, now).await.unwrap();
    store.create_api_key("huoyan-sensors", Role::System, None, now).await.unwrap();
    store.revoke_api_key("huoyan-sensors", now).await.unwrap();
    s.login("guan", "/assessment").await;
    s.goto("/admin").await;
    shot_at(&s.c, "unit-06-admin", None).await;
    shot_at(&s.c, "unit-06-admin-keys", Some("#keys")).await;
    shot_at(&s.c, "unit-06-admin-catalog", Some("#categories")).await;
    s.css("#user-name").await.send_keys("zhou").await.unwrap();
    s.css("#user-role").await.select_by_value("grid_inspector").await.unwrap();
    s.css("#user-unit").await.select_by_value("S006").await.unwrap();
    s.submit("#create-user").await;
    let secret = s.text("#secret").await;
    assert_eq!(secret.chars().count(), 14);
    assert!(store.check_password("zhou", &secret).await.unwrap().is_some());
    shot_at(&s.c, "unit-07-admin-created", None).await;

    s.c.close().await.unwrap();
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn browser_unit_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    browser_unit(&format!("sqlite://{}/jiesu.db", dir.path().display())).await;
}

#[tokio::test]
async fn browser_unit_on_postgres() {
    let Some(db) = jiesu_store::testing::scratch_postgres("console_unit_browser").await else { return };
    browser_unit(&db.url).await;
    db.drop().await;
}
