//! 通知 and live updates: the notices page and its count within the viewer's scope, read marks,
//! and `GET /events` (server-sent events) on SQLite and PostgreSQL — a unit handler hears of a
//! case dispatched to the unit by another session, another unit hears nothing and is never told
//! the case's id. In a browser: the inbox updates without a reload when a case is dispatched to
//! the unit, and the badge counts the new notice; screenshots of /notices at desktop and phone size.

mod common;

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::browser::*;
use common::*;
use fantoccini::Locator;
use futures_util::StreamExt;
use jiesu_core::{Config, Desk};
use jiesu_domain::calendar::Calendar;
use jiesu_domain::catalog::Catalog;
use jiesu_domain::model::Role;
use jiesu_server::{AppState, serve};
use serde_json::{Value, json};
use tower::ServiceExt;

/// An open event stream: what has arrived so far.
struct Events {
    body: axum::body::BodyDataStream,
    seen: String,
}

impl Events {
    async fn open(a: &TestApp, who: Who) -> Events {
        let req = a.request(Method::GET, "/events", who, None).await;
        let resp = a.router.clone().oneshot(req).await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.headers()[header::CONTENT_TYPE], "text/event-stream");
        assert!(resp.headers().contains_key(header::CONTENT_SECURITY_POLICY));
        let mut e = Events { body: resp.into_body().into_data_stream(), seen: String::new() };
        let hello = e.until("event: hello", Duration::from_secs(5)).await;
        assert!(hello.contains("retry: 2000"), "{hello}");
        e
    }

    /// Reads until `pattern` has arrived (panics after `within`); returns the text up to the
    /// end of the event holding it, and keeps the rest.
    async fn until(&mut self, pattern: &str, within: Duration) -> String {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(at) = self.seen.find(pattern) {
                let end = self.seen[at..].find("\n\n").map_or(self.seen.len(), |e| at + e + 2);
                let got = self.seen[..end].to_string();
                self.seen.drain(..end);
                return got;
            }
            match tokio::time::timeout_at(deadline, self.body.next()).await {
                Ok(Some(chunk)) => self.seen.push_str(std::str::from_utf8(&chunk.unwrap()).unwrap()),
                Ok(None) => panic!("the stream ended before {pattern:?}; got {:?}", self.seen),
                Err(_) => panic!("no {pattern:?} within {within:?}; got {:?}", self.seen),
            }
        }
    }

    /// Everything that arrives within `within`.
    async fn drain(&mut self, within: Duration) -> String {
        let deadline = tokio::time::Instant::now() + within;
        while let Ok(Some(chunk)) = tokio::time::timeout_at(deadline, self.body.next()).await {
            self.seen.push_str(std::str::from_utf8(&chunk.unwrap()).unwrap());
        }
        std::mem::take(&mut self.seen)
    }
}

fn csrf_in(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("the page has a CSRF field") + 19;
    html[at..].split('"').next().unwrap().to_string()
}

async fn post_form(a: &TestApp, who: Who, path: &str, pairs: &[(&str, &str)]) -> (StatusCode, String) {
    let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
    let mut b = Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some((name, value)) = a.credential(who).await {
        b = b.header(name, value);
    }
    let (s, _, text) = a.send_raw(b.body(Body::from(body)).unwrap()).await;
    (s, text)
}

async fn unread(a: &TestApp, who: Who) -> u64 {
    let (s, v) = a.get(who, "/notices/count").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["unread"].as_u64().unwrap()
}

/// Files a case held for the dispatcher (no automatic 派单) as the operator.
async fn file_held(a: &TestApp) -> (i64, String) {
    let mut body = new_case_body(&street_category());
    body["auto_dispatch"] = json!(false);
    let (s, v) = a.post(OPERATOR, "/api/v1/cases", body).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    (v["id"].as_i64().unwrap(), v["number"].as_str().unwrap().to_string())
}

async fn live_and_notices(url: &str) {
    let a = TestApp::new(url, chrono::Utc::now()).await;
    // Not for machines or strangers: an API key or no session is sent to the login page.
    let (s, h, _) = a.send_raw(Request::get("/events").body(Body::empty()).unwrap()).await;
    assert_eq!((s, h[header::LOCATION].to_str().unwrap()), (StatusCode::SEE_OTHER, "/"));
    let key = a.credential(Some(("citizen", Some("app")))).await.unwrap();
    let req = Request::get("/events").header(key.0, key.1).body(Body::empty()).unwrap();
    assert_eq!(a.send_raw(req).await.0, StatusCode::SEE_OTHER);

    let mut s001 = Events::open(&a, S001).await;
    let mut s002 = Events::open(&a, S002).await;
    let mut desk = Events::open(&a, DISPATCHER).await;
    assert_eq!(unread(&a, S001).await, 0);

    // Another session files a case and dispatches it to S001.
    let (id, number) = file_held(&a).await;
    let got = desk.until("event: change", Duration::from_secs(5)).await;
    assert!(got.contains(&format!("data: {{\"case\":{id}}}")), "the desk sees every case: {got}");
    let started = std::time::Instant::now();
    let (s, v) = a.act(DISPATCHER, id, json!({"action": "dispatch", "unit": "S001"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let got = s001.until("event: change", Duration::from_secs(5)).await;
    assert!(got.contains(&format!("data: {{\"case\":{id}}}")), "{got}");
    eprintln!("dispatch answered and heard by the unit in {} ms", started.elapsed().as_millis());
    // No personal data, ever: the stream carries event names and case ids only.
    assert!(!got.contains("138") && !got.contains("张三") && !got.contains("楼道"), "{got}");
    // Another unit hears nothing at all about it.
    let other = s002.drain(Duration::from_millis(800)).await;
    assert!(!other.contains("event: change") && !other.contains(&id.to_string()), "{other}");

    // 通知: S001 has one new notice about it; S002 none, and never sees the case there.
    assert_eq!(unread(&a, S001).await, 1);
    assert_eq!(unread(&a, S002).await, 0);
    let (s, html) = a.get_text(S001, "/notices").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains(&number) && html.contains("新派单") && html.contains("未读"), "{html}");
    assert!(!html.contains("13812345678"), "the contact is masked for the unit");
    let (_, other_html) = a.get_text(S002, "/notices").await;
    assert!(!other_html.contains(&number) && !other_html.contains("楼道堆物"), "{other_html}");
    // The nav of every page links 通知 (live.js adds the badge).
    let (_, inbox) = a.get_text(S001, "/inbox").await;
    assert!(inbox.contains("href=\"/notices\"") && inbox.contains("/assets/live.js"));
    // The dispatcher's own notices: nothing waits for them now.
    assert_eq!(unread(&a, DISPATCHER).await, 0);

    // Marking read: a form post with the session's CSRF token only.
    let csrf = csrf_in(&html);
    let (s, _) = post_form(&a, S001, "/notices/seen", &[("case", &id.to_string())]).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = post_form(&a, S001, "/notices/seen", &[("csrf", "0".repeat(32).as_str())]).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    for bad in ["\0", "1\u{0}", "99999999999999999999999", &"9".repeat(100_000), "-1 OR 1=1"] {
        let (s, _) = post_form(&a, S001, "/notices/seen", &[("csrf", &csrf), ("case", bad)]).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "case={:?}", &bad[..bad.len().min(20)]);
    }
    assert_eq!(unread(&a, S001).await, 1, "nothing marked by refused posts");
    // Another unit marking this case marks nothing (it has no notice about it).
    let (_, html2) = a.get_text(S002, "/notices").await;
    let (s, _) = post_form(&a, S002, "/notices/seen", &[("csrf", &csrf_in(&html2)), ("case", &id.to_string())]).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let marks = jiesu_store::testing::strings(&a.store, "SELECT user_name FROM notice_marks").await.unwrap();
    assert!(marks.is_empty(), "{marks:?}");
    let (s, _) = post_form(&a, S001, "/notices/seen", &[("csrf", &csrf), ("case", &id.to_string())]).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(unread(&a, S001).await, 0);
    let (_, html) = a.get_text(S001, "/notices").await;
    assert!(html.contains(&number) && !html.contains("class=\"dot\""), "still listed, read: {html}");

    // 改派 to S002 before signing: S001 is told something changed, without the id; S002 is told.
    let (s, v) = a.act(DISPATCHER, id, json!({"action": "dispatch", "unit": "S002"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let got = s001.until("event: change", Duration::from_secs(5)).await;
    assert!(got.contains("data: {}") && !got.contains(&id.to_string()), "{got}");
    let got = s002.until("event: change", Duration::from_secs(5)).await;
    assert!(got.contains(&format!("data: {{\"case\":{id}}}")), "{got}");
    assert_eq!(unread(&a, S002).await, 1);
    assert_eq!(unread(&a, S001).await, 0);
    // S002 asks to return it: the dispatcher gets a 退回申请 notice.
    let (s, v) = a.act(S002, id, json!({"action": "request_return", "note": "不属于本单位"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(unread(&a, DISPATCHER).await, 1);
    let (_, html) = a.get_text(DISPATCHER, "/notices").await;
    assert!(html.contains("退回申请") && html.contains(&number), "{html}");
    // All read at once; then the mark holds (stored, not in the session).
    let (s, _) = post_form(&a, DISPATCHER, "/notices/seen", &[("csrf", &csrf_in(&html))]).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(unread(&a, DISPATCHER).await, 0);
    // The dispatcher approves: the case comes back as 退回待改派, a new notice.
    let (s, v) = a.act(DISPATCHER, id, json!({"action": "approve_return"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(unread(&a, DISPATCHER).await, 1);
    assert_eq!(unread(&a, S002).await, 0, "the case left S002");

    // Sent again, signed and replied: the operator is told it waits for the callback.
    let (s, v) = a.act(DISPATCHER, id, json!({"action": "dispatch", "unit": "S001"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(unread(&a, OPERATOR).await, 0);
    assert_eq!(a.act(S001, id, json!({"action": "accept"})).await.0, StatusCode::OK);
    let (s, v) = a.act(S001, id, json!({"action": "reply", "note": "已清理"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(unread(&a, OPERATOR).await, 1);
    let (_, html) = a.get_text(OPERATOR, "/notices").await;
    assert!(html.contains("待回访") && html.contains(&number), "{html}");

    // Another case left with S002 past its deadline: S002 and the supervisor are told it is
    // overdue; the deadline timer's 督办 is one more notice for the unit.
    let (late, late_number) = file_held(&a).await;
    assert_eq!(a.act(DISPATCHER, late, json!({"action": "dispatch", "unit": "S002"})).await.0, StatusCode::OK);
    let before = unread(&a, SUPERVISOR).await;
    a.advance(chrono::Duration::days(40));
    let (_, html) = a.get_text(S002, "/notices").await;
    assert!(html.contains("超期") && html.contains(&late_number), "{html}");
    assert!(!html.contains(&number), "S002 no longer sees the first case: {html}");
    assert!(unread(&a, SUPERVISOR).await > before);
    let s002_before = unread(&a, S002).await;
    let desk = Desk::new(a.store.clone(), Catalog::dongcheng(), Calendar::china(), Config::default());
    s002.drain(Duration::from_millis(300)).await;
    assert!(desk.sweep_overdue(a.now()).await.unwrap() >= 1);
    let got = s002.until(&format!("data: {{\"case\":{late}}}"), Duration::from_secs(5)).await;
    assert!(got.contains("event: change"), "{got}");
    assert_eq!(unread(&a, S002).await, s002_before + 1, "督办 is a notice of its own");
    let (_, html) = a.get_text(S002, "/notices").await;
    assert!(html.contains("k-supervised"), "{html}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_updates_and_notices_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    live_and_notices(&format!("sqlite://{}/jiesu.db", dir.path().display())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_updates_and_notices_on_postgres() {
    let Some(db) = jiesu_store::testing::scratch_postgres("console_live").await else { return };
    live_and_notices(&db.url).await;
    db.drop().await;
}

/// Two servers on one PostgreSQL database: a dispatch through one reaches a unit's stream on the
/// other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_updates_cross_servers_on_postgres() {
    let Some(db) = jiesu_store::testing::scratch_postgres("console_live_two").await else { return };
    let one = TestApp::new(&db.url, chrono::Utc::now()).await;
    let two = TestApp::new(&db.url, chrono::Utc::now()).await;
    let mut s001 = Events::open(&two, S001).await;
    let (id, _) = file_held(&one).await;
    let (s, v) = one.act(DISPATCHER, id, json!({"action": "dispatch", "unit": "S001"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let got = s001.until(&format!("data: {{\"case\":{id}}}"), Duration::from_secs(5)).await;
    assert!(got.contains("event: change"), "{got}");
    one.store.close().await;
    two.store.close().await;
    db.drop().await;
}

/// A server shutting down ends its open streams rather than wait for them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_ends_open_streams() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/jiesu.db", dir.path().display());
    let store = jiesu_store::testing::connect(&url).await.unwrap();
    store.create_user("qian", Role::UnitHandler, Some("S001"), PASSWORD, chrono::Utc::now()).await.unwrap();
    let desk = Desk::new(store.clone(), Catalog::dongcheng(), Calendar::china(), Config::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(AppState::new(desk), listener, async move {
        let _ = stopped.await;
    }));
    let http = reqwest::Client::new();
    let login = http
        .post(format!("{base}/api/v1/login"))
        .json(&json!({"name": "qian", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let cookie = login.headers()[header::SET_COOKIE].to_str().unwrap().split(';').next().unwrap().to_string();
    let mut stream = http.get(format!("{base}/events")).header(header::COOKIE, cookie).send().await.unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    let first = stream.chunk().await.unwrap().unwrap();
    assert!(std::str::from_utf8(&first).unwrap().contains("event: hello"));
    let _ = stop.send(());
    let done = tokio::time::timeout(Duration::from_secs(5), server).await;
    assert!(done.is_ok(), "the server stopped with a stream open");
    // The stream ended cleanly.
    let rest = tokio::time::timeout(Duration::from_secs(5), stream.chunk()).await.expect("the stream ends");
    assert!(matches!(rest, Ok(None) | Err(_)));
}

// ---------------------------------------------------------------------------------------------
// In a browser.

async fn inbox_updates_live(url: &str) {
    let Some(driver) = chromedriver().await else { return };
    let store = jiesu_store::testing::connect(url).await.unwrap();
    let desk = Desk::new(store.clone(), Catalog::dongcheng(), Calendar::china(), Config::default())
        .with_classifier(Arc::new(jiesu_core::Suggester::shipped().clone()))
        .unwrap();
    let now = chrono::Utc::now();
    store.create_user("zhao", Role::UnitHandler, Some("S006"), PASSWORD, now).await.unwrap();
    for (name, role) in [("wang", Role::Operator), ("li", Role::Dispatcher)] {
        store.create_user(name, role, None, PASSWORD, now).await.unwrap();
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(AppState::new(desk), listener, async move {
        let _ = stopped.await;
    }));
    let profile = tempfile::tempdir().unwrap();
    let s = Story { c: browser(&driver, profile.path()).await, base: base.clone() };

    // The unit handler looks at an empty inbox.
    s.login("zhao", "/inbox").await;
    assert!(s.html().await.contains("没有在办工单"));
    s.c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("nav.side a[href='/notices'] .badge"))
        .await
        .unwrap();

    // Meanwhile, through the JSON API (other sessions): an operator files, a dispatcher sends it.
    let http = reqwest::Client::new();
    let session = |name: &'static str| {
        let http = http.clone();
        let base = base.clone();
        async move {
            let r = http
                .post(format!("{base}/api/v1/login"))
                .json(&json!({"name": name, "password": PASSWORD}))
                .send()
                .await
                .unwrap();
            r.headers()[header::SET_COOKIE].to_str().unwrap().split(';').next().unwrap().to_string()
        }
    };
    let (operator, dispatcher) = (session("wang").await, session("li").await);
    let mut body = new_case_body(&street_category());
    body["text"] = json!("东四北大街107号门口有商贩占道经营，晚上一直摆摊，影响行人通行");
    body["auto_dispatch"] = json!(false);
    let filed: Value = http
        .post(format!("{base}/api/v1/cases"))
        .header(header::COOKIE, &operator)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = filed["id"].as_i64().unwrap();
    let number = filed["number"].as_str().unwrap().to_string();
    let sent = std::time::Instant::now();
    let dispatched = http
        .post(format!("{base}/api/v1/cases/{id}/actions"))
        .header(header::COOKIE, &dispatcher)
        .json(&json!({"action": "dispatch", "unit": "S006"}))
        .send()
        .await
        .unwrap();
    assert_eq!(dispatched.status(), StatusCode::OK);

    // The inbox shows it without a reload (the page's body is the same element throughout).
    let body_before = s.css("body").await;
    let link = format!("#inbox a[href='/cases/{id}']");
    s.c.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css(&link)).await.unwrap();
    eprintln!("the inbox showed the case {} ms after the dispatch", sent.elapsed().as_millis());
    assert!(body_before.tag_name().await.is_ok(), "no navigation: the same document");
    assert!(s.text(&link).await.contains(&number));
    // The badge counts the new notice.
    let badge = "nav.side a[href='/notices'] .badge[data-unread='1']";
    s.c.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css(badge)).await.unwrap();
    assert_eq!(s.text(badge).await, "1");
    shot(&s.c, "live-inbox").await;

    // 通知 at desktop and phone size.
    s.goto("/notices").await;
    assert!(s.html().await.contains("新派单"));
    shot_sized(&s.c, "notices", &[("desktop", 1280, 800), ("phone", 390, 844)]).await;
    s.c.set_window_size(1280, 800).await.unwrap();
    // Signed from the inbox: the notice is no longer new; marked read, the badge goes.
    s.goto("/inbox").await;
    s.submit(&format!("#inbox form[action='/cases/{id}/act'] button[value=accept]")).await;
    s.goto("/notices").await;
    assert!(!s.html().await.contains("新派单"));
    s.c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("nav.side a[href='/notices'] .badge[data-unread='0']"))
        .await
        .unwrap();
    shot_sized(&s.c, "notices-read", &[("desktop", 1280, 800), ("phone", 390, 844)]).await;

    s.c.close().await.unwrap();
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn browser_inbox_updates_live_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    inbox_updates_live(&format!("sqlite://{}/jiesu.db", dir.path().display())).await;
}

#[tokio::test]
async fn browser_inbox_updates_live_on_postgres() {
    let Some(db) = jiesu_store::testing::scratch_postgres("console_live_browser").await else { return };
    inbox_updates_live(&db.url).await;
    db.drop().await;
}
