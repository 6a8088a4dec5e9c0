//! Trust at the edge (issue 9): no personal data in what anonymous users read (JSON and XML, Open311
//! requests, notes and updates), XML that every client can parse whatever was stored, NUL and other
//! control characters and invalid UTF-8 refused with a 4xx naming the field on every route and
//! both backends, points outside the district and over-long fields refused, WGS-84 at the APIs.

mod common;

use axum::body::Body;
use axum::http::{HeaderValue, Method, Request, StatusCode, header};
use chrono::Utc;
use common::*;
use jiesu_domain::draft::{Contact, NewCase, Place};
use jiesu_domain::model::{CaseKind, Channel, Role};
use jiesu_domain::workflow::Actor;
use proptest::prelude::*;
use serde_json::{Value, json};

const START: &str = "2026-11-27T01:30:00Z";
const O311: &str = "/open311/v2";

/// What a citizen wrote: every identifier the old masking let through, and a house number.
const PROBES: &str = "我叫张三丰，电话138-1234-5678或138 1234 5678，备用１３９１２３４５６７８，\
邮箱zhang.sanfeng@example.com，身份证11010519491231002X，车牌京A·D12345停在东四十条21号门口";
/// What must not be readable anywhere public.
const SECRETS: [&str; 10] = [
    "张三丰",
    "1234-5678",
    "1234 5678",
    "１２３４５６７８",
    "zhang.sanfeng",
    "19491231",
    "D12345",
    "王先生",
    "65123456",
    "912345",
];

fn assert_public(body: &str) {
    for s in SECRETS {
        assert!(!body.contains(s), "'{s}' readable in public output: {body}");
    }
}

/// True for the characters XML 1.0 allows.
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

/// Asserts that `xml` is a document a strict parser accepts: only XML 1.0 characters (raw or
/// escaped), balanced elements, as quick-xml reads it.
fn assert_well_formed(xml: &str) {
    assert!(xml.chars().all(xml_char), "a character XML forbids: {xml:?}");
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut depth = 0i32;
    loop {
        match reader.read_event().unwrap_or_else(|e| panic!("malformed XML: {e}\n{xml}")) {
            quick_xml::events::Event::Start(_) => depth += 1,
            quick_xml::events::Event::End(_) => depth -= 1,
            quick_xml::events::Event::Text(t) => {
                let text = t.decode().unwrap_or_else(|e| panic!("bad text: {e}\n{xml}"));
                assert!(text.chars().all(xml_char), "{xml:?}");
            }
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(depth, 0, "{xml}");
}

async fn raw(
    a: &TestApp,
    method: Method,
    uri: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> (StatusCode, String) {
    let mut b = Request::builder().method(method).uri(uri).header("host", "open311.test");
    if let Some(ct) = content_type {
        b = b.header(header::CONTENT_TYPE, ct);
    }
    let (status, _, text) = a.send_raw(b.body(Body::from(body)).unwrap()).await;
    (status, text)
}

async fn form(a: &TestApp, path: &str, pairs: &[(&str, &str)]) -> (StatusCode, String) {
    let body: String = form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
    raw(a, Method::POST, &format!("{O311}/{path}"), Some("application/x-www-form-urlencoded"), body.into_bytes()).await
}

async fn open311_key(a: &TestApp) -> String {
    a.store.create_api_key("o311-client", Role::Citizen, None, Utc::now()).await.unwrap().1
}

fn heating<'a>(key: &'a str, description: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("api_key", key),
        ("service_code", "0401"),
        ("lat", "39.9289"),
        ("long", "116.4168"),
        ("address_string", "东城区东四十条甲22号"),
        ("description", description),
        ("first_name", "三丰"),
        ("last_name", "张"),
        ("phone", "13912345678"),
        ("attribute[ROOM_TEMP]", "14.5"),
    ]
}

async fn personal_data_is_masked_everywhere_public(url: &str) {
    let a = TestApp::new(url, t(START)).await;
    let key = open311_key(&a).await;
    let (s, body) = form(&a, "requests.json", &heating(&key, PROBES)).await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let id: i64 =
        serde_json::from_str::<Value>(&body).unwrap()[0]["service_request_id"].as_str().unwrap().parse().unwrap();
    // A public reply with a name, a landline and a mobile; a client update with more.
    let handler = Some(("unit_handler", Some("U04")));
    let (s, v) = a.act(handler, id, json!({"action": "accept"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let note = "已派人检修，请联系王先生，电话010-65123456或139 1234 5678";
    let (s, v) = a.act(handler, id, json!({"action": "reply", "note": note})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let update = [
        ("api_key", key.as_str()),
        ("service_request_id", &id.to_string()),
        ("update_id", "fms-1"),
        ("status", "OPEN"),
        ("updated_datetime", "2026-11-27T12:00:00+08:00"),
        ("description", "还是不热，我是张三丰，手机+86 138 1234 5678"),
    ]
    .map(|(k, v)| (k, v.to_string()));
    let pairs: Vec<(&str, &str)> = update.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (s, body) = form(&a, "servicerequestupdates.json", &pairs).await;
    assert_eq!(s, StatusCode::CREATED, "{body}");

    for path in [
        format!("requests/{id}.json?extensions=true"),
        format!("requests/{id}.xml?extensions=true"),
        "requests.json?extensions=true".to_string(),
        "requests.xml".to_string(),
        "servicerequestupdates.json".to_string(),
        "servicerequestupdates.xml".to_string(),
    ] {
        let (s, body) = raw(&a, Method::GET, &format!("{O311}/{path}"), None, vec![]).await;
        assert_eq!(s, StatusCode::OK, "{path}: {body}");
        assert_public(&body);
        if path.contains(".xml") {
            assert_well_formed(&body);
        }
        if path.starts_with("requests/") {
            assert!(body.contains("东四十条21号门口"), "the house number stays: {body}");
        }
    }
    a.store.close().await;
}

#[tokio::test]
async fn personal_data_is_masked_everywhere_public_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    personal_data_is_masked_everywhere_public(&format!("sqlite://{}/j.db", dir.path().display())).await;
}

#[tokio::test]
async fn personal_data_is_masked_everywhere_public_on_postgres() {
    let Some(db) = jiesu_store::testing::scratch_postgres("trust_pd").await else { return };
    personal_data_is_masked_everywhere_public(&db.url).await;
    db.drop().await;
}

/// Stores a case with `text` through the desk (past the edge) and reads it back as Open311 XML.
async fn stored_text_renders(a: &TestApp, desk: &jiesu_core::Desk, text: &str) {
    let draft = NewCase {
        channel: Channel::Hotline,
        kind: CaseKind::Complaint,
        title: None,
        text: text.to_string(),
        category: "0401".into(),
        place: Place { address: Some(format!("东四{text}")), ..Place::default() },
        contact: Contact::default(),
        external_id: None,
    };
    let actor = Actor { user: "op".into(), role: Role::Operator, unit: None };
    let rec = desk.receive(actor, draft, a.now(), true).await.unwrap();
    let (s, _, xml) = a
        .send_raw(Request::get(format!("{O311}/requests/{}.xml?extensions=true", rec.id)).body(Body::empty()).unwrap())
        .await;
    assert_eq!(s, StatusCode::OK, "{xml}");
    assert_well_formed(&xml);
    let (s, _, xml) = a.send_raw(Request::get(format!("{O311}/requests.xml")).body(Body::empty()).unwrap()).await;
    assert_eq!(s, StatusCode::OK);
    assert_well_formed(&xml);
}

async fn desk_of(url: &str) -> jiesu_core::Desk {
    let store = jiesu_store::testing::connect(url).await.unwrap();
    jiesu_core::Desk::new(
        store,
        jiesu_domain::catalog::Catalog::dongcheng(),
        jiesu_domain::calendar::Calendar::china(),
        jiesu_core::Config::default(),
    )
}

#[test]
fn any_stored_text_renders_to_well_formed_xml_on_sqlite() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/j.db", dir.path().display());
    let (a, desk) = rt.block_on(async { (TestApp::new(&url, t(START)).await, desk_of(&url).await) });
    // The probes of the issue first, then arbitrary text.
    rt.block_on(stored_text_renders(&a, &desk, "暖气\u{1}不热\u{b}\u{1b}[31m\u{0}\u{fffe}\u{ffff}"));
    let config = ProptestConfig { cases: 48, ..ProptestConfig::default() };
    proptest!(config, |(text in "\\PC{0,20}[\\x00-\\x1f\\u{fffe}\\u{ffff}]{1,5}\\PC{0,20}")| {
        prop_assume!(!text.trim().is_empty());
        rt.block_on(stored_text_renders(&a, &desk, &text));
    });
}

#[tokio::test]
async fn stored_control_characters_render_to_well_formed_xml_on_postgres() {
    let Some(db) = jiesu_store::testing::scratch_postgres("trust_xml").await else { return };
    let a = TestApp::new(&db.url, t(START)).await;
    let desk = desk_of(&db.url).await;
    // PostgreSQL stores every control character but NUL.
    let controls: String = (1u8..0x20).map(char::from).collect();
    stored_text_renders(&a, &desk, &format!("暖气{controls}不热\u{fffe}")).await;
    a.store.close().await;
    db.drop().await;
}

/// Every route of the JSON API (from its OpenAPI document) and of Open311, with a NUL in each kind
/// of input: a 4xx that names the field, never a 500.
async fn nul_is_refused_everywhere(url: &str) {
    let a = TestApp::new(url, t(START)).await;
    let (s, v) = a.post(OPERATOR, "/api/v1/cases", new_case_body(&street_category())).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["id"].as_i64().unwrap();
    let doc = serde_json::to_value(jiesu_server::openapi_document()).unwrap();
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 15, "{}", paths.len());
    for (path, ops) in paths {
        for (method, op) in ops.as_object().unwrap().iter().filter(|(m, _)| ["get", "post"].contains(&m.as_str())) {
            let method: Method = method.to_uppercase().parse().unwrap();
            // A JSON body (a multipart route answers 415 to JSON; its NUL probes are in
            // `console_desk.rs`).
            let takes_body = op.get("requestBody").is_some_and(|b| b["content"].get("application/json").is_some());
            let with = |param: &str| {
                let mut p = path.clone();
                for name in ["id", "year", "device"] {
                    p = p.replace(&format!("{{{name}}}"), param);
                }
                p
            };
            // A NUL in a path segment, in a query parameter, in a JSON body.
            let cases: Vec<(String, Option<String>, &str)> = vec![
                (with("%00"), None, "path"),
                (format!("{}?q=%00", with(&id.to_string())), None, "q"),
                (
                    with(&id.to_string()),
                    Some(json!({"name": "a\u{0}", "text": "\u{0}", "note": "x\u{0}y"}).to_string()),
                    "body",
                ),
            ];
            for (uri, body, what) in cases {
                if what == "path" && !path.contains('{') || what == "body" && !takes_body {
                    continue;
                }
                for who in [NOBODY, OPERATOR] {
                    let req = a.request(method.clone(), &uri, who, body.clone()).await;
                    let (s, _, text) = a.send_raw(req).await;
                    assert!(s.is_client_error(), "{method} {uri} ({what}, {who:?}): {s} {text}");
                    // The edge checks come before who is acting: the field is named either way.
                    if what != "body" || path == "/api/v1/login" || who.is_some() {
                        assert_eq!(s, StatusCode::BAD_REQUEST, "{method} {uri} ({what}): {text}");
                        assert!(text.contains("U+0000"), "{method} {uri} ({what}): {text}");
                    }
                }
            }
        }
    }
    // Login by name and by password, the routes a stranger reaches.
    for body in [json!({"name": "a\u{0}", "password": "x"}), json!({"name": "a", "password": "\u{0}"})] {
        let (s, v) = a.post(NOBODY, "/api/v1/login", body).await;
        let e = error_of(s, &v, StatusCode::BAD_REQUEST, "bad_request");
        assert!(["name", "password"].contains(&fields(&e)[0].as_str()), "{v}");
    }
    // Headers: an API key or a cookie that is not text is refused as a credential, not a crash.
    for (name, value) in
        [("x-api-key", &b"jsk_\xff\xfe"[..]), ("authorization", b"Bearer \x80abc"), ("cookie", b"jiesu_session=\xff")]
    {
        let req = Request::get("/api/v1/me").header(name, HeaderValue::from_bytes(value).unwrap()).body(Body::empty());
        let (s, _, text) = a.send_raw(req.unwrap()).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{name}: {text}");
    }

    // Open311: every route, NUL in the path, the query and each form field.
    let key = open311_key(&a).await;
    for uri in [
        "discovery.json?jurisdiction_id=%00",
        "services.json?jurisdiction_id=%00",
        "services/%00.json",
        "services/0401.json?jurisdiction_id=%00",
        "requests.json?service_code=%00",
        "requests.json?service_request_id=%00",
        "requests.json?start_date=%00",
        "requests/%00.json",
        "tokens/%00.json",
        "tokens/abc%00.xml",
        "servicerequestupdates.json?start_date=%00",
        "media/%00",
    ] {
        let (s, body) = raw(&a, Method::GET, &format!("{O311}/{uri}"), None, vec![]).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{uri}: {body}");
        assert!(body.contains("U+0000"), "{uri}: {body}");
    }
    let good = heating(&key, "暖气不热");
    for i in 0..good.len() {
        let mut pairs = good.clone();
        let poisoned = format!("{}\u{0}", pairs[i].1);
        pairs[i].1 = &poisoned;
        let (s, body) = form(&a, "requests.json", &pairs).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{}: {body}", pairs[i].0);
        assert!(body.contains(pairs[i].0) && body.contains("U+0000"), "{}: {body}", pairs[i].0);
    }
    let id_text = id.to_string();
    let update = [
        ("api_key", key.as_str()),
        ("service_request_id", id_text.as_str()),
        ("update_id", "u-1"),
        ("status", "OPEN"),
        ("updated_datetime", "2026-11-27T12:00:00+08:00"),
        ("description", "还是不热"),
    ];
    for i in 0..update.len() {
        let mut pairs = update;
        let poisoned = format!("{}\u{0}", pairs[i].1);
        pairs[i].1 = &poisoned;
        let (s, body) = form(&a, "servicerequestupdates.json", &pairs).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{}: {body}", pairs[i].0);
        assert!(body.contains(pairs[i].0), "{}: {body}", pairs[i].0);
    }
    // Other control characters are refused too; tab and newlines are text.
    for c in ["\u{1}", "\u{b}", "\u{1b}"] {
        let d = format!("暖气{c}不热");
        let (s, body) = form(&a, "requests.xml", &heating(&key, &d)).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{c:?}: {body}");
        assert!(body.contains("<description>description: contains the character U+"), "{body}");
    }
    let (s, body) = form(&a, "requests.json", &heating(&key, "暖气\t不热\r\n请处理")).await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let mut case = new_case_body(&street_category());
    case["place"]["address"] = json!("东四\u{1b}[2J");
    let (s, v) = a.post(OPERATOR, "/api/v1/cases", case).await;
    assert_eq!(fields(&error_of(s, &v, StatusCode::BAD_REQUEST, "bad_request")), ["place.address"], "{v}");
    a.store.close().await;
}

#[tokio::test]
async fn nul_is_refused_everywhere_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    nul_is_refused_everywhere(&format!("sqlite://{}/j.db", dir.path().display())).await;
}

#[tokio::test]
async fn nul_is_refused_everywhere_on_postgres() {
    let Some(db) = jiesu_store::testing::scratch_postgres("trust_nul").await else { return };
    nul_is_refused_everywhere(&db.url).await;
    db.drop().await;
}

#[tokio::test]
async fn invalid_utf8_is_refused_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let a = TestApp::new(&format!("sqlite://{}/j.db", dir.path().display()), t(START)).await;
    let key = open311_key(&a).await;
    let before = a.count().await;
    // A form body, percent-encoded and raw.
    let body =
        format!("api_key={key}&service_code=0401&address_string=x&attribute%5BROOM_TEMP%5D=14&description=%FF%FE");
    let (s, text) =
        raw(&a, Method::POST, &format!("{O311}/requests.json"), Some("application/x-www-form-urlencoded"), body.into())
            .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{text}");
    assert!(text.contains("description: is not valid UTF-8"), "{text}");
    let mut body = format!("api_key={key}&service_code=0401&address_string=x&attribute%5BROOM_TEMP%5D=14&description=")
        .into_bytes();
    body.extend(b"\xe6\x9a");
    let (s, text) =
        raw(&a, Method::POST, &format!("{O311}/requests.json"), Some("application/x-www-form-urlencoded"), body).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{text}");
    // A query string, on both APIs.
    let (s, text) = raw(&a, Method::GET, &format!("{O311}/requests.json?service_code=%C3%28"), None, vec![]).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{text}");
    assert!(text.contains("service_code: is not valid UTF-8"), "{text}");
    let (s, v) = a.get(OPERATOR, "/api/v1/cases?q=%FF").await;
    assert_eq!(fields(&error_of(s, &v, StatusCode::BAD_REQUEST, "bad_request")), ["q"]);
    // A JSON body.
    let req = a.request(Method::POST, "/api/v1/cases", OPERATOR, None).await;
    let (mut parts, _) = req.into_parts();
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let req = Request::from_parts(parts, Body::from(&b"{\"text\": \"\xff\"}"[..]));
    let (s, _, text) = a.send_raw(req).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{text}");
    assert_eq!(a.count().await, before, "nothing stored");
}

#[tokio::test]
async fn garbage_points_lengths_and_wildcards_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let a = TestApp::new(&format!("sqlite://{}/j.db", dir.path().display()), t(START)).await;
    let key = open311_key(&a).await;
    let before = a.count().await;
    // Points far outside the district, on both APIs.
    for (lat, lon, bad) in [
        (0.0, 0.0, vec!["place.lat", "place.lon"]),
        (-39.93, -116.41, vec!["place.lat", "place.lon"]),
        (39.93, 117.2, vec!["place.lon"]),
        (31.23, 116.41, vec!["place.lat"]),
    ] {
        let mut case = new_case_body(&street_category());
        case["place"]["lat"] = json!(lat);
        case["place"]["lon"] = json!(lon);
        let (s, v) = a.post(OPERATOR, "/api/v1/cases", case).await;
        let e = error_of(s, &v, StatusCode::UNPROCESSABLE_ENTITY, "invalid");
        assert_eq!(fields(&e), bad, "{v}");
        assert!(e["message"].as_str().unwrap().contains("outside the district"), "{v}");
        let (la, lo) = (lat.to_string(), lon.to_string());
        let mut pairs = heating(&key, "暖气不热");
        pairs[2].1 = &la;
        pairs[3].1 = &lo;
        let (s, body) = form(&a, "requests.json", &pairs).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
        assert!(body.contains("outside the district"), "{body}");
    }
    // A name of 10,000 characters; a query parameter of 1,001.
    let mut case = new_case_body(&street_category());
    case["contact"]["name"] = json!("张".repeat(10_000));
    case["title"] = json!("题".repeat(201));
    let (s, v) = a.post(OPERATOR, "/api/v1/cases", case).await;
    assert_eq!(fields(&error_of(s, &v, StatusCode::BAD_REQUEST, "bad_request")), ["title", "contact.name"]);
    let long = "三".repeat(10_000);
    let mut pairs = heating(&key, "暖气不热");
    pairs[6].1 = &long;
    let (s, body) = form(&a, "requests.json", &pairs).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("first_name/last_name: longer than 50"), "{body}");
    let (s, v) = a.get(OPERATOR, &format!("/api/v1/cases?external_id={}", "x".repeat(1001))).await;
    assert_eq!(fields(&error_of(s, &v, StatusCode::BAD_REQUEST, "bad_request")), ["external_id"]);
    assert_eq!(a.count().await, before, "nothing stored");
    // LIKE wildcards are taken literally: they match no case.
    let (s, v) = a.post(OPERATOR, "/api/v1/cases", new_case_body(&street_category())).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (_, v) = a.get(OPERATOR, "/api/v1/cases?q=%E6%A5%BC%E9%81%93").await;
    assert_eq!(v["total"], 1, "楼道 finds it: {v}");
    for q in ["%25", "_", "%25%25", "%5C"] {
        let (s, v) = a.get(OPERATOR, &format!("/api/v1/cases?q={q}")).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["total"], 0, "q={q}: {v}");
    }
}

#[tokio::test]
async fn the_apis_speak_wgs84_and_the_store_gcj02() {
    let dir = tempfile::tempdir().unwrap();
    let a = TestApp::new(&format!("sqlite://{}/j.db", dir.path().display()), t(START)).await;
    let (lat, lon) = (39.9289, 116.4168);
    let mut case = new_case_body(&street_category());
    case["place"]["lat"] = json!(lat);
    case["place"]["lon"] = json!(lon);
    let (s, v) = a.post(OPERATOR, "/api/v1/cases", case).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!((v["place"]["lat"].as_f64(), v["place"]["lon"].as_f64()), (Some(lat), Some(lon)), "{v}");
    let id = v["id"].as_i64().unwrap();
    let rec = a.store.case(id).await.unwrap();
    let (glon, glat) = jiesu_geo::datum::wgs84_to_gcj02(lon, lat);
    assert_eq!((rec.case.place.lat, rec.case.place.lon), (Some(glat), Some(glon)), "stored in the map's datum");
    assert!(glon - lon > 0.005, "a few hundred metres east");
    let (_, v) = a.get(OPERATOR, &format!("/api/v1/cases/{id}")).await;
    assert_eq!((v["place"]["lat"].as_f64(), v["place"]["lon"].as_f64()), (Some(lat), Some(lon)));
    let (_, body) = raw(&a, Method::GET, &format!("{O311}/requests/{id}.json"), None, vec![]).await;
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!((v[0]["lat"].as_f64(), v[0]["long"].as_f64()), (Some(lat), Some(lon)), "{v}");
    // The OpenAPI document says so.
    let doc = jiesu_server::openapi_json();
    assert!(doc.contains("WGS-84") && doc.contains("GCJ-02"), "the datum is documented");
}
