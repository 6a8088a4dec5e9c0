//! 来电弹屏 and photos in the console (issue 10), over HTTP on SQLite and PostgreSQL, and in a
//! real browser: an operator types a repeat caller's number and sees their earlier 工单; a grid
//! inspector reports with a photo from a phone-sized window.
//!
//! Probes: a lookup by a role that takes no calls, without the CSRF token, of something that is
//! no number; photos of the wrong type (by their bytes, whatever they declare), too large, too
//! many, on an action that takes none, without the CSRF token, in a body over the limit; another
//! unit's photo (the same 404 as a missing one).

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::*;
use jiesu_domain::access::Scope;
use serde_json::json;

const INSPECTOR: Who = Some(("grid_inspector", Some("S001")));

/// The value of `name="csrf" value="…"` in a page.
fn csrf_in(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("the page has a CSRF field") + 19;
    html[at..].split('"').next().unwrap().to_string()
}

fn form(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

async fn page(a: &TestApp, who: Who, path: &str) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let req = a.request(axum::http::Method::GET, path, who, None).await;
    let resp = tower::ServiceExt::oneshot(a.router.clone(), req).await.unwrap();
    let (parts, body) = resp.into_parts();
    (parts.status, parts.headers, axum::body::to_bytes(body, usize::MAX).await.unwrap().to_vec())
}

async fn html(a: &TestApp, who: Who, path: &str) -> (StatusCode, String) {
    let (s, _, b) = page(a, who, path).await;
    (s, String::from_utf8(b).unwrap())
}

async fn post(
    a: &TestApp,
    who: Who,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (StatusCode, axum::http::HeaderMap, String) {
    let mut b = Request::post(path).header(header::CONTENT_TYPE, content_type);
    if let Some((name, value)) = a.credential(who).await {
        b = b.header(name, value);
    }
    a.send_raw(b.body(Body::from(body)).unwrap()).await
}

async fn post_form(a: &TestApp, who: Who, path: &str, body: String) -> (StatusCode, axum::http::HeaderMap, String) {
    post(a, who, path, "application/x-www-form-urlencoded", body.into_bytes()).await
}

const BOUNDARY: &str = "----jiesu-test-boundary";

/// A multipart body of text fields and `photos` files (name, declared type, bytes).
fn multipart(fields: &[(&str, &str)], files: &[(&str, &str, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (k, v) in fields {
        out.extend(format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").bytes());
    }
    for (name, kind, bytes) in files {
        out.extend(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"photos\"; filename=\"{name}\"\r\nContent-Type: {kind}\r\n\r\n"
            )
            .bytes(),
        );
        out.extend(bytes);
        out.extend(b"\r\n");
    }
    out.extend(format!("--{BOUNDARY}--\r\n").bytes());
    out
}

async fn post_multipart(
    a: &TestApp,
    who: Who,
    path: &str,
    body: Vec<u8>,
) -> (StatusCode, axum::http::HeaderMap, String) {
    post(a, who, path, &format!("multipart/form-data; boundary={BOUNDARY}"), body).await
}

fn jpeg(len: usize) -> Vec<u8> {
    let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F'];
    b.resize(len, 0x42);
    b
}

async fn file_case(a: &TestApp, text: &str, phone: &str) -> i64 {
    let body = json!({
        "channel": "hotline", "kind": "complaint", "text": text, "category": "0101",
        "place": {"street": "110101001"}, "contact": {"name": "李四", "phone": phone}
    });
    let (status, v) = a.post(OPERATOR, "/api/v1/cases", body).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    v["id"].as_i64().unwrap()
}

async fn caller_lookups(url: &str) {
    let a = TestApp::new(url, chrono::Utc::now()).await;
    let first = file_case(&a, "东华门大街占道经营，影响通行", "138-1234-5678").await;
    a.advance(chrono::Duration::minutes(5));
    let second = file_case(&a, "东华门大街夜间施工噪音扰民", "+86 13812345678").await;
    let other = file_case(&a, "路灯不亮", "13900001111").await;

    let (_, intake) = html(&a, OPERATOR, "/intake").await;
    assert!(intake.contains("hx-post=\"/intake/caller\""), "the phone field looks the caller up");
    let token = csrf_in(&intake);
    let (status, _, found) =
        post_form(&a, OPERATOR, "/intake/caller", form(&[("csrf", &token), ("phone", "０１３８ １２３４ ５６７８")]))
            .await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert!(found.contains("<b id=\"caller-total\">2</b>"), "{found}");
    let (at_second, at_first) =
        (found.find(&format!("/cases/{second}\"")).unwrap(), found.find(&format!("/cases/{first}\"")).unwrap());
    assert!(at_second < at_first, "newest first: {found}");
    assert!(!found.contains(&format!("/cases/{other}\"")) && found.contains("李四"), "{found}");
    // A first-time caller, and what is no number (no lookup made).
    let (_, _, new) =
        post_form(&a, OPERATOR, "/intake/caller", form(&[("csrf", &token), ("phone", "13700000000")])).await;
    assert!(new.contains("首次来电"), "{new}");
    for junk in ["1381", "abc", "138\u{0}12345678", ""] {
        let (status, _, none) =
            post_form(&a, OPERATOR, "/intake/caller", form(&[("csrf", &token), ("phone", junk)])).await;
        assert!(status == StatusCode::OK || status == StatusCode::BAD_REQUEST, "{junk:?}: {status}");
        assert!(!none.contains("caller-history"), "{junk:?}: {none}");
    }
    // Each lookup made is recorded, by the number's key, never the number.
    let log = a.store.caller_lookups(10).await.unwrap();
    assert_eq!(log.iter().map(|l| l.found).collect::<Vec<_>>(), vec![0, 2], "{log:?}");
    assert!(log.iter().all(|l| l.actor.user == "operator-1" && !l.phone_key.contains("12345678")));
    // Without the CSRF token, or for a role that takes no calls: refused, and not recorded.
    let (status, _, _) = post_form(&a, OPERATOR, "/intake/caller", form(&[("phone", "13812345678")])).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    for who in [S001, DISPATCHER, INSPECTOR] {
        let (_, _, page) = page(&a, who, "/cases").await;
        let token = csrf_in(&String::from_utf8(page).unwrap());
        let (status, _, body) =
            post_form(&a, who, "/intake/caller", form(&[("csrf", &token), ("phone", "13812345678")])).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{who:?}: {body}");
        assert!(!body.contains("/cases/"), "{body}");
    }
    assert_eq!(a.store.caller_lookups(10).await.unwrap().len(), 2);
}

async fn photos(url: &str) {
    let a = TestApp::new(url, chrono::Utc::now()).await;
    let id = file_case(&a, "东华门大街井盖松动", "13812345678").await;
    let (status, v) = a.act(S001, id, json!({"action": "accept"})).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let path = format!("/cases/{id}");
    let act = format!("{path}/act");
    let (_, case_page) = html(&a, S001, &path).await;
    assert!(case_page.contains("enctype=\"multipart/form-data\"") && case_page.contains("name=\"photos\""));
    let token = csrf_in(&case_page);
    let reply = |photos: Vec<(&'static str, &'static str, Vec<u8>)>, token: &str| {
        multipart(&[("csrf", token), ("action", "reply"), ("note", "已修复井盖")], &photos)
    };

    // Probes first: nothing of them is written.
    let (status, _, body) = post_multipart(&a, S001, &act, reply(vec![("x.jpg", "image/jpeg", jpeg(100))], "")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no CSRF token: {body}");
    let nul = multipart(&[("csrf", &token), ("action", "reply"), ("note", "已修复\u{0}")], &[]);
    let (status, _, body) = post_multipart(&a, S001, &act, nul).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a NUL in a multipart field: {body}");
    assert!(body.contains("U+0000"), "{body}");
    let pdf = b"%PDF-1.7 not a photo".to_vec();
    let (status, _, body) = post_multipart(&a, S001, &act, reply(vec![("x.jpg", "image/jpeg", pdf)], &token)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a PDF declared as JPEG");
    assert!(body.contains("photos") && body.contains("填写有误"), "{body}");
    let html_file = b"<html><script>alert(1)</script>".to_vec();
    let (status, _, _) = post_multipart(&a, S001, &act, reply(vec![("x.png", "image/png", html_file)], &token)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let big = jpeg(jiesu_domain::attachment::MAX_PHOTO_BYTES + 1);
    let (status, _, body) = post_multipart(&a, S001, &act, reply(vec![("big.jpg", "image/jpeg", big)], &token)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("10 MiB"), "{body}");
    let five = (0..5).map(|_| ("p.jpg", "image/jpeg", jpeg(50))).collect();
    let (status, _, body) = post_multipart(&a, S001, &act, reply(five, &token)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("at most 4"), "{body}");
    let handle = multipart(
        &[("csrf", &token), ("action", "request_return"), ("note", "非本单位")],
        &[("x.jpg", "image/jpeg", jpeg(100))],
    );
    let (status, _, body) = post_multipart(&a, S001, &act, handle).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("takes no photos"), "{body}");
    let huge = vec![0xFFu8; 42 * 1024 * 1024];
    let (status, _, _) = post_multipart(&a, S001, &act, reply(vec![("huge.jpg", "image/jpeg", huge)], &token)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let (_, v) = a.get(S001, &format!("/api/v1/cases/{id}")).await;
    assert_eq!(v["status"], "accepted", "no probe changed the case");
    assert!(a.store.attachments_in(&Scope::All, id).await.unwrap().is_empty(), "no probe left a photo");

    // The reply with two photos (and an empty file field, as a browser sends when none is chosen).
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR photo".to_vec();
    let mut body = reply(
        vec![("fix.jpg", "application/octet-stream", jpeg(2048)), ("after.png", "image/png", png.clone())],
        &token,
    );
    let empty = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"photos\"; filename=\"\"\r\nContent-Type: application/octet-stream\r\n\r\n\r\n"
    );
    body.splice(0..0, empty.into_bytes());
    let (status, headers, body) = post_multipart(&a, S001, &act, body).await;
    assert_eq!(
        (status, headers.get(header::LOCATION).map(|l| l.to_str().unwrap().to_string())),
        (StatusCode::SEE_OTHER, Some(path.clone())),
        "{body}"
    );
    let (_, v) = a.get(S001, &format!("/api/v1/cases/{id}")).await;
    assert_eq!(v["status"], "replied");
    let stored = a.store.attachments_in(&Scope::All, id).await.unwrap();
    assert_eq!(
        stored.iter().map(|p| (p.n, p.seq, p.content_type.as_str())).collect::<Vec<_>>(),
        vec![(1, 4, "image/jpeg"), (2, 4, "image/png")]
    );

    // Shown on the case page with the reply, served with its checked type to whoever sees the case.
    let (_, case_page) = html(&a, OPERATOR, &path).await;
    assert!(case_page.contains(&format!("<img src=\"/cases/{id}/attachments/1\"")), "{case_page}");
    for who in [OPERATOR, S001, INSPECTOR] {
        let (status, headers, bytes) = page(&a, who, &format!("/cases/{id}/attachments/2")).await;
        assert_eq!(status, StatusCode::OK, "{who:?}");
        assert_eq!(headers[header::CONTENT_TYPE], "image/png");
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(headers[header::CONTENT_DISPOSITION], format!("inline; filename=\"case-{id}-2.png\"").as_str());
        assert!(headers[header::CACHE_CONTROL].to_str().unwrap().contains("no-store"));
        assert_eq!(bytes, png);
    }
    // Another unit: the same 404 as a missing photo of a missing case.
    let (status, _, theirs) = page(&a, S002, &format!("/cases/{id}/attachments/1")).await;
    let (missing_status, _, missing) = page(&a, S002, &format!("/cases/{}/attachments/1", id + 1000)).await;
    assert_eq!((status, missing_status), (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND));
    assert_eq!(
        String::from_utf8(theirs).unwrap().replace(&format!("case {id} "), "case ID "),
        String::from_utf8(missing).unwrap().replace(&format!("case {} ", id + 1000), "case ID ")
    );
    for bad in ["3", "0", "-1", "x", "99999999999999999999"] {
        let (status, _, _) = page(&a, S001, &format!("/cases/{id}/attachments/{bad}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{bad}");
    }
    let (status, headers, _) = page(&a, NOBODY, &format!("/cases/{id}/attachments/1")).await;
    assert_eq!((status, headers[header::LOCATION].to_str().unwrap()), (StatusCode::SEE_OTHER, "/"), "needs a session");

    // A grid report with a photo: stored with its 受理 event.
    let (_, grid) = html(&a, INSPECTOR, "/grid").await;
    assert!(grid.contains("enctype=\"multipart/form-data\"") && grid.contains("id=\"grid-photos\""));
    let token = csrf_in(&grid);
    let report = multipart(
        &[("csrf", &token), ("text", "东华门大街 12 号门前井盖缺失"), ("address", "东华门大街 12 号")],
        &[("well.jpg", "image/jpeg", jpeg(4096))],
    );
    let (status, headers, body) = post_multipart(&a, INSPECTOR, "/grid", report).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let filed: i64 = headers[header::LOCATION].to_str().unwrap().strip_prefix("/grid?filed=").unwrap().parse().unwrap();
    let stored = a.store.attachments_in(&Scope::All, filed).await.unwrap();
    assert_eq!(stored.iter().map(|p| (p.n, p.seq, p.size)).collect::<Vec<_>>(), vec![(1, 1, 4096)]);
    // The unit fixes it; the inspector's 核查 carries a photo too.
    // (Without the gazetteer here, the dispatcher sends it to the street office.)
    let (status, v) = a.act(DISPATCHER, filed, json!({"action": "dispatch", "unit": "S001"})).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    for body in [json!({"action": "accept"}), json!({"action": "reply", "note": "已补装井盖"})] {
        let (status, v) = a.act(S001, filed, body).await;
        assert_eq!(status, StatusCode::OK, "{v}");
    }
    let verify = multipart(
        &[("csrf", &token), ("action", "verify"), ("passed", "true"), ("back", "/grid")],
        &[("check.webp", "image/webp", b"RIFF\x10\0\0\0WEBPVP8 photo".to_vec())],
    );
    let (status, headers, body) = post_multipart(&a, INSPECTOR, &format!("/cases/{filed}/act"), verify).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    assert_eq!(headers[header::LOCATION], "/grid");
    let stored = a.store.attachments_in(&Scope::All, filed).await.unwrap();
    assert_eq!(
        stored.iter().map(|p| (p.n, p.seq, p.content_type.as_str())).collect::<Vec<_>>(),
        vec![(1, 1, "image/jpeg"), (2, 5, "image/webp")]
    );
    // A citizen's Open311 photo is shown with its 受理 too, through the public Open311 media URL.
    let media = "0123456789abcdef0123456789abcdef";
    let body = json!({
        "channel": "open311", "kind": "report", "text": "美术馆后街井盖缺失", "category": "0101",
        "place": {"street": "110101001"}, "contact": {}, "title": null, "external_id": null
    });
    let draft: jiesu_domain::draft::NewCase = serde_json::from_value(body).unwrap();
    let op =
        jiesu_domain::workflow::Actor { user: "key:app".into(), role: jiesu_domain::model::Role::Citizen, unit: None };
    let receive = jiesu_domain::workflow::Action::Receive {
        category: "0101".into(),
        deadline_class: jiesu_domain::model::DeadlineClass::General,
        verify: false,
        intake: vec![],
    };
    let (e, st) = jiesu_domain::workflow::step(None, a.now(), op, receive, None).unwrap();
    let open311 = jiesu_store::Open311Intake {
        service_code: "0101".into(),
        attributes: Default::default(),
        media: Some(jiesu_store::NewMedia { id: media.into(), content_type: "image/png".into(), bytes: png.clone() }),
        media_url: None,
        client: "app".into(),
        token: None,
    };
    let via_open311 = a.store.create_case_with(&draft, &[e], &st, Some(&open311)).await.unwrap();
    let (_, case_page) = html(&a, OPERATOR, &format!("/cases/{via_open311}")).await;
    assert!(case_page.contains(&format!("<img src=\"/open311/v2/media/{media}\"")), "{case_page}");
    let (status, headers, bytes) = page(&a, NOBODY, &format!("/open311/v2/media/{media}")).await;
    assert_eq!((status, headers[header::CONTENT_TYPE].to_str().unwrap(), bytes), (StatusCode::OK, "image/png", png));

    // Without the token, nothing is filed.
    let before = a.count().await;
    let forged = multipart(&[("text", "伪造的上报")], &[("x.jpg", "image/jpeg", jpeg(100))]);
    let (status, _, _) = post_multipart(&a, INSPECTOR, "/grid", forged).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(a.count().await, before);
}

/// The JSON API's side: list and fetch a case's photos within the scope, and an action with
/// photos as multipart.
async fn api_photos(url: &str) {
    let a = TestApp::new(url, chrono::Utc::now()).await;
    let id = file_case(&a, "东华门大街路面塌陷", "13812345678").await;
    let (status, v) = a.act(S001, id, json!({"action": "accept"})).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let url = format!("/api/v1/cases/{id}/actions/photos");
    let with =
        |action: &str, photos: Vec<(&'static str, &'static str, Vec<u8>)>| multipart(&[("action", action)], &photos);

    // Probes: not multipart, no action JSON, an action that takes no photos, a photo that is none.
    let (status, _, body) = post(&a, S001, &url, "application/json", br#"{"action":"handle"}"#.to_vec()).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{body}");
    let (status, _, body) = post_multipart(&a, S001, &url, with("handle", vec![])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _, body) = post_multipart(
        &a,
        S001,
        &url,
        with(r#"{"action":"request_return","note":"x"}"#, vec![("x.jpg", "image/jpeg", jpeg(99))]),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, _, body) = post_multipart(
        &a,
        S001,
        &url,
        with(r#"{"action":"handle","contacted":true}"#, vec![("x.jpg", "image/jpeg", b"GIF89a".to_vec())]),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, _, body) = post_multipart(
        &a,
        S002,
        &url,
        with(r#"{"action":"handle","contacted":true}"#, vec![("x.jpg", "image/jpeg", jpeg(99))]),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another unit: {body}");
    let nul = with(r#"{"action":"handle","contacted":true,"note":"a\u0000b"}"#, vec![]);
    let (status, _, body) = post_multipart(&a, S001, &url, nul).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let raw_nul = multipart(&[("action", "{\"action\":\"handle\",\"contacted\":true}"), ("x\u{0}", "y")], &[]);
    let (status, _, body) = post_multipart(&a, S001, &url, raw_nul).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a NUL in a part's header is a malformed body: {body}");
    assert!(a.store.attachments_in(&Scope::All, id).await.unwrap().is_empty());

    // 1 MB: beyond the API's usual body limit, within the photo route's.
    let (status, _, body) = post_multipart(
        &a,
        S001,
        &url,
        with(
            r#"{"action":"handle","contacted":true,"note":"已到场围挡"}"#,
            vec![("a.jpg", "image/jpeg", jpeg(1_000_000))],
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["status"], "in_progress");
    let (status, list) = a.get(S001, &format!("/api/v1/cases/{id}/attachments")).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list["attachments"].as_array().unwrap().len(), 1, "{list}");
    assert_eq!(
        (list["attachments"][0]["seq"].as_u64(), list["attachments"][0]["size"].as_u64()),
        (Some(4), Some(1_000_000))
    );
    let photo_url = list["attachments"][0]["url"].as_str().unwrap().to_string();
    let (status, headers, bytes) = page(&a, S001, &photo_url).await;
    assert_eq!((status, headers[header::CONTENT_TYPE].to_str().unwrap()), (StatusCode::OK, "image/jpeg"));
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(bytes, jpeg(1_000_000));
    let (status, v) = a.get(S002, &format!("/api/v1/cases/{id}/attachments")).await;
    error_of(status, &v, StatusCode::NOT_FOUND, "not_found");
    let (status, v) = a.get(S002, &photo_url).await;
    error_of(status, &v, StatusCode::NOT_FOUND, "not_found");
    let (status, v) = a.get(NOBODY, &photo_url).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{v}");

    // A citizen sees the photos of the steps shown to them on their own case (办理 is one), and
    // another citizen's case not at all.
    let citizen = Some(("citizen", Some("app")));
    let body = json!({"channel": "app", "kind": "complaint", "text": "东华门大街路灯不亮", "category": "0101",
        "place": {"street": "110101001"}});
    let (status, v) = a.post(citizen, "/api/v1/cases", body).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    let own = v["id"].as_i64().unwrap();
    if v["assignee"] != "S001" {
        let (status, v) = a.act(DISPATCHER, own, json!({"action": "dispatch", "unit": "S001"})).await;
        assert_eq!(status, StatusCode::OK, "{v}");
    }
    let (status, v) = a.act(S001, own, json!({"action": "accept"})).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let url = format!("/api/v1/cases/{own}/actions/photos");
    let handle = with(r#"{"action":"handle","contacted":true}"#, vec![("a.jpg", "image/jpeg", jpeg(500))]);
    let (status, _, body) = post_multipart(&a, S001, &url, handle).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, list) = a.get(citizen, &format!("/api/v1/cases/{own}/attachments")).await;
    assert_eq!((status, list["attachments"].as_array().map(Vec::len)), (StatusCode::OK, Some(1)), "{list}");
    let (status, _, bytes) = page(&a, citizen, list["attachments"][0]["url"].as_str().unwrap()).await;
    assert_eq!((status, bytes.len()), (StatusCode::OK, 500));
    let (status, v) = a.get(citizen, &format!("/api/v1/cases/{id}/attachments")).await;
    error_of(status, &v, StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn api_photos_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    api_photos(&format!("sqlite://{}/jiesu.db", dir.path().display())).await;
}

#[tokio::test]
async fn api_photos_on_postgres() {
    let Some(db) = jiesu_store::testing::scratch_postgres("api_photos").await else { return };
    api_photos(&db.url).await;
    db.drop().await;
}

#[tokio::test]
async fn caller_lookups_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    caller_lookups(&format!("sqlite://{}/jiesu.db", dir.path().display())).await;
}

#[tokio::test]
async fn caller_lookups_on_postgres() {
    let Some(db) = jiesu_store::testing::scratch_postgres("console_callers").await else { return };
    caller_lookups(&db.url).await;
    db.drop().await;
}

#[tokio::test]
async fn photos_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    photos(&format!("sqlite://{}/jiesu.db", dir.path().display())).await;
}

#[tokio::test]
async fn photos_on_postgres() {
    let Some(db) = jiesu_store::testing::scratch_postgres("console_photos").await else { return };
    photos(&db.url).await;
    db.drop().await;
}

// ---------------------------------------------------------------------------------------------
// In a browser.

/// A real photo to upload: a 320×240 PNG (a manhole cover on a grey street), written by hand
/// with stored deflate blocks, so the test needs no image library.
fn street_png() -> Vec<u8> {
    let (w, h) = (320u32, 240u32);
    let mut raw = Vec::with_capacity((h * (1 + 3 * w)) as usize);
    for y in 0..h {
        raw.push(0);
        for x in 0..w {
            let (dx, dy) = (x as f64 - 160.0, y as f64 - 130.0);
            let r = (dx * dx + dy * dy).sqrt();
            let px: [u8; 3] = if r < 40.0 {
                [92, 100, 108]
            } else if r < 60.0 {
                [68, 74, 80]
            } else {
                let g = (138 + (y * 60 / h)) as u8;
                [g, g, (g as u32 * 9 / 10) as u8]
            };
            raw.extend(px);
        }
    }
    fn crc32(bytes: &[u8]) -> u32 {
        let mut c = 0xFFFF_FFFFu32;
        for &b in bytes {
            c ^= u32::from(b);
            for _ in 0..8 {
                c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
            }
        }
        !c
    }
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend((data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend(data);
        out.extend(&body);
        out.extend(crc32(&body).to_be_bytes());
    }
    // zlib: header, stored blocks, Adler-32.
    let mut z = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = raw.chunks(65_535).collect();
    for (i, b) in blocks.iter().enumerate() {
        z.push(u8::from(i + 1 == blocks.len()));
        let n = b.len() as u16;
        z.extend(n.to_le_bytes());
        z.extend((!n).to_le_bytes());
        z.extend(*b);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &x in &raw {
        a = (a + u32::from(x)) % 65_521;
        b = (b + a) % 65_521;
    }
    z.extend(((b << 16) | a).to_be_bytes());
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = w.to_be_bytes().to_vec();
    ihdr.extend(h.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]);
    chunk(&mut png, b"IHDR", &ihdr);
    chunk(&mut png, b"IDAT", &z);
    chunk(&mut png, b"IEND", &[]);
    png
}

async fn browser_desk(url: &str) {
    use common::browser::*;
    use fantoccini::Locator;
    use jiesu_core::{Config, Desk};
    use jiesu_domain::calendar::Calendar;
    use jiesu_domain::catalog::Catalog;
    use jiesu_domain::draft::{Contact, NewCase, Place};
    use jiesu_domain::model::{CaseKind, Channel, Role};
    use jiesu_domain::workflow::Actor;
    use std::sync::Arc;
    use std::time::Duration;

    let Some(driver) = chromedriver().await else { return };
    let store = jiesu_store::testing::connect(url).await.unwrap();
    let desk = Desk::new(store.clone(), Catalog::dongcheng(), Calendar::china(), Config::default())
        .with_geo(Arc::new(jiesu_geo::Geo::dongcheng_without_grid()))
        .with_classifier(Arc::new(jiesu_core::Suggester::shipped().clone()))
        .unwrap();
    let now = chrono::Utc::now();
    for (name, role, unit) in [("wang", Role::Operator, None), ("zhou", Role::GridInspector, Some("S006"))] {
        store.create_user(name, role, unit, PASSWORD, now).await.unwrap();
    }
    // A repeat caller: two earlier calls from the same mobile, spelled differently, and a stranger.
    let op = Actor { user: "wang".into(), role: Role::Operator, unit: None };
    let mut earlier = Vec::new();
    for (days, text, phone) in [
        (30, "东四北大街 107 号门前共享单车乱停，堵住盲道。", "+86 139-0011-2233"),
        (3, "东四十条地铁站 B 口夜间施工噪音扰民，凌晨还在施工。", "13900112233"),
        (1, "美术馆后街路灯不亮。", "13700000000"),
    ] {
        let case = NewCase {
            channel: Channel::Hotline,
            kind: CaseKind::Complaint,
            title: None,
            text: text.into(),
            category: String::new(),
            place: Place::default(),
            contact: Contact { name: Some("陈女士".into()), phone: Some(phone.into()), ..Contact::default() },
            external_id: None,
        };
        let rec = desk.receive(op.clone(), case, now - chrono::Duration::days(days), true).await.unwrap();
        earlier.push(rec.id);
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(jiesu_server::serve(jiesu_server::AppState::new(desk), listener, async move {
        let _ = stopped.await;
    }));
    let profile = tempfile::tempdir().unwrap();
    let s = Story { c: browser(&driver, profile.path()).await, base };

    // 来电弹屏: the operator types the number as the caller says it; their earlier 工单 appear.
    s.login("wang", "/intake").await;
    s.css("#contact-phone").await.send_keys("139 0011 2233").await.unwrap();
    s.c.wait().at_most(Duration::from_secs(20)).for_element(Locator::Id("caller-history")).await.unwrap();
    let shown = s.text("#caller-history").await;
    assert!(shown.contains("2 件历史工单") && shown.contains("陈女士"), "{shown}");
    let html = s.css("#caller-history").await.html(true).await.unwrap();
    let (newer, older) =
        (html.find(&format!("/cases/{}\"", earlier[1])), html.find(&format!("/cases/{}\"", earlier[0])));
    assert!(newer.is_some() && older.is_some() && newer < older, "both, newest first");
    assert!(!html.contains(&format!("/cases/{}\"", earlier[2])), "not the stranger's");
    s.css("#text").await.send_keys("又来反映：东四十条地铁站 B 口夜间施工噪音，还没解决。").await.unwrap();
    s.c.wait().at_most(Duration::from_secs(20)).for_element(Locator::Id("suggest-category")).await.unwrap();
    shot(&s.c, "desk-01-caller").await;
    let lookups = store.caller_lookups(10).await.unwrap();
    assert!(!lookups.is_empty() && lookups.iter().all(|l| l.actor.user == "wang"), "{lookups:?}");
    assert_eq!(lookups[0].found, 2);
    s.logout().await;

    // 网格: the inspector reports from a phone with a photo; the photo shows on the case.
    let dir = tempfile::tempdir().unwrap();
    let photo = dir.path().join("well.png");
    std::fs::write(&photo, street_png()).unwrap();
    s.c.set_window_size(390, 844).await.unwrap();
    s.login("zhou", "/grid").await;
    s.css("#grid-text").await.send_keys("东四北大街与东四十条路口东北角井盖松动，车辆经过咣当响。").await.unwrap();
    s.css("#grid-address").await.send_keys("东四北大街").await.unwrap();
    s.css("#grid-photos").await.send_keys(&photo.display().to_string()).await.unwrap();
    shot_sized(&s.c, "desk-02-grid-photo", &[("phone", 390, 844)]).await;
    s.submit("#report").await;
    assert_eq!(s.path().await, "/grid");
    let filed = s.text("#filed").await;
    let reported: i64 = filed.split_whitespace().find_map(|w| w.parse().ok()).unwrap_or_else(|| panic!("{filed}"));
    let stored = store.attachments_in(&Scope::All, reported).await.unwrap();
    assert_eq!(stored.iter().map(|a| (a.seq, a.content_type.as_str())).collect::<Vec<_>>(), vec![(1, "image/png")]);
    shot_sized(&s.c, "desk-03-grid-reported", &[("phone", 390, 844)]).await;
    // The case page shows the photo with the report (here to the desk: an unrouted report may be
    // outside the inspector's own scope until it is dispatched).
    s.logout().await;
    s.login("wang", "/intake").await;
    s.goto(&format!("/cases/{reported}")).await;
    let page = s.html().await;
    assert!(page.contains("class=\"thumb\""), "{page}");
    let img = s.css("#timeline img.thumb").await;
    // The thumbnail loads (lazily, once in view; a broken image has no natural width).
    s.c.execute("document.querySelector('#timeline').scrollIntoView()", vec![]).await.unwrap();
    let script = "const i = document.querySelector('#timeline img.thumb'); return i.complete ? i.naturalWidth : -1";
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let width = loop {
        let w = s.c.execute(script, vec![]).await.unwrap();
        if w != json!(-1) || std::time::Instant::now() > deadline {
            break w;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(width, json!(320), "{:?}", img.attr("src").await);
    let png = s.c.screenshot().await.unwrap();
    let shots = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).parent().unwrap().join("screenshots");
    std::fs::write(shots.join("desk-04-case-photo-phone.png"), png).unwrap();

    s.c.close().await.unwrap();
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn browser_desk_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    browser_desk(&format!("sqlite://{}/jiesu.db", dir.path().display())).await;
}

#[tokio::test]
async fn browser_desk_on_postgres() {
    let Some(db) = jiesu_store::testing::scratch_postgres("console_desk_browser").await else { return };
    browser_desk(&db.url).await;
    db.drop().await;
}
