//! Slow and greedy clients: a body that never finishes is cut off (408), a connection that does
//! not send its headers is closed, and anonymous Open311 reads are limited per client IP and in
//! number at once (429 with Retry-After, in Open311's error shape), while staff requests from
//! the same address go on.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use common::*;
use futures_util::stream::{self, StreamExt};
use jiesu_core::{Config, Desk};
use jiesu_domain::calendar::Calendar;
use jiesu_domain::catalog::Catalog;
use jiesu_server::{AnonymousReads, AppState, Timeouts, serve};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn short() -> Timeouts {
    Timeouts {
        header_read: Duration::from_millis(300),
        body: Duration::from_millis(300),
        request: Duration::from_secs(5),
    }
}

/// A body that sends its first bytes and then nothing more, ever.
fn stalled(first: &'static str) -> Body {
    let first = stream::iter([Ok::<_, std::io::Error>(Bytes::from_static(first.as_bytes()))]);
    Body::from_stream(first.chain(stream::pending()))
}

/// Without the limit the request would wait for ever: fail instead (a guard, not a wait).
async fn cut<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), f).await.expect("the stalled request was not cut off")
}

#[tokio::test]
async fn a_body_that_never_ends_is_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/jiesu.db", dir.path().display());
    let a = TestApp::with(&url, t("2026-11-02T01:00:00Z"), |mut s| {
        s.timeouts = short();
        s
    })
    .await;
    let (name, value) = a.credential(OPERATOR).await.unwrap();
    let started = Instant::now();
    let req = Request::post("/api/v1/cases")
        .header(name, value)
        .header(header::CONTENT_TYPE, "application/json")
        .body(stalled("{\"channel\": \"hotline\", \"text\": \"楼道"))
        .unwrap();
    let (s, _, text) = cut(a.send_raw(req)).await;
    assert_eq!(s, StatusCode::REQUEST_TIMEOUT, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["error"]["code"], "request_timeout", "{v}");
    assert!(started.elapsed() < Duration::from_secs(5), "cut off at the deadline, not later");
    assert_eq!(a.count().await, 0, "nothing was filed");

    // Open311's POST, in Open311's error shape.
    let req = Request::post("/open311/v2/requests.xml")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(stalled("service_code=0101&descr"))
        .unwrap();
    let (s, _, text) = cut(a.send_raw(req)).await;
    assert_eq!(s, StatusCode::REQUEST_TIMEOUT, "{text}");
    assert!(text.contains("<errors>") && text.contains("<code>408</code>"), "{text}");

    // A body that arrives in time is read as usual.
    let req =
        a.request(axum::http::Method::POST, "/api/v1/cases", OPERATOR, Some(new_case_body("0101").to_string())).await;
    assert_eq!(a.send_raw(req).await.0, StatusCode::CREATED);
}

#[tokio::test]
async fn a_connection_that_does_not_send_its_headers_is_closed() {
    let dir = tempfile::tempdir().unwrap();
    let store = jiesu_store::testing::connect(&format!("sqlite://{}/jiesu.db", dir.path().display())).await.unwrap();
    let desk = Desk::new(store, Catalog::dongcheng(), Calendar::china(), Config::default());
    let mut state = AppState::new(desk);
    state.timeouts = short();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(state, listener, async {
        let _ = stopped.await;
    }));

    // Half a request, then silence: the server hangs up (the guard only bounds a broken test).
    let mut slow = tokio::net::TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let started = Instant::now();
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), slow.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "the connection was held open");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(!String::from_utf8_lossy(&buf).contains("200 OK"), "{}", String::from_utf8_lossy(&buf));

    // A whole request is answered as usual.
    let r = reqwest::get(format!("http://{addr}/api/v1/health")).await.unwrap();
    assert_eq!(r.status(), 200);
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), server).await.expect("shuts down").unwrap().unwrap();
}

/// A GET from `ip`, as a connection from there would carry it.
fn from(ip: &str, path: &str) -> Request<Body> {
    let mut req = Request::get(path).body(Body::empty()).unwrap();
    let peer: SocketAddr = format!("{ip}:40000").parse().unwrap();
    req.extensions_mut().insert(ConnectInfo(peer));
    req
}

#[tokio::test]
async fn anonymous_reads_are_limited_per_ip_and_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/jiesu.db", dir.path().display());
    let mut reads = AnonymousReads::new(3, 4);
    reads.queue = Duration::from_millis(50);
    let slots = reads.slots.clone();
    let a = TestApp::with(&url, t("2026-11-02T01:00:00Z"), move |mut s| {
        s.anonymous_reads = reads;
        s
    })
    .await;
    for _ in 0..3 {
        assert_eq!(a.send_raw(from("192.0.2.7", "/open311/v2/requests.json")).await.0, StatusCode::OK);
    }
    for path in ["/open311/v2/requests.json", "/open311/v2/services.json"] {
        let (s, headers, text) = a.send_raw(from("192.0.2.7", path)).await;
        assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{text}");
        assert!(headers[header::RETRY_AFTER].to_str().unwrap().parse::<u64>().unwrap() >= 1);
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v[0]["code"], 429, "Open311's error shape: {v}");
    }
    let (s, _, text) = a.send_raw(from("192.0.2.7", "/open311/v2/requests.xml")).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    assert!(text.contains("<code>429</code>"), "{text}");
    // Another address is not held up; nor is the staff's API from the same one.
    assert_eq!(a.send_raw(from("192.0.2.8", "/open311/v2/requests.json")).await.0, StatusCode::OK);
    let (name, value) = a.credential(OPERATOR).await.unwrap();
    let mut staff = from("192.0.2.7", "/api/v1/cases");
    staff.headers_mut().insert(name, value.parse().unwrap());
    assert_eq!(a.send_raw(staff).await.0, StatusCode::OK);

    // Everyone together: with every slot taken, the next anonymous read waits its turn, then is shed.
    let taken = slots.clone().try_acquire_many_owned(4).unwrap();
    let (s, headers, _) = a.send_raw(from("192.0.2.9", "/open311/v2/requests.json")).await;
    assert_eq!((s, headers[header::RETRY_AFTER].to_str().unwrap()), (StatusCode::TOO_MANY_REQUESTS, "1"));
    drop(taken);
    assert_eq!(a.send_raw(from("192.0.2.9", "/open311/v2/requests.json")).await.0, StatusCode::OK);
}
