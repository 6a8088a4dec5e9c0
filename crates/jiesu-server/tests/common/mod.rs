//! The test harness of the HTTP tests: a router over a fresh store with a clock the test moves,
//! and real credentials: people are users in the store who log in through `POST /api/v1/login`
//! (the session cookie is kept per person), citizens and machines hold API keys.

#![allow(dead_code)]

pub mod browser;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use chrono::{DateTime, Utc};
use jiesu_core::{Config, Desk};
use jiesu_domain::calendar::Calendar;
use jiesu_domain::catalog::Catalog;
use jiesu_domain::model::{Role, UnitKind};
use jiesu_server::{AppState, app};
use jiesu_store::Store;
use serde_json::{Value, json};
use tower::ServiceExt;

pub fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// Who sends a request: (role, unit) of a person, or `("citizen", Some(key name))`, or nobody.
pub type Who = Option<(&'static str, Option<&'static str>)>;
pub const NOBODY: Who = None;
pub const OPERATOR: Who = Some(("operator", None));
pub const DISPATCHER: Who = Some(("dispatcher", None));
pub const SUPERVISOR: Who = Some(("supervisor", None));
pub const S001: Who = Some(("unit_handler", Some("S001")));
pub const S002: Who = Some(("unit_handler", Some("S002")));

/// The password of every test user.
pub const PASSWORD: &str = "测试 password 1";

/// A header proving who one is, and when it stops working (sessions).
#[derive(Clone)]
struct Credential {
    header: (header::HeaderName, String),
    expires_at: Option<DateTime<Utc>>,
}

pub struct TestApp {
    pub router: Router,
    pub store: Store,
    pub clock: Arc<Mutex<DateTime<Utc>>>,
    /// The header that proves who a `Who` is, made on first use.
    creds: tokio::sync::Mutex<HashMap<String, Credential>>,
}

impl TestApp {
    pub async fn new(url: &str, start: DateTime<Utc>) -> TestApp {
        TestApp::with(url, start, |s| s).await
    }

    /// A test app whose state `tune` adjusts (rate limits, session length).
    pub async fn with(url: &str, start: DateTime<Utc>, tune: impl FnOnce(AppState) -> AppState) -> TestApp {
        let store = jiesu_store::testing::connect(url).await.expect("connect");
        // As `jiesu serve` runs it: with the shipped category classifier.
        let desk = Desk::new(store.clone(), Catalog::dongcheng(), Calendar::china(), Config::default())
            .with_classifier(Arc::new(jiesu_core::Suggester::shipped().clone()))
            .expect("the catalog has the manual-queue category");
        let clock = Arc::new(Mutex::new(start));
        let c = clock.clone();
        let state = tune(AppState::new(desk).with_clock(move || *c.lock().unwrap()));
        TestApp { router: app(state), store, clock, creds: Default::default() }
    }

    pub fn now(&self) -> DateTime<Utc> {
        *self.clock.lock().unwrap()
    }

    pub fn advance(&self, by: chrono::Duration) {
        *self.clock.lock().unwrap() += by;
    }

    /// Sends a request; returns the status, the headers and the raw body.
    pub async fn send_raw(&self, req: Request<Body>) -> (StatusCode, HeaderMap, String) {
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let (parts, body) = resp.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        (parts.status, parts.headers, String::from_utf8(bytes.to_vec()).unwrap())
    }

    /// Sends a request; returns the status and the JSON body (Null when empty).
    pub async fn send(&self, req: Request<Body>) -> (StatusCode, Value) {
        let (status, _, text) = self.send_raw(req).await;
        (status, json_of(status, &text))
    }

    /// Logs in; returns the status, the body and the session cookie (`name=value`) if one was set.
    pub async fn login(&self, name: &str, password: &str) -> (StatusCode, Value, Option<String>) {
        let req = Request::post("/api/v1/login")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(json!({"name": name, "password": password}).to_string()))
            .unwrap();
        let (status, headers, text) = self.send_raw(req).await;
        let cookie =
            headers.get(header::SET_COOKIE).map(|c| c.to_str().unwrap().split(';').next().unwrap().to_string());
        (status, json_of(status, &text), cookie)
    }

    /// The header proving who `who` is: a citizen's API key, or a person's session cookie (the
    /// user is made on first use, and logs in again when the session has expired).
    pub async fn credential(&self, who: Who) -> Option<(header::HeaderName, String)> {
        let (role, unit) = who?;
        let name = format!("{role}-{}", unit.unwrap_or("1"));
        let mut creds = self.creds.lock().await;
        let known = creds.get(&name).cloned();
        if let Some(c) = &known
            && c.expires_at.is_none_or(|t| t > self.now())
        {
            return Some(c.header.clone());
        }
        let role: Role = role.parse().unwrap();
        let cred = if role == Role::Citizen {
            let (_, secret) = self.store.create_api_key(&name, role, None, self.now()).await.unwrap();
            Credential { header: (header::AUTHORIZATION, format!("Bearer {secret}")), expires_at: None }
        } else {
            if known.is_none() {
                self.store.create_user(&name, role, unit, PASSWORD, self.now()).await.unwrap();
            }
            let (status, body, cookie) = self.login(&name, PASSWORD).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let expires_at = t(body["expires_at"].as_str().unwrap());
            Credential { header: (header::COOKIE, cookie.expect("a session cookie")), expires_at: Some(expires_at) }
        };
        creds.insert(name, cred.clone());
        Some(cred.header)
    }

    pub async fn request(&self, method: Method, path: &str, who: Who, body: Option<String>) -> Request<Body> {
        let mut b = Request::builder().method(method).uri(path);
        if let Some((name, value)) = self.credential(who).await {
            b = b.header(name, value);
        }
        match body {
            Some(text) => b.header(header::CONTENT_TYPE, "application/json").body(Body::from(text)).unwrap(),
            None => b.body(Body::empty()).unwrap(),
        }
    }

    pub async fn get(&self, who: Who, path: &str) -> (StatusCode, Value) {
        let req = self.request(Method::GET, path, who, None).await;
        self.send(req).await
    }

    pub async fn get_text(&self, who: Who, path: &str) -> (StatusCode, String) {
        let req = self.request(Method::GET, path, who, None).await;
        let (s, _, text) = self.send_raw(req).await;
        (s, text)
    }

    pub async fn post(&self, who: Who, path: &str, body: Value) -> (StatusCode, Value) {
        let req = self.request(Method::POST, path, who, Some(body.to_string())).await;
        self.send(req).await
    }

    pub async fn post_text(&self, who: Who, path: &str, body: Value) -> (StatusCode, String) {
        let req = self.request(Method::POST, path, who, Some(body.to_string())).await;
        let (s, _, text) = self.send_raw(req).await;
        (s, text)
    }

    pub async fn act(&self, who: Who, id: i64, body: Value) -> (StatusCode, Value) {
        self.post(who, &format!("/api/v1/cases/{id}/actions"), body).await
    }

    pub async fn count(&self) -> u64 {
        let (s, v) = self.get(NOBODY, "/api/v1/health").await;
        assert_eq!(s, StatusCode::OK, "{v}");
        v["cases"].as_u64().unwrap()
    }
}

fn json_of(status: StatusCode, text: &str) -> Value {
    if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(text).unwrap_or_else(|_| panic!("{status}: body is not JSON: {text}"))
    }
}

/// Asserts the one error shape and returns the error object.
pub fn error_of(status: StatusCode, body: &Value, expected: StatusCode, code: &str) -> Value {
    assert_eq!(status, expected, "{body}");
    let e = &body["error"];
    assert_eq!(e["code"], code, "{body}");
    assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    assert!(e["fields"].is_array(), "{body}");
    e.clone()
}

pub fn fields(e: &Value) -> Vec<String> {
    e["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap().to_string()).collect()
}

/// A leaf category handled by the street office of the place (直派).
pub fn street_category() -> String {
    let c = Catalog::dongcheng();
    c.leaf_categories().into_iter().find(|c| c.unit.is_none() && c.unit_kind == UnitKind::Street).unwrap().code.clone()
}

pub fn new_case_body(category: &str) -> Value {
    json!({
        "channel": "hotline",
        "kind": "complaint",
        "text": "楼道堆物影响通行，请尽快清理",
        "category": category,
        "place": { "address": "东城区美术馆后街", "lat": 39.93, "lon": 116.41, "street": "110101001" },
        "contact": { "name": "张三", "phone": "13812345678" }
    })
}
