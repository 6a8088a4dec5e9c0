//! The HTTP API, in process (`oneshot` on the router): one story told on SQLite in a temp dir,
//! and on PostgreSQL when `DATABASE_URL` names one (a fresh database per run, dropped after);
//! the rejections, each with the one JSON error shape; a real socket with graceful shutdown; and
//! the background deadline sweeper.

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::*;
use jiesu_core::{Config, Desk};
use jiesu_domain::calendar::Calendar;
use jiesu_domain::catalog::Catalog;
use jiesu_domain::draft::{Contact, NewCase, Place};
use jiesu_domain::model::{CaseKind, Channel};
use jiesu_domain::workflow::Actor;
use jiesu_server::{AppState, serve, spawn_deadline_sweeper};
use jiesu_store::Store;
use serde_json::{Value, json};

/// The whole loop over HTTP, with the reads and rejections on the way.
async fn story(url: &str) {
    let a = TestApp::new(url, t("2026-09-29T02:00:00Z")).await;
    let cat = street_category();

    let (s, v) = a.get(NOBODY, "/api/v1/health").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["status"], "ok");
    assert_eq!(v["backend"], if url.starts_with("sqlite") { "sqlite" } else { "postgres" });
    assert_eq!(v["cases"], 0);

    // 受理 + 直派 by an operator.
    let (s, c) = a.post(OPERATOR, "/api/v1/cases", new_case_body(&cat)).await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    let id = c["id"].as_i64().unwrap();
    assert_eq!(c["number"], format!("DC20260929{id:06}"));
    assert_eq!((c["status"].as_str(), c["status_label"].as_str()), (Some("dispatched"), Some("已派单")));
    assert_eq!((c["channel_label"].as_str(), c["kind_label"].as_str()), (Some("12345热线"), Some("投诉")));
    assert_eq!((c["assignee"].as_str(), c["assignee_name"].as_str()), (Some("S001"), Some("东华门街道办事处")));
    assert_eq!(c["due"], "2026-10-15T00:00:00+08:00");
    assert_eq!(c["received_at"], "2026-09-29T10:00:00+08:00");
    assert_eq!(c["place"]["street_name"], "东华门街道");
    assert_eq!(c["contact"]["phone"], "13812345678");
    assert_eq!(c["overdue"], false);

    // A rejected create writes nothing and lists every bad field.
    let mut bad = new_case_body("9999");
    bad["place"]["lat"] = json!(123.0);
    let (s, v) = a.post(OPERATOR, "/api/v1/cases", bad).await;
    let e = error_of(s, &v, StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(fields(&e), ["category", "place.lat"]);
    let mut bad = new_case_body(&cat);
    bad["channel"] = json!("pigeon");
    let (s, v) = a.post(OPERATOR, "/api/v1/cases", bad).await;
    assert_eq!(fields(&error_of(s, &v, StatusCode::UNPROCESSABLE_ENTITY, "invalid")), ["channel"]);
    assert_eq!(a.count().await, 1);

    // Listing with filters.
    let (s, v) = a
        .get(DISPATCHER, "/api/v1/cases?status=dispatched,received&street=110101001&from=2026-09-29&to=2026-09-29")
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (v["total"].as_u64(), v["cases"][0]["id"].as_i64(), &v["next_before"]),
        (Some(1), Some(id), &Value::Null)
    );
    let (s, v) = a.get(DISPATCHER, "/api/v1/cases?from=2026-09-30").await;
    assert_eq!((s, v["total"].as_u64()), (StatusCode::OK, Some(0)));
    let (s, v) = a.get(DISPATCHER, "/api/v1/cases?from=yesterday").await;
    assert_eq!(fields(&error_of(s, &v, StatusCode::BAD_REQUEST, "bad_request")), ["from"]);
    let (s, v) = a.get(DISPATCHER, "/api/v1/cases?limit=500").await;
    assert_eq!(fields(&error_of(s, &v, StatusCode::BAD_REQUEST, "bad_request")), ["limit"]);
    let (s, v) = a.get(DISPATCHER, "/api/v1/cases?status=lost").await;
    assert_eq!(fields(&error_of(s, &v, StatusCode::BAD_REQUEST, "bad_request")), ["status"]);
    let (s, v) = a.get(S001, "/api/v1/cases").await;
    assert_eq!((s, v["total"].as_u64()), (StatusCode::OK, Some(1)));
    let (s, v) = a.get(S002, "/api/v1/cases").await;
    assert_eq!((s, v["total"].as_u64()), (StatusCode::OK, Some(0)));

    // The unit handler sees the contact masked; the operator in full.
    let case_path = format!("/api/v1/cases/{id}");
    let (s, v) = a.get(S001, &case_path).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!((v["contact"]["phone"].as_str(), v["contact"]["name"].as_str()), (Some("138****5678"), Some("张*")));
    assert_eq!(v["contact_masked"], true);
    assert_eq!(a.get(OPERATOR, &case_path).await.1["contact"]["phone"], "13812345678");

    // Another unit may neither read nor act: to it the case does not exist.
    let (s, v) = a.get(S002, &case_path).await;
    error_of(s, &v, StatusCode::NOT_FOUND, "not_found");
    let (s, v) = a.act(S002, id, json!({"action": "accept"})).await;
    error_of(s, &v, StatusCode::NOT_FOUND, "not_found");
    let (s, v) = a.act(OPERATOR, id, json!({"action": "accept"})).await;
    error_of(s, &v, StatusCode::FORBIDDEN, "forbidden");

    // 签收.
    a.advance(chrono::Duration::minutes(30));
    let (s, v) = a.act(S001, id, json!({"action": "accept"})).await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("accepted")), "{v}");
    assert_eq!(v["contact"]["phone"], "138****5678");

    // An illegal transition names the status and the action.
    let (s, v) = a.act(OPERATOR, id, json!({"action": "close"})).await;
    let e = error_of(s, &v, StatusCode::CONFLICT, "illegal_transition");
    let m = e["message"].as_str().unwrap();
    assert!(m.contains("close") && m.contains("accepted") && m.contains("已签收"), "{m}");

    // 答复 needs its text.
    let (s, v) = a.act(S001, id, json!({"action": "reply"})).await;
    assert_eq!(fields(&error_of(s, &v, StatusCode::UNPROCESSABLE_ENTITY, "invalid")), ["note"]);
    let (s, v) = a.act(S001, id, json!({"action": "reply", "extra": 1, "note": "x"})).await;
    error_of(s, &v, StatusCode::BAD_REQUEST, "bad_request");
    a.advance(chrono::Duration::days(1));
    let (s, v) = a.act(S001, id, json!({"action": "reply", "note": "已清理楼道堆物"})).await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("replied")), "{v}");

    // 回访 and 结案.
    a.advance(chrono::Duration::days(1));
    let cb = json!({"action": "callback", "responded": true, "solved": true, "satisfaction": "satisfied"});
    let (s, v) = a.act(OPERATOR, id, cb).await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("called_back")), "{v}");
    assert_eq!(v["callback"]["satisfaction_label"], "满意");
    let (s, v) = a.act(OPERATOR, id, json!({"action": "close", "note": "市民满意"})).await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("closed")), "{v}");
    assert!(v["closed_at"].as_str().unwrap().ends_with("+08:00"));

    // The timeline.
    let (s, v) = a.get(SUPERVISOR, &format!("/api/v1/cases/{id}/events")).await;
    assert_eq!(s, StatusCode::OK);
    let events = v["events"].as_array().unwrap();
    let actions: Vec<&str> = events.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["receive", "dispatch", "accept", "reply", "callback", "close"]);
    assert_eq!(events[1]["action_label"], "派单");
    assert_eq!((events[1]["from"].as_str(), events[1]["to_label"].as_str()), (Some("received"), Some("已派单")));
    assert_eq!(events[1]["actor"]["user"], "router");
    assert_eq!(events[2]["actor"]["unit_name"], "东华门街道办事处");
    assert_eq!(events[3]["note"], "已清理楼道堆物");
    assert_eq!(events[1]["detail"]["unit"], "S001");

    // Assessment and rankings show the unit after the callback.
    let (s, v) = a.get(SUPERVISOR, "/api/v1/assessment?period=2026-09").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let unit = v["units"].as_array().unwrap().iter().find(|u| u["unit"] == "S001").unwrap();
    assert_eq!((unit["callbacks"].as_u64(), unit["satisfaction_rate"].as_f64()), (Some(1), Some(1.0)));
    assert_eq!(unit["unit_name"], "东华门街道办事处");
    let (s, v) = a.get(SUPERVISOR, "/api/v1/rankings?period=2026-09&kind=street").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let row = &v["rows"][0];
    assert_eq!((row["unit"].as_str(), row["rank"].as_u64(), &row["change"]), (Some("S001"), Some(1), &Value::Null));
    assert_eq!((row["unit_name"].as_str(), v["previous_period"].as_str()), (Some("东华门街道办事处"), Some("2026-08")));
    let (s, v) = a.get(SUPERVISOR, "/api/v1/rankings?period=2026-13").await;
    assert_eq!(fields(&error_of(s, &v, StatusCode::BAD_REQUEST, "bad_request")), ["period"]);

    // Counts by status.
    let (s, v) = a.get(SUPERVISOR, "/api/v1/stats").await;
    assert_eq!(s, StatusCode::OK);
    let closed = v["by_status"].as_array().unwrap().iter().find(|r| r["status"] == "closed").unwrap();
    assert_eq!((closed["count"].as_u64(), closed["label"].as_str()), (Some(1), Some("已结案")));
    assert_eq!((v["total"].as_u64(), v["overdue"].as_u64()), (Some(1), Some(0)));

    // A case that misses its deadline shows as overdue.
    let (_, late) = a.post(OPERATOR, "/api/v1/cases", new_case_body(&cat)).await;
    a.advance(chrono::Duration::days(30));
    let (_, v) = a.get(SUPERVISOR, &format!("/api/v1/cases/{}", late["id"])).await;
    assert_eq!(v["overdue"], true);
    let (_, v) = a.get(SUPERVISOR, "/api/v1/cases?overdue=true").await;
    assert_eq!(v["total"], 1);
    assert_eq!(a.count().await, 2);
    a.store.close().await;
}

#[tokio::test]
async fn story_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    story(&format!("sqlite://{}/jiesu.db", dir.path().display())).await;
}

#[tokio::test]
async fn story_on_postgres() {
    let Some(db) = jiesu_store::testing::scratch_postgres("server").await else { return };
    story(&db.url).await;
    db.drop().await;
}

async fn sqlite_app() -> (TestApp, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let a = TestApp::new(&format!("sqlite://{}/jiesu.db", dir.path().display()), t("2026-11-02T01:00:00Z")).await;
    (a, dir)
}

#[tokio::test]
async fn malformed_requests_get_the_json_error_shape() {
    let (a, _dir) = sqlite_app().await;
    let (cred, value) = a.credential(OPERATOR).await.unwrap();
    let raw = |body: &str, ctype: Option<&str>| {
        let mut b = Request::builder().method(Method::POST).uri("/api/v1/cases").header(cred.clone(), value.clone());
        if let Some(c) = ctype {
            b = b.header(header::CONTENT_TYPE, c);
        }
        b.body(Body::from(body.to_string())).unwrap()
    };
    let (s, v) = a.send(raw("{\"channel\": ", Some("application/json"))).await;
    error_of(s, &v, StatusCode::BAD_REQUEST, "bad_request");
    let (s, v) = a.send(raw("{}", Some("text/plain"))).await;
    error_of(s, &v, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    let mut body = new_case_body(&street_category());
    body["colour"] = json!("red");
    let (s, v) = a.post(OPERATOR, "/api/v1/cases", body).await;
    let e = error_of(s, &v, StatusCode::BAD_REQUEST, "bad_request");
    assert!(e["message"].as_str().unwrap().contains("colour"), "{e}");
    assert_eq!(fields(&e), ["colour"]);
    let mut body = new_case_body(&street_category());
    body["place"]["lat"] = json!("north");
    let (s, v) = a.post(OPERATOR, "/api/v1/cases", body).await;
    assert_eq!(fields(&error_of(s, &v, StatusCode::BAD_REQUEST, "bad_request")), ["place.lat"]);
    let (s, v) = a.post(OPERATOR, "/api/v1/cases", json!({"channel": "web"})).await;
    assert_eq!(fields(&error_of(s, &v, StatusCode::BAD_REQUEST, "bad_request")), ["kind"]);

    // Oversized body.
    let big = json!({"channel": "web", "kind": "help", "category": "0101", "text": "很".repeat(100_000)});
    let (s, v) = a.post(OPERATOR, "/api/v1/cases", big).await;
    error_of(s, &v, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");

    // Bad and unknown ids, unknown routes and methods.
    let (s, v) = a.get(OPERATOR, "/api/v1/cases/abc").await;
    assert_eq!(fields(&error_of(s, &v, StatusCode::BAD_REQUEST, "bad_request")), ["id"]);
    let (s, v) = a.get(OPERATOR, "/api/v1/cases/999999").await;
    error_of(s, &v, StatusCode::NOT_FOUND, "not_found");
    let (s, v) = a.act(DISPATCHER, 999_999, json!({"action": "dispatch"})).await;
    error_of(s, &v, StatusCode::NOT_FOUND, "not_found");
    let (s, v) = a.get(NOBODY, "/api/v1/nothing-here").await;
    error_of(s, &v, StatusCode::NOT_FOUND, "not_found");
    let (s, v) = a.get(NOBODY, "/favicon.ico").await;
    error_of(s, &v, StatusCode::NOT_FOUND, "not_found");
    let (s, v) = a.send(a.request(Method::DELETE, "/api/v1/cases", OPERATOR, None).await).await;
    error_of(s, &v, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    let (s, v) = a.get(OPERATOR, "/api/v1/cases?colour=red").await;
    error_of(s, &v, StatusCode::BAD_REQUEST, "bad_request");
    assert_eq!(a.count().await, 0);
}

#[tokio::test]
async fn requests_without_valid_credentials_are_refused() {
    let (a, _dir) = sqlite_app().await;
    let body = new_case_body(&street_category());
    let (s, v) = a.post(NOBODY, "/api/v1/cases", body.clone()).await;
    error_of(s, &v, StatusCode::UNAUTHORIZED, "unauthenticated");
    let (s, v) = a.get(NOBODY, "/api/v1/stats").await;
    error_of(s, &v, StatusCode::UNAUTHORIZED, "unauthenticated");
    // Saying who one is in headers is no longer believed.
    let req = Request::get("/api/v1/cases")
        .header("x-jiesu-user", "mallory")
        .header("x-jiesu-role", "admin")
        .body(Body::empty())
        .unwrap();
    let (s, v) = a.send(req).await;
    error_of(s, &v, StatusCode::UNAUTHORIZED, "unauthenticated");
    for (name, value) in [
        ("authorization", "Bearer jsk_forged"),
        ("authorization", "Basic YWRtaW46YWRtaW4="),
        ("x-api-key", "jsk_forged"),
        ("cookie", "jiesu_session=forged"),
    ] {
        let req = Request::get("/api/v1/cases").header(name, value).body(Body::empty()).unwrap();
        let (s, v) = a.send(req).await;
        error_of(s, &v, StatusCode::UNAUTHORIZED, "unauthenticated");
    }
    // A unit handler may not file a case on a citizen's behalf; nothing is written.
    let (s, v) = a.post(S001, "/api/v1/cases", body).await;
    error_of(s, &v, StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(a.count().await, 0);
}

#[tokio::test]
async fn catalog_and_calendar_are_public() {
    let (a, _dir) = sqlite_app().await;
    let (s, v) = a.get(NOBODY, "/api/v1/catalog").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["district"]["name"], "东城区");
    assert_eq!(v["streets"].as_array().unwrap().len(), 17);
    for (path, key) in
        [("categories", "categories"), ("units", "units"), ("streets", "streets"), ("communities", "communities")]
    {
        let (s, v) = a.get(NOBODY, &format!("/api/v1/catalog/{path}")).await;
        assert_eq!(s, StatusCode::OK);
        assert!(!v[key].as_array().unwrap().is_empty(), "{path}");
    }
    let (_, v) = a.get(NOBODY, "/api/v1/catalog/units").await;
    let s001 = v["units"].as_array().unwrap().iter().find(|u| u["code"] == "S001").unwrap().clone();
    assert_eq!(s001["kind_label"], "街道");
    let (_, v) = a.get(NOBODY, "/api/v1/catalog/communities?street=110101001").await;
    assert!(v["communities"].as_array().unwrap().iter().all(|c| c["street_code"] == "110101001"));
    let (s, v) = a.get(NOBODY, "/api/v1/catalog/communities?street=999").await;
    assert_eq!(fields(&error_of(s, &v, StatusCode::BAD_REQUEST, "bad_request")), ["street"]);

    let (s, v) = a.get(NOBODY, "/api/v1/calendar/2026").await;
    assert_eq!(s, StatusCode::OK);
    let days = v["days"].as_array().unwrap();
    assert!(days.iter().any(|d| d["date"] == "2026-10-10" && d["kind"] == "work" && d["name"] == "国庆节"));
    let (s, v) = a.get(NOBODY, "/api/v1/calendar/2019").await;
    error_of(s, &v, StatusCode::NOT_FOUND, "not_found");
    let (s, v) = a.get(NOBODY, "/api/v1/calendar/next").await;
    error_of(s, &v, StatusCode::BAD_REQUEST, "bad_request");
}

#[tokio::test]
async fn serves_on_a_real_socket_and_shuts_down() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&format!("sqlite://{}/jiesu.db", dir.path().display())).await.unwrap();
    let desk = Desk::new(store, Catalog::dongcheng(), Calendar::china(), Config::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(AppState::new(desk), listener, async {
        let _ = stopped.await;
    }));

    let client = reqwest::Client::new();
    let resp = client.get(format!("http://{addr}/api/v1/health")).send().await.unwrap();
    assert_eq!(resp.status(), reqwest::StatusCode::OK);
    let v: Value = resp.json().await.unwrap();
    assert_eq!((v["status"].as_str(), v["backend"].as_str()), (Some("ok"), Some("sqlite")));
    let resp = client.get(format!("http://{addr}/nope")).send().await.unwrap();
    assert_eq!(resp.status(), reqwest::StatusCode::NOT_FOUND);
    assert_eq!(resp.headers()[header::CONTENT_TYPE.as_str()], "application/json");

    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), server).await.expect("shuts down").unwrap().unwrap();
}

#[tokio::test]
async fn the_sweeper_raises_overdue_notices() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&format!("sqlite://{}/jiesu.db", dir.path().display())).await.unwrap();
    let desk = Desk::new(store.clone(), Catalog::dongcheng(), Calendar::china(), Config::default());
    // Received and dispatched in September 2026: long overdue by the real clock.
    let draft = NewCase {
        channel: Channel::Hotline,
        kind: CaseKind::Complaint,
        title: None,
        text: "路灯不亮".into(),
        category: street_category(),
        place: Place { street: Some("110101001".into()), ..Default::default() },
        contact: Contact::default(),
        external_id: None,
    };
    let op = Actor { user: "op".into(), role: jiesu_domain::model::Role::Operator, unit: None };
    let c = desk.receive(op, draft, t("2026-09-01T02:00:00Z"), true).await.unwrap();

    let sweeper = spawn_deadline_sweeper(desk, Duration::from_millis(20));
    let noticed = async {
        loop {
            let s = store.case(c.id).await.unwrap().state;
            if s.overdue_noticed {
                return s.supervisions;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let supervisions = tokio::time::timeout(Duration::from_secs(10), noticed).await.expect("the sweeper ran");
    sweeper.abort();
    assert_eq!(supervisions, 1);
}
