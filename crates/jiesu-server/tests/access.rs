//! Who sees what, over real HTTP on SQLite and PostgreSQL: one unit cannot read, list, search,
//! count or act on another unit's case, nor see its timeline; a summoned unit can; a grid
//! inspector sees its street; a citizen key sees only its own cases; the citizen's contact stays
//! masked in every endpoint for the roles that must not see it; login is rate-limited; revoked
//! keys and ended sessions are refused.

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use chrono::Duration as Span;
use common::*;
use jiesu_core::{Config, Desk};
use jiesu_domain::calendar::Calendar;
use jiesu_domain::catalog::Catalog;
use jiesu_domain::model::Role;
use jiesu_server::{AppState, LoginLimits, RateLimiter, serve};
use serde_json::{Value, json};

const B03: Who = Some(("unit_handler", Some("B03")));
const B04: Who = Some(("unit_handler", Some("B04")));
const INSPECTOR_S001: Who = Some(("grid_inspector", Some("S001")));
const CITIZEN_A: Who = Some(("citizen", Some("app-a")));
const CITIZEN_B: Who = Some(("citizen", Some("app-b")));

/// The personal data of the cases filed here; none of it may show to a role that must not see it.
const SECRETS: [&str; 4] = ["13812345678", "张三", "zhangsan@example.com", "13912340000"];

fn case_body(street: &str, text: &str) -> Value {
    json!({
        "channel": "hotline", "kind": "complaint", "text": text, "category": street_category(),
        "place": { "street": street },
        "contact": { "name": "张三", "phone": "13812345678", "email": "zhangsan@example.com" }
    })
}

fn ids(v: &Value) -> Vec<i64> {
    let mut ids: Vec<i64> = v["cases"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect();
    ids.sort();
    ids
}

/// Asserts that no personal data appears in `text` (a raw response body).
fn masked(what: &str, status: StatusCode, text: &str) {
    assert!(status.is_success(), "{what}: {status} {text}");
    for s in SECRETS {
        assert!(!text.contains(s), "{what} shows {s}: {text}");
    }
}

async fn scoping(url: &str) {
    let a = TestApp::new(url, t("2026-11-02T01:00:00Z")).await;
    let (s, ca) = a.post(OPERATOR, "/api/v1/cases", case_body("110101001", "东华门大街占道经营")).await;
    assert_eq!((s, ca["assignee"].as_str()), (StatusCode::CREATED, Some("S001")), "{ca}");
    let (_, cb) = a.post(OPERATOR, "/api/v1/cases", case_body("110101002", "景山后街路灯不亮")).await;
    assert_eq!(cb["assignee"], "S002");
    let (id_a, id_b) = (ca["id"].as_i64().unwrap(), cb["id"].as_i64().unwrap());

    // S002 holds case B only: A is invisible to every read, search and action.
    let (_, v) = a.get(S002, "/api/v1/cases").await;
    assert_eq!((ids(&v), v["total"].as_u64()), (vec![id_b], Some(1)));
    for query in ["q=东华门", "street=110101001", "unit=S001", "status=dispatched&q=占道", "category=01"] {
        let (s, v) = a.get(S002, &format!("/api/v1/cases?{query}")).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert!(!ids(&v).contains(&id_a), "{query}: {v}");
    }
    let (_, v) = a.get(DISPATCHER, "/api/v1/cases?q=东华门").await;
    assert_eq!(ids(&v), [id_a], "the search itself works");
    for path in [format!("/api/v1/cases/{id_a}"), format!("/api/v1/cases/{id_a}/events")] {
        let (s, v) = a.get(S002, &path).await;
        error_of(s, &v, StatusCode::NOT_FOUND, "not_found");
    }
    for action in [json!({"action": "accept"}), json!({"action": "request_return", "note": "不是我们的"})] {
        let (s, v) = a.act(S002, id_a, action).await;
        error_of(s, &v, StatusCode::NOT_FOUND, "not_found");
    }
    let (_, v) = a.get(S002, "/api/v1/stats").await;
    assert_eq!(v["total"], 1, "{v}");
    let (_, v) = a.get(SUPERVISOR, "/api/v1/stats").await;
    assert_eq!(v["total"], 2, "{v}");

    // S001 takes A and summons department B03 (吹哨): B03 sees it, B04 does not.
    assert_eq!(a.act(S001, id_a, json!({"action": "accept"})).await.0, StatusCode::OK);
    let (s, v) = a.act(S001, id_a, json!({"action": "whistle", "units": ["B03"]})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = a.get(B03, &format!("/api/v1/cases/{id_a}")).await;
    assert_eq!((s, v["joint"][0]["unit"].as_str()), (StatusCode::OK, Some("B03")), "{v}");
    let (_, v) = a.get(B03, "/api/v1/cases?q=东华门").await;
    assert_eq!(ids(&v), [id_a]);
    assert_eq!(a.get(B03, &format!("/api/v1/cases/{id_a}/events")).await.0, StatusCode::OK);
    let (s, v) = a.act(B03, id_a, json!({"action": "check_in"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = a.get(B04, &format!("/api/v1/cases/{id_a}")).await;
    error_of(s, &v, StatusCode::NOT_FOUND, "not_found");
    let (s, v) = a.act(B04, id_a, json!({"action": "check_in"})).await;
    error_of(s, &v, StatusCode::NOT_FOUND, "not_found");

    // A grid inspector of S001 sees the cases on its street, not the others.
    let (_, v) = a.get(INSPECTOR_S001, "/api/v1/cases").await;
    assert_eq!(ids(&v), [id_a]);
    let (s, _) = a.get(INSPECTOR_S001, &format!("/api/v1/cases/{id_b}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Citizens: each key sees only the cases it filed.
    let mut mine = case_body("110101003", "交道口夜间施工噪声扰民");
    mine["channel"] = json!("app");
    mine["contact"]["phone"] = json!("13912340000");
    let (s, own) = a.post(CITIZEN_A, "/api/v1/cases", mine).await;
    assert_eq!(s, StatusCode::CREATED, "{own}");
    let id_own = own["id"].as_i64().unwrap();
    let (_, v) = a.get(CITIZEN_A, "/api/v1/cases").await;
    assert_eq!(ids(&v), [id_own]);
    assert_eq!(a.get(CITIZEN_A, &format!("/api/v1/cases/{id_own}")).await.0, StatusCode::OK);
    assert_eq!(a.get(CITIZEN_A, &format!("/api/v1/cases/{id_a}")).await.0, StatusCode::NOT_FOUND);
    let (_, v) = a.get(CITIZEN_B, "/api/v1/cases").await;
    assert_eq!(ids(&v), Vec::<i64>::new());
    assert_eq!(a.get(CITIZEN_B, &format!("/api/v1/cases/{id_own}")).await.0, StatusCode::NOT_FOUND);
    assert_eq!(a.get(CITIZEN_B, &format!("/api/v1/cases/{id_own}/events")).await.0, StatusCode::NOT_FOUND);
    let (s, v) = a.get(CITIZEN_A, "/api/v1/assessment").await;
    error_of(s, &v, StatusCode::FORBIDDEN, "forbidden");

    // Personal data: masked in every endpoint for unit handlers, inspectors and citizens.
    for who in [S001, B03, INSPECTOR_S001, CITIZEN_A] {
        let label = format!("{who:?}");
        for path in
            ["/api/v1/cases".to_string(), "/api/v1/cases?q=东华门".into(), "/api/v1/stats".into(), "/api/v1/me".into()]
        {
            let (s, text) = a.get_text(who, &path).await;
            masked(&format!("{label} GET {path}"), s, &text);
        }
        let id = if who == CITIZEN_A { id_own } else { id_a };
        for path in [format!("/api/v1/cases/{id}"), format!("/api/v1/cases/{id}/events")] {
            let (s, text) = a.get_text(who, &path).await;
            masked(&format!("{label} GET {path}"), s, &text);
        }
    }
    let (s, text) = a
        .post_text(S001, &format!("/api/v1/cases/{id_a}/actions"), json!({"action": "handle", "contacted": true}))
        .await;
    masked("unit handler's action", s, &text);
    let (s, text) = a.post_text(CITIZEN_A, "/api/v1/cases", case_body("110101003", "又一个诉求")).await;
    masked("citizen's new case", s, &text);
    let mut found = case_body("110101001", "巡查发现井盖缺失");
    found["channel"] = json!("grid");
    let (s, text) = a.post_text(INSPECTOR_S001, "/api/v1/cases", found).await;
    masked("inspector's new case", s, &text);
    let (_, v) = a.get(S001, &format!("/api/v1/cases/{id_a}")).await;
    assert_eq!((v["contact"]["phone"].as_str(), v["contact_masked"].as_bool()), (Some("138****5678"), Some(true)));
    // … and in full for the roles that call citizens back.
    for who in [OPERATOR, DISPATCHER, SUPERVISOR] {
        let (_, text) = a.get_text(who, &format!("/api/v1/cases/{id_a}")).await;
        assert!(text.contains("13812345678") && text.contains("zhangsan@example.com"), "{who:?}: {text}");
    }

    // A revoked key is refused from then on.
    assert!(a.store.revoke_api_key("citizen-app-a", a.now()).await.unwrap());
    let (s, v) = a.get(CITIZEN_A, "/api/v1/cases").await;
    error_of(s, &v, StatusCode::UNAUTHORIZED, "unauthenticated");
    a.store.close().await;
}

#[tokio::test]
async fn scoping_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    scoping(&format!("sqlite://{}/jiesu.db", dir.path().display())).await;
}

#[tokio::test]
async fn scoping_on_postgres() {
    let Some(db) = jiesu_store::testing::scratch_postgres("access").await else { return };
    scoping(&db.url).await;
    db.drop().await;
}

async fn sessions(url: &str) {
    let a = TestApp::new(url, t("2026-11-02T01:00:00Z")).await;
    a.store.create_user("wang", Role::Dispatcher, None, PASSWORD, a.now()).await.unwrap();
    let (s, v, cookie) = a.login("wang", "wrong password").await;
    assert!(error_of(s, &v, StatusCode::UNAUTHORIZED, "bad_credentials")["message"] == "wrong name or password");
    assert!(cookie.is_none());
    let (s, v, _) = a.login("nobody", PASSWORD).await;
    error_of(s, &v, StatusCode::UNAUTHORIZED, "bad_credentials");

    let req = Request::post("/api/v1/login")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(json!({"name": "wang", "password": PASSWORD}).to_string()))
        .unwrap();
    let (s, headers, body) = a.send_raw(req).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let set = headers[header::SET_COOKIE].to_str().unwrap();
    for part in ["jiesu_session=", "HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"] {
        assert!(set.contains(part), "{set}");
    }
    let cookie = set.split(';').next().unwrap().to_string();
    let me = |cookie: String| async {
        let req = Request::get("/api/v1/me").header(header::COOKIE, cookie).body(Body::empty()).unwrap();
        a.send(req).await
    };
    let (s, v) = me(cookie.clone()).await;
    assert_eq!(
        (s, v["name"].as_str(), v["role"].as_str(), v["via"].as_str()),
        (StatusCode::OK, Some("wang"), Some("dispatcher"), Some("session"))
    );
    assert_eq!(v["expires_at"], "2026-11-02T21:00:00+08:00");

    // Logout ends the session; a session also ends after its time, or when the user is disabled.
    let req = Request::post("/api/v1/logout").header(header::COOKIE, cookie.clone()).body(Body::empty()).unwrap();
    let (s, headers, _) = a.send_raw(req).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert!(headers[header::SET_COOKIE].to_str().unwrap().contains("Max-Age=0"));
    let (s, v) = me(cookie).await;
    error_of(s, &v, StatusCode::UNAUTHORIZED, "unauthenticated");
    let (_, _, cookie) = a.login("wang", PASSWORD).await;
    let cookie = cookie.unwrap();
    a.advance(Span::hours(12));
    let (s, v) = me(cookie).await;
    error_of(s, &v, StatusCode::UNAUTHORIZED, "unauthenticated");
    let (_, _, cookie) = a.login("wang", PASSWORD).await;
    a.store.set_user_disabled("wang", true).await.unwrap();
    let (s, _) = me(cookie.unwrap()).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _, _) = a.login("wang", PASSWORD).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "disabled users cannot log in");
    a.store.close().await;
}

#[tokio::test]
async fn sessions_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    sessions(&format!("sqlite://{}/jiesu.db", dir.path().display())).await;
}

#[tokio::test]
async fn sessions_on_postgres() {
    let Some(db) = jiesu_store::testing::scratch_postgres("sessions").await else { return };
    sessions(&db.url).await;
    db.drop().await;
}

#[tokio::test]
async fn login_attempts_are_limited_per_name() {
    let dir = tempfile::tempdir().unwrap();
    let a = TestApp::new(&format!("sqlite://{}/jiesu.db", dir.path().display()), t("2026-11-02T01:00:00Z")).await;
    a.store.create_user("wang", Role::Operator, None, PASSWORD, a.now()).await.unwrap();
    for _ in 0..5 {
        let (s, _, _) = a.login("wang", "guess").await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    // The sixth attempt in the minute is refused before the password is even checked.
    let req = Request::post("/api/v1/login")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(json!({"name": "wang", "password": PASSWORD}).to_string()))
        .unwrap();
    let (s, headers, body) = a.send_raw(req).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(headers[header::RETRY_AFTER].to_str().unwrap().parse::<u64>().unwrap() >= 1);
    assert!(body.contains("too_many_requests"), "{body}");
    // Another name is not held up by it.
    a.store.create_user("li", Role::Operator, None, PASSWORD, a.now()).await.unwrap();
    assert_eq!(a.login("li", PASSWORD).await.0, StatusCode::OK);
}

/// Per-IP limits need a real connection (the peer address): a real socket here.
#[tokio::test]
async fn login_attempts_are_limited_per_client_ip() {
    let dir = tempfile::tempdir().unwrap();
    let store = jiesu_store::testing::connect(&format!("sqlite://{}/jiesu.db", dir.path().display())).await.unwrap();
    let desk = Desk::new(store, Catalog::dongcheng(), Calendar::china(), Config::default());
    let mut state = AppState::new(desk);
    state.login_limits = LoginLimits { by_name: RateLimiter::per_minute(100), by_ip: RateLimiter::per_minute(3) };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(state, listener, async {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::new();
    let mut statuses = Vec::new();
    for i in 0..4 {
        let r = client
            .post(format!("http://{addr}/api/v1/login"))
            .json(&json!({"name": format!("user{i}"), "password": "guess"}))
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 429]);
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), server).await.expect("shuts down").unwrap().unwrap();
}

/// `POST /intake/suggest` looks for duplicates only among the cases the caller may read, and
/// masks the candidates' titles (made from the citizen's words) for roles that do not see the
/// contact.
async fn suggest_is_scoped(url: &str) {
    let a = TestApp::new(url, t("2026-11-02T01:00:00Z")).await;
    let at = |street: &str| {
        let mut b = case_body(street, "我是张三，电话13812345678，美术馆后街路灯不亮，晚上很黑");
        b["place"] = json!({ "street": street, "lat": 39.93, "lon": 116.41 });
        b
    };
    let (s, ca) = a.post(OPERATOR, "/api/v1/cases", at("110101001")).await;
    assert_eq!((s, ca["assignee"].as_str()), (StatusCode::CREATED, Some("S001")), "{ca}");
    let (s, cb) = a.post(OPERATOR, "/api/v1/cases", at("110101002")).await;
    assert_eq!((s, cb["assignee"].as_str()), (StatusCode::CREATED, Some("S002")), "{cb}");
    let (id_a, id_b) = (ca["id"].as_i64().unwrap(), cb["id"].as_i64().unwrap());
    let draft = json!({ "text": "美术馆后街路灯不亮，晚上很黑", "place": { "lat": 39.9301, "lon": 116.4101 } });
    let candidates = |v: &Value| {
        let mut ids: Vec<i64> =
            v["duplicates"].as_array().unwrap().iter().map(|d| d["case_id"].as_i64().unwrap()).collect();
        ids.sort();
        ids
    };
    let (s, text) = a.post_text(OPERATOR, "/api/v1/intake/suggest", draft.clone()).await;
    assert_eq!(s, StatusCode::OK, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(candidates(&v), [id_a, id_b], "the desk sees every case: {v}");
    assert!(text.contains("13812345678"), "operators see the contact, in titles too: {text}");
    for (who, expected) in [(S001, id_a), (S002, id_b), (INSPECTOR_S001, id_a)] {
        let (s, text) = a.post_text(who, "/api/v1/intake/suggest", draft.clone()).await;
        masked(&format!("{who:?} suggest"), s, &text);
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(candidates(&v), [expected], "{who:?}: {v}");
        assert!(v["duplicates"][0]["title"].as_str().unwrap().contains("138****5678"), "{v}");
    }
    // A department that holds nothing sees no candidate at all.
    let (s, v) = a.post(B03, "/api/v1/intake/suggest", draft).await;
    assert_eq!((s, candidates(&v)), (StatusCode::OK, vec![]), "{v}");
    a.store.close().await;
}

#[tokio::test]
async fn suggest_is_scoped_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    suggest_is_scoped(&format!("sqlite://{}/jiesu.db", dir.path().display())).await;
}

#[tokio::test]
async fn suggest_is_scoped_on_postgres() {
    let Some(db) = jiesu_store::testing::scratch_postgres("suggest_scope").await else { return };
    suggest_is_scoped(&db.url).await;
    db.drop().await;
}

/// An id that no case has.
const MISSING: i64 = 987_654;

/// `text` with `id` written as `{ID}` (so that answers about two ids can be compared).
fn with_id(text: &str, id: i64) -> String {
    text.replace(&id.to_string(), "{ID}")
}

/// Out of scope looks exactly like missing: for every route that takes a case id (and the
/// master of a merge), the answer about a case the actor may not see is byte for byte the answer
/// about a case that does not exist, with the id substituted.
async fn out_of_scope_reads_like_missing(url: &str) {
    let a = TestApp::new(url, t("2026-11-02T01:00:00Z")).await;
    let (_, ca) = a.post(OPERATOR, "/api/v1/cases", case_body("110101001", "东华门大街占道经营")).await;
    let id_a = ca["id"].as_i64().unwrap();
    let mut mine = case_body("110101003", "交道口夜间施工噪声扰民");
    mine["channel"] = json!("app");
    let (_, own_a) = a.post(CITIZEN_A, "/api/v1/cases", mine.clone()).await;
    let (_, own_b) = a.post(CITIZEN_B, "/api/v1/cases", mine).await;
    let (own_a, own_b) = (own_a["id"].as_i64().unwrap(), own_b["id"].as_i64().unwrap());
    // A closed case, out of the citizens' scope: a merge into it must not say it is closed.
    let (_, closed) = a.post(OPERATOR, "/api/v1/cases", case_body("110101002", "景山后街路灯不亮")).await;
    let closed = closed["id"].as_i64().unwrap();
    let (s, v) = a.act(OPERATOR, closed, json!({"action": "merge", "into": id_a})).await;
    assert_eq!(s, StatusCode::OK, "{v}");

    let actions = [
        json!({"action": "accept"}),
        json!({"action": "handle", "contacted": true}),
        json!({"action": "reply", "note": "已处理"}),
        json!({"action": "request_return", "note": "不归我们"}),
        json!({"action": "callback", "reached": true, "responded": true, "solved": true, "satisfaction": "satisfied"}),
        json!({"action": "dispatch", "unit": "S002"}),
        json!({"action": "bogus"}),
    ];
    let mut compared = 0;
    for (who, hidden) in [(S002, id_a), (B03, id_a), (INSPECTOR_S001, own_a), (CITIZEN_B, id_a), (CITIZEN_B, own_a)] {
        let mut probes: Vec<(Method, String, Option<Value>)> =
            vec![(Method::GET, "/api/v1/cases/{}".into(), None), (Method::GET, "/api/v1/cases/{}/events".into(), None)];
        for body in &actions {
            probes.push((Method::POST, "/api/v1/cases/{}/actions".into(), Some(body.clone())));
        }
        for (method, path, body) in probes {
            let mut answers = Vec::new();
            for id in [hidden, MISSING] {
                let req = a
                    .request(
                        method.clone(),
                        &path.replace("{}", &id.to_string()),
                        who,
                        body.as_ref().map(Value::to_string),
                    )
                    .await;
                let (s, headers, text) = a.send_raw(req).await;
                answers.push((s, headers.get(header::CONTENT_TYPE).cloned(), with_id(&text, id)));
            }
            assert_eq!(answers[0], answers[1], "{who:?} {method} {path} {body:?}");
            assert!(answers[0].0.is_client_error(), "{answers:?}");
            compared += 1;
        }
    }
    // The master of a merge: a citizen and a unit handler (who may not merge) and out-of-scope
    // masters, open and closed.
    let (_, held) = a.post(OPERATOR, "/api/v1/cases", case_body("110101002", "景山后街井盖缺失")).await;
    let held = held["id"].as_i64().unwrap();
    for (who, from, hidden) in [(CITIZEN_B, own_b, vec![closed, id_a, own_a]), (S002, held, vec![id_a, own_a])] {
        let (s, text) = a
            .post_text(who, &format!("/api/v1/cases/{from}/actions"), json!({"action": "merge", "into": MISSING}))
            .await;
        let missing = (s, with_id(&text, MISSING));
        for into in hidden {
            let (s, text) = a
                .post_text(who, &format!("/api/v1/cases/{from}/actions"), json!({"action": "merge", "into": into}))
                .await;
            assert_eq!((s, with_id(&text, into)), missing, "{who:?} merge into {into}");
            compared += 1;
        }
    }
    assert!(compared > 40);
    a.store.close().await;
}

#[tokio::test]
async fn out_of_scope_reads_like_missing_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    out_of_scope_reads_like_missing(&format!("sqlite://{}/jiesu.db", dir.path().display())).await;
}

#[tokio::test]
async fn out_of_scope_reads_like_missing_on_postgres() {
    let Some(db) = jiesu_store::testing::scratch_postgres("scope_missing").await else { return };
    out_of_scope_reads_like_missing(&db.url).await;
    db.drop().await;
}

/// A citizen reads the steps of their own case as Open311 publishes them: no staff names, no
/// working notes, no internal steps (退单, 督办), the reply's text.
async fn citizens_read_the_public_steps(url: &str) {
    let a = TestApp::new(url, t("2026-11-02T01:00:00Z")).await;
    let mut body = case_body("110101001", "东华门大街夜间施工噪声扰民");
    body["channel"] = json!("app");
    let (s, c) = a.post(CITIZEN_A, "/api/v1/cases", body).await;
    assert_eq!((s, c["assignee"].as_str()), (StatusCode::CREATED, Some("S001")), "{c}");
    let id = c["id"].as_i64().unwrap();
    let steps = [
        (S001, json!({"action": "accept"})),
        (S001, json!({"action": "request_return", "note": "内部意见：王科长认为不归我们"})),
        (DISPATCHER, json!({"action": "refuse_return", "note": "内部：属地管理，驳回"})),
        (SUPERVISOR, json!({"action": "supervise", "note": "内部督办：尽快处理"})),
        (S001, json!({"action": "handle", "contacted": true, "note": "内部备注：已电话联系"})),
        (S001, json!({"action": "reply", "note": "已责令施工方夜间停工"})),
    ];
    for (who, step) in steps {
        let (s, v) = a.act(who, id, step.clone()).await;
        assert_eq!(s, StatusCode::OK, "{step}: {v}");
    }
    let (s, text) = a.get_text(CITIZEN_A, &format!("/api/v1/cases/{id}/events")).await;
    assert_eq!(s, StatusCode::OK, "{text}");
    for secret in ["内部", "unit_handler-", "dispatcher-", "supervisor-", "router", "\"rule\"", "\"intake\""] {
        assert!(!text.contains(secret), "a citizen reads {secret}: {text}");
    }
    let v: Value = serde_json::from_str(&text).unwrap();
    let events = v["events"].as_array().unwrap();
    let actions: Vec<&str> = events.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["receive", "dispatch", "accept", "handle", "reply"], "{v}");
    let users: Vec<&str> = events.iter().map(|e| e["actor"]["user"].as_str().unwrap()).collect();
    assert_eq!(users, ["市民", "12345", "承办单位", "承办单位", "承办单位"]);
    assert_eq!(events[4]["note"], "已责令施工方夜间停工");
    // Staff still read everything.
    let (_, v) = a.get(DISPATCHER, &format!("/api/v1/cases/{id}/events")).await;
    assert_eq!(v["events"].as_array().unwrap().len(), 8, "{v}");
    assert!(v.to_string().contains("内部督办"), "{v}");
    // Open311 publishes the same steps, by the same rule.
    let (s, text) = a.get_text(NOBODY, &format!("/open311/v2/requests/{id}.json?extensions=true")).await;
    assert_eq!(s, StatusCode::OK, "{text}");
    assert!(!text.contains("内部"), "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    let notes = v[0]["notes"].as_array().unwrap();
    assert_eq!(notes.len(), actions.len(), "{v}");
    assert_eq!(notes[4]["description"], "已责令施工方夜间停工");
    let (_, text) = a.get_text(NOBODY, "/open311/v2/servicerequestupdates.json").await;
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v.as_array().unwrap().len(), actions.len(), "{v}");
    assert!(!text.contains("内部"), "{text}");
    a.store.close().await;
}

#[tokio::test]
async fn citizens_read_the_public_steps_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    citizens_read_the_public_steps(&format!("sqlite://{}/jiesu.db", dir.path().display())).await;
}

#[tokio::test]
async fn citizens_read_the_public_steps_on_postgres() {
    let Some(db) = jiesu_store::testing::scratch_postgres("public_steps").await else { return };
    citizens_read_the_public_steps(&db.url).await;
    db.drop().await;
}

/// The reveals of case `id`'s contact so far: (user, role, unit).
async fn reveals(a: &TestApp, id: i64) -> Vec<(String, String, Option<String>)> {
    let list = a.store.contact_accesses(id).await.unwrap();
    list.into_iter().map(|x| (x.actor.user, x.actor.role.code().to_string(), x.actor.unit)).collect()
}

/// Who may see the citizen: the unit holding an open case on request (each reveal recorded),
/// nobody else but the desk; a confidential case (保密) only the desk.
async fn who_sees_the_citizen(url: &str) {
    let a = TestApp::new(url, t("2026-11-02T01:00:00Z")).await;
    let (_, c) = a.post(OPERATOR, "/api/v1/cases", case_body("110101001", "东华门大街占道经营")).await;
    let id = c["id"].as_i64().unwrap();
    let contact = |id: i64| format!("/api/v1/cases/{id}/contact");

    // The holding unit's views stay masked (an inbox reveals nobody) but say it may ask.
    let (_, v) = a.get(S001, &format!("/api/v1/cases/{id}")).await;
    assert_eq!((v["contact"]["phone"].as_str(), v["contact_on_request"].as_bool()), (Some("138****5678"), Some(true)));
    let (s, text) = a.get_text(S001, "/api/v1/cases").await;
    masked("S001 inbox", s, &text);
    assert_eq!(reveals(&a, id).await, []);
    // … and asking shows it in full, recorded.
    let (s, v) = a.get(S001, &contact(id)).await;
    assert_eq!(
        (s, v["contact"]["phone"].as_str(), v["confidential"].as_bool()),
        (StatusCode::OK, Some("13812345678"), Some(false)),
        "{v}"
    );
    assert_eq!(
        reveals(&a, id).await,
        [("unit_handler-S001".to_string(), "unit_handler".to_string(), Some("S001".to_string()))]
    );
    // Nobody else but the desk: another unit (not found), a summoned unit, an inspector.
    let (s, v) = a.get(S002, &contact(id)).await;
    error_of(s, &v, StatusCode::NOT_FOUND, "not_found");
    let (s, _) = a.get(DISPATCHER, &contact(id)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(reveals(&a, id).await.len(), 2, "the desk's reveals are recorded too");

    // Once the case leaves the unit, the unit sees it no more; the new holder does.
    assert_eq!(a.act(S001, id, json!({"action": "accept"})).await.0, StatusCode::OK);
    assert_eq!(a.act(S001, id, json!({"action": "request_return", "note": "不归我们"})).await.0, StatusCode::OK);
    assert_eq!(a.act(DISPATCHER, id, json!({"action": "approve_return"})).await.0, StatusCode::OK);
    assert_eq!(a.act(DISPATCHER, id, json!({"action": "dispatch", "unit": "S002"})).await.0, StatusCode::OK);
    let (s, _) = a.get(S001, &contact(id)).await;
    assert!(s == StatusCode::FORBIDDEN || s == StatusCode::NOT_FOUND, "{s}");
    assert_eq!(a.get(S002, &contact(id)).await.0, StatusCode::OK);
    // A summoned unit and an inspector of the street do not see it.
    assert_eq!(a.act(S002, id, json!({"action": "accept"})).await.0, StatusCode::OK);
    let (s, v) = a.act(S002, id, json!({"action": "whistle", "units": ["B03"]})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, v) = a.get(B03, &format!("/api/v1/cases/{id}")).await;
    assert_eq!(v["contact_on_request"], false, "{v}");
    for who in [B03, INSPECTOR_S001] {
        let (s, v) = a.get(who, &contact(id)).await;
        error_of(s, &v, StatusCode::FORBIDDEN, "forbidden");
    }
    // … nor after it closes.
    assert_eq!(a.act(B03, id, json!({"action": "check_in"})).await.0, StatusCode::OK);
    let (s, v) = a.act(S002, id, json!({"action": "reply", "note": "已处理"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let callback =
        json!({"action": "callback", "reached": true, "responded": true, "solved": true, "satisfaction": "satisfied"});
    assert_eq!(a.act(OPERATOR, id, callback).await.0, StatusCode::OK);
    assert_eq!(a.act(OPERATOR, id, json!({"action": "close"})).await.0, StatusCode::OK);
    let (s, v) = a.get(S002, &contact(id)).await;
    error_of(s, &v, StatusCode::FORBIDDEN, "forbidden");
    let (_, v) = a.get(S002, &format!("/api/v1/cases/{id}")).await;
    assert_eq!((v["contact"]["phone"].as_str(), v["contact_on_request"].as_bool()), (Some("138****5678"), Some(false)));

    // The record: who, when, which case — for supervisors.
    let (s, v) = a.get(SUPERVISOR, &format!("/api/v1/cases/{id}/contact/accesses")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let users: Vec<&str> = v.as_array().unwrap().iter().map(|x| x["user"].as_str().unwrap()).collect();
    assert_eq!(users, ["unit_handler-S001", "dispatcher-1", "unit_handler-S002"]);
    assert_eq!(v[0]["at"], "2026-11-02T09:00:00+08:00");
    let (s, v) = a.get(S002, &format!("/api/v1/cases/{id}/contact/accesses")).await;
    error_of(s, &v, StatusCode::FORBIDDEN, "forbidden");

    // 保密: no unit sees the contact, only the 12345 desk (operators, dispatchers).
    let mut secret = case_body("110101001", "反映某商户违规经营，请为我保密");
    secret["contact"]["confidential"] = json!(true);
    let (s, c) = a.post(OPERATOR, "/api/v1/cases", secret).await;
    assert_eq!((s, c["contact"]["phone"].as_str()), (StatusCode::CREATED, Some("13812345678")), "{c}");
    let sid = c["id"].as_i64().unwrap();
    let (_, v) = a.get(S001, &format!("/api/v1/cases/{sid}")).await;
    assert_eq!(
        (v["contact_on_request"].as_bool(), v["contact"]["confidential"].as_bool()),
        (Some(false), Some(true)),
        "{v}"
    );
    let (s, v) = a.get(S001, &contact(sid)).await;
    assert!(error_of(s, &v, StatusCode::FORBIDDEN, "forbidden")["message"].as_str().unwrap().contains("保密"));
    let (s, text) = a.get_text(SUPERVISOR, &format!("/api/v1/cases/{sid}")).await;
    masked("a supervisor, for a confidential case", s, &text);
    assert_eq!(a.get(SUPERVISOR, &contact(sid)).await.0, StatusCode::FORBIDDEN);
    for who in [OPERATOR, DISPATCHER] {
        let (s, v) = a.get(who, &contact(sid)).await;
        assert_eq!((s, v["contact"]["phone"].as_str()), (StatusCode::OK, Some("13812345678")), "{who:?}");
    }
    // A 举报 is confidential by its kind.
    let mut report = case_body("110101001", "举报某单位违规");
    report["kind"] = json!("report");
    let (_, c) = a.post(OPERATOR, "/api/v1/cases", report).await;
    assert_eq!(a.get(S001, &contact(c["id"].as_i64().unwrap())).await.0, StatusCode::FORBIDDEN);
    a.store.close().await;
}

#[tokio::test]
async fn who_sees_the_citizen_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    who_sees_the_citizen(&format!("sqlite://{}/jiesu.db", dir.path().display())).await;
}

#[tokio::test]
async fn who_sees_the_citizen_on_postgres() {
    let Some(db) = jiesu_store::testing::scratch_postgres("who_sees").await else { return };
    who_sees_the_citizen(&db.url).await;
    db.drop().await;
}

/// One owner identity per API key: a citizen key reads through the JSON API the requests it
/// filed through Open311.
async fn one_owner_per_key(url: &str) {
    let a = TestApp::new(url, t("2026-11-02T01:00:00Z")).await;
    let (_, bearer) = a.credential(CITIZEN_A).await.unwrap();
    let secret = bearer.strip_prefix("Bearer ").unwrap().to_string();
    let form: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("api_key", secret.as_str()),
            ("service_code", street_category().as_str()),
            ("lat", "39.93"),
            ("long", "116.41"),
            ("address_id", "110101001"),
            ("description", "东华门大街占道经营"),
            ("phone", "13812345678"),
        ])
        .finish();
    let req = Request::post("/open311/v2/requests.json")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form))
        .unwrap();
    let (s, _, text) = a.send_raw(req).await;
    assert_eq!(s, StatusCode::CREATED, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    let id: i64 = v[0]["service_request_id"].as_str().unwrap().parse().unwrap();
    let (_, v) = a.get(CITIZEN_A, "/api/v1/cases").await;
    assert_eq!(ids(&v), [id], "{v}");
    assert_eq!(a.get(CITIZEN_A, &format!("/api/v1/cases/{id}/events")).await.0, StatusCode::OK);
    assert_eq!(a.get(CITIZEN_B, &format!("/api/v1/cases/{id}")).await.0, StatusCode::NOT_FOUND);
    a.store.close().await;
}

#[tokio::test]
async fn one_owner_per_key_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    one_owner_per_key(&format!("sqlite://{}/jiesu.db", dir.path().display())).await;
}

#[tokio::test]
async fn one_owner_per_key_on_postgres() {
    let Some(db) = jiesu_store::testing::scratch_postgres("one_owner").await else { return };
    one_owner_per_key(&db.url).await;
    db.drop().await;
}
