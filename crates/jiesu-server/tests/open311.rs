//! Open311 GeoReport v2, in process (`oneshot` on the router): every route in JSON and XML, one
//! story told on SQLite and on PostgreSQL (when `DATABASE_URL` names a server), and the bad input
//! a real client may send, each refused with the spec's error list in the format asked for.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use chrono::{DateTime, Utc};
use jiesu_core::{Config, Desk};
use jiesu_domain::calendar::Calendar;
use jiesu_domain::catalog::Catalog;
use jiesu_domain::model::{CaseKind, Channel, Role, Status};
use jiesu_domain::suggestion::Outcome;
use jiesu_server::open311::Open311Config;
use jiesu_server::{AppState, app};
use jiesu_store::Store;
use serde_json::{Value, json};
use tower::ServiceExt;

const BASE: &str = "/open311/v2";
const PHONE: &str = "13912345678";
const NAME: (&str, &str) = ("三丰", "张");
const EMAIL: &str = "zhang.sanfeng@example.com";
/// The smallest valid PNG (1×1).
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\rIDATx\x9cc\xf8\xff\xff?\0\x05\xfe\x02\xfe\xa7\x35\x81\x84\0\0\0\0IEND\xaeB`\x82";

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

struct TestApp {
    router: Router,
    store: Store,
    clock: Arc<Mutex<DateTime<Utc>>>,
    /// An Open311 client's API key.
    key: &'static str,
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    bytes: Bytes,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes)
            .unwrap_or_else(|_| panic!("{}: not JSON: {}", self.status, String::from_utf8_lossy(&self.bytes)))
    }

    fn text(&self) -> String {
        String::from_utf8(self.bytes.to_vec()).unwrap()
    }

    /// The body as XML: checked well-formed; returns the text.
    fn xml(&self) -> String {
        let text = self.text();
        assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>"), "{text}");
        assert!(self.headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/xml"), "{:?}", self.headers);
        let mut reader = quick_xml::Reader::from_str(&text);
        let mut depth = 0i32;
        loop {
            match reader.read_event().unwrap_or_else(|e| panic!("malformed XML: {e}\n{text}")) {
                quick_xml::events::Event::Start(_) => depth += 1,
                quick_xml::events::Event::End(_) => depth -= 1,
                quick_xml::events::Event::Eof => break,
                _ => {}
            }
        }
        assert_eq!(depth, 0, "{text}");
        text
    }

    /// Asserts a spec error list with `status` in JSON; returns the descriptions joined.
    fn json_error(&self, status: StatusCode) -> String {
        assert_eq!(self.status, status, "{}", self.text());
        let v = self.json();
        let list = v.as_array().unwrap_or_else(|| panic!("errors are a list: {v}"));
        assert!(!list.is_empty());
        for e in list {
            assert_eq!(e["code"], json!(status.as_u16()), "{v}");
        }
        list.iter().map(|e| e["description"].as_str().unwrap().to_string()).collect::<Vec<_>>().join(" | ")
    }

    /// Asserts a spec error list with `status` in XML; returns the text.
    fn xml_error(&self, status: StatusCode) -> String {
        assert_eq!(self.status, status, "{}", self.text());
        let x = self.xml();
        assert!(x.contains("<errors>") && x.contains(&format!("<code>{}</code>", status.as_u16())), "{x}");
        assert!(x.contains("<description>"), "{x}");
        x
    }
}

impl TestApp {
    async fn new(url: &str) -> TestApp {
        TestApp::with_post_limit(url, 60).await
    }

    async fn with_post_limit(url: &str, posts_per_minute: u32) -> TestApp {
        let store = jiesu_store::testing::connect(url).await.expect("connect");
        // As `jiesu serve` runs it: with the shipped category classifier.
        let desk = Desk::new(store.clone(), Catalog::dongcheng(), Calendar::china(), Config::default())
            .with_classifier(Arc::new(jiesu_core::Suggester::shipped().clone()))
            .expect("the catalog has the manual-queue category");
        let clock = Arc::new(Mutex::new(t("2026-11-27T09:30:00+08:00")));
        let c = clock.clone();
        let config = Open311Config { max_upload_bytes: 64 * 1024, ..Open311Config::default() };
        let mut state = AppState::new(desk).with_clock(move || *c.lock().unwrap()).with_open311(config);
        state.open311_posts = jiesu_server::RateLimiter::per_minute(posts_per_minute);
        let (_, secret) = store.create_api_key("open311-test", Role::Citizen, None, Utc::now()).await.unwrap();
        TestApp { router: app(state), store, clock, key: Box::leak(secret.into_boxed_str()) }
    }

    async fn send(&self, req: Request<Body>) -> Reply {
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap();
        Reply { status, headers, bytes }
    }

    async fn get(&self, path: &str) -> Reply {
        let uri = if path.starts_with('/') { path.to_string() } else { format!("{BASE}/{path}") };
        self.send(Request::builder().uri(uri).header("host", "open311.test").body(Body::empty()).unwrap()).await
    }

    async fn form(&self, path: &str, pairs: &[(&str, &str)]) -> Reply {
        let body: String = form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
        let req = Request::builder()
            .method(Method::POST)
            .uri(format!("{BASE}/{path}"))
            .header("host", "open311.test")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded; charset=utf-8")
            .body(Body::from(body))
            .unwrap();
        self.send(req).await
    }

    async fn multipart(&self, path: &str, pairs: &[(&str, &str)], file: Option<(&str, &[u8])>) -> Reply {
        let boundary = "----jiesu-open311-test";
        let mut body: Vec<u8> = Vec::new();
        for (k, v) in pairs {
            body.extend(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes(),
            );
        }
        if let Some((content_type, bytes)) = file {
            body.extend(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"media\"; filename=\"photo\"\r\nContent-Type: {content_type}\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend(bytes);
            body.extend(b"\r\n");
        }
        body.extend(format!("--{boundary}--\r\n").as_bytes());
        let req = Request::builder()
            .method(Method::POST)
            .uri(format!("{BASE}/{path}"))
            .header("host", "open311.test")
            .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
            .body(Body::from(body))
            .unwrap();
        self.send(req).await
    }

    /// An action of the loop through the JSON API, with a key of `role` (and `unit`).
    async fn act(&self, role: &str, unit: Option<&str>, id: &str, body: Value) {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (_, secret) =
            self.store.create_api_key(&format!("{role}-{n}"), role.parse().unwrap(), unit, Utc::now()).await.unwrap();
        let b = Request::builder()
            .method(Method::POST)
            .uri(format!("/api/v1/cases/{id}/actions"))
            .header(header::CONTENT_TYPE, "application/json")
            .header("x-api-key", secret);
        let r = self.send(b.body(Body::from(body.to_string())).unwrap()).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    }
}

/// No personal data in an Open311 body.
fn assert_no_personal_data(body: &str) {
    for secret in [PHONE, "张三丰", EMAIL, "zhang.sanfeng"] {
        assert!(!body.contains(secret), "personal data '{secret}' in Open311 output: {body}");
    }
}

/// A heating complaint (0401, realtime) with a required number attribute.
fn heating_post<'a>(key: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut v = vec![
        ("api_key", key),
        ("jurisdiction_id", "bjdch.gov.cn"),
        ("service_code", "0401"),
        ("lat", "39.9289"),
        ("long", "116.4168"),
        ("address_string", "东城区东四十条甲22号"),
        ("description", "家里暖气不热，请联系13912345678"),
        ("first_name", NAME.0),
        ("last_name", NAME.1),
        ("phone", PHONE),
        ("email", EMAIL),
        ("attribute[ROOM_TEMP]", "14.5"),
        ("attribute[KIND]", "help"),
        ("device_id", ""),
    ];
    v.extend_from_slice(extra);
    v
}

async fn story(url: &str) {
    let a = TestApp::new(url).await;

    // Discovery, in both formats.
    let d = a.get("discovery.json").await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.text());
    let v = d.json();
    assert_eq!(v["endpoints"][0]["url"], "http://open311.test/open311/v2");
    assert_eq!(v["endpoints"][0]["formats"], json!(["text/xml", "application/json"]));
    let x = a.get("discovery.xml").await.xml();
    assert!(x.contains("<discovery>") && x.contains("<endpoints>") && x.contains("<format>text/xml</format>"), "{x}");

    // Services: every leaf category, codes as strings; batch for complex matters.
    let v = a.get("services.json").await.json();
    let list = v.as_array().unwrap();
    assert_eq!(list.len(), Catalog::dongcheng().leaf_categories().len());
    let heat = list.iter().find(|s| s["service_code"] == "0401").unwrap();
    assert_eq!((heat["service_name"].as_str(), heat["group"].as_str()), (Some("暖气不热"), Some("供暖")));
    assert_eq!((heat["type"].as_str(), heat["metadata"].as_bool()), (Some("realtime"), Some(true)));
    assert_eq!(list.iter().find(|s| s["service_code"] == "0102").unwrap()["type"], "batch");
    let x = a.get("services.xml").await.xml();
    assert!(x.contains("<services>\n  <service>") && x.contains("<service_code>0401</service_code>"), "{x}");
    // Without a suffix: Accept decides, XML by default.
    assert!(a.get("services").await.xml().contains("<services>"));

    // A service definition with every datatype's fields; also at the `service/{code}` alias.
    let def = a.get("services/0902.json").await.json();
    assert_eq!(def["service_code"], "0902");
    let attrs = def["attributes"].as_array().unwrap();
    let hours = attrs.iter().find(|x| x["code"] == "HOURS").unwrap();
    assert_eq!(
        (hours["datatype"].as_str(), hours["required"].as_bool(), hours["variable"].as_bool()),
        (Some("multivaluelist"), Some(true), Some(true))
    );
    assert_eq!(hours["values"][3], json!({"key": "night", "name": "夜间（22–6时）"}));
    let orders: Vec<u64> = attrs.iter().map(|x| x["order"].as_u64().unwrap()).collect();
    assert!(orders.windows(2).all(|w| w[0] < w[1]), "{orders:?}");
    let x = a.get("services/0902.xml").await.xml();
    assert!(x.contains("<service_definition>") && x.contains("<attribute>") && x.contains("<key>night</key>"), "{x}");
    assert_eq!(a.get("service/0902.json").await.json(), def);

    // POST a realtime request (form-urlencoded): it becomes a routed case with a deadline.
    let r = a.form("requests.json", &heating_post(a.key, &[])).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let v = r.json();
    let id = v[0]["service_request_id"].as_str().expect("the id is a string").to_string();
    assert!(v[0].get("token").is_none(), "{v}");
    assert!(v[0]["service_notice"].as_str().unwrap().contains("热力集团"), "{v}");
    let rec = a.store.case(id.parse().unwrap()).await.unwrap();
    assert_eq!((rec.case.channel, rec.case.kind), (Channel::Open311, CaseKind::Help));
    assert_eq!((rec.state.status, rec.state.assignee.as_deref()), (Status::Dispatched, Some("U04")));
    assert_eq!(rec.case.contact.name.as_deref(), Some("张三丰"), "the contact is kept for the unit and the callback");
    assert!(rec.case.text.contains("室内温度（℃）：14.5") && rec.case.text.contains("求助"), "{}", rec.case.text);
    // The service code is the category; the classifier's suggestion is recorded beside it.
    let events = a.store.events(rec.id).await.unwrap();
    let jiesu_domain::workflow::Action::Receive { category, intake, .. } = &events[0].action else { panic!() };
    assert_eq!(category, "0401");
    let s = intake.iter().find(|s| s.field == "category").expect("a category suggestion");
    match s.outcome {
        Outcome::Confirmed => assert_eq!(s.value, "0401"),
        Outcome::Overridden => assert_eq!(s.chosen.as_deref(), Some("0401"), "{s:?}"),
        other => panic!("{other:?}: {s:?}"),
    }

    // The single request, a one-element list in both formats, without personal data.
    let r = a.get(&format!("requests/{id}.json")).await;
    assert_no_personal_data(&r.text());
    let v = r.json();
    assert_eq!(v.as_array().unwrap().len(), 1);
    let one = &v[0];
    assert_eq!(
        (one["service_request_id"].as_str(), one["status"].as_str(), one["service_code"].as_str()),
        (Some(id.as_str()), Some("open"), Some("0401"))
    );
    assert_eq!(one["requested_datetime"], "2026-11-27T09:30:00+08:00");
    assert_eq!(one["expected_datetime"], "2026-11-28T09:30:00+08:00", "24 hours for heating");
    assert_eq!((one["lat"].as_f64(), one["long"].as_f64()), (Some(39.9289), Some(116.4168)));
    assert_eq!(
        one["description"],
        "家里暖气不热，请联系139****5678\n【补充信息】\n诉求类型：求助\n室内温度（℃）：14.5"
    );
    let x = a.get(&format!("requests/{id}.xml")).await.xml();
    assert_no_personal_data(&x);
    assert!(
        x.contains("<service_requests>\n  <request>")
            && x.contains(&format!("<service_request_id>{id}</service_request_id>")),
        "{x}"
    );

    // A batch service, multipart with a photo: a token first, then the id, then the photo back.
    a.clock.lock().unwrap().clone_from(&t("2026-11-27T10:00:00+08:00"));
    let pairs = [
        ("api_key", a.key),
        ("service_code", "0102"),
        ("address_id", "110101001001"),
        ("description", "院内私搭乱建"),
        ("attribute[DETAIL]", "第一行\n第二行"),
        ("attribute[KIND]", "report"),
    ];
    let r = a.multipart("requests.xml", &pairs, Some(("image/png", PNG))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let x = r.xml();
    let token = x.split("<token>").nth(1).and_then(|s| s.split("</token>").next()).expect(&x).to_string();
    assert!(!x.contains("<service_request_id>"), "{x}");
    let v = a.get(&format!("tokens/{token}.json")).await.json();
    assert_eq!(v[0]["token"], token.as_str());
    let batch_id = v[0]["service_request_id"].as_str().unwrap().to_string();
    assert!(
        a.get(&format!("tokens/{token}.xml"))
            .await
            .xml()
            .contains(&format!("<service_request_id>{batch_id}</service_request_id>"))
    );
    let v = a.get(&format!("requests/{batch_id}.json")).await.json();
    let media_url = v[0]["media_url"].as_str().unwrap().to_string();
    assert!(media_url.starts_with("http://open311.test/open311/v2/media/"), "{media_url}");
    let m = a.get(media_url.trim_start_matches("http://open311.test")).await;
    assert_eq!((m.status, m.headers[header::CONTENT_TYPE].to_str().unwrap()), (StatusCode::OK, "image/png"));
    assert_eq!(&m.bytes[..], PNG);
    assert_eq!(v[0]["address_id"], "110101001001");
    assert_eq!(v[0]["description"], "（举报内容不公开）", "a 举报 is published without its words");

    // A multivaluelist, and the extensions.
    let pairs = [
        ("api_key", a.key),
        ("service_code", "0902"),
        ("address_string", "东城区和平里"),
        ("description", "楼上夜里装修"),
        ("attribute[HOURS][]", "night"),
        ("attribute[HOURS][]", "evening"),
        ("attribute[SOURCE]", "楼上装修"),
    ];
    let r = a.form("requests.json", &pairs).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let noise_id = r.json()[0]["service_request_id"].as_str().unwrap().to_string();
    let v = a.get(&format!("requests/{noise_id}.json?extensions=true")).await.json();
    let ext = &v[0]["extended_attributes"];
    assert_eq!(ext["attributes"]["HOURS"], json!(["night", "evening"]));
    assert_eq!(ext["status_extended"], "investigating");
    assert_eq!(ext["channel"], "open311");
    let notes = v[0]["notes"].as_array().unwrap();
    assert_eq!(notes[0]["type"], "opened");
    assert!(notes[1]["description"].as_str().unwrap().starts_with("派至"), "{v}");
    let x = a.get(&format!("requests/{noise_id}.xml?extensions=true")).await.xml();
    assert!(x.contains("<HOURS>") && x.contains("<notes>") && x.contains("<note>"), "{x}");

    // The list: filters, the default window, paging.
    let all = a.get("requests.json").await.json();
    let ids: Vec<&str> = all.as_array().unwrap().iter().map(|r| r["service_request_id"].as_str().unwrap()).collect();
    assert_eq!(ids, [noise_id.as_str(), batch_id.as_str(), id.as_str()], "newest first");
    let v = a.get("requests.json?service_code=0401,0902&status=open&start_date=2026-11-27T00:00:00%2B08:00&end_date=2026-11-27T23:59:59Z").await.json();
    assert_eq!(v.as_array().unwrap().len(), 2, "{v}");
    let v = a.get("requests.json?service_code=04").await.json();
    assert_eq!(v.as_array().unwrap().len(), 1, "a group code selects its services");
    assert_eq!(a.get("requests.json?status=closed").await.json(), json!([]));
    let v = a.get("requests.json?page_size=1&page=2").await.json();
    assert_eq!(v[0]["service_request_id"], batch_id.as_str());
    assert_eq!(a.get("requests.json?start_date=2026-11-28T00:00:00Z").await.json(), json!([]));
    let v = a.get(&format!("requests.json?service_request_id={id},999999,{noise_id}&status=closed")).await.json();
    assert_eq!(v.as_array().unwrap().len(), 2, "ids override the other filters and unknown ids are left out");
    let x = a.get("requests.xml?status=closed").await.xml();
    assert!(x.contains("<service_requests"), "{x}");

    // The loop through the JSON API; the public reply is masked; the request closes.
    a.clock.lock().unwrap().clone_from(&t("2026-11-27T11:00:00+08:00"));
    a.act("unit_handler", Some("U04"), &id, json!({"action": "accept"})).await;
    a.act("unit_handler", Some("U04"), &id, json!({"action": "reply", "note": "已派人检修，如仍不热请拨65012345"}))
        .await;
    a.act(
        "operator",
        None,
        &id,
        json!({"action": "callback", "responded": true, "solved": false, "satisfaction": "unsatisfied"}),
    )
    .await;
    a.act("operator", None, &id, json!({"action": "close"})).await;
    let v = a.get(&format!("requests/{id}.json")).await.json();
    assert_eq!(
        (v[0]["status"].as_str(), v[0]["status_notes"].as_str()),
        (Some("closed"), Some("已派人检修，如仍不热请拨******45"))
    );
    assert_eq!(a.get("requests.json?status=closed").await.json().as_array().unwrap().len(), 1);

    // servicerequestupdates: the events since a date, with extended statuses.
    let v = a.get("servicerequestupdates.json?start_date=2026-11-27T02:59:00Z").await.json();
    let ours: Vec<&Value> = v.as_array().unwrap().iter().filter(|u| u["service_request_id"] == id.as_str()).collect();
    let statuses: Vec<&str> = ours.iter().map(|u| u["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["action_scheduled", "fixed", "fixed", "closed"], "{v}");
    assert_eq!(ours[0]["update_id"], format!("{id}-3"));
    assert_eq!(ours[1]["description"], "已派人检修，如仍不热请拨******45");
    let x = a.get("servicerequestupdates.xml?start_date=2026-11-27T02:59:00Z").await.xml();
    assert!(
        x.contains("<service_request_updates>")
            && x.contains("<request_update>")
            && x.contains("<external_status_code>closed</external_status_code>"),
        "{x}"
    );

    // POST an update: REOPEN reopens the closed case; the same update_id again changes nothing.
    let update = [
        ("api_key", a.key),
        ("service_request_id", id.as_str()),
        ("update_id", "fms-77"),
        ("status", "REOPEN"),
        ("updated_datetime", "2026-11-27T12:00:00+08:00"),
        ("description", "还是不热"),
        ("first_name", NAME.0),
        ("email", EMAIL),
    ];
    let r = a.form("servicerequestupdates.json", &update).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let our_update = r.json()[0]["update_id"].as_str().unwrap().to_string();
    let rec = a.store.case(id.parse().unwrap()).await.unwrap();
    assert_eq!((rec.state.status, rec.state.reopen_count), (Status::Dispatched, 1));
    let again = a.form("servicerequestupdates.xml", &update).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text());
    assert!(again.xml().contains(&format!("<update_id>{our_update}</update_id>")));
    assert_eq!(a.store.client_updates_of(&[id.parse().unwrap()]).await.unwrap().len(), 1, "no duplicate stored");
    assert_eq!(a.store.case(id.parse().unwrap()).await.unwrap().state.reopen_count, 1, "not reopened twice");
    let mut elsewhere = update;
    elsewhere[1].1 = &noise_id;
    let e = a.form("servicerequestupdates.json", &elsewhere).await.json_error(StatusCode::BAD_REQUEST);
    assert!(e.contains("already used"), "{e}");
    let v = a.get(&format!("requests/{id}.json?extensions=true")).await;
    assert_no_personal_data(&v.text());
    let v = v.json();
    assert_eq!(v[0]["extended_attributes"]["status_extended"], "reopen");
    assert!(
        v[0]["notes"].as_array().unwrap().iter().any(|n| n["type"] == "update" && n["description"] == "还是不热"),
        "{v}"
    );
    a.store.close().await;
}

#[tokio::test]
async fn story_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    story(&format!("sqlite://{}", dir.path().join("o.db").display())).await;
}

#[tokio::test]
async fn story_on_postgres() {
    let Some(db) = jiesu_store::testing::scratch_postgres("open311").await else { return };
    story(&db.url).await;
    db.drop().await;
}

#[tokio::test]
async fn bad_input_gets_the_spec_error_list_in_the_format_asked() {
    let dir = tempfile::tempdir().unwrap();
    let a = TestApp::new(&format!("sqlite://{}", dir.path().join("o.db").display())).await;
    let before = a.store.max_case_id().await.unwrap();

    // Malformed and zone-less dates.
    let e = a.get("requests.json?start_date=yesterday").await.json_error(StatusCode::BAD_REQUEST);
    assert!(e.starts_with("start_date:"), "{e}");
    assert!(
        a.get("requests.xml?end_date=2026-11-27T09:30:00")
            .await
            .xml_error(StatusCode::BAD_REQUEST)
            .contains("no time zone")
    );
    let e = a
        .get("requests.json?start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z")
        .await
        .json_error(StatusCode::BAD_REQUEST);
    assert!(e.contains("90 days"), "{e}");
    // Unknown formats, services, statuses, requests, tokens, jurisdictions and routes.
    // (an unknown suffix cannot say the format: the answer is in XML, the spec's required one)
    assert!(a.get("services.csv").await.xml_error(StatusCode::BAD_REQUEST).contains("unknown format 'csv'"));
    assert!(a.get("services/0401.yaml").await.xml_error(StatusCode::BAD_REQUEST).contains("yaml"));
    assert!(a.get("services/9999.json").await.json_error(StatusCode::NOT_FOUND).contains("9999"));
    assert!(a.get("services/04.xml").await.xml_error(StatusCode::NOT_FOUND).contains("group"));
    assert!(a.get("requests.json?service_code=9999").await.json_error(StatusCode::BAD_REQUEST).contains("9999"));
    assert!(a.get("requests.json?status=pending").await.json_error(StatusCode::BAD_REQUEST).contains("pending"));
    assert!(a.get("requests.json?page_size=5000").await.json_error(StatusCode::BAD_REQUEST).contains("page_size"));
    assert!(a.get("requests.json?extensions=maybe").await.json_error(StatusCode::BAD_REQUEST).contains("extensions"));
    a.get("requests/424242.json").await.json_error(StatusCode::NOT_FOUND);
    a.get("requests/abc.xml").await.xml_error(StatusCode::NOT_FOUND);
    a.get("tokens/nope.json").await.json_error(StatusCode::NOT_FOUND);
    a.get("media/00000000000000000000000000000000").await.xml_error(StatusCode::NOT_FOUND);
    assert!(a.get("services.json?jurisdiction_id=nyc.gov").await.json_error(StatusCode::NOT_FOUND).contains("nyc.gov"));
    a.get("nothing.json").await.xml_error(StatusCode::NOT_FOUND);
    // An empty jurisdiction_id is as if absent.
    assert_eq!(a.get("services.json?jurisdiction_id=").await.status, StatusCode::OK);

    // POSTs: the key, the service, the place, the attributes, the media, the body.
    let no_key: Vec<_> = heating_post(a.key, &[]).into_iter().filter(|(k, _)| *k != "api_key").collect();
    assert!(a.form("requests.json", &no_key).await.json_error(StatusCode::FORBIDDEN).contains("api_key"));
    assert!(a.form("requests.xml", &no_key).await.xml_error(StatusCode::FORBIDDEN).contains("api_key"));
    let bogus: Vec<_> = heating_post("jsk_not-a-key", &[]);
    assert!(a.form("requests.json", &bogus).await.json_error(StatusCode::FORBIDDEN).contains("not valid"));
    let unknown: Vec<_> = heating_post(a.key, &[])
        .into_iter()
        .map(|(k, v)| if k == "service_code" { (k, "9999") } else { (k, v) })
        .collect();
    a.form("requests.json", &unknown).await.json_error(StatusCode::NOT_FOUND);
    let bad_place: Vec<_> =
        heating_post(a.key, &[]).into_iter().map(|(k, v)| if k == "lat" { (k, "91.5") } else { (k, v) }).collect();
    assert!(
        a.form("requests.json", &bad_place).await.json_error(StatusCode::BAD_REQUEST).contains("lat: latitude 91.5")
    );
    let nan: Vec<_> =
        heating_post(a.key, &[]).into_iter().map(|(k, v)| if k == "long" { (k, "east") } else { (k, v) }).collect();
    assert!(a.form("requests.json", &nan).await.json_error(StatusCode::BAD_REQUEST).contains("long: 'east'"));
    let half: Vec<_> =
        heating_post(a.key, &[]).into_iter().filter(|(k, _)| !["long", "address_string"].contains(k)).collect();
    assert!(a.form("requests.json", &half).await.json_error(StatusCode::BAD_REQUEST).contains("lat/long"));
    let nowhere: Vec<_> =
        heating_post(a.key, &[]).into_iter().filter(|(k, _)| !["lat", "long", "address_string"].contains(k)).collect();
    assert!(a.form("requests.json", &nowhere).await.json_error(StatusCode::BAD_REQUEST).contains("location"));
    let no_temp: Vec<_> = heating_post(a.key, &[]).into_iter().filter(|(k, _)| *k != "attribute[ROOM_TEMP]").collect();
    let e = a.form("requests.json", &no_temp).await.json_error(StatusCode::BAD_REQUEST);
    assert!(e.contains("attribute[ROOM_TEMP]: required"), "{e}");
    let two: Vec<_> = heating_post(a.key, &[("attribute[HOURS]", "night")])
        .into_iter()
        .map(|(k, v)| if k == "email" { (k, "not-an-address") } else { (k, v) })
        .collect();
    let e = a.form("requests.json", &two).await.json_error(StatusCode::BAD_REQUEST);
    assert!(e.contains("attribute[HOURS]") && e.contains("email"), "every problem at once: {e}");
    let e = a
        .multipart("requests.json", &heating_post(a.key, &[]), Some(("image/jpeg", b"<html>not an image</html>")))
        .await
        .json_error(StatusCode::BAD_REQUEST);
    assert!(e.contains("media"), "{e}");
    let big = vec![0xFFu8; 100 * 1024];
    let e = a
        .multipart("requests.json", &heating_post(a.key, &[]), Some(("image/jpeg", &big)))
        .await
        .json_error(StatusCode::PAYLOAD_TOO_LARGE);
    assert!(e.contains("larger than"), "{e}");
    let long = "长".repeat(70 * 1024);
    a.form("requests.json", &heating_post(a.key, &[("description", long.as_str())]))
        .await
        .json_error(StatusCode::PAYLOAD_TOO_LARGE);
    let json_body = Request::builder()
        .method(Method::POST)
        .uri(format!("{BASE}/requests.json"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{\"service_code\": \"0401\"}"))
        .unwrap();
    assert!(a.send(json_body).await.json_error(StatusCode::BAD_REQUEST).contains("Content-Type"));
    // Updates: required fields, statuses, unknown requests.
    let e = a
        .form("servicerequestupdates.json", &[("api_key", a.key), ("status", "DONE")])
        .await
        .json_error(StatusCode::BAD_REQUEST);
    assert!(
        e.contains("service_request_id: required") && e.contains("update_id: required") && e.contains("'DONE'"),
        "{e}"
    );
    let u = [
        ("api_key", a.key),
        ("service_request_id", "424242"),
        ("update_id", "x1"),
        ("status", "OPEN"),
        ("updated_datetime", "2026-11-27T12:00:00Z"),
    ];
    a.form("servicerequestupdates.json", &u).await.json_error(StatusCode::NOT_FOUND);
    a.form("servicerequestupdates.json", &u[1..]).await.json_error(StatusCode::FORBIDDEN);

    a.store.revoke_api_key("open311-test", Utc::now()).await.unwrap();
    let revoked = a.form("requests.json", &heating_post(a.key, &[])).await;
    assert!(revoked.json_error(StatusCode::FORBIDDEN).contains("not valid"), "a revoked key is refused");
    let e = a.form("servicerequestupdates.json", &[("api_key", a.key), ("service_request_id", "1")]).await;
    e.json_error(StatusCode::FORBIDDEN);
    assert_eq!(a.store.max_case_id().await.unwrap(), before, "nothing refused was stored");
    a.store.close().await;
}

#[tokio::test]
async fn posts_beyond_the_key_rate_are_refused_with_429_and_store_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let a = TestApp::with_post_limit(&format!("sqlite://{}", dir.path().join("r.db").display()), 2).await;
    for _ in 0..2 {
        let r = a.form("requests.json", &heating_post(a.key, &[])).await;
        assert!(r.status.is_success(), "{}", r.text());
    }
    let before = a.store.max_case_id().await.unwrap();
    let e = a.form("requests.json", &heating_post(a.key, &[])).await.json_error(StatusCode::TOO_MANY_REQUESTS);
    assert!(e.contains("api_key") && e.contains("try again"), "{e}");
    let e = a.form("requests.xml", &heating_post(a.key, &[])).await.xml_error(StatusCode::TOO_MANY_REQUESTS);
    assert!(e.contains("too many"), "{e}");
    assert_eq!(a.store.max_case_id().await.unwrap(), before, "a refused post stores nothing");
    // Reading is not limited.
    assert_eq!(a.get("services.json").await.status, StatusCode::OK);
}

/// A desk over the test app's store, for reads and checks beside the router.
fn desk_of(a: &TestApp) -> Desk {
    Desk::new(a.store.clone(), Catalog::dongcheng(), Calendar::china(), Config::default())
}

/// Takes case `id` round the loop to 已结案 through the JSON API (its unit signs, replies; the
/// operator calls back and closes).
async fn close(a: &TestApp, id: i64) {
    let unit = a.store.case(id).await.unwrap().state.assignee.expect("dispatched");
    let unit = Some(unit.as_str());
    let id = id.to_string();
    a.act("unit_handler", unit, &id, json!({"action": "accept"})).await;
    a.act("unit_handler", unit, &id, json!({"action": "reply", "note": "已处理"})).await;
    let callback = json!({"action": "callback", "responded": true, "solved": false, "satisfaction": "unsatisfied"});
    a.act("operator", None, &id, callback).await;
    a.act("operator", None, &id, json!({"action": "close"})).await;
    assert_eq!(a.store.case(id.parse().unwrap()).await.unwrap().state.status, Status::Closed);
}

/// A REOPEN update of request `id` with the client's `update_id`.
fn reopen_post<'a>(key: &'a str, id: &'a str, update_id: &'a str) -> [(&'a str, &'a str); 5] {
    [
        ("api_key", key),
        ("service_request_id", id),
        ("update_id", update_id),
        ("status", "REOPEN"),
        ("updated_datetime", "2026-11-27T12:00:00+08:00"),
    ]
}

/// An update may touch only the requests its key filed (or a staff key's scope), and acts as
/// that key; anything else is answered exactly like a missing request.
async fn updates_are_scoped_to_the_key(url: &str) {
    let a = TestApp::new(url).await;
    let (_, other) = a.store.create_api_key("other-app", Role::Citizen, None, Utc::now()).await.unwrap();
    let (_, staff) = a.store.create_api_key("hotline-desk", Role::Operator, None, Utc::now()).await.unwrap();
    // One request through Open311 with our key, one hotline case filed by an operator.
    let r = a.form("requests.json", &heating_post(a.key, &[])).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let mine = r.json()[0]["service_request_id"].as_str().unwrap().parse::<i64>().unwrap();
    let op = jiesu_domain::workflow::Actor { user: "op-1".into(), role: Role::Operator, unit: None };
    let draft = jiesu_domain::draft::NewCase {
        channel: Channel::Hotline,
        kind: CaseKind::Complaint,
        title: None,
        text: "暖气不热".into(),
        category: "0401".into(),
        place: jiesu_domain::draft::Place { street: Some("110101001".into()), ..Default::default() },
        contact: Default::default(),
        external_id: None,
    };
    let now = *a.clock.lock().unwrap();
    let hotline = desk_of(&a).receive(op, draft, now, true).await.unwrap().id;
    close(&a, mine).await;
    close(&a, hotline).await;

    // A missing request, and the same answer for cases this key did not file.
    let missing = a.form("servicerequestupdates.json", &reopen_post(a.key, "999999", "m-1")).await;
    let missing = missing.json_error(StatusCode::NOT_FOUND).replace("999999", "N");
    for (key, id, update) in [(a.key, hotline, "h-1"), (other.as_str(), mine, "o-1"), (other.as_str(), hotline, "o-2")]
    {
        let id = id.to_string();
        let e = a.form("servicerequestupdates.json", &reopen_post(key, &id, update)).await;
        assert_eq!(e.json_error(StatusCode::NOT_FOUND).replace(&id, "N"), missing, "out of scope looks missing");
        // Not even a note that changes nothing.
        let note_id = format!("{update}-note");
        let mut note = reopen_post(key, &id, &note_id);
        note[3].1 = "INVESTIGATING";
        assert_eq!(a.form("servicerequestupdates.json", &note).await.status, StatusCode::NOT_FOUND);
    }
    for id in [mine, hotline] {
        let s = a.store.case(id).await.unwrap().state;
        assert_eq!((s.status, s.reopen_count), (Status::Closed, 0), "case {id} untouched");
    }
    assert!(a.store.client_updates_of(&[mine, hotline]).await.unwrap().is_empty(), "nothing stored");

    // The filer reopens its own request, as itself (the citizen who filed it), not as the system.
    let r = a.form("servicerequestupdates.json", &reopen_post(a.key, &mine.to_string(), "k-1")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let reopen = a.store.events(mine).await.unwrap().pop().unwrap();
    assert!(matches!(reopen.action, jiesu_domain::workflow::Action::Reopen { .. }), "{reopen:?}");
    assert_eq!((reopen.actor.user.as_str(), reopen.actor.role), ("open311:open311-test", Role::Citizen));
    // A staff key reaches the cases of its scope, as the key in its role.
    let r = a.form("servicerequestupdates.json", &reopen_post(&staff, &hotline.to_string(), "s-1")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let reopen = a.store.events(hotline).await.unwrap().pop().unwrap();
    assert_eq!((reopen.actor.user.as_str(), reopen.actor.role), ("key:hotline-desk", Role::Operator));
    assert_eq!(a.store.case(hotline).await.unwrap().state.reopen_count, 1);
    a.store.close().await;
}

#[tokio::test]
async fn sqlite_updates_are_scoped_to_the_key() {
    let dir = tempfile::tempdir().unwrap();
    updates_are_scoped_to_the_key(&format!("sqlite://{}", dir.path().join("s.db").display())).await;
}

#[tokio::test]
async fn postgres_updates_are_scoped_to_the_key() {
    let Some(db) = jiesu_store::testing::scratch_postgres("open311_scope").await else { return };
    updates_are_scoped_to_the_key(&db.url).await;
    db.drop().await;
}

/// Create and update are one transaction each: with the last insert failing, nothing is
/// half-written (no case, no media, no Open311 row; no update without its 重办), and a retry
/// works once the fault is gone.
async fn posts_are_all_or_nothing(url: &str) {
    use jiesu_store::testing::{allow_inserts, fail_inserts};
    let a = TestApp::new(url).await;
    let desk = desk_of(&a);
    let batch = [
        ("api_key", a.key),
        ("service_code", "0102"),
        ("address_id", "110101001001"),
        ("description", "院内私搭乱建"),
        ("attribute[KIND]", "report"),
    ];
    // The token is the last row a create writes.
    fail_inserts(&a.store, "open311_tokens").await.unwrap();
    let r = a.multipart("requests.json", &batch, Some(("image/png", PNG))).await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", r.text());
    assert_eq!(a.store.max_case_id().await.unwrap(), None, "no case without its token");
    let report = desk.check().await.unwrap();
    assert!(report.ok() && report.open311_orphans.is_empty(), "no orphan media or rows: {report:?}");
    allow_inserts(&a.store, "open311_tokens").await.unwrap();
    let r = a.multipart("requests.json", &batch, Some(("image/png", PNG))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let token = r.json()[0]["token"].as_str().unwrap().to_string();
    let id = a.get(&format!("tokens/{token}.json")).await.json()[0]["service_request_id"].as_str().unwrap().to_string();
    assert_eq!(a.store.max_case_id().await.unwrap(), Some(id.parse().unwrap()), "the retry files one case");
    let v = a.get(&format!("requests/{id}.json")).await.json();
    let media = v[0]["media_url"].as_str().unwrap().trim_start_matches("http://open311.test").to_string();
    assert_eq!(&a.get(&media).await.bytes[..], PNG);

    // An update that reopens: the update row is the last insert.
    let r = a.form("requests.json", &heating_post(a.key, &[])).await;
    let heat = r.json()[0]["service_request_id"].as_str().unwrap().parse::<i64>().unwrap();
    close(&a, heat).await;
    let heat_id = heat.to_string();
    fail_inserts(&a.store, "open311_updates").await.unwrap();
    let update = reopen_post(a.key, &heat_id, "fms-retry");
    let r = a.multipart("servicerequestupdates.json", &update, Some(("image/png", PNG))).await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", r.text());
    let s = a.store.case(heat).await.unwrap().state;
    assert_eq!((s.status, s.reopen_count), (Status::Closed, 0), "no 重办 without its update");
    assert!(a.store.client_updates_of(&[heat]).await.unwrap().is_empty());
    assert!(desk.check().await.unwrap().ok(), "no orphan media");
    allow_inserts(&a.store, "open311_updates").await.unwrap();
    let r = a.multipart("servicerequestupdates.json", &update, Some(("image/png", PNG))).await;
    assert_eq!(r.status, StatusCode::CREATED, "the retry reopens: {}", r.text());
    let s = a.store.case(heat).await.unwrap().state;
    assert_eq!((s.status, s.reopen_count), (Status::Dispatched, 1));
    let updates = a.store.client_updates_of(&[heat]).await.unwrap();
    assert_eq!(updates.len(), 1);
    assert!(a.store.media(updates[0].media_id.as_deref().unwrap()).await.unwrap().is_some());
    let report = desk.check().await.unwrap();
    assert!(report.ok(), "{report:?}");
    a.store.close().await;
}

#[tokio::test]
async fn sqlite_posts_are_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    posts_are_all_or_nothing(&format!("sqlite://{}", dir.path().join("f.db").display())).await;
}

#[tokio::test]
async fn postgres_posts_are_all_or_nothing() {
    let Some(db) = jiesu_store::testing::scratch_postgres("open311_atomic").await else { return };
    posts_are_all_or_nothing(&db.url).await;
    db.drop().await;
}
