//! Helpers of the console's tests: forms over HTTP, and (re-exported from `browser`) a real
//! browser with screenshots under `target/screenshots/`.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};

#[allow(unused_imports)]
pub use super::browser::*;
use super::{TestApp, Who};

/// The value of `name="csrf" value="…"` in a page.
pub fn csrf_in(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("the page has a CSRF field") + 19;
    html[at..].split('"').next().unwrap().to_string()
}

pub fn form(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

pub async fn page(a: &TestApp, who: Who, path: &str) -> (StatusCode, axum::http::HeaderMap, String) {
    let req = a.request(axum::http::Method::GET, path, who, None).await;
    a.send_raw(req).await
}

pub async fn post_form(a: &TestApp, who: Who, path: &str, body: String) -> (StatusCode, axum::http::HeaderMap, String) {
    let mut b = Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some((name, value)) = a.credential(who).await {
        b = b.header(name, value);
    }
    a.send_raw(b.body(Body::from(body)).unwrap()).await
}
