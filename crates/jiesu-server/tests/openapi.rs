//! The OpenAPI document against the real router: it is served and well formed, it lists exactly
//! the routes the router answers (and the source adds no route outside it), and real responses —
//! successes and rejections, from a case's whole loop on SQLite — validate against the schemas
//! the document gives for their operation and status.

mod common;

use axum::http::Method;
use common::{NOBODY, OPERATOR, PASSWORD, S001, S002, SUPERVISOR, TestApp, Who, t};
use jiesu_domain::catalog::Catalog;
use jiesu_domain::model::{Role, UnitKind};
use jiesu_server::openapi_document;
use serde_json::{Value, json};

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];
const ADMIN: Who = Some(("admin", None));

fn doc() -> Value {
    serde_json::to_value(openapi_document()).unwrap()
}

/// The shared test app over a fresh SQLite store, checking every response against the document.
struct Checked {
    app: TestApp,
    doc: Value,
    /// (method, path template, status) of every response checked.
    checked: Vec<(String, String, u16)>,
    _dir: tempfile::TempDir,
}

impl Checked {
    async fn new() -> Checked {
        let dir = tempfile::tempdir().unwrap();
        let app = TestApp::new(&format!("sqlite://{}/jiesu.db", dir.path().display()), t("2026-09-29T02:00:00Z")).await;
        Checked { app, doc: doc(), checked: Vec::new(), _dir: dir }
    }

    fn advance(&self, hours: i64) {
        self.app.advance(chrono::Duration::hours(hours));
    }

    async fn raw(&self, method: &str, path: &str, who: Who, body: Option<Value>) -> (u16, Value) {
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let req = self.app.request(method, path, who, body.map(|b| b.to_string())).await;
        let (status, value) = self.app.send(req).await;
        (status.as_u16(), value)
    }

    /// Sends a request to the operation (`method`, `template`) at `path`, and checks that the
    /// status is one the operation documents and the body validates against its schema.
    async fn call(&mut self, method: &str, template: &str, path: &str, who: Who, body: Option<Value>) -> (u16, Value) {
        let (status, value) = self.raw(method, &format!("/api/v1{path}"), who, body).await;
        let api_path = format!("/api/v1{template}");
        let op = &self.doc["paths"][&api_path][method];
        assert!(op.is_object(), "{method} {api_path} is not documented");
        let response = &op["responses"][status.to_string()];
        assert!(response.is_object(), "{method} {path} answered {status}, which it does not document: {value}");
        let schema = &response["content"]["application/json"]["schema"];
        if schema.is_object() {
            validate(&self.doc, schema, &value).unwrap_or_else(|e| panic!("{method} {path} {status}: {e}\n{value:#}"));
        } else {
            assert_eq!(value, Value::Null, "{method} {path} {status} documents no body but sent one");
        }
        self.checked.push((method.to_string(), template.to_string(), status));
        (status, value)
    }
}

/// Validates `value` against `schema`, whose `$ref`s point into the document's components
/// (JSON Schema 2020-12, the dialect of OpenAPI 3.1, with formats checked).
fn validate(doc: &Value, schema: &Value, value: &Value) -> Result<(), String> {
    let root = json!({ "components": doc["components"], "allOf": [schema] });
    let validator =
        jsonschema::draft202012::options().should_validate_formats(true).build(&root).map_err(|e| e.to_string())?;
    let errors: Vec<String> = validator.iter_errors(value).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    if errors.is_empty() { Ok(()) } else { Err(errors.join("; ")) }
}

/// Every (method, path template) the document lists under /api/v1.
fn operations(doc: &Value) -> Vec<(String, String)> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for m in METHODS {
            if item.get(m).is_some() {
                ops.push((m.to_string(), path.clone()));
            }
        }
    }
    ops
}

#[tokio::test]
async fn the_document_is_served_well_formed_and_every_ref_resolves() {
    let a = Checked::new().await;
    let (status, served) = a.raw("get", "/api/v1/openapi.json", NOBODY, None).await;
    assert_eq!(status, 200);
    assert_eq!(served, a.doc, "the served document is the generated one");
    assert!(served["openapi"].as_str().unwrap().starts_with("3.1"), "{}", served["openapi"]);
    assert_eq!(served["info"]["title"], "jiesu API");
    assert!(served["components"]["securitySchemes"].as_object().is_some_and(|s| !s.is_empty()));

    // Every $ref names a schema that exists.
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.push(r.clone());
                }
                m.values().for_each(|v| refs(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(&served, &mut all);
    assert!(all.len() > 20, "{} refs", all.len());
    for r in all {
        let pointer = r.strip_prefix('#').unwrap_or_else(|| panic!("non-local $ref {r}"));
        assert!(served.pointer(pointer).is_some(), "dangling $ref {r}");
    }

    // Every operation has an id, a tag, a success response and an error shape for its rejections.
    // Ids are unique: clients and test tools (schemathesis's links) name operations by them.
    let mut ids = std::collections::BTreeMap::new();
    for (m, p) in operations(&served) {
        let id = served["paths"][&p][&m]["operationId"].as_str().unwrap_or_default().to_string();
        if let Some(other) = ids.insert(id.clone(), format!("{m} {p}")) {
            panic!("operationId {id} is used by {other} and by {m} {p}");
        }
    }
    for (m, p) in operations(&served) {
        let op = &served["paths"][&p][&m];
        assert!(op["operationId"].is_string() && op["tags"].is_array(), "{m} {p}");
        let responses = op["responses"].as_object().unwrap();
        assert!(responses.keys().any(|s| s.starts_with('2')), "{m} {p} has no success response");
        for (s, r) in responses.iter().filter(|(s, _)| !s.starts_with('2') && *s != "204") {
            assert_eq!(r["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/Error", "{m} {p} {s}");
        }
    }
}

/// A concrete path for a template (`{id}` → 1, `{year}` → 2026).
fn concrete(template: &str) -> String {
    template.replace("{id}", "1").replace("{year}", "2026")
}

#[tokio::test]
async fn the_document_lists_exactly_the_routes_the_router_answers() {
    let a = Checked::new().await;
    let ops = operations(&a.doc);
    assert!(ops.len() >= 16, "{ops:?}");
    let paths: std::collections::BTreeSet<&str> = ops.iter().map(|(_, p)| p.as_str()).collect();
    for path in paths {
        for m in METHODS {
            let documented = ops.iter().any(|(om, op)| om == m && op == path);
            let body = (m != "get").then(|| json!({}));
            let (status, v) = a.raw(m, &concrete(path), ADMIN, body).await;
            let fallback = v["error"]["code"] == "method_not_allowed"
                || v["error"]["message"].as_str().is_some_and(|m| m.starts_with("no such route"));
            assert_eq!(!fallback, documented, "{m} {path}: documented = {documented}, router answered {status} {v}");
        }
    }
    // A path that no route has falls through to the JSON 404.
    let (status, v) = a.raw("get", "/api/v1/nowhere", NOBODY, None).await;
    assert_eq!((status, v["error"]["code"].as_str()), (404, Some("not_found")));
}

/// The router is built in `routes()` through `utoipa_axum::routes!`, which takes each path from
/// the handler's documentation; a route added the plain axum way would be served undocumented.
///
/// This covers the JSON API only. The console (`src/console/`: HTML pages and their assets for
/// people, merged beside `/api/v1`) is not part of the API and not in the OpenAPI document, so
/// its plain axum routes are left out of this check (and its paths out of the document: see
/// `the_console_is_not_in_the_document`).
#[test]
fn no_route_is_added_outside_the_documented_router() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut offenders = Vec::new();
    // The files of `src/` itself: the console (`src/console/`) and Open311 (`src/open311/`) have
    // their own routers outside the document.
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if [".route(", ".route_service(", ".nest_service(", ".merge("].iter().any(|p| code.contains(p)) {
                offenders.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(offenders.is_empty(), "routes outside `routes!` are not documented:\n{}", offenders.join("\n"));
}

/// The document describes the JSON API only: no console page is in it.
#[tokio::test]
async fn the_console_is_not_in_the_document() {
    let a = Checked::new().await;
    for (_, path) in operations(&a.doc) {
        assert!(path.starts_with("/api/v1/"), "{path} is not part of the JSON API");
    }
}

#[tokio::test]
async fn real_responses_validate_against_their_documented_schemas() {
    let mut a = Checked::new().await;
    let cat = Catalog::dongcheng()
        .leaf_categories()
        .into_iter()
        .find(|c| c.unit.is_none() && c.unit_kind == UnitKind::Street)
        .unwrap()
        .code
        .clone();
    let new_case = json!({
        "channel": "hotline", "kind": "complaint", "text": "楼道堆物影响通行，请尽快清理", "category": cat,
        "place": { "address": "东城区美术馆后街", "lat": 39.93, "lon": 116.41, "street": "110101001" },
        "contact": { "name": "张三", "phone": "13812345678" }
    });

    // Reference data.
    for p in
        ["/health", "/catalog", "/catalog/categories", "/catalog/units", "/catalog/streets", "/catalog/communities"]
    {
        assert_eq!(a.call("get", p, p, NOBODY, None).await.0, 200, "{p}");
    }
    assert_eq!(
        a.call("get", "/catalog/communities", "/catalog/communities?street=110101001", NOBODY, None).await.0,
        200
    );
    assert_eq!(a.call("get", "/catalog/communities", "/catalog/communities?street=1", NOBODY, None).await.0, 400);
    assert_eq!(a.call("get", "/calendar/{year}", "/calendar/2026", NOBODY, None).await.0, 200);
    assert_eq!(a.call("get", "/calendar/{year}", "/calendar/1950", NOBODY, None).await.0, 404);
    assert_eq!(a.call("get", "/calendar/{year}", "/calendar/soon", NOBODY, None).await.0, 400);

    // Create: 201, and the rejections.
    // Accounts: login (wrong, then right), who am I, logout.
    a.app.store.create_user("wang", Role::Operator, None, PASSWORD, a.app.now()).await.unwrap();
    let wrong = json!({"name": "wang", "password": "nope"});
    assert_eq!(a.call("post", "/login", "/login", NOBODY, Some(wrong)).await.0, 401);
    let right = json!({"name": "wang", "password": PASSWORD});
    assert_eq!(a.call("post", "/login", "/login", NOBODY, Some(right)).await.0, 200);
    assert_eq!(a.call("post", "/login", "/login", NOBODY, Some(json!({"name": 1}))).await.0, 400);
    assert_eq!(a.call("get", "/me", "/me", OPERATOR, None).await.0, 200);
    assert_eq!(a.call("get", "/me", "/me", Some(("citizen", Some("app"))), None).await.0, 200);
    assert_eq!(a.call("get", "/me", "/me", NOBODY, None).await.0, 401);
    assert_eq!(a.call("post", "/logout", "/logout", NOBODY, None).await.0, 204);

    let (s, c) = a.call("post", "/cases", "/cases", OPERATOR, Some(new_case.clone())).await;
    assert_eq!(s, 201);
    let id = c["id"].as_i64().unwrap();
    // The check is not vacuous: a body that breaks the schema is caught.
    let case_schema = json!({"$ref": "#/components/schemas/Case"});
    let mut broken = c.clone();
    broken["status"] = json!("flying");
    assert!(validate(&a.doc, &case_schema, &broken).unwrap_err().contains("flying"));
    broken = c.clone();
    broken["received_at"] = json!("yesterday");
    assert!(validate(&a.doc, &case_schema, &broken).is_err());
    broken.as_object_mut().unwrap().remove("id");
    assert!(validate(&a.doc, &case_schema, &broken).is_err());
    assert_eq!(a.call("post", "/cases", "/cases", None, Some(new_case.clone())).await.0, 401);
    let mut bad = new_case.clone();
    bad["category"] = json!("9999");
    assert_eq!(a.call("post", "/cases", "/cases", OPERATOR, Some(bad)).await.0, 422);
    assert_eq!(a.call("post", "/cases", "/cases", OPERATOR, Some(json!({"channel": 1}))).await.0, 400);

    // Intake suggestions for a draft: the route names the responsibility list's row; nothing stored.
    let draft = json!({"text": "楼道堆物影响通行", "category": cat, "place": {"street": "110101001", "lat": 39.93, "lon": 116.41}});
    let (s, v) = a.call("post", "/intake/suggest", "/intake/suggest", OPERATOR, Some(draft)).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["route"]["unit"], "S001", "{v}");
    assert!(v["route"]["rule"].as_str().unwrap().starts_with("权责清单 line "), "{v}");
    let citizen = Some(("citizen", Some("app")));
    assert_eq!(a.call("post", "/intake/suggest", "/intake/suggest", citizen, Some(json!({"text": "x"}))).await.0, 403);
    let bad = json!({"text": "x", "place": {"lat": 95.0, "lon": 116.4}});
    assert_eq!(a.call("post", "/intake/suggest", "/intake/suggest", OPERATOR, Some(bad)).await.0, 422);
    assert_eq!(a.call("post", "/intake/suggest", "/intake/suggest", NOBODY, Some(json!({"text": "x"}))).await.0, 401);

    // List, show and the timeline, for a role that sees the contact and one that does not.
    for who in [OPERATOR, S001] {
        let (s, v) = a.call("get", "/cases", "/cases?status=dispatched&limit=1", who, None).await;
        assert_eq!((s, v["total"].as_u64()), (200, Some(1)), "{v}");
        assert_eq!(a.call("get", "/cases/{id}", &format!("/cases/{id}"), who, None).await.0, 200);
        assert_eq!(a.call("get", "/cases/{id}/events", &format!("/cases/{id}/events"), who, None).await.0, 200);
    }
    // The contact: in full on request for the holding unit (recorded), refused to others.
    let contact = format!("/cases/{id}/contact");
    assert_eq!(a.call("get", "/cases/{id}/contact", &contact, S001, None).await.0, 200);
    assert_eq!(a.call("get", "/cases/{id}/contact", &contact, S002, None).await.0, 404);
    assert_eq!(
        a.call("get", "/cases/{id}/contact", &contact, Some(("grid_inspector", Some("S001"))), None).await.0,
        403
    );
    let accesses = format!("/cases/{id}/contact/accesses");
    let (s, v) = a.call("get", "/cases/{id}/contact/accesses", &accesses, SUPERVISOR, None).await;
    assert_eq!((s, v.as_array().map(Vec::len)), (200, Some(1)), "{v}");
    assert_eq!(a.call("get", "/cases/{id}/contact/accesses", &accesses, S001, None).await.0, 403);
    assert_eq!(a.call("get", "/cases", "/cases?limit=0", OPERATOR, None).await.0, 400);
    assert_eq!(a.call("get", "/cases/{id}", &format!("/cases/{id}"), S002, None).await.0, 404);
    assert_eq!(a.call("get", "/cases/{id}", "/cases/999", OPERATOR, None).await.0, 404);
    assert_eq!(a.call("get", "/cases/{id}/events", "/cases/x/events", OPERATOR, None).await.0, 400);

    // The whole loop through the actions endpoint, with a rejection of each kind on the way.
    let act = format!("/cases/{id}/actions");
    let steps = [
        (S001, json!({"action": "accept"}), 200),
        (OPERATOR, json!({"action": "close"}), 409),
        (S001, json!({"action": "reply"}), 422),
        (S001, json!({"action": "fly"}), 400),
        (S002, json!({"action": "handle", "contacted": true}), 404),
        (OPERATOR, json!({"action": "accept"}), 403),
        (S001, json!({"action": "handle", "contacted": true, "note": "已联系市民"}), 200),
        (S001, json!({"action": "reply", "note": "已清理楼道堆物"}), 200),
        (OPERATOR, json!({"action": "callback", "responded": true, "solved": true, "satisfaction": "satisfied"}), 200),
        (OPERATOR, json!({"action": "close", "note": "市民满意"}), 200),
    ];
    for (who, body, expected) in steps {
        a.advance(2);
        let (s, v) = a.call("post", "/cases/{id}/actions", &act, who, Some(body.clone())).await;
        assert_eq!(s, expected, "{body}: {v}");
    }
    assert_eq!(
        a.call("post", "/cases/{id}/actions", "/cases/999/actions", OPERATOR, Some(json!({"action": "close"}))).await.0,
        404
    );
    let (_, timeline) = a.call("get", "/cases/{id}/events", &format!("/cases/{id}/events"), SUPERVISOR, None).await;
    // Photos: the list; a missing photo (the photo itself is an image, see `console_desk.rs`); an
    // action with photos must be multipart.
    let (s, v) = a.call("get", "/cases/{id}/attachments", &format!("/cases/{id}/attachments"), S001, None).await;
    assert_eq!((s, v["attachments"].as_array().map(Vec::len)), (200, Some(0)), "{v}");
    assert_eq!(a.call("get", "/cases/{id}/attachments", "/cases/999/attachments", S001, None).await.0, 404);
    let photo = format!("/cases/{id}/attachments/1");
    assert_eq!(a.call("get", "/cases/{id}/attachments/{n}", &photo, S001, None).await.0, 404);
    let photos = format!("/cases/{id}/actions/photos");
    let handle = json!({"action": "handle", "contacted": true});
    assert_eq!(a.call("post", "/cases/{id}/actions/photos", &photos, S001, Some(handle)).await.0, 415);
    assert_eq!(timeline["events"].as_array().unwrap().len(), 7, "{timeline}");

    // A second case, overdue, keeps the deadline fields and the overdue flag in play.
    a.call("post", "/cases", "/cases", OPERATOR, Some(new_case)).await;
    a.advance(24 * 30);
    assert_eq!(a.call("get", "/cases", "/cases?overdue=true", SUPERVISOR, None).await.0, 200);

    // Assessment, rankings and counts, with figures present.
    let (s, v) = a.call("get", "/assessment", "/assessment?period=2026-09", SUPERVISOR, None).await;
    assert_eq!((s, v["units"].as_array().map(Vec::len)), (200, Some(1)), "{v}");
    let (s, v) = a.call("get", "/rankings", "/rankings?period=2026-09&kind=street", SUPERVISOR, None).await;
    assert_eq!((s, v["rows"].as_array().map(Vec::len)), (200, Some(1)), "{v}");
    assert_eq!(a.call("get", "/rankings", "/rankings?period=2026-13", SUPERVISOR, None).await.0, 400);
    assert_eq!(a.call("get", "/stats", "/stats", SUPERVISOR, None).await.0, 200);
    assert_eq!(a.call("get", "/stats", "/stats", Some(("citizen", None)), None).await.0, 200);
    assert_eq!(a.call("get", "/assessment", "/assessment", Some(("citizen", None)), None).await.0, 403);

    // Sensors: the registry (admins write), the webhook (a device's token), colours and counts.
    let device =
        json!({"id": "SMK-1", "kind": "smoke", "category": "1601", "lat": 39.9289, "lon": 116.4168, "unit": "U01"});
    let (s, v) = a.call("post", "/devices", "/devices", ADMIN, Some(device.clone())).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(a.call("post", "/devices", "/devices", OPERATOR, Some(device)).await.0, 403);
    let toaster = json!({"id": "x", "kind": "toaster", "category": "1601", "lat": 39.9, "lon": 116.4, "unit": "U01"});
    assert_eq!(a.call("post", "/devices", "/devices", ADMIN, Some(toaster)).await.0, 422);
    assert_eq!(a.call("post", "/devices", "/devices", ADMIN, Some(json!({"id": 1}))).await.0, 400);
    assert_eq!(a.call("get", "/devices", "/devices?limit=10", SUPERVISOR, None).await.0, 200);
    assert_eq!(a.call("get", "/devices", "/devices?limit=0", SUPERVISOR, None).await.0, 400);
    assert_eq!(a.call("get", "/devices/{device}", "/devices/SMK-1", SUPERVISOR, None).await.0, 200);
    assert_eq!(a.call("get", "/devices/{device}", "/devices/NOPE", SUPERVISOR, None).await.0, 404);
    let alarm = json!({"device": "SMK-1", "id": "1", "at": "2026-10-29T10:00:00+08:00", "level": "alarm"});
    assert_eq!(a.call("post", "/alarms", "/alarms", NOBODY, Some(alarm)).await.0, 401);
    assert_eq!(a.call("post", "/alarms", "/alarms", NOBODY, Some(json!({"device": 1}))).await.0, 400);
    assert_eq!(a.call("get", "/colours", "/colours", S001, None).await.0, 200);
    assert_eq!(a.call("get", "/colours", "/colours", Some(("citizen", None)), None).await.0, 403);
    assert_eq!(a.call("get", "/alarms/counts", "/alarms/counts?period=2026-10", SUPERVISOR, None).await.0, 200);
    assert_eq!(a.call("get", "/alarms/counts", "/alarms/counts?period=2026-13", SUPERVISOR, None).await.0, 400);
    assert_eq!(a.call("delete", "/devices/{device}", "/devices/SMK-1", S001, None).await.0, 403);
    assert_eq!(a.call("delete", "/devices/{device}", "/devices/SMK-1", ADMIN, None).await.0, 204);
    assert_eq!(a.call("delete", "/devices/{device}", "/devices/SMK-1", ADMIN, None).await.0, 404);

    // Every documented operation was exercised at least once.
    for (m, p) in operations(&a.doc) {
        let template = p.strip_prefix("/api/v1").unwrap();
        if template == "/openapi.json" {
            continue;
        }
        assert!(a.checked.iter().any(|(cm, cp, _)| *cm == m && cp == template), "{m} {p} was not exercised");
    }
}
