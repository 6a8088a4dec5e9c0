//! `POST /api/v1/cases` is idempotent by `external_id`: an external id is unique per filer, so a
//! client that posts the same case again (a retry after a lost answer, or two posts at once)
//! gets the first case back (200) instead of a second one. On SQLite and, when `DATABASE_URL`
//! is set, PostgreSQL.

mod common;

use axum::http::{Method, StatusCode, header};
use common::*;
use serde_json::json;
use tower::ServiceExt;

const APP: Who = Some(("citizen", Some("app")));

async fn same_external_id_files_one_case(url: &str) {
    let a = TestApp::new(url, t("2026-11-02T01:00:00Z")).await;
    let cat = street_category();
    let mut body = new_case_body(&cat);
    body["external_id"] = json!("app-2026-0001");

    let (s, first) = a.post(APP, "/api/v1/cases", body.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{first}");
    a.advance(chrono::Duration::minutes(3));
    let req = a.request(Method::POST, "/api/v1/cases", APP, Some(body.to_string())).await;
    let (s, headers, text) = a.send_raw(req).await;
    assert_eq!(s, StatusCode::OK, "the same filer again: the first case, {text}");
    let again: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(again["id"], first["id"]);
    assert_eq!(again, first, "the same body shape, the case as it is");
    assert_eq!(headers[header::LOCATION], format!("/api/v1/cases/{}", first["id"]));
    assert_eq!(a.count().await, 1);

    // Another filer may use the same external id (it names a record in their own system).
    let (s, other) = a.post(OPERATOR, "/api/v1/cases", body.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{other}");
    assert_ne!(other["id"], first["id"]);
    assert_eq!(a.count().await, 2);

    // Many posts of one new external id at once: one case, every answer names it.
    body["external_id"] = json!("app-2026-0002");
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let req = a.request(Method::POST, "/api/v1/cases", APP, Some(body.to_string())).await;
        let router = a.router.clone();
        tasks.spawn(async move {
            let resp = router.oneshot(req).await.unwrap();
            let status = resp.status();
            let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap();
            (status, serde_json::from_slice::<serde_json::Value>(&bytes).unwrap())
        });
    }
    let mut created = 0;
    let mut ids = Vec::new();
    while let Some(r) = tasks.join_next().await {
        let (status, v) = r.unwrap();
        match status {
            StatusCode::CREATED => created += 1,
            StatusCode::OK => {}
            other => panic!("{other}: {v}"),
        }
        ids.push(v["id"].as_i64().unwrap());
    }
    ids.dedup();
    assert_eq!((created, ids.len()), (1, 1), "one case: {ids:?}");
    assert_eq!(a.count().await, 3);
    a.store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_same_external_id_files_one_case() {
    let dir = tempfile::tempdir().unwrap();
    same_external_id_files_one_case(&format!("sqlite://{}/i.db", dir.path().display())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_same_external_id_files_one_case() {
    let Some(db) = jiesu_store::testing::scratch_postgres("idempotent").await else { return };
    same_external_id_files_one_case(&db.url).await;
    db.drop().await;
}
